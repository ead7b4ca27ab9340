/* Unit tests for matrix/ (expansion, include/exclude, validation). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "matrix/matrix.h"

/* dim(set, "goos", "linux,darwin") — values comma separated; "true"/"false"
 * are booleans for cgo. */
static void dim(struct mx_set *s, const char *key, const char *vals)
{
	s->dims = xreallocarray(s->dims, s->ndims + 1, sizeof(*s->dims));
	struct mx_dim *d = &s->dims[s->ndims++];
	memset(d, 0, sizeof(*d));
	d->key = xstrdup(key);
	char *copy = xstrdup(vals), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		strv_push(&d->vals, t);
		if (!strcmp(t, "true") || !strcmp(t, "false"))
			d->has_bool = 1;
		else
			d->has_string = 1;
	}
	free(copy);
}

static struct mx_set *add_set(struct mx_set **v, size_t *n)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	memset(&(*v)[*n], 0, sizeof(**v));
	(*v)[*n].line = 20 + (int)*n;
	return &(*v)[(*n)++];
}

static void free_set(struct mx_set *s)
{
	for (size_t i = 0; i < s->ndims; i++) {
		free(s->dims[i].key);
		strv_release(&s->dims[i].vals);
	}
	free(s->dims);
}

static void free_spec(struct mx_spec *m)
{
	free_set(&m->base);
	for (size_t i = 0; i < m->ninclude; i++)
		free_set(&m->include[i]);
	for (size_t i = 0; i < m->nexclude; i++)
		free_set(&m->exclude[i]);
	free(m->include);
	free(m->exclude);
}

/* The expansion as "id id id" for compact assertions. */
static char *expand(struct mx_spec *m, int *rc)
{
	struct port_table ports;
	struct target_list l;
	char buf[4096] = "", id[64];
	ports_builtin(&ports);
	*rc = mx_expand(m, &ports, "release.lua", &l);
	ports_release(&ports);
	if (*rc < 0)
		return NULL;
	for (size_t i = 0; i < l.n; i++) {
		target_id(&l.v[i], id, sizeof(id));
		strcat(buf, i ? " " : "");
		strcat(buf, id);
	}
	mx_list_release(&l);
	return xstrdup(buf);
}

