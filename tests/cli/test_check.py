"""`xgo-build check` (issue 18 item 5), `**` and optional `files` patterns,
an exclude entry that removes nothing, and the offline paths of item 10
(lock from a local SDK, sdk list, run --target): the real binary, real
projects, real tar; no mirror is served where the network must not matter."""
import json
import os
import socket
import subprocess

from conftest import run_xgo, write_project

MAIN = 'package main\n\nfunc main() { println("p") }\n'


def closed_port():
    """A loopback port nothing listens on: any mirror access fails at once."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# the mirror's index is retried with backoff: short waits for the tests
FAST = {"XGO_DL_BACKOFF_MS": "20"}


def offline_env(tmp_path, **extra):
    """A fresh cache and a mirror that cannot be reached."""
    return dict({"XGO_CACHE": str(tmp_path / "nocache"), "XGO_SDK_MIRROR": f"http://127.0.0.1:{closed_port()}/"},
                **FAST, **extra)


def errors(r):
    return [l for l in r.err.splitlines() if l.startswith("xgo-build: error:")]


def project(tmp_path, sdk_session, release, extra=None):
    files = {"main.go": MAIN, "LICENSE": "MIT\n", "release.lua": release}
    files.update(extra or {})
    return write_project(tmp_path / "p", files, sdk_session)


GOOD = '''project { name = "p", version = "1.0.0" }
go "1.26.8"
build "p" {
  ldflags = { "-X main.version={version}" },
  targets = matrix { goos = { "linux", "windows" }, goarch = { "amd64" } },
}
archive { format = "tar.gz", format_overrides = { windows = "zip" }, name = "{name}_{os}_{arch}",
  files = { "LICENSE", "docs/**/*.md", { src = "CHANGELOG*", optional = true } } }
'''


def test_check_good_file_is_exit_0_with_one_line_and_no_network(tmp_path, sdk_session):
    proj = project(tmp_path, sdk_session, GOOD, {"docs/a.md": "a\n", "docs/x/y/b.md": "b\n"})
    r = run_xgo("check", cwd=proj, env=offline_env(tmp_path))
    assert r.rc == 0, r
    assert r.out.count("\n") == 1 and "ok" in r.out and "2 jobs" in r.out, r
    assert r.err == "", r
    sdk = tmp_path / "nocache" / "sdk"  # no SDK installed (plan looks for a cached one: a lock file at most)
    assert not sdk.exists() or [p.name for p in sdk.iterdir() if not p.name.endswith(".lock")] == []
    assert not (proj / "dist").exists()


SEVERAL = '''project { name = "p", version = "1.0.0" }
go "1.26.8"
build "a" {
  ldflags = { "-X main.v={nope}" },
  targets = matrix { goos = { "linux" }, goarch = { "amd64" } },
}
build "b" {
  output = "{name}/{oops}",
  targets = matrix { goos = { "linux" }, goarch = { "amd64" } },
}
archive { format = "tar.gz",
  files = { "LICENSE", "CHANGELOG*", { src = "NOTES*", optional = true }, "docs/**/*.md" } }
'''


def test_check_reports_every_problem_with_its_line(tmp_path, sdk_session):
    proj = project(tmp_path, sdk_session, SEVERAL)
    r = run_xgo("check", cwd=proj, env=offline_env(tmp_path))
    assert r.rc == 2, r
    errs = errors(r)
    assert len(errs) == 4, r
    assert any("release.lua:3: build 'a': ldflags" in e and "{nope}" in e for e in errs), r
    assert any("release.lua:7: build 'b': output" in e and "{oops}" in e for e in errs), r
    assert any("release.lua:11: archive: files" in e and "'CHANGELOG*'" in e for e in errs), r
    assert any("release.lua:11: archive: files" in e and "'docs/**/*.md'" in e for e in errs), r
    assert not any("NOTES" in e for e in errs), r  # optional
    assert "4 problems" in r.err, r
    # plan finds the same
    p = run_xgo("plan", cwd=proj, env=offline_env(tmp_path))
    assert p.rc == 2 and errors(p) == errs, p


def test_check_each_kind_of_problem(tmp_path, sdk_session):
    head = 'project { name = "p", version = "1.0.0" }\ngo "1.26.8"\n'
    one = 'build "p" { targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }\n'
    cases = {
        # a name collision: two archives with one name
        "collision": (one + 'archive { format = "zip", name = "x" }\narchive { format = "zip", name = "x" }\n',
                      "release.lua:5: archive: two archives are named 'x.zip'"),
        # an invalid name
        "invalid": (one + 'archive { format = "tar.gz", name = "x\\\\y_{os}" }\n',
                    "release.lua:4: archive: name 'x\\y_linux.tar.gz' has a backslash"),
        # a universal declaration without its targets
        "universal": ('build "p" { universal = true, targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }\n',
                      "release.lua:3: build 'p': universal = true needs darwin/amd64"),
        # a package of no linux target
        "package": ('build "p" { targets = matrix { goos = { "darwin" }, goarch = { "arm64" } } }\n'
                    'package { format = "deb", maintainer = "m <m@example.org>", description = "d" }\n',
                    "release.lua:4: package"),
        # a build env xgo-build sets itself
        "env": ('build "p" { env = { GOFLAGS = "-x" }, targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }\n',
                "release.lua:3: build 'p'"),
        # a matrix that is no port
        "matrix": ('build "p" { targets = matrix { goos = { "linux" }, goarch = { "nope" } } }\n', "release.lua:3"),
    }
    for name, (body, want) in cases.items():
        proj = write_project(tmp_path / name, {"main.go": MAIN, "release.lua": head + body}, sdk_session)
        r = run_xgo("check", cwd=proj, env=offline_env(tmp_path))
        assert r.rc == 2, (name, r)
        errs = errors(r)
        assert len(errs) == 1 and want in errs[0], (name, r)


def test_check_refuses_a_symlink_out_through_double_star(tmp_path, sdk_session):
    proj = project(tmp_path, sdk_session, GOOD.replace('"docs/**/*.md"', '"docs/**"'), {"docs/a.md": "a\n"})
    (tmp_path / "secret").write_text("secret\n")
    os.makedirs(proj / "docs/deep/er")
    os.symlink(tmp_path / "secret", proj / "docs/deep/er/leak.md")
    r = run_xgo("check", cwd=proj, env=offline_env(tmp_path))
    assert r.rc == 2, r
    errs = errors(r)
    assert len(errs) == 1 and "release.lua:7: archive: files" in errs[0] and "docs/deep/er/leak.md" in errs[0], r
    # a FIFO met by ** is refused too
    os.remove(proj / "docs/deep/er/leak.md")
    os.mkfifo(proj / "docs/deep/er/pipe")
    r = run_xgo("check", cwd=proj, env=offline_env(tmp_path))
    assert r.rc == 2 and "is not a regular file" in r.err, r


def test_double_star_archive_listed_by_tar(tmp_path, sdk_session):
    release = '''project { name = "p", version = "1.0.0", source_date_epoch = "1700000000" }
go "1.26.8"
build "p" { targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }
archive { format = "tar.gz", name = "{name}_{os}_{arch}",
  files = { "LICENSE", "completion/**/*", "man/**", { src = "CHANGELOG*", optional = true } } }
'''
    proj = project(tmp_path, sdk_session, release, {
        "completion/bash/p.bash": "complete\n", "completion/zsh/_p": "#compdef p\n", "completion/top": "t\n",
        "completion/.hidden": "no\n", "completion/.git/config": "no\n", "man/man1/p.1": ".TH P 1\n",
    })
    os.symlink("bash", proj / "completion/linked")  # a link to a directory is not walked
    r = run_xgo("run", "-q", cwd=proj, env=sdk_session["env"])
    assert r.rc == 0, r
    listing = subprocess.run(["tar", "-tzf", str(proj / "dist/p_linux_amd64.tar.gz")], capture_output=True,
                             text=True, check=True).stdout.split()
    assert listing == ["LICENSE", "completion/", "completion/bash/", "completion/bash/p.bash", "completion/top",
                       "completion/zsh/", "completion/zsh/_p", "man/", "man/man1/", "man/man1/p.1", "p"], listing


def test_exclude_entry_matching_nothing_is_said_once_with_its_line(tmp_path, sdk_session):
    release = '''project { name = "p", version = "1.0.0" }
go "1.26.8"
local m = matrix {
  goos = { "linux" }, goarch = { "amd64" },
  exclude = {
    { goos = "plan9" },
    { goos = "linux", goarch = { "arm64", "386" } },
  },
}
build "a" { targets = m }
build "b" { output = "b/{os}_{arch}/{binary}{ext}", targets = m }
'''
    proj = project(tmp_path, sdk_session, release)
    for cmd in ("check", "plan"):
        r = run_xgo(cmd, cwd=proj, env=offline_env(tmp_path))
        assert r.rc == 0, r
        warns = [l for l in r.err.splitlines() if "exclude entry" in l]
        assert warns == [
            "xgo-build: warning: release.lua:6: exclude entry { goos = \"plan9\" } matches no target of build "
            "'a': remove it or fix its values",
            "xgo-build: warning: release.lua:7: exclude entry { goarch = { \"arm64\", \"386\" }, goos = \"linux\" } "
            "matches no target of build 'a': remove it or fix its values"], r


def local_version(sdk_session):
    return json.loads(sdk_session["lock"])["go"]


def test_lock_offline_from_the_local_sdk(tmp_path, sdk_session):
    version = local_version(sdk_session)
    proj = write_project(tmp_path / "p", {"main.go": MAIN, "release.lua": GOOD.replace("1.26.8", version)
                                          .replace(', "docs/**/*.md"', "")}, sdk_session)
    (proj / "release.lock").unlink()
    # the session cache holds this SDK already; the mirror cannot be reached
    env = dict(sdk_session["env"], XGO_SDK_MIRROR=f"http://127.0.0.1:{closed_port()}/", **FAST)
    r = run_xgo("lock", cwd=proj, env=env)
    assert r.rc == 0, r
    assert "locking offline from the local go" in r.err, r
    doc = json.loads((proj / "release.lock").read_text())
    host = doc["platforms"]["linux-amd64"]
    session = json.loads(sdk_session["lock"])["platforms"]["linux-amd64"]
    # honest: the tree that was checked, and no archive hash it never saw
    assert host == {"filename": None, "sha256": None, "size": None, "tree_digest": session["tree_digest"]}, doc
    r = run_xgo("sdk", "path", cwd=proj, env=env)
    assert r.rc == 0 and r.out.strip(), r
    # a machine without that SDK cannot download a tree-only pin: one clear error
    r = run_xgo("sdk", "install", "--no-local", cwd=proj, env=dict(env, XGO_CACHE=str(tmp_path / "empty")))
    assert r.rc == 4 and len(errors(r)) == 1 and "tree digest only" in r.err, r
    # --offline: no mirror asked at all; a version with no local SDK is one error
    r = run_xgo("lock", "--offline", cwd=proj, env=env)
    assert r.rc == 0 and "no usable index" not in r.err, r
    (proj / "release.lua").write_text(GOOD.replace("1.26.8", "1.99.0").replace(', "docs/**/*.md"', ""))
    r = run_xgo("lock", "--offline", cwd=proj, env=env)
    assert r.rc == 4 and len(errors(r)) == 1 and "no local go 1.99.0" in r.err, r


def test_lock_with_an_unreachable_mirror_and_no_local_sdk_is_one_error(tmp_path, sdk_session):
    proj = write_project(tmp_path / "p", {"main.go": MAIN, "release.lua": GOOD.replace("1.26.8", "1.99.0")},
                         sdk_session)
    (proj / "release.lock").unlink()
    r = run_xgo("lock", cwd=proj, env=offline_env(tmp_path))
    assert r.rc == 4 and len(errors(r)) == 1 and "no usable index" in r.err, r
    assert not (proj / "release.lock").exists()


def test_sdk_list_offline_lists_the_cache_and_exits_0(tmp_path, sdk_session):
    env = dict(sdk_session["env"], XGO_SDK_MIRROR=f"http://127.0.0.1:{closed_port()}/", **FAST)
    r = run_xgo("sdk", "list", env=env)
    assert r.rc == 0, r
    assert "cached in" in r.out and "go" + local_version(sdk_session) in r.out, r
    assert errors(r) == [] and "listed the cache only" in r.err, r


def test_run_target_matching_nothing_is_one_error_line(tmp_path, sdk_session):
    proj = project(tmp_path, sdk_session, GOOD.replace(', "docs/**/*.md"', ""))
    for pattern in ("nomatch", "linux/[", "linux/amd64/extra"):
        r = run_xgo("run", "--target", pattern, cwd=proj, env=sdk_session["env"])
        assert r.rc == 2, r
        assert len(r.err.strip().splitlines()) == 1 and len(errors(r)) == 1 and pattern in r.err, r
