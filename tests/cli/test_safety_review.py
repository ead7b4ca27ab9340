"""A hostile review of issue 15's fixes: the cases the first round missed.

Every case checks: the documented exit code; exactly one
"xgo-build: error: ..." line naming the value at fault; nothing written
(snapshot).
"""
import hashlib
import json
import os

import pytest  # noqa: F401

from conftest import run_xgo, write_project
from test_cache import env_with_cache
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
