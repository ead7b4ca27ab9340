/* package.c - deterministic archives; the contract is in package.h. */
#define _GNU_SOURCE /* mkostemp: O_CLOEXEC without a race against spawns */
#include "package.h"
#include "fileglob.h"
#include "base/path.h"
#include "base/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_SIZE (256 * 1024)

/* One row per format.  Levels are fixed so that the output depends only on
 * the inputs and the library versions (recorded in the manifest).  gzip and
 * deflate 5: on Go binaries zlib's 6 takes 1.3-1.6x the time for 0.8-1 %
 * smaller output (9: ~3x for <1 % more), and 5 is still smaller than the
 * archives GoReleaser writes (docs/package.md).  zstd 10: near xz's size
 * for a fraction of -19's time. */
static const struct format_info {
	const char *name, *ext, *compression;
	int level, max_level;
} formats[] = {
	[PKG_TAR_GZ] = { "tar.gz", ".tar.gz", "gzip", 5, 9 },
	[PKG_TAR_XZ] = { "tar.xz", ".tar.xz", "xz", 6, 9 },
	[PKG_TAR_ZST] = { "tar.zst", ".tar.zst", "zstd", 10, 19 },
	[PKG_ZIP] = { "zip", ".zip", "deflate", 5, 9 },
	[PKG_BINARY] = { "binary", "", "none", 0, 0 },
};

int pkg_format_parse(const char *name, enum pkg_format *f)
{
	for (size_t i = 0; i < ARRAY_LEN(formats); i++) {
		if (!strcmp(name, formats[i].name)) {
			*f = (enum pkg_format)i;
			return 0;
		}
	}
	return -1;
}

const char *pkg_format_name(enum pkg_format f)
{
	return formats[f].name;
}

const char *pkg_format_ext(enum pkg_format f)
{
	return formats[f].ext;
}

char *pkg_stem(const char *archive_name, enum pkg_format f)
{
	const char *slash = strrchr(archive_name, '/');
	const char *base = slash ? slash + 1 : archive_name;
	size_t len = strlen(base), elen = strlen(formats[f].ext);
	if (elen && len > elen && !strcmp(base + len - elen, formats[f].ext))
		len -= elen;
	return xstrndup(base, len);
}

/* archive_version_details() builds its string on first use, unlocked: call
 * it once here, before threads, and hand out the result. */
static const char *writer_details;

int pkg_init(void)
{
	/* "UTC0" is a POSIX TZ string: no zoneinfo file is needed. */
	setenv("TZ", "UTC0", 1);
	tzset();
	/* libarchive 3.6 leaks a little on every call (tests/lsan.supp): once */
	if (!writer_details)
		writer_details = archive_version_details();
	return 0;
}

void pkg_entries_add(struct pkg_entries *e, const char *path, const char *src, int mode)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 8;
		e->v = xreallocarray(e->v, e->cap, sizeof(*e->v));
	}
	e->v[e->n].path = xstrdup(path);
	e->v[e->n].src = xstrdup(src);
	e->v[e->n].mode = mode;
	e->n++;
}

void pkg_entries_release(struct pkg_entries *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].path);
		free(e->v[i].src);
	}
	FREE_AND_NULL(e->v);
	e->n = e->cap = 0;
}

int pkg_check_path(const char *path)
{
	size_t len = strlen(path);
	if (!len)
		return error("empty path in archive");
	if (len > PKG_PATH_MAX)
		return error("archive path '%.40s...' is longer than %d bytes", path, PKG_PATH_MAX);
	if (path[0] == '/')
		return error("archive path '%s' is absolute", path);
	for (const char *p = path; *p; p++) {
		if (*p < 0x20 || *p > 0x7e)
			return error("archive path '%s' has a byte that is not printable ASCII", path);
		if (*p == '\\')
			return error("archive path '%s' has a backslash", path);
	}
	if (!path_components_ok(path))
		return error("archive path '%s' has an empty, '.' or '..' component", path);
	return 0;
}

/* ---- the plan: every entry of the archive, sorted ---- */

struct item {
	char *path;      /* full archive path, owned */
	const char *src; /* NULL for a directory */
	int mode;        /* 0 = from the file */
};

struct plan {
	struct item *v;
	size_t n, cap;
};

static void plan_push(struct plan *p, char *path, const char *src, int mode)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->v = xreallocarray(p->v, p->cap, sizeof(*p->v));
	}
	p->v[p->n++] = (struct item){ path, src, mode };
}

static void plan_release(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].path);
	FREE_AND_NULL(p->v);
	p->n = p->cap = 0;
}

