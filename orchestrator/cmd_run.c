/* xgo-build run: options, then the pipeline (pipeline.h). */
#define _GNU_SOURCE
#include "cli.h"
#include "events.h"
#include "pipeline.h"
#include "shard.h"
#include "base/util.h"
#include "verify.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char run_help[] =
	"usage: xgo-build run [options] [release.lua]\n"
	"\n"
	"Build every job of the plan with the pinned Go SDK, in parallel, each in an\n"
	"environment built from nothing, hash the outputs and write dist/: the\n"
	"binaries, their SBOMs, archives, universal (darwin/all) binaries, OCI image\n"
	"layouts (<name>-oci/), Linux packages, SHA256SUMS, provenance.json (SLSA v1)\n"
	"and manifest.json (docs/attest.md, docs/packages.md).  dist/ is replaced\n"
	"only when the whole run succeeded.\n"
	"\n"
	"options:\n"
	"      --dist DIR          output directory (default: dist/ beside release.lua),\n"
	"                          replaced as a whole: it must not exist, be empty or\n"
	"                          be a dist an earlier run wrote (it holds\n"
	"                          .xgo-build-dist); never the project, its parent, the\n"
	"                          work dir or a cache\n"
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
	"      --no-cache          build every job: neither read nor write the action\n"
	"                          cache (local or remote)\n"
	"      --smoke             run every linux binary once after the build (natively,\n"
	"                          or under qemu-user-static for other architectures)\n"
	"                          and check its exit status and smoke.expect; binaries\n"
	"                          that cannot run here are reported as skipped\n"
	"      --verify            then rebuild once under varied conditions and compare\n"
	"                          with dist/ (as 'xgo-build verify'; exit 3 on a\n"
	"                          difference); variations: all but gocache by default\n"
	"      --vary LIST         the variations of --verify (see 'verify --help')\n"
	"      --no-vary LIST      variations --verify leaves out\n"
	"      --json              JSON Lines events on stdout (README, \"JSON events\");\n"
	"                          human output stays on stderr\n"
	"      --target PATTERN    build only the targets PATTERN matches (repeatable;\n"
	"                          'linux/amd64', 'linux/*', 'darwin/arm64+cgo'); the\n"
	"                          manifest records the release as partial; like a\n"
	"                          shard, it makes no universal binary or image\n"
	"      --build NAME        build only the build NAME (repeatable)\n"
	"      --shard K/N         build only shard K of N: whole targets, balanced, the\n"
	"                          same split on every machine; dist/ then holds that\n"
	"                          shard, for 'xgo-build merge' (see 'plan --matrix')\n"
	"      --timings FILE      with --shard: balance by the job durations recorded in\n"
	"                          FILE, a previous run's manifest.json (default: every\n"
	"                          job weighs the same)\n"
	"      --overlap           with --shard: one target is built by two shards, and\n"
	"                          merge checks the two copies are identical\n"
	"      --sign-key FILE     sign the release with this minisign secret key (as\n"
	"                          signing { key } in release.lua; docs/attest.md)\n"
	CLI_COMMON_HELP;

/* Two strings: C11 promises only 4095 bytes in one literal. */
static const char run_help_env[] =
	"\n"
	"environment: XGO_CACHE (cache root), XGO_GOCACHE (the shared GOCACHE; default\n"
	"<cache>/gocache), SOURCE_DATE_EPOCH, XGO_REMOTE_CACHE (http(s) URL of a shared\n"
	"cache; overrides release.lua's cache { url }), XGO_REMOTE_CACHE_READ_ONLY=1,\n"
	"XGO_REMOTE_CACHE_TOKEN (bearer token; or the variable cache { token_env } names),\n"
	"XGO_REMOTE_CACHE_SIGNING_KEY (Ed25519 key signing its entries),\n"
	"XGO_REMOTE_CACHE_TRUSTED_KEYS (public keys: unsigned entries are ignored),\n"
	"XGO_REMOTE_CACHE_MAX_BYTES (largest download, default 512M; docs/ci.md),\n"
	"XGO_SIGNING_PASSWORD (the signing key's password, or the variable signing\n"
	"{ password_env } names; else it is asked on the terminal),\n"
	"XGO_GOCACHEPROG=0 (jobs use the plain GOCACHE, not the go build cache shared\n"
	"through the remote cache; docs/gocache.md),\n"
	"XGO_ZIG (the zig binary), XGO_ZIG_CACHE (zig's cache; default <cache>/zig-cache),\n"
	"XGO_GC_MEMLIMIT (MiB a job's Go process may grow to before it collects garbage;\n"
	"default: its share of half the free memory; 0: Go's default collector).\n"
	"exit codes: 0 ok, 1 a job failed, 2 usage or build-file error (a --dist it may\n"
	"not replace too), 3 --verify found a difference, 4 SDK problem, 130 interrupted\n"
	"(SIGINT, SIGTERM or SIGHUP at any moment; the staging directory is removed).\n"
	"With --json, a closed stdout stops the events, not the build.\n";

