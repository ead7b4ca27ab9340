#define _POSIX_C_SOURCE 200809L
#include "oci.h"
#include "base/hash.h"
#include "base/jsonx.h"
#include "base/path.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_LAYER "application/vnd.oci.image.layer.v1.tar+gzip"
#define REF_NAME "org.opencontainers.image.ref.name"
#define BIN_DIR "usr/local/bin/"

/* ---- planning ---- */

static int selects(const struct image_decl *d, const struct build_decl *b)
{
	return d->builds.n == 0 || strv_contains(&d->builds, b->name);
}

/* The OCI platform of a linux job: "linux/amd64", "linux/arm/v7". */
static void job_platform(const struct job *j, char *out, size_t cap, char arch[16], char variant[8])
{
	snprintf(arch, 16, "%s", j->target.goarch);
	variant[0] = '\0';
	if (!strcmp(j->target.goarch, "arm") && j->target.vval[0] >= '5' && j->target.vval[0] <= '7')
		snprintf(variant, 8, "v%c", j->target.vval[0]);
	snprintf(out, cap, "linux/%s%s%s", arch, variant[0] ? "/" : "", variant);
}

/* "linux/arm/7" as written for the matrix means "linux/arm/v7". */
static void normalise_platform(const char *in, char *out, size_t cap)
{
	const char *last = strrchr(in, '/');
	int digit = last && last != strchr(in, '/') && last[1] >= '0' && last[1] <= '9';
	if (digit)
		snprintf(out, cap, "%.*sv%s", (int)(last + 1 - in), in, last + 1);
	else
		snprintf(out, cap, "%s", in);
}

static struct oci_plat *add_plat(struct oci_image *im, const char *platform, const char *arch,
				 const char *variant)
{
	im->plats = xreallocarray(im->plats, im->nplats + 1, sizeof(*im->plats));
	struct oci_plat *pl = &im->plats[im->nplats++];
	memset(pl, 0, sizeof(*pl));
	snprintf(pl->platform, sizeof(pl->platform), "%s", platform);
	snprintf(pl->arch, sizeof(pl->arch), "%s", arch);
	snprintf(pl->variant, sizeof(pl->variant), "%s", variant);
	return pl;
}

static struct oci_plat *find_plat(struct oci_image *im, const char *platform)
{
	for (size_t i = 0; i < im->nplats; i++)
		if (!strcmp(im->plats[i].platform, platform))
			return &im->plats[i];
	return NULL;
}

/* The linux platforms the selected builds give, as one line for errors. */
static void built_platforms(const struct image_decl *d, const struct plan *p, struct buf *out)
{
	for (size_t i = 0; i < p->n; i++) {
		char plat[48], arch[16], variant[8];
		if (strcmp(p->jobs[i].target.goos, "linux") || !selects(d, p->jobs[i].build))
			continue;
		job_platform(&p->jobs[i], plat, sizeof(plat), arch, variant);
		if (!strstr(out->data ? out->data : "", plat))
			buf_printf(out, "%s%s", out->len ? ", " : "", plat);
	}
	if (!out->len)
		buf_puts(out, "none");
}

/* Put every selected linux job into its platform; with wanted set, only
 * those platforms (made first, in the declaration's order). */
