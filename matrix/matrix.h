/* matrix.h - expand a build's matrix { ... } into concrete targets.
 *
 * Order (stable, documented in README): the cartesian product in the order
 * written — goos, then goarch, then cgo, then the variant values — with
 * combinations that are not Go ports skipped (and reported); then exclude
 * removes every target matching all keys of an entry; then each include
 * entry, in order, extends matching targets with its variant values or adds
 * its combinations at the end.  Duplicates keep their first place.
 */
#ifndef XGO_MATRIX_H
#define XGO_MATRIX_H

#include <stddef.h>

#include "lua/release.h"
#include "ports.h"

struct target {
	char goos[16];
	char goarch[16];
	char vkey[12];   /* "GOARM", ... or "" when the arch has no variant */
	char vval[24];   /* always set when vkey is: explicit or Go's default */
	int vexplicit;   /* chosen in release.lua: shows in names via {variant} */
	int cgo;
	int first_class;
};

struct target_list {
	struct target *v;
	size_t n;
	struct strv skipped; /* "darwin/386" combinations that are no port */
	/* "release.lua:9: exclude entry { goos = \"plan9\" }": exclude entries
	 * that removed nothing; the caller warns once per entry (a matrix
	 * shared by several builds is expanded once per build). */
	struct strv unused_excludes;
};

/* Expand spec; file names the build file in errors. */
int mx_expand(const struct mx_spec *spec, const struct port_table *ports, const char *file,
	      struct target_list *out);
void mx_list_release(struct target_list *l);

/* "linux/arm/7", "linux/amd64" (variant only when explicit), "+cgo" suffix
 * when cgo.  For tables and --print-env. */
void target_id(const struct target *t, char *out, size_t size);
/* The {variant} template value: "" unless explicit; "v6" for GOARM,
 * "_v3" for GOAMD64, "_" + value for the others. */
void target_variant_suffix(const struct target *t, char *out, size_t size);
/* The executable's file-name suffix on t: ".exe" for windows, else "". */
const char *target_exe_suffix(const struct target *t);

#endif
