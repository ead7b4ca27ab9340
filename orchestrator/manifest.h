/* manifest.h - manifest.json, the one record of a run.
 *
 * Written into dist/ with every input (tool version, release.lua digest
 * and the env() variables it read, SDK pin and digests, go.sum and source
 * digests, SOURCE_DATE_EPOCH, the git facts (gitinfo.h), isolation level,
 * CPU budget) and every
 * output (per job: target, full environment, argv, duration, output name,
 * size and sha256, static, C toolchain identity, smoke result; per archive: name, size, sha256;
 * the universal binaries and the OCI images with their digests).  verify --against,
 * verify-release, run --timings and shard merge read this record through
 * one reader (manifest_load, below), not another format.
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

#include "build.h"
#include "smoke.h"
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

/* ---- the reader: every manifest xgo-build reads (merge's shards, run
 * --timings, verify --against, verify-release) goes through it. ----
 *
 * The whole document is parsed once, duplicate keys refused, and the shape
 * of every field a reader uses is checked before anything is done with it:
 * "schema" 1; tool.version, sdk.version and sdk.platform strings; jobs and
 * archives lists of objects; each job's build, target and output strings;
 * every name (job output, archive, package and SBOM name, checksums.file,
 * a signature's file and signs) through path_check_name (a manifest is
 * untrusted input); every sha256 64 hex digits where present; a shard
 * record's index, count, targets and plan; optional fields of the right
 * type where present.  A fault is one error() line "WHAT: not a
 * manifest.json: FIELD is missing / is not a string / ..." (or path.h's
 * line for a name) and -1, with nothing left to release. */
#define MANIFEST_MAX_BYTES (64u << 20)

/* A published file the manifest records: a job's binary, an archive, a
 * Linux package, an SBOM.  Strings are borrowed from the document. */
struct manifest_file {
	const char *name;    /* job: its "output" */
	const char *sha256;  /* NULL: not written (a failed job or archive) */
	const char *build;   /* SBOM: its job's; archive, package: its first binary's; "" */
	const char *target;  /* its "target", "" when it records none */
	long long size;      /* bytes, -1 when not recorded */
	json_t *obj;         /* borrowed: the whole record */
};

struct manifest_job {
	struct manifest_file f; /* name = output, build, target */
	const char *variant;    /* "" when none */
	int cgo, cached;
	double duration_s, built_duration_s; /* -1 when not recorded */
	json_t *env;            /* borrowed: a list of strings, NULL when not recorded */
};

struct manifest_sig {
	const char *file, *signs, *format;
};

/* One job of a shard's whole plan (shard.h's record). */
struct manifest_plan_job {
	const char *build, *target, *output;
};

/* A shard's "shard" record (run --shard K/N), typed when present. */
struct manifest_shard {
	int index, count;          /* K and N as recorded: merge checks 1 <= K <= N */
	const char *overlap;       /* the overlap target id, NULL for none */
	json_t *targets;           /* borrowed: the target ids it built, strings */
	struct manifest_plan_job *plan;
	size_t nplan;
};

struct manifest {
	json_t *doc;             /* owned: the whole document (merge copies it) */
	char sha256[65];         /* of the bytes read */
	int schema;
	const char *tool_version;
	const char *sdk_version, *sdk_platform, *sdk_tree_digest; /* tree "" when none */
	const char *release_digest, *source_digest, *go_sum_digest; /* "" when none */
	const char *sde;         /* inputs.source_date_epoch, "" when none */
	long long sde_value;     /* its value, 0 when none */
	struct manifest_job *jobs;
	struct manifest_file *archives, *packages, *sboms;
	struct manifest_sig *sigs;
	size_t njobs, narchives, npackages, nsboms, nsigs;
	struct {
		const char *file;      /* NULL: the release has no checksum file */
		const char *algorithm; /* "" when none */
		int per_file;
	} checksums;
	json_t *shard, *partial, *merged, *universal, *images; /* borrowed objects/lists, NULL when absent */
	struct manifest_shard shard_rec; /* when shard is set */
};

/* Parse len bytes of text; what names it in messages ("'dist/manifest.json'"). */
int manifest_parse(struct manifest *m, const char *what, const char *text, size_t len);
/* Read path (read_file: a regular file of at most MANIFEST_MAX_BYTES;
 * symlinks are followed: the user named it) and parse it; what as in
 * manifest_parse, NULL for "'PATH'". */
int manifest_load(struct manifest *m, const char *what, const char *path);
/* dir/manifest.json of an untrusted directory (a shard, a fetched
 * release): also refused when a symlink leads it out of dir. */
int manifest_load_dir(struct manifest *m, const char *dir);
void manifest_release(struct manifest *m);

#endif
