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
#include "template.h"

struct cc_tool; /* toolchains/cc.h */
struct json_t;  /* jansson */

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
	/* The job value (jobenv.h jobenv_plan), made once when the toolchains
	 * are known; inputs, build, --print-env, smoke and the manifest read
	 * it.  env and argv are the form that is hashed: machine paths as
	 * placeholders, no tuning (GOMAXPROCS, GOGC, GOMEMLIMIT, -p);
	 * jobenv_fill makes the one that runs. */
	char *scratch;          /* <work>/jobs/<name>: its private HOME and TMPDIR */
	char *out_path;         /* <stage>/<output>: where go build writes */
	struct strv env, argv;
	char key[65];           /* the input digest (inputs.h); "" unknown or no cache */
};

struct plan {
	const struct release *release; /* borrowed */
	struct job *jobs;
	size_t n;
	struct strv skipped; /* "build: darwin/386" combinations that are no port */
};

/* Every build is expanded even after one failed, so that each build's
 * first error is said; -1 then, with *p empty.  An exclude entry that
 * removes nothing is a warning, once per entry. */
int plan_make(const struct release *r, const struct port_table *ports, struct plan *p);
void plan_release(struct plan *p);

/* Keep only the jobs i with keep[i] (p->n entries), in their order. */
void plan_keep(struct plan *p, const unsigned char *keep);

/* A part of the matrix (run --target, --build): a job is kept when its
 * build is one of builds (none: any) and its target id matches one of
 * targets (none: any) as an fnmatch pattern whose '*' also matches '/'
 * (so linux/<star> takes linux/arm/7), with or without its "+cgo".  A pattern
 * or build name that selects nothing is error() naming it, and -1.
 * *record: the manifest's "partial" record { targets, builds, jobs,
 * planned }, or NULL when nothing was asked. */
#define PLAN_SELECT_MAX 32
struct plan_select {
	const char *targets[PLAN_SELECT_MAX];
	size_t ntargets;
	const char *builds[PLAN_SELECT_MAX];
	size_t nbuilds;
};
int plan_select(const struct plan_select *sel, struct plan *p, struct json_t **record);

/* The variables of every template (docs/templates.md): the release's
 * (name, version and the git facts: tag, commit, short_commit,
 * commit_date, commit_timestamp, major, minor, patch, prerelease), then a
 * job's (build, binary, os, arch, variant, ext, target).  A git variable
 * without a value (no checkout, no tag, a tag that is no semantic version)
 * has value NULL and says why (template.h).  Strings point into r, the job
 * and scratch (PLAN_SCRATCH bytes). */
#define PLAN_RELEASE_VARS 11
#define PLAN_VARS (PLAN_RELEASE_VARS + 7)
#define PLAN_SCRATCH 96
void plan_release_vars(const struct release *r, struct tmpl_var *vars);
void plan_vars(const struct release *r, const struct job *j, struct tmpl_var *vars, char *scratch);
/* A job's file name, "<prefix><build>_<target id>" with '/' and '+' made
 * '_' (truncated to size): its scratch dir under jobs/, its log under logs/,
 * the same for build, --print-env and smoke (prefix "smoke_"). */
void plan_job_name(const struct job *j, const char *prefix, char *out, size_t size);

/* release_load, then once: the git facts of the project's checkout
 * (gitinfo_read), the default version when project { } gives none
 * (gitinfo_version), and the names that take the release's variables only
 * expanded in place (checksums { file }, each build's binary, archive and
 * image files dst); vcs = true outside a checkout is refused.  -1 after
 * one error naming release.lua's line (exit 2). */
int plan_load(const char *file, struct release *r);

/* Every other template (output, ldflags, smoke expect, archive name)
 * checked against the variables it will get, before anything runs: each
 * bad one is one error naming release.lua's line; returns how many (run
 * stops at any, exit 2; check and plan go on to their other stages). */
int plan_check_templates(const struct release *r);


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
