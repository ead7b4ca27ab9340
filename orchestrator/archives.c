#define _POSIX_C_SOURCE 200809L
#include "archives.h"
#include "base/hash.h"
#include "base/path.h"
#include "template.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int arc_selects(const struct archive_decl *d, const struct build_decl *b)
{
	return d->builds.n == 0 || strv_contains(&d->builds, b->name);
}

enum pkg_format arc_format_for(const struct archive_decl *d, const char *goos)
{
	enum pkg_format f = PKG_TAR_GZ;
	size_t len = strlen(goos);
	for (size_t i = 0; i < d->overrides.n; i++)
		if (!strncmp(d->overrides.v[i], goos, len) && d->overrides.v[i][len] == '=')
			return pkg_format_parse(d->overrides.v[i] + len + 1, &f) == 0 ? f : PKG_TAR_GZ;
	pkg_format_parse(d->format, &f);
	return f;
}

static int same_target(const struct target *a, const struct target *b)
{
	return !strcmp(a->goos, b->goos) && !strcmp(a->goarch, b->goarch) && !strcmp(a->vval, b->vval) &&
	       a->cgo == b->cgo;
}

static char *arc_name(const struct release *r, const struct archive_decl *d, const struct job *j,
		      enum pkg_format f)
{
	struct tmpl_var vars[PLAN_VARS];
	char scratch[PLAN_SCRATCH], where[128], *base;
	plan_vars(r, j, vars, scratch);
	snprintf(where, sizeof(where), "%s:%d: archive: name", r->path, d->line);
	if (tmpl_expand(d->name, vars, PLAN_VARS, where, &base) < 0)
		return NULL;
	const char *ext = f == PKG_BINARY ? target_exe_suffix(&j->target) : pkg_format_ext(f);
	char *name = xasprintf("%s%s", base, ext);
	free(base);
	if (!*name || strchr(name, '/') || !path_components_ok(name)) {
		error("%s: \"%s\" gives '%s', which is not a plain file name", where, d->name, name);
		FREE_AND_NULL(name);
	}
	return name;
}

static struct arc *add_arc(struct arcplan *ap, const struct archive_decl *d, char *name, enum pkg_format f)
{
	ap->v = xreallocarray(ap->v, ap->n + 1, sizeof(*ap->v));
	struct arc *a = &ap->v[ap->n++];
	memset(a, 0, sizeof(*a));
	a->decl = d;
	a->name = name;
	a->format = f;
	if (d->wrap_in_directory)
		a->wrap = pkg_stem(name, f);
	return a;
}

static void add_job(struct arc *a, size_t idx)
{
	a->jobs = xreallocarray(a->jobs, a->njobs + 1, sizeof(*a->jobs));
	a->jobs[a->njobs++] = idx;
	a->waiting++;
}

/* The archive of declaration d that job idx belongs in (made if new). */
static int place_job(const struct release *r, const struct plan *p, const struct archive_decl *d, size_t first,
		     size_t idx, struct arcplan *ap)
{
	const struct job *j = &p->jobs[idx];
	enum pkg_format f = arc_format_for(d, j->target.goos);
	if (f != PKG_BINARY)
		for (size_t k = first; k < ap->n; k++)
			if (ap->v[k].format == f && same_target(&p->jobs[ap->v[k].jobs[0]].target, &j->target)) {
				add_job(&ap->v[k], idx);
				return 0;
			}
	char *name = arc_name(r, d, j, f);
	if (!name)
		return -1;
	add_job(add_arc(ap, d, name, f), idx);
	return 0;
}

static int check_names(const struct release *r, const struct arcplan *ap)
{
	for (size_t i = 0; i < ap->n; i++) {
		const char *n = ap->v[i].name;
		if (!strcmp(n, r->checksums.file) || !strcmp(n, "manifest.json"))
			return error("%s:%d: archive: '%s' would overwrite the %s", r->path, ap->v[i].decl->line, n,
				     strcmp(n, "manifest.json") ? "checksum file" : "manifest");
		for (size_t k = 0; k < i; k++)
			if (!strcmp(n, ap->v[k].name))
				return error("%s:%d: archive: two archives are named '%s' (put {os}, {arch} and "
					     "{variant} in the name template)", r->path, ap->v[i].decl->line, n);
	}
	return 0;
}

