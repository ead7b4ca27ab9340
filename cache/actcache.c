#define _GNU_SOURCE
#include "actcache.h"
#include "acsign.h"
#include "base/binfmt.h"
#include "base/hash.h"
#include "base/jsonx.h"
#include "lua/release.h"
#include "remote.h"
#include "base/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define ENTRY_MAX 4096
#define ENTRY_VERSION 2
#define REMOTE_MAX_DEFAULT (512ULL << 20)
#define PATH_MAX_MSG 1100
#define DISK_RESERVE (256ULL << 20) /* a download never leaves less free */

struct actcache {
	char *ac, *cas, *tmp;
	struct remote *remote;
	struct acsign keys;
	uint64_t remote_max;
	atomic_uint local_hits, remote_hits, stored, seq;
	atomic_int warned_unsigned;
};

struct actcache *actcache_open(const char *cache_root, struct remote *remote)
{
	struct actcache *c = xcalloc(1, sizeof(*c));
	c->ac = xasprintf("%s/actions/ac", cache_root);
	c->cas = xasprintf("%s/actions/cas", cache_root);
	c->tmp = xasprintf("%s/actions/tmp", cache_root);
	c->remote = remote;
	c->remote_max = REMOTE_MAX_DEFAULT;
	if (mkdir_p(c->ac, 0755) < 0 || mkdir_p(c->cas, 0755) < 0 || mkdir_p(c->tmp, 0755) < 0) {
		actcache_close(c);
		return NULL;
	}
	return c;
}

void actcache_close(struct actcache *c)
{
	if (!c)
		return;
	remote_close(c->remote);
	acsign_release(&c->keys);
	free(c->ac);
	free(c->cas);
	free(c->tmp);
	free(c);
}

struct remote *actcache_remote(const struct actcache *c)
{
	return c->remote;
}

const struct acsign *actcache_keys(const struct actcache *c)
{
	return &c->keys;
}

uint64_t actcache_remote_max(const struct actcache *c)
{
	return c->remote_max;
}

void actcache_stats(const struct actcache *c, unsigned *local_hits, unsigned *remote_hits, unsigned *stored)
{
	*local_hits = atomic_load(&c->local_hits);
	*remote_hits = atomic_load(&c->remote_hits);
	*stored = atomic_load(&c->stored);
}

/* ---- configuration ---- */

static int parse_bytes(const char *what, const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*s < '0' || *s > '9' || *end || errno || v == 0 || v > (UINT64_MAX >> shift))
		return error("%s wants a positive number of bytes, or one with K, M or G, not '%s'", what, s);
	*out = (uint64_t)v << shift;
	return 0;
}

/* XGO_REMOTE_CACHE_TRUSTED_KEYS: PEM text, or keys and paths split at ':'. */
static int trust_env(struct actcache *c, const char *value)
{
	const char *what = "XGO_REMOTE_CACHE_TRUSTED_KEYS";
	if (strstr(value, "-----BEGIN"))
		return acsign_add_trusted(&c->keys, what, value, NULL);
	char *copy = xstrdup(value), *save = NULL;
	int rc = 0;
	for (char *t = strtok_r(copy, ":", &save); t && rc == 0; t = strtok_r(NULL, ":", &save))
		rc = acsign_add_trusted(&c->keys, what, t, NULL);
	free(copy);
	return rc;
}

int actcache_configure(struct actcache *c, const struct release *r, const char *project_dir)
{
	const struct cache_decl *decl = &r->cache;
	const char *key_env = decl->signing_key_env ? decl->signing_key_env : "XGO_REMOTE_CACHE_SIGNING_KEY";
	const char *key = getenv(key_env), *trusted = getenv("XGO_REMOTE_CACHE_TRUSTED_KEYS");
	const char *max = getenv("XGO_REMOTE_CACHE_MAX_BYTES");
	if (key && *key && acsign_set_signer(&c->keys, key_env, key) < 0)
		return -1;
	if (trusted && *trusted && trust_env(c, trusted) < 0)
		return -1;
	for (size_t i = 0; i < decl->trusted_keys.n; i++) {
		char what[PATH_MAX_MSG];
		snprintf(what, sizeof(what), "%s:%d: cache: trusted_keys", r->path, decl->line);
		if (acsign_add_trusted(&c->keys, what, decl->trusted_keys.v[i], project_dir) < 0)
			return -1;
	}
	if (max && *max && parse_bytes("XGO_REMOTE_CACHE_MAX_BYTES", max, &c->remote_max) < 0)
		return -1;
	return 0;
}

