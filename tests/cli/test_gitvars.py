"""Git facts as template variables, the version from the tag, one template
engine for every name, and vcs = true (issue 18 items 3, 4 and 9): real git
repositories made by the test, real runs with the session SDK and GOCACHE."""
import json
import os
import shutil
import subprocess
import tarfile

import pytest

from conftest import run_xgo, write_project

DATE = 1700000000  # the commit time of every commit here
MAIN = '''package main

import "fmt"

var version, info = "dev", ""

func main() { fmt.Println(version, info) }
'''
INFO = "{tag}|{commit}|{short_commit}|{commit_date}|{commit_timestamp}|{major}|{minor}|{patch}|{prerelease}"
RELEASE = '''project { name = "gv" }
go "1.26.8"
build "gv" {
  ldflags = { "-X main.version={version}", "-X main.info=%s" },
  targets = matrix { goos = { "linux" }, goarch = { "amd64" } },%s
}
archive { name = "{name}_{version}_{os}_{arch}", files = { { src = "README.md", dst = "doc/{name}-{tag}.md" } } }
checksums { file = "{name}_{version}_checksums.txt" }
'''


def git(proj, *args, date=DATE):
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_AUTHOR_DATE": f"@{date} +0200", "GIT_COMMITTER_DATE": f"@{date} +0200"}
    out = subprocess.run(["git", "-C", str(proj), *args], env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def repo(path, sdk_session, release=None, extra=""):
    files = {"release.lua": release or RELEASE % (INFO, extra), "main.go": MAIN, "README.md": "readme\n",
             ".gitignore": "dist/\n.xgo-build/\n"}
    proj = write_project(path, files, sdk_session)
    git(proj, "init", "-q", "-b", "main")
    git(proj, "add", "-A")
    git(proj, "commit", "-q", "-m", "one")
    return proj


def run(proj, sdk_session, *args, cmd="run"):
    env = dict(sdk_session["env"])
    env.pop("SOURCE_DATE_EPOCH", None)
    return run_xgo(cmd, *args, cwd=proj, env=env)


def binary_says(proj):
    out = subprocess.run([str(proj / "dist/gv_linux_amd64/gv")], check=True, capture_output=True, text=True)
    return out.stdout.split()


def errors(r):
    return [line for line in r.err.splitlines() if "error" in line]


def test_each_git_variable_the_version_from_the_tag_and_the_published_names(tmp_path, sdk_session):
    proj = repo(tmp_path / "gv", sdk_session)
    git(proj, "tag", "v1.2.3-rc.1")
    commit = git(proj, "rev-parse", "HEAD")
    r = run(proj, sdk_session)
    assert r.rc == 0, r
    version, info = binary_says(proj)
    assert version == "1.2.3-rc.1"
    assert info.split("|") == ["v1.2.3-rc.1", commit, commit[:7], "2023-11-14T22:13:20Z", str(DATE), "1", "2",
                               "3", "rc.1"]
    dist = proj / "dist"
    # the checksum file's and the files dst's templates are expanded too
    sums = dist / "gv_1.2.3-rc.1_checksums.txt"
    assert sums.is_file(), sorted(p.name for p in dist.iterdir())
    subprocess.run(["sha256sum", "-c", "--strict", sums.name], cwd=dist, check=True, capture_output=True)
    with tarfile.open(dist / "gv_1.2.3-rc.1_linux_amd64.tar.gz") as t:
        assert "doc/gv-v1.2.3-rc.1.md" in t.getnames(), t.getnames()
    m = json.loads((dist / "manifest.json").read_text())
    assert m["release"]["version"] == "1.2.3-rc.1"
    assert m["inputs"]["git"] == {"checkout": True, "commit": commit, "short_commit": commit[:7],
                                  "commit_date": "2023-11-14T22:13:20Z", "commit_timestamp": str(DATE),
                                  "tag": "v1.2.3-rc.1", "tag_at_head": True, "dirty": False,
                                  "version_from_git": True}
    # no SOURCE_DATE_EPOCH given: the commit time, never the clock
    assert m["inputs"]["source_date_epoch"] == str(DATE)
    assert m["inputs"]["source_date_epoch_from"] == "git HEAD"


def test_snapshot_versions_when_head_is_not_tagged_or_the_tree_is_dirty(tmp_path, sdk_session):
    release = '''project { name = "gv" }
go "1.26.8"
build "gv" { output = "{version}/{binary}", targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }
'''
    proj = repo(tmp_path / "gv", sdk_session, release=release)

    def output():
        r = run(proj, sdk_session, cmd="plan")
        assert r.rc == 0, r
        return r.out.split("/gv")[0].split()[-1]

    short = git(proj, "rev-parse", "HEAD")[:7]
    assert output() == f"0.0.0-SNAPSHOT-{short}"
    git(proj, "tag", "v1.0.0")
    assert output() == "1.0.0"
    (proj / "main.go").write_text(MAIN + "\n// edited\n")
    assert output() == f"1.0.0-SNAPSHOT-{short}"  # dirty
    git(proj, "commit", "-qam", "two")
    short = git(proj, "rev-parse", "HEAD")[:7]
    assert output() == f"1.0.0-SNAPSHOT-{short}"  # past the tag
    (proj / "untracked.txt").write_text("x")
    assert output() == f"1.0.0-SNAPSHOT-{short}"  # an untracked file does not make it dirty


def test_a_new_tag_rebuilds_instead_of_hitting_the_cache(tmp_path, sdk_session):
    proj = repo(tmp_path / "gv", sdk_session)
    git(proj, "tag", "v1.0.0")
    r = run(proj, sdk_session)
    assert r.rc == 0, r
    assert binary_says(proj)[0] == "1.0.0"
    git(proj, "tag", "v1.1.0")
    r = run(proj, sdk_session)
    assert r.rc == 0, r
    assert binary_says(proj)[0] == "1.1.0"
    assert binary_says(proj)[1].startswith("v1.1.0|")


def test_a_git_variable_outside_a_checkout_is_exit_2_naming_it(tmp_path, sdk_session):
    files = {"release.lua": RELEASE % ("{commit}", ""), "main.go": MAIN, "README.md": "r\n"}
    proj = write_project(tmp_path / "nogit", files, sdk_session)
    r = run(proj, sdk_session)
    assert r.rc == 2, r
    errs = errors(r)
    assert len(errs) == 1, r.err
    assert "release.lua:3: build 'gv': ldflags" in errs[0] or "files dst" in errs[0], errs
    assert "is not available" in errs[0] and "is not a git checkout" in errs[0], errs
    assert not (proj / "dist").exists()


def test_goreleaser_syntax_and_unknown_variables_are_one_error_at_load(tmp_path, sdk_session):
    base = '''project { name = "gv", version = "1.0.0" }
go "1.26.8"
build "gv" {
  ldflags = { "-X main.version=%s" },
  targets = matrix { goos = { "linux", "windows", "darwin" }, goarch = { "amd64", "arm64" } },
}
'''
    files = {"release.lua": base % "{{.Version}}", "main.go": MAIN}
    proj = write_project(tmp_path / "p", files, sdk_session)
    r = run(proj, sdk_session)
    assert r.rc == 2, r
    assert errors(r) == ["xgo-build: error: release.lua:3: build 'gv': ldflags: \"-X main.version={{.Version}}\": "
                         "'{{' is GoReleaser template syntax: write {version}, {os}, ... (see docs/templates.md)"], r.err
    (proj / "release.lua").write_text(base % "{verison}")
    r = run(proj, sdk_session)
    assert r.rc == 2, r
    errs = errors(r)
    assert len(errs) == 1, r.err
    assert "release.lua:3: build 'gv': ldflags: unknown variable '{verison}'" in errs[0], errs
    assert "did you mean '{version}'" in errs[0]
    assert "go mod download" not in r.err and not (proj / "dist").exists()
    # plan (and check) refuse it the same way
    r = run(proj, sdk_session, cmd="plan")
    assert r.rc == 2 and len(errors(r)) == 1, r


def go_version_m(path):
    out = subprocess.run(["go", "version", "-m", str(path)], check=True, capture_output=True, text=True)
    return out.stdout


def test_vcs_true_stamps_the_checkout_identically_in_two_clones_and_verifies(tmp_path, sdk_session):
    proj = repo(tmp_path / "gv", sdk_session, extra="\n  vcs = true,")
    git(proj, "tag", "v1.4.0")
    commit = git(proj, "rev-parse", "HEAD")
    r = run(proj, sdk_session)
    assert r.rc == 0, r
    info = go_version_m(proj / "dist/gv_linux_amd64/gv")
    assert f"build\tvcs.revision={commit}" in info, info
    assert "build\tvcs.time=2023-11-14T22:13:20Z" in info, info
    assert "build\tvcs.modified=false" in info, info
    assert "mod\texample.com/p\tv1.4.0" in info, info
    first = (proj / "dist/gv_linux_amd64/gv").read_bytes()
    # a clone at another path builds the same bytes
    other = tmp_path / "elsewhere" / "clone"
    other.parent.mkdir()
    git(tmp_path, "clone", "-q", str(proj), str(other))
    r = run(other, sdk_session)
    assert r.rc == 0, r
    assert (other / "dist/gv_linux_amd64/gv").read_bytes() == first
    # a modified tree is stamped so, and is a new action (no stale cache hit)
    (proj / "untracked.txt").write_text("x")
    r = run(proj, sdk_session)
    assert r.rc == 0, r
    assert "build\tvcs.modified=true" in go_version_m(proj / "dist/gv_linux_amd64/gv")
    os.remove(proj / "untracked.txt")
    # verify: the rebuild at another path sees the same checkout
    r = run(proj, sdk_session, "--vary", "path", cmd="verify")
    assert r.rc == 0, r


def test_vcs_true_outside_a_checkout_is_exit_2(tmp_path, sdk_session):
    release = '''project { name = "gv", version = "1.0.0" }
go "1.26.8"
build "gv" { vcs = true, targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }
'''
    proj = write_project(tmp_path / "nogit", {"release.lua": release, "main.go": MAIN}, sdk_session)
    r = run(proj, sdk_session)
    assert r.rc == 2, r
    assert len(errors(r)) == 1 and "build 'gv': vcs = true needs a git checkout" in r.err, r.err


def test_a_checkout_owned_by_another_user_is_read(tmp_path, sdk_session):
    # git refuses a checkout of another owner ("dubious ownership") unless
    # safe.directory names it: a CI container's checkout is one
    if os.geteuid() != 0:
        pytest.skip("needs root to give the checkout another owner")
    release = '''project { name = "gv" }
go "1.26.8"
build "gv" { output = "{version}-{short_commit}/{binary}", targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }
'''
    proj = repo(tmp_path / "gv", sdk_session, release=release)
    git(proj, "tag", "v2.0.0")
    short = git(proj, "rev-parse", "HEAD")[:7]
    for p in [proj, *proj.rglob("*")]:
        os.lchown(p, 12345, 12345)
    plain = subprocess.run(["git", "-C", str(proj), "status"], capture_output=True, text=True,
                           env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1"})
    assert plain.returncode != 0 and "dubious ownership" in plain.stderr, plain
    r = run(proj, sdk_session, cmd="plan")
    assert r.rc == 0, r
    assert f"2.0.0-{short}/gv" in r.out, r.out
