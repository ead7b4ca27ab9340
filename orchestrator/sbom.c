#define _POSIX_C_SOURCE 200809L
#include "sbom.h"
#include "base/binfmt.h"
#include "buildinfo.h"
#include "events.h"
#include "base/hash.h"
#include "base/jsonx.h"
#include "base/path.h"
#include "provenance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct module {
	char *path, *version, *sum; /* sum: "h1:..." or "" */
};

struct mods {
	struct module main, *v;
	size_t n;
	char *go; /* "go1.26.8" */
	struct strv settings; /* "KEY=VALUE" */
};

static void mods_release(struct mods *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].path);
		free(m->v[i].version);
		free(m->v[i].sum);
	}
	free(m->v);
	free(m->main.path);
	free(m->main.version);
	free(m->main.sum);
	strv_release(&m->settings);
}

/* "P V [SUM]" into mod (owned copies). */
static void split_mod(const char *s, struct module *mod)
{
	const char *sp = strchr(s, ' ');
	const char *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
	mod->path = sp ? xstrndup(s, (size_t)(sp - s)) : xstrdup(s);
	mod->version = sp ? (sp2 ? xstrndup(sp + 1, (size_t)(sp2 - sp - 1)) : xstrdup(sp + 1)) : xstrdup("");
	mod->sum = xstrdup(sp2 ? sp2 + 1 : "");
}

static void read_mods(const struct buildinfo *bi, struct mods *m)
{
	memset(m, 0, sizeof(*m));
	m->go = bi->go_version;
	for (size_t i = 0; i < bi->lines.n; i++) {
		const char *l = bi->lines.v[i];
		if (!strncmp(l, "mod ", 4)) {
			split_mod(l + 4, &m->main);
		} else if (!strncmp(l, "dep ", 4)) {
			m->v = xreallocarray(m->v, m->n + 1, sizeof(*m->v));
			split_mod(l + 4, &m->v[m->n++]);
		} else if (!strncmp(l, "=> ", 3) && m->n) { /* the replacement is what was built */
			struct module *d = &m->v[m->n - 1];
			free(d->path);
			free(d->version);
			free(d->sum);
			split_mod(l + 3, d);
		} else if (!strncmp(l, "build ", 6)) {
			strv_push(&m->settings, l + 6);
		}
	}
	if (!m->main.path)
		m->main = (struct module){ xstrdup(bi->path ? bi->path : "command-line-arguments"), xstrdup("(devel)"),
					   xstrdup("") };
}

/* A purl part: what is not unreserved is percent-encoded ('/' kept in paths). */
static void purl_part(struct buf *b, const char *s, int keep_slash)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr(".-_~", *p) || (keep_slash && *p == '/'))
			buf_append(b, p, 1);
		else
			buf_printf(b, "%%%02X", *p);
	}
}

static char *purl(const char *path, const char *version)
{
	struct buf b;
	buf_init(&b, 1u << 16);
	buf_puts(&b, "pkg:golang/");
	purl_part(&b, path, 1);
	if (version[0]) {
		buf_puts(&b, "@");
		purl_part(&b, version, 0);
	}
	return buf_detach(&b);
}

/* ---- SPDX 2.3 -------------------------------------------------------------- */

static json_t *spdx_package(const char *id, const char *name, const char *version, const char *sum)
{
	char *p = purl(name, version);
	json_t *o = json_pack("{s:s, s:o, s:o, s:s, s:b, s:[{s:s, s:s, s:o}]}", "SPDXID", id, "name",
			      jx_text(name), "versionInfo", jx_text(version), "downloadLocation", "NOASSERTION",
			      "filesAnalyzed", 0, "externalRefs", "referenceCategory", "PACKAGE-MANAGER", "referenceType",
			      "purl", "referenceLocator", jx_text(p));
	if (sum && sum[0])
		jx_set(o, "comment", json_pack("s+", "go.sum ", sum));
	free(p);
	return o;
}

