/* proc.h - run a short helper command and capture its output.
 *
 * For the few synchronous questions xgo-build asks other programs (`go
 * tool dist list -json`, `git log -1 --format=%ct`, `go version`).  Build
 * jobs go through the runner (runner.h) instead.
 */
#ifndef XGO_PROC_H
#define XGO_PROC_H

#include "util.h"

/* Run argv (argv[0] an absolute path or searched in envp's PATH) with
 * exactly envp (NULL = empty), in dir (NULL = here), stdin /dev/null,
 * stdout into out (bounded by out->max), stderr into err (may be NULL:
 * discarded).  Returns 0 with *status the exit code (128+signal when
 * killed), or -1 when it could not run or the output overflowed. */
int proc_capture(char *const argv[], char *const envp[], const char *dir, struct buf *out, struct buf *err,
		 int *status);

#endif
