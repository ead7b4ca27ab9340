"""Issue 15, items 7 and 9: a cache entry is used only for the job it names
and only when its bytes are an executable of the job's platform; signed
remote entries (a reader with trusted keys ignores what no trusted key
signed, with one warning); remote downloads are bounded by a limit, not
by what the server claims.

Real runs of a two-target project (linux/amd64, windows/amd64) against a
private local cache, a real nginx WebDAV store (test_cache.py) and lying
HTTP servers on 127.0.0.1."""
import hashlib
import http.server
import json
import shutil
import subprocess
import tarfile
import threading

import pytest

from conftest import run_xgo, sums, write_project
from test_cache import checkout, env_with_cache, nginx, outcome, run_json  # noqa: F401 (nginx is a fixture)
from test_hostile import one_error

MAIN = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello from p") }\n'
RELEASE = '''project { name = "p", version = "1.0.0" }
go "1.26.8"
build "p" { main = "./cmd/p", targets = matrix { goos = { "linux", "windows" }, goarch = { "amd64" } } }
archive { format = "tar.gz", format_overrides = { windows = "zip" }, name = "{name}_{os}_{arch}" }
'''
LINUX_BIN, WINDOWS_BIN = "p_linux_amd64/p", "p_windows_amd64/p.exe"


def project(path, sdk_session, extra=""):
    return write_project(path, {"cmd/p/main.go": MAIN, "release.lua": RELEASE + extra}, sdk_session)


def kind(data):
    return "elf" if data[:4] == b"\x7fELF" else "pe" if data[:2] == b"MZ" else "other"


def assert_right_binaries(proj, reference):
    """Each binary is of its platform (also inside the linux tar.gz), and
    the release is byte for byte the reference run's."""
    dist = proj / "dist"
    assert kind((dist / LINUX_BIN).read_bytes()) == "elf"
    assert kind((dist / WINDOWS_BIN).read_bytes()) == "pe"
    with tarfile.open(dist / "p_linux_amd64.tar.gz") as t:
        member = next(m for m in t.getmembers() if m.name.endswith("/p") or m.name == "p")
        assert kind(t.extractfile(member).read()) == "elf"
    assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=dist).returncode == 0
    assert sums(dist) == reference
    out = subprocess.run([dist / LINUX_BIN], capture_output=True, text=True).stdout
    assert out == "hello from p\n"


def job_sha(proj, target):
    m = json.loads((proj / "dist/manifest.json").read_text())
    return next(j["sha256"] for j in m["jobs"] if j["target"] == target)


def entry_of(ac_dir, sha):
    """The ac/ file whose content is sha (a job's entry)."""
    return next(p for p in ac_dir.iterdir() if json.loads(p.read_text())["sha256"] == sha)


def swap(a, b):
    tmp = a.with_name("swap")
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)


# ---- entries bound to their job ---------------------------------------------------------


def test_swapped_local_entries_are_refused_and_rebuilt(tmp_path, sdk_session):
    proj = project(tmp_path / "p", sdk_session)
    env = env_with_cache(sdk_session, tmp_path / "cache")
    r, _ = run_json(proj, env)
    assert r.rc == 0, r
    reference = sums(proj / "dist")
    ac = tmp_path / "cache/actions/ac"
    swap(entry_of(ac, job_sha(proj, "linux/amd64")), entry_of(ac, job_sha(proj, "windows/amd64")))
    r, ev = run_json(proj, env)
    assert r.rc == 0, r
    jobs, _ = outcome(ev)
    assert jobs == {"p linux/amd64": "ok", "p windows/amd64": "ok"}, (jobs, r.err)
    assert r.err.count("dropping it and building") == 2, r.err
    assert "is for p windows/amd64 (p_windows_amd64/p.exe)" in r.err, r.err
    assert_right_binaries(proj, reference)
    jobs, _ = outcome(run_json(proj, env)[1])
    assert set(jobs.values()) == {"cached"}, "the rebuilt jobs were stored again"


@pytest.mark.parametrize("attack", ["swap", "rewrite"])
def test_a_consistent_but_wrong_remote_pair_is_refused(tmp_path, sdk_session, nginx, attack):
    """Someone with write access to the store swaps the linux and windows
    entries (each still names a content that is there and has its sha256),
    or rewrites the linux entry to point at the windows content."""
    first = project(tmp_path / "first", sdk_session)
    assert run_json(first, env_with_cache(sdk_session, tmp_path / "c1", XGO_REMOTE_CACHE=nginx.url))[0].rc == 0
    reference = sums(first / "dist")
    ac = nginx.root / "xgo/ac"
    lin, win = entry_of(ac, job_sha(first, "linux/amd64")), entry_of(ac, job_sha(first, "windows/amd64"))
    if attack == "swap":
        swap(lin, win)
        expected = "is for p windows/amd64"
    else:
        e, w = json.loads(lin.read_text()), json.loads(win.read_text())
        e.update(sha256=w["sha256"], size=w["size"])
        lin.write_text(json.dumps(e))
        expected = "is pe/amd64, not a linux/amd64 executable"
    second = checkout(first, tmp_path / "second")
    r, ev = run_json(second, env_with_cache(sdk_session, tmp_path / "c2", XGO_REMOTE_CACHE=nginx.url,
                                            XGO_REMOTE_CACHE_READ_ONLY="1"))
    assert r.rc == 0, r
    assert expected in r.err, r.err
    jobs, _ = outcome(ev)
    assert jobs["p linux/amd64"] == "ok", (jobs, r.err)
    assert_right_binaries(second, reference)


