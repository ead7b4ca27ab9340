/* linuxpkg.c - deb packages of the linux targets; the contract is in
 * linuxpkg.h. */
#define _GNU_SOURCE
#include "linuxpkg.h"
#include "base/path.h"
#include "base/proc.h"
#include "base/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LPKG_MAX_BYTES ((size_t)2 << 30) /* a package is assembled in memory */
#define LPKG_SCRIPT_MAX (256 * 1024)
#define CHUNK (256 * 1024)

/* ---- architecture names ---- */

static const struct arch_name {
	const char *goarch, *variant, *deb, *rpm;
} arch_names[] = {
	{ "amd64", "", "amd64", "x86_64" },
	{ "arm64", "", "arm64", "aarch64" },
	{ "arm", "7", "armhf", "armv7hl" },
	{ "arm", "6", "armel", "armv6hl" },
	{ "arm", "5", "armel", "armv5tel" },
	{ "386", "", "i386", "i686" },
	{ "riscv64", "", "riscv64", "riscv64" },
	{ "ppc64le", "", "ppc64el", "ppc64le" },
	{ "s390x", "", "s390x", "s390x" },
	{ "loong64", "", "loong64", "loongarch64" },
	{ "mips64le", "", "mips64el", "mips64el" },
};

const char *lpkg_arch(const char *format, const struct target *t)
{
	if (strcmp(t->goos, "linux"))
		return NULL;
	for (size_t i = 0; i < ARRAY_LEN(arch_names); i++) {
		const struct arch_name *a = &arch_names[i];
		if (!strcmp(a->goarch, t->goarch) && (!*a->variant || !strcmp(a->variant, t->vval)))
			return !strcmp(format, "deb") ? a->deb : a->rpm;
	}
	return NULL;
}

/* ---- planning ---- */

static int selects(const struct package_decl *d, const struct job *j)
{
	if (strcmp(j->target.goos, "linux") || (d->builds.n && !strv_contains(&d->builds, j->build->name)))
		return 0;
	return !d->targets.n || strv_contains(&d->targets, j->id);
}

static void add_file(struct lpkg *k, const char *dst, enum lpkg_kind kind, char *src, size_t job, int mode)
{
	k->files = xreallocarray(k->files, k->nfiles + 1, sizeof(*k->files));
	k->files[k->nfiles++] = (struct lpkg_file){ xstrdup(dst), kind, src, job, mode };
}

/* The job of k whose build is named build (NULL: k's only build). */
static int binary_job(const struct release *r, const struct plan *p, const struct lpkg *k, const char *build,
		      size_t *job)
{
	const struct package_decl *d = k->decl;
	for (size_t i = 0; i < k->njobs; i++)
		if (build ? !strcmp(p->jobs[k->jobs[i]].build->name, build) : k->njobs == 1) {
			*job = k->jobs[i];
			return 0;
		}
	if (!build)
		return error("%s:%d: package: contents: a binary entry needs src = \"<build name>\": the package "
			     "holds %zu builds", r->path, d->line, k->njobs);
	return error("%s:%d: package: contents: binary '%s' is not a build of this package (see its builds)",
		     r->path, d->line, build);
}

/* A file or config entry's source: inside the project, a regular file. */
static char *content_src(const struct release *r, const struct package_decl *d, const char *project_dir,
			 const char *src)
{
	char *what = xasprintf("%s:%d: package: contents: src", r->path, d->line);
	char *real = NULL;
	struct stat st;
	int rc = path_inside(what, project_dir, src, &real);
	if (rc == 0 && (stat(real, &st) < 0 || !S_ISREG(st.st_mode)))
		rc = error("%s '%s' is not a regular file of the project", what, src);
	free(what);
	if (rc < 0)
		FREE_AND_NULL(real);
	return real;
}

static int has_dst(const struct lpkg *k, const char *dst)
{
	for (size_t i = 0; i < k->nfiles; i++)
		if (!strcmp(k->files[i].dst, dst))
			return 1;
	return 0;
}

/* What Debian requires of every package and the contents left out. */
static void add_generated(struct lpkg *k)
{
	const char *name = k->decl->name;
	char *changelog = xasprintf("/usr/share/doc/%s/changelog.Debian.gz", name);
	char *native = xasprintf("/usr/share/doc/%s/changelog.gz", name);
	char *overrides = xasprintf("/usr/share/lintian/overrides/%s", name);
	if (!has_dst(k, changelog) && !has_dst(k, native))
		add_file(k, changelog, LPKG_CHANGELOG, NULL, 0, 0644);
	if (!has_dst(k, overrides))
		add_file(k, overrides, LPKG_OVERRIDES, NULL, 0, 0644);
	free(changelog);
	free(native);
	free(overrides);
}

