"""The transition table of TCP connection management, RFC 9293 section 3.10, as data.

Each `Row` is (from-states, event, stage, guard, actions, to-state, RFC section, note),
optionally present only under a profile option (`when`). Segment arrival in a synchronized
state is processed in the RFC's own stages ("first check sequence number", "second check
the RST bit", ...): a row either stops or names the `next` stage, and a step's result lists
every row it passed through. Guards within one (state, event, stage) are exhaustive and
mutually exclusive unless one of the two is marked `choice` (an alternative the RFCs allow);
`synack prove` checks this with z3.

Option names (see `profiles.OPTIONS` for their sources):
    challenge-ack, challenge-ack-ratelimit, rfc1337, delayed-ack, keepalive, user-timeout,
    fin-wait-2-timeout, rst-on-unread, rst-ack, synack-on-syn-copy, syn-recv-syn-rst,
    time-wait-reopen, keepalive-rst, listener-survives, time-wait-detached, two-way-handshake,
    no-time-wait.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .model import State

S = State
CL, LI, SS, SR, ES = S.CLOSED, S.LISTEN, S.SYN_SENT, S.SYN_RECEIVED, S.ESTABLISHED
F1, F2, CW, CG, LA, TW = S.FIN_WAIT_1, S.FIN_WAIT_2, S.CLOSE_WAIT, S.CLOSING, S.LAST_ACK, S.TIME_WAIT
SYNC = (SR, ES, F1, F2, CW, CG, LA, TW)


@dataclass(frozen=True)
class Row:
    id: str
    states: tuple[State, ...]
    event: str
    guard: str
    actions: tuple[str, ...]
    to: State | None
    rfc: str
    note: str = ""
    stage: str = ""
    next: str | None = None
    when: str = ""
    choice: bool = False
    figure5: bool = field(default=False, compare=False)
    #: a choice that withholds, under a rate limit, what its sibling row sends. To the peer it
    #: is the loss of that segment, so the checker's liveness analysis treats it as one: a rate
    #: limit runs on a clock (at most one answer per interval passes) that the untimed model lacks
    rate_limited: bool = False


#: Segment processing stages, in the order RFC 9293 section 3.10.7 gives them. Processing of
#: an arriving segment starts at the first stage that has rows for the endpoint's state.
STAGES = ("closed", "listen", "syn-sent", "pre", "seq", "rst", "syn", "ack", "text", "fin")

#: Named guard fragments, expanded where they are used (and listed in the JSON export).
MACROS: dict[str, str] = {
    # RFC 9293 3.10.7.4 "first check sequence number": the four cases of the acceptability test.
    "ACCEPTABLE": (
        "(SEG.LEN == 0 and RCV.WND == 0 and SEG.SEQ == RCV.NXT)"
        " or (SEG.LEN == 0 and RCV.WND > 0 and RCV.NXT <= SEG.SEQ and SEG.SEQ < RCV.NXT + RCV.WND)"
        " or (SEG.LEN > 0 and RCV.WND > 0 and ((RCV.NXT <= SEG.SEQ and SEG.SEQ < RCV.NXT + RCV.WND)"
        " or (RCV.NXT <= SEG.SEQ + SEG.LEN - 1 and SEG.SEQ + SEG.LEN - 1 < RCV.NXT + RCV.WND)))"
        " or LX_ZW_FIN or LX_DUP_END"),
    # Linux tcp_data_queue() (2bd99aef1b19): a bare FIN exactly at RCV.NXT is taken at a zero window
    # ("some stacks are known to send bare FIN packets in a loop even if we send RWIN 0")
    "LX_ZW_FIN": "RCV.WND == 0 and SEG.SEQ == RCV.NXT and FIN and not SYN and SEG.DATA == 0",
    # Linux tcp_sequence(): acceptable when !before(end_seq, rcv_wup) and !after(seq, rcv_nxt + window),
    # end_seq = SEG.SEQ + SEG.LEN (SYN and FIN counted); rcv_wup <= RCV.NXT, so a segment wholly below
    # RCV.NXT that ENDS at it passes (RFC 9293 3.10.7.4 finds it unacceptable). Not a request socket
    # (passive SYN-RECEIVED, a Fast Open child until its SYN is acknowledged: SND.UNA == ISS), which
    # tcp_check_req() judges by tcp_in_window()
    "LX_DUP_END": ("SEG.LEN > 0 and SEG.SEQ < RCV.NXT and SEG.SEQ + SEG.LEN == RCV.NXT"
                   " and not (PASSIVE and SND.UNA == ISS)"),
    # ... and in the seventh step, the segment that passed by it (read after the fifth step may have moved
    # SND.UNA; a SYN reaching the text is SYN-SENT's SYN,ACK, which synsent.synack acknowledges)
    "LX_DUP_TEXT": "not SYN and SEG.LEN > 0 and SEG.SEQ < RCV.NXT and SEG.SEQ + SEG.LEN == RCV.NXT",
    # Linux tcp_send_fin(), tcp_write_xmit() -> tcp_snd_wnd_test(): a FIN counts in end_seq, so a segment carrying
    # it goes out only when !after(end_seq, SND.UNA + SND.WND): the FIN alone (CLOSE), or riding N bytes (OUTPUT)
    "LX_FIN_HELD": "not (SND.NXT - SND.UNA + 1 <= SND.WND)",
    "LX_FIN_HELD_N": "not (SND.NXT - SND.UNA + N + 1 <= SND.WND)",
    # Linux tcp_rcv_state_process() step 7: after the peer's FIN, a segment not before RCV.NXT is not queued
    "LX_FIN_IGNORED": "not (SEG.SEQ < RCV.NXT)",
    # TCP Fast Open: the SYN carried data (it is still in flight)
    "TFO_SYN_DATA": "SND.NXT != ISS + 1",
    # 3.10.7.4 fifth: an acceptable acknowledgment, a duplicate, or one for data not yet sent.
    "ACK_NEW": "SND.UNA < SEG.ACK <= SND.NXT",
    "ACK_DUP": "SEG.ACK <= SND.UNA",
    # Not new and not a duplicate: SEG.ACK > SND.NXT, and also the distance-2^31 case that
    # modular comparison leaves undefined (RFC 1982): treated as acknowledging unsent data.
    "ACK_UNSENT": "not ACK_NEW and not ACK_DUP",
    # Linux tcp_ack(): below SND.UNA - min(max_window, bytes_acked), so always below the first
    # octet acknowledged so far (a client's bytes_acked counts its SYN, a server's does not)
    "ACK_NEVER_SENT": "SEG.ACK < ISS or (PASSIVE and SEG.ACK == ISS)",
    # 3.10.7.4 seventh: text that starts at or before RCV.NXT and reaches beyond it.
    "NEWDATA": "SEG.SEQ <= RCV.NXT and RCV.NXT < SEG.END",
    "FITS": "SEG.END - RCV.NXT <= RCV.WND",
    "OUT_OF_ORDER": "RCV.NXT < SEG.SEQ and SEG.LEN > 0",
    # A copy of the SYN that opened the connection.
    "SYN_COPY": "SYN and not ACK and not RST and SEG.SEQ == IRS",
    # Linux tcp_check_req(): only a listener's request socket (a passive open) answers a copy of
    # the SYN with the SYN,ACK again; a simultaneous open's full socket challenges it (step 4 of
    # tcp_validate_incoming), which the RFC rows do (found by the test kit on this kernel)
    "RESYN": "SYN and not ACK and not RST and SEG.SEQ == IRS and PASSIVE",
    "SIMOPEN_SYNACK": "SYN and ACK and not RST and not PASSIVE and SEG.SEQ == IRS and ACK_NEW",
    # RFC 9293 3.6.1 / RFC 1122 4.2.2.13: a new SYN beyond the old sequence space in TIME-WAIT.
    "REOPEN_SYN": "SYN and not ACK and not RST and RCV.NXT < SEG.SEQ",
    # Linux tcp_rcv_state_process: new data after close() aborts the connection.
    "ABORT_ON_DATA": "ORPHAN and RCV.NXT < SEG.END",
    # Linux tcp_check_req(): on a passive SYN-RECEIVED (a request socket) a segment whose ACK is
    # not ISS + 1 goes back to the listener, which resets it, before any window test (read only
    # where ACK is set; a RST keeps RFC 5961's order).
    # (A TFO child, which accepted data on the SYN, is a full socket: RFC 9293's order.)
    "LX_REQ_BADACK": "PASSIVE and not TFO.CHILD and not RST and SEG.ACK != ISS + 1",
    # Linux tcp_rcv_state_process(), tcp_rcv_established(): a segment with none of ACK, RST, SYN
    "LX_NOFLAGS": "not ACK and not RST and not SYN",
    # Linux tcp_validate_incoming(): a RST is judged by tcp_sequence(), the whole segment's
    # acceptability, so one whose data reaches into the window from below is challenged too
    "LX_RST_ANY": "True",
    # Linux tcp_in_window() (tcp_minisocks.c): the window test of request and timewait sockets;
    # SEG.SEQ + SEG.LEN is Linux's end_seq (it counts the FIN).
    "LX_IN_WINDOW": ("SEG.SEQ == RCV.NXT or (RCV.NXT < SEG.SEQ + SEG.LEN and SEG.SEQ < RCV.NXT + RCV.WND)"
                     " or (SEG.SEQ == RCV.NXT + RCV.WND and SEG.LEN == 0)"),
    # RFC 9293 3.7.1 (MUST-15): the send MSS is the peer's MSS option, else the default.
    "MSS_RCVD": "SEG.MSS if SEG.MSS > 0 else MSS.DEFAULT",
    # RFC 7323 2.2, 2.3: the shift the peer's SYN announced (above 14 taken as 14); none: 0.
    "WS_RCVD": "0 if SEG.WS == 0 else 14 if SEG.WS > 15 else SEG.WS - 1",
    # RFC 9293 3.8.6, 3.10.2: N more bytes stay within the peer's window (SND.UNA + SND.WND).
    "ROOM": "SND.NXT - SND.UNA + N <= SND.WND",
    # RFC 9293 3.8.6.2.1 (MUST-38), the sender's silly-window-syndrome avoidance: with more queued
    # (D = SND.Q) than the usable window U = SND.UNA + SND.WND - SND.NXT takes, data goes out only
    # while U holds a full segment (min(D, U) >= Eff.snd.MSS) or half the largest window the peer
    # offered (Fs = 1/2); D <= U is the pushed case (every write is taken as pushed: where a
    # stack cuts the queue is its choice). Written without subtraction: U may be negative.
    # The effective MSS is SND.MSS less the TCP options a segment carries (3.7.1; timestamps take
    # 12 octets), which the table does not know: the most, 40 octets, is taken off.
    # SWS_SILLY is the negation: with option sws-avoidance only (else False).
    "SWS_ON": "True",
    "SWS_SILLY": ("not (SND.NXT - SND.UNA + SND.Q <= SND.WND or SND.NXT - SND.UNA + SND.MSS <= SND.WND + 40"
                  " or MAX.SND.WND + (SND.NXT - SND.UNA) + (SND.NXT - SND.UNA) <= SND.WND + SND.WND)"),
    # RFC 9293 3.8.6.2.2 (MUST-39), the receiver's silly-window-syndrome avoidance, judged on the
    # windows a stack offers (event OFFER, n = the window scale shift, so g = 1 << N is the unit a
    # window is offered in, RFC 7323 2.3). RWS_MOVES: the offer moves the right edge at least one
    # unit past the last offer's, RCV.NXT + RCV.ADV (RCV.ADV: the window still offered, which every
    # RCV.NXT := moves with it, `rcv_to`; the table's RCV.WND, which the sequence check reads,
    # slides with RCV.NXT instead). A zero window never opens anything. A smaller move is the
    # rounding up Linux tcp_select_window() makes (ALIGN(cur_win, 1 << rcv_wscale): never shrink).
    "RWS_MOVES": "SEG.WND > 0 and RCV.ADV + (1 << N) <= SEG.WND",
    # RWS_OK: an edge that moves leaves a window worth sending into: at least min(Fr * RCV.BUFF,
    # Eff.snd.MSS), one unit of the scale less (a window is a multiple of it). RCV.BUFF is not seen:
    # the largest window offered (MAX.RCV.WND) is the part a trace shows, and Fr is taken as 1/4
    # (the RFC recommends 1/2; BSD tcp_output() offers nothing below min(sb_hiwat / 4, t_maxseg)).
    # Eff.snd.MSS: SND.MSS less 40 octets of options (3.7.1), SND.MSS taken at most 536 (the
    # default every IPv4 path carries, RFC 1122 3.3.2: Eff.snd.MSS is also bounded by the stack's
    # own MTU, which a trace does not show). With option rcv-mss-estimate (Linux
    # __tcp_select_window()) the segment size is the stack's estimate of the peer's (rcv_mss),
    # which tcp_measure_rcv_mss() lets fall to 76 octets (TCP_MIN_MSS + a TCP header, less a header
    # with timestamps). The first offer (MAX.RCV.WND == 0) has nothing to be measured against.
    "RWS_EST": "True",
    "RWS_OK": ("MAX.RCV.WND == 0 or (SEG.WND + (1 << N)) << 2 > MAX.RCV.WND"
               " or (RWS_EST and SEG.WND + (1 << N) > 76)"
               " or (not RWS_EST and SEG.WND + (1 << N) + 40 > (SND.MSS if SND.MSS < 536 else 536))"),
    # RFC 9293 3.7.1: a segment carries at most the effective send MSS (a capture that shows a
    # larger one taken before segmentation offload is the observation model's, oracle/observation.py).
    "SIZE_OK": "N <= SND.MSS",
    # ICMP errors (RFC 9293 3.9.2.2; event N = 256 * type + code, SEG.SEQ the quoted sequence number).
    # Hard: Destination Unreachable codes 2-4 (SHLD-26: SHOULD abort).
    "ICMP_HARD": "770 <= N and N <= 772",
    # Linux tcp_v4_err(): the errors it acts on: Destination Unreachable codes 0..NR_ICMP_UNREACH (15) but
    # 4 (fragmentation needed: PMTU, tcp_v4_mtu_reduced()), Time Exceeded, Parameter Problem (type 12);
    # Source Quench, Redirect and the rest `goto out`.
    "LX_ICMP_ERR": "(768 <= N and N <= 783 and N != 772) or (2816 <= N and N <= 3327)",
    # ... the quoted SEQ within [SND.UNA, SND.NXT] (between(); snd_una is the ISS for a Fast Open child)
    "LX_ICMP_SEQ": "SEG.SEQ - SND.UNA <= SND.NXT - SND.UNA",
    # tcp_req_err(): a request socket is dropped when the ICMP quotes its ISS and is net or host
    # unreachable, time exceeded or a parameter problem
    "LX_ICMP_REQ": "SEG.SEQ == ISS and (N == 768 or N == 769 or (2816 <= N and N <= 3327))",
}
#: Macros that hold only under a profile option; without the option they are False.
MACRO_OPTION: dict[str, str] = {"ABORT_ON_DATA": "rst-on-unread", "RESYN": "synack-on-syn-copy",
                                "LX_ZW_FIN": "past-window-whole", "LX_DUP_END": "dup-end-acceptable",
                                "LX_DUP_TEXT": "dup-end-acceptable", "LX_FIN_IGNORED": "closing-fin-ignored",
                                "LX_FIN_HELD": "fin-fits-window", "LX_FIN_HELD_N": "fin-fits-window", "ACK_NEVER_SENT": "ack-bytes-acked",
                                "TFO_SYN_DATA": "tfo",
                                "LX_REQ_BADACK": "syn-recv-ack-first", "LX_NOFLAGS": "flagless-drop",
                                "LX_RST_ANY": "rst-challenge-below", "SWS_SILLY": "sws-avoidance", "SWS_ON": "sws-avoidance",
                                "RWS_EST": "rcv-mss-estimate"}

ACK_NOW = "send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>"
#: Where RFC 9293 3.10.4/3.10.5 says that *queued* SENDs and RECEIVEs get an error, the call
#: itself (CLOSE in SYN-SENT, ABORT) returns normally: these signals are not the call's result.
QUEUED = "signal to queued calls: error: "
ROWS: list[Row] = []


def row(id, states, event, guard, actions=(), to=None, rfc="", note="", stage="", next=None,
        when="", choice=False, figure5=False, rate_limited=False):
    if isinstance(states, State):
        states = (states,)
    if isinstance(actions, str):
        actions = (actions,)
    ROWS.append(Row(id, tuple(states), event, guard, tuple(actions), to, rfc, note, stage, next,
                    when, choice, figure5, rate_limited))


R = "RFC 9293 "
#: Every window the peer offers may raise Max(SND.WND) (RFC 9293 3.8.6.2.1), never lower it; kept
#: only where a rule reads it (SWS_ON), so that TCBs elsewhere do not differ by an unread value.
MAXW = "MAX.SND.WND := SND.WND if SWS_ON and SND.WND > MAX.SND.WND else MAX.SND.WND"
SEG = "SEGMENT"


def rcv_to(value: str) -> tuple[str, str]:
    """RCV.NXT := value, in a synchronized state: the window still offered (RCV.ADV, the right
    edge last offered less RCV.NXT) shrinks by as much, down to 0, so that the edge stays where
    the offer put it (RFC 9293 3.8.6.2.2 measures an opening against it)."""
    return (f"RCV.ADV := RCV.ADV - ({value} - RCV.NXT) if {value} - RCV.NXT <= RCV.ADV else 0",
            f"RCV.NXT := {value}")

# ============================================================ user calls (3.10.1 - 3.10.5)
row("closed.listen", CL, "LISTEN", "True", ("RCV.WND := WINDOW", "PASSIVE := True"), LI, R + "3.10.1",
    "passive OPEN", figure5=True)
row("closed.connect", CL, "CONNECT", "True",
    ("ISS := ISN", "SND.UNA := ISN", "SND.NXT := ISN + 1", "RCV.WND := WINDOW", "RTX := 0",
     "send <SEQ=ISS><CTL=SYN>"), SS, R + "3.10.1", "active OPEN: snd SYN", figure5=True)
# TCP Fast Open (RFC 7413), client: a CONNECT that carries data (sendto() with MSG_FASTOPEN, or
# connect() after TCP_FASTOPEN_CONNECT and a write). With a cookie for the server the data rides
# on the SYN; without one the SYN asks for a cookie (an empty option) and the data waits.
_TFO_OPEN = ("ISS := ISN", "SND.UNA := ISN", "RCV.WND := WINDOW", "RTX := 0", "PASSIVE := False")
row("closed.connect.tfo", CL, "CONNECT", "N > 0",
    _TFO_OPEN + ("SND.NXT := ISN + 1 + N", "send <SEQ=ISS><CTL=SYN><LEN=N>"), SS,
    "RFC 7413 3, 4.2.1; Linux tcp_send_syn_data()",
    "active OPEN with data and a cached cookie: snd SYN carrying the data", when="tfo", choice=True)
row("closed.connect.tfo-request", CL, "CONNECT", "N > 0",
    _TFO_OPEN + ("SND.NXT := ISN + 1", "SND.Q := N", "send <SEQ=ISS><CTL=SYN>"), SS,
    "RFC 7413 4.1.1; Linux tcp_fastopen_cookie_check() (no cookie: a cookie request)",
    "active OPEN with data and no cookie: snd SYN with a cookie request; the data is queued until "
    "ESTABLISHED", when="tfo", choice=True)
row("listen.connect", LI, "CONNECT", "True",
    ("ISS := ISN", "SND.UNA := ISN", "SND.NXT := ISN + 1", "PASSIVE := False", "RTX := 0",
     "send <SEQ=ISS><CTL=SYN>"), SS, R + "3.10.1", "OPEN with a foreign socket turns passive into active",
    figure5=True)
row("exists.open", [s for s in State if s is not CL], "LISTEN", "True", "signal error: connection already exists",
    None, R + "3.10.1")
row("exists.connect", [s for s in State if s not in (CL, LI)], "CONNECT", "True",
    "signal error: connection already exists", None, R + "3.10.1")
for call in ("SEND", "RECEIVE", "SHUTDOWN", "CLOSE", "ABORT"):
    row(f"closed.{call.lower()}", CL, call, "True", "signal error: connection does not exist", None,
        R + {"SEND": "3.10.2", "RECEIVE": "3.10.3", "SHUTDOWN": "3.10.4", "CLOSE": "3.10.4", "ABORT": "3.10.5"}[call])

# SEND (3.10.2)
row("listen.send", LI, "SEND", "True", "signal error: foreign socket unspecified", None, R + "3.10.2",
    "a listening socket has no foreign socket")
row("queue.send", (SS, SR), "SEND", "SND.Q + N + (SND.NXT - ISS - 1) <= MAXWIN - 1", "SND.Q := SND.Q + N", None,
    R + "3.10.2", "queued for transmission after entering ESTABLISHED (with any data sent on the SYN "
    "(TFO), at most a window outstanding)")
row("queue.send-full", (SS, SR), "SEND", "not (SND.Q + N + (SND.NXT - ISS - 1) <= MAXWIN - 1)",
    "signal error: insufficient resources", None, R + "3.10.2")
_SENDQ = "N <= MAXWIN and SND.NXT - SND.UNA + SND.Q + N <= MAXWIN"
_NOW = "SND.Q == 0 and SIZE_OK and ROOM"
row("send.now", (ES, CW), "SEND", _SENDQ + " and " + _NOW,
    ("send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK><LEN=N>", "SND.NXT := SND.NXT + N"), None, R + "3.10.2; 3.7.1; 3.8.6",
    "nothing queued and the whole buffer fits one segment within the window: segmentize and send it")
row("send", (ES, CW), "SEND", _SENDQ + " and not (" + _NOW + ")", "SND.Q := SND.Q + N", None, R + "3.10.2; 3.7",
    "queue the data (behind data already queued, or more than one segment or the window holds); OUTPUT "
    "sends it in segments the MSS and the peer's window allow")
row("send.defer", (ES, CW), "SEND", _SENDQ + " and " + _NOW, "SND.Q := SND.Q + N", None,
    R + "3.7.4; RFC 1122 4.2.3.4; Linux tcp_nagle_test(), TCP_CORK",
    "the data could go out at once but is queued (Nagle's algorithm while data is unacknowledged, corking, "
    "autocorking): OUTPUT sends it later", choice=True)
row("synrcvd.send.tfo", SR, "SEND", "PASSIVE and TFO.CHILD and SND.Q + N + (SND.NXT - ISS - 1) <= MAXWIN - 1",
    ("send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK><LEN=N>", "SND.NXT := SND.NXT + N"), None,
    "RFC 7413 4.2.2; Linux tcp_sendmsg_locked() (tcp_passive_fastopen())",
    "a server that accepted data on the SYN may send before the handshake's final ACK (the TFO child socket "
    "is already accepted, also from a SYN with a valid cookie and no data: tcp_try_fastopen())", when="tfo",
    choice=True)
row("send-full", (ES, CW), "SEND", "not (" + _SENDQ + ")",
    "signal error: insufficient resources", None, R + "3.10.2",
    "more than 2^30 bytes outstanding and queued (RFC 7323 2.3 bounds a window below 2^30)")
row("closing.send", (F1, F2, CG, LA, TW), "SEND", "True", "signal error: connection closing", None, R + "3.10.2")

# RECEIVE (3.10.3): reads everything delivered so far.
row("queue.receive", (LI, SS, SR), "RECEIVE", "True", (), None, R + "3.10.3",
    "queued until the connection is established")
row("receive", (ES, F1, F2, CW, CG, LA, TW), "RECEIVE", "UNREAD", "UNREAD := False", None, R + "3.10.3")
row("receive.window-update", (ES, F1, F2), "RECEIVE", "UNREAD", ACK_NOW, None, R + "3.8.6.2.2; RFC 1122 4.2.3.3",
    "a read of part of the data (the model's RECEIVE otherwise reads everything): the window reopens by "
    "that much and the receiver may announce it at once with an ACK (Linux tcp_cleanup_rbuf() does when the "
    "window at least doubles; not after the peer's FIN); successive reads, successive updates; a last "
    "`receive` reads the rest", choice=True)
row("receive-wait", (ES, F1, F2), "RECEIVE", "not UNREAD", (), None, R + "3.10.3",
    "nothing to read yet: the call waits")
row("receive-closing", (CW, CG, LA, TW), "RECEIVE", "not UNREAD", "signal error: connection closing", None,
    R + "3.10.3", "the peer's FIN was received and all data has been read")

# CLOSE (3.10.4) = SHUTDOWN (half-close, send FIN) and, for CLOSE, no further receives (ORPHAN).
for call, extra in (("SHUTDOWN", ()), ("CLOSE", ("ORPHAN := True",))):
    c = call.lower()
    unread_ok = "not UNREAD" if call == "CLOSE" else "True"
    fig5 = call == "SHUTDOWN"  # the RFC's CLOSE ("no more to send") is the sockets API's shutdown(SHUT_WR)
    row(f"listen.{c}", LI, call, "True", ("delete TCB",), CL, R + "3.10.4", "close a listener", figure5=fig5)
    row(f"synsent.{c}", SS, call, "True", ("delete TCB", QUEUED + "closing"), CL, R + "3.10.4",
        "delete the TCB; queued SENDs get 'error: closing'", figure5=fig5)
    row(f"synrcvd.{c}", SR, call, "True",
        ("send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=FIN,ACK><LEN=SND.Q>", "SND.NXT := SND.NXT + SND.Q + 1",
         "SND.Q := 0", "FIN.SENT := True") + extra, F1, R + "3.10.4",
        "snd FIN (after any queued data)", figure5=fig5, when="not rst-on-unread" if call == "CLOSE" else "")
    for st, to, nm in ((ES, F1, "est"), (CW, LA, "closewait")):
        row(f"{nm}.{c}.queued", st, call, (unread_ok if call == "CLOSE" else "True") + " and (SND.Q > 0 or LX_FIN_HELD)",
            extra, to, R + "3.10.4; Linux tcp_send_fin(), tcp_snd_wnd_test() (fin-fits-window)",
            "data is queued (or, Linux, the FIN does not fit the peer's window): the FIN is queued behind it and "
            "follows the last byte (OUTPUT) once the window takes it",
            when="rst-on-unread" if call == "CLOSE" else "")
        if call == "CLOSE":
            row(f"{nm}.{c}.queued.plain", st, call, "SND.Q > 0 or LX_FIN_HELD", extra, to,
                R + "3.10.4; Linux tcp_send_fin(), tcp_snd_wnd_test() (fin-fits-window)",
                "data is queued (or, Linux, the FIN does not fit the peer's window): the FIN is queued behind it "
                "and follows the last byte (OUTPUT) once the window takes it", when="not rst-on-unread")
        row(f"{nm}.{c}", st, call, (unread_ok if call == "CLOSE" else "True") + " and SND.Q == 0 and not LX_FIN_HELD",
            ("send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=FIN,ACK>", "SND.NXT := SND.NXT + 1", "FIN.SENT := True")
            + extra, to, R + "3.10.4", "snd FIN (the retry count goes on: it counts the oldest segment's)", figure5=fig5,
            when="rst-on-unread" if call == "CLOSE" else "")
        if call == "CLOSE":
            row(f"{nm}.{c}.plain", st, call, "SND.Q == 0 and not LX_FIN_HELD",
                ("send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=FIN,ACK>", "SND.NXT := SND.NXT + 1", "FIN.SENT := True")
                + extra, to, R + "3.10.4", "snd FIN", when="not rst-on-unread")
    row(f"finwait.{c}", (F1, F2), call, unread_ok if call == "CLOSE" else "True",
        extra or ("signal error: connection closing",), None, R + "3.10.4",
        "FIN already sent; no second FIN" + ("; the socket is now orphaned" if extra else ""),
        when="rst-on-unread" if call == "CLOSE" else "")
    if call == "CLOSE":
        row(f"finwait.{c}.plain", (F1, F2), call, "True", extra, None, R + "3.10.4",
            "FIN already sent; the socket is now orphaned", when="not rst-on-unread")
    else:
        row("finwait.shutdown.ok", (F1, F2), call, "True", (), None, R + "3.10.4",
            "FIN already sent: 'strictly speaking, this is an error ... an \"ok\" response would be acceptable, "
            "too, as long as a second FIN is not emitted' (Linux and 4.4BSD's shutdown() return 0)", choice=True)
    row(f"late.{c}", (CG, LA, TW), call, "True", extra or ("signal error: connection closing",), None,
        R + "3.10.4", "already closing", when="not rst-on-unread" if call == "CLOSE" else "")
    if call == "CLOSE":
        row("late.close.read", (CG, LA), call, "not UNREAD", extra, None, R + "3.10.4", "already closing",
            when="rst-on-unread")
        row("late.close.tw", TW, call, "True", extra, None, R + "3.10.4; Linux __tcp_close()",
            "already closing (Linux: the user's socket is already CLOSE, TIME-WAIT is a timewait socket, so "
            "unread data is discarded without a RST)", when="rst-on-unread")
row("synrcvd.close.linux", SR, "CLOSE", "True",
    ("send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=FIN,ACK><LEN=SND.Q>", "SND.NXT := SND.NXT + SND.Q + 1",
     "SND.Q := 0", "FIN.SENT := True", "ORPHAN := True"), F1, R + "3.10.4", "snd FIN",
    when="rst-on-unread")
row("close.unread-rst", (ES, CW, F1, F2, CG, LA), "CLOSE", "UNREAD",
    ("send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>", "delete TCB", QUEUED + "connection reset"), CL,
    "RFC 1122 4.2.2.13; RFC 2525 2.17; Linux tcp_close()",
    "close() with received data unread sends RST, not FIN, to show that data was lost", when="rst-on-unread")

# ABORT (3.10.5)
row("abort.quiet", (LI, SS), "ABORT", "True", ("delete TCB", QUEUED + "connection reset"), CL, R + "3.10.5",
    "no segment is sent")
row("abort.rst", (SR, ES, F1, F2, CW), "ABORT", "True",
    ("send <SEQ=SND.NXT><CTL=RST>", "delete TCB", QUEUED + "connection reset"), CL, R + "3.10.5",
    "snd RST", when="not rst-ack", figure5=True)
row("abort.rst-ack", (SR, ES, F1, F2, CW), "ABORT", "True",
    ("send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>", "delete TCB", QUEUED + "connection reset"), CL,
    "RFC 9293 3.10.5; Linux tcp_send_active_reset()", "snd RST carrying an ACK", when="rst-ack")
row("abort.late", (CG, LA), "ABORT", "True", ("delete TCB",), CL, R + "3.10.5",
    "respond ok and delete the TCB; no RST")
row("abort.timewait", TW, "ABORT", "True", ("delete TCB",), CL, R + "3.10.5",
    "respond ok and delete the TCB; no RST", when="not time-wait-detached")
row("abort.timewait.detached", TW, "ABORT", "True", (), None,
    "Linux tcp_time_wait() (inet_twsk_alloc)",
    "TIME-WAIT lives in a separate timewait socket: the user's socket is already closed, so an abort "
    "cannot end TIME-WAIT early", when="time-wait-detached")

# ============================================================ SEGMENT ARRIVES (3.10.7)
# CLOSED (3.10.7.1)
row("closed.rst", CL, SEG, "RST", (), None, R + "3.10.7.1", "an incoming RST is discarded", stage="closed")
row("closed.ack", CL, SEG, "not RST and ACK", "reply <SEQ=SEG.ACK><CTL=RST>", None, R + "3.10.7.1",
    "reset acceptable to the sender", stage="closed")
row("closed.noack", CL, SEG, "not RST and not ACK", "reply <SEQ=0><ACK=SEG.SEQ + SEG.LEN><CTL=RST,ACK>", None,
    R + "3.10.7.1", "reset acceptable to the sender", stage="closed")

# LISTEN (3.10.7.2)
row("listen.rst", LI, SEG, "RST", (), None, R + "3.10.7.2", "first: an incoming RST is ignored", stage="listen")
row("listen.ack", LI, SEG, "not RST and ACK", "reply <SEQ=SEG.ACK><CTL=RST>", None, R + "3.10.7.2",
    "second: any acknowledgment is bad in LISTEN", stage="listen")
_opts = ("SND.MSS := MSS_RCVD", "SND.WS := WS_RCVD")
_synrcv = ("IRS := SEG.SEQ", "RCV.NXT := SEG.SEQ + 1", "ISS := ISN", "SND.UNA := ISN", "SND.NXT := ISN + 1",
           "SND.WND := SEG.WND", MAXW, "RTX := 0") + _opts + ("send <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>",)
row("listen.syn", LI, SEG, "not RST and not ACK and SYN", _synrcv, SR, R + "3.10.7.2",
    "third: rcv SYN / snd SYN,ACK (data on the SYN is not accepted; with TCP Fast Open it may be: "
    "listen.syn.tfo)",
    stage="listen", when="not two-way-handshake", figure5=True)
row("listen.syn.tfo", LI, SEG, "not RST and not ACK and SYN and not FIN and SEG.DATA > 0",
    ("IRS := SEG.SEQ", "RCV.NXT := SEG.SEQ + 1 + SEG.DATA", "UNREAD := True", "ISS := ISN", "SND.UNA := ISN",
     "SND.NXT := ISN + 1", "SND.WND := SEG.WND", MAXW, "RTX := 0", "TFO.CHILD := True") + _opts
    + ("send <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>",), SR,
    "RFC 7413 4.2.2; Linux tcp_try_fastopen(), tcp_fastopen_create_child()",
    "third: rcv SYN with data and a valid cookie: the data is accepted and the SYN,ACK acknowledges it "
    "(without a valid cookie, listen.syn: only the SYN is acknowledged)", stage="listen",
    when="tfo and not two-way-handshake", choice=True)
row("listen.syn.tfo.cookie", LI, SEG, "not RST and not ACK and SYN and not FIN and SEG.DATA == 0 and SEG.TFO == 2",
    _synrcv + ("TFO.CHILD := True",), SR,
    "RFC 7413 4.2.2; Linux tcp_try_fastopen() (a valid cookie on a SYN without data still creates the child)",
    "third: rcv SYN with a cookie and no data: a Fast Open child, which may send before the final ACK "
    "(without a valid cookie, listen.syn)", stage="listen", when="tfo and not two-way-handshake", choice=True)
row("listen.syn.2way", LI, SEG, "not RST and not ACK and SYN",
    _synrcv + ("SND.UNA := ISN + 1", "signal established"), ES, "teaching variant (not TCP)",
    "two-way handshake: the server is ESTABLISHED as soon as it answers", stage="listen",
    when="two-way-handshake")
row("listen.other", LI, SEG, "not RST and not ACK and not SYN", (), None, R + "3.10.7.2",
    "fourth: other text or control: drop", stage="listen")

# SYN-SENT (3.10.7.3)
row("synsent.badack", SS, SEG, "ACK and not ACK_NEW and not RST", "reply <SEQ=SEG.ACK><CTL=RST>", None,
    R + "3.10.7.3", "first: unacceptable ACK (SEG.ACK =< ISS or > SND.NXT): snd RST", stage="syn-sent")
row("synsent.badack-rst", SS, SEG, "ACK and not ACK_NEW and RST", (), None, R + "3.10.7.3",
    "first: unacceptable ACK on a RST: drop", stage="syn-sent")
row("synsent.rst", SS, SEG, "RST and ACK and ACK_NEW", ("delete TCB", "signal error: connection reset"), CL,
    R + "3.10.7.3; RFC 5961 3.2", "second: acceptable RST: connection reset", stage="syn-sent", figure5=True,
    when="not econnrefused")
row("synsent.rst.refused", SS, SEG, "RST and ACK and ACK_NEW", ("delete TCB", "signal error: connection refused"), CL,
    "RFC 9293 3.10.7.3; Linux tcp_reset() (ECONNREFUSED)", "second: acceptable RST: connection refused",
    stage="syn-sent", figure5=True, when="econnrefused")
row("synsent.rst-noack", SS, SEG, "RST and not ACK", (), None, R + "3.10.7.3",
    "second: RST without ACK: drop", stage="syn-sent")
_synack = ("IRS := SEG.SEQ", "RCV.NXT := SEG.SEQ + 1", "SND.UNA := SEG.ACK", "SND.WND := SEG.WND", MAXW, "RTX := 0") + _opts
row("synsent.synack", SS, SEG, "not RST and SYN and ACK and ACK_NEW",
    _synack + ("send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK><LEN=SND.Q>", "SND.NXT := SND.NXT + SND.Q", "SND.Q := 0",
               "signal established"), ES, R + "3.10.7.3",
    "fourth: rcv SYN,ACK / snd ACK (carrying any queued data)", stage="syn-sent", next="text",
    when="not two-way-handshake", figure5=True)
row("synsent.synack.defer", SS, SEG, "not RST and SYN and ACK and ACK_NEW and SND.Q > 0",
    _synack + (ACK_NOW, "signal established"), ES, R + "3.10.7.3",
    "fourth: rcv SYN,ACK / snd ACK, the queued data left for later (\"Data or controls that were queued for "
    "transmission MAY be included\"; libslirp's tcp_output() and ns-3's SendPendingData() send it after the ACK; "
    "found by the test kit). Not with TFO: the one way Linux queues data in SYN-SENT, whose "
    "tcp_rcv_fastopen_synack() sends it with the ACK", stage="syn-sent", next="text",
    when="not two-way-handshake and not tfo", choice=True)
row("synsent.synack.2way", SS, SEG, "not RST and SYN and ACK and ACK_NEW and SND.Q == 0",
    _synack + ("signal established",), ES, "teaching variant (not TCP)",
    "two-way handshake: no third segment", stage="syn-sent", next="text", when="two-way-handshake")
row("synsent.synack.2way.queued", SS, SEG, "not RST and SYN and ACK and ACK_NEW and SND.Q > 0",
    _synack + ("send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK><LEN=SND.Q>", "SND.NXT := SND.NXT + SND.Q", "SND.Q := 0",
               "signal established"), ES, "teaching variant (not TCP)",
    "two-way handshake: queued data is the first thing sent", stage="syn-sent", next="text",
    when="two-way-handshake")
row("synsent.syn", SS, SEG, "not RST and SYN and not ACK and not TFO_SYN_DATA",
    ("SND.Q := SND.Q + (SND.NXT - ISS - 1)", "SND.NXT := ISS + 1",
     "IRS := SEG.SEQ", "RCV.NXT := SEG.SEQ + 1", "SND.WND := SEG.WND", MAXW, "RTX := 0") + _opts +
    ("send <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>",), SR, R + "3.10.7.3",
    "fourth: simultaneous open: rcv SYN / snd SYN,ACK. The retransmission timer the SYN started keeps running "
    "(RFC 6298 5.1 starts it only when it is not running; Linux tcp_rcv_synsent_state_process() -> "
    "tcp_send_synack() does not rearm it): the SYN,ACK's first retransmission may come one RTO after the SYN",
    stage="syn-sent", figure5=True)
row("synsent.syn.tfo", SS, SEG, "not RST and SYN and not ACK and TFO_SYN_DATA",
    ("IRS := SEG.SEQ", "RCV.NXT := SEG.SEQ + 1", "SND.WND := SEG.WND", MAXW, "RTX := 0") + _opts +
    ("resend <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>",), SR,
    "RFC 9293 3.10.7.3; RFC 7413; Linux tcp_rcv_synsent_state_process() (simultaneous open)",
    "fourth: simultaneous open after a SYN that carried data (TCP Fast Open): snd SYN,ACK; the SYN's data stays "
    "in flight (SND.NXT is not wound back), so the peer's SYN,ACK may acknowledge it (packetdrill "
    "fastopen/client/simultaneous-fast-open); the crossing SYN's own data is not taken", stage="syn-sent",
    when="tfo")
# (two rows, not one guard "not ACK or ACK_NEW": SEG.ACK is read only where ACK is set, which
# lets spec/frames.py see that dropping commutes with shifting the sequence spaces)
row("synsent.other", SS, SEG, "not RST and not SYN and ACK and ACK_NEW", (), None, R + "3.10.7.3",
    "fifth: neither SYN nor RST: drop", stage="syn-sent")
row("synsent.other.noack", SS, SEG, "not RST and not SYN and not ACK", (), None, R + "3.10.7.3",
    "fifth: neither SYN nor RST (nor ACK): drop", stage="syn-sent")

# Synchronized states: optional pre-checks (profile options), then the RFC's stages.
_resynack = "resend <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>"
row("synrcvd.simopen-synack", SR, SEG, "SIMOPEN_SYNACK and SND.Q == 0",
    ("SND.UNA := SEG.ACK", "SND.WND := SEG.WND", MAXW, "RTX := 0", "signal established"), ES,
    "RFC 9293 3.5 Figure 7; Linux tcp_validate_incoming()",
    "simultaneous open: the peer's SYN,ACK acknowledges our SYN. The literal first check would find it "
    "unacceptable (its SYN lies below RCV.NXT); Figure 7 and Linux accept it", stage="pre", figure5=True,
    when="not simopen-synack-dupack")
row("synrcvd.simopen-synack.dupack", SR, SEG, "SIMOPEN_SYNACK and SND.Q == 0",
    ("SND.UNA := SEG.ACK", "SND.WND := SEG.WND", MAXW, "RTX := 0", "signal established", ACK_NOW), ES,
    "RFC 9293 3.5 Figure 7; Linux tcp_validate_incoming(), tcp_data_queue()",
    "simultaneous open: ESTABLISHED, and since the SYN,ACK ends at RCV.NXT Linux also treats it as a "
    "duplicate and ACKs it at once (with a D-SACK)", stage="pre", when="simopen-synack-dupack")
row("synrcvd.simopen-synack.ack", SR, SEG, "SIMOPEN_SYNACK and SND.Q == 0",
    ("SND.UNA := SEG.ACK", "SND.WND := SEG.WND", MAXW, "RTX := 0", "signal established", ACK_NOW), ES,
    "RFC 9293 3.10.7.4 (first check: an unacceptable segment is answered with an ACK)",
    "simultaneous open: ESTABLISHED, and the SYN,ACK, whose SYN lies below RCV.NXT, is also acknowledged as "
    "the first check says (4.4BSD's trimming does this: libslirp tcp_input())", stage="pre", choice=True,
    when="not simopen-synack-dupack")
row("synrcvd.simopen-synack.queued", SR, SEG, "SIMOPEN_SYNACK and SND.Q > 0",
    ("SND.UNA := SEG.ACK", "SND.WND := SEG.WND", MAXW, "RTX := 0", "signal established",
     "send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK><LEN=SND.Q>", "SND.NXT := SND.NXT + SND.Q", "SND.Q := 0"), ES,
    "RFC 9293 3.5 Figure 7; 3.10.2", "simultaneous open with data queued by SEND: ESTABLISHED, and the data "
    "goes out (found by `synack check --scenario any`: without this row the SYN,ACK was dropped and "
    "SYN-RECEIVED waited for an ACK its peer never sends)", stage="pre")
row("synrcvd.syn-copy", SR, SEG, "RESYN", _resynack, None, "Linux tcp_check_req()",
    "a retransmitted SYN is answered by retransmitting the SYN,ACK", stage="pre", when="synack-on-syn-copy")
row("synrcvd.pre", SR, SEG, "ACK and not SIMOPEN_SYNACK and not RESYN and not LX_REQ_BADACK",
    (), None, R + "3.10.7.4", "continue",
    stage="pre", next="seq")
row("synrcvd.pre.noack", SR, SEG, "not ACK and not RESYN and not (LX_NOFLAGS and not PASSIVE)", (), None, R + "3.10.7.4",
    "continue (SIMOPEN_SYNACK needs ACK; a separate row so that SEG.ACK is read only where ACK is set)",
    stage="pre", next="seq")
row("timewait.reopen", TW, SEG, "REOPEN_SYN and PASSIVE",
    ("ISS := SND.NXT + 65537", "IRS := SEG.SEQ", "RCV.NXT := SEG.SEQ + 1", "RCV.WND := WINDOW", "RCV.ADV := 0",
     "MAX.RCV.WND := 0", "SND.UNA := ISS", "SND.NXT := ISS + 1", "SND.WND := SEG.WND", "MAX.SND.WND := 0", MAXW, "PASSIVE := True", "FIN.SENT := False",
     "ORPHAN := False", "RTX := 0", "PROBES := 0", "UNREAD := False", "SND.Q := 0", "ACK.OWED := False",
     "TFO.CHILD := False") + _opts +
    ("send <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>",), SR,
    "RFC 9293 3.6.1; RFC 1122 4.2.2.13; Linux tcp_timewait_state_process() (TCP_TW_SYN), tcp_v4_rcv()",
    "a SYN above RCV.NXT reopens the connection from TIME-WAIT as a new incarnation; Linux takes "
    "ISS = old SND.NXT + 65537 (above every sequence number of the old one). Only where a listener "
    "holds the port (tcp_v4_rcv() hands the SYN to inet_lookup_listener(); with none it is answered "
    "like any TIME-WAIT segment, TCP_TW_ACK): here, a connection that came from a passive OPEN",
    stage="pre", when="time-wait-reopen")
row("timewait.pre", TW, SEG, "not (REOPEN_SYN and PASSIVE)", (), None, "RFC 9293 3.6.1", "continue", stage="pre",
    next="seq", when="time-wait-reopen and not time-wait-minisock")

# ---- Linux's input checks where they are its own (the kernel audit, docs/linux-audit.md) ----------
# Passive SYN-RECEIVED is a request socket (tcp_check_req()): a segment whose ACK is not ISS + 1
# is handed back to the listener before the window test, and the listener resets it. (A RST is
# judged as RFC 5961 says: this kernel, 6.18, challenges an inexact one; see docs/linux-audit.md.)
_LX = "Linux tcp_check_req() (tcp_minisocks.c)"
row("synrcvd.lx-badack", SR, SEG, "ACK and LX_REQ_BADACK", "reply <SEQ=SEG.ACK><CTL=RST>", None,
    _LX + "; tcp_rcv_state_process() (LISTEN: th->ack), tcp_v4_send_reset()",
    "an ACK other than ISS + 1 is checked before the window: the listener answers <SEQ=SEG.ACK><CTL=RST> even to "
    "a segment outside the window (RFC 9293 would ACK that one); the request stays", stage="pre",
    when="syn-recv-ack-first")

# CLOSE-WAIT, CLOSING, LAST-ACK: tcp_reset_check() also resets on a RST at RCV.NXT - 1, the peer's
# FIN's own number (some stacks send their RST there after a FIN), before and after the window test.
_LXFIN = "Linux tcp_validate_incoming(), tcp_reset_check() (tcp_input.c)"
_RSTFIN = "RST and SEG.SEQ == RCV.NXT - 1"
row("rst.after-fin", CW, SEG, _RSTFIN, ("delete TCB", "signal error: connection reset"), CL, _LXFIN,
    "RST at RCV.NXT - 1 after the peer's FIN: reset (the user sees EPIPE in CLOSE-WAIT)", stage="pre",
    when="rst-after-fin")
row("rst.after-fin.closing", (CG, LA), SEG, _RSTFIN, ("delete TCB",), CL, _LXFIN,
    "RST at RCV.NXT - 1 after the peer's FIN: enter CLOSED", stage="pre", when="rst-after-fin")
row("rst.after-fin.pass", (CW, CG, LA), SEG, "not (" + _RSTFIN + ") and not LX_NOFLAGS", (), None, _LXFIN, "continue",
    stage="pre",
    next="seq", when="rst-after-fin")

# An orphaned FIN-WAIT-2 (close() before the FIN was acknowledged, tcp_fin_timeout <= 60 s) is a
# timewait socket in its FIN_WAIT2 substate (tcp_rcv_state_process() -> tcp_time_wait()), which
# tcp_timewait_state_process() judges with its own rules.
_LXF2 = "Linux tcp_timewait_state_process() (TCP_FIN_WAIT2 substate), tcp_v4_rcv()"
_F2ACT = "ORPHAN and LX_IN_WINDOW and not RST and not (SYN and RCV.NXT <= SEG.SEQ)"
_F2NEW = "ACK and RCV.NXT < SEG.SEQ + SEG.LEN and SEG.LEN > 0"
_F2FIN = "FIN and SEG.SEQ + SEG.LEN == RCV.NXT + 1"
row("finwait2.lx.socket", F2, SEG, "not ORPHAN and not LX_NOFLAGS", (), None, R + "3.10.7.4; Linux tcp_rcv_state_process()",
    "not orphaned (shutdown(), or tcp_fin_timeout > 60 s): a full socket, the RFC's checks: continue",
    stage="pre", next="seq", when="fin-wait-2-minisock")
row("finwait2.lx.outside", F2, SEG, "ORPHAN and not LX_IN_WINDOW", ACK_NOW, None, _LXF2,
    "outside the window (tcp_in_window()): snd ACK (rate-limited; a RST too is answered so)", stage="pre",
    when="fin-wait-2-minisock")
row("finwait2.lx.paws", F2, SEG, "ORPHAN and LX_IN_WINDOW and not RST and SEG.OLD_TS > 0", ACK_NOW, None,
    _LXF2 + " (paws_reject: TCP_TW_ACK); RFC 7323 5.3 (R1)",
    "a TSval older than the peer's newest: PAWS rejects it, snd ACK (a choice: TS.Recent is not observable)",
    stage="pre", when="paws and fin-wait-2-minisock", choice=True)
row("finwait2.lx.rst", F2, SEG, "ORPHAN and LX_IN_WINDOW and RST", ("delete TCB", "signal error: connection reset"), CL,
    _LXF2,
    "RST anywhere in the window: the connection is gone, silently (no RFC 5961 exact match)", stage="pre",
    when="fin-wait-2-minisock")
row("finwait2.lx.syn", F2, SEG, "ORPHAN and LX_IN_WINDOW and not RST and SYN and RCV.NXT <= SEG.SEQ and not ACK",
    ("reply <SEQ=0><ACK=SEG.SEQ + SEG.LEN><CTL=RST,ACK>", "delete TCB"), CL, _LXF2 + "; tcp_v4_send_reset()",
    "SYN at or above RCV.NXT: TCP_TW_RST, snd RST and drop the connection (no challenge ACK)", stage="pre",
    when="fin-wait-2-minisock")
row("finwait2.lx.syn.ack", F2, SEG, "ORPHAN and LX_IN_WINDOW and not RST and SYN and RCV.NXT <= SEG.SEQ and ACK",
    ("reply <SEQ=SEG.ACK><CTL=RST>", "delete TCB"), CL, _LXF2 + "; tcp_v4_send_reset()",
    "SYN,ACK at or above RCV.NXT: snd RST and drop the connection", stage="pre", when="fin-wait-2-minisock")
row("finwait2.lx.dup", F2, SEG, _F2ACT + " and not (" + _F2NEW + ")", (), None, _LXF2,
    "no ACK, or nothing new (a duplicate or a pure ACK): dropped silently, the ACK field unread", stage="pre",
    when="fin-wait-2-minisock")
row("finwait2.lx.fin", F2, SEG, _F2ACT + " and " + _F2NEW + " and " + _F2FIN,
    (*rcv_to("RCV.NXT + 1"), "HELD.START := 0", "HELD.END := 0", "HELD2.START := 0", "HELD2.END := 0", ACK_NOW,
     "restart 2MSL"), TW, _LXF2,
    "the FIN, and nothing after it: TIME-WAIT for TCP_TIMEWAIT_LEN, snd ACK", stage="pre",
    when="fin-wait-2-minisock")
row("finwait2.lx.data", F2, SEG, _F2ACT + " and " + _F2NEW + " and not (" + _F2FIN + ")",
    ("reply <SEQ=SEG.ACK><CTL=RST>", "delete TCB"), CL, _LXF2 + "; RFC 1122 4.2.2.13",
    "new data after close(): TCP_TW_RST, snd RST", stage="pre", when="fin-wait-2-minisock")

# TIME-WAIT is a timewait socket (tcp_time_wait()); tcp_timewait_state_process() takes in-window
# only a RST or a bare ACK exactly at RCV.NXT and answers everything else with an ACK.
_LXTW = "Linux tcp_timewait_state_process() (TCP_TIME_WAIT substate)"
_TWIN = "SEG.SEQ == RCV.NXT and SEG.LEN == 0"
row("timewait.lx.rst", TW, SEG, "RST and SEG.SEQ == RCV.NXT", ("delete TCB",), CL, _LXTW + "; RFC 1337",
    "RST exactly at RCV.NXT ends TIME-WAIT (TIME-WAIT assassination; net.ipv4.tcp_rfc1337 = 0)", stage="pre",
    when="time-wait-minisock and not rfc1337")
row("timewait.lx.rst.rfc1337", TW, SEG, "RST and SEG.SEQ == RCV.NXT", (), None, _LXTW + "; RFC 1337 4",
    "RST exactly at RCV.NXT ignored (net.ipv4.tcp_rfc1337 = 1)", stage="pre", when="time-wait-minisock and rfc1337")
row("timewait.lx.rst.other", TW, SEG, "RST and SEG.SEQ != RCV.NXT", (), None, _LXTW,
    "any other RST: dropped silently (no challenge ACK)", stage="pre", when="time-wait-minisock")
row("timewait.lx.ack", TW, SEG, "not RST and " + _TWIN, ("restart 2MSL",), None, _LXTW,
    "a bare ACK at RCV.NXT: accepted, TIME-WAIT restarts (inet_twsk_reschedule()), nothing sent", stage="pre",
    when="time-wait-minisock")
row("timewait.lx.paws", TW, SEG, "not RST and " + _TWIN + " and SEG.OLD_TS > 0", (ACK_NOW, "restart 2MSL"), None,
    _LXTW + " (paws_reject: TCP_TW_ACK, inet_twsk_reschedule()); RFC 7323 5.3 (R1)",
    "a bare ACK at RCV.NXT whose TSval is older than the peer's newest: PAWS rejects it, snd ACK, TIME-WAIT "
    "restarts (a choice: TS.Recent is not observable)", stage="pre", when="paws and time-wait-minisock", choice=True)
row("timewait.lx.syn", TW, SEG, "not RST and not (" + _TWIN + ") and REOPEN_SYN and not PASSIVE", ACK_NOW, None,
    _LXTW + "; tcp_v4_rcv() (TCP_TW_SYN with no listener: TCP_TW_ACK)",
    "a new SYN that no listener takes: snd ACK; TIME-WAIT is not restarted", stage="pre",
    when="time-wait-minisock and time-wait-reopen")
row("timewait.lx.syn.any", TW, SEG, "not RST and not (" + _TWIN + ") and REOPEN_SYN", ACK_NOW, None,
    _LXTW + "; tcp_v4_rcv() (TCP_TW_SYN with no listener: TCP_TW_ACK)",
    "a new SYN (not reopened): snd ACK; TIME-WAIT is not restarted", stage="pre",
    when="time-wait-minisock and not time-wait-reopen")
row("timewait.lx.other", TW, SEG, "not RST and not (" + _TWIN + ") and not REOPEN_SYN and ACK",
    (ACK_NOW, "restart 2MSL"), None, _LXTW,
    "any other segment with ACK (a retransmitted FIN, data, an old segment): snd ACK, restart TIME-WAIT",
    stage="pre", when="time-wait-minisock")
row("timewait.lx.other.noack", TW, SEG, "not RST and not (" + _TWIN + ") and not REOPEN_SYN and not ACK", ACK_NOW,
    None, _LXTW, "any other segment without ACK (an old SYN): snd ACK; TIME-WAIT is not restarted",
    stage="pre", when="time-wait-minisock")

# A full socket (not a request or timewait socket) drops a segment with none of ACK, RST and SYN
# before tcp_validate_incoming() checks its sequence number (SKB_DROP_REASON_TCP_FLAGS): an
# unacceptable one is not answered with the ACK of RFC 9293 3.10.7.4's first check. A passive
# SYN-RECEIVED is a request socket (tcp_check_req(): the window test first, then "if (!(flg &
# TCP_FLAG_ACK)) return NULL"), an orphaned FIN-WAIT-2 and TIME-WAIT timewait sockets (above).
_LXFL = ("Linux tcp_rcv_state_process(), tcp_rcv_established() (slow path): 'if (!th->ack && !th->rst && "
         "!th->syn)' discards (SKB_DROP_REASON_TCP_FLAGS) before tcp_validate_incoming()")
_FLNOTE = "no ACK, RST or SYN (a bare FIN, data without ACK): dropped before the sequence check, nothing sent"
row("flagless.lx", (ES, F1, CW, CG, LA), SEG, "LX_NOFLAGS", (), None, _LXFL, _FLNOTE, stage="pre",
    when="flagless-drop")
row("flagless.lx.pass", (ES, F1), SEG, "not LX_NOFLAGS", (), None, _LXFL, "continue", stage="pre", next="seq",
    when="flagless-drop")
row("flagless.lx.pass.closing", (CW, CG, LA), SEG, "not LX_NOFLAGS", (), None, _LXFL, "continue", stage="pre",
    next="seq", when="flagless-drop and not rst-after-fin")
row("flagless.lx.synrcvd", SR, SEG, "LX_NOFLAGS and not PASSIVE", (), None, _LXFL,
    _FLNOTE + " (a simultaneous open's SYN-RECEIVED is a full socket)", stage="pre", when="flagless-drop")
row("flagless.lx.finwait2", F2, SEG, "LX_NOFLAGS and not ORPHAN", (), None, _LXFL,
    _FLNOTE + " (FIN-WAIT-2 after shutdown(): a full socket)", stage="pre", when="flagless-drop and fin-wait-2-minisock")
row("flagless.lx.finwait2.any", F2, SEG, "LX_NOFLAGS", (), None, _LXFL, _FLNOTE, stage="pre",
    when="flagless-drop and not fin-wait-2-minisock")
row("flagless.lx.finwait2.pass", F2, SEG, "not LX_NOFLAGS", (), None, _LXFL, "continue", stage="pre", next="seq",
    when="flagless-drop and not fin-wait-2-minisock")

# first: sequence number
row("seq.ok", SYNC, SEG, "ACCEPTABLE", "PROBES := 0", None, R + "3.10.7.4",
    "first: segment acceptable", stage="seq", next="rst")
row("seq.bad-rst", SYNC, SEG, "not ACCEPTABLE and RST", (), None, R + "3.10.7.4",
    "first: unacceptable RST: drop", stage="seq")
row("seq.bad", [s for s in SYNC if s is not TW], SEG, "not ACCEPTABLE and not RST", ACK_NOW, None,
    R + "3.10.7.4", "first: unacceptable segment: snd ACK, drop", stage="seq")
# Linux answers an unacceptable segment through the per-socket out-of-window rate limit unless it
# carries data or a FIN and no SYN (tcp_validate_incoming() -> tcp_oow_rate_limited(), which exempts
# "data packets without SYNs"); an unacceptable SYN goes to syn_challenge (tcp_send_challenge_ack(),
# limited by the same __tcp_oow_rate_limited()): at most one such ACK per socket per
# net.ipv4.tcp_invalid_ratelimit (500 ms).
row("seq.bad.limited", [s for s in SYNC if s is not TW], SEG,
    "not ACCEPTABLE and not RST and (SYN or SEG.LEN == 0)", (), None,
    "RFC 5961 7; Linux tcp_validate_incoming(): tcp_oow_rate_limited() (net.ipv4.tcp_invalid_ratelimit; a "
    "segment with data or a FIN and no SYN is exempt), an unacceptable SYN through tcp_send_challenge_ack()",
    "first: an unacceptable SYN or empty segment: the ACK it asks for, suppressed by the per-socket rate limit",
    stage="seq", when="challenge-ack and challenge-ack-ratelimit", choice=True, rate_limited=True)
row("seq.bad.tw", TW, SEG, "not ACCEPTABLE and not RST", (ACK_NOW, "restart 2MSL"), None,
    R + "3.10.7.4 (TIME-WAIT); Linux tcp_timewait_state_process()",
    "a retransmitted FIN (SEG.SEQ = RCV.NXT - 1) fails the acceptability test: it is ACKed and 2 MSL restarts, "
    "the intent of the TIME-WAIT rule of the eighth step, which the literal order of checks never reaches",
    stage="seq")

# RFC 7323 5.3 R1 (PAWS): a segment whose TSval is older than TS.Recent is unacceptable: "send an
# acknowledgment in reply as specified in RFC 793 page 69 and drop the segment" (a RST is not). The table
# knows SEG.OLD_TS (the TSval older than the newest the peer sent before, which the oracle reads from the
# trace), not TS.Recent (R3 updates it only for segments at or below Last.ACK.sent; Linux
# tcp_disordered_ack() exempts a pure duplicate ACK): so the check is a choice beside normal processing.
_PAWS = ("RFC 7323 5.3 (R1); Linux tcp_validate_incoming() -> tcp_paws_discard() -> tcp_send_dupack(); "
         "tcp_check_req() (paws_reject: send_ack)")
row("seq.paws", [s for s in SYNC if s is not TW], SEG, "SEG.OLD_TS > 0 and not RST and not SYN", ACK_NOW, None, _PAWS,
    "first (before the window test): PAWS: a TSval older than the peer's newest: snd ACK, drop the segment",
    stage="seq", when="paws", choice=True)
row("seq.paws.tw", TW, SEG, "SEG.OLD_TS > 0 and not RST and not SYN", (ACK_NOW, "restart 2MSL"), None,
    _PAWS + "; Linux tcp_timewait_state_process() (paws_reject: inet_twsk_reschedule())",
    "first: PAWS in TIME-WAIT: snd ACK, drop the segment, restart the 2 MSL timeout (as for the retransmitted FIN "
    "this may be)", stage="seq", when="paws", choice=True)

# second: RST
row("rst.none", SYNC, SEG, "not RST", (), None, R + "3.10.7.4", "second: no RST", stage="rst", next="syn")
for exact, cond, when, src in (
        ("", "RST", "not challenge-ack", R + "3.10.7.4"),
        (".exact", "RST and SEG.SEQ == RCV.NXT", "challenge-ack", R + "3.10.7.4; RFC 5961 3.2")):
    row("rst.synrcvd.passive" + exact, SR, SEG, cond + " and PASSIVE", ("delete TCB", "RCV.WND := WINDOW",
        "PASSIVE := True"), LI, src, "second: RST in SYN-RECEIVED from a passive OPEN: back to LISTEN",
        stage="rst", when=when, figure5=True)
    row("rst.synrcvd.active" + exact, SR, SEG, cond + " and not PASSIVE",
        ("delete TCB", "signal error: connection refused"), CL, src,
        "second: RST in SYN-RECEIVED from an active OPEN: connection refused", stage="rst", when=when)
    row("rst.reset" + exact, (ES, F1, F2, CW), SEG, cond, ("delete TCB", "signal error: connection reset"), CL,
        src, "second: connection reset", stage="rst", when=when)
    row("rst.closing" + exact, (CG, LA), SEG, cond, ("delete TCB",), CL, src, "second: enter CLOSED",
        stage="rst", when=when)
    row("rst.timewait" + exact, TW, SEG, cond, ("delete TCB",), CL, src,
        "second: RST in TIME-WAIT closes it (the hazard RFC 1337 calls TIME-WAIT assassination)",
        stage="rst", when=when + " and not rfc1337")
    row("rst.timewait.rfc1337" + exact, TW, SEG, cond, (), None, "RFC 1337 4 (fix F1)",
        "second: ignore RST in TIME-WAIT", stage="rst", when=when + " and rfc1337")
_RSTWIN = "RST and SEG.SEQ != RCV.NXT and (RCV.NXT < SEG.SEQ or LX_RST_ANY)"
row("rst.challenge", SYNC, SEG, _RSTWIN, ACK_NOW, None, "RFC 9293 3.10.7.4; RFC 5961 3.2",
    "second: RST in the window but not at RCV.NXT: challenge ACK", stage="rst", when="challenge-ack")
# An acceptable RST whose SEG.SEQ lies below RCV.NXT (data reaching into the window): "if the RST
# bit is set and the sequence number is outside the current receive window, silently drop the
# segment" (RFC 9293 3.10.7.4 second check, RFC 5961 3.2 case 1; lwIP tcp_process() and gVisor
# handleReset() test SEG.SEQ alone; the kit's size variations found it)
row("rst.outside", SYNC, SEG, "RST and SEG.SEQ != RCV.NXT and not (RCV.NXT < SEG.SEQ) and not LX_RST_ANY", (), None,
    "RFC 9293 3.10.7.4; RFC 5961 3.2", "second: RST whose sequence number is below the window: drop silently",
    stage="rst", when="challenge-ack")
row("rst.challenge.limited", SYNC, SEG, _RSTWIN, (), None,
    "RFC 5961 7; Linux tcp_send_challenge_ack() (net.ipv4.tcp_challenge_ack_limit)",
    "second: the challenge ACK is suppressed by the rate limit", stage="rst",
    when="challenge-ack and challenge-ack-ratelimit", choice=True, rate_limited=True)

# fourth: SYN (the third step, security, is not modelled)
row("syn.none", SYNC, SEG, "not SYN", (), None, R + "3.10.7.4", "fourth: no SYN", stage="syn", next="ack")
row("syn.synrcvd.passive", SR, SEG, "SYN and PASSIVE", ("delete TCB", "RCV.WND := WINDOW", "PASSIVE := True"),
    LI, R + "3.10.7.4", "fourth: SYN in SYN-RECEIVED from a passive OPEN: back to LISTEN", stage="syn",
    when="not syn-recv-syn-rst")
row("syn.synrcvd.passive.rst", SR, SEG, "SYN and PASSIVE and not ACK",
    ("reply <SEQ=0><ACK=SEG.SEQ + SEG.LEN><CTL=RST,ACK>", "delete TCB", "RCV.WND := WINDOW", "PASSIVE := True"),
    LI, "RFC 9293 3.10.7.4; Linux tcp_check_req() (embryonic_reset)",
    "fourth: in-window SYN on a request socket: snd RST and drop the request", stage="syn",
    when="syn-recv-syn-rst")
row("syn.synrcvd.passive.rst.ack", SR, SEG, "SYN and PASSIVE and ACK",
    ("reply <SEQ=SEG.ACK><CTL=RST>", "delete TCB", "RCV.WND := WINDOW", "PASSIVE := True"),
    LI, "RFC 9293 3.10.7.1, 3.10.7.4; Linux tcp_check_req() (embryonic_reset -> tcp_v4_send_reset(): "
    "SEQ = SEG.ACK when the SYN carries an ACK)",
    "fourth: in-window SYN,ACK on a request socket: snd RST and drop the request", stage="syn",
    when="syn-recv-syn-rst")
row("syn.challenge", (ES, F1, F2, CW, CG, LA, TW), SEG, "SYN", ACK_NOW, None,
    "RFC 9293 3.10.7.4; RFC 5961 4.2", "fourth: SYN in a synchronized state: challenge ACK", stage="syn",
    when="challenge-ack")
row("syn.challenge.synrcvd", SR, SEG, "SYN and not PASSIVE", ACK_NOW, None, "RFC 9293 3.10.7.4; RFC 5961 4.2",
    "fourth: SYN in SYN-RECEIVED from an active OPEN: challenge ACK", stage="syn", when="challenge-ack")
row("syn.challenge.limited", (ES, F1, F2, CW, CG, LA, TW), SEG, "SYN", (), None,
    "RFC 5961 7; Linux tcp_send_challenge_ack()", "fourth: challenge ACK suppressed by the rate limit",
    stage="syn", when="challenge-ack and challenge-ack-ratelimit", choice=True, rate_limited=True)
row("syn.reset", (ES, F1, F2, CW, CG, LA, TW), SEG, "SYN",
    ("send <SEQ=SND.NXT><CTL=RST>", "delete TCB", "signal error: connection reset"), CL,
    "RFC 9293 3.10.7.4 (RFC 793 behaviour)", "fourth: an in-window SYN is an error: snd RST, close",
    stage="syn", when="not challenge-ack")
row("syn.reset.synrcvd", SR, SEG, "SYN and not PASSIVE",
    ("send <SEQ=SND.NXT><CTL=RST>", "delete TCB", "signal error: connection reset"), CL,
    "RFC 9293 3.10.7.4 (RFC 793 behaviour)", "fourth: an in-window SYN is an error: snd RST, close",
    stage="syn", when="not challenge-ack")

# fifth: ACK
row("ack.none", SYNC, SEG, "not ACK", (), None, R + "3.10.7.4", "fifth: ACK bit off: drop", stage="ack")
_WND = ("SND.WND := SEG.WND << SND.WS", MAXW)
row("ack.synrcvd", SR, SEG, "ACK and ACK_NEW and SND.Q == 0",
    ("SND.UNA := SEG.ACK",) + _WND + ("RTX := 0", "signal established"), ES,
    R + "3.10.7.4", "fifth: rcv ACK of SYN: ESTABLISHED", stage="ack", next="text", figure5=True)
row("ack.synrcvd.queued", SR, SEG, "ACK and ACK_NEW and SND.Q > 0",
    ("SND.UNA := SEG.ACK",) + _WND + ("RTX := 0", "signal established",
     "send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK><LEN=SND.Q>", "SND.NXT := SND.NXT + SND.Q", "SND.Q := 0"), ES,
    R + "3.10.7.4; 3.10.2", "fifth: rcv ACK of SYN: ESTABLISHED, and the data queued by SEND goes out",
    stage="ack", next="text")
# A request socket's third ACK that tcp_check_req() does not turn into a connection (variants: a listener
# setting or a full accept queue; neither is in the TCB, so each is a choice beside ack.synrcvd).
_LXREQ = "PASSIVE and not TFO.CHILD and ACK and ACK_NEW"
row("ack.synrcvd.lx.defer", SR, SEG, _LXREQ + " and SEG.LEN == 0 and SEG.SEQ == RCV.NXT and RTX < SYNACK.RETRIES",
    (), None, "Linux tcp_check_req() (TCP_DEFER_ACCEPT: req->num_timeout < rskq_defer_accept and end_seq == "
    "rcv_isn + 1: inet_rsk(req)->acked = 1, LINUX_MIB_TCPDEFERACCEPTDROP), reqsk_timer_handler()",
    "fifth: TCP_DEFER_ACCEPT: the bare third ACK is dropped while the SYN,ACK has been retransmitted fewer times "
    "than the deferral (secs_to_retrans(), at most 255; bounded here by SYNACK.RETRIES, the request's give-up); "
    "the timer retransmits the SYN,ACK and a segment with data (or FIN) opens the connection", stage="ack",
    when="defer-accept", choice=True)
row("ack.synrcvd.lx.overflow", SR, SEG, _LXREQ, (), None,
    "Linux tcp_check_req() (listen_overflow: syn_recv_sock() finds the accept queue full, "
    "net.ipv4.tcp_abort_on_overflow = 0: inet_rsk(req)->acked = 1), reqsk_timer_handler()",
    "fifth: the accept queue is full: the third ACK (with any data) is dropped and the request stays; the timer "
    "retransmits the SYN,ACK (until SYNACK.RETRIES, the request's give-up) and a later ACK may find room",
    stage="ack", when="listen-overflow and not abort-on-overflow", choice=True)
row("ack.synrcvd.lx.overflow.rst", SR, SEG, _LXREQ,
    ("reply <SEQ=SEG.ACK><CTL=RST>", "delete TCB", "RCV.WND := WINDOW", "PASSIVE := True"), LI,
    "Linux tcp_check_req() (listen_overflow with net.ipv4.tcp_abort_on_overflow = 1: embryonic_reset, "
    "tcp_v4_send_reset(), inet_csk_reqsk_queue_drop())",
    "fifth: the accept queue is full and tcp_abort_on_overflow is set: snd <SEQ=SEG.ACK><CTL=RST>, the request is "
    "dropped, the listener remains", stage="ack", when="abort-on-overflow", choice=True)
row("ack.synrcvd.bad", SR, SEG, "ACK and not ACK_NEW", "reply <SEQ=SEG.ACK><CTL=RST>", None, R + "3.10.7.4",
    "fifth: unacceptable ACK in SYN-RECEIVED: snd RST", stage="ack")
_new = ("SND.UNA := SEG.ACK",) + _WND + ("RTX := 0",)
row("ack.new", (ES, CW, F2), SEG, "ACK and ACK_NEW", _new, None, R + "3.10.7.4",
    "fifth: new acknowledgment: SND.UNA advances", stage="ack", next="text")
row("ack.dup", (ES, F1, F2, CW, CG, LA), SEG, "ACK and SEG.ACK == SND.UNA", _WND, None,
    R + "3.10.7.4; RFC 7323 2.3", "fifth: duplicate ACK: update the send window (scaled by the peer's shift)",
    stage="ack", next="text")
row("ack.old", (ES, F1, F2, CW, CG, LA), SEG, "ACK and SEG.ACK < SND.UNA and not ACK_NEVER_SENT", (), None,
    R + "3.10.7.4", "fifth: old duplicate ACK: ignored", stage="ack", next="text")
# RFC 9293 3.10.7.4 fifth (MAY-12, RFC 5961 5.2): with RFC 5961, an ACK below SND.UNA - MAX.SND.WND
# (the largest window the peer announced) is discarded and answered with an ACK. The table does
# not track MAX.SND.WND, so beyond SND.UNA - SND.WND either is allowed (a choice); Linux's tcp_ack() bounds the
# distance also by the bytes acknowledged (option ack-bytes-acked), so an ACK below everything
# acknowledged so far is always challenged there.
_5961 = "RFC 9293 3.10.7.4 (MAY-12); RFC 5961 5.2"
row("ack.old.challenge", (ES, F1, F2, CW, CG, LA), SEG,
    "ACK and SEG.ACK < SND.UNA and not ACK_NEVER_SENT and SND.WND < SND.UNA - SEG.ACK", ACK_NOW,
    None, _5961 + "; Linux tcp_ack() (tcp_send_challenge_ack())",
    "fifth: an ACK older than SND.UNA - MAX.SND.WND: snd ACK, drop. MAX.SND.WND, the largest window the peer "
    "announced, is not tracked: it is at least SND.WND, so an old ACK within SND.WND is never challenged and one "
    "beyond it may be (a choice beside ack.old)", stage="ack", when="challenge-ack", choice=True)
row("ack.old.never-sent", (ES, F1, F2, CW, CG, LA), SEG, "ACK and SEG.ACK < SND.UNA and ACK_NEVER_SENT", ACK_NOW,
    None, "Linux tcp_ack() (prior_snd_una - min(max_window, bytes_acked)); " + _5961,
    "fifth: an ACK below everything acknowledged so far (below ISS; for a passive open, ISS itself): snd "
    "(challenge) ACK, drop",
    stage="ack", when="challenge-ack")
row("ack.old.never-sent.limited", (ES, F1, F2, CW, CG, LA), SEG, "ACK and SEG.ACK < SND.UNA and ACK_NEVER_SENT", (),
    None, "RFC 5961 7; Linux tcp_send_challenge_ack() (net.ipv4.tcp_challenge_ack_limit)",
    "fifth: the same, the challenge ACK suppressed by the rate limit", stage="ack",
    when="challenge-ack and challenge-ack-ratelimit", choice=True, rate_limited=True)
row("ack.old.never-sent.plain", (ES, F1, F2, CW, CG, LA), SEG, "ACK and SEG.ACK < SND.UNA and ACK_NEVER_SENT", (),
    None, R + "3.10.7.4", "fifth: old duplicate ACK: ignored", stage="ack", next="text", when="not challenge-ack")
row("ack.unsent", (ES, F1, F2, CW, CG, LA), SEG, "ACK and ACK_UNSENT", ACK_NOW, None, R + "3.10.7.4",
    "fifth: ACK of data not yet sent: snd ACK, drop (Linux answers so in every state, ESTABLISHED included: "
    "tests/live scenario ack_of_unsent_data)", stage="ack")
row("ack.unsent.limited", (ES, F1, F2, CW, CG, LA), SEG, "ACK and ACK_UNSENT", (), None,
    "RFC 5961 7; Linux tcp_send_challenge_ack() (__tcp_oow_rate_limited(), net.ipv4.tcp_invalid_ratelimit)",
    "fifth: ACK of data not yet sent: the answering ACK suppressed by the rate limit (Linux sends at most one "
    "such ACK per socket per tcp_invalid_ratelimit, 500 ms)", stage="ack",
    when="challenge-ack and challenge-ack-ratelimit", choice=True, rate_limited=True)
row("ack.partial", (F1, CG, LA), SEG,
    "ACK and SND.UNA < SEG.ACK and (SEG.ACK < SND.NXT or (SEG.ACK == SND.NXT and not FIN.SENT))", _new, None,
    R + "3.10.7.4", "fifth: new acknowledgment, our FIN not yet acknowledged (or still queued behind data)",
    stage="ack", next="text")
_FIN_ACKED = "ACK and SND.UNA < SEG.ACK and SEG.ACK == SND.NXT and FIN.SENT"
row("ack.fin.finwait1", F1, SEG, _FIN_ACKED, _new, F2, R + "3.10.7.4",
    "fifth: our FIN is acknowledged: FIN-WAIT-2", stage="ack", next="text", figure5=True)
row("ack.fin.closing", CG, SEG, _FIN_ACKED, _new + ("restart 2MSL",), TW,
    R + "3.10.7.4", "fifth: our FIN is acknowledged: TIME-WAIT", stage="ack", next="text",
    when="not no-time-wait", figure5=True)
row("ack.fin.closing.notw", CG, SEG, _FIN_ACKED, ("delete TCB",), CL,
    "teaching variant (not TCP)", "no TIME-WAIT: CLOSED at once", stage="ack", when="no-time-wait")
row("ack.fin.lastack", LA, SEG, _FIN_ACKED, ("delete TCB",), CL,
    R + "3.10.7.4", "fifth: our FIN is acknowledged: delete the TCB", stage="ack", figure5=True)
row("ack.timewait", TW, SEG, "ACK", (), None, R + "3.10.7.4",
    "fifth: TIME-WAIT: only a retransmitted FIN is expected", stage="ack", next="text")

# seventh: segment text (the sixth step, URG, is not modelled)
_deliver = ("UNREAD := True", *rcv_to("SEG.END"))
_UNHOLD = ("HELD.START := 0", "HELD.END := 0", "HELD2.START := 0", "HELD2.END := 0")
# RFC 9293 3.10.7.4 first check: "Segments with higher beginning sequence numbers SHOULD be held
# for later processing (SHLD-31)"; 3.9 (RECEIVE) and 3.10.7.4 seventh: once the gap fills,
# RCV.NXT advances over all of it. One range is held (HELD.START..HELD.END, offsets from RCV.NXT).
_OOO_AT, _OOO_TO = "SEG.SEQ - RCV.NXT", "SEG.END - RCV.NXT"
_HOLDABLE = f"OUT_OF_ORDER and not SYN and not FIN and not ABORT_ON_DATA and {_OOO_TO} <= RCV.WND"
row("text.ooo", (ES, F1, F2), SEG, "OUT_OF_ORDER", ACK_NOW, None, R + "3.10.7.4; RFC 5681 4.2",
    "seventh: text beyond RCV.NXT is dropped and answered at once with an ACK of RCV.NXT (a duplicate "
    "ACK); any range already held stays", stage="text")
row("text.ooo.hold", (ES, F1, F2), SEG, _HOLDABLE + " and HELD.END == 0",
    (f"HELD.START := {_OOO_AT}", f"HELD.END := {_OOO_TO}", ACK_NOW), None,
    R + "3.10.7.4 (SHLD-31); RFC 5681 4.2; Linux tcp_data_queue_ofo()",
    "seventh: text beyond RCV.NXT within the window is held for later, and answered at once with an ACK of "
    "RCV.NXT (a duplicate ACK: the hole is not filled)", stage="text", choice=True)
row("text.ooo.merge", (ES, F1, F2), SEG,
    _HOLDABLE + f" and HELD.END > 0 and {_OOO_AT} <= HELD.END and HELD.START <= {_OOO_TO}"
    f" and (HELD2.END == 0 or {_OOO_TO} < HELD2.START)",
    (f"HELD.START := {_OOO_AT} if {_OOO_AT} < HELD.START else HELD.START",
     f"HELD.END := {_OOO_TO} if HELD.END < {_OOO_TO} else HELD.END", ACK_NOW), None,
    R + "3.10.7.4 (SHLD-31); RFC 5681 4.2; Linux tcp_data_queue_ofo()",
    "seventh: text beyond RCV.NXT that touches or overlaps the range already held joins it (one range "
    "is held: a second, disjoint one is dropped, text.ooo); snd ACK of RCV.NXT", stage="text", choice=True)
# A second range (RFC 9293 3.10.7.4 SHLD-31 lets a receiver hold any out-of-order text; Linux
# tcp_data_queue_ofo() keeps an rb-tree of ranges): beyond the first, with a gap between; a third, or
# one before the first, is dropped (text.ooo).
_LXOFO = R + "3.10.7.4 (SHLD-31); RFC 5681 4.2; Linux tcp_data_queue_ofo()"
row("text.ooo.hold2", (ES, F1, F2), SEG, _HOLDABLE + f" and HELD.END > 0 and HELD2.END == 0 and HELD.END < {_OOO_AT}",
    (f"HELD2.START := {_OOO_AT}", f"HELD2.END := {_OOO_TO}", ACK_NOW), None, _LXOFO,
    "seventh: text beyond the held range, with a gap between, is held as a second range; snd ACK of RCV.NXT",
    stage="text", choice=True)
row("text.ooo.merge2", (ES, F1, F2), SEG,
    _HOLDABLE + f" and HELD2.END > 0 and HELD.END < {_OOO_AT} and {_OOO_AT} <= HELD2.END and HELD2.START <= {_OOO_TO}",
    (f"HELD2.START := {_OOO_AT} if {_OOO_AT} < HELD2.START else HELD2.START",
     f"HELD2.END := {_OOO_TO} if HELD2.END < {_OOO_TO} else HELD2.END", ACK_NOW), None, _LXOFO,
    "seventh: text that touches or overlaps the second held range (not the first) joins it; snd ACK of RCV.NXT",
    stage="text", choice=True)
row("text.ooo.bridge", (ES, F1, F2), SEG,
    _HOLDABLE + f" and HELD2.END > 0 and {_OOO_AT} <= HELD.END and HELD2.START <= {_OOO_TO}",
    (f"HELD.START := {_OOO_AT} if {_OOO_AT} < HELD.START else HELD.START",
     f"HELD.END := {_OOO_TO} if HELD2.END < {_OOO_TO} else HELD2.END", "HELD2.START := 0", "HELD2.END := 0",
     ACK_NOW), None, _LXOFO,
    "seventh: text that fills the gap between the two held ranges joins them into one; snd ACK of RCV.NXT",
    stage="text", choice=True)
_INORDER = "NEWDATA and FITS and not FIN and not ABORT_ON_DATA"
row("text.data", (ES, F1, F2), SEG, _INORDER + " and HELD.END == 0",
    _deliver + (ACK_NOW,), None, R + "3.10.7.4", "seventh: deliver text, snd ACK", stage="text")
row("text.data.delayed", (ES, F1, F2), SEG, _INORDER + " and HELD.END == 0",
    _deliver + ("ACK.OWED := True",), None, "RFC 9293 3.8.6.3; RFC 1122 4.2.3.2",
    "seventh: deliver text, delay the ACK (never while out-of-order text is held: RFC 5681 4.2)",
    stage="text", when="delayed-ack", choice=True)
row("text.data.gap", (ES, F1, F2), SEG,
    _INORDER + " and HELD.END > 0 and SEG.SEQ == RCV.NXT and not SYN and SEG.DATA < HELD.START",
    ("UNREAD := True", "HELD.START := HELD.START - SEG.DATA", "HELD.END := HELD.END - SEG.DATA",
     "HELD2.START := HELD2.START - SEG.DATA if HELD2.END > 0 else 0",
     "HELD2.END := HELD2.END - SEG.DATA if HELD2.END > 0 else 0",
     *rcv_to("SEG.END"), ACK_NOW), None,
    R + "3.10.7.4; RFC 5681 4.2; Linux tcp_data_queue()",
    "seventh: deliver text that fills part of the gap before the held range, which stays held (its offsets "
    "move back by the text's length); snd ACK at once (RFC 5681 4.2: an ACK for a segment that fills part of a "
    "gap is not delayed)", stage="text")
row("text.data.gap.overlap", (ES, F1, F2), SEG,
    _INORDER + f" and HELD.END > 0 and (SEG.SEQ != RCV.NXT or SYN) and {_OOO_TO} < HELD.START",
    ("UNREAD := True", *rcv_to("SEG.END")) + _UNHOLD + (ACK_NOW,), None,
    R + "3.10.7.4 (the held range is not modelled here)",
    "seventh: text that overlaps data already received and fills part of the gap: delivered and ACKed, and "
    "the model forgets the held range (not modelled: keeping it, which needs the range shifted by SEG.END - "
    "RCV.NXT, an amount z3 cannot bound within the proofs' timeout; a stack that keeps it is judged a "
    "violation when the hole fills)", stage="text")
row("text.data.fill", (ES, F1, F2), SEG,
    _INORDER + f" and HELD.END > 0 and HELD.START <= {_OOO_TO} and {_OOO_TO} < HELD.END",
    ("UNREAD := True", *rcv_to("RCV.NXT + HELD.END"),
     "HELD.START := HELD2.START - HELD.END if HELD2.END > 0 else 0",
     "HELD.END := HELD2.END - HELD.END if HELD2.END > 0 else 0", "HELD2.START := 0", "HELD2.END := 0", ACK_NOW), None,
    R + "3.10.7.4; 3.9; RFC 5681 4.2; Linux tcp_data_queue(), tcp_ofo_queue()",
    "seventh: the text fills the gap: RCV.NXT advances over it and over everything held, and the ACK, sent "
    "at once, covers it all", stage="text")
row("text.data.fill.past2", (ES, F1, F2), SEG,
    _INORDER + f" and HELD2.END > 0 and HELD.END <= {_OOO_TO} and HELD2.START <= {_OOO_TO} and {_OOO_TO} < HELD2.END",
    ("UNREAD := True", *rcv_to("RCV.NXT + HELD2.END")) + _UNHOLD + (ACK_NOW,), None,
    R + "3.10.7.4; 3.9; RFC 5681 4.2; Linux tcp_data_queue(), tcp_ofo_queue()",
    "seventh: the text fills the first gap, the first held range and the second gap: RCV.NXT advances over the "
    "second held range too; snd ACK", stage="text")
row("text.data.fill.between", (ES, F1, F2), SEG,
    _INORDER + f" and HELD2.END > 0 and HELD.END <= {_OOO_TO} and {_OOO_TO} < HELD2.START",
    ("UNREAD := True", *rcv_to("SEG.END")) + _UNHOLD + (ACK_NOW,), None,
    R + "3.10.7.4 (the second held range is not modelled here)",
    "seventh: the text fills the first gap and the first held range and ends in the second gap: delivered and "
    "ACKed; the model forgets the second range (keeping it needs it shifted by SEG.END - RCV.NXT, as for "
    "text.data.gap.overlap; a stack that keeps it is judged a violation when that gap fills)", stage="text")
row("text.data.fill.past", (ES, F1, F2), SEG, _INORDER + f" and HELD.END > 0 and HELD.END <= {_OOO_TO}"
    f" and (HELD2.END == 0 or HELD2.END <= {_OOO_TO})",
    ("UNREAD := True", *rcv_to("SEG.END")) + _UNHOLD + (ACK_NOW,), None,
    R + "3.10.7.4; 3.9; RFC 5681 4.2; Linux tcp_data_queue(), tcp_ofo_queue()",
    "seventh: the text fills the gap and reaches past everything held (held text arrived again): RCV.NXT "
    "advances to its end and the ACK covers it", stage="text")
row("text.data-fin", (ES, F1, F2), SEG, "NEWDATA and FITS and FIN and not ABORT_ON_DATA", _deliver + _UNHOLD,
    None, R + "3.10.7.4; Linux tcp_fin()",
    "seventh: deliver text; the FIN's ACK covers it (the FIN ends the peer's data: anything held beyond "
    "it is discarded, as tcp_fin() purges the out-of-order queue)", stage="text", next="fin")
# Linux tcp_sequence() (since 6.17): text whose end lies past RCV.NXT + RCV.WND is taken only when the
# receive queue is empty (then tcp_data_queue() queues it whole), else dropped with a duplicate ACK.
_LXPAST = "Linux tcp_sequence() (SKB_DROP_REASON_TCP_INVALID_END_SEQUENCE), tcp_data_queue()"
row("text.past.whole", (ES, F1, F2), SEG, "NEWDATA and not FITS and not ABORT_ON_DATA and not UNREAD and not FIN",
    ("UNREAD := True", *rcv_to("SEG.END")) + _UNHOLD + (ACK_NOW,), None, _LXPAST,
    "seventh: text past the right window edge, nothing unread: accepted whole (it covers anything held)",
    stage="text", when="past-window-whole")
row("text.past.whole-fin", (ES, F1, F2), SEG, "NEWDATA and not FITS and not ABORT_ON_DATA and not UNREAD and FIN",
    ("UNREAD := True", *rcv_to("SEG.END")) + _UNHOLD, None, _LXPAST + "; tcp_fin()",
    "seventh: text and FIN past the right window edge, nothing unread: accepted whole; the FIN's ACK covers it",
    stage="text", next="fin", when="past-window-whole")
row("text.past.drop", (ES, F1, F2), SEG, "NEWDATA and not FITS and not ABORT_ON_DATA and UNREAD", ACK_NOW, None,
    _LXPAST + "; tcp_validate_incoming() (tcp_send_dupack())",
    "seventh: text past the right window edge while data waits unread: dropped whole, snd ACK of RCV.NXT",
    stage="text", when="past-window-whole")
row("text.trim", (ES, F1, F2), SEG, "NEWDATA and not FITS and not ABORT_ON_DATA",
    ("UNREAD := UNREAD or RCV.WND > 0", *rcv_to("RCV.NXT + RCV.WND")) + _UNHOLD + (ACK_NOW,), None,
    R + "3.10.7.4",
    "seventh: only the part within the window is accepted (and a FIN beyond it is not); it covers "
    "anything held", stage="text", when="not past-window-whole")
row("text.abort-on-data", (F1, F2), SEG, "NEWDATA and ABORT_ON_DATA",
    ("reply <SEQ=SEG.ACK><CTL=RST>", "delete TCB"), CL, "RFC 1122 4.2.2.13; Linux tcp_rcv_state_process()",
    "seventh: new data after close(): snd RST (LINUX_MIB_TCPABORTONDATA)", stage="text", when="rst-on-unread")
row("text.none", (ES, F1, F2), SEG, "not OUT_OF_ORDER and not NEWDATA and not LX_DUP_TEXT", (), None, R + "3.10.7.4",
    "seventh: no new text", stage="text", next="fin")
row("text.ignore", (CW, CG, LA, TW), SEG, "not LX_DUP_TEXT", (), None, R + "3.10.7.4",
    "seventh: the peer already sent FIN: ignore the text", stage="text", next="fin")
# Linux: a segment that ends at RCV.NXT passed tcp_sequence() (LX_DUP_END) and had its ACK processed;
# tcp_data_queue() finds it a duplicate (!after(end_seq, rcv_nxt)): D-SACK, quick-ack mode, the whole
# segment (a FIN on it too) dropped, an ACK at once. CLOSE-WAIT, CLOSING and LAST-ACK reach
# tcp_data_queue() for a segment starting below RCV.NXT (tcp_rcv_state_process() step 7 falls through).
_LXDUP = "Linux tcp_sequence(), tcp_validate_incoming(), tcp_data_queue() (out_of_window: tcp_dsack_set())"
row("text.dup.lx", (ES, F1, F2), SEG, "LX_DUP_TEXT", ACK_NOW, None, _LXDUP,
    "seventh: old text (or a FIN) ending at RCV.NXT: a duplicate, dropped, snd ACK (D-SACK) at once",
    stage="text", when="dup-end-acceptable")
row("text.dup.lx.closing", (CW, CG, LA), SEG, "LX_DUP_TEXT", ACK_NOW, None,
    _LXDUP + "; tcp_rcv_state_process() step 7 (seq before rcv_nxt falls through to tcp_data_queue())",
    "seventh: after the peer's FIN, a segment ending at RCV.NXT (its retransmitted FIN): a duplicate, dropped, "
    "snd ACK (D-SACK) at once; the state remains", stage="text", when="dup-end-acceptable")
row("text.dup.lx.tw", TW, SEG, "LX_DUP_TEXT", (), None,
    "Linux tcp_rcv_state_process() (TCP_CLOSING: tcp_time_wait(); goto consume)",
    "seventh: CLOSING took the ACK of its FIN from a segment ending at RCV.NXT (the peer's FIN retransmitted "
    "with that ACK) and became TIME-WAIT: the rest of the segment is not processed, nothing is sent (the peer's "
    "next retransmission meets the timewait socket, which ACKs it). A segment arriving in TIME-WAIT never gets "
    "here under linux: time-wait-minisock judges it first", stage="text", when="dup-end-acceptable")

# eighth: FIN
_fin = (*rcv_to("RCV.NXT + 1"), ACK_NOW) + _UNHOLD + ("signal eof",)
row("fin.none", (ES, F1, F2, CW, CG, LA, TW), SEG, "not FIN", (), None, R + "3.10.7.4", "eighth: no FIN",
    stage="fin")
row("fin.est", ES, SEG, "FIN", _fin, CW, R + "3.10.7.4", "eighth: rcv FIN / snd ACK: CLOSE-WAIT", stage="fin",
    figure5=True)
row("fin.est.delayed", ES, SEG, "FIN", (*rcv_to("RCV.NXT + 1"),) + _UNHOLD + ("ACK.OWED := True", "signal eof"), CW,
    "RFC 9293 3.8.6.3; RFC 1122 4.2.3.2",
    "eighth: rcv FIN, delay its ACK (it may ride on our own FIN: the three-segment close)", stage="fin",
    when="delayed-ack", choice=True)
row("fin.finwait1", F1, SEG, "FIN", _fin, CG, R + "3.10.7.4",
    "eighth: simultaneous close: rcv FIN / snd ACK: CLOSING", stage="fin", figure5=True)
row("fin.finwait2", F2, SEG, "FIN", _fin + ("restart 2MSL",), TW, R + "3.10.7.4",
    "eighth: rcv FIN / snd ACK: TIME-WAIT, start the 2 MSL timer", stage="fin", when="not no-time-wait",
    figure5=True)
row("fin.finwait2.notw", F2, SEG, "FIN", _fin + ("delete TCB",), CL, "teaching variant (not TCP)",
    "no TIME-WAIT: the last ACK is sent and the TCB deleted at once", stage="fin", when="no-time-wait")
row("fin.remain", (CW, CG, LA), SEG, "FIN and not LX_FIN_IGNORED", _fin, None, R + "3.10.7.4",
    "eighth: remain in this state (Linux too for a FIN on a segment starting below RCV.NXT: tcp_data_queue() "
    "queues its new part, tcp_fin() schedules the ACK)", stage="fin")
row("fin.timewait", TW, SEG, "FIN", _fin + ("restart 2MSL",), None, R + "3.10.7.4",
    "eighth: remain in TIME-WAIT, restart the 2 MSL timeout", stage="fin", when="not closing-fin-ignored")
# Linux: after the peer's FIN (RCV_SHUTDOWN), tcp_rcv_state_process() step 7 breaks out for a segment at or
# after RCV.NXT in CLOSE-WAIT, CLOSING and LAST-ACK: tcp_data_queue(), and so tcp_fin(), never sees it; no ACK
# is scheduled (a FIN ending at RCV.NXT, the retransmission, is text.dup.lx.closing's). TIME-WAIT is a timewait
# socket (time-wait-minisock: timewait.lx.other ACKs a FIN, RCV.NXT unchanged); reached here only from CLOSING
# whose FIN the segment acknowledged (tcp_time_wait(); goto consume).
_LXFINIGN = "Linux tcp_rcv_state_process() step 7 (CLOSE_WAIT, CLOSING, LAST_ACK: !before(seq, rcv_nxt): break)"
row("fin.remain.lx.ignored", (CW, CG, LA), SEG, "FIN and LX_FIN_IGNORED", (), None, _LXFINIGN + "; tcp_fin() not reached",
    "eighth: a FIN at or after RCV.NXT after the peer's FIN: dropped, nothing sent, RCV.NXT and the state remain "
    "(RFC 9293: RCV.NXT advances, snd ACK)", stage="fin", when="closing-fin-ignored")
row("fin.timewait.lx", TW, SEG, "FIN", (), None,
    "Linux tcp_rcv_state_process() (TCP_CLOSING: tcp_time_wait(); goto consume)",
    "eighth: CLOSING took the ACK of its FIN from this segment and became TIME-WAIT: the rest, a FIN included, "
    "is not processed, nothing is sent (the timewait socket ACKs the next one). Arriving in TIME-WAIT, a FIN never "
    "gets here under linux: time-wait-minisock judges it first", stage="fin", when="closing-fin-ignored")

# ============================================================ timeouts (3.10.8)
row("rto.syn", SS, "RTO", "RTX < SYN.GIVEUP", ("RTX := RTX + 1", "resend <SEQ=ISS><CTL=SYN>"), None,
    "RFC 9293 3.10.8; RFC 6298 5.5", "retransmit the SYN, doubling the timeout")
row("rto.syn.giveup", SS, "RTO", "not (RTX < SYN.GIVEUP)",
    ("delete TCB", "signal error: connection timed out"), CL, "RFC 9293 3.10.8; RFC 1122 4.2.3.5",
    "retries exhausted (R2): give up")
row("rto.synack", SR, "RTO", "RTX < SYNACK.RETRIES", ("RTX := RTX + 1", _resynack), None,
    "RFC 9293 3.10.8; RFC 6298 5.5", "retransmit the SYN,ACK")
row("rto.synack.giveup", SR, "RTO", "not (RTX < SYNACK.RETRIES)",
    ("delete TCB", "signal error: connection timed out"), CL, "RFC 9293 3.10.8; RFC 1122 4.2.3.5",
    "retries exhausted: give up", when="not listener-survives")
row("rto.synack.giveup.listen", SR, "RTO", "not (RTX < SYNACK.RETRIES) and PASSIVE",
    ("delete TCB", "RCV.WND := WINDOW", "PASSIVE := True"), LI, "Linux inet_csk_reqsk_queue_drop() (tcp_synack_retries)",
    "retries exhausted: the request is dropped silently, the listener remains", when="listener-survives")
row("rto.synack.giveup.active", SR, "RTO", "not (RTX < SYNACK.RETRIES) and not PASSIVE",
    ("delete TCB", "signal error: connection timed out"), CL, "RFC 9293 3.10.8", "retries exhausted: give up",
    when="listener-survives")
row("rto.data", (ES, CW, F1, CG, LA), "RTO", "not FIN.SENT and SND.UNA != SND.NXT and RTX < DATA.RETRIES",
    ("RTX := RTX + 1", "resend <SEQ=SND.UNA><ACK=RCV.NXT><CTL=ACK><LEN=SND.NXT - SND.UNA>"), None,
    "RFC 9293 3.10.8; RFC 6298 5.5",
    "retransmit the unacknowledged data (any FIN is still queued); the oracle accepts any part of it, "
    "repacketized (RFC 1122 4.2.2.15; Linux's tail loss probe resends the last segment)")
row("rto.fin", (F1, CG, LA), "RTO", "FIN.SENT and SND.UNA != SND.NXT and SND.UNA != ISS and RTX < DATA.RETRIES",
    ("RTX := RTX + 1", "resend <SEQ=SND.UNA><ACK=RCV.NXT><CTL=FIN,ACK><LEN=SND.NXT - SND.UNA - 1>"), None,
    "RFC 9293 3.10.8; RFC 6298 5.5", "retransmit the unacknowledged data and FIN")
row("rto.fin.synack", (F1, CG, LA), "RTO", "FIN.SENT and SND.UNA == ISS and RTX < DATA.RETRIES",
    ("RTX := RTX + 1", _resynack),
    None, "RFC 9293 3.10.8", "closed from SYN-RECEIVED: the SYN,ACK is still first in the queue")
row("rto.giveup", (ES, CW, F1, CG, LA), "RTO", "SND.UNA != SND.NXT and not (RTX < DATA.RETRIES)",
    ("delete TCB", "signal error: connection timed out"), CL, "RFC 9293 3.10.8; RFC 1122 4.2.3.5",
    "retries exhausted (R2): give up")
row("user-timeout", (SS, SR, ES, F1, CW, CG, LA), "USER-TIMEOUT", "USER.TIMEOUT.ON and SND.UNA != SND.NXT",
    ("delete TCB", "signal error: user timeout"), CL, "RFC 9293 3.10.8; RFC 5482; Linux tcp_write_timeout() "
    "(retransmits_timed_out() with icsk_user_timeout, 0: none)",
    "data unacknowledged for the user timeout: abort (a user timeout of 0 is none: Linux's default)",
    when="user-timeout")
row("2msl", TW, "2MSL", "True", ("delete TCB",), CL, "RFC 9293 3.10.8", "time-wait timeout: delete the TCB",
    figure5=True)
row("finwait2.timeout", F2, "FIN-WAIT-2", "ORPHAN", ("delete TCB",), CL,
    "Linux tcp_fin_timeout (net.ipv4.tcp_fin_timeout); RFC 9293 has no such timer",
    "an orphaned FIN-WAIT-2 is dropped silently", when="fin-wait-2-timeout")
row("keepalive", (ES, CW, F2), "KEEPALIVE", "SND.UNA == SND.NXT and SND.Q == 0 and PROBES < KA.PROBES",
    ("PROBES := PROBES + 1", "probe <SEQ=SND.NXT - 1><ACK=RCV.NXT><CTL=ACK>"), None,
    "RFC 9293 3.8.4; RFC 1122 4.2.3.6", "idle: snd a keep-alive probe (SEQ = SND.NXT - 1 elicits an ACK)",
    when="keepalive")
row("keepalive.giveup", (ES, CW, F2), "KEEPALIVE", "SND.UNA == SND.NXT and SND.Q == 0 and not (PROBES < KA.PROBES)",
    ("delete TCB", "signal error: connection timed out"), CL, "RFC 9293 3.8.4; RFC 1122 4.2.3.6",
    "no answer to the probes: the connection is dead", when="keepalive and not keepalive-rst")
row("keepalive.giveup.rst", (ES, CW, F2), "KEEPALIVE",
    "SND.UNA == SND.NXT and SND.Q == 0 and not (PROBES < KA.PROBES)",
    ("send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>", "delete TCB", "signal error: connection timed out"), CL,
    "Linux tcp_keepalive_timer() (tcp_send_active_reset)", "no answer to the probes: snd RST",
    when="keepalive and keepalive-rst")
row("persist", (ES, CW, F1, CG, LA), "PERSIST", "not FIN.SENT and SND.WND == 0",
    "probe <SEQ=SND.UNA - 1><ACK=RCV.NXT><CTL=ACK>", None, "RFC 9293 3.8.6.1 (MUST-36); RFC 1122 4.2.2.17",
    "zero window: probe it, backing off like the RTO (Linux tcp_probe_timer(), tcp_xmit_probe_skb() with "
    "SND.UNA - 1; a zero window is probed also while a FIN waits behind queued data)")

row("persist.data", (ES, CW, F1, CG, LA), "PERSIST", "not FIN.SENT and SND.WND == 0 and SND.UNA == SND.NXT and SND.Q > 0",
    ("send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK><LEN=1>", "SND.NXT := SND.NXT + 1", "SND.Q := SND.Q - 1"), None,
    "RFC 9293 3.8.6.1 (MUST-36: 'transmit at least one octet of new data (if available)'); RFC 1122 4.2.2.17; "
    "lwIP tcp_zero_window_probe()",
    "zero window, nothing outstanding: the probe carries the next queued octet (new data past the window, which "
    "the receiver may take or drop)", choice=True)
row("persist.resend", (ES, CW, F1, CG, LA), "PERSIST", "not FIN.SENT and SND.WND == 0 and SND.UNA != SND.NXT",
    "resend <SEQ=SND.UNA><ACK=RCV.NXT><CTL=ACK><LEN=1>", None,
    "RFC 9293 3.8.6.1 ('or retransmit to the receiving TCP peer even if the send window is zero'); "
    "lwIP tcp_zero_window_probe()",
    "zero window, data outstanding: the probe retransmits its first octet", choice=True)

# ============================================================ the window offered (3.8.6.2.2)
# The window a segment offers is the receiver's choice (RFC 9293 3.8.6: within its buffers), with
# one rule a trace can judge: the receiver's silly-window-syndrome avoidance (MUST-39). The oracle
# steps OFFER for each segment the IUT sends in a synchronized state; the checker's windows are
# constant and it never offers another.
_RWS = R + "3.8.6.2.2 (MUST-39)"
# A window that retracts the right edge below text held out of order (a shrinking window, which
# RFC 9293 3.8.6 says SHOULD NOT happen) leaves that text outside the window: the table forgets it
# (holding is SHLD-31's, not a promise; what was never acknowledged may be dropped). RCV.ADV
# becomes the window offered: the edge an opening is measured against is the last one offered.
_OFFER = ("HELD2.START := 0 if HELD2.END > SEG.WND else HELD2.START", "HELD2.END := 0 if HELD2.END > SEG.WND else HELD2.END",
          "HELD.START := 0 if HELD.END > SEG.WND else HELD.START", "HELD.END := 0 if HELD.END > SEG.WND else HELD.END",
          "RCV.WND := SEG.WND", "RCV.ADV := SEG.WND",
          "MAX.RCV.WND := SEG.WND if SEG.WND > MAX.RCV.WND else MAX.RCV.WND")
row("offer", SYNC, "OFFER", "SEG.WND <= MAXWIN and not RWS_MOVES", _OFFER, None,
    R + "3.8.6, 3.8.6.2.2; RFC 7323 2.3",
    "a window that leaves the right edge where the last offer put it (or moves it by less than one unit of "
    "the window scale), or closes it: the receiver's choice (a shrinking window, SHLD-14, is not judged)")
row("offer.open", SYNC, "OFFER", "SEG.WND <= MAXWIN and RWS_MOVES and RWS_OK", _OFFER, None, _RWS,
    "a window that moves the right edge: only to a window of at least min(a quarter of the largest window "
    "offered, the effective MSS), so that the peer is not invited to send small segments")

# ICMP errors about a segment this endpoint sent (RFC 9293 3.9.2.2; RFC 1122 4.2.3.9). Not sent by the
# checker's network (it explores no ICMP); the oracle reads them from captures (oracle/capture.py).
_ICMP = "RFC 9293 3.9.2.2"
_ALL = tuple(State)
_CONN = tuple(s for s in State if s not in (CL, LI))
_LXICMP = "Linux tcp_v4_err() (net/ipv4/tcp_ipv4.c)"
_ICMP_ABORT = ("delete TCB", "signal error: destination unreachable")
row("icmp", _ALL, "ICMP", "not ICMP_HARD", (), None,
    _ICMP + " (MUST-55: Source Quench silently discarded; MUST-56: a soft error, Destination Unreachable "
    "codes 0, 1, 5, Time Exceeded, Parameter Problem, does not abort); RFC 1122 4.2.3.9",
    "an ICMP error that is not hard: the connection goes on (the user may be told)", when="not icmp-establishment")
row("icmp.hard", _ALL, "ICMP", "ICMP_HARD", (), None,
    _ICMP + " (SHLD-26 is a SHOULD; RFC 5461 4: many stacks do not abort a synchronized connection)",
    "a hard error (Destination Unreachable, codes 2-4): the connection may go on", when="not icmp-establishment")
row("icmp.hard.abort", _CONN, "ICMP", "ICMP_HARD", _ICMP_ABORT, CL,
    _ICMP + " (SHLD-26: hard errors, Destination Unreachable codes 2-4, SHOULD abort the connection)",
    "a hard error: abort the connection", when="not icmp-establishment", choice=True)
row("icmp.lx.synsent", SS, "ICMP", "LX_ICMP_ERR and LX_ICMP_SEQ", _ICMP_ABORT, CL,
    _LXICMP + ": tcp_done_with_error(); RFC 5461 4 (soft errors treated as hard during establishment; RFC 9293 "
    "3.9.2.2 MUST-56 says a soft error does not abort)",
    "SYN-SENT: any error it acts on, quoting SND.UNA..SND.NXT, aborts the connection", when="icmp-establishment")
row("icmp.lx.synsent.ignore", SS, "ICMP", "not (LX_ICMP_ERR and LX_ICMP_SEQ)", (), None,
    _LXICMP + " (goto out: LINUX_MIB_OUTOFWINDOWICMPS for a quoted SEQ outside SND.UNA..SND.NXT; PMTU, quench)",
    "SYN-SENT: an ICMP it does not act on, or quoting a sequence number it did not send: ignored",
    when="icmp-establishment")
row("icmp.lx.request", SR, "ICMP", "PASSIVE and not TFO.CHILD and LX_ICMP_REQ",
    ("delete TCB", "RCV.WND := WINDOW", "PASSIVE := True"), LI,
    _LXICMP + " -> tcp_req_err(): inet_csk_reqsk_queue_drop(); RFC 5461 4",
    "a passive SYN-RECEIVED is a request socket: net/host unreachable, time exceeded or a parameter problem "
    "quoting its ISS drops it silently; the listener remains", when="icmp-establishment")
row("icmp.lx.request.ignore", SR, "ICMP", "PASSIVE and not TFO.CHILD and not LX_ICMP_REQ", (), None,
    _LXICMP + " -> tcp_req_err() (LINUX_MIB_OUTOFWINDOWICMPS when the quoted SEQ is not the ISS)",
    "a request socket keeps any other ICMP error", when="icmp-establishment")
row("icmp.lx.synrcvd", SR, "ICMP", "not PASSIVE and LX_ICMP_ERR and LX_ICMP_SEQ", _ICMP_ABORT, CL,
    _LXICMP + ": tcp_done_with_error(); RFC 5461 4",
    "a simultaneous open's SYN-RECEIVED (a full socket): aborted like SYN-SENT", when="icmp-establishment")
row("icmp.lx.tfo", SR, "ICMP", "PASSIVE and TFO.CHILD and LX_ICMP_ERR and LX_ICMP_SEQ", _ICMP_ABORT, CL,
    _LXICMP + ": tcp_done_with_error() for a Fast Open child not yet accepted; RFC 5461 4",
    "a Fast Open child the application has not accepted yet: aborted (accepted: it goes on; the table does not "
    "know which, so both are allowed)", when="icmp-establishment", choice=True)
row("icmp.lx.tfo.accepted", SR, "ICMP", "PASSIVE and TFO.CHILD and LX_ICMP_ERR and LX_ICMP_SEQ", (), None,
    _LXICMP + " ('If a fast open socket is already accepted it is treated as a connected one')",
    "a Fast Open child already accepted: the connection goes on", when="icmp-establishment")
row("icmp.lx.synrcvd.ignore", SR, "ICMP", "(not PASSIVE or TFO.CHILD) and not (LX_ICMP_ERR and LX_ICMP_SEQ)", (),
    None, _LXICMP + " (goto out: LINUX_MIB_OUTOFWINDOWICMPS, PMTU, quench)",
    "an ICMP it does not act on, or quoting a sequence number it did not send: ignored", when="icmp-establishment")
row("icmp.lx.connected", tuple(s for s in State if s not in (SS, SR)), "ICMP", "True", (), None,
    _LXICMP + " ('If we've already connected we will keep trying until we time out': the error is reported "
    "only as sk_err_soft, or with IP_RECVERR); RFC 9293 3.9.2.2 SHLD-26 not followed; RFC 5461 4",
    "a synchronized connection (or none) is never aborted by ICMP (the RTO revert of RFC 6069, "
    "tcp_ld_RTO_revert(), is not modelled)", when="icmp-establishment")

# OUTPUT: the stack sends what SEND queued (RFC 9293 3.7, 3.8.6, 3.10.2, 3.10.4)
row("output", (ES, CW, F1, CG, LA), "OUTPUT", "0 < N and N <= SND.Q and SIZE_OK and ROOM and not SWS_SILLY",
    ("send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK><LEN=N>", "SND.NXT := SND.NXT + N", "SND.Q := SND.Q - N"), None,
    R + "3.7.1; 3.8.6; 3.8.6.2.1 (MUST-38); 3.10.2",
    "send N queued bytes: at most the effective send MSS (MUST-15), never beyond SND.UNA + SND.WND, and not "
    "into a silly window (option sws-avoidance: more queued than the usable window, which holds neither a "
    "full segment nor half the largest window offered); where the stack cuts (Nagle, corking, the application's writes) is its choice")
row("output.override", (ES, CW, F1, CG, LA), "PERSIST",
    "not FIN.SENT and SND.UNA == SND.NXT and 0 < SND.WND and SND.WND < SND.Q and SWS_SILLY",
    ("send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK><LEN=SND.WND>", "SND.NXT := SND.NXT + SND.WND",
     "SND.Q := SND.Q - SND.WND"), None,
    R + "3.8.6.2.1 (MUST-38: (4) the override timeout); Linux tcp_probe_timer() -> tcp_write_wakeup()",
    "nothing outstanding and a window too small to send into (SWS_SILLY): the override timeout sends "
    "what the window takes, so a small window never deadlocks (timed as the first zero-window probe; the "
    "RFC's 0.1-1 s is not modelled apart)", when="sws-avoidance")
row("output.fin", (F1, CG, LA), "OUTPUT",
    "not FIN.SENT and N == SND.Q and (N == 0 or (SIZE_OK and ROOM)) and not LX_FIN_HELD_N",
    ("send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=FIN,ACK><LEN=N>", "SND.NXT := SND.NXT + N + 1", "SND.Q := 0",
     "FIN.SENT := True"), None, R + "3.10.4; Linux tcp_write_xmit(), tcp_snd_wnd_test() (fin-fits-window)",
    "the FIN a CLOSE queued follows the last byte: on the segment that carries it, or alone after it (Linux: only "
    "when the window takes the FIN too; until then the zero window is probed, persist)",
    choice=True)
row("delack", SYNC, "DELACK", "ACK.OWED", ACK_NOW, None, "RFC 9293 3.8.6.3; RFC 1122 4.2.3.2",
    "the delayed ACK timer fires", when="delayed-ack")

#: Sent-but-unacknowledged and queued data together stay below 2^30 (RFC 7323 2.3).
_QUEUED = "SND.NXT - SND.UNA <= MAXWIN and SND.Q <= MAXWIN and SND.NXT - SND.UNA + SND.Q <= MAXWIN"
#: After CLOSE: the FIN sent (nothing queued), or still queued behind data.
_CLOSING = (f"((FIN.SENT and 1 <= SND.NXT - SND.UNA and SND.NXT - SND.UNA <= MAXWIN + 1 and SND.Q == 0)"
            f" or (not FIN.SENT and {_QUEUED}))")
#: Out-of-order text held (RFC 9293 3.10.7.4): one range after RCV.NXT, inside the window; only
#: the states that still take text hold one (the peer's FIN, and so CLOSE-WAIT, CLOSING, LAST-ACK
#: and TIME-WAIT, come after all its text).
_HELD = ("((HELD.START == 0 and HELD.END == 0 and HELD2.START == 0 and HELD2.END == 0) or (0 < HELD.START"
         " and HELD.START < HELD.END and HELD.END <= RCV.WND and ((HELD2.START == 0 and HELD2.END == 0) or"
         " (HELD.END < HELD2.START and HELD2.START < HELD2.END and HELD2.END <= RCV.WND))))")
_NONE_HELD = "HELD.START == 0 and HELD.END == 0 and HELD2.START == 0 and HELD2.END == 0"
#: What holds of the TCB in each state; `synack prove` shows every row preserves it.
INVARIANTS: dict[State, str] = {
    # a deleted TCB's retry counters are 0 (every row into CLOSED or LISTEN deletes the TCB)
    CL: "SND.Q == 0 and not FIN.SENT and not ORPHAN and RCV.WND <= MAXWIN and RTX == 0 and PROBES == 0 and "
        + _NONE_HELD,
    LI: "SND.Q == 0 and not FIN.SENT and not ORPHAN and RCV.WND <= MAXWIN and RTX == 0 and PROBES == 0 and "
        + _NONE_HELD,
    # SND.NXT - ISS - 1 is data sent on the SYN (TFO, RFC 7413), RCV.NXT - IRS - 1 data accepted on it
    SS: "SND.UNA == ISS and SND.NXT - ISS - 1 <= 65535 and SND.Q <= MAXWIN - 1"
        " and SND.Q + (SND.NXT - ISS - 1) <= MAXWIN - 1 and not FIN.SENT and not ORPHAN and RCV.WND <= MAXWIN"
        " and " + _NONE_HELD,
    SR: "SND.UNA == ISS and SND.NXT - ISS - 1 <= MAXWIN - 1 and SND.Q <= MAXWIN - 1"
        " and SND.Q + (SND.NXT - ISS - 1) <= MAXWIN - 1 and RCV.NXT - IRS - 1 <= 65535 and not FIN.SENT"
        " and not ORPHAN and RCV.WND <= MAXWIN and " + _NONE_HELD,
    ES: _QUEUED + " and not FIN.SENT and not ORPHAN and RCV.WND <= MAXWIN and " + _HELD,
    CW: _QUEUED + " and not FIN.SENT and not ORPHAN and RCV.WND <= MAXWIN and " + _NONE_HELD,
    F1: _CLOSING + " and RCV.WND <= MAXWIN and " + _HELD,
    CG: _CLOSING + " and RCV.WND <= MAXWIN and " + _NONE_HELD,
    LA: _CLOSING + " and RCV.WND <= MAXWIN and " + _NONE_HELD,
    F2: "FIN.SENT and SND.UNA == SND.NXT and SND.Q == 0 and RCV.WND <= MAXWIN and " + _HELD,
    TW: "FIN.SENT and SND.UNA == SND.NXT and SND.Q == 0 and RCV.WND <= MAXWIN and " + _NONE_HELD,
}

#: The entry stage of segment processing is the first stage with rows for the state.
TABLE: tuple[Row, ...] = tuple(ROWS)
del ROWS
