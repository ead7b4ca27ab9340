"""Issue 15, the run's side: what a run may replace (dist/ and merge's
output), what it leaves after SIGKILL, how signals and a closed stdout end
it, and what inputs.source_digest covers.

Small projects, one or two linux targets, the session's SDK and GOCACHE.
"""
import hashlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import time

import pytest

from conftest import BINARY, run_xgo, write_project
from test_hostile import one_error
from test_interrupt import SlowMirror

MARKER = ".xgo-build-dist"
MARKER_TEXT = "This directory was written by xgo-build: each run replaces it as a whole.\n"
MAIN = 'package main\n\nfunc main() { println("tiny") }\n'


def tiny(path, sdk_session, targets=('"amd64"',), extra=None, release_tail=""):
    rel = ('project { name = "tiny", version = "1" }\ngo "1.26.8"\n'
           f'build "tiny" {{ targets = matrix {{ goos = {{ "linux" }}, goarch = {{ {", ".join(targets)} }} }} }}\n'
           + release_tail)
    files = {"release.lua": rel, "main.go": MAIN}
    files.update(extra or {})
    return write_project(path, files, sdk_session)


def tree(root):
    """{relative path: bytes} of every file under root."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def manifest(dist):
    return json.loads((dist / "manifest.json").read_text())


def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def env_of(sdk_session):
    env = dict(os.environ, **sdk_session["env"])
    env.pop("NO_COLOR", None)
    return env


# ---- item 1: which directory a run may replace ------------------------------------------


def test_dist_that_is_the_project_parent_is_refused(tmp_path, sdk_session):
    proj = tiny(tmp_path / "p", sdk_session)
    (tmp_path / "unrelated.txt").write_text("keep me")
    before = tree(tmp_path)
    r = run_xgo("run", "--dist", tmp_path, cwd=proj, env=sdk_session["env"])
    one_error(r, 2, f"--dist '{tmp_path}' contains the project directory '{proj}'")
    assert "building" not in r.err
    assert tree(tmp_path) == before
    r = run_xgo("run", "--dist", "..", cwd=proj, env=sdk_session["env"])
    one_error(r, 2, f"--dist '{tmp_path}' contains the project directory")
    r = run_xgo("run", "--dist", ".", cwd=proj, env=sdk_session["env"])
    one_error(r, 2, f"--dist '{proj}' is the project directory")
    # normalised before the comparison: a symlink and '..' on the way
    alias = tmp_path.parent / f"{tmp_path.name}-alias"
    alias.symlink_to(tmp_path)
    try:
        r = run_xgo("run", "--dist", f"{alias}/p/../", cwd=proj, env=sdk_session["env"])
        one_error(r, 2, f"--dist '{tmp_path}' contains the project directory")
    finally:
        alias.unlink()
    assert tree(tmp_path) == before


def test_dist_that_is_a_foreign_non_empty_directory_is_refused(tmp_path, sdk_session):
    proj = tiny(tmp_path / "p", sdk_session)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    r = run_xgo("run", "--dist", out, cwd=proj, env=sdk_session["env"])
    one_error(r, 2, f"'{out}' is not empty and holds no {MARKER}")
    assert "building" not in r.err
    assert tree(out) == {"notes.txt": b"mine"}
    assert not list(tmp_path.glob("out.*"))


def test_dist_empty_string_is_refused(tmp_path, sdk_session):
    proj = tiny(tmp_path / "p", sdk_session)
    before = tree(tmp_path)
    r = run_xgo("run", "--dist", "", cwd=proj, env=sdk_session["env"])
    one_error(r, 2, "--dist '' names no directory")
    assert tree(tmp_path) == before


@pytest.mark.parametrize("where", ["work", "cache", "gocache"])
def test_dist_inside_the_work_dir_or_a_cache_is_refused(tmp_path, sdk_session, where):
    proj = tiny(tmp_path / "p", sdk_session)
    base = {"work": proj / ".xgo-build", "cache": sdk_session["env"]["XGO_CACHE"],
            "gocache": sdk_session["env"]["XGO_GOCACHE"]}[where]
    dist = f"{base}/out" if where != "work" else str(base)
    r = run_xgo("run", "--dist", dist, cwd=proj, env=sdk_session["env"])
    assert r.rc == 2, r
    errors = [line for line in r.err.splitlines() if line.startswith("xgo-build: error: ")]
    assert len(errors) == 1 and f"--dist '{dist}'" in errors[0], r
    assert ("is the work directory" if where == "work" else "lies inside") in errors[0], r
    assert not os.path.exists(f"{base}/out")


def test_a_run_replaces_its_own_dist_and_an_empty_one(tmp_path, sdk_session):
    proj = tiny(tmp_path / "p", sdk_session)
    out = tmp_path / "out"
    out.mkdir()
    for _ in range(2):
        r = run_xgo("run", "--dist", out, cwd=proj, env=sdk_session["env"])
        assert r.rc == 0, r
        assert (out / MARKER).read_text().startswith("This directory was written by xgo-build")
        assert (out / "manifest.json").exists()
    # A marker with other content is not ours.
    (out / MARKER).write_text("forged\n")
    r = run_xgo("run", "--dist", out, cwd=proj, env=sdk_session["env"])
    one_error(r, 2, "holds no .xgo-build-dist")


def test_merge_output_follows_the_same_rule(tmp_path, sdk_session):
    proj = tiny(tmp_path / "p", sdk_session, targets=('"amd64"', '"arm64"'))
    for k in (1, 2):
        r = run_xgo("run", "--shard", f"{k}/2", "--dist", tmp_path / f"s{k}", cwd=proj, env=sdk_session["env"])
        assert r.rc == 0, r
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    r = run_xgo("merge", "--dist", foreign, tmp_path / "s1", tmp_path / "s2")
    assert r.rc != 0 and f"'{foreign}' is not empty and holds no {MARKER}" in r.err, r
    assert tree(foreign) == {"notes.txt": b"mine"}
    assert not list(tmp_path.glob("foreign.*"))
    out = tmp_path / "merged"
    for _ in range(2):  # merge replaces its own output
        r = run_xgo("merge", "--dist", out, tmp_path / "s1", tmp_path / "s2")
        assert r.rc == 0, r
        assert (out / MARKER).exists()


# ---- item 10: what SIGKILL leaves ---------------------------------------------------------


def test_stale_old_and_tmp_dirs_of_dead_runs_are_removed_only_when_marked(tmp_path, sdk_session):
    proj = tiny(tmp_path / "p", sdk_session)
    pid = dead_pid()
    old = proj / f"dist.old-{pid}"   # a swap killed after moving the previous dist aside
    old.mkdir()
    (old / MARKER).write_text(MARKER_TEXT)
    (old / "hello").write_text("previous")
    stage = proj / f"dist.tmp-{pid}"  # a stage killed right after its mkdir
    stage.mkdir()
    foreign = proj / f"dist.tmp-{pid + 1 if pid + 1 != os.getpid() else pid + 2}x"
    foreign.mkdir()
    unmarked = proj / f"dist.old-{dead_pid()}"
    unmarked.mkdir()
    (unmarked / "notes.txt").write_text("not written by xgo-build")
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 0, r
    assert not old.exists() and not stage.exists()
    assert f"removing '{old}', left by an interrupted run" in r.err
    assert foreign.exists() and unmarked.exists() and (unmarked / "notes.txt").exists()
    assert (proj / "dist" / MARKER).exists()


# ---- item 11: signals and a closed stdout -------------------------------------------------


def start_run(proj, sdk_session, *args, stdout=subprocess.DEVNULL, env=None):
    return subprocess.Popen([str(BINARY), "run", *args], cwd=proj, env=env or env_of(sdk_session),
                            stdout=stdout, stderr=subprocess.PIPE, text=True)


def wait_for(path, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline and not path.exists():
        time.sleep(0.05)
    assert path.exists(), path


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_build_exits_130_and_removes_the_stage(tmp_path, sdk_session, sig):
    proj = tiny(tmp_path / "p", sdk_session, targets=('"amd64"', '"arm64"'))
    # a fresh GOCACHE, so that the builds take long enough to interrupt
    p = start_run(proj, sdk_session, "--no-cache", env=dict(env_of(sdk_session), XGO_GOCACHE=str(tmp_path / "gc")))
    wait_for(proj / ".xgo-build" / "logs")
    time.sleep(0.5)
    assert p.poll() is None
    p.send_signal(sig)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "interrupted" in err
    assert not list(proj.glob("dist*")), err


def test_signal_during_the_sdk_download_exits_130(tmp_path, sdk_session):
    """SIGTERM while the SDK downloads (a fresh cache, a slow mirror): no
    stage exists yet, the run ends at once with the documented code."""
    proj = tiny(tmp_path / "p", sdk_session)
    # A pin without a tree digest: a local SDK cannot stand in for the
    # download (a quick copy of /usr/local/go ended the SDK step too soon)
    lock = json.loads((proj / "release.lock").read_text())
    for plat in lock["platforms"].values():
        plat["tree_digest"] = None
    (proj / "release.lock").write_text(json.dumps(lock, indent=2))
    slow = SlowMirror(sdk_session["mirror"], rate=4 << 20)
    try:
        env = dict(env_of(sdk_session), XGO_CACHE=str(tmp_path / "cache"), XGO_SDK_MIRROR=slow.url)
        p = subprocess.Popen([str(BINARY), "run"], cwd=proj, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        assert p.poll() is None
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
    finally:
        slow.close()
    assert p.returncode == 130, err
    assert "interrupted" in err and "downloading '" in err, err
    assert not list(proj.glob("dist*"))


def test_sigint_after_the_last_job_exits_130_with_cleanup(tmp_path, sdk_session):
    """The jobs are done, an after hook runs: SIGINT stops it, the stage is
    removed, dist/ keeps the previous release."""
    proj = tiny(tmp_path / "p", sdk_session, release_tail='after { "touch hook-started; sleep 30" }\n')
    p = start_run(proj, sdk_session)
    wait_for(proj / "hook-started")
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert not list(proj.glob("dist*")), err


def test_sigint_while_archiving_after_the_last_job_exits_130(tmp_path, sdk_session):
    """The last job is done and its archive is being packed (a big file):
    SIGINT there used to kill the process by the signal and leave the stage."""
    proj = tiny(tmp_path / "p", sdk_session, release_tail=(
        'archive { format = "tar.gz", name = "{name}_{os}_{arch}", files = { "big.bin" } }\n'))
    (proj / "big.bin").write_bytes(os.urandom(32 << 20))
    p = start_run(proj, sdk_session, "--no-cache")
    for line in p.stderr:
        if "[1/1] ok" in line:
            break
    time.sleep(0.2)
    assert p.poll() is None, "the archive was packed before the signal: make big.bin bigger"
    p.send_signal(signal.SIGINT)
    err = p.stderr.read()
    p.wait(timeout=120)
    assert p.returncode == 130, err
    assert "interrupted" in err
    assert not list(proj.glob("dist*")), err


def test_closed_stdout_does_not_kill_the_build(tmp_path, sdk_session):
    """`run --json | head -1`: the reader goes away after one line."""
    proj = tiny(tmp_path / "p", sdk_session)
    p = start_run(proj, sdk_session, "--json", stdout=subprocess.PIPE)
    first = p.stdout.readline()
    assert json.loads(first)["event"] == "run_started"
    p.stdout.close()
    err = p.stderr.read()
    p.wait(timeout=300)
    assert p.returncode == 0, err
    assert "no more JSON events; the run goes on" in err
    assert (proj / "dist" / "manifest.json").exists()
    assert sorted(x.name for x in proj.glob("dist*")) == ["dist"]


# ---- item 14: the source digest -----------------------------------------------------------


def expected_digest(root, leave_out):
    """inputs.source_digest as source.h defines it, computed here."""
    recs = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(rel == x or x in rel.parents for x in leave_out) or p.is_dir() and not p.is_symlink():
            continue
        if p.is_symlink():
            recs.append((f"l {hashlib.sha256(os.readlink(p).encode()).hexdigest()} {rel}", str(rel)))
        else:
            data = p.read_bytes()
            mode = "755" if p.stat().st_mode & 0o111 else "644"
            recs.append((f"f {mode} {len(data)} {hashlib.sha256(data).hexdigest()} {rel}", str(rel)))
    recs.sort(key=lambda r: r[1].encode())
    return hashlib.sha256(b"".join(r[0].encode() + b"\0" for r in recs)).hexdigest()


def test_same_sources_in_two_places_have_one_digest_and_merge(tmp_path, sdk_session):
    a = tiny(tmp_path / "a" / "tiny", sdk_session, targets=('"amd64"', '"arm64"'))
    b = tmp_path / "elsewhere" / "deeper" / "tiny"
    shutil.copytree(a, b)
    r = run_xgo("run", "--shard", "1/2", cwd=a, env=sdk_session["env"])
    assert r.rc == 0, r
    r = run_xgo("run", "--shard", "2/2", cwd=b, env=sdk_session["env"])
    assert r.rc == 0, r
    da, db = manifest(a / "dist")["inputs"]["source_digest"], manifest(b / "dist")["inputs"]["source_digest"]
    assert da == db
    assert da == expected_digest(a, [pathlib.Path(x) for x in ("dist", ".xgo-build")])
    r = run_xgo("run", "--shard", "1/2", cwd=a, env=sdk_session["env"])  # again, same directory
    assert r.rc == 0 and manifest(a / "dist")["inputs"]["source_digest"] == da, r
    r = run_xgo("merge", "--dist", tmp_path / "merged", a / "dist", b / "dist")
    assert r.rc == 0, r


def test_digest_skips_the_real_dist_and_work_dirs_only(tmp_path, sdk_session):
    """--dist .../artifacts/version leaves a top-level version/ in the
    digest; .xgo-build and .git below the top are sources too."""
    extra = {"version/data.txt": "v1\n", "sub/.xgo-build/x.txt": "x\n", "sub/.git/y.txt": "y\n",
             ".git/HEAD": "ref: refs/heads/main\n", "dist/web.txt": "embedded web page\n"}
    proj = tiny(tmp_path / "p", sdk_session, extra=extra)
    out = tmp_path / "artifacts" / "version"
    r = run_xgo("run", "--dist", out, cwd=proj, env=sdk_session["env"])
    assert r.rc == 0, r
    got = manifest(out)["inputs"]["source_digest"]
    assert got == expected_digest(proj, [pathlib.Path(x) for x in (".git", ".xgo-build")])
