"""xgo-build verify and run --verify: real builds compared bit for bit.

Each non-reproducible fixture is a mistake a user can really make; the
test checks that verify catches it (exit 3) and names the cause.  Builds
use one linux/amd64 target and the session GOCACHE; only the cgo fixture
needs the gocache variation (a fresh GOCACHE), because the shared cache
would hand the rebuild the first build's C object.
"""
import json
import shutil

from conftest import run_xgo, write_project

MAIN = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hi") }\n'
ONE_TARGET = 'targets = matrix { goos = { "linux" }, goarch = { "amd64" }, cgo = %s },'


def release(name, extra="", cgo="false", before=""):
    return (f'project {{ name = "{name}", version = "1.0.0" }}\ngo "1.26.8"\n{before}'
            f'build "{name}" {{\n  {extra}\n  {ONE_TARGET % cgo}\n}}\n')


def env_for(sdk_session, tmp_path):
    env = dict(sdk_session["env"])
    env["TMPDIR"] = str(tmp_path)  # verify's temporary builds land here
    return env


def test_hello_verifies_identical(hello, sdk_session, tmp_path):
    # The shared GOCACHE keeps this to warm builds of the 11 targets; the
    # fresh-cache variation is exercised by the cgo test below.
    r = run_xgo("verify", "--no-vary=gocache", cwd=hello, env=env_for(sdk_session, tmp_path), timeout=1200)
    assert r.rc == 0, r
    assert "artifacts are identical" in r.err
    assert "hello_linux_armv7/hello" in r.out and " NO " not in r.out
    assert not (hello / "dist").exists(), "verify must not touch dist/"
    assert not list(tmp_path.glob("xgo-verify-*")), "temporary builds are removed"


def test_run_verify_reports_cost_and_keeps_dist(hello, sdk_session, tmp_path):
    r = run_xgo("run", "--verify", cwd=hello, env=env_for(sdk_session, tmp_path), timeout=1200)
    assert r.rc == 0, r
    assert "cost: run " in r.err and "verifying rebuild" in r.err
    assert (hello / "dist/SHA256SUMS").exists()


def test_trimpath_off_is_caught_by_the_path_variation(tmp_path, sdk_session):
    proj = write_project(tmp_path / "p", {"main.go": MAIN,
                                          "release.lua": release("p", 'flags = { "-trimpath=false" },')},
                         sdk_session)
    r = run_xgo("verify", "--vary=path", cwd=proj, env=env_for(sdk_session, tmp_path))
    assert r.rc == 3, r
    assert "p_linux_amd64/p" in r.out and " NO " in r.out
    assert "an absolute source path is embedded" in r.out
    assert f"{proj}/main.go" in r.out                      # the first build's path
    assert "/moved/elsewhere/p/main.go" in r.out           # the rebuild's path


def test_generated_timestamp_is_caught(tmp_path, sdk_session):
    gen = ('package main\n\nimport (\n\t_ "embed"\n\t"fmt"\n)\n\n'
           '//go:generate sh -c "date -u +%Y-%m-%dT%H:%M:%S.%N > stamp.txt"\n\n'
           '//go:embed stamp.txt\nvar stamp string\n\nfunc main() { fmt.Println("built at", stamp) }\n')
    proj = write_project(tmp_path / "g", {"main.go": gen, "stamp.txt": "x\n",
                                          "release.lua": release("g", before='before { "go generate ./..." }\n')},
                         sdk_session)
    r = run_xgo("verify", "--no-vary=gocache", "--diffoscope", cwd=proj, env=env_for(sdk_session, tmp_path))
    assert r.rc == 3, r
    assert "a time of day is embedded" in r.out
    assert "in .rodata" in r.out
    assert "diffoscope: not installed" in r.out
    assert "kept in" in r.err  # --diffoscope implies --keep


def test_cgo_date_time_without_source_date_epoch_is_caught(tmp_path, sdk_session):
    proj = write_project(tmp_path / "c", {
        "main.go": 'package main\n\n// #include "stamp.h"\nimport "C"\nimport "fmt"\n\n'
                   'func main() { fmt.Println(C.GoString(C.built())) }\n',
        "stamp.h": "const char *built(void);\n",
        "stamp.c": '#include "stamp.h"\nconst char *built(void) { return "built on " __DATE__ " at " __TIME__; }\n',
        "release.lua": release("c", "env = { SOURCE_DATE_EPOCH = false },", cgo="true"),
    }, sdk_session)
    r = run_xgo("verify", "--json", cwd=proj, env=env_for(sdk_session, tmp_path), timeout=900)
    assert r.rc == 3, r
    events = [json.loads(line) for line in r.out.splitlines()]
    assert all(e["schema"] == 1 for e in events)
    # each build's events carry its context; the report comes last
    assert {e.get("context") for e in events if e["event"] == "run_started"} == {"verify:first", "verify:rebuild"}
    rep = events[-1]
    assert rep["event"] == "verify"
    assert rep["identical"] is False and "gocache" in rep["variations"]
    row = next(a for a in rep["artifacts"] if a["artifact"] == "c_linux_amd64/c")
    assert row["identical"] is False and row["target"] == "linux/amd64+cgo"
    assert "a time of day is embedded ('built on " in row["summary"]
    assert row["explanation"]["format"] == "elf"


