/* Unit tests for orchestrator/jobenv: a job's environment is built from
 * nothing (no host variable leaks), with the target, the variant, the
 * build's env rules and the C toolchain of cgo jobs; and its argv.  The
 * job value (jobenv_plan) is the hashed form, and what runs (jobenv_fill)
 * is that value with the machine's paths and the tuning put in. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "orchestrator/jobenv.h"
#include "orchestrator/plan.h"
#include "base/util.h"
#include "toolchains/cc.h"
#include "tests/unit/unit.h"

static const char release_text[] =
	"project { name = 'hello', version = '1.2.3' }\n"
	"go '1.26.8'\n"
	"build 'app' {\n"
	"  main = './cmd/app', ldflags = { '-s', '-X main.v={version}', '-X main.os={os}' },\n"
	"  tags = { 'a', 'b' }, flags = { '-v' }, static = false,\n"
	"  env = { 'XGO_TEST_PASSED', 'XGO_TEST_ABSENT', FOO = 'bar', CGO_CFLAGS = '-DUSER' },\n"
	"  targets = matrix { goos = { 'linux' }, goarch = { 'arm' }, goarm = { '7' } },\n"
	"}\n"
	"build 'nosde' {\n"
	"  env = { SOURCE_DATE_EPOCH = false },\n"
	"  targets = matrix { goos = { 'windows' }, goarch = { 'amd64' } },\n"
	"}\n"
	"build 'c' {\n"
	"  env = { CGO_CFLAGS = '-DUSER' },\n"
	"  targets = matrix { goos = { 'linux' }, goarch = { 'arm64' }, cgo = true },\n"
	"}\n"
	"build 'raw' {\n"
	"  env = { RAW = '/<sdk>/kept', CGO_CFLAGS = '-I/sdk/go/include' },\n"
	"  targets = matrix { goos = { 'linux' }, goarch = { 'amd64' } },\n"
	"}\n";

static struct release rel;
static struct plan plan;

static const struct jobenv_ctx CTX = {
	.release = &rel,
	.sdk_root = "/sdk/go",
	.gocache = "/cache/go-build",
	.gomodcache = "/cache/mod",
	.sde = "1700000000",
	.procs = 3,
};

/* release.lua in unit_dir, loaded and planned like run does. */
static int setup(void **state)
{
	if (unit_setup(state) < 0)
		return -1;
	return unit_plan(release_text, &rel, &plan);
}

static int teardown(void **state)
{
	plan_release(&plan);
	release_clear(&rel);
	return unit_teardown(state);
}

static const struct job *job_of(const char *build)
{
	for (size_t i = 0; i < plan.n; i++)
		if (!strcmp(plan.jobs[i].build->name, build))
			return &plan.jobs[i];
	fail_msg("no job of build '%s'", build);
	return NULL;
}

/* The job value of src (jobenv_plan on a plan of it alone), filled in as
 * it runs with scratch and out_path. */
static void run_form(const struct jobenv_ctx *c, const struct job *src, const char *scratch, const char *out_path,
		     struct strv *env, struct strv *argv)
{
	struct job j = *src; /* its names stay the plan's */
	struct plan one = { .release = &rel, .jobs = &j, .n = 1 };
	assert_int_equal(jobenv_plan(c, NULL, "/work", "/stage", &one), 0);
	jobenv_fill(c, &j, scratch, out_path, env, argv);
	free(j.scratch);
	free(j.out_path);
	strv_release(&j.env);
	strv_release(&j.argv);
}

/* The value of name in env, or NULL. */
static const char *get(const struct strv *env, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < env->n; i++)
		if (!strncmp(env->v[i], name, len) && env->v[i][len] == '=')
			return env->v[i] + len + 1;
	return NULL;
}

