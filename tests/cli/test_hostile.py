"""Hostile inputs (issue 10): a build file, a lockfile, an SDK archive, a
mirror and a file system that try to crash, hang, escape or corrupt.

Every case checks: the documented exit code; exactly one
"xgo-build: error: ..." line that names the problem; nothing written
outside its place (a snapshot of the test's directory, and markers that an
escape would create); no partial artifact that claims to be complete (no
installed SDK entry, dist/ untouched or absent).

Not here yet: the remote cache (`cache { url = ... }`: wrong digest,
truncated body), which lands with issue 8; those cases join this file then.
"""
import http.server
import io
import json
import os
import pathlib
import resource
import shutil
import socket
import subprocess
import threading
import time
import zipfile

import pytest

from conftest import BINARY, run_xgo, write_project
from sdkfix import FAKE_VERSION, HOST, fake_sdk, mirror, sha256_bytes, tar_gz  # noqa: F401
from sdkfix import xgo as xgo_cached

MARKER = pathlib.Path("/tmp/xgo-hostile-escaped")


def snapshot(root):
    """{relative path: (type, size, mtime)} of everything under root."""
    out = {}
    root = pathlib.Path(root)
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        out[str(p.relative_to(root))] = (st.st_mode >> 12, st.st_size if not p.is_dir() else 0, st.st_mtime_ns)
    return out


def one_error(r, code, needle):
    """rc is code and stderr holds exactly one error line, naming needle."""
    assert r.rc == code, r
    errors = [line for line in r.err.splitlines() if line.startswith("xgo-build: error: ")]
    assert len(errors) == 1, r
    assert needle in errors[0], r
    assert "Traceback" not in r.err and "panic" not in r.err and "Sanitizer" not in r.err, r


# ---- the build file ------------------------------------------------------------------

HEAD = ('project { name = "x", version = "1" }\ngo "1.26.8"\n'
        'build "x" { targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }\n')

# id: (code after HEAD, the error's words)
BUILD_FILE = {
    "deep_recursion": ("local function f(n) return 1 + f(n + 1) end\nf(1)", "stack overflow"),
    "metatable_index_recursion": (
        "local t = setmetatable({}, {})\ngetmetatable(t).__index = function(s, k) return s[k] end\nlocal _ = t.x",
        "stack overflow"),
    "huge_string_rep": ('local s = string.rep("x", 1 << 30)', "memory limit"),
    "doubling_concat_bomb": ('local s = "x"\nfor i = 1, 40 do s = s .. s end', "memory limit"),
    "string_rep_with_separator": ('local s = ("ab"):rep(1 << 28, ",")', "memory limit"),
    "table_growth_bomb": ("local t = {}\nfor i = 1, 1e9 do t[i] = {i} end", "limit"),
    "endless_loop": ("while true do end", "instruction limit"),
    "goto_loop": ("::top:: goto top", "instruction limit"),
    "coroutine": ("local co = coroutine.create(function() end)", "'coroutine' is not available"),
    "global_table": ('_G.os.execute("touch /tmp/xgo-hostile-escaped")', "unknown name '_G'"),
    # package is the DSL's package { } declaration here, not Lua's library
    "package_loadlib": ('package.loadlib("libc.so.6", "system")', "attempt to index a function value"),
    "debug_registry": ("debug.getregistry()", "'debug' is not available"),
    "io_open": ('io.open("/tmp/xgo-hostile-escaped", "w")', "'io' is not available"),
    "os_via_rawget": ('rawget(_ENV, "os")', "'rawget' is not available"),
    "env_metatable": ('getmetatable(_ENV).__index("os")', "attempt to index"),
    "string_metatable": ('getmetatable("").__index.dump(print)', "attempt to index"),
    "string_dump_method": ('local f = ("").dump(print)', "nil value"),
    "require": ('require "os"', "'require' is not available"),
    "dofile": ('dofile "/etc/passwd"', "'dofile' is not available"),
    "load_text": ('load("os.exit()")()', "'load' is not available"),
    "pcall_to_swallow_limits": ("pcall(function() while true do end end)", "'pcall' is not available"),
    "gc_finalizer_loop": ("setmetatable({}, { __gc = function() while true do end end })", "__gc"),
    "protected_metatable": ("setmetatable(_ENV, {})", "protected metatable"),
    "format_width_bomb": ('local s = string.format("%99999999d", 1)', "invalid conversion"),
    "tostring_loop_in_error": (
        "error(setmetatable({}, { __tostring = function() while true do end end }))", "not a string"),
    "tostring_loop_in_print": (
        "print(setmetatable({}, { __tostring = function() while true do end end }))", "instruction limit"),
    "table_concat_bomb": ('local t = {}\nfor i = 1, 1e6 do t[i] = ("x"):rep(100) end\nlocal s = table.concat(t)',
                          "memory limit"),
    "nul_in_name": ('project { name = "x\\0y", version = "1" }', "project"),
    "utf8_bomb": ("local s = utf8.char(table.unpack((function() local t = {} for i = 1, 1e7 do t[i] = 0x10FFFF end"
                  " return t end)()))", "limit"),
    "sort_bad_comparator": ("local t = {}\nfor i = 1, 100 do t[i] = i end\ntable.sort(t, function() return true end)",
                            "invalid order function"),
}