/* ---- entries ---- */

/* A content is present when a regular file holds it: anything else in
 * its place (a symlink, a FIFO) is replaced by the next store. */
static int blob_present(const char *blob)
{
	struct stat st;
	return lstat(blob, &st) == 0 && S_ISREG(st.st_mode);
}

/* A private temporary file name in the cache (same file system). */
static char *tmp_name(struct actcache *c)
{
	return xasprintf("%s/%ld-%u", c->tmp, (long)getpid(), atomic_fetch_add(&c->seq, 1));
}

/* An entry as read: its JSON (owned) and what it says (borrowed from it). */
struct doc {
	json_t *o;
	struct ac_entry e;
	const char *key, *build, *target, *output, *sig;
};

static int doc_parse(const char *text, size_t len, struct doc *d)
{
	memset(d, 0, sizeof(*d));
	d->o = json_loadb(text, len, 0, NULL);
	const char *sha = json_string_value(json_object_get(d->o, "sha256"));
	json_t *size = json_object_get(d->o, "size");
	if (!hash_is_sha256_hex(sha) || !json_is_integer(size) || json_integer_value(size) < 0) {
		json_decref(d->o);
		d->o = NULL;
		return -1;
	}
	memcpy(d->e.sha256, sha, 65);
	d->e.size = (uint64_t)json_integer_value(size);
	d->e.wall = json_number_value(json_object_get(d->o, "wall_s"));
	d->e.cpu = json_number_value(json_object_get(d->o, "cpu_s"));
	if (json_integer_value(json_object_get(d->o, "v")) == ENTRY_VERSION) {
		d->key = json_string_value(json_object_get(d->o, "key"));
		d->build = json_string_value(json_object_get(d->o, "build"));
		d->target = json_string_value(json_object_get(d->o, "target"));
		d->output = json_string_value(json_object_get(d->o, "output"));
	}
	d->sig = json_string_value(json_object_get(d->o, "sig"));
	return 0;
}

static int same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* 1: d is the entry of key for f; 0: an older layout (a quiet miss);
 * -1: it names something else. */
static int doc_is_for(const struct doc *d, const char *key, const struct ac_for *f)
{
	if (!d->key || !d->build || !d->target || !d->output)
		return 0;
	return same(d->key, key) && same(d->build, f->build) && same(d->target, f->target) &&
			       same(d->output, f->output)
		       ? 1
		       : -1;
}

/* What an entry names, for a warning: "b windows/amd64 (b_windows_amd64.exe)". */
static void describe(char *out, size_t size, const char *build, const char *target, const char *output)
{
	if (*build || *target)
		snprintf(out, size, "%s %s (%s)", build, target, output);
	else
		snprintf(out, size, "archive %s", output);
}

/* The signed bytes: every field NUL-terminated, in this order. */
static void canonical(struct buf *b, const char *key, const struct ac_for *f, const struct ac_entry *e)
{
	buf_init(b, ENTRY_MAX * 2);
	buf_printf(b, "xgo-build cache entry v%d", ENTRY_VERSION);
	const char *fields[] = { key, f->build, f->target, f->output, e->sha256 };
	for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
		buf_append(b, "", 1);
		buf_puts(b, fields[i]);
	}
	buf_append(b, "", 1);
	buf_printf(b, "%" PRIu64, e->size);
	buf_append(b, "", 1);
}

static int signed_well(const struct actcache *c, const char *key, const struct ac_for *f, const struct doc *d)
{
	struct buf b;
	canonical(&b, key, f, &d->e);
	int ok = acsign_verify(&c->keys, b.data, b.len, d->sig);
	buf_release(&b);
	return ok;
}

