/* test_package.c - orchestrator/package: entry order, modes, names,
 * globs, round trips through libarchive's reader, failure cleanup. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/hash.h"
#include "orchestrator/package.h"
#include "base/util.h"
#include "tests/unit/unit.h"

#define EPOCH 1700000000

/* What the reader saw of one entry. */
struct seen {
	char name[256];
	int is_dir;
	int perm;
	long long mtime;
	long long uid, gid;
	int has_names;       /* a uname or gname is stored */
	int has_other_times; /* atime, ctime or birthtime is stored */
	char data[64];
	size_t len;
};

static char *path_in(const char *name)
{
	return xasprintf("%s/%s", unit_dir, name);
}

static void write_text(const char *name, const char *text, int mode)
{
	char *p = path_in(name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(p, (mode_t)mode), 0);
	free(p);
}

static int setup(void **state)
{
	if (unit_setup(state) < 0)
		return -1;
	write_text("tool", "#!/bin/sh\necho tool\n", 0700);
	write_text("data", "data\n", 0600);
	write_text("readme", "read me\n", 0664);
	write_text("LICENSE", "license\n", 0644);
	write_text("README.md", "readme md\n", 0644);
	char *docs = path_in("docs");
	mkdir(docs, 0755);
	free(docs);
	write_text("docs/b.md", "b\n", 0644);
	write_text("docs/a.md", "a\n", 0644);
	char *out = path_in("out");
	mkdir(out, 0755);
	free(out);
	return 0;
}

/* Read every entry of the archive at path into seen[]; returns the count. */
static size_t read_back(const char *path, struct seen *seen, size_t max)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	size_t n = 0;
	archive_read_support_format_all(a);
	archive_read_support_filter_all(a);
	assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		assert_true(n < max);
		struct seen *s = &seen[n++];
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%s", archive_entry_pathname(e));
		size_t len = strlen(s->name);
		if (len && s->name[len - 1] == '/')
			s->name[len - 1] = '\0'; /* tar and zip mark directories so */
		s->is_dir = archive_entry_filetype(e) == AE_IFDIR;
		s->perm = (int)archive_entry_perm(e);
		s->mtime = archive_entry_mtime(e);
		s->uid = archive_entry_uid(e);
		s->gid = archive_entry_gid(e);
		const char *u = archive_entry_uname(e), *g = archive_entry_gname(e);
		s->has_names = (u && *u) || (g && *g);
		/* libarchive's zip reader marks atime and ctime set, as 0, when
		 * the archive has none: count only real values. */
		s->has_other_times = (archive_entry_atime_is_set(e) && archive_entry_atime(e)) ||
				     (archive_entry_ctime_is_set(e) && archive_entry_ctime(e)) ||
				     archive_entry_birthtime_is_set(e);
		la_ssize_t r = archive_read_data(a, s->data, sizeof(s->data) - 1);
		assert_true(r >= 0);
		s->len = (size_t)r;
	}
	archive_read_free(a);
	return n;
}

static int write_archive(enum pkg_format f, const char *dest, const struct pkg_entry *e,
			 size_t n, const char *wrap, struct pkg_result *res)
{
	struct pkg_request req = {
		.dest = dest, .format = f, .mtime = EPOCH, .wrap_dir = wrap,
		.entries = e, .nentries = n,
	};
	return pkg_write(&req, res);
}

/* Entries of a small archive: unsorted, with nested directories. */
static void sample_entries(struct pkg_entries *e)
{
	char *tool = path_in("tool"), *data = path_in("data"), *readme = path_in("readme");
	pkg_entries_add(e, "z", data, 0);
	pkg_entries_add(e, "b/c/tool", tool, 0);
	pkg_entries_add(e, "a", readme, 0);
	pkg_entries_add(e, "b/a", data, 0600);
	free(tool);
	free(data);
	free(readme);
}

