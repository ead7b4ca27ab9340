"""Every bundled example runs with its own committed release.lock, exactly as
a new user runs it after the README's first command (issue 18, item 12).

examples/hello runs whole here; examples/cgo runs whole in test_cgo.py
(test_example_builds_every_target), whose fixture uses the committed lock
unchanged.  Here it is checked that the committed pins hold on this machine:
`lock` in a copy writes the same pins as are committed."""
import json
import shutil
import subprocess

from conftest import ROOT, run_xgo


def _copy(name, dest):
    shutil.copytree(ROOT / "examples" / name, dest, ignore=shutil.ignore_patterns("dist", ".xgo-build"))
    return dest


def test_example_hello_runs_with_its_committed_lock(tmp_path, sdk_session):
    proj = _copy("hello", tmp_path / "hello")
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 0, r
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=proj / "dist", capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert (proj / "release.lock").read_text() == (ROOT / "examples/hello/release.lock").read_text()


def test_example_cgo_committed_zig_pin_matches_this_machine(tmp_path, sdk_session):
    """The zig pin covers exactly what the ziglang wheel ships: pip's and
    Python's __pycache__ byte code is left out, so a fresh `configure --deps`
    install matches the committed pin."""
    proj = _copy("cgo", tmp_path / "cgo")
    committed = json.loads((proj / "release.lock").read_text())
    r = run_xgo("lock", cwd=proj, env=sdk_session["env"])
    assert r.rc == 0, r
    relocked = json.loads((proj / "release.lock").read_text())
    assert relocked["zig"] == committed["zig"]
