#define _POSIX_C_SOURCE 200809L
#include "shard.h"
#include "base/hash.h"
#include "base/jsonx.h"
#include "manifest.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int shard_parse(const char *arg, struct shard_spec *spec)
{
	char *end;
	long k = strtol(arg, &end, 10), n = 0;
	int ok = end != arg && *end == '/' && arg[0] >= '0' && arg[0] <= '9';
	if (ok) {
		const char *s = end + 1;
		n = strtol(s, &end, 10);
		ok = end != s && *end == '\0' && s[0] >= '0' && s[0] <= '9';
	}
	if (!ok || k < 1 || n < 1 || k > n || n > SHARD_MAX)
		return error("--shard wants K/N with 1 <= K <= N <= %d (e.g. 2/3), not '%s'", SHARD_MAX, arg);
	spec->k = (int)k;
	spec->n = (int)n;
	return 0;
}

/* Jobs of one target share an archive (archives.c groups the same way). */
static int same_target(const struct target *a, const struct target *b)
{
	return !strcmp(a->goos, b->goos) && !strcmp(a->goarch, b->goarch) && !strcmp(a->vval, b->vval) &&
	       a->cgo == b->cgo;
}

static void group_targets(const struct plan *p, struct shard_split *s)
{
	for (size_t i = 0; i < p->n; i++) {
		struct shard_target *t = NULL;
		for (size_t g = 0; g < s->n && !t; g++)
			if (same_target(&p->jobs[s->v[g].jobs[0]].target, &p->jobs[i].target))
				t = &s->v[g];
		if (!t) {
			s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
			t = &s->v[s->n++];
			memset(t, 0, sizeof(*t));
			snprintf(t->id, sizeof(t->id), "%s", p->jobs[i].id);
		}
		t->jobs = xreallocarray(t->jobs, t->njobs + 1, sizeof(*t->jobs));
		t->jobs[t->njobs++] = i;
	}
}

/* The duration of (build, target) in a manifest's jobs, or -1 when it
 * is not there or was not built (taken from the action cache). */
static double recorded(const struct manifest *m, const struct job *j)
{
	for (size_t i = 0; i < m->njobs; i++) {
		const struct manifest_job *o = &m->jobs[i];
		/* A job taken from the action cache took no time: what it took
		 * when it was built is recorded beside, in newer manifests. */
		double d = o->cached ? o->built_duration_s : o->duration_s;
		if (d >= 0 && !strcmp(o->f.build, j->build->name) && !strcmp(o->f.target, j->id))
			return d;
	}
	return -1;
}

/* Weights from a previous manifest's durations. */
static int timed_weights(const struct plan *p, const char *path, struct shard_split *s)
{
	struct manifest m;
	char *what = xasprintf("--timings '%s'", path);
	int rc = manifest_load(&m, what, path);
	free(what);
	if (rc < 0)
		return -1;
	memcpy(s->timings_sha256, m.sha256, sizeof(s->timings_sha256));
	double *d = xcalloc(p->n ? p->n : 1, sizeof(*d)), sum = 0;
	size_t found = 0;
	for (size_t i = 0; i < p->n; i++)
		if ((d[i] = recorded(&m, &p->jobs[i])) >= 0)
			sum += d[i], found++;
	manifest_release(&m);
	if (found == 0)
		warn("--timings: '%s' records none of this plan's jobs; using equal weights", path);
	double mean = found ? sum / (double)found : 1;
	for (size_t g = 0; g < s->n; g++)
		for (size_t i = 0; i < s->v[g].njobs; i++) {
			double w = d[s->v[g].jobs[i]];
			s->v[g].weight += w >= 0 ? w : mean;
		}
	s->timed = 1;
	free(d);
	return 0;
}

/* Heaviest first; plan order (index) on ties. */
static int heavier(const struct shard_target *a, const struct shard_target *b)
{
	return a->weight > b->weight || (a->weight == b->weight && a->jobs[0] < b->jobs[0]);
}

static int least_loaded(const struct shard_split *s, int except)
{
	int best = 0;
	for (int k = 1; k <= s->nshards; k++)
		if (k != except && (best == 0 || s->load[k - 1] < s->load[best - 1]))
			best = k;
	return best;
}

static void assign(struct shard_split *s)
{
	size_t *order = xcalloc(s->n, sizeof(*order));
	for (size_t i = 0; i < s->n; i++) {
		size_t at = i;
		while (at > 0 && heavier(&s->v[i], &s->v[order[at - 1]])) {
			order[at] = order[at - 1];
			at--;
		}
		order[at] = i;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct shard_target *t = &s->v[order[i]];
		t->owner = least_loaded(s, 0);
		s->load[t->owner - 1] += t->weight;
	}
	free(order);
}

