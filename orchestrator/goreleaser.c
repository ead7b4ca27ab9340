/* goreleaser.c - .goreleaser.yaml to release.lua (goreleaser.h). */
#define _POSIX_C_SOURCE 200809L
#include "goreleaser.h"
#include "jobenv.h"
#include "matrix/ports.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

/* ---- templates ---------------------------------------------------------- */

enum part_kind { P_TEXT, P_VAR, P_ENV, P_SPACE };

struct part {
	enum part_kind kind;
	char *s;
};

struct parts {
	struct part *v;
	size_t n, cap;
	char *bad; /* the first expression without a translation, or NULL */
};

static void parts_push(struct parts *p, enum part_kind k, const char *s, size_t len)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->v = xreallocarray(p->v, p->cap, sizeof(*p->v));
	}
	p->v[p->n].kind = k;
	p->v[p->n++].s = xstrndup(s, len);
}

static void parts_release(struct parts *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].s);
	free(p->v);
	free(p->bad);
	memset(p, 0, sizeof(*p));
}

/* A token of a Go template: text, or an action with its trim markers
 * applied to the text around it. */
struct tok {
	int action;
	char *s;
};

static void bad(struct parts *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad(struct parts *p, const char *fmt, ...)
{
	if (p->bad)
		return;
	va_list ap;
	va_start(ap, fmt);
	p->bad = xvasprintf(fmt, ap);
	va_end(ap);
}

/* Split t into tokens; *ntok of them in *out (owned). */
static int tokenize(const char *t, struct tok **out, size_t *ntok, struct parts *p)
{
	struct tok *v = NULL;
	size_t n = 0, cap = 0;
	int trim_next = 0;
	while (*t) {
		const char *open = strstr(t, "{{");
		const char *end = open ? open : t + strlen(t);
		if (trim_next)
			while (t < end && isspace((unsigned char)*t))
				t++;
		trim_next = 0;
		const char *text_end = end;
		int ltrim = open && open[2] == '-' && (open[3] == ' ' || open[3] == '\t' || open[3] == '\n');
		if (ltrim)
			while (text_end > t && isspace((unsigned char)text_end[-1]))
				text_end--;
		if (n + 2 > cap) {
			cap = cap ? cap * 2 : 16;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		if (text_end > t)
			v[n++] = (struct tok){ 0, xstrndup(t, (size_t)(text_end - t)) };
		if (!open)
			break;
		const char *a = open + 2 + ltrim, *close = strstr(a, "}}");
		if (!close) {
			bad(p, "an unterminated '{{'");
			break;
		}
		const char *ae = close;
		if (ae > a && ae[-1] == '-' && ae - 1 > a && isspace((unsigned char)ae[-2])) {
			ae--;
			trim_next = 1;
		}
		while (a < ae && isspace((unsigned char)*a))
			a++;
		while (ae > a && isspace((unsigned char)ae[-1]))
			ae--;
		/* one space between words, for matching */
		char *s = xmalloc((size_t)(ae - a) + 1), *w = s;
		for (const char *c = a; c < ae; c++)
			if (!isspace((unsigned char)*c) || (w > s && w[-1] != ' '))
				*w++ = isspace((unsigned char)*c) ? ' ' : *c;
		*w = '\0';
		v[n++] = (struct tok){ 1, s };
		t = close + 2;
	}
	*out = v;
	*ntok = n;
	return p->bad ? -1 : 0;
}

static const struct {
	const char *gr, *ours;
} simple_vars[] = {
	{ ".Version", "version" }, { ".ProjectName", "name" }, { ".Os", "os" },
	{ ".Arch", "arch" }, { ".Binary", "binary" },
	/* the git facts (docs/templates.md); .CommitDate is RFC 3339 UTC in both */
	{ ".Tag", "tag" }, { ".Commit", "commit" }, { ".FullCommit", "commit" },
	{ ".ShortCommit", "short_commit" }, { ".CommitDate", "commit_date" },
	{ ".CommitTimestamp", "commit_timestamp" }, { ".Major", "major" }, { ".Minor", "minor" },
	{ ".Patch", "patch" }, { ".Prerelease", "prerelease" },
};

/* Git facts xgo-build has no variable for. */
static const char *const git_vars[] = {
	".RawVersion", ".PreviousTag", ".Branch", ".Summary", ".GitURL", ".GitTreeState", ".IsGitDirty",
	".IsSnapshot", ".Timestamp",
};

/* The variant blocks of GoReleaser's default archive name: each is our
 * {variant} (GOARM 6 -> "v6", GOMIPS -> "_softfloat"; GOAMD64 is "v3"
 * there and "_v3" here, which the caller notes). */
static const struct {
	const char *cond, *prefix;
} variant_blocks[] = {
	{ "if .Arm", "v" }, { "with .Arm", "v" }, { "if .Mips", "_" }, { "with .Mips", "_" },
	{ "if not (eq .Amd64 \"v1\")", "" }, { "if ne .Amd64 \"v1\"", "" },
};

static int variant_block(struct tok *t, size_t n, size_t i, size_t *next)
{
	for (size_t k = 0; k < ARRAY_LEN(variant_blocks); k++) {
		if (strcmp(t[i].s, variant_blocks[k].cond))
			continue;
		size_t j = i + 1;
		const char *prefix = variant_blocks[k].prefix;
		if (*prefix) {
			if (j >= n || t[j].action || strcmp(t[j].s, prefix))
				return 0;
			j++;
		}
		const char *field = strchr(variant_blocks[k].cond, '.');
		size_t flen = strcspn(field, " )");
		if (j + 1 >= n || !t[j].action || !t[j + 1].action || strcmp(t[j + 1].s, "end"))
			return 0;
		if (strcmp(t[j].s, ".") && (strlen(t[j].s) != flen || strncmp(t[j].s, field, flen)))
			return 0;
		*next = j + 2;
		return 1;
	}
	return 0;
}

static void parse_action(struct parts *p, const char *a, int as_text)
{
	for (size_t k = 0; k < ARRAY_LEN(simple_vars); k++)
		if (!strcmp(a, simple_vars[k].gr)) {
			if (as_text && strcmp(simple_vars[k].ours, "name"))
				bad(p, "'{{ %s }}' (it has no value here: only .ProjectName and .Env do; the version "
				       "and the git facts are known when the release runs, in names only)", a);
			else
				parts_push(p, P_VAR, simple_vars[k].ours, strlen(simple_vars[k].ours));
			return;
		}
	if (!strncmp(a, ".Env.", 5) && a[5] && strspn(a + 5, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
							"0123456789_") == strlen(a + 5)) {
		parts_push(p, P_ENV, a + 5, strlen(a + 5));
		return;
	}
	for (size_t k = 0; k < ARRAY_LEN(git_vars); k++)
		if (!strcmp(a, git_vars[k])) {
			bad(p, "'{{ %s }}' (xgo-build has no such git variable: it has {tag}, {commit}, "
			       "{short_commit}, {commit_date}, {commit_timestamp}, {major}, {minor}, {patch}, "
			       "{prerelease}; pass anything else in with env(\"NAME\"))", a);
			return;
		}
	if (!strcmp(a, ".Date") || !strcmp(a, ".Now"))
		bad(p, "'{{ %s }}' (the build time would make every build different: leave it out, or use "
		       "SOURCE_DATE_EPOCH through env())", a);
	else
		bad(p, "'{{ %s }}' (no xgo-build equivalent: write the name out with {os}, {arch}, {variant}, "
		       "{version})", a);
}

static void parse_template(const char *t, int as_text, struct parts *p)
{
	struct tok *tk = NULL;
	size_t n = 0;
	if (tokenize(t, &tk, &n, p) == 0) {
		for (size_t i = 0; i < n && !p->bad;) {
			size_t next;
			if (!tk[i].action) {
				parts_push(p, P_TEXT, tk[i].s, strlen(tk[i].s));
				i++;
			} else if (!as_text && variant_block(tk, n, i, &next)) {
				if (!p->n || p->v[p->n - 1].kind != P_VAR || strcmp(p->v[p->n - 1].s, "variant"))
					parts_push(p, P_VAR, "variant", 7);
				i = next;
			} else {
				parse_action(p, tk[i].s, as_text);
				i++;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		free(tk[i].s);
	free(tk);
}

/* A Lua string literal. */
static int lua_quote(struct buf *b, const char *s, size_t len)
{
	int rc = buf_puts(b, "\"");
	for (size_t i = 0; i < len && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			rc = buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			rc = buf_printf(b, "\\%03u", c);
		else
			rc = buf_append(b, &s[i], 1);
	}
	return rc < 0 ? -1 : buf_puts(b, "\"");
}

/* Render parts [from, to) as one Lua expression; -1 past out's bound. */
static int render(const struct parts *p, size_t from, size_t to, int as_text, struct buf *out)
{
	struct buf lit;
	int any = 0, rc = 0;
	buf_init(&lit, GR_MAX_OUTPUT);
	for (size_t i = from; i <= to; i++) {
		int flush = i == to || p->v[i].kind == P_ENV || (as_text && p->v[i].kind == P_VAR);
		if (flush && lit.len) {
			rc |= buf_puts(out, any ? " .. " : "");
			rc |= lua_quote(out, lit.data, lit.len);
			buf_release(&lit);
			buf_init(&lit, GR_MAX_OUTPUT);
			any = 1;
		}
		if (i == to)
			break;
		const struct part *x = &p->v[i];
		if (x->kind == P_TEXT && as_text) {
			rc |= buf_puts(&lit, x->s);
		} else if (x->kind == P_TEXT) {
			for (const char *c = x->s; *c; c++)
				rc |= buf_puts(&lit, *c == '{' ? "{lbrace}" : *c == '}' ? "{rbrace}" : (char[]){ *c, 0 });
		} else if (x->kind == P_VAR && !as_text) {
			rc |= buf_printf(&lit, "{%s}", x->s);
		} else {
			rc |= buf_puts(out, any ? " .. " : "");
			if (x->kind == P_VAR)
				rc |= buf_puts(out, x->s);
			else
				rc |= buf_printf(out, as_text ? "env(\"%s\", \"\")" : "lit(env(\"%s\", \"\"))", x->s);
			any = 1;
		}
	}
	if (!any)
		rc |= buf_puts(out, "\"\"");
	buf_release(&lit);
	return rc ? -1 : 0;
}

int gr_template(const char *tmpl, int as_text, char **lua, char **why)
{
	struct parts p = { 0 };
	*lua = *why = NULL;
	parse_template(tmpl, as_text, &p);
	if (p.bad) {
		*why = p.bad;
		p.bad = NULL;
		parts_release(&p);
		return 1;
	}
	struct buf b;
	buf_init(&b, GR_MAX_OUTPUT);
	if (render(&p, 0, p.n, as_text, &b) < 0) {
		buf_release(&b);
		parts_release(&p);
		*why = xstrdup("a template longer than the translation's bound");
		return 1;
	}
	*lua = buf_detach(&b);
	parts_release(&p);
	return 0;
}

/* ---- the YAML document ---------------------------------------------------- */

struct ctx {
	yaml_document_t doc;
	const char *file;
	const struct gr_options *o;
	struct buf *out;
	struct strv *notes;
	char *project;
	struct strv build_ids;  /* our build names, in order */
	int amd64_variants;     /* some build lists a GOAMD64 beyond v1 */
	int overflow;           /* an append passed GR_MAX_OUTPUT */
};

static int line_of(const yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 1;
}

static void gr_note(struct ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void gr_note(struct ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *why = xvasprintf(fmt, ap);
	va_end(ap);
	strv_pushf(c->notes, "%s:%d: %s: %s", c->file, line_of(n), key, why);
	free(why);
}

static yaml_node_t *node_at(struct ctx *c, int index)
{
	return yaml_document_get_node(&c->doc, index);
}

/* The text of a scalar, or NULL for anything else (and for a scalar that
 * holds a NUL byte, which no name may). */
static const char *scalar(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE || strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return NULL;
	return (const char *)n->data.scalar.value;
}

static int is_null(const yaml_node_t *n)
{
	const char *s = scalar(n);
	return !n || (s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		      (!*s || !strcmp(s, "~") || !strcmp(s, "null")));
}

/* map[key]: the map's own pairs first, then those of its "<<" merges (one
 * level, so a merge cycle cannot recurse). */
static yaml_node_t *map_get(struct ctx *c, const yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	yaml_node_t *merge = NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node_at(c, p->key));
		if (k && !strcmp(k, key))
			return node_at(c, p->value);
		if (k && !strcmp(k, "<<"))
			merge = node_at(c, p->value);
	}
	if (!merge)
		return NULL;
	if (merge->type == YAML_MAPPING_NODE)
		for (yaml_node_pair_t *p = merge->data.mapping.pairs.start; p < merge->data.mapping.pairs.top; p++) {
			const char *k = scalar(node_at(c, p->key));
			if (k && !strcmp(k, key))
				return node_at(c, p->value);
		}
	return NULL;
}

static int want(struct ctx *c, const yaml_node_t *n, const char *key, const char *what)
{
	return error("%s:%d: %s: expected %s", c->file, line_of(n), key, what);
}

/* A string value (NULL when absent); -1 when it is not a scalar. */
static int get_str(struct ctx *c, const yaml_node_t *map, const char *key, const char **out)
{
	yaml_node_t *n = map_get(c, map, key);
	*out = NULL;
	if (is_null(n))
		return 0;
	if (!(*out = scalar(n)))
		return want(c, n, key, "a string");
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const t[] = { "true", "True", "TRUE", "yes", "on" };
	static const char *const f[] = { "false", "False", "FALSE", "no", "off" };
	for (size_t i = 0; i < ARRAY_LEN(t); i++)
		if (!strcmp(s, t[i]))
			return *out = 1, 0;
	for (size_t i = 0; i < ARRAY_LEN(f); i++)
		if (!strcmp(s, f[i]))
			return *out = 0, 0;
	return -1;
}

static int get_bool(struct ctx *c, const yaml_node_t *map, const char *key, int *out)
{
	const char *s;
	*out = 0;
	if (get_str(c, map, key, &s) < 0)
		return -1;
	if (s && parse_bool(s, out) < 0)
		return want(c, map_get(c, map, key), key, "true or false");
	return 0;
}

/* A list of strings (a lone string is a list of one). */
static int get_list(struct ctx *c, const yaml_node_t *map, const char *key, struct strv *out)
{
	yaml_node_t *n = map_get(c, map, key);
	if (is_null(n))
		return 0;
	if (scalar(n)) {
		strv_push(out, scalar(n));
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return want(c, n, key, "a list of strings");
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		const char *s = scalar(node_at(c, *i));
		if (!s)
			return want(c, node_at(c, *i), key, "a list of strings");
		strv_push(out, s);
	}
	return 0;
}

/* The items of a list of maps; NULL with *n 0 when absent. */
static yaml_node_item_t *get_items(struct ctx *c, const yaml_node_t *map, const char *key, size_t *n, int *err)
{
	yaml_node_t *l = map_get(c, map, key);
	*n = 0;
	*err = 0;
	if (is_null(l))
		return NULL;
	if (l->type != YAML_SEQUENCE_NODE) {
		*err = want(c, l, key, "a list");
		return NULL;
	}
	*n = (size_t)(l->data.sequence.items.top - l->data.sequence.items.start);
	return l->data.sequence.items.start;
}

static void emit(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	if (buf_puts(c->out, s) < 0)
		c->overflow = 1;
	free(s);
}

static void emit_str(struct ctx *c, const char *s)
{
	if (lua_quote(c->out, s, strlen(s)) < 0)
		c->overflow = 1;
}

static void emit_list(struct ctx *c, const struct strv *l)
{
	emit(c, "{ ");
	for (size_t i = 0; i < l->n; i++) {
		emit_str(c, l->v[i]);
		emit(c, i + 1 < l->n ? ", " : " ");
	}
	emit(c, "}");
}

/* Letters, digits, '-', '_' and '.': what a project or build name may use. */
static char *clean_name(const char *s)
{
	char *r = xstrdup(*s ? s : "default");
	for (char *p = r; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
			*p = '-';
	return r;
}

/* A template as a Lua expression; NULL after a note when it has none. */
static char *tmpl_or_note(struct ctx *c, const yaml_node_t *n, const char *key, const char *t, int as_text,
			  const char *instead)
{
	char *lua, *why;
	if (gr_template(t, as_text, &lua, &why) == 0)
		return lua;
	gr_note(c, n, key, "%s has no translation; %s", why, instead);
	free(why);
	return NULL;
}

/* A note for each key of map outside known[0..n) ("<<" is a merge). */
static void note_unknown(struct ctx *c, const yaml_node_t *map, const char *const *known, size_t n, const char *what)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node_at(c, p->key);
		const char *k = scalar(kn);
		int found = 0;
		for (size_t i = 0; k && i < n; i++)
			found |= !strcmp(k, known[i]);
		if (k && !found && strcmp(k, "<<"))
			gr_note(c, kn, k, "%s: no xgo-build equivalent; translate it by hand", what);
	}
}

/* A note for each key of noted[0..n) (key, why) that map sets. */
static void note_present(struct ctx *c, const yaml_node_t *map, const char *const (*noted)[2], size_t n,
			 const char *what)
{
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *v = map_get(c, map, noted[i][0]);
		if (v && !is_null(v))
			gr_note(c, v, noted[i][0], "%s: %s", what, noted[i][1]);
	}
}

/* ---- builds --------------------------------------------------------------- */

/* The variant dimensions are ours (matrix/ports.h, one table); GoReleaser
 * names them the same, except that its gomips covers mips64 too. */
static const char *gr_key(const struct variant_dim *d)
{
	return strcmp(d->key, "gomips64") ? d->key : "gomips";
}

/* goarm's GoReleaser default, 6, is not Go's 7, and mips' "hardfloat"
 * shows in GoReleaser's names: both are always written. */
static const char *gr_variant_default(const char *key)
{
	return !strcmp(key, "goarm") ? "6" : !strcmp(key, "gomips") ? "hardfloat" : NULL;
}

/* Go's default, left out (our {variant} is empty for it, as GoReleaser's
 * default name is); NULL for a dimension that is always written. */
static const char *go_default(const struct variant_dim *d)
{
	return gr_variant_default(gr_key(d)) ? NULL : d->def;
}

static int any_arch(const struct strv *goarch, const struct variant_dim *d)
{
	for (size_t i = 0; i < goarch->n; i++)
		for (size_t j = 0; d->arches[j]; j++)
			if (!strcmp(d->arches[j], goarch->v[i]))
				return 1;
	return 0;
}

/* GoReleaser's go_first_class (and go_118_first_class). */
static const char *const first_class[] = {
	"darwin_amd64", "darwin_arm64", "linux_386", "linux_amd64", "linux_arm_6", "linux_arm64",
	"windows_386", "windows_amd64",
};

/* One "goos_goarch[_variant]" target as a matrix entry's keys. */
static int emit_target(struct ctx *c, const yaml_node_t *n, const char *t, int base)
{
	char *s = xstrdup(t), *goarch = strchr(s, '_'), *v = NULL;
	if (!goarch || goarch == s || !goarch[1]) {
		free(s);
		return error("%s:%d: targets: '%s' is not goos_goarch[_variant]", c->file, line_of(n), t);
	}
	*goarch++ = '\0';
	if ((v = strchr(goarch, '_')))
		*v++ = '\0';
	emit(c, base ? "    goos = { " : "      { goos = ");
	emit_str(c, s);
	emit(c, base ? " },\n    goarch = { " : ", goarch = ");
	emit_str(c, goarch);
	emit(c, base ? " },\n" : "");
	const struct variant_dim *d = variant_for_arch(goarch);
	const char *val = !d ? NULL : v ? v : gr_variant_default(gr_key(d));
	if (val && !(go_default(d) && !strcmp(val, go_default(d)))) {
		emit(c, base ? "    %s = { " : ", %s = { ", d->key);
		emit_str(c, val);
		emit(c, base ? " },\n" : " }");
	}
	emit(c, base ? "" : " },\n");
	free(s);
	return 0;
}

static int emit_targets(struct ctx *c, const yaml_node_t *b)
{
	struct strv t = { 0 }, all = { 0 };
	int rc = get_list(c, b, "targets", &t);
	for (size_t i = 0; rc == 0 && i < t.n; i++) {
		if (!strcmp(t.v[i], "go_first_class") || !strcmp(t.v[i], "go_118_first_class")) {
			for (size_t k = 0; k < ARRAY_LEN(first_class); k++)
				if (!strv_contains(&all, first_class[k]))
					strv_push(&all, first_class[k]);
		} else if (!strv_contains(&all, t.v[i])) {
			strv_push(&all, t.v[i]);
		}
	}
	yaml_node_t *n = map_get(c, b, "targets");
	for (size_t i = 0; rc == 0 && i < all.n; i++) {
		if (i == 1)
			emit(c, "    include = {\n");
		rc = emit_target(c, n, all.v[i], i == 0);
	}
	if (rc == 0 && all.n > 1)
		emit(c, "    },\n");
	strv_release(&t);
	strv_release(&all);
	return rc;
}

/* goos x goarch with the variant lists, and ignore as exclude. */
static int emit_product(struct ctx *c, const yaml_node_t *b)
{
	static const char *const def_goos[] = { "linux", "darwin", "windows" };
	static const char *const def_goarch[] = { "amd64", "arm64", "386" };
	struct strv goos = { 0 }, goarch = { 0 };
	int rc = -1;
	if (get_list(c, b, "goos", &goos) < 0 || get_list(c, b, "goarch", &goarch) < 0)
		goto out;
	if (!goos.n)
		for (size_t i = 0; i < ARRAY_LEN(def_goos); i++)
			strv_push(&goos, def_goos[i]);
	if (!goarch.n)
		for (size_t i = 0; i < ARRAY_LEN(def_goarch); i++)
			strv_push(&goarch, def_goarch[i]);
	emit(c, "    goos = ");
	emit_list(c, &goos);
	emit(c, ",\n    goarch = ");
	emit_list(c, &goarch);
	emit(c, ",\n");
	const char *dim_keys[16];
	size_t nkeys = variant_keys(dim_keys, ARRAY_LEN(dim_keys));
	for (size_t k = 0; k < nkeys; k++) {
		const struct variant_dim *d = variant_by_key(dim_keys[k]);
		struct strv vals = { 0 };
		if (get_list(c, b, gr_key(d), &vals) < 0)
			goto out;
		if (!any_arch(&goarch, d)) {
			strv_release(&vals);
			continue;
		}
		if (!vals.n && gr_variant_default(gr_key(d)))
			strv_push(&vals, gr_variant_default(gr_key(d)));
		/* Go's default alone: the same build, and no {variant} in names */
		if (vals.n == 1 && go_default(d) && !strcmp(vals.v[0], go_default(d)))
			strv_release(&vals);
		if (vals.n && !strcmp(d->key, "goamd64"))
			c->amd64_variants = 1;
		if (vals.n) {
			emit(c, "    %s = ", d->key);
			emit_list(c, &vals);
			emit(c, ",\n");
		}
		strv_release(&vals);
	}
	size_t n;
	int err;
	yaml_node_item_t *it = get_items(c, b, "ignore", &n, &err);
	if (err)
		goto out;
	if (n)
		emit(c, "    exclude = {\n");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *e = node_at(c, it[i]);
		if (!e || e->type != YAML_MAPPING_NODE) {
			want(c, e, "ignore", "a list of goos/goarch/... maps");
			goto out;
		}
		emit(c, "      {");
		static const char *const keys[] = { "goos", "goarch", "goarm", "goamd64", "go386", "goarm64",
						    "gomips", "goppc64", "goriscv64" };
		for (size_t k = 0; k < ARRAY_LEN(keys); k++) {
			const char *v;
			if (get_str(c, e, keys[k], &v) < 0)
				goto out;
			if (!v)
				continue;
			const char *key = keys[k];
			const char *arch = scalar(map_get(c, e, "goarch"));
			if (!strcmp(key, "gomips") && arch && !strncmp(arch, "mips64", 6))
				key = "gomips64";
			emit(c, " %s = ", key);
			emit_str(c, v);
			emit(c, ",");
		}
		emit(c, " },\n");
	}
	if (n)
		emit(c, "    },\n");
	rc = 0;
out:
	strv_release(&goos);
	strv_release(&goarch);
	return rc;
}

/* ldflags: GoReleaser splits each entry into words; a word without a
 * translation is left out with a note (and a "-X" before it). */
static void emit_ldflags(struct ctx *c, const yaml_node_t *n, const struct strv *flags)
{
	emit(c, "  ldflags = {");
	for (size_t f = 0; f < flags->n; f++) {
		struct parts p = { 0 };
		struct parts w = { 0 };
		parse_template(flags->v[f], 0, &p);
		if (p.bad) {
			/* per word, to keep the rest */
			parts_release(&p);
			char *copy = xstrdup(flags->v[f]);
			int prev_x = 0;
			for (char *save = NULL, *word = strtok_r(copy, " \t\n", &save); word;
			     word = strtok_r(NULL, " \t\n", &save)) {
				char *lua, *why;
				if (!strcmp(word, "-X")) {
					prev_x = 1;
					continue;
				}
				if (gr_template(word, 0, &lua, &why)) {
					gr_note(c, n, "ldflags", "'%s%s' left out: %s", prev_x ? "-X " : "", word, why);
					free(why);
				} else {
					emit(c, prev_x ? " \"-X\", %s," : " %s,", lua);
					free(lua);
				}
				prev_x = 0;
			}
			if (prev_x)
				emit(c, " \"-X\",");
			free(copy);
			continue;
		}
		/* split the text parts on white space */
		for (size_t i = 0; i < p.n; i++) {
			if (p.v[i].kind != P_TEXT) {
				parts_push(&w, p.v[i].kind, p.v[i].s, strlen(p.v[i].s));
				continue;
			}
			for (const char *s = p.v[i].s; *s;) {
				size_t sp = strspn(s, " \t\n");
				if (sp) {
					parts_push(&w, P_SPACE, "", 0);
					s += sp;
					continue;
				}
				size_t len = strcspn(s, " \t\n");
				parts_push(&w, P_TEXT, s, len);
				s += len;
			}
		}
		for (size_t i = 0, start = 0; i <= w.n; i++) {
			if (i < w.n && w.v[i].kind != P_SPACE)
				continue;
			if (i > start) {
				emit(c, " ");
				if (render(&w, start, i, 0, c->out) < 0)
					c->overflow = 1;
				emit(c, ",");
			}
			start = i + 1;
		}
		parts_release(&p);
		parts_release(&w);
	}
	emit(c, " },\n");
}

/* env: CGO_ENABLED becomes the matrix's cgo; the rest the build's env. */
static int build_env(struct ctx *c, const yaml_node_t *top, const yaml_node_t *b, struct strv *env, int *cgo)
{
	struct strv all = { 0 };
	*cgo = -1;
	if (get_list(c, top, "env", &all) < 0 || get_list(c, b, "env", &all) < 0) {
		strv_release(&all);
		return -1;
	}
	yaml_node_t *n = map_get(c, b, "env");
	for (size_t i = 0; i < all.n; i++) {
		const char *kv = all.v[i], *eq = strchr(kv, '=');
		if (!eq || eq == kv) {
			gr_note(c, n, "env", "'%s' is not NAME=VALUE; left out", kv);
			continue;
		}
		char *name = xstrndup(kv, (size_t)(eq - kv));
		if (!strcmp(name, "CGO_ENABLED"))
			*cgo = strcmp(eq + 1, "0") != 0;
		else if (strstr(eq + 1, "{{"))
			gr_note(c, n, "env", "'%s' is a template; left out: set it with env(\"%s\") in release.lua", kv, name);
		else if (jobenv_controlled(name))
			gr_note(c, n, "env", "'%s' left out: xgo-build sets %s itself (use flags, tags or the matrix)", kv,
			     name);
		else
			strv_push(env, kv);
		free(name);
	}
	strv_release(&all);
	return 0;
}

static const char *const build_keys[] = {
	"id", "main", "binary", "dir", "env", "goos", "goarch", "goarm", "goamd64", "go386", "goarm64", "gomips",
	"goppc64", "goriscv64", "ignore", "targets", "flags", "ldflags", "tags", "gcflags", "asmflags",
	"mod_timestamp", "skip", "builder", "hooks", "no_unique_dist_dir", "no_main_check", "buildmode",
	"gobinary", "tool", "command", "overrides",
};

static void note_build_keys(struct ctx *c, const yaml_node_t *b, const char *id)
{
	char *what = xasprintf("build '%s'", id);
	note_unknown(c, b, build_keys, ARRAY_LEN(build_keys), what);
	static const char *const noted[][2] = {
		{ "hooks", "pre/post build hooks run per target in GoReleaser: use before { ... }, or after { ... } "
			   "which runs once per artifact with XGO_ARTIFACT set" },
		{ "overrides", "per-target overrides have no equivalent: split the build into one build per "
			       "set of targets" },
		{ "gobinary", "the Go SDK is the one release.lua pins (go \"...\") and release.lock verifies" },
		{ "tool", "the Go SDK is the one release.lua pins (go \"...\") and release.lock verifies" },
		{ "command", "xgo-build always runs go build" },
	};
	note_present(c, b, noted, ARRAY_LEN(noted), what);
	free(what);
	const char *dir = scalar(map_get(c, b, "dir"));
	if (dir && strcmp(dir, ".") && *dir)
		gr_note(c, map_get(c, b, "dir"), "dir", "build '%s': xgo-build builds in the project directory: move "
		     "release.lua to '%s', or set main to a package path inside the module", id, dir);
}

static int translate_build(struct ctx *c, const yaml_node_t *top, const yaml_node_t *b, size_t index)
{
	const char *id, *main_pkg, *binary, *builder, *modts, *buildmode;
	int skip = 0, unique = 0, cgo, rc = -1;
	struct strv env = { 0 }, flags = { 0 }, ldflags = { 0 }, tags = { 0 }, gc = { 0 }, asm = { 0 };
	if (b->type != YAML_MAPPING_NODE)
		return want(c, b, "builds", "a list of maps");
	if (get_str(c, b, "id", &id) < 0 || get_str(c, b, "main", &main_pkg) < 0 ||
	    get_str(c, b, "binary", &binary) < 0 || get_str(c, b, "builder", &builder) < 0 ||
	    get_str(c, b, "mod_timestamp", &modts) < 0 || get_bool(c, b, "skip", &skip) < 0 ||
	    get_bool(c, b, "no_unique_dist_dir", &unique) < 0 || get_str(c, b, "buildmode", &buildmode) < 0 ||
	    get_list(c, b, "flags", &flags) < 0 || get_list(c, b, "ldflags", &ldflags) < 0 ||
	    get_list(c, b, "tags", &tags) < 0 || get_list(c, b, "gcflags", &gc) < 0 ||
	    get_list(c, b, "asmflags", &asm) < 0 || build_env(c, top, b, &env, &cgo) < 0)
		goto out;
	char *name = clean_name(id ? id : index ? "" : c->project);
	if (id && strcmp(name, id))
		gr_note(c, map_get(c, b, "id"), "id", "'%s' is build '%s' here (a build name uses letters, digits, "
		     "'-', '_' and '.')", id, name);
	strv_push(&c->build_ids, id ? id : c->project);
	if (skip || (builder && strcmp(builder, "go"))) {
		gr_note(c, b, "builds", "build '%s' left out: %s", name,
		     skip ? "skip: true" : "xgo-build builds Go only (builder: prebuilt, rust, zig, ... are not translated)");
		rc = 0;
		free(name);
		goto out;
	}
	note_build_keys(c, b, name);
	emit(c, "build ");
	emit_str(c, name);
	emit(c, " {\n  main = ");
	emit_str(c, main_pkg ? main_pkg : ".");
	emit(c, ",\n");
	const char *bin = binary ? binary : c->project;
	int templated = strstr(bin, "{{") || strchr(bin, '/');
	const char *base = strrchr(bin, '/') ? strrchr(bin, '/') + 1 : bin;
	if (!templated) {
		emit(c, "  binary = ");
		emit_str(c, bin);
		emit(c, ",\n");
	} else if (!strstr(base, "{{")) {
		emit(c, "  binary = ");
		emit_str(c, base);
		emit(c, ",\n");
	}
	if (templated || unique) {
		char *out = tmpl_or_note(c, map_get(c, b, "binary"), "binary", bin, 0,
					 "the binary keeps the build's name");
		if (out) {
			emit(c, "  output = %s%s .. \"{ext}\",\n", unique ? "" : "\"{build}_{os}_{arch}{variant}/\" .. ",
			     out);
			free(out);
		}
	}
	if (!ldflags.n)
		strv_push(&ldflags, "-s -w -X main.version={{.Version}} -X main.commit={{.Commit}} "
				    "-X main.date={{.Date}} -X main.builtBy=goreleaser");
	emit_ldflags(c, map_get(c, b, "ldflags") ? map_get(c, b, "ldflags") : b, &ldflags);
	struct strv fl = { 0 };
	for (size_t i = 0; i < flags.n; i++) {
		if (!strcmp(flags.v[i], "-trimpath"))
			continue; /* always on */
		if (!strncmp(flags.v[i], "-tags=", 6)) {
			char *t = xstrdup(flags.v[i] + 6);
			for (char *save = NULL, *w = strtok_r(t, ",", &save); w; w = strtok_r(NULL, ",", &save))
				strv_push(&tags, w);
			free(t);
			continue;
		}
		strv_push(&fl, flags.v[i]);
	}
	for (size_t i = 0; i < gc.n; i++)
		strv_pushf(&fl, "-gcflags=%s", gc.v[i]);
	for (size_t i = 0; i < asm.n; i++)
		strv_pushf(&fl, "-asmflags=%s", asm.v[i]);
	if (buildmode && *buildmode)
		strv_pushf(&fl, "-buildmode=%s", buildmode);
	if (fl.n) {
		emit(c, "  flags = ");
		emit_list(c, &fl);
		emit(c, ",\n");
	}
	strv_release(&fl);
	if (tags.n) {
		emit(c, "  tags = ");
		emit_list(c, &tags);
		emit(c, ",\n");
	}
	if (env.n) {
		emit(c, "  env = {");
		for (size_t i = 0; i < env.n; i++) {
			const char *eq = strchr(env.v[i], '=');
			emit(c, " [");
			if (lua_quote(c->out, env.v[i], (size_t)(eq - env.v[i])) < 0)
				c->overflow = 1;
			emit(c, "] = ");
			emit_str(c, eq + 1);
			emit(c, ",");
		}
		emit(c, " },\n");
	}
	if (modts && !strstr(modts, "CommitTimestamp"))
		gr_note(c, map_get(c, b, "mod_timestamp"), "mod_timestamp", "build '%s': '%s' left out: archive entries "
		     "always have the time SOURCE_DATE_EPOCH (the commit time of HEAD by default)", name, modts);
	emit(c, "  targets = matrix {\n");
	if (map_get(c, b, "targets") ? emit_targets(c, b) < 0 : emit_product(c, b) < 0) {
		free(name);
		goto out;
	}
	if (cgo < 0) {
		gr_note(c, b, "env", "build '%s': CGO_ENABLED is not set: GoReleaser takes the host's default (cgo for "
		     "this machine's own target when a C compiler is found, off when cross-compiling); release.lua "
		     "says cgo = false: set cgo = true and a cc { ... } (docs/cgo.md) if the program needs cgo", name);
	} else if (cgo) {
		gr_note(c, map_get(c, b, "env"), "env", "build '%s': CGO_ENABLED=1 became cgo = true: targets other "
		     "than this machine's need a C toolchain, cc { zig = \"...\" } (docs/cgo.md)", name);
	}
	emit(c, "    cgo = %s,\n  },\n}\n\n", cgo > 0 ? "true" : "false");
	free(name);
	rc = 0;
out:
	strv_release(&env);
	strv_release(&flags);
	strv_release(&ldflags);
	strv_release(&tags);
	strv_release(&gc);
	strv_release(&asm);
	return rc;
}

/* ---- archives, checksum, hooks -------------------------------------------- */

static const char default_archive_name[] =
	"{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}{{ with .Arm }}v{{ . }}{{ end }}"
	"{{ with .Mips }}_{{ . }}{{ end }}{{ if not (eq .Amd64 \"v1\") }}{{ .Amd64 }}{{ end }}";
static const char default_binary_name[] =
	"{{ .Binary }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}{{ with .Arm }}v{{ . }}{{ end }}"
	"{{ with .Mips }}_{{ . }}{{ end }}{{ if not (eq .Amd64 \"v1\") }}{{ .Amd64 }}{{ end }}";

/* One files entry: a glob, or { src, dst, strip_parent, info }. */
static int emit_file(struct ctx *c, const yaml_node_t *f)
{
	const char *src = scalar(f), *dst = NULL, *mode = NULL;
	int strip = 0;
	const yaml_node_t *info = NULL;
	if (!src) {
		if (!f || f->type != YAML_MAPPING_NODE)
			return want(c, f, "files", "a glob or { src, dst, info }");
		if (get_str(c, f, "src", &src) < 0 || get_str(c, f, "dst", &dst) < 0 ||
		    get_bool(c, f, "strip_parent", &strip) < 0)
			return -1;
		if (!src)
			return want(c, f, "files", "a src");
		info = map_get(c, f, "info");
		if (info && get_str(c, info, "mode", &mode) < 0)
			return -1;
		static const char *const normalised[] = { "owner", "group", "mtime" };
		for (size_t i = 0; info && i < ARRAY_LEN(normalised); i++)
			if (map_get(c, info, normalised[i]))
				gr_note(c, map_get(c, info, normalised[i]), normalised[i], "left out: archive entries "
				     "are owned by 0/0 with the time SOURCE_DATE_EPOCH");
	}
	if (strstr(src, "{{") || (dst && strstr(dst, "{{"))) {
		gr_note(c, f, "files", "'%s' is a template; left out: name the files in release.lua", src);
		return 0;
	}
	/* GoReleaser's glob that matches nothing adds nothing; only a missing
	 * literal path is an error there */
	int optional = strpbrk(src, "*?[") != NULL;
	if (!dst && !mode && !optional) {
		emit(c, " ");
		emit_str(c, src);
		emit(c, ",");
		return 0;
	}
	emit(c, " { src = ");
	emit_str(c, src);
	if (dst) {
		/* GoReleaser puts the matched path under dst (its base name
		 * with strip_parent); a dst ending in '/' is a directory here */
		const char *slash = strrchr(src, '/');
		char *d = strip || !slash ? xasprintf("%s/", dst)
					  : xasprintf("%s/%.*s/", dst, (int)(slash - src), src);
		if (!strip && slash && strpbrk(d, "*?["))
			gr_note(c, f, "dst", "'%s': the directories a glob matches are not kept under dst here", src);
		emit(c, ", dst = ");
		emit_str(c, d);
		free(d);
	}
	if (mode) {
		const char *m = !strncmp(mode, "0o", 2) ? mode + 2 : mode;
		char *end;
		long v = strtol(m, &end, 8);
		if (*end || v < 0 || v > 0777)
			return error("%s:%d: info.mode: '%s' is not a permission mode (0644)", c->file,
				     line_of(map_get(c, info, "mode")), mode);
		emit(c, ", mode = \"0%03lo\"", v);
	}
	emit(c, "%s },", optional ? ", optional = true" : "");
	return 0;
}

static int emit_files(struct ctx *c, const yaml_node_t *a)
{
	static const char *const defaults[] = { "license*", "LICENSE*", "readme*", "README*", "changelog*",
						"CHANGELOG*" };
	yaml_node_t *files = map_get(c, a, "files");
	emit(c, "  files = {");
	if (is_null(files)) {
		/* GoReleaser's defaults may match nothing: optional, as there */
		for (size_t i = 0; i < ARRAY_LEN(defaults); i++) {
			emit(c, " { src = ");
			emit_str(c, defaults[i]);
			emit(c, ", optional = true },");
		}
	} else if (files->type != YAML_SEQUENCE_NODE) {
		return want(c, files, "files", "a list");
	} else {
		for (yaml_node_item_t *i = files->data.sequence.items.start; i < files->data.sequence.items.top; i++)
			if (emit_file(c, node_at(c, *i)) < 0)
				return -1;
	}
	emit(c, " },\n");
	return 0;
}

/* format_overrides: { goos = "format" }, the first format of each. */
static int emit_overrides(struct ctx *c, const yaml_node_t *a, const char *archive_id)
{
	size_t n;
	int err;
	yaml_node_item_t *it = get_items(c, a, "format_overrides", &n, &err);
	if (err)
		return -1;
	if (!n)
		return 0;
	emit(c, "  format_overrides = {");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *o = node_at(c, it[i]);
		const char *goos;
		struct strv f = { 0 };
		if (!o || o->type != YAML_MAPPING_NODE)
			return want(c, o, "format_overrides", "a list of { goos, format } maps");
		if (get_str(c, o, "goos", &goos) < 0 || get_list(c, o, "format", &f) < 0 ||
		    get_list(c, o, "formats", &f) < 0) {
			strv_release(&f);
			return -1;
		}
		if (!goos || !f.n) {
			gr_note(c, o, "format_overrides", "an override without goos or format is ignored (as GoReleaser does)");
		} else if (!strcmp(f.v[0], "none")) {
			gr_note(c, o, "format_overrides", "archive '%s': format 'none' for %s has no equivalent: %s gets "
			     "the archive's format", archive_id, goos, goos);
		} else {
			if (f.n > 1)
				gr_note(c, o, "formats", "archive '%s': only the first format (%s) is used for %s", archive_id,
				     f.v[0], goos);
			emit(c, " [");
			emit_str(c, goos);
			emit(c, "] = ");
			emit_str(c, f.v[0]);
			emit(c, ",");
		}
		strv_release(&f);
	}
	emit(c, " },\n");
	return 0;
}

