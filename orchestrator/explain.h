/* explain.h - why two builds of one artifact differ.
 *
 * Given the two files, tells what can be told, as a JSON object whose keys
 * are present only when known:
 *   "missing"          "a" or "b" (set by the caller when one is absent)
 *   "first_difference" offset of the first differing byte
 *   "format"           "elf" | "pe" | "macho" (binfmt.h)
 *   "section"          the section that offset falls in
 *   "buildinfo"        {"only_a": [...], "only_b": [...], "go_version": [a, b]}:
 *                      the differing lines of the Go build info (buildinfo.h)
 *   "strings"          {"only_a", "only_b" (the EXPLAIN_STRINGS_TOP most telling
 *                      printable strings of each side), "count_a", "count_b",
 *                      "causes" (likely causes in words: an embedded path, a
 *                      time of day)}
 *   "regions"          the first EXPLAIN_REGIONS runs of differing bytes:
 *                      {"offset", "length", "section", "a", "b" (text around)}
 *   "archive"          first differing entry and field (name, mode, mtime,
 *                      owner, content), read with libarchive
 *   "diffoscope"       its report's path, "not installed" or "failed"
 *   "error"            a file could not be read
 * Files are read whole, at most EXPLAIN_MAX_FILE bytes each.
 */
#ifndef XGO_EXPLAIN_H
#define XGO_EXPLAIN_H

#include <jansson.h>

#define EXPLAIN_STRINGS_TOP 10
#define EXPLAIN_REGIONS 8
#define EXPLAIN_MAX_FILE (512u << 20)

/* Explain how files a and b differ.  diffoscope_out: when not NULL, run
 * diffoscope on the pair with its text report there.  Caller decrefs. */
json_t *explain_pair(const char *a, const char *b, const char *diffoscope_out);

/* One line for a report table from an explanation.  Caller frees. */
char *explain_summary(json_t *e, json_int_t size_a, json_int_t size_b);

#endif
