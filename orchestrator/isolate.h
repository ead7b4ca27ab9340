/* isolate.h - isolation levels for build jobs, and the __exec trampoline.
 *
 * posix_spawn cannot unshare namespaces or set a parent-death signal, so a
 * job that needs either is started through the xgo-build binary itself:
 *
 *     xgo-build __exec [--netns] [--uid UID] [--hostname NAME]
 *                      [--umask OCTAL] [--chdir DIR] [--pdeathsig PPID]
 *                      -- PROGRAM ARG...
 *
 * --uid and --hostname exist for `verify`: the job runs in a new user
 * namespace where it is UID (mapped to our own uid outside) and/or a new
 * UTS namespace with host name NAME.
 *
 * main() dispatches "__exec" to iso_exec_main() before anything else.  The
 * trampoline is spawned with the job's exact environment and execve()s
 * PROGRAM with that same environment, so nothing leaks from xgo-build.
 */
#ifndef XGO_ISOLATE_H
#define XGO_ISOLATE_H

enum iso_level {
	ISO_NONE, /* an ordinary child process */
	ISO_NET,  /* a new network namespace: no network at all (loopback down) */
};

/* Probe once (the answer is cached) whether this process can start a job
 * in a new network namespace: plain unshare(CLONE_NEWNET) when privileged,
 * else a new user namespace that maps only our own uid/gid.  Forks a child
 * to try; never changes this process.  Returns 1 available, 0 not; *why (may
 * be NULL) gets a static reason for "not". */
int iso_net_available(const char **why);

/* Parse --isolation=REQUESTED ("auto", "none", "net"; NULL means "auto").
 * auto picks net when available, else none; an explicit "net" that is not
 * available is an error, never a silent downgrade.  Returns 0 with *out
 * set, or error() (-1) with a message; the caller exits EXIT_USAGE. */
int iso_choose(const char *requested, enum iso_level *out);

const char *iso_level_name(enum iso_level level);

/* The absolute path of the running binary (readlink /proc/self/exe), to
 * use as the trampoline.  Caller frees.  NULL with error() on failure. */
char *iso_self_exe(void);

/* Put the calling process into a new network namespace (see
 * iso_net_available).  Only for a single-threaded process that is about to
 * exec: the trampoline and the probe.  Returns 0 or -1 with errno set;
 * prints nothing. */
int iso_enter_netns(void);

/* Whether jobs can run with --uid and --hostname here (probed once in a
 * forked child, cached).  1 yes, 0 no with *why (may be NULL) a static
 * reason. */
int iso_vary_available(const char **why);

/* Enter the namespaces of --netns, --uid (> 0) and --hostname (non-NULL)
 * at once.  Same rules as iso_enter_netns. */
int iso_enter(int netns, long uid, const char *hostname);

/* Whether a job can get a PID namespace of its own here (probed once in a
 * forked child, cached): 1 yes, 0 no.  For tests and reports; the
 * trampoline simply tries. */
int iso_pidns_available(void);

/* The trampoline: argv[0] is "__exec".  Applies the options in the order
 * namespaces (net, user, uts), umask, chdir, pdeathsig, then execve()s PROGRAM with environ.
 * With --pdeathsig, when namespaces allow, the job runs as PID 1 of a new
 * PID namespace (unshare CLONE_NEWPID, plus CLONE_NEWUSER mapping our own
 * ids when unprivileged) and the trampoline stays as its parent, passing
 * its exit status or signal on: when the job's init dies, the kernel kills
 * the whole namespace, so nothing the job started (compile, link, a
 * setsid() daemon) outlives it or xgo-build.  Otherwise (no namespaces) the
 * job itself is exec'd with the parent-death signal: the documented
 * fallback, where grandchildren can outlive a SIGKILLed xgo-build.
 * Returns only on failure, after printing "xgo-build: ..." to stderr:
 * 127 when PROGRAM cannot be found, 126 for any other failure. */
int iso_exec_main(int argc, char **argv);

#endif
