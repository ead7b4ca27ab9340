/* cc.c - C toolchains for cgo jobs (see cc.h). */
#define _GNU_SOURCE
#include "cc.h"
#include "base/jsonx.h"
#include "base/hash.h"
#include "base/proc.h"
#include "sdk.h"
#include "treedigest.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* ---- presets: data ---- */

struct preset {
	const char *goos, *goarch;
	const char *zig;     /* zig -target, "%s" = musl or gnu (linux) */
	const char *gcc;     /* Debian cross gcc triple */
	const char *package; /* the Debian packages: the compiler and its libc */
};

static const struct preset presets[] = {
	{ "linux", "amd64", "x86_64-linux-%s", "x86_64-linux-gnu", "gcc-x86-64-linux-gnu libc6-dev-amd64-cross" },
	{ "linux", "386", "x86-linux-%s", "i686-linux-gnu", "gcc-i686-linux-gnu libc6-dev-i386-cross" },
	{ "linux", "arm64", "aarch64-linux-%s", "aarch64-linux-gnu", "gcc-aarch64-linux-gnu libc6-dev-arm64-cross" },
	{ "linux", "arm", "arm-linux-%seabihf", "arm-linux-gnueabihf", "gcc-arm-linux-gnueabihf libc6-dev-armhf-cross" },
	{ "linux", "riscv64", "riscv64-linux-%s", "riscv64-linux-gnu", "gcc-riscv64-linux-gnu libc6-dev-riscv64-cross" },
	{ "linux", "ppc64le", "powerpc64le-linux-%s", "powerpc64le-linux-gnu",
	  "gcc-powerpc64le-linux-gnu libc6-dev-ppc64el-cross" },
	{ "linux", "s390x", "s390x-linux-%s", "s390x-linux-gnu", "gcc-s390x-linux-gnu libc6-dev-s390x-cross" },
	{ "linux", "loong64", "loongarch64-linux-%s", "loongarch64-linux-gnu",
	  "gcc-loongarch64-linux-gnu libc6-dev-loong64-cross" },
	{ "linux", "mips64le", NULL, "mips64el-linux-gnuabi64", "gcc-mips64el-linux-gnuabi64 libc6-dev-mips64el-cross" },
	{ "linux", "mipsle", NULL, "mipsel-linux-gnu", "gcc-mipsel-linux-gnu libc6-dev-mipsel-cross" },
	{ "windows", "amd64", "x86_64-windows-gnu", "x86_64-w64-mingw32", "gcc-mingw-w64-x86-64" },
	{ "windows", "386", "x86-windows-gnu", "i686-w64-mingw32", "gcc-mingw-w64-i686" },
	{ "windows", "arm64", "aarch64-windows-gnu", NULL, NULL },
	{ "darwin", "amd64", "x86_64-macos", NULL, NULL },
	{ "darwin", "arm64", "aarch64-macos", NULL, NULL },
};

static const struct preset *preset_for(const struct target *t)
{
	for (size_t i = 0; i < ARRAY_LEN(presets); i++)
		if (!strcmp(presets[i].goos, t->goos) && !strcmp(presets[i].goarch, t->goarch))
			return &presets[i];
	return NULL;
}

const char *cc_zig_triple(const struct target *t, const char *libc, char *buf, size_t size)
{
	const struct preset *p = preset_for(t);
	if (!p || !p->zig)
		return NULL;
	/* GOARM=5 is soft-float: the hard-float musl/glibc presets do not fit */
	if (!strcmp(t->goarch, "arm") && t->vval[0] == '5')
		return NULL;
	snprintf(buf, size, p->zig, strcmp(libc, "glibc") ? "musl" : "gnu");
	return buf;
}

const char *cc_gcc_triple(const struct target *t, const char **package)
{
	const struct preset *p = preset_for(t);
	if (package)
		*package = p ? p->package : NULL;
	if (p && !strcmp(t->goarch, "arm") && t->vval[0] == '5') {
		if (package)
			*package = "gcc-arm-linux-gnueabi libc6-dev-armel-cross";
		return "arm-linux-gnueabi";
	}
	return p ? p->gcc : NULL;
}

