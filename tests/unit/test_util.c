/* test_util.c - base/util: per-thread diagnostics (error_quiet,
 * error_last), the file copy and the monotonic clock. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

/* Two threads in lock step: A goes quiet and fails, then B fails loudly
 * while A is still quiet, then A restores.  B's error must be printed and
 * each thread must read its own message back. */
static pthread_barrier_t step;
static char a_last[64], b_last[64];
static unsigned b_printed;

static void *thread_a(void *arg)
{
	(void)arg;
	int quiet = error_quiet(1);
	error("a failed");
	pthread_barrier_wait(&step); /* B fails now */
	pthread_barrier_wait(&step);
	snprintf(a_last, sizeof(a_last), "%s", error_last());
	error_quiet(quiet);
	return NULL;
}

static void *thread_b(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&step);
	unsigned before = error_count();
	error("b failed");
	b_printed = error_count() - before;
	snprintf(b_last, sizeof(b_last), "%s", error_last());
	pthread_barrier_wait(&step);
	return NULL;
}

static void test_util__quiet_is_per_thread(void **state)
{
	(void)state;
	pthread_t a, b;
	/* stderr to /dev/null: B's line is printed, not shown */
	int saved = dup(2);
	FILE *null = freopen("/dev/null", "w", stderr);
	assert_non_null(null);
	assert_int_equal(pthread_barrier_init(&step, NULL, 2), 0);
	assert_int_equal(pthread_create(&a, NULL, thread_a, NULL), 0);
	assert_int_equal(pthread_create(&b, NULL, thread_b, NULL), 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_barrier_destroy(&step);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_int_equal(b_printed, 1); /* A's quiet did not silence B */
	assert_string_equal(a_last, "a failed");
	assert_string_equal(b_last, "b failed");
}

static void test_util__quiet_returns_the_previous_setting(void **state)
{
	(void)state;
	int outer = error_quiet(1);
	assert_int_equal(error_quiet(0), 1);
	assert_int_equal(error_quiet(1), 0);
	unsigned before = error_count();
	error("quiet one");
	assert_int_equal(error_count(), before); /* not printed */
	assert_string_equal(error_last(), "quiet one");
	error_quiet(outer);
}

static void test_util__copy_file_is_exact_and_refuses_links(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_util.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *src = xasprintf("%s/src", dir), *dst = xasprintf("%s/dst", dir), *link = xasprintf("%s/link", dir);
	char *dst2 = xasprintf("%s/dst2", dir);
	assert_int_equal(write_file_atomic(src, "content\n", 8, 0600), 0);
	mode_t old = umask(077);
	assert_int_equal(copy_file(src, dst, 0755), 0);
	umask(old);
	struct stat st;
	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755); /* exactly the mode, whatever the umask */
	size_t n = 0;
	char *text = read_file(dst, 100, &n);
	assert_non_null(text);
	assert_int_equal(n, 8);
	assert_memory_equal(text, "content\n", 8);
	free(text);
	int quiet = error_quiet(1);
	assert_int_equal(copy_file(src, dst, 0644), -1); /* never over an existing file */
	assert_int_equal(symlink(src, link), 0);
	assert_int_equal(copy_file(link, dst2, 0644), -1);
	assert_int_equal(access(dst2, F_OK), -1); /* nothing half-written */
	assert_int_equal(copy_file(dir, dst2, 0644), -1);
	assert_non_null(strstr(error_last(), "not a regular file"));
	error_quiet(quiet);
	assert_int_equal(remove_tree(dir), 0);
	free(src), free(dst), free(link), free(dst2);
}

static void test_util__mono_seconds_counts_a_sleep(void **state)
{
	(void)state;
	double t0 = mono_seconds();
	sleep_ms(30);
	double dt = mono_seconds() - t0;
	assert_true(dt >= 0.029);
	assert_true(dt < 5);
}

static void test_util__go_flag_value_takes_both_spellings(void **state)
{
	(void)state;
	int used;
	assert_string_equal(go_flag_value("-modfile=x.mod", NULL, "modfile", &used), "x.mod");
	assert_int_equal(used, 0);
	assert_string_equal(go_flag_value("--buildmode", "pie", "buildmode", &used), "pie");
	assert_int_equal(used, 1);
	assert_null(go_flag_value("-buildmode", NULL, "buildmode", &used)); /* no value */
	assert_null(go_flag_value("-buildmodex=pie", NULL, "buildmode", &used));
	assert_null(go_flag_value("buildmode=pie", NULL, "buildmode", &used)); /* not a flag */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util__quiet_is_per_thread),
		cmocka_unit_test(test_util__quiet_returns_the_previous_setting),
		cmocka_unit_test(test_util__copy_file_is_exact_and_refuses_links),
		cmocka_unit_test(test_util__mono_seconds_counts_a_sleep),
		cmocka_unit_test(test_util__go_flag_value_takes_both_spellings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
