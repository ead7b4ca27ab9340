/* binfmt.h - just enough of ELF, PE/COFF and Mach-O to name the section a
 * file offset falls in, for explaining why two builds differ.
 *
 * Readers work on a file already in memory and never trust an offset or a
 * count from the file: every header and table is checked against the
 * buffer's length, counts are capped at BINFMT_MAX_SECTIONS, and a
 * malformed file yields fewer sections, never a crash.
 *
 * Supported: ELF32/ELF64, little and big endian (section headers); PE/COFF
 * (section table, long "/N" names from the COFF string table); Mach-O 64
 * little endian (segments and their sections, "__TEXT,__text").
 *
 * binfmt_deps reads what a binary needs at load time, for the static
 * check (static.h): ELF PT_INTERP and DT_NEEDED, PE import DLL names,
 * Mach-O LC_LOAD_DYLIB (and weak, re-export, lazy) names.
 *
 * binfmt_is_for tells whether a file's first bytes are a program for a
 * GOOS/GOARCH, for the action cache (actcache.h): a cached result is
 * published only when it is an executable of the job's platform.
 */
#ifndef XGO_BINFMT_H
#define XGO_BINFMT_H

#include <stddef.h>
#include <stdint.h>

#define BINFMT_MAX_SECTIONS 1024

struct binfmt_section {
	char name[40];     /* ".text", "__TEXT,__text", "__LINKEDIT" */
	uint64_t offset;   /* file offset */
	uint64_t size;     /* bytes in the file (0 for .bss-like sections) */
};

/* "elf", "pe", "macho" or NULL when the bytes are none of them. */
const char *binfmt_kind(const unsigned char *d, size_t n);

/* The sections of d, at most max, in file order of the tables.  Returns
 * how many were stored, or -1 when d is not a supported format. */
int binfmt_sections(const unsigned char *d, size_t n, struct binfmt_section *out, size_t max);

/* The smallest section whose file range holds off: 1 found, 0 not (a
 * gap, or an unknown format).  An offset before every section is in the
 * headers: *out is then "(headers)" from 0 to the first section. */
int binfmt_section_at(const unsigned char *d, size_t n, uint64_t off, struct binfmt_section *out);

/* The section called name: 1 found (its range lies inside d), 0 not. */
int binfmt_section_named(const unsigned char *d, size_t n, const char *name, struct binfmt_section *out);

#define BINFMT_MAX_DEPS 64
#define BINFMT_DEP_NAME 256

struct binfmt_deps {
	char interp[BINFMT_DEP_NAME];  /* ELF PT_INTERP; "" when none */
	char needed[BINFMT_MAX_DEPS][BINFMT_DEP_NAME]; /* DT_NEEDED / DLL / dylib names */
	size_t n;                      /* names stored (at most BINFMT_MAX_DEPS) */
};

/* What d needs from the system to load.  Returns 0, or -1 when d is not a
 * supported format.  A malformed table yields fewer names, never a crash. */
int binfmt_deps(const unsigned char *d, size_t n, struct binfmt_deps *out);

/* Enough of a file's start for binfmt_is_for (Go puts every header it
 * reads well inside it). */
#define BINFMT_HEAD_MAX 4096

/* Is d (a file's first bytes) an executable for goos/goarch?  1 yes, 0 no;
 * what gets what d is ("elf/amd64", "pe/arm64", "no executable").  A goos
 * with no known format (a port newer than this table) is 1 when d is any
 * executable: the caller's other checks still hold.  ELF's byte order and
 * class pick between ppc64/ppc64le and the mips variants; a linux or
 * android ELF must not be marked for another system (EI_OSABI). */
int binfmt_is_for(const unsigned char *d, size_t n, const char *goos, const char *goarch, char *what, size_t size);

#endif
