#define _GNU_SOURCE
#include "pipeline.h"
#include "cache/actcache.h"
#include "archives.h"
#include "build.h"
#include "checksums.h"
#include "cpu.h"
#include "events.h"
#include "cache/gocache.h"
#include "base/hash.h"
#include "inputs.h"
#include "base/jsonx.h"
#include "linuxpkg.h"
#include "manifest.h"
#include "base/path.h"
#include "base/proc.h"
#include "provenance.h"
#include "cache/remote.h"
#include "relverify.h"
#include "runner.h"
#include "sign.h"
#include "sbom.h"
#include "smoke.h"
#include "cache/source.h"
#include "static.h"
#include "toolchains/cc.h"
#include "toolchains/mirror.h"
#include "oci.h"
#include "universal.h"
#include "base/util.h"

#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
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
	struct uniplan uni;      /* the darwin/all fat binaries (universal.h) */
	struct ociplan images;   /* the OCI image layouts (oci.h) */
	struct lpkgplan pkgs;   /* package { } (linuxpkg.h) */
	struct packer *packer;
	struct result *res;
	char *project, *dist, *work, *stage, *cache, *gocache, *gomodcache, *zig_cache, *cgo_tmp;
	char sde[24];
	char c_inputs[65]; /* source_c_digest, for cgo jobs ("" without one) */
	const char *sde_source;
	struct cpu_budget budget;
	long long gc_limit_mib; /* the jobs' GOMEMLIMIT share (cpu.h) */
	enum iso_level iso;
	char *trampoline;
	struct actcache *actions; /* NULL with --no-cache */
	char *gocacheprog;        /* the jobs' GOCACHEPROG, or NULL */
	struct gocache_server *gcserver; /* its remote side, or NULL */
	struct inputs_ctx inputs; /* what the jobs' keys came from, for the check after each job */
	const char *skip[3];
	json_t *shard;  /* the manifest's "shard" record, or NULL */
	json_t *partial; /* its "partial" record (run --target/--build), or NULL */
	struct sign_key key; /* key.pkey NULL: the release is not signed */
	struct sbom_set sboms;
	time_t started; /* the provenance's startedOn */
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

/* The job as it would run: its value, filled in as build.c fills it. */
static int print_env(const struct plan *p, const struct jobenv_ctx *ctx, const char *want)
{
	const struct job *j = find_job(p, want);
	if (!j)
		return error("--print-env: no job '%s' (see 'xgo-build plan' for the targets)", want), EXIT_USAGE;
	struct strv env = { 0 }, argv = { 0 };
	jobenv_fill(ctx, j, NULL, NULL, &env, &argv);
	for (size_t i = 0; i < env.n; i++)
		printf("%s\n", env.v[i]);
	printf("\n");
	for (size_t i = 0; i < argv.n; i++)
		printf("%s%s", i ? " " : "", argv.v[i]);
	printf("\n");
	strv_release(&env);
	strv_release(&argv);
	return EXIT_OK;
}

/* Add name unless a file of that name is listed already (a binary
 * archive is its binary). */
static int add_once(struct sums *out, const char *stage, const char *name, const char *sha256)
{
	return sums_find(out, name) ? 0 : sums_add_published(out, stage, name, sha256);
}

/* Every published file with its sha256, into out (a HASH_SHA256 list):
 * the archives (or the binaries when there is none), the packages, the
 * universal binaries (or their archives), the image layouts' files and
 * the SBOMs; with loose, also the binaries and universal binaries that
 * dist/ holds beside their archives.  The one list the checksum file
 * (without loose) and the provenance's subjects (with) are made of. */
static int published(const struct run_state *s, int loose, struct sums *out)
{
	int rc = 0;
	for (size_t i = 0; i < s->arcs.n && rc == 0; i++)
		rc = sums_add_published(out, s->stage, s->arcs.v[i].name, s->arcs.v[i].res.sha256);
	for (size_t i = 0; i < s->pkgs.n && rc == 0; i++)
		rc = sums_add_published(out, s->stage, s->pkgs.v[i].name, s->pkgs.v[i].sha256);
	for (size_t i = 0; (loose || s->arcs.n == 0) && i < s->plan.n && rc == 0; i++)
		if (s->res[i].done && s->res[i].status == 0)
			rc = add_once(out, s->stage, s->plan.jobs[i].output, s->res[i].sha256);
	for (size_t i = 0; i < s->uni.narcs && rc == 0; i++)
		rc = sums_add_published(out, s->stage, s->uni.arcs[i].name, s->uni.arcs[i].res.sha256);
	for (size_t i = 0; (loose || s->uni.narcs == 0) && i < s->uni.n && rc == 0; i++)
		rc = add_once(out, s->stage, s->uni.v[i].output, s->uni.v[i].sha256);
	for (size_t i = 0; i < s->images.n && rc == 0; i++)
		for (size_t k = 0; k < s->images.v[i].files.n && rc == 0; k++)
			rc = sums_add_published(out, s->stage, s->images.v[i].files.v[k], s->images.v[i].shas.v[k]);
	for (size_t i = 0; i < s->sboms.n && rc == 0; i++)
		rc = sums_add_published(out, s->stage, s->sboms.v[i].name, s->sboms.v[i].sha256);
	return rc;
}

