/* test_cpu.c - cgroup quota parsing, the affinity/quota math and the
 * CPU budget, with sample cgroup trees in a temporary directory. */
#define _GNU_SOURCE
#include "orchestrator/cpu.h"
#include "base/util.h"
#include "tests/unit/unit.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/* Write unit_dir/rel (creating directories) with text. */
static void put(const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", unit_dir, rel);
	char *dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(mkdir_p(dir, 0755), 0);
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
	free(dir);
	free(path);
}

/* cpu_available_from with unit_dir/self as /proc/self/cgroup, unit_dir/fs as mount. */
static int available(int affinity)
{
	char *self = xasprintf("%s/self", unit_dir);
	char *fs = xasprintf("%s/fs", unit_dir);
	int n = cpu_available_from(affinity, self, fs);
	free(self);
	free(fs);
	return n;
}

static void test_cpu__parse_max(void **state)
{
	double c = 0;
	assert_int_equal(cpu_parse_max("max 100000\n", &c), 0);
	assert_int_equal(cpu_parse_max("150000 100000\n", &c), 1);
	assert_true(c > 1.49 && c < 1.51);
	assert_int_equal(cpu_parse_max("50000 100000", &c), 1);
	assert_true(c > 0.49 && c < 0.51);
	assert_int_equal(cpu_parse_max("max\n", &c), -1);
	assert_int_equal(cpu_parse_max("", &c), -1);
	assert_int_equal(cpu_parse_max("abc 100000\n", &c), -1);
	assert_int_equal(cpu_parse_max("100000 0\n", &c), -1);
	assert_int_equal(cpu_parse_max("0 100000\n", &c), -1);
}

static void test_cpu__parse_cfs(void **state)
{
	double c = 0;
	assert_int_equal(cpu_parse_cfs("-1\n", "100000\n", &c), 0);
	assert_int_equal(cpu_parse_cfs("200000\n", "100000\n", &c), 1);
	assert_true(c > 1.99 && c < 2.01);
	assert_int_equal(cpu_parse_cfs("x", "100000", &c), -1);
	assert_int_equal(cpu_parse_cfs("100", "-5", &c), -1);
}

static void test_cpu__v2_quota_caps_affinity_and_rounds_up(void **state)
{
	put("self", "0::/user.slice/job\n");
	put("fs/user.slice/job/cpu.max", "150000 100000\n");
	assert_int_equal(available(8), 2);
	assert_int_equal(available(1), 1); /* affinity is smaller */
}

static void test_cpu__v2_ancestor_quota_counts(void **state)
{
	put("self", "0::/a/b\n");
	put("fs/a/b/cpu.max", "max 100000\n");
	put("fs/a/cpu.max", "300000 100000\n");
	assert_int_equal(available(16), 3);
}

static void test_cpu__no_quota_means_affinity(void **state)
{
	put("self", "0::/a\n");
	put("fs/a/cpu.max", "max 100000\n");
	assert_int_equal(available(6), 6);
	assert_int_equal(available(0), 1); /* never less than one */
}

static void test_cpu__v1_cfs_quota(void **state)
{
	put("self", "12:pids:/x\n4:cpu,cpuacct:/docker/x\n0::/\n");
	put("fs/cpu/docker/x/cpu.cfs_quota_us", "50000\n");
	put("fs/cpu/docker/x/cpu.cfs_period_us", "100000\n");
	assert_int_equal(available(4), 1);
}

static void test_cpu__v1_mounted_under_the_controller_list(void **state)
{
	put("self", "4:cpuacct,cpu:/k\n");
	put("fs/cpuacct,cpu/k/cpu.cfs_quota_us", "200000\n");
	put("fs/cpuacct,cpu/k/cpu.cfs_period_us", "100000\n");
	assert_int_equal(available(4), 2);
}

/* In a container the cgroup path often does not exist under the mount,
 * whose unit_dir is the container's own cgroup. */
static void test_cpu__container_path_missing_uses_mount_root(void **state)
{
	put("self", "0::/docker/0123abcd\n");
	put("fs/cpu.max", "100000 100000\n");
	assert_int_equal(available(4), 1);
}

