#define _POSIX_C_SOURCE 200809L
#include "build.h"
#include "cpu.h"
#include "events.h"
#include "base/hash.h"
#include "base/jsonx.h"
#include "progress.h"
#include "runner.h"
#include "toolchains/sdk.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TAIL_LINES 20

static int mkdir_parent(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int rc = 0;
	if (slash && slash != dir) {
		*slash = '\0';
		rc = mkdir_p(dir, 0755);
	}
	free(dir);
	return rc;
}

/* The tail of a failed step's log, to stderr (in a collapsible group
 * under CI); returns the tail (owned) for the event stream. */
static char *print_tail(const char *what, const char *message, const char *log_path)
{
	char *tail = runner_log_tail(log_path, TAIL_LINES);
	char title[256];
	if (!tail)
		tail = xstrdup("");
	/* a CI's group shows the log itself; a terminal gets its path */
	if (events_ci() == CI_GITHUB || events_ci() == CI_GITLAB)
		snprintf(title, sizeof(title), "%s", what);
	else
		snprintf(title, sizeof(title), "last lines of %s (%s)", what, log_path);
	ci_failure(title, message, tail);
	if (strstr(tail, "GOPROXY=off") || strstr(tail, "lookup disabled"))
		fprintf(stderr, "xgo-build: hint: the build needs a module the prefetch did not download; "
				"run 'go mod tidy' and commit go.mod and go.sum\n");
	return tail;
}

static void fill_spec(struct runner_spec *spec, const struct build_opts *o, char **argv, char **env,
		      const char *log)
{
	memset(spec, 0, sizeof(*spec));
	spec->argv = argv;
	spec->envp = env;
	spec->dir = o->project_dir;
	spec->log_path = log;
	spec->timeout_ms = o->timeout_ms;
	spec->umask = 022;
	spec->iso = ISO_NONE;
	spec->trampoline = o->trampoline;
	spec->uid = o->vary_uid;
	spec->hostname = o->vary_hostname;
}

/* Run one command to completion through a one-slot runner: prefetch and
 * hooks.  Returns an exit code for the stage. */
static int run_one(const struct build_opts *o, struct strv *argv, struct strv *env, const char *name,
		   const char *what)
{
	char *log = xasprintf("%s/logs/%s.log", o->work_dir, name);
	struct runner *r = runner_new(1);
	struct runner_spec spec;
	struct runner_result res;
	int rc = EXIT_JOB;
	if (mkdir_parent(log) < 0)
		goto out;
	fill_spec(&spec, o, argv->v, env->v, log);
	runner_catch_signals(r);
	if (runner_add(r, &spec) < 0)
		goto out;
	int w = runner_wait_any(r, &res);
	if (w == RUNNER_INTERRUPTED) {
		rc = EXIT_INTERRUPTED;
	} else if (w == 1) {
		if (res.status == 0) {
			rc = EXIT_OK;
		} else {
			char msg[256];
			snprintf(msg, sizeof(msg), "%s failed (%s%d)", what, res.status > 128 ? "signal " : "exit ",
				 res.status > 128 ? res.status - 128 : res.status);
			error("%s", msg);
			if (res.error)
				error("%s", res.error);
			char *tail = print_tail(what, msg, log);
			events_emit("step_failed", json_pack("{s:s, s:i, s:o}", "step", what, "exit", res.status,
							     "log_tail", jx_text(tail)));
			free(tail);
		}
		runner_result_release(&res);
	}
out:
	runner_restore_signals();
	runner_free(r);
	free(log);
	return rc;
}

/* What a prefetch depends on: go.mod, go.sum, the SDK, GOMODCACHE and
 * the network environment.  0 (and "") when go.mod cannot be read. */
static int prefetch_stamp(const struct build_opts *o, char stamp[65])
{
	struct hasher *h = hasher_new(HASH_SHA256);
	struct strv env = { 0 };
	char hex[HASH_HEX_MAX];
	const char *files[] = { "go.mod", "go.sum" };
	int ok = 1;
	stamp[0] = '\0';
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		char *path = xasprintf("%s/%s", o->project_dir, files[i]);
		if (access(path, F_OK) != 0 || hash_file_hex(HASH_SHA256, path, hex, NULL) < 0)
			snprintf(hex, sizeof(hex), "%s", i == 0 ? "" : "-");
		ok &= hex[0] != '\0';
		hasher_update(h, hex, strlen(hex) + 1);
		free(path);
	}
	jobenv_network(o->env, "/<scratch>", &env);
	for (size_t i = 0; i < env.n; i++)
		if (!jobenv_tuning(env.v[i]))
			hasher_update(h, env.v[i], strlen(env.v[i]) + 1);
	strv_release(&env);
	hasher_final_hex(h, hex);
	hasher_free(h);
	if (ok)
		memcpy(stamp, hex, 65);
	return ok;
}

