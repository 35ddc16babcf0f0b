"""The committed gallery is what the spec generates now (DOT sources, not pixels)."""
import os

from synack.gallery import gallery_sources

GALLERY = os.path.join(os.path.dirname(__file__), "..", "..", "diagrams", "gallery")


def test_committed_gallery_matches_the_spec():
    sources = gallery_sources()
    stale = []
    for name, (src, _) in sources.items():
        path = os.path.join(GALLERY, name + ".dot")
        with open(path) as fh:
            if fh.read() != src:
                stale.append(name)
        for ext in ("svg", "png"):
            assert os.path.getsize(os.path.join(GALLERY, f"{name}.{ext}")) > 1000
    assert not stale, f"gallery out of date: {stale}; run ./dev synack diagram gallery"
    with open(os.path.join(GALLERY, "README.md")) as fh:
        index = fh.read()
    assert all(f"({name}.svg)" in index for name in sources)
    committed = {f[:-4] for f in os.listdir(GALLERY) if f.endswith(".dot")}
    assert committed == set(sources), committed ^ set(sources)


def test_the_gallery_is_written_under_the_current_directory(tmp_path, monkeypatch):
    """Never into the installed package: a checkout's own gallery, else ./gallery."""
    from synack.diagram_cli import _gallery_default

    monkeypatch.chdir(tmp_path)
    assert _gallery_default() == "gallery"
    monkeypatch.chdir(os.path.join(GALLERY, "..", ".."))
    assert _gallery_default() == os.path.join("diagrams", "gallery")
