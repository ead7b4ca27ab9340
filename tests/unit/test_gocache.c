/* test_gocache.c - cache/gocache: a committed object comes back
 * under its action, a size that does not match is a miss, an entry is
 * taken only for the action it names, and signed entries verify only for
 * the bytes that were signed. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/acsign.h"
#include "cache/gocache.h"
#include "base/hash.h"
#include "base/util.h"
#include "tests/unit/unit.h"

#define ACT1 "1111111111111111111111111111111111111111111111111111111111111111"
#define ACT2 "2222222222222222222222222222222222222222222222222222222222222222"

static int setup(void **state)
{
	verbosity = -1;
	return unit_setup(state);
}

/* Commit data under action; out gets its output ID. */
static void commit(struct gocache_store *s, const char *action, const char *data, char out[65])
{
	char *tmp = gocache_tmp_path(s);
	assert_int_equal(write_file_atomic(tmp, data, strlen(data), 0644), 0);
	hash_bytes_hex(HASH_SHA256, data, strlen(data), out);
	char *text = gocache_entry_text(NULL, action, out, strlen(data));
	assert_int_equal(gocache_commit(s, tmp, action, out, strlen(data), text), 0);
	assert_int_not_equal(access(tmp, F_OK), 0);
	free(text);
	free(tmp);
}

static void test_gocache__commit_then_lookup(void **state)
{
	(void)state;
	struct gocache_store *s = gocache_store_open(unit_dir);
	char out[65], got[65];
	uint64_t size;
	assert_non_null(s);
	assert_int_equal(gocache_lookup(s, ACT1, got, &size), 0);
	commit(s, ACT1, "object", out);
	commit(s, ACT2, "object", out); /* the same bytes: one object, two entries */
	assert_int_equal(gocache_lookup(s, ACT1, got, &size), 1);
	assert_string_equal(got, out);
	assert_int_equal(size, 6);
	assert_int_equal(gocache_lookup(s, ACT2, got, &size), 1);
	/* an object whose size is not its entry's is a miss */
	char *obj = gocache_object_path(s, out);
	chmod(obj, 0644);
	assert_int_equal(write_file_atomic(obj, "objec", 5, 0644), 0);
	assert_int_equal(gocache_lookup(s, ACT1, got, &size), 0);
	free(obj);
	gocache_store_close(s);
}

static void test_gocache__entry_is_for_its_action_only(void **state)
{
	(void)state;
	char out[65], got[65], *sig = NULL;
	uint64_t size;
	hash_bytes_hex(HASH_SHA256, "x", 1, out);
	char *text = gocache_entry_text(NULL, ACT1, out, 1);
	assert_int_equal(gocache_entry_parse(text, strlen(text), ACT1, got, &size, &sig), 0);
	assert_string_equal(got, out);
	assert_null(sig);
	assert_int_equal(gocache_entry_parse(text, strlen(text), ACT2, got, &size, &sig), -1);
	assert_int_equal(gocache_entry_parse("{\"v\":1}", 7, ACT1, got, &size, &sig), -1);
	assert_int_equal(gocache_entry_parse("not json", 8, ACT1, got, &size, &sig), -1);
	free(text);
}

static void test_gocache__signed_entries_verify_for_their_bytes(void **state)
{
	(void)state;
	struct acsign keys = { 0 };
	char *pub = NULL, *prefix = xasprintf("%s/k", unit_dir), *key = xasprintf("%s/k.key", unit_dir);
	char *pubf = xasprintf("%s/k.pub", unit_dir), out[65], got[65], *sig = NULL;
	uint64_t size;
	assert_int_equal(acsign_keygen(prefix, &pub), 0);
	assert_int_equal(acsign_set_signer(&keys, "test", key), 0);
	assert_int_equal(acsign_add_trusted(&keys, "test", pubf, NULL), 0);
	hash_bytes_hex(HASH_SHA256, "x", 1, out);
	char *text = gocache_entry_text(&keys, ACT1, out, 1);
	assert_int_equal(gocache_entry_parse(text, strlen(text), ACT1, got, &size, &sig), 0);
	assert_non_null(sig);
	struct buf b;
	gocache_canonical(&b, ACT1, out, 1);
	assert_int_equal(acsign_verify(&keys, b.data, b.len, sig), 1);
	buf_release(&b);
	gocache_canonical(&b, ACT1, out, 2); /* another size: not what was signed */
	assert_int_equal(acsign_verify(&keys, b.data, b.len, sig), 0);
	buf_release(&b);
	free(sig);
	free(text);
	free(pub);
	free(prefix);
	free(key);
	free(pubf);
	acsign_release(&keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gocache__commit_then_lookup, setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_gocache__entry_is_for_its_action_only, setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_gocache__signed_entries_verify_for_their_bytes, setup, unit_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
