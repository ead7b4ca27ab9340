/* fileglob.h - the `files` patterns of release.lua (archives, images): the
 * rules of glob(3) per path component, plus `**`.
 *
 * A pattern is split at '/'.  A component `**` on its own matches zero or
 * more directories; a trailing `**` stands for `**` then `*` (every file
 * below).  Any other component is matched against the names in one
 * directory with fnmatch(3) and FNM_PERIOD, so `*`, `?` and `[...]` never
 * match a leading dot (`**` does not enter dot-directories either); a
 * component without wildcards is taken as written.  `**` walks real
 * directories only, never a symlink to one (no loops, and a link out of the
 * project is not walked); wildcards do follow symlinked directories, as
 * glob(3) does, and the caller checks each match with path_inside.  A
 * pattern holding `**` matches files only (a directory it meets is walked,
 * not returned); without `**`, a directory that matches is returned, for
 * the caller to refuse.
 *
 * Matches are relative to root, sorted bytewise, each once.  Bounded:
 * FG_MAX_MATCHES matches, FG_MAX_ENTRIES directory entries read and
 * FG_MAX_DEPTH directories deep.
 */
#ifndef XGO_FILEGLOB_H
#define XGO_FILEGLOB_H

#include "base/util.h"

#define FG_MAX_MATCHES 10000
#define FG_MAX_ENTRIES 200000
#define FG_MAX_DEPTH 64

/* Append the matches of pattern (relative, '/'-separated) under root to
 * out.  0 (none found is not an error here), or -1 after error() for a
 * directory that cannot be read or a bound exceeded. */
int fg_match(const char *root, const char *pattern, struct strv *out);

/* 1 when pattern holds a `**` component. */
int fg_is_recursive(const char *pattern);

#endif
