/* lockfile.c - release.lock reader and writer (see lockfile.h). */
#define _POSIX_C_SOURCE 200809L
#include "lockfile.h"
#include "base/hash.h"
#include "base/jsonx.h"
#include "base/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int lock_is_hex64(const char *s)
{
	return hash_is_sha256_hex(s);
}

int lock_is_filename(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 255 || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (; *s; s++)
		if (*s == '/' || *s == '\\' || (unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int lock_is_platform(const char *s)
{
	const char *dash = strchr(s, '-');
	size_t n = strlen(s);
	if (!dash || dash == s || !dash[1] || n > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

void lock_clear(struct lock *l)
{
	for (size_t i = 0; i < l->nplat; i++) {
		free(l->plat[i].name);
		free(l->plat[i].filename);
	}
	free(l->plat);
	free(l->go);
	for (size_t i = 0; i < l->nzig; i++)
		free(l->zigplat[i].name);
	free(l->zigplat);
	free(l->zig);
	memset(l, 0, sizeof(*l));
}

struct lock_platform *lock_find(const struct lock *l, const char *name)
{
	for (size_t i = 0; i < l->nplat; i++)
		if (!strcmp(l->plat[i].name, name))
			return &l->plat[i];
	return NULL;
}

void lock_set(struct lock *l, const struct lock_platform *p)
{
	struct lock_platform *e = lock_find(l, p->name);
	if (!e) {
		l->plat = xreallocarray(l->plat, l->nplat + 1, sizeof(*l->plat));
		e = &l->plat[l->nplat++];
		e->name = xstrdup(p->name);
	} else {
		free(e->filename);
	}
	e->filename = xstrdup(p->filename);
	e->size = p->size;
	memcpy(e->sha256, p->sha256, sizeof(e->sha256));
	memcpy(e->tree_digest, p->tree_digest, sizeof(e->tree_digest));
}

const struct lock_tool *lock_find_zig(const struct lock *l, const char *name)
{
	for (size_t i = 0; i < l->nzig; i++)
		if (!strcmp(l->zigplat[i].name, name))
			return &l->zigplat[i];
	return NULL;
}

void lock_set_zig(struct lock *l, const struct lock_tool *t)
{
	struct lock_tool *e = (struct lock_tool *)lock_find_zig(l, t->name);
	if (!e) {
		l->zigplat = xreallocarray(l->zigplat, l->nzig + 1, sizeof(*l->zigplat));
		e = &l->zigplat[l->nzig++];
		e->name = xstrdup(t->name);
	}
	memcpy(e->sha256, t->sha256, sizeof(e->sha256));
	memcpy(e->tree_digest, t->tree_digest, sizeof(e->tree_digest));
}

/* "zig": { "version": ..., "platforms": { name: { sha256, lib_tree_digest } } } */
static int parse_zig(const char *path, json_t *z, struct lock *l)
{
	json_t *ver = json_object_get(z, "version"), *plats = json_object_get(z, "platforms");
	const char *key;
	json_t *val;
	if (!json_is_string(ver) || !lock_is_version(json_string_value(ver)))
		return error("'%s': \"zig\" needs a \"version\" such as \"0.17.0\"", path);
	if (!json_is_object(plats) || json_object_size(plats) > LOCK_MAX_PLATFORMS)
		return error("'%s': \"zig\" needs a \"platforms\" object", path);
	l->zig = xstrdup(json_string_value(ver));
	json_object_foreach(plats, key, val) {
		json_t *sha = json_object_get(val, "sha256"), *td = json_object_get(val, "lib_tree_digest");
		struct lock_tool t = { .name = (char *)key };
		if (!lock_is_platform(key) || !json_is_string(sha) || !lock_is_hex64(json_string_value(sha)) ||
		    !json_is_string(td) || !lock_is_hex64(json_string_value(td)))
			return error("'%s': zig platform '%s' needs \"sha256\" and \"lib_tree_digest\" (64 hex "
				     "digits each); run 'xgo-build lock'", path, key);
		snprintf(t.sha256, sizeof(t.sha256), "%s", json_string_value(sha));
		snprintf(t.tree_digest, sizeof(t.tree_digest), "%s", json_string_value(td));
		lock_set_zig(l, &t);
	}
	return 0;
}

static int parse_platform(const char *path, const char *name, json_t *o, struct lock *l)
{
	struct lock_platform p = { 0 };
	if (!lock_is_platform(name))
		return error("'%s': bad platform name '%s' (want goos-goarch)", path, name);
	if (!json_is_object(o))
		return error("'%s': platform '%s' is not an object", path, name);
	json_t *fn = json_object_get(o, "filename");
	json_t *sha = json_object_get(o, "sha256");
	json_t *size = json_object_get(o, "size");
	json_t *td = json_object_get(o, "tree_digest");
	/* a tree-only pin (lock --offline): no archive, the tree digest alone */
	int tree_only = json_is_null(fn) && json_is_null(sha) && json_is_null(size);
	if (!tree_only && (!json_is_string(fn) || !lock_is_filename(json_string_value(fn))))
		return error("'%s': platform '%s' needs a plain archive file name in \"filename\"", path, name);
	if (!tree_only && (!json_is_string(sha) || !lock_is_hex64(json_string_value(sha))))
		return error("'%s': platform '%s' needs 64 lowercase hex digits in \"sha256\"", path, name);
	if (!tree_only && (!json_is_integer(size) || json_integer_value(size) <= 0))
		return error("'%s': platform '%s' needs a positive \"size\"", path, name);
	if (td && !json_is_null(td) && !(json_is_string(td) && lock_is_hex64(json_string_value(td))))
		return error("'%s': platform '%s' has a bad \"tree_digest\" (64 hex digits or null)", path, name);
	if (tree_only && !json_is_string(td))
		return error("'%s': platform '%s' pins no archive, so it needs a \"tree_digest\"", path, name);
	if (lock_find(l, name))
		return error("'%s': platform '%s' appears twice", path, name);
	p.name = (char *)name;
	p.filename = tree_only ? "" : (char *)json_string_value(fn);
	p.size = tree_only ? 0 : (uint64_t)json_integer_value(size);
	snprintf(p.sha256, sizeof(p.sha256), "%s", tree_only ? "" : json_string_value(sha));
	if (json_is_string(td))
		snprintf(p.tree_digest, sizeof(p.tree_digest), "%s", json_string_value(td));
	lock_set(l, &p);
	return 0;
}

int lock_is_version(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > 32 || v[0] < '0' || v[0] > '9')
		return 0;
	for (; *v; v++)
		if (!((*v >= '0' && *v <= '9') || (*v >= 'a' && *v <= 'z') || *v == '.'))
			return 0;
	return 1;
}

int lock_parse(const char *path, const char *text, size_t len, struct lock *l)
{
	json_error_t je;
	int rc = -1;
	memset(l, 0, sizeof(*l));
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return error("'%s' is not valid JSON (line %d: %s); run 'xgo-build lock' to rewrite it", path, je.line, je.text);
	if (!json_is_object(root)) {
		error("'%s': want a JSON object at the top", path);
		goto out;
	}
	json_t *fmt = json_object_get(root, "format");
	if (!json_is_integer(fmt) || json_integer_value(fmt) != LOCK_FORMAT) {
		error("'%s': unknown \"format\" (this xgo-build reads format %d); run 'xgo-build lock'", path, LOCK_FORMAT);
		goto out;
	}
	json_t *tdf = json_object_get(root, "tree_digest_format");
	if (tdf && !(json_is_string(tdf) && !strcmp(json_string_value(tdf), "xgo-tree-v1"))) {
		error("'%s': unknown \"tree_digest_format\" (want \"xgo-tree-v1\")", path);
		goto out;
	}
	json_t *go = json_object_get(root, "go");
	if (!json_is_string(go) || !lock_is_version(json_string_value(go))) {
		error("'%s': \"go\" must be a version such as \"1.26.8\"", path);
		goto out;
	}
	l->go = xstrdup(json_string_value(go));
	json_t *plats = json_object_get(root, "platforms");
	if (!json_is_object(plats)) {
		error("'%s': \"platforms\" must be an object", path);
		goto out;
	}
	if (json_object_size(plats) > LOCK_MAX_PLATFORMS) {
		error("'%s': more than %d platforms", path, LOCK_MAX_PLATFORMS);
		goto out;
	}
	const char *key;
	json_t *val;
	json_object_foreach(plats, key, val) {
		if (parse_platform(path, key, val, l) < 0)
			goto out;
	}
	json_t *zig = json_object_get(root, "zig");
	if (zig && !json_is_null(zig) && (!json_is_object(zig) || parse_zig(path, zig, l) < 0)) {
		if (!json_is_object(zig))
			error("'%s': \"zig\" must be an object", path);
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	if (rc < 0)
		lock_clear(l);
	return rc;
}

int lock_read(const char *path, struct lock *l)
{
	struct stat st;
	size_t len;
	memset(l, 0, sizeof(*l));
	if (stat(path, &st) < 0 && errno == ENOENT)
		return 1;
	char *text = read_file(path, LOCK_MAX_BYTES, &len);
	if (!text)
		return -1;
	int rc = lock_parse(path, text, len, l);
	free(text);
	return rc;
}

char *lock_dump(const struct lock *l)
{
	json_t *root = json_object();
	json_t *plats = json_object();
	jx_set(root, "format", json_integer(LOCK_FORMAT));
	jx_set(root, "go", json_string(l->go ? l->go : ""));
	jx_set(root, "tree_digest_format", json_string("xgo-tree-v1"));
	for (size_t i = 0; i < l->nplat; i++) {
		const struct lock_platform *p = &l->plat[i];
		json_t *o = json_object();
		int tree_only = !p->sha256[0];
		jx_set(o, "filename", tree_only ? json_null() : json_string(p->filename));
		jx_set(o, "sha256", tree_only ? json_null() : json_string(p->sha256));
		jx_set(o, "size", tree_only ? json_null() : json_integer((json_int_t)p->size));
		jx_set(o, "tree_digest", p->tree_digest[0] ? json_string(p->tree_digest) : json_null());
		jx_set(plats, p->name, o);
	}
	jx_set(root, "platforms", plats);
	if (l->zig) {
		json_t *zp = json_object();
		for (size_t i = 0; i < l->nzig; i++)
			jx_set(zp, l->zigplat[i].name,
					    json_pack("{s:s, s:s}", "sha256", l->zigplat[i].sha256, "lib_tree_digest",
						      l->zigplat[i].tree_digest));
		jx_set(root, "zig", json_pack("{s:s, s:o}", "version", l->zig, "platforms", zp));
	}
	char *s = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	if (!s)
		fatal(EXIT_JOB, "out of memory");
	char *out = xasprintf("%s\n", s);
	free(s);
	return out;
}

int lock_write(const char *path, const struct lock *l)
{
	char *text = lock_dump(l);
	int rc = write_file_atomic(path, text, strlen(text), 0644);
	free(text);
	return rc;
}
