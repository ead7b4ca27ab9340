"""The action cache is never stale (#16): a differential suite.

Every case builds a small multi-package project (one linux/amd64 target)
with the action cache, edits it, runs again, and compares the published
binary with a `--no-cache` build of the same tree.  The reference build
uses a GOCACHE of its own, created empty for this module and used by
reference builds only: Go's cache is content-addressed, so that is a
fresh build -- except where Go's own cache cannot see the edit (cgo
headers outside the package directory, #16 cases 5, 6 and 14, and an
edit during a build, case 13): those use a truly empty GOCACHE, and for the headers a
`--no-cache` run with the warm GOCACHE must give the same bytes too.  The
edits that must not rebuild (touch, chmod, a _test.go) also assert that
the second run's job is "cached".

Cost: about three warm hello-sized builds per case; the reference
GOCACHE compiles the standard library once for the module.
"""
import hashlib
import json
import os
import re
import shutil
import stat
import time

import pytest

from conftest import run_xgo, write_project

GO_MOD = "module example.com/p\n\ngo 1.26\n"
MAIN = ('package main\n\nimport (\n\t"fmt"\n\n\t"example.com/p/greet"\n\t"example.com/p/version"\n)\n\n'
        'func main() { fmt.Println(greet.Hello(), version.V) }\n')
GREET = 'package greet\n\nfunc Hello() string { return "hello" }\n'
VERSION = 'package version\n\nconst V = "1"\n'
RELEASE = '''project { name = "p", version = "1.0.0" }
go "1.26.8"
%s
build "app" { main = "./cmd/app", %s
  targets = matrix { goos = { "linux" }, goarch = { "amd64" }, cgo = %s } }
'''
BINARY = "dist/app_linux_amd64/app"


def release(flags="", cgo="false", before=""):
    return RELEASE % (before, f"flags = {{ {flags} }}," if flags else "", cgo)


def base_files(cgo=False):
    return {"go.mod": GO_MOD, "cmd/app/main.go": MAIN, "greet/greet.go": GREET, "version/version.go": VERSION,
            "release.lua": release(cgo="true" if cgo else "false")}


# ---- helpers for the cases ------------------------------------------------

def put(proj, rel, text):
    p = proj / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def later(p):
    """Bump a file's mtime so that an edit within the same clock tick shows."""
    t = time.time() + 5
    os.utime(p, (t, t))


def edit(proj, rel, old, new):
    p = proj / rel
    text = p.read_text()
    assert old in text, (rel, old)
    p.write_text(text.replace(old, new))


def greet_returns(word):
    return f'package greet\n\nfunc Hello() string {{ return "{word}" }}\n'


# ---- the cases: (setup(proj, side), edit(proj, side)) ----------------------
#
# side is a directory beside the project (outside it) for replacements and
# link targets.  Each setup runs before the first (caching) run.

LIB_GO_MOD = "module example.com/lib\n\ngo 1.26\n"
LIB = 'package lib\n\nfunc Name() string { return "lib-1" }\n'
MAIN_LIB = ('package main\n\nimport (\n\t"fmt"\n\n\t"example.com/lib"\n)\n\n'
            'func main() { fmt.Println(lib.Name()) }\n')


def replace_beside(proj, side):
    put(side, "lib/go.mod", LIB_GO_MOD)
    put(side, "lib/lib.go", LIB)
    put(proj, "go.mod", GO_MOD + "\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => ../side/lib\n")
    put(proj, "cmd/app/main.go", MAIN_LIB)


def replace_inside(proj, side):
    put(proj, "lib/go.mod", LIB_GO_MOD)
    put(proj, "lib/lib.go", 'package lib\n\nimport "fmt"\n\nfunc Name() string {\n\tvar fs []func() int\n'
        '\tfor i := 0; i < 2; i++ {\n\t\tfs = append(fs, func() int { return i })\n\t}\n'
        '\treturn fmt.Sprint(fs[0]())\n}\n')
    put(proj, "go.mod", GO_MOD + "\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => ./lib\n")
    put(proj, "cmd/app/main.go", MAIN_LIB)


def symlinked_package(proj, side):
    put(side, "greet/greet.go", GREET)
    shutil.rmtree(proj / "greet")
    (proj / "greet").symlink_to(side / "greet")


