"""Fan-out: plan --matrix, run --shard K/N (--timings, --overlap) and merge.

Real builds of examples/hello with the session SDK and GOCACHE: one full
run, three shards, two shards with --overlap, and two single shards built
from other inputs.  The rest tampers with copies of those shard outputs.
"""
import hashlib
import json
import shutil

import pytest

from conftest import copy_hello_archives, run_xgo

TARGETS = ["linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64", "windows/arm64",
           "freebsd/amd64", "freebsd/arm64", "linux/386", "linux/arm/6", "linux/arm/7"]


def copy_hello(dest, sdk_session):
    return copy_hello_archives(dest, sdk_session)


def build(proj, sdk_session, *args, env=None):
    full_env = dict(sdk_session["env"])
    full_env.update(env or {})
    # --no-cache: every shard really builds, so that comparing the shards
    # with the full run compares builds, not copies from the action cache.
    r = run_xgo("run", "--no-cache", *args, cwd=proj, env=full_env)
    assert r.rc == 0, r
    return r


def tree(d):
    """{relative path: bytes} of every file under d but manifest.json and
    provenance.json (their run details differ; compared below)."""
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*"))
            if p.is_file() and p.name not in ("manifest.json", "provenance.json")}


def manifest(d):
    return json.loads((d / "manifest.json").read_text())


@pytest.fixture(scope="module")
def builds(tmp_path_factory, sdk_session):
    """hello built once whole, as 3 shards, and as 2 shards with --overlap."""
    base = tmp_path_factory.mktemp("shard")
    proj = copy_hello(base / "hello", sdk_session)
    build(proj, sdk_session, "--dist", base / "full")
    for k in (1, 2, 3):
        build(proj, sdk_session, "--shard", f"{k}/3", "--dist", base / f"s{k}")
    for k in (1, 2):
        build(proj, sdk_session, "--shard", f"{k}/2", "--overlap", "--dist", base / f"o{k}")
    return {"base": base, "proj": proj, "full": base / "full", "shards": [base / f"s{k}" for k in (1, 2, 3)],
            "overlap": [base / "o1", base / "o2"]}


def merge(*args, cwd=None):
    return run_xgo("merge", *map(str, args), cwd=cwd)


def test_three_shards_merged_equal_a_full_run(builds, tmp_path):
    out = tmp_path / "merged"
    r = merge("--dist", out, *builds["shards"])
    assert r.rc == 0, r
    assert "merged 3 shards, 11 jobs" in r.err
    full, merged = tree(builds["full"]), tree(out)
    assert sorted(merged) == sorted(full)
    assert merged == full, "every archive, binary, SBOM and SHA256SUMS byte for byte"
    assert any(name.endswith(".spdx.json") for name in merged)
    # the provenance is made from the shards': its reproducible part is the full run's
    prov = [json.loads((d / "provenance.json").read_text()) for d in (out, builds["full"])]
    for p in prov:
        del p["predicate"]["runDetails"]
    assert prov[0] == prov[1]
    m = manifest(out)
    assert m["sboms"] == manifest(builds["full"])["sboms"]
    assert m["provenance"] == manifest(builds["full"])["provenance"]
    assert [j["target"] for j in m["jobs"]] == TARGETS, "jobs in plan order"
    assert sorted(a["name"] for a in m["archives"]) == sorted(a["name"] for a in manifest(builds["full"])["archives"])
    assert "shard" not in m and m["merged"]["count"] == 3
    assert [s["shard"] for s in m["merged"]["shards"]] == ["1/3", "2/3", "3/3"]
    assert m["checksums"] == {"file": "SHA256SUMS", "algorithm": "sha256", "per_file": False}


def test_shards_are_disjoint_whole_targets_and_cover_the_plan(builds):
    seen = []
    for k, d in enumerate(builds["shards"], 1):
        m = manifest(d)
        s = m["shard"]
        assert (s["index"], s["count"], s["overlap"], s["weights"]) == (k, 3, None, "jobs")
        assert [p["target"] for p in s["plan"]] == TARGETS, "every shard records the whole plan"
        assert sorted(j["target"] for j in m["jobs"]) == sorted(s["targets"])
        assert sorted(a["target"] for a in m["archives"]) == sorted(s["targets"]), "complete archives"
        seen += s["targets"]
        assert 3 <= len(s["targets"]) <= 4, "balanced: 11 equal targets over 3 shards"
    assert sorted(seen) == sorted(TARGETS) and len(seen) == len(set(seen))


def test_plan_matrix_parses_and_matches_the_shards(builds, sdk_session):
    r = run_xgo("plan", "--matrix", "3", cwd=builds["proj"], env=sdk_session["env"])
    assert r.rc == 0, r
    assert r.out.count("\n") == 1, "one line, for a CI output variable"
    include = json.loads(r.out)["include"]
    assert [e["shard"] for e in include] == ["1/3", "2/3", "3/3"]
    targets = [e["targets"].split() for e in include]
    assert sorted(t for ts in targets for t in ts) == sorted(TARGETS), "every target exactly once"
    for ts, d in zip(targets, builds["shards"]):
        assert ts == manifest(d)["shard"]["targets"], "plan and run compute the same split"
    assert sum(e["jobs"] for e in include) == 11