/* The checksum file over the published files (in its algorithm). */
static int write_checksums(struct run_state *s)
{
	const struct release *r = &s->rel;
	enum hash_algo algo = HASH_SHA256;
	struct sums files, sums;
	int rc;
	hash_algo_parse(r->checksums.algorithm, &algo);
	sums_init(&files, HASH_SHA256);
	sums_init(&sums, algo);
	rc = published(s, 0, &files);
	for (size_t i = 0; i < files.n && rc == 0; i++)
		rc = sums_add_published(&sums, s->stage, files.v[i].name, files.v[i].hex);
	if (rc == 0)
		rc = sums_publish(&sums, s->stage, r->checksums.file, r->checksums.per_file);
	sums_release(&sums);
	sums_release(&files);
	return rc;
}

/* The provenance's subjects: every published file and the checksum file. */
static int subjects(const struct run_state *s, struct sums *out)
{
	sums_init(out, HASH_SHA256);
	if (published(s, 1, out) < 0 || sums_add_file(out, s->stage, s->rel.checksums.file) < 0) {
		sums_release(out);
		return -1;
	}
	return 0;
}

/* Sign the checksum file, every published file when signing { archives },
 * and the provenance: the manifest's "signatures" (owned), or NULL. */
static json_t *sign_release(struct run_state *s)
{
	struct strv files = { 0 };
	strv_push(&files, s->rel.checksums.file);
	for (size_t i = 0; s->rel.signing.archives && i < s->arcs.n; i++)
		strv_push(&files, s->arcs.v[i].name);
	for (size_t i = 0; s->rel.signing.archives && !s->arcs.n && i < s->plan.n; i++)
		strv_push(&files, s->plan.jobs[i].output);
	json_t *list = sign_release_dir(&s->key, s->stage, &files, strtoll(s->sde, NULL, 10));
	strv_release(&files);
	return list;
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


/* The output directory, absolute and normalised: its parent resolved
 * (symlinks on the way are fine), its own name as written, so that a
 * symlink or a file in dist/'s place is seen and refused, not followed. */
static char *dist_path(const char *given)
{
	if (!*given) {
		error("--dist '' names no directory: give a path (default: dist/ beside release.lua)");
		return NULL;
	}
	char *raw = xstrdup(given), *slash, *out = NULL;
	size_t len = strlen(raw);
	while (len > 1 && raw[len - 1] == '/')
		raw[--len] = '\0';
	slash = strrchr(raw, '/');
	const char *name = slash ? slash + 1 : raw;
	if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(raw, "/")) {
		out = path_absolute(raw);
	} else {
		if (slash)
			*slash = '\0';
		char *parent = path_absolute(slash ? (raw[0] ? raw : "/") : ".");
		if (parent)
			out = xasprintf("%s%s%s", parent, strcmp(parent, "/") ? "/" : "", name);
		free(parent);
	}
	free(raw);
	return out;
}

/* dist/ is replaced as a whole: it must not be, or lie above, what the
 * run reads or keeps, nor lie inside the work dir or a cache. */
static int check_dist_place(const struct run_state *s)
{
	const struct { const char *what, *path; int no_inside; } keep[] = {
		{ "the project directory", s->project, 0 },
		{ "the build file", s->o->file ? s->o->file : "release.lua", 0 },
		{ "the work directory", s->work, 1 },
		{ "the cache", s->cache, 1 },
		{ "GOCACHE", s->gocache, 1 },
		{ "the zig cache", s->zig_cache, 1 },
	};
	int rc = 0;
	for (size_t i = 0; i < ARRAY_LEN(keep) && rc == 0; i++) {
		char *p = path_absolute(keep[i].path);
		if (!p)
			rc = -1;
		else if (path_within(p, s->dist))
			rc = error("--dist '%s' %s %s '%s', which a run would replace: name a directory of its own",
				   s->dist, strcmp(p, s->dist) ? "contains" : "is", keep[i].what, p);
		else if (keep[i].no_inside && path_within(s->dist, p))
			rc = error("--dist '%s' lies inside %s '%s': name a directory of its own", s->dist,
				   keep[i].what, p);
		free(p);
	}
	return rc;
}

/* Checked before anything is built: dist/ must not exist, or be a
 * directory that xgo-build wrote (util.h, DIST_MARKER) or an empty one. */
static int check_dist(const struct run_state *s)
{
	return check_dist_place(s) < 0 ? -1 : dist_check_replace(s->dist);
}