static char *entry_text(const struct actcache *c, const char *key, const struct ac_for *f, const struct ac_entry *e)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:f, s:f}", "v", ENTRY_VERSION, "key", key,
			      "build", f->build, "target", f->target, "output", f->output, "sha256", e->sha256,
			      "size", (json_int_t)e->size, "wall_s", e->wall, "cpu_s", e->cpu);
	if (!o)
		return NULL; /* the names were checked as UTF-8 at load: no memory */
	struct buf b;
	canonical(&b, key, f, e);
	char *sig = acsign_sign(&c->keys, b.data, b.len);
	buf_release(&b);
	if (sig)
		jx_set(o, "sig", json_string(sig));
	free(sig);
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
	json_decref(o);
	return text;
}

/* Copy src to dest (mode) while hashing: 0 when its sha256 is want, 1
 * when it is not (dest removed), -1 when it could not be copied. */
static int copy_verified(const char *src, const char *dest, int mode, const char *want)
{
	char hex[HASH_HEX_MAX];
	struct stat st;
	if (lstat(src, &st) != 0)
		return -1;
	if (!S_ISREG(st.st_mode))
		return 1; /* the cache writes regular files only: a link or FIFO is not its content */
	unlink(dest); /* hash_copy_file creates it afresh */
	if (hash_copy_file(HASH_SHA256, src, dest, mode, hex, NULL) < 0)
		return -1;
	if (strcmp(hex, want) != 0) {
		unlink(dest);
		return 1;
	}
	return 0;
}

static void drop_local_entry(struct actcache *c, const char *key)
{
	char *path = xasprintf("%s/%s", c->ac, key);
	unlink(path);
	free(path);
}

/* The local entry of key for f: 0 found, -1 a miss (an entry that names
 * something else is dropped with a warning). */
static int read_local_entry(struct actcache *c, const char *key, const struct ac_for *f, struct ac_entry *e)
{
	char *path = xasprintf("%s/%s", c->ac, key);
	size_t len;
	int saved = error_quiet(1);
	char *text = read_file(path, ENTRY_MAX, &len);
	error_quiet(saved);
	struct doc d = { 0 };
	int rc = -1, is_for = text && doc_parse(text, len, &d) == 0 ? doc_is_for(&d, key, f) : 0;
	if (is_for == 1) {
		*e = d.e;
		rc = 0;
	} else if (is_for < 0) {
		char want[256], got[256];
		describe(want, sizeof(want), f->build, f->target, f->output);
		describe(got, sizeof(got), d.build, d.target, d.output);
		warn("action cache: entry %.12s is for %s, not %s; dropping it and building", key, got, want);
		unlink(path);
	}
	json_decref(d.o);
	free(text);
	free(path);
	return rc;
}

static void write_local_entry(struct actcache *c, const char *key, const struct ac_for *f, const struct ac_entry *e)
{
	char *path = xasprintf("%s/%s", c->ac, key), *text = entry_text(c, key, f, e);
	if (!text || write_file_atomic(path, text, strlen(text), 0644) < 0)
		warn("cannot write the action cache entry '%s'", path);
	free(text);
	free(path);
}

/* The remote entry of key: 0 when it is for f (and signed well if asked),
 * else -1 after a warning. */
static int remote_entry(struct actcache *c, const char *key, const struct ac_for *f, const char *text,
			size_t len, struct ac_entry *e)
{
	struct doc d;
	char want[256], got[256];
	int rc = -1;
	describe(want, sizeof(want), f->build, f->target, f->output);
	if (doc_parse(text, len, &d) < 0) {
		warn("remote cache %s: the entry for %.12s is not an action result; ignoring it", remote_url(c->remote),
		     key);
		return -1;
	}
	int is_for = doc_is_for(&d, key, f);
	if (is_for < 0) {
		describe(got, sizeof(got), d.build, d.target, d.output);
		warn("remote cache %s: entry %.12s is for %s, not %s; ignoring it and building", remote_url(c->remote),
		     key, got, want);
	} else if (is_for == 1 && c->keys.ntrusted && !signed_well(c, key, f, &d)) {
		if (!atomic_exchange(&c->warned_unsigned, 1))
			warn("remote cache %s: the entry for %s is %s; ignoring every entry no trusted key signed "
			     "(this warning is shown once)",
			     remote_url(c->remote), want, d.sig ? "not signed by a trusted key" : "unsigned");
	} else if (is_for == 1) {
		*e = d.e;
		rc = 0;
	}
	json_decref(d.o);
	return rc;
}

