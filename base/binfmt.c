/* binfmt.c - section tables of ELF, PE/COFF and Mach-O (see binfmt.h). */
#include "binfmt.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A bounded view of the file: every read checks the range first. */
struct view {
	const unsigned char *d;
	size_t n;
	int be; /* big endian */
};

static int in_range(const struct view *v, uint64_t off, uint64_t len)
{
	return off <= v->n && len <= v->n - off;
}

static uint64_t rd(const struct view *v, uint64_t off, int width)
{
	uint64_t x = 0;
	if (!in_range(v, off, (uint64_t)width))
		return 0;
	for (int i = 0; i < width; i++) {
		int k = v->be ? i : width - 1 - i;
		x = (x << 8) | v->d[off + (uint64_t)k];
	}
	return x;
}

/* Copy a name of at most len bytes (not necessarily NUL-terminated). */
static void set_name(struct binfmt_section *s, const unsigned char *p, size_t len)
{
	size_t k = 0;
	while (k < len && k < sizeof(s->name) - 1 && p[k])
		k++;
	memcpy(s->name, p, k);
	s->name[k] = '\0';
}

/* A NUL-terminated name at off inside [tab, tab+tablen). */
static void set_name_at(struct binfmt_section *s, const struct view *v, uint64_t tab, uint64_t tablen,
			uint64_t off)
{
	s->name[0] = '\0';
	if (!in_range(v, tab, tablen) || off >= tablen)
		return;
	set_name(s, v->d + tab + off, (size_t)(tablen - off));
}

static int elf_sections(const struct view *v0, struct binfmt_section *out, size_t max)
{
	struct view v = *v0;
	int is64 = v.d[4] == 2;
	v.be = v.d[5] == 2;
	if ((v.d[4] != 1 && v.d[4] != 2) || (v.d[5] != 1 && v.d[5] != 2))
		return -1;
	uint64_t shoff = is64 ? rd(&v, 0x28, 8) : rd(&v, 0x20, 4);
	uint64_t entsize = is64 ? rd(&v, 0x3a, 2) : rd(&v, 0x2e, 2);
	uint64_t shnum = is64 ? rd(&v, 0x3c, 2) : rd(&v, 0x30, 2);
	uint64_t shstrndx = is64 ? rd(&v, 0x3e, 2) : rd(&v, 0x32, 2);
	uint64_t need = is64 ? 0x40 : 0x28;
	if (shnum == 0 || entsize < need || shnum > BINFMT_MAX_SECTIONS || !in_range(&v, shoff, shnum * entsize))
		return 0;
	uint64_t strtab = 0, strlen_ = 0;
	if (shstrndx < shnum) {
		uint64_t h = shoff + shstrndx * entsize;
		strtab = is64 ? rd(&v, h + 0x18, 8) : rd(&v, h + 0x10, 4);
		strlen_ = is64 ? rd(&v, h + 0x20, 8) : rd(&v, h + 0x14, 4);
	}
	size_t k = 0;
	for (uint64_t i = 0; i < shnum && k < max; i++) {
		uint64_t h = shoff + i * entsize;
		uint32_t type = (uint32_t)rd(&v, h + 4, 4);
		struct binfmt_section *s = &out[k++];
		set_name_at(s, &v, strtab, strlen_, rd(&v, h, 4));
		s->offset = is64 ? rd(&v, h + 0x18, 8) : rd(&v, h + 0x10, 4);
		s->size = type == 8 /* SHT_NOBITS */ ? 0 : is64 ? rd(&v, h + 0x20, 8) : rd(&v, h + 0x14, 4);
	}
	return (int)k;
}

