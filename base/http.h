/* http.h - the one HTTP client (libcurl): SDK downloads, mirror indexes
 * and verify-release URLs (download.h), the remote cache (remote.h).
 *
 * Every request, whatever its policy:
 * - http and https only (file:// too when the policy allows it: a local
 *   mirror); a redirect, when followed, only to http or https.
 * - Proxies from http_proxy, https_proxy, no_proxy (and the upper-case
 *   forms), as libcurl reads them; TLS peers and host names verified;
 *   user agent xgo-build/VERSION; no signals (threads may call it).
 * - No total timeout: a connect timeout, and a stall rule (less than
 *   stall_bytes per second for stall_s seconds fails the attempt).
 * - Only a 2xx body reaches the sink, bounded by max: one more byte, or a
 *   Content-Length past max when bound_by_length, aborts the transfer
 *   (too_large, never retried).  Other answers' bodies are read and
 *   dropped, at most HTTP_ERROR_BODY_MAX bytes, so that a 404 keeps its
 *   kept-alive connection.
 * - Retries, tries attempts in all, backoff_ms doubling up to
 *   backoff_max_ms between them: a broken connection (reset, cut body,
 *   empty reply, TLS handshake, HTTP/2 stream) and 5xx always; an
 *   unreachable server (refused, connect timeout, stall, no such name)
 *   when retry_unreachable; 408 and 429 when retry_busy.  Anything else
 *   is final.  Before a retry the sink starts again (memory emptied, a
 *   file rewound and truncated, an upload rewound) or, with a custom
 *   sink, its begin hook decides (a download resumes).
 *
 * The two policies differ on purpose:
 * - HTTP_POLICY_DOWNLOAD: an SDK archive of 100+ MiB from a far mirror.
 *   It may be slow, so 30 s to connect and 30 s of stall; 5 attempts, 0.5 s
 *   doubling to 8 s, retrying unreachable and busy servers too, since the
 *   user waits for it anyway; redirects followed (mirrors redirect to
 *   CDNs); file:// for a local mirror.  A wrong Content-Length is not
 *   refused early: the body is what gets checked (size and SHA-256), and a
 *   cut transfer resumes.
 * - HTTP_POLICY_CACHE: a cache lookup must never slow a build more than
 *   the build it saves.  1.5 s to connect, 5 s of stall, 3 tries 0.2 s
 *   then 0.4 s apart, for broken connections and 5xx only: a server that
 *   does not answer is not asked again (remote.h turns it off for the
 *   run); no redirects (a cache does not move); a Content-Length past the
 *   bound is refused before any byte.
 */
#ifndef XGO_HTTP_H
#define XGO_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

struct http_policy {
	long connect_ms;
	long stall_bytes, stall_s; /* below stall_bytes/s for stall_s: a stall */
	int tries;                 /* attempts in all */
	long backoff_ms, backoff_max_ms;
	int max_redirects;         /* 0: a redirect is the answer */
	int allow_file;            /* file:// URLs */
	int retry_unreachable;     /* refused, connect timeout, stall, no such name */
	int retry_busy;            /* HTTP 408 and 429 */
	int bound_by_length;       /* refuse a Content-Length past max up front */
};

#define HTTP_POLICY_DOWNLOAD                                                                              \
	{ .connect_ms = 30000, .stall_bytes = 1024, .stall_s = 30, .tries = 5, .backoff_ms = 500,           \
	  .backoff_max_ms = 8000, .max_redirects = 10, .allow_file = 1, .retry_unreachable = 1,              \
	  .retry_busy = 1, .bound_by_length = 0 }
#define HTTP_POLICY_CACHE                                                                                 \
	{ .connect_ms = 1500, .stall_bytes = 1024, .stall_s = 5, .tries = 3, .backoff_ms = 200,             \
	  .backoff_max_ms = 400, .max_redirects = 0, .allow_file = 0, .retry_unreachable = 0,                \
	  .retry_busy = 0, .bound_by_length = 1 }

/* What a non-2xx answer's body may be before the connection is dropped. */
#define HTTP_ERROR_BODY_MAX (64u << 10)

struct http_request;

/* A caller's own body sink, for a download that resumes and hashes (all
 * hooks optional). */
struct http_sink {
	/* Before each attempt: 0 transfer (set rq->resume_from to resume),
	 * 1 nothing to transfer (the request succeeds without one), -1 stop
	 * (after error()). */
	int (*begin)(struct http_request *rq, int attempt);
	/* Each piece of a 2xx (or file://) body; status is the answer's,
	 * 200 to a range request means the body starts again at byte 0.
	 * Returns 0, or -1 to abort (the sink's own error). */
	int (*write)(void *ud, long status, const char *p, size_t len);
	void (*progress)(void *ud); /* now and then during a transfer */
	void (*end)(void *ud);      /* after each attempt */
	void *ud;
};

struct http_request {
	const char *url;
	const char *method;  /* NULL or "GET", "HEAD", "PUT" */
	const char *header;  /* one extra header line (Authorization) or NULL */
	void *share;         /* a CURLSH * (connection pool) or NULL */
	/* PUT body: the file in (len bytes), or len bytes at data */
	FILE *in;
	const void *data;
	uint64_t len;
	/* GET body: into mem, the file out, or the sink's write */
	struct buf *mem;
	FILE *out;
	struct http_sink sink;
	uint64_t max;         /* body bound (with resume_from on a 206) */
	uint64_t resume_from; /* ask for bytes from here (set by sink.begin) */
	/* Called before a retry with the failed attempt's result. */
	void (*retrying)(void *ud, const char *why, int attempt, int tries);
	void *retry_ud;
	/* Checked before each attempt: nonzero stops (remote cache off). */
	int (*stop)(void *ud);
	void *stop_ud;
};

struct http_result {
	long status;       /* the last HTTP status, 0 for none or file:// */
	int curl_code;     /* the last attempt's CURLcode, 0 when an answer came */
	int attempts;
	int ok;            /* 2xx (or file://), the body complete */
	int too_large;     /* the body passed max: never retried */
	int sink_error;    /* sink.write refused, or sink.begin stopped */
	int stopped;       /* rq->stop said so before an attempt */
	int transient;     /* the last failure was one a retry may fix */
	int range_refused; /* the server cannot resume (416, or no range support) */
	char error[256];   /* libcurl's text for curl_code, "" when none */
	char why[300];     /* "HTTP 503", "stalled (...)", or error */
};

/* curl_global_init, once per process and thread-safe: 0, or error()
 * "cannot initialise libcurl" and -1.  http_request calls it; callers
 * that want to fail early (remote_open) too. */
int http_init(void);

/* Run rq under policy p, retrying as above.  Fills *res; returns 0 when
 * res->ok, else -1.  Never prints: callers word their own messages (only
 * a sink's hooks may call error(), and http_init when libcurl cannot
 * start). */
int http_request(const struct http_policy *p, struct http_request *rq, struct http_result *res);

#endif
