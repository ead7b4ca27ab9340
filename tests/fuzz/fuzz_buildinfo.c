/* fuzz_buildinfo - the readers verify uses on binaries: Go build info
 * (orchestrator/buildinfo.c) and ELF/PE/Mach-O sections (binfmt.c).
 * Invariants: sections lie inside the buffer's claimed table, at most
 * BINFMT_MAX_SECTIONS, names NUL-terminated. */
#include "fuzz.h"
#include "base/binfmt.h"
#include "orchestrator/buildinfo.h"

static struct binfmt_section secs[BINFMT_MAX_SECTIONS];

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct buildinfo bi = { 0 };
	error_quiet(1);
	int rc = buildinfo_read(d, n, &bi);
	if (rc == 0) {
		FUZZ_CHECK(bi.go_version != NULL);
		buildinfo_setting(&bi, "GOOS");
	}
	buildinfo_release(&bi);
	binfmt_kind(d, n);
	int k = binfmt_sections(d, n, secs, ARRAY_LEN(secs));
	FUZZ_CHECK(k <= (int)ARRAY_LEN(secs));
	for (int i = 0; i < k; i++)
		FUZZ_CHECK(memchr(secs[i].name, 0, sizeof(secs[i].name)) != NULL);
	struct binfmt_section s;
	binfmt_section_at(d, n, n / 2, &s);
	binfmt_section_named(d, n, ".go.buildinfo", &s);
	return 0;
}