struct run_opts {
	struct cli_common c;
	const char *dist;
	const char *print_env;
	const char *isolation;
	const char *mirror;
	const char *sign_key;
	int keep_going, offline, no_cache, smoke;
	long timeout_ms;
	int verify, json, explicit_vary;
	unsigned vary;
	struct shard_spec shard;
	struct plan_select select;
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
	enum { O_DIST = 256, O_KEEP, O_FAIL, O_TIMEOUT, O_ISO, O_PRINT, O_MIRROR, O_OFFLINE, O_VERIFY, O_VARY,
	       O_NOVARY, O_JSON, O_NOCACHE, O_SHARD, O_TIMINGS, O_OVERLAP, O_SMOKE, O_TARGET, O_BUILD, O_SIGNKEY };
	static const struct option longopts[] = {
		{ "dist", required_argument, 0, O_DIST },
		{ "keep-going", no_argument, 0, O_KEEP },
		{ "fail-fast", no_argument, 0, O_FAIL },
		{ "timeout", required_argument, 0, O_TIMEOUT },
		{ "isolation", required_argument, 0, O_ISO },
		{ "print-env", required_argument, 0, O_PRINT },
		{ "sdk-mirror", required_argument, 0, O_MIRROR },
		{ "offline", no_argument, 0, O_OFFLINE },
		{ "verify", no_argument, 0, O_VERIFY },
		{ "vary", required_argument, 0, O_VARY },
		{ "no-vary", required_argument, 0, O_NOVARY },
		{ "json", no_argument, 0, O_JSON },
		{ "no-cache", no_argument, 0, O_NOCACHE },
		{ "shard", required_argument, 0, O_SHARD },
		{ "timings", required_argument, 0, O_TIMINGS },
		{ "overlap", no_argument, 0, O_OVERLAP },
		{ "smoke", no_argument, 0, O_SMOKE },
		{ "target", required_argument, 0, O_TARGET },
		{ "build", required_argument, 0, O_BUILD },
		{ "sign-key", required_argument, 0, O_SIGNKEY },
		CLI_COMMON_LONG,
		{ 0, 0, 0, 0 },
	};
	int opt;
	optind = 1;
	o->vary = VARY_RUN_DEFAULT;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(run_help, stdout);
			fputs(run_help_env, stdout);
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
		case O_NOCACHE: o->no_cache = 1; break;
		case O_VERIFY: o->verify = 1; break;
		case O_JSON:
			o->json = 1;
			events_init(1);
			break;
		case O_SHARD:
			if (shard_parse(optarg, &o->shard) < 0)
				return -1;
			break;
		case O_TIMINGS: o->shard.timings = optarg; break;
		case O_OVERLAP: o->shard.overlap = 1; break;
		case O_SMOKE: o->smoke = 1; break;
		case O_TARGET:
		case O_BUILD:
			if (cli_select_opt(&o->select, opt == O_TARGET, optarg) < 0)
				return -1;
			break;
		case O_SIGNKEY: o->sign_key = optarg; break;
		case O_VARY:
			/* the first --vary replaces the default set; later ones add */
			if (!o->explicit_vary++)
				o->vary = 0;
			if (verify_vary_parse(optarg, 1, &o->vary) < 0)
				return -1;
			break;
		case O_NOVARY:
			if (verify_vary_parse(optarg, 0, &o->vary) < 0)
				return -1;
			break;
		default: {
			int r = cli_common_opt(&o->c, opt, optarg);
			if (r < 0)
				return -1;
			if (r == 0)
				return cli_bad_option("run", argv), -1;
		}
		}
	}
	if (o->shard.n && (o->select.ntargets || o->select.nbuilds))
		return cli_usage_error("run", "--shard builds whole shards of the matrix: leave out --target and --build"),
		       -1;
	if (!o->shard.n && (o->shard.timings || o->shard.overlap))
		return cli_usage_error("run", "--%s only applies with --shard K/N",
				       o->shard.timings ? "timings" : "overlap"), -1;
	return cli_positional_file(&o->c, argc, argv, optind);
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	memset(&o, 0, sizeof(o));
	int p = parse_run_opts(argc, argv, &o);
	if (p != 0)
		return p > 0 ? EXIT_OK : EXIT_USAGE;
	struct pipeline_opts po = {
		.file = o.c.file, .dist = o.dist, .isolation = o.isolation, .mirror = o.mirror,
		.print_env = o.print_env, .jobs = o.c.jobs, .keep_going = o.keep_going, .offline = o.offline,
		.timeout_ms = o.timeout_ms, .no_cache = o.no_cache, .shard = o.shard, .smoke = o.smoke,
		.select = o.select,
		.sign_key = o.sign_key,
	};
	double t0 = mono_seconds();
	int rc = pipeline_run(&po);
	double first_seconds = mono_seconds() - t0;
	if (rc != EXIT_OK || !o.verify || o.print_env)
		return rc;
	struct verify_opts vo = {
		.vary = o.vary, .json = o.json, .after_run = 1,
		.first_seconds = first_seconds,
	};
	return verify_run(&po, &vo);
}
