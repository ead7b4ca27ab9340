#define _POSIX_C_SOURCE 200809L
#include "provenance.h"
#include "gitinfo.h"
#include "events.h"
#include "base/jsonx.h"
#include "base/proc.h"
#include "toolchains/cc.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void prov_time(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *digest(const char *algo, const char *hex)
{
	return json_pack("{s:s}", algo, hex);
}

/* ---- subjects ---------------------------------------------------------- */

/* The published files, sorted by name (the list is). */
static json_t *subjects(const struct prov_in *in)
{
	json_t *a = json_array();
	for (size_t i = 0; i < in->subjects->n; i++)
		jx_push(a, json_pack("{s:o, s:o}", "name", jx_text(in->subjects->v[i].name), "digest",
				     digest("sha256", in->subjects->v[i].hex)));
	return a;
}

/* ---- git, read without hooks or the user's configuration ------------------ */

static int git_line(const char *dir, const char *a1, const char *a2, const char *a3, char *out, size_t cap)
{
	char *argv[] = { "git", "-C", (char *)dir, (char *)a1, (char *)a2, (char *)a3, NULL };
	char *envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", "GIT_CONFIG_NOSYSTEM=1", "HOME=/nonexistent",
			 "GIT_TERMINAL_PROMPT=0", NULL };
	struct buf o;
	int status, ok;
	buf_init(&o, 4096);
	int saved = error_quiet(1); /* no git, or no checkout: nothing is known */
	ok = proc_capture(argv, envp, NULL, &o, NULL, &status) == 0 && status == 0 && o.data;
	error_quiet(saved);
	if (ok) {
		o.data[strcspn(o.data, "\r\n")] = '\0';
		ok = o.data[0] && utf8_valid(o.data);
		snprintf(out, cap, "%s", ok ? o.data : "");
	}
	buf_release(&o);
	return ok;
}

/* An address without the user:password@ a clone URL may carry. */
static void strip_userinfo(char *url)
{
	char *scheme = strstr(url, "://");
	if (!scheme)
		return;
	char *host = scheme + 3, *at = strchr(host, '@'), *slash = strchr(host, '/');
	if (at && (!slash || at < slash))
		memmove(host, at + 1, strlen(at + 1) + 1);
}

/* {"repository", "commit"} of the checkout, or NULL when git does not know:
 * the commit is the run's (gitinfo.h, read once). */
static json_t *git_source(const struct release *r, const char *dir)
{
	char url[2048];
	if (!r->git || !r->git->ok)
		return NULL;
	json_t *o = json_pack("{s:s}", "commit", r->git->commit);
	if (git_line(dir, "config", "--get", "remote.origin.url", url, sizeof(url))) {
		strip_userinfo(url);
		jx_set(o, "repository", json_string(url));
	}
	return o;
}

/* ---- resolved dependencies ----------------------------------------------- */