static void check(struct mx_spec *m, const char *want)
{
	int rc;
	char *got = expand(m, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(got, want);
	free(got);
	free_spec(m);
}

static void check_error(struct mx_spec *m, const char *want)
{
	int rc;
	char *got = expand(m, &rc);
	assert_int_equal(rc, -1);
	assert_null(got);
	if (!strstr(error_last(), want))
		fail_msg("error '%s' lacks '%s'", error_last(), want);
	free_spec(m);
}

static void test_matrix__cartesian_in_written_order(void **state)
{
	(void)state;
	struct mx_spec m = { .line = 3, .base.line = 3 };
	dim(&m.base, "goos", "windows,linux");
	dim(&m.base, "goarch", "arm64,amd64");
	check(&m, "windows/arm64 windows/amd64 linux/arm64 linux/amd64");
}

static void test_matrix__skips_combinations_that_are_no_port(void **state)
{
	(void)state;
	struct mx_spec m = { .line = 3, .base.line = 3 };
	struct port_table ports;
	struct target_list l;
	dim(&m.base, "goos", "darwin,linux");
	dim(&m.base, "goarch", "386");
	ports_builtin(&ports);
	assert_int_equal(mx_expand(&m, &ports, "release.lua", &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].goos, "linux");
	assert_int_equal(l.skipped.n, 1);
	assert_string_equal(l.skipped.v[0], "darwin/386");
	mx_list_release(&l);
	ports_release(&ports);
	free_spec(&m);
}

static void test_matrix__variant_is_explicit_or_default(void **state)
{
	(void)state;
	struct mx_spec m = { .line = 3, .base.line = 3 };
	struct port_table ports;
	struct target_list l;
	dim(&m.base, "goos", "linux");
	dim(&m.base, "goarch", "amd64,arm,riscv64");
	dim(&m.base, "goarm", "6,7");
	ports_builtin(&ports);
	assert_int_equal(mx_expand(&m, &ports, "release.lua", &l), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[0].vkey, "GOAMD64");
	assert_string_equal(l.v[0].vval, "v1");
	assert_false(l.v[0].vexplicit);
	assert_string_equal(l.v[1].vval, "6");
	assert_true(l.v[1].vexplicit);
	assert_string_equal(l.v[3].vkey, "GORISCV64");
	assert_string_equal(l.v[3].vval, "rva20u64");
	char suffix[32];
	target_variant_suffix(&l.v[1], suffix, sizeof(suffix));
	assert_string_equal(suffix, "v6");
	target_variant_suffix(&l.v[0], suffix, sizeof(suffix));
	assert_string_equal(suffix, "");
	mx_list_release(&l);
	ports_release(&ports);
	free_spec(&m);
}

static void test_matrix__exclude_then_include(void **state)
{
	(void)state;
	struct mx_spec m = { .line = 3, .base.line = 3 };
	dim(&m.base, "goos", "linux,freebsd");
	dim(&m.base, "goarch", "amd64,arm64");
	struct mx_set *x = add_set(&m.exclude, &m.nexclude);
	dim(x, "goos", "freebsd");
	dim(x, "goarch", "arm64");
	struct mx_set *in = add_set(&m.include, &m.ninclude);
	dim(in, "goos", "freebsd");
	dim(in, "goarch", "arm64");
	/* exclude runs first, so the include brings the target back, at the end */
	check(&m, "linux/amd64 linux/arm64 freebsd/amd64 freebsd/arm64");
}

static void test_matrix__include_adds_and_deduplicates(void **state)
{
	(void)state;
	struct mx_spec m = { .line = 3, .base.line = 3 };
	dim(&m.base, "goos", "linux");
	dim(&m.base, "goarch", "amd64");
	struct mx_set *in = add_set(&m.include, &m.ninclude);
	dim(in, "goos", "linux");
	dim(in, "goarch", "amd64,arm");
	dim(in, "goarm", "6,7");
	check(&m, "linux/amd64 linux/arm/6 linux/arm/7");
}

static void test_matrix__include_extends_matching_target(void **state)
{
	(void)state;
	struct mx_spec m = { .line = 3, .base.line = 3 };
	dim(&m.base, "goos", "linux,freebsd");
	dim(&m.base, "goarch", "arm,amd64");
	/* names no goos: extends every arm target in place */
	struct mx_set *in = add_set(&m.include, &m.ninclude);
	dim(in, "goarch", "arm");
	dim(in, "goarm", "6,7");
	/* names goos+goarch with an explicit variant: replaces the default one */
	struct mx_set *in2 = add_set(&m.include, &m.ninclude);
	dim(in2, "goos", "linux");
	dim(in2, "goarch", "amd64");
	dim(in2, "goamd64", "v1,v3");
	check(&m, "linux/arm/6 linux/arm/7 linux/amd64/v1 linux/amd64/v3 freebsd/arm/6 freebsd/arm/7 freebsd/amd64");
}

static void test_matrix__cgo_dimension(void **state)
{
	(void)state;
	struct mx_spec m = { .line = 3, .base.line = 3 };
	dim(&m.base, "goos", "linux");
	dim(&m.base, "goarch", "amd64");
	dim(&m.base, "cgo", "false,true");
	check(&m, "linux/amd64 linux/amd64+cgo");
}

static void test_matrix__exclude_by_variant(void **state)
{
	(void)state;
	struct mx_spec m = { .line = 3, .base.line = 3 };
	dim(&m.base, "goos", "linux");
	dim(&m.base, "goarch", "arm,amd64");
	dim(&m.base, "goarm", "5,6,7");
	struct mx_set *x = add_set(&m.exclude, &m.nexclude);
	dim(x, "goarm", "5");
	check(&m, "linux/arm/6 linux/arm/7 linux/amd64");
}

static void test_matrix__unknown_goos_suggests(void **state)
{
	(void)state;
	struct mx_spec m = { .line = 7, .base.line = 7 };
	dim(&m.base, "goos", "linus");
	dim(&m.base, "goarch", "amd64");
	check_error(&m, "release.lua:7: unknown goos 'linus' (did you mean 'linux'?)");
}

static void test_matrix__unknown_goarch_and_key(void **state)
{
	(void)state;
	struct mx_spec m = { .line = 7, .base.line = 7 };
	dim(&m.base, "goos", "linux");
	dim(&m.base, "goarch", "amd46");
	check_error(&m, "unknown goarch 'amd46' (did you mean 'amd64'?)");
	struct mx_spec m2 = { .line = 7, .base.line = 7 };
	dim(&m2.base, "goos", "linux");
	dim(&m2.base, "goarch", "amd64");
	dim(&m2.base, "gorm", "7");
	check_error(&m2, "unknown key 'gorm' (did you mean 'goarm'?)");
}

static void test_matrix__cgo_on_port_without_cgo(void **state)
{
	(void)state;
	struct mx_spec m = { .line = 7, .base.line = 7 };
	dim(&m.base, "goos", "js");
	dim(&m.base, "goarch", "wasm");
	dim(&m.base, "cgo", "true");
	check_error(&m, "cgo is not supported on js/wasm");
}

static void test_matrix__variant_on_wrong_arch(void **state)
{
	(void)state;
	struct mx_spec m = { .line = 7, .base.line = 7 };
	dim(&m.base, "goos", "linux");
	dim(&m.base, "goarch", "amd64");
	dim(&m.base, "goarm", "7");
	check_error(&m, "goarm applies to goarch arm only");
	struct mx_spec m2 = { .line = 7, .base.line = 7 };
	dim(&m2.base, "goos", "linux");
	dim(&m2.base, "goarch", "amd64");
	dim(&m2.base, "goamd64", "v5");
	check_error(&m2, "goamd64 'v5' is not a valid GOAMD64");
}

static void test_matrix__include_of_no_port_is_an_error(void **state)
{
	(void)state;
	struct mx_spec m = { .line = 7, .base.line = 7 };
	dim(&m.base, "goos", "linux");
	dim(&m.base, "goarch", "amd64");
	struct mx_set *in = add_set(&m.include, &m.ninclude);
	dim(in, "goos", "darwin");
	dim(in, "goarch", "386");
	check_error(&m, "release.lua:20: include: darwin/386 is not a Go port");
}

static void test_matrix__everything_excluded_is_an_error(void **state)
{
	(void)state;
	struct mx_spec m = { .line = 7, .base.line = 7 };
	dim(&m.base, "goos", "linux");
	dim(&m.base, "goarch", "amd64");
	struct mx_set *x = add_set(&m.exclude, &m.nexclude);
	dim(x, "goos", "linux");
	check_error(&m, "expands to no target");
}

static void test_matrix__ports_from_json(void **state)
{
	(void)state;
	const char *js = "[{\"GOOS\":\"linux\",\"GOARCH\":\"amd64\",\"CgoSupported\":true,\"FirstClass\":true},"
			 "{\"GOOS\":\"plan9\",\"GOARCH\":\"386\",\"CgoSupported\":false,\"FirstClass\":false}]";
	struct port_table t;
	assert_int_equal(ports_from_json(js, strlen(js), &t), 0);
	assert_int_equal(t.n, 2);
	const struct port *p = ports_find(&t, "plan9", "386");
	assert_non_null(p);
	assert_false(p->cgo);
	assert_true(ports_find(&t, "linux", "amd64")->first_class);
	ports_release(&t);
	assert_int_equal(ports_from_json("{}", 2, &t), -1);
	assert_int_equal(ports_from_json("[{\"GOOS\":1}]", 12, &t), -1);
}

int main(void)
{
	error_quiet(1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix__cartesian_in_written_order),
		cmocka_unit_test(test_matrix__skips_combinations_that_are_no_port),
		cmocka_unit_test(test_matrix__variant_is_explicit_or_default),
		cmocka_unit_test(test_matrix__exclude_then_include),
		cmocka_unit_test(test_matrix__include_adds_and_deduplicates),
		cmocka_unit_test(test_matrix__include_extends_matching_target),
		cmocka_unit_test(test_matrix__cgo_dimension),
		cmocka_unit_test(test_matrix__exclude_by_variant),
		cmocka_unit_test(test_matrix__unknown_goos_suggests),
		cmocka_unit_test(test_matrix__unknown_goarch_and_key),
		cmocka_unit_test(test_matrix__cgo_on_port_without_cgo),
		cmocka_unit_test(test_matrix__variant_on_wrong_arch),
		cmocka_unit_test(test_matrix__include_of_no_port_is_an_error),
		cmocka_unit_test(test_matrix__everything_excluded_is_an_error),
		cmocka_unit_test(test_matrix__ports_from_json),
	};
	return cmocka_run_group_tests_name("matrix", tests, NULL, NULL);
}
