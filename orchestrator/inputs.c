#define _GNU_SOURCE
#include "inputs.h"
#include "gitinfo.h"
#include "cpu.h"
#include "cache/gohead.h"
#include "base/hash.h"
#include "base/jsonx.h"
#include "base/path.h"
#include "base/proc.h"
#include "runner.h"
#include "cache/source.h"
#include "base/util.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LIST_OUTPUT_MAX (256u << 20)
#define STATE_MAX (16u << 20)
#define LIST_THREADS_MAX 8
#define OVERLAY_MAX (16u << 20)
#define STATE_VERSION 3
#define LIST_FIELDS                                                                                    \
	"-json=ImportPath,Dir,Standard,Module,Error,DepsErrors,GoFiles,CgoFiles,CFiles,CXXFiles,MFiles," \
	"HFiles,FFiles,SFiles,SwigFiles,SwigCXXFiles,SysoFiles,EmbedFiles,IgnoredGoFiles,IgnoredOtherFiles," \
	"CgoCFLAGS,CgoCPPFLAGS,CgoCXXFLAGS,CgoFFLAGS,CgoLDFLAGS"

/* One distinct `go list` of the run, shared by the jobs it serves. */
struct listing {
	char key[65];
	char digest[65]; /* "" until known; stays "" when go list failed */
	json_t *shape;   /* what go list said (see package_shape), or NULL */
	json_t *roots;   /* what it reads outside the project (see listing_roots) */
	char roots_fp[65], roots_names[65];
	char flags[65];  /* the files its flags name (flag_files_digest) */
	int need;        /* not known from the saved state: go list must run */
	int reread;      /* known from the saved shape, the contents hashed again */
	size_t job;      /* the first job with this listing */
};

