"""A part of the matrix (run --target/--build, issue 18 item 6) and the
times of a published dist/ (item 8): real runs of a small two-build
project with the session SDK and GOCACHE."""
import json
import os
import subprocess

from conftest import run_xgo, write_project

SDE = 1700000000
RELEASE = '''project { name = "p", version = "1.0.0" }
go "1.26.8"
build "a" { main = "./cmd/a", targets = matrix { goos = { "linux", "windows" }, goarch = { "amd64", "arm64" } } }
build "b" { main = "./cmd/b", targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }
archive { format = "tar.gz", format_overrides = { windows = "zip" }, name = "{build}_{os}_{arch}" }
'''


def project(tmp_path, sdk_session):
    files = {"release.lua": RELEASE}
    for x in "ab":
        files[f"cmd/{x}/main.go"] = f'package main\n\nfunc main() {{ println("{x}") }}\n'
    return write_project(tmp_path / "p", files, sdk_session)


def run(proj, sdk_session, *args):
    return run_xgo("run", *args, cwd=proj, env=dict(sdk_session["env"], SOURCE_DATE_EPOCH=str(SDE)))


def errors(r):
    return [line for line in r.err.splitlines() if "error" in line]


def test_target_and_build_select_a_part_and_the_manifest_says_so(tmp_path, sdk_session):
    proj = project(tmp_path, sdk_session)
    r = run(proj, sdk_session, "--target", "linux/*", "--build", "a")
    assert r.rc == 0, r
    dist = proj / "dist"
    names = sorted(p.name for p in dist.iterdir())
    assert names == [".xgo-build-dist", "SHA256SUMS", "a_linux_amd64", "a_linux_amd64.tar.gz", "a_linux_arm64",
                     "a_linux_arm64.tar.gz", "manifest.json", "provenance.json"], names
    m = json.loads((dist / "manifest.json").read_text())
    assert m["partial"] == {"targets": ["linux/*"], "builds": ["a"], "jobs": 2, "planned": 5}
    assert sorted(j["target"] for j in m["jobs"]) == ["linux/amd64", "linux/arm64"]
    subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=dist, check=True, capture_output=True)
    # two patterns, exact ids; a full run has no partial record
    r = run(proj, sdk_session, "--target", "windows/arm64", "--target", "linux/amd64")
    assert r.rc == 0, r
    m = json.loads((dist / "manifest.json").read_text())
    assert sorted((j["build"], j["target"]) for j in m["jobs"]) == [
        ("a", "linux/amd64"), ("a", "windows/arm64"), ("b", "linux/amd64")]
    r = run(proj, sdk_session)
    assert r.rc == 0, r
    assert "partial" not in json.loads((dist / "manifest.json").read_text())


def test_a_selection_that_selects_nothing_is_one_usage_error(tmp_path, sdk_session):
    proj = project(tmp_path, sdk_session)
    cases = [(["--target", "plan9/*"], "--target 'plan9/*' matches no target"),
             (["--build", "c"], "--build 'c': release.lua declares no such build"),
             (["--build", "b", "--target", "windows/*"], "--target 'windows/*' matches no target of the builds"),
             (["--target", ""], "--target wants a value"),
             (["--target", "linux/amd64", "--shard", "1/2"], "leave out --target and --build")]
    for args, want in cases:
        r = run(proj, sdk_session, *args)
        assert r.rc == 2, (args, r)
        assert len(errors(r)) == 1 and want in r.err, (args, r)
        assert not (proj / "dist").exists(), args


def test_verify_against_a_partial_release_rebuilds_its_part(tmp_path, sdk_session):
    proj = project(tmp_path, sdk_session)
    assert run(proj, sdk_session, "--target", "linux/amd64", "--build", "b").rc == 0
    r = run_xgo("verify", "--against", proj / "dist", cwd=proj,
                env=dict(sdk_session["env"], SOURCE_DATE_EPOCH=str(SDE)))
    assert r.rc == 0, r
    assert "is a partial release" in r.err, r
    assert "only in the rebuilt" not in r.err, r


def test_merge_refuses_a_partial_release(tmp_path, sdk_session):
    proj = project(tmp_path, sdk_session)
    assert run(proj, sdk_session, "--target", "linux/*").rc == 0
    r = run_xgo("merge", proj / "dist", "--dist", tmp_path / "merged", cwd=proj)
    assert r.rc == 2 and "is not a shard's" in r.err, r
    assert not (tmp_path / "merged").exists()


def test_every_published_entry_has_the_source_date_epoch_as_its_time(tmp_path, sdk_session):
    proj = project(tmp_path, sdk_session)
    assert run(proj, sdk_session).rc == 0
    shards = []
    for k in (1, 2):
        d = tmp_path / f"s{k}"
        assert run(proj, sdk_session, "--shard", f"{k}/2", "--dist", d).rc == 0
        shards.append(d)
    r = run_xgo("merge", *shards, "--dist", tmp_path / "merged", cwd=proj)
    assert r.rc == 0, r
    for dist in (proj / "dist", tmp_path / "merged"):
        entries = [dist] + list(dist.rglob("*"))
        assert len(entries) > 10
        wrong = [(str(p), os.lstat(p).st_mtime) for p in entries if os.lstat(p).st_mtime != SDE]
        assert wrong == [], wrong


def test_a_run_of_some_targets_makes_no_universal_binary_or_image_and_says_so(tmp_path, sdk_session):
    """examples/hello declares universal = true and an image: a run of one
    linux target builds it and its packages, and says what it leaves out."""
    import shutil
    from conftest import ROOT
    proj = tmp_path / "hello"
    shutil.copytree(ROOT / "examples/hello", proj, ignore=shutil.ignore_patterns("dist", ".xgo-build"))
    r = run_xgo("run", "--target", "linux/amd64", cwd=proj, env=sdk_session["env"])
    assert r.rc == 0, r
    assert "makes no universal binaries or OCI images" in r.err, r
    names = sorted(p.name for p in (proj / "dist").iterdir())
    assert "hello_0.1.0-1_amd64.deb" in names and "hello-0.1.0-1.x86_64.rpm" in names, names
    assert not [n for n in names if "darwin" in n or n.endswith("-oci")], names
