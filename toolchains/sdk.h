/* sdk.h - the pinned Go SDK: resolve it for this host, install it into the
 * cache, import local installs, and check cache entries.
 *
 * Cache layout (root: $XGO_CACHE, else $XDG_CACHE_HOME/xgo-build, else
 * ~/.cache/xgo-build):
 *
 *   sdk/go<version>.<goos>-<goarch>/go/        the SDK root (GOROOT)
 *   sdk/go<version>.<goos>-<goarch>/sdk.json   install record (below)
 *   sdk/go<version>.<goos>-<goarch>.lock       flock: one installer at a time
 *   sdk/.tmp-go<version>.<goos>-<goarch>-XXXXXX  extraction/copy in progress
 *   downloads/<archive>.part                   interrupted download (resumed)
 *
 * An entry appears only by rename(2) of a complete, verified temporary
 * directory.  sdk.json records version, platform, archive file name and
 * sha256 (empty for imports), tree digest and stat fingerprint
 * (treedigest.h), and where it came from.  Each use recomputes the stat
 * fingerprint (one lstat per file) and compares; a changed entry is
 * removed and installed again, never used.  sdk_verify_entry re-hashes all.
 *
 * Resolution order for a pin: cache hit | a local SDK whose VERSION
 * matches and whose tree digest equals the pin's (copied into the cache) |
 * download -> verify size+sha256 -> extract -> check tree digest.  Local
 * SDKs are looked for in $GOROOT, the root of `go` on PATH and
 * /usr/local/go, and only when the pin has a tree digest.
 *
 * Every failure is an SDK problem: the functions print one error and
 * return -1, which callers turn into exit 4 (EXIT_TOOLCHAIN).
 */
#ifndef XGO_SDK_H
#define XGO_SDK_H

#include <stddef.h>

#include "lua/release.h"
#include "lockfile.h"

struct sdk {
	char *version;          /* "1.26.8" */
	char *platform;         /* "linux-amd64" */
	char *root;             /* absolute GOROOT inside the cache */
	char *entry;            /* the cache entry directory (root's parent) */
	char *source;           /* archive URL, or "import:<dir>" */
	char *filename;         /* archive file name ("" for imports) */
	char tree_digest[65];
	char archive_sha256[65]; /* "" for imports */
	char fingerprint[65];
};
void sdk_release(struct sdk *s);

/* What to resolve.  pin NULL: no lock (sdk install VERSION): the file name
 * and hashes come from the mirror's index, and any cache entry for the
 * version is accepted. */
struct sdk_request {
	const char *version;               /* "1.26.8" */
	const char *platform;              /* NULL = sdk_host_platform() */
	const struct lock_platform *pin;   /* from release.lock, or NULL */
	const char *mirror;                /* normalised, see mirror_choose */
	const char *cache_dir;             /* NULL = sdk_cache_dir() */
	int offline;                       /* never download */
	int no_local;                      /* do not look for local SDKs */
	int reinstall;                     /* install again even over a valid
					    * entry, which stays until the new
					    * one is verified */
	int cache_only;                    /* never install: a miss is an error */
	int walk;                          /* check the fingerprint even within
					    * XGO_SDK_RECHECK of the last walk */
};

int sdk_resolve(const struct sdk_request *req, struct sdk *out);

/* Options for sdk_for_release, the runner's entry point. */
struct sdk_options {
	const char *mirror;    /* --sdk-mirror, or NULL */
	const char *cache_dir; /* NULL = sdk_cache_dir() */
	int offline;
};

/* The SDK pinned by r (release.lock beside r->path) for this host.  A
 * missing or stale pin (no lock, other go version, no entry for this host)
 * is an error telling the user to run `xgo-build lock`. */
int sdk_for_release(const struct release *r, const struct sdk_options *opt, struct sdk *out);

/* release.lock beside the build file path; caller frees. */
char *sdk_lock_path(const char *release_path);
/* Read the lock for r and check it pins r->go_version for platform.
 * Returns the platform's entry (inside *l) or NULL after an error. */
const struct lock_platform *sdk_pin_for(const struct release *r, const char *platform, struct lock *l);

/* Copy the SDK at dir into the cache when its VERSION says go<version>
 * and its tree digest equals pin->tree_digest. */
int sdk_import(const char *dir, const struct sdk_request *req, struct sdk *out);

/* The first local SDK (the places of the resolution order above) whose
 * VERSION names go<version>: its root (owned) and tree digest.  0, or 1
 * when there is none; never -1. */
int sdk_find_local(const char *version, char **root, char digest[65]);

/* Does cache entry s hold the SDK version/pin asks for?  With a pin that
 * has a tree digest the digests must match, else the archive sha256s;
 * pin NULL accepts any entry of that version. */
int sdk_matches_pin(const struct sdk *s, const char *version, const struct lock_platform *pin);

/* "linux-amd64" etc. for the machine we run on. */
const char *sdk_host_platform(void);
/* The cache root (see above); caller frees. */
char *sdk_cache_dir(void);

/* Cache entries, for list/verify/gc. */
struct sdk_entry_list {
	struct sdk *v;
	size_t n;
};
int sdk_cache_list(const char *cache_dir, struct sdk_entry_list *out);
void sdk_entry_list_clear(struct sdk_entry_list *l);
/* Re-hash the entry's tree; 1 when it matches its record, 0 when not,
 * -1 when it cannot be read. */
int sdk_verify_entry(const struct sdk *s);
/* Remove a cache entry (under its lock).  busy_ok: skip it when another
 * process holds the lock, returning 1. */
int sdk_remove_entry(const char *cache_dir, const struct sdk *s, int busy_ok);
/* A second look at the SDK while jobs build.  The check at the start of a
 * run may be skipped within XGO_SDK_RECHECK of the last walk, so a tree
 * changed since then would build binaries under the pinned tree digest.
 * Whenever a job really builds, the stat fingerprint is walked again on a
 * thread of its own, concurrently with the builds (when it differs, as in
 * a copied or restored cache, the tree's content digest decides against
 * the record's); nothing built may be
 * stored or published before sdk_guard_wait says the tree is the one that
 * was verified at install. */
struct sdk_guard;
/* Start the walk of s->root (s must outlive the guard). */
struct sdk_guard *sdk_guard_start(const struct sdk *s);
/* Wait for the walk: 0 when the tree still has the recorded fingerprint.
 * Else error() naming the entry, -1, and the entry's recheck stamp is
 * removed so that the next run walks the tree and installs it again.
 * Idempotent and thread-safe: the first call joins, later calls return
 * the same answer. */
int sdk_guard_wait(struct sdk_guard *g);
void sdk_guard_free(struct sdk_guard *g);

/* Remove leftovers: temporary directories and .part files that no
 * install is using.  Returns how many were removed. */
int sdk_clean_tmp(const char *cache_dir);

#endif
