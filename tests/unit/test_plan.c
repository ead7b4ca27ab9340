/* Unit tests for orchestrator/plan: one job per (build, target) in the
 * release's order, named and placed by the output template, the refusals
 * of outputs that clash or leave dist/, and the parts run --target and
 * --build select. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "orchestrator/archives.h"
#include "base/path.h"
#include "orchestrator/plan.h"
#include "base/util.h"
#include "tests/unit/unit.h"

#define HEAD "project { name = 'hello', version = '1.2.3' }\ngo '1.26.8'\n"

static const char two_builds[] = HEAD
	"build 'app' {\n"
	"  targets = matrix { goos = { 'linux', 'windows', 'darwin' }, goarch = { 'amd64', '386' },\n"
	"                     include = { { goos = 'linux', goarch = 'arm', goarm = { '6', '7' } } } },\n"
	"}\n"
	"build 'tool' {\n"
	"  binary = 'xt', output = 'tools/{os}-{arch}{variant}/{binary}{ext}',\n"
	"  targets = matrix { goos = { 'linux' }, goarch = { 'arm64' }, cgo = true },\n"
	"}\n";

/* "build id output binary" of every job, one per line. */
static char *listing(const struct plan *p)
{
	struct buf b;
	buf_init(&b, 1 << 16);
	for (size_t i = 0; i < p->n; i++)
		assert_int_equal(buf_printf(&b, "%s %s %s %s\n", p->jobs[i].build->name, p->jobs[i].id,
					    p->jobs[i].output, p->jobs[i].binary),
				 0);
	char *s = xstrdup(b.len ? b.data : "");
	buf_release(&b);
	return s;
}

static void test_plan__jobs_in_release_order_with_names_and_outputs(void **state)
{
	(void)state;
	struct release r;
	struct plan p;
	assert_int_equal(unit_plan(two_builds, &r, &p), 0);
	char *got = listing(&p);
	assert_string_equal(got, "app linux/amd64 app_linux_amd64/app app\n"
				 "app linux/386 app_linux_386/app app\n"
				 "app windows/amd64 app_windows_amd64/app.exe app.exe\n"
				 "app windows/386 app_windows_386/app.exe app.exe\n"
				 "app darwin/amd64 app_darwin_amd64/app app\n"
				 "app linux/arm/6 app_linux_armv6/app app\n"
				 "app linux/arm/7 app_linux_armv7/app app\n"
				 "tool linux/arm64+cgo tools/linux-arm64/xt xt\n");
	free(got);
	/* darwin/386 is no port: skipped and said */
	assert_int_equal(p.skipped.n, 1);
	assert_string_equal(p.skipped.v[0], "app: darwin/386");
	assert_int_equal(p.jobs[0].target.cgo, 0);
	assert_int_equal(p.jobs[7].target.cgo, 1);
	assert_string_equal(p.jobs[6].target.vkey, "GOARM");
	assert_string_equal(p.jobs[6].target.vval, "7");
	assert_ptr_equal(p.jobs[7].build, &r.builds[1]);
	plan_release(&p);
	release_clear(&r);
}

static void test_plan__two_jobs_writing_one_path_are_refused(void **state)
{
	(void)state;
	struct release r;
	struct plan p;
	/* without {variant} or another name for cgo, a cgo and a plain job share a path */
	assert_int_equal(
		unit_plan(HEAD
			  "build 'tool' { output = 'tools/{os}-{arch}/{binary}',\n"
			  "  targets = matrix { goos = { 'linux' }, goarch = { 'arm64' }, cgo = { false, true } } }\n",
			  &r, &p),
		-1);
	assert_non_null(strstr(error_last(), "build 'tool' linux/arm64 and build 'tool' linux/arm64+cgo both write "
					     "'tools/linux-arm64/tool'"));
	assert_int_equal(p.n, 0);
	assert_null(p.jobs);
	release_clear(&r);
}

static void test_plan__outputs_stay_inside_dist(void **state)
{
	(void)state;
	struct release r;
	struct plan p;
	assert_int_equal(unit_plan(HEAD "build 'a' { output = '../{binary}',\n"
					"  targets = matrix { goos = { 'linux' }, goarch = { 'amd64' } } }\n",
				   &r, &p),
			 -1);
	assert_non_null(strstr(error_last(), "gives '../a', which is not a relative path inside dist/"));
	release_clear(&r);
	static const char *const bad[] = { "", "/abs", "a/../b", "..", "./a", "a//b", "a/", "a/." };
	static const char *const good[] = { "a", "a/b", "a..b/.c", "linux_amd64/app.exe" };
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		if (path_components_ok(bad[i]))
			fail_msg("'%s' taken", bad[i]);
	for (size_t i = 0; i < ARRAY_LEN(good); i++)
		if (!path_components_ok(good[i]))
			fail_msg("'%s' refused", good[i]);
}