static int pe_sections(const struct view *v, struct binfmt_section *out, size_t max)
{
	uint64_t pe = rd(v, 0x3c, 4);
	if (!in_range(v, pe, 24) || memcmp(v->d + pe, "PE\0\0", 4))
		return -1;
	uint64_t nsect = rd(v, pe + 6, 2);
	uint64_t symtab = rd(v, pe + 12, 4), nsyms = rd(v, pe + 16, 4);
	uint64_t table = pe + 24 + rd(v, pe + 20, 2);
	uint64_t strtab = symtab + nsyms * 18;
	uint64_t strsize = symtab ? rd(v, strtab, 4) : 0;
	if (nsect > BINFMT_MAX_SECTIONS)
		nsect = BINFMT_MAX_SECTIONS;
	size_t k = 0;
	for (uint64_t i = 0; i < nsect && k < max; i++) {
		uint64_t h = table + i * 40;
		if (!in_range(v, h, 40))
			break;
		struct binfmt_section *s = &out[k++];
		const unsigned char *nm = v->d + h;
		set_name(s, nm, 8);
		if (nm[0] == '/' && symtab) {
			/* "/123": the name lives in the COFF string table */
			unsigned long off = 0;
			for (int c = 1; c < 8 && nm[c] >= '0' && nm[c] <= '9'; c++)
				off = off * 10 + (unsigned long)(nm[c] - '0');
			set_name_at(s, v, strtab, strsize, off);
		}
		s->size = rd(v, h + 16, 4);
		s->offset = rd(v, h + 20, 4);
	}
	return (int)k;
}

static int is_zerofill(uint32_t flags)
{
	uint32_t type = flags & 0xff;
	return type == 0x1 || type == 0xc || type == 0x12; /* zerofill, gb_zerofill, thread_local_zerofill */
}

static int macho_sections(const struct view *v, struct binfmt_section *out, size_t max)
{
	uint64_t ncmds = rd(v, 16, 4), off = 32;
	size_t k = 0;
	for (uint64_t c = 0; c < ncmds && c < BINFMT_MAX_SECTIONS && k < max; c++) {
		uint64_t cmd = rd(v, off, 4), size = rd(v, off + 4, 4);
		if (size < 8 || !in_range(v, off, size))
			break;
		if (cmd == 0x19 && size >= 72) { /* LC_SEGMENT_64 */
			struct binfmt_section *seg = &out[k++];
			set_name(seg, v->d + off + 8, 16);
			seg->offset = rd(v, off + 40, 8);
			seg->size = rd(v, off + 48, 8);
			uint64_t nsects = rd(v, off + 64, 4);
			for (uint64_t i = 0; i < nsects && k < max; i++) {
				uint64_t h = off + 72 + i * 80;
				if (h + 80 > off + size)
					break;
				struct binfmt_section *s = &out[k++];
				char sect[17] = { 0 }, segn[17] = { 0 };
				memcpy(sect, v->d + h, 16);
				memcpy(segn, v->d + h + 16, 16);
				snprintf(s->name, sizeof(s->name), "%s,%s", segn, sect);
				s->offset = rd(v, h + 48, 4);
				s->size = is_zerofill((uint32_t)rd(v, h + 64, 4)) ? 0 : rd(v, h + 40, 8);
			}
		}
		off += size;
	}
	return (int)k;
}

const char *binfmt_kind(const unsigned char *d, size_t n)
{
	if (n >= 64 && !memcmp(d, "\x7f" "ELF", 4))
		return "elf";
	if (n >= 64 && d[0] == 'M' && d[1] == 'Z') {
		struct view v = { d, n, 0 };
		uint64_t pe = rd(&v, 0x3c, 4);
		if (in_range(&v, pe, 24) && !memcmp(d + pe, "PE\0\0", 4))
			return "pe";
	}
	if (n >= 32 && !memcmp(d, "\xcf\xfa\xed\xfe", 4))
		return "macho";
	return NULL;
}

int binfmt_sections(const unsigned char *d, size_t n, struct binfmt_section *out, size_t max)
{
	const char *kind = binfmt_kind(d, n);
	struct view v = { d, n, 0 };
	if (!kind)
		return -1;
	if (!strcmp(kind, "elf"))
		return elf_sections(&v, out, max);
	if (!strcmp(kind, "pe"))
		return pe_sections(&v, out, max);
	return macho_sections(&v, out, max);
}

int binfmt_section_at(const unsigned char *d, size_t n, uint64_t off, struct binfmt_section *out)
{
	struct binfmt_section *tab = xcalloc(BINFMT_MAX_SECTIONS, sizeof(*tab));
	int k = binfmt_sections(d, n, tab, BINFMT_MAX_SECTIONS);
	int best = -1;
	uint64_t lowest = UINT64_MAX;
	for (int i = 0; i < k; i++) {
		const struct binfmt_section *s = &tab[i];
		if (s->size && s->offset && s->offset < lowest)
			lowest = s->offset;
		if (s->size == 0 || off < s->offset || off - s->offset >= s->size)
			continue;
		if (best < 0 || s->size < tab[best].size)
			best = i;
	}
	if (best >= 0) {
		*out = tab[best];
	} else if (k > 0 && off < lowest && lowest != UINT64_MAX) {
		snprintf(out->name, sizeof(out->name), "(headers)");
		out->offset = 0;
		out->size = lowest;
		best = 0;
	}
	free(tab);
	return best >= 0;
}

