#define _POSIX_C_SOURCE 200809L
#include "hash.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct hasher {
	EVP_MD_CTX *ctx;
};

static const EVP_MD *algo_md(enum hash_algo algo)
{
	return algo == HASH_BLAKE2B512 ? EVP_blake2b512() : algo == HASH_SHA512 ? EVP_sha512() : EVP_sha256();
}

struct hasher *hasher_new(enum hash_algo algo)
{
	struct hasher *h = xmalloc(sizeof(*h));
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || !EVP_DigestInit_ex(h->ctx, algo_md(algo), NULL))
		fatal(EXIT_JOB, "cannot initialise %s", hash_algo_name(algo));
	return h;
}

void hasher_update(struct hasher *h, const void *p, size_t n)
{
	EVP_DigestUpdate(h->ctx, p, n);
}

void hasher_update_str(struct hasher *h, const char *s)
{
	hasher_update(h, s ? s : "", strlen(s ? s : "") + 1);
}

void hasher_final_hex(struct hasher *h, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	static const char digits[] = "0123456789abcdef";
	EVP_DigestFinal_ex(h->ctx, md, &n);
	for (unsigned int i = 0; i < n && i < HASH_MAX_BYTES; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * (n < HASH_MAX_BYTES ? n : HASH_MAX_BYTES)] = '\0';
}

void hasher_free(struct hasher *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void hash_bytes_hex(enum hash_algo algo, const void *p, size_t n, char *hex)
{
	struct hasher *h = hasher_new(algo);
	hasher_update(h, p, n);
	hasher_final_hex(h, hex);
	hasher_free(h);
}

static void hash_sink(void *arg, const void *p, size_t n)
{
	hasher_update(arg, p, n);
}

int hash_file_hex(enum hash_algo algo, const char *path, char *hex, uint64_t *size)
{
	return hash_copy_file(algo, path, NULL, 0, hex, size);
}

int hash_copy_file(enum hash_algo algo, const char *path, const char *to, int mode, char *hex, uint64_t *size)
{
	struct hasher *h = hasher_new(algo);
	int rc = file_stream(path, 0, to, mode, hash_sink, h, size);
	if (rc == 0)
		hasher_final_hex(h, hex);
	hasher_free(h);
	return rc;
}

const char *hash_algo_name(enum hash_algo algo)
{
	return algo == HASH_BLAKE2B512 ? "blake2b512" : algo == HASH_SHA512 ? "sha512" : "sha256";
}

int hash_algo_parse(const char *name, enum hash_algo *algo)
{
	if (!strcmp(name, "sha256"))
		*algo = HASH_SHA256;
	else if (!strcmp(name, "sha512"))
		*algo = HASH_SHA512;
	else
		return -1;
	return 0;
}

int hash_is_sha256_hex(const char *s)
{
	if (!s || strlen(s) != 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

int b64_decode(const char *s, unsigned char *out, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n % 4 || n / 4 * 3 > max || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
							"0123456789+/=") != n)
		return -1;
	int len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (len < 0)
		return -1;
	len -= (s[n - 1] == '=') + (s[n - 2] == '=');
	/* One text per byte string: a '=' inside, or unused low bits set in
	 * the last character, would let a changed signature file still
	 * verify.  Re-encoding and comparing refuses both. */
	char *again = b64_encode(out, (size_t)len);
	int same = !strcmp(again, s);
	free(again);
	return same ? len : -1;
}

char *b64_encode(const unsigned char *d, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, d, (int)n);
	return out;
}
