"""`xgo-build init` and `init --from-goreleaser`: the release.lua they write
runs as is, and a translated GoReleaser config builds the targets and the
archive, binary and checksum names GoReleaser would give."""
import json
import os
import subprocess
import time
import zipfile

import pytest

from conftest import run_xgo

MAIN = 'package main\n\nimport "os"\n\nvar version, x = "dev", ""\n\nfunc main() { os.Stdout.WriteString(version + " " + x + "\\n") }\n'


def module(path, files=None):
    """A Go module with a root main package, cmd/tool, a library, LICENSE and README."""
    path.mkdir(parents=True, exist_ok=True)
    base = {"go.mod": "module example.com/demo/v2\n\ngo 1.26\n", "main.go": MAIN,
            "cmd/tool/main.go": "package main\n\nfunc main() {}\n",
            "lib/lib.go": "package lib\n\nfunc F() int { return 1 }\n",
            "LICENSE": "MIT\n", "README.md": "# demo\n"}
    base.update(files or {})
    for rel, text in base.items():
        if text is None:
            continue
        p = path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return path


def commit_all(proj, tag=None):
    """Make proj a git checkout with one commit (GoReleaser users have one), tagged tag."""
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_AUTHOR_DATE": "@1700000000 +0000", "GIT_COMMITTER_DATE": "@1700000000 +0000"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "x"]) + ((["tag", tag],) if tag else ()):
        subprocess.run(["git", "-C", str(proj), *args], env=env, check=True, capture_output=True)


def plan_targets(proj, env):
    r = run_xgo("plan", "--json", cwd=proj, env=env)
    assert r.rc == 0, r
    ev = json.loads(r.out)
    return [(j["build"], j["target"]) for j in ev["include"]]


def published(dist):
    # the run's records and marker aside: what GoReleaser would publish too
    return sorted(p.name for p in dist.iterdir()
                  if p.is_file() and p.name not in ("manifest.json", "provenance.json", ".xgo-build-dist"))


def test_init_writes_a_release_that_runs(tmp_path, sdk_session):
    proj = module(tmp_path / "demo", {".gitignore": "/dist\n*.log"})
    env = sdk_session["env"]
    r = run_xgo("init", cwd=proj, env=env)
    assert r.rc == 0, r
    assert "2 builds" in r.err
    assert (proj / "release.lock").exists()
    assert (proj / ".gitignore").read_text() == "/dist\n*.log\n.xgo-build/\n"
    assert not list((proj / ".xgo-build").glob("init-*"))
    targets = plan_targets(proj, env)
    assert sorted(targets) == sorted((b, f"{o}/{a}") for b in ("demo", "tool")
                                     for o in ("linux", "darwin", "windows") for a in ("amd64", "arm64"))
    r = run_xgo("run", "-q", cwd=proj, env=env)
    assert r.rc == 0, r
    dist = proj / "dist"
    names = published(dist)
    assert names == sorted(["SHA256SUMS"] + [f"demo_0.0.0_{o}_{a}.{'zip' if o == 'windows' else 'tar.gz'}"
                                              for o in ("linux", "darwin", "windows") for a in ("amd64", "arm64")])
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    tar = subprocess.run(["tar", "-tzf", str(dist / "demo_0.0.0_linux_amd64.tar.gz")], capture_output=True,
                         text=True, check=True).stdout.split()
    assert sorted(tar) == ["LICENSE", "README.md", "demo", "tool"]
    assert sorted(zipfile.ZipFile(dist / "demo_0.0.0_windows_arm64.zip").namelist()) == \
        ["LICENSE", "README.md", "demo.exe", "tool.exe"]
    out = subprocess.run([str(dist / "demo_linux_amd64/demo")], capture_output=True, text=True)
    assert out.returncode == 0


