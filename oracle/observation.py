"""The observation model: every latitude the oracle grants, declared as data.

The spec table (spec/table.py) says what a TCP endpoint may do; this module says how far what
a capture shows may differ from what the endpoint did, and by how much. The monitor
(oracle/monitor.py) reads its bounds from here and forgives nothing else. Each entry names
what it forgives, its bound (a number with a unit, or a parameter whose default and legal
range are declared: in the profile for a TCP parameter, in `OBSERVATION_PARAMS` for one of
the capture), the reason (an RFC section, or the kernel function that behaves so), and the
tests that need it and the tests that fail just outside the bound.

Where a capture was taken matters, per end (`NEAR`, `FAR`):
- near: on the end's host or link. Everything it sent is in the capture; what it received
  reaches its stack within `lag`. Owed segments have deadlines.
- far: a network lies between. Segments to it may be lost or delayed after the capture point,
  segments from it may have been lost before it; so a loss is never its violation, and no
  deadline is checked (what it sent in time may not have reached the capture point).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

NEAR, FAR = "near", "far"
#: Without --vantage: near, until the end's first violation; then far if the capture shows a
#: network between it and the capture point (`looks_far`), and the violation is judged again
#: (a capture's judge then judges the whole connection again, far from its start: judge._again_far).
AUTO = "auto"
#: `looks_far`: an end whose quickest reply in the connection (its segment after one of its
#: peer's) took longer than FAR_REPLY and FAR_RATIO times its peer's quickest reply.
FAR_REPLY = 80e-6
FAR_RATIO = 4.0


def looks_far(own: float, peer: float) -> bool:
    """Does an end's reply latency show a network between it and the capture point? Measured
    here (each end's quickest reply in a connection): on its own host a Linux stack answered
    within 3-40 us (300 loopback connections of bench/kernel_capture.py: at most 32 us; the
    live suite's loopback scenarios: at most 40 us, ratios between the two ends up to 6),
    while across the live suite's user-space relay the far end's quickest reply took 97-1176
    us, 10 to 28 times the near end's. So: far when over 80 us and over 4 times its peer's."""
    return FAR_REPLY < own < 1e299 and own > FAR_RATIO * peer      # (1e300: C's "no reply yet")

#: Incoming segments an outgoing one may have crossed (`Monitor._cross`), in count.
MAX_CROSSED = 8
#: Segments a far end's segment may have been held back past before the capture point
#: (`Monitor._delayed_before_capture`), in count (the time bound is `reorder`).
MAX_REORDERED = 64
#: The largest payload of a segment a sender's host hands its device with segmentation offload:
#: TSO/GSO packets are at most GSO_MAX_SIZE = 65536 bytes (include/linux/netdevice.h;
#: tcp_tso_autosize() sizes them below sk_gso_max_size) and an IPv4 packet's total length at
#: most 65535, less 20 bytes of IP and 20 of TCP header (BIG TCP's larger packets not modelled).
GSO_MAX = 65535 - 40
#: Owed pure ACKs a candidate keeps (older ones merge into later cumulative ones).
SOFT_KEEP = 32


@dataclass(frozen=True)
class ObsParam:
    """A parameter of the observation (not of the TCP stack): its default, measured, and the
    range a user may set it to (`--param`)."""

    default: float
    low: float
    high: float
    unit: str
    source: str


#: Parameters of the capture point itself. `lag`: how long after the capture point saw a
#: segment the near end's stack may still not have processed it (the time bound of
#: `processing-lag`, and the deadline of a reply).
OBSERVATION_PARAMS: MappingProxyType = MappingProxyType({
    "lag": ObsParam(0.25, 0.0, 1.0, "seconds",
                    "measured on real captures of this machine's Linux 6.18 (AF_PACKET on loopback and veth, "
                    "2 cores shared by several jobs): 600 loopback connections (bench/kernel_capture.py) needed "
                    "16 crossings, the oldest incoming segment 7 us behind; the live suite's 18 scenarios none; "
                    "but with the machine at load 10 a listener's SYN,ACK on loopback came 0.18 s after the SYN "
                    "(tests/oracle/test_sniff.py). 0.25 s covers that and stays under the half second after "
                    "which the issue's stacks were still sending as if nothing had arrived"),
    "reorder": ObsParam(0.1, 0.0, 10.0, "seconds",
                        "how long the network between a far end and the capture point may hold one of its "
                        "segments back while later ones pass (far-reorder). Measured: the live suite's lossy "
                        "relay holds frames back up to 20 ms (tests/live/lossy.py), and its captures need that "
                        "much (tests/data/lossy); 0.1 s is five times it (a path that reorders more: "
                        "Monitor(observation={'reorder': seconds}))"),
    "offload": ObsParam(0, 0, 1, "off (0) / on (1)",
                        "whether the capture shows a sender's frames before segmentation offload split them "
                        "(a capture on a Linux host: tcpdump/AF_PACKET tap dev_queue_xmit_nit() before the "
                        "driver's TSO or GSO, and a tun device like packetdrill's shows them whole). Off by "
                        "default: a trace a stack or the test kit writes, and a capture on the wire, show the "
                        "segments themselves; the capture judge sets it for pcap/pcapng captures"),
})


@dataclass(frozen=True)
class Latitude:
    """One thing the oracle forgives: what, within which bound, why, and which tests show it
    is needed (a real capture) and that it is bounded (a case just outside fails)."""

    name: str
    forgives: str
    bound: str                        # the bound in words (its numbers come from `param`/`count`)
    reason: str
    needed_by: tuple[str, ...]
    outside: tuple[str, ...]
    param: str = ""                   # the parameter holding the bound (profile or OBSERVATION_PARAMS)
    count: int | None = None          # a bound in count
    vantage: str = NEAR + "," + FAR   # which capture points it applies to


LATITUDES: tuple[Latitude, ...] = (
    Latitude("psh-not-compared", "an observed segment's PSH flag may differ from the one the spec sends",
             "every other flag, SEQ, ACK and length compared exactly",
             "RFC 9293 3.9.1 (SEND): PSH is advisory; RFC 1122 4.2.2.2: a sender may set it at will",
             ("tests/live/test_live.py::test_linux_profile_judges_live_capture_conformant[bulk_slow_reader]",),
             ("tests/oracle/test_observation.py::test_flags_other_than_psh_are_compared",)),
    Latitude("window-not-compared", "the advertised window is not compared with a specified one: it is any "
             "window the table's OFFER rows take, and becomes the IUT's RCV.WND",
             "a window that moves the right edge is judged by the receiver's silly-window-syndrome avoidance "
             "(offer.open, MUST-39); its size is otherwise the stack's",
             "RFC 9293 3.8.6: the window a stack offers is its own choice within its buffers",
             ("tests/live/test_live.py::test_linux_profile_judges_live_capture_conformant[bulk_slow_reader]",),
             ("tests/oracle/test_observation.py::test_windows_are_not_a_latitude_for_other_fields",
              "tests/spec/test_rcv_sws.py::test_a_trace_that_opens_a_closed_window_by_one_byte_is_a_violation[linux]")),
    Latitude("delayed-ack", "a pure ACK the spec owes may come later than the segment that called for it, "
             "merged into a later cumulative ACK or carried by the IUT's next segment",
             "within the profile's delack_max after the capture point saw the segment it acknowledges, plus "
             "`lag`; at most SOFT_KEEP owed ACKs kept per candidate",
             "RFC 9293 3.8.6.3 and RFC 1122 4.2.3.2 (MUST-40: the delay MUST be less than 0.5 s); Linux "
             "tcp_send_delayed_ack(): at most HZ/2 outside pingpong mode (TCP_DELACK_MAX = HZ/5 inside it)",
             ("tests/live/test_live.py::test_linux_profile_judges_live_capture_conformant[bulk_slow_reader]",),
             ("tests/oracle/test_observation.py::test_owed_ack_later_than_its_deadline_is_a_violation",
              "tests/oracle/test_observation.py::test_time_wait_that_never_reacks_a_fin_is_a_violation"),
             param="delack_max", count=SOFT_KEEP, vantage=NEAR),
    Latitude("repacketized-retransmission", "a retransmission may carry any part of the range the spec "
             "retransmits (and its FIN only with the range's end)",
             "within the retransmitted segment's sequence range",
             "RFC 1122 4.2.2.15: a retransmission may be repacketized",
             ("tests/oracle/test_monitor.py::test_retransmission_may_be_repacketized",),
             ("tests/oracle/test_observation.py::test_retransmission_beyond_the_range_is_a_violation",)),
    Latitude("processing-lag", "at a near capture point the IUT's stack may send segments before it processes "
             "incoming segments the capture already holds (its own keep their order)",
             "at most MAX_CROSSED incoming segments, each captured at most `lag` before the IUT segment that "
             "crossed it; a reply the spec owes is due within `lag`",
             "RFC 9293 Figure 13 (FINs that cross); Linux: segments queue in the backlog while the socket is "
             "owned by the user (tcp_v4_rcv() -> tcp_add_backlog(), processed at release_sock()), and a "
             "capture taps frames in dev_queue_xmit_nit()/__netif_receive_skb() before the socket sees them",
             ("tests/oracle/test_monitor.py::test_several_segments_the_iut_sent_before_its_stack_processed_a_burst",
              "tests/oracle/test_monitor.py::test_a_window_update_that_crossed_a_burst_of_incoming_data_is_conformant",
              "tests/oracle/test_native_judge.py (bench/kernel_capture.py captures: 16 crossings in 600 connections)"),
             ("tests/oracle/test_observation.py::test_crossing_older_than_the_lag_is_a_violation",
              "tests/oracle/test_observation.py::test_crossing_more_than_max_crossed_is_a_violation",
              "tests/oracle/test_observation.py::test_close_wait_that_ignores_rst_is_a_violation",
              "tests/oracle/test_observation.py::test_syn_received_ignoring_an_ack_is_reported_at_once"),
             param="lag", count=MAX_CROSSED),
    Latitude("far-loss", "at a far capture point a segment to the IUT may have been lost after the capture "
             "point, and one from it before; a loss is never the IUT's violation",
             "the incoming segments still pending (MAX_CROSSED) may each be lost; a gap in the IUT's own "
             "sequence space is data it sent that did not reach the capture point (in at most MAX_CROSSED segments "
             "of its send MSS); no deadline is checked",
             "RFC 9293 3.7 and RFC 1122 4.2.2.15: IP may lose segments; TCP recovers by retransmission",
             ("tests/live/test_live.py::test_far_end_behind_a_lossy_wire_is_conformant",),
             ("tests/oracle/test_observation.py::test_the_same_loss_at_a_near_end_is_a_violation",
              "tests/live/test_live.py::test_the_same_loss_judged_at_a_near_end_is_a_violation"),
             count=MAX_CROSSED, vantage=FAR),
    Latitude("far-reorder", "at a far capture point a segment from the IUT may reach it after segments the IUT "
             "sent later (the network between held it back), and a segment to the IUT may reach it again later "
             "than the capture shows (held back or duplicated after the capture point)",
             "the held-back segment sent from the state before one of the segments captured within `reorder` "
             "seconds before it, what the IUT did since staying judged; the copy one of the incoming segments "
             "captured within `reorder` seconds, the IUT's answer following it; at most MAX_REORDERED segments "
             "back",
             "RFC 9293 3.3.2 and 3.10.7.4 (segments may be duplicated and arrive out of order); the live "
             "relay holds frames back up to 20 ms and Linux's fast retransmission then overtakes them",
             ("tests/oracle/test_observation.py::test_a_far_ends_segment_held_back_past_a_later_one_is_conformant",
              "tests/oracle/test_observation.py::test_a_far_end_answering_a_copy_of_an_earlier_segment_is_conformant",
              "tests/oracle/test_lossy_captures.py::test_a_lossy_transfer_is_judged_conformant"),
             ("tests/oracle/test_observation.py::test_a_segment_held_back_longer_than_reorder_or_at_a_near_end_is_a_violation",
              "tests/oracle/test_observation.py::test_a_copy_older_than_reorder_or_at_a_near_end_is_a_violation"),
             param="reorder", count=MAX_REORDERED, vantage=FAR),
    Latitude("far-segmentation", "at a far capture point taken on the sending host (`offload` on), a segment to "
             "the IUT larger than the connection's MSS reaches it as segments of that MSS (cut after the capture "
             "point)",
             "pieces of exactly the smaller SYN MSS option less the timestamp option (12 bytes) the segment "
             "carries, consecutive, PSH and FIN on the last; both SYNs' MSS options seen; at most GSO_MAX bytes",
             "Linux tcp_write_xmit()/tcp_gso_segment(): a host capture shows a TSO/GSO segment before it is cut "
             "into gso_size = mss_cache pieces (tcp_current_mss(): the MSS less the options every segment "
             "carries); the far receiver meets the pieces",
             ("tests/oracle/test_observation.py::test_a_far_end_acknowledging_the_pieces_of_a_super_segment_is_conformant",
              "tests/oracle/test_lossy_captures.py::test_a_lossy_transfer_is_judged_conformant"),
             ("tests/oracle/test_observation.py::test_a_piece_off_the_mss_or_without_offload_or_at_a_near_end_is_a_violation",),
             param="offload", count=GSO_MAX, vantage=FAR),
    Latitude("segmentation-offload", "at a near capture point with `offload` on, a segment of the IUT's "
             "larger than its send MSS may be several segments the stack sent at once, merged before the "
             "capture saw them",
             "each piece at most the send MSS (SND.MSS), consecutive from the captured SEQ, each explained by the "
             "table in turn (so never past the peer's window or the data queued), the FIN only on the last; at "
             "most GSO_MAX bytes in all; no SYN",
             "Linux tcp_write_xmit() builds segments of tcp_tso_autosize() * MSS (TSO/GSO), split by "
             "tcp_gso_segment() or the NIC after dev_queue_xmit_nit() showed them to the capture (24 of "
             "packetdrill's own gtests/net/tcp scripts that pass on this kernel expect such segments, e.g. "
             "eor/no-coalesce-large's 1:10001(10000))",
             ("tests/oracle/test_observation.py::test_a_tso_super_segment_is_several_segments_at_a_near_host",),
             ("tests/oracle/test_observation.py::test_a_super_segment_past_the_window_is_a_violation",
              "tests/oracle/test_observation.py::test_a_super_segment_above_gso_max_is_a_violation",
              "tests/oracle/test_observation.py::test_a_super_segment_without_offload_is_a_violation"),
             param="offload", count=GSO_MAX, vantage=NEAR),
    Latitude("retransmission-deadline", "at a near capture point a retransmission the spec owes (data, SYN or FIN "
             "sent and not acknowledged, the RTO armed) may come as late as the longest RTO; a capture that goes "
             "on past that with nothing from either end is a violation naming what was owed, since when and the "
             "bound",
             "rto_max x (1 + tolerance) + `lag` after the connection's last segment (no ACK restarted the timer, "
             "RFC 6298 5.3, and nothing was retransmitted); rto_max is the profile's when given, else the top of "
             "its legal range (linux 120 s; rfc9293: no upper bound, so no deadline); not where a legal value "
             "of a retry limit nobody gave lets the stack stop (Linux tcp_retries2 may be 0; TCP_SYNCNT >= 1), "
             "nor where a hidden call or timer ends the connection silently",
             "RFC 6298 5.5 (the RTO doubles, up to a maximum of at least 60 s, 2.5); Linux tcp_retransmit_timer() "
             "backs off icsk_rto up to tcp_rto_max() (TCP_RTO_MAX 120 s, net.ipv4.tcp_rto_max_ms, TCP_RTO_MAX_MS) "
             "and inet_csk_reset_xmit_timer() never arms it further; SYNs: tcp_syn_linear_timeouts keeps the first "
             "ones at the initial RTO (shorter)",
             ("tests/oracle/test_observation.py::test_a_retransmission_owed_within_the_rto_bound_is_not_yet_a_violation",),
             ("tests/oracle/test_observation.py::test_a_retransmission_owed_past_the_rto_bound_is_a_violation",
              "tests/oracle/test_observation.py::test_a_silent_syn_past_the_bound_is_a_violation_even_with_the_retry_limit_unknown"),
             param="rto_max", vantage=NEAR),
    Latitude("timer-tolerance", "a timer may fire early by a fraction of its duration",
             "the profile's `tolerance` (a fraction of each duration)",
             "RFC 6298 4 (timer granularity); Linux jiffies rounding and timer slack (kernel/time/timer.c)",
             ("tests/live/test_live.py::test_linux_profile_judges_live_capture_conformant[keepalive_idle]",),
             ("tests/oracle/test_monitor.py::test_time_wait_may_not_end_early",),
             param="tolerance"),
)

BY_NAME: MappingProxyType = MappingProxyType({lat.name: lat for lat in LATITUDES})


def observation_param(name: str, given: "dict | None" = None) -> float:
    """The value of an observation parameter: `given` (a user's `--param`) else its default.
    A value outside the declared range is an error naming the range."""
    p = OBSERVATION_PARAMS[name]
    v = float((given or {}).get(name, p.default))
    if not p.low <= v <= p.high:
        from synack.spec.model import SpecError
        raise SpecError(f"observation parameter {name} must be within {p.low}..{p.high} {p.unit}, got {v}")
    return v


def table() -> str:
    """The declared latitudes as a Markdown table (docs/observation-model.md is made from it)."""
    rows = ["| latitude | forgives | bound | reason | capture point |", "|---|---|---|---|---|"]
    for lat in LATITUDES:
        bound = lat.bound
        if lat.param in OBSERVATION_PARAMS:
            p = OBSERVATION_PARAMS[lat.param]
            bound += f" (`{lat.param}` default {p.default:g} {p.unit}, range {p.low:g}..{p.high:g})"
        elif lat.param:
            bound += f" (profile parameter `{lat.param}`)"
        if lat.count is not None:
            bound += f" (count bound {lat.count})"
        rows.append(f"| {lat.name} | {lat.forgives} | {bound} | {lat.reason} | {lat.vantage} |")
    return "\n".join(rows)
