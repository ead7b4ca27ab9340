"""The action cache: no-op reruns, what a change rebuilds, corrupt entries,
and the shared remote cache on a real nginx (WebDAV PUT) on 127.0.0.1."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import BINARY, RUN_RECORDS, run_xgo, sums, write_project

SHARED = "package shared\n\nfunc Greeting() string { return \"hello\" }\n"
MAIN_A = ('package main\n\nimport (\n\t"fmt"\n\n\t"example.com/p/shared"\n)\n\n'
          'func main() { fmt.Println("a", shared.Greeting()) }\n')
MAIN_B = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("b") }\n'
RELEASE = '''project { name = "p", version = "1.0.0" }
go "1.26.8"
build "a" { main = "./cmd/a", targets = matrix { goos = { "linux", "windows" }, goarch = { "amd64" } } }
build "b" { main = "./cmd/b", targets = matrix { goos = { "linux", "windows" }, goarch = { "amd64" } } }
archive { format = "tar.gz", format_overrides = { windows = "zip" }, name = "{name}_{os}_{arch}" }
'''


def project(path, sdk_session, release=RELEASE):
    return write_project(path, {"shared/shared.go": SHARED, "cmd/a/main.go": MAIN_A, "cmd/b/main.go": MAIN_B,
                                "release.lua": release}, sdk_session)


def env_with_cache(sdk_session, cache, **extra):
    """The session's SDK and GOCACHE, but a private XGO_CACHE (action cache)."""
    env = dict(sdk_session["env"])
    cache.mkdir(parents=True, exist_ok=True)
    if not (cache / "sdk").exists():
        (cache / "sdk").symlink_to(env["XGO_CACHE"] + "/sdk")  # the session's installed SDK
    env["XGO_CACHE"] = str(cache)
    env.update(extra)
    return env


def run_json(proj, env, *args):
    r = run_xgo("run", "--json", *args, cwd=proj, env=env)
    events = [json.loads(line) for line in r.out.splitlines()]
    return r, events


def outcome(events):
    """{"a linux/amd64": "ok"|"cached"|...} and the run_finished event."""
    jobs = {f'{e["build"]} {e["target"]}': e["status"] for e in events if e["event"] == "job_finished"}
    return jobs, events[-1]


@pytest.fixture
def cached_env(sdk_session, tmp_path):
    return env_with_cache(sdk_session, tmp_path / "xgo-cache")


def test_second_run_with_nothing_changed_runs_no_go_build(tmp_path, cached_env, sdk_session):
    proj = project(tmp_path / "p", sdk_session)
    r, ev = run_json(proj, cached_env)
    assert r.rc == 0, r
    jobs, fin = outcome(ev)
    assert set(jobs.values()) == {"ok"} and fin["built"] == 4 and fin["cached"] == 0
    first = {p.name: p.read_bytes() for p in (proj / "dist").iterdir() if p.is_file() and p.name not in RUN_RECORDS}
    r, ev = run_json(proj, cached_env)
    assert r.rc == 0, r
    jobs, fin = outcome(ev)
    assert set(jobs.values()) == {"cached"}, jobs
    assert fin["built"] == 0 and fin["cached"] == 4
    assert not [e for e in ev if e["event"] == "job_started"], "a cached job starts no go build"
    assert "4 from the action cache" in r.err
    again = {p.name: p.read_bytes() for p in (proj / "dist").iterdir() if p.is_file() and p.name not in RUN_RECORDS}
    assert again == first, "the cached release is byte for byte the built one"
    m = json.loads((proj / "dist/manifest.json").read_text())
    assert all(j["cached"] and len(j["input_digest"]) == 64 for j in m["jobs"])
    assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=proj / "dist").returncode == 0


