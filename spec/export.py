"""The language-neutral export of a profile's table (`synack spec --json`).

The format is documented by `spec/spec.schema.json` (JSON Schema draft 2020-12). Rows are
expanded to one per from-state; `to` is always a concrete state.
"""
from __future__ import annotations

from typing import Any

from .machine import machine
from .model import CALLS, ICMP, OFFER, SEGMENT, STATES, SYNCHRONIZED, TIMERS
from .profiles import OPTIONS, Profile, get_profile
from .table import INVARIANTS, STAGES
from .vocab import NAMES

FORMAT = "synack-spec"
VERSION = 1


def export(profile: "Profile | str") -> dict[str, Any]:
    if isinstance(profile, str):
        profile = get_profile(profile)
    m = machine(profile)
    rows = []
    for r in m.rows:
        for s in r.states:
            rows.append({
                "id": r.id, "from": s.value, "event": r.event, "stage": r.stage or None, "guard": r.guard,
                "actions": list(r.actions), "to": (r.to or s).value, "next": r.next, "rfc": r.rfc,
                "note": r.note, "when": r.when or None, "choice": r.choice, "figure5": r.figure5,
                "rate_limited": r.rate_limited,
            })
    order = {s.value: i for i, s in enumerate(STATES)}
    rows.sort(key=lambda d: order[d["from"]])  # stable: table order within a state
    return {
        "format": FORMAT,
        "version": VERSION,
        "profile": profile.label(),
        "description": profile.description,
        "options": {o: OPTIONS[o] for o in sorted(profile.options)},
        "params": dict(profile.params),
        "param_sources": dict(profile.sources),
        "states": [s.value for s in STATES],
        "synchronized": [s.value for s in STATES if s in SYNCHRONIZED],
        "events": {"calls": list(CALLS), "timers": list(TIMERS), "segment": SEGMENT, "icmp": ICMP, "offer": OFFER},
        "stages": list(STAGES),
        "entry_stage": {s.value: m.entry[s] for s in STATES},
        "names": {n: t for n, (t, _) in NAMES.items()},
        "macros": dict(m.macros),
        "invariants": {s.value: INVARIANTS[s] for s in STATES},
        "sequence_comparison": ("a < b iff (b - a) mod 2^32 is in 1 .. 2^31-1; at distance 2^31 neither "
                                "a < b nor b < a"),
        "operators": ("guards and actions use + and - (modulo 2^32), << (a count shifted left, RFC 7323 "
                      "window scaling; by 32 or more: 0), `x if c else y`, comparisons, and/or/not; the "
                      "OUTPUT event's N is the payload of the segment the stack sends; the ICMP event's N is "
                      "256 * type + code and its SEG.SEQ the quoted sequence number; the OFFER event's SEG.WND is the "
                      "window a segment the stack sends offers (scaled) and its N the window scale shift"),
        "rows": rows,
    }