static void test_package__sorted_with_parent_dirs(void **state)
{
	static const char *const want[] = { "a", "b", "b/a", "b/c", "b/c/tool", "z" };
	struct pkg_entries e = { 0 };
	struct pkg_result res;
	struct seen seen[16];
	char *dest = path_in("out/x.tar.gz");
	sample_entries(&e);
	assert_int_equal(write_archive(PKG_TAR_GZ, dest, e.v, e.n, NULL, &res), 0);
	assert_int_equal(read_back(dest, seen, 16), ARRAY_LEN(want));
	for (size_t i = 0; i < ARRAY_LEN(want); i++)
		assert_string_equal(seen[i].name, want[i]);
	assert_true(seen[1].is_dir && seen[3].is_dir);
	pkg_entries_release(&e);
	free(dest);
}

static void test_package__modes_normalised(void **state)
{
	struct pkg_entries e = { 0 };
	struct pkg_result res;
	struct seen seen[16];
	char *dest = path_in("out/m.zip");
	sample_entries(&e);
	assert_int_equal(write_archive(PKG_ZIP, dest, e.v, e.n, NULL, &res), 0);
	assert_int_equal(read_back(dest, seen, 16), 6);
	assert_int_equal(seen[0].perm, 0644); /* a: 0664 on disk */
	assert_int_equal(seen[1].perm, 0755); /* b/ */
	assert_int_equal(seen[2].perm, 0600); /* b/a: explicit mode wins */
	assert_int_equal(seen[3].perm, 0755); /* b/c/ */
	assert_int_equal(seen[4].perm, 0755); /* b/c/tool: 0700 on disk */
	assert_int_equal(seen[5].perm, 0644); /* z: 0600 on disk */
	pkg_entries_release(&e);
	free(dest);
}

static void check_round_trip(enum pkg_format f)
{
	struct pkg_entries e = { 0 };
	struct pkg_result res;
	struct seen seen[16];
	char hex[HASH_HEX_MAX];
	uint64_t size;
	char *dest = xasprintf("%s/out/rt%s", unit_dir, pkg_format_ext(f));
	sample_entries(&e);
	assert_int_equal(write_archive(f, dest, e.v, e.n, NULL, &res), 0);
	assert_int_equal(hash_file_hex(HASH_SHA256, dest, hex, &size), 0);
	assert_string_equal(res.sha256, hex);
	assert_int_equal(res.size, size);
	assert_non_null(res.writer);
	size_t n = read_back(dest, seen, 16);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(seen[i].mtime, EPOCH);
		assert_int_equal(seen[i].uid, 0);
		assert_int_equal(seen[i].gid, 0);
		assert_false(seen[i].has_names);
		assert_false(seen[i].has_other_times);
	}
	assert_string_equal(seen[4].data, "#!/bin/sh\necho tool\n");
	assert_string_equal(seen[5].data, "data\n");
	pkg_entries_release(&e);
	free(dest);
}

static void test_package__round_trip_tar_gz(void **state)
{
	check_round_trip(PKG_TAR_GZ);
}

static void test_package__round_trip_tar_xz(void **state)
{
	check_round_trip(PKG_TAR_XZ);
}

static void test_package__round_trip_tar_zst(void **state)
{
	check_round_trip(PKG_TAR_ZST);
}

static void test_package__round_trip_zip(void **state)
{
	check_round_trip(PKG_ZIP);
}

static void test_package__check_path(void **state)
{
	static const char *const bad[] = {
		"", "/etc/passwd", "../x", "a/../b", "a/..", "a//b", "./a", "a/.", "a/",
		"a\\b", "tab\there", "caf\xc3\xa9",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		assert_int_equal(pkg_check_path(bad[i]), -1);
	assert_int_equal(pkg_check_path("a/b.txt"), 0);
	assert_int_equal(pkg_check_path("..a/b..c/.d"), 0);
}

/* A failed write leaves neither dest nor a temporary file (".name.tmp-*"). */
static void assert_no_leftovers(const char *dest)
{
	char *out = path_in("out");
	DIR *d = opendir(out);
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d)))
		assert_null(strstr(de->d_name, ".tmp-"));
	closedir(d);
	assert_int_equal(access(dest, F_OK), -1);
	free(out);
}

