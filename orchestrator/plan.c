#define _POSIX_C_SOURCE 200809L
#include "plan.h"
#include "archives.h"
#include "linuxpkg.h"
#include "base/path.h"
#include "base/jsonx.h"
#include "template.h"
#include "gitinfo.h"

#include <fnmatch.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void plan_release_vars(const struct release *r, struct tmpl_var *vars)
{
	static const char *const git_names[] = { "tag", "commit", "short_commit", "commit_date", "commit_timestamp",
						 "major", "minor", "patch", "prerelease" };
	const struct gitinfo *g = r->git;
	vars[0] = (struct tmpl_var){ "name", r->project, NULL };
	vars[1] = (struct tmpl_var){ "version", r->version, "the project has no version" };
	const char *why = !g ? "git facts are not read by this command" : !g->ok ? g->why : NULL;
	const char *tag_why = why ? why : !*g->tag ? "no tag is reachable from HEAD" : NULL;
	const char *sem_why = tag_why ? tag_why : !g->semver ? "the tag is not a semantic version (v1.2.3)" : NULL;
	const char *vals[] = { g && !tag_why ? g->tag : NULL, g && !why ? g->commit : NULL,
			       g && !why ? g->short_commit : NULL, g && !why ? g->commit_date : NULL,
			       g && !why ? g->commit_timestamp : NULL, g && !sem_why ? g->major : NULL,
			       g && !sem_why ? g->minor : NULL, g && !sem_why ? g->patch : NULL,
			       g && !sem_why ? g->prerelease : NULL };
	for (size_t i = 0; i < ARRAY_LEN(git_names); i++)
		vars[2 + i] = (struct tmpl_var){ git_names[i], vals[i], i == 0 ? tag_why : i < 5 ? why : sem_why };
}

void plan_job_name(const struct job *j, const char *prefix, char *out, size_t size)
{
	snprintf(out, size, "%s%s_%s", prefix, j->build->name, j->id);
	for (char *p = out; *p; p++)
		if (*p == '/' || *p == '+')
			*p = '_';
}

void plan_vars(const struct release *r, const struct job *j, struct tmpl_var *vars, char *scratch)
{
	char *variant = scratch, *target = scratch + 32;
	const char *ext = target_exe_suffix(&j->target);
	target_variant_suffix(&j->target, variant, 32);
	char v[32];
	memcpy(v, variant, sizeof(v));
	snprintf(target, PLAN_SCRATCH - 32, "%s_%s%s", j->target.goos, j->target.goarch, v);
	plan_release_vars(r, vars);
	struct tmpl_var *jv = vars + PLAN_RELEASE_VARS;
	jv[0] = (struct tmpl_var){ "build", j->build->name, NULL };
	jv[1] = (struct tmpl_var){ "binary", j->build->binary, NULL };
	jv[2] = (struct tmpl_var){ "os", j->target.goos, NULL };
	jv[3] = (struct tmpl_var){ "arch", j->target.goarch, NULL };
	jv[4] = (struct tmpl_var){ "variant", variant, NULL };
	jv[5] = (struct tmpl_var){ "ext", ext, NULL };
	jv[6] = (struct tmpl_var){ "target", target, NULL };
}

/* Expand *field with the release's variables in place; the result must
 * be a plain name (slash: may hold '/', as files dst may). */
static int expand_name(const struct tmpl_var *vars, char **field, const char *where, int slash)
{
	char *out;
	if (tmpl_expand(*field, vars, PLAN_RELEASE_VARS, where, &out) < 0)
		return -1;
	size_t n = strlen(out);
	while (slash && n > 1 && out[n - 1] == '/')
		n--;
	char *name = xstrndup(out, n);
	int rc = 0;
	if (!*name || (!slash && strchr(name, '/')))
		rc = error("%s: \"%s\" gives '%s', which is not a plain file name", where, *field, out);
	else
		rc = path_check_name(where, name);
	free(name);
	if (rc < 0) {
		free(out);
		return -1;
	}
	free(*field);
	*field = out;
	return 0;
}

