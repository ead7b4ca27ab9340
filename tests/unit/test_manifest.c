/* test_manifest.c - orchestrator/manifest: host paths become placeholders
 * only where they stand as whole paths, longest first, in every string. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "orchestrator/manifest.h"
#include "orchestrator/util.h"

static const struct manifest_place places[] = {
	{ "/home/u/.cache/xgo-build", "/<cache>" },
	{ "/home/u/.cache/xgo-build/sdk/go", "/<sdk>" },
	{ "/home/u", "/<home>" },
	{ "/", "/<root>" },  /* too short: skipped */
	{ NULL, "/<none>" }, /* not known: skipped */
};

static const char *placed(const char *in)
{
	static char out[512];
	json_t *v = json_pack("{s:[s]}", "k", in);
	assert_int_equal(manifest_place_json(v, places, ARRAY_LEN(places)), 0);
	snprintf(out, sizeof(out), "%s", json_string_value(json_array_get(json_object_get(v, "k"), 0)));
	json_decref(v);
	return out;
}

static void test_manifest__place_whole_paths_longest_first(void **state)
{
	(void)state;
	assert_string_equal(placed("GOROOT=/home/u/.cache/xgo-build/sdk/go"), "GOROOT=/<sdk>");
	assert_string_equal(placed("PATH=/home/u/.cache/xgo-build/sdk/go/bin:/usr/bin"), "PATH=/<sdk>/bin:/usr/bin");
	assert_string_equal(placed("/home/u/.cache/xgo-build/gomodcache"), "/<cache>/gomodcache");
	assert_string_equal(placed("-o /home/u/p/dist"), "-o /<home>/p/dist");
}

static void test_manifest__place_leaves_other_paths(void **state)
{
	(void)state;
	assert_string_equal(placed("/home/user/x"), "/home/user/x");       /* a longer name */
	assert_string_equal(placed("/srv/home/u/x"), "/srv/home/u/x");     /* not at a path's start */
	assert_string_equal(placed("/home/u.bak"), "/home/u.bak");
	assert_string_equal(placed("no paths"), "no paths");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest__place_whole_paths_longest_first),
		cmocka_unit_test(test_manifest__place_leaves_other_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