static int place_jobs(const struct release *r, const struct plan *p, struct oci_image *im)
{
	const struct image_decl *d = im->decl;
	for (size_t i = 0; i < d->platforms.n; i++) {
		char plat[48];
		normalise_platform(d->platforms.v[i], plat, sizeof(plat));
		if (find_plat(im, plat))
			return error("%s:%d: image '%s': platforms: '%s' is listed twice", r->path, d->line, d->name,
				     d->platforms.v[i]);
		add_plat(im, plat, "", "");
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct job *j = &p->jobs[i];
		char plat[48], arch[16], variant[8];
		if (strcmp(j->target.goos, "linux") || !selects(d, j->build))
			continue;
		job_platform(j, plat, sizeof(plat), arch, variant);
		struct oci_plat *pl = find_plat(im, plat);
		if (!pl && d->platforms.n)
			continue;
		if (!pl)
			pl = add_plat(im, plat, arch, variant);
		snprintf(pl->arch, sizeof(pl->arch), "%s", arch);
		snprintf(pl->variant, sizeof(pl->variant), "%s", variant);
		for (size_t k = 0; k < pl->njobs; k++)
			if (p->jobs[pl->jobs[k]].build == j->build)
				return error("%s:%d: image '%s': build '%s' gives %s twice (%s and %s): exclude one "
					     "from its matrix or name the builds", r->path, d->line, d->name,
					     j->build->name, plat, p->jobs[pl->jobs[k]].id, j->id);
		pl->jobs = xreallocarray(pl->jobs, pl->njobs + 1, sizeof(*pl->jobs));
		pl->jobs[pl->njobs++] = i;
	}
	for (size_t i = 0; i < im->nplats || im->nplats == 0; i++) {
		if (im->nplats && im->plats[i].njobs)
			continue;
		struct buf b;
		buf_init(&b, 4096);
		built_platforms(d, p, &b);
		if (im->nplats)
			error("%s:%d: image '%s': platforms: '%s' is not built (the linux targets of its builds: %s)",
			      r->path, d->line, d->name, d->platforms.v[i], b.data);
		else
			error("%s:%d: image '%s': its builds have no linux target to put in an image", r->path,
			      d->line, d->name);
		buf_release(&b);
		return -1;
	}
	return 0;
}

/* The entrypoint: as declared, or the binary when there is one build. */
static int plan_entrypoint(const struct release *r, struct oci_image *im, const struct plan *p)
{
	const struct image_decl *d = im->decl;
	const struct build_decl *only = NULL;
	for (size_t i = 0; i < d->entrypoint.n; i++)
		strv_push(&im->entrypoint, d->entrypoint.v[i]);
	if (d->entrypoint.n)
		return 0;
	for (size_t k = 0; k < im->nplats; k++)
		for (size_t i = 0; i < im->plats[k].njobs; i++) {
			const struct build_decl *b = p->jobs[im->plats[k].jobs[i]].build;
			if (only && only != b)
				return error("%s:%d: image '%s': it holds the binaries of builds '%s' and '%s': give "
					     "entrypoint = { \"/" BIN_DIR "%s\" }", r->path, d->line, d->name,
					     only->name, b->name, only->binary);
			only = b;
		}
	strv_pushf(&im->entrypoint, "/" BIN_DIR "%s", only->binary);
	return 0;
}

static int check_extra(const struct release *r, struct oci_image *im, const struct plan *p,
		       const char *project_dir)
{
	const struct image_decl *d = im->decl;
	int saved = error_quiet(1); /* one error line, with the declaration's line */
	int rc = pkg_expand_files(project_dir, d->files, d->nfiles, &im->extra);
	error_quiet(saved);
	if (rc < 0) {
		char why[1024];
		snprintf(why, sizeof(why), "%s", error_last());
		return error("%s:%d: image '%s': files: %s", r->path, d->line, d->name, why);
	}
	for (size_t e = 0; e < im->extra.n; e++)
		for (size_t k = 0; k < im->nplats; k++)
			for (size_t i = 0; i < im->plats[k].njobs; i++) {
				const char *bin = p->jobs[im->plats[k].jobs[i]].build->binary;
				if (!strncmp(im->extra.v[e].path, BIN_DIR, strlen(BIN_DIR)) &&
				    !strcmp(im->extra.v[e].path + strlen(BIN_DIR), bin))
					return error("%s:%d: image '%s': files: '%s' is where the binary of build '%s' "
						     "goes: give another dst", r->path, d->line, d->name,
						     im->extra.v[e].path, p->jobs[im->plats[k].jobs[i]].build->name);
			}
	return 0;
}

/* ---- the base image ---- */

#define BASE_JSON_MAX (4u << 20) /* a manifest, index or config of a base */

/* The JSON blob dir/blobs/sha256/<hex>, checked against its name. */
static json_t *read_blob(const char *dir, const char *digest, const char *where)
{
	char hex[HASH_HEX_MAX];
	size_t len;
	if (strncmp(digest, "sha256:", 7) || !hash_is_sha256_hex(digest + 7)) {
		error("%s: '%s' is not a sha256 digest", where, digest);
		return NULL;
	}
	char *path = xasprintf("%s/blobs/sha256/%s", dir, digest + 7);
	int saved = error_quiet(1); /* one error line: ours, with read_file's reason */
	char *text = read_file(path, BASE_JSON_MAX, &len);
	error_quiet(saved);
	json_t *doc = NULL;
	if (!text) {
		char why[1024];
		snprintf(why, sizeof(why), "%s", error_last());
		error("%s: %s", where, why);
	} else {
		hash_bytes_hex(HASH_SHA256, text, len, hex);
		if (strcmp(hex, digest + 7))
			error("%s: the blob %s has the digest sha256:%s: the layout is damaged", where, digest, hex);
		else if (!(doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL)) || !json_is_object(doc))
			error("%s: the blob %s is not a JSON object", where, digest);
	}
	if (doc && (!json_is_object(doc) || strcmp(hex, digest + 7))) {
		json_decref(doc);
		doc = NULL;
	}
	free(text);
	free(path);
	return doc;
}