static void test_package__refuses_bad_names(void **state)
{
	struct pkg_result res;
	char *data = path_in("data"), *dest = path_in("out/bad.tar.gz");
	struct pkg_entry abs = { "/abs", data, 0 }, dots = { "a/../../b", data, 0 };
	assert_int_equal(write_archive(PKG_TAR_GZ, dest, &abs, 1, NULL, &res), -1);
	assert_non_null(strstr(error_last(), "'/abs' is absolute"));
	assert_int_equal(write_archive(PKG_TAR_GZ, dest, &dots, 1, NULL, &res), -1);
	assert_non_null(strstr(error_last(), "'..'"));
	assert_no_leftovers(dest);
	free(data);
	free(dest);
}

static void test_package__refuses_duplicates_and_conflicts(void **state)
{
	struct pkg_result res;
	char *data = path_in("data"), *dest = path_in("out/dup.zip");
	struct pkg_entry dup[] = { { "x", data, 0 }, { "x", data, 0 } };
	struct pkg_entry both[] = { { "x", data, 0 }, { "x/y", data, 0 } };
	assert_int_equal(write_archive(PKG_ZIP, dest, dup, 2, NULL, &res), -1);
	assert_non_null(strstr(error_last(), "'x' is listed twice"));
	assert_int_equal(write_archive(PKG_ZIP, dest, both, 2, NULL, &res), -1);
	assert_non_null(strstr(error_last(), "both a file and a directory"));
	assert_no_leftovers(dest);
	free(data);
	free(dest);
}

static void test_package__missing_source_leaves_nothing(void **state)
{
	struct pkg_result res;
	char *data = path_in("data"), *missing = path_in("no-such-file");
	char *dest = path_in("out/miss.tar.xz");
	struct pkg_entry e[] = { { "a", data, 0 }, { "b", missing, 0 } };
	assert_int_equal(write_archive(PKG_TAR_XZ, dest, e, 2, NULL, &res), -1);
	assert_non_null(strstr(error_last(), "no-such-file"));
	assert_no_leftovers(dest);
	free(data);
	free(missing);
	free(dest);
}

static void test_package__wrap_in_directory(void **state)
{
	struct pkg_result res;
	struct seen seen[4];
	char *data = path_in("data"), *dest = path_in("out/app_1.0_linux.tar.zst");
	char *stem = pkg_stem(dest, PKG_TAR_ZST);
	struct pkg_entry e = { "bin/app", data, 0 };
	assert_string_equal(stem, "app_1.0_linux");
	assert_int_equal(write_archive(PKG_TAR_ZST, dest, &e, 1, stem, &res), 0);
	assert_int_equal(read_back(dest, seen, 4), 3);
	assert_string_equal(seen[0].name, "app_1.0_linux");
	assert_string_equal(seen[1].name, "app_1.0_linux/bin");
	assert_string_equal(seen[2].name, "app_1.0_linux/bin/app");
	free(stem);
	stem = pkg_stem("x.zip", PKG_TAR_GZ); /* another format's extension stays */
	assert_string_equal(stem, "x.zip");
	free(stem);
	free(data);
	free(dest);
}

static void test_package__binary_is_a_copy(void **state)
{
	struct pkg_result res;
	struct stat st;
	char hex[HASH_HEX_MAX];
	char *tool = path_in("tool"), *dest = path_in("out/tool-linux");
	struct pkg_entry e = { "ignored", tool, 0 };
	assert_int_equal(write_archive(PKG_BINARY, dest, &e, 1, NULL, &res), 0);
	assert_int_equal(hash_file_hex(HASH_SHA256, tool, hex, NULL), 0);
	assert_string_equal(res.sha256, hex);
	assert_string_equal(res.compression, "none");
	assert_int_equal(stat(dest, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_mtime, EPOCH);
	struct pkg_entry two[] = { e, e };
	assert_int_equal(write_archive(PKG_BINARY, dest, two, 2, NULL, &res), -1);
	free(tool);
	free(dest);
}

static void test_package__source_mtime_does_not_matter(void **state)
{
	struct pkg_result r1, r2;
	struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };
	char *data = path_in("data"), *dest = path_in("out/t.tar.gz");
	struct pkg_entry e = { "data", data, 0 };
	assert_int_equal(write_archive(PKG_TAR_GZ, dest, &e, 1, NULL, &r1), 0);
	assert_int_equal(utimensat(AT_FDCWD, data, old, 0), 0);
	assert_int_equal(write_archive(PKG_TAR_GZ, dest, &e, 1, NULL, &r2), 0);
	assert_string_equal(r1.sha256, r2.sha256);
	free(data);
	free(dest);
}

