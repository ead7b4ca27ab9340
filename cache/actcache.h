/* actcache.h - the action cache: an input digest to the bytes it built.
 *
 * Local layout under <cache>/actions:
 *   ac/<digest>     one action result, JSON {"v":2, "key", "build", "target",
 *                   "output", "sha256", "size", "wall_s", "cpu_s"[, "sig"]}
 *   cas/<sha256>    the content itself
 * The remote cache (remote.h) mirrors it at <url>/ac/<digest> and
 * <url>/cas/<sha256>.  A lookup tries local, then remote (a remote hit is
 * copied into the local cache).
 *
 * An entry is used only for what it names: the lookup's digest, build,
 * target and output (struct ac_for), and, for a job, its content must be an
 * executable of the job's GOOS/GOARCH (binfmt_is_for).  Every content is
 * checked against its sha256 when it is taken out (one that is not a
 * regular file, a symlink or FIFO, is corrupt).  An entry that fails a
 * check is dropped (locally) with a warning and is a miss: the caller
 * builds instead.  Entries of an older layout are plain misses.
 *
 * Signed entries (acsign.h): with a signing key every entry carries the
 * Ed25519 signature of its canonical bytes (the NUL-separated digest,
 * build, target, output, sha256 and size); with trusted keys a remote
 * entry whose signature no trusted key verifies is a miss, with one
 * warning for the run.  Local entries are the user's own and not asked
 * for a signature (a remote entry is verified before it is copied in).
 *
 * Remote contents are bounded: an entry claiming more than the limit
 * (XGO_REMOTE_CACHE_MAX_BYTES, default 512 MiB) or more than the cache's
 * free space less 256 MiB is not downloaded, and a body longer than its
 * entry says is cut off; both warn, are misses, and leave no file.
 *
 * Keys: job input digests (inputs.h) and archive digests (archives.c).
 * Safe to use from several threads.
 */
#ifndef XGO_ACTCACHE_H
#define XGO_ACTCACHE_H

#include <stdint.h>

struct remote;
struct release;
struct acsign;

struct ac_entry {
	char sha256[65];
	uint64_t size;
	double wall, cpu; /* what building it cost, seconds */
};

/* What an entry is for.  An archive has build and target ""; a job's
 * goos and goarch (NULL for an archive) are the platform its bytes must be
 * an executable for. */
struct ac_for {
	const char *build, *target, *output; /* "a", "linux/arm/7", "a_linux_arm/a" */
	const char *goos, *goarch;
};

struct actcache;

/* Open <cache_root>/actions; remote may be NULL (owned by the cache
 * afterwards).  NULL after an error. */
struct actcache *actcache_open(const char *cache_root, struct remote *remote);
void actcache_close(struct actcache *c);

/* The keys and limits of the run: XGO_REMOTE_CACHE_SIGNING_KEY (or the
 * variable cache { signing_key_env } names), XGO_REMOTE_CACHE_TRUSTED_KEYS
 * (keys or files separated by ':', or PEM text) and cache { trusted_keys }
 * (key files are names inside project_dir), XGO_REMOTE_CACHE_MAX_BYTES
 * (bytes, or with K, M, G).  0, or -1 after error() (a usage error). */
int actcache_configure(struct actcache *c, const struct release *r, const char *project_dir);

/* Copy the content of key, made for f, to dest (mode), verified; e gets
 * the entry.  Returns 1 hit, 0 miss. */
int actcache_get(struct actcache *c, const char *key, const struct ac_for *f, const char *dest, int mode,
		 struct ac_entry *e);

/* Record that key built the file at path for f (its e->sha256 and size
 * known).  Failures only warn: the cache is an optimisation. */
void actcache_put(struct actcache *c, const char *key, const struct ac_for *f, const char *path,
		  const struct ac_entry *e);

/* What the go build cache's server (gocache.h) borrows: the remote (NULL
 * when none), the run's keys and the remote size limit. */
struct remote *actcache_remote(const struct actcache *c);
const struct acsign *actcache_keys(const struct actcache *c);
uint64_t actcache_remote_max(const struct actcache *c);

/* What happened, for the end-of-run note: hits (local, remote), stores. */
void actcache_stats(const struct actcache *c, unsigned *local_hits, unsigned *remote_hits, unsigned *stored);

/* ---- maintenance (xgo-build cache) ---- */

struct ac_usage {
	unsigned long entries, blobs; /* ac/ entries, cas/ contents */
	uint64_t bytes;               /* of the contents */
};

/* What <cache_root>/actions holds. */
int actcache_usage(const char *cache_root, struct ac_usage *u);

/* Drop entries unused for max_age seconds (0: no age limit), then the
 * least recently used ones (a hit renews an entry) until the contents
 * fit in max_bytes (0: no size limit), then every content no entry
 * names and leftover temporary files.  *removed gets what went. */
int actcache_gc(const char *cache_root, uint64_t max_bytes, long max_age, struct ac_usage *removed);

#endif
