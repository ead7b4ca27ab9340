/* gocache_server.c - the run's side of the cache program (gocache.h): a
 * Unix socket in the work directory where the jobs' programs ask for
 * remote objects and hand over new ones, which one thread uploads.
 *
 * Lines from a program: "get ACTION" (answered "1\n" when the object is in
 * the store now, "0\n" when not), "put ACTION" (queued for upload, no
 * answer) and "stats HITS MISSES PUTS" (its counts, at close).  Uploads
 * run on UPLOADERS threads over the remote's kept-alive connections, so
 * the ones still queued when the last job ends take little time.
 */
#define _GNU_SOURCE
#include "gocache.h"
#include "acsign.h"
#include "base/hash.h"
#include "remote.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_MAX 65536  /* uploads waiting; more are dropped (a later run uploads them) */
#define UPLOADERS 4       /* threads: a request waits on the network, not the CPU */
#define DISK_RESERVE (256ULL << 20)

struct gocache_server {
	struct gocache_store *store;
	struct remote *remote;
	const struct acsign *keys;
	uint64_t max;
	char *sock;
	int lfd, stop_pipe[2];
	pthread_t accept_thread, uploaders[UPLOADERS];
	int accepting;           /* accept_thread runs */
	int nuploaders;          /* uploaders started */
	pthread_mutex_t mu;
	pthread_cond_t cond;     /* the queue grew, a connection ended, or stop */
	struct strv queue;       /* actions to upload */
	size_t qhead;
	int conns, stopping;
	struct gocache_stats st; /* under mu */
	atomic_int warned;
};

/* One warning for the whole run: the rest are counted. */
static void problem(struct gocache_server *srv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct gocache_server *srv, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&srv->mu);
	srv->st.warnings++;
	pthread_mutex_unlock(&srv->mu);
	if (atomic_exchange(&srv->warned, 1))
		return;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	warn("remote cache %s: %s; the go command builds it instead (further problems of this run are counted, not "
	     "shown)",
	     remote_url(srv->remote), msg);
	free(msg);
}

static void count(struct gocache_server *srv, unsigned long *field, uint64_t *bytes, uint64_t n)
{
	pthread_mutex_lock(&srv->mu);
	(*field)++;
	if (bytes)
		*bytes += n;
	pthread_mutex_unlock(&srv->mu);
}

static int room_for(struct gocache_server *srv, const char *action, uint64_t size, const char *dir)
{
	struct statvfs vfs;
	if (size > srv->max) {
		problem(srv, "the go build cache entry %.12s claims %" PRIu64 " bytes, more than the limit of %" PRIu64
			" (XGO_REMOTE_CACHE_MAX_BYTES)", action, size, srv->max);
		return 0;
	}
	if (statvfs(dir, &vfs) == 0) {
		uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		if (avail < DISK_RESERVE || avail - DISK_RESERVE < size) {
			problem(srv, "the go build cache entry %.12s claims %" PRIu64 " bytes, more than the free space "
				"less 256 MiB", action, size);
			return 0;
		}
	}
	return 1;
}

/* The remote entry of action, checked: 0 with output and size, else -1. */
static int remote_entry(struct gocache_server *srv, const char *action, char output[65], uint64_t *size)
{
	char *path = xasprintf("gocache/%s", action), *text = NULL, *sig = NULL;
	size_t len;
	int rc = -1, got = remote_get(srv->remote, path, GOCACHE_ENTRY_MAX, &text, &len);
	if (got == REMOTE_TOO_LARGE)
		problem(srv, "%s is longer than an entry can be", path);
	else if (got == 1 && gocache_entry_parse(text, len, action, output, size, &sig) < 0)
		problem(srv, "%s is not a go build cache entry for that action", path);
	else if (got == 1 && srv->keys->ntrusted) {
		struct buf b;
		gocache_canonical(&b, action, output, *size);
		if (acsign_verify(srv->keys, b.data, b.len, sig))
			rc = 0;
		else
			problem(srv, "%s is %s", path, sig ? "not signed by a trusted key" : "unsigned");
		buf_release(&b);
	} else if (got == 1) {
		rc = 0;
	}
	free(sig);
	free(text);
	free(path);
	return rc;
}