int binfmt_section_named(const unsigned char *d, size_t n, const char *name, struct binfmt_section *out)
{
	struct binfmt_section *tab = xcalloc(BINFMT_MAX_SECTIONS, sizeof(*tab));
	int k = binfmt_sections(d, n, tab, BINFMT_MAX_SECTIONS), found = 0;
	for (int i = 0; i < k && !found; i++)
		if (!strcmp(tab[i].name, name) && tab[i].offset <= n && tab[i].size <= n - tab[i].offset) {
			*out = tab[i];
			found = 1;
		}
	free(tab);
	return found;
}

/* ---- load-time dependencies ---- */

/* Copy the NUL-terminated string at file offset off, when it lies in d. */
static void copy_str(const struct view *v, uint64_t off, char *out, size_t size)
{
	size_t k = 0;
	while (k + 1 < size && off + k < v->n && v->d[off + k])
		k++;
	if (off < v->n)
		memcpy(out, v->d + off, k);
	out[k] = '\0';
}

static void add_dep(struct binfmt_deps *out, const struct view *v, uint64_t off)
{
	if (out->n < BINFMT_MAX_DEPS && off < v->n)
		copy_str(v, off, out->needed[out->n++], BINFMT_DEP_NAME);
}

struct elf_hdr {
	int is64;
	uint64_t phoff, phent, phnum;
};

/* ELF program header i: type, file offset, virtual address, file size. */
static void elf_phdr(const struct view *v, const struct elf_hdr *h, uint64_t i, uint32_t *type, uint64_t *off,
		     uint64_t *vaddr, uint64_t *filesz)
{
	uint64_t p = h->phoff + i * h->phent;
	*type = (uint32_t)rd(v, p, 4);
	*off = h->is64 ? rd(v, p + 8, 8) : rd(v, p + 4, 4);
	*vaddr = h->is64 ? rd(v, p + 16, 8) : rd(v, p + 8, 4);
	*filesz = h->is64 ? rd(v, p + 32, 8) : rd(v, p + 16, 4);
}

/* The file offset of virtual address addr, through the PT_LOAD segments. */
static uint64_t elf_addr_off(const struct view *v, const struct elf_hdr *h, uint64_t addr)
{
	for (uint64_t i = 0; i < h->phnum; i++) {
		uint32_t type;
		uint64_t off, vaddr, filesz;
		elf_phdr(v, h, i, &type, &off, &vaddr, &filesz);
		if (type == 1 /* PT_LOAD */ && addr >= vaddr && addr - vaddr < filesz)
			return off + (addr - vaddr);
	}
	return UINT64_MAX;
}

static void elf_dynamic(const struct view *v, const struct elf_hdr *h, uint64_t off, uint64_t size,
			struct binfmt_deps *out)
{
	uint64_t ent = h->is64 ? 16 : 8, strtab = UINT64_MAX;
	if (!in_range(v, off, size))
		return;
	for (uint64_t p = off; p + ent <= off + size; p += ent) /* DT_STRTAB first: names point into it */
		if (rd(v, p, ent / 2) == 5)
			strtab = elf_addr_off(v, h, rd(v, p + ent / 2, ent / 2));
	for (uint64_t p = off; p + ent <= off + size; p += ent) {
		uint64_t tag = rd(v, p, ent / 2), val = rd(v, p + ent / 2, ent / 2);
		if (tag == 0)
			break;
		if (tag == 1 /* DT_NEEDED */ && strtab != UINT64_MAX)
			add_dep(out, v, strtab + val);
	}
}

