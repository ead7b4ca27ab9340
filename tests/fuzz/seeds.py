#!/usr/bin/env python3
"""seeds.py - (re)write the generated seed files of tests/fuzz/corpus/.

The hand-written seeds (release.lua files, templates) are committed as
they are; this script makes the binary ones: SDK archives (tar.gz, tar,
zip: a good tree, path traversal, symlink and hardlink escapes, a device
file), and tiny ELF/PE/Mach-O files with Go build info.  Run it from the
repository root: python3 tests/fuzz/seeds.py
"""
import io
import json
import os
import struct
import tarfile
import zipfile

C = "tests/fuzz/corpus"


def put(harness, name, data):
    os.makedirs(f"{C}/{harness}", exist_ok=True)
    with open(f"{C}/{harness}/{name}", "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def tar(entries, mode="w:gz"):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for e in entries:
            info = tarfile.TarInfo(e["name"])
            info.type = e.get("type", tarfile.REGTYPE)
            info.linkname = e.get("link", "")
            info.mode = e.get("mode", 0o644)
            data = e.get("data", b"")
            info.size = len(data) if info.type == tarfile.REGTYPE else 0
            if "devmajor" in e:
                info.devmajor, info.devminor = e["devmajor"], 0
            t.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
    return buf.getvalue()


def zipb(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries:
            z.writestr(name, data)
    return buf.getvalue()


GOOD = [{"name": "go/", "type": tarfile.DIRTYPE, "mode": 0o755},
        {"name": "go/VERSION", "data": b"go1.26.8\n"},
        {"name": "go/bin/go", "data": b"#!/bin/sh\n", "mode": 0o755},
        {"name": "go/lib/link", "type": tarfile.SYMTYPE, "link": "../VERSION"},
        {"name": "go/lib/hard", "type": tarfile.LNKTYPE, "link": "go/VERSION"}]
put("extract", "good.tar.gz", tar(GOOD))
put("extract", "good.tar", tar(GOOD, "w"))
put("extract", "good.tar.xz", tar(GOOD, "w:xz"))
put("extract", "good.zip", zipb([("go/VERSION", "go1.26.8\n"), ("go/bin/go", "#!/bin/sh\n")]))
put("extract", "dotdot.tar.gz", tar([{"name": "go/../../evil", "data": b"x"}]))
put("extract", "abs.tar.gz", tar([{"name": "/tmp/evil", "data": b"x"}]))
put("extract", "symlink-out.tar.gz", tar([{"name": "go/l", "type": tarfile.SYMTYPE, "link": "../../.."},
                                          {"name": "go/l/evil", "data": b"x"}]))
put("extract", "hardlink-out.tar.gz", tar([{"name": "go/h", "type": tarfile.LNKTYPE, "link": "/etc/passwd"}]))
put("extract", "device.tar", tar([{"name": "go/dev", "type": tarfile.CHRTYPE, "devmajor": 1}], "w"))
put("extract", "dotdot.zip", zipb([("go/../evil", "x")]))

lock = {"format": 1, "go": "1.26.8", "tree_digest_format": "xgo-tree-v1", "platforms": {
    "linux-amd64": {"filename": "go1.26.8.linux-amd64.tar.gz", "sha256": "d0" * 32, "size": 66897291,
                    "tree_digest": "1d" * 32},
    "darwin-arm64": {"filename": "go1.26.8.darwin-arm64.tar.gz", "sha256": "a0" * 32, "size": 1,
                     "tree_digest": None}}}
put("lockfile", "good.lock", json.dumps(lock, indent=2, sort_keys=True) + "\n")
put("lockfile", "dupkey.lock", '{"format": 1, "go": "1.2", "go": "1.3", "platforms": {}}')
put("lockfile", "hugesize.lock", json.dumps(dict(lock, platforms={"linux-amd64": dict(
    lock["platforms"]["linux-amd64"], size=2**64 - 1)})))

index = [{"version": "go1.26.8", "stable": True, "files": [
    {"filename": "go1.26.8.linux-amd64.tar.gz", "os": "linux", "arch": "amd64", "sha256": "d0" * 32,
     "size": 66897291, "kind": "archive"},
    {"filename": "go1.26.8.src.tar.gz", "os": "", "arch": "", "sha256": "ab" * 32, "size": 1,
     "kind": "source"}]},
    {"version": "go1.25.0", "stable": False, "files": []}]
put("mirror", "index.json", json.dumps(index))
put("mirror", "badshape.json", '{"version": "go1"}')

manifest = {"schema": 1, "tool": {"name": "xgo-build", "version": "0.1"},
            "sdk": {"version": "1.26.8", "platform": "linux-amd64", "tree_digest": "1d" * 32},
            "jobs": [{"build": "hello", "output": "hello_linux_amd64/hello", "sha256": "ee" * 32,
                      "target": "linux/amd64", "env": ["GOOS=linux"]}],
            "archives": [{"name": "hello_1.0_linux_amd64.tar.gz", "sha256": "ff" * 32,
                          "target": "linux/amd64"}]}
put("manifest", "manifest.json", json.dumps(manifest, indent=2))
put("manifest", "SHA256SUMS", "ff" * 32 + "  hello_1.0_linux_amd64.tar.gz\n" + "ee" * 32 + " *x.zip\n")
put("manifest", "escape.json", json.dumps(dict(manifest, jobs=[{"build": "hello", "target": "linux/amd64",
                                                                "output": "../x", "sha256": "ee" * 32}])))
put("manifest", "checksums.json", json.dumps(dict(manifest, checksums={"file": "SHA256SUMS", "algorithm": "sha256"},
                                                  signatures=[{"file": "SHA256SUMS.minisig", "signs": "SHA256SUMS",
                                                               "format": "minisign"}])))


def buildinfo_blob():
    mod = "path\texample.com/hello\nmod\texample.com/hello\t(devel)\t\nbuild\tGOOS=linux\nbuild\tGOARCH=amd64\n"
    sentinel = b"0123456789abcdef"

    def uvar(s):
        b = s.encode() if isinstance(s, str) else s
        out, n = b"", len(b)
        while True:
            c = n & 0x7F
            n >>= 7
            out += bytes([c | (0x80 if n else 0)])
            if not n:
                return out + b
    head = b"\xff Go buildinf:" + bytes([8, 2]) + b"\0" * 16
    return head + uvar("go1.26.8") + uvar(sentinel + mod.encode() + sentinel)


def elf64(sections):
    """A minimal little-endian ELF64 with the given (name, bytes) sections."""
    names = b"\0" + b"".join(n.encode() + b"\0" for n, _ in sections) + b".shstrtab\0"
    body, offs, off = b"", [], 64
    for _, data in sections:
        offs.append(off + len(body))
        body += data
    shstr_off = 64 + len(body)
    body += names
    shoff = 64 + len(body)
    hdr = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
    hdr += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, len(sections) + 2,
                       len(sections) + 1)
    sh = b"\0" * 64
    pos = 1
    for (n, data), o in zip(sections, offs):
        sh += struct.pack("<IIQQQQIIQQ", pos, 1, 2, 0, o, len(data), 0, 0, 16, 0)
        pos += len(n) + 1
    sh += struct.pack("<IIQQQQIIQQ", pos, 3, 0, 0, shstr_off, len(names), 0, 0, 1, 0)
    return hdr + body + sh


def pe(sections):
    dos = b"MZ" + b"\0" * 58 + struct.pack("<I", 64)
    coff = b"PE\0\0" + struct.pack("<HHIIIHH", 0x8664, len(sections), 0, 0, 0, 0, 0)
    table, body, off = b"", b"", 64 + len(coff) + 40 * len(sections)
    for n, data in sections:
        table += n.encode().ljust(8, b"\0") + struct.pack("<IIIIIIHHI", len(data), 0, len(data), off + len(body),
                                                           0, 0, 0, 0, 0)
        body += data
    return dos + coff + table + body


def macho(sections):
    ncmds_size = 72 + 80 * len(sections)
    body_off = 32 + ncmds_size
    hdr = struct.pack("<IiiIIIII", 0xFEEDFACF, 0x01000007, 3, 2, 1, ncmds_size, 0, 0)
    seg = struct.pack("<II16sQQQQiiII", 0x19, ncmds_size, b"__DATA", 0, 0, body_off, 0, 7, 3, len(sections), 0)
    body, off = b"", body_off
    for n, data in sections:
        seg += struct.pack("<16s16sQQIIIIIIII", n.encode(), b"__DATA", 0, len(data), off + len(body), 4, 0, 0, 0,
                           0, 0, 0)
        body += data
    return hdr + seg + body


bi = buildinfo_blob()
put("buildinfo", "elf-buildinfo", elf64([(".text", b"\x90" * 32), (".go.buildinfo", bi)]))
put("buildinfo", "pe-buildinfo", pe([(".text", b"\x90" * 32), (".data", bi)]))
put("buildinfo", "macho-buildinfo", macho([("__go_buildinfo", bi)]))
put("buildinfo", "raw-buildinfo", b"\0" * 16 + bi)

SEP = b"\n--8<--\n"
bi2 = bi.replace(b"GOARCH=amd64", b"GOARCH=arm64")
put("explain", "elf-pair", elf64([(".text", b"\x90" * 32), (".go.buildinfo", bi)]) + SEP +
    elf64([(".text", b"\x91" * 32), (".go.buildinfo", bi2)]))
put("explain", "tar-pair", tar(GOOD) + SEP + tar(GOOD[:3]))
put("explain", "zip-pair", zipb([("a", "1")]) + SEP + zipb([("a", "2")]))
put("explain", "text-pair", b"built at 12:34:56 in /home/user/src\n" + SEP + b"built at 12:35:01 in /tmp/x\n")
