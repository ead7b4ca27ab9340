/* mirror.c - mirror choice and index (see mirror.h). */
#define _POSIX_C_SOURCE 200809L
#include "mirror.h"
#include "download.h"
#include "lockfile.h"
#include "base/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

char *mirror_choose(const char *flag, const char *from_release)
{
	const char *env = getenv("XGO_SDK_MIRROR");
	const char *m = MIRROR_DEFAULT, *what = "the default mirror";
	if (flag && *flag)
		m = flag, what = "--sdk-mirror";
	else if (env && *env)
		m = env, what = "XGO_SDK_MIRROR";
	else if (from_release && *from_release)
		m = from_release, what = "sdk_mirror in release.lua";
	if (!(has_prefix(m, "http://") || has_prefix(m, "https://") || has_prefix(m, "file://")) ||
	    strlen(m) > 2048) {
		error("%s '%s' is not an http://, https:// or file:// URL", what, m);
		return NULL;
	}
	size_t n = strlen(m);
	return n && m[n - 1] == '/' ? xstrdup(m) : xasprintf("%s/", m);
}

char *mirror_url(const char *mirror, const char *filename)
{
	return xasprintf("%s%s", mirror, filename);
}

void mirror_index_clear(struct mirror_index *idx)
{
	for (size_t i = 0; i < idx->nrel; i++) {
		struct mirror_release *r = &idx->rel[i];
		for (size_t j = 0; j < r->nfiles; j++) {
			free(r->files[j].filename);
			free(r->files[j].os);
			free(r->files[j].arch);
			free(r->files[j].kind);
		}
		free(r->files);
		free(r->version);
	}
	free(idx->rel);
	memset(idx, 0, sizeof(*idx));
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void parse_files(json_t *files, struct mirror_release *r)
{
	size_t i;
	json_t *f;
	json_array_foreach(files, i, f) {
		const char *fn = str(f, "filename"), *os = str(f, "os"), *arch = str(f, "arch");
		const char *kind = str(f, "kind"), *sha = str(f, "sha256");
		json_t *size = json_object_get(f, "size");
		if (!fn || !lock_is_filename(fn) || !os || !arch || !kind || !sha || !lock_is_hex64(sha) ||
		    !json_is_integer(size) || json_integer_value(size) <= 0)
			continue;
		r->files = xreallocarray(r->files, r->nfiles + 1, sizeof(*r->files));
		struct mirror_file *m = &r->files[r->nfiles++];
		m->filename = xstrdup(fn);
		m->os = xstrdup(os);
		m->arch = xstrdup(arch);
		m->kind = xstrdup(kind);
		snprintf(m->sha256, sizeof(m->sha256), "%s", sha);
		m->size = (uint64_t)json_integer_value(size);
	}
}

int mirror_parse_index(const char *src, const char *text, size_t len, struct mirror_index *idx)
{
	json_error_t je;
	memset(idx, 0, sizeof(*idx));
	json_t *root = json_loadb(text, len, 0, &je);
	if (!root)
		return error("the index '%s' is not valid JSON (line %d: %s)", src, je.line, je.text);
	if (!json_is_array(root)) {
		json_decref(root);
		return error("the index '%s' is not a JSON array of releases", src);
	}
	size_t i;
	json_t *r;
	json_array_foreach(root, i, r) {
		const char *v = str(r, "version");
		json_t *files = json_object_get(r, "files");
		if (!v || strncmp(v, "go", 2) != 0 || !v[2] || strlen(v) > 40 || !json_is_array(files))
			continue;
		if (idx->nrel >= MIRROR_MAX_RELEASES)
			break;
		idx->rel = xreallocarray(idx->rel, idx->nrel + 1, sizeof(*idx->rel));
		struct mirror_release *m = &idx->rel[idx->nrel++];
		memset(m, 0, sizeof(*m));
		m->version = xstrdup(v + 2);
		m->stable = json_is_true(json_object_get(r, "stable"));
		parse_files(files, m);
	}
	json_decref(root);
	return 0;
}

static int fetch_parse(const char *url, struct mirror_index *idx)
{
	char *data;
	size_t len;
	long status;
	if (dl_fetch(url, MIRROR_INDEX_MAX, &data, &len, &status) < 0)
		return -1;
	int rc = mirror_parse_index(url, data, len, idx);
	free(data);
	return rc;
}

int mirror_fetch_index(const char *mirror, struct mirror_index *idx)
{
	char *json = xasprintf("%sindex.json", mirror);
	char *q = xasprintf("%s?mode=json&include=all", mirror);
	char first[1024] = "";
	int rc = -1;
	/* Quiet attempts, then one message with the reasons. */
	int saved = error_quiet(1);
	if (!has_prefix(mirror, "file://")) {
		rc = fetch_parse(q, idx);
		if (rc < 0)
			snprintf(first, sizeof(first), "%s", error_last());
	}
	if (rc < 0)
		rc = fetch_parse(json, idx);
	error_quiet(saved);
	if (rc < 0) {
		char second[1024]; /* error() overwrites error_last() */
		snprintf(second, sizeof(second), "%s", error_last());
		if (first[0])
			error("no usable index at mirror '%s': %s; and %s", mirror, first, second);
		else
			error("no usable index at mirror '%s': %s", mirror, second);
	}
	free(q);
	free(json);
	return rc;
}

const struct mirror_file *mirror_find(const struct mirror_index *idx, const char *version, const char *platform)
{
	for (size_t i = 0; i < idx->nrel; i++) {
		const struct mirror_release *r = &idx->rel[i];
		if (strcmp(r->version, version) != 0)
			continue;
		for (size_t j = 0; j < r->nfiles; j++) {
			const struct mirror_file *f = &r->files[j];
			size_t ol = strlen(f->os);
			if (!strcmp(f->kind, "archive") && !strncmp(platform, f->os, ol) && platform[ol] == '-' &&
			    !strcmp(platform + ol + 1, f->arch))
				return f;
		}
	}
	return NULL;
}
