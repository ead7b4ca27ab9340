/* torture - allocation-failure torture of the readers and the DSL loader.
 *
 * Linked with -Wl,--wrap=malloc,calloc,realloc,strdup,strndup so that every
 * allocation made by xgo-build's own code (and by Lua, through the
 * loader's allocator, and jansson, through json_alloc_init) goes
 * through the counters below.  For each scenario and every N = 1, 2, ...
 * a forked child runs the scenario with the Nth allocation failing, until
 * a run completes without reaching N; then again with every allocation
 * from the Nth on failing (Lua retries a failed allocation after a full
 * collection, so a single failure is often absorbed; a persistent one
 * reaches the paths that must give up).  Each child must end in one of:
 *   - the scenario returned an error, with a message (error_last());
 *   - the scenario succeeded anyway (the failure was absorbed);
 *   - an x* wrapper's "xgo-build: error: out of memory" and exit 1
 *     (EXIT_JOB, README "Exit codes").
 * A signal, any other exit status or message, or (in the ASan build) a
 * LeakSanitizer report at the child's exit fails the scenario.
 *
 *   torture [SCENARIO...]     default: all; prints one line per scenario
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lua/release.h"
#include "matrix/matrix.h"
#include "matrix/ports.h"
#include "orchestrator/manifest.h"
#include "orchestrator/template.h"
#include "base/util.h"
#include "orchestrator/verify.h"
#include "toolchains/lockfile.h"
#include "toolchains/mirror.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static long fail_at; /* 0: none */
static int persistent; /* fail every allocation from fail_at on, not just it */
static long count;   /* allocations since arming */
static int armed;

static int fail_now(void)
{
	if (!armed)
		return 0;
	if (++count != fail_at && !(persistent && count > fail_at))
		return 0;
	errno = ENOMEM;
	return 1;
}

void *__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	/* realloc(p, 0) frees; failing it would be no allocation failure. */
	return n && fail_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return fail_now() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return fail_now() ? NULL : __real_strndup(s, n);
}

/* ---- scenarios: 0 ok, -1 a returned error; they free what they own ---- */

/* What a scenario produced, written with the injection paused: a run that
 * succeeds despite a failed allocation must produce exactly what a run
 * without failures does, or the failure was swallowed into wrong output. */
static char summary[1 << 15];
static size_t summary_len;

