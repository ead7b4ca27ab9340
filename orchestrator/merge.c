#define _GNU_SOURCE
#include "merge.h"
#include "checksums.h"
#include "base/hash.h"
#include "jobenv.h"
#include "base/jsonx.h"
#include "manifest.h"
#include "mergeprov.h"
#include "base/path.h"
#include "runner.h"
#include "sign.h"
#include "base/util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct shard_dir {
	const char *dir;
	struct manifest m; /* its manifest.json */
	const struct manifest_shard *rec; /* its "shard" record */
	int k, n;
};

struct merge {
	struct shard_dir *v;
	size_t n;
	const struct manifest_plan_job *plan; /* the plan every shard records */
	size_t nplan;
	const char *overlap;   /* the overlap target id, or NULL */
	const struct manifest_job **first, **second; /* per plan job: its record in a shard, or NULL */
	int *first_in, *second_in; /* and which shard (index into v) */
	char *out, *stage;
	struct sign_key key; /* key.pkey NULL: the merged release is not signed */
};

/* Inputs every shard must share; a dotted path into the manifest. */
static const char *const same_fields[] = {
	"tool.version", "sdk.version", "sdk.platform", "sdk.archive_sha256", "sdk.tree_digest",
	"release.digest", "release.env_reads", "inputs.source_digest", "inputs.go_sum_digest",
	"inputs.source_date_epoch", "inputs.git", "execution.isolation", "checksums", "shard.count", "shard.overlap",
	"shard.weights", "shard.timings_sha256", "shard.plan",
};

static json_t *at(json_t *doc, const char *path)
{
	char key[64];
	while (doc && *path) {
		size_t len = strcspn(path, ".");
		snprintf(key, sizeof(key), "%.*s", (int)len, path);
		doc = json_object_get(doc, key);
		path += len + (path[len] == '.');
	}
	return doc;
}

/* A recorded digest, "" when the file was not written. */
static const char *sha(const struct manifest_file *f)
{
	return f->sha256 ? f->sha256 : "";
}

static int load(struct merge *m, const struct merge_opts *o)
{
	m->v = xcalloc(o->ndirs, sizeof(*m->v));
	m->n = o->ndirs; /* merge_release frees every loaded document */
	for (size_t i = 0; i < o->ndirs; i++) {
		struct shard_dir *s = &m->v[i];
		s->dir = o->dirs[i];
		if (manifest_load_dir(&s->m, s->dir) < 0)
			return -1;
		s->rec = &s->m.shard_rec;
		int k = s->rec->index, n = s->rec->count;
		if (!s->m.shard || k < 1 || k > n)
			return error("'%s/manifest.json' is not a shard's: build shards with 'xgo-build run "
				     "--shard K/N'", s->dir);
		s->k = k;
		s->n = n;
		for (size_t j = 0; j < i; j++)
			if (m->v[j].k == s->k)
				return error("'%s' and '%s' are both shard %d/%d", m->v[j].dir, s->dir, s->k, s->n);
	}
	m->plan = m->v[0].rec->plan;
	m->nplan = m->v[0].rec->nplan;
	m->overlap = m->v[0].rec->overlap;
	return 0;
}

static int same_inputs(const struct merge *m)
{
	for (size_t i = 1; i < m->n; i++)
		for (size_t f = 0; f < ARRAY_LEN(same_fields); f++) {
			json_t *a = at(m->v[0].m.doc, same_fields[f]), *b = at(m->v[i].m.doc, same_fields[f]);
			if (a == b || (a && b && json_equal(a, b)))
				continue;
			if (json_is_string(a) && json_is_string(b))
				return error("shards '%s' and '%s' differ in %s ('%s' and '%s'): build every shard "
					     "from the same inputs", m->v[0].dir, m->v[i].dir, same_fields[f],
					     json_string_value(a), json_string_value(b));
			return error("shards '%s' and '%s' differ in %s: build every shard from the same inputs",
				     m->v[0].dir, m->v[i].dir, same_fields[f]);
		}
	return 0;
}

/* A job's environment without what differs between machines (jobenv_local)
 * or between targets: the variables to compare across shards. */
