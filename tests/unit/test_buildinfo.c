/* Unit tests for orchestrator/buildinfo: hand-made blobs, malformed and
 * truncated ones, and the real build info of a Go binary when one is at
 * hand (the go tool itself). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "orchestrator/buildinfo.h"
#include "base/util.h"

static const char start_sentinel[16] = "0w\xaf\x0c\x92t\x08\x02" "A\xe1\xc1\x07\xe6\xd6\x18\xe6";
static const char end_sentinel[16] = "\xf9" "2C1\x86\x18 r\x00\x82" "B\x10" "A\x16\xd8\xf2";

static size_t put_varint(unsigned char *d, size_t n)
{
	size_t k = 0;
	do {
		d[k] = (unsigned char)((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
		n >>= 7;
		k++;
	} while (n);
	return k;
}

/* Some junk, then the 16-aligned header at 64, version and modinfo. */
static size_t make_blob(unsigned char *d, const char *version, const char *mod)
{
	size_t pos = 64, ml = strlen(mod);
	memset(d, 'x', 64);
	memcpy(d + pos, "\xff Go buildinf:", 14);
	d[pos + 14] = 8;
	d[pos + 15] = 2;
	memset(d + pos + 16, 0, 16);
	pos += 32;
	pos += put_varint(d + pos, strlen(version));
	memcpy(d + pos, version, strlen(version));
	pos += strlen(version);
	pos += put_varint(d + pos, ml + 32);
	memcpy(d + pos, start_sentinel, 16);
	memcpy(d + pos + 16, mod, ml);
	memcpy(d + pos + 16 + ml, end_sentinel, 16);
	return pos + ml + 32;
}

static const char modinfo[] = "path\texample.com/p\nmod\texample.com/p\t(devel)\t\n"
			      "dep\tgolang.org/x/sys\tv0.1.0\th1:abc=\nbuild\t-trimpath=true\n"
			      "build\tCGO_ENABLED=0\nbuild\tGOOS=linux\n";

static void test_buildinfo__reads_version_path_and_settings(void **state)
{
	(void)state;
	unsigned char d[4096];
	size_t n = make_blob(d, "go1.26.8", modinfo);
	struct buildinfo bi;
	assert_int_equal(buildinfo_read(d, n, &bi), 0);
	assert_string_equal(bi.go_version, "go1.26.8");
	assert_string_equal(bi.path, "example.com/p");
	assert_int_equal(bi.lines.n, 6);
	assert_string_equal(bi.lines.v[2], "dep golang.org/x/sys v0.1.0 h1:abc=");
	assert_string_equal(buildinfo_setting(&bi, "GOOS"), "linux");
	assert_string_equal(buildinfo_setting(&bi, "-trimpath"), "true");
	assert_null(buildinfo_setting(&bi, "GOARCH"));
	buildinfo_release(&bi);
}

static void test_buildinfo__none_old_and_malformed(void **state)
{
	(void)state;
	unsigned char d[4096];
	struct buildinfo bi;
	memset(d, 'x', sizeof(d));
	assert_int_equal(buildinfo_read(d, sizeof(d), &bi), 1);
	size_t n = make_blob(d, "go1.26.8", modinfo);
	d[64 + 15] = 0; /* the pointer format */
	assert_int_equal(buildinfo_read(d, n, &bi), -1);
	assert_non_null(strstr(error_last(), "pre-Go 1.18"));
	n = make_blob(d, "go1.26.8", modinfo);
	d[96] = 0xff; /* a huge version length */
	d[97] = 0xff;
	assert_int_equal(buildinfo_read(d, n, &bi), -1);
	/* an unaligned header is not one */
	n = make_blob(d + 1, "go1.26.8", modinfo);
	assert_int_equal(buildinfo_read(d, n + 1, &bi), 1);
}

static void test_buildinfo__every_truncation_is_safe(void **state)
{
	(void)state;
	unsigned char d[4096];
	size_t n = make_blob(d, "go1.26.8", modinfo);
	for (size_t len = 0; len < n; len++) {
		unsigned char *copy = malloc(len ? len : 1);
		struct buildinfo bi;
		memcpy(copy, d, len);
		int rc = buildinfo_read(copy, len, &bi);
		assert_true(rc == 1 || rc == -1);
		free(copy);
	}
}

static void test_buildinfo__real_go_binary(void **state)
{
	(void)state;
	const char *paths[] = { "/usr/local/go/bin/go", "/usr/lib/go/bin/go" };
	for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
		size_t len;
		char *data = read_file(paths[i], 256u << 20, &len);
		if (!data)
			continue;
		struct buildinfo bi;
		assert_int_equal(buildinfo_read((const unsigned char *)data, len, &bi), 0);
		assert_true(!strncmp(bi.go_version, "go1.", 4));
		assert_string_equal(bi.path, "cmd/go");
		assert_non_null(buildinfo_setting(&bi, "GOOS"));
		buildinfo_release(&bi);
		free(data);
		return;
	}
	skip();
}

int main(void)
{
	error_quiet(1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buildinfo__reads_version_path_and_settings),
		cmocka_unit_test(test_buildinfo__none_old_and_malformed),
		cmocka_unit_test(test_buildinfo__every_truncation_is_safe),
		cmocka_unit_test(test_buildinfo__real_go_binary),
	};
	return cmocka_run_group_tests_name("buildinfo", tests, NULL, NULL);
}
