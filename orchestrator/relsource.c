/* relsource.c - the provenance against the checkout (relsource.h). */
#define _GNU_SOURCE
#include "relsource.h"
#include "base/hash.h"
#include "base/path.h"
#include "provenance.h"
#include "cache/source.h"
#include "base/util.h"
#include "toolchains/lockfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *dep_named(json_t *deps, const char *name)
{
	size_t i;
	json_t *d;
	json_array_foreach(deps, i, d) {
		const char *n = json_string_value(json_object_get(d, "name"));
		if (n && !strcmp(n, name))
			return d;
	}
	return NULL;
}

/* The dependency's digest in algo, or "" (never NULL, for messages). */
static const char *dep_digest(json_t *dep, const char *algo)
{
	const char *v = json_string_value(json_object_get(json_object_get(dep, "digest"), algo));
	return v ? v : "";
}

/* The SDK release.lock pins against the archive and tree the provenance names. */
static int check_sdk(json_t *deps, const char *src)
{
	char *lockp = xasprintf("%s/release.lock", src), *tree = NULL;
	struct lock l;
	memset(&l, 0, sizeof(l));
	int rc = lock_read(lockp, &l);
	if (rc == 1)
		rc = error("'%s' is missing: the checkout pins no Go SDK to compare with the provenance's", lockp);
	if (rc < 0)
		goto out;
	const struct lock_platform *p = NULL;
	json_t *arc = NULL, *t;
	for (size_t i = 0; i < l.nplat && !arc; i++)
		if ((arc = dep_named(deps, l.plat[i].filename)))
			p = &l.plat[i];
	tree = xasprintf("go-sdk-tree:%s", l.go);
	t = dep_named(deps, tree);
	if (!p)
		rc = error("'%s': no Go %s archive it pins is in the provenance's resolvedDependencies (built with "
			   "another Go, or on a host platform the lock does not pin)", lockp, l.go);
	else if (strcmp(dep_digest(arc, "sha256"), p->sha256))
		rc = error("'%s': platforms.%s.sha256 is %s, the provenance's resolvedDependencies '%s' has %s", lockp,
			   p->name, p->sha256, p->filename, dep_digest(arc, "sha256"));
	else if (!t)
		rc = error("'%s': go is %s, but the provenance's resolvedDependencies have no '%s'", lockp, l.go, tree);
	else if (p->tree_digest[0] && strcmp(dep_digest(t, "sha256"), p->tree_digest))
		rc = error("'%s': platforms.%s.tree_digest is %s, the provenance's resolvedDependencies '%s' has %s",
			   lockp, p->name, p->tree_digest, tree, dep_digest(t, "sha256"));
	else
		note("ok: release.lock pins the Go SDK the provenance names (%s, go %s)", p->filename, l.go);
out:
	lock_clear(&l);
	free(tree);
	free(lockp);
	return rc < 0 ? -1 : 0;
}

/* go.sum's modules and the provenance's, both ways. */
static int check_modules(json_t *deps, const char *src)
{
	char *gosum = xasprintf("%s/go.sum", src);
	json_t *want = json_array(), *d;
	size_t i;
	int bad = prov_gosum_deps(src, want) < 0;
	json_array_foreach(want, i, d) {
		const char *name = json_string_value(json_object_get(d, "name"));
		json_t *got = bad ? NULL : dep_named(deps, name);
		if (bad)
			break;
		if (!got)
			bad = error("'%s': module %s is not in the provenance's resolvedDependencies", gosum, name);
		else if (strcmp(dep_digest(got, "dirHash1"), dep_digest(d, "dirHash1")))
			bad = error("'%s': module %s: its h1 hash is dirHash1 %s, the provenance's resolvedDependencies "
				    "have %s", gosum, name, dep_digest(d, "dirHash1"), dep_digest(got, "dirHash1"));
	}
	json_array_foreach(deps, i, d) {
		const char *name = json_string_value(json_object_get(d, "name"));
		if (!bad && name && dep_digest(d, "dirHash1")[0] && !dep_named(want, name))
			bad = error("'%s': the provenance's resolvedDependencies module %s is not in it", gosum, name);
	}
	if (!bad)
		note("ok: the %zu modules of go.sum are the provenance's, with their h1 hashes", json_array_size(want));
	json_decref(want);
	free(gosum);
	return bad ? -1 : 0;
}

/* externalParameters.buildFile against the checkout's file of that name. */
static int check_build_file(json_t *ext, const char *src)
{
	json_t *bf = json_object_get(ext, "buildFile");
	const char *name = json_string_value(json_object_get(bf, "name")), *want = dep_digest(bf, "sha256");
	char hex[HASH_HEX_MAX], *real = NULL;
	int rc = -1;
	if (!name || !hash_is_sha256_hex(want))
		error("the provenance's externalParameters.buildFile lacks a name or a sha256 digest");
	else if (path_check_name("the provenance's externalParameters.buildFile", name) == 0 &&
		 path_inside("the provenance's externalParameters.buildFile", src, name, &real) == 0 &&
		 hash_file_hex(HASH_SHA256, real, hex, NULL) == 0) {
		if (strcmp(hex, want))
			error("'%s/%s': its sha256 is %s, the provenance's externalParameters.buildFile.digest is %s", src,
			      name, hex, want);
		else
			rc = 0;
	}
	if (rc == 0)
		note("ok: %s is the build file the provenance names", name);
	free(real);
	return rc;
}

/* The checkout's source tree digest against "source". */
static int check_tree(json_t *deps, const char *src, const char *rel_dir)
{
	char *abs = path_absolute(src), *rel = path_absolute(rel_dir), *dist = NULL, hex[65];
	unsigned long files = 0;
	int rc = -1;
	if (abs && rel) {
		dist = xasprintf("%s/dist", abs);
		const char *skip[] = { rel, dist_is_ours(dist) ? dist : NULL, NULL };
		const char *want = dep_digest(dep_named(deps, "source"), "sha256");
		if (source_digest(abs, skip, hex, &files) < 0)
			; /* source_digest said why */
		else if (strcmp(hex, want))
			error("'%s': its source tree digest is %s, the provenance's resolvedDependencies 'source' is %s: "
			      "this is not the released source (a file added, removed or changed)", src, hex,
			      want[0] ? want : "missing");
		else
			rc = 0;
	}
	if (rc == 0)
		note("ok: the source tree (%lu files) has the provenance's digest", files);
	free(abs);
	free(rel);
	free(dist);
	return rc;
}

int relsource_check(json_t *statement, const char *src, const char *rel_dir)
{
	json_t *def = json_object_get(json_object_get(statement, "predicate"), "buildDefinition");
	json_t *deps = json_object_get(def, "resolvedDependencies");
	if (!json_is_array(deps))
		return error("the provenance has no predicate.buildDefinition.resolvedDependencies to check '%s' "
			     "against", src);
	int bad = check_sdk(deps, src) < 0;
	bad |= check_modules(deps, src) < 0;
	bad |= check_build_file(json_object_get(def, "externalParameters"), src) < 0;
	bad |= check_tree(deps, src, rel_dir) < 0;
	return bad ? -1 : 0;
}