/* The last prefetch had this stamp and its modules are still there. */
static int prefetch_done(const struct build_opts *o, const char *stamp_path, const char *stamp)
{
	char *sum = xasprintf("%s/go.sum", o->project_dir);
	char *dl = xasprintf("%s/cache/download", o->env->gomodcache);
	int gone = access(sum, F_OK) == 0 && access(dl, F_OK) != 0;
	free(sum);
	free(dl);
	if (gone)
		return 0;
	size_t len;
	int saved = error_quiet(1);
	char *last = read_file(stamp_path, 128, &len);
	error_quiet(saved);
	int same = last && len == 64 && !memcmp(last, stamp, 64);
	free(last);
	return same;
}

int build_prefetch(const struct build_opts *o)
{
	if (o->env->vendor)
		return EXIT_OK;
	char *gomod = xasprintf("%s/go.mod", o->project_dir);
	int has_mod = access(gomod, F_OK) == 0;
	free(gomod);
	if (!has_mod)
		return error("no go.mod in '%s': xgo-build builds Go modules", o->project_dir), EXIT_USAGE;
	char stamp[65];
	char *stamp_path = xasprintf("%s/prefetch.done", o->work_dir);
	if (prefetch_stamp(o, stamp) && prefetch_done(o, stamp_path, stamp)) {
		free(stamp_path);
		return EXIT_OK;
	}
	char *scratch = jobenv_scratch(o->work_dir, "prefetch");
	if (!scratch) {
		free(stamp_path);
		return EXIT_JOB;
	}
	struct strv env = { 0 }, argv = { 0 };
	jobenv_network(o->env, scratch, &env);
	strv_pushf(&argv, "%s/bin/go", o->env->sdk_root);
	strv_push(&argv, "mod");
	strv_push(&argv, "download");
	note("prefetching modules (go mod download)");
	int rc = run_one(o, &argv, &env, "prefetch", "module prefetch (go mod download)");
	if (rc == EXIT_OK && stamp[0])
		write_file_atomic(stamp_path, stamp, 64, 0644);
	free(stamp_path);
	strv_release(&env);
	strv_release(&argv);
	remove_tree(scratch);
	free(scratch);
	return rc;
}

int build_before_hooks(const struct release *r, const struct build_opts *o)
{
	for (size_t i = 0; i < r->before.n; i++) {
		char name[32], what[64];
		snprintf(name, sizeof(name), "before-%zu", i + 1);
		snprintf(what, sizeof(what), "before hook %zu", i + 1);
		char *scratch = jobenv_scratch(o->work_dir, name);
		if (!scratch)
			return EXIT_JOB;
		struct strv env = { 0 }, argv = { 0 };
		jobenv_network(o->env, scratch, &env);
		if (o->hook_faketime) {
			/* verify's time variation: a clock 400 days later */
			strv_pushf(&env, "LD_PRELOAD=%s", o->hook_faketime);
			strv_push(&env, "FAKETIME=+400d");
		}
		strv_push(&argv, "/bin/sh");
		strv_push(&argv, "-c");
		strv_push(&argv, r->before.v[i]);
		note("before hook: %s", r->before.v[i]);
		int rc = run_one(o, &argv, &env, name, what);
		strv_release(&env);
		strv_release(&argv);
		remove_tree(scratch);
		free(scratch);
		if (rc != EXIT_OK)
			return rc;
	}
	return EXIT_OK;
}

int build_after_hooks(const struct release *r, const struct build_opts *o, struct result *res, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (!res[k].done || res[k].status != 0)
			continue;
		for (size_t i = 0; i < r->after.n; i++) {
			char name[96], what[160];
			snprintf(name, sizeof(name), "after-%zu-%zu", i + 1, k);
			snprintf(what, sizeof(what), "after hook %zu for %s %s", i + 1, res[k].job->build->name,
				 res[k].job->id);
			struct strv env = { 0 }, argv = { 0 };
			for (size_t e = 0; e < res[k].env.n; e++)
				strv_push(&env, res[k].env.v[e]);
			strv_pushf(&env, "XGO_ARTIFACT=%s", res[k].path);
			strv_pushf(&env, "XGO_BUILD=%s", res[k].job->build->name);
			strv_pushf(&env, "XGO_TARGET=%s", res[k].job->id);
			jobenv_sort(&env);
			strv_push(&argv, "/bin/sh");
			strv_push(&argv, "-c");
			strv_push(&argv, r->after.v[i]);
			int rc = run_one(o, &argv, &env, name, what);
			strv_release(&env);
			strv_release(&argv);
			if (rc != EXIT_OK)
				return rc;
		}
	}
	return EXIT_OK;
}

