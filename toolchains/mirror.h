/* mirror.h - where Go SDK archives come from, and the mirror's index.
 *
 * A mirror is a base URL (http://, https:// or file://); the archive for a
 * file name F is <mirror>/F.  The mirror in use is, first found:
 * --sdk-mirror, $XGO_SDK_MIRROR, sdk_mirror in release.lua, and
 * https://go.dev/dl/.
 *
 * The index is go.dev's JSON: an array of { "version": "go1.26.8",
 * "stable": bool, "files": [ { "filename", "os", "arch", "sha256", "size",
 * "kind" } ] }.  For http(s) mirrors it is <mirror>/?mode=json&include=all,
 * falling back to <mirror>/index.json when that fails; for file:// mirrors
 * it is <mirror>/index.json only.
 */
#ifndef XGO_MIRROR_H
#define XGO_MIRROR_H

#include <stddef.h>
#include <stdint.h>

#define MIRROR_DEFAULT "https://go.dev/dl/"
#define MIRROR_INDEX_MAX (64u << 20)
#define MIRROR_MAX_RELEASES 10000

struct mirror_file {
	char *filename, *os, *arch, *kind;
	char sha256[65];
	uint64_t size;
};

struct mirror_release {
	char *version; /* without the "go" prefix: "1.26.8" */
	int stable;
	struct mirror_file *files;
	size_t nfiles;
};

struct mirror_index {
	struct mirror_release *rel;
	size_t nrel;
};

/* The mirror to use (see above), normalised to end in '/'; caller frees.
 * NULL with error() for a URL that is not http, https or file. */
char *mirror_choose(const char *flag, const char *from_release);
/* <mirror><filename>; caller frees. */
char *mirror_url(const char *mirror, const char *filename);

int mirror_fetch_index(const char *mirror, struct mirror_index *idx);
/* Parse index text; src names it in errors.  Entries with bad fields are
 * skipped (the real index has odd old entries), a bad shape is an error. */
int mirror_parse_index(const char *src, const char *text, size_t len, struct mirror_index *idx);
void mirror_index_clear(struct mirror_index *idx);

/* The archive (kind "archive") for version ("1.26.8") and platform
 * ("linux-amd64"), or NULL. */
const struct mirror_file *mirror_find(const struct mirror_index *idx, const char *version, const char *platform);

#endif