static int plan_contents(const struct release *r, const struct plan *p, const char *project_dir, struct lpkg *k)
{
	const struct package_decl *d = k->decl;
	static const enum lpkg_kind kinds[] = { LPKG_FILE, LPKG_CONFIG, LPKG_SYMLINK, LPKG_BINARY };
	static const char *const kind_names[] = { "file", "config", "symlink", "binary" };
	int *placed = xcalloc(k->njobs, sizeof(*placed));
	int rc = 0;
	for (size_t i = 0; i < d->ncontents && rc == 0; i++) {
		const struct package_content *c = &d->contents[i];
		size_t t = 0, job = 0;
		while (t < 3 && strcmp(c->type, kind_names[t]))
			t++;
		char *src = NULL;
		if (kinds[t] == LPKG_BINARY) {
			rc = binary_job(r, p, k, c->src, &job);
			for (size_t n = 0; rc == 0 && n < k->njobs; n++)
				placed[n] |= k->jobs[n] == job;
		} else if (kinds[t] == LPKG_SYMLINK) {
			src = xstrdup(c->src);
		} else if (!(src = content_src(r, d, project_dir, c->src))) {
			rc = -1;
		}
		if (rc == 0)
			add_file(k, c->dst, kinds[t], src, job, c->mode);
	}
	for (size_t n = 0; n < k->njobs && rc == 0; n++)
		if (!placed[n]) {
			char *dst = xasprintf("/usr/bin/%s", p->jobs[k->jobs[n]].binary);
			add_file(k, dst, LPKG_BINARY, NULL, k->jobs[n], 0755);
			free(dst);
		}
	free(placed);
	if (rc == 0 && !strcmp(d->format, "deb"))
		add_generated(k);
	return rc;
}

static int plan_scripts(const struct release *r, const char *project_dir, struct lpkg *k)
{
	static const char *const keys[] = { "preinstall", "postinstall", "preremove", "postremove" };
	for (size_t i = 0; i < PKG_SCRIPTS; i++) {
		const char *s = k->decl->scripts[i];
		if (!s)
			continue;
		char *what = xasprintf("%s:%d: package: scripts: %s", r->path, k->decl->line, keys[i]);
		char *real = NULL;
		size_t len;
		int rc = path_inside(what, project_dir, s, &real);
		if (rc == 0 && !(k->scripts[i] = read_file(real, LPKG_SCRIPT_MAX, &len))) {
			char why[512];
			snprintf(why, sizeof(why), "%s", error_last());
			rc = error("%s: %s", what, why);
		}
		if (rc == 0 && (len != strlen(k->scripts[i]) || strncmp(k->scripts[i], "#!", 2)))
			rc = error("%s: '%s' must be a text script starting with \"#!\" (such as #!/bin/sh)", what, s);
		free(what);
		free(real);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static char *package_file_name(const struct package_decl *d, const char *arch)
{
	if (!strcmp(d->format, "deb"))
		return xasprintf("%s_%s-%s_%s.deb", d->name, d->version, d->release, arch);
	return xasprintf("%s-%s-%s.%s.rpm", d->name, d->version, d->release, arch);
}

static struct lpkg *package_for(const struct plan *p, struct lpkgplan *out, size_t first, const struct job *j)
{
	for (size_t k = first; k < out->n; k++) {
		const struct target *t = &p->jobs[out->v[k].jobs[0]].target;
		if (!strcmp(t->goarch, j->target.goarch) && !strcmp(t->vval, j->target.vval) && t->cgo == j->target.cgo)
			return &out->v[k];
	}
	return NULL;
}

static int plan_decl(const struct release *r, const struct plan *p, const char *project_dir,
		     const struct package_decl *d, struct lpkgplan *out)
{
	size_t first = out->n;
	for (size_t i = 0; i < p->n; i++) {
		const struct job *j = &p->jobs[i];
		if (!selects(d, j))
			continue;
		struct lpkg *k = package_for(p, out, first, j);
		if (!k) {
			const char *arch = lpkg_arch(d->format, &j->target);
			if (!arch)
				return error("%s:%d: package: target %s has no %s architecture name (leave it out "
					     "with targets = { ... })", r->path, d->line, j->id, d->format);
			out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
			k = &out->v[out->n++];
			memset(k, 0, sizeof(*k));
			k->decl = d;
			k->arch = arch;
			k->name = package_file_name(d, arch);
		}
		k->jobs = xreallocarray(k->jobs, k->njobs + 1, sizeof(*k->jobs));
		k->jobs[k->njobs++] = i;
	}
	for (size_t i = 0; i < d->targets.n; i++) {
		size_t n = 0;
		while (n < p->n && !(selects(d, &p->jobs[n]) && !strcmp(p->jobs[n].id, d->targets.v[i])))
			n++;
		if (n == p->n)
			return error("%s:%d: package: targets: '%s' is not a linux target of its builds (see "
				     "'xgo-build plan')", r->path, d->line, d->targets.v[i]);
	}
	if (out->n == first)
		return error("%s:%d: package: its builds have no linux target", r->path, d->line);
	for (size_t k = first; k < out->n; k++)
		if (plan_contents(r, p, project_dir, &out->v[k]) < 0 || plan_scripts(r, project_dir, &out->v[k]) < 0)
			return -1;
	return 0;
}

/* rpm's %files lines are globbed and split at spaces; its sections are
 * found after macro expansion: refuse what would change their meaning. */
static int rpm_check(const struct release *r, const struct lpkg *k)
{
	const struct package_decl *d = k->decl;
	for (size_t i = 0; i < k->nfiles; i++)
		if (strpbrk(k->files[i].dst, " \t*?[]{}%\"\\"))
			return error("%s:%d: package: contents: dst '%s': an rpm path may not hold spaces, glob "
				     "characters, '%%', quotes or backslashes", r->path, d->line, k->files[i].dst);
	for (size_t i = 0; i < PKG_SCRIPTS; i++) {
		const char *s = k->scripts[i];
		for (const char *l = s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l))
			if (*l == '%')
				return error("%s:%d: package: scripts: '%s' has a line starting with '%%', which rpm reads "
					     "as a spec section", r->path, d->line, d->scripts[i]);
	}
	for (const char *l = d->description; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l))
		if (*l == '%')
			return error("%s:%d: package: description: a line starting with '%%' would be read by rpm as "
				     "a spec section", r->path, d->line);
	return 0;
}

