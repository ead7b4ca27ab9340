/* Unit tests for base/binfmt: hand-made ELF, PE and Mach-O images,
 * plus truncated and hostile ones. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/binfmt.h"
#include "base/util.h"

static void put(unsigned char *d, size_t off, uint64_t v, int width, int be)
{
	for (int i = 0; i < width; i++)
		d[off + (size_t)(be ? width - 1 - i : i)] = (unsigned char)(v >> (8 * i));
}

/* An ELF image: sections "" (null), .text at 0x100 (0x80 bytes),
 * .shstrtab at 0x200, .bss (NOBITS), headers at 0x300. */
static size_t make_elf(unsigned char *d, int is64, int be)
{
	memset(d, 0, 0x400);
	memcpy(d, "\x7f" "ELF", 4);
	d[4] = is64 ? 2 : 1;
	d[5] = be ? 2 : 1;
	const char strtab[] = "\0.text\0.shstrtab\0.bss";
	memcpy(d + 0x200, strtab, sizeof(strtab));
	size_t ent = is64 ? 0x40 : 0x28, shoff = 0x300;
	put(d, is64 ? 0x28 : 0x20, shoff, is64 ? 8 : 4, be);
	put(d, is64 ? 0x3a : 0x2e, ent, 2, be);
	put(d, is64 ? 0x3c : 0x30, 4, 2, be);
	put(d, is64 ? 0x3e : 0x32, 2, 2, be);
	struct { uint32_t name, type; uint64_t off, size; } s[4] = {
		{ 0, 0, 0, 0 }, { 1, 1, 0x100, 0x80 }, { 7, 3, 0x200, sizeof(strtab) }, { 17, 8, 0x180, 0x1000 },
	};
	for (int i = 0; i < 4; i++) {
		size_t h = shoff + (size_t)i * ent;
		put(d, h, s[i].name, 4, be);
		put(d, h + 4, s[i].type, 4, be);
		put(d, h + (is64 ? 0x18 : 0x10), s[i].off, is64 ? 8 : 4, be);
		put(d, h + (is64 ? 0x20 : 0x14), s[i].size, is64 ? 8 : 4, be);
	}
	return shoff + 4 * ent;
}

static void check_elf(int is64, int be)
{
	unsigned char d[0x400];
	size_t n = make_elf(d, is64, be);
	struct binfmt_section s;
	assert_string_equal(binfmt_kind(d, n), "elf");
	assert_int_equal(binfmt_section_at(d, n, 0x120, &s), 1);
	assert_string_equal(s.name, ".text");
	assert_int_equal(s.offset, 0x100);
	assert_int_equal(binfmt_section_at(d, n, 0x10, &s), 1);
	assert_string_equal(s.name, "(headers)");
	assert_int_equal(binfmt_section_at(d, n, 0x190, &s), 0); /* .bss has no file bytes */
	assert_int_equal(binfmt_section_named(d, n, ".shstrtab", &s), 1);
	assert_int_equal(s.offset, 0x200);
}

static void test_binfmt__elf_all_classes_and_byte_orders(void **state)
{
	(void)state;
	check_elf(1, 0);
	check_elf(1, 1);
	check_elf(0, 0);
	check_elf(0, 1);
}

static void test_binfmt__pe_sections_and_long_names(void **state)
{
	(void)state;
	unsigned char d[0x600];
	memset(d, 0, sizeof(d));
	d[0] = 'M';
	d[1] = 'Z';
	put(d, 0x3c, 0x80, 4, 0);
	memcpy(d + 0x80, "PE\0\0", 4);
	put(d, 0x80 + 6, 2, 2, 0);            /* sections */
	put(d, 0x80 + 12, 0x500, 4, 0);       /* symbol table */
	put(d, 0x80 + 16, 0, 4, 0);           /* no symbols: strings right there */
	put(d, 0x80 + 20, 0xf0, 2, 0);        /* optional header size */
	size_t table = 0x80 + 24 + 0xf0;
	memcpy(d + table, ".text", 5);
	put(d, table + 16, 0x100, 4, 0);
	put(d, table + 20, 0x200, 4, 0);
	memcpy(d + table + 40, "/4", 2);
	put(d, table + 40 + 16, 0x80, 4, 0);
	put(d, table + 40 + 20, 0x400, 4, 0);
	put(d, 0x500, 20, 4, 0);              /* string table size */
	memcpy(d + 0x504, ".go.buildinfo", 14);
	struct binfmt_section s;
	assert_string_equal(binfmt_kind(d, sizeof(d)), "pe");
	assert_int_equal(binfmt_section_at(d, sizeof(d), 0x2ff, &s), 1);
	assert_string_equal(s.name, ".text");
	assert_int_equal(binfmt_section_at(d, sizeof(d), 0x410, &s), 1);
	assert_string_equal(s.name, ".go.buildinfo");
}