/* "h1:<base64 of 32 bytes>" -> 64 hex digits; -1 when it is not one. */
static int h1_hex(const char *h1, char hex[65])
{
	unsigned char raw[48];
	if (strncmp(h1, "h1:", 3) || strlen(h1 + 3) != 44)
		return -1;
	if (EVP_DecodeBlock(raw, (const unsigned char *)h1 + 3, 44) != 33)
		return -1;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

int prov_gosum_deps(const char *dir, json_t *deps)
{
	char *path = xasprintf("%s/go.sum", dir);
	size_t len;
	int rc = 0, line = 0;
	char *text = NULL;
	if (access(path, F_OK) != 0)
		goto out; /* no go.sum: no module dependencies */
	if (!(text = read_file(path, PROV_GOSUM_MAX_BYTES, &len))) {
		rc = -1;
		goto out;
	}
	for (char *p = text, *nl; *p && rc == 0; p = nl + (*nl != '\0')) {
		nl = p + strcspn(p, "\n");
		line++;
		char l[4096], mod[4096], ver[4096], sum[4096], hex[65], extra;
		if ((size_t)(nl - p) >= sizeof(l)) {
			rc = error("'%s':%d: line too long for a go.sum entry: regenerate it with 'go mod tidy'", path,
				   line);
			break;
		}
		snprintf(l, sizeof(l), "%.*s", (int)(nl - p), p);
		if (!l[0])
			continue;
		if (sscanf(l, "%4095s %4095s %4095s %c", mod, ver, sum, &extra) != 3 || h1_hex(sum, hex) < 0 ||
		    !utf8_valid(l)) {
			rc = error("'%s':%d: not 'path version h1:hash': regenerate it with 'go mod tidy'", path, line);
			break;
		}
		size_t vl = strlen(ver);
		if (vl > 7 && !strcmp(ver + vl - 7, "/go.mod"))
			continue;
		jx_push(deps, json_pack("{s:s++, s:s+++, s:o}", "name", mod, "@", ver, "uri", "pkg:golang/", mod, "@",
					ver, "digest", digest("dirHash1", hex)));
	}
out:
	free(text);
	free(path);
	return rc;
}

/* Each distinct C toolchain of the plan, by its binary's digest. */
static void cc_deps(const struct plan *p, json_t *deps)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct cc_tool *t = p->jobs[i].cc;
		int seen = 0;
		if (!t || !t->kind[0])
			continue;
		for (size_t k = 0; k < i && !seen; k++)
			seen = p->jobs[k].cc && !strcmp(p->jobs[k].cc->digest, t->digest);
		if (seen)
			continue;
		json_t *o = json_pack("{s:s+++, s:o, s:{s:o, s:s}}", "name", "cc:", t->kind, t->triple[0] ? " " : "",
				      t->triple, "digest", digest("sha256", t->sha256), "annotations", "version",
				      jx_text(t->version), "identity", t->digest);
		if (t->lib_digest[0])
			jx_set(json_object_get(o, "annotations"), "lib_tree_digest", json_string(t->lib_digest));
		jx_push(deps, o);
	}
}

static json_t *resolved(const struct prov_in *in)
{
	const struct sdk *s = in->sdk;
	json_t *deps = json_array();
	if (s->archive_sha256[0])
		jx_push(deps, json_pack("{s:s, s:s+, s:o}", "name", s->filename, "uri", "pkg:golang/go@", s->version,
					"digest", digest("sha256", s->archive_sha256)));
	jx_push(deps, json_pack("{s:s+, s:o, s:{s:s}}", "name", "go-sdk-tree:", s->version, "digest",
				digest("sha256", s->tree_digest), "annotations", "digest_of",
				"the installed SDK tree (docs/sdk.md)"));
	jx_push(deps, json_pack("{s:s, s:o, s:{s:s}}", "name", "source", "digest", digest("sha256", in->source_digest),
				"annotations", "digest_of", "the project tree (docs/verify.md)"));
	cc_deps(in->plan, deps);
	if (prov_gosum_deps(in->project_dir, deps) < 0) {
		json_decref(deps);
		return NULL;
	}
	return deps;
}

/* ---- build definition and run details ------------------------------------ */

static json_t *external(const struct prov_in *in)
{
	const struct release *r = in->release;
	json_t *targets = json_array(), *env = json_array();
	for (size_t i = 0; i < in->plan->n; i++)
		jx_push(targets, json_pack("s++", in->plan->jobs[i].build->name, ":", in->plan->jobs[i].id));
	for (size_t i = 0; i < r->nenv_reads; i++)
		jx_push(env, json_pack("{s:s, s:o}", "name", r->env_reads[i].name, "value",
				       r->env_reads[i].value ? jx_text(r->env_reads[i].value) : json_null()));
	const char *slash = strrchr(r->path, '/');
	json_t *o = json_pack("{s:{s:s, s:o}, s:s, s:s, s:o, s:o}", "buildFile", "name", slash ? slash + 1 : r->path,
			      "digest", digest("sha256", r->digest), "project", r->project, "version", r->version,
			      "targets", targets, "envReads", env);
	json_t *src = git_source(r, in->project_dir);
	if (src)
		jx_set(o, "source", src);
	return o;
}

