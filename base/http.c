/* http.c - one libcurl request with its policy's timeouts, bounds and
 * retries (see http.h). */
#define _POSIX_C_SOURCE 200809L
#include "http.h"
#include "util.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void curl_init_once(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

int http_init(void)
{
	pthread_once(&curl_once, curl_init_once);
	return curl_ok ? 0 : error("cannot initialise libcurl");
}

/* One attempt's state, seen by the callbacks. */
struct attempt {
	struct http_request *rq;
	CURL *curl;
	long status;     /* read at the first body byte */
	int seen;        /* status read */
	uint64_t base;   /* bytes the body starts after (a 206 resumes) */
	uint64_t got;    /* body bytes this attempt */
	uint64_t off;    /* upload bytes sent from data */
	int too_large, sink_error;
};

static int body_wanted(long status)
{
	return status == 0 || (status >= 200 && status < 300); /* 0: file:// */
}

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
	struct attempt *a = ud;
	struct http_request *rq = a->rq;
	size_t len = size * n;
	if (!a->seen) {
		a->seen = 1;
		curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &a->status);
		a->base = a->status == 206 ? rq->resume_from : 0;
	}
	if (!body_wanted(a->status) || !(rq->mem || rq->out || rq->sink.write)) {
		a->got += len; /* an error page, a PUT's answer: read (keep-alive), not kept */
		return a->got > HTTP_ERROR_BODY_MAX ? 0 : len;
	}
	if (a->base + a->got + len > rq->max || a->base + a->got + len < len) {
		a->too_large = 1;
		return 0;
	}
	a->got += len;
	int rc = 0;
	if (rq->mem)
		rc = buf_append(rq->mem, p, len);
	else if (rq->out)
		rc = fwrite(p, 1, len, rq->out) == len ? 0 : -1;
	else if (rq->sink.write)
		rc = rq->sink.write(rq->sink.ud, a->status, p, len);
	if (rc < 0) {
		a->sink_error = 1;
		return 0;
	}
	return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *ud)
{
	struct attempt *a = ud;
	struct http_request *rq = a->rq;
	if (rq->in)
		return fread(p, 1, size * n, rq->in);
	size_t left = (size_t)(rq->len - a->off);
	size_t len = size * n < left ? size * n : left;
	memcpy(p, (const char *)rq->data + a->off, len);
	a->off += len;
	return len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	struct attempt *a = ud;
	a->rq->sink.progress(a->rq->sink.ud);
	return 0;
}

static CURL *easy_new(const struct http_policy *p, struct attempt *a, char *errbuf, struct curl_slist **headers)
{
	struct http_request *rq = a->rq;
	const char *method = rq->method ? rq->method : "GET";
	CURL *c = curl_easy_init();
	if (!c)
		return NULL;
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, p->allow_file ? "http,https,file" : "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, p->max_redirects > 0 ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)p->max_redirects);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, p->connect_ms);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, p->stall_bytes);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, p->stall_s);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "xgo-build/" XGO_VERSION);
	if (rq->share)
		curl_easy_setopt(c, CURLOPT_SHARE, (CURLSH *)rq->share);
	/* Every answer's body passes on_write, also a PUT's (never stdout). */
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	if (rq->header)
		*headers = curl_slist_append(*headers, rq->header);
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "PUT")) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, a);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->len);
		*headers = curl_slist_append(*headers, "Expect:");
	} else {
		if (rq->resume_from > 0)
			curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)rq->resume_from);
		else if (p->bound_by_length)
			curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)rq->max);
	}
	if (rq->sink.progress) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, a);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	if (*headers)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, *headers);
	return c;
}

/* Nobody answers: refused, no answer within the connect timeout, a
 * stall, no such name. */
static int unreachable(CURLcode cc)
{
	return cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_COULDNT_RESOLVE_HOST ||
	       cc == CURLE_COULDNT_RESOLVE_PROXY;
}

/* The connection broke on the way: worth another attempt. */
static int broken(CURLcode cc)
{
	return cc == CURLE_PARTIAL_FILE || cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR || cc == CURLE_GOT_NOTHING ||
	       cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_HTTP2 || cc == CURLE_HTTP2_STREAM;
}

