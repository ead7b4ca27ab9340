"""Deterministic archives and checksum files from `xgo-build run`, checked
with the real tar, unzip, zipinfo and sha256sum."""
import json
import os
import shutil
import subprocess
import zipfile

import pytest

from conftest import BINARY, ROOT, archive_sums, run_xgo, sums, write_project

EPOCH = "1700000000"
TIME = "2023-11-14 22:13"


def files_of(dist):
    return {p.name: p.read_bytes() for p in dist.iterdir() if p.is_file()}


@pytest.fixture
def packed(hello, sdk_session):
    env = dict(sdk_session["env"], SOURCE_DATE_EPOCH=EPOCH)
    r = run_xgo("run", cwd=hello, env=env)
    assert r.rc == 0, r
    return hello


def test_archives_extract_with_system_tools(packed, tmp_path):
    dist = packed / "dist"
    names = sorted(archive_sums(dist))
    assert len(names) == 11
    assert "hello_0.1.0_windows_amd64.zip" in names and "hello_0.1.0_linux_armv7.tar.gz" in names
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    out = tmp_path / "x"
    out.mkdir()
    subprocess.run(["tar", "-xzf", str(dist / "hello_0.1.0_linux_amd64.tar.gz"), "-C", str(out)], check=True)
    assert sorted(os.listdir(out)) == ["LICENSE", "hello"]
    assert (out / "hello").read_bytes() == (dist / "hello_linux_amd64/hello").read_bytes()
    assert (out / "LICENSE").read_bytes() == (packed / "LICENSE").read_bytes()
    assert oct((out / "hello").stat().st_mode & 0o777) == "0o755"
    assert oct((out / "LICENSE").stat().st_mode & 0o777) == "0o644"
    assert int((out / "hello").stat().st_mtime) == int(EPOCH)
    zout = tmp_path / "z"
    subprocess.run(["unzip", "-q", str(dist / "hello_0.1.0_windows_amd64.zip"), "-d", str(zout)], check=True)
    assert sorted(os.listdir(zout)) == ["LICENSE", "hello.exe"]
    assert (zout / "hello.exe").read_bytes() == (dist / "hello_windows_amd64/hello.exe").read_bytes()
    assert int((zout / "hello.exe").stat().st_mtime) == int(EPOCH)


def test_listings_show_owner_zero_and_the_fixed_time(packed):
    dist = packed / "dist"
    tv = subprocess.run(["tar", "-tvzf", str(dist / "hello_0.1.0_linux_arm64.tar.gz"), "--numeric-owner"],
                        capture_output=True, text=True, env=dict(os.environ, TZ="UTC")).stdout
    for line in tv.splitlines():
        assert " 0/0 " in line and TIME in line, line
    zi = subprocess.run(["zipinfo", str(dist / "hello_0.1.0_windows_arm64.zip")], capture_output=True, text=True,
                        env=dict(os.environ, TZ="UTC")).stdout
    assert "23-Nov-14 22:13" in zi, zi
    with zipfile.ZipFile(dist / "hello_0.1.0_windows_arm64.zip") as z:
        for info in z.infolist():
            assert info.date_time == (2023, 11, 14, 22, 13, 20)


def test_gzip_header_has_no_time_or_name(packed):
    data = (packed / "dist/hello_0.1.0_linux_386.tar.gz").read_bytes()
    assert data[:2] == b"\x1f\x8b"
    assert data[4:8] == b"\0\0\0\0", "MTIME must be zero"
    assert not data[3] & 0x08, "no FNAME"


def test_manifest_records_archives(packed):
    m = json.loads((packed / "dist/manifest.json").read_text())
    arcs = {a["name"]: a for a in m["archives"]}
    s = archive_sums(packed / "dist")
    assert set(arcs) == set(s)
    for name, a in arcs.items():
        assert a["sha256"] == s[name] and a["size"] == (packed / "dist" / name).stat().st_size
        assert a["writer"].startswith("libarchive")
    assert arcs["hello_0.1.0_windows_amd64.zip"]["format"] == "zip"
    assert arcs["hello_0.1.0_linux_armv6.tar.gz"]["compression"] == "gzip"


