/* xgo-build sdk: manage pinned Go SDKs in the cache (toolchains/sdk.h). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "base/util.h"
#include "lua/release.h"
#include "toolchains/lockfile.h"
#include "toolchains/mirror.h"
#include "toolchains/sdk.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char sdk_help[] =
	"usage: xgo-build sdk <subcommand> [options]\n"
	"\n"
	"Manage the Go SDKs pinned in release.lock, kept in the cache\n"
	"($XGO_CACHE, else $XDG_CACHE_HOME/xgo-build, else ~/.cache/xgo-build).\n"
	"\n"
	"subcommands:\n"
	"  install [VERSION]   install the pinned SDK (or VERSION from the mirror's index)\n"
	"  path [VERSION]      print the GOROOT of an installed SDK\n"
	"  list                show cached SDKs and the versions the mirror offers\n"
	"  verify [VERSION...] re-hash cached SDKs; corrupt entries are removed\n"
	"  import DIR          copy a local GOROOT into the cache if it matches release.lock\n"
	"  gc [release.lua]    remove cache entries release.lock does not pin\n"
	"\n"
	"'xgo-build sdk SUBCOMMAND --help' shows its options.\n"
	"exit codes: 0 ok, 2 usage or build-file error, 4 SDK problem\n";

#define SDK_OPT_HELP \
	"      --sdk-mirror URL  take archives and the index from URL (http, https, file)\n" \
	"      --offline         never download\n" \
	"      --no-local        do not look for a matching local SDK ($GOROOT, go on PATH,\n" \
	"                        /usr/local/go)\n"

static const char install_help[] =
	"usage: xgo-build sdk install [options] [VERSION]\n"
	"\n"
	"Make the SDK available in the cache and print its GOROOT.  Without VERSION,\n"
	"the version and hashes pinned in release.lock (beside the build file); with\n"
	"VERSION, the pin if release.lock has it, else the mirror's index.\n"
	"\n"
	"options:\n"
	SDK_OPT_HELP
	"      --reinstall       install again even if the cache entry is good\n"
	CLI_COMMON_HELP;

static const char path_help[] =
	"usage: xgo-build sdk path [options] [VERSION]\n"
	"\n"
	"Print the GOROOT of the installed SDK pinned in release.lock (or of VERSION).\n"
	"Never downloads; exit 4 when it is not installed.\n"
	"\n"
	"options:\n"
	CLI_COMMON_HELP;

static const char list_help[] =
	"usage: xgo-build sdk list [options]\n"
	"\n"
	"Show the SDKs in the cache, then the stable versions the mirror offers for\n"
	"this host (newest first).  When the mirror cannot be read (offline), the\n"
	"cache alone, a note saying why, and exit 0.\n"
	"\n"
	"options:\n"
	"      --all             every version the index has, unstable ones too\n"
	"      --sdk-mirror URL  ask this mirror\n"
	"      --offline         only the cache\n"
	CLI_COMMON_HELP;

static const char verify_help[] =
	"usage: xgo-build sdk verify [options] [VERSION...]\n"
	"\n"
	"Re-hash every file of the cached SDKs (or of the VERSIONs given) and\n"
	"compare with the tree digest recorded at install.  A corrupt entry is\n"
	"removed, so the next use installs it again.  Exit 4 if any was corrupt.\n"
	"\n"
	"options:\n"
	CLI_COMMON_HELP;

static const char import_help[] =
	"usage: xgo-build sdk import [options] DIR\n"
	"\n"
	"Copy the Go SDK installed at DIR (a GOROOT) into the cache, when its VERSION\n"
	"file names the pinned version and its tree digest equals the one in\n"
	"release.lock for this host.\n"
	"\n"
	"options:\n"
	CLI_COMMON_HELP;

static const char gc_help[] =
	"usage: xgo-build sdk gc [options] [release.lua]\n"
	"\n"
	"Remove cache entries that the build file's release.lock does not pin (any\n"
	"platform it lists, with matching hashes), and leftovers of interrupted\n"
	"installs.  Entries being installed by another process are skipped.\n"
	"\n"
	"options:\n"
	"  -n, --dry-run         only say what would be removed\n"
	CLI_COMMON_HELP;

struct sdk_cli {
	struct cli_common c;
	const char *mirror;
	int offline, no_local, reinstall, dry_run, all;
};

enum { O_MIRROR = 256, O_OFFLINE, O_NOLOCAL, O_REINSTALL, O_ALL };

/* Parse options; returns optind, or -1 after --help (rc EXIT_OK) or a
 * usage error (rc EXIT_USAGE). */
