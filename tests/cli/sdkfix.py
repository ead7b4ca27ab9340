"""Fixtures for the SDK tests (test_sdk.py): go.dev-style mirrors served from a
loopback HTTP server that can misbehave on purpose, SDK archives (the machine's
own GOROOT packed once per session, small fake SDKs, malicious archives), and a
Python implementation of the xgo-tree-v1 digest to cross-check the C one.

Kept apart from conftest.py so that it merges cleanly; test_sdk.py imports it.
"""
import hashlib
import http.server
import io
import json
import os
import pathlib
import re
import shutil
import socket
import stat
import subprocess
import tarfile
import threading
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = pathlib.Path(os.environ.get("XGO_BUILD", ROOT / "build" / "xgo-build"))
PACK = ROOT / "toolchains" / "pack-local-sdk.sh"
HOST = "linux-amd64"
FAKE_VERSION = "1.99.0"


class Result:
    def __init__(self, proc):
        self.rc, self.out, self.err = proc.returncode, proc.stdout, proc.stderr

    def __repr__(self):
        return f"rc={self.rc}\nstdout:\n{self.out}\nstderr:\n{self.err}"


def xgo(*args, cache, cwd=None, env=None, timeout=180, wait=True):
    """Run the binary with XGO_CACHE=cache; fast retries for the tests."""
    e = dict(os.environ)
    for k in ("XGO_SDK_MIRROR", "GOROOT", "NO_COLOR"):
        e.pop(k, None)
    e.update({"XGO_CACHE": str(cache), "XGO_DL_BACKOFF_MS": "20", "XGO_DL_STALL_SECONDS": "5"})
    e.update(env or {})
    argv = [str(BINARY), *map(str, args)]
    if not wait:
        return subprocess.Popen(argv, cwd=cwd, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return Result(subprocess.run(argv, cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout))


# ---- the tree digest, written from its definition in toolchains/treedigest.h ----

def tree_digest(root):
    root = os.fsencode(str(root))
    recs = []

    def walk(d, rel):
        with os.scandir(d) as it:
            for de in it:
                r = de.name if not rel else rel + b"/" + de.name
                st = de.stat(follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    recs.append((r, b"d "))
                    walk(de.path, r)
                elif stat.S_ISLNK(st.st_mode):
                    t = hashlib.sha256(os.readlink(de.path)).hexdigest()
                    recs.append((r, b"l " + t.encode() + b" "))
                else:
                    h = hashlib.sha256()
                    with open(de.path, "rb") as f:
                        for chunk in iter(lambda: f.read(1 << 20), b""):
                            h.update(chunk)
                    mode = b"755" if st.st_mode & 0o111 else b"644"
                    recs.append((r, b"f %s %d %s " % (mode, st.st_size, h.hexdigest().encode())))

    walk(root, b"")
    h = hashlib.sha256()
    for path, head in sorted(recs):
        h.update(head + path + b"\0")
    return h.hexdigest()


# ---- archives ----

def sha256_bytes(b):
    return hashlib.sha256(b).hexdigest()


def fake_sdk_tree(dest, version=FAKE_VERSION, filler=300_000):
    """A tiny SDK: go/VERSION, go/bin/go (a shell script), some bytes."""
    go = pathlib.Path(dest) / "go"
    (go / "bin").mkdir(parents=True)
    (go / "src").mkdir()
    (go / "VERSION").write_text(f"go{version}\ntime 2026-01-01T00:00:00Z\n")
    script = go / "bin" / "go"
    script.write_text(f"#!/bin/sh\necho go version go{version} linux/amd64\n")
    script.chmod(0o755)
    # Incompressible filler, so the archive is big enough to cut in half.
    (go / "src" / "filler.bin").write_bytes(hashlib.shake_256(version.encode()).digest(filler))
    os.symlink("go", go / "bin" / "gofmt")
    return go


def pack(goroot, outdir, plat=HOST, level=1, zip=False):
    """toolchains/pack-local-sdk.sh: archive + index.json in outdir."""
    argv = ["sh", str(PACK), "-g", str(goroot), "-o", str(outdir), "-p", plat, "-l", str(level)]
    p = subprocess.run(argv + (["-z"] if zip else []), capture_output=True, text=True, check=True)
    return pathlib.Path(p.stdout.strip())


def tar_gz(entries):
    """entries: (name, kind, data) with kind in file/dir/symlink/hardlink."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mode = 0o755 if kind == "dir" else 0o644
            if kind == "file":
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
                continue
            ti.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE}[kind]
            if kind in ("symlink", "hardlink"):
                ti.linkname = data
            t.addfile(ti)
    return buf.getvalue()


def index_entry(version, filename, data, plat=HOST):
    goos, goarch = plat.split("-")
    return {"version": "go" + version, "stable": True,
            "files": [{"filename": filename, "os": goos, "arch": goarch, "kind": "archive",
                       "sha256": sha256_bytes(data), "size": len(data), "version": "go" + version}]}


# ---- the misbehaving mirror ----

class Served:
    """One file on the mirror and how it misbehaves."""

    def __init__(self, data):
        self.data = data
        self.faults = []      # consumed one per request: "500", "drop_half", "stall", "404"
        self.no_ranges = False
        self.delay = 0.0
        self.always_404 = False


class Mirror:
    def __init__(self):
        self.files = {}
        self.index = []
        self.log = []         # (path, Range header, status)
        self.query_index = True  # serve ?mode=json&include=all (else only index.json)
        self.lock = threading.Lock()
        self.httpd = None

    @property
    def url(self):
        return "http://127.0.0.1:%d/" % self.httpd.server_address[1]

    def add(self, filename, data, version=FAKE_VERSION, plat=HOST, index_data=None):
        """Serve data as filename; the index describes index_data (default data)."""
        self.files[filename] = Served(data)
        entry = index_entry(version, filename, data if index_data is None else index_data, plat)
        for r in self.index:
            if r["version"] == entry["version"]:
                r["files"] += entry["files"]
                break
        else:
            self.index.append(entry)
        return self.files[filename]

    def gets(self, filename):
        return [x for x in self.log if x[0] == "/" + filename]


def _handler(m):
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def _send(self, code, body=b"", headers=()):
            self.send_response(code)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            path, _, query = self.path.partition("?")
            rng = self.headers.get("Range")
            name = path.lstrip("/")
            if (name == "" and query == "mode=json&include=all" and m.query_index) or name == "index.json":
                with m.lock:
                    m.log.append((self.path, rng, 200))
                return self._send(200, json.dumps(m.index).encode(), [("Content-Type", "application/json")])
            f = m.files.get(name)
            with m.lock:
                fault = f.faults.pop(0) if f and f.faults else None
            if f is None or f.always_404 or fault == "404":
                with m.lock:
                    m.log.append((path, rng, 404))
                return self._send(404, b"not found")
            if fault == "500":
                with m.lock:
                    m.log.append((path, rng, 500))
                return self._send(500, b"oops")
            start, code = 0, 200
            mr = re.match(r"bytes=(\d+)-$", rng or "")
            if mr and not f.no_ranges:
                start = int(mr.group(1))
                if start >= len(f.data):
                    with m.lock:
                        m.log.append((path, rng, 416))
                    return self._send(416, b"")
                code = 206
            with m.lock:
                m.log.append((path, rng, code))
            body = f.data[start:]
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            if code == 206:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(f.data) - 1, len(f.data)))
            self.end_headers()
            if f.delay:
                time.sleep(f.delay)
            if fault == "stall":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                time.sleep(4)
                self.close_connection = True
                return
            if fault == "drop_half":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            try:
                for i in range(0, len(body), 1 << 20):
                    self.wfile.write(body[i:i + (1 << 20)])
            except (BrokenPipeError, ConnectionResetError):
                pass

    return H


class serve:
    """Context manager: a Mirror served on 127.0.0.1 (random port)."""

    def __enter__(self):
        self.m = Mirror()
        self.m.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.m))
        self.m.httpd.daemon_threads = True
        threading.Thread(target=self.m.httpd.serve_forever, daemon=True).start()
        return self.m

    def __exit__(self, *exc):
        self.m.httpd.shutdown()
        self.m.httpd.server_close()


@pytest.fixture
def mirror():
    """A go.dev-style mirror for one test, stopped after it."""
    with serve() as m:
        yield m


# ---- SDKs ----

@pytest.fixture(scope="session")
def fake_sdk(tmp_path_factory):
    """(tree, archive bytes, file name) of a small fake go1.99.0."""
    d = tmp_path_factory.mktemp("fake-sdk")
    tree = fake_sdk_tree(d / "tree")
    arc = pack(tree, d / "mirror")
    return tree, arc.read_bytes(), arc.name


def local_goroot():
    for cand in (os.environ.get("GOROOT"), "/usr/local/go"):
        if cand and (pathlib.Path(cand) / "VERSION").is_file():
            return pathlib.Path(cand)
    go = shutil.which("go")
    if go:
        return pathlib.Path(subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True).stdout.strip())
    return None


@pytest.fixture(scope="session")
def real_sdk(tmp_path_factory):
    """The machine's own GOROOT packed once per session: (goroot, version,
    archive bytes, file name, mirror dir with index.json)."""
    goroot = local_goroot()
    if not goroot:
        pytest.skip("no local Go SDK to pack")
    version = (goroot / "VERSION").read_text().splitlines()[0][2:]
    d = tmp_path_factory.mktemp("real-sdk")
    arc = pack(goroot, d)
    return goroot, version, arc.read_bytes(), arc.name, d


def project(dirpath, version=FAKE_VERSION, mirror=None):
    """A minimal release.lua pinning go <version> (and its mirror if given)."""
    dirpath = pathlib.Path(dirpath)
    dirpath.mkdir(parents=True, exist_ok=True)
    go = f'go {{ version = "{version}", mirror = "{mirror}" }}' if mirror else f'go "{version}"'
    (dirpath / "release.lua").write_text(
        'project { name = "t", version = "0.0.1" }\n'
        f'{go}\n'
        'build "t" { targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }\n')
    return dirpath / "release.lua"
