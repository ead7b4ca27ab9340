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

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* path opened for reading, or error() and -1 when it is not a regular
 * file: O_NONBLOCK so that opening a FIFO does not wait for a writer, and
 * fstat before the first read, so that a device or FIFO is never read. */
static int hash_open(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return error("cannot read '%s':", path);
	if (fstat(fd, &st) < 0) {
		error("cannot read '%s':", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		error("refusing '%s': not a regular file", path);
		close(fd);
		return -1;
	}
	return fd;
}

int hash_file_hex(enum hash_algo algo, const char *path, char *hex, uint64_t *size)
{
	return hash_copy_file(algo, path, NULL, 0, hex, size);
}

int hash_copy_file(enum hash_algo algo, const char *path, const char *to, int mode, char *hex, uint64_t *size)
{
	static _Thread_local unsigned char chunk[1 << 17];
	uint64_t total = 0;
	int fd = hash_open(path), out = -1, rc = -1;
	if (fd < 0)
		return -1;
	if (to && (out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) < 0) {
		close(fd);
		return error("cannot create '%s':", to);
	}
	struct hasher *h = hasher_new(algo);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error("cannot read '%s':", path);
			goto out;
		}
		if (n == 0)
			break;
		hasher_update(h, chunk, (size_t)n);
		total += (uint64_t)n;
		if (out >= 0 && write_all(out, chunk, (size_t)n) < 0) {
			error("cannot write '%s':", to);
			goto out;
		}
	}
	if (out >= 0 && (fchmod(out, (mode_t)mode) < 0 || close(out) < 0)) {
		out = -1;
		error("cannot write '%s':", to);
		goto out;
	}
	out = -1;
	hasher_final_hex(h, hex);
	if (size)
		*size = total;
	rc = 0;
out:
	if (out >= 0)
		close(out);
	if (rc < 0 && to)
		unlink(to);
	close(fd);
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
