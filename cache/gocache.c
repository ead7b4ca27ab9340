/* gocache.c - the local store and the cache program (gocache.h). */
#define _GNU_SOURCE
#include "gocache.h"
#include "acsign.h"
#include "base/hash.h"
#include "base/jsonx.h"
#include "base/proc.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/random.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define ENTRY_VERSION 1
#define LINE_MAX_BYTES (64 * 1024)       /* a request line (no body) */
#define BODY_MAX ((uint64_t)4 << 30)     /* a put the go command sends */
#define SERVER_WAIT_S 60                 /* a slower answer is a miss */
#define WORKERS 8                        /* gets fetched at once per job (the go command's -p is at most cores) */
#define QUEUE_MAX 1024                   /* gets waiting for a worker; the reader waits when it is full */

struct gocache_store {
	char *a, *o, *tmp;
	atomic_uint seq;
};

struct gocache_store *gocache_store_open(const char *dir)
{
	struct gocache_store *s = xcalloc(1, sizeof(*s));
	s->a = xasprintf("%s/a", dir);
	s->o = xasprintf("%s/o", dir);
	s->tmp = xasprintf("%s/tmp", dir);
	if (mkdir_p(s->a, 0755) < 0 || mkdir_p(s->o, 0755) < 0 || mkdir_p(s->tmp, 0755) < 0) {
		gocache_store_close(s);
		return NULL;
	}
	return s;
}

void gocache_store_close(struct gocache_store *s)
{
	if (!s)
		return;
	free(s->a);
	free(s->o);
	free(s->tmp);
	free(s);
}

char *gocache_object_path(const struct gocache_store *s, const char *output)
{
	return xasprintf("%s/%s", s->o, output);
}

/* Random, not by pid: jobs may each have a PID namespace of their own,
 * where every program is the same pid. */
char *gocache_tmp_path(struct gocache_store *s)
{
	uint64_t r[2] = { 0, 0 };
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		r[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30);
		r[1] = (uint64_t)getpid();
	}
	return xasprintf("%s/%016" PRIx64 "%016" PRIx64 "-%u", s->tmp, r[0], r[1], atomic_fetch_add(&s->seq, 1));
}

/* Write text to path through a private temporary file and a rename.  No
 * fsync, as the go command's own cache: a torn entry or object after a
 * crash fails its parse or size check and is a miss. */
static int write_entry(struct gocache_store *s, const char *path, const char *text)
{
	char *tmp = gocache_tmp_path(s);
	size_t len = strlen(text);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), rc = 0;
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) < 0 || rename(tmp, path) < 0)
		rc = error("cannot write the go build cache entry '%s':", path);
	if (rc < 0 && fd >= 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

void gocache_canonical(struct buf *b, const char *action, const char *output, uint64_t size)
{
	buf_init(b, GOCACHE_ENTRY_MAX);
	buf_printf(b, "xgo-build gocache entry v%d", ENTRY_VERSION);
	buf_append(b, "", 1);
	buf_puts(b, action);
	buf_append(b, "", 1);
	buf_puts(b, output);
	buf_append(b, "", 1);
	buf_printf(b, "%" PRIu64, size);
	buf_append(b, "", 1);
}

char *gocache_entry_text(const struct acsign *keys, const char *action, const char *output, uint64_t size)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:I}", "v", ENTRY_VERSION, "action", action, "output", output, "size",
			      (json_int_t)size);
	if (!o)
		return NULL;
	if (keys) {
		struct buf b;
		gocache_canonical(&b, action, output, size);
		char *sig = acsign_sign(keys, b.data, b.len);
		buf_release(&b);
		if (sig)
			jx_set(o, "sig", json_string(sig));
		free(sig);
	}
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

int gocache_entry_parse(const char *text, size_t len, const char *action, char output[65], uint64_t *size,
			char **sig)
{
	json_t *o = json_loadb(text, len, 0, NULL);
	const char *a = json_string_value(json_object_get(o, "action"));
	const char *out = json_string_value(json_object_get(o, "output"));
	const char *s = json_string_value(json_object_get(o, "sig"));
	json_t *n = json_object_get(o, "size");
	int ok = json_integer_value(json_object_get(o, "v")) == ENTRY_VERSION && a && !strcmp(a, action) &&
		 hash_is_sha256_hex(out) && json_is_integer(n) && json_integer_value(n) >= 0;
	if (ok) {
		memcpy(output, out, 65);
		*size = (uint64_t)json_integer_value(n);
		*sig = s ? xstrdup(s) : NULL;
	}
	json_decref(o);
	return ok ? 0 : -1;
}

