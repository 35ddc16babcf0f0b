"""Values the table talks about: states, segments, endpoints (TCBs), events and results.

Everything here is an immutable tuple so that `step` is a pure function whose inputs and
outputs can be hashed, interned and compared by the checker and the oracle.
"""
from __future__ import annotations

from enum import Enum
from typing import NamedTuple

MOD = 1 << 32
MASK = MOD - 1
HALF = 1 << 31
#: RFC 7323 section 2.3: a window never exceeds 2^30 bytes, so neither can the data a
#: sender has outstanding. The table's SEND guards keep SND.NXT - SND.UNA within it.
MAXWIN = 1 << 30
#: The largest payload one SEND call or one segment may carry in this model (IPv4 total
#: length bounds a segment's payload below 2^16).
MAXDATA = 65535


class State(str, Enum):
    """The eleven connection states of RFC 9293 section 3.3.2, spelled as the RFC spells them."""

    CLOSED = "CLOSED"
    LISTEN = "LISTEN"
    SYN_SENT = "SYN-SENT"
    SYN_RECEIVED = "SYN-RECEIVED"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT_1 = "FIN-WAIT-1"
    FIN_WAIT_2 = "FIN-WAIT-2"
    CLOSE_WAIT = "CLOSE-WAIT"
    CLOSING = "CLOSING"
    LAST_ACK = "LAST-ACK"
    TIME_WAIT = "TIME-WAIT"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, name: str) -> "State":
        """Accept RFC spelling (`SYN-RECEIVED`) and the common variants (`SYN_RCVD`, `syn_recv`)."""
        key = str(name).strip().upper().replace("_", "-")
        key = {"SYN-RCVD": "SYN-RECEIVED", "SYN-RECV": "SYN-RECEIVED", "FIN-WAIT1": "FIN-WAIT-1",
               "FIN-WAIT2": "FIN-WAIT-2", "CLOSE": "CLOSED"}.get(key, key)
        for s in cls:
            if s.value == key:
                return s
        raise SpecError(f"unknown state {name!r}; expected one of: {', '.join(s.value for s in cls)}")


STATES: tuple[State, ...] = tuple(State)
#: RFC 9293 section 3.3.2 calls these the synchronized states (a TCB exists and both ISNs are known).
SYNCHRONIZED: frozenset[State] = frozenset(STATES[3:])

# TCP header flag bits (RFC 9293 section 3.1).
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
FLAG_BITS = (("SYN", SYN), ("FIN", FIN), ("RST", RST), ("PSH", PSH), ("ACK", ACK))


class SpecError(ValueError):
    """Bad input to the spec: an unknown profile, state, event or malformed segment."""


def flags_str(flags: int) -> str:
    return ",".join(n for n, b in FLAG_BITS if flags & b) or "-"


def parse_flags(text: str) -> int:
    bits = 0
    for part in str(text).replace("|", ",").replace("+", ",").split(","):
        part = part.strip().upper()
        if not part or part == "-":
            continue
        match = dict(FLAG_BITS).get(part)
        if match is None:
            raise SpecError(f"unknown TCP flag {part!r} in {text!r}; use SYN, ACK, FIN, RST, PSH")
        bits |= match
    return bits


#: RFC 7323 2.3: a window scale shift above 14 is taken as 14.
MAX_WSCALE = 14
#: Segment.tfo: the TCP Fast Open option (RFC 7413 4.1) absent, a cookie request, a cookie.
TFO_NONE, TFO_REQUEST, TFO_COOKIE = 0, 1, 2


