/* xgo-build plan: the expanded jobs, as a table or as JSON for CI. */
#define _POSIX_C_SOURCE 200809L
#include "archives.h"
#include "oci.h"
#include "universal.h"
#include "cli.h"
#include "events.h"
#include "jobenv.h"
#include "base/jsonx.h"
#include "linuxpkg.h"
#include "base/path.h"
#include "plan.h"
#include "shard.h"
#include "template.h"
#include "toolchains/cc.h"
#include "toolchains/sdk.h"
#include "base/util.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char plan_help[] =
	"usage: xgo-build plan [options] [release.lua]\n"
	"\n"
	"Show the jobs the build file expands to: one per build and target, with\n"
	"the output path under dist/ and the variant variable set for it, whether\n"
	"the binary is linked static (and checked to be, after the build), and\n"
	"which C toolchain builds a cgo target (zig, gcc, host or a path).\n"
	"Every name the release would publish (outputs, archives and their entries,\n"
	"checksum files, manifest.json) is checked as 'run' checks it: an invalid\n"
	"name, or two files with one name, is exit 2 before anything is built.\n"
	"The universal binaries and OCI images made from the built binaries are\n"
	"checked too and listed after the jobs.\n"
	"\n"
	"Every template is checked against the variables it gets: {name} {version}\n"
	"{tag} {commit} {short_commit} {commit_date} {commit_timestamp} {major}\n"
	"{minor} {patch} {prerelease} everywhere; {build} {binary} {os} {arch}\n"
	"{variant} {ext} {target} per job; {lbrace} {rbrace} literal braces.  The\n"
	"git facts are read once from the checkout; without project { version }\n"
	"the version is the tag, or a snapshot (docs/templates.md).\n"
	"\n"
	"options:\n"
	"      --json          one JSON event (README, \"JSON events\") instead of a\n"
	"                      table: the plan, each job in its \"include\" list\n"
	"      --matrix N      print the CI matrix of N shards instead, as one line of\n"
	"                      JSON: {\"include\":[{\"shard\":\"1/N\",\"targets\":\"linux/amd64\n"
	"                      ...\",\"jobs\":4,\"weight\":4.0},...]}; each entry's shard is\n"
	"                      the value of 'run --shard', targets what it builds\n"
	"      --timings FILE  with --matrix: balance by the durations in FILE, a previous\n"
	"                      run's manifest.json (as 'run --timings')\n"
	"      --overlap       with --matrix: as 'run --overlap' (one target on two shards)\n"
	CLI_COMMON_HELP;

/* The toolchain a cgo job will use, as declared ("-" without cgo). */
static const char *cc_name(const struct release *r, const struct job *j)
{
	const char *cc = j->target.cgo ? cc_choose(&r->cc, &j->target) : "-";
	return cc ? cc : "none";
}

static json_t *job_json(const struct release *r, const struct job *j)
{
	json_t *env = json_object();
	jx_set(env, "GOOS", json_string(j->target.goos));
	jx_set(env, "GOARCH", json_string(j->target.goarch));
	jx_set(env, "CGO_ENABLED", json_string(j->target.cgo ? "1" : "0"));
	if (j->target.vkey[0])
		jx_set(env, j->target.vkey, json_string(j->target.vval));
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:b, s:s, s:b, s:o}",
			      "build", j->build->name, "target", j->id, "goos", j->target.goos,
			      "goarch", j->target.goarch, "cgo", j->target.cgo,
			      "variant", j->target.vkey[0] ? j->target.vkey : "",
			      "variant_value", j->target.vval, "variant_explicit", j->target.vexplicit,
			      "output", j->output, "first_class", j->target.first_class, "env", env);
	jx_set(o, "static", json_boolean(j->static_link));
	jx_set(o, "cc", j->target.cgo ? json_string(cc_name(r, j)) : json_null());
	return o;
}

static int print_json(const struct release *r, const struct plan *p, const struct port_table *ports)
{
	json_t *jobs = json_array();
	for (size_t i = 0; i < p->n; i++)
		jx_push(jobs, job_json(r, &p->jobs[i]));
	json_t *skipped = json_array();
	for (size_t i = 0; i < p->skipped.n; i++)
		jx_push(skipped, json_string(p->skipped.v[i]));
	events_emit("plan", json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "project", r->project, "version",
				      r->version, "go", r->go_version, "release_digest", r->digest, "ports",
				      ports->source, "skipped", skipped, "include", jobs));
	return ferror(stdout) ? error("cannot write the plan to standard output") : 0;
}

