#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Per thread, so that a worker silencing its expected failures cannot
 * silence another thread's errors. */
static _Thread_local int quiet_errors;
int verbosity;
int use_color;

static _Thread_local char last_error[1024];
static _Thread_local unsigned errors_printed;

static void vformat(char *out, size_t size, const char *fmt, va_list ap)
{
	int saved = errno;
	size_t flen = strlen(fmt);
	vsnprintf(out, size, fmt, ap);
	if (flen && fmt[flen - 1] == ':') {
		size_t len = strlen(out);
		snprintf(out + len, size - len, " %s", strerror(saved));
	}
}

int verror(const char *fmt, va_list ap)
{
	vformat(last_error, sizeof(last_error), fmt, ap);
	if (!quiet_errors) {
		fprintf(stderr, "xgo-build: error: %s\n", last_error);
		errors_printed++;
	}
	return -1;
}

int error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(fmt, ap);
	va_end(ap);
	return -1;
}

double mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int error_quiet(int on)
{
	int was = quiet_errors;
	quiet_errors = on;
	return was;
}

unsigned error_count(void)
{
	return errors_printed;
}

const char *error_last(void)
{
	return last_error;
}

void error_clear(void)
{
	last_error[0] = '\0';
}

void warn(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	if (verbosity < 0) /* --quiet: errors only */
		return;
	va_start(ap, fmt);
	vformat(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!quiet_errors)
		fprintf(stderr, "xgo-build: warning: %s\n", msg);
}

void note(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	if (verbosity < 0)
		return;
	va_start(ap, fmt);
	vformat(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "xgo-build: %s\n", msg);
}

void fatal(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(fmt, ap);
	va_end(ap);
	exit(code);
}

static void *oom(void)
{
	fputs("xgo-build: error: out of memory\n", stderr);
	exit(EXIT_JOB);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	return p ? p : oom();
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	return p ? p : oom();
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return oom();
	size_t bytes = n * size;
	p = realloc(p, bytes ? bytes : 1);
	return p ? p : oom();
}

void json_alloc_init(void)
{
	json_set_alloc_funcs(xmalloc, free);
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	return p ? p : oom();
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	return p ? p : oom();
}

char *xvasprintf(const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return oom();
	char *s = xmalloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b, b->max);
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return -1;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = xreallocarray(b->data, cap, 1);
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	int rc = buf_puts(b, s);
	free(s);
	return rc;
}

char *buf_detach(struct buf *b)
{
	char *s = b->data ? b->data : xstrdup("");
	buf_init(b, b->max);
	return s;
}

void strv_push_owned(struct strv *s, char *str)
{
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
}

void strv_push(struct strv *s, const char *str)
{
	strv_push_owned(s, xstrdup(str));
}

void strv_pushf(struct strv *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	strv_push_owned(s, xvasprintf(fmt, ap));
	va_end(ap);
}

void strv_release(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

int strv_contains(const struct strv *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], str))
			return 1;
	return 0;
}

/* Optimal string alignment distance: a swap of two neighbours ("nmae")
 * counts as one edit, as typos usually are. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	size_t d[65][65];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

const char *suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, cands[i]);
		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	/* A plausible typo: at most a third of the word changed (min 1, max 3). */
	size_t limit = strlen(word) / 3;
	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	return best_d <= limit ? best : NULL;
}

