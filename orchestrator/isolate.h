/* isolate.h - isolation levels for build jobs, and the __exec trampoline.
 *
 * posix_spawn cannot unshare namespaces or set a parent-death signal, so a
 * job that needs either is started through the xgo-build binary itself:
 *
 *     xgo-build __exec [--netns] [--umask OCTAL] [--chdir DIR]
 *                      [--pdeathsig PPID] -- PROGRAM ARG...
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

/* The trampoline: argv[0] is "__exec".  Applies the options in the order
 * netns, umask, chdir, pdeathsig, then execve()s PROGRAM with environ.
 * Returns only on failure, after printing "xgo-build: ..." to stderr:
 * 127 when PROGRAM cannot be found, 126 for any other failure. */
int iso_exec_main(int argc, char **argv);

#endif
