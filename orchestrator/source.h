/* source.h - the digest of a project's source tree, for the manifest.
 *
 * Every regular file and symlink below the project directory, except the
 * output and work directories and version-control metadata (.git, .hg,
 * .svn, dist/, .xgo-build/), sorted by path; records as in treedigest.h
 * ("f <mode> <size> <sha256> <path>\0", "l <sha256(target)> <path>\0").
 */
#ifndef XGO_SOURCE_H
#define XGO_SOURCE_H

#define SOURCE_MAX_FILES 200000

/* skip: extra top-level directory names to leave out (NULL-terminated,
 * may be NULL), e.g. the dist directory's name. */
int source_digest(const char *dir, const char *const *skip, char out[65], unsigned long *files);

/* A cheap fingerprint of the same tree: paths and stat data (mode, size,
 * mtime and ctime in ns, inode), no contents.  Equal fingerprints mean
 * nothing was written since (the action cache uses it to reuse the
 * source digests of the last run without asking the go command).
 * names, from the same walk: the paths, link targets and the contents of
 * every go.mod -- equal names mean no file was added, removed or renamed
 * (the action cache then re-reads only the heads of the files, gohead.h). */
int source_fingerprint(const char *dir, const char *const *skip, char out[65], char names[65]);

#endif
