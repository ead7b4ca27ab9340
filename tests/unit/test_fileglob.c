/* Unit tests for orchestrator/fileglob: glob(3)'s rules per component, `**`
 * for any number of directories, sorted unique matches, and the bounds. */
#define _POSIX_C_SOURCE 200809L
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

#include "orchestrator/fileglob.h"
#include "base/util.h"
#include "tests/unit/unit.h"

static void touch(const char *rel)
{
	char *path = xasprintf("%s/%s", unit_dir, rel);
	for (char *s = strchr(path + strlen(unit_dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	free(path);
}

static int setup(void **state)
{
	if (unit_setup(state) < 0)
		return -1;
	touch("LICENSE");
	touch(".hidden");
	touch("completion/bash/x.bash");
	touch("completion/zsh/_x");
	touch("completion/top");
	touch("completion/.git/config");
	touch("docs/a.md");
	touch("docs/x/y/b.md");
	touch("docs/x/c.txt");
	char *link = xasprintf("%s/completion/linked", unit_dir);
	assert_int_equal(symlink("bash", link), 0);
	free(link);
	return 0;
}

/* The matches of pattern joined with spaces. */
static char *matches(const char *pattern)
{
	struct strv m = { 0 };
	struct buf b;
	assert_int_equal(fg_match(unit_dir, pattern, &m), 0);
	buf_init(&b, 1 << 16);
	for (size_t i = 0; i < m.n; i++)
		buf_printf(&b, "%s%s", i ? " " : "", m.v[i]);
	strv_release(&m);
	return buf_detach(&b);
}

static void expect(const char *pattern, const char *want)
{
	char *got = matches(pattern);
	assert_string_equal(got, want);
	free(got);
}

static void test_fileglob__components_like_glob(void **state)
{
	(void)state;
	expect("LICENSE", "LICENSE");
	expect("LIC*", "LICENSE");
	expect("*", "LICENSE completion docs"); /* no leading dot; directories too, without ** */
	expect(".h*", ".hidden");
	expect("docs/*.md", "docs/a.md");
	expect("nothing*", "");
	expect("missing/file", "");
}

static void test_fileglob__double_star_is_any_depth(void **state)
{
	(void)state;
	expect("docs/**/*.md", "docs/a.md docs/x/y/b.md");
	expect("**/*.md", "docs/a.md docs/x/y/b.md");
	/* files only, no dot-directories, no symlinked directory walked */
	expect("completion/**/*", "completion/bash/x.bash completion/top completion/zsh/_x");
	expect("completion/**", "completion/bash/x.bash completion/top completion/zsh/_x");
	/* each match once, however many ways ** reaches it */
	expect("docs/**/**/b.md", "docs/x/y/b.md");
	assert_int_equal(fg_is_recursive("a/**/b"), 1);
	assert_int_equal(fg_is_recursive("**"), 1);
	assert_int_equal(fg_is_recursive("a**/b"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fileglob__components_like_glob),
		cmocka_unit_test(test_fileglob__double_star_is_any_depth),
	};
	return cmocka_run_group_tests(tests, setup, unit_teardown);
}
