#define _POSIX_C_SOURCE 200809L
#include "events.h"
#include "base/jsonx.h"
#include "base/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct {
	pthread_mutex_t mu;
	int on;
	int closed; /* stdout failed (a closed pipe): no more events */
	enum ci_kind ci;
	double t0; /* mono_seconds() at events_init */
	char *context;
	unsigned sections;
} ev = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int env_is(const char *name, const char *value)
{
	const char *v = getenv(name);
	return v && !strcmp(v, value);
}

void events_init(int json)
{
	const char *ci = getenv("CI");
	ev.on = json;
	ev.t0 = mono_seconds();
	if (env_is("GITHUB_ACTIONS", "true"))
		ev.ci = CI_GITHUB;
	else if (env_is("GITLAB_CI", "true"))
		ev.ci = CI_GITLAB;
	else if (ci && *ci)
		ev.ci = CI_OTHER;
	else
		ev.ci = CI_NONE;
}

int events_on(void)
{
	return ev.on;
}

enum ci_kind events_ci(void)
{
	return ev.ci;
}

void events_context(const char *ctx)
{
	pthread_mutex_lock(&ev.mu);
	free(ev.context);
	ev.context = ctx ? xstrdup(ctx) : NULL;
	pthread_mutex_unlock(&ev.mu);
}

static double elapsed(void)
{
	double s = mono_seconds() - ev.t0;
	return (double)(long long)(s * 1000) / 1000;
}

void events_emit(const char *kind, json_t *fields)
{
	if (!ev.on) {
		json_decref(fields);
		return;
	}
	if (!fields) /* a json_pack that failed: never an event missing its fields */
		fatal(EXIT_JOB, "cannot build the '%s' event: a value that is not valid UTF-8, or out of memory", kind);
	/* "event" first: a reader can dispatch on the start of the line */
	json_t *o = json_pack("{s:s, s:i, s:f}", "event", kind, "schema", 1, "elapsed_s", elapsed());
	pthread_mutex_lock(&ev.mu);
	if (ev.context)
		jx_set(o, "context", json_string(ev.context));
	if (fields)
		jx_update(o, fields);
	char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));
	if (line && !ev.closed) {
		fputs(line, stdout);
		fputc('\n', stdout);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			/* the reader is gone: the run goes on, and says so once */
			ev.closed = 1;
			warn("cannot write events to stdout (%s): no more JSON events; the run goes on",
			     strerror(errno));
		}
	}
	pthread_mutex_unlock(&ev.mu);
	free(line);
	json_decref(fields);
	json_decref(o);
}

/* GitHub workflow command data: %, CR and LF escaped (and, in a
 * property, ':' and ','), into out of size bytes. */
static void gh_escape(const char *s, int property, char *out, size_t size)
{
	size_t n = 0;
	for (; *s && n + 4 < size; s++) {
		const char *rep = NULL;
		switch (*s) {
		case '%': rep = "%25"; break;
		case '\r': rep = "%0D"; break;
		case '\n': rep = "%0A"; break;
		case ':': rep = property ? "%3A" : NULL; break;
		case ',': rep = property ? "%2C" : NULL; break;
		}
		if (rep) {
			memcpy(out + n, rep, 3);
			n += 3;
		} else {
			out[n++] = *s;
		}
	}
	out[n] = '\0';
}

static void print_tail_body(const char *tail)
{
	fputs(tail, stderr);
	if (*tail && tail[strlen(tail) - 1] != '\n')
		fputc('\n', stderr);
}

void ci_failure(const char *title, const char *message, const char *tail)
{
	char t[256], m[1024];
	pthread_mutex_lock(&ev.mu);
	switch (ev.ci) {
	case CI_GITHUB:
		gh_escape(title, 1, t, sizeof(t));
		gh_escape(message, 0, m, sizeof(m));
		fprintf(stderr, "::error title=%s::%s\n", t, m);
		/* a group cannot hold a workflow command: the tail only */
		fprintf(stderr, "::group::%s (log tail)\n", title);
		print_tail_body(tail);
		fputs("::endgroup::\n", stderr);
		break;
	case CI_GITLAB: {
		long now = (long)time(NULL);
		unsigned id = ++ev.sections;
		fprintf(stderr, "\033[0Ksection_start:%ld:xgo_failure_%u[collapsed=true]\r\033[0K%s: %s\n", now, id,
			title, message);
		print_tail_body(tail);
		fprintf(stderr, "\033[0Ksection_end:%ld:xgo_failure_%u\r\033[0K\n", now, id);
		break;
	}
	default:
		fprintf(stderr, "xgo-build: --- %s ---\n", title);
		print_tail_body(tail);
		break;
	}
	fflush(stderr);
	pthread_mutex_unlock(&ev.mu);
}

void ci_summary(const char *markdown)
{
	const char *path = getenv("GITHUB_STEP_SUMMARY");
	if (ev.ci != CI_GITHUB || !path || !*path)
		return;
	FILE *f = fopen(path, "a");
	if (!f) {
		warn("cannot append to GITHUB_STEP_SUMMARY '%s':", path);
		return;
	}
	fputs(markdown, f);
	if (fclose(f) != 0)
		warn("cannot write GITHUB_STEP_SUMMARY '%s':", path);
}
