"""`synack oracle --junit-xml` and `--html`: one test case per judged end; one page per capture
that a browser shows with every verdict, filters, and draws each violation's chart. The page
is loaded in headless Chromium (Debian's `chromium`, installed here when missing and root)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CAPTURE = ROOT / "examples" / "captures" / "linger-zero-abort.pcap"
SYNACK = [sys.executable, "-m", "synack.cli"]
BAD = ['{"synack_trace": 1, "iut": "10.0.0.1:1000", "profile": "rfc9293"}', '{"dir": "out", "flags": "SYN", "seq": 1}',
       '{"dir": "in", "flags": "SYN,ACK", "seq": 9, "ack": 2}', '{"dir": "out", "flags": "ACK", "seq": 2, "ack": 11}']


def _oracle(*args, cwd, code):
    r = subprocess.run(SYNACK + ["oracle", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert r.returncode == code, r.stderr + r.stdout
    assert "Traceback" not in r.stderr
    return r


def test_junit_has_one_case_per_end_and_failures_carry_the_report(tmp_path):
    _oracle(CAPTURE, "-p", "rfc9293", "--junit-xml", "out.xml", cwd=tmp_path, code=1)
    suite = ET.parse(tmp_path / "out.xml").getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert suite.get("tests") == "2" and suite.get("failures") == "1" and len(cases) == 2
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == 1 and failed[0].get("name").endswith("IUT " + failed[0].get("name").split("<-> ")[0].strip())
    f = failed[0].find("failure")
    assert f.get("type") == "violation" and "<RST,ACK" in f.get("message")
    assert f.text.startswith("VIOLATION under rfc9293") and "the IUT could have been in" in f.text
    # conformant under linux: no failures; a JSON Lines trace is one case
    _oracle(CAPTURE, "--junit-xml", "ok.xml", cwd=tmp_path, code=0)
    assert ET.parse(tmp_path / "ok.xml").getroot().get("failures") == "0"
    (tmp_path / "bad.jsonl").write_text("\n".join(BAD) + "\n")
    _oracle("bad.jsonl", "--junit-xml", "t.xml", cwd=tmp_path, code=1)
    assert len(ET.parse(tmp_path / "t.xml").getroot().iter("failure").__next__().text) > 100


def test_a_report_that_cannot_be_written_is_bad_input(tmp_path):
    r = _oracle(CAPTURE, "--html", str(tmp_path / "no" / "dir" / "r.html"), cwd=tmp_path, code=2)
    assert r.stderr.count("\n") == 1 and "cannot write" in r.stderr


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"], env=env,
                   capture_output=True, timeout=1200, check=True)
    return shutil.which("chromium")


def _dom(page: Path, fragment: str, tmp: Path) -> str:
    """The page's DOM after load and its script ran (headless Chromium, a fresh profile)."""
    r = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run",
                        f"--user-data-dir={tmp / 'chromium-profile'}", "--virtual-time-budget=3000", "--dump-dom",
                        page.as_uri() + fragment], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "</html>" in r.stdout, r.stderr[-2000:]
    return r.stdout


def _rows(dom: str) -> dict[str, bool]:
    """status of each connection row -> shown (no `hidden` attribute)."""
    return {m.group(1) + ":" + m.group(2): "hidden" not in m.group(0)
            for m in re.finditer(r'<tr class="case" id="(c\d+)" data-status="(\w+)"[^>]*>', dom)}


def test_html_page_in_chromium_shows_every_verdict_filters_and_charts(tmp_path):
    _oracle(CAPTURE, "-p", "rfc9293", "--html", "report.html", cwd=tmp_path, code=1)
    page = tmp_path / "report.html"
    text = page.read_text()
    assert "<script src" not in text and "<link" not in text and "http" not in text.split("<svg")[0]   # one file
    dom = _dom(page, "", tmp_path)
    assert _rows(dom) == {"c0:violation": True, "c1:conformant": True}
    assert '<span id="shown">2</span>' in dom and "1 violation" in dom
    detail = dom[dom.index('id="c0-detail"'):]
    chart = detail[detail.index("<svg"):detail.index("</svg>")]
    assert "RST,ACK seq=x+5 ack=y+1 (✗ violation)" in chart           # the violating segment, marked
    assert "ESTABLISHED" in chart and "{CLOSED, LISTEN, ESTABLISHED}" in chart   # the states, as sets
    assert "IUT could have been in" in detail and "ESTABLISHED ISS=" in detail
    # the filter: by verdict (from the URL) and by text
    only = _rows(_dom(page, "#status=violation", tmp_path))
    assert only == {"c0:violation": True, "c1:conformant": False}
    assert _rows(_dom(page, "#q=no-such-address", tmp_path)) == {"c0:violation": False, "c1:conformant": False}


def test_html_of_a_trace_names_rows_rfc_sections_and_the_allowed_alternative(tmp_path):
    (tmp_path / "bad.jsonl").write_text("\n".join(BAD) + "\n")
    _oracle("bad.jsonl", "--html", "t.html", cwd=tmp_path, code=1)
    dom = _dom(tmp_path / "t.html", "", tmp_path)
    assert "synsent.synack [RFC 9293 3.10.7.3]" in dom
    assert "&lt;ACK seq=2 ack=10&gt;, owed since an earlier event" in dom
    assert "ACK seq=x+1 ack=y+2 (✗ violation)" in dom


def test_silent_ends_are_skipped_cases_and_a_filter_of_their_own():
    from synack.oracle.monitor import Verdict
    from synack.report import Case, html_page, junit_xml
    from synack.spec import get_profile

    cases = [Case("a <-> b", "a", 2, Verdict("silent", "linux", 2, "not judged: it sent nothing")),
             Case("a <-> b", "b", 2, Verdict("conformant", "linux", 2))]
    suite = ET.fromstring(junit_xml(cases, "x.pcap")).find("testsuite")
    assert suite.get("skipped") == "1" and suite.get("failures") == "0" and suite.get("errors") == "0"
    assert suite.findall("testcase")[0].find("skipped").get("message") == "not judged: it sent nothing"
    page = html_page(cases, "x.pcap", get_profile("linux"))
    assert 'data-status="silent" checked> silent (1)' in page and "1 silent" in page
