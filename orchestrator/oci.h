/* oci.h - OCI images: each image { ... } declaration gives a multi-platform
 * OCI image layout in dist/<name>-oci/, built without a daemon, as ko does.
 *
 *   <name>-oci/oci-layout      {"imageLayoutVersion":"1.0.0"}
 *   <name>-oci/index.json      the image index of the platforms, tagged
 *                              <version> (org.opencontainers.image.ref.name),
 *                              and each platform's manifest, tagged
 *                              <version>-<arch>[<variant>] (umoci unpacks one
 *                              manifest, not an index)
 *   <name>-oci/blobs/sha256/   per platform: a gzip layer, a config and a
 *                              manifest; and the nested image index
 *
 * A directory rather than a tar of it: skopeo and umoci read it as it is
 * (oci:dist/NAME-oci:TAG), every blob is named by its own digest, and
 * SHA256SUMS lists each file.
 *
 * The layer holds the platform's binaries of the selected builds at
 * usr/local/bin/<binary> and the declaration's files, written by pkg_write
 * (package.h): sorted, parent directories, mtime SOURCE_DATE_EPOCH, 0/0,
 * gzip without time or name.  The config's `created` is SOURCE_DATE_EPOCH;
 * every JSON document is compact with sorted keys.  So the same binaries
 * and files give the same bytes and digests on every run.  The base is
 * "scratch" (the layer is the whole root file system) or "DIR@sha256:HEX",
 * a local OCI layout in the project pinned by the digest of an index or a
 * manifest in it: per platform its layers go below ours (copied, each
 * digest checked), and its config is kept with our Entrypoint (its Cmd
 * dropped), its labels under ours, its diff_ids and history before ours.
 * The layout is written on every run from that run's binaries, never
 * cached.
 */
#ifndef XGO_OCI_H
#define XGO_OCI_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "archives.h"
#include "build.h"
#include "package.h"
#include "plan.h"
#include "universal.h"

#define OCI_DIGEST_MAX 72 /* "sha256:" + 64 hex + NUL */

struct oci_desc {
	char digest[OCI_DIGEST_MAX];
	uint64_t size;
};

/* One platform of one image. */
struct oci_plat {
	char platform[48];       /* "linux/arm/v7" */
	char arch[16], variant[8];
	size_t *jobs;            /* plan indexes whose binaries go in */
	size_t njobs;
	struct oci_desc layer, config, manifest;
	char diff_id[OCI_DIGEST_MAX]; /* sha256 of the uncompressed layer */
	json_t *base_config;     /* the base image's config for this platform, or NULL */
	json_t *base_layers;     /* its manifest's layer descriptors, or NULL */
};

struct oci_image {
	const struct image_decl *decl;
	char *dir;               /* "<name>-oci", under dist/ */
	char *tag;               /* the project version */
	struct oci_plat *plats;  /* in the declaration's order, else the plan's */
	size_t nplats;
	struct pkg_entries extra;
	struct strv entrypoint;
	char *base_dir;          /* the base's layout, resolved; NULL for scratch */
	struct oci_desc index;   /* the nested image index of all platforms */
	struct strv files;       /* every file written, relative to dist/, sorted */
	struct strv shas;        /* their sha256 hex, in the same order */
};

struct ociplan {
	struct oci_image *v;
	size_t n;
};

/* Plan every image of r for plan p, before anything is built.  A platform
 * no selected build targets, a platform two jobs of one build give, an
 * image without platforms or without an entrypoint when it holds several
 * binaries, an extra file at a binary's path, a base that is not there, does
 * not match its digest or lacks a platform, and a directory name that
 * another output uses (a job's output, an archive of ap, a universal
 * output of up, the checksum file) are errors naming the build file's line
 * and the key (exit 2).  0 or -1. */
int oci_plan(const struct release *r, const struct plan *p, const struct arcplan *ap, const struct uniplan *up,
	     const char *project_dir, struct ociplan *out);
void oci_plan_release(struct ociplan *op);

/* Both plans of what is made from the built binaries: uni_plan, then
 * oci_plan (run and plan alike).  0, or -1 with both empty (exit 2). */
int oci_plan_derived(const struct release *r, const struct plan *p, const struct arcplan *ap,
		     const char *project_dir, struct uniplan *up, struct ociplan *op);

/* Write every image layout into stage from the jobs' results, with every
 * time epoch.  0, or -1 after an error naming the file (exit 1). */
int oci_write(struct ociplan *op, const struct plan *p, const struct result *res, const char *stage,
	      int64_t epoch);

/* The manifest's "images" list: per image its directory, tag, index digest
 * and per platform the manifest, config and layer digests; NULL when a
 * record did not convert. */
json_t *oci_manifest(const struct ociplan *op);

#endif
