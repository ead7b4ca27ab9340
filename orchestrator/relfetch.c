/* relfetch.c - fetch a published release for verify-release (relfetch.h). */
#define _GNU_SOURCE
#include "relfetch.h"
#include "checksums.h"
#include "manifest.h"
#include "base/path.h"
#include "relverify.h"
#include "sign.h"
#include "base/util.h"
#include "toolchains/download.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fetch {
	char *base; /* without a trailing '/' */
	char *dir;
	struct strv got; /* the names fetched */
};

int relfetch_is_url(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

/* base/name, every byte of name but [A-Za-z0-9._~/-] percent-encoded. */
static char *url_of(const struct fetch *f, const char *name)
{
	struct buf b;
	buf_init(&b, strlen(f->base) + 3 * strlen(name) + 2);
	buf_printf(&b, "%s/", f->base);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("._~/-", *p))
			buf_printf(&b, "%c", *p);
		else
			buf_printf(&b, "%%%02X", *p);
	}
	return buf_detach(&b);
}

/* Where name goes in the directory, its parents made; NULL after error(). */
static char *dest_of(struct fetch *f, const char *name)
{
	char *dest = NULL;
	if (path_check_name("a name in the release", name) < 0 ||
	    path_inside("a name in the release", f->dir, name, &dest) < 0)
		return NULL;
	char *slash = strrchr(dest, '/');
	*slash = '\0';
	int rc = mkdir_p(dest, 0700);
	*slash = '/';
	if (rc < 0)
		FREE_AND_NULL(dest);
	return dest;
}

/* A small record file (into memory, at most max bytes): 1 fetched, 0
 * absent (404) when optional, -1 after error(). */
static int fetch_record(struct fetch *f, const char *name, size_t max, int optional)
{
	if (strv_contains(&f->got, name))
		return 1;
	char *dest = dest_of(f, name), *url = dest ? url_of(f, name) : NULL, *data = NULL;
	size_t len = 0;
	long status = 0;
	int rc = -1;
	if (dest) {
		int saved = error_quiet(1); /* a 404 of an optional file is no error */
		rc = dl_fetch(url, max, &data, &len, &status) == 0 ? 1 : -1;
		error_quiet(saved);
		if (rc < 0 && optional && status == 404) {
			rc = 0;
		} else if (rc < 0) {
			char why[1024];
			snprintf(why, sizeof(why), "%s", error_last());
			error("%s", why);
		} else if (write_file_atomic(dest, data, len, 0600) < 0) {
			rc = -1;
		}
	}
	if (rc == 1)
		strv_push(&f->got, name);
	free(data);
	free(url);
	free(dest);
	return rc;
}

/* A published file, streamed to disk (at most RELFETCH_MAX_FILE bytes).
 * One that cannot be fetched is left out with a warning: verifying then
 * names it as missing (exit 3).  -1 only for a name that is refused. */
static int fetch_file(struct fetch *f, const char *name)
{
	if (strv_contains(&f->got, name))
		return 0;
	char *dest = dest_of(f, name), *url = dest ? url_of(f, name) : NULL;
	struct dl_expect exp = { .max_size = RELFETCH_MAX_FILE };
	int rc = dest ? 0 : -1;
	if (dest) {
		int saved = error_quiet(1);
		int got = dl_file(url, dest, &exp, NULL);
		error_quiet(saved);
		if (got == 0) {
			strv_push(&f->got, name);
		} else {
			char why[1024];
			snprintf(why, sizeof(why), "%s", error_last());
			warn("%s", why);
		}
	}
	free(url);
	free(dest);
	return rc;
}

/* Every file the checksum file lists. */
static int fetch_listed(struct fetch *f, const char *sums_name, enum hash_algo algo)
{
	char *path = xasprintf("%s/%s", f->dir, sums_name);
	struct sums s;
	sums_init(&s, algo);
	int rc = sums_read(path, algo, &s);
	for (size_t i = 0; i < s.n && rc == 0; i++)
		rc = fetch_file(f, s.v[i].name);
	sums_release(&s);
	free(path);
	return rc;
}

/* Every subject of provenance.json, when it was published. */
static int fetch_subjects(struct fetch *f)
{
	char *path = xasprintf("%s/%s", f->dir, RELVERIFY_PROVENANCE), *text = NULL;
	size_t len, i;
	json_t *st = NULL, *s;
	int rc = 0;
	if (strv_contains(&f->got, RELVERIFY_PROVENANCE) && (text = read_file(path, SIGN_DSSE_MAX, &len)))
		st = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	json_array_foreach(json_object_get(st, "subject"), i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		if (name && rc == 0)
			rc = fetch_file(f, name);
	}
	json_decref(st);
	free(text);
	free(path);
	return rc;
}

/* Every signature manifest.json lists (absent ones: verify names them). */
static int fetch_signatures(struct fetch *f, const struct manifest *m)
{
	int rc = 0;
	for (size_t i = 0; i < m->nsigs && rc == 0; i++)
		rc = fetch_record(f, m->sigs[i].file, SIGN_DSSE_MAX, 1) < 0 ? -1 : 0;
	return rc;
}

static int fetch_all(struct fetch *f)
{
	struct manifest manifest = { 0 };
	int got = fetch_record(f, "manifest.json", MANIFEST_MAX_BYTES, 1);
	if (got < 0 || (got == 1 && manifest_load_dir(&manifest, f->dir) < 0))
		return -1;
	const char *sums = manifest.checksums.file;
	enum hash_algo algo = HASH_SHA256;
	if (sums)
		hash_algo_parse(manifest.checksums.algorithm, &algo);
	char *sig = xasprintf("%s.minisig", sums ? sums : "SHA256SUMS");
	int rc = -1;
	got = fetch_record(f, sums ? sums : "SHA256SUMS", SUMS_MAX_BYTES, 1);
	if (got == 0)
		error("'%s' has no %s: not the address of a release (give the directory that holds it)", f->base,
		      sums ? sums : "SHA256SUMS");
	else if (got == 1 && fetch_record(f, sig, SIGN_DSSE_MAX, 1) >= 0 &&
		 fetch_record(f, RELVERIFY_PROVENANCE, SIGN_DSSE_MAX, 1) >= 0 &&
		 fetch_record(f, RELVERIFY_ENVELOPE, SIGN_DSSE_MAX, 1) >= 0 &&
		 fetch_listed(f, sums ? sums : "SHA256SUMS", algo) == 0 && fetch_subjects(f) == 0 &&
		 fetch_signatures(f, &manifest) == 0)
		rc = 0;
	free(sig);
	manifest_release(&manifest);
	return rc;
}

int relfetch(const char *url, char **dir)
{
	const char *tmp = getenv("TMPDIR");
	struct fetch f = { .base = xstrdup(url) };
	size_t n = strlen(f.base);
	while (n > 0 && f.base[n - 1] == '/')
		f.base[--n] = '\0';
	f.dir = xasprintf("%s/xgo-release-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int rc = -1;
	if (!mkdtemp(f.dir))
		error("cannot create a temporary directory '%s':", f.dir);
	else if ((rc = fetch_all(&f)) < 0)
		remove_tree(f.dir);
	else
		note("fetched %zu files of %s into %s", f.got.n, url, f.dir);
	if (rc == 0)
		*dir = f.dir;
	else
		free(f.dir);
	free(f.base);
	strv_release(&f.got);
	return rc;
}
