"""SBOMs of every binary: SPDX 2.3 checked by spdx-tools (pyspdxtools),
CycloneDX 1.6 by cyclonedx-python-lib's strict JSON schema validator, the
module set against `go version -m` and syft's scan of the same binary, listed
in SHA256SUMS and manifest.json, and bit-identical across rebuilds."""
import hashlib
import json
import os
import shutil
import subprocess

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from attestfix import load, make_project, make_proxy, proxy_env
from conftest import run_xgo

BOTH = 'sbom { formats = { "spdx", "cyclonedx" } }'
BINARIES = ["att_linux_amd64/att", "att_windows_amd64/att.exe"]


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    return make_proxy(tmp_path_factory.mktemp("goproxy"))


def run(proj, sdk_session, proxy, *args):
    return run_xgo("run", *args, cwd=proj, env=dict(sdk_session["env"], **proxy_env(proxy)))


@pytest.fixture(scope="module")
def built(tmp_path_factory, sdk_session, proxy):
    proj = make_project(tmp_path_factory.mktemp("sbom") / "att", sdk_session, proxy, extra=BOTH)
    r = run(proj, sdk_session, proxy)
    assert r.rc == 0, r
    return proj / "dist"


def go_version_m(binary):
    """{path: (version, sum)} of the deps `go version -m` reads."""
    out = subprocess.run(["go", "version", "-m", str(binary)], capture_output=True, text=True, check=True).stdout
    deps = {}
    for line in out.splitlines():
        f = line.strip().split("\t")
        if f[0] == "dep":
            deps[f[1]] = (f[2], f[3] if len(f) > 3 else "")
    return deps


def test_spdx_documents_pass_spdx_tools_and_name_every_module(built):
    for name in BINARIES:
        path = built / f"{name}.spdx.json"
        r = subprocess.run(["pyspdxtools", "-i", str(path)], capture_output=True, text=True)
        assert r.returncode == 0 and "ERROR" not in r.stderr, r.stderr
        doc = load(path)
        assert doc["spdxVersion"] == "SPDX-2.3" and doc["creationInfo"]["created"] == "1980-01-01T00:00:00Z"
        pkgs = {p["name"]: p for p in doc["packages"]}
        binary = pkgs[name.split("/")[1]]
        assert binary["checksums"] == [{"algorithm": "SHA256",
                                        "checksumValue": hashlib.sha256((built / name).read_bytes()).hexdigest()}]
        assert {"comment": "go build setting GOOS=" + name.split("_")[1]}.items() <= \
            next(a for a in binary["annotations"] if "GOOS" in a["comment"]).items()
        for path_, (version, h1) in go_version_m(built / name).items():
            p = pkgs[path_]
            assert p["versionInfo"] == version and p["comment"] == "go.sum " + h1
            assert p["externalRefs"][0]["referenceLocator"] == f"pkg:golang/{path_}@{version}"
        assert pkgs["stdlib"]["versionInfo"] == "go1.26.8"


def test_spdx_tools_refuse_a_broken_document(built, tmp_path):
    """The validator can fail: the check above means something."""
    doc = load(built / f"{BINARIES[0]}.spdx.json")
    doc["packages"][1]["SPDXID"] = "not an id"
    bad = tmp_path / "bad.spdx.json"
    bad.write_text(json.dumps(doc))
    r = subprocess.run(["pyspdxtools", "-i", str(bad)], capture_output=True, text=True)
    assert r.returncode != 0 or "ERROR" in r.stderr + r.stdout


def test_cyclonedx_documents_pass_the_1_6_schema(built):
    validator = JsonStrictValidator(SchemaVersion.V1_6)
    for name in BINARIES:
        text = (built / f"{name}.cdx.json").read_text()
        assert validator.validate_str(text) is None
        doc = json.loads(text)
        purls = {c["purl"] for c in doc["components"]}
        for path_, (version, _) in go_version_m(built / name).items():
            assert f"pkg:golang/{path_}@{version}" in purls
        assert doc["serialNumber"].startswith("urn:uuid:") and doc["metadata"]["timestamp"] == "1980-01-01T00:00:00Z"
    bad = json.loads((built / f"{BINARIES[0]}.cdx.json").read_text())
    bad["components"][0]["type"] = "not-a-type"
    assert validator.validate_str(json.dumps(bad)) is not None


