/* Unit tests for toolchains/mirror: which mirror wins, and the index. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/util.h"
#include "toolchains/mirror.h"

static void test_mirror__precedence_and_normalisation(void **state)
{
	(void)state;
	char *m;
	unsetenv("XGO_SDK_MIRROR");
	m = mirror_choose(NULL, NULL);
	assert_string_equal(m, "https://go.dev/dl/");
	free(m);
	m = mirror_choose(NULL, "http://release/x");
	assert_string_equal(m, "http://release/x/");
	free(m);
	setenv("XGO_SDK_MIRROR", "file:///env", 1);
	m = mirror_choose(NULL, "http://release/x");
	assert_string_equal(m, "file:///env/");
	free(m);
	m = mirror_choose("https://flag/", "http://release/x");
	assert_string_equal(m, "https://flag/");
	free(m);
	unsetenv("XGO_SDK_MIRROR");
	assert_null(mirror_choose("ftp://x/", NULL));
	assert_non_null(strstr(error_last(), "--sdk-mirror 'ftp://x/'"));
	assert_null(mirror_choose(NULL, "/just/a/path"));
	assert_non_null(strstr(error_last(), "sdk_mirror in release.lua"));
	m = mirror_url("https://go.dev/dl/", "go1.26.8.linux-amd64.tar.gz");
	assert_string_equal(m, "https://go.dev/dl/go1.26.8.linux-amd64.tar.gz");
	free(m);
}

#define SHA "5ec3e86b95c11dc329baa21bb8e44518b415f1a01843ad8450cdc4cbcf8ab92a"

static void test_mirror__parses_go_dev_index(void **state)
{
	(void)state;
	const char *text =
		"[{\"version\":\"go1.26.8\",\"stable\":true,\"files\":["
		"{\"filename\":\"go1.26.8.src.tar.gz\",\"os\":\"\",\"arch\":\"\",\"kind\":\"source\",\"sha256\":\"" SHA "\",\"size\":5},"
		"{\"filename\":\"go1.26.8.linux-amd64.tar.gz\",\"os\":\"linux\",\"arch\":\"amd64\",\"kind\":\"archive\",\"sha256\":\"" SHA "\",\"size\":76},"
		"{\"filename\":\"go1.26.8.windows-amd64.msi\",\"os\":\"windows\",\"arch\":\"amd64\",\"kind\":\"installer\",\"sha256\":\"" SHA "\",\"size\":7},"
		"{\"filename\":\"../evil.tar.gz\",\"os\":\"linux\",\"arch\":\"arm64\",\"kind\":\"archive\",\"sha256\":\"" SHA "\",\"size\":7},"
		"{\"filename\":\"go1.26.8.linux-386.tar.gz\",\"os\":\"linux\",\"arch\":\"386\",\"kind\":\"archive\",\"sha256\":\"bad\",\"size\":7}"
		"]},{\"version\":\"go1.27rc1\",\"stable\":false,\"files\":[]},{\"nonsense\":1}]";
	struct mirror_index idx;
	assert_int_equal(mirror_parse_index("idx", text, strlen(text), &idx), 0);
	assert_int_equal(idx.nrel, 2);
	assert_string_equal(idx.rel[0].version, "1.26.8");
	assert_true(idx.rel[0].stable);
	assert_false(idx.rel[1].stable);
	const struct mirror_file *f = mirror_find(&idx, "1.26.8", "linux-amd64");
	assert_non_null(f);
	assert_string_equal(f->filename, "go1.26.8.linux-amd64.tar.gz");
	assert_int_equal(f->size, 76);
	assert_null(mirror_find(&idx, "1.26.8", "windows-amd64")); /* only an installer */
	assert_null(mirror_find(&idx, "1.26.8", "linux-arm64"));   /* unsafe name skipped */
	assert_null(mirror_find(&idx, "1.26.8", "linux-386"));     /* bad hash skipped */
	assert_null(mirror_find(&idx, "1.26.9", "linux-amd64"));
	mirror_index_clear(&idx);
	assert_int_equal(mirror_parse_index("idx", "{}", 2, &idx), -1);
	assert_non_null(strstr(error_last(), "'idx'"));
	assert_int_equal(mirror_parse_index("idx", "[", 1, &idx), -1);
}

int main(void)
{
	error_quiet(1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mirror__precedence_and_normalisation),
		cmocka_unit_test(test_mirror__parses_go_dev_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