static void portable_env(const struct manifest_job *job, struct strv *out)
{
	static const char *const target_vars[] = { "GOOS", "GOARCH", "CGO_ENABLED" };
	json_t *env = job->env;
	const char *variant = job->variant, *goroot = "";
	size_t i;
	json_t *e;
	json_array_foreach(env, i, e) {
		const char *s = json_string_value(e);
		if (!strncmp(s, "GOROOT=", 7))
			goroot = s + 7;
	}
	json_array_foreach(env, i, e) {
		const char *s = json_string_value(e), *eq = strchr(s, '=');
		if (!eq)
			continue;
		char name[128];
		snprintf(name, sizeof(name), "%.*s", (int)(eq - s), s);
		int skip = jobenv_local(name) || !strcmp(name, variant);
		for (size_t t = 0; t < ARRAY_LEN(target_vars); t++)
			skip |= !strcmp(name, target_vars[t]);
		if (skip)
			continue;
		struct buf b;
		buf_init(&b, 1u << 20);
		for (const char *p = s; *p;) {
			const char *hit = *goroot ? strstr(p, goroot) : NULL;
			if (!hit) {
				buf_puts(&b, p);
				break;
			}
			buf_append(&b, p, (size_t)(hit - p));
			buf_puts(&b, "$GOROOT");
			p = hit + strlen(goroot);
		}
		strv_push_owned(out, buf_detach(&b));
	}
}

static const char *only_in(const struct strv *a, const struct strv *b)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strv_contains(b, a->v[i]))
			return a->v[i];
	return NULL;
}

/* Per build (and cgo or not), the first job of each shard against the
 * first shard that has one. */
static int same_env(const struct merge *m)
{
	struct seen {
		const char *build;
		int cgo;
		size_t shard;
		struct strv env;
	} *seen = NULL;
	size_t nseen = 0;
	int rc = 0;
	for (size_t s = 0; s < m->n && rc == 0; s++) {
		for (size_t i = 0; i < m->v[s].m.njobs; i++) {
			const struct manifest_job *job = &m->v[s].m.jobs[i];
			const char *build = job->f.build;
			int cgo = job->cgo;
			struct strv env = { 0 };
			portable_env(job, &env);
			struct seen *x = NULL;
			for (size_t k = 0; k < nseen && !x; k++)
				if (!strcmp(seen[k].build, build) && seen[k].cgo == cgo)
					x = &seen[k];
			if (!x) {
				seen = xreallocarray(seen, nseen + 1, sizeof(*seen));
				seen[nseen++] = (struct seen){ build, cgo, s, env };
				continue;
			}
			const char *diff = only_in(&env, &x->env);
			size_t where = s;
			if (!diff && (diff = only_in(&x->env, &env)))
				where = x->shard;
			if (diff)
				rc = error("shards '%s' and '%s' differ in the job environment of build '%s': '%s' "
					   "is only in '%s'", m->v[x->shard].dir, m->v[s].dir, build, diff,
					   m->v[where].dir);
			strv_release(&env);
			if (rc)
				break;
		}
	}
	for (size_t k = 0; k < nseen; k++)
		strv_release(&seen[k].env);
	free(seen);
	return rc;
}

static long plan_index(const struct merge *m, const char *build, const char *target)
{
	for (size_t i = 0; i < m->nplan; i++)
		if (!strcmp(m->plan[i].build, build) && !strcmp(m->plan[i].target, target))
			return (long)i;
	return -1;
}

static int is_overlap(const struct merge *m, const char *target)
{
	return m->overlap && !strcmp(m->overlap, target);
}

/* The shard numbers that are not among the inputs, for a gap's hint. */
static void missing_shards(const struct merge *m, struct buf *b)
{
	for (int k = 1; k <= m->v[0].n; k++) {
		int found = 0;
		for (size_t s = 0; s < m->n; s++)
			found |= m->v[s].k == k;
		if (!found)
			buf_printf(b, "%s%d/%d", b->len ? ", " : " (missing: shard ", k, m->v[0].n);
	}
	if (b->len)
		buf_puts(b, ")");
}

