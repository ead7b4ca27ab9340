"""Shared fixtures for the CLI tests: the built binary and a runner."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = pathlib.Path(os.environ.get("XGO_BUILD", ROOT / "build" / "xgo-build"))


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return f"rc={self.rc}\nstdout:\n{self.out}\nstderr:\n{self.err}"


def run_xgo(*args, cwd=None, env=None, timeout=900, input=None):
    """Run the real binary; returns rc, stdout, stderr."""
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    if env:
        full_env.update(env)
    proc = subprocess.run(
        [str(BINARY), *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
    )
    return Result(proc)


# ---- CPU per test (XGO_TEST_CPU=N: the N costliest at the end) ----------
#
# The suite's budget is wall time on a 2-core machine that it keeps busy, so
# what a test costs is its CPU: the seconds of the processes it started and
# waited for (xgo-build and its go builds), with its fixtures' setup.  Wall
# times (--durations) depend on what runs beside it.

import resource as _resource

_CPU = []


def _cpu_seconds():
    ch, me = _resource.getrusage(_resource.RUSAGE_CHILDREN), _resource.getrusage(_resource.RUSAGE_SELF)
    return ch.ru_utime + ch.ru_stime + me.ru_utime + me.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    before = _cpu_seconds()
    yield
    _CPU.append((_cpu_seconds() - before, item.nodeid))


def pytest_terminal_summary(terminalreporter):
    n = int(os.environ.get("XGO_TEST_CPU") or 0)
    if n <= 0 or not _CPU:
        return
    total = sum(c for c, _ in _CPU)
    terminalreporter.write_sep("=", f"CPU seconds per test: {total:.0f} in all, the {min(n, len(_CPU))} costliest")
    for cpu, nodeid in sorted(_CPU, reverse=True)[:n]:
        terminalreporter.write_line(f"{cpu:8.1f}s  {nodeid}")
    files = {}
    for cpu, nodeid in _CPU:
        files[nodeid.split("::")[0]] = files.get(nodeid.split("::")[0], 0) + cpu
    terminalreporter.write_sep("-", "CPU seconds per file")
    for name, cpu in sorted(files.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{cpu:8.1f}s  {name}")


@pytest.fixture(scope="session")
def xgo():
    assert BINARY.exists(), f"{BINARY} is not built: run ninja first"
    return run_xgo


@pytest.fixture(scope="session")
def root():
    return ROOT


# ---- a pinned SDK for build tests ----------------------------------------
#
# The machine's own Go is packed once per session into a go.dev-style mirror
# (toolchains/pack-local-sdk.sh), locked once, and the lock is copied into
# every test project.  XGO_CACHE and the shared GOCACHE are per session, so
# the SDK is installed once and the standard library compiled once per
# target for the whole run.

import json as _json
import shutil as _shutil


def _goroot():
    out = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.fixture(scope="session")
def sdk_session(tmp_path_factory):
    base = tmp_path_factory.mktemp("sdk-session")
    mirror = base / "mirror"
    mirror.mkdir()
    subprocess.run([str(ROOT / "toolchains/pack-local-sdk.sh"), "-o", str(mirror), "-g", _goroot(), "-l", "1"],
                   check=True, capture_output=True)
    env = {"XGO_CACHE": str(base / "cache"), "XGO_GOCACHE": str(base / "gocache"),
           "XGO_SDK_MIRROR": f"file://{mirror}"}
    proj = base / "lockproj"
    _shutil.copytree(ROOT / "examples/hello", proj, ignore=_shutil.ignore_patterns("dist", ".xgo-build"))
    (proj / "release.lock").unlink()
    r = run_xgo("lock", cwd=proj, env=env)
    assert r.rc == 0, r
    return {"env": env, "lock": (proj / "release.lock").read_text(), "mirror": mirror}


def copy_hello_archives(proj, sdk_session):
    """examples/hello as the archive tests want it: its 11 targets, archives
    and checksums, without what it makes from the binaries (the universal
    binary, packages, image), which test_examples.py checks on the whole
    example.  Locked to the session SDK."""
    _shutil.copytree(ROOT / "examples/hello", proj, ignore=_shutil.ignore_patterns("dist", ".xgo-build"))
    text = (proj / "release.lua").read_text()
    universal = "  universal = true, -- darwin/all: one fat Mach-O of darwin/amd64 + arm64\n"
    assert universal in text and "\n-- One package" in text, "examples/hello/release.lua changed shape"
    text = text.replace(universal, "")
    (proj / "release.lua").write_text(text[:text.index("\n-- One package") + 1])
    (proj / "release.lock").write_text(sdk_session["lock"])
    return proj


@pytest.fixture
def hello(tmp_path, sdk_session):
    """A fresh copy of examples/hello's archive part (copy_hello_archives)."""
    return copy_hello_archives(tmp_path / "hello", sdk_session)


def write_project(dirpath, files, sdk_session):
    """A project from {relative path: text}, with go.mod and the lock."""
    dirpath.mkdir(parents=True, exist_ok=True)
    files = dict(files)
    files.setdefault("go.mod", "module example.com/p\n\ngo 1.26\n")
    for rel, text in files.items():
        p = dirpath / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (dirpath / "release.lock").write_text(sdk_session["lock"])
    return dirpath


def sums(dist):
    """{name: digest} from a dist/SHA256SUMS."""
    out = {}
    for line in (dist / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        out[name] = digest
    return out


SBOM_SUFFIXES = (".spdx.json", ".cdx.json")


def archive_sums(dist):
    """sums(dist) without the SBOMs every binary gets (docs/attest.md)."""
    return {n: d for n, d in sums(dist).items() if not n.endswith(SBOM_SUFFIXES)}


# The records of a run that hold its run details (times, invocation):
# they differ between two runs of the same release (docs/attest.md).
RUN_RECORDS = ("manifest.json", "provenance.json")