static void test_jobenv__environment_is_built_from_nothing(void **state)
{
	(void)state;
	/* what a host could leak into a build */
	setenv("GOFLAGS", "-race", 1);
	setenv("GOOS", "plan9", 1);
	setenv("CGO_ENABLED", "1", 1);
	setenv("GOARM", "5", 1);
	setenv("HOME", "/home/leak", 1);
	setenv("XGO_TEST_LEAK", "x", 1);
	setenv("XGO_TEST_PASSED", "passed value", 1);
	unsetenv("XGO_TEST_ABSENT");
	struct strv env = { 0 }, argv = { 0 };
	run_form(&CTX, job_of("app"), "/work/jobs/app", "/out/app", &env, &argv);
	char *got = unit_lines(&env);
	assert_string_equal(got, "CGO_CFLAGS=-DUSER\n"
				 "CGO_ENABLED=0\n"
				 "FOO=bar\n"
				 "GOARCH=arm\n"
				 "GOARM=7\n"
				 "GOCACHE=/cache/go-build\n"
				 "GOENV=off\n"
				 "GOFLAGS=-trimpath -buildvcs=false -mod=readonly\n"
				 "GOMAXPROCS=3\n"
				 "GOMODCACHE=/cache/mod\n"
				 "GOOS=linux\n"
				 "GOPROXY=off\n"
				 "GOROOT=/sdk/go\n"
				 "GOTMPDIR=/work/jobs/app/tmp\n"
				 "GOTOOLCHAIN=local\n"
				 "GOWORK=off\n"
				 "HOME=/work/jobs/app/home\n"
				 "LC_ALL=C\n"
				 "PATH=/sdk/go/bin:/usr/bin:/bin\n"
				 "SOURCE_DATE_EPOCH=1700000000\n"
				 "TMPDIR=/work/jobs/app/tmp\n"
				 "TZ=UTC\n"
				 "XGO_TEST_PASSED=passed value\n");
	free(got);
	strv_release(&env);
	strv_release(&argv);
	unsetenv("GOFLAGS");
	unsetenv("GOOS");
	unsetenv("CGO_ENABLED");
	unsetenv("GOARM");
	unsetenv("XGO_TEST_LEAK");
}

static void test_jobenv__argv_expands_ldflags_and_joins_tags(void **state)
{
	(void)state;
	struct strv env = { 0 }, argv = { 0 };
	run_form(&CTX, job_of("app"), "/work/jobs/app", "/out/app", &env, &argv);
	char *got = unit_lines(&argv);
	assert_string_equal(got, "/sdk/go/bin/go\nbuild\n-o\n/out/app\n-p=3\n"
				 "-ldflags=-s -X main.v=1.2.3 -X main.os=linux\n-tags=a,b\n-v\n./cmd/app\n");
	free(got);
	strv_release(&env);
	strv_release(&argv);
}

static void test_jobenv__a_build_may_drop_source_date_epoch_and_windows_gets_exe(void **state)
{
	(void)state;
	struct jobenv_ctx c = CTX;
	c.gc_limit_mib = 512;
	c.vendor = 1;
	struct strv env = { 0 }, argv = { 0 };
	const struct job *j = job_of("nosde");
	assert_string_equal(j->binary, "nosde.exe");
	run_form(&c, j, "/s", "/out/nosde.exe", &env, &argv);
	assert_null(get(&env, "SOURCE_DATE_EPOCH"));
	assert_string_equal(get(&env, "GOOS"), "windows");
	assert_string_equal(get(&env, "GOAMD64"), "v1"); /* a variant not chosen: Go's default, explicitly */
	assert_string_equal(get(&env, "GOFLAGS"), "-trimpath -buildvcs=false -mod=vendor");
	assert_string_equal(get(&env, "GOGC"), "off");
	assert_string_equal(get(&env, "GOMEMLIMIT"), "512MiB");
	assert_null(get(&env, "FOO")); /* the other build's env */
	/* no ldflags or tags given: none passed */
	char *got = unit_lines(&argv);
	assert_string_equal(got, "/sdk/go/bin/go\nbuild\n-o\n/out/nosde.exe\n-p=3\n.\n");
	free(got);
	strv_release(&env);
	strv_release(&argv);
}

