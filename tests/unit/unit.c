/* The unit tests' shared setup and teardown (unit.h). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "matrix/ports.h"
#include "orchestrator/plan.h"
#include "base/util.h"
#include "tests/unit/unit.h"

char unit_dir[UNIT_DIR_MAX];
const char *unit_group = "test";

int unit_setup(void **state)
{
	(void)state;
	error_quiet(1);
	if (snprintf(unit_dir, sizeof(unit_dir), "/tmp/xgo-unit-%s.XXXXXX", unit_group) >= (int)sizeof(unit_dir))
		return -1;
	return mkdtemp(unit_dir) ? 0 : -1;
}

int unit_teardown(void **state)
{
	(void)state;
	if (!unit_dir[0])
		return 0;
	int rc = remove_tree(unit_dir);
	unit_dir[0] = '\0';
	return rc;
}

char *unit_path(const char *rel)
{
	assert_true(unit_dir[0]);
	return xasprintf("%s/%s", unit_dir, rel);
}

void unit_mkdir(const char *rel)
{
	char *path = unit_path(rel);
	assert_int_equal(mkdir_p(path, 0755), 0);
	free(path);
}

void unit_write(const char *rel, const char *text, int mode)
{
	char *path = unit_path(rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	assert_int_equal(mkdir_p(path, 0755), 0);
	*slash = '/';
	assert_int_equal(write_file_atomic(path, text, strlen(text), mode), 0);
	free(path);
}

int unit_plan(const char *text, struct release *r, struct plan *p)
{
	unit_write("release.lua", text, 0644);
	char *file = unit_path("release.lua");
	struct port_table ports;
	ports_builtin(&ports);
	assert_int_equal(plan_load(file, r), 0);
	int rc = plan_make(r, &ports, p);
	ports_release(&ports);
	free(file);
	return rc;
}

char *unit_lines(const struct strv *v)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < v->n; i++)
		assert_int_equal(buf_printf(&b, "%s\n", v->v[i]), 0);
	char *s = xstrdup(b.len ? b.data : "");
	buf_release(&b);
	return s;
}
