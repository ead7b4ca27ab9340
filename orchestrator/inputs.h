/* inputs.h - the input digest of every job, the action cache's key.
 *
 * A job's digest covers everything its bytes can depend on: the SDK tree
 * digest, the C toolchain's identity (job->cc_digest), the job's whole
 * sanitized environment and argv (with the paths that cannot change the
 * output -- SDK root, GOCACHE, GOMODCACHE, zig's cache, scratch, cgo and
 * output directories -- replaced by placeholders; GOMAXPROCS, GOGC,
 * GOMEMLIMIT and -p left out; the project directory kept when -trimpath
 * is turned off), go.mod, go.sum and vendor/modules.txt, and the source
 * files the build reads.
 *
 * The sources come from `go list -deps -json` run with the job's own
 * environment and flags, once per distinct listing (jobs that differ
 * only in output or ldflags share one): for every package outside the
 * standard library, the content digest of each file the go command names
 * (Go, cgo, C, assembly, syso, embedded and ignored files) when the
 * package is the project's own or a local replacement, its module
 * path@version otherwise (go.sum pins those).
 *
 * What go list said is kept in <work>/inputs.json with two fingerprints
 * of the project tree (source.h).  A rerun with nothing written reuses
 * the digests as they are.  When files were only edited (no file added,
 * removed or renamed, no go.mod changed) and the head of every file a
 * listing names is unchanged (gohead.h: build constraints, package
 * clause, imports, embed directives), go list's answer cannot have
 * changed either: only the contents are hashed again.  Anything else asks
 * the go command again.
 */
#ifndef XGO_INPUTS_H
#define XGO_INPUTS_H

#include "orchestrator/jobenv.h"
#include "orchestrator/plan.h"

struct inputs_ctx {
	const struct jobenv_ctx *env; /* the run's real paths: go list uses them */
	const char *project_dir;
	const char *work_dir;         /* inputs.json and go list's scratch */
	const char *const *skip;      /* dirs left out of the fingerprint: real paths (source.h) */
	const char *sdk_tree_digest;
};

/* keys[i] = job i's input digest (64 hex digits), or "" when it cannot
 * be known (go list reported an error: the build will say why) -- that
 * job is simply built.  Returns 0, or -1 when runner_last_signal() says
 * the run was interrupted (the caller catches the signals meanwhile). */
int inputs_job_keys(const struct inputs_ctx *c, const struct plan *p, char (*keys)[65]);

#endif
