"""The table compiled to one Python function per dispatch key: a faster backend for `step`.

`Machine._run` interprets a profile's compiled rows: per (state, event kind, stage) it calls
every row's guard function, then each matching row's action function, and folds the rows'
frame bits (spec/frames.py) one by one. On real traffic most of the oracle's time on a step
that misses its memo goes there (a segment's arrival runs four to five stages of up to 15
rows; bench/oracle_bench.py --kernel 2000 makes about a million such steps). This module
generates, from the same parsed rows (`Machine.parsed`; the vocabulary's semantics as
`vocab.py` gives them; no TCP rule written here), one function per key that evaluates every
guard inline (what they read bound to locals once, shared subexpressions computed once),
applies the matching rows' actions inline in table order (TCBs, segments and transitions
built with `tuple.__new__`), passes the endpoint on unchanged through rows that do nothing,
carries on to each row's next stage, and ANDs precomputed frame masks, so an arrival costs
a handful of Python calls instead of dozens. `Machine._run` stays as the reference; tests/spec/test_machine_fused.py checks
on random endpoints and events that both give the same transitions and the same bits.
"""
from __future__ import annotations

from collections import Counter
from typing import Callable

from .model import CHOICES, FIN, MASK, RST, SYN, Endpoint, Segment, Transition
from .vocab import NAMES, TCB_FIELDS, Expr, py_name, py_node

#: `Machine.step_framed` bits (spec/machine.py defines them; repeated to avoid an import cycle).
FREE, BLIND, PEER = 1, 2, 4
ALL = FREE | BLIND | PEER


def row_mask(rid: str, free_rows: frozenset, blind_rows: frozenset, peer_rows: frozenset) -> int:
    """What applying row `rid` leaves of the bits (as `Machine._run` folds them)."""
    m = ALL
    if rid not in free_rows:
        m &= PEER
    elif rid not in blind_rows:
        m &= FREE | PEER
    if rid not in peer_rows:
        m &= ~PEER
    return m


def compile_key(m, key: tuple, go: Callable) -> Callable:
    """The function `f(e, s, x, sends, sigs, rows, out) -> bits` that does what
    `Machine._run(e, x, stage, sends, sigs, rows, out)` does for `key` = (state, kind, stage):
    appends the transitions to `out` and returns the frame bits. `go(key, e, s, x, sends, sigs,
    rows, out)` runs the next stage `key`."""
    state, kind, stage = key
    rows = m.table.get(key, ())
    params = dict(m.profile.params)
    ns: dict = {"_T": Transition, "_E": Endpoint, "_S": Segment, "_new": tuple.__new__, "_go": go,
                "_Unspecified": _unspecified(m, stage)}
    lines = ["def _k(e, s, x, sends, sigs, rows, out):"]
    if not rows:
        if kind in CHOICES and not stage:
            lines.append(f"    return {ALL}")
        else:
            lines.append("    raise _Unspecified(e, x)")
        exec("\n".join(lines) + "\n", ns)  # noqa: S102 - generated from the table's own vocabulary
        return ns["_k"]
    free, free_rows = m.frame_free[key]
    peer, peer_rows = m.frame_peer[key]
    blind, blind_rows = m.isn_blind[key]
    start = (FREE if free else 0) | (BLIND if blind else 0) | (PEER if peer else 0)
    em = _Emitter(params)
    guards = [em.plan(m.parsed[c.row.id][0]) for c in rows]
    srcs = [em.src(g) for g in guards]
    body = [f"    g{i} = {g}" for i, g in enumerate(srcs)]
    body.append("    if not (" + " or ".join(f"g{i}" for i in range(len(rows))) + "):")
    if kind in CHOICES and not stage:
        body.append(f"        return {ALL}")          # the timer is not armed in this state
    else:
        body.append("        raise _Unspecified(e, x)")
    body.append(f"    bits = {start}")
    for i, c in enumerate(rows):
        rid = c.row.id
        mask = row_mask(rid, free_rows, blind_rows, peer_rows)
        body.append(f"    if g{i}:")
        if mask != ALL:
            body.append(f"        bits &= {mask}")
        # a row without actions that stays in its state passes the endpoint on as it is
        # (its compiled action would rebuild an equal one)
        if not m.parsed[rid][1] and c.row.to is None:
            e2, more = "e", ("sends", "sigs")
        else:
            snd, sg = em.actions(m.parsed[rid][1], c.row.to, body, ns)
            e2 = "e2"
            more = (f"sends + {snd}" if snd != "()" else "sends", f"sigs + {sg}" if sg != "()" else "sigs")
        if c.next is not None:
            # the state after the row is known here: its next stage's key is too
            ns[f"k{i}"] = (c.row.to if c.row.to is not None else state, kind, c.next)
            body.append(f"        bits &= _go(k{i}, {e2}, s, x, {more[0]}, {more[1]}, rows + ({rid!r},), out)")
        else:
            body.append(f"        out.append(_new(_T, ({e2}, {more[0]}, {more[1]}, rows + ({rid!r},))))")
    lines += em.prelude() + body
    lines.append(f"    return bits if bits & {FREE} else bits & {PEER}")
    exec("\n".join(lines) + "\n", ns)  # noqa: S102 - generated from the table's own vocabulary
    return ns["_k"]


def _unspecified(m, stage: str) -> Callable:
    from .machine import Unspecified

    def raise_(e, x):
        raise Unspecified(e.state, x, stage, m.profile.label())
    return raise_


