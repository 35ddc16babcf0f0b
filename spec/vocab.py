"""The one small vocabulary of guards and actions, in RFC 9293 notation.

A guard is an expression such as ``SND.UNA < SEG.ACK <= SND.NXT and not RST``; an action is
``RCV.NXT := SEG.SEQ + 1``, ``send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>``, ``signal reset``,
``restart 2MSL`` or ``delete TCB``. The same parsed form compiles to Python (for `step`)
and translates to z3 bit-vector terms (for the proofs), so the two cannot drift apart.

Sequence numbers are 32-bit and compare modulo 2^32 (RFC 9293 section 3.4, RFC 1982):
``a < b`` holds when ``(b - a) mod 2^32`` lies in ``1 .. 2^31 - 1``. At distance exactly
2^31 neither ``a < b`` nor ``b < a`` holds; the table's guards are written so that this
case still falls into exactly one row, and `synack prove` checks that it does.
Counts (lengths, windows, retry counters) compare as unsigned 32-bit integers.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any, Callable

from .model import ACK, FIN, HALF, MASK, MAXWIN, PSH, RST, SYN, Endpoint, Segment, SpecError, parse_flags

SEQ, COUNT, BOOL = "seq", "count", "bool"

#: Every name a guard or action may use: its type and where its value lives.
#: ("seg", attr) segment field; ("flag", bit); ("tcb", field); ("event", attr); ("param", key).
NAMES: dict[str, tuple[str, tuple]] = {
    "SEG.SEQ": (SEQ, ("seg", "seq")),
    "SEG.ACK": (SEQ, ("seg", "ack")),
    "SEG.WND": (COUNT, ("seg", "wnd")),
    "SEG.DATA": (COUNT, ("seg", "data")),
    "SEG.MSS": (COUNT, ("seg", "mss")),
    "SEG.WS": (COUNT, ("seg", "ws")),
    "SEG.TFO": (COUNT, ("seg", "tfo")),
    "SEG.OLD_TS": (COUNT, ("seg", "ots")),
    "SEG.LEN": (COUNT, ("derived", "len")),
    "SEG.END": (SEQ, ("derived", "end")),
    "SYN": (BOOL, ("flag", SYN)),
    "ACK": (BOOL, ("flag", ACK)),
    "FIN": (BOOL, ("flag", FIN)),
    "RST": (BOOL, ("flag", RST)),
    "PSH": (BOOL, ("flag", PSH)),
    "ISS": (SEQ, ("tcb", "iss")),
    "IRS": (SEQ, ("tcb", "irs")),
    "SND.UNA": (SEQ, ("tcb", "snd_una")),
    "SND.NXT": (SEQ, ("tcb", "snd_nxt")),
    "SND.WND": (COUNT, ("tcb", "snd_wnd")),
    "MAX.SND.WND": (COUNT, ("tcb", "max_snd_wnd")),
    "MAX.RCV.WND": (COUNT, ("tcb", "max_rcv_wnd")),
    "SND.MSS": (COUNT, ("tcb", "snd_mss")),
    "SND.WS": (COUNT, ("tcb", "snd_ws")),
    "RCV.NXT": (SEQ, ("tcb", "rcv_nxt")),
    "RCV.WND": (COUNT, ("tcb", "rcv_wnd")),
    "RCV.ADV": (COUNT, ("tcb", "rcv_adv")),
    "RTX": (COUNT, ("tcb", "rtx")),
    "PROBES": (COUNT, ("tcb", "probes")),
    "UNREAD": (BOOL, ("tcb", "unread")),
    "SND.Q": (COUNT, ("tcb", "snd_q")),
    "PASSIVE": (BOOL, ("tcb", "passive")),
    "ORPHAN": (BOOL, ("tcb", "orphan")),
    "FIN.SENT": (BOOL, ("tcb", "fin_sent")),
    "ACK.OWED": (BOOL, ("tcb", "ack_owed")),
    "HELD.START": (COUNT, ("tcb", "held_start")),
    "HELD.END": (COUNT, ("tcb", "held_end")),
    "HELD2.START": (COUNT, ("tcb", "held2_start")),
    "HELD2.END": (COUNT, ("tcb", "held2_end")),
    "TFO.CHILD": (BOOL, ("tcb", "tfo_child")),
    "ISN": (SEQ, ("event", "isn")),
    "N": (COUNT, ("event", "n")),
    "MAXWIN": (COUNT, ("const", MAXWIN)),
}
#: Profile parameters usable in guards (their values come from the profile).
PARAM_NAMES = ("SYN.RETRIES", "SYN.GIVEUP", "SYNACK.RETRIES", "DATA.RETRIES", "KA.PROBES", "WINDOW", "MSS.DEFAULT")
for _p in PARAM_NAMES:
    NAMES[_p] = (COUNT, ("param", _p))
#: Whether a timer parameter is set at all: Linux's TCP_USER_TIMEOUT 0 means no user timeout
#: (tcp_write_timeout(), tcp_keepalive_timer() test `icsk_user_timeout` for non-zero).
NAMES["USER.TIMEOUT.ON"] = (BOOL, ("param_on", "user_timeout"))

TCB_FIELDS = Endpoint._fields  # ("state", "iss", ...)
FIELD_INDEX = {f: i for i, f in enumerate(TCB_FIELDS)}
TCB_NAME = {spec[1]: name for name, (_, spec) in NAMES.items() if spec[0] == "tcb"}


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


_OPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}


@dataclass(frozen=True)
class Expr:
    """A typed expression tree: ("name", n) | ("const", v, type) | ("bin", op, a, b) |
    ("cmp", op, a, b, type) | ("and", [..]) | ("or", [..]) | ("not", a) | ("if", cond, a, b).
    `op` is + or - (modulo 2^32), or << (a count shifted left, RFC 7323 window scaling)."""

    node: tuple
    type: str


def parse_expr(text: str, macros: dict[str, str]) -> Expr:
    """Parse guard or expression text; names are checked, macros are inlined."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise SpecError(f"cannot parse expression {text!r}: {exc.msg}") from None
    return _build(tree, macros, text, ())


