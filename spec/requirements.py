"""RFC 9293's requirements (Appendix B, MUST-1 .. MUST-69) and where synack covers each.

Why this exists: a reader who knows RFC 9293 should be able to see, requirement by
requirement, what the table models, which profile parameters carry a number the RFC fixes,
and what is deliberately left out. Every entry is data that `tests/spec/test_requirements.py`
checks against the table and the profiles: named rows must exist and be in force under the
profile named, named parameters must exist, and numeric requirements are evaluated on each
profile (`audit`), so a profile that breaks one (Linux gives up a SYN after 127 s, RFC 9293
asks for at least 3 minutes) is reported rather than hidden.

Coverage kinds:
    table    rows of the transition table implement it (listed in `rows`)
    params   a profile parameter carries it; `check` evaluates it where the RFC fixes a number
    checker  the model checker's system, not a single endpoint, carries it
    partial  part is modelled (`rows`/`params`), the rest is named in `gap`
    none     not modelled; `gap` says why (below or beside connection management)

A few SHOULD and MAY requirements that the profile options implement are listed too, so
every option of the table traces back to a requirement id.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .machine import machine
from .profiles import Profile, timer_seconds

KINDS = ("table", "params", "checker", "partial", "none")


@dataclass(frozen=True)
class Requirement:
    id: str
    section: str
    says: str
    kind: str
    rows: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    gap: str = ""
    option: str = ""  # the profile option that implements it, for SHOULD/MAY entries

    # `rows` entries are row ids; "a|b" means either row (profiles choose between them).


def _syn_give_up(profile: Profile) -> float:
    """Seconds from the first SYN until SYN-SENT gives up: SYN.RETRIES backed-off timeouts
    plus the last one (RFC 6298 5.5 doubling, capped at rto_max)."""
    return sum(timer_seconds(profile, "RTO", k) for k in range(int(profile.params["SYN.RETRIES"]) + 1))


#: Numeric requirements: (what is measured, the bound it must meet, the bound as text).
CHECKS: dict[str, tuple[Callable[[Profile], float], Callable[[Profile], float], str]] = {
    "MUST-13": (lambda p: float(p.params["time_wait"]), lambda p: 2 * float(p.params["msl"]),
                "TIME-WAIT >= 2 MSL (the profile's MSL)"),
    "MUST-23": (_syn_give_up, lambda p: 180.0, "a SYN is retransmitted for >= 180 s"),
    "MUST-28": (lambda p: float(p.params["ka_idle"]), lambda p: 7200.0, "keep-alive idle >= 7200 s"),
}

_NOT_CM = "below connection management: segment contents, not the state machine"
_IP = "the IP layer interface is not modelled"
_URG = "urgent data is not modelled (RFC 9293 3.10.7.4's sixth step)"

REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("MUST-1", "3.8.6", "the window field is an unsigned number", "table",
                rows=("ack.new", "ack.dup", "output", "send.now")),
    Requirement("MUST-2", "3.1", "the sender computes the checksum", "none", gap=_NOT_CM),
    Requirement("MUST-3", "3.1", "the receiver checks the checksum", "none",
                gap=_NOT_CM + " (captures on loopback carry offloaded, unfilled checksums)"),
    Requirement("MUST-4", "3.2", "support EOL, NOP and MSS options", "none", gap=_NOT_CM),
    Requirement("MUST-5", "3.2", "accept an option in any segment", "none", gap=_NOT_CM),
    Requirement("MUST-6", "3.2", "ignore options not implemented", "none", gap=_NOT_CM),
    Requirement("MUST-7", "3.2", "cope with an illegal option length", "none",
                gap=_NOT_CM + "; the capture decoder stops at a malformed option instead of failing"),
    Requirement("MUST-8", "3.4.1", "ISNs come from a clock-driven generator", "checker",
                gap="the checker gives each new incarnation an ISS above the old sequence space; "
                    "the free-isn variant drops the clock and no-ghost-acceptance fails"),
    Requirement("MUST-9", "3.4.1", "the ISN's pseudo-random part is not computable from outside", "none",
                gap="ISN secrecy is not a state-machine property"),
    Requirement("MUST-10", "3.5", "support simultaneous open", "table",
                rows=("synsent.syn", "synrcvd.simopen-synack|synrcvd.simopen-synack.dupack", "ack.synrcvd")),
    Requirement("MUST-11", "3.5", "SYN-RECEIVED remembers whether it came from a passive or an active OPEN",
                "table", rows=("rst.synrcvd.passive.exact|rst.synrcvd.passive", "rst.synrcvd.active.exact|rst.synrcvd.active",
                               "syn.synrcvd.passive|syn.synrcvd.passive.rst",
                               "syn.challenge.synrcvd")),
    Requirement("MUST-12", "3.6", "tell the application when its connection is aborted", "table",
                rows=("rst.reset.exact|rst.reset", "synsent.rst|synsent.rst.refused", "rst.synrcvd.active.exact|rst.synrcvd.active",
                      "rto.giveup", "rto.syn.giveup", "keepalive.giveup|keepalive.giveup.rst")),
    Requirement("MUST-13", "3.6.1", "the active closer stays in TIME-WAIT for 2 MSL", "table",
                rows=("fin.finwait2|finwait2.lx.fin", "ack.fin.closing", "fin.timewait|timewait.lx.other",
                      "seq.bad.tw|timewait.lx.other", "2msl"),
                params=("time_wait", "msl")),
    Requirement("MUST-14", "3.7.1", "send and receive the MSS option", "partial",
                rows=("listen.syn", "synsent.synack", "synsent.syn", "output"),
                gap="received: it sets SND.MSS, which bounds every segment sent; sending it is not judged "
                    "(options of the IUT's own SYN are not compared)"),
    Requirement("MUST-15", "3.7.1", "default send MSS 536 (IPv4) / 1220 (IPv6)", "partial",
                rows=("listen.syn", "synsent.synack", "synsent.syn"), params=("MSS.DEFAULT",),
                gap="one default per profile (536); IPv6 traces are judged with --param MSS.DEFAULT=1220"),
    Requirement("MUST-16", "3.7.1", "compute the effective send segment size", "partial",
                rows=("output", "send.now", "rto.data"),
                gap="the bound is the peer's MSS; the smaller one options and the path MTU make is the "
                    "stack's choice (any smaller segment is accepted)"),
    Requirement("MUST-17", "3.7.4", "the application can disable Nagle", "none",
                gap="segmentization is not modelled: one SEND is one segment"),
    Requirement("MUST-18", "3.8.1", "Karn's algorithm for RTT samples", "none",
                gap="RTT estimation is not modelled; the oracle bounds RTO intervals by rto_min .. rto_max"),
    Requirement("MUST-19", "3.8.1", "exponential backoff, slow start and congestion avoidance", "partial",
                rows=("rto.syn", "rto.synack", "rto.data", "rto.fin"), params=("rto_initial", "rto_max"),
                gap="backoff is modelled (RTX counts retransmissions; the oracle checks each interval doubles); "
                    "congestion control is not"),
    Requirement("MUST-20", "3.8.3", "after R2 retransmissions close the connection (R1: advise IP)", "partial",
                rows=("rto.giveup", "rto.syn.giveup", "rto.synack.giveup|rto.synack.giveup.active"), params=("DATA.RETRIES",),
                gap="R1's negative advice to IP is not modelled"),
    Requirement("MUST-21", "3.8.3", "the application can set R2", "params",
                params=("DATA.RETRIES", "SYN.RETRIES", "SYNACK.RETRIES")),
    Requirement("MUST-22", "3.8.3", "SYN retransmissions use the same R1/R2 mechanism", "table",
                rows=("rto.syn", "rto.syn.giveup", "rto.synack", "rto.synack.giveup|rto.synack.giveup.active"),
                params=("SYN.RETRIES", "SYNACK.RETRIES")),
    Requirement("MUST-23", "3.8.3", "R2 for a SYN is at least 3 minutes", "params",
                params=("SYN.RETRIES", "rto_initial", "rto_max")),
    Requirement("MUST-24", "3.8.4", "an application can turn keep-alives on", "partial", rows=("keepalive",),
                option="keepalive",
                gap="keep-alive is a profile option, not a per-connection switch"),
    Requirement("MUST-25", "3.8.4", "keep-alives are off by default", "none",
                gap="with the keepalive option every idle connection may probe; whether the application "
                    "turned it on is not part of the TCB (the oracle treats a probe as a hidden choice)"),
    Requirement("MUST-26", "3.8.4", "a keep-alive is sent only after an idle interval", "table",
                rows=("keepalive",), params=("ka_idle", "ka_interval"),
                gap="the oracle checks the idle interval and the probe spacing on timed traces"),
    Requirement("MUST-27", "3.8.4", "the keep-alive interval is configurable", "params",
                params=("ka_idle", "ka_interval")),
    Requirement("MUST-28", "3.8.4", "the keep-alive interval defaults to at least 2 hours", "params",
                params=("ka_idle",)),
    Requirement("MUST-29", "3.8.4", "an unanswered probe alone does not kill the connection", "table",
                rows=("keepalive", "keepalive.giveup|keepalive.giveup.rst", "seq.ok"), params=("KA.PROBES",)),
    Requirement("MUST-30", "3.8.5", "support the urgent pointer", "none", gap=_URG),
    Requirement("MUST-31", "3.8.5", "urgent data of any length", "none", gap=_URG),
    Requirement("MUST-32", "3.8.5", "tell the application of urgent data", "none", gap=_URG),
    Requirement("MUST-33", "3.8.5", "the application can learn how much urgent data waits", "none", gap=_URG),
    Requirement("MUST-34", "3.8.6", "be robust against a shrinking window", "partial",
                rows=("ack.new", "ack.dup", "output"),
                gap="SND.WND follows every acceptable ACK (no SND.WL1/WL2 check); data already sent beyond a "
                    "shrunk window stays outstanding and new data waits for room"),
    Requirement("MUST-35", "3.8.6.1", "probe a zero window with the standard logic", "table", rows=("persist",)),
    Requirement("MUST-36", "3.8.6.1", "the sender probes a zero window", "table",
                rows=("persist", "persist.data", "persist.resend", "output")),
    Requirement("MUST-37", "3.8.6.1", "a zero window may stay closed indefinitely", "table", rows=("persist",),
                gap="persist has no give-up row"),
    Requirement("MUST-38", "3.8.6.2.1", "sender silly-window-syndrome avoidance", "partial",
                rows=("output", "output.override"), option="sws-avoidance",
                gap="per segment, with the effective MSS taken as SND.MSS less 40 octets of options; judged where the send queue is known (calls logged: traces, the test kit); from a capture "
                    "alone every short segment may be a short write; every write is taken as pushed; the "
                    "override timeout is timed as the first zero-window probe (rto_min), not the RFC's 0.1-1 s"),
    Requirement("MUST-39", "3.8.6.2.2", "receiver silly-window-syndrome avoidance", "partial",
                rows=("offer", "offer.open"),
                gap="judged on the windows the IUT offers: an offer that moves the right edge is at least "
                    "min(a quarter of the largest window offered, the effective MSS: SND.MSS at most 536, less 40 "
                    "octets of options; linux: 76, option rcv-mss-estimate), one unit of the window scale less; "
                    "the RFC's rule on how far the edge moves (RCV.BUFF, RCV.USER) needs the receive buffer, "
                    "which a trace does not show; the receive buffer's size, a stack's own MTU and which options "
                    "a segment carries are not seen, hence the weaker bounds"),
    Requirement("MUST-40", "3.8.6.3", "an ACK is delayed less than 0.5 s", "partial",
                rows=("text.data.delayed", "fin.est.delayed", "delack"), option="delayed-ack",
                gap="the delay's bound is not a parameter, so the oracle does not time it"),
    Requirement("MUST-41", "3.9.1", "a passive OPEN does not affect other connections", "none",
                gap="one TCB per 4-tuple: listeners sharing a port are not modelled"),
    Requirement("MUST-42", "3.9.1", "several LISTENs on one port at once", "none",
                gap="one TCB per 4-tuple: listeners sharing a port are not modelled"),
    Requirement("MUST-43", "3.9.1", "OPEN takes an optional local IP address", "none", gap=_IP),
    Requirement("MUST-44", "3.9.1", "ask IP for a source address for the SYN", "none", gap=_IP),
    Requirement("MUST-45", "3.9.1", "otherwise use the connection's local address", "none", gap=_IP),
    Requirement("MUST-46", "3.9.1", "refuse OPEN to a broadcast, multicast or invalid address", "none", gap=_IP),
    Requirement("MUST-47", "3.9.1", "report errors to the application", "table",
                rows=("closed.send", "exists.connect", "queue.send-full", "closing.send", "receive-closing")),
    Requirement("MUST-48", "3.9.1", "the application can set the Diffserv field", "none", gap=_IP),
    Requirement("MUST-49", "3.9.2", "the TTL is configurable", "none", gap=_IP),
    Requirement("MUST-50", "3.9.2", "ignore IP options TCP does not understand", "none",
                gap=_IP + "; the capture decoder skips IP options by the header length"),
    Requirement("MUST-51", "3.9.2", "the application can give a source route", "none", gap=_IP),
    Requirement("MUST-52", "3.9.2", "that source route overrides the datagram's", "none", gap=_IP),
    Requirement("MUST-53", "3.9.2", "build a return route from a received source route", "none", gap=_IP),
    Requirement("MUST-54", "3.9.2.2", "act on ICMP messages", "partial",
                rows=("icmp|icmp.lx.connected", "icmp.hard.abort|icmp.lx.synsent"),
                gap="ICMPv4 errors quoting a TCP header are read from captures and given to the connection they "
                    "quote; ICMPv6 is not read, PMTU (fragmentation needed) is not modelled"),
    Requirement("MUST-55", "3.9.2.2", "ignore Source Quench", "table", rows=("icmp|icmp.lx.synsent.ignore",)),
    # linux breaks it: tcp_v4_err() aborts SYN-SENT on soft errors too (RFC 5461 4: common practice)
    Requirement("MUST-56", "3.9.2.2", "do not abort on soft ICMP errors", "table", rows=("icmp",)),
    Requirement("MUST-57", "3.9.2.2", "silently drop a SYN to a broadcast or multicast address", "none", gap=_IP),
    Requirement("MUST-58", "3.10.7.4", "aggregate ACKs where possible", "partial",
                rows=("text.data.delayed", "delack"), option="delayed-ack",
                gap="an owed ACK (ACK.OWED) covers every segment received before it is sent"),
    Requirement("MUST-59", "3.10.7.4", "process all queued segments before ACKing", "partial",
                rows=("text.data.fill", "text.data.fill.past"),
                gap="out-of-order text held for later (SHLD-31) is processed with the segment that fills the gap "
                    "and one ACK covers it all; otherwise segments arrive one event at a time (no input queue)"),
    Requirement("MUST-60", "3.9.1", "without a PUSH call, do not buffer data indefinitely", "none",
                gap="PSH is carried in segments but not judged"),
    Requirement("MUST-61", "3.9.1", "without a PUSH call, set PSH on the last buffered segment", "none",
                gap="PSH is carried in segments but not judged"),
    Requirement("MUST-62", "3.8.5", "the urgent pointer points past the urgent data", "none", gap=_URG),
    Requirement("MUST-63", "3.9.2.2", "reject a SYN from an invalid source address", "none", gap=_IP),
    Requirement("MUST-64", "3.2", "parse options at any alignment", "none", gap=_NOT_CM),
    Requirement("MUST-65", "3.7.1", "send MSS only on SYN segments", "none", gap=_NOT_CM),
    Requirement("MUST-66", "3.8.6", "process RST (and URG) even with a zero window", "table",
                rows=("seq.ok", "rst.reset.exact|rst.reset"),
                gap="the acceptability test's zero-window case admits a RST at RCV.NXT"),
    Requirement("MUST-67", "3.7.1", "the MSS sent is based on MMS_R", "none", gap=_NOT_CM),
    Requirement("MUST-68", "3.2", "every option but EOL and NOP has a length", "none", gap=_NOT_CM),
    Requirement("MUST-69", "3.2", "pad the header with zeros", "none", gap=_NOT_CM),
    # SHOULD and MAY requirements that a profile option implements.
    Requirement("MAY-1", "3.6.1", "half-duplex close (SHUTDOWN)", "table",
                rows=("est.shutdown", "closewait.shutdown", "fin.est")),
    Requirement("MAY-2", "3.6.1", "a SYN may reopen a connection from TIME-WAIT", "table",
                rows=("timewait.reopen",), option="time-wait-reopen"),
    Requirement("SHLD-3", "3.6.1", "CLOSE with unread data sends RST", "table",
                rows=("close.unread-rst", "text.abort-on-data"), option="rst-on-unread"),
    Requirement("MAY-5", "3.8.4", "send keep-alive packets", "table", rows=("keepalive",), option="keepalive"),
    Requirement("MAY-12", "3.10.7.4", "RFC 5961 blind-injection protection (challenge ACKs)", "partial",
                rows=("rst.challenge", "syn.challenge", "rst.reset.exact", "ack.old.challenge"),
                option="challenge-ack",
                gap="RFC 5961 5.2's MAX.SND.WND is not tracked: an ACK below SND.UNA may be challenged or ignored"),
    Requirement("SHLD-26", "3.9.2.2", "abort the connection on a hard ICMP error (Destination Unreachable 2-4)",
                "table", rows=("icmp.hard.abort|icmp.lx.synsent",)),
    Requirement("SHLD-18", "3.8.6.3", "delayed ACKs", "table", rows=("text.data.delayed", "delack"),
                option="delayed-ack"),
    Requirement("SHLD-31", "3.10.7.4", "hold segments beyond RCV.NXT for later processing", "partial",
                rows=("text.ooo.hold", "text.ooo.merge", "text.data.gap", "text.data.fill"),
                gap="one range is held (a second, disjoint one is dropped: several holes are not modelled), "
                    "only text without a FIN that ends within the window; text that overlaps data already "
                    "received and fills part of the gap makes the model forget the range"),
)

BY_ID: dict[str, Requirement] = {r.id: r for r in REQUIREMENTS}


@dataclass(frozen=True)
class Audit:
    requirement: Requirement
    holds: bool | None  # None: nothing numeric to evaluate
    detail: str


def audit(profile: Profile) -> list[Audit]:
    """Evaluate every requirement on a profile: listed rows in force, options present, and
    the numeric requirements (CHECKS) on its parameters."""
    live = {r.id for r in machine(profile).rows}
    out = []
    for req in REQUIREMENTS:
        if req.option and not profile.has(req.option):
            out.append(Audit(req, None, f"option {req.option} is off in {profile.label()}"))
            continue
        problems = [f"no row {r.replace('|', ' or ')} in force" for r in req.rows
                    if not live.intersection(r.split("|"))]
        if req.id in CHECKS:
            measure, bound, text = CHECKS[req.id]
            value, least = measure(profile), bound(profile)
            good = value >= least
            out.append(Audit(req, good and not problems,
                             f"{text}: {value:g} s" + ("" if good else f", below {least:g} s")
                             + "".join(f"; {p}" for p in problems)))
        elif problems:
            out.append(Audit(req, False, "; ".join(problems)))
        else:
            out.append(Audit(req, None if req.kind in ("none", "checker") else True, ""))
    return out
