/* proc.h - run a short helper command and capture its output.
 *
 * For the few synchronous questions xgo-build asks other programs (`go
 * tool dist list -json`, `git log -1 --format=%ct`, `go version`).  Build
 * jobs go through the runner (runner.h) instead.
 */
#ifndef XGO_PROC_H
#define XGO_PROC_H

#include "util.h"

/* The value of name in a NULL-terminated environment (NULL = empty), or
 * NULL when it is not set. */
const char *proc_env_get(char *const envp[], const char *name);

/* The one PATH search (proc_capture, the runner, cc, explain, local SDKs):
 * name itself when it holds a '/'; else the first "dir/name" that is a
 * regular executable file, dir taken in order from path (colon-separated,
 * NULL = none).  Empty and relative entries are skipped: the working
 * directory is never searched.  Caller frees; NULL when not found (no
 * error(): the caller says what to install). */
char *proc_find(const char *name, const char *path);

/* Run argv (argv[0] with a '/', or searched by proc_find in envp's PATH,
 * never the caller's) with exactly envp (NULL = empty, so no PATH), in dir
 * (NULL = here), stdin /dev/null, stdout into out (bounded by out->max),
 * stderr into err (may be NULL: discarded).  Returns 0 with *status the
 * exit code (128+signal when killed), or -1 when it could not run or the
 * output overflowed. */
int proc_capture(char *const argv[], char *const envp[], const char *dir, struct buf *out, struct buf *err,
		 int *status);

#endif
