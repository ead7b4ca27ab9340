#define _POSIX_C_SOURCE 200809L
#include "jobenv.h"
#include "proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Variables a build file may not set or pass through: xgo-build sets them. */
static const char *const controlled[] = {
	"CGO_ENABLED", "GO386", "GOAMD64", "GOARCH", "GOARM", "GOARM64", "GOCACHE", "GOENV", "GOFLAGS",
	"GOMAXPROCS", "GOMIPS", "GOMIPS64", "GOMODCACHE", "GOOS", "GOPPC64", "GOPROXY", "GOROOT",
	"GORISCV64", "GOTMPDIR", "GOTOOLCHAIN", "GOWORK", "HOME", "LC_ALL", "PATH", "SOURCE_DATE_EPOCH",
	"TMPDIR", "TZ",
};

static const char *const network_vars[] = {
	"GOPROXY", "GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GOSUMDB", "GOINSECURE", "GOAUTH",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy",
	"all_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR",
};

static int is_controlled(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_LEN(controlled); i++)
		if (strlen(controlled[i]) == len && !strncmp(controlled[i], name, len))
			return 1;
	return 0;
}

int jobenv_check_build(const struct release *r, const struct build_decl *b)
{
	for (size_t i = 0; i < b->env_set.n; i++) {
		const char *kv = b->env_set.v[i];
		size_t len = strcspn(kv, "=");
		if (is_controlled(kv, len))
			return error("%s:%d: build '%s': env sets %.*s, which xgo-build controls (use the matrix, "
				     "ldflags, flags or tags instead)", r->path, b->line, b->name, (int)len, kv);
	}
	for (size_t i = 0; i < b->env_pass.n; i++)
		if (is_controlled(b->env_pass.v[i], strlen(b->env_pass.v[i])))
			return error("%s:%d: build '%s': env passes %s through, which xgo-build controls",
				     r->path, b->line, b->name, b->env_pass.v[i]);
	for (size_t i = 0; i < b->env_unset.n; i++)
		if (strcmp(b->env_unset.v[i], "SOURCE_DATE_EPOCH"))
			return error("%s:%d: build '%s': env drops %s, but only SOURCE_DATE_EPOCH may be dropped "
				     "(= false)", r->path, b->line, b->name, b->env_unset.v[i]);
	return 0;
}

static int cmp_env(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t lx = strcspn(x, "="), ly = strcspn(y, "=");
	int c = strncmp(x, y, lx < ly ? lx : ly);
	return c ? c : (lx > ly) - (lx < ly);
}

void jobenv_sort(struct strv *env)
{
	if (env->n > 1)
		qsort(env->v, env->n, sizeof(*env->v), cmp_env);
}

/* What every job shares, target or not. */
static void base_env(const struct jobenv_ctx *c, const char *scratch, struct strv *env)
{
	strv_pushf(env, "PATH=%s/bin:/usr/bin:/bin", c->sdk_root);
	strv_pushf(env, "GOROOT=%s", c->sdk_root);
	strv_pushf(env, "HOME=%s/home", scratch);
	strv_pushf(env, "TMPDIR=%s/tmp", scratch);
	strv_pushf(env, "GOTMPDIR=%s/tmp", scratch);
	strv_pushf(env, "GOCACHE=%s", c->gocache);
	strv_pushf(env, "GOMODCACHE=%s", c->gomodcache);
	strv_push(env, "GOENV=off");
	strv_push(env, "GOTOOLCHAIN=local");
	strv_push(env, "GOWORK=off");
	strv_push(env, "LC_ALL=C");
	strv_push(env, "TZ=UTC");
	strv_pushf(env, "SOURCE_DATE_EPOCH=%s", c->sde);
	strv_pushf(env, "GOMAXPROCS=%d", c->procs);
}

int jobenv_local(const char *name)
{
	static const char *const local[] = { "GOCACHE", "GOMAXPROCS", "GOMODCACHE", "GOROOT", "GOTMPDIR", "HOME",
					     "TMPDIR" };
	for (size_t i = 0; i < ARRAY_LEN(local); i++)
		if (!strcmp(name, local[i]))
			return 1;
	return 0;
}

void jobenv_network(const struct jobenv_ctx *c, const char *scratch, struct strv *env)
{
	base_env(c, scratch, env);
	strv_pushf(env, "GOFLAGS=-modcacherw -mod=%s", c->vendor ? "vendor" : "readonly");
	for (size_t i = 0; i < ARRAY_LEN(network_vars); i++) {
		const char *v = getenv(network_vars[i]);
		if (v)
			strv_pushf(env, "%s=%s", network_vars[i], v);
	}
	jobenv_sort(env);
}

/* Remove NAME=... from env (a build's "NAME = false"). */
static void drop_var(struct strv *env, const char *name)
{
	size_t len = strlen(name), k = 0;
	for (size_t i = 0; i < env->n; i++) {
		if (!strncmp(env->v[i], name, len) && env->v[i][len] == '=')
			free(env->v[i]);
		else
			env->v[k++] = env->v[i];
	}
	env->n = k;
	if (env->v)
		env->v[k] = NULL;
}

