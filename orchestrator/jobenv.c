#define _POSIX_C_SOURCE 200809L
#include "jobenv.h"
#include "gitinfo.h"
#include "base/proc.h"
#include "toolchains/cc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Variables a build file may not set or pass through: xgo-build sets them,
 * and the variant variables (GOARM, GOAMD64, ...: variant_by_env). */
static const char *const controlled[] = {
	"CGO_ENABLED", "GOARCH", "GOCACHE", "GOCACHEPROG", "GOENV", "GOFLAGS", "GOGC", "GOMAXPROCS", "GOMEMLIMIT",
	"GOMODCACHE", "GOOS", "GOPROXY", "GOROOT", "GOTMPDIR", "GOTOOLCHAIN", "GOWORK", "HOME", "LC_ALL", "PATH",
	"SOURCE_DATE_EPOCH", "TMPDIR", "TZ",
};

static const char *const network_vars[] = {
	"GOPROXY", "GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GOSUMDB", "GOINSECURE", "GOAUTH",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy",
	"all_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR",
};

/* How fast a job runs, never what it writes. */
static const char *const tuning[] = { "GOMAXPROCS", "GOGC", "GOMEMLIMIT" };

static int in_list(const char *const *list, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && !strncmp(name, list[i], len))
			return 1;
	return 0;
}

static int is_controlled(const char *name, size_t len)
{
	return cc_controls(name, len) || variant_by_env(name, len) || in_list(controlled, ARRAY_LEN(controlled), name, len);
}

/* go build flags a build may not give: they would move the output or
 * other writes out of dist/ and the work dir (-o, -pkgdir, -work, -C),
 * run a program of the build file's choosing around every tool
 * (-toolexec), or replace what xgo-build passes (-ldflags, -tags).
 * -overlay, -modfile and -pgo=FILE stay: the action key hashes the files
 * they name (docs/ci.md). */
static const char *const refused_flags[][2] = {
	{ "o", "xgo-build sets the output: use output = ..." },
	{ "C", "go runs in the project directory" },
	{ "pkgdir", "packages are kept in the build cache" },
	{ "work", "the work directory is xgo-build's" },
	{ "toolexec", "no program may wrap the compiler and linker" },
	{ "ldflags", "use the build's ldflags key" },
	{ "tags", "use the build's tags key" },
};

static int check_flags(const struct release *r, const struct build_decl *b)
{
	if (b->main[0] == '-')
		return error("%s:%d: build '%s': main '%s' is not a package (a flag belongs in flags)", r->path,
			     b->line, b->name, b->main);
	for (size_t i = 0; i < b->flags.n; i++) {
		const char *f = b->flags.v[i];
		if (f[0] != '-')
			continue; /* the value of the flag before it */
		f += 1 + (f[1] == '-');
		size_t len = strcspn(f, "=");
		for (size_t k = 0; k < ARRAY_LEN(refused_flags); k++)
			if (strlen(refused_flags[k][0]) == len && !strncmp(f, refused_flags[k][0], len))
				return error("%s:%d: build '%s': flags: '%s' is refused: %s", r->path, b->line, b->name,
					     b->flags.v[i], refused_flags[k][1]);
	}
	return 0;
}

int jobenv_check_build(const struct release *r, const struct build_decl *b)
{
	if (check_flags(r, b) < 0)
		return -1;
	for (size_t i = 0; i < b->env_set.n; i++) {
		const char *kv = b->env_set.v[i];
		size_t len = strcspn(kv, "=");
		if (is_controlled(kv, len))
			return error("%s:%d: build '%s': env sets %.*s, which xgo-build controls (use the matrix, "
				     "ldflags, flags or tags instead)", r->path, b->line, b->name, (int)len, kv);
	}
	for (size_t i = 0; i < b->env_pass.n; i++) {
		const char *v = getenv(b->env_pass.v[i]);
		if (is_controlled(b->env_pass.v[i], strlen(b->env_pass.v[i])))
			return error("%s:%d: build '%s': env passes %s through, which xgo-build controls",
				     r->path, b->line, b->name, b->env_pass.v[i]);
		/* the job's environment is recorded in manifest.json, as text */
		if (v && !utf8_valid(v))
			return error("%s:%d: build '%s': env passes %s through, but its value is not valid UTF-8 "
				     "(set it to text)", r->path, b->line, b->name, b->env_pass.v[i]);
	}
	for (size_t i = 0; i < b->env_unset.n; i++)
		if (strcmp(b->env_unset.v[i], "SOURCE_DATE_EPOCH"))
			return error("%s:%d: build '%s': env drops %s, but only SOURCE_DATE_EPOCH may be dropped "
				     "(= false)", r->path, b->line, b->name, b->env_unset.v[i]);
	return 0;
}