# ---- signed remote entries ---------------------------------------------------------------


def keygen(where):
    where.mkdir(parents=True, exist_ok=True)
    r = run_xgo("cache", "keygen", "w", cwd=where)
    assert r.rc == 0 and (where / "w.key").stat().st_mode & 0o777 == 0o600, r
    return where / "w.key", where / "w.pub", r.out.strip()


def test_signed_entries_hit_and_a_rewritten_entry_is_ignored(tmp_path, sdk_session, nginx):
    first = tmp_path / "first"
    key, pub, pub_b64 = keygen(first / "keys")
    project(first, sdk_session, f'cache {{ url = "{nginx.url}", trusted_keys = {{ "keys/w.pub" }} }}\n')
    r, _ = run_json(first, env_with_cache(sdk_session, tmp_path / "c1", XGO_REMOTE_CACHE_SIGNING_KEY=str(key)))
    assert r.rc == 0, r
    reference = sums(first / "dist")
    ac = nginx.root / "xgo/ac"
    entries = [json.loads(p.read_text()) for p in ac.iterdir()]
    assert len(entries) == 4 and all(len(e.get("sig", "")) == 88 for e in entries), entries
    secret = "".join(key.read_text().splitlines()[1:-1])  # the private key's base64 body
    for p in [*ac.iterdir(), *(first / "dist").rglob("*"), *(first / ".xgo-build").rglob("*")]:
        assert not p.is_file() or secret.encode() not in p.read_bytes(), p
    assert secret not in r.err and secret not in r.out

    # a reader that trusts the key (from the build file) takes everything
    second = checkout(first, tmp_path / "second")
    r, ev = run_json(second, env_with_cache(sdk_session, tmp_path / "c2"))
    jobs, fin = outcome(ev)
    assert r.rc == 0 and set(jobs.values()) == {"cached"} and "warning" not in r.err, (jobs, r.err)

    # someone without the key points the linux entry at another linux program
    lin = entry_of(ac, job_sha(first, "linux/amd64"))
    evil = shutil.which("true")
    data = open(evil, "rb").read()
    sha = hashlib.sha256(data).hexdigest()
    (nginx.root / "xgo/cas" / sha).write_bytes(data)
    e = json.loads(lin.read_text())
    e.update(sha256=sha, size=len(data))
    lin.write_text(json.dumps(e))
    third = checkout(first, tmp_path / "third")
    r, ev = run_json(third, env_with_cache(sdk_session, tmp_path / "c3", XGO_REMOTE_CACHE_READ_ONLY="1"))
    assert r.rc == 0, r
    assert r.err.count("not signed by a trusted key") == 1, r.err
    jobs, _ = outcome(ev)
    assert jobs == {"p linux/amd64": "ok", "p windows/amd64": "cached"}, (jobs, r.err)
    assert_right_binaries(third, reference)

    # the key given in the environment, as base64, works the same
    fourth = checkout(first, tmp_path / "fourth")
    (fourth / "release.lua").write_text((fourth / "release.lua").read_text().replace('"keys/w.pub"', f'"{pub_b64}"'))
    r, ev = run_json(fourth, env_with_cache(sdk_session, tmp_path / "c4", XGO_REMOTE_CACHE_TRUSTED_KEYS=str(pub),
                                            XGO_REMOTE_CACHE_READ_ONLY="1"))
    assert r.rc == 0 and r.err.count("not signed by a trusted key") == 1, r.err