static int place_jobs(struct merge *m)
{
	size_t np = m->nplan;
	m->first = xcalloc(np + 1, sizeof(*m->first));
	m->second = xcalloc(np + 1, sizeof(*m->second));
	m->first_in = xcalloc(np + 1, sizeof(*m->first_in));
	m->second_in = xcalloc(np + 1, sizeof(*m->second_in));
	for (size_t s = 0; s < m->n; s++) {
		for (size_t i = 0; i < m->v[s].m.njobs; i++) {
			const struct manifest_job *job = &m->v[s].m.jobs[i];
			const char *build = job->f.build, *target = job->f.target;
			long at_ = plan_index(m, build, target);
			if (at_ < 0)
				return error("'%s/manifest.json' has job '%s:%s', which its plan does not list",
					     m->v[s].dir, build, target);
			int again = m->first[at_] != NULL;
			if (again && (m->second[at_] || !is_overlap(m, target)))
				return error("job '%s:%s' is in two shards, '%s' and '%s': each job belongs to "
					     "exactly one", build, target, m->v[m->first_in[at_]].dir, m->v[s].dir);
			(again ? m->second : m->first)[at_] = job;
			(again ? m->second_in : m->first_in)[at_] = (int)s;
		}
	}
	for (size_t i = 0; i < np; i++) {
		const char *build = m->plan[i].build, *target = m->plan[i].target;
		if (!m->first[i]) {
			struct buf hint;
			buf_init(&hint, 4096);
			missing_shards(m, &hint);
			error("job '%s:%s' of the plan is in no shard%s", build, target, hint.data);
			buf_release(&hint);
			return -1;
		}
		if (is_overlap(m, target) && !m->second[i])
			return error("overlap target '%s' is only in '%s': merge both shards that build it", target,
				     m->v[m->first_in[i]].dir);
	}
	return 0;
}

/* The reader checked every name against path.h's rule; these are the
 * names merge writes itself (the marker is written last: a checksum file
 * of its name would be lost). */
static int check_name(const char *dir, const char *field, const char *name, const char *sums_file)
{
	const char *what = !strcmp(name, DIST_MARKER)		   ? "xgo-build's dist marker"
			   : !strcmp(name, "manifest.json")	   ? "the merged manifest"
			   : sums_file && !strcmp(name, sums_file) ? "the merged checksum file"
								   : NULL;
	return what ? error("'%s/manifest.json': %s '%s' is the name of %s", dir, field, name, what) : 0;
}

/* Every file merge writes from a shard's list, or NULL when s has none. */
static const struct manifest_file *list_of(const struct manifest *s, const char *list, size_t *n)
{
	if (!strcmp(list, "archives"))
		return *n = s->narchives, s->archives;
	if (!strcmp(list, "packages"))
		return *n = s->npackages, s->packages;
	return *n = s->nsboms, s->sboms;
}

/* Every name merge takes from a manifest (checksum file, job outputs,
 * archive, package and SBOM names) is checked before anything is written:
 * a shard's manifest is untrusted. */
static int check_names(const struct merge *m)
{
	static const char *const lists[] = { "archives", "packages", "sboms" };
	static const char *const fields[] = { "archive name", "package name", "SBOM name" };
	const char *sums_file = m->v[0].m.checksums.file;
	if (sums_file && check_name(m->v[0].dir, "checksums.file", sums_file, NULL) < 0)
		return -1;
	for (size_t s = 0; s < m->n; s++) {
		const struct manifest *x = &m->v[s].m;
		for (size_t i = 0; i < x->njobs; i++)
			if (check_name(m->v[s].dir, "job output", x->jobs[i].f.name, sums_file) < 0)
				return -1;
		for (size_t l = 0; l < ARRAY_LEN(lists); l++) {
			size_t n;
			const struct manifest_file *f = list_of(x, lists[l], &n);
			for (size_t i = 0; i < n; i++)
				if (check_name(m->v[s].dir, fields[l], f[i].name, sums_file) < 0)
					return -1;
		}
	}
	return 0;
}

static int differ(const char *target, const char *name, const char *a, const char *da, const char *b,
		  const char *db)
{
	return error("overlap target '%s' is not reproducible across machines: '%s' is sha256 %s in '%s' "
		     "and %s in '%s'", target, name, a, da, b, db);
}

/* The overlap target's archives or packages (list), in two shards, must agree. */
static int compare_list(const struct merge *m, const char *list)
{
	for (size_t s = 0; s < m->n; s++)
		for (size_t t = s + 1; t < m->n; t++) {
			size_t nx, ny;
			const struct manifest_file *x = list_of(&m->v[s].m, list, &nx);
			const struct manifest_file *y = list_of(&m->v[t].m, list, &ny);
			for (size_t i = 0; i < nx; i++)
				for (size_t j = 0; j < ny; j++)
					if (!strcmp(x[i].name, y[j].name) && strcmp(sha(&x[i]), sha(&y[j])))
						return differ(m->overlap, x[i].name, sha(&x[i]), m->v[s].dir,
							      sha(&y[j]), m->v[t].dir);
		}
	return 0;
}