static void test_plan__select_keeps_the_asked_part_in_order(void **state)
{
	(void)state;
	struct release r;
	struct plan p;
	json_t *rec;
	assert_int_equal(unit_plan(two_builds, &r, &p), 0);
	struct plan_select sel = { .targets = { "linux/*" }, .ntargets = 1 };
	assert_int_equal(plan_select(&sel, &p, &rec), 0);
	char *got = listing(&p);
	/* '*' matches '/' and the "+cgo" suffix may be left out */
	assert_string_equal(got, "app linux/amd64 app_linux_amd64/app app\n"
				 "app linux/386 app_linux_386/app app\n"
				 "app linux/arm/6 app_linux_armv6/app app\n"
				 "app linux/arm/7 app_linux_armv7/app app\n"
				 "tool linux/arm64+cgo tools/linux-arm64/xt xt\n");
	free(got);
	char *text = json_dumps(rec, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(text, "{\"builds\":[],\"jobs\":5,\"planned\":8,\"targets\":[\"linux/*\"]}");
	free(text);
	json_decref(rec);
	struct plan_select two = { .targets = { "linux/arm64" }, .ntargets = 1, .builds = { "tool" }, .nbuilds = 1 };
	assert_int_equal(plan_select(&two, &p, &rec), 0);
	assert_int_equal(p.n, 1); /* linux/arm64 takes linux/arm64+cgo */
	assert_string_equal(p.jobs[0].id, "linux/arm64+cgo");
	json_decref(rec);
	plan_release(&p);
	release_clear(&r);
}

static void test_plan__select_names_what_selects_nothing(void **state)
{
	(void)state;
	struct release r;
	struct plan p;
	json_t *rec;
	assert_int_equal(unit_plan(two_builds, &r, &p), 0);
	struct plan_select none = { 0 };
	assert_int_equal(plan_select(&none, &p, &rec), 0);
	assert_null(rec);
	assert_int_equal(p.n, 8);
	struct plan_select nob = { .builds = { "nope" }, .nbuilds = 1 };
	assert_int_equal(plan_select(&nob, &p, &rec), -1);
	assert_string_equal(error_last(), "--build 'nope': release.lua declares no such build (see 'xgo-build plan')");
	struct plan_select not = { .targets = { "plan9/*" }, .ntargets = 1, .builds = { "app" }, .nbuilds = 1 };
	assert_int_equal(plan_select(&not, &p, &rec), -1);
	assert_non_null(strstr(error_last(), "--target 'plan9/*' matches no target of the builds asked for"));
	assert_int_equal(p.n, 8); /* nothing dropped after an error */
	plan_release(&p);
	release_clear(&r);
}

static void test_plan__vars_of_a_job(void **state)
{
	(void)state;
	struct release r;
	struct plan p;
	assert_int_equal(unit_plan(two_builds, &r, &p), 0);
	struct tmpl_var vars[PLAN_VARS];
	char scratch[PLAN_SCRATCH];
	plan_vars(&r, &p.jobs[6], vars, scratch); /* app linux/arm/7 */
	static const char *const want[][2] = {
		{ "name", "hello" }, { "version", "1.2.3" }, { "build", "app" },
		{ "binary", "app" }, { "os", "linux" },	     { "arch", "arm" },
		{ "variant", "v7" }, { "ext", "" },	     { "target", "linux_armv7" }
	};
	for (size_t k = 0; k < ARRAY_LEN(want); k++) {
		size_t i = 0;
		while (i < PLAN_VARS && strcmp(vars[i].name, want[k][0]))
			i++;
		assert_true(i < PLAN_VARS);
		if (!vars[i].value || strcmp(vars[i].value, want[k][1]))
			fail_msg("{%s} is '%s', not '%s'", want[k][0], vars[i].value ? vars[i].value : "(null)",
				 want[k][1]);
	}
	plan_vars(&r, &p.jobs[2], vars, scratch); /* app windows/amd64 */
	for (size_t i = 0; i < PLAN_VARS; i++)
		if (!strcmp(vars[i].name, "ext"))
			assert_string_equal(vars[i].value, ".exe");
	plan_release(&p);
	release_clear(&r);
}

static void test_plan__published_names_may_not_clash(void **state)
{
	(void)state;
	struct release r;
	struct plan p;
	struct arcplan ap = { 0 };
	assert_int_equal(unit_plan(HEAD "build 'a' { output = 'manifest.json',\n"
					"  targets = matrix { goos = { 'linux' }, goarch = { 'amd64' } } }\n",
				   &r, &p),
			 0);
	assert_int_equal(plan_check_published(&r, &p, &ap, NULL), -1);
	assert_non_null(strstr(error_last(), "manifest.json"));
	plan_release(&p);
	release_clear(&r);
	/* a file beside a directory of the same name */
	assert_int_equal(
		unit_plan(
			HEAD
			"build 'a' { output = 'x', targets = matrix { goos = { 'linux' }, goarch = { 'amd64' } } }\n"
			"build 'b' { output = 'x/y', targets = matrix { goos = { 'linux' }, goarch = { 'amd64' } } }\n",
			&r, &p),
		0);
	assert_int_equal(plan_check_published(&r, &p, &ap, NULL), -1);
	assert_non_null(strstr(error_last(), "'x'"));
	plan_release(&p);
	release_clear(&r);
}

int main(void)
{
	unit_group = "plan";
	const struct CMUnitTest tests[] = {
		UNIT_TEST(test_plan__jobs_in_release_order_with_names_and_outputs),
		UNIT_TEST(test_plan__two_jobs_writing_one_path_are_refused),
		UNIT_TEST(test_plan__outputs_stay_inside_dist),
		UNIT_TEST(test_plan__select_keeps_the_asked_part_in_order),
		UNIT_TEST(test_plan__select_names_what_selects_nothing),
		UNIT_TEST(test_plan__vars_of_a_job),
		UNIT_TEST(test_plan__published_names_may_not_clash),
	};
	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