def test_a_reader_with_trusted_keys_ignores_an_unsigned_remote_with_one_warning(tmp_path, sdk_session, nginx):
    first = project(tmp_path / "first", sdk_session)
    assert run_json(first, env_with_cache(sdk_session, tmp_path / "c1", XGO_REMOTE_CACHE=nginx.url))[0].rc == 0
    reference = sums(first / "dist")
    _, pub, _ = keygen(tmp_path / "keys")
    second = checkout(first, tmp_path / "second")
    r, ev = run_json(second, env_with_cache(sdk_session, tmp_path / "c2", XGO_REMOTE_CACHE=nginx.url,
                                            XGO_REMOTE_CACHE_TRUSTED_KEYS=str(pub), XGO_REMOTE_CACHE_READ_ONLY="1"))
    assert r.rc == 0, r
    warnings = [line for line in r.err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "is unsigned; ignoring every entry no trusted key signed" in warnings[0], r.err
    jobs, fin = outcome(ev)
    assert set(jobs.values()) == {"ok"} and fin["built"] == 2, (jobs, r.err)
    assert_right_binaries(second, reference)


@pytest.mark.parametrize("env, release, needle", [
    ({"XGO_REMOTE_CACHE_SIGNING_KEY": "/nonexistent/w.key"}, "", "XGO_REMOTE_CACHE_SIGNING_KEY: no key in"),
    ({"XGO_REMOTE_CACHE_SIGNING_KEY": "-----BEGIN PRIVATE KEY-----\nU0VDUkVUU0VDUkVU\n-----END PRIVATE KEY-----\n"},
     "", "XGO_REMOTE_CACHE_SIGNING_KEY: not a PEM Ed25519 private key"),
    ({"XGO_REMOTE_CACHE_TRUSTED_KEYS": "bm90IGEga2V5"}, "", "XGO_REMOTE_CACHE_TRUSTED_KEYS: no key in 'bm90IGEga2V5'"),
    ({}, 'cache { url = "http://127.0.0.1:9/x", trusted_keys = { "../outside.pub" } }\n',
     "release.lua:5: cache: trusted_keys"),
    ({"XGO_REMOTE_CACHE_MAX_BYTES": "lots"}, "", "XGO_REMOTE_CACHE_MAX_BYTES wants a positive number"),
])
def test_bad_key_or_limit_settings_are_usage_errors(tmp_path, sdk_session, env, release, needle):
    proj = project(tmp_path / "p", sdk_session, release)
    r = run_xgo("run", cwd=proj, env=env_with_cache(sdk_session, tmp_path / "c", **env))
    one_error(r, 2, needle)
    assert "U0VDUkVU" not in r.err, "key text is never printed"
    assert not (proj / "dist").exists()


# ---- bounded downloads -------------------------------------------------------------------

STREAM_CAP = 256 << 20  # "forever": the lying server gives up after this much


class Liar:
    """Serves a real store's /ac/ entries (optionally claiming another
    size) and answers every /cas/ GET with an endless body (optionally
    with a huge Content-Length).  Counts what it sent."""

    def __init__(self, store, claim=None, length=None):
        outer = self
        self.sent, self.cas_gets = 0, 0

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *a):
                pass

            def do_GET(self):
                f = store / self.path.lstrip("/")
                if not f.is_file():
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if "/ac/" in self.path:
                    e = json.loads(f.read_text())
                    if claim is not None:
                        e["size"] = claim
                    data = json.dumps(e).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                outer.cas_gets += 1
                self.send_response(200)
                if length is not None:
                    self.send_header("Content-Length", str(length))
                self.end_headers()
                chunk = b"\0" * (1 << 20)
                try:
                    while outer.sent < STREAM_CAP:
                        self.wfile.write(chunk)
                        outer.sent += len(chunk)
                except OSError:
                    pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/xgo"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("claim, length, message", [
    (1 << 62, None, "more than the limit of 536870912 (XGO_REMOTE_CACHE_MAX_BYTES)"),
    (None, None, "is longer than the"),
    (None, 1 << 62, "is longer than the"),
])
def test_a_remote_content_is_bounded_not_what_the_server_claims(tmp_path, sdk_session, nginx, claim, length, message):
    first = project(tmp_path / "first", sdk_session)
    assert run_json(first, env_with_cache(sdk_session, tmp_path / "c1", XGO_REMOTE_CACHE=nginx.url))[0].rc == 0
    reference = sums(first / "dist")
    liar = Liar(nginx.root, claim, length)
    try:
        second = checkout(first, tmp_path / "second")
        r, ev = run_json(second, env_with_cache(sdk_session, tmp_path / "c2", XGO_REMOTE_CACHE=liar.url,
                                                XGO_REMOTE_CACHE_READ_ONLY="1"))
    finally:
        liar.stop()
    assert r.rc == 0, r
    assert message in r.err, r.err
    jobs, fin = outcome(ev)
    assert set(jobs.values()) == {"ok"}, (jobs, r.err)
    assert_right_binaries(second, reference)
    biggest = max(p.stat().st_size for p in (second / "dist").rglob("*") if p.is_file())
    if claim is not None:
        assert liar.cas_gets == 0, "refused before downloading"
    assert liar.sent < biggest + (64 << 20), f"{liar.sent} bytes streamed"
    cache = tmp_path / "c2/actions"
    assert list((cache / "tmp").iterdir()) == [], "no partial download left"
    assert all(p.stat().st_size <= biggest for p in cache.rglob("*") if p.is_file())


def test_the_download_limit_is_set_by_the_environment(tmp_path, sdk_session, nginx):
    first = project(tmp_path / "first", sdk_session)
    assert run_json(first, env_with_cache(sdk_session, tmp_path / "c1", XGO_REMOTE_CACHE=nginx.url))[0].rc == 0
    second = checkout(first, tmp_path / "second")
    r, ev = run_json(second, env_with_cache(sdk_session, tmp_path / "c2", XGO_REMOTE_CACHE=nginx.url,
                                            XGO_REMOTE_CACHE_MAX_BYTES="64K", XGO_REMOTE_CACHE_READ_ONLY="1"))
    assert r.rc == 0 and "more than the limit of 65536" in r.err, r
    jobs, _ = outcome(ev)
    assert set(jobs.values()) == {"ok"}, jobs
    assert sums(second / "dist") == sums(first / "dist")
