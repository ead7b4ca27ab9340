/* fuzz_release - release.lua in the sandboxed Lua state (lua/release.c).
 *
 * The sandbox must hold: while the file runs, any attempt to reach the
 * file system, start a process or change the environment is a finding.
 * This harness defines the libc functions Lua's io and os libraries would
 * call; being in the executable, they take the place of libc's for
 * liblua too, and abort when called during a load.  fopen/open are
 * allowed only on the build file itself (release_load reads it).  Time
 * and memory are bounded by the loader's own limits, set small here. */
#include "fuzz.h"
#include "lua/release.h"
#include "base/hash.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

static int loading;
static char path[128];

static void escaped(const char *what, const char *arg)
{
	if (loading) {
		fprintf(stderr, "sandbox escape: %s(%s) during release_load\n", what, arg ? arg : "");
		abort();
	}
}

FILE *fopen(const char *p, const char *mode)
{
	static FILE *(*real)(const char *, const char *);
	if (strcmp(p, path) != 0)
		escaped("fopen", p);
	if (!real)
		real = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "fopen");
	return real(p, mode);
}

FILE *popen(const char *cmd, const char *mode)
{
	escaped("popen", cmd);
	(void)mode;
	return NULL;
}

int system(const char *cmd)
{
	escaped("system", cmd);
	return -1;
}

int remove(const char *p)
{
	escaped("remove", p);
	return unlink(p);
}

int rename(const char *a, const char *b)
{
	static int (*real)(const char *, const char *);
	escaped("rename", a);
	if (!real)
		real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	return real(a, b);
}

int setenv(const char *name, const char *value, int overwrite)
{
	static int (*real)(const char *, const char *, int);
	escaped("setenv", name);
	if (!real)
		real = (int (*)(const char *, const char *, int))dlsym(RTLD_NEXT, "setenv");
	return real(name, value, overwrite);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (!path[0]) {
		snprintf(path, sizeof(path), "%s/release.lua", fuzz_tmpdir());
		fuzz_write(path, d, 0);
		/* OpenSSL reads its configuration on first use: not the sandbox's. */
		char hex[HASH_HEX_MAX];
		hash_file_hex(HASH_SHA256, path, hex, NULL);
	}
	fuzz_write(path, d, n);
	/* max_seconds: past it the watchdog exits the process; let libFuzzer's own
	 * -timeout report such an input as a finding instead. */
	struct release_limits lim = { .max_bytes = 8u << 20, .max_instr = 200000, .max_seconds = 3600 };
	struct release r;
	error_quiet(1);
	loading = 1;
	int rc = release_load(path, &lim, &r);
	loading = 0;
	if (rc == 0) {
		FUZZ_CHECK(r.project && r.go_version);
		release_clear(&r);
	}
	return 0;
}