def symlinked_file(proj, side):
    put(side, "greet.go", GREET)
    (proj / "greet/greet.go").unlink()
    (proj / "greet/greet.go").symlink_to(side / "greet.go")


CGO_MAIN = ('package main\n\n// #include "sub/x.h"\nimport "C"\n\nimport "fmt"\n\n'
            'func main() { fmt.Println(C.X) }\n')
CGO_MAIN_INC = ('package main\n\n// #cgo CFLAGS: -I${SRCDIR}/../../include\n// #include "y.h"\nimport "C"\n\n'
                'import "fmt"\n\nfunc main() { fmt.Println(C.Y) }\n')
CGO_MAIN_LIB = ('package main\n\n// #cgo LDFLAGS: ${SRCDIR}/libgreet.a\n// int greet(void);\nimport "C"\n\n'
                'import "fmt"\n\nfunc main() { fmt.Println(C.greet()) }\n')


def cgo_subdir_header(proj, side):
    put(proj, "release.lua", release(cgo="true"))
    put(proj, "cmd/app/main.go", CGO_MAIN)
    put(proj, "cmd/app/sub/x.h", "#define X 1\n")


def cgo_include_dir(proj, side):
    put(proj, "release.lua", release(cgo="true"))
    put(proj, "cmd/app/main.go", CGO_MAIN_INC)
    put(proj, "include/y.h", "#define Y 1\n")


def cgo_archive(proj, side, value=1):
    import subprocess
    put(proj, "release.lua", release(cgo="true"))
    put(proj, "cmd/app/main.go", CGO_MAIN_LIB)
    src = side / "greet.c"
    put(side, "greet.c", f"int greet(void) {{ return {value}; }}\n")
    obj = side / "greet.o"
    subprocess.run(["gcc", "-c", "-O2", "-o", str(obj), str(src)], check=True)
    lib = proj / "cmd/app/libgreet.a"
    if lib.exists():
        lib.unlink()
    subprocess.run(["ar", "rcD", str(lib), str(obj)], check=True)
    later(lib)


LONG_EMBED = ('package main\n\nimport (\n\t"embed"\n\t"fmt"\n)\n\nvar before = 1\n\n//go:embed a.txt' + " a.txt" * 800 +
              '\nvar fs embed.FS\n\nfunc main() { _, err := fs.ReadFile("b.txt"); fmt.Println(err == nil) }\n')


def long_embed(proj, side):
    put(proj, "cmd/app/main.go", LONG_EMBED)
    put(proj, "cmd/app/a.txt", "a\n")
    put(proj, "cmd/app/b.txt", "b\n")


def long_embed_edit(proj, side):
    edit(proj, "cmd/app/main.go", " a.txt\nvar", " b.txt\nvar")  # past byte 4096 of the line
    put(proj, "cmd/app/b.txt", "b2\n")


EMBED_ALL = ('package main\n\nimport (\n\t"embed"\n\t"fmt"\n)\n\n//go:embed all:static\nvar fs embed.FS\n\n'
             'func main() { d, _ := fs.ReadDir("static"); fmt.Println(len(d)) }\n')


def embed_all(proj, side, hidden=".xgo-build"):
    put(proj, "cmd/app/main.go", EMBED_ALL.replace('fs.ReadDir("static")', f'fs.ReadDir("static/{hidden}")'))
    put(proj, f"cmd/app/static/{hidden}/x.txt", "x\n")
    put(proj, "cmd/app/static/a.txt", "a\n")


EMBED = ('package main\n\nimport (\n\t"embed"\n\t"fmt"\n)\n\n//go:embed static\nvar fs embed.FS\n\n'
         'func main() { d, _ := fs.ReadDir("static"); fmt.Println(len(d)) }\n')


def embed_dir(proj, side):
    put(proj, "cmd/app/main.go", EMBED)
    put(proj, "cmd/app/static/a.txt", "a\n")


def pgo_profile(proj, side):
    # any valid profile changes the compile's inputs; a tiny one is enough
    shutil.copy(PGO_FILE, proj / "cmd/app/default.pgo")