def test_timings_balance_by_recorded_durations(builds, sdk_session, tmp_path):
    m = manifest(builds["full"])
    for j in m["jobs"]:
        j["duration_s"] = 100.0 if j["target"] == "linux/arm64" else 1.0
    timings = tmp_path / "manifest.json"
    timings.write_text(json.dumps(m))
    r = run_xgo("plan", "--matrix", "3", "--timings", timings, cwd=builds["proj"], env=sdk_session["env"])
    assert r.rc == 0, r
    include = json.loads(r.out)["include"]
    # The heavy target gets a shard to itself; the other ten share the rest.
    assert include[0]["targets"] == "linux/arm64" and include[0]["weight"] == 100.0
    assert [len(e["targets"].split()) for e in include[1:]] == [5, 5]
    equal = json.loads(run_xgo("plan", "--matrix", "3", cwd=builds["proj"], env=sdk_session["env"]).out)
    assert equal["include"][0]["targets"] != "linux/arm64"
    # run computes the same split: only shard 1 has the heavy target.
    for k in (1, 2, 3):
        r = run_xgo("run", "--shard", f"{k}/3", "--timings", timings, "--print-env", "linux/arm64",
                    cwd=builds["proj"], env=sdk_session["env"])
        assert r.rc == (0 if k == 1 else 2), r
        if k == 1:
            assert "GOARCH=arm64" in r.out


def test_bad_shard_arguments_are_usage_errors(builds, sdk_session, tmp_path):
    env, proj = sdk_session["env"], builds["proj"]
    for arg in ("0/3", "4/3", "3", "a/b", "1/3x", "-1/3", "1/0"):
        r = run_xgo("run", "--shard", arg, cwd=proj, env=env)
        assert r.rc == 2 and f"--shard wants K/N with 1 <= K <= N" in r.err and f"'{arg}'" in r.err, r
    r = run_xgo("run", "--shard", "1/12", cwd=proj, env=env)
    assert r.rc == 2 and "12 shards for 11 targets" in r.err, r
    r = run_xgo("run", "--overlap", cwd=proj, env=env)
    assert r.rc == 2 and "--overlap only applies with --shard" in r.err, r
    r = run_xgo("plan", "--matrix", "1", "--overlap", cwd=proj, env=env)
    assert r.rc == 2 and "at least 2 shards" in r.err, r
    r = run_xgo("plan", "--matrix", "two", cwd=proj, env=env)
    assert r.rc == 2 and "--matrix wants a number" in r.err, r
    (tmp_path / "bad.json").write_text("{}")
    r = run_xgo("plan", "--matrix", "2", "--timings", tmp_path / "bad.json", cwd=proj, env=env)
    assert r.rc == 2 and "not a manifest.json" in r.err, r


@pytest.fixture(scope="module")
def odd_shards(builds, sdk_session):
    """Shard 3/3 again from other inputs: another SOURCE_DATE_EPOCH, another release.lua."""
    base = builds["base"]
    build(builds["proj"], sdk_session, "--shard", "3/3", "--dist", base / "s3-sde",
          env={"SOURCE_DATE_EPOCH": "1700000000"})
    other = copy_hello(base / "hello-other", sdk_session)
    rel = other / "release.lua"
    rel.write_text(rel.read_text() + "-- a comment changes the digest\n")
    build(other, sdk_session, "--shard", "3/3", "--dist", base / "s3-rel")
    return {"sde": base / "s3-sde", "rel": base / "s3-rel"}


def test_merge_refuses_another_source_date_epoch(builds, odd_shards, tmp_path):
    s1, s2, _ = builds["shards"]
    r = merge("--dist", tmp_path / "out", s1, s2, odd_shards["sde"])
    assert r.rc == 2, r
    assert f"shards '{s1}' and '{odd_shards['sde']}' differ in inputs.source_date_epoch" in r.err
    assert "'1700000000'" in r.err and r.err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_merge_refuses_another_release_lua(builds, odd_shards, tmp_path):
    s1, s2, _ = builds["shards"]
    r = merge("--dist", tmp_path / "out", s1, s2, odd_shards["rel"])
    assert r.rc == 2, r
    assert f"shards '{s1}' and '{odd_shards['rel']}' differ in release.digest" in r.err


def test_merge_refuses_a_gap_and_keeps_the_previous_output(builds, tmp_path):
    s1, _, s3 = builds["shards"]
    out = tmp_path / "out"
    out.mkdir()
    (out / "previous").write_text("kept")
    r = merge("--dist", out, s1, s3)
    assert r.rc == 2, r
    missing = manifest(builds["shards"][1])["jobs"][0]["target"]
    assert f"job 'hello:{missing}' of the plan is in no shard (missing: shard 2/3)" in r.err
    assert [p.name for p in out.iterdir()] == ["previous"]


