"""The GitHub Actions example (issue 18 item 11) is a workflow GitHub can
read: valid YAML of the workflow schema's shape, every run step valid bash,
the packages it installs the ones configure requires, and the commands it
runs real xgo-build commands and options.  It cannot run GitHub here."""
import re
import subprocess

import pytest

from conftest import ROOT, run_xgo

yaml = pytest.importorskip("yaml", reason="python3-yaml is not installed")
WORKFLOW = ROOT / "examples/github-actions/release.yml"


def steps():
    doc = yaml.safe_load(WORKFLOW.read_text())
    assert set(doc) >= {"name", True, "jobs"}  # PyYAML reads the key `on` as True
    (job,) = doc["jobs"].values()
    assert job["runs-on"].startswith("ubuntu")
    return job["steps"]


def test_every_run_step_is_valid_bash():
    runs = [s["run"] for s in steps() if "run" in s]
    assert len(runs) >= 2
    for script in runs:
        p = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
        assert p.returncode == 0, (script, p.stderr)


def test_it_installs_what_configure_requires_and_caches_the_cache_dir():
    text = WORKFLOW.read_text()
    configure = (ROOT / "configure").read_text()
    required = re.search(r'^libs_required="([^"]*)"', configure, re.M).group(1)
    for pair in required.split():
        assert pair.split(":")[1] in text, pair
    cache = [s for s in steps() if s.get("uses", "").startswith("actions/cache@")]
    assert cache and cache[0]["with"]["path"] == "~/.cache/xgo-build"


def test_the_xgo_build_commands_it_runs_exist():
    for script in (s["run"] for s in steps() if "run" in s):
        for line in script.splitlines():
            m = re.match(r"\s*xgo-build (\S+)(.*)", line)
            if not m:
                continue
            r = run_xgo(m.group(1), "--help")
            assert r.rc == 0, line
            for opt in re.findall(r"(--[a-z-]+)", m.group(2)):
                assert opt in r.out, (line, opt)
