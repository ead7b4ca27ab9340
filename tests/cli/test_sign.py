"""Signed releases: keygen, run's signatures and verify-release.

Debian's minisign checks our formats in both directions: it verifies the
.minisig files run writes and signs with the secret key keygen writes,
and verify-release verifies what minisign signs.  DSSE envelopes are
made here with Python's cryptography (its own PAE and Ed25519), so
verify-release is checked against an independent writer.  One small
project (two linux targets, tar.gz archives) is built once per module
with an unencrypted key; the encrypted key (scrypt with minisign's cost,
a few seconds per use) is made once.
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess

import pytest

from conftest import BINARY, run_xgo, write_project

EPOCH = "1700000000"
MAIN = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hi") }\n'
PASSWORD = "correct horse battery staple"


def release(signing='signing { key = env("XGO_SIGNING_KEY_FILE"), archives = true }'):
    return ('project { name = "s", version = "1.0.0" }\ngo "1.26.8"\n'
            'build "s" { targets = matrix { goos = { "linux" }, goarch = { "amd64", "arm64" } } }\n'
            'archive { format = "tar.gz" }\n' + signing + "\n")


def no_tty_run(args, env, cwd=None):
    """The binary in a new session: no terminal to ask a password on."""
    full = {k: v for k, v in os.environ.items() if k != "XGO_SIGNING_PASSWORD"}
    full.update(env)
    return subprocess.run([str(BINARY), *map(str, args)], cwd=cwd, env=full, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, start_new_session=True, timeout=900)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    r = run_xgo("keygen", "-W", "-p", d / "plain.pub", "-s", d / "plain.key")
    assert r.rc == 0, r
    r = run_xgo("keygen", "-p", d / "enc.pub", "-s", d / "enc.key", env={"XGO_SIGNING_PASSWORD": PASSWORD})
    assert r.rc == 0, r
    r = run_xgo("keygen", "-W", "-p", d / "other.pub", "-s", d / "other.key")
    assert r.rc == 0, r
    return d


@pytest.fixture(scope="module")
def signed(tmp_path_factory, sdk_session, keys):
    """A release signed with the unencrypted key: (project, dist, run result)."""
    proj = write_project(tmp_path_factory.mktemp("signed") / "s", {"main.go": MAIN, "release.lua": release()},
                         sdk_session)
    env = dict(sdk_session["env"], SOURCE_DATE_EPOCH=EPOCH, XGO_SIGNING_KEY_FILE=str(keys / "plain.key"))
    r = run_xgo("run", "--json", cwd=proj, env=env)
    assert r.rc == 0, r
    return proj, proj / "dist", r


def archives(dist):
    return sorted(p.name for p in dist.glob("*.tar.gz"))


def copy_dist(signed, tmp_path):
    out = tmp_path / "dist"
    shutil.copytree(signed[1], out)
    return out


def verify(dist, pub):
    return run_xgo("verify-release", dist, "--key", pub)


def test_minisign_verifies_what_run_signs(signed, keys):
    dist = signed[1]
    names = ["SHA256SUMS", *archives(dist)]
    assert len(names) == 3
    for name in names:
        m = subprocess.run(["minisign", "-V", "-p", keys / "plain.pub", "-m", dist / name], capture_output=True,
                           text=True)
        assert m.returncode == 0, m.stdout + m.stderr
        assert f"timestamp:{EPOCH}\tfile:{name}\thashed" in m.stdout
    other = subprocess.run(["minisign", "-V", "-p", keys / "other.pub", "-m", dist / "SHA256SUMS"],
                           capture_output=True, text=True)
    assert other.returncode != 0


def test_verify_release_reports_each_step(signed, keys):
    r = verify(signed[1], keys / "plain.pub")
    assert r.rc == 0, r
    assert "ok: SHA256SUMS.minisig verifies SHA256SUMS" in r.err
    # 2 archives and 2 SBOMs (every binary gets one: docs/attest.md)
    assert "ok: the 4 files SHA256SUMS lists have those digests" in r.err
    for name in archives(signed[1]):
        assert f"ok: {name}.minisig verifies {name}" in r.err
    manifest = json.loads((signed[1] / "manifest.json").read_text())
    listed = {s["file"]: s["signs"] for s in manifest["signatures"]}
    want = {f"{n}.minisig": n for n in ["SHA256SUMS", *archives(signed[1])]}
    want["provenance.intoto.jsonl"] = "provenance.json"  # the DSSE envelope of the provenance
    assert listed == want
    sums = (signed[1] / "SHA256SUMS").read_text()
    assert ".minisig" not in sums, "signatures are not in the file they sign"


def test_signatures_are_the_same_on_a_rebuild(signed, sdk_session, keys, tmp_path):
    proj = signed[0]
    env = dict(sdk_session["env"], SOURCE_DATE_EPOCH=EPOCH, XGO_SIGNING_KEY_FILE=str(keys / "plain.key"))
    r = run_xgo("run", "--dist", tmp_path / "again", cwd=proj, env=env)
    assert r.rc == 0, r
    for sig in signed[1].glob("*.minisig"):
        assert (tmp_path / "again" / sig.name).read_bytes() == sig.read_bytes(), sig.name


def test_we_verify_what_minisign_signs(signed, keys, tmp_path):
    dist = copy_dist(signed, tmp_path)
    m = subprocess.run(["minisign", "-G", "-W", "-p", tmp_path / "m.pub", "-s", tmp_path / "m.key"],
                       capture_output=True, text=True)
    assert m.returncode == 0, m.stdout + m.stderr
    for sig in sorted(dist.glob("*.minisig")):  # every file run signed: SHA256SUMS, the archives
        s = subprocess.run(["minisign", "-S", "-s", tmp_path / "m.key", "-m", dist / sig.stem], capture_output=True,
                           text=True)
        assert s.returncode == 0, s.stdout + s.stderr
    # minisign makes no DSSE envelope: the provenance's goes, with its record
    (dist / "provenance.intoto.jsonl").unlink()
    manifest = json.loads((dist / "manifest.json").read_text())
    manifest["signatures"] = [x for x in manifest["signatures"] if x["format"] != "dsse"]
    (dist / "manifest.json").write_text(json.dumps(manifest))
    r = verify(dist, tmp_path / "m.pub")
    assert r.rc == 0, r
    r = verify(dist, keys / "plain.pub")  # minisign's signatures are not ours
    assert r.rc == 3, r
    assert "was signed with key" in r.err


def test_minisign_signs_with_our_encrypted_key(keys, tmp_path):
    """keygen's encrypted secret key: minisign decrypts it (scrypt, checksum)."""
    f = tmp_path / "file.txt"
    f.write_text("payload\n")
    s = subprocess.run(["minisign", "-S", "-s", keys / "enc.key", "-m", f], input=PASSWORD + "\n",
                       capture_output=True, text=True)
    assert s.returncode == 0, s.stdout + s.stderr
    v = subprocess.run(["minisign", "-V", "-p", keys / "enc.pub", "-m", f], capture_output=True, text=True)
    assert v.returncode == 0, v.stdout + v.stderr


