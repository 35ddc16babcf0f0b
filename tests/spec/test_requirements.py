"""The RFC 9293 requirement list is data about the table: check it against the table and the
profiles, and show that its numeric checks fail on profiles built to break them."""
import re

import pytest
from click.testing import CliRunner

from synack.spec import OPTIONS, TABLE, get_profile
from synack.spec.profiles import PARAMS
from synack.spec.requirements import BY_ID, CHECKS, KINDS, REQUIREMENTS, audit
from synack.cli import main


def test_every_must_of_appendix_b_is_listed_once():
    musts = [r.id for r in REQUIREMENTS if r.id.startswith("MUST-")]
    assert sorted(musts, key=lambda i: int(i[5:])) == [f"MUST-{n}" for n in range(1, 70)]
    assert len(BY_ID) == len(REQUIREMENTS)


def test_entries_name_only_real_rows_params_and_options():
    ids = {r.id for r in TABLE}
    for req in REQUIREMENTS:
        assert req.kind in KINDS, req
        assert re.fullmatch(r"\d+(\.\d+)*", req.section), req
        for ref in req.rows:
            for alt in ref.split("|"):
                assert alt in ids, (req.id, alt)
        assert set(req.params) <= set(PARAMS), req
        assert not req.option or req.option in OPTIONS, req
        if req.kind in ("none", "partial", "checker"):
            assert req.gap, f"{req.id} must say what is not modelled"
        if req.kind == "table":
            assert req.rows, req.id
    assert set(CHECKS) <= set(BY_ID)


def test_rfc9293_meets_every_requirement_it_models():
    assert all(a.holds is not False for a in audit(get_profile("rfc9293")))


def test_linux_gives_up_a_syn_before_the_three_minutes_of_must_23():
    bad = {a.requirement.id: a.detail for a in audit(get_profile("linux")) if a.holds is False}
    assert list(bad) == ["MUST-23", "MUST-56"]
    assert "127 s" in bad["MUST-23"]  # 1+2+4+...+64 with tcp_syn_retries = 6
    # tcp_v4_err() aborts SYN-SENT on a soft ICMP error too (RFC 5461 4), which MUST-56 forbids
    assert bad["MUST-56"] == "no row icmp in force"


@pytest.mark.parametrize("profile, changes, req", [
    ("rfc9293+no-time-wait", {}, "MUST-13"),
    ("rfc9293", {"time_wait": 200.0}, "MUST-13"),
    ("rfc9293", {"SYN.RETRIES": 6}, "MUST-23"),
    ("rfc9293", {"ka_idle": 3600.0}, "MUST-28"),
])
def test_a_profile_built_to_break_a_requirement_fails_it(profile, changes, req):
    prof = get_profile(profile).with_params(**changes) if changes else get_profile(profile)
    bad = [a.requirement.id for a in audit(prof) if a.holds is False]
    assert bad == [req]


def test_cli_lists_requirements_and_exits_1_when_one_is_not_met():
    r = CliRunner().invoke(main, ["spec", "--requirements"])
    assert r.exit_code == 0, r.output
    assert "MUST-13" in r.output and "not met here: none" in r.output
    r = CliRunner().invoke(main, ["spec", "--requirements", "-p", "linux", "--json"])
    assert r.exit_code == 1
    import json
    rows = {d["id"]: d for d in json.loads(r.output)}
    assert rows["MUST-23"]["holds"] is False and rows["MUST-13"]["holds"] is True
