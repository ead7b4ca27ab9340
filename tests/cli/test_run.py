"""xgo-build run: real go builds with the machine's Go through a pinned SDK."""
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import BINARY, SBOM_SUFFIXES, archive_sums, run_xgo, sums, write_project

FORMATS = {
    "hello_linux_amd64/hello": ["ELF 64-bit", "x86-64", "SYSV"],
    "hello_linux_arm64/hello": ["ELF 64-bit", "ARM aarch64", "SYSV"],
    "hello_linux_386/hello": ["ELF 32-bit", "Intel 80386"],
    "hello_linux_armv6/hello": ["ELF 32-bit", "ARM, EABI5"],
    "hello_linux_armv7/hello": ["ELF 32-bit", "ARM, EABI5"],
    "hello_darwin_amd64/hello": ["Mach-O 64-bit", "x86_64"],
    "hello_darwin_arm64/hello": ["Mach-O 64-bit", "arm64"],
    "hello_windows_amd64/hello.exe": ["PE32+", "x86-64", "MS Windows"],
    "hello_windows_arm64/hello.exe": ["PE32+", "Aarch64", "MS Windows"],
    "hello_freebsd_amd64/hello": ["ELF 64-bit", "x86-64", "FreeBSD"],
    "hello_freebsd_arm64/hello": ["ELF 64-bit", "ARM aarch64", "FreeBSD"],
}


@pytest.fixture
def built(hello, sdk_session):
    r = run_xgo("run", cwd=hello, env=sdk_session["env"])
    assert r.rc == 0, r
    return hello


def test_hello_builds_every_target_in_its_format(built):
    dist = built / "dist"
    binaries = {p.relative_to(dist).as_posix() for p in dist.glob("hello_*/hello*")
                if not p.name.endswith(SBOM_SUFFIXES)}
    assert binaries == set(FORMATS)
    assert len(archive_sums(dist)) == 11, "one archive per target is published"
    assert len(sums(dist)) == 22, "and one SBOM per binary"
    for name, words in FORMATS.items():
        desc = subprocess.run(["file", "-b", str(dist / name)], capture_output=True, text=True).stdout
        for w in words:
            assert w in desc, f"{name}: {desc}"
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_native_binary_runs_with_version_from_ldflags(built):
    out = subprocess.run([str(built / "dist/hello_linux_amd64/hello"), "-version"], capture_output=True, text=True)
    assert out.stdout == "hello 0.1.0 linux/amd64\n"


def test_arm64_binary_runs_under_qemu(built):
    qemu = shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")
    assert qemu, "qemu-user-static is not installed (./configure --deps installs it)"
    out = subprocess.run([qemu, str(built / "dist/hello_linux_arm64/hello"), "-version"], capture_output=True,
                         text=True)
    assert out.stdout == "hello 0.1.0 linux/arm64\n", out


