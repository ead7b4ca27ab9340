/* package.h - deterministic release archives (tar.gz, tar.xz, tar.zst, zip)
 * and raw binary copies, written with libarchive.
 *
 * The same entries and the same SOURCE_DATE_EPOCH give the same bytes on any
 * host: entries are sorted bytewise by archive path, every parent directory
 * gets its own entry, every mtime is the epoch, owners are 0/0 with empty
 * names, modes are 0755 (directories, executables) or 0644, no atime, ctime
 * or birth time is stored, compression levels are fixed, and the gzip header
 * carries neither a time nor a file name.  docs/package.md has the details.
 *
 * Thread-safety: call pkg_init() once from main before starting threads;
 * after that pkg_write() and pkg_expand_files() may run concurrently on
 * different requests (the lead runs one per finished target on a small pool).
 */
#ifndef XGO_PACKAGE_H
#define XGO_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#include "lua/release.h"
#include "base/hash.h"

enum pkg_format { PKG_TAR_GZ, PKG_TAR_XZ, PKG_TAR_ZST, PKG_ZIP, PKG_BINARY };

/* Longest archive path accepted, in bytes. */
#define PKG_PATH_MAX 1024

/* One file to put in an archive. */
struct pkg_entry {
	char *path; /* name inside the archive: relative, '/'-separated */
	char *src;  /* file on disk; a symlink as its last component is
	               refused (pkg_expand_files gives resolved paths) */
	int mode;   /* permission bits; 0 = 0755 if any exec bit is set, else 0644 */
};

/* An owned, growable list of entries. */
struct pkg_entries {
	struct pkg_entry *v;
	size_t n, cap;
};
void pkg_entries_add(struct pkg_entries *e, const char *path, const char *src, int mode);
void pkg_entries_release(struct pkg_entries *e);

struct pkg_request {
	const char *dest;         /* final path of the archive; its directory exists */
	enum pkg_format format;
	int64_t mtime;            /* SOURCE_DATE_EPOCH, stored for every entry */
	int level;                /* 0 = the format's fixed default (gzip and
	                             zip 5, xz 6, zstd 10); else 1..9 (zstd 1..19) */
	const char *wrap_dir;     /* NULL, or a directory all entries go under
	                             (see pkg_stem() for wrap_in_directory) */
	const struct pkg_entry *entries;
	size_t nentries;          /* exactly 1 for PKG_BINARY */
};

/* What was written, for the manifest. */
struct pkg_result {
	uint64_t size;                 /* bytes of the archive */
	char sha256[HASH_HEX_MAX];     /* of the archive, computed while writing */
	const char *compression;       /* "gzip" "xz" "zstd" "deflate" "none" */
	int level;                     /* compression level used; 0 for none */
	const char *writer;            /* archive_version_details(), e.g.
	                                  "libarchive 3.6.2 zlib/1.2.13 liblzma/...
	                                  libzstd/1.5.4"; static */
};

/* Set TZ=UTC for the whole process.  libarchive computes zip DOS times with
 * localtime_r(), so the zone must be UTC, and setenv() is not thread-safe:
 * call this once from main before any thread starts.  Also caches the
 * library versions for pkg_result.writer.  Returns 0. */
int pkg_init(void);

/* Write req->dest: a temporary file beside it, fsync, rename.  On error
 * the temporary file is removed, dest is untouched, an error naming the
 * file at fault has been printed and -1 is returned. */
int pkg_write(const struct pkg_request *req, struct pkg_result *res);

/* Fill res's compression, level and writer for req without writing
 * (what pkg_write records; the action cache reuses archives). */
void pkg_describe(const struct pkg_request *req, struct pkg_result *res);

/* Expand release.lua's archive files: each src is a pattern relative to
 * project_dir (orchestrator/fileglob.h: glob(3)'s rules per component,
 * `**` for any number of directories; matches sorted bytewise).  The
 * archive path is the matched path relative to project_dir; with dst, it is
 * dst itself for a literal pattern, or dst/<basename> when the pattern has
 * wildcards or dst ends in '/'.  Each match is resolved through every
 * symlink on the way and must stay inside project_dir and be a regular
 * file; its src is that resolved path.  A pattern that matches nothing
 * (unless the entry is optional), a directory, a FIFO or device, or a file
 * that leads out of the project is an error naming it (exit 2 for the
 * caller).  Appends to out; on error out may hold the entries added before
 * the fault (the caller releases them). */
int pkg_expand_files(const char *project_dir, const struct archive_file *files,
		     size_t nfiles, struct pkg_entries *out);

/* 0 if path is acceptable inside an archive: non-empty, at most PKG_PATH_MAX
 * bytes of printable ASCII, relative, no empty, "." or ".." components, no
 * backslash.  Otherwise error() naming it and -1. */
int pkg_check_path(const char *path);

/* "tar.gz" "tar.xz" "tar.zst" "zip" "binary" <-> enum; parse returns -1
 * (without printing) for anything else. */
int pkg_format_parse(const char *name, enum pkg_format *f);
const char *pkg_format_name(enum pkg_format f);
/* File name extension with the dot (".tar.gz"); "" for binary. */
const char *pkg_format_ext(enum pkg_format f);
/* archive_name without the format's extension (the wrap_in_directory
 * directory name); caller frees. */
char *pkg_stem(const char *archive_name, enum pkg_format f);

#endif
