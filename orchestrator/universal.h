/* universal.h - macOS universal binaries: `universal = true` on a build
 * joins its darwin/amd64 and darwin/arm64 binaries into one fat Mach-O,
 * published as the extra target "darwin/all" (GoReleaser's name) and
 * packed by every archive declaration that selects the build.
 *
 * The fat file is what lipo writes: a big-endian fat_header (0xcafebabe,
 * two entries), one fat_arch per slice (cputype and cpusubtype copied from
 * the slice's own Mach-O header, offset, size, align 14), each slice at an
 * offset aligned to 2^14 bytes, zero padding between.  Slices go in a fixed
 * order (x86_64, then arm64), so the bytes depend only on the two inputs.
 * It is written again on every run from the binaries of that run (built or
 * from the action cache), never cached: replaced darwin builds always give
 * a matching fat binary.
 *
 * uni_plan runs before anything is built and finds every error (exit 2);
 * uni_write runs after the builds, into the staging directory.
 */
#ifndef XGO_UNIVERSAL_H
#define XGO_UNIVERSAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "archives.h"
#include "build.h"
#include "package.h"
#include "plan.h"

/* One fat binary of one build. */
struct uni_out {
	const struct build_decl *build;
	size_t amd64, arm64;     /* plan job indexes of the two slices */
	char *output;            /* path under dist/: the output template with arch "all" */
	uint64_t size;
	char sha256[65];
};

/* One archive of the darwin/all target (per archive declaration). */
struct uni_arc {
	const struct archive_decl *decl;
	char *name;
	enum pkg_format format;
	char *wrap;
	size_t *outs;            /* indexes into uniplan.v */
	size_t nouts;
	struct pkg_entries extra;
	struct pkg_result res;
};

struct uniplan {
	struct uni_out *v;
	size_t n;
	struct uni_arc *arcs;
	size_t narcs;
};

/* Plan the fat binaries and their archives for plan p (after arc_plan:
 * names must not clash with ap's archives or the jobs' outputs).  A build
 * with universal = true whose plan lacks darwin/amd64 or darwin/arm64 (or
 * has either twice) is an error naming the build file's line and the
 * key.  Returns 0 or -1 (exit 2); *out is empty when nothing is universal. */
int uni_plan(const struct release *r, const struct plan *p, const struct arcplan *ap, const char *project_dir,
	     struct uniplan *out);
void uni_plan_release(struct uniplan *u);

/* Write every fat binary and its archives into stage (every mtime epoch)
 * from the jobs' results.  A slice that is not a 64-bit Mach-O of its
 * architecture is an error naming it.  0 or -1 (exit 1). */
int uni_write(struct uniplan *u, const struct result *res, const char *stage, int64_t epoch);

/* Slice header values, for the fat_arch entries. */
#define UNI_CPU_X86_64 0x01000007u
#define UNI_CPU_ARM64 0x0100000cu
#define UNI_ALIGN_LOG2 14

/* The manifest's "universal" list (NULL when a record did not convert). */
json_t *uni_manifest(const struct uniplan *u, const struct plan *p);

#endif
