"""cgo cross-compilation: pinned C toolchains, static binaries, smoke runs.

Real compilers only: zig from the ziglang wheel (pinned in release.lock
by version, binary sha256 and lib/ tree digest), the Debian cross gcc
packages, the host gcc, and qemu-user-static for the foreign linux
binaries.  `./configure --deps` installs all of them.

Cost: zig builds musl (about 4 minutes of one core per target on this
2-core machine, cold) and mingw once per session, in the zig cache the
whole module shares; SQLite's C (8 MB) takes 1-2 minutes per target.  So
examples/cgo has two linux targets (one native, one under qemu) besides
windows and darwin, and is built once, with --smoke.  `verify` covers the
linux targets of the small C program and sqlitedemo on linux/amd64, with
the C objects from the shared GOCACHE: the gocache variation (the
standard library and all C again per target) is left out here, and
test_verify.py runs it on a host-gcc cgo build.
"""
import json
import os
import shutil
import stat
import struct
import subprocess

import pytest

from conftest import ROOT, run_xgo

LINUX = ["linux/amd64+cgo", "linux/arm64+cgo"]
ALL = LINUX + ["windows/amd64+cgo", "darwin/arm64+cgo"]


@pytest.fixture(scope="module")
def cgo(tmp_path_factory, sdk_session):
    """examples/cgo locked to the session SDK and this machine's zig, with a
    zig cache shared by every test of the module."""
    base = tmp_path_factory.mktemp("cgo")
    env = dict(sdk_session["env"])
    env["XGO_ZIG_CACHE"] = str(base / "zig-cache")
    # For repeated local runs only (CI leaves them unset): persistent zig
    # and Go caches, so that musl and the standard library are not rebuilt.
    if os.environ.get("XGO_TEST_ZIG_CACHE"):
        env["XGO_ZIG_CACHE"] = os.environ["XGO_TEST_ZIG_CACHE"]
    if os.environ.get("XGO_TEST_GOCACHE"):
        env["XGO_GOCACHE"] = os.environ["XGO_TEST_GOCACHE"]
    # The committed lock, as a new user runs the example: the session's SDK
    # entry has the pinned tree digest, and this machine's zig (installed by
    # configure --deps) must match the committed zig pin as it is.
    committed = (ROOT / "examples/cgo/release.lock").read_text()
    lock = json.loads(committed)
    assert lock["zig"]["version"] == "0.17.0"
    return {"env": env, "lock": committed, "base": base}


def copy_example(cgo, dest, release=None):
    shutil.copytree(ROOT / "examples/cgo", dest, ignore=shutil.ignore_patterns("dist", ".xgo-build"))
    (dest / "release.lock").write_text(cgo["lock"])
    if release is not None:
        (dest / "release.lua").write_text(release)
    return dest


def elf_dynamic_parts(path):
    """readelf's view: program header types and NEEDED entries."""
    out = subprocess.run(["readelf", "-ldW", str(path)], capture_output=True, text=True, check=True).stdout
    return ("INTERP" in out.split("Section to Segment")[0], [l for l in out.splitlines() if "(NEEDED)" in l])


def musl_builds(zig_cache):
    """How often zig built musl, per machine: the libc.a files in its cache."""
    counts = {}
    for lib in zig_cache.glob("o/*/libc.a"):
        out = subprocess.run(["readelf", "-h", str(lib)], capture_output=True, text=True).stdout
        machine = next(l.split(":", 1)[1].strip() for l in out.splitlines() if "Machine:" in l)
        counts[machine] = counts.get(machine, 0) + 1
    return counts


def pe_imports(path):
    """The DLL names of a PE file's import directory (a minimal reader)."""
    d = open(path, "rb").read()
    pe = struct.unpack_from("<I", d, 0x3C)[0]
    nsect, optsize = struct.unpack_from("<H", d, pe + 6)[0], struct.unpack_from("<H", d, pe + 20)[0]
    opt = pe + 24
    dirs = opt + (112 if struct.unpack_from("<H", d, opt)[0] == 0x20B else 96)
    sects = [struct.unpack_from("<IIII", d, opt + optsize + 40 * i + 8) for i in range(nsect)]

    def off(rva):
        for vsize, va, raw, ptr in sects:
            if va <= rva < va + max(vsize, raw):
                return ptr + rva - va
        raise ValueError(rva)

    names, p = [], off(struct.unpack_from("<I", d, dirs + 8)[0])
    while True:
        name_rva = struct.unpack_from("<I", d, p + 12)[0]
        if name_rva == 0:
            return names
        o = off(name_rva)
        names.append(d[o:d.index(b"\0", o)].decode())
        p += 20


def macho_dylibs(path):
    d = open(path, "rb").read()
    assert d[:4] == b"\xcf\xfa\xed\xfe"
    ncmds, off, libs = struct.unpack_from("<I", d, 16)[0], 32, []
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", d, off)
        if cmd in (0xC, 0x80000018, 0x8000001F):
            name = off + struct.unpack_from("<I", d, off + 8)[0]
            libs.append(d[name:d.index(b"\0", name)].decode())
        off += size
    return libs