static int parse(const char *cmd, const char *help, int argc, char **argv, struct sdk_cli *o, int *rc)
{
	static const struct option longopts[] = {
		{ "sdk-mirror", required_argument, 0, O_MIRROR },
		{ "offline", no_argument, 0, O_OFFLINE },
		{ "no-local", no_argument, 0, O_NOLOCAL },
		{ "reinstall", no_argument, 0, O_REINSTALL },
		{ "all", no_argument, 0, O_ALL },
		{ "dry-run", no_argument, 0, 'n' },
		CLI_COMMON_LONG,
		{ 0, 0, 0, 0 },
	};
	int opt;
	char name[64];
	snprintf(name, sizeof(name), "sdk %s", cmd);
	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT "n", longopts, NULL)) != -1) {
		/* Each subcommand accepts only what its help lists. */
		const char *flag = NULL;
		switch (opt) {
		case 'h':
			fputs(help, stdout);
			*rc = EXIT_OK;
			return -1;
		case O_MIRROR: flag = "--sdk-mirror"; o->mirror = optarg; break;
		case O_OFFLINE: flag = "--offline"; o->offline = 1; break;
		case O_NOLOCAL: flag = "--no-local"; o->no_local = 1; break;
		case O_REINSTALL: flag = "--reinstall"; o->reinstall = 1; break;
		case O_ALL: flag = "--all"; o->all = 1; break;
		case 'n': flag = "--dry-run"; o->dry_run = 1; break;
		default: {
			int r = cli_common_opt(&o->c, opt, optarg);
			if (r < 0) {
				*rc = EXIT_USAGE;
				return -1;
			}
			if (r == 0) {
				*rc = cli_bad_option(name, argv);
				return -1;
			}
		}
		}
		if (flag && !strstr(help, flag)) {
			*rc = cli_usage_error(name, "'%s' does not take %s", name, flag);
			return -1;
		}
	}
	if (!o->c.file)
		o->c.file = "release.lua";
	return optind;
}

/* VERSION as typed: "1.26.8" or "go1.26.8".  NULL after a usage error. */
static const char *version_arg(const char *cmd, const char *v)
{
	if (!strncmp(v, "go", 2))
		v += 2;
	if (!lock_is_version(v)) {
		cli_usage_error(cmd, "'%s' is not a Go version such as 1.26.8", v);
		return NULL;
	}
	return v;
}

static int load_release(const char *file, struct release *r)
{
	return release_load(file, NULL, r);
}

static int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static int sdk_install(int argc, char **argv)
{
	struct sdk_cli o;
	int rc = EXIT_TOOLCHAIN;
	int i = parse("install", install_help, argc, argv, &o, &rc);
	if (i < 0)
		return rc;
	if (argc - i > 1)
		return cli_usage_error("sdk install", "give at most one VERSION");
	const char *version = i < argc ? version_arg("sdk install", argv[i]) : NULL;
	if (i < argc && !version)
		return EXIT_USAGE;
	struct release r = { 0 };
	struct lock l = { 0 };
	const struct lock_platform *pin = NULL;
	const char *platform = sdk_host_platform();
	char *mirror = NULL, *lockpath = sdk_lock_path(o.c.file);
	struct sdk s = { 0 };
	int loaded = 0;
	if (!version || file_exists(o.c.file)) {
		if (load_release(o.c.file, &r) < 0) {
			rc = EXIT_USAGE;
			goto out;
		}
		loaded = 1;
	}
	if (!version) {
		if (!(pin = sdk_pin_for(&r, platform, &l)))
			goto out;
		version = r.go_version;
	} else if (loaded && lock_read(lockpath, &l) == 0 && !strcmp(l.go, version)) {
		pin = lock_find(&l, platform);
	}
	mirror = mirror_choose(o.mirror, loaded ? r.sdk_mirror : NULL);
	if (!mirror) {
		rc = EXIT_USAGE;
		goto out;
	}
	struct sdk_request req = {
		.version = version, .platform = platform, .pin = pin, .mirror = mirror,
		.offline = o.offline, .no_local = o.no_local, .reinstall = o.reinstall,
		.walk = 1, /* an explicit install always checks the entry */
	};
	if (sdk_resolve(&req, &s) < 0)
		goto out;
	printf("%s\n", s.root);
	rc = EXIT_OK;
out:
	sdk_release(&s);
	lock_clear(&l);
	if (loaded)
		release_clear(&r);
	free(mirror);
	free(lockpath);
	return rc;
}

