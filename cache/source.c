#define _GNU_SOURCE
#include "source.h"
#include "base/hash.h"
#include "base/util.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* nftw has no user pointer: the walk's state lives here, one walk at a
 * time (source_digest is not reentrant). */
static struct {
	struct strv paths;
	size_t root_len;
	const char *const *skip;
	int overflow;
} walk;

/* path is skip (a directory the run writes), or its sibling
 * <skip>.tmp-N / <skip>.old-N (a staging directory of a run). */
static int is_output(const char *path, const char *skip)
{
	size_t n = strlen(skip);
	if (strncmp(path, skip, n))
		return 0;
	if (!path[n])
		return 1;
	if (strncmp(path + n, ".tmp-", 5) && strncmp(path + n, ".old-", 5))
		return 0;
	const char *pid = path + n + 5;
	return *pid && strspn(pid, "0123456789") == strlen(pid);
}

/* Version-control metadata and the default work dir, at the top only:
 * below it a directory of any name is a source (go:embed may read it). */
static int skipped_dir(const char *path, const char *name, int top)
{
	static const char *const top_only[] = { ".git", ".hg", ".svn", ".xgo-build" };
	for (size_t i = 0; top && i < ARRAY_LEN(top_only); i++)
		if (!strcmp(name, top_only[i]))
			return 1;
	for (size_t i = 0; walk.skip && walk.skip[i]; i++)
		if (is_output(path, walk.skip[i]))
			return 1;
	return 0;
}

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	if (ftw->level == 0)
		return FTW_CONTINUE;
	if (flag == FTW_D)
		return skipped_dir(path, path + ftw->base, ftw->level == 1) ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
	if (flag == FTW_F || flag == FTW_SL) {
		if (walk.paths.n >= SOURCE_MAX_FILES) {
			walk.overflow = 1;
			return FTW_STOP;
		}
		strv_push(&walk.paths, path + walk.root_len + 1);
	}
	return FTW_CONTINUE;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int add_record(void *ctx, const char *dir, const char *rel)
{
	struct hasher *h = ctx;
	char *full = xasprintf("%s/%s", dir, rel);
	char hex[HASH_HEX_MAX], *rec = NULL;
	struct stat st;
	int rc = -1;
	if (lstat(full, &st) < 0) {
		error("cannot read '%s':", full);
		goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlink(full, target, sizeof(target));
		if (n < 0) {
			error("cannot read link '%s':", full);
			goto out;
		}
		hash_bytes_hex(HASH_SHA256, target, (size_t)n, hex);
		rec = xasprintf("l %s %s", hex, rel);
	} else {
		uint64_t size;
		if (hash_file_hex(HASH_SHA256, full, hex, &size) < 0)
			goto out;
		rec = xasprintf("f %s %llu %s %s", (st.st_mode & 0111) ? "755" : "644", (unsigned long long)size,
				hex, rel);
	}
	hasher_update(h, rec, strlen(rec) + 1); /* with the NUL */
	rc = 0;
out:
	free(rec);
	free(full);
	return rc;
}

/* A file a C compile or a cgo link may read (source.h). */
static int is_c_input(const char *rel)
{
	static const char *const exts[] = { "h", "hh", "hpp", "hxx", "inc", "inl", "def", "ipp", "tcc", "c", "cc",
					    "cpp", "cxx", "m", "mm", "S", "s", "a", "o", "so", "syso", "lib" };
	const char *base = strrchr(rel, '/'), *dot = strrchr(base ? base + 1 : rel, '.');
	for (size_t i = 0; dot && i < ARRAY_LEN(exts); i++)
		if (!strcmp(dot + 1, exts[i]))
			return 1;
	return 0;
}

/* The directory part of rel ("" at the top), as a length. */
static size_t dir_len(const char *rel)
{
	const char *slash = strrchr(rel, '/');
	return slash ? (size_t)(slash - rel) : 0;
}

/* Does the sorted path list hold a .go file directly in rel's directory?
 * Then it is a package directory, whose C files Go hashes itself. */
static int in_go_dir(const struct strv *paths, const char *rel)
{
	size_t n = dir_len(rel);
	for (size_t i = 0; i < paths->n; i++) {
		const char *p = paths->v[i];
		size_t len = strlen(p);
		if (dir_len(p) == n && !strncmp(p, rel, n) && len > 3 && !strcmp(p + len - 3, ".go"))
			return 1;
	}
	return 0;
}

