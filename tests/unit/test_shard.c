/* test_shard.c - orchestrator/shard: K/N parsing, whole targets per shard,
 * greedy longest-first balancing with plan-order ties, the overlap choice
 * and filtering a plan down to one shard. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "orchestrator/shard.h"
#include "base/util.h"

static struct build_decl builds[2] = { { .name = "cli" }, { .name = "daemon" } };

/* A plan of the given "goos/goarch" targets, for nbuilds builds each
 * (jobs of one target adjacent, as plan_make orders them per build). */
static void make_plan(struct plan *p, const char *const *targets, size_t n, size_t nbuilds)
{
	memset(p, 0, sizeof(*p));
	p->jobs = xcalloc(n * nbuilds, sizeof(*p->jobs));
	for (size_t b = 0; b < nbuilds; b++)
		for (size_t i = 0; i < n; i++) {
			struct job *j = &p->jobs[p->n++];
			const char *slash = strchr(targets[i], '/');
			j->build = &builds[b];
			snprintf(j->target.goos, sizeof(j->target.goos), "%.*s", (int)(slash - targets[i]), targets[i]);
			snprintf(j->target.goarch, sizeof(j->target.goarch), "%s", slash + 1);
			snprintf(j->id, sizeof(j->id), "%s", targets[i]);
			j->output = xasprintf("%s_%s/%s", j->target.goos, j->target.goarch, builds[b].name);
			j->binary = xstrdup(builds[b].name);
		}
}

static const char *const five[] = { "linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64",
				     "windows/amd64" };

static void test_shard__parse(void **state)
{
	static const char *const bad[] = { "", "3", "0/3", "4/3", "1/0", "a/3", "1/3x", "-1/3", "1/1001", " 1/3" };
	struct shard_spec s = { 0 };
	assert_int_equal(shard_parse("2/3", &s), 0);
	assert_int_equal(s.k, 2);
	assert_int_equal(s.n, 3);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		assert_int_equal(shard_parse(bad[i], &s), -1);
		assert_non_null(strstr(error_last(), "--shard wants K/N"));
	}
}

static void test_shard__equal_weights_round_robin_in_plan_order(void **state)
{
	struct plan p;
	struct shard_split s;
	struct shard_spec spec = { .n = 2 };
	make_plan(&p, five, 5, 1);
	assert_int_equal(shard_split(&p, &spec, &s), 0);
	assert_int_equal(s.n, 5);
	int want[] = { 1, 2, 1, 2, 1 };
	for (size_t g = 0; g < s.n; g++)
		assert_int_equal(s.v[g].owner, want[g]);
	assert_int_equal(s.overlap, -1);
	shard_split_release(&s);
	plan_release(&p);
}

static void test_shard__all_builds_of_a_target_stay_together(void **state)
{
	struct plan p;
	struct shard_split s;
	struct shard_spec spec = { .n = 3 };
	make_plan(&p, five, 5, 2);
	assert_int_equal(shard_split(&p, &spec, &s), 0);
	assert_int_equal(s.n, 5);
	for (size_t g = 0; g < s.n; g++) {
		assert_int_equal(s.v[g].njobs, 2);
		assert_string_equal(p.jobs[s.v[g].jobs[0]].id, p.jobs[s.v[g].jobs[1]].id);
		assert_true(s.v[g].weight == 2.0);
	}
	shard_split_release(&s);
	plan_release(&p);
}