def test_init_never_replaces_a_file_without_force(tmp_path, sdk_session):
    proj = module(tmp_path / "p")
    (proj / "release.lua").write_text("-- mine\n")
    r = run_xgo("init", proj, env=sdk_session["env"])
    assert r.rc == 2 and "release.lua' exists" in r.err and "--force" in r.err, r
    assert (proj / "release.lua").read_text() == "-- mine\n"
    assert not (proj / "release.lock").exists() and not (proj / ".gitignore").exists()
    r = run_xgo("init", "--force", "--no-lock", proj, env=sdk_session["env"])
    assert r.rc == 0, r
    assert 'build "demo"' in (proj / "release.lua").read_text()
    assert not (proj / "release.lock").exists()
    assert (proj / ".gitignore").read_text() == "dist/\n.xgo-build/\n"
    (proj / "release.lua").unlink()
    (proj / "release.lock").write_text("{}")
    r = run_xgo("init", proj, env=sdk_session["env"])
    assert r.rc == 2 and "release.lock' exists" in r.err, r


def test_init_without_a_main_package_is_exit_2(tmp_path, sdk_session):
    proj = module(tmp_path / "lib", {"main.go": None, "cmd/tool/main.go": None})
    r = run_xgo("init", proj, env=sdk_session["env"])
    assert r.rc == 2 and "no main package" in r.err, r
    assert not (proj / "release.lua").exists()


def test_usage_errors_are_exit_2_with_one_line(tmp_path, sdk_session):
    proj = module(tmp_path / "p")
    for args in (("a", "b"), ("--go", "x1"), ("--bogus",), ("--from-goreleaser", "missing.yaml")):
        r = run_xgo("init", *args, cwd=proj, env=sdk_session["env"])
        assert r.rc == 2 and len(r.err.splitlines()) == 1 and r.err.startswith("xgo-build: error: "), (args, r)
    r = run_xgo("init", "--from-goreleaser", cwd=proj, env=sdk_session["env"])
    assert r.rc == 2 and "no GoReleaser config" in r.err, r
    assert not (proj / "release.lua").exists()


def test_init_whose_lock_fails_writes_nothing(tmp_path, sdk_session):
    proj = module(tmp_path / "p")
    env = dict(sdk_session["env"], XGO_SDK_MIRROR=f"file://{tmp_path}/no-mirror")
    # no mirror, and no local SDK of the version to lock offline from
    r = run_xgo("init", "--go", "1.99.0", proj, env=env)
    assert r.rc == 4, r
    assert not (proj / "release.lua").exists() and not (proj / "release.lock").exists()
    assert not list((proj / ".xgo-build").glob("init-*"))
    # no mirror, but the local go of the version: lock pins it by its tree only (docs/sdk.md)
    r = run_xgo("init", proj, env=env)
    assert r.rc == 0 and "by the local SDK's tree digest only" in r.err, r
    host = json.loads((proj / "release.lock").read_text())["platforms"]["linux-amd64"]
    assert host["sha256"] is None and host["tree_digest"], host


# ---- --from-goreleaser -------------------------------------------------------

# A version 1 config in the shape of fzf's and many others: goarm 6 and 7,
# ignore, format_overrides, files objects, a wrap directory, ldflags with
# templates (one without a translation), a checksum name, publishers.
V1 = """\
project_name: demo
before:
  hooks:
    - go mod tidy
builds:
  - id: demo
    main: .
    binary: demo
    env:
      - CGO_ENABLED=0
    goos: [linux, windows]
    goarch: [amd64, arm]
    goarm: ["6", "7"]
    ignore:
      - goos: windows
        goarch: arm
    flags: [-trimpath]
    ldflags:
      - -s -w -X main.version={{.Version}} -X main.revision={{.ShortCommit}}
      - -X main.x={{ .Env.DEMO_X }}
archives:
  - format: tar.gz
    name_template: >-
      {{ .ProjectName }}_
      {{- .Version }}_
      {{- .Os }}_
      {{- .Arch }}
      {{- if .Arm }}v{{ .Arm }}{{ end }}
    format_overrides:
      - goos: windows
        format: zip
    files:
      - LICENSE
      - src: README.md
        dst: docs
        info:
          mode: 0600
          owner: root
    wrap_in_directory: true
checksum:
  name_template: 'checksums.txt'
snapshot:
  name_template: "{{ incpatch .Version }}-next"
changelog:
  sort: asc
brews:
  - name: demo
"""