/* The work dir holds only what runs wrote: directories and regular files.
 * A symlink in it (a repository can commit .xgo-build/logs/x.log ->
 * ~/.bashrc) would make the next write land outside it.  nftw has no user
 * pointer: the first offender is kept here (one walk at a time). */
#define WORK_WALK_MAX 200000
static struct { char *bad; size_t seen; } work_walk;

static int work_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (++work_walk.seen > WORK_WALK_MAX)
		return 1; /* a huge work dir is not suspect, only slow: stop looking */
	if (flag == FTW_F || flag == FTW_D || flag == FTW_DP)
		return 0;
	work_walk.bad = xstrdup(path);
	return 1;
}

static int check_work_dir(const char *work)
{
	struct stat st;
	if (lstat(work, &st) < 0)
		return errno == ENOENT ? 0 : error("cannot stat the work directory '%s':", work);
	if (!S_ISDIR(st.st_mode))
		return error("the work directory '%s' is %s: xgo-build writes only into a directory it made; "
			     "remove it", work, S_ISLNK(st.st_mode) ? "a symlink" : "not a directory");
	work_walk.bad = NULL;
	work_walk.seen = 0;
	nftw(work, work_entry, 16, FTW_PHYS);
	if (!work_walk.bad)
		return 0;
	error("'%s' in the work directory is a symlink or special file, which no run writes: remove '%s'",
	      work_walk.bad, work);
	FREE_AND_NULL(work_walk.bad);
	return -1;
}

static int resolve_dirs(struct run_state *s)
{
	s->dist = s->o->dist ? dist_path(s->o->dist) : xasprintf("%s/dist", s->project);
	if (!s->dist)
		return EXIT_USAGE;
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
	if (check_dist(s) < 0 || check_work_dir(s->work) < 0)
		return EXIT_USAGE;
	dist_remove_stale(s->dist);
	return EXIT_OK;
}

/* The C toolchain of every cgo job, in plan order (cc.h); jobenv_plan
 * stores them in the jobs. */
static int resolve_cc(struct run_state *s)
{
	struct cc_need *need = xcalloc(s->plan.n ? s->plan.n : 1, sizeof(*need));
	for (size_t i = 0; i < s->plan.n; i++) {
		const struct job *j = &s->plan.jobs[i];
		need[i] = (struct cc_need){ j->build, &j->target, j->id, j->static_link };
	}
	int rc = cc_resolve(&s->rel, need, s->plan.n, s->cache, &s->ccs);
	free(need);
	return rc;
}

/* After the SDK: a run that cannot start leaves no directory behind. */
static int make_dirs(struct run_state *s)
{
	if (mkdir_p(s->cgo_tmp, 0755) < 0 || mkdir_p(s->work, 0755) < 0 || mkdir_p(s->gocache, 0755) < 0 ||
	    mkdir_p(s->gomodcache, 0755) < 0)
		return EXIT_JOB;
	char *work = path_absolute(s->work); /* normalised: the source walk skips it by path */
	if (!work)
		return EXIT_JOB;
	free(s->work);
	s->work = work;
	return EXIT_OK;
}

/* The project's C inputs outside package directories, when a job uses
 * cgo (source.h); none leaves s->c_inputs "". */
static int c_inputs(struct run_state *s)
{
	const char *skip[] = { s->dist, s->work, NULL };
	unsigned long n = 0;
	for (size_t i = 0; i < s->ccs.n; i++)
		if (s->ccs.v[i].kind[0]) {
			if (source_c_digest(s->project, skip, s->c_inputs, &n) < 0)
				return EXIT_JOB;
			if (!n)
				s->c_inputs[0] = '\0';
			return EXIT_OK;
		}
	return EXIT_OK;
}

/* The signing key's path: --sign-key as given, or release.lua's key, a
 * relative one being a name inside the project (path.h).  Never inside
 * dist, which publishes everything in it.  Owned, or NULL after error(). */
static char *signing_key_path(const struct run_state *s, const char *given)
{
	char *path = NULL;
	if (s->o->sign_key || given[0] == '/')
		path = path_absolute(given);
	else if (path_check_name("signing { key }", given) == 0)
		path_inside("signing { key }", s->project, given, &path);
	if (path && path_within(path, s->dist)) {
		error("the signing key '%s' is inside the output directory %s: keep it out of dist/", given, s->dist);
		FREE_AND_NULL(path);
	}
	if (path && path_within(path, s->project))
		warn("the signing key '%s' is inside the project: keep secret keys out of the repository", given);
	return path;
}

/* Load the secret key (and check its password) before anything is built. */
static int load_signing_key(struct run_state *s)
{
	const struct signing_decl *d = &s->rel.signing;
	const char *given = s->o->sign_key ? s->o->sign_key : d->key;
	if (s->o->print_env)
		return EXIT_OK; /* publishes nothing: no password to ask for */
	if (!given) {
		if (d->line)
			warn("%s:%d: signing has no key (its variable is unset?): the release is not signed", s->rel.path,
			     d->line);
		return EXIT_OK;
	}
	char *path = signing_key_path(s, given);
	int rc = path && sign_load_secret(path, d->password_env, &s->key) == 0 ? EXIT_OK : EXIT_USAGE;
	free(path);
	return rc;
}