static int is_native(const struct target *t)
{
	char want[40];
	snprintf(want, sizeof(want), "%s-%s", t->goos, t->goarch);
	return !strcmp(want, sdk_host_platform());
}

const char *cc_choose(const struct cc_decl *d, const struct target *t)
{
	char full[40];
	snprintf(full, sizeof(full), "%s/%s=", t->goos, t->goarch);
	for (int pass = 0; pass < 2; pass++) {
		size_t len = pass ? strlen(t->goos) : strlen(full);
		for (size_t i = 0; i < d->targets.n; i++) {
			const char *e = d->targets.v[i];
			if (pass == 0 && !strncmp(e, full, len))
				return e + len;
			if (pass == 1 && !strncmp(e, t->goos, len) && e[len] == '=')
				return e + len + 1;
		}
	}
	if (d->use)
		return d->use;
	if (d->zig)
		return "zig";
	return is_native(t) ? "host" : NULL;
}

/* ---- probing compilers ---- */

/* The first line `argv` prints (stdout, else stderr), or NULL. */
static char *first_line(char *const argv[])
{
	char *envp[] = { "PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C", "HOME=/nonexistent", NULL };
	struct buf out, err;
	int status;
	char *line = NULL;
	buf_init(&out, 1 << 16);
	buf_init(&err, 1 << 16);
	int saved = error_quiet(1);
	int rc = proc_capture(argv, envp, NULL, &out, &err, &status);
	error_quiet(saved);
	error_clear();
	const char *text = out.len ? out.data : err.data;
	if (rc == 0 && status == 0 && text && *text)
		line = xstrndup(text, strcspn(text, "\n"));
	buf_release(&out);
	buf_release(&err);
	return line;
}

/* name searched in the host's PATH (then /usr/bin); caller frees. */
static char *search_path(const char *name)
{
	const char *path = getenv("PATH");
	char *dirs = xasprintf("%s:/usr/bin", path ? path : "");
	char *found = proc_find(name, dirs);
	free(dirs);
	return found;
}

/* Quote a path for CC when it holds characters Go's splitting would cut. */
static char *quoted(const char *path)
{
	return strpbrk(path, " \t'\"") ? xasprintf("\"%s\"", path) : xstrdup(path);
}

static void identity(struct cc_tool *t)
{
	char *id = xasprintf("xgo-cc-v1\n%s\n%s\n%s\n%s\n%s\n%s\n", t->kind, t->path, t->version, t->sha256,
			     t->lib_digest, t->triple);
	hash_bytes_hex(HASH_SHA256, id, strlen(id), t->digest);
	free(id);
}

/* A gcc-like compiler at path: version line and binary digest. */
static int probe_gcc(struct cc_tool *t, const char *path)
{
	char *argv[] = { (char *)path, "--version", NULL };
	t->path = xstrdup(path);
	if (!(t->version = first_line(argv)))
		return error("'%s --version' failed: is it a C compiler?", path);
	return hash_file_hex(HASH_SHA256, path, t->sha256, NULL);
}

/* CXX and AR beside a gcc driver: "x-gcc" -> "x-g++", "x-ar". */
static void gcc_companions(struct cc_tool *t, const char *gcc)
{
	size_t len = strlen(gcc);
	t->cc = quoted(gcc);
	if (len >= 3 && !strcmp(gcc + len - 3, "gcc")) {
		char *gxx = xasprintf("%.*sg++", (int)(len - 3), gcc);
		char *ar = xasprintf("%.*sar", (int)(len - 3), gcc);
		t->cxx = quoted(gxx);
		t->ar = quoted(access(ar, X_OK) == 0 ? ar : "/usr/bin/ar");
		free(gxx);
		free(ar);
	} else {
		t->cxx = quoted(gcc);
		t->ar = xstrdup("/usr/bin/ar");
	}
}

/* ---- zig: find, pin, verify ---- */

static char *zig_version_of(const char *path)
{
	char *argv[] = { (char *)path, "version", NULL };
	return first_line(argv);
}

