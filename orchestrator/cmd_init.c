/* xgo-build init: write a working release.lua (and its release.lock) for
 * an existing Go module, from the module itself or from its GoReleaser
 * config (goreleaser.h).  docs/init.md. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "goreleaser.h"
#include "base/path.h"
#include "base/proc.h"
#include "base/util.h"
#include "toolchains/lockfile.h"
#include "toolchains/sdk.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static const char init_help[] =
	"usage: xgo-build init [options] [DIR]\n"
	"       xgo-build init --from-goreleaser [FILE] [options] [DIR]\n"
	"\n"
	"Write DIR/release.lua (default: this directory) for the Go module there, and\n"
	"pin its SDK in release.lock (as 'xgo-build lock' does): 'xgo-build run' works\n"
	"right after.  dist/ and .xgo-build/ are added to DIR/.gitignore.\n"
	"\n"
	"Without --from-goreleaser: one build per main package that 'go list ./...'\n"
	"finds, for linux, darwin and windows on amd64 and arm64 without cgo; tar.gz\n"
	"archives (zip for windows) holding the LICENSE* and README* files found;\n"
	"SHA256SUMS.\n"
	"\n"
	"--from-goreleaser translates a GoReleaser config (version 1 or 2; default\n"
	"DIR/.goreleaser.yaml, .goreleaser.yml, goreleaser.yaml or goreleaser.yml)\n"
	"with GoReleaser's defaults where it is silent, and prints one line for each\n"
	"setting it could not translate (also written as comments in release.lua).\n"
	"A FILE argument ends in .yml or .yaml; --from-goreleaser=FILE also works.\n"
	"\n";
static const char init_help2[] =
	"options:\n"
	"      --force           replace an existing release.lua and release.lock\n"
	"      --from-goreleaser[=FILE]  translate a GoReleaser config\n"
	"      --go VERSION      the Go version to pin (default: the go command's)\n"
	"      --sdk-mirror URL  where lock reads the SDK index (see lock --help)\n"
	"      --no-lock         write release.lua only; run 'xgo-build lock' later\n"
	"  -C, --directory DIR change to DIR first\n"
	"  -q, --quiet         only errors\n"
	"  -v, --verbose       more detail\n"
	"  -h, --help          this text\n"
	"\n"
	"exit codes: 0 ok, 2 usage, an existing file, a bad config or no main\n"
	"package, 4 the SDK could not be locked (nothing is written then)\n";

enum { O_FORCE = 256, O_FROM, O_GO, O_MIRROR, O_NO_LOCK };

struct init_opts {
	const char *dir;
	const char *from;     /* the GoReleaser config, or NULL */
	int goreleaser;       /* --from-goreleaser given */
	int force, no_lock;
	const char *go;       /* --go */
	const char *mirror;   /* --sdk-mirror */
};

/* The environment for the go command: the user's, without a workspace. */
static char **go_env(void)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = xcalloc(n + 2, sizeof(*env));
	size_t k = 0;
	env[k++] = "GOWORK=off";
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "GOWORK=", 7))
			env[k++] = environ[i];
	return env;
}

/* Run the go command in dir; its stdout in *out (owned), trailing
 * newlines kept.  -1 with the last line of its stderr in the error. */
static int run_go(const char *dir, char *const argv[], char **out)
{
	struct buf o, e;
	int status = 0, rc = -1;
	char **env = go_env();
	buf_init(&o, 4u << 20);
	buf_init(&e, 64u << 10);
	if (proc_capture(argv, env, dir, &o, &e, &status) < 0) {
		char *msg = xstrdup(error_last());
		error("cannot run the go command (%s): init asks it for the module's packages; install Go or "
		      "put it on PATH", msg);
		free(msg);
	} else if (status != 0) {
		while (e.len && e.data[e.len - 1] == '\n')
			e.data[--e.len] = '\0';
		const char *last = strrchr(e.data, '\n');
		error("'go %s' failed in '%s': %s", argv[1], dir, last ? last + 1 : e.len ? e.data : "no message");
	} else {
		*out = buf_detach(&o);
		rc = 0;
	}
	buf_release(&o);
	buf_release(&e);
	free(env);
	return rc;
}

