/* sign.c - minisign keys and signatures, DSSE envelopes (sign.h). */
#define _GNU_SOURCE
#include "sign.h"
#include "base/hash.h"
#include "events.h"
#include "base/jsonx.h"
#include "relverify.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define PK_LEN 32
#define SEED_LEN 32
#define SK_LEN 64 /* libsodium's layout: seed then public key */
#define SIG_LEN 64
#define CHK_LEN 32
#define SALT_LEN 32
#define HASH_LEN 64
#define PUB_BLOB (2 + SIGN_KEYID_LEN + PK_LEN)
#define SIG_BLOB (2 + SIGN_KEYID_LEN + SIG_LEN)
#define KEYNUM_SK (SIGN_KEYID_LEN + SK_LEN + CHK_LEN)
#define SEC_BLOB (2 + 2 + 2 + SALT_LEN + 8 + 8 + KEYNUM_SK)
#define SEC_KEYNUM_AT (SEC_BLOB - KEYNUM_SK)
/* minisign's scrypt cost (libsodium's "sensitive" limits: N=2^20, r=8,
 * p=1, 1 GiB), and the most a key file may ask for. */
#define OPSLIMIT 33554432ull
#define MEMLIMIT 1073741824ull
#define OPSLIMIT_MAX (1ull << 33)
#define MEMLIMIT_MAX (1ull << 31)
#define UNTRUSTED "untrusted comment: "
#define TRUSTED "trusted comment: "

void sign_keyid_hex(const struct sign_key *k, char hex[17])
{
	/* minisign prints the id as a little-endian 64-bit number */
	for (int i = 0; i < SIGN_KEYID_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02X", k->keyid[SIGN_KEYID_LEN - 1 - i]);
}

void sign_key_release(struct sign_key *k)
{
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
}

/* ---- passwords ---- */

/* The prompt and the newline echo would not show are a courtesy: a
 * terminal that takes no output still gives the password. */
static void tty_say(int fd, const char *s)
{
	ssize_t n = write(fd, s, strlen(s));
	(void)n;
}

static char *read_tty_line(int fd, const char *prompt)
{
	struct termios old, quiet;
	char line[SIGN_PASSWORD_MAX + 2];
	size_t n = 0;
	int echo_off = tcgetattr(fd, &old) == 0;
	if (echo_off) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	tty_say(fd, prompt);
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (n < sizeof(line) - 1)
			line[n++] = c;
	}
	line[n] = '\0';
	if (echo_off)
		tcsetattr(fd, TCSAFLUSH, &old);
	tty_say(fd, "\n");
	char *pw = n > SIGN_PASSWORD_MAX ? NULL : xstrdup(line);
	OPENSSL_cleanse(line, sizeof(line));
	if (!pw)
		error("the password is longer than %d bytes", SIGN_PASSWORD_MAX);
	return pw;
}

char *sign_password(const char *env, const char *prompt, int confirm)
{
	const char *name = env ? env : SIGN_PASSWORD_ENV;
	const char *v = getenv(name);
	if (v) {
		if (strlen(v) > SIGN_PASSWORD_MAX)
			return error("%s is longer than %d bytes", name, SIGN_PASSWORD_MAX), NULL;
		return xstrdup(v);
	}
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return error("no password: set %s (there is no terminal to ask on)", name), NULL;
	char *pw = read_tty_line(fd, prompt);
	if (pw && confirm) {
		char *again = read_tty_line(fd, "Password (again): ");
		if (!again || strcmp(pw, again)) {
			if (again)
				error("the passwords differ");
			sign_password_free(pw);
			pw = NULL;
		}
		sign_password_free(again);
	}
	close(fd);
	return pw;
}

void sign_password_free(char *pw)
{
	if (pw)
		OPENSSL_cleanse(pw, strlen(pw));
	free(pw);
}

/* ---- key files ---- */