/* A shard, or a run of some targets (--target, --build), holds only part
 * of the plan: a universal binary or an image may lack a slice or a
 * platform there, so such a run makes none (a whole run does), but their
 * declarations are checked on the whole plan all the same. */
static int check_derived_whole(struct run_state *s)
{
	struct arcplan ap;
	struct uniplan up;
	struct ociplan op;
	int any = s->rel.nimages > 0;
	for (size_t i = 0; i < s->rel.nbuilds; i++)
		any |= s->rel.builds[i].universal;
	if (!any)
		return 0;
	int rc = arc_plan(&s->rel, &s->plan, s->project, &ap);
	if (rc == 0 && (rc = oci_plan_derived(&s->rel, &s->plan, &ap, s->project, &up, &op)) == 0) {
		if (s->o->shard.n)
			note("shard %d/%d: universal binaries and OCI images are made by unsharded runs only",
			     s->o->shard.k, s->o->shard.n);
		else
			note("a run of some targets (--target, --build) makes no universal binaries or OCI images: "
			     "a run of the whole matrix does");
		oci_plan_release(&op);
		uni_plan_release(&up);
	}
	arc_plan_release(&ap); /* empty after a failed arc_plan */
	return rc;
}

static int prepare(struct run_state *s)
{
	if (plan_load(s->o->file, &s->rel) < 0 || plan_check_templates(&s->rel) || !(s->project = abs_path(s->rel.dir)))
		return EXIT_USAGE;
	/* the output directory before the SDK: a refused dist costs nothing */
	int rc = resolve_dirs(s);
	if (rc != EXIT_OK || (rc = load_signing_key(s)) != EXIT_OK)
		return rc;
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
	int part = s->o->shard.n || s->o->select.ntargets || s->o->select.nbuilds;
	if (part && check_derived_whole(s) < 0)
		return EXIT_USAGE;
	if (s->o->shard.n && shard_apply(&s->o->shard, &s->plan, &s->shard) < 0)
		return EXIT_USAGE;
	if (plan_select(&s->o->select, &s->plan, &s->partial) < 0)
		return EXIT_USAGE;
	if (arc_plan(&s->rel, &s->plan, s->project, &s->arcs) < 0 ||
	    lpkg_plan(&s->rel, &s->plan, s->project, &s->pkgs) < 0 ||
	    plan_check_published(&s->rel, &s->plan, &s->arcs, &s->pkgs) < 0 ||
	    (!part && oci_plan_derived(&s->rel, &s->plan, &s->arcs, s->project, &s->uni, &s->images) < 0))
		return EXIT_USAGE;
	if (jobenv_sde(&s->rel, s->sde, &s->sde_source) < 0)
		return EXIT_USAGE;
	if ((rc = make_dirs(s)) != EXIT_OK || (rc = resolve_cc(s)) != EXIT_OK)
		return rc;
	int cpus = cpu_available();
	s->budget = cpu_budget((int)s->plan.n, cpus);
	if (s->o->jobs) {
		s->budget.parallel = s->o->jobs;
		s->budget.procs = cpus / s->o->jobs > 0 ? cpus / s->o->jobs : 1;
	}
	s->gc_limit_mib = cpu_gc_limit_mib(s->budget.parallel * s->budget.procs + cpus);
	if (!(s->trampoline = iso_self_exe()))
		return EXIT_JOB;
	return c_inputs(s);
}

/* The remote cache: XGO_REMOTE_CACHE, else release.lua's cache { url }.
 * *rc = EXIT_USAGE for a bad address. */
static struct remote *open_remote(const struct release *r, int *rc)
{
	const char *url = getenv("XGO_REMOTE_CACHE");
	const char *ro = getenv("XGO_REMOTE_CACHE_READ_ONLY");
	const char *token_env = r->cache.token_env ? r->cache.token_env : "XGO_REMOTE_CACHE_TOKEN";
	if (!url || !*url)
		url = r->cache.url;
	if (!url)
		return NULL;
	int read_only = r->cache.read_only || (ro && *ro && strcmp(ro, "0"));
	struct remote *rem = remote_open(url, getenv(token_env), read_only);
	if (!rem)
		*rc = EXIT_USAGE;
	else
		note("remote cache: %s%s", url, read_only ? " (read-only)" : "");
	return rem;
}

/* Whether value can be one word of GOCACHEPROG, which the go command
 * splits at spaces and unquotes (quoted.Split): single quotes around it
 * when it holds no quote. */
static int quotable(const char *value)
{
	return !strpbrk(value, "'\"");
}

