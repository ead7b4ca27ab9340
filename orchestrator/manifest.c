#define _POSIX_C_SOURCE 200809L
#include "manifest.h"
#include "gitinfo.h"
#include "base/hash.h"
#include "base/path.h"
#include "toolchains/lockfile.h"
#include "toolchains/cc.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
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

/* ---- the reader ---- */

enum rd_type { RD_STR, RD_BOOL, RD_NUM, RD_INT, RD_OBJ, RD_ARR };

/* One parse: the first fault is reported, every later lookup gives NULL. */
struct rd {
	const char *what;
	int failed;
};

static void rd_fail(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rd_fail(struct rd *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!r->failed)
		error("%s: not a manifest.json: %s (give the manifest.json that 'xgo-build run' wrote)", r->what, msg);
	r->failed = 1;
}

static int rd_is(json_t *v, enum rd_type t)
{
	switch (t) {
	case RD_STR: return json_is_string(v);
	case RD_BOOL: return json_is_boolean(v);
	case RD_NUM: return json_is_number(v);
	case RD_INT: return json_is_integer(v);
	case RD_OBJ: return json_is_object(v);
	case RD_ARR: return json_is_array(v);
	}
	return 0;
}

/* o's key of type t (label.key in messages), NULL when absent (a fault
 * when need) or after a fault. */
static json_t *rd_get(struct rd *r, json_t *o, const char *label, const char *key, enum rd_type t, int need)
{
	static const char *const kind[] = { "a string", "true or false", "a number", "an integer", "an object",
					    "a list" };
	json_t *v = json_object_get(o, key);
	if (r->failed || (!v && !need))
		return NULL;
	if (!v)
		rd_fail(r, "%s%s%s is missing", label, *label ? "." : "", key);
	else if (!rd_is(v, t))
		rd_fail(r, "%s%s%s is not %s", label, *label ? "." : "", key, kind[t]);
	return r->failed ? NULL : v;
}

/* A string field, or dflt when it is absent (need = 0). */
static const char *rd_str(struct rd *r, json_t *o, const char *label, const char *key, int need, const char *dflt)
{
	const char *s = json_string_value(rd_get(r, o, label, key, RD_STR, need));
	return s ? s : dflt;
}

static int rd_bool(struct rd *r, json_t *o, const char *label, const char *key)
{
	return json_is_true(rd_get(r, o, label, key, RD_BOOL, 0));
}

/* A duration in seconds, -1 when it is absent. */
static double rd_secs(struct rd *r, json_t *o, const char *label, const char *key)
{
	json_t *v = rd_get(r, o, label, key, RD_NUM, 0);
	if (v && json_number_value(v) < 0)
		rd_fail(r, "%s.%s is negative", label, key);
	return v && !r->failed ? json_number_value(v) : -1;
}

/* A name xgo-build reads or writes a file by: path.h's rule, with the
 * field named as merge always named it ("'s1/manifest.json': job output"). */
static const char *rd_name(struct rd *r, json_t *o, const char *label, const char *key, const char *field)
{
	const char *s = rd_str(r, o, label, key, 1, NULL);
	if (!s)
		return NULL;
	char *what = xasprintf("%s: %s", r->what, field);
	if (path_check_name(what, s) < 0)
		r->failed = 1;
	free(what);
	return r->failed ? NULL : s;
}

/* A file's size in bytes, -1 when it is absent. */
static long long rd_size(struct rd *r, json_t *o, const char *label)
{
	json_t *v = rd_get(r, o, label, "size", RD_INT, 0);
	if (v && json_integer_value(v) < 0)
		rd_fail(r, "%s.size is negative", label);
	return v && !r->failed ? (long long)json_integer_value(v) : -1;
}

static const char *rd_sha(struct rd *r, json_t *o, const char *label)
{
	const char *s = rd_str(r, o, label, "sha256", 0, NULL);
	if (s && !lock_is_hex64(s))
		rd_fail(r, "%s.sha256 '%.80s' is not 64 hex digits", label, s);
	return r->failed ? NULL : s;
}

/* The objects of o's list key (absent: none unless need), each given to
 * one() with its label ("parent.key[i]"). */
typedef void (*rd_item)(struct rd *r, json_t *o, const char *label, void *out);

static size_t rd_list(struct rd *r, json_t *o, const char *parent, const char *key, int need, void **out,
		      size_t size, rd_item one)
{
	json_t *a = rd_get(r, o, parent, key, RD_ARR, need);
	size_t n = json_array_size(a);
	*out = n ? xcalloc(n, size) : NULL;
	for (size_t i = 0; i < n && !r->failed; i++) {
		char label[64];
		snprintf(label, sizeof(label), "%s%s%s[%zu]", parent, *parent ? "." : "", key, i);
		json_t *item = json_array_get(a, i);
		if (!json_is_object(item))
			rd_fail(r, "%s is not an object", label);
		else
			one(r, item, label, (char *)*out + i * size);
	}
	return n;
}

