#define _GNU_SOURCE
#include "inputs.h"
#include "cpu.h"
#include "gohead.h"
#include "hash.h"
#include "jsonx.h"
#include "proc.h"
#include "runner.h"
#include "source.h"
#include "util.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIST_OUTPUT_MAX (256u << 20)
#define STATE_MAX (16u << 20)
#define LIST_THREADS_MAX 8
#define LIST_FIELDS                                                                                    \
	"-json=ImportPath,Dir,Standard,Module,Error,DepsErrors,GoFiles,CgoFiles,CFiles,CXXFiles,MFiles," \
	"HFiles,FFiles,SFiles,SwigFiles,SwigCXXFiles,SysoFiles,EmbedFiles,IgnoredGoFiles,IgnoredOtherFiles"

/* One distinct `go list` of the run, shared by the jobs it serves. */
struct listing {
	char key[65];
	char digest[65]; /* "" until known; stays "" when go list failed */
	json_t *shape;   /* what go list said (see package_shape), or NULL */
	int need;        /* not known from the saved state: go list must run */
	size_t job;      /* the first job with this listing */
};

struct job_in {
	struct strv env, argv; /* normalised */
	size_t listing;
};

static void hash_lines(struct hasher *h, const char *tag, const struct strv *v)
{
	hasher_update(h, tag, strlen(tag) + 1);
	for (size_t i = 0; i < v->n; i++)
		hasher_update(h, v->v[i], strlen(v->v[i]) + 1);
}

static int trimpath_off(const struct strv *argv)
{
	for (size_t i = 0; i < argv->n; i++)
		if (!strcmp(argv->v[i], "-trimpath=false"))
			return 1;
	return 0;
}

/* The environment and argv of job j with placeholders for the paths that
 * cannot change its output, and without GOMAXPROCS, GOGC, GOMEMLIMIT and -p. */
static int normalised(const struct inputs_ctx *c, const struct job *j, struct job_in *in)
{
	struct jobenv_ctx n = *c->env;
	n.sdk_root = "/<sdk>";
	n.gocache = "/<gocache>";
	n.gomodcache = "/<gomodcache>";
	n.zig_cache = c->env->zig_cache ? "/<zigcache>" : NULL;
	n.cgo_tmpdir = c->env->cgo_tmpdir ? "/<cgotmp>" : NULL;
	n.procs = 0;
	struct strv env = { 0 }, argv = { 0 };
	if (jobenv_job(&n, j, "/<scratch>", "/<out>", &env, &argv) < 0)
		return -1;
	for (size_t i = 0; i < env.n; i++)
		if (!jobenv_tuning(env.v[i]))
			strv_push(&in->env, env.v[i]);
	for (size_t i = 0; i < argv.n; i++)
		if (strcmp(argv.v[i], "-p=0"))
			strv_push(&in->argv, argv.v[i]);
	strv_release(&env);
	strv_release(&argv);
	return 0;
}

/* The listing key: what go list sees (the job's argv without go, build
 * and -o OUT). */
/* Push a go build argv's flags and packages, without go, build and -o OUT. */
static void push_list_args(const struct strv *argv, struct strv *out)
{
	for (size_t i = 2; i < argv->n; i++) {
		if (!strcmp(argv->v[i], "-o")) {
			i++;
			continue;
		}
		strv_push(out, argv->v[i]);
	}
}

static void listing_key(const struct job_in *in, char key[65])
{
	struct hasher *h = hasher_new(HASH_SHA256);
	struct strv flags = { 0 };
	push_list_args(&in->argv, &flags);
	hash_lines(h, "xgo-build list v1", &in->env);
	hash_lines(h, "flags", &flags);
	hasher_final_hex(h, key);
	hasher_free(h);
	strv_release(&flags);
}

static void file_digest_or_dash(const char *dir, const char *name, struct hasher *h)
{
	char *path = xasprintf("%s/%s", dir, name);
	char hex[HASH_HEX_MAX] = "-";
	if (access(path, F_OK) == 0 && hash_file_hex(HASH_SHA256, path, hex, NULL) < 0)
		snprintf(hex, sizeof(hex), "unreadable");
	hasher_update(h, name, strlen(name) + 1);
	hasher_update(h, hex, strlen(hex) + 1);
	free(path);
}

static const char *const file_lists[] = {
	"GoFiles", "CgoFiles", "CFiles", "CXXFiles", "MFiles", "HFiles", "FFiles", "SFiles",
	"SwigFiles", "SwigCXXFiles", "SysoFiles", "EmbedFiles", "IgnoredGoFiles", "IgnoredOtherFiles",
};