/* The ziglang wheel's directory, asking python3 (PATH) where it is. */
static char *ziglang_dir(void)
{
	char *py = search_path("python3");
	if (!py)
		return NULL;
	char *argv[] = { py, "-c", "import os, ziglang; print(os.path.dirname(ziglang.__file__))", NULL };
	struct buf out;
	int status;
	char *dir = NULL;
	buf_init(&out, 1 << 16);
	int saved = error_quiet(1);
	/* the host environment: pyenv and virtualenvs need theirs to find packages */
	if (proc_capture(argv, environ, NULL, &out, NULL, &status) == 0 && status == 0 && out.data && out.data[0] == '/')
		dir = xstrndup(out.data, strcspn(out.data, "\n"));
	error_quiet(saved);
	error_clear();
	buf_release(&out);
	free(py);
	return dir;
}

int cc_zig_find(const char *version, char **path)
{
	char *cands[3] = { NULL, NULL, NULL };
	struct buf seen;
	int rc = -1;
	const char *env = getenv("XGO_ZIG");
	buf_init(&seen, 4096);
	if (env && *env)
		cands[0] = xstrdup(env);
	cands[1] = search_path("zig");
	char *dir = ziglang_dir();
	if (dir)
		cands[2] = xasprintf("%s/zig", dir);
	free(dir);
	*path = NULL;
	for (size_t i = 0; i < ARRAY_LEN(cands) && !*path; i++) {
		if (!cands[i] || cands[i][0] != '/' || access(cands[i], X_OK) < 0)
			continue;
		char *v = zig_version_of(cands[i]);
		if (v && !strcmp(v, version)) {
			*path = cands[i];
			cands[i] = NULL;
		} else {
			buf_printf(&seen, "%s zig %s at %s", seen.len ? "," : " (found", v ? v : "?", cands[i]);
		}
		free(v);
	}
	if (*path)
		rc = 0;
	else
		error("zig %s not found%s%s: install it with 'python3 -m pip install ziglang==%s', or set XGO_ZIG "
		      "to the zig binary", version, seen.data ? seen.data : "", seen.len ? ")" : "", version);
	for (size_t i = 0; i < ARRAY_LEN(cands); i++)
		free(cands[i]);
	buf_release(&seen);
	return rc;
}

static char *zig_lib_dir(const char *zig)
{
	const char *slash = strrchr(zig, '/');
	return xasprintf("%.*s/lib", (int)(slash - zig), zig);
}

int cc_zig_pin(const char *path, struct lock_tool *out)
{
	struct td_result td;
	char *lib = zig_lib_dir(path);
	int rc = hash_file_hex(HASH_SHA256, path, out->sha256, NULL);
	if (rc == 0)
		rc = td_compute(lib, TD_DIGEST | TD_SKIP_PYCACHE, 0, &td);
	if (rc == 0)
		memcpy(out->tree_digest, td.digest, sizeof(out->tree_digest));
	free(lib);
	return rc;
}

/* The stat of the binary and the lib/ fingerprint: what the record of a
 * past verification is keyed by (one lstat per file, no hashing). */
static int zig_stamp(const char *path, char *out, size_t size)
{
	struct stat st;
	struct td_result td;
	char *lib = zig_lib_dir(path);
	int rc = stat(path, &st) < 0 ? error("cannot stat '%s':", path) : td_compute(lib, TD_FINGERPRINT | TD_SKIP_PYCACHE, 0, &td);
	if (rc == 0)
		snprintf(out, size, "%s %lld %lld %lld.%09ld %s", path, (long long)st.st_size, (long long)st.st_ino,
			 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, td.fingerprint);
	free(lib);
	return rc;
}

/* Check the zig at path against pin: the digests are computed only when
 * no record under cache_dir says this exact file and tree matched. */
