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

struct job {
	const struct build_decl *build; /* borrowed from the release */
	struct target target;
	char id[64];    /* "linux/arm/7" (target_id) */
	char *output;   /* path relative to dist/, from build->output */
	char *binary;   /* file name: binary + ".exe" on windows */
	char cc_digest[65]; /* the C toolchain's identity; "" when none is used */
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

#endif
