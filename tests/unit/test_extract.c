/* Unit tests for toolchains/extract: malicious archives, written here with
 * libarchive, are refused and nothing lands outside the extraction root. */
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
#include <dirent.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "toolchains/extract.h"
#include "tests/unit/unit.h"

/* unit_dir/dest is the extraction root, unit_dir/outside is what attacks aim at. */
static char dest[96], outside[96], arc[96];

enum kind { REG, DIR_, SYM, HARD, CHR, FIFO };

struct ent {
	enum kind kind;
	const char *name;
	const char *data; /* contents, symlink target or hardlink target */
	int mode;
};

static void write_archive(const char *path, int zip, const struct ent *e, size_t n)
{
	struct archive *a = archive_write_new();
	if (zip) {
		archive_write_set_format_zip(a);
	} else {
		archive_write_set_format_pax_restricted(a);
		archive_write_add_filter_gzip(a);
	}
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, e[i].name);
		archive_entry_set_mtime(ae, 0, 0);
		switch (e[i].kind) {
		case REG:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, e[i].mode ? e[i].mode : 0644);
			archive_entry_set_size(ae, (la_int64_t)strlen(e[i].data));
			break;
		case DIR_:
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, 0755);
			break;
		case SYM:
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_perm(ae, 0777);
			archive_entry_set_symlink(ae, e[i].data);
			break;
		case HARD:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0644);
			archive_entry_set_hardlink(ae, e[i].data);
			break;
		case CHR:
			archive_entry_set_filetype(ae, AE_IFCHR);
			archive_entry_set_perm(ae, 0644);
			archive_entry_set_rdev(ae, makedev(1, 3));
			break;
		case FIFO:
			archive_entry_set_filetype(ae, AE_IFIFO);
			archive_entry_set_perm(ae, 0644);
			break;
		}
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (e[i].kind == REG)
			archive_write_data(a, e[i].data, strlen(e[i].data));
		archive_entry_free(ae);
	}
	archive_write_close(a);
	archive_write_free(a);
}

static int setup(void **state)
{
	if (unit_setup(state) < 0)
		return -1;
	snprintf(dest, sizeof(dest), "%s/dest", unit_dir);
	snprintf(outside, sizeof(outside), "%s/outside", unit_dir);
	snprintf(arc, sizeof(arc), "%s/a.tar.gz", unit_dir);
	assert_int_equal(mkdir(dest, 0755), 0);
	assert_int_equal(mkdir(outside, 0755), 0);
	return 0;
}

static size_t count_dir(const char *dir)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* The archive is refused with a message containing needle, and neither
 * outside/ nor unit_dir/ gained anything. */
static void refused(const struct ent *e, size_t n, const char *needle)
{
	write_archive(arc, 0, e, n);
	error_clear();
	assert_int_equal(ext_archive(arc, dest), -1);
	if (!strstr(error_last(), needle))
		fail_msg("message '%s' lacks '%s'", error_last(), needle);
	assert_int_equal(count_dir(outside), 0);
	assert_int_equal(count_dir(unit_dir), 3); /* dest, outside, a.tar.gz */
}

static void test_extract__good_archive_normalises_modes(void **state)
{
	(void)state;
	const struct ent e[] = {
		{ DIR_, "go/", NULL, 0 },
		{ REG, "go/VERSION", "go1.99.0\n", 0600 },
		{ DIR_, "go/bin/", NULL, 0 },
		{ REG, "go/bin/go", "#!/bin/sh\n", 0700 },
		{ SYM, "go/bin/gofmt", "go", 0 },
		{ SYM, "go/misc", "bin/../bin", 0 },
		{ HARD, "go/VERSION2", "go/VERSION", 0 },
	};
	write_archive(arc, 0, e, ARRAY_LEN(e));
	assert_int_equal(ext_archive(arc, dest), 0);
	char p[160];
	struct stat st;
	snprintf(p, sizeof(p), "%s/go/VERSION", dest);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	snprintf(p, sizeof(p), "%s/go/bin/go", dest);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	snprintf(p, sizeof(p), "%s/go/bin/gofmt", dest);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	snprintf(p, sizeof(p), "%s/go/VERSION2", dest);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_nlink, 2);
}