static int transient(const struct http_policy *p, const struct http_result *res)
{
	if (res->curl_code != CURLE_OK)
		return broken(res->curl_code) || (p->retry_unreachable && unreachable(res->curl_code));
	long s = res->status;
	return s >= 500 || (p->retry_busy && (s == 408 || s == 429));
}

/* Start the module's own sinks again for a retry. */
static void rewind_body(struct http_request *rq)
{
	if (rq->in)
		rewind(rq->in);
	if (rq->mem)
		rq->mem->len = 0;
	if (rq->out) {
		rewind(rq->out);
		if (ftruncate(fileno(rq->out), 0) < 0) {
			/* the attempt overwrites from the start anyway */
		}
	}
}

static void describe(struct http_result *res, const char *errbuf)
{
	CURLcode cc = res->curl_code;
	res->error[0] = '\0';
	if (cc != CURLE_OK)
		snprintf(res->error, sizeof(res->error), "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
	if (cc == CURLE_OK)
		snprintf(res->why, sizeof(res->why), "HTTP %ld", res->status);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		snprintf(res->why, sizeof(res->why), "stalled (%s)", res->error);
	else
		snprintf(res->why, sizeof(res->why), "%s", res->error);
}

/* One attempt: fills res (ok, too_large, sink_error, status, code). */
static void attempt_once(const struct http_policy *p, struct http_request *rq, struct http_result *res)
{
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *headers = NULL;
	struct attempt a = { .rq = rq };
	if (!(a.curl = easy_new(p, &a, errbuf, &headers))) {
		res->curl_code = CURLE_FAILED_INIT;
		snprintf(res->error, sizeof(res->error), "cannot initialise libcurl");
		snprintf(res->why, sizeof(res->why), "%s", res->error);
		return;
	}
	CURLcode cc = curl_easy_perform(a.curl);
	res->status = 0;
	curl_easy_getinfo(a.curl, CURLINFO_RESPONSE_CODE, &res->status);
	curl_easy_cleanup(a.curl);
	curl_slist_free_all(headers);
	/* An error page longer than kept, or whose length passes max: the
	 * status is the answer. */
	if ((cc == CURLE_WRITE_ERROR && !a.too_large && !a.sink_error) ||
	    (cc == CURLE_FILESIZE_EXCEEDED && !body_wanted(res->status)))
		cc = CURLE_OK;
	res->too_large = a.too_large || cc == CURLE_FILESIZE_EXCEEDED;
	res->sink_error = a.sink_error;
	res->curl_code = (int)cc;
	res->ok = cc == CURLE_OK && body_wanted(res->status);
	res->range_refused = rq->resume_from > 0 && (cc == CURLE_RANGE_ERROR || res->status == 416);
	describe(res, errbuf);
	if (rq->sink.end)
		rq->sink.end(rq->sink.ud);
}

static long backoff(const struct http_policy *p, int attempt)
{
	long ms = p->backoff_ms;
	for (int i = 1; i < attempt && ms < p->backoff_max_ms; i++)
		ms *= 2;
	return ms > p->backoff_max_ms ? p->backoff_max_ms : ms;
}

int http_request(const struct http_policy *p, struct http_request *rq, struct http_result *res)
{
	memset(res, 0, sizeof(*res));
	if (http_init() < 0) {
		res->curl_code = CURLE_FAILED_INIT;
		snprintf(res->why, sizeof(res->why), "cannot initialise libcurl");
		return -1;
	}
	for (int attempt = 1;; attempt++) {
		if (rq->stop && rq->stop(rq->stop_ud)) {
			res->stopped = 1;
			return -1;
		}
		if (attempt > 1)
			rewind_body(rq);
		res->attempts = attempt;
		int go = rq->sink.begin ? rq->sink.begin(rq, attempt) : 0;
		if (go < 0) {
			res->sink_error = 1;
			return -1;
		}
		if (go > 0) {
			res->ok = 1; /* nothing left to transfer */
			return 0;
		}
		attempt_once(p, rq, res);
		if (res->ok)
			return 0;
		if (res->too_large || res->sink_error)
			return -1;
		res->transient = transient(p, res);
		if (!res->transient || attempt >= p->tries)
			return -1;
		if (rq->retrying)
			rq->retrying(rq->retry_ud, res->why, attempt, p->tries);
		sleep_ms(backoff(p, attempt));
	}
}
