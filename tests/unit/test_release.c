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

#define HEAD "project { name = 'x' }\ngo '1.26.8'\n"
#define TARGETS "targets = matrix { goos = 'linux', goarch = 'amd64' }"

/* Conversion reads raw: a metatable's code never runs after the file, and
 * a declaration carrying one is refused (its fields would be lost). */
static void test_release__metatables_never_run(void **state)
{
	(void)state;
	expect_error(HEAD "build 'x' (setmetatable({ " TARGETS " }, { __index = function() while true do end end }))",
		     ":3: build 'x': the declaration is a table with a metatable");
	expect_error(HEAD "build 'x' { " TARGETS ", flags = setmetatable({}, { __len = function() return 1e9 end }) }",
		     "'flags' is a table with a metatable");
	expect_error(HEAD "build 'x' { targets = matrix(setmetatable({ goos = 'linux', goarch = 'amd64' }, "
		     "{ __pairs = function() while true do end end })) }", "'matrix' is a table with a metatable");
	/* a metatable the file uses for itself is fine */
	struct release r;
	assert_int_equal(load(HEAD "local d = setmetatable({}, { __index = function() return 'linux' end })\n"
			      "build 'x' { targets = matrix { goos = d.any, goarch = 'amd64' } }", NULL, &r), 0);
	release_clear(&r);
}

static void test_release__errors_name_a_line_whatever_the_value(void **state)
{
	(void)state;
	expect_error(HEAD "error(42)", ":3: error(42): the error value is a number");
	expect_error(HEAD "\nerror(nil)", ":4: the error value is nil, not a string");
	expect_error(HEAD "error(setmetatable({}, { __tostring = function() return 'x' end }))",
		     ":3: the error value is a table, not a string");
	expect_error(HEAD "error('bare', 0)", ":3: bare");
	expect_error(HEAD "\n\nlocal t = {{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{"
		     "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{"
		     "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{",
		     ":5: C stack overflow");
}

static void test_release__text_is_utf8(void **state)
{
	(void)state;
	assert_true(utf8_valid("plain"));
	assert_true(utf8_valid("caf\xc3\xa9 \xf0\x9f\x98\x80"));
	assert_false(utf8_valid("\xff"));
	assert_false(utf8_valid("\xc3"));          /* truncated */
	assert_false(utf8_valid("\xc0\xaf"));      /* overlong '/' */
	assert_false(utf8_valid("\xed\xa0\x80"));  /* a surrogate */
	assert_false(utf8_valid("\xf4\x90\x80\x80")); /* past U+10FFFF */
	expect_error(HEAD "build 'x' { " TARGETS ", output = 'a\\xffb' }", "'output' is not valid UTF-8: \"a\\xffb\"");
	setenv("XGO_TEST_BAD", "\xfe", 1);
	expect_error("project { name = 'x', version = env('XGO_TEST_BAD') }", ":1: env: the value of XGO_TEST_BAD is not valid UTF-8");
	unsetenv("XGO_TEST_BAD");
	expect_error("local v = env('A=B')", ":1: env: 'A=B' is not a variable name");
}

static void test_release__env_keys_are_names(void **state)
{
	(void)state;
	expect_error(HEAD "build 'x' { " TARGETS ", env = { [''] = 'v' } }", "env: '' is not a variable name");
	expect_error(HEAD "build 'x' { " TARGETS ", env = { ['A=B'] = 'v' } }", "env: 'A=B' is not a variable name");
	expect_error(HEAD "build 'x' { " TARGETS ", env = { ['A\\nB'] = 'v' } }", "env: 'A\\x0aB' is not a variable name");
	expect_error(HEAD "build 'x' { " TARGETS ", env = { 'A=B' } }", "env: 'A=B' is not a variable name");
	expect_error(HEAD "build 'x' { " TARGETS ", env = { [true] = 'v' } }", "env: keys are variable names");
}

static void test_release__published_names_and_modes(void **state)
{
	(void)state;
	expect_error(HEAD "build 'x' { " TARGETS " }\narchive { files = { { src = 'L', mode = '4755' } } }",
		     ":4: archive: mode '4755' sets setuid, setgid or sticky bits");
	expect_error(HEAD "build 'x' { " TARGETS " }\narchive { files = { { src = 'L', mode = '1777' } } }",
		     "sets setuid, setgid or sticky bits");
	expect_error(HEAD "build 'x' { " TARGETS " }\narchive { files = { { src = 'L', dst = 'a/../b' } } }",
		     ":4: archive: dst 'a/../b' has an empty, '.' or '..' component");
	expect_error(HEAD "build 'x' { " TARGETS ", binary = 'a\\\\b' }", "binary 'a\\b' has a backslash");
	expect_error(HEAD "build 'x' { " TARGETS " }\nchecksums { file = 'S\\tS' }", ":4: checksums: file has a control character");
	struct release r;
	assert_int_equal(load(HEAD "build 'x' { " TARGETS " }\narchive { files = { { src = 'L', dst = 'doc/', mode = '0755' } } }",
			      NULL, &r), 0);
	assert_int_equal(r.archives[0].files[0].mode, 0755);
	release_clear(&r);
}

int main(void)
{
	error_quiet(1);
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
		cmocka_unit_test(test_release__metatables_never_run),
		cmocka_unit_test(test_release__errors_name_a_line_whatever_the_value),
		cmocka_unit_test(test_release__text_is_utf8),
		cmocka_unit_test(test_release__env_keys_are_names),
		cmocka_unit_test(test_release__published_names_and_modes),
	};
	int rc = cmocka_run_group_tests_name("release", tests, NULL, NULL);
	unlink(path);
	return rc;
}
