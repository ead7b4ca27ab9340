/* buildinfo.h - the build information Go embeds in every binary (what
 * `go version -m` prints), read from the bytes of the file.
 *
 * Format (Go 1.18+): a 32-byte header "\xff Go buildinf:" + pointer size
 * + flags, 16-byte aligned, usually in the .go.buildinfo section; with
 * flags & 2 the header is followed by two strings, each a uvarint length
 * and the bytes: the Go version and the module info.  The module info is
 * wrapped in 16-byte sentinels and holds tab-separated lines: "path P",
 * "mod P V [SUM]", "dep P V [SUM]", "=> P V [SUM]" and "build KEY=VALUE".
 * The older pointer format (flags & 2 clear, Go < 1.18) is reported as
 * such, not read.  Lengths are checked against the buffer: malformed or
 * truncated input is an error, never a crash.
 */
#ifndef XGO_BUILDINFO_H
#define XGO_BUILDINFO_H

#include <stddef.h>

#include "base/util.h"

#define BUILDINFO_MAX_STRING (1u << 20)

struct buildinfo {
	char *go_version;  /* "go1.26.8" */
	char *path;        /* the main package path, or NULL */
	struct strv lines; /* every module info line, tabs as single spaces */
};

/* Find and parse the build info in a whole file's bytes.  Returns 0, 1
 * when there is none (not a Go binary), or -1 with error() when it is
 * malformed or in the pre-1.18 format. */
int buildinfo_read(const unsigned char *d, size_t n, struct buildinfo *bi);
void buildinfo_release(struct buildinfo *bi);

/* The value of setting key ("build KEY=VALUE"), or NULL. */
const char *buildinfo_setting(const struct buildinfo *bi, const char *key);

#endif
