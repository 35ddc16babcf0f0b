"""The README is a user guide whose every command runs: each line of its ```sh blocks is run,
in order, from one scratch directory that holds the clone's `examples/` (as a user in the
clone's root would), with the test environment's `synack` and `pytest` on PATH. Each
```python block that starts with `# file: NAME` is written to NAME first, so the plugin
snippet runs exactly as printed.

Markers, in a command's trailing comment (all visible to readers, and documented there):
- `exit N`: the exit code the README promises (default 0);
- `N passed`: what pytest must report;
- `[test: ARGS]`: the suite adds ARGS (smaller bounds for a long command);
- `[test: in a network namespace of its own]`: run inside a fresh network namespace (root).
An HTML comment before a block: `readme-test: not run (...)` for install commands (allowed
only for the few below, which tests/packaging and CI itself run), `readme-test: lines of the
previous command's output` (each line must appear in that output), `readme-test: a JSON Lines
trace` (it must parse)."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
NOT_RUN_ALLOWED = ("python3 -m venv", "pip install .", "./dev test", "./dev check")
BLOCK = re.compile(r"(?:<!--\s*readme-test:\s*(?P<marker>[^>]*?)\s*-->\s*\n)?```(?P<lang>\w*)\n(?P<body>.*?)```",
                   re.S)


def blocks() -> list[tuple[str, str, str]]:
    """(language, marker or '', body) of every fenced block, in order."""
    return [(m["lang"], m["marker"] or "", m["body"]) for m in BLOCK.finditer(README.read_text())]


def command_of(line: str) -> tuple[str, str]:
    """(command, trailing comment) of one README line; quotes are respected."""
    cut, quote = None, None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] == " "):
            cut = i
            break
    return (line[:cut].strip(), line[cut + 1:].strip()) if cut is not None else (line.strip(), "")


def steps() -> list[tuple[str, object]]:
    """What the README asks for, in order: ("file", (name, text)), ("run", (command, comment)),
    ("output", lines), ("jsonl", text)."""
    out = []
    for lang, marker, body in blocks():
        if lang == "sh":
            lines = [ln for ln in body.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
            if marker.startswith("not run"):
                for ln in lines:
                    assert command_of(ln)[0].startswith(NOT_RUN_ALLOWED), f"README command not run by a test: {ln}"
                continue
            out += [("run", command_of(ln)) for ln in lines]
        elif lang == "python" and body.startswith("# file: "):
            name = body.splitlines()[0][len("# file: "):].strip()
            out.append(("file", (name, body)))
        elif lang == "text" and marker.startswith("lines of the previous command"):
            out.append(("output", [ln for ln in body.splitlines() if ln.strip() != "..."]))
        elif lang == "text" and marker.startswith("a JSON Lines trace"):
            out.append(("jsonl", body))
    return out


STEPS = steps()


def test_the_readme_has_the_three_tasks_and_runs_many_commands():
    text = README.read_text()
    for title in ("## Install", "## Task 1: check the model", "## Task 2: judge a capture",
                  "## Task 3: test your stack from pytest", "## Glossary"):
        assert title in text
    assert sum(kind == "run" for kind, _ in STEPS) >= 20
    assert ("file", "test_my_stack.py") in [(k, v[0]) for k, v in STEPS if k == "file"]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("readme")
    (d / "examples").symlink_to(ROOT / "examples")
    return d


def _env() -> dict:
    bindir = os.path.dirname(sys.executable)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


_last_output: dict = {}


@pytest.mark.parametrize("step", range(len(STEPS)),
                         ids=[(v[0] if k == "run" else f"{k}:{v[0] if k == 'file' else ''}")[:60]
                              for k, v in STEPS])
def test_readme_step(step, work):
    kind, value = STEPS[step]
    if kind == "file":
        name, text = value
        (work / name).write_text(text)
        return
    if kind == "output":
        out = _last_output.get("stdout", "")
        missing = [ln for ln in value if ln not in out.splitlines()]
        assert not missing, f"README shows output lines the command did not print: {missing}"
        return
    if kind == "jsonl":
        from synack.oracle.events import parse_jsonl

        assert len(list(parse_jsonl(value.splitlines(), "README"))) == len(value.strip().splitlines())
        return
    command, comment = value
    code = int(m.group(1)) if (m := re.search(r"\bexit (\d+)", comment)) else 0
    extra = re.search(r"\[test: ([^\]]*)\]", comment)
    argv = shlex.split(command)
    if argv[0] == "sudo":
        if os.geteuid() != 0:
            pytest.skip("needs root")
        argv = argv[1:]
    cwd = work
    if argv[0] == "./dev":
        cwd = ROOT
    if extra and "network namespace" in extra.group(1):
        if os.geteuid() != 0 or not shutil.which("unshare"):
            pytest.skip("needs root and unshare for a network namespace")
        argv = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"] + argv
    elif extra:
        argv += shlex.split(extra.group(1))
    r = subprocess.run(argv, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=600)
    _last_output["stdout"] = r.stdout
    assert r.returncode == code, (f"{command!r} exited {r.returncode}, the README says {code}\n"
                                  f"stdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-2000:]}")
    assert "Traceback" not in r.stderr, r.stderr
    if m := re.search(r"\b(\d+) passed\b", comment):
        assert f"{m.group(1)} passed" in r.stdout, r.stdout[-2000:]
