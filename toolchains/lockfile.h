/* lockfile.h - release.lock: the Go SDK pin, beside release.lua.
 *
 * Written by `xgo-build lock`, read by every command that needs the SDK.
 * JSON, keys sorted, two-space indent, trailing newline:
 *
 *   {
 *     "format": 1,
 *     "go": "1.26.8",
 *     "tree_digest_format": "xgo-tree-v1",
 *     "platforms": {
 *       "linux-amd64": {
 *         "filename": "go1.26.8.linux-amd64.tar.gz",
 *         "sha256": "<64 hex>",
 *         "size": 123456789,
 *         "tree_digest": "<64 hex>"    (or null: not extracted yet)
 *       },
 *       ...
 *     }
 *   }
 *
 * With a cc { zig = "..." } declaration the lock also pins zig, per host
 * platform: the zig binary's sha256 and the tree digest of its lib/
 * directory (libc headers and sources zig compiles from):
 *
 *     "zig": { "version": "0.17.0", "platforms": { "linux-amd64": {
 *              "sha256": "<64 hex>", "lib_tree_digest": "<64 hex>" } } }
 *
 * "platforms" keys are "<goos>-<goarch>" of the machine that runs the build
 * (the SDK host), not build targets.  tree_digest (treedigest.h) is known
 * only for archives xgo-build has extracted: `lock` fills it for the host
 * it runs on; the others stay null until a lock on that host fills them.
 * A tree-only pin, written by `lock` from a local SDK when it cannot read
 * the mirror (offline), has "filename", "sha256" and "size" null and a
 * tree_digest: it accepts that exact tree (a cache entry, a local SDK) but
 * names no archive, so it cannot be downloaded until a lock with the mirror
 * pins one.  The reader rejects unknown formats, bad hex, file names with a
 * '/', and a tree-only pin without a tree digest.
 */
#ifndef XGO_LOCKFILE_H
#define XGO_LOCKFILE_H

#include <stddef.h>
#include <stdint.h>

#define LOCK_FORMAT 1
#define LOCK_MAX_BYTES (1 << 20)
#define LOCK_MAX_PLATFORMS 64

struct lock_platform {
	char *name;        /* "linux-amd64" */
	char *filename;    /* archive file name on the mirror; "" tree-only */
	uint64_t size;     /* 0 tree-only */
	char sha256[65];   /* "" = a tree-only pin (no archive) */
	char tree_digest[65]; /* "" = unknown (null in JSON) */
};

/* A pinned tool binary (zig) for one host platform. */
struct lock_tool {
	char *name;            /* host platform: "linux-amd64" */
	char sha256[65];       /* the binary */
	char tree_digest[65];  /* its lib/ tree (treedigest.h) */
};

struct lock {
	char *go;          /* "1.26.8" */
	struct lock_platform *plat;
	size_t nplat;
	char *zig;         /* pinned zig version, or NULL */
	struct lock_tool *zigplat;
	size_t nzig;
};

/* Read path.  Returns 0, 1 when the file does not exist (*l empty), or -1
 * with one error naming the file and what is wrong. */
int lock_read(const char *path, struct lock *l);
/* Parse text (for tests); path only names the source in errors. */
int lock_parse(const char *path, const char *text, size_t len, struct lock *l);
/* Write atomically (temporary file + rename). */
int lock_write(const char *path, const struct lock *l);
/* The JSON text lock_write writes; caller frees. */
char *lock_dump(const struct lock *l);

void lock_clear(struct lock *l);
/* The entry for platform name, or NULL. */
struct lock_platform *lock_find(const struct lock *l, const char *name);
/* Add or replace the entry for p->name (copies strings). */
void lock_set(struct lock *l, const struct lock_platform *p);

/* The zig entry for host platform name, or NULL; add or replace one. */
const struct lock_tool *lock_find_zig(const struct lock *l, const char *name);
void lock_set_zig(struct lock *l, const struct lock_tool *t);

/* Helpers shared with the mirror index: 64 lowercase hex digits? */
int lock_is_hex64(const char *s);
/* A Go version as pinned ("1.26.8", "1.27rc1"): a digit first, then only
 * [0-9a-z.], at most 32 bytes.  It becomes part of cache paths. */
int lock_is_version(const char *s);
/* "goos-goarch": [a-z0-9-], a '-' inside, at most 64 bytes. */
int lock_is_platform(const char *s);
/* A safe archive file name: no '/', no "..", printable, bounded. */
int lock_is_filename(const char *s);

#endif
