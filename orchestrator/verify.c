/* verify.c - varied rebuilds, comparison and explanation (see verify.h). */
#define _GNU_SOURCE
#include "verify.h"
#include "cpu.h"
#include "events.h"
#include "explain.h"
#include "base/hash.h"
#include "isolate.h"
#include "jobenv.h"
#include "base/jsonx.h"
#include "manifest.h"
#include "gitinfo.h"
#include "provenance.h"
#include "base/path.h"
#include "plan.h"
#include "toolchains/download.h"
#include "toolchains/lockfile.h"
#include "toolchains/sdk.h"
#include "base/proc.h"
#include "base/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- variations -------------------------------------------------------- */

static const char *const vary_names[] = {
	"path", "gocache", "home", "tz", "locale", "umask", "order", "user", "hostname", "time",
};

/* What the varied build sets; the first build keeps the caller's. */
#define VARY_TZ_VALUE "Pacific/Kiritimati"  /* UTC+14: as far from UTC as it gets */
#define VARY_TZ_OTHER "America/St_Johns"    /* UTC-3:30, when the caller has the first */
#define VARY_LOCALE_VALUE "fr_CH.UTF-8"
#define VARY_HOSTNAME_VALUE "xgo-verify-elsewhere"
#define VARY_UID 4242
#define FAKETIME_LIB "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

