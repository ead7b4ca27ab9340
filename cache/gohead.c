#define _GNU_SOURCE
#include "gohead.h"
#include "base/hash.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The bytes of a line kept to decide whether it is a directive; the rest
 * of a longer directive line streams into the signature (it counts whole). */
#define LINE_MAX_KEPT 4096

static int is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c >= 0x80;
}

/* From i, past blanks and comments: the next token's start (n when the
 * text ends, also inside an unterminated comment). */
static size_t skip_blank(const char *s, size_t n, size_t i)
{
	while (i < n) {
		if (strchr(" \t\r\n", s[i]) && s[i] != '\0') {
			i++;
		} else if (s[i] == '/' && i + 1 < n && s[i + 1] == '/') {
			const char *nl = memchr(s + i, '\n', n - i);
			i = nl ? (size_t)(nl - s) : n;
		} else if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
			const char *e = memmem(s + i + 2, n - i - 2, "*/", 2);
			i = e ? (size_t)(e - s) + 2 : n;
		} else {
			break;
		}
	}
	return i;
}

/* The end of the token starting at i < n: a word, a string or rune
 * literal, or one other byte.  n for an unterminated literal. */
static size_t token_end(const char *s, size_t n, size_t i)
{
	char q = s[i];
	if (q == '"' || q == '\'') {
		for (i++; i < n && s[i] != q && s[i] != '\n'; i++)
			if (s[i] == '\\')
				i++;
		return i < n && s[i] == q ? i + 1 : n;
	}
	if (q == '`') {
		const char *e = memchr(s + i + 1, '`', n - i - 1);
		return e ? (size_t)(e - s) + 1 : n;
	}
	if (!is_word_byte((unsigned char)q))
		return i + 1;
	while (i < n && is_word_byte((unsigned char)s[i]))
		i++;
	return i;
}

static int token_is(const char *s, size_t start, size_t end, const char *word)
{
	return end - start == strlen(word) && !memcmp(s + start, word, end - start);
}

/* The end of one import declaration whose keyword ends at i: a spec
 * ([name] "path") or a parenthesised group of them.  n when the text
 * ends first. */
static size_t import_end(const char *s, size_t n, size_t i)
{
	size_t start = skip_blank(s, n, i), end;
	if (start >= n)
		return n;
	end = token_end(s, n, start);
	if (s[start] == '(') {
		do {
			start = skip_blank(s, n, end);
			if (start >= n)
				return n;
			end = token_end(s, n, start);
		} while (s[start] != ')');
		return end;
	}
	if (s[start] == '"' || s[start] == '`')
		return end;
	start = skip_blank(s, n, end); /* past the name: the path */
	return start >= n ? n : token_end(s, n, start);
}

size_t gohead_end(const char *s, size_t n)
{
	size_t start = skip_blank(s, n, 0), end;
	if (start >= n || !token_is(s, start, token_end(s, n, start), "package"))
		return n;
	start = skip_blank(s, n, start + strlen("package"));
	if (start >= n || !is_word_byte((unsigned char)s[start]))
		return n;
	end = token_end(s, n, start); /* the package name */
	for (;;) {
		start = skip_blank(s, n, end);
		if (start >= n)
			return n;
		end = token_end(s, n, start);
		if (end - start == 1 && s[start] == ';')
			continue;
		if (!token_is(s, start, end, "import"))
			return start;
		end = import_end(s, n, end);
		if (end >= n)
			return n;
	}
}

/* Lines of a file, for the line rules, fed in chunks of any size. */
struct lines {
	char line[LINE_MAX_KEPT];
	size_t len;
	const char *directive; /* the prefix after "//" and blanks that counts */
	const char *also;      /* a second one, or NULL */
	int streaming;         /* a directive longer than line[]: its rest is hashed as it comes */
	struct hasher *sig;
};

