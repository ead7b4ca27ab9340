/* static.c - the static check (see static.h). */
#define _POSIX_C_SOURCE 200809L
#include "static.h"
#include "binfmt.h"
#include "plan.h"
#include "util.h"

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

int static_check_bytes(const unsigned char *d, size_t n, char *why, size_t whysize)
{
	struct binfmt_deps *deps = xmalloc(sizeof(*deps));
	const char *kind = binfmt_kind(d, n);
	int rc = -1;
	if (!kind || binfmt_deps(d, n, deps) < 0)
		goto out;
	rc = 1;
	if (!strcmp(kind, "elf") && deps->interp[0]) {
		snprintf(why, whysize, "dynamically linked: loader %s (PT_INTERP)%s%s%s", deps->interp,
			 deps->n ? ", needs " : "", deps->n ? deps->needed[0] : "", deps->n ? " (DT_NEEDED)" : "");
		rc = 0;
	}
	for (size_t i = 0; i < deps->n && rc == 1; i++) {
		const char *dep = deps->needed[i];
		if (!strcmp(kind, "elf"))
			snprintf(why, whysize, "needs %s (DT_NEEDED)", dep);
		else if (!strcmp(kind, "pe") && !windows_system_dll(dep))
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

int static_check_file(const char *path, char *why, size_t whysize)
{
	size_t n;
	/* Go binaries are tens of MiB; 1 GiB bounds a runaway output. */
	unsigned char *d = (unsigned char *)read_file(path, (size_t)1 << 30, &n);
	if (!d)
		return -1;
	int rc = static_check_bytes(d, n, why, whysize);
	free(d);
	if (rc < 0)
		return error("'%s' is not an ELF, PE or Mach-O binary", path);
	return rc;
}

int static_check_job(const struct job *j, const char *path)
{
	char why[512];
	if (!j->static_link)
		return 0;
	int st = static_check_file(path, why, sizeof(why));
	if (st == 0)
		return error("%s %s is declared static but %s (static = false in build '%s' allows that)",
			     j->build->name, j->id, why, j->build->name);
	return st < 0 ? -1 : 0;
}
