/* mergeprov.h - the provenance of a merged dist, made from its shards'.
 *
 * Each shard's provenance.json describes the shard's files only.  The
 * merged one is the first shard's statement with
 *   subject: the merged release's files (the caller's list);
 *   externalParameters.targets: every job of the merged release;
 *   resolvedDependencies: the shards' (which must be the same), with
 *     each shard's C toolchains ("cc:" entries: a shard lists only its
 *     own jobs') once;
 *   runDetails: the first shard's builder and invocation id, the
 *     earliest startedOn and the latest finishedOn.
 * The shards must agree on buildType, internalParameters,
 * externalParameters (but targets) and resolvedDependencies (but "cc:"),
 * else an error naming the two shards and the field.
 */
#ifndef XGO_MERGEPROV_H
#define XGO_MERGEPROV_H

#include <jansson.h>
#include <stddef.h>

#include "checksums.h"

/* dirs: the n shard directories; subjects: a HASH_SHA256 list of the
 * merged files; targets: ["build:target", ...] (borrowed); written into
 * stage.  1 written, 0 no shard has a provenance (nothing written), -1
 * after error(): some shards have none, or they disagree, or one is not
 * an in-toto statement. */
int mergeprov_write(const char *const *dirs, size_t n, const struct sums *subjects, json_t *targets,
		    const char *stage);

#endif
