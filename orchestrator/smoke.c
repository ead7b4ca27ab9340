/* smoke.c - smoke tests of built binaries (see smoke.h). */
#define _POSIX_C_SOURCE 200809L
#include "smoke.h"
#include "events.h"
#include "jobenv.h"
#include "base/jsonx.h"
#include "runner.h"
#include "template.h"
#include "toolchains/cc.h"
#include "toolchains/sdk.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* GOARCH -> qemu's name for it. */
static const char *const qemu_arch[][2] = {
	{ "386", "i386" }, { "amd64", "x86_64" }, { "arm", "arm" }, { "arm64", "aarch64" },
	{ "loong64", "loongarch64" }, { "mips", "mips" }, { "mipsle", "mipsel" }, { "mips64", "mips64" },
	{ "mips64le", "mips64el" }, { "ppc64", "ppc64" }, { "ppc64le", "ppc64le" }, { "riscv64", "riscv64" },
	{ "s390x", "s390x" },
};

static int wanted(const struct smoke_opts *o, const struct job *j)
{
	return o->all || j->build->smoke;
}

/* How to run j here: "native", a qemu path in qemu (caller frees), or
 * skipped with why. */
static int choose_runner(const struct job *j, struct smoke_result *sr, char **qemu)
{
	char host[40];
	*qemu = NULL;
	if (strcmp(j->target.goos, "linux")) {
		snprintf(sr->why, sizeof(sr->why), "a %s binary does not run here", j->target.goos);
		return 0;
	}
	snprintf(host, sizeof(host), "linux-%s", j->target.goarch);
	if (!strcmp(host, sdk_host_platform())) {
		snprintf(sr->runner, sizeof(sr->runner), "native");
		return 1;
	}
	for (size_t i = 0; i < ARRAY_LEN(qemu_arch); i++) {
		if (strcmp(qemu_arch[i][0], j->target.goarch))
			continue;
		char *path = xasprintf("/usr/bin/qemu-%s-static", qemu_arch[i][1]);
		if (access(path, X_OK) == 0) {
			snprintf(sr->runner, sizeof(sr->runner), "qemu-%s-static", qemu_arch[i][1]);
			*qemu = path;
			return 1;
		}
		snprintf(sr->why, sizeof(sr->why), "%s is not installed (apt-get install qemu-user-static)", path);
		free(path);
		return 0;
	}
	snprintf(sr->why, sizeof(sr->why), "no qemu for %s", j->target.goarch);
	return 0;
}

/* Queue the smoke run of job i. */
static int add_run(struct runner *r, const struct smoke_opts *o, const struct job *j, const struct result *res,
		   const char *qemu, size_t i)
{
	char name[160];
	plan_job_name(j, "smoke_", name, sizeof(name));
	char *scratch = jobenv_scratch_path(o->work_dir, name);
	char *log = xasprintf("%s/logs/%s.log", o->work_dir, name);
	struct strv argv = { 0 }, env = { 0 };
	int rc = -1;
	if (remove_tree(scratch) < 0 || mkdir_p(scratch, 0755) < 0)
		goto out;
	if (qemu)
		strv_push(&argv, qemu);
	strv_push(&argv, res->path);
	for (size_t k = 0; k < j->build->smoke_args.n; k++)
		strv_push(&argv, j->build->smoke_args.v[k]);
	strv_push(&env, "PATH=/usr/bin:/bin");
	strv_pushf(&env, "HOME=%s", scratch);
	strv_pushf(&env, "TMPDIR=%s", scratch);
	strv_push(&env, "LC_ALL=C");
	strv_push(&env, "TZ=UTC");
	if (qemu && j->cc && j->cc->triple[0]) {
		/* a dynamic binary of a cross gcc finds its loader in the sysroot */
		char *sysroot = xasprintf("/usr/%s", j->cc->triple);
		if (access(sysroot, F_OK) == 0)
			strv_pushf(&env, "QEMU_LD_PREFIX=%s", sysroot);
		free(sysroot);
	}
	struct runner_spec spec = { .argv = argv.v, .envp = env.v, .dir = o->project_dir, .log_path = log,
				    .timeout_ms = SMOKE_TIMEOUT_MS, .umask = 022, .user = (void *)(uintptr_t)i };
	rc = runner_add(r, &spec) < 0 ? -1 : 0;
out:
	strv_release(&argv);
	strv_release(&env);
	free(scratch);
	free(log);
	return rc;
}