int lpkg_plan(const struct release *r, const struct plan *p, const char *project_dir, struct lpkgplan *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < r->npackages; i++) {
		size_t first = out->n;
		if (plan_decl(r, p, project_dir, &r->packages[i], out) < 0)
			goto fail;
		for (size_t k = first; k < out->n && !strcmp(r->packages[i].format, "rpm"); k++)
			if (rpm_check(r, &out->v[k]) < 0)
				goto fail;
	}
	return 0;
fail:
	lpkg_plan_release(out);
	return -1;
}

void lpkg_plan_release(struct lpkgplan *lp)
{
	for (size_t k = 0; k < lp->n; k++) {
		struct lpkg *g = &lp->v[k];
		free(g->name);
		free(g->jobs);
		for (size_t i = 0; i < g->nfiles; i++) {
			free(g->files[i].dst);
			free(g->files[i].src);
		}
		free(g->files);
		for (size_t i = 0; i < PKG_SCRIPTS; i++)
			free(g->scripts[i]);
	}
	free(lp->v);
	memset(lp, 0, sizeof(*lp));
}

/* ---- writing: tar members in memory ---- */

/* libarchive output into a struct buf (user). */
static la_ssize_t ar_write_cb(struct archive *a, void *user, const void *p, size_t n)
{
	(void)a;
	return buf_append(user, p, n) < 0 ? -1 : (la_ssize_t)n;
}

/* A tar.gz member being written into buf. */
struct member {
	struct archive *a;
	struct buf out;
	int64_t mtime;
	const char *pkg; /* for errors */
};

static la_ssize_t member_write_cb(struct archive *a, void *user, const void *p, size_t n)
{
	struct member *m = user;
	if (buf_append(&m->out, p, n) < 0) {
		archive_set_error(a, EFBIG, "package larger than %zu bytes", LPKG_MAX_BYTES);
		return -1;
	}
	return (la_ssize_t)n;
}

static int member_open(struct member *m, const char *pkg, int64_t mtime)
{
	memset(m, 0, sizeof(*m));
	buf_init(&m->out, LPKG_MAX_BYTES);
	m->a = archive_write_new();
	m->mtime = mtime;
	m->pkg = pkg;
	archive_write_set_bytes_in_last_block(m->a, 1);
	if (archive_write_set_format_pax_restricted(m->a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(m->a) != ARCHIVE_OK ||
	    archive_write_set_options(m->a, "gzip:!timestamp,gzip:compression-level=9") != ARCHIVE_OK ||
	    archive_write_open(m->a, m, NULL, member_write_cb, NULL) != ARCHIVE_OK)
		return error("cannot start a tar member of '%s': %s", pkg, archive_error_string(m->a));
	return 0;
}

/* A header for path: owner 0/0 root/root, mtime the epoch, no other time. */
static struct archive_entry *member_entry(const struct member *m, const char *path, int type, int mode, int64_t size)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, (unsigned)type);
	archive_entry_set_perm(e, (mode_t)mode);
	archive_entry_set_mtime(e, (time_t)m->mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	archive_entry_set_size(e, size);
	return e;
}

static int member_header(struct member *m, struct archive_entry *e)
{
	int rc = archive_write_header(m->a, e) == ARCHIVE_OK ? 0 : -1;
	if (rc < 0)
		error("cannot write '%s' into '%s': %s", archive_entry_pathname(e), m->pkg, archive_error_string(m->a));
	archive_entry_free(e);
	return rc;
}

static int member_bytes(struct member *m, const char *path, int mode, const void *p, size_t n)
{
	if (member_header(m, member_entry(m, path, AE_IFREG, mode, (int64_t)n)) < 0)
		return -1;
	if (n && archive_write_data(m->a, p, n) != (la_ssize_t)n)
		return error("cannot write '%s' into '%s': %s", path, m->pkg, archive_error_string(m->a));
	return 0;
}

static void md5_hex(const unsigned char *d, unsigned n, char md5[33])
{
	for (unsigned i = 0; i < n && i < 16; i++)
		snprintf(md5 + 2 * i, 3, "%02x", d[i]);
}

static void hash_md5(const void *p, size_t n, char md5[33])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	md5[0] = '\0';
	if (EVP_Digest(p, n, d, &dl, EVP_md5(), NULL) == 1)
		md5_hex(d, dl, md5);
}

