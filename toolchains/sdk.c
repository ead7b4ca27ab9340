/* sdk.c - SDK resolution, cache entries, install and import (see sdk.h). */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700
#include "sdk.h"
#include "download.h"
#include "extract.h"
#include "mirror.h"
#include "treedigest.h"
#include "base/proc.h"
#include "base/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECORD_MAX (64 << 10)

void sdk_release(struct sdk *s)
{
	free(s->version);
	free(s->platform);
	free(s->root);
	free(s->entry);
	free(s->source);
	free(s->filename);
	memset(s, 0, sizeof(*s));
}

const char *sdk_host_platform(void)
{
#if defined(__linux__)
#define HOST_OS "linux"
#elif defined(__APPLE__)
#define HOST_OS "darwin"
#elif defined(__FreeBSD__)
#define HOST_OS "freebsd"
#else
#define HOST_OS "unknown"
#endif
#if defined(__x86_64__)
	return HOST_OS "-amd64";
#elif defined(__aarch64__)
	return HOST_OS "-arm64";
#elif defined(__i386__)
	return HOST_OS "-386";
#elif defined(__arm__)
	return HOST_OS "-armv6l";
#elif defined(__riscv) && __riscv_xlen == 64
	return HOST_OS "-riscv64";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
	return HOST_OS "-ppc64le";
#elif defined(__s390x__)
	return HOST_OS "-s390x";
#else
	return HOST_OS "-unknown";
#endif
}

char *sdk_cache_dir(void)
{
	const char *x = getenv("XGO_CACHE");
	if (x && *x)
		return xstrdup(x);
	x = getenv("XDG_CACHE_HOME");
	if (x && *x == '/')
		return xasprintf("%s/xgo-build", x);
	x = getenv("HOME");
	return xasprintf("%s/.cache/xgo-build", x && *x ? x : "/tmp");
}

char *sdk_lock_path(const char *release_path)
{
	const char *slash = strrchr(release_path, '/');
	if (!slash)
		return xstrdup("release.lock");
	return xasprintf("%.*s/release.lock", (int)(slash - release_path), release_path);
}

/* ---- the install record ---- */

static int record_write(const char *dir, const struct sdk *s)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			      "format", 1, "version", s->version, "platform", s->platform,
			      "filename", s->filename ? s->filename : "", "archive_sha256", s->archive_sha256,
			      "tree_digest", s->tree_digest, "fingerprint", s->fingerprint,
			      "source", s->source ? s->source : "");
	if (!o)
		return error("cannot encode the install record for '%s'", dir);
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		fatal(EXIT_JOB, "out of memory");
	char *path = xasprintf("%s/sdk.json", dir);
	char *body = xasprintf("%s\n", text);
	int rc = write_file_atomic(path, body, strlen(body), 0644);
	free(body);
	free(path);
	free(text);
	return rc;
}

static int copy_hex(char out[65], json_t *o, const char *key, int may_be_empty)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	if (!s || (!lock_is_hex64(s) && !(may_be_empty && !*s)))
		return -1;
	snprintf(out, 65, "%s", s);
	return 0;
}

/* Read entry/sdk.json into *s.  1 = no record, 0 = ok, -1 = bad record. */
static int record_read(const char *entry, struct sdk *s)
{
	char *path = xasprintf("%s/sdk.json", entry);
	struct stat st;
	int rc = -1;
	json_t *o = NULL;
	memset(s, 0, sizeof(*s));
	if (stat(path, &st) < 0) {
		free(path);
		return 1;
	}
	size_t len;
	int saved = error_quiet(1);
	char *text = read_file(path, RECORD_MAX, &len);
	error_quiet(saved);
	if (!text)
		goto out;
	o = json_loadb(text, len, 0, NULL);
	free(text);
	json_t *v = json_object_get(o, "version"), *p = json_object_get(o, "platform");
	json_t *src = json_object_get(o, "source"), *fn = json_object_get(o, "filename");
	if (!json_is_string(v) || !json_is_string(p) || !json_is_string(src) || !json_is_string(fn))
		goto out;
	if (copy_hex(s->tree_digest, o, "tree_digest", 0) < 0 || copy_hex(s->fingerprint, o, "fingerprint", 0) < 0 ||
	    copy_hex(s->archive_sha256, o, "archive_sha256", 1) < 0)
		goto out;
	s->version = xstrdup(json_string_value(v));
	s->platform = xstrdup(json_string_value(p));
	s->source = xstrdup(json_string_value(src));
	s->filename = xstrdup(json_string_value(fn));
	s->entry = xstrdup(entry);
	s->root = xasprintf("%s/go", entry);
	rc = 0;
out:
	json_decref(o);
	free(path);
	if (rc < 0)
		sdk_release(s);
	return rc;
}

