/* fuzz_mirror - the mirror's JSON index reader (toolchains/mirror.c).
 * Invariant: every file it keeps has a 64-hex sha256 and a safe name. */
#include "fuzz.h"
#include "toolchains/lockfile.h"
#include "toolchains/mirror.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct mirror_index idx = { 0 };
	error_quiet(1);
	if (mirror_parse_index("index.json", (const char *)d, n, &idx) == 0) {
		FUZZ_CHECK(idx.nrel <= MIRROR_MAX_RELEASES);
		for (size_t i = 0; i < idx.nrel; i++)
			for (size_t j = 0; j < idx.rel[i].nfiles; j++) {
				const struct mirror_file *f = &idx.rel[i].files[j];
				FUZZ_CHECK(lock_is_hex64(f->sha256));
				FUZZ_CHECK(lock_is_filename(f->filename));
			}
		mirror_find(&idx, "1.26.8", "linux-amd64");
		if (idx.nrel && idx.rel[0].nfiles)
			mirror_find(&idx, idx.rel[0].version, "linux-amd64");
	}
	mirror_index_clear(&idx);
	return 0;
}