int jobenv_controlled(const char *name)
{
	return is_controlled(name, strlen(name));
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

/* What every job shares, target or not, but the tuning. */
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
}

/* How fast it runs (jobenv_tuning): never part of a job value. */
static void tuning_env(const struct jobenv_ctx *c, struct strv *env)
{
	strv_pushf(env, "GOMAXPROCS=%d", c->procs);
	if (c->gc_limit_mib > 0) {
		strv_push(env, "GOGC=off");
		strv_pushf(env, "GOMEMLIMIT=%lldMiB", c->gc_limit_mib);
	}
}

void jobenv_spawn(const struct jobenv_ctx *c, const struct strv *env, struct strv *out)
{
	for (size_t i = 0; i < env->n; i++)
		strv_push(out, env->v[i]);
	if (c->gocacheprog)
		strv_pushf(out, "GOCACHEPROG=%s", c->gocacheprog);
	jobenv_sort(out);
}

int jobenv_local(const char *name)
{
	static const char *const local[] = { "GOCACHE", "GOCACHEPROG", "GOMODCACHE", "GOROOT", "GOTMPDIR", "HOME", "TMPDIR",
					     "ZIG_GLOBAL_CACHE_DIR", "ZIG_LOCAL_CACHE_DIR" };
	size_t len = strlen(name);
	return in_list(local, ARRAY_LEN(local), name, len) || in_list(tuning, ARRAY_LEN(tuning), name, len);
}

int jobenv_tuning(const char *kv)
{
	const char *eq = strchr(kv, '=');
	return eq && in_list(tuning, ARRAY_LEN(tuning), kv, (size_t)(eq - kv));
}

void jobenv_network(const struct jobenv_ctx *c, const char *scratch, struct strv *env)
{
	base_env(c, scratch, env);
	tuning_env(c, env);
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

/* Set NAME's value in env to value (owned). */
static void replace_var(struct strv *env, const char *name, char *value)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < env->n; i++)
		if (!strncmp(env->v[i], name, len) && env->v[i][len] == '=') {
			free(env->v[i]);
			env->v[i] = xasprintf("%s=%s", name, value);
		}
	free(value);
}

/* The C toolchain of a cgo job: its variables, and its directory on PATH
 * after the SDK's when it is not /usr/bin. */
static void cc_env(const struct jobenv_ctx *c, const struct job *j, struct strv *env)
{
	struct cc_env_in in = { .zig_cache = c->zig_cache, .user = &j->build->env_set, .c_inputs = c->c_inputs,
				.flags = &j->build->flags };
	const char *slash = strrchr(j->cc->path, '/');
	size_t dirlen = slash ? (size_t)(slash - j->cc->path) : 0;
	cc_job_env(j->cc, &j->target, &in, env);
	if (dirlen && strncmp(j->cc->path, "/usr/bin", dirlen) && strncmp(j->cc->path, "/bin", dirlen))
		replace_var(env, "PATH", xasprintf("%s/bin:%.*s:/usr/bin:/bin", c->sdk_root, (int)dirlen, j->cc->path));
	/* The go command's work directory must not lie under the project:
	 * there the module's prefix map (-trimpath) would win over go's own
	 * map of the work directory, and its random name would reach the C
	 * debug info.  go makes a unique directory inside GOTMPDIR and
	 * removes it. */
	if (c->cgo_tmpdir)
		replace_var(env, "GOTMPDIR", xstrdup(c->cgo_tmpdir));
}

/* Set by cc_env, with the build's own value appended there. */
static int merged_by_cc(const struct job *j, const char *kv)
{
	return j->cc && (!strncmp(kv, "CGO_CFLAGS=", 11) || !strncmp(kv, "CGO_CXXFLAGS=", 13) ||
			 !strncmp(kv, "CGO_LDFLAGS=", 12));
}

