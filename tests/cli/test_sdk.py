"""CLI tests for `xgo-build lock` and `xgo-build sdk`: real archives, a real
loopback HTTP mirror, real downloads, extraction and hashing (sdkfix.py)."""
import json
import os
import pathlib
import shutil
import subprocess

import pytest

from sdkfix import (FAKE_VERSION, HOST, fake_sdk, fake_sdk_tree, index_entry, mirror, pack,  # noqa: F401
                    project, real_sdk, serve, sha256_bytes, tar_gz, tree_digest, xgo)

ENTRY = f"go{FAKE_VERSION}.{HOST}"


def read_lock(rl):
    return json.loads((rl.parent / "release.lock").read_text())


@pytest.fixture
def fake_mirror(mirror, fake_sdk):
    tree, data, name = fake_sdk
    mirror.add(name, data)
    return mirror


def lock(tmp_path, m, version=FAKE_VERSION):
    rl = project(tmp_path / "proj", version)
    r = xgo("lock", "--sdk-mirror", m.url, rl, cache=tmp_path / "lockcache")
    assert r.rc == 0, r
    return rl


# ---- lock ----

def test_lock_fills_hashes_and_tree_digest(tmp_path, fake_mirror, fake_sdk):
    tree, data, name = fake_sdk
    rl = lock(tmp_path, fake_mirror)
    doc = read_lock(rl)
    assert doc["format"] == 1 and doc["go"] == FAKE_VERSION
    p = doc["platforms"][HOST]
    assert p == {"filename": name, "size": len(data), "sha256": sha256_bytes(data),
                 "tree_digest": tree_digest(tree)}


def test_lock_keeps_other_platforms_without_digest(tmp_path, fake_mirror, fake_sdk):
    _, data, _ = fake_sdk
    fake_mirror.add(f"go{FAKE_VERSION}.darwin-arm64.tar.gz", b"x" * 100, plat="darwin-arm64")
    rl = lock(tmp_path, fake_mirror)
    doc = read_lock(rl)
    assert doc["platforms"]["darwin-arm64"]["tree_digest"] is None
    assert doc["platforms"]["darwin-arm64"]["size"] == 100
    assert doc["platforms"][HOST]["tree_digest"]


def test_lock_from_file_mirror_and_release_lua_mirror(tmp_path, fake_sdk):
    tree, data, name = fake_sdk
    mdir = tmp_path / "m"
    mdir.mkdir()
    (mdir / name).write_bytes(data)
    (mdir / "index.json").write_text(json.dumps([index_entry(FAKE_VERSION, name, data)]))
    rl = project(tmp_path / "proj", mirror=f"file://{mdir}")
    r = xgo("lock", rl, cache=tmp_path / "c")
    assert r.rc == 0, r
    assert read_lock(rl)["platforms"][HOST]["tree_digest"] == tree_digest(tree)


def test_lock_refuses_unknown_version_and_bad_mirror(tmp_path, fake_mirror):
    rl = project(tmp_path / "proj", "1.0.99")
    r = xgo("lock", "--sdk-mirror", fake_mirror.url, rl, cache=tmp_path / "c")
    assert r.rc == 4 and "has no go 1.0.99 archive" in r.err, r
    assert not (rl.parent / "release.lock").exists()
    r = xgo("lock", "--sdk-mirror", "ftp://example.org/", rl, cache=tmp_path / "c")
    assert r.rc == 2 and "'ftp://example.org/'" in r.err, r


def test_unreachable_mirror_is_one_clear_error(tmp_path):
    import socket
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]  # closed again: nothing listens
    rl = project(tmp_path / "proj")
    r = xgo("lock", "--sdk-mirror", f"http://127.0.0.1:{port}/", rl, cache=tmp_path / "c")
    assert r.rc == 4, r
    errors = [line for line in r.err.splitlines() if "error:" in line]
    assert len(errors) == 1 and f"127.0.0.1:{port}" in errors[0], r
    assert not (rl.parent / "release.lock").exists()


# ---- install: the happy path and each failure ----

def install(tmp_path, m, *extra, cache=None):
    return xgo("sdk", "install", "--sdk-mirror", m.url, "--no-local", *extra, FAKE_VERSION,
               cache=cache or tmp_path / "cache", cwd=tmp_path)