static void le64_store(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t le64_load(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* libsodium's pickparams: the scrypt N, r, p of an opslimit/memlimit. */
static void scrypt_params(uint64_t ops, uint64_t mem, uint64_t *n, uint64_t *r, uint64_t *p)
{
	int log2;
	uint64_t maxn;
	if (ops < 32768)
		ops = 32768;
	*r = 8;
	if (ops < mem / 32) {
		*p = 1;
		maxn = ops / (*r * 4);
	} else {
		maxn = mem / (*r * 128);
	}
	for (log2 = 1; log2 < 63; log2++)
		if ((uint64_t)1 << log2 > maxn / 2)
			break;
	*n = (uint64_t)1 << log2;
	if (ops >= mem / 32) {
		uint64_t maxrp = (ops / 4) / *n;
		if (maxrp > 0x3fffffff)
			maxrp = 0x3fffffff;
		*p = maxrp / *r;
	}
}

/* XOR buf with the scrypt stream of password and the key's salt. */
static int scrypt_xor(const char *pw, const unsigned char *salt, uint64_t ops, uint64_t mem, unsigned char *buf,
		      size_t len)
{
	uint64_t n, r, p;
	unsigned char stream[KEYNUM_SK];
	scrypt_params(ops, mem, &n, &r, &p);
	uint64_t maxmem = 128 * r * (n + p + 2) + (1u << 20);
	if (EVP_PBE_scrypt(pw, strlen(pw), salt, SALT_LEN, n, r, p, maxmem, stream, len) != 1)
		return error("scrypt (N=%llu, r=%llu, p=%llu) failed: not enough memory?", (unsigned long long)n,
			     (unsigned long long)r, (unsigned long long)p);
	for (size_t i = 0; i < len; i++)
		buf[i] ^= stream[i];
	OPENSSL_cleanse(stream, sizeof(stream));
	return 0;
}

/* chk = BLAKE2b-256("Ed" keyid sk), as minisign computes it. */
static void key_checksum(const unsigned char *keyid, const unsigned char *sk, unsigned char *chk)
{
	unsigned char in[2 + SIGN_KEYID_LEN + SK_LEN];
	memcpy(in, "Ed", 2);
	memcpy(in + 2, keyid, SIGN_KEYID_LEN);
	memcpy(in + 2 + SIGN_KEYID_LEN, sk, SK_LEN);
	crypto_generichash(chk, CHK_LEN, in, sizeof(in), NULL, 0);
	OPENSSL_cleanse(in, sizeof(in));
}

/* The base64 line after the untrusted comment of a key file, decoded into
 * out (exactly want bytes).  0, or -1 after error(). */
static int key_blob(const char *path, const char *kind, unsigned char *out, size_t want)
{
	size_t len;
	char *text = read_file(path, SIGN_KEY_FILE_MAX, &len);
	if (!text)
		return -1;
	int rc = -1;
	char *nl = strchr(text, '\n');
	if (strncmp(text, UNTRUSTED, strlen(UNTRUSTED)) || !nl) {
		error("'%s' is not a minisign %s key: its first line must be '%s...'", path, kind, UNTRUSTED);
		goto out;
	}
	char *line = nl + 1;
	line[strcspn(line, "\r\n")] = '\0';
	unsigned char raw[SEC_BLOB + 3];
	int n = b64_decode(line, raw, sizeof(raw));
	if (n != (int)want || (memcmp(raw, "Ed", 2))) {
		error("'%s' is not a minisign %s key: its second line is not the base64 of an Ed25519 key", path, kind);
		OPENSSL_cleanse(raw, sizeof(raw));
		goto out;
	}
	memcpy(out, raw, want);
	OPENSSL_cleanse(raw, sizeof(raw));
	rc = 0;
out:
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

int sign_load_public(const char *path, struct sign_key *k)
{
	unsigned char blob[PUB_BLOB];
	memset(k, 0, sizeof(*k));
	if (key_blob(path, "public", blob, sizeof(blob)) < 0)
		return -1;
	memcpy(k->keyid, blob + 2, SIGN_KEYID_LEN);
	k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, blob + 2 + SIGN_KEYID_LEN, PK_LEN);
	if (!k->pkey)
		return error("'%s': not a valid Ed25519 public key", path);
	return 0;
}

/* Decrypt the keynum_sk part of blob in place when the key is encrypted. */
static int decrypt_secret(const char *path, const char *pw_env, unsigned char *blob)
{
	if (!memcmp(blob + 2, "\0\0", 2))
		return 0;
	if (memcmp(blob + 2, "Sc", 2))
		return error("'%s': unknown key derivation '%.2s' (minisign keys use scrypt)", path, blob + 2);
	uint64_t ops = le64_load(blob + 6 + SALT_LEN), mem = le64_load(blob + 6 + SALT_LEN + 8);
	if (ops > OPSLIMIT_MAX || mem > MEMLIMIT_MAX)
		return error("'%s': its scrypt cost (opslimit %llu, memlimit %llu) is past this tool's limits", path,
			     (unsigned long long)ops, (unsigned long long)mem);
	char *prompt = xasprintf("Password for '%s': ", path);
	char *pw = sign_password(pw_env, prompt, 0);
	free(prompt);
	if (!pw)
		return error("cannot decrypt the secret key '%s' without its password", path);
	int rc = scrypt_xor(pw, blob + 6, ops, mem, blob + SEC_KEYNUM_AT, KEYNUM_SK);
	sign_password_free(pw);
	return rc;
}

int sign_load_secret(const char *path, const char *pw_env, struct sign_key *k)
{
	unsigned char blob[SEC_BLOB], chk[CHK_LEN], pk[PK_LEN];
	size_t pklen = PK_LEN;
	int rc = -1;
	memset(k, 0, sizeof(*k));
	if (key_blob(path, "secret", blob, sizeof(blob)) < 0)
		return -1;
	if (memcmp(blob + 4, "B2", 2)) {
		error("'%s': unknown checksum '%.2s' (minisign keys use B2)", path, blob + 4);
		goto out;
	}
	int encrypted = memcmp(blob + 2, "\0\0", 2) != 0;
	if (decrypt_secret(path, pw_env, blob) < 0)
		goto out;
	const unsigned char *keyid = blob + SEC_KEYNUM_AT, *sk = keyid + SIGN_KEYID_LEN;
	key_checksum(keyid, sk, chk);
	k->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sk, SEED_LEN);
	if (CRYPTO_memcmp(chk, sk + SK_LEN, CHK_LEN) || !k->pkey ||
	    EVP_PKEY_get_raw_public_key(k->pkey, pk, &pklen) != 1 || memcmp(pk, sk + SEED_LEN, PK_LEN)) {
		if (encrypted)
			error("cannot decrypt the secret key '%s': wrong password (from %s or the terminal)", path,
			      SIGN_PASSWORD_ENV);
		else
			error("'%s': the secret key's checksum does not match: the file is damaged", path);
		sign_key_release(k);
		goto out;
	}
	memcpy(k->keyid, keyid, SIGN_KEYID_LEN);
	rc = 0;
out:
	OPENSSL_cleanse(blob, sizeof(blob));
	return rc;
}

/* "untrusted comment: COMMENT\n" + base64(blob) + "\n", written to path. */
static int write_key_file(const char *path, const char *comment, const unsigned char *blob, size_t n, int mode)
{
	char *b64 = b64_encode(blob, n);
	char *text = xasprintf("%s%s\n%s\n", UNTRUSTED, comment, b64);
	int rc = write_file_atomic(path, text, strlen(text), mode);
	OPENSSL_cleanse(b64, strlen(b64));
	OPENSSL_cleanse(text, strlen(text));
	free(b64);
	free(text);
	return rc;
}

static int refuse_existing(const char *path, int force)
{
	struct stat st;
	if (lstat(path, &st) == 0 && (!force || !S_ISREG(st.st_mode)))
		return error("'%s' exists: choose another name, or -f to replace it", path);
	return 0;
}

/* The secret key blob for the key pair (seed, pk) and keyid. */
static int secret_blob(unsigned char *blob, const unsigned char *seed, const unsigned char *pk,
		       const unsigned char *keyid, const char *password)
{
	unsigned char *ks = blob + SEC_KEYNUM_AT;
	memcpy(blob, "Ed", 2);
	memcpy(blob + 2, password ? "Sc" : "\0\0", 2);
	memcpy(blob + 4, "B2", 2);
	if (RAND_bytes(blob + 6, SALT_LEN) != 1)
		return error("cannot get random bytes for the key's salt");
	le64_store(blob + 6 + SALT_LEN, password ? OPSLIMIT : 0);
	le64_store(blob + 6 + SALT_LEN + 8, password ? MEMLIMIT : 0);
	memcpy(ks, keyid, SIGN_KEYID_LEN);
	memcpy(ks + SIGN_KEYID_LEN, seed, SEED_LEN);
	memcpy(ks + SIGN_KEYID_LEN + SEED_LEN, pk, PK_LEN);
	key_checksum(keyid, ks + SIGN_KEYID_LEN, ks + SIGN_KEYID_LEN + SK_LEN);
	if (password)
		return scrypt_xor(password, blob + 6, OPSLIMIT, MEMLIMIT, ks, KEYNUM_SK);
	return 0;
}

int sign_keygen(const char *pub, const char *sec, const char *password, int force)
{
	unsigned char seed[SEED_LEN], pk[PK_LEN], keyid[SIGN_KEYID_LEN], sblob[SEC_BLOB], pblob[PUB_BLOB];
	size_t sl = SEED_LEN, pl = PK_LEN;
	char hex[17];
	int rc = -1;
	if (!strcmp(pub, sec))
		return error("the public and the secret key cannot both be '%s'", pub);
	if (refuse_existing(pub, force) < 0 || refuse_existing(sec, force) < 0)
		return -1;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!k || EVP_PKEY_get_raw_private_key(k, seed, &sl) != 1 || EVP_PKEY_get_raw_public_key(k, pk, &pl) != 1 ||
	    RAND_bytes(keyid, sizeof(keyid)) != 1) {
		error("cannot make an Ed25519 key");
		goto out;
	}
	if (secret_blob(sblob, seed, pk, keyid, password) < 0)
		goto out;
	memcpy(pblob, "Ed", 2);
	memcpy(pblob + 2, keyid, SIGN_KEYID_LEN);
	memcpy(pblob + 2 + SIGN_KEYID_LEN, pk, PK_LEN);
	struct sign_key view = { .pkey = NULL };
	memcpy(view.keyid, keyid, SIGN_KEYID_LEN);
	sign_keyid_hex(&view, hex);
	char *comment = xasprintf("minisign public key %s", hex);
	if (write_key_file(sec, password ? "minisign encrypted secret key" : "minisign unencrypted secret key",
			   sblob, sizeof(sblob), 0600) == 0 &&
	    write_key_file(pub, comment, pblob, sizeof(pblob), 0644) == 0)
		rc = 0;
	else
		unlink(sec);
	free(comment);
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(sblob, sizeof(sblob));
	EVP_PKEY_free(k);
	return rc;
}