/* An archive's or package's "binaries" list, of which the first names it. */
static void rd_first_binary(struct rd *r, json_t *o, const char *label, struct manifest_file *f)
{
	json_t *bins = rd_get(r, o, label, "binaries", RD_ARR, 0);
	json_t *b0 = json_array_get(bins, 0);
	char l[96];
	snprintf(l, sizeof(l), "%s.binaries[0]", label);
	if (bins && json_array_size(bins) && !json_is_object(b0))
		rd_fail(r, "%s is not an object", l);
	f->build = rd_str(r, b0, l, "build", b0 != NULL, "");
	if (!*f->target)
		f->target = rd_str(r, b0, l, "target", b0 != NULL, "");
}

static void rd_file(struct rd *r, json_t *o, const char *label, const char *field, struct manifest_file *f)
{
	f->obj = o;
	f->name = rd_name(r, o, label, "name", field);
	f->sha256 = rd_sha(r, o, label);
	f->size = rd_size(r, o, label);
	f->target = rd_str(r, o, label, "target", 0, "");
	f->build = rd_str(r, o, label, "build", 0, "");
}

static void rd_archive(struct rd *r, json_t *o, const char *label, void *out)
{
	rd_file(r, o, label, "archive name", out);
	rd_first_binary(r, o, label, out);
}

static void rd_package(struct rd *r, json_t *o, const char *label, void *out)
{
	rd_file(r, o, label, "package name", out);
	rd_first_binary(r, o, label, out);
}

static void rd_sbom(struct rd *r, json_t *o, const char *label, void *out)
{
	rd_file(r, o, label, "SBOM name", out);
}

static void rd_job(struct rd *r, json_t *o, const char *label, void *out)
{
	struct manifest_job *j = out;
	j->f.obj = o;
	j->f.build = rd_str(r, o, label, "build", 1, "");
	j->f.target = rd_str(r, o, label, "target", 1, "");
	j->f.name = rd_name(r, o, label, "output", "job output");
	j->f.sha256 = rd_sha(r, o, label);
	j->f.size = rd_size(r, o, label);
	j->variant = rd_str(r, o, label, "variant", 0, "");
	j->cgo = rd_bool(r, o, label, "cgo");
	j->cached = rd_bool(r, o, label, "cached");
	j->duration_s = rd_secs(r, o, label, "duration_s");
	j->built_duration_s = rd_secs(r, o, label, "built_duration_s");
	j->env = rd_get(r, o, label, "env", RD_ARR, 0);
	for (size_t i = 0; i < json_array_size(j->env); i++)
		if (!json_is_string(json_array_get(j->env, i)))
			rd_fail(r, "%s.env[%zu] is not a string", label, i);
}

static void rd_sig(struct rd *r, json_t *o, const char *label, void *out)
{
	struct manifest_sig *s = out;
	s->file = rd_name(r, o, label, "file", "signature file");
	s->signs = rd_name(r, o, label, "signs", "signed file");
	s->format = rd_str(r, o, label, "format", 1, "");
}

static void rd_plan_job(struct rd *r, json_t *o, const char *label, void *out)
{
	struct manifest_plan_job *j = out;
	j->build = rd_str(r, o, label, "build", 1, "");
	j->target = rd_str(r, o, label, "target", 1, "");
	j->output = rd_str(r, o, label, "output", 1, "");
}

static void rd_shard(struct rd *r, json_t *o, struct manifest_shard *s)
{
	json_t *v = rd_get(r, o, "shard", "index", RD_INT, 1);
	s->index = v && json_integer_value(v) >= 0 && json_integer_value(v) <= INT_MAX ? (int)json_integer_value(v) : 0;
	v = rd_get(r, o, "shard", "count", RD_INT, 1);
	s->count = v && json_integer_value(v) >= 0 && json_integer_value(v) <= INT_MAX ? (int)json_integer_value(v) : 0;
	if (!json_is_null(json_object_get(o, "overlap")))
		s->overlap = rd_str(r, o, "shard", "overlap", 0, NULL);
	s->targets = rd_get(r, o, "shard", "targets", RD_ARR, 1);
	for (size_t i = 0; i < json_array_size(s->targets); i++)
		if (!json_is_string(json_array_get(s->targets, i)))
			rd_fail(r, "shard.targets[%zu] is not a string", i);
	s->nplan = rd_list(r, o, "shard", "plan", 1, (void **)&s->plan, sizeof(*s->plan), rd_plan_job);
}

