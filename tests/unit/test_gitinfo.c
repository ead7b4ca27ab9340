/* Unit tests for orchestrator/gitinfo: the default version's forms, and
 * the facts of a directory that is no checkout. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "orchestrator/gitinfo.h"
#include "base/util.h"

static void facts(struct gitinfo *g, const char *tag, int at_head, int dirty)
{
	memset(g, 0, sizeof(*g));
	g->ok = 1;
	snprintf(g->short_commit, sizeof(g->short_commit), "0a1b2c3");
	snprintf(g->tag, sizeof(g->tag), "%s", tag);
	g->tag_at_head = at_head;
	g->dirty = dirty;
	gitinfo_version(g);
}

static void test_gitinfo__version_is_the_tag_without_v_on_a_clean_tagged_head(void **state)
{
	(void)state;
	struct gitinfo g;
	facts(&g, "v1.2.3", 1, 0);
	assert_string_equal(g.version, "1.2.3");
	facts(&g, "release-7", 1, 0);
	assert_string_equal(g.version, "release-7");
}

static void test_gitinfo__snapshot_when_untagged_or_dirty(void **state)
{
	(void)state;
	struct gitinfo g;
	facts(&g, "v1.2.3", 1, 1);
	assert_string_equal(g.version, "1.2.3-SNAPSHOT-0a1b2c3");
	facts(&g, "v1.2.3", 0, 0);
	assert_string_equal(g.version, "1.2.3-SNAPSHOT-0a1b2c3");
	facts(&g, "", 0, 0);
	assert_string_equal(g.version, "0.0.0-SNAPSHOT-0a1b2c3");
}

static void test_gitinfo__no_checkout_says_why(void **state)
{
	(void)state;
	struct gitinfo g;
	gitinfo_read("/", &g);
	assert_int_equal(g.ok, 0);
	assert_non_null(strstr(g.why, "'/'"));
	assert_string_equal(g.version, "0.0.0");
}

int main(void)
{
	error_quiet(1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gitinfo__version_is_the_tag_without_v_on_a_clean_tagged_head),
		cmocka_unit_test(test_gitinfo__snapshot_when_untagged_or_dirty),
		cmocka_unit_test(test_gitinfo__no_checkout_says_why),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
