/* xgo-build run: the whole pipeline, release.lua to dist/.
 *
 * Only options and wiring: load -> SDK -> port table -> plan -> prefetch ->
 * hooks -> builds -> checksums + manifest -> swap the staging directory
 * into dist/.  dist/ is replaced only by a complete run. */
#define _GNU_SOURCE
#include "build.h"
#include "cli.h"
#include "cpu.h"
#include "hash.h"
#include "manifest.h"
#include "proc.h"
#include "source.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char run_help[] =
	"usage: xgo-build run [options] [release.lua]\n"
	"\n"
	"Build every job of the plan with the pinned Go SDK, in parallel, each in an\n"
	"environment built from nothing, hash the outputs and write dist/: the\n"
	"binaries, SHA256SUMS and manifest.json.  dist/ is replaced only when the\n"
	"whole run succeeded.\n"
	"\n"
	"options:\n"
	"      --dist DIR          output directory (default: dist/ beside release.lua)\n"
	"      --keep-going        build every job even after a failure\n"
	"      --fail-fast         stop starting jobs at the first failure (default)\n"
	"      --timeout SECONDS   kill a job that runs longer (default: none)\n"
	"      --isolation MODE    auto (default): no network for build jobs when user and\n"
	"                          network namespaces work, else none; net: require it;\n"
	"                          none: ordinary child processes\n"
	"      --print-env TARGET  print the environment and argv of one job (a target as\n"
	"                          'xgo-build plan' shows it, or BUILD:TARGET) and exit\n"
	"      --sdk-mirror URL    where to download the Go SDK from (also XGO_SDK_MIRROR)\n"
	"      --offline           never download the SDK\n"
	CLI_COMMON_HELP
	"\n"
	"environment: XGO_CACHE (cache root), XGO_GOCACHE (the shared GOCACHE; default\n"
	"<cache>/gocache), SOURCE_DATE_EPOCH.\n"
	"exit codes: 0 ok, 1 a job failed, 2 usage or build-file error, 4 SDK problem,\n"
	"130 interrupted\n";

struct run_opts {
	struct cli_common c;
	const char *dist;
	const char *print_env;
	const char *isolation;
	const char *mirror;
	int keep_going, offline;
	long timeout_ms;
};

static int parse_timeout(const char *arg, long *ms)
{
	char *end;
	double s = strtod(arg, &end);
	if (*arg == '\0' || *end || s <= 0 || s > 7 * 24 * 3600)
		return error("--timeout wants seconds (a positive number), not '%s'", arg);
	*ms = (long)(s * 1000);
	return 0;
}

static int parse_run_opts(int argc, char **argv, struct run_opts *o)
{
	enum { O_DIST = 256, O_KEEP, O_FAIL, O_TIMEOUT, O_ISO, O_PRINT, O_MIRROR, O_OFFLINE };
	static const struct option longopts[] = {
		{ "dist", required_argument, 0, O_DIST },
		{ "keep-going", no_argument, 0, O_KEEP },
		{ "fail-fast", no_argument, 0, O_FAIL },
		{ "timeout", required_argument, 0, O_TIMEOUT },
		{ "isolation", required_argument, 0, O_ISO },
		{ "print-env", required_argument, 0, O_PRINT },
		{ "sdk-mirror", required_argument, 0, O_MIRROR },
		{ "offline", no_argument, 0, O_OFFLINE },
		CLI_COMMON_LONG,
		{ 0, 0, 0, 0 },
	};
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(run_help, stdout);
			return 1;
		case O_DIST: o->dist = optarg; break;
		case O_KEEP: o->keep_going = 1; break;
		case O_FAIL: o->keep_going = 0; break;
		case O_TIMEOUT:
			if (parse_timeout(optarg, &o->timeout_ms) < 0)
				return -1;
			break;
		case O_ISO: o->isolation = optarg; break;
		case O_PRINT: o->print_env = optarg; break;
		case O_MIRROR: o->mirror = optarg; break;
		case O_OFFLINE: o->offline = 1; break;
		default: {
			int r = cli_common_opt(&o->c, opt, optarg);
			if (r < 0)
				return -1;
			if (r == 0)
				return cli_usage_error("run", "unknown option"), -1;
		}
		}
	}
	return cli_positional_file(&o->c, argc, argv, optind);
}

