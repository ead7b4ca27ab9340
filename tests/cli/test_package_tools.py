"""Black-box checks that the system tools accept what orchestrator/package
and orchestrator/checksums write, through the tests/tools/pkgtool driver
(build it with `ninja test-tools`)."""
import os
import shutil
import stat
import subprocess
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PKGTOOL = os.path.join(ROOT, "build", "tests", "tools", "pkgtool")
EPOCH = 1700000000
TARS = ["tar.gz", "tar.xz", "tar.zst"]
FORMATS = TARS + ["zip"]

pytestmark = pytest.mark.skipif(not os.access(PKGTOOL, os.X_OK),
                                reason="pkgtool not built: run 'ninja test-tools'")

# name in archive -> (content, mode expected in the archive)
FILES = {
    "LICENSE": (b"MIT\n", 0o644),
    "README.md": (b"# hello\n", 0o644),
    "docs/guide.md": (b"guide\n", 0o644),
    "bin/hello": (b"#!/bin/sh\necho hello\n" * 500, 0o755),
}


def make_project(root, src_modes=None, mtime=None):
    """A project dir with the FILES; src_modes overrides modes on disk."""
    for name, (content, mode) in FILES.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content)
        os.chmod(path, (src_modes or {}).get(name, 0o700 if mode == 0o755 else 0o644))
        if mtime is not None:
            os.utime(path, (mtime, mtime))
    return root


def pkgtool(*args, env=None, umask=None, check=True):
    cmd = [PKGTOOL] + [str(a) for a in args]
    if umask is not None:
        cmd = ["sh", "-c", 'umask %s && exec "$@"' % umask, "sh"] + cmd
    return subprocess.run(cmd, env=env, check=check, capture_output=True, text=True)


def archive(project, dest, fmt, epoch=EPOCH, **kw):
    """Package the project: the binary by path, the rest through globs."""
    return pkgtool("archive", "-f", fmt, "-t", epoch, "-C", project,
                   "-x", "LICENSE", "-x", "README*", "-x", "docs/*=docs/",
                   dest, "bin/hello=%s" % os.path.join(project, "bin", "hello"), **kw)


@pytest.fixture
def project(tmp_path):
    return make_project(str(tmp_path / "project"))


@pytest.fixture
def dist(tmp_path):
    d = tmp_path / "dist"
    d.mkdir()
    return str(d)


def check_tree(root):
    """Extracted files have the contents, modes and mtime we packaged."""
    for name, (content, mode) in FILES.items():
        path = os.path.join(root, name)
        with open(path, "rb") as f:
            assert f.read() == content, name
        st = os.stat(path)
        assert stat.S_IMODE(st.st_mode) == mode, name
        assert int(st.st_mtime) == EPOCH, name
    for d in ("bin", "docs"):
        st = os.stat(os.path.join(root, d))
        assert stat.S_IMODE(st.st_mode) == 0o755
        assert int(st.st_mtime) == EPOCH


@pytest.mark.parametrize("fmt", TARS)
def test_system_tar_extracts_contents_modes_mtimes(project, dist, tmp_path, fmt):
    dest = os.path.join(dist, "hello." + fmt)
    archive(project, dest, fmt)
    out = tmp_path / "x"
    out.mkdir()
    subprocess.run(["tar", "-xpf", dest, "-C", str(out), "--no-same-owner"], check=True)
    check_tree(str(out))


def test_system_unzip_extracts_contents_modes_mtimes(project, dist, tmp_path):
    dest = os.path.join(dist, "hello.zip")
    archive(project, dest, "zip")
    out = tmp_path / "x"
    subprocess.run(["unzip", "-q", dest, "-d", str(out)], check=True,
                   env=dict(os.environ, TZ="Asia/Kolkata"))
    check_tree(str(out))


@pytest.mark.parametrize("fmt", TARS)
def test_tar_listing_shows_root_and_fixed_time(project, dist, fmt):
    dest = os.path.join(dist, "hello." + fmt)
    archive(project, dest, fmt)
    out = subprocess.run(["tar", "--list", "-v", "--full-time", "--numeric-owner", "-f", dest],
                         check=True, capture_output=True, text=True,
                         env=dict(os.environ, TZ="UTC")).stdout
    lines = out.splitlines()
    names = [l.split()[-1] for l in lines]
    assert names == ["LICENSE", "README.md", "bin/", "bin/hello", "docs/", "docs/guide.md"]
    for l in lines:
        fields = l.split()
        assert fields[1] == "0/0", l
        assert fields[3:5] == ["2023-11-14", "22:13:20"], l
    # Named owners are empty: without --numeric-owner tar still shows 0/0.
    out = subprocess.run(["tar", "-tvf", dest], check=True, capture_output=True,
                         text=True).stdout
    assert all(l.split()[1] == "0/0" for l in out.splitlines())


