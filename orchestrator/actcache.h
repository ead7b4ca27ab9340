/* actcache.h - the action cache: an input digest to the bytes it built.
 *
 * Local layout under <cache>/actions/:
 *   ac/<digest>     one action result, JSON {"sha256","size","wall_s","cpu_s"}
 *   cas/<sha256>    the content itself
 * The remote cache (remote.h) mirrors it at <url>/ac/<digest> and
 * <url>/cas/<sha256>.  A lookup tries local, then remote (a remote hit is
 * copied into the local cache).  Every content is checked against its
 * sha256 when it is taken out: a corrupt entry is dropped (locally) and
 * reported as a miss, so the caller builds instead.
 *
 * Keys: job input digests (inputs.h) and archive digests (archives.c).
 * Safe to use from several threads.
 */
#ifndef XGO_ACTCACHE_H
#define XGO_ACTCACHE_H

#include <stdint.h>

struct remote;

struct ac_entry {
	char sha256[65];
	uint64_t size;
	double wall, cpu; /* what building it cost, seconds */
};

struct actcache;

/* Open <cache_root>/actions; remote may be NULL (owned by the cache
 * afterwards).  NULL after an error. */
struct actcache *actcache_open(const char *cache_root, struct remote *remote);
void actcache_close(struct actcache *c);

/* Copy the content of key to dest (mode), verified; e gets the entry.
 * Returns 1 hit, 0 miss. */
int actcache_get(struct actcache *c, const char *key, const char *dest, int mode, struct ac_entry *e);

/* Record that key built the file at path (its e->sha256 and size known).
 * Failures only warn: the cache is an optimisation. */
void actcache_put(struct actcache *c, const char *key, const char *path, const struct ac_entry *e);

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
