"""Interruption at any point (issue 10): SIGINT at 30+ moments of a full
`xgo-build run`, and SIGKILL of the xgo-build process alone at several,
across the SDK download (served slowly from a loopback server), its
extraction, the module prefetch, the builds, archiving and checksum writing.

After each interruption:
  - no process of the run survives (scanned in /proc by the run's unique
    directory in its command line or environment: go, compile, link);
  - the SDK cache holds no half-installed entry that would be used (only
    complete entries and .tmp-* leftovers, which are never used);
  - dist/ holds the previous complete release, or the new one complete (all
    of SHA256SUMS verifies), and no dist.old-* is left beside it;
and after each group the next run succeeds.

A moment is (the stderr note that starts the phase, a delay after it), so
the phases are hit on fast and slow machines alike.
"""
import hashlib
import http.server
import json
import os
import pathlib
import shutil
import signal
import subprocess
import threading
import time

import pytest

from conftest import BINARY

GO_VERSION = None  # from the session lock


def files(version_expr='env("VERSION", "1.0.0")', go="1.26.8"):
    rel = (f'project {{ name = "p", version = {version_expr} }}\ngo "{go}"\n'
           # The version in ldflags: every run builds anew (no action cache hit),
           # so that go, compile and link are running when the signal comes.
           + "".join(f'build "{x}" {{ main = "./cmd/{x}", ldflags = {{ "-X main.version={{version}}" }}, '
                     f'targets = matrix {{ goos = {{ "linux" }}, goarch = {{ "amd64" }} }} }}\n' for x in "abc")
           + 'archive { format = "tar.gz", name = "{name}_{version}_{os}_{arch}", files = { "go.mod" } }\n')
    out = {"release.lua": rel, "go.mod": "module example.com/p\n\ngo 1.26\n"}
    for x in "abc":
        out[f"cmd/{x}/main.go"] = f'package main\n\nvar version string\n\nfunc main() {{ println("{x}", version) }}\n'
    return out