def flip_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["sums", "archive", "swap", "sums-sig", "missing-sig", "wrong-key"])
def test_verify_release_names_what_does_not_match(signed, keys, tmp_path, damage):
    dist = copy_dist(signed, tmp_path)
    a, b = archives(dist)
    pub = keys / "plain.pub"
    if damage == "sums":
        flip_byte(dist / "SHA256SUMS")
        named = "SHA256SUMS"
    elif damage == "archive":
        flip_byte(dist / a)
        named = a
    elif damage == "swap":
        sa, sb = (dist / f"{a}.minisig").read_bytes(), (dist / f"{b}.minisig").read_bytes()
        (dist / f"{a}.minisig").write_bytes(sb)
        (dist / f"{b}.minisig").write_bytes(sa)
        named = f"{a}.minisig"
    elif damage == "sums-sig":
        # a character of the signature line that carries signature bits (the
        # middle of the file may be the untrusted comment or padding bits)
        sig = dist / "SHA256SUMS.minisig"
        lines = sig.read_text().split("\n")
        lines[1] = lines[1][:10] + ("B" if lines[1][10] != "B" else "C") + lines[1][11:]
        sig.write_text("\n".join(lines))
        named = "SHA256SUMS.minisig"
    elif damage == "missing-sig":
        (dist / f"{b}.minisig").unlink()
        named = f"{b}.minisig"
    else:
        pub = keys / "other.pub"
        named = "SHA256SUMS.minisig"
    r = verify(dist, pub)
    assert r.rc == 3, r
    assert named in r.err, r
    assert "does not verify" in r.err


def test_encrypted_key_with_its_password(sdk_session, keys, tmp_path):
    proj = write_project(tmp_path / "e", {"main.go": MAIN, "release.lua": release()}, sdk_session)
    env = dict(sdk_session["env"], SOURCE_DATE_EPOCH=EPOCH, XGO_SIGNING_KEY_FILE=str(keys / "enc.key"),
               XGO_SIGNING_PASSWORD=PASSWORD)
    r = no_tty_run(["run"], env, cwd=proj)
    assert r.returncode == 0, r.stderr
    v = verify(proj / "dist", keys / "enc.pub")
    assert v.rc == 0, v


