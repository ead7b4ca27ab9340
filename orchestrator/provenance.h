/* provenance.h - provenance.json: the release's SLSA v1 provenance.
 *
 * An in-toto Statement v1 (_type https://in-toto.io/Statement/v1,
 * predicateType https://slsa.dev/provenance/v1), plain JSON with sorted
 * keys, written into the staging dir before the swap; the signing step
 * wraps it in a DSSE envelope.  Subjects: every published file with its
 * sha256 (archives, binaries, packages, universal binaries, the image
 * layouts' files, SBOMs, the checksum file), as the caller lists them.  buildDefinition (buildType PROV_BUILD_TYPE):
 * externalParameters (the build file and its digest, the source
 * repository and commit when git knows them, the project, version,
 * env() reads and targets), internalParameters (SOURCE_DATE_EPOCH, the
 * isolation, the tool version) and resolvedDependencies (the Go SDK
 * archive and tree digests, each C toolchain, the source tree digest,
 * every go.sum module as path@version with its h1 hash as dirHash1).
 * runDetails: the builder (GitHub Actions' workflow when GITHUB_* says so,
 * else PROV_LOCAL_BUILDER) and metadata (invocationId, startedOn,
 * finishedOn).  No host path is written.  buildDefinition and the
 * subjects are the reproducible part: two machines building the same
 * commit write them byte for byte the same (prov_reproducible).
 * Format and meaning: docs/attest.md, "Provenance".
 */
#ifndef XGO_PROVENANCE_H
#define XGO_PROVENANCE_H

#include <jansson.h>
#include <time.h>

#include "build.h"
#include "checksums.h"
#include "toolchains/sdk.h"

#define PROV_FILE "provenance.json"
#define PROV_BUILD_TYPE "https://xgo-build.dev/provenance/run/v1"
#define PROV_LOCAL_BUILDER "https://xgo-build.dev/builder/local/v1"
#define PROV_GOSUM_MAX_BYTES (64u << 20)

struct prov_in {
	const struct release *release;
	const struct sdk *sdk;
	const struct plan *plan;
	const struct sums *subjects;   /* every published file, sha256 */
	const char *project_dir;       /* go.sum and git are read here */
	const char *source_digest, *sde, *isolation;
	time_t started, finished;
};

/* The statement (caller decrefs), or NULL after an error naming what did
 * not convert (a go.sum line that is not "path version h1:base64"). */
json_t *prov_json(const struct prov_in *in);
/* Write it to dir/PROV_FILE atomically, keys sorted, two-space indent. */
int prov_write(const char *dir, const struct prov_in *in);

/* Write statement st as prov_write does (merge's too). */
int prov_write_json(const char *dir, json_t *st);

/* A copy of a statement without runDetails: what must be identical
 * between two builds of one commit (verify compares it). */
json_t *prov_reproducible(json_t *statement);

/* Append every module of dir/go.sum (its zip hash lines, not /go.mod
 * ones) to deps as the provenance lists them: {"name": "path@version",
 * "uri": "pkg:golang/path@version", "digest": {"dirHash1": hex}}.  No
 * go.sum: none.  -1 after an error naming the file and line. */
int prov_gosum_deps(const char *dir, json_t *deps);

/* UTC as RFC 3339 ("1980-01-01T00:00:00Z"); out has 32 bytes. */
void prov_time(time_t t, char out[32]);

#endif
