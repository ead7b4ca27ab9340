/* runner.c - parallel child processes: posix_spawn, one poll loop, logs,
 * timeouts and cancellation.  Single-threaded by design: see docs/runner.md.
 */
#define _GNU_SOURCE
#include "runner.h"
#include "base/proc.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* posix_spawn_file_actions_addchdir_np: glibc 2.29; addclosefrom_np: 2.34. */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 29)
#define HAVE_ADDCHDIR 1
#endif
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
#define HAVE_ADDCLOSEFROM 1
#endif

struct job {
	int id;
	void *user;
	struct strv argv, envp;   /* owned copies of the spec's vectors */
	char *dir, *log_path, *trampoline, *hostname;
	long timeout_ms, uid;
	int umask;
	enum iso_level iso;

	pid_t pid;                /* also the process group id */
	int pidfd, out, log;      /* -1 when closed */
	int exited;               /* leader reaped: status and ru are valid */
	int status;
	struct rusage ru;
	long long start, end;     /* monotonic ms */
	long long deadline;       /* timeout, 0: none */
	long long kill_at;        /* SIGKILL due (SIGTERM sent), 0: not yet */
	long long drain_until;    /* stop reading output after the leader ended */
	int kill_sent, timed_out, killed;
	char *error;
	struct job *next;         /* queue link */
};

struct runner {
	int slots;
	long grace_ms;
	int next_id;
	struct job *head, *tail;  /* queued, FIFO */
	struct job **run;         /* [slots] running (or finished, unreported) */
	int nrun;
	int intr[2];              /* self-pipe: runner_interrupt() writes */
	int interrupted;
};

static struct runner *volatile sig_runner; /* for the signal handler */

static long long now_ms(void)
{
	return (long long)(mono_seconds() * 1000);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Consume a pending interrupt byte (one may arrive between calls). */
static int take_interrupt(struct runner *r)
{
	char b[64];
	int got = 0;
	while (read(r->intr[0], b, sizeof(b)) > 0)
		got = 1;
	return got;
}

static void copy_vec(struct strv *dst, char *const *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->v = xcalloc(1, sizeof(*dst->v)); /* NULL-terminated even if empty */
	dst->cap = 1;
	for (size_t i = 0; src && src[i]; i++)
		strv_push(dst, src[i]);
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	strv_release(&j->argv);
	strv_release(&j->envp);
	free(j->dir);
	free(j->log_path);
	free(j->trampoline);
	free(j->hostname);
	free(j->error);
	close_fd(&j->pidfd);
	close_fd(&j->out);
	close_fd(&j->log);
	free(j);
}

struct runner *runner_new(int slots)
{
	struct runner *r = xcalloc(1, sizeof(*r));
	r->slots = slots > 0 ? slots : 1;
	r->grace_ms = RUNNER_GRACE_MS;
	r->run = xcalloc((size_t)r->slots, sizeof(*r->run));
	if (pipe2(r->intr, O_CLOEXEC | O_NONBLOCK) < 0) {
		error("cannot create a pipe:");
		free(r->run);
		free(r);
		return NULL;
	}
	return r;
}

void runner_set_grace(struct runner *r, long ms)
{
	r->grace_ms = ms > 0 ? ms : 0;
}

int runner_add(struct runner *r, const struct runner_spec *spec)
{
	if (!spec->argv || !spec->argv[0])
		return error("job has no program to run");
	if (!spec->log_path)
		return error("job '%s' has no log file", spec->argv[0]);
	if ((spec->iso != ISO_NONE || spec->uid > 0 || spec->hostname) && !spec->trampoline)
		return error("job '%s': isolation '%s' needs the trampoline",
			     spec->argv[0], iso_level_name(spec->iso));
#ifndef HAVE_ADDCHDIR
	if (spec->dir && !spec->trampoline)
		return error("job '%s': a working directory needs the trampoline with this libc",
			     spec->argv[0]);
#endif
	struct job *j = xcalloc(1, sizeof(*j));
	j->id = r->next_id++;
	j->user = spec->user;
	copy_vec(&j->argv, spec->argv);
	copy_vec(&j->envp, spec->envp);
	j->dir = spec->dir ? xstrdup(spec->dir) : NULL;
	j->log_path = xstrdup(spec->log_path);
	j->trampoline = spec->trampoline ? xstrdup(spec->trampoline) : NULL;
	j->timeout_ms = spec->timeout_ms;
	j->uid = spec->uid;
	j->hostname = spec->hostname ? xstrdup(spec->hostname) : NULL;
	j->umask = spec->umask;
	j->iso = spec->iso;
	j->pidfd = j->out = j->log = -1;
	if (r->tail)
		r->tail->next = j;
	else
		r->head = j;
	r->tail = j;
	return j->id;
}

/* Find a program the way execvp would, but in the job's PATH, not ours,
 * so that a missing program is a clear error before anything is spawned.
 * A name with a '/' is used as given (posix_spawn or the trampoline then
 * reports a failure).  Caller frees. */
static char *resolve_program(struct job *j)
{
	const char *name = j->argv.v[0], *path = proc_env_get(j->envp.v, "PATH");
	char *prog = proc_find(name, path);
	if (prog)
		return prog;
	error("cannot run '%s': not found in the job's PATH '%s'", name, path ? path : "");
	return NULL;
}

/* The argv actually spawned: the program itself, or the trampoline
 * "__exec [options] -- program args" that applies what posix_spawn can't. */
static void build_argv(struct job *j, const char *prog, struct strv *out)
{
	if (j->trampoline) {
		strv_push(out, j->trampoline);
		strv_push(out, "__exec");
		if (j->iso == ISO_NET)
			strv_push(out, "--netns");
		if (j->uid > 0) {
			strv_push(out, "--uid");
			strv_pushf(out, "%ld", j->uid);
		}
		if (j->hostname) {
			strv_push(out, "--hostname");
			strv_push(out, j->hostname);
		}
		if (j->umask >= 0) {
			strv_push(out, "--umask");
			strv_pushf(out, "%03o", j->umask & 0777);
		}
		if (j->dir) {
			strv_push(out, "--chdir");
			strv_push(out, j->dir);
		}
		strv_push(out, "--pdeathsig");
		strv_pushf(out, "%ld", (long)getpid());
		strv_push(out, "--");
	}
	strv_push(out, prog);
	for (size_t i = 1; i < j->argv.n; i++)
		strv_push(out, j->argv.v[i]);
}

static int spawn(struct job *j, const char *prog, int out_w)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	struct strv argv = { 0 };
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_w, 1);
	posix_spawn_file_actions_adddup2(&fa, out_w, 2);
