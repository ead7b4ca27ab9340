/* treedigest.c - see treedigest.h for the exact definitions. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include "treedigest.h"
#include "base/hash.h"
#include "base/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ent {
	char *path;
	struct stat st;
	char hash[TD_HEX]; /* file contents or symlink target */
};

struct walk {
	const char *root;
	int rootfd;
	int skip_pycache; /* TD_SKIP_PYCACHE */
	struct ent *v;
	size_t n, cap;
};

static int push(struct walk *w, const char *path, const struct stat *st)
{
	if (w->n >= TD_MAX_ENTRIES)
		return error("'%s' has more than %d entries; refusing to walk it", w->root, TD_MAX_ENTRIES);
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 1024;
		w->v = xreallocarray(w->v, w->cap, sizeof(*w->v));
	}
	struct ent *e = &w->v[w->n++];
	e->path = xstrdup(path);
	e->st = *st;
	e->hash[0] = '\0';
	return 0;
}

/* Depth-first walk of the directory open at fd, whose path is rel
 * ("" for the root).  Takes ownership of fd.  depth bounds the open
 * directories. */
static int walk_dir(struct walk *w, int fd, const char *rel, int depth)
{
	int rc = -1;
	if (depth > TD_MAX_DEPTH) {
		close(fd);
		return error("'%s/%s' is nested more than %d directories deep", w->root, rel, TD_MAX_DEPTH);
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return error("cannot open directory '%s/%s':", w->root, rel);
	}
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno) {
				error("cannot read directory '%s/%s':", w->root, rel);
				goto out;
			}
			break;
		}
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		char path[TD_MAX_PATH];
		int len = snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "", name);
		if (len < 0 || (size_t)len >= sizeof(path)) {
			error("path too long under '%s': '%s/%s'", w->root, rel, name);
			goto out;
		}
		struct stat st;
		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			error("cannot stat '%s/%s':", w->root, path);
			goto out;
		}
		if (w->skip_pycache && S_ISDIR(st.st_mode) && !strcmp(name, "__pycache__"))
			continue;
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
			error("'%s/%s' is not a file, directory or symlink; an SDK tree holds only those", w->root, path);
			goto out;
		}
		if (push(w, path, &st) < 0)
			goto out;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				error("cannot open directory '%s/%s':", w->root, path);
				goto out;
			}
			if (walk_dir(w, sub, path, depth + 1) < 0)
				goto out;
		}
	}
	rc = 0;
out:
	closedir(d);
	return rc;
}

static int cmp_ent(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->path, ((const struct ent *)b)->path);
}

/* File hashing, shared between threads: each takes the next index. */
struct pool {
	struct walk *w;
	atomic_size_t next;
	atomic_int failed;
	size_t fail_index;
	int fail_errno;
	pthread_mutex_t mu;
};

static int hash_one(struct walk *w, struct ent *e, unsigned char *chunk, size_t chunk_size)
{
	if (S_ISLNK(e->st.st_mode)) {
		char target[TD_MAX_PATH];
		ssize_t n = readlinkat(w->rootfd, e->path, target, sizeof(target));
		if (n < 0)
			return -1;
		if ((size_t)n >= sizeof(target)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		char hex[HASH_HEX_MAX];
		hash_bytes_hex(HASH_SHA256, target, (size_t)n, hex);
		memcpy(e->hash, hex, TD_HEX);
		return 0;
	}
	int fd = openat(w->rootfd, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct hasher *h = hasher_new(HASH_SHA256);
	uint64_t total = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, chunk, chunk_size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		hasher_update(h, chunk, (size_t)n);
		total += (uint64_t)n;
	}
	int saved = errno;
	close(fd);
	/* A file that changed size while we read it is not the file we saw. */
	if (rc == 0 && total != (uint64_t)e->st.st_size) {
		saved = EAGAIN;
		rc = -1;
	}
	if (rc == 0) {
		char hex[HASH_HEX_MAX];
		hasher_final_hex(h, hex);
		memcpy(e->hash, hex, TD_HEX);
	}
	hasher_free(h);
	errno = saved;
	return rc;
}

static void *hash_worker(void *arg)
{
	struct pool *p = arg;
	size_t chunk_size = 1 << 18;
	unsigned char *chunk = xmalloc(chunk_size);
	for (;;) {
		if (atomic_load(&p->failed))
			break;
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->w->n)
			break;
		struct ent *e = &p->w->v[i];
		if (S_ISDIR(e->st.st_mode))
			continue;
		if (hash_one(p->w, e, chunk, chunk_size) < 0) {
			pthread_mutex_lock(&p->mu);
			if (!atomic_load(&p->failed)) {
				p->fail_index = i;
				p->fail_errno = errno;
				atomic_store(&p->failed, 1);
			}
			pthread_mutex_unlock(&p->mu);
			break;
		}
	}
	free(chunk);
	return NULL;
}

