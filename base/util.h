/* util.h - errors, exit codes, checked allocation and bounded buffers.
 *
 * Library-like modules report failures with error() and return -1 (or NULL);
 * only main-level code calls fatal().  The last error message is kept per
 * thread so that unit tests can assert on it (error_last()).
 */
#ifndef XGO_UTIL_H
#define XGO_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes, documented in README.md and DESIGN.md. */
enum {
	EXIT_OK = 0,
	EXIT_JOB = 1,         /* a build/job failed */
	EXIT_USAGE = 2,       /* usage or build-file error */
	EXIT_MISMATCH = 3,    /* reproducibility mismatch */
	EXIT_TOOLCHAIN = 4,   /* toolchain/SDK problem */
	EXIT_INTERRUPTED = 130,
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Diagnostics.  A format ending in ':' appends strerror(errno).
 * error() prints "xgo-build: error: ..." unless this thread is quiet
 * (error_quiet), stores the message for error_last() and returns -1.
 * error_last()'s buffer and error_count() are per thread too: a worker's
 * error never overwrites the message another thread is about to read. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int verror(const char *fmt, va_list ap);
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *error_last(void);
void error_clear(void);
/* How many errors this thread has printed (check counts its problems). */
unsigned error_count(void);
/* Silence (on = 1) or restore the printing of error() and warn() on the
 * calling thread only; the message is still kept for error_last().  Returns
 * the previous setting, to be restored around an expected failure:
 *     int quiet = error_quiet(1); ... error_quiet(quiet);
 * A new thread starts loud.  Unit tests call error_quiet(1) in setup. */
int error_quiet(int on);
extern int verbosity;    /* -1 quiet, 0 normal, 1 verbose */
extern int use_color;

/* Allocation that never returns NULL: out of memory is fatal (exit 4 is
 * wrong for it, so it exits 1 with a message). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);
/* Route jansson's allocations through xmalloc.  Called first by main:
 * jansson's parser does not always fail when an allocation fails (its lexer
 * drops the byte it could not store, found by tests/torture), so out of
 * memory must end the program, never yield a silently altered document. */
void json_alloc_init(void);
#define FREE_AND_NULL(p) do { free(p); (p) = NULL; } while (0)

/* A growable byte buffer with a hard maximum: appends past max fail with -1
 * and leave the buffer unchanged.  data is always NUL-terminated. */
struct buf {
	char *data;
	size_t len, cap, max;
};
void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *buf_detach(struct buf *b); /* caller owns the result */

/* A NULL-terminated vector of owned strings. */
struct strv {
	char **v;
	size_t n, cap;
};
void strv_push(struct strv *s, const char *str);       /* copies str */
void strv_push_owned(struct strv *s, char *str);       /* takes str */
void strv_pushf(struct strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strv_release(struct strv *s);
int strv_contains(const struct strv *s, const char *str);

/* Seconds on the monotonic clock (CLOCK_MONOTONIC): for durations, never
 * for dates.  sleep_ms sleeps ms milliseconds, through signals (EINTR). */
double mono_seconds(void);
void sleep_ms(long ms);

/* The closest of cands[0..n) to word by edit distance, or NULL when none is
 * close enough to be a plausible typo.  For "did you mean" hints. */
const char *suggest(const char *word, const char *const *cands, size_t n);

/* UTF-8 (RFC 3629: no overlong forms, surrogates or code points past
 * U+10FFFF).  utf8_seq: the length of the valid sequence at s (1-4), or 0.
 * utf8_valid: 1 when all of s is valid.  Every text from an input that is
 * recorded as JSON (manifest.json, events) or used as a name is checked. */
size_t utf8_seq(const unsigned char *s);
int utf8_valid(const char *s);

/* The value of a go command flag: "-name=value" or "-name value" (one
 * dash or two) in arg, the value then being next, which *used_next says;
 * NULL when arg is not that flag (or has no value). */
const char *go_flag_value(const char *arg, const char *next, const char *name, int *used_next);

/* Whole-file helpers.  read_file is the one bounded reader of untrusted
 * files: it refuses (error(), NULL) what is not a regular file, without
 * blocking on a FIFO, and anything past max bytes. */
char *read_file(const char *path, size_t max, size_t *len);
/* The one file copy loop.  Streams the regular file from (anything else is
 * refused without blocking on a FIFO or reading a device; with nofollow a
 * symlink is refused too, for a tree walk that saw a regular file) into
 * `to`, created with exactly mode (it must not exist yet; removed on
 * failure) or nowhere when to is NULL, passing each chunk to sink(arg)
 * when sink is set and the byte count to *size (may be NULL).  error()
 * and -1 on failure.  hash_copy_file and copy_file are its two uses. */
int file_stream(const char *from, int nofollow, const char *to, int mode,
		void (*sink)(void *arg, const void *p, size_t n), void *arg, uint64_t *size);
/* Copy the regular file from (not through a symlink) to the new file to,
 * with exactly mode. */
int copy_file(const char *from, const char *to, int mode);
/* Write data to path atomically: a temporary file beside it, fsync, rename. */
int write_file_atomic(const char *path, const void *data, size_t len, int mode);
/* mkdir -p; existing directories are fine. */
int mkdir_p(const char *path, int mode);
/* rm -rf; a missing path is fine. */
int remove_tree(const char *path);
/* Set the modification time of dir and of everything below it (links
 * themselves, not their targets) to t: a published dist/ is the same on
 * every machine, loose binaries included (GoReleaser's mod_timestamp). */
int stamp_tree(const char *dir, long long t);
/* A directory xgo-build publishes holds DIST_MARKER with DIST_MARKER_TEXT:
 * that is how a later run knows it may replace it.  No other directory
 * is ever replaced or removed as a whole (docs/runner.md, "dist/"). */
#define DIST_MARKER ".xgo-build-dist"
#define DIST_MARKER_TEXT "This directory was written by xgo-build: each run replaces it as a whole.\n"
/* Make the staging directory stage (absolute; its parents as needed)
 * with mkdir, never through something already in its place (a symlink
 * planted there), and write the marker into it.  error() and -1 when it
 * exists or cannot be made. */
int dist_make_stage(const char *stage);
/* 1 when dir is a directory xgo-build may replace: empty, or holding the
 * marker; 0 when it is not (or does not exist).  Never error(). */
int dist_is_ours(const char *dir);
/* 0 when dist may be replaced by a new release: it does not exist, or
 * dist_is_ours(); else error() naming it and what to do, and -1.  For an
 * early check (run, merge) with the same words as swap_into_place. */
int dist_check_replace(const char *dist);
/* A run or merge killed outside its signal handling (SIGKILL) leaves
 * <dist>.tmp-PID, or <dist>.old-PID in the middle of the swap, beside
 * dist (absolute): remove those whose process is gone and that
 * xgo-build wrote (dist_is_ours).  Notes what it removes. */
void dist_remove_stale(const char *dist);
/* Put the complete directory stage in the place of dist (beside it, on
 * the same file system): the previous dist is moved aside, replaced and
 * removed, or put back when the rename fails.  dist_check_replace() first:
 * a refused dist is error() and -1 with nothing moved.  Every writer of a
 * dist/ (run, merge) makes its stage with dist_make_stage and publishes it
 * with this. */
int swap_into_place(const char *stage, const char *dist);

#endif