static const char *const archive_keys[] = {
	"id", "ids", "builds", "format", "formats", "format_overrides", "name_template", "files",
	"wrap_in_directory", "rlcp", "allow_different_binary_count", "strip_binary_directory",
	"strip_parent_binary_folder", "builds_info", "meta", "replacements",
};

static int translate_archive(struct ctx *c, const yaml_node_t *a, size_t index)
{
	const char *id, *tmpl;
	struct strv ids = { 0 }, formats = { 0 };
	int rc = -1;
	if (!a || a->type != YAML_MAPPING_NODE)
		return want(c, a, "archives", "a list of maps");
	if (get_str(c, a, "id", &id) < 0 || get_str(c, a, "name_template", &tmpl) < 0 ||
	    get_list(c, a, "builds", &ids) < 0 || get_list(c, a, "ids", &ids) < 0 ||
	    get_list(c, a, "format", &formats) < 0 || get_list(c, a, "formats", &formats) < 0)
		goto out;
	char *aid = id ? xstrdup(id) : xasprintf("%zu", index + 1);
	char *what = xasprintf("archive '%s'", aid);
	note_unknown(c, a, archive_keys, ARRAY_LEN(archive_keys), what);
	static const char *const noted[][2] = {
		{ "replacements", "removed in GoReleaser 1.19 and not translated: write the names in name_template" },
		{ "meta", "an archive without binaries has no equivalent" },
		{ "builds_info", "binaries in archives have mode 0755, owner 0/0 and the time SOURCE_DATE_EPOCH" },
		{ "strip_binary_directory", "binaries are at the top of the archive (under wrap_in_directory)" },
	};
	note_present(c, a, noted, ARRAY_LEN(noted), what);
	free(what);
	if (!formats.n)
		strv_push(&formats, "tar.gz");
	for (size_t f = 0; f < formats.n; f++) {
		const char *fmt = formats.v[f];
		if (!strcmp(fmt, "tgz"))
			fmt = "tar.gz";
		else if (!strcmp(fmt, "txz"))
			fmt = "tar.xz";
		else if (!strcmp(fmt, "tzst"))
			fmt = "tar.zst";
		static const char *const ours[] = { "tar.gz", "tar.xz", "tar.zst", "zip", "binary" };
		int ok = 0;
		for (size_t k = 0; k < ARRAY_LEN(ours); k++)
			ok |= !strcmp(fmt, ours[k]);
		if (!ok) {
			gr_note(c, map_get(c, a, "formats") ? map_get(c, a, "formats") : map_get(c, a, "format"), "format",
			     "archive '%s': '%s' is not made here (tar.gz, tar.xz, tar.zst, zip or binary); left out", aid,
			     fmt);
			continue;
		}
		int binary = !strcmp(fmt, "binary");
		const char *def = binary ? default_binary_name : default_archive_name;
		char *name = tmpl ? tmpl_or_note(c, map_get(c, a, "name_template"), "name_template", tmpl, 0,
						 "the archive gets GoReleaser's default name") : NULL;
		if (!name)
			gr_template(def, 0, &name, &(char *){ NULL });
		emit(c, "archive {\n  format = ");
		emit_str(c, fmt);
		emit(c, ",\n  name = %s,\n", name);
		free(name);
		if (c->amd64_variants && f == 0)
			gr_note(c, a, "name_template", "archive '%s': a GOAMD64 variant is '_v3' in {variant}, "
			     "'v3' in GoReleaser's names (amd64v3)", aid);
		if (!binary && (emit_overrides(c, a, aid) < 0 || emit_files(c, a) < 0)) {
			free(aid);
			goto out;
		}
		yaml_node_t *w = map_get(c, a, "wrap_in_directory");
		const char *ws = scalar(w);
		int wrap = 0;
		if (ws && !binary && parse_bool(ws, &wrap) < 0) {
			char *wl = tmpl_or_note(c, w, "wrap_in_directory", ws, 0, "the archive is not wrapped");
			char *nl = NULL;
			if (wl) {
				char *why = NULL;
				gr_template(tmpl ? tmpl : def, 0, &nl, &why);
				free(why);
				wrap = nl && !strcmp(wl, nl);
				if (!wrap)
					gr_note(c, w, "wrap_in_directory", "archive '%s': the directory is always the "
					     "archive's name here; the archive is not wrapped", aid);
			}
			free(wl);
			free(nl);
		}
		if (wrap)
			emit(c, "  wrap_in_directory = true,\n");
		if (ids.n) {
			emit(c, "  builds = {");
			for (size_t i = 0; i < ids.n; i++) {
				char *b = clean_name(ids.v[i]);
				emit(c, " ");
				emit_str(c, b);
				emit(c, ",");
				free(b);
			}
			emit(c, " },\n");
		}
		emit(c, "}\n\n");
	}
	free(aid);
	rc = 0;
out:
	strv_release(&ids);
	strv_release(&formats);
	return rc;
}