static json_t *builder(void)
{
	const char *gha = getenv("GITHUB_ACTIONS"), *server = getenv("GITHUB_SERVER_URL");
	const char *ref = getenv("GITHUB_WORKFLOW_REF");
	json_t *version = json_pack("{s:s}", "xgo-build", XGO_VERSION);
	if (gha && !strcmp(gha, "true") && server && ref) {
		char *id = xasprintf("%s/%s", server, ref);
		json_t *o = json_pack("{s:o, s:o}", "id", jx_text(id), "version", version);
		free(id);
		return o;
	}
	return json_pack("{s:s, s:o}", "id", PROV_LOCAL_BUILDER, "version", version);
}

/* The CI run's address, else a random urn:uuid. */
static json_t *invocation_id(void)
{
	const char *server = getenv("GITHUB_SERVER_URL"), *repo = getenv("GITHUB_REPOSITORY");
	const char *run = getenv("GITHUB_RUN_ID"), *attempt = getenv("GITHUB_RUN_ATTEMPT");
	if (server && repo && run) {
		char *id = xasprintf("%s/%s/actions/runs/%s/attempts/%s", server, repo, run, attempt ? attempt : "1");
		json_t *o = jx_text(id);
		free(id);
		return o;
	}
	unsigned char r[16];
	if (RAND_bytes(r, sizeof(r)) != 1)
		fatal(EXIT_JOB, "no random bytes for the invocation id");
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* a version 4 UUID */
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	char s[64];
	snprintf(s, sizeof(s), "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
		 r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
	return json_string(s);
}

json_t *prov_json(const struct prov_in *in)
{
	json_t *deps = resolved(in);
	if (!deps)
		return NULL;
	char started[32], finished[32];
	prov_time(in->started, started);
	prov_time(in->finished, finished);
	json_t *def = json_pack("{s:s, s:o, s:{s:s, s:s, s:s}, s:o}", "buildType", PROV_BUILD_TYPE,
				"externalParameters", external(in), "internalParameters", "sourceDateEpoch", in->sde,
				"isolation", in->isolation, "tool", XGO_VERSION, "resolvedDependencies", deps);
	json_t *run = json_pack("{s:o, s:{s:o, s:s, s:s}}", "builder", builder(), "metadata", "invocationId",
				invocation_id(), "startedOn", started, "finishedOn", finished);
	json_t *st = json_pack("{s:s, s:o, s:s, s:{s:o, s:o}}", "_type", "https://in-toto.io/Statement/v1", "subject",
			       subjects(in), "predicateType", "https://slsa.dev/provenance/v1", "predicate",
			       "buildDefinition", def, "runDetails", run);
	if (!st)
		error("cannot write %s: a value did not convert to JSON (not UTF-8, or out of memory)", PROV_FILE);
	return st;
}

int prov_write_json(const char *dir, json_t *st)
{
	char *text = json_dumps(st, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return error("cannot serialise %s", PROV_FILE);
	char *path = xasprintf("%s/%s", dir, PROV_FILE), *withnl = xasprintf("%s\n", text);
	int rc = write_file_atomic(path, withnl, strlen(withnl), 0644);
	free(withnl);
	free(text);
	free(path);
	return rc;
}

int prov_write(const char *dir, const struct prov_in *in)
{
	json_t *st = prov_json(in);
	if (!st)
		return -1;
	int rc = prov_write_json(dir, st);
	json_decref(st);
	return rc;
}

json_t *prov_reproducible(json_t *statement)
{
	json_t *copy = json_deep_copy(statement);
	json_t *pred = json_object_get(copy, "predicate");
	if (json_is_object(pred))
		json_object_del(pred, "runDetails");
	return copy;
}
