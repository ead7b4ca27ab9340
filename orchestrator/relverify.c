/* relverify.c - verify-release (relverify.h). */
#define _GNU_SOURCE
#include "relverify.h"
#include "checksums.h"
#include "base/hash.h"
#include "manifest.h"
#include "base/path.h"
#include "relfetch.h"
#include "relsource.h"
#include "sign.h"
#include "base/util.h"
#include "verify.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STATEMENT_TYPE "https://in-toto.io/Statement/v1"

struct rv {
	const char *dir;
	struct sign_key key;
	struct manifest manifest; /* .doc NULL when DIR has none */
	struct strv verified; /* the .minisig names checked */
	json_t *statement;    /* the provenance, once read; NULL before */
	int failed;
	int rebuild_rc;       /* a rebuild that failed: verify's exit code */
};

/* The real path of a name read from the release, kept inside dir; NULL
 * after error(). */
static char *in_dir(const struct rv *v, const char *what, const char *name)
{
	char *real = NULL;
	if (path_check_name(what, name) < 0 || path_inside(what, v->dir, name, &real) < 0)
		return NULL;
	return real;
}

static int fail(struct rv *v)
{
	v->failed = 1;
	return -1;
}

/* Verify NAME.minisig against NAME, once. */
static int check_minisig(struct rv *v, const char *name)
{
	char *sig = xasprintf("%s.minisig", name);
	if (strv_contains(&v->verified, sig)) {
		free(sig);
		return 0;
	}
	strv_push(&v->verified, sig);
	char *file = in_dir(v, "signed file", name), *sigp = file ? in_dir(v, "signature", sig) : NULL;
	struct stat st;
	int rc = -1;
	if (sigp && lstat(sigp, &st) < 0)
		error("'%s/%s' is missing: '%s' is not signed", v->dir, sig, name);
	else if (sigp && sign_verify_file(&v->key, file, sigp) == 0)
		rc = 0;
	if (rc == 0)
		note("ok: %s verifies %s", sig, name);
	free(sig);
	free(file);
	free(sigp);
	return rc < 0 ? fail(v) : 0;
}

/* The checksum file's name and algorithm: the manifest's, else SHA256SUMS. */
static const char *sums_name(const struct rv *v, enum hash_algo *algo)
{
	const char *file = v->manifest.checksums.file, *alg = v->manifest.checksums.algorithm;
	*algo = HASH_SHA256;
	if (file)
		hash_algo_parse(alg, algo);
	return file ? file : "SHA256SUMS";
}

/* One file's digest against the one recorded for it. */
static int check_digest(struct rv *v, const char *list, const char *name, enum hash_algo algo, const char *want)
{
	char hex[HASH_HEX_MAX];
	char *path = in_dir(v, list, name);
	int rc = path ? hash_file_hex(algo, path, hex, NULL) : -1;
	if (rc == 0 && strcmp(hex, want))
		rc = error("'%s/%s' does not match %s: its %s is %s, the list says %s", v->dir, name, list,
			   hash_algo_name(algo), hex, want);
	free(path);
	return rc < 0 ? fail(v) : 0;
}

static void check_sums(struct rv *v)
{
	enum hash_algo algo;
	const char *name = sums_name(v, &algo);
	if (check_minisig(v, name) < 0)
		return;
	char *path = in_dir(v, "checksum file", name);
	struct sums s;
	sums_init(&s, algo);
	if (!path || sums_read(path, algo, &s) < 0) {
		fail(v);
	} else {
		size_t bad = 0;
		for (size_t i = 0; i < s.n; i++)
			bad += check_digest(v, name, s.v[i].name, algo, s.v[i].hex) < 0;
		if (!bad)
			note("ok: the %zu file%s %s lists have those digests", s.n, s.n == 1 ? "" : "s", name);
	}
	sums_release(&s);
	free(path);
}

/* Every other *.minisig at the top of DIR (the archives' signatures). */
static void check_other_sigs(struct rv *v)
{
	DIR *d = opendir(v->dir);
	struct dirent *e;
	struct strv names = { 0 };
	if (!d) {
		error("cannot read '%s':", v->dir);
		fail(v);
		return;
	}
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n > 8 && !strcmp(e->d_name + n - 8, ".minisig"))
			strv_push_owned(&names, xstrndup(e->d_name, n - 8));
	}
	closedir(d);
	for (size_t i = 0; i < names.n; i++)
		check_minisig(v, names.v[i]);
	strv_release(&names);
}

/* Every signature the manifest lists must be there (and was checked). */
static void check_listed(struct rv *v)
{
	for (size_t i = 0; i < v->manifest.nsigs; i++) {
		const struct manifest_sig *s = &v->manifest.sigs[i];
		if (!strcmp(s->format, "minisign")) {
			check_minisig(v, s->signs);
		} else if (!strcmp(s->format, "dsse") && strcmp(s->file, RELVERIFY_ENVELOPE)) {
			error("'%s/manifest.json' lists the envelope '%s', not %s", v->dir, s->file,
			      RELVERIFY_ENVELOPE);
			fail(v);
		}
	}
}

/* The statement's subjects against the files they name. */
static int check_subjects(struct rv *v, const char *payload, size_t len)
{
	json_error_t je;
	json_t *st = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &je);
	json_t *subjects = json_object_get(st, "subject");
	const char *type = json_string_value(json_object_get(st, "_type"));
	int rc = 0;
	if (!type || strcmp(type, STATEMENT_TYPE) || !json_is_array(subjects) || !json_array_size(subjects)) {
		rc = error("'%s/%s': the payload is not an in-toto Statement v1 with subjects", v->dir,
			   RELVERIFY_ENVELOPE);
		goto out;
	}
	size_t i;
	json_t *s;
	json_array_foreach(subjects, i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		const char *want = json_string_value(json_object_get(json_object_get(s, "digest"), "sha256"));
		if (!name || !hash_is_sha256_hex(want)) {
			rc = error("'%s/%s': subject %zu lacks a name or a sha256 digest", v->dir, RELVERIFY_ENVELOPE, i);
			continue;
		}
		if (check_digest(v, "the provenance subjects", name, HASH_SHA256, want) < 0)
			rc = -1;
	}
	if (rc == 0)
		note("ok: the %zu provenance subjects have those sha256 digests", json_array_size(subjects));
