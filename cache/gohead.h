/* gohead.h - the part of a source file that decides what `go list` says.
 *
 * The action cache (inputs.h) asks the go command which files a build
 * reads.  The go command reads only a file's name and its "head": for a
 * .go file the text up to the end of the import declarations (build
 * constraints, //go:debug lines, the package clause, the imports and
 * cgo's preamble) and its //go:embed lines; for any other file (assembly,
 * C, syso, embedded data) its build-constraint lines.  When only the rest
 * of a file changes, go list's answer cannot change, so the stored one is
 * reused with the new contents' digest.
 *
 * The signature is conservative: every byte that can change the answer
 * is in it, some that cannot are too (a text that does not scan as Go
 * counts whole; a directive line counts whole however long it is).
 */
#ifndef XGO_GOHEAD_H
#define XGO_GOHEAD_H

#include <stddef.h>

/* Bytes of a .go file that gohead_file scans; a bigger one counts whole. */
#define GOHEAD_GO_MAX (64u << 20)

/* The offset where a Go file's head ends: the first byte of its first
 * declaration that is not an import, or len when the text ends first or
 * does not scan. */
size_t gohead_end(const char *text, size_t len);

/* Read path once: content = sha256 of its bytes, sig = sha256 of its
 * head (is_go selects the .go rules).  -1 when it cannot be read. */
int gohead_file(const char *path, int is_go, char content[65], char sig[65]);

#endif
