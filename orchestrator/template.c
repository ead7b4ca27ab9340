#define _POSIX_C_SOURCE 200809L
#include "template.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Known in every template: the literal braces. */
static const struct tmpl_var braces[] = { { "lbrace", "{", NULL }, { "rbrace", "}", NULL } };

static const struct tmpl_var *lookup(const struct tmpl_var *vars, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(vars[i].name) == len && !strncmp(vars[i].name, name, len))
			return &vars[i];
	return NULL;
}

static int unknown_var(const char *tmpl, const struct tmpl_var *vars, size_t n, const char *where,
		       const char *name, size_t len)
{
	char word[64];
	const char *names[40];
	size_t nn = n < ARRAY_LEN(names) ? n : ARRAY_LEN(names);
	snprintf(word, sizeof(word), "%.*s", (int)len, name);
	for (size_t i = 0; i < nn; i++)
		names[i] = vars[i].name;
	const char *s = suggest(word, names, nn);
	struct buf list;
	buf_init(&list, 1024);
	for (size_t i = 0; i < nn; i++)
		buf_printf(&list, "%s{%s}", i ? " " : "", names[i]);
	if (s)
		error("%s: unknown variable '{%s}' in \"%.80s\" (did you mean '{%s}'?)", where, word, tmpl, s);
	else
		error("%s: unknown variable '{%s}' in \"%.80s\" (known: %s)", where, word, tmpl,
		      list.data ? list.data : "none");
	buf_release(&list);
	return -1;
}

int tmpl_expand(const char *tmpl, const struct tmpl_var *vars, size_t nvars, const char *where, char **out)
{
	struct buf b;
	buf_init(&b, TMPL_MAX);
	*out = NULL;
	for (const char *p = tmpl; *p;) {
		int rc = 0;
		if (p[0] == '{' && p[1] == '{') {
			buf_release(&b);
			return error("%s: \"%.80s\": '{{' is GoReleaser template syntax: write {version}, {os}, ... "
				     "(see docs/templates.md)", where, tmpl);
		} else if (*p == '}') {
			buf_release(&b);
			return error("%s: unmatched '}' in \"%.80s\" (write {rbrace} for a literal brace)", where, tmpl);
		} else if (*p == '{') {
			const char *end = strchr(p + 1, '}');
			if (!end) {
				buf_release(&b);
				return error("%s: unterminated '{' in \"%.80s\"", where, tmpl);
			}
			size_t len = (size_t)(end - p - 1);
			const struct tmpl_var *v = lookup(vars, nvars, p + 1, len);
			if (!v && (v = lookup(braces, ARRAY_LEN(braces), p + 1, len)) == NULL) {
				buf_release(&b);
				return unknown_var(tmpl, vars, nvars, where, p + 1, len);
			}
			if (!v->value) {
				buf_release(&b);
				return error("%s: '{%s}' in \"%.80s\" is not available: %s", where, v->name, tmpl,
					     v->why ? v->why : "no value in this run");
			}
			rc = buf_puts(&b, v->value);
			p = end + 1;
		} else {
			size_t n = strcspn(p, "{}");
			rc = buf_append(&b, p, n);
			p += n;
		}
		if (rc < 0) {
			buf_release(&b);
			return error("%s: \"%.80s\" expands to more than %d bytes", where, tmpl, TMPL_MAX);
		}
	}
	*out = buf_detach(&b);
	return 0;
}
