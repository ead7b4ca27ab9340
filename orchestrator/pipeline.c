#define _GNU_SOURCE
#include "pipeline.h"
#include "archives.h"
#include "build.h"
#include "checksums.h"
#include "cpu.h"
#include "hash.h"
#include "manifest.h"
#include "proc.h"
#include "smoke.h"
#include "source.h"
#include "static.h"
#include "toolchains/cc.h"
#include "toolchains/mirror.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct run_state {
	const struct pipeline_opts *o;
	struct release rel;
	struct sdk sdk;
	struct port_table ports;
	struct plan plan;
	struct cc_set ccs;
	struct smoke_result *smoke;
	struct arcplan arcs;
	struct packer *packer;
	struct result *res;
	char *project, *dist, *work, *stage, *cache, *gocache, *gomodcache, *zig_cache, *cgo_tmp;
	char sde[24];
	const char *sde_source;
	struct cpu_budget budget;
	enum iso_level iso;
	char *trampoline;
};

static char *abs_path(const char *path)
{
	char buf[PATH_MAX];
	if (!realpath(path, buf)) {
		error("cannot resolve '%s':", path);
		return NULL;
	}
	return xstrdup(buf);
}

static const struct job *find_job(const struct plan *p, const char *want)
{
	for (size_t i = 0; i < p->n; i++) {
		char full[192];
		snprintf(full, sizeof(full), "%s:%s", p->jobs[i].build->name, p->jobs[i].id);
		if (!strcmp(want, full) || !strcmp(want, p->jobs[i].id))
			return &p->jobs[i];
	}
	return NULL;
}

static int print_env(const struct plan *p, const struct jobenv_ctx *ctx, const char *work, const char *stage,
		     const char *want)
{
	const struct job *j = find_job(p, want);
	if (!j)
		return error("--print-env: no job '%s' (see 'xgo-build plan' for the targets)", want), EXIT_USAGE;
	struct strv env = { 0 }, argv = { 0 };
	char *scratch = xasprintf("%s/jobs/%s_%s", work, j->build->name, j->id);
	char *out = xasprintf("%s/%s", stage, j->output);
	for (char *s = scratch + strlen(work) + 6; *s; s++)
		if (*s == '/' || *s == '+')
			*s = '_';
	int rc = jobenv_job(ctx, j, scratch, out, &env, &argv) < 0 ? EXIT_USAGE : EXIT_OK;
	for (size_t i = 0; i < env.n; i++)
		printf("%s\n", env.v[i]);
	printf("\n");
	for (size_t i = 0; i < argv.n; i++)
		printf("%s%s", i ? " " : "", argv.v[i]);
	printf("\n");
	strv_release(&env);
	strv_release(&argv);
	free(scratch);
	free(out);
	return rc;
}

/* The checksum file over every published file: the archives, or the
 * binaries when the release declares no archive. */
static int write_checksums(struct run_state *s)
{
	const struct release *r = &s->rel;
	enum hash_algo algo = HASH_SHA256;
	struct sums sums;
	int rc = 0;
	hash_algo_parse(r->checksums.algorithm, &algo);
	sums_init(&sums, algo);
	for (size_t i = 0; i < s->arcs.n && rc == 0; i++)
		rc = algo == HASH_SHA256 ? sums_add(&sums, s->arcs.v[i].name, s->arcs.v[i].res.sha256)
					 : sums_add_file(&sums, s->stage, s->arcs.v[i].name);
	for (size_t i = 0; s->arcs.n == 0 && i < s->plan.n && rc == 0; i++)
		rc = algo == HASH_SHA256 ? sums_add(&sums, s->plan.jobs[i].output, s->res[i].sha256)
					 : sums_add_file(&sums, s->stage, s->plan.jobs[i].output);
	char *path = xasprintf("%s/%s", s->stage, r->checksums.file);
	if (rc == 0)
		rc = sums_write(&sums, path);
	if (rc == 0 && r->checksums.per_file)
		rc = sums_write_each(&sums, s->stage);
	free(path);
	sums_release(&sums);
	return rc;
}

/* Put the complete staging directory in the place of dist/. */
static int swap_into_place(const char *stage, const char *dist)
{
	char *old = xasprintf("%s.old-%ld", dist, (long)getpid());
	struct stat st;
	int had = lstat(dist, &st) == 0;
	int rc = -1;
	if (had && !S_ISDIR(st.st_mode)) {
		error("'%s' exists and is not a directory: move it away", dist);
		goto out;
	}
	if (had && rename(dist, old) < 0) {
		error("cannot move the previous '%s' aside:", dist);
		goto out;
	}
	if (rename(stage, dist) < 0) {
		error("cannot move the new release into '%s':", dist);
		if (had)
			rename(old, dist);
		goto out;
	}
	if (had)
		remove_tree(old);
	rc = 0;
out:
	free(old);
	return rc;
}