static void test_shard__timings_weigh_targets_longest_first(void **state)
{
	char path[] = "/tmp/test_shard.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	/* the shape manifest_load requires: schema, tool, sdk, jobs, archives */
#define JOB(t, o, d) "{\"build\": \"cli\", \"target\": \"" t "\", \"output\": \"" o "\", \"duration_s\": " d
	static const char doc[] = "{\"schema\": 1, \"tool\": {\"version\": \"1\"}, "
				  "\"sdk\": {\"version\": \"1.26.8\", \"platform\": \"linux-amd64\"}, \"jobs\": ["
				  JOB("darwin/amd64", "a", "9.0") "}," JOB("linux/amd64", "b", "2.0") "},"
				  JOB("linux/arm64", "c", "4.0") "}," JOB("darwin/arm64", "d", "0.0") ", \"cached\": true}"
				  "], \"archives\": []}";
#undef JOB
	assert_int_equal(write(fd, doc, sizeof(doc) - 1), (ssize_t)(sizeof(doc) - 1));
	close(fd);
	struct plan p;
	struct shard_split s;
	struct shard_spec spec = { .n = 2, .timings = path, .overlap = 1 };
	make_plan(&p, five, 5, 1);
	assert_int_equal(shard_split(&p, &spec, &s), 0);
	unlink(path);
	assert_true(s.timed);
	assert_int_equal(strlen(s.timings_sha256), 64);
	/* Weights 2, 4, 9, 5, 5 (the unlisted and the cached one weigh the
	 * mean of 2, 4 and 9); longest first: 9 -> 1, 5 -> 2, 5 -> 2 (5 < 9), 4 -> 1
	 * (9 < 10), 2 -> 2 (10 < 13). */
	assert_true(s.v[3].weight == 5.0 && s.v[4].weight == 5.0);
	int want[] = { 2, 1, 1, 2, 2 };
	for (size_t g = 0; g < s.n; g++)
		assert_int_equal(s.v[g].owner, want[g]);
	/* The overlap is the lightest target, linux/amd64, also on shard 1. */
	assert_int_equal(s.overlap, 0);
	assert_int_equal(s.v[0].extra, 1);
	assert_true(s.load[0] == 15.0 && s.load[1] == 12.0);
	shard_split_release(&s);
	plan_release(&p);
}

static void test_shard__more_shards_than_targets_is_refused(void **state)
{
	struct plan p;
	struct shard_split s;
	struct shard_spec spec = { .n = 6 };
	make_plan(&p, five, 5, 1);
	assert_int_equal(shard_split(&p, &spec, &s), -1);
	assert_string_equal(error_last(), "6 shards for 5 targets: every shard needs a target; use at most 5");
	spec.n = 1;
	spec.overlap = 1;
	assert_int_equal(shard_split(&p, &spec, &s), -1);
	assert_non_null(strstr(error_last(), "at least 2 shards"));
	plan_release(&p);
}

static void test_shard__apply_keeps_the_shards_jobs_and_records_the_plan(void **state)
{
	struct plan p;
	json_t *rec = NULL;
	struct shard_spec spec = { .k = 2, .n = 2 };
	make_plan(&p, five, 5, 2);
	assert_int_equal(shard_apply(&spec, &p, &rec), 0);
	assert_int_equal(p.n, 4); /* linux/arm64 and darwin/arm64, both builds */
	assert_string_equal(p.jobs[0].id, "linux/arm64");
	assert_string_equal(p.jobs[0].build->name, "cli");
	assert_string_equal(p.jobs[3].id, "darwin/arm64");
	assert_string_equal(p.jobs[3].build->name, "daemon");
	assert_int_equal(json_integer_value(json_object_get(rec, "index")), 2);
	assert_int_equal(json_array_size(json_object_get(rec, "plan")), 10);
	assert_int_equal(json_array_size(json_object_get(rec, "targets")), 2);
	assert_true(json_is_null(json_object_get(rec, "overlap")));
	json_decref(rec);
	plan_release(&p);
}

int main(void)
{
	error_quiet(1);
	verbosity = -1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shard__parse),
		cmocka_unit_test(test_shard__equal_weights_round_robin_in_plan_order),
		cmocka_unit_test(test_shard__all_builds_of_a_target_stay_together),
		cmocka_unit_test(test_shard__timings_weigh_targets_longest_first),
		cmocka_unit_test(test_shard__more_shards_than_targets_is_refused),
		cmocka_unit_test(test_shard__apply_keeps_the_shards_jobs_and_records_the_plan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