static int translate_checksum(struct ctx *c, const yaml_node_t *k)
{
	const char *tmpl = NULL, *alg = NULL;
	int disable = 0, split = 0;
	if (k && !is_null(k) && k->type != YAML_MAPPING_NODE)
		return want(c, k, "checksum", "a map");
	if (get_str(c, k, "name_template", &tmpl) < 0 || get_str(c, k, "algorithm", &alg) < 0 ||
	    get_bool(c, k, "disable", &disable) < 0 || get_bool(c, k, "split", &split) < 0)
		return -1;
	if (disable)
		gr_note(c, k, "disable", "a checksum file is always written");
	static const char *const noted[] = { "ids", "extra_files", "templated_extra_files" };
	for (size_t i = 0; i < ARRAY_LEN(noted); i++)
		if (map_get(c, k, noted[i]))
			gr_note(c, map_get(c, k, noted[i]), noted[i], "the checksum file lists every published file");
	if (alg && strcmp(alg, "sha256") && strcmp(alg, "sha512")) {
		gr_note(c, map_get(c, k, "algorithm"), "algorithm", "'%s' is not made here: sha256 instead (or sha512)",
		     alg);
		alg = NULL;
	}
	char *file = tmpl_or_note(c, map_get(c, k, "name_template"), "name_template",
				  tmpl ? tmpl : "{{ .ProjectName }}_{{ .Version }}_checksums.txt", 0,
				  "the file is GoReleaser's default name");
	if (!file)
		gr_template("{{ .ProjectName }}_{{ .Version }}_checksums.txt", 0, &file, &(char *){ NULL });
	emit(c, "checksums { file = %s, algorithm = \"%s\"%s }\n", file, alg ? alg : "sha256",
	     split ? ", per_file = true" : "");
	if (split)
		gr_note(c, map_get(c, k, "split"), "split", "<file>.%s is written beside each file, and the "
		     "combined file too", alg ? alg : "sha256");
	free(file);
	return 0;
}

