/* test_checksums.c - orchestrator/checksums: the sha256sum format, order,
 * name and digest checks, and the reader's errors with line numbers. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/checksums.h"
#include "base/util.h"
#include "tests/unit/unit.h"

#define HEX_A "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
#define HEX_B "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
/* sha256("hello\n") */
#define HEX_HELLO "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

static void test_checksums__format_is_sha256sum_sorted(void **state)
{
	struct sums s;
	struct buf b;
	sums_init(&s, HASH_SHA256);
	buf_init(&b, 1 << 16);
	assert_int_equal(sums_add(&s, "hello_linux_amd64.tar.gz", HEX_B), 0);
	assert_int_equal(sums_add(&s, "Hello_darwin.zip", HEX_A), 0);
	assert_int_equal(sums_add(&s, "hello_linux_386.tar.gz", HEX_A), 0);
	assert_int_equal(sums_format(&s, &b), 0);
	/* Bytewise: uppercase before lowercase, '3' before 'a'. */
	assert_string_equal(b.data, HEX_A "  Hello_darwin.zip\n"
				    HEX_A "  hello_linux_386.tar.gz\n"
				    HEX_B "  hello_linux_amd64.tar.gz\n");
	assert_string_equal(sums_find(&s, "hello_linux_amd64.tar.gz"), HEX_B);
	assert_null(sums_find(&s, "nope"));
	buf_release(&b);
	sums_release(&s);
}

static void test_checksums__add_checks_names_and_digests(void **state)
{
	static const char *const bad[] = { "", "/abs", "../up", "a/../b", "new\nline", "back\\slash" };
	struct sums s;
	sums_init(&s, HASH_SHA256);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		assert_int_equal(sums_add(&s, bad[i], HEX_A), -1);
	assert_int_equal(sums_add(&s, "short", "abc"), -1);
	assert_int_equal(sums_add(&s, "x", HEX_A HEX_A), -1); /* sha512 length */
	assert_int_equal(sums_add(&s, "sub/x", HEX_A), 0);
	assert_int_equal(sums_add(&s, "sub/x", HEX_B), -1);
	assert_non_null(strstr(error_last(), "'sub/x' is listed twice"));
	assert_int_equal(sums_add(&s, "UP", "A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1"), 0);
	assert_string_equal(sums_find(&s, "UP"), HEX_A);
	sums_release(&s);
}