def modfile(proj, side):
    put(proj, "go.alt.mod", GO_MOD)
    put(proj, "release.lua", release(flags='"-modfile=go.alt.mod"'))


OVERLAY_GREET = greet_returns("overlaid")


def overlay(proj, side):
    put(side, "greet_overlay.go", OVERLAY_GREET)
    put(side, "overlay.json", json.dumps({"Replace": {str(proj / "greet/greet.go"): str(side / "greet_overlay.go")}}))
    put(proj, "release.lua", release(flags=f'"-overlay={side}/overlay.json"'))


def vendor(proj, side):
    import subprocess
    replace_beside(proj, side)
    subprocess.run(["go", "mod", "vendor"], cwd=proj, check=True, capture_output=True)
    put(proj, "release.lua", release(flags='"-mod=vendor"'))


CC_WRAPPER = """#!/bin/sh
# edits greet.go while the build runs: when cg.c is compiled, greet (which
# imports cg) has not been compiled yet and reads the new text
for a; do case "$a" in */cg.c|cg.c) if [ ! -e "$MARK" ]; then
  : > "$MARK"; sed -i 's/"hello"/"during"/' "$GREET"; fi;; esac; done
exec gcc "$@"
"""
DURING_GREET = ('package greet\n\nimport "example.com/p/cg"\n\n'
                'func Hello() string { return "hello" + string(rune(\'0\'+cg.V())) }\n')


def during_build(proj, side):
    script = side / "cc.sh"
    put(side, "cc.sh", CC_WRAPPER.replace("$MARK", str(side / "edited")).replace("$GREET", str(proj / "greet/greet.go")))
    script.chmod(0o755)
    put(proj, "greet/greet.go", DURING_GREET)
    put(proj, "cg/cg.go", RANDOM_CG)
    put(proj, "cg/cg.c", RANDOM_C)
    put(proj, "cg/cg.h", "#define CG 1\n")
    put(proj, "release.lua", release(cgo="true", before=f'cc {{ use = "{script}" }}'))


def during_build_edit(proj, side):
    # the edit made during the first run is undone: the tree is the one the key was computed from
    assert "during" in (proj / "greet/greet.go").read_text()
    put(proj, "greet/greet.go", DURING_GREET)
    later(proj / "greet/greet.go")


EXTRA = 'package greet\n\nfunc init() { println("extra") }\n'
PGO_FILE = None  # set by the pgo fixture below


class Stale(AssertionError):
    """The cached run published another binary than a fresh build."""


def no_setup(proj, side):
    pass


