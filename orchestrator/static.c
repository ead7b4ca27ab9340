/* static.c - the static check (see static.h). */
#define _POSIX_C_SOURCE 200809L
#include "static.h"
#include "base/binfmt.h"
#include "plan.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* DLLs that are part of every Windows install (lowercase). */
static const char *const windows_dlls[] = {
	"advapi32.dll", "bcrypt.dll", "bcryptprimitives.dll", "comctl32.dll", "comdlg32.dll", "crypt32.dll",
	"dbghelp.dll", "dnsapi.dll", "dwmapi.dll", "gdi32.dll", "imm32.dll", "iphlpapi.dll", "kernel32.dll",
	"mswsock.dll", "msvcrt.dll", "ncrypt.dll", "netapi32.dll", "normaliz.dll", "ntdll.dll", "ole32.dll",
	"oleaut32.dll", "powrprof.dll", "psapi.dll", "rpcrt4.dll", "secur32.dll", "setupapi.dll", "shell32.dll",
	"shlwapi.dll", "synchronization.dll", "ucrtbase.dll", "user32.dll", "userenv.dll", "uxtheme.dll",
	"version.dll", "winhttp.dll", "wininet.dll", "winmm.dll", "ws2_32.dll", "wsock32.dll", "wtsapi32.dll",
};

static int windows_system_dll(const char *name)
{
	if (!strncasecmp(name, "api-ms-win-", 11) || !strncasecmp(name, "ext-ms-win-", 11))
		return 1;
	for (size_t i = 0; i < ARRAY_LEN(windows_dlls); i++)
		if (!strcasecmp(name, windows_dlls[i]))
			return 1;
	return 0;
}

static int macos_system_lib(const char *name)
{
	return !strcmp(name, "/usr/lib/libSystem.B.dylib") || !strcmp(name, "/usr/lib/libresolv.9.dylib") ||
	       !strncmp(name, "/System/Library/Frameworks/", 27);
}

/* The ports whose Go runtime loads the system's C library with cgo off,
 * from `go build` of each with CGO_ENABLED=0 (Go 1.26): their loaders and
 * libraries, matched as prefixes ("libc.so" takes "libc.so.97.1"). */
struct port_libs {
	const char *goos;
	const char *loaders[3];
	const char *libs[7];
};

static const struct port_libs port_libs[] = {
	{ "openbsd", { "/usr/libexec/ld.so" }, { "libc.so", "libpthread.so" } },
	{ "android", { "/system/bin/linker64", "/system/bin/linker" }, { "libc.so", "libdl.so", "liblog.so", "libm.so" } },
	{ "solaris", { "/lib/amd64/ld.so.1", "/usr/lib/amd64/ld.so.1" },
	  { "libc.so", "libsocket.so", "libsendfile.so", "libnsl.so", "libpthread.so", "libm.so" } },
	{ "illumos", { "/lib/amd64/ld.so.1", "/usr/lib/amd64/ld.so.1" },
	  { "libc.so", "libsocket.so", "libsendfile.so", "libnsl.so", "libpthread.so", "libm.so" } },
};

static const struct port_libs *port_of(const char *goos)
{
	for (size_t i = 0; goos && i < ARRAY_LEN(port_libs); i++)
		if (!strcmp(goos, port_libs[i].goos))
			return &port_libs[i];
	return NULL;
}

static int listed(const char *const *names, size_t max, const char *name, int prefix)
{
	for (size_t i = 0; i < max && names[i]; i++)
		if (prefix ? !strncmp(name, names[i], strlen(names[i])) : !strcmp(name, names[i]))
			return 1;
	return 0;
}

/* An ELF file: 1 static by the rule of goos, 0 not (why says which). */
static int elf_static(const struct binfmt_deps *deps, const char *goos, char *why, size_t whysize)
{
	const struct port_libs *pl = port_of(goos);
	if (deps->interp[0] && !(pl && listed(pl->loaders, ARRAY_LEN(pl->loaders), deps->interp, 0))) {
		snprintf(why, whysize, "dynamically linked: loader %s (PT_INTERP)%s%s%s", deps->interp,
			 deps->n ? ", needs " : "", deps->n ? deps->needed[0] : "", deps->n ? " (DT_NEEDED)" : "");
		return 0;
	}
	for (size_t i = 0; i < deps->n; i++)
		if (!(pl && listed(pl->libs, ARRAY_LEN(pl->libs), deps->needed[i], 1))) {
			snprintf(why, whysize, "needs %s (DT_NEEDED)%s%s", deps->needed[i], pl ? ", not a system library of " : "",
				 pl ? goos : "");
			return 0;
		}
	return 1;
}

int static_check_bytes(const unsigned char *d, size_t n, const char *goos, char *why, size_t whysize)
{
	struct binfmt_deps *deps = xmalloc(sizeof(*deps));
	const char *kind = binfmt_kind(d, n);
	int rc = -1;
	if (!kind || binfmt_deps(d, n, deps) < 0)
		goto out;
	if (!strcmp(kind, "elf")) {
		rc = elf_static(deps, goos, why, whysize);
		goto out;
	}
	rc = 1;
	for (size_t i = 0; i < deps->n && rc == 1; i++) {
		const char *dep = deps->needed[i];
		if (!strcmp(kind, "pe") && !windows_system_dll(dep))
			snprintf(why, whysize, "imports %s, which is not a Windows system DLL", dep);
		else if (!strcmp(kind, "macho") && !macos_system_lib(dep))
			snprintf(why, whysize, "links %s, which is not part of macOS", dep);
		else
			continue;
		rc = 0;
	}
out:
	free(deps);
	return rc;
}

int static_check_file(const char *path, const char *goos, char *why, size_t whysize)
{
	size_t n;
	/* Go binaries are tens of MiB; 1 GiB bounds a runaway output. */
	unsigned char *d = (unsigned char *)read_file(path, (size_t)1 << 30, &n);
	if (!d)
		return -1;
	int rc = static_check_bytes(d, n, goos, why, whysize);
	free(d);
	if (rc < 0)
		return error("'%s' is not an ELF, PE or Mach-O binary", path);
	return rc;
}

int static_check_job(const struct job *j, const char *path)
{
	char why[512];
	/* wasm, Plan 9 and XCOFF have no loader that could name a library
	 * beyond the system's (static.h) */
	static const char *const no_loader[] = { "js", "wasip1", "plan9", "aix" };
	for (size_t i = 0; i < ARRAY_LEN(no_loader); i++)
		if (!strcmp(j->target.goos, no_loader[i]))
			return 0;
	if (!j->static_link)
		return 0;
	int st = static_check_file(path, j->target.goos, why, sizeof(why));
	if (st == 0)
		return error("%s %s is declared static but %s (static = false in build '%s' allows that)",
			     j->build->name, j->id, why, j->build->name);
	return st < 0 ? -1 : 0;
}