/* ---- locking ---- */

static int lock_entry(const char *sdkdir, const char *name, int nonblock, int *busy)
{
	char *path = xasprintf("%s/%s.lock", sdkdir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (busy)
		*busy = 0;
	if (fd < 0) {
		error("cannot open lock file '%s':", path);
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			error("cannot lock '%s':", path);
			goto fail;
		}
		if (nonblock) {
			if (busy)
				*busy = 1;
			goto fail;
		}
		note("waiting for another xgo-build that is installing '%s'", name);
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				error("cannot lock '%s':", path);
				goto fail;
			}
		}
	}
	free(path);
	return fd;
fail:
	close(fd);
	free(path);
	return -1;
}

static void unlock_entry(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

/* Move a directory out of the way atomically, then delete it. */
static int discard_dir(const char *sdkdir, const char *name, const char *dir)
{
	char *old = xasprintf("%s/.tmp-%s-old%ld", sdkdir, name, (long)getpid());
	int rc = 0;
	remove_tree(old);
	if (rename(dir, old) < 0 && errno != ENOENT)
		rc = error("cannot move '%s' out of the way:", dir);
	else
		rc = remove_tree(old);
	free(old);
	return rc;
}

/* ---- cache check ---- */

enum { ENTRY_MISSING, ENTRY_OK, ENTRY_BAD };

int sdk_matches_pin(const struct sdk *s, const char *version, const struct lock_platform *pin)
{
	if (!s->version || strcmp(s->version, version) != 0)
		return 0;
	if (!pin)
		return 1;
	if (pin->tree_digest[0])
		return strcmp(s->tree_digest, pin->tree_digest) == 0;
	return strcmp(s->archive_sha256, pin->sha256) == 0;
}

/* The fingerprint walk (one lstat per file, ~18,000 for an SDK) is the
 * guard against a cache entry changed after its verified install.  A
 * walk that passed less than XGO_SDK_RECHECK seconds ago (default 600;
 * 0 = every time) is not repeated: back-to-back runs skip it.  The
 * stamp holds the fingerprint it vouches for and the time. */
#define SDK_RECHECK_DEFAULT 600L

static long recheck_window(void)
{
	const char *v = getenv("XGO_SDK_RECHECK");
	char *end;
	long s = v && *v ? strtol(v, &end, 10) : SDK_RECHECK_DEFAULT;
	return v && *v && (*end || s < 0) ? SDK_RECHECK_DEFAULT : s;
}

static int recently_checked(const char *entry, const char *fingerprint)
{
	long window = recheck_window();
	if (window == 0)
		return 0;
	char *path = xasprintf("%s/checked", entry), *text;
	size_t len;
	int ok = 0;
	int saved = error_quiet(1);
	text = read_file(path, 256, &len);
	error_quiet(saved);
	char fp[65];
	long long when;
	if (text && sscanf(text, "%64s %lld", fp, &when) == 2 && !strcmp(fp, fingerprint)) {
		long long now = (long long)time(NULL);
		ok = when <= now && now - when < window;
	}
	free(text);
	free(path);
	return ok;
}

static void mark_checked(const char *entry, const char *fingerprint)
{
	char *path = xasprintf("%s/checked", entry);
	char *text = xasprintf("%s %lld\n", fingerprint, (long long)time(NULL));
	int saved = error_quiet(1); /* a read-only cache just walks every time */
	write_file_atomic(path, text, strlen(text), 0644);
	error_quiet(saved);
	free(text);
	free(path);
}

static int entry_state(const char *entry, const char *version, const char *platform,
			const struct lock_platform *pin, struct sdk *out, int walk)
{
	struct sdk s;
	int r = record_read(entry, &s);
	if (r == 1) {
		struct stat st;
		if (lstat(entry, &st) < 0)
			return ENTRY_MISSING;
		warn("cache entry '%s' has no install record; not using it", entry);
		return ENTRY_BAD;
	}
	if (r < 0) {
		warn("cache entry '%s' has a bad install record; not using it", entry);
		return ENTRY_BAD;
	}
	if (strcmp(s.platform, platform) != 0 || !sdk_matches_pin(&s, version, pin)) {
		warn("cache entry '%s' is not the SDK pinned in release.lock; not using it", entry);
		sdk_release(&s);
		return ENTRY_BAD;
	}
	if (!walk && recently_checked(entry, s.fingerprint)) {
		*out = s;
		return ENTRY_OK;
	}
	struct td_result td;
	int saved = error_quiet(1);
	r = td_compute(s.root, TD_FINGERPRINT, 0, &td);
	error_quiet(saved);
	if (r < 0 || strcmp(td.fingerprint, s.fingerprint) != 0) {
		warn("cache entry '%s' was changed after it was installed; not using it", entry);
		sdk_release(&s);
		return ENTRY_BAD;
	}
	mark_checked(entry, s.fingerprint);
	*out = s;
	return ENTRY_OK;
}

/* Messages only when loud: the first, unlocked look stays silent and the
 * look under the lock says what is wrong. */
static int check_entry(const char *entry, const char *version, const char *platform,
		       const struct lock_platform *pin, struct sdk *out, int loud, int walk)
{
	struct sdk s;
	int saved_v = verbosity, saved_q = 0;
	if (!loud)
		verbosity = -1, saved_q = error_quiet(1);
	int r = entry_state(entry, version, platform, pin, &s, walk);
	verbosity = saved_v;
	if (!loud)
		error_quiet(saved_q);
	if (r == ENTRY_OK)
		*out = s;
	return r;
}

/* ---- install steps ---- */

struct ctx {
	const struct sdk_request *req;
	const char *platform;
	char *cache, *sdkdir, *name, *entry;
};

static int make_tmp(const struct ctx *c, char **tmp)
{
	*tmp = xasprintf("%s/.tmp-%s-XXXXXX", c->sdkdir, c->name);
	if (!mkdtemp(*tmp)) {
		error("cannot create a temporary directory in '%s':", c->sdkdir);
		FREE_AND_NULL(*tmp);
		return -1;
	}
	return 0;
}

/* Digest tmp/go, check it against the pin, record it and rename tmp into
 * place.  s carries version, platform, source, filename, archive sha. */
static int commit_entry(const struct ctx *c, const char *tmp, const char *what, struct sdk *s)
{
	struct td_result td;
	char *root = xasprintf("%s/go", tmp);
	int rc = -1;
	if (td_compute(root, TD_DIGEST | TD_FINGERPRINT, 0, &td) < 0)
		goto out;
	const struct lock_platform *pin = c->req->pin;
	if (pin && pin->tree_digest[0] && strcmp(pin->tree_digest, td.digest) != 0) {
		error("tree digest mismatch for %s: release.lock expects %s, got %s", what, pin->tree_digest, td.digest);
		goto out;
	}
	memcpy(s->tree_digest, td.digest, 65);
	memcpy(s->fingerprint, td.fingerprint, 65);
	if (record_write(tmp, s) < 0)
		goto out;
	struct stat st;
	if (lstat(c->entry, &st) == 0 && discard_dir(c->sdkdir, c->name, c->entry) < 0)
		goto out;
	if (rename(tmp, c->entry) < 0) {
		error("cannot rename '%s' to '%s':", tmp, c->entry);
		goto out;
	}
	s->entry = xstrdup(c->entry);
	s->root = xasprintf("%s/go", c->entry);
	rc = 0;
out:
	free(root);
	return rc;
}

static int fill_from_index(const struct ctx *c, struct lock_platform *p)
{
	struct mirror_index idx;
	if (mirror_fetch_index(c->req->mirror, &idx) < 0)
		return -1;
	const struct mirror_file *f = mirror_find(&idx, c->req->version, c->platform);
	if (!f) {
		mirror_index_clear(&idx);
		return error("mirror '%s' has no go %s archive for %s", c->req->mirror, c->req->version, c->platform);
	}
	p->filename = xstrdup(f->filename);
	p->size = f->size;
	memcpy(p->sha256, f->sha256, 65);
	mirror_index_clear(&idx);
	return 0;
}

static int install_download(const struct ctx *c, struct sdk *out)
{
	struct lock_platform info = { 0 };
	const struct lock_platform *pin = c->req->pin;
	char *downloads = xasprintf("%s/downloads", c->cache);
	char *archive = NULL, *part = NULL, *url = NULL, *tmp = NULL;
	struct sdk s = { 0 };
	int rc = -1, downloaded = 0;
	if (pin && !pin->sha256[0]) {
		error("release.lock pins go %s for %s by its tree digest only (locked offline from a local SDK), "
		      "so there is no archive to download: run 'xgo-build lock' with the mirror reachable, or "
		      "'xgo-build sdk import DIR' with that SDK", c->req->version, c->platform);
		goto out;
	}
	if (pin) {
		info.filename = xstrdup(pin->filename);
		info.size = pin->size;
		memcpy(info.sha256, pin->sha256, 65);
	} else if (fill_from_index(c, &info) < 0) {
		goto out;
	}
	if (mkdir_p(downloads, 0755) < 0)
		goto out;
	archive = xasprintf("%s/%s", downloads, info.filename);
	part = xasprintf("%s.part", archive);
	/* A finished download from an interrupted install: verify it again. */
	if (access(archive, F_OK) == 0)
		rename(archive, part);
	url = mirror_url(c->req->mirror, info.filename);
	struct dl_expect exp = { .size = info.size, .sha256 = info.sha256 };
	if (dl_file(url, archive, &exp, NULL) < 0)
		goto out;
	downloaded = 1;
	if (make_tmp(c, &tmp) < 0)
		goto out;
	if (verbosity >= 0)
		note("extracting '%s'", info.filename);
	if (ext_archive(archive, tmp) < 0)
		goto out;
	s.version = xstrdup(c->req->version);
	s.platform = xstrdup(c->platform);
	s.source = xstrdup(url);
	s.filename = xstrdup(info.filename);
	memcpy(s.archive_sha256, info.sha256, 65);
	char *what = xasprintf("'%s'", url);
	rc = commit_entry(c, tmp, what, &s);
	free(what);
	if (rc == 0) {
		*out = s;
		memset(&s, 0, sizeof(s));
		note("installed go %s (%s) in '%s'", out->version, out->platform, out->root);
	}
out:
	/* Installed, or verified bytes that still failed: either way done with it. */
	if (downloaded)
		unlink(archive);
	if (tmp && rc < 0)
		remove_tree(tmp);
	sdk_release(&s);
	free(info.filename);
	free(downloads);
	free(archive);
	free(part);
	free(url);
	free(tmp);
	return rc;
}

/* ---- copying a local SDK ---- */

static _Thread_local struct {
	const char *src, *dst;
	size_t srclen;
} cp;

static int copy_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	const char *rel = path + cp.srclen;
	char *to = xasprintf("%s%s", cp.dst, rel);
	int rc = 0;
	if (flag == FTW_DNR || flag == FTW_NS) {
		rc = error("cannot read '%s':", path);
	} else if (S_ISDIR(st->st_mode)) {
		if (*rel && mkdir(to, 0755) < 0)
			rc = error("cannot create directory '%s':", to);
	} else if (S_ISREG(st->st_mode)) {
		rc = copy_file(path, to, (st->st_mode & 0111) ? 0755 : 0644);
	} else if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n < 0) {
			rc = error("cannot read symlink '%s':", path);
		} else {
			target[n] = '\0';
			if (symlink(target, to) < 0)
				rc = error("cannot create symlink '%s':", to);
		}
	} else {
		rc = error("'%s' is not a file, directory or symlink; refusing to import it", path);
	}
	free(to);
	return rc;
}

