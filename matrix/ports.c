#define _POSIX_C_SOURCE 200809L
#include "ports.h"
#include "base/proc.h"
#include "base/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Go 1.26's `go tool dist list -json`, used when the pinned SDK is not at
 * hand; the SDK's own list wins when it is. */
static const struct port builtin[] = {
	{ "aix", "ppc64", 1, 0 },
	{ "android", "386", 1, 0 },
	{ "android", "amd64", 1, 0 },
	{ "android", "arm", 1, 0 },
	{ "android", "arm64", 1, 0 },
	{ "darwin", "amd64", 1, 1 },
	{ "darwin", "arm64", 1, 1 },
	{ "dragonfly", "amd64", 1, 0 },
	{ "freebsd", "386", 1, 0 },
	{ "freebsd", "amd64", 1, 0 },
	{ "freebsd", "arm", 1, 0 },
	{ "freebsd", "arm64", 1, 0 },
	{ "illumos", "amd64", 1, 0 },
	{ "ios", "amd64", 1, 0 },
	{ "ios", "arm64", 1, 0 },
	{ "js", "wasm", 0, 0 },
	{ "linux", "386", 1, 1 },
	{ "linux", "amd64", 1, 1 },
	{ "linux", "arm", 1, 1 },
	{ "linux", "arm64", 1, 1 },
	{ "linux", "loong64", 1, 0 },
	{ "linux", "mips", 1, 0 },
	{ "linux", "mips64", 1, 0 },
	{ "linux", "mips64le", 1, 0 },
	{ "linux", "mipsle", 1, 0 },
	{ "linux", "ppc64", 0, 0 },
	{ "linux", "ppc64le", 1, 0 },
	{ "linux", "riscv64", 1, 0 },
	{ "linux", "s390x", 1, 0 },
	{ "netbsd", "386", 1, 0 },
	{ "netbsd", "amd64", 1, 0 },
	{ "netbsd", "arm", 1, 0 },
	{ "netbsd", "arm64", 1, 0 },
	{ "openbsd", "386", 1, 0 },
	{ "openbsd", "amd64", 1, 0 },
	{ "openbsd", "arm", 1, 0 },
	{ "openbsd", "arm64", 1, 0 },
	{ "openbsd", "ppc64", 0, 0 },
	{ "openbsd", "riscv64", 1, 0 },
	{ "plan9", "386", 0, 0 },
	{ "plan9", "amd64", 0, 0 },
	{ "plan9", "arm", 0, 0 },
	{ "solaris", "amd64", 1, 0 },
	{ "wasip1", "wasm", 0, 0 },
	{ "windows", "386", 1, 1 },
	{ "windows", "amd64", 1, 1 },
	{ "windows", "arm64", 1, 0 },
};

static const struct variant_dim variants[] = {
	{ "goarm", "GOARM", { "arm" }, "7", { "5", "6", "7" } },
	{ "goamd64", "GOAMD64", { "amd64" }, "v1", { "v1", "v2", "v3", "v4" } },
	{ "go386", "GO386", { "386" }, "sse2", { "sse2", "softfloat" } },
	{ "goarm64", "GOARM64", { "arm64" }, "v8.0",
	  { "v8.0", "v8.1", "v8.2", "v8.3", "v8.4", "v8.5", "v8.6", "v8.7", "v8.8", "v8.9", "v9.0" } },
	{ "gomips", "GOMIPS", { "mips", "mipsle" }, "hardfloat", { "hardfloat", "softfloat" } },
	{ "gomips64", "GOMIPS64", { "mips64", "mips64le" }, "hardfloat", { "hardfloat", "softfloat" } },
	{ "goppc64", "GOPPC64", { "ppc64", "ppc64le" }, "power8", { "power8", "power9", "power10" } },
	{ "goriscv64", "GORISCV64", { "riscv64" }, "rva20u64", { "rva20u64", "rva22u64", "rva23u64" } },
};

void ports_builtin(struct port_table *t)
{
	t->n = ARRAY_LEN(builtin);
	t->ports = xreallocarray(NULL, t->n, sizeof(*t->ports));
	memcpy(t->ports, builtin, sizeof(builtin));
	t->source = "built-in (go1.26)";
}

static int copy_field(json_t *o, const char *key, char *out, size_t size)
{
	const char *s = json_string_value(json_object_get(o, key));
	if (!s || !*s || strlen(s) >= size)
		return -1;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

int ports_from_json(const char *json, size_t len, struct port_table *t)
{
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	memset(t, 0, sizeof(*t));
	if (!root || !json_is_array(root)) {
		json_decref(root);
		return error("go tool dist list -json: not a JSON array (line %d: %s)", jerr.line, jerr.text);
	}
	size_t n = json_array_size(root);
	t->ports = xcalloc(n, sizeof(*t->ports));
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(root, i);
		struct port *p = &t->ports[i];
		if (copy_field(o, "GOOS", p->goos, sizeof(p->goos)) < 0 ||
		    copy_field(o, "GOARCH", p->goarch, sizeof(p->goarch)) < 0) {
			json_decref(root);
			ports_release(t);
			return error("go tool dist list -json: entry %zu lacks GOOS/GOARCH", i);
		}
		p->cgo = json_is_true(json_object_get(o, "CgoSupported"));
		p->first_class = json_is_true(json_object_get(o, "FirstClass"));
	}
	t->n = n;
	t->source = "go tool dist list";
	json_decref(root);
	return 0;
}