/* pkg_expand_files with each entry's error put after the declaration's
 * line: one error line per entry at fault, which says which archive and
 * which entry, and every such entry reported (check lists them all). */
int arc_expand_files(const struct release *r, const struct archive_decl *d, const char *project_dir,
		     struct pkg_entries *extra)
{
	int rc = 0;
	for (size_t i = 0; i < d->nfiles; i++) {
		int saved = error_quiet(1); /* before any thread starts: arc_plan runs in prepare */
		int r1 = pkg_expand_files(project_dir, &d->files[i], 1, extra);
		error_quiet(saved);
		if (r1 < 0) {
			char why[1024];
			snprintf(why, sizeof(why), "%s", error_last());
			rc = error("%s:%d: archive: files: %s", r->path, d->line, why);
		}
	}
	return rc;
}

int arc_plan(const struct release *r, const struct plan *p, const char *project_dir, struct arcplan *out)
{
	int bad = 0; /* an archive's files at fault: the next archives are still checked */
	memset(out, 0, sizeof(*out));
	for (size_t di = 0; di < r->narchives; di++) {
		const struct archive_decl *d = &r->archives[di];
		struct pkg_entries extra = { 0 };
		size_t first = out->n;
		if (arc_expand_files(r, d, project_dir, &extra) < 0) {
			pkg_entries_release(&extra);
			bad = 1;
			continue;
		}
		for (size_t i = 0; i < p->n; i++)
			if (arc_selects(d, p->jobs[i].build) && place_job(r, p, d, first, i, out) < 0) {
				pkg_entries_release(&extra);
				goto fail;
			}
		for (size_t k = first; k < out->n; k++)
			for (size_t e = 0; e < extra.n; e++)
				pkg_entries_add(&out->v[k].extra, extra.v[e].path, extra.v[e].src, extra.v[e].mode);
		pkg_entries_release(&extra);
	}
	if (bad || check_names(r, out) < 0)
		goto fail;
	return 0;
fail:
	arc_plan_release(out);
	return -1;
}

void arc_plan_release(struct arcplan *ap)
{
	for (size_t i = 0; i < ap->n; i++) {
		free(ap->v[i].name);
		free(ap->v[i].wrap);
		free(ap->v[i].jobs);
		pkg_entries_release(&ap->v[i].extra);
	}
	free(ap->v);
	memset(ap, 0, sizeof(*ap));
}

/* ---- the worker pool ---- */

struct packer {
	struct arcplan *ap;
	const struct plan *plan;
	const char *stage;
	int64_t epoch;
	char **paths;         /* built binaries, by job index */
	char (*shas)[65];     /* their sha256, by job index */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t *queue, qhead, qtail;
	int closing;
	pthread_t *threads;
	int nthreads;
	struct actcache *cache;
};

/* The archive's digest: everything its bytes depend on -- name, format,
 * level and library versions, epoch, wrap directory and every entry's
 * path, mode and content (binaries by the digest their job recorded,
 * extra files hashed here). */