/* ---- the parallel build ---- */

struct sched {
	const struct plan *plan;
	const struct build_opts *o;
	struct runner *runner;
	struct result *res;
	size_t *leader;   /* leader[i]: the first job with job i's target */
	size_t finished, failed;
	size_t started;   /* jobs handed to the runner so far */
	int cpus;         /* cpu_available(), for the last job's -p */
	int inflight;     /* added to the runner and not finished */
	int stop;         /* fail-fast tripped: start nothing more */
	struct progress *progress;
	struct sdk_guard *guard; /* the SDK walked again while jobs build; NULL: all cached */
	int sdk_changed;  /* the guard failed: nothing more is stored or passed on */
	int prog_off;     /* the go build cache program failed a job: plain GOCACHE from here on */
};

static int same_target_key(const struct target *a, const struct target *b)
{
	return !strcmp(a->goos, b->goos) && !strcmp(a->goarch, b->goarch) && !strcmp(a->vval, b->vval) &&
	       a->cgo == b->cgo;
}

static json_t *job_fields(const struct job *j)
{
	return json_pack("{s:s, s:s, s:s}", "build", j->build->name, "target", j->id, "output", j->output);
}

/* "job_finished": the outcome; tail is the log tail of a failure. */
static void emit_finished(const struct result *res, const char *tail)
{
	if (!events_on())
		return;
	const char *status = res->status == 0 ? (res->cached ? "cached" : "ok") : res->timed_out ? "timeout" : "failed";
	json_t *o = job_fields(res->job);
	jx_set(o, "status", json_string(status));
	jx_set(o, "exit", json_integer(res->status));
	jx_set(o, "cached", json_boolean(res->cached));
	jx_set(o, "duration_s", json_real((double)(long long)(res->wall * 1000) / 1000));
	jx_set(o, "cpu_s", json_real((double)(long long)(res->cpu * 1000) / 1000));
	if (res->status == 0) {
		jx_set(o, "size", json_integer((json_int_t)res->size));
		jx_set(o, "sha256", json_string(res->sha256));
	}
	if (tail)
		jx_set(o, "log_tail", jx_text(tail));
	if (res->log_path)
		jx_set(o, "log", json_string(res->log_path));
	events_emit("job_finished", o);
}

static int start_job(struct sched *s, size_t i)
{
	const struct job *j = &s->plan->jobs[i];
	struct result *res = &s->res[i];
	char name[128];
	plan_job_name(j, "", name, sizeof(name));
	if (jobenv_make_scratch(j->scratch) < 0)
		return -1;
	res->path = xstrdup(j->out_path);
	res->log_path = xasprintf("%s/logs/%s.log", s->o->work_dir, name);
	/* The last job to start gets every CPU (-p and GOMAXPROCS): the jobs
	 * still running started before it and end first, and with -p 1 it
	 * would then leave all but one CPU idle for its whole length.  The
	 * overlap costs at most a short oversubscription.  bench/RESULTS.md
	 * has the measurement. */
	struct jobenv_ctx ctx = *s->o->env;
	if (s->started + 1 == s->plan->n && s->cpus > ctx.procs)
		ctx.procs = s->cpus;
	if (s->prog_off)
		ctx.gocacheprog = NULL;
	if (mkdir_parent(res->path) < 0 || mkdir_parent(res->log_path) < 0)
		return -1;
	jobenv_fill(&ctx, j, NULL, NULL, &res->env, &res->argv);
	struct runner_spec spec;
	struct strv env = { 0 };
	jobenv_spawn(&ctx, &res->env, &env);
	fill_spec(&spec, s->o, res->argv.v, env.v, res->log_path);
	spec.iso = s->o->iso;
	spec.user = (void *)(uintptr_t)i;
	int added = runner_add(s->runner, &spec); /* copies env */
	strv_release(&env);
	if (added < 0)
		return -1;
	res->started = 1;
	s->started++;
	char label[96];
	snprintf(label, sizeof(label), "%s %s", j->build->name, j->id);
	progress_start(s->progress, i, label);
	events_emit("job_started", job_fields(j));
	return 0;
}

/* Start ready jobs while slots are free: plan order, except that a job
 * waits for the first job of its target (its leader) to finish. */
