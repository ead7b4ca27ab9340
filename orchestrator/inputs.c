#define _GNU_SOURCE
#include "inputs.h"
#include "cpu.h"
#include "hash.h"
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
	int need;        /* not in the saved state: go list must run */
	int done;
	int outside;     /* read files outside the project: not reusable */
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
 * cannot change its output, and without GOMAXPROCS and -p. */
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
		if (strncmp(env.v[i], "GOMAXPROCS=", 11))
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
static void listing_key(const struct job_in *in, char key[65])
{
	struct hasher *h = hasher_new(HASH_SHA256);
	struct strv flags = { 0 };
	for (size_t i = 2; i < in->argv.n; i++) {
		if (!strcmp(in->argv.v[i], "-o")) {
			i++;
			continue;
		}
		strv_push(&flags, in->argv.v[i]);
	}
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

/* One package of the listing into h.  Returns -1 when go list reported
 * an error for it. */
static int add_package(const struct inputs_ctx *c, json_t *pkg, struct hasher *h, int *outside)
{
	if (json_object_get(pkg, "Error") || json_object_get(pkg, "DepsErrors"))
		return -1;
	if (json_is_true(json_object_get(pkg, "Standard")))
		return 0; /* the SDK tree digest covers it */
	const char *dir = json_string_value(json_object_get(pkg, "Dir"));
	const char *path = json_string_value(json_object_get(pkg, "ImportPath"));
	json_t *mod = json_object_get(pkg, "Module");
	const char *version = json_string_value(json_object_get(mod, "Version"));
	size_t plen = strlen(c->project_dir);
	int inside = dir && !strncmp(dir, c->project_dir, plen) && (dir[plen] == '/' || dir[plen] == '\0');
	if (!dir || !path)
		return -1;
	hasher_update(h, path, strlen(path) + 1);
	if (version && !inside) {
		/* a module from GOMODCACHE: immutable, pinned by go.sum */
		hasher_update(h, version, strlen(version) + 1);
		return 0;
	}
	*outside |= !inside;
	const char *rel = inside ? dir + plen : dir;
	hasher_update(h, rel, strlen(rel) + 1);
	for (size_t k = 0; k < ARRAY_LEN(file_lists); k++) {
		json_t *names = json_object_get(pkg, file_lists[k]), *name;
		size_t i;
		hasher_update(h, file_lists[k], strlen(file_lists[k]) + 1);
		json_array_foreach(names, i, name)
			if (json_is_string(name))
				file_digest_or_dash(dir, json_string_value(name), h);
	}
	return 0;
}

/* Digest go list's stream of JSON objects.  -1 when a package has an
 * error or the output is not what the go command writes. */
static int digest_listing(const struct inputs_ctx *c, const char *out, size_t len, char digest[65], int *outside)
{
	struct hasher *h = hasher_new(HASH_SHA256);
	size_t off = 0;
	int rc = 0, n = 0;
	while (rc == 0) {
		while (off < len && strchr(" \t\r\n", out[off]))
			off++;
		if (off >= len)
			break;
		json_error_t err;
		json_t *pkg = json_loadb(out + off, len - off, JSON_DISABLE_EOF_CHECK, &err);
		if (!pkg || !json_is_object(pkg) || err.position <= 0) {
			json_decref(pkg);
			rc = -1;
			break;
		}
		off += (size_t)err.position;
		rc = add_package(c, pkg, h, outside);
		json_decref(pkg);
		n++;
	}
	if (rc == 0 && n > 0)
		hasher_final_hex(h, digest);
	hasher_free(h);
	return rc == 0 && n > 0 ? 0 : -1;
}

/* Run go list for job j (the listing's first job) and digest its answer. */
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
	l->done = 1;
	if (!scratch || jobenv_job(c->env, j, scratch, "/dev/null", &env, &argv) < 0)
		goto out;
	strv_push(&list, argv.v[0]);
	strv_push(&list, "list");
	strv_push(&list, "-e");
	strv_push(&list, "-deps");
	strv_push(&list, LIST_FIELDS);
	for (size_t i = 2; i < argv.n; i++) {
		if (!strcmp(argv.v[i], "-o")) {
			i++;
			continue;
		}
		strv_push(&list, argv.v[i]);
	}
	if (proc_capture(list.v, env.v, c->project_dir, &out, &err, &status) == 0 && status == 0 && out.data &&
	    digest_listing(c, out.data, out.len, l->digest, &l->outside) == 0)
		goto out;
	l->digest[0] = '\0';
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

static json_t *load_state(const char *path, const char *fingerprint, const char *sdk)
{
	size_t len;
	int saved = quiet_errors;
	quiet_errors = 1; /* no state yet is the usual first run */
	char *text = read_file(path, STATE_MAX, &len);
	quiet_errors = saved;
	json_t *st = text ? json_loadb(text, len, 0, NULL) : NULL;
	free(text);
	if (st && json_is_object(st) &&
	    str_is(json_object_get(st, "fingerprint"), fingerprint) && str_is(json_object_get(st, "sdk"), sdk) &&
	    json_is_object(json_object_get(st, "sources")))
		return st;
	json_decref(st);
	return json_pack("{s:i, s:s, s:s, s:{}}", "version", 1, "fingerprint", fingerprint, "sdk", sdk, "sources");
}

static void save_state(const char *path, json_t *st)
{
	char *text = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
	if (text && write_file_atomic(path, text, strlen(text), 0644) < 0)
		warn("cannot save '%s': the next run asks the go command again", path);
	free(text);
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

int inputs_job_keys(const struct inputs_ctx *c, const struct plan *p, char (*keys)[65])
{
	struct job_in *in = xcalloc(p->n ? p->n : 1, sizeof(*in));
	struct listing *ls = NULL;
	size_t nls = 0;
	char fp[65] = "", *state_path = xasprintf("%s/inputs.json", c->work_dir);
	int rc = 0, reusable = 1;
	for (size_t i = 0; i < p->n; i++) {
		char lkey[65];
		keys[i][0] = '\0';
		if (normalised(c, &p->jobs[i], &in[i]) < 0)
			continue; /* the build itself reports it */
		listing_key(&in[i], lkey);
		in[i].listing = find_or_add(&ls, &nls, lkey, i);
	}
	if (source_fingerprint(c->project_dir, c->skip, fp) < 0)
		fp[0] = '\0';
	json_t *st = load_state(state_path, fp, c->sdk_tree_digest);
	json_t *sources = json_object_get(st, "sources");
	for (size_t k = 0; k < nls; k++) {
		const char *known = json_string_value(json_object_get(sources, ls[k].key));
		if (fp[0] && known && strlen(known) == 64)
			memcpy(ls[k].digest, known, 65);
		else
			ls[k].need = 1;
	}
	run_listings(c, p, ls, nls);
	if (runner_last_signal())
		rc = -1; /* the caller caught SIGINT/SIGTERM meanwhile */
	for (size_t k = 0; k < nls && rc == 0; k++) {
		if (!ls[k].need)
			continue;
		if (ls[k].outside)
			reusable = 0;
		if (ls[k].digest[0])
			json_object_set_new(sources, ls[k].key, json_string(ls[k].digest));
	}
	char modules[65];
	module_files_digest(c, modules);
	for (size_t i = 0; i < p->n && rc == 0; i++)
		if (in[i].env.n && ls[in[i].listing].digest[0])
			job_key(c, &p->jobs[i], &in[i], ls[in[i].listing].digest, modules, keys[i]);
	if (rc == 0 && fp[0] && reusable)
		save_state(state_path, st);
	json_decref(st);
	for (size_t i = 0; i < p->n; i++) {
		strv_release(&in[i].env);
		strv_release(&in[i].argv);
	}
	free(in);
	free(ls);
	free(state_path);
	return rc;
}
