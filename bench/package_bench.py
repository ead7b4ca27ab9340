#!/usr/bin/env python3
"""package_bench.py - packaging and hashing speed against the shell tools.

Not a test.  Run after `ninja test-tools`:

    python3 bench/package_bench.py [--reps 5] [--work /tmp/xgo-pkg-bench]

1. Archive creation: 12 Go binaries (the SDK's own tools, cycled to twelve
   files of 5-15 MB, each made distinct) packaged one archive per binary,
   as for 12 targets, with `pkgtool archive -f tar.gz -l L` (libarchive,
   sha256 computed while writing, fsync + rename) against
   `tar --sort=name --mtime=@N --owner=0 --group=0 --numeric-owner -cf - F |
   gzip -n -L` at the same level L (6 = gzip's default, and 9).
2. Hashing a 1 GiB file: `pkgtool hash` (OpenSSL EVP) against `sha256sum`.

Contenders alternate (A B A B ...) within one run; medians are reported.
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKGTOOL = os.path.join(ROOT, "build", "tests", "tools", "pkgtool")
GOTOOLS = ["/usr/local/go/bin/go"] + [
    os.path.join("/usr/local/go/pkg/tool/linux_amd64", t)
    for t in ("fix", "vet", "link", "cover", "asm")
]
EPOCH = "1700000000"


def prepare(work):
    bins = os.path.join(work, "bins")
    os.makedirs(bins, exist_ok=True)
    files = []
    for i in range(12):
        src = GOTOOLS[i % len(GOTOOLS)]
        dst = os.path.join(bins, "app%02d" % i)
        if not os.path.exists(dst):
            with open(src, "rb") as f, open(dst, "wb") as g:
                shutil.copyfileobj(f, g)
                g.write(b"variant %d\n" % i)  # make every file distinct
            os.chmod(dst, 0o755)
        files.append(dst)
    big = os.path.join(work, "1GiB.bin")
    if not os.path.exists(big) or os.path.getsize(big) != 1 << 30:
        with open(big, "wb") as f:
            for _ in range(1024):
                f.write(os.urandom(1 << 20))
    return files, big


def run_lib(files, out, level):
    for f in files:
        dest = os.path.join(out, "lib_%s.tar.gz" % os.path.basename(f))
        subprocess.run([PKGTOOL, "archive", "-f", "tar.gz", "-t", EPOCH, "-l", str(level),
                        dest, "%s=%s" % (os.path.basename(f), f)],
                       check=True, stdout=subprocess.DEVNULL)


def run_shell(files, out, level):
    for f in files:
        dest = os.path.join(out, "sh_%s.tar.gz" % os.path.basename(f))
        cmd = ("tar --sort=name --mtime=@%s --owner=0 --group=0 --numeric-owner "
               "-C '%s' -cf - '%s' | gzip -n -%d > '%s'"
               % (EPOCH, os.path.dirname(f), os.path.basename(f), level, dest))
        subprocess.run(["sh", "-c", cmd], check=True)


CPU = []  # CPU seconds (user + sys of the children) of the last timed() call


def timed(fn, *args, **kw):
    """Wall seconds of fn; its children's CPU seconds go to CPU[-1].  CPU time
    is reported too because the machine may be shared: wall time then
    measures the neighbours as much as the contenders."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    fn(*args, **kw)
    wall = time.monotonic() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return wall


