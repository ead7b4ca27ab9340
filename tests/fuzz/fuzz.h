/* fuzz.h - shared helpers for the libFuzzer harnesses in tests/fuzz/.
 *
 * Each harness is one fuzz_<name>.c defining LLVMFuzzerTestOneInput; its
 * seed corpus is tests/fuzz/corpus/<name>/.  Errors are expected (bad
 * input is the point), so they are silenced; a crash, a sanitizer report,
 * a leak or a failed FUZZ_CHECK is a finding.
 */
#ifndef XGO_FUZZ_H
#define XGO_FUZZ_H

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the code under test: abort (a finding) when false. */
#define FUZZ_CHECK(cond)                                                                        \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

/* A private scratch directory for this process, made once. */
static inline const char *fuzz_tmpdir(void)
{
	static char dir[64];
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/xgo-fuzz-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	return dir;
}

/* Write d[0..n) to path, replacing it. */
static inline void fuzz_write(const char *path, const uint8_t *d, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(d, 1, n, f) != n) || fclose(f) != 0)
		abort();
}

/* A NUL-terminated copy of the input; caller frees. */
static inline char *fuzz_str(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, d, n);
	s[n] = 0;
	return s;
}

#endif