# name: (setup, edit, marks, options)
#   options: "cached" (a no-op: the job must stay cached), "empty" (a truly
#   empty GOCACHE for the reference), "rerun-empty" (and for the second
#   run), "dist" (--dist outside, named version), "saved" (the second run
#   reuses the saved digests without reading a file)
CASES = {
    # the 14 cases of the issue
    "1-replace-beside": (replace_beside, lambda p, s: put(s, "lib/lib.go", LIB.replace("lib-1", "lib-2")), [], ""),
    "2-dist-basename": (no_setup, lambda p, s: put(p, "version/version.go", VERSION.replace('"1"', '"2"')),
                        [], "dist"),
    "3-symlinked-package": (symlinked_package, lambda p, s: put(s, "greet/greet.go", greet_returns("linked")),
                            [], ""),
    "4-symlinked-file": (symlinked_file, lambda p, s: put(s, "greet.go", greet_returns("linked")), [], ""),
    "5-cgo-subdir-header": (cgo_subdir_header, lambda p, s: put(p, "cmd/app/sub/x.h", "#define X 2\n"),
                            [], "empty warm-no-cache"),
    "6-cgo-include-dir": (cgo_include_dir, lambda p, s: put(p, "include/y.h", "#define Y 2\n"), [], "empty warm-no-cache"),
    "7-nested-module-go-line": (replace_inside, lambda p, s: put(p, "lib/go.mod", "module example.com/lib\n\ngo 1.21\n"),
                                [], ""),
    "8-long-embed-line": (long_embed, long_embed_edit, [], ""),
    "9-embed-all-workdir-name": (embed_all, lambda p, s: put(p, "cmd/app/static/.xgo-build/y.txt", "y\n"),
                                 [], ""),
    # Go never embeds .git (isBadEmbedName): an edit there must not change the binary
    "embed-all-git": (lambda p, s: embed_all(p, s, ".git"),
                      lambda p, s: put(p, "cmd/app/static/.git/y.txt", "y\n"), [], ""),
    "10-cgo-archive": (cgo_archive, lambda p, s: cgo_archive(p, s, 2), [], ""),
    "11-default-pgo-added": (no_setup, pgo_profile, [], ""),
    "12-modfile": (modfile, lambda p, s: put(p, "go.alt.mod", GO_MOD.replace("go 1.26", "go 1.21")), [], ""),
    "12-overlay-target": (overlay, lambda p, s: put(s, "greet_overlay.go", greet_returns("overlaid-2")), [], ""),
    "13-edit-during-build": (during_build, during_build_edit, [], "empty rerun-empty"),
    # the others: build constraints, renames, embeds, vendor, go.mod lines
    "edit-body": (no_setup, lambda p, s: put(p, "greet/greet.go", greet_returns("hi")), [], ""),
    "constraint-after-comment": (
        lambda p, s: put(p, "greet/extra.go", EXTRA),
        lambda p, s: put(p, "greet/extra.go", "// a comment\n\n//go:build ignore\n\n" + EXTRA), [], ""),
    "plus-build-line": (
        lambda p, s: put(p, "greet/extra.go", EXTRA),
        lambda p, s: put(p, "greet/extra.go", "// +build ignore\n\n" + EXTRA), [], ""),
    "constraint-in-block-comment-is-not-one": (
        lambda p, s: put(p, "greet/extra.go", EXTRA),
        lambda p, s: put(p, "greet/extra.go", "/*\n//go:build ignore\n*/\n\n" + EXTRA), [], ""),
    "constraint-in-c-file-of-go-package": (
        no_setup, lambda p, s: put(p, "greet/other.go", "//go:build linux\n\npackage greet\n\nconst Extra = 1\n"), [], ""),
    "file-suffix-constraint": (
        no_setup, lambda p, s: put(p, "greet/x_linux.go", "package greet\n\nfunc init() { println(\"linux\") }\n"),
        [], ""),
    "rename-to-other-os": (
        lambda p, s: put(p, "greet/x_linux.go", "package greet\n\nfunc init() { println(\"linux\") }\n"),
        lambda p, s: (p / "greet/x_linux.go").rename(p / "greet/x_windows.go"), [], ""),
    "rename-file": (no_setup, lambda p, s: (p / "greet/greet.go").rename(p / "greet/g2.go"), [], ""),
    "new-import": (no_setup, lambda p, s: put(p, "greet/greet.go", 'package greet\n\nimport "strings"\n\n'
                                               'func Hello() string { return strings.ToUpper("hello") }\n'), [], ""),
    "embed-file-edited": (embed_dir, lambda p, s: put(p, "cmd/app/static/a.txt", "a2\n"), [], ""),
    "embed-file-added": (embed_dir, lambda p, s: put(p, "cmd/app/static/b.txt", "b\n"), [], ""),
    "embed-hidden-file-added": (embed_dir, lambda p, s: put(p, "cmd/app/static/.h", "h\n"), [], ""),
    "vendor-edited": (vendor, lambda p, s: put(p, "vendor/example.com/lib/lib.go", LIB.replace("lib-1", "vendored")),
                      [], ""),
    "go-mod-go-line": (no_setup, lambda p, s: put(p, "go.mod", GO_MOD.replace("go 1.26", "go 1.21") +
                                                   "\n"), [], ""),
    "go-mod-godebug": (no_setup, lambda p, s: put(p, "go.mod", GO_MOD + "\ngodebug panicnil=1\n"), [], ""),
    "go-debug-line": (no_setup, lambda p, s: put(p, "cmd/app/main.go", "//go:debug panicnil=1\n" + MAIN), [], ""),
    "replace-inside-edited": (replace_inside, lambda p, s: edit(p, "lib/lib.go", "i < 2", "i < 3"), [], ""),
    "ignored-file-enabled": (
        lambda p, s: put(p, "greet/extra.go", "//go:build ignore\n\npackage greet\n\nfunc init() { println(1) }\n"),
        lambda p, s: edit(p, "greet/extra.go", "//go:build ignore\n", ""), [], ""),
    # edits that must NOT rebuild
    "touch": (no_setup, lambda p, s: later(p / "greet/greet.go"), [], "cached"),
    "chmod": (no_setup, lambda p, s: (p / "greet/greet.go").chmod(0o755), [], "cached"),
    "test-file": (no_setup, lambda p, s: put(p, "greet/greet_test.go", "package greet\n"), [], "cached"),
    "readme": (no_setup, lambda p, s: put(p, "README.md", "# p\n"), [], "cached"),
    # nothing written: roots beside the project and a -modfile keep the fast path
    "noop-with-roots": (lambda p, s: (replace_beside(p, s), symlinked_file(p, s),
                                      put(p, "release.lua", release(flags='"-modfile=go.mod"'))),
                        lambda p, s: None, [], "cached saved"),
}


