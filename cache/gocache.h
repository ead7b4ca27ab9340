/* gocache.h - the go command's build cache behind GOCACHEPROG (docs/gocache.md).
 *
 * Every `go build` of a run starts `xgo-build gocacheprog` (the cache
 * program, cmd/go/internal/cacheprog: JSON lines on stdin/stdout, the
 * capabilities first, then get/put/close).  It serves the go command from
 * a local store beside GOCACHE:
 *
 *   <gocache>/prog/a/<action>   entry {"v":1,"action","output","size"[,"sig"]}
 *   <gocache>/prog/o/<output>   the object: its bytes, whose sha256 is <output>
 *   <gocache>/prog/tmp/         private temporary files, renamed into place
 *
 * so that concurrent jobs and runs share it safely.  A job cannot reach
 * the network (isolate.h), so on a local miss the program asks the run's
 * cache server (gocache_server_*) through a Unix socket in the work
 * directory; the server fetches <url>/gocache/<action> (the entry) and
 * <url>/cas/<output> (the object, the same namespace as action contents)
 * from the remote cache (remote.h), checks the entry is for that action,
 * signed when trusted keys are set (acsign.h, the canonical bytes
 * "xgo-build gocache entry v1\0ACTION\0OUTPUT\0SIZE\0"), bounded by the
 * remote limit, and the object against its output ID and size, and puts
 * it in the local store.  Every put is stored locally at once and handed
 * to the server, which uploads it in the background (never when
 * read-only).  A wrong, truncated, oversized or slow answer is a local
 * miss with one warning for the run; the go command then builds.
 *
 * Concurrency: the go command sends up to -p gets at once and matches
 * the answers by ID.  The program's main thread reads the requests and
 * answers local hits and puts itself; a get that misses locally goes to
 * one of 8 worker threads, each with its own connection to the server
 * (made at its first get; the server runs a thread per connection), which
 * answers it when the fetch ends, so a job's fetches overlap.  Every
 * answer is written whole under one mutex; close is answered after every
 * get handed to the workers.  A failed connection turns the server off
 * for the whole job, with one warning.
 */
#ifndef XGO_GOCACHE_H
#define XGO_GOCACHE_H

#include <stddef.h>
#include <stdint.h>

struct remote;
struct acsign;

#define GOCACHE_ENTRY_MAX 4096
#define GOCACHE_SOCKET "gocacheprog.sock" /* in the work directory */

/* ---- the local store ---- */

struct gocache_store;

/* Open (making it) the store in dir.  NULL after error(). */
struct gocache_store *gocache_store_open(const char *dir);
void gocache_store_close(struct gocache_store *s);

/* The entry of action (64 hex): 1 with output and size when its object is
 * present with that size, else 0. */
int gocache_lookup(struct gocache_store *s, const char *action, char output[65], uint64_t *size);
/* The object's path (owned). */
char *gocache_object_path(const struct gocache_store *s, const char *output);
/* A new private temporary path in the store (owned). */
char *gocache_tmp_path(struct gocache_store *s);
/* Put the verified file tmp in place as output's object (kept when one is
 * there already; tmp is consumed either way) and write the entry of action
 * (text: its JSON).  0, or -1 after error(). */
int gocache_commit(struct gocache_store *s, const char *tmp, const char *action, const char *output,
		   uint64_t size, const char *text);

/* The signed bytes of an entry (into b, initialised here). */
struct buf;
void gocache_canonical(struct buf *b, const char *action, const char *output, uint64_t size);
/* The JSON text of an entry (owned), signed by keys' signer when it has
 * one (keys may be NULL). */
char *gocache_entry_text(const struct acsign *keys, const char *action, const char *output, uint64_t size);
/* Parse an entry: 0 when it is one for action, with output, size and the
 * signature (*sig owned, NULL when unsigned); else -1. */
int gocache_entry_parse(const char *text, size_t len, const char *action, char output[65], uint64_t *size,
			char **sig);

/* ---- the cache program (xgo-build gocacheprog) ---- */

/* argv: gocacheprog --store DIR [--server DIR].  Exit code. */
int gocache_prog_main(int argc, char **argv);

/* Start the program as the go command would, with stdin at EOF, and
 * check its capabilities: 0 when it speaks the protocol, else -1 with
 * *why (static text) set. */
int gocache_probe(const char *self, const char *store_dir, const char **why);

/* ---- the run's cache server ---- */

struct gocache_server;

struct gocache_stats {
	unsigned long remote_hits, remote_misses, uploads, warnings;
	uint64_t bytes_down, bytes_up;
	unsigned long local_hits, misses, puts; /* as the programs reported them */
	uint64_t drain_ms; /* from the last job's end to the last upload's */
};

/* Listen on <work_dir>/GOCACHE_SOCKET for the programs of this run's
 * jobs.  remote and keys are borrowed and outlive the server; max bounds
 * an object's size.  NULL after error(). */
struct gocache_server *gocache_server_start(const char *work_dir, const char *store_dir, struct remote *remote,
					    const struct acsign *keys, uint64_t max);
/* Stop listening, finish the queued uploads (drop them unless drain: an
 * interrupted run ends now), free; *st (may be NULL) gets the counts. */
void gocache_server_stop(struct gocache_server *srv, int drain, struct gocache_stats *st);

#endif