static json_t *spdx_doc(const struct job *j, const char *sha256, const struct mods *m, const char *version,
			const char *created, const char *ns)
{
	const char *tool = "Tool: xgo-build-" XGO_VERSION;
	json_t *notes = json_array();
	for (size_t i = 0; i < m->settings.n; i++)
		jx_push(notes, json_pack("{s:s, s:s, s:s, s:o}", "annotationDate", created, "annotationType", "OTHER",
					 "annotator", tool, "comment", json_pack("s+", "go build setting ",
										 m->settings.v[i])));
	json_t *bin = json_pack("{s:s, s:o, s:s, s:s, s:b, s:[{s:s, s:s}], s:s, s:o}", "SPDXID",
				"SPDXRef-Package-binary", "name", jx_text(j->binary), "versionInfo", version,
				"downloadLocation", "NOASSERTION", "filesAnalyzed", 0, "checksums", "algorithm", "SHA256",
				"checksumValue", sha256, "primaryPackagePurpose", "APPLICATION", "annotations", notes);
	json_t *pkgs = json_array(), *rels = json_array();
	jx_push(pkgs, bin);
	jx_push(rels, json_pack("{s:s, s:s, s:s}", "spdxElementId", "SPDXRef-DOCUMENT", "relationshipType", "DESCRIBES",
				"relatedSpdxElement", "SPDXRef-Package-binary"));
	jx_push(pkgs, spdx_package("SPDXRef-Package-main", m->main.path, m->main.version, m->main.sum));
	jx_push(pkgs, spdx_package("SPDXRef-Package-stdlib", "stdlib", m->go, NULL));
	const char *contained[] = { "SPDXRef-Package-main", "SPDXRef-Package-stdlib" };
	for (size_t i = 0; i < ARRAY_LEN(contained); i++)
		jx_push(rels, json_pack("{s:s, s:s, s:s}", "spdxElementId", "SPDXRef-Package-binary", "relationshipType",
					"CONTAINS", "relatedSpdxElement", contained[i]));
	for (size_t i = 0; i < m->n; i++) {
		char id[48];
		snprintf(id, sizeof(id), "SPDXRef-Package-module-%zu", i + 1);
		jx_push(pkgs, spdx_package(id, m->v[i].path, m->v[i].version, m->v[i].sum));
		jx_push(rels, json_pack("{s:s, s:s, s:s}", "spdxElementId", "SPDXRef-Package-binary", "relationshipType",
					"CONTAINS", "relatedSpdxElement", id));
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:s, s:{s:s, s:[s]}, s:o, s:o}", "spdxVersion", "SPDX-2.3",
			 "dataLicense", "CC0-1.0", "SPDXID", "SPDXRef-DOCUMENT", "name", jx_text(j->output),
			 "documentNamespace", ns, "creationInfo", "created", created, "creators", tool, "packages",
			 pkgs, "relationships", rels);
}

/* ---- CycloneDX 1.6 --------------------------------------------------------- */

static json_t *cdx_component(const char *name, const char *version, const char *sum)
{
	char *p = purl(name, version);
	json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o}", "type", "library", "bom-ref", jx_text(p), "name",
			      jx_text(name), "version", jx_text(version), "purl", jx_text(p));
	if (sum && sum[0])
		jx_set(o, "properties", json_pack("[{s:s, s:s}]", "name", "go:sum", "value", sum));
	free(p);
	return o;
}

static json_t *cdx_doc(const struct job *j, const char *sha256, const struct mods *m, const char *version,
		       const char *created, const char *uuid)
{
	json_t *props = json_array(), *comps = json_array(), *deps = json_array();
	for (size_t i = 0; i < m->settings.n; i++)
		jx_push(props, json_pack("{s:s, s:o}", "name", "go:build:setting", "value", jx_text(m->settings.v[i])));
	jx_push(comps, cdx_component(m->main.path, m->main.version, m->main.sum));
	jx_push(comps, cdx_component("stdlib", m->go, NULL));
	for (size_t i = 0; i < m->n; i++)
		jx_push(comps, cdx_component(m->v[i].path, m->v[i].version, m->v[i].sum));
	size_t i;
	json_t *c;
	json_array_foreach(comps, i, c)
		jx_push(deps, json_incref(json_object_get(c, "bom-ref")));
	json_t *meta = json_pack("{s:s, s:{s:[{s:s, s:s, s:s}]}, s:{s:s, s:s, s:o, s:s, s:[{s:s, s:s}], s:o}}",
				 "timestamp", created, "tools", "components", "type", "application", "name", "xgo-build",
				 "version", XGO_VERSION, "component", "type", "application", "bom-ref", "binary", "name",
				 jx_text(j->binary), "version", version, "hashes", "alg", "SHA-256", "content", sha256,
				 "properties", props);
	return json_pack("{s:s, s:s, s:s, s:i, s:o, s:o, s:[{s:s, s:o}]}", "bomFormat", "CycloneDX", "specVersion",
			 "1.6", "serialNumber", uuid, "version", 1, "metadata", meta, "components", comps,
			 "dependencies", "ref", "binary", "dependsOn", deps);
}

/* ---- writing --------------------------------------------------------------- */