static void gosum_digest(const char *dir, char out[65])
{
	char *path = xasprintf("%s/go.sum", dir);
	char hex[HASH_HEX_MAX];
	out[0] = '\0';
	if (access(path, F_OK) == 0 && hash_file_hex(HASH_SHA256, path, hex, NULL) == 0)
		memcpy(out, hex, 65);
	free(path);
}


static int resolve_dirs(struct run_state *s)
{
	s->dist = s->o->dist ? xstrdup(s->o->dist) : xasprintf("%s/dist", s->project);
	if (s->dist[0] != '/') {
		char *cwd = getcwd(NULL, 0);
		char *a = xasprintf("%s/%s", cwd ? cwd : ".", s->dist);
		free(cwd);
		free(s->dist);
		s->dist = a;
	}
	s->work = s->o->work_dir ? xstrdup(s->o->work_dir) : xasprintf("%s/.xgo-build", s->project);
	s->stage = xasprintf("%s.tmp-%ld", s->dist, (long)getpid());
	s->cache = sdk_cache_dir();
	const char *gc = s->o->gocache ? s->o->gocache : getenv("XGO_GOCACHE");
	if (gc && gc[0] != '/')
		return error("XGO_GOCACHE='%s' must be an absolute path", gc), EXIT_USAGE;
	s->gocache = gc ? xstrdup(gc) : xasprintf("%s/gocache", s->cache);
	s->gomodcache = xasprintf("%s/gomodcache", s->cache);
	const char *zc = getenv("XGO_ZIG_CACHE");
	if (zc && zc[0] != '/')
		return error("XGO_ZIG_CACHE='%s' must be an absolute path", zc), EXIT_USAGE;
	s->zig_cache = zc ? xstrdup(zc) : xasprintf("%s/zig-cache", s->cache);
	s->cgo_tmp = xasprintf("%s/cgo-tmp", s->cache);
	if (mkdir_p(s->cgo_tmp, 0755) < 0 || mkdir_p(s->work, 0755) < 0 || mkdir_p(s->gocache, 0755) < 0 ||
	    mkdir_p(s->gomodcache, 0755) < 0)
		return EXIT_JOB;
	return EXIT_OK;
}

static int prepare(struct run_state *s)
{
	if (release_load(s->o->file, NULL, &s->rel) < 0)
		return EXIT_USAGE;
	for (size_t i = 0; i < s->rel.nbuilds; i++)
		if (jobenv_check_build(&s->rel, &s->rel.builds[i]) < 0)
			return EXIT_USAGE;
	if (iso_choose(s->o->isolation, &s->iso) < 0)
		return EXIT_USAGE;
	char *mirror = mirror_choose(s->o->mirror, s->rel.sdk_mirror);
	if (!mirror)
		return EXIT_USAGE; /* a malformed URL is a usage error, not an SDK problem */
	struct sdk_options so = { .mirror = mirror, .offline = s->o->offline };
	int got = sdk_for_release(&s->rel, &so, &s->sdk);
	free(mirror);
	if (got < 0)
		return EXIT_TOOLCHAIN;
	if (ports_from_sdk(s->sdk.root, &s->ports) < 0) {
		warn("cannot read the port table of Go %s; using the built-in one", s->sdk.version);
		ports_builtin(&s->ports);
	}
	if (plan_make(&s->rel, &s->ports, &s->plan) < 0)
		return EXIT_USAGE;
	if (!(s->project = abs_path(s->rel.dir)) || arc_plan(&s->rel, &s->plan, s->project, &s->arcs) < 0)
		return EXIT_USAGE;
	if (jobenv_sde(&s->rel, s->sde, &s->sde_source) < 0)
		return EXIT_USAGE;
	int rc = resolve_dirs(s);
	if (rc != EXIT_OK || (rc = cc_resolve(&s->rel, &s->plan, s->cache, &s->ccs)) != EXIT_OK)
		return rc;
	int cpus = cpu_available();
	s->budget = cpu_budget((int)s->plan.n, cpus);
	if (s->o->jobs) {
		s->budget.parallel = s->o->jobs;
		s->budget.procs = cpus / s->o->jobs > 0 ? cpus / s->o->jobs : 1;
	}
	if (!(s->trampoline = iso_self_exe()))
		return EXIT_JOB;
	return EXIT_OK;
}

/* A job built: is it what it was declared to be? */
static int job_check(struct result *res, void *user)
{
	(void)user;
	return static_check_job(res->job, res->path);
}

/* A job built: its archives may be complete now. */
static void job_built(struct result *res, void *user)
{
	struct run_state *s = user;
	packer_job_done(s->packer, (size_t)(res->job - s->plan.jobs), res->path);
}