static int zig_verify(const char *path, const char *version, const struct lock_tool *pin, const char *cache_dir)
{
	char stamp[PATH_MAX + 160], want[PATH_MAX + 320];
	char *rec = xasprintf("%s/cc/zig-%s.verified", cache_dir, version);
	char *dir = xasprintf("%s/cc", cache_dir);
	int rc = zig_stamp(path, stamp, sizeof(stamp));
	size_t len = 0;
	snprintf(want, sizeof(want), "%s %s %s\n", stamp, pin->sha256, pin->tree_digest);
	int saved = error_quiet(1);
	char *have = rc == 0 ? read_file(rec, sizeof(want), &len) : NULL;
	error_quiet(saved);
	error_clear();
	if (rc == 0 && !(have && !strcmp(have, want))) {
		struct lock_tool got = { 0 };
		note("verifying zig %s at %s against release.lock", version, path);
		rc = cc_zig_pin(path, &got);
		if (rc == 0 && strcmp(got.sha256, pin->sha256))
			rc = error("zig %s at '%s' has sha256 %s, but release.lock pins %s: reinstall zig %s, or run "
				   "'xgo-build lock' to pin this one", version, path, got.sha256, pin->sha256, version);
		else if (rc == 0 && strcmp(got.tree_digest, pin->tree_digest))
			rc = error("zig %s at '%s': its lib/ has tree digest %s, but release.lock pins %s: reinstall "
				   "zig %s, or run 'xgo-build lock'", version, path, got.tree_digest, pin->tree_digest,
				   version);
		if (rc == 0 && mkdir_p(dir, 0755) == 0)
			write_file_atomic(rec, want, strlen(want), 0644); /* only a shortcut: failure is fine */
	}
	free(have);
	free(rec);
	free(dir);
	return rc;
}

static char *macos_stubs(const char *cache_dir);

/* ---- resolution ---- */

struct resolver {
	const struct release *r;
	const char *cache_dir;
	struct lock lock;
	int lock_read;
	char *zig;          /* verified zig binary, once found */
	struct lock_tool zigpin;
	struct cc_tool *probed; /* gcc-like compilers already probed (by path) */
	size_t nprobed;
};

static int no_toolchain(struct resolver *rs, const struct cc_need *j)
{
	const char *pkg = NULL, *triple = cc_gcc_triple(j->target, &pkg);
	char zt[48];
	const char *zig = cc_zig_triple(j->target, "musl", zt, sizeof(zt));
	char also[200] = "";
	if (triple && pkg)
		snprintf(also, sizeof(also), "%sor install %s and add cc { use = \"gcc\" }", zig ? "; " : "", pkg);
	return error("%s:%d: build '%s': %s uses cgo but no C toolchain serves it: %s%s%s", rs->r->path,
		     j->build->line, j->build->name, j->id,
		     zig ? "add cc { zig = \"0.17.0\" } to release.lua (zig compiles C for linux, windows and macOS)" : "",
		     also, !zig && !triple ? "give a compiler: cc { targets = { [\"...\"] = \"/path/to/cc\" } }" : "");
}

static int resolve_zig(struct resolver *rs, const struct cc_need *j, struct cc_tool *t)
{
	const struct cc_decl *d = &rs->r->cc;
	const char *where = rs->r->path;
	char triple[48];
	if (!d->zig)
		return error("%s:%d: cc: %s is to use zig, but no zig version is pinned: add zig = \"0.17.0\"", where,
			     d->line ? d->line : j->build->line, j->id), EXIT_USAGE;
	if (!cc_zig_triple(j->target, d->libc, triple, sizeof(triple)))
		return error("%s:%d: build '%s': zig has no preset for %s: use gcc or a compiler path in cc { targets "
			     "= { [\"%s/%s\"] = ... } }", where, j->build->line, j->build->name, j->id, j->target->goos,
			     j->target->goarch), EXIT_USAGE;
	if (j->static_link && !strcmp(j->target->goos, "linux") && !strcmp(d->libc, "glibc"))
		return error("%s:%d: build '%s': %s: zig cannot link glibc statically: use cc { libc = \"musl\" } "
			     "or static = false", where, j->build->line, j->build->name, j->id), EXIT_USAGE;
	if (!rs->zig) {
		char *lockpath = sdk_lock_path(rs->r->path);
		const struct lock_tool *pin = NULL;
		int st = lock_read(lockpath, &rs->lock);
		rs->lock_read = st == 0;
		if (st == 0 && rs->lock.zig && !strcmp(rs->lock.zig, d->zig))
			pin = lock_find_zig(&rs->lock, sdk_host_platform());
		if (st >= 0 && !pin)
			error("'%s' pins no zig %s for %s: run 'xgo-build lock' to pin it", lockpath, d->zig,
			      sdk_host_platform());
		free(lockpath);
		if (!pin || cc_zig_find(d->zig, &rs->zig) < 0 || zig_verify(rs->zig, d->zig, pin, rs->cache_dir) < 0)
			return EXIT_TOOLCHAIN;
		rs->zigpin = *pin;
	}
	snprintf(t->kind, sizeof(t->kind), "zig");
	t->path = xstrdup(rs->zig);
	t->version = xasprintf("zig %s", d->zig);
	memcpy(t->sha256, rs->zigpin.sha256, sizeof(t->sha256));
	memcpy(t->lib_digest, rs->zigpin.tree_digest, sizeof(t->lib_digest));
	t->triple = xstrdup(triple);
	if (!strcmp(j->target->goos, "darwin") && !(t->ldflags = macos_stubs(rs->cache_dir)))
		return EXIT_TOOLCHAIN;
	if (t->ldflags) {
		char *dir = t->ldflags;
		t->ldflags = xasprintf("-F%s -L%s", dir, dir);
		free(dir);
	}
	char *q = quoted(rs->zig);
	t->cc = xasprintf("%s cc -target %s", q, triple);
	t->cxx = xasprintf("%s c++ -target %s", q, triple);
	t->ar = xasprintf("%s ar", q);
	free(q);
	return EXIT_OK;
}

