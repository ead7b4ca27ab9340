"""verify-release end to end: a signed release of a project with two real
modules (attestfix), checked against its checkout -- release.lock's SDK
pin, go.sum's modules, the build file and the source tree digest against
the provenance's resolved dependencies -- and rebuilt there; each kind of
mismatch is exit 3 naming the file and the field."""
import re
import shutil

import pytest

from attestfix import make_project, make_proxy, proxy_env
from conftest import run_xgo

EPOCH = "1700000000"
SIGNING = 'signing { key = env("XGO_SIGNING_KEY_FILE"), archives = true }'


@pytest.fixture(scope="module")
def release(tmp_path_factory, sdk_session):
    """(project, dist, public key, env): a signed release built in project."""
    base = tmp_path_factory.mktemp("vr")
    proxy = make_proxy(base / "goproxy")
    r = run_xgo("keygen", "-W", "-p", base / "k.pub", "-s", base / "k.key")
    assert r.rc == 0, r
    proj = make_project(base / "att", sdk_session, proxy, extra=SIGNING)
    env = dict(sdk_session["env"], SOURCE_DATE_EPOCH=EPOCH, XGO_SIGNING_KEY_FILE=str(base / "k.key"),
               **proxy_env(proxy))
    r = run_xgo("run", cwd=proj, env=env)
    assert r.rc == 0, r
    return proj, proj / "dist", base / "k.pub", env


def test_one_command_checks_the_checkout_and_rebuilds(release):
    proj, dist, pub, env = release
    # the current directory holds release.lua: it is the source
    r = run_xgo("verify-release", "dist", "--key", pub, cwd=proj, env=env)
    assert r.rc == 0, r
    for step in ("ok: SHA256SUMS.minisig verifies SHA256SUMS",
                 "ok: provenance.intoto.jsonl is signed by the key",
                 "ok: release.lock pins the Go SDK the provenance names",
                 "ok: the 2 modules of go.sum are the provenance's, with their h1 hashes",
                 "ok: release.lua is the build file the provenance names",
                 "ok: the source tree",
                 "ok: a rebuild of '.' is identical to dist"):
        assert step in r.err, (step, r.err)
    assert re.search(r"verified, and rebuilt bit for bit", r.err)


def test_no_rebuild_and_no_source(release, tmp_path):
    proj, dist, pub, env = release
    r = run_xgo("verify-release", dist, "--key", pub, "--source", proj, "--no-rebuild", env=env)
    assert r.rc == 0, r
    assert "ok: the source tree" in r.err and "rebuild" not in r.err.split("ok: the source tree")[1].split("\n")[0]
    assert "ok: a rebuild" not in r.err
    r = run_xgo("verify-release", "dist", "--key", pub, "--no-source", cwd=proj, env=env)
    assert r.rc == 0, r
    assert "release.lock" not in r.err


def checkout(release, tmp_path):
    """A copy of the release's checkout, without its dist/."""
    proj = tmp_path / "src"
    shutil.copytree(release[0], proj, ignore=shutil.ignore_patterns("dist", ".xgo-build"))
    return proj


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("change", ["gosum-hash", "gosum-extra", "gosum-missing", "lock-sha", "lock-tree",
                                    "lock-go", "build-file", "source-file"])
def test_a_checkout_that_is_not_the_release_is_exit_3_naming_it(release, tmp_path, change):
    _, dist, pub, env = release
    src = checkout(release, tmp_path)
    gosum, lock = src / "go.sum", src / "release.lock"
    lines = gosum.read_text().splitlines(keepends=True)
    zip_line = next(x for x in lines if "/go.mod" not in x)
    mod = "@".join(zip_line.split()[:2])
    if change == "gosum-hash":
        h1 = zip_line.split()[2]
        edit(gosum, h1, "h1:" + ("A" if h1[3] != "A" else "B") + h1[4:])
        want = [str(gosum), mod, "h1 hash"]
    elif change == "gosum-extra":
        gosum.write_text(gosum.read_text() + "example.com/more v1.0.0 h1:" + "A" * 43 + "=\n")
        want = [str(gosum), "example.com/more@v1.0.0", "is not in the provenance"]
    elif change == "gosum-missing":
        gosum.write_text("".join(x for x in lines if x != zip_line))
        want = [str(gosum), mod, "is not in it"]
    elif change == "lock-sha":
        sha = re.search(r'"sha256": "([0-9a-f]{64})"', lock.read_text()).group(1)
        edit(lock, sha, ("0" if sha[0] != "0" else "1") + sha[1:])
        want = [str(lock), ".sha256 is"]
    elif change == "lock-tree":
        tree = re.search(r'"tree_digest": "([0-9a-f]{64})"', lock.read_text()).group(1)
        edit(lock, tree, ("0" if tree[0] != "0" else "1") + tree[1:])
        want = [str(lock), ".tree_digest is"]
    elif change == "lock-go":
        edit(lock, '"go": "1.26.8"', '"go": "1.26.7"')
        want = [str(lock)]
    elif change == "build-file":
        (src / "release.lua").write_text((src / "release.lua").read_text() + "-- edited\n")
        want = ["release.lua", "externalParameters.buildFile.digest"]
    else:
        (src / "extra.txt").write_text("not released\n")
        want = [str(src), "source tree digest", "'source'"]
    r = run_xgo("verify-release", dist, "--key", pub, "--source", src, env=env)
    assert r.rc == 3, r
    for w in want:
        assert w in r.err, (w, r.err)
    assert "does not verify" in r.err and "ok: a rebuild" not in r.err