int gocache_lookup(struct gocache_store *s, const char *action, char output[65], uint64_t *size)
{
	char *path = xasprintf("%s/%s", s->a, action), *sig = NULL, *obj = NULL;
	size_t len;
	int hit = 0;
	int saved = error_quiet(1);
	char *text = read_file(path, GOCACHE_ENTRY_MAX, &len);
	error_quiet(saved);
	if (text && gocache_entry_parse(text, len, action, output, size, &sig) == 0) {
		struct stat st;
		obj = gocache_object_path(s, output);
		hit = lstat(obj, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == *size;
		if (hit)
			utimensat(AT_FDCWD, path, NULL, 0); /* recently used */
	}
	free(sig);
	free(obj);
	free(text);
	free(path);
	return hit;
}

int gocache_commit(struct gocache_store *s, const char *tmp, const char *action, const char *output,
		   uint64_t size, const char *text)
{
	char *obj = gocache_object_path(s, output), *entry = xasprintf("%s/%s", s->a, action);
	struct stat st;
	int rc = 0;
	if (lstat(obj, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size)
		unlink(tmp); /* the same bytes are there (their name is their sha256) */
	else if (chmod(tmp, 0444) < 0 || rename(tmp, obj) < 0)
		rc = error("cannot store the go build cache object '%s':", obj);
	if (rc == 0 && write_entry(s, entry, text) < 0)
		rc = -1;
	unlink(tmp);
	free(obj);
	free(entry);
	return rc;
}

/* ---- IDs: the go command sends its 32-byte IDs in base64 (hash.h) ---- */

/* A 32-byte ID in base64 as 64 hex digits; -1 when it is not one. */
static int id_hex(const char *b64, char hex[65])
{
	unsigned char raw[33];
	if (!b64 || strlen(b64) != 44 || b64[43] != '=' || b64_decode(b64, raw, sizeof(raw)) != 32)
		return -1;
	for (size_t i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

static void hex_b64(const char *hex, char out[45])
{
	unsigned char raw[32];
	for (size_t i = 0; i < 32; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		raw[i] = (unsigned char)v;
	}
	char *text = b64_encode(raw, 32);
	snprintf(out, 45, "%s", text);
	free(text);
}

/* ---- the program ---- */

/* A get that missed locally, waiting for a worker to ask the server. */
struct pending {
	json_int_t id;
	char action[65];
};

/* The main thread reads requests and answers local hits and puts; the
 * gets the server must answer go to WORKERS threads, each with its own
 * connection to it (the server runs one thread per connection), so the
 * go command's concurrent gets are fetched concurrently. */
struct prog {
	struct gocache_store *store;
	const char *server_dir; /* the run's server, or NULL */
	FILE *in, *out;
	int server;             /* the main thread's socket (puts, stats), or -1 */
	atomic_int server_off;  /* a connection failed: no more questions */
	atomic_int warned;      /* the one warning of this job */
	pthread_mutex_t out_mu; /* one whole response at a time */
	pthread_mutex_t mu;     /* the queue below */
	pthread_cond_t more, less;
	struct pending queue[QUEUE_MAX];
	size_t qhead, qlen, busy; /* busy: taken by a worker, not answered yet */
	int stopping;
	pthread_t workers[WORKERS];
	int nworkers;
	atomic_ulong local_hits, misses, puts;
};

/* One line of stdin into b (without the newline): 1, 0 at EOF, -1 too long. */
static int read_line(FILE *in, struct buf *b)
{
	int c;
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
	while ((c = getc_unlocked(in)) != EOF && c != '\n') {
		char ch = (char)c;
		if (buf_append(b, &ch, 1) < 0)
			return -1;
	}
	return c == EOF && b->len == 0 ? 0 : 1;
}

/* One base64 digit's value, or -1: a put's body is decoded as it streams,
 * too big for b64_decode's one buffer. */
static int b64val(int c)
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(digits, c) : NULL;
	return p ? (int)(p - digits) : -1;
}

/* The body of a put: a JSON string of base64 on its own line, decoded
 * into the file fd while hashing.  0 with its sha256 and size, or -1. */
static int read_body(FILE *in, int fd, char hex[65], uint64_t *size)
{
	struct hasher *h = hasher_new(HASH_SHA256);
	unsigned char chunk[48 * 1024];
	size_t n = 0;
	unsigned acc = 0;
	int bits = 0, c, rc = -1, pad = 0;
	*size = 0;
	while ((c = getc_unlocked(in)) == '\n')
		;
	if (c != '"')
		goto out;
	while ((c = getc_unlocked(in)) != EOF && c != '"') {
		int v = b64val(c);
		if (c == '=') {
			pad++;
			continue;
		}
		if (v < 0 || pad)
			goto out;
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			chunk[n++] = (unsigned char)(acc >> bits);
		}
		if (n == sizeof(chunk)) {
			if (*size > BODY_MAX || write(fd, chunk, n) != (ssize_t)n)
				goto out;
			hasher_update(h, chunk, n);
			*size += n;
			n = 0;
		}
	}
	if (c != '"' || (n && write(fd, chunk, n) != (ssize_t)n))
		goto out;
	hasher_update(h, chunk, n);
	*size += n;
	if (getc_unlocked(in) != '\n')
		goto out;
	rc = 0;
out:
	hasher_final_hex(h, hex);
	hasher_free(h);
	return rc;
}

static void respond(struct prog *p, json_t *o)
{
	if (o) {
		pthread_mutex_lock(&p->out_mu);
		json_dumpf(o, p->out, JSON_COMPACT);
		fputc('\n', p->out);
		fflush(p->out);
		pthread_mutex_unlock(&p->out_mu);
	}
	json_decref(o);
}

static void respond_err(struct prog *p, json_int_t id, const char *msg)
{
	respond(p, json_pack("{s:I, s:s}", "ID", id, "Err", msg));
}

/* The job's one warning about its server (the server's own problems are
 * the run's one warning). */
static void server_lost(struct prog *p, const char *why)
{
	atomic_store(&p->server_off, 1);
	if (!atomic_exchange(&p->warned, 1))
		warn("gocacheprog: %s this run's cache server in '%s': the remote cache is off for this job", why,
		     p->server_dir);
}

/* Ask the run's server over *sock to fetch action into the store: 1 it
 * did.  A failed send or a slow or missing answer closes *sock and turns
 * the server off for the job (a miss, and no more questions). */
static int ask_server(struct prog *p, int *sock, const char *verb, const char *action, int want_answer)
{
	char line[80], answer[8];
	if (*sock < 0 || atomic_load(&p->server_off))
		return 0;
	int n = snprintf(line, sizeof(line), "%s %s\n", verb, action);
	int sent = send(*sock, line, (size_t)n, MSG_NOSIGNAL) == n;
	if (sent && (!want_answer || recv(*sock, answer, 2, MSG_WAITALL) == 2))
		return want_answer && answer[0] == '1';
	close(*sock);
	*sock = -1;
	atomic_store(&p->server_off, 1);
	return 0;
}

static void respond_hit(struct prog *p, json_int_t id, const char *output, uint64_t size)
{
	char b64[45];
	char *path = gocache_object_path(p->store, output);
	hex_b64(output, b64);
	respond(p, json_pack("{s:I, s:s, s:I, s:s}", "ID", id, "OutputID", b64, "Size", (json_int_t)size, "DiskPath",
			     path));
	free(path);
}

/* Answer a get that missed locally, asking the server over *sock. */
static void ask_remote(struct prog *p, int *sock, json_int_t id, const char *action)
{
	char output[65];
	uint64_t size;
	if (ask_server(p, sock, "get", action, 1) && gocache_lookup(p->store, action, output, &size)) {
		respond_hit(p, id, output, size);
		return;
	}
	atomic_fetch_add(&p->misses, 1);
	respond(p, json_pack("{s:I, s:b}", "ID", id, "Miss", 1));
}

/* Connect to <dir>/GOCACHE_SOCKET through /proc/self/fd, so that a long
 * directory name fits in sun_path.  The socket, or -1. */
static int connect_server(const char *dir)
{
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC), s = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (dfd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd, GOCACHE_SOCKET);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(s);
		s = -1;
	}
	close(dfd);
	if (s >= 0) {
		struct timeval tv = { .tv_sec = SERVER_WAIT_S };
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	return s;
}

static void *worker_main(void *arg)
{
	struct prog *p = arg;
	int sock = -1, tried = 0;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->qlen == 0 && !p->stopping)
			pthread_cond_wait(&p->more, &p->mu);
		if (p->qlen == 0)
			break; /* stopping, and every get is answered */
		struct pending g = p->queue[p->qhead];
		p->qhead = (p->qhead + 1) % QUEUE_MAX;
		p->qlen--;
		p->busy++;
		pthread_mutex_unlock(&p->mu);
		if (!tried && !atomic_load(&p->server_off)) { /* lazily: a job of local hits needs none */
			tried = 1;
			if ((sock = connect_server(p->server_dir)) < 0)
				server_lost(p, "cannot reach");
		}
		ask_remote(p, &sock, g.id, g.action);
		pthread_mutex_lock(&p->mu);
		p->busy--;
		pthread_cond_broadcast(&p->less);
	}
	pthread_mutex_unlock(&p->mu);
	if (sock >= 0)
		close(sock);
	return NULL;
}

