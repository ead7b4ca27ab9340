/* merge.h - combine the dists of `run --shard K/N` into one dist/.
 *
 * Reads only the shards' manifest.json files and the files they record:
 * no release.lua, no SDK.  In order, and stopping at the first problem:
 *
 *  1. every shard was built from the same inputs: tool version, SDK pin
 *     and tree digest, release.lua digest and env() reads, source and
 *     go.sum digests, SOURCE_DATE_EPOCH, isolation, checksum settings, the
 *     same N, overlap, weights and plan, and the same job environment per
 *     build (jobenv_local variables aside): else exit 2 naming the two
 *     shard directories and the field;
 *  2. every name taken from a manifest (checksums.file, job outputs,
 *     archive and SBOM names) passes path_check_name (path.h), the rule of the
 *     build file's names, and is not "manifest.json", the checksum
 *     file or the dist marker: else exit 2 naming the shard, the field
 *     and the name;
 *     every job of the plan is in exactly one shard (the overlap target's
 *     in exactly two): else exit 2 naming the job;
 *  3. the overlap target's two copies (binaries and archives) have the same
 *     sha256: else exit 3 naming the target and both digests;
 *  4. the binaries, their SBOMs and the archives are copied into a staging directory beside
 *     the output (made with mkdir: one in its place is not ours; stale
 *     ones of killed merges are removed, dist_remove_stale), each hashed while copied and checked against its
 *     shard's manifest (exit 3 naming a corrupted file); each must be a
 *     regular file inside its shard directory after every symlink is
 *     resolved (a shard directory is untrusted): else exit 2 naming it
 *     and where it leads;
 *  5. the checksum file (same name, algorithm, order and format as a full
 *     run, with the per-file checksums when the release declares them)
 *     and a merged manifest.json are written, and the staging directory
 *     replaces the output (swap_into_place): a failed merge leaves the
 *     previous output as it was.  SIGINT, SIGTERM and SIGHUP are caught
 *     from step 4 on: the copies stop, the stage is removed, exit 130.
 *
 * The merged manifest is the first shard's with every shard's jobs,
 * SBOMs and archives in plan order, "shard" replaced by "merged" (count,
 * overlap, and per shard its directory, K/N and targets).
 *
 *  6. provenance.json for the merged files from the shards' (mergeprov.h:
 *     they must agree on the build definition, else exit 2), when the
 *     shards have one; with sign_key (loaded before anything is copied:
 *     a bad key or password is exit 2), the merged checksum file, the
 *     archives when the shards signed theirs, and the provenance (DSSE)
 *     are signed (sign_release_dir) and listed in "signatures".  A
 *     shard's signatures sign that shard's files: never copied.
 */
#ifndef XGO_MERGE_H
#define XGO_MERGE_H

#include <stddef.h>

struct merge_opts {
	const char *dist;          /* output directory; NULL: ./dist */
	const char *const *dirs;   /* the shards' dist directories */
	const char *sign_key;      /* a secret key file to sign with, or NULL */
	size_t ndirs;
};

/* Returns EXIT_OK, EXIT_USAGE (bad or mismatched shards, gaps,
 * duplicates), EXIT_MISMATCH (overlap copies differ, a corrupted file) or
 * EXIT_JOB (cannot write the output). */
int merge_run(const struct merge_opts *o);

#endif
