/* test_sign.c - orchestrator/sign: key files, .minisig files and DSSE
 * envelopes round-trip, and every damaged input is refused with an error
 * naming it.  Keys are unencrypted (-W): scrypt's cost is the CLI test's. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "orchestrator/sign.h"
#include "base/util.h"
#include "tests/unit/unit.h"

static char pub[128], sec[128], pub2[128], sec2[128];

static char *at(const char *name)
{
	return xasprintf("%s/%s", unit_dir, name);
}

static void put(const char *name, const char *text)
{
	char *p = at(name);
	assert_int_equal(write_file_atomic(p, text, strlen(text), 0644), 0);
	free(p);
}

static int setup(void **state)
{
	if (unit_setup(state) < 0)
		return -1;
	snprintf(pub, sizeof(pub), "%s/k.pub", unit_dir);
	snprintf(sec, sizeof(sec), "%s/k.key", unit_dir);
	snprintf(pub2, sizeof(pub2), "%s/o.pub", unit_dir);
	snprintf(sec2, sizeof(sec2), "%s/o.key", unit_dir);
	return sign_keygen(pub, sec, NULL, 0) || sign_keygen(pub2, sec2, NULL, 0);
}

static void test_sign__keys_load_with_one_key_id(void **state)
{
	struct sign_key s, p;
	char a[17], b[17];
	assert_int_equal(sign_load_secret(sec, NULL, &s), 0);
	assert_int_equal(sign_load_public(pub, &p), 0);
	sign_keyid_hex(&s, a);
	sign_keyid_hex(&p, b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 16);
	sign_key_release(&s);
	sign_key_release(&p);
	assert_int_equal(sign_keygen(pub, sec, NULL, 0), -1);
	assert_non_null(strstr(error_last(), "exists"));
}

static void test_sign__file_signature_round_trip_and_damage(void **state)
{
	struct sign_key s, p, o;
	assert_int_equal(sign_load_secret(sec, NULL, &s), 0);
	assert_int_equal(sign_load_public(pub, &p), 0);
	assert_int_equal(sign_load_public(pub2, &o), 0);
	put("f", "release bytes\n");
	assert_int_equal(sign_file(&s, unit_dir, "f", 1700000000), 0);
	char *f = at("f"), *sig = at("f.minisig");
	assert_int_equal(sign_verify_file(&p, f, sig), 0);
	assert_int_equal(sign_verify_file(&o, f, sig), -1);
	assert_non_null(strstr(error_last(), "was signed with key"));
	put("f", "release bytes!\n");
	assert_int_equal(sign_verify_file(&p, f, sig), -1);
	assert_non_null(strstr(error_last(), "does not match its signature"));
	put("f", "release bytes\n");
	/* an edited trusted comment */
	size_t len;
	char *text = read_file(sig, SIGN_SIG_FILE_MAX, &len);
	char *ts = strstr(text, "timestamp:17");
	ts[11] = '8';
	put("f.minisig", text);
	free(text);
	assert_int_equal(sign_verify_file(&p, f, sig), -1);
	assert_non_null(strstr(error_last(), "trusted comment"));
	put("f.minisig", "untrusted comment: x\nAAAA\n");
	assert_int_equal(sign_verify_file(&p, f, sig), -1);
	assert_non_null(strstr(error_last(), "not a minisign signature"));
	free(f);
	free(sig);
	sign_key_release(&s);
	sign_key_release(&p);
	sign_key_release(&o);
}

/* The base64 character that holds padding bits, turned into its neighbour
 * with only a padding bit changed: a decoder that ignores those bits reads
 * the same signature from a different file. */
static void set_padding_bit(char *line)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *last = strchr(line, '=') - 1;
	*last = b64[(strchr(b64, *last) - b64) ^ 1];
}

