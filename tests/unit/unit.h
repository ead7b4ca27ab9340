/* unit.h - what the unit tests share: one private directory per test group.
 *
 * Pass unit_setup and unit_teardown (or a setup that calls unit_setup
 * first) to cmocka_run_group_tests_name.  unit_setup makes unit_dir, a
 * fresh directory /tmp/xgo-unit-<group>.XXXXXX of mode 0700, and turns
 * error() output off (the tests read error_last()); unit_teardown removes
 * unit_dir with everything in it.  The helpers below fail the test (cmocka
 * assertions) instead of returning errors.  Include after <cmocka.h>.
 */
#ifndef XGO_TESTS_UNIT_H
#define XGO_TESTS_UNIT_H

#define UNIT_DIR_MAX 64
extern char unit_dir[UNIT_DIR_MAX];

/* The group's name in unit_dir's name (default "test"); set before unit_setup. */
extern const char *unit_group;

int unit_setup(void **state);
int unit_teardown(void **state);
/* A test with a fresh unit_dir of its own. */
#define UNIT_TEST(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)

/* unit_dir "/" rel (owned by the caller). */
char *unit_path(const char *rel);

/* Write text to unit_dir/rel with mode, making its parent directories. */
void unit_write(const char *rel, const char *text, int mode);

/* Make unit_dir/rel and its parents. */
void unit_mkdir(const char *rel);

/* text as unit_dir/release.lua, loaded with plan_load (which must succeed)
 * and planned on the built-in port table: plan_make's result. */
struct release;
struct plan;
int unit_plan(const char *text, struct release *r, struct plan *p);

/* The strings of v, each followed by a newline, as one string (owned). */
struct strv;
char *unit_lines(const struct strv *v);

#endif
