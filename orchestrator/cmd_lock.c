/* xgo-build lock: pin the Go SDK's archive hashes in release.lock. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "base/util.h"
#include "lua/release.h"
#include "toolchains/cc.h"
#include "toolchains/lockfile.h"
#include "toolchains/mirror.h"
#include "toolchains/sdk.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char lock_help[] =
	"usage: xgo-build lock [options] [release.lua]\n"
	"\n"
	"Write release.lock beside the build file: for the Go version it pins (go\n"
	"\"1.26.8\"), the archive file name, size and sha256 for each host platform,\n"
	"read from the mirror's index.  The archive for this host is downloaded,\n"
	"verified and extracted into the cache to record its tree digest; the other\n"
	"platforms' tree digests stay null until a lock runs there.  With cc { zig =\n"
	"\"0.17.0\" } it also pins this host's zig: the binary's sha256 and its lib/\n"
	"tree digest (XGO_ZIG, zig on PATH, or python3's ziglang package).\n"
	"\n"
	"options:\n"
	"      --sdk-mirror URL  read the index and archives from URL (http, https,\n"
	"                        file); default $XGO_SDK_MIRROR, sdk_mirror in\n"
	"                        release.lua, https://go.dev/dl/\n"
	"      --platform P      pin platform P (goos-goarch; repeatable) instead of\n"
	"                        linux-amd64 linux-arm64 darwin-amd64 darwin-arm64\n"
	"                        windows-amd64 (this host is always pinned)\n"
	"      --offline         do not read the mirror: pin this host's SDK from a\n"
	"                        local install of the version ($GOROOT, go on PATH,\n"
	"                        /usr/local/go) by its tree digest only, and copy it\n"
	"                        into the cache.  Also what lock does when the mirror\n"
	"                        cannot be reached and such an SDK exists (a warning).\n"
	"                        A tree-only pin names no archive: a machine without\n"
	"                        that SDK cannot download it until a lock online\n"
	"                        pins the archive (docs/sdk.md)\n"
	CLI_COMMON_HELP
	"\n"
	"exit codes: 0 ok, 2 usage or build-file error, 4 mirror/download/SDK problem\n";

static const char *const default_platforms[] = {
	"linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64", "windows-amd64",
};

enum { O_MIRROR = 256, O_PLATFORM, O_OFFLINE };

/* The tree digest of the host's archive: resolve (install) it. */
static int host_digest(const struct release *r, const char *mirror, struct lock_platform *p)
{
	struct sdk s;
	struct sdk_request req = {
		.version = r->go_version, .platform = p->name, .pin = p, .mirror = mirror,
		.no_local = 1, /* the digest must come from the archive itself */
	};
	if (sdk_resolve(&req, &s) < 0)
		return -1;
	memcpy(p->tree_digest, s.tree_digest, sizeof(p->tree_digest));
	sdk_release(&s);
	return 0;
}

/* cc { zig = "..." }: pin this host's zig binary and lib/ tree; other
 * hosts' entries for the same version stay. */
static int lock_zig(const struct release *r, const struct lock *old, struct lock *out)
{
	struct lock_tool t = { .name = (char *)sdk_host_platform() };
	char *path = NULL;
	if (cc_zig_find(r->cc.zig, &path) < 0 || cc_zig_pin(path, &t) < 0) {
		free(path);
		return -1;
	}
	out->zig = xstrdup(r->cc.zig);
	for (size_t i = 0; old->zig && !strcmp(old->zig, r->cc.zig) && i < old->nzig; i++)
		lock_set_zig(out, &old->zigplat[i]);
	lock_set_zig(out, &t);
	if (verbosity >= 0)
		note("pinned zig %s at %s (sha256 %.12s..., lib/ tree %.12s...)", r->cc.zig, path, t.sha256,
		     t.tree_digest);
	free(path);
	return 0;
}

/* Without the mirror: this host's SDK from a local install, pinned by its
 * tree digest only (what was really checked; no archive hash is claimed),
 * unless the old lock already pins that very tree with its archive.  The
 * old lock's other platforms, pinned from the mirror, stay. */
static int lock_from_local(const struct release *r, const struct lock *old, char *root, const char *digest,
			   struct lock *out)
{
	const char *host = sdk_host_platform();
	struct sdk s;
	out->go = xstrdup(r->go_version);
	int same_go = old->go && !strcmp(old->go, r->go_version);
	for (size_t i = 0; same_go && i < old->nplat; i++)
		if (strcmp(old->plat[i].name, host) || !strcmp(old->plat[i].tree_digest, digest))
			lock_set(out, &old->plat[i]);
	struct lock_platform *hp = lock_find(out, host);
	if (!hp) {
		struct lock_platform p = { .name = (char *)host, .filename = "" };
		memcpy(p.tree_digest, digest, sizeof(p.tree_digest));
		lock_set(out, &p);
		hp = lock_find(out, host);
		if (verbosity >= 0)
			note("pinned go %s for %s from '%s' by its tree digest %.12s... only (no archive: lock "
			     "again with the mirror to pin one)", r->go_version, host, root, digest);
	}
	free(root);
	struct sdk_request req = { .version = r->go_version, .pin = hp, .offline = 1 };
	if (sdk_resolve(&req, &s) < 0) { /* copies the local SDK into the cache */
		lock_clear(out);
		return -1;
	}
	sdk_release(&s);
	return r->cc.zig ? lock_zig(r, old, out) : 0;
}

static int make_lock_local(const struct release *r, const struct lock *old, struct lock *out)
{
	char *root = NULL, digest[65];
	memset(out, 0, sizeof(*out));
	if (sdk_find_local(r->go_version, &root, digest) != 0)
		return error("no local go %s to lock offline ($GOROOT, go on PATH, /usr/local/go): install it, or "
			     "run 'xgo-build lock' with the mirror reachable", r->go_version);
	return lock_from_local(r, old, root, digest, out);
}