int verify_vary_parse(const char *list, int on, unsigned *set)
{
	char *copy = xstrdup(list), *save = NULL;
	int rc = 0;
	for (char *w = strtok_r(copy, ", ", &save); w && rc == 0; w = strtok_r(NULL, ", ", &save)) {
		unsigned bit = 0;
		if (!strcmp(w, "all"))
			bit = VARY_ALL;
		for (size_t i = 0; i < ARRAY_LEN(vary_names) && !bit; i++)
			if (!strcmp(w, vary_names[i]))
				bit = 1u << i;
		if (!bit) {
			const char *s = suggest(w, vary_names, ARRAY_LEN(vary_names));
			rc = error("unknown variation '%s'%s%s%s (known: path, gocache, home, tz, locale, umask, order, "
				   "user, hostname, time, all)", w, s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
		}
		*set = on ? *set | bit : *set & ~bit;
	}
	free(copy);
	return rc;
}

json_t *verify_vary_json(unsigned set)
{
	json_t *a = json_array();
	for (size_t i = 0; i < ARRAY_LEN(vary_names); i++)
		if (set & (1u << i))
			jx_push(a, json_string(vary_names[i]));
	return a;
}

static void skip(json_t *skipped, const char *name, const char *why)
{
	jx_push(skipped, json_pack("{s:s, s:s}", "variation", name, "why", why));
}

/* The process environment a varied build changes, to restore after it. */
static const char *const saved_vars[] = { "HOME", "TMPDIR", "TZ", "LC_ALL", "LANG", "SOURCE_DATE_EPOCH",
					  "XGO_CACHE" };

struct saved_env {
	char *val[ARRAY_LEN(saved_vars)];
	int had[ARRAY_LEN(saved_vars)];
};

static void env_save(struct saved_env *s)
{
	for (size_t i = 0; i < ARRAY_LEN(saved_vars); i++) {
		const char *v = getenv(saved_vars[i]);
		s->had[i] = v != NULL;
		s->val[i] = v ? xstrdup(v) : NULL;
	}
}

static void env_restore(struct saved_env *s)
{
	for (size_t i = 0; i < ARRAY_LEN(saved_vars); i++) {
		if (s->had[i])
			setenv(saved_vars[i], s->val[i], 1);
		else
			unsetenv(saved_vars[i]);
		free(s->val[i]);
	}
}

static char *dir_of(const char *file)
{
	char buf[PATH_MAX];
	if (!realpath(file, buf)) {
		error("cannot resolve '%s':", file);
		return NULL;
	}
	char *slash = strrchr(buf, '/');
	if (slash == buf)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	return xstrdup(buf);
}

/* path: copy the project to another absolute path and build there.  A
 * project in a git checkout is copied with the whole checkout, .git
 * included, so the rebuild sees the same git facts (templates, version,
 * vcs stamping); the project's dist/ and .xgo-build/ are left out.
 * Outside a checkout .git is left out too, and SOURCE_DATE_EPOCH is
 * fixed from the original. */
static char *vary_path(const struct pipeline_opts *base, const char *root)
{
	const char *file = base->file ? base->file : "release.lua";
	char *src = dir_of(file), *dst = NULL, *out = NULL;
	if (!src)
		return NULL;
	struct gitinfo *g = xmalloc(sizeof(*g));
	gitinfo_read(src, g);
	size_t tl = strlen(g->toplevel);
	int checkout = g->ok && !strncmp(src, g->toplevel, tl) && (src[tl] == '/' || !src[tl]);
	const char *top = checkout ? g->toplevel : src;
	const char *rel = checkout ? src + tl + (src[tl] == '/') : "";
	const char *name = strrchr(top, '/');
	dst = xasprintf("%s/src/moved/elsewhere/%s", root, name && name[1] ? name + 1 : "project");
	char *skip_dist = xasprintf("%s%sdist", rel, *rel ? "/" : "");
	char *skip_work = xasprintf("%s%s.xgo-build", rel, *rel ? "/" : "");
	const char *skipped[] = { skip_dist, skip_work, checkout ? NULL : ".git", NULL };
	if (!getenv("SOURCE_DATE_EPOCH")) {
		struct release r = { .dir = src, .git = g };
		char sde[24];
		const char *from;
		if (jobenv_sde(&r, sde, &from) == 0)
			setenv("SOURCE_DATE_EPOCH", sde, 1);
	}
	if (mkdir_p(dst, 0755) == 0 && verify_copy_tree(top, dst, skipped) == 0) {
		const char *base_name = strrchr(file, '/');
		out = xasprintf("%s%s%s/%s", dst, *rel ? "/" : "", rel, base_name ? base_name + 1 : file);
	}
	free(skip_dist);
	free(skip_work);
	free(g);
	free(src);
	free(dst);
	return out;
}

static void vary_env(unsigned vary, const char *root)
{
	if (vary & VARY_HOME) {
		/* the cache (SDK, GOCACHE, GOMODCACHE) stays where it was:
		 * by default it lives under HOME */
		char *cache = sdk_cache_dir();
		setenv("XGO_CACHE", cache, 1);
		free(cache);
		char *home = xasprintf("%s/elsewhere/home", root), *tmp = xasprintf("%s/elsewhere/tmp", root);
		mkdir_p(home, 0700);
		mkdir_p(tmp, 0700);
		setenv("HOME", home, 1);
		setenv("TMPDIR", tmp, 1);
		free(home);
		free(tmp);
	}
	if (vary & VARY_TZ) {
		/* The variable only, no tzset(): pkg_init() pinned this process's
		 * own zone to UTC for zip times, and the packager refuses any
		 * other.  What varies is what a leak to a job, hook or tool
		 * would carry. */
		const char *tz = getenv("TZ");
		setenv("TZ", tz && !strcmp(tz, VARY_TZ_VALUE) ? VARY_TZ_OTHER : VARY_TZ_VALUE, 1);
	}
	if (vary & VARY_LOCALE) {
		setenv("LC_ALL", VARY_LOCALE_VALUE, 1);
		setenv("LANG", VARY_LOCALE_VALUE, 1);
	}
}

/* The job-level variations: namespaces for user/hostname, libfaketime for
 * hooks.  Unavailable ones are skipped with the reason. */
static void vary_jobs(unsigned vary, struct pipeline_opts *o, json_t *skipped)
{
	const char *why = NULL;
	if (vary & (VARY_USER | VARY_HOSTNAME)) {
		int ok = iso_vary_available(&why);
		if (vary & VARY_USER) {
			if (ok)
				o->vary_uid = VARY_UID;
			else
				skip(skipped, "user", why);
		}
		if (vary & VARY_HOSTNAME) {
			if (ok)
				o->vary_hostname = VARY_HOSTNAME_VALUE;
			else
				skip(skipped, "hostname", why);
		}
	}
	if (vary & VARY_TIME) {
		if (access(FAKETIME_LIB, R_OK) == 0)
			o->hook_faketime = FAKETIME_LIB;
		else
			skip(skipped, "time", "libfaketime is not installed (Debian package 'faketime'): "
					      "the rebuild only runs later than the first build");
	}
}

int verify_build(const struct pipeline_opts *base, unsigned vary, const char *root, const char *dist,
		 json_t *skipped, double *seconds)
{
	struct pipeline_opts o = *base;
	struct saved_env saved;
	char *work = xasprintf(vary & VARY_HOME ? "%s/elsewhere/work" : "%s/work", root);
	char *gocache = xasprintf("%s/gocache", root), *file = NULL;
	int rc = EXIT_JOB;
	env_save(&saved);
	mode_t old_mask = umask(vary & VARY_UMASK ? 077 : 022);
	double t0 = mono_seconds();
	o.dist = dist;
	o.work_dir = work;
	if (vary & VARY_PATH) {
		if (!(file = vary_path(base, root)))
			goto out;
		o.file = file;
	}
	if (vary & VARY_GOCACHE) {
		if (mkdir_p(gocache, 0755) < 0)
			goto out;
		o.gocache = gocache;
	}
	vary_env(vary, root);
	if (vary & VARY_ORDER) {
		/* one more job at a time than the first build: other
		 * interleavings, without the cost of going serial */
		o.reverse_order = !base->reverse_order;
		o.jobs = (base->jobs ? base->jobs : cpu_available()) + 1;
	}
	vary_jobs(vary, &o, skipped);
	o.no_cache = 1; /* a rebuild that reused cached artifacts would prove nothing */
	events_context(vary ? "verify:rebuild" : "verify:first");
	rc = pipeline_run(&o);
	events_context(NULL);
out:
	*seconds = mono_seconds() - t0;
	umask(old_mask);
	env_restore(&saved);
	tzset();
	free(work);
	free(gocache);
	free(file);
	return rc;
}

/* ---- copying a source tree ------------------------------------------- */

/* rel: the path of src from the copy's root ("" at the root). */
static int copy_tree(const char *src, const char *dst, const char *const *skipped, const char *rel, int depth)
{
	DIR *d = opendir(src);
	struct dirent *e;
	int rc = 0;
	if (!d)
		return error("cannot open directory '%s':", src);
	if (depth > 64) {
		closedir(d);
		return error("'%s' is nested too deeply to copy", src);
	}
	while (rc == 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		int skip_it = 0;
		char *r = xasprintf("%s%s%s", rel, *rel ? "/" : "", e->d_name);
		for (size_t i = 0; skipped && skipped[i]; i++)
			skip_it |= !strcmp(r, skipped[i]);
		if (skip_it) {
			free(r);
			continue;
		}
		char *s = xasprintf("%s/%s", src, e->d_name), *t = xasprintf("%s/%s", dst, e->d_name);
		struct stat st;
		char link[PATH_MAX];
		if (lstat(s, &st) < 0) {
			rc = error("cannot stat '%s':", s);
		} else if (S_ISDIR(st.st_mode)) {
			if (mkdir(t, 0755) < 0 && errno != EEXIST)
				rc = error("cannot create '%s':", t);
			else if ((rc = copy_tree(s, t, skipped, r, depth + 1)) == 0 && chmod(t, st.st_mode & 07777) < 0)
				rc = error("cannot chmod '%s':", t);
		} else if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlink(s, link, sizeof(link) - 1);
			if (n < 0)
				rc = error("cannot read link '%s':", s);
			else {
				link[n] = '\0';
				if (symlink(link, t) < 0)
					rc = error("cannot create link '%s':", t);
			}
		} else if (S_ISREG(st.st_mode)) {
			rc = copy_file(s, t, (int)(st.st_mode & 07777));
		}
		free(r);
		free(s);
		free(t);
	}
	closedir(d);
	return rc;
}

