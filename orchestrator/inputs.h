/* inputs.h - the input digest of every job, the action cache's key.
 *
 * A job's digest covers everything its bytes can depend on: the SDK tree
 * digest, the C toolchain's identity (job->cc_digest), the job's whole
 * sanitized environment and argv as the job value holds them (jobenv.h:
 * the paths that cannot change the output -- SDK root, GOCACHE,
 * GOMODCACHE, zig's cache, scratch, cgo and output directories -- as
 * placeholders; GOMAXPROCS, GOGC, GOMEMLIMIT and -p left out; the
 * project directory is hashed too when -trimpath is turned off), go.mod, go.sum and vendor/modules.txt, and the source
 * files the build reads.
 *
 * The sources come from `go list -deps -json` run with the job's own
 * environment and flags, once per distinct listing (jobs that differ
 * only in output or ldflags share one): for every package outside the
 * standard library, the content digest of each file the go command names
 * (Go, cgo, C, assembly, syso, embedded and ignored files), of its
 * module's go.mod and of the package directory's default.pgo (present or
 * not), when the package is the project's own or a local replacement (a
 * directory, inside the project or beside it); its module path@version
 * otherwise (go.sum pins those).  What go list does not name is covered
 * conservatively:
 *   - a listing with a cgo package also covers the contents of every file
 *     in the project and in the local replacements beside it (a header in
 *     a subdirectory, -I${SRCDIR}/../include, ${SRCDIR}/lib.a); a #cgo
 *     flag that names a path outside both leaves the job uncached;
 *   - the files the job's flags (or GOFLAGS) name: -modfile and its
 *     go.sum, -overlay and every file it maps, -pgo=FILE.
 *
 * What go list said is kept in <work>/inputs.json with two fingerprints
 * of the project tree (source.h) and, per listing, of what it reads
 * outside the project (its "roots": a local replacement's directory, a
 * linked package directory or file, with links followed), and the digest
 * of its flag files.  A rerun with nothing written in any of them reuses
 * the digests as they are.  When files were only edited (no file added,
 * removed or renamed, no go.mod changed) and the head of every file a
 * listing names is unchanged (gohead.h: build constraints, package
 * clause, imports, embed directives), go list's answer cannot have
 * changed either: only the contents are hashed again.  Anything else asks
 * the go command again.
 */
#ifndef XGO_INPUTS_H
#define XGO_INPUTS_H

#include "jobenv.h"
#include "plan.h"

struct inputs_ctx {
	const struct jobenv_ctx *env; /* the run's real paths: go list uses them */
	const char *project_dir;      /* resolved (realpath) */
	const char *work_dir;         /* inputs.json and go list's scratch */
	const char *const *skip;      /* dirs left out of the fingerprint: real paths (source.h) */
	const char *sdk_tree_digest;
};

/* Each job's key = its input digest (64 hex digits), computed from the
 * job value (jobenv_plan: the env and argv that run, with placeholders
 * for machine paths), or "" when it cannot be known (go list reported an
 * error: the build will say why) -- that job is simply built.  Returns 0, or -1 when runner_last_signal() says
 * the run was interrupted (the caller catches the signals meanwhile). */
int inputs_job_keys(const struct inputs_ctx *c, struct plan *p);

/* After job i built, before its result is stored under key: 1 when the
 * key computed now is still key (no input it covers changed while the
 * job ran), 0 otherwise -- the result may be published, but stored
 * under key it would poison the cache.  The same computation as
 * inputs_job_keys (the state it saved makes it a fingerprint walk; it
 * asks go list again only when files were added meanwhile), without
 * saving; calls are serialised with each other and with inputs_job_keys. */
int inputs_job_unchanged(const struct inputs_ctx *c, const struct plan *p, size_t i, const char key[65]);

#endif