static void test_extract__zip_works(void **state)
{
	(void)state;
	const struct ent e[] = {
		{ DIR_, "go/", NULL, 0 },
		{ REG, "go/VERSION", "go1.99.0\n", 0644 },
		{ REG, "go/bin/go.exe", "MZ", 0755 },
	};
	snprintf(arc, sizeof(arc), "%s/a.zip", unit_dir);
	write_archive(arc, 1, e, ARRAY_LEN(e));
	assert_int_equal(ext_archive(arc, dest), 0);
	char p[160];
	snprintf(p, sizeof(p), "%s/go/bin/go.exe", dest);
	assert_int_equal(access(p, F_OK), 0);
}

static void test_extract__refuses_absolute_path(void **state)
{
	(void)state;
	char name[160];
	snprintf(name, sizeof(name), "%s/pwned", outside);
	const struct ent e[] = { { DIR_, "go/", NULL, 0 }, { REG, name, "x", 0 } };
	refused(e, ARRAY_LEN(e), "absolute path");
}

static void test_extract__refuses_dotdot(void **state)
{
	(void)state;
	const struct ent e[] = { { DIR_, "go/", NULL, 0 }, { REG, "go/../../outside/pwned", "x", 0 } };
	refused(e, ARRAY_LEN(e), "'..'");
}

static void test_extract__refuses_entry_outside_go(void **state)
{
	(void)state;
	const struct ent e[] = { { REG, "other/file", "x", 0 } };
	refused(e, ARRAY_LEN(e), "outside the top directory");
}

static void test_extract__refuses_escaping_symlink(void **state)
{
	(void)state;
	/* The classic: a link out, then a file written through it. */
	const struct ent e[] = {
		{ DIR_, "go/", NULL, 0 },
		{ SYM, "go/evil", "../../outside", 0 },
		{ REG, "go/evil/pwned", "x", 0 },
	};
	refused(e, ARRAY_LEN(e), "escapes the SDK root");
}

static void test_extract__refuses_absolute_symlink(void **state)
{
	(void)state;
	const struct ent e[] = { { DIR_, "go/", NULL, 0 }, { SYM, "go/evil", "/etc", 0 } };
	refused(e, ARRAY_LEN(e), "absolute path '/etc'");
}

static void test_extract__refuses_writing_through_inner_symlink(void **state)
{
	(void)state;
	/* Each link alone stays inside, but go/a/b/s/t physically resolves to
	 * dest/t and ../x from there leaves the root. */
	const struct ent e[] = {
		{ DIR_, "go/", NULL, 0 },
		{ DIR_, "go/a/", NULL, 0 },
		{ DIR_, "go/a/b/", NULL, 0 },
		{ SYM, "go/a/b/s", "../..", 0 },
		{ SYM, "go/a/b/s/t", "../x", 0 },
		{ REG, "go/a/b/s/u", "x", 0 },
	};
	write_archive(arc, 0, e, ARRAY_LEN(e));
	assert_int_equal(ext_archive(arc, dest), -1);
	assert_int_equal(count_dir(outside), 0);
	assert_int_equal(count_dir(unit_dir), 3);
	char p[160];
	snprintf(p, sizeof(p), "%s/go/t", dest);
	struct stat st;
	assert_int_equal(lstat(p, &st), -1);
}

static void test_extract__refuses_escaping_hardlink(void **state)
{
	(void)state;
	char secret[160];
	snprintf(secret, sizeof(secret), "%s/secret", unit_dir);
	assert_int_equal(write_file_atomic(secret, "s", 1, 0644), 0);
	const struct ent e[] = { { DIR_, "go/", NULL, 0 }, { HARD, "go/hl", "go/../../secret", 0 } };
	write_archive(arc, 0, e, ARRAY_LEN(e));
	assert_int_equal(ext_archive(arc, dest), -1);
	assert_non_null(strstr(error_last(), "leaves the SDK root"));
	const struct ent f[] = { { DIR_, "go/", NULL, 0 }, { HARD, "go/hl", secret, 0 } };
	write_archive(arc, 0, f, ARRAY_LEN(f));
	assert_int_equal(ext_archive(arc, dest), -1);
	assert_non_null(strstr(error_last(), "leaves the SDK root"));
	struct stat st;
	assert_int_equal(stat(secret, &st), 0);
	assert_int_equal(st.st_nlink, 1);
	unlink(secret);
}

