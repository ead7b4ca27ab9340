#!/usr/bin/env python3
"""bench/gocache_bench.py - the go build cache through GOCACHEPROG (docs/gocache.md).

    python3 bench/gocache_bench.py [--runs N] [--project DIR] [--edit FILE]

On a copy of examples/hello (or --project), "the previous commit" is the
project as it is and "this commit" appends one line to --edit (default
cmd/hello/main.go; pick a package every binary imports for a project with
several).  Every scenario times `xgo-build run` of this commit, N times
(default 3), each time with the caches the scenario says:

  cold          empty local caches (action cache and GOCACHE), no remote
  warm local    the local caches of a run of the previous commit, no remote
  fresh runner  empty local caches, the remote (a real nginx WebDAV on
                127.0.0.1) filled by a run of the previous commit
  remote down   empty local caches, a remote nobody listens on

and prints medians (min-max) of wall time, ratios to cold, and the bytes
moved to and from the remote (the run's "gocache" event); the results also
go to bench/RESULTS-gocache.md.  Targets (issue #21): fresh runner at most
0.2x of cold; remote down at most 1.05x of cold.  Not a test.
"""
import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
XGO = ROOT / "build" / "xgo-build"
sys.path.insert(0, str(ROOT / "tests/cli"))
from test_cache import Nginx, free_port  # noqa: E402  (the tests' real nginx WebDAV store)


def run(proj, env):
    """One `run --json`: wall seconds and the gocache event (or {})."""
    t = time.perf_counter()
    p = subprocess.run([XGO, "run", "--json"], cwd=proj, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"run failed in {proj}:\n{p.stderr}")
    ev = [json.loads(line) for line in p.stdout.splitlines()]
    return wall, next((e for e in ev if e["event"] == "gocache"), {})


class Bench:
    def __init__(self, work, project, edit):
        self.work, self.n = work, 0
        self.base = work / "previous"
        shutil.copytree(project, self.base, ignore=shutil.ignore_patterns("dist", ".xgo-build"))
        self.edit = edit
        self.sdk_cache = work / "sdk-cache"
        env = dict(os.environ, XGO_CACHE=str(self.sdk_cache), XGO_GOCACHE=str(work / "sdk-gocache"))
        goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
        subprocess.run([XGO, "sdk", "import", "-q", goroot], cwd=self.base, env=env, check=True)

    def env(self, name, **extra):
        """Fresh local caches for one runner (the SDK shared)."""
        d = self.work / name
        (d / "cache").mkdir(parents=True, exist_ok=True)
        if (self.sdk_cache / "sdk").exists() and not (d / "cache/sdk").exists():
            (d / "cache/sdk").symlink_to(self.sdk_cache / "sdk")
        env = dict(os.environ, XGO_CACHE=str(d / "cache"), XGO_GOCACHE=str(d / "gocache"))
        env.pop("XGO_REMOTE_CACHE", None)
        env.update(extra)
        return env

    def checkout(self, edited):
        self.n += 1
        proj = self.work / f"checkout-{self.n}"
        shutil.copytree(self.base, proj, ignore=shutil.ignore_patterns("dist", ".xgo-build"))
        if edited:
            with open(proj / self.edit, "a") as f:
                f.write("\nvar xgoBenchEdit = 1\n")
        return proj

    def scenario(self, name, remote=None, previous_local=False):
        env = self.env(f"{name}-{self.n}")
        if remote:
            env["XGO_REMOTE_CACHE"] = remote
        if previous_local:
            run(self.checkout(False), env)
        return run(self.checkout(True), env)


def summary(xs):
    return f"{statistics.median(xs):.1f} s ({min(xs):.1f}-{max(xs):.1f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--project", default=str(ROOT / "examples/hello"))
    ap.add_argument("--edit", default="cmd/hello/main.go")
    a = ap.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="xgo-gocache-bench-"))
    nginx = None
    try:
        b = Bench(work, pathlib.Path(a.project), a.edit)
        nginx = Nginx(work / "nginx")
        fill_wall, fill = run(b.checkout(False), b.env("filler", XGO_REMOTE_CACHE=nginx.url))
        dead = f"http://127.0.0.1:{free_port()}/x"
        res = {k: [] for k in ("cold", "warm local", "fresh runner", "remote down")}
        moved = {}
        for i in range(a.runs):
            for k in res:
                w, st = b.scenario(k.replace(" ", "-"), remote=nginx.url if k == "fresh runner" else
                                   dead if k == "remote down" else None, previous_local=k == "warm local")
                res[k].append(w)
                moved[k] = (st.get("bytes_down", 0), st.get("bytes_up", 0))
        cold = statistics.median(res["cold"])
        load = os.getloadavg()
        lines = [
            "# The go build cache through GOCACHEPROG (bench/gocache_bench.py)",
            "",
            f"- machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end",
            f"- project: {pathlib.Path(a.project).name} (edit: one line appended to {a.edit}), "
            f"{a.runs} runs each, medians (min-max)",
            f"- filling the remote (a run of the previous commit): {fill_wall:.1f} s, "
            f"{fill.get('bytes_up', 0) / 2**20:.1f} MiB uploaded",
            "",
            "| scenario | wall | x cold | MiB from / to the remote |",
            "| --- | --- | --- | --- |",
        ]
        for k, xs in res.items():
            down, up = moved[k]
            lines.append(f"| {k} | {summary(xs)} | {statistics.median(xs) / cold:.2f} | "
                         f"{down / 2**20:.1f} / {up / 2**20:.1f} |")
        fresh = statistics.median(res["fresh runner"]) / cold
        down = statistics.median(res["remote down"]) / cold
        lines += ["", f"Targets: fresh runner at most 0.2x cold ({'PASS' if fresh <= 0.2 else 'MISS'}: {fresh:.2f}), "
                  f"remote down at most 1.05x cold ({'PASS' if down <= 1.05 else 'MISS'}: {down:.2f})."]
        text = "\n".join(lines) + "\n"
        print(text)
        (ROOT / "bench/RESULTS-gocache.md").write_text(text)
    finally:
        if nginx:
            nginx.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
