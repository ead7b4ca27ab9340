/* test_linuxpkg.c - orchestrator/linuxpkg: each Go target's architecture
 * name in deb and rpm, and the targets neither format names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "orchestrator/linuxpkg.h"

static struct target tgt(const char *goos, const char *goarch, const char *vval)
{
	struct target t;
	memset(&t, 0, sizeof(t));
	snprintf(t.goos, sizeof(t.goos), "%s", goos);
	snprintf(t.goarch, sizeof(t.goarch), "%s", goarch);
	snprintf(t.vval, sizeof(t.vval), "%s", vval);
	return t;
}

static void test_linuxpkg__arch_names(void **state)
{
	(void)state;
	static const char *const rows[][5] = {
		{ "amd64", "v1", "amd64", "x86_64" },   { "arm64", "v8.0", "arm64", "aarch64" },
		{ "arm", "7", "armhf", "armv7hl" },     { "arm", "6", "armel", "armv6hl" },
		{ "arm", "5", "armel", "armv5tel" },    { "386", "sse2", "i386", "i686" },
		{ "riscv64", "rva20u64", "riscv64", "riscv64" }, { "ppc64le", "power8", "ppc64el", "ppc64le" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct target t = tgt("linux", rows[i][0], rows[i][1]);
		assert_string_equal(lpkg_arch("deb", &t), rows[i][2]);
		assert_string_equal(lpkg_arch("rpm", &t), rows[i][3]);
	}
}

static void test_linuxpkg__no_name_for_other_targets(void **state)
{
	(void)state;
	struct target darwin = tgt("darwin", "arm64", ""), mips = tgt("linux", "mips", "hardfloat");
	assert_null(lpkg_arch("deb", &darwin));
	assert_null(lpkg_arch("rpm", &darwin));
	assert_null(lpkg_arch("deb", &mips));
	assert_null(lpkg_arch("rpm", &mips));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linuxpkg__arch_names),
		cmocka_unit_test(test_linuxpkg__no_name_for_other_targets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