class Segment(NamedTuple):
    """A TCP segment as connection management sees it: flags, SEQ, ACK, payload length, window,
    and the two SYN options the data path needs: `mss` is the MSS option's value (RFC 9293
    3.7.1; 0 when the segment carries none) and `ws` the window scale option's shift plus one
    (RFC 7323 2.2; 0 when it carries none); `tfo` the TCP Fast Open cookie option (RFC 7413
    4.1: 0 none, 1 a cookie request (the option empty), 2 a cookie). Other options
    (SACK-permitted, timestamps) are not carried: no rule reads them. The option fields default
    to "none", so a segment built without them means what it meant before they existed."""

    flags: int
    seq: int
    ack: int = 0
    data: int = 0
    wnd: int = 0
    mss: int = 0
    ws: int = 0
    tfo: int = 0
    #: 1 when the segment arrived with a TSval older (RFC 7323 5.3, mod 2^32) than the newest its
    #: sender's earlier segments of the connection carried (the oracle computes it from the
    #: timestamps it reads; the checker's endpoints never set it): RFC 7323 5.3 R1's PAWS test as far
    #: as a trace shows it (TS.Recent itself, R3, is not observable)
    ots: int = 0

    @property
    def length(self) -> int:
        """SEG.LEN: payload plus one for SYN and one for FIN (RFC 9293 section 3.4)."""
        return self.data + (1 if self.flags & SYN else 0) + (1 if self.flags & FIN else 0)

    def __str__(self) -> str:
        s = f"<SEQ={self.seq}>"
        if self.flags & ACK:
            s += f"<ACK={self.ack}>"
        s += f"<CTL={flags_str(self.flags)}>"
        if self.data:
            s += f"<LEN={self.data}>"
        return s

    @classmethod
    def make(cls, flags: "int | str", seq: int, ack: int = 0, data: int = 0, wnd: int = 0, mss: int = 0,
             ws: int = 0, tfo: int = 0, ots: int = 0) -> "Segment":
        """Build a validated segment; flags may be given as text like ``"SYN,ACK"``."""
        if isinstance(flags, str):
            flags = parse_flags(flags)
        for name, v, hi in (("seq", seq, MASK), ("ack", ack, MASK), ("data", data, MAXDATA),
                            ("wnd", wnd, MASK), ("flags", flags, 0xFF), ("mss", mss, 0xFFFF),
                            ("ws", ws, MAX_WSCALE + 1), ("tfo", tfo, TFO_COOKIE), ("ots", ots, 1)):
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= hi:
                raise SpecError(f"segment field {name}={v!r} is out of range 0..{hi}")
        return cls(flags, seq, ack if flags & ACK else 0, data, wnd, mss, ws, tfo, ots)

    @classmethod
    def with_options(cls, flags: int, seq: int, ack: int, data: int, wnd: int, mss: "int | None",
                     wscale: "int | None", tfo: int = 0) -> "Segment":
        """A segment read from a trace or capture, with its MSS, window scale and TCP Fast Open
        options as read (None, 0: absent), carried only on a SYN (RFC 9293 3.7.1, RFC 7323 2.2,
        RFC 7413 4.1: elsewhere they are ignored)."""
        if not flags & SYN:
            return cls(flags, seq, ack, data, wnd)
        return cls(flags, seq, ack, data, wnd, mss or 0,
                   0 if wscale is None else min(wscale, MAX_WSCALE) + 1, tfo)