/* A cached SDK (an xgo-build cache entry: sdk.json beside GOROOT) never
 * changes, so its port table is kept beside it after the first ask. */
static char *saved_table_path(const char *goroot)
{
	char *record = xasprintf("%s/../sdk.json", goroot);
	char *path = access(record, F_OK) == 0 ? xasprintf("%s/../dist-list.json", goroot) : NULL;
	free(record);
	return path;
}

static int ports_from_saved(const char *path, struct port_table *t)
{
	size_t len;
	int saved = error_quiet(1);
	char *text = path ? read_file(path, 1 << 20, &len) : NULL;
	error_quiet(saved);
	int rc = text ? ports_from_json(text, len, t) : -1;
	free(text);
	if (rc == 0)
		t->source = "go tool dist list";
	return rc;
}

int ports_from_sdk(const char *goroot, struct port_table *t)
{
	char *saved = saved_table_path(goroot);
	if (ports_from_saved(saved, t) == 0) {
		free(saved);
		return 0;
	}
	char *go = xasprintf("%s/bin/go", goroot);
	char *root = xasprintf("GOROOT=%s", goroot);
	char *argv[] = { go, "tool", "dist", "list", "-json", NULL };
	char *envp[] = { root, "GOENV=off", "GOTOOLCHAIN=local", "HOME=/nonexistent", "PATH=/usr/bin:/bin", NULL };
	struct buf out;
	int status, rc = -1;
	buf_init(&out, 1 << 20);
	if (proc_capture(argv, envp, NULL, &out, NULL, &status) < 0)
		goto out;
	if (status != 0 || !out.data) {
		error("'%s tool dist list -json' failed (exit %d)", go, status);
		goto out;
	}
	rc = ports_from_json(out.data, out.len, t);
	if (rc == 0)
		t->source = "go tool dist list";
	if (rc == 0 && saved && write_file_atomic(saved, out.data, out.len, 0644) < 0)
		warn("cannot keep the port table in '%s'", saved);
out:
	free(saved);
	buf_release(&out);
	free(go);
	free(root);
	return rc;
}

void ports_release(struct port_table *t)
{
	free(t->ports);
	t->ports = NULL;
	t->n = 0;
}

const struct port *ports_find(const struct port_table *t, const char *goos, const char *goarch)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->ports[i].goos, goos) && !strcmp(t->ports[i].goarch, goarch))
			return &t->ports[i];
	return NULL;
}

int ports_has_goos(const struct port_table *t, const char *goos)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->ports[i].goos, goos))
			return 1;
	return 0;
}

int ports_has_goarch(const struct port_table *t, const char *goarch)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->ports[i].goarch, goarch))
			return 1;
	return 0;
}

static const char *suggest_field(const struct port_table *t, const char *word, int arch)
{
	const char **names = xcalloc(t->n, sizeof(*names));
	for (size_t i = 0; i < t->n; i++)
		names[i] = arch ? t->ports[i].goarch : t->ports[i].goos;
	const char *s = suggest(word, names, t->n);
	free(names);
	return s;
}

const char *ports_suggest_goos(const struct port_table *t, const char *goos)
{
	return suggest_field(t, goos, 0);
}

const char *ports_suggest_goarch(const struct port_table *t, const char *goarch)
{
	return suggest_field(t, goarch, 1);
}

const struct variant_dim *variant_by_key(const char *key)
{
	for (size_t i = 0; i < ARRAY_LEN(variants); i++)
		if (!strcmp(variants[i].key, key))
			return &variants[i];
	return NULL;
}

const struct variant_dim *variant_by_env(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_LEN(variants); i++)
		if (strlen(variants[i].env) == len && !strncmp(variants[i].env, name, len))
			return &variants[i];
	return NULL;
}

const struct variant_dim *variant_for_arch(const char *goarch)
{
	for (size_t i = 0; i < ARRAY_LEN(variants); i++)
		for (size_t j = 0; variants[i].arches[j]; j++)
			if (!strcmp(variants[i].arches[j], goarch))
				return &variants[i];
	return NULL;
}

int variant_value_ok(const struct variant_dim *dim, const char *val)
{
	size_t base = strcspn(val, ",");
	const char *opt = val[base] ? val + base + 1 : NULL;
	for (size_t i = 0; dim->values[i]; i++) {
		if (strlen(dim->values[i]) != base || strncmp(dim->values[i], val, base))
			continue;
		if (!opt)
			return 1;
		/* GOARM=7,softfloat; GOARM64=v8.0,lse,crypto; GOAMD64 takes none. */
		if (!strcmp(dim->env, "GOARM"))
			return !strcmp(opt, "softfloat") || !strcmp(opt, "hardfloat");
		if (!strcmp(dim->env, "GOARM64"))
			return !strcmp(opt, "lse") || !strcmp(opt, "crypto") || !strcmp(opt, "lse,crypto");
		return 0;
	}
	return 0;
}

size_t variant_keys(const char **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_LEN(variants) && n < max; i++)
		out[n++] = variants[i].key;
	return n;
}