static int item_cmp(const void *a, const void *b)
{
	/* strcmp compares as unsigned char: bytewise order. */
	return strcmp(((const struct item *)a)->path, ((const struct item *)b)->path);
}

/* Add path's file item and one directory item per parent. */
static int plan_add(struct plan *p, const char *wrap, const struct pkg_entry *e)
{
	if (pkg_check_path(e->path) < 0)
		return -1;
	if (e->mode & ~0777)
		return error("mode %o of '%s' is not a permission mode", (unsigned)e->mode, e->path);
	char *full = wrap ? xasprintf("%s/%s", wrap, e->path) : xstrdup(e->path);
	if (strlen(full) > PKG_PATH_MAX) {
		error("archive path '%.40s...' is longer than %d bytes", full, PKG_PATH_MAX);
		free(full);
		return -1;
	}
	for (const char *s = strchr(full, '/'); s; s = strchr(s + 1, '/'))
		plan_push(p, xstrndup(full, (size_t)(s - full)), NULL, 0755);
	plan_push(p, full, e->src, e->mode);
	return 0;
}

/* Sort, drop repeated directories, refuse repeated files and names that
 * are both a file and a directory. */
static int plan_finish(struct plan *p)
{
	qsort(p->v, p->n, sizeof(*p->v), item_cmp);
	size_t out = 0;
	for (size_t i = 0; i < p->n; i++) {
		struct item *prev = out ? &p->v[out - 1] : NULL;
		if (prev && !strcmp(prev->path, p->v[i].path)) {
			if (prev->src && p->v[i].src)
				return error("'%s' is listed twice in the archive", prev->path);
			if (prev->src || p->v[i].src)
				return error("'%s' is both a file and a directory in the archive",
					     prev->path);
			free(p->v[i].path);
			continue;
		}
		p->v[out++] = p->v[i];
	}
	p->n = out;
	return 0;
}

static int plan_build(const struct pkg_request *req, struct plan *p)
{
	if (req->wrap_dir && pkg_check_path(req->wrap_dir) < 0)
		return -1;
	if (!req->nentries)
		return error("archive '%s' has no files", req->dest);
	for (size_t i = 0; i < req->nentries; i++) {
		if (plan_add(p, req->wrap_dir, &req->entries[i]) < 0)
			return -1;
	}
	return plan_finish(p);
}

/* ---- the output: a temporary file, hashed as it is written ---- */

struct sink {
	int fd;
	char *tmp;          /* owned; NULL once renamed */
	struct hasher *h;
	uint64_t size;
	int err;            /* errno of the first failed write */
};

static int sink_open(struct sink *s, const char *dest)
{
	const char *slash = strrchr(dest, '/');
	if (slash)
		s->tmp = xasprintf("%.*s/.%s.tmp-XXXXXX", (int)(slash - dest), dest, slash + 1);
	else
		s->tmp = xasprintf(".%s.tmp-XXXXXX", dest);
	s->fd = mkostemp(s->tmp, O_CLOEXEC);
	if (s->fd < 0) {
		error("cannot create a temporary file for '%s':", dest);
		FREE_AND_NULL(s->tmp);
		return -1;
	}
	s->h = hasher_new(HASH_SHA256);
	s->size = 0;
	s->err = 0;
	return 0;
}