static int expand_files(const struct release *r, const struct tmpl_var *vars, struct archive_file *f, size_t n,
			const char *what, int line)
{
	char where[256];
	snprintf(where, sizeof(where), "%s:%d: %s: files dst", r->path, line, what);
	for (size_t i = 0; i < n; i++)
		if (f[i].dst && expand_name(vars, &f[i].dst, where, 1) < 0)
			return -1;
	return 0;
}

static int expand_release_names(struct release *r)
{
	struct tmpl_var vars[PLAN_RELEASE_VARS];
	char where[256];
	plan_release_vars(r, vars);
	snprintf(where, sizeof(where), "%s:%d: checksums: file", r->path, r->checksums.line);
	if (expand_name(vars, &r->checksums.file, where, 0) < 0)
		return -1;
	for (size_t i = 0; i < r->nbuilds; i++) {
		snprintf(where, sizeof(where), "%s:%d: build '%s': binary", r->path, r->builds[i].line,
			 r->builds[i].name);
		if (expand_name(vars, &r->builds[i].binary, where, 0) < 0)
			return -1;
	}
	for (size_t i = 0; i < r->narchives; i++)
		if (expand_files(r, vars, r->archives[i].files, r->archives[i].nfiles, "archive", r->archives[i].line) < 0)
			return -1;
	for (size_t i = 0; i < r->nimages; i++)
		if (expand_files(r, vars, r->images[i].files, r->images[i].nfiles, "image", r->images[i].line) < 0)
			return -1;
	return 0;
}

static int check_one(const char *tmpl, const struct tmpl_var *vars, const char *where)
{
	char *out;
	if (tmpl_expand(tmpl, vars, PLAN_VARS, where, &out) < 0)
		return -1;
	free(out);
	return 0;
}

/* Every per-job template, with a stand-in job: only the names matter.
 * Each bad one is said; returns how many. */
int plan_check_templates(const struct release *r)
{
	struct tmpl_var vars[PLAN_VARS];
	char scratch[PLAN_SCRATCH], where[256];
	int bad = 0;
	for (size_t i = 0; i < r->nbuilds; i++) {
		const struct build_decl *b = &r->builds[i];
		struct job j = { .build = b, .target = { .goos = "linux", .goarch = "amd64" } };
		plan_vars(r, &j, vars, scratch);
		snprintf(where, sizeof(where), "%s:%d: build '%s': output", r->path, b->line, b->name);
		bad += check_one(b->output, vars, where) < 0;
		snprintf(where, sizeof(where), "%s:%d: build '%s': ldflags", r->path, b->line, b->name);
		for (size_t k = 0; k < b->ldflags.n; k++)
			if (check_one(b->ldflags.v[k], vars, where) < 0) {
				bad++;
				break;
			}
		snprintf(where, sizeof(where), "%s:%d: build '%s': smoke expect", r->path, b->line, b->name);
		bad += b->smoke_expect && check_one(b->smoke_expect, vars, where) < 0;
		for (size_t k = 0; k < r->narchives; k++) {
			snprintf(where, sizeof(where), "%s:%d: archive: name", r->path, r->archives[k].line);
			bad += arc_selects(&r->archives[k], b) && check_one(r->archives[k].name, vars, where) < 0;
		}
	}
	return bad;
}

/* vcs = true needs the checkout's facts. */
static int check_vcs(const struct release *r)
{
	for (size_t i = 0; i < r->nbuilds; i++)
		if (r->builds[i].vcs && !r->git->ok)
			return error("%s:%d: build '%s': vcs = true needs a git checkout: %s", r->path, r->builds[i].line,
				     r->builds[i].name, r->git->why);
	return 0;
}

int plan_load(const char *file, struct release *r)
{
	if (release_load(file, NULL, r) < 0)
		return -1;
	r->git = xmalloc(sizeof(*r->git));
	gitinfo_read(r->dir, r->git);
	int rc = 0;
	if (!r->version) {
		rc = release_set_version(r, r->git->version);
		r->version_from_git = 1;
	}
	if (rc < 0 || expand_release_names(r) < 0 || check_vcs(r) < 0) {
		release_clear(r);
		return -1;
	}
	return 0;
}

