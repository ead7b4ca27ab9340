/* sbom.h - the SBOMs of every published binary.
 *
 * Built from the binary's own embedded build information (buildinfo.h):
 * the Go version (the stdlib package), the main module, every dependency
 * module with its version and go.sum h1 hash (a "=>" replacement stands
 * for the module it replaces) and the build settings.  Package URLs are
 * pkg:golang/PATH@VERSION.  SPDX 2.3 JSON (<output>.spdx.json beside the
 * binary) and, when release.lua's sbom { formats } asks, CycloneDX 1.6
 * JSON (<output>.cdx.json).  Every field comes from the binary's bytes,
 * its name, the project version, the tool version and SOURCE_DATE_EPOCH
 * (the creation time; the SPDX namespace and CycloneDX serial number are
 * digests of the content), so a rebuild writes the same bytes.
 * Format and meaning: docs/attest.md, "SBOMs".
 */
#ifndef XGO_SBOM_H
#define XGO_SBOM_H

#include <jansson.h>

#include "build.h"

#define SBOM_MAX_BINARY (1u << 30) /* largest binary read for its build info */

struct sbom_file {
	char *name;         /* relative to dist/: "<output>.spdx.json" */
	const char *format; /* "spdx-2.3" or "cyclonedx-1.6" */
	size_t job;         /* plan index of the binary it describes */
	char sha256[65];
};

struct sbom_set {
	struct sbom_file *v;
	size_t n;
};

/* Write the SBOMs of every built job of p into stage (r->sbom says which
 * formats), adding each to out.  A binary without build information, a
 * name that is already published or a failed write is an error naming it. */
int sbom_write_all(const struct release *r, const struct plan *p, const struct result *res, const char *stage,
		   long long sde, struct sbom_set *out);
void sbom_set_release(struct sbom_set *s);

/* The manifest's "sboms" list. */
json_t *sbom_manifest(const struct sbom_set *s, const struct plan *p);

#endif
