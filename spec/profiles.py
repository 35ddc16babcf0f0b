"""Profiles: which optional rows of the table are in force, and the numbers they use.

A profile is a set of named options (each with the source that defines it) and parameters
(retry limits, window, timer durations and tolerances). `rfc9293` follows the RFC's text;
`linux` names every place where Linux differs. Teaching variants are a base profile plus
options built to break a property; the checker must refute each one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import NamedTuple

from .model import SpecError

#: Every option a profile may set: what it does and where that behaviour is defined.
OPTIONS: dict[str, str] = {
    "challenge-ack": "RFC 5961 3.2, 4.2 (RFC 9293 3.10.7.4 recommends it): a RST not exactly at RCV.NXT, "
                     "and any SYN in a synchronized state, get a challenge ACK",
    "challenge-ack-ratelimit": "RFC 5961 7; Linux net.ipv4.tcp_challenge_ack_limit: challenge ACKs may be "
                               "suppressed by a rate limit",
    "rfc1337": "RFC 1337 4: ignore RST in TIME-WAIT (Linux net.ipv4.tcp_rfc1337, default 0)",
    "delayed-ack": "RFC 1122 4.2.3.2, RFC 9293 3.8.6.3: an ACK may be delayed and ride on a later segment",
    "keepalive": "RFC 9293 3.8.4, RFC 1122 4.2.3.6: keep-alive probes on an idle connection (SO_KEEPALIVE)",
    "keepalive-rst": "Linux tcp_keepalive_timer(): a RST is sent when the keep-alive probes go unanswered",
    "user-timeout": "RFC 9293 3.9.1, 3.10.8; RFC 5482: data not acknowledged within the user timeout aborts "
                    "the connection (Linux: on, with user_timeout 0, TCP_USER_TIMEOUT's default, meaning none; "
                    "any positive value the application sets, 1 ms .. INT_MAX ms, do_tcp_setsockopt())",
    "fin-wait-2-timeout": "Linux net.ipv4.tcp_fin_timeout: an orphaned FIN-WAIT-2 is dropped after a timeout",
    "sws-avoidance": "RFC 9293 3.8.6.2.1 (MUST-38), judged per segment: with more queued than the usable window "
                     "takes, a segment goes out only while that window holds a full segment or half the largest "
                     "window offered, else on the override timeout. Not in linux: tcp_write_xmit() decides per "
                     "TSO burst (tcp_snd_wnd_test() on its first MSS), and tcp_mss_split_point() lets a burst end "
                     "in a short piece at the window's edge while more is queued (tests/live small_mss_bulk)",
    "rcv-mss-estimate": "Linux __tcp_select_window(): the receiver's silly-window-syndrome avoidance (RFC 9293 "
                        "3.8.6.2.2) measures an opening window against its estimate of the peer's segment size "
                        "(icsk_ack.rcv_mss, tcp_measure_rcv_mss(): as low as 76 octets after two equal small "
                        "segments without PSH) instead of the effective send MSS",
    "rst-on-unread": "RFC 1122 4.2.2.13, RFC 2525 2.17; Linux tcp_close(): close() with unread data, or new "
                     "data after close(), is answered with RST",
    "rst-ack": "Linux tcp_send_active_reset(): an abortive RST carries ACK = RCV.NXT",
    "econnrefused": "Linux tcp_reset(): an acceptable RST in SYN-SENT is reported as ECONNREFUSED ('connection "
                    "refused'), where RFC 9293 3.10.7.3 names it 'connection reset'",
    "synack-on-syn-copy": "Linux tcp_check_req(): a retransmitted SYN in SYN-RECEIVED retransmits the SYN,ACK",
    "simopen-synack-dupack": "Linux tcp_data_queue(): in a simultaneous open the peer's SYN,ACK ends at RCV.NXT, "
                             "so besides establishing the connection it is a duplicate, answered at once with an "
                             "ACK (D-SACK); found by the live simultaneous-open capture",
    "syn-recv-syn-rst": "Linux tcp_check_req() embryonic_reset: an in-window SYN on a request socket is "
                        "answered with RST",
    "time-wait-reopen": "RFC 9293 3.6.1, RFC 1122 4.2.2.13; Linux tcp_timewait_state_process(): a SYN above "
                        "RCV.NXT reopens a TIME-WAIT connection when a listener holds the port (tcp_v4_rcv())",
    "listener-survives": "Linux: a passive SYN-RECEIVED that exhausts tcp_synack_retries is dropped and the "
                         "listener remains (LISTEN), silently",
    "time-wait-detached": "Linux tcp_time_wait(): TIME-WAIT is held by an inet_timewait_sock the user cannot "
                          "reach, so user calls (ABORT) do not end it",
    "icmp-establishment": "Linux tcp_v4_err(), tcp_req_err() (net/ipv4/tcp_ipv4.c): an ICMP error quoting a "
                          "sequence number in [SND.UNA, SND.NXT] aborts a connection in SYN-SENT or an active "
                          "(or not yet accepted Fast Open) SYN-RECEIVED, soft errors included (RFC 5461 4); a "
                          "request socket is dropped on net/host unreachable, time exceeded or parameter problem "
                          "quoting its ISS; synchronized connections are never aborted",
    # ---- from the kernel audit (docs/linux-audit.md)
    "syn-recv-ack-first": "Linux tcp_check_req(): a passive SYN-RECEIVED is a request socket, which checks the "
                          "ACK before the sequence number: a wrong ACK gets <SEQ=SEG.ACK><CTL=RST> even outside "
                          "the window",
    "rst-after-fin": "Linux tcp_reset_check(): in CLOSE-WAIT, CLOSING and LAST-ACK a RST at RCV.NXT - 1 resets",
    "fin-wait-2-minisock": "Linux tcp_time_wait(), tcp_timewait_state_process(): an orphaned FIN-WAIT-2 is a "
                           "timewait socket: any in-window RST ends it silently, a SYN at or above RCV.NXT gets "
                           "RST, pure ACKs and duplicates are ignored",
    "time-wait-minisock": "Linux tcp_timewait_state_process(): TIME-WAIT takes only a RST or a bare ACK exactly "
                          "at RCV.NXT (the ACK restarts it), drops other RSTs silently and ACKs the rest",
    "flagless-drop": "Linux tcp_rcv_state_process(), tcp_rcv_established(): a segment with none of ACK, RST and "
                     "SYN is discarded before the sequence check, so an unacceptable one gets no ACK (RFC 9293 "
                     "3.10.7.4 first check ACKs it); found by the test kit (an out-of-window FIN without ACK)",
    "rst-challenge-below": "Linux tcp_validate_incoming(): a RST that tcp_sequence() accepts and is not at RCV.NXT "
                           "gets a challenge ACK even when its sequence number lies below the window (its data "
                           "reaching into it), where RFC 5961 3.2 drops it silently",
    "past-window-whole": "Linux tcp_sequence() (6.17+), tcp_data_queue(): in-order text reaching past the right "
                         "window edge is accepted whole when the receive queue is empty and dropped whole (a "
                         "duplicate ACK) when it is not, where RFC 9293 3.10.7.4 trims it to the window; a bare FIN "
                         "at RCV.NXT is accepted at a zero window",
    "ack-bytes-acked": "Linux tcp_ack(): RFC 5961 5.2's bound is SND.UNA - min(max_window, bytes_acked), so an "
                       "ACK below everything acknowledged so far (below ISS; a server's bytes_acked does not count "
                       "its SYN, so ISS too) is always challenged and dropped (found by the test kit)",
    "dup-end-acceptable": "Linux tcp_sequence(): a segment is acceptable when !before(end_seq, rcv_wup) and "
                          "!after(seq, rcv_nxt + tcp_receive_window()), so one lying wholly below RCV.NXT and "
                          "ending exactly at it (a retransmitted FIN after the peer's FIN, old text) passes, where "
                          "RFC 9293 3.10.7.4 finds it unacceptable: its ACK is processed, tcp_data_queue() drops it "
                          "as a duplicate with an ACK at once (D-SACK), and a RST so placed gets a challenge ACK "
                          "(tcp_validate_incoming()) instead of being dropped",
    "closing-fin-ignored": "Linux tcp_rcv_state_process() step 7, tcp_data_queue(), tcp_fin(): in CLOSE-WAIT, "
                           "CLOSING and LAST-ACK a segment at or after RCV.NXT is not queued, so a FIN there is "
                           "dropped without an ACK (RFC 9293 3.10.7.4 eighth: RCV.NXT advances over it, snd ACK); "
                           "the peer's retransmitted FIN, ending at RCV.NXT, is a duplicate ACKed at once "
                           "(dup-end-acceptable); TIME-WAIT (tcp_timewait_state_process(), time-wait-minisock) ACKs "
                           "any FIN without advancing RCV.NXT and restarts; CLOSING whose FIN the segment "
                           "acknowledges enters TIME-WAIT and consumes it (goto consume)",
    "fin-fits-window": "Linux tcp_send_fin(), tcp_write_xmit(), tcp_snd_wnd_test(): a FIN counts in end_seq, so "
                       "CLOSE's FIN (alone, or riding the last queued segment) is sent only when the peer's window "
                       "takes it; until then it is held and the zero window probed (tcp_probe_timer()), where RFC "
                       "9293 3.10.4 sends it at once",
    "paws": "RFC 7323 5.3 (R1, PAWS); Linux tcp_validate_incoming() -> tcp_paws_discard() -> tcp_send_dupack(), "
            "tcp_timewait_state_process() and tcp_check_req() (paws_reject): a non-RST segment whose TSval is older "
            "than TS.Recent is answered with an ACK and dropped before the window test. The table sees SEG.OLD_TS "
            "(older than the peer's newest TSval in the trace), so the drop is a choice beside normal processing",
    "defer-accept": "Linux tcp_check_req(), reqsk_timer_handler() (TCP_DEFER_ACCEPT on the listener): the bare "
                    "third ACK of the handshake is dropped (inet_rsk(req)->acked = 1) while the SYN,ACK has been "
                    "retransmitted fewer times than the deferral; the timer retransmits the SYN,ACK; an ACK with data "
                    "opens the connection",
    "listen-overflow": "Linux tcp_check_req() listen_overflow (the listener's accept queue is full, "
                       "net.ipv4.tcp_abort_on_overflow = 0): the third ACK is dropped (inet_rsk(req)->acked = 1) and "
                       "reqsk_timer_handler() retransmits the SYN,ACK",
    "abort-on-overflow": "Linux tcp_check_req() listen_overflow -> embryonic_reset (net.ipv4.tcp_abort_on_overflow "
                         "= 1): the third ACK finding the accept queue full is answered <SEQ=SEG.ACK><CTL=RST> "
                         "(tcp_v4_send_reset()) and the request dropped",
    "tfo": "RFC 7413 TCP Fast Open; Linux net.ipv4.tcp_fastopen (default 1: client; 3: also servers whose "
           "listener set TCP_FASTOPEN): data on the SYN with a cookie, a cookie request without one, the fallback "
           "when the server acknowledges only the SYN, data accepted on a SYN and sent before the final ACK",
    "two-way-handshake": "teaching variant: the connection is open after SYN and SYN,ACK",
    "no-time-wait": "teaching variant: the active closer goes straight to CLOSED instead of TIME-WAIT",
    "short-time-wait": "teaching variant: TIME-WAIT ends before the peer's retransmitted FIN can arrive",
    "free-isn": "stress variant: ISNs are chosen freely, without RFC 9293 3.4.1's clock-driven generator",
}

#: Parameters every profile defines. Retry limits count retransmissions; times are seconds.
PARAMS = ("SYN.RETRIES", "SYN.GIVEUP", "SYNACK.RETRIES", "DATA.RETRIES", "KA.PROBES", "WINDOW", "MSS.DEFAULT",
          "SYN.LINEAR",
          "msl", "time_wait", "rto_initial", "rto_min", "rto_max", "fin_timeout",
          "user_timeout", "ka_idle", "ka_interval", "delack_max", "tolerance")

class Range(NamedTuple):
    """The values a parameter may legally take on a stack of a profile, both ends included,
    and the text that sets them. A default is one point in it; a capture of a tuned host may
    show any value in it, so the oracle accepts any of them (`Profile.with_params`) and a
    learner (`obsmodel`) may search within it. `math.inf`: the source sets no upper bound."""

    low: float
    high: float
    unit: str           # "count", "seconds", "bytes" or "fraction"
    source: str

    def __contains__(self, value: float) -> bool:       # type: ignore[override]
        return self.low <= value <= self.high

    def text(self) -> str:
        hi = "no upper bound" if self.high == math.inf else _number(self.high)
        return f"{_number(self.low)}..{hi} {self.unit}"


_INT_JIFFIES = 2147483      # INT_MAX / HZ seconds at HZ = 1000: the largest proc_dointvec_jiffies value
_TOLERANCE = Range(0.0, 0.5, "fraction", "the oracle's timing latitude (oracle/monitor.py): a timer may fire this "
                   "fraction of its duration early; at 1 every timer could fire at once, so at most half")
_WINDOW = Range(0, 2 ** 30, "bytes", "RFC 7323 2.3: with window scaling the window is at most 2^30 bytes")

#: profile name -> parameter -> its legal range and where that range is written down. For
#: rfc9293: what the RFCs let an implementation or application configure (a MUST about a
#: *default*, such as keep-alive >= 2 h, is audited by `synack spec --requirements`, not here);
#: for linux: the limits of the kernel's sysctls and socket options (net/ipv4/sysctl_net_ipv4.c,
#: do_tcp_setsockopt() in net/ipv4/tcp.c).
RANGES: dict[str, dict[str, Range]] = {
    "rfc9293": {
        "SYN.LINEAR": Range(0, 0, "count", "RFC 6298 5.5: the RTO is doubled on every expiry, a SYN's too"),
        "SYN.RETRIES": Range(0, 255, "count", "RFC 9293 3.8.3 MUST-21/22 (RFC 1122 4.2.3.5): R2 is configurable by "
                             "the application, in time, with no upper bound; 255 retransmissions (8-bit counter, "
                             "as Linux's) back off past any R2"),
        "SYN.GIVEUP": Range(0, 255, "count", "derived (syn_giveup()): the SYN retransmissions before SYN-SENT "
                            "gives up; equal to SYN.RETRIES, as RFC 9293 3.8.3 counts R2 in retransmissions"),
        "SYNACK.RETRIES": Range(0, 255, "count", "RFC 9293 3.8.3 MUST-21 (RFC 1122 4.2.3.5): R2 configurable; "
                                "255 as SYN.RETRIES"),
        "DATA.RETRIES": Range(0, 255, "count", "RFC 9293 3.8.3 MUST-21 (RFC 1122 4.2.3.5): R2 configurable, SHOULD "
                              "be at least 100 s; 255 as SYN.RETRIES"),
        "KA.PROBES": Range(0, 255, "count", "RFC 1122 4.2.3.6 leaves the number of unanswered probes open; 255 "
                           "(8-bit, as Linux's tcp_keepalive_probes)"),
        "WINDOW": _WINDOW,
        "MSS.DEFAULT": Range(536, 1220, "bytes", "RFC 9293 3.7.1 MUST-15: 536 for IPv4, 1220 for "
                             "IPv6, when the SYN carries no MSS option"),
        "msl": Range(0.001, math.inf, "seconds", "RFC 9293 3.4.2: MSL is an engineering choice (2 minutes "
                     "suggested), changeable if experience indicates"),
        "time_wait": Range(0.001, math.inf, "seconds", "RFC 9293 3.6.1 MUST-13: 2 MSL (checked against msl by "
                           "`spec --requirements`)"),
        "rto_initial": Range(1.0, math.inf, "seconds", "RFC 6298 2.1 and 2.4 (SHOULD): the initial RTO is 1 s and "
                             "an RTO below 1 s is rounded up to 1 s"),
        "rto_min": Range(1.0, math.inf, "seconds", "RFC 6298 2.4 (SHOULD): an RTO below 1 s is rounded up to 1 s"),
        "rto_max": Range(60.0, math.inf, "seconds", "RFC 6298 2.5 (MAY): a maximum may be placed on the RTO "
                         "provided it is at least 60 s"),
        "fin_timeout": Range(0.0, math.inf, "seconds", "RFC 9293 has no FIN-WAIT-2 timeout; used only with the "
                             "fin-wait-2-timeout option"),
        "user_timeout": Range(0.001, math.inf, "seconds", "RFC 9293 3.9.1 (OPEN, SEND): the user timeout is set "
                              "by the application; no bound given"),
        "ka_idle": Range(0.001, math.inf, "seconds", "RFC 9293 3.8.4 MUST-27 (RFC 1122 4.2.3.6): the keep-alive "
                         "interval MUST be configurable (its default, >= 2 h, is MUST-28)"),
        "ka_interval": Range(0.001, math.inf, "seconds", "RFC 1122 4.2.3.6: the interval between unanswered probes "
                             "is configurable; no bound given"),
        "delack_max": Range(0.0, 0.5, "seconds", "RFC 9293 3.8.6.3 MUST-40 (RFC 1122 4.2.3.2): an ACK delay MUST "
                            "be less than 0.5 s"),
        "tolerance": _TOLERANCE,
    },
    "linux": {
        "SYN.LINEAR": Range(0, 127, "count", "net.ipv4.tcp_syn_linear_timeouts (Linux 6.17 and later; earlier "
                            "kernels behave as 0): 0..127, proc_dointvec_minmax, checked on 6.18"),
        "SYN.RETRIES": Range(1, 127, "count", "net.ipv4.tcp_syn_retries: tcp_syn_retries_min = 1 .. "
                             "MAX_TCP_SYNCNT = 127 (sysctl_net_ipv4.c); TCP_SYNCNT 1..127 (do_tcp_setsockopt)"),
        "SYN.GIVEUP": Range(1, 255, "count", "derived (syn_giveup()): tcp_write_timeout() gives SYN-SENT up in "
                            "time, so at least SYN.RETRIES and at most SYN.LINEAR + SYN.RETRIES + 1 retransmissions "
                            "(past the linear ones the backoff follows tcp_model_timeout()'s schedule)"),
        "SYNACK.RETRIES": Range(0, 255, "count", "net.ipv4.tcp_synack_retries: u8 (proc_dou8vec_minmax)"),
        "DATA.RETRIES": Range(0, 255, "count", "net.ipv4.tcp_retries2: u8 (proc_dou8vec_minmax)"),
        "KA.PROBES": Range(0, 255, "count", "net.ipv4.tcp_keepalive_probes: u8 (proc_dou8vec_minmax); "
                           "TCP_KEEPCNT 1..MAX_TCP_KEEPCNT = 127 (do_tcp_setsockopt)"),
        "WINDOW": _WINDOW,
        "MSS.DEFAULT": Range(536, 1220, "bytes", "TCP_MSS_DEFAULT = 536 (include/net/tcp.h), a constant; "
                             "1220 for IPv6 (RFC 9293 3.7.1)"),
        "msl": Range(30.0, 30.0, "seconds", "Linux has no MSL: half of TCP_TIMEWAIT_LEN (include/net/tcp.h)"),
        "time_wait": Range(60.0, 60.0, "seconds", "TCP_TIMEWAIT_LEN = 60 s, a constant in include/net/tcp.h "
                           "(no sysctl)"),
        "rto_initial": Range(0.001, 120.0, "seconds", "TCP_TIMEOUT_INIT = 1 s; tcp_timeout_init() takes a BPF "
                             "(BPF_SOCK_OPS_TIMEOUT_INIT) value in jiffies, at most TCP_RTO_MAX = 120 s"),
        "rto_min": Range(0.000001, 120.0, "seconds", "TCP_RTO_MIN = 200 ms; net.ipv4.tcp_rto_min_us >= 1 "
                         "(sysctl_net_ipv4.c), route rto_min and TCP_RTO_MIN_US lower or raise it"),
        "rto_max": Range(1.0, 120.0, "seconds", "net.ipv4.tcp_rto_max_ms 1000..TCP_RTO_MAX_SEC * 1000 "
                         "(sysctl_net_ipv4.c); TCP_RTO_MAX = 120 s before the sysctl existed"),
        "fin_timeout": Range(0.0, _INT_JIFFIES, "seconds", "net.ipv4.tcp_fin_timeout: int jiffies "
                             "(proc_dointvec_jiffies); TCP_LINGER2 up to TCP_FIN_TIMEOUT_MAX = 120 s"),
        "user_timeout": Range(0.0, 2147483.647, "seconds", "TCP_USER_TIMEOUT: an int of milliseconds >= 0 "
                              "(do_tcp_setsockopt); 0 is off"),
        "ka_idle": Range(1.0, _INT_JIFFIES, "seconds", "TCP_KEEPIDLE 1..MAX_TCP_KEEPIDLE = 32767 "
                         "(do_tcp_setsockopt); net.ipv4.tcp_keepalive_time: int jiffies, up to INT_MAX / HZ"),
        "ka_interval": Range(1.0, _INT_JIFFIES, "seconds", "TCP_KEEPINTVL 1..MAX_TCP_KEEPINTVL = 32767 "
                             "(do_tcp_setsockopt); net.ipv4.tcp_keepalive_intvl: int jiffies, up to INT_MAX / HZ"),
        "delack_max": Range(0.0, 0.5, "seconds", "tcp_send_delayed_ack() (net/ipv4/tcp_output.c): the delayed-ACK "
                            "timeout is at most max_ato = HZ/2; TCP_DELACK_MAX = HZ/5 (include/net/tcp.h) in pingpong "
                            "mode"),
        "tolerance": _TOLERANCE,
    },
}


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    options: frozenset[str]
    params: MappingProxyType
    sources: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    base: str = ""
    variants: tuple[str, ...] = ()
    ranges: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    def has(self, option: str) -> bool:
        return option in self.options

    def with_params(self, **changes: float) -> "Profile":
        """A copy with some parameters changed, each within its legal range (`RANGES`): what a
        user (`--param`) or a trace header may set. Out of range: SpecError naming the
        parameter, the value, the range and its source."""
        return self._changed(changes, checked=True)

    def bounded(self, **caps: float) -> "Profile":
        """A copy with counts lowered to the model checker's caps (`--retries`): a finite
        abstraction, not a claim about a stack, so a cap may fall below the legal range."""
        return self._changed({k: min(v, self.params[self._key(k)]) for k, v in caps.items()}, checked=False)

    def _key(self, k: str) -> str:
        key = k.replace("_", ".").upper() if k.replace("_", ".").upper() in self.params else k
        if key not in self.params:
            raise SpecError(f"unknown profile parameter {k!r}; expected one of: {', '.join(PARAMS)}")
        return key

    def _changed(self, changes: dict, checked: bool) -> "Profile":
        params = dict(self.params)
        keys = set()
        for k, v in changes.items():
            key = self._key(k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < math.inf:
                raise SpecError(f"profile parameter {key} must be a non-negative number, got {v!r}")
            if isinstance(params[key], int):
                if v != int(v):
                    raise SpecError(f"profile parameter {key} counts, so it must be a whole number, got {v!r}")
                v = int(v)
            legal = self.ranges.get(key)
            if checked and legal is not None and v not in legal:
                raise SpecError(f"profile parameter {key} = {_number(v)} is outside {self.base or self.name}'s range "
                                f"{legal.text()} ({legal.source})")
            params[key] = v
            keys.add(key)
        if "SYN.GIVEUP" not in keys and keys & _GIVEUP_INPUTS and self.params["SYN.GIVEUP"] == syn_giveup(self.params):
            params["SYN.GIVEUP"] = syn_giveup(params)     # derived, unless given now or before
        return replace(self, params=MappingProxyType(params))

    def label(self) -> str:
        return self.name if not self.variants else f"{self.base}+{'+'.join(self.variants)}"


def _number(v: float) -> str:
    """A value for a message: huge integers by their size (str() of one past 4,300 digits raises)."""
    if isinstance(v, int) and v.bit_length() > 64:
        return f"a {int(v.bit_length() * 0.30103) + 1}-digit number"
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else f"{v:g}"


#: The parameters SYN.GIVEUP is derived from.
_GIVEUP_INPUTS = frozenset({"SYN.RETRIES", "SYN.LINEAR", "rto_initial", "rto_max"})


def syn_giveup(params) -> int:
    """How many times SYN-SENT retransmits its SYN before it gives up (the guard of rows
    rto.syn and rto.syn.giveup), from SYN.RETRIES and the SYN's timeouts.

    RFC 9293 3.8.3 (R2) counts retransmissions, so without linear timeouts it is SYN.RETRIES.
    Linux counts in time: tcp_write_timeout() gives up at the first expiry after a
    retransmission (retransmits_timed_out() needs icsk_retransmits >= 1) at which the time since
    the first SYN (retrans_stamp) reaches tcp_model_timeout(): SYN.RETRIES exponentially
    backed-off timeouts from tcp_timeout_init() capped at tcp_rto_max(), i.e. the sum of
    timer_seconds('RTO', k) for k = 0 .. SYN.RETRIES. With tcp_syn_linear_timeouts the real
    timeouts ('RTO-SYN') start slower, so more retransmissions fit: tcp_syn_retries 2 with the
    stock 4 linear timeouts gives up after 5 (at 1, 2, 3, 4, 5 s; the expiry at 7 s reaches
    1 + 2 + 4 s), as measured on 6.18."""
    retries, linear = int(params["SYN.RETRIES"]), int(params["SYN.LINEAR"])
    if retries == 0 or linear == 0:
        return retries
    base, cap = float(params["rto_initial"]), float(params["rto_max"])
    budget = sum(min(base * 2 ** k, cap) for k in range(retries + 1))
    elapsed, expiry = 0.0, 0
    while True:                      # bounded: at most linear + retries + 2 expiries (see RANGES)
        elapsed += min(base * 2 ** max(0, expiry - linear), cap)
        expiry += 1
        if expiry >= 2 and elapsed >= budget * (1 - 1e-9):
            return expiry - 1


def _profile(name, description, options, params, sources=None) -> Profile:
    unknown = set(options) - set(OPTIONS)
    assert not unknown, unknown
    params = {**params, "SYN.GIVEUP": syn_giveup(params)}
    assert set(params) == set(PARAMS), set(PARAMS) ^ set(params)
    ranges = RANGES[name]
    assert set(ranges) == set(PARAMS), set(PARAMS) ^ set(ranges)
    assert all(params[k] in ranges[k] for k in PARAMS), [k for k in PARAMS if params[k] not in ranges[k]]
    return Profile(name, description, frozenset(options), MappingProxyType(dict(params)),
                   MappingProxyType(dict(sources or {})), base=name, ranges=MappingProxyType(dict(ranges)))


RFC9293 = _profile(
    "rfc9293",
    "RFC 9293 as written, with its recommendations (RFC 5961 challenge ACKs) and RFC 6298 timers.",
    {"challenge-ack", "keepalive", "delayed-ack", "user-timeout", "sws-avoidance"},
    {"SYN.RETRIES": 7, "SYNACK.RETRIES": 7, "DATA.RETRIES": 7, "KA.PROBES": 9, "WINDOW": 65535, "MSS.DEFAULT": 536, "SYN.LINEAR": 0,
     "msl": 120.0, "time_wait": 240.0, "rto_initial": 1.0, "rto_min": 1.0, "rto_max": 120.0,
     "fin_timeout": 0.0, "user_timeout": 300.0, "ka_idle": 7200.0, "ka_interval": 75.0, "delack_max": 0.5,
     "tolerance": 0.25},
    {"SYN.RETRIES": "RFC 9293 3.8.3 (MUST-23): R2 for a SYN at least 3 minutes; 1+2+...+64 s and a last\n"
                    "timeout capped at rto_max (120 s) = 247 s after 7 retries",
     "DATA.RETRIES": "RFC 1122 4.2.3.5: R2 at least 100 s",
     "SYN.GIVEUP": "SYN.RETRIES: RFC 9293 3.8.3 counts R2 in retransmissions",
     "msl": "RFC 9293 3.4.2: MSL = 2 minutes", "time_wait": "RFC 9293 3.6.1: 2 MSL",
     "rto_initial": "RFC 6298 2.1: 1 s", "rto_min": "RFC 6298 2.4: 1 s", "rto_max": "RFC 6298 2.5: at least 60 s",
     "ka_idle": "RFC 1122 4.2.3.6: no less than two hours",
     "user_timeout": "RFC 9293 3.9.1 (OPEN): the present global default is five minutes",
     "KA.PROBES": "RFC 1122 4.2.3.6 leaves the count open; 9 as in common implementations",
     "WINDOW": "receive window the checker's endpoints offer (the oracle reads the IUT's from its segments)",
     "MSS.DEFAULT": "RFC 9293 3.7.1 (MUST-15): the send MSS without an MSS option, 536 for IPv4 (1220 for "
                    "IPv6: judge IPv6 traces with --param MSS.DEFAULT=1220)",
     "delack_max": "RFC 9293 3.8.6.3 (MUST-40), RFC 1122 4.2.3.2: an ACK delay MUST be less than 0.5 s"},
)

LINUX = _profile(
    "linux",
    "Linux's TCP (net/ipv4) with default sysctls; every difference from rfc9293 is a named option.",
    {"challenge-ack", "challenge-ack-ratelimit", "keepalive", "keepalive-rst", "delayed-ack", "fin-wait-2-timeout",
     "rst-on-unread", "rst-ack", "econnrefused", "synack-on-syn-copy", "syn-recv-syn-rst", "time-wait-reopen",
     "simopen-synack-dupack", "listener-survives", "time-wait-detached",
     "tfo", "syn-recv-ack-first", "rst-after-fin", "fin-wait-2-minisock", "time-wait-minisock",
     "past-window-whole", "ack-bytes-acked", "flagless-drop", "rst-challenge-below", "icmp-establishment",
     "user-timeout", "dup-end-acceptable", "closing-fin-ignored", "fin-fits-window", "paws", "rcv-mss-estimate"},
    {"SYN.RETRIES": 6, "SYNACK.RETRIES": 5, "DATA.RETRIES": 15, "KA.PROBES": 9, "WINDOW": 65535, "MSS.DEFAULT": 536, "SYN.LINEAR": 4,
     "msl": 30.0, "time_wait": 60.0, "rto_initial": 1.0, "rto_min": 0.2, "rto_max": 120.0,
     "fin_timeout": 60.0, "user_timeout": 0.0, "ka_idle": 7200.0, "ka_interval": 75.0, "delack_max": 0.5,
     "tolerance": 0.25},
    {"SYN.RETRIES": "net.ipv4.tcp_syn_retries = 6 (timeouts 1, 2, 4, ... 64 s: give up after 127 s, "
                    "short of RFC 9293 MUST-23's 3 minutes; `synack spec --requirements -p linux` reports it)",
     "SYNACK.RETRIES": "net.ipv4.tcp_synack_retries = 5",
     "SYN.GIVEUP": "derived from tcp_syn_retries (6) and tcp_syn_linear_timeouts (4): SYNs at 0, 1, 2, 3, 4, 5, 7, "
                   "11, 19, 35, 67 s, and the expiry at 131 s is past tcp_model_timeout()'s 127 s (tcp_write_timeout())",
     "SYN.LINEAR": "net.ipv4.tcp_syn_linear_timeouts = 4: tcp_retransmit_timer() keeps a SYN's RTO at its initial "
                   "value while total_rto <= 4, so SYNs go out at 0, 1, 2, 3, 4, 5, 7, 11 ... s (measured here)",
     "DATA.RETRIES": "net.ipv4.tcp_retries2 = 15",
     "time_wait": "TCP_TIMEWAIT_LEN = 60 s (include/net/tcp.h), not a sysctl",
     "rto_min": "TCP_RTO_MIN = 200 ms", "rto_max": "TCP_RTO_MAX = 120 s", "rto_initial": "TCP_TIMEOUT_INIT = 1 s",
     "fin_timeout": "net.ipv4.tcp_fin_timeout = 60 s (orphaned FIN-WAIT-2; not the MSL)",
     "user_timeout": "TCP_USER_TIMEOUT defaults to 0: no user timeout (the user-timeout row's guard "
                     "USER.TIMEOUT.ON is false; tcp_write_timeout() tests icsk_user_timeout for non-zero)",
     "ka_idle": "net.ipv4.tcp_keepalive_time = 7200", "ka_interval": "net.ipv4.tcp_keepalive_intvl = 75",
     "KA.PROBES": "net.ipv4.tcp_keepalive_probes = 9",
     "MSS.DEFAULT": "TCP_MSS_DEFAULT = 536 (include/net/tcp.h), used when the SYN carries no MSS option",
     "delack_max": "tcp_send_delayed_ack(): the delayed-ACK timeout is capped at max_ato = HZ/2 (0.5 s) outside "
                   "pingpong mode (TCP_DELACK_MAX = HZ/5 caps it only in pingpong mode, include/net/tcp.h)"},
)

PROFILES: dict[str, Profile] = {p.name: p for p in (RFC9293, LINUX)}

#: Teaching and stress variants: options added to a base profile, and what each is built to break.
VARIANTS: dict[str, tuple[frozenset[str], str]] = {
    "two-way-handshake": (frozenset({"two-way-handshake"}),
                          "breaks handshake agreement / no-ghost-acceptance (an old duplicate SYN opens a "
                          "half-open connection, RFC 9293 3.5 Figure 8) and can deadlock (seed 002)"),
    "no-time-wait": (frozenset({"no-time-wait"}),
                     "breaks graceful-close (a lost last ACK: the retransmitted FIN meets CLOSED and is "
                     "answered with RST) and, with reconnects, no-ghost-acceptance"),
    "short-time-wait": (frozenset({"short-time-wait"}),
                        "breaks graceful-close: TIME-WAIT ends while the peer may still retransmit its FIN"),
    "free-isn": (frozenset({"free-isn"}),
                 "breaks no-ghost-acceptance with reconnects: without the ISN clock old duplicates fall "
                 "into the new incarnation's window"),
    "rfc1337": (frozenset({"rfc1337"}), "not a teaching variant: RFC 1337's fix, ignore RST in TIME-WAIT"),
    "tfo": (frozenset({"tfo"}), "not a teaching variant: RFC 7413 TCP Fast Open (on in linux)"),
    "paws": (frozenset({"paws"}), "not a teaching variant: RFC 7323 5.3 PAWS (on in linux)"),
    "defer-accept": (frozenset({"defer-accept"}), "not a teaching variant: Linux TCP_DEFER_ACCEPT on the listener "
                     "(tcp_check_req() drops the bare third ACK)"),
    "listen-overflow": (frozenset({"listen-overflow"}), "not a teaching variant: Linux with the listener's accept "
                        "queue full (tcp_check_req() listen_overflow drops the third ACK)"),
    "abort-on-overflow": (frozenset({"abort-on-overflow"}), "not a teaching variant: Linux "
                          "net.ipv4.tcp_abort_on_overflow = 1 (tcp_check_req() resets a third ACK the full accept "
                          "queue cannot take)"),
}


def get_profile(name: str, variants: "tuple[str, ...] | list[str] | str" = ()) -> Profile:
    """Look up a profile by name, optionally with variants (``"rfc9293+no-time-wait"`` works too)."""
    if isinstance(name, Profile):
        base = name
    else:
        parts = str(name).split("+")
        if parts[0] not in PROFILES:
            raise SpecError(f"unknown profile {parts[0]!r}; expected one of: {', '.join(PROFILES)}")
        base = PROFILES[parts[0]]
        variants = tuple(parts[1:]) + ((variants,) if isinstance(variants, str) else tuple(variants))
    if isinstance(variants, str):
        variants = (variants,)
    options = set(base.options)
    for v in variants:
        if v not in VARIANTS:
            raise SpecError(f"unknown variant {v!r}; expected one of: {', '.join(VARIANTS)}")
        options |= VARIANTS[v][0]
    if not variants:
        return base
    return replace(base, options=frozenset(options), variants=base.variants + tuple(variants))


def timer_seconds(profile: Profile, timer: str, expired: int = 0) -> float | None:
    """How long a timer runs, by the profile's parameters, after it has expired `expired`
    times in a row: the RTO doubles on each expiry up to rto_max (RFC 6298 5.5, RFC 9293
    3.8.1); RTO-SYN, the RTO of an active open's SYN, stays at rto_initial for the first
    SYN.LINEAR expiries (Linux tcp_syn_linear_timeouts; 0 in rfc9293); 2MSL is time_wait; FIN-WAIT-2 is fin_timeout; USER-TIMEOUT is user_timeout; the
    first keep-alive waits ka_idle, later probes ka_interval (RFC 1122 4.2.3.6); the k-th
    zero-window probe comes at least min(rto_min * 2^k, rto_max) after the previous one (RFC
    9293 3.8.6.1: the first after an RTO, then exponential backoff; Linux tcp_probe0_when()
    backs off from max(RTO, TCP_RTO_MIN)). None for timers without a duration in the profile
    (DELACK, OUTPUT)."""
    p = profile.params
    if timer == "RTO":
        return min(float(p["rto_initial"]) * 2 ** expired, float(p["rto_max"]))
    if timer == "RTO-SYN":
        # an active open's SYN: linear for the first SYN.LINEAR + 1 expiries (Linux
        # tcp_syn_linear_timeouts), then doubling
        return min(float(p["rto_initial"]) * 2 ** max(0, expired - int(p["SYN.LINEAR"])), float(p["rto_max"]))
    if timer == "2MSL":
        return float(p["time_wait"])
    if timer == "FIN-WAIT-2":
        return float(p["fin_timeout"])
    if timer == "USER-TIMEOUT":
        return float(p["user_timeout"])
    if timer == "KEEPALIVE":
        return float(p["ka_idle"] if expired == 0 else p["ka_interval"])
    if timer == "PERSIST":
        return min(float(p["rto_min"]) * 2 ** expired, float(p["rto_max"]))
    return None


def eval_when(expr: str, options: frozenset[str]) -> bool:
    """Evaluate a row's option condition such as ``challenge-ack and not rfc1337``."""
    if not expr.strip():
        return True
    out = []
    for tok in expr.split():
        if tok in ("and", "or", "not", "(", ")"):
            out.append(tok)
        elif tok in OPTIONS:
            out.append(str(tok in options))
        else:
            raise SpecError(f"unknown option {tok!r} in row condition {expr!r}")
    return bool(eval(" ".join(out), {"__builtins__": {}}))  # noqa: S307 - tokens are only True/False/and/or/not
