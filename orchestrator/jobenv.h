/* jobenv.h - the sanitized environment and argv of every job.
 *
 * The heart of reproducibility: a job's environment is built from nothing.
 * Every variable that changes go build's output gets an explicit value
 * (GOOS, GOARCH, the variant variable, CGO_ENABLED, GOFLAGS, GOENV=off,
 * GOTOOLCHAIN=local, GOWORK=off, GOPROXY=off, LC_ALL=C, TZ=UTC,
 * SOURCE_DATE_EPOCH, GOMAXPROCS), HOME/TMPDIR/GOTMPDIR are private to the
 * job, GOCACHE/GOMODCACHE are shared and absolute, PATH is the SDK's bin
 * then /usr/bin:/bin.  cgo jobs add their C toolchain (toolchains/cc.h:
 * CC, CXX, AR, CGO_*FLAGS, the zig cache) and, when static, link with
 * -linkmode=external -extldflags=-static and the netgo,osusergo tags
 * (linux) or -extldflags=-static (windows).  Only variables release.lua names reach a job from
 * the host.  Environments are sorted, so they print and hash the same
 * everywhere.
 */
#ifndef XGO_JOBENV_H
#define XGO_JOBENV_H

#include "plan.h"

struct jobenv_ctx {
	const struct release *release;
	const char *sdk_root;    /* GOROOT of the pinned SDK */
	const char *gocache;     /* absolute */
	const char *gomodcache;  /* absolute */
	const char *sde;         /* SOURCE_DATE_EPOCH, decimal */
	int procs;               /* GOMAXPROCS and go build -p */
	long long gc_limit_mib;  /* GOGC=off GOMEMLIMIT=<this>MiB; 0: Go's default GC */
	int vendor;              /* -mod=vendor instead of -mod=readonly */
	const char *zig_cache;   /* ZIG_GLOBAL_CACHE_DIR of zig jobs: shared, absolute */
	const char *cgo_tmpdir;  /* GOTMPDIR of cgo jobs, outside the project; NULL: the job's */
	const char *c_inputs;    /* source_c_digest of the project, for cgo jobs' C flags; NULL: none */
	const char *gocacheprog; /* GOCACHEPROG of jobs (gocache.h); NULL: plain GOCACHE */
};

/* Refuse a build whose env sets a variable xgo-build controls, or drops
 * (NAME = false) one other than SOURCE_DATE_EPOCH.  Dropping it exists
 * for the rare build that must see no SOURCE_DATE_EPOCH, and makes C
 * compilers embed the real time in __DATE__/__TIME__: verify catches it.
 * Also refused: a passed-through variable whose value is not valid UTF-8
 * (the job's environment is recorded in manifest.json as text). */
int jobenv_check_build(const struct release *r, const struct build_decl *b);

/* The job value: once per run, when the C toolchains are resolved, each
 * job of p gets its C toolchain (cc->v[i], from cc_resolve on the plan's
 * jobs in order: job->cc and cc_digest; cc NULL leaves them), its dirs
 * (scratch jobenv_scratch_path(work_dir, plan_job_name), out_path
 * <stage_dir>/<output>), its environment and its argv (struct job).  Every
 * later stage reads them and none builds them again, so what is hashed
 * and what runs cannot disagree.
 *
 * The value holds the form that is hashed: the machine paths that cannot
 * change a job's output -- the SDK root, GOCACHE, GOMODCACHE, zig's cache,
 * the cgo GOTMPDIR, the scratch dir and the output -- as the placeholders
 * /<sdk> /<gocache> /<gomodcache> /<zigcache> /<cgotmp> /<scratch> /<out>,
 * and no tuning (GOMAXPROCS, GOGC, GOMEMLIMIT, -p).  jobenv_fill puts the
 * paths and the tuning in.  This way round (rather than real paths in the
 * value and a substitution before hashing) the digest is computed from
 * the value as it is, byte for byte what the cache keys always were, and
 * a path in a value release.lua gave (CGO_CFLAGS=-I/home/...) is never
 * rewritten: placeholders stand only at the start of argv[0], argv[3]
 * and the values of variables xgo-build controls.  -1 after an error
 * naming release.lua's line (an ldflags template). */
