/* Unit tests for lua/release (the DSL loader and its validation). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lua/release.h"

static char path[] = "/tmp/xgo-test-release-XXXXXX";

static int load(const char *text, const struct release_limits *lim, struct release *r)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return release_load(path, lim, r);
}

static void expect_error(const char *text, const char *want)
{
	struct release r;
	assert_int_equal(load(text, NULL, &r), -1);
	if (!strstr(error_last(), want))
		fail_msg("error '%s' lacks '%s'", error_last(), want);
	assert_null(r.builds);
}

static const char good[] =
	"project { name = 'hello', version = env('XGO_TEST_VERSION', '0.1.0') }\n"
	"go 'go1.26.8'\n"
	"build 'hello' {\n"
	"  main = './cmd/hello', ldflags = { '-s', '-w' }, tags = 'netgo',\n"
	"  env = { 'GOPRIVATE', CGO_CFLAGS = '-O2' },\n"
	"  targets = matrix { goos = { 'linux' }, goarch = { 'amd64', 'arm' }, goarm = { '6', '7' },\n"
	"                     exclude = { { goarm = '6' } }, include = { { goos = 'windows', goarch = 'amd64' } } },\n"
	"}\n"
	"archive { format_overrides = { windows = 'zip' }, files = { 'LICENSE', { src = 'docs/*', dst = 'doc', mode = '0600' } } }\n"
	"checksums { algorithm = 'sha512' }\n"
	"before { 'go generate ./...' }\n";

static void test_release__converts_every_declaration(void **state)
{
	(void)state;
	struct release r;
	unsetenv("XGO_TEST_VERSION");
	assert_int_equal(load(good, NULL, &r), 0);
	assert_string_equal(r.project, "hello");
	assert_string_equal(r.version, "0.1.0");
	assert_string_equal(r.go_version, "1.26.8");
	assert_int_equal(r.go_line, 2);
	assert_int_equal(r.nbuilds, 1);
	const struct build_decl *b = release_build(&r, "hello");
	assert_non_null(b);
	assert_int_equal(b->line, 3);
	assert_string_equal(b->main, "./cmd/hello");
	assert_string_equal(b->binary, "hello");
	assert_int_equal(b->ldflags.n, 2);
	assert_string_equal(b->tags.v[0], "netgo");
	assert_string_equal(b->env_pass.v[0], "GOPRIVATE");
	assert_string_equal(b->env_set.v[0], "CGO_CFLAGS=-O2");
	assert_int_equal(b->targets.line, 6);
	assert_int_equal(b->targets.base.ndims, 3);
	assert_string_equal(b->targets.base.dims[0].key, "goarch"); /* sorted */
	assert_int_equal(b->targets.nexclude, 1);
	assert_int_equal(b->targets.ninclude, 1);
	assert_int_equal(r.narchives, 1);
	assert_string_equal(r.archives[0].format, "tar.gz");
	assert_string_equal(r.archives[0].overrides.v[0], "windows=zip");
	assert_int_equal(r.archives[0].nfiles, 2);
	assert_int_equal(r.archives[0].files[1].mode, 0600);
	assert_string_equal(r.archives[0].files[1].dst, "doc");
	assert_string_equal(r.checksums.file, "SHA512SUMS");
	assert_string_equal(r.before.v[0], "go generate ./...");
	assert_int_equal(r.nenv_reads, 1);
	assert_string_equal(r.env_reads[0].name, "XGO_TEST_VERSION");
	assert_true(r.env_reads[0].from_default);
	assert_int_equal(strlen(r.digest), 64);
	release_clear(&r);
}

static void test_release__env_reads_the_environment(void **state)
{
	(void)state;
	struct release r;
	setenv("XGO_TEST_VERSION", "2.0.0", 1);
	assert_int_equal(load(good, NULL, &r), 0);
	assert_string_equal(r.version, "2.0.0");
	assert_false(r.env_reads[0].from_default);
	assert_string_equal(r.env_reads[0].value, "2.0.0");
	release_clear(&r);
	unsetenv("XGO_TEST_VERSION");
}