def test_source_date_epoch_can_be_dropped_but_nothing_else(tmp_path, sdk_session):
    proj = write_project(tmp_path / "d", {"main.go": MAIN,
                                          "release.lua": release("d", "env = { SOURCE_DATE_EPOCH = false },")},
                         sdk_session)
    r = run_xgo("run", "--print-env", "linux/amd64", cwd=proj, env=sdk_session["env"])
    assert r.rc == 0, r
    assert "SOURCE_DATE_EPOCH=" not in r.out and "GOOS=linux" in r.out
    (proj / "release.lua").write_text(release("d", "env = { TZ = false },"))
    r = run_xgo("run", "--print-env", "linux/amd64", cwd=proj, env=sdk_session["env"])
    assert r.rc == 2 and "only SOURCE_DATE_EPOCH may be dropped" in r.err, r


def test_against_a_release_built_elsewhere(tmp_path, sdk_session):
    files = {"main.go": MAIN, "release.lua": release("p")}
    first = write_project(tmp_path / "first", files, sdk_session)
    r = run_xgo("run", cwd=first, env=sdk_session["env"])
    assert r.rc == 0, r
    second = write_project(tmp_path / "second", files, sdk_session)
    env = env_for(sdk_session, tmp_path)

    for src in (first / "dist", first / "dist/SHA256SUMS", f"file://{first}/dist/manifest.json"):
        r = run_xgo("verify", "--against", src, cwd=second, env=env)
        assert r.rc == 0, (src, r)

    flipped = tmp_path / "flipped"
    shutil.copytree(first / "dist", flipped)
    binary = flipped / "p_linux_amd64/p"
    data = bytearray(binary.read_bytes())
    data[len(data) // 2] ^= 1
    binary.write_bytes(bytes(data))
    r = run_xgo("verify", "--against", flipped, cwd=second, env=env)
    assert r.rc == 3, r
    assert "p_linux_amd64/p" in r.err and "does not match its own record" in r.err
    assert "1 of 2 artifacts differ from the published release" in r.err
    assert "p_linux_amd64/p  NO" in r.out


def test_against_a_manifest_of_another_sdk_is_refused(tmp_path, sdk_session):
    proj = write_project(tmp_path / "p", {"main.go": MAIN, "release.lua": release("p")}, sdk_session)
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 0, r
    m = json.loads((proj / "dist/manifest.json").read_text())
    m["sdk"]["version"] = "1.25.0"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(m))
    r = run_xgo("verify", "--against", other, cwd=proj, env=env_for(sdk_session, tmp_path))
    assert r.rc == 4, r
    assert "built with Go 1.25.0" in r.err and "pins Go" in r.err


def test_unknown_variation_is_a_usage_error(xgo):
    r = xgo("verify", "--vary=pth")
    assert r.rc == 2
    assert "unknown variation 'pth'" in r.err and "did you mean 'path'" in r.err


def test_against_shows_build_info_differences(tmp_path, sdk_session):
    # a tag chosen by the environment: recorded in the Go build info
    lua = release("t", 'tags = { env("TAGS", "one") },')
    proj = write_project(tmp_path / "t", {"main.go": MAIN, "release.lua": lua}, sdk_session)
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 0, r
    env = env_for(sdk_session, tmp_path)
    env["TAGS"] = "two"
    r = run_xgo("verify", "--against", proj / "dist", cwd=proj, env=env)
    assert r.rc == 3, r
    assert "go build info (go version -m):" in r.out
    assert "build -tags=one" in r.out and "build -tags=two" in r.out
    assert "published:" in r.out and "rebuilt:" in r.out
    assert "SHA256SUMS" in r.out and "lists the digests of the artifacts that differ" in r.out


def test_against_an_http_url(tmp_path, sdk_session):
    import functools
    import http.server
    import threading
    proj = write_project(tmp_path / "p", {"main.go": MAIN, "release.lua": release("p")}, sdk_session)
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 0, r
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(proj / "dist"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        env = env_for(sdk_session, tmp_path)
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1"
        r = run_xgo("verify", "--against", f"{base}/manifest.json", cwd=proj, env=env)
        assert r.rc == 0, r
        r = run_xgo("verify", "--against", f"{base}/missing.json", cwd=proj, env=env)
        assert r.rc == 2 and "404" in r.err, r
    finally:
        server.shutdown()