def _build(n: ast.AST, macros: dict[str, str], src: str, seen: tuple) -> Expr:
    name = _dotted(n)
    if name is not None:
        if name in macros:
            if name in seen:
                raise SpecError(f"macro {name} refers to itself")
            return _build(ast.parse(macros[name], mode="eval").body, macros, src, seen + (name,))
        if name not in NAMES:
            raise SpecError(f"unknown name {name!r} in {src!r}")
        return Expr(("name", name), NAMES[name][0])
    if isinstance(n, ast.Constant):
        if isinstance(n.value, bool):
            return Expr(("const", n.value), BOOL)
        if isinstance(n.value, int) and 0 <= n.value <= MASK:
            return Expr(("const", n.value), COUNT)
        raise SpecError(f"bad constant {n.value!r} in {src!r}")
    if isinstance(n, ast.BoolOp):
        parts = [_build(v, macros, src, seen) for v in n.values]
        for p in parts:
            if p.type != BOOL:
                raise SpecError(f"'and'/'or' over a non-boolean in {src!r}")
        return Expr(("and" if isinstance(n.op, ast.And) else "or", tuple(parts)), BOOL)
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Not):
        a = _build(n.operand, macros, src, seen)
        if a.type != BOOL:
            raise SpecError(f"'not' over a non-boolean in {src!r}")
        return Expr(("not", a), BOOL)
    if isinstance(n, ast.IfExp):
        c = _build(n.test, macros, src, seen)
        a, b = _build(n.body, macros, src, seen), _build(n.orelse, macros, src, seen)
        if c.type != BOOL:
            raise SpecError(f"the condition of 'if' is not a boolean in {src!r}")
        if a.type != b.type and not (a.node[0] == "const" or b.node[0] == "const") or BOOL in (a.type, b.type):
            raise SpecError(f"the two branches of 'if' differ in type in {src!r}")
        return Expr(("if", c, a, b), a.type if a.node[0] != "const" else b.type)
    if isinstance(n, ast.BinOp) and isinstance(n.op, ast.LShift):
        a, b = _build(n.left, macros, src, seen), _build(n.right, macros, src, seen)
        if a.type != COUNT or b.type != COUNT:
            raise SpecError(f"'<<' shifts a count by a count in {src!r}")
        return Expr(("bin", "<<", a, b), COUNT)
    if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Add, ast.Sub)):
        a, b = _build(n.left, macros, src, seen), _build(n.right, macros, src, seen)
        op = "+" if isinstance(n.op, ast.Add) else "-"
        ta, tb = a.type, b.type
        if BOOL in (ta, tb):
            raise SpecError(f"arithmetic on a boolean in {src!r}")
        if ta == SEQ and tb == SEQ:
            if op == "+":
                raise SpecError(f"adding two sequence numbers in {src!r}")
            t = COUNT
        elif SEQ in (ta, tb):
            if op == "-" and tb == SEQ:
                raise SpecError(f"count minus sequence number in {src!r}")
            t = SEQ
        else:
            t = COUNT
        return Expr(("bin", op, a, b), t)
    if isinstance(n, ast.Compare):
        left = _build(n.left, macros, src, seen)
        parts = []
        for op, right_node in zip(n.ops, n.comparators):
            right = _build(right_node, macros, src, seen)
            if type(op) not in _OPS:
                raise SpecError(f"unsupported comparison in {src!r}")
            if {left.type, right.type} != {left.type} and not (
                    left.type == COUNT and right.node[0] == "const" or right.type == COUNT and left.node[0] == "const"):
                raise SpecError(f"comparing {left.type} with {right.type} in {src!r}")
            parts.append(Expr(("cmp", _OPS[type(op)], left, right, left.type), BOOL))
            left = right
        return parts[0] if len(parts) == 1 else Expr(("and", tuple(parts)), BOOL)
    raise SpecError(f"unsupported syntax in {src!r}: {ast.dump(n)[:60]}")


