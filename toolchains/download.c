/* download.c - libcurl transfers with resume, retries and stall detection
 * (see download.h). */
#define _POSIX_C_SOURCE 200809L
#include "download.h"
#include "base/http.h"
#include "base/hash.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Without a size or a bound, no download may exceed this. */
#define EXT_DEFAULT_MAX (4ULL << 30)

static long env_long(const char *name, long def, long lo, long hi)
{
	const char *s = getenv(name);
	char *end;
	if (!s || !*s)
		return def;
	long v = strtol(s, &end, 10);
	return (*end || v < lo || v > hi) ? def : v;
}

/* HTTP_POLICY_DOWNLOAD with the test and user overrides. */
static struct http_policy policy(void)
{
	struct http_policy p = HTTP_POLICY_DOWNLOAD;
	p.stall_s = env_long("XGO_DL_STALL_SECONDS", p.stall_s, 1, 3600);
	p.backoff_ms = env_long("XGO_DL_BACKOFF_MS", p.backoff_ms, 0, 60000);
	return p;
}

/* ---- in-memory fetch ---- */

static void fetch_retrying(void *ud, const char *why, int attempt, int tries)
{
	warn("fetching '%s' failed (%s); retrying (%d/%d)", (const char *)ud, why, attempt, tries - 1);
}

int dl_fetch(const char *url, size_t max, char **data, size_t *len, long *http_status)
{
	struct http_policy p = policy();
	struct buf b;
	buf_init(&b, max);
	struct http_request rq = { .url = url, .mem = &b, .max = max, .retrying = fetch_retrying,
				   .retry_ud = (void *)url };
	struct http_result res;
	int rc = http_request(&p, &rq, &res);
	*http_status = res.status;
	*data = NULL;
	*len = 0;
	if (rc == 0) {
		*len = b.len;
		*data = buf_detach(&b);
		return 0;
	}
	buf_release(&b);
	if (res.too_large)
		return error("'%s' is larger than %zu bytes; refusing it", url, max);
	return error("cannot fetch '%s': %s", url, res.why);
}

/* ---- file download ---- */

struct xfer {
	int fd;
	const char *url, *part;
	struct hasher *h;
	uint64_t offset; /* bytes in the .part file */
	uint64_t limit;  /* more than this is an error */
	uint64_t size;   /* expected, 0 = unknown */
	int checked;     /* first-write check done */
	int io_error;
	/* progress */
	const char *name;
	uint64_t start_offset;
	double t0, last_draw;
	int tty;
};

static int reset_part(struct xfer *x)
{
	if (ftruncate(x->fd, 0) < 0 || lseek(x->fd, 0, SEEK_SET) < 0)
		return -1;
	hasher_free(x->h);
	x->h = hasher_new(HASH_SHA256);
	x->offset = 0;
	x->start_offset = 0;
	return 0;
}

static int file_write(void *ud, long status, const char *p, size_t len)
{
	struct xfer *x = ud;
	if (!x->checked) {
		x->checked = 1;
		/* 200 to a range request: the server sends everything again. */
		if (x->start_offset > 0 && status == 200) {
			if (verbosity > 0)
				note("'%s': the server ignored the range request; starting again from zero", x->name);
			if (reset_part(x) < 0) {
				x->io_error = errno;
				return -1;
			}
		}
	}
	for (size_t done = 0; done < len;) {
		ssize_t w = write(x->fd, p + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			x->io_error = errno;
			return -1;
		}
		done += (size_t)w;
	}
	hasher_update(x->h, p, len);
	x->offset += len;
	return 0;
}

