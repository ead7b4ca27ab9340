#define _GNU_SOURCE
#include "path.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int path_components_ok(const char *rel)
{
	for (const char *c = rel;;) {
		size_t n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (!c[n])
			return 1;
		c += n + 1;
	}
}

int path_check_name(const char *what, const char *rel)
{
	size_t len = strlen(rel);
	if (!len)
		return error("%s: the name is empty", what);
	if (len > PATH_NAME_MAX)
		return error("%s '%.40s...' is longer than %d bytes", what, rel, PATH_NAME_MAX);
	if (rel[0] == '/')
		return error("%s '%s' is an absolute path: name a path inside the release", what, rel);
	for (const unsigned char *p = (const unsigned char *)rel; *p;) {
		size_t n = utf8_seq(p);
		if (!n)
			return error("%s '%s' is not valid UTF-8", what, rel);
		if (*p < 0x20 || *p == 0x7f)
			return error("%s has a control character (byte 0x%02x)", what, *p);
		if (*p == '\\')
			return error("%s '%s' has a backslash: write '/' between directories", what, rel);
		p += n;
	}
	if (!path_components_ok(rel))
		return error("%s '%s' has an empty, '.' or '..' component", what, rel);
	for (const char *c = rel;;) {
		size_t n = strcspn(c, "/");
		if (n > PATH_COMPONENT_MAX)
			return error("%s '%.40s...' has a component longer than %d bytes", what, rel,
				     PATH_COMPONENT_MAX);
		if (!c[n])
			return 0;
		c += n + 1;
	}
}

/* Drop the last component of the absolute path cur, in place. */
static void parent(char *cur)
{
	char *s = strrchr(cur, '/');
	if (s == cur)
		cur[1] = '\0';
	else if (s)
		*s = '\0';
}

static char *join(const char *dir, const char *name, size_t n)
{
	return xasprintf("%s%s%.*s", dir, strcmp(dir, "/") ? "/" : "", (int)n, name);
}

/* One component of path_absolute: cur (owned) becomes cur/name resolved. */
static char *step(char *cur, const char *name, size_t n, int *exists)
{
	char *next = join(cur, name, n);
	free(cur);
	if (!*exists)
		return next;
	char *real = realpath(next, NULL);
	if (real) {
		free(next);
		return real;
	}
	struct stat st;
	if (errno == ENOENT && lstat(next, &st) < 0) {
		*exists = 0; /* the rest is taken as written */
		return next;
	}
	if (errno == ENOENT)
		error("'%s' is a symlink to a missing file", next);
	else
		error("cannot resolve '%s':", next);
	free(next);
	return NULL;
}

char *path_absolute(const char *path)
{
	if (!path || !*path) {
		error("an empty path names no directory");
		return NULL;
	}
	char *cur = path[0] == '/' ? xstrdup("/") : realpath(".", NULL);
	if (!cur) {
		error("cannot resolve the current directory:");
		return NULL;
	}
	int exists = 1;
	for (const char *c = path; cur && *c;) {
		size_t n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.')
			parent(cur);
		else if (n && !(n == 1 && c[0] == '.'))
			cur = step(cur, c, n, &exists);
		c += n;
		c += *c == '/';
	}
	if (cur && strlen(cur) >= PATH_MAX) {
		error("'%.40s...' is longer than %d bytes", cur, PATH_MAX);
		FREE_AND_NULL(cur);
	}
	return cur;
}

int path_within(const char *a, const char *b)
{
	size_t lb = strlen(b);
	if (lb == 1 && b[0] == '/')
		return a[0] == '/';
	return !strncmp(a, b, lb) && (a[lb] == '\0' || a[lb] == '/');
}

int path_inside(const char *what, const char *root, const char *rel, char **real)
{
	char *top = path_absolute(root), *joined = xasprintf("%s/%s", root, rel);
	char *full = top ? path_absolute(joined) : NULL;
	int rc = -1;
	if (!full) {
		char why[512];
		snprintf(why, sizeof(why), "%s", error_last());
		error("%s '%s': %s", what, rel, why);
	}
	else if (!path_within(full, top))
		error("%s '%s' leads to '%s', outside '%s'", what, rel, full, top);
	else
		rc = 0;
	if (rc == 0 && real) {
		*real = full;
		full = NULL;
	}
	free(top);
	free(joined);
	free(full);
	return rc;
}
