/* checksums.h - SHA256SUMS-style checksum files: written in exactly the
 * format of `sha256sum` / `sha512sum` in text mode, one "<hex>  <name>\n"
 * line per file sorted bytewise by name, so that `sha256sum -c SHA256SUMS`
 * passes in dist/; and read back (for verify --against).
 *
 * A struct sums is a plain value: not locked.  Fill it from one thread
 * (e.g. after the packaging workers have finished).
 */
#ifndef XGO_CHECKSUMS_H
#define XGO_CHECKSUMS_H

#include <stddef.h>

#include "base/hash.h"
#include "base/util.h"

#define SUMS_MAX_BYTES (16u << 20) /* largest checksum file read */
#define SUMS_NAME_MAX 4096         /* longest file name in one */

struct sums_entry {
	char *name;               /* relative to the checksum file's directory */
	char hex[HASH_HEX_MAX];   /* lowercase */
};

/* Entries are kept sorted bytewise by name, names unique. */
struct sums {
	enum hash_algo algo;
	struct sums_entry *v;
	size_t n, cap;
};

void sums_init(struct sums *s, enum hash_algo algo);
void sums_release(struct sums *s);

/* Add name with its digest (hex digits of the right length, any case).
 * Names must be relative, without "..", control characters or
 * backslashes (which sha256sum would escape); a name added twice is an
 * error. */
int sums_add(struct sums *s, const char *name, const char *hex);
/* Hash dir/name and add it under name. */
int sums_add_file(struct sums *s, const char *dir, const char *name);
/* Add a published file: with its known sha256 when s is a sha256 list,
 * else by hashing dir/name. */
int sums_add_published(struct sums *s, const char *dir, const char *name, const char *sha256);
/* The digest recorded for name, or NULL. */
const char *sums_find(const struct sums *s, const char *name);

/* "SHA256SUMS" or "SHA512SUMS". */
const char *sums_default_name(enum hash_algo algo);
/* Append the file's text to out (fails only past out's maximum). */
int sums_format(const struct sums *s, struct buf *out);
/* Write the checksum file at path, atomically (mode 0644). */
int sums_write(const struct sums *s, const char *path);
/* Write dir/<name>.sha256 (or .sha512) per entry, each one line naming the
 * file by its base name, so the check runs in the file's own directory. */
int sums_write_each(const struct sums *s, const char *dir);

/* Write dir/file and, when per_file, the per-file checksums in dir: what
 * a release publishes (run and merge alike). */
int sums_publish(const struct sums *s, const char *dir, const char *file, int per_file);

/* Parse a checksum file's text; what names it in errors, which carry the
 * line number ("'SHA256SUMS':3: ...").  Accepts the text ("  ") and binary
 * (" *") markers; rejects escaped names, blank lines and CRLF.  On error
 * *out is empty. */
int sums_parse(const char *data, size_t len, const char *what, enum hash_algo algo,
	       struct sums *out);
/* Read and parse path (at most SUMS_MAX_BYTES). */
int sums_read(const char *path, enum hash_algo algo, struct sums *out);

#endif
