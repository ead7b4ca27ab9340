"""A hostile review of issue 15's fixes: the cases the first round missed.

Every case checks: the documented exit code; exactly one
"xgo-build: error: ..." line naming the value at fault; nothing written
(snapshot).
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from types import SimpleNamespace

import pytest

from conftest import BINARY, run_xgo, write_project
from test_cache import env_with_cache
from test_hostile import one_error, snapshot
from test_safety_paths import copies, edit, merge_refused, shards  # noqa: F401 (shards is a fixture)


# ---- merge: a shard's name equal to the dist marker ----------------------------------------

def test_merge_refuses_a_checksum_file_named_like_the_marker(shards, tmp_path):  # noqa: F811
    """The marker is written last: the old merge published no checksum
    file at all, exit 0, with a manifest that names one."""
    dirs = copies(shards, tmp_path)
    for d in dirs:
        edit(d, lambda m: m["checksums"].update(file=".xgo-build-dist"))
    merge_refused(tmp_path, dirs, "checksums.file '.xgo-build-dist' is the name of xgo-build's dist marker")


def test_merge_refuses_an_archive_named_like_the_marker(shards, tmp_path):  # noqa: F811
    dirs = copies(shards, tmp_path)
    arc = next(dirs[0].glob("*.tar.gz"))
    arc.rename(dirs[0] / ".xgo-build-dist")
    edit(dirs[0], lambda m: m["archives"][0].update(name=".xgo-build-dist"))
    merge_refused(tmp_path, dirs, "archive name '.xgo-build-dist' is the name of xgo-build's dist marker")


# ---- the action cache: a content that is not a regular file ---------------------------------

MAIN = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("review: cas fifo") }\n'
RELEASE = '''project { name = "r", version = "1.0.0" }
go "1.26.8"
build "r" { main = "./cmd/r", targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }
'''


def test_a_cas_content_that_is_a_fifo_is_dropped_and_stored_again(tmp_path, sdk_session):
    """The old code printed an 'error:' line on every run (exit 0) and never
    stored the content again: the FIFO stayed, every run was a miss."""
    proj = write_project(tmp_path / "p", {"cmd/r/main.go": MAIN, "release.lua": RELEASE}, sdk_session)
    env = env_with_cache(sdk_session, tmp_path / "cache")
    r = run_xgo("run", cwd=proj, env=env)
    assert r.rc == 0, r
    sha = json.loads((proj / "dist/manifest.json").read_text())["jobs"][0]["sha256"]
    blob = tmp_path / "cache/actions/cas" / sha
    blob.unlink()
    os.mkfifo(blob)
    r = run_xgo("run", cwd=proj, env=env, timeout=120)
    assert r.rc == 0, r
    assert "error:" not in r.err, r
    assert f"warning: action cache: {blob} is corrupt; dropping it and building" in r.err, r
    assert blob.is_file() and hashlib.sha256(blob.read_bytes()).hexdigest() == sha
    r = run_xgo("run", cwd=proj, env=env)
    assert r.rc == 0 and "1 from the action cache" in r.err, r


# ---- merge: a signal while it writes ---------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_merge_interrupted_exits_130_and_leaves_no_stage(shards, tmp_path, sig):  # noqa: F811
    """The old merge died by the signal (exit 143, 129) and left OUT.tmp-PID
    (with its marker and every copied file) for good: no merge removes it."""
    dirs = copies(shards, tmp_path)
    assert run_xgo("merge", "--dist", tmp_path / "out", *dirs).rc == 0
    # a big archive, so that the signal comes while merge copies
    big = 256 << 20
    name = json.loads((dirs[1] / "manifest.json").read_text())["archives"][0]["name"]
    with open(dirs[1] / name, "wb") as f:
        f.truncate(big)

    def grow(m):
        m["archives"][0].update(size=big, sha256=hashlib.sha256(bytes(big)).hexdigest())
    edit(dirs[1], grow)
    before = {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("in/")}
    p = subprocess.Popen([str(BINARY), "merge", "--dist", tmp_path / "out", *dirs], stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while not list(tmp_path.glob("out.tmp-*")) and time.monotonic() - t0 < 20:
        time.sleep(0.005)
    p.send_signal(sig)
    err = p.communicate(timeout=60)[1]
    one_error(SimpleNamespace(rc=p.returncode, out="", err=err), 130, f"interrupted: {tmp_path / 'out'} is unchanged")
    after = {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("in/")}
    assert after == before, "the previous OUT byte for byte, no stage"


# ---- the build file: what reaches go build ---------------------------------------------------

HELLO_LD = '''project { name = "h", version = env("VERSION", "1.0") }
go "1.26.8"
build "h" { ldflags = { "-s", "-X main.version={version}" }, %s
            targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }
'''


@pytest.mark.parametrize("version", ["1 -o escape.bin", "1'x", "1\tx"])
def test_a_version_that_is_not_one_word_is_refused(xgo, tmp_path, version):
    """{version} goes into -ldflags, which go splits at spaces: the old code
    ran the linker with '-o escape.bin', which wrote into the project."""
    (tmp_path / "release.lua").write_text(HELLO_LD % "")
    before = snapshot(tmp_path)
    r = xgo("plan", "release.lua", cwd=tmp_path, env={"VERSION": version})
    one_error(r, 2, "must be non-empty, without '/', '..', spaces, quotes or control characters")
    assert snapshot(tmp_path) == before


def test_build_flags_pgo_auto_and_off_are_accepted(xgo, tmp_path):
    (tmp_path / "release.lua").write_text(HELLO_LD % 'flags = { "-pgo=off" },')
    assert xgo("plan", "release.lua", cwd=tmp_path).rc == 0


def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_merge_removes_stale_stages_of_a_killed_merge_only_when_marked(shards, tmp_path):  # noqa: F811
    """A SIGKILLed merge leaves OUT.tmp-PID (marked: merge marks its stage
    first); the old merge never removed it (only run did, beside dist/)."""
    dirs = copies(shards, tmp_path)
    pid, other = dead_pid(), dead_pid()
    stale, old, foreign = (tmp_path / f"out.tmp-{pid}", tmp_path / f"out.old-{pid}", tmp_path / f"out.old-{other}")
    for d in (stale, old):
        d.mkdir()
        shutil.copy(next(p for p in dirs[0].iterdir() if p.name == ".xgo-build-dist"), d)
        (d / "big").write_bytes(b"x" * 1000)
    foreign.mkdir()
    (foreign / "mine").write_text("a user's file\n")
    r = run_xgo("merge", "--dist", tmp_path / "out", *dirs)
    assert r.rc == 0, r
    assert f"removing '{stale}', left by an interrupted run" in r.err, r
    assert not stale.exists() and not old.exists()
    assert (foreign / "mine").read_text() == "a user's file\n"


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)")
def test_merge_never_writes_into_a_stage_it_did_not_make(shards, tmp_path):  # noqa: F811
    """OUT.tmp-PID planted as a symlink to a user's directory: the old merge
    (mkdir_p) wrote the release into that directory and renamed the link to
    OUT.  In a PID namespace merge is PID 1, so its stage name is known."""
    dirs = copies(shards, tmp_path)
    user = tmp_path / "user"
    user.mkdir()
    (user / "mine").write_text("a user's file\n")
    (tmp_path / "out.tmp-1").symlink_to(user)
    probe = subprocess.run(["unshare", "-pf", "--kill-child", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no PID namespace here")
    before = snapshot(tmp_path)
    p = subprocess.run(["unshare", "-pf", "--kill-child", str(BINARY), "merge", "--dist", tmp_path / "out", *dirs],
                       capture_output=True, text=True, timeout=60)
    one_error(SimpleNamespace(rc=p.returncode, out=p.stdout, err=p.stderr), 1, "cannot create the staging directory")
    assert snapshot(tmp_path) == before


# ---- stdout that cannot be written ------------------------------------------------------------

@pytest.mark.parametrize("args", [["plan", "release.lua"], ["targets"], ["--help"]])
def test_output_into_a_full_disk_is_an_error(tmp_path, args):
    """The old code exited 0 with nothing written (`plan > /dev/full`)."""
    (tmp_path / "release.lua").write_text(HELLO_LD % "")
    with open("/dev/full", "w") as full:
        p = subprocess.run([str(BINARY), *args], cwd=tmp_path, stdout=full, stderr=subprocess.PIPE, text=True,
                           timeout=60)
    one_error(SimpleNamespace(rc=p.returncode, out="", err=p.stderr), 1, "cannot write to standard output")


def test_a_reader_that_stops_is_no_error(tmp_path):
    (tmp_path / "release.lua").write_text(HELLO_LD % "")
    p = subprocess.run(f"'{BINARY}' plan release.lua | head -c1 >/dev/null; exit ${{PIPESTATUS[0]}}", shell=True,
                       executable="/bin/bash", cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "error" not in p.stderr, p
