/* test_isolate.c - isolation levels, the __exec trampoline and jobs in a
 * network namespace.  Like test_runner, this binary is its own trampoline:
 * main() hands "__exec" to iso_exec_main() before cmocka starts. */
#define _GNU_SOURCE
#include "orchestrator/isolate.h"
#include "orchestrator/runner.h"
#include "base/util.h"
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define GO "/usr/local/go/bin/go"

static char *self_exe;

static struct runner_result run_one(const struct runner_spec *spec)
{
	struct runner *r = runner_new(1);
	struct runner_result res;
	assert_true(runner_add(r, spec) >= 0);
	assert_int_equal(runner_wait_any(r, &res), 1);
	runner_free(r);
	return res;
}

static void test_isolate__choose(void **state)
{
	enum iso_level level = ISO_NET;
	assert_int_equal(iso_choose("none", &level), 0);
	assert_int_equal(level, ISO_NONE);
	assert_int_equal(iso_choose("bogus", &level), -1);
	assert_non_null(strstr(error_last(), "unknown isolation 'bogus'"));

	int avail = iso_net_available(NULL);
	assert_int_equal(iso_choose("auto", &level), 0);
	assert_int_equal(level, avail ? ISO_NET : ISO_NONE);
	assert_int_equal(iso_choose(NULL, &level), 0);
	assert_int_equal(level, avail ? ISO_NET : ISO_NONE);
	if (avail) {
		assert_int_equal(iso_choose("net", &level), 0);
		assert_int_equal(level, ISO_NET);
	} else {
		/* Asked for and missing: an error, never a downgrade. */
		assert_int_equal(iso_choose("net", &level), -1);
		assert_non_null(strstr(error_last(), "isolation 'net' is not available"));
	}
	assert_string_equal(iso_level_name(ISO_NET), "net");
	assert_string_equal(iso_level_name(ISO_NONE), "none");
}

static void test_isolate__probe_is_cached_and_harmless(void **state)
{
	struct stat before, after;
	assert_int_equal(stat("/proc/self/ns/net", &before), 0);
	const char *why = "unset";
	int a = iso_net_available(&why);
	assert_int_equal(iso_net_available(NULL), a);
	if (a)
		assert_null(why);
	else
		assert_non_null(why);
	assert_int_equal(stat("/proc/self/ns/net", &after), 0);
	assert_int_equal(before.st_ino, after.st_ino); /* we were not moved */
}

/* Without privileges the netns comes with a user namespace that maps our
 * own ids.  Run as "nobody" in a child to take that path even as root. */
static void test_isolate__unprivileged_uses_a_user_namespace(void **state)
{
	if (geteuid() != 0)
		skip(); /* then every test here already takes that path */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct stat before, after;
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(10);
		/* Changing ids made us undumpable: /proc/self would be root's. */
		prctl(PR_SET_DUMPABLE, 1);
		if (stat("/proc/self/ns/net", &before) < 0)
			_exit(11);
		if (iso_enter_netns() < 0)
			_exit(1);
		if (stat("/proc/self/ns/net", &after) < 0 || before.st_ino == after.st_ino)
			_exit(12);
		_exit(getuid() == 65534 && getgid() == 65534 ? 0 : 13);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 1)
		skip(); /* unprivileged user namespaces are disabled here */
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_isolate__trampoline_rejects_bad_arguments(void **state)
{
	char *bad[] = { "__exec", "--bogus", "--", "/bin/true", NULL };
	assert_int_equal(iso_exec_main(4, bad), 126);
	char *no_prog[] = { "__exec", "--netns", "--", NULL };
	assert_int_equal(iso_exec_main(3, no_prog), 126);
	char *no_sep[] = { "__exec", "/bin/true", NULL };
	assert_int_equal(iso_exec_main(2, no_sep), 126);
	char *bad_umask[] = { "__exec", "--umask", "9x", "--", "/bin/true", NULL };
	assert_int_equal(iso_exec_main(5, bad_umask), 126);
}

