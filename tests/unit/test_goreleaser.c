/* Unit tests for orchestrator/goreleaser: templates and whole configs. */
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

#include "orchestrator/goreleaser.h"
#include "base/util.h"

static char *tr(const char *t, int as_text)
{
	char *lua = NULL, *why = NULL;
	int rc = gr_template(t, as_text, &lua, &why);
	if (rc) {
		free(lua);
		char *r = xasprintf("BAD %s", why);
		free(why);
		return r;
	}
	return lua;
}

static void check(const char *t, int as_text, const char *want)
{
	char *got = tr(t, as_text);
	assert_non_null(got);
	if (strncmp(want, "BAD", 3) ? strcmp(got, want) : strncmp(got, want, strlen(want)))
		fail_msg("'%s' -> '%s', want '%s'", t, got, want);
	free(got);
}

static void test_goreleaser__default_archive_name_is_ours(void **state)
{
	(void)state;
	check("{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}{{ with .Arm }}v{{ . }}{{ end }}"
	      "{{ with .Mips }}_{{ . }}{{ end }}{{ if not (eq .Amd64 \"v1\") }}{{ .Amd64 }}{{ end }}",
	      0, "\"{name}_{version}_{os}_{arch}{variant}\"");
	check("{{.Binary}}-{{.Os}}-{{.Arch}}{{ if .Arm }}v{{ .Arm }}{{ end }}", 0, "\"{binary}-{os}-{arch}{variant}\"");
}

static void test_goreleaser__trim_markers_and_literal_braces(void **state)
{
	(void)state;
	check("{{ .ProjectName }}_\n  {{- .Version }} \n {{- .Os -}} \n _x", 0, "\"{name}_{version}{os}_x\"");
	check("a{b}c", 0, "\"a{lbrace}b{rbrace}c\"");
	check("a{b}c", 1, "\"a{b}c\"");
	check("plain", 1, "\"plain\"");
	check("", 0, "\"\"");
}

static void test_goreleaser__env_and_text_mode(void **state)
{
	(void)state;
	check("-X main.x={{ .Env.FOO }}!", 0, "\"-X main.x=\" .. lit(env(\"FOO\", \"\")) .. \"!\"");
	check("{{ .ProjectName }}_{{ .Version }}_checksums.txt", 0, "\"{name}_{version}_checksums.txt\"");
	check("{{ .ProjectName }}-{{ .Env.X }}", 1, "name .. \"-\" .. env(\"X\", \"\")");
	check("{{ .Version }}.txt", 1, "BAD '{{ .Version }}' (it has no value here");
	check("{{ .Env.SUMS }}", 1, "env(\"SUMS\", \"\")");
	check("{{ .Os }}.txt", 1, "BAD '{{ .Os }}'");
}

static void test_goreleaser__git_facts_become_our_variables(void **state)
{
	(void)state;
	check("{{ .Tag }}-{{ .Commit }}-{{ .ShortCommit }}-{{ .FullCommit }}", 0,
	      "\"{tag}-{commit}-{short_commit}-{commit}\"");
	check("{{.CommitDate}} {{.CommitTimestamp}} {{.Major}}.{{.Minor}}.{{.Patch}}-{{.Prerelease}}", 0,
	      "\"{commit_date} {commit_timestamp} {major}.{minor}.{patch}-{prerelease}\"");
	check("{{ .Tag }}", 1, "BAD '{{ .Tag }}' (it has no value here");
}

static void test_goreleaser__untranslatable_names_the_expression(void **state)
{
	(void)state;
	check("{{ .Branch }}", 0, "BAD '{{ .Branch }}' (xgo-build has no such git variable");
	check("{{ .Date }}", 0, "BAD '{{ .Date }}' (the build time");
	check("{{ title .Os }}", 0, "BAD '{{ title .Os }}'");
	check("{{ .Arm }}", 0, "BAD '{{ .Arm }}'");
	check("{{ if .Arm }}x{{ .Arm }}{{ end }}", 0, "BAD '{{ if .Arm }}'");
	check("{{ .Version", 0, "BAD an unterminated");
}

static char *translate_text(const char *yaml, int *rc, struct gr_result *r)
{
	char path[] = "/tmp/test_goreleaser_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	struct gr_options o = { .project_dir = "/nonexistent", .project_name = "proj", .go_version = "1.26.8" };
	*rc = gr_translate(path, &o, r);
	unlink(path);
	return *rc == 0 ? r->lua.data : NULL;
}

static void test_goreleaser__goarm_defaults_to_6_and_mips_shows(void **state)
{
	(void)state;
	struct gr_result r;
	int rc;
	const char *lua = translate_text("builds:\n  - goos: [linux]\n    goarch: [arm, mips, amd64]\n"
					 "    goamd64: [v1]\n", &rc, &r);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(lua, "goarm = { \"6\" }"));
	assert_non_null(strstr(lua, "gomips = { \"hardfloat\" }"));
	assert_null(strstr(lua, "goamd64"));
	assert_non_null(strstr(lua, "build \"proj\""));
	assert_non_null(strstr(lua, "cgo = false"));
	gr_result_release(&r);
}

static void test_goreleaser__errors_name_file_and_line(void **state)
{
	(void)state;
	struct gr_result r;
	int rc;
	assert_null(translate_text("builds:\n  - goos: [linux\n", &rc, &r));
	assert_int_equal(rc, -1);
	assert_non_null(strstr(error_last(), "malformed YAML"));
	assert_null(translate_text("archives:\n  - files: {a: 1}\n", &rc, &r));
	assert_non_null(strstr(error_last(), ":2: files: expected a list"));
	assert_null(translate_text("- a\n", &rc, &r));
	assert_non_null(strstr(error_last(), "expected a map"));
}

int main(void)
{
	error_quiet(1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_goreleaser__default_archive_name_is_ours),
		cmocka_unit_test(test_goreleaser__trim_markers_and_literal_braces),
		cmocka_unit_test(test_goreleaser__env_and_text_mode),
		cmocka_unit_test(test_goreleaser__git_facts_become_our_variables),
		cmocka_unit_test(test_goreleaser__untranslatable_names_the_expression),
		cmocka_unit_test(test_goreleaser__goarm_defaults_to_6_and_mips_shows),
		cmocka_unit_test(test_goreleaser__errors_name_file_and_line),
	};
	return cmocka_run_group_tests_name("goreleaser", tests, NULL, NULL);
}