static int arc_key(const struct packer *pk, const struct arc *a, const struct pkg_request *req, char key[65])
{
	struct pkg_result d;
	struct hasher *h = hasher_new(HASH_SHA256);
	char head[128];
	const char *name = strrchr(req->dest, '/');
	int rc = 0;
	pkg_describe(req, &d);
	snprintf(head, sizeof(head), "xgo-build archive v1 %s %s %d %lld", pkg_format_name(req->format),
		 d.compression, d.level, (long long)req->mtime);
	hasher_update(h, head, strlen(head) + 1);
	hasher_update(h, d.writer, strlen(d.writer) + 1);
	hasher_update(h, name ? name + 1 : req->dest, strlen(name ? name + 1 : req->dest) + 1);
	hasher_update(h, req->wrap_dir ? req->wrap_dir : "", strlen(req->wrap_dir ? req->wrap_dir : "") + 1);
	for (size_t i = 0; i < req->nentries && rc == 0; i++) {
		const struct pkg_entry *e = &req->entries[i];
		char hex[HASH_HEX_MAX], mode[16];
		struct stat st;
		size_t bin = i - a->extra.n; /* entries: the extra files, then the binaries */
		if (i >= a->extra.n && pk->shas[a->jobs[bin]][0])
			memcpy(hex, pk->shas[a->jobs[bin]], 65);
		else
			rc = hash_file_hex(HASH_SHA256, e->src, hex, NULL);
		int exec = e->mode == 0 && stat(e->src, &st) == 0 && (st.st_mode & 0111);
		snprintf(mode, sizeof(mode), "%o%s", (unsigned)e->mode, exec ? "x" : "");
		hasher_update(h, e->path, strlen(e->path) + 1);
		hasher_update(h, mode, strlen(mode) + 1);
		hasher_update(h, hex, strlen(hex) + 1);
	}
	hasher_final_hex(h, key);
	hasher_free(h);
	return rc;
}

/* pkg_write through the action cache (not for plain binaries: a copy is
 * as cheap as the cache, and the copy sets the mtime). */
static int write_cached(struct packer *pk, const struct arc *a, const struct pkg_request *req,
			struct pkg_result *res)
{
	char key[65];
	struct ac_entry e;
	struct ac_for f = { "", "", a->name, NULL, NULL }; /* an archive: its name in dist/ */
	if (!pk->cache || req->format == PKG_BINARY || arc_key(pk, a, req, key) < 0)
		return pkg_write(req, res);
	if (actcache_get(pk->cache, key, &f, req->dest, 0644, &e)) {
		pkg_describe(req, res);
		res->size = e.size;
		memcpy(res->sha256, e.sha256, 65);
		return 0;
	}
	if (pkg_write(req, res) < 0)
		return -1;
	memset(&e, 0, sizeof(e));
	memcpy(e.sha256, res->sha256, 65);
	e.size = res->size;
	actcache_put(pk->cache, key, &f, req->dest, &e);
	return 0;
}

static int write_one(struct packer *pk, struct arc *a)
{
	struct pkg_entries e = { 0 };
	for (size_t i = 0; i < a->extra.n; i++)
		pkg_entries_add(&e, a->extra.v[i].path, a->extra.v[i].src, a->extra.v[i].mode);
	for (size_t i = 0; i < a->njobs; i++)
		pkg_entries_add(&e, pk->plan->jobs[a->jobs[i]].binary, pk->paths[a->jobs[i]], 0);
	char *dest = xasprintf("%s/%s", pk->stage, a->name);
	struct pkg_request req = {
		.dest = dest, .format = a->format, .mtime = pk->epoch, .wrap_dir = a->wrap,
		.entries = e.v, .nentries = e.n,
	};
	if (a->format == PKG_BINARY) {
		req.entries = &e.v[e.n - 1]; /* the binary alone: extra files go in archives only */
		req.nentries = 1;
	}
	int rc = write_cached(pk, a, &req, &a->res);
	free(dest);
	pkg_entries_release(&e);
	return rc;
}

static void *worker(void *arg)
{
	struct packer *pk = arg;
	pthread_mutex_lock(&pk->mu);
	for (;;) {
		while (pk->qhead == pk->qtail && !pk->closing)
			pthread_cond_wait(&pk->cv, &pk->mu);
		if (pk->qhead == pk->qtail)
			break;
		struct arc *a = &pk->ap->v[pk->queue[pk->qhead++]];
		pthread_mutex_unlock(&pk->mu);
		int rc = write_one(pk, a);
		pthread_mutex_lock(&pk->mu);
		a->state = rc == 0 ? 2 : -1;
	}
	pthread_mutex_unlock(&pk->mu);
	return NULL;
}