static int add_job(struct plan *p, const struct build_decl *b, const struct target *t)
{
	const struct release *r = p->release;
	struct tmpl_var vars[PLAN_VARS];
	char scratch[PLAN_SCRATCH], where[256];
	p->jobs = xreallocarray(p->jobs, p->n + 1, sizeof(*p->jobs));
	struct job *j = &p->jobs[p->n];
	memset(j, 0, sizeof(*j));
	j->build = b;
	j->target = *t;
	target_id(t, j->id, sizeof(j->id));
	plan_vars(r, j, vars, scratch);
	snprintf(where, sizeof(where), "%s:%d: build '%s': output", r->path, b->line, b->name);
	if (tmpl_expand(b->output, vars, PLAN_VARS, where, &j->output) < 0)
		return -1;
	j->binary = xasprintf("%s%s", b->binary, target_exe_suffix(t));
	j->static_link = b->static_link;
	p->n++;
	if (!path_components_ok(j->output))
		return error("%s: \"%s\" gives '%s', which is not a relative path inside dist/", where, b->output,
			     j->output);
	for (size_t i = 0; i + 1 < p->n; i++) {
		const struct job *o = &p->jobs[i];
		if (!strcmp(o->output, j->output))
			return error("%s: build '%s' %s and build '%s' %s both write '%s' (put {os}, {arch} and "
				     "{variant} in the output template)",
				     r->path, o->build->name, o->id, b->name, j->id, j->output);
	}
	return 0;
}

/* An exclude entry that removed nothing, once per entry: builds sharing
 * one matrix table each expand it. */
static void warn_unused_excludes(const struct target_list *tl, const struct build_decl *b, struct strv *warned)
{
	for (size_t k = 0; k < tl->unused_excludes.n; k++) {
		const char *e = tl->unused_excludes.v[k];
		if (strv_contains(warned, e))
			continue;
		warn("%s matches no target of build '%s': remove it or fix its values", e, b->name);
		strv_push(warned, e);
	}
}

int plan_make(const struct release *r, const struct port_table *ports, struct plan *p)
{
	struct strv warned = { 0 };
	int bad = 0; /* a build at fault: the next builds are still checked, each error said once */
	memset(p, 0, sizeof(*p));
	p->release = r;
	for (size_t i = 0; i < r->nbuilds; i++) {
		const struct build_decl *b = &r->builds[i];
		struct target_list tl;
		if (mx_expand(&b->targets, ports, r->path, &tl) < 0) {
			bad = 1;
			continue;
		}
		warn_unused_excludes(&tl, b, &warned);
		for (size_t k = 0; k < tl.skipped.n; k++)
			strv_pushf(&p->skipped, "%s: %s", b->name, tl.skipped.v[k]);
		for (size_t k = 0; k < tl.n; k++)
			if (add_job(p, b, &tl.v[k]) < 0) {
				bad = 1;
				break;
			}
		mx_list_release(&tl);
	}
	strv_release(&warned);
	if (!bad)
		return 0;
	plan_release(p);
	return -1;
}

static void job_release(struct job *j)
{
	free(j->output);
	free(j->binary);
	free(j->scratch);
	free(j->out_path);
	strv_release(&j->env);
	strv_release(&j->argv);
}

void plan_keep(struct plan *p, const unsigned char *keep)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (keep[i]) {
			p->jobs[n++] = p->jobs[i];
			continue;
		}
		job_release(&p->jobs[i]); /* the plan owns what the jobs it drops hold */
	}
	p->n = n;
}

static int target_matches(const char *pattern, const struct job *j)
{
	char plain[sizeof(j->id)];
	snprintf(plain, sizeof(plain), "%s", j->id);
	char *cgo = strstr(plain, "+cgo");
	if (cgo)
		*cgo = '\0';
	return !fnmatch(pattern, j->id, 0) || !fnmatch(pattern, plain, 0);
}

static int job_selected(const struct plan_select *sel, const struct job *j, unsigned char *used_t,
			unsigned char *used_b)
{
	int build_ok = !sel->nbuilds, target_ok = !sel->ntargets;
	for (size_t k = 0; k < sel->nbuilds; k++)
		if (!strcmp(sel->builds[k], j->build->name))
			build_ok = used_b[k] = 1;
	for (size_t k = 0; build_ok && k < sel->ntargets; k++)
		if (target_matches(sel->targets[k], j))
			target_ok = used_t[k] = 1;
	return build_ok && target_ok;
}