static const char *str_at(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* The manifest of the base index for platform pl, or NULL. */
static const char *index_pick(json_t *index, const struct oci_plat *pl)
{
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(index, "manifests"), i, m) {
		json_t *plat = json_object_get(m, "platform");
		if (!strcmp(str_at(plat, "os"), "linux") && !strcmp(str_at(plat, "architecture"), pl->arch) &&
		    (!pl->variant[0] || !strcmp(str_at(plat, "variant"), pl->variant)))
			return json_string_value(json_object_get(m, "digest"));
	}
	return NULL;
}

/* The base's manifest and config for pl, checked to be of its platform. */
static int base_platform(struct oci_plat *pl, const char *dir, json_t *top, const char *where)
{
	json_t *man = top;
	int rc = -1;
	if (json_object_get(top, "manifests")) {
		const char *d = index_pick(top, pl);
		if (!d)
			return error("%s: the base has no %s image", where, pl->platform);
		if (!(man = read_blob(dir, d, where)))
			return -1;
	}
	json_t *layers = json_object_get(man, "layers");
	json_t *cfg = read_blob(dir, str_at(json_object_get(man, "config"), "digest"), where);
	json_t *diffs = cfg ? json_object_get(json_object_get(cfg, "rootfs"), "diff_ids") : NULL;
	if (!cfg)
		goto out;
	if (strcmp(str_at(cfg, "os"), "linux") || strcmp(str_at(cfg, "architecture"), pl->arch)) {
		error("%s: the base image is for %s/%s, not %s", where, str_at(cfg, "os"),
		      str_at(cfg, "architecture"), pl->platform);
		goto out;
	}
	if (!json_is_array(layers) || !json_is_array(diffs) || json_array_size(layers) != json_array_size(diffs)) {
		error("%s: the base's manifest and config do not list the same layers", where);
		goto out;
	}
	pl->base_layers = json_deep_copy(layers);
	pl->base_config = json_incref(cfg);
	rc = 0;
out:
	json_decref(cfg);
	if (man != top)
		json_decref(man);
	return rc;
}

/* base = "DIR@sha256:HEX" (release.c checked the form). */
static int load_base(const struct release *r, struct oci_image *im, const char *project_dir)
{
	const struct image_decl *d = im->decl;
	if (!strcmp(d->base, "scratch"))
		return 0;
	char where[512];
	snprintf(where, sizeof(where), "%s:%d: image '%s': base '%s'", r->path, d->line, d->name, d->base);
	const char *at = strstr(d->base, "@sha256:");
	char *rel = xstrndup(d->base, (size_t)(at - d->base));
	int rc = -1;
	if (path_check_name(where, rel) < 0 || path_inside(where, project_dir, rel, &im->base_dir) < 0)
		goto out;
	json_t *top = read_blob(im->base_dir, at + 1, where);
	for (size_t k = 0; top && k < im->nplats; k++)
		if (base_platform(&im->plats[k], im->base_dir, top, where) < 0)
			goto done;
	rc = top ? 0 : -1;
done:
	json_decref(top);
out:
	free(rel);
	return rc;
}

/* 1 when name is dir or lies below it. */
static int under(const char *name, const char *dir)
{
	size_t n = strlen(dir);
	return !strncmp(name, dir, n) && (name[n] == '\0' || name[n] == '/');
}

