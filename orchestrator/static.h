/* static.h - is a built binary static?  The check reads the binary itself.
 *
 * "Static" means the binary runs on a bare system of its kind:
 *   ELF     no PT_INTERP and no DT_NEEDED at all;
 *   PE      imports only Windows system DLLs (kernel32.dll, ntdll.dll,
 *           ws2_32.dll, msvcrt.dll, ucrtbase.dll, api-ms-win-*, ...);
 *   Mach-O  links only /usr/lib/libSystem.B.dylib, /usr/lib/libresolv.9.dylib
 *           and /System/Library/Frameworks/ (every macOS has them; Go's own
 *           runtime and net package use libSystem and libresolv even with
 *           CGO_ENABLED=0, and crypto/x509 uses the Security framework).
 *   ELF of a port where Go itself links the system's C library even with
 *           cgo off (static_port_libs): only that port's loader and libraries
 *           -- openbsd /usr/libexec/ld.so with libc.so and libpthread.so;
 *           android /system/bin/linker(64) with libc.so, libdl.so, liblog.so,
 *           libm.so; solaris and illumos ld.so.1 with libc.so, libsocket.so,
 *           libsendfile.so, libnsl.so, libpthread.so, libm.so;
 *   js, wasip1, plan9 and aix (wasm, Plan 9 a.out, XCOFF, whose loader
 *           names nothing beyond the system's libc): static_check_job
 *           passes them unread.
 * Anything else (libc.so.6, libwinpthread-1.dll, /usr/local/lib/x.dylib)
 * is a dependency that makes the binary not static.
 */
#ifndef XGO_STATIC_H
#define XGO_STATIC_H

#include <stddef.h>

/* Check the binary in d[0..n), built for goos (NULL: the ELF rule of
 * linux).  Returns 1 static, 0 not (why gets one line naming the first
 * dependency found, e.g. "needs libc.so.6 (DT_NEEDED)"), -1 when d is no
 * executable format binfmt.h knows. */
int static_check_bytes(const unsigned char *d, size_t n, const char *goos, char *why, size_t whysize);

/* The same for a file built for goos (NULL: the ELF rule of linux); -1
 * with error() when it cannot be read. */
int static_check_file(const char *path, const char *goos, char *why, size_t whysize);

struct job;
/* The check of a built job: 0 when it is not declared static or is
 * static; -1 after an error naming the build, target and dependency. */
int static_check_job(const struct job *j, const char *path);

#endif