/* The overlap target's binaries, archives and packages, built twice, must agree. */
static int compare_overlap(const struct merge *m)
{
	for (size_t i = 0; i < m->nplan; i++) {
		if (!m->second[i])
			continue;
		const char *a = sha(&m->first[i]->f), *b = sha(&m->second[i]->f);
		if (strcmp(a, b))
			return differ(m->overlap, m->first[i]->f.name, a, m->v[m->first_in[i]].dir, b,
				      m->v[m->second_in[i]].dir);
	}
	return m->overlap && (compare_list(m, "archives") < 0 || compare_list(m, "packages") < 0) ? -1 : 0;
}

/* Copy dir/name to the stage, hashing it on the way: EXIT_OK, EXIT_USAGE
 * (missing, not a regular file, or a symlink out of the shard: a shard
 * directory is untrusted), EXIT_MISMATCH (not what the manifest records)
 * or EXIT_JOB.  The resolved path is what is read. */
static int copy_checked(const struct merge *m, const char *dir, const char *name, const char *want)
{
	char *what = xasprintf("'%s/manifest.json' records", dir), *src = NULL;
	char *dst = xasprintf("%s/%s", m->stage, name), *parent = xstrdup(dst), hex[HASH_HEX_MAX];
	struct stat st;
	int rc = EXIT_USAGE;
	*strrchr(parent, '/') = '\0';
	if (path_inside(what, dir, name, &src) < 0)
		; /* named where it leads */
	else if (lstat(src, &st) < 0)
		error("cannot read '%s/%s', which its shard's manifest.json records:", dir, name);
	else if (!S_ISREG(st.st_mode))
		error("cannot read '%s/%s', which its shard's manifest.json records: not a regular file",
		      dir, name);
	else if (mkdir_p(parent, 0755) < 0 ||
		 hash_copy_file(HASH_SHA256, src, dst, (int)(st.st_mode & 0777), hex, NULL) < 0)
		rc = EXIT_JOB;
	else if (strcmp(hex, want))
		rc = EXIT_MISMATCH, error("'%s/%s' is corrupted: its sha256 is %s, its shard's manifest.json records %s",
					  dir, name, hex, *want ? want : "none");
	else
		rc = EXIT_OK;
	free(what);
	free(src);
	free(dst);
	free(parent);
	return rc;
}

/* The overlap's second copy is compared, not copied. */
static int second_copy(const struct merge *m, size_t s, const struct manifest_file *arc)
{
	if (!is_overlap(m, arc->target))
		return 0;
	for (size_t i = 0; i < m->nplan; i++)
		if (m->second[i] && m->second_in[i] == (int)s)
			return 1;
	return 0;
}

struct arc_ref {
	const struct manifest_file *arc;
	size_t shard;
	long key; /* the plan position of its first binary */
};

/* Every shard's archives (list "archives") or packages ("packages"), the
 * overlap's second copies left out, ordered by the plan position of their
 * first binary, then by shard. */
static struct arc_ref *archives_in_order(const struct merge *m, const char *list, size_t *n)
{
	struct arc_ref *v = NULL;
	*n = 0;
	for (size_t s = 0; s < m->n; s++) {
		size_t na;
		const struct manifest_file *arcs = list_of(&m->v[s].m, list, &na);
		for (size_t k = 0; k < na; k++) {
			const struct manifest_file *arc = &arcs[k];
			if (second_copy(m, s, arc))
				continue;
			struct arc_ref r = { arc, s, plan_index(m, arc->build, arc->target) };
			size_t at_ = (*n)++;
			v = xreallocarray(v, *n, sizeof(*v));
			for (; at_ > 0 && v[at_ - 1].key > r.key; at_--)
				v[at_] = v[at_ - 1];
			v[at_] = r;
		}
	}
	return v;
}

/* EXIT_INTERRUPTED once SIGINT, SIGTERM or SIGHUP came (merge_run
 * catches them while it writes its stage), else EXIT_OK. */
