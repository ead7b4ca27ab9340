/* Unit tests for toolchains/cc: the choice of toolchain per target and the
 * preset triples (data only; the CLI tests run the real compilers). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "toolchains/cc.h"
#include "toolchains/sdk.h"

static struct target tg(const char *goos, const char *goarch, const char *vval)
{
	struct target t = { .cgo = 1 };
	snprintf(t.goos, sizeof(t.goos), "%s", goos);
	snprintf(t.goarch, sizeof(t.goarch), "%s", goarch);
	snprintf(t.vval, sizeof(t.vval), "%s", vval);
	return t;
}

static void test_cc__choice_order_target_then_goos_then_use_then_zig(void **state)
{
	(void)state;
	struct cc_decl d = { .line = 3, .zig = "0.17.0" };
	struct target arm64 = tg("linux", "arm64", "v8.0"), win = tg("windows", "amd64", "v1");
	assert_string_equal(cc_choose(&d, &arm64), "zig");
	strv_push(&d.targets, "linux=gcc");
	strv_push(&d.targets, "linux/arm64=/opt/cross/bin/aarch64-gcc");
	assert_string_equal(cc_choose(&d, &arm64), "/opt/cross/bin/aarch64-gcc");
	struct target rv = tg("linux", "riscv64", "rva20u64");
	assert_string_equal(cc_choose(&d, &rv), "gcc");
	d.use = "host";
	assert_string_equal(cc_choose(&d, &win), "host");
	strv_release(&d.targets);
}

static void test_cc__without_a_declaration_only_the_host_target_has_a_compiler(void **state)
{
	(void)state;
	struct cc_decl none = { 0 };
	char goos[16], goarch[16];
	sscanf(sdk_host_platform(), "%15[^-]-%15s", goos, goarch);
	struct target host = tg(goos, goarch, ""), other = tg("windows", "arm64", "v8.0");
	assert_string_equal(cc_choose(&none, &host), "host");
	assert_null(cc_choose(&none, &other));
}

static void test_cc__preset_triples(void **state)
{
	(void)state;
	char buf[48];
	const char *pkg = NULL;
	struct target arm7 = tg("linux", "arm", "7"), arm5 = tg("linux", "arm", "5");
	struct target mac = tg("darwin", "arm64", "v8.0"), win = tg("windows", "amd64", "v1");
	struct target amd = tg("linux", "amd64", "v1");
	assert_string_equal(cc_zig_triple(&arm7, "musl", buf, sizeof(buf)), "arm-linux-musleabihf");
	assert_string_equal(cc_zig_triple(&amd, "glibc", buf, sizeof(buf)), "x86_64-linux-gnu");
	assert_null(cc_zig_triple(&arm5, "musl", buf, sizeof(buf))); /* soft-float */
	assert_string_equal(cc_zig_triple(&mac, "musl", buf, sizeof(buf)), "aarch64-macos");
	assert_string_equal(cc_gcc_triple(&win, &pkg), "x86_64-w64-mingw32");
	assert_string_equal(pkg, "gcc-mingw-w64-x86-64");
	assert_string_equal(cc_gcc_triple(&arm5, &pkg), "arm-linux-gnueabi");
	assert_non_null(strstr(pkg, "libc6-dev-armel-cross"));
	assert_null(cc_gcc_triple(&mac, &pkg));
}

static void test_cc__build_env_may_not_set_the_compiler(void **state)
{
	(void)state;
	assert_true(cc_controls("CC", 2));
	assert_true(cc_controls("ZIG_GLOBAL_CACHE_DIR", 20));
	assert_false(cc_controls("CGO_CFLAGS", 10)); /* appended, not refused */
	assert_false(cc_controls("CCX", 3));
}

static const char *env_get(const struct strv *env, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < env->n; i++)
		if (!strncmp(env->v[i], name, n) && env->v[i][n] == '=')
			return env->v[i] + n + 1;
	return NULL;
}

/* zig builds musl once per kind of link: the go command links _cgo_.o
 * with -fPIC and the binary without, so linux links are told -fno-PIC
 * (before the build's own flags, which still win). */
static void test_cc__zig_links_for_linux_are_not_pic(void **state)
{
	(void)state;
	struct cc_tool t = { .kind = "zig", .cc = "zig cc", .cxx = "zig c++", .ar = "zig ar",
			     .digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" };
	struct strv user = { 0 };
	strv_push(&user, "CGO_LDFLAGS=-lm");
	struct cc_env_in in = { .zig_cache = "/zc", .user = &user };
	struct target linux = tg("linux", "arm64", ""), win = tg("windows", "amd64", "");
	struct strv a = { 0 }, b = { 0 };
	cc_job_env(&t, &linux, &in, &a);
	cc_job_env(&t, &win, &in, &b);
	assert_string_equal(env_get(&a, "CGO_LDFLAGS"), "-O2 -g -fno-PIC -lm");
	assert_string_equal(env_get(&b, "CGO_LDFLAGS"), "-O2 -g -lm");
	assert_string_equal(env_get(&a, "ZIG_GLOBAL_CACHE_DIR"), "/zc");
	/* a position-independent binary links the PIC musl: no -fno-PIC */
	struct strv pie = { 0 }, exe = { 0 }, c = { 0 }, d = { 0 };
	strv_push(&pie, "-buildmode");
	strv_push(&pie, "pie");
	strv_push(&exe, "-buildmode=exe");
	in.flags = &pie;
	cc_job_env(&t, &linux, &in, &c);
	in.flags = &exe;
	cc_job_env(&t, &linux, &in, &d);
	assert_string_equal(env_get(&c, "CGO_LDFLAGS"), "-O2 -g -lm");
	assert_string_equal(env_get(&d, "CGO_LDFLAGS"), "-O2 -g -fno-PIC -lm");
	strv_release(&a);
	strv_release(&b);
	strv_release(&c);
	strv_release(&d);
	strv_release(&pie);
	strv_release(&exe);
	strv_release(&user);
}

int main(void)
{
	error_quiet(1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cc__choice_order_target_then_goos_then_use_then_zig),
		cmocka_unit_test(test_cc__without_a_declaration_only_the_host_target_has_a_compiler),
		cmocka_unit_test(test_cc__preset_triples),
		cmocka_unit_test(test_cc__build_env_may_not_set_the_compiler),
		cmocka_unit_test(test_cc__zig_links_for_linux_are_not_pic),
	};
	return cmocka_run_group_tests_name("cc", tests, NULL, NULL);
}