struct packer *packer_start(struct arcplan *ap, const struct plan *p, const char *stage_dir, int64_t epoch,
			    int threads, struct actcache *cache)
{
	struct packer *pk = xcalloc(1, sizeof(*pk));
	pk->cache = cache;
	pk->ap = ap;
	pk->plan = p;
	pk->stage = stage_dir;
	pk->epoch = epoch;
	pk->paths = xcalloc(p->n ? p->n : 1, sizeof(*pk->paths));
	pk->shas = xcalloc(p->n ? p->n : 1, sizeof(*pk->shas));
	pk->queue = xcalloc(ap->n ? ap->n : 1, sizeof(*pk->queue));
	pthread_mutex_init(&pk->mu, NULL);
	pthread_cond_init(&pk->cv, NULL);
	pk->threads = xcalloc((size_t)(threads > 0 ? threads : 1), sizeof(*pk->threads));
	for (int i = 0; i < threads && ap->n; i++)
		if (pthread_create(&pk->threads[pk->nthreads], NULL, worker, pk) == 0)
			pk->nthreads++;
	return pk;
}

void packer_job_done(struct packer *pk, size_t idx, const char *path, const char *sha256)
{
	pthread_mutex_lock(&pk->mu);
	snprintf(pk->shas[idx], sizeof(pk->shas[idx]), "%s", sha256 ? sha256 : "");
	free(pk->paths[idx]);
	pk->paths[idx] = xstrdup(path);
	for (size_t k = 0; k < pk->ap->n; k++) {
		struct arc *a = &pk->ap->v[k];
		for (size_t i = 0; i < a->njobs; i++)
			if (a->jobs[i] == idx && --a->waiting == 0 && a->state == 0) {
				a->state = 1;
				pk->queue[pk->qtail++] = k;
			}
	}
	pthread_cond_broadcast(&pk->cv);
	pthread_mutex_unlock(&pk->mu);
}

int packer_finish(struct packer *pk)
{
	int rc = 0;
	pthread_mutex_lock(&pk->mu);
	pk->closing = 1;
	pthread_cond_broadcast(&pk->cv);
	pthread_mutex_unlock(&pk->mu);
	for (int i = 0; i < pk->nthreads; i++)
		pthread_join(pk->threads[i], NULL);
	if (pk->nthreads == 0)
		for (size_t k = 0; k < pk->qtail; k++) /* no thread could start: write here */
			pk->ap->v[pk->queue[k]].state = write_one(pk, &pk->ap->v[pk->queue[k]]) == 0 ? 2 : -1;
	for (size_t k = 0; k < pk->ap->n; k++)
		if (pk->ap->v[k].state != 2)
			rc = -1;
	for (size_t i = 0; i < pk->plan->n; i++)
		free(pk->paths[i]);
	free(pk->paths);
	free(pk->shas);
	free(pk->queue);
	free(pk->threads);
	pthread_cond_destroy(&pk->cv);
	pthread_mutex_destroy(&pk->mu);
	free(pk);
	return rc;
}

json_t *arc_manifest(const struct arcplan *ap, const struct plan *p)
{
	json_t *list = json_array();
	int bad = !list; /* every insert checked: NULL, never a list missing a record */
	for (size_t k = 0; k < ap->n && !bad; k++) {
		const struct arc *a = &ap->v[k];
		json_t *members = json_array();
		bad |= !members;
		for (size_t i = 0; i < a->njobs; i++)
			bad |= json_array_append_new(members, json_pack("{s:s, s:s}", "build",
									p->jobs[a->jobs[i]].build->name, "target",
									p->jobs[a->jobs[i]].id));
		json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "name", a->name, "format", pkg_format_name(a->format),
				      "target", p->jobs[a->jobs[0]].id, "binaries", members);
		if (a->state == 2) {
			bad |= json_object_set_new(o, "size", json_integer((json_int_t)a->res.size));
			bad |= json_object_set_new(o, "sha256", json_string(a->res.sha256));
			bad |= json_object_set_new(o, "compression", json_string(a->res.compression));
			bad |= json_object_set_new(o, "level", json_integer(a->res.level));
			bad |= json_object_set_new(o, "writer", json_string(a->res.writer));
		}
		bad |= json_array_append_new(list, o);
	}
	if (bad) {
		json_decref(list);
		return NULL;
	}
	return list;
}