/* Copy the tree at src into dst (which must exist and be empty). */
static int copy_tree(const char *src, const char *dst)
{
	cp.src = src;
	cp.dst = dst;
	cp.srclen = strlen(src);
	return nftw(src, copy_one, 32, FTW_PHYS) ? -1 : 0;
}

/* go<version> on the first line of dir/VERSION?  0 yes, -1 no (error() says
 * why when loud). */
static int version_matches(const char *dir, const char *version, int loud)
{
	char *path = xasprintf("%s/VERSION", dir);
	size_t len;
	int saved = error_quiet(1);
	char *text = read_file(path, 4096, &len);
	error_quiet(saved);
	int rc = -1;
	if (!text) {
		if (loud)
			error("'%s' has no readable VERSION file; is it a Go SDK (GOROOT)?", dir);
		goto out;
	}
	text[strcspn(text, "\r\n")] = '\0';
	if (strncmp(text, "go", 2) == 0 && strcmp(text + 2, version) == 0)
		rc = 0;
	else if (loud)
		error("'%s' is '%s', but go %s is pinned", path, text, version);
out:
	free(text);
	free(path);
	return rc;
}

static int import_copy(const struct ctx *c, const char *dir, struct sdk *out)
{
	char *tmp = NULL, *dst = NULL, *real = realpath(dir, NULL);
	struct sdk s = { 0 };
	int rc = -1;
	if (!real) {
		error("cannot resolve '%s':", dir);
		goto out;
	}
	if (make_tmp(c, &tmp) < 0)
		goto out;
	dst = xasprintf("%s/go", tmp);
	if (mkdir(dst, 0755) < 0) {
		error("cannot create directory '%s':", dst);
		goto out;
	}
	note("copying go %s from '%s' into the cache", c->req->version, real);
	if (copy_tree(real, dst) < 0)
		goto out;
	s.version = xstrdup(c->req->version);
	s.platform = xstrdup(c->platform);
	s.source = xasprintf("import:%s", real);
	s.filename = xstrdup("");
	char *what = xasprintf("'%s'", real);
	rc = commit_entry(c, tmp, what, &s);
	free(what);
	if (rc == 0) {
		*out = s;
		memset(&s, 0, sizeof(s));
	}
out:
	if (tmp && rc < 0)
		remove_tree(tmp);
	sdk_release(&s);
	free(tmp);
	free(dst);
	free(real);
	return rc;
}

