"""Every bundled example runs with its own committed release.lock, exactly as
a new user runs it after the README's first command (issue 18, item 12).
examples/hello makes every kind of output (issue 20): archives, a universal
binary, deb and rpm packages and an OCI image, each checked by its
ecosystem's tool and installed or run, and identical when rebuilt elsewhere.

examples/hello runs whole here; examples/cgo runs whole in test_cgo.py
(test_example_builds_every_target), whose fixture uses the committed lock
unchanged.  Here it is checked that the committed pins hold on this machine:
`lock` in a copy writes the same pins as are committed."""
import glob
import hashlib
import json
import os
import shutil
import subprocess

import pytest

from conftest import ROOT, RUN_RECORDS, run_xgo


def _copy(name, dest):
    shutil.copytree(ROOT / "examples" / name, dest, ignore=shutil.ignore_patterns("dist", ".xgo-build"))
    return dest


def _tool(name):
    found = shutil.which(name) or (sorted(glob.glob(f"/usr/bin/{name}-[0-9]*")) or [None])[-1]
    if not found:
        pytest.skip(f"{name} is not installed (./configure --deps installs it)")
    return found


def _out(*argv, **kw):
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kw)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


@pytest.fixture(scope="module")
def hello(tmp_path_factory, sdk_session):
    proj = _copy("hello", tmp_path_factory.mktemp("ex") / "hello")
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 0, r
    return proj


def test_example_hello_runs_with_its_committed_lock(hello):
    _out("sha256sum", "-c", "--quiet", "SHA256SUMS", cwd=hello / "dist")
    assert (hello / "release.lock").read_text() == (ROOT / "examples/hello/release.lock").read_text()


def test_example_hello_provenance_names_every_published_file(hello):
    """Packages, the universal binary, the image layout and the SBOMs are
    subjects of the provenance, as every file SHA256SUMS lists is."""
    dist = hello / "dist"
    listed = {ln.split("  ", 1)[1] for ln in (dist / "SHA256SUMS").read_text().splitlines()}
    subjects = {s["name"]: s["digest"]["sha256"] for s in json.loads((dist / "provenance.json").read_text())["subject"]}
    assert listed <= set(subjects), sorted(listed - set(subjects))
    for kind in (".deb", ".rpm", "hello-oci/index.json", "_darwin_all.tar.gz", "hello_darwin_all/hello", ".spdx.json"):
        assert any(n.endswith(kind) for n in subjects), kind
    for name, digest in subjects.items():
        assert hashlib.sha256((dist / name).read_bytes()).hexdigest() == digest, name


def test_example_hello_debs_pass_lintian_and_install(hello, tmp_path):
    debs = sorted((hello / "dist").glob("*.deb"))
    assert [d.name.split("_")[2] for d in debs] == ["amd64.deb", "arm64.deb", "armel.deb", "armhf.deb", "i386.deb"]
    lint = subprocess.run([_tool("lintian"), "--no-cfg", *map(str, debs)], capture_output=True, text=True)
    assert not [ln for ln in lint.stdout.splitlines() if ln.startswith("E:")], lint.stdout
    root = tmp_path / "root"
    (root / "var/lib/dpkg/updates").mkdir(parents=True)
    (root / "var/lib/dpkg/info").mkdir()
    (root / "var/lib/dpkg/status").write_text("")
    if os.geteuid() == 0:
        _out("dpkg", "--root", root, "--force-depends", "--force-script-chrootless", "--log=/dev/null", "-i", debs[0])
    else:
        _out("dpkg", "-x", debs[0], root)
    assert _out(root / "usr/bin/hello", "--version") == "hello 0.1.0 linux/amd64\n"


def test_example_hello_rpms_check_and_install(hello, tmp_path):
    rpms = sorted((hello / "dist").glob("*.rpm"))
    assert [r.name.split(".")[-2] for r in rpms] == ["aarch64", "armv6hl", "armv7hl", "i686", "x86_64"]
    for line in _out(_tool("rpm"), "-K", *rpms).splitlines():
        assert line.endswith(": digests OK"), line
    root = tmp_path / "root"
    root.mkdir()
    _out("rpm", "--root", root, "--dbpath", "/var/lib/rpm", "--nodeps", "--noscripts", "-i", rpms[-1])
    assert _out(root / "usr/bin/hello", "--version") == "hello 0.1.0 linux/amd64\n"


def test_example_hello_universal_binary_passes_lipo(hello):
    fat = hello / "dist/hello_darwin_all/hello"
    assert _out(_tool("llvm-lipo"), "-info", fat).split(":")[-1].split() == ["x86_64", "arm64"]
    assert (hello / "dist/hello_0.1.0_darwin_all.tar.gz").is_file()


def test_example_hello_image_passes_skopeo_and_its_entrypoint_runs(hello, tmp_path):
    layout = hello / "dist/hello-oci"
    info = json.loads(_out(_tool("skopeo"), "inspect", f"oci:{layout}:0.1.0-amd64"))
    assert info["Architecture"] == "amd64" and info["Labels"]["org.opencontainers.image.title"] == "hello"
    argv = [_tool("umoci"), "unpack", "--image", f"{layout}:0.1.0-amd64", tmp_path / "bundle"]
    if os.geteuid() != 0:
        argv.insert(2, "--rootless")
    _out(*argv)
    config = json.loads((tmp_path / "bundle/config.json").read_text())
    entry = config["process"]["args"]
    rootfs = tmp_path / "bundle/rootfs"
    assert _out(str(rootfs) + entry[0], "--version") == "hello 0.1.0 linux/amd64\n"
    assert (rootfs / "usr/share/doc/hello/LICENSE").read_bytes() == (ROOT / "examples/hello/LICENSE").read_bytes()


def _published(dist):
    return {str(p.relative_to(dist)): p.read_bytes() for p in sorted(dist.rglob("*"))
            if p.is_file() and p.name not in RUN_RECORDS}


def test_example_hello_rebuilt_elsewhere_is_identical(hello, tmp_path, sdk_session):
    """Another path, umask and time zone, and an empty action cache (the SDK
    installed again; the go build cache shared, so every binary is linked
    again, not compiled): every published file (packages, image blobs, the
    fat binary, SBOMs included) is the same."""
    other = _copy("hello", tmp_path / "elsewhere" / "hello")
    env = dict(sdk_session["env"], TZ="Pacific/Auckland", XGO_CACHE=str(tmp_path / "cache"))
    old = os.umask(0o077)
    try:
        r = run_xgo("run", cwd=other, env=env)
    finally:
        os.umask(old)
    assert r.rc == 0, r
    first, second = _published(hello / "dist"), _published(other / "dist")
    assert sorted(first) == sorted(second)
    assert [n for n in first if first[n] != second[n]] == []


def test_example_cgo_committed_zig_pin_matches_this_machine(tmp_path, sdk_session):
    """The zig pin covers exactly what the ziglang wheel ships: pip's and
    Python's __pycache__ byte code is left out, so a fresh `configure --deps`
    install matches the committed pin."""
    proj = _copy("cgo", tmp_path / "cgo")
    committed = json.loads((proj / "release.lock").read_text())
    r = run_xgo("lock", cwd=proj, env=sdk_session["env"])
    assert r.rc == 0, r
    relocked = json.loads((proj / "release.lock").read_text())
    assert relocked["zig"] == committed["zig"]