static int elf_deps(const struct view *v0, struct binfmt_deps *out)
{
	struct view v = *v0;
	struct elf_hdr h = { .is64 = v.d[4] == 2 };
	v.be = v.d[5] == 2;
	h.phoff = h.is64 ? rd(&v, 0x20, 8) : rd(&v, 0x1c, 4);
	h.phent = h.is64 ? rd(&v, 0x36, 2) : rd(&v, 0x2a, 2);
	h.phnum = h.is64 ? rd(&v, 0x38, 2) : rd(&v, 0x2c, 2);
	if (h.phent < (h.is64 ? 56u : 32u) || h.phnum > BINFMT_MAX_SECTIONS || !in_range(&v, h.phoff, h.phnum * h.phent))
		return 0;
	for (uint64_t i = 0; i < h.phnum; i++) {
		uint32_t type;
		uint64_t off, vaddr, filesz;
		elf_phdr(&v, &h, i, &type, &off, &vaddr, &filesz);
		if (type == 3 /* PT_INTERP */)
			copy_str(&v, off, out->interp, sizeof(out->interp));
		else if (type == 2 /* PT_DYNAMIC */)
			elf_dynamic(&v, &h, off, filesz, out);
	}
	return 0;
}

/* The file offset of relative virtual address rva, through the sections. */
static uint64_t pe_rva_off(const struct view *v, uint64_t table, uint64_t nsect, uint64_t rva)
{
	for (uint64_t i = 0; i < nsect && i < BINFMT_MAX_SECTIONS; i++) {
		uint64_t h = table + i * 40;
		uint64_t vsize = rd(v, h + 8, 4), va = rd(v, h + 12, 4), raw = rd(v, h + 16, 4);
		uint64_t size = vsize > raw ? vsize : raw;
		if (rva >= va && rva - va < size)
			return rd(v, h + 20, 4) + (rva - va);
	}
	return UINT64_MAX;
}

static int pe_deps(const struct view *v, struct binfmt_deps *out)
{
	uint64_t pe = rd(v, 0x3c, 4);
	uint64_t nsect = rd(v, pe + 6, 2), optsize = rd(v, pe + 20, 2);
	uint64_t opt = pe + 24, table = opt + optsize;
	uint64_t magic = rd(v, opt, 2);
	uint64_t dirs = magic == 0x20b ? opt + 112 : opt + 96; /* PE32+ or PE32 */
	if (optsize < dirs - opt + 16)
		return 0;
	uint64_t rva = rd(v, dirs + 8, 4); /* data directory 1: imports */
	uint64_t imp = rva ? pe_rva_off(v, table, nsect, rva) : UINT64_MAX;
	for (uint64_t d = imp; d != UINT64_MAX && in_range(v, d, 20) && out->n < BINFMT_MAX_DEPS; d += 20) {
		uint64_t name = rd(v, d + 12, 4);
		if (!name && !rd(v, d, 4) && !rd(v, d + 16, 4))
			break;
		uint64_t off = pe_rva_off(v, table, nsect, name);
		if (off != UINT64_MAX)
			add_dep(out, v, off);
	}
	return 0;
}

static int macho_deps(const struct view *v, struct binfmt_deps *out)
{
	uint64_t ncmds = rd(v, 16, 4), off = 32;
	for (uint64_t c = 0; c < ncmds && c < BINFMT_MAX_SECTIONS; c++) {
		uint64_t cmd = rd(v, off, 4), size = rd(v, off + 4, 4);
		if (size < 8 || !in_range(v, off, size))
			break;
		/* LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB, LC_LAZY_LOAD_DYLIB, LC_LOAD_UPWARD_DYLIB */
		if ((cmd == 0xc || cmd == 0x80000018 || cmd == 0x8000001f || cmd == 0x20 || cmd == 0x80000023) &&
		    size >= 24) {
			uint64_t name = rd(v, off + 8, 4);
			if (name < size && out->n < BINFMT_MAX_DEPS) {
				char *dst = out->needed[out->n++];
				size_t k = 0;
				while (name + k < size && k + 1 < BINFMT_DEP_NAME && v->d[off + name + k])
					k++;
				memcpy(dst, v->d + off + name, k);
				dst[k] = '\0';
			}
		}
		off += size;
	}
	return 0;
}

int binfmt_deps(const unsigned char *d, size_t n, struct binfmt_deps *out)
{
	const char *kind = binfmt_kind(d, n);
	struct view v = { d, n, 0 };
	memset(out, 0, sizeof(*out));
	if (!kind)
		return -1;
	if (!strcmp(kind, "elf"))
		return elf_deps(&v, out);
	if (!strcmp(kind, "pe"))
		return pe_deps(&v, out);
	return macho_deps(&v, out);
}