/* ---- local discovery ---- */

static void add_candidate(struct strv *v, const char *dir, const char *cache)
{
	char *real = realpath(dir, NULL);
	if (!real)
		return;
	size_t cl = strlen(cache);
	if (strv_contains(v, real) || (!strncmp(real, cache, cl) && (real[cl] == '/' || !real[cl])))
		free(real);
	else
		strv_push_owned(v, real);
}

static void local_candidates(struct strv *v, const char *cache)
{
	const char *goroot = getenv("GOROOT");
	const char *path = getenv("PATH");
	if (goroot && *goroot)
		add_candidate(v, goroot, cache);
	if (path) {
		char *copy = xstrdup(path);
		for (char *save = NULL, *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			char *go = proc_find("go", d); /* each entry: every go on PATH is a candidate */
			char *real = go ? realpath(go, NULL) : NULL;
			if (real) {
				char *bin = strrchr(real, '/');
				*bin = '\0';
				char *root = strrchr(real, '/');
				if (root && !strcmp(root, "/bin")) {
					*root = '\0';
					add_candidate(v, *real ? real : "/", cache);
				}
			}
			free(real);
			free(go);
		}
		free(copy);
	}
	add_candidate(v, "/usr/local/go", cache);
}

static int try_local(const struct ctx *c, struct sdk *out)
{
	struct strv v = { 0 };
	int rc = 1;
	char *real_cache = realpath(c->cache, NULL);
	local_candidates(&v, real_cache ? real_cache : c->cache);
	for (size_t i = 0; i < v.n && rc == 1; i++) {
		struct td_result td;
		if (version_matches(v.v[i], c->req->version, 0) < 0)
			continue;
		int saved = error_quiet(1);
		int r = td_compute(v.v[i], TD_DIGEST, 0, &td);
		error_quiet(saved);
		if (r < 0 || strcmp(td.digest, c->req->pin->tree_digest) != 0) {
			if (verbosity > 0)
				note("local go %s at '%s' differs from release.lock; not using it", c->req->version, v.v[i]);
			continue;
		}
		rc = import_copy(c, v.v[i], out) < 0 ? 1 : 0;
	}
	strv_release(&v);
	free(real_cache);
	return rc;
}

