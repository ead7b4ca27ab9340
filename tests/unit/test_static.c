/* Unit tests for orchestrator/static and binfmt_deps: the machine's own
 * dynamic /bin/sh, hand-made static ELF and Mach-O images, hostile bytes. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/binfmt.h"
#include "orchestrator/static.h"
#include "base/util.h"

static void put(unsigned char *d, size_t off, uint64_t v, int width)
{
	for (int i = 0; i < width; i++)
		d[off + (size_t)i] = (unsigned char)(v >> (8 * i));
}

static void test_static__dynamic_system_binary_names_its_loader_and_libc(void **state)
{
	(void)state;
	char why[512] = "";
	int rc = static_check_file("/bin/sh", NULL, why, sizeof(why));
	assert_int_equal(rc, 0);
	assert_non_null(strstr(why, "PT_INTERP"));
	assert_non_null(strstr(why, "libc.so")); /* the DT_NEEDED library, by name */
	struct binfmt_deps deps;
	size_t n;
	unsigned char *d = (unsigned char *)read_file("/bin/sh", 1 << 28, &n);
	assert_non_null(d);
	assert_int_equal(binfmt_deps(d, n, &deps), 0);
	assert_true(deps.interp[0] == '/');
	assert_true(deps.n >= 1);
	free(d);
}

/* An ELF64 executable with one PT_LOAD and nothing else: static. */
static void test_static__elf_without_interp_or_needed_is_static(void **state)
{
	(void)state;
	unsigned char d[0x200] = { 0 };
	char why[256] = "";
	memcpy(d, "\x7f" "ELF", 4);
	d[4] = 2;
	d[5] = 1;
	put(d, 0x20, 0x40, 8); /* phoff */
	put(d, 0x36, 56, 2);   /* phentsize */
	put(d, 0x38, 1, 2);    /* phnum */
	put(d, 0x40, 1, 4);    /* PT_LOAD */
	put(d, 0x40 + 32, sizeof(d), 8);
	assert_int_equal(static_check_bytes(d, sizeof(d), NULL, why, sizeof(why)), 1);
	/* the same with a PT_INTERP: dynamic */
	put(d, 0x38, 2, 2);
	put(d, 0x78, 3, 4);
	put(d, 0x78 + 8, 0x100, 8);
	put(d, 0x78 + 32, 28, 8);
	memcpy(d + 0x100, "/lib/ld-musl-x86_64.so.1", 25);
	assert_int_equal(static_check_bytes(d, sizeof(d), NULL, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "/lib/ld-musl-x86_64.so.1"));
}

/* OpenBSD's loader is the system's there (Go links libc with cgo off),
 * and nowhere else; another port's loader is not OpenBSD's. */
static void test_static__port_loaders_count_only_on_their_port(void **state)
{
	(void)state;
	unsigned char d[0x200] = { 0 };
	char why[256] = "";
	memcpy(d, "\x7f" "ELF", 4);
	d[4] = 2;
	d[5] = 1;
	put(d, 0x20, 0x40, 8);
	put(d, 0x36, 56, 2);
	put(d, 0x38, 2, 2);
	put(d, 0x40, 1, 4);
	put(d, 0x40 + 32, sizeof(d), 8);
	put(d, 0x78, 3, 4);
	put(d, 0x78 + 8, 0x100, 8);
	put(d, 0x78 + 32, 19, 8);
	memcpy(d + 0x100, "/usr/libexec/ld.so", 19);
	assert_int_equal(static_check_bytes(d, sizeof(d), "openbsd", why, sizeof(why)), 1);
	assert_int_equal(static_check_bytes(d, sizeof(d), "linux", why, sizeof(why)), 0);
	assert_int_equal(static_check_bytes(d, sizeof(d), NULL, why, sizeof(why)), 0);
	memcpy(d + 0x100, "/system/bin/linker64", 21);
	put(d, 0x78 + 32, 21, 8);
	assert_int_equal(static_check_bytes(d, sizeof(d), "android", why, sizeof(why)), 1);
	assert_int_equal(static_check_bytes(d, sizeof(d), "openbsd", why, sizeof(why)), 0);
	assert_non_null(strstr(why, "/system/bin/linker64"));
}

/* A Mach-O 64 image with one LC_LOAD_DYLIB of name. */
static size_t make_macho(unsigned char *d, size_t size, const char *name)
{
	memset(d, 0, size);
	memcpy(d, "\xcf\xfa\xed\xfe", 4);
	put(d, 16, 1, 4);        /* ncmds */
	put(d, 32, 0xc, 4);      /* LC_LOAD_DYLIB */
	put(d, 36, 24 + 64, 4);  /* cmdsize */
	put(d, 40, 24, 4);       /* name offset */
	memcpy(d + 32 + 24, name, strlen(name) + 1);
	return 32 + 24 + 64;
}

static void test_static__macho_allows_only_system_libraries(void **state)
{
	(void)state;
	unsigned char d[256];
	char why[256] = "";
	size_t n = make_macho(d, sizeof(d), "/usr/lib/libSystem.B.dylib");
	assert_int_equal(static_check_bytes(d, n, NULL, why, sizeof(why)), 1);
	n = make_macho(d, sizeof(d), "/opt/homebrew/lib/libsqlite3.dylib");
	assert_int_equal(static_check_bytes(d, n, NULL, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "/opt/homebrew/lib/libsqlite3.dylib"));
}

static void test_static__hostile_and_truncated_images_never_crash(void **state)
{
	(void)state;
	size_t n;
	char why[256];
	unsigned char *sh = (unsigned char *)read_file("/bin/sh", 1 << 28, &n);
	assert_non_null(sh);
	for (size_t cut = 0; cut < n && cut < 0x4000; cut += 7)
		static_check_bytes(sh, cut, NULL, why, sizeof(why));
	free(sh);
	unsigned char d[0x400];
	srand(11);
	for (int round = 0; round < 3000; round++) {
		for (size_t i = 0; i < sizeof(d); i++)
			d[i] = (unsigned char)rand();
		const char *magic[] = { "\x7f" "ELF", "MZ", "\xcf\xfa\xed\xfe" };
		memcpy(d, magic[round % 3], strlen(magic[round % 3]));
		if (round % 3 == 1) {
			put(d, 0x3c, (unsigned)rand() % 0x300, 4);
			memcpy(d + (d[0x3c] | (d[0x3d] << 8)) % 0x300, "PE\0\0", 4);
		}
		static_check_bytes(d, sizeof(d), NULL, why, sizeof(why));
	}
	assert_int_equal(static_check_bytes((const unsigned char *)"#!/bin/sh\n", 10, NULL, why, sizeof(why)), -1);
}

int main(void)
{
	error_quiet(1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_static__dynamic_system_binary_names_its_loader_and_libc),
		cmocka_unit_test(test_static__elf_without_interp_or_needed_is_static),
		cmocka_unit_test(test_static__port_loaders_count_only_on_their_port),
		cmocka_unit_test(test_static__macho_allows_only_system_libraries),
		cmocka_unit_test(test_static__hostile_and_truncated_images_never_crash),
	};
	return cmocka_run_group_tests_name("static", tests, NULL, NULL);
}
