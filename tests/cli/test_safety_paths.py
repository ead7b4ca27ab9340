"""Paths from input (issue 15): archive files through symlinks, merge's
names from shard manifests, and readers that must not hang on a FIFO or a
device.

Every case checks: exit 2; exactly one "xgo-build: error: ..." line naming
the entry and, for a symlink, where it leads; nothing written outside its
place (snapshot); no go build started (no dist/, no "building", fast).
"""
import hashlib
import json
import os
import shutil
import tarfile
import time

import pytest

from conftest import run_xgo, write_project
from test_hostile import one_error, snapshot

MAIN = 'package main\n\nfunc main() { println("p") }\n'


def release(go, files, checksums=True, targets='"amd64"'):
    text = (f'project {{ name = "p", version = "1.0.0" }}\ngo "{go}"\n'
            f'build "p" {{ targets = matrix {{ goos = {{ "linux" }}, goarch = {{ {targets} }} }} }}\n'
            f'archive {{ files = {{ {", ".join(json.dumps(f) for f in files)} }} }}\n')
    if checksums:
        text += 'checksums { file = "SHA256SUMS", algorithm = "sha256" }\n'
    return text


def project(path, sdk_session, files, **kw):
    go = json.loads(sdk_session["lock"])["go"]
    return write_project(path, {"release.lua": release(go, files, **kw), "main.go": MAIN, "LICENSE": "license\n",
                                "NOTES.md": "notes inside\n"}, sdk_session)


def run_refused(proj, sdk_session, needle):
    """run is refused in prepare: exit 2, one error, no build, no dist."""
    before = snapshot(proj)
    t0 = time.monotonic()
    r = run_xgo("run", cwd=proj, env=sdk_session["env"], timeout=60)
    one_error(r, 2, needle)
    assert time.monotonic() - t0 < 30
    assert "building" not in r.err, r
    assert not (proj / "dist").exists()
    assert {k: v for k, v in snapshot(proj).items() if not k.startswith(".xgo-build")} == before
    return r


# ---- archive files through symlinks ---------------------------------------------------------

def test_files_symlink_to_a_file_outside_is_refused_before_building(tmp_path, sdk_session):
    proj = project(tmp_path / "p", sdk_session, ["LICENSE", "docs/*"])
    (proj / "docs").mkdir()
    os.symlink("/etc/passwd", proj / "docs" / "NOTES")
    r = run_refused(proj, sdk_session, "'docs/NOTES' leads to '/etc/passwd', outside")
    assert "release.lua:4: archive" in r.err


@pytest.mark.parametrize("pattern", ["etc/passwd", "etc/*", "*/passwd"])
def test_files_symlinked_directory_outside_is_refused(tmp_path, sdk_session, pattern):
    proj = project(tmp_path / "p", sdk_session, [pattern])
    os.symlink("/etc", proj / "etc")
    run_refused(proj, sdk_session, "leads to '/etc/")


def test_files_fifo_is_refused_quickly(tmp_path, sdk_session):
    proj = project(tmp_path / "p", sdk_session, ["LICENSE", "docs/*"])
    (proj / "docs").mkdir()
    (proj / "docs" / "a.md").write_text("a\n")
    os.mkfifo(proj / "docs" / "pipe")
    run_refused(proj, sdk_session, "'docs/pipe' (from 'docs/*') is not a regular file")


def test_files_symlink_inside_the_project_is_archived(tmp_path, sdk_session):
    proj = project(tmp_path / "p", sdk_session, ["LICENSE", "docs/*"])
    (proj / "docs").mkdir()
    os.symlink("../NOTES.md", proj / "docs" / "NOTES")
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 0, r
    [arc] = (proj / "dist").glob("*.tar.gz")
    with tarfile.open(arc) as t:
        m = t.getmember("docs/NOTES")
        assert m.isfile()
        assert t.extractfile(m).read() == b"notes inside\n"


