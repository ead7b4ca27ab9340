"""Issue 15, the build file: Lua limits that hold while the declarations are
read, names that are known (and refused) before anything is built, UTF-8,
and errors that name the file and line.

Every case checks the documented exit code, exactly one
"xgo-build: error: ..." line naming the value at fault, and that nothing was
built: no dist/ appears.  Collisions between published names are refused by
`plan` as well as by `run`.
"""
import json
import time

import pytest

from conftest import run_xgo, write_project
from test_hostile import one_error, snapshot

HEAD = ('project { name = "x", version = "1" }\ngo "1.26.8"\n')
TARGETS = 'targets = matrix { goos = { "linux" }, goarch = { "amd64" } }'
BUILD = 'build "x" { ' + TARGETS + ' }\n'


def plan(xgo, tmp_path, text, env=None):
    (tmp_path / "release.lua").write_text(text)
    before = snapshot(tmp_path)
    t0 = time.monotonic()
    r = xgo("plan", "release.lua", cwd=tmp_path, env=env, timeout=60)
    assert time.monotonic() - t0 < 30
    assert snapshot(tmp_path) == before
    return r


# ---- item 4: no metamethod runs after the file, the limits hold until close -------

LOOP = "function() while true do end end"
BOMB = 'function() local s = "x" for i = 1, 40 do s = s .. s end return s end'

# id: (code after HEAD, the error's words)
METATABLES = {
    "build_index_loop": ('build "x" (setmetatable({ ' + TARGETS + ' }, { __index = ' + LOOP + ' }))\n',
                         "metatable"),
    "build_index_bomb": ('build "x" (setmetatable({ ' + TARGETS + ' }, { __index = ' + BOMB + ' }))\n',
                         "metatable"),
    "project_index_loop": ('project (setmetatable({ name = "y" }, { __index = ' + LOOP + ' }))\n' + BUILD,
                           "project: the declaration is a table with a metatable"),
    "matrix_pairs_loop": ('build "x" { targets = matrix (setmetatable({ goos = { "linux" }, goarch = { "amd64" } },'
                          ' { __pairs = ' + LOOP + ' })) }\n', "metatable"),
    "matrix_index_bomb": ('build "x" { targets = matrix (setmetatable({ goos = { "linux" } },'
                          ' { __index = ' + BOMB + ' })) }\n', "metatable"),
    "list_len_loop": ('build "x" { ' + TARGETS + ', ldflags = setmetatable({}, { __len = ' + LOOP + ' }) }\n',
                      "'ldflags' is a table with a metatable"),
    "goos_len_bomb": ('build "x" { targets = matrix { goos = setmetatable({ "linux" }, { __len = ' + BOMB + ' }),'
                      ' goarch = { "amd64" } } }\n', "'goos' is a table with a metatable"),
    "env_pairs_loop": ('build "x" { ' + TARGETS + ', env = setmetatable({}, { __pairs = ' + LOOP + ' }) }\n',
                       "'env' is a table with a metatable"),
}

# ---- item 13: every error names the file and a line ---------------------------------

ERRORS = {
    "error_number": ("error(42)", "release.lua:3: error(42)"),
    "error_nil": ("error(nil)", "release.lua:3: the error value is nil"),
    "error_table_tostring": ('error(setmetatable({}, { __tostring = function() return "hi" end }))',
                             "release.lua:3: the error value is a table"),
    "error_level_0": ('error("plain", 0)', "release.lua:3: plain"),
    "dsl_from_a_c_function": ('string.gsub("a", ".", project)', "release.lua:3: project expects a table"),
    "nested_constructors": ("local t = \n" + "{" * 300 + "}" * 300, "release.lua:4: C stack overflow"),
}

# ---- item 13: build env keys ---------------------------------------------------------

ENV_KEYS = {
    "empty_key": ('[""] = "v"', "env: '' is not a variable name"),
    "key_with_equals": ('["A=B"] = "v"', "env: 'A=B' is not a variable name"),
    "key_with_newline": ('["A\\nB"] = "v"', "env: 'A\\x0aB' is not a variable name"),
    "passed_with_equals": ('"A=B"', "env: 'A=B' is not a variable name"),
    "key_with_nul": ('["A\\0B"] = "v"', "is not a variable name"),
}

# ---- item 6: strings that are not UTF-8 ----------------------------------------------