static void human(char *out, size_t size, double bytes)
{
	if (bytes >= 1024.0 * 1024 * 1024)
		snprintf(out, size, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
	else if (bytes >= 1024.0 * 1024)
		snprintf(out, size, "%.1f MiB", bytes / (1024.0 * 1024));
	else
		snprintf(out, size, "%.0f KiB", bytes / 1024.0);
}

static void draw(struct xfer *x, int final)
{
	double t = mono_seconds();
	if (!final && t - x->last_draw < 0.1)
		return;
	x->last_draw = t;
	char got[32], tot[32], rate[32];
	double secs = t - x->t0 > 0.001 ? t - x->t0 : 0.001;
	double bps = (double)(x->offset - x->start_offset) / secs;
	human(got, sizeof(got), (double)x->offset);
	human(tot, sizeof(tot), (double)x->size);
	human(rate, sizeof(rate), bps);
	char eta[32] = "";
	if (x->size > x->offset && bps > 1)
		snprintf(eta, sizeof(eta), "  ETA %.0fs", (double)(x->size - x->offset) / bps);
	int pct = x->size ? (int)(100.0 * (double)x->offset / (double)x->size) : 0;
	fprintf(stderr, "\r%s  %3d%%  %s / %s  %s/s%s\033[K%s", x->name, pct, got, tot, rate, eta,
		final ? "\n" : "");
}

static void on_progress(void *ud)
{
	draw(ud, 0);
}

static void on_end(void *ud)
{
	draw(ud, 1);
}

/* Hash the bytes already in the .part file so the digest covers them. */
static int rehash_part(struct xfer *x)
{
	static _Thread_local unsigned char chunk[1 << 16];
	if (lseek(x->fd, 0, SEEK_SET) < 0)
		return -1;
	x->offset = 0;
	for (;;) {
		ssize_t n = read(x->fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		hasher_update(x->h, chunk, (size_t)n);
		x->offset += (uint64_t)n;
	}
}

/* Before each attempt: resume from what the .part holds. */
static int on_begin(struct http_request *rq, int attempt)
{
	struct xfer *x = rq->sink.ud;
	(void)attempt;
	hasher_free(x->h);
	x->h = hasher_new(HASH_SHA256);
	if (rehash_part(x) < 0)
		return error("cannot read '%s':", x->part);
	if (x->offset > x->limit && reset_part(x) < 0)
		return error("cannot truncate '%s':", x->part);
	if (!x->tty)
		note("downloading '%s'%s", x->url, x->offset ? " (resuming)" : "");
	x->start_offset = x->offset;
	if (x->size && x->offset == x->size)
		return 1; /* complete from an earlier run: just verify */
	rq->resume_from = x->offset;
	x->checked = 0;
	x->t0 = mono_seconds();
	x->last_draw = 0;
	return 0;
}

static void file_retrying(void *ud, const char *why, int attempt, int tries)
{
	warn("downloading '%s' failed (%s); retrying (%d/%d)", (const char *)ud, why, attempt, tries - 1);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* The transfer, with a clean restart (at most two) when resuming is what
 * went wrong: 0 the .part holds the verified file, -1 after error() with
 * *keep set when the .part is worth resuming next run. */
static int fetch_part(const char *url, struct xfer *x, const struct dl_expect *exp, char got[HASH_HEX_MAX],
		      int *keep)
{
	struct http_policy p = policy();
	struct http_request rq = { .url = url, .max = x->limit, .retrying = file_retrying, .retry_ud = (void *)url };
	rq.sink = (struct http_sink){ .begin = on_begin, .write = file_write, .ud = x };
	if (x->tty) {
		rq.sink.progress = on_progress;
		rq.sink.end = on_end;
	}
	*keep = 0;
	for (int restarts = 0;; restarts++) {
		struct http_result res;
		int rc = http_request(&p, &rq, &res);
		if (res.too_large)
			return error("'%s' is larger than the %" PRIu64 " bytes expected; removed it", url, x->limit);
		if (x->io_error) {
			errno = x->io_error;
			return error("cannot write '%s':", x->part);
		}
		if (res.sink_error) {
			*keep = 1;
			return -1; /* on_begin said why */
		}
		int restart = 0;
		if (rc == 0) {
			hasher_final_hex(x->h, got);
			int bad_size = exp->size && x->offset != exp->size;
			int bad_hash = exp->sha256 && strcmp(got, exp->sha256) != 0;
			if ((bad_size || bad_hash) && x->start_offset > 0 && restarts < 2) {
				/* Bytes from an earlier run may be the bad ones: one clean try. */
				warn("'%s' does not match after resuming; downloading it again from zero", url);
				restart = 1;
			} else if (bad_size) {
				return error("size mismatch for '%s': expected %" PRIu64 " bytes, got %" PRIu64
					     "; removed the download", url, exp->size, x->offset);
			} else if (bad_hash) {
				return error("checksum mismatch for '%s': expected sha256 %s, got %s; removed the download",
					     url, exp->sha256, got);
			} else {
				return 0;
			}
		} else if (res.range_refused && restarts < 2) {
			restart = 1; /* the server cannot resume (or the .part is bad): start over */
		}
		if (restart) {
			if (reset_part(x) < 0) {
				*keep = 1;
				return error("cannot truncate '%s':", x->part);
			}
			continue;
		}
		if (res.transient) {
			*keep = 1; /* the next run resumes it */
			return error("cannot download '%s': %s (gave up after %d attempts; run again to resume)", url,
				     res.why, res.attempts);
		}
		return error("cannot download '%s': %s", url, res.why);
	}
}

int dl_file(const char *url, const char *dest, const struct dl_expect *exp, char sha256_out[65])
{
	char got[HASH_HEX_MAX];
	int rc = -1, keep = 1;
	char *part = xasprintf("%s.part", dest);
	struct xfer x = { .fd = -1, .url = url, .part = part, .name = base_name(dest) };
	x.limit = exp->size ? exp->size : exp->max_size ? exp->max_size : EXT_DEFAULT_MAX;
	x.size = exp->size;
	x.tty = verbosity >= 0 && isatty(2);
	x.fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (x.fd < 0) {
		error("cannot create '%s':", part);
		goto out;
	}
	double t0 = mono_seconds();
	if (fetch_part(url, &x, exp, got, &keep) < 0)
		goto out;
	keep = 0;
	if (fsync(x.fd) < 0 || close(x.fd) < 0) {
		x.fd = -1;
		error("cannot write '%s':", part);
		goto out;
	}
	x.fd = -1;
	if (rename(part, dest) < 0) {
		error("cannot rename '%s' to '%s':", part, dest);
		goto out;
	}
	if (!x.tty) {
		char size[32];
		human(size, sizeof(size), (double)x.offset);
		note("downloaded '%s' (%s in %.1fs)", base_name(dest), size, mono_seconds() - t0);
	}
	if (sha256_out)
		memcpy(sha256_out, got, 65);
	rc = 0;
out:
	/* Keep a partial download for resuming only after transient errors:
	 * everything else is either wrong bytes or a hard error. */
	if (rc < 0 && !keep)
		unlink(part);
	if (x.fd >= 0)
		close(x.fd);
	hasher_free(x.h);
	free(part);
	return rc;
}