static int sdk_path(int argc, char **argv)
{
	struct sdk_cli o;
	int rc = EXIT_TOOLCHAIN;
	int i = parse("path", path_help, argc, argv, &o, &rc);
	if (i < 0)
		return rc;
	if (argc - i > 1)
		return cli_usage_error("sdk path", "give at most one VERSION");
	struct release r = { 0 };
	struct lock l = { 0 };
	struct sdk s = { 0 };
	const struct lock_platform *pin = NULL;
	const char *version = i < argc ? version_arg("sdk path", argv[i]) : NULL;
	int loaded = 0;
	if (i < argc && !version)
		return EXIT_USAGE;
	if (!version) {
		if (load_release(o.c.file, &r) < 0)
			return EXIT_USAGE;
		loaded = 1;
		if (!(pin = sdk_pin_for(&r, sdk_host_platform(), &l)))
			goto out;
		version = r.go_version;
	}
	struct sdk_request req = { .version = version, .pin = pin, .cache_only = 1, .no_local = 1, .offline = 1 };
	if (sdk_resolve(&req, &s) < 0)
		goto out;
	printf("%s\n", s.root);
	rc = EXIT_OK;
out:
	sdk_release(&s);
	lock_clear(&l);
	if (loaded)
		release_clear(&r);
	return rc;
}

static int cmp_version_desc(const void *a, const void *b)
{
	const char *x = ((const struct mirror_release *)a)->version;
	const char *y = ((const struct mirror_release *)b)->version;
	/* Numeric field by field: "1.26.10" after "1.26.9". */
	while (*x && *y) {
		if (*x >= '0' && *x <= '9' && *y >= '0' && *y <= '9') {
			char *ex, *ey;
			long nx = strtol(x, &ex, 10), ny = strtol(y, &ey, 10);
			if (nx != ny)
				return nx < ny ? 1 : -1;
			x = ex, y = ey;
			continue;
		}
		if (*x != *y)
			return *x < *y ? 1 : -1;
		x++, y++;
	}
	return *x ? -1 : *y ? 1 : 0;
}

static int fetch_quietly(const char *mirror, struct mirror_index *idx)
{
	int saved = error_quiet(1);
	int rc = mirror_fetch_index(mirror, idx);
	error_quiet(saved);
	return rc;
}

static int sdk_list(int argc, char **argv)
{
	struct sdk_cli o;
	int rc = EXIT_TOOLCHAIN;
	int i = parse("list", list_help, argc, argv, &o, &rc);
	if (i < 0)
		return rc;
	if (i < argc)
		return cli_usage_error("sdk list", "unexpected argument '%s'", argv[i]);
	char *cache = sdk_cache_dir();
	struct sdk_entry_list el;
	if (sdk_cache_list(cache, &el) < 0) {
		free(cache);
		return EXIT_TOOLCHAIN;
	}
	printf("cached in '%s':\n", cache);
	if (!el.n)
		printf("  (none)\n");
	for (size_t k = 0; k < el.n; k++)
		printf("  go%-10s %-14s %s  (%s)\n", el.v[k].version, el.v[k].platform,
		       el.v[k].root ? el.v[k].root : el.v[k].entry,
		       el.v[k].source ? el.v[k].source : "no install record");
	rc = EXIT_OK;
	if (!o.offline) {
		struct mirror_index idx;
		char *mirror = mirror_choose(o.mirror, NULL);
		if (!mirror) {
			rc = EXIT_USAGE;
		} else if (fetch_quietly(mirror, &idx) < 0) {
			/* offline: the cache is what there is, and it was listed */
			char why[1024];
			snprintf(why, sizeof(why), "%s", error_last());
			note("%s; listed the cache only (--offline says so without trying)", why);
		} else {
			const char *host = sdk_host_platform();
			qsort(idx.rel, idx.nrel, sizeof(*idx.rel), cmp_version_desc);
			printf("available from '%s' for %s:\n", mirror, host);
			size_t shown = 0;
			for (size_t k = 0; k < idx.nrel; k++) {
				if (!o.all && !idx.rel[k].stable)
					continue;
				if (!mirror_find(&idx, idx.rel[k].version, host))
					continue;
				int have = 0;
				for (size_t e = 0; e < el.n; e++)
					have |= el.v[e].version && !strcmp(el.v[e].version, idx.rel[k].version) &&
						!strcmp(el.v[e].platform, host);
				printf("  go%-10s%s%s\n", idx.rel[k].version, idx.rel[k].stable ? "" : " (unstable)",
				       have ? " [cached]" : "");
				shown++;
			}
			if (!shown)
				printf("  (none)\n");
			mirror_index_clear(&idx);
		}
		free(mirror);
	}
	sdk_entry_list_clear(&el);
	free(cache);
	return rc;
}

static int wanted(const struct sdk *s, int argc, char **argv, int i)
{
	if (i >= argc)
		return 1;
	for (; i < argc; i++) {
		const char *v = argv[i];
		if (!strncmp(v, "go", 2))
			v += 2;
		if (s->version && !strcmp(s->version, v))
			return 1;
	}
	return 0;
}

