"""Issue 21: the go command's build cache through `xgo-build gocacheprog`
(GOCACHEPROG) and the remote cache (docs/gocache.md).

Real go builds of a small two-package project (println only: its standard
library part is the runtime, so a cold build stays short) on linux/amd64,
against private GOCACHEs, a real nginx WebDAV store (test_cache.py) and the
protocol spoken directly.  The reference of every comparison is a
--no-cache build from an empty GOCACHE with the program off."""
import base64
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import BINARY, run_xgo, sums, write_project
from test_cache import Nginx, checkout, env_with_cache, free_port, run_json  # noqa: F401

LIB = 'package lib\n\nfunc Word() string { return "lib" }\n'
MAIN = 'package main\n\nimport "example.com/p/lib"\n\nfunc main() { println("hello", lib.Word()) }\n'
RELEASE = '''project { name = "p", version = "1.0.0" }
go "1.26.8"
build "p" { main = "./cmd/p", targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }
build "q" { main = "./cmd/q", targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }
'''


def project(path, sdk_session, release=RELEASE, word="lib"):
    main_q = MAIN.replace('"hello"', '"q"')
    return write_project(path, {"lib/lib.go": LIB.replace('"lib"', f'"{word}"'), "cmd/p/main.go": MAIN,
                                "cmd/q/main.go": main_q, "release.lua": release}, sdk_session)


def env_for(sdk_session, tmp, name, **extra):
    """A runner: its own action cache and its own, empty GOCACHE."""
    env = env_with_cache(sdk_session, tmp / name / "xgo-cache", **extra)
    env["XGO_GOCACHE"] = str(tmp / name / "gocache")
    return env


def note_counts(err):
    line = [x for x in err.splitlines() if "go build cache:" in x]
    assert line, err
    return line[-1]


@pytest.fixture(scope="module")
def filled(tmp_path_factory, sdk_session):
    """A remote filled by runner 1 (version "lib"), and the reference dist
    of version "edit" built with --no-cache from an empty GOCACHE."""
    tmp = tmp_path_factory.mktemp("gocacheprog")
    n = Nginx(tmp / "nginx")
    try:
        first = project(tmp / "first", sdk_session)
        r, ev = run_json(first, env_for(sdk_session, tmp, "runner1", XGO_REMOTE_CACHE=n.url))
        assert r.rc == 0, r
        cold = [e for e in ev if e["event"] == "gocache"][0]
        assert cold["uploads"] == cold["puts"] > 50 and cold["remote_hits"] == 0, cold
        assert "warning" not in r.err and " 0 uploaded" not in note_counts(r.err), r.err
    finally:
        n.stop()
    ref = project(tmp / "ref", sdk_session, word="edit")
    r = run_xgo("run", "--no-cache", cwd=ref, env=env_for(sdk_session, tmp, "ref", XGO_GOCACHEPROG="0"))
    assert r.rc == 0, r
    assert not (tmp / "ref/gocache/prog").exists(), "XGO_GOCACHEPROG=0 leaves the program off"
    return {"store": n.root, "ref": sums(ref / "dist"), "tmp": tmp, "first": first, "cold": cold}


def remote_from(filled, base):
    n = Nginx(base)
    shutil.rmtree(n.root)
    shutil.copytree(filled["store"], n.root)
    return n


def go_entries(root):
    return {p.name: json.loads(p.read_text()) for p in (root / "xgo/gocache").iterdir()}


def fresh_runner(filled, sdk_session, tmp_path, name, **extra):
    """Runner 2: empty local caches, the previous commit in the remote,
    one line changed in the package both binaries import."""
    proj = checkout(filled["first"], tmp_path / name)
    (proj / "lib/lib.go").write_text(LIB.replace('"lib"', '"edit"'))
    return proj, env_for(sdk_session, tmp_path, name + "-caches", **extra)


