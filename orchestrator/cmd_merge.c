/* xgo-build merge: options, then merge.h. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "merge.h"
#include "util.h"

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
	"options:\n"
	"      --dist DIR      output directory (default: ./dist)\n"
	"  -q, --quiet         only errors\n"
	"  -v, --verbose       more detail\n"
	"  -h, --help          this text\n"
	"\n"
	"exit codes: 0 ok, 1 cannot write the output, 2 bad or mismatched shards, a\n"
	"gap or a duplicate, 3 the overlap's two copies differ or a shard's file does\n"
	"not match its manifest\n";

int cmd_merge(int argc, char **argv)
{
	enum { O_DIST = 256 };
	static const struct option longopts[] = {
		{ "dist", required_argument, 0, O_DIST },
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
		if (opt == O_DIST) {
			o.dist = optarg;
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
