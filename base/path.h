/* path.h - the one rule for paths that come from untrusted input.
 *
 * Every name that xgo-build writes or reads on behalf of an input (the build
 * file's outputs, archive names and `files`, every name a manifest records
 * (manifest.h's reader), cache entries) goes through these functions, so the rule is written once:
 *
 *   path_components_ok  the shape alone: relative, no empty, "." or ".."
 *                     component (the part every path rule shares: archive
 *                     paths (pkg_check_path) add printable ASCII, a
 *                     SHA256SUMS file's names in verify use it alone);
 *   path_check_name   the text: path_components_ok, no control byte,
 *                     backslash or invalid UTF-8, each component at most
 *                     PATH_COMPONENT_MAX bytes;
 *   path_inside       the file system: root/rel, after every symlink on the
 *                     way is resolved, stays inside root;
 *   path_absolute     a normalised absolute form of any user path, for
 *                     comparisons (dist against the project, the cache, ...);
 *   path_within       whether one normalised path is another or below it.
 */
#ifndef XGO_PATH_H
#define XGO_PATH_H

#include <stddef.h>

#define PATH_COMPONENT_MAX 255
#define PATH_NAME_MAX 1024

/* 1 when rel is relative and none of its components is empty, "." or
 * ".." (so also no leading or trailing '/'); else 0, without error(). */
int path_components_ok(const char *rel);

/* 0 when rel is a valid relative name, else error() "WHAT 'REL' <why>"
 * and -1.  what says where the name came from ("build.lua:3: output"). */
int path_check_name(const char *what, const char *rel);

/* 0 when root/rel, resolved through every symlink that exists on the way,
 * is inside root (itself resolved); the part of the path that does not
 * exist yet is taken as written.  Else error() naming what, rel and where
 * it leads, and -1.  *real, when given, gets the resolved path (owned). */
int path_inside(const char *what, const char *root, const char *rel, char **real);

/* The absolute, normalised form of path: the longest existing prefix is
 * resolved with realpath, the rest is appended with "." and ".." applied.
 * NULL (error()) for an empty path or one that cannot be resolved. */
char *path_absolute(const char *path);

/* 1 when normalised absolute path a is b or lies below b. */
int path_within(const char *a, const char *b);

#endif
