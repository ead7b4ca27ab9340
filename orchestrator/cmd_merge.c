/* xgo-build merge: options, then merge.h. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "merge.h"
#include "base/util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char merge_help[] =
	"usage: xgo-build merge [options] DIR...\n"
	"\n"
	"Combine the dist directories of 'xgo-build run --shard K/N' into one dist:\n"
	"every binary and archive, one checksum file and one manifest.json, as a\n"
	"single full run would have written them.  Needs only the shards' files (no\n"
	"release.lua).  Refuses shards built from different inputs (SDK, release.lua,\n"
	"sources, go.sum, SOURCE_DATE_EPOCH, tool version, isolation, job\n"
	"environment), a job in no shard or in two, and with --overlap compares the\n"
	"target both shards built.  Names from a shard's manifest must be plain\n"
	"relative paths, and each file copied a regular file inside its shard (no\n"
	"symlink out).  Every file is checked against its shard's manifest while it\n"
	"is copied; the output is replaced only when all is well.\n"
	"\n"
	"The merged dist gets a provenance.json made from the shards' (they must\n"
	"agree on the build definition; its subjects are the merged files) and,\n"
	"with --sign-key, its checksum file, provenance (DSSE envelope) and, when\n"
	"the shards signed theirs, its archives are signed: verify-release accepts\n"
	"it.  The shards' own signatures are not copied.\n"
	"\n"
	"options:\n"
	"      --dist DIR      output directory (default: ./dist)\n"
	"      --sign-key FILE sign the merged release with this minisign secret key\n"
	"                      (its password from XGO_SIGNING_PASSWORD, else asked)\n"
	"  -q, --quiet         only errors\n"
	"  -v, --verbose       more detail\n"
	"  -h, --help          this text\n"
	"\n"
	"exit codes: 0 ok, 1 cannot write the output, 2 bad or mismatched shards, a\n"
	"gap or a duplicate, shards' provenances that disagree, a bad key or\n"
	"password, 3 the overlap's two copies differ or a shard's file does not\n"
	"match its manifest\n";

int cmd_merge(int argc, char **argv)
{
	enum { O_DIST = 256, O_SIGNKEY };
	static const struct option longopts[] = {
		{ "dist", required_argument, 0, O_DIST },
		{ "sign-key", required_argument, 0, O_SIGNKEY },
		{ "quiet", no_argument, 0, 'q' },
		{ "verbose", no_argument, 0, 'v' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct cli_common c = { 0 };
	struct merge_opts o = { 0 };
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(merge_help, stdout);
			return EXIT_OK;
		}
		if (opt == O_DIST || opt == O_SIGNKEY) {
			*(opt == O_DIST ? &o.dist : &o.sign_key) = optarg;
			continue;
		}
		if (cli_common_opt(&c, opt, optarg) <= 0)
			return cli_bad_option("merge", argv);
	}
	if (optind >= argc)
		return cli_usage_error("merge", "name the shards' dist directories");
	o.dirs = (const char *const *)argv + optind;
	o.ndirs = (size_t)(argc - optind);
	return merge_run(&o);
}