static int check_dir(const struct release *r, const struct image_decl *d, const char *dir, const struct plan *p,
		     const struct arcplan *ap, const struct uniplan *up)
{
	const char *clash = NULL;
	for (size_t i = 0; i < p->n && !clash; i++)
		clash = under(p->jobs[i].output, dir) ? p->jobs[i].output : NULL;
	for (size_t i = 0; ap && i < ap->n && !clash; i++)
		clash = under(ap->v[i].name, dir) ? ap->v[i].name : NULL;
	for (size_t i = 0; up && i < up->n && !clash; i++)
		clash = under(up->v[i].output, dir) ? up->v[i].output : NULL;
	for (size_t i = 0; up && i < up->narcs && !clash; i++)
		clash = under(up->arcs[i].name, dir) ? up->arcs[i].name : NULL;
	if (!clash && (under(r->checksums.file, dir) || under("manifest.json", dir)))
		clash = dir;
	if (clash)
		return error("%s:%d: image '%s': name: its directory '%s' clashes with '%s', which the release "
			     "publishes too: choose another name", r->path, d->line, d->name, dir, clash);
	return 0;
}

int oci_plan(const struct release *r, const struct plan *p, const struct arcplan *ap, const struct uniplan *up,
	     const char *project_dir, struct ociplan *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < r->nimages; i++) {
		const struct image_decl *d = &r->images[i];
		out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
		struct oci_image *im = &out->v[out->n++];
		memset(im, 0, sizeof(*im));
		im->decl = d;
		im->dir = xasprintf("%s-oci", d->name);
		im->tag = xstrdup(r->version);
		if (check_dir(r, d, im->dir, p, ap, up) < 0 || place_jobs(r, p, im) < 0 ||
		    plan_entrypoint(r, im, p) < 0 || check_extra(r, im, p, project_dir) < 0 ||
		    load_base(r, im, project_dir) < 0) {
			oci_plan_release(out);
			return -1;
		}
	}
	return 0;
}

int oci_plan_derived(const struct release *r, const struct plan *p, const struct arcplan *ap,
		     const char *project_dir, struct uniplan *up, struct ociplan *op)
{
	memset(op, 0, sizeof(*op));
	if (uni_plan(r, p, ap, project_dir, up) < 0)
		return -1;
	if (oci_plan(r, p, ap, up, project_dir, op) < 0) {
		uni_plan_release(up);
		return -1;
	}
	return 0;
}

void oci_plan_release(struct ociplan *op)
{
	for (size_t i = 0; i < op->n; i++) {
		struct oci_image *im = &op->v[i];
		for (size_t k = 0; k < im->nplats; k++) {
			free(im->plats[k].jobs);
			json_decref(im->plats[k].base_config);
			json_decref(im->plats[k].base_layers);
		}
		free(im->base_dir);
		free(im->plats);
		free(im->dir);
		free(im->tag);
		pkg_entries_release(&im->extra);
		strv_release(&im->entrypoint);
		strv_release(&im->files);
		strv_release(&im->shas);
	}
	free(op->v);
	memset(op, 0, sizeof(*op));
}

/* ---- writing ---- */

struct writer {
	struct oci_image *im;
	const char *stage;
	char *blobs;      /* <stage>/<dir>/blobs/sha256 */
	char created[32]; /* SOURCE_DATE_EPOCH, RFC 3339 */
	int64_t epoch;
};

/* Record a published file of the image (relative to dist/). */
static void published(struct writer *w, const char *rel, const char *sha)
{
	strv_pushf(&w->im->files, "%s/%s", w->im->dir, rel);
	strv_push(&w->im->shas, sha);
}

/* Write a JSON document compact with sorted keys: as a blob (desc gets
 * its digest and size), or as the layout file name when name is set. */
static int write_json(struct writer *w, json_t *doc, const char *name, struct oci_desc *desc)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(doc);
	if (!text)
		return error("cannot write the OCI image '%s': out of memory", w->im->dir);
	size_t len = strlen(text);
	char hex[HASH_HEX_MAX], *path;
	hash_bytes_hex(HASH_SHA256, text, len, hex);
	if (name)
		path = xasprintf("%s/%s/%s", w->stage, w->im->dir, name);
	else
		path = xasprintf("%s/%s", w->blobs, hex);
	int rc = write_file_atomic(path, text, len, 0644);
	if (rc == 0 && desc) {
		snprintf(desc->digest, sizeof(desc->digest), "sha256:%.64s", hex);
		desc->size = len;
	}
	if (rc == 0) {
		char *rel = name ? xstrdup(name) : xasprintf("blobs/sha256/%s", hex);
		published(w, rel, hex);
		free(rel);
	}
	free(text);
	free(path);
	return rc;
}

