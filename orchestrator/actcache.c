#define _GNU_SOURCE
#include "actcache.h"
#include "hash.h"
#include "remote.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ENTRY_MAX 4096
#define BLOB_MAX (8ULL << 30)
#define COPY_CHUNK (1 << 20)

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

static int is_hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static int parse_entry(const char *text, size_t len, struct ac_entry *e)
{
	json_t *o = json_loadb(text, len, 0, NULL);
	const char *sha = json_string_value(json_object_get(o, "sha256"));
	json_t *size = json_object_get(o, "size");
	int ok = is_hex64(sha) && json_is_integer(size) && json_integer_value(size) >= 0;
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

/* Copy src to dest (mode) while hashing; 0 when its sha256 is want. */
static int copy_verified(const char *src, const char *dest, int mode, const char *want)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
	char *chunk = NULL, hex[HASH_HEX_MAX];
	struct hasher *h = NULL;
	if (in < 0)
		return -1;
	if ((out = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) < 0) {
		error("cannot create '%s':", dest);
		goto out;
	}
	chunk = xmalloc(COPY_CHUNK);
	h = hasher_new(HASH_SHA256);
	ssize_t n;
	while ((n = read(in, chunk, COPY_CHUNK)) > 0) {
		hasher_update(h, chunk, (size_t)n);
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, chunk + off, (size_t)(n - off));
			if (w < 0) {
				error("cannot write '%s':", dest);
				goto out;
			}
			off += w;
		}
	}
	hasher_final_hex(h, hex);
	rc = n == 0 && !strcmp(hex, want) ? 0 : 1;
out:
	hasher_free(h);
	free(chunk);
	close(in);
	if (out >= 0 && close(out) < 0 && rc == 0)
		rc = error("cannot write '%s':", dest);
	if (rc != 0 && out >= 0)
		unlink(dest);
	return rc;
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
	if (!c || !is_hex64(key))
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
	if (!c || !is_hex64(key))
		return;
	if (store_blob(c, path, e) < 0) {
		warn("cannot store '%s' in the action cache", path);
		return;
	}
	write_local_entry(c, key, e);
	atomic_fetch_add(&c->stored, 1);
	put_remote(c, key, path, e);
}