static int stopped(void)
{
	return runner_last_signal() ? EXIT_INTERRUPTED : EXIT_OK;
}

/* A merged list: the shards' records, in plan order. */
struct flist {
	const struct manifest_file **v;
	size_t n;
};

static void flist_push(struct flist *l, const struct manifest_file *f)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = f;
}

/* The records of l as the merged manifest's list (owned). */
static json_t *flist_json(const struct flist *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++)
		jx_push(a, json_incref(l->v[i]->obj));
	return a;
}

/* Copy the archives or packages (list) of every shard into out, in plan order. */
static int copy_list(const struct merge *m, const char *list, struct flist *out)
{
	size_t na;
	int rc = EXIT_OK;
	struct arc_ref *arcs = archives_in_order(m, list, &na);
	for (size_t i = 0; i < na && rc == EXIT_OK && !(rc = stopped()); i++) {
		rc = copy_checked(m, m->v[arcs[i].shard].dir, arcs[i].arc->name, sha(arcs[i].arc));
		flist_push(out, arcs[i].arc);
	}
	free(arcs);
	return rc;
}

/* Copy the SBOMs of plan job i from the shard that built it first. */
static int copy_sboms(const struct merge *m, size_t i, struct flist *sboms)
{
	const struct shard_dir *d = &m->v[m->first_in[i]];
	const struct manifest_file *job = &m->first[i]->f;
	int rc = EXIT_OK;
	for (size_t k = 0; k < d->m.nsboms && rc == EXIT_OK; k++) {
		const struct manifest_file *o = &d->m.sboms[k];
		if (strcmp(o->build, job->build) || strcmp(o->target, job->target))
			continue;
		rc = copy_checked(m, d->dir, o->name, sha(o));
		flist_push(sboms, o);
	}
	return rc;
}

/* The merged lists, in plan order: "jobs" with their "sboms",
 * "archives" and "packages". */
struct merged_lists {
	struct flist jobs, sboms, archives, packages;
};

/* Copy every binary and its SBOMs, every archive and package. */
static int copy_all(const struct merge *m, struct merged_lists *l)
{
	size_t np = m->nplan;
	int rc = EXIT_OK;
	for (size_t i = 0; i < np && rc == EXIT_OK && !(rc = stopped()); i++) {
		rc = copy_checked(m, m->v[m->first_in[i]].dir, m->first[i]->f.name, sha(&m->first[i]->f));
		if (rc == EXIT_OK)
			rc = copy_sboms(m, i, &l->sboms);
		flist_push(&l->jobs, &m->first[i]->f);
	}
	if (rc == EXIT_OK)
		rc = copy_list(m, "archives", &l->archives);
	if (rc == EXIT_OK)
		rc = copy_list(m, "packages", &l->packages);
	return rc;
}

/* Like a full run: the archives, or the binaries when there are none. */
static const struct flist *published_list(const struct merged_lists *l)
{
	return l->archives.n ? &l->archives : &l->jobs;
}

static int add_published(struct sums *sums, const char *stage, const struct flist *l)
{
	int rc = 0;
	for (size_t i = 0; i < l->n && rc == 0; i++)
		if (!sums_find(sums, l->v[i]->name)) /* a binary archive is its binary */
			rc = sums_add_published(sums, stage, l->v[i]->name, sha(l->v[i]));
	return rc;
}

static int write_sums(const struct merge *m, const struct merged_lists *l)
{
	const struct manifest *first = &m->v[0].m;
	if (!first->checksums.file)
		return EXIT_OK; /* the release publishes no checksum file */
	enum hash_algo algo;
	if (hash_algo_parse(first->checksums.algorithm, &algo) < 0)
		return error("'%s/manifest.json': checksums has no known algorithm and file", m->v[0].dir), EXIT_USAGE;
	struct sums sums;
	sums_init(&sums, algo);
	/* packages and SBOMs are published beside either */
	int rc = add_published(&sums, m->stage, published_list(l));
	if (rc == 0)
		rc = add_published(&sums, m->stage, &l->packages);
	if (rc == 0)
		rc = add_published(&sums, m->stage, &l->sboms);
	if (rc == 0)
		rc = sums_publish(&sums, m->stage, first->checksums.file, first->checksums.per_file);
	sums_release(&sums);
	return rc < 0 ? EXIT_JOB : EXIT_OK;
}