/* A listening socket on 127.0.0.1 in our namespace; returns its port. */
static int listen_local(int *fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(*fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(*fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(*fd, 16), 0);
	assert_int_equal(getsockname(*fd, (struct sockaddr *)&sa, &len), 0);
	return ntohs(sa.sin_port);
}

/* Connect with bash's /dev/tcp: exit 0 when the connection is made. */
static int try_connect(int port, enum iso_level level)
{
	char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	char *script = xasprintf("exec 3<>/dev/tcp/127.0.0.1/%d", port);
	char *argv[] = { "bash", "-c", script, NULL };
	char *log = xasprintf("%s/connect.log", unit_dir);
	struct runner_spec s = { .argv = argv, .envp = envp, .log_path = log,
		.umask = -1, .iso = level, .trampoline = self_exe, .timeout_ms = 20000 };
	struct runner_result res = run_one(&s);
	int status = res.status;
	assert_int_equal(res.timed_out, 0);
	runner_result_release(&res);
	free(log);
	free(script);
	return status;
}

static void test_isolate__net_job_cannot_reach_the_host(void **state)
{
	if (!iso_net_available(NULL))
		skip();
	int fd;
	int port = listen_local(&fd);
	assert_int_equal(try_connect(port, ISO_NONE), 0);
	assert_int_not_equal(try_connect(port, ISO_NET), 0);
	close(fd);
}

/* verify's user/hostname variations: the job sees another uid and host
 * name, and the file it writes still belongs to us. */
static void test_isolate__job_as_another_uid_and_hostname(void **state)
{
	if (!iso_vary_available(NULL))
		skip();
	char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	char *out = xasprintf("%s/who", unit_dir);
	char *script = xasprintf("echo $(id -u) $(hostname) > %s", out);
	char *argv[] = { "sh", "-c", script, NULL };
	char *log = xasprintf("%s/who.log", unit_dir);
	struct runner_spec s = { .argv = argv, .envp = envp, .log_path = log, .umask = -1, .iso = ISO_NET,
		.trampoline = self_exe, .uid = 4242, .hostname = "xgo-elsewhere", .timeout_ms = 20000 };
	struct runner_result res = run_one(&s);
	assert_int_equal(res.status, 0);
	runner_result_release(&res);
	size_t len;
	char *text = read_file(out, 256, &len);
	assert_non_null(text);
	assert_string_equal(text, "4242 xgo-elsewhere\n");
	struct stat st;
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_uid, geteuid());
	free(text);
	free(out);
	free(script);
	free(log);
}

/* A real, offline `go build` (GOPROXY=off) works without a network. */
static void test_isolate__go_build_in_a_net_namespace(void **state)
{
	if (!iso_net_available(NULL) || access(GO, X_OK) < 0)
		skip();
	char *src = xasprintf("%s/hello", unit_dir);
	char *main_go = xasprintf("%s/main.go", src);
	char *mod = xasprintf("%s/go.mod", src);
	const char *prog = "package main\n\nfunc main() { println(\"hi\") }\n";
	assert_int_equal(mkdir_p(src, 0755), 0);
	assert_int_equal(write_file_atomic(main_go, prog, strlen(prog), 0644), 0);
	assert_int_equal(write_file_atomic(mod, "module hello\n\ngo 1.22\n", 22, 0644), 0);
	char *home = xasprintf("HOME=%s", unit_dir);
	char *gopath = xasprintf("GOPATH=%s/gopath", unit_dir);
	char *tmpdir = xasprintf("TMPDIR=%s", unit_dir);
	/* A cache shared between test runs keeps this test quick. */
	char *envp[] = { "PATH=/usr/local/go/bin:/usr/bin:/bin", home, gopath, tmpdir,
		"GOCACHE=/unit_dir/xgo-unit-gocache", "GOENV=off", "GOTOOLCHAIN=local",
		"GOPROXY=off", "GOFLAGS=-trimpath -buildvcs=false", "CGO_ENABLED=0",
		"GOMAXPROCS=1", NULL };
	char *argv[] = { "go", "build", "-p", "1", "-o", "hello.bin", ".", NULL };
	char *log = xasprintf("%s/go.log", unit_dir);
	struct runner_spec s = { .argv = argv, .envp = envp, .dir = src, .log_path = log,
		.umask = 022, .iso = ISO_NET, .trampoline = self_exe, .timeout_ms = 300000 };
	struct runner_result res = run_one(&s);
	if (res.status != 0) {
		char *tail = runner_log_tail(log, 20);
		fprintf(stderr, "go build failed:\n%s", tail ? tail : "");
		free(tail);
	}
	assert_int_equal(res.status, 0);
	char *bin = xasprintf("%s/hello.bin", src);
	struct stat st;
	assert_int_equal(stat(bin, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	runner_result_release(&res);
	free(bin);
	free(log);
	free(home);
	free(gopath);
	free(tmpdir);
	free(mod);
	free(main_go);
	free(src);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "__exec"))
		return iso_exec_main(argc - 1, argv + 1);
	error_quiet(1);
	self_exe = iso_self_exe();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_isolate__choose),
		cmocka_unit_test(test_isolate__probe_is_cached_and_harmless),
		cmocka_unit_test(test_isolate__unprivileged_uses_a_user_namespace),
		cmocka_unit_test(test_isolate__trampoline_rejects_bad_arguments),
		UNIT_TEST(test_isolate__net_job_cannot_reach_the_host),
		UNIT_TEST(test_isolate__job_as_another_uid_and_hostname),
		UNIT_TEST(test_isolate__go_build_in_a_net_namespace),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(self_exe);
	return rc;
}