/* A listing's "shape" is what go list said, kept in inputs.json: an
 * array with one object per package outside the standard library (whose
 * files the SDK tree digest covers), in go list's order:
 *   {"p": import path, "v": module version}          a module from GOMODCACHE
 *   {"p": import path, "d": dir, "f": {list: [names]}} the project's own
 * dir is relative to the project ("" or "/sub"), or absolute for a local
 * replacement outside it ("o": true; such a listing is never kept). */
static json_t *package_shape(const struct inputs_ctx *c, json_t *pkg)
{
	if (json_object_get(pkg, "Error") || json_object_get(pkg, "DepsErrors"))
		return NULL;
	const char *dir = json_string_value(json_object_get(pkg, "Dir"));
	const char *path = json_string_value(json_object_get(pkg, "ImportPath"));
	const char *version = json_string_value(json_object_get(json_object_get(pkg, "Module"), "Version"));
	size_t plen = strlen(c->project_dir);
	int inside = dir && !strncmp(dir, c->project_dir, plen) && (dir[plen] == '/' || dir[plen] == '\0');
	if (!dir || !path)
		return NULL;
	if (version && !inside)
		return json_pack("{s:s, s:s}", "p", path, "v", version);
	json_t *files = json_object();
	for (size_t k = 0; k < ARRAY_LEN(file_lists); k++) {
		json_t *names = json_object_get(pkg, file_lists[k]), *name, *keep = json_array();
		size_t i;
		json_array_foreach(names, i, name)
			if (json_is_string(name))
				jx_push(keep, json_incref(name));
		if (json_array_size(keep))
			jx_set(files, file_lists[k], keep);
		else
			json_decref(keep);
	}
	return json_pack("{s:s, s:s, s:o, s:b}", "p", path, "d", inside ? dir + plen : dir, "f", files, "o", !inside);
}

/* Parse go list's stream of JSON objects into a shape; NULL when a
 * package has an error or the output is not what the go command writes. */
static json_t *listing_shape(const struct inputs_ctx *c, const char *out, size_t len)
{
	json_t *shape = json_array();
	size_t off = 0;
	int n = 0;
	for (;;) {
		while (off < len && strchr(" \t\r\n", out[off]))
			off++;
		if (off >= len)
			break;
		json_error_t err;
		json_t *pkg = json_loadb(out + off, len - off, JSON_DISABLE_EOF_CHECK, &err), *one = NULL;
		if (!pkg || !json_is_object(pkg) || err.position <= 0) {
			json_decref(pkg);
			goto fail;
		}
		off += (size_t)err.position;
		n++;
		if (!json_is_true(json_object_get(pkg, "Standard")) && !(one = package_shape(c, pkg))) {
			json_decref(pkg);
			goto fail;
		}
		if (one)
			jx_push(shape, one);
		json_decref(pkg);
	}
	if (n > 0)
		return shape;
fail:
	json_decref(shape);
	return NULL;
}

/* The files the listings name, each read once per run: path ->
 * [content digest, head signature] ("-" for both when it is missing). */
static json_t *file_entry(json_t *files, const char *path)
{
	json_t *e = json_object_get(files, path);
	if (e)
		return e;
	char content[65] = "-", sig[65] = "-";
	size_t len = strlen(path);
	int is_go = len > 3 && !strcmp(path + len - 3, ".go");
	if (access(path, F_OK) == 0 && gohead_file(path, is_go, content, sig) < 0) {
		snprintf(content, sizeof(content), "unreadable");
		snprintf(sig, sizeof(sig), "unreadable");
	}
	e = json_pack("[s, s]", content, sig);
	jx_set(files, path, e);
	return e;
}

static char *package_dir(const struct inputs_ctx *c, json_t *pkg)
{
	const char *d = json_string_value(json_object_get(pkg, "d"));
	return json_is_true(json_object_get(pkg, "o")) ? xstrdup(d) : xasprintf("%s%s", c->project_dir, d);
}

/* Call fn for every file of the shape's own packages. */
static int each_file(const struct inputs_ctx *c, json_t *shape, int (*fn)(void *, const char *, json_t *),
		     void *arg)
{
	json_t *pkg;
	size_t i;
	json_array_foreach(shape, i, pkg) {
		json_t *files = json_object_get(pkg, "f"), *names, *name;
		const char *list;
		char *dir = package_dir(c, pkg);
		int rc = 0;
		json_object_foreach(files, list, names) {
			size_t k;
			json_array_foreach(names, k, name) {
				char *path = xasprintf("%s/%s", dir, json_string_value(name));
				rc = fn(arg, path, name);
				free(path);
				if (rc)
					break;
			}
			if (rc)
				break;
		}
		free(dir);
		if (rc)
			return rc;
	}
	return 0;
}

