"""Reports of the oracle's verdicts for CI and for people: JUnit XML (one test case per judged
end, so any CI shows verdicts as test results) and one self-contained HTML page per capture
(every connection's verdict, filterable, and each violation's sequence chart with the
violating segment, the IUT's possible states, the rows and their RFC sections).

It lives in `synack/` because it joins the oracle (verdicts, events) and the diagrams (charts).
The verdicts come from the Python capture judge, which keeps each end's events for the charts
(the native engine gives the same verdicts, `tests/oracle/test_native_judge.py`)."""
from __future__ import annotations

import html
import json
import os
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from synack.diagrams.chart import Chart, chart_dot, from_observed, state_set
from synack.oracle.capture import read_capture
from synack.oracle.judge import CaptureJudge, _ep, parse_iut
from synack.oracle.monitor import CONFORMANT, INCONCLUSIVE, MAX_VIOLATIONS, SILENT, VIOLATION, Monitor, Verdict
from synack.spec.profiles import Profile


@dataclass(frozen=True)
class Case:
    """One judged end: the connection, the IUT end, its verdict and its events (for the chart)."""

    connection: str
    iut: str
    segments: int
    verdict: Verdict
    events: tuple = ()


# ----------------------------------------------------------------------------- judging

def capture_cases(path: str, prof: Profile, iut: str | None = None, start: str | None = None,
                  max_candidates: int = 4096, vantage: str | None = None,
                  max_violations: int = MAX_VIOLATIONS) -> list[Case]:
    """Every judged end of a capture, in the order of each connection's first segment."""
    cj = CaptureJudge(prof, parse_iut(iut), start, max_candidates, keep_events=True,
                      vantage=parse_iut(vantage, "--vantage") if vantage else None, max_violations=max_violations)
    results = []
    for p in read_capture(path):
        results += cj.feed(p)
    results += cj.close()
    events = {(c.name(), _ep(*end)): evs for c in cj.released for end, evs in c.events.items()}
    return [Case(r.conn, r.iut, r.segments, r.verdict, tuple(events.get((r.conn, r.iut), ())))
            for r in sorted(results, key=lambda r: r.first)]


def observed_states(events, monitor: Monitor) -> tuple[list[str], Verdict]:
    """The IUT's possible states before the first event and after each one ("" when
    unchanged, nothing after the event that decides a violation), and the verdict."""
    def now() -> str:
        return state_set([c.ep.state.value for c in monitor.cands])

    states = [now()]
    last, decided = states[0], None
    for ev in events:
        if decided is None:
            decided = monitor.feed(ev)
            s = now() if decided is None else ""
        else:
            s = ""
        states.append("" if s == last else s)
        last = s or last
    return states, monitor.verdict()


def observed_chart(events, prof: Profile, title: str, iut: str, absolute: bool = False,
                   monitor_kw: dict | None = None) -> tuple[Chart, Verdict]:
    """The sequence chart of one IUT's observed trace, its violation (if any) marked."""
    mon = Monitor(prof, role=iut, **(monitor_kw or {}))
    states, v = observed_states(events, mon)
    ch = from_observed(list(events), states, title, iut or "IUT", absolute,
                       violation=v.index if v.status == VIOLATION else None)
    ch.footer = (f"oracle verdict ({prof.label()}): {v.status}" + (f" at event {v.index}" if v.index else "")
                 + "\n" + ch.footer)
    return ch, v


def chart_svg(ch: Chart) -> str | None:
    """The chart as inline SVG (Graphviz's `dot`), or None when `dot` is missing."""
    import graphviz

    try:
        svg = graphviz.Source(chart_dot(ch)).pipe(format="svg").decode()
    except graphviz.ExecutableNotFound:
        return None
    return svg[svg.index("<svg"):]            # drop the XML prolog and DOCTYPE: inline in HTML


# ----------------------------------------------------------------------------- JUnit