# ----------------------------------------------------------------------------- Python

def py(e: Expr, params: dict[str, int], local: bool) -> str:
    """Python source for an expression. `local`: TCB names are local variables (actions)."""
    return py_node(e, lambda p: py(p, params, local), lambda n: py_name(n, params, local))


def py_node(e: Expr, sub: Callable[[Expr], str], name: Callable[[str], str]) -> str:
    """Python source for `e`'s own operator, its operands' sources from `sub` and its names'
    from `name`: the one translation of the vocabulary's semantics (sequence comparisons
    modulo 2^32, arithmetic masked to 32 bits) that the interpreter's compiled guards and the
    fused backend (spec/fused.py, which shares subexpressions through `sub`) both use."""
    node = e.node
    kind = node[0]
    if kind == "const":
        return repr(int(node[1]) if e.type != BOOL else bool(node[1]))
    if kind == "name":
        return name(node[1])
    if kind == "and":
        return "(" + " and ".join(sub(p) for p in node[1]) + ")"
    if kind == "or":
        return "(" + " or ".join(sub(p) for p in node[1]) + ")"
    if kind == "not":
        return f"(not {sub(node[1])})"
    if kind == "if":
        return f"({sub(node[2])} if {sub(node[1])} else {sub(node[3])})"
    if kind == "bin":
        if node[1] == "<<":   # a shift of 32 or more leaves 0, as z3's bvshl does
            return f"(({sub(node[2])} << min({sub(node[3])}, 32)) & {MASK})"
        return f"(({sub(node[2])} {node[1]} {sub(node[3])}) & {MASK})"
    if kind == "cmp":
        op, a, b, t = node[1], sub(node[2]), sub(node[3]), node[4]
        if t == SEQ and op in ("<", "<=", ">", ">="):
            if op in (">", ">="):
                a, b, op = b, a, {">": "<", ">=": "<="}[op]
            if op == "<":
                return f"(0 < (({b} - {a}) & {MASK}) < {HALF})"
            return f"((({b} - {a}) & {MASK}) < {HALF})"
        return f"({a} {op} {b})"
    raise AssertionError(kind)


def py_name(name: str, params: dict[str, int], local: bool) -> str:
    where = NAMES[name][1]
    if where[0] == "seg":
        return f"s.{where[1]}"
    if where[0] == "flag":
        return f"(s.flags & {where[1]} != 0)"
    if where[0] == "derived":
        if where[1] == "len":
            return f"(s.data + (s.flags & {SYN} != 0) + (s.flags & {FIN} != 0))"
        return f"((s.seq + (s.flags & {SYN} != 0) + s.data) & {MASK})"
    if where[0] == "tcb":
        return f"v_{where[1]}" if local else f"e[{FIELD_INDEX[where[1]]}]"
    if where[0] == "event":
        return f"x.{where[1]}"
    if where[0] == "const":
        return str(where[1])
    if where[1] not in params:
        raise SpecError(f"profile has no parameter {where[1]}")
    if where[0] == "param_on":
        return str(float(params[where[1]]) > 0)
    return str(int(params[where[1]]))