static int translate_before(struct ctx *c, const yaml_node_t *b)
{
	size_t n;
	int err;
	if (!b || is_null(b))
		return 0;
	yaml_node_item_t *it = get_items(c, b, "hooks", &n, &err);
	if (err)
		return -1;
	if (!n)
		return 0;
	emit(c, "before {\n");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *h = node_at(c, it[i]);
		const char *cmd = scalar(h);
		if (!cmd && h && h->type == YAML_MAPPING_NODE) {
			const char *dir;
			if (get_str(c, h, "cmd", &cmd) < 0 || get_str(c, h, "dir", &dir) < 0)
				return -1;
			if (dir || map_get(c, h, "env"))
				gr_note(c, h, "hooks", "'%s': dir and env are not translated: write them into the command "
				     "(cd DIR && NAME=value ...)", cmd ? cmd : "");
		}
		if (!cmd)
			return want(c, h, "before.hooks", "a command or { cmd = ... }");
		/* hooks are commands, not templates: expanded in Lua */
		char *lua = tmpl_or_note(c, h, "before.hooks", cmd, 1, "the hook is left out");
		if (lua) {
			emit(c, "  %s,\n", lua);
			free(lua);
		}
	}
	emit(c, "}\n\n");
	return 0;
}

/* ---- the whole config ----------------------------------------------------- */