def test_bad_usage_is_exit_2(release, tmp_path):
    proj, dist, pub, env = release
    for args in (["--source", tmp_path / "none"], ["--source", proj, "--no-source"]):
        r = run_xgo("verify-release", dist, "--key", pub, *args, env=env)
        assert r.rc == 2, r
        assert "xgo-build: error:" in r.err


@pytest.fixture
def served(release, tmp_path):
    """A copy of the release served over HTTP on loopback: (its dir, base URL)."""
    import functools
    import http.server
    import threading
    root = tmp_path / "www"
    shutil.copytree(release[1], root / "rel")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.func.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield root / "rel", f"http://127.0.0.1:{srv.server_address[1]}/rel/"
    srv.shutdown()
    srv.server_close()
    t.join()


def test_a_release_at_a_url_verifies_against_the_checkout(release, served):
    proj, _, pub, env = release
    r = run_xgo("verify-release", served[1], "--key", pub, "--source", proj, "--no-rebuild", env=env)
    assert r.rc == 0, r
    assert re.search(r"fetched \d+ files of http://127\.0\.0\.1:\d+/rel/ into ", r.err), r.err
    for step in ("ok: SHA256SUMS.minisig verifies SHA256SUMS", "ok: provenance.intoto.jsonl is signed",
                 "provenance subjects have those sha256 digests", "ok: the source tree"):
        assert step in r.err, (step, r.err)
    tmp = re.search(r" into (\S+)", r.err).group(1)
    assert not __import__("os").path.exists(tmp), "the fetched copy is removed"


def flip_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["flip", "missing"])
def test_a_damaged_file_at_the_url_is_exit_3_naming_it(release, served, damage):
    _, _, pub, env = release
    name = sorted(p.name for p in served[0].glob("*.tar.gz"))[0]
    if damage == "flip":
        flip_byte(served[0] / name)
    else:
        (served[0] / name).unlink()
    r = run_xgo("verify-release", served[1], "--key", pub, "--no-source", env=env)
    assert r.rc == 3, r
    assert name in r.err and "does not verify" in r.err


def test_names_from_the_url_pass_the_path_rules(release, served, tmp_path):
    _, _, pub, env = release
    sums = served[0] / "SHA256SUMS"
    sums.write_text(sums.read_text() + "0" * 64 + "  ../../escape\n")
    r = run_xgo("verify-release", served[1], "--key", pub, "--no-source", env=env)
    assert r.rc == 2, r
    assert "xgo-build: error:" in r.err and "../../escape" in r.err
    assert not (tmp_path / "escape").exists()
    r = run_xgo("verify-release", served[1] + "nothing/", "--key", pub, "--no-source", env=env)
    assert r.rc == 2, r
    assert "has no SHA256SUMS" in r.err


# ---- the done-when checks on a signed release of examples/hello ----

@pytest.fixture(scope="module")
def hello(tmp_path_factory, sdk_session):
    """examples/hello (two of its targets), signed with its archives: (dist, pub, key)."""
    from conftest import ROOT
    base = tmp_path_factory.mktemp("hello")
    r = run_xgo("keygen", "-W", "-p", base / "k.pub", "-s", base / "k.key")
    assert r.rc == 0, r
    r = run_xgo("keygen", "-W", "-p", base / "other.pub", "-s", base / "other.key")
    assert r.rc == 0, r
    proj = base / "hello"
    shutil.copytree(ROOT / "examples/hello", proj, ignore=shutil.ignore_patterns("dist", ".xgo-build"))
    (proj / "release.lock").write_text(sdk_session["lock"])
    (proj / "release.lua").write_text((proj / "release.lua").read_text() + "\n" + SIGNING + "\n")
    env = dict(sdk_session["env"], SOURCE_DATE_EPOCH=EPOCH, XGO_SIGNING_KEY_FILE=str(base / "k.key"))
    r = run_xgo("run", "--target", "linux/amd64", "--target", "windows/amd64", cwd=proj, env=env)
    assert r.rc == 0, r
    return proj / "dist", base