/* Fetch action's entry and object into the store: 1 when it is there. */
static int fetch(struct gocache_server *srv, const char *action)
{
	char output[65], have[65], hex[HASH_HEX_MAX];
	uint64_t size, have_size, got_size;
	if (gocache_lookup(srv->store, action, have, &have_size))
		return 1; /* another job fetched or built it meanwhile */
	if (remote_entry(srv, action, output, &size) < 0) {
		count(srv, &srv->st.remote_misses, NULL, 0);
		return 0;
	}
	char *tmp = gocache_tmp_path(srv->store), *path = xasprintf("cas/%s", output);
	char *text = gocache_entry_text(NULL, action, output, size), *obj = gocache_object_path(srv->store, output);
	int rc = 0;
	struct stat st;
	if (lstat(obj, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size) {
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644); /* commit consumes it */
		if (fd >= 0)
			close(fd);
		rc = text && fd >= 0 && gocache_commit(srv->store, tmp, action, output, size, text) == 0;
		goto out;
	}
	if (!room_for(srv, action, size, obj))
		goto out;
	int got = remote_get_file(srv->remote, path, tmp, (size_t)size);
	if (got == REMOTE_TOO_LARGE)
		problem(srv, "%s is longer than the %" PRIu64 " bytes its entry says", path, size);
	else if (got == 1 && (hash_file_hex(HASH_SHA256, tmp, hex, &got_size) < 0 || strcmp(hex, output) ||
			      got_size != size))
		problem(srv, "%s does not have the sha256 and size its entry %.12s says", path, action);
	else if (got == 1 && text && gocache_commit(srv->store, tmp, action, output, size, text) == 0) {
		rc = 1;
		count(srv, &srv->st.remote_hits, &srv->st.bytes_down, size + strlen(text));
	}
	if (got == 0)
		problem(srv, "%s is missing (its entry %.12s names it)", path, action);
out:
	if (!rc)
		count(srv, &srv->st.remote_misses, NULL, 0);
	unlink(tmp);
	free(tmp);
	free(path);
	free(text);
	free(obj);
	return rc;
}

/* Upload one action's entry and object (the object first: an entry never
 * names what is not there). */
static void upload(struct gocache_server *srv, const char *action)
{
	char output[65];
	uint64_t size;
	if (!gocache_lookup(srv->store, action, output, &size))
		return;
	char *cas = xasprintf("cas/%s", output), *ac = xasprintf("gocache/%s", action);
	char *obj = gocache_object_path(srv->store, output), *text = gocache_entry_text(srv->keys, action, output, size);
	int have = remote_head(srv->remote, cas);
	uint64_t sent = 0;
	if (have == 0 && remote_put_file(srv->remote, cas, obj) == 0)
		have = 1, sent = size;
	if (have == 1 && text && remote_put(srv->remote, ac, text, strlen(text)) == 0)
		count(srv, &srv->st.uploads, &srv->st.bytes_up, sent + strlen(text));
	free(cas);
	free(ac);
	free(obj);
	free(text);
}

static void *upload_main(void *arg)
{
	struct gocache_server *srv = arg;
	pthread_mutex_lock(&srv->mu);
	for (;;) {
		while (srv->qhead == srv->queue.n && !srv->stopping)
			pthread_cond_wait(&srv->cond, &srv->mu);
		if (srv->qhead == srv->queue.n)
			break; /* stopping, and nothing is left */
		char *action = xstrdup(srv->queue.v[srv->qhead++]);
		pthread_mutex_unlock(&srv->mu);
		upload(srv, action);
		free(action);
		pthread_mutex_lock(&srv->mu);
	}
	pthread_mutex_unlock(&srv->mu);
	return NULL;
}

static void enqueue(struct gocache_server *srv, const char *action)
{
	if (remote_read_only(srv->remote))
		return;
	pthread_mutex_lock(&srv->mu);
	if (srv->queue.n < QUEUE_MAX) {
		strv_push(&srv->queue, action);
		pthread_cond_broadcast(&srv->cond);
	}
	pthread_mutex_unlock(&srv->mu);
}

struct conn {
	struct gocache_server *srv;
	int fd;
};

/* One line of a program (bounded); 1, or 0 at its end. */
static int conn_line(int fd, char *line, size_t size)
{
	size_t n = 0;
	char c;
	while (read(fd, &c, 1) == 1) {
		if (c == '\n') {
			line[n] = '\0';
			return 1;
		}
		if (n + 1 >= size)
			return 0;
		line[n++] = c;
	}
	return 0;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct gocache_server *srv = c->srv;
	char line[128];
	while (conn_line(c->fd, line, sizeof(line))) {
		unsigned long h, m, p;
		if (!strncmp(line, "get ", 4) && hash_is_sha256_hex(line + 4)) {
			const char *answer = fetch(srv, line + 4) ? "1\n" : "0\n";
			if (send(c->fd, answer, 2, MSG_NOSIGNAL) != 2)
				break;
		} else if (!strncmp(line, "put ", 4) && hash_is_sha256_hex(line + 4)) {
			enqueue(srv, line + 4);
		} else if (sscanf(line, "stats %lu %lu %lu", &h, &m, &p) == 3) {
			pthread_mutex_lock(&srv->mu);
			srv->st.local_hits += h;
			srv->st.misses += m;
			srv->st.puts += p;
			pthread_mutex_unlock(&srv->mu);
		} else {
			break; /* not one of ours */
		}
	}
	close(c->fd);
	pthread_mutex_lock(&srv->mu);
	srv->conns--;
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->mu);
	free(c);
	return NULL;
}