static const char *const handled_top[] = {
	"version", "project_name", "before", "builds", "archives", "checksum", "env", "snapshot", "dist",
};

static const struct {
	const char *why;
	const char *keys[16];
} not_ours[] = {
	{ "xgo-build builds and packages, it does not publish: upload dist/ from CI (docs/ci.md)",
	  { "release", "changelog", "milestones", "announce", "blobs", "uploads", "artifactories", "publishers",
	    "furies", "github_urls", "gitlab_urls", "gitea_urls", "force_token" } },
	{ "xgo-build makes no package-manager packages: build them from dist/ with the manager's own tool",
	  { "brews", "homebrew_casks", "scoops", "winget", "aurs", "aur_sources", "krews", "nix", "chocolateys",
	    "snapcrafts", "npms", "flatpaks", "makeselfs", "srpm", "dmg" } },
	{ "not translated: write package { format = \"deb\" } (or \"rpm\") by hand (docs/packages.md)",
	  { "nfpms" } },
	{ "not translated: write image { name = ... } by hand, an OCI image layout in dist/ that CI pushes "
	  "(docs/packages.md)",
	  { "dockers", "docker_manifests", "dockers_v2", "kos" } },
	{ "not translated: write signing { key = ... } by hand, minisign signatures of the checksum file "
	  "(docs/attest.md)",
	  { "signs", "binary_signs" } },
	{ "every binary gets an SPDX SBOM already; sbom { } chooses the formats (docs/attest.md)", { "sboms" } },
	{ "not translated: write universal = true in the darwin build (docs/packages.md)", { "universal_binaries" } },
	{ "no equivalent in xgo-build: run the tool on dist/ after the run",
	  { "docker_signs", "notarize", "upx", "source", "report_sizes", "metadata", "app_bundles", "msi", "pkgs",
	    "nsis" } },
	{ "xgo-build builds this checkout with the module cache that go mod download fills",
	  { "gomod", "git", "monorepo", "partial", "includes", "variables", "template_files" } },
};