int sdk_find_local(const char *version, char **root, char digest[65])
{
	struct strv v = { 0 };
	char *cache = sdk_cache_dir();
	char *real_cache = realpath(cache, NULL);
	int rc = 1;
	*root = NULL;
	local_candidates(&v, real_cache ? real_cache : cache);
	for (size_t i = 0; i < v.n && rc == 1; i++) {
		struct td_result td;
		if (version_matches(v.v[i], version, 0) < 0)
			continue;
		int saved = error_quiet(1);
		int r = td_compute(v.v[i], TD_DIGEST, 0, &td);
		error_quiet(saved);
		if (r < 0)
			continue;
		memcpy(digest, td.digest, 65);
		*root = xstrdup(v.v[i]);
		rc = 0;
	}
	strv_release(&v);
	free(real_cache);
	free(cache);
	return rc;
}

/* Under the entry's lock, temporary directories for it are leftovers of
 * an interrupted install (killed, power cut): remove them. */
static void remove_leftovers(const struct ctx *c)
{
	char *prefix = xasprintf(".tmp-%s-", c->name);
	size_t n = strlen(prefix);
	DIR *d = opendir(c->sdkdir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, prefix, n) != 0 || strchr(de->d_name + n, '-'))
			continue;
		char *path = xasprintf("%s/%s", c->sdkdir, de->d_name);
		remove_tree(path);
		free(path);
	}
	if (d)
		closedir(d);
	free(prefix);
}

