/* acsign.c - Ed25519 keys and signatures for cache entries (acsign.h). */
#define _GNU_SOURCE
#include "acsign.h"
#include "base/hash.h"
#include "base/path.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_FILE_MAX (64 * 1024)
#define RAW_LEN 32
#define DER_LEN 44 /* SubjectPublicKeyInfo of an Ed25519 key */
#define SIG_LEN 64

static int is_pem(const char *s)
{
	return strstr(s, "-----BEGIN") != NULL;
}

static int is_ed25519(EVP_PKEY *k)
{
	return k && EVP_PKEY_is_a(k, "ED25519");
}

/* spec's key text: spec itself when it is PEM, else the file it names
 * (inside base when base is given). */
static char *key_text(const char *what, const char *spec, const char *base)
{
	if (is_pem(spec))
		return xstrdup(spec);
	char *real = NULL, *text = NULL;
	size_t len;
	if (base && (path_check_name(what, spec) < 0 || path_inside(what, base, spec, &real) < 0))
		return NULL;
	int saved = error_quiet(1);
	text = read_file(real ? real : spec, KEY_FILE_MAX, &len);
	error_quiet(saved);
	if (!text) {
		char why[512]; /* error() writes the buffer error_last() returns */
		snprintf(why, sizeof(why), "%s", error_last());
		error("%s: no key in '%s' (%s)", what, spec, why);
	}
	else if (strlen(text) != len) {
		error("%s: '%s' is not a PEM key file", what, spec);
		FREE_AND_NULL(text);
	}
	free(real);
	return text;
}

int acsign_set_signer(struct acsign *s, const char *what, const char *spec)
{
	char *text = key_text(what, spec, NULL);
	if (!text)
		return -1;
	BIO *bio = BIO_new_mem_buf(text, -1);
	EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	if (!is_ed25519(k)) {
		EVP_PKEY_free(k);
		return error("%s: not a PEM Ed25519 private key (xgo-build cache keygen writes one)", what);
	}
	EVP_PKEY_free(s->signer);
	s->signer = k;
	return 0;
}

static int add_key(struct acsign *s, const char *what, EVP_PKEY *k)
{
	if (!is_ed25519(k)) {
		EVP_PKEY_free(k);
		return error("%s: a key that is not an Ed25519 public key", what);
	}
	if (s->ntrusted == ACSIGN_MAX_TRUSTED) {
		EVP_PKEY_free(k);
		return error("%s: more than %d trusted keys", what, ACSIGN_MAX_TRUSTED);
	}
	s->trusted[s->ntrusted++] = k;
	return 0;
}

/* Every PUBLIC KEY block of text. */
static int add_pem(struct acsign *s, const char *what, const char *spec, const char *text)
{
	BIO *bio = BIO_new_mem_buf(text, -1);
	EVP_PKEY *k;
	int n = 0, rc = 0;
	while (rc == 0 && bio && (k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL))) {
		rc = add_key(s, what, k);
		n++;
	}
	BIO_free(bio);
	if (rc == 0 && n == 0)
		rc = error("%s: %s holds no PEM public key", what, is_pem(spec) ? "the PEM text" : spec);
	return rc;
}

int acsign_add_trusted(struct acsign *s, const char *what, const char *spec, const char *base)
{
	unsigned char raw[DER_LEN + 3];
	int n = is_pem(spec) ? -1 : b64_decode(spec, raw, sizeof(raw));
	if (n == RAW_LEN)
		return add_key(s, what, EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, RAW_LEN));
	if (n == DER_LEN) {
		const unsigned char *p = raw;
		return add_key(s, what, d2i_PUBKEY(NULL, &p, DER_LEN));
	}
	char *text = key_text(what, spec, base);
	if (!text)
		return -1;
	int rc = add_pem(s, what, spec, text);
	free(text);
	return rc;
}

void acsign_release(struct acsign *s)
{
	EVP_PKEY_free(s->signer);
	for (size_t i = 0; i < s->ntrusted; i++)
		EVP_PKEY_free(s->trusted[i]);
	memset(s, 0, sizeof(*s));
}

char *acsign_sign(const struct acsign *s, const void *msg, size_t len)
{
	unsigned char sig[SIG_LEN];
	size_t n = sizeof(sig);
	if (!s->signer)
		return NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->signer) == 1 &&
		 EVP_DigestSign(ctx, sig, &n, msg, len) == 1 && n == SIG_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? b64_encode(sig, n) : NULL;
}

static int verify_one(EVP_PKEY *k, const unsigned char *sig, const void *msg, size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1 &&
		 EVP_DigestVerify(ctx, sig, SIG_LEN, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

int acsign_verify(const struct acsign *s, const void *msg, size_t len, const char *sig)
{
	unsigned char raw[SIG_LEN + 3];
	if (!sig || b64_decode(sig, raw, sizeof(raw)) != SIG_LEN)
		return 0;
	for (size_t i = 0; i < s->ntrusted; i++)
		if (verify_one(s->trusted[i], raw, msg, len))
			return 1;
	return 0;
}

/* Write the PEM of k to path (created, never replaced). */
static int write_pem(const char *path, EVP_PKEY *k, int private, int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		int exists = errno == EEXIST;
		if (fd >= 0)
			close(fd);
		return exists ? error("'%s' exists: choose another name or remove it", path)
			      : error("cannot create '%s':", path);
	}
	int ok = private ? PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) : PEM_write_PUBKEY(f, k);
	if (fclose(f) != 0 || !ok) {
		unlink(path);
		return error("cannot write '%s'", path);
	}
	return 0;
}

int acsign_keygen(const char *prefix, char **pub)
{
	char *key = xasprintf("%s.key", prefix), *pubf = xasprintf("%s.pub", prefix);
	unsigned char raw[RAW_LEN];
	size_t n = sizeof(raw);
	int rc = -1;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	*pub = NULL;
	if (!k || EVP_PKEY_get_raw_public_key(k, raw, &n) != 1) {
		error("cannot make an Ed25519 key");
		goto out;
	}
	if (access(key, F_OK) == 0 || access(pubf, F_OK) == 0) {
		error("'%s' exists: choose another name or remove it", access(key, F_OK) == 0 ? key : pubf);
		goto out;
	}
	if (write_pem(key, k, 1, 0600) < 0)
		goto out;
	if (write_pem(pubf, k, 0, 0644) < 0) {
		unlink(key);
		goto out;
	}
	*pub = b64_encode(raw, n);
	rc = 0;
out:
	EVP_PKEY_free(k);
	free(key);
	free(pubf);
	return rc;
}
