"""The release.lua DSL: good files load, and every bad file gives its own
clear one-line error with exit code 2."""
import json
import pathlib

import pytest

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "bad"
BAD = sorted(FIXTURES.glob("*.lua"))


def expected(path):
    first = path.read_text().splitlines()[0]
    assert first.startswith("-- expect: "), f"{path.name} lacks its '-- expect:' line"
    return first[len("-- expect: "):]


def test_there_are_at_least_15_bad_fixtures():
    assert len(BAD) >= 15


@pytest.mark.parametrize("fixture", BAD, ids=[p.stem for p in BAD])
def test_bad_build_file_gives_its_own_error(xgo, tmp_path, fixture):
    (tmp_path / "release.lua").write_text(fixture.read_text())
    r = xgo("plan", "release.lua", cwd=tmp_path, timeout=120)
    assert r.rc == 2, r
    assert r.out == "", r
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r
    assert lines[0].startswith("xgo-build: error: "), r
    assert expected(fixture) in lines[0], r


def test_sandbox_escape_leaves_no_trace(xgo, tmp_path):
    marker = pathlib.Path("/tmp/xgo-build-escaped")
    marker.unlink(missing_ok=True)
    (tmp_path / "release.lua").write_text((FIXTURES / "os_execute.lua").read_text())
    assert xgo("plan", cwd=tmp_path).rc == 2
    assert not marker.exists()


def test_precompiled_bytecode_is_refused(xgo, tmp_path):
    (tmp_path / "release.lua").write_bytes(b"\x1bLuaT\x00\x19\x93\r\n\x1a\n")
    r = xgo("plan", "release.lua", cwd=tmp_path)
    assert r.rc == 2, r
    assert "precompiled Lua bytecode is not accepted" in r.err


def test_missing_build_file(xgo, tmp_path):
    r = xgo("plan", "nope.lua", cwd=tmp_path)
    assert r.rc == 2, r
    assert "cannot read 'nope.lua'" in r.err


HELLO_TARGETS = [
    "linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64",
    "windows/amd64", "windows/arm64", "freebsd/amd64", "freebsd/arm64",
    "linux/386", "linux/arm/6", "linux/arm/7",
]


def test_plan_of_hello_has_11_targets(xgo, root):
    r = xgo("plan", "examples/hello/release.lua", cwd=root)
    assert r.rc == 0, r
    rows = [l.split() for l in r.out.splitlines()[3:3 + len(HELLO_TARGETS) + 1]]
    assert [row[1] for row in rows if len(row) > 1] == HELLO_TARGETS
    assert "hello_linux_armv6/hello" in r.out
    assert "hello_windows_amd64/hello.exe" in r.out
    assert "11 jobs" in r.out


def test_plan_json_is_a_ci_matrix(xgo, root):
    r = xgo("plan", "--json", "examples/hello/release.lua", cwd=root)
    assert r.rc == 0, r
    doc = json.loads(r.out)
    assert doc["schema"] == 1
    assert doc["project"] == "hello" and doc["go"] == "1.26.8"
    assert [j["target"] for j in doc["include"]] == HELLO_TARGETS
    arm6 = doc["include"][9]
    assert arm6["env"] == {"GOOS": "linux", "GOARCH": "arm", "CGO_ENABLED": "0", "GOARM": "6"}
    assert arm6["variant_explicit"] is True
    amd = doc["include"][0]
    assert amd["env"]["GOAMD64"] == "v1" and amd["variant_explicit"] is False
    assert len(doc["release_digest"]) == 64


def test_env_is_the_only_window_and_feeds_templates(xgo, root, tmp_path):
    src = (root / "examples/hello/release.lua").read_text()
    (tmp_path / "release.lua").write_text(src)
    (tmp_path / "LICENSE").write_text("L\n")  # plan resolves the archive's and package's files, as run does
    (tmp_path / "packaging").mkdir()
    (tmp_path / "packaging/copyright").write_text("C\n")
    r = xgo("plan", "--json", cwd=tmp_path, env={"VERSION": "9.9.9"})
    assert r.rc == 0, r
    assert json.loads(r.out)["version"] == "9.9.9"
    r = xgo("plan", "--json", cwd=tmp_path, env={"VERSION": ""})
    assert r.rc == 2, "an empty variable is a value, not unset"
    assert "release.lua:3: project: version '' must be non-empty" in r.err


def test_directory_option_and_file_alias(xgo, root):
    r = xgo("plan", "-C", root / "examples/hello", "-f", "release.lua")
    assert r.rc == 0, r
    r = xgo("plan", "-C", root / "examples/hello")
    assert r.rc == 0, r
    r = xgo("plan", "-C", root / "nowhere")
    assert r.rc == 2 and "cannot change to directory" in r.err


def test_skipped_combinations_are_reported(xgo, tmp_path):
    (tmp_path / "release.lua").write_text(
        'project { name = "x" }\ngo "1.26.8"\n'
        'build "x" { targets = matrix { goos = { "linux", "darwin" }, goarch = { "386" } } }\n')
    r = xgo("plan", cwd=tmp_path)
    assert r.rc == 0, r
    assert "skipped x: darwin/386: not a Go port" in r.err
    assert "linux/386" in r.out and "darwin/386" not in r.out


def test_include_extends_and_adds(xgo, tmp_path):
    (tmp_path / "release.lua").write_text(
        'project { name = "x" }\ngo "1.26.8"\n'
        'build "x" { targets = matrix {\n'
        '  goos = { "linux" }, goarch = { "amd64", "arm" },\n'
        '  exclude = { { goarch = "amd64" } },\n'
        '  include = { { goarch = "arm", goarm = { "6", "7" } }, { goos = "windows", goarch = "amd64" } },\n'
        '} }\n')
    r = xgo("plan", "--json", cwd=tmp_path)
    assert r.rc == 0, r
    assert [j["target"] for j in json.loads(r.out)["include"]] == [
        "linux/arm/6", "linux/arm/7", "windows/amd64"]
