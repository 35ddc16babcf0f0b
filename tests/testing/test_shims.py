"""`built_shim`: a stack's setup step run once, its last line the shim's path; a failing
setup named with the end of its stderr."""
import pytest

from synack.testing.shims import built_shim


def test_last_line_is_the_path_and_setup_runs_once(tmp_path):
    count = tmp_path / "runs"
    setup = tmp_path / "stack" / "setup.sh"
    setup.parent.mkdir()
    setup.write_text(f"echo x >> {count}\necho 'building…' \necho /cache/stack-123/shim\n")
    assert built_shim(setup) == "/cache/stack-123/shim"
    assert built_shim(setup) == "/cache/stack-123/shim"
    assert count.read_text() == "x\n"


def test_failing_setup_names_itself(tmp_path):
    setup = tmp_path / "mystack" / "setup.sh"
    setup.parent.mkdir()
    setup.write_text("echo 'setup: Debian packages missing: libfoo-dev' >&2\nexit 2\n")
    with pytest.raises(RuntimeError, match=r"mystack/setup.sh failed \(exit 2\): setup: Debian packages missing"):
        built_shim(setup)