/* The go command's build cache through xgo-build itself (gocache.h),
 * unless cache { gocacheprog = false }, XGO_GOCACHEPROG=0 or --no-cache.
 * A program that does not answer as it should leaves the jobs on the
 * plain GOCACHE, with one warning. */
static void open_gocacheprog(struct run_state *s, struct jobenv_ctx *ctx)
{
	const char *sw = getenv("XGO_GOCACHEPROG");
	if (s->rel.cache.no_gocacheprog || (sw && !strcmp(sw, "0")))
		return;
	char *store = xasprintf("%s/prog", s->gocache);
	const char *why = NULL;
	struct remote *rem = actcache_remote(s->actions);
	if (!quotable(store) || !quotable(s->trampoline) || !quotable(s->work))
		why = "a path of the cache, the work directory or xgo-build holds a quote";
	else if (gocache_probe(s->trampoline, store, &why) == 0 && rem &&
		 !(s->gcserver = gocache_server_start(s->work, store, rem, actcache_keys(s->actions),
						      actcache_remote_max(s->actions))))
		why = "its server cannot listen in the work directory";
	if (why) {
		warn("the go build cache program is off for this run (%s): jobs use the plain GOCACHE", why);
	} else {
		s->gocacheprog = xasprintf("'%s' gocacheprog --store '%s'%s%s%s", s->trampoline, store,
					   s->gcserver ? " --server '" : "", s->gcserver ? s->work : "",
					   s->gcserver ? "'" : "");
		ctx->gocacheprog = s->gocacheprog;
	}
	free(store);
}

/* The end-of-run note of the go build cache's remote side. */
static void close_gocacheprog(struct run_state *s, int rc)
{
	struct gocache_stats st;
	if (!s->gcserver)
		return;
	gocache_server_stop(s->gcserver, rc != EXIT_INTERRUPTED, &st);
	s->gcserver = NULL;
	note("go build cache: %lu local hits, %lu from the remote (%.1f MiB), %lu built, %lu uploaded (%.1f MiB), "
	     "%lu refused",
	     st.local_hits, st.remote_hits, (double)st.bytes_down / (1 << 20), st.puts, st.uploads,
	     (double)st.bytes_up / (1 << 20), st.warnings);
	events_emit("gocache", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "local_hits",
					 (json_int_t)st.local_hits, "remote_hits", (json_int_t)st.remote_hits,
					 "misses", (json_int_t)st.misses, "puts", (json_int_t)st.puts, "uploads",
					 (json_int_t)st.uploads, "bytes_down", (json_int_t)st.bytes_down, "bytes_up",
					 (json_int_t)st.bytes_up, "warnings", (json_int_t)st.warnings, "drain_ms",
					 (json_int_t)st.drain_ms));
}

/* Input digests of every job and the action cache, unless --no-cache. */
static int open_cache(struct run_state *s, struct jobenv_ctx *ctx)
{
	int rc = EXIT_OK;
	if (s->o->no_cache)
		return EXIT_OK;
	struct remote *rem = open_remote(&s->rel, &rc);
	if (rc != EXIT_OK)
		return rc;
	if (!(s->actions = actcache_open(s->cache, rem)))
		return EXIT_JOB;
	if (actcache_configure(s->actions, &s->rel, s->project) < 0)
		return EXIT_USAGE;
	open_gocacheprog(s, ctx);
	s->skip[0] = s->dist;
	s->skip[1] = s->work;
	s->skip[2] = NULL;
	s->inputs = (struct inputs_ctx){ .env = ctx, .project_dir = s->project, .work_dir = s->work,
					 .skip = s->skip, .sdk_tree_digest = s->sdk.tree_digest };
	runner_catch_signals(NULL); /* go list may take a moment: stay interruptible */
	rc = inputs_job_keys(&s->inputs, &s->plan) < 0 ? EXIT_INTERRUPTED : EXIT_OK;
	runner_restore_signals();
	return rc;
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
	packer_job_done(s->packer, (size_t)(res->job - s->plan.jobs), res->path, res->sha256);
}

/* What is made from the built binaries after every job: the universal
 * binaries and the OCI images.  Written on every run, never cached, so
 * they always match the binaries of this run. */
static int write_extra_outputs(struct run_state *s)
{
	int64_t epoch = strtoll(s->sde, NULL, 10);
	if (uni_write(&s->uni, s->res, s->stage, epoch) < 0 ||
	    oci_write(&s->images, &s->plan, s->res, s->stage, epoch) < 0)
		return EXIT_JOB;
	return EXIT_OK;
}

