/* cli.h - the command-line surface: one function per subcommand, and the
 * options every subcommand shares.  Subcommands only parse options and wire
 * the pipeline stages together; the work happens in the stage modules.
 */
#ifndef XGO_CLI_H
#define XGO_CLI_H

/* Options common to every subcommand. */
struct cli_common {
	const char *file;  /* build file, default "release.lua" */
	int jobs;          /* 0 = from the CPU budget */
	int json;          /* --json */
};

/* Parse one common option from getopt_long's (opt, optarg); returns 1 when
 * it was one, 0 when not, -1 on a bad value (after printing why). */
int cli_common_opt(struct cli_common *c, int opt, const char *arg);
/* The long options every command accepts; splice into a command's table. */
#define CLI_COMMON_SHORT "f:C:j:qvh"
#define CLI_COMMON_LONG \
	{ "file", required_argument, 0, 'f' }, \
	{ "directory", required_argument, 0, 'C' }, \
	{ "jobs", required_argument, 0, 'j' }, \
	{ "quiet", no_argument, 0, 'q' }, \
	{ "verbose", no_argument, 0, 'v' }, \
	{ "help", no_argument, 0, 'h' }
#define CLI_COMMON_HELP \
	"  -f, --file FILE     the build file (default release.lua; also positional)\n" \
	"  -C, --directory DIR change to DIR first\n" \
	"  -j, --jobs N        parallel jobs (default: the CPUs available)\n" \
	"  -q, --quiet         only errors\n" \
	"  -v, --verbose       more detail\n" \
	"  -h, --help          this text\n"

/* After getopt: take at most one positional build file.  Returns 0, or
 * -1 with an error for extra arguments. */
int cli_positional_file(struct cli_common *c, int argc, char **argv, int optind_);

/* --target PATTERN (target 1) or --build NAME (0) of run and verify:
 * repeatable, up to PLAN_SELECT_MAX.  0, or -1 after error(). */
struct plan_select;
int cli_select_opt(struct plan_select *sel, int target, const char *arg);

/* After getopt_long returned '?' (main sets opterr = 0, so getopt prints
 * nothing): one usage error naming the argument at fault, argv[optind-1]
 * (an unknown option, or one missing its value).  Returns EXIT_USAGE. */
int cli_bad_option(const char *cmd, char **argv);

/* Print a usage error with a pointer to --help; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int cmd_run(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_sdk(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_lock(int argc, char **argv);
int cmd_targets(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_verify_release(int argc, char **argv);

#endif
