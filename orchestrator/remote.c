#define _GNU_SOURCE
#include "remote.h"
#include "util.h"
#include "toolchains/download.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TRIES 3
#define CONNECT_TIMEOUT_MS 1500L /* a cache that far away is no faster than a build */
#define STALL_BYTES 1024L
#define STALL_SECONDS 5L

struct remote {
	char *url;     /* without a trailing slash */
	char *auth;    /* "Authorization: Bearer ..." or NULL */
	int read_only;
	atomic_int off; /* a request failed for good: no more requests */
	CURLSH *share;  /* connections and DNS answers kept between requests and threads */
	pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
};

static void share_lock(CURL *c, curl_lock_data data, curl_lock_access access, void *user)
{
	struct remote *r = user;
	(void)c;
	(void)access;
	pthread_mutex_lock(&r->locks[data]);
}

static void share_unlock(CURL *c, curl_lock_data data, void *user)
{
	struct remote *r = user;
	(void)c;
	pthread_mutex_unlock(&r->locks[data]);
}

/* Keep-alive: without a shared connection cache, every request of every
 * thread would connect (and on https shake hands) again. */
static void share_open(struct remote *r)
{
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&r->locks[i], NULL);
	if (!(r->share = curl_share_init()))
		return; /* requests then connect each time */
	curl_share_setopt(r->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(r->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(r->share, CURLSHOPT_USERDATA, r);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
}

struct remote *remote_open(const char *url, const char *token, int read_only)
{
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
		error("remote cache '%s': only http:// and https:// addresses are supported", url);
		return NULL;
	}
	if (dl_curl_init() < 0)
		return NULL;
	struct remote *r = xcalloc(1, sizeof(*r));
	r->url = xstrdup(url);
	for (size_t n = strlen(r->url); n > 0 && r->url[n - 1] == '/'; n--)
		r->url[n - 1] = '\0';
	r->auth = token && *token ? xasprintf("Authorization: Bearer %s", token) : NULL;
	r->read_only = read_only;
	share_open(r);
	return r;
}

void remote_close(struct remote *r)
{
	if (!r)
		return;
	if (r->share)
		curl_share_cleanup(r->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&r->locks[i]);
	free(r->url);
	free(r->auth);
	free(r);
}

int remote_read_only(const struct remote *r)
{
	return r->read_only;
}

const char *remote_url(const struct remote *r)
{
	return r->url;
}

/* One request's body source or sink. */
struct xfer {
	FILE *in;             /* PUT from a file */
	const char *data;     /* PUT from memory */
	size_t len, off;
	FILE *out;            /* GET into a file */
	struct buf *mem;      /* GET into memory */
	size_t max, got;
	int over;             /* the body passed max */
};

static size_t on_write(char *p, size_t size, size_t n, void *user)
{
	struct xfer *x = user;
	size_t len = size * n;
	if (len > x->max - x->got) {
		x->over = 1;
		return 0; /* larger than allowed: CURLE_WRITE_ERROR */
	}
	x->got += len;
	if (x->out)
		return fwrite(p, 1, len, x->out);
	return buf_append(x->mem, p, len) < 0 ? 0 : len;
}

static size_t on_read(char *p, size_t size, size_t n, void *user)
{
	struct xfer *x = user;
	if (x->in)
		return fread(p, 1, size * n, x->in);
	size_t len = size * n < x->len - x->off ? size * n : x->len - x->off;
	memcpy(p, x->data + x->off, len);
	x->off += len;
	return len;
}

static void rewind_xfer(struct xfer *x)
{
	if (x->in)
		rewind(x->in);
	if (x->out) {
		rewind(x->out);
		if (ftruncate(fileno(x->out), 0) < 0) {
			/* the retry overwrites from the start anyway */
		}
	}
	if (x->mem)
		x->mem->len = 0;
	x->off = x->got = 0;
	x->over = 0;
}

static CURL *easy_new(struct remote *r, const char *url, const char *method, struct xfer *x, char *errbuf,
		      struct curl_slist **headers)
{
	CURL *c = curl_easy_init();
	if (!c)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L); /* a cache does not redirect */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	if (r->share)
		curl_easy_setopt(c, CURLOPT_SHARE, r->share);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, STALL_BYTES);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, STALL_SECONDS);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "xgo-build/" XGO_VERSION);
	if (r->auth)
		*headers = curl_slist_append(*headers, r->auth);
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "PUT")) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, x);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->len);
		*headers = curl_slist_append(*headers, "Expect:");
	} else {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
		/* a Content-Length past the bound fails before any byte is written */
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max);
	}
	if (*headers)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, *headers);
	return c;
}

