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
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
XGO = ROOT / "build" / "xgo-build"


def timed(argv, runs, env=None, shell=False):
    subprocess.run(argv, env=env, shell=shell, check=True, capture_output=True)  # warm up
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, env=env, shell=shell, check=True, capture_output=True)
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


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

        print(f"SDK: go {version}, {files} files, {mb:.0f} MB, {os.cpu_count()} CPUs, medians of {runs} runs")
        print(f"  warm resolve (sdk path, cheap check)   {warm * 1000:7.1f} ms   target < 300 ms")
        print(f"  full verify, 1 thread                   {v1:7.2f} s   {mb / v1:6.0f} MB/s")
        print(f"  full verify, 2 threads                  {v2:7.2f} s   {mb / v2:6.0f} MB/s")
        print(f"  find | xargs sha256sum                  {s1:7.2f} s   {mb / s1:6.0f} MB/s")
        print(f"  find | xargs -P2 sha256sum              {s2:7.2f} s   {mb / s2:6.0f} MB/s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
