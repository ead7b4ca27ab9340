/* treedigest.h - content digest and stat fingerprint of a directory tree.
 *
 * The tree digest identifies an extracted Go SDK by content only, so that an
 * archive extracted by xgo-build and the GOROOT it was packed from (or an
 * SDK installed by hand from the same archive) have the same digest.
 *
 * Tree digest, format "xgo-tree-v1": walk the tree below root (root itself
 * excluded) without following symlinks.  Each entry has a relative path
 * with '/' separators.  Sort the entries by path, bytewise (strcmp), and
 * feed one record per entry into SHA-256; the lowercase hex result is the
 * digest.  Records ("\0" is a NUL byte, <sp> one space):
 *
 *   directory      "d" <sp> path "\0"
 *   regular file   "f" <sp> mode <sp> size <sp> sha256 <sp> path "\0"
 *   symlink        "l" <sp> sha256(target bytes) <sp> path "\0"
 *
 * mode is "755" when any execute bit is set and "644" otherwise; size is
 * decimal bytes; sha256 is the lowercase hex of the contents.  Owners,
 * times, other permission bits and directory modes do not count.  Any
 * other file type (device, fifo, socket) makes the digest fail.
 *
 * Stat fingerprint: SHA-256 over the same sorted walk of records
 * "path \0 st_mode st_size st_ino mtime_ns ctime_ns \n" (decimal).  It
 * changes whenever anything in the tree is written, replaced, renamed,
 * chmod'ed or touched, and costs one lstat per entry: the cheap check
 * that a cache entry is still what was installed.
 */
#ifndef XGO_TREEDIGEST_H
#define XGO_TREEDIGEST_H

#include <stddef.h>
#include <stdint.h>

#define TD_HEX 65

/* Bounds: a tree larger than this is refused rather than walked forever. */
#define TD_MAX_ENTRIES 500000
#define TD_MAX_PATH 4096
#define TD_MAX_DEPTH 128

struct td_result {
	char digest[TD_HEX];      /* tree digest; "" unless asked for */
	char fingerprint[TD_HEX]; /* stat fingerprint */
	uint64_t files, bytes;    /* regular files and their total size */
};

enum {
	TD_DIGEST = 1,      /* read and hash every file */
	TD_FINGERPRINT = 2, /* lstat-only fingerprint */
	TD_SKIP_PYCACHE = 4, /* leave out directories named __pycache__: Python's
			      * byte-code caches, which pip and any import add to
			      * a tree that a wheel installed (zig's lib/) */
};

/* Walk root and compute what flags ask for.  threads: file-hashing
 * threads, 0 = automatic ($XGO_TD_THREADS, else 2 when there are 2 CPUs).  -1 with error() on any failure. */
int td_compute(const char *root, int flags, int threads, struct td_result *out);

#endif