def test_a_change_rebuilds_only_what_depends_on_it(tmp_path, cached_env, sdk_session):
    proj = project(tmp_path / "p", sdk_session)
    assert run_json(proj, cached_env)[0].rc == 0
    (proj / "cmd/a/main.go").write_text(MAIN_A.replace('"a"', '"A"'))
    r, ev = run_json(proj, cached_env)
    assert r.rc == 0, r
    jobs, _ = outcome(ev)
    assert jobs == {"a linux/amd64": "ok", "a windows/amd64": "ok",
                    "b linux/amd64": "cached", "b windows/amd64": "cached"}, jobs
    # a package only a imports
    (proj / "shared/shared.go").write_text(SHARED.replace('"hello"', '"hi"'))
    jobs, _ = outcome(run_json(proj, cached_env)[1])
    assert jobs["a linux/amd64"] == "ok" and jobs["b linux/amd64"] == "cached", jobs
    # a new file in b's package, and a file only the windows build reads
    (proj / "cmd/b/extra_windows.go").write_text("package main\n\nconst extra = 1\n")
    jobs, _ = outcome(run_json(proj, cached_env)[1])
    assert jobs == {"a linux/amd64": "cached", "a windows/amd64": "cached",
                    "b linux/amd64": "ok", "b windows/amd64": "ok"}, jobs
    # touching without changing bytes rebuilds nothing
    os.utime(proj / "cmd/a/main.go")
    jobs, _ = outcome(run_json(proj, cached_env)[1])
    assert set(jobs.values()) == {"cached"}, jobs
    out = subprocess.run([proj / "dist/a_linux_amd64/a"], capture_output=True, text=True).stdout
    assert out == "A hi\n"


def listings_note(r):
    """The -v note on how the source digests were found."""
    return next(line for line in r.err.splitlines() if "source digests of" in line)


def test_an_import_added_by_an_edit_is_seen(tmp_path, cached_env, sdk_session):
    """No file added: b's edit imports an existing package.  go list must be
    asked again, and a later edit of that package must rebuild b too."""
    proj = project(tmp_path / "p", sdk_session)
    assert run_json(proj, cached_env)[0].rc == 0
    (proj / "cmd/b/main.go").write_text(MAIN_B.replace('"b")', '"b", len(os.Args))').replace(
        'import "fmt"', 'import (\n\t"fmt"\n\t"os"\n)'))
    r, ev = run_json(proj, cached_env, "-v")
    assert r.rc == 0, r
    assert "2 from go list" in listings_note(r), r.err  # only b's two listings changed heads
    (proj / "cmd/b/main.go").write_text(MAIN_A.replace('"a"', '"b"'))  # now b imports shared
    assert run_json(proj, cached_env)[0].rc == 0
    (proj / "shared/shared.go").write_text(SHARED.replace('"hello"', '"bonjour"'))
    r, ev = run_json(proj, cached_env, "-v")
    jobs, _ = outcome(ev)
    assert "re-read with the saved file lists, 0 from go list" in listings_note(r), r.err
    assert set(jobs.values()) == {"ok"}, jobs
    out = subprocess.run([proj / "dist/b_linux_amd64/b"], capture_output=True, text=True).stdout
    assert out == "b bonjour\n"


def test_an_edit_of_a_body_asks_go_list_nothing(tmp_path, cached_env, sdk_session):
    proj = project(tmp_path / "p", sdk_session)
    assert run_json(proj, cached_env)[0].rc == 0
    (proj / "cmd/a/main.go").write_text(MAIN_A.replace('"a"', '"A"'))
    r, ev = run_json(proj, cached_env, "-v")
    assert "4 re-read with the saved file lists, 0 from go list" in listings_note(r), r.err
    jobs, _ = outcome(ev)
    assert jobs == {"a linux/amd64": "ok", "a windows/amd64": "ok",
                    "b linux/amd64": "cached", "b windows/amd64": "cached"}, jobs
    r, ev = run_json(proj, cached_env, "-v")
    assert "4 as saved, 0 from go list" in listings_note(r), r.err


