/* Unit tests for orchestrator/template. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "orchestrator/template.h"
#include "base/util.h"

static const struct tmpl_var vars[] = {
	{ "name", "hello", NULL }, { "version", "1.2.0", NULL }, { "os", "linux", NULL },
	{ "arch", "arm", NULL }, { "variant", "v7", NULL }, { "ext", "", NULL },
	{ "tag", NULL, "'/tmp/x' is not a git checkout" },
};

static char *expand(const char *t)
{
	char *out = NULL;
	if (tmpl_expand(t, vars, ARRAY_LEN(vars), "test", &out) < 0)
		return NULL;
	return out;
}

static void test_template__expands_every_variable(void **state)
{
	(void)state;
	char *s = expand("{name}_{version}_{os}_{arch}{variant}{ext}");
	assert_string_equal(s, "hello_1.2.0_linux_armv7");
	free(s);
}

static void test_template__goreleaser_syntax_refused_with_hint(void **state)
{
	(void)state;
	assert_null(expand("{{.Version}}"));
	assert_non_null(strstr(error_last(), "GoReleaser template syntax: write {version}"));
	assert_null(expand("a{{b}}c"));
	assert_non_null(strstr(error_last(), "GoReleaser"));
	assert_null(expand("{name}}"));
	assert_non_null(strstr(error_last(), "unmatched"));
}

static void test_template__unavailable_variable_says_why(void **state)
{
	(void)state;
	assert_null(expand("x_{tag}"));
	assert_non_null(strstr(error_last(), "'{tag}'"));
	assert_non_null(strstr(error_last(), "not available: '/tmp/x' is not a git checkout"));
}

static void test_template__plain_text(void **state)
{
	(void)state;
	char *s = expand("a{lbrace}b{rbrace}c");
	assert_string_equal(s, "a{b}c");
	free(s);
	s = expand("");
	assert_string_equal(s, "");
	free(s);
	s = expand("no variables");
	assert_string_equal(s, "no variables");
	free(s);
}

static void test_template__unknown_variable_suggests(void **state)
{
	(void)state;
	assert_null(expand("{nmae}"));
	assert_non_null(strstr(error_last(), "did you mean '{name}'"));
	assert_null(expand("{zzzzzz}"));
	assert_non_null(strstr(error_last(), "known: {name}"));
}

static void test_template__malformed(void **state)
{
	(void)state;
	assert_null(expand("{name"));
	assert_non_null(strstr(error_last(), "unterminated"));
	assert_null(expand("name}"));
	assert_non_null(strstr(error_last(), "unmatched"));
	assert_null(expand("{}"));
}

static void test_template__bounded_output(void **state)
{
	(void)state;
	char big[TMPL_MAX + 2];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_null(expand(big));
	assert_non_null(strstr(error_last(), "more than"));
}

int main(void)
{
	error_quiet(1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template__expands_every_variable),
		cmocka_unit_test(test_template__goreleaser_syntax_refused_with_hint),
		cmocka_unit_test(test_template__unavailable_variable_says_why),
		cmocka_unit_test(test_template__plain_text),
		cmocka_unit_test(test_template__unknown_variable_suggests),
		cmocka_unit_test(test_template__malformed),
		cmocka_unit_test(test_template__bounded_output),
	};
	return cmocka_run_group_tests_name("template", tests, NULL, NULL);
}
