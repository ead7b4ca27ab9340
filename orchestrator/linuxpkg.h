/* linuxpkg.h - release.lua's package { } declarations: deb (and rpm)
 * packages of the linux targets, planned before anything builds and written
 * deterministically after the builds.
 *
 * Each declaration gives one package per linux target of the builds it
 * selects (narrowed by its `targets`), holding those builds' binaries (at
 * /usr/bin/<binary> unless a contents entry of type "binary" places one)
 * plus its contents and scripts.  Everything that can be wrong -- a target
 * with no architecture name in the format, a missing content file or
 * script, two entries with one dst, a name another output publishes -- is
 * found by lpkg_plan and plan_check_published, before any build (exit 2).
 *
 * deb: an ar archive (debian-binary, control.tar.gz, data.tar.gz) written
 * with libarchive: entries sorted, every mtime SOURCE_DATE_EPOCH, owner
 * 0/0 root/root, gzip without time or name.  docs/packages.md has the
 * details and the comparison with nfpm.
 */
#ifndef XGO_LINUXPKG_H
#define XGO_LINUXPKG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/actcache.h"
#include "build.h"
#include "base/hash.h"
#include "plan.h"

/* CHANGELOG and OVERRIDES are written by xgo-build when the contents do not
 * give them: /usr/share/doc/<name>/changelog.Debian.gz (one entry for the
 * version, dated SOURCE_DATE_EPOCH) and /usr/share/lintian/overrides/<name>
 * (statically-linked-binary for each Go binary: static by design). */
enum lpkg_kind { LPKG_FILE, LPKG_CONFIG, LPKG_SYMLINK, LPKG_BINARY, LPKG_CHANGELOG, LPKG_OVERRIDES };

/* One installed file of a package. */
struct lpkg_file {
	char *dst;          /* absolute: "/usr/bin/hello" */
	enum lpkg_kind kind;
	char *src;          /* file or config: the resolved project file;
	                       symlink: the link's target; binary: NULL */
	size_t job;         /* binary: the plan index of its job */
	int mode;           /* 0 = from the file (0755 with an exec bit, else 0644) */
};

struct lpkg {
	const struct package_decl *decl;
	char *name;            /* file name in dist/ */
	const char *arch;      /* the format's name: "amd64", "armhf", "x86_64" */
	size_t *jobs;          /* plan indexes whose binaries go in */
	size_t njobs;
	struct lpkg_file *files;
	size_t nfiles;
	char *scripts[PKG_SCRIPTS]; /* the scripts' text, or NULL */
	int written;
	uint64_t size;         /* after lpkg_write_all */
	char sha256[65];
};

struct lpkgplan {
	struct lpkg *v;
	size_t n;
};

/* Plan every package of r for plan p; project_dir resolves contents and
 * scripts.  Errors name release.lua's line and the field; the caller
 * exits 2. */
int lpkg_plan(const struct release *r, const struct plan *p, const char *project_dir, struct lpkgplan *out);
void lpkg_plan_release(struct lpkgplan *lp);

/* The architecture name of target t in format ("deb" or "rpm"), or NULL
 * when the format has none for it. */
const char *lpkg_arch(const char *format, const struct target *t);

/* Write every package into stage_dir after the builds (res: one result per
 * plan job, with the binary's path and sha256), every mtime = epoch;
 * rpmbuild works in work_dir/rpm/.  With an action cache (NULL: none), a
 * package whose inputs (every declared field, file, script, the epoch and
 * the writers' versions) are those of a stored one is copied from it.
 * 0, or -1 after an error naming the package. */
int lpkg_write_all(struct lpkgplan *lp, const struct plan *p, const struct result *res, const char *stage_dir,
		   const char *work_dir, int64_t epoch, struct actcache *cache);

/* The manifest's "packages" list; NULL when a record did not convert. */
json_t *lpkg_manifest(const struct lpkgplan *lp, const struct plan *p);

#endif
