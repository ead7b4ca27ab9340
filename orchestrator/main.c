/* main.c - dispatch to a subcommand (cli.h).  Nothing else lives here. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "events.h"
#include "cache/gocache.h"
#include "isolate.h"
#include "package.h"
#include "base/util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"usage: xgo-build <command> [options] [release.lua]\n"
	"\n"
	"Reproducible cross-compilation of Go projects, described by release.lua.\n"
	"\n"
	"commands:\n"
	"  init      write release.lua for a Go module (--from-goreleaser: from its config)\n"
	"  run       build and package the whole matrix into dist/\n"
	"  plan      show the expanded jobs (--json for CI, --matrix N for CI shards)\n"
	"  check     find every problem knowable before building, offline\n"
	"  verify    rebuild under varied conditions and compare bit for bit\n"
	"  merge     combine the dists of 'run --shard K/N' into one dist/\n"
	"  sdk       manage pinned Go SDKs (install, list, path, verify, import, gc)\n"
	"  cache     the action cache: stats, gc, clean\n"
	"  lock      pin the Go SDK's hashes in release.lock\n"
	"  targets   list every GOOS/GOARCH port with its first-class and cgo flags\n"
	"  keygen    write a minisign key pair for signing releases\n"
	"  verify-release  check a signed dist/ (signatures, checksums, provenance) against its checkout\n"
	"  version   print the version\n"
	"  help      this text, or 'help COMMAND' for a command's options\n"
	"  gocacheprog  (internal) the GOCACHEPROG of every job (docs/gocache.md)\n"
	"\n"
	"'xgo-build COMMAND --help' shows a command's options.\n"
	"exit codes: 0 ok, 1 a build failed, 2 usage or build-file error,\n"
	"3 reproducibility mismatch, 4 toolchain/SDK problem, 130 interrupted\n";

/* A write to a closed pipe (`run --json | head -1`) must not kill a
 * build: the write fails with EPIPE instead, and events.h stops the
 * stream.  A handler rather than SIG_IGN, so that exec gives every child
 * the default action back. */
static volatile sig_atomic_t got_sigpipe;

static void on_sigpipe(int sig)
{
	(void)sig;
	got_sigpipe = 1;
}

/* Text on stdout that never arrived (a full disk, an I/O error) is a
 * failure, said once.  A reader that closed the pipe (SIGPIPE, made
 * EPIPE) chose to stop, and --json's stream says so itself (events.h). */
static int check_stdout(int rc)
{
	if ((fflush(stdout) == 0 && !ferror(stdout)) || got_sigpipe || events_on())
		return rc;
	error("cannot write to standard output: what it shows is incomplete");
	return rc == EXIT_OK ? EXIT_JOB : rc;
}

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "init", cmd_init },
	{ "run", cmd_run },
	{ "plan", cmd_plan },
	{ "check", cmd_check },
	{ "verify", cmd_verify },
	{ "merge", cmd_merge },
	{ "sdk", cmd_sdk },
	{ "cache", cmd_cache },
	{ "lock", cmd_lock },
	{ "targets", cmd_targets },
	{ "keygen", cmd_keygen },
	{ "verify-release", cmd_verify_release },
};

int main(int argc, char **argv)
{
	/* The job trampoline (isolate.h) runs before anything else. */
	if (argc > 1 && !strcmp(argv[1], "__exec"))
		return iso_exec_main(argc - 1, argv + 1);
	json_alloc_init();
	if (argc > 1 && !strcmp(argv[1], "gocacheprog"))
		return gocache_prog_main(argc - 1, argv + 1); /* stdout is the protocol's */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigpipe;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	pkg_init(); /* TZ=UTC for zip times, before any thread starts */
	events_init(0);
	const char *nc = getenv("NO_COLOR");
	use_color = isatty(2) && !(nc && *nc);
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) {
		if (argc > 2 && strcmp(name, "help") == 0) {
			char *args[] = { argv[2], "--help", NULL };
			for (size_t i = 0; i < ARRAY_LEN(commands); i++)
				if (!strcmp(commands[i].name, argv[2]))
					return commands[i].fn(2, args);
		}
		fputs(usage, stdout);
		return check_stdout(EXIT_OK);
	}
	if (!strcmp(name, "version") || !strcmp(name, "--version")) {
		printf("xgo-build %s\n", XGO_VERSION);
		return check_stdout(EXIT_OK);
	}
	opterr = 0; /* each command names a bad option itself, in one line (cli_bad_option) */
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		if (!strcmp(commands[i].name, name))
			return check_stdout(commands[i].fn(argc - 1, argv + 1));
	const char *names[ARRAY_LEN(commands) + 2];
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		names[i] = commands[i].name;
	names[ARRAY_LEN(commands)] = "version";
	names[ARRAY_LEN(commands) + 1] = "help";
	const char *s = suggest(name, names, ARRAY_LEN(names));
	if (s)
		error("unknown command '%s' (did you mean '%s'?); see 'xgo-build --help'", name, s);
	else
		error("unknown command '%s'; see 'xgo-build --help'", name);
	return EXIT_USAGE;
}