# ---- the runs -------------------------------------------------------------

@pytest.fixture(scope="module")
def fresh(tmp_path_factory, sdk_session):
    """The session's SDK and GOCACHE; a reference GOCACHE for --no-cache builds only."""
    base = tmp_path_factory.mktemp("fresh")
    env = dict(sdk_session["env"])
    return {"env": env, "ref_gocache": base / "ref-gocache", "base": base}


@pytest.fixture(scope="module")
def pgo_file(tmp_path_factory):
    """A real CPU profile of a tiny Go program (go test -cpuprofile)."""
    global PGO_FILE
    base = tmp_path_factory.mktemp("pgo")
    (base / "go.mod").write_text("module example.com/prof\n\ngo 1.26\n")
    (base / "p_test.go").write_text('package prof\n\nimport "testing"\n\n'
                                    'func TestSpin(t *testing.T) { s := 0; for i := 0; i < 3e8; i++ { s += i % 7 }; _ = s }\n')
    import subprocess
    subprocess.run(["go", "test", "-cpuprofile", str(base / "cpu.pprof"), "."], cwd=base, check=True,
                   capture_output=True, env={**os.environ, "GOFLAGS": "-mod=mod", "GOCACHE": str(base / "gc")})
    PGO_FILE = base / "cpu.pprof"
    return PGO_FILE


def run_json(proj, env, *args):
    r = run_xgo("run", "--json", *args, cwd=proj, env=env)
    events = [json.loads(line) for line in r.out.splitlines() if line.startswith("{")]
    return r, events


def status(events):
    return [e["status"] for e in events if e["event"] == "job_finished"]


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", [pytest.param(n, marks=CASES[n][2]) for n in CASES])
def test_cached_binary_equals_a_fresh_build(name, tmp_path, fresh, sdk_session, pgo_file):
    setup, change, _, opts = CASES[name]
    side = tmp_path / "side"
    side.mkdir()
    proj = write_project(tmp_path / "proj", base_files(), sdk_session)
    setup(proj, side)
    env = dict(fresh["env"], XGO_CACHE=str(tmp_path / "xgo-cache"))
    (tmp_path / "xgo-cache").mkdir()
    (tmp_path / "xgo-cache/sdk").symlink_to(fresh["env"]["XGO_CACHE"] + "/sdk")
    dist_args = []
    binary = proj / BINARY
    if "dist" in opts:
        dist = tmp_path / "artifacts/version"
        dist_args = ["--dist", str(dist)]
        binary = dist / "app_linux_amd64/app"
    r, ev = run_json(proj, env, *dist_args)
    assert r.rc == 0, r
    change(proj, side)
    if "rerun-empty" in opts:  # Go's own cache holds the poisoned object too: only ours is tested
        env = dict(env, XGO_GOCACHE=str(tmp_path / "rerun-gocache"))
    r, ev = run_json(proj, env, *dist_args, *(["-v"] if "saved" in opts else []))
    assert r.rc == 0, r
    if "saved" in opts:
        assert "1 as saved, 0 from go list" in r.err, r
    if "cached" in opts:
        assert status(ev) == ["cached"], r
    gocache = tmp_path / "empty-gocache" if "empty" in opts else fresh["ref_gocache"]
    ref_dist = tmp_path / "ref-dist"
    r2 = run_xgo("run", "--no-cache", "--dist", ref_dist, cwd=proj,
                 env=dict(fresh["env"], XGO_GOCACHE=str(gocache)))
    assert r2.rc == 0, r2
    if digest(binary) != digest(ref_dist / "app_linux_amd64/app"):
        raise Stale(f"stale binary after {name} (second run: {status(ev)})")
    if "warm-no-cache" in opts:
        # Case 14: Go's own warm cache does not see a header outside the
        # package directory; the C inputs' digest in the C flags makes it.
        warm = tmp_path / "warm-dist"
        r3 = run_xgo("run", "--no-cache", "--dist", warm, cwd=proj, env=env)
        assert r3.rc == 0, r3
        if digest(warm / "app_linux_amd64/app") != digest(ref_dist / "app_linux_amd64/app"):
            raise Stale(f"--no-cache with a warm GOCACHE is stale after {name}")