static void test_checksums__write_and_read_back(void **state)
{
	struct sums s, r;
	char *file = xasprintf("%s/hello.txt", unit_dir), *sums = xasprintf("%s/SHA256SUMS", unit_dir);
	FILE *f = fopen(file, "w");
	fputs("hello\n", f);
	fclose(f);
	sums_init(&s, HASH_SHA256);
	assert_int_equal(sums_add_file(&s, unit_dir, "hello.txt"), 0);
	assert_int_equal(sums_add(&s, "other", HEX_B), 0);
	assert_int_equal(sums_write(&s, sums), 0);
	size_t len;
	char *text = read_file(sums, 4096, &len);
	assert_string_equal(text, HEX_HELLO "  hello.txt\n" HEX_B "  other\n");
	free(text);
	assert_int_equal(sums_read(sums, HASH_SHA256, &r), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(sums_find(&r, "hello.txt"), HEX_HELLO);
	sums_release(&r);
	sums_release(&s);
	free(file);
	free(sums);
}

static void test_checksums__write_each(void **state)
{
	struct sums s;
	char *sub = xasprintf("%s/sub", unit_dir), *one = xasprintf("%s/sub/a.zip.sha512", unit_dir);
	mkdir_p(sub, 0755);
	sums_init(&s, HASH_SHA512);
	assert_int_equal(sums_add(&s, "sub/a.zip", HEX_A HEX_B), 0);
	assert_int_equal(sums_write_each(&s, unit_dir), 0);
	char *text = read_file(one, 4096, NULL);
	assert_non_null(text);
	assert_string_equal(text, HEX_A HEX_B "  a.zip\n"); /* base name: checked in sub/ */
	free(text);
	sums_release(&s);
	free(sub);
	free(one);
}

static void test_checksums__parse_accepts_sha256sum_output(void **state)
{
	static const char text[] = HEX_A "  a\n" HEX_B " *b with space\n" HEX_A "  c";
	struct sums s;
	assert_int_equal(sums_parse(text, strlen(text), "SUMS", HASH_SHA256, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(sums_find(&s, "b with space"), HEX_B);
	assert_string_equal(sums_find(&s, "c"), HEX_A);
	sums_release(&s);
	assert_int_equal(sums_parse("", 0, "SUMS", HASH_SHA256, &s), 0);
	assert_int_equal(s.n, 0);
	sums_release(&s);
}

/* text fails to parse with an error containing want. */
static void expect_parse_error(enum hash_algo algo, const char *text, const char *want)
{
	struct sums s;
	assert_int_equal(sums_parse(text, strlen(text), "SUMS", algo, &s), -1);
	if (!strstr(error_last(), want))
		fail_msg("error '%s' lacks '%s'", error_last(), want);
	assert_int_equal(s.n, 0);
}

static void test_checksums__parse_errors_name_the_line(void **state)
{
	expect_parse_error(HASH_SHA256, HEX_A "  a\n\n", "'SUMS':2: empty line");
	expect_parse_error(HASH_SHA256, HEX_A "  a\r\n", "'SUMS':1: line ends with a carriage return");
	expect_parse_error(HASH_SHA256, HEX_A "  a\n" "xyz  b\n", "'SUMS':2: expected '<sha256 digest");
	expect_parse_error(HASH_SHA256, HEX_A "  a\n" HEX_A "  a\n", "'SUMS':2: 'a' is listed twice");
	expect_parse_error(HASH_SHA256, HEX_A "\tb\n", "'SUMS':1: expected");
	expect_parse_error(HASH_SHA256, HEX_A " -b\n", "'SUMS':1: expected two spaces");
	expect_parse_error(HASH_SHA256, "\\" HEX_A "  a\\nb\n", "'SUMS':1: escaped file names");
	expect_parse_error(HASH_SHA256, HEX_A "  ../etc/passwd\n", "'SUMS':1: file name '../etc/passwd'");
	expect_parse_error(HASH_SHA256, "SHA256 (a) = " HEX_A "\n", "'SUMS':1: expected");
	/* A sha256 file read as sha512: the digest length is wrong. */
	expect_parse_error(HASH_SHA512, HEX_A "  a\n", "'SUMS':1: expected '<sha512 digest, 128");
}

static void test_checksums__parse_bounds_lines(void **state)
{
	struct buf b;
	buf_init(&b, 3 * SUMS_NAME_MAX);
	buf_puts(&b, HEX_A "  ");
	for (size_t i = 0; i < SUMS_NAME_MAX + 1; i++)
		buf_puts(&b, "n");
	expect_parse_error(HASH_SHA256, b.data, "'SUMS':1: line is longer than");
	buf_release(&b);
}

static void test_checksums__read_missing_file(void **state)
{
	struct sums s;
	assert_int_equal(sums_read("/nonexistent/SHA256SUMS", HASH_SHA256, &s), -1);
	assert_non_null(strstr(error_last(), "'/nonexistent/SHA256SUMS'"));
	assert_int_equal(s.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksums__format_is_sha256sum_sorted),
		cmocka_unit_test(test_checksums__add_checks_names_and_digests),
		cmocka_unit_test(test_checksums__write_and_read_back),
		cmocka_unit_test(test_checksums__write_each),
		cmocka_unit_test(test_checksums__parse_accepts_sha256sum_output),
		cmocka_unit_test(test_checksums__parse_errors_name_the_line),
		cmocka_unit_test(test_checksums__parse_bounds_lines),
		cmocka_unit_test(test_checksums__read_missing_file),
	};
	return cmocka_run_group_tests(tests, unit_setup, unit_teardown);
}