static void sum(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sum(const char *fmt, ...)
{
	int was = armed;
	armed = 0;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(summary + summary_len, sizeof(summary) - summary_len, fmt, ap);
	va_end(ap);
	if (k > 0)
		summary_len = summary_len + (size_t)k < sizeof(summary) ? summary_len + (size_t)k : sizeof(summary) - 1;
	armed = was;
}

static char dir[64], release_path[128], lock_path[128], lock_out[128];

static const char RELEASE[] =
	"project { name = \"hello\", version = env(\"TORTURE_VERSION\", \"1.2.0\") }\n"
	"go \"1.26.8\"\n"
	"build \"hello\" {\n"
	"  main = \"./cmd/hello\",\n"
	"  ldflags = { \"-s\", \"-w\", \"-X main.version={version}\" },\n"
	"  tags = { \"netgo\" },\n"
	"  env = { \"GOPRIVATE\", CGO_CFLAGS = \"-O2\" },\n"
	"  targets = matrix {\n"
	"    goos = { \"linux\", \"darwin\", \"windows\", \"freebsd\" },\n"
	"    goarch = { \"amd64\", \"arm64\" },\n"
	"    cgo = false,\n"
	"    include = { { goos = \"linux\", goarch = \"arm\", goarm = { \"6\", \"7\" } } },\n"
	"    exclude = { { goos = \"freebsd\", goarch = \"arm64\" } },\n"
	"  },\n"
	"}\n"
	"archive { format = \"tar.gz\", format_overrides = { windows = \"zip\" },\n"
	"          name = \"{name}_{version}_{os}_{arch}{variant}\", files = { \"LICENSE\" } }\n"
	"checksums { file = \"SHA256SUMS\", algorithm = \"sha256\" }\n";

static const char BAD_RELEASE[] = "project { name = \"x\", version = \"1\" }\ngo \"1.26.8\"\n"
				  "build \"x\" { mian = \".\", targets = matrix { goos = { \"linux\" } } }\n";

static const char LOCK[] =
	"{\n  \"format\": 1,\n  \"go\": \"1.26.8\",\n  \"platforms\": {\n"
	"    \"darwin-arm64\": {\n      \"filename\": \"go1.26.8.darwin-arm64.tar.gz\",\n"
	"      \"sha256\": \"a012b25b571bd0138a03dcd25375ceba866fe5ca822f426d2c66a4de56fd3f4b\",\n"
	"      \"size\": 64626620,\n      \"tree_digest\": null\n    },\n"
	"    \"linux-amd64\": {\n      \"filename\": \"go1.26.8.linux-amd64.tar.gz\",\n"
	"      \"sha256\": \"d0f743b33e8d8945e6b1f432edd15785c70507121d6e2a723b21285eddf8b57b\",\n"
	"      \"size\": 66897291,\n"
	"      \"tree_digest\": \"1d90455e948c37d9781d9b3f04b52fd29097bf6efbb23684d44883bed0eb07db\"\n"
	"    }\n  },\n  \"tree_digest_format\": \"xgo-tree-v1\"\n}\n";

static const char MANIFEST[] =
	"{\"schema\": 1, \"tool\": {\"version\": \"0.1\"},\n"
	" \"sdk\": {\"version\": \"1.26.8\", \"platform\": \"linux-amd64\"},\n"
	" \"jobs\": [{\"build\": \"hello\", \"output\": \"hello_linux_amd64/hello\", \"target\": \"linux/amd64\",\n"
	"   \"sha256\": \"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\"}],\n"
	" \"archives\": [{\"name\": \"hello_1.0_linux_amd64.tar.gz\", \"target\": \"linux/amd64\",\n"
	"   \"sha256\": \"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"}]}\n";

static const char SUMS[] = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff  a.tar.gz\n"
			   "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee *b.zip\n";

static const char INDEX[] =
	"[{\"version\": \"go1.26.8\", \"stable\": true, \"files\": [\n"
	"  {\"filename\": \"go1.26.8.linux-amd64.tar.gz\", \"os\": \"linux\", \"arch\": \"amd64\", \"kind\": \"archive\",\n"
	"   \"sha256\": \"d0f743b33e8d8945e6b1f432edd15785c70507121d6e2a723b21285eddf8b57b\", \"size\": 66897291},\n"
	"  {\"filename\": \"go1.26.8.src.tar.gz\", \"os\": \"\", \"arch\": \"\", \"kind\": \"source\",\n"
	"   \"sha256\": \"d0f743b33e8d8945e6b1f432edd15785c70507121d6e2a723b21285eddf8b57b\", \"size\": 1}]},\n"
	" {\"version\": \"go1.25.0\", \"stable\": false, \"files\": []}]\n";

static int sc_dsl(void)
{
	struct release r;
	if (release_load(release_path, NULL, &r) < 0)
		return -1;
	sum("%s %s %s %s builds=%zu archives=%zu %s %s env=%zu\n", r.project, r.version, r.go_version, r.dir,
	    r.nbuilds, r.narchives, r.checksums.file, r.checksums.algorithm, r.nenv_reads);
	for (size_t i = 0; i < r.nbuilds; i++) {
		const struct build_decl *b = &r.builds[i];
		sum("build %s %s %s dims=%zu inc=%zu exc=%zu", b->name, b->main, b->binary, b->targets.base.ndims,
		    b->targets.ninclude, b->targets.nexclude);
		for (size_t j = 0; j < b->ldflags.n; j++)
			sum(" %s", b->ldflags.v[j]);
		for (size_t j = 0; j < b->env_set.n; j++)
			sum(" %s", b->env_set.v[j]);
		for (size_t j = 0; j < b->env_pass.n; j++)
			sum(" %s", b->env_pass.v[j]);
		for (size_t j = 0; j < b->targets.base.ndims; j++)
			sum(" %s:%zu", b->targets.base.dims[j].key, b->targets.base.dims[j].vals.n);
		sum("\n");
	}
	for (size_t i = 0; i < r.narchives; i++)
		sum("archive %s %s files=%zu overrides=%zu\n", r.archives[i].format, r.archives[i].name,
		    r.archives[i].nfiles, r.archives[i].overrides.n);
	for (size_t i = 0; i < r.nenv_reads; i++)
		sum("env %s=%s\n", r.env_reads[i].name, r.env_reads[i].value ? r.env_reads[i].value : "(nil)");
	release_clear(&r);
	return 0;
}

