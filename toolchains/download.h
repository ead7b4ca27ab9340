/* download.h - fetching SDK archives and mirror indexes with libcurl.
 *
 * http, https and file:// URLs only.  Proxies come from the usual
 * variables (http_proxy, https_proxy, no_proxy), which libcurl honours.
 *
 * dl_file downloads to dest + ".part", streaming the bytes through SHA-256
 * as they arrive.  An existing .part is resumed with a range request (its
 * bytes are re-hashed first); a server that answers 200 instead of 206
 * restarts from zero.  Connection errors and HTTP 408/429/5xx are retried
 * (DL_RETRIES attempts, backoff 0.5 s doubling, capped at 8 s).  There is no
 * total timeout: a transfer slower than DL_STALL_BYTES per second for
 * stall_seconds is a stall and is retried.  On a size or SHA-256 mismatch
 * the .part is deleted and the error names both values.  On success the
 * verified file is renamed to dest.
 */
#ifndef XGO_DOWNLOAD_H
#define XGO_DOWNLOAD_H

#include <stddef.h>
#include <stdint.h>

#define DL_RETRIES 5
#define DL_STALL_BYTES 1024
#define DL_STALL_SECONDS 30
#define DL_CONNECT_TIMEOUT 30

struct dl_expect {
	uint64_t size;      /* 0 = unknown (then max_size bounds it) */
	const char *sha256; /* 64 hex, or NULL = do not check */
	uint64_t max_size;  /* hard bound when size is 0 (0 = 4 GiB) */
};

/* Download url to dest (see above).  sha256_out, if not NULL, receives the
 * hex digest of what was downloaded.  -1 with error() on failure. */
/* curl_global_init, once per process and thread-safe: 0, or error()
 * "cannot initialise libcurl" and -1.  Every libcurl user (this module,
 * the remote cache) calls it before its first handle. */
int dl_curl_init(void);

int dl_file(const char *url, const char *dest, const struct dl_expect *exp, char sha256_out[65]);

/* Fetch url into memory, at most max bytes (more is an error).  Returns
 * 0, or -1 with error(); *http_status gets the last HTTP status (0 for
 * file:// or a connection failure).  Caller frees *data. */
int dl_fetch(const char *url, size_t max, char **data, size_t *len, long *http_status);

/* Tests and impatient users: XGO_DL_STALL_SECONDS and XGO_DL_BACKOFF_MS
 * override the stall time and the first backoff step. */

#endif
