/* isolate.c - network-namespace isolation and the __exec trampoline. */
#define _GNU_SOURCE
#include "isolate.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Write a short string to a /proc file in one write(2), as the kernel
 * wants for uid_map and friends. */
static int write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	int saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)len ? 0 : -1;
}

/* Map only our own ids into the new user namespace: all an unprivileged
 * process may do, and enough for go build (files keep their owner).
 * inside: the uid the process has in the namespace. */
static int map_ids(uid_t inside, uid_t uid, gid_t gid)
{
	char line[64];
	if (write_proc("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
		return -1;
	snprintf(line, sizeof(line), "%lu %lu 1\n", (unsigned long)inside, (unsigned long)uid);
	if (write_proc("/proc/self/uid_map", line) < 0)
		return -1;
	snprintf(line, sizeof(line), "%lu %lu 1\n", (unsigned long)gid, (unsigned long)gid);
	return write_proc("/proc/self/gid_map", line);
}

int iso_enter_netns(void)
{
	/* Root (CAP_SYS_ADMIN) needs no user namespace, and keeping the
	 * real ids avoids files that show up as owned by "nobody". */
	if (unshare(CLONE_NEWNET) == 0)
		return 0;
	if (errno != EPERM)
		return -1;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
		return -1;
	return map_ids(uid, uid, gid);
}

int iso_enter(int netns, long uid, const char *hostname)
{
	if (uid <= 0 && !hostname)
		return netns ? iso_enter_netns() : 0;
	uid_t real = geteuid();
	gid_t gid = getegid();
	int flags = CLONE_NEWUSER | (netns ? CLONE_NEWNET : 0) | (hostname ? CLONE_NEWUTS : 0);
	if (unshare(flags) < 0 || map_ids(uid > 0 ? (uid_t)uid : real, real, gid) < 0)
		return -1;
	if (hostname && sethostname(hostname, strlen(hostname)) < 0)
		return -1;
	return 0;
}

static int probe_vary_child(void)
{
	char name[64] = "";
	if (iso_enter(0, 4242, "xgo-probe") < 0)
		return 1;
	if (getuid() != 4242 || gethostname(name, sizeof(name) - 1) < 0 || strcmp(name, "xgo-probe"))
		return 3;
	return 0;
}

/* Run probe in a forked child (it may change namespaces; we must not):
 * its exit status, or -1 when it could not run, -2 when it crashed. */
static int run_probe(int (*probe)(void))
{
	int st = 0;
	pid_t pid = fork();
	if (pid == 0)
		_exit(probe());
	if (pid < 0)
		return -1;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -2;
	return WEXITSTATUS(st);
}

int iso_vary_available(const char **why)
{
	static int cached = -1;
	static const char *reason;
	if (cached < 0) {
		int rc = run_probe(probe_vary_child);
		cached = rc == 0;
		reason = rc == -1 ? "cannot fork the probe"
			: "user and UTS namespaces are not permitted here (unshare(CLONE_NEWUSER|CLONE_NEWUTS) failed)";
	}
	if (why)
		*why = cached ? NULL : reason;
	return cached;
}

/* The probe child: enter a network namespace and check that it is a new
 * one by comparing the namespace inode. */
static int probe_child(void)
{
	struct stat before, after;
	if (stat("/proc/self/ns/net", &before) < 0)
		return 2;
	if (iso_enter_netns() < 0)
		return 1;
	if (stat("/proc/self/ns/net", &after) < 0)
		return 2;
	return before.st_ino != after.st_ino ? 0 : 3;
}

int iso_net_available(const char **why)
{
	static int cached = -1;
	static const char *reason;
	if (cached < 0) {
		int rc = run_probe(probe_child);
		cached = rc == 0;
		reason = rc == -1 ? "cannot fork the probe"
			: rc == -2 ? "the probe crashed"
			: rc == 1 ? "user and network namespaces are not permitted here"
				  : "/proc/self/ns/net is unusable";
	}
	if (why)
		*why = cached ? NULL : reason;
	return cached;
}

/* The probe child: in a new PID namespace, our first child is PID 1. */
static int enter_pidns(int in_userns);
static int probe_pidns_child(void)
{
	if (enter_pidns(0) < 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0)
		_exit(getpid() == 1 ? 0 : 3);
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 2;
	return WEXITSTATUS(st);
}

int iso_pidns_available(void)
{
	static int cached = -1;
	if (cached < 0)
		cached = run_probe(probe_pidns_child) == 0;
	return cached;
}

const char *iso_level_name(enum iso_level level)
{
	return level == ISO_NET ? "net" : "none";
}

int iso_choose(const char *requested, enum iso_level *out)
{
	const char *why = NULL;
	if (!requested || !strcmp(requested, "auto")) {
		*out = iso_net_available(NULL) ? ISO_NET : ISO_NONE;
		return 0;
	}
	if (!strcmp(requested, "none")) {
		*out = ISO_NONE;
		return 0;
	}
	if (!strcmp(requested, "net")) {
		if (!iso_net_available(&why))
			return error("isolation 'net' is not available: %s "
				     "(use --isolation=none or auto)", why);
		*out = ISO_NET;
		return 0;
	}
	return error("unknown isolation '%s' (expected auto, none or net)", requested);
}

char *iso_self_exe(void)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n < 0) {
		error("cannot resolve '/proc/self/exe':");
		return NULL;
	}
	path[n] = '\0';
	return xstrdup(path);
}