static void note_top(struct ctx *c, const yaml_node_t *root)
{
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node_at(c, p->key);
		const char *k = scalar(kn);
		int known = 0;
		for (size_t i = 0; k && i < ARRAY_LEN(handled_top); i++)
			known |= !strcmp(k, handled_top[i]);
		if (k && !strcmp(k, "snapshot") && !is_null(node_at(c, p->value)))
			gr_note(c, kn, k, "xgo-build has no snapshot mode: the version is the project's version, "
				"VERSION from the environment here");
		if (k && !strcmp(k, "dist") && !is_null(node_at(c, p->value)))
			gr_note(c, kn, k, "the output directory is dist/: give another with 'xgo-build run --dist DIR'");
		if (!k || known || !strcmp(k, "<<"))
			continue;
		const char *why = "no xgo-build equivalent; translate it by hand (docs/init.md)";
		for (size_t i = 0; i < ARRAY_LEN(not_ours); i++)
			for (size_t j = 0; j < 16 && not_ours[i].keys[j]; j++)
				if (!strcmp(k, not_ours[i].keys[j]))
					why = not_ours[i].why;
		gr_note(c, kn, k, "%s", why);
	}
}

static int load_yaml(struct ctx *c, const char *path)
{
	size_t len;
	char *text = read_file(path, GR_MAX_BYTES, &len);
	if (!text)
		return -1; /* read_file said why */
	yaml_parser_t p;
	int rc = 0;
	if (!yaml_parser_initialize(&p)) {
		free(text);
		return error("%s: cannot start the YAML parser", path);
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &c->doc)) {
		rc = error("%s:%zu: malformed YAML: %s%s%s", path,
			   (p.problem_mark.line ? p.problem_mark.line : p.context_mark.line) + 1,
			   p.problem ? p.problem : "parse error", p.context ? " " : "", p.context ? p.context : "");
		memset(&c->doc, 0, sizeof(c->doc));
	} else if (c->doc.nodes.top - c->doc.nodes.start > GR_MAX_NODES) {
		yaml_document_delete(&c->doc);
		memset(&c->doc, 0, sizeof(c->doc));
		rc = error("%s: more than %d YAML nodes: this is not a GoReleaser config", path, GR_MAX_NODES);
	}
	yaml_parser_delete(&p);
	free(text);
	return rc;
}

