"""The command-line surface: help, version, unknown commands, exit codes."""
import json

import pytest

COMMANDS = ["init", "run", "plan", "verify", "merge", "sdk", "cache", "lock", "targets", "keygen", "verify-release"]


def test_no_arguments_prints_usage_and_exits_2(xgo):
    r = xgo()
    assert r.rc == 2
    assert "usage: xgo-build <command>" in r.err


def test_help_lists_every_command(xgo):
    r = xgo("--help")
    assert r.rc == 0
    for c in COMMANDS + ["version", "help"]:
        assert f"  {c} " in r.out


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_command_has_help(xgo, cmd):
    r = xgo(cmd, "--help")
    assert r.rc == 0, r
    assert r.out.startswith(f"usage: xgo-build {cmd}")
    r2 = xgo("help", cmd)
    assert r2.rc == 0 and r2.out == r.out


def test_version(xgo):
    r = xgo("version")
    assert r.rc == 0 and r.out.startswith("xgo-build 0.1.0")


def test_unknown_command_suggests(xgo):
    r = xgo("rnu")
    assert r.rc == 2
    assert "unknown command 'rnu' (did you mean 'run'?)" in r.err


def test_unknown_option_is_a_usage_error(xgo, root):
    r = xgo("plan", "--frobnicate", "examples/hello/release.lua", cwd=root)
    assert r.rc == 2
    assert "see 'xgo-build plan --help'" in r.err


@pytest.mark.parametrize("cmd", COMMANDS)
@pytest.mark.parametrize("arg", ["--frobnicate", "-Z", "--jobs"])
def test_a_bad_option_is_one_line_naming_it(xgo, tmp_path, cmd, arg):
    # --jobs lacks its value: the same one line, not getopt's and ours
    r = xgo(cmd, arg, cwd=tmp_path)
    assert r.rc == 2, r
    what = "unknown subcommand" if cmd == "sdk" else "unknown option or missing value in"
    assert r.err.splitlines() == [f"xgo-build: error: {what} '{arg}' (see 'xgo-build {cmd} --help')"], r


def test_two_build_files_are_refused(xgo, root):
    r = xgo("plan", "a.lua", "b.lua", cwd=root)
    assert r.rc == 2 and "unexpected argument 'b.lua'" in r.err


def test_bad_jobs_value(xgo, root):
    r = xgo("plan", "-j", "0", "examples/hello/release.lua", cwd=root)
    assert r.rc == 2 and "--jobs wants a number" in r.err


def test_targets_lists_ports_with_flags(xgo):
    r = xgo("targets")
    assert r.rc == 0
    lines = r.out.splitlines()
    assert lines[0].split()[:4] == ["GOOS", "GOARCH", "FIRST-CLASS", "CGO"]
    linux_arm = [l for l in lines if l.split()[:2] == ["linux", "arm"]][0]
    assert "yes" in linux_arm and "GOARM (default 7)" in linux_arm
    js = json.loads(xgo("targets", "--json").out)
    wasm = [p for p in js if p["goos"] == "js"][0]
    assert wasm["cgo"] is False and wasm["first_class"] is False


def test_ninja_install_honours_prefix_and_destdir(root, tmp_path):
    import os
    import subprocess
    env = dict(os.environ, DESTDIR=str(tmp_path / "stage"), PREFIX="/opt/xgo")
    r = subprocess.run(["ninja", "install"], cwd=root, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    installed = tmp_path / "stage/opt/xgo/bin/xgo-build"
    assert installed.exists() and os.access(installed, os.X_OK)
    out = subprocess.run([str(installed), "version"], capture_output=True, text=True)
    assert out.stdout.startswith("xgo-build ")
