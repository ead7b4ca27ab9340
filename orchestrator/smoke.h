/* smoke.h - run each built linux binary once and check what it does.
 *
 * After the builds, every linux job that asks for it (all with `run
 * --smoke`, else the builds with a smoke = { ... } key) runs its binary
 * with smoke.args: natively when the target is this machine's
 * architecture, else under qemu-<arch>-static (qemu-user-static) when it
 * is installed.  It passes when it exits 0 within SMOKE_TIMEOUT_MS and,
 * with smoke.expect (a template: "{version}"), its output contains that
 * text.  A binary that cannot run here (another OS, no qemu for the
 * architecture) is reported as skipped, never as passed.  Environment:
 * PATH=/usr/bin:/bin, HOME and TMPDIR private, LC_ALL=C, TZ=UTC; stdin
 * /dev/null; the output goes to .xgo-build/logs/smoke_<build>_<target>.log.
 */
#ifndef XGO_SMOKE_H
#define XGO_SMOKE_H

#include <jansson.h>

#include "build.h"

#define SMOKE_TIMEOUT_MS 60000

enum smoke_status { SMOKE_NOT_RUN, SMOKE_PASSED, SMOKE_FAILED, SMOKE_SKIPPED };

struct smoke_result {
	enum smoke_status status;
	char runner[48];  /* "native", "qemu-aarch64-static"; "" when skipped */
	char why[256];    /* skipped or failed: the reason */
};

struct smoke_opts {
	const struct release *release;
	int all;                 /* --smoke: every linux job */
	const char *work_dir;    /* logs and scratch */
	const char *project_dir; /* where the binaries run */
};

/* Smoke-test the built jobs of p (res: build_run's results).  *out gets
 * one entry per job (caller frees), or stays NULL when no job asked for a
 * smoke test.  Returns EXIT_OK, EXIT_JOB (a smoke test failed; each
 * failure printed with its output) or EXIT_INTERRUPTED. */
int smoke_run(const struct plan *p, const struct result *res, const struct smoke_opts *o,
	      struct smoke_result **out);

/* { "status": "passed"|"failed"|"skipped", "runner", "reason" } */
json_t *smoke_json(const struct smoke_result *s);

#endif