@pytest.mark.parametrize("case", sorted(BUILD_FILE))
def test_hostile_build_file(xgo, tmp_path, case):
    code, needle = BUILD_FILE[case]
    MARKER.unlink(missing_ok=True)
    (tmp_path / "release.lua").write_text(HEAD + code + "\n")
    before = snapshot(tmp_path)
    t0 = time.monotonic()
    r = xgo("plan", "release.lua", cwd=tmp_path, timeout=120)
    one_error(r, 2, needle)
    assert time.monotonic() - t0 < 60
    assert r.out == ""
    assert snapshot(tmp_path) == before
    assert not MARKER.exists()


def test_hostile_backtracking_pattern_hits_the_time_limit(xgo, tmp_path):
    """A pattern that backtracks exponentially runs inside one C call, where
    the instruction count cannot see it: the CPU-time watchdog ends it."""
    (tmp_path / "release.lua").write_text(
        HEAD + 'local s = ("a"):rep(40)\nstring.find(s, ("a?"):rep(40) .. ("a"):rep(40))\n')
    t0 = time.monotonic()
    r = xgo("plan", "release.lua", cwd=tmp_path, env={"XGO_LUA_MAX_SECONDS": "1"}, timeout=120)
    one_error(r, 2, "time limit of 1 s exceeded")
    assert time.monotonic() - t0 < 30


def test_hostile_build_file_too_big(xgo, tmp_path):
    (tmp_path / "release.lua").write_text(HEAD + "-- " + "x" * (2 << 20) + "\n")
    one_error(xgo("plan", "release.lua", cwd=tmp_path), 2, "release.lua")


# ---- the lockfile ----------------------------------------------------------------------

GOOD_PLAT = {"filename": f"go{FAKE_VERSION}.{HOST}.tar.gz", "sha256": "ab" * 32, "size": 100, "tree_digest": None}