def alternate(name_a, fa, name_b, fb, reps):
    ta, tb, ca, cb = [], [], [], []
    for _ in range(reps):
        ta.append(fa())
        ca.append(CPU[-1])
        tb.append(fb())
        cb.append(CPU[-1])
    ma, mb = statistics.median(ta), statistics.median(tb)
    for name, t, c in ((name_a, ta, ca), (name_b, tb, cb)):
        print("  %-28s wall median %7.3f s (%s); cpu median %7.3f s"
              % (name, statistics.median(t), " ".join("%.2f" % x for x in t),
                 statistics.median(c)))
    print("  cpu ratio %s/%s: %.2fx" % (name_a.split()[0], name_b.split()[0],
                                      statistics.median(ca) / statistics.median(cb)))
    return ma, mb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--work", default="/tmp/xgo-pkg-bench")
    ap.add_argument("--only", choices=["archive", "hash"], help="run one part")
    ap.add_argument("--levels", default="6,9", help="gzip levels to compare")
    args = ap.parse_args()
    if not os.access(PKGTOOL, os.X_OK):
        sys.exit("build pkgtool first: ninja test-tools")
    files, big = prepare(args.work)
    out = os.path.join(args.work, "out")
    os.makedirs(out, exist_ok=True)
    total = sum(os.path.getsize(f) for f in files)
    print("cores: %d (os.cpu_count), affinity %d; load average %.1f %.1f %.1f"
          % ((os.cpu_count(), len(os.sched_getaffinity(0))) + os.getloadavg()))
    print("inputs: %d binaries, %.1f MB total" % (len(files), total / 1e6))
    for f in files + [big]:  # warm the page cache
        with open(f, "rb") as fh:
            while fh.read(1 << 20):
                pass

    for level in [int(x) for x in args.levels.split(",")] if args.only != "hash" else []:
        print("archive creation, gzip level %d, %d reps:" % (level, args.reps))
        ma, mb = alternate("pkgtool (libarchive)", lambda: timed(run_lib, files, out, level),
                           "tar | gzip -n", lambda: timed(run_shell, files, out, level),
                           args.reps)
        lib_size = sum(os.path.getsize(os.path.join(out, "lib_%s.tar.gz" % os.path.basename(f)))
                       for f in files)
        sh_size = sum(os.path.getsize(os.path.join(out, "sh_%s.tar.gz" % os.path.basename(f)))
                      for f in files)
        print("  wall ratio pkgtool/shell: %.2fx (target <= 1.0x); sizes %.2f MB vs %.2f MB"
              % (ma / mb, lib_size / 1e6, sh_size / 1e6))

    if args.only != "hash":
        level = 6
        print("12 archives on both cores, gzip level %d, %d reps:" % (level, args.reps))
        def lib_pool():
            subprocess.run([PKGTOOL, "batch", "-j", "2", "-t", EPOCH, "-l", str(level), out]
                           + files, check=True)
        def shell_pool():
            cmd = ("printf '%%s\\n' \"$@\" | xargs -P 2 -I F sh -c "
                   "'tar --sort=name --mtime=@%s --owner=0 --group=0 --numeric-owner "
                   "-C \"$(dirname F)\" -cf - \"$(basename F)\" | gzip -n -%d > %s/sh_$(basename F).tar.gz'"
                   % (EPOCH, level, out))
            subprocess.run(["sh", "-c", cmd, "sh"] + files, check=True)
        ma, mb = alternate("pkgtool batch -j 2 (threads)", lambda: timed(lib_pool),
                           "xargs -P 2 tar | gzip -n", lambda: timed(shell_pool), args.reps)
        print("  wall ratio pkgtool/shell: %.2fx" % (ma / mb))
    if args.only == "archive":
        return
    print("hashing 1 GiB, %d reps:" % args.reps)
    ma, mb = alternate(
        "pkgtool hash (EVP sha256)",
        lambda: timed(subprocess.run, [PKGTOOL, "hash", big], check=True, stdout=subprocess.DEVNULL),
        "sha256sum",
        lambda: timed(subprocess.run, ["sha256sum", big], check=True, stdout=subprocess.DEVNULL),
        args.reps)
    print("  throughput: pkgtool %.0f MB/s, sha256sum %.0f MB/s; ratio %.2fx (target >= 0.9x)"
          % ((1 << 30) / ma / 1e6, (1 << 30) / mb / 1e6, mb / ma))


if __name__ == "__main__":
    main()