static void test_sign__base64_is_canonical(void **state)
{
	unsigned char out[8];
	assert_int_equal(b64_decode("QQ==", out, sizeof(out)), 1);
	assert_int_equal(b64_decode("QR==", out, sizeof(out)), -1);
	assert_int_equal(b64_decode("QUI=", out, sizeof(out)), 2);
	assert_int_equal(b64_decode("QUJ=", out, sizeof(out)), -1);
	assert_int_equal(b64_decode("QQ=A", out, sizeof(out)), -1);
	assert_int_equal(b64_decode("Q===", out, sizeof(out)), -1);
	struct sign_key s, p;
	assert_int_equal(sign_load_secret(sec, NULL, &s), 0);
	assert_int_equal(sign_load_public(pub, &p), 0);
	put("g", "release bytes\n");
	assert_int_equal(sign_file(&s, unit_dir, "g", 1700000000), 0);
	char *g = at("g"), *sig = at("g.minisig");
	size_t len;
	char *good = read_file(sig, SIGN_SIG_FILE_MAX, &len);
	for (int line = 1; line <= 3; line += 2) {
		char *text = xstrdup(good), *at_line = text;
		for (int i = 0; i < line; i++)
			at_line = strchr(at_line, '\n') + 1;
		set_padding_bit(at_line);
		put("g.minisig", text);
		free(text);
		assert_int_equal(sign_verify_file(&p, g, sig), -1);
	}
	put("g.minisig", good);
	assert_int_equal(sign_verify_file(&p, g, sig), 0);
	free(good);
	free(g);
	free(sig);
	sign_key_release(&s);
	sign_key_release(&p);
	(void)state;
}

static void test_sign__damaged_key_files_are_refused(void **state)
{
	struct sign_key k;
	char *bad = at("bad.key");
	put("bad.key", "no comment\nRWQ=\n");
	assert_int_equal(sign_load_secret(bad, NULL, &k), -1);
	assert_non_null(strstr(error_last(), "first line"));
	put("bad.key", "untrusted comment: x\nRWQAAEIy\n");
	assert_int_equal(sign_load_secret(bad, NULL, &k), -1);
	assert_non_null(strstr(error_last(), "second line"));
	assert_int_equal(sign_load_public(bad, &k), -1);
	/* the secret key's checksum catches one flipped bit */
	size_t len;
	char *text = read_file(sec, SIGN_KEY_FILE_MAX, &len);
	char *line = strchr(text, '\n') + 1;
	line[100] = line[100] == 'A' ? 'B' : 'A';
	put("bad.key", text);
	free(text);
	assert_int_equal(sign_load_secret(bad, NULL, &k), -1);
	assert_non_null(strstr(error_last(), "damaged"));
	free(bad);
}

static void test_sign__dsse_round_trip_and_damage(void **state)
{
	struct sign_key s, p, o;
	assert_int_equal(sign_load_secret(sec, NULL, &s), 0);
	assert_int_equal(sign_load_public(pub, &p), 0);
	assert_int_equal(sign_load_public(pub2, &o), 0);
	const char *stmt = "{\"_type\":\"https://in-toto.io/Statement/v1\"}";
	char *env = sign_dsse(&s, "application/vnd.in-toto+json", stmt, strlen(stmt));
	assert_non_null(env);
	assert_int_equal(env[strlen(env) - 1], '\n');
	char *payload;
	size_t len;
	assert_int_equal(sign_verify_dsse(&p, "e", env, &payload, &len), 0);
	assert_int_equal(len, strlen(stmt));
	assert_string_equal(payload, stmt);
	free(payload);
	assert_int_equal(sign_verify_dsse(&o, "e", env, &payload, &len), -1);
	assert_null(payload);
	/* another payload type changes PAE: the signature no longer holds */
	char *p2 = strstr(env, "vnd.in-toto");
	p2[0] = 'V';
	assert_int_equal(sign_verify_dsse(&p, "e", env, &payload, &len), -1);
	assert_non_null(strstr(error_last(), "no signature verifies"));
	assert_int_equal(sign_verify_dsse(&p, "e", "[]", &payload, &len), -1);
	assert_non_null(strstr(error_last(), "not a DSSE envelope"));
	free(env);
	sign_key_release(&s);
	sign_key_release(&p);
	sign_key_release(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign__keys_load_with_one_key_id),
		cmocka_unit_test(test_sign__file_signature_round_trip_and_damage),
		cmocka_unit_test(test_sign__base64_is_canonical),
		cmocka_unit_test(test_sign__damaged_key_files_are_refused),
		cmocka_unit_test(test_sign__dsse_round_trip_and_damage),
	};
	return cmocka_run_group_tests(tests, setup, unit_teardown);
}