static int make_lock(const struct release *r, const char *mirror, const struct strv *plats,
		     const struct lock *old, struct lock *out)
{
	struct mirror_index idx;
	const char *host = sdk_host_platform();
	int rc = -1;
	memset(out, 0, sizeof(*out));
	int saved = error_quiet(1);
	int got = mirror_fetch_index(mirror, &idx);
	error_quiet(saved);
	if (got < 0) {
		char why[1024], *root = NULL, digest[65];
		snprintf(why, sizeof(why), "%s", error_last());
		if (sdk_find_local(r->go_version, &root, digest) != 0)
			return error("%s", why);
		warn("%s; locking offline from the local go %s at '%s' instead", why, r->go_version, root);
		return lock_from_local(r, old, root, digest, out);
	}
	out->go = xstrdup(r->go_version);
	for (size_t i = 0; i < plats->n; i++) {
		const char *name = plats->v[i];
		const struct mirror_file *f = mirror_find(&idx, r->go_version, name);
		if (!f) {
			if (!strcmp(name, host)) {
				error("mirror '%s' has no go %s archive for this host (%s); check the version in '%s'",
				      mirror, r->go_version, host, r->path);
				goto out;
			}
			warn("mirror '%s' has no go %s archive for %s; not pinned", mirror, r->go_version, name);
			continue;
		}
		struct lock_platform p = { .name = (char *)name, .filename = f->filename, .size = f->size };
		memcpy(p.sha256, f->sha256, sizeof(p.sha256));
		/* Keep a digest already known for exactly this archive. */
		const struct lock_platform *was = old->go && !strcmp(old->go, r->go_version) ? lock_find(old, name) : NULL;
		if (was && !strcmp(was->sha256, p.sha256) && !strcmp(was->filename, p.filename))
			memcpy(p.tree_digest, was->tree_digest, sizeof(p.tree_digest));
		lock_set(out, &p);
	}
	struct lock_platform *hp = lock_find(out, host);
	if (hp && host_digest(r, mirror, hp) < 0)
		goto out;
	if (r->cc.zig && lock_zig(r, old, out) < 0)
		goto out;
	rc = 0;
out:
	mirror_index_clear(&idx);
	if (rc < 0)
		lock_clear(out);
	return rc;
}

int cmd_lock(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sdk-mirror", required_argument, 0, O_MIRROR },
		{ "platform", required_argument, 0, O_PLATFORM },
		{ "offline", no_argument, 0, O_OFFLINE },
		CLI_COMMON_LONG,
		{ 0, 0, 0, 0 },
	};
	struct cli_common c = { 0 };
	struct strv plats = { 0 };
	const char *mirror_flag = NULL;
	int opt, rc = EXIT_USAGE, offline = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT, longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(lock_help, stdout);
			strv_release(&plats);
			return EXIT_OK;
		}
		if (opt == O_MIRROR) {
			mirror_flag = optarg;
			continue;
		}
		if (opt == O_OFFLINE) {
			offline = 1;
			continue;
		}
		if (opt == O_PLATFORM) {
			if (!lock_is_platform(optarg)) {
				strv_release(&plats);
				return cli_usage_error("lock", "--platform wants goos-goarch, not '%s'", optarg);
			}
			if (!strv_contains(&plats, optarg))
				strv_push(&plats, optarg);
			continue;
		}
		int r = cli_common_opt(&c, opt, optarg);
		if (r <= 0) {
			strv_release(&plats);
			return r < 0 ? EXIT_USAGE
				     : cli_bad_option("lock", argv);
		}
	}
	if (cli_positional_file(&c, argc, argv, optind) < 0) {
		strv_release(&plats);
		return EXIT_USAGE;
	}
	if (!plats.n)
		for (size_t i = 0; i < ARRAY_LEN(default_platforms); i++)
			strv_push(&plats, default_platforms[i]);
	if (!strv_contains(&plats, sdk_host_platform()))
		strv_push(&plats, sdk_host_platform());

	struct release r;
	struct lock old = { 0 }, l = { 0 };
	char *mirror = NULL, *path = NULL;
	if (release_load(c.file, NULL, &r) < 0) {
		strv_release(&plats);
		return EXIT_USAGE;
	}
	path = sdk_lock_path(c.file);
	if (!r.go_version) {
		error("'%s' does not pin a Go version; add a line such as go \"1.26.8\"", r.path);
		goto out;
	}
	if (!(mirror = mirror_choose(mirror_flag, r.sdk_mirror)))
		goto out; /* a bad URL given by the user: usage */
	rc = EXIT_TOOLCHAIN;
	int st = lock_read(path, &old);
	if (st < 0)
		warn("replacing the unreadable '%s'", path);
	if ((offline ? make_lock_local(&r, &old, &l) : make_lock(&r, mirror, &plats, &old, &l)) < 0)
		goto out;
	if (lock_write(path, &l) < 0)
		goto out;
	if (verbosity >= 0) {
		size_t known = 0;
		for (size_t i = 0; i < l.nplat; i++)
			known += l.plat[i].tree_digest[0] != '\0';
		note("wrote '%s': go %s for %zu platform%s (%zu with a tree digest)", path, l.go, l.nplat,
		     l.nplat == 1 ? "" : "s", known);
	}
	rc = EXIT_OK;
out:
	lock_clear(&old);
	lock_clear(&l);
	release_clear(&r);
	strv_release(&plats);
	free(mirror);
	free(path);
	return rc;
}
