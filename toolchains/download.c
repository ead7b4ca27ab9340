/* download.c - libcurl transfers with resume, retries and stall detection
 * (see download.h). */
#define _POSIX_C_SOURCE 200809L
#include "toolchains/download.h"
#include "orchestrator/hash.h"
#include "orchestrator/util.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Without a size or a bound, no download may exceed this. */
#define EXT_DEFAULT_MAX (4ULL << 30)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void curl_init_once(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

int dl_curl_init(void)
{
	pthread_once(&curl_once, curl_init_once);
	return curl_ok ? 0 : error("cannot initialise libcurl");
}

static long env_long(const char *name, long def, long lo, long hi)
{
	const char *s = getenv(name);
	char *end;
	if (!s || !*s)
		return def;
	long v = strtol(s, &end, 10);
	return (*end || v < lo || v > hi) ? def : v;
}

/* Common options: protocols, redirects, stall detection instead of a
 * total timeout, errors for HTTP >= 400. */
static CURL *easy_new(const char *url, char *errbuf)
{
	CURL *c = curl_easy_init();
	if (!c)
		return NULL;
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)DL_CONNECT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, (long)DL_STALL_BYTES);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, env_long("XGO_DL_STALL_SECONDS", DL_STALL_SECONDS, 1, 3600));
	curl_easy_setopt(c, CURLOPT_USERAGENT, "xgo-build/" XGO_VERSION);
	return c;
}

/* Worth another attempt: the network or the server hiccupped. */
static int transient(CURLcode cc, long status)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	case CURLE_HTTP_RETURNED_ERROR:
		return status == 408 || status == 429 || status >= 500;
	default:
		return 0;
	}
}

static void describe(char *out, size_t size, CURLcode cc, long status, const char *errbuf)
{
	if (cc == CURLE_HTTP_RETURNED_ERROR)
		snprintf(out, size, "HTTP %ld", status);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		snprintf(out, size, "stalled (%s)", errbuf[0] ? errbuf : curl_easy_strerror(cc));
	else
		snprintf(out, size, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
}

static long backoff(int attempt)
{
	long ms = env_long("XGO_DL_BACKOFF_MS", 500, 0, 60000);
	for (int i = 1; i < attempt && ms < 8000; i++)
		ms *= 2;
	return ms > 8000 ? 8000 : ms;
}

/* ---- in-memory fetch ---- */

static size_t mem_write(char *p, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;
	return buf_append(b, p, size * n) < 0 ? 0 : size * n;
}

int dl_fetch(const char *url, size_t max, char **data, size_t *len, long *http_status)
{
	char errbuf[CURL_ERROR_SIZE], why[CURL_ERROR_SIZE + 64];
	struct buf b;
	*data = NULL;
	*len = 0;
	*http_status = 0;
	if (dl_curl_init() < 0)
		return -1;
	buf_init(&b, max);
	for (int attempt = 1; ; attempt++) {
		CURL *c = easy_new(url, errbuf);
		if (!c) {
			buf_release(&b);
			return error("cannot initialise libcurl");
		}
		b.len = 0;
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mem_write);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		CURLcode cc = curl_easy_perform(c);
		long status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(c);
		*http_status = status;
		if (cc == CURLE_OK) {
			*len = b.len;
			*data = buf_detach(&b);
			return 0;
		}
		if (cc == CURLE_WRITE_ERROR) {
			buf_release(&b);
			return error("'%s' is larger than %zu bytes; refusing it", url, max);
		}
		describe(why, sizeof(why), cc, status, errbuf);
		if (!transient(cc, status) || attempt >= DL_RETRIES) {
			buf_release(&b);
			return error("cannot fetch '%s': %s", url, why);
		}
		warn("fetching '%s' failed (%s); retrying (%d/%d)", url, why, attempt, DL_RETRIES - 1);
		sleep_ms(backoff(attempt));
	}
}

/* ---- file download ---- */