UTF8 = {
    "output": ('build "x" { ' + TARGETS + ', output = "\\xff/x" }\n', "'output' is not valid UTF-8: \"\\xff/x\""),
    "version": ('project { name = "y", version = "1\\xc3" }\n' + BUILD, "'version' is not valid UTF-8"),
    "ldflags": ('build "x" { ' + TARGETS + ', ldflags = { "-X main.v=\\xed\\xa0\\x80" } }\n',
                "'ldflags[1]' is not valid UTF-8"),
    "env_default": ('local v = env("V", "\\xfe")\n' + BUILD, "env: the default for V is not valid UTF-8"),
}


@pytest.mark.parametrize("case", sorted(METATABLES))
def test_buildfile_metatable_never_runs(xgo, tmp_path, case):
    code, needle = METATABLES[case]
    text = HEAD.replace('project { name = "x", version = "1" }\n', "") if code.startswith("project") else HEAD
    one_error(plan(xgo, tmp_path, text + code), 2, needle)


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_buildfile_error_names_file_and_line(xgo, tmp_path, case):
    code, needle = ERRORS[case]
    one_error(plan(xgo, tmp_path, HEAD + code + "\n"), 2, needle)


@pytest.mark.parametrize("case", sorted(ENV_KEYS))
def test_buildfile_env_key_refused(xgo, tmp_path, case):
    item, needle = ENV_KEYS[case]
    code = 'build "x" { ' + TARGETS + ', env = { ' + item + ' } }\n'
    one_error(plan(xgo, tmp_path, HEAD + code), 2, needle)


@pytest.mark.parametrize("case", sorted(UTF8))
def test_buildfile_invalid_utf8_refused(xgo, tmp_path, case):
    code, needle = UTF8[case]
    text = HEAD.replace('project { name = "x", version = "1" }\n', "") if code.startswith("project") else HEAD
    one_error(plan(xgo, tmp_path, text + code), 2, needle)


# ---- built projects: run refuses before building, plan refuses too -----------------------

TINY_MAIN = 'package main\n\nfunc main() { println("t") }\n'


def tiny(tmp_path, sdk_session, body):
    go = json.loads(sdk_session["lock"])["go"]
    text = f'project {{ name = "t", version = env("VERSION", "1.0.0") }}\ngo "{go}"\n' + body
    return write_project(tmp_path / "t", {"release.lua": text, "main.go": TINY_MAIN, "LICENSE": "L\n",
                                          "NOTICE": "N\n"}, sdk_session)


def refused_before_building(proj, sdk_session, needle, env=None, check_plan=True):
    full = dict(sdk_session["env"], **(env or {}))
    before = snapshot(proj)
    r = run_xgo("run", cwd=proj, env=full, timeout=300)
    one_error(r, 2, needle)
    assert "building" not in r.err, r
    assert not (proj / "dist").exists()
    assert {k: v for k, v in snapshot(proj).items() if not k.startswith(".xgo-build")} == \
        {k: v for k, v in before.items() if not k.startswith(".xgo-build")}
    if check_plan:
        one_error(run_xgo("plan", cwd=proj, env=full, timeout=60), 2, needle)


B = 'build "t" { targets = matrix { goos = { "linux" }, goarch = { "amd64" } }%s }\n'

# id: (build file after project/go, the error's words)
PUBLISHED = {
    "output_is_manifest": (B % ', output = "manifest.json"', "output 'manifest.json' is also published by the manifest"),
    "output_is_sums": (B % ', output = "SHA256SUMS"', "output 'SHA256SUMS' is also published by the checksum file"),
    "output_is_marker": (B % ', output = ".xgo-build-dist"', "'.xgo-build-dist' is also published"),
    "sums_named_like_binary": (B % ', output = "{binary}"' + 'checksums { file = "t" }\n',
                               "output 't' is also published by checksums: file"),
    "sums_named_manifest": (B % '' + 'checksums { file = "manifest.json" }\n',
                            "checksums: file 'manifest.json' is also published by the manifest"),
    "file_beside_dir": (B % ', output = "A"' + 'build "u" { main = ".", targets = matrix { goos = { "linux" }, '
                        'goarch = { "amd64" } }, output = "A/b" }\n', "output 'A/b' needs 'A' as a directory"),
    "per_file_sum_is_output": (B % ', output = "t.sha256"' + 'build "u" { main = ".", targets = matrix { goos = '
                               '{ "linux" }, goarch = { "amd64" } }, output = "t" }\n'
                               'checksums { per_file = true }\n', "output 't.sha256' is also published by checksums"),
    "two_files_one_dst": (B % '' + 'archive { files = { { src = "LICENSE", dst = "doc/L" }, '
                          '{ src = "NOTICE", dst = "doc/L" } } }\n', "files entry 'doc/L' in archive"),
    "dst_is_the_binary": (B % '' + 'archive { files = { { src = "LICENSE", dst = "t" } } }\n',
                          "binary 't' in archive 't_1.0.0_linux_amd64.tar.gz' is also published by archive"),
    "dst_under_the_binary": (B % '' + 'archive { files = { { src = "LICENSE", dst = "t/x" } } }\n',
                             "files entry 't/x' in archive 't_1.0.0_linux_amd64.tar.gz' needs 't' as a directory"),
    "dst_dir_is_a_file": (B % '' + 'archive { files = { "LICENSE", { src = "NOTICE", dst = "LICENSE/" } } }\n',
                          "needs 'LICENSE' as a directory"),
    "two_builds_one_binary": (B % '' + 'build "u" { main = ".", binary = "t", targets = matrix { goos = '
                              '{ "linux" }, goarch = { "amd64" } }, output = "u/t" }\narchive { }\n',
                              "binary 't' in archive"),
}