# ----------------------------------------------------------------------------- z3

def z3_term(e: Expr, env: dict[str, Any], params: dict[str, int]):
    """A z3 term for `e`; `env` maps names (TCB, segment, event) to z3 terms."""
    import z3

    node = e.node
    kind = node[0]
    if kind == "const":
        return z3.BoolVal(bool(node[1])) if e.type == BOOL else z3.BitVecVal(node[1], 32)
    if kind == "name":
        name = node[1]
        where = NAMES[name][1]
        if where[0] == "param":
            return z3.BitVecVal(int(params[where[1]]), 32)
        if where[0] == "param_on":
            return z3.BoolVal(float(params[where[1]]) > 0)
        if where[0] == "const":
            return z3.BitVecVal(where[1], 32)
        return env[name]
    if kind == "and":
        return z3.And(*[z3_term(p, env, params) for p in node[1]])
    if kind == "or":
        return z3.Or(*[z3_term(p, env, params) for p in node[1]])
    if kind == "not":
        return z3.Not(z3_term(node[1], env, params))
    if kind == "if":
        return z3.If(z3_term(node[1], env, params), z3_term(node[2], env, params), z3_term(node[3], env, params))
    if kind == "bin":
        a, b = z3_term(node[2], env, params), z3_term(node[3], env, params)
        return a + b if node[1] == "+" else a - b if node[1] == "-" else a << b
    if kind == "cmp":
        op, t = node[1], node[4]
        a, b = z3_term(node[2], env, params), z3_term(node[3], env, params)
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        if op in (">", ">="):
            a, b, op = b, a, {">": "<", ">=": "<="}[op]
        if t == SEQ:
            d = b - a
            return z3.And(d != 0, z3.ULT(d, HALF)) if op == "<" else z3.ULT(d, HALF)
        return z3.ULT(a, b) if op == "<" else z3.ULE(a, b)
    raise AssertionError(kind)


# ----------------------------------------------------------------------------- actions

_SEND = re.compile(r"^(send|resend|probe|reply)\s*((?:<[A-Z]+=[^>]*>)+)$")
#: What a send action declares about the segment it sends; `checker/obligations.py` proves
#: each row keeps its kind's obligation (RFC 9293 3.3.1 sequence accounting, 3.10.7.1 resets):
#: `send` new sequence space (SEQ = SND.NXT, or ISS on a SYN, and SND.NXT moves past it),
#: `resend` a retransmission (from SND.UNA, or the SYN again; SND.NXT stays),
#: `probe` a keep-alive or zero-window probe (at most one below SND.UNA; SND.NXT stays),
#: `reply` a reset answering the arriving segment in 3.10.7.1's form.
SEND_KINDS = ("send", "resend", "probe", "reply")
_FIELD = re.compile(r"<([A-Z]+)=([^>]*)>")


@dataclass(frozen=True)
class Action:
    """One parsed action: ("set", name, Expr) | ("send", flags, seq, ack|None, len|None)
    | ("signal", text) | ("restart", timer) | ("delete",). A send's `kind` is one of
    `SEND_KINDS`, the word its text starts with."""

    op: tuple
    text: str
    kind: str = ""


def parse_action(text: str, macros: dict[str, str]) -> Action:
    t = text.strip()
    m = _SEND.match(t)
    if m:
        fields = dict(_FIELD.findall(m.group(2)))
        unknown = set(fields) - {"SEQ", "ACK", "CTL", "LEN"}
        if unknown or "SEQ" not in fields or "CTL" not in fields:
            raise SpecError(f"send needs <SEQ=..><CTL=..> (and optional <ACK=..>, <LEN=..>): {text!r}")
        flags = parse_flags(fields["CTL"])
        seq = parse_expr(fields["SEQ"], macros)
        ack = parse_expr(fields["ACK"], macros) if "ACK" in fields else None
        ln = parse_expr(fields["LEN"], macros) if "LEN" in fields else None
        if bool(flags & ACK) != (ack is not None):
            raise SpecError(f"send has the ACK flag iff it has an <ACK=..> field: {text!r}")
        if not _fits(seq, SEQ) or (ack is not None and not _fits(ack, SEQ)) or (ln is not None and ln.type != COUNT):
            raise SpecError(f"send field of the wrong type in {text!r}")
        return Action(("send", flags, seq, ack, ln), t, m.group(1))
    if t.startswith("signal "):
        return Action(("signal", t[len("signal "):].strip()), t)
    if t.startswith("restart "):
        return Action(("restart", t[len("restart "):].strip()), t)
    if t == "delete TCB":
        return Action(("delete",), t)
    if ":=" in t:
        lhs, rhs = (p.strip() for p in t.split(":=", 1))
        if lhs not in NAMES or NAMES[lhs][1][0] != "tcb":
            raise SpecError(f"can only assign TCB variables, not {lhs!r}: {text!r}")
        value = parse_expr(rhs, macros)
        if not _fits(value, NAMES[lhs][0]):
            raise SpecError(f"assigning a {value.type} to {lhs} ({NAMES[lhs][0]}): {text!r}")
        return Action(("set", lhs, value), t)
    raise SpecError(f"unknown action {text!r}")