static int translate(struct ctx *c, const yaml_node_t *root)
{
	const char *pname;
	if (get_str(c, root, "project_name", &pname) < 0)
		return -1;
	c->project = clean_name(pname ? pname : c->o->project_name ? c->o->project_name : "app");
	if (pname && strcmp(pname, c->project))
		gr_note(c, map_get(c, root, "project_name"), "project_name", "'%s' is '%s' here (a project name "
		     "uses letters, digits, '-', '_' and '.')", pname, c->project);
	emit(c, "local name = ");
	emit_str(c, c->project);
	emit(c, "\nlocal version = env(\"VERSION\") -- unset: from the git tag, as GoReleaser does (docs/templates.md)\n\n");
	emit(c, "project { name = name, version = version }\n\ngo ");
	emit_str(c, c->o->go_version);
	emit(c, " -- the SDK; its hashes live in release.lock\n\n");
	if (translate_before(c, map_get(c, root, "before")) < 0)
		return -1;
	size_t n;
	int err;
	yaml_node_item_t *it = get_items(c, root, "builds", &n, &err);
	if (err)
		return -1;
	if (!n) {
		/* GoReleaser's one default build */
		yaml_node_t empty = { .type = YAML_MAPPING_NODE };
		if (translate_build(c, root, &empty, 0) < 0)
			return -1;
	}
	for (size_t i = 0; i < n && !c->overflow; i++)
		if (translate_build(c, root, node_at(c, it[i]), i) < 0)
			return -1;
	it = get_items(c, root, "archives", &n, &err);
	if (err)
		return -1;
	if (!n) {
		yaml_node_t empty = { .type = YAML_MAPPING_NODE };
		if (translate_archive(c, &empty, 0) < 0)
			return -1;
	}
	for (size_t i = 0; i < n && !c->overflow; i++)
		if (translate_archive(c, node_at(c, it[i]), i) < 0)
			return -1;
	if (translate_checksum(c, map_get(c, root, "checksum")) < 0)
		return -1;
	note_top(c, root);
	return 0;
}

