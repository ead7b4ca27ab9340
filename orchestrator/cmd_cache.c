/* xgo-build cache: look at and trim the local action cache (actcache.h),
 * and make a key pair for signed remote entries (acsign.h). */
#define _GNU_SOURCE
#include "cache/acsign.h"
#include "cache/actcache.h"
#include "cli.h"
#include "toolchains/sdk.h"
#include "base/util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char cache_help[] =
	"usage: xgo-build cache <stats|gc|clean> [options]\n"
	"       xgo-build cache keygen NAME\n"
	"\n"
	"The local action cache in <cache>/actions ($XGO_CACHE, default\n"
	"~/.cache/xgo-build): job and archive results by input digest, and their\n"
	"contents (docs/ci.md).  The SDKs have their own command: 'xgo-build sdk'.\n"
	"\n"
	"  stats               entries, contents and bytes\n"
	"  gc                  drop entries unused for --max-age, then the least\n"
	"                      recently used until the contents fit in --max-size,\n"
	"                      then contents no entry names\n"
	"  clean               remove the whole action cache\n"
	"  keygen NAME         write an Ed25519 key pair for a signed remote cache:\n"
	"                      NAME.key (private, mode 0600: the writer's\n"
	"                      XGO_REMOTE_CACHE_SIGNING_KEY) and NAME.pub (for the\n"
	"                      readers' XGO_REMOTE_CACHE_TRUSTED_KEYS or cache {\n"
	"                      trusted_keys }); prints the public key in base64\n"
	"\n"
	"options (gc):\n"
	"      --max-size SIZE   bytes, or with K, M, G (default 5G; 0: no limit)\n"
	"      --max-age DAYS    default 30 (0: no limit)\n"
	"  -q, --quiet           only errors\n"
	"  -h, --help            this text\n"
	"\n"
	"A run that is copying from the cache while gc removes its entry builds\n"
	"that job instead: contents are always checked against their sha256.\n"
	"docs/ci.md tells how a shared cache is trusted.\n"
	"exit codes: 0 ok, 1 the cache could not be read or changed (or the keys\n"
	"written), 2 usage (keygen: a NAME.key or NAME.pub that exists)\n";

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v = strtod(s, &end);
	double mult = 1;
	switch (*end) {
	case 'k': case 'K': mult = 1024.0; end++; break;
	case 'm': case 'M': mult = 1024.0 * 1024; end++; break;
	case 'g': case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
	}
	if (*s == '\0' || *end || v < 0 || v * mult > 1e18)
		return error("--max-size wants bytes, or a number with K, M or G, not '%s'", s);
	*out = (uint64_t)(v * mult);
	return 0;
}

static int parse_days(const char *s, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end || v < 0 || v > 36500)
		return error("--max-age wants whole days (0 to 36500), not '%s'", s);
	*out = v * 86400;
	return 0;
}

static void print_usage_line(const char *what, const struct ac_usage *u)
{
	printf("%s: %lu entries, %lu contents, %.1f MiB\n", what, u->entries, u->blobs,
	       (double)u->bytes / (1024.0 * 1024.0));
}

/* NAME.key and NAME.pub; the public key's base64 on stdout. */
static int keygen(const char *prefix)
{
	char *pub, *key = xasprintf("%s.key", prefix), *pubf = xasprintf("%s.pub", prefix);
	int exists = access(key, F_OK) == 0 || access(pubf, F_OK) == 0;
	free(key);
	free(pubf);
	if (!*prefix)
		return cli_usage_error("cache", "keygen wants a non-empty NAME");
	if (exists)
		return error("'%s.key' or '%s.pub' exists: choose another name or remove them", prefix, prefix),
		       EXIT_USAGE;
	if (acsign_keygen(prefix, &pub) < 0)
		return EXIT_JOB;
	printf("%s\n", pub);
	if (verbosity >= 0)
		fprintf(stderr, "xgo-build: wrote %s.key (keep it secret) and %s.pub\n", prefix, prefix);
	free(pub);
	return EXIT_OK;
}

int cmd_cache(int argc, char **argv)
{
	enum { O_SIZE = 256, O_AGE };
	static const struct option longopts[] = {
		{ "max-size", required_argument, 0, O_SIZE },
		{ "max-age", required_argument, 0, O_AGE },
		{ "quiet", no_argument, 0, 'q' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	uint64_t max_size = 5ULL << 30;
	long max_age = 30L * 86400;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h': fputs(cache_help, stdout); return EXIT_OK;
		case 'q': verbosity = -1; break;
		case O_SIZE:
			if (parse_size(optarg, &max_size) < 0)
				return EXIT_USAGE;
			break;
		case O_AGE:
			if (parse_days(optarg, &max_age) < 0)
				return EXIT_USAGE;
			break;
		default: return cli_bad_option("cache", argv);
		}
	}
	if (optind + 2 == argc && !strcmp(argv[optind], "keygen"))
		return keygen(argv[optind + 1]);
	if (optind + 1 != argc)
		return cli_usage_error("cache", "wants one of stats, gc, clean, or keygen NAME");
	const char *sub = argv[optind];
	char *root = sdk_cache_dir();
	struct ac_usage u;
	int rc = EXIT_OK;
	if (!strcmp(sub, "stats")) {
		if (actcache_usage(root, &u) < 0)
			rc = EXIT_JOB;
		else {
			printf("%s/actions\n", root);
			print_usage_line("holds", &u);
		}
	} else if (!strcmp(sub, "gc")) {
		if (actcache_gc(root, max_size, max_age, &u) < 0)
			rc = EXIT_JOB;
		else if (verbosity >= 0)
			print_usage_line("removed", &u);
	} else if (!strcmp(sub, "clean")) {
		char *dir = xasprintf("%s/actions", root);
		rc = remove_tree(dir) < 0 ? EXIT_JOB : EXIT_OK;
		if (rc == EXIT_OK && verbosity >= 0)
			printf("removed %s\n", dir);
		free(dir);
	} else if (!strcmp(sub, "keygen")) {
		rc = cli_usage_error("cache", "keygen wants the name of the key pair to write (NAME.key, NAME.pub)");
	} else {
		static const char *const subs[] = { "stats", "gc", "clean", "keygen" };
		const char *s = suggest(sub, subs, ARRAY_LEN(subs));
		rc = cli_usage_error("cache", "unknown subcommand '%s'%s%s%s", sub, s ? " (did you mean '" : "",
				     s ? s : "", s ? "'?)" : "");
	}
	free(root);
	return rc;
}