# ---- the randomized version (a slow stage: XGO_FRESH_ROUNDS=N to run it) ----
#
# Random edits on a multi-package project with a cgo package (host gcc),
# seeded (XGO_FRESH_SEED, default 16) and so reproducible: after each
# round's edits, a cached run must publish what a --no-cache build of the
# same tree does.  The pool has a header in a subdirectory of the cgo
# package, which Go's own cache does not hash (case 14).  The project
# also has a local replacement beside it and a .go file linked to a file
# outside it.

RANDOM_C = "#include \"cg.h\"\nint cg(void) { return CG; }\n"
RANDOM_CG = ('package cg\n\n// #include "cg.h"\n// int cg(void);\nimport "C"\n\n'
             'func V() int { return int(C.cg()) }\n')
RANDOM_MAIN = ('package main\n\nimport (\n\t"fmt"\n\n\t"example.com/lib"\n\t"example.com/p/cg"\n'
               '\t"example.com/p/greet"\n\t"example.com/p/version"\n)\n\n'
               'func main() { fmt.Println(greet.Hello(), version.V, cg.V(), lib.Name(), greet.Linked) }\n')


def random_edits(rng, side):
    """(name, edit(proj)) pairs; each edit keeps the project buildable."""
    def lib(p):
        put(side, "lib/lib.go", LIB.replace("lib-1", f"lib-{rng.randrange(10**6)}"))

    def linked(p):
        put(side, "linked.go", f"package greet\n\nconst Linked = {rng.randrange(10**6)}\n")

    def body(p):
        put(p, "greet/greet.go", greet_returns(f"w{rng.randrange(10**6)}"))

    def header(p):
        put(p, "cg/cg.h", f"#include \"sub/v.h\"\n#define CG ({rng.randrange(1000)} + CGV)\n")

    def sub_header(p):  # outside the package directory's own files (case 14)
        put(p, "cg/sub/v.h", f"#define CGV {rng.randrange(1000)}\n")

    def c_body(p):
        put(p, "cg/cg.c", RANDOM_C + f"int unused_{rng.randrange(10**6)}(void) {{ return 0; }}\n")

    def constrained_file(p):
        tag = rng.choice(["linux", "windows", "ignore", "amd64", "arm64"])
        f = p / "version/extra.go"
        if f.exists() and rng.random() < 0.5:
            f.unlink()
        else:
            put(p, "version/extra.go", f"//go:build {tag}\n\npackage version\n\nfunc init() {{ println(\"{tag}\") }}\n")

    def rename(p):
        names = ["version/extra.go", "version/extra_linux.go", "version/extra_windows.go"]
        have = [n for n in names if (p / n).exists()]
        if have:
            (p / have[0]).rename(p / rng.choice(names))

    def embed(p):
        put(p, "greet/data/x.txt", f"{rng.randrange(10**6)}\n")

    def go_line(p):
        text = re.sub(r"(?m)^go 1\.\d+$", rng.choice(["go 1.21", "go 1.22", "go 1.26"]), (p / "go.mod").read_text())
        put(p, "go.mod", text)

    def touch(p):
        later(p / "greet/greet.go")

    def chmod(p):
        (p / "cg/cg.c").chmod(rng.choice([0o644, 0o755]))

    def test_file(p):
        put(p, "greet/greet_test.go", f"package greet\n\n// {rng.randrange(10**6)}\n")

    return [("lib", lib), ("linked", linked), ("body", body), ("header", header), ("sub-header", sub_header), ("c-body", c_body), ("constrained-file", constrained_file),
            ("rename", rename), ("embed", embed), ("go-line", go_line), ("touch", touch), ("chmod", chmod),
            ("test-file", test_file)]