def test_merge_refuses_duplicates(builds, tmp_path):
    s1, s2, s3 = builds["shards"]
    r = merge("--dist", tmp_path / "out", s1, s2, s3, s2)
    assert r.rc == 2 and f"'{s2}' and '{s2}' are both shard 2/3" in r.err, r
    # A shard that claims to be 1/3 but holds shard 2's jobs.
    fake = tmp_path / "fake"
    shutil.copytree(s2, fake)
    m = manifest(fake)
    m["shard"]["index"] = 1
    (fake / "manifest.json").write_text(json.dumps(m))
    r = merge("--dist", tmp_path / "out", fake, s2, s3)
    target = m["jobs"][0]["target"]
    assert r.rc == 2 and f"job 'hello:{target}' is in two shards, '{fake}' and '{s2}'" in r.err, r


def test_merge_compares_job_environments_but_not_machine_paths(builds, tmp_path):
    s1, s2, s3 = builds["shards"]
    moved = tmp_path / "moved"
    shutil.copytree(s3, moved)
    m = manifest(moved)
    for j in m["jobs"]:
        goroot = next(e for e in j["env"] if e.startswith("GOROOT="))[7:]
        j["env"] = [e.replace(goroot, "/elsewhere/sdk") for e in j["env"]]
        j["env"] = [("HOME=/other/home" if e.startswith("HOME=") else e) for e in j["env"]]
        j["env"] = [("GOMAXPROCS=64" if e.startswith("GOMAXPROCS=") else e) for e in j["env"]]
    (moved / "manifest.json").write_text(json.dumps(m))
    r = merge("--dist", tmp_path / "ok", s1, s2, moved)
    assert r.rc == 0, r
    m["jobs"][0]["env"].append("GODEBUG=x509sha1=1")
    (moved / "manifest.json").write_text(json.dumps(m))
    r = merge("--dist", tmp_path / "out", s1, s2, moved)
    assert r.rc == 2, r
    assert (f"shards '{s1}' and '{moved}' differ in the job environment of build 'hello': "
            f"'GODEBUG=x509sha1=1' is only in '{moved}'") in r.err


def test_merge_refuses_a_corrupted_shard_file(builds, tmp_path):
    s1, s2, s3 = builds["shards"]
    bad = tmp_path / "bad"
    shutil.copytree(s2, bad)
    name = manifest(bad)["archives"][0]["name"]
    data = bytearray((bad / name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bad / name).write_bytes(bytes(data))
    r = merge("--dist", tmp_path / "out", s1, bad, s3)
    assert r.rc == 3, r
    assert f"'{bad}/{name}' is corrupted" in r.err
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob("out.tmp-*"))


def test_overlap_copies_agree_and_merge_equals_a_full_run(builds, tmp_path):
    o1, o2 = builds["overlap"]
    r1, r2 = manifest(o1)["shard"], manifest(o2)["shard"]
    assert r1["overlap"] == r2["overlap"] == "linux/amd64", "the lightest target, first in plan order"
    assert set(r1["targets"]) & set(r2["targets"]) == {"linux/amd64"}
    assert sorted(set(r1["targets"]) | set(r2["targets"])) == sorted(TARGETS)
    out = tmp_path / "merged"
    r = merge("--dist", out, o1, o2)
    assert r.rc == 0, r
    assert tree(out) == tree(builds["full"])
    assert manifest(out)["merged"]["overlap"] == "linux/amd64"


def test_overlap_copies_that_differ_are_a_reproducibility_failure(builds, tmp_path):
    o1, o2 = builds["overlap"]
    other = tmp_path / "other-machine"
    shutil.copytree(o2, other)
    m = manifest(other)
    job = next(j for j in m["jobs"] if j["target"] == "linux/amd64")
    binary = other / job["output"]
    binary.write_bytes(binary.read_bytes() + b"\0")
    digest = hashlib.sha256(binary.read_bytes()).hexdigest()
    original = job["sha256"]
    job["sha256"] = digest
    (other / "manifest.json").write_text(json.dumps(m))
    r = merge("--dist", tmp_path / "out", o1, other)
    assert r.rc == 3, r
    assert (f"overlap target 'linux/amd64' is not reproducible across machines: '{job['output']}' is sha256 "
            f"{original} in '{o1}' and {digest} in '{other}'") in r.err
    assert not (tmp_path / "out").exists()


def test_merge_needs_shards(builds, tmp_path):
    r = merge("--dist", tmp_path / "out", builds["full"])
    assert r.rc == 2 and "is not a shard's" in r.err, r
    r = merge("--dist", tmp_path / "out", tmp_path / "nothing")
    assert r.rc == 2 and "cannot read" in r.err and "manifest.json" in r.err, r
    r = merge()
    assert r.rc == 2 and "name the shards' dist directories" in r.err, r
    s1, s2, s3 = builds["shards"]
    r = merge("--dist", s1, s1, s2, s3)
    assert r.rc == 2 and "is one of the shards" in r.err, r
