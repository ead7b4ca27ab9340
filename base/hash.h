/* hash.h - streaming SHA-256/SHA-512 over OpenSSL EVP, hex digests.
 *
 * Every digest in xgo-build (artifacts, SDK archives and trees, release.lua,
 * go.sum, checksum files) goes through this module.
 */
#ifndef XGO_HASH_H
#define XGO_HASH_H

#include <stddef.h>
#include <stdint.h>

/* HASH_BLAKE2B512: minisign's prehash (sign.h); never a checksum file's. */
enum hash_algo { HASH_SHA256, HASH_SHA512, HASH_BLAKE2B512 };

#define HASH_MAX_BYTES 64
#define HASH_HEX_MAX (2 * HASH_MAX_BYTES + 1)

struct hasher; /* opaque; owns an EVP_MD_CTX */

struct hasher *hasher_new(enum hash_algo algo);
void hasher_update(struct hasher *h, const void *p, size_t n);
/* s with its NUL, so that consecutive strings cannot run together; NULL
 * hashes as "". */
void hasher_update_str(struct hasher *h, const char *s);
/* hex receives the lowercase hex digest and a NUL: 65 bytes for sha256,
 * 129 (HASH_HEX_MAX) for sha512 and blake2b512.  Call hasher_free next. */
void hasher_final_hex(struct hasher *h, char *hex);
void hasher_free(struct hasher *h);

/* One-shot helpers.  hash_file streams the file and reports its size.
 * Both refuse (error(), -1) what is not a regular file, without blocking
 * on a FIFO or reading a device. */
void hash_bytes_hex(enum hash_algo algo, const void *p, size_t n, char *hex);
int hash_file_hex(enum hash_algo algo, const char *path, char *hex, uint64_t *size);
/* hash_file_hex that also copies the file to `to` on the way (one read):
 * `to` is created with exactly mode and must not exist yet; on failure it
 * is removed. */
int hash_copy_file(enum hash_algo algo, const char *path, const char *to, int mode, char *hex, uint64_t *size);

/* 1 when s is 64 lowercase hex digits (a SHA-256 as this module writes it). */
int hash_is_sha256_hex(const char *s);

/* Base64 (RFC 4648, padded, one line) of digests, keys and signatures.
 * b64_encode: owned text.  b64_decode: the bytes of s (at most max into
 * out), or -1 when s is empty, not base64, not the one canonical text of
 * its bytes (unused bits set, '=' inside) or longer than max allows. */
char *b64_encode(const unsigned char *d, size_t n);
int b64_decode(const char *s, unsigned char *out, size_t max);

const char *hash_algo_name(enum hash_algo algo);
/* "sha256" / "sha512" -> algo; -1 for anything else. */
int hash_algo_parse(const char *name, enum hash_algo *algo);

#endif
