"""The `synack` command line. click, because it gives subcommands, typed options, `--help`
and usage errors with exit code 2 without hand-written parsing."""
from __future__ import annotations

import json
import sys

import click

from synack.spec import PROFILES, VARIANTS, SpecError, get_profile


def _fail(msg: str, code: int = 2):
    click.echo(f"synack: error: {msg}", err=True)
    sys.exit(code)


def _profile(name: str, variants: tuple[str, ...]):
    try:
        return get_profile(name, tuple(variants))
    except SpecError as exc:
        _fail(str(exc))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="synack")
def main() -> None:
    """synack: TCP connection management (RFC 9293) as data, model-checked and usable as a test oracle."""


@main.command("spec")
@click.option("--profile", "-p", default="rfc9293", show_default=True, help=f"one of {', '.join(PROFILES)}")
@click.option("--variant", "-v", multiple=True, help=f"teaching variant: {', '.join(VARIANTS)}")
@click.option("--json", "as_json", is_flag=True, help="the machine-readable export (see spec/spec.schema.json)")
def spec_cmd(profile: str, variant: tuple[str, ...], as_json: bool) -> None:
    """Print the transition table."""
    from synack.spec.export import export

    prof = _profile(profile, variant)
    data = export(prof)
    if as_json:
        click.echo(json.dumps(data, indent=1))
        return
    click.echo(f"# {data['profile']}: {data['description']}")
    click.echo(f"# options: {', '.join(data['options']) or '-'}; {len(data['rows'])} rows")
    last = None
    for r in data["rows"]:
        if r["from"] != last:
            click.echo(f"\n{r['from']}")
            last = r["from"]
        ev = r["event"] + (f"[{r['stage']}]" if r["stage"] else "")
        to = "" if r["to"] == r["from"] else f" -> {r['to']}"
        nxt = f" then {r['next']}" if r["next"] else ""
        click.echo(f"  {r['id']:<28} {ev:<16} if {r['guard']}{to}{nxt}")
        if r["actions"]:
            click.echo(f"  {'':<28} {'':<16} do {'; '.join(r['actions'])}")
        click.echo(f"  {'':<28} {'':<16} ({r['rfc']})")


@main.command("prove")
@click.option("--profile", "-p", multiple=True, help="profile(s) to prove; default: every profile")
@click.option("--variant", "-v", multiple=True, help="teaching variant(s) applied to each profile")
def prove_cmd(profile: tuple[str, ...], variant: tuple[str, ...]) -> None:
    """Prove with z3 that the table's guards are exhaustive and exclusive over 32-bit sequence
    arithmetic and that every row preserves the TCB invariants. Exit 1 on a counterexample."""
    from synack.checker.proofs import prove

    ok = True
    for name in profile or tuple(PROFILES):
        report = prove(_profile(name, variant))
        click.echo(report.summary())
        for f in report.findings:
            click.echo(f"  {f}")
        ok &= report.ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