/* Room for a content of size bytes: within the limit and the free space. */
static int room_for(struct actcache *c, const char *key, uint64_t size)
{
	struct statvfs vfs;
	if (size > c->remote_max) {
		warn("remote cache %s: the entry for %.12s claims %" PRIu64 " bytes, more than the limit of %" PRIu64
		     " (XGO_REMOTE_CACHE_MAX_BYTES); building instead",
		     remote_url(c->remote), key, size, c->remote_max);
		return 0;
	}
	if (statvfs(c->tmp, &vfs) == 0) {
		uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		if (avail < DISK_RESERVE || avail - DISK_RESERVE < size) {
			warn("remote cache %s: the entry for %.12s claims %" PRIu64 " bytes and %s has %" PRIu64
			     " free (256 MiB stay free); building instead",
			     remote_url(c->remote), key, size, c->tmp, avail);
			return 0;
		}
	}
	return 1;
}

/* Fetch key's entry and content from the remote into the local cache. */
static int fetch_remote(struct actcache *c, const char *key, const struct ac_for *f, struct ac_entry *e)
{
	char *path = xasprintf("ac/%s", key), *text = NULL, *tmp = NULL, *blob = NULL;
	size_t len;
	int rc = 0;
	if (remote_get(c->remote, path, ENTRY_MAX, &text, &len) != 1 || remote_entry(c, key, f, text, len, e) < 0)
		goto out;
	free(path);
	path = xasprintf("cas/%s", e->sha256);
	tmp = tmp_name(c);
	blob = xasprintf("%s/%s", c->cas, e->sha256);
	if (blob_present(blob)) {
		/* the content is here already (another key built the same bytes);
		 * actcache_get checks it while copying */
		write_local_entry(c, key, f, e);
		rc = 1;
		goto out;
	}
	if (!room_for(c, key, e->size))
		goto out;
	int got = remote_get_file(c->remote, path, tmp, (size_t)e->size);
	if (got == REMOTE_TOO_LARGE)
		warn("remote cache %s: %s is longer than the %" PRIu64 " bytes its entry says; building instead",
		     remote_url(c->remote), path, e->size);
	if (got != 1)
		goto out;
	char hex[HASH_HEX_MAX];
	uint64_t size;
	if (hash_file_hex(HASH_SHA256, tmp, hex, &size) < 0 || strcmp(hex, e->sha256) || size != e->size) {
		warn("remote cache %s: %s does not have the sha256 it is stored under; building instead",
		     remote_url(c->remote), path);
		goto out;
	}
	if (rename(tmp, blob) < 0)
		goto out;
	write_local_entry(c, key, f, e);
	rc = 1;
out:
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(blob);
	free(text);
	free(path);
	return rc;
}

/* Is the file at path an executable for f's platform?  Warns when not. */
static int platform_ok(const char *path, const char *key, const struct ac_for *f)
{
	unsigned char head[BINFMT_HEAD_MAX];
	char what[64], want[256];
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, head, sizeof(head));
		close(fd);
	}
	if (n >= 0 && binfmt_is_for(head, (size_t)n, f->goos, f->goarch, what, sizeof(what)))
		return 1;
	describe(want, sizeof(want), f->build, f->target, f->output);
	warn("action cache: the content of entry %.12s for %s is %s, not a %s/%s executable; dropping the entry and "
	     "building",
	     key, want, n >= 0 ? what : "unreadable", f->goos, f->goarch);
	return 0;
}

int actcache_get(struct actcache *c, const char *key, const struct ac_for *f, const char *dest, int mode,
		 struct ac_entry *e)
{
	if (!c || !hash_is_sha256_hex(key))
		return 0;
	int remote = 0;
	if (read_local_entry(c, key, f, e) < 0) {
		if (!c->remote || fetch_remote(c, key, f, e) != 1)
			return 0;
		remote = 1;
	}
	char *blob = xasprintf("%s/%s", c->cas, e->sha256);
	int rc = copy_verified(blob, dest, mode, e->sha256);
	if (rc > 0) {
		warn("action cache: %s is corrupt; dropping it and building", blob);
		unlink(blob);
	}
	free(blob);
	if (rc == 0 && f->goos && !platform_ok(dest, key, f)) {
		unlink(dest);
		rc = 1;
	}
	if (rc != 0) {
		drop_local_entry(c, key);
		return 0;
	}
	char *entry = xasprintf("%s/%s", c->ac, key);
	utimensat(AT_FDCWD, entry, NULL, 0); /* recently used: gc keeps it longer */
	free(entry);
	atomic_fetch_add(remote ? &c->remote_hits : &c->local_hits, 1);
	return 1;
}