static void print_table(const struct release *r, const struct plan *p, const struct port_table *ports)
{
	size_t wb = 5, wt = 6, wv = 7;
	for (size_t i = 0; i < p->n; i++) {
		const struct job *j = &p->jobs[i];
		size_t lv = strlen(j->target.vkey) + strlen(j->target.vval) + 1;
		wb = strlen(j->build->name) > wb ? strlen(j->build->name) : wb;
		wt = strlen(j->id) > wt ? strlen(j->id) : wt;
		wv = lv > wv ? lv : wv;
	}
	printf("%s %s, go %s, %zu job%s (ports: %s)\n\n", r->project, r->version, r->go_version, p->n,
	       p->n == 1 ? "" : "s", ports->source);
	printf("%-*s  %-*s  %-3s  %-6s  %-4s  %-*s  %s\n", (int)wb, "BUILD", (int)wt, "TARGET", "CGO", "STATIC", "CC",
	       (int)wv, "VARIANT", "OUTPUT");
	for (size_t i = 0; i < p->n; i++) {
		const struct job *j = &p->jobs[i];
		char variant[64] = "-";
		if (j->target.vkey[0])
			snprintf(variant, sizeof(variant), "%s=%s", j->target.vkey, j->target.vval);
		printf("%-*s  %-*s  %-3s  %-6s  %-4s  %-*s  %s\n", (int)wb, j->build->name, (int)wt, j->id,
		       j->target.cgo ? "yes" : "no", j->static_link ? "yes" : "no", cc_name(r, j), (int)wv, variant,
		       j->output);
	}
}

static int shard_option(int opt, const char *arg, struct shard_spec *sp)
{
	char *end;
	long n;
	switch (opt) {
	case 'M':
		n = strtol(arg, &end, 10);
		if (end == arg || *end || n < 1 || n > SHARD_MAX)
			return cli_usage_error("plan", "--matrix wants a number of shards from 1 to %d, not '%s'",
					       SHARD_MAX, arg), -1;
		sp->n = (int)n;
		return 0;
	case 'T': sp->timings = arg; return 0;
	default: sp->overlap = 1; return 0;
	}
}

