"""The long fuzzing run by hand (the test suite's tests/fuzz runs a few examples per target):
mutate seed captures and traces for --minutes, read each as synack does, judge every classic
pcap with both engines, and print the figures: inputs per target, crashes (an exception other
than the one-line TraceError), engine disagreements. Saves each crashing or disagreeing input
under --keep for a regression test.

    .venv/bin/python bench/fuzz_readers.py --minutes 5 [--seed 1] [--keep /tmp/fuzz-finds]
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "fuzz"))
from corpus import judge_outcome, mutate, random_edits, read_outcome, seeds  # noqa: E402

from synack.oracle import native  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", default="/tmp/synack-fuzz-finds")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    corpus = seeds()
    both = native.library() is not None
    counts = {k: 0 for k in ("pcap", "pcapng", "jsonl", "engines")}
    errors = dict.fromkeys(counts, 0)
    crashes, disagree = [], []
    end = time.monotonic() + a.minutes * 60
    t0 = time.monotonic()
    while time.monotonic() < end:
        fmt = rng.choice(("pcap", "pcap", "pcapng", "jsonl"))
        data = mutate(rng.choice(corpus[fmt]), random_edits(rng, rng.randint(1, 6)),
                      keep_header=4 if fmt != "jsonl" else 0)
        counts[fmt] += 1
        try:
            if read_outcome(data) != "ok":
                errors[fmt] += 1
            if fmt == "pcap" and both:
                counts["engines"] += 1
                py, nat = judge_outcome(data, "python"), judge_outcome(data, "auto")
                if py[0] == "error":
                    errors["engines"] += 1
                if py != nat:
                    disagree.append(data)
                    _keep(a.keep, "disagree", data)
        except Exception:                                  # noqa: BLE001 - a crash is what we count
            crashes.append((fmt, traceback.format_exc(limit=3)))
            _keep(a.keep, "crash", data)
    mins = (time.monotonic() - t0) / 60
    total = sum(counts[k] for k in ("pcap", "pcapng", "jsonl"))
    print(f"fuzz_readers: {total:,} inputs in {mins:.1f} minutes (seed {a.seed}): "
          + ", ".join(f"{k} {counts[k]:,} ({errors[k]:,} one-line errors)" for k in ("pcap", "pcapng", "jsonl"))
          + f"; both engines judged {counts['engines']:,} pcaps" + ("" if both else " (no C compiler: none)")
          + f"; crashes {len(crashes)}, engine disagreements {len(disagree)}")
    for fmt, tb in crashes[:3]:
        print(f"crash ({fmt}):\n{tb}")
    if crashes or disagree:
        print(f"inputs kept in {a.keep}")
        sys.exit(1)


def _keep(d: str, kind: str, data: bytes) -> None:
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"{kind}-{len(os.listdir(d))}.bin"), "wb") as fh:
        fh.write(data)


if __name__ == "__main__":
    main()
