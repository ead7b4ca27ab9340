/* shard.h - fan-out: which jobs shard K of N builds.
 *
 * A shard owns whole targets: every job of one GOOS/GOARCH/variant/cgo
 * (all the builds for it, the jobs one archive gathers) is in the same
 * shard, so each shard packs complete archives.  The split is greedy
 * longest-first: targets sorted by weight, heaviest first and plan order
 * on ties, each given to the least-loaded shard, the lowest number on
 * ties.  A target weighs the sum of its jobs' durations recorded in a
 * previous manifest.json (--timings; a job it does not list, or lists as
 * taken from the action cache, weighs the mean of the others), else its
 * number of jobs.  So every machine that
 * has the same release.lua, N and timings file computes the same split.
 *
 * With overlap, one target is built by two shards so that merge can
 * compare the copies: the lightest target (first in plan order on ties),
 * also given to the least-loaded shard other than its owner.
 *
 * Bad input (K/N, a timings file, more shards than targets) is reported
 * with error(); the caller exits 2.
 */
#ifndef XGO_SHARD_H
#define XGO_SHARD_H

#include <jansson.h>
#include <stddef.h>

#include "plan.h"

#define SHARD_MAX 1000

struct shard_spec {
	int k, n;            /* shard k of n, 1-based; n == 0: not sharded */
	int overlap;         /* one target on two shards */
	const char *timings; /* a previous manifest.json, or NULL: equal weights */
};

/* "K/N" with 1 <= K <= N <= SHARD_MAX into spec->k, spec->n. */
int shard_parse(const char *arg, struct shard_spec *spec);

struct shard_target {
	char id[64];      /* the first job's target id, e.g. "linux/arm/7" */
	size_t *jobs;     /* plan indexes, in plan order */
	size_t njobs;
	double weight;
	int owner;        /* 1..n */
	int extra;        /* the second shard of the overlap target, else 0 */
};

struct shard_split {
	struct shard_target *v; /* in plan order */
	size_t n;
	int nshards;
	int overlap;            /* index into v of the overlap target, or -1 */
	int timed;              /* weights came from a timings file */
	char timings_sha256[65];/* of that file, "" without one */
	double *load;           /* per shard (load[0] is shard 1) */
};

/* Split plan p into spec->n shards (spec->k is not used). */
int shard_split(const struct plan *p, const struct shard_spec *spec, struct shard_split *out);
void shard_split_release(struct shard_split *s);
/* Whether target t is built by shard k. */
int shard_builds(const struct shard_target *t, int k);

/* The CI matrix, {"include": [{"shard": "1/3", "targets": "linux/amd64
 * ...", "jobs": 4, "weight": 12.5}, ...]}, one entry per shard. */
json_t *shard_matrix(const struct shard_split *s);

/* Keep only shard spec->k's jobs in p (the jobs of the targets it builds,
 * in plan order).  *record gets the manifest's "shard" object: index,
 * count, overlap, weights, timings_sha256, the targets this shard builds
 * and the whole plan's jobs, so that merge needs no release.lua. */
int shard_apply(const struct shard_spec *spec, struct plan *p, json_t **record);

#endif