def test_sboms_are_in_sha256sums_and_the_manifest(built):
    r = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=built, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    listed = {line.split("  ", 1)[1] for line in (built / "SHA256SUMS").read_text().splitlines()}
    want = {f"{b}.{k}.json" for b in BINARIES for k in ("spdx", "cdx")}
    assert want <= listed
    sboms = {s["name"]: s for s in load(built / "manifest.json")["sboms"]}
    assert set(sboms) == want
    assert sboms["att_linux_amd64/att.cdx.json"]["format"] == "cyclonedx-1.6"
    assert sboms["att_linux_amd64/att.spdx.json"]["target"] == "linux/amd64"
    for name, s in sboms.items():
        assert hashlib.sha256((built / name).read_bytes()).hexdigest() == s["sha256"]


def test_sboms_are_identical_in_a_rebuild_elsewhere(built, tmp_path, sdk_session, proxy):
    proj = make_project(tmp_path / "elsewhere" / "att", sdk_session, proxy, extra=BOTH)
    r = run(proj, sdk_session, proxy, "--no-cache")
    assert r.rc == 0, r
    for b in BINARIES:
        for kind in ("spdx", "cdx"):
            assert (proj / "dist" / f"{b}.{kind}.json").read_bytes() == (built / f"{b}.{kind}.json").read_bytes()


def test_default_is_spdx_only(tmp_path, sdk_session, proxy):
    proj = make_project(tmp_path / "att", sdk_session, proxy)
    r = run(proj, sdk_session, proxy)
    assert r.rc == 0, r
    assert (proj / "dist/att_linux_amd64/att.spdx.json").is_file()
    assert not (proj / "dist/att_linux_amd64/att.cdx.json").exists()


@pytest.mark.parametrize("decl,msg", [
    ('sbom { formats = { "cyclonedex" } }', "sbom: unknown format 'cyclonedex' (spdx or cyclonedx; did you mean 'cyclonedx'?)"),
    ('sbom { format = { "spdx" } }', "sbom"),
])
def test_bad_sbom_declaration_is_exit_2(tmp_path, sdk_session, proxy, decl, msg):
    proj = make_project(tmp_path / "att", sdk_session, proxy, extra=decl)
    r = run(proj, sdk_session, proxy)
    assert r.rc == 2 and "release.lua:5: " in r.err and msg in r.err, r
    assert not (proj / "dist").exists()


def syft_binary():
    found = shutil.which("syft") or os.environ.get("XGO_SYFT")
    gopath = subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True).stdout.strip()
    if not found and gopath and os.access(os.path.join(gopath, "bin", "syft"), os.X_OK):
        found = os.path.join(gopath, "bin", "syft")
    return found


def test_module_set_matches_syft(built):
    syft = syft_binary()
    if not syft:
        pytest.skip("syft is not installed: 'go install github.com/anchore/syft/cmd/syft@v1.57.1' takes over "
                    "10 minutes on 2 cores, so configure --deps leaves it out; install it to run this check")
    for name in BINARIES:
        r = subprocess.run([syft, "scan", f"file:{built / name}", "-o", "json", "-q"], capture_output=True, text=True,
                           env=dict(os.environ, SYFT_CHECK_FOR_APP_UPDATE="false"), timeout=300)
        assert r.returncode == 0, r.stderr
        theirs = {f'{a["name"]}@{a["version"]}' for a in json.loads(r.stdout)["artifacts"]
                  if a["type"] == "go-module" and a["name"] not in ("stdlib", "example.com/att")}
        ours = {f'{p["name"]}@{p["versionInfo"]}' for p in load(built / f"{name}.spdx.json")["packages"]
                if p["SPDXID"].startswith("SPDXRef-Package-module-")}
        assert ours == theirs and len(ours) == 2
