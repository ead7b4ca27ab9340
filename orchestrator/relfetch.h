/* relfetch.h - verify-release URL: a published release fetched into a
 * private temporary directory, to be verified as a directory.
 *
 * From the base URL: manifest.json (when there is one: it names the
 * checksum file and the signatures), the checksum file and its .minisig,
 * provenance.json and provenance.intoto.jsonl (when there), then every
 * file the checksum file lists, every provenance subject and every
 * signature the manifest lists.  Every name read from them passes path.h
 * before it becomes a URL (percent-encoded) or a path in the directory
 * (mode 0700, under $TMPDIR).  Each file has a size bound: the record
 * files their readers' bounds, the others RELFETCH_MAX_FILE.  libcurl
 * through download.h (retries, stall timeout, redirects to http(s) only).
 */
#ifndef XGO_RELFETCH_H
#define XGO_RELFETCH_H

#define RELFETCH_MAX_FILE (4ull << 30) /* one published file */

/* 1 when s is an http:// or https:// URL. */
int relfetch_is_url(const char *s);

/* Fetch the release at url into a new temporary directory: its path in
 * *dir (owned; the caller removes the tree).  0, or -1 after an error
 * naming the URL (nothing left behind). */
int relfetch(const char *url, char **dir);

#endif