def test_example_builds_every_target_static_and_smoke_runs_under_qemu(cgo, tmp_path):
    proj = copy_example(cgo, tmp_path / "cgo")
    r = run_xgo("run", "--smoke", cwd=proj, env=cgo["env"], timeout=1500)
    assert r.rc == 0, r
    man = json.loads((proj / "dist/manifest.json").read_text())
    jobs = {(j["build"], j["target"]): j for j in man["jobs"]}
    assert set(jobs) == {(b, t) for b in ("cgohello", "sqlitedemo") for t in ALL}
    for (build, target), j in jobs.items():
        assert j["static"] is True and j["cc"]["kind"] == "zig", j
        assert len(j["cc"]["digest"]) == 64 and j["cc"]["sha256"] == json.loads(cgo["lock"])["zig"][
            "platforms"]["linux-amd64"]["sha256"]
        binary = proj / "dist" / j["output"]
        if target.startswith("linux/"):
            interp, needed = elf_dynamic_parts(binary)
            assert not interp and not needed, (target, needed)
            # run natively or under qemu, checked against smoke.expect
            assert j["smoke"]["status"] == "passed", j
            want = "native" if target == "linux/amd64+cgo" else "qemu-"
            assert j["smoke"]["runner"].startswith(want)
        else:
            assert j["smoke"]["status"] == "skipped", j  # never "passed"
    assert "musl" in jobs[("cgohello", "linux/arm64+cgo")]["cc"]["triple"]
    dlls = [n.lower() for n in pe_imports(proj / "dist/sqlitedemo_windows_amd64/sqlitedemo.exe")]
    assert "kernel32.dll" in dlls and not [n for n in dlls if "pthread" in n or "libgcc" in n], dlls
    assert all(lib.startswith(("/usr/lib/libSystem", "/usr/lib/libresolv", "/System/Library/Frameworks/"))
               for lib in macho_dylibs(proj / "dist/sqlitedemo_darwin_arm64/sqlitedemo"))
    # the smoke output really came from the foreign binary
    log = (proj / ".xgo-build/logs/smoke_sqlitedemo_linux_arm64_cgo.log").read_text()
    assert "sqlitedemo 0.1.0: sqlite 3." in log and "4 rows, sum 42" in log
    assert "smoke cgohello linux/arm64+cgo: passed (qemu-aarch64" in r.err
    assert "smoke sqlitedemo windows/amd64+cgo: skipped" in r.err
    # one musl per linux target: the _cgo_.o link (-fPIC from the go
    # command) and the binary's link share it (4 CPU-minutes each here)
    if not os.environ.get("XGO_TEST_ZIG_CACHE"):
        assert sorted(musl_builds(cgo["base"] / "zig-cache").values()) == [1, 1], musl_builds(
            cgo["base"] / "zig-cache")


VERIFY_RELEASE = """
project { name = "cgodemo", version = "0.1.0" }
go "1.26.8"
cc { zig = "0.17.0" }
build "cgohello" {
  main = "./cmd/cgohello",
  ldflags = { "-s", "-w", "-X main.version={version}" },
  targets = matrix { goos = { "linux" }, goarch = { "amd64", "arm64" }, cgo = true },
}
build "sqlitedemo" {
  main = "./cmd/sqlitedemo",
  ldflags = { "-s", "-w", "-X main.version={version}" },
  targets = matrix { goos = { "linux" }, goarch = { "amd64" }, cgo = true },
}
"""


def test_verify_of_the_linux_cgo_targets_is_bit_identical(cgo, tmp_path):
    proj = copy_example(cgo, tmp_path / "cgo", VERIFY_RELEASE)
    env = dict(cgo["env"], TMPDIR=str(tmp_path))
    r = run_xgo("verify", "--no-vary=gocache", cwd=proj, env=env, timeout=1500)
    assert r.rc == 0, r
    assert "artifacts are identical" in r.err
    for t in ("linux_amd64", "linux_arm64"):
        assert f"cgohello_{t}/cgohello" in r.out
    assert "sqlitedemo_linux_amd64/sqlitedemo" in r.out and " NO " not in r.out