static void test_package__zip_needs_utc(void **state)
{
	struct pkg_result res;
	char *data = path_in("data"), *dest = path_in("out/tz.zip");
	struct pkg_entry e = { "data", data, 0 };
	setenv("TZ", "IST-5:30", 1);
	tzset();
	assert_int_equal(write_archive(PKG_ZIP, dest, &e, 1, NULL, &res), -1);
	assert_non_null(strstr(error_last(), "pkg_init"));
	pkg_init();
	assert_int_equal(write_archive(PKG_ZIP, dest, &e, 1, NULL, &res), 0);
	free(data);
	free(dest);
}

static void test_package__expand_globs(void **state)
{
	struct pkg_entries e = { 0 };
	struct archive_file files[] = {
		{ "./LICENSE", NULL, 0, 0 },
		{ "README*", NULL, 0, 0 },
		{ "docs/*", "doc/", 0, 0 },
		{ "LICENSE", "legal/COPYING", 0600, 0 },
	};
	assert_int_equal(pkg_expand_files(unit_dir, files, ARRAY_LEN(files), &e), 0);
	assert_int_equal(e.n, 5);
	assert_string_equal(e.v[0].path, "LICENSE");
	assert_string_equal(e.v[1].path, "README.md");
	assert_string_equal(e.v[2].path, "doc/a.md");
	assert_string_equal(e.v[3].path, "doc/b.md");
	assert_string_equal(e.v[4].path, "legal/COPYING");
	assert_int_equal(e.v[4].mode, 0600);
	char *want = path_in("docs/a.md");
	assert_string_equal(e.v[2].src, want);
	free(want);
	pkg_entries_release(&e);
}

static void test_package__missing_glob_is_named(void **state)
{
	struct pkg_entries e = { 0 };
	struct archive_file missing[] = { { "LICENSE", NULL, 0, 0 }, { "CHANGELOG*", NULL, 0, 0 } };
	struct archive_file is_dir[] = { { "doc*", NULL, 0, 0 } };
	assert_int_equal(pkg_expand_files(unit_dir, missing, 2, &e), -1);
	assert_non_null(strstr(error_last(), "'CHANGELOG*' matches no file"));
	assert_int_equal(pkg_expand_files(unit_dir, is_dir, 1, &e), -1);
	assert_non_null(strstr(error_last(), "is a directory"));
	pkg_entries_release(&e);
}

/* A match is resolved through its symlinks: out of the project is refused
 * naming where it leads, inside works with the resolved source; a FIFO is
 * refused without blocking; a link swapped in after the check is not
 * followed by pkg_write. */
static void test_package__expand_symlinks_and_fifos(void **state)
{
	struct pkg_entries e = { 0 };
	char *links = path_in("links"), *out = path_in("links/out"), *in = path_in("links/in");
	char *fifo = path_in("links/fifo"), *lic = path_in("LICENSE"), *dest = path_in("out/l.tar.gz");
	struct archive_file f_out[] = { { "links/out", NULL, 0, 0 } };
	struct archive_file f_in[] = { { "links/in", NULL, 0, 0 } };
	struct archive_file f_fifo[] = { { "links/f*", NULL, 0, 0 } };
	struct pkg_result res;
	assert_int_equal(mkdir(links, 0755), 0);
	assert_int_equal(symlink("/etc/passwd", out), 0);
	assert_int_equal(symlink("../LICENSE", in), 0);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_int_equal(pkg_expand_files(unit_dir, f_out, 1, &e), -1);
	assert_non_null(strstr(error_last(), "'links/out' leads to '/etc/passwd', outside"));
	assert_int_equal(pkg_expand_files(unit_dir, f_fifo, 1, &e), -1);
	assert_non_null(strstr(error_last(), "not a regular file"));
	assert_int_equal(e.n, 0);
	assert_int_equal(pkg_expand_files(unit_dir, f_in, 1, &e), 0);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.v[0].path, "links/in");
	char *real = realpath(lic, NULL);
	assert_string_equal(e.v[0].src, real);
	assert_int_equal(write_archive(PKG_TAR_GZ, dest, e.v, 1, NULL, &res), 0);
	/* swap the checked file for a link out: pkg_write refuses it */
	assert_int_equal(rename(lic, in), 0);
	assert_int_equal(symlink("/etc/passwd", lic), 0);
	assert_int_equal(write_archive(PKG_TAR_GZ, dest, e.v, 1, NULL, &res), -1);
	assert_int_equal(unlink(lic), 0);
	assert_int_equal(rename(in, lic), 0);
	pkg_entries_release(&e);
	remove_tree(links);
	free(real);
	free(links);
	free(out);
	free(in);
	free(fifo);
	free(lic);
	free(dest);
}

