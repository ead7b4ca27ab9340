"""Issue 15 item 8: nothing built with an SDK whose tree changed after it was
verified is stored in the action cache or published.

The check at the start of a run is skipped within XGO_SDK_RECHECK of the
last walk, so these tests change the cached GOROOT right after a good run,
as an attacker with write access to the cache (or a careless `go install`
into it) would, and then make a job build."""
import hashlib
import json
import pathlib
import shutil
import subprocess

from conftest import RUN_RECORDS, run_xgo
from test_hostile import dist_state, one_error, tiny_project

EVIL = 'package fmt\n\nfunc init() { println("not the pinned SDK") }\n'


def _project(tmp_path, sdk_session):
    """A tiny project with its own SDK cache (installed from the session's
    mirror) and the session's GOCACHE: the cache is what gets tampered."""
    proj = tiny_project(tmp_path / "tiny", sdk_session)
    env = dict(sdk_session["env"], XGO_CACHE=str(tmp_path / "cache"))
    for _ in range(2):  # the install, then a run whose walk stamps the entry as checked
        r = run_xgo("run", cwd=proj, env=env)
        assert r.rc == 0, r
    assert "was changed after it was installed" not in r.err
    goroot = next((tmp_path / "cache" / "sdk").glob("go*/go"))
    return proj, env, goroot


def _action_entries(env):
    ac = pathlib.Path(env["XGO_CACHE"]) / "actions" / "ac"
    return sorted(str(p.relative_to(ac)) for p in ac.rglob("*") if p.is_file())


def _binary(proj):
    return next(p for p in (proj / "dist").rglob("tiny*") if p.is_file() and p.suffix == "")


def test_sdk_changed_after_a_run_is_neither_used_nor_cached(tmp_path, sdk_session):
    proj, env, goroot = _project(tmp_path, sdk_session)
    before, entries = dist_state(proj / "dist"), _action_entries(env)
    (goroot / "src" / "fmt" / "zz_evil.go").write_text(EVIL)
    (proj / "main.go").write_text('package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("tiny 2") }\n')

    r = run_xgo("run", cwd=proj, env=env)
    one_error(r, 4, "changed after it was verified")
    assert dist_state(proj / "dist") == before
    assert _action_entries(env) == entries, "a binary of the changed SDK was stored"
    assert not [q for q in proj.iterdir() if q.name.startswith("dist.")]

    # The next run walks the tree, sees the change, installs the SDK again
    # and builds what a clean SDK builds.
    r = run_xgo("run", cwd=proj, env=env)
    assert r.rc == 0, r
    assert not (goroot / "src" / "fmt" / "zz_evil.go").exists()
    got = hashlib.sha256(_binary(proj).read_bytes()).hexdigest()
    fresh = tmp_path / "fresh"
    shutil.copytree(proj, fresh, ignore=shutil.ignore_patterns("dist", ".xgo-build"))
    r = run_xgo("run", "--no-cache", cwd=fresh, env=sdk_session["env"])
    assert r.rc == 0, r
    assert hashlib.sha256(_binary(fresh).read_bytes()).hexdigest() == got


def test_sdk_changed_is_refused_with_no_cache_too(tmp_path, sdk_session):
    proj, env, goroot = _project(tmp_path, sdk_session)
    before = dist_state(proj / "dist")
    (goroot / "src" / "fmt" / "zz_evil.go").write_text(EVIL)
    r = run_xgo("run", "--no-cache", cwd=proj, env=env)
    one_error(r, 4, "changed after it was verified")
    assert dist_state(proj / "dist") == before


def test_a_run_that_builds_nothing_needs_no_second_look(tmp_path, sdk_session):
    """Cached binaries were built by the verified SDK: a no-op rerun within
    XGO_SDK_RECHECK publishes them without walking the tree again, even
    though it changed (the guard runs only when a job really builds)."""
    proj, env, goroot = _project(tmp_path, sdk_session)
    before = dist_state(proj / "dist")
    (goroot / "src" / "fmt" / "zz_evil.go").write_text(EVIL)
    r = run_xgo("run", "--json", cwd=proj, env=env)
    assert r.rc == 0, r
    events = [json.loads(line) for line in r.out.splitlines()]
    assert {e["status"] for e in events if e["event"] == "job_finished"} == {"cached"}
    after = dist_state(proj / "dist")
    for name in RUN_RECORDS:  # run times differ
        before.pop(name), after.pop(name)
    assert after == before


def test_a_copied_cache_is_judged_by_its_content(tmp_path, sdk_session):
    """A CI cache restore (cp -a) gives every file a new inode and ctime, so
    the stat fingerprint differs; the SDK's content is still the pinned
    one, and a run that builds must go on (it failed once with exit 4)."""
    proj, env, goroot = _project(tmp_path, sdk_session)
    copy = tmp_path / "cache-copy"
    subprocess.run(["cp", "-a", env["XGO_CACHE"], str(copy)], check=True)
    env = dict(env, XGO_CACHE=str(copy))
    (proj / "main.go").write_text('package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("tiny 3") }\n')
    r = run_xgo("run", cwd=proj, env=env)
    assert r.rc == 0, r