class Endpoint(NamedTuple):
    """One endpoint's TCB (RFC 9293 section 3.3.1) plus the bookkeeping the table needs.

    `passive` remembers a passive OPEN (SYN-RECEIVED returns to LISTEN only then);
    `orphan` is set by close() (no more receives; Linux's FIN-WAIT-2 timer and RST on
    unread data read it); `unread` says data was delivered that the user has not read yet (RECEIVE
    reads everything, and no rule depends on how much, so a flag keeps equal futures equal);
    `snd_q` counts bytes queued by SEND before the connection is established;
    `ack_owed` is a delayed acknowledgment. `snd_q` counts bytes SEND queued that have not
    been sent yet (RFC 9293 3.7: the stack sends them, when the window and MSS allow, by the
    OUTPUT event); a CLOSE with bytes queued enters FIN-WAIT-1 or LAST-ACK with `fin_sent`
    still False, and the FIN follows the last byte (3.10.4). `snd_mss` is the effective send
    MSS (the peer's MSS option, else the profile's MSS.DEFAULT, 3.7.1) and `snd_ws` the shift
    applied to the peer's windows (its window scale option, RFC 7323 2.3).
    `held_start` and `held_end` are the one range of out-of-order text held for later (RFC 9293
    3.10.7.4 SHLD-31), as offsets from RCV.NXT: the octets RCV.NXT + held_start up to
    RCV.NXT + held_end - 1, with 0 < held_start < held_end <= RCV.WND; both 0 when nothing is
    held. Offsets rather than sequence numbers keep the range's invariant free of modular
    arithmetic, and they move only when RCV.NXT does. `tfo_child` marks a passive connection
    created by TCP Fast Open (RFC 7413 4.2.2: a SYN with a valid cookie, with or without data),
    which may send before the handshake's final ACK.
    Timers are not stored: a timer is armed exactly when some timeout row's guard holds.
    """

    state: State = State.CLOSED
    iss: int = 0
    irs: int = 0
    snd_una: int = 0
    snd_nxt: int = 0
    snd_wnd: int = 0
    rcv_nxt: int = 0
    rcv_wnd: int = 0
    rtx: int = 0
    probes: int = 0
    unread: bool = False
    snd_q: int = 0
    passive: bool = False
    orphan: bool = False
    fin_sent: bool = False
    ack_owed: bool = False
    snd_mss: int = 0
    snd_ws: int = 0
    held_start: int = 0
    held_end: int = 0
    tfo_child: bool = False
    #: a second held range, after the first with a gap between (RCV.NXT + held2_start up to
    #: RCV.NXT + held2_end - 1, held_end < held2_start < held2_end <= RCV.WND); both 0: none
    held2_start: int = 0
    held2_end: int = 0
    #: the largest window the peer has offered (RFC 9293 3.8.6.2.1: Max(SND.WND), the sender's
    #: silly-window-syndrome avoidance measures the usable window against half of it)
    max_snd_wnd: int = 0
    #: the largest window this endpoint has offered (RFC 9293 3.8.6.2.2: the receiver's
    #: silly-window-syndrome avoidance measures an opening window against a fraction of its buffer,
    #: of which the largest window offered is the part a trace shows); 0: none offered yet
    max_rcv_wnd: int = 0
    #: the window still offered: the right edge this endpoint last offered (RCV.NXT + RCV.WND when
    #: it offered it) less RCV.NXT now, at least 0; an opening is measured against it (RFC 9293
    #: 3.8.6.2.2). RCV.WND itself slides with RCV.NXT (the sequence check reads it so).
    rcv_adv: int = 0

    def __str__(self) -> str:
        if self.state in (State.CLOSED, State.LISTEN):
            return str(self.state)
        held = f" HELD=RCV.NXT+{self.held_start}..{self.held_end}" if self.held_end else ""
        held += f",{self.held2_start}..{self.held2_end}" if self.held2_end else ""
        return (f"{self.state} ISS={self.iss} IRS={self.irs} SND.UNA={self.snd_una} "
                f"SND.NXT={self.snd_nxt} RCV.NXT={self.rcv_nxt}{held}")


#: Event kinds. User calls (RFC 9293 section 3.10.1-3.10.5; SHUTDOWN is the RFC's CLOSE,
#: CLOSE is the sockets API's close(): the RFC CLOSE plus "no more receives").
CALLS = ("LISTEN", "CONNECT", "SEND", "RECEIVE", "SHUTDOWN", "CLOSE", "ABORT")
#: Timer expiries (RFC 9293 section 3.10.8, 3.8.4, 3.8.6.1; FIN-WAIT-2 and DELACK are implementation timers),
#: and OUTPUT: the stack sends queued data (RFC 9293 3.7, 3.8.6). Like a timer's expiry, when it
#: happens is the stack's; its `n` is the payload of the segment it sends, a choice of the stack
#: (any split that respects the MSS and the window: RFC 9293 3.7.1, 3.8.6; Nagle, corking and
#: offloads move the cuts).
OUTPUT = "OUTPUT"
TIMERS = ("RTO", "2MSL", "FIN-WAIT-2", "KEEPALIVE", "PERSIST", "DELACK", "USER-TIMEOUT", OUTPUT)
SEGMENT = "SEGMENT"
#: The stack choosing the window a segment it sends offers (RFC 9293 3.8.6.2.2, the receiver's
#: silly-window-syndrome avoidance; 3.10.7.4: the window is the receiver's to set). Its `seg`
#: carries the window (SEG.WND, scaled) and its `n` the shift that scales it (RFC 7323 2.3: the
#: window is offered in units of 2^n). Not a timer and not explored by the checker (its windows
#: are constant); the oracle steps it for each segment the IUT sends (oracle/monitor.py).
OFFER = "OFFER"
#: Event kinds that are the stack's own choice (a timer's expiry, OUTPUT, the window it offers):
#: where no row's guard holds the stack may not do it, so their rows need not cover every case
#: (a user call, an arriving segment or an ICMP error must always be handled).
CHOICES = TIMERS + (OFFER,)
#: An ICMP error about a segment the endpoint sent (RFC 9293 3.9.2.2, RFC 1122 4.2.3.9): its `seg`
#: is the quoted TCP header (SEG.SEQ: the quoted sequence number), its `n` is 256 * type + code.
ICMP = "ICMP"
EVENT_KINDS = CALLS + TIMERS + (SEGMENT, ICMP, OFFER)


