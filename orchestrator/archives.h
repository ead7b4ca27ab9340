/* archives.h - the packaging stage: which archives a release publishes,
 * and writing them on worker threads while other targets still build.
 *
 * Every archive { ... } declaration gives one archive per target of the
 * builds it selects, holding the binaries of all those builds for that
 * target plus the declared extra files; format "binary" gives one raw copy
 * per job instead.  Names come from the declaration's template plus the
 * format's extension (".exe" for windows binaries).  Everything that can be
 * wrong (unknown format, missing extra file, two archives with one name) is
 * found by arc_plan, before any build starts.  An archive is queued as soon
 * as the last job it needs has built (arc_job_done), and written by
 * pkg_write (package.h) on a small thread pool.
 */
#ifndef XGO_ARCHIVES_H
#define XGO_ARCHIVES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/actcache.h"
#include "package.h"
#include "plan.h"

struct arc {
	const struct archive_decl *decl;
	char *name;              /* file name in dist/ */
	enum pkg_format format;
	char *wrap;              /* directory all entries go under, or NULL */
	size_t *jobs;            /* plan indexes whose binaries go in */
	size_t njobs, waiting;   /* waiting: jobs not built yet */
	struct pkg_entries extra;/* the declaration's extra files */
	int state;               /* 0 waiting, 1 queued, 2 written, -1 failed */
	struct pkg_result res;
};

struct arcplan {
	struct arc *v;
	size_t n;
};

/* Plan every archive of r for plan p; project_dir resolves extra files.
 * Errors name release.lua's line; the caller exits 2. */
int arc_plan(const struct release *r, const struct plan *p, const char *project_dir, struct arcplan *out);
void arc_plan_release(struct arcplan *ap);

/* Whether declaration d packs build b's binaries. */
int arc_selects(const struct archive_decl *d, const struct build_decl *b);
/* d's format for a GOOS (its format_overrides, else its format). */
enum pkg_format arc_format_for(const struct archive_decl *d, const char *goos);
/* pkg_expand_files of d's files, an error naming d's line (exit 2). */
int arc_expand_files(const struct release *r, const struct archive_decl *d, const char *project_dir,
		     struct pkg_entries *extra);

struct packer;

/* Start `threads` workers writing into stage_dir with every mtime = epoch;
 * archives the action cache holds (cache may be NULL) are copied from it. */
struct packer *packer_start(struct arcplan *ap, const struct plan *p, const char *stage_dir, int64_t epoch,
			    int threads, struct actcache *cache);
/* Job idx built its binary at path (with this sha256, or NULL when not
 * known): queue the archives waiting for it. */
void packer_job_done(struct packer *pk, size_t idx, const char *path, const char *sha256);
/* Wait for every queued archive; stop the workers.  Returns 0 when every
 * archive was written, -1 when one failed or was never queued. */
int packer_finish(struct packer *pk);

/* The manifest's "archives" list; NULL when a record did not convert. */
json_t *arc_manifest(const struct arcplan *ap, const struct plan *p);

#endif