int verify_copy_tree(const char *src, const char *dst, const char *const *skipped)
{
	return copy_tree(src, dst, skipped, "", 0);
}

static int list_files(const char *root, const char *rel, struct strv *out, int depth)
{
	char *dir = rel ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;
	if (!d) {
		rc = error("cannot open directory '%s':", dir);
		goto out;
	}
	while (rc == 0 && (e = readdir(d)) && out->n < 100000) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *r = rel ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
		char *full = xasprintf("%s/%s", root, r);
		struct stat st;
		if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode) && depth < 32)
			rc = list_files(root, r, out, depth + 1);
		else if (lstat(full, &st) == 0 && S_ISREG(st.st_mode))
			strv_push(out, r);
		free(r);
		free(full);
	}
	closedir(d);
out:
	free(dir);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* output name -> target, from a dist's manifest.json.  Only labels: a
 * missing or odd manifest gives none, quietly. */
static json_t *targets_of(const char *dist)
{
	struct manifest m;
	json_t *map = json_object();
	int quiet = error_quiet(1), rc = manifest_load_dir(&m, dist);
	error_quiet(quiet);
	for (size_t i = 0; rc == 0 && i < m.njobs; i++)
		if (*m.jobs[i].f.target)
			jx_set(map, m.jobs[i].f.name, json_string(m.jobs[i].f.target));
	for (size_t i = 0; rc == 0 && i < m.narchives; i++)
		if (*m.archives[i].target)
			jx_set(map, m.archives[i].name, json_string(m.archives[i].target));
	manifest_release(&m);
	return map;
}

static json_t *row(const char *name, json_t *targets, const char *ha, const char *hb, json_int_t sa,
		   json_int_t sb)
{
	const char *t = json_string_value(json_object_get(targets, name));
	int same = ha && hb && !strcmp(ha, hb);
	return json_pack("{s:s, s:s, s:b, s:[s?, s?], s:[I, I]}", "target", t ? t : "-", "artifact", name,
			 "identical", same, "sha256", ha, hb, "size", sa, sb);
}

static void explain_row(json_t *r, const char *pa, const char *pb, const char *dso_dir)
{
	char *dso = NULL;
	if (dso_dir) {
		char *flat = xstrdup(json_string_value(json_object_get(r, "artifact")));
		for (char *c = flat; *c; c++)
			if (*c == '/')
				*c = '_';
		dso = xasprintf("%s/%s.diffoscope.txt", dso_dir, flat);
		free(flat);
	}
	json_t *e = pa && pb ? explain_pair(pa, pb, dso) : json_pack("{s:s}", "missing", pa ? "b" : "a");
	json_t *sz = json_object_get(r, "size");
	char *s = explain_summary(e, json_integer_value(json_array_get(sz, 0)), json_integer_value(json_array_get(sz, 1)));
	jx_set(r, "summary", json_string(s));
	jx_set(r, "explanation", e);
	free(s);
	free(dso);
}

