"""`ninja install` (issue 18 item 11): the binary, xgo-build(1) and the bash,
zsh and fish completions, all made from the binary's own --help texts
(man/gen.py), so none can drift from it."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT, run_xgo


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    dest = tmp_path_factory.mktemp("destdir")
    p = subprocess.run(["ninja", "-C", str(ROOT), "install"], env=dict(os.environ, DESTDIR=str(dest), PREFIX="/usr"),
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    return dest / "usr"


def commands():
    r = run_xgo("--help")
    block = r.out.split("commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines() if line.split()[0] != "gocacheprog"]


def test_install_puts_every_file_in_place(installed):
    for rel in ("bin/xgo-build", "share/man/man1/xgo-build.1", "share/bash-completion/completions/xgo-build",
                "share/zsh/site-functions/_xgo-build", "share/fish/vendor_completions.d/xgo-build.fish"):
        assert (installed / rel).is_file(), rel
    assert os.access(installed / "bin/xgo-build", os.X_OK)
    r = subprocess.run([str(installed / "bin/xgo-build"), "version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("xgo-build"), r


@pytest.mark.skipif(not shutil.which("groff"), reason="groff is not installed (configure --deps installs groff-base)")
def test_man_page_renders_without_warnings_and_holds_every_command_help(installed):
    page = installed / "share/man/man1/xgo-build.1"
    p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", str(page)], capture_output=True, text=True,
                       env=dict(os.environ, LC_ALL="C.UTF-8"))
    assert p.returncode == 0 and p.stderr == "", p.stderr
    text = re.sub(r".\x08", "", p.stdout)
    for cmd in commands():
        if cmd not in ("help", "version"):  # they have no options: the command list names them
            assert f"xgo-build {cmd}" in text, cmd
    # the same words as --help: one option line of run, as run --help prints it
    run_help = run_xgo("run", "--help").out
    line = next(l for l in run_help.splitlines() if "--target PATTERN" in l)
    assert line.strip() in text


def bash_complete(installed, words):
    script = (f'source {installed}/share/bash-completion/completions/xgo-build\n'
              f'COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); _xgo_build; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    p = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


def test_bash_completion_offers_commands_and_each_commands_options(installed):
    assert set(bash_complete(installed, "xgo-build ''")) == set(commands())
    assert bash_complete(installed, "xgo-build ver") == ["verify", "verify-release", "version"]
    assert bash_complete(installed, "xgo-build run --ta") == ["--target"]
    assert "--against" in bash_complete(installed, "xgo-build verify --a")


@pytest.mark.parametrize("shell,rel", [("zsh", "share/zsh/site-functions/_xgo-build"),
                                       ("fish", "share/fish/vendor_completions.d/xgo-build.fish")])
def test_zsh_and_fish_completions_parse(installed, shell, rel):
    if not shutil.which(shell):
        pytest.skip(f"{shell} is not installed (configure --deps installs it)")
    p = subprocess.run([shell, "-n", str(installed / rel)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    text = (installed / rel).read_text()
    for cmd in commands():
        assert cmd in text, cmd
