#define _POSIX_C_SOURCE 200809L
#include "progress.h"
#include "base/util.h"

#include <pthread.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LABEL_MAX 96
#define LINE_MAX_COLS 200

struct slot {
	char label[LABEL_MAX];
	double started; /* 0 = not running */
};

struct progress {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t ticker;
	int live, stop, drawn;
	size_t total, done, failed;
	struct slot *slots;
};

int progress_want_live(void)
{
	const char *ci = getenv("CI");
	return verbosity >= 0 && isatty(2) && !(ci && *ci);
}

static void clear_line(struct progress *p)
{
	if (p->drawn) {
		fputs("\r\033[K", stderr);
		p->drawn = 0;
	}
}

/* Called with mu held. */
static void draw(struct progress *p)
{
	char line[LINE_MAX_COLS + 1];
	double t = mono_seconds();
	struct winsize ws;
	size_t cols = ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10 ? ws.ws_col - 1 : 79;
	if (cols > LINE_MAX_COLS)
		cols = LINE_MAX_COLS;
	int n = snprintf(line, sizeof(line), "[%zu/%zu%s] building:", p->done, p->total,
			 p->failed ? ", failures" : "");
	for (size_t i = 0; i < p->total && n > 0 && (size_t)n < sizeof(line); i++)
		if (p->slots[i].started > 0)
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %s %.0fs,", p->slots[i].label,
				      t - p->slots[i].started);
	if (n > 0 && (size_t)n < sizeof(line) && line[n - 1] == ',')
		line[n - 1] = '\0';
	if (strlen(line) > cols)
		line[cols] = '\0';
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	p->drawn = 1;
}

static void *tick(void *arg)
{
	struct progress *p = arg;
	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		draw(p);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->cv, &p->mu, &ts);
	}
	clear_line(p);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct progress *progress_new(size_t total, int live)
{
	struct progress *p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->total = total;
	p->slots = xcalloc(total ? total : 1, sizeof(*p->slots));
	p->live = live;
	if (live && pthread_create(&p->ticker, NULL, tick, p) != 0)
		p->live = 0;
	return p;
}

void progress_start(struct progress *p, size_t idx, const char *label)
{
	if (!p || idx >= p->total)
		return;
	pthread_mutex_lock(&p->mu);
	snprintf(p->slots[idx].label, LABEL_MAX, "%s", label);
	p->slots[idx].started = mono_seconds();
	pthread_mutex_unlock(&p->mu);
}

void progress_done(struct progress *p, size_t idx, int ok, double wall)
{
	if (!p || idx >= p->total)
		return;
	pthread_mutex_lock(&p->mu);
	p->slots[idx].started = 0;
	p->done++;
	p->failed += !ok;
	if (verbosity >= 0 || !ok) {
		clear_line(p);
		fprintf(stderr, "xgo-build: [%zu/%zu] %s %s (%.1fs)\n", p->done, p->total, ok ? "ok" : "FAILED",
			p->slots[idx].label, wall);
	}
	pthread_mutex_unlock(&p->mu);
}

void progress_hold(struct progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	clear_line(p);
}

void progress_release(struct progress *p)
{
	if (p)
		pthread_mutex_unlock(&p->mu);
}

void progress_free(struct progress *p)
{
	if (!p)
		return;
	if (p->live) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->ticker, NULL);
	}
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->slots);
	free(p);
}
