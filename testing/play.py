"""Play a planned run against a stack, as its peer and the network, and judge it with the oracle.

The kit holds one state of the checker's system in which side `iut` stands for the stack.
Moves of the peer, the peer's user and the network are made in the model (the peer is the
table); a segment the model delivers to the IUT becomes an IPv4 datagram handed to the
driver; the IUT's user calls become driver calls; the IUT's timers become waiting. After
each step that involves the IUT the kit collects what the stack sent, feeds everything to
the oracle's `Monitor` (with `calls_logged=True`: the kit made every call), and compares
the stack's segments with the model's. When they differ, the kit does not give up: it asks
the monitor which TCBs the stack could now have, puts one of them (with the segments the
stack really sent in flight) into the system state, and plans again from there towards the
row (`Planner.plan`). A violation ends the run with the oracle's report.

Sequence numbers: the peer's space is the model's moved by `peer_shift` (the kit chooses
it); the IUT's space is the model's moved by `delta`, learned from the IUT's SYN (or
SYN,ACK): real = model + delta on every field of the IUT's space.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from synack.oracle import CallEvent, Monitor, SegmentEvent
from synack.oracle.monitor import _soft
from synack.oracle.observation import NEAR, observation_param
from synack.spec.frames import shift_endpoint, shift_received, shift_sent
from synack.spec.model import ACK, FIN, PSH, SYN, Segment, State
from synack.spec.profiles import Profile, timer_seconds

from .driver import Driver, DriverError, Unsupported
from .packets import Addr, build, parse
from .plan import Planner

#: Outcomes of one row's run.
CONFORMANT, DEVIATED, INCONCLUSIVE, NOT_DRIVABLE, NOT_REACHED = (
    "conformant", "deviated", "inconclusive", "not-drivable", "not-reached")
STATUSES = (CONFORMANT, DEVIATED, INCONCLUSIVE, NOT_DRIVABLE, NOT_REACHED)
MASK = (1 << 32) - 1


class NotDrivable(Exception):
    """The driver cannot make the IUT do what the run needs (the message says what and why)."""


@dataclass
class RowResult:
    """What happened to one row: `status` is one of STATUSES; `report` the oracle's report
    for a deviation; `reason` why a row was not drivable, not reached or inconclusive."""
    row: str
    status: str
    reason: str = ""
    report: str = ""
    rfc: str = ""
    scenario: str = ""
    iut: str = ""
    replans: int = 0
    seconds: float = 0.0
    trace: list = field(default_factory=list)
    cited: list = field(default_factory=list)     # the rows a deviation's report names (the oracle's)
    learned: dict = field(default_factory=dict)   # parameter -> {"value", "why"}: what the oracle learned

    def to_json(self) -> dict:
        return {"row": self.row, "status": self.status, "reason": self.reason, "report": self.report, "rfc": self.rfc,
                "cited": self.cited, "learned": self.learned,
                "scenario": self.scenario, "iut": self.iut, "replans": self.replans,
                "seconds": round(self.seconds, 3), "trace": self.trace}


def _key(seg: Segment) -> tuple:
    return (seg.flags & ~PSH, seg.seq, seg.ack if seg.flags & ACK else 0, seg.data)


#: The sockets-API op each model call maps to.
CALL_OPS = {"LISTEN": "listen", "CONNECT": "connect", "SEND": "send", "RECEIVE": "recv", "SHUTDOWN": "shutdown",
            "CLOSE": "close", "ABORT": "abort"}


class RunPlayer:
    """One run of one row against one driver. `ports` = (IUT port, peer port), fresh per run
    so that leftovers of earlier runs (TIME-WAIT) never meet this one."""

    def __init__(self, driver: Driver, planner: Planner, profile: Profile, row: str, ports: tuple[int, int], *,
                 iut_ip: str = "10.0.0.2", peer_ip: str = "10.0.0.1", peer_shift: int = 0,
                 max_real_wait: float = 5.0, max_replans: int = 3, mss: int = 1460, deadline: float = 60.0,
                 probe: "tuple | None" = None, size: "int | None" = None, delay: float = 0.0,
                 learn: tuple = (), wider=None):
        self.d, self.pl, self.sys = driver, planner, planner.system
        self.prof, self.row = profile, row
        self.x = planner.iut
        self.iut_port, self.peer_port = ports
        self.to_iut = Addr(peer_ip, self.peer_port, iut_ip, self.iut_port)
        self.peer_shift = peer_shift & MASK
        self.delta: int | None = None
        self.max_real_wait, self.max_replans, self.mss = max_real_wait, max_replans, mss
        # the kit is the network: it sees every segment at the IUT's link, so the IUT is judged
        # as a near end (oracle/observation.py), where every segment the spec owes has a deadline
        # `learn`: the parameters the stack's configuration does not give, which the oracle learns
        # within their legal range (Monitor's `learn`, oracle/judge.py `learnable`) instead of
        # taking the profile's default for a fact about the stack
        self.mon = Monitor(profile, calls_logged=True, role=f"IUT {iut_ip}:{self.iut_port}", vantage=NEAR,
                           vantage_note=f"{NEAR} (the test kit is the IUT's network: it sees every segment at "
                                        "the IUT's link)", learn=learn)
        # `wider(retries)`: a planner of the same scenario and side whose retry limits are capped
        # at `retries`, for a stack that retransmits past this planner's cap (`_replan`)
        self.wider = wider
        self.widened = -1                        # the retry cap of the model re-planned in (-1: none)
        # how long the last obligation may stay open: an owed (delayed) ACK, delack_max plus the lag
        self.deadline = float(profile.params["delack_max"]) + observation_param("lag")
        self.events: list = []
        self.lsock: int | None = None
        self.sock: int | None = None
        self.gone = False                       # the user closed its connection's handle
        self.move_rows: set[str] = set()      # rows some explanation used since the current move began
        self.why = ""
        self.replans = 0
        self.real = driver.clock == "real"
        self.stop_at = time.monotonic() + deadline
        self.ip_id = 0
        self.probe = probe
        self.final = None                        # the verdict taken at the end of the run
        # variations: the byte count of the IUT user's SENDs (None: the run's own), and a pause
        # before each segment the kit delivers (seconds on the stack's clock)
        self.size, self.delay = size, max(0.0, float(delay))

    # ------------------------------------------------------------------ the oracle
    def _feed(self, ev) -> None:
        self.events.append(ev)
        self.mon.feed(ev)
        if self.mon.done is None:
            for rows in self.mon.cands.values():
                self.move_rows.update(rows.split(","))

    @property
    def violated(self) -> bool:
        return self.mon.done is not None and not self.mon.done.ok and self.mon.done.status == "violation"

    # ------------------------------------------------------------------ sequence spaces
    def _real_in(self, seg: Segment) -> Segment:
        """A model segment the peer sends, in real numbers."""
        return shift_received(seg, self.delta or 0, self.peer_shift)

    def _model_out(self, seg: Segment) -> Segment:
        return shift_sent(seg, -(self.delta or 0) & MASK, -self.peer_shift & MASK)

    # ------------------------------------------------------------------ the stack
    def _now(self) -> float:
        return self.d.advance(0)

    def _deliver(self, seg: Segment) -> None:
        real = self._real_in(seg)
        win = min(real.wnd, 0xFFFF)
        # what the datagram carries: the window field, and on a SYN the MSS option only
        real = Segment.with_options(real.flags, real.seq, real.ack, real.data, win, self.mss, None)
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        # stamped the moment before the driver call: the stack cannot have seen it earlier, and
        # what it sends in answer carries its own (later) time (docs/driver-protocol.md, t_ms)
        t = self._now()
        self.d.deliver(build(self.to_iut, real, mss=self.mss, ip_id=self.ip_id))
        self._feed(SegmentEvent("in", real, t, win=win, mss=self.mss if real.flags & SYN else None))

    def _observe(self, want: int, wait: float, model_iss: int | None) -> list[Segment]:
        """Collect what the stack sends on this connection: until `want` segments came or
        `wait` seconds passed (on the stack's clock), then whatever else is ready. Each is
        fed to the monitor; returned in the model's numbers."""
        got: list[Segment] = []
        waited = 0.0
        step = 0.005 if self.real else max(0.01, wait / 100) if wait > 0 else 0.0
        first = True
        while True:
            for t, ip in self.d.collect():
                p = parse(ip)
                if p is None or p.addr.sport != self.iut_port or p.addr.dport != self.peer_port:
                    continue
                seg = p.seg
                if seg.flags & SYN and model_iss is not None:
                    self.delta = (seg.seq - model_iss) & MASK
                self._feed(SegmentEvent("out", seg, t, win=p.win, wscale=p.wscale, mss=p.mss))
                got.append(self._model_out(seg))
                if self.violated:
                    return got
            if len(got) >= want and not first:
                return got
            first = False
            if waited >= wait or time.monotonic() > self.stop_at:
                return got
            adv = step if len(got) < want else 0.0
            if self.real and adv:
                time.sleep(adv)
            self.d.advance(0 if self.real else adv)
            waited += adv if adv else step or 1.0

    def _accept(self) -> None:
        if self.sock is None and self.lsock is not None:
            try:
                s = self.d.accept(self.lsock)
            except Unsupported as e:
                raise NotDrivable(f"the driver cannot accept ({e})") from None
            except DriverError:
                s = None
            if s is not None:
                # the listener stays open, as an application's does: the linux profile's
                # TIME-WAIT reopen (timewait.reopen) is Linux handing a new SYN to it
                self.sock = s

    def _close_listener_if_closed(self, s: tuple) -> None:
        """Before a segment reaches the port: when the model's IUT is CLOSED it has no listener
        (the table's passive connection ends in CLOSED, and so does an environment segment's
        target), while the application's listening socket outlives the connection and would
        answer a SYN with SYN,ACK (Linux tcp_v4_rcv() finds it). Close it, so that the port is
        CLOSED as in the model; a new incarnation starts from the user's LISTEN, which opens a
        listener again."""
        if self.lsock is not None and self.sys.st[s[self.x]] == "CLOSED":
            try:
                self.d.close(self.lsock)
            except DriverError:
                pass
            self.lsock = None

    def _drop_handles(self) -> None:
        """Close the sockets of a connection the model has ended (CLOSED), before a new OPEN."""
        for h in (self.sock, self.lsock):
            if h is not None:
                try:
                    self.d.close(h)
                except DriverError:
                    pass
        self.sock = self.lsock = None
        self.gone = False

    def _call(self, name: str, n: int) -> None:
        """Make the IUT's user call through the driver and log it for the monitor."""
        d, result = self.d, "ok"
        self._accept()
        t = self._now()                            # the moment before the call, as for a delivery
        try:
            if name in ("LISTEN", "CONNECT"):
                if self.sys.st[self._s[self.x]] != "CLOSED" or self.sock is not None and name == "LISTEN":
                    raise NotDrivable(f"{name} by a user whose socket is in use: the sockets API opens a new "
                                      "socket, not the RFC's OPEN on the same connection")
                if self.sock is not None or self.lsock is not None:
                    self._drop_handles()
            if name == "LISTEN":
                self.lsock = d.listen(self.iut_port)
            elif name == "CONNECT":
                self.sock, sport = d.connect(self.peer_port, self.iut_port)
                if sport != self.iut_port:
                    raise NotDrivable(f"the driver bound port {sport}, not the {self.iut_port} the kit asked for")
            else:
                if self.gone:
                    raise NotDrivable(f"{name} after the user's close() or abort(): the sockets API has no "
                                      "handle left on the connection")
                if self.sock is None:
                    if name == "CLOSE" and self.lsock is not None and self.sys.st[self._state()[self.x]] == "LISTEN":
                        d.close(self.lsock)
                        self.lsock = None
                    else:
                        raise NotDrivable(f"{name} on a connection the sockets API has no handle on yet "
                                          "(not accepted)")
                elif name == "SEND":
                    try:
                        got = d.send(self.sock, n)
                    except DriverError as e:
                        if e.errno not in ("EAGAIN", "EWOULDBLOCK"):
                            raise
                        raise NotDrivable(f"the stack would block this SEND ({e.errno} on a non-blocking socket): "
                                          "its sockets API does not queue data here, where RFC 9293 3.10.2 "
                                          "queues it") from None
                    if got != n:
                        raise NotDrivable(f"the stack took {got} of the {n} bytes of this SEND")
                elif name == "RECEIVE":
                    # the sockets API says "connection closing" (RFC 9293 3.10.3) by returning 0: EOF
                    try:
                        got, eof = d.recv(self.sock)
                        if eof and not got:
                            result = "error: connection closing (end of file)"
                    except DriverError as e:
                        if e.errno not in ("EAGAIN", "EWOULDBLOCK"):
                            raise
                        result = None     # nothing to read yet: the call would wait (RFC 9293 3.10.3)
                else:
                    getattr(d, CALL_OPS[name])(self.sock)
                    if name in ("CLOSE", "ABORT"):
                        # close() (and SO_LINGER 0 + close()) releases the descriptor and reports
                        # nothing about the connection: its result is not the RFC's answer
                        self.sock, self.gone, result = None, True, None
        except Unsupported as e:
            raise NotDrivable(f"the driver lacks {CALL_OPS[name]!r} ({e})") from None
        except DriverError as e:
            result = f"error: {e.errno}"
        self._feed(CallEvent(name, n, result, t))

    # ------------------------------------------------------------------ the run
    def _state(self) -> tuple:
        return self._s

    def play(self, path: list) -> str:
        """Execute the plan to the row, re-planning on divergence; then let the run settle
        (the peer acknowledges what is outstanding, so that the stack owes nothing when the
        verdict is taken). Returns CONFORMANT, DEVIATED, INCONCLUSIVE or NOT_REACHED, with
        `self.why` saying why for the last two (NotDrivable propagates)."""
        self._s = path[0][0]
        self.why = ""
        if not self._follow(path, self.row):
            return DEVIATED if self.violated else NOT_REACHED
        if self.probe is not None:
            self._close_listener_if_closed(self._s)
            for part in self._probe_parts(self.probe):
                if not self._follow(self._probe_move(part), None):
                    if self.violated:
                        return DEVIATED
                    break
        settle = self.pl.settle(self._s, self.gone) if not self.pl.quiet(self._s) else []
        if settle:
            self._follow(settle, None)
        if self.violated:
            return DEVIATED
        self._observe(0, 0.05 if self.real else 0.0, None)     # what the stack sends at once after the row
        if self.violated:
            return DEVIATED
        if any(c.due is not None for c in self.mon.cands):
            # something is owed (an ACK, a reply): the run goes on past its deadline, and the
            # verdict is taken at that time, so a segment never sent is a violation (near end)
            self._observe(1, self.deadline + (0.05 if self.real else 0.001), None)
            if self.violated:
                return DEVIATED
        v = self.final = self.mon.verdict(end=self._now())
        if v.status == "violation":                 # an owed segment that never came, past its deadline
            return DEVIATED
        if not v.ok:
            self.why = v.message
        return CONFORMANT if v.ok else INCONCLUSIVE

    def _probe_parts(self, probe: tuple) -> list[tuple]:
        """The environment segment as the segments that carry it: its bytes in pieces of at most
        the MSS (more than one segment when it holds more), each SEQ following the last, the
        FIN (if any) on the last one only. SEQ offsets stay relative to RCV.NXT as it was
        before the first piece (`_probe_move`'s `base`)."""
        flags, dseq, dack, data = probe
        if data <= self.mss:
            return [probe]
        sizes = [self.mss] * (data // self.mss) + ([data % self.mss] if data % self.mss else [])
        parts, off = [], 0
        for i, n in enumerate(sizes):
            last = i == len(sizes) - 1
            parts.append((flags if last else flags & ~FIN, dseq + off, dack, n, off > 0))
            off += n
        return parts

    def _probe_move(self, probe: tuple) -> list:
        """One environment segment after the row, as a move: `probe` = (flags, SEQ offset, ACK
        offset, payload bytes), offsets from the IUT's RCV.NXT and SND.NXT (from the peer's
        SND.NXT while the IUT has no RCV.NXT yet). What the IUT does with it is judged like
        everything else; the kit then settles from whatever state the stack shows."""
        flags, dseq, dack, data = probe[:4]
        x, s, sysm = self.x, self._s, self.sys
        e, peer = sysm.eps[s[x]], sysm.eps[s[1 - x]]
        base = e.rcv_nxt if e.state not in (State.CLOSED, State.LISTEN, State.SYN_SENT) else peer.snd_nxt
        if len(probe) > 4 and probe[4]:
            base = self._probe_base                 # a later piece: offsets from the first one's base
        self._probe_base = base
        seg = Segment(flags, (base + dseq) & MASK, (e.snd_nxt + dack) & MASK if flags & ACK else 0, data,
                      int(self.prof.params["WINDOW"]))
        res = sysm.results(s[x], "SEGMENT", sysm.intern_seg(seg), s[7])[0]
        child = sysm._apply(s, x, ("deliver", x, -1, 0, res), res, s[3 - x], 0, seg)[1]
        return [(s, ("inject", x, seg, 0, res), child)]

    def _follow(self, path: list, row: "str | None") -> bool:
        """Play `path`; True once the stack has taken `row` (for row None: once the path is
        played, re-planned towards a quiet state on divergence)."""
        while path and not self.violated:
            if time.monotonic() > self.stop_at:
                self.why = "the run took longer than the kit allows"
                return False
            s, lab, child = path.pop(0)
            kind, side = lab[0], lab[1]
            if kind in ("lose", "dup") or side != self.x:
                self._s = child                     # the model's own move: the peer, its user, the network
                continue
            hit = row is not None and row in self.pl.uses_of(lab)
            self.move_rows = set()
            expect = [self.sys.segs[v] for v in lab[4].sends]
            iut_after = self.sys.eps[child[self.x]]
            iss = iut_after.iss if iut_after.state not in (State.CLOSED, State.LISTEN) else None
            if kind in ("deliver", "inject"):
                seg = self.sys.segs[self.sys.tsegs[s[3 - self.x][lab[2]]][0]] if kind == "deliver" else lab[2]
                early = self._pause(self.delay, iss) if self.delay else []
                if self.violated:
                    return False
                self._close_listener_if_closed(s)
                self._deliver(seg)
                self._accept()
                got = early + self._observe(len(expect), self._reply_wait(len(expect)), iss)
            elif kind == "call":
                self._call(lab[2], (self.size or self._n_of(lab)) if lab[2] == "SEND" else 0)
                got = self._observe(len(expect), self._reply_wait(len(expect)), iss)
            else:
                got = self._wait_timer(lab[2], self.sys.eps[s[self.x]], len(expect), iss)
                if expect and not got and not self.violated:
                    # silence where the model's timer sends: the stack's timer may run longer than
                    # the profile's default (a default is not a fact about the stack): wait on,
                    # before taking the silence for a give-up, as long as any RTO may last
                    # (rto_max, RFC 6298 2.5), at most `max_real_wait` on a real clock
                    tol = 1 + float(self.prof.params["tolerance"])
                    got = self._observe(len(expect), self.max_real_wait if self.real else
                                        float(self.prof.params["rto_max"]) * tol, iss)
            self._accept()
            if self.violated:
                return False
            matched = [_key(g) for g in got] == [_key(e) for e in expect]
            if matched:
                self._s = child
            if hit and (matched or row in self.move_rows):
                if not matched:
                    states = self._synced(s, child, got)
                    if not states:
                        self.why = "the stack took the row, but the kit cannot follow the state it reached"
                        return True
                    self._s = states[0]
                return True
            if matched:
                continue
            # a timer that should have retransmitted (or probed) and brought nothing: the stack
            # may have given up there (a retry limit below the model's)
            nxt = self._replan(s, child, got, row, stopped=kind == "timer" and bool(expect) and not got)
            if nxt is None:
                self.why = (f"at {_move_text(lab)} the run expected the stack to send "
                            f"{', '.join(map(str, expect)) or 'nothing'} and it sent "
                            f"{', '.join(map(str, got)) or 'nothing'} (model numbers); no run from there "
                            + ("reaches the row" if row else "settles") + f" within {self.replans} re-plans")
                return False
            self._s, path = nxt
        if row is not None and not self.violated:
            self.why = self.why or "the plan ended without the stack taking the row"
            return False
        return not self.violated

    def _pause(self, seconds: float, iss) -> list[Segment]:
        """Let `seconds` pass before the kit's next segment (a variation's timing): what the
        stack sends meanwhile (a delayed ACK coming due, say) is judged and returned."""
        if self.real:
            time.sleep(seconds)
            return self._observe(0, 0.0, iss)
        self.d.advance(seconds)
        return self._observe(0, 0.0, iss)

    def _n_of(self, lab: tuple) -> int:
        """The byte count of a SEND move (the user's script holds it)."""
        for name, n, _ in self.sys.user_moves(self.x, self._s[4 + self.x], self._s[5 - self.x]):
            if name == lab[2]:
                return n
        return 1                                     # an extra call of the planner's menu

    def _reply_wait(self, want: int) -> float:
        if self.real:
            return 0.3 if want else 0.03
        return 0.0

    def _wait_timer(self, kind: str, ep, want: int, iss) -> list[Segment]:
        k = ep.rtx if kind == "RTO" else ep.probes if kind == "KEEPALIVE" else 0
        secs = timer_seconds(self.prof, _timer_kind(kind, ep), k)
        if secs is None:                                   # DELACK, PERSIST: the stack's own choice
            secs = 0.5 if kind == "DELACK" else timer_seconds(self.prof, "RTO", 0)
        limit = secs * (1 + float(self.prof.params["tolerance"])) + (0.3 if self.real else 0.0)
        if self.real and limit > self.max_real_wait:
            raise NotDrivable(f"needs the IUT's {kind} timer ({secs:g} s on profile {self.prof.label()}) on a real "
                              f"clock, longer than the kit waits ({self.max_real_wait:g} s), with no option the "
                              "driver offers to shorten it")
        if not self.real and want:
            return self._observe(want, limit, iss)
        if not want:
            # a timer that sends nothing: let it run its course
            if self.real:
                time.sleep(limit)
            else:
                self.d.advance(limit)
            if kind in ("RTO", "KEEPALIVE"):
                # the model gives up here; the stack's timer may run longer than the profile's
                # default and retransmit yet: watch on as long as any RTO may last (rto_max, RFC
                # 6298 2.5), at most `max_real_wait` in all on a real clock, so that a give-up is
                # not concluded (nor a retry limit learned) from a stack that was only slower
                more = max(0.0, self.max_real_wait - limit) if self.real else float(self.prof.params["rto_max"]) * (
                    1 + float(self.prof.params["tolerance"]))
                return self._observe(1, more, iss)
            return self._observe(0, 0.0, iss)
        return self._observe(want, limit, iss)

    def _synced(self, s: tuple, child: tuple, got: list[Segment]) -> list[tuple]:
        """System states consistent with what the stack did: each TCB the monitor still
        allows (those owing only pure ACKs, which are never required), in the model's
        numbers, with the segments the stack really sent in flight."""
        x, sysm = self.x, self.sys
        out = []
        for c in list(self.mon.cands)[:8]:
            if any(not _soft(w) for w, _ in c.owed):
                continue
            ep = c.ep
            if ep.state not in (State.CLOSED, State.LISTEN):
                if self.delta is None:
                    continue
                ep = shift_endpoint(ep, -self.delta & MASK, -self.peer_shift & MASK)
            st = list(child)
            st[x] = sysm.intern_ep(ep)
            chan = s[2 + x]
            for g in got:
                grown = sysm._add(chan, sysm.intern_tseg(sysm.intern_seg(g), child[8 + x]))
                chan = chan if grown is None else grown
            st[2 + x] = chan
            out.append(tuple(st))
        return out

    def _replan(self, s: tuple, child: tuple, got: list[Segment], row: "str | None", stopped: bool = False):
        """(state, plan) from the synchronised state that has the shortest plan to `row` (or
        to a quiet state), or None."""
        if self.replans >= self.max_replans:
            return None
        self.replans += 1
        states = self._synced(s, child, got)
        if not states and not self.violated:
            # every TCB the monitor allows still owes a segment the stack has not sent: wait for
            # it (late, or sent again by a timer) as long as a first retransmission may take
            iut = self.sys.eps[child[self.x]]
            iss = iut.iss if iut.state not in (State.CLOSED, State.LISTEN) else None
            wait = timer_seconds(self.prof, _timer_kind("RTO", iut), 0) * (1 + float(self.prof.params["tolerance"])) + 0.3
            late = self._observe(1, min(wait, self.max_real_wait) if self.real else wait, iss)
            if late and not self.violated:
                got = got + late
                states = self._synced(s, child, got)
        other = self._recap(states, row, stopped)
        return other if other is not None else self._best(states, row)

    def _recap(self, states: list, row: "str | None", stopped: bool):
        """Re-plan in a model with other retry caps (`wider`), the states carried over, when the
        stack's retries do not fit this planner's cap: it retransmitted (or probed) up to the cap
        and on, where the capped model gives up (and would cost a re-plan per retransmission
        more, until the run has none left): a model capped at the profile's own limits; or a
        timer brought nothing (`stopped`) after fewer retransmissions than the model's limits:
        a model capped at the count the stack stopped at (whether stopping there is allowed is
        the oracle's to judge). None when neither applies (or no plan there)."""
        cap = self.sys.cfg.retries
        done = max((max(self.sys.eps[st[self.x]].rtx, self.sys.eps[st[self.x]].probes) for st in states), default=-1)
        if stopped and 1 <= done < cap:
            # (after one retransmission at least: the stack's timer has shown its pace, so
            # silence at the next expiry is a give-up; silence at the first may be a timer
            # longer than the profile's, lwIP's and ns-3's 3 s initial RTO among them)
            to = done
        else:
            to = min(MAX_RETRIES, max(int(self.prof.params[k]) for k in RETRY_LIMITS))
            if stopped or to <= cap or done < cap:
                return None
        if self.wider is None:
            return None
        pl = self.wider(to)
        moved = [_translate(st, self.sys, pl.system) for st in states]
        best = _best_plan(pl, moved, row, self.gone)
        if best is not None:
            self.pl, self.sys = pl, pl.system
            self.widened = to
        return best

    def _best(self, states: list, row: "str | None"):
        return _best_plan(self.pl, states, row, self.gone)


def _best_plan(pl: Planner, states: list, row: "str | None", gone: bool):
    """(state, plan) with the shortest plan from one of `states` to `row` (row None: to a quiet
    state) in planner `pl`, or None."""
    best = None
    for st in states:
        p = (pl.plan(st, row, gone) if row is not None else [] if pl.quiet(st) else pl.settle(st, gone))
        if p is not None and (best is None or len(p) < len(best[1])):
            best = (st, p)
    return best


#: The profile's retry limits (`Planner` caps each at its `retries`), and the checker's largest cap.
RETRY_LIMITS = ("SYN.GIVEUP", "SYNACK.RETRIES", "DATA.RETRIES", "KA.PROBES")
MAX_RETRIES = 15


def _translate(s: tuple, a, b) -> tuple:
    """System state `s` of System `a` as a state of System `b` (the same scenario, other caps):
    the endpoints and the segments in flight interned in `b`, everything else as it is."""
    st = list(s)
    st[0], st[1] = b.intern_ep(a.eps[s[0]]), b.intern_ep(a.eps[s[1]])
    for i in (2, 3):
        chan = tuple(b.intern_tseg(b.intern_seg(a.segs[a.tsegs[t][0]]), a.tsegs[t][1]) for t in s[i])
        st[i] = chan if b.cfg.fifo else tuple(sorted(chan))
    return tuple(st)


def _timer_kind(kind: str, ep) -> str:
    """The duration a timer of the model's `kind` runs for `ep`: an active open's SYN backs off
    by its own schedule (timer_seconds 'RTO-SYN': rto_initial for the first SYN.LINEAR expiries,
    Linux tcp_syn_linear_timeouts; the oracle's `_rto_kind` reads it the same way), every other
    retransmission by the RTO."""
    return "RTO-SYN" if kind == "RTO" and ep.state is State.SYN_SENT else kind


def _move_text(lab: tuple) -> str:
    kind = lab[0]
    if kind == "call":
        return f"the user's {lab[2]}"
    if kind == "timer":
        return f"the {lab[2]} timer"
    if kind == "inject":
        return f"the environment segment {lab[2]}"
    return f"the {kind} of a segment"
