/* source.h - the digest of a project's source tree, for the manifest.
 *
 * Every regular file and symlink below the project directory, sorted by
 * path; records as in treedigest.h ("f <mode> <size> <sha256> <path>\0",
 * "l <sha256(target)> <path>\0").  Left out: version-control metadata and
 * the default work dir at the top level only (.git, .hg, .svn,
 * .xgo-build), and the directories the run writes, by their real paths
 * (skip).  So the same bytes give the same digest in any directory, on
 * any machine, in any run.
 */
#ifndef XGO_SOURCE_H
#define XGO_SOURCE_H

#define SOURCE_MAX_FILES 200000

/* dir: absolute and normalised.  skip (NULL-terminated, may be NULL):
 * the absolute, normalised paths of directories to leave out wherever
 * they lie below dir -- the dist and work directories; each also leaves
 * out its siblings <path>.tmp-N and <path>.old-N (a run's staging
 * directories, util.h swap_into_place). */
int source_digest(const char *dir, const char *const *skip, char out[65], unsigned long *files);

/* A cheap fingerprint of the same tree: paths and stat data (mode, size,
 * mtime and ctime in ns, inode), no contents.  Equal fingerprints mean
 * nothing was written since (the action cache uses it to reuse the
 * source digests of the last run without asking the go command).
 * names, from the same walk: the paths, link targets and the contents of
 * every go.mod -- equal names mean no file was added, removed or renamed
 * (the action cache then re-reads only the heads of the files, gohead.h). */
int source_fingerprint(const char *dir, const char *const *skip, char out[65], char names[65]);

/* The digest of the same tree's C inputs only: the files a C compile or
 * a cgo link may read that the go command's build cache does not hash
 * (a header outside the package directory, an archive named by
 * LDFLAGS): every file named like a C, C++ or Objective-C header or
 * source, an object or a library (.h .hh .hpp .hxx .inc .inl .def .ipp
 * .tcc .c .cc .cpp .cxx .m .mm .S .s .a .o .so .syso .lib) in a
 * directory that holds no .go file (Go hashes a package directory's own
 * C files itself).  Its first digits go into the cgo jobs' C flags
 * (cc.h), so that Go's cache keys every cgo package by them; a project
 * whose C files all lie in package directories has none, and so the
 * same flags as before (its cgo dependencies stay shared in GOCACHE).
 * *inputs: how many files it hashed. */
int source_c_digest(const char *dir, const char *const *skip, char out[65], unsigned long *inputs);

#endif