def junit_xml(cases: list[Case], suite: str, seconds: float = 0.0) -> str:
    """JUnit XML: one <testcase> per judged end; a violation is a <failure> and an
    inconclusive verdict an <error> (nothing wrong shown, not everything judged), each with
    the verdict's report as text; an end that sent nothing (silent) is <skipped>."""
    fails = sum(c.verdict.status == VIOLATION for c in cases)
    errors = sum(c.verdict.status == INCONCLUSIVE for c in cases)
    skipped = sum(c.verdict.status == SILENT for c in cases)
    root = ET.Element("testsuites", name="synack oracle", tests=str(len(cases)), failures=str(fails),
                      errors=str(errors), time=f"{seconds:.3f}")
    ts = ET.SubElement(root, "testsuite", name=suite, tests=str(len(cases)), failures=str(fails),
                       errors=str(errors), skipped=str(skipped), time=f"{seconds:.3f}",
                       timestamp=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()))
    for c in cases:
        tc = ET.SubElement(ts, "testcase", classname="synack.oracle." + suite.replace(".", "_"),
                           name=f"{c.connection} IUT {c.iut}",
                           time="0")
        v = c.verdict
        if v.status == VIOLATION:
            first = f"violation at event {v.index}: {v.event}" + (f"; {v.rows[0]}" if v.rows else "")
            ET.SubElement(tc, "failure", message=first, type="violation").text = str(v)
        elif v.status == INCONCLUSIVE:
            ET.SubElement(tc, "error", message=f"inconclusive: {v.message}", type="inconclusive").text = str(v)
        elif v.status == SILENT:              # the end sent nothing: not judged, so not a result
            ET.SubElement(tc, "skipped", message=v.message or "not judged: it sent nothing")
        out = ET.SubElement(tc, "system-out")
        out.text = f"{v.status} under {v.profile}; {c.segments} segments; at most {v.max_candidates} candidate TCBs"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ----------------------------------------------------------------------------- HTML

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.4em; margin-bottom: .2em; } .meta { color: #555; margin-bottom: 1em; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3em .6em; }
tr.case { border-top: 1px solid #ddd; } th { border-bottom: 2px solid #999; }
.conformant { color: #26a269; } .silent { color: #777; } .violation { color: #c01c28; font-weight: bold; } .inconclusive { color: #b5835a; }
.filters { margin: .8em 0; display: flex; gap: 1em; align-items: center; flex-wrap: wrap; }
.report { white-space: pre-wrap; font: 12px/1.4 ui-monospace, monospace; background: #f6f6f6; padding: .6em; }
.detail td { padding: 0 .6em 1em 2em; } .chart svg { max-width: 100%; height: auto; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; } dt { font-weight: bold; }
"""

_SCRIPT = """
(function () {
  var q = document.getElementById('q'), boxes = document.querySelectorAll('input[data-status]');
  function apply() {
    var text = q.value.toLowerCase(), on = {}, shown = 0;
    boxes.forEach(function (b) { on[b.dataset.status] = b.checked; });
    document.querySelectorAll('tr.case').forEach(function (tr) {
      var show = on[tr.dataset.status] && tr.dataset.text.indexOf(text) >= 0;
      tr.hidden = !show;
      var d = document.getElementById(tr.id + '-detail');
      if (d) d.hidden = !show;
      if (show) shown++;
    });
    document.getElementById('shown').textContent = shown;
  }
  var h = new URLSearchParams(location.hash.slice(1));
  if (h.has('status')) {
    var want = h.get('status').split(',');
    boxes.forEach(function (b) { b.checked = want.indexOf(b.dataset.status) >= 0; });
  }
  if (h.has('q')) q.value = h.get('q');
  q.addEventListener('input', apply);
  boxes.forEach(function (b) { b.addEventListener('change', apply); });
  apply();
})();
"""


def html_page(cases: list[Case], capture: str, prof: Profile, absolute: bool = False,
              monitor_kw: dict | None = None) -> str:
    """One self-contained page (inline style, script and SVG): a summary, a filter (text and
    verdict; `#status=violation&q=TEXT` in the URL sets it), one row per judged end, and under
    each violation its report: the segment, the states, what was allowed, the rows with their
    RFC sections, and the sequence chart."""
    e = html.escape
    statuses = (CONFORMANT, VIOLATION, INCONCLUSIVE) + tuple(sorted({c.verdict.status for c in cases}
                                                                    - {CONFORMANT, VIOLATION, INCONCLUSIVE}))
    counts = {s: sum(c.verdict.status == s for c in cases) for s in statuses}
    rows = []
    for i, c in enumerate(cases):
        v = c.verdict
        what = ""
        if v.status == VIOLATION:
            what = f"at segment {v.index}: {v.event}"
        elif v.status == INCONCLUSIVE:
            what = v.message
        text = f"{c.connection} {c.iut} {v.status} {what}".lower()
        rows.append(f'<tr class="case" id="c{i}" data-status="{v.status}" data-text="{e(text)}">'
                    f"<td>{e(c.connection)}</td><td>{e(c.iut)}</td><td>{c.segments}</td>"
                    f'<td class="{v.status}">{v.status}</td><td>{e(what)}</td></tr>')
        if v.status != VIOLATION:
            continue
        detail = [f"<dl><dt>segment</dt><dd>{e(v.event)} (event {v.index})</dd>"]
        detail.append("<dt>IUT could have been in</dt><dd>" + ("<br>".join(e(s) for s in v.states) or "-") + "</dd>")
        detail.append("<dt>spec allowed instead</dt><dd>" + ("<br>".join(e(a) for a in v.allowed)
                                                            or "(no alternative given)") + "</dd>")
        detail.append("<dt>rows (RFC sections)</dt><dd>" + ("<br>".join(e(r) for r in v.rows)
                                                          or "(no row named)") + "</dd>")
        if v.message:
            detail.append(f"<dt>why</dt><dd>{e(v.message)}</dd>")
        detail.append("</dl>")
        if c.events:
            ch, _ = observed_chart(c.events, prof, f"{c.connection}: IUT {c.iut}", c.iut, absolute, monitor_kw)
            svg = chart_svg(ch)
            detail.append(f'<div class="chart">{svg}</div>' if svg else
                          "<p>(no chart: Graphviz's dot is not installed)</p>")
        detail.append(f'<details><summary>full report</summary><div class="report">{e(str(v))}</div></details>')
        rows.append(f'<tr class="detail" id="c{i}-detail"><td colspan="5">{"".join(detail)}</td></tr>')
    boxes = "".join(f'<label><input type="checkbox" data-status="{s}" checked> {s} ({n})</label>'
                    for s, n in counts.items())
    name = os.path.basename(capture)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>synack oracle: {e(name)}</title>
<style>{_STYLE}</style></head><body>
<h1>synack oracle: {e(name)}</h1>
<div class="meta" id="summary">profile {e(prof.label())}; {len(cases)} ends: {", ".join(f"{n} {s}" for s, n in counts.items())}</div>
<div class="filters"><input id="q" type="search" placeholder="filter: address, port, segment text" size="40">
{boxes}<span><span id="shown">{len(cases)}</span> shown</span></div>
<table><thead><tr><th>connection</th><th>IUT</th><th>segments</th><th>verdict</th><th>where</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<p class="meta">Verdicts: conformant (every segment explained by the spec), violation (the first segment no
state explains), inconclusive (the trace ends while the spec still owes a transmission), silent (the end sent
nothing, so it is not judged). Generated by synack.</p>
<script>{_SCRIPT}</script>
</body></html>
"""


def write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