static void choose_overlap(struct shard_split *s)
{
	size_t best = 0;
	for (size_t g = 1; g < s->n; g++)
		if (s->v[g].weight < s->v[best].weight)
			best = g;
	struct shard_target *t = &s->v[best];
	t->extra = least_loaded(s, t->owner);
	s->load[t->extra - 1] += t->weight;
	s->overlap = (int)best;
}

int shard_split(const struct plan *p, const struct shard_spec *spec, struct shard_split *out)
{
	memset(out, 0, sizeof(*out));
	out->overlap = -1;
	out->nshards = spec->n;
	group_targets(p, out);
	if ((size_t)spec->n > out->n) {
		error("%d shards for %zu target%s: every shard needs a target; use at most %zu", spec->n, out->n,
		      out->n == 1 ? "" : "s", out->n);
		goto fail;
	}
	if (spec->overlap && spec->n < 2) {
		error("--overlap builds one target on two shards: it needs at least 2 shards, not %d", spec->n);
		goto fail;
	}
	if (spec->timings) {
		if (timed_weights(p, spec->timings, out) < 0)
			goto fail;
	} else {
		for (size_t g = 0; g < out->n; g++)
			out->v[g].weight = (double)out->v[g].njobs;
	}
	out->load = xcalloc((size_t)spec->n, sizeof(*out->load));
	assign(out);
	if (spec->overlap)
		choose_overlap(out);
	return 0;
fail:
	shard_split_release(out);
	return -1;
}

void shard_split_release(struct shard_split *s)
{
	for (size_t g = 0; g < s->n; g++)
		free(s->v[g].jobs);
	free(s->v);
	free(s->load);
	memset(s, 0, sizeof(*s));
	s->overlap = -1;
}

int shard_builds(const struct shard_target *t, int k)
{
	return t->owner == k || t->extra == k;
}

/* Weights in the JSON rounded to the millisecond, as the manifest's. */
static json_t *weight_json(double w)
{
	return json_real((double)(long long)(w * 1000 + 0.5) / 1000);
}

json_t *shard_matrix(const struct shard_split *s)
{
	json_t *include = json_array();
	for (int k = 1; k <= s->nshards; k++) {
		struct buf names;
		size_t jobs = 0;
		buf_init(&names, 1u << 20);
		for (size_t g = 0; g < s->n; g++)
			if (shard_builds(&s->v[g], k)) {
				buf_printf(&names, "%s%s", names.len ? " " : "", s->v[g].id);
				jobs += s->v[g].njobs;
			}
		char name[32];
		snprintf(name, sizeof(name), "%d/%d", k, s->nshards);
		jx_push(include, json_pack("{s:s, s:s, s:I, s:o}", "shard", name, "targets",
							 names.data, "jobs", (json_int_t)jobs, "weight",
							 weight_json(s->load[k - 1])));
		buf_release(&names);
	}
	return json_pack("{s:o}", "include", include);
}

static json_t *record_json(const struct shard_spec *spec, const struct plan *p, const struct shard_split *s)
{
	json_t *targets = json_array(), *plan = json_array();
	for (size_t g = 0; g < s->n; g++)
		if (shard_builds(&s->v[g], spec->k))
			jx_push(targets, json_string(s->v[g].id));
	for (size_t i = 0; i < p->n; i++)
		jx_push(plan, json_pack("{s:s, s:s, s:s}", "build", p->jobs[i].build->name, "target",
						      p->jobs[i].id, "output", p->jobs[i].output));
	return json_pack("{s:i, s:i, s:s?, s:s, s:s?, s:o, s:o}", "index", spec->k, "count", spec->n, "overlap",
			 s->overlap >= 0 ? s->v[s->overlap].id : NULL, "weights", s->timed ? "timings" : "jobs",
			 "timings_sha256", s->timed ? s->timings_sha256 : NULL, "targets", targets, "plan", plan);
}

int shard_apply(const struct shard_spec *spec, struct plan *p, json_t **record)
{
	struct shard_split s;
	if (shard_split(p, spec, &s) < 0)
		return -1;
	*record = record_json(spec, p, &s);
	unsigned char *keep = xcalloc(p->n ? p->n : 1, 1);
	for (size_t g = 0; g < s.n; g++)
		for (size_t i = 0; i < s.v[g].njobs && shard_builds(&s.v[g], spec->k); i++)
			keep[s.v[g].jobs[i]] = 1;
	plan_keep(p, keep);
	size_t n = p->n;
	free(keep);
	json_t *targets = json_object_get(*record, "targets");
	struct buf names;
	buf_init(&names, 1u << 16);
	for (size_t i = 0; i < json_array_size(targets); i++)
		buf_printf(&names, " %s", json_string_value(json_array_get(targets, i)));
	note("shard %d/%d: %zu job%s of %zu target%s:%s", spec->k, spec->n, n, n == 1 ? "" : "s",
	     json_array_size(targets), json_array_size(targets) == 1 ? "" : "s", names.data);
	buf_release(&names);
	shard_split_release(&s);
	return 0;
}
