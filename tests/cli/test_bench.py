"""bench/run --quick: the benchmark script runs end to end, so it cannot rot.

The benchmark suite itself is not part of `ninja test`; this one quick run
is (one subject, 3 targets, 1 repetition, GoReleaser only if installed).
It writes its results to a temporary file, never to bench/RESULTS.md.
"""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, BINARY


def _go_version():
    go = shutil.which("go")
    if not go:
        return None
    out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True)
    return out.stdout.strip()


@pytest.mark.skipif(_go_version() != "go1.26.8",
                    reason="bench/run pins go 1.26.8 (examples/hello/release.lock)")
def test_bench_quick(tmp_path):
    assert BINARY.exists(), "run ninja first"
    results = tmp_path / "RESULTS-quick.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run"), "--quick", "--work", str(tmp_path / "work"),
         "--results", str(results)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={k: v for k, v in os.environ.items() if not k.startswith("XGO_")})
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = proc.stdout
    # the ratio table, with every state and the contenders that need no install
    assert "subject" in out and "xgo-build run s (min-max)" in out, out
    for state in ("cold", "warm", "change"):
        assert any(line.startswith("hello") and f" {state} " in line for line in out.splitlines()), out
    assert "go build loop / xgo" in out and "xargs -P loop / xgo" in out, out
    assert "xgo-build orchestrator peak RSS < 32 MB" in out, out
    # the results file, RESULTS.md-shaped
    text = results.read_text()
    for heading in ("# bench/run results", "## Machine", "## Wall time", "## Targets of the bench issue",
                    "## Peak RSS", "## xgo-build cold job timeline", "## Outputs: byte identity",
                    "## Every timed run"):
        assert heading in text, heading
    assert "cores: " in text and "load average" in text and "Go: go1.26.8" in text
    assert "3/3 binaries identical" in text, text
    # the scheduler gives the last job to start every CPU (orchestrator/build.c):
    # 3 jobs, one per target, started in plan order, so the third is the last
    import json
    manifest = json.loads((tmp_path / "work/out/hello/xgo/manifest.json").read_text())
    parallel = manifest["execution"]["parallel"]
    procs = manifest["execution"]["procs_per_job"]
    ps = [int(next(a for a in j["argv"] if a.startswith("-p="))[3:]) for j in manifest["jobs"]]
    assert ps[:-1] == [procs] * 2, ps
    # every CPU: with procs already at the CPU count (the >= 2 rule on 2 cores) nothing changes
    assert ps[-1] == max(procs, len(os.sched_getaffinity(0))), (ps, parallel, procs)
    # nothing written into the repository
    assert not (ROOT / "bench" / "RESULTS-quick.md").exists()