static void *accept_main(void *arg)
{
	struct gocache_server *srv = arg;
	for (;;) {
		struct pollfd pfd[2] = { { .fd = srv->lfd, .events = POLLIN }, { .fd = srv->stop_pipe[0], .events = POLLIN } };
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		int fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		struct conn *c = xcalloc(1, sizeof(*c));
		pthread_t t;
		c->srv = srv;
		c->fd = fd;
		pthread_mutex_lock(&srv->mu);
		srv->conns++;
		pthread_mutex_unlock(&srv->mu);
		if (pthread_create(&t, NULL, conn_main, c) != 0) {
			close(fd);
			free(c);
			pthread_mutex_lock(&srv->mu);
			srv->conns--;
			pthread_mutex_unlock(&srv->mu);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

/* Bind through /proc/self/fd: a long work directory fits in sun_path. */
static int listen_in(const char *dir)
{
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC), s = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (dfd < 0)
		return error("cannot open '%s':", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd, GOCACHE_SOCKET);
	unlinkat(dfd, GOCACHE_SOCKET, 0); /* a socket a killed run left */
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 64) < 0) {
		error("cannot listen on '%s/%s':", dir, GOCACHE_SOCKET);
		if (s >= 0)
			close(s);
		s = -1;
	}
	close(dfd);
	return s;
}

struct gocache_server *gocache_server_start(const char *work_dir, const char *store_dir, struct remote *remote,
					    const struct acsign *keys, uint64_t max)
{
	struct gocache_server *srv = xcalloc(1, sizeof(*srv));
	srv->remote = remote;
	srv->keys = keys;
	srv->max = max;
	srv->lfd = srv->stop_pipe[0] = srv->stop_pipe[1] = -1;
	pthread_mutex_init(&srv->mu, NULL);
	pthread_cond_init(&srv->cond, NULL);
	srv->sock = xasprintf("%s/%s", work_dir, GOCACHE_SOCKET);
	if (!(srv->store = gocache_store_open(store_dir)) || (srv->lfd = listen_in(work_dir)) < 0 ||
	    pipe2(srv->stop_pipe, O_CLOEXEC) < 0)
		goto fail;
	while (srv->nuploaders < UPLOADERS &&
	       pthread_create(&srv->uploaders[srv->nuploaders], NULL, upload_main, srv) == 0)
		srv->nuploaders++;
	if (srv->nuploaders == 0)
		goto fail;
	if (pthread_create(&srv->accept_thread, NULL, accept_main, srv) != 0) {
		close(srv->lfd);
		srv->lfd = -1;
		gocache_server_stop(srv, 0, NULL); /* joins the upload threads */
		return NULL;
	}
	srv->accepting = 1;
	return srv;
fail:
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->stop_pipe[0] >= 0) {
		close(srv->stop_pipe[0]);
		close(srv->stop_pipe[1]);
	}
	gocache_store_close(srv->store);
	unlink(srv->sock);
	free(srv->sock);
	free(srv);
	return NULL;
}

void gocache_server_stop(struct gocache_server *srv, int drain, struct gocache_stats *st)
{
	if (!srv)
		return;
	if (srv->accepting) {
		if (write(srv->stop_pipe[1], "x", 1) != 1) {
			/* a pipe with room: cannot fail */
		}
		pthread_join(srv->accept_thread, NULL);
	}
	if (srv->lfd >= 0)
		close(srv->lfd);
	unlink(srv->sock);
	double t0 = mono_seconds();
	pthread_mutex_lock(&srv->mu);
	while (srv->conns > 0) /* the jobs have ended: their programs are closing */
		pthread_cond_wait(&srv->cond, &srv->mu);
	srv->stopping = 1;
	if (!drain)
		srv->qhead = srv->queue.n;
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->mu);
	for (int i = 0; i < srv->nuploaders; i++)
		pthread_join(srv->uploaders[i], NULL);
	srv->st.drain_ms = (uint64_t)((mono_seconds() - t0) * 1000);
	if (st)
		*st = srv->st;
	close(srv->stop_pipe[0]);
	close(srv->stop_pipe[1]);
	strv_release(&srv->queue);
	pthread_mutex_destroy(&srv->mu);
	pthread_cond_destroy(&srv->cond);
	gocache_store_close(srv->store);
	free(srv->sock);
	free(srv);
}