LOCKS = {
    "go_is_a_number": '{"format": 1, "go": 1.26, "platforms": {}}',
    "format_is_a_string": '{"format": "1", "go": "1.99.0", "platforms": {}}',
    "unknown_format": '{"format": 99, "go": "1.99.0", "platforms": {}}',
    "platforms_is_a_list": '{"format": 1, "go": "1.99.0", "platforms": []}',
    "size_is_a_string": json.dumps({"format": 1, "go": FAKE_VERSION, "platforms": {HOST: dict(GOOD_PLAT, size="100")}}),
    "size_negative": json.dumps({"format": 1, "go": FAKE_VERSION, "platforms": {HOST: dict(GOOD_PLAT, size=-1)}}),
    "size_past_int64": ('{"format": 1, "go": "%s", "platforms": {"%s": {"filename": "%s", "sha256": "%s", '
                        '"size": 18446744073709551616, "tree_digest": null}}}'
                        % (FAKE_VERSION, HOST, GOOD_PLAT["filename"], "ab" * 32)),
    "size_huge_float": ('{"format": 1, "go": "%s", "platforms": {"%s": {"filename": "%s", "sha256": "%s", '
                        '"size": 1e400, "tree_digest": null}}}' % (FAKE_VERSION, HOST, GOOD_PLAT["filename"], "ab" * 32)),
    "duplicate_key": '{"format": 1, "go": "1.99.0", "go": "1.2.3", "platforms": {}}',
    "bad_hex": json.dumps({"format": 1, "go": FAKE_VERSION, "platforms": {HOST: dict(GOOD_PLAT, sha256="zz" * 32)}}),
    "filename_with_slash": json.dumps({"format": 1, "go": FAKE_VERSION,
                                       "platforms": {HOST: dict(GOOD_PLAT, filename="../../etc/passwd")}}),
    "version_path_traversal": '{"format": 1, "go": "../../x", "platforms": {}}',
    "deeply_nested": '{"format": 1, "go": "1.99.0", "platforms": {}, "x": ' + "[" * 100000 + "]" * 100000 + "}",
    "not_json": "{ nope",
    "nul_byte": '{"format": 1, "go": "1.99.0\\u0000x", "platforms": {}}',
}


@pytest.mark.parametrize("case", sorted(LOCKS))
def test_hostile_lockfile(tmp_path, case):
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "release.lua").write_text(HEAD.replace("1.26.8", FAKE_VERSION))
    (proj / "release.lock").write_text(LOCKS[case])
    before = snapshot(tmp_path)
    r = xgo_cached("sdk", "path", "-f", proj / "release.lua", cache=tmp_path / "cache", timeout=60)
    one_error(r, 4, "release.lock")
    after = {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("cache")}
    assert after == before
    assert not (tmp_path / "cache" / "sdk").exists() or not [
        p for p in (tmp_path / "cache" / "sdk").iterdir() if not p.name.endswith(".lock")]


def test_hostile_lockfile_too_big(tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "release.lua").write_text(HEAD)
    (proj / "release.lock").write_text('{"format": 1, "pad": "' + "x" * (2 << 20) + '"}')
    one_error(xgo_cached("sdk", "path", "-f", proj / "release.lua", cache=tmp_path / "c"), 4, "release.lock")


# ---- SDK archives ------------------------------------------------------------------------

def tar_bytes(build):
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        build(t, tarfile)
    return buf.getvalue()


def _device(t, tarfile):
    t.addfile(tarfile.TarInfo("go/"), None)
    ti = tarfile.TarInfo("go/null")
    ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
    t.addfile(ti)


def _fifo(t, tarfile):
    ti = tarfile.TarInfo("go/fifo")
    ti.type = tarfile.FIFOTYPE
    t.addfile(ti)


def _huge_declared():
    """A tar.gz whose one entry declares 64 GiB and holds 1 KiB."""
    import gzip
    import tarfile
    ti = tarfile.TarInfo("go/huge")
    ti.size = 64 << 30
    raw = ti.tobuf(tarfile.GNU_FORMAT) + b"\0" * 1024 + b"\0" * 1024
    return gzip.compress(raw)


def _hardlink_abs(t, tarfile):
    ti = tarfile.TarInfo("go/passwd")
    ti.type, ti.linkname = tarfile.LNKTYPE, "/etc/passwd"
    t.addfile(ti)


def _hardlink_dotdot(t, tarfile):
    ti = tarfile.TarInfo("go/x")
    ti.type, ti.linkname = tarfile.LNKTYPE, "go/../../../../etc/passwd"
    t.addfile(ti)


def _symlink_then_write(t, tarfile):
    ti = tarfile.TarInfo("go/up")
    ti.type, ti.linkname = tarfile.SYMTYPE, "../../.."
    t.addfile(ti)
    data = b"escaped"
    f = tarfile.TarInfo("go/up/xgo-hostile-escaped")
    f.size = len(data)
    t.addfile(f, io.BytesIO(data))


def _symlink_absolute(t, tarfile):
    ti = tarfile.TarInfo("go/etc")
    ti.type, ti.linkname = tarfile.SYMTYPE, "/etc"
    t.addfile(ti)