static void test_cpu__missing_or_junk_files_are_ignored(void **state)
{
	assert_int_equal(available(3), 3); /* no self file at all */
	put("self", "garbage\n\n::\n0::relative\n");
	assert_int_equal(available(3), 3);
	put("self", "0::/a\n");
	put("fs/a/cpu.max", "nonsense\n");
	assert_int_equal(available(3), 3);
}

static void test_cpu__this_machine(void **state)
{
	int n = cpu_available();
	assert_true(n >= 1);
	assert_true(n <= sysconf(_SC_NPROCESSORS_ONLN));
}

static void test_cpu__budget_oversubscribes_at_most_twice(void **state)
{
	for (int cpus = 1; cpus <= 64; cpus++) {
		for (int jobs = 1; jobs <= 40; jobs++) {
			struct cpu_budget b = cpu_budget(jobs, cpus);
			assert_true(b.parallel >= 1 && b.procs >= 1);
			assert_true(b.parallel <= jobs);
			assert_true(b.parallel <= cpus);
			assert_true(b.procs <= cpus);
			assert_true(b.parallel * b.procs <= 2 * cpus);
		}
	}
}

static void test_cpu__budget_examples(void **state)
{
	struct cpu_budget b = cpu_budget(11, 2); /* the measured case */
	assert_int_equal(b.parallel, 2);
	assert_int_equal(b.procs, 2);
	b = cpu_budget(11, 1);
	assert_int_equal(b.parallel, 1);
	assert_int_equal(b.procs, 1);
	b = cpu_budget(11, 16);
	assert_int_equal(b.parallel, 11);
	assert_int_equal(b.procs, 2);
	b = cpu_budget(1, 2);
	assert_int_equal(b.parallel, 1);
	assert_int_equal(b.procs, 2);
	b = cpu_budget(3, 16);
	assert_int_equal(b.parallel, 3);
	assert_int_equal(b.procs, 5);
	b = cpu_budget(0, 0);
	assert_int_equal(b.parallel, 1);
	assert_int_equal(b.procs, 1);
}

static void test_cpu__gc_limit_shares_half_the_memory(void **state)
{
	(void)state;
	assert_int_equal(cpu_gc_limit_from(24000, 6), 2000);   /* 24 GB, 2 jobs x -p 2 + 2 CPUs */
	assert_int_equal(cpu_gc_limit_from(64000, 4), 4096);   /* at most 4 GiB */
	assert_int_equal(cpu_gc_limit_from(6144, 12), 256);    /* just enough */
	assert_int_equal(cpu_gc_limit_from(6144, 13), 0);      /* too little: Go's default GC */
	assert_int_equal(cpu_gc_limit_from(1000, 0), 500);
	setenv("XGO_GC_MEMLIMIT", "0", 1);
	assert_int_equal(cpu_gc_limit_mib(4), 0);
	setenv("XGO_GC_MEMLIMIT", "777", 1);
	assert_int_equal(cpu_gc_limit_mib(4), 777);
	setenv("XGO_GC_MEMLIMIT", "lots", 1);
	assert_int_equal(cpu_gc_limit_mib(4), 0);
	unsetenv("XGO_GC_MEMLIMIT");
	long long auto_share = cpu_gc_limit_mib(4);
	assert_true(auto_share == 0 || (auto_share >= 256 && auto_share <= 4096));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu__parse_max),
		cmocka_unit_test(test_cpu__parse_cfs),
		UNIT_TEST(test_cpu__v2_quota_caps_affinity_and_rounds_up),
		UNIT_TEST(test_cpu__v2_ancestor_quota_counts),
		UNIT_TEST(test_cpu__no_quota_means_affinity),
		UNIT_TEST(test_cpu__v1_cfs_quota),
		UNIT_TEST(test_cpu__v1_mounted_under_the_controller_list),
		UNIT_TEST(test_cpu__container_path_missing_uses_mount_root),
		UNIT_TEST(test_cpu__missing_or_junk_files_are_ignored),
		cmocka_unit_test(test_cpu__this_machine),
		cmocka_unit_test(test_cpu__budget_oversubscribes_at_most_twice),
		cmocka_unit_test(test_cpu__budget_examples),
		cmocka_unit_test(test_cpu__gc_limit_shares_half_the_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