static int hash_all(struct walk *w, int threads)
{
	struct pool p = { .w = w };
	atomic_init(&p.next, 0);
	atomic_init(&p.failed, 0);
	pthread_mutex_init(&p.mu, NULL);
	if (threads <= 0) {
		/* Two readers keep one core hashing while the other waits on I/O;
		 * more buys little on the disks SDK caches live on. */
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		const char *env = getenv("XGO_TD_THREADS");
		threads = env && atoi(env) > 0 ? atoi(env) : ncpu >= 2 ? 2 : 1;
	}
	if (threads > 8)
		threads = 8;
	pthread_t tid[8];
	int started = 0;
	for (int i = 1; i < threads; i++) {
		if (pthread_create(&tid[started], NULL, hash_worker, &p) != 0)
			break;
		started++;
	}
	hash_worker(&p);
	for (int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&p.mu);
	if (atomic_load(&p.failed)) {
		errno = p.fail_errno;
		if (errno == EAGAIN)
			return error("'%s/%s' changed while it was being hashed", w->root, w->v[p.fail_index].path);
		return error("cannot read '%s/%s':", w->root, w->v[p.fail_index].path);
	}
	return 0;
}

static void feed(struct hasher *h, const char *s)
{
	hasher_update(h, s, strlen(s) + 1); /* with the NUL */
}

static void final_hex(struct hasher *h, char out[TD_HEX])
{
	char hex[HASH_HEX_MAX];
	hasher_final_hex(h, hex);
	memcpy(out, hex, TD_HEX);
}

static void digest_records(struct walk *w, char out[TD_HEX])
{
	struct hasher *h = hasher_new(HASH_SHA256);
	char head[160];
	for (size_t i = 0; i < w->n; i++) {
		const struct ent *e = &w->v[i];
		if (S_ISDIR(e->st.st_mode))
			snprintf(head, sizeof(head), "d ");
		else if (S_ISLNK(e->st.st_mode))
			snprintf(head, sizeof(head), "l %s ", e->hash);
		else
			snprintf(head, sizeof(head), "f %s %" PRIu64 " %s ",
				 (e->st.st_mode & 0111) ? "755" : "644", (uint64_t)e->st.st_size, e->hash);
		hasher_update(h, head, strlen(head));
		feed(h, e->path);
	}
	final_hex(h, out);
	hasher_free(h);
}

static void fingerprint_records(struct walk *w, char out[TD_HEX])
{
	struct hasher *h = hasher_new(HASH_SHA256);
	char line[200];
	for (size_t i = 0; i < w->n; i++) {
		const struct stat *st = &w->v[i].st;
		feed(h, w->v[i].path);
		snprintf(line, sizeof(line), "%lo %" PRIu64 " %" PRIu64 " %lld%09ld %lld%09ld\n",
			 (unsigned long)st->st_mode, (uint64_t)st->st_size, (uint64_t)st->st_ino,
			 (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
			 (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
		hasher_update(h, line, strlen(line));
	}
	final_hex(h, out);
	hasher_free(h);
}

int td_compute(const char *root, int flags, int threads, struct td_result *out)
{
	int rc = -1;
	struct walk w = { .root = root, .rootfd = -1, .skip_pycache = !!(flags & TD_SKIP_PYCACHE) };
	memset(out, 0, sizeof(*out));
	w.rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w.rootfd < 0)
		return error("cannot open directory '%s':", root);
	int fd = dup(w.rootfd);
	if (fd < 0) {
		error("cannot open directory '%s':", root);
		goto out;
	}
	if (walk_dir(&w, fd, "", 0) < 0)
		goto out;
	qsort(w.v, w.n, sizeof(*w.v), cmp_ent);
	for (size_t i = 0; i < w.n; i++) {
		if (S_ISREG(w.v[i].st.st_mode)) {
			out->files++;
			out->bytes += (uint64_t)w.v[i].st.st_size;
		}
	}
	if (flags & TD_DIGEST) {
		if (hash_all(&w, threads) < 0)
			goto out;
		digest_records(&w, out->digest);
	}
	if (flags & TD_FINGERPRINT)
		fingerprint_records(&w, out->fingerprint);
	rc = 0;
out:
	for (size_t i = 0; i < w.n; i++)
		free(w.v[i].path);
	free(w.v);
	close(w.rootfd);
	return rc;
}