class _Emitter:
    """Python source for a key's guards (the vocabulary's semantics, as `vocab.py` gives them:
    sequence comparisons modulo 2^32, counts unsigned), with the fields they read bound to
    locals once and every subexpression that occurs more than once computed once (the
    table's macros repeat, e.g. RFC 9293 3.10.7.4's acceptability test in three rows of a
    stage). Hoisting is sound: every subexpression is integer arithmetic on locals, with no
    side effect and no exception, so evaluating it eagerly changes nothing."""

    def __init__(self, params: dict):
        self.params = params
        self.count: Counter = Counter()
        self.names: dict[Expr, str] = {}
        self.body: list[str] = []
        self.used: set[str] = set()
        self.acting = False             # emitting actions: TCB names are the running values

    def plan(self, e: Expr) -> Expr:
        """Count `e`'s subexpressions (call for every guard before `src`)."""
        self._count(e)
        return e

    def _count(self, e: Expr) -> None:
        kind = e.node[0]
        if kind in ("name", "const"):
            return
        self.count[e] += 1
        if self.count[e] > 1:
            return                      # its parts are counted once per distinct use
        for part in e.node[1:]:
            if isinstance(part, Expr):
                self._count(part)
            elif isinstance(part, tuple):
                for q in part:
                    self._count(q)

    def prelude(self) -> list[str]:
        """The locals the guards read, then the shared subexpressions in dependency order. The
        event's segment is unpacked only when some guard or action reads it (an event that
        carries none has rows that read none; one that did would fail here as it fails in
        `Machine._run`, reading a field of None)."""
        out = []
        if self.used & {"f", "sq", "sa", "sd", "sw", "smss", "sws", "stfo", "sots"}:
            out.append("    f, sq, sa, sd, sw, smss, sws, stfo, sots = s")
        if "slen" in self.used:
            out.append(f"    slen = sd + (f & {SYN} != 0) + (f & {FIN} != 0)")
        if "send" in self.used:
            out.append(f"    send = (sq + (f & {SYN} != 0) + sd) & {MASK}")
        return out + self.body

    def src(self, e: Expr) -> str:
        if self.acting:
            return self._src(e)          # values change from one action to the next: no sharing
        got = self.names.get(e)
        if got is not None:
            return got
        text = self._src(e)
        if e.node[0] not in ("name", "const") and self.count[e] > 1:
            name = f"c{len(self.names)}"
            self.names[e] = name
            self.body.append(f"    {name} = {text}")
            return name
        return text

    def _src(self, e: Expr) -> str:
        return py_node(e, self.src, self._name)

    def _name(self, name: str) -> str:
        """A name's source: the segment's fields from the locals the prelude unpacks; the rest
        as the interpreter reads them (TCB fields from the running values while acting)."""
        where = NAMES[name][1]
        if where[0] == "seg":
            local = {"seq": "sq", "ack": "sa", "data": "sd", "wnd": "sw", "mss": "smss", "ws": "sws",
                     "tfo": "stfo", "ots": "sots"}[where[1]]
            self.used.add(local)
            return local
        if where[0] == "flag":
            self.used.add("f")
            return f"(f & {where[1]} != 0)"
        if where[0] == "derived":
            self.used.update(("f", "slen" if where[1] == "len" else "send"))
            return "slen" if where[1] == "len" else "send"
        return py_name(name, self.params, self.acting)

    def actions(self, actions: tuple, to, body: list, ns: dict) -> tuple[str, str]:
        """Append to `body` the source of a row's actions (`vocab.compile_actions`' semantics:
        in order, each seeing the values the previous ones left; a sent segment carries RCV.WND
        as its window, 0 on a RST, and one with an ACK field settles a delayed ACK; `delete TCB`
        zeroes the TCB), leaving the endpoint after them in `e2`; returns the sources of the
        segments sent and the signals, as tuples."""
        self.acting = True
        fields = TCB_FIELDS[1:]
        body.append("        (_st, " + ", ".join(f"v_{f}" for f in fields) + ",) = e")
        sends, sigs = [], []
        for a in actions:
            op = a.op
            if op[0] == "set":
                body.append(f"        v_{NAMES[op[1]][1][1]} = {self.src(op[2])}")
            elif op[0] == "send":
                flags, seq, ack, ln = op[1:]
                n = f"w{len(sends)}"
                body.append(f"        {n} = _new(_S, ({flags}, {self.src(seq)}, "
                            f"{self.src(ack) if ack is not None else '0'}, {self.src(ln) if ln is not None else '0'}, "
                            f"{'0' if flags & RST else 'v_rcv_wnd'}, 0, 0, 0, 0))")
                sends.append(n)
                if ack is not None:
                    body.append("        v_ack_owed = False")
            elif op[0] == "signal":
                sigs.append(repr(op[1]))
            elif op[0] == "restart":
                sigs.append(repr("restart " + op[1]))
            elif op[0] == "delete":
                for f, default in zip(fields, Endpoint()[1:]):
                    body.append(f"        v_{f} = {default!r}")
        state = "_st" if to is None else f"_to_{to.name}"
        if to is not None:
            ns[state] = to
        body.append(f"        e2 = _new(_E, ({state}, " + ", ".join(f"v_{f}" for f in fields) + "))")
        self.acting = False
        tup = lambda xs: "(" + "".join(f"{x}, " for x in xs) + ")" if xs else "()"   # noqa: E731
        return tup(sends), tup(sigs)
