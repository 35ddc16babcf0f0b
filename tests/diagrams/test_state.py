"""The state diagram's structure, read back from its DOT source: one node per state, one
edge per (from, to) pair of the table, labels computed from the rows."""
import re

import pytest

from synack.diagrams.render import node_state, state_dot
from synack.diagrams.state import state_graph
from synack.gallery import usual_paths
from synack.spec import STATES, State, machine

EDGE = re.compile(r'^\s*"?([^"\s]+)"?\s*->\s*"?([^"\s]+)"?\s*\[(.*)\]\s*$')
NODE = re.compile(r'^\s*"?([A-Z][A-Z0-9~-]*[a-z]*)"?\s*\[label=([^\s\]]+)')


def parse(src):
    nodes = {m.group(1) for line in src.splitlines() if (m := NODE.match(line))}
    edges = [(node_state(m.group(1)), node_state(m.group(2)), m.group(3)) for line in src.splitlines()
             if (m := EDGE.match(line)) and "invis" not in m.group(3) and not m.group(1).startswith("legend")]
    return nodes, edges


def table_pairs(profile):
    return {(s.value, r.to.value) for r in machine(profile).rows if r.to is not None for s in r.states if s is not r.to}


@pytest.mark.parametrize("profile", ["rfc9293", "linux"])
def test_one_node_per_state_and_one_edge_per_pair(profile):
    nodes, edges = parse(state_dot(state_graph(profile)))
    assert {node_state(n) for n in nodes} == {s.value for s in STATES}
    pairs = [(a, b) for a, b, _ in edges]
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == table_pairs(profile)


def test_labels_come_from_the_rows():
    g = state_graph("rfc9293")
    label = {(a.src, a.dst): [lb.text for lb in a.labels] for a in g.arcs}
    assert "rcv SYN / snd SYN,ACK" in label[(State.LISTEN, State.SYN_RECEIVED)]
    assert "rcv SYN,ACK / snd ACK" in label[(State.SYN_SENT, State.ESTABLISHED)]
    assert "rcv ACK of FIN" in label[(State.FIN_WAIT_1, State.FIN_WAIT_2)]
    assert "timeout 2MSL / delete TCB" in label[(State.TIME_WAIT, State.CLOSED)]


def test_hiding_rst_drops_reset_arcs_only():
    shown, hidden = state_graph("rfc9293"), state_graph("rfc9293", show_rst=False)
    texts = [lb.text for a in hidden.arcs for lb in a.labels]
    assert not any("RST" in t or "ABORT" in t for t in texts)
    assert [lb.text for a in hidden.arcs if (a.src, a.dst) == (State.SYN_RECEIVED, State.LISTEN)
            for lb in a.labels] == ["rcv SYN"]
    assert sum(len(a.labels) for a in hidden.arcs) < sum(len(a.labels) for a in shown.arcs)
    assert (State.FIN_WAIT_2, State.TIME_WAIT) in {(a.src, a.dst) for a in hidden.arcs}


def test_usual_paths_come_from_the_four_way_close_run():
    paths = usual_paths("rfc9293")
    assert (State.FIN_WAIT_2, State.TIME_WAIT) in paths["client"]
    assert (State.CLOSE_WAIT, State.LAST_ACK) in paths["server"]
    g = state_graph("rfc9293", paths=paths)
    on = {(a.src, a.dst): a.path for a in g.arcs}
    assert on[(State.SYN_SENT, State.ESTABLISHED)] == "client" and on[(State.LISTEN, State.SYN_RECEIVED)] == "server"
    _, edges = parse(state_dot(g))
    styles = {(a, b): attrs for a, b, attrs in edges}
    assert "dashed" in styles[("LAST-ACK", "CLOSED")] and "penwidth=2.4" in styles[("TIME-WAIT", "CLOSED")]


def test_a_variant_shows_what_it_adds_and_removes():
    g = state_graph("rfc9293+no-time-wait")
    arcs = {(a.src, a.dst): a for a in g.arcs}
    assert arcs[(State.FIN_WAIT_2, State.TIME_WAIT)].status == "removed"
    added = [lb for lb in arcs[(State.FIN_WAIT_2, State.CLOSED)].labels if lb.status == "added"]
    assert [lb.text for lb in added] == ["rcv FIN / snd ACK"] and added[0].rows == ("fin.finwait2.notw",)
    assert all(a.status == "same" for a in state_graph("rfc9293").arcs)