static int has_directive(const struct lines *l)
{
	size_t i = 0;
	while (i < l->len && (l->line[i] == ' ' || l->line[i] == '\t'))
		i++;
	if (l->len - i < 2 || memcmp(l->line + i, "//", 2))
		return 0;
	for (i += 2; i < l->len && l->line[i] == ' '; i++)
		;
	const char *p[] = { l->directive, l->also };
	for (size_t k = 0; k < ARRAY_LEN(p); k++)
		if (p[k] && l->len - i >= strlen(p[k]) && !memcmp(l->line + i, p[k], strlen(p[k])))
			return 1;
	return 0;
}

static void lines_end(struct lines *l)
{
	if (l->streaming) {
		hasher_update(l->sig, "\n", 1);
	} else if (has_directive(l)) {
		hasher_update(l->sig, l->line, l->len);
		hasher_update(l->sig, "\n", 1);
	}
	l->len = 0;
	l->streaming = 0;
}

/* Add take bytes of the current line: kept in line[] while it fits; past
 * that, a directive line's bytes go to the signature, another's nowhere. */
static void lines_add(struct lines *l, const char *p, size_t take)
{
	size_t room = sizeof(l->line) - l->len, keep = take < room ? take : room;
	memcpy(l->line + l->len, p, keep);
	l->len += keep;
	if (keep == take)
		return;
	if (!l->streaming && l->len == sizeof(l->line) && has_directive(l)) {
		hasher_update(l->sig, l->line, l->len);
		l->streaming = 1;
	}
	if (l->streaming)
		hasher_update(l->sig, p + keep, take - keep);
}

static void lines_feed(struct lines *l, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		lines_add(l, p, take);
		if (!nl)
			return;
		lines_end(l);
		p = nl + 1;
		n -= take + 1;
	}
}

static int go_file(const char *path, char content[65], char sig[65])
{
	size_t len;
	int saved = error_quiet(1); /* the caller decides what a missing file means */
	char *text = read_file(path, GOHEAD_GO_MAX, &len);
	error_quiet(saved);
	if (!text)
		return -1;
	struct lines l = { .directive = "go:embed", .sig = hasher_new(HASH_SHA256) };
	size_t head = gohead_end(text, len);
	hash_bytes_hex(HASH_SHA256, text, len, content);
	hasher_update(l.sig, "go head\n", 8);
	hasher_update(l.sig, text, head);
	hasher_update(l.sig, "\nembed\n", 7);
	lines_feed(&l, text, len);
	lines_end(&l);
	hasher_final_hex(l.sig, sig);
	hasher_free(l.sig);
	free(text);
	return 0;
}

static int other_file(const char *path, char content[65], char sig[65])
{
	static _Thread_local char chunk[1 << 16];
	/* O_NONBLOCK and fstat: a FIFO among the inputs must not block; like
	 * a missing file it is "unreadable" for the caller, without an error */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), rc = -1;
	struct stat st;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	struct hasher *h = hasher_new(HASH_SHA256);
	struct lines l = { .directive = "go:build", .also = "+build", .sig = hasher_new(HASH_SHA256) };
	hasher_update(l.sig, "constraints\n", 12);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		hasher_update(h, chunk, (size_t)n);
		lines_feed(&l, chunk, (size_t)n);
	}
	lines_end(&l);
	hasher_final_hex(h, content);
	hasher_final_hex(l.sig, sig);
	rc = 0;
out:
	close(fd);
	hasher_free(h);
	hasher_free(l.sig);
	return rc;
}

int gohead_file(const char *path, int is_go, char content[65], char sig[65])
{
	if (!is_go)
		return other_file(path, content, sig);
	if (go_file(path, content, sig) == 0)
		return 0;
	/* too big to scan: the whole file is its head */
	int rc;
	int saved = error_quiet(1);
	rc = hash_file_hex(HASH_SHA256, path, content, NULL);
	error_quiet(saved);
	if (rc == 0)
		memcpy(sig, content, 65);
	return rc;
}
