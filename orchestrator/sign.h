/* sign.h - release signatures: minisign keys and .minisig files, and DSSE
 * envelopes for the provenance (docs/attest.md, "## Signatures").
 *
 * Formats are minisign's, so that `minisign -V` verifies what we sign and
 * we verify what minisign signs:
 *   public key  "untrusted comment: ...\n" + base64("Ed" keyid[8] pk[32])
 *   secret key  "untrusted comment: ...\n" + base64("Ed" kdf[2] "B2"
 *               salt[32] opslimit[8] memlimit[8] E(keyid[8] sk[64] chk[32]))
 *               kdf "Sc": E xors a scrypt stream derived from the password
 *               (libsodium's scryptsalsa208sha256 parameters); kdf 0,0:
 *               unencrypted.  chk = BLAKE2b-256("Ed" keyid sk).
 *   signature   untrusted comment, base64("ED" keyid sig[64]) where sig
 *               signs BLAKE2b-512(file), trusted comment, base64 of the
 *               signature of sig || trusted comment.
 * Ed25519, BLAKE2b-512 and scrypt are OpenSSL's; BLAKE2b-256 (which
 * OpenSSL 3.0 lacks) is libsodium's.  Ed25519 is deterministic, and the
 * trusted comment's timestamp is SOURCE_DATE_EPOCH, so a rebuild signs to
 * the same bytes.  Secret key bytes and the password never reach a
 * message, a log or a file other than the key file keygen writes.
 */
#ifndef XGO_SIGN_H
#define XGO_SIGN_H

#include <jansson.h>
#include <stddef.h>

#include "base/util.h"

struct evp_pkey_st; /* OpenSSL's EVP_PKEY */

#define SIGN_KEYID_LEN 8
#define SIGN_KEY_FILE_MAX 4096     /* a key file is two short lines */
#define SIGN_SIG_FILE_MAX 8192     /* so is a .minisig (comments included) */
#define SIGN_DSSE_MAX (64u << 20)  /* an envelope (the provenance inside) */
#define SIGN_PASSWORD_MAX 1024
#define SIGN_PASSWORD_ENV "XGO_SIGNING_PASSWORD"

struct sign_key {
	unsigned char keyid[SIGN_KEYID_LEN];
	struct evp_pkey_st *pkey; /* private for a secret key, else public */
};

/* The key id as minisign prints it: 16 upper-case hex digits. */
void sign_keyid_hex(const struct sign_key *k, char hex[17]);

/* The password: the variable env (SIGN_PASSWORD_ENV when NULL) when set,
 * else read from the terminal without echo (twice when confirm).  Owned;
 * NULL after error() when there is neither, or they differ. */
char *sign_password(const char *env, const char *prompt, int confirm);
/* Zero and free a password. */
void sign_password_free(char *pw);

/* Write a new key pair to pub and sec (sec mode 0600).  password NULL: an
 * unencrypted secret key.  Existing files are refused unless force.  0, or
 * -1 after error(). */
int sign_keygen(const char *pub, const char *sec, const char *password, int force);

/* Load a secret key file.  An encrypted one takes its password from
 * sign_password(pw_env) (SIGN_PASSWORD_ENV when NULL).  0; -1 after
 * error() naming path: not a key, or the password missing or wrong. */
int sign_load_secret(const char *path, const char *pw_env, struct sign_key *k);
/* Load a public key file.  0, or -1 after error() naming path. */
int sign_load_public(const char *path, struct sign_key *k);
void sign_key_release(struct sign_key *k);

/* Sign dir/name into dir/name.minisig (atomically), with the trusted
 * comment "timestamp:<ts>\tfile:<name>\thashed".  0, or -1 after error(). */
int sign_file(const struct sign_key *k, const char *dir, const char *name, long long ts);
/* Check sig_path (a .minisig) against the file at path with public key k:
 * the key id, the file's signature and the trusted comment's.  0, or -1
 * after error() naming sig_path and what failed. */
int sign_verify_file(const struct sign_key *k, const char *path, const char *sig_path);

/* A DSSE envelope (one JSON line and a newline, owned) signing payload of
 * payload_type: Ed25519 over PAE(type, payload), keyid the key id hex. */
char *sign_dsse(const struct sign_key *k, const char *payload_type, const void *payload, size_t len);
/* Check an envelope's text (what names it): one signature with our key
 * id that verifies.  *payload gets the decoded payload (owned, NUL-ended)
 * and *len its size.  0, or -1 after error(). */
int sign_verify_dsse(const struct sign_key *k, const char *what, const char *text, char **payload, size_t *len);

/* Sign a release in dir (run's staging dir, or merge's): each of files
 * (the checksum file first) into <name>.minisig, then dir/provenance.json,
 * when there is one, into the DSSE envelope provenance.intoto.jsonl; emit
 * the "signed" event (the files and the key id only).  The manifest's
 * "signatures" list ({file, signs, format, key_id} each; owned), or NULL
 * after error(). */
json_t *sign_release_dir(const struct sign_key *k, const char *dir, const struct strv *files, long long ts);

#endif