EMBED_MAIN = ('package main\n\nimport (\n\t"embed"\n\t"fmt"\n\t"io/fs"\n)\n\n//go:embed data\nvar data embed.FS\n\n'
              'func main() {\n\tfs.WalkDir(data, ".", func(p string, d fs.DirEntry, err error) error {\n'
              '\t\tif !d.IsDir() {\n\t\t\tb, _ := data.ReadFile(p)\n\t\t\tfmt.Printf("%s=%s ", p, b)\n\t\t}\n'
              '\t\treturn nil\n\t})\n}\n')


def test_embedded_files_edited_or_added_are_rebuilt(tmp_path, cached_env, sdk_session):
    release = RELEASE.split('build "b"')[0] + RELEASE[RELEASE.index("archive"):]
    proj = write_project(tmp_path / "p", {"cmd/a/main.go": EMBED_MAIN, "cmd/a/data/x.txt": "1",
                                          "release.lua": release}, sdk_session)
    assert run_json(proj, cached_env)[0].rc == 0

    def output():
        return subprocess.run([proj / "dist/a_linux_amd64/a"], capture_output=True, text=True).stdout

    assert output() == "data/x.txt=1 "
    (proj / "cmd/a/data/x.txt").write_text("2")
    r, ev = run_json(proj, cached_env, "-v")
    assert "0 from go list" in listings_note(r) and set(outcome(ev)[0].values()) == {"ok"}, r.err
    assert output() == "data/x.txt=2 "
    (proj / "cmd/a/data/sub").mkdir()
    (proj / "cmd/a/data/sub/y.txt").write_text("3")  # a new file: go list is asked
    r, ev = run_json(proj, cached_env, "-v")
    assert "2 from go list" in listings_note(r) and set(outcome(ev)[0].values()) == {"ok"}, r.err
    assert output() == "data/sub/y.txt=3 data/x.txt=2 "


def test_release_inputs_are_part_of_the_digest(tmp_path, cached_env, sdk_session):
    proj = project(tmp_path / "p", sdk_session)
    assert run_json(proj, cached_env)[0].rc == 0
    (proj / "release.lua").write_text(RELEASE.replace('main = "./cmd/a",', 'main = "./cmd/a", ldflags = { "-s" },'))
    jobs, _ = outcome(run_json(proj, cached_env)[1])
    assert jobs["a linux/amd64"] == "ok" and jobs["b linux/amd64"] == "cached", jobs
    jobs, _ = outcome(run_json(proj, dict(cached_env, SOURCE_DATE_EPOCH="1700000000"))[1])
    assert set(jobs.values()) == {"ok"}, "SOURCE_DATE_EPOCH reaches every job: all rebuild"


def test_no_cache_builds_everything(tmp_path, cached_env, sdk_session):
    proj = project(tmp_path / "p", sdk_session)
    assert run_json(proj, cached_env)[0].rc == 0
    r, ev = run_json(proj, cached_env, "--no-cache")
    jobs, fin = outcome(ev)
    assert r.rc == 0 and set(jobs.values()) == {"ok"} and fin["cached"] == 0, r


def test_a_corrupt_local_entry_is_rebuilt(tmp_path, cached_env, sdk_session):
    proj = project(tmp_path / "p", sdk_session)
    assert run_json(proj, cached_env)[0].rc == 0
    digest = sums(proj / "dist")  # archives only
    m = json.loads((proj / "dist/manifest.json").read_text())
    sha = next(j["sha256"] for j in m["jobs"] if j["build"] == "a" and j["target"] == "linux/amd64")
    blob = tmp_path / "xgo-cache/actions/cas" / sha
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 1
    blob.write_bytes(bytes(data))
    r, ev = run_json(proj, cached_env)
    assert r.rc == 0, r
    assert "is corrupt; dropping it and building" in r.err
    jobs, _ = outcome(ev)
    assert jobs["a linux/amd64"] == "ok" and jobs["b linux/amd64"] == "cached", jobs
    assert sums(proj / "dist") == digest