int gr_translate(const char *path, const struct gr_options *o, struct gr_result *out)
{
	struct ctx c = { .file = path, .o = o };
	struct buf body;
	int rc = -1;
	memset(out, 0, sizeof(*out));
	buf_init(&out->lua, GR_MAX_OUTPUT);
	buf_init(&body, GR_MAX_OUTPUT);
	c.out = &body;
	c.notes = &out->notes;
	if (load_yaml(&c, path) < 0)
		goto out;
	yaml_node_t *root = yaml_document_get_root_node(&c.doc);
	if (!root || is_null(root)) {
		error("%s: the file is empty: not a GoReleaser config", path);
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		want(&c, root, "the file", "a map of GoReleaser settings");
		goto out;
	}
	if (translate(&c, root) < 0)
		goto out;
	/* buf appends past the bound fail without a word: the length says */
	if (c.overflow || out->notes.n > 10000) {
		error("%s: the translation would pass %u bytes: this is not a GoReleaser config", path, GR_MAX_OUTPUT);
		goto out;
	}
	buf_printf(&out->lua, "-- release.lua, translated from %s by 'xgo-build init --from-goreleaser'.\n", path);
	buf_puts(&out->lua, "-- Where the config was silent, GoReleaser's defaults are written out.\n");
	if (out->notes.n)
		buf_puts(&out->lua, "-- Not translated:\n");
	for (size_t i = 0; i < out->notes.n; i++)
		buf_printf(&out->lua, "--   %s\n", out->notes.v[i]);
	buf_puts(&out->lua, "\n");
	if (strstr(body.data, "lit(env("))
		buf_puts(&out->lua, "-- an environment value is text, not a template\n"
				    "local function lit(s) return (string.gsub(s, \"[{}]\", { [\"{\"] = \"{lbrace}\", [\"}\"] = \"{rbrace}\" })) end\n\n");
	if (buf_append(&out->lua, body.data, body.len) < 0) {
		error("%s: the translation would pass %u bytes", path, GR_MAX_OUTPUT);
		goto out;
	}
	rc = 0;
out:
	if (c.doc.nodes.start)
		yaml_document_delete(&c.doc);
	buf_release(&body);
	free(c.project);
	strv_release(&c.build_ids);
	if (rc < 0)
		gr_result_release(out);
	return rc;
}

void gr_result_release(struct gr_result *r)
{
	buf_release(&r->lua);
	strv_release(&r->notes);
}
