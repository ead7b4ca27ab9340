/* checksums.c - sha256sum-compatible checksum files; see checksums.h. */
#define _POSIX_C_SOURCE 200809L
#include "checksums.h"
#include "base/path.h"
#include "base/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static size_t hex_len(enum hash_algo algo)
{
	return algo == HASH_SHA512 ? 128 : 64;
}

void sums_init(struct sums *s, enum hash_algo algo)
{
	s->algo = algo;
	s->v = NULL;
	s->n = s->cap = 0;
}

void sums_release(struct sums *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].name);
	FREE_AND_NULL(s->v);
	s->n = s->cap = 0;
}

const char *sums_default_name(enum hash_algo algo)
{
	return algo == HASH_SHA512 ? "SHA512SUMS" : "SHA256SUMS";
}

/* Why name cannot be listed (sha256sum would have to escape it, or it
 * points outside the directory), or NULL if it can. */
static const char *name_problem(const char *name)
{
	size_t len = strlen(name);
	if (!len)
		return "is empty";
	if (len > SUMS_NAME_MAX)
		return "is too long";
	if (name[0] == '/')
		return "is absolute";
	for (const char *p = name; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return "has a control character or backslash";
	}
	for (const char *c = name; ; ) {
		size_t n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return "has a '..' component";
		if (!c[n])
			break;
		c += n + 1;
	}
	return NULL;
}

/* Binary search: the index of name, or where it would go (*found = 0). */
static size_t find_index(const struct sums *s, const char *name, int *found)
{
	size_t lo = 0, hi = s->n;
	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->v[mid].name, name);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const char *sums_find(const struct sums *s, const char *name)
{
	int found;
	size_t i = find_index(s, name, &found);
	return found ? s->v[i].hex : NULL;
}

/* 0 if hex is exactly the digest length of hex digits. */
static int check_hex(const struct sums *s, const char *hex, size_t len)
{
	if (len != hex_len(s->algo))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)hex[i]))
			return -1;
	}
	return 0;
}

/* Insert in order; hex is len digits, stored lowercase.  where prefixes
 * errors ("'SHA256SUMS':3: ") and may be "". */
static int insert(struct sums *s, const char *name, const char *hex, size_t len,
		  const char *where)
{
	int found;
	const char *why = name_problem(name);
	if (why)
		return error("%sfile name '%.80s' %s", where, name, why);
	if (check_hex(s, hex, len) < 0)
		return error("%s'%s' has no valid %s digest", where, name, hash_algo_name(s->algo));
	size_t at = find_index(s, name, &found);
	if (found)
		return error("%s'%s' is listed twice", where, name);
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	memmove(&s->v[at + 1], &s->v[at], (s->n - at) * sizeof(*s->v));
	s->v[at].name = xstrdup(name);
	for (size_t i = 0; i < len; i++)
		s->v[at].hex[i] = (char)tolower((unsigned char)hex[i]);
	s->v[at].hex[len] = '\0';
	s->n++;
	return 0;
}

int sums_add(struct sums *s, const char *name, const char *hex)
{
	return insert(s, name, hex, strlen(hex), "");
}

int sums_add_file(struct sums *s, const char *dir, const char *name)
{
	char hex[HASH_HEX_MAX];
	const char *why = name_problem(name);
	if (why)
		return error("file name '%.80s' %s", name, why);
	char *path = xasprintf("%s/%s", dir, name);
	int rc = hash_file_hex(s->algo, path, hex, NULL);
	free(path);
	return rc < 0 ? -1 : sums_add(s, name, hex);
}

static int format_line(struct buf *out, const char *hex, const char *name)
{
	/* Two spaces: sha256sum's text mode marker. */
	return buf_printf(out, "%s  %s\n", hex, name);
}

int sums_format(const struct sums *s, struct buf *out)
{
	for (size_t i = 0; i < s->n; i++) {
		if (format_line(out, s->v[i].hex, s->v[i].name) < 0)
			return error("checksum file is larger than %zu bytes", out->max);
	}
	return 0;
}