/* The listing's digest, from its shape and the files' contents now. */
static void shape_digest(const struct inputs_ctx *c, json_t *shape, json_t *files, char digest[65])
{
	struct hasher *h = hasher_new(HASH_SHA256);
	json_t *pkg;
	size_t i;
	json_array_foreach(shape, i, pkg) {
		const char *path = json_string_value(json_object_get(pkg, "p"));
		const char *version = json_string_value(json_object_get(pkg, "v"));
		hasher_update(h, path, strlen(path) + 1);
		if (version) {
			hasher_update(h, version, strlen(version) + 1);
			continue;
		}
		const char *d = json_string_value(json_object_get(pkg, "d"));
		char *dir = package_dir(c, pkg);
		hasher_update(h, d, strlen(d) + 1);
		for (size_t k = 0; k < ARRAY_LEN(file_lists); k++) {
			json_t *names = json_object_get(json_object_get(pkg, "f"), file_lists[k]), *name;
			size_t n;
			hasher_update(h, file_lists[k], strlen(file_lists[k]) + 1);
			json_array_foreach(names, n, name) {
				const char *base = json_string_value(name);
				char *full = xasprintf("%s/%s", dir, base);
				const char *content = json_string_value(json_array_get(file_entry(files, full), 0));
				hasher_update(h, base, strlen(base) + 1);
				hasher_update(h, content, strlen(content) + 1);
				free(full);
			}
		}
		free(dir);
	}
	hasher_final_hex(h, digest);
	hasher_free(h);
}

/* Run go list for job j (the listing's first job) and keep its shape. */
static void run_listing(const struct inputs_ctx *c, const struct job *j, struct listing *l, size_t idx)
{
	char name[32];
	snprintf(name, sizeof(name), "golist-%zu", idx);
	char *scratch = jobenv_scratch(c->work_dir, name);
	struct strv env = { 0 }, argv = { 0 }, list = { 0 };
	struct buf out, err;
	int status = -1;
	buf_init(&out, LIST_OUTPUT_MAX);
	buf_init(&err, 64 << 10);
	if (!scratch || jobenv_job(c->env, j, scratch, "/dev/null", &env, &argv) < 0)
		goto out;
	strv_push(&list, argv.v[0]);
	strv_push(&list, "list");
	strv_push(&list, "-e");
	strv_push(&list, "-deps");
	strv_push(&list, LIST_FIELDS);
	push_list_args(&argv, &list);
	if (proc_capture(list.v, env.v, c->project_dir, &out, &err, &status) == 0 && status == 0 && out.data &&
	    (l->shape = listing_shape(c, out.data, out.len)))
		goto out;
	if (verbosity > 0)
		note("go list for %s failed (exit %d): it is built without the action cache", j->id, status);
out:
	if (scratch) {
		remove_tree(scratch);
		free(scratch);
	}
	strv_release(&env);
	strv_release(&argv);
	strv_release(&list);
	buf_release(&out);
	buf_release(&err);
}

static int str_is(const json_t *v, const char *want)
{
	return json_is_string(v) && !strcmp(json_string_value(v), want);
}

/* inputs.json: {"version", "sdk", "fingerprint", "names", "modules",
 * "listings": {key: {"digest", "shape"}}, "files": {path: head sig}}.
 * NULL when there is none for this SDK. */
static json_t *load_state(const char *path, const char *sdk)
{
	size_t len;
	int saved = quiet_errors;
	quiet_errors = 1; /* no state yet is the usual first run */
	char *text = read_file(path, STATE_MAX, &len);
	quiet_errors = saved;
	json_t *st = text ? json_loadb(text, len, 0, NULL) : NULL;
	free(text);
	if (st && json_is_object(st) && json_integer_value(json_object_get(st, "version")) == 2 &&
	    str_is(json_object_get(st, "sdk"), sdk) && json_is_object(json_object_get(st, "listings")) &&
	    json_is_object(json_object_get(st, "files")))
		return st;
	json_decref(st);
	return NULL;
}

static void save_state(const char *path, json_t *st)
{
	char *text = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
	if (text && write_file_atomic(path, text, strlen(text), 0644) < 0)
		warn("cannot save '%s': the next run asks the go command again", path);
	free(text);
}

struct head_check {
	json_t *files; /* this run's reads (file_entry) */
	json_t *saved; /* the saved state's "files" (may be NULL) */
	json_t *keep;  /* the new state's "files" */
};