size_t utf8_seq(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (!n || s[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
		return 0;
	if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
		return 0;
	return n;
}

int utf8_valid(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = utf8_seq(p);
		if (!n)
			return 0;
		p += n;
	}
	return 1;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* path opened for reading (*st filled), or error() and -1 when it is not a
 * regular file: O_NONBLOCK so that opening a FIFO does not wait for a
 * writer, and fstat before the first read, so that a device or FIFO is
 * never read.  The one check of read_file and file_stream. */
static int open_regular(const char *path, int nofollow, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
	if (fd < 0)
		return error("cannot read '%s':", path);
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		error("refusing '%s': not a regular file", path);
		close(fd);
		return -1;
	}
	return fd;
}

char *read_file(const char *path, size_t max, size_t *len)
{
	struct buf b;
	char chunk[65536];
	struct stat st;
	int fd = open_regular(path, 0, &st);
	if (fd < 0)
		return NULL;
	if ((size_t)st.st_size > max) {
		close(fd);
		error("'%s' is larger than %zu bytes", path, max);
		return NULL;
	}
	buf_init(&b, max);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			buf_release(&b);
			error("cannot read '%s':", path);
			return NULL;
		}
		if (n == 0)
			break;
		if (buf_append(&b, chunk, (size_t)n) < 0) {
			close(fd);
			buf_release(&b);
			error("'%s' is larger than %zu bytes", path, max);
			return NULL;
		}
	}
	close(fd);
	if (len)
		*len = b.len;
	return buf_detach(&b);
}

int file_stream(const char *from, int nofollow, const char *to, int mode,
		void (*sink)(void *arg, const void *p, size_t n), void *arg, uint64_t *size)
{
	static _Thread_local unsigned char chunk[1 << 17];
	uint64_t total = 0;
	struct stat st;
	int fd = open_regular(from, nofollow, &st), out = -1, rc = -1;
	if (fd < 0)
		return -1;
	if (to && (out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) < 0) {
		close(fd);
		return error("cannot create '%s':", to);
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error("cannot read '%s':", from);
			goto out;
		}
		if (n == 0)
			break;
		if (sink)
			sink(arg, chunk, (size_t)n);
		total += (uint64_t)n;
		if (out >= 0 && write_all(out, chunk, (size_t)n) < 0) {
			error("cannot write '%s':", to);
			goto out;
		}
	}
	/* exactly mode, whatever this process's umask */
	if (out >= 0 && (fchmod(out, (mode_t)mode) < 0 || close(out) < 0)) {
		out = -1;
		error("cannot write '%s':", to);
		goto out;
	}
	out = -1;
	if (size)
		*size = total;
	rc = 0;
out:
	if (out >= 0)
		close(out);
	if (rc < 0 && to)
		unlink(to);
	close(fd);
	return rc;
}

int copy_file(const char *from, const char *to, int mode)
{
	return file_stream(from, 1, to, mode, NULL, NULL, NULL);
}

int write_file_atomic(const char *path, const void *data, size_t len, int mode)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int rc = -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		error("cannot create '%s':", tmp);
		goto out;
	}
	if (write_all(fd, data, len) < 0) {
		error("cannot write '%s':", tmp);
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (fchmod(fd, (mode_t)mode) < 0 || fsync(fd) < 0) {
		error("cannot write '%s':", tmp);
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		error("cannot write '%s':", path);
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}

int mkdir_p(const char *path, int mode)
{
	char *p = xstrdup(path);
	int rc = 0;
	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
			rc = error("cannot create directory '%s':", p);
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return rc;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0 && errno != ENOENT)
		return error("cannot remove '%s':", path);
	return 0;
}

int remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : error("cannot remove '%s':", path);
	return nftw(path, remove_one, 32, FTW_DEPTH | FTW_PHYS) ? -1 : 0;
}

static struct timespec stamp_time[2]; /* nftw has no user pointer */

static int stamp_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	if (utimensat(AT_FDCWD, path, stamp_time, AT_SYMLINK_NOFOLLOW) < 0)
		return error("cannot set the time of '%s':", path), -1;
	return 0;
}

int stamp_tree(const char *dir, long long t)
{
	stamp_time[0] = stamp_time[1] = (struct timespec){ .tv_sec = (time_t)t };
	/* depth first: stamping a directory last, after its entries */
	return nftw(dir, stamp_one, 32, FTW_DEPTH | FTW_PHYS) ? -1 : 0;
}

