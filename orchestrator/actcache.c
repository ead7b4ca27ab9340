#define _GNU_SOURCE
#include "actcache.h"
#include "hash.h"
#include "remote.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ENTRY_MAX 4096
#define BLOB_MAX (8ULL << 30)

struct actcache {
	char *ac, *cas, *tmp;
	struct remote *remote;
	atomic_uint local_hits, remote_hits, stored, seq;
};

struct actcache *actcache_open(const char *cache_root, struct remote *remote)
{
	struct actcache *c = xcalloc(1, sizeof(*c));
	c->ac = xasprintf("%s/actions/ac", cache_root);
	c->cas = xasprintf("%s/actions/cas", cache_root);
	c->tmp = xasprintf("%s/actions/tmp", cache_root);
	c->remote = remote;
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
	free(c->ac);
	free(c->cas);
	free(c->tmp);
	free(c);
}

void actcache_stats(const struct actcache *c, unsigned *local_hits, unsigned *remote_hits, unsigned *stored)
{
	*local_hits = atomic_load(&c->local_hits);
	*remote_hits = atomic_load(&c->remote_hits);
	*stored = atomic_load(&c->stored);
}

/* A private temporary file name in the cache (same file system). */
static char *tmp_name(struct actcache *c)
{
	return xasprintf("%s/%ld-%u", c->tmp, (long)getpid(), atomic_fetch_add(&c->seq, 1));
}

static int parse_entry(const char *text, size_t len, struct ac_entry *e)
{
	json_t *o = json_loadb(text, len, 0, NULL);
	const char *sha = json_string_value(json_object_get(o, "sha256"));
	json_t *size = json_object_get(o, "size");
	int ok = hash_is_sha256_hex(sha) && json_is_integer(size) && json_integer_value(size) >= 0;
	if (ok) {
		memcpy(e->sha256, sha, 65);
		e->size = (uint64_t)json_integer_value(size);
		e->wall = json_number_value(json_object_get(o, "wall_s"));
		e->cpu = json_number_value(json_object_get(o, "cpu_s"));
	}
	json_decref(o);
	return ok ? 0 : -1;
}

static char *entry_text(const struct ac_entry *e)
{
	json_t *o = json_pack("{s:s, s:I, s:f, s:f}", "sha256", e->sha256, "size", (json_int_t)e->size, "wall_s",
			      e->wall, "cpu_s", e->cpu);
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
	json_decref(o);
	return text;
}

/* Copy src to dest (mode) while hashing: 0 when its sha256 is want, 1
 * when it is not (dest removed), -1 when it could not be copied. */
static int copy_verified(const char *src, const char *dest, int mode, const char *want)
{
	char hex[HASH_HEX_MAX];
	if (access(src, F_OK) != 0)
		return -1;
	unlink(dest); /* hash_copy_file creates it afresh */
	if (hash_copy_file(HASH_SHA256, src, dest, mode, hex, NULL) < 0)
		return -1;
	if (strcmp(hex, want) != 0) {
		unlink(dest);
		return 1;
	}
	return 0;
}

static int read_local_entry(struct actcache *c, const char *key, struct ac_entry *e)
{
	char *path = xasprintf("%s/%s", c->ac, key);
	size_t len;
	int saved = quiet_errors;
	quiet_errors = 1;
	char *text = read_file(path, ENTRY_MAX, &len);
	quiet_errors = saved;
	int rc = text && parse_entry(text, len, e) == 0 ? 0 : -1;
	free(text);
	free(path);
	return rc;
}

static void write_local_entry(struct actcache *c, const char *key, const struct ac_entry *e)
{
	char *path = xasprintf("%s/%s", c->ac, key), *text = entry_text(e);
	if (!text || write_file_atomic(path, text, strlen(text), 0644) < 0)
		warn("cannot write the action cache entry '%s'", path);
	free(text);
	free(path);
}

/* Fetch key's entry and content from the remote into the local cache. */
static int fetch_remote(struct actcache *c, const char *key, struct ac_entry *e)
{
	char *path = xasprintf("ac/%s", key), *text = NULL, *tmp = NULL, *blob = NULL;
	size_t len;
	int rc = 0;
	if (remote_get(c->remote, path, ENTRY_MAX, &text, &len) != 1)
		goto out;
	if (parse_entry(text, len, e) < 0) {
		warn("remote cache %s: the entry for %.12s is not an action result; ignoring it",
		     remote_url(c->remote), key);
		goto out;
	}
	free(path);
	path = xasprintf("cas/%s", e->sha256);
	tmp = tmp_name(c);
	blob = xasprintf("%s/%s", c->cas, e->sha256);
	if (access(blob, F_OK) == 0) {
		/* the content is here already (another key built the same bytes);
		 * actcache_get checks it while copying */
		write_local_entry(c, key, e);
		rc = 1;
		goto out;
	}
	if (remote_get_file(c->remote, path, tmp, e->size + 1) != 1)
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
	write_local_entry(c, key, e);
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

int actcache_get(struct actcache *c, const char *key, const char *dest, int mode, struct ac_entry *e)
{
	if (!c || !hash_is_sha256_hex(key))
		return 0;
	int remote = 0;
	if (read_local_entry(c, key, e) < 0) {
		if (!c->remote || fetch_remote(c, key, e) != 1)
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
	if (rc != 0) {
		char *entry = xasprintf("%s/%s", c->ac, key);
		unlink(entry);
		free(entry);
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
	if (access(blob, F_OK) != 0) {
		tmp = tmp_name(c);
		rc = copy_verified(path, tmp, 0444, e->sha256) == 0 && rename(tmp, blob) == 0 ? 0 : -1;
		if (rc < 0)
			unlink(tmp);
	}
	free(tmp);
	free(blob);
	return rc;
}

static void put_remote(struct actcache *c, const char *key, const char *path, const struct ac_entry *e)
{
	if (!c->remote || remote_read_only(c->remote))
		return;
	char *cas = xasprintf("cas/%s", e->sha256), *ac = xasprintf("ac/%s", key), *text = entry_text(e);
	int have = remote_head(c->remote, cas);
	if (have == 1 || (have == 0 && remote_put_file(c->remote, cas, path) == 0))
		remote_put(c->remote, ac, text, strlen(text));
	free(text);
	free(cas);
	free(ac);
}

void actcache_put(struct actcache *c, const char *key, const char *path, const struct ac_entry *e)
{
	if (!c || !hash_is_sha256_hex(key))
		return;
	if (store_blob(c, path, e) < 0) {
		warn("cannot store '%s' in the action cache", path);
		return;
	}
	write_local_entry(c, key, e);
	atomic_fetch_add(&c->stored, 1);
	put_remote(c, key, path, e);
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
		struct ac_entry a;
		struct stat st;
		size_t len;
		int saved = quiet_errors;
		quiet_errors = 1;
		char *text = read_file(path, ENTRY_MAX, &len);
		quiet_errors = saved;
		memcpy(e->key, keys.v[i], 65);
		e->keep = text && parse_entry(text, len, &a) == 0 && stat(path, &st) == 0;
		if (e->keep) {
			memcpy(e->sha, a.sha256, 65);
			e->used = st.st_mtime;
		}
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