def _zip_bomb():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("go/VERSION", "go1.99.0\n")
        with z.open("go/bomb", "w", force_zip64=True) as f:
            block = b"\0" * (1 << 20)
            for _ in range(64):
                f.write(block)
    return buf.getvalue()


def _zip_dotdot():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("go/../../xgo-hostile-escaped", "x")
    return buf.getvalue()


ARCHIVES = {
    "device_file": (lambda: tar_bytes(_device), "tar.gz", "device, fifo or socket"),
    "fifo": (lambda: tar_bytes(_fifo), "tar.gz", "device, fifo or socket"),
    "huge_declared_size": (_huge_declared, "tar.gz", "declares"),
    "hardlink_absolute": (lambda: tar_bytes(_hardlink_abs), "tar.gz", "refusing"),
    "hardlink_dotdot": (lambda: tar_bytes(_hardlink_dotdot), "tar.gz", "refusing"),
    "symlink_then_write_through": (lambda: tar_bytes(_symlink_then_write), "tar.gz", "refusing"),
    "symlink_absolute": (lambda: tar_bytes(_symlink_absolute), "tar.gz", "refusing"),
    "path_traversal": (lambda: tar_gz([("go/", "dir", None), ("go/../../../xgo-hostile-escaped", "file", b"x")]),
                       "tar.gz", "refusing"),
    "zip_bomb": (_zip_bomb, "zip", "declares"),
    "zip_path_traversal": (_zip_dotdot, "zip", "refusing"),
    "not_an_archive": (lambda: b"\x1f\x8b garbage" * 100, "tar.gz", "archive"),
}


def assert_nothing_installed(cache):
    sdk = cache / "sdk"
    if sdk.exists():
        left = [p.name for p in sdk.iterdir() if not p.name.endswith(".lock")]
        assert left == [], left


@pytest.mark.parametrize("case", sorted(ARCHIVES))
def test_hostile_sdk_archive(tmp_path, mirror, case):
    make, ext, needle = ARCHIVES[case]
    MARKER.unlink(missing_ok=True)
    mirror.add(f"go{FAKE_VERSION}.{HOST}.{ext}", make())
    before = snapshot(tmp_path)
    r = xgo_cached("sdk", "install", "--sdk-mirror", mirror.url, "--no-local", FAKE_VERSION,
                   cache=tmp_path / "cache", cwd=tmp_path, timeout=120)
    one_error(r, 4, needle)
    assert not MARKER.exists()
    assert not list(tmp_path.parent.glob("xgo-hostile-escaped*"))
    after = {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("cache")}
    assert after == before
    assert not list((tmp_path / "cache").rglob("xgo-hostile-escaped"))
    assert_nothing_installed(tmp_path / "cache")


# ---- the mirror ----------------------------------------------------------------------------

class Hostile:
    """A loopback server whose every answer is produced by behave(handler)."""

    def __init__(self, behave):
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                try:
                    behave(self, outer)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.index = []
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/" % self.httpd.server_address[1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def serve_index(h, server):
    if h.path.startswith("/?mode=json") or h.path == "/index.json":
        body = json.dumps(server.index).encode()
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
        return True
    return False


DATA = b"\x1f\x8b" + os.urandom(200_000)
NAME = f"go{FAKE_VERSION}.{HOST}.tar.gz"


def slowloris(h, s):
    if serve_index(h, s):
        return
    h.send_response(200)
    h.send_header("Content-Length", str(len(DATA)))
    h.end_headers()
    for i in range(120):
        h.wfile.write(DATA[i:i + 1])
        h.wfile.flush()
        time.sleep(1)


def endless_body(h, s):
    if serve_index(h, s):
        return
    h.send_response(200)
    h.send_header("Connection", "close")
    h.end_headers()
    block = b"\0" * 65536
    for _ in range(100000):
        h.wfile.write(block)


