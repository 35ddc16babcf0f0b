"""What a user gets from `pip install`: the sdist and the wheel built from it, installed into a
fresh virtual environment outside the checkout, used from an empty directory. Catches package
data left out of the wheel (the C sources the engines compile, the schemas), a failed native
build that is not a clean fallback, and commands that write into the installed package.

The fresh environment borrows the test environment's dependencies (a .pth file naming its
site-packages: fast, and no network but for `build` and setuptools); the .pth adds only
that directory, so the checkout's editable install of synack is never imported there."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CAPTURE = ROOT / "examples" / "captures" / "client-close.pcap"
TRACE = ROOT / "examples" / "traces" / "linux-half-close-server.jsonl"

PLUGIN_TEST = '''
import pytest
from synack.oracle.strategies import traces
from hypothesis import given, settings

def test_handshake(tcp_oracle):
    tcp_oracle.assert_conformant([{"dir": "out", "flags": "SYN", "seq": 1},
                                  {"dir": "in", "flags": "SYN,ACK", "seq": 9, "ack": 2},
                                  {"dir": "out", "flags": "ACK", "seq": 2, "ack": 10}])

def test_recorded_capture(tcp_oracle):
    tcp_oracle.assert_conformant("client-close.pcap")

@pytest.mark.synack_profile("linux")
def test_recorded_trace(tcp_oracle):
    tcp_oracle.assert_conformant("trace.jsonl")
'''


def _sources(dest: Path) -> None:
    """The checkout's files as git sees them (tracked and new, not ignored) copied to `dest`:
    what a clone would hold, without .venv, build output or caches."""
    if (ROOT / ".git").exists() and shutil.which("git"):
        names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                               capture_output=True, check=True).stdout.decode().split("\0")
        for name in filter(None, names):
            src = ROOT / name
            if src.is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / name)
    else:
        shutil.copytree(ROOT, dest, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__"))


def _run(cmd, cwd, env, timeout=120, ok=(0,)) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode in ok, f"{cmd} exited {r.returncode}\nstdout: {r.stdout[-3000:]}\nstderr: {r.stderr[-3000:]}"
    assert "Traceback" not in r.stderr, r.stderr
    return r


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv bin directory, environment, work directory, installed package directory)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src, dist, env_dir, work = tmp / "src", tmp / "dist", tmp / "venv", tmp / "work"
    for d in (src, dist, work):
        d.mkdir()
    _sources(src)
    venv.EnvBuilder(with_pip=True, symlinks=True).create(env_dir)
    bin_ = env_dir / "bin"
    py = str(bin_ / "python")
    site = Path(subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_synack_test_deps.pth").write_text("\n".join(sorted(ours)) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PYTEST"))}
    env.update(PATH=f"{bin_}{os.pathsep}{env.get('PATH', '')}", XDG_CACHE_HOME=str(tmp / "cache"),
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    _run([py, "-m", "pip", "install", "-q", "build"], tmp, env, timeout=300)
    # the wheel is built from the sdist, so both must carry what the engines read at run time
    _run([py, "-m", "build", "-q", "--outdir", str(dist), str(src)], tmp, env, timeout=600)
    wheel = next(dist.glob("synack-*.whl"))
    _run([py, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], tmp, env, timeout=300)
    pkg = site / "synack"
    assert pkg.is_dir()
    shutil.copy(CAPTURE, work / "client-close.pcap")
    shutil.copy(TRACE, work / "trace.jsonl")
    return bin_, env, work, pkg, dist


def _files(pkg: Path) -> set[str]:
    return {str(p.relative_to(pkg)) for p in pkg.rglob("*") if "__pycache__" not in p.parts}


def test_sdist_and_wheel_carry_what_the_engines_read(installed):
    import tarfile
    import zipfile

    _, _, _, pkg, dist = installed
    for name in ("oracle/_judge.c", "checker/_bfs.c", "oracle/trace.schema.json", "spec/spec.schema.json"):
        assert (pkg / name).is_file(), name
    wheel = zipfile.ZipFile(next(dist.glob("synack-*.whl")))
    meta = wheel.read(next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    for field in ("License-Expression: Apache-2.0", "Author: synack maintainers", "Classifier: Framework :: Pytest",
                  "Provides-Extra: cluster", 'Requires-Dist: distributed>=2024.1; extra == "cluster"'):
        assert field in meta, field
    # `pip install synack` without the extra does not bring Dask: --executor dask says which extra it needs
    assert [ln for ln in meta.splitlines()
            if ln.startswith("Requires-Dist:") and "distributed" in ln and "extra ==" not in ln] == []
    assert any(n.endswith("licenses/LICENSE") for n in wheel.namelist())
    with tarfile.open(next(dist.glob("synack-*.tar.gz"))) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert {"LICENSE", "oracle/_judge.c", "checker/_bfs.c", "examples/captures/client-close.pcap"} <= names


def test_commands_from_an_empty_directory(installed):
    bin_, env, work, pkg, _ = installed
    before = _files(pkg)
    syn = str(bin_ / "synack")
    r = _run([syn, "check", "-s", "handshake", "-C", "1", "--retries", "1", "-q"], work, env)
    assert "HOLDS" in r.stdout and "native" in r.stdout
    lines = {}
    for engine in ("native", "python"):
        r = _run([syn, "oracle", "client-close.pcap", "--engine", engine, "--json"], work, env)
        lines[engine] = [ln for ln in r.stdout.splitlines() if '"summary"' not in ln]
        assert f'"engine": "{engine}"' in r.stdout
    assert lines["native"] == lines["python"] and len(lines["native"]) == 2
    r = _run([syn, "oracle", "trace.jsonl", "--html", "r.html", "--junit-xml", "r.xml"], work, env)
    assert r.stdout.startswith("CONFORMANT") and (work / "r.html").is_file() and (work / "r.xml").is_file()
    r = _run([str(bin_ / "python"), "-c", "import synack.testing, synack.report, synack.oracle.plugin"], work, env)
    r = _run([syn, "diagram", "state", "-f", "dot"], work, env)
    assert (work / "tcp-states-rfc9293.dot").is_file()
    assert _files(pkg) == before, "a command wrote into the installed package"


def test_a_failed_native_build_falls_back_in_one_line(installed, tmp_path):
    bin_, env, work, _, _ = installed
    env = {**env, "CC": "false", "XDG_CACHE_HOME": str(tmp_path)}       # a compiler that always fails
    r = _run([str(bin_ / "synack"), "oracle", "client-close.pcap", "--json"], work, env)
    assert '"engine": "python"' in r.stdout
    assert r.stderr.count("\n") == 1 and "using the Python engine" in r.stderr, r.stderr


def test_the_plugin_from_a_foreign_test_suite(installed):
    bin_, env, work, _, _ = installed
    (work / "test_mine.py").write_text(PLUGIN_TEST)
    r = _run([str(bin_ / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_mine.py"], work, env)
    assert "3 passed" in r.stdout
