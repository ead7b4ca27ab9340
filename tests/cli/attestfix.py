"""A small project with two real module dependencies, for the provenance and
SBOM tests: the modules are served by a GOPROXY directory (file://) made here,
go.sum is written by the real go command, and the project is built by the
real binary with that proxy passed through to its prefetch."""
import io
import json
import os
import pathlib
import shutil
import subprocess
import zipfile

from conftest import write_project

MODULES = {
    ("example.com/dep", "v1.2.0"): {"dep.go": "package dep\n\nfunc Name() string { return \"dep\" }\n"},
    ("example.com/other", "v0.3.1"): {"other.go": "package other\n\nfunc Name() string { return \"other\" }\n"},
}

MAIN = """package main

import (
\t"fmt"

\t"example.com/dep"
\t"example.com/other"
)

func main() { fmt.Println(dep.Name(), other.Name()) }
"""

RELEASE = """project {{ name = "att", version = "1.0.0" }}
go "1.26.8"
build "att" {{ main = "./cmd/att", targets = matrix {{ goos = {{ "linux", "windows" }}, goarch = {{ "amd64" }} }} }}
archive {{ format = "tar.gz", format_overrides = {{ windows = "zip" }}, name = "{{name}}_{{version}}_{{os}}_{{arch}}" }}
{extra}
"""


def make_proxy(base):
    """A GOPROXY tree (the module proxy protocol as files) for MODULES."""
    for (path, version), files in MODULES.items():
        d = base / path / "@v"
        d.mkdir(parents=True, exist_ok=True)
        gomod = f"module {path}\n\ngo 1.21\n"
        (d / "list").write_text(version + "\n")
        (d / f"{version}.info").write_text(json.dumps({"Version": version, "Time": "2024-01-01T00:00:00Z"}))
        (d / f"{version}.mod").write_text(gomod)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(f"{path}@{version}/go.mod", gomod)
            for name, text in files.items():
                z.writestr(f"{path}@{version}/{name}", text)
        (d / f"{version}.zip").write_bytes(buf.getvalue())
    return base


def proxy_env(proxy):
    return {"GOPROXY": f"file://{proxy}", "GOSUMDB": "off", "GONOSUMDB": "*"}


def make_project(dirpath, sdk_session, proxy, extra=""):
    """The project at dirpath, its go.sum written by `go mod tidy`."""
    requires = "".join(f"\t{p} {v}\n" for (p, v) in MODULES)
    write_project(dirpath, {
        "go.mod": f"module example.com/att\n\ngo 1.26\n\nrequire (\n{requires})\n",
        "cmd/att/main.go": MAIN,
        "release.lua": RELEASE.format(extra=extra),
    }, sdk_session)
    env = dict(os.environ, GOFLAGS="-mod=mod", GOTOOLCHAIN="local", GOMODCACHE=str(dirpath.parent / "tidy-modcache"),
               GOCACHE=sdk_session["env"]["XGO_GOCACHE"], **proxy_env(proxy))
    subprocess.run(["go", "mod", "tidy"], cwd=dirpath, env=env, check=True, capture_output=True)
    shutil.rmtree(dirpath.parent / "tidy-modcache", ignore_errors=True)  # read-only files: go leaves them so
    return dirpath


def gosum(dirpath):
    """{path@version: h1} of the zip lines of go.sum."""
    out = {}
    for line in (dirpath / "go.sum").read_text().splitlines():
        path, version, h1 = line.split()
        if not version.endswith("/go.mod"):
            out[f"{path}@{version}"] = h1
    return out


def load(path):
    return json.loads(pathlib.Path(path).read_text())