def short_content_length(h, s):
    if serve_index(h, s):
        return
    h.send_response(200)
    h.send_header("Content-Length", str(len(DATA) // 2))
    h.end_headers()
    h.wfile.write(DATA)


def long_content_length(h, s):
    if serve_index(h, s):
        return
    h.send_response(200)
    h.send_header("Content-Length", str(len(DATA) * 2))
    h.send_header("Connection", "close")
    h.end_headers()
    h.wfile.write(DATA)
    h.close_connection = True


def redirect_to(target):
    def behave(h, s):
        if serve_index(h, s):
            return
        h.send_response(302)
        h.send_header("Location", target)
        h.send_header("Content-Length", "0")
        h.end_headers()
    return behave


def redirect_loop(h, s):
    if serve_index(h, s):
        return
    h.send_response(302)
    h.send_header("Location", h.path + "x")
    h.send_header("Content-Length", "0")
    h.end_headers()


def endless_index(h, s):
    h.send_response(200)
    h.send_header("Connection", "close")
    h.end_headers()
    h.wfile.write(b"[")
    block = b'{"version": "go1", "files": []},' * 2000
    for _ in range(100000):
        h.wfile.write(block)


MIRRORS = {
    "slowloris": (slowloris, "cannot download"),
    "endless_body": (endless_body, "larger than"),
    "short_content_length": (short_content_length, "download"),
    "long_content_length": (long_content_length, "download"),
    "redirect_to_file_scheme": (redirect_to("file:///etc/passwd"), "download"),
    "redirect_to_ftp": (redirect_to("ftp://127.0.0.1/x"), "download"),
    "redirect_loop": (redirect_loop, "download"),
    "endless_index": (endless_index, "index"),
}


@pytest.mark.parametrize("case", sorted(MIRRORS))
def test_hostile_mirror(tmp_path, case):
    behave, needle = MIRRORS[case]
    server = Hostile(behave)
    try:
        server.index = [{"version": "go" + FAKE_VERSION, "stable": True, "files": [
            {"filename": NAME, "os": "linux", "arch": "amd64", "kind": "archive",
             "sha256": sha256_bytes(DATA), "size": len(DATA)}]}]
        before = snapshot(tmp_path)
        t0 = time.monotonic()
        r = xgo_cached("sdk", "install", "--sdk-mirror", server.url, "--no-local", FAKE_VERSION,
                       cache=tmp_path / "cache", cwd=tmp_path, timeout=240,
                       env={"XGO_DL_STALL_SECONDS": "2"})
        assert time.monotonic() - t0 < 200
        assert r.rc == 4, r
        errors = [line for line in r.err.splitlines() if line.startswith("xgo-build: error: ")]
        assert len(errors) == 1, r
        assert needle in errors[0], r
        after = {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("cache")}
        assert after == before
        assert_nothing_installed(tmp_path / "cache")
        downloads = tmp_path / "cache" / "downloads"
        if downloads.exists():  # only a .part may stay, never a file claiming to be whole
            assert all(p.name.endswith(".part") for p in downloads.iterdir()), list(downloads.iterdir())
    finally:
        server.close()


# ---- the file system ----------------------------------------------------------------------

TINY = {
    "release.lua": 'project { name = "tiny", version = "1.0.0" }\ngo "%s"\n'
                   'build "tiny" { targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }\n',
    "main.go": 'package main\n\nfunc main() { println("tiny") }\n',
}


def tiny_project(path, sdk_session):
    lock = json.loads(sdk_session["lock"])
    files = dict(TINY)
    files["release.lua"] = files["release.lua"] % lock["go"]
    return write_project(path, files, sdk_session)


@pytest.fixture
def built(tmp_path, sdk_session):
    """A tiny project with a complete dist/ from a first run."""
    proj = tiny_project(tmp_path / "tiny", sdk_session)
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 0, r
    return proj


def dist_state(dist):
    return {p.name: p.read_bytes() for p in sorted(dist.rglob("*")) if p.is_file()}


def test_hostile_dist_is_a_symlink_out_of_the_project(built, tmp_path, sdk_session):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep me")
    shutil.rmtree(built / "dist")
    (built / "dist").symlink_to(outside)
    r = run_xgo("run", cwd=built, env=sdk_session["env"])
    # Refused before anything is built: a usage error.
    one_error(r, 2, "exists and is not a directory")
    assert "building" not in r.err
    assert (built / "dist").is_symlink()
    assert sorted(p.name for p in outside.iterdir()) == ["precious"]
    assert (outside / "precious").read_text() == "keep me"
    assert sorted(p.name for p in built.iterdir() if p.name.startswith("dist")) == ["dist"]


def test_hostile_file_size_limit_keeps_the_previous_dist(built, sdk_session):
    """A full disk, simulated with RLIMIT_FSIZE: writes fail with EFBIG."""
    before = dist_state(built / "dist")
    (built / "main.go").write_text('package main\n\nfunc main() { println("tiny, changed") }\n')

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 10, 256 << 10))

    env = dict(os.environ, **sdk_session["env"])
    env.pop("NO_COLOR", None)
    p = subprocess.run([str(BINARY), "run"], cwd=built, env=env, capture_output=True, text=True,
                       timeout=600, preexec_fn=limit)
    assert p.returncode in (1, 4), (p.returncode, p.stderr)
    assert "xgo-build: error: " in p.stderr, p.stderr
    assert "Traceback" not in p.stderr and "core dumped" not in p.stderr
    assert dist_state(built / "dist") == before
    assert not [q for q in built.iterdir() if q.name.startswith("dist") and q.name != "dist"]