int dist_make_stage(const char *stage)
{
	char *parent = xstrdup(stage), *path = xasprintf("%s/%s", stage, DIST_MARKER);
	char *slash = strrchr(parent, '/');
	int rc = -1;
	if (slash)
		*slash = '\0';
	if (mkdir_p(parent[0] ? parent : "/", 0755) < 0)
		goto out;
	if (mkdir(stage, 0755) < 0) {
		error("cannot create the staging directory '%s':", stage);
		goto out;
	}
	rc = write_file_atomic(path, DIST_MARKER_TEXT, strlen(DIST_MARKER_TEXT), 0644);
out:
	free(parent);
	free(path);
	return rc;
}

/* The marker is a regular file with exactly the text we write: a file of
 * that name with anything else in it is not ours. */
static int has_marker(const char *dir)
{
	char *path = xasprintf("%s/%s", dir, DIST_MARKER), *text = NULL;
	size_t len = 0;
	struct stat st;
	/* a missing marker is an answer, not an error: read only a candidate */
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == strlen(DIST_MARKER_TEXT))
		text = read_file(path, 4096, &len);
	int ok = text && len == strlen(DIST_MARKER_TEXT) && !memcmp(text, DIST_MARKER_TEXT, len);
	free(text);
	free(path);
	return ok;
}

int dist_is_ours(const char *dir)
{
	struct stat st;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	if (has_marker(dir))
		return 1;
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = d != NULL;
	while (d && empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return empty;
}

int dist_check_replace(const char *dist)
{
	struct stat st;
	if (lstat(dist, &st) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return error("'%s' exists and is not a directory: move it away (dist/ is replaced as a whole)", dist);
	if (!dist_is_ours(dist))
		return error("'%s' is not empty and holds no %s: xgo-build replaces only a directory it wrote "
			     "(an older version's dist/ has none either); move it away or name another --dist",
			     dist, DIST_MARKER);
	return 0;
}

/* <dist>.tmp-PID or <dist>.old-PID: the PID when name is one, else 0. */
static long leftover_pid(const char *name, const char *base)
{
	size_t blen = strlen(base);
	char *end;
	if (strncmp(name, base, blen) || (strncmp(name + blen, ".tmp-", 5) && strncmp(name + blen, ".old-", 5)))
		return 0;
	const char *pid = name + blen + 5;
	long v = strtol(pid, &end, 10);
	return *pid >= '1' && *pid <= '9' && !*end && v > 0 ? v : 0;
}

void dist_remove_stale(const char *dist)
{
	char *dir = xstrdup(dist), *slash = strrchr(dir, '/');
	const char *base = slash + 1;
	*slash = '\0'; /* dist is absolute */
	DIR *d = opendir(dir[0] ? dir : "/");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		long pid = leftover_pid(de->d_name, base);
		if (!pid || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char *path = xasprintf("%s/%s", dir, de->d_name);
		if (dist_is_ours(path)) {
			note("removing '%s', left by an interrupted run", path);
			remove_tree(path);
		}
		free(path);
	}
	if (d)
		closedir(d);
	free(dir);
}

int swap_into_place(const char *stage, const char *dist)
{
	char *old = xasprintf("%s.old-%ld", dist, (long)getpid());
	struct stat st;
	int had = lstat(dist, &st) == 0;
	int rc = -1;
	if (dist_check_replace(dist) < 0)
		goto out;
	if (had && rename(dist, old) < 0) {
		error("cannot move the previous '%s' aside:", dist);
		goto out;
	}
	if (rename(stage, dist) < 0) {
		error("cannot move the new release into '%s':", dist);
		if (had)
			rename(old, dist);
		goto out;
	}
	if (had)
		remove_tree(old);
	rc = 0;
out:
	free(old);
	return rc;
}

const char *go_flag_value(const char *arg, const char *next, const char *name, int *used_next)
{
	size_t n = strlen(name);
	*used_next = 0;
	if (arg[0] != '-')
		return NULL;
	arg += arg[1] == '-' ? 2 : 1;
	if (strncmp(arg, name, n))
		return NULL;
	if (arg[n] == '=')
		return arg + n + 1;
	if (arg[n] == '\0' && next) {
		*used_next = 1;
		return next;
	}
	return NULL;
}
