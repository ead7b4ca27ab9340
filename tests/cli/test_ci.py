"""--json events (README "JSON events") and the CI integrations."""
import json

import pytest

from conftest import run_xgo, write_project

MAIN = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("ok") }\n'
BROKEN = "package main\n\nfunc main() { undefined_thing() }\n"
RELEASE = '''project { name = "p", version = "1.0.0" }
go "1.26.8"
build "p" { targets = matrix { goos = { "linux", "windows" }, goarch = { "amd64" } } }
archive { format = "tar.gz", format_overrides = { windows = "zip" } }
'''

# every event: its kind, then the fields it always has (README)
SCHEMA = {
    "run_started": {"release", "tool"},
    "plan_ready": {"jobs", "parallel", "procs_per_job", "isolation", "dist"},
    "job_started": {"build", "target", "output"},
    "job_finished": {"build", "target", "output", "status", "exit", "cached", "duration_s", "cpu_s"},
    "archive": {"name", "size", "sha256"},
    "step_failed": {"step", "exit", "log_tail"},
    "run_finished": {"status", "exit", "jobs", "built", "cached", "failed", "duration_s", "job_cpu_s"},
    "plan": {"project", "version", "go", "release_digest", "ports", "skipped", "include"},
    "verify": {"identical", "variations", "skipped", "builds", "artifacts"},
}


def events_of(out):
    events = [json.loads(line) for line in out.splitlines()]
    for e in events:
        assert e["schema"] == 1 and isinstance(e["elapsed_s"], (int, float)), e
        assert SCHEMA[e["event"]] <= e.keys(), e
    return events


@pytest.fixture
def good(tmp_path, sdk_session):
    return write_project(tmp_path / "good", {"main.go": MAIN, "release.lua": RELEASE}, sdk_session)


@pytest.fixture
def bad(tmp_path, sdk_session):
    return write_project(tmp_path / "bad", {"main.go": BROKEN, "release.lua": RELEASE}, sdk_session)


def test_run_json_is_a_stream_of_events(good, sdk_session):
    r = run_xgo("run", "--json", "--no-cache", cwd=good, env=sdk_session["env"])
    assert r.rc == 0, r
    ev = events_of(r.out)
    kinds = [e["event"] for e in ev]
    assert kinds[0] == "run_started" and kinds[1] == "plan_ready" and kinds[-1] == "run_finished"
    assert kinds.count("job_started") == 2 and kinds.count("job_finished") == 2 and kinds.count("archive") == 2
    fin = [e for e in ev if e["event"] == "job_finished"]
    assert {e["target"] for e in fin} == {"linux/amd64", "windows/amd64"}
    for e in fin:
        assert e["status"] == "ok" and e["exit"] == 0 and len(e["sha256"]) == 64 and e["size"] > 0
    assert ev[-1]["status"] == "ok" and ev[-1]["built"] == 2 and ev[-1]["failed"] == 0
    times = [e["elapsed_s"] for e in ev]
    assert times == sorted(times)
    assert "xgo-build: built 2 jobs" in r.err, "human output stays on stderr"


def test_a_failure_carries_its_log_tail(bad, sdk_session):
    r = run_xgo("run", "--json", "--keep-going", cwd=bad, env=sdk_session["env"])
    assert r.rc == 1, r
    ev = events_of(r.out)
    fin = [e for e in ev if e["event"] == "job_finished"]
    assert len(fin) == 2 and all(e["status"] == "failed" and e["exit"] == 1 for e in fin)
    assert all("undefined: undefined_thing" in e["log_tail"] for e in fin)
    assert ev[-1]["event"] == "run_finished" and ev[-1]["status"] == "failed" and ev[-1]["exit"] == 1
    assert ev[-1]["failed"] == 2 and "error" in ev[-1]


def test_a_bad_build_file_still_ends_the_stream(tmp_path, sdk_session):
    proj = write_project(tmp_path / "p", {"main.go": MAIN, "release.lua": 'build "p" { goos = 1 }\n'}, sdk_session)
    r = run_xgo("run", "--json", cwd=proj, env=sdk_session["env"])
    assert r.rc == 2, r
    ev = events_of(r.out)
    assert [e["event"] for e in ev] == ["run_started", "run_finished"]
    assert ev[-1]["exit"] == 2 and "release.lua:1" in ev[-1]["error"]


def test_plan_json_is_one_event(good, sdk_session):
    r = run_xgo("plan", "--json", cwd=good, env=sdk_session["env"])
    assert r.rc == 0, r
    (ev,) = events_of(r.out)
    assert ev["event"] == "plan" and [j["target"] for j in ev["include"]] == ["linux/amd64", "windows/amd64"]


def test_github_actions_annotations_groups_and_summary(bad, good, sdk_session, tmp_path):
    summary = tmp_path / "summary.md"
    env = dict(sdk_session["env"], GITHUB_ACTIONS="true", CI="true", GITHUB_STEP_SUMMARY=str(summary))
    r = run_xgo("run", cwd=bad, env=env)
    assert r.rc == 1, r
    assert "::error title=p linux/amd64::p linux/amd64 failed (exit 1)" in r.err, r.err
    start = r.err.index("::group::p linux/amd64 (log tail)")
    assert "undefined: undefined_thing" in r.err[start:r.err.index("::endgroup::", start)]
    text = summary.read_text()
    assert "| p linux/amd64 | **failed** |" in text
    r = run_xgo("run", "--no-cache", cwd=good, env=env)
    assert r.rc == 0, r
    assert "::error" not in r.err and "\r" not in r.err
    text = summary.read_text()
    assert "— built" in text and "| p_1.0.0_linux_amd64.tar.gz |" in text and "| p windows/amd64 | ok |" in text


def test_gitlab_collapsible_sections(bad, sdk_session):
    env = dict(sdk_session["env"], GITLAB_CI="true", CI="true")
    r = run_xgo("run", cwd=bad, env=env)
    assert r.rc == 1, r
    assert "section_start:" in r.err and "[collapsed=true]" in r.err and "section_end:" in r.err
    body = r.err[r.err.index("section_start:"):r.err.index("section_end:")]
    assert "undefined: undefined_thing" in body
