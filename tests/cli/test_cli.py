"""The command line: exit codes, the JSON export, one-line errors."""
import json
import subprocess
import sys

from click.testing import CliRunner

from synack.cli import main

FIGURE5 = {("CLOSED", "LISTEN"), ("CLOSED", "SYN-SENT"), ("LISTEN", "SYN-RECEIVED"), ("LISTEN", "SYN-SENT"),
           ("LISTEN", "CLOSED"), ("SYN-SENT", "CLOSED"), ("SYN-SENT", "SYN-RECEIVED"), ("SYN-SENT", "ESTABLISHED"),
           ("SYN-RECEIVED", "ESTABLISHED"), ("SYN-RECEIVED", "LISTEN"), ("SYN-RECEIVED", "FIN-WAIT-1"),
           ("ESTABLISHED", "FIN-WAIT-1"), ("ESTABLISHED", "CLOSE-WAIT"), ("FIN-WAIT-1", "FIN-WAIT-2"),
           ("FIN-WAIT-1", "CLOSING"), ("FIN-WAIT-2", "TIME-WAIT"), ("CLOSING", "TIME-WAIT"),
           ("CLOSE-WAIT", "LAST-ACK"), ("LAST-ACK", "CLOSED"), ("TIME-WAIT", "CLOSED")}


def test_spec_json_lists_states_and_every_figure5_arc():
    r = CliRunner().invoke(main, ["spec", "--json"])
    assert r.exit_code == 0
    d = json.loads(r.output)
    assert len(d["states"]) == 11 and "SYN-RECEIVED" in d["states"] and "TIME-WAIT" in d["states"]
    arcs = {(row["from"], row["to"]) for row in d["rows"]}
    assert FIGURE5 <= arcs
    for row in d["rows"]:
        assert {"from", "event", "guard", "actions", "to", "rfc"} <= row.keys() and row["rfc"]


def test_spec_json_matches_its_schema():
    from pathlib import Path

    schema = json.loads((Path(__file__).parents[2] / "spec" / "spec.schema.json").read_text())
    d = json.loads(CliRunner().invoke(main, ["spec", "--json", "-p", "linux"]).output)
    assert set(schema["required"]) <= d.keys()
    states = set(schema["$defs"]["state"]["enum"])
    for row in d["rows"]:
        assert set(schema["$defs"]["row"]["required"]) <= row.keys()
        assert row["from"] in states and row["to"] in states


def test_prove_exit_codes():
    assert CliRunner().invoke(main, ["prove", "-p", "rfc9293"]).exit_code == 0
    r = CliRunner().invoke(main, ["prove", "-p", "nosuch"])
    assert r.exit_code == 2 and "unknown profile 'nosuch'" in r.output


def test_console_script_one_line_error():
    p = subprocess.run([sys.executable, "-m", "synack.cli", "spec", "--variant", "bogus"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.strip().count("\n") == 0 and "bogus" in p.stderr