def test_zipinfo_shows_unix_modes_utc_time_and_root(project, dist):
    dest = os.path.join(dist, "hello.zip")
    archive(project, dest, "zip")
    env = dict(os.environ, TZ="UTC")
    short = subprocess.run(["zipinfo", dest], check=True, capture_output=True, text=True,
                           env=env).stdout
    rows = [l for l in short.splitlines() if l.startswith(("-", "d"))]
    assert [r.split()[-1] for r in rows] == \
        ["LICENSE", "README.md", "bin/", "bin/hello", "docs/", "docs/guide.md"]
    assert all("unx" in r and "23-Nov-14 22:13" in r for r in rows)
    assert rows[3].startswith("-rwxr-xr-x")
    verbose = subprocess.run(["zipinfo", "-v", dest], check=True, capture_output=True,
                             text=True, env=env).stdout
    assert "file last modified on (DOS date/time):          2023 Nov 14 22:13:20" in verbose
    assert "Unix UID/GID" in verbose
    # The uid/gid subfield: version 1, 4-byte uid 0, 4-byte gid 0.
    assert verbose.count("01 04 00 00 00 00 04 00 00 00 00") == 6
    # Python's reader agrees: deflate for files, nothing experimental.
    with zipfile.ZipFile(dest) as z:
        for info in z.infolist():
            assert info.date_time == (2023, 11, 14, 22, 13, 20)
            if not info.is_dir():
                assert info.compress_type == zipfile.ZIP_DEFLATED
            ids = parse_extra_ids(info.extra)
            assert set(ids) <= {0x5455, 0x7875}, (info.filename, ids)


def parse_extra_ids(extra):
    ids, i = [], 0
    while i + 4 <= len(extra):
        hid = int.from_bytes(extra[i:i + 2], "little")
        size = int.from_bytes(extra[i + 2:i + 4], "little")
        ids.append(hid)
        i += 4 + size
    return ids


@pytest.mark.parametrize("algo", ["sha256", "sha512"])
def test_sha256sum_check_passes(project, dist, algo):
    names = []
    for fmt in FORMATS:
        name = "hello_1.0_linux_amd64." + fmt
        archive(project, os.path.join(dist, name), fmt)
        names.append(name)
    pkgtool("archive", "-f", "binary", "-t", EPOCH, os.path.join(dist, "hello_linux_amd64"),
            "x=%s" % os.path.join(project, "bin", "hello"))
    names.append("hello_linux_amd64")
    sums = algo.upper() + "SUMS"
    pkgtool("sums", "-a", algo, "-e", dist, *reversed(names))
    text = open(os.path.join(dist, sums)).read()
    assert [l.split("  ", 1)[1] for l in text.splitlines()] == sorted(names)
    # What sha256sum itself prints, byte for byte.
    expected = subprocess.run([algo + "sum"] + sorted(names), cwd=dist, check=True,
                              capture_output=True, text=True).stdout
    assert text == expected
    subprocess.run([algo + "sum", "--strict", "-c", sums], cwd=dist, check=True,
                   capture_output=True)
    for n in names:
        subprocess.run([algo + "sum", "--strict", "-c", n + "." + algo], cwd=dist, check=True,
                       capture_output=True)
    # And our reader reads what sha256sum writes.
    out = pkgtool("readsums", "-a", algo, os.path.join(dist, sums)).stdout
    assert len(out.splitlines()) == len(names)


def test_tampered_archive_fails_sha256sum(project, dist):
    archive(project, os.path.join(dist, "a.tar.gz"), "tar.gz")
    pkgtool("sums", dist, "a.tar.gz")
    with open(os.path.join(dist, "a.tar.gz"), "ab") as f:
        f.write(b"x")
    r = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True)
    assert r.returncode != 0