class Event(NamedTuple):
    """A user call, a segment arrival or a timer expiry.

    `isn` is the nondeterministic choice of an initial sequence number for events that
    may select one (CONNECT, a SYN arriving in LISTEN); `n` is the byte count of a SEND.
    """

    kind: str
    seg: Segment | None = None
    isn: int = 0
    n: int = 0

    def __str__(self) -> str:
        if self.kind == SEGMENT:
            return f"rcv {self.seg}"
        if self.kind == OUTPUT:
            return f"output({self.n})"
        if self.kind == OFFER:
            return f"offer window {self.seg.wnd if self.seg else 0}" + (f" (scale {self.n})" if self.n else "")
        if self.kind == ICMP:
            return f"rcv ICMP type {self.n >> 8} code {self.n & 255} quoting seq={self.seg.seq if self.seg else 0}"
        if self.kind in TIMERS:
            return f"timeout {self.kind}"
        return self.kind + (f"({self.n})" if self.kind == "SEND" else "")


def call(kind: str, *, isn: int = 0, n: int = 0) -> Event:
    kind = str(kind).upper()
    if kind not in CALLS:
        raise SpecError(f"unknown user call {kind!r}; expected one of: {', '.join(CALLS)}")
    if not 0 <= isn <= MASK:
        raise SpecError(f"ISN {isn!r} is not a 32-bit sequence number")
    if kind == "SEND" and not 1 <= n <= MAXDATA:
        raise SpecError(f"SEND needs 1..{MAXDATA} bytes, got n={n!r}")
    return Event(kind, None, isn, n)


def arrive(seg: Segment, *, isn: int = 0) -> Event:
    if not isinstance(seg, Segment):
        raise SpecError(f"a segment arrival needs a Segment, got {seg!r}")
    seg = Segment.make(*seg)
    return Event(SEGMENT, seg, isn, 0)


def timeout(kind: str) -> Event:
    kind = str(kind).upper()
    if kind not in TIMERS:
        raise SpecError(f"unknown timer {kind!r}; expected one of: {', '.join(TIMERS)}")
    return Event(kind)


def icmp(type_: int, code: int, seq: int) -> Event:
    """An ICMP error (`type_`, `code`: RFC 792) quoting a TCP header whose sequence number is `seq`."""
    if not (0 <= type_ <= 255 and 0 <= code <= 255):
        raise SpecError(f"ICMP type and code are 0..255, got {type_!r}, {code!r}")
    if not 0 <= seq <= MASK:
        raise SpecError(f"quoted SEQ {seq!r} is not a 32-bit sequence number")
    return Event(ICMP, Segment(0, seq, 0, 0, 0), 0, type_ << 8 | code)


def output(n: int) -> Event:
    """The stack sends a segment of `n` bytes of queued data (0: a FIN queued behind the data)."""
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAXDATA:
        raise SpecError(f"OUTPUT needs 0..{MAXDATA} bytes, got n={n!r}")
    return Event(OUTPUT, None, 0, n)


def offer(wnd: int, shift: int = 0) -> Event:
    """The stack offers window `wnd` (scaled) on a segment it sends; `shift` is the window scale
    it announced (RFC 7323 2.3), so `wnd` is a multiple of 2^shift."""
    for name, v, hi in (("wnd", wnd, MAXWIN), ("shift", shift, MAX_WSCALE)):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= hi:
            raise SpecError(f"OFFER needs {name} in 0..{hi}, got {v!r}")
    return Event(OFFER, Segment(ACK, 0, 0, 0, wnd), 0, shift)


class Transition(NamedTuple):
    """One result of `step`: the endpoint after the event, what it sent and told its user,
    and the ids of the table rows that produced it (one per processing stage)."""

    endpoint: Endpoint
    sends: tuple[Segment, ...]
    signals: tuple[str, ...]
    rows: tuple[str, ...]
