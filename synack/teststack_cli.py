"""`synack test-stack`: the conformance kit from the shell. Drives each stack (a folder with
`stack.json`, or a shim command) into every row of its profile's table, judges it with the
oracle, and writes the report (Markdown and JSON). Exit codes: 0 no deviation, 1 a stack
deviates, 2 bad input or a stack that cannot be started."""
from __future__ import annotations

import json
import shlex
import sys

import click

from .cliutil import _fail


@click.command("test-stack")
@click.option("--stack", "stacks", multiple=True, metavar="NAME|DIR",
              help="a stack folder holding stack.json (a name under --stacks-dir, or a path); repeatable")
@click.option("--shim", default=None, metavar="COMMAND", help="a shim command line instead of --stack")
@click.option("--profile", "-p", default=None, help="the profile to judge by (default: the stack's, or rfc9293)")
@click.option("--param", multiple=True, metavar="NAME=VALUE", help="a profile parameter the stack's configuration sets")
@click.option("--row", "rows", multiple=True, help="only these rows (repeatable)")
@click.option("--report", "report_md", default=None, help="write the Markdown report here")
@click.option("--json", "report_json", default=None, help="write the results as JSON here")
@click.option("--merge", multiple=True, metavar="FILE",
              help="add results saved earlier with --json to the report (another stack's run)")
@click.option("--stacks-dir", default="stacks", show_default=True)
@click.option("--max-real-wait", type=float, default=None, help="longest wait for a timer on a real clock (s)")
@click.option("--scenario", "scenarios", multiple=True, help="plan runs from these scenarios only (default: all)")
@click.option("--max-states", type=int, default=None, help="planner states per scenario and side")
@click.option("--variations", type=click.IntRange(0, 100000), default=0, show_default=True,
              help="after the rows, this many runs with the peer's sequence numbers moved, other SEND and "
                   "segment sizes (1 byte to over two segments), pauses within the profile's timer ranges and an "
                   "environment segment after the row (seeded; at most 300 s in all)")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the variations")
@click.option("--quiet", "-q", is_flag=True, help="no line per row")
def test_stack_cmd(stacks, shim, profile, param, rows, report_md, report_json, merge, stacks_dir, max_real_wait,
                   scenarios, max_states, variations, seed, quiet) -> None:
    """Drive real TCP stacks through every row of the table and judge them with the oracle."""
    from synack.spec import SpecError
    from synack.testing import DriverError, Kit, ShimError
    from synack.testing.report import StackConfig, StackConfigError, coverage_json, exit_code, load_stack, markdown

    if not stacks and not shim and not merge:
        _fail("name a stack (--stack linux), a shim (--shim './my-shim'), or saved results (--merge FILE)")
    try:
        configs = [load_stack(s, stacks_dir) for s in stacks]
    except StackConfigError as e:
        _fail(str(e))
    if shim:
        argv = shlex.split(shim)
        if not argv:
            _fail("--shim is empty")
        prog = argv[1] if len(argv) > 1 and "python" in argv[0].rsplit("/", 1)[-1] else argv[0]
        configs.append(StackConfig(name=prog.rsplit("/", 1)[-1], folder=".", argv=argv))
    params = {}
    for p in param:
        k, eq, v = p.partition("=")
        try:
            params[k.strip()] = float(v) if "." in v else int(v)
        except ValueError:
            _fail(f"--param {p!r}: want NAME=NUMBER")
        if not eq:
            _fail(f"--param {p!r}: want NAME=NUMBER")
    results = []
    for f in merge:
        try:
            with open(f) as fh:
                data = json.load(fh)
            results += data["stacks"] if isinstance(data, dict) and "stacks" in data else [data]
        except (OSError, ValueError, KeyError) as e:
            _fail(f"--merge {f}: cannot read saved results ({e})")
    failed: list[str] = []
    for cfg in configs:
        try:
            extra = {"scenarios": tuple(scenarios)} if scenarios else {}
            if max_states is not None:
                extra["max_states"] = max_states
            kit = Kit(profile or cfg.profile, {**cfg.params, **params},
                      max_real_wait=max_real_wait if max_real_wait is not None else cfg.max_real_wait, **extra)
            unknown = [r for r in rows if r not in kit.rows()]
            if unknown:
                _fail(f"profile {kit.profile.label()} has no row {unknown[0]!r}")
            driver = cfg.make_driver()
            try:
                driver.init()
                line = (lambda r: None) if quiet else (lambda r: click.echo(
                    f"{cfg.name:10} {r.row:30} {r.status:13} {r.reason[:100]}", err=True))
                cov = kit.run(driver, list(rows) or None, progress=line, n_variations=variations, seed=seed)
            finally:
                driver.quit()
        except (SpecError, StackConfigError) as e:
            _fail(str(e))
        except (ShimError, DriverError) as e:
            if len(configs) == 1 and not merge:
                _fail(f"stack {cfg.name}: {e}")
            # a stack that does not start (a crash during the run is that row's result, testing/kit.py):
            # the other stacks still run and are reported
            failed.append(f"{cfg.name}: {e}")
            click.echo(f"synack: error: stack {cfg.name}: {e}", err=True)
            continue
        click.echo(cov.summary())
        results.append(coverage_json(cov, cfg))
    command = "synack test-stack " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    try:
        if report_json:
            with open(report_json, "w") as fh:
                json.dump({"stacks": results}, fh, indent=1)
        if report_md:
            with open(report_md, "w") as fh:
                fh.write(markdown(results, command, failed))
    except OSError as e:
        _fail(f"cannot write the report: {e.strerror}")
    sys.exit(2 if failed else exit_code(results))
