/* remote.h - the shared HTTP cache: GET, HEAD and PUT of whole blobs.
 *
 * The server is any HTTP store that keeps what is PUT and serves it back:
 * bazel-remote's HTTP interface (start it with
 * --disable_http_ac_validation, since our /ac/ entries are JSON), or a
 * WebDAV server such as nginx with dav_methods PUT and
 * create_full_put_path on.  Paths are <url>/cas/<sha256> for contents and
 * <url>/ac/<digest> for action results (actcache.h).
 *
 * Requests go through http.h with HTTP_POLICY_CACHE.  Requests of every
 * thread share kept-alive connections.  A request has bounded retries
 * (3 tries, 0.2 s then 0.4 s apart) for 5xx and broken connections, none
 * for a remote that does not answer (refused, the 1.5 s connect timeout,
 * the 5 s stall timeout, no such name): one such verdict per run.  The
 * first failure that survives the retries turns the remote off for the
 * rest of the run with one warning: a cache problem costs a local build,
 * never a wrong artifact (callers verify every digest).
 */
#ifndef XGO_REMOTE_H
#define XGO_REMOTE_H

#include <stddef.h>

struct remote;

/* url: http(s)://host[:port][/prefix]; token: a bearer token or NULL;
 * read_only: never PUT.  Returns NULL (after an error) for a bad url. */
struct remote *remote_open(const char *url, const char *token, int read_only);
void remote_close(struct remote *r);
int remote_read_only(const struct remote *r);
const char *remote_url(const struct remote *r);

#define REMOTE_TOO_LARGE (-2)

/* GET <url>/<path> into the file dest (created 0644; removed unless the
 * answer is 200).  Returns 1 found, 0 not found (404), -1 failed, or
 * REMOTE_TOO_LARGE when the body (or its Content-Length) passes max bytes:
 * the transfer stops there, is not retried, and the remote stays on. */
int remote_get_file(struct remote *r, const char *path, const char *dest, size_t max);
/* GET into memory (*data owned by the caller, NUL-terminated); max as
 * for remote_get_file. */
int remote_get(struct remote *r, const char *path, size_t max, char **data, size_t *len);
/* HEAD: 1 present, 0 absent, -1 failed. */
int remote_head(struct remote *r, const char *path);
/* PUT the file src or the bytes data: 0 stored, -1 failed. */
int remote_put_file(struct remote *r, const char *path, const char *src);
int remote_put(struct remote *r, const char *path, const void *data, size_t len);

#endif
