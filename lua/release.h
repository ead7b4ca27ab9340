/* release.h - release.lua, loaded in a sandboxed Lua state and converted
 * into plain C values.  This is the first stage of the pipeline: nothing
 * after it touches Lua.
 *
 * Every declaration keeps the line it was written on, so later stages can
 * name "release.lua:12" in their errors.
 */
#ifndef XGO_RELEASE_H
#define XGO_RELEASE_H

#include <stddef.h>

#include "base/util.h"

/* One matrix dimension as written: key is whatever the file used ("goos",
 * "goarch", "cgo", "goarm", ...); the matrix stage validates keys and
 * values.  Booleans are stored as "true"/"false" with has_bool set. */
struct mx_dim {
	char *key;
	struct strv vals;
	int has_bool, has_string;
};

/* A set of dimensions: the matrix itself, or one include/exclude entry. */
struct mx_set {
	int line;
	struct mx_dim *dims;
	size_t ndims;
};

struct mx_spec {
	int line;
	struct mx_set base;
	struct mx_set *include, *exclude;
	size_t ninclude, nexclude;
};

struct build_decl {
	int line;
	char *name;       /* unique among builds */
	char *main;       /* package to build, default "." */
	char *binary;     /* file name without .exe, default name */
	char *output;     /* path template under dist/ */
	struct strv ldflags, flags, tags;
	struct strv env_pass; /* host variables passed through, by name */
	struct strv env_set;  /* "NAME=value" set explicitly */
	struct strv env_unset; /* NAME = false: left out of the job's env (only
	                          SOURCE_DATE_EPOCH may be; jobenv checks) */
	struct mx_spec targets;
	int static_link;      /* static = true (default): static binaries, checked */
	int smoke;            /* a smoke = { ... } key was given */
	struct strv smoke_args; /* smoke.args */
	char *smoke_expect;   /* smoke.expect (a template), NULL = exit status only */
	int vcs;              /* vcs = true: the go command stamps vcs.revision, vcs.time,
	                         vcs.modified and the main module version (no -buildvcs=false) */
	int universal;        /* universal = true: one fat Mach-O of darwin/amd64 and
	                         darwin/arm64 (orchestrator/universal.h) */
};

/* cc { zig = "0.17.0", use = "zig", libc = "musl", targets = { ... } }:
 * which C compiler serves the cgo targets (toolchains/cc.h resolves it). */
struct cc_decl {
	int line;             /* 0: no cc declaration (built-in presets) */
	char *zig;            /* pinned zig version, or NULL */
	char *use;            /* "zig", "gcc", "host", or NULL = zig when pinned, else host */
	char *libc;           /* zig's linux libc: "musl" (default) or "glibc" */
	struct strv targets;  /* "goos/goarch=toolchain" or "goos=toolchain"; a
	                         toolchain is zig, gcc, host or an absolute path */
};

struct archive_file {
	char *src;  /* path or pattern (package.h), relative to the project */
	char *dst;  /* destination inside the archive, or NULL */
	int mode;   /* 0 = normalised from the file */
	int optional; /* optional = true: matching nothing is no error */
};

struct archive_decl {
	int line;
	char *format;            /* tar.gz tar.xz tar.zst zip binary */
	struct strv overrides;   /* "goos=format" */
	char *name;              /* template */
	struct archive_file *files;
	size_t nfiles;
	int wrap_in_directory;
	struct strv builds;      /* empty = all builds */
};

struct checksums_decl {
	int line;
	char *file;      /* default SHA256SUMS */
	char *algorithm; /* sha256 or sha512 */
	int per_file;    /* also <file>.sha256 beside each published file */
};

/* image { name, base, files, entrypoint, labels, platforms, builds }: a
 * multi-platform OCI image layout in dist/ (orchestrator/oci.h). */
struct image_decl {
	int line;
	char *name;               /* dist/<name>-oci/; lowercase [a-z0-9._-] */
	char *base;               /* "scratch", or "DIR@sha256:HEX": a local OCI layout
	                             (relative to the project) and the digest of an
	                             index or manifest in it */
	struct archive_file *files; /* extra files, as in archive { files } */
	size_t nfiles;
	struct strv entrypoint;   /* empty: the one build's binary */
	struct strv labels;       /* "key=value", sorted by key */
	struct strv platforms;    /* "linux/amd64", "linux/arm/v7"; empty: every linux target */
	struct strv builds;       /* empty = all builds */
};

/* ---- package { ... }: Linux packages (orchestrator/linuxpkg.h) ---- */

/* One contents entry: what goes where in the installed system. */
struct package_content {
	char *type; /* "file" (default), "config", "symlink" or "binary" */
	char *src;  /* file: a project path; symlink: the link's target;
	               binary: a build name (NULL: the package's only build) */
	char *dst;  /* absolute path: "/usr/bin/hello" */
	int mode;   /* 0 = from the file: 0755 if it has an exec bit, else 0644 */
};

enum { PKG_SCRIPT_PREINSTALL, PKG_SCRIPT_POSTINSTALL, PKG_SCRIPT_PREREMOVE, PKG_SCRIPT_POSTREMOVE,
       PKG_SCRIPTS };