/* The trampoline prints with plain stdio: it is about to exec or exit. */
static int tramp_fail(int code, const char *what, const char *arg)
{
	fprintf(stderr, "xgo-build: %s '%s': %s\n", what, arg, strerror(errno));
	return code;
}

static int tramp_usage(const char *arg)
{
	if (arg)
		fprintf(stderr, "xgo-build: __exec: bad argument '%s'\n", arg);
	else
		fprintf(stderr, "xgo-build: __exec: no program after '--'\n");
	fputs("usage: xgo-build __exec [--netns] [--uid UID] [--hostname NAME] [--umask OCTAL] "
	      "[--chdir DIR] [--pdeathsig PPID] -- PROGRAM ARG...\n", stderr);
	return 126;
}

/* A new PID namespace for the job, whose first child will be its init.
 * Root (or a process already in a user namespace of its own: in_userns)
 * needs nothing else; otherwise a user namespace mapping our own ids comes
 * with it.  0, or -1 when namespaces are not available (the fallback). */
static int enter_pidns(int in_userns)
{
	if (unshare(CLONE_NEWPID) == 0)
		return 0;
	if (errno != EPERM || in_userns)
		return -1;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0)
		return -1;
	return map_ids(uid, uid, gid);
}

/* Fork the job as PID 1 of the new namespace and wait for it, passing its
 * status on as ours.  When init dies the kernel kills every process in the
 * namespace, and init dies with us (its parent-death signal), and we with
 * xgo-build: so SIGKILL of xgo-build takes down the job's whole tree, even
 * grandchildren that setsid() out of its process group. */
static int run_as_init(char **prog)
{
	int alive[2]; /* the child sees EOF on alive[0] once we are gone */
	if (pipe2(alive, O_CLOEXEC) < 0)
		return tramp_fail(126, "cannot create a pipe for", prog[0]);
	pid_t pid = fork();
	if (pid < 0)
		return tramp_fail(126, "cannot fork the PID namespace's init for", prog[0]);
	if (pid == 0) {
		close(alive[1]);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			_exit(tramp_fail(126, "cannot set the parent-death signal for", prog[0]));
		struct pollfd pf = { .fd = alive[0], .events = POLLIN };
		if (poll(&pf, 1, 0) != 0) /* the trampoline died before the prctl */
			_exit(126);
		execve(prog[0], prog, environ);
		_exit(tramp_fail(errno == ENOENT ? 127 : 126, "cannot run", prog[0]));
	}
	close(alive[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return tramp_fail(126, "cannot wait for", prog[0]);
	/* _exit, not return: once the namespace's init is gone no process can
	 * be created in it, and exit handlers that fork (LeakSanitizer's
	 * tracer, in sanitizer builds) would fail and change the status. */
	if (WIFEXITED(st))
		_exit(WEXITSTATUS(st));
	/* Die of the same signal, so that the runner sees what the job saw. */
	int sig = WTERMSIG(st);
	signal(sig, SIG_DFL);
	prctl(PR_SET_DUMPABLE, 0);
	raise(sig);
	_exit(128 + sig);
}

int iso_exec_main(int argc, char **argv)
{
	int netns = 0;
	long mask = -1, ppid = 0, uid = 0;
	const char *dir = NULL, *hostname = NULL;
	int i;
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		char *end = NULL;
		if (!strcmp(argv[i], "--netns"))
			netns = 1;
		else if (!strcmp(argv[i], "--uid") && i + 1 < argc)
			uid = strtol(argv[++i], &end, 10);
		else if (!strcmp(argv[i], "--hostname") && i + 1 < argc)
			hostname = argv[++i];
		else if (!strcmp(argv[i], "--umask") && i + 1 < argc)
			mask = strtol(argv[++i], &end, 8);
		else if (!strcmp(argv[i], "--chdir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--pdeathsig") && i + 1 < argc)
			ppid = strtol(argv[++i], &end, 10);
		else
			return tramp_usage(argv[i]);
		if (end && (*end || end == argv[i]))
			return tramp_usage(argv[i]);
	}
	if (i + 1 >= argc)
		return tramp_usage(NULL);
	char **prog = argv + i + 1;

	if ((netns || uid > 0 || hostname) && iso_enter(netns, uid, hostname) < 0)
		return tramp_fail(126, "cannot create the namespaces for", prog[0]);
	if (mask >= 0)
		umask((mode_t)(mask & 0777));
	if (dir && chdir(dir) < 0)
		return tramp_fail(126, "cannot change to directory", dir);
	if (ppid > 0) {
		/* SIGKILL us (and so the job) when xgo-build dies.  If it
		 * died before the prctl, we already have a new parent. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			return tramp_fail(126, "cannot set the parent-death signal for", prog[0]);
		if (getppid() != (pid_t)ppid)
			return 126;
		if (enter_pidns(netns || uid > 0 || hostname) == 0)
			return run_as_init(prog);
	}
	execve(prog[0], prog, environ);
	return tramp_fail(errno == ENOENT ? 127 : 126, "cannot run", prog[0]);
}
