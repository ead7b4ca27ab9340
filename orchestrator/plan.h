/* plan.h - one job per (build, target): what to build and where it lands.
 *
 * The plan is the bridge from the declarative release to the runner: it
 * expands each build's matrix, names every output with the build's output
 * template and refuses two jobs that would write the same path.
 */
#ifndef XGO_PLAN_H
#define XGO_PLAN_H

#include <stddef.h>

#include "lua/release.h"
#include "matrix/matrix.h"
#include "orchestrator/template.h"

struct cc_tool; /* toolchains/cc.h */

struct job {
	const struct build_decl *build; /* borrowed from the release */
	struct target target;
	char id[64];    /* "linux/arm/7" (target_id) */
	char *output;   /* path relative to dist/, from build->output */
	char *binary;   /* file name: binary + ".exe" on windows */
	int static_link; /* the build's static: linked static and checked after the build */
	/* The job's C toolchain (toolchains/cc.h cc_resolve, before the builds
	 * start): NULL and "" when the job uses none.  cc_digest is the
	 * lowercase sha256 hex of the compiler identity (path, version line,
	 * binary digest, target triple); input digests hash it. */
	const struct cc_tool *cc;
	char cc_digest[65];
};

struct plan {
	const struct release *release; /* borrowed */
	struct job *jobs;
	size_t n;
	struct strv skipped; /* "build: darwin/386" combinations that are no port */
};

int plan_make(const struct release *r, const struct port_table *ports, struct plan *p);
void plan_release(struct plan *p);

/* The template variables for a job: name, version, build, binary, os,
 * arch, variant, ext, target.  vars must hold PLAN_VARS entries; strings
 * point into job and scratch (PLAN_SCRATCH bytes). */
#define PLAN_VARS 9
#define PLAN_SCRATCH 96
void plan_vars(const struct release *r, const struct job *j, struct tmpl_var *vars, char *scratch);

/* A relative path under dist/ with no "..", empty or absolute part. */
int plan_path_ok(const char *path);

/* The file xgo-build leaves in dist/ to mark it as its own. */
#define PLAN_DIST_MARKER ".xgo-build-dist"

/* Every name the release will publish, known before building: each job's
 * output, each archive (ap, from arc_plan), each package (lp), the per_file sums, the checksum
 * file, manifest.json and PLAN_DIST_MARKER in dist/, and each archive's
 * entries (binaries and files, under its wrap directory).  Each must pass
 * path_check_name, none may be published twice, and none may be a
 * directory of another ("A" beside "A/b").  Else one error naming the
 * build file's line, both publishers and the name, and -1 (exit 2). */
struct arcplan;
struct lpkgplan; /* linuxpkg.h: the packages (names in dist/, dsts inside), or NULL */
int plan_check_published(const struct release *r, const struct plan *p, const struct arcplan *ap,
			 const struct lpkgplan *lp);

#endif
