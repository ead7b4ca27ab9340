#define _POSIX_C_SOURCE 200809L
#include "gitinfo.h"
#include "base/proc.h"
#include "base/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GIT_OUT_MAX 65536 /* a status listing longer than this counts as dirty */

static char *const git_env[] = { "PATH=" GITINFO_PATH, "LC_ALL=C", "HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1",
				 "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0", NULL };

/* Run git -C dir ARGS; *out holds its stdout, trailing newlines cut.
 * Returns git's exit status, or -1 when it could not run (or its output
 * overflowed), with err's first line kept for the caller. */
static int git(const char *dir, const char *safe, const char *const args[], struct buf *out, struct buf *err)
{
	char *safe_opt = xasprintf("safe.directory=%s", safe);
	char *argv[16] = { "git", "-c", safe_opt, "-c", "core.fsmonitor=false", "-C", (char *)dir };
	size_t n = 7;
	for (size_t i = 0; args[i] && n + 1 < ARRAY_LEN(argv); i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	buf_init(out, GIT_OUT_MAX);
	if (err)
		buf_init(err, 4096);
	int status;
	int saved = error_quiet(1); /* no git on the machine is a fact, not an error */
	int rc = proc_capture(argv, git_env, NULL, out, err, &status);
	error_quiet(saved);
	free(safe_opt);
	if (rc < 0)
		return -1;
	while (out->data && out->len && out->data[out->len - 1] == '\n')
		out->data[--out->len] = '\0';
	return status;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* [v]MAJOR.MINOR.PATCH[-PRE][+BUILD] into g's fields. */
static void parse_semver(struct gitinfo *g)
{
	const char *p = g->tag;
	if (*p == 'v')
		p++;
	char *fields[3] = { g->major, g->minor, g->patch };
	for (int i = 0; i < 3; i++) {
		size_t n = strspn(p, "0123456789");
		if (!n || n >= sizeof(g->major) || p[n] != (i < 2 ? '.' : p[n]))
			return;
		memcpy(fields[i], p, n);
		fields[i][n] = '\0';
		p += n + (i < 2);
	}
	if (*p && *p != '-' && *p != '+')
		return;
	if (*p == '-') {
		size_t n = strcspn(p + 1, "+");
		if (!n)
			return;
		snprintf(g->prerelease, sizeof(g->prerelease), "%.*s", (int)n, p + 1);
	}
	g->semver = 1;
}

static void read_tag(struct gitinfo *g)
{
	static const char *const at_head[] = { "tag", "--points-at", "HEAD", "--sort=-version:refname", NULL };
	static const char *const last[] = { "describe", "--tags", "--abbrev=0", "HEAD", NULL };
	struct buf o;
	if (git(g->toplevel, g->toplevel, at_head, &o, NULL) == 0 && o.data && *o.data) {
		o.data[strcspn(o.data, "\n")] = '\0';
		g->tag_at_head = 1;
	} else {
		buf_release(&o);
		if (git(g->toplevel, g->toplevel, last, &o, NULL) != 0 || !o.data)
			buf_release(&o);
	}
	if (o.data && strlen(o.data) < sizeof(g->tag))
		snprintf(g->tag, sizeof(g->tag), "%s", o.data);
	else
		g->tag_at_head = 0; /* none, or too long to be a name worth using */
	buf_release(&o);
	if (*g->tag)
		parse_semver(g);
}

static int read_head(struct gitinfo *g)
{
	static const char *const log[] = { "log", "-1", "--format=%H %ct", NULL };
	static const char *const status[] = { "status", "--porcelain", "--untracked-files=no", NULL };
	static const char *const status_all[] = { "status", "--porcelain", NULL }; /* as the go command asks */
	struct buf o;
	int rc = git(g->toplevel, g->toplevel, log, &o, NULL);
	char *sp = o.data ? strchr(o.data, ' ') : NULL;
	if (rc != 0 || !sp || (size_t)(sp - o.data) >= sizeof(g->commit) || sp - o.data < 7 ||
	    strlen(sp + 1) >= sizeof(g->commit_timestamp) || !all_digits(sp + 1)) {
		buf_release(&o);
		snprintf(g->why, sizeof(g->why), "the git checkout '%.160s' has no commit yet", g->toplevel);
		return -1;
	}
	*sp = '\0';
	snprintf(g->commit, sizeof(g->commit), "%s", o.data);
	snprintf(g->short_commit, sizeof(g->short_commit), "%.7s", o.data);
	snprintf(g->commit_timestamp, sizeof(g->commit_timestamp), "%s", sp + 1);
	buf_release(&o);
	time_t t = (time_t)strtoll(g->commit_timestamp, NULL, 10);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(g->commit_date, sizeof(g->commit_date), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(g->commit_date, sizeof(g->commit_date), "1970-01-01T00:00:00Z");
	rc = git(g->toplevel, g->toplevel, status, &o, NULL);
	g->dirty = rc != 0 || (o.data && *o.data); /* -1: more changes than GIT_OUT_MAX */
	buf_release(&o);
	rc = git(g->toplevel, g->toplevel, status_all, &o, NULL);
	g->vcs_modified = rc != 0 || (o.data && *o.data);
	buf_release(&o);
	return 0;
}

void gitinfo_read(const char *dir, struct gitinfo *g)
{
	static const char *const top[] = { "rev-parse", "--show-toplevel", NULL };
	struct buf o, e;
	memset(g, 0, sizeof(*g));
	/* safe.directory=* only to find the top directory; later calls name it */
	int rc = git(dir, "*", top, &o, &e);
	if (rc < 0) {
		snprintf(g->why, sizeof(g->why), "git is not installed (looked in %s)", GITINFO_PATH);
	} else if (rc != 0 || !o.data || !*o.data || o.len >= sizeof(g->toplevel)) {
		const char *msg = e.data ? e.data : "";
		snprintf(g->why, sizeof(g->why), "'%.100s' is not a git checkout (git: %.*s)", dir,
			 (int)(strcspn(msg, "\n") > 100 ? 100 : strcspn(msg, "\n")), msg);
	} else {
		snprintf(g->toplevel, sizeof(g->toplevel), "%s", o.data);
		g->ok = read_head(g) == 0;
		if (g->ok)
			read_tag(g);
	}
	buf_release(&o);
	buf_release(&e);
	gitinfo_version(g);
}

void gitinfo_version(struct gitinfo *g)
{
	const char *t = g->tag;
	if (t[0] == 'v' && isdigit((unsigned char)t[1]))
		t++;
	if (!g->ok)
		snprintf(g->version, sizeof(g->version), "0.0.0");
	else if (g->tag_at_head && !g->dirty)
		snprintf(g->version, sizeof(g->version), "%s", t);
	else
		snprintf(g->version, sizeof(g->version), "%s-SNAPSHOT-%s", *t ? t : "0.0.0", g->short_commit);
}

void gitinfo_job_env(struct strv *env)
{
	strv_push(env, "GIT_CONFIG_NOSYSTEM=1");
	strv_push(env, "GIT_CONFIG_GLOBAL=/dev/null");
	strv_push(env, "GIT_CONFIG_COUNT=2");
	strv_push(env, "GIT_CONFIG_KEY_0=safe.directory");
	strv_push(env, "GIT_CONFIG_VALUE_0=*");
	strv_push(env, "GIT_CONFIG_KEY_1=core.fsmonitor");
	strv_push(env, "GIT_CONFIG_VALUE_1=false");
}