/* "1.26.8" from the go command's GOVERSION ("go1.26.8"). */
static char *go_version(const char *dir)
{
	char *argv[] = { "go", "env", "GOVERSION", NULL }, *out = NULL;
	if (run_go(dir, argv, &out) < 0)
		return NULL;
	out[strcspn(out, "\n")] = '\0';
	const char *v = !strncmp(out, "go", 2) ? out + 2 : out;
	if (!isdigit((unsigned char)*v) || strspn(v, "0123456789.abcdefghijklmnopqrstuvwxyz") != strlen(v)) {
		error("the go command's version '%s' is not a Go release: give one with --go 1.26.8", out);
		free(out);
		return NULL;
	}
	char *r = xstrdup(v);
	free(out);
	return r;
}

/* The last element of an import path, without a /vN major suffix. */
static char *path_base(const char *ip)
{
	const char *end = ip + strlen(ip), *slash = strrchr(ip, '/');
	if (slash && slash[1] == 'v' && slash[2] && strspn(slash + 2, "0123456789") == strlen(slash + 2)) {
		end = slash;
		const char *s = slash;
		while (s > ip && s[-1] != '/')
			s--;
		slash = s > ip ? s - 1 : NULL;
	}
	const char *start = slash ? slash + 1 : ip;
	char *r = xstrndup(start, (size_t)(end - start));
	for (char *p = r; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
			*p = '-';
	return r;
}

static void lua_str(struct buf *b, const char *s)
{
	buf_puts(b, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_printf(b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			buf_printf(b, "\\%03u", (unsigned char)*s);
		else
			buf_append(b, s, 1);
	}
	buf_puts(b, "\"");
}

/* The module's name: the project name and the default binary name. */
static char *module_name(const char *dir)
{
	char *argv[] = { "go", "list", "-m", NULL }, *out = NULL;
	if (run_go(dir, argv, &out) < 0)
		return NULL;
	out[strcspn(out, "\n")] = '\0';
	char *r = path_base(out);
	free(out);
	return r;
}

/* One build per main package of the module in dir (abs: its absolute path). */
static int emit_builds(const char *dir, const char *abs, struct buf *b, size_t *nbuilds)
{
	char *argv[] = { "go", "list", "-f", "{{if eq .Name \"main\"}}{{.ImportPath}} {{.Dir}}{{end}}", "./...", NULL };
	char *out = NULL;
	struct strv names = { 0 };
	if (run_go(dir, argv, &out) < 0)
		return -1;
	*nbuilds = 0;
	for (char *save = NULL, *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		const char *pdir = sp + 1;
		size_t alen = strlen(abs);
		const char *rel = !strncmp(pdir, abs, alen) && (pdir[alen] == '/' || !pdir[alen]) ? pdir + alen : NULL;
		if (!rel)
			continue; /* not inside the module's directory */
		rel += *rel == '/';
		char *name = path_base(line);
		if (strv_contains(&names, name)) {
			free(name);
			name = path_base(rel);
			for (char *p = name; *p; p++)
				*p = *p == '/' ? '-' : *p;
		}
		strv_push(&names, name);
		buf_puts(b, "build ");
		lua_str(b, name);
		buf_puts(b, " {\n  main = ");
		char *main_pkg = *rel ? xasprintf("./%s", rel) : xstrdup(".");
		lua_str(b, main_pkg);
		free(main_pkg);
		buf_puts(b, ",\n  ldflags = { \"-s\", \"-w\" },\n"
			    "  targets = matrix {\n"
			    "    goos = { \"linux\", \"darwin\", \"windows\" },\n"
			    "    goarch = { \"amd64\", \"arm64\" },\n"
			    "    cgo = false,\n"
			    "  },\n}\n\n");
		free(name);
		++*nbuilds;
	}
	free(out);
	strv_release(&names);
	if (!*nbuilds)
		return error("'go list ./...' found no main package in '%s': init writes one build per main "
			     "package; write release.lua by hand (README.md) for a library", dir);
	return 0;
}

/* The files of patterns that exist in dir, sorted (glob sorts). */
static void emit_doc_files(const char *dir, struct buf *b)
{
	static const char *const patterns[] = { "LICENSE*", "license*", "COPYING*", "README*", "readme*" };
	buf_puts(b, "  files = {");
	for (size_t i = 0; i < ARRAY_LEN(patterns); i++) {
		char *full = xasprintf("%s/%s", dir, patterns[i]);
		glob_t g;
		memset(&g, 0, sizeof(g));
		if (glob(full, 0, NULL, &g) == 0)
			for (size_t k = 0; k < g.gl_pathc; k++) {
				struct stat st;
				const char *base = strrchr(g.gl_pathv[k], '/') + 1;
				if (lstat(g.gl_pathv[k], &st) == 0 && S_ISREG(st.st_mode) && utf8_valid(base) &&
				    !strpbrk(base, "*?[\\\"")) {
					buf_puts(b, " ");
					lua_str(b, base);
					buf_puts(b, ",");
				}
			}
		globfree(&g);
		free(full);
	}
	buf_puts(b, " },\n");
}

static int init_text(const char *dir, const char *gover, struct buf *b, size_t *nbuilds)
{
	char *abs = path_absolute(dir), *name = NULL;
	int rc = -1;
	if (!abs || !(name = module_name(dir)))
		goto out;
	buf_printf(b, "-- release.lua, written by 'xgo-build init'.  README.md lists every key.\n");
	buf_puts(b, "project { name = ");
	lua_str(b, name);
	buf_puts(b, ", version = env(\"VERSION\") } -- unset: from the git tag (docs/templates.md)\n\ngo ");
	lua_str(b, gover);
	buf_puts(b, " -- the SDK; its hashes live in release.lock\n\n");
	if (emit_builds(dir, abs, b, nbuilds) < 0)
		goto out;
	buf_puts(b, "archive {\n  format = \"tar.gz\",\n  format_overrides = { windows = \"zip\" },\n"
		    "  name = \"{name}_{version}_{os}_{arch}{variant}\",\n");
	emit_doc_files(dir, b);
	buf_puts(b, "}\n\nchecksums { file = \"SHA256SUMS\", algorithm = \"sha256\" }\n");
	rc = 0;
out:
	free(abs);
	free(name);
	return rc;
}

/* The GoReleaser config: the one given, else the first that exists. */
static char *find_config(const struct init_opts *o)
{
	static const char *const names[] = { ".goreleaser.yaml", ".goreleaser.yml", "goreleaser.yaml",
					     "goreleaser.yml" };
	if (o->from)
		return xstrdup(o->from);
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		char *p = xasprintf("%s/%s", o->dir, names[i]);
		struct stat st;
		if (stat(p, &st) == 0)
			return p;
		free(p);
	}
	error("no GoReleaser config in '%s' (.goreleaser.yaml, .goreleaser.yml, goreleaser.yaml, "
	      "goreleaser.yml): name it with --from-goreleaser FILE", o->dir);
	return NULL;
}

static int goreleaser_text(const struct init_opts *o, const char *gover, struct buf *b)
{
	char *cfg = find_config(o), *name = NULL;
	int rc = -1;
	if (!cfg)
		return -1;
	/* GoReleaser's default project name: the module's, else the directory's */
	int saved = error_quiet(1);
	name = module_name(o->dir);
	error_quiet(saved);
	if (!name) {
		char *abs = path_absolute(o->dir);
		name = path_base(abs ? abs : "app");
		free(abs);
	}
	struct gr_options go = { .project_dir = o->dir, .project_name = name, .go_version = gover };
	struct gr_result r;
	if (gr_translate(cfg, &go, &r) == 0) {
		buf_append(b, r.lua.data, r.lua.len);
		for (size_t i = 0; i < r.notes.n; i++)
			if (verbosity >= 0)
				fprintf(stderr, "xgo-build: not translated: %s\n", r.notes.v[i]);
		if (verbosity >= 0 && r.notes.n)
			fprintf(stderr, "xgo-build: %zu setting%s not translated (listed at the top of release.lua)\n",
				r.notes.n, r.notes.n == 1 ? "" : "s");
		gr_result_release(&r);
		rc = 0;
	}
	free(cfg);
	free(name);
	return rc;
}

/* 1 when text has line (or its "/"-anchored or slashless form). */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line) - 1; /* without the trailing '/' */
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *s = p + (*p == '/');
		size_t len = strcspn(s, "\r\n");
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if ((len == n || (len == n + 1 && s[n] == '/')) && !strncmp(s, line, n))
			return 1;
	}
	return 0;
}