struct xfer {
	CURL *curl;
	int fd;
	const char *part;
	struct hasher *h;
	uint64_t offset; /* bytes in the .part file */
	uint64_t limit;  /* more than this is an error */
	int ranged;      /* asked to resume */
	int checked;     /* first-write check done */
	int too_big, io_error;
	/* progress */
	const char *name;
	uint64_t total;
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

static size_t file_write(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	if (!x->checked) {
		long status = 0;
		x->checked = 1;
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
		/* 200 to a range request: the server sends everything again. */
		if (x->ranged && status == 200) {
			if (verbosity > 0)
				note("'%s': the server ignored the range request; starting again from zero", x->name);
			if (reset_part(x) < 0) {
				x->io_error = errno;
				return 0;
			}
		}
	}
	if (x->offset + len > x->limit) {
		x->too_big = 1;
		return 0;
	}
	for (size_t done = 0; done < len;) {
		ssize_t w = write(x->fd, p + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			x->io_error = errno;
			return 0;
		}
		done += (size_t)w;
	}
	hasher_update(x->h, p, len);
	x->offset += len;
	return len;
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
	human(tot, sizeof(tot), (double)x->total);
	human(rate, sizeof(rate), bps);
	char eta[32] = "";
	if (x->total > x->offset && bps > 1)
		snprintf(eta, sizeof(eta), "  ETA %.0fs", (double)(x->total - x->offset) / bps);
	int pct = x->total ? (int)(100.0 * (double)x->offset / (double)x->total) : 0;
	fprintf(stderr, "\r%s  %3d%%  %s / %s  %s/s%s\033[K%s", x->name, pct, got, tot, rate, eta,
		final ? "\n" : "");
}

static int progress_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	struct xfer *x = ud;
	if (x->tty)
		draw(x, 0);
	return 0;
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

/* One transfer attempt.  Returns the curl result; *status the HTTP code. */
static CURLcode attempt_once(const char *url, struct xfer *x, char *errbuf, long *status)
{
	CURLcode cc;
	x->curl = easy_new(url, errbuf);
	if (!x->curl)
		return CURLE_FAILED_INIT;
	x->ranged = x->offset > 0;
	x->checked = 0;
	x->start_offset = x->offset;
	x->t0 = mono_seconds();
	x->last_draw = 0;
	if (x->ranged)
		curl_easy_setopt(x->curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)x->offset);
	curl_easy_setopt(x->curl, CURLOPT_WRITEFUNCTION, file_write);
	curl_easy_setopt(x->curl, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->curl, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(x->curl, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(x->curl, CURLOPT_NOPROGRESS, 0L);
	cc = curl_easy_perform(x->curl);
	*status = 0;
	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(x->curl);
	x->curl = NULL;
	if (x->tty)
		draw(x, 1);
	return cc;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

int dl_file(const char *url, const char *dest, const struct dl_expect *exp, char sha256_out[65])
{
	char errbuf[CURL_ERROR_SIZE], why[CURL_ERROR_SIZE + 64], got[HASH_HEX_MAX];
	int rc = -1, restarts = 0;
	char *part = xasprintf("%s.part", dest);
	struct xfer x = { .fd = -1, .part = part, .name = base_name(dest) };
	if (dl_curl_init() < 0)
		goto out;
	x.limit = exp->size ? exp->size : exp->max_size ? exp->max_size : EXT_DEFAULT_MAX;
	x.total = exp->size;
	x.tty = verbosity >= 0 && isatty(2);
	x.fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (x.fd < 0) {
		error("cannot create '%s':", part);
		goto out;
	}
	double t0 = mono_seconds();
	for (int attempt = 1; ; attempt++) {
		long status = 0;
		hasher_free(x.h);
		x.h = hasher_new(HASH_SHA256);
		if (rehash_part(&x) < 0) {
			error("cannot read '%s':", part);
			goto out;
		}
		if (x.offset > x.limit && reset_part(&x) < 0) {
			error("cannot truncate '%s':", part);
			goto out;
		}
		if (!x.tty)
			note("downloading '%s'%s", url, x.offset ? " (resuming)" : "");
		CURLcode cc = CURLE_OK;
		if (exp->size && x.offset == exp->size)
			x.start_offset = x.offset; /* complete from an earlier run: just verify */
		else
			cc = attempt_once(url, &x, errbuf, &status);
		if (x.too_big) {
			error("'%s' is larger than the %" PRIu64 " bytes expected; removed it", url, x.limit);
			goto out_unlink;
		}
		if (x.io_error) {
			errno = x.io_error;
			error("cannot write '%s':", part);
			goto out_unlink;
		}
		if ((cc == CURLE_RANGE_ERROR || (cc == CURLE_HTTP_RETURNED_ERROR && status == 416)) && restarts++ < 2) {
			/* The server cannot resume (or the .part is bad): start over. */
			if (reset_part(&x) < 0) {
				error("cannot truncate '%s':", part);
				goto out;
			}
			attempt--;
			continue;
		}
		if (cc == CURLE_OK) {
			hasher_final_hex(x.h, got);
			int bad_size = exp->size && x.offset != exp->size;
			int bad_hash = exp->sha256 && strcmp(got, exp->sha256) != 0;
			if ((bad_size || bad_hash) && x.start_offset > 0 && restarts++ < 2) {
				/* Bytes from an earlier run may be the bad ones: one clean try. */
				warn("'%s' does not match after resuming; downloading it again from zero", url);
				if (reset_part(&x) < 0) {
					error("cannot truncate '%s':", part);
					goto out;
				}
				attempt--;
				continue;
			}
			if (bad_size) {
				error("size mismatch for '%s': expected %" PRIu64 " bytes, got %" PRIu64 "; removed the download",
				      url, exp->size, x.offset);
				goto out_unlink;
			}
			if (bad_hash) {
				error("checksum mismatch for '%s': expected sha256 %s, got %s; removed the download",
				      url, exp->sha256, got);
				goto out_unlink;
			}
			break;
		}
		describe(why, sizeof(why), cc, status, errbuf);
		if (!transient(cc, status) || attempt >= DL_RETRIES) {
			if (transient(cc, status)) {
				/* Keep the .part: the next run resumes it. */
				error("cannot download '%s': %s (gave up after %d attempts; run again to resume)",
				      url, why, attempt);
				goto out;
			}
			error("cannot download '%s': %s", url, why);
			goto out_unlink;
		}
		warn("downloading '%s' failed (%s); retrying (%d/%d)", url, why, attempt, DL_RETRIES - 1);
		sleep_ms(backoff(attempt));
	}
	if (fsync(x.fd) < 0 || close(x.fd) < 0) {
		x.fd = -1;
		error("cannot write '%s':", part);
		goto out_unlink;
	}
	x.fd = -1;
	if (rename(part, dest) < 0) {
		error("cannot rename '%s' to '%s':", part, dest);
		goto out_unlink;
	}
	if (!x.tty) {
		char size[32];
		human(size, sizeof(size), (double)x.offset);
		note("downloaded '%s' (%s in %.1fs)", base_name(dest), size, mono_seconds() - t0);
	}
	if (sha256_out)
		memcpy(sha256_out, got, 65);
	rc = 0;
	goto out;
out_unlink:
	/* Keep a partial download for resuming only after transient errors:
	 * everything that ends here is either wrong bytes or a hard error. */
	unlink(part);
out:
	if (x.fd >= 0)
		close(x.fd);
	hasher_free(x.h);
	free(part);
	return rc;
}
