"""macOS universal binaries (universal = true): one fat Mach-O of the
darwin/amd64 and darwin/arm64 builds, checked with Debian's llvm-lipo and
llvm-objdump, archived as the darwin/all target, listed in SHA256SUMS and
manifest.json, byte-identical across runs and rebuilt with the slices."""
import glob
import json
import shutil
import subprocess
import tarfile

import pytest

from conftest import run_xgo, sums, write_project

EPOCH = "1700000000"
MAIN = 'package main\n\nimport "fmt"\n\nvar msg = "%s"\n\nfunc main() { fmt.Println(msg) }\n'
RELEASE = """project { name = "u", version = "0.1.0" }
go "1.26.8"
build "u" { main = "./cmd/u", universal = true,
  targets = matrix { goos = { "darwin" }, goarch = { %s } } }
archive { files = { "go.mod" } }
"""


def tool(name):
    found = shutil.which(name) or sorted(glob.glob(f"/usr/bin/{name}-[0-9]*"))
    path = found if isinstance(found, str) else (found[-1] if found else None)
    if not path:
        pytest.skip(f"{name} is not installed (Debian package llvm; ./configure --deps installs it)")
    return path


def project(tmp_path, sdk_session, arches='"amd64", "arm64"', msg="one"):
    return write_project(tmp_path / "u", {"cmd/u/main.go": MAIN % msg, "release.lua": RELEASE % arches},
                         sdk_session)


def run(proj, sdk_session, *extra):
    r = run_xgo("run", *extra, cwd=proj, env=dict(sdk_session["env"], SOURCE_DATE_EPOCH=EPOCH))
    assert r.rc == 0, r
    return proj / "dist"


def thin(fat, arch, out):
    subprocess.run([tool("llvm-lipo"), fat, "-thin", arch, "-output", out], check=True)
    return out.read_bytes()


def test_fat_binary_passes_lipo_and_objdump_is_archived_identical_and_rebuilt(tmp_path, sdk_session):
    proj = project(tmp_path, sdk_session)
    dist = run(proj, sdk_session)
    fat = dist / "u_darwin_all/u"
    info = subprocess.run([tool("llvm-lipo"), "-info", fat], capture_output=True, text=True, check=True).stdout
    assert "Architectures in the fat file" in info and "x86_64 arm64" in info, info
    heads = subprocess.run([tool("llvm-objdump"), "--macho", "--universal-headers", fat], capture_output=True,
                           text=True, check=True).stdout
    assert "nfat_arch 2" in heads and heads.count("align 2^14 (16384)") == 2, heads
    assert thin(fat, "x86_64", tmp_path / "x") == (dist / "u_darwin_amd64/u").read_bytes()
    assert thin(fat, "arm64", tmp_path / "a") == (dist / "u_darwin_arm64/u").read_bytes()
    with tarfile.open(dist / "u_0.1.0_darwin_all.tar.gz") as t:
        assert sorted(t.getnames()) == ["go.mod", "u"]
        assert t.extractfile("u").read() == fat.read_bytes()
    s = sums(dist)
    assert "u_0.1.0_darwin_all.tar.gz" in s
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    m = json.loads((dist / "manifest.json").read_text())
    rec = {e.get("output", e.get("archive")): e for e in m["universal"]}
    assert rec["u_darwin_all/u"]["slices"] == ["darwin/amd64", "darwin/arm64"]
    assert rec["u_darwin_all/u"]["size"] == fat.stat().st_size
    assert rec["u_0.1.0_darwin_all.tar.gz"]["sha256"] == s["u_0.1.0_darwin_all.tar.gz"]

    # a second run (from the action cache, into another dist) gives the same bytes
    first = {n: (dist / n).read_bytes() for n in ("u_darwin_all/u", "u_0.1.0_darwin_all.tar.gz", "SHA256SUMS")}
    again = run(proj, sdk_session, "--dist", tmp_path / "again")
    for n, data in first.items():
        assert (again / n).read_bytes() == data, n
    # replaced darwin builds replace the fat binary too
    (proj / "cmd/u/main.go").write_text(MAIN % "two")
    third = run(proj, sdk_session)
    fat = third / "u_darwin_all/u"
    assert fat.read_bytes() != first["u_darwin_all/u"] and b"two" in fat.read_bytes()
    assert thin(fat, "arm64", tmp_path / "a") == (third / "u_darwin_arm64/u").read_bytes()


@pytest.mark.parametrize("arches", ['"amd64"', '"arm64"'])
def test_universal_without_both_darwin_arches_is_exit_2(tmp_path, sdk_session, arches):
    proj = project(tmp_path, sdk_session, arches)
    for cmd in ("plan", "run"):
        r = run_xgo(cmd, cwd=proj, env=sdk_session["env"])
        assert r.rc == 2, r
        assert "release.lua:3: build 'u': universal = true needs darwin/amd64 and darwin/arm64" in r.err, r
    assert not (proj / "dist").exists()


def test_universal_must_be_a_boolean(tmp_path, sdk_session):
    proj = project(tmp_path, sdk_session)
    (proj / "release.lua").write_text((RELEASE % '"amd64", "arm64"').replace("universal = true",
                                                                             'universal = "yes"'))
    r = run_xgo("plan", cwd=proj, env=sdk_session["env"])
    assert r.rc == 2 and "'universal' must be true or false" in r.err, r


def test_a_shard_makes_no_universal_binary_but_checks_the_declaration(tmp_path, sdk_session):
    proj = project(tmp_path, sdk_session)
    dist = run(proj, sdk_session, "--shard", "1/2")
    assert not (dist / "u_darwin_all").exists() and "universal" not in json.loads((dist / "manifest.json").read_text())
    bad = project(tmp_path / "bad", sdk_session, '"amd64"')
    r = run_xgo("run", "--shard", "1/2", cwd=bad, env=sdk_session["env"])
    assert r.rc == 2 and "universal = true needs darwin/amd64 and darwin/arm64" in r.err, r