/* ---- public entry points ---- */

static int ctx_init(struct ctx *c, const struct sdk_request *req)
{
	memset(c, 0, sizeof(*c));
	if (!req->version || !lock_is_version(req->version))
		return error("'%s' is not a Go version such as 1.26.8", req->version ? req->version : "");
	if (req->platform && !lock_is_platform(req->platform))
		return error("'%s' is not a platform such as linux-amd64", req->platform);
	c->req = req;
	c->platform = req->platform ? req->platform : sdk_host_platform();
	c->cache = req->cache_dir ? xstrdup(req->cache_dir) : sdk_cache_dir();
	c->sdkdir = xasprintf("%s/sdk", c->cache);
	c->name = xasprintf("go%s.%s", req->version, c->platform);
	c->entry = xasprintf("%s/%s", c->sdkdir, c->name);
	return mkdir_p(c->sdkdir, 0755);
}

static void ctx_release(struct ctx *c)
{
	free(c->cache);
	free(c->sdkdir);
	free(c->name);
	free(c->entry);
}

int sdk_resolve(const struct sdk_request *req, struct sdk *out)
{
	struct ctx c;
	int rc = -1, fd = -1;
	memset(out, 0, sizeof(*out));
	if (ctx_init(&c, req) < 0)
		goto out;
	if (!req->reinstall && check_entry(c.entry, req->version, c.platform, req->pin, out, 0, req->walk) == ENTRY_OK) {
		rc = 0;
		goto out;
	}
	fd = lock_entry(c.sdkdir, c.name, 0, NULL);
	if (fd < 0)
		goto out;
	remove_leftovers(&c);
	/* Someone may have installed it while we waited. */
	int state = check_entry(c.entry, req->version, c.platform, req->pin, out, 1, req->walk);
	if (state == ENTRY_OK && !req->reinstall) {
		rc = 0;
		goto out;
	}
	if (state == ENTRY_OK)
		sdk_release(out);
	if (req->cache_only) {
		error("go %s for %s is not installed in '%s'; run 'xgo-build sdk install %s'", req->version,
		      c.platform, c.cache, req->version);
		goto out;
	}
	if (state == ENTRY_BAD)
		note("removing the cache entry '%s' and installing go %s again", c.entry, req->version);
	/* A bad entry goes now; a good one (--reinstall) only when its
	 * replacement is complete and verified (commit_entry). */
	if (state == ENTRY_BAD && discard_dir(c.sdkdir, c.name, c.entry) < 0)
		goto out;
	if (!req->no_local && req->pin && req->pin->tree_digest[0] && try_local(&c, out) == 0) {
		rc = 0;
		goto out;
	}
	if (req->offline) {
		error("go %s for %s is not in the cache '%s' and --offline forbids downloading it; "
		      "run 'xgo-build sdk install' online or 'xgo-build sdk import DIR'",
		      req->version, c.platform, c.cache);
		goto out;
	}
	rc = install_download(&c, out);
out:
	unlock_entry(fd);
	ctx_release(&c);
	return rc;
}

int sdk_import(const char *dir, const struct sdk_request *req, struct sdk *out)
{
	struct ctx c;
	int rc = -1, fd = -1;
	memset(out, 0, sizeof(*out));
	if (!req->pin || !req->pin->tree_digest[0])
		return error("release.lock has no tree digest for %s; run 'xgo-build lock' first",
			     req->platform ? req->platform : sdk_host_platform());
	if (version_matches(dir, req->version, 1) < 0)
		return -1;
	if (ctx_init(&c, req) < 0)
		goto out;
	fd = lock_entry(c.sdkdir, c.name, 0, NULL);
	if (fd < 0)
		goto out;
	int state = check_entry(c.entry, req->version, c.platform, req->pin, out, 1, req->walk);
	if (state == ENTRY_OK) {
		note("go %s is already in the cache at '%s'", req->version, out->root);
		rc = 0;
		goto out;
	}
	rc = import_copy(&c, dir, out);
	if (rc == 0)
		note("imported go %s from '%s' into '%s'", req->version, dir, out->root);
out:
	unlock_entry(fd);
	ctx_release(&c);
	return rc;
}