def test_a_fresh_runner_builds_from_the_remote_the_same_bytes_as_a_cold_build(filled, sdk_session, tmp_path):
    n = remote_from(filled, tmp_path / "nginx")
    try:
        proj, env = fresh_runner(filled, sdk_session, tmp_path, "fresh", XGO_REMOTE_CACHE=n.url)
        r, ev = run_json(proj, env)
    finally:
        n.stop()
    assert r.rc == 0, r
    assert "warning" not in r.err, r.err
    assert sums(proj / "dist") == filled["ref"], "byte-identical to --no-cache from an empty GOCACHE"
    stats = [e for e in ev if e["event"] == "gocache"][0]
    # the runtime and its dependencies came from the remote; only the
    # edited package and the two main packages were compiled here
    assert stats["remote_hits"] >= 20, stats
    assert 1 <= stats["puts"] < filled["cold"]["puts"] / 2, (stats, filled["cold"])
    assert stats["bytes_down"] > 100_000 and stats["warnings"] == 0, stats
    assert (tmp_path / "fresh-caches/gocache/prog/a").is_dir()


@pytest.mark.parametrize("damage, needle", [
    ("truncate", "does not have the sha256 and size its entry"),
    ("oversize", "more than the limit of"),
    ("entry", "is not a go build cache entry for that action"),
])
def test_a_wrong_remote_object_is_a_miss_with_one_warning(filled, sdk_session, tmp_path, damage, needle):
    n = remote_from(filled, tmp_path / "nginx")
    entries = go_entries(n.root)
    extra = {}
    for action, e in entries.items():
        obj = n.root / "xgo/cas" / e["output"]
        if damage == "truncate" and e["size"] > 1:
            obj.write_bytes(obj.read_bytes()[: e["size"] // 2])
        elif damage == "entry":
            e["action"] = "0" * 64
            (n.root / "xgo/gocache" / action).write_text(json.dumps(e))
    if damage == "oversize":
        extra["XGO_REMOTE_CACHE_MAX_BYTES"] = "1K"
    try:
        proj, env = fresh_runner(filled, sdk_session, tmp_path, "runner", XGO_REMOTE_CACHE=n.url, **extra)
        r, ev = run_json(proj, env)
    finally:
        n.stop()
    assert r.rc == 0, r
    assert r.err.count(needle) == 1 and r.err.count("the go command builds it instead") == 1, r.err
    stats = [e for e in ev if e["event"] == "gocache"][0]
    assert stats["warnings"] >= 1 and stats["puts"] > filled["cold"]["puts"] / 2, (stats, filled["cold"])
    assert sums(proj / "dist") == filled["ref"]


class Stalling:
    """A remote that accepts connections and never answers (counted)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/xgo"
        self.held = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def stop(self):
        self.sock.close()
        for c in self.held:
            c.close()


@pytest.mark.parametrize("how", ["refused", "stalling"])
def test_a_down_remote_is_one_verdict_and_one_warning_per_run(filled, sdk_session, tmp_path, how):
    server = Stalling() if how == "stalling" else None
    url = server.url if server else f"http://127.0.0.1:{free_port()}/xgo"
    try:
        proj, env = fresh_runner(filled, sdk_session, tmp_path, how, XGO_REMOTE_CACHE=url)
        r, ev = run_json(proj, env)
    finally:
        if server:
            server.stop()
    assert r.rc == 0, r
    warnings = [x for x in r.err.splitlines() if "warning" in x]
    assert len(warnings) == 1 and "building without it from here on" in warnings[0], r.err
    assert sums(proj / "dist") == filled["ref"], "the same bytes as a cold build"
    stats = [e for e in ev if e["event"] == "gocache"][0]
    assert stats["remote_hits"] == 0 and stats["uploads"] == 0 and stats["puts"] > 50, stats
    if server:
        # a stall is not retried: the first request's timeout is the run's verdict
        assert len(server.held) == 1, f"{len(server.held)} connections to a remote that never answers"


class Delaying:
    """The real nginx behind a proxy that holds every GET of /cas/ (the
    objects) DELAY seconds, and counts how many of them overlap."""

    DELAY = 0.3

    def __init__(self, nginx):
        import http.client
        import http.server
        outer = self
        self.lock, self.inflight, self.most, self.spans = threading.Lock(), 0, 0, []

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # kept alive, as curl wants

            def log_message(self, *a):
                pass

            def forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                slow = self.command == "GET" and "/cas/" in self.path
                if slow:
                    t0 = time.monotonic()
                    with outer.lock:
                        outer.inflight += 1
                        outer.most = max(outer.most, outer.inflight)
                    time.sleep(outer.DELAY)
                c = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=30)
                c.request(self.command, self.path, body=body if self.command == "PUT" else None)
                res = c.getresponse()
                data = res.read()
                c.close()
                if slow:
                    with outer.lock:
                        outer.inflight -= 1
                        outer.spans.append((t0, time.monotonic()))
                self.send_response(res.status)
                self.send_header("Content-Length", str(len(data) if self.command != "HEAD" else
                                                      res.getheader("Content-Length") or 0))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_HEAD = do_PUT = forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/xgo"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def busy(self):
        """Seconds in which at least one object fetch was in flight."""
        total, end = 0.0, None
        for a, b in sorted(self.spans):
            if end is None or a > end:
                total, end = total + b - a, b
            elif b > end:
                total, end = total + b - end, b
        return total

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_job_fetches_its_remote_objects_concurrently(filled, sdk_session, tmp_path):
    # -j 1: one job at a time, each with -p 2 on two CPUs, so overlapping
    # fetches are the program's (before, it asked for one object at a time)
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: the go command runs one action at a time (-p 1), so nothing can overlap")
    n = remote_from(filled, tmp_path / "nginx")
    slow = Delaying(n)
    try:
        proj, env = fresh_runner(filled, sdk_session, tmp_path, "delayed", XGO_REMOTE_CACHE=slow.url)
        r, ev = run_json(proj, env, "-j", "1")
    finally:
        slow.stop()
        n.stop()
    assert r.rc == 0 and "warning" not in r.err, r
    assert sums(proj / "dist") == filled["ref"], "byte-identical to --no-cache from an empty GOCACHE"
    stats = [e for e in ev if e["event"] == "gocache"][0]
    gets = len(slow.spans)
    assert stats["remote_hits"] == gets >= 20, (stats, gets)
    # one after another (as before: the program asked for one object at a
    # time), the fetches keep the remote busy gets * DELAY seconds at least;
    # measured with 8 workers: 5.7 s of 8.7, 2 at once (-p 2)
    busy, serial = slow.busy(), gets * Delaying.DELAY
    print(f"{gets} fetches of {Delaying.DELAY} s: remote busy {busy:.1f} s of {serial:.1f}, at most {slow.most} at once")
    assert slow.most >= 2 and busy < 0.85 * serial, \
        f"{gets} fetches of {Delaying.DELAY} s: the remote was busy {busy:.1f} s, at most {slow.most} at once"


def test_an_empty_remote_is_asked_over_kept_alive_connections(filled, sdk_session, tmp_path):
    n = Nginx(tmp_path / "nginx")
    try:
        proj, env = fresh_runner(filled, sdk_session, tmp_path, "empty", XGO_REMOTE_CACHE=n.url)
        r, ev = run_json(proj, env)
    finally:
        n.stop()
    assert r.rc == 0 and "warning" not in r.err, r
    assert sums(proj / "dist") == filled["ref"]
    stats = [e for e in ev if e["event"] == "gocache"][0]
    assert stats["uploads"] == stats["puts"] > 50 and stats["remote_hits"] == 0, stats
    assert stats["drain_ms"] >= 0, stats
    log = (n.base / "logs/access.log").read_text().splitlines()
    conns = {re.search(r"conn=(\d+)", x).group(1) for x in log}
    # a get miss, a HEAD and two PUTs per object: hundreds of requests on a few connections
    assert len(log) > 4 * 50 and len(conns) <= 16, (len(log), len(conns))


def test_concurrent_runs_share_one_store(filled, sdk_session, tmp_path):
    # no remote: both compile the runtime at once and put the same action
    # IDs into one empty store (their programs may share a pid, each in a
    # PID namespace of its own)
    procs = []
    for name in ("one", "two"):
        proj, env = fresh_runner(filled, sdk_session, tmp_path, name)
        env["XGO_GOCACHE"] = str(tmp_path / "shared-gocache")
        procs.append((proj, subprocess.Popen([str(BINARY), "run"], cwd=proj, env=dict(os.environ, **env),
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    outs = [(proj, p.communicate(timeout=600), p.returncode) for proj, p in procs]
    for proj, (out, err), rc in outs:
        assert rc == 0, err
        assert "warning" not in err, err
        assert sums(proj / "dist") == filled["ref"]
    assert not list((tmp_path / "shared-gocache/prog/tmp").iterdir()), "no temporary file is left"


def test_read_only_uploads_nothing_and_keys_do_not_depend_on_the_program(filled, sdk_session, tmp_path):
    n = remote_from(filled, tmp_path / "nginx")
    before = set(go_entries(n.root))
    try:
        proj, env = fresh_runner(filled, sdk_session, tmp_path, "ro", XGO_REMOTE_CACHE=n.url,
                                 XGO_REMOTE_CACHE_READ_ONLY="1")
        r, ev = run_json(proj, env)
        assert r.rc == 0, r
        assert set(go_entries(n.root)) == before, "a read-only runner uploads no go build cache entry"
        stats = [e for e in ev if e["event"] == "gocache"][0]
        assert stats["uploads"] == 0 and stats["puts"] >= 1, stats
        # the same jobs with the program off and another GOCACHE path: the
        # same input digests, so every job comes from the action cache
        env2 = dict(env, XGO_GOCACHEPROG="0", XGO_GOCACHE=str(tmp_path / "other-gocache"))
        r, ev = run_json(proj, env2)
        assert r.rc == 0, r
        assert [e for e in ev if e["event"] == "run_finished"][0]["cached"] == 2, r.err
        manifest = json.loads((proj / "dist/manifest.json").read_text())
        assert "GOCACHEPROG" not in json.dumps(manifest), "the program is not recorded"
    finally:
        n.stop()


def test_unsigned_entries_are_refused_when_keys_are_trusted(filled, sdk_session, tmp_path):
    n = remote_from(filled, tmp_path / "nginx")
    r = run_xgo("cache", "keygen", str(tmp_path / "k"))
    assert r.rc == 0, r
    try:
        proj, env = fresh_runner(filled, sdk_session, tmp_path, "signed", XGO_REMOTE_CACHE=n.url,
                                 XGO_REMOTE_CACHE_TRUSTED_KEYS=str(tmp_path / "k.pub"),
                                 XGO_REMOTE_CACHE_SIGNING_KEY=str(tmp_path / "k.key"))
        r, ev = run_json(proj, env)
        assert r.rc == 0, r
        assert r.err.count("is unsigned") == 1, r.err
        assert sums(proj / "dist") == filled["ref"]
        # what it uploaded is signed: a second fresh runner takes it
        mine = {a: e for a, e in go_entries(n.root).items() if "sig" in e}
        assert mine, "signed entries uploaded"
        proj2 = checkout(proj, tmp_path / "signed2")
        env2 = env_for(sdk_session, tmp_path, "signed2-caches", XGO_REMOTE_CACHE=n.url,
                       XGO_REMOTE_CACHE_TRUSTED_KEYS=str(tmp_path / "k.pub"))
        (proj2 / "cmd/q/main.go").write_text(MAIN.replace('"hello"', '"q2"'))
        r, ev = run_json(proj2, env2)
        assert r.rc == 0, r
        stats = [e for e in ev if e["event"] == "gocache"][0]
        assert stats["remote_hits"] >= 20 and stats["warnings"] == 0 and "warning" not in r.err, (stats, r.err)
    finally:
        n.stop()


def test_a_program_that_cannot_start_leaves_the_plain_gocache(filled, sdk_session, tmp_path):
    proj = project(tmp_path / "p", sdk_session)
    env = env_for(sdk_session, tmp_path, "broken")
    gocache = tmp_path / "broken/gocache"
    gocache.mkdir(parents=True)
    (gocache / "prog").write_text("not a directory")
    r = run_xgo("run", cwd=proj, env=env)
    assert r.rc == 0, r
    assert r.err.count("the go build cache program is off for this run") == 1, r.err
    assert sums(proj / "dist") == sums(filled["first"] / "dist")
    # cache { gocacheprog = false } turns it off without a word
    (gocache / "prog").unlink()
    (proj / "release.lua").write_text(RELEASE + "cache { gocacheprog = false }\n")
    (proj / "lib/lib.go").write_text(LIB.replace('"lib"', '"edit"'))
    r = run_xgo("run", cwd=proj, env=env)
    assert r.rc == 0 and "warning" not in r.err, r
    assert not (gocache / "prog").exists()


# ---- the protocol, spoken directly ------------------------------------------------


def b64(data):
    return base64.b64encode(data).decode()


def test_the_protocol_put_get_miss_and_bad_bodies(tmp_path):
    store = tmp_path / "store"
    body = b"object bytes\n" * 1000
    action, out = hashlib.sha256(b"a1").digest(), hashlib.sha256(body).digest()
    empty_action = hashlib.sha256(b"a2").digest()
    reqs = [
        {"ID": 1, "Command": "get", "ActionID": b64(action)},
        {"ID": 2, "Command": "put", "ActionID": b64(action), "OutputID": b64(out), "BodySize": len(body)},
        {"ID": 3, "Command": "get", "ActionID": b64(action)},
        {"ID": 4, "Command": "put", "ActionID": b64(empty_action), "OutputID": b64(hashlib.sha256(b"").digest())},
        {"ID": 5, "Command": "put", "ActionID": b64(empty_action), "OutputID": b64(out), "BodySize": 3},
        {"ID": 6, "Command": "get", "ActionID": "short"},
        {"ID": 7, "Command": "close"},
    ]
    text = ""
    for q in reqs:
        text += json.dumps(q) + "\n\n"  # the go command's empty line after each request
        if q["ID"] == 2:
            text += json.dumps(b64(body)) + "\n"
        if q["ID"] == 5:
            text += json.dumps(b64(b"abc")) + "\n"
    p = subprocess.run([str(BINARY), "gocacheprog", "--store", str(store)], input=text, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    res = [json.loads(line) for line in p.stdout.splitlines()]
    assert res[0] == {"ID": 0, "KnownCommands": ["get", "put", "close"]}
    by = {x["ID"]: x for x in res[1:]}
    assert by[1] == {"ID": 1, "Miss": True}
    path = by[2]["DiskPath"]
    assert open(path, "rb").read() == body and path.startswith(str(store))
    assert by[3]["OutputID"] == b64(out) and by[3]["Size"] == len(body) and by[3]["DiskPath"] == path
    assert open(by[4]["DiskPath"], "rb").read() == b""
    assert "does not have its BodySize and OutputID" in by[5]["Err"]
    assert "not 32 bytes" in by[6]["Err"]
    assert by[7] == {"ID": 7}
    assert not list((store / "tmp").iterdir())


def test_the_program_refuses_bad_arguments():
    p = subprocess.run([str(BINARY), "gocacheprog"], capture_output=True, text=True)
    assert p.returncode == 2 and "usage: xgo-build gocacheprog --store DIR" in p.stderr
    assert p.stdout == "", "nothing on the protocol's stream"
    p = subprocess.run([str(BINARY), "gocacheprog", "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("usage: xgo-build gocacheprog")
