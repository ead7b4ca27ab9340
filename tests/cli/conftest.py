"""Shared fixtures for the CLI tests: the built binary and a runner."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = ROOT / "build" / "xgo-build"


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return f"rc={self.rc}\nstdout:\n{self.out}\nstderr:\n{self.err}"


def run_xgo(*args, cwd=None, env=None, timeout=300, input=None):
    """Run the real binary; returns rc, stdout, stderr."""
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    if env:
        full_env.update(env)
    proc = subprocess.run(
        [str(BINARY), *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
    )
    return Result(proc)


@pytest.fixture(scope="session")
def xgo():
    assert BINARY.exists(), f"{BINARY} is not built: run ninja first"
    return run_xgo


@pytest.fixture(scope="session")
def root():
    return ROOT