/* The provenance's reproducible part (provenance.h): its run details
 * (builder, times, invocation id) differ between every two runs. */
static int prov_digest(const char *path, char hex[65], uint64_t *size)
{
	size_t len;
	char *text = read_file(path, MANIFEST_MAX_BYTES, &len), *canon = NULL;
	json_t *doc = text ? json_loadb(text, len, 0, NULL) : NULL, *part = doc ? prov_reproducible(doc) : NULL;
	if (part)
		canon = json_dumps(part, JSON_SORT_KEYS | JSON_COMPACT);
	if (canon)
		hash_bytes_hex(HASH_SHA256, canon, strlen(canon), hex);
	else if (text)
		hash_bytes_hex(HASH_SHA256, text, len, hex); /* not JSON: the bytes themselves */
	int rc = text ? 0 : -1;
	*size = text ? (uint64_t)len : 0;
	free(canon);
	json_decref(part);
	json_decref(doc);
	free(text);
	return rc;
}

static int file_digest(const char *dir, const char *name, char hex[65], json_int_t *size)
{
	char *p = xasprintf("%s/%s", dir, name);
	uint64_t sz = 0;
	int rc = access(p, F_OK) != 0 ? -1 : !strcmp(name, PROV_FILE) ? prov_digest(p, hex, &sz)
										: hash_file_hex(HASH_SHA256, p, hex, &sz);
	*size = (json_int_t)sz;
	free(p);
	return rc;
}

static int is_sums(const char *name)
{
	size_t n = strlen(name);
	return n >= 4 && !strcmp(name + n - 4, "SUMS");
}

/* A checksum file differs because the artifacts it lists do: say so
 * instead of explaining its bytes, unless nothing else differs. */
static void checksum_rows(json_t *rows)
{
	size_t i, other = 0;
	json_t *r;
	json_array_foreach(rows, i, r)
		other += !json_is_true(json_object_get(r, "identical")) &&
			 !is_sums(json_string_value(json_object_get(r, "artifact")));
	if (!other)
		return;
	json_array_foreach(rows, i, r) {
		if (json_is_true(json_object_get(r, "identical")) || !is_sums(json_string_value(json_object_get(r, "artifact"))))
			continue;
		const char *why = "lists the digests of the artifacts that differ";
		jx_set(r, "summary", json_string(why));
		jx_set(r, "explanation", json_pack("{s:s}", "note", why));
	}
}

json_t *verify_compare_dirs(const char *a, const char *b, const char *dso_dir)
{
	struct strv names = { 0 };
	json_t *rows = json_array(), *targets = targets_of(a);
	list_files(a, NULL, &names, 0);
	list_files(b, NULL, &names, 0);
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(*names.v), cmp_str);
	for (size_t i = 0; i < names.n; i++) {
		if ((i && !strcmp(names.v[i], names.v[i - 1])) || !strcmp(names.v[i], "manifest.json") ||
		    !strcmp(names.v[i], DIST_MARKER)) /* the dist marker (util.h) is no artifact */
			continue;
		char ha[65], hb[65];
		json_int_t sa = 0, sb = 0;
		int oka = file_digest(a, names.v[i], ha, &sa) == 0, okb = file_digest(b, names.v[i], hb, &sb) == 0;
		json_t *r = row(names.v[i], targets, oka ? ha : NULL, okb ? hb : NULL, sa, sb);
		if (!json_is_true(json_object_get(r, "identical"))) {
			char *pa = oka ? xasprintf("%s/%s", a, names.v[i]) : NULL;
			char *pb = okb ? xasprintf("%s/%s", b, names.v[i]) : NULL;
			explain_row(r, pa, pb, dso_dir);
			free(pa);
			free(pb);
		}
		jx_push(rows, r);
	}
	checksum_rows(rows);
	json_decref(targets);
	strv_release(&names);
	return rows;
}

json_t *verify_compare_expected(json_t *expected, const char *dist, const char *pub_dir, const char *dso_dir)
{
	json_t *rows = json_array(), *targets = targets_of(dist);
	const char *name;
	json_t *want;
	json_object_foreach(expected, name, want) {
		char hb[65];
		json_int_t sb = 0, sa = 0;
		int okb = file_digest(dist, name, hb, &sb) == 0;
		char ha[65];
		char *pa = pub_dir ? xasprintf("%s/%s", pub_dir, name) : NULL;
		if (pa && access(pa, F_OK) == 0)
			file_digest(pub_dir, name, ha, &sa);
		json_t *r = row(name, targets, json_string_value(want), okb ? hb : NULL, sa, sb);
		if (!json_is_true(json_object_get(r, "identical"))) {
			char *pb = okb ? xasprintf("%s/%s", dist, name) : NULL;
			if (pa && access(pa, F_OK) == 0 && pb)
				explain_row(r, pa, pb, dso_dir);
			else {
				const char *why = !okb ? "missing from the rebuild"
					: "the published digest differs (no published file here to explain it)";
				jx_set(r, "summary", json_string(why));
				jx_set(r, "explanation", json_pack("{s:s}", "note", why));
			}
			free(pb);
		}
		free(pa);
		jx_push(rows, r);
	}
	checksum_rows(rows);
	json_decref(targets);
	return rows;
}

