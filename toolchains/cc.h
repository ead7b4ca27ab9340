/* cc.h - C toolchains for cgo jobs: presets as data, resolution, pinning.
 *
 * A cgo target needs a C compiler for its GOOS/GOARCH.  release.lua's
 * cc { ... } (lua/release.h struct cc_decl) chooses one per target:
 *
 *   1. cc.targets["goos/goarch"], then cc.targets["goos"];
 *   2. cc.use;
 *   3. "zig" when cc.zig pins a version;
 *   4. "host" when the target is this machine's own (linux/amd64 here);
 *   5. none: an error naming the toolchain that would serve and how to
 *      add it.
 *
 * Toolchains:
 *   zig   `zig cc -target <triple>` (x86_64-linux-musl, aarch64-macos,
 *         x86_64-windows-gnu, ...), the zig binary pinned by version and
 *         by the sha256 of the binary and the tree digest of its lib/ in
 *         release.lock (lockfile.h), verified before use.  Found at
 *         $XGO_ZIG, else `zig` on PATH, else in python3's ziglang package
 *         (the ziglang wheel); the first whose `zig version` matches.
 *   gcc   the Debian cross compiler <triple>-gcc on PATH
 *         (aarch64-linux-gnu-gcc, x86_64-w64-mingw32-gcc, ...).
 *   host  gcc on PATH, for the machine's own target only.
 *   /abs/path  that compiler (gcc-compatible driver), for any target.
 *
 * Every resolved compiler has an identity: its path, version line and the
 * sha256 of its binary (for zig also the lib/ tree digest and the
 * -target triple).  identity digest = sha256 of
 *   "xgo-cc-v1\n" kind "\n" path "\n" version "\n" sha256 "\n" lib "\n" triple "\n"
 * It goes into the job value (plan.h: cc, cc_digest), the manifest,
 * and the cgo flags (-DXGO_CC_ID=<digest>) so that Go's build cache keys
 * every C compile and link with it: a changed C toolchain never reuses stale objects.
 */
#ifndef XGO_CC_H
#define XGO_CC_H

#include <jansson.h>
#include <stddef.h>

#include "lua/release.h"
#include "matrix/matrix.h"
#include "lockfile.h"

struct cc_tool {
	char kind[8];          /* "zig", "gcc", "host", "path" */
	char *path;            /* the compiler binary, absolute */
	char *version;         /* version line: "zig 0.17.0", "aarch64-linux-gnu-gcc (Debian ...) 12.2.0" */
	char sha256[65];       /* sha256 of the binary */
	char lib_digest[65];   /* zig: tree digest of lib/; "" otherwise */
	char *triple;          /* zig -target value or gcc triple; "" for host and paths */
	char *cc, *cxx, *ar;   /* the values of CC, CXX and AR */
	char *ldflags;         /* extra CGO_LDFLAGS (zig darwin: -F/-L of the macOS stubs), or NULL */
	char digest[65];       /* the identity digest (above) */
};

/* What a C toolchain is chosen for: one job's target (a plan's job, read
 * by the caller; its build's name and line go into errors). */
struct cc_need {
	const struct build_decl *build;
	const struct target *target;
	const char *id;  /* target_id of target: "linux/arm64+cgo" */
	int static_link; /* linked static: zig then needs musl on linux */
};

/* The toolchains of n needs: one entry per need, in their order (kind ""
 * for a target without cgo).  The plan stage stores them in its jobs
 * (jobenv.h jobenv_plan: job->cc points into v), so the set lives as long
 * as the plan. */
struct cc_set {
	struct cc_tool *v;
	size_t n;
};

/* Resolve the C toolchain of every cgo target of need[0..n).  cache_dir
 * holds the zig verification records.  Returns EXIT_OK, EXIT_USAGE (no
 * toolchain serves a target, or the cc declaration cannot serve it) or
 * EXIT_TOOLCHAIN (a declared compiler is missing or differs from its
 * pin), after one error naming the build, target and fix. */
int cc_resolve(const struct release *r, const struct cc_need *need, size_t n, const char *cache_dir,
	       struct cc_set *out);
void cc_set_release(struct cc_set *s);

/* The toolchain target t gets under d (see above): "zig", "gcc", "host",
 * an absolute path, or NULL when none serves it. */
const char *cc_choose(const struct cc_decl *d, const struct target *t);

/* Preset triples: zig's -target for t with libc ("musl" or "glibc"), the
 * Debian cross gcc triple and its package; NULL when there is none. */
const char *cc_zig_triple(const struct target *t, const char *libc, char *buf, size_t size);
const char *cc_gcc_triple(const struct target *t, const char **package);

/* Find zig `version` (see above); *path gets the binary (caller frees).
 * -1 with an error saying how to install it. */
int cc_zig_find(const char *version, char **path);
/* The pin of the zig binary at path: its sha256 and lib/ tree digest. */
int cc_zig_pin(const char *path, struct lock_tool *out);

/* The cgo part of a job's environment: CC, CXX, AR, CGO_CFLAGS,
 * CGO_CXXFLAGS, CGO_LDFLAGS (the identity define; no paths: they would
 * reach the build ID) and, for zig, the shared
 * ZIG_GLOBAL_CACHE_DIR/ZIG_LOCAL_CACHE_DIR.  user holds the build's own
 * "CGO_CFLAGS=..." settings, appended after xgo-build's. */
struct cc_env_in {
	const char *zig_cache;
	const struct strv *user;
	const char *c_inputs; /* source_c_digest of the project (source.h), or NULL */
	const struct strv *flags; /* the build's go build flags (-buildmode), or NULL */
};
void cc_job_env(const struct cc_tool *t, const struct target *tg, const struct cc_env_in *in, struct strv *env);

/* The identity for manifest.json: { kind, path, version, sha256,
 * lib_tree_digest (zig), triple, digest }. */
json_t *cc_json(const struct cc_tool *t);

/* The names a build's env may not set because cc_job_env does. */
int cc_controls(const char *name, size_t len);

#endif
