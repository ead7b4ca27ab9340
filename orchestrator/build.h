/* build.h - the build stage: module prefetch, hooks, and one `go build`
 * per job, in parallel, through the runner.
 *
 * Outputs land in a staging directory (the caller swaps it into dist/ when
 * the whole run succeeded); each is hashed as soon as its job ends.  Jobs
 * of the same target are scheduled so that the target's standard library
 * is compiled once: the first job of a target runs before the others,
 * which start only after it (they then reuse its GOCACHE entries).
 *
 * Each job runs as its value says (plan.h, jobenv.h jobenv_fill: its
 * scratch dir, output path, environment and argv).  With an action cache
 * (build_opts.cache, the jobs' keys), every job whose input
 * digest the cache holds is copied from it before any build starts and
 * runs no go build; a job that builds and passes the check is stored.
 * The prefetch is skipped when go.mod, go.sum, the SDK, GOMODCACHE and
 * the network variables are as at the last one (.xgo-build/prefetch.done).
 */
#ifndef XGO_BUILD_H
#define XGO_BUILD_H

#include <stdint.h>

#include "cache/actcache.h"
#include "isolate.h"
#include "jobenv.h"
#include "inputs.h"
#include "plan.h"

struct sdk;

/* What happened to one job. */
struct result {
	const struct job *job;
	int started, done;
	int cached;           /* taken from the action cache: no go build ran */
	int prog_retried;     /* started again without GOCACHEPROG (gocache.h) */
	const char *key;      /* the input digest (inputs.h), or NULL */
	double built_wall;    /* cached: what building it took when it was built */
	int status;           /* exit code; 128+signal when killed */
	int timed_out;
	int check_failed;     /* built, but o->check refused the binary */
	double wall, cpu;     /* seconds; cpu = user + sys */
	char *log_path;       /* owned */
	char *path;           /* owned: the binary in the staging dir */
	uint64_t size;
	char sha256[65];
	struct strv env, argv;
};

struct build_opts {
	const struct jobenv_ctx *env;
	const char *project_dir; /* where go runs (release.lua's directory) */
	const char *work_dir;    /* scratch dirs and logs */
	int parallel;            /* jobs at once */
	int keep_going;          /* else stop at the first failure */
	int reverse_order;       /* start jobs last to first (verify varies it) */
	long timeout_ms;         /* per job; 0 none */
	enum iso_level iso;
	const char *trampoline;  /* xgo-build itself, for the __exec trampoline */
	long vary_uid;             /* verify: jobs as this uid in a user namespace; 0 none */
	const char *vary_hostname; /* verify: jobs in a UTS namespace with this name */
	const char *hook_faketime; /* verify: libfaketime for hooks; NULL none */
	const struct sdk *sdk;   /* when a job builds, its tree is walked again (sdk.h,
				  * the guard) before anything built is stored or passed
				  * to on_success; NULL: no second look */
	struct actcache *cache;  /* NULL: build everything, store nothing */
	const struct inputs_ctx *inputs; /* what the keys came from: checked again before a store */
	/* Called when a job's binary is built and hashed, before on_success:
	 * non-zero fails the job, which check explained (the static check). */
	int (*check)(struct result *res, void *user);
	/* Called when a job ended well (binary hashed), e.g. to package it. */
	void (*on_success)(struct result *res, void *user);
	void *user;
};

/* Exit codes of the stage: EXIT_OK, EXIT_JOB (a job or hook failed; the
 * failing log tail was printed), EXIT_INTERRUPTED, or EXIT_TOOLCHAIN (the
 * SDK changed under the builds: nothing built was stored or passed on). */

/* `go mod download` once, with the network (skipped with vendor/). */
int build_prefetch(const struct build_opts *o);
/* The before hooks, in order; the first failure stops the run. */
int build_before_hooks(const struct release *r, const struct build_opts *o);
/* Every job of p; *out gets one result per job (results_free). */
int build_run(const struct plan *p, const struct build_opts *o, struct result **out);
/* The after hooks, once per built artifact. */
int build_after_hooks(const struct release *r, const struct build_opts *o, struct result *res, size_t n);
void results_free(struct result *res, size_t n);

#endif