/* Stream file src into the member as path; md5 (hex) of its bytes. */
static int member_file(struct member *m, const char *path, const char *src, int mode, char md5[33], uint64_t *size)
{
	int fd = open(src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int rc = error("cannot read '%s' for '%s': %s", src, m->pkg, fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if (!mode)
		mode = st.st_mode & 0111 ? 0755 : 0644;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char *chunk = xmalloc(CHUNK);
	int64_t left = st.st_size;
	int rc = member_header(m, member_entry(m, path, AE_IFREG, mode, st.st_size));
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1)
		rc = error("cannot start an md5 digest");
	while (rc == 0 && left > 0) {
		ssize_t n = read(fd, chunk, left < CHUNK ? (size_t)left : CHUNK);
		if (n <= 0)
			rc = error("cannot read '%s': %s", src, n < 0 ? strerror(errno) : "it shrank while read");
		else if (archive_write_data(m->a, chunk, (size_t)n) != n)
			rc = error("cannot write '%s' into '%s': %s", path, m->pkg, archive_error_string(m->a));
		else
			EVP_DigestUpdate(ctx, chunk, (size_t)n), left -= n;
	}
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	if (rc == 0 && EVP_DigestFinal_ex(ctx, d, &dl) == 1)
		md5_hex(d, dl, md5);
	*size = (uint64_t)st.st_size;
	EVP_MD_CTX_free(ctx);
	free(chunk);
	close(fd);
	return rc;
}

static int member_close(struct member *m)
{
	int rc = archive_write_close(m->a) == ARCHIVE_OK ? 0 : -1;
	if (rc < 0)
		error("cannot finish a tar member of '%s': %s", m->pkg, archive_error_string(m->a));
	archive_write_free(m->a);
	m->a = NULL;
	return rc;
}

/* ---- generated files ---- */

/* RFC 2822 date in English whatever the locale: "Tue, 14 Nov 2023 22:13:20 +0000". */
static void rfc2822(int64_t t, char out[40])
{
	static const char days[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
		 months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* gzip -9n of text: one stream, no name, no time. */
static int gzip_bytes(const char *pkg, const struct buf *text, struct buf *out)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	int rc = 0;
	archive_entry_set_pathname(e, "changelog");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, (la_int64_t)text->len);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_set_format_raw(a) != ARCHIVE_OK || archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    archive_write_set_options(a, "gzip:!timestamp,gzip:compression-level=9") != ARCHIVE_OK ||
	    archive_write_open(a, out, NULL, ar_write_cb, NULL) != ARCHIVE_OK || archive_write_header(a, e) != ARCHIVE_OK ||
	    archive_write_data(a, text->data, text->len) != (la_ssize_t)text->len || archive_write_close(a) != ARCHIVE_OK)
		rc = error("cannot compress the changelog of '%s': %s", pkg, archive_error_string(a));
	archive_entry_free(e);
	archive_write_free(a);
	return rc;
}

/* The text of a generated file into out. */
static int generated(const struct lpkg *k, const struct lpkg_file *f, const struct plan *p, int64_t mtime,
		     struct buf *out)
{
	const struct package_decl *d = k->decl;
	if (f->kind == LPKG_OVERRIDES) {
		for (size_t i = 0; i < k->nfiles; i++)
			if (k->files[i].kind == LPKG_BINARY && p->jobs[k->files[i].job].static_link)
				buf_printf(out, "# a Go binary: static by design\n%s: statically-linked-binary [%s]\n",
					   d->name, k->files[i].dst + 1);
		return 0;
	}
	struct buf text;
	char date[40];
	rfc2822(mtime, date);
	buf_init(&text, 1 << 20);
	buf_printf(&text, "%s (%s-%s) unstable; urgency=medium\n\n  * Release %s, built by xgo-build.\n\n -- %s  %s\n",
		   d->name, d->version, d->release, d->version, d->maintainer, date);
	int rc = gzip_bytes(k->name, &text, out);
	buf_release(&text);
	return rc;
}

/* ---- deb ---- */

/* One data.tar entry: "./usr/bin/hello", sorted bytewise. */
struct dentry {
	char *path;
	const struct lpkg_file *f; /* NULL for a directory */
};

static int dentry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dentry *)a)->path, ((const struct dentry *)b)->path);
}

/* Every file plus each parent directory once ("./usr/", "./usr/bin/"). */
static struct dentry *data_entries(const struct lpkg *k, size_t *n)
{
	struct dentry *v = NULL;
	size_t cnt = 0;
	v = xreallocarray(v, cnt + 1, sizeof(*v));
	v[cnt++] = (struct dentry){ xstrdup("./"), NULL };
	for (size_t i = 0; i < k->nfiles; i++) {
		const char *dst = k->files[i].dst;
		for (const char *s = strchr(dst + 1, '/'); s; s = strchr(s + 1, '/')) {
			char *dir = xasprintf(".%.*s/", (int)(s - dst), dst);
			size_t j = 0;
			while (j < cnt && strcmp(v[j].path, dir))
				j++;
			if (j < cnt) {
				free(dir);
				continue;
			}
			v = xreallocarray(v, cnt + 1, sizeof(*v));
			v[cnt++] = (struct dentry){ dir, NULL };
		}
		v = xreallocarray(v, cnt + 1, sizeof(*v));
		v[cnt++] = (struct dentry){ xasprintf(".%s", dst), &k->files[i] };
	}
	qsort(v, cnt, sizeof(*v), dentry_cmp);
	*n = cnt;
	return v;
}

/* data.tar.gz; md5sums and conffiles as dpkg wants them, the installed
 * size in KiB (dpkg's rule: each file rounded up, plus one per entry). */