@pytest.mark.parametrize("fmt", FORMATS + ["binary"])
def test_same_inputs_give_identical_bytes(tmp_path, fmt):
    """Different umask, TZ, source directory, file mtimes and on-disk modes
    (with the same exec bits) must not change a byte."""
    p1 = make_project(str(tmp_path / "one"), mtime=1000)
    p2 = make_project(str(tmp_path / "elsewhere" / "two"), mtime=2000000000,
                      src_modes={"LICENSE": 0o600, "README.md": 0o664, "bin/hello": 0o711})
    d1, d2 = tmp_path / "d1", tmp_path / "d2"
    d1.mkdir()
    d2.mkdir()
    name = "hello" + ("" if fmt == "binary" else "." + fmt)
    env2 = dict(os.environ, TZ="Asia/Kolkata", LC_ALL="C.UTF-8")
    if fmt == "binary":
        for p, d, env, um in ((p1, d1, None, None), (p2, d2, env2, "077")):
            pkgtool("archive", "-f", fmt, "-t", EPOCH, os.path.join(str(d), name),
                    "x=%s" % os.path.join(p, "bin", "hello"), env=env, umask=um)
    else:
        archive(p1, os.path.join(str(d1), name), fmt)
        archive(p2, os.path.join(str(d2), name), fmt, env=env2, umask="077")
    b1 = open(os.path.join(str(d1), name), "rb").read()
    b2 = open(os.path.join(str(d2), name), "rb").read()
    assert b1 == b2
    # The archive file itself is 0644 (0755 for a binary) whatever the umask.
    mode = stat.S_IMODE(os.stat(os.path.join(str(d2), name)).st_mode)
    assert mode == (0o755 if fmt == "binary" else 0o644)


@pytest.mark.parametrize("fmt", FORMATS)
def test_source_date_epoch_changes_the_archive(project, dist, fmt):
    a, b = os.path.join(dist, "a." + fmt), os.path.join(dist, "b." + fmt)
    archive(project, a, fmt, epoch=EPOCH)
    archive(project, b, fmt, epoch=EPOCH + 86400)
    assert open(a, "rb").read() != open(b, "rb").read()


def test_gzip_header_has_no_time_or_name(project, dist):
    dest = os.path.join(dist, "hello.tar.gz")
    archive(project, dest, "tar.gz")
    head = open(dest, "rb").read(10)
    assert head[:3] == b"\x1f\x8b\x08"
    assert head[3] & 0x08 == 0          # FNAME: no file name stored
    assert head[3] & 0x10 == 0          # FCOMMENT
    assert head[4:8] == b"\0\0\0\0"     # MTIME
    out = subprocess.run(["gzip", "-lv", dest], check=True, capture_output=True,
                         text=True).stdout
    assert "hello.tar" in out           # gzip -lN would show a stored name instead
    subprocess.run(["gzip", "-t", dest], check=True)


def test_long_names_are_deterministic_across_processes(project, dist):
    """Long names take a pax header; its own name must not hold a pid."""
    long = "d/" + "x" * 120 + "/" + "y" * 120
    src = os.path.join(project, "LICENSE")
    outs = []
    for i in range(2):
        dest = os.path.join(dist, "long%d.tar.gz" % i)
        pkgtool("archive", "-t", EPOCH, dest, "%s=%s" % (long, src))
        outs.append(open(dest, "rb").read())
    assert outs[0] == outs[1]
    listing = subprocess.run(["tar", "-tf", os.path.join(dist, "long0.tar.gz")], check=True,
                             capture_output=True, text=True).stdout.split()
    assert listing[-1] == long


def test_missing_glob_is_an_error_naming_it(project, dist):
    r = pkgtool("archive", "-C", project, "-x", "CHANGELOG*", os.path.join(dist, "a.tar.gz"),
                check=False)
    assert r.returncode != 0
    assert "'CHANGELOG*' matches no file" in r.stderr
    assert os.listdir(dist) == []


def test_wrap_in_directory(project, dist):
    dest = os.path.join(dist, "hello_1.0_linux_amd64.tar.gz")
    pkgtool("archive", "-w", "-t", EPOCH, "-C", project, "-x", "LICENSE", dest)
    out = subprocess.run(["tar", "-tf", dest], check=True, capture_output=True,
                         text=True).stdout.split()
    assert out == ["hello_1.0_linux_amd64/", "hello_1.0_linux_amd64/LICENSE"]
