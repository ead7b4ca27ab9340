#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "plan.h"
#include "base/util.h"

#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error("%s (see 'xgo-build %s --help')", msg, cmd);
	return EXIT_USAGE;
}

int cli_bad_option(const char *cmd, char **argv)
{
	return cli_usage_error(cmd, "unknown option or missing value in '%s'", argv[optind - 1]);
}

static int parse_jobs(const char *arg, int *out)
{
	char *end;
	long n = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || n < 1 || n > 1024)
		return error("--jobs wants a number from 1 to 1024, not '%s'", arg);
	*out = (int)n;
	return 0;
}

int cli_common_opt(struct cli_common *c, int opt, const char *arg)
{
	switch (opt) {
	case 'f':
		c->file = arg;
		return 1;
	case 'C':
		if (chdir(arg) < 0)
			return error("cannot change to directory '%s':", arg);
		return 1;
	case 'j':
		return parse_jobs(arg, &c->jobs) < 0 ? -1 : 1;
	case 'q':
		verbosity = -1;
		return 1;
	case 'v':
		verbosity = 1;
		return 1;
	}
	return 0;
}

int cli_positional_file(struct cli_common *c, int argc, char **argv, int optind_)
{
	if (optind_ < argc) {
		c->file = argv[optind_++];
		if (optind_ < argc)
			return error("unexpected argument '%s': give one build file", argv[optind_]);
	}
	if (!c->file)
		c->file = "release.lua";
	return 0;
}

int cli_select_opt(struct plan_select *sel, int target, const char *arg)
{
	const char *what = target ? "target" : "build";
	size_t *n = target ? &sel->ntargets : &sel->nbuilds;
	if (!*arg)
		return error("--%s wants a value (see 'xgo-build plan' for the names)", what);
	if (*n >= PLAN_SELECT_MAX)
		return error("more than %d --%s options", PLAN_SELECT_MAX, what);
	(target ? sel->targets : sel->builds)[(*n)++] = arg;
	return 0;
}