/* ---- the report ------------------------------------------------------ */

static void print_list(const char *title, json_t *a)
{
	size_t i;
	json_t *v;
	if (!json_array_size(a))
		return;
	printf("    %s\n", title);
	json_array_foreach(a, i, v)
		printf("      %s\n", json_string_value(v));
}

static void print_details(json_t *r, int against)
{
	const char *first = against ? "published:" : "first:", *second = against ? "rebuilt:" : "second:";
	json_t *e = json_object_get(r, "explanation");
	json_t *sz = json_object_get(r, "size"), *dg = json_object_get(r, "sha256");
	printf("\n%s (%s):\n", json_string_value(json_object_get(r, "artifact")),
	       json_string_value(json_object_get(r, "target")));
	for (size_t i = 0; i < 2; i++) {
		const char *hex = json_string_value(json_array_get(dg, i));
		printf("  %-10s %s  %lld bytes\n", i ? second : first, hex ? hex : "(missing)",
		       (long long)json_integer_value(json_array_get(sz, i)));
	}
	printf("  %s\n", json_string_value(json_object_get(r, "summary")));
	json_t *bi = json_object_get(e, "buildinfo");
	if (bi && (json_array_size(json_object_get(bi, "only_a")) || json_array_size(json_object_get(bi, "only_b")))) {
		printf("  go build info (go version -m):\n");
		print_list(against ? "only in the published:" : "only in the first:", json_object_get(bi, "only_a"));
		print_list(against ? "only in the rebuilt:" : "only in the second:", json_object_get(bi, "only_b"));
	}
	json_t *rg = json_object_get(e, "regions"), *x;
	size_t k;
	if (json_array_size(rg))
		printf("  differing bytes (first %d runs):\n", EXPLAIN_REGIONS);
	json_array_foreach(rg, k, x) {
		const char *sec = json_string_value(json_object_get(x, "section"));
		printf("    at 0x%llx, %lld bytes%s%s:\n      %-10s %s\n      %-10s %s\n",
		       (unsigned long long)json_integer_value(json_object_get(x, "offset")),
		       (long long)json_integer_value(json_object_get(x, "length")), sec ? " in " : "", sec ? sec : "",
		       first, json_string_value(json_object_get(x, "a")), second,
		       json_string_value(json_object_get(x, "b")));
	}
	json_t *st = json_object_get(e, "strings");
	if (st) {
		printf("  printable strings (%lld only in the first, %lld only in the second; most telling first):\n",
		       (long long)json_integer_value(json_object_get(st, "count_a")),
		       (long long)json_integer_value(json_object_get(st, "count_b")));
		print_list(against ? "only in the published:" : "only in the first:", json_object_get(st, "only_a"));
		print_list(against ? "only in the rebuilt:" : "only in the second:", json_object_get(st, "only_b"));
	}
	const char *dso = json_string_value(json_object_get(e, "diffoscope"));
	if (dso && !strcmp(dso, "not installed"))
		printf("  diffoscope: not installed (https://diffoscope.org; apt install diffoscope)\n");
	else if (dso)
		printf("  diffoscope report: %s\n", dso);
}

void verify_report_print(json_t *report)
{
	json_t *rows = json_object_get(report, "artifacts"), *r;
	size_t i, wt = 6, wa = 8;
	json_array_foreach(rows, i, r) {
		size_t t = strlen(json_string_value(json_object_get(r, "target")));
		size_t a = strlen(json_string_value(json_object_get(r, "artifact")));
		wt = t > wt ? t : wt;
		wa = a > wa ? a : wa;
	}
	printf("%-*s  %-*s  %-9s  %-25s  %s\n", (int)wt, "TARGET", (int)wa, "ARTIFACT", "IDENTICAL", "SHA256",
	       "EXPLANATION");
	json_array_foreach(rows, i, r) {
		json_t *dg = json_object_get(r, "sha256");
		const char *a = json_string_value(json_array_get(dg, 0)), *b = json_string_value(json_array_get(dg, 1));
		int same = json_is_true(json_object_get(r, "identical"));
		char digest[32];
		if (same)
			snprintf(digest, sizeof(digest), "%.12s", a);
		else
			snprintf(digest, sizeof(digest), "%.12s/%.12s", a ? a : "-", b ? b : "-");
		const char *s = json_string_value(json_object_get(r, "summary"));
		printf("%-*s  %-*s  %-9s  %-25s  %.100s\n", (int)wt, json_string_value(json_object_get(r, "target")),
		       (int)wa, json_string_value(json_object_get(r, "artifact")), same ? "yes" : "NO", digest,
		       s ? s : "");
	}
	json_array_foreach(rows, i, r)
		if (!json_is_true(json_object_get(r, "identical")))
			print_details(r, !json_is_null(json_object_get(report, "against")));
}

