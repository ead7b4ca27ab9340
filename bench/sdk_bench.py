#!/usr/bin/env python3
"""bench/sdk_bench.py - how fast a cached Go SDK is resolved and verified.

    python3 bench/sdk_bench.py [GOROOT] [--runs N]

Packs GOROOT (default: `go env GOROOT`) into a go.dev-style archive, locks a
throwaway project against it (file:// mirror) and then times, medians of N runs:

  warm resolve   `xgo-build sdk path` on a cached SDK: process start, release.lua,
                 release.lock, and the cheap check (stat fingerprint of the tree)
  full verify    `xgo-build sdk verify`: every file re-hashed (tree digest), with
                 1 and 2 hashing threads (XGO_TD_THREADS)
  sha256sum      `find -type f -print0 | xargs -0 sha256sum` over the same files,
                 and the same with xargs -P2, as the baseline

Everything runs with a warm page cache (a first untimed run reads the files).
Not a test: it prints numbers; the target is a warm resolve under 0.3 s.
"""
import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
XGO = ROOT / "build" / "xgo-build"


def timed(argv, runs, env=None, shell=False):
    """Median wall time and median CPU time (user+sys of the children): the
    CPU time does not depend on what else the machine is doing."""
    subprocess.run(argv, env=env, shell=shell, check=True, capture_output=True)  # warm up
    ts, cpu = [], []
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(argv, env=env, shell=shell, check=True, capture_output=True)
        ts.append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return statistics.median(ts), statistics.median(cpu)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--runs")]
    runs = 7
    for a in sys.argv[1:]:
        if a.startswith("--runs="):
            runs = int(a.split("=", 1)[1])
    goroot = pathlib.Path(args[0] if args else subprocess.run(
        ["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip())
    version = (goroot / "VERSION").read_text().splitlines()[0][2:]
    work = pathlib.Path(tempfile.mkdtemp(prefix="xgo-bench-"))
    try:
        subprocess.run(["sh", str(ROOT / "toolchains" / "pack-local-sdk.sh"), "-g", str(goroot),
                        "-o", str(work / "mirror"), "-l", "1"], check=True, capture_output=True)
        proj = work / "proj"
        proj.mkdir()
        (proj / "release.lua").write_text(
            'project { name = "b", version = "0" }\n'
            f'go "{version}"\n'
            'build "b" { targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }\n')
        env = dict(os.environ, XGO_CACHE=str(work / "cache"))
        rl = str(proj / "release.lua")
        subprocess.run([str(XGO), "lock", "-q", "--sdk-mirror", f"file://{work / 'mirror'}", rl],
                       env=env, check=True)
        root = subprocess.run([str(XGO), "sdk", "path", "-f", rl], env=env, check=True,
                              capture_output=True, text=True).stdout.strip()
        files = sum(len(f) for _, _, f in os.walk(root))
        size = sum(os.lstat(os.path.join(d, n)).st_size for d, _, fs in os.walk(root) for n in fs)
        mb = size / 1e6

        warm = timed([str(XGO), "sdk", "path", "-f", rl], runs, env)
        v1 = timed([str(XGO), "sdk", "verify"], runs, dict(env, XGO_TD_THREADS="1"))
        v2 = timed([str(XGO), "sdk", "verify"], runs, dict(env, XGO_TD_THREADS="2"))
        q = shutil.which("sha256sum")
        s1 = timed(f"cd '{root}' && find . -type f -print0 | xargs -0 {q} >/dev/null", runs, shell=True)
        s2 = timed(f"cd '{root}' && find . -type f -print0 | xargs -0 -P2 -n 2000 {q} >/dev/null", runs, shell=True)

        load = os.getloadavg()[0]
        print(f"SDK: go {version}, {files} files, {mb:.0f} MB, {os.cpu_count()} CPUs, load {load:.1f}, "
              f"medians of {runs} runs (wall, CPU = user+sys)")
        rows = [("warm resolve (sdk path: Lua, lock, cheap check)", warm, None),
                ("full verify, 1 thread", v1, mb), ("full verify, 2 threads", v2, mb),
                ("find | xargs sha256sum", s1, mb), ("find | xargs -P2 sha256sum", s2, mb)]
        for name, (wall, cpu), size in rows:
            rate = f"{size / wall:6.0f} MB/s" if size else "target < 0.3 s"
            print(f"  {name:48s} {wall:6.3f} s wall  {cpu:6.3f} s CPU  {rate}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
