/* test_path.c - base/path: the name rule, symlink resolution and
 * containment, and the bounded reader's refusal of non-regular files. */
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

#include "base/path.h"
#include "base/util.h"
#include "tests/unit/unit.h"

static void test_path__name_rule(void **state)
{
	(void)state;
	static const char *const bad[] = { "", "/abs", "../up", "a/../b", "a//b", "a/", "./a", "new\nline",
					   "back\\slash", "del\x7f", "bad\xff", "over\xc0\xaflong", "sur\xed\xa0\x80" };
	static const char *const good[] = { "a", "a/b/c", "hello_1.0_linux_amd64.tar.gz", "caf\xc3\xa9", ".hidden",
					    "a..b" };
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		assert_int_equal(path_check_name("name", bad[i]), -1);
	for (size_t i = 0; i < ARRAY_LEN(good); i++)
		assert_int_equal(path_check_name("name", good[i]), 0);
	char longc[PATH_COMPONENT_MAX + 2];
	memset(longc, 'x', sizeof(longc) - 1);
	longc[sizeof(longc) - 1] = '\0';
	assert_int_equal(path_check_name("name", longc), -1);
	longc[PATH_COMPONENT_MAX] = '\0';
	assert_int_equal(path_check_name("name", longc), 0);
}

static void test_path__absolute_resolves_links_then_dots(void **state)
{
	(void)state;
	char *real = realpath(unit_dir, NULL);
	char *p = xasprintf("%s/a/b", unit_dir), *l = xasprintf("%s/link", unit_dir);
	assert_int_equal(mkdir_p(p, 0755), 0);
	assert_int_equal(symlink(p, l), 0);
	char *arg = xasprintf("%s/link/../x/./y", unit_dir), *got = path_absolute(arg);
	free(arg);
	char *want = xasprintf("%s/a/x/y", real);
	assert_string_equal(got, want);
	assert_int_equal(path_within(got, real), 1);
	assert_int_equal(path_within(real, got), 0);
	assert_int_equal(path_within("/ab", "/a"), 0);
	assert_int_equal(path_within("/a", "/"), 1);
	assert_null(path_absolute(""));
	free(got);
	free(want);
	free(p);
	free(l);
	free(real);
}

static void test_path__inside_follows_every_link(void **state)
{
	(void)state;
	char *docs = xasprintf("%s/proj/docs", unit_dir), *out = xasprintf("%s/outside", unit_dir);
	assert_int_equal(mkdir_p(docs, 0755), 0);
	assert_int_equal(mkdir_p(out, 0755), 0);
	char *root = xasprintf("%s/proj", unit_dir);
	char *l1 = xasprintf("%s/NOTES", docs), *l2 = xasprintf("%s/etc", root), *l3 = xasprintf("%s/self", docs);
	char *l4 = xasprintf("%s/dangling", docs);
	assert_int_equal(symlink("/etc/passwd", l1), 0);
	assert_int_equal(symlink(out, l2), 0);
	assert_int_equal(symlink("..", l3), 0);
	assert_int_equal(symlink("missing", l4), 0);
	char *real = NULL;
	assert_int_equal(path_inside("files", root, "docs/NOTES", NULL), -1);
	assert_non_null(strstr(error_last(), "/etc/passwd"));
	assert_int_equal(path_inside("files", root, "etc/x", NULL), -1);
	assert_int_equal(path_inside("files", root, "docs/self/docs", &real), 0);
	assert_non_null(strstr(real, "/proj/docs"));
	assert_int_equal(path_inside("files", root, "new/file", NULL), 0);
	assert_int_equal(path_inside("files", root, "docs/dangling", NULL), -1);
	free(real);
	free(docs);
	free(out);
	free(root);
	free(l1);
	free(l2);
	free(l3);
	free(l4);
}

static void test_path__reader_refuses_non_regular(void **state)
{
	(void)state;
	char *fifo = xasprintf("%s/fifo", unit_dir), *big = xasprintf("%s/big", unit_dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_null(read_file(fifo, 100, NULL)); /* must not block */
	assert_non_null(strstr(error_last(), "not a regular file"));
	assert_null(read_file("/dev/zero", 100, NULL));
	assert_null(read_file(unit_dir, 100, NULL));
	assert_int_equal(write_file_atomic(big, "0123456789", 10, 0644), 0);
	assert_null(read_file(big, 9, NULL));
	size_t n = 0;
	char *t = read_file(big, 10, &n);
	assert_non_null(t);
	assert_int_equal(n, 10);
	free(t);
	free(fifo);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path__name_rule),
		cmocka_unit_test(test_path__absolute_resolves_links_then_dots),
		cmocka_unit_test(test_path__inside_follows_every_link),
		cmocka_unit_test(test_path__reader_refuses_non_regular),
	};
	return cmocka_run_group_tests(tests, unit_setup, unit_teardown);
}