static int build_all(struct run_state *s, struct jobenv_ctx *ctx)
{
	struct build_opts bo = {
		.env = ctx, .project_dir = s->project, .work_dir = s->work,
		.parallel = s->budget.parallel, .keep_going = s->o->keep_going, .timeout_ms = s->o->timeout_ms,
		.reverse_order = s->o->reverse_order, .on_success = job_built, .check = job_check, .user = s,
		.vary_uid = s->o->vary_uid, .vary_hostname = s->o->vary_hostname,
		.hook_faketime = s->o->hook_faketime,
		.iso = s->iso, .trampoline = s->trampoline, .sdk = &s->sdk,
	};
	int rc;
	if ((rc = build_prefetch(&bo)) != EXIT_OK || (rc = build_before_hooks(&s->rel, &bo)) != EXIT_OK ||
	    (rc = open_cache(s, ctx)) != EXIT_OK)
		return rc;
	bo.cache = s->actions;
	bo.inputs = &s->inputs;
	note("building %zu job%s: %d at a time, -p %d each, isolation %s", s->plan.n, s->plan.n == 1 ? "" : "s",
	     s->budget.parallel, s->budget.procs, iso_level_name(s->iso));
	s->packer = packer_start(&s->arcs, &s->plan, s->stage, strtoll(s->sde, NULL, 10), s->budget.parallel,
				 s->actions);
	rc = build_run(&s->plan, &bo, &s->res);
	close_gocacheprog(s, rc); /* the jobs ended: finish the uploads */
	if (packer_finish(s->packer) < 0 && rc == EXIT_OK)
		rc = EXIT_JOB; /* pkg_write named the archive */
	s->packer = NULL;
	if (rc == EXIT_OK)
		rc = build_after_hooks(&s->rel, &bo, s->res, s->plan.n);
	if (rc == EXIT_OK)
		rc = smoke_run(&s->plan, s->res, &(struct smoke_opts){ .release = &s->rel, .all = s->o->smoke,
				.work_dir = s->work, .project_dir = s->project }, &s->smoke);
	if (rc == EXIT_OK)
		rc = write_extra_outputs(s);
	return rc;
}

static int publish(struct run_state *s)
{
	char source[65], gosum[65];
	/* by their real paths (source.h); the default dist/ too, which a run
	 * into another --dist (verify's builds) would otherwise count as source */
	/* an earlier run's dist/ beside a run that writes elsewhere is no
	 * source (verify's copies leave it out); a dist/ without the marker is */
	char *default_dist = xasprintf("%s/dist", s->project);
	const char *skip[] = { s->dist, s->work, dist_is_ours(default_dist) ? default_dist : NULL, NULL };
	int got = source_digest(s->project, skip, source, NULL);
	free(default_dist);
	if (got < 0)
		return EXIT_JOB;
	gosum_digest(s->project, gosum);
	long long sde = strtoll(s->sde, NULL, 10);
	if (lpkg_write_all(&s->pkgs, &s->plan, s->res, s->stage, s->work, sde, s->actions) < 0 ||
	    sbom_write_all(&s->rel, &s->plan, s->res, s->stage, sde, &s->sboms) < 0 || write_checksums(s) < 0)
		return EXIT_JOB;
	struct sums subj;
	if (subjects(s, &subj) < 0)
		return EXIT_JOB;
	struct prov_in pin = {
		.release = &s->rel, .sdk = &s->sdk, .plan = &s->plan, .subjects = &subj,
		.project_dir = s->project, .source_digest = source, .sde = s->sde, .isolation = iso_level_name(s->iso),
		.started = s->started, .finished = time(NULL),
	};
	int wrote = prov_write(s->stage, &pin);
	sums_release(&subj);
	if (wrote < 0)
		return EXIT_JOB;
	/* after every file it signs (the provenance included), before the
	 * manifest that lists the signatures */
	json_t *signatures = NULL;
	if (s->key.pkey && !(signatures = sign_release(s)))
		return EXIT_JOB;
	json_t *archives = arc_manifest(&s->arcs, &s->plan), *universal = uni_manifest(&s->uni, &s->plan);
	json_t *images = oci_manifest(&s->images), *packages = lpkg_manifest(&s->pkgs, &s->plan);
	if (!archives || !universal || !images || !packages) {
		json_decref(signatures);
		json_decref(archives);
		json_decref(universal);
		json_decref(images);
		json_decref(packages);
		return error("cannot record the archives in manifest.json (a name that is not UTF-8, or out of "
			     "memory)"), EXIT_JOB;
	}
	struct manifest_in m = {
		.release = &s->rel, .sdk = &s->sdk, .sde = s->sde, .sde_source = s->sde_source,
		.isolation = iso_level_name(s->iso), .gosum_digest = gosum, .source_digest = source,
		.plan = &s->plan, .results = s->res, .parallel = s->budget.parallel, .procs = s->budget.procs,
		.checksums_file = s->rel.checksums.file, .archives = archives, .shard = s->shard, .smoke = s->smoke,
		.partial = s->partial,
		.signatures = signatures,
		.universal = universal, .images = images,
		.packages = packages,
	};
	const struct manifest_place places[] = {
		{ s->stage, "/<dist>" }, { s->dist, "/<dist>" }, { s->work, "/<work>" }, { s->sdk.root, "/<sdk>" },
		{ s->gocache, "/<gocache>" }, { s->gomodcache, "/<gomodcache>" }, { s->zig_cache, "/<zigcache>" },
		{ s->cgo_tmp, "/<cgotmp>" }, { s->cache, "/<cache>" }, { s->project, "/<project>" },
		{ getenv("HOME"), "/<home>" },
	};
	m.places = places;
	m.sboms = sbom_manifest(&s->sboms, &s->plan);
	m.provenance = PROV_FILE;
	m.nplaces = ARRAY_LEN(places);
	char *path = xasprintf("%s/manifest.json", s->stage);
	int rc = manifest_write(path, &m) < 0 ? EXIT_JOB : EXIT_OK;
	json_decref(archives);
	json_decref(signatures);
	json_decref(universal);
	json_decref(images);
	json_decref(packages);
	json_decref(m.sboms);
	free(path);
	if (rc == EXIT_OK && stamp_tree(s->stage, strtoll(s->sde, NULL, 10)) < 0)
		rc = EXIT_JOB;
	if (rc == EXIT_OK && runner_last_signal())
		rc = EXIT_INTERRUPTED; /* not swapped: the caller removes the stage */
	if (rc == EXIT_OK && swap_into_place(s->stage, s->dist) < 0)
		rc = EXIT_JOB;
	return rc;
}

