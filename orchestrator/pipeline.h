/* pipeline.h - one whole run: release.lua to a complete dist/.
 *
 * load -> SDK and C toolchains -> port table -> plan (and its shard) ->
 * prefetch -> before hooks -> input digests and action cache (inputs.h,
 * actcache.h) -> builds, each checked (static.h), and archives -> after
 * hooks -> smoke runs -> Linux packages (linuxpkg.h) + SBOMs (sbom.h) +
 * SHA256SUMS + provenance.json (provenance.h) -> signatures (sign.h, when a
 * key is given: loaded and its password checked before anything is built)
 * -> manifest.json (no host paths, manifest.h) -> swap the staging
 * directory into dist/.  dist/ is replaced only by a run that succeeded;
 * a failed or interrupted run leaves the previous dist/ as it was.  Before
 * anything is built, a dist/ xgo-build may not replace (util.h,
 * dist_check_replace; one that is or holds the project, the build file,
 * the work dir or a cache) and a work dir holding a symlink are refused.
 * When a job builds, the SDK is walked again (sdk.h, the guard) before
 * anything built is stored or published.
 * Events (events.h) report each step.
 * `run` calls it once; `verify` calls it once per build it compares.
 */
#ifndef XGO_PIPELINE_H
#define XGO_PIPELINE_H

#include "plan.h"
#include "shard.h"

struct pipeline_opts {
	const char *file;        /* release.lua */
	const char *dist;        /* NULL: dist/ beside release.lua */
	const char *work_dir;    /* NULL: .xgo-build/ beside release.lua */
	const char *gocache;     /* NULL: $XGO_GOCACHE, else <cache>/gocache */
	const char *isolation;   /* "auto" (NULL), "none", "net" */
	const char *mirror;      /* SDK mirror override, or NULL */
	const char *print_env;   /* print this job's env + argv instead of building */
	const char *sign_key;    /* run --sign-key: overrides release.lua's signing { key } */
	int jobs;                /* parallel jobs; 0 = the CPU budget */
	int reverse_order;       /* schedule the jobs last to first */
	int keep_going;
	int offline;
	int no_cache;            /* build every job; neither read nor write the action cache */
	int smoke;               /* --smoke: smoke-test every linux job (smoke.h);
	                            0: only the builds that declare smoke */
	long timeout_ms;
	struct shard_spec shard;   /* run --shard K/N: only that shard's targets (shard.h) */
	struct plan_select select; /* run --target, --build: a part of the matrix (plan.h) */
	/* verify's job-level variations (verify.h); 0/NULL: none */
	long vary_uid;             /* jobs run as this uid in a new user namespace */
	const char *vary_hostname; /* jobs run in a new UTS namespace with this name */
	const char *hook_faketime; /* libfaketime preloaded into the hooks (a later clock) */
};

/* Returns an exit code (util.h): EXIT_OK, EXIT_JOB, EXIT_USAGE,
 * EXIT_TOOLCHAIN or EXIT_INTERRUPTED. */
int pipeline_run(const struct pipeline_opts *o);

#endif