static int build_all(struct run_state *s, struct jobenv_ctx *ctx)
{
	struct build_opts bo = {
		.env = ctx, .project_dir = s->project, .stage_dir = s->stage, .work_dir = s->work,
		.parallel = s->budget.parallel, .keep_going = s->o->keep_going, .timeout_ms = s->o->timeout_ms,
		.reverse_order = s->o->reverse_order, .on_success = job_built, .check = job_check, .user = s,
		.vary_uid = s->o->vary_uid, .vary_hostname = s->o->vary_hostname,
		.hook_faketime = s->o->hook_faketime,
		.iso = s->iso, .trampoline = s->trampoline,
	};
	int rc;
	if ((rc = build_prefetch(&bo)) != EXIT_OK || (rc = build_before_hooks(&s->rel, &bo)) != EXIT_OK)
		return rc;
	note("building %zu job%s: %d at a time, -p %d each, isolation %s", s->plan.n, s->plan.n == 1 ? "" : "s",
	     s->budget.parallel, s->budget.procs, iso_level_name(s->iso));
	s->packer = packer_start(&s->arcs, &s->plan, s->stage, strtoll(s->sde, NULL, 10), s->budget.parallel);
	rc = build_run(&s->plan, &bo, &s->res);
	if (packer_finish(s->packer) < 0 && rc == EXIT_OK)
		rc = EXIT_JOB; /* pkg_write named the archive */
	s->packer = NULL;
	if (rc == EXIT_OK)
		rc = build_after_hooks(&s->rel, &bo, s->res, s->plan.n);
	if (rc == EXIT_OK)
		rc = smoke_run(&s->plan, s->res, &(struct smoke_opts){ .release = &s->rel, .all = s->o->smoke,
				.work_dir = s->work, .project_dir = s->project }, &s->smoke);
	return rc;
}

static int publish(struct run_state *s)
{
	char source[65], gosum[65];
	const char *skip[] = { NULL, NULL };
	const char *base = strrchr(s->dist, '/');
	skip[0] = base ? base + 1 : s->dist;
	if (source_digest(s->project, skip, source, NULL) < 0)
		return EXIT_JOB;
	gosum_digest(s->project, gosum);
	if (write_checksums(s) < 0)
		return EXIT_JOB;
	json_t *archives = arc_manifest(&s->arcs, &s->plan);
	struct manifest_in m = {
		.release = &s->rel, .sdk = &s->sdk, .sde = s->sde, .sde_source = s->sde_source,
		.isolation = iso_level_name(s->iso), .gosum_digest = gosum, .source_digest = source,
		.plan = &s->plan, .results = s->res, .parallel = s->budget.parallel, .procs = s->budget.procs,
		.checksums_file = s->rel.checksums.file, .archives = archives, .smoke = s->smoke,
	};
	char *path = xasprintf("%s/manifest.json", s->stage);
	int rc = manifest_write(path, &m);
	json_decref(archives);
	free(path);
	if (rc < 0 || swap_into_place(s->stage, s->dist) < 0)
		return EXIT_JOB;
	return EXIT_OK;
}

static void run_state_free(struct run_state *s)
{
	results_free(s->res, s->plan.n);
	arc_plan_release(&s->arcs);
	free(s->smoke);
	cc_set_release(&s->ccs);
	plan_release(&s->plan);
	ports_release(&s->ports);
	sdk_release(&s->sdk);
	release_clear(&s->rel);
	free(s->project);
	free(s->dist);
	free(s->work);
	free(s->stage);
	free(s->cache);
	free(s->gocache);
	free(s->gomodcache);
	free(s->zig_cache);
	free(s->cgo_tmp);
	free(s->trampoline);
}

int pipeline_run(const struct pipeline_opts *o)
{
	struct run_state s;
	memset(&s, 0, sizeof(s));
	s.o = o;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = prepare(&s);
	if (rc != EXIT_OK)
		goto out;
	struct jobenv_ctx ctx = {
		.release = &s.rel, .sdk_root = s.sdk.root, .gocache = s.gocache, .gomodcache = s.gomodcache,
		.sde = s.sde, .procs = s.budget.procs, .zig_cache = s.zig_cache,
		.cgo_tmpdir = s.cgo_tmp,
	};
	char *vendor = xasprintf("%s/vendor/modules.txt", s.project);
	ctx.vendor = access(vendor, F_OK) == 0;
	free(vendor);
	if (o->print_env) {
		rc = print_env(&s.plan, &ctx, s.work, s.stage, o->print_env);
		goto out;
	}
	if (mkdir_p(s.stage, 0755) < 0) {
		rc = EXIT_JOB;
		goto out;
	}
	rc = build_all(&s, &ctx);
	if (rc == EXIT_OK)
		rc = publish(&s);
	remove_tree(s.stage);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc == EXIT_OK) {
		double cpu = 0;
		for (size_t i = 0; i < s.plan.n; i++)
			cpu += s.res[i].cpu;
		note("built %zu job%s in %.1fs (job cpu %.1fs) into %s", s.plan.n, s.plan.n == 1 ? "" : "s",
		     (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, cpu, s.dist);
	} else if (rc == EXIT_INTERRUPTED) {
		error("interrupted: %s is unchanged", s.dist);
	}
out:
	run_state_free(&s);
	return rc;
}
