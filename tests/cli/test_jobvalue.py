"""One value per job (docs/DESIGN.md, "The job value"): `run --print-env`
prints the environment and argv the build then really runs with.  Checked
against two records made elsewhere: manifest.json's jobs[] (what the runner
was given) and the build settings the go command itself embedded in the
binary (`go version -m`), plus the binary's own output (its -ldflags)."""
import json
import subprocess

from conftest import run_xgo, write_project

MAIN = 'package main\n\nimport "fmt"\n\nvar version = "dev"\n\nfunc main() { fmt.Println(version) }\n'
RELEASE = '''project { name = "jv", version = "1.4.2" }
go "1.26.8"
build "jv" {
  ldflags = { "-X main.version={version}-{os}" }, tags = { "jvtag" },
  env = { JV_SET = "from-release" },
  targets = matrix { goos = { "linux" }, goarch = { "amd64", "arm64" } },
}
'''
TUNING = ("GOMAXPROCS", "GOGC", "GOMEMLIMIT")


def print_env(proj, env, target):
    r = run_xgo("run", "--print-env", target, cwd=proj, env=env)
    assert r.rc == 0, r
    env_text, argv = r.out.split("\n\n")
    return dict(line.split("=", 1) for line in env_text.splitlines()), argv.rstrip("\n")


def placed(text, places):
    """text with the machine's paths as manifest.json writes them."""
    for path, name in sorted(places.items(), key=lambda p: -len(p[0])):
        text = text.replace(path, name)
    return text


def go_settings(goroot, binary):
    """The `build` settings the go command embedded in binary."""
    out = subprocess.run([f"{goroot}/bin/go", "version", "-m", str(binary)], capture_output=True, text=True,
                         check=True).stdout
    settings = {}
    for line in out.splitlines():
        parts = line.strip().split("\t")
        if parts[0] == "build":
            key, _, value = parts[1].partition("=")
            settings[key] = value
    return settings


def test_print_env_is_what_the_job_ran_with(tmp_path, sdk_session):
    proj = write_project(tmp_path / "jv", {"main.go": MAIN, "release.lua": RELEASE}, sdk_session)
    env = sdk_session["env"]
    shown = {t: print_env(proj, env, t) for t in ("linux/amd64", "linux/arm64")}
    r = run_xgo("run", cwd=proj, env=env)
    assert r.rc == 0, r
    manifest = json.loads((proj / "dist/manifest.json").read_text())
    jobs = {j["target"]: j for j in manifest["jobs"]}
    for target, (penv, argv) in shown.items():
        job = jobs[target]
        out = next(a for a in job["argv"] if a.startswith("/<dist>/"))
        name = target.replace("/", "_")
        places = {penv["GOROOT"]: "/<sdk>", penv["GOCACHE"]: "/<gocache>", penv["GOMODCACHE"]: "/<gomodcache>",
                  penv["HOME"][:-len(f"/jobs/jv_{name}/home")]: "/<work>",
                  argv.split(" -o ")[1].split(" ")[0][:-len(out) + len("/<dist>")]: "/<dist>"}
        # the runner's record: the same variables and values, the same argv (but the CPU share)
        recorded = dict(kv.split("=", 1) for kv in job["env"])
        want = {k: placed(v, places) for k, v in penv.items() if k not in TUNING}
        assert {k: v for k, v in recorded.items() if k not in TUNING} == want
        assert want["JV_SET"] == "from-release" and want["HOME"] == f"/<work>/jobs/jv_{name}/home"
        no_p = [a for a in placed(argv, places).split(" ") if not a.startswith("-p=")]
        assert " ".join(a for a in job["argv"] if not a.startswith("-p=")) == " ".join(no_p)
        # what the go command saw, in its own words
        binary = proj / "dist" / job["output"]
        settings = go_settings(penv["GOROOT"], binary)
        variant = "GOAMD64" if target.endswith("amd64") else "GOARM64"
        for key in ("GOOS", "GOARCH", "CGO_ENABLED", variant):
            assert settings[key] == penv[key], (key, settings, penv)
        assert f"-tags={settings['-tags']}" in argv.split(" ")
        assert settings["-trimpath"] == "true" and "-trimpath" in penv["GOFLAGS"].split(" ")
        assert "-ldflags=-X main.version=1.4.2-linux" in argv
    ran = subprocess.run([proj / "dist" / jobs["linux/amd64"]["output"]], capture_output=True, text=True)
    assert ran.stdout == "1.4.2-linux\n"