static void test_binfmt__macho_segments_and_sections(void **state)
{
	(void)state;
	unsigned char d[0x400];
	memset(d, 0, sizeof(d));
	memcpy(d, "\xcf\xfa\xed\xfe", 4);
	put(d, 16, 1, 4, 0);                  /* one load command */
	size_t c = 32;
	put(d, c, 0x19, 4, 0);
	put(d, c + 4, 72 + 80, 4, 0);
	memcpy(d + c + 8, "__TEXT", 6);
	put(d, c + 40, 0, 8, 0);
	put(d, c + 48, 0x400, 8, 0);
	put(d, c + 64, 1, 4, 0);
	size_t h = c + 72;
	memcpy(d + h, "__text", 6);
	memcpy(d + h + 16, "__TEXT", 6);
	put(d, h + 40, 0x100, 8, 0);
	put(d, h + 48, 0x200, 4, 0);
	struct binfmt_section s;
	assert_string_equal(binfmt_kind(d, sizeof(d)), "macho");
	assert_int_equal(binfmt_section_at(d, sizeof(d), 0x250, &s), 1);
	assert_string_equal(s.name, "__TEXT,__text");
	assert_int_equal(binfmt_section_at(d, sizeof(d), 0x350, &s), 1);
	assert_string_equal(s.name, "__TEXT"); /* only the segment holds it */
}

static void test_binfmt__hostile_and_truncated_images_never_crash(void **state)
{
	(void)state;
	unsigned char d[0x400];
	struct binfmt_section s;
	size_t n = make_elf(d, 1, 0);
	/* every truncation of a valid image */
	for (size_t len = 0; len <= n; len++) {
		unsigned char *copy = malloc(len ? len : 1);
		memcpy(copy, d, len);
		binfmt_section_at(copy, len, 0x120, &s);
		binfmt_section_named(copy, len, ".text", &s);
		free(copy);
	}
	/* absurd offsets and counts */
	put(d, 0x28, UINT64_MAX - 8, 8, 0);
	assert_int_equal(binfmt_section_at(d, n, 0x120, &s), 0);
	make_elf(d, 1, 0);
	put(d, 0x3c, 0xffff, 2, 0);
	assert_int_equal(binfmt_section_at(d, n, 0x120, &s), 0);
	make_elf(d, 1, 0);
	put(d, 0x300 + 0x40 + 0x18, UINT64_MAX, 8, 0); /* .text offset */
	assert_int_equal(binfmt_section_at(d, n, 0x120, &s), 1);
	assert_string_not_equal(s.name, ".text");
	/* random bytes behind each magic */
	srand(7);
	for (int round = 0; round < 2000; round++) {
		for (size_t i = 0; i < sizeof(d); i++)
			d[i] = (unsigned char)rand();
		const char *magic[] = { "\x7f" "ELF", "MZ", "\xcf\xfa\xed\xfe" };
		memcpy(d, magic[round % 3], strlen(magic[round % 3]));
		if (round % 3 == 1)
			put(d, 0x3c, (unsigned)rand() % 0x400, 4, 0);
		binfmt_section_at(d, sizeof(d), (uint64_t)(rand() % 0x400), &s);
	}
	assert_null(binfmt_kind((const unsigned char *)"#!/bin/sh\n", 10));
}

int main(void)
{
	error_quiet(1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binfmt__elf_all_classes_and_byte_orders),
		cmocka_unit_test(test_binfmt__pe_sections_and_long_names),
		cmocka_unit_test(test_binfmt__macho_segments_and_sections),
		cmocka_unit_test(test_binfmt__hostile_and_truncated_images_never_crash),
	};
	return cmocka_run_group_tests_name("binfmt", tests, NULL, NULL);
}
