"""Issue 15, found beyond its list: a repository's own files steering where
a run writes (a symlinked work dir or log), build flags that move go's
writes out of dist/, and merge's output beside its shards."""
import pytest

from conftest import run_xgo
from test_hostile import one_error
from test_safety_dist import MARKER, tiny, tree


def _victim(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "bashrc").write_text("keep me\n")
    return victim


@pytest.mark.parametrize("where", ["work_dir", "log", "jobs"])
def test_a_symlink_in_the_work_dir_is_refused(tmp_path, sdk_session, where):
    """A clone can carry .xgo-build/ entries: a log that is a link to the
    user's file would be truncated by the run's first write to it."""
    proj = tiny(tmp_path / "p", sdk_session)
    victim = _victim(tmp_path)
    work = proj / ".xgo-build"
    if where == "work_dir":
        work.symlink_to(victim)
    elif where == "log":
        (work / "logs").mkdir(parents=True)
        (work / "logs" / "tiny_linux_amd64.log").symlink_to(victim / "bashrc")
    else:
        (work / "jobs").mkdir(parents=True)
        (work / "jobs" / "tiny_linux_amd64").symlink_to(victim)
    r = run_xgo("run", cwd=proj, env=sdk_session["env"])
    one_error(r, 2, "work directory")
    assert tree(victim) == {"bashrc": b"keep me\n"}
    assert not (proj / "dist").exists()


@pytest.mark.parametrize("flags, needle", [
    ('"-o", "/tmp/xgo-escaped"', "'-o' is refused"),
    ('"-o=/tmp/xgo-escaped"', "'-o=/tmp/xgo-escaped' is refused"),
    ('"--pkgdir=/tmp/xgo-pkg"', "'--pkgdir=/tmp/xgo-pkg' is refused"),
    ('"-toolexec=/bin/echo"', "'-toolexec=/bin/echo' is refused"),
    ('"-ldflags=-s"', "use the build's ldflags key"),
    ('"-trimpath", "-work"', "'-work' is refused"),
])
def test_build_flags_that_write_elsewhere_are_refused(tmp_path, sdk_session, flags, needle):
    proj = tiny(tmp_path / "p", sdk_session)
    rel = (proj / "release.lua").read_text().replace('goarch = { "amd64" } }', 'goarch = { "amd64" } }, '
                                                      f'flags = {{ {flags} }}')
    (proj / "release.lua").write_text(rel)
    for cmd in ("plan", "run"):
        r = run_xgo(cmd, cwd=proj, env=sdk_session["env"])
        one_error(r, 2, needle)
    assert not (proj / "dist").exists()


def test_a_main_that_is_a_flag_is_refused(tmp_path, sdk_session):
    proj = tiny(tmp_path / "p", sdk_session)
    rel = (proj / "release.lua").read_text().replace('goarch = { "amd64" } }',
                                                      'goarch = { "amd64" } }, main = "-o=/tmp/xgo-escaped"')
    (proj / "release.lua").write_text(rel)
    one_error(run_xgo("run", cwd=proj, env=sdk_session["env"]), 2, "is not a package")


def test_merge_output_may_not_hold_or_lie_in_a_shard(tmp_path, sdk_session):
    proj = tiny(tmp_path / "p", sdk_session, targets=('"amd64"', '"arm64"'))
    shards = tmp_path / "shards"
    for k in (1, 2):
        r = run_xgo("run", "--shard", f"{k}/2", "--dist", shards / f"s{k}", cwd=proj, env=sdk_session["env"])
        assert r.rc == 0, r
    before = tree(shards)
    for out in (shards, shards / "s1" / "merged", shards / "s2"):
        r = run_xgo("merge", "--dist", out, shards / "s1", shards / "s2")
        one_error(r, 2, "shard")
        assert tree(shards) == before
    r = run_xgo("merge", "--dist", tmp_path / "merged", shards / "s1", shards / "s2")
    assert r.rc == 0, r
    assert (tmp_path / "merged" / MARKER).exists()