/* A gcc-like compiler at path, probed once per run. */
static int resolve_gcc_path(struct resolver *rs, const char *kind, const char *path, const char *triple,
			    struct cc_tool *t)
{
	const struct cc_tool *seen = NULL;
	for (size_t i = 0; i < rs->nprobed && !seen; i++)
		if (!strcmp(rs->probed[i].path, path))
			seen = &rs->probed[i];
	if (!seen) {
		struct cc_tool p = { 0 };
		if (probe_gcc(&p, path) < 0) {
			free(p.path);
			free(p.version);
			return EXIT_TOOLCHAIN;
		}
		rs->probed = xreallocarray(rs->probed, rs->nprobed + 1, sizeof(*rs->probed));
		rs->probed[rs->nprobed++] = p;
		seen = &rs->probed[rs->nprobed - 1];
	}
	snprintf(t->kind, sizeof(t->kind), "%s", kind);
	t->path = xstrdup(seen->path);
	t->version = xstrdup(seen->version);
	memcpy(t->sha256, seen->sha256, sizeof(t->sha256));
	t->triple = xstrdup(triple);
	gcc_companions(t, path);
	return EXIT_OK;
}

static int resolve_one(struct resolver *rs, const struct cc_need *j, struct cc_tool *t)
{
	const char *use = cc_choose(&rs->r->cc, j->target);
	const char *where = rs->r->path;
	if (!use)
		return no_toolchain(rs, j), EXIT_USAGE;
	if (!strcmp(use, "zig"))
		return resolve_zig(rs, j, t);
	if (use[0] == '/') {
		if (access(use, X_OK) < 0)
			return error("%s:%d: cc: compiler '%s' for %s is not an executable file:", where, rs->r->cc.line,
				     use, j->id), EXIT_TOOLCHAIN;
		return resolve_gcc_path(rs, "path", use, "", t);
	}
	char *path = NULL;
	int rc;
	if (!strcmp(use, "host")) {
		if (!is_native(j->target))
			return error("%s:%d: build '%s': the host C compiler builds only for %s, not %s: use zig or a "
				     "cross gcc", where, j->build->line, j->build->name, sdk_host_platform(), j->id),
			       EXIT_USAGE;
		if (!(path = search_path("gcc")) && !(path = search_path("cc")))
			return error("no C compiler for %s on PATH: install gcc (apt-get install gcc)", j->id),
			       EXIT_TOOLCHAIN;
		rc = resolve_gcc_path(rs, "host", path, "", t);
	} else {
		const char *pkg = NULL, *triple = cc_gcc_triple(j->target, &pkg);
		if (!triple)
			return error("%s:%d: build '%s': there is no Debian cross gcc for %s: use zig or a compiler "
				     "path", where, j->build->line, j->build->name, j->id), EXIT_USAGE;
		char *name = xasprintf("%s-gcc", triple);
		path = search_path(name);
		if (!path)
			error("%s needs %s, which is not on PATH: install it with 'apt-get install %s'", j->id, name,
			      pkg);
		free(name);
		rc = path ? resolve_gcc_path(rs, "gcc", path, triple, t) : EXIT_TOOLCHAIN;
	}
	free(path);
	return rc;
}