static json_t *strings_json(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		jx_push(a, json_string(v[i]));
	return a;
}

int plan_select(const struct plan_select *sel, struct plan *p, json_t **record)
{
	*record = NULL;
	if (!sel->ntargets && !sel->nbuilds)
		return 0;
	unsigned char *keep = xcalloc(p->n ? p->n : 1, 1);
	unsigned char used_t[PLAN_SELECT_MAX] = { 0 }, used_b[PLAN_SELECT_MAX] = { 0 };
	size_t planned = p->n;
	int rc = 0;
	for (size_t i = 0; i < p->n; i++)
		keep[i] = (unsigned char)job_selected(sel, &p->jobs[i], used_t, used_b);
	for (size_t k = 0; k < sel->nbuilds && rc == 0; k++)
		if (!used_b[k])
			rc = error("--build '%s': release.lua declares no such build (see 'xgo-build plan')",
				   sel->builds[k]);
	for (size_t k = 0; k < sel->ntargets && rc == 0; k++)
		if (!used_t[k])
			rc = error("--target '%s' matches no target%s (see 'xgo-build plan'; patterns like linux/*)",
				   sel->targets[k], sel->nbuilds ? " of the builds asked for" : " of release.lua");
	if (rc == 0) {
		plan_keep(p, keep);
		*record = json_pack("{s:o, s:o, s:I, s:I}", "targets", strings_json(sel->targets, sel->ntargets),
				    "builds", strings_json(sel->builds, sel->nbuilds), "jobs", (json_int_t)p->n,
				    "planned", (json_int_t)planned);
	}
	free(keep);
	return rc;
}

void plan_release(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		job_release(&p->jobs[i]);
	free(p->jobs);
	strv_release(&p->skipped);
	memset(p, 0, sizeof(*p));
}

/* ---- every published name, known before building ---- */

/* One name a release publishes (in dist/, or inside one archive) and who
 * publishes it, for the error. */
struct pub {
	char *name;
	int line;  /* of the declaration in the build file; 0: xgo-build's own */
	char *who; /* "build 'x' linux/amd64: output" */
};

struct pubs {
	struct pub *v;
	size_t n;
};

static void pub_add(struct pubs *s, int line, char *name, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void pub_add(struct pubs *s, int line, char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = (struct pub){ name, line, xvasprintf(fmt, ap) };
	va_end(ap);
}

static void pubs_release(struct pubs *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].who);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int pub_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pub *)a)->name, ((const struct pub *)b)->name);
}

/* a and b (a from the build file when either is) claim one name. */
static int pub_clash(const char *file, const struct pub *a, const struct pub *b, const char *inside, int as_dir)
{
	if (!a->line && !as_dir) {
		const struct pub *t = a;
		a = b;
		b = t;
	}
	char line[32] = "";
	if (b->line)
		snprintf(line, sizeof(line), " (line %d)", b->line);
	if (as_dir) /* a is inside b */
		return error("%s:%d: %s '%s'%s needs '%s' as a directory, but %s%s publishes '%s' as a file: a "
			     "name cannot be both", file, a->line, a->who, a->name, inside, b->name, b->who, line,
			     b->name);
	return error("%s:%d: %s '%s'%s is also published by %s%s: give each published file its own name", file,
		     a->line, a->who, a->name, inside, b->who, line);
}

/* Every name valid (path.h), none twice, none a directory of another.
 * inside: "" for dist/, " in archive 'x.tar.gz'" for an archive's entries. */
static int pubs_check(const char *file, struct pubs *s, const char *inside)
{
	for (size_t i = 0; i < s->n; i++) {
		char *what = xasprintf("%s:%d: %s%s", file, s->v[i].line, s->v[i].who, inside);
		int rc = s->v[i].line ? path_check_name(what, s->v[i].name) : 0;
		free(what);
		if (rc < 0)
			return -1;
	}
	qsort(s->v, s->n, sizeof(*s->v), pub_cmp);
	for (size_t i = 1; i < s->n; i++)
		if (!strcmp(s->v[i - 1].name, s->v[i].name))
			return pub_clash(file, &s->v[i - 1], &s->v[i], inside, 0);
	for (size_t i = 0; i < s->n; i++) {
		const char *name = s->v[i].name;
		for (const char *slash = strchr(name, '/'); slash; slash = strchr(slash + 1, '/')) {
			struct pub key = { .name = xstrndup(name, (size_t)(slash - name)) };
			const struct pub *hit = bsearch(&key, s->v, s->n, sizeof(*s->v), pub_cmp);
			free(key.name);
			if (hit)
				return pub_clash(file, &s->v[i], hit, inside, 1);
		}
	}
	return 0;
}

