/* Unit tests for toolchains/treedigest: the digest follows its definition,
 * depends on content only, and the fingerprint sees every change. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/util.h"
#include "toolchains/treedigest.h"
#include "tests/unit/unit.h"

static void put(const char *rel, const char *text, int mode)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", unit_dir, rel);
	unlink(path);
	assert_int_equal(write_file_atomic(path, text, strlen(text), mode), 0);
}

static void mk(const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", unit_dir, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void lnk(const char *target, const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", unit_dir, rel);
	assert_int_equal(symlink(target, path), 0);
}

/* bin/go (exec), bin/tool -> go, src/a.go, src/empty/, VERSION */
static int setup(void **state)
{
	if (unit_setup(state) < 0)
		return -1;
	mk("bin");
	mk("src");
	mk("src/empty");
	put("bin/go", "#!/bin/sh\necho go\n", 0755);
	put("src/a.go", "package a\n", 0644);
	put("VERSION", "go1.99.0\n", 0644);
	lnk("go", "bin/tool");
	return 0;
}

static void digest(char out[TD_HEX], int threads)
{
	struct td_result r;
	assert_int_equal(td_compute(unit_dir, TD_DIGEST, threads, &r), 0);
	memcpy(out, r.digest, TD_HEX);
}

static void fingerprint(char out[TD_HEX])
{
	struct td_result r;
	assert_int_equal(td_compute(unit_dir, TD_FINGERPRINT, 0, &r), 0);
	memcpy(out, r.fingerprint, TD_HEX);
	assert_string_equal(r.digest, "");
}

static void sha(const char *s, char out[HASH_HEX_MAX])
{
	hash_bytes_hex(HASH_SHA256, s, strlen(s), out);
}

/* The digest written out from the definition in treedigest.h. */
static void test_treedigest__matches_definition(void **state)
{
	(void)state;
	char h_go[HASH_HEX_MAX], h_a[HASH_HEX_MAX], h_v[HASH_HEX_MAX], h_t[HASH_HEX_MAX], want[HASH_HEX_MAX];
	char got[TD_HEX];
	sha("#!/bin/sh\necho go\n", h_go);
	sha("package a\n", h_a);
	sha("go1.99.0\n", h_v);
	sha("go", h_t);
	struct buf b;
	buf_init(&b, 1 << 16);
	/* sorted bytewise: VERSION < bin < bin/go < bin/tool < src < ... */
	buf_printf(&b, "f 644 9 %s VERSION", h_v);
	buf_append(&b, "", 1);
	buf_printf(&b, "d bin");
	buf_append(&b, "", 1);
	buf_printf(&b, "f 755 18 %s bin/go", h_go);
	buf_append(&b, "", 1);
	buf_printf(&b, "l %s bin/tool", h_t);
	buf_append(&b, "", 1);
	buf_printf(&b, "d src");
	buf_append(&b, "", 1);
	buf_printf(&b, "f 644 10 %s src/a.go", h_a);
	buf_append(&b, "", 1);
	buf_printf(&b, "d src/empty");
	buf_append(&b, "", 1);
	hash_bytes_hex(HASH_SHA256, b.data, b.len, want);
	buf_release(&b);
	digest(got, 1);
	assert_string_equal(got, want);
	digest(got, 2);
	assert_string_equal(got, want);
}

static void test_treedigest__ignores_times_owners_and_non_exec_bits(void **state)
{
	(void)state;
	char before[TD_HEX], after[TD_HEX], path[256];
	digest(before, 0);
	snprintf(path, sizeof(path), "%s/src/a.go", unit_dir);
	struct timespec ts[2] = { { 12345, 0 }, { 12345, 0 } };
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/bin/go", unit_dir);
	assert_int_equal(chmod(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/src", unit_dir);
	assert_int_equal(chmod(path, 0700), 0);
	digest(after, 0);
	assert_string_equal(before, after);
}

static void test_treedigest__sees_content_mode_links_and_names(void **state)
{
	(void)state;
	char base[TD_HEX], d[TD_HEX], path[256], to[256];
	digest(base, 0);

	put("src/a.go", "package b\n", 0644); /* same size, other bytes */
	digest(d, 0);
	assert_string_not_equal(d, base);
	put("src/a.go", "package a\n", 0644);
	digest(d, 0);
	assert_string_equal(d, base);

	snprintf(path, sizeof(path), "%s/src/a.go", unit_dir);
	assert_int_equal(chmod(path, 0755), 0); /* exec bit counts */
	digest(d, 0);
	assert_string_not_equal(d, base);
	assert_int_equal(chmod(path, 0644), 0);

	snprintf(path, sizeof(path), "%s/bin/tool", unit_dir);
	unlink(path);
	lnk("../VERSION", "bin/tool");
	digest(d, 0);
	assert_string_not_equal(d, base);
	unlink(path);
	lnk("go", "bin/tool");

	snprintf(path, sizeof(path), "%s/src/a.go", unit_dir);
	snprintf(to, sizeof(to), "%s/src/b.go", unit_dir);
	assert_int_equal(rename(path, to), 0);
	digest(d, 0);
	assert_string_not_equal(d, base);
	assert_int_equal(rename(to, path), 0);

	mk("src/empty2");
	digest(d, 0);
	assert_string_not_equal(d, base);
	snprintf(path, sizeof(path), "%s/src/empty2", unit_dir);
	rmdir(path);
	digest(d, 0);
	assert_string_equal(d, base);
}

static void test_treedigest__fingerprint_sees_touch_and_rewrite(void **state)
{
	(void)state;
	char a[TD_HEX], b[TD_HEX], path[256];
	fingerprint(a);
	fingerprint(b);
	assert_string_equal(a, b);
	snprintf(path, sizeof(path), "%s/src/a.go", unit_dir);
	struct timespec ts[2] = { { 1, 0 }, { 1, 0 } };
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	fingerprint(b);
	assert_string_not_equal(a, b);
	fingerprint(a);
	put("src/a.go", "package a\n", 0644); /* same bytes, new inode */
	fingerprint(b);
	assert_string_not_equal(a, b);
}

static void test_treedigest__refuses_fifo_and_missing_root(void **state)
{
	(void)state;
	struct td_result r;
	char path[256];
	snprintf(path, sizeof(path), "%s/src/pipe", unit_dir);
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(td_compute(unit_dir, TD_DIGEST, 0, &r), -1);
	assert_non_null(strstr(error_last(), "src/pipe"));
	unlink(path);
	assert_int_equal(td_compute("/nonexistent/xgo", TD_DIGEST, 0, &r), -1);
	assert_non_null(strstr(error_last(), "/nonexistent/xgo"));
}

static void test_treedigest__unreadable_file_is_an_error(void **state)
{
	(void)state;
	struct td_result r;
	char path[256];
	if (geteuid() == 0)
		skip(); /* unit_dir reads anything */
	snprintf(path, sizeof(path), "%s/src/a.go", unit_dir);
	chmod(path, 0);
	assert_int_equal(td_compute(unit_dir, TD_DIGEST, 0, &r), -1);
	chmod(path, 0644);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_treedigest__matches_definition, setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_treedigest__ignores_times_owners_and_non_exec_bits, setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_treedigest__sees_content_mode_links_and_names, setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_treedigest__fingerprint_sees_touch_and_rewrite, setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_treedigest__refuses_fifo_and_missing_root, setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_treedigest__unreadable_file_is_an_error, setup, unit_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
