#define _POSIX_C_SOURCE 200809L
#include "hash.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hasher {
	EVP_MD_CTX *ctx;
};

static const EVP_MD *algo_md(enum hash_algo algo)
{
	return algo == HASH_SHA512 ? EVP_sha512() : EVP_sha256();
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

int hash_file_hex(enum hash_algo algo, const char *path, char *hex, uint64_t *size)
{
	static _Thread_local unsigned char chunk[1 << 17];
	uint64_t total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error("cannot read '%s':", path);
	struct hasher *h = hasher_new(algo);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error("cannot read '%s':", path);
			hasher_free(h);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		hasher_update(h, chunk, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	hasher_final_hex(h, hex);
	hasher_free(h);
	if (size)
		*size = total;
	return 0;
}

const char *hash_algo_name(enum hash_algo algo)
{
	return algo == HASH_SHA512 ? "sha512" : "sha256";
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