static int deb_data(const struct lpkg *k, const struct plan *p, const struct result *res, int64_t mtime, struct member *m,
		    struct buf *md5sums, struct buf *conffiles, uint64_t *kib)
{
	size_t n;
	struct dentry *v = data_entries(k, &n);
	int rc = member_open(m, k->name, mtime);
	*kib = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct lpkg_file *f = v[i].f;
		char md5[33] = "";
		uint64_t size = 0;
		(*kib)++;
		if (!f) {
			rc = member_header(m, member_entry(m, v[i].path, AE_IFDIR, 0755, 0));
		} else if (f->kind == LPKG_SYMLINK) {
			struct archive_entry *e = member_entry(m, v[i].path, AE_IFLNK, 0777, 0);
			archive_entry_set_symlink(e, f->src);
			rc = member_header(m, e);
		} else if (f->kind == LPKG_CHANGELOG || f->kind == LPKG_OVERRIDES) {
			struct buf g;
			buf_init(&g, 1 << 20);
			rc = generated(k, f, p, mtime, &g);
			if (rc == 0)
				rc = member_bytes(m, v[i].path, 0644, g.data, g.len);
			hash_md5(g.data, g.len, md5);
			*kib += (g.len + 1023) / 1024;
			buf_release(&g);
			if (rc == 0 && buf_printf(md5sums, "%s  %s\n", md5, v[i].path + 2) < 0)
				rc = error("'%s': md5sums too long", k->name);
		} else {
			const char *src = f->kind == LPKG_BINARY ? res[f->job].path : f->src;
			rc = member_file(m, v[i].path, src, f->mode, md5, &size);
			*kib += (size + 1023) / 1024;
			if (rc == 0 && buf_printf(md5sums, "%s  %s\n", md5, v[i].path + 2) < 0)
				rc = error("'%s': md5sums too long", k->name);
			if (rc == 0 && f->kind == LPKG_CONFIG && buf_printf(conffiles, "%s\n", f->dst) < 0)
				rc = error("'%s': conffiles too long", k->name);
		}
	}
	if (member_close(m) < 0)
		rc = -1;
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
	return rc;
}

/* The control file: Debian policy 5.3 fields, the description's first
 * line as the synopsis and the rest folded (" ." for an empty line). */
static void deb_control(const struct lpkg *k, uint64_t kib, struct buf *b)
{
	const struct package_decl *d = k->decl;
	buf_printf(b, "Package: %s\nVersion: %s-%s\nArchitecture: %s\nMaintainer: %s\nInstalled-Size: %llu\n",
		   d->name, d->version, d->release, k->arch, d->maintainer, (unsigned long long)kib);
	for (size_t i = 0; i < d->depends.n; i++)
		buf_printf(b, "%s%s", i ? ", " : "Depends: ", d->depends.v[i]);
	if (d->depends.n)
		buf_puts(b, "\n");
	buf_puts(b, "Section: utils\nPriority: optional\n");
	if (d->homepage)
		buf_printf(b, "Homepage: %s\n", d->homepage);
	const char *nl = strchr(d->description, '\n');
	buf_printf(b, "Description: %.*s\n", nl ? (int)(nl - d->description) : (int)strlen(d->description),
		   d->description);
	while (nl) {
		const char *line = nl + 1;
		nl = strchr(line, '\n');
		int len = nl ? (int)(nl - line) : (int)strlen(line);
		if (!nl && len == 0)
			break; /* a final newline */
		buf_printf(b, len ? " %.*s\n" : " .\n", len, line);
	}
}

static int deb_control_tar(const struct lpkg *k, int64_t mtime, uint64_t kib, const struct buf *md5sums,
			   const struct buf *conffiles, struct member *m)
{
	static const char *const names[PKG_SCRIPTS] = { "./preinst", "./postinst", "./prerm", "./postrm" };
	struct buf control;
	buf_init(&control, 1 << 20);
	deb_control(k, kib, &control);
	/* Sorted: ./ ./conffiles ./control ./md5sums ./postinst ./postrm ./preinst ./prerm */
	static const int order[PKG_SCRIPTS] = { PKG_SCRIPT_POSTINSTALL, PKG_SCRIPT_POSTREMOVE, PKG_SCRIPT_PREINSTALL,
						PKG_SCRIPT_PREREMOVE };
	int rc = member_open(m, k->name, mtime);
	if (rc == 0)
		rc = member_header(m, member_entry(m, "./", AE_IFDIR, 0755, 0));
	if (rc == 0 && conffiles->len)
		rc = member_bytes(m, "./conffiles", 0644, conffiles->data, conffiles->len);
	if (rc == 0)
		rc = member_bytes(m, "./control", 0644, control.data, control.len);
	if (rc == 0)
		rc = member_bytes(m, "./md5sums", 0644, md5sums->data, md5sums->len);
	for (size_t i = 0; i < PKG_SCRIPTS && rc == 0; i++)
		if (k->scripts[order[i]])
			rc = member_bytes(m, names[order[i]], 0755, k->scripts[order[i]], strlen(k->scripts[order[i]]));
	if (member_close(m) < 0)
		rc = -1;
	buf_release(&control);
	return rc;
}

/* The outer ar archive (BSD ar: short names stored as they are, which is
 * what dpkg-deb reads), each member 0644 root. */