def test_wrong_or_missing_password_is_exit_2_before_building(sdk_session, keys, tmp_path):
    proj = write_project(tmp_path / "w", {"main.go": MAIN, "release.lua": release(
        'signing { key = env("XGO_SIGNING_KEY_FILE"), password_env = "MY_PW" }')}, sdk_session)
    env = dict(sdk_session["env"], XGO_SIGNING_KEY_FILE=str(keys / "enc.key"), MY_PW="not it")
    r = no_tty_run(["run", "--json"], env, cwd=proj)
    assert r.returncode == 2, r.stderr
    assert f"cannot decrypt the secret key '{keys / 'enc.key'}': wrong password" in r.stderr
    assert '"job_started"' not in r.stdout and not (proj / "dist").exists()
    del env["MY_PW"]
    r = no_tty_run(["run"], env, cwd=proj)
    assert r.returncode == 2, r.stderr
    assert "no password: set MY_PW" in r.stderr
    assert not (proj / "dist").exists()


def test_the_secret_key_never_reaches_dist_or_the_logs(signed, keys):
    dist, result = signed[1], signed[2]
    secret_line = (keys / "plain.key").read_text().splitlines()[1]
    blob = base64.b64decode(secret_line)
    seed = blob[54 + 8:54 + 8 + 32]  # after alg, kdf, chk, salt, limits and the key id
    needles = [secret_line.encode(), seed, base64.b64encode(seed), seed.hex().encode()]
    for p in dist.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            for n in needles:
                assert n not in data, p
    for text in (result.out, result.err):
        for n in needles:
            assert n.decode("latin-1") not in text
    assert '"signed"' in result.out  # the event names the files and the key id only


def test_a_key_path_outside_the_project_from_release_lua_is_refused(sdk_session, keys, tmp_path):
    shutil.copy(keys / "plain.key", tmp_path / "k.key")
    proj = write_project(tmp_path / "p", {"main.go": MAIN,
                                          "release.lua": release('signing { key = "../k.key" }')}, sdk_session)
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    assert r.rc == 2, r
    assert "signing { key } '../k.key'" in r.err
    r = run_xgo("run", "--sign-key", proj / "dist" / "k.key", cwd=proj, env=sdk_session["env"])
    assert r.rc == 2, r
    assert "keep it out of dist/" in r.err


# ---- DSSE envelopes -------------------------------------------------------

def raw_key(keyfile):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    blob = base64.b64decode(keyfile.read_text().splitlines()[1])
    assert blob[2:4] == b"\0\0", "an unencrypted key"
    return Ed25519PrivateKey.from_private_bytes(blob[54 + 8:54 + 8 + 32]), blob[54:54 + 8]


def envelope(keyfile, statement):
    priv, keyid = raw_key(keyfile)
    payload = json.dumps(statement).encode()
    ptype = b"application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
    sig = priv.sign(pae)
    env = {"payloadType": ptype.decode(), "payload": base64.b64encode(payload).decode(),
           "signatures": [{"keyid": keyid[::-1].hex().upper(), "sig": base64.b64encode(sig).decode()}]}
    return payload, json.dumps(env) + "\n"


def statement(dist):
    return {"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://slsa.dev/provenance/v1",
            "subject": [{"name": n, "digest": {"sha256": hashlib.sha256((dist / n).read_bytes()).hexdigest()}}
                        for n in archives(dist)],
            "predicate": {}}


@pytest.mark.parametrize("damage", [None, "subject", "payload", "provenance", "key"])
def test_verify_release_checks_the_dsse_envelope(signed, keys, tmp_path, damage):
    dist = copy_dist(signed, tmp_path)
    st = statement(dist)
    if damage == "subject":
        st["subject"][0]["digest"]["sha256"] = "0" * 64
    payload, env = envelope(keys / ("other.key" if damage == "key" else "plain.key"), st)
    if damage == "payload":
        doc = json.loads(env)
        doc["payload"] = base64.b64encode(payload.replace(b"Statement", b"Statemenu")).decode()
        env = json.dumps(doc) + "\n"
    (dist / "provenance.intoto.jsonl").write_text(env)
    (dist / "provenance.json").write_bytes(payload + (b" " if damage == "provenance" else b""))
    r = verify(dist, keys / "plain.pub")
    if damage is None:
        assert r.rc == 0, r
        assert "ok: provenance.intoto.jsonl is signed by the key" in r.err
        assert "ok: the 2 provenance subjects have those sha256 digests" in r.err
        return
    assert r.rc == 3, r
    named = {"subject": archives(dist)[0], "payload": "provenance.intoto.jsonl",
             "provenance": "provenance.json", "key": "provenance.intoto.jsonl"}[damage]
    assert named in r.err, r


