"""package { format = "deb" }: Linux packages from `xgo-build run`, checked
with Debian's own tools (dpkg-deb, dpkg, lintian)."""
import json
import pathlib
import os
import shutil
import subprocess

import pytest

from conftest import BINARY, run_xgo, sums, write_project

EPOCH = "1700000000"
MAIN = """package main

import (
	"fmt"
	"runtime"
)

var version = "dev"

func main() { fmt.Printf("pk %s %s\\n", version, runtime.GOARCH) }
"""
COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Files: *
Copyright: 2026 The pk authors
License: MIT
"""
POSTINST = '#!/bin/sh\nset -e\ntouch "$DPKG_ROOT/var/lib/pk-installed"\n'


def release(package="", targets='"amd64"'):
    return (
        'project { name = "pk", version = "v1.2.3" }\n'
        'go "1.26.8"\n'
        'build "pk" { ldflags = { "-s", "-w", "-X main.version={version}" },\n'
        f'  targets = matrix {{ goos = {{ "linux" }}, goarch = {{ {targets} }} }} }}\n'
        + package)


GOOD = """package {
  format = "deb",
  maintainer = "PK Authors <pk@example.com>",
  description = "prints its version\\nA tiny program.\\n\\nIt says which build it is.",
  license = "MIT", homepage = "https://example.com/pk",
  depends = { "libc6", "ca-certificates (>= 2020)" },
  contents = {
    { src = "debian/copyright", dst = "/usr/share/doc/pk/copyright" },
    { src = "pk.conf", dst = "/etc/pk/pk.conf", type = "config" },
    { type = "symlink", src = "pk", dst = "/usr/bin/pk-alias" },
  },
  scripts = { postinstall = "debian/postinst" },
}
package {
  format = "rpm",
  maintainer = "PK Authors <pk@example.com>",
  description = "prints its version\\nA tiny program (100% Go).",
  license = "MIT", homepage = "https://example.com/pk",
  depends = { "glibc >= 2.17" },
  contents = {
    { src = "pk.conf", dst = "/etc/pk/pk.conf", type = "config" },
    { type = "symlink", src = "pk", dst = "/usr/bin/pk-alias" },
  },
  scripts = { postinstall = "debian/postinst" },
}
"""


def project(path, sdk_session, package=GOOD, **kw):
    return write_project(path, {"release.lua": release(package, **kw), "main.go": MAIN,
                                "debian/copyright": COPYRIGHT, "debian/postinst": POSTINST,
                                "pk.conf": "level = 1\n"}, sdk_session)


@pytest.fixture(scope="module")
def built(tmp_path_factory, sdk_session):
    proj = project(tmp_path_factory.mktemp("pk") / "pk", sdk_session)
    r = run_xgo("run", cwd=proj, env=dict(sdk_session["env"], SOURCE_DATE_EPOCH=EPOCH))
    assert r.rc == 0, r
    return proj


DEB = "pk_1.2.3-1_amd64.deb"
RPM = "pk-1.2.3-1.x86_64.rpm"
needs_rpm = pytest.mark.skipif(not shutil.which("rpm"), reason="rpm is not installed (./configure --deps installs it)")


def dpkg_deb(*args):
    out = subprocess.run(["dpkg-deb", *map(str, args)], capture_output=True, text=True,
                         env=dict(os.environ, TZ="UTC"))
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_deb_fields_as_dpkg_deb_reads_them(built):
    dist = built / "dist"
    info = dpkg_deb("--info", dist / DEB)
    for line in ["Package: pk", "Version: 1.2.3-1", "Architecture: amd64",
                 "Maintainer: PK Authors <pk@example.com>", "Depends: libc6, ca-certificates (>= 2020)",
                 "Homepage: https://example.com/pk", "Description: prints its version",
                 " A tiny program.", " .", " It says which build it is."]:
        assert "\n " + line + "\n" in info, (line, info)
    assert "postinst" in info and "conffiles" in info and "md5sums" in info
    fields = {l.split(":", 1)[0].strip(): l.split(":", 1)[1].strip()
              for l in dpkg_deb("--field", dist / DEB).splitlines() if l[:1] != " " and ":" in l}
    assert fields["Architecture"] == "amd64" and fields["Installed-Size"].isdigit()


def test_deb_contents_are_root_owned_at_the_epoch(built):
    listing = dpkg_deb("--contents", built / "dist" / DEB).splitlines()
    paths = [l.split()[5] for l in listing]
    assert paths == sorted(paths), "entries sorted"
    for want in ["./usr/bin/pk", "./usr/bin/pk-alias", "./etc/pk/pk.conf", "./usr/share/doc/pk/copyright",
                 "./usr/share/doc/pk/changelog.Debian.gz", "./usr/share/lintian/overrides/pk"]:
        assert want in paths, (want, listing)
    for line in listing:
        assert " root/root " in line and " 2023-11-14 22:13 " in line, line
        if line.split()[5] == "./usr/bin/pk":
            assert line.startswith("-rwxr-xr-x")
        if line.split()[5] == "./usr/bin/pk-alias":
            assert line.startswith("l") and line.endswith(" -> pk")


def test_lintian_reports_no_error(built):
    if not shutil.which("lintian"):
        pytest.skip("lintian is not installed (./configure --deps installs it)")
    out = subprocess.run(["lintian", "--no-cfg", str(built / "dist" / DEB)], capture_output=True, text=True)
    errors = [l for l in out.stdout.splitlines() if l.startswith("E:")]
    assert errors == [] and out.returncode in (0, 1) and "E:" not in out.stderr, out.stdout + out.stderr


def test_dpkg_installs_into_a_scratch_root_and_the_binary_runs(built, tmp_path):
    root = tmp_path / "root"
    if os.geteuid() == 0:
        admin = root / "var/lib/dpkg"
        (admin / "updates").mkdir(parents=True)
        (admin / "info").mkdir()
        (admin / "status").write_text("")
        out = subprocess.run(["dpkg", "--root", str(root), "--force-depends", "--force-script-chrootless",
                              "--log=/dev/null", "-i", str(built / "dist" / DEB)], capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr
        assert (root / "var/lib/pk-installed").exists(), "postinst ran"
        status = (admin / "status").read_text()
        assert "Status: install ok installed" in status and "/etc/pk/pk.conf " in status, status
    else:
        subprocess.run(["dpkg", "-x", str(built / "dist" / DEB), str(root)], check=True)
    run = subprocess.run([str(root / "usr/bin/pk-alias")], capture_output=True, text=True)
    assert run.stdout == "pk v1.2.3 amd64\n"
    assert (root / "etc/pk/pk.conf").read_text() == "level = 1\n"


def test_packages_are_listed_in_sums_and_manifest(built):
    dist = built / "dist"
    s = sums(dist)
    m = json.loads((dist / "manifest.json").read_text())
    pk = {p["name"]: p for p in m["packages"]}
    assert set(pk) == {DEB, RPM}
    for name, p in pk.items():
        assert s[name] == p["sha256"] and p["size"] == (dist / name).stat().st_size
        assert p["binaries"][0]["build"] == "pk"
    assert pk[DEB]["arch"] == "amd64" and pk[DEB]["target"] == "linux/amd64" and pk[DEB]["format"] == "deb"
    assert pk[RPM]["arch"] == "x86_64" and pk[RPM]["target"] == "linux/amd64" and pk[RPM]["format"] == "rpm"
    check = subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=dist, capture_output=True)
    assert check.returncode == 0


def test_a_second_run_elsewhere_gives_the_same_bytes(built, tmp_path, sdk_session):
    other = tmp_path / "elsewhere" / "pk"
    shutil.copytree(built, other, ignore=shutil.ignore_patterns("dist", ".xgo-build"))
    for p in other.rglob("*"):
        os.utime(p, (1, 1))
    env = dict(sdk_session["env"], SOURCE_DATE_EPOCH=EPOCH, TZ="Asia/Kolkata")
    r = subprocess.run(["sh", "-c", 'umask 077 && exec "$@"', "sh", str(BINARY), "run"],
                       cwd=other, env=dict(os.environ, **env), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for name in (DEB, RPM):
        assert (other / "dist" / name).read_bytes() == (built / "dist" / name).read_bytes(), name


def rpm_q(*args):
    out = subprocess.run(["rpm", *map(str, args)], capture_output=True, text=True, env=dict(os.environ, TZ="UTC"))
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


@needs_rpm
def test_rpm_fields_as_rpm_reads_them(built):
    info = rpm_q("-qip", built / "dist" / RPM)
    for line in ["Name        : pk", "Version     : 1.2.3", "Release     : 1", "Architecture: x86_64",
                 "License     : MIT", "Build Date  : Tue Nov 14 22:13:20 2023", "Build Host  : xgo-build",
                 "Packager    : PK Authors <pk@example.com>", "URL         : https://example.com/pk",
                 "Summary     : prints its version", "A tiny program (100% Go)."]:
        assert line + "\n" in info, (line, info)
    assert "glibc >= 2.17" in rpm_q("-qp", "--requires", built / "dist" / RPM)
    assert rpm_q("-qp", "--configfiles", built / "dist" / RPM) == "/etc/pk/pk.conf\n"
    assert 'touch "$DPKG_ROOT/var/lib/pk-installed"' in rpm_q("-qp", "--scripts", built / "dist" / RPM)
    listing = rpm_q("-qlvp", built / "dist" / RPM).splitlines()
    assert [l.split()[-1] if "->" not in l else l.split()[-3] for l in listing] == [
        "/etc/pk/pk.conf", "/usr/bin/pk", "/usr/bin/pk-alias"], listing
    for l in listing:
        assert " root     root " in l and " Nov 14  2023 " in l, l


@needs_rpm
def test_rpm_digests_check(built):
    assert rpm_q("-K", built / "dist" / RPM).endswith(": digests OK\n")


@needs_rpm
def test_rpm_installs_into_a_scratch_root_and_the_binary_runs(built, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    rpm_q("--root", root, "--dbpath", "/var/lib/rpm", "--nodeps", "--noscripts", "-i", built / "dist" / RPM)
    assert rpm_q("--root", root, "--dbpath", "/var/lib/rpm", "-qa") == "pk-1.2.3-1.x86_64\n"
    run = subprocess.run([str(root / "usr/bin/pk-alias")], capture_output=True, text=True)
    assert run.stdout == "pk v1.2.3 amd64\n"


BAD = [
    ('format = "pkg"', "unknown format 'pkg'"),
    ('format = "deb", name = "Pk_tool"', "name 'Pk_tool' is not a deb package name"),
    ('format = "deb", version = "1.0-beta"', "version '1.0-beta' must start with a digit"),
    ('format = "deb", version = "latest"', "version 'latest' must start with a digit"),
    ('format = "deb", release = "1-2"', "release '1-2'"),
    ('format = "deb", maintainer = "nobody"', "maintainer is required"),
    ('format = "deb", contents = { { src = "pk.conf", dst = "etc/pk.conf" } }',
     "dst 'etc/pk.conf' must be an absolute file path"),
    ('format = "deb", contents = { { src = "pk.conf", dst = "/etc/../../pk.conf" } }', "dst 'etc/../../pk.conf' has an empty, '.' or '..' component"),
    ('format = "deb", contents = { { src = "pk.conf", dst = "/usr/bin/pk" } }',
     "package: contents: dst 'usr/bin/pk' in package 'pk_1.2.3-1_amd64.deb' is also published by"),
    ('format = "deb", contents = { { src = "pk.conf", dst = "/etc/a" }, { src = "main.go", dst = "/etc/a" } }',
     "contents: dst 'etc/a'"),
    ('format = "deb", contents = { { src = "../outside", dst = "/etc/a" } }', "contents: src '../outside'"),
    ('format = "deb", contents = { { src = "missing.conf", dst = "/etc/a" } }', "missing.conf"),
    ('format = "deb", contents = { { type = "socket", src = "pk.conf", dst = "/etc/a" } }', "unknown type 'socket'"),
    ('format = "deb", scripts = { postinst = "debian/postinst" }', "unknown key 'postinst'"),
    ('format = "deb", targets = { "linux/mips" }', "'linux/mips' is not a linux target"),
    ('format = "rpm", name = "pk tool"', "name 'pk tool' is not a rpm package name"),
    ('format = "rpm", contents = { { src = "pk.conf", dst = "/etc/pk *.conf" } }', "an rpm path may not hold spaces"),
]


@pytest.mark.parametrize("fields,message", BAD, ids=[m for _, m in BAD])
def test_bad_package_declaration_is_exit_2_naming_the_field(tmp_path, sdk_session, fields, message):
    decl = ('package { maintainer = "PK <pk@example.com>", description = "d", ' + fields + " }\n")
    if "maintainer =" in fields:
        decl = 'package { description = "d", ' + fields + " }\n"
    proj = project(tmp_path / "p", sdk_session, package=decl)
    r = run_xgo("plan", cwd=proj, env=sdk_session["env"])
    assert r.rc == 2, r
    assert "release.lua:5: package" in r.err and message in r.err, r.err
    assert r.err.count("\n") == 1 and r.err.startswith("xgo-build: error: "), r.err


def test_a_target_without_an_architecture_name_is_refused(tmp_path, sdk_session):
    decl = 'package { format = "deb", maintainer = "PK <pk@example.com>", description = "d" }\n'
    proj = project(tmp_path / "p", sdk_session, package=decl, targets='"amd64", "mips"')
    r = run_xgo("plan", cwd=proj, env=sdk_session["env"])
    assert r.rc == 2 and "target linux/mips has no deb architecture name" in r.err, r


def test_shards_merge_with_their_packages(tmp_path, sdk_session):
    proj = project(tmp_path / "pk", sdk_session, targets='"amd64", "386"')
    env = dict(sdk_session["env"], SOURCE_DATE_EPOCH=EPOCH)
    for args in (["--dist", tmp_path / "full"], ["--shard", "1/2", "--dist", tmp_path / "s1"],
                 ["--shard", "2/2", "--dist", tmp_path / "s2"]):
        r = run_xgo("run", *args, cwd=proj, env=env)
        assert r.rc == 0, r
    r = run_xgo("merge", "--dist", tmp_path / "merged", tmp_path / "s1", tmp_path / "s2", cwd=proj)
    assert r.rc == 0, r
    full, merged = sums(tmp_path / "full"), sums(tmp_path / "merged")
    assert "pk_1.2.3-1_i386.deb" in merged and "pk-1.2.3-1.i686.rpm" in merged
    assert merged == full
    m = json.loads((tmp_path / "merged" / "manifest.json").read_text())
    assert sorted(p["name"] for p in m["packages"]) == sorted(n for n in full if n.endswith((".deb", ".rpm")))


def ac_entries(sdk_session):
    ac = pathlib.Path(sdk_session["env"]["XGO_CACHE"]) / "actions" / "ac"
    return sum(1 for p in ac.rglob("*") if p.is_file())


PACKAGE_EDITS = [
    ("description", lambda p: p.joinpath("release.lua").write_text(
        p.joinpath("release.lua").read_text().replace("A tiny program.", "A tiny program, edited."))),
    ("version", lambda p: p.joinpath("release.lua").write_text(
        p.joinpath("release.lua").read_text().replace("v1.2.3", "v1.2.4"))),
    ("content", lambda p: p.joinpath("pk.conf").write_text("level = 2\n")),
    ("script", lambda p: p.joinpath("debian/postinst").write_text(POSTINST + "true\n")),
    ("mode", lambda p: p.joinpath("release.lua").write_text(p.joinpath("release.lua").read_text().replace(
        'dst = "/etc/pk/pk.conf", type = "config" }', 'dst = "/etc/pk/pk.conf", type = "config", mode = "0600" }'))),
    ("binary", lambda p: p.joinpath("main.go").write_text(MAIN.replace("pk %s", "pk: %s"))),
]


@needs_rpm
def test_packages_from_the_action_cache_equal_fresh_ones_after_every_edit(tmp_path, sdk_session):
    """A package whose inputs are unchanged is copied from the action cache;
    after each kind of edit the cached run's packages are byte for byte
    those of a --no-cache run of the same tree (and the epoch is an input)."""
    proj = project(tmp_path / "pk", sdk_session)
    env = dict(sdk_session["env"], SOURCE_DATE_EPOCH=EPOCH)
    assert run_xgo("run", cwd=proj, env=env).rc == 0
    before = ac_entries(sdk_session)
    assert run_xgo("run", cwd=proj, env=env).rc == 0
    assert ac_entries(sdk_session) == before, "an unchanged package is a hit: nothing stored"
    edits = PACKAGE_EDITS + [("epoch", None)]
    for name, edit in edits:
        if edit:
            edit(proj)
        else:
            env = dict(env, SOURCE_DATE_EPOCH="1700000100")
        stored = ac_entries(sdk_session)
        r = run_xgo("run", cwd=proj, env=env)
        assert r.rc == 0, (name, r)
        assert ac_entries(sdk_session) > stored, f"{name}: the edited packages were stored anew"
        fresh = tmp_path / f"fresh-{name}"
        r = run_xgo("run", "--no-cache", "--dist", fresh, cwd=proj, env=env)
        assert r.rc == 0, (name, r)
        for pkg in sorted(proj.joinpath("dist").glob("*.[dr][ep][bm]")):
            assert pkg.read_bytes() == (fresh / pkg.name).read_bytes(), f"{name}: {pkg.name} differs"