def test_manifest_records_inputs_and_every_job(built):
    m = json.loads((built / "dist/manifest.json").read_text())
    assert m["schema"] == 1 and m["tool"]["name"] == "xgo-build"
    assert m["release"]["project"] == "hello" and len(m["release"]["digest"]) == 64
    assert m["release"]["env_reads"] == [{"name": "VERSION", "value": "0.1.0", "from_default": True}]
    assert m["sdk"]["version"] == "1.26.8" and len(m["sdk"]["tree_digest"]) == 64
    assert len(m["inputs"]["source_digest"]) == 64
    assert m["inputs"]["source_date_epoch"].isdigit()
    assert m["execution"]["isolation"] in ("none", "net")
    assert len(m["jobs"]) == 11
    for j in m["jobs"]:
        data = (built / "dist" / j["output"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == j["sha256"]
        assert j["size"] == (built / "dist" / j["output"]).stat().st_size
        env = dict(e.split("=", 1) for e in j["env"])
        assert env["GOOS"] == j["goos"] and env["GOARCH"] == j["goarch"]
        assert env["GOFLAGS"] == "-trimpath -buildvcs=false -mod=readonly"
        assert j["argv"][1] == "build" and j["duration_s"] >= 0


def test_second_run_gives_identical_hashes(built, sdk_session):
    first = sums(built / "dist")
    r = run_xgo("run", "--no-cache", cwd=built, env=sdk_session["env"])
    assert r.rc == 0, r
    assert sums(built / "dist") == first


def test_hostile_host_environment_changes_nothing(built, sdk_session, tmp_path):
    clean = sums(built / "dist")
    goenv = tmp_path / "goenv"
    goenv.write_text("GOFLAGS=-tags=hostile\nGOAMD64=v3\n")
    fakebin = tmp_path / "bin"
    fakebin.mkdir()
    (fakebin / "go").write_text("#!/bin/sh\necho fake go >&2\nexit 3\n")
    (fakebin / "go").chmod(0o755)
    hostile = dict(sdk_session["env"])
    hostile.update({
        "GOFLAGS": "-race", "GOENV": str(goenv), "CGO_CFLAGS": "-DHOSTILE", "GOAMD64": "v3",
        "GOARM": "5", "GOTOOLCHAIN": "auto", "CGO_ENABLED": "1", "GOOS": "plan9", "GOARCH": "mips",
        "PATH": f"{fakebin}:{os.environ['PATH']}", "GOROOT": "/nonexistent", "TZ": "Asia/Kolkata",
        "LC_ALL": "tr_TR.UTF-8", "HOME": str(tmp_path),
    })
    shutil.rmtree(built / "dist")
    r = run_xgo("run", "--no-cache", cwd=built, env=hostile)
    assert r.rc == 0, r
    assert sums(built / "dist") == clean


def test_print_env_shows_the_whole_job(hello, sdk_session):
    r = run_xgo("run", "--print-env", "linux/arm/6", cwd=hello, env=sdk_session["env"])
    assert r.rc == 0, r
    env_text, argv = r.out.split("\n\n")
    env = dict(l.split("=", 1) for l in env_text.splitlines())
    assert set(env) == {
        "CGO_ENABLED", "GOARCH", "GOARM", "GOCACHE", "GOENV", "GOFLAGS", "GOGC", "GOMAXPROCS", "GOMEMLIMIT",
        "GOMODCACHE", "GOOS", "GOPROXY", "GOROOT", "GOTMPDIR", "GOTOOLCHAIN", "GOWORK", "HOME", "LC_ALL", "PATH",
        "SOURCE_DATE_EPOCH", "TMPDIR", "TZ"}
    assert env["GOARM"] == "6" and env["GOPROXY"] == "off" and env["GOTOOLCHAIN"] == "local"
    assert env["GOGC"] == "off" and re.fullmatch(r"[0-9]+MiB", env["GOMEMLIMIT"]), env
    assert env["PATH"].startswith(env["GOROOT"] + "/bin:")
    assert "-ldflags=-s -w -X main.version=0.1.0" in argv
    assert argv.rstrip().endswith("./cmd/hello")
    assert not (hello / "dist").exists(), "--print-env builds nothing"
    r = run_xgo("run", "--print-env", "plan9/386", cwd=hello, env=sdk_session["env"])
    assert r.rc == 2 and "no job 'plan9/386'" in r.err


@pytest.mark.parametrize("setting, gogc, limit", [("0", None, None), ("512", "off", "512MiB")])
def test_gc_memlimit_setting(hello, sdk_session, setting, gogc, limit):
    r = run_xgo("run", "--print-env", "linux/amd64", cwd=hello,
                env=dict(sdk_session["env"], XGO_GC_MEMLIMIT=setting))
    assert r.rc == 0, r
    env = dict(l.split("=", 1) for l in r.out.split("\n\n")[0].splitlines())
    assert env.get("GOGC") == gogc and env.get("GOMEMLIMIT") == limit, env


FAILING = {
    "main.go": "package main\n\nfunc main() { println(msg) }\n",
    "msg_ok.go": "//go:build !freebsd\n\npackage main\n\nvar msg = \"ok\"\n",
    "msg_bad.go": "//go:build freebsd\n\npackage main\n\nvar msg = syntax error here\n",
    "release.lua": 'project { name = "p" }\ngo "1.26.8"\n'
                   'build "p" { targets = matrix { goos = { "freebsd", "linux", "windows" }, goarch = { "amd64" } } }\n',
}


def test_failing_target_fails_fast_with_its_log(tmp_path, sdk_session):
    proj = write_project(tmp_path / "p", FAILING, sdk_session)
    r = run_xgo("run", "-j", "1", cwd=proj, env=sdk_session["env"])
    assert r.rc == 1, r
    assert "p freebsd/amd64 failed (exit 1)" in r.err
    assert "msg_bad.go" in r.err and "syntax error" in r.err
    assert "ok p linux/amd64" not in r.err, "fail-fast: nothing starts after the failure"
    assert not (proj / "dist").exists()
    assert not list(proj.glob("dist.tmp-*"))


def test_keep_going_builds_the_others(tmp_path, sdk_session):
    proj = write_project(tmp_path / "p", FAILING, sdk_session)
    r = run_xgo("run", "--keep-going", cwd=proj, env=sdk_session["env"])
    assert r.rc == 1, r
    assert "ok p linux/amd64" in r.err and "ok p windows/amd64" in r.err
    assert "p freebsd/amd64 failed" in r.err
    assert not (proj / "dist").exists(), "a failed run publishes nothing"


def test_a_build_that_needs_the_network_fails_clearly(tmp_path, sdk_session):
    proj = write_project(tmp_path / "p", {
        "go.mod": "module example.com/p\n\ngo 1.26\n",
        "main.go": 'package main\n\nimport "example.com/not/required"\n\nfunc main() { required.F() }\n',
        "release.lua": 'project { name = "p" }\ngo "1.26.8"\n'
                       'build "p" { targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }\n',
    }, sdk_session)
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 1, r
    assert "cannot find module providing package example.com/not/required" in r.err
    assert "hint: the build needs a module the prefetch did not download" in r.err


def test_newer_go_requirement_is_not_fetched(tmp_path, sdk_session):
    proj = write_project(tmp_path / "p", {
        "go.mod": "module example.com/p\n\ngo 1.99\n",
        "main.go": "package main\n\nfunc main() {}\n",
        "release.lua": 'project { name = "p" }\ngo "1.26.8"\n'
                       'build "p" { targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }\n',
    }, sdk_session)
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 1, r
    assert "requires go >= 1.99" in r.err and "GOTOOLCHAIN=local" in r.err


def test_missing_lock_is_an_sdk_error(hello, sdk_session):
    (hello / "release.lock").unlink()
    r = run_xgo("run", cwd=hello, env=sdk_session["env"])
    assert r.rc == 4, r
    assert "xgo-build lock" in r.err


def test_stale_lock_is_an_sdk_error(hello, sdk_session):
    src = (hello / "release.lua").read_text().replace('go "1.26.8"', 'go "1.26.7"')
    (hello / "release.lua").write_text(src)
    r = run_xgo("run", cwd=hello, env=sdk_session["env"])
    assert r.rc == 4, r
    assert "xgo-build lock" in r.err


def test_isolation_values(hello, sdk_session):
    r = run_xgo("run", "--isolation=bogus", cwd=hello, env=sdk_session["env"])
    assert r.rc == 2 and "bogus" in r.err
    r = run_xgo("run", "--isolation=none", "--print-env", "linux/amd64", cwd=hello, env=sdk_session["env"])
    assert r.rc == 0, r


def test_controlled_variable_in_build_env_is_refused(tmp_path, sdk_session):
    proj = write_project(tmp_path / "p", {
        "main.go": "package main\n\nfunc main() {}\n",
        "release.lua": 'project { name = "p" }\ngo "1.26.8"\n'
                       'build "p" { env = { GOFLAGS = "-race" }, targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }\n',
    }, sdk_session)
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 2, r
    assert "release.lua:3: build 'p': env sets GOFLAGS, which xgo-build controls" in r.err


def test_hooks_run_before_and_after(tmp_path, sdk_session):
    proj = write_project(tmp_path / "p", {
        "main.go": "package main\n\nfunc main() {}\n",
        "release.lua": 'project { name = "p" }\ngo "1.26.8"\n'
                       'before { "echo generated > gen.txt" }\n'
                       'after { "echo \\"$XGO_TARGET $XGO_ARTIFACT\\" >> after.txt" }\n'
                       'build "p" { targets = matrix { goos = { "linux", "windows" }, goarch = { "amd64" } } }\n',
    }, sdk_session)
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 0, r
    assert (proj / "gen.txt").read_text() == "generated\n"
    lines = sorted((proj / "after.txt").read_text().splitlines())
    assert [l.split()[0] for l in lines] == ["linux/amd64", "windows/amd64"]


def test_failing_before_hook_stops_the_run(tmp_path, sdk_session):
    proj = write_project(tmp_path / "p", {
        "main.go": "package main\n\nfunc main() {}\n",
        "release.lua": 'project { name = "p" }\ngo "1.26.8"\n'
                       'before { "echo hook-output; exit 7" }\n'
                       'build "p" { targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }\n',
    }, sdk_session)
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 1, r
    assert "before hook 1 failed (exit 7)" in r.err and "hook-output" in r.err


def _descendants(pid):
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,pgid=,args="], capture_output=True, text=True).stdout
    return [l for l in out.splitlines() if "go build" in l or "compile" in l]


def test_sigint_leaves_no_child_and_no_partial_dist(hello, sdk_session, tmp_path):
    # a fresh GOCACHE so that the builds take long enough to interrupt
    env = dict(os.environ, **sdk_session["env"])
    env["XGO_GOCACHE"] = str(tmp_path / "gocache")
    (hello / "dist").mkdir()
    (hello / "dist" / "previous.txt").write_text("the previous release\n")
    # a dist/ an earlier run wrote: only such a one may be replaced
    (hello / "dist" / ".xgo-build-dist").write_text(
        "This directory was written by xgo-build: each run replaces it as a whole.\n")
    proc = subprocess.Popen([str(BINARY), "run", "--no-cache"], cwd=hello, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not (hello / ".xgo-build" / "logs").exists():
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    time.sleep(0.5)
    leftovers = [l for l in _descendants(proc.pid) if str(hello) in l or "gocache" in l]
    assert leftovers == []
    assert sorted(p.name for p in (hello / "dist").iterdir()) == [".xgo-build-dist", "previous.txt"]
    assert not list(hello.glob("dist.tmp-*"))


def test_plan_uses_the_cached_sdk_port_table(hello, sdk_session, tmp_path):
    r = run_xgo("plan", cwd=hello, env=sdk_session["env"])
    assert r.rc == 0 and "(ports: go tool dist list)" in r.out, r
    r = run_xgo("plan", cwd=hello, env={"XGO_CACHE": str(tmp_path / "empty")})
    assert r.rc == 0 and "(ports: built-in (go1.26))" in r.out, r
    assert not list((tmp_path / "empty").glob("sdk/go*/go")), "plan never installs an SDK"
