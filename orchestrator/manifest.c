#define _POSIX_C_SOURCE 200809L
#include "manifest.h"
#include "gitinfo.h"
#include "toolchains/cc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Every jansson insert is checked: a NULL value (json_string or json_pack
 * of a string that is not UTF-8, or no memory) makes the insert fail, and
 * the record would silently lose the field.  Each builder returns NULL
 * instead, which fails its parent's insert in turn. */
static json_t *checked(json_t *v, int bad)
{
	if (!bad)
		return v;
	json_decref(v);
	return NULL;
}

static json_t *strv_json(const struct strv *s)
{
	json_t *a = json_array();
	int bad = !a;
	for (size_t i = 0; i < s->n && !bad; i++)
		bad |= json_array_append_new(a, json_string(s->v[i]));
	return checked(a, bad);
}

static json_t *env_reads_json(const struct release *r)
{
	json_t *a = json_array();
	int bad = !a;
	for (size_t i = 0; i < r->nenv_reads && !bad; i++) {
		const struct env_read *e = &r->env_reads[i];
		bad |= json_array_append_new(a, json_pack("{s:s, s:s?, s:b}", "name", e->name, "value", e->value,
							  "from_default", e->from_default));
	}
	return checked(a, bad);
}

static json_t *job_json(const struct result *res, const struct smoke_result *smoke)
{
	const struct job *j = res->job;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:o, s:o}", "build", j->build->name,
			      "target", j->id, "goos", j->target.goos, "goarch", j->target.goarch, "cgo",
			      j->target.cgo, "variant", j->target.vkey, "variant_value", j->target.vval,
			      "output", j->output, "env", strv_json(&res->env), "argv", strv_json(&res->argv));
	int bad = !o;
	bad |= json_object_set_new(o, "status", json_integer(res->status));
	bad |= json_object_set_new(o, "cached", json_boolean(res->cached));
	if (res->key)
		bad |= json_object_set_new(o, "input_digest", json_string(res->key));
	if (res->cached) /* what it took when it was built: shard timings use it */
		bad |= json_object_set_new(o, "built_duration_s",
					   json_real((double)(long)(res->built_wall * 1000) / 1000));
	bad |= json_object_set_new(o, "duration_s", json_real((double)(long)(res->wall * 1000) / 1000));
	bad |= json_object_set_new(o, "cpu_s", json_real((double)(long)(res->cpu * 1000) / 1000));
	if (res->done && res->status == 0) {
		bad |= json_object_set_new(o, "size", json_integer((json_int_t)res->size));
		bad |= json_object_set_new(o, "sha256", json_string(res->sha256));
	}
	bad |= json_object_set_new(o, "static", json_boolean(j->static_link));
	if (j->cc)
		bad |= json_object_set_new(o, "cc", cc_json(j->cc));
	if (smoke && smoke->status != SMOKE_NOT_RUN)
		bad |= json_object_set_new(o, "smoke", smoke_json(smoke));
	return checked(o, bad);
}

static json_t *run_metadata_json(void);

/* The git facts the templates, the version and SOURCE_DATE_EPOCH saw. */
static json_t *git_json(const struct release *r)
{
	const struct gitinfo *g = r->git;
	if (!g || !g->ok)
		return json_pack("{s:b, s:b}", "checkout", 0, "version_from_git", r->version_from_git);
	return json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b}", "checkout", 1, "commit", g->commit,
			 "short_commit", g->short_commit, "commit_date", g->commit_date, "commit_timestamp",
			 g->commit_timestamp, "tag", g->tag, "tag_at_head", g->tag_at_head, "dirty", g->dirty,
			 "version_from_git", r->version_from_git);
}

json_t *manifest_json(const struct manifest_in *m)
{
	const struct release *r = m->release;
	json_t *jobs = json_array();
	int bad = !jobs;
	for (size_t i = 0; i < m->plan->n && !bad; i++)
		if (m->results[i].done)
			bad |= json_array_append_new(jobs, job_json(&m->results[i], m->smoke ? &m->smoke[i] : NULL));
	json_t *doc = json_object();
	bad |= !doc;
	bad |= json_object_set_new(doc, "schema", json_integer(1));
	bad |= json_object_set_new(doc, "tool", json_pack("{s:s, s:s}", "name", "xgo-build", "version", XGO_VERSION));
	bad |= json_object_set_new(doc, "release",
				   json_pack("{s:s, s:s, s:s, s:s, s:o}", "file", r->path, "digest", r->digest,
					     "project", r->project, "version", r->version, "env_reads",
					     env_reads_json(r)));
	bad |= json_object_set_new(doc, "sdk",
				   json_pack("{s:s, s:s, s:s, s:s, s:s}", "version", m->sdk->version, "platform",
					     m->sdk->platform, "archive", m->sdk->filename, "archive_sha256",
					     m->sdk->archive_sha256, "tree_digest", m->sdk->tree_digest));
	json_t *inputs = json_pack("{s:s, s:s, s:s, s:s}", "go_sum_digest", m->gosum_digest, "source_digest",
				   m->source_digest, "source_date_epoch", m->sde, "source_date_epoch_from", m->sde_source);
	bad |= !inputs || json_object_set_new(inputs, "git", git_json(r));
	bad |= json_object_set_new(doc, "inputs", inputs);
	bad |= json_object_set_new(doc, "execution", json_pack("{s:s, s:i, s:i}", "isolation", m->isolation,
							       "parallel", m->parallel, "procs_per_job", m->procs));
	bad |= json_object_set_new(doc, "jobs", jobs);
	bad |= json_object_set_new(doc, "archives", m->archives ? json_incref(m->archives) : json_array());
	if (m->packages && json_array_size(m->packages))
		bad |= json_object_set_new(doc, "packages", json_incref(m->packages));
	if (m->checksums_file)
		bad |= json_object_set_new(doc, "checksums",
					   json_pack("{s:s, s:s, s:b}", "file", m->checksums_file, "algorithm",
						     r->checksums.algorithm, "per_file", r->checksums.per_file));
	if (m->shard)
		bad |= json_object_set(doc, "shard", m->shard);
	if (m->partial)
		bad |= json_object_set(doc, "partial", m->partial);
	if (m->signatures)
		bad |= json_object_set(doc, "signatures", m->signatures);
	if (m->universal && json_array_size(m->universal))
		bad |= json_object_set(doc, "universal", m->universal);
	if (m->images && json_array_size(m->images))
		bad |= json_object_set(doc, "images", m->images);
	if (m->sboms)
		bad |= json_object_set(doc, "sboms", m->sboms);
	if (m->provenance)
		bad |= json_object_set_new(doc, "provenance", json_pack("{s:s, s:s}", "file", m->provenance,
									 "predicate_type", "https://slsa.dev/provenance/v1"));
	bad |= json_object_set_new(doc, "run_metadata", run_metadata_json());
	bad |= !doc || manifest_place_json(doc, m->places, m->nplaces) < 0;
	return checked(doc, bad);
}