static int deb_ar(const char *pkg, int64_t mtime, const struct buf *control, const struct buf *data, struct buf *out)
{
	const char *names[] = { "debian-binary", "control.tar.gz", "data.tar.gz" };
	const struct buf *bodies[] = { NULL, control, data };
	struct archive *a = archive_write_new();
	int rc = 0;
	if (archive_write_set_format_ar_bsd(a) != ARCHIVE_OK || archive_write_add_filter_none(a) != ARCHIVE_OK)
		rc = -1;
	archive_write_set_bytes_in_last_block(a, 1);
	if (rc == 0 && archive_write_open(a, out, NULL, ar_write_cb, NULL) != ARCHIVE_OK)
		rc = -1;
	for (size_t i = 0; i < 3 && rc == 0; i++) {
		const void *p = bodies[i] ? bodies[i]->data : "2.0\n";
		size_t n = bodies[i] ? bodies[i]->len : 4;
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, names[i]);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_mtime(e, (time_t)mtime, 0);
		archive_entry_set_size(e, (la_int64_t)n);
		if (archive_write_header(a, e) != ARCHIVE_OK || archive_write_data(a, p, n) != (la_ssize_t)n)
			rc = -1;
		archive_entry_free(e);
	}
	if (rc == 0 && archive_write_close(a) != ARCHIVE_OK)
		rc = -1;
	if (rc < 0)
		error("cannot write '%s': %s", pkg, archive_error_string(a) ? archive_error_string(a) : "too large");
	archive_write_free(a);
	return rc;
}

static int write_deb(struct lpkg *k, const struct plan *p, const struct result *res, int64_t mtime, struct buf *out)
{
	struct member data, control;
	struct buf md5sums, conffiles;
	uint64_t kib;
	buf_init(&md5sums, 16 << 20);
	buf_init(&conffiles, 1 << 20);
	memset(&control, 0, sizeof(control)); /* opened only after the data */
	int rc = deb_data(k, p, res, mtime, &data, &md5sums, &conffiles, &kib);
	if (rc == 0)
		rc = deb_control_tar(k, mtime, kib, &md5sums, &conffiles, &control);
	if (rc == 0)
		rc = deb_ar(k->name, mtime, &control.out, &data.out, out);
	buf_release(&data.out);
	buf_release(&control.out);
	buf_release(&md5sums);
	buf_release(&conffiles);
	return rc;
}

/* ---- rpm: rpmbuild run reproducibly ---- */

/* Text for the spec: '%' doubled (rpm expands macros everywhere). */
static void spec_text(struct buf *b, const char *s)
{
	for (; *s; s++)
		buf_append(b, *s == '%' ? "%%" : s, *s == '%' ? 2 : 1);
}

static int file_mode(const struct lpkg_file *f, const char *src)
{
	struct stat st;
	if (f->mode)
		return f->mode;
	return stat(src, &st) == 0 && (st.st_mode & 0111) ? 0755 : 0644;
}

/* Copy every file into root (the future buildroot) with its final mode. */
static int rpm_tree(const struct lpkg *k, const struct result *res, const char *root)
{
	int rc = 0;
	for (size_t i = 0; i < k->nfiles && rc == 0; i++) {
		const struct lpkg_file *f = &k->files[i];
		char *to = xasprintf("%s%s", root, f->dst);
		char *dir = xstrndup(to, (size_t)(strrchr(to, '/') - to));
		char hex[HASH_HEX_MAX];
		rc = mkdir_p(dir, 0755);
		if (rc == 0 && f->kind == LPKG_SYMLINK && symlink(f->src, to) < 0)
			rc = error("cannot make the link '%s':", to);
		else if (rc == 0 && f->kind != LPKG_SYMLINK) {
			const char *src = f->kind == LPKG_BINARY ? res[f->job].path : f->src;
			rc = hash_copy_file(HASH_SHA256, src, to, file_mode(f, src), hex, NULL);
		}
		free(dir);
		free(to);
	}
	return rc;
}

static void rpm_spec(const struct lpkg *k, const struct result *res, const char *files, struct buf *b)
{
	static const char *const sections[PKG_SCRIPTS] = { "%pre", "%post", "%preun", "%postun" };
	const struct package_decl *d = k->decl;
	const char *nl = strchr(d->description, '\n');
	char *summary = xstrndup(d->description, nl ? (size_t)(nl - d->description) : strlen(d->description));
	buf_puts(b, "Name: "), spec_text(b, d->name);
	buf_puts(b, "\nVersion: "), spec_text(b, d->version);
	buf_puts(b, "\nRelease: "), spec_text(b, d->release);
	buf_puts(b, "\nSummary: "), spec_text(b, summary);
	buf_puts(b, "\nLicense: "), spec_text(b, d->license ? d->license : "Unspecified");
	buf_puts(b, "\nPackager: "), spec_text(b, d->maintainer);
	if (d->homepage)
		buf_puts(b, "\nURL: "), spec_text(b, d->homepage);
	for (size_t i = 0; i < d->depends.n; i++)
		buf_puts(b, "\nRequires: "), spec_text(b, d->depends.v[i]);
	buf_puts(b, "\nAutoReqProv: no\n\n%description\n");
	spec_text(b, nl ? nl + 1 : summary);
	buf_puts(b, "\n\n%install\ncp -a '");
	spec_text(b, files);
	buf_puts(b, "'/. \"$RPM_BUILD_ROOT\"/\n\n%files\n%defattr(-,root,root,0755)\n");
	for (size_t i = 0; i < k->nfiles; i++) {
		const struct lpkg_file *f = &k->files[i];
		const char *src = f->kind == LPKG_BINARY ? res[f->job].path : f->src;
		if (f->kind == LPKG_SYMLINK)
			buf_printf(b, "%s\n", f->dst);
		else
			buf_printf(b, "%s%%attr(%04o,root,root) %s\n", f->kind == LPKG_CONFIG ? "%config(noreplace) " : "",
				   (unsigned)file_mode(f, src), f->dst);
	}
	for (size_t i = 0; i < PKG_SCRIPTS; i++)
		if (k->scripts[i])
			buf_printf(b, "\n%s\n", sections[i]), spec_text(b, k->scripts[i]);
	free(summary);
}

