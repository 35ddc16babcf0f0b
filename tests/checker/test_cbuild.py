"""Building the C helpers: a build that cannot happen is one line on stderr and None (the
callers then run their Python engines), never a traceback; a good source builds and loads."""
import ctypes

import pytest

from synack.checker import cbuild


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(cbuild, "FAILED", {})
    return tmp_path


def test_a_good_source_builds_and_loads(fresh):
    src = fresh / "ok.c"
    src.write_text("int twice(int x) { return 2 * x; }\n")
    lib = cbuild.build(src, "ok", {"twice": (ctypes.c_int, [ctypes.c_int])})
    assert lib is not None and lib.twice(21) == 42
    assert list((fresh / "cache" / "synack").glob("ok-*.so"))


@pytest.mark.parametrize("case, said", [("missing", "cannot read nope.c"), ("error", "failed on bad.c"),
                                        ("false-cc", "false failed on bad.c"), ("no-cc", "no C compiler"),
                                        ("symbol", "undefined symbol")])
def test_a_failed_build_is_one_line_and_none(fresh, capsys, monkeypatch, case, said):
    src = fresh / ("nope.c" if case == "missing" else "bad.c")
    if case != "missing":
        src.write_text("int f(void) { return 1; }\n" if case == "symbol" else "int f( {\n")
    if case == "false-cc":
        monkeypatch.setenv("CC", "false")
    if case == "no-cc":
        monkeypatch.delenv("CC", raising=False)
        monkeypatch.setenv("PATH", str(fresh))
    assert cbuild.build(src, "t", {"g": (ctypes.c_int, [])}) is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("synack: native t engine unavailable (") and said in err, err
    assert "using the Python engine" in err
    assert cbuild.build(src, "t", {"g": (ctypes.c_int, [])}) is None
    assert capsys.readouterr().err == ""                 # said once per helper and process