/* What differs between two runs of the same commit and says nothing about
 * the bytes published: named in the manifest itself, for the reader that
 * compares manifests (docs/attest.md). */
static json_t *run_metadata_json(void)
{
	static const char *const keys[] = {
		"execution.parallel", "execution.procs_per_job", "jobs[].cached", "jobs[].duration_s",
		"jobs[].built_duration_s", "jobs[].cpu_s", "jobs[].env GOMAXPROCS GOGC GOMEMLIMIT", "jobs[].argv -p=N",
	};
	json_t *a = json_array();
	int bad = !a;
	for (size_t i = 0; i < ARRAY_LEN(keys) && !bad; i++)
		bad |= json_array_append_new(a, json_string(keys[i]));
	return checked(a, bad);
}

/* A character that may continue a path component. */
static int path_char(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("._-+~", c)) || (unsigned char)c >= 0x80;
}

/* s with the places replaced (owned), or NULL when nothing matched. */
static char *place_string(const char *s, const struct manifest_place *const *order, size_t n)
{
	struct buf b;
	int hit = 0;
	buf_init(&b, MANIFEST_MAX_BYTES);
	for (const char *p = s; *p;) {
		size_t k = 0, len = 0;
		int at_start = p == s || (!path_char(p[-1]) && p[-1] != '/');
		for (; at_start && k < n; k++) {
			len = strlen(order[k]->path);
			if (!strncmp(p, order[k]->path, len) && !path_char(p[len]))
				break;
		}
		if (at_start && k < n) {
			buf_puts(&b, order[k]->name);
			p += len;
			hit = 1;
		} else {
			buf_append(&b, p++, 1);
		}
	}
	if (!hit) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static int place_value(json_t *v, const struct manifest_place *const *order, size_t n)
{
	size_t i;
	const char *key;
	json_t *x;
	int bad = 0;
	if (json_is_string(v)) {
		char *r = place_string(json_string_value(v), order, n);
		bad = r && json_string_set(v, r) < 0;
		free(r);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			bad |= place_value(x, order, n) < 0;
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, x)
			bad |= place_value(x, order, n) < 0;
	}
	return bad ? -1 : 0;
}

static int longer_first(const void *a, const void *b)
{
	size_t la = strlen((*(const struct manifest_place *const *)a)->path);
	size_t lb = strlen((*(const struct manifest_place *const *)b)->path);
	return la < lb ? 1 : la > lb ? -1 : 0;
}

int manifest_place_json(json_t *v, const struct manifest_place *places, size_t n)
{
	const struct manifest_place **order = xcalloc(n ? n : 1, sizeof(*order));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (places[i].path && places[i].path[0] == '/' && places[i].path[1])
			order[k++] = &places[i];
	qsort(order, k, sizeof(*order), longer_first);
	int rc = place_value(v, order, k);
	free(order);
	return rc;
}

int manifest_write(const char *path, const struct manifest_in *m)
{
	json_t *doc = manifest_json(m);
	if (!doc)
		return error("cannot write '%s': a record did not convert to JSON (a value that is not valid UTF-8, "
			     "or out of memory)", path);
	int rc = manifest_write_json(path, doc);
	json_decref(doc);
	return rc;
}

json_t *manifest_read(const char *dir)
{
	char *path = xasprintf("%s/manifest.json", dir);
	size_t len;
	char *text = read_file(path, MANIFEST_MAX_BYTES, &len);
	json_error_t je;
	json_t *doc = text ? json_loadb(text, len, 0, &je) : NULL;
	if (text && !json_is_object(doc)) {
		error("'%s':%d: not a manifest: %s", path, doc ? 1 : je.line, doc ? "not a JSON object" : je.text);
		json_decref(doc);
		doc = NULL;
	}
	free(text);
	free(path);
	return doc;
}

int manifest_write_json(const char *path, json_t *doc)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		return error("cannot serialise the manifest");
	size_t len = strlen(text);
	char *withnl = xasprintf("%s\n", text);
	free(text);
	int rc = write_file_atomic(path, withnl, len + 1, 0644);
	free(withnl);
	return rc;
}