@pytest.mark.skipif(not os.environ.get("XGO_FRESH_ROUNDS"), reason="slow: set XGO_FRESH_ROUNDS=N to run")
def test_random_edits_never_publish_a_stale_binary(tmp_path, fresh, sdk_session):
    import random
    seed = int(os.environ.get("XGO_FRESH_SEED", "16"))
    rng = random.Random(seed)
    files = base_files(cgo=True)
    files.update({"cmd/app/main.go": RANDOM_MAIN, "cg/cg.go": RANDOM_CG, "cg/cg.c": RANDOM_C,
                  "cg/cg.h": "#include \"sub/v.h\"\n#define CG (1 + CGV)\n", "cg/sub/v.h": "#define CGV 0\n",
                  "greet/data/x.txt": "x\n",
                  "greet/greet.go": GREET.replace("package greet\n", 'package greet\n\nimport _ "embed"\n\n'
                                                  '//go:embed data/x.txt\nvar data string\n')})
    proj = write_project(tmp_path / "proj", files, sdk_session)
    side = tmp_path / "side"
    replace_beside(proj, side)
    put(proj, "cmd/app/main.go", RANDOM_MAIN)
    put(side, "linked.go", "package greet\n\nconst Linked = 0\n")
    (proj / "greet/linked.go").symlink_to(side / "linked.go")
    env = dict(fresh["env"], XGO_CACHE=str(tmp_path / "xgo-cache"))
    (tmp_path / "xgo-cache").mkdir()
    (tmp_path / "xgo-cache/sdk").symlink_to(fresh["env"]["XGO_CACHE"] + "/sdk")
    edits = random_edits(rng, side)
    r, _ = run_json(proj, env)
    assert r.rc == 0, r
    for rnd in range(int(os.environ["XGO_FRESH_ROUNDS"])):
        done = []
        for _ in range(rng.randint(1, 3)):
            name, fn = rng.choice(edits)
            fn(proj)
            done.append(name)
        r, ev = run_json(proj, env)
        assert r.rc == 0, (seed, rnd, done, r)
        ref = tmp_path / f"ref-{rnd}"
        r2 = run_xgo("run", "--no-cache", "--dist", ref, cwd=proj,
                     env=dict(fresh["env"], XGO_GOCACHE=str(fresh["ref_gocache"])))
        assert r2.rc == 0, (seed, rnd, done, r2)
        if digest(proj / BINARY) != digest(ref / "app_linux_amd64/app"):
            raise Stale(f"seed {seed} round {rnd}: stale after {done} (run: {status(ev)})")
        shutil.rmtree(ref)


def test_cgo_flag_outside_the_project_is_never_cached(tmp_path, fresh, sdk_session):
    # -I/elsewhere: nothing proves the headers there unchanged, so the job
    # is built every time (and Go's cache decides, as with a plain go build)
    inc = tmp_path / "include"
    put(inc, "z.h", "#define Z 1\n")
    proj = write_project(tmp_path / "proj", base_files(cgo=True), sdk_session)
    put(proj, "cmd/app/main.go", 'package main\n\n// #cgo CFLAGS: -I' + str(inc) + '\n// #include "z.h"\n'
        'import "C"\n\nimport "fmt"\n\nfunc main() { fmt.Println(C.Z) }\n')
    env = dict(fresh["env"], XGO_CACHE=str(tmp_path / "xgo-cache"))
    (tmp_path / "xgo-cache").mkdir()
    (tmp_path / "xgo-cache/sdk").symlink_to(fresh["env"]["XGO_CACHE"] + "/sdk")
    for _ in range(2):
        r, ev = run_json(proj, env)
        assert r.rc == 0, r
        assert status(ev) == ["ok"], r
