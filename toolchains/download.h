/* download.h - fetching SDK archives, mirror indexes and published
 * release files over HTTP (http.h, with HTTP_POLICY_DOWNLOAD).
 *
 * http, https and file:// URLs; redirects followed to http and https
 * only.  Proxies come from the usual variables (http_proxy, https_proxy,
 * no_proxy), which libcurl honours.
 *
 * dl_file downloads to dest + ".part", streaming the bytes through SHA-256
 * as they arrive.  An existing .part is resumed with a range request (its
 * bytes are re-hashed first); a server that answers 200 instead of 206
 * restarts from zero.  Connection errors and HTTP 408/429/5xx are retried
 * (5 attempts, backoff 0.5 s doubling, capped at 8 s).  There is no total
 * timeout: a transfer slower than 1 KiB per second for 30 s is a stall and
 * is retried; connecting times out after 30 s.  On a size or SHA-256
 * mismatch the .part is deleted and the error names both values.  On
 * success the verified file is renamed to dest.
 */
#ifndef XGO_DOWNLOAD_H
#define XGO_DOWNLOAD_H

#include <stddef.h>
#include <stdint.h>

struct dl_expect {
	uint64_t size;      /* 0 = unknown (then max_size bounds it) */
	const char *sha256; /* 64 hex, or NULL = do not check */
	uint64_t max_size;  /* hard bound when size is 0 (0 = 4 GiB) */
};

/* Download url to dest (see above).  sha256_out, if not NULL, receives the
 * hex digest of what was downloaded.  -1 with error() on failure. */
int dl_file(const char *url, const char *dest, const struct dl_expect *exp, char sha256_out[65]);

/* Fetch url into memory, at most max bytes (more is an error).  Returns
 * 0, or -1 with error(); *http_status gets the last HTTP status (0 for
 * file:// or a connection failure).  Caller frees *data. */
int dl_fetch(const char *url, size_t max, char **data, size_t *len, long *http_status);

/* Tests and impatient users: XGO_DL_STALL_SECONDS and XGO_DL_BACKOFF_MS
 * override the stall time and the first backoff step. */

#endif