/* The sha256 of the layer's uncompressed tar: the config's diff_id. */
static int diff_id(const char *path, char out[OCI_DIGEST_MAX])
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct hasher *h = hasher_new(HASH_SHA256);
	char buf[1 << 16], hex[HASH_HEX_MAX];
	int rc = -1;
	archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, path, sizeof(buf)) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		error("cannot read the layer '%s': %s", path, archive_error_string(a));
		goto out;
	}
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
		if (n < 0) {
			error("cannot read the layer '%s': %s", path, archive_error_string(a));
			goto out;
		}
		if (n == 0)
			break;
		hasher_update(h, buf, (size_t)n);
	}
	hasher_final_hex(h, hex);
	snprintf(out, OCI_DIGEST_MAX, "sha256:%.64s", hex);
	rc = 0;
out:
	hasher_free(h);
	archive_read_free(a);
	return rc;
}

static int write_layer(struct writer *w, struct oci_plat *pl, const struct plan *p, const struct result *res)
{
	struct pkg_entries e = { 0 };
	struct strv paths = { 0 };
	struct pkg_result pr;
	for (size_t i = 0; i < w->im->extra.n; i++)
		pkg_entries_add(&e, w->im->extra.v[i].path, w->im->extra.v[i].src, w->im->extra.v[i].mode);
	for (size_t i = 0; i < pl->njobs; i++) {
		strv_pushf(&paths, BIN_DIR "%s", p->jobs[pl->jobs[i]].build->binary);
		pkg_entries_add(&e, paths.v[paths.n - 1], res[pl->jobs[i]].path, 0755);
	}
	char *tmp = xasprintf("%s/layer.tmp", w->blobs), *dest = NULL;
	struct pkg_request req = { .dest = tmp, .format = PKG_TAR_GZ, .mtime = w->epoch, .entries = e.v,
				   .nentries = e.n };
	int rc = pkg_write(&req, &pr);
	if (rc == 0 && (rc = diff_id(tmp, pl->diff_id)) == 0) {
		dest = xasprintf("%s/%s", w->blobs, pr.sha256);
		if ((rc = rename(tmp, dest)) < 0)
			error("cannot rename '%s' to '%s':", tmp, dest);
	}
	if (rc == 0) {
		snprintf(pl->layer.digest, sizeof(pl->layer.digest), "sha256:%.64s", pr.sha256);
		pl->layer.size = pr.size;
		char *rel = xasprintf("blobs/sha256/%s", pr.sha256);
		published(w, rel, pr.sha256);
		free(rel);
	}
	free(tmp);
	free(dest);
	strv_release(&paths);
	pkg_entries_release(&e);
	return rc;
}

/* Copy the base's layer blob (its digest checked on the way) once. */
static int copy_base_layer(struct writer *w, const char *digest)
{
	const char *hex = digest + 7;
	char got[HASH_HEX_MAX];
	char *rel = xasprintf("blobs/sha256/%s", hex), *full = xasprintf("%s/%s", w->im->dir, rel);
	int rc = 0;
	if (!strv_contains(&w->im->files, full)) {
		char *src = xasprintf("%s/blobs/sha256/%s", w->im->base_dir, hex);
		char *tmp = xasprintf("%s/base.tmp", w->blobs), *dest = xasprintf("%s/%s", w->blobs, hex);
		unlink(tmp);
		rc = hash_copy_file(HASH_SHA256, src, tmp, 0644, got, NULL);
		if (rc == 0 && strcmp(got, hex))
			rc = error("the base layer '%s' has the digest sha256:%s, not %s: the layout is damaged", src,
				   got, digest);
		if (rc == 0 && rename(tmp, dest) < 0)
			rc = error("cannot rename '%s' to '%s':", tmp, dest);
		if (rc < 0)
			unlink(tmp);
		else
			published(w, rel, hex);
		free(src);
		free(tmp);
		free(dest);
	}
	free(rel);
	free(full);
	return rc;
}

static int copy_base_layers(struct writer *w, const struct oci_plat *pl)
{
	size_t i;
	json_t *l;
	json_array_foreach(pl->base_layers, i, l) {
		const char *d = str_at(l, "digest");
		if (strncmp(d, "sha256:", 7) || !hash_is_sha256_hex(d + 7))
			return error("the base of image '%s' has a layer digest '%s' that is not sha256", w->im->dir, d);
		if (copy_base_layer(w, d) < 0)
			return -1;
	}
	return 0;
}