/* The loader's error paths allocate too (messages, suggestions). */
static int sc_dsl_error(void)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/bad.lua", dir);
	struct release r;
	if (release_load(path, NULL, &r) == 0) {
		release_clear(&r);
		return 0;
	}
	return -1;
}

static struct release loaded; /* loaded before arming, for sc_matrix */

static int sc_matrix(void)
{
	struct port_table ports;
	struct target_list l;
	int rc = 0;
	ports_builtin(&ports);
	for (size_t i = 0; i < loaded.nbuilds && rc == 0; i++) {
		rc = mx_expand(&loaded.builds[i].targets, &ports, "release.lua", &l);
		if (rc < 0)
			break;
		for (size_t j = 0; j < l.n; j++) {
			char id[64], v[32];
			target_id(&l.v[j], id, sizeof(id));
			target_variant_suffix(&l.v[j], v, sizeof(v));
			sum("%s %s\n", id, v);
		}
		for (size_t j = 0; j < l.skipped.n; j++)
			sum("skipped %s\n", l.skipped.v[j]);
		mx_list_release(&l);
	}
	ports_release(&ports);
	return rc;
}

static int sc_lockfile(void)
{
	struct lock l = { 0 };
	int rc = lock_read(lock_path, &l);
	if (rc == 0) {
		struct lock_platform p = { .name = "linux-arm64", .filename = "go1.26.8.linux-arm64.tar.gz",
					   .size = 1 };
		memset(p.sha256, 'a', 64);
		lock_set(&l, &p);
		char *text = lock_dump(&l);
		sum("%s", text);
		free(text);
		rc = lock_write(lock_out, &l);
		if (rc == 0) {
			int was = armed;
			armed = 0;
			char *back = read_file(lock_out, 1 << 20, NULL);
			sum("%s", back ? back : "(unreadable)");
			free(back);
			armed = was;
		}
	}
	lock_clear(&l);
	return rc;
}

static int sc_lockfile_bad(void)
{
	static const char bad[] = "{\"format\": 1, \"go\": \"1.26.8\", \"platforms\": {\"linux-amd64\": "
				  "{\"filename\": \"../x\", \"sha256\": \"zz\", \"size\": -1}}}";
	struct lock l = { 0 };
	int rc = lock_parse("release.lock", bad, sizeof(bad) - 1, &l);
	lock_clear(&l);
	return rc == 0 ? 0 : -1;
}

static int sc_manifest(void)
{
	int rc = 0;
	const char *texts[] = { MANIFEST, SUMS };
	for (size_t i = 0; i < ARRAY_LEN(texts) && rc == 0; i++) {
		json_t *expected = json_object();
		struct manifest doc;
		if (!expected)
			return error("out of memory");
		rc = verify_parse_record("manifest.json", texts[i], strlen(texts[i]), expected, &doc);
		const char *k;
		json_t *v;
		json_object_foreach(expected, k, v)
			sum("%s %s\n", k, json_string_value(v));
		manifest_release(&doc);
		json_decref(expected);
	}
	return rc;
}

static int sc_mirror(void)
{
	struct mirror_index idx = { 0 };
	int rc = mirror_parse_index("index.json", INDEX, sizeof(INDEX) - 1, &idx);
	for (size_t i = 0; rc == 0 && i < idx.nrel; i++) {
		sum("%s %d\n", idx.rel[i].version, idx.rel[i].stable);
		for (size_t j = 0; j < idx.rel[i].nfiles; j++) {
			const struct mirror_file *f = &idx.rel[i].files[j];
			sum(" %s %s %s %s %s %llu\n", f->filename, f->os, f->arch, f->kind, f->sha256,
			    (unsigned long long)f->size);
		}
	}
	if (rc == 0 && !mirror_find(&idx, "1.26.8", "linux-amd64"))
		rc = error("torture: mirror_find lost the entry");
	mirror_index_clear(&idx);
	return rc;
}