const struct lock_platform *sdk_pin_for(const struct release *r, const char *platform, struct lock *l)
{
	char *path = r->dir ? xasprintf("%s/release.lock", r->dir) : sdk_lock_path(r->path);
	const struct lock_platform *p = NULL;
	memset(l, 0, sizeof(*l));
	if (!r->go_version) {
		error("'%s' does not pin a Go version; add a line such as go \"1.26.8\"", r->path);
		goto out;
	}
	int st = lock_read(path, l);
	if (st < 0)
		goto out;
	if (st == 1) {
		error("no '%s' pins go %s; run 'xgo-build lock' to create it", path, r->go_version);
		goto out;
	}
	if (strcmp(l->go, r->go_version) != 0) {
		error("'%s' pins go %s but '%s' asks for go %s; run 'xgo-build lock' to update it", path, l->go,
		      r->path, r->go_version);
		goto out;
	}
	p = lock_find(l, platform);
	if (!p)
		error("'%s' has no go %s archive for this host (%s); run 'xgo-build lock' here to add it", path,
		      r->go_version, platform);
out:
	free(path);
	return p;
}

int sdk_for_release(const struct release *r, const struct sdk_options *opt, struct sdk *out)
{
	struct lock l;
	const char *platform = sdk_host_platform();
	int rc = -1;
	char *mirror = NULL;
	memset(out, 0, sizeof(*out));
	const struct lock_platform *pin = sdk_pin_for(r, platform, &l);
	if (!pin)
		goto out;
	mirror = mirror_choose(opt ? opt->mirror : NULL, r->sdk_mirror);
	if (!mirror)
		goto out;
	struct sdk_request req = {
		.version = r->go_version,
		.platform = platform,
		.pin = pin,
		.mirror = mirror,
		.cache_dir = opt ? opt->cache_dir : NULL,
		.offline = opt ? opt->offline : 0,
	};
	rc = sdk_resolve(&req, out);
out:
	free(mirror);
	lock_clear(&l);
	return rc;
}

/* ---- listing and maintenance ---- */

static int cmp_sdk(const void *a, const void *b)
{
	return strcmp(((const struct sdk *)a)->entry, ((const struct sdk *)b)->entry);
}

int sdk_cache_list(const char *cache_dir, struct sdk_entry_list *out)
{
	char *sdkdir = xasprintf("%s/sdk", cache_dir);
	DIR *d = opendir(sdkdir);
	memset(out, 0, sizeof(*out));
	if (!d) {
		int rc = errno == ENOENT ? 0 : error("cannot read '%s':", sdkdir);
		free(sdkdir);
		return rc;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (de->d_name[0] == '.' || (n > 5 && !strcmp(de->d_name + n - 5, ".lock")))
			continue;
		char *entry = xasprintf("%s/%s", sdkdir, de->d_name);
		struct sdk s;
		if (record_read(entry, &s) == 0) {
			out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
			out->v[out->n++] = s;
		} else {
			/* Listed with what we know, so that gc can remove it. */
			memset(&s, 0, sizeof(s));
			s.entry = entry;
			entry = NULL;
			s.version = xstrdup("?");
			s.platform = xstrdup("?");
			out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
			out->v[out->n++] = s;
		}
		free(entry);
	}
	closedir(d);
	free(sdkdir);
	qsort(out->v, out->n, sizeof(*out->v), cmp_sdk);
	return 0;
}