/* One line, so that CI can put it in an output variable as it is. */
static int print_matrix(const struct plan *p, const struct shard_spec *sp)
{
	struct shard_split split;
	if (shard_split(p, sp, &split) < 0)
		return EXIT_USAGE;
	json_t *doc = shard_matrix(&split);
	shard_split_release(&split);
	int rc = json_dumpf(doc, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	json_decref(doc);
	fputc('\n', stdout);
	return rc < 0 ? error("cannot write the matrix to standard output"), EXIT_JOB : EXIT_OK;
}

/* The pinned SDK's port table when the SDK is already in the cache; plan
 * never downloads or copies an SDK, so otherwise the built-in table. */
static void plan_ports(const struct release *r, struct port_table *t)
{
	struct lock l = { 0 };
	struct sdk s = { 0 };
	int found = 0;
	int saved = error_quiet(1);
	const struct lock_platform *pin = sdk_pin_for(r, sdk_host_platform(), &l);
	if (pin) {
		struct sdk_request req = { .version = r->go_version, .pin = pin, .offline = 1, .no_local = 1,
					   .cache_only = 1 };
		found = sdk_resolve(&req, &s) == 0 && ports_from_sdk(s.root, t) == 0;
		sdk_release(&s);
	}
	lock_clear(&l);
	error_quiet(saved);
	error_clear();
	if (!found)
		ports_builtin(t);
}

static void derived_images(const struct ociplan *op, struct strv *derived)
{
	for (size_t i = 0; i < op->n; i++) {
		struct buf b;
		buf_init(&b, 4096);
		for (size_t k = 0; k < op->v[i].nplats; k++)
			buf_printf(&b, "%s%s", k ? ", " : "", op->v[i].plats[k].platform);
		strv_pushf(derived, "image %s:%s (%s) -> %s/", op->v[i].decl->name, op->v[i].tag, b.data,
			   op->v[i].dir);
		buf_release(&b);
	}
}

/* What run refuses before building, plan refuses too (plan.h,
 * universal.h); derived gets a line per output made from built binaries. */
static int check_published(const struct release *r, const struct plan *p, struct strv *derived)
{
	struct arcplan ap;
	struct uniplan up;
	struct ociplan op;
	struct lpkgplan lp;
	char *dir = path_absolute(r->dir);
	int rc = -1;
	if (dir && arc_plan(r, p, dir, &ap) == 0) {
		if (lpkg_plan(r, p, dir, &lp) == 0) {
			rc = plan_check_published(r, p, &ap, &lp);
			lpkg_plan_release(&lp);
		}
		if (rc == 0 && (rc = oci_plan_derived(r, p, &ap, dir, &up, &op)) == 0) {
			for (size_t i = 0; i < up.n; i++)
				strv_pushf(derived, "%s darwin/all (universal: %s + %s) -> %s", up.v[i].build->name,
					   p->jobs[up.v[i].amd64].id, p->jobs[up.v[i].arm64].id, up.v[i].output);
			derived_images(&op, derived);
			oci_plan_release(&op);
			uni_plan_release(&up);
		}
		arc_plan_release(&ap);
	}
	free(dir);
	return rc;
}

/* Each build's ldflags and smoke.expect expand (one job of the build
 * stands for all: they share the variables); the number that do not. */
static int check_templates(const struct release *r, const struct plan *p)
{
	int bad = 0;
	for (size_t i = 0; i < r->nbuilds; i++) {
		const struct build_decl *b = &r->builds[i];
		const struct job *j = NULL;
		for (size_t k = 0; k < p->n && !j; k++)
			j = p->jobs[k].build == b ? &p->jobs[k] : NULL;
		if (!j)
			continue;
		struct tmpl_var vars[PLAN_VARS];
		char scratch[PLAN_SCRATCH], where[256];
		char *out = NULL;
		plan_vars(r, j, vars, scratch);
		snprintf(where, sizeof(where), "%s:%d: build '%s': ldflags", r->path, b->line, b->name);
		for (size_t k = 0; k < b->ldflags.n; k++) {
			int r1 = tmpl_expand(b->ldflags.v[k], vars, PLAN_VARS, where, &out);
			FREE_AND_NULL(out);
			if (r1 < 0) {
				bad++;
				break;
			}
		}
		snprintf(where, sizeof(where), "%s:%d: build '%s': smoke.expect", r->path, b->line, b->name);
		if (b->smoke_expect && tmpl_expand(b->smoke_expect, vars, PLAN_VARS, where, &out) < 0)
			bad++;
		free(out);
	}
	return bad;
}

/* Everything known before building (check, plan): each build's env, the
 * matrix, templates, the archives' files, every published name, packages,
 * universal binaries and images.  Every stage that can run runs, so each
 * problem is said; returns how many were found.  *p is the plan (empty
 * when it could not be made). */
static int check_release(const struct release *r, const struct port_table *ports, struct plan *p,
			 struct strv *derived)
{
	int bad = 0;
	for (size_t i = 0; i < r->nbuilds; i++)
		bad += jobenv_check_build(r, &r->builds[i]) < 0;
	if (plan_make(r, ports, p) < 0) {
		/* no plan: still each build that plans alone (its templates, said
		 * quietly once already if it fails), and the archives' files */
		for (size_t i = 0; i < r->nbuilds; i++) {
			struct release one = *r;
			struct plan bp;
			one.builds = &r->builds[i];
			one.nbuilds = 1;
			int v = verbosity;
			int saved = error_quiet(1);
			verbosity = -1; /* its warnings too were said */
			int r1 = plan_make(&one, ports, &bp);
			error_quiet(saved);
			verbosity = v;
			if (r1 == 0) {
				bad += check_templates(r, &bp);
				plan_release(&bp);
			}
		}
		struct arcplan ap;
		char *dir = path_absolute(r->dir);
		bad++;
		if (dir && arc_plan(r, p, dir, &ap) < 0)
			bad++;
		else if (dir)
			arc_plan_release(&ap);
		free(dir);
		return bad;
	}
	bad += check_templates(r, p);
	bad += check_published(r, p, derived) < 0;
	char sde[24];
	const char *source;
	bad += jobenv_sde(r, sde, &source) < 0;
	return bad;
}

static const char check_help[] =
	"usage: xgo-build check [options] [release.lua]\n"
	"\n"
	"Check everything that can be known before building, without the Go SDK or\n"
	"the network: the build file loads, each build's env and flags are allowed,\n"
	"the matrix expands (an exclude entry that removes nothing is a warning),\n"
	"the templates of outputs, ldflags, smoke.expect and archive names expand,\n"
	"every archive and image 'files' pattern matches a file inside the project\n"
	"(unless marked { src = ..., optional = true }), every published name is\n"
	"valid and published once, and the packages, universal binaries and images\n"
	"are consistent.  Every problem is one 'xgo-build: error:' line naming\n"
	"release.lua's line; check goes on past a problem where it can, so one run\n"
	"lists them all.  'plan' runs the same checks before its table.\n"
	"\n"
	"options:\n"
	CLI_COMMON_HELP
	"\n"
	"exit codes: 0 no problem (one summary line), 2 problems found or usage\n";

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONG, { 0, 0, 0, 0 } };
	struct cli_common c = { 0 };
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(check_help, stdout);
			return EXIT_OK;
		}
		int r = cli_common_opt(&c, opt, optarg);
		if (r < 0)
			return EXIT_USAGE;
		if (r == 0)
			return cli_bad_option("check", argv);
	}
	if (cli_positional_file(&c, argc, argv, optind) < 0)
		return EXIT_USAGE;
	struct release rel;
	struct port_table ports;
	struct plan p;
	struct strv derived = { 0 };
	if (release_load(c.file, NULL, &rel) < 0)
		return EXIT_USAGE;
	plan_ports(&rel, &ports);
	unsigned before = error_count();
	int bad = check_release(&rel, &ports, &p, &derived);
	unsigned said = error_count() - before; /* a stage may say several problems */
	if (bad)
		fprintf(stderr, "xgo-build: check: %u problem%s in '%s'\n", said > (unsigned)bad ? said : (unsigned)bad,
			said > 1 || bad > 1 ? "s" : "", rel.path);
	else if (verbosity >= 0)
		printf("%s: ok: %zu build%s, %zu job%s, %zu archive declaration%s, %zu made from the binaries; "
		       "nothing built\n", rel.path, rel.nbuilds, rel.nbuilds == 1 ? "" : "s", p.n, p.n == 1 ? "" : "s",
		       rel.narchives, rel.narchives == 1 ? "" : "s", derived.n);
	strv_release(&derived);
	plan_release(&p);
	ports_release(&ports);
	release_clear(&rel);
	return bad ? EXIT_USAGE : EXIT_OK;
}