/* The artifacts as a Markdown table, for $GITHUB_STEP_SUMMARY. */
static void github_summary(const struct run_state *s, int rc)
{
	if (events_ci() != CI_GITHUB)
		return;
	struct buf md;
	buf_init(&md, 1 << 20);
	buf_printf(&md, "### xgo-build: %s %s — %s\n\n", s->rel.project, s->rel.version,
		   rc == EXIT_OK ? "built" : "failed");
	buf_puts(&md, "| Job | Status | Time | SHA-256 |\n|---|---|---|---|\n");
	for (size_t i = 0; s->res && i < s->plan.n; i++) {
		const struct result *r = &s->res[i];
		const char *st = !r->done ? "not run" : r->status ? "**failed**" : r->cached ? "cached" : "ok";
		buf_printf(&md, "| %s %s | %s | %.1fs | `%s` |\n", s->plan.jobs[i].build->name, s->plan.jobs[i].id,
			   st, r->wall, r->status == 0 && r->done ? r->sha256 : "");
	}
	if (rc == EXIT_OK && s->arcs.n) {
		buf_puts(&md, "\n| Archive | Size | SHA-256 |\n|---|---|---|\n");
		for (size_t i = 0; i < s->arcs.n; i++)
			buf_printf(&md, "| %s | %llu | `%s` |\n", s->arcs.v[i].name,
				   (unsigned long long)s->arcs.v[i].res.size, s->arcs.v[i].res.sha256);
	}
	buf_puts(&md, "\n");
	ci_summary(md.data ? md.data : "");
	buf_release(&md);
}

static void emit_finished(const struct run_state *s, int rc, double seconds)
{
	size_t built = 0, cached = 0, failed = 0;
	double cpu = 0;
	for (size_t i = 0; s->res && i < s->plan.n; i++) {
		const struct result *r = &s->res[i];
		built += r->done && r->status == 0 && !r->cached;
		cached += r->done && r->status == 0 && r->cached;
		failed += r->done && r->status != 0;
		cpu += r->cpu;
	}
	for (size_t i = 0; rc == EXIT_OK && i < s->arcs.n; i++)
		events_emit("archive", json_pack("{s:s, s:I, s:s}", "name", s->arcs.v[i].name, "size",
						 (json_int_t)s->arcs.v[i].res.size, "sha256", s->arcs.v[i].res.sha256));
	const char *status = rc == EXIT_OK ? "ok" : rc == EXIT_INTERRUPTED ? "interrupted" : "failed";
	json_t *o = json_pack("{s:s, s:i, s:I, s:I, s:I, s:I, s:f, s:f}", "status", status, "exit", rc, "jobs",
			      (json_int_t)s->plan.n, "built", (json_int_t)built, "cached", (json_int_t)cached,
			      "failed", (json_int_t)failed, "duration_s", (double)(long long)(seconds * 1000) / 1000,
			      "job_cpu_s", (double)(long long)(cpu * 1000) / 1000);
	if (s->dist)
		jx_set(o, "dist", jx_text(s->dist));
	if (rc != EXIT_OK && error_last()[0])
		jx_set(o, "error", jx_text(error_last()));
	events_emit("run_finished", o);
}