def test_install_downloads_verifies_extracts(tmp_path, fake_mirror, fake_sdk):
    tree, data, name = fake_sdk
    leftover = tmp_path / "cache" / "sdk" / f".tmp-{ENTRY}-AbC123"  # from a killed install
    (leftover / "go").mkdir(parents=True)
    r = install(tmp_path, fake_mirror)
    assert not leftover.exists()
    assert r.rc == 0, r
    root = pathlib.Path(r.out.strip())
    assert root == tmp_path / "cache" / "sdk" / ENTRY / "go"
    assert tree_digest(root) == tree_digest(tree)
    out = subprocess.run([root / "bin" / "go", "version"], capture_output=True, text=True).stdout
    assert f"go{FAKE_VERSION}" in out
    assert not list((tmp_path / "cache" / "downloads").iterdir())  # archive and .part gone
    # A second install is a cache hit: no request at all.
    n = len(fake_mirror.log)
    r = install(tmp_path, fake_mirror)
    assert r.rc == 0 and len(fake_mirror.log) == n, r


def test_failed_reinstall_keeps_the_good_entry(tmp_path, fake_mirror, fake_sdk):
    _, _, name = fake_sdk
    assert install(tmp_path, fake_mirror).rc == 0
    fake_mirror.files[name].always_404 = True
    r = install(tmp_path, fake_mirror, "--reinstall")
    assert r.rc == 4 and "HTTP 404" in r.err, r
    r = xgo("sdk", "path", FAKE_VERSION, cache=tmp_path / "cache")
    assert r.rc == 0, r
    fake_mirror.files[name].always_404 = False
    r = install(tmp_path, fake_mirror, "--reinstall")
    assert r.rc == 0 and len(fake_mirror.gets(name)) == 3, r


def test_zip_archive_installs(tmp_path, mirror, fake_sdk):
    tree, _, _ = fake_sdk
    arc = pack(tree, tmp_path / "zm", zip=True)
    assert arc.name.endswith(".zip")
    mirror.add(arc.name, arc.read_bytes())
    r = install(tmp_path, mirror)
    assert r.rc == 0, r
    assert tree_digest(pathlib.Path(r.out.strip())) == tree_digest(tree)


