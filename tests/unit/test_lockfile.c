/* Unit tests for toolchains/lockfile: release.lock round trips, and every
 * malformed lock is refused with a message naming the file and the field. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>

#include "base/util.h"
#include "toolchains/lockfile.h"
#include "tests/unit/unit.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdef0123"

static void fill(struct lock *l)
{
	struct lock_platform a = { .name = "linux-amd64", .filename = "go1.26.8.linux-amd64.tar.gz", .size = 123 };
	struct lock_platform b = { .name = "windows-amd64", .filename = "go1.26.8.windows-amd64.zip", .size = 456 };
	memset(l, 0, sizeof(*l));
	l->go = xstrdup("1.26.8");
	memcpy(a.sha256, H1, 65);
	memcpy(a.tree_digest, H2, 65);
	memcpy(b.sha256, H2, 65);
	lock_set(l, &a);
	lock_set(l, &b);
}

static void test_lockfile__round_trip_with_null_digest(void **state)
{
	(void)state;
	struct lock l, back;
	fill(&l);
	char *text = lock_dump(&l);
	assert_non_null(strstr(text, "\"tree_digest\": null"));
	assert_non_null(strstr(text, "\"format\": 1"));
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_int_equal(lock_parse("release.lock", text, strlen(text), &back), 0);
	assert_string_equal(back.go, "1.26.8");
	assert_int_equal(back.nplat, 2);
	struct lock_platform *p = lock_find(&back, "linux-amd64");
	assert_non_null(p);
	assert_string_equal(p->filename, "go1.26.8.linux-amd64.tar.gz");
	assert_int_equal(p->size, 123);
	assert_string_equal(p->sha256, H1);
	assert_string_equal(p->tree_digest, H2);
	p = lock_find(&back, "windows-amd64");
	assert_non_null(p);
	assert_string_equal(p->tree_digest, "");
	assert_null(lock_find(&back, "darwin-arm64"));
	/* Dumping again gives the same bytes: the file is stable. */
	char *again = lock_dump(&back);
	assert_string_equal(text, again);
	free(again);
	free(text);
	lock_clear(&back);
	lock_clear(&l);
}

static void test_lockfile__write_then_read_and_missing_file(void **state)
{
	(void)state;
	char *path = unit_path("release.lock");
	struct lock l, back;
	assert_int_equal(lock_read(path, &back), 1);
	fill(&l);
	assert_int_equal(lock_write(path, &l), 0);
	assert_int_equal(lock_read(path, &back), 0);
	assert_int_equal(back.nplat, 2);
	lock_clear(&back);
	lock_clear(&l);
	free(path);
}

static void test_lockfile__set_replaces(void **state)
{
	(void)state;
	struct lock l;
	fill(&l);
	struct lock_platform a = { .name = "linux-amd64", .filename = "other.tar.gz", .size = 9 };
	memcpy(a.sha256, H2, 65);
	lock_set(&l, &a);
	assert_int_equal(l.nplat, 2);
	assert_string_equal(lock_find(&l, "linux-amd64")->filename, "other.tar.gz");
	assert_string_equal(lock_find(&l, "linux-amd64")->tree_digest, "");
	lock_clear(&l);
}

struct bad {
	const char *text, *needle;
};

#define PLAT(fn, sha, size, td) \
	"{\"format\":1,\"go\":\"1.26.8\",\"platforms\":{\"linux-amd64\":{\"filename\":" fn \
	",\"sha256\":" sha ",\"size\":" size ",\"tree_digest\":" td "}}}"