def _can_mount():
    if os.geteuid() != 0:
        return False
    probe = pathlib.Path("/tmp/xgo-hostile-mount-probe")
    probe.mkdir(exist_ok=True)
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)],
                        capture_output=True).returncode == 0
    if ok:
        subprocess.run(["umount", str(probe)])
    probe.rmdir()
    return ok


def test_hostile_read_only_dist(built, tmp_path, sdk_session):
    """dist/'s parent directory cannot be written: as root permissions do not
    stop us, so a read-only mount of the project is used when permitted,
    else the project directory's mode (for an unprivileged run)."""
    before = dist_state(built / "dist")
    (built / "main.go").write_text('package main\n\nfunc main() { println("tiny, again") }\n')
    mounted = False
    if os.geteuid() == 0:
        if not _can_mount():
            pytest.skip("root without mount permission: a read-only directory cannot be made")
        assert subprocess.run(["mount", "--bind", str(built), str(built)]).returncode == 0
        mounted = True
        assert subprocess.run(["mount", "-o", "remount,bind,ro", str(built)]).returncode == 0
    else:
        built.chmod(0o555)
    try:
        r = run_xgo("run", cwd=built, env=sdk_session["env"], timeout=600)
        assert r.rc in (1, 2, 4), r
        errors = [line for line in r.err.splitlines() if line.startswith("xgo-build: error: ")]
        assert len(errors) >= 1, r
        assert "Read-only" in r.err or "Permission denied" in r.err or "read-only" in r.err, r
    finally:
        if mounted:
            subprocess.run(["umount", str(built)])
        else:
            built.chmod(0o755)
    assert dist_state(built / "dist") == before


def test_hostile_dist_file_in_place_of_directory(built, sdk_session):
    shutil.rmtree(built / "dist")
    (built / "dist").write_text("not a directory")
    r = run_xgo("run", cwd=built, env=sdk_session["env"])
    one_error(r, 2, "exists and is not a directory")
    assert (built / "dist").read_text() == "not a directory"
    assert sorted(p.name for p in built.iterdir() if p.name.startswith("dist")) == ["dist"]


def test_hostile_stale_staging_dir_of_a_dead_run_is_removed(built, sdk_session):
    """A run killed while writing its release leaves dist.tmp-PID; the next
    run removes it when that process is gone, and leaves a live one's."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = built / f"dist.tmp-{dead.pid}"
    (stale / "half").mkdir(parents=True)
    (stale / ".xgo-build-dist").write_text(  # what a run's stage holds from its start
        "This directory was written by xgo-build: each run replaces it as a whole.\n")
    live = built / f"dist.tmp-{os.getpid()}"
    live.mkdir()
    r = run_xgo("run", cwd=built, env=sdk_session["env"])
    assert r.rc == 0, r
    assert "left by an interrupted run" in r.err
    assert not stale.exists() and live.exists()