/* ---- signatures ---- */

static int ed25519_sign(const struct sign_key *k, const void *msg, size_t len, unsigned char *sig)
{
	size_t n = SIG_LEN;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
		 EVP_DigestSign(ctx, sig, &n, msg, len) == 1 && n == SIG_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : error("cannot make an Ed25519 signature");
}

static int ed25519_verify(const struct sign_key *k, const unsigned char *sig, const void *msg, size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
		 EVP_DigestVerify(ctx, sig, SIG_LEN, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* BLAKE2b-512 of the file at path: minisign's prehash. */
static int prehash(const char *path, unsigned char *out)
{
	char hex[HASH_HEX_MAX];
	if (hash_file_hex(HASH_BLAKE2B512, path, hex, NULL) < 0)
		return -1;
	for (int i = 0; i < HASH_LEN; i++) {
		unsigned int b;
		sscanf(hex + 2 * i, "%2x", &b);
		out[i] = (unsigned char)b;
	}
	return 0;
}

int sign_file(const struct sign_key *k, const char *dir, const char *name, long long ts)
{
	char *path = xasprintf("%s/%s", dir, name), *out = xasprintf("%s.minisig", path);
	char *trusted = xasprintf("timestamp:%lld\tfile:%s\thashed", ts, name);
	unsigned char h[HASH_LEN], blob[SIG_BLOB], *global = xmalloc(SIG_LEN + strlen(trusted));
	unsigned char gsig[SIG_LEN];
	int rc = -1;
	memcpy(blob, "ED", 2);
	memcpy(blob + 2, k->keyid, SIGN_KEYID_LEN);
	if (prehash(path, h) < 0 || ed25519_sign(k, h, sizeof(h), blob + 2 + SIGN_KEYID_LEN) < 0)
		goto out;
	memcpy(global, blob + 2 + SIGN_KEYID_LEN, SIG_LEN);
	memcpy(global + SIG_LEN, trusted, strlen(trusted));
	if (ed25519_sign(k, global, SIG_LEN + strlen(trusted), gsig) < 0)
		goto out;
	char *b1 = b64_encode(blob, sizeof(blob)), *b2 = b64_encode(gsig, sizeof(gsig));
	char *text = xasprintf("%ssignature from xgo-build secret key\n%s\n%s%s\n%s\n", UNTRUSTED, b1, TRUSTED, trusted,
			       b2);
	rc = write_file_atomic(out, text, strlen(text), 0644);
	free(b1);
	free(b2);
	free(text);
out:
	free(global);
	free(trusted);
	free(out);
	free(path);
	return rc;
}

/* The four lines of a .minisig: pointers into text (NUL-ended in place). */
static int sig_lines(char *text, char *line[4])
{
	char *p = text;
	for (int i = 0; i < 4; i++) {
		line[i] = p;
		char *nl = strchr(p, '\n');
		if (!nl && i < 3)
			return -1;
		if (nl) {
			*nl = '\0';
			p = nl + 1;
		} else {
			p += strlen(p);
		}
		line[i][strcspn(line[i], "\r")] = '\0';
	}
	return strncmp(line[0], UNTRUSTED, strlen(UNTRUSTED)) || strncmp(line[2], TRUSTED, strlen(TRUSTED)) ? -1 : 0;
}

static int check_sig(const struct sign_key *k, const char *path, const char *sig_path, char *line[4])
{
	unsigned char blob[SIG_BLOB + 3], gsig[SIG_LEN + 3], h[HASH_LEN];
	char want[17], got[17];
	if (b64_decode(line[1], blob, sizeof(blob)) != SIG_BLOB || b64_decode(line[3], gsig, sizeof(gsig)) != SIG_LEN)
		return error("'%s' is not a minisign signature: a signature line is not base64 of the right size",
			     sig_path);
	if (!memcmp(blob, "Ed", 2))
		return error("'%s' is a legacy (not prehashed) minisign signature: sign with minisign 0.8 or later",
			     sig_path);
	if (memcmp(blob, "ED", 2))
		return error("'%s': unknown signature algorithm '%.2s'", sig_path, (const char *)blob);
	struct sign_key sk = { .pkey = NULL };
	memcpy(sk.keyid, blob + 2, SIGN_KEYID_LEN);
	sign_keyid_hex(&sk, got);
	sign_keyid_hex(k, want);
	if (memcmp(sk.keyid, k->keyid, SIGN_KEYID_LEN))
		return error("'%s' was signed with key %s, not with the given key %s", sig_path, got, want);
	if (prehash(path, h) < 0)
		return -1;
	if (!ed25519_verify(k, blob + 2 + SIGN_KEYID_LEN, h, sizeof(h)))
		return error("'%s' does not match its signature '%s': the file or the signature was changed", path,
			     sig_path);
	const char *trusted = line[2] + strlen(TRUSTED);
	size_t tl = strlen(trusted);
	unsigned char *global = xmalloc(SIG_LEN + tl);
	memcpy(global, blob + 2 + SIGN_KEYID_LEN, SIG_LEN);
	memcpy(global + SIG_LEN, trusted, tl);
	int ok = ed25519_verify(k, gsig, global, SIG_LEN + tl);
	free(global);
	return ok ? 0 : error("'%s': the trusted comment's signature does not verify: the comment was changed", sig_path);
}

int sign_verify_file(const struct sign_key *k, const char *path, const char *sig_path)
{
	size_t len;
	char *text = read_file(sig_path, SIGN_SIG_FILE_MAX, &len), *line[4];
	if (!text)
		return -1;
	int rc = strlen(text) != len || sig_lines(text, line) < 0
			 ? error("'%s' is not a minisign signature (four lines: untrusted comment, signature, "
				 "trusted comment, signature)", sig_path)
			 : check_sig(k, path, sig_path, line);
	free(text);
	return rc;
}

/* ---- DSSE ---- */

/* PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body */
static unsigned char *pae(const char *type, const void *payload, size_t len, size_t *out_len)
{
	char *head = xasprintf("DSSEv1 %zu %s %zu ", strlen(type), type, len);
	size_t hl = strlen(head);
	unsigned char *m = xmalloc(hl + len + 1);
	memcpy(m, head, hl);
	memcpy(m + hl, payload, len);
	*out_len = hl + len;
	free(head);
	return m;
}

char *sign_dsse(const struct sign_key *k, const char *payload_type, const void *payload, size_t len)
{
	size_t ml;
	unsigned char sig[SIG_LEN], *m = pae(payload_type, payload, len, &ml);
	char hex[17];
	int rc = ed25519_sign(k, m, ml, sig);
	free(m);
	if (rc < 0)
		return NULL;
	sign_keyid_hex(k, hex);
	char *b64p = b64_encode(payload, len), *b64s = b64_encode(sig, sizeof(sig));
	json_t *sigs = json_array(), *env = json_object();
	json_t *one = json_object();
	jx_set(one, "keyid", json_string(hex));
	jx_set(one, "sig", json_string(b64s));
	jx_push(sigs, one);
	jx_set(env, "payloadType", json_string(payload_type));
	jx_set(env, "payload", json_string(b64p));
	jx_set(env, "signatures", sigs);
	char *text = json_dumps(env, JSON_COMPACT);
	json_decref(env);
	free(b64p);
	free(b64s);
	if (!text)
		fatal(EXIT_JOB, "out of memory");
	char *line = xasprintf("%s\n", text);
	free(text);
	return line;
}

/* 1 when one of the envelope's signatures verifies PAE m with k. */
static int dsse_signed(const struct sign_key *k, json_t *sigs, const unsigned char *m, size_t ml)
{
	size_t i;
	json_t *s;
	json_array_foreach(sigs, i, s) {
		unsigned char raw[SIG_LEN + 3];
		const char *b64 = json_string_value(json_object_get(s, "sig"));
		if (b64 && b64_decode(b64, raw, sizeof(raw)) == SIG_LEN && ed25519_verify(k, raw, m, ml))
			return 1;
	}
	return 0;
}

int sign_verify_dsse(const struct sign_key *k, const char *what, const char *text, char **payload, size_t *len)
{
	json_error_t je;
	json_t *env = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	const char *type = json_string_value(json_object_get(env, "payloadType"));
	const char *b64 = json_string_value(json_object_get(env, "payload"));
	json_t *sigs = json_object_get(env, "signatures");
	int rc = -1;
	*payload = NULL;
	if (!type || !b64 || !json_is_array(sigs)) {
		error("'%s' is not a DSSE envelope (payloadType, payload and signatures)%s%s", what, env ? "" : ": ",
		      env ? "" : je.text);
		goto out;
	}
	size_t cap = strlen(b64) / 4 * 3 + 3;
	unsigned char *p = xmalloc(cap + 1);
	int n = b64_decode(b64, p, cap);
	if (n < 0) {
		free(p);
		error("'%s': the payload is not base64", what);
		goto out;
	}
	p[n] = '\0';
	size_t ml;
	unsigned char *m = pae(type, p, (size_t)n, &ml);
	int ok = dsse_signed(k, sigs, m, ml);
	free(m);
	if (!ok) {
		char hex[17];
		sign_keyid_hex(k, hex);
		free(p);
		error("'%s': no signature verifies with key %s: the envelope or its payload was changed", what, hex);
		goto out;
	}
	*payload = (char *)p;
	*len = (size_t)n;
	rc = 0;
out:
	json_decref(env);
	return rc;
}

/* ---- a release's signatures -------------------------------------------- */

static json_t *signature_entry(const char *file, const char *signs, const char *format, const char *keyid)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "file", file, "signs", signs, "format", format, "key_id", keyid);
}

