/* relsource.h - does a release's provenance describe this checkout?
 *
 * verify-release --source: the provenance's resolvedDependencies and
 * build file against what the checkout pins and holds --
 *   the Go SDK: the archive release.lock pins (the entry whose file name
 *     the provenance lists) by its sha256, the tree digest and version of
 *     "go-sdk-tree:<version>";
 *   the modules: every go.sum module path@version with its h1 hash
 *     (dirHash1), both ways (none missing, none extra);
 *   the build file: externalParameters.buildFile's digest against the
 *     checkout's file of that name;
 *   the source: "source" against the checkout's source tree digest
 *     (source.h), leaving out what a run leaves out (its dist/ when a run
 *     wrote it, the release directory when it lies inside).
 * One `ok:` note per step that matches; each mismatch is one error
 * naming the checkout's file and the field.
 */
#ifndef XGO_RELSOURCE_H
#define XGO_RELSOURCE_H

#include <jansson.h>

/* statement: the release's (verified) provenance; src: the checkout
 * (holding the build file); rel_dir: the release directory.  0 when every
 * step matches, -1 after the errors. */
int relsource_check(json_t *statement, const char *src, const char *rel_dir);

#endif