/* The top-level records, typed; m->doc is set. */
static void rd_doc(struct rd *r, struct manifest *m)
{
	json_t *d = m->doc, *v;
	if ((v = rd_get(r, d, "", "schema", RD_INT, 1)) && json_integer_value(v) != 1)
		rd_fail(r, "schema %lld is not 1 (written by another version of xgo-build)",
			(long long)json_integer_value(v));
	m->schema = 1;
	m->tool_version = rd_str(r, rd_get(r, d, "", "tool", RD_OBJ, 1), "tool", "version", 1, "");
	json_t *sdk = rd_get(r, d, "", "sdk", RD_OBJ, 1);
	m->sdk_version = rd_str(r, sdk, "sdk", "version", 1, "");
	m->sdk_platform = rd_str(r, sdk, "sdk", "platform", 1, "");
	m->sdk_tree_digest = rd_str(r, sdk, "sdk", "tree_digest", 0, "");
	m->release_digest = rd_str(r, rd_get(r, d, "", "release", RD_OBJ, 0), "release", "digest", 0, "");
	json_t *in = rd_get(r, d, "", "inputs", RD_OBJ, 0);
	m->source_digest = rd_str(r, in, "inputs", "source_digest", 0, "");
	m->go_sum_digest = rd_str(r, in, "inputs", "go_sum_digest", 0, "");
	m->sde = rd_str(r, in, "inputs", "source_date_epoch", 0, "");
	m->sde_value = strtoll(m->sde, NULL, 10);
	rd_get(r, in, "inputs", "git", RD_OBJ, 0);
	m->njobs = rd_list(r, d, "", "jobs", 1, (void **)&m->jobs, sizeof(*m->jobs), rd_job);
	m->narchives = rd_list(r, d, "", "archives", 1, (void **)&m->archives, sizeof(*m->archives), rd_archive);
	m->npackages = rd_list(r, d, "", "packages", 0, (void **)&m->packages, sizeof(*m->packages), rd_package);
	m->nsboms = rd_list(r, d, "", "sboms", 0, (void **)&m->sboms, sizeof(*m->sboms), rd_sbom);
	m->nsigs = rd_list(r, d, "", "signatures", 0, (void **)&m->sigs, sizeof(*m->sigs), rd_sig);
	json_t *c = rd_get(r, d, "", "checksums", RD_OBJ, 0);
	if (c) {
		m->checksums.file = rd_name(r, c, "checksums", "file", "checksums.file");
		m->checksums.algorithm = rd_str(r, c, "checksums", "algorithm", 1, "");
		m->checksums.per_file = rd_bool(r, c, "checksums", "per_file");
	}
	if ((m->shard = rd_get(r, d, "", "shard", RD_OBJ, 0)))
		rd_shard(r, m->shard, &m->shard_rec);
	m->partial = rd_get(r, d, "", "partial", RD_OBJ, 0);
	m->merged = rd_get(r, d, "", "merged", RD_OBJ, 0);
	m->universal = rd_get(r, d, "", "universal", RD_ARR, 0);
	m->images = rd_get(r, d, "", "images", RD_ARR, 0);
}

int manifest_parse(struct manifest *m, const char *what, const char *text, size_t len)
{
	struct rd r = { what, 0 };
	json_error_t je;
	memset(m, 0, sizeof(*m));
	hash_bytes_hex(HASH_SHA256, text, len, m->sha256);
	m->doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!m->doc)
		rd_fail(&r, "line %d: %s", je.line, je.text);
	else if (!json_is_object(m->doc))
		rd_fail(&r, "not a JSON object");
	else
		rd_doc(&r, m);
	if (!r.failed)
		return 0;
	manifest_release(m);
	return -1;
}

int manifest_load(struct manifest *m, const char *what, const char *path)
{
	size_t len;
	char *text = read_file(path, MANIFEST_MAX_BYTES, &len);
	memset(m, 0, sizeof(*m));
	if (!text)
		return -1;
	char *quoted = xasprintf("'%s'", path);
	int rc = manifest_parse(m, what ? what : quoted, text, len);
	free(quoted);
	free(text);
	return rc;
}

int manifest_load_dir(struct manifest *m, const char *dir)
{
	char *what = xasprintf("'%s': file", dir), *real = NULL;
	memset(m, 0, sizeof(*m));
	int rc = path_inside(what, dir, "manifest.json", &real);
	free(real);
	free(what);
	if (rc < 0)
		return -1;
	char *path = xasprintf("%s/manifest.json", dir);
	rc = manifest_load(m, NULL, path);
	free(path);
	return rc;
}

void manifest_release(struct manifest *m)
{
	json_decref(m->doc);
	free(m->jobs);
	free(m->archives);
	free(m->packages);
	free(m->sboms);
	free(m->sigs);
	free(m->shard_rec.plan);
	memset(m, 0, sizeof(*m));
}
