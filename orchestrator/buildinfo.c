/* buildinfo.c - Go's embedded build information (see buildinfo.h). */
#define _GNU_SOURCE
#include "buildinfo.h"
#include "base/binfmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "\xff Go buildinf:"
#define MAGIC_LEN 14
#define HEADER_LEN 32

/* A uvarint at *pos; -1 when it runs off the end or past 64 bits. */
static int uvarint(const unsigned char *d, size_t n, size_t *pos, uint64_t *out)
{
	uint64_t x = 0;
	for (int shift = 0; shift < 64 && *pos < n; shift += 7) {
		unsigned char b = d[(*pos)++];
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = x;
			return 0;
		}
	}
	return -1;
}

static char *read_string(const unsigned char *d, size_t n, size_t *pos, size_t *len)
{
	uint64_t l;
	if (uvarint(d, n, pos, &l) < 0 || l > BUILDINFO_MAX_STRING || l > n - *pos)
		return NULL;
	/* memcpy, not strndup: the module info's end sentinel holds a NUL */
	char *s = xmalloc((size_t)l + 1);
	memcpy(s, d + *pos, (size_t)l);
	s[l] = '\0';
	*pos += (size_t)l;
	*len = (size_t)l;
	return s;
}

/* The header: in .go.buildinfo when the section table says so, else the
 * first 16-byte aligned match in the file (Go's own rule). */
static const unsigned char *find_header(const unsigned char *d, size_t n)
{
	struct binfmt_section s;
	if (binfmt_section_named(d, n, ".go.buildinfo", &s) && s.size >= HEADER_LEN &&
	    !memcmp(d + s.offset, MAGIC, MAGIC_LEN))
		return d + s.offset;
	for (size_t off = 0; off + HEADER_LEN <= n; off += 16) {
		const unsigned char *p = memmem(d + off, n - off, MAGIC, MAGIC_LEN);
		if (!p || (size_t)(p - d) + HEADER_LEN > n)
			return NULL;
		off = (size_t)(p - d);
		if (off % 16 == 0)
			return p;
		off &= ~(size_t)15;
	}
	return NULL;
}

static void split_modinfo(struct buildinfo *bi, char *mod, size_t len)
{
	/* the sentinels: 16 bytes each side, the last line ends before them */
	if (len >= 33 && mod[len - 17] == '\n') {
		mod[len - 16] = '\0';
		mod += 16;
	}
	for (char *line = mod, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		for (char *t = line; *t; t++)
			if (*t == '\t')
				*t = ' ';
		if (!*line)
			continue;
		strv_push(&bi->lines, line);
		if (!strncmp(line, "path ", 5) && !bi->path)
			bi->path = xstrdup(line + 5);
	}
}

int buildinfo_read(const unsigned char *d, size_t n, struct buildinfo *bi)
{
	memset(bi, 0, sizeof(*bi));
	const unsigned char *h = find_header(d, n);
	if (!h)
		return 1;
	unsigned flags = h[15];
	if (!(flags & 2))
		return error("the build info uses the pre-Go 1.18 pointer format, which is not read here");
	size_t avail = n - (size_t)(h - d), pos = HEADER_LEN, vlen, mlen;
	char *mod = NULL;
	bi->go_version = read_string(h, avail, &pos, &vlen);
	if (bi->go_version)
		mod = read_string(h, avail, &pos, &mlen);
	if (!bi->go_version || !mod) {
		buildinfo_release(bi);
		return error("the build info is truncated or malformed");
	}
	split_modinfo(bi, mod, mlen);
	free(mod);
	return 0;
}

void buildinfo_release(struct buildinfo *bi)
{
	FREE_AND_NULL(bi->go_version);
	FREE_AND_NULL(bi->path);
	strv_release(&bi->lines);
}

const char *buildinfo_setting(const struct buildinfo *bi, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < bi->lines.n; i++) {
		const char *l = bi->lines.v[i];
		if (!strncmp(l, "build ", 6) && !strncmp(l + 6, key, kl) && l[6 + kl] == '=')
			return l + 7 + kl;
	}
	return NULL;
}