/* Hand a get to the workers, waiting while the queue is full. */
static void enqueue_get(struct prog *p, json_int_t id, const char *action)
{
	pthread_mutex_lock(&p->mu);
	while (p->qlen == QUEUE_MAX)
		pthread_cond_wait(&p->less, &p->mu);
	struct pending *g = &p->queue[(p->qhead + p->qlen) % QUEUE_MAX];
	g->id = id;
	memcpy(g->action, action, sizeof(g->action));
	p->qlen++;
	pthread_cond_signal(&p->more);
	pthread_mutex_unlock(&p->mu);
}

/* Until every get handed to the workers is answered. */
static void wait_gets(struct prog *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->qlen || p->busy)
		pthread_cond_wait(&p->less, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

static void do_get(struct prog *p, json_int_t id, json_t *req)
{
	char action[65], output[65];
	uint64_t size;
	if (id_hex(json_string_value(json_object_get(req, "ActionID")), action) < 0) {
		respond_err(p, id, "get: ActionID is not 32 bytes of base64");
		return;
	}
	if (gocache_lookup(p->store, action, output, &size)) {
		atomic_fetch_add(&p->local_hits, 1);
		respond_hit(p, id, output, size);
	} else if (p->nworkers && !atomic_load(&p->server_off)) {
		enqueue_get(p, id, action);
	} else {
		ask_remote(p, &p->server, id, action); /* no workers: on the main connection, or a miss */
	}
}

static void do_put(struct prog *p, json_int_t id, json_t *req)
{
	char action[65], output[65], hex[65];
	json_t *bs = json_object_get(req, "BodySize");
	json_int_t want = bs ? json_integer_value(bs) : 0;
	uint64_t size = 0;
	char *tmp = gocache_tmp_path(p->store);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int ok = fd >= 0;
	if (ok && want > 0)
		ok = read_body(p->in, fd, hex, &size) == 0;
	else if (ok)
		hash_bytes_hex(HASH_SHA256, "", 0, hex);
	if (fd >= 0 && close(fd) < 0)
		ok = 0;
	const char *why = NULL;
	if (!ok)
		why = fd < 0 ? "put: cannot create a file in the store" : "put: the body is not one base64 line";
	else if (id_hex(json_string_value(json_object_get(req, "ActionID")), action) < 0 ||
		 id_hex(json_string_value(json_object_get(req, "OutputID")), output) < 0)
		why = "put: ActionID or OutputID is not 32 bytes of base64";
	else if ((json_int_t)size != want || strcmp(hex, output))
		why = "put: the body does not have its BodySize and OutputID";
	char *text = why ? NULL : gocache_entry_text(NULL, action, output, size);
	if (!why && (!text || gocache_commit(p->store, tmp, action, output, size, text) < 0))
		why = "put: cannot write the store";
	unlink(tmp);
	free(tmp);
	free(text);
	if (why) {
		respond_err(p, id, why);
		return;
	}
	atomic_fetch_add(&p->puts, 1);
	char *path = gocache_object_path(p->store, output);
	respond(p, json_pack("{s:I, s:s}", "ID", id, "DiskPath", path));
	free(path);
	ask_server(p, &p->server, "put", action, 0);
}

static int serve(struct prog *p)
{
	struct buf line;
	int rc = EXIT_OK, r;
	buf_init(&line, LINE_MAX_BYTES);
	respond(p, json_pack("{s:i, s:[s, s, s]}", "ID", 0, "KnownCommands", "get", "put", "close"));
	while ((r = read_line(p->in, &line)) == 1) {
		if (line.len == 0)
			continue; /* the go command ends each request with an empty line */
		json_t *req = json_loadb(line.data, line.len, 0, NULL);
		json_int_t id = json_integer_value(json_object_get(req, "ID"));
		const char *cmd = json_string_value(json_object_get(req, "Command"));
		if (!cmd) {
			rc = error("gocacheprog: a request that is not a JSON object with a Command");
			json_decref(req);
			break;
		}
		int closing = !strcmp(cmd, "close");
		if (!strcmp(cmd, "get"))
			do_get(p, id, req);
		else if (!strcmp(cmd, "put"))
			do_put(p, id, req);
		else if (!closing)
			respond_err(p, id, "unknown command");
		if (closing) {
			wait_gets(p); /* its answer is the last one */
			respond(p, json_pack("{s:I}", "ID", id));
		}
		json_decref(req);
		if (closing)
			break;
	}
	if (r < 0)
		rc = error("gocacheprog: a request line longer than %d bytes", LINE_MAX_BYTES);
	buf_release(&line);
	return rc;
}

int gocache_prog_main(int argc, char **argv)
{
	const char *store = NULL, *server = NULL;
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs("usage: xgo-build gocacheprog --store DIR [--server DIR]\n\n"
		      "Internal: the GOCACHEPROG of every job of 'xgo-build run', speaking the go\n"
		      "command's cacheprog protocol on stdin/stdout (docs/gocache.md).\n",
		      stdout);
		return EXIT_OK;
	}
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--store"))
			store = argv[i + 1];
		else if (!strcmp(argv[i], "--server"))
			server = argv[i + 1];
	}
	if (!store || store[0] != '/' || (argc - 1) % 2)
		return error("usage: xgo-build gocacheprog --store DIR [--server DIR] (the go command starts it "
			     "through GOCACHEPROG; see docs/gocache.md)"), EXIT_USAGE;
	struct prog p = { .in = stdin, .out = stdout, .server = -1, .server_dir = server };
	if (!(p.store = gocache_store_open(store)))
		return EXIT_JOB;
	pthread_mutex_init(&p.out_mu, NULL);
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.more, NULL);
	pthread_cond_init(&p.less, NULL);
	if (server && (p.server = connect_server(server)) < 0)
		server_lost(&p, "cannot reach");
	while (p.server >= 0 && p.nworkers < WORKERS &&
	       pthread_create(&p.workers[p.nworkers], NULL, worker_main, &p) == 0)
		p.nworkers++;
	int rc = serve(&p);
	pthread_mutex_lock(&p.mu);
	p.stopping = 1; /* the workers answer what is queued, then end */
	pthread_cond_broadcast(&p.more);
	pthread_mutex_unlock(&p.mu);
	for (int i = 0; i < p.nworkers; i++)
		pthread_join(p.workers[i], NULL);
	if (p.server >= 0) {
		char line[96];
		int n = snprintf(line, sizeof(line), "stats %lu %lu %lu\n", atomic_load(&p.local_hits),
				 atomic_load(&p.misses), atomic_load(&p.puts));
		if (send(p.server, line, (size_t)n, MSG_NOSIGNAL) != n) {
			/* the counts are only for the run's note */
		}
		close(p.server);
	}
	pthread_mutex_destroy(&p.out_mu);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.more);
	pthread_cond_destroy(&p.less);
	gocache_store_close(p.store);
	return rc;
}

int gocache_probe(const char *self, const char *store_dir, const char **why)
{
	char *argv[] = { (char *)self, "gocacheprog", "--store", (char *)store_dir, NULL };
	struct buf out, err;
	int status = -1;
	buf_init(&out, 4096);
	buf_init(&err, 4096);
	int rc = proc_capture(argv, NULL, NULL, &out, &err, &status);
	json_t *caps = rc == 0 && status == 0 ? json_loads(out.data, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
	json_t *known = json_object_get(caps, "KnownCommands");
	size_t i, n = 0;
	json_t *v;
	json_array_foreach(known, i, v)
	{
		const char *c = json_string_value(v);
		n += c && (!strcmp(c, "get") || !strcmp(c, "put") || !strcmp(c, "close"));
	}
	if (n != 3)
		*why = rc < 0 || status != 0 ? "it did not start or exited with an error"
					     : "it did not offer get, put and close";
	json_decref(caps);
	buf_release(&out);
	buf_release(&err);
	return n == 3 ? 0 : -1;
}