/* The pinned SDK's own port table (go tool dist list -json); the built-in
 * one when the SDK cannot tell. */
static void sdk_ports(const struct sdk *s, struct port_table *t)
{
	char *go = xasprintf("%s/bin/go", s->root);
	char *argv[] = { go, "tool", "dist", "list", "-json", NULL };
	char *root = xasprintf("GOROOT=%s", s->root);
	char *envp[] = { root, "GOENV=off", "GOTOOLCHAIN=local", "HOME=/nonexistent", "PATH=/usr/bin:/bin", NULL };
	struct buf out;
	int status;
	buf_init(&out, 1 << 20);
	if (proc_capture(argv, envp, NULL, &out, NULL, &status) < 0 || status != 0 || !out.data ||
	    ports_from_json(out.data, out.len, t) < 0) {
		warn("cannot read the port table of Go %s; using the built-in one", s->version);
		ports_builtin(t);
	}
	buf_release(&out);
	free(go);
	free(root);
}

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

/* SHA256SUMS (or SHA512SUMS) over the binaries, sorted, in sha256sum's
 * format, so that `sha256sum -c` passes inside dist/. */
static int write_checksums(const struct release *r, const struct plan *p, const struct result *res,
			   const char *stage)
{
	enum hash_algo algo = HASH_SHA256;
	hash_algo_parse(r->checksums.algorithm, &algo);
	struct strv lines = { 0 };
	int rc = -1;
	for (size_t i = 0; i < p->n; i++) {
		char hex[HASH_HEX_MAX];
		if (algo == HASH_SHA256)
			memcpy(hex, res[i].sha256, 65);
		else if (hash_file_hex(algo, res[i].path, hex, NULL) < 0)
			goto out;
		strv_pushf(&lines, "%s  %s\n", hex, p->jobs[i].output);
	}
	/* sorted by file name, not by digest */
	for (size_t i = 1; i < lines.n; i++)
		for (size_t k = i; k > 0 && strcmp(strchr(lines.v[k - 1], ' '), strchr(lines.v[k], ' ')) > 0; k--) {
			char *t = lines.v[k];
			lines.v[k] = lines.v[k - 1];
			lines.v[k - 1] = t;
		}
	struct buf b;
	buf_init(&b, 64u << 20);
	for (size_t i = 0; i < lines.n; i++)
		buf_puts(&b, lines.v[i]);
	char *path = xasprintf("%s/%s", stage, r->checksums.file);
	rc = write_file_atomic(path, b.data ? b.data : "", b.len, 0644);
	free(path);
	buf_release(&b);
out:
	strv_release(&lines);
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

struct run_state {
	struct run_opts o;
	struct release rel;
	struct sdk sdk;
	struct port_table ports;
	struct plan plan;
	struct result *res;
	char *project, *dist, *work, *stage, *cache, *gocache, *gomodcache;
	char sde[24];
	const char *sde_source;
	struct cpu_budget budget;
	enum iso_level iso;
	char *trampoline;
};

static int resolve_dirs(struct run_state *s)
{
	if (!(s->project = abs_path(s->rel.dir)))
		return EXIT_USAGE;
	s->dist = s->o.dist ? xstrdup(s->o.dist) : xasprintf("%s/dist", s->project);
	if (s->dist[0] != '/') {
		char *cwd = getcwd(NULL, 0);
		char *a = xasprintf("%s/%s", cwd ? cwd : ".", s->dist);
		free(cwd);
		free(s->dist);
		s->dist = a;
	}
	s->work = xasprintf("%s/.xgo-build", s->project);
	s->stage = xasprintf("%s.tmp-%ld", s->dist, (long)getpid());
	s->cache = sdk_cache_dir();
	const char *gc = getenv("XGO_GOCACHE");
	if (gc && gc[0] != '/')
		return error("XGO_GOCACHE='%s' must be an absolute path", gc), EXIT_USAGE;
	s->gocache = gc ? xstrdup(gc) : xasprintf("%s/gocache", s->cache);
	s->gomodcache = xasprintf("%s/gomodcache", s->cache);
	if (mkdir_p(s->work, 0755) < 0 || mkdir_p(s->gocache, 0755) < 0 || mkdir_p(s->gomodcache, 0755) < 0)
		return EXIT_JOB;
	return EXIT_OK;
}

static int prepare(struct run_state *s)
{
	if (release_load(s->o.c.file, NULL, &s->rel) < 0)
		return EXIT_USAGE;
	for (size_t i = 0; i < s->rel.nbuilds; i++)
		if (jobenv_check_build(&s->rel, &s->rel.builds[i]) < 0)
			return EXIT_USAGE;
	if (iso_choose(s->o.isolation, &s->iso) < 0)
		return EXIT_USAGE;
	struct sdk_options so = { .mirror = s->o.mirror, .offline = s->o.offline };
	if (sdk_for_release(&s->rel, &so, &s->sdk) < 0)
		return EXIT_TOOLCHAIN;
	sdk_ports(&s->sdk, &s->ports);
	if (plan_make(&s->rel, &s->ports, &s->plan) < 0)
		return EXIT_USAGE;
	if (jobenv_sde(&s->rel, s->sde, &s->sde_source) < 0)
		return EXIT_USAGE;
	int rc = resolve_dirs(s);
	if (rc != EXIT_OK)
		return rc;
	int cpus = cpu_available();
	s->budget = cpu_budget((int)s->plan.n, cpus);
	if (s->o.c.jobs) {
		s->budget.parallel = s->o.c.jobs;
		s->budget.procs = cpus / s->o.c.jobs > 0 ? cpus / s->o.c.jobs : 1;
	}
	if (!(s->trampoline = iso_self_exe()))
		return EXIT_JOB;
	return EXIT_OK;
}

static int build_all(struct run_state *s, struct jobenv_ctx *ctx)
{
	struct build_opts bo = {
		.env = ctx, .project_dir = s->project, .stage_dir = s->stage, .work_dir = s->work,
		.parallel = s->budget.parallel, .keep_going = s->o.keep_going, .timeout_ms = s->o.timeout_ms,
		.iso = s->iso, .trampoline = s->trampoline,
	};
	int rc;
	if ((rc = build_prefetch(&bo)) != EXIT_OK || (rc = build_before_hooks(&s->rel, &bo)) != EXIT_OK)
		return rc;
	note("building %zu job%s: %d at a time, -p %d each, isolation %s", s->plan.n, s->plan.n == 1 ? "" : "s",
	     s->budget.parallel, s->budget.procs, iso_level_name(s->iso));
	rc = build_run(&s->plan, &bo, &s->res);
	if (rc == EXIT_OK)
		rc = build_after_hooks(&s->rel, &bo, s->res, s->plan.n);
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
	if (write_checksums(&s->rel, &s->plan, s->res, s->stage) < 0)
		return EXIT_JOB;
	struct manifest_in m = {
		.release = &s->rel, .sdk = &s->sdk, .sde = s->sde, .sde_source = s->sde_source,
		.isolation = iso_level_name(s->iso), .gosum_digest = gosum, .source_digest = source,
		.plan = &s->plan, .results = s->res, .parallel = s->budget.parallel, .procs = s->budget.procs,
		.checksums_file = s->rel.checksums.file,
	};
	char *path = xasprintf("%s/manifest.json", s->stage);
	int rc = manifest_write(path, &m);
	free(path);
	if (rc < 0 || swap_into_place(s->stage, s->dist) < 0)
		return EXIT_JOB;
	return EXIT_OK;
}

static void run_state_free(struct run_state *s)
{
	results_free(s->res, s->plan.n);
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
	free(s->trampoline);
}

int cmd_run(int argc, char **argv)
{
	struct run_state s;
	memset(&s, 0, sizeof(s));
	int p = parse_run_opts(argc, argv, &s.o);
	if (p != 0)
		return p > 0 ? EXIT_OK : EXIT_USAGE;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = prepare(&s);
	if (rc != EXIT_OK)
		goto out;
	struct jobenv_ctx ctx = {
		.release = &s.rel, .sdk_root = s.sdk.root, .gocache = s.gocache, .gomodcache = s.gomodcache,
		.sde = s.sde, .procs = s.budget.procs,
	};
	char *vendor = xasprintf("%s/vendor/modules.txt", s.project);
	ctx.vendor = access(vendor, F_OK) == 0;
	free(vendor);
	if (s.o.print_env) {
		rc = print_env(&s.plan, &ctx, s.work, s.stage, s.o.print_env);
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
