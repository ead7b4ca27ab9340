#define _GNU_SOURCE
#include "remote.h"
#include "base/util.h"
#include "base/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Timeouts and retries: HTTP_POLICY_CACHE (http.h). */
static const struct http_policy policy = HTTP_POLICY_CACHE;

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
	if (http_init() < 0)
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

static int is_off(void *ud)
{
	struct remote *r = ud;
	return atomic_load(&r->off);
}

/* One request (http.h retries it): the HTTP status, 0 when there was
 * none, or -1 for a body larger than allowed.  The first failure that
 * survives the retries turns the remote off. */
static long request(struct remote *r, const char *method, const char *path, struct http_request *rq)
{
	char *url = xasprintf("%s/%s", r->url, path);
	struct http_result res;
	rq->url = url;
	rq->method = method;
	rq->header = r->auth;
	rq->share = r->share;
	rq->stop = is_off;
	rq->stop_ud = r;
	long status = 0;
	http_request(&policy, rq, &res);
	if (res.too_large) {
		status = -1;
	} else if (res.stopped || res.sink_error) {
		status = 0; /* off already, or a local write failed */
	} else if (res.curl_code != 0 || res.status >= 500) {
		if (!atomic_exchange(&r->off, 1))
			warn("remote cache %s: %s %s failed (%s); building without it from here on", r->url, method,
			     path, res.curl_code != 0 ? res.error : "server error");
	} else {
		status = res.status; /* an answer: check_status judges it */
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
	struct http_request rq = { .max = max };
	int fd = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !(rq.out = fdopen(fd, "wb"))) {
		if (fd >= 0)
			close(fd);
		return error("cannot create '%s':", dest);
	}
	long got = request(r, "GET", path, &rq);
	long status = check_status(r, "GET", path, got, 0);
	int rc = status == 200 ? 1 : status == 404 ? 0 : got < 0 ? REMOTE_TOO_LARGE : -1;
	if (fclose(rq.out) != 0 && rc == 1)
		rc = error("cannot write '%s':", dest);
	if (rc != 1)
		unlink(dest);
	return rc;
}

int remote_get(struct remote *r, const char *path, size_t max, char **data, size_t *len)
{
	struct buf b;
	buf_init(&b, max);
	struct http_request rq = { .mem = &b, .max = max };
	long status = check_status(r, "GET", path, request(r, "GET", path, &rq), 0);
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
	struct http_request rq = { 0 };
	long status = check_status(r, "HEAD", path, request(r, "HEAD", path, &rq), 0);
	return status == 200 ? 1 : status == 404 ? 0 : -1;
}

int remote_put_file(struct remote *r, const char *path, const char *src)
{
	struct stat st;
	struct http_request rq = { 0 };
	if (r->read_only)
		return -1;
	if (!(rq.in = fopen(src, "rbe")) || fstat(fileno(rq.in), &st) < 0) {
		if (rq.in)
			fclose(rq.in);
		return error("cannot read '%s':", src);
	}
	rq.len = (uint64_t)st.st_size;
	long status = check_status(r, "PUT", path, request(r, "PUT", path, &rq), 1);
	fclose(rq.in);
	return status >= 200 && status < 300 ? 0 : -1;
}

int remote_put(struct remote *r, const char *path, const void *data, size_t len)
{
	if (r->read_only)
		return -1;
	struct http_request rq = { .data = data, .len = len };
	long status = check_status(r, "PUT", path, request(r, "PUT", path, &rq), 1);
	return status >= 200 && status < 300 ? 0 : -1;
}