def test_debian_cross_gcc_builds_static_glibc_and_mingw(cgo, tmp_path):
    release = """
project { name = "cgodemo", version = "0.1.0" }
go "1.26.8"
cc { use = "gcc" }
build "cgohello" {
  main = "./cmd/cgohello",
  targets = matrix { goos = { "linux", "windows" }, goarch = { "amd64" }, cgo = true,
                     include = { { goos = "linux", goarch = "arm64", cgo = true } } },
  smoke = { args = { "--version" }, expect = "cgohello dev" },
}
"""
    proj = copy_example(cgo, tmp_path / "gcc", release)
    r = run_xgo("run", cwd=proj, env=cgo["env"], timeout=900)
    assert r.rc == 0, r
    jobs = {j["target"]: j for j in json.loads((proj / "dist/manifest.json").read_text())["jobs"]}
    assert jobs["linux/arm64+cgo"]["cc"]["path"].endswith("aarch64-linux-gnu-gcc")
    assert "aarch64-linux-gnu-gcc" in jobs["linux/arm64+cgo"]["cc"]["version"]
    assert jobs["windows/amd64+cgo"]["cc"]["path"].endswith("x86_64-w64-mingw32-gcc")
    assert jobs["linux/arm64+cgo"]["smoke"] == {"status": "passed", "runner": "qemu-aarch64-static"}
    interp, needed = elf_dynamic_parts(proj / "dist/cgohello_linux_arm64/cgohello")
    assert not interp and not needed
    dlls = [n.lower() for n in pe_imports(proj / "dist/cgohello_windows_amd64/cgohello.exe")]
    assert not [n for n in dlls if "pthread" in n or "libgcc" in n], dlls


def test_static_check_fails_a_dynamic_build_naming_the_library(cgo, tmp_path):
    # A compiler that ignores -static (as a misconfigured toolchain would):
    # the build succeeds, the check reads the binary and refuses it.
    wrapper = tmp_path / "dyncc"
    wrapper.write_text('#!/bin/sh\nfor a; do shift; [ "$a" = -static ] || set -- "$@" "$a"; done\n'
                       'exec gcc "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    release = f"""
project {{ name = "cgodemo", version = "0.1.0" }}
go "1.26.8"
cc {{ use = "{wrapper}" }}
build "cgohello" {{
  main = "./cmd/cgohello",
  targets = matrix {{ goos = {{ "linux" }}, goarch = {{ "amd64" }}, cgo = true }},
}}
"""
    proj = copy_example(cgo, tmp_path / "dyn", release)
    r = run_xgo("run", cwd=proj, env=cgo["env"], timeout=600)
    assert r.rc == 1, r
    assert "cgohello linux/amd64+cgo is declared static but" in r.err
    assert "libc.so.6 (DT_NEEDED)" in r.err or "PT_INTERP" in r.err, r.err
    assert not (proj / "dist").exists()
    # static = false accepts the same binary
    (proj / "release.lua").write_text(release.replace('main = "./cmd/cgohello",',
                                                      'main = "./cmd/cgohello", static = false,'))
    r = run_xgo("run", cwd=proj, env=cgo["env"], timeout=600)
    assert r.rc == 0, r
    assert elf_dynamic_parts(proj / "dist/cgohello_linux_amd64/cgohello")[1]


def test_missing_toolchain_says_which_would_serve(cgo, tmp_path):
    release = """
project { name = "cgodemo", version = "0.1.0" }
go "1.26.8"
build "cgohello" {
  main = "./cmd/cgohello",
  targets = matrix { goos = { "linux" }, goarch = { "arm64" }, cgo = true },
}
"""
    proj = copy_example(cgo, tmp_path / "none", release)
    r = run_xgo("run", cwd=proj, env=cgo["env"])
    assert r.rc == 2, r
    assert "linux/arm64+cgo uses cgo but no C toolchain serves it" in r.err
    assert 'add cc { zig = "0.17.0" }' in r.err and "gcc-aarch64-linux-gnu" in r.err
    assert r.err.count("error:") == 1


def test_zig_pin_is_checked_before_use(cgo, tmp_path):
    proj = copy_example(cgo, tmp_path / "pin")
    (proj / "release.lua").write_text((proj / "release.lua").read_text().replace('"0.17.0"', '"0.99.0"'))
    r = run_xgo("run", cwd=proj, env=cgo["env"])
    assert r.rc == 4, r
    assert "pins no zig 0.99.0" in r.err and "xgo-build lock" in r.err
    # a lock whose zig digest is not this zig's
    proj = copy_example(cgo, tmp_path / "tampered")
    lock = json.loads((proj / "release.lock").read_text())
    lock["zig"]["platforms"]["linux-amd64"]["sha256"] = "0" * 64
    (proj / "release.lock").write_text(json.dumps(lock))
    r = run_xgo("run", cwd=proj, env=cgo["env"])
    assert r.rc == 4, r
    assert "but release.lock pins " + "0" * 64 in r.err


def test_plan_shows_static_and_the_toolchain(root):
    r = run_xgo("plan", "examples/cgo/release.lua", cwd=root)
    assert r.rc == 0, r
    header, rows = r.out.splitlines()[2], [l.split() for l in r.out.splitlines()[3:]]
    assert header.split()[:5] == ["BUILD", "TARGET", "CGO", "STATIC", "CC"]
    assert len(rows) == 8 and all(row[2:5] == ["yes", "yes", "zig"] for row in rows)
    doc = json.loads(run_xgo("plan", "--json", "examples/cgo/release.lua", cwd=root).out)
    assert {(j["static"], j["cc"]) for j in doc["include"]} == {(True, "zig")}
    hello = json.loads(run_xgo("plan", "--json", "examples/hello/release.lua", cwd=root).out)
    assert {(j["static"], j["cc"]) for j in hello["include"]} == {(True, None)}
