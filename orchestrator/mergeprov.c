/* mergeprov.c - a merged dist's provenance (mergeprov.h). */
#define _GNU_SOURCE
#include "mergeprov.h"
#include "events.h"
#include "base/jsonx.h"
#include "provenance.h"
#include "sign.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STATEMENT_TYPE "https://in-toto.io/Statement/v1"

/* dir/provenance.json: the statement (owned), NULL when there is none
 * (*bad 0) or it is not one (*bad 1, after error()). */
static json_t *read_statement(const char *dir, int *bad)
{
	char *path = xasprintf("%s/%s", dir, PROV_FILE), *text = NULL;
	size_t len;
	struct stat st;
	json_t *doc = NULL;
	json_error_t je;
	*bad = 0;
	if (lstat(path, &st) == 0) {
		*bad = 1;
		if (!(text = read_file(path, SIGN_DSSE_MAX, &len)))
			; /* read_file said why */
		else if (!(doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)))
			error("'%s':%d: not JSON: %s", path, je.line, je.text);
		else if (!json_is_object(json_object_get(doc, "predicate")) ||
			 !json_is_string(json_object_get(doc, "_type")) ||
			 strcmp(json_string_value(json_object_get(doc, "_type")), STATEMENT_TYPE))
			error("'%s' is not an in-toto Statement v1", path);
		else
			*bad = 0;
		if (*bad) {
			json_decref(doc);
			doc = NULL;
		}
	}
	free(text);
	free(path);
	return doc;
}

static json_t *def_of(json_t *st)
{
	return json_object_get(json_object_get(st, "predicate"), "buildDefinition");
}

static int is_cc(json_t *dep)
{
	const char *name = json_string_value(json_object_get(dep, "name"));
	return name && !strncmp(name, "cc:", 3);
}

/* A copy of the build definition without what a shard has of its own. */
static json_t *shared_part(json_t *st)
{
	json_t *d = json_deep_copy(def_of(st)), *deps = json_array(), *dep;
	size_t i;
	json_object_del(json_object_get(d, "externalParameters"), "targets");
	json_array_foreach(json_object_get(d, "resolvedDependencies"), i, dep)
		if (!is_cc(dep))
			jx_push(deps, json_incref(dep));
	jx_set(d, "resolvedDependencies", deps);
	return d;
}

/* The field of two differing shared parts that differs first. */
static const char *differing(json_t *a, json_t *b)
{
	static const char *const fields[] = { "buildType", "internalParameters", "externalParameters",
					      "resolvedDependencies" };
	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		if (!json_equal(json_object_get(a, fields[i]), json_object_get(b, fields[i])))
			return fields[i];
	return "buildDefinition";
}

/* The first shard's dependencies with every shard's C toolchains once,
 * after "source" (where a run lists them). */
static json_t *merged_deps(json_t **st, size_t n)
{
	json_t *out = json_array(), *cc = json_array(), *dep;
	size_t i;
	for (size_t s = 0; s < n; s++)
		json_array_foreach(json_object_get(def_of(st[s]), "resolvedDependencies"), i, dep) {
			int seen = 0;
			for (size_t k = 0; is_cc(dep) && k < json_array_size(cc) && !seen; k++)
				seen = json_equal(json_array_get(cc, k), dep);
			if (is_cc(dep) && !seen)
				jx_push(cc, json_incref(dep));
		}
	json_array_foreach(json_object_get(def_of(st[0]), "resolvedDependencies"), i, dep) {
		if (is_cc(dep))
			continue;
		jx_push(out, json_incref(dep));
		const char *name = json_string_value(json_object_get(dep, "name"));
		if (name && !strcmp(name, "source")) {
			json_array_extend(out, cc);
			json_array_clear(cc);
		}
	}
	json_array_extend(out, cc);
	json_decref(cc);
	return out;
}

/* The earliest (or latest) of the shards' metadata times (RFC 3339 UTC,
 * which sort as text). */
static json_t *run_time(json_t **st, size_t n, const char *key, int latest)
{
	const char *best = NULL;
	for (size_t s = 0; s < n; s++) {
		json_t *md = json_object_get(json_object_get(json_object_get(st[s], "predicate"), "runDetails"),
					     "metadata");
		const char *t = json_string_value(json_object_get(md, key));
		if (t && (!best || (latest ? strcmp(t, best) > 0 : strcmp(t, best) < 0)))
			best = t;
	}
	return best ? json_string(best) : json_null();
}

static json_t *merged_statement(json_t **st, size_t n, const struct sums *subjects, json_t *targets)
{
	json_t *out = json_deep_copy(st[0]), *subj = json_array();
	json_t *def = def_of(out);
	for (size_t i = 0; i < subjects->n; i++)
		jx_push(subj, json_pack("{s:o, s:{s:s}}", "name", jx_text(subjects->v[i].name), "digest", "sha256",
					subjects->v[i].hex));
	jx_set(out, "subject", subj);
	jx_set(json_object_get(def, "externalParameters"), "targets", json_incref(targets));
	jx_set(def, "resolvedDependencies", merged_deps(st, n));
	json_t *md = json_object_get(json_object_get(json_object_get(out, "predicate"), "runDetails"), "metadata");
	if (json_is_object(md)) {
		jx_set(md, "startedOn", run_time(st, n, "startedOn", 0));
		jx_set(md, "finishedOn", run_time(st, n, "finishedOn", 1));
	}
	return out;
}

int mergeprov_write(const char *const *dirs, size_t n, const struct sums *subjects, json_t *targets,
		    const char *stage)
{
	json_t **st = xcalloc(n ? n : 1, sizeof(*st));
	size_t have = 0;
	int rc = 0, bad = 0;
	for (size_t s = 0; s < n && !bad; s++)
		have += (st[s] = read_statement(dirs[s], &bad)) != NULL;
	if (bad) {
		rc = -1;
	} else if (have && have < n) {
		for (size_t s = 0; s < n && rc == 0; s++)
			if (!st[s])
				rc = error("'%s' has no %s, but other shards have: build every shard with the same "
					   "xgo-build", dirs[s], PROV_FILE);
	} else if (have) {
		json_t *first = shared_part(st[0]);
		for (size_t s = 1; s < n && rc == 0; s++) {
			json_t *other = shared_part(st[s]);
			if (!json_equal(first, other))
				rc = error("'%s/%s' and '%s/%s' differ in buildDefinition.%s: shards of one release are "
					   "built from the same inputs", dirs[0], PROV_FILE, dirs[s], PROV_FILE,
					   differing(first, other));
			json_decref(other);
		}
		json_decref(first);
		json_t *merged = rc == 0 ? merged_statement(st, n, subjects, targets) : NULL;
		if (merged && (rc = prov_write_json(stage, merged)) == 0)
			rc = 1;
		json_decref(merged);
	}
	for (size_t s = 0; s < n; s++)
		json_decref(st[s]);
	free(st);
	return rc;
}
