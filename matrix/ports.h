/* ports.h - the GOOS/GOARCH port table and the per-architecture variant
 * dimensions (GOARM, GOAMD64, ...).
 *
 * The table comes from the pinned SDK's `go tool dist list -json` when the
 * SDK is at hand (ports_from_json), else from a built-in copy of Go 1.26's
 * list (ports_builtin).
 */
#ifndef XGO_PORTS_H
#define XGO_PORTS_H

#include <stddef.h>

struct port {
	char goos[16];
	char goarch[16];
	int cgo;         /* CgoSupported */
	int first_class; /* FirstClass */
};

struct port_table {
	struct port *ports; /* owned */
	size_t n;
	const char *source; /* "built-in (go1.26)" or "go tool dist list" */
};

void ports_builtin(struct port_table *t);
/* Parse `go tool dist list -json`; error() and -1 on malformed input. */
int ports_from_json(const char *json, size_t len, struct port_table *t);
/* Run <goroot>/bin/go tool dist list -json in a clean environment. */
int ports_from_sdk(const char *goroot, struct port_table *t);
void ports_release(struct port_table *t);

const struct port *ports_find(const struct port_table *t, const char *goos, const char *goarch);
int ports_has_goos(const struct port_table *t, const char *goos);
int ports_has_goarch(const struct port_table *t, const char *goarch);
/* "did you mean" for an unknown GOOS / GOARCH, or NULL. */
const char *ports_suggest_goos(const struct port_table *t, const char *goos);
const char *ports_suggest_goarch(const struct port_table *t, const char *goarch);

/* A variant dimension: the build-file key, the environment variable, the
 * architectures it applies to, the value Go uses when it is unset, and the
 * accepted values. */
struct variant_dim {
	const char *key;            /* "goarm" */
	const char *env;            /* "GOARM" */
	const char *arches[3];      /* NULL-terminated */
	const char *def;            /* "7" */
	const char *values[12];     /* NULL-terminated */
};

const struct variant_dim *variant_by_key(const char *key);
const struct variant_dim *variant_for_arch(const char *goarch);
/* The dimension whose variable (GOARM, GOAMD64, ...) is the len bytes at
 * name, or NULL: the one list of those names (jobenv refuses them in a
 * build's env, since xgo-build sets them). */
const struct variant_dim *variant_by_env(const char *name, size_t len);
/* 1 when val is accepted for dim (GOARM also takes ",softfloat" etc.). */
int variant_value_ok(const struct variant_dim *dim, const char *val);
/* All variant keys, for "did you mean". */
size_t variant_keys(const char **out, size_t max);

#endif