static int sink_write(struct sink *s, const void *data, size_t n)
{
	const char *p = data;
	hasher_update(s->h, p, n);
	s->size += n;
	while (n) {
		ssize_t w = write(s->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			s->err = errno;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Make the file final: permissions, mtime, data on disk, then the name. */
static int sink_commit(struct sink *s, const char *dest, int mode, int64_t mtime,
		       struct pkg_result *res)
{
	struct timespec times[2] = { { (time_t)mtime, 0 }, { (time_t)mtime, 0 } };
	if (s->err) {
		errno = s->err;
		return error("cannot write '%s':", s->tmp);
	}
	if (fchmod(s->fd, (mode_t)mode) < 0 || futimens(s->fd, times) < 0 || fsync(s->fd) < 0)
		return error("cannot write '%s':", s->tmp);
	int fd = s->fd;
	s->fd = -1;
	if (close(fd) < 0)
		return error("cannot write '%s':", s->tmp);
	if (rename(s->tmp, dest) < 0)
		return error("cannot rename '%s' to '%s':", s->tmp, dest);
	FREE_AND_NULL(s->tmp);
	hasher_final_hex(s->h, res->sha256);
	res->size = s->size;
	return 0;
}

/* Remove whatever is left: after a failure, the temporary file. */
static void sink_release(struct sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->tmp)
		unlink(s->tmp);
	FREE_AND_NULL(s->tmp);
	hasher_free(s->h);
	s->h = NULL;
	s->fd = -1;
}

static la_ssize_t sink_write_cb(struct archive *a, void *data, const void *p, size_t n)
{
	struct sink *s = data;
	if (sink_write(s, p, n) < 0) {
		archive_set_error(a, s->err, "cannot write '%s': %s", s->tmp, strerror(s->err));
		return -1;
	}
	return (la_ssize_t)n;
}

/* ---- reading sources ---- */

/* O_NOFOLLOW: src is a resolved path (pkg_expand_files), so a link found
 * here was swapped in after the check.  O_NONBLOCK: a FIFO swapped in must
 * not block the open; fstat refuses it before any read. */
static int open_source(const char *src, struct stat *st)
{
	int fd = open(src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return error("cannot read '%s':", src);
	if (fstat(fd, st) < 0) {
		error("cannot read '%s':", src);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		error("'%s' is not a regular file", src);
		close(fd);
		return -1;
	}
	return fd;
}

static int normal_mode(int mode, const struct stat *st)
{
	if (mode)
		return mode;
	return (st->st_mode & 0111) ? 0755 : 0644;
}

/* Read exactly size bytes of fd into chunks handed to put(); a file that
 * shrinks or grows meanwhile is an error, not a silently different archive. */
static int copy_source(int fd, const char *src, uint64_t size, char *chunk,
		       int (*put)(void *, const void *, size_t), void *ctx)
{
	uint64_t left = size;
	while (left) {
		size_t want = left < CHUNK_SIZE ? (size_t)left : CHUNK_SIZE;
		ssize_t n = read(fd, chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error("cannot read '%s':", src);
		if (n == 0)
			return error("'%s' changed while being archived", src);
		if (put(ctx, chunk, (size_t)n) < 0)
			return -1;
		left -= (uint64_t)n;
	}
	ssize_t extra = read(fd, chunk, 1);
	if (extra != 0)
		return error("'%s' changed while being archived", src);
	return 0;
}

/* ---- tar and zip ---- */

struct archive_ctx {
	struct archive *a;
	const char *dest;
};

static int archive_put(void *ctx, const void *p, size_t n)
{
	struct archive_ctx *c = ctx;
	la_ssize_t w = archive_write_data(c->a, p, n);
	if (w < 0 || (size_t)w != n)
		return error("cannot write '%s': %s", c->dest, archive_error_string(c->a));
	return 0;
}

/* A fresh entry with the fixed metadata: owner 0/0, no names, no times but
 * mtime (archive_entry_new leaves atime, ctime and birthtime unset). */
static struct archive_entry *new_entry(const char *path, int type, int mode, int64_t mtime)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		fatal(EXIT_JOB, "out of memory");
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, (unsigned)type);
	archive_entry_set_perm(e, (mode_t)mode);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	return e;
}

static int write_item(struct archive_ctx *c, const struct item *it, int64_t mtime, char *chunk)
{
	int rc = -1, fd = -1;
	struct stat st;
	struct archive_entry *e = NULL;
	if (!it->src) {
		e = new_entry(it->path, AE_IFDIR, 0755, mtime);
		if (archive_write_header(c->a, e) != ARCHIVE_OK)
			goto archive_failed;
		rc = 0;
		goto out;
	}
	fd = open_source(it->src, &st);
	if (fd < 0)
		goto out;
	e = new_entry(it->path, AE_IFREG, normal_mode(it->mode, &st), mtime);
	archive_entry_set_size(e, st.st_size);
	if (archive_write_header(c->a, e) != ARCHIVE_OK)
		goto archive_failed;
	if (copy_source(fd, it->src, (uint64_t)st.st_size, chunk, archive_put, c) < 0)
		goto out;
	if (archive_write_finish_entry(c->a) != ARCHIVE_OK)
		goto archive_failed;
	rc = 0;
	goto out;
archive_failed:
	error("cannot write '%s' into '%s': %s", it->path, c->dest, archive_error_string(c->a));
out:
	if (fd >= 0)
		close(fd);
	archive_entry_free(e);
	return rc;
}

/* Format, filter and their options.  pax_restricted is ustar unless a name
 * does not fit; its extended headers then carry only what is needed (path),
 * never atime/ctime, because the entries have none. */
static int setup_archive(struct archive *a, enum pkg_format f, int level, const char *dest)
{
	char opts[128];
	int r;
	if (f == PKG_ZIP) {
		r = archive_write_set_format_zip(a);
		if (r == ARCHIVE_OK) {
			snprintf(opts, sizeof(opts),
				 "zip:compression=deflate,zip:compression-level=%d,zip:!experimental",
				 level);
			r = archive_write_set_options(a, opts);
		}
	} else {
		r = archive_write_set_format_pax_restricted(a);
		if (r == ARCHIVE_OK && f == PKG_TAR_GZ) {
			r = archive_write_add_filter_gzip(a);
			snprintf(opts, sizeof(opts), "gzip:!timestamp,gzip:compression-level=%d", level);
		} else if (r == ARCHIVE_OK && f == PKG_TAR_XZ) {
			r = archive_write_add_filter_xz(a);
			/* One thread: multi-threaded xz splits blocks differently. */
			snprintf(opts, sizeof(opts), "xz:compression-level=%d,xz:threads=1", level);
		} else if (r == ARCHIVE_OK) {
			r = archive_write_add_filter_zstd(a);
			snprintf(opts, sizeof(opts), "zstd:compression-level=%d", level);
		}
		if (r == ARCHIVE_OK)
			r = archive_write_set_options(a, opts);
	}
	if (r != ARCHIVE_OK)
		return error("cannot set up '%s': %s", dest, archive_error_string(a));
	return 0;
}

static int level_of(const struct pkg_request *req)
{
	return req->level ? req->level : formats[req->format].level;
}

static int write_archive(const struct pkg_request *req, const struct plan *p, struct sink *s)
{
	int rc = -1;
	char *chunk = xmalloc(CHUNK_SIZE);
	struct archive_ctx c = { archive_write_new(), req->dest };
	if (!c.a)
		fatal(EXIT_JOB, "out of memory");
	if (setup_archive(c.a, req->format, level_of(req), req->dest) < 0)
		goto out;
	/* No padding of the output to a 10 KiB block: gzip -d and unzip would
	 * see trailing garbage. */
	archive_write_set_bytes_in_last_block(c.a, 1);
	if (archive_write_open(c.a, s, NULL, sink_write_cb, NULL) != ARCHIVE_OK) {
		error("cannot write '%s': %s", req->dest, archive_error_string(c.a));
		goto out;
	}
	for (size_t i = 0; i < p->n; i++) {
		if (write_item(&c, &p->v[i], req->mtime, chunk) < 0)
			goto out;
	}
	if (archive_write_close(c.a) != ARCHIVE_OK) {
		error("cannot write '%s': %s", req->dest, archive_error_string(c.a));
		goto out;
	}
	rc = 0;
out:
	archive_write_free(c.a);
	free(chunk);
	return rc;
}

/* ---- binary: a raw copy of the single file ---- */

static int sink_put(void *ctx, const void *p, size_t n)
{
	struct sink *s = ctx;
	if (sink_write(s, p, n) < 0) {
		errno = s->err;
		return error("cannot write '%s':", s->tmp);
	}
	return 0;
}

static int write_binary(const struct pkg_request *req, struct sink *s, int *mode)
{
	struct stat st;
	if (req->nentries != 1)
		return error("binary archive '%s' must have exactly one file, not %zu",
			     req->dest, req->nentries);
	const struct pkg_entry *e = &req->entries[0];
	int fd = open_source(e->src, &st);
	if (fd < 0)
		return -1;
	char *chunk = xmalloc(CHUNK_SIZE);
	int rc = copy_source(fd, e->src, (uint64_t)st.st_size, chunk, sink_put, s);
	free(chunk);
	close(fd);
	*mode = normal_mode(e->mode, &st);
	return rc;
}

/* zip stores local DOS times (libarchive uses localtime_r): refuse to
 * write one unless the process zone is UTC, i.e. pkg_init() ran, and the
 * time fits the DOS range, which starts in 1980. */
static int check_zip_time(const char *dest, int64_t mtime)
{
	time_t t = (time_t)mtime;
	if (mtime < 315532800)
		return error("zip archive '%s' needs SOURCE_DATE_EPOCH >= 315532800 (1980-01-01)",
			     dest);
	struct tm local, utc;
	if (!localtime_r(&t, &local) || !gmtime_r(&t, &utc))
		return error("cannot convert time %lld", (long long)mtime);
	if (local.tm_hour != utc.tm_hour || local.tm_min != utc.tm_min ||
	    local.tm_mday != utc.tm_mday || local.tm_year != utc.tm_year)
		return error("zip archives need TZ=UTC: call pkg_init() at startup");
	return 0;
}

int pkg_write(const struct pkg_request *req, struct pkg_result *res)
{
	int rc = -1, mode = 0644;
	struct plan p = { 0 };
	struct sink s = { .fd = -1 };
	if ((unsigned)req->format >= ARRAY_LEN(formats))
		return error("unknown archive format %d for '%s'", (int)req->format, req->dest);
	if (req->mtime < 0)
		return error("negative SOURCE_DATE_EPOCH for '%s'", req->dest);
	if (req->level < 0 || req->level > formats[req->format].max_level)
		return error("compression level %d of '%s' is not in 1..%d", req->level,
			     req->dest, formats[req->format].max_level);
	if (req->format == PKG_ZIP && check_zip_time(req->dest, req->mtime) < 0)
		return -1;
	if (req->format != PKG_BINARY && plan_build(req, &p) < 0)
		goto out;
	if (sink_open(&s, req->dest) < 0)
		goto out;
	if (req->format == PKG_BINARY) {
		if (write_binary(req, &s, &mode) < 0)
			goto out;
	} else if (write_archive(req, &p, &s) < 0) {
		goto out;
	}
	if (sink_commit(&s, req->dest, mode, req->mtime, res) < 0)
		goto out;
	pkg_describe(req, res);
	rc = 0;
out:
	sink_release(&s);
	plan_release(&p);
	return rc;
}

void pkg_describe(const struct pkg_request *req, struct pkg_result *res)
{
	res->compression = formats[req->format].compression;
	res->level = level_of(req);
	res->writer = writer_details ? writer_details : archive_version_string();
}

/* ---- extra files from release.lua ---- */

/* The archive path of match (relative to the project) for file f. */
static char *archive_path_for(const struct archive_file *f, const char *rel)
{
	if (!f->dst)
		return xstrdup(rel);
	size_t dlen = strlen(f->dst);
	int is_dir = strpbrk(f->src, "*?[") || (dlen && f->dst[dlen - 1] == '/');
	if (!is_dir)
		return xstrdup(f->dst);
	while (dlen && f->dst[dlen - 1] == '/')
		dlen--;
	const char *slash = strrchr(rel, '/');
	return xasprintf("%.*s/%s", (int)dlen, f->dst, slash ? slash + 1 : rel);
}

/* Add the glob match dir/rel.  Its archive path is rel as written; its
 * source is the resolved path, which must stay inside dir through every
 * symlink (a link out of the project would publish another file's bytes)
 * and be a regular file (a FIFO would block the writer, a device never
 * end). */
static int add_match(const char *dir, const struct archive_file *f, const char *rel,
		     struct pkg_entries *out)
{
	char *what = xasprintf("file pattern '%s': match", f->src), *real = NULL, *path = NULL;
	struct stat st;
	int rc = -1;
	if (path_inside(what, dir, rel, &real) < 0)
		goto out;
	if (lstat(real, &st) < 0)
		error("cannot read '%s' (from '%s'):", rel, f->src);
	else if (S_ISDIR(st.st_mode))
		error("'%s' (from '%s') is a directory: list the files in it, or write '%s/**'", rel, f->src, rel);
	else if (!S_ISREG(st.st_mode))
		error("'%s' (from '%s') is not a regular file", rel, f->src);
	else if (pkg_check_path(path = archive_path_for(f, rel)) == 0)
		rc = 0;
	if (rc == 0)
		pkg_entries_add(out, path, real, f->mode);
out:
	free(path);
	free(real);
	free(what);
	return rc;
}

static int expand_one(const char *dir, const struct archive_file *f, struct pkg_entries *out)
{
	struct strv m = { 0 };
	const char *src = f->src;
	int rc = -1;
	if (src[0] == '/')
		return error("file pattern '%s' must be relative to the project", src);
	while (src[0] == '.' && src[1] == '/')
		src += 2; /* "./LICENSE" is "LICENSE", not an archive path with "." */
	if (fg_match(dir, src, &m) < 0)
		goto out;
	if (m.n == 0 && !f->optional) {
		error("file pattern '%s' matches no file in '%s' (mark it optional = true if that is fine)", f->src,
		      dir);
		goto out;
	}
	for (size_t i = 0; i < m.n; i++)
		if (add_match(dir, f, m.v[i], out) < 0)
			goto out;
	rc = 0;
out:
	strv_release(&m);
	return rc;
}

int pkg_expand_files(const char *project_dir, const struct archive_file *files,
		     size_t nfiles, struct pkg_entries *out)
{
	const char *dir = project_dir && *project_dir ? project_dir : ".";
	for (size_t i = 0; i < nfiles; i++) {
		if (expand_one(dir, &files[i], out) < 0)
			return -1;
	}
	return 0;
}
