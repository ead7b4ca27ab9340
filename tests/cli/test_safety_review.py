"""A hostile review of issue 15's fixes: the cases the first round missed.

Every case checks: the documented exit code; exactly one
"xgo-build: error: ..." line naming the value at fault; nothing written
(snapshot).
"""
import pytest  # noqa: F401

from test_safety_paths import copies, edit, merge_refused, shards  # noqa: F401 (shards is a fixture)


# ---- merge: a shard's name equal to the dist marker ----------------------------------------

def test_merge_refuses_a_checksum_file_named_like_the_marker(shards, tmp_path):  # noqa: F811
    """The marker is written last: the old merge published no checksum
    file at all, exit 0, with a manifest that names one."""
    dirs = copies(shards, tmp_path)
    for d in dirs:
        edit(d, lambda m: m["checksums"].update(file=".xgo-build-dist"))
    merge_refused(tmp_path, dirs, "checksums.file '.xgo-build-dist' is the name of xgo-build's dist marker")


def test_merge_refuses_an_archive_named_like_the_marker(shards, tmp_path):  # noqa: F811
    dirs = copies(shards, tmp_path)
    arc = next(dirs[0].glob("*.tar.gz"))
    arc.rename(dirs[0] / ".xgo-build-dist")
    edit(dirs[0], lambda m: m["archives"][0].update(name=".xgo-build-dist"))
    merge_refused(tmp_path, dirs, "archive name '.xgo-build-dist' is the name of xgo-build's dist marker")