void sdk_entry_list_clear(struct sdk_entry_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		sdk_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int sdk_verify_entry(const struct sdk *s)
{
	struct td_result td;
	if (!s->root || !s->tree_digest[0])
		return 0;
	if (td_compute(s->root, TD_DIGEST, 0, &td) < 0)
		return -1;
	return strcmp(td.digest, s->tree_digest) == 0;
}

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

int sdk_remove_entry(const char *cache_dir, const struct sdk *s, int busy_ok)
{
	char *sdkdir = xasprintf("%s/sdk", cache_dir);
	const char *name = base(s->entry);
	int busy = 0, rc = -1;
	int fd = lock_entry(sdkdir, name, busy_ok, &busy);
	if (fd < 0) {
		rc = busy ? 1 : -1;
		goto out;
	}
	rc = discard_dir(sdkdir, name, s->entry);
	unlock_entry(fd);
	if (rc == 0) {
		char *lockpath = xasprintf("%s/%s.lock", sdkdir, name);
		unlink(lockpath);
		free(lockpath);
	}
out:
	free(sdkdir);
	return rc;
}

/* The entry name a leftover belongs to: ".tmp-NAME-SUFFIX" or
 * "NAME.tar.gz.part" / "NAME.zip.part". */
static char *leftover_owner(const char *file)
{
	size_t n = strlen(file);
	if (!strncmp(file, ".tmp-", 5)) {
		const char *dash = strrchr(file, '-');
		if (dash && dash > file + 5)
			return xstrndup(file + 5, (size_t)(dash - file - 5));
	} else if (n > 12 && !strcmp(file + n - 12, ".tar.gz.part")) {
		return xstrndup(file, n - 12);
	} else if (n > 9 && !strcmp(file + n - 9, ".zip.part")) {
		return xstrndup(file, n - 9);
	}
	return NULL;
}

static int clean_dir(const char *dir, const char *sdkdir)
{
	DIR *d = opendir(dir);
	int removed = 0;
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char *owner = leftover_owner(de->d_name);
		if (!owner)
			continue;
		int busy;
		int fd = lock_entry(sdkdir, owner, 1, &busy);
		if (fd >= 0) {
			char *path = xasprintf("%s/%s", dir, de->d_name);
			if (remove_tree(path) == 0)
				removed++;
			free(path);
			unlock_entry(fd);
		}
		free(owner);
	}
	closedir(d);
	return removed;
}

int sdk_clean_tmp(const char *cache_dir)
{
	char *sdkdir = xasprintf("%s/sdk", cache_dir);
	char *dl = xasprintf("%s/downloads", cache_dir);
	int n = 0;
	struct stat st;
	if (stat(sdkdir, &st) == 0) {
		n += clean_dir(sdkdir, sdkdir);
		n += clean_dir(dl, sdkdir);
	}
	free(sdkdir);
	free(dl);
	return n;
}

/* ---- the guard: the fingerprint walked again while jobs build ---- */

struct sdk_guard {
	const struct sdk *sdk;
	pthread_t thread;
	pthread_mutex_t lock;
	int started, joined, rc;
	char fingerprint[TD_HEX]; /* "" when the walk failed */
};

static void *guard_walk(void *arg)
{
	struct sdk_guard *g = arg;
	struct td_result td;
	error_quiet(1); /* the waiter reports, once, on its own thread */
	if (td_compute(g->sdk->root, TD_FINGERPRINT, 1, &td) < 0)
		return NULL;
	memcpy(g->fingerprint, td.fingerprint, TD_HEX);
	/* Another stat fingerprint is not yet another tree: a copied or
	 * restored cache has new inodes and times.  The content decides. */
	if (strcmp(g->fingerprint, g->sdk->fingerprint) && g->sdk->tree_digest[0] &&
	    td_compute(g->sdk->root, TD_DIGEST, 0, &td) == 0 && !strcmp(td.digest, g->sdk->tree_digest))
		memcpy(g->fingerprint, g->sdk->fingerprint, TD_HEX);
	return NULL;
}

struct sdk_guard *sdk_guard_start(const struct sdk *s)
{
	struct sdk_guard *g = xcalloc(1, sizeof(*g));
	g->sdk = s;
	pthread_mutex_init(&g->lock, NULL);
	g->started = pthread_create(&g->thread, NULL, guard_walk, g) == 0;
	if (!g->started)
		guard_walk(g); /* no thread to be had: walk here */
	return g;
}

int sdk_guard_wait(struct sdk_guard *g)
{
	pthread_mutex_lock(&g->lock);
	if (!g->joined) {
		if (g->started)
			pthread_join(g->thread, NULL);
		g->joined = 1;
		g->rc = strcmp(g->fingerprint, g->sdk->fingerprint) ? -1 : 0;
		if (g->rc < 0) {
			char *stamp = xasprintf("%s/checked", g->sdk->entry);
			unlink(stamp);
			free(stamp);
		}
	}
	int rc = g->rc;
	pthread_mutex_unlock(&g->lock);
	if (rc < 0)
		error("the Go SDK in '%s' changed after it was verified (%s): nothing built with it is stored or "
		      "published; run again to install it afresh",
		      g->sdk->entry, g->fingerprint[0] ? "its files differ from the install record" :
		      "it cannot be walked");
	return rc;
}

void sdk_guard_free(struct sdk_guard *g)
{
	if (!g)
		return;
	if (g->started && !g->joined)
		pthread_join(g->thread, NULL);
	pthread_mutex_destroy(&g->lock);
	free(g);
}