/* ---- sessions -------------------------------------------------------- */

static char *make_root(void)
{
	const char *tmp = getenv("TMPDIR");
	char *root = xasprintf("%s/xgo-verify-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root)) {
		error("cannot create a temporary directory '%s':", root);
		FREE_AND_NULL(root);
	}
	return root;
}

static json_t *new_report(unsigned vary, json_t *skipped)
{
	return json_pack("{s:i, s:b, s:o, s:o, s:[], s:n}", "schema", 1, "identical", 1, "variations",
			 verify_vary_json(vary), "skipped", skipped, "builds", "against");
}

static void add_build(json_t *report, const char *role, const char *dist, double seconds)
{
	jx_push(json_object_get(report, "builds"),
			      json_pack("{s:s, s:s, s:f}", "role", role, "dist", dist, "seconds", seconds));
}

/* Print the report; returns EXIT_OK or EXIT_MISMATCH. */
static int finish(json_t *report, json_t *rows, const struct verify_opts *vo, const char *root)
{
	size_t i, bad = 0;
	json_t *r;
	json_array_foreach(rows, i, r)
		bad += !json_is_true(json_object_get(r, "identical"));
	jx_set(report, "identical", json_boolean(bad == 0 && json_array_size(rows) > 0));
	/* "variations" lists what was applied: take the skipped ones out */
	json_t *applied = json_object_get(report, "variations"), *s;
	json_array_foreach(json_object_get(report, "skipped"), i, s)
		for (size_t k = json_array_size(applied); k-- > 0;)
			if (json_equal(json_array_get(applied, k), json_object_get(s, "variation")))
				json_array_remove(applied, k);
	jx_set(report, "artifacts", rows);
	if (vo->json) {
		events_context(NULL);
		events_emit("verify", json_incref(report));
	} else {
		json_array_foreach(json_object_get(report, "skipped"), i, s)
			note("variation '%s' skipped: %s", json_string_value(json_object_get(s, "variation")),
			     json_string_value(json_object_get(s, "why")));
		verify_report_print(report);
	}
	int keep = vo->keep || vo->diffoscope;
	if (keep)
		note("the builds compared are kept in %s", root);
	else
		remove_tree(root);
	if (json_array_size(rows) == 0)
		return error("nothing was compared: no artifacts"), EXIT_MISMATCH;
	if (bad && !json_is_null(json_object_get(report, "against")))
		error("%zu of %zu artifacts differ from the published release '%s'", bad, json_array_size(rows),
		      json_string_value(json_object_get(report, "against")));
	else if (bad)
		error("%zu of %zu artifacts differ: the build is not reproducible", bad, json_array_size(rows));
	else if (!vo->json)
		note("all %zu artifacts are identical", json_array_size(rows));
	return bad ? EXIT_MISMATCH : EXIT_OK;
}

int verify_run(const struct pipeline_opts *po, const struct verify_opts *vo)
{
	char *root = make_root();
	if (!root)
		return EXIT_JOB;
	json_t *skipped = json_array(), *report = new_report(vo->vary, skipped);
	char *a_root = xasprintf("%s/a", root), *b_root = xasprintf("%s/b", root);
	char *a_dist = NULL;
	if (!vo->after_run)
		a_dist = xasprintf("%s/dist", a_root);
	else if (po->dist)
		a_dist = xstrdup(po->dist);
	else {
		char *dir = dir_of(po->file ? po->file : "release.lua");
		a_dist = xasprintf("%s/dist", dir ? dir : ".");
		free(dir);
	}
	char *b_dist = xasprintf("%s/dist", b_root), *dso = NULL;
	double ta = vo->first_seconds, tb = 0;
	int rc = EXIT_OK;
	if (!vo->after_run) {
		note("verify: first build, under the usual conditions");
		if ((rc = verify_build(po, 0, a_root, a_dist, skipped, &ta)) != EXIT_OK)
			goto fail;
	}
	note("verify: rebuild with variations");
	if ((rc = verify_build(po, vo->vary, b_root, b_dist, skipped, &tb)) != EXIT_OK)
		goto fail;
	add_build(report, "first", a_dist, ta);
	add_build(report, "rebuild", b_dist, tb);
	if (vo->diffoscope) {
		dso = xasprintf("%s/diffoscope", root);
		mkdir_p(dso, 0755);
	}
	json_t *rows = verify_compare_dirs(a_dist, b_dist, dso);
	if (vo->after_run && !vo->json)
		note("cost: run %.1fs, verifying rebuild %.1fs (%.2fx the run; total %.2fx)", ta, tb,
		     ta > 0 ? tb / ta : 0, ta > 0 ? (ta + tb) / ta : 0);
	rc = finish(report, rows, vo, root);
	goto out;
fail:
	error("verify: a build failed (exit %d); nothing compared%s%s", rc, vo->keep ? ": kept " : "",
	      vo->keep ? root : "");
	if (!vo->keep)
		remove_tree(root);
out:
	json_decref(report);
	free(root);
	free(a_root);
	free(b_root);
	free(a_dist);
	free(b_dist);
	free(dso);
	return rc;
}