#ifdef HAVE_ADDCLOSEFROM
	/* Our own descriptors are close-on-exec; this catches anyone else's. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
#ifdef HAVE_ADDCHDIR
	if (j->dir && !j->trampoline)
		posix_spawn_file_actions_addchdir_np(&fa, j->dir);
#endif
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK
				 | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);

	build_argv(j, prog, &argv);
	/* posix_spawn has no umask action: set ours around the call.  The
	 * runner is single-threaded, so nothing else sees the change. */
	mode_t old = 0;
	int direct_umask = j->umask >= 0 && !j->trampoline;
	if (direct_umask)
		old = umask((mode_t)(j->umask & 0777));
	rc = posix_spawn(&j->pid, argv.v[0], &fa, &attr, argv.v, j->envp.v);
	if (direct_umask)
		umask(old);

	strv_release(&argv);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc) {
		errno = rc;
		return error("cannot run '%s':", j->trampoline ? j->trampoline : prog);
	}
	return 0;
}

/* Start j; on failure it is finished at once with status 127 and error. */
static void start_job(struct job *j)
{
	int p[2] = { -1, -1 };
	char *prog = NULL;
	struct stat st;
	j->start = now_ms();
	j->log = open(j->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (j->log < 0) {
		error("cannot create log '%s':", j->log_path);
		goto fail;
	}
	/* Checked here: posix_spawn would blame the program for it. */
	if (j->dir && stat(j->dir, &st) < 0) {
		error("cannot run '%s': working directory '%s':", j->argv.v[0], j->dir);
		goto fail;
	}
	if (j->dir && !S_ISDIR(st.st_mode)) {
		error("cannot run '%s': '%s' is not a directory", j->argv.v[0], j->dir);
		goto fail;
	}
	if (!(prog = resolve_program(j)))
		goto fail;
	if (pipe2(p, O_CLOEXEC) < 0) {
		error("cannot create a pipe:");
		goto fail;
	}
	if (spawn(j, prog, p[1]) < 0)
		goto fail;
	close(p[1]);
	free(prog);
	j->out = p[0];
	fcntl(j->out, F_SETFL, O_NONBLOCK);
#ifdef SYS_pidfd_open
	j->pidfd = (int)syscall(SYS_pidfd_open, j->pid, 0);
#endif
	if (j->timeout_ms > 0)
		j->deadline = j->start + j->timeout_ms;
	return;
fail:
	j->error = xstrdup(error_last());
	if (j->log >= 0) /* so that the log tail explains the failure too */
		dprintf(j->log, "xgo-build: %s\n", j->error);
	close_fd(&p[0]);
	close_fd(&p[1]);
	free(prog);
	j->pid = 0;
	j->status = 127;
	j->exited = 1;
	j->end = now_ms();
}

static void start_queued(struct runner *r)
{
	while (r->nrun < r->slots && r->head) {
		struct job *j = r->head;
		r->head = j->next;
		if (!r->head)
			r->tail = NULL;
		j->next = NULL;
		start_job(j);
		r->run[r->nrun++] = j;
	}
}

/* SIGTERM the job's group now, SIGKILL after the grace period.  Only for a
 * leader not yet reaped: its pid still names the group, so the signal
 * cannot reach a recycled process group. */
static void terminate(struct runner *r, struct job *j)
{
	if (j->exited || j->kill_at)
		return;
	kill(-j->pid, SIGTERM);
	kill(-j->pid, SIGCONT); /* a stopped process acts on TERM only when continued */
	j->kill_at = now_ms() + r->grace_ms;
}

static int decode_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 255;
}