static json_t *strings(const struct strv *s)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->n; i++)
		jx_push(a, json_string(s->v[i]));
	return a;
}

/* The base's config object with our entrypoint and labels, or a new one. */
static json_t *config_object(const struct writer *w, const struct oci_plat *pl)
{
	json_t *base = pl->base_config ? json_object_get(pl->base_config, "config") : NULL;
	json_t *cfg = json_is_object(base) ? json_deep_copy(base) : json_object();
	json_t *labels = json_is_object(json_object_get(cfg, "Labels")) ? json_incref(json_object_get(cfg, "Labels"))
									 : json_object();
	if (!cfg || !labels) {
		json_decref(cfg);
		json_decref(labels);
		return NULL;
	}
	jx_set(cfg, "Entrypoint", strings(&w->im->entrypoint));
	json_object_del(cfg, "Cmd"); /* the base's arguments were for its own entrypoint */
	if (!json_is_array(json_object_get(cfg, "Env")))
		jx_set(cfg, "Env", json_pack("[s]", "PATH=/usr/local/bin:/usr/bin:/bin"));
	for (size_t i = 0; i < w->im->decl->labels.n; i++) {
		const char *kv = w->im->decl->labels.v[i], *eq = strchr(kv, '=');
		char *key = xstrndup(kv, (size_t)(eq - kv));
		jx_set(labels, key, json_string(eq + 1));
		free(key);
	}
	if (json_object_size(labels))
		jx_set(cfg, "Labels", labels);
	else
		json_decref(labels);
	return cfg;
}

/* A list of the base config's rootfs/history entries (copied) then v. */
static json_t *after_base(const struct oci_plat *pl, const char *outer, const char *inner, json_t *v)
{
	json_t *from = pl->base_config ? json_object_get(pl->base_config, outer) : NULL;
	json_t *list = inner ? json_object_get(from, inner) : from;
	json_t *out = json_is_array(list) ? json_deep_copy(list) : json_array();
	if (out)
		jx_push(out, v);
	else
		json_decref(v);
	return out;
}

static json_t *config_doc(const struct writer *w, const struct oci_plat *pl)
{
	json_t *cfg = config_object(w, pl);
	json_t *diffs = after_base(pl, "rootfs", "diff_ids", json_string(pl->diff_id));
	json_t *hist = after_base(pl, "history", NULL, json_pack("{s:s, s:s}", "created", w->created, "created_by",
								  "xgo-build"));
	if (!cfg || !diffs || !hist) {
		json_decref(cfg);
		json_decref(diffs);
		json_decref(hist);
		return NULL;
	}
	/* json_pack steals the "o" values, also when it fails */
	json_t *doc = json_pack("{s:s, s:s, s:s, s:o, s:{s:s, s:o}, s:o}", "architecture", pl->arch, "os", "linux",
				"created", w->created, "config", cfg, "rootfs", "type", "layers", "diff_ids", diffs,
				"history", hist);
	if (doc && pl->variant[0])
		jx_set(doc, "variant", json_string(pl->variant));
	return doc;
}

static json_t *desc_json(const char *media, const struct oci_desc *d)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", media, "digest", d->digest, "size", (json_int_t)d->size);
}

static json_t *platform_json(const struct oci_plat *pl)
{
	json_t *o = json_pack("{s:s, s:s}", "architecture", pl->arch, "os", "linux");
	if (o && pl->variant[0])
		jx_set(o, "variant", json_string(pl->variant));
	return o;
}

static int write_platform(struct writer *w, struct oci_plat *pl, const struct plan *p, const struct result *res)
{
	if (copy_base_layers(w, pl) < 0 || write_layer(w, pl, p, res) < 0)
		return -1;
	json_t *cfg = config_doc(w, pl);
	if (!cfg || write_json(w, cfg, NULL, &pl->config) < 0)
		return -1;
	json_t *layers = pl->base_layers ? json_deep_copy(pl->base_layers) : json_array();
	if (!layers)
		return error("cannot write the OCI image '%s': out of memory", w->im->dir);
	jx_push(layers, desc_json(MT_LAYER, &pl->layer));
	json_t *man = json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", MT_MANIFEST, "config",
				desc_json(MT_CONFIG, &pl->config), "layers", layers);
	return man ? write_json(w, man, NULL, &pl->manifest) : -1;
}