def test_flipped_byte_is_rejected(tmp_path, mirror, fake_sdk):
    _, data, name = fake_sdk
    bad = bytearray(data)
    bad[len(bad) // 2] ^= 1
    mirror.add(name, bytes(bad), index_data=data)
    r = install(tmp_path, mirror)
    assert r.rc == 4, r
    assert "checksum mismatch" in r.err and sha256_bytes(data) in r.err and sha256_bytes(bytes(bad)) in r.err
    assert not list((tmp_path / "cache" / "downloads").iterdir())
    assert not (tmp_path / "cache" / "sdk" / ENTRY).exists()


def test_truncated_file_is_rejected(tmp_path, mirror, fake_sdk):
    _, data, name = fake_sdk
    mirror.add(name, data[:-1000], index_data=data)
    r = install(tmp_path, mirror)
    assert r.rc == 4, r
    assert "size mismatch" in r.err and str(len(data)) in r.err and str(len(data) - 1000) in r.err
    assert not list((tmp_path / "cache" / "downloads").iterdir())


def test_dropped_connection_resumes_with_range(tmp_path, mirror, fake_sdk):
    _, data, name = fake_sdk
    mirror.add(name, data).faults = ["drop_half"]
    r = install(tmp_path, mirror)
    assert r.rc == 0, r
    gets = mirror.gets(name)
    assert len(gets) == 2 and gets[1][1] == "bytes=%d-" % (len(data) // 2) and gets[1][2] == 206, gets


def test_server_error_then_success_retries(tmp_path, mirror, fake_sdk):
    _, data, name = fake_sdk
    mirror.add(name, data).faults = ["500", "500"]
    r = install(tmp_path, mirror)
    assert r.rc == 0, r
    assert [g[2] for g in mirror.gets(name)] == [500, 500, 200]
    assert "HTTP 500" in r.err and "retrying" in r.err


def test_persistent_server_error_gives_up(tmp_path, mirror, fake_sdk):
    _, data, name = fake_sdk
    mirror.add(name, data).faults = ["500"] * 10
    r = install(tmp_path, mirror)
    assert r.rc == 4 and "HTTP 500" in r.err and "gave up" in r.err, r
    assert len(mirror.gets(name)) == 5


def test_server_ignoring_ranges_restarts_from_zero(tmp_path, mirror, fake_sdk):
    _, data, name = fake_sdk
    f = mirror.add(name, data)
    f.faults = ["drop_half"]
    f.no_ranges = True
    r = install(tmp_path, mirror)
    assert r.rc == 0, r
    gets = mirror.gets(name)
    assert len(gets) >= 2 and gets[-1][1] is None and gets[-1][2] == 200, gets


def test_stalled_transfer_is_retried_and_resumed(tmp_path, mirror, fake_sdk):
    _, data, name = fake_sdk
    mirror.add(name, data).faults = ["stall"]
    r = xgo("sdk", "install", "--sdk-mirror", mirror.url, "--no-local", FAKE_VERSION,
            cache=tmp_path / "cache", env={"XGO_DL_STALL_SECONDS": "1"})
    assert r.rc == 0 and "stalled" in r.err, r
    gets = mirror.gets(name)
    assert len(gets) == 2 and gets[1][1].startswith("bytes=") and gets[1][2] == 206, gets


def test_index_falls_back_to_index_json(tmp_path, fake_mirror):
    fake_mirror.query_index = False
    rl = lock(tmp_path, fake_mirror)
    assert read_lock(rl)["platforms"][HOST]["sha256"]
    assert [x[2] for x in fake_mirror.log[:2]] == [404, 200]


def test_stale_part_file_is_resumed(tmp_path, mirror, fake_sdk):
    _, data, name = fake_sdk
    mirror.add(name, data)
    dl = tmp_path / "cache" / "downloads"
    dl.mkdir(parents=True)
    (dl / (name + ".part")).write_bytes(data[:1000])
    r = install(tmp_path, mirror)
    assert r.rc == 0, r
    assert mirror.gets(name)[0][1] == "bytes=1000-"


def test_404_is_an_sdk_error(tmp_path, mirror, fake_sdk):
    _, data, name = fake_sdk
    mirror.add(name, data).always_404 = True
    r = install(tmp_path, mirror)
    assert r.rc == 4 and "HTTP 404" in r.err and mirror.url + name in r.err, r
    assert len(mirror.gets(name)) == 1  # not retried


MALICIOUS = {
    "absolute": [("go/", "dir", None), ("/tmp/xgo-pwned-abs", "file", b"x")],
    "dotdot": [("go/", "dir", None), ("go/../../../xgo-pwned-dotdot", "file", b"x")],
    "symlink": [("go/", "dir", None), ("go/evil", "symlink", "../../../.."),
                ("go/evil/tmp/xgo-pwned-link", "file", b"x")],
}


@pytest.mark.parametrize("kind", sorted(MALICIOUS))
def test_malicious_archive_is_refused(tmp_path, mirror, kind):
    data = tar_gz(MALICIOUS[kind])
    name = f"go{FAKE_VERSION}.{HOST}.tar.gz"
    mirror.add(name, data)
    r = install(tmp_path, mirror)
    assert r.rc == 4 and "refusing" in r.err, r
    assert not pathlib.Path("/tmp/xgo-pwned-abs").exists()
    assert not pathlib.Path("/tmp/xgo-pwned-link").exists()
    assert not list((tmp_path / "cache").rglob("xgo-pwned*"))
    assert not list(tmp_path.parent.glob("xgo-pwned*"))
    sdk = tmp_path / "cache" / "sdk"
    assert [p.name for p in sdk.iterdir() if not p.name.endswith(".lock")] == []
    assert not list((tmp_path / "cache" / "downloads").iterdir())


def test_concurrent_installs_share_one_download(tmp_path, mirror, fake_sdk):
    _, data, name = fake_sdk
    mirror.add(name, data).delay = 1.0
    cache = tmp_path / "cache"
    args = ("sdk", "install", "--sdk-mirror", mirror.url, "--no-local", FAKE_VERSION)
    procs = [xgo(*args, cache=cache, wait=False) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert outs[0][0] == outs[1][0]
    assert len(mirror.gets(name)) == 1
    entries = [p.name for p in (cache / "sdk").iterdir() if not p.name.endswith(".lock")]
    assert entries == [ENTRY]


# ---- the cache entry ----

def test_tampered_entry_is_reinstalled(tmp_path, fake_mirror, fake_sdk):
    tree, _, name = fake_sdk
    rl = lock(tmp_path, fake_mirror)
    cache = tmp_path / "cache"
    r = xgo("sdk", "install", "--no-local", "--sdk-mirror", fake_mirror.url, "-f", rl, cache=cache)
    assert r.rc == 0, r
    script = cache / "sdk" / ENTRY / "go" / "bin" / "go"
    st = script.stat()
    assert xgo("sdk", "path", "-f", rl, cache=cache).rc == 0  # walks and stamps the entry
    script.write_text("#!/bin/sh\necho evil\n")
    os.utime(script, ns=(st.st_atime_ns, st.st_mtime_ns))  # hide the mtime, not the ctime
    # within XGO_SDK_RECHECK of the last walk the walk is skipped (documented) ...
    assert xgo("sdk", "path", "-f", rl, cache=cache).rc == 0
    # ... and with 0 every use walks
    r = xgo("sdk", "path", "-f", rl, cache=cache, env={"XGO_SDK_RECHECK": "0"})
    assert r.rc == 4 and "changed after it was installed" in r.err, r
    r = xgo("sdk", "install", "--no-local", "--sdk-mirror", fake_mirror.url, "-f", rl, cache=cache)
    assert r.rc == 0 and "installing go 1.99.0 again" in r.err, r
    assert "evil" not in script.read_text()
    assert tree_digest(script.parent.parent) == tree_digest(tree)


def test_verify_finds_and_removes_corruption(tmp_path, fake_mirror):
    cache = tmp_path / "cache"
    assert install(tmp_path, fake_mirror).rc == 0
    r = xgo("sdk", "verify", cache=cache)
    assert r.rc == 0 and "ok" in r.out, r
    (cache / "sdk" / ENTRY / "go" / "VERSION").write_text("go0.0.0\n")
    r = xgo("sdk", "verify", cache=cache)
    assert r.rc == 4 and "does not match" in r.err, r
    assert not (cache / "sdk" / ENTRY).exists()


def test_missing_or_stale_pin_says_run_lock(tmp_path, fake_mirror):
    rl = project(tmp_path / "proj")
    r = xgo("sdk", "path", "-f", rl, cache=tmp_path / "c")
    assert r.rc == 4 and "xgo-build lock" in r.err and "release.lock" in r.err, r
    rl = lock(tmp_path, fake_mirror)
    project(tmp_path / "proj", "1.99.1")
    r = xgo("sdk", "install", "-f", rl, cache=tmp_path / "c")
    assert r.rc == 4 and "pins go 1.99.0" in r.err and "xgo-build lock" in r.err, r
    (rl.parent / "release.lock").write_text("{ nope")
    r = xgo("sdk", "path", "-f", rl, cache=tmp_path / "c")
    assert r.rc == 4 and "release.lock" in r.err and "not valid JSON" in r.err, r


def test_offline_without_cache_fails(tmp_path, fake_mirror):
    rl = lock(tmp_path, fake_mirror)
    r = xgo("sdk", "install", "--offline", "--no-local", "-f", rl, cache=tmp_path / "empty")
    assert r.rc == 4 and "--offline" in r.err, r


def test_import_fake_sdk_and_refusals(tmp_path, fake_mirror, fake_sdk):
    tree, _, _ = fake_sdk
    rl = lock(tmp_path, fake_mirror)
    cache = tmp_path / "cache"
    r = xgo("sdk", "import", "-f", rl, tree, cache=cache)
    assert r.rc == 0, r
    assert tree_digest(pathlib.Path(r.out.strip())) == tree_digest(tree)
    # A different tree with the right VERSION is refused.
    other = fake_sdk_tree(tmp_path / "other", filler=10)
    r = xgo("sdk", "import", "-f", rl, other, cache=tmp_path / "cache2")
    assert r.rc == 4 and "tree digest mismatch" in r.err, r
    wrong = fake_sdk_tree(tmp_path / "wrong", version="1.98.0")
    r = xgo("sdk", "import", "-f", rl, wrong, cache=tmp_path / "cache2")
    assert r.rc == 4 and "go1.98.0" in r.err, r


def test_local_sdk_is_discovered_offline(tmp_path, fake_mirror, fake_sdk):
    tree, _, _ = fake_sdk
    rl = lock(tmp_path, fake_mirror)
    r = xgo("sdk", "install", "--offline", "-f", rl, cache=tmp_path / "c", env={"GOROOT": str(tree)})
    assert r.rc == 0 and "copying go" in r.err and f"'{tree}'" in r.err, r
    assert tree_digest(pathlib.Path(r.out.strip())) == tree_digest(tree)
    # On PATH too: bin/go of the SDK.
    env = {"PATH": f"{tree / 'bin'}:/usr/bin:/bin"}
    r = xgo("sdk", "install", "--offline", "-f", rl, cache=tmp_path / "c2", env=env)
    assert r.rc == 0 and "copying go" in r.err, r


def test_gc_removes_unpinned(tmp_path, fake_mirror, fake_sdk):
    other = fake_sdk_tree(tmp_path / "o", version="1.99.1")
    arc = pack(other, tmp_path / "om")
    fake_mirror.add(arc.name, arc.read_bytes(), version="1.99.1")
    rl = lock(tmp_path, fake_mirror)
    cache = tmp_path / "cache"
    for v in (FAKE_VERSION, "1.99.1"):
        assert xgo("sdk", "install", "--no-local", "--sdk-mirror", fake_mirror.url, v, cache=cache).rc == 0
    r = xgo("sdk", "gc", "--dry-run", rl, cache=cache)
    assert r.rc == 0 and "go1.99.1" in r.out and ENTRY not in r.out, r
    r = xgo("sdk", "gc", rl, cache=cache)
    assert r.rc == 0, r
    assert sorted(p.name for p in (cache / "sdk").iterdir() if not p.name.endswith(".lock")) == [ENTRY]
    r = xgo("sdk", "list", "--sdk-mirror", fake_mirror.url, cache=cache)
    assert r.rc == 0 and f"go{FAKE_VERSION}" in r.out and "[cached]" in r.out, r


def test_help_everywhere(tmp_path):
    for args in (("lock",), ("sdk",), *(("sdk", s) for s in ("install", "path", "list", "verify", "import", "gc"))):
        r = xgo(*args, "--help", cache=tmp_path)
        assert r.rc == 0 and r.out.startswith("usage: xgo-build"), (args, r)
    r = xgo("sdk", "instal", cache=tmp_path)
    assert r.rc == 2 and "did you mean 'install'" in r.err, r
    r = xgo("sdk", "path", "--reinstall", cache=tmp_path)
    assert r.rc == 2, r


# ---- the real SDK: the machine's GOROOT, packed once ----

@pytest.fixture(scope="module")
def real_lock(real_sdk, tmp_path_factory):
    """A project locked against the packed GOROOT over HTTP: lock downloads,
    verifies and extracts the real archive into the cache."""
    goroot, version, data, name, mdir = real_sdk
    d = tmp_path_factory.mktemp("real")
    rl = project(d / "proj", version)
    cache = d / "cache"
    with serve() as m:
        m.add(name, data, version=version)
        r = xgo("lock", "--sdk-mirror", m.url, rl, cache=cache)
        assert r.rc == 0, r
        assert len(m.gets(name)) == 1
    yield rl, cache
    shutil.rmtree(d, ignore_errors=True)  # 250 MB that pytest would keep around


def test_real_sdk_lock_install_runs_go(real_sdk, real_lock):
    goroot, version, data, name, mdir = real_sdk
    rl, cache = real_lock
    p = read_lock(rl)["platforms"][HOST]
    assert p["sha256"] == sha256_bytes(data) and p["size"] == len(data)
    # The digest of the extracted archive is the digest of the GOROOT it came from.
    assert p["tree_digest"] == tree_digest(goroot)
    r = xgo("sdk", "path", "-f", rl, cache=cache)
    assert r.rc == 0, r
    root = pathlib.Path(r.out.strip())
    assert root == cache / "sdk" / f"go{version}.{HOST}" / "go"
    out = subprocess.run([root / "bin" / "go", "version"], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(cache)}).stdout
    assert f"go{version}" in out


def test_real_sdk_import_local_goroot(real_sdk, real_lock, tmp_path):
    goroot, version, *_ = real_sdk
    rl, _ = real_lock
    r = xgo("sdk", "import", "-f", rl, goroot, cache=tmp_path / "c")
    assert r.rc == 0, r
    root = pathlib.Path(r.out.strip())
    assert (root / "bin" / "go").exists()
    shutil.rmtree(tmp_path / "c", ignore_errors=True)