/* The entries of archive a (not format binary): binaries and files. */
static int check_archive(const struct release *r, const struct plan *p, const struct arc *a)
{
	struct pubs s = { 0 };
	const char *w = a->wrap ? a->wrap : "";
	const char *sep = a->wrap ? "/" : "";
	for (size_t i = 0; i < a->njobs; i++) {
		const struct job *j = &p->jobs[a->jobs[i]];
		pub_add(&s, j->build->line, xasprintf("%s%s%s", w, sep, j->binary), "build '%s' %s: binary",
			j->build->name, j->id);
	}
	for (size_t i = 0; i < a->extra.n; i++)
		pub_add(&s, a->decl->line, xasprintf("%s%s%s", w, sep, a->extra.v[i].path), "archive: files entry");
	char *inside = xasprintf(" in archive '%s'", a->name);
	int rc = pubs_check(r->path, &s, inside);
	free(inside);
	pubs_release(&s);
	return rc;
}

/* The installed paths of package k: none twice, none both a file and a
 * directory (dpkg would refuse the package). */
static int check_package(const struct release *r, const struct lpkg *k)
{
	struct pubs s = { 0 };
	for (size_t i = 0; i < k->nfiles; i++)
		pub_add(&s, k->decl->line, xstrdup(k->files[i].dst + 1), "package: contents: dst");
	char *inside = xasprintf(" in package '%s'", k->name);
	int rc = pubs_check(r->path, &s, inside);
	free(inside);
	pubs_release(&s);
	return rc;
}

int plan_check_published(const struct release *r, const struct plan *p, const struct arcplan *ap,
			 const struct lpkgplan *lp)
{
	const struct checksums_decl *k = &r->checksums;
	struct pubs s = { 0 };
	int rc = -1;
	for (size_t i = 0; i < p->n; i++) {
		const struct job *j = &p->jobs[i];
		pub_add(&s, j->build->line, xstrdup(j->output), "build '%s' %s: output", j->build->name, j->id);
		if (k->per_file && !ap->n)
			pub_add(&s, k->line, xasprintf("%s.%s", j->output, k->algorithm), "checksums: per_file sum");
	}
	for (size_t i = 0; i < ap->n; i++) {
		pub_add(&s, ap->v[i].decl->line, xstrdup(ap->v[i].name), "archive: name");
		if (k->per_file)
			pub_add(&s, k->line, xasprintf("%s.%s", ap->v[i].name, k->algorithm), "checksums: per_file sum");
	}
	for (size_t i = 0; lp && i < lp->n; i++) {
		pub_add(&s, lp->v[i].decl->line, xstrdup(lp->v[i].name), "package: name");
		if (k->per_file)
			pub_add(&s, k->line, xasprintf("%s.%s", lp->v[i].name, k->algorithm), "checksums: per_file sum");
	}
	pub_add(&s, k->line, xstrdup(k->file), k->line ? "checksums: file" : "the checksum file");
	pub_add(&s, 0, xstrdup("manifest.json"), "the manifest");
	pub_add(&s, 0, xstrdup(PLAN_DIST_MARKER), "xgo-build's dist marker");
	if (pubs_check(r->path, &s, "") < 0)
		goto out;
	for (size_t i = 0; i < ap->n; i++)
		if (ap->v[i].format != PKG_BINARY && check_archive(r, p, &ap->v[i]) < 0)
			goto out;
	for (size_t i = 0; lp && i < lp->n; i++)
		if (check_package(r, &lp->v[i]) < 0)
			goto out;
	rc = 0;
out:
	pubs_release(&s);
	return rc;
}