def test_same_release_elsewhere_with_hostile_umask_and_zone_is_byte_identical(packed, sdk_session, tmp_path):
    other = tmp_path / "elsewhere" / "checkout"
    shutil.copytree(packed, other, ignore=shutil.ignore_patterns("dist", ".xgo-build"))
    os.chmod(other / "LICENSE", 0o600)
    os.utime(other / "LICENSE", (1, 1))
    env = dict(os.environ, **sdk_session["env"])
    # An empty action cache of its own, so every job and archive is made
    # again here; the session's go build cache is shared, so the binaries
    # are linked, not compiled (--no-cache would leave the go build cache
    # program off and compile the standard library again for 11 targets).
    env.update(SOURCE_DATE_EPOCH=EPOCH, TZ="Asia/Kolkata", LC_ALL="C.UTF-8", XGO_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run(["sh", "-c", f"umask 077 && exec {BINARY} run"], cwd=other, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert not [j for j in json.loads((other / "dist/manifest.json").read_text())["jobs"] if j["cached"]]
    assert files_of(other / "dist").keys() == files_of(packed / "dist").keys()
    for name, data in files_of(packed / "dist").items():
        if name not in ("manifest.json", "provenance.json"):  # their run details differ (docs/attest.md)
            assert files_of(other / "dist")[name] == data, name


def test_source_date_epoch_changes_archives_and_nothing_else(packed, sdk_session):
    before = files_of(packed / "dist")
    binaries = (packed / "dist/hello_linux_amd64/hello").read_bytes()
    env = dict(sdk_session["env"], SOURCE_DATE_EPOCH="1800000000")
    r = run_xgo("run", cwd=packed, env=env)
    assert r.rc == 0, r
    after = files_of(packed / "dist")
    for name in before:
        if name.endswith((".tar.gz", ".zip")) or name == "SHA256SUMS":
            assert before[name] != after[name], name
    assert (packed / "dist/hello_linux_amd64/hello").read_bytes() == binaries


def test_release_lua_epoch_wins_and_formats(tmp_path, sdk_session):
    proj = write_project(tmp_path / "p", {
        "main.go": "package main\n\nfunc main() {}\n",
        "README.md": "read me\n",
        "docs/a.txt": "a\n",
        "docs/b.txt": "b\n",
        "release.lua": 'project { name = "p", version = "1.0", source_date_epoch = "1600000000" }\ngo "1.26.8"\n'
                       'build "p" { targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }\n'
                       'archive { format = "tar.xz", wrap_in_directory = true,\n'
                       '  files = { "README.md", { src = "docs/*", dst = "doc/", mode = "0600" } } }\n'
                       'archive { format = "tar.zst", name = "{name}-{os}-{arch}" }\n'
                       'archive { format = "binary", name = "{binary}-{os}-{arch}" }\n'
                       'checksums { algorithm = "sha512", per_file = true }\n',
    }, sdk_session)
    r = run_xgo("run", cwd=proj, env=dict(sdk_session["env"], SOURCE_DATE_EPOCH="1"))
    assert r.rc == 0, r
    dist = proj / "dist"
    listing = subprocess.run(["tar", "-tvJf", str(dist / "p_1.0_linux_amd64.tar.xz"), "--numeric-owner"],
                             capture_output=True, text=True, env=dict(os.environ, TZ="UTC")).stdout
    names = [l.split()[-1] for l in listing.splitlines()]
    assert names == ["p_1.0_linux_amd64/", "p_1.0_linux_amd64/README.md", "p_1.0_linux_amd64/doc/",
                     "p_1.0_linux_amd64/doc/a.txt", "p_1.0_linux_amd64/doc/b.txt", "p_1.0_linux_amd64/p"]
    assert "2020-09-13" in listing
    assert "-rw-------" in [l for l in listing.splitlines() if l.endswith("a.txt")][0]
    zst = subprocess.run(["tar", "--zstd", "-tf", str(dist / "p-linux-amd64.tar.zst")], capture_output=True, text=True)
    assert zst.stdout.split() == ["p"], zst.stderr
    assert (dist / "p-linux-amd64").read_bytes() == (dist / "p_linux_amd64/p").read_bytes()
    check = subprocess.run(["sha512sum", "-c", "SHA512SUMS"], cwd=dist, capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.count(": OK") == 4, check.stdout  # 3 archives, 1 SBOM
    each = subprocess.run(["sha512sum", "-c", "p-linux-amd64.sha512"], cwd=dist, capture_output=True, text=True)
    assert each.returncode == 0, each.stdout + each.stderr


def bad_release(tmp_path, sdk_session, archive):
    return write_project(tmp_path / "p", {
        "main.go": "package main\n\nfunc main() {}\n",
        "release.lua": 'project { name = "p" }\ngo "1.26.8"\n'
                       'build "p" { targets = matrix { goos = { "linux", "darwin" }, goarch = { "amd64" } } }\n'
                       + archive,
    }, sdk_session)


def test_missing_extra_file_is_an_error_before_building(tmp_path, sdk_session):
    proj = bad_release(tmp_path, sdk_session, 'archive { files = { "LICENSE" } }\n')
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 2, r
    assert "LICENSE" in r.err and "release.lua:4: archive" in r.err
    assert "building" not in r.err


def test_two_archives_with_one_name_is_an_error(tmp_path, sdk_session):
    proj = bad_release(tmp_path, sdk_session, 'archive { name = "{name}_{arch}" }\n')
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 2, r
    assert "release.lua:4: archive: two archives are named 'p_amd64.tar.gz'" in r.err


def test_unknown_format_is_an_error(tmp_path, sdk_session):
    proj = bad_release(tmp_path, sdk_session, 'archive { format_overrides = { darwin = "dmg" } }\n')
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 2, r
    assert "release.lua:4: archive: unknown format 'dmg'" in r.err
