"""provenance.json (SLSA v1 in an in-toto Statement v1) and the
machine-independent manifest.json: checked with the in-toto-attestation
package's own Statement and SLSA Provenance models, against the files, go.sum
and git, and compared between two copies of a project at different paths
with different HOMEs."""
import base64
import copy
import hashlib
import json
import os
import subprocess

import pytest
from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement

from attestfix import gosum, load, make_project, make_proxy, proxy_env
from conftest import run_xgo


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    return make_proxy(tmp_path_factory.mktemp("goproxy"))


def build(proj, sdk_session, proxy, home, extra_env=None, args=()):
    env = dict(sdk_session["env"], HOME=str(home), **proxy_env(proxy), **(extra_env or {}))
    home.mkdir(parents=True, exist_ok=True)
    r = run_xgo("run", *args, cwd=proj, env=env)
    assert r.rc == 0, r
    return proj / "dist"


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory, sdk_session, proxy):
    """The same project built in two places, by two HOMEs, without the action
    cache (the second would otherwise take every job from the first)."""
    dists = []
    for name in ("first", "second/deeper"):
        base = tmp_path_factory.mktemp("prov") / name
        proj = make_project(base / "att", sdk_session, proxy)
        dists.append(build(proj, sdk_session, proxy, base / "home", args=("--no-cache",)))
    return dists


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_provenance_parses_as_in_toto_statement_and_slsa_provenance(two_builds):
    text = (two_builds[0] / "provenance.json").read_text()
    pb = json_format.Parse(text, statement_pb2.Statement())
    Statement.copy_from_pb(pb).validate()  # raises on a bad statement
    doc = json.loads(text)
    assert doc["_type"] == "https://in-toto.io/Statement/v1"
    assert doc["predicateType"] == "https://slsa.dev/provenance/v1"
    # the predicate in the SLSA v1 model: unknown or misspelt fields are refused
    pred = json_format.Parse(json.dumps(doc["predicate"]), provenance_pb2.Provenance())
    assert pred.build_definition.build_type == "https://xgo-build.dev/provenance/run/v1"
    assert pred.run_details.builder.id == "https://xgo-build.dev/builder/local/v1"
    assert pred.run_details.metadata.invocation_id.startswith("urn:uuid:")
    assert pred.run_details.metadata.started_on.seconds <= pred.run_details.metadata.finished_on.seconds


def test_subjects_are_every_published_file_with_its_digest(two_builds):
    dist = two_builds[0]
    doc = load(dist / "provenance.json")
    subjects = {s["name"]: s["digest"]["sha256"] for s in doc["subject"]}
    assert [s["name"] for s in doc["subject"]] == sorted(subjects)
    manifest = load(dist / "manifest.json")
    published = [a["name"] for a in manifest["archives"]] + [j["output"] for j in manifest["jobs"]] + \
        [s["name"] for s in manifest["sboms"]] + ["SHA256SUMS"]
    assert sorted(subjects) == sorted(published) and len(published) == 7
    listed = [line.split("  ", 1)[1] for line in (dist / "SHA256SUMS").read_text().splitlines()]
    assert set(listed) < set(subjects)
    for name, digest in subjects.items():
        assert sha256(dist / name) == digest, name
    assert "provenance.json" not in (dist / "SHA256SUMS").read_text()
    assert manifest["provenance"] == {"file": "provenance.json", "predicate_type": "https://slsa.dev/provenance/v1"}


def test_resolved_dependencies_name_the_sdk_the_source_and_every_go_sum_module(two_builds):
    dist = two_builds[0]
    doc = load(dist / "provenance.json")
    manifest = load(dist / "manifest.json")
    deps = doc["predicate"]["buildDefinition"]["resolvedDependencies"]
    by_name = {d["name"]: d for d in deps}
    sdk = manifest["sdk"]
    assert by_name[sdk["archive"]]["digest"] == {"sha256": sdk["archive_sha256"]}
    assert by_name["go-sdk-tree:" + sdk["version"]]["digest"] == {"sha256": sdk["tree_digest"]}
    assert by_name["source"]["digest"] == {"sha256": manifest["inputs"]["source_digest"]}
    sums = gosum(dist.parent)
    assert len(sums) == 2
    for mod, h1 in sums.items():
        d = by_name[mod]
        assert d["uri"] == "pkg:golang/" + mod
        assert d["digest"] == {"dirHash1": base64.b64decode(h1[3:]).hex()}
    ext = doc["predicate"]["buildDefinition"]["externalParameters"]
    assert ext["buildFile"] == {"name": "release.lua", "digest": {"sha256": manifest["release"]["digest"]}}
    assert ext["targets"] == ["att:linux/amd64", "att:windows/amd64"]
    assert "source" not in ext  # no git checkout: nothing claimed


