#define _POSIX_C_SOURCE 200809L
#include "matrix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TARGETS 4096

/* What the expansion needs to report errors. */
struct ctx {
	const struct port_table *ports;
	const char *file;
	int line;
};

static const struct mx_dim *find_dim(const struct mx_set *s, const char *key)
{
	for (size_t i = 0; i < s->ndims; i++)
		if (!strcmp(s->dims[i].key, key))
			return &s->dims[i];
	return NULL;
}

static int check_goos(struct ctx *c, const char *goos)
{
	if (ports_has_goos(c->ports, goos))
		return 0;
	const char *s = ports_suggest_goos(c->ports, goos);
	return error("%s:%d: unknown goos '%s'%s%s%s (see 'xgo-build targets')", c->file, c->line, goos,
		     s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
}

static int check_goarch(struct ctx *c, const char *goarch)
{
	if (ports_has_goarch(c->ports, goarch))
		return 0;
	const char *s = ports_suggest_goarch(c->ports, goarch);
	return error("%s:%d: unknown goarch '%s'%s%s%s (see 'xgo-build targets')", c->file, c->line, goarch,
		     s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
}

/* Keys and value types of one set; the values of goos/goarch/variants. */
static int check_set(struct ctx *c, const struct mx_set *s)
{
	static const char *const fixed[] = { "goos", "goarch", "cgo" };
	const char *known[16];
	size_t nknown = 0;
	for (size_t i = 0; i < ARRAY_LEN(fixed); i++)
		known[nknown++] = fixed[i];
	nknown += variant_keys(known + nknown, ARRAY_LEN(known) - nknown);
	c->line = s->line;
	for (size_t i = 0; i < s->ndims; i++) {
		const struct mx_dim *d = &s->dims[i];
		const struct variant_dim *v = variant_by_key(d->key);
		int is_cgo = !strcmp(d->key, "cgo");
		if (!is_cgo && !v && strcmp(d->key, "goos") && strcmp(d->key, "goarch")) {
			const char *sg = suggest(d->key, known, nknown);
			return error("%s:%d: matrix: unknown key '%s'%s%s%s", c->file, c->line, d->key,
				     sg ? " (did you mean '" : "", sg ? sg : "", sg ? "'?)" : "");
		}
		if (is_cgo && d->has_string)
			return error("%s:%d: matrix: 'cgo' takes true, false or { false, true }, not strings",
				     c->file, c->line);
		if (!is_cgo && d->has_bool)
			return error("%s:%d: matrix: '%s' takes strings, not booleans", c->file, c->line, d->key);
		for (size_t j = 0; j < d->vals.n; j++) {
			const char *val = d->vals.v[j];
			if (!strcmp(d->key, "goos") && check_goos(c, val) < 0)
				return -1;
			if (!strcmp(d->key, "goarch") && check_goarch(c, val) < 0)
				return -1;
			if (v && !variant_value_ok(v, val))
				return error("%s:%d: matrix: %s '%s' is not a valid %s (one of: %s%s%s%s%s...)",
					     c->file, c->line, d->key, val, v->env, v->values[0],
					     v->values[1] ? ", " : "", v->values[1] ? v->values[1] : "",
					     v->values[2] ? ", " : "", v->values[2] ? v->values[2] : "");
		}
	}
	return 0;
}

/* A variant key only makes sense when one of its architectures is there. */
static int check_variants_apply(struct ctx *c, const struct mx_set *s, const struct mx_dim *goarch)
{
	for (size_t i = 0; i < s->ndims; i++) {
		const struct variant_dim *v = variant_by_key(s->dims[i].key);
		if (!v)
			continue;
		int applies = 0;
		for (size_t j = 0; goarch && j < goarch->vals.n; j++)
			for (size_t k = 0; v->arches[k]; k++)
				applies |= !strcmp(goarch->vals.v[j], v->arches[k]);
		if (goarch && !applies)
			return error("%s:%d: matrix: %s applies to goarch %s%s%s only, and this entry has none "
				     "(add it to goarch or move %s into an include entry)",
				     c->file, s->line, s->dims[i].key, v->arches[0], v->arches[1] ? "/" : "",
				     v->arches[1] ? v->arches[1] : "", s->dims[i].key);
	}
	return 0;
}

static int push_target(struct target_list *l, const struct target *t, size_t at)
{
	if (l->n >= MAX_TARGETS)
		return error("the matrix expands to more than %d targets", MAX_TARGETS);
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	memmove(&l->v[at + 1], &l->v[at], (l->n - at) * sizeof(*l->v));
	l->v[at] = *t;
	l->n++;
	return 0;
}

static int same_target(const struct target *a, const struct target *b)
{
	return !strcmp(a->goos, b->goos) && !strcmp(a->goarch, b->goarch) && a->cgo == b->cgo &&
	       !strcmp(a->vval, b->vval);
}

static int contains(const struct target_list *l, const struct target *t)
{
	for (size_t i = 0; i < l->n; i++)
		if (same_target(&l->v[i], t))
			return 1;
	return 0;
}

/* Fill a target for goos/goarch/cgo with variant value val (NULL = Go's
 * default).  Returns 0, 1 when the combination is no port, -1 on error. */
static int make_target(struct ctx *c, const char *goos, const char *goarch, int cgo, const char *val,
		       struct target *t)
{
	const struct port *p = ports_find(c->ports, goos, goarch);
	memset(t, 0, sizeof(*t));
	if (!p)
		return 1;
	if (cgo && !p->cgo)
		return error("%s:%d: cgo is not supported on %s/%s (set cgo = false for it, or exclude it)",
			     c->file, c->line, goos, goarch);
	snprintf(t->goos, sizeof(t->goos), "%s", goos);
	snprintf(t->goarch, sizeof(t->goarch), "%s", goarch);
	t->cgo = cgo;
	t->first_class = p->first_class;
	const struct variant_dim *v = variant_for_arch(goarch);
	if (v) {
		snprintf(t->vkey, sizeof(t->vkey), "%s", v->env);
		snprintf(t->vval, sizeof(t->vval), "%s", val ? val : v->def);
		t->vexplicit = val != NULL;
	}
	return 0;
}

/* Call fn for every combination of a set; cgo_default applies when the set
 * names no cgo. */
typedef int (*combo_fn)(struct ctx *c, const struct target *t, int is_port, void *arg);

static int each_combo(struct ctx *c, const struct mx_set *s, const struct strv *cgo_default, combo_fn fn,
		      void *arg)
{
	const struct mx_dim *goos = find_dim(s, "goos"), *goarch = find_dim(s, "goarch");
	const struct mx_dim *cgo = find_dim(s, "cgo");
	const struct strv *cgos = cgo ? &cgo->vals : cgo_default;
	for (size_t i = 0; i < goos->vals.n; i++)
		for (size_t j = 0; j < goarch->vals.n; j++)
			for (size_t k = 0; k < cgos->n; k++) {
				const char *arch = goarch->vals.v[j];
				const struct variant_dim *v = variant_for_arch(arch);
				const struct mx_dim *vd = v ? find_dim(s, v->key) : NULL;
				size_t nv = vd ? vd->vals.n : 1;
				for (size_t m = 0; m < nv; m++) {
					struct target t;
					int rc = make_target(c, goos->vals.v[i], arch, !strcmp(cgos->v[k], "true"),
							     vd ? vd->vals.v[m] : NULL, &t);
					if (rc < 0)
						return -1;
					if (rc == 1) {
						snprintf(t.goos, sizeof(t.goos), "%s", goos->vals.v[i]);
						snprintf(t.goarch, sizeof(t.goarch), "%s", arch);
					}
					if (fn(c, &t, rc == 0, arg) < 0)
						return -1;
				}
			}
	return 0;
}

static int add_base(struct ctx *c, const struct target *t, int is_port, void *arg)
{
	struct target_list *l = arg;
	if (!is_port) {
		char id[40];
		snprintf(id, sizeof(id), "%s/%s", t->goos, t->goarch);
		if (!strv_contains(&l->skipped, id))
			strv_push(&l->skipped, id);
		return 0;
	}
	return contains(l, t) ? 0 : push_target(l, t, l->n);
}

static int matches(const struct mx_set *s, const struct target *t)
{
	for (size_t i = 0; i < s->ndims; i++) {
		const struct mx_dim *d = &s->dims[i];
		const char *have;
		const struct variant_dim *v = variant_by_key(d->key);
		if (!strcmp(d->key, "goos"))
			have = t->goos;
		else if (!strcmp(d->key, "goarch"))
			have = t->goarch;
		else if (!strcmp(d->key, "cgo"))
			have = t->cgo ? "true" : "false";
		else if (v && !strcmp(v->env, t->vkey))
			have = t->vval;
		else
			return 0; /* a variant of another arch never matches */
		if (!strv_contains(&d->vals, have))
			return 0;
	}
	return 1;
}

/* "FILE:LINE: exclude entry { goos = "plan9", goarch = { "386", "arm" } }" */
static char *set_text(const struct ctx *c, const struct mx_set *s)
{
	struct buf b;
	buf_init(&b, 4096);
	buf_printf(&b, "%s:%d: exclude entry {", c->file, s->line);
	for (size_t i = 0; i < s->ndims; i++) {
		const struct mx_dim *d = &s->dims[i];
		buf_printf(&b, "%s %s = %s", i ? "," : "", d->key, d->vals.n == 1 ? "" : "{ ");
		for (size_t k = 0; k < d->vals.n; k++) {
			const char *v = d->vals.v[k];
			int plain = d->has_bool && (!strcmp(v, "true") || !strcmp(v, "false"));
			buf_printf(&b, "%s%s%s%s", k ? ", " : "", plain ? "" : "\"", v, plain ? "" : "\"");
		}
		buf_printf(&b, "%s", d->vals.n == 1 ? "" : " }");
	}
	buf_printf(&b, " }");
	return buf_detach(&b);
}

static int apply_exclude(struct ctx *c, const struct mx_set *s, struct target_list *l)
{
	size_t kept = 0, before = l->n;
	for (size_t i = 0; i < l->n; i++)
		if (!matches(s, &l->v[i]))
			l->v[kept++] = l->v[i];
	l->n = kept;
	if (kept == before)
		strv_push_owned(&l->unused_excludes, set_text(c, s));
	return 0;
}

/* Include: add a combination, or let it replace a matching target whose
 * variant was defaulted (that is "extending" it). */
struct include_state {
	struct target_list *l;
	int replaced_at; /* -1, or where the last replacement went */
};

static int same_port(const struct target *a, const struct target *b)
{
	return !strcmp(a->goos, b->goos) && !strcmp(a->goarch, b->goarch) && a->cgo == b->cgo;
}

static int add_include(struct ctx *c, const struct target *t, int is_port, void *arg)
{
	struct include_state *st = arg;
	struct target_list *l = st->l;
	if (!is_port)
		return error("%s:%d: include: %s/%s is not a Go port (see 'xgo-build targets')", c->file, c->line,
			     t->goos, t->goarch);
	for (size_t i = 0; i < l->n; i++) {
		struct target *o = &l->v[i];
		if (!same_port(o, t) || (o->vexplicit && strcmp(o->vval, t->vval)))
			continue;
		/* the same target, or one whose defaulted variant this one names */
		if (t->vexplicit && !o->vexplicit) {
			*o = *t;
			st->replaced_at = (int)i;
		}
		return 0;
	}
	/* Further variant values of a replaced target go right after it. */
	if (st->replaced_at >= 0 && t->vexplicit && same_port(&l->v[st->replaced_at], t)) {
		st->replaced_at++;
		return push_target(l, t, (size_t)st->replaced_at);
	}
	return push_target(l, t, l->n);
}

/* An include naming no goos/goarch extends every matching target with the
 * variant values it gives. */
static int extend_matching(struct ctx *c, const struct mx_set *s, struct target_list *l)
{
	const struct mx_dim *vd = NULL;
	struct mx_set ident = { .line = s->line };
	struct mx_dim dims[3];
	for (size_t i = 0; i < s->ndims; i++) {
		if (variant_by_key(s->dims[i].key))
			vd = &s->dims[i];
		else if (ident.ndims < ARRAY_LEN(dims))
			dims[ident.ndims++] = s->dims[i];
	}
	ident.dims = dims;
	if (!vd)
		return error("%s:%d: include entry needs goos and goarch (to add targets) or a variant "
			     "such as goarm (to extend targets)", c->file, s->line);
	const struct variant_dim *v = variant_by_key(vd->key);
	int hit = 0;
	for (size_t i = 0; i < l->n; i++) {
		struct target base = l->v[i];
		if (base.vexplicit || strcmp(base.vkey, v->env) || !matches(&ident, &base))
			continue;
		hit = 1;
		for (size_t j = 0; j < vd->vals.n; j++) {
			struct target t = base;
			snprintf(t.vval, sizeof(t.vval), "%s", vd->vals.v[j]);
			t.vexplicit = 1;
			if (j == 0)
				l->v[i] = t;
			else if (push_target(l, &t, ++i) < 0)
				return -1;
		}
	}
	if (!hit)
		warn("%s:%d: include entry matches no target to extend", c->file, s->line);
	return 0;
}

static int apply_include(struct ctx *c, const struct mx_set *s, const struct strv *cgo_default,
			 struct target_list *l)
{
	c->line = s->line;
	if (!find_dim(s, "goos") || !find_dim(s, "goarch"))
		return extend_matching(c, s, l);
	if (check_variants_apply(c, s, find_dim(s, "goarch")) < 0)
		return -1;
	struct include_state st = { .l = l, .replaced_at = -1 };
	return each_combo(c, s, cgo_default, add_include, &st);
}

int mx_expand(const struct mx_spec *spec, const struct port_table *ports, const char *file,
	      struct target_list *out)
{
	struct ctx c = { .ports = ports, .file = file, .line = spec->line };
	struct strv no_cgo = { 0 };
	const struct mx_dim *cgo;
	int rc = -1;
	memset(out, 0, sizeof(*out));
	strv_push(&no_cgo, "false");
	if (check_set(&c, &spec->base) < 0)
		goto out;
	for (size_t i = 0; i < spec->nexclude; i++)
		if (check_set(&c, &spec->exclude[i]) < 0)
			goto out;
	for (size_t i = 0; i < spec->ninclude; i++)
		if (check_set(&c, &spec->include[i]) < 0)
			goto out;
	c.line = spec->line;
	if (!find_dim(&spec->base, "goos") || !find_dim(&spec->base, "goarch")) {
		error("%s:%d: matrix needs goos = { ... } and goarch = { ... }", file, spec->line);
		goto out;
	}
	if (check_variants_apply(&c, &spec->base, find_dim(&spec->base, "goarch")) < 0)
		goto out;
	cgo = find_dim(&spec->base, "cgo");
	if (each_combo(&c, &spec->base, &no_cgo, add_base, out) < 0)
		goto out;
	for (size_t i = 0; i < spec->nexclude; i++)
		if (apply_exclude(&c, &spec->exclude[i], out) < 0)
			goto out;
	for (size_t i = 0; i < spec->ninclude; i++)
		if (apply_include(&c, &spec->include[i], cgo ? &cgo->vals : &no_cgo, out) < 0)
			goto out;
	if (out->n == 0) {
		error("%s:%d: the matrix expands to no target", file, spec->line);
		goto out;
	}
	rc = 0;
out:
	strv_release(&no_cgo);
	if (rc < 0)
		mx_list_release(out);
	return rc;
}

void mx_list_release(struct target_list *l)
{
	free(l->v);
	strv_release(&l->skipped);
	strv_release(&l->unused_excludes);
	memset(l, 0, sizeof(*l));
}

void target_id(const struct target *t, char *out, size_t size)
{
	snprintf(out, size, "%s/%s%s%s%s", t->goos, t->goarch, t->vexplicit ? "/" : "",
		 t->vexplicit ? t->vval : "", t->cgo ? "+cgo" : "");
}

const char *target_exe_suffix(const struct target *t)
{
	return strcmp(t->goos, "windows") ? "" : ".exe";
}

void target_variant_suffix(const struct target *t, char *out, size_t size)
{
	if (!t->vexplicit) {
		snprintf(out, size, "%s", "");
		return;
	}
	char val[sizeof(t->vval)];
	snprintf(val, sizeof(val), "%s", t->vval);
	for (char *p = val; *p; p++)
		if (*p == ',')
			*p = '_';
	if (!strcmp(t->vkey, "GOARM"))
		snprintf(out, size, "v%s", val);
	else
		snprintf(out, size, "_%s", val);
}