/* rpmbuild -bb in work (its own HOME, so no ~/.rpmmacros), every time and
 * name that would vary fixed by macros; the package lands in work/out. */
static int rpm_build(const struct lpkg *k, const char *work, int64_t mtime)
{
	char *top = xasprintf("_topdir %s/top", work), *spec = xasprintf("%s/pkg.spec", work);
	char *target = xasprintf("%s-linux", k->arch), *out = xasprintf("_rpmdir %s/out", work);
	char *argv[] = { "rpmbuild", "-bb", "--quiet", "--target", target, "--define", top, "--define", out,
			 "--define", "_rpmfilename pkg.rpm", "--define", "_buildhost xgo-build",
			 "--define", "use_source_date_epoch_as_buildtime 1", "--define", "clamp_mtime_to_source_date_epoch 1",
			 "--define", "source_date_epoch_from_changelog 0", "--define", "__os_install_post %{nil}",
			 "--define", "debug_package %{nil}", "--define", "_build_id_links none",
			 "--define", "_binary_payload w9.gzdio", spec, NULL };
	char *home = xasprintf("HOME=%s", work), *sde = xasprintf("SOURCE_DATE_EPOCH=%lld", (long long)mtime);
	char *envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", "TZ=UTC", home, sde, NULL };
	struct buf so, se;
	int status = 0, rc;
	buf_init(&so, 1 << 20);
	buf_init(&se, 1 << 20);
	if (proc_capture(argv, envp, work, &so, &se, &status) < 0)
		rc = error("cannot run rpmbuild for '%s' (install rpm: apt-get install rpm)", k->name);
	else if (status != 0)
		rc = error("rpmbuild failed for '%s' (exit %d): %.400s", k->name, status, se.data);
	else
		rc = 0;
	buf_release(&so);
	buf_release(&se);
	free(top), free(spec), free(target), free(out), free(home), free(sde);
	return rc;
}

static int write_rpm(struct lpkg *k, const struct result *res, const char *work_dir, int64_t mtime, struct buf *out)
{
	char *work = xasprintf("%s/rpm/%s", work_dir, k->name);
	char *files = xasprintf("%s/files", work), *spec = xasprintf("%s/pkg.spec", work);
	char *built = xasprintf("%s/out/pkg.rpm", work);
	struct buf text;
	size_t len = 0;
	buf_init(&text, 16 << 20);
	remove_tree(work);
	int rc = mkdir_p(files, 0755) < 0 ? error("cannot make '%s':", files) : 0;
	if (rc == 0)
		rc = rpm_tree(k, res, files);
	rpm_spec(k, res, files, &text);
	if (rc == 0)
		rc = write_file_atomic(spec, text.data, text.len, 0644);
	if (rc == 0)
		rc = rpm_build(k, work, mtime);
	char *data = rc == 0 ? read_file(built, LPKG_MAX_BYTES, &len) : NULL;
	if (rc == 0 && (!data || buf_append(out, data, len) < 0))
		rc = error("cannot read what rpmbuild wrote for '%s'", k->name);
	free(data);
	remove_tree(work);
	buf_release(&text);
	free(work), free(files), free(spec), free(built);
	return rc;
}

/* ---- the stage ---- */

/* The version of what writes a format's bytes: our own writer and
 * libarchive's and zlib's for deb; rpmbuild's for rpm (asked once). */
static const char *writer_version(const char *format, const char *work)
{
	static char rpm[128];
	if (!strcmp(format, "deb"))
		return archive_version_details();
	if (!rpm[0]) {
		char *argv[] = { "rpmbuild", "--version", NULL };
		char *envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };
		struct buf out;
		int status = 0;
		buf_init(&out, 4096);
		if (proc_capture(argv, envp, work, &out, NULL, &status) == 0 && status == 0 && out.len)
			snprintf(rpm, sizeof(rpm), "%.*s", (int)strcspn(out.data, "\n"), out.data);
		else
			snprintf(rpm, sizeof(rpm), "unknown");
		buf_release(&out);
	}
	return rpm;
}

/* The package's digest: everything its bytes depend on.  The deb control
 * text and the rpm spec carry every declared field the writers read (so
 * the writers themselves list them); each file adds its place, kind, mode
 * and content; scripts, the epoch and the writers' versions the rest. */
