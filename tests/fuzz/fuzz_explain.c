/* fuzz_explain - explain_pair (orchestrator/explain.c), which reads two
 * artifacts whole (binfmt, buildinfo, strings, libarchive for archives).
 * Input: the two files, split at the first "\n--8<--\n" (or halved). */
#include "fuzz.h"
#include "orchestrator/explain.h"

static const char SEP[] = "\n--8<--\n";

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char a[128], b[128];
	const uint8_t *cut = memmem(d, n, SEP, sizeof(SEP) - 1);
	size_t na = cut ? (size_t)(cut - d) : n / 2;
	size_t skip = cut ? sizeof(SEP) - 1 : 0;
	snprintf(a, sizeof(a), "%s/a", fuzz_tmpdir());
	snprintf(b, sizeof(b), "%s/b", fuzz_tmpdir());
	fuzz_write(a, d, na);
	fuzz_write(b, d + na + skip, n - na - skip);
	error_quiet(1);
	json_t *e = explain_pair(a, b, NULL);
	FUZZ_CHECK(e != NULL);
	char *line = explain_summary(e, (json_int_t)na, (json_int_t)(n - na - skip));
	FUZZ_CHECK(line != NULL);
	free(line);
	json_decref(e);
	return 0;
}
