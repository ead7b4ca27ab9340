/* verify.h - prove that a release builds bit for bit the same: rebuild it
 * under varied conditions, compare every artifact, explain differences.
 *
 * Variations (each a bit of a set; names as the CLI spells them):
 *   path      the rebuild runs on a copy of the source at another path
 *   gocache   the rebuild starts from a fresh, empty GOCACHE
 *   home      HOME, TMPDIR and the work directory under other roots
 *   tz        another TZ for the xgo-build process
 *   locale    another LC_ALL/LANG for the xgo-build process
 *   umask     process umask 077 for the rebuild (022 for the first build)
 *   order     jobs started last to first, with other parallelism
 *   user      jobs in a user namespace that maps another uid (when allowed)
 *   hostname  jobs in a UTS namespace with another host name (when allowed)
 *   time      the rebuild happens later; hooks under libfaketime when the
 *             library is installed (a much later clock)
 * Variations that cannot be applied on this machine are skipped with a
 * note in the report, never silently.
 *
 * Report (a JSON object; verify_report_print renders it as a table):
 *   { "schema": 1, "identical": bool, "variations": [names applied],
 *     "skipped": [{"variation", "why"}], "builds": [{"role", "dist",
 *     "seconds"}], "against": "source or null",
 *     "artifacts": [{ "target", "artifact", "identical", "sha256": [a, b],
 *                     "size": [a, b], "summary", "explanation": {...} }] }
 * explanation: see explain.h.
 */
#ifndef XGO_VERIFY_H
#define XGO_VERIFY_H

#include <jansson.h>

#include "pipeline.h"

enum {
	VARY_PATH = 1u << 0,
	VARY_GOCACHE = 1u << 1,
	VARY_HOME = 1u << 2,
	VARY_TZ = 1u << 3,
	VARY_LOCALE = 1u << 4,
	VARY_UMASK = 1u << 5,
	VARY_ORDER = 1u << 6,
	VARY_USER = 1u << 7,
	VARY_HOSTNAME = 1u << 8,
	VARY_TIME = 1u << 9,
	VARY_ALL = (1u << 10) - 1,
};


/* Apply a comma-separated list of variation names ("all" for every one)
 * to *set: added when on, removed when not.  -1 with error() for an
 * unknown name (with a suggestion). */
int verify_vary_parse(const char *list, int on, unsigned *set);
/* Names of the variations in set as a JSON array. */
json_t *verify_vary_json(unsigned set);

/* One build of the release.  base is the caller's pipeline options; dist
 * and work_dir come from root (a fresh directory the caller owns).  For
 * the varied rebuild (vary != 0) the process environment, umask, source
 * copy, GOCACHE and job options are changed for the duration of the build
 * and restored after; skipped variations are appended to skipped.
 * Returns the pipeline's exit code; *seconds gets the wall time. */
int verify_build(const struct pipeline_opts *base, unsigned vary, const char *root, const char *dist,
		 json_t *skipped, double *seconds);

/* Compare every file of dist a and dist b (manifest.json aside: it
 * records paths and times by design).  Targets are named from a's
 * manifest.json.  diffoscope_dir: NULL, or where to keep diffoscope
 * reports.  Returns the "artifacts" array. */
json_t *verify_compare_dirs(const char *a, const char *b, const char *diffoscope_dir);

/* Compare the rebuilt dist with a published record: expected is
 * {artifact name: sha256}.  pub_dir, when not NULL, holds the published
 * files themselves, so that differences can be explained. */
json_t *verify_compare_expected(json_t *expected, const char *dist, const char *pub_dir,
				const char *diffoscope_dir);

/* The table: target, artifact, identical, digest(s), explanation; then
 * the details of each differing artifact. */
void verify_report_print(json_t *report);

struct verify_opts {
	unsigned vary;          /* variations of the rebuild */
	int keep;               /* keep the temporary builds (and say where) */
	int json;               /* the report as JSON on stdout, not the table */
	int diffoscope;         /* run diffoscope on differing pairs (implies keep) */
	int after_run;          /* run --verify: the first build is the run that
	                           just wrote po->dist (or dist/ beside release.lua) */
	double first_seconds;   /* that run's wall time */
};

/* The default variations of `run --verify`: all but gocache, whose cold
 * rebuild of the standard library for every target would cost many times
 * the run itself. */
#define VARY_RUN_DEFAULT (VARY_ALL & ~VARY_GOCACHE)

/* Build po's release (unless vo->after_run), rebuild it with vo->vary,
 * compare, print the report.  EXIT_OK identical, EXIT_MISMATCH not, or the
 * exit code of a build that failed. */
int verify_run(const struct pipeline_opts *po, const struct verify_opts *vo);

/* Rebuild po's release once and compare it with a published release:
 * src is a dist directory, a SHA256SUMS-style file, a manifest.json, or
 * an http(s)/file URL of either (at most VERIFY_MAX_RECORD bytes).  A
 * manifest's SDK pin must equal release.lock's (else EXIT_TOOLCHAIN). */
#define VERIFY_MAX_RECORD (16u << 20)
int verify_against(const struct pipeline_opts *po, const struct verify_opts *vo, const char *src);

/* Read a published record (text[len], NUL-terminated): a manifest.json
 * (manifest_parse), whose jobs' outputs and archives with their sha256 go
 * into expected (name -> hex) and which is returned in *manifest (caller
 * releases), or SHA256SUMS lines (manifest->doc NULL).  what names it in
 * errors.  0, or -1 with error() for a malformed or empty record. */
struct manifest;
int verify_parse_record(const char *what, const char *text, size_t len, json_t *expected, struct manifest *manifest);

/* A copy of directory src at dst (regular files, directories, symlinks),
 * leaving out the paths in skip (NULL-terminated; relative to src: "dist",
 * "sub/project/dist"). */
int verify_copy_tree(const char *src, const char *dst, const char *const *skip);

#endif
