#!/usr/bin/env python3
"""bench/cache_bench.py - a no-op rerun with the action cache.

    python3 bench/cache_bench.py [--runs N] [--project DIR]

On a copy of examples/hello (11 targets, archives, SHA256SUMS) with a private
XGO_CACHE (the machine's GOROOT imported as the SDK) and a private GOCACHE,
after one untimed run that fills both, it alternates (A B A B ...):

  A  `xgo-build run`             nothing changed: every job and archive from
                                 the action cache, no go build
  B  `xgo-build run --no-cache`  the same run without the action cache: every
                                 go build runs on the warm GOCACHE, every
                                 archive is compressed again

and prints medians (min-max) of wall and CPU time (user+sys of xgo-build and
its children), the ratio B/A and the machine's core count; the results also
go to bench/RESULTS-cache.md.  Targets (issue #8): A under 0.2 s and at least
10x faster than B.  Not a test.
"""
import argparse
import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
XGO = ROOT / "build" / "xgo-build"


def timed(argv, cwd, env):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def summary(xs):
    return f"{statistics.median(xs):.3f} s ({min(xs):.3f}-{max(xs):.3f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--project", default=str(ROOT / "examples/hello"))
    a = ap.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="xgo-cache-bench-"))
    try:
        proj = work / "project"
        shutil.copytree(a.project, proj, ignore=shutil.ignore_patterns("dist", ".xgo-build"))
        env = dict(os.environ, XGO_CACHE=str(work / "cache"), XGO_GOCACHE=str(work / "gocache"))
        goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
        subprocess.run([XGO, "sdk", "import", "-q", goroot], cwd=proj, env=env, check=True)
        subprocess.run([XGO, "run", "-q"], cwd=proj, env=env, check=True)  # fills GOCACHE and the action cache
        subprocess.run([XGO, "run", "-q"], cwd=proj, env=env, check=True)  # and the go list state
        runs = {"A": [], "B": []}
        for i in range(a.runs):
            for k in ("AB" if i % 2 == 0 else "BA"):
                argv = [XGO, "run", "-q"] + (["--no-cache"] if k == "B" else [])
                runs[k].append(timed(argv, proj, env))
        wa, ca = [w for w, _ in runs["A"]], [c for _, c in runs["A"]]
        wb, cb = [w for w, _ in runs["B"]], [c for _, c in runs["B"]]
        ratio = statistics.median(wb) / statistics.median(wa)
        load = os.getloadavg()
        lines = [
            "# No-op rerun with the action cache (bench/cache_bench.py)",
            "",
            f"- machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end",
            f"- project: {pathlib.Path(a.project).name}, {a.runs} alternating runs each, medians (min-max)",
            "",
            "| run | wall | CPU (user+sys) |",
            "| --- | --- | --- |",
            f"| A `xgo-build run` (nothing changed, action cache) | {summary(wa)} | {summary(ca)} |",
            f"| B `xgo-build run --no-cache` (warm GOCACHE) | {summary(wb)} | {summary(cb)} |",
            "",
            f"B/A: {ratio:.1f}x.  Targets: A under 0.2 s ({'PASS' if statistics.median(wa) < 0.2 else 'MISS'}), "
            f"at least 10x ({'PASS' if ratio >= 10 else 'MISS'}).",
        ]
        text = "\n".join(lines) + "\n"
        print(text)
        (ROOT / "bench/RESULTS-cache.md").write_text(text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