int cmd_plan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, 0, 'J' },
		{ "matrix", required_argument, 0, 'M' },
		{ "timings", required_argument, 0, 'T' },
		{ "overlap", no_argument, 0, 'O' },
		CLI_COMMON_LONG,
		{ 0, 0, 0, 0 },
	};
	struct cli_common c = { 0 };
	struct shard_spec shards = { 0 };
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(plan_help, stdout);
			return EXIT_OK;
		}
		if (opt == 'J') {
			c.json = 1;
			events_init(1);
			continue;
		}
		if (opt == 'M' || opt == 'T' || opt == 'O') {
			if (shard_option(opt, optarg, &shards) < 0)
				return EXIT_USAGE;
			continue;
		}
		int r = cli_common_opt(&c, opt, optarg);
		if (r < 0)
			return EXIT_USAGE;
		if (r == 0)
			return cli_bad_option("plan", argv);
	}
	if (cli_positional_file(&c, argc, argv, optind) < 0)
		return EXIT_USAGE;
	if (!shards.n && (shards.timings || shards.overlap))
		return cli_usage_error("plan", "--%s only applies with --matrix N", shards.timings ? "timings" : "overlap");

	struct release rel;
	struct port_table ports;
	struct plan p;
	if (plan_load(c.file, &rel) < 0)
		return EXIT_USAGE;
	plan_ports(&rel, &ports);
	int rc = EXIT_USAGE;
	struct strv derived = { 0 };
	if (check_release(&rel, &ports, &p, &derived)) {
		strv_release(&derived);
		plan_release(&p);
		goto out;
	}
	for (size_t i = 0; i < p.skipped.n && verbosity >= 0; i++)
		note("skipped %s: not a Go port", p.skipped.v[i]);
	if (shards.n)
		rc = print_matrix(&p, &shards);
	else if (c.json)
		rc = print_json(&rel, &p, &ports) < 0 ? EXIT_JOB : EXIT_OK;
	else {
		print_table(&rel, &p, &ports);
		for (size_t i = 0; i < derived.n; i++)
			printf("%s  %s\n", i ? "" : "\nmade from the built binaries:\n", derived.v[i]);
		rc = EXIT_OK;
	}
	strv_release(&derived);
	plan_release(&p);
out:
	ports_release(&ports);
	release_clear(&rel);
	return rc;
}
