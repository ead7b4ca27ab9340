/* manifest.h - manifest.json, the one record of a run.
 *
 * Written into dist/ with every input (tool version, release.lua digest
 * and the env() variables it read, SDK pin and digests, go.sum and source
 * digests, SOURCE_DATE_EPOCH, the git facts (gitinfo.h), isolation level,
 * CPU budget) and every
 * output (per job: target, full environment, argv, duration, output name,
 * size and sha256, static, C toolchain identity, smoke result; per archive: name, size, sha256;
 * the universal binaries and the OCI images with their digests).  verify --against,
 * shard merge and the action cache read this record, not another format.
 * Schema: README.md, "manifest.json".
 *
 * No host path is written: every string has the machine's own directories
 * (the SDK, the caches, the project, the work dir, the staging dir, HOME)
 * replaced by placeholders ("/<sdk>", "/<dist>", ...; manifest_in.places),
 * as the action key does (inputs.c).  Two machines building the same
 * commit write the same manifest except the run metadata its "run_metadata"
 * key names (times, cache hits, the CPU share).
 */
#ifndef XGO_MANIFEST_H
#define XGO_MANIFEST_H

#include <jansson.h>

#include "orchestrator/build.h"
#include "orchestrator/smoke.h"
#include "toolchains/sdk.h"

/* A host directory and the placeholder that stands for it. */
struct manifest_place {
	const char *path; /* absolute; NULL or "/" is skipped */
	const char *name; /* "/<sdk>" */
};

struct manifest_in {
	const struct release *release;
	const struct sdk *sdk;
	const char *sde, *sde_source;
	const char *isolation;
	const char *gosum_digest;   /* "" when there is no go.sum */
	const char *source_digest;
	const struct plan *plan;
	const struct result *results;
	int parallel, procs;
	json_t *archives;           /* borrowed; NULL = none */
	json_t *packages;           /* borrowed: linuxpkg.h's list; NULL = none */
	const char *checksums_file; /* NULL = none */
	json_t *shard;              /* borrowed; run --shard's record (shard.h), NULL = none */
	json_t *partial;            /* borrowed; run --target/--build's record (plan.h), NULL = none */
	json_t *signatures;         /* borrowed; [{file, signs, format, key_id}], NULL = unsigned */
	const struct smoke_result *smoke; /* one per job, or NULL: no smoke run */
	json_t *universal;          /* borrowed; universal.h's record, NULL or [] = none */
	json_t *images;             /* borrowed; oci.h's record, NULL or [] = none */
	json_t *sboms;              /* borrowed; sbom.h sbom_manifest, NULL = none */
	const char *provenance;     /* the provenance file's name, or NULL */
	const struct manifest_place *places; /* replaced in every string */
	size_t nplaces;
};

/* Replace, in every string of v (recursively, in place), each place's path
 * where it stands as a whole path prefix (followed by '/', ':', '=', a
 * space or the end) by its name, longest path first.  -1 when a result did
 * not convert (no memory). */
int manifest_place_json(json_t *v, const struct manifest_place *places, size_t n);

/* The manifest as a JSON object (caller decrefs), or NULL when a value did
 * not convert (a string that is not UTF-8, no memory): never a manifest
 * that silently lacks a record. */
json_t *manifest_json(const struct manifest_in *m);
/* Write it to path atomically. */
int manifest_write(const char *path, const struct manifest_in *m);
/* Write a manifest document (e.g. merge's) to path atomically, in the
 * same layout: two-space indent, keys in order, a final newline. */
int manifest_write_json(const char *path, json_t *doc);
/* Read dir/manifest.json (at most MANIFEST_MAX_BYTES); NULL after an
 * error naming the file. */
#define MANIFEST_MAX_BYTES (64u << 20)
json_t *manifest_read(const char *dir);

#endif
