/* goreleaser.h - translate a GoReleaser config (.goreleaser.yaml, schema
 * version 1 or 2) into release.lua text.
 *
 * The YAML is parsed by libyaml (its document loader: an alias is a
 * reference to the anchored node, never a copy), from a file of at most
 * GR_MAX_BYTES with at most GR_MAX_NODES nodes; the generated text is
 * bounded by GR_MAX_OUTPUT.  Where the config is silent GoReleaser's own
 * defaults are written out (goos, goarch, goarm 6, ldflags, archive
 * files and name, the checksum file name).  Every setting that has no
 * xgo-build equivalent becomes one note, "FILE:LINE: KEY: why; what to
 * do", also written as a comment at the top of the text.  docs/init.md
 * lists the mapping.
 */
#ifndef XGO_GORELEASER_H
#define XGO_GORELEASER_H

#include "base/util.h"

#define GR_MAX_BYTES (1u << 20)
#define GR_MAX_NODES 200000
#define GR_MAX_OUTPUT (4u << 20)

struct gr_options {
	const char *project_dir;  /* where archive file globs are looked up */
	const char *project_name; /* when the config has no project_name */
	const char *go_version;   /* the go "..." line, e.g. "1.26.8" */
};

struct gr_result {
	struct buf lua;     /* the release.lua text */
	struct strv notes;  /* one line per setting not translated */
};

/* Translate the config at path.  0 with *out filled (release with
 * gr_result_release), or error() naming "FILE:LINE" and -1: unreadable or
 * malformed YAML, a value of the wrong kind, past a bound. */
int gr_translate(const char *path, const struct gr_options *o, struct gr_result *out);
void gr_result_release(struct gr_result *r);

/* One GoReleaser template as a Lua expression giving an xgo-build
 * template ({version}, {os}, {variant}, ... and env("NAME") for
 * .Env.NAME).  as_text: the value is not expanded by xgo-build (the
 * checksum file), so only .ProjectName, .Version and .Env are allowed and
 * become the Lua variables name, version and env().  0 and *lua (owned),
 * or 1 and *why (owned) naming the expression that has no translation. */
int gr_template(const char *tmpl, int as_text, char **lua, char **why);

#endif