def _fits(e: Expr, want: str) -> bool:
    """A value of type `want`: the same type, or a literal constant of the right kind."""
    if e.type == want:
        return True
    return e.node[0] == "const" and (want == BOOL) == (e.type == BOOL)


def compile_guard(expr: Expr, params: dict[str, int]) -> Callable:
    src = f"def _g(e, s, x):\n    return {py(expr, params, False)}\n"
    ns: dict[str, Any] = {}
    exec(src, ns)  # noqa: S102 - generated from the table's own vocabulary
    return ns["_g"]


def compile_actions(actions: tuple[Action, ...], to_state, params: dict[str, int]) -> Callable:
    """Compile a row's actions into one function (e, s, x) -> (endpoint, sends, signals).

    Actions run in order, each seeing the values the previous ones left. A sent segment
    carries RCV.WND as its window (0 on a RST), and one that carries an ACK field settles
    any delayed acknowledgment (ACK.OWED := False).
    """
    fields = TCB_FIELDS[1:]
    lines = ["def _a(e, s, x):", "    (_st, " + ", ".join(f"v_{f}" for f in fields) + ",) = e",
             "    sends = []", "    sigs = []"]
    for a in actions:
        op = a.op
        if op[0] == "set":
            where = NAMES[op[1]][1][1]
            lines.append(f"    v_{where} = {py(op[2], params, True)}")
        elif op[0] == "send":
            flags, seq, ack, ln = op[1:]
            ack_src = py(ack, params, True) if ack is not None else "0"
            ln_src = py(ln, params, True) if ln is not None else "0"
            wnd = "0" if flags & RST else "v_rcv_wnd"
            lines.append(f"    sends.append(Segment({flags}, {py(seq, params, True)}, {ack_src}, {ln_src}, {wnd}))")
            if ack is not None:
                lines.append("    v_ack_owed = False")
        elif op[0] == "signal":
            lines.append(f"    sigs.append({op[1]!r})")
        elif op[0] == "restart":
            lines.append(f"    sigs.append({'restart ' + op[1]!r})")
        elif op[0] == "delete":
            for f, default in zip(fields, Endpoint()[1:]):
                lines.append(f"    v_{f} = {default!r}")
    lines.append("    return Endpoint(_to if _to is not None else _st, " + ", ".join(f"v_{f}" for f in fields)
                 + "), tuple(sends), tuple(sigs)")
    ns: dict[str, Any] = {"Segment": Segment, "Endpoint": Endpoint, "_to": to_state}
    exec("\n".join(lines) + "\n", ns)  # noqa: S102
    return ns["_a"]


def z3_actions(actions: tuple[Action, ...], env: dict[str, Any], params: dict[str, int]):
    """Apply actions symbolically: returns (env after, list of sent (flags, seq, ack, len) terms)."""
    import z3

    env = dict(env)
    sends = []
    for a in actions:
        op = a.op
        if op[0] == "set":
            env[op[1]] = z3_term(op[2], env, params)
        elif op[0] == "send":
            flags, seq, ack, ln = op[1:]
            sends.append((flags, z3_term(seq, env, params),
                          z3_term(ack, env, params) if ack is not None else None,
                          z3_term(ln, env, params) if ln is not None else z3.BitVecVal(0, 32)))
            if ack is not None:
                env["ACK.OWED"] = z3.BoolVal(False)
        elif op[0] == "delete":
            for f, default in zip(TCB_FIELDS[1:], Endpoint()[1:]):
                name = TCB_NAME[f]
                env[name] = z3.BoolVal(default) if isinstance(default, bool) else z3.BitVecVal(default, 32)
    return env, sends