/* ---- --against --------------------------------------------------------- */

/* "digest  name" lines (sha256sum, also "digest *name"). */
static int parse_sums(const char *text, json_t *expected, const char *what)
{
	const char *p = text;
	int lineno = 0;
	while (*p) {
		size_t len = strcspn(p, "\n");
		lineno++;
		if (len >= 67 && (p[64] == ' ') && (p[65] == ' ' || p[65] == '*')) {
			char hex[65], *name = xstrndup(p + 66, len - 66);
			memcpy(hex, p, 64);
			hex[64] = '\0';
			/* the insert fails for a name that is not UTF-8: an untrusted file's line */
			if (!lock_is_hex64(hex) || !path_components_ok(name) ||
			    json_object_set_new(expected, name, json_string(hex)) < 0) {
				free(name);
				return error("'%s' line %d: not a sha256 checksum line", what, lineno);
			}
			free(name);
		} else if (len > 0) {
			return error("'%s' line %d: not a sha256 checksum line", what, lineno);
		}
		p += len + (p[len] == '\n');
	}
	return json_object_size(expected) ? 0 : error("'%s' lists no artifacts", what);
}

static int manifest_expected(const struct manifest *m, json_t *expected, const char *what)
{
	for (size_t i = 0; i < m->njobs; i++)
		if (m->jobs[i].f.sha256) /* a job that failed wrote nothing */
			jx_set(expected, m->jobs[i].f.name, json_string(m->jobs[i].f.sha256));
	for (size_t i = 0; i < m->narchives; i++)
		if (m->archives[i].sha256)
			jx_set(expected, m->archives[i].name, json_string(m->archives[i].sha256));
	return json_object_size(expected) ? 0 : error("'%s' records no artifacts", what);
}

int verify_parse_record(const char *what, const char *text, size_t len, json_t *expected, struct manifest *m)
{
	memset(m, 0, sizeof(*m));
	if (!len || text[strspn(text, " \t\r\n")] != '{')
		return parse_sums(text, expected, what);
	char *quoted = xasprintf("'%s'", what);
	int rc = manifest_parse(m, quoted, text, len);
	free(quoted);
	if (rc == 0 && (rc = manifest_expected(m, expected, what)) < 0)
		manifest_release(m);
	return rc;
}

/* The published manifest's SDK must be the one release.lock pins. */
static int check_sdk(const struct manifest *m, const char *file, const char *what)
{
	const char *ver = m->sdk_version, *plat = m->sdk_platform, *tree = m->sdk_tree_digest;
	char *dir = dir_of(file), *lockp = dir ? xasprintf("%s/release.lock", dir) : NULL;
	struct lock l = { 0 };
	int rc = -1;
	if (!lockp || lock_read(lockp, &l) != 0) {
		error("cannot check the SDK of '%s' without '%s'", what, lockp ? lockp : file);
		goto out;
	}
	if (!ver || strcmp(ver, l.go)) {
		error("'%s' was built with Go %s but '%s' pins Go %s: check out the source of that release",
		      what, ver ? ver : "(unknown)", lockp, l.go);
		goto out;
	}
	struct lock_platform *p = plat ? lock_find(&l, plat) : NULL;
	if (p && p->tree_digest[0] && tree && tree[0] && strcmp(p->tree_digest, tree)) {
		error("'%s' was built with an SDK of tree digest %.16s... but '%s' pins %.16s... for %s", what,
		      tree, lockp, p->tree_digest, plat);
		goto out;
	}
	rc = 0;
out:
	lock_clear(&l);
	free(dir);
	free(lockp);
	return rc;
}

static int is_url(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8) || !strncmp(s, "file://", 7);
}

/* With the published files at hand, what counts is what they are, not
 * what their record says: a tampered file must not hide behind its
 * record.  The checksum file is an artifact too. */
/* 0 when the published dir/name is missing or a regular file inside dir
 * after every symlink: a published directory is untrusted, and a link out
 * of it would put another file's digest and bytes in the report. */
static int published_ok(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name), *what = xasprintf("published '%s': file", dir), *real = NULL;
	struct stat st;
	int rc = 0;
	if (lstat(p, &st) == 0 && path_inside(what, dir, name, &real) < 0)
		rc = -1;
	else if (real && (stat(real, &st) < 0 || !S_ISREG(st.st_mode)))
		rc = error("published '%s' is not a regular file", p);
	free(real);
	free(what);
	free(p);
	return rc;
}