static void fill_slots(struct sched *s)
{
	for (size_t k = 0; k < s->plan->n && !s->stop && s->inflight < s->o->parallel; k++) {
		size_t i = s->o->reverse_order ? s->plan->n - 1 - k : k;
		if (s->res[i].started)
			continue;
		size_t l = s->leader[i];
		if (l != i && !s->res[l].done && !s->o->reverse_order)
			continue;
		if (start_job(s, i) < 0) {
			s->stop = 1;
			return;
		}
		s->inflight++;
	}
}

/* What a job's cache entry is for (actcache.h). */
static struct ac_for job_for(const struct job *j)
{
	return (struct ac_for){ j->build->name, j->id, j->output, j->target.goos, j->target.goarch };
}

/* Take every job the action cache holds: no go build for those. */
static void take_cached(struct sched *s)
{
	mode_t mask = umask(0);
	umask(mask);
	for (size_t i = 0; i < s->plan->n && s->o->cache; i++) {
		const struct job *j = &s->plan->jobs[i];
		struct result *res = &s->res[i];
		struct ac_entry e;
		if (!j->key[0])
			continue;
		res->key = j->key;
		res->path = xstrdup(j->out_path);
		struct ac_for f = job_for(j);
		if (mkdir_parent(res->path) < 0 ||
		    !actcache_get(s->o->cache, res->key, &f, res->path, 0777 & ~mask, &e)) {
			FREE_AND_NULL(res->path);
			continue;
		}
		/* recorded as a built job's would be: the manifest is the same either way */
		jobenv_fill(s->o->env, j, NULL, NULL, &res->env, &res->argv);
		memcpy(res->sha256, e.sha256, 65);
		res->size = e.size;
		res->built_wall = e.wall;
		res->started = res->done = res->cached = 1;
		s->started++;
		s->finished++;
		char label[96];
		snprintf(label, sizeof(label), "%s %s (cached)", j->build->name, j->id);
		progress_start(s->progress, i, label);
		progress_done(s->progress, i, 1, 0);
		emit_finished(res, NULL);
		if (s->o->on_success)
			s->o->on_success(res, s->o->user);
	}
}

/* Record a job that built well under its input digest. */
static void store_built(const struct sched *s, size_t i)
{
	struct result *res = &s->res[i];
	const struct job *j = &s->plan->jobs[i];
	if (!s->o->cache || !j->key[0])
		return;
	if (s->o->inputs && !inputs_job_unchanged(s->o->inputs, s->plan, i, j->key)) {
		warn("%s %s: its sources changed while it built: published, not stored in the action cache",
		     s->plan->jobs[i].build->name, s->plan->jobs[i].id);
		return;
	}
	res->key = j->key;
	struct ac_entry e = { .size = res->size, .wall = res->wall, .cpu = res->cpu };
	struct ac_for f = job_for(res->job);
	memcpy(e.sha256, res->sha256, 65);
	actcache_put(s->o->cache, res->key, &f, res->path, &e);
}

/* Before a built binary is stored or packed, the SDK that built it must
 * still be the verified one (sdk.h, the guard).  The first failure stops
 * the run; error() is called once, and later jobs fail without a word. */
static int sdk_confirmed(struct sched *s)
{
	if (!s->guard)
		return 1;
	if (s->sdk_changed)
		return 0;
	if (sdk_guard_wait(s->guard) == 0)
		return 1;
	s->sdk_changed = 1;
	if (!s->stop) {
		s->stop = 1;
		runner_cancel_pending(s->runner);
	}
	return 0;
}

/* A job the go command ended because its GOCACHEPROG failed (it exits
 * with "GOCACHEPROG ..." in its log) is started again, once, on the plain
 * GOCACHE, and so is every job after it: one warning for the run.
 * Returns 1 when job i goes again. */
static int retry_without_prog(struct sched *s, size_t i, const struct runner_result *rr)
{
	struct result *res = &s->res[i];
	if (rr->status == 0 || rr->timed_out || !s->o->env->gocacheprog || res->prog_retried || s->stop)
		return 0;
	char *tail = runner_log_tail(res->log_path, TAIL_LINES);
	int prog = tail && strstr(tail, "GOCACHEPROG");
	free(tail);
	if (!prog)
		return 0;
	if (!s->prog_off)
		warn("%s %s: the go build cache program failed (%s): building it again, and the rest of the run, on "
		     "the plain GOCACHE", res->job->build->name, res->job->id, res->log_path);
	s->prog_off = 1;
	res->prog_retried = 1;
	res->started = 0;
	FREE_AND_NULL(res->path);
	FREE_AND_NULL(res->log_path);
	strv_release(&res->env);
	strv_release(&res->argv);
	s->inflight--;
	s->started--;
	return 1;
}