/* Reap the leader if it exited.  While it is a zombie, kill whatever is
 * left in its group: nothing may outlive its job. */
static void check_exit(struct runner *r, struct job *j)
{
	siginfo_t si;
	int st = 0;
	if (j->exited)
		return;
	memset(&si, 0, sizeof(si));
	int rc = waitid(P_PID, (id_t)j->pid, &si, WEXITED | WNOHANG | WNOWAIT);
	if (rc < 0 && errno != ECHILD)
		return; /* EINTR: look again later */
	if (rc == 0 && si.si_pid != j->pid)
		return; /* still running */
	/* ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN?): treat it
	 * as ended, and do not signal a group id that may be reused. */
	if (rc == 0)
		kill(-j->pid, SIGKILL);
	if (rc == 0 && wait4(j->pid, &st, 0, &j->ru) == j->pid)
		j->status = decode_status(st);
	else
		j->status = 255;
	j->exited = 1;
	j->end = now_ms();
	j->drain_until = j->end + r->grace_ms;
	close_fd(&j->pidfd);
}

static void write_all(struct job *j, const char *p, size_t n)
{
	while (n && j->log >= 0) {
		ssize_t w = write(j->log, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			if (!j->error)
				j->error = xasprintf("cannot write log '%s': %s", j->log_path, strerror(errno));
			close_fd(&j->log); /* keep draining the pipe, drop the bytes */
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Move what the pipe holds into the log; close it at EOF. */
static void drain(struct job *j)
{
	char chunk[65536];
	for (int i = 0; i < 16 && j->out >= 0; i++) {
		ssize_t n = read(j->out, chunk, sizeof(chunk));
		if (n > 0) {
			write_all(j, chunk, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		close_fd(&j->out); /* EOF, or an error that will not go away */
	}
}

/* Act on timeouts, due SIGKILLs and stuck pipes. */
static void check_clocks(struct runner *r, struct job *j, long long now)
{
	if (!j->exited && j->deadline && now >= j->deadline && !j->kill_at) {
		j->timed_out = 1;
		terminate(r, j);
	}
	if (!j->exited && j->kill_at && !j->kill_sent && now >= j->kill_at) {
		kill(-j->pid, SIGKILL);
		j->kill_sent = 1;
	}
	if (j->exited && j->out >= 0 && now >= j->drain_until) {
		/* Something that left the group still holds the pipe. */
		close_fd(&j->out);
		if (j->log >= 0)
			dprintf(j->log, "\nxgo-build: output still open after the job ended; stopped reading\n");
	}
}

static void earliest(long long *t, long long due)
{
	if (due && (!*t || due < *t))
		*t = due;
}

/* Milliseconds until the next timeout, SIGKILL or drain limit; -1: none. */
static long long next_wakeup(struct runner *r, long long now)
{
	long long t = 0;
	for (int i = 0; i < r->nrun; i++) {
		struct job *j = r->run[i];
		if (!j->exited) {
			if (j->deadline && !j->kill_at)
				earliest(&t, j->deadline);
			if (j->kill_at && !j->kill_sent)
				earliest(&t, j->kill_at);
			if (j->pidfd < 0) /* no pidfd to wake us: look every 50 ms */
				earliest(&t, now + 50);
		} else if (j->out >= 0) {
			earliest(&t, j->drain_until);
		}
	}
	return t ? (t > now ? t - now : 0) : -1;
}

/* One poll over the self-pipe and every job's pipe and pidfd, then act on
 * what happened.  Returns 1 when an interrupt arrived, 0, or -1. */
static int poll_once(struct runner *r)
{
	struct pollfd *fds = xcalloc((size_t)r->nrun * 2 + 1, sizeof(*fds));
	int nfds = 0, intr = 0;
	long long now = now_ms();
	fds[nfds++] = (struct pollfd){ .fd = r->intr[0], .events = POLLIN };
	for (int i = 0; i < r->nrun; i++) {
		struct job *j = r->run[i];
		if (j->out >= 0)
			fds[nfds++] = (struct pollfd){ .fd = j->out, .events = POLLIN };
		if (j->pidfd >= 0)
			fds[nfds++] = (struct pollfd){ .fd = j->pidfd, .events = POLLIN };
	}
	long long wait = next_wakeup(r, now);
	int rc = 0;
	if (poll(fds, (nfds_t)nfds, wait > 100000 ? 100000 : (int)wait) < 0 && errno != EINTR)
		rc = error("poll failed:");
	if (rc == 0 && fds[0].revents)
		intr = take_interrupt(r);
	free(fds);
	now = now_ms();
	for (int i = 0; i < r->nrun; i++) {
		struct job *j = r->run[i];
		if (j->out >= 0)
			drain(j);
		check_exit(r, j);
		if (j->exited && j->out >= 0)
			drain(j);
		check_clocks(r, j, now);
	}
	return rc < 0 ? rc : intr;
}

/* A job is done when its leader was reaped and its output reached EOF. */
static struct job *take_finished(struct runner *r)
{
	for (int i = 0; i < r->nrun; i++) {
		struct job *j = r->run[i];
		if (j->exited && j->out < 0) {
			r->run[i] = r->run[--r->nrun];
			return j;
		}
	}
	return NULL;
}

static void fill_result(struct job *j, struct runner_result *res)
{
	memset(res, 0, sizeof(*res));
	res->id = j->id;
	res->user = j->user;
	res->status = j->status;
	res->timed_out = j->timed_out;
	res->killed = j->killed;
	res->wall = (double)(j->end - j->start) / 1000.0;
	res->cpu_user = (double)j->ru.ru_utime.tv_sec + (double)j->ru.ru_utime.tv_usec / 1e6;
	res->cpu_sys = (double)j->ru.ru_stime.tv_sec + (double)j->ru.ru_stime.tv_usec / 1e6;
	res->log_path = j->log_path;
	res->error = j->error;
	j->log_path = j->error = NULL;
}

void runner_result_release(struct runner_result *res)
{
	FREE_AND_NULL(res->log_path);
	FREE_AND_NULL(res->error);
}

static void free_queue(struct runner *r)
{
	while (r->head) {
		struct job *j = r->head;
		r->head = j->next;
		job_free(j);
	}
	r->tail = NULL;
}

/* Kill every running job and wait until all are reaped and drained. */
static void kill_and_reap_all(struct runner *r)
{
	for (int i = 0; i < r->nrun; i++)
		terminate(r, r->run[i]);
	while (r->nrun) {
		struct job *j;
		poll_once(r); /* a poll error still lets the clocks escalate */
		while ((j = take_finished(r)))
			job_free(j);
	}
}

static int interrupt_all(struct runner *r)
{
	r->interrupted = 1;
	free_queue(r);
	kill_and_reap_all(r);
	return RUNNER_INTERRUPTED;
}

int runner_wait_any(struct runner *r, struct runner_result *res)
{
	for (;;) {
		struct job *j;
		if (r->interrupted)
			return RUNNER_INTERRUPTED;
		if (take_interrupt(r))
			return interrupt_all(r);
		start_queued(r);
		if ((j = take_finished(r))) {
			fill_result(j, res);
			job_free(j);
			return 1;
		}
		if (!r->nrun)
			return 0;
		int rc = poll_once(r);
		if (rc < 0)
			return -1;
		if (rc)
			return interrupt_all(r);
	}
}

int runner_cancel_pending(struct runner *r)
{
	int n = 0;
	for (struct job *j = r->head; j; j = j->next)
		n++;
	free_queue(r);
	return n;
}

void runner_kill_running(struct runner *r)
{
	for (int i = 0; i < r->nrun; i++) {
		struct job *j = r->run[i];
		if (!j->exited) {
			j->killed = 1;
			terminate(r, j);
		}
	}
}

int runner_interrupted(const struct runner *r)
{
	return r->interrupted;
}

int runner_running(const struct runner *r)
{
	return r->nrun;
}

int runner_pending(const struct runner *r)
{
	int n = 0;
	for (struct job *j = r->head; j; j = j->next)
		n++;
	return n;
}

void runner_free(struct runner *r)
{
	if (!r)
		return;
	if (sig_runner == r)
		runner_restore_signals();
	free_queue(r);
	kill_and_reap_all(r);
	close(r->intr[0]);
	close(r->intr[1]);
	free(r->run);
	free(r);
}

void runner_interrupt(struct runner *r)
{
	int saved = errno;
	ssize_t n = write(r->intr[1], "i", 1);
	(void)n; /* a full pipe already holds an interrupt */
	errno = saved;
}

/* Signals: the handler only records the signal and pokes the self-pipe. */
static volatile sig_atomic_t sig_last;
static const int caught_signals[] = { SIGINT, SIGTERM, SIGHUP };
static struct sigaction saved_actions[ARRAY_LEN(caught_signals)];
static int signals_caught; /* nesting depth of runner_catch_signals */

static void on_signal(int sig)
{
	sig_last = sig;
	if (sig_runner)
		runner_interrupt(sig_runner);
}

int runner_catch_signals(struct runner *r)
{
	sig_runner = r;
	if (signals_caught++) {
		if (r && sig_last) /* caught before this step began: stop it too */
			runner_interrupt(r);
		return 0;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sig_last = 0;
	for (size_t i = 0; i < ARRAY_LEN(caught_signals); i++)
		if (sigaction(caught_signals[i], &sa, &saved_actions[i]) < 0)
			return error("cannot install a signal handler:");
	return 0;
}

void runner_restore_signals(void)
{
	if (!signals_caught)
		return;
	sig_runner = NULL;
	if (--signals_caught)
		return;
	for (size_t i = 0; i < ARRAY_LEN(caught_signals); i++)
		sigaction(caught_signals[i], &saved_actions[i], NULL);
}

int runner_last_signal(void)
{
	return sig_last;
}

char *runner_log_tail(const char *path, int n)
{
	char *text = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		error("cannot read log '%s':", path);
		goto out;
	}
	off_t from = st.st_size > RUNNER_TAIL_MAX ? st.st_size - RUNNER_TAIL_MAX : 0;
	size_t len = (size_t)(st.st_size - from);
	text = xmalloc(len + 1);
	ssize_t got = pread(fd, text, len, from);
	if (got < 0) {
		error("cannot read log '%s':", path);
		FREE_AND_NULL(text);
		goto out;
	}
	text[got] = '\0';
	/* Walk back n line ends, not counting a final newline. */
	char *start = text;
	size_t end = (size_t)got;
	if (end && text[end - 1] == '\n')
		end--;
	for (size_t i = end; i > 0; i--) {
		if (text[i - 1] == '\n' && --n <= 0) {
			start = text + i;
			break;
		}
	}
	if (start == text && from > 0) { /* do not begin with half a line */
		char *nl = strchr(text, '\n');
		if (nl && nl[1])
			start = nl + 1;
	}
	memmove(text, start, strlen(start) + 1);
out:
	if (fd >= 0)
		close(fd);
	return text;
}