static unsigned long c_inputs_hashed; /* by the walk of source_c_digest */

static int add_c_record(void *ctx, const char *dir, const char *rel)
{
	if (!is_c_input(rel) || in_go_dir(&walk.paths, rel))
		return 0;
	c_inputs_hashed++;
	return add_record(ctx, dir, rel);
}

/* The fingerprint's two digests: stat data (anything written), and names
 * (a file added, removed or renamed, a link retargeted, a go.mod edited:
 * what can change go list's answer besides the files it names). */
struct fingerprint {
	struct hasher *stat, *names;
};

static int stat_record(void *ctx, const char *dir, const char *rel)
{
	struct fingerprint *fp = ctx;
	char *full = xasprintf("%s/%s", dir, rel);
	struct stat st;
	int rc = lstat(full, &st);
	if (rc < 0) {
		error("cannot read '%s':", full);
		goto out;
	}
	char rec[128];
	int n = snprintf(rec, sizeof(rec), "%o %lld %lld.%09ld %lld.%09ld %llu ", (unsigned)st.st_mode,
			 (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			 (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec, (unsigned long long)st.st_ino);
	hasher_update(fp->stat, rec, (size_t)n);
	hasher_update(fp->stat, rel, strlen(rel) + 1);
	const char *base = strrchr(rel, '/');
	char hex[HASH_HEX_MAX] = "";
	if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t len = readlink(full, target, sizeof(target));
		hash_bytes_hex(HASH_SHA256, target, len > 0 ? (size_t)len : 0, hex);
	} else if (!strcmp(base ? base + 1 : rel, "go.mod") && hash_file_hex(HASH_SHA256, full, hex, NULL) < 0) {
		rc = -1;
		goto out;
	}
	hasher_update(fp->names, S_ISLNK(st.st_mode) ? "l" : "f", 1);
	hasher_update(fp->names, hex, strlen(hex) + 1);
	hasher_update(fp->names, rel, strlen(rel) + 1);
out:
	free(full);
	return rc;
}

/* Walk dir and feed one record per file, in path order, to h. */
static int walk_tree(const char *dir, const char *const *skip, void *ctx,
		     int (*record)(void *, const char *, const char *))
{
	int rc = -1;
	memset(&walk, 0, sizeof(walk));
	walk.root_len = strlen(dir);
	walk.skip = skip;
	if (nftw(dir, visit, 32, FTW_PHYS | FTW_ACTIONRETVAL) < 0) {
		error("cannot walk '%s':", dir);
		goto out;
	}
	if (walk.overflow) {
		error("'%s' has more than %d files: is it really one Go project?", dir, SOURCE_MAX_FILES);
		goto out;
	}
	qsort(walk.paths.v, walk.paths.n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < walk.paths.n; i++)
		if (record(ctx, dir, walk.paths.v[i]) < 0)
			goto out;
	rc = 0;
out:
	return rc;
}

int source_fingerprint(const char *dir, const char *const *skip, char out[65], char names[65])
{
	struct fingerprint fp = { hasher_new(HASH_SHA256), hasher_new(HASH_SHA256) };
	int rc = walk_tree(dir, skip, &fp, stat_record);
	if (rc == 0) {
		hasher_final_hex(fp.stat, out);
		hasher_final_hex(fp.names, names);
	}
	hasher_free(fp.stat);
	hasher_free(fp.names);
	strv_release(&walk.paths);
	return rc;
}

static int digest_of(const char *dir, const char *const *skip, char out[65], unsigned long *files,
		     int (*record)(void *, const char *, const char *))
{
	int rc = -1;
	struct hasher *h = hasher_new(HASH_SHA256);
	if (walk_tree(dir, skip, h, record) < 0) {
		hasher_free(h);
		goto out;
	}
	char hex[HASH_HEX_MAX];
	hasher_final_hex(h, hex);
	hasher_free(h);
	memcpy(out, hex, 65);
	if (files)
		*files = (unsigned long)walk.paths.n;
	rc = 0;
out:
	strv_release(&walk.paths);
	return rc;
}

int source_digest(const char *dir, const char *const *skip, char out[65], unsigned long *files)
{
	return digest_of(dir, skip, out, files, add_record);
}

int source_c_digest(const char *dir, const char *const *skip, char out[65], unsigned long *inputs)
{
	c_inputs_hashed = 0;
	int rc = digest_of(dir, skip, out, NULL, add_c_record);
	*inputs = c_inputs_hashed;
	return rc;
}