struct cc_set; /* toolchains/cc.h */
int jobenv_plan(const struct jobenv_ctx *c, const struct cc_set *cc, const char *work_dir, const char *stage_dir,
		struct plan *p);

/* The environment (sorted) and argv job j runs with: its value with c's
 * paths, scratch and out_path (NULL: the job's own) put in for the
 * placeholders, and c's tuning: GOMAXPROCS=c->procs (GOGC=off and
 * GOMEMLIMIT with c->gc_limit_mib), -p=c->procs after the output.  What
 * --print-env prints, the build records and go list runs with. */
void jobenv_fill(const struct jobenv_ctx *c, const struct job *j, const char *scratch, const char *out_path,
		 struct strv *env, struct strv *argv);

/* The environment job j starts with: env (its recorded one, from
 * jobenv_fill) and GOCACHEPROG when c sets it.  GOCACHEPROG is how the go
 * command reaches its cache, never what it builds: like GOCACHE's path it
 * stays out of input digests, and out of manifest.json, so that a run
 * with it and one without record the same job. */
void jobenv_spawn(const struct jobenv_ctx *c, const struct strv *env, struct strv *out);

/* The environment of module prefetch and before hooks: the same base
 * without a target, network allowed: the host's GOPROXY, GOPRIVATE,
 * GONOPROXY, GONOSUMDB, GOSUMDB, GOINSECURE, GOAUTH and proxy variables
 * pass through. */
void jobenv_network(const struct jobenv_ctx *c, const char *scratch, struct strv *env);

/* SOURCE_DATE_EPOCH: release.lua's project { source_date_epoch }, else
 * the environment's, else the commit time of HEAD when r->dir is a git
 * checkout (r->git, read once by plan_load), else JOBENV_SDE_DEFAULT.  *source says which ("release.lua",
 * "environment", "git HEAD", "default"). */
#define JOBENV_SDE_DEFAULT "315532800" /* 1980-01-01, the earliest zip time */
int jobenv_sde(const struct release *r, char out[24], const char **source);

/* Whether variable name (of a job's environment) holds a machine's own
 * business rather than a build input: the job's private HOME/TMPDIR/
 * GOTMPDIR, the shared caches (Go's and zig's), where the SDK is installed
 * (GOROOT; PATH starts with it), the CPU share (GOMAXPROCS) and the
 * memory share (GOGC, GOMEMLIMIT).  Two machines building the same
 * release differ here and nowhere else; merge compares the rest. */
int jobenv_local(const char *name);

/* 1 for a NAME=VALUE entry that tunes how fast a job runs, never what it
 * writes: GOMAXPROCS, GOGC, GOMEMLIMIT (left out of stamps and keys). */
int jobenv_tuning(const char *kv);

/* Make <work_dir>/jobs/<name> afresh with home/ (go telemetry off; a git
 * ignore file naming dist/, dist.tmp-* / and .xgo-build/, so vcs = true
 * does not see xgo-build's own outputs as a modification) and tmp/: a
 * job's private HOME and TMPDIR.  Returns its path (owned), or
 * NULL after an error. */
char *jobenv_scratch(const char *work_dir, const char *name);
/* Where a scratch dir lies, <work_dir>/jobs/<name> (owned): the one rule
 * for jobs, prefetch, go list and smoke runs. */
char *jobenv_scratch_path(const char *work_dir, const char *name);
/* The same at a job value's scratch path: 0, or -1 after an error. */
int jobenv_make_scratch(const char *scratch);

/* Sort an environment by name (for printing and hashing). */
void jobenv_sort(struct strv *env);
/* 1 when a build's env may not set or pass name: xgo-build sets it
 * (jobenv_check_build refuses it).  For translators (goreleaser.h). */
int jobenv_controlled(const char *name);

#endif