static json_t *merged_record(const struct merge *m)
{
	json_t *shards = json_array();
	for (size_t s = 0; s < m->n; s++) {
		char name[32];
		snprintf(name, sizeof(name), "%d/%d", m->v[s].k, m->v[s].n);
		jx_push(shards, json_pack("{s:s, s:s, s:O}", "dir", m->v[s].dir, "shard", name, "targets",
							m->v[s].rec->targets));
	}
	return json_pack("{s:i, s:s?, s:o}", "count", m->v[0].n, "overlap", m->overlap, "shards", shards);
}

/* The merged provenance's subjects: every merged file and the checksum file. */
static int merged_subjects(const struct merge *m, const struct merged_lists *l, struct sums *out)
{
	const struct flist *lists[] = { &l->archives, &l->jobs, &l->packages, &l->sboms };
	const char *sums_file = m->v[0].m.checksums.file;
	int rc = 0;
	sums_init(out, HASH_SHA256);
	for (size_t k = 0; k < ARRAY_LEN(lists) && rc == 0; k++)
		rc = add_published(out, m->stage, lists[k]);
	if (rc == 0 && sums_file)
		rc = sums_add_file(out, m->stage, sums_file);
	return rc;
}

/* provenance.json for the merged files, from the shards': 1 written, 0
 * none (no shard has one), -1 after error(). */
static int merged_provenance(const struct merge *m, const struct merged_lists *l)
{
	struct sums subj;
	json_t *targets = json_array();
	const char **dirs = xcalloc(m->n, sizeof(*dirs));
	for (size_t s = 0; s < m->n; s++)
		dirs[s] = m->v[s].dir;
	for (size_t i = 0; i < l->jobs.n; i++)
		jx_push(targets, json_pack("s++", l->jobs.v[i]->build, ":", l->jobs.v[i]->target));
	int rc = merged_subjects(m, l, &subj);
	if (rc == 0)
		rc = mergeprov_write(dirs, m->n, &subj, targets, m->stage);
	sums_release(&subj);
	json_decref(targets);
	free(dirs);
	return rc;
}

/* Did the shards sign their archives (a signature of another file than
 * the checksum file)?  Then the merged release's are signed too. */
static int shards_signed_archives(const struct merge *m)
{
	const struct manifest *first = &m->v[0].m;
	for (size_t i = 0; i < first->nsigs; i++)
		if (!strcmp(first->sigs[i].format, "minisign") &&
		    (!first->checksums.file || strcmp(first->sigs[i].signs, first->checksums.file)))
			return 1;
	return 0;
}

/* Sign the merged checksum file (and archives, as the shards did) and
 * provenance: the manifest's "signatures" (owned), or NULL after error(). */
static json_t *merged_signatures(const struct merge *m, const struct merged_lists *l, long long ts)
{
	const struct flist *list = published_list(l);
	struct strv files = { 0 };
	if (m->v[0].m.checksums.file)
		strv_push(&files, m->v[0].m.checksums.file);
	if (shards_signed_archives(m))
		for (size_t i = 0; i < list->n; i++)
			strv_push(&files, list->v[i]->name);
	json_t *sigs = sign_release_dir(&m->key, m->stage, &files, ts);
	strv_release(&files);
	return sigs;
}

/* The merged manifest: the first shard's, with the merged lists. */
static json_t *merged_doc(const struct merge *m, const struct merged_lists *l, json_t *sigs, int prov)
{
	json_t *doc = json_deep_copy(m->v[0].m.doc);
	jx_set(doc, "jobs", flist_json(&l->jobs));
	jx_set(doc, "archives", flist_json(&l->archives));
	if (l->packages.n)
		jx_set(doc, "packages", flist_json(&l->packages));
	if (json_object_get(doc, "sboms"))
		jx_set(doc, "sboms", flist_json(&l->sboms));
	if (!prov) /* no shard had one */
		json_object_del(doc, "provenance");
	json_object_del(doc, "shard");
	/* a shard's signatures sign that shard's SHA256SUMS, not the merged
	 * one, and are not copied: the merged dist is signed anew, or not */
	json_object_del(doc, "signatures");
	if (sigs)
		jx_set(doc, "signatures", json_incref(sigs));
	jx_set(doc, "merged", merged_record(m));
	return doc;
}