static int sdk_verify(int argc, char **argv)
{
	struct sdk_cli o;
	int rc = EXIT_TOOLCHAIN;
	int i = parse("verify", verify_help, argc, argv, &o, &rc);
	if (i < 0)
		return rc;
	char *cache = sdk_cache_dir();
	struct sdk_entry_list el;
	if (sdk_cache_list(cache, &el) < 0) {
		free(cache);
		return EXIT_TOOLCHAIN;
	}
	int bad = 0, seen = 0;
	for (size_t k = 0; k < el.n; k++) {
		const struct sdk *s = &el.v[k];
		if (!wanted(s, argc, argv, i))
			continue;
		seen++;
		int r = s->root ? sdk_verify_entry(s) : 0;
		if (r == 1) {
			printf("ok       go%s %s  %s\n", s->version, s->platform, s->root);
			continue;
		}
		bad++;
		error("cache entry '%s' does not match its recorded tree digest; removing it", s->entry);
		sdk_remove_entry(cache, s, 1);
	}
	if (!seen && i < argc)
		error("no cached SDK matches the versions given; see 'xgo-build sdk list'");
	sdk_entry_list_clear(&el);
	free(cache);
	return bad || (!seen && i < argc) ? EXIT_TOOLCHAIN : EXIT_OK;
}

static int sdk_import_cmd(int argc, char **argv)
{
	struct sdk_cli o;
	int rc = EXIT_TOOLCHAIN;
	int i = parse("import", import_help, argc, argv, &o, &rc);
	if (i < 0)
		return rc;
	if (argc - i != 1)
		return cli_usage_error("sdk import", "give exactly one DIR");
	struct release r;
	struct lock l;
	struct sdk s = { 0 };
	if (load_release(o.c.file, &r) < 0)
		return EXIT_USAGE;
	const char *platform = sdk_host_platform();
	const struct lock_platform *pin = sdk_pin_for(&r, platform, &l);
	if (pin) {
		struct sdk_request req = { .version = r.go_version, .platform = platform, .pin = pin };
		if (sdk_import(argv[i], &req, &s) == 0) {
			printf("%s\n", s.root);
			rc = EXIT_OK;
		}
	}
	sdk_release(&s);
	lock_clear(&l);
	release_clear(&r);
	return rc;
}

static int sdk_gc(int argc, char **argv)
{
	struct sdk_cli o;
	int rc = EXIT_TOOLCHAIN;
	int i = parse("gc", gc_help, argc, argv, &o, &rc);
	if (i < 0)
		return rc;
	if (cli_positional_file(&o.c, argc, argv, i) < 0)
		return EXIT_USAGE;
	char *lockpath = sdk_lock_path(o.c.file);
	char *cache = sdk_cache_dir();
	struct lock l;
	struct sdk_entry_list el = { 0 };
	int st = lock_read(lockpath, &l);
	if (st == 1)
		error("no '%s': gc keeps what it pins, so it needs one; run 'xgo-build lock' first", lockpath);
	if (st != 0 || sdk_cache_list(cache, &el) < 0)
		goto out;
	int removed = 0;
	for (size_t k = 0; k < el.n; k++) {
		const struct sdk *s = &el.v[k];
		const struct lock_platform *pin = s->platform ? lock_find(&l, s->platform) : NULL;
		if (pin && sdk_matches_pin(s, l.go, pin))
			continue;
		if (o.dry_run) {
			printf("would remove %s\n", s->entry);
			continue;
		}
		int r = sdk_remove_entry(cache, s, 1);
		if (r == 0) {
			printf("removed %s\n", s->entry);
			removed++;
		} else if (r == 1) {
			note("skipped '%s': another xgo-build is using it", s->entry);
		}
	}
	if (!o.dry_run)
		removed += sdk_clean_tmp(cache);
	if (verbosity >= 0)
		note("gc: %d removed, pinned by '%s' kept", removed, lockpath);
	rc = EXIT_OK;
out:
	sdk_entry_list_clear(&el);
	lock_clear(&l);
	free(lockpath);
	free(cache);
	return rc;
}

int cmd_sdk(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} subs[] = {
		{ "install", sdk_install }, { "path", sdk_path }, { "list", sdk_list },
		{ "verify", sdk_verify }, { "import", sdk_import_cmd }, { "gc", sdk_gc },
	};
	if (argc < 2) {
		fputs(sdk_help, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(sdk_help, stdout);
		return EXIT_OK;
	}
	const char *names[ARRAY_LEN(subs)];
	for (size_t k = 0; k < ARRAY_LEN(subs); k++) {
		names[k] = subs[k].name;
		if (!strcmp(subs[k].name, argv[1]))
			return subs[k].fn(argc - 1, argv + 1);
	}
	const char *s = suggest(argv[1], names, ARRAY_LEN(names));
	if (s)
		return cli_usage_error("sdk", "unknown subcommand '%s' (did you mean '%s'?)", argv[1], s);
	return cli_usage_error("sdk", "unknown subcommand '%s'", argv[1]);
}