/* Put the file into the local CAS (a copy: dist/ may be changed later). */
static int store_blob(struct actcache *c, const char *path, const struct ac_entry *e)
{
	char *blob = xasprintf("%s/%s", c->cas, e->sha256), *tmp = NULL;
	int rc = 0;
	if (!blob_present(blob)) {
		tmp = tmp_name(c);
		rc = copy_verified(path, tmp, 0444, e->sha256) == 0 && rename(tmp, blob) == 0 ? 0 : -1;
		if (rc < 0)
			unlink(tmp);
	}
	free(tmp);
	free(blob);
	return rc;
}

static void put_remote(struct actcache *c, const char *key, const struct ac_for *f, const char *path,
		       const struct ac_entry *e)
{
	if (!c->remote || remote_read_only(c->remote))
		return;
	char *cas = xasprintf("cas/%s", e->sha256), *ac = xasprintf("ac/%s", key), *text = entry_text(c, key, f, e);
	int have = remote_head(c->remote, cas);
	if (text && (have == 1 || (have == 0 && remote_put_file(c->remote, cas, path) == 0)))
		remote_put(c->remote, ac, text, strlen(text));
	free(text);
	free(cas);
	free(ac);
}

void actcache_put(struct actcache *c, const char *key, const struct ac_for *f, const char *path,
		  const struct ac_entry *e)
{
	if (!c || !hash_is_sha256_hex(key))
		return;
	if (store_blob(c, path, e) < 0) {
		warn("cannot store '%s' in the action cache", path);
		return;
	}
	write_local_entry(c, key, f, e);
	atomic_fetch_add(&c->stored, 1);
	put_remote(c, key, f, path, e);
}

/* ---- maintenance ---- */

struct gc_entry {
	char key[65], sha[65];
	time_t used;
	int keep;
};

struct gc_blob {
	char sha[65];
	uint64_t size;
	unsigned refs;
};

static int cmp_used(const void *a, const void *b)
{
	const struct gc_entry *x = a, *y = b;
	return x->used < y->used ? -1 : x->used > y->used;
}

static int cmp_blob(const void *a, const void *b)
{
	return strcmp(((const struct gc_blob *)a)->sha, ((const struct gc_blob *)b)->sha);
}

/* The 64-hex-digit file names in dir. */
static int hex_names(const char *dir, struct strv *out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return errno == ENOENT ? 0 : error("cannot read '%s':", dir);
	while ((de = readdir(d)))
		if (hash_is_sha256_hex(de->d_name))
			strv_push(out, de->d_name);
	closedir(d);
	return 0;
}

static struct gc_blob *find_blob(struct gc_blob *v, size_t n, const char *sha)
{
	struct gc_blob key;
	memcpy(key.sha, sha, 65);
	return bsearch(&key, v, n, sizeof(*v), cmp_blob);
}

static void unlink_in(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	if (unlink(path) < 0 && errno != ENOENT)
		warn("cannot remove '%s':", path);
	free(path);
}

struct gc_state {
	char *ac, *cas, *tmp;
	struct gc_entry *e;
	size_t ne;
	struct gc_blob *b;
	size_t nb;
};

static void gc_state_free(struct gc_state *g)
{
	free(g->ac);
	free(g->cas);
	free(g->tmp);
	free(g->e);
	free(g->b);
}