static int package_key(const struct lpkg *k, const struct plan *p, const struct result *res, int64_t mtime,
		       const char *work, char key[65])
{
	struct hasher *h = hasher_new(HASH_SHA256);
	struct buf text;
	char head[160];
	int rc = 0;
	snprintf(head, sizeof(head), "xgo-build package v1 %s %s %lld", XGO_VERSION, k->decl->format,
		 (long long)mtime);
	hasher_update_str(h, head);
	hasher_update_str(h, writer_version(k->decl->format, work));
	hasher_update_str(h, k->name);
	buf_init(&text, 16 << 20);
	deb_control(k, 0, &text);
	rpm_spec(k, res, "", &text);
	hasher_update(h, text.data, text.len);
	buf_release(&text);
	for (size_t i = 0; i < PKG_SCRIPTS; i++)
		hasher_update_str(h, k->scripts[i]);
	for (size_t i = 0; i < k->nfiles && rc == 0; i++) {
		const struct lpkg_file *f = &k->files[i];
		char hex[HASH_HEX_MAX] = "", mode[32];
		if (f->kind == LPKG_BINARY)
			snprintf(hex, sizeof(hex), "%s %d", res[f->job].sha256, p->jobs[f->job].static_link);
		else if (f->kind == LPKG_FILE || f->kind == LPKG_CONFIG)
			rc = hash_file_hex(HASH_SHA256, f->src, hex, NULL);
		else if (f->kind == LPKG_SYMLINK)
			snprintf(hex, sizeof(hex), "%s", f->src);
		const char *src = f->kind == LPKG_BINARY ? res[f->job].path : f->kind == LPKG_SYMLINK ? NULL : f->src;
		snprintf(mode, sizeof(mode), "%d %o", (int)f->kind, (unsigned)(src ? file_mode(f, src) : f->mode));
		hasher_update_str(h, f->dst);
		hasher_update_str(h, mode);
		hasher_update_str(h, hex);
	}
	hasher_final_hex(h, key);
	hasher_free(h);
	return rc;
}

static int build_package(struct lpkg *k, const struct plan *p, const struct result *res, const char *dest,
			 const char *work, int64_t mtime)
{
	struct buf out;
	buf_init(&out, LPKG_MAX_BYTES);
	int rc = !strcmp(k->decl->format, "deb") ? write_deb(k, p, res, mtime, &out) : write_rpm(k, res, work, mtime, &out);
	if (rc == 0 && write_file_atomic(dest, out.data, out.len, 0644) < 0)
		rc = -1;
	if (rc == 0) {
		hash_bytes_hex(HASH_SHA256, out.data, out.len, k->sha256);
		k->size = out.len;
	}
	buf_release(&out);
	return rc;
}

/* Through the action cache when there is one: a package whose inputs did
 * not change is copied, not written again (gzip -9 and rpmbuild cost
 * seconds per package on every run otherwise). */
static int write_one(struct lpkg *k, const struct plan *p, const struct result *res, const char *stage,
		     const char *work, int64_t mtime, struct actcache *cache)
{
	char *dest = xasprintf("%s/%s", stage, k->name), key[65];
	struct ac_for f = { "", "", k->name, NULL, NULL };
	struct ac_entry e;
	int rc = 0, keyed = cache && package_key(k, p, res, mtime, work, key) == 0;
	if (keyed && actcache_get(cache, key, &f, dest, 0644, &e)) {
		memcpy(k->sha256, e.sha256, 65);
		k->size = e.size;
	} else if ((rc = build_package(k, p, res, dest, work, mtime)) == 0 && keyed) {
		memset(&e, 0, sizeof(e));
		memcpy(e.sha256, k->sha256, 65);
		e.size = k->size;
		actcache_put(cache, key, &f, dest, &e);
	}
	struct timespec ts[2] = { { (time_t)mtime, 0 }, { (time_t)mtime, 0 } };
	if (rc == 0 && utimensat(AT_FDCWD, dest, ts, AT_SYMLINK_NOFOLLOW) < 0)
		rc = error("cannot set the time of '%s':", dest);
	k->written = rc == 0;
	free(dest);
	return rc;
}

int lpkg_write_all(struct lpkgplan *lp, const struct plan *p, const struct result *res, const char *stage_dir,
		   const char *work_dir, int64_t epoch, struct actcache *cache)
{
	for (size_t k = 0; k < lp->n; k++)
		if (write_one(&lp->v[k], p, res, stage_dir, work_dir, epoch, cache) < 0)
			return -1;
	return 0;
}

json_t *lpkg_manifest(const struct lpkgplan *lp, const struct plan *p)
{
	json_t *list = json_array();
	int bad = !list;
	for (size_t k = 0; k < lp->n && !bad; k++) {
		const struct lpkg *g = &lp->v[k];
		json_t *members = json_array();
		bad |= !members;
		for (size_t i = 0; i < g->njobs; i++)
			bad |= json_array_append_new(members, json_pack("{s:s, s:s}", "build", p->jobs[g->jobs[i]].build->name,
									"target", p->jobs[g->jobs[i]].id));
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "name", g->name, "format", g->decl->format,
				      "package", g->decl->name, "arch", g->arch, "target", p->jobs[g->jobs[0]].id,
				      "binaries", members);
		if (o && g->written) {
			bad |= json_object_set_new(o, "size", json_integer((json_int_t)g->size));
			bad |= json_object_set_new(o, "sha256", json_string(g->sha256));
		}
		bad |= json_array_append_new(list, o);
	}
	if (bad) {
		json_decref(list);
		return NULL;
	}
	return list;
}