static int sc_template(void)
{
	static const struct tmpl_var vars[] = {
		{ "name", "hello", NULL }, { "version", "1.2.0", NULL }, { "os", "linux", NULL },
		{ "arch", "arm", NULL },   { "variant", "v7", NULL },    { "ext", "", NULL },
		{ "tag", NULL, "no tag" },
	};
	static const char *const ok[] = { "{name}_{version}_{os}_{arch}{variant}", "x/{name}{ext}" };
	static const char *const bad[] = { "{nope}", "{name", "a}", "{{x}}", "{tag}" };
	char *out;
	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		if (tmpl_expand(ok[i], vars, ARRAY_LEN(vars), "release.lua:1: archive: name", &out) < 0)
			return -1;
		sum("%s\n", out);
		free(out);
	}
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		if (tmpl_expand(bad[i], vars, ARRAY_LEN(vars), "release.lua:1: archive: name", &out) == 0)
			return error("torture: template '%s' was accepted", bad[i]);
	return 0;
}

struct scenario {
	const char *name;
	int (*run)(void);
	int expect_error; /* the scenario fails even without injection */
};

static const struct scenario scenarios[] = {
	{ "dsl", sc_dsl, 0 },           { "dsl-error", sc_dsl_error, 1 }, { "matrix", sc_matrix, 0 },
	{ "lockfile", sc_lockfile, 0 }, { "lockfile-bad", sc_lockfile_bad, 1 },
	{ "manifest", sc_manifest, 0 }, { "mirror", sc_mirror, 0 },        { "template", sc_template, 0 },
};

/* How a child ended: the injected failure was reached or not, and the
 * scenario returned 0 or an error (with its message). */
enum { CHILD_DONE = 0, CHILD_DONE_ERROR = 10, CHILD_ABSORBED = 11, CHILD_ERROR = 12, CHILD_SILENT = 13,
       CHILD_WRONG = 14 };

static char baseline[sizeof(summary)];

/* Run sc in a child with allocation n failing; the child's stderr is
 * returned in msg.  Returns the wait status. */
