/* test_actcache.c - orchestrator/actcache: a stored result comes back
 * byte for byte, a corrupt content is a miss that drops the entry, and
 * gc keeps what fits, newest first. */
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
#include <sys/time.h>
#include <unistd.h>

#include "orchestrator/actcache.h"
#include "orchestrator/hash.h"
#include "orchestrator/util.h"

#define KEY1 "1111111111111111111111111111111111111111111111111111111111111111"
#define KEY2 "2222222222222222222222222222222222222222222222222222222222222222"

static char dir[64];

static int setup(void **state)
{
	quiet_errors = 1;
	verbosity = -1;
	strcpy(dir, "/tmp/test_actcache.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	return remove_tree(dir);
}

/* Write text to <dir>/name and store it under key; fills e. */
static void put(struct actcache *c, const char *key, const char *name, const char *text, struct ac_entry *e)
{
	char *path = xasprintf("%s/%s", dir, name);
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
	memset(e, 0, sizeof(*e));
	assert_int_equal(hash_file_hex(HASH_SHA256, path, e->sha256, &e->size), 0);
	actcache_put(c, key, path, e);
	free(path);
}

static void test_actcache__put_then_get_is_the_same_bytes(void **state)
{
	struct actcache *c = actcache_open(dir, NULL);
	struct ac_entry e, got;
	assert_non_null(c);
	put(c, KEY1, "a", "the artifact\n", &e);
	char *out = xasprintf("%s/out", dir);
	assert_int_equal(actcache_get(c, KEY1, out, 0644, &got), 1);
	assert_string_equal(got.sha256, e.sha256);
	size_t len;
	char *back = read_file(out, 1024, &len);
	assert_string_equal(back, "the artifact\n");
	assert_int_equal(actcache_get(c, KEY2, out, 0644, &got), 0);
	assert_int_equal(actcache_get(c, "not-a-key", out, 0644, &got), 0);
	unsigned l, r, s;
	actcache_stats(c, &l, &r, &s);
	assert_int_equal(l, 1);
	assert_int_equal(s, 1);
	free(back);
	free(out);
	actcache_close(c);
}

static void test_actcache__corrupt_content_is_a_miss_and_dropped(void **state)
{
	struct actcache *c = actcache_open(dir, NULL);
	struct ac_entry e, got;
	put(c, KEY1, "a", "the artifact\n", &e);
	char *blob = xasprintf("%s/actions/cas/%s", dir, e.sha256);
	chmod(blob, 0644);
	assert_int_equal(write_file_atomic(blob, "tampered\n", 9, 0644), 0);
	char *out = xasprintf("%s/out", dir);
	assert_int_equal(actcache_get(c, KEY1, out, 0644, &got), 0);
	assert_int_not_equal(access(out, F_OK), 0); /* nothing half-written */
	assert_int_not_equal(access(blob, F_OK), 0);
	char *entry = xasprintf("%s/actions/ac/%s", dir, KEY1);
	assert_int_not_equal(access(entry, F_OK), 0);
	free(entry);
	free(blob);
	free(out);
	actcache_close(c);
}

static void test_actcache__gc_keeps_the_newest_that_fit(void **state)
{
	struct actcache *c = actcache_open(dir, NULL);
	struct ac_entry e1, e2;
	put(c, KEY1, "a", "older and longer content\n", &e1);
	put(c, KEY2, "b", "newer\n", &e2);
	char *old = xasprintf("%s/actions/ac/%s", dir, KEY1);
	struct timeval tv[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	assert_int_equal(utimes(old, tv), 0);
	actcache_close(c);
	struct ac_usage u, removed;
	assert_int_equal(actcache_usage(dir, &u), 0);
	assert_int_equal(u.entries, 2);
	assert_int_equal(u.bytes, e1.size + e2.size);
	assert_int_equal(actcache_gc(dir, e2.size, 0, &removed), 0);
	assert_int_equal(removed.entries, 1);
	assert_int_equal(removed.bytes, e1.size);
	assert_int_not_equal(access(old, F_OK), 0);
	assert_int_equal(actcache_usage(dir, &u), 0);
	assert_int_equal(u.entries, 1);
	/* by age: the remaining entry is new */
	assert_int_equal(actcache_gc(dir, 0, 86400, &removed), 0);
	assert_int_equal(removed.entries, 0);
	free(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_actcache__put_then_get_is_the_same_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_actcache__corrupt_content_is_a_miss_and_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_actcache__gc_keeps_the_newest_that_fit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