static void test_jobenv__cgo_job_gets_its_c_toolchain(void **state)
{
	(void)state;
	struct cc_tool t = { .kind = "gcc",
			     .path = "/opt/cross/bin/aarch64-linux-gnu-gcc",
			     .cc = "aarch64-linux-gnu-gcc",
			     .cxx = "aarch64-linux-gnu-g++",
			     .ar = "aarch64-linux-gnu-ar",
			     .digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" };
	struct job j = *job_of("c");
	j.cc = &t;
	j.static_link = 1;
	struct jobenv_ctx c = CTX;
	c.cgo_tmpdir = "/tmp/xgo-cgo";
	struct strv env = { 0 }, argv = { 0 };
	run_form(&c, &j, "/s", "/out/c", &env, &argv);
	assert_string_equal(get(&env, "CGO_ENABLED"), "1");
	assert_string_equal(get(&env, "CC"), "aarch64-linux-gnu-gcc");
	assert_string_equal(get(&env, "CXX"), "aarch64-linux-gnu-g++");
	assert_string_equal(get(&env, "AR"), "aarch64-linux-gnu-ar");
	/* the toolchain's identity in the flags, the build's own value after it, once */
	assert_string_equal(get(&env, "CGO_CFLAGS"), "-O2 -g -DXGO_CC_ID=0123456789abcdef -DUSER");
	assert_string_equal(get(&env, "PATH"), "/sdk/go/bin:/opt/cross/bin:/usr/bin:/bin");
	assert_string_equal(get(&env, "GOTMPDIR"), "/tmp/xgo-cgo");
	assert_string_equal(get(&env, "TMPDIR"), "/s/tmp");
	size_t n = 0;
	for (size_t i = 0; i < env.n; i++)
		n += !strncmp(env.v[i], "CGO_CFLAGS=", 11);
	assert_int_equal(n, 1);
	/* static on linux: external link, static, Go's resolver and user lookup */
	char *got = unit_lines(&argv);
	assert_string_equal(got, "/sdk/go/bin/go\nbuild\n-o\n/out/c\n-p=3\n"
				 "-ldflags=-linkmode=external -extldflags=-static\n-tags=netgo,osusergo\n.\n");
	free(got);
	strv_release(&env);
	strv_release(&argv);
}

static void test_jobenv__spawn_adds_gocacheprog_and_network_passes_proxies(void **state)
{
	(void)state;
	struct jobenv_ctx c = CTX;
	c.gocacheprog = "/bin/xgo-build gocacheprog";
	struct strv rec = { 0 }, spawn = { 0 }, net = { 0 };
	strv_push(&rec, "A=1");
	strv_push(&rec, "Z=2");
	jobenv_spawn(&c, &rec, &spawn);
	char *got = unit_lines(&spawn);
	assert_string_equal(got, "A=1\nGOCACHEPROG=/bin/xgo-build gocacheprog\nZ=2\n");
	free(got);
	setenv("GOPROXY", "http://127.0.0.1:9/proxy", 1);
	setenv("XGO_TEST_LEAK", "x", 1);
	jobenv_network(&c, "/s", &net);
	assert_string_equal(get(&net, "GOPROXY"), "http://127.0.0.1:9/proxy");
	assert_string_equal(get(&net, "GOFLAGS"), "-modcacherw -mod=readonly");
	assert_null(get(&net, "XGO_TEST_LEAK"));
	assert_null(get(&net, "GOOS"));
	for (size_t i = 1; i < net.n; i++) /* sorted */
		assert_true(strcmp(net.v[i - 1], net.v[i]) < 0);
	unsetenv("GOPROXY");
	unsetenv("XGO_TEST_LEAK");
	strv_release(&rec);
	strv_release(&spawn);
	strv_release(&net);
}

/* What runs, with each machine path at the start of a value put back as
 * its placeholder and the tuning and GOCACHEPROG left out: written here
 * on its own, as the inverse of jobenv_fill. */
static void unfill(const struct strv *in, int is_argv, const char *const real[][2], size_t n, struct strv *out)
{
	for (size_t i = 0; i < in->n; i++) {
		const char *e = in->v[i];
		if (jobenv_tuning(e) || !strncmp(e, "GOCACHEPROG=", 12) || (is_argv && !strncmp(e, "-p=", 3)))
			continue;
		size_t name = is_argv ? 0 : strcspn(e, "=") + 1;
		char *put = NULL;
		for (size_t k = 0; k < n && !put; k++) {
			size_t len = strlen(real[k][0]);
			if (!strncmp(e + name, real[k][0], len))
				put = xasprintf("%.*s%s%s", (int)name, e, real[k][1], e + name + len);
		}
		strv_push_owned(out, put ? put : xstrdup(e));
	}
}

static void test_jobenv__the_hashed_value_is_what_runs_with_the_paths_put_back(void **state)
{
	(void)state;
	struct cc_tool t = { .kind = "gcc", .path = "/opt/cross/bin/aarch64-linux-gnu-gcc", .cc = "gcc",
			     .cxx = "g++", .ar = "ar", .digest = "00112233445566778899aabbccddeeff" };
	struct jobenv_ctx c = CTX;
	c.zig_cache = "/cache/zig";
	c.cgo_tmpdir = "/tmp/xgo-cgo";
	c.gc_limit_mib = 256;
	c.gocacheprog = "/bin/xgo-build gocacheprog";
	struct cc_set set = { xcalloc(plan.n, sizeof(struct cc_tool)), plan.n }; /* as cc_resolve gives it */
	for (size_t i = 0; i < plan.n; i++)
		if (plan.jobs[i].target.cgo)
			set.v[i] = t;
	assert_int_equal(jobenv_plan(&c, &set, "/work", "/stage", &plan), 0);
	for (size_t i = 0; i < plan.n; i++) {
		const struct job *j = &plan.jobs[i];
		char name[128];
		plan_job_name(j, "", name, sizeof(name));
		char *scratch = xasprintf("/work/jobs/%s", name), *out = xasprintf("/stage/%s", j->output);
		assert_string_equal(j->scratch, scratch);
		assert_string_equal(j->out_path, out);
		struct strv env = { 0 }, argv = { 0 }, spawn = { 0 }, back_env = { 0 }, back_argv = { 0 };
		jobenv_fill(&c, j, NULL, NULL, &env, &argv);
		jobenv_spawn(&c, &env, &spawn);
		assert_string_equal(argv.v[3], out);
		assert_string_equal(argv.v[4], "-p=3");
		assert_string_equal(get(&spawn, "GOMAXPROCS"), "3");
		assert_string_equal(get(&spawn, "GOCACHEPROG"), c.gocacheprog);
		const char *const real[][2] = { { scratch, "/<scratch>" },  { out, "/<out>" },
						{ "/sdk/go", "/<sdk>" },   { "/cache/go-build", "/<gocache>" },
						{ "/cache/mod", "/<gomodcache>" }, { "/cache/zig", "/<zigcache>" },
						{ "/tmp/xgo-cgo", "/<cgotmp>" } };
		unfill(&spawn, 0, real, ARRAY_LEN(real), &back_env);
		unfill(&argv, 1, real, ARRAY_LEN(real), &back_argv);
		char *want = unit_lines(&j->env), *got = unit_lines(&back_env);
		assert_string_equal(got, want);
		free(want);
		free(got);
		want = unit_lines(&j->argv);
		got = unit_lines(&back_argv);
		assert_string_equal(got, want);
		free(want);
		free(got);
		if (!strcmp(j->build->name, "raw")) { /* the build's own values, as given, in both */
			assert_string_equal(get(&spawn, "RAW"), "/<sdk>/kept");
			assert_string_equal(get(&spawn, "CGO_CFLAGS"), "-I/sdk/go/include");
		}
		strv_release(&env);
		strv_release(&argv);
		strv_release(&spawn);
		strv_release(&back_env);
		strv_release(&back_argv);
		free(scratch);
		free(out);
	}
	/* the hashed form: what the action cache keys were always made of */
	const struct job *app = job_of("app"), *cj = job_of("c");
	assert_string_equal(get(&app->env, "PATH"), "/<sdk>/bin:/usr/bin:/bin");
	assert_string_equal(get(&app->env, "HOME"), "/<scratch>/home");
	assert_string_equal(get(&app->env, "GOCACHE"), "/<gocache>");
	assert_null(get(&app->env, "GOMAXPROCS"));
	assert_null(get(&app->env, "GOMEMLIMIT"));
	char *got = unit_lines(&app->argv);
	assert_string_equal(got, "/<sdk>/bin/go\nbuild\n-o\n/<out>\n"
				 "-ldflags=-s -X main.v=1.2.3 -X main.os=linux\n-tags=a,b\n-v\n./cmd/app\n");
	free(got);
	assert_string_equal(get(&cj->env, "PATH"), "/<sdk>/bin:/opt/cross/bin:/usr/bin:/bin");
	assert_string_equal(get(&cj->env, "GOTMPDIR"), "/<cgotmp>");
	assert_string_equal(cj->cc_digest, t.digest);
	assert_null(app->cc);
	for (size_t i = 0; i < plan.n; i++) {
		assert_ptr_equal(plan.jobs[i].cc, plan.jobs[i].target.cgo ? &set.v[i] : NULL);
		plan.jobs[i].cc = NULL;
	}
	free(set.v);
}

/* Each refused build: its error names release.lua's line and the value. */
static void refused(const char *env_or_flags, const char *want)
{
	char *text = xasprintf(
		"project { name = 'p', version = '1' }\ngo '1.26.8'\n"
		"build 'b' {\n  %s,\n  targets = matrix { goos = { 'linux' }, goarch = { 'amd64' } },\n}\n",
		env_or_flags);
	unit_write("bad.lua", text, 0644);
	char *file = unit_path("bad.lua");
	struct release r;
	int rc = plan_load(file, &r);
	if (rc == 0) {
		rc = jobenv_check_build(&r, &r.builds[0]);
		release_clear(&r);
	}
	assert_int_equal(rc, -1);
	if (!strstr(error_last(), want))
		fail_msg("error '%s' lacks '%s'", error_last(), want);
	free(file);
	free(text);
}

static void test_jobenv__check_build_refuses_what_xgo_build_controls(void **state)
{
	(void)state;
	refused("env = { GOOS = 'plan9' }", "bad.lua:3: build 'b': env sets GOOS, which xgo-build controls");
	refused("env = { CC = 'clang' }", "env sets CC, which xgo-build controls");
	refused("env = { 'PATH' }", "env passes PATH through, which xgo-build controls");
	refused("env = { HOME = false }", "env drops HOME, but only SOURCE_DATE_EPOCH may be dropped");
	refused("flags = { '-o', 'x' }", "flags: '-o' is refused");
	refused("flags = { '--toolexec=/bin/true' }", "flags: '--toolexec=/bin/true' is refused");
	refused("main = '-race'", "main '-race' is not a package");
	setenv("XGO_TEST_BIN", "\xff\xfe", 1);
	refused("env = { 'XGO_TEST_BIN' }", "env passes XGO_TEST_BIN through, but its value is not valid UTF-8");
	unsetenv("XGO_TEST_BIN");
	assert_int_equal(jobenv_controlled("GOFLAGS"), 1);
	assert_int_equal(jobenv_controlled("GOFLAGSX"), 0);
	assert_int_equal(jobenv_check_build(&rel, job_of("app")->build), 0);
}

static void test_jobenv__sde_order_release_then_environment_then_default(void **state)
{
	(void)state;
	char out[24];
	const char *src;
	struct release r = { 0 };
	unsetenv("SOURCE_DATE_EPOCH");
	assert_int_equal(jobenv_sde(&r, out, &src), 0);
	assert_string_equal(out, JOBENV_SDE_DEFAULT);
	assert_string_equal(src, "default");
	setenv("SOURCE_DATE_EPOCH", "1234", 1);
	assert_int_equal(jobenv_sde(&r, out, &src), 0);
	assert_string_equal(out, "1234");
	assert_string_equal(src, "environment");
	r.source_date_epoch = "99";
	assert_int_equal(jobenv_sde(&r, out, &src), 0);
	assert_string_equal(out, "99");
	assert_string_equal(src, "release.lua");
	r.source_date_epoch = NULL;
	setenv("SOURCE_DATE_EPOCH", "yesterday", 1);
	assert_int_equal(jobenv_sde(&r, out, &src), -1);
	assert_non_null(strstr(error_last(), "SOURCE_DATE_EPOCH='yesterday' is not a number"));
	unsetenv("SOURCE_DATE_EPOCH");
}

static void test_jobenv__local_and_tuning_names(void **state)
{
	(void)state;
	static const char *const local[] = { "GOCACHE",	 "GOMODCACHE", "GOROOT", "HOME",       "TMPDIR",
					     "GOTMPDIR", "GOMAXPROCS", "GOGC",	 "GOMEMLIMIT", "ZIG_GLOBAL_CACHE_DIR" };
	static const char *const input[] = { "GOOS", "GOARCH",	"GOFLAGS", "CGO_CFLAGS", "SOURCE_DATE_EPOCH",
					     "PATH", "GOCACHEX" };
	for (size_t i = 0; i < ARRAY_LEN(local); i++)
		assert_int_equal(jobenv_local(local[i]), 1);
	for (size_t i = 0; i < ARRAY_LEN(input); i++)
		assert_int_equal(jobenv_local(input[i]), 0);
	assert_int_equal(jobenv_tuning("GOMAXPROCS=4"), 1);
	assert_int_equal(jobenv_tuning("GOGC=off"), 1);
	assert_int_equal(jobenv_tuning("GOOS=linux"), 0);
	assert_int_equal(jobenv_tuning("GOMAXPROCS"), 0);
}

static void test_jobenv__scratch_is_made_afresh(void **state)
{
	(void)state;
	unit_write("work/jobs/app/stale", "old\n", 0644);
	char *work = unit_path("work");
	char *s = jobenv_scratch(work, "app");
	assert_non_null(s);
	char *stale = xasprintf("%s/stale", s), *mode = xasprintf("%s/home/.config/go/telemetry/mode", s);
	char *ignore = xasprintf("%s/home/.config/git/ignore", s), *tmp = xasprintf("%s/tmp", s);
	size_t len;
	char *text = read_file(mode, 64, &len);
	assert_string_equal(text, "off\n");
	free(text);
	text = read_file(ignore, 256, &len);
	assert_non_null(strstr(text, "dist/\n"));
	assert_non_null(strstr(text, ".xgo-build/\n"));
	free(text);
	assert_int_equal(access(stale, F_OK), -1);
	assert_int_equal(access(tmp, F_OK), 0);
	free(stale);
	free(mode);
	free(ignore);
	free(tmp);
	free(s);
	free(work);
}

int main(void)
{
	unit_group = "jobenv";
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobenv__environment_is_built_from_nothing),
		cmocka_unit_test(test_jobenv__argv_expands_ldflags_and_joins_tags),
		cmocka_unit_test(test_jobenv__a_build_may_drop_source_date_epoch_and_windows_gets_exe),
		cmocka_unit_test(test_jobenv__cgo_job_gets_its_c_toolchain),
		cmocka_unit_test(test_jobenv__spawn_adds_gocacheprog_and_network_passes_proxies),
		cmocka_unit_test(test_jobenv__the_hashed_value_is_what_runs_with_the_paths_put_back),
		cmocka_unit_test(test_jobenv__check_build_refuses_what_xgo_build_controls),
		cmocka_unit_test(test_jobenv__sde_order_release_then_environment_then_default),
		cmocka_unit_test(test_jobenv__local_and_tuning_names),
		cmocka_unit_test(test_jobenv__scratch_is_made_afresh),
	};
	return cmocka_run_group_tests_name("jobenv", tests, setup, teardown);
}