static void test_extract__refuses_hardlink_through_symlink(void **state)
{
	(void)state;
	const struct ent e[] = {
		{ DIR_, "go/", NULL, 0 },
		{ SYM, "go/up", ".", 0 },
		{ HARD, "go/hl", "go/up", 0 },
	};
	refused(e, ARRAY_LEN(e), "does not name a file");
}

static void test_extract__refuses_device_and_fifo(void **state)
{
	(void)state;
	const struct ent e[] = { { DIR_, "go/", NULL, 0 }, { CHR, "go/null", NULL, 0 } };
	refused(e, ARRAY_LEN(e), "device");
	const struct ent f[] = { { DIR_, "go/", NULL, 0 }, { FIFO, "go/fifo", NULL, 0 } };
	refused(f, ARRAY_LEN(f), "fifo");
}

static void test_extract__refuses_non_archive(void **state)
{
	(void)state;
	assert_int_equal(write_file_atomic(arc, "not an archive at all", 21, 0644), 0);
	assert_int_equal(ext_archive(arc, dest), -1);
	assert_non_null(strstr(error_last(), arc));
}

static void test_extract__path_checks(void **state)
{
	(void)state;
	assert_int_equal(ext_check_path("a", "go/x/y"), 0);
	assert_int_equal(ext_check_path("a", "./go/x"), 0);
	assert_int_equal(ext_check_path("a", "go"), 0);
	assert_int_equal(ext_check_path("a", "/go/x"), -1);
	assert_int_equal(ext_check_path("a", "go/x/../../y"), -1);
	assert_int_equal(ext_check_path("a", "gox/y"), -1);
	assert_int_equal(ext_check_path("a", ""), -1);
	assert_int_equal(ext_check_symlink("a", "go/bin/x", "../src/y"), 0);
	assert_int_equal(ext_check_symlink("a", "go/bin/x", ".."), 0);
	assert_int_equal(ext_check_symlink("a", "go/bin/x", "../.."), -1);
	assert_int_equal(ext_check_symlink("a", "go/x", "../go/y"), 0);
	assert_int_equal(ext_check_symlink("a", "go/x", "../gox/y"), -1);
	assert_int_equal(ext_check_symlink("a", "go/x", "/usr"), -1);
	assert_int_equal(ext_check_symlink("a", "go/x", ""), -1);
}

/* The output budget: 100 times the archive plus a slack, never past the
 * absolute cap (a zip bomb is refused after a few MiB, a real SDK, which
 * expands about 3.5 times, never is). */
static void test_extract__budget_scales_with_the_archive(void **state)
{
	assert_true(ext_limit(0) == EXT_RATIO_SLACK);
	assert_true(ext_limit(65ull << 20) == EXT_RATIO_SLACK + 100 * (65ull << 20));
	assert_true(ext_limit(65ull << 20) > 4 * (65ull << 20));
	assert_true(ext_limit(1ull << 40) == EXT_MAX_BYTES);
	assert_true(ext_limit(~0ull) == EXT_MAX_BYTES);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, unit_teardown)
	const struct CMUnitTest tests[] = {
		T(test_extract__good_archive_normalises_modes),
		T(test_extract__zip_works),
		T(test_extract__refuses_absolute_path),
		T(test_extract__refuses_dotdot),
		T(test_extract__refuses_entry_outside_go),
		T(test_extract__refuses_escaping_symlink),
		T(test_extract__refuses_absolute_symlink),
		T(test_extract__refuses_writing_through_inner_symlink),
		T(test_extract__refuses_escaping_hardlink),
		T(test_extract__refuses_hardlink_through_symlink),
		T(test_extract__refuses_device_and_fifo),
		T(test_extract__refuses_non_archive),
		T(test_extract__path_checks),
		T(test_extract__budget_scales_with_the_archive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