struct package_decl {
	int line;
	char *format;      /* "deb" or "rpm" */
	char *name;        /* package name; default the project name */
	char *version;     /* default the project version, without a leading 'v' */
	char *release;     /* default "1" */
	char *maintainer, *description, *license, *homepage; /* homepage/license may be NULL */
	struct strv depends;
	struct strv builds;  /* empty = all builds */
	struct strv targets; /* "linux/amd64", "linux/arm/7"; empty = every linux target */
	struct package_content *contents;
	size_t ncontents;
	char *scripts[PKG_SCRIPTS]; /* project paths, or NULL */
};

/* sbom { formats = { "spdx", "cyclonedx" } }: the SBOMs of every binary
 * (orchestrator/sbom.h).  Without the declaration: SPDX only. */
struct sbom_decl {
	int line;
	int spdx, cyclonedx;
};

/* A variable read through env(): recorded as a build input. */
struct env_read {
	char *name;
	char *value;      /* what the build file got */
	int from_default; /* the variable was unset */
};

/* cache { url = "http://host/prefix", read_only = false, token_env = "NAME" } */
struct cache_decl {
	int line;
	char *url;        /* the remote cache; NULL = none */
	int read_only;    /* fetch, never upload */
	char *token_env;  /* name of the variable holding a bearer token */
	char *signing_key_env;    /* the variable holding the signing key; NULL: the default */
	struct strv trusted_keys; /* public keys or key files (actcache_configure) */
	int no_gocacheprog;       /* gocacheprog = false: jobs use the plain GOCACHE */
};

/* signing { key = env("XGO_SIGNING_KEY_FILE"), password_env = "NAME", archives = false } */
struct signing_decl {
	int line;           /* 0: not declared */
	char *key;          /* minisign secret key file (relative: to the project); NULL = unsigned */
	char *password_env; /* the variable holding its password; NULL: XGO_SIGNING_PASSWORD */
	int archives;       /* also sign every published file, not only the checksum file */
};

struct release {
	char *path;        /* as given */
	char *dir;         /* directory of release.lua: the project root */
	char digest[65];   /* sha256 of the file's bytes */

	char *project;     /* project name */
	char *version;     /* NULL after release_load when project { } gives none:
	                      plan_load sets the git default (release_set_version) */
	int version_from_git; /* version is gitinfo's default */
	struct gitinfo *git;  /* the checkout's facts (orchestrator/gitinfo.h), owned;
	                         NULL until plan_load reads them */
	char *source_date_epoch; /* NULL = from the environment or git */
	int project_line;

	char *go_version;  /* pinned SDK version, e.g. "1.26.8" */
	char *sdk_mirror;  /* NULL = default */
	int go_line;

	struct build_decl *builds;
	size_t nbuilds;
	struct archive_decl *archives;
	size_t narchives;
	struct image_decl *images;
	size_t nimages;
	struct package_decl *packages;
	size_t npackages;
	struct checksums_decl checksums;
	struct sbom_decl sbom;
	struct cache_decl cache;
	struct signing_decl signing;
	struct cc_decl cc;

	struct strv before;  /* hook commands run once before the builds */
	struct strv after;   /* hook commands run per artifact */

	struct env_read *env_reads;
	size_t nenv_reads;
};

struct release_limits {
	size_t max_bytes;        /* Lua heap cap; 0 = default (64 MiB) */
	unsigned long max_instr; /* VM instruction cap; 0 = default (100M) */
	unsigned max_seconds;    /* CPU time cap; 0 = default (10 s) */
};

/* Load and validate path.  On error, prints one message naming
 * "file:line" and returns -1; *r is then empty.
 *
 * The instruction and memory caps end a runaway build file with an error.
 * Time spent inside one C library call (a Lua pattern that backtracks
 * exponentially: string.find(("a"):rep(40), ("a?"):rep(40) .. ("a"):rep(40)))
 * is invisible to the instruction count, so a CPU-time watchdog
 * (ITIMER_VIRTUAL, SIGVTALRM) runs while the file does: past max_seconds it
 * prints "<file>: time limit of N s exceeded ..." and exits the program
 * with EXIT_USAGE, since the call cannot be interrupted safely.
 *
 * All three limits hold until the state is closed.  The declarations are
 * converted with raw access only (no __index, __len or __pairs runs), and a
 * declaration table with a metatable is refused.  Every string must be
 * valid UTF-8, and so must every env() name and value; a build env key must
 * be non-empty, without '=' or control characters.  Every error names the
 * file and the best line known, whatever value the file raised. */
int release_load(const char *path, const struct release_limits *lim, struct release *r);
void release_clear(struct release *r);


/* Set the project version (when release.lua gives none), with the checks
 * project { version } gets, and the packages' default version from it.
 * error() naming the file and -1 for a version the builds cannot use. */
int release_set_version(struct release *r, const char *version);

/* The build named name, or NULL. */
const struct build_decl *release_build(const struct release *r, const char *name);

#endif
