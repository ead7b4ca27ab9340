/* Unit tests for toolchains/sdk: the runner's entry point sdk_for_release
 * against a real file:// mirror holding a small archive built here. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/util.h"
#include "toolchains/lockfile.h"
#include "toolchains/sdk.h"
#include "tests/unit/unit.h"

static char proj[96], mirror_dir[96], cache[96], lockpath[128], archive_path[160], mirror_url[128];
static char archive_sha[HASH_HEX_MAX];
static uint64_t archive_size;
static struct release rel;

static void add(struct archive *a, const char *name, const char *data, int mode)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	if (data) {
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_size(e, (la_int64_t)strlen(data));
	} else {
		archive_entry_set_filetype(e, AE_IFDIR);
	}
	archive_entry_set_perm(e, mode);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	if (data)
		archive_write_data(a, data, strlen(data));
	archive_entry_free(e);
}

static int setup(void **state)
{
	(void)state;
	verbosity = -1;
	if (unit_setup(state) < 0)
		return -1;
	snprintf(proj, sizeof(proj), "%s/proj", unit_dir);
	snprintf(mirror_dir, sizeof(mirror_dir), "%s/mirror", unit_dir);
	snprintf(cache, sizeof(cache), "%s/cache", unit_dir);
	snprintf(lockpath, sizeof(lockpath), "%s/release.lock", proj);
	snprintf(mirror_url, sizeof(mirror_url), "file://%s/", mirror_dir);
	snprintf(archive_path, sizeof(archive_path), "%s/go1.99.0.%s.tar.gz", mirror_dir, sdk_host_platform());
	assert_int_equal(mkdir(proj, 0755), 0);
	assert_int_equal(mkdir(mirror_dir, 0755), 0);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_gzip(a);
	assert_int_equal(archive_write_open_filename(a, archive_path), ARCHIVE_OK);
	add(a, "go/", NULL, 0755);
	add(a, "go/VERSION", "go1.99.0\n", 0644);
	add(a, "go/bin/", NULL, 0755);
	add(a, "go/bin/go", "#!/bin/sh\necho go1.99.0\n", 0755);
	archive_write_close(a);
	archive_write_free(a);
	assert_int_equal(hash_file_hex(HASH_SHA256, archive_path, archive_sha, &archive_size), 0);
	memset(&rel, 0, sizeof(rel));
	rel.path = xasprintf("%s/release.lua", proj);
	rel.dir = xstrdup(proj);
	rel.go_version = xstrdup("1.99.0");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(rel.path);
	free(rel.dir);
	free(rel.go_version);
	return unit_teardown(state);
}

static void write_lock(const char *go, const char *platform, const char *tree_digest)
{
	struct lock l = { 0 };
	struct lock_platform p = { .name = (char *)platform, .size = archive_size };
	char fn[64];
	snprintf(fn, sizeof(fn), "go1.99.0.%s.tar.gz", sdk_host_platform());
	p.filename = fn;
	memcpy(p.sha256, archive_sha, 65);
	if (tree_digest)
		snprintf(p.tree_digest, sizeof(p.tree_digest), "%s", tree_digest);
	l.go = xstrdup(go);
	lock_set(&l, &p);
	assert_int_equal(lock_write(lockpath, &l), 0);
	lock_clear(&l);
}

static int resolve(struct sdk *s, int offline)
{
	struct sdk_options opt = { .mirror = mirror_url, .cache_dir = cache, .offline = offline };
	return sdk_for_release(&rel, &opt, s);
}

static void test_sdk__missing_lock_says_run_lock(void **state)
{
	(void)state;
	struct sdk s;
	assert_int_equal(resolve(&s, 0), -1);
	assert_non_null(strstr(error_last(), "run 'xgo-build lock'"));
	assert_non_null(strstr(error_last(), lockpath));
}

static void test_sdk__stale_lock_says_run_lock(void **state)
{
	(void)state;
	struct sdk s;
	write_lock("1.98.0", sdk_host_platform(), NULL);
	assert_int_equal(resolve(&s, 0), -1);
	assert_non_null(strstr(error_last(), "pins go 1.98.0"));
	assert_non_null(strstr(error_last(), "run 'xgo-build lock'"));
	write_lock("1.99.0", "plan9-mips", NULL);
	assert_int_equal(resolve(&s, 0), -1);
	assert_non_null(strstr(error_last(), sdk_host_platform()));
	assert_non_null(strstr(error_last(), "run 'xgo-build lock'"));
}

static void test_sdk__resolves_installs_then_hits_cache(void **state)
{
	(void)state;
	struct sdk s, again;
	char path[256];
	write_lock("1.99.0", sdk_host_platform(), NULL);
	assert_int_equal(resolve(&s, 0), 0);
	assert_string_equal(s.version, "1.99.0");
	assert_string_equal(s.archive_sha256, archive_sha);
	assert_true(lock_is_hex64(s.tree_digest));
	snprintf(path, sizeof(path), "%s/sdk/go1.99.0.%s/go", cache, sdk_host_platform());
	assert_string_equal(s.root, path);
	snprintf(path, sizeof(path), "%s/bin/go", s.root);
	assert_int_equal(access(path, X_OK), 0);
	/* The mirror is gone: only the cache can answer now. */
	unlink(archive_path);
	write_lock("1.99.0", sdk_host_platform(), s.tree_digest);
	assert_int_equal(resolve(&again, 1), 0);
	assert_string_equal(again.root, s.root);
	assert_string_equal(again.tree_digest, s.tree_digest);
	sdk_release(&again);
	sdk_release(&s);
}

