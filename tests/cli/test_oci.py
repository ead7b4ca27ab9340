"""OCI images (image { ... }): a multi-platform OCI image layout in
dist/<name>-oci/, checked with skopeo (inspect, copy) and umoci (unpack),
whose unpacked binaries run (arm64 under qemu-user when it is installed),
byte-identical across runs, listed in SHA256SUMS and manifest.json."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import run_xgo, sums, write_project

EPOCH = "1700000000"
MAIN = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("srv ok") }\n'
RELEASE = """project { name = "srv", version = "0.1.0" }
go "1.26.8"
build "srv" { main = "./cmd/srv", targets = matrix { goos = { "linux" }, goarch = { "amd64", "arm64" } } }
image { name = %s, files = { { src = "LICENSE", dst = "etc/srv/LICENSE" } },
        labels = { ["org.opencontainers.image.title"] = "srv" }%s }
"""


def tool(name):
    path = shutil.which(name)
    if not path:
        pytest.skip(f"{name} is not installed (Debian package {name}; ./configure --deps installs it)")
    return path


def project(tmp_path, sdk_session, name='"srv"', extra=""):
    return write_project(tmp_path / "srv", {"cmd/srv/main.go": MAIN, "LICENSE": "MIT\n",
                                            "release.lua": RELEASE % (name, extra)}, sdk_session)


def run(proj, sdk_session, *args, **env):
    r = run_xgo("run", *args, cwd=proj, env=dict(sdk_session["env"], SOURCE_DATE_EPOCH=EPOCH, **env))
    assert r.rc == 0, r
    return proj / "dist"


def skopeo(*args):
    out = subprocess.run([tool("skopeo"), *map(str, args)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def unpack(layout, tag, bundle):
    argv = [tool("umoci"), "unpack", "--image", f"{layout}:{tag}", str(bundle)]
    if os.geteuid() != 0:
        argv.insert(2, "--rootless")
    out = subprocess.run(argv, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return bundle / "rootfs"


def layout_files(layout):
    return {str(p.relative_to(layout)): p.read_bytes() for p in sorted(layout.rglob("*")) if p.is_file()}


def test_image_layout_passes_skopeo_and_umoci_runs_and_is_identical(tmp_path, sdk_session):
    proj = project(tmp_path, sdk_session)
    dist = run(proj, sdk_session)
    layout = dist / "srv-oci"
    raw = json.loads(skopeo("inspect", "--raw", f"oci:{layout}:0.1.0"))
    assert raw["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert sorted(m["platform"]["architecture"] for m in raw["manifests"]) == ["amd64", "arm64"]
    for arch in ("amd64", "arm64"):
        info = json.loads(skopeo("--override-os", "linux", "--override-arch", arch, "inspect",
                                 f"oci:{layout}:0.1.0"))
        assert info["Architecture"] == arch and info["Os"] == "linux"
        assert info["Labels"] == {"org.opencontainers.image.title": "srv"}
        assert info["Created"].startswith("2023-11-14T22:13:20")
        assert len(info["Layers"]) == 1
    cfg = json.loads(skopeo("inspect", "--config", f"oci:{layout}:0.1.0-amd64"))
    assert cfg["config"]["Entrypoint"] == ["/usr/local/bin/srv"]
    skopeo("copy", "--all", f"oci:{layout}:0.1.0", f"oci:{tmp_path / 'copy'}:0.1.0")  # verifies every digest

    rootfs = unpack(layout, "0.1.0-amd64", tmp_path / "b-amd64")
    assert (rootfs / "etc/srv/LICENSE").read_text() == "MIT\n"
    out = subprocess.run([rootfs / "usr/local/bin/srv"], capture_output=True, text=True, check=True)
    assert out.stdout == "srv ok\n"
    assert (rootfs / "usr/local/bin/srv").read_bytes() == (dist / "srv_linux_amd64/srv").read_bytes()
    rootfs = unpack(layout, "0.1.0-arm64", tmp_path / "b-arm64")
    assert (rootfs / "usr/local/bin/srv").read_bytes() == (dist / "srv_linux_arm64/srv").read_bytes()
    qemu = shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")
    if qemu:  # qemu-user-static is in configure --deps; without it only the bytes are compared
        out = subprocess.run([qemu, rootfs / "usr/local/bin/srv"], capture_output=True, text=True, check=True)
        assert out.stdout == "srv ok\n"

    s = sums(dist)
    files = layout_files(layout)
    assert {f"srv-oci/{n}" for n in files} <= set(s)
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    m = json.loads((dist / "manifest.json").read_text())
    (img,) = m["images"]
    assert img["layout"] == "srv-oci" and img["tag"] == "0.1.0"
    assert img["index_digest"] == "sha256:" + s[f"srv-oci/blobs/sha256/{img['index_digest'][7:]}"]
    assert [p["platform"] for p in img["platforms"]] == ["linux/amd64", "linux/arm64"]
    for name, data in files.items():
        if name.startswith("blobs/sha256/") and data[:2] == b"\x1f\x8b":
            assert data[4:8] == b"\0\0\0\0" and not data[3] & 0x08, "gzip without time or name"

    again = run(proj, sdk_session, "--dist", tmp_path / "again", TZ="Asia/Tokyo", LC_ALL="C.UTF-8")
    assert layout_files(again / "srv-oci") == files

    # that image as the pinned base of another: its layers below ours
    shutil.copytree(layout, proj / "base-oci")
    (proj / "release.lua").write_text(
        RELEASE.replace("etc/srv", "etc/app") % ('"app"', f', base = "base-oci@{img["index_digest"]}"'))
    dist = run(proj, sdk_session)
    info = json.loads(skopeo("inspect", f"oci:{dist / 'app-oci'}:0.1.0"))
    assert len(info["Layers"]) == 2 and info["Layers"][0] == img["platforms"][0]["layer"]
    rootfs = unpack(dist / "app-oci", "0.1.0-amd64", tmp_path / "b-app")
    assert (rootfs / "etc/srv/LICENSE").exists() and (rootfs / "etc/app/LICENSE").exists()
    out = subprocess.run([rootfs / "usr/local/bin/srv"], capture_output=True, text=True, check=True)
    assert out.stdout == "srv ok\n"
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("name, extra, want", [
    ('"srv"', ', platforms = { "linux/riscv64" }', "platforms: 'linux/riscv64' is not built"),
    ('"Srv"', "", "name 'Srv' is no image name"),
    ('"srv"', ', base = "alpine"', "base 'alpine': want \"scratch\" or a local OCI layout pinned by digest"),
    ('"srv"', ', base = "none-oci@sha256:' + "0" * 64 + '"', "cannot"),
    ('"srv"', ', entrypoint = "/x", platform = { }', "unknown key 'platform' (did you mean 'platforms'?)"),
])
def test_bad_image_declarations_are_exit_2(tmp_path, sdk_session, name, extra, want):
    proj = project(tmp_path, sdk_session, name, extra)
    r = run_xgo("plan", cwd=proj, env=sdk_session["env"])
    assert r.rc == 2, r
    assert "release.lua:4: image" in r.err and want in r.err, r