static int write_doc(const char *stage, const char *name, json_t *doc, char sha256[65])
{
	if (!doc)
		return error("cannot write '%s': a value did not convert to JSON", name);
	char *path = xasprintf("%s/%s", stage, name);
	struct stat st;
	int rc;
	if (lstat(path, &st) == 0) {
		rc = error("cannot write the SBOM '%s': the release already publishes a file of that name; rename the "
			   "output or that file", name);
	} else {
		char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
		char *withnl = xasprintf("%s\n", text ? text : "");
		rc = text ? write_file_atomic(path, withnl, strlen(withnl), 0644) : error("cannot serialise '%s'", name);
		if (rc == 0)
			hash_bytes_hex(HASH_SHA256, withnl, strlen(withnl), sha256);
		free(text);
		free(withnl);
	}
	free(path);
	return rc;
}

static int add(struct sbom_set *out, const char *stage, const char *name, const char *format, size_t job,
	       json_t *doc)
{
	struct sbom_file f = { .name = xstrdup(name), .format = format, .job = job };
	int rc = path_check_name("SBOM", name) < 0 ? -1 : write_doc(stage, name, doc, f.sha256);
	json_decref(doc);
	out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
	out->v[out->n++] = f;
	return rc;
}

static int one_job(const struct release *r, const struct job *j, const struct result *res, size_t idx,
		   const char *stage, const char *created, struct sbom_set *out)
{
	size_t len;
	char *bytes = read_file(res->path, SBOM_MAX_BINARY, &len);
	struct buildinfo bi = { 0 };
	if (!bytes)
		return -1;
	int got = buildinfo_read((const unsigned char *)bytes, len, &bi);
	/* wasm and Plan 9 binaries: a format whose sections the build-info
	 * reader does not know (binfmt.h) gets no SBOM, with a warning */
	int unknown_format = got > 0 && !binfmt_kind((const unsigned char *)bytes, len);
	free(bytes);
	if (unknown_format) {
		warn("%s: no SBOM: xgo-build cannot read the build information of a %s binary", j->output, j->id);
		return 0;
	}
	if (got != 0) {
		if (got > 0)
			error("'%s' holds no Go build information: no SBOM can be written for it", j->output);
		return -1;
	}
	struct mods m;
	read_mods(&bi, &m);
	/* the namespace and serial: a digest of what the document describes */
	char seed[65], *key = xasprintf("%s%c%s%c%s", j->output, 0, res->sha256, 0, XGO_VERSION);
	hash_bytes_hex(HASH_SHA256, key, strlen(j->output) + 1 + 64 + 1 + strlen(XGO_VERSION), seed);
	free(key);
	int rc = 0;
	if (r->sbom.spdx) {
		char *ns = xasprintf("https://xgo-build.dev/spdx/%s", seed);
		char *name = xasprintf("%s.spdx.json", j->output);
		rc = add(out, stage, name, "spdx-2.3", idx, spdx_doc(j, res->sha256, &m, r->version, created, ns));
		free(name);
		free(ns);
	}
	if (rc == 0 && r->sbom.cyclonedx) {
		char uuid[64], *name = xasprintf("%s.cdx.json", j->output);
		snprintf(uuid, sizeof(uuid), "urn:uuid:%.8s-%.4s-5%.3s-8%.3s-%.12s", seed, seed + 8, seed + 13, seed + 17,
			 seed + 20);
		rc = add(out, stage, name, "cyclonedx-1.6", idx, cdx_doc(j, res->sha256, &m, r->version, created, uuid));
		free(name);
	}
	mods_release(&m);
	buildinfo_release(&bi);
	return rc;
}

int sbom_write_all(const struct release *r, const struct plan *p, const struct result *res, const char *stage,
		   long long sde, struct sbom_set *out)
{
	char created[32];
	prov_time((time_t)sde, created);
	for (size_t i = 0; i < p->n; i++)
		if (res[i].done && res[i].status == 0 && one_job(r, &p->jobs[i], &res[i], i, stage, created, out) < 0)
			return -1;
	return 0;
}

void sbom_set_release(struct sbom_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

json_t *sbom_manifest(const struct sbom_set *s, const struct plan *p)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->n; i++) {
		const struct job *j = &p->jobs[s->v[i].job];
		jx_push(a, json_pack("{s:o, s:s, s:s, s:s, s:s}", "name", jx_text(s->v[i].name), "format",
				     s->v[i].format, "build", j->build->name, "target", j->id, "sha256", s->v[i].sha256));
	}
	return a;
}