static int run_child(const struct scenario *sc, long n, char *msg, size_t size)
{
	int fds[2];
	if (pipe(fds) < 0)
		fatal(1, "torture: pipe:");
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		fatal(1, "torture: fork:");
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		close(fds[1]);
		error_clear();
		summary_len = 0;
		summary[0] = 0;
		fail_at = n;
		count = 0;
		armed = 1;
		int rc = sc->run();
		armed = 0;
		int reached = count >= n;
		if (rc == 0 && strcmp(summary, baseline)) {
			fprintf(stderr, "wrong output:\n%s\nexpected:\n%s", summary, baseline);
			exit(CHILD_WRONG);
		}
		if (rc == 0)
			exit(reached ? CHILD_ABSORBED : CHILD_DONE);
		if (!error_last() || !error_last()[0])
			exit(CHILD_SILENT);
		exit(reached ? CHILD_ERROR : CHILD_DONE_ERROR);
	}
	close(fds[1]);
	size_t len = 0;
	ssize_t k;
	char sink[4096];
	for (;;) {
		int room = len + 1 < size;
		k = read(fds[0], room ? msg + len : sink, room ? size - 1 - len : sizeof(sink));
		if (k <= 0)
			break;
		if (room)
			len += (size_t)k;
	}
	msg[len] = 0;
	close(fds[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			fatal(1, "torture: waitpid:");
	return st;
}

/* A child prints only "xgo-build: error: ..." lines: its errors, or the
 * x* wrappers' "out of memory" last. */
static int clean_message(const char *msg)
{
	for (const char *p = msg; *p; p = strchr(p, '\n') + 1) {
		if (strncmp(p, "xgo-build: error: ", 18) || !strchr(p, '\n'))
			return 0;
		if (strstr(p, "lua panic") == p + 18)
			return 0;
	}
	return 1;
}

static int ends_with_oom(const char *msg)
{
	static const char oom[] = "xgo-build: error: out of memory\n";
	size_t n = strlen(msg);
	return n >= sizeof(oom) - 1 && !strcmp(msg + n - (sizeof(oom) - 1), oom) &&
	       (n == sizeof(oom) - 1 || msg[n - sizeof(oom)] == '\n');
}

static int torture(const struct scenario *sc)
{
	static char msg[1 << 16];
	long oom = 0, errors = 0, absorbed = 0;
	/* The output without failures, quietly. */
	summary_len = 0;
	summary[0] = 0;
	error_quiet(1);
	int rc = sc->run();
	error_quiet(0);
	if ((rc < 0) != sc->expect_error) {
		printf("torture %s: FAILED without injection: %s\n", sc->name, rc < 0 ? error_last() : "no error");
		return -1;
	}
	memcpy(baseline, summary, sizeof(baseline));
	for (long n = 1;; n++) {
		int st = run_child(sc, n, msg, sizeof(msg));
		int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		int clean = clean_message(msg);
		if (clean && code == (sc->expect_error ? CHILD_DONE_ERROR : CHILD_DONE)) {
			printf("torture %-13s %-10s %6ld allocation points: %5ld out-of-memory exits, %5ld errors "
			       "returned, %5ld absorbed\n", sc->name, persistent ? "from-N-on" : "Nth-only", n - 1, oom,
			       errors, absorbed);
			return 0;
		}
		if (clean && code == CHILD_ERROR)
			errors++;
		else if (clean && code == CHILD_ABSORBED)
			absorbed++;
		else if (clean && code == EXIT_JOB && ends_with_oom(msg))
			oom++;
		else {
			printf("torture %s: FAILED with allocation %ld%s failing: ", sc->name, n, persistent ? " and on" : "");
			if (WIFSIGNALED(st))
				printf("killed by signal %d\n", WTERMSIG(st));
			else
				printf("exit %d\n", code);
			printf("%s", msg);
			return -1;
		}
	}
}

static void put(const char *path, const char *text)
{
	if (write_file_atomic(path, text, strlen(text), 0644) < 0)
		fatal(1, "torture: cannot write '%s'", path);
}

int main(int argc, char **argv)
{
	snprintf(dir, sizeof(dir), "/tmp/xgo-torture-XXXXXX");
	if (!mkdtemp(dir))
		fatal(1, "torture: mkdtemp:");
	snprintf(release_path, sizeof(release_path), "%s/release.lua", dir);
	snprintf(lock_path, sizeof(lock_path), "%s/release.lock", dir);
	snprintf(lock_out, sizeof(lock_out), "%s/out.lock", dir);
	char bad[160];
	snprintf(bad, sizeof(bad), "%s/bad.lua", dir);
	put(release_path, RELEASE);
	put(bad, BAD_RELEASE);
	put(lock_path, LOCK);
	json_alloc_init(); /* as main does: jansson through xmalloc */
	error_quiet(1);
	int loaded_rc = release_load(release_path, NULL, &loaded);
	error_quiet(0);
	if (loaded_rc < 0)
		fatal(1, "torture: the fixture does not load: %s", error_last());
	int failed = 0, ran = 0;
	for (size_t i = 0; i < ARRAY_LEN(scenarios); i++) {
		int pick = argc < 2;
		for (int a = 1; a < argc; a++)
			pick |= !strcmp(argv[a], scenarios[i].name);
		if (!pick)
			continue;
		ran++;
		for (persistent = 0; persistent < 2; persistent++)
			if (torture(&scenarios[i]) < 0)
				failed++;
	}
	release_clear(&loaded);
	remove_tree(dir);
	if (!ran)
		fatal(2, "torture: no such scenario (try: dsl dsl-error matrix lockfile lockfile-bad manifest mirror template)");
	return failed ? 1 : 0;
}