/* ---- the platform of an executable ---- */

/* GOARCH of an ELF e_machine, with its class and byte order. */
static const char *elf_arch(unsigned machine, int is64, int be)
{
	switch (machine) {
	case 3: return "386";
	case 8: return is64 ? (be ? "mips64" : "mips64le") : (be ? "mips" : "mipsle");
	case 21: return be ? "ppc64" : "ppc64le";
	case 22: return "s390x";
	case 40: return "arm";
	case 62: return "amd64";
	case 183: return "arm64";
	case 243: return "riscv64";
	case 258: return "loong64";
	}
	return "unknown";
}

static const char *pe_arch(unsigned machine)
{
	switch (machine) {
	case 0x14c: return "386";
	case 0x1c4: return "arm";
	case 0x8664: return "amd64";
	case 0xaa64: return "arm64";
	}
	return "unknown";
}

static const char *macho_arch(uint64_t cputype)
{
	return cputype == 0x01000007 ? "amd64" : cputype == 0x0100000c ? "arm64" : "unknown";
}

/* The format and GOARCH of d; kind NULL when it is no executable. */
static void platform(const unsigned char *d, size_t n, const char **kind, const char **arch, int *osabi)
{
	struct view v = { d, n, 0 };
	*kind = binfmt_kind(d, n);
	*arch = "unknown";
	*osabi = -1;
	if (*kind && !strcmp(*kind, "elf")) {
		v.be = d[5] == 2;
		*arch = elf_arch((unsigned)rd(&v, 18, 2), d[4] == 2, v.be);
		*osabi = d[7];
	} else if (*kind && !strcmp(*kind, "pe")) {
		*arch = pe_arch((unsigned)rd(&v, rd(&v, 0x3c, 4) + 4, 2));
	} else if (*kind) {
		*arch = macho_arch(rd(&v, 4, 4));
	} else if (n >= 8 && !memcmp(d, "\0asm", 4)) {
		*kind = "wasm", *arch = "wasm";
	} else if (n >= 32) {
		struct view b = { d, n, 1 }; /* plan9 a.out and XCOFF are big endian */
		uint64_t m = rd(&b, 0, 4);
		if (m == 0x01eb || m == 0x8a97 || m == 0x0647)
			*kind = "plan9", *arch = m == 0x01eb ? "386" : m == 0x8a97 ? "amd64" : "arm";
		else if (rd(&b, 0, 2) == 0x01f7)
			*kind = "xcoff", *arch = "ppc64";
	}
}

/* The format Go writes for goos; NULL for one this table does not know. */
static const char *goos_kind(const char *goos)
{
	static const char *const elf[] = { "linux", "android", "freebsd", "netbsd", "openbsd",
					   "dragonfly", "solaris", "illumos" };
	for (size_t i = 0; i < ARRAY_LEN(elf); i++)
		if (!strcmp(goos, elf[i]))
			return "elf";
	if (!strcmp(goos, "windows"))
		return "pe";
	if (!strcmp(goos, "darwin") || !strcmp(goos, "ios"))
		return "macho";
	if (!strcmp(goos, "js") || !strcmp(goos, "wasip1"))
		return "wasm";
	if (!strcmp(goos, "plan9"))
		return "plan9";
	if (!strcmp(goos, "aix"))
		return "xcoff";
	return NULL;
}

int binfmt_is_for(const unsigned char *d, size_t n, const char *goos, const char *goarch, char *what, size_t size)
{
	const char *kind, *arch, *want = goos_kind(goos);
	int osabi;
	platform(d, n, &kind, &arch, &osabi);
	if (!kind) {
		snprintf(what, size, "no executable");
		return 0;
	}
	snprintf(what, size, "%s/%s", kind, arch);
	if (!want)
		return 1;
	int linux_like = !strcmp(goos, "linux") || !strcmp(goos, "android");
	if (linux_like && !strcmp(kind, "elf") && osabi != 0 && osabi != 3) { /* SYSV or GNU/Linux */
		snprintf(what, size, "%s/%s for ELF OS ABI %d", kind, arch, osabi);
		return 0;
	}
	return !strcmp(kind, want) && !strcmp(arch, goarch);
}