static int use_published_files(const char *dir, json_t *expected)
{
	const char *name;
	json_t *v;
	char hex[65];
	json_int_t sz;
	json_object_foreach(expected, name, v) {
		if (published_ok(dir, name) < 0)
			return -1;
		if (file_digest(dir, name, hex, &sz) < 0)
			continue;
		if (strcmp(hex, json_string_value(v)))
			warn("published '%s/%s' does not match its own record (sha256 %.12s..., recorded %.12s...)",
			     dir, name, hex, json_string_value(v));
		json_string_set(v, hex);
	}
	if (published_ok(dir, "SHA256SUMS") < 0)
		return -1;
	if (file_digest(dir, "SHA256SUMS", hex, &sz) == 0)
		jx_set(expected, "SHA256SUMS", json_string(hex));
	return 0;
}

/* Read the published record into expected; *pub_dir gets the directory
 * of published files when there is one.  Returns 0, -1 for a record that
 * cannot be read, -2 for a manifest of another SDK. */
/* The "partial" record of a published manifest (run --target/--build,
 * plan.h) into sel: the rebuild selects the same part of the matrix.
 * Strings point into rec, which the caller keeps.  -1 after error() when
 * the record is malformed. */
static int partial_select(const char *src, json_t *rec, struct plan_select *sel)
{
	static const char *const keys[] = { "targets", "builds" };
	const char **v[] = { sel->targets, sel->builds };
	size_t *n[] = { &sel->ntargets, &sel->nbuilds };
	for (size_t k = 0; k < 2; k++) {
		json_t *a = json_object_get(rec, keys[k]);
		if (!json_is_array(a) || json_array_size(a) > PLAN_SELECT_MAX)
			return error("%s: its manifest's partial.%s is not a list of at most %d names", src, keys[k],
				     PLAN_SELECT_MAX);
		for (size_t i = 0; i < json_array_size(a); i++) {
			const char *name = json_string_value(json_array_get(a, i));
			if (!name || !*name)
				return error("%s: its manifest's partial.%s[%zu] is not a name", src, keys[k], i);
			v[k][(*n[k])++] = name;
		}
	}
	return 0;
}

static int load_published(const char *src, const char *file, json_t *expected, char **pub_dir,
			  json_t **partial)
{
	char *text = NULL;
	size_t len = 0;
	struct stat st;
	int rc = -1;
	if (is_url(src)) {
		long status = 0;
		if (dl_fetch(src, VERIFY_MAX_RECORD, &text, &len, &status) < 0)
			return -1;
	} else if (stat(src, &st) == 0 && S_ISDIR(st.st_mode)) {
		char *m = xasprintf("%s/manifest.json", src), *s = xasprintf("%s/SHA256SUMS", src);
		const char *use = access(m, F_OK) == 0 ? m : s;
		if (published_ok(src, use == m ? "manifest.json" : "SHA256SUMS") == 0)
			text = read_file(use, VERIFY_MAX_RECORD, &len);
		*pub_dir = xstrdup(src);
		free(m);
		free(s);
	} else {
		text = read_file(src, VERIFY_MAX_RECORD, &len);
	}
	if (!text)
		return -1;
	struct manifest m;
	rc = verify_parse_record(src, text, len, expected, &m);
	if (rc == 0 && m.doc)
		rc = check_sdk(&m, file, src) == 0 ? 0 : -2;
	if (rc == 0 && m.partial)
		*partial = json_incref(m.partial);
	manifest_release(&m);
	if (rc == 0 && *pub_dir && use_published_files(*pub_dir, expected) < 0)
		rc = -1;
	free(text);
	return rc;
}

int verify_against(const struct pipeline_opts *po, const struct verify_opts *vo, const char *src)
{
	const char *file = po->file ? po->file : "release.lua";
	json_t *expected = json_object();
	char *pub_dir = NULL, *root = NULL, *dist = NULL;
	json_t *partial = NULL;
	struct pipeline_opts o = *po;
	int rc;
	int loaded = load_published(src, file, expected, &pub_dir, &partial);
	if (loaded < 0) {
		rc = loaded == -2 ? EXIT_TOOLCHAIN : EXIT_USAGE;
		goto out;
	}
	if (partial && partial_select(src, partial, &o.select) < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (partial)
		note("verify: '%s' is a partial release: the rebuild builds the same part", src);
	if (!(root = make_root())) {
		rc = EXIT_JOB;
		goto out;
	}
	json_t *skipped = json_array(), *report = new_report(0, skipped);
	jx_set(report, "against", json_string(src));
	dist = xasprintf("%s/dist", root);
	double t = 0;
	note("verify: rebuilding from source to compare with '%s'", src);
	rc = verify_build(&o, 0, root, dist, skipped, &t);
	if (rc == EXIT_OK) {
		char *dso = vo->diffoscope ? xasprintf("%s/diffoscope", root) : NULL;
		if (dso)
			mkdir_p(dso, 0755);
		add_build(report, "rebuild", dist, t);
		json_t *rows = verify_compare_expected(expected, dist, pub_dir, dso);
		rc = finish(report, rows, vo, root);
		free(dso);
	} else {
		error("verify: the rebuild failed (exit %d)", rc);
		remove_tree(root);
	}
	json_decref(report);
out:
	json_decref(expected);
	json_decref(partial);
	free(pub_dir);
	free(root);
	free(dist);
	return rc;
}