def reproducible(doc):
    doc = copy.deepcopy(doc)
    del doc["predicate"]["runDetails"]
    return doc


def test_provenance_and_manifest_are_the_same_at_other_paths_and_homes(two_builds, tmp_path):
    a, b = (load(d / "provenance.json") for d in two_builds)
    assert reproducible(a) == reproducible(b)
    assert a["predicate"]["runDetails"]["metadata"]["invocationId"] != \
        b["predicate"]["runDetails"]["metadata"]["invocationId"]
    ma, mb = (load(d / "manifest.json") for d in two_builds)
    assert ma["run_metadata"] == mb["run_metadata"]

    def strip(m):  # what run_metadata names
        m = copy.deepcopy(m)
        for k in ("parallel", "procs_per_job"):
            m["execution"].pop(k)
        for j in m["jobs"]:
            for k in ("cached", "duration_s", "built_duration_s", "cpu_s"):
                j.pop(k, None)
            j["env"] = [e for e in j["env"] if e.split("=")[0] not in ("GOMAXPROCS", "GOGC", "GOMEMLIMIT")]
            j["argv"] = [x for x in j["argv"] if not x.startswith("-p=")]
        return m
    assert strip(ma) == strip(mb)
    for d in two_builds:
        text = (d / "manifest.json").read_text() + (d / "provenance.json").read_text()
        for host in (str(d.parent), str(d.parent.parent / "home"), os.environ.get("HOME", "/root"), "tmp-"):
            assert host not in text, host
    job = ma["jobs"][0]
    assert "GOROOT=/<sdk>" in job["env"] and job["argv"][0] == "/<sdk>/bin/go"
    assert job["argv"][job["argv"].index("-o") + 1] == "/<dist>/" + job["output"]


def git(proj, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@e", GIT_CONFIG_NOSYSTEM="1", HOME=str(proj))
    return subprocess.run(["git", *args], cwd=proj, env=env, check=True, capture_output=True, text=True).stdout


def test_git_commit_and_remote_are_external_parameters_without_credentials(tmp_path, sdk_session, proxy):
    proj = make_project(tmp_path / "att", sdk_session, proxy)
    git(proj, "init", "-q")
    git(proj, "add", "-A")
    git(proj, "commit", "-qm", "x")
    git(proj, "remote", "add", "origin", "https://user:s3cret@git.example/att.git")
    dist = build(proj, sdk_session, proxy, tmp_path / "home")
    ext = load(dist / "provenance.json")["predicate"]["buildDefinition"]["externalParameters"]
    assert ext["source"] == {"commit": git(proj, "rev-parse", "HEAD").strip(),
                             "repository": "https://git.example/att.git"}
    assert "s3cret" not in (dist / "provenance.json").read_text()


def test_github_actions_names_the_builder_and_the_run(tmp_path, sdk_session, proxy):
    proj = make_project(tmp_path / "att", sdk_session, proxy)
    gh = {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.example", "GITHUB_REPOSITORY": "o/r",
          "GITHUB_WORKFLOW_REF": "o/r/.github/workflows/rel.yml@refs/tags/v1", "GITHUB_RUN_ID": "42",
          "GITHUB_RUN_ATTEMPT": "2", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    dist = build(proj, sdk_session, proxy, tmp_path / "home", extra_env=gh)
    run = load(dist / "provenance.json")["predicate"]["runDetails"]
    assert run["builder"]["id"] == "https://github.example/o/r/.github/workflows/rel.yml@refs/tags/v1"
    assert run["metadata"]["invocationId"] == "https://github.example/o/r/actions/runs/42/attempts/2"


def test_verify_compares_the_reproducible_part_of_the_provenance(tmp_path, sdk_session, proxy):
    proj = make_project(tmp_path / "att", sdk_session, proxy)
    env = dict(sdk_session["env"], **proxy_env(proxy))
    r = run_xgo("verify", "--json", cwd=proj, env=env, timeout=900)
    assert r.rc == 0, r
    rep = [json.loads(line) for line in r.out.splitlines()][-1]
    assert rep["event"] == "verify"
    rows = {x["artifact"]: x for x in rep["artifacts"]}
    assert rows["provenance.json"]["identical"] is True
    assert rows["att_linux_amd64/att.spdx.json"]["identical"] is True