/* Read every entry and content, link entries to contents. */
static int gc_load(const char *cache_root, struct gc_state *g)
{
	struct strv keys = { 0 }, shas = { 0 };
	g->ac = xasprintf("%s/actions/ac", cache_root);
	g->cas = xasprintf("%s/actions/cas", cache_root);
	g->tmp = xasprintf("%s/actions/tmp", cache_root);
	if (hex_names(g->ac, &keys) < 0 || hex_names(g->cas, &shas) < 0) {
		strv_release(&keys);
		strv_release(&shas);
		return -1;
	}
	g->b = xcalloc(shas.n + 1, sizeof(*g->b));
	for (size_t i = 0; i < shas.n; i++) {
		char *path = xasprintf("%s/%s", g->cas, shas.v[i]);
		struct stat st;
		memcpy(g->b[g->nb].sha, shas.v[i], 65);
		g->b[g->nb++].size = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
		free(path);
	}
	qsort(g->b, g->nb, sizeof(*g->b), cmp_blob);
	g->e = xcalloc(keys.n + 1, sizeof(*g->e));
	for (size_t i = 0; i < keys.n; i++) {
		char *path = xasprintf("%s/%s", g->ac, keys.v[i]);
		struct gc_entry *e = &g->e[g->ne];
		struct doc d = { 0 };
		struct stat st;
		size_t len;
		int saved = error_quiet(1);
		char *text = read_file(path, ENTRY_MAX, &len);
		error_quiet(saved);
		memcpy(e->key, keys.v[i], 65);
		e->keep = text && doc_parse(text, len, &d) == 0 && stat(path, &st) == 0;
		if (e->keep) {
			memcpy(e->sha, d.e.sha256, 65);
			e->used = st.st_mtime;
		}
		json_decref(d.o);
		g->ne++;
		free(text);
		free(path);
	}
	strv_release(&keys);
	strv_release(&shas);
	qsort(g->e, g->ne, sizeof(*g->e), cmp_used);
	return 0;
}

static uint64_t live_bytes(struct gc_state *g)
{
	uint64_t total = 0;
	for (size_t i = 0; i < g->nb; i++)
		g->b[i].refs = 0;
	for (size_t i = 0; i < g->ne; i++) {
		struct gc_blob *b = g->e[i].keep ? find_blob(g->b, g->nb, g->e[i].sha) : NULL;
		if (!b)
			g->e[i].keep = 0; /* an entry without its content is useless */
		else if (b->refs++ == 0)
			total += b->size;
	}
	return total;
}

/* Temporary files a run left behind (killed mid-copy); an hour old, so
 * that a run copying right now keeps its own. */
static void gc_tmp(const char *dir, time_t now)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char *path = xasprintf("%s/%s", dir, de->d_name);
		struct stat st;
		if (de->d_name[0] != '.' && lstat(path, &st) == 0 && S_ISREG(st.st_mode) && now - st.st_mtime > 3600)
			unlink(path);
		free(path);
	}
	if (d)
		closedir(d);
}

int actcache_usage(const char *cache_root, struct ac_usage *u)
{
	struct gc_state g = { 0 };
	memset(u, 0, sizeof(*u));
	int rc = gc_load(cache_root, &g);
	if (rc == 0) {
		u->entries = g.ne;
		u->blobs = g.nb;
		for (size_t i = 0; i < g.nb; i++)
			u->bytes += g.b[i].size;
	}
	gc_state_free(&g);
	return rc;
}

int actcache_gc(const char *cache_root, uint64_t max_bytes, long max_age, struct ac_usage *removed)
{
	struct gc_state g = { 0 };
	time_t now = time(NULL);
	memset(removed, 0, sizeof(*removed));
	if (gc_load(cache_root, &g) < 0) {
		gc_state_free(&g);
		return -1;
	}
	for (size_t i = 0; i < g.ne && max_age > 0; i++)
		if (g.e[i].keep && now - g.e[i].used > max_age)
			g.e[i].keep = 0;
	uint64_t live = live_bytes(&g);
	for (size_t i = 0; i < g.ne && max_bytes > 0 && live > max_bytes; i++) {
		if (!g.e[i].keep)
			continue;
		g.e[i].keep = 0; /* oldest first */
		struct gc_blob *b = find_blob(g.b, g.nb, g.e[i].sha);
		if (--b->refs == 0)
			live -= b->size;
	}
	for (size_t i = 0; i < g.ne; i++)
		if (!g.e[i].keep) {
			unlink_in(g.ac, g.e[i].key);
			removed->entries++;
		}
	for (size_t i = 0; i < g.nb; i++)
		if (g.b[i].refs == 0) {
			unlink_in(g.cas, g.b[i].sha);
			removed->blobs++;
			removed->bytes += g.b[i].size;
		}
	gc_tmp(g.tmp, now);
	gc_state_free(&g);
	return 0;
}
