/* test_gohead.c - cache/gohead: where a Go file's head ends, and
 * which edits change a file's head signature (and so make the action
 * cache ask go list again). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/gohead.h"
#include "base/util.h"
#include "tests/unit/unit.h"

/* The head of text, as a string. */
static char *head_of(const char *text)
{
	size_t end = gohead_end(text, strlen(text));
	return xasprintf("%.*s", (int)end, text);
}

static void test_gohead__ends_before_first_declaration(void **state)
{
	(void)state;
	char *h = head_of("//go:build linux\n\n// Package x.\npackage x\n\nimport \"os\"\n"
			  "import (\n\tf \"fmt\"\n\t_ \"embed\" // for the web\n\t. \"strings\"\n)\n\nfunc main() {}\n");
	assert_string_equal(h, "//go:build linux\n\n// Package x.\npackage x\n\nimport \"os\"\n"
			       "import (\n\tf \"fmt\"\n\t_ \"embed\" // for the web\n\t. \"strings\"\n)\n\n");
	free(h);
	h = head_of("package main; import \"os\"; var x = os.Args");
	assert_string_equal(h, "package main; import \"os\"; ");
	free(h);
}

static void test_gohead__comments_and_strings_do_not_end_it(void **state)
{
	(void)state;
	/* a declaration keyword inside a comment, a ')' inside a path */
	const char *text = "/*\nfunc looks like code\n*/\npackage p\n// #include <stdio.h>\n// func x()\n"
			   "import \"C\"\nimport (\n\t\"a/b)c\"\n\t`raw/path`\n)\ntype T int\n";
	char *h = head_of(text);
	assert_int_equal(strlen(h), strstr(text, "type T") - text);
	free(h);
}

static void test_gohead__what_does_not_scan_counts_whole(void **state)
{
	(void)state;
	const char *bad[] = {
		"",
		"// only a comment\n",
		"package",
		"package main\nimport (\n\t\"os\"\n",     /* unterminated group */
		"package main\nimport \"os\n",           /* unterminated path */
		"package main\n/* unterminated comment", /* ... */
		"func main() {}\n",                      /* no package clause */
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		assert_int_equal(gohead_end(bad[i], strlen(bad[i])), strlen(bad[i]));
}

static void sig_of(const char *name, const char *text, int is_go, char content[65], char sig[65])
{
	char *path = xasprintf("%s/%s", unit_dir, name);
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
	assert_int_equal(gohead_file(path, is_go, content, sig), 0);
	free(path);
}

static void test_gohead__body_edits_keep_the_signature(void **state)
{
	(void)state;
	char c1[65], s1[65], c2[65], s2[65];
	sig_of("a.go", "package a\nimport \"os\"\nvar X = os.Args\n", 1, c1, s1);
	sig_of("a.go", "package a\nimport \"os\"\nvar X = os.Args\nvar Y = 1\n", 1, c2, s2);
	assert_string_not_equal(c1, c2);
	assert_string_equal(s1, s2);
	/* an import, a constraint or an embed directive changes it */
	const char *changed[] = {
		"package a\nimport (\"os\"; \"fmt\")\nvar X = os.Args\n",
		"//go:build linux\n\npackage a\nimport \"os\"\nvar X = os.Args\n",
		"package a\nimport \"os\"\n//go:embed data.txt\nvar X = os.Args\n",
		"package b\nimport \"os\"\nvar X = os.Args\n",
	};
	for (size_t i = 0; i < ARRAY_LEN(changed); i++) {
		sig_of("a.go", changed[i], 1, c2, s2);
		assert_string_not_equal(s1, s2);
	}
}

static void test_gohead__other_files_count_their_constraints(void **state)
{
	(void)state;
	char c1[65], s1[65], c2[65], s2[65];
	sig_of("a.s", "#include \"textflag.h\"\nTEXT ·f(SB),NOSPLIT,$0\n\tRET\n", 0, c1, s1);
	sig_of("a.s", "#include \"textflag.h\"\nTEXT ·f(SB),NOSPLIT,$0\n\tNOP\n\tRET\n", 0, c2, s2);
	assert_string_not_equal(c1, c2);
	assert_string_equal(s1, s2);
	sig_of("a.s", "//go:build amd64\n\n#include \"textflag.h\"\nTEXT ·f(SB),NOSPLIT,$0\n\tRET\n", 0, c2, s2);
	assert_string_not_equal(s1, s2);
	sig_of("a.s", "// +build amd64\n\n#include \"textflag.h\"\nTEXT ·f(SB),NOSPLIT,$0\n\tRET\n", 0, c1, s1);
	assert_string_not_equal(s1, s2);
}

/* A directive longer than any line buffer counts whole (#16 case 8): its
 * last bytes change the signature, in a .go file and in a streamed one. */
static void test_gohead__long_directive_counts_whole(void **state)
{
	(void)state;
	struct buf t;
	char c1[65], s1[65], c2[65], s2[65];
	buf_init(&t, 1 << 20);
	/* after a declaration: the head's text does not cover it */
	buf_printf(&t, "package a\n\nimport _ \"embed\"\n\nvar before = 1\n\n//go:embed");
	for (int i = 0; i < 20000; i++)
		buf_printf(&t, " a.txt");
	buf_printf(&t, "\nvar s string\n");
	sig_of("a.go", t.data, 1, c1, s1);
	char *last = strstr(t.data, " a.txt\nvar");
	memcpy(last, " b.txt", 6);
	sig_of("a.go", t.data, 1, c2, s2);
	assert_string_not_equal(s1, s2);
	buf_release(&t);
	/* a long constraint line of another file counts whole too */
	buf_init(&t, 1 << 20);
	buf_printf(&t, "//go:build linux");
	for (int i = 0; i < 20000; i++)
		buf_printf(&t, " || a");
	buf_printf(&t, "\n\nTEXT f(SB),0,$0\n");
	sig_of("a.s", t.data, 0, c1, s1);
	last = strstr(t.data, " || a\n");
	memcpy(last, " || b", 5);
	sig_of("a.s", t.data, 0, c2, s2);
	assert_string_not_equal(s1, s2);
	buf_release(&t);
	/* a long line that is no directive still does not count */
	sig_of("b.go", "package a\nvar X = 1 // x\n", 1, c1, s1);
	buf_init(&t, 1 << 20);
	buf_printf(&t, "package a\nvar X = 1 //");
	for (int i = 0; i < 2000; i++)
		buf_printf(&t, " xxxxx");
	buf_printf(&t, "\n");
	sig_of("b.go", t.data, 1, c2, s2);
	assert_string_equal(s1, s2);
	buf_release(&t);
}

static void test_gohead__missing_file_fails(void **state)
{
	(void)state;
	char c[65], s[65], *path = xasprintf("%s/none.go", unit_dir);
	assert_int_equal(gohead_file(path, 1, c, s), -1);
	assert_int_equal(gohead_file(path, 0, c, s), -1);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gohead__ends_before_first_declaration),
		cmocka_unit_test(test_gohead__comments_and_strings_do_not_end_it),
		cmocka_unit_test(test_gohead__what_does_not_scan_counts_whole),
		cmocka_unit_test(test_gohead__body_edits_keep_the_signature),
		cmocka_unit_test(test_gohead__other_files_count_their_constraints),
		cmocka_unit_test(test_gohead__long_directive_counts_whole),
		cmocka_unit_test(test_gohead__missing_file_fails),
	};
	return cmocka_run_group_tests(tests, unit_setup, unit_teardown);
}