static int publish(struct merge *m)
{
	struct merged_lists l = { 0 };
	json_t *sigs = NULL;
	long long sde = m->v[0].m.sde_value;
	int rc = copy_all(m, &l), prov = 0;
	if (rc == EXIT_OK)
		rc = write_sums(m, &l);
	if (rc == EXIT_OK && (prov = merged_provenance(m, &l)) < 0)
		rc = EXIT_USAGE;
	if (rc == EXIT_OK && m->key.pkey && !(sigs = merged_signatures(m, &l, sde)))
		rc = EXIT_JOB;
	if (rc == EXIT_OK) {
		json_t *doc = merged_doc(m, &l, sigs, prov);
		char *path = xasprintf("%s/manifest.json", m->stage);
		if (manifest_write_json(path, doc) < 0 || stamp_tree(m->stage, sde) < 0)
			rc = EXIT_JOB;
		else if ((rc = stopped()) == EXIT_OK && swap_into_place(m->stage, m->out) < 0)
			rc = EXIT_JOB;
		free(path);
		json_decref(doc);
	}
	json_decref(sigs);
	free(l.jobs.v);
	free(l.sboms.v);
	free(l.archives.v);
	free(l.packages.v);
	return rc;
}

/* The output, absolute; refused when it is one of the inputs. */
/* OUT, normalised: never a shard, above or inside one, and replaced only
 * when it is empty or an earlier run or merge wrote it (the marker). */
static int resolve_out(struct merge *m, const char *dist)
{
	if (!(m->out = path_absolute(dist)))
		return -1; /* it named the path */
	m->stage = xasprintf("%s.tmp-%ld", m->out, (long)getpid());
	for (size_t s = 0; s < m->n; s++) {
		char *shard = path_absolute(m->v[s].dir);
		int same = shard && !strcmp(shard, m->out);
		int clash = shard && (path_within(shard, m->out) || path_within(m->out, shard));
		free(shard);
		if (same)
			return error("--dist '%s' is one of the shards: merge into another directory", dist);
		if (clash)
			return error("--dist '%s' holds or lies inside the shard '%s': merge into another directory",
				     dist, m->v[s].dir);
	}
	if (dist_check_replace(m->out) < 0)
		return -1;
	dist_remove_stale(m->out);
	return 0;
}

static void merge_release(struct merge *m)
{
	for (size_t s = 0; s < m->n; s++)
		manifest_release(&m->v[s].m);
	free(m->v);
	free(m->first);
	free(m->second);
	free(m->first_in);
	free(m->second_in);
	free(m->out);
	free(m->stage);
	sign_key_release(&m->key);
}

/* The secret key of --sign-key, never from inside the output. */
static int load_key(struct merge *m, const char *path)
{
	if (!path)
		return 0;
	char *abs = path_absolute(path);
	int inside = abs && path_within(abs, m->out);
	free(abs);
	if (!abs)
		return -1;
	if (inside)
		return error("--sign-key '%s' lies inside the output '%s': keep the secret key out of dist/", path,
			     m->out);
	return sign_load_secret(path, NULL, &m->key);
}

int merge_run(const struct merge_opts *o)
{
	struct merge m;
	memset(&m, 0, sizeof(m));
	int rc = EXIT_USAGE;
	if (load(&m, o) < 0 || same_inputs(&m) < 0 || same_env(&m) < 0 || check_names(&m) < 0 ||
	    place_jobs(&m) < 0 || resolve_out(&m, o->dist ? o->dist : "dist") < 0 || load_key(&m, o->sign_key) < 0)
		goto out;
	rc = EXIT_MISMATCH;
	if (compare_overlap(&m) < 0)
		goto out;
	/* from the stage on, a signal stops the copies and removes the stage */
	rc = EXIT_JOB;
	if (runner_catch_signals(NULL) == 0 && dist_make_stage(m.stage) == 0) {
		rc = publish(&m);
		remove_tree(m.stage); /* only a stage this merge made */
	}
	runner_restore_signals();
	if (rc == EXIT_INTERRUPTED)
		error("interrupted: %s is unchanged", m.out);
	else if (rc == EXIT_OK)
		note("merged %zu shard%s, %zu job%s, into %s", m.n, m.n == 1 ? "" : "s", m.nplan,
		     m.nplan == 1 ? "" : "s", m.out);
out:
	merge_release(&m);
	return rc;
}