static void finish_job(struct sched *s, struct runner_result *rr)
{
	size_t i = (size_t)(uintptr_t)rr->user;
	const struct job *j = &s->plan->jobs[i];
	struct result *res = &s->res[i];
	if (retry_without_prog(s, i, rr))
		return; /* fill_slots starts it again */
	res->done = 1;
	s->inflight--;
	res->status = rr->status;
	res->timed_out = rr->timed_out;
	res->wall = rr->wall;
	res->cpu = rr->cpu_user + rr->cpu_sys;
	s->finished++;
	remove_tree(j->scratch);
	if (res->status == 0 && hash_file_hex(HASH_SHA256, res->path, res->sha256, &res->size) < 0)
		res->status = 1;
	if (res->status == 0 && s->o->check && s->o->check(res, s->o->user) != 0)
		res->status = 1, res->check_failed = 1;
	if (res->status == 0 && !sdk_confirmed(s))
		res->status = 1, res->check_failed = 1;
	progress_done(s->progress, i, res->status == 0, res->wall);
	if (res->status == 0) {
		store_built(s, i);
		emit_finished(res, NULL);
		if (s->o->on_success)
			s->o->on_success(res, s->o->user);
	} else {
		char msg[256];
		s->failed++;
		progress_hold(s->progress);
		if (rr->error)
			error("%s %s: %s", j->build->name, j->id, rr->error);
		if (res->timed_out)
			snprintf(msg, sizeof(msg), "%s %s timed out after %.0fs", j->build->name, j->id, res->wall);
		else if (res->check_failed) /* the check printed why */
			snprintf(msg, sizeof(msg), "%s", error_last());
		else
			snprintf(msg, sizeof(msg), "%s %s failed (%s %d)", j->build->name, j->id,
				 res->status > 128 ? "signal" : "exit",
				 res->status > 128 ? res->status - 128 : res->status);
		char what[128];
		snprintf(what, sizeof(what), "%s %s", j->build->name, j->id);
		if (res->check_failed) {
			if (events_ci() == CI_GITHUB || events_ci() == CI_GITLAB)
				ci_failure(what, msg, "");
			emit_finished(res, msg);
		} else {
			error("%s", msg);
			char *tail = print_tail(what, msg, res->log_path);
			emit_finished(res, tail);
			free(tail);
		}
		progress_release(s->progress);
		if (!s->o->keep_going && !s->stop) {
			s->stop = 1;
			runner_cancel_pending(s->runner);
		}
	}
}

int build_run(const struct plan *p, const struct build_opts *o, struct result **out)
{
	struct sched s = { .plan = p, .o = o, .cpus = cpu_available() };
	int rc = EXIT_JOB;
	s.res = xcalloc(p->n, sizeof(*s.res));
	s.leader = xcalloc(p->n, sizeof(*s.leader));
	*out = s.res;
	for (size_t i = 0; i < p->n; i++) {
		s.res[i].job = &p->jobs[i];
		s.leader[i] = i;
		for (size_t k = 0; k < i; k++)
			if (same_target_key(&p->jobs[k].target, &p->jobs[i].target)) {
				s.leader[i] = k;
				break;
			}
	}
	s.runner = runner_new(o->parallel);
	s.progress = progress_new(p->n, progress_want_live());
	runner_catch_signals(s.runner);
	take_cached(&s);
	if (o->sdk && s.finished < p->n)
		s.guard = sdk_guard_start(o->sdk);
	fill_slots(&s);
	struct runner_result rr;
	int w;
	while ((w = runner_wait_any(s.runner, &rr)) == 1) {
		finish_job(&s, &rr);
		runner_result_release(&rr);
		fill_slots(&s);
	}
	if (w == RUNNER_INTERRUPTED)
		rc = EXIT_INTERRUPTED;
	else if (s.sdk_changed)
		rc = EXIT_TOOLCHAIN;
	else if (w == 0 && s.failed == 0 && s.finished == p->n)
		rc = EXIT_OK;
	if (rc == EXIT_JOB && s.failed < p->n && s.stop && verbosity >= 0 && !o->keep_going)
		note("stopped after the first failure (--keep-going builds the rest)");
	sdk_guard_free(s.guard);
	progress_free(s.progress);
	runner_restore_signals();
	runner_free(s.runner);
	free(s.leader);
	return rc;
}

void results_free(struct result *res, size_t n)
{
	if (!res)
		return;
	for (size_t i = 0; i < n; i++) {
		free(res[i].log_path);
		free(res[i].path);
		strv_release(&res[i].env);
		strv_release(&res[i].argv);
	}
	free(res);
}
