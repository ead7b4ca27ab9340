/* inputs.h - the input digest of every job, the action cache's key.
 *
 * A job's digest covers everything its bytes can depend on: the SDK tree
 * digest, the C toolchain's identity (job->cc_digest), the job's whole
 * sanitized environment and argv (with the paths that cannot change the
 * output -- SDK root, GOCACHE, GOMODCACHE, scratch and output directory --
 * replaced by placeholders, GOMAXPROCS and -p left out; the project
 * directory is kept when -trimpath is turned off), go.mod, go.sum and
 * vendor/modules.txt, and the source files the build reads.
 *
 * The sources come from `go list -deps -json` run with the job's own
 * environment and flags, once per distinct listing (jobs that differ
 * only in output or ldflags share one): for every package outside the
 * standard library, the content digest of each file the go command names
 * (Go, cgo, C, assembly, syso, embedded and ignored files) when the
 * package is the project's own or a local replacement, its module
 * path@version otherwise (go.sum pins those).  The result is kept in
 * <work>/inputs.json with a stat fingerprint of the project tree
 * (source.h): a rerun with nothing written reuses it without running
 * the go command.
 */
#ifndef XGO_INPUTS_H
#define XGO_INPUTS_H

#include "orchestrator/jobenv.h"
#include "orchestrator/plan.h"

struct inputs_ctx {
	const struct jobenv_ctx *env; /* the run's real paths: go list uses them */
	const char *project_dir;
	const char *work_dir;         /* inputs.json and go list's scratch */
	const char *const *skip;      /* top-level dirs left out of the fingerprint */
	const char *sdk_tree_digest;
};

/* keys[i] = job i's input digest (64 hex digits), or "" when it cannot
 * be known (go list reported an error: the build will say why) -- that
 * job is simply built.  Returns 0, or -1 when runner_last_signal() says
 * the run was interrupted (the caller catches the signals meanwhile). */
int inputs_job_keys(const struct inputs_ctx *c, const struct plan *p, char (*keys)[65]);

#endif
