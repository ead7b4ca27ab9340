/* template.h - expand "{name}_{version}_{os}_{arch}{variant}" templates.
 *
 * The one template expander: output paths, binary names, archive names,
 * the checksum file, ldflags, files dst, smoke expect.  A '{' always opens
 * a variable; a literal brace is written {lbrace} or {rbrace}, two names
 * every template knows.  "{{" is refused with a hint, since it is
 * GoReleaser's syntax ("{{ .Version }}"), not an escape (it was one
 * before, which turned {{.Version}} silently into the text {.Version});
 * an unknown variable, an unavailable one (a git variable outside a
 * checkout), an unterminated "{" or a lone "}" is an error naming the
 * template.
 */
#ifndef XGO_TEMPLATE_H
#define XGO_TEMPLATE_H

#include <stddef.h>

#define TMPL_MAX 1024 /* longest expansion */

/* A variable.  value NULL: known but unavailable in this run; why says
 * why ("'/x' is not a git checkout") and using it is an error. */
struct tmpl_var {
	const char *name;
	const char *value;
	const char *why;
};

/* Expand tmpl into a new string (*out, caller frees).  where prefixes
 * error messages ("release.lua:12: build 'hello': output"). */
int tmpl_expand(const char *tmpl, const struct tmpl_var *vars, size_t nvars, const char *where, char **out);

#endif