/* Judge a finished run: exit status, then the expected text. */
static void judge(const struct smoke_opts *o, const struct job *j, const struct runner_result *rr,
		  struct smoke_result *sr)
{
	char *out = runner_log_tail(rr->log_path, 200);
	char *expect = NULL;
	sr->status = SMOKE_FAILED;
	if (rr->timed_out) {
		snprintf(sr->why, sizeof(sr->why), "timed out after %ds", SMOKE_TIMEOUT_MS / 1000);
	} else if (rr->status != 0) {
		snprintf(sr->why, sizeof(sr->why), "exit %d%s", rr->status, rr->error ? " (could not start)" : "");
	} else if (j->build->smoke_expect) {
		struct tmpl_var vars[PLAN_VARS];
		char scratch[PLAN_SCRATCH], where[160];
		plan_vars(o->release, j, vars, scratch);
		snprintf(where, sizeof(where), "%s:%d: build '%s': smoke.expect", o->release->path, j->build->line,
			 j->build->name);
		if (tmpl_expand(j->build->smoke_expect, vars, PLAN_VARS, where, &expect) < 0)
			snprintf(sr->why, sizeof(sr->why), "bad smoke.expect template");
		else if (!out || !strstr(out, expect))
			snprintf(sr->why, sizeof(sr->why), "the output lacks '%.200s'", expect);
		else
			sr->status = SMOKE_PASSED;
	} else {
		sr->status = SMOKE_PASSED;
	}
	if (sr->status == SMOKE_PASSED) {
		note("smoke %s %s: passed (%s)", j->build->name, j->id, sr->runner);
	} else {
		error("smoke %s %s: failed under %s: %s", j->build->name, j->id, sr->runner, sr->why);
		fprintf(stderr, "xgo-build: --- output (%s) ---\n%s%s", rr->log_path, out ? out : "",
			out && *out && out[strlen(out) - 1] != '\n' ? "\n" : "");
	}
	free(out);
	free(expect);
}

int smoke_run(const struct plan *p, const struct result *res, const struct smoke_opts *o,
	      struct smoke_result **out)
{
	struct smoke_result *v = NULL;
	struct runner *r = NULL;
	size_t failed = 0;
	int rc = EXIT_OK;
	*out = NULL;
	for (size_t i = 0; i < p->n; i++) {
		const struct job *j = &p->jobs[i];
		if (!wanted(o, j) || !res[i].done || res[i].status != 0)
			continue;
		if (!v) {
			v = xcalloc(p->n, sizeof(*v));
			r = runner_new(2);
			runner_catch_signals(r);
		}
		char *qemu;
		if (!choose_runner(j, &v[i], &qemu)) {
			v[i].status = SMOKE_SKIPPED;
			note("smoke %s %s: skipped: %s", j->build->name, j->id, v[i].why);
			continue;
		}
		int added = add_run(r, o, j, &res[i], qemu, i);
		free(qemu);
		if (added < 0) {
			rc = EXIT_JOB;
			break;
		}
	}
	if (r) {
		struct runner_result rr;
		int w;
		while ((w = runner_wait_any(r, &rr)) == 1) {
			size_t i = (size_t)(uintptr_t)rr.user;
			judge(o, &p->jobs[i], &rr, &v[i]);
			failed += v[i].status == SMOKE_FAILED;
			runner_result_release(&rr);
		}
		if (w == RUNNER_INTERRUPTED)
			rc = EXIT_INTERRUPTED;
		runner_restore_signals();
		runner_free(r);
	}
	if (rc == EXIT_OK && failed)
		rc = EXIT_JOB;
	*out = v;
	return rc;
}

json_t *smoke_json(const struct smoke_result *s)
{
	static const char *const names[] = { "not run", "passed", "failed", "skipped" };
	json_t *o = json_pack("{s:s}", "status", names[s->status]);
	int bad = !o;
	if (s->runner[0])
		bad |= json_object_set_new(o, "runner", jx_text(s->runner));
	if (s->why[0]) /* may quote the binary's output: text, bytes past ASCII as '?' if not UTF-8 */
		bad |= json_object_set_new(o, "reason", jx_text(s->why));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
