/* runner.h - run jobs as child processes, up to N at a time.
 *
 * A job is a program with an explicit argv and a complete environment (the
 * parent's environment is never inherited), a working directory, a log file
 * and a timeout.  Each job runs in its own process group with default
 * signal dispositions, an empty signal mask and stdin from /dev/null; its
 * stdout and stderr share one pipe that the runner drains into the log.
 *
 * Use:
 *     struct runner *r = runner_new(slots);
 *     runner_catch_signals(r);                  // SIGINT/SIGTERM/SIGHUP
 *     for each job: runner_add(r, &spec);        // queued, FIFO
 *     while ((rc = runner_wait_any(r, &res)) == 1) {
 *             ... res.status, res.log_path ...  // one finished job
 *             runner_result_release(&res);
 *             // fail-fast: runner_cancel_pending(r) (+ runner_kill_running(r))
 *             // more runner_add() calls are fine here
 *     }
 *     // rc == 0: all done; RUNNER_INTERRUPTED: exit 130; -1: internal error
 *     runner_free(r);
 *
 * No child outlives the runner: a timed-out, killed or interrupted job's
 * whole process group gets SIGTERM, then SIGKILL after the grace period;
 * when a job's leader exits, anything left in its group gets SIGKILL
 * before the leader is reaped.  See docs/runner.md.
 */
#ifndef XGO_RUNNER_H
#define XGO_RUNNER_H

#include "isolate.h"

#define RUNNER_INTERRUPTED (-2)
#define RUNNER_GRACE_MS 2000      /* TERM to KILL */
#define RUNNER_TAIL_MAX 65536     /* bound of runner_log_tail() */

struct runner_spec {
	char *const *argv;       /* argv[0] without '/' is searched in envp's PATH */
	char *const *envp;       /* the complete environment; NULL means empty */
	const char *dir;         /* working directory; NULL: the runner's */
	const char *log_path;    /* created/truncated, mode 0644; required */
	long timeout_ms;         /* 0: none */
	int umask;               /* -1: the runner's */
	enum iso_level iso;      /* ISO_NET requires trampoline */
	const char *trampoline;  /* xgo-build binary for "__exec" (iso_self_exe());
	                            NULL: plain posix_spawn, no pdeathsig */
	long uid;                /* > 0: run as this uid in a new user namespace
	                            (needs the trampoline; verify's "user") */
	const char *hostname;    /* run in a new UTS namespace with this host name
	                            (needs the trampoline; verify's "hostname") */
	void *user;              /* handed back in the result */
};

struct runner_result {
	int id;            /* runner_add()'s return value */
	void *user;        /* spec.user */
	int status;        /* exit code; 128+N when killed by signal N; 127 not started */
	int timed_out;     /* killed because timeout_ms passed */
	int killed;        /* killed by runner_kill_running() */
	double wall;       /* seconds from spawn to end */
	double cpu_user, cpu_sys; /* seconds, the job and its waited-for children */
	char *log_path;    /* owned: runner_result_release() */
	char *error;       /* owned, NULL or why the job could not start */
};

/* slots: how many jobs may run at once (>= 1). */
struct runner *runner_new(int slots);
/* Kill and reap every running job (TERM, grace, KILL), drop queued ones. */
void runner_free(struct runner *r);
/* Grace period between SIGTERM and SIGKILL (default RUNNER_GRACE_MS). */
void runner_set_grace(struct runner *r, long ms);

/* Queue a job; the spec and everything it points to is copied.  Returns
 * the job id (0, 1, 2, ... in order of addition) or error() for an invalid
 * spec (no argv or log path, ISO_NET without trampoline). */
int runner_add(struct runner *r, const struct runner_spec *spec);

/* Start queued jobs while slots are free and wait until one job has ended:
 * its leader exited and its output reached EOF.  Returns 1 with *res filled
 * (release it), 0 when no job is queued or running, RUNNER_INTERRUPTED
 * once runner_interrupt() was called (every job has then been killed and
 * reaped, results are discarded), -1 on an internal error. */
int runner_wait_any(struct runner *r, struct runner_result *res);
void runner_result_release(struct runner_result *res);

/* Drop the queued jobs that have not started; returns how many.  For a
 * fail-fast policy; running jobs go on unless runner_kill_running(). */
int runner_cancel_pending(struct runner *r);
/* Terminate every running job; each still produces a result (killed=1). */
void runner_kill_running(struct runner *r);
/* 1 once an interrupt was handled (runner_wait_any returned
 * RUNNER_INTERRUPTED).  A caller doing other work between waits can check
 * runner_last_signal() or call runner_wait_any() to act on one. */
int runner_interrupted(const struct runner *r);
int runner_running(const struct runner *r);
int runner_pending(const struct runner *r);

/* Async-signal-safe: make runner_wait_any() kill everything and return
 * RUNNER_INTERRUPTED.  Writes one byte to the runner's self-pipe. */
void runner_interrupt(struct runner *r);
/* Install SIGINT, SIGTERM and SIGHUP handlers that call runner_interrupt(r)
 * (one runner at a time); runner_restore_signals() puts the old ones back.
 * runner_last_signal() is the last signal caught, 0 if none.  Calls nest:
 * an inner catch keeps the signal the outer one caught (and interrupts r
 * at once if there was one), an inner restore leaves the handlers in
 * place; only the outermost pair installs and restores.  So a whole run
 * can stay interruptible across its steps (pipeline.h). */
int runner_catch_signals(struct runner *r);
void runner_restore_signals(void);
int runner_last_signal(void);

/* The last n lines of a log, at most RUNNER_TAIL_MAX bytes, for error
 * messages.  Caller frees.  NULL with error() when it cannot be read. */
char *runner_log_tail(const char *path, int n);

#endif
