/* Unit tests for orchestrator/explain: archives that differ in one field,
 * strings and regions that name a cause. */
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

#include <archive.h>
#include <archive_entry.h>

#include "orchestrator/explain.h"
#include "base/util.h"
#include "tests/unit/unit.h"

/* A tar.gz with one file "hello" (mode, mtime and content as given). */
static char *make_tgz(const char *name, int mode, long mtime, const char *content)
{
	char *path = xasprintf("%s/%s", unit_dir, name);
	struct archive *a = archive_write_new();
	archive_write_add_filter_gzip(a);
	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "hello");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, (mode_t)mode);
	archive_entry_set_mtime(e, mtime, 0);
	archive_entry_set_size(e, (la_int64_t)strlen(content));
	archive_write_header(a, e);
	archive_write_data(a, content, strlen(content));
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	return path;
}

static void write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fwrite(text, 1, len, f);
	fclose(f);
}

static void test_explain__archive_entry_field(void **state)
{
	(void)state;
	char *a = make_tgz("a.tar.gz", 0755, 315532800, "same");
	char *b = make_tgz("b.tar.gz", 0755, 1700000000, "same");
	char *c = make_tgz("c.tar.gz", 0700, 315532800, "same");
	char *d = make_tgz("d.tar.gz", 0755, 315532800, "diff");
	json_t *e = explain_pair(a, b, NULL);
	assert_string_equal(json_string_value(json_object_get(e, "archive")),
			    "entry 'hello': mtime 315532800 vs 1700000000");
	json_decref(e);
	e = explain_pair(a, c, NULL);
	assert_non_null(strstr(json_string_value(json_object_get(e, "archive")), "mode 100755 vs 100700"));
	json_decref(e);
	e = explain_pair(a, d, NULL);
	assert_non_null(strstr(json_string_value(json_object_get(e, "archive")), "content"));
	json_decref(e);
	free(a);
	free(b);
	free(c);
	free(d);
}

static void test_explain__paths_and_times_are_named_as_causes(void **state)
{
	(void)state;
	char *a = xasprintf("%s/x1", unit_dir), *b = xasprintf("%s/x2", unit_dir);
	static const char ta[] = "\x01\x02junk\0/home/alice/src/p/main.go\0built at 12:34:56\0tail";
	static const char tb[] = "\x01\x02junk\0/tmp/elsewhere/p/main.go\0built at 12:35:09\0tail";
	write_text(a, ta, sizeof(ta));
	write_text(b, tb, sizeof(tb));
	json_t *e = explain_pair(a, b, "/nonexistent/dso.txt");
	assert_int_equal(json_integer_value(json_object_get(e, "first_difference")), 8);
	json_t *causes = json_object_get(json_object_get(e, "strings"), "causes");
	assert_int_equal(json_array_size(causes), 2);
	assert_non_null(strstr(json_string_value(json_array_get(causes, 0)), "/home/alice/src/p/main.go"));
	assert_non_null(strstr(json_string_value(json_array_get(causes, 1)), "built at 12:34:56"));
	char *s = explain_summary(e, 10, 10);
	assert_non_null(strstr(s, "likely cause: an absolute source path"));
	free(s);
	json_decref(e);
	/* identical files: nothing to tell */
	e = explain_pair(a, a, NULL);
	assert_null(json_object_get(e, "first_difference"));
	json_decref(e);
	free(a);
	free(b);
}

int main(void)
{
	error_quiet(1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_explain__archive_entry_field),
		cmocka_unit_test(test_explain__paths_and_times_are_named_as_causes),
	};
	return cmocka_run_group_tests_name("explain", tests, unit_setup, unit_teardown);
}