/* Add dist/ and .xgo-build/ to dir/.gitignore when it lacks them. */
static int update_gitignore(const char *dir)
{
	static const char *const lines[] = { "dist/", ".xgo-build/" };
	char *path = xasprintf("%s/.gitignore", dir), *text = NULL;
	struct stat st;
	struct buf b;
	int rc = -1, mode = 0644;
	buf_init(&b, 1u << 20);
	if (lstat(path, &st) == 0) {
		if (!(text = read_file(path, 1u << 20, NULL)))
			goto out;
		mode = (int)(st.st_mode & 0777);
	} else if (errno != ENOENT) {
		error("cannot read '%s':", path);
		goto out;
	}
	buf_puts(&b, text ? text : "");
	size_t before = b.len;
	for (size_t i = 0; i < ARRAY_LEN(lines); i++)
		if (!text || !has_line(text, lines[i])) {
			if (b.len && b.data[b.len - 1] != '\n')
				buf_puts(&b, "\n");
			buf_printf(&b, "%s\n", lines[i]);
		}
	rc = b.len == before ? 0 : write_file_atomic(path, b.data, b.len, mode);
	if (rc == 0 && b.len != before && verbosity > 0)
		note("added dist/ and .xgo-build/ to '%s'", path);
out:
	free(path);
	free(text);
	buf_release(&b);
	return rc;
}