static void test_release__env_false_drops_a_variable(void **state)
{
	(void)state;
	struct release r;
	assert_int_equal(load("project { name = 'x' }\ngo '1.26.8'\n"
			      "build 'x' { env = { SOURCE_DATE_EPOCH = false, A = 'b' }, "
			      "targets = matrix { goos = 'linux', goarch = 'amd64' } }", NULL, &r), 0);
	assert_int_equal(r.builds[0].env_unset.n, 1);
	assert_string_equal(r.builds[0].env_unset.v[0], "SOURCE_DATE_EPOCH");
	assert_string_equal(r.builds[0].env_set.v[0], "A=b");
	release_clear(&r);
	expect_error("project { name = 'x' }\ngo '1.26.8'\n"
		     "build 'x' { env = { SOURCE_DATE_EPOCH = true }, targets = matrix { goos = 'linux', goarch = 'amd64' } }",
		     ":3: build 'x': env: SOURCE_DATE_EPOCH = true means nothing");
}

static void test_release__errors_name_file_line_and_fix(void **state)
{
	(void)state;
	expect_error("project { name = 'x', verison = '1' }", ":1: project: unknown key 'verison' (did you mean 'version'?)");
	expect_error("project { name = 'x' }\ngo '1.26.8'\nbuild 'x' { targets = {} }",
		     ":3: build 'x': 'targets' must be a matrix");
	expect_error("project { name = 'x' }\ngo '1.26.8'\nbuild 'x' { tags = { 'a', k = 'b' }, targets = matrix { goos = 'linux', goarch = 'amd64' } }",
		     "without named keys");
	expect_error("project { name = 'a b' }", "may use only letters");
	expect_error("project { name = 'x' }\ngo '1.26.8'\nbuild 'x' { targets = matrix { goos = 'linux', goarch = 'amd64' } }\n"
		     "archive { builds = { 'y' } }", ":4: archive: no build named 'y'");
	expect_error("project { name = 'x' }\ngo '1.26.8'\nbuild 'x' { targets = matrix { goos = 'linux', goarch = 'amd64' } }\n"
		     "checksums { algorithm = 'md5' }", "unknown algorithm 'md5'");
	expect_error("project { name = 'x' }\ngo '1.26.8'\nbuild 'x' { targets = matrix { goos = 'linux', goarch = 'amd64' } }\n"
		     "archive { files = { { dst = 'x' } } }", "files entry 1 needs 'src'");
	expect_error("project { name = 'x' }\ngo '1.26.8'\nbuild 'x' { targets = matrix { goos = 'linux', goarch = 'amd64' } }\n"
		     "archive { files = { { src = 'x', mode = '999' } } }", "mode '999' must be octal");
	expect_error("project { name = 'x' }\ngo '1.26'\ngo '1.27'", ":3: go: declared twice (first at line 2)");
	expect_error("project { name = 'x' }\ngo '1.26.8'", "no build declaration");
	expect_error("go '1.26.8'", "no project declaration");
	expect_error("build(42)", ":1: build expects a name");
	expect_error("x = env(1)", "env expects a variable name");
}

static void test_release__memory_cap(void **state)
{
	(void)state;
	struct release_limits lim = { .max_bytes = 4u << 20 };
	struct release r;
	assert_int_equal(load("local t = {} for i = 1, 1e7 do t[i] = i end", &lim, &r), -1);
	assert_non_null(strstr(error_last(), "memory limit of 4 MiB exceeded"));
}

static void test_release__instruction_cap(void **state)
{
	(void)state;
	struct release_limits lim = { .max_instr = 100000 };
	struct release r;
	assert_int_equal(load("project { name = 'x' }\nlocal n = 0\nwhile true do n = n + 1 end", &lim, &r), -1);
	assert_non_null(strstr(error_last(), ":3: instruction limit of 100000 exceeded"));
	/* a normal file stays far below the default cap */
	assert_int_equal(load(good, NULL, &r), 0);
	release_clear(&r);
}

int main(void)
{
	quiet_errors = 1;
	int fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release__converts_every_declaration),
		cmocka_unit_test(test_release__env_reads_the_environment),
		cmocka_unit_test(test_release__env_false_drops_a_variable),
		cmocka_unit_test(test_release__errors_name_file_line_and_fix),
		cmocka_unit_test(test_release__memory_cap),
		cmocka_unit_test(test_release__instruction_cap),
	};
	int rc = cmocka_run_group_tests_name("release", tests, NULL, NULL);
	unlink(path);
	return rc;
}
