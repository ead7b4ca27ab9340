/* test_util.c - orchestrator/util: per-thread diagnostics (error_quiet,
 * error_last) and the small shared helpers. */
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
#include <unistd.h>

#include "orchestrator/util.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util__quiet_is_per_thread),
		cmocka_unit_test(test_util__quiet_returns_the_previous_setting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