/* 1 (stop) when the file's head is not the one saved. */
static int head_changed(void *arg, const char *path, json_t *name)
{
	struct head_check *hc = arg;
	(void)name;
	const char *now = json_string_value(json_array_get(file_entry(hc->files, path), 1));
	const char *then = json_string_value(json_object_get(hc->saved, path));
	return !then || strcmp(now, then);
}

/* Keep the head signature of a file in the new state's "files". */
static int keep_sig(void *arg, const char *path, json_t *name)
{
	struct head_check *hc = arg;
	json_t *e = json_object_get(hc->files, path);
	json_t *sig = e ? json_array_get(e, 1) : json_object_get(hc->saved, path);
	(void)name;
	if (json_is_string(sig))
		jx_set(hc->keep, path, json_incref(sig));
	return 0;
}

static int shape_outside(json_t *shape)
{
	json_t *pkg;
	size_t i;
	json_array_foreach(shape, i, pkg)
		if (json_is_true(json_object_get(pkg, "o")))
			return 1;
	return 0;
}

/* go.mod, go.sum and vendor/modules.txt ("-" for a missing one): read
 * once per run, shared by every job's key. */
static void module_files_digest(const struct inputs_ctx *c, char out[65])
{
	static const char *const names[] = { "go.mod", "go.sum", "vendor/modules.txt" };
	struct hasher *h = hasher_new(HASH_SHA256);
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		file_digest_or_dash(c->project_dir, names[i], h);
	hasher_final_hex(h, out);
	hasher_free(h);
}

static void job_key(const struct inputs_ctx *c, const struct job *j, const struct job_in *in, const char *sources,
		    const char *modules, char key[65])
{
	struct hasher *h = hasher_new(HASH_SHA256);
	const char *head[] = { "xgo-build action v2", c->sdk_tree_digest, j->cc_digest, sources, modules };
	for (size_t i = 0; i < ARRAY_LEN(head); i++)
		hasher_update(h, head[i], strlen(head[i]) + 1);
	if (trimpath_off(&in->argv))
		hasher_update(h, c->project_dir, strlen(c->project_dir) + 1);
	hash_lines(h, "env", &in->env);
	hash_lines(h, "argv", &in->argv);
	hasher_final_hex(h, key);
	hasher_free(h);
}

static size_t find_or_add(struct listing **ls, size_t *n, const char *key, size_t job)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*ls)[i].key, key))
			return i;
	*ls = xreallocarray(*ls, *n + 1, sizeof(**ls));
	memset(&(*ls)[*n], 0, sizeof(**ls));
	memcpy((*ls)[*n].key, key, 65);
	(*ls)[*n].job = job;
	return (*n)++;
}

/* The go list runs still needed, a few at a time (each is mostly the go
 * command starting up and reading the module). */
struct list_pool {
	const struct inputs_ctx *c;
	const struct plan *p;
	struct listing *ls;
	size_t nls, next;
	pthread_mutex_t mu;
};

static void *list_worker(void *arg)
{
	struct list_pool *lp = arg;
	for (;;) {
		pthread_mutex_lock(&lp->mu);
		while (lp->next < lp->nls && !lp->ls[lp->next].need)
			lp->next++;
		size_t k = lp->next++;
		pthread_mutex_unlock(&lp->mu);
		if (k >= lp->nls || runner_last_signal())
			return NULL;
		run_listing(lp->c, &lp->p->jobs[lp->ls[k].job], &lp->ls[k], k);
	}
}

static void run_listings(const struct inputs_ctx *c, const struct plan *p, struct listing *ls, size_t nls)
{
	struct list_pool lp = { .c = c, .p = p, .ls = ls, .nls = nls };
	pthread_t th[LIST_THREADS_MAX];
	size_t need = 0;
	int n = 0, want = cpu_available();
	for (size_t k = 0; k < nls; k++)
		need += ls[k].need;
	if (want > LIST_THREADS_MAX)
		want = LIST_THREADS_MAX;
	if ((size_t)want > need)
		want = (int)need;
	pthread_mutex_init(&lp.mu, NULL);
	while (n < want && pthread_create(&th[n], NULL, list_worker, &lp) == 0)
		n++;
	if (n == 0)
		list_worker(&lp); /* no thread: one at a time here */
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&lp.mu);
}

/* What the saved state says of listing l: its digest as saved when
 * nothing was written since, or recomputed from the saved shape when no
 * file was added or removed and the heads of its files are unchanged. */