/* The nested index of all platforms (tag <version>), then index.json
 * with it and each platform's manifest (tag <version>-<arch><variant>). */
static int write_indexes(struct writer *w)
{
	struct oci_image *im = w->im;
	json_t *list = json_array();
	for (size_t k = 0; k < im->nplats; k++) {
		json_t *d = desc_json(MT_MANIFEST, &im->plats[k].manifest);
		jx_set(d, "platform", platform_json(&im->plats[k]));
		jx_push(list, d);
	}
	json_t *nested = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", MT_INDEX, "manifests", list);
	if (!nested || write_json(w, nested, NULL, &im->index) < 0)
		return -1;
	json_t *top = json_array(), *d = desc_json(MT_INDEX, &im->index);
	jx_set(d, "annotations", json_pack("{s:s}", REF_NAME, im->tag));
	jx_push(top, d);
	for (size_t k = 0; k < im->nplats; k++) {
		const struct oci_plat *pl = &im->plats[k];
		char *tag = xasprintf("%s-%s%s", im->tag, pl->arch, pl->variant);
		d = desc_json(MT_MANIFEST, &pl->manifest);
		jx_set(d, "platform", platform_json(pl));
		jx_set(d, "annotations", json_pack("{s:s}", REF_NAME, tag));
		jx_push(top, d);
		free(tag);
	}
	json_t *index = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", MT_INDEX, "manifests", top);
	return index ? write_json(w, index, "index.json", NULL) : -1;
}

/* im->files and im->shas sorted together by name (SHA256SUMS order). */
static void sort_files(struct oci_image *im)
{
	for (size_t i = 1; i < im->files.n; i++)
		for (size_t j = i; j > 0 && strcmp(im->files.v[j - 1], im->files.v[j]) > 0; j--) {
			char *f = im->files.v[j], *s = im->shas.v[j];
			im->files.v[j] = im->files.v[j - 1];
			im->shas.v[j] = im->shas.v[j - 1];
			im->files.v[j - 1] = f;
			im->shas.v[j - 1] = s;
		}
}

static int write_image(struct oci_image *im, const struct plan *p, const struct result *res, const char *stage,
		       int64_t epoch)
{
	struct writer w = { .im = im, .stage = stage, .epoch = epoch };
	time_t t = (time_t)epoch;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(w.created, sizeof(w.created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	w.blobs = xasprintf("%s/%s/blobs/sha256", stage, im->dir);
	int rc = mkdir_p(w.blobs, 0755);
	for (size_t k = 0; k < im->nplats && rc == 0; k++)
		rc = write_platform(&w, &im->plats[k], p, res);
	if (rc == 0)
		rc = write_indexes(&w);
	if (rc == 0)
		rc = write_json(&w, json_pack("{s:s}", "imageLayoutVersion", "1.0.0"), "oci-layout", NULL);
	sort_files(im);
	free(w.blobs);
	return rc;
}

int oci_write(struct ociplan *op, const struct plan *p, const struct result *res, const char *stage,
	      int64_t epoch)
{
	for (size_t i = 0; i < op->n; i++)
		if (write_image(&op->v[i], p, res, stage, epoch) < 0)
			return -1;
	return 0;
}

json_t *oci_manifest(const struct ociplan *op)
{
	json_t *list = json_array();
	int bad = !list; /* every insert checked, as arc_manifest does */
	for (size_t i = 0; i < op->n && !bad; i++) {
		const struct oci_image *im = &op->v[i];
		json_t *plats = json_array();
		bad |= !plats;
		for (size_t k = 0; k < im->nplats && !bad; k++) {
			const struct oci_plat *pl = &im->plats[k];
			bad |= json_array_append_new(plats, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "platform",
					pl->platform, "manifest", pl->manifest.digest, "config", pl->config.digest,
					"layer", pl->layer.digest, "diff_id", pl->diff_id, "layer_size",
					(json_int_t)pl->layer.size));
		}
		bad |= json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}", "name", im->decl->name,
				"layout", im->dir, "tag", im->tag, "index_digest", im->index.digest, "index_size",
				(json_int_t)im->index.size, "platforms", plats));
	}
	if (bad) {
		json_decref(list);
		return NULL;
	}
	return list;
}