static int job_env(const struct jobenv_ctx *c, const struct job *j, const char *scratch, struct strv *env)
{
	const struct target *t = &j->target;
	base_env(c, scratch, env);
	if (t->cgo && j->cc)
		cc_env(c, j, env);
	/* vcs = true: the go command stamps the checkout, running git itself */
	strv_pushf(env, "GOFLAGS=-trimpath -buildvcs=%s -mod=%s", j->build->vcs ? "true" : "false",
		   c->vendor ? "vendor" : "readonly");
	if (j->build->vcs)
		gitinfo_job_env(env);
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
		if (!merged_by_cc(j, j->build->env_set.v[i]))
			strv_push(env, j->build->env_set.v[i]);
	for (size_t i = 0; i < j->build->env_unset.n; i++)
		drop_var(env, j->build->env_unset.v[i]);
	jobenv_sort(env);
	return 0;
}

/* The link flags of a static cgo job: the C parts linked in too. */
static const char *static_ldflags(const struct job *j)
{
	if (!j->static_link || !j->target.cgo)
		return NULL;
	if (!strcmp(j->target.goos, "linux"))
		return "-linkmode=external -extldflags=-static";
	if (!strcmp(j->target.goos, "windows"))
		return "-extldflags=-static";
	return NULL; /* macOS has no static libSystem: the check allows only system libraries */
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
	const char *static_ld = static_ldflags(j);
	if (rc == 0 && static_ld && ((ld.len && buf_puts(&ld, " ") < 0) || buf_puts(&ld, static_ld) < 0))
		rc = error("%s: longer than %zu bytes", where, ld.max);
	if (rc == 0) {
		strv_pushf(argv, "%s/bin/go", c->sdk_root);
		strv_push(argv, "build");
		strv_push(argv, "-o");
		strv_push(argv, out_path); /* -p, tuning, comes after it: jobenv_fill */
		if (ld.len)
			strv_pushf(argv, "-ldflags=%s", ld.data);
		int netgo = static_ld && !strcmp(j->target.goos, "linux");
		if (b->tags.n || netgo) {
			struct buf tags;
			buf_init(&tags, 16384);
			for (size_t i = 0; i < b->tags.n; i++)
				buf_printf(&tags, "%s%s", i ? "," : "", b->tags.v[i]);
			if (netgo) /* the static C library has no working NSS: Go's resolver and user lookup */
				buf_printf(&tags, "%snetgo,osusergo", b->tags.n ? "," : "");
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

/* The environment and argv of job j, writing its binary to out_path, with
 * its private directories under scratch, without the tuning. */
static int jobenv_job(const struct jobenv_ctx *c, const struct job *j, const char *scratch, const char *out_path,
		      struct strv *env, struct strv *argv)
{
	if (job_env(c, j, scratch, env) < 0 || job_argv(c, j, out_path, argv) < 0) {
		strv_release(env);
		strv_release(argv);
		return -1;
	}
	return 0;
}

/* The placeholders of a job value.  Each stands for a machine path, and
 * only ever at the start of argv[0] (go), argv[3] (the output) or of the
 * value of a variable xgo-build controls, which a build cannot set: the
 * substitution never touches a value that came from release.lua. */
enum { PL_SDK, PL_GOCACHE, PL_GOMODCACHE, PL_ZIG, PL_CGOTMP, PL_SCRATCH, PL_OUT, PL_N };
static const char *const placeholder[PL_N] = { "/<sdk>", "/<gocache>", "/<gomodcache>", "/<zigcache>",
					      "/<cgotmp>", "/<scratch>", "/<out>" };
#define ARGV_OUT 3 /* go build -o OUT */

int jobenv_plan(const struct jobenv_ctx *c, const struct cc_set *cc, const char *work_dir, const char *stage_dir,
		struct plan *p)
{
	struct jobenv_ctx n = *c;
	n.sdk_root = placeholder[PL_SDK];
	n.gocache = placeholder[PL_GOCACHE];
	n.gomodcache = placeholder[PL_GOMODCACHE];
	n.zig_cache = c->zig_cache ? placeholder[PL_ZIG] : NULL;
	n.cgo_tmpdir = c->cgo_tmpdir ? placeholder[PL_CGOTMP] : NULL;
	for (size_t i = 0; i < p->n; i++) {
		struct job *j = &p->jobs[i];
		char name[128]; /* the name build, --print-env and smoke use */
		if (cc && i < cc->n && cc->v[i].kind[0]) {
			j->cc = &cc->v[i];
			memcpy(j->cc_digest, cc->v[i].digest, sizeof(j->cc_digest));
		}
		plan_job_name(j, "", name, sizeof(name));
		j->scratch = jobenv_scratch_path(work_dir, name);
		j->out_path = xasprintf("%s/%s", stage_dir, j->output);
		if (jobenv_job(&n, j, placeholder[PL_SCRATCH], placeholder[PL_OUT], &j->env, &j->argv) < 0)
			return -1;
	}
	return 0;
}

/* s with its leading placeholder (if any) replaced by its path (owned). */
static char *unplace(const char *s, const char *const real[PL_N])
{
	for (size_t i = 0; i < PL_N; i++) {
		size_t len = strlen(placeholder[i]);
		if (real[i] && !strncmp(s, placeholder[i], len) && (!s[len] || s[len] == '/' || s[len] == ':'))
			return xasprintf("%s%s", real[i], s + len);
	}
	return xstrdup(s);
}

void jobenv_fill(const struct jobenv_ctx *c, const struct job *j, const char *scratch, const char *out_path,
		 struct strv *env, struct strv *argv)
{
	const char *real[PL_N] = { c->sdk_root, c->gocache, c->gomodcache, c->zig_cache, c->cgo_tmpdir,
				   scratch ? scratch : j->scratch, out_path ? out_path : j->out_path };
	for (size_t i = 0; i < j->env.n; i++) {
		const char *kv = j->env.v[i];
		size_t len = strcspn(kv, "=");
		if (!kv[len] || !is_controlled(kv, len)) {
			strv_push(env, kv);
			continue;
		}
		char *value = unplace(kv + len + 1, real);
		strv_pushf(env, "%.*s=%s", (int)len, kv, value);
		free(value);
	}
	tuning_env(c, env);
	jobenv_sort(env);
	for (size_t i = 0; i < j->argv.n; i++) {
		if (i == 0 || i == ARGV_OUT)
			strv_push_owned(argv, unplace(j->argv.v[i], real));
		else
			strv_push(argv, j->argv.v[i]);
		if (i == ARGV_OUT)
			strv_pushf(argv, "-p=%d", c->procs);
	}
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
	if (r->git && r->git->ok && all_digits(r->git->commit_timestamp)) {
		snprintf(out, 24, "%s", r->git->commit_timestamp);
		*source = "git HEAD";
		return 0;
	}
	snprintf(out, 24, "%s", JOBENV_SDE_DEFAULT);
	*source = "default";
	return 0;
}

/* What a vcs = true job's git leaves out of vcs.modified: xgo-build's own
 * outputs in the project (dist/, its staging dir dist.tmp-PID/ and the
 * work dir), which exist while the go command asks `git status`.  git
 * reads $HOME/.config/git/ignore, and HOME is the job's own. */
static const char git_ignore[] = "dist/\ndist.tmp-*/\n.xgo-build/\n";

char *jobenv_scratch_path(const char *work_dir, const char *name)
{
	return xasprintf("%s/jobs/%s", work_dir, name);
}

char *jobenv_scratch(const char *work_dir, const char *name)
{
	char *scratch = jobenv_scratch_path(work_dir, name);
	if (jobenv_make_scratch(scratch) < 0)
		FREE_AND_NULL(scratch);
	return scratch;
}

int jobenv_make_scratch(const char *scratch)
{
	char *home = xasprintf("%s/home", scratch), *tmp = xasprintf("%s/tmp", scratch);
	/* The go command's telemetry would start a child that writes into HOME
	 * after the job ends; its mode file in the private HOME turns it off. */
	char *tele = xasprintf("%s/.config/go/telemetry", home);
	char *mode = xasprintf("%s/mode", tele);
	char *gitdir = xasprintf("%s/.config/git", home), *ignore = xasprintf("%s/ignore", gitdir);
	int rc = remove_tree(scratch);
	if (rc == 0)
		rc = mkdir_p(tele, 0755);
	if (rc == 0)
		rc = write_file_atomic(mode, "off\n", 4, 0644);
	if (rc == 0)
		rc = mkdir_p(gitdir, 0755);
	if (rc == 0)
		rc = write_file_atomic(ignore, git_ignore, sizeof(git_ignore) - 1, 0644);
	if (rc == 0)
		rc = mkdir_p(tmp, 0755);
	free(home);
	free(tmp);
	free(tele);
	free(mode);
	free(gitdir);
	free(ignore);
	return rc;
}