# id: (build file after project/go, the error's words): names and modes refused at load
NAMES = {
    "dst_backslash": (B % '' + 'archive { files = { { src = "LICENSE", dst = "a\\\\b" } } }\n',
                      "dst 'a\\b' has a backslash"),
    "dst_control": (B % '' + 'archive { files = { { src = "LICENSE", dst = "a\\tb" } } }\n',
                    "dst has a control character (byte 0x09)"),
    "output_long_component": (B % (', output = "' + "x" * 300 + '"'), "has a component longer than 255 bytes"),
    "binary_control": (B % ', binary = "t\\nx"', "binary has a control character (byte 0x0a)"),
    "sums_backslash": (B % '' + 'checksums { file = "A\\\\B" }\n', "checksums: file 'A\\B' has a backslash"),
    "mode_setuid": (B % '' + 'archive { files = { { src = "LICENSE", mode = "4755" } } }\n',
                    "mode '4755' sets setuid, setgid or sticky bits"),
    "mode_7777": (B % '' + 'archive { files = { { src = "LICENSE", mode = "7777" } } }\n',
                  "mode '7777' sets setuid, setgid or sticky bits"),
    "archive_name_control": (B % '' + 'archive { name = "t\\x01{os}" }\n', "has a control character"),
}


@pytest.mark.parametrize("case", sorted(PUBLISHED))
def test_buildfile_published_names_collide(tmp_path, sdk_session, case):
    body, needle = PUBLISHED[case]
    refused_before_building(tiny(tmp_path, sdk_session, body), sdk_session, needle)


@pytest.mark.parametrize("case", sorted(NAMES))
def test_buildfile_invalid_published_name(tmp_path, sdk_session, case):
    body, needle = NAMES[case]
    refused_before_building(tiny(tmp_path, sdk_session, body), sdk_session, needle)


@pytest.mark.parametrize("var", ["VERSION", "OTHER"])
def test_buildfile_env_value_not_utf8(tmp_path, sdk_session, var):
    """VERSION=$'\\xff': refused, naming the variable, instead of a manifest
    that silently loses its records."""
    body = B % (', env = { X = env("OTHER", "o") }' if var == "OTHER" else '')
    proj = tiny(tmp_path, sdk_session, body)
    refused_before_building(proj, sdk_session, f"env: the value of {var} is not valid UTF-8: \"\\xff\"",
                            env={var: "\udcff"})


def test_buildfile_non_ascii_text_is_recorded_whole(tmp_path, sdk_session):
    """Valid UTF-8 beyond ASCII is text: the manifest keeps every record."""
    proj = tiny(tmp_path, sdk_session, B % ', ldflags = { "-X main.v=é" }')
    r = run_xgo("run", cwd=proj, env=dict(sdk_session["env"], VERSION="1.0.0-é"), timeout=300)
    assert r.rc == 0, r
    m = json.loads((proj / "dist" / "manifest.json").read_text())
    assert m["release"]["version"] == "1.0.0-é"
    assert len(m["jobs"]) == 1 and "archives" in m
    assert [e for e in m["release"]["env_reads"] if e["name"] == "VERSION"][0]["value"] == "1.0.0-é"


def test_buildfile_passed_env_value_not_utf8(tmp_path, sdk_session):
    """A host variable passed through to the job (env = { "NAME" }) is
    recorded in the manifest: one that is not text is refused up front."""
    proj = tiny(tmp_path, sdk_session, B % ', env = { "PASSED" }')
    refused_before_building(proj, sdk_session, "env passes PASSED through, but its value is not valid UTF-8",
                            env={"PASSED": "a\udcffb"})