# ---- readers that must not hang ------------------------------------------------------------

def refused_fast(r, t0, needle):
    one_error(r, 2, needle)
    assert time.monotonic() - t0 < 20


@pytest.mark.parametrize("what", ["dev_zero", "fifo"])
def test_plan_of_a_non_regular_build_file(xgo, tmp_path, what):
    path = "/dev/zero"
    if what == "fifo":
        path = tmp_path / "release.lua"
        os.mkfifo(path)
    t0 = time.monotonic()
    r = xgo("plan", path, cwd=tmp_path, timeout=30)
    refused_fast(r, t0, "not a regular file")
    assert str(path) in r.err


def test_fifo_release_lock(tmp_path, sdk_session):
    proj = project(tmp_path / "p", sdk_session, ["LICENSE"])
    (proj / "release.lock").unlink()
    os.mkfifo(proj / "release.lock")
    t0 = time.monotonic()
    r = run_xgo("run", cwd=proj, env=sdk_session["env"], timeout=30)
    one_error(r, 4, "release.lock")  # a bad lockfile is exit 4, as in test_hostile
    assert time.monotonic() - t0 < 20
    assert not (proj / "dist").exists()


# ---- merge: names and files from shard manifests --------------------------------------------

@pytest.fixture(scope="module")
def shards(tmp_path_factory, sdk_session):
    """A two-target project built as shards 1/2 and 2/2."""
    base = tmp_path_factory.mktemp("safety-shards")
    proj = project(base / "p", sdk_session, ["LICENSE"], targets='"amd64", "arm64"')
    for k in (1, 2):
        r = run_xgo("run", "--shard", f"{k}/2", "--dist", base / f"s{k}", cwd=proj, env=sdk_session["env"])
        assert r.rc == 0, r
    return [base / "s1", base / "s2"]


def copies(shards, dest):
    """Copies of the shards under dest/in/, to tamper with."""
    out = []
    for s in shards:
        shutil.copytree(s, dest / "in" / s.name, symlinks=True)
        out.append(dest / "in" / s.name)
    return out


def edit(shard, change):
    m = json.loads((shard / "manifest.json").read_text())
    change(m)
    (shard / "manifest.json").write_text(json.dumps(m))


def merge_refused(tmp_path, dirs, needle, code=2):
    before = snapshot(tmp_path)
    t0 = time.monotonic()
    r = run_xgo("merge", "--dist", tmp_path / "out", *dirs, timeout=30)
    one_error(r, code, needle)
    assert time.monotonic() - t0 < 20
    assert snapshot(tmp_path) == before, "nothing written anywhere: no out/, no stage, no escaped file"
    return r


def test_merge_of_the_shards_works(shards, tmp_path):
    r = run_xgo("merge", "--dist", tmp_path / "out", *shards)
    assert r.rc == 0, r
    assert sorted(p.name for p in (tmp_path / "out").glob("*.tar.gz")) == [
        "p_1.0.0_linux_amd64.tar.gz", "p_1.0.0_linux_arm64.tar.gz"]


def test_merge_refuses_a_checksum_file_outside(shards, tmp_path):
    dirs = copies(shards, tmp_path)
    for d in dirs:  # every shard must agree on the checksum settings
        edit(d, lambda m: m["checksums"].update(file="../../x"))
    merge_refused(tmp_path, dirs, "checksums.file '../../x' has an empty, '.' or '..' component")
    assert not (tmp_path.parent / "x").exists()


def test_merge_refuses_an_archive_name_outside(shards, tmp_path):
    dirs = copies(shards, tmp_path)
    s1 = dirs[0]
    name = json.loads((s1 / "manifest.json").read_text())["archives"][0]["name"]
    # The attacker's bytes, where the old merge read them: s1/../evil.tar.gz.
    evil = b"attacker bytes\n"
    (s1.parent / "evil.tar.gz").write_bytes(evil)

    def rename(m):
        for a in m["archives"]:
            if a["name"] == name:
                a["name"] = "../evil.tar.gz"
                a["sha256"] = hashlib.sha256(evil).hexdigest()
    edit(s1, rename)
    merge_refused(tmp_path, dirs, "archive name '../evil.tar.gz'")
    assert not (tmp_path / "evil.tar.gz").exists()