static void test_lockfile__refuses_bad_input(void **state)
{
	(void)state;
	static const struct bad cases[] = {
		{ "{", "not valid JSON" },
		{ "[]", "JSON object" },
		{ "{\"format\":2,\"go\":\"1.26.8\",\"platforms\":{}}", "format" },
		{ "{\"go\":\"1.26.8\",\"platforms\":{}}", "format" },
		{ "{\"format\":1,\"platforms\":{}}", "\"go\"" },
		{ "{\"format\":1,\"go\":\"1.26.8; rm\",\"platforms\":{}}", "\"go\"" },
		{ "{\"format\":1,\"go\":\"1.26.8\"}", "\"platforms\"" },
		{ "{\"format\":1,\"go\":\"1.26.8\",\"tree_digest_format\":\"v9\",\"platforms\":{}}", "tree_digest_format" },
		{ "{\"format\":1,\"go\":\"1.26.8\",\"platforms\":{\"LINUX\":{}}}", "platform name" },
		{ "{\"format\":1,\"go\":\"1.26.8\",\"platforms\":{\"linux-amd64\":3}}", "not an object" },
		{ PLAT("\"../evil.tar.gz\"", "\"" H1 "\"", "1", "null"), "filename" },
		{ PLAT("\"a/b.tar.gz\"", "\"" H1 "\"", "1", "null"), "filename" },
		{ PLAT("\"go.tar.gz\"", "\"" H1 "0\"", "1", "null"), "sha256" },
		{ PLAT("\"go.tar.gz\"", "\"ABCDEF\"", "1", "null"), "sha256" },
		{ PLAT("\"go.tar.gz\"", "\"" H1 "\"", "-5", "null"), "size" },
		{ PLAT("\"go.tar.gz\"", "\"" H1 "\"", "\"12\"", "null"), "size" },
		{ PLAT("\"go.tar.gz\"", "\"" H1 "\"", "1", "\"zz\""), "tree_digest" },
		{ "{\"format\":1,\"format\":1,\"go\":\"1.26.8\",\"platforms\":{}}", "not valid JSON" },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct lock l;
		error_clear();
		int rc = lock_parse("x/release.lock", cases[i].text, strlen(cases[i].text), &l);
		if (rc != -1 || !strstr(error_last(), cases[i].needle) || !strstr(error_last(), "x/release.lock"))
			fail_msg("case %zu: rc %d, message '%s' (want '%s')", i, rc, error_last(), cases[i].needle);
		assert_null(l.go);
		assert_int_equal(l.nplat, 0);
	}
}

static void test_lockfile__accepts_good_minimal(void **state)
{
	(void)state;
	struct lock l;
	const char *t = PLAT("\"go.tar.gz\"", "\"" H1 "\"", "1", "\"" H2 "\"");
	assert_int_equal(lock_parse("release.lock", t, strlen(t), &l), 0);
	assert_string_equal(lock_find(&l, "linux-amd64")->tree_digest, H2);
	lock_clear(&l);
}

static void test_lockfile__hex_and_filename_helpers(void **state)
{
	(void)state;
	assert_true(lock_is_hex64(H1));
	assert_false(lock_is_hex64("11"));
	assert_false(lock_is_hex64(NULL));
	assert_true(lock_is_filename("go1.26.8.linux-amd64.tar.gz"));
	assert_false(lock_is_filename(".."));
	assert_false(lock_is_filename("a\\b"));
	assert_false(lock_is_filename(""));
	assert_false(lock_is_filename("a\nb"));
	assert_true(lock_is_version("1.26.8"));
	assert_true(lock_is_version("1.27rc1"));
	assert_false(lock_is_version("../../x"));
	assert_false(lock_is_version("go1.26.8"));
	assert_false(lock_is_version(""));
	assert_true(lock_is_platform("linux-amd64"));
	assert_false(lock_is_platform("linux/amd64"));
	assert_false(lock_is_platform("amd64"));
}

/* lock --offline: a tree-only pin round-trips with nulls, and a null
 * archive without a tree digest is refused. */
static void test_lockfile__tree_only_pin(void **state)
{
	(void)state;
	struct lock l = { 0 }, back;
	struct lock_platform a = { .name = "linux-amd64", .filename = "" };
	l.go = xstrdup("1.26.8");
	memcpy(a.tree_digest, H2, 65);
	lock_set(&l, &a);
	char *text = lock_dump(&l);
	assert_non_null(strstr(text, "\"filename\": null"));
	assert_non_null(strstr(text, "\"sha256\": null"));
	assert_non_null(strstr(text, "\"size\": null"));
	assert_int_equal(lock_parse("release.lock", text, strlen(text), &back), 0);
	struct lock_platform *p = lock_find(&back, "linux-amd64");
	assert_non_null(p);
	assert_string_equal(p->sha256, "");
	assert_string_equal(p->tree_digest, H2);
	lock_clear(&back);
	free(text);
	lock_clear(&l);
	static const char no_tree[] = "{\"format\": 1, \"go\": \"1.26.8\", \"platforms\": {\"linux-amd64\": "
				      "{\"filename\": null, \"sha256\": null, \"size\": null, \"tree_digest\": null}}}";
	assert_int_equal(lock_parse("release.lock", no_tree, strlen(no_tree), &back), -1);
	assert_non_null(strstr(error_last(), "needs a \"tree_digest\""));
}

int main(void)
{
	error_quiet(1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lockfile__round_trip_with_null_digest),
		UNIT_TEST(test_lockfile__write_then_read_and_missing_file),
		cmocka_unit_test(test_lockfile__set_replaces),
		cmocka_unit_test(test_lockfile__refuses_bad_input),
		cmocka_unit_test(test_lockfile__accepts_good_minimal),
		cmocka_unit_test(test_lockfile__hex_and_filename_helpers),
		cmocka_unit_test(test_lockfile__tree_only_pin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