# ---- the remote cache on nginx ----------------------------------------------

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    """A real nginx with WebDAV PUT on 127.0.0.1, stopped by the fixture."""

    def __init__(self, base, token=None):
        self.base, self.port, self.root = base, free_port(), base / "store"
        self.root.mkdir(parents=True)
        for d in ("logs", "tmp"):
            (base / d).mkdir()
        auth = f'if ($http_authorization != "Bearer {token}") {{ return 401; }}' if token else ""
        user = "user root;" if os.geteuid() == 0 else ""
        (base / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
error_log {base}/logs/error.log;
pid {base}/nginx.pid;
events {{ worker_connections 64; }}
http {{
  log_format xgo '$remote_addr conn=$connection "$request" $status in=$request_length out=$bytes_sent';
  access_log {base}/logs/access.log xgo;
  client_body_temp_path {base}/tmp;
  proxy_temp_path {base}/tmp; fastcgi_temp_path {base}/tmp; uwsgi_temp_path {base}/tmp; scgi_temp_path {base}/tmp;
  server {{
    listen 127.0.0.1:{self.port};
    root {self.root};
    client_max_body_size 0;
    location / {{
      {auth}
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }}
  }}
}}
""")
        self.url = f"http://127.0.0.1:{self.port}/xgo"
        self.start()

    def start(self):
        self.proc = subprocess.Popen([NGINX, "-p", str(self.base), "-c", str(self.base / "nginx.conf"),
                                      "-g", "daemon off;"], stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx did not start: {self.proc.stderr.read()}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)

    def blobs(self):
        return sorted(p.name for p in (self.root / "xgo/cas").glob("*")) if (self.root / "xgo/cas").exists() else []

    def action_blobs(self):
        """The contents action entries name (the rest are the go command's
        build cache objects, test_gocacheprog.py)."""
        ac = self.root / "xgo/ac"
        return sorted({json.loads(p.read_text())["sha256"] for p in ac.iterdir()}) if ac.exists() else []


@pytest.fixture
def nginx(tmp_path):
    if not os.path.exists(NGINX):
        pytest.fail("nginx is not installed: ./configure --deps installs it")
    n = Nginx(tmp_path / "nginx")
    yield n
    n.stop()


def checkout(src, dst):
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("dist", ".xgo-build"))
    return dst


def test_a_clean_checkout_takes_everything_from_the_remote_cache(tmp_path, sdk_session, nginx):
    first = project(tmp_path / "first", sdk_session)
    env1 = env_with_cache(sdk_session, tmp_path / "cache1", XGO_REMOTE_CACHE=nginx.url)
    r, ev = run_json(first, env1)
    assert r.rc == 0, r
    assert "remote cache: " + nginx.url in r.err
    assert len(nginx.action_blobs()) == 6, "4 binaries and 2 archives (one per target) uploaded"
    assert len(list((nginx.root / "xgo/ac").iterdir())) == 6
    second = checkout(first, tmp_path / "elsewhere/second")
    env2 = env_with_cache(sdk_session, tmp_path / "cache2", XGO_REMOTE_CACHE=nginx.url)
    r, ev = run_json(second, env2)
    assert r.rc == 0, r
    jobs, fin = outcome(ev)
    assert set(jobs.values()) == {"cached"} and fin["built"] == 0, (jobs, r.err)
    assert sums(second / "dist") == sums(first / "dist")
    for p in (first / "dist").rglob("*"):
        if p.is_file() and p.name not in RUN_RECORDS:
            assert (second / "dist" / p.relative_to(first / "dist")).read_bytes() == p.read_bytes(), p


def test_a_corrupt_remote_blob_is_detected_and_rebuilt(tmp_path, sdk_session, nginx):
    first = project(tmp_path / "first", sdk_session)
    assert run_json(first, env_with_cache(sdk_session, tmp_path / "c1", XGO_REMOTE_CACHE=nginx.url))[0].rc == 0
    m = json.loads((first / "dist/manifest.json").read_text())
    sha = next(j["sha256"] for j in m["jobs"] if j["build"] == "b" and j["target"] == "linux/amd64")
    (nginx.root / "xgo/cas" / sha).write_bytes(b"not the binary")
    second = checkout(first, tmp_path / "second")
    r, ev = run_json(second, env_with_cache(sdk_session, tmp_path / "c2", XGO_REMOTE_CACHE=nginx.url))
    assert r.rc == 0, r
    assert "does not have the sha256 it is stored under" in r.err
    jobs, _ = outcome(ev)
    assert jobs["b linux/amd64"] == "ok" and jobs["a linux/amd64"] == "cached", jobs
    assert sums(second / "dist") == sums(first / "dist")


def test_read_only_remote_is_never_written(tmp_path, sdk_session, nginx):
    proj = project(tmp_path / "p", sdk_session)
    env = env_with_cache(sdk_session, tmp_path / "c", XGO_REMOTE_CACHE=nginx.url, XGO_REMOTE_CACHE_READ_ONLY="1")
    r, _ = run_json(proj, env)
    assert r.rc == 0 and "(read-only)" in r.err, r
    assert nginx.blobs() == []
    access = (nginx.base / "logs/access.log").read_text()
    assert "GET /xgo/ac/" in access and "PUT" not in access


def test_bearer_token_from_the_environment(tmp_path, sdk_session):
    n = Nginx(tmp_path / "nginx", token="s3cret")
    try:
        proj = project(tmp_path / "p", sdk_session,
                       RELEASE + f'cache {{ url = "{n.url}", token_env = "MY_CACHE_TOKEN" }}\n')
        r, _ = run_json(proj, env_with_cache(sdk_session, tmp_path / "c1"))
        assert r.rc == 0 and "answered HTTP 401" in r.err, r
        assert n.blobs() == []
        r, _ = run_json(proj, env_with_cache(sdk_session, tmp_path / "c2", MY_CACHE_TOKEN="s3cret"))
        assert r.rc == 0 and "warning" not in r.err, r
        assert len(n.action_blobs()) == 6
    finally:
        n.stop()


def test_a_dead_or_dying_server_only_costs_a_warning(tmp_path, sdk_session, nginx):
    proj = project(tmp_path / "p", sdk_session)
    dead = f"http://127.0.0.1:{free_port()}/x"
    r, ev = run_json(proj, env_with_cache(sdk_session, tmp_path / "c1", XGO_REMOTE_CACHE=dead))
    assert r.rc == 0, r
    assert r.err.count("building without it from here on") == 1
    # killed mid-run, after the first job finished (and was uploaded)
    env = dict(os.environ, **env_with_cache(sdk_session, tmp_path / "c2", XGO_REMOTE_CACHE=nginx.url))
    other = checkout(proj, tmp_path / "other")
    proc = subprocess.Popen([str(BINARY), "run", "--json"], cwd=other, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    events = []
    for line in proc.stdout:
        events.append(json.loads(line))
        if events[-1]["event"] == "job_finished":
            nginx.stop()
            break
    events += [json.loads(line) for line in proc.stdout]
    err = proc.stderr.read()
    assert proc.wait(timeout=600) == 0, err
    assert err.count("building without it from here on") == 1, err
    assert events[-1]["event"] == "run_finished" and events[-1]["built"] == 4
    assert len(nginx.blobs()) >= 1
    assert sums(other / "dist") == sums(proj / "dist")


def test_bad_remote_address_is_a_usage_error(tmp_path, sdk_session):
    proj = project(tmp_path / "p", sdk_session)
    r = run_xgo("run", cwd=proj, env=dict(sdk_session["env"], XGO_REMOTE_CACHE="ftp://example/x"))
    assert r.rc == 2 and "only http:// and https://" in r.err, r
    (proj / "release.lua").write_text(RELEASE + 'cache { url = "file:///tmp/x" }\n')
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 2 and "release.lua:6" in r.err and "http:// or https://" in r.err, r


class Hostile:
    """A cache server that serves a real store wrongly: truncated bodies
    (a Content-Length it does not keep) or action entries that are not
    JSON.  Counts the requests it saw."""

    def __init__(self, store, mode):
        import http.server
        import threading
        outer = self
        self.requests = []

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.requests.append(self.path)
                f = store / self.path.lstrip("/")
                if not f.is_file():
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = f.read_bytes()
                if mode == "garbage-ac" and "/ac/" in self.path:
                    data = b"{not an action result"
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if mode == "truncate" and "/cas/" in self.path:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(data)

            do_HEAD = do_GET

            def do_PUT(self):
                outer.requests.append("PUT " + self.path)
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/xgo"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("mode, message", [
    ("truncate", "building without it from here on"),
    ("garbage-ac", "is not an action result; ignoring it"),
])
def test_a_lying_server_costs_a_build_not_a_wrong_artifact(tmp_path, sdk_session, nginx, mode, message):
    first = project(tmp_path / "first", sdk_session)
    assert run_json(first, env_with_cache(sdk_session, tmp_path / "c1", XGO_REMOTE_CACHE=nginx.url))[0].rc == 0
    bad = Hostile(nginx.root, mode)
    try:
        second = checkout(first, tmp_path / "second")
        r, ev = run_json(second, env_with_cache(sdk_session, tmp_path / "c2", XGO_REMOTE_CACHE=bad.url))
    finally:
        bad.stop()
    assert r.rc == 0, r
    assert message in r.err, r.err
    assert any("/ac/" in p for p in bad.requests)
    jobs, fin = outcome(ev)
    assert fin["built"] >= 1
    assert sums(second / "dist") == sums(first / "dist")
    assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=second / "dist").returncode == 0


def test_cache_stats_gc_and_clean(tmp_path, cached_env, sdk_session):
    proj = project(tmp_path / "p", sdk_session)
    assert run_json(proj, cached_env)[0].rc == 0
    r = run_xgo("cache", "stats", env=cached_env)
    assert r.rc == 0 and "holds: 6 entries, 6 contents" in r.out, r
    # entries unused for 40 days go; a hit renews an entry
    ac = tmp_path / "xgo-cache/actions/ac"
    old = time.time() - 40 * 86400
    for e in ac.iterdir():
        os.utime(e, (old, old))
    (proj / "cmd/b/main.go").write_text(MAIN_B.replace('"b"', '"B"'))
    jobs, _ = outcome(run_json(proj, cached_env)[1])  # renews a's two entries, adds four
    assert jobs["a linux/amd64"] == "cached" and jobs["b linux/amd64"] == "ok"
    r = run_xgo("cache", "gc", env=cached_env)
    # b's old jobs and the old archives (they held the old b)
    assert r.rc == 0 and "removed: 4 entries, 4 contents" in r.out, r
    assert len(list(ac.iterdir())) == 6, "the entries just used or made stay"
    # a size limit drops the least recently used first, and their contents
    r = run_xgo("cache", "gc", "--max-size", "1", env=cached_env)
    assert r.rc == 0 and "removed: " in r.out, r
    assert list(ac.iterdir()) == [] and list((tmp_path / "xgo-cache/actions/cas").iterdir()) == []
    jobs, _ = outcome(run_json(proj, cached_env)[1])
    assert set(jobs.values()) == {"ok"}, "an empty cache builds everything again"
    r = run_xgo("cache", "clean", env=cached_env)
    assert r.rc == 0 and not (tmp_path / "xgo-cache/actions").exists(), r
    r = run_xgo("cache", "gc", "--max-size", "12Q", env=cached_env)
    assert r.rc == 2 and "'12Q'" in r.err, r