static int job_env(const struct jobenv_ctx *c, const struct job *j, const char *scratch, struct strv *env)
{
	const struct target *t = &j->target;
	base_env(c, scratch, env);
	strv_pushf(env, "GOFLAGS=-trimpath -buildvcs=false -mod=%s", c->vendor ? "vendor" : "readonly");
	strv_push(env, "GOPROXY=off");
	strv_pushf(env, "GOOS=%s", t->goos);
	strv_pushf(env, "GOARCH=%s", t->goarch);
	strv_pushf(env, "CGO_ENABLED=%d", t->cgo);
	if (t->vkey[0])
		strv_pushf(env, "%s=%s", t->vkey, t->vval);
	for (size_t i = 0; i < j->build->env_pass.n; i++) {
		const char *v = getenv(j->build->env_pass.v[i]);
		if (v)
			strv_pushf(env, "%s=%s", j->build->env_pass.v[i], v);
	}
	for (size_t i = 0; i < j->build->env_set.n; i++)
		strv_push(env, j->build->env_set.v[i]);
	for (size_t i = 0; i < j->build->env_unset.n; i++)
		drop_var(env, j->build->env_unset.v[i]);
	jobenv_sort(env);
	return 0;
}

static int job_argv(const struct jobenv_ctx *c, const struct job *j, const char *out_path, struct strv *argv)
{
	const struct build_decl *b = j->build;
	struct tmpl_var vars[PLAN_VARS];
	char scratch[PLAN_SCRATCH], where[256];
	struct buf ld;
	int rc = 0;
	plan_vars(c->release, j, vars, scratch);
	snprintf(where, sizeof(where), "%s:%d: build '%s': ldflags", c->release->path, b->line, b->name);
	buf_init(&ld, 16384);
	for (size_t i = 0; i < b->ldflags.n && rc == 0; i++) {
		char *flag;
		if ((rc = tmpl_expand(b->ldflags.v[i], vars, PLAN_VARS, where, &flag)) < 0)
			break;
		if ((i && buf_puts(&ld, " ") < 0) || buf_puts(&ld, flag) < 0)
			rc = error("%s: longer than %zu bytes", where, ld.max);
		free(flag);
	}
	if (rc == 0) {
		strv_pushf(argv, "%s/bin/go", c->sdk_root);
		strv_push(argv, "build");
		strv_push(argv, "-o");
		strv_push(argv, out_path);
		strv_pushf(argv, "-p=%d", c->procs);
		if (b->ldflags.n)
			strv_pushf(argv, "-ldflags=%s", ld.data);
		if (b->tags.n) {
			struct buf tags;
			buf_init(&tags, 16384);
			for (size_t i = 0; i < b->tags.n; i++)
				buf_printf(&tags, "%s%s", i ? "," : "", b->tags.v[i]);
			strv_pushf(argv, "-tags=%s", tags.data);
			buf_release(&tags);
		}
		for (size_t i = 0; i < b->flags.n; i++)
			strv_push(argv, b->flags.v[i]);
		strv_push(argv, b->main);
	}
	buf_release(&ld);
	return rc;
}

int jobenv_job(const struct jobenv_ctx *c, const struct job *j, const char *scratch, const char *out_path,
	       struct strv *env, struct strv *argv)
{
	if (job_env(c, j, scratch, env) < 0 || job_argv(c, j, out_path, argv) < 0) {
		strv_release(env);
		strv_release(argv);
		return -1;
	}
	return 0;
}

static int all_digits(const char *s)
{
	if (!*s || strlen(s) > 18)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int jobenv_sde(const struct release *r, char out[24], const char **source)
{
	const char *env = getenv("SOURCE_DATE_EPOCH");
	if (r->source_date_epoch) {
		snprintf(out, 24, "%s", r->source_date_epoch);
		*source = "release.lua";
		return 0;
	}
	if (env) {
		if (!all_digits(env))
			return error("SOURCE_DATE_EPOCH='%s' is not a number of seconds since 1970", env);
		snprintf(out, 24, "%s", env);
		*source = "environment";
		return 0;
	}
	char *argv[] = { "git", "-C", r->dir, "log", "-1", "--format=%ct", NULL };
	char *envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", "GIT_CONFIG_NOSYSTEM=1", "HOME=/nonexistent", NULL };
	struct buf o;
	int status;
	buf_init(&o, 256);
	int saved = quiet_errors;
	quiet_errors = 1; /* no git on the machine is fine */
	int rc = proc_capture(argv, envp, NULL, &o, NULL, &status);
	quiet_errors = saved;
	if (rc == 0 && status == 0 && o.data) {
		o.data[strcspn(o.data, "\n")] = '\0';
		if (all_digits(o.data)) {
			snprintf(out, 24, "%s", o.data);
			*source = "git HEAD";
			buf_release(&o);
			return 0;
		}
	}
	buf_release(&o);
	snprintf(out, 24, "%s", JOBENV_SDE_DEFAULT);
	*source = "default";
	return 0;
}

char *jobenv_scratch(const char *work_dir, const char *name)
{
	char *scratch = xasprintf("%s/jobs/%s", work_dir, name);
	char *home = xasprintf("%s/home", scratch), *tmp = xasprintf("%s/tmp", scratch);
	/* The go command's telemetry would start a child that writes into HOME
	 * after the job ends; its mode file in the private HOME turns it off. */
	char *tele = xasprintf("%s/.config/go/telemetry", home);
	char *mode = xasprintf("%s/mode", tele);
	int rc = remove_tree(scratch);
	if (rc == 0)
		rc = mkdir_p(tele, 0755);
	if (rc == 0)
		rc = write_file_atomic(mode, "off\n", 4, 0644);
	if (rc == 0)
		rc = mkdir_p(tmp, 0755);
	free(home);
	free(tmp);
	free(tele);
	free(mode);
	if (rc < 0)
		FREE_AND_NULL(scratch);
	return scratch;
}