/* The job value's env and argv (jobenv.h): the form that is hashed. */
struct job_in {
	const struct strv *env, *argv;
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
	push_list_args(in->argv, &flags);
	hash_lines(h, "xgo-build list v1", in->env);
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

static int str_is(const json_t *v, const char *want)
{
	return json_is_string(v) && !strcmp(json_string_value(v), want);
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An object's keys in byte order (the order a saved state comes back in
 * is not the order a fresh one was made in); the caller frees the array. */
static const char **sorted_keys(json_t *obj, size_t *n)
{
	const char **keys = xcalloc(json_object_size(obj) + 1, sizeof(*keys));
	const char *k;
	json_t *v;
	*n = 0;
	json_object_foreach(obj, k, v)
		keys[(*n)++] = k;
	qsort(keys, *n, sizeof(*keys), cmp_cstr);
	return keys;
}

/* 1 when the resolved form of path lies outside the project (a link
 * target, a local replacement beside it); 0 inside or when it does not
 * exist (then the walk of the project or its directory sees it appear). */
static int outside_project(const struct inputs_ctx *c, const char *path, char **real)
{
	char *r = realpath(path, NULL);
	int out = r && !path_within(r, c->project_dir);
	if (real && out)
		*real = r;
	else
		free(r);
	return out;
}

static const char *const cgo_flag_lists[] = { "CgoCFLAGS", "CgoCPPFLAGS", "CgoCXXFLAGS", "CgoFFLAGS", "CgoLDFLAGS" };

/* The path a C compiler or linker flag names, if any: "-I/x" "-L/x",
 * "-isystem" (the next flag), "--sysroot=/x", or a bare path. */
static const char *flag_path(const char *flag, const char *prev)
{
	static const char *const takes_next[] = { "-I", "-L", "-isystem", "-iquote", "-idirafter", "-include",
						  "-imacros", "-isysroot", "--sysroot", "-B" };
	for (size_t i = 0; prev && i < ARRAY_LEN(takes_next); i++)
		if (!strcmp(prev, takes_next[i]))
			return flag;
	if (flag[0] != '-')
		return flag;
	if ((flag[1] == 'I' || flag[1] == 'L' || flag[1] == 'B') && flag[2])
		return flag + 2;
	for (size_t i = 2; i < ARRAY_LEN(takes_next); i++) {
		size_t n = strlen(takes_next[i]);
		if (!strncmp(flag, takes_next[i], n) && flag[n])
			return flag + n + (flag[n] == '=');
	}
	const char *eq = strchr(flag, '=');
	return eq && eq[1] == '/' ? eq + 1 : NULL;
}

/* 1 when a cgo flag names a file or directory outside the project and
 * the package directory: what it reaches there is hashed by nobody, so
 * such a job is not cached. */
static int cgo_flag_outside(const struct inputs_ctx *c, const char *dir, const char *flag, const char *prev)
{
	const char *p = flag_path(flag, prev);
	if (!p || !*p || (p[0] != '/' && !strchr(p, '/')))
		return 0; /* no path, or a name the compiler searches for (-lm, -O2) */
	char *full = p[0] == '/' ? xstrdup(p) : xasprintf("%s/%s", dir, p);
	int saved = error_quiet(1);
	char *abs = path_absolute(full);
	error_quiet(saved);
	char *own = realpath(dir, NULL);
	int out = !abs || (!path_within(abs, c->project_dir) && !(own && path_within(abs, own)));
	free(own);
	free(abs);
	free(full);
	return out;
}

static int cgo_outside(const struct inputs_ctx *c, json_t *pkg, const char *dir)
{
	for (size_t k = 0; k < ARRAY_LEN(cgo_flag_lists); k++) {
		json_t *flags = json_object_get(pkg, cgo_flag_lists[k]), *f;
		const char *prev = NULL;
		size_t i;
		json_array_foreach(flags, i, f) {
			const char *s = json_string_value(f);
			if (s && cgo_flag_outside(c, dir, s, prev))
				return 1;
			prev = s;
		}
	}
	return 0;
}

/* A listing's "shape" is what go list said, kept in inputs.json: an
 * array with one object per package outside the standard library (whose
 * files the SDK tree digest covers), in go list's order:
 *   {"p": import path, "v": module version}          a module from GOMODCACHE
 *   {"p": import path, "d": dir, "f": {list: [names]}, "m": go.mod}
 *                                                    the project's own or a local replacement
 * dir and go.mod are relative to the project ("" or "/sub"), or absolute
 * outside it ("o": true: a local replacement beside the project; "mo":
 * true for its go.mod).  A cgo
 * package has "c": true, and "x": true when its flags reach outside. */
static json_t *package_shape(const struct inputs_ctx *c, json_t *pkg)
{
	if (json_object_get(pkg, "Error") || json_object_get(pkg, "DepsErrors"))
		return NULL;
	const char *dir = json_string_value(json_object_get(pkg, "Dir"));
	const char *path = json_string_value(json_object_get(pkg, "ImportPath"));
	json_t *mod = json_object_get(pkg, "Module"), *rep = json_object_get(mod, "Replace");
	const char *version = json_string_value(json_object_get(mod, "Version"));
	const char *gomod = json_string_value(json_object_get(rep ? rep : mod, "GoMod"));
	size_t plen = strlen(c->project_dir);
	int inside = dir && !strncmp(dir, c->project_dir, plen) && (dir[plen] == '/' || dir[plen] == '\0');
	if (!dir || !path)
		return NULL;
	/* a replacement by a directory has no version of its own: its files count */
	if (version && !inside && !(rep && !json_object_get(rep, "Version")))
		return json_pack("{s:s, s:s}", "p", path, "v", version);
	json_t *files = json_object();
	int cgo = 0;
	for (size_t k = 0; k < ARRAY_LEN(file_lists); k++) {
		json_t *names = json_object_get(pkg, file_lists[k]), *name, *keep = json_array();
		size_t i;
		json_array_foreach(names, i, name)
			if (json_is_string(name))
				jx_push(keep, json_incref(name));
		cgo |= !strcmp(file_lists[k], "CgoFiles") && json_array_size(keep);
		if (json_array_size(keep))
			jx_set(files, file_lists[k], keep);
		else
			json_decref(keep);
	}
	json_t *one = json_pack("{s:s, s:s, s:o, s:b}", "p", path, "d", inside ? dir + plen : dir, "f", files, "o",
				!inside);
	if (gomod && gomod[0] != '/') { /* -modfile=NAME: as given, relative to the project */
		char *rel = xasprintf("/%s", gomod);
		jx_set(one, "m", json_string(rel));
		free(rel);
	} else if (gomod) {
		int mod_inside = !strncmp(gomod, c->project_dir, plen) && gomod[plen] == '/';
		jx_set(one, "m", json_string(mod_inside ? gomod + plen : gomod));
		if (!mod_inside)
			jx_set(one, "mo", json_true());
	}
	if (cgo)
		jx_set(one, "c", json_true());
	if (cgo && cgo_outside(c, pkg, dir))
		jx_set(one, "x", json_true());
	return one;
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

/* This run's reads, shared by every listing. */
struct head_check {
	json_t *files; /* file_entry's reads */
	json_t *saved; /* the saved state's "files" (may be NULL) */
	json_t *keep;  /* the new state's "files" */
	char tree[65]; /* the project's content digest, for cgo listings ("" until read) */
};

static const char *content_of(json_t *files, const char *path)
{
	return json_string_value(json_array_get(file_entry(files, path), 0));
}

/* What a cgo package can reach besides the files go list names: a
 * header or library anywhere in the project (#include "sub/x.h",
 * -I${SRCDIR}/../include, ${SRCDIR}/lib.a), so its digest covers the
 * contents of every file in the project -- and in a directory outside
 * the project that it reads (a local replacement). */
static int cgo_tree(const struct inputs_ctx *c, struct head_check *hc, json_t *roots, struct hasher *h)
{
	if (!hc->tree[0] && source_digest(c->project_dir, c->skip, hc->tree, NULL) < 0)
		snprintf(hc->tree, sizeof(hc->tree), "-");
	if (!strcmp(hc->tree, "-"))
		return -1;
	hasher_update_str(h, "cgo tree");
	hasher_update_str(h, hc->tree);
	size_t n;
	const char **keys = sorted_keys(roots, &n);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char hex[65];
		if (!str_is(json_object_get(roots, keys[i]), "d"))
			continue;
		rc = source_digest(keys[i], NULL, hex, NULL);
		hasher_update_str(h, keys[i]);
		hasher_update_str(h, hex);
	}
	free(keys);
	return rc;
}

/* The listing's digest, from its shape and the files' contents now:
 * every file go list names, every module's go.mod, each package's
 * default.pgo (present or not: -pgo=auto reads the main package's), and
 * for cgo the trees above.  -1 (digest "") when a cgo flag reaches
 * outside: nothing proves what it names unchanged. */
static int shape_digest(const struct inputs_ctx *c, json_t *shape, json_t *roots, struct head_check *hc,
			char digest[65])
{
	struct hasher *h = hasher_new(HASH_SHA256);
	json_t *pkg;
	size_t i;
	int cgo = 0, rc = 0;
	digest[0] = '\0';
	json_array_foreach(shape, i, pkg) {
		const char *path = json_string_value(json_object_get(pkg, "p"));
		const char *version = json_string_value(json_object_get(pkg, "v"));
		const char *gomod = json_string_value(json_object_get(pkg, "m"));
		hasher_update_str(h, path);
		if (version) {
			hasher_update_str(h, version);
			continue;
		}
		if (json_is_true(json_object_get(pkg, "x")))
			rc = -1;
		cgo |= json_is_true(json_object_get(pkg, "c"));
		const char *d = json_string_value(json_object_get(pkg, "d"));
		char *dir = package_dir(c, pkg), *pgo = xasprintf("%s/default.pgo", dir);
		hasher_update_str(h, d);
		hasher_update_str(h, content_of(hc->files, pgo));
		free(pgo);
		if (gomod) {
			char *full = json_is_true(json_object_get(pkg, "mo")) ? xstrdup(gomod)
									       : xasprintf("%s%s", c->project_dir, gomod);
			hasher_update_str(h, "go.mod");
			hasher_update_str(h, content_of(hc->files, full));
			free(full);
		}
		for (size_t k = 0; k < ARRAY_LEN(file_lists); k++) {
			json_t *names = json_object_get(json_object_get(pkg, "f"), file_lists[k]), *name;
			size_t n;
			hasher_update_str(h, file_lists[k]);
			json_array_foreach(names, n, name) {
				const char *base = json_string_value(name);
				char *full = xasprintf("%s/%s", dir, base);
				hasher_update_str(h, base);
				hasher_update_str(h, content_of(hc->files, full));
				free(full);
			}
		}
		free(dir);
	}
	if (rc == 0 && cgo)
		rc = cgo_tree(c, hc, roots, h);
	if (rc == 0)
		hasher_final_hex(h, digest);
	hasher_free(h);
	return rc;
}

/* What a listing reads outside the project, found through its shape:
 * {real path: "d"} for a package directory that resolves outside (a
 * local replacement, a linked directory), {real path: "f"} for a file
 * (a linked file, an outside go.mod).  The fast path fingerprints them
 * with the project (roots_fingerprint).  NULL when a path is not UTF-8
 * (inputs.json cannot name it): that listing is not cached. */
static json_t *listing_roots(const struct inputs_ctx *c, json_t *shape)
{
	json_t *roots = json_object(), *pkg;
	size_t i;
	int bad = 0; /* a root whose path is no text cannot be kept: no fast path then */
	json_array_foreach(shape, i, pkg) {
		if (json_object_get(pkg, "v"))
			continue;
		char *dir = package_dir(c, pkg), *real = NULL;
		if (outside_project(c, dir, &real))
			bad |= json_object_set_new(roots, real, json_string("d"));
		free(real);
		real = NULL;
		const char *gomod = json_string_value(json_object_get(pkg, "m"));
		if (gomod && json_is_true(json_object_get(pkg, "mo")) && (real = realpath(gomod, NULL)))
			bad |= json_object_set_new(roots, real, json_string("f"));
		free(real);
		json_t *names, *name;
		const char *list;
		json_object_foreach(json_object_get(pkg, "f"), list, names) {
			size_t k;
			json_array_foreach(names, k, name) {
				char *full = xasprintf("%s/%s", dir, json_string_value(name));
				real = NULL;
				if (outside_project(c, full, &real))
					bad |= json_object_set_new(roots, real, json_string("f"));
				free(real);
				free(full);
			}
		}
		free(dir);
	}
	if (bad) {
		json_decref(roots);
		return NULL;
	}
	return roots;
}

/* The stat data of path (links followed) and of its directory: a file
 * edited, replaced, or one added beside it. */
static void stat_root(struct hasher *fp, struct hasher *names, const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	const char *which[] = { path, slash && slash != dir ? dir : "/" };
	for (size_t i = 0; i < ARRAY_LEN(which); i++) {
		struct stat st;
		char rec[160];
		int n = stat(which[i], &st) < 0 ? snprintf(rec, sizeof(rec), "missing")
						: snprintf(rec, sizeof(rec), "%o %lld %lld.%09ld %lld.%09ld %llu",
							   (unsigned)st.st_mode, (long long)st.st_size,
							   (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
							   (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec,
							   (unsigned long long)st.st_ino);
		hasher_update(fp, rec, (size_t)n + 1);
	}
	hasher_update_str(names, path);
	free(dir);
}

/* The fingerprint of a listing's roots now (source.h's two digests, over
 * each root in path order): equal ones mean nothing was written there. */
static void roots_fingerprint(json_t *roots, char fp[65], char names[65])
{
	struct hasher *f = hasher_new(HASH_SHA256), *n = hasher_new(HASH_SHA256);
	size_t nk;
	const char **keys = sorted_keys(roots, &nk);
	for (size_t i = 0; i < nk; i++) {
		hasher_update_str(f, keys[i]);
		hasher_update_str(n, keys[i]);
		if (str_is(json_object_get(roots, keys[i]), "d")) {
			char a[65] = "-", b[65] = "-";
			int saved = error_quiet(1); /* a root gone: the fingerprint says so */
			if (source_fingerprint(keys[i], NULL, a, b) < 0)
				a[0] = b[0] = '-', a[1] = b[1] = '\0';
			error_quiet(saved);
			hasher_update_str(f, a);
			hasher_update_str(n, b);
		} else {
			stat_root(f, n, keys[i]);
		}
	}
	hasher_final_hex(f, fp);
	hasher_final_hex(n, names);
	hasher_free(f);
	hasher_free(n);
	free(keys);
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
	if (!scratch)
		goto out;
	jobenv_fill(c->env, j, scratch, "/dev/null", &env, &argv);
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

/* inputs.json: {"version", "sdk", "fingerprint", "names", "modules",
 * "listings": {key: {"digest", "shape", "roots", "roots_fp", "roots_names",
 * "flags"}}, "files": {path: head sig}}.
 * NULL when there is none for this SDK. */
static json_t *load_state(const char *path, const char *sdk)
{
	size_t len;
	int saved = error_quiet(1); /* no state yet is the usual first run */
	char *text = read_file(path, STATE_MAX, &len);
	error_quiet(saved);
	json_t *st = text ? json_loadb(text, len, 0, NULL) : NULL;
	free(text);
	if (st && json_is_object(st) && json_integer_value(json_object_get(st, "version")) == STATE_VERSION &&
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

/* The files an -overlay file maps sources to ("" deletes one). */
static void overlay_digest(const struct inputs_ctx *c, const char *file, struct hasher *h)
{
	char *path = file[0] == '/' ? xstrdup(file) : xasprintf("%s/%s", c->project_dir, file), *text;
	size_t len, n;
	int saved = error_quiet(1); /* the go command reports a missing or bad overlay */
	text = read_file(path, OVERLAY_MAX, &len);
	error_quiet(saved);
	json_t *ov = text ? json_loadb(text, len, 0, NULL) : NULL, *rep = json_object_get(ov, "Replace");
	const char **keys = sorted_keys(rep, &n);
	for (size_t i = 0; i < n; i++) {
		const char *to = json_string_value(json_object_get(rep, keys[i]));
		hasher_update_str(h, keys[i]);
		if (to && to[0])
			file_digest_or_dash(to[0] == '/' ? "" : c->project_dir, to, h);
	}
	free(keys);
	json_decref(ov);
	free(text);
	free(path);
}

/* Push the blank-separated words of text (GOFLAGS has no quoting here:
 * a quoted value only hides a file name, and the env is in the key). */
static void push_words(struct strv *out, const char *text)
{
	while (*text) {
		size_t n = strcspn(text, " \t\n");
		if (n)
			strv_push_owned(out, xstrndup(text, n));
		text += n;
		text += strspn(text, " \t\n");
	}
}

/* The files a job's flags name for the go command to read (-modfile and
 * the go.sum beside it, -overlay and what it maps, -pgo=FILE): their
 * contents, in the key and in the check of a saved listing (they can
 * change go list's answer too). */
static void flag_files_digest(const struct inputs_ctx *c, const struct job_in *in, char out[65])
{
	struct hasher *h = hasher_new(HASH_SHA256);
	struct strv args = { 0 };
	for (size_t i = 0; i < in->env->n; i++)
		if (!strncmp(in->env->v[i], "GOFLAGS=", 8))
			push_words(&args, in->env->v[i] + 8);
	for (size_t i = 2; i < in->argv->n; i++)
		strv_push(&args, in->argv->v[i]);
	hasher_update_str(h, "flag files");
	for (size_t i = 0; i < args.n; i++) {
		const char *next = i + 1 < args.n ? args.v[i + 1] : NULL, *v;
		int used;
		if ((v = go_flag_value(args.v[i], next, "modfile", &used))) {
			size_t len = strlen(v);
			char *sum = len > 4 && !strcmp(v + len - 4, ".mod") ? xasprintf("%.*s.sum", (int)(len - 4), v)
									 : xasprintf("%s.sum", v);
			hasher_update_str(h, "-modfile");
			file_digest_or_dash(v[0] == '/' ? "" : c->project_dir, v, h);
			file_digest_or_dash(sum[0] == '/' ? "" : c->project_dir, sum, h);
			free(sum);
		} else if ((v = go_flag_value(args.v[i], next, "overlay", &used))) {
			hasher_update_str(h, "-overlay");
			file_digest_or_dash(v[0] == '/' ? "" : c->project_dir, v, h);
			overlay_digest(c, v, h);
		} else if ((v = go_flag_value(args.v[i], next, "pgo", &used)) && strcmp(v, "auto") && strcmp(v, "off")) {
			hasher_update_str(h, "-pgo");
			file_digest_or_dash(v[0] == '/' ? "" : c->project_dir, v, h);
		}
		i += (size_t)used;
	}
	hasher_final_hex(h, out);
	hasher_free(h);
	strv_release(&args);
}

static void job_key(const struct inputs_ctx *c, const struct job *j, const struct job_in *in, const char *sources,
		    const char *modules, char key[65])
{
	struct hasher *h = hasher_new(HASH_SHA256);
	char flags[65];
	flag_files_digest(c, in, flags);
	const char *head[] = { "xgo-build action v3", c->sdk_tree_digest, j->cc_digest, sources, modules, flags };
	for (size_t i = 0; i < ARRAY_LEN(head); i++)
		hasher_update(h, head[i], strlen(head[i]) + 1);
	if (trimpath_off(in->argv))
		hasher_update(h, c->project_dir, strlen(c->project_dir) + 1);
	const struct gitinfo *g = c->env->release->git;
	if (j->build->vcs && g) { /* what the go command stamps: revision, time, modified, version */
		char vcs[400];
		snprintf(vcs, sizeof(vcs), "vcs %s %s %d %s %d", g->commit, g->commit_timestamp, g->vcs_modified, g->tag,
			 g->tag_at_head);
		hasher_update(h, vcs, strlen(vcs) + 1);
	}
	hash_lines(h, "env", in->env);
	hash_lines(h, "argv", in->argv);
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
 * nothing was written since (in the project, in what it reads outside,
 * in the files its flags name), or recomputed from the saved shape when
 * no file was added or removed and the heads of its files are unchanged. */
static void reuse_listing(const struct inputs_ctx *c, json_t *st, int same_tree, int same_names,
			  struct head_check *hc, struct listing *l)
{
	json_t *saved = json_object_get(json_object_get(st, "listings"), l->key);
	json_t *shape = json_object_get(saved, "shape"), *roots = json_object_get(saved, "roots");
	const char *digest = json_string_value(json_object_get(saved, "digest"));
	l->need = 1;
	if (!json_is_array(shape) || !json_is_object(roots) || !digest || !hash_is_sha256_hex(digest) ||
	    !str_is(json_object_get(saved, "flags"), l->flags))
		return;
	roots_fingerprint(roots, l->roots_fp, l->roots_names);
	same_tree &= str_is(json_object_get(saved, "roots_fp"), l->roots_fp);
	same_names &= str_is(json_object_get(saved, "roots_names"), l->roots_names);
	l->reread = !same_tree;
	if (same_tree) {
		memcpy(l->digest, digest, 65);
	} else if (!same_names || each_file(c, shape, head_changed, hc) ||
		   shape_digest(c, shape, roots, hc, l->digest) < 0) {
		return;
	}
	l->shape = json_incref(shape);
	l->roots = json_incref(roots);
	l->need = 0;
}

static void note_listings(const struct listing *ls, size_t nls)
{
	size_t asked = 0, reread = 0;
	for (size_t k = 0; k < nls; k++) {
		asked += ls[k].need;
		reread += !ls[k].need && ls[k].reread;
	}
	size_t saved = nls - asked - reread;
	if (saved && reread)
		note("source digests of %zu listing(s): %zu as saved, %zu re-read with the saved file lists, "
		     "%zu from go list", nls, saved, reread, asked);
	else
		note("source digests of %zu listing(s): %zu %s, %zu from go list", nls, saved + reread,
		     reread ? "re-read with the saved file lists" : "as saved", asked);
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
		       json_pack("{s:s, s:O, s:O, s:s, s:s, s:s}", "digest", ls[k].digest, "shape", ls[k].shape,
				 "roots", ls[k].roots, "roots_fp", ls[k].roots_fp, "roots_names", ls[k].roots_names,
				 "flags", ls[k].flags));
		each_file(c, ls[k].shape, keep_sig, hc);
	}
	return json_pack("{s:i, s:s, s:s, s:s, s:s, s:o, s:o}", "version", STATE_VERSION, "sdk",
			 c->sdk_tree_digest, "fingerprint", id[0], "names", id[1], "modules", id[2], "listings",
			 listings, "files", hc->keep);
}

/* inputs_job_keys, and its check after a job: the same computation, the
 * state saved only by the first (a check sees one moment of the tree
 * and must not drop what the other listings keep). */
static pthread_mutex_t keys_mu = PTHREAD_MUTEX_INITIALIZER;

static int compute_keys(const struct inputs_ctx *c, const struct plan *p, char (*keys)[65], int save)
{
	struct job_in *in = xcalloc(p->n ? p->n : 1, sizeof(*in));
	struct listing *ls = NULL;
	size_t nls = 0;
	char fp[65] = "", names[65] = "", modules[65], *state_path = xasprintf("%s/inputs.json", c->work_dir);
	int rc = 0;
	for (size_t i = 0; i < p->n; i++) {
		char lkey[65];
		keys[i][0] = '\0';
		in[i].env = &p->jobs[i].env;
		in[i].argv = &p->jobs[i].argv;
		listing_key(&in[i], lkey);
		in[i].listing = find_or_add(&ls, &nls, lkey, i);
	}
	/* every stat before any content read: an edit in between is seen next time */
	if (source_fingerprint(c->project_dir, c->skip, fp, names) < 0)
		fp[0] = names[0] = '\0';
	for (size_t k = 0; k < nls; k++)
		flag_files_digest(c, &in[ls[k].job], ls[k].flags);
	module_files_digest(c, modules);
	json_t *st = load_state(state_path, c->sdk_tree_digest);
	struct head_check hc = { .files = json_object(), .saved = json_object_get(st, "files") };
	int same_tree = fp[0] && str_is(json_object_get(st, "fingerprint"), fp);
	int same_names = names[0] && str_is(json_object_get(st, "names"), names) &&
			 str_is(json_object_get(st, "modules"), modules);
	for (size_t k = 0; k < nls; k++)
		reuse_listing(c, st, same_tree, same_names, &hc, &ls[k]);
	if (verbosity > 0 && save)
		note_listings(ls, nls);
	run_listings(c, p, ls, nls);
	if (runner_last_signal())
		rc = -1; /* the caller caught SIGINT/SIGTERM meanwhile */
	for (size_t k = 0; k < nls && rc == 0; k++) {
		if (!ls[k].need || !ls[k].shape)
			continue;
		if (!(ls[k].roots = listing_roots(c, ls[k].shape)))
			continue; /* its digest stays "": the job is built */
		roots_fingerprint(ls[k].roots, ls[k].roots_fp, ls[k].roots_names);
		if (shape_digest(c, ls[k].shape, ls[k].roots, &hc, ls[k].digest) < 0 && verbosity > 0)
			note("%s reads C headers or libraries outside the project: it is built without the action cache",
			     p->jobs[ls[k].job].id);
	}
	for (size_t i = 0; i < p->n && rc == 0; i++)
		if (ls[in[i].listing].digest[0])
			job_key(c, &p->jobs[i], &in[i], ls[in[i].listing].digest, modules, keys[i]);
	if (rc == 0 && save && fp[0]) {
		const char *id[3] = { fp, names, modules };
		json_t *next = new_state(c, id, ls, nls, &hc);
		save_state(state_path, next);
		json_decref(next);
	} else if (save) {
		unlink(state_path); /* no fingerprint: nothing to compare with next time */
	}
	json_decref(hc.files);
	json_decref(st);
	for (size_t k = 0; k < nls; k++) {
		json_decref(ls[k].shape);
		json_decref(ls[k].roots);
	}
	free(in);
	free(ls);
	free(state_path);
	return rc;
}

int inputs_job_keys(const struct inputs_ctx *c, struct plan *p)
{
	char (*keys)[65] = xcalloc(p->n ? p->n : 1, sizeof(*keys));
	pthread_mutex_lock(&keys_mu);
	int rc = compute_keys(c, p, keys, 1);
	pthread_mutex_unlock(&keys_mu);
	for (size_t i = 0; i < p->n; i++)
		memcpy(p->jobs[i].key, keys[i], sizeof(p->jobs[i].key));
	free(keys);
	return rc;
}

int inputs_job_unchanged(const struct inputs_ctx *c, const struct plan *p, size_t i, const char key[65])
{
	struct plan one = *p;
	char now[1][65];
	if (!key[0] || i >= p->n)
		return 0;
	one.jobs = &p->jobs[i];
	one.n = 1;
	pthread_mutex_lock(&keys_mu);
	int rc = compute_keys(c, &one, now, 0);
	pthread_mutex_unlock(&keys_mu);
	return rc == 0 && !strcmp(now[0], key);
}
