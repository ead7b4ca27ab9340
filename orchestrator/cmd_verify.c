/* xgo-build verify: options, then verify.h does the work. */
#define _GNU_SOURCE
#include "cli.h"
#include "events.h"
#include "pipeline.h"
#include "base/util.h"
#include "verify.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char verify_help[] =
	"usage: xgo-build verify [options] [release.lua]\n"
	"\n"
	"Build the release twice, the second time under deliberately varied\n"
	"conditions, and compare every artifact bit for bit (the builds go to a\n"
	"temporary directory, not dist/).  Differences are explained: sizes, the\n"
	"first differing offset and its ELF/PE/Mach-O section, the embedded Go build\n"
	"info, printable strings found in only one, the first differing archive entry.\n"
	"\n"
	"variations (all on by default):\n"
	"  path      the rebuild runs on a copy of the source at another path\n"
	"  gocache   the rebuild starts from a fresh, empty GOCACHE\n"
	"  home      HOME, TMPDIR and the work directory under other roots\n"
	"  tz        TZ=Pacific/Kiritimati for the xgo-build process\n"
	"  locale    LC_ALL=LANG=fr_CH.UTF-8 for the xgo-build process\n"
	"  umask     umask 077 for the rebuild (022 for the first build)\n"
	"  order     jobs started last to first, with other parallelism\n"
	"  user      jobs as another uid in a user namespace (when allowed)\n"
	"  hostname  jobs in a UTS namespace with another host name (when allowed)\n"
	"  time      the rebuild runs later; hooks under libfaketime when installed\n"
	"\n"
	"options:\n"
	"      --vary LIST         only these variations (comma-separated, or 'all')\n"
	"      --no-vary LIST      all but these variations\n"
	"      --against SRC       rebuild once and compare with a published release: a\n"
	"                          dist directory, SHA256SUMS, manifest.json or an http(s)\n"
	"                          URL of one; a manifest's SDK must match release.lock\n"
	"      --keep              keep the temporary builds and print where\n"
	"      --diffoscope        run diffoscope on each differing pair (implies --keep)\n"
	"      --json              JSON Lines events on stdout: each build's events, then\n"
	"                          one \"verify\" event with the report (README)\n"
	"      --isolation MODE    as for run: auto, none, net\n"
	"      --sdk-mirror URL    where to download the Go SDK from\n"
	"      --offline           never download the SDK\n"
	"      --target PATTERN    verify only these targets (as for run; repeatable);\n"
	"                          --against a partial release rebuilds its part\n"
	"      --build NAME        verify only the build NAME (repeatable)\n"
	CLI_COMMON_HELP
	"\n"
	"exit codes: 0 identical, 3 an artifact differs, 1 a build failed, 2 usage or\n"
	"build-file error, 4 SDK problem (also: the published SDK differs from the lock)\n";

struct verify_cli {
	struct cli_common c;
	struct verify_opts v;
	const char *against, *isolation, *mirror;
	struct plan_select select;
	int offline;
};

static int parse_verify_opts(int argc, char **argv, struct verify_cli *o)
{
	enum { O_VARY = 256, O_NOVARY, O_AGAINST, O_KEEP, O_DSO, O_JSON, O_ISO, O_MIRROR, O_OFFLINE, O_TARGET,
	       O_BUILD };
	static const struct option longopts[] = {
		{ "vary", required_argument, 0, O_VARY },
		{ "no-vary", required_argument, 0, O_NOVARY },
		{ "against", required_argument, 0, O_AGAINST },
		{ "keep", no_argument, 0, O_KEEP },
		{ "diffoscope", no_argument, 0, O_DSO },
		{ "json", no_argument, 0, O_JSON },
		{ "isolation", required_argument, 0, O_ISO },
		{ "sdk-mirror", required_argument, 0, O_MIRROR },
		{ "offline", no_argument, 0, O_OFFLINE },
		{ "target", required_argument, 0, O_TARGET },
		{ "build", required_argument, 0, O_BUILD },
		CLI_COMMON_LONG,
		{ 0, 0, 0, 0 },
	};
	int opt, explicit_vary = 0;
	optind = 1;
	o->v.vary = VARY_ALL;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(verify_help, stdout);
			return 1;
		case O_VARY:
			/* the first --vary replaces the default set; later ones add */
			if (!explicit_vary++)
				o->v.vary = 0;
			if (verify_vary_parse(optarg, 1, &o->v.vary) < 0)
				return -1;
			break;
		case O_NOVARY:
			if (verify_vary_parse(optarg, 0, &o->v.vary) < 0)
				return -1;
			break;
		case O_AGAINST: o->against = optarg; break;
		case O_KEEP: o->v.keep = 1; break;
		case O_DSO: o->v.diffoscope = 1; break;
		case O_JSON:
			o->v.json = 1;
			events_init(1);
			break;
		case O_ISO: o->isolation = optarg; break;
		case O_MIRROR: o->mirror = optarg; break;
		case O_OFFLINE: o->offline = 1; break;
		case O_TARGET:
		case O_BUILD:
			if (cli_select_opt(&o->select, opt == O_TARGET, optarg) < 0)
				return -1;
			break;
		default: {
			int r = cli_common_opt(&o->c, opt, optarg);
			if (r < 0)
				return -1;
			if (r == 0)
				return cli_bad_option("verify", argv), -1;
		}
		}
	}
	return cli_positional_file(&o->c, argc, argv, optind);
}

int cmd_verify(int argc, char **argv)
{
	struct verify_cli o;
	memset(&o, 0, sizeof(o));
	int p = parse_verify_opts(argc, argv, &o);
	if (p != 0)
		return p > 0 ? EXIT_OK : EXIT_USAGE;
	struct pipeline_opts po = {
		.file = o.c.file, .isolation = o.isolation, .mirror = o.mirror, .jobs = o.c.jobs,
		.offline = o.offline, .select = o.select,
	};
	if (o.against && (o.select.ntargets || o.select.nbuilds))
		return cli_usage_error("verify", "--against rebuilds what the published manifest records: leave out "
				       "--target and --build");
	if (o.against)
		return verify_against(&po, &o.v, o.against);
	if (!o.v.vary)
		warn("no variations: the rebuild runs under the same conditions as the first build");
	return verify_run(&po, &o.v);
}
