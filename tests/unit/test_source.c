/* Unit tests for cache/source: the C-inputs digest sees exactly the
 * files a C compile or cgo link may read, the source digest every file. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "cache/source.h"
#include "base/util.h"
#include "tests/unit/unit.h"

static void put(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", unit_dir, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	assert_int_equal(mkdir_p(path, 0755), 0);
	*slash = '/';
	unlink(path);
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

/* main.go, README, include/y.h, dist/z.h (the run's output) */
static int setup(void **state)
{
	if (unit_setup(state) < 0)
		return -1;
	put("main.go", "package main\n");
	put("README", "hello\n");
	put("include/y.h", "#define Y 1\n");
	put("dist/z.h", "#define Z 1\n");
	return 0;
}

struct digests {
	char c[65], all[65];
};

static struct digests digests(void)
{
	struct digests d;
	char dist[128];
	snprintf(dist, sizeof(dist), "%s/dist", unit_dir);
	const char *skip[] = { dist, NULL };
	unsigned long n;
	assert_int_equal(source_c_digest(unit_dir, skip, d.c, &n), 0);
	assert_int_equal(source_digest(unit_dir, skip, d.all, NULL), 0);
	return d;
}

static void test_source__c_digest_sees_headers_and_libraries(void **state)
{
	(void)state;
	static const char *const inputs[] = { "include/y.h", "sub/x.hpp", "lib/libz.a", "cmd/app/x.syso", "a/b.c" };
	/* (cmd/app and a hold no .go file: not package directories) */
	struct digests before = digests();
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		put(inputs[i], "changed\n");
		struct digests after = digests();
		assert_string_not_equal(before.c, after.c);
		assert_string_not_equal(before.all, after.all);
		before = after;
	}
}

static void test_source__c_digest_ignores_other_files_and_outputs(void **state)
{
	(void)state;
	/* top.h lies beside main.go, in a package directory: Go hashes it */
	static const char *const others[] = { "README", "main.go", "docs/x.md", "h", "x.hx", "dist/z.h", "top.h" };
	struct digests before = digests();
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		put(others[i], "changed\n");
		struct digests after = digests();
		assert_string_equal(before.c, after.c);
		if (strcmp(others[i], "dist/z.h"))
			assert_string_not_equal(before.all, after.all);
		before = after;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_source__c_digest_sees_headers_and_libraries, setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_source__c_digest_ignores_other_files_and_outputs, setup, unit_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