static void test_sdk__tree_digest_mismatch_leaves_nothing(void **state)
{
	(void)state;
	struct sdk s;
	char entry[256];
	write_lock("1.99.0", sdk_host_platform(), "0000000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(resolve(&s, 0), -1);
	assert_non_null(strstr(error_last(), "tree digest mismatch"));
	snprintf(entry, sizeof(entry), "%s/sdk/go1.99.0.%s", cache, sdk_host_platform());
	assert_int_equal(access(entry, F_OK), -1);
}

static void test_sdk__offline_miss_is_an_error(void **state)
{
	(void)state;
	struct sdk s;
	write_lock("1.99.0", sdk_host_platform(), NULL);
	assert_int_equal(resolve(&s, 1), -1);
	assert_non_null(strstr(error_last(), "--offline"));
}

static void test_sdk__checksum_mismatch_names_both(void **state)
{
	(void)state;
	struct sdk s;
	write_lock("1.99.0", sdk_host_platform(), NULL);
	FILE *f = fopen(archive_path, "ab");
	assert_non_null(f);
	fputc('!', f);
	fclose(f);
	assert_int_equal(resolve(&s, 0), -1);
	assert_non_null(strstr(error_last(), "expected"));
	assert_non_null(strstr(error_last(), archive_path));
}

static void test_sdk__paths_and_platform(void **state)
{
	(void)state;
	char *p = sdk_lock_path("a/b/release.lua");
	assert_string_equal(p, "a/b/release.lock");
	free(p);
	p = sdk_lock_path("release.lua");
	assert_string_equal(p, "release.lock");
	free(p);
	assert_non_null(strchr(sdk_host_platform(), '-'));
	setenv("XGO_CACHE", "/x/y", 1);
	p = sdk_cache_dir();
	assert_string_equal(p, "/x/y");
	free(p);
	unsetenv("XGO_CACHE");
	setenv("XDG_CACHE_HOME", "/xdg", 1);
	p = sdk_cache_dir();
	assert_string_equal(p, "/xdg/xgo-build");
	free(p);
	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", "/home/u", 1);
	p = sdk_cache_dir();
	assert_string_equal(p, "/home/u/.cache/xgo-build");
	free(p);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_sdk__missing_lock_says_run_lock),
		T(test_sdk__stale_lock_says_run_lock),
		T(test_sdk__resolves_installs_then_hits_cache),
		T(test_sdk__tree_digest_mismatch_leaves_nothing),
		T(test_sdk__offline_miss_is_an_error),
		T(test_sdk__checksum_mismatch_names_both),
		T(test_sdk__paths_and_platform),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