int sums_write(const struct sums *s, const char *path)
{
	struct buf b;
	buf_init(&b, SUMS_MAX_BYTES);
	int rc = sums_format(s, &b);
	if (rc == 0)
		rc = write_file_atomic(path, b.data, b.len, 0644);
	buf_release(&b);
	return rc;
}

int sums_write_each(const struct sums *s, const char *dir)
{
	for (size_t i = 0; i < s->n; i++) {
		struct buf b;
		const char *name = s->v[i].name, *slash = strrchr(name, '/');
		char *path = xasprintf("%s/%s.%s", dir, name, hash_algo_name(s->algo));
		buf_init(&b, SUMS_NAME_MAX + 2 * HASH_HEX_MAX);
		int rc = format_line(&b, s->v[i].hex, slash ? slash + 1 : name);
		if (rc == 0)
			rc = write_file_atomic(path, b.data, b.len, 0644);
		buf_release(&b);
		free(path);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* One line, without its '\n'. */
static int parse_line(struct sums *s, const char *line, size_t len, const char *what,
		      int lineno)
{
	size_t hl = hex_len(s->algo);
	if (len == 0)
		return error("'%s':%d: empty line", what, lineno);
	if (line[len - 1] == '\r')
		return error("'%s':%d: line ends with a carriage return (CRLF)", what, lineno);
	if (line[0] == '\\')
		return error("'%s':%d: escaped file names are not supported", what, lineno);
	if (len > hl + 2 + SUMS_NAME_MAX)
		return error("'%s':%d: line is longer than %zu bytes", what, lineno,
			     hl + 2 + SUMS_NAME_MAX);
	if (len < hl + 3 || check_hex(s, line, hl) < 0 || line[hl] != ' ')
		return error("'%s':%d: expected '<%s digest, %zu hex digits>  <file name>'",
			     what, lineno, hash_algo_name(s->algo), hl);
	if (line[hl + 1] != ' ' && line[hl + 1] != '*')
		return error("'%s':%d: expected two spaces (or ' *') after the digest", what,
			     lineno);
	if (memchr(line, '\0', len))
		return error("'%s':%d: line has a NUL byte", what, lineno);
	char *name = xstrndup(line + hl + 2, len - hl - 2);
	char *where = xasprintf("'%s':%d: ", what, lineno);
	int rc = insert(s, name, line, hl, where);
	free(where);
	free(name);
	return rc;
}

int sums_parse(const char *data, size_t len, const char *what, enum hash_algo algo,
	       struct sums *out)
{
	sums_init(out, algo);
	if (len > SUMS_MAX_BYTES)
		return error("'%s' is larger than %u bytes", what, SUMS_MAX_BYTES);
	int lineno = 0;
	for (size_t pos = 0; pos < len; ) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - data) : len;
		if (parse_line(out, data + pos, end - pos, what, ++lineno) < 0) {
			sums_release(out);
			return -1;
		}
		pos = end + 1;
	}
	return 0;
}

int sums_read(const char *path, enum hash_algo algo, struct sums *out)
{
	size_t len;
	sums_init(out, algo);
	char *data = read_file(path, SUMS_MAX_BYTES, &len);
	if (!data)
		return -1;
	int rc = sums_parse(data, len, path, algo, out);
	free(data);
	return rc;
}

int sums_add_published(struct sums *s, const char *dir, const char *name, const char *sha256)
{
	return s->algo == HASH_SHA256 ? sums_add(s, name, sha256) : sums_add_file(s, dir, name);
}

int sums_publish(const struct sums *s, const char *dir, const char *file, int per_file)
{
	if (path_check_name("checksum file", file) < 0)
		return -1;
	char *path = xasprintf("%s/%s", dir, file);
	int rc = sums_write(s, path);
	free(path);
	if (rc == 0 && per_file)
		rc = sums_write_each(s, dir);
	return rc;
}
