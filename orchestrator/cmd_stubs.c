/* Subcommands whose stages are not built yet say so plainly. */
#include "cli.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static int not_built(const char *cmd, int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: xgo-build %s ...\n\n'%s' is not built yet in this version.\n", cmd, cmd);
		return EXIT_OK;
	}
	error("'xgo-build %s' is not built yet in this version", cmd);
	return EXIT_USAGE;
}

int cmd_verify(int argc, char **argv) { return not_built("verify", argc, argv); }