def test_hello_release_is_accepted_by_minisign_securesystemslib_in_toto_and_spdx_tools(hello):
    import base64
    import json
    import subprocess
    from google.protobuf import json_format
    from in_toto_attestation.v1 import statement_pb2
    from in_toto_attestation.v1.statement import Statement
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey
    dist, keys = hello
    signed = ["SHA256SUMS", *sorted(p.name for p in dist.glob("*.tar.gz")), *sorted(p.name for p in dist.glob("*.zip"))]
    assert len(signed) == 3
    for name in signed:
        m = subprocess.run(["minisign", "-V", "-p", keys / "k.pub", "-m", dist / name], capture_output=True, text=True)
        assert m.returncode == 0, m.stdout + m.stderr
    # the DSSE envelope, by securesystemslib with the minisign public key's raw Ed25519 bytes
    raw = base64.b64decode((keys / "k.pub").read_text().splitlines()[1])
    keyid = raw[2:10][::-1].hex().upper()  # minisign prints the little-endian id
    env = json.loads((dist / "provenance.intoto.jsonl").read_text())
    assert env["signatures"][0]["keyid"] == keyid
    key = SSlibKey(keyid, "ed25519", "ed25519", {"public": raw[10:].hex()})
    assert keyid in Envelope.from_dict(env).verify([key], 1)
    other = base64.b64decode((keys / "other.pub").read_text().splitlines()[1])
    with pytest.raises(Exception):
        Envelope.from_dict(env).verify([SSlibKey(keyid, "ed25519", "ed25519", {"public": other[10:].hex()})], 1)
    text = (dist / "provenance.json").read_text()
    assert base64.b64decode(env["payload"]).decode() == text
    Statement.copy_from_pb(json_format.Parse(text, statement_pb2.Statement())).validate()
    sboms = sorted(dist.rglob("*.spdx.json"))
    assert len(sboms) == 2
    for sbom in sboms:
        r = subprocess.run(["pyspdxtools", "-i", str(sbom)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
    subjects = {s["name"] for s in json.loads(text)["subject"]}
    assert {"SHA256SUMS", "hello_linux_amd64/hello", "hello_linux_amd64/hello.spdx.json"} <= subjects
    r = run_xgo("verify-release", dist, "--key", keys / "k.pub", "--no-source")
    assert r.rc == 0, r


@pytest.mark.parametrize("damage", ["archive", "binary", "sbom", "provenance", "envelope", "checksums",
                                    "swap", "subject", "wrong-key"])
def test_any_damage_to_hello_is_exit_3_naming_the_file(hello, tmp_path, damage):
    import base64
    import json
    dist, keys = tmp_path / "dist", hello[1]
    shutil.copytree(hello[0], dist)
    pub = keys / "k.pub"
    a, b = sorted(p.name for p in dist.iterdir() if p.name.endswith((".tar.gz", ".zip")))
    if damage == "archive":
        flip_byte(dist / a)
        named = a
    elif damage == "binary":
        named = "hello_windows_amd64/hello.exe"
        flip_byte(dist / named)
    elif damage == "sbom":
        named = "hello_linux_amd64/hello.spdx.json"
        flip_byte(dist / named)
    elif damage == "provenance":
        named = "provenance.json"
        flip_byte(dist / named)
    elif damage == "envelope":
        named = "provenance.intoto.jsonl"
        env = json.loads((dist / named).read_text())
        sig = bytearray(base64.b64decode(env["signatures"][0]["sig"]))
        sig[5] ^= 1
        env["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
        (dist / named).write_text(json.dumps(env) + "\n")
    elif damage == "checksums":
        named = "SHA256SUMS"
        flip_byte(dist / named)
    elif damage == "swap":
        sa, sb = (dist / f"{a}.minisig").read_bytes(), (dist / f"{b}.minisig").read_bytes()
        (dist / f"{a}.minisig").write_bytes(sb)
        (dist / f"{b}.minisig").write_bytes(sa)
        named = f"{a}.minisig"
    elif damage == "subject":
        # an edited subject in both the statement and (unsigned) a re-encoded envelope
        doc = json.loads((dist / "provenance.json").read_text())
        doc["subject"][0]["digest"]["sha256"] = "0" * 64
        text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
        (dist / "provenance.json").write_text(text)
        env = json.loads((dist / "provenance.intoto.jsonl").read_text())
        env["payload"] = base64.b64encode(text.encode()).decode()
        (dist / "provenance.intoto.jsonl").write_text(json.dumps(env) + "\n")
        named = "provenance.intoto.jsonl"
    else:
        pub = keys / "other.pub"
        named = "SHA256SUMS.minisig"
    r = run_xgo("verify-release", dist, "--key", pub, "--no-source")
    assert r.rc == 3, r
    assert named in r.err, (named, r.err)
    assert "does not verify" in r.err