/* A failure a retry would only repeat, at the cost of its timeout: nobody
 * listens (refused, or no answer within the connect timeout), the name
 * does not resolve, or the server stalled.  Retries are for 5xx and for a
 * connection that broke. */
static int final(CURLcode cc)
{
	return cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_COULDNT_RESOLVE_HOST ||
	       cc == CURLE_COULDNT_RESOLVE_PROXY;
}

/* One request with retries: the HTTP status, 0 when there was none, or -1
 * for a body larger than allowed (x->over set). */
static long request(struct remote *r, const char *method, const char *path, struct xfer *x)
{
	char *url = xasprintf("%s/%s", r->url, path);
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	for (int attempt = 1; attempt <= TRIES && !atomic_load(&r->off); attempt++) {
		struct curl_slist *headers = NULL;
		CURL *c = easy_new(r, url, method, x, errbuf, &headers);
		if (!c)
			break;
		CURLcode cc = curl_easy_perform(c);
		status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(c);
		curl_slist_free_all(headers);
		if ((cc == CURLE_WRITE_ERROR && x->over) || cc == CURLE_FILESIZE_EXCEEDED) {
			x->over = 1;
			status = -1;
			break;
		}
		if (cc == CURLE_OK && status < 500)
			break;
		if (attempt == TRIES || final(cc)) {
			if (!atomic_exchange(&r->off, 1))
				warn("remote cache %s: %s %s failed (%s); building without it from here on", r->url,
				     method, path, cc != CURLE_OK ? (errbuf[0] ? errbuf : curl_easy_strerror(cc)) : "server error");
			status = 0;
			break;
		}
		rewind_xfer(x);
		sleep_ms(200L << (attempt - 1));
	}
	free(url);
	return status;
}

/* An answer the cache should not give (401, 403, 405, ...): stop asking. */
static long check_status(struct remote *r, const char *method, const char *path, long status, int put)
{
	int fine = put ? (status >= 200 && status < 300) : (status == 200 || status == 404);
	if (status > 0 && !fine && !atomic_exchange(&r->off, 1))
		warn("remote cache %s: %s %s answered HTTP %ld; building without it from here on", r->url, method,
		     path, status);
	return status;
}

int remote_get_file(struct remote *r, const char *path, const char *dest, size_t max)
{
	struct xfer x = { .max = max };
	int fd = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !(x.out = fdopen(fd, "wb"))) {
		if (fd >= 0)
			close(fd);
		return error("cannot create '%s':", dest);
	}
	long got = request(r, "GET", path, &x);
	long status = check_status(r, "GET", path, got, 0);
	int rc = status == 200 ? 1 : status == 404 ? 0 : got < 0 ? REMOTE_TOO_LARGE : -1;
	if (fclose(x.out) != 0 && rc == 1)
		rc = error("cannot write '%s':", dest);
	if (rc != 1)
		unlink(dest);
	return rc;
}

int remote_get(struct remote *r, const char *path, size_t max, char **data, size_t *len)
{
	struct buf b;
	buf_init(&b, max);
	struct xfer x = { .mem = &b, .max = max };
	long status = check_status(r, "GET", path, request(r, "GET", path, &x), 0);
	*data = NULL;
	*len = 0;
	if (status != 200) {
		buf_release(&b);
		return status == 404 ? 0 : -1;
	}
	*len = b.len;
	*data = b.data ? buf_detach(&b) : xstrdup("");
	return 1;
}

int remote_head(struct remote *r, const char *path)
{
	struct xfer x = { .max = 0 };
	long status = check_status(r, "HEAD", path, request(r, "HEAD", path, &x), 0);
	return status == 200 ? 1 : status == 404 ? 0 : -1;
}

int remote_put_file(struct remote *r, const char *path, const char *src)
{
	struct stat st;
	struct xfer x = { 0 };
	if (r->read_only)
		return -1;
	if (!(x.in = fopen(src, "rbe")) || fstat(fileno(x.in), &st) < 0) {
		if (x.in)
			fclose(x.in);
		return error("cannot read '%s':", src);
	}
	x.len = (size_t)st.st_size;
	long status = check_status(r, "PUT", path, request(r, "PUT", path, &x), 1);
	fclose(x.in);
	return status >= 200 && status < 300 ? 0 : -1;
}

int remote_put(struct remote *r, const char *path, const void *data, size_t len)
{
	if (r->read_only)
		return -1;
	struct xfer x = { .data = data, .len = len };
	long status = check_status(r, "PUT", path, request(r, "PUT", path, &x), 1);
	return status >= 200 && status < 300 ? 0 : -1;
}