/* Refuse to replace what exists, unless --force. */
static int check_targets(const struct init_opts *o, const char *lua, const char *lock)
{
	const char *paths[] = { lua, lock };
	for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
		struct stat st;
		if (lstat(paths[i], &st) < 0)
			continue;
		if (!S_ISREG(st.st_mode))
			return error("'%s' exists and is not a regular file: remove it first", paths[i]);
		if (!o->force)
			return error("'%s' exists: init never replaces a file; give --force to replace it", paths[i]);
	}
	return 0;
}

/* Lock the staged release.lua with the lock command itself. */
static int lock_staged(const struct init_opts *o, const char *staged)
{
	char *argv[6];
	int n = 0, saved = verbosity;
	argv[n++] = "lock";
	argv[n++] = "-q";
	if (o->mirror) {
		argv[n++] = "--sdk-mirror";
		argv[n++] = (char *)o->mirror;
	}
	argv[n++] = (char *)staged;
	argv[n] = NULL;
	int rc = cmd_lock(n, argv);
	verbosity = saved;
	return rc;
}

/* lock -q says nothing of a lock made offline: say that it pins this
 * host's SDK by its tree only (docs/sdk.md), and how to complete it. */
static void note_tree_only(const char *slock, const char *lock)
{
	struct lock l;
	if (lock_read(slock, &l) != 0)
		return;
	const struct lock_platform *p = lock_find(&l, sdk_host_platform());
	if (p && !p->sha256[0] && verbosity >= 0)
		note("the mirror was not reached: '%s' pins go %s for %s by the local SDK's tree digest only; run "
		     "'xgo-build lock' online to pin its archive", lock, l.go, p->name);
	lock_clear(&l);
}

/* Write text as dir/release.lua and its lock: both are made in a staging
 * directory under the work dir and renamed into place only when both
 * exist, so a failed lock leaves nothing behind. */
static int write_release(const struct init_opts *o, const char *text, size_t len, const char *lua,
			 const char *lock)
{
	char *stage = xasprintf("%s/.xgo-build/init-%ld", o->dir, (long)getpid());
	char *slua = xasprintf("%s/release.lua", stage), *slock = xasprintf("%s/release.lock", stage);
	int rc = EXIT_USAGE;
	remove_tree(stage);
	if (mkdir_p(stage, 0755) < 0 || write_file_atomic(slua, text, len, 0644) < 0)
		goto out;
	if (!o->no_lock && (rc = lock_staged(o, slua)) != EXIT_OK) {
		note("nothing written: '%s' needs its release.lock (--no-lock writes release.lua alone)", lua);
		goto out;
	}
	if (!o->no_lock)
		note_tree_only(slock, lock);
	rc = EXIT_USAGE;
	if (rename(slua, lua) < 0) {
		error("cannot write '%s':", lua);
		goto out;
	}
	if (!o->no_lock && rename(slock, lock) < 0) {
		error("cannot write '%s':", lock);
		unlink(lua);
		goto out;
	}
	rc = EXIT_OK;
out:
	remove_tree(stage);
	free(stage);
	free(slua);
	free(slock);
	return rc;
}

