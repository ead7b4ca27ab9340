/* test_proc.c - base/proc: the one PATH search and proc_capture
 * finding programs through envp's PATH, never the caller's. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/proc.h"
#include "base/util.h"

static char dir[64];

static void put_exec(const char *path, const char *text, int mode)
{
	assert_int_equal(write_file_atomic(path, text, strlen(text), mode), 0);
}

static int setup(void **state)
{
	(void)state;
	error_quiet(1);
	strcpy(dir, "/tmp/test_proc.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return remove_tree(dir);
}

static void test_proc__find_takes_the_first_executable_file(void **state)
{
	(void)state;
	char *a = xasprintf("%s/a", dir), *b = xasprintf("%s/b", dir), *c = xasprintf("%s/c", dir);
	char *adir = xasprintf("%s/prog", a), *bfile = xasprintf("%s/prog", b), *cfile = xasprintf("%s/prog", c);
	assert_int_equal(mkdir_p(adir, 0755), 0); /* a directory named prog */
	assert_int_equal(mkdir_p(b, 0755), 0);
	assert_int_equal(mkdir_p(c, 0755), 0);
	put_exec(bfile, "not executable\n", 0644);
	put_exec(cfile, "#!/bin/sh\n", 0755);
	char *path = xasprintf("::relative:%s:%s:%s", a, b, c);
	char *got = proc_find("prog", path);
	assert_non_null(got);
	assert_string_equal(got, cfile);
	free(got);
	assert_null(proc_find("prog", "relative:"));
	assert_null(proc_find("prog", NULL));
	got = proc_find("./x/prog", NULL); /* a name with a '/' is used as given */
	assert_string_equal(got, "./x/prog");
	free(got);
	free(path);
	free(a), free(b), free(c), free(adir), free(bfile), free(cfile);
}

static void test_proc__env_get(void **state)
{
	(void)state;
	char *envp[] = { "PATHX=no", "PATH=/a:/b", "HOME=/h", NULL };
	assert_string_equal(proc_env_get(envp, "PATH"), "/a:/b");
	assert_null(proc_env_get(envp, "PAT"));
	assert_null(proc_env_get(NULL, "PATH"));
}

/* The program is found in envp's PATH: one only there runs, and one only
 * in the caller's PATH (sh) does not. */
static void test_proc__capture_searches_envp_path(void **state)
{
	(void)state;
	char *prog = xasprintf("%s/xgo-probe-prog", dir), *env_path = xasprintf("PATH=%s", dir);
	put_exec(prog, "#!/bin/sh\necho from-envp\n", 0755);
	struct buf out;
	int status = -1;
	char *argv[] = { "xgo-probe-prog", NULL };
	char *envp[] = { env_path, NULL };
	buf_init(&out, 4096);
	assert_int_equal(proc_capture(argv, envp, NULL, &out, NULL, &status), 0);
	assert_int_equal(status, 0);
	assert_string_equal(out.data, "from-envp\n");
	buf_release(&out);

	char *sh[] = { "sh", "-c", "true", NULL };
	buf_init(&out, 4096);
	assert_int_equal(proc_capture(sh, envp, NULL, &out, NULL, &status), -1);
	assert_string_equal(error_last(), "cannot run 'sh': No such file or directory");
	assert_int_equal(proc_capture(sh, NULL, NULL, &out, NULL, &status), -1);
	buf_release(&out);
	free(prog);
	free(env_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proc__find_takes_the_first_executable_file),
		cmocka_unit_test(test_proc__env_get),
		cmocka_unit_test(test_proc__capture_searches_envp_path),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