/* A glob whose second match is a directory: the first match's entry is
 * left in out for the caller to release (the leak of issue 15 was a
 * caller that did not). */
static void test_package__expand_error_leaves_entries_to_release(void **state)
{
	struct pkg_entries e = { 0 };
	struct archive_file files[] = { { "LICENSE", NULL, 0, 0 }, { "doc*", NULL, 0, 0 } };
	assert_int_equal(pkg_expand_files(unit_dir, files, 2, &e), -1);
	assert_int_equal(e.n, 1);
	pkg_entries_release(&e);
}

/* Several threads writing at once produce what one thread produces. */
struct job {
	enum pkg_format f;
	char *dest;
	struct pkg_result res;
	int rc;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	struct pkg_entries e = { 0 };
	sample_entries(&e);
	j->rc = write_archive(j->f, j->dest, e.v, e.n, NULL, &j->res);
	pkg_entries_release(&e);
	return NULL;
}

static void test_package__concurrent_writes(void **state)
{
	static const enum pkg_format fs[] = { PKG_TAR_GZ, PKG_TAR_XZ, PKG_TAR_ZST, PKG_ZIP };
	struct job jobs[8];
	pthread_t th[8];
	pkg_init();
	for (size_t i = 0; i < 8; i++) {
		jobs[i].f = fs[i % 4];
		jobs[i].dest = xasprintf("%s/out/c%zu%s", unit_dir, i, pkg_format_ext(fs[i % 4]));
		assert_int_equal(pthread_create(&th[i], NULL, run_job, &jobs[i]), 0);
	}
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(jobs[i].rc, 0);
		if (i >= 4)
			assert_string_equal(jobs[i].res.sha256, jobs[i - 4].res.sha256);
		free(jobs[i].dest);
	}
}

static void test_package__formats(void **state)
{
	enum pkg_format f;
	assert_int_equal(pkg_format_parse("tar.zst", &f), 0);
	assert_int_equal(f, PKG_TAR_ZST);
	assert_string_equal(pkg_format_name(PKG_ZIP), "zip");
	assert_string_equal(pkg_format_ext(PKG_BINARY), "");
	assert_int_equal(pkg_format_parse("tar.bz2", &f), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_package__sorted_with_parent_dirs),
		cmocka_unit_test(test_package__modes_normalised),
		cmocka_unit_test(test_package__round_trip_tar_gz),
		cmocka_unit_test(test_package__round_trip_tar_xz),
		cmocka_unit_test(test_package__round_trip_tar_zst),
		cmocka_unit_test(test_package__round_trip_zip),
		cmocka_unit_test(test_package__check_path),
		cmocka_unit_test(test_package__refuses_bad_names),
		cmocka_unit_test(test_package__refuses_duplicates_and_conflicts),
		cmocka_unit_test(test_package__missing_source_leaves_nothing),
		cmocka_unit_test(test_package__wrap_in_directory),
		cmocka_unit_test(test_package__binary_is_a_copy),
		cmocka_unit_test(test_package__source_mtime_does_not_matter),
		cmocka_unit_test(test_package__zip_needs_utc),
		cmocka_unit_test(test_package__expand_globs),
		cmocka_unit_test(test_package__missing_glob_is_named),
		cmocka_unit_test(test_package__expand_symlinks_and_fifos),
		cmocka_unit_test(test_package__expand_error_leaves_entries_to_release),
		cmocka_unit_test(test_package__concurrent_writes),
		cmocka_unit_test(test_package__formats),
	};
	pkg_init();
	umask(077); /* modes in archives must not depend on it */
	return cmocka_run_group_tests(tests, setup, unit_teardown);
}
