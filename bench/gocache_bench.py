#!/usr/bin/env python3
"""bench/gocache_bench.py - the shared go build cache (issue #21), side by side in one run.

    python3 bench/gocache_bench.py [--subjects hello,multi] [--runs N] [--work DIR]
                                   [--goreleaser PATH] [--quick] [--scenarios P,..]
                                   [--without "remote down"]

Prepares the subjects as bench/run does (same 12 targets, release.lua,
.goreleaser.yaml, SDK, GOMODCACHE; --quick: hello on bench/run's 3 quick
targets, no GoReleaser unless installed) and a real nginx WebDAV on
127.0.0.1 as the remote (tests/cli/test_cache.py).  "The previous commit"
is the subject as it is; "this commit" appends one line to the subject's
edit file (a package every binary imports: bench/run's table).  Every
xgo-build runner gets empty local caches (action cache and GOCACHE; the SDK
and GOMODCACHE are shared, as a CI cache of the toolchain would be).  Per
subject and sample, in this order:

  fill            previous commit, an empty remote: fills it (and is the
                  "remote empty" sample: the same work as this commit)
  cold            this commit, no remote: the baseline of every ratio
  remote down     this commit, a remote nobody listens on
  fresh runner    this commit, the remote as the fill left it
  GoReleaser cold previous commit, empty GOCACHE; then its GOCACHE is
                  packed with tar --zstd (the save step, reported apart)
  GoReleaser restored  this commit: unpack the tarball + goreleaser, timed together
  shards          this commit, `run --shard K/4` on 4 runners one after the
                  other, each with empty local caches, then `merge`: without a
                  remote, and with the remote as the fill left it

The remote is restored to its state after the fill before every scenario
that reads it.  Bytes to and from the remote come from nginx's access log
(request and response sizes, every namespace).  Medians over --runs samples
(default 1), the load average before every run.  Results go to
bench/RESULTS-gocache.md (--quick: <work>/RESULTS-gocache-quick.md).
Not a test; tests/cli/test_bench.py does not run it.
"""
import argparse
import importlib.machinery
import importlib.util
import json
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests/cli"))
from test_cache import Nginx, free_port  # noqa: E402  (the tests' real nginx WebDAV store)

_loader = importlib.machinery.SourceFileLoader("benchrun", str(ROOT / "bench/run"))
_spec = importlib.util.spec_from_loader("benchrun", _loader)
br = importlib.util.module_from_spec(_spec)
_loader.exec_module(br)  # bench/run's subjects, targets, environments and timer

SCENARIOS = ["fill", "cold", "remote down", "fresh runner", "GoReleaser cold", "GoReleaser restored",
             "shards, no remote", "shards, shared remote"]
SHARDS = 4  # at most the number of targets (--quick: 3)


