/* fuzz_lockfile - the release.lock reader (toolchains/lockfile.c).
 * Invariant: whatever it accepts, it writes back in a form it reads back
 * to the same text (lock_dump is a fixed point). */
#include "fuzz.h"
#include "toolchains/lockfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct lock l = { 0 }, l2 = { 0 };
	error_quiet(1);
	if (lock_parse("release.lock", (const char *)d, n, &l) == 0) {
		char *a = lock_dump(&l);
		FUZZ_CHECK(lock_parse("dump", a, strlen(a), &l2) == 0);
		char *b = lock_dump(&l2);
		FUZZ_CHECK(strcmp(a, b) == 0);
		FUZZ_CHECK(lock_is_version(l.go));
		for (size_t i = 0; i < l.nplat; i++)
			FUZZ_CHECK(lock_is_filename(l.plat[i].filename) && lock_is_platform(l.plat[i].name));
		free(a);
		free(b);
		lock_clear(&l2);
	}
	lock_clear(&l);
	return 0;
}