/* Sign dir/name into name.minisig and list it. */
static int sign_one(const struct sign_key *k, const char *dir, json_t *list, const char *name, long long ts,
		    const char *keyid)
{
	if (sign_file(k, dir, name, ts) < 0)
		return -1;
	char *sig = xasprintf("%s.minisig", name);
	json_t *e = signature_entry(sig, name, "minisign", keyid);
	free(sig);
	if (!e || json_array_append_new(list, e) < 0)
		return error("cannot record the signature of '%s' (a name that is not UTF-8?)", name);
	return 0;
}

/* The DSSE envelope of dir's provenance.json, when there is one. */
static int sign_provenance(const struct sign_key *k, const char *dir, json_t *list, const char *keyid)
{
	char *prov = xasprintf("%s/%s", dir, RELVERIFY_PROVENANCE);
	char *env = xasprintf("%s/%s", dir, RELVERIFY_ENVELOPE), *text = NULL, *line = NULL;
	size_t len;
	int rc = 0;
	if (access(prov, F_OK) == 0) {
		rc = -1;
		if ((text = read_file(prov, SIGN_DSSE_MAX, &len)) &&
		    (line = sign_dsse(k, "application/vnd.in-toto+json", text, len)) &&
		    write_file_atomic(env, line, strlen(line), 0644) == 0) {
			jx_push(list, signature_entry(RELVERIFY_ENVELOPE, RELVERIFY_PROVENANCE, "dsse", keyid));
			rc = 0;
		}
	}
	free(text);
	free(line);
	free(env);
	free(prov);
	return rc;
}

json_t *sign_release_dir(const struct sign_key *k, const char *dir, const struct strv *files, long long ts)
{
	char keyid[17];
	json_t *list = json_array();
	int rc = 0;
	sign_keyid_hex(k, keyid);
	for (size_t i = 0; i < files->n && rc == 0; i++)
		rc = sign_one(k, dir, list, files->v[i], ts, keyid);
	if (rc == 0)
		rc = sign_provenance(k, dir, list, keyid);
	if (rc < 0) {
		json_decref(list);
		return NULL;
	}
	json_t *names = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e)
		jx_push(names, json_incref(json_object_get(e, "file")));
	events_emit("signed", json_pack("{s:s, s:o}", "key_id", keyid, "files", names));
	return list;
}