static void reuse_listing(const struct inputs_ctx *c, json_t *st, int same_tree, int same_names,
			  struct head_check *hc, struct listing *l)
{
	json_t *saved = json_object_get(json_object_get(st, "listings"), l->key);
	json_t *shape = json_object_get(saved, "shape");
	const char *digest = json_string_value(json_object_get(saved, "digest"));
	l->need = 1;
	if (!json_is_array(shape) || !digest || !hash_is_sha256_hex(digest))
		return;
	if (same_tree) {
		memcpy(l->digest, digest, 65);
	} else if (same_names && !each_file(c, shape, head_changed, hc)) {
		shape_digest(c, shape, hc->files, l->digest);
	} else {
		return;
	}
	l->shape = json_incref(shape);
	l->need = 0;
}

static void note_listings(const struct listing *ls, size_t nls, int same_tree)
{
	size_t asked = 0;
	for (size_t k = 0; k < nls; k++)
		asked += ls[k].need;
	note("source digests of %zu listing(s): %zu %s, %zu from go list", nls, nls - asked,
	     same_tree ? "as saved" : "re-read with the saved file lists", asked);
}

static json_t *new_state(const struct inputs_ctx *c, const char *const id[3], struct listing *ls, size_t nls,
			 struct head_check *hc)
{
	json_t *listings = json_object();
	hc->keep = json_object();
	for (size_t k = 0; k < nls; k++) {
		if (!ls[k].shape || !ls[k].digest[0])
			continue;
		jx_set(listings, ls[k].key,
				    json_pack("{s:s, s:O}", "digest", ls[k].digest, "shape", ls[k].shape));
		each_file(c, ls[k].shape, keep_sig, hc);
	}
	return json_pack("{s:i, s:s, s:s, s:s, s:s, s:o, s:o}", "version", 2, "sdk", c->sdk_tree_digest,
			 "fingerprint", id[0], "names", id[1], "modules", id[2], "listings", listings, "files",
			 hc->keep);
}

int inputs_job_keys(const struct inputs_ctx *c, const struct plan *p, char (*keys)[65])
{
	struct job_in *in = xcalloc(p->n ? p->n : 1, sizeof(*in));
	struct listing *ls = NULL;
	size_t nls = 0;
	char fp[65] = "", names[65] = "", modules[65], *state_path = xasprintf("%s/inputs.json", c->work_dir);
	int rc = 0, reusable = 1;
	for (size_t i = 0; i < p->n; i++) {
		char lkey[65];
		keys[i][0] = '\0';
		if (normalised(c, &p->jobs[i], &in[i]) < 0)
			continue; /* the build itself reports it */
		listing_key(&in[i], lkey);
		in[i].listing = find_or_add(&ls, &nls, lkey, i);
	}
	if (source_fingerprint(c->project_dir, c->skip, fp, names) < 0)
		fp[0] = names[0] = '\0';
	module_files_digest(c, modules);
	json_t *st = load_state(state_path, c->sdk_tree_digest);
	struct head_check hc = { .files = json_object(), .saved = json_object_get(st, "files") };
	int same_tree = fp[0] && str_is(json_object_get(st, "fingerprint"), fp);
	int same_names = names[0] && str_is(json_object_get(st, "names"), names) &&
			 str_is(json_object_get(st, "modules"), modules);
	for (size_t k = 0; k < nls; k++)
		reuse_listing(c, st, same_tree, same_names, &hc, &ls[k]);
	if (verbosity > 0)
		note_listings(ls, nls, same_tree);
	run_listings(c, p, ls, nls);
	if (runner_last_signal())
		rc = -1; /* the caller caught SIGINT/SIGTERM meanwhile */
	for (size_t k = 0; k < nls && rc == 0; k++) {
		if (!ls[k].need || !ls[k].shape)
			continue;
		reusable &= !shape_outside(ls[k].shape);
		shape_digest(c, ls[k].shape, hc.files, ls[k].digest);
	}
	for (size_t i = 0; i < p->n && rc == 0; i++)
		if (in[i].env.n && ls[in[i].listing].digest[0])
			job_key(c, &p->jobs[i], &in[i], ls[in[i].listing].digest, modules, keys[i]);
	if (rc == 0 && fp[0] && reusable) {
		const char *id[3] = { fp, names, modules };
		json_t *next = new_state(c, id, ls, nls, &hc);
		save_state(state_path, next);
		json_decref(next);
	}
	json_decref(hc.files);
	json_decref(st);
	for (size_t k = 0; k < nls; k++)
		json_decref(ls[k].shape);
	for (size_t i = 0; i < p->n; i++) {
		strv_release(&in[i].env);
		strv_release(&in[i].argv);
	}
	free(in);
	free(ls);
	free(state_path);
	return rc;
}
