/* gitinfo.h - the git facts of a project's checkout, read once per run.
 *
 * They become template variables ({tag}, {commit}, {short_commit},
 * {commit_date}, {commit_timestamp}, {major}, {minor}, {patch},
 * {prerelease}), the default project version and SOURCE_DATE_EPOCH, and
 * are recorded in manifest.json.  None depends on the clock.
 *
 * git runs with an environment built from nothing: PATH=GITINFO_PATH,
 * LC_ALL=C, HOME=/nonexistent, GIT_CONFIG_NOSYSTEM=1,
 * GIT_CONFIG_GLOBAL=/dev/null (no user or system config, no GIT_*
 * variable of the host), core.fsmonitor off, and safe.directory set to
 * the checkout's top directory: xgo-build already trusts the project it
 * builds (release.lua runs hooks), so a checkout owned by another user
 * (a CI container) is read as is.  Each output is bounded.
 */
#ifndef XGO_GITINFO_H
#define XGO_GITINFO_H

#include <stddef.h>

#define GITINFO_PATH "/usr/bin:/bin"

struct gitinfo {
	int ok;              /* a git checkout with a commit; else why says why not */
	char why[256];       /* "not a git checkout (...)", "git is not installed ..." */
	char toplevel[4096]; /* the checkout's top directory */
	char commit[65];     /* full hash of HEAD (sha1 or sha256) */
	char short_commit[8];/* its first 7 hex digits (fixed: never depends on the clone) */
	char commit_timestamp[24]; /* committer time of HEAD, seconds since 1970 */
	char commit_date[32];      /* the same, RFC 3339 in UTC: 2026-01-02T03:04:05Z */
	int dirty;           /* tracked files differ from HEAD (untracked files do not count) */
	int vcs_modified;    /* the go command's vcs.modified: dirty, or an untracked file
	                        that .gitignore does not name */
	int tag_at_head;     /* tag names a tag on HEAD, else the last one reachable */
	char tag[129];       /* "" when no tag is reachable */
	int semver;          /* tag is [v]MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] */
	char major[24], minor[24], patch[24], prerelease[129];
	char version[200];   /* the default project version (gitinfo_version) */
};

/* Read the facts of the checkout holding dir.  Never fails: a directory
 * that is no checkout, or a machine without git, gives g->ok = 0 and the
 * reason in g->why. */
void gitinfo_read(const char *dir, struct gitinfo *g);

/* The project version when release.lua gives none, in g->version:
 *   HEAD tagged, tree clean:   the tag without a leading 'v' ("1.2.3")
 *   otherwise:                 <last tag without 'v'>-SNAPSHOT-<short_commit>
 *   no tag reachable:          0.0.0-SNAPSHOT-<short_commit>
 *   not a checkout:            0.0.0 */
void gitinfo_version(struct gitinfo *g);

/* The git environment of a job whose build has vcs = true (the go command
 * runs git itself): GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL, and through
 * GIT_CONFIG_COUNT safe.directory = * and core.fsmonitor off ("*", not
 * the checkout's path: the job's environment is recorded and hashed, and
 * must be the same in every clone).  Appends NAME=VALUE strings to env. */
struct strv;
void gitinfo_job_env(struct strv *env);

#endif