static int parse_args(int argc, char **argv, struct init_opts *o)
{
	static const struct option longopts[] = {
		{ "force", no_argument, 0, O_FORCE },
		{ "from-goreleaser", optional_argument, 0, O_FROM },
		{ "go", required_argument, 0, O_GO },
		{ "sdk-mirror", required_argument, 0, O_MIRROR },
		{ "no-lock", no_argument, 0, O_NO_LOCK },
		{ "directory", required_argument, 0, 'C' },
		{ "quiet", no_argument, 0, 'q' },
		{ "verbose", no_argument, 0, 'v' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct cli_common c = { 0 };
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "C:qvh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(init_help, stdout);
			fputs(init_help2, stdout);
			return 1;
		case O_FORCE: o->force = 1; break;
		case O_FROM: o->goreleaser = 1; o->from = optarg; break;
		case O_GO: o->go = !strncmp(optarg, "go", 2) ? optarg + 2 : optarg; break;
		case O_MIRROR: o->mirror = optarg; break;
		case O_NO_LOCK: o->no_lock = 1; break;
		default: {
			int r = cli_common_opt(&c, opt, optarg);
			if (r <= 0)
				return r < 0 ? -1 : (cli_bad_option("init", argv), -1);
		}
		}
	}
	for (int i = optind; i < argc; i++) {
		size_t n = strlen(argv[i]);
		int yaml = (n > 4 && !strcmp(argv[i] + n - 4, ".yml")) || (n > 5 && !strcmp(argv[i] + n - 5, ".yaml"));
		if (o->goreleaser && yaml && !o->from)
			o->from = argv[i];
		else if (!o->dir && !yaml)
			o->dir = argv[i];
		else
			return cli_usage_error("init", "unexpected argument '%s': give one DIR%s", argv[i],
					       o->goreleaser ? " and one FILE" : ""), -1;
	}
	if (!o->dir)
		o->dir = ".";
	if (o->go && (!isdigit((unsigned char)*o->go) || strspn(o->go, "0123456789.abcdefghijklmnopqrstuvwxyz") != strlen(o->go)))
		return cli_usage_error("init", "--go wants a Go release such as 1.26.8, not '%s'", o->go), -1;
	return 0;
}

int cmd_init(int argc, char **argv)
{
	struct init_opts o = { 0 };
	int r = parse_args(argc, argv, &o);
	if (r)
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	struct stat st;
	if (stat(o.dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		error("'%s' is not a directory: give the module's directory", o.dir);
		return EXIT_USAGE;
	}
	char *lua = xasprintf("%s/release.lua", o.dir), *lock = xasprintf("%s/release.lock", o.dir);
	char *gover = NULL;
	struct buf text;
	size_t nbuilds = 0;
	int rc = EXIT_USAGE;
	buf_init(&text, GR_MAX_OUTPUT + 4096);
	if (check_targets(&o, lua, lock) < 0)
		goto out;
	if (!(gover = o.go ? xstrdup(o.go) : go_version(o.dir)))
		goto out;
	if (o.goreleaser ? goreleaser_text(&o, gover, &text) < 0 : init_text(o.dir, gover, &text, &nbuilds) < 0)
		goto out;
	if ((rc = write_release(&o, text.data, text.len, lua, lock)) != EXIT_OK)
		goto out;
	if (update_gitignore(o.dir) < 0) {
		rc = EXIT_JOB;
		goto out;
	}
	if (verbosity >= 0) {
		if (o.goreleaser)
			note("wrote '%s'%s", lua, o.no_lock ? "" : " and release.lock");
		else
			note("wrote '%s' (%zu build%s, go %s)%s", lua, nbuilds, nbuilds == 1 ? "" : "s", gover,
			     o.no_lock ? "" : " and release.lock");
		note("next: %s'xgo-build run%s%s'", o.no_lock ? "'xgo-build lock', then " : "",
		     strcmp(o.dir, ".") ? " -C " : "", strcmp(o.dir, ".") ? o.dir : "");
	}
	rc = EXIT_OK;
out:
	buf_release(&text);
	free(lua);
	free(lock);
	free(gover);
	return rc;
}