int cc_resolve(const struct release *r, const struct cc_need *need, size_t n, const char *cache_dir,
	       struct cc_set *out)
{
	struct resolver rs = { .r = r, .cache_dir = cache_dir };
	int rc = EXIT_OK;
	out->v = xcalloc(n ? n : 1, sizeof(*out->v));
	out->n = n;
	for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
		if (!need[i].target->cgo)
			continue;
		if ((rc = resolve_one(&rs, &need[i], &out->v[i])) != EXIT_OK)
			break;
		identity(&out->v[i]);
	}
	for (size_t i = 0; i < rs.nprobed; i++) {
		free(rs.probed[i].path);
		free(rs.probed[i].version);
	}
	free(rs.probed);
	free(rs.zig);
	lock_clear(&rs.lock);
	return rc;
}

void cc_set_release(struct cc_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct cc_tool *t = &s->v[i];
		free(t->path);
		free(t->version);
		free(t->triple);
		free(t->cc);
		free(t->cxx);
		free(t->ar);
		free(t->ldflags);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- macOS link stubs ---- */

/* zig ships libSystem for macOS but no other part of the macOS SDK, while
 * every Go program for darwin links -lresolv (internal/syscall/unix) and,
 * on arm64, -framework CoreFoundation (runtime/cgo).  These text stubs
 * (Apple's .tbd format: install name and exported symbols, no code) let
 * the linker write the load commands; the real libraries are part of
 * every macOS.  They list the symbols Go 1.26's runtime and net use. */
static const char stub_resolv[] =
	"--- !tapi-tbd\n"
	"tbd-version: 4\n"
	"targets: [ x86_64-macos, arm64-macos ]\n"
	"install-name: '/usr/lib/libresolv.9.dylib'\n"
	"exports:\n"
	"  - targets: [ x86_64-macos, arm64-macos ]\n"
	"    symbols: [ _res_9_dn_expand, _res_9_init, _res_9_nclose, _res_9_ninit, _res_9_nquery, "
	"_res_9_nsearch, _res_9_query, _res_9_search ]\n"
	"...\n";
static const char stub_corefoundation[] =
	"--- !tapi-tbd\n"
	"tbd-version: 4\n"
	"targets: [ x86_64-macos, arm64-macos ]\n"
	"install-name: '/System/Library/Frameworks/CoreFoundation.framework/Versions/A/CoreFoundation'\n"
	"exports:\n"
	"  - targets: [ x86_64-macos, arm64-macos ]\n"
	"    symbols: [ ___CFConstantStringClassReference, _CFBundleCopyResourceURL, _CFBundleGetMainBundle, "
	"_CFBundleGetValueForInfoDictionaryKey, _CFRelease, _CFStringGetCString, _CFURLGetString, "
	"_kCFAllocatorDefault ]\n"
	"...\n";

/* The stub directory under cache_dir, written once (caller frees). */
static char *macos_stubs(const char *cache_dir)
{
	char *dir = xasprintf("%s/cc/macos-stubs-v1", cache_dir);
	char *fw = xasprintf("%s/CoreFoundation.framework", dir);
	char *lib = xasprintf("%s/libresolv.tbd", dir), *cf = xasprintf("%s/CoreFoundation.tbd", fw);
	int rc = mkdir_p(fw, 0755);
	if (rc == 0 && access(lib, F_OK) < 0)
		rc = write_file_atomic(lib, stub_resolv, strlen(stub_resolv), 0644);
	if (rc == 0 && access(cf, F_OK) < 0)
		rc = write_file_atomic(cf, stub_corefoundation, strlen(stub_corefoundation), 0644);
	free(fw);
	free(lib);
	free(cf);
	if (rc < 0)
		FREE_AND_NULL(dir);
	return dir;
}

/* ---- the job environment ---- */

static const char *const cgo_flag_vars[] = { "CGO_CFLAGS", "CGO_CXXFLAGS", "CGO_LDFLAGS" };

int cc_controls(const char *name, size_t len)
{
	static const char *const names[] = { "CC", "CXX", "AR", "ZIG_GLOBAL_CACHE_DIR", "ZIG_LOCAL_CACHE_DIR" };
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (strlen(names[i]) == len && !strncmp(names[i], name, len))
			return 1;
	return 0;
}

/* Whether go build flags ask for a position-independent link: a
 * -buildmode other than exe (linux's default). */
static int links_pic(const struct strv *flags)
{
	for (size_t i = 0; flags && i < flags->n; i++) {
		int used_next;
		const char *mode = go_flag_value(flags->v[i], i + 1 < flags->n ? flags->v[i + 1] : NULL, "buildmode",
						 &used_next);
		if (mode && strcmp(mode, "exe") && strcmp(mode, "default"))
			return 1;
	}
	return 0;
}

void cc_job_env(const struct cc_tool *t, const struct target *tg, const struct cc_env_in *in, struct strv *env)
{
	char id[17];
	snprintf(id, sizeof(id), "%.16s", t->digest);
	strv_pushf(env, "CC=%s", t->cc);
	strv_pushf(env, "CXX=%s", t->cxx);
	strv_pushf(env, "AR=%s", t->ar);
	/* No path in the flags: the go command maps the module directories
	 * (-trimpath) and its work directory (to /tmp/go-build) itself, and
	 * the flags are part of the build ID embedded in the binary, so a
	 * project path here would make the binary depend on where the project
	 * lies.  The identity define puts the toolchain into the cache keys. */
	/* Go's cache hashes only the package directory's C files: the
	 * project's other C inputs (a header in include/, a library) go in
	 * by their digest, or a warm cache would hand back stale objects. */
	char *maps = in->c_inputs ? xasprintf("-DXGO_CC_ID=%s -DXGO_C_INPUTS=%.16s", id, in->c_inputs)
				  : xasprintf("-DXGO_CC_ID=%s", id);
	for (size_t i = 0; i < ARRAY_LEN(cgo_flag_vars); i++) {
		const char *name = cgo_flag_vars[i], *user = proc_env_get(in->user ? in->user->v : NULL, name);
		const char *extra = "";
		if (!strcmp(name, "CGO_LDFLAGS") && !strcmp(t->kind, "gcc") && !strcmp(tg->goos, "windows"))
			extra = " -Wl,--no-insert-timestamp"; /* GNU ld stamps PE headers with the time */
		/* zig builds musl once per kind of link: the go command links
		 * _cgo_.o (read for its imports only) with -fPIC and the binary
		 * without, so each target paid for a PIC musl that no binary
		 * holds (4 CPU-minutes here).  -fno-PIC makes both links one;
		 * a position-independent binary needs the PIC one anyway. */
		if (!strcmp(name, "CGO_LDFLAGS") && !strcmp(t->kind, "zig") && !strcmp(tg->goos, "linux") &&
		    !links_pic(in->flags))
			extra = " -fno-PIC";
		if (!strcmp(name, "CGO_LDFLAGS"))
			strv_pushf(env, "%s=-O2 -g%s%s%s%s%s", name, extra, t->ldflags ? " " : "",
				   t->ldflags ? t->ldflags : "", user ? " " : "", user ? user : "");
		else
			strv_pushf(env, "%s=-O2 -g %s%s%s", name, maps, user ? " " : "", user ? user : "");
	}
	free(maps);
	if (!strcmp(t->kind, "zig")) {
		strv_pushf(env, "ZIG_GLOBAL_CACHE_DIR=%s", in->zig_cache);
		strv_pushf(env, "ZIG_LOCAL_CACHE_DIR=%s", in->zig_cache);
	}
}

json_t *cc_json(const struct cc_tool *t)
{
	/* the version line is the compiler's output: text, '?' for bytes that are not UTF-8 */
	json_t *o = json_pack("{s:s, s:s, s:o, s:s}", "kind", t->kind, "path", t->path, "version",
			      jx_text(t->version), "sha256", t->sha256);
	int bad = !o;
	if (t->lib_digest[0])
		bad |= json_object_set_new(o, "lib_tree_digest", json_string(t->lib_digest));
	bad |= json_object_set_new(o, "triple", json_string(t->triple));
	bad |= json_object_set_new(o, "cc", json_string(t->cc));
	bad |= json_object_set_new(o, "digest", json_string(t->digest));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