static void run_state_free(struct run_state *s)
{
	sign_key_release(&s->key);
	results_free(s->res, s->plan.n);
	arc_plan_release(&s->arcs);
	uni_plan_release(&s->uni);
	oci_plan_release(&s->images);
	lpkg_plan_release(&s->pkgs);
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
	gocache_server_stop(s->gcserver, 0, NULL); /* a run that ended early */
	free(s->gocacheprog);
	actcache_close(s->actions);
	json_decref(s->shard);
	json_decref(s->partial);
	sbom_set_release(&s->sboms);
}

/* Signals.  Before the staging directory exists a run has nothing to
 * clean up, and a step like the SDK download would not notice a flag:
 * SIGINT, SIGTERM or SIGHUP end it at once, with the documented code.
 * From then on they are caught for the whole run (runner.h, nested by
 * each step), so every step stops, the stage is removed and the exit
 * code is EXIT_INTERRUPTED. */
static const int run_signals[] = { SIGINT, SIGTERM, SIGHUP };

static void end_now(int sig)
{
	static const char msg[] = "xgo-build: error: interrupted: dist/ is unchanged\n";
	(void)sig;
	ssize_t n = write(2, msg, sizeof(msg) - 1);
	(void)n;
	_exit(EXIT_INTERRUPTED);
}

static void signals_end_now(struct sigaction old[ARRAY_LEN(run_signals)])
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = end_now;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_LEN(run_signals); i++)
		sigaction(run_signals[i], &sa, &old[i]);
}

/* Put the old handlers back and catch for the run, with the signals
 * blocked meanwhile: one that comes in between is caught, not lost. */
static void signals_catch(const struct sigaction old[ARRAY_LEN(run_signals)])
{
	sigset_t set, saved;
	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_LEN(run_signals); i++)
		sigaddset(&set, run_signals[i]);
	sigprocmask(SIG_BLOCK, &set, &saved);
	for (size_t i = 0; i < ARRAY_LEN(run_signals); i++)
		sigaction(run_signals[i], &old[i], NULL);
	runner_catch_signals(NULL);
	sigprocmask(SIG_SETMASK, &saved, NULL);
}

int pipeline_run(const struct pipeline_opts *o)
{
	struct run_state s;
	memset(&s, 0, sizeof(s));
	s.o = o;
	s.started = time(NULL);
	double t0 = mono_seconds();
	events_emit("run_started", json_pack("{s:o, s:s}", "release", jx_text(o->file ? o->file : "release.lua"),
					     "tool", XGO_VERSION));
	error_clear();
	struct sigaction old_actions[ARRAY_LEN(run_signals)];
	signals_end_now(old_actions);
	int rc = prepare(&s);
	signals_catch(old_actions);
	if (rc != EXIT_OK)
		goto out;
	struct jobenv_ctx ctx = {
		.release = &s.rel, .sdk_root = s.sdk.root, .gocache = s.gocache, .gomodcache = s.gomodcache,
		.sde = s.sde, .procs = s.budget.procs, .zig_cache = s.zig_cache,
		.gc_limit_mib = s.gc_limit_mib,
		.cgo_tmpdir = s.cgo_tmp, .c_inputs = s.c_inputs[0] ? s.c_inputs : NULL,
	};
	char *vendor = xasprintf("%s/vendor/modules.txt", s.project);
	ctx.vendor = access(vendor, F_OK) == 0;
	free(vendor);
	if (jobenv_plan(&ctx, &s.ccs, s.work, s.stage, &s.plan) < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (o->print_env) {
		rc = print_env(&s.plan, &ctx, o->print_env);
		goto out;
	}
	if (dist_make_stage(s.stage) < 0) {
		rc = EXIT_JOB;
		goto out;
	}
	events_emit("plan_ready", json_pack("{s:I, s:i, s:i, s:s, s:o}", "jobs", (json_int_t)s.plan.n, "parallel",
					    s.budget.parallel, "procs_per_job", s.budget.procs, "isolation",
					    iso_level_name(s.iso), "dist", jx_text(s.dist)));
	rc = build_all(&s, &ctx);
	if (rc == EXIT_OK)
		rc = publish(&s); /* a signal while writing the release: stops before the swap */
	remove_tree(s.stage);
	github_summary(&s, rc);
	if (rc == EXIT_OK) {
		double cpu = 0;
		size_t cached = 0;
		for (size_t i = 0; i < s.plan.n; i++) {
			cpu += s.res[i].cpu;
			cached += s.res[i].cached;
		}
		char from[64] = "";
		if (cached)
			snprintf(from, sizeof(from), ", %zu from the action cache", cached);
		note("built %zu job%s in %.1fs (job cpu %.1fs%s) into %s", s.plan.n, s.plan.n == 1 ? "" : "s",
		     mono_seconds() - t0, cpu, from, s.dist);
	} else if (rc == EXIT_INTERRUPTED) {
		error("interrupted: %s is unchanged", s.dist);
	}
out:
	runner_restore_signals();
	emit_finished(&s, rc, mono_seconds() - t0);
	run_state_free(&s);
	return rc;
}