def translate(proj, env, *args):
    r = run_xgo("init", "--from-goreleaser", *args, proj, env=env)
    return r


def test_goreleaser_v1_config_builds_goreleaser_names(tmp_path, sdk_session):
    proj = module(tmp_path / "demo", {".goreleaser.yml": V1})
    env = dict(sdk_session["env"], VERSION="1.4.0", DEMO_X="{x}")
    r = translate(proj, env)
    assert r.rc == 0, r
    lines = [l for l in r.err.splitlines() if "not translated:" in l]
    assert any(":44: changelog:" in l for l in lines) and any(":46: brews:" in l for l in lines), r.err
    assert any(":42: snapshot:" in l for l in lines), r.err
    assert any(":38: owner:" in l for l in lines), r.err
    assert len(lines) == 4, r.err
    lua = (proj / "release.lua").read_text()
    assert "-- Not translated:" in lua and 'goarm = { "6", "7" }' in lua
    assert '"main.revision={short_commit}"' in lua, lua  # a git fact is our variable
    commit_all(proj)
    r = run_xgo("run", "-q", cwd=proj, env=env)
    assert r.rc == 0, r
    dist = proj / "dist"
    # what GoReleaser names them: linux arm 6 and 7, no windows arm
    want = ["checksums.txt", "demo_1.4.0_windows_amd64.zip"] + [f"demo_1.4.0_{t}.tar.gz" for t in (
        "linux_amd64", "linux_armv6", "linux_armv7")]
    assert published(dist) == sorted(want)
    check = subprocess.run(["sha256sum", "-c", "checksums.txt"], cwd=dist, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    tv = subprocess.run(["tar", "-tvzf", str(dist / "demo_1.4.0_linux_armv6.tar.gz")], capture_output=True,
                        text=True, check=True).stdout
    entries = {l.split()[-1]: l.split()[0] for l in tv.splitlines()}
    assert set(entries) == {"demo_1.4.0_linux_armv6/", "demo_1.4.0_linux_armv6/LICENSE",
                            "demo_1.4.0_linux_armv6/demo", "demo_1.4.0_linux_armv6/docs/",
                            "demo_1.4.0_linux_armv6/docs/README.md"}
    assert entries["demo_1.4.0_linux_armv6/docs/README.md"] == "-rw-------"
    # the ldflags templates: {{.Version}} and the environment's text as is
    out = subprocess.run([str(dist / "demo_linux_amd64/demo")], capture_output=True, text=True)
    assert out.stdout == "1.4.0 {x}\n"
    # the arm binaries are GOARM 6 and 7 (go version -m reads the build settings)
    m = subprocess.run(["go", "version", "-m", str(dist / "demo_linux_armv6/demo")], capture_output=True, text=True)
    assert "GOARM=6" in m.stdout, m.stdout


# A version 2 config where GoReleaser's defaults speak: no goos/goarch, no
# ldflags, no archive files, no checksum name.
V2_DEFAULTS = """\
version: 2
builds:
  - main: ./cmd/tool
    binary: tool
archives:
  - formats: [tar.gz]
    format_overrides:
      - goos: windows
        formats: [zip]
"""


def test_goreleaser_v2_defaults_are_goreleasers(tmp_path, sdk_session):
    proj = module(tmp_path / "demo", {".goreleaser.yaml": V2_DEFAULTS, "CHANGELOG.md": "x\n"})
    env = sdk_session["env"]
    r = translate(proj, env)
    assert r.rc == 0, r
    lines = [l for l in r.err.splitlines() if "not translated:" in l]
    assert any("CGO_ENABLED is not set" in l for l in lines), r.err
    assert not any("{{ .Commit }}" in l for l in lines) and any("{{ .Date }}" in l for l in lines), r.err
    lua = (proj / "release.lua").read_text()
    # GoReleaser's default files: globs that may match nothing, so optional
    for g in ("license*", "LICENSE*", "readme*", "README*", "changelog*", "CHANGELOG*"):
        assert f'{{ src = "{g}", optional = true }},' in lua, lua
    assert 'file = "{name}_{version}_checksums.txt"' in lua, lua
    assert '"main.commit={commit}"' in lua, lua
    commit_all(proj)
    assert '"-X", "main.version={version}"' in lua and '"main.builtBy=goreleaser"' in lua, lua
    # GoReleaser's default matrix: linux, darwin, windows x amd64, arm64, 386 (no darwin/386)
    got = plan_targets(proj, env)
    assert sorted(t for _, t in got) == sorted(f"{o}/{a}" for o in ("linux", "darwin", "windows")
                                               for a in ("amd64", "arm64", "386") if (o, a) != ("darwin", "386"))
    assert {b for b, _ in got} == {"demo"}  # the default id: the project name (the module's)


# Targets, a binary "archive", sha512 and a templated checksum name, as
# go-task style configs write them.
TARGETS = """\
version: 2
project_name: demo
builds:
  - id: cli
    binary: demo
    env: [CGO_ENABLED=0]
    ldflags: "-s -w -X main.version={{ .Version }}"
    targets:
      - linux_amd64_v1
      - linux_arm_7
      - darwin_arm64
      - windows_amd64
archives:
  - id: bin
    formats: [binary]
checksum:
  name_template: "{{ .ProjectName }}_{{ .Version }}_SHA512SUMS"
  algorithm: sha512
"""


def test_goreleaser_targets_and_binary_format(tmp_path, sdk_session):
    proj = module(tmp_path / "demo", {".goreleaser.yaml": TARGETS})
    env = dict(sdk_session["env"], VERSION="2.0.1")
    r = translate(proj, env, proj / ".goreleaser.yaml")
    assert r.rc == 0, r
    assert "not translated:" not in r.err, r.err
    r = run_xgo("run", "-q", cwd=proj, env=env)
    assert r.rc == 0, r
    dist = proj / "dist"
    assert published(dist) == sorted(["demo_2.0.1_SHA512SUMS", "demo_2.0.1_linux_amd64", "demo_2.0.1_linux_armv7",
                                      "demo_2.0.1_darwin_arm64", "demo_2.0.1_windows_amd64.exe"])
    check = subprocess.run(["sha512sum", "-c", "demo_2.0.1_SHA512SUMS"], cwd=dist, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


UNTRANSLATABLE = """\
project_name: demo
builds:
  - env: [CGO_ENABLED=0]
    goos: [linux]
    goarch: [amd64]
    hooks:
      post: upx {{ .Path }}
archives:
  - name_template: '{{ .ProjectName }}_{{ title .Os }}_{{ if eq .Arch "amd64" }}x86_64{{ else }}{{ .Arch }}{{ end }}'
    files:
      - completions/**/*
dockers:
  - image_templates: ["x/demo:{{ .Tag }}"]
signs:
  - artifacts: checksum
nfpms:
  - formats: [deb]
checksum:
  algorithm: crc32
"""


def test_goreleaser_untranslatable_settings_print_their_lines(tmp_path, sdk_session):
    proj = module(tmp_path / "demo", {"goreleaser.yaml": UNTRANSLATABLE})
    env = sdk_session["env"]
    r = translate(proj, env, "--no-lock")
    assert r.rc == 0, r
    lines = [l for l in r.err.splitlines() if "not translated:" in l]
    for want in ("goreleaser.yaml:7: hooks:", "goreleaser.yaml:9: name_template: '{{ title .Os }}'",
                 "goreleaser.yaml:12: dockers:",
                 "goreleaser.yaml:14: signs:", "goreleaser.yaml:16: nfpms:", "goreleaser.yaml:19: algorithm:",
                 # GoReleaser's default ldflags, for the config has none
                 "goreleaser.yaml:3: ldflags: '-X main.date={{.Date}}'"):
        assert sum(want in l for l in lines) == 1, (want, r.err)
    assert len(lines) == 7, r.err  # the default ldflags' {{ .Commit }} is translated: {commit}
    lua = (proj / "release.lua").read_text()
    # '**' is translated; a glob matching nothing is no error in GoReleaser
    assert '{ src = "completions/**/*", optional = true },' in lua, lua
    assert 'name = "{name}_{version}_{os}_{arch}{variant}"' in lua
    (proj / "release.lock").write_text(sdk_session["lock"])
    commit_all(proj)
    r = run_xgo("plan", cwd=proj, env=env)
    assert r.rc == 0, r


TAGGED = """\
version: 2
builds:
  - env: [CGO_ENABLED=0]
    goos: [linux]
    goarch: [amd64]
    ldflags: ["-X main.version={{ .Version }} -X main.x={{ .Tag }}/{{ .Major }}.{{ .Minor }}"]
archives:
  - formats: [binary]
"""


def test_goreleaser_version_comes_from_the_tag_when_the_config_has_none(tmp_path, sdk_session):
    proj = module(tmp_path / "demo", {".goreleaser.yaml": TAGGED})
    env = sdk_session["env"]
    r = translate(proj, env)
    assert r.rc == 0, r
    assert "not translated:" not in r.err, r.err
    lua = (proj / "release.lua").read_text()
    assert 'local version = env("VERSION")' in lua and '"main.x={tag}/{major}.{minor}"' in lua, lua
    commit_all(proj, "v3.1.0")
    r = run_xgo("run", "-q", cwd=proj, env=env)
    assert r.rc == 0, r
    out = subprocess.run([str(proj / "dist/demo_linux_amd64/demo")], capture_output=True, text=True)
    assert out.stdout == "3.1.0 v3.1.0/3.1\n"
    assert "demo_3.1.0_linux_amd64" in published(proj / "dist")


def test_malformed_yaml_is_exit_2_with_file_and_line(tmp_path, sdk_session):
    proj = module(tmp_path / "demo", {".goreleaser.yaml": "builds:\n  - goos: [linux\n    goarch: amd64\n  x: : :\n"})
    r = translate(proj, sdk_session["env"])
    assert r.rc == 2, r
    assert ".goreleaser.yaml:4: malformed YAML" in r.err or ".goreleaser.yaml:3: malformed YAML" in r.err, r.err
    assert not (proj / "release.lua").exists()
    (proj / ".goreleaser.yaml").write_text("builds:\n  - goos: {a: b}\n")
    r = translate(proj, sdk_session["env"])
    assert r.rc == 2 and ".goreleaser.yaml:2: goos: expected a list of strings" in r.err, r


def test_alias_bomb_and_huge_file_are_bounded(tmp_path, sdk_session):
    bomb = ["a0: &a0 {goos: linux, goarch: amd64}"]
    for i in range(1, 10):
        bomb.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    bomb.append("x: &b {goos: [linux], goarch: [amd64], ignore: *a9}")
    bomb.append("builds: [" + ", ".join(["*b"] * 2000) + "]")
    proj = module(tmp_path / "demo", {".goreleaser.yaml": "\n".join(bomb) + "\n"})
    start = time.monotonic()
    r = translate(proj, sdk_session["env"], "--no-lock")
    assert time.monotonic() - start < 20
    assert r.rc == 2 and "ignore: expected a list of goos/goarch" in r.err, r
    assert not (proj / "release.lua").exists()
    ignore = ["a0: &a0 {goos: linux, goarch: amd64}", "x: &b {goos: [linux], goarch: [amd64], ignore: [" +
              ", ".join(["*a0"] * 5000) + "]}", "builds: [" + ", ".join(["*b"] * 5000) + "]"]
    (proj / ".goreleaser.yaml").write_text("\n".join(ignore) + "\n")
    r = translate(proj, sdk_session["env"], "--no-lock")
    assert r.rc == 2 and "would pass" in r.err, r
    (proj / ".goreleaser.yaml").write_text("project_name: x\n" + "#" * (2 << 20) + "\n")
    r = translate(proj, sdk_session["env"], "--no-lock")
    assert r.rc == 2 and ".goreleaser.yaml" in r.err, r
    assert not (proj / "release.lua").exists()
