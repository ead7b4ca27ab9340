/* acsign.h - Ed25519 signatures of action cache entries (actcache.h).
 *
 * A writer with a signing key signs each entry's canonical bytes; a reader
 * with trusted public keys takes a remote entry only when one of them
 * verifies its signature (docs/ci.md, "signed remote cache").
 *
 * Key text: a private key is PEM (PKCS#8, what `xgo-build cache keygen`
 * and `openssl genpkey -algorithm ed25519` write) or the path of a file
 * holding it.  A public key is PEM (one or more PUBLIC KEY blocks), the
 * base64 of its 32 raw bytes, the base64 of its DER form (the PEM's body
 * line), or the path of a PEM file.  Key bytes never reach a message, a
 * log or an entry: errors name where the key came from.
 */
#ifndef XGO_ACSIGN_H
#define XGO_ACSIGN_H

#include <stddef.h>

struct evp_pkey_st; /* OpenSSL's EVP_PKEY */

#define ACSIGN_MAX_TRUSTED 16

struct acsign {
	struct evp_pkey_st *signer;                         /* NULL: entries go unsigned */
	struct evp_pkey_st *trusted[ACSIGN_MAX_TRUSTED];
	size_t ntrusted;                                    /* 0: signatures are not asked for */
};

/* Load the private key spec (PEM text or a path); what names its origin
 * for errors ("XGO_REMOTE_CACHE_SIGNING_KEY").  0, or -1 after error(). */
int acsign_set_signer(struct acsign *s, const char *what, const char *spec);

/* Add the public key(s) of spec.  base non-NULL: spec comes from the build
 * file, and a path must be a name inside base (path.h).  0, or -1 after
 * error(). */
int acsign_add_trusted(struct acsign *s, const char *what, const char *spec, const char *base);

void acsign_release(struct acsign *s);

/* The base64 signature of msg (owned), or NULL when there is no signer. */
char *acsign_sign(const struct acsign *s, const void *msg, size_t len);

/* 1 when one trusted key verifies the base64 signature sig of msg, else 0
 * (sig NULL or malformed included). */
int acsign_verify(const struct acsign *s, const void *msg, size_t len, const char *sig);

/* Write a new key pair: <prefix>.key (PEM private, 0600) and <prefix>.pub
 * (PEM public); neither may exist.  *pub gets the public key's base64
 * (owned), for trusted_keys.  0, or -1 after error(). */
int acsign_keygen(const char *prefix, char **pub);

#endif
