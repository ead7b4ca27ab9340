/* extract.h - safe extraction of Go SDK archives with libarchive.
 *
 * Reads .tar.gz (any tar filter libarchive knows) and .zip.  Every entry
 * must lie under the archive's top directory "go/", which becomes the SDK
 * root.  Refused, with nothing written outside dest:
 *   - absolute paths and any ".." component;
 *   - entries outside "go/";
 *   - symlinks whose target is absolute or leaves the SDK root, and any
 *     entry whose path goes through a symlink;
 *   - hardlinks whose target is not a path inside the SDK root;
 *   - device files, fifos and sockets.
 * File modes are normalised to 0755 (any execute bit) or 0644,
 * directories to 0755; owners and times are not restored.
 * Bounded: at most EXT_MAX_ENTRIES entries and ext_limit(archive size)
 * bytes in total: EXT_MAX_RATIO times the archive's size plus
 * EXT_RATIO_SLACK, at most EXT_MAX_BYTES (Go's archives expand about 3.5
 * times; a zip bomb is refused after writing its first few MiB).  An
 * entry whose declared size exceeds what is left is refused before any of
 * it is written.
 */
#ifndef XGO_EXTRACT_H
#define XGO_EXTRACT_H

#include <stdint.h>

#define EXT_MAX_ENTRIES 200000
#define EXT_MAX_BYTES (8ULL << 30)
#define EXT_MAX_RATIO 100ULL
#define EXT_RATIO_SLACK (16ULL << 20)

/* The most bytes an archive of archive_size bytes may extract to. */
unsigned long long ext_limit(unsigned long long archive_size);

/* Extract archive into dest (an existing, empty directory); the SDK root
 * is then dest/go.  -1 with one error naming the archive and entry; dest
 * may then hold a partial tree, which the caller removes. */
int ext_archive(const char *archive, const char *dest);

/* The entry-path checks, exposed for tests: 0 when name (an archive path)
 * is acceptable under the "go/" root, -1 with error() otherwise. */
int ext_check_path(const char *archive, const char *name);
/* 0 when a symlink at path with target stays inside the "go/" root. */
int ext_check_symlink(const char *archive, const char *path, const char *target);

#endif
