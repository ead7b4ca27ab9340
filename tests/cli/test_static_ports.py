"""The static check knows Go's ports (issue 18 item 7): with cgo off Go
itself links openbsd, android and solaris/illumos against the system's C
library, and wasm has no loader at all; the default static = true passes
them.  A binary that needs more than its port's system libraries still
fails: tests/unit/test_static.c (loaders by port) and the linux cases of
tests/cli/test_cgo.py."""
import json

from conftest import run_xgo, write_project

PORTS = ["openbsd/amd64", "android/arm64", "illumos/amd64", "js/wasm", "linux/amd64"]


def test_default_static_passes_every_port_go_links_itself(tmp_path, sdk_session):
    include = ", ".join('{ goos = "%s", goarch = "%s" }' % tuple(p.split("/")) for p in PORTS)
    rel = ('project { name = "p", version = "1.0.0" }\ngo "1.26.8"\n'
           f'build "p" {{ targets = matrix {{ goos = {{ "linux" }}, goarch = {{ "amd64" }}, include = {{ {include} }} }} }}\n')
    proj = write_project(tmp_path / "p", {"release.lua": rel, "main.go": 'package main\n\nfunc main() { println("p") }\n'},
                         sdk_session)
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 0, r
    jobs = json.loads((proj / "dist/manifest.json").read_text())["jobs"]
    assert sorted(j["target"] for j in jobs) == sorted(PORTS), jobs