class SlowMirror:
    """The session's SDK mirror over HTTP at a bounded rate, so that the
    download takes a second or two."""

    def __init__(self, mirror_dir, rate=48 << 20):
        d = pathlib.Path(mirror_dir)

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                name = self.path.split("?")[0].lstrip("/") or "index.json"
                if self.path.startswith("/?mode=json"):
                    name = "index.json"
                p = d / name
                if not p.is_file():
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = p.read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                step = 1 << 20
                try:
                    for i in range(0, len(data), step):
                        self.wfile.write(data[i:i + step])
                        time.sleep(step / rate)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d/" % self.httpd.server_address[1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def start(proj, env, args=("run",)):
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    e.update(env)
    p = subprocess.Popen([str(BINARY), *args], cwd=proj, env=e, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    lines = []  # (time, line)

    def read():
        for line in p.stderr:
            lines.append((time.monotonic(), line))

    t = threading.Thread(target=read, daemon=True)
    t.start()
    return p, lines, t


def interrupt_at(proj, env, phase, delay, sig, args=("run",)):
    """Run, send sig delay seconds after the first stderr line containing
    phase (or after the start, phase ""), wait; (rc, stderr, hit) where hit
    says the signal was sent before the run ended."""
    t0 = time.monotonic()
    p, lines, reader = start(proj, env, args)
    sent = False
    while p.poll() is None and time.monotonic() - t0 < 300:
        seen = [t for t, line in list(lines) if phase in line] if phase else [t0]
        if seen and time.monotonic() >= seen[0] + delay:
            p.send_signal(sig)
            sent = True
            break
        time.sleep(0.002)
    try:
        p.wait(timeout=120)
    except subprocess.TimeoutExpired:
        kids = subprocess.run(["ps", "-o", "pid,ppid,stat,wchan:24,args", "--ppid", str(p.pid)],
                              capture_output=True, text=True).stdout
        stack = subprocess.run(["gdb", "-p", str(p.pid), "-batch", "-ex", "thread apply all bt"],
                               capture_output=True, text=True).stdout[-3000:] if shutil.which("gdb") else ""
        p.kill()
        p.wait()
        pytest.fail(f"xgo-build still running 120 s after signal {sig} at ({phase!r}, {delay}):\n"
                    + "".join(line for _, line in lines) + "\n" + kids + stack)
    reader.join(timeout=10)
    p.stdout.close()
    p.stderr.close()
    return p.returncode, "".join(line for _, line in lines), sent


def survivors(marker):
    """Live processes whose command line or environment mentions marker."""
    found = []
    me = os.getpid()
    for d in pathlib.Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == me:
            continue
        try:
            stat = (d / "stat").read_text()
            if stat[stat.rindex(")") + 2] == "Z":
                continue
            blob = (d / "cmdline").read_bytes() + (d / "environ").read_bytes()
        except (OSError, ValueError):
            continue
        if marker.encode() in blob:
            found.append((int(d.name), (d / "cmdline").read_bytes().replace(b"\0", b" ")[:200]))
    return found


def assert_no_survivors(marker):
    deadline = time.monotonic() + 5
    while survivors(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = survivors(marker)
    for pid, _ in left:  # do not leave them to the next test
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    assert left == [], left


def dist_files(dist):
    return {str(p.relative_to(dist)): p.read_bytes() for p in sorted(dist.rglob("*")) if p.is_file()}


def assert_dist_sound(proj, previous):
    """dist/ is the previous release, or a complete new one; nothing stale."""
    dist = proj / "dist"
    # A staging directory dist.tmp-PID may stay after a signal outside the
    # runner's wait (known gap, docs/harden.md): it never takes dist/'s
    # name and is never used.  A dist.old-PID would mean a half swap.
    assert not [p.name for p in proj.iterdir() if p.name.startswith("dist.old")]
    if not dist.exists():
        assert previous is None
        return "none"
    now = dist_files(dist)
    if now == previous:
        return "previous"
    sums = {}
    for line in now["SHA256SUMS"].decode().splitlines():
        digest, name = line.split("  ", 1)
        sums[name] = digest
    assert sums, now.keys()
    for name, digest in sums.items():
        assert hashlib.sha256(now[name]).hexdigest() == digest, name
    assert "manifest.json" in now
    json.loads(now["manifest.json"])
    return "new"


def assert_sdk_cache_sound(cache):
    sdk = cache / "sdk"
    if not sdk.exists():
        return
    for p in sdk.iterdir():
        if p.name.startswith(".tmp-") or p.name.endswith(".lock"):
            continue
        # A named entry is complete: it was renamed into place whole.
        assert (p / "go" / "bin" / "go").is_file(), p
        assert (p / "sdk.json").is_file(), p


def run_ok(proj, env):
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    e.update(env)
    p = subprocess.run([str(BINARY), "run"], cwd=proj, env=e, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    return p


INTERRUPTED = (130, -signal.SIGINT)

# `run` would copy the machine's own Go (/usr/local/go, identical to the
# pinned SDK) instead of downloading it: the SDK phase of a run is driven
# through `sdk install --no-local`, the same download, verify and extract
# code the run calls; the run after it then uses that cache.
SDK_INSTALL = ("sdk", "install", "--no-local")
NO_LOCAL_GO = {}


@pytest.fixture(scope="module")
def setup(tmp_path_factory, sdk_session):
    lock = json.loads(sdk_session["lock"])
    base = tmp_path_factory.mktemp("interrupt")
    proj = base / "proj"
    for rel, text in files(go=lock["go"]).items():
        (proj / rel).parent.mkdir(parents=True, exist_ok=True)
        (proj / rel).write_text(text)
    (proj / "release.lock").write_text(sdk_session["lock"])
    env = dict(sdk_session["env"])
    run_ok(proj, env)  # warm: SDK in the session cache, std lib in GOCACHE
    return proj, env, base


SDK_MOMENTS = [("downloading", d) for d in (0.0, 0.2, 0.6, 1.0)] + \
              [("extracting", d) for d in (0.0, 0.1, 0.4, 0.8, 1.5, 3.0)] + [("installed", 0.0)]

BUILD_MOMENTS = [("", 0.0), ("", 0.03), ("prefetching", 0.0), ("prefetching", 0.05)] + \
                [("building", d) for d in (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8)] + \
                [("[1/3]", d) for d in (0.0, 0.05)] + [("[2/3]", 0.0)] + \
                [("[3/3]", d) for d in (0.0, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08)] + [("built", 0.0)]


def test_interrupt_moments_are_many():
    assert len(SDK_MOMENTS) + len(BUILD_MOMENTS) >= 30


def test_sigint_during_sdk_download_and_extraction(setup, tmp_path, sdk_session):
    proj, env, base = setup
    server = SlowMirror(sdk_session["mirror"])
    hits = 0
    try:
        for i, (phase, delay) in enumerate(SDK_MOMENTS):
            cache = tmp_path / f"cache{i}"
            e = dict(env, XGO_CACHE=str(cache), XGO_SDK_MIRROR=server.url, VERSION="1.0.0", **NO_LOCAL_GO)
            previous = dist_files(proj / "dist")
            rc, err, sent = interrupt_at(proj, e, phase, delay, signal.SIGINT, SDK_INSTALL)
            # rc 0: the run ended before (or as) the signal was sent; counted below.
            assert rc in INTERRUPTED or rc == 0, (phase, delay, rc, err)
            hits += rc in INTERRUPTED
            assert_no_survivors(str(cache))
            assert_sdk_cache_sound(cache)
            assert assert_dist_sound(proj, previous) in ("previous", "new")
            if i < len(SDK_MOMENTS) - 1:
                shutil.rmtree(cache, ignore_errors=True)
        # The next run, in the cache of the last interruption, succeeds.
        run_ok(proj, dict(env, XGO_CACHE=str(cache), XGO_SDK_MIRROR=server.url, **NO_LOCAL_GO))
    finally:
        server.close()
    assert hits >= len(SDK_MOMENTS) - 2


def test_sigint_during_builds_archives_and_checksums(setup):
    proj, env, base = setup
    outcomes = {}
    for i, (phase, delay) in enumerate(BUILD_MOMENTS):
        # A new version each time, so that every run has a new release to write.
        e = dict(env, VERSION=f"2.0.{i}")
        previous = dist_files(proj / "dist")
        forget_prefetch(proj, phase)
        rc, err, sent = interrupt_at(proj, e, phase, delay, signal.SIGINT)
        # rc 0: the run ended before (or as) the signal was sent; counted below.
        assert rc in INTERRUPTED or rc == 0, (phase, delay, rc, err)
        assert sent or phase in LATE_PHASES, f"phase {phase!r} never came: {err}"
        if rc in INTERRUPTED:
            lines = [line for line in err.splitlines() if line.startswith("xgo-build: error: ")]
            assert len(lines) <= 1, err
        assert_no_survivors(str(proj))
        state = assert_dist_sound(proj, previous)
        if rc in INTERRUPTED and phase != "built":
            # Before the new release is in place an interrupted run leaves the
            # previous one; after it ("built" is printed once dist/ is
            # swapped) the complete new one may stand, with exit 130.
            assert state == "previous", (phase, delay, err)
        outcomes[(phase, delay)] = (rc, state, sent)
    run_ok(proj, dict(env, VERSION="3.0.0"))
    # A signal sent while the run was alive is never ignored; one may reach a
    # process that has exited but is not reaped yet (counted as sent).
    ignored = [m for m, (rc, _, sent) in outcomes.items() if sent and rc == 0]
    assert len(ignored) <= 1, outcomes
    assert sum(1 for rc, _, _ in outcomes.values() if rc in INTERRUPTED) >= len(BUILD_MOMENTS) - 4, outcomes


# Phases a quick run may end before the signal: the last jobs and the swap.
LATE_PHASES = ("building", "[3/3]", "built")


def forget_prefetch(proj, phase):
    """A run skips `go mod download` when its stamp says nothing it depends
    on changed: for a prefetch moment the stamp goes, so the phase comes."""
    if phase == "prefetching":
        (proj / ".xgo-build" / "prefetch.done").unlink(missing_ok=True)


KILL_MOMENTS = [("building", 0.05), ("building", 0.3), ("building", 0.6), ("[3/3]", 0.0), ("prefetching", 0.0)]


def test_sigkill_of_xgo_build_alone_leaves_no_process_and_a_sound_dist(setup):
    """SIGKILL cannot be caught: the jobs (go, compile, link) must die with
    xgo-build all the same (each job runs in its own PID namespace where
    available: docs/runner.md)."""
    proj, env, base = setup
    for i, (phase, delay) in enumerate(KILL_MOMENTS):
        e = dict(env, VERSION=f"4.0.{i}")
        previous = dist_files(proj / "dist")
        forget_prefetch(proj, phase)
        rc, err, sent = interrupt_at(proj, e, phase, delay, signal.SIGKILL)
        assert sent or phase in LATE_PHASES, f"phase {phase!r} never came: {err}"
        assert rc == -signal.SIGKILL or rc == 0, (phase, delay, rc, err)
        assert_no_survivors(str(proj))
        assert assert_dist_sound(proj, previous) in ("previous", "new")
    run_ok(proj, dict(env, VERSION="5.0.0"))


def test_sigkill_during_sdk_install_then_the_next_run_succeeds(setup, tmp_path, sdk_session):
    proj, env, base = setup
    server = SlowMirror(sdk_session["mirror"])
    try:
        for i, (phase, delay) in enumerate([("downloading", 0.5), ("extracting", 0.5)]):
            cache = tmp_path / f"kcache{i}"
            e = dict(env, XGO_CACHE=str(cache), XGO_SDK_MIRROR=server.url, **NO_LOCAL_GO)
            rc, err, sent = interrupt_at(proj, e, phase, delay, signal.SIGKILL, SDK_INSTALL)
            assert rc == -signal.SIGKILL, (phase, rc, err)
            assert_no_survivors(str(cache))
            assert_sdk_cache_sound(cache)
        run_ok(proj, dict(env, XGO_CACHE=str(cache), XGO_SDK_MIRROR=server.url, **NO_LOCAL_GO))
    finally:
        server.close()