def test_run_wraps_the_provenance_in_an_envelope(signed, keys):
    dist = signed[1]
    if not (dist / "provenance.json").exists():
        pytest.skip("run writes provenance.json only with the provenance module (docs/attest.md)")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    env = json.loads((dist / "provenance.intoto.jsonl").read_text())
    payload = base64.b64decode(env["payload"])
    assert payload == (dist / "provenance.json").read_bytes()
    ptype = env["payloadType"].encode()
    pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
    pk = base64.b64decode((keys / "plain.pub").read_text().splitlines()[1])[10:]
    Ed25519PublicKey.from_public_bytes(pk).verify(base64.b64decode(env["signatures"][0]["sig"]), pae)


def test_a_merged_dist_is_signed_with_sign_key_and_has_the_full_runs_provenance(signed, sdk_session, keys,
                                                                                 tmp_path):
    env = dict(sdk_session["env"], SOURCE_DATE_EPOCH=EPOCH, XGO_SIGNING_KEY_FILE=str(keys / "plain.key"))
    for k in (1, 2):
        r = run_xgo("run", "--shard", f"{k}/2", "--dist", tmp_path / f"s{k}", cwd=signed[0], env=env)
        assert r.rc == 0, r
        assert (tmp_path / f"s{k}" / "SHA256SUMS.minisig").exists()
    # without a key: the shards' signatures are not copied, the merged dist is unsigned
    r = run_xgo("merge", "--dist", tmp_path / "m", tmp_path / "s1", tmp_path / "s2")
    assert r.rc == 0, r
    assert "signatures" not in json.loads((tmp_path / "m" / "manifest.json").read_text())
    r = verify(tmp_path / "m", keys / "plain.pub")
    assert r.rc == 3, r
    assert "SHA256SUMS.minisig' is missing" in r.err
    # with one: signed as the full run is, and its provenance is the full run's
    r = run_xgo("merge", "--sign-key", keys / "plain.key", "--dist", tmp_path / "ms", tmp_path / "s1",
                tmp_path / "s2")
    assert r.rc == 0, r
    merged, full = tmp_path / "ms", signed[1]
    r = verify(merged, keys / "plain.pub")
    assert r.rc == 0, r
    assert "ok: provenance.intoto.jsonl is signed by the key" in r.err
    def reproducible(d):
        doc = json.loads((d / "provenance.json").read_text())
        del doc["predicate"]["runDetails"]
        return doc
    assert reproducible(merged) == reproducible(full)
    for sig in full.glob("*.minisig"):
        assert (merged / sig.name).read_bytes() == sig.read_bytes(), sig.name
    listed = json.loads((merged / "manifest.json").read_text())["signatures"]
    assert sorted(s["file"] for s in listed) == sorted([p.name for p in full.glob("*.minisig")] +
                                                       ["provenance.intoto.jsonl"])
    m = subprocess.run(["minisign", "-V", "-p", keys / "plain.pub", "-m", merged / "SHA256SUMS"],
                       capture_output=True, text=True)
    assert m.returncode == 0, m.stdout + m.stderr
    # shards that disagree on the build definition are refused
    prov = tmp_path / "s2" / "provenance.json"
    doc = json.loads(prov.read_text())
    doc["predicate"]["buildDefinition"]["internalParameters"]["isolation"] = "other"
    prov.write_text(json.dumps(doc))
    r = run_xgo("merge", "--dist", tmp_path / "bad", tmp_path / "s1", tmp_path / "s2")
    assert r.rc == 2, r
    assert "internalParameters" in r.err and "s2/provenance.json" in r.err
    assert not (tmp_path / "bad").exists()


def on_terminal(args, answers):
    """Run the binary with a terminal (a pty) typing answers at each prompt."""
    import pty
    env = {k: v for k, v in os.environ.items() if k != "XGO_SIGNING_PASSWORD"}
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(str(BINARY), [str(BINARY), *map(str, args)], env)
    seen = b""
    answers = list(answers)
    import select
    import signal
    while True:
        if not select.select([fd], [], [], 120)[0]:  # stuck at a prompt: fail, never hang
            os.kill(pid, signal.SIGKILL)
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if answers and chunk.rstrip().endswith(b":"):  # a prompt, not the newline after one
            os.write(fd, answers.pop(0).encode() + b"\n")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")


def test_keygen_asks_the_password_twice_on_the_terminal(tmp_path):
    rc, out = on_terminal(["keygen", "-p", tmp_path / "t.pub", "-s", tmp_path / "t.key"], ["one", "two"])
    assert rc == 2, out
    assert "the passwords differ" in out and "one" not in out, "the password is not echoed"
    assert not (tmp_path / "t.key").exists()
    rc, out = on_terminal(["keygen", "-p", tmp_path / "t.pub", "-s", tmp_path / "t.key"], ["s3cret", "s3cret"])
    assert rc == 0, out
    assert "s3cret" not in out
    assert "encrypted secret key" in (tmp_path / "t.key").read_text()