def test_merge_refuses_a_job_output_outside(shards, tmp_path):
    dirs = copies(shards, tmp_path)
    edit(dirs[0], lambda m: m["jobs"][0].update(output="/tmp/xgo-safety-escaped"))
    merge_refused(tmp_path, dirs, "job output '/tmp/xgo-safety-escaped' is an absolute path")
    assert not os.path.exists("/tmp/xgo-safety-escaped")


def test_merge_refuses_a_shard_file_that_is_a_symlink_out(shards, tmp_path):
    dirs = copies(shards, tmp_path)
    s1 = dirs[0]
    name = json.loads((s1 / "manifest.json").read_text())["archives"][0]["name"]
    # Same bytes outside the shard, so only the link gives it away.
    outside = tmp_path / "outside.tar.gz"
    shutil.copyfile(s1 / name, outside)
    (s1 / name).unlink()
    os.symlink(outside, s1 / name)
    merge_refused(tmp_path, dirs, f"'{name}' leads to '{outside}', outside '{s1}'")


def test_merge_refuses_a_fifo_shard_file(shards, tmp_path):
    dirs = copies(shards, tmp_path)
    s1 = dirs[0]
    name = json.loads((s1 / "manifest.json").read_text())["archives"][0]["name"]
    (s1 / name).unlink()
    os.mkfifo(s1 / name)
    merge_refused(tmp_path, dirs, "not a regular file")


def test_merge_refuses_a_fifo_manifest(shards, tmp_path):
    dirs = copies(shards, tmp_path)
    (dirs[1] / "manifest.json").unlink()
    os.mkfifo(dirs[1] / "manifest.json")
    merge_refused(tmp_path, dirs, "manifest.json")


# ---- verify --against: a published directory is untrusted ---------------------------------

@pytest.fixture(scope="module")
def published(tmp_path_factory, sdk_session):
    """A one-target project and its dist, as a published release."""
    base = tmp_path_factory.mktemp("safety-published")
    proj = project(base / "p", sdk_session, ["LICENSE"])
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 0, r
    return proj


@pytest.mark.parametrize("what", ["archive", "manifest"])
def test_verify_against_refuses_a_published_symlink_out(published, tmp_path, sdk_session, what):
    pub = tmp_path / "pub"
    shutil.copytree(published / "dist", pub, symlinks=True)
    name = "manifest.json" if what == "manifest" else json.loads((pub / "manifest.json").read_text())["archives"][0]["name"]
    outside = tmp_path / "outside"
    shutil.copyfile(pub / name, outside)
    (pub / name).unlink()
    os.symlink(outside, pub / name)
    t0 = time.monotonic()
    r = run_xgo("verify", "--against", pub, cwd=published, env=sdk_session["env"], timeout=60)
    one_error(r, 2, f"'{name}' leads to '{outside}', outside '{pub}'")
    assert "rebuilding" not in r.err and time.monotonic() - t0 < 20


def test_verify_against_refuses_a_published_fifo(published, tmp_path, sdk_session):
    pub = tmp_path / "pub"
    shutil.copytree(published / "dist", pub, symlinks=True)
    name = json.loads((pub / "manifest.json").read_text())["archives"][0]["name"]
    (pub / name).unlink()
    os.mkfifo(pub / name)
    t0 = time.monotonic()
    r = run_xgo("verify", "--against", pub, cwd=published, env=sdk_session["env"], timeout=60)
    one_error(r, 2, "not a regular file")
    assert "rebuilding" not in r.err and time.monotonic() - t0 < 20
