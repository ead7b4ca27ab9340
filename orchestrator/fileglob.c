/* fileglob.c - `files` patterns: fnmatch per component and a walk for `**`. */
#define _POSIX_C_SOURCE 200809L
#include "fileglob.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct fg {
	const char *root;
	struct strv comp; /* the pattern's components, a trailing ** made ** then * */
	int recursive;
	size_t entries;   /* directory entries read so far */
	struct strv *out;
	size_t first;     /* out's first entry of this pattern */
};

static int has_magic(const char *c)
{
	return strpbrk(c, "*?[\\") != NULL;
}

static char *join(const char *rel, const char *name)
{
	return *rel ? xasprintf("%s/%s", rel, name) : xstrdup(name);
}

/* stat (following symlinks, as glob does) root/rel; a directory? */
static int is_dir(const struct fg *g, const char *rel, int follow)
{
	struct stat st;
	char *full = *rel ? xasprintf("%s/%s", g->root, rel) : xstrdup(g->root);
	int r = (follow ? stat(full, &st) : lstat(full, &st)) == 0 && S_ISDIR(st.st_mode);
	free(full);
	return r;
}

static int exists(const struct fg *g, const char *rel)
{
	struct stat st;
	char *full = xasprintf("%s/%s", g->root, rel);
	int r = lstat(full, &st) == 0;
	free(full);
	return r;
}

static int add(struct fg *g, const char *rel)
{
	if (g->recursive && is_dir(g, rel, 1))
		return 0; /* its files are reached by the walk */
	if (g->out->n - g->first >= FG_MAX_MATCHES)
		return error("file pattern matches more than %d files under '%s': narrow it", FG_MAX_MATCHES,
			     g->root);
	strv_push(g->out, rel);
	return 0;
}

static int walk(struct fg *g, const char *rel, size_t i, size_t depth);

/* Each name in directory rel that fits comp (NULL: each real
 * subdirectory, for **), walked on from component next. */
static int each_entry(struct fg *g, const char *rel, const char *comp, size_t next, size_t depth)
{
	char *full = *rel ? xasprintf("%s/%s", g->root, rel) : xstrdup(g->root);
	DIR *d = opendir(full);
	int rc = 0;
	if (!d) {
		if (errno != ENOENT && errno != ENOTDIR)
			rc = error("cannot list the directory '%s':", full);
		free(full);
		return rc;
	}
	struct dirent *de;
	while (rc == 0 && (errno = 0, de = readdir(d))) {
		const char *n = de->d_name;
		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		if (++g->entries > FG_MAX_ENTRIES) {
			rc = error("file pattern reads more than %d directory entries under '%s': narrow it",
				   FG_MAX_ENTRIES, g->root);
			break;
		}
		if (comp ? fnmatch(comp, n, FNM_PERIOD) != 0 : n[0] == '.')
			continue;
		char *child = join(rel, n);
		if (!comp) {
			if (is_dir(g, child, 0))
				rc = walk(g, child, next, depth + 1);
		} else if (next == g->comp.n) {
			rc = add(g, child);
		} else if (is_dir(g, child, 1)) {
			rc = walk(g, child, next, depth + 1);
		}
		free(child);
	}
	if (rc == 0 && errno)
		rc = error("cannot list the directory '%s':", full);
	closedir(d);
	free(full);
	return rc;
}

/* Match components i.. of the pattern below rel ("" = root). */
static int walk(struct fg *g, const char *rel, size_t i, size_t depth)
{
	if (depth > FG_MAX_DEPTH)
		return error("file pattern walks more than %d directories deep under '%s'", FG_MAX_DEPTH, g->root);
	if (i == g->comp.n)
		return *rel ? add(g, rel) : 0;
	const char *c = g->comp.v[i];
	if (!strcmp(c, "**")) {
		if (walk(g, rel, i + 1, depth) < 0)
			return -1;
		return each_entry(g, rel, NULL, i, depth);
	}
	if (has_magic(c))
		return each_entry(g, rel, c, i + 1, depth);
	char *child = join(rel, c);
	int rc = 0;
	if (i + 1 == g->comp.n)
		rc = exists(g, child) ? add(g, child) : 0;
	else if (is_dir(g, child, 1))
		rc = walk(g, child, i + 1, depth + 1);
	free(child);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int fg_is_recursive(const char *pattern)
{
	for (const char *p = pattern; (p = strstr(p, "**")); p += 2)
		if ((p == pattern || p[-1] == '/') && (p[2] == '/' || !p[2]))
			return 1;
	return 0;
}

int fg_match(const char *root, const char *pattern, struct strv *out)
{
	struct fg g = { .root = root, .out = out, .first = out->n, .recursive = fg_is_recursive(pattern) };
	char *copy = xstrdup(pattern);
	for (char *save = NULL, *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
		strv_push(&g.comp, c);
	if (g.comp.n && !strcmp(g.comp.v[g.comp.n - 1], "**"))
		strv_push(&g.comp, "*");
	free(copy);
	int rc = g.comp.n ? walk(&g, "", 0, 0) : 0;
	strv_release(&g.comp);
	if (rc < 0)
		return -1;
	/* sorted bytewise, each once (a/ ** / ** can reach a file twice) */
	if (out->n > g.first)
		qsort(out->v + g.first, out->n - g.first, sizeof(*out->v), cmp_str);
	size_t n = g.first;
	for (size_t i = g.first; i < out->n; i++) {
		if (n > g.first && !strcmp(out->v[n - 1], out->v[i]))
			free(out->v[i]);
		else
			out->v[n++] = out->v[i];
	}
	out->n = n;
	if (out->v)
		out->v[n] = NULL;
	return 0;
}