class Gocache:
    def __init__(self, a):
        self.a = a
        ns = argparse.Namespace(quick=a.quick, work=a.work, goreleaser=a.goreleaser, rebuild=False, xgo_base=None,
                                xgo_alt=None, prepare_only=False)
        self.b = br.Bench(ns)
        self.b.contenders = ["xgo", "goreleaser"]
        self.b.base_subjects = []
        self.work = pathlib.Path(self.b.work) / "gocache-bench"
        self.records = []  # dict(subject, scenario, wall, cpu, load, up, down, extra)
        self.nginx = None

    # -- runners and the remote

    def runner(self, name):
        """Empty local caches; the SDK and GOMODCACHE shared."""
        d = self.work / "runners" / name
        br.rmtree(str(d))
        (d / "cache").mkdir(parents=True)
        for sub in ("sdk", "gomodcache"):
            if os.path.isdir(os.path.join(self.b.cache, sub)):
                (d / "cache" / sub).symlink_to(os.path.join(self.b.cache, sub))
        env = self.b.xgo_env("", "xgo")
        env.update(XGO_CACHE=str(d / "cache"), XGO_GOCACHE=str(d / "gocache"))
        return d, env

    def log_offset(self):
        p = self.nginx.base / "logs/access.log"
        return p.stat().st_size if p.exists() else 0

    def moved(self, offset):
        """Bytes (to, from) the remote since offset of the access log."""
        up = down = 0
        with open(self.nginx.base / "logs/access.log") as f:
            f.seek(offset)
            for line in f:
                m = re.search(r" in=(\d+) out=(\d+)", line)
                if m:
                    up, down = up + int(m.group(1)), down + int(m.group(2))
        return up, down

    def save_remote(self):
        snap = self.work / "remote-after-fill"
        br.rmtree(str(snap))
        shutil.copytree(self.nginx.root, snap, symlinks=True)

    def restore_remote(self):
        br.rmtree(str(self.nginx.root))
        shutil.copytree(self.work / "remote-after-fill", self.nginx.root, symlinks=True)

    def empty_remote(self):
        br.rmtree(str(self.nginx.root))
        self.nginx.root.mkdir()

    # -- one timed command

    def timed(self, s, scenario, cmd, env, cwd=None, tag=""):
        logdir = self.work / "logs" / s["name"]
        logdir.mkdir(parents=True, exist_ok=True)
        logp = logdir / (re.sub(r"[^a-z0-9]+", "-", f"{scenario} {tag}".lower()).strip("-") + ".log")
        load = br.loadavg()
        off = self.log_offset()
        r = br.timed(cmd, cwd or s["dir"], env, str(logp))
        if r["status"] != 0:
            br.die(f"{s['name']} {scenario} failed ({r['status']}); {logp}:\n{br.tail(str(logp))}")
        r["up"], r["down"] = self.moved(off)
        r["load"] = load
        br.log(f"  {s['name']:6} {scenario:22} {tag:9} {r['wall']:7.2f}s wall {r['cpu']:7.2f}s cpu "
               f"up {r['up'] / 2**20:6.1f} MiB down {r['down'] / 2**20:6.1f} MiB (load {load:.2f})")
        return r, logp

    def xgo_run(self, s, scenario, name, remote=None, shard=None):
        d, env = self.runner(name)
        if remote:
            env["XGO_REMOTE_CACHE"] = remote
        dist = d / "dist"
        cmd = [br.XGO, "run", "--json", "--dist", str(dist)] + (["--shard", shard] if shard else []) + ["release.lua"]
        r, logp = self.timed(s, scenario, cmd, env, tag=shard.replace("/", "of") if shard else "")
        ev = [json.loads(x) for x in logp.read_text().splitlines() if x.startswith("{")]
        r["gocache"] = next((e for e in ev if e.get("event") == "gocache"), {})
        r["dist"] = dist
        return r

    def record(self, s, scenario, r, **extra):
        rec = dict(subject=s["name"], scenario=scenario, wall=r["wall"], cpu=r["cpu"], load=r["load"],
                   up=r["up"], down=r["down"], drain_ms=r.get("gocache", {}).get("drain_ms"))
        rec.update(extra)
        self.records.append(rec)

    # -- the scenarios of one sample

    def want(self, scenario):
        return not self.a.scenarios or any(scenario.startswith(x) for x in self.a.scenarios.split(","))

    def skipped(self, scenario):
        return any(scenario.startswith(x) for x in (self.a.without or "").split(",") if x)

    def sample(self, s):
        if self.want("fill"):
            self.sample_single(s)
        for scenario, remote in (("shards, no remote", None), ("shards, shared remote", self.nginx.url)):
            if self.want(scenario):
                if remote:
                    self.restore_remote()
                s["dir_edit"].write_text(s["this"])
                self.shards(s, scenario, remote)
        s["dir_edit"].write_text(s["original"])

    def sample_single(self, s):
        """The scenarios of one runner each; the fill first (the others need its remote)."""
        edit = s["dir_edit"] = pathlib.Path(s["dir"]) / s["spec"]["edit"]
        prev, this = s["original"], s["this"]
        dead = f"http://127.0.0.1:{free_port()}/xgo"
        edit.write_text(prev)
        self.empty_remote()
        r = self.xgo_run(s, "fill", "fill", remote=self.nginx.url)
        self.record(s, "fill", r)
        self.save_remote()
        edit.write_text(this)
        self.record(s, "cold", self.xgo_run(s, "cold", "cold"))
        if not self.skipped("remote down"):
            self.record(s, "remote down", self.xgo_run(s, "remote down", "down", remote=dead))
        self.restore_remote()
        self.record(s, "fresh runner", self.xgo_run(s, "fresh runner", "fresh", remote=self.nginx.url))
        if self.b.goreleaser:
            self.goreleaser(s, edit, prev, this)

    def goreleaser(self, s, edit, prev, this):
        gc = pathlib.Path(self.b.gocache(s["name"], "goreleaser"))
        env = self.b.goreleaser_env(s["name"])
        cmd = [self.b.goreleaser, "release", "--snapshot", "--clean", "--skip=publish"]
        edit.write_text(prev)
        br.rmtree(str(gc))
        gc.mkdir(parents=True)
        r, _ = self.timed(s, "GoReleaser cold", cmd, env)
        tarball = self.work / "gocache.tar.zst"
        t0 = time.monotonic()
        subprocess.run(["tar", "--zstd", "-cf", str(tarball), "-C", str(gc), "."], check=True)
        save = time.monotonic() - t0
        self.record(s, "GoReleaser cold", r, save_s=save, tarball=tarball.stat().st_size)
        edit.write_text(this)
        br.rmtree(str(gc))
        gc.mkdir(parents=True)
        sh = f"tar --zstd -xf {tarball} -C {gc} && exec \"$@\""
        r, _ = self.timed(s, "GoReleaser restored", ["sh", "-c", sh, "sh"] + cmd, env)
        self.record(s, "GoReleaser restored", r)

    def shards(self, s, scenario, remote):
        n = min(SHARDS, len(s["targets"]))
        runs = [self.xgo_run(s, scenario, f"shard{k}", remote=remote, shard=f"{k}/{n}") for k in range(1, n + 1)]
        d, env = self.runner("merge")
        m, _ = self.timed(s, scenario, [br.XGO, "merge", "-q", "--dist", str(d / "dist")] +
                          [str(r["dist"]) for r in runs], env, tag="merge")
        slow = max(runs, key=lambda r: r["wall"])
        self.record(s, scenario, dict(wall=slow["wall"], cpu=sum(r["cpu"] for r in runs), load=runs[0]["load"],
                                      up=sum(r["up"] for r in runs), down=sum(r["down"] for r in runs)),
                    merge_s=m["wall"], walls=[r["wall"] for r in runs])

    # -- the report

    def med(self, subject, scenario, key="wall"):
        xs = [r[key] for r in self.records if r["subject"] == subject and r["scenario"] == scenario
              and r.get(key) is not None]
        return statistics.median(xs) if xs else None

    def report(self, subjects, partial):
        loads = [r["load"] for r in self.records]
        lines = ["# The shared go build cache (bench/gocache_bench.py)", "",
                 f"Written by `bench/gocache_bench.py{' --quick' if self.a.quick else ''}`"
                 f"{' (partial: interrupted or still running)' if partial else ''}.", "",
                 f"- machine: {os.cpu_count()} cores; load average (1 min) before the runs: "
                 f"{min(loads):.2f}-{max(loads):.2f}, median {statistics.median(loads):.2f}" if loads else "",
                 f"- {len(self.b.targets)} targets, {self.a.runs} sample(s) per scenario, medians (min-max); "
                 "every xgo-build runner with empty local caches; remote = nginx WebDAV on 127.0.0.1",
                 "- bytes: every request to the remote (action cache and go build cache), from nginx's log", ""]
        verdicts = []
        for subj in subjects:
            cold = self.med(subj, "cold")
            if cold is None:
                continue
            ccpu = self.med(subj, "cold", "cpu")
            lines += [f"## {subj}", "", "| scenario | wall s | x cold | CPU s | CPU x cold | MiB to / from the remote "
                      "| notes |", "| --- | --- | --- | --- | --- | --- | --- |"]
            for sc in SCENARIOS:
                rs = [r for r in self.records if r["subject"] == subj and r["scenario"] == sc]
                if not rs:
                    continue
                w = [r["wall"] for r in rs]
                note = []
                if sc == "fill":
                    note.append("= remote empty")
                if rs[0].get("drain_ms") is not None:
                    note.append(f"uploads after the last job {self.med(subj, sc, 'drain_ms') / 1000:.1f} s")
                if rs[0].get("tarball"):
                    save = self.med(subj, sc, "save_s")
                    note.append(f"tar --zstd{f' save {save:.1f} s,' if save is not None else ''} "
                                f"{self.med(subj, sc, 'tarball') / 2**20:.0f} MiB")
                if "merge_s" in rs[0]:
                    note.append(f"slowest of {len(rs[0]['walls'])} shards; CPU = their sum; merge {self.med(subj, sc, 'merge_s'):.1f} s;"
                                f" shards {' '.join(f'{x:.0f}' for x in rs[0]['walls'])} s")
                lines.append(f"| {sc} | {statistics.median(w):.1f} ({min(w):.1f}-{max(w):.1f}) | "
                             f"{statistics.median(w) / cold:.2f} | {self.med(subj, sc, 'cpu'):.1f} | "
                             f"{self.med(subj, sc, 'cpu') / ccpu:.2f} | "
                             f"{self.med(subj, sc, 'up') / 2**20:.1f} / {self.med(subj, sc, 'down') / 2**20:.1f} | "
                             f"{'; '.join(note)} |")
            lines.append("")

            def v(what, x, ok):
                if x is not None:
                    verdicts.append(f"| {subj}: {what} | {x:.2f} | {'PASS' if ok(x) else 'MISS'} |")
            fresh, gr, grr = self.med(subj, "fresh runner"), self.med(subj, "GoReleaser cold"), \
                self.med(subj, "GoReleaser restored")
            v("fresh runner <= 0.2x xgo-build cold", fresh / cold, lambda x: x <= 0.2)
            if gr:
                v("fresh runner <= 0.15x GoReleaser cold", fresh / gr, lambda x: x <= 0.15)
                v("GoReleaser restored / fresh runner >= 2", grr / fresh, lambda x: x >= 2)
            for sc, what in (("fill", "remote empty"), ("remote down", "remote down")):
                if self.med(subj, sc) is None:
                    continue  # --without
                v(f"{what} <= 1.05x cold (wall)", self.med(subj, sc) / cold, lambda x: x <= 1.05)
                v(f"{what} <= 1.05x cold (CPU)", self.med(subj, sc, "cpu") / ccpu, lambda x: x <= 1.05)
        lines += ["## Targets", "", "| target | ratio | verdict |", "| --- | --- | --- |"] + verdicts + [""]
        lines += [f"- {n}" for n in self.a.note or []]
        text = "\n".join(lines) + "\n"
        out = pathlib.Path(self.a.results)
        out.write_text(text)
        (self.work / "records.json").write_text(json.dumps(self.records, indent=1, default=str))
        return text

    def main(self):
        b = self.b
        if self.a.report_only:
            self.records = json.loads((self.work / "records.json").read_text())
            print(self.report(list(dict.fromkeys(r["subject"] for r in self.records)), partial=False))
            return
        b.ensure_go()
        b.ensure_xgo()
        b.ensure_goreleaser()
        self.work.mkdir(parents=True, exist_ok=True)
        prepared = [b.prepare_subject(n) for n in self.a.subjects.split(",")]
        for s in prepared:
            s["dir_edit"] = pathlib.Path(s["dir"]) / s["spec"]["edit"]
            s["this"] = s["original"] + f'\nvar XgoBenchEdit = "gocache bench {time.time_ns()}"\n'
        if self.a.append and (self.work / "records.json").exists():
            self.records = json.loads((self.work / "records.json").read_text())
        self.nginx = Nginx(self.work / f"nginx-{os.getpid()}-{time.time_ns()}")
        try:
            done = list(dict.fromkeys(r["subject"] for r in self.records))
            for s in prepared:
                br.log(f"measuring {s['name']}: {len(s['jobs'])} jobs, {self.a.runs} sample(s)")
                for _ in range(self.a.runs):
                    self.sample(s)
                    self.report(list(dict.fromkeys(done + [s["name"]])), partial=True)
                done = list(dict.fromkeys(done + [s["name"]]))
            print(self.report(done, partial=False))
        finally:
            self.nginx.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subjects", default="hello,multi", help="comma-separated, of bench/run's (default hello,multi)")
    ap.add_argument("--runs", type=int, default=1, help="samples of every scenario (default 1)")
    ap.add_argument("--work", default=os.environ.get("XGO_BENCH_WORK", "/tmp/xgo-bench"),
                    help="bench/run's work directory (subjects, SDK, tools; default /tmp/xgo-bench)")
    ap.add_argument("--goreleaser", help="the goreleaser binary (else bench/run's; installed unless --quick)")
    ap.add_argument("--quick", action="store_true", help="bench/run's 3 quick targets")
    ap.add_argument("--results", help="default bench/RESULTS-gocache.md; --quick: <work>/RESULTS-gocache-quick.md")
    ap.add_argument("--note", action="append", help="a line for the notes (repeatable)")
    ap.add_argument("--scenarios", help="only these (prefixes: fill = the single-runner ones, shards); "
                                        "the shards without the fill use the remote an earlier fill left")
    ap.add_argument("--without", help="leave out these single-runner scenarios (prefixes; only \"remote down\" "
                                      "can be: the others are what the ratios need)")
    ap.add_argument("--append", action="store_true", help="add to <work>'s records.json instead of starting anew")
    ap.add_argument("--report-only", action="store_true", help="write the results of <work>'s records.json again")
    a = ap.parse_args()
    if not a.results:
        a.results = os.path.join(a.work, "RESULTS-gocache-quick.md") if a.quick else \
            str(ROOT / "bench/RESULTS-gocache.md")
    Gocache(a).main()


if __name__ == "__main__":
    main()