out:
	if (rc == 0)
		v->statement = st; /* what the checkout is checked against */
	else
		json_decref(st);
	return rc;
}

static void check_provenance(struct rv *v)
{
	char *env = xasprintf("%s/%s", v->dir, RELVERIFY_ENVELOPE), *prov = xasprintf("%s/%s", v->dir, RELVERIFY_PROVENANCE);
	char *text = NULL, *payload = NULL, *published = NULL;
	size_t len, plen, publen;
	struct stat st;
	if (lstat(env, &st) < 0) {
		if (lstat(prov, &st) == 0) {
			note("note: %s is not signed (no %s)", RELVERIFY_PROVENANCE, RELVERIFY_ENVELOPE);
			if (!(published = read_file(prov, SIGN_DSSE_MAX, &publen)) ||
			    check_subjects(v, published, publen) < 0)
				fail(v);
		}
		goto out;
	}
	if (!(text = read_file(env, SIGN_DSSE_MAX, &len)) || strlen(text) != len ||
	    sign_verify_dsse(&v->key, env, text, &payload, &plen) < 0) {
		if (text && strlen(text) != len)
			error("'%s' holds a NUL byte: not a JSON line", env);
		fail(v);
		goto out;
	}
	note("ok: %s is signed by the key", RELVERIFY_ENVELOPE);
	if (lstat(prov, &st) == 0) {
		if (!(published = read_file(prov, SIGN_DSSE_MAX, &publen))) {
			fail(v);
		} else if (publen != plen || memcmp(published, payload, plen)) {
			error("'%s' is not the statement %s signs: one of them was changed", prov, RELVERIFY_ENVELOPE);
			fail(v);
		} else {
			note("ok: %s is the signed statement", RELVERIFY_PROVENANCE);
		}
	}
	if (check_subjects(v, payload, plen) < 0)
		fail(v);
out:
	free(text);
	free(payload);
	free(published);
	free(env);
	free(prov);
}

/* The checkout against the provenance, then the rebuild. */
static void check_source(struct rv *v, const struct relverify_opts *o)
{
	if (!v->statement) {
		error("'%s' has no provenance that verifies (%s) to check the checkout '%s' against", v->dir,
		      RELVERIFY_PROVENANCE, o->source);
		fail(v);
		return;
	}
	note("checking the checkout '%s' against the provenance", o->source);
	if (relsource_check(v->statement, o->source, v->dir) < 0) {
		fail(v);
		return;
	}
	if (!o->rebuild)
		return;
	if (v->failed) {
		note("note: not rebuilding: the release did not verify");
		return;
	}
	char *file = xasprintf("%s/release.lua", o->source);
	struct pipeline_opts po = { .file = file, .offline = o->offline, .mirror = o->mirror };
	struct verify_opts vo = { 0 };
	int rc = verify_against(&po, &vo, v->dir);
	if (rc == EXIT_OK)
		note("ok: a rebuild of '%s' is identical to %s", o->source, v->dir);
	else if (rc == EXIT_MISMATCH)
		fail(v); /* verify said what differs */
	else
		v->rebuild_rc = rc; /* and why it failed */
	free(file);
}

static int verify_dir(const struct relverify_opts *o, const char *dir)
{
	struct rv v = { .dir = dir };
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return error("'%s' is not a release directory", dir), EXIT_USAGE;
	if (o->source && (stat(o->source, &st) < 0 || !S_ISDIR(st.st_mode)))
		return error("--source '%s' is not a directory (the checkout the release was built from)", o->source),
		       EXIT_USAGE;
	if (sign_load_public(o->key, &v.key) < 0)
		return EXIT_USAGE;
	char *manifest = xasprintf("%s/manifest.json", dir);
	if (lstat(manifest, &st) == 0 && manifest_load_dir(&v.manifest, dir) < 0)
		v.failed = 1;
	free(manifest);
	char hex[17];
	sign_keyid_hex(&v.key, hex);
	note("verifying %s with key %s", dir, hex);
	check_sums(&v);
	check_other_sigs(&v);
	check_listed(&v);
	check_provenance(&v);
	if (o->source)
		check_source(&v, o);
	int rc = v.failed ? EXIT_MISMATCH : v.rebuild_rc ? v.rebuild_rc : EXIT_OK;
	if (rc != EXIT_OK)
		error("%s does not verify (see above)", dir);
	else if (!o->source)
		note("%s: every signature, digest and subject verifies; give --source to check it against the checkout "
		     "and rebuild", dir);
	else
		note("%s: verified%s", dir, o->rebuild ? ", and rebuilt bit for bit from the checkout" :
			 " against the checkout (not rebuilt: --no-rebuild)");
	manifest_release(&v.manifest);
	json_decref(v.statement);
	strv_release(&v.verified);
	sign_key_release(&v.key);
	return rc;
}

int relverify_run(const struct relverify_opts *o)
{
	char *dir = NULL;
	if (!relfetch_is_url(o->release))
		return verify_dir(o, o->release);
	if (relfetch(o->release, &dir) < 0)
		return EXIT_USAGE;
	int rc = verify_dir(o, dir);
	remove_tree(dir);
	free(dir);
	return rc;
}
