/* template.h - expand "{name}_{version}_{os}_{arch}{variant}" templates.
 *
 * The one template expander: output paths, archive names, hook commands.
 * "{{" and "}}" stand for literal braces; an unknown variable, an
 * unterminated "{" or a lone "}" is an error naming the template.
 */
#ifndef XGO_TEMPLATE_H
#define XGO_TEMPLATE_H

#include <stddef.h>

#define TMPL_MAX 1024 /* longest expansion */

struct tmpl_var {
	const char *name;
	const char *value;
};

/* Expand tmpl into a new string (*out, caller frees).  where prefixes
 * error messages ("release.lua:12: build 'hello': output"). */
int tmpl_expand(const char *tmpl, const struct tmpl_var *vars, size_t nvars, const char *where, char **out);

#endif
