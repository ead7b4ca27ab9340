#define _POSIX_C_SOURCE 200809L
#include "universal.h"
#include "base/hash.h"
#include "base/jsonx.h"
#include "base/path.h"
#include "template.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The template variables of the darwin/all target: the amd64 job's, with
 * arch "all", no variant and target "darwin_all". */
static void uni_vars(const struct release *r, const struct job *j, struct tmpl_var *vars, char *scratch)
{
	plan_vars(r, j, vars, scratch);
	struct tmpl_var *jv = vars + PLAN_RELEASE_VARS; /* plan.h: the job's variables */
	jv[3].value = "all";
	jv[4].value = "";
	jv[6].value = "darwin_all";
}

/* The one darwin job of build b for arch, as a plan index; -1 when there
 * is none, -2 when there are several (cgo on and off, variants). */
static long find_slice(const struct plan *p, const struct build_decl *b, const char *arch)
{
	long found = -1;
	for (size_t i = 0; i < p->n; i++) {
		const struct job *j = &p->jobs[i];
		if (j->build != b || strcmp(j->target.goos, "darwin") || strcmp(j->target.goarch, arch))
			continue;
		if (found >= 0)
			return -2;
		found = (long)i;
	}
	return found;
}

/* A published name must not be a job's output, an archive or another
 * universal output. */
static int name_taken(const struct plan *p, const struct arcplan *ap, const struct uniplan *u, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->jobs[i].output, name))
			return 1;
	for (size_t i = 0; i < ap->n; i++)
		if (!strcmp(ap->v[i].name, name))
			return 1;
	for (size_t i = 0; i < u->n; i++)
		if (!strcmp(u->v[i].output, name))
			return 1;
	for (size_t i = 0; i < u->narcs; i++)
		if (!strcmp(u->arcs[i].name, name))
			return 1;
	return 0;
}

static int plan_out(const struct release *r, const struct plan *p, const struct arcplan *ap,
		    const struct build_decl *b, struct uniplan *u)
{
	long amd = find_slice(p, b, "amd64"), arm = find_slice(p, b, "arm64");
	if (amd < 0 || arm < 0) {
		const char *which = amd == -1 ? "darwin/amd64" : arm == -1 ? "darwin/arm64" : NULL;
		if (which)
			return error("%s:%d: build '%s': universal = true needs darwin/amd64 and darwin/arm64 in its "
				     "targets, and %s is not built: add it to the matrix or drop universal",
				     r->path, b->line, b->name, which);
		return error("%s:%d: build '%s': universal = true needs exactly one darwin/amd64 and one "
			     "darwin/arm64 target, not several (cgo or variants): exclude the others", r->path,
			     b->line, b->name);
	}
	struct tmpl_var vars[PLAN_VARS];
	char scratch[PLAN_SCRATCH], where[256], *output;
	uni_vars(r, &p->jobs[amd], vars, scratch);
	snprintf(where, sizeof(where), "%s:%d: build '%s': universal: output", r->path, b->line, b->name);
	if (tmpl_expand(b->output, vars, PLAN_VARS, where, &output) < 0)
		return -1;
	if (!path_components_ok(output) || path_check_name(where, output) < 0) {
		error("%s: \"%s\" gives '%s', which is not a relative path inside dist/", where, b->output, output);
		free(output);
		return -1;
	}
	if (name_taken(p, ap, u, output)) {
		error("%s: '%s' is published already: put {arch} in the output template (it is \"all\" for the "
		      "universal binary)", where, output);
		free(output);
		return -1;
	}
	u->v = xreallocarray(u->v, u->n + 1, sizeof(*u->v));
	u->v[u->n++] = (struct uni_out){ .build = b, .amd64 = (size_t)amd, .arm64 = (size_t)arm, .output = output };
	return 0;
}

static char *arc_name_all(const struct release *r, const struct plan *p, const struct uni_out *o,
			  const struct archive_decl *d, enum pkg_format f)
{
	struct tmpl_var vars[PLAN_VARS];
	char scratch[PLAN_SCRATCH], where[128], *base;
	uni_vars(r, &p->jobs[o->amd64], vars, scratch);
	snprintf(where, sizeof(where), "%s:%d: archive: name", r->path, d->line);
	if (tmpl_expand(d->name, vars, PLAN_VARS, where, &base) < 0)
		return NULL;
	char *name = xasprintf("%s%s", base, f == PKG_BINARY ? "" : pkg_format_ext(f));
	free(base);
	if (!*name || strchr(name, '/') || path_check_name(where, name) < 0) {
		error("%s: \"%s\" gives '%s', which is not a plain file name", where, d->name, name);
		FREE_AND_NULL(name);
	}
	return name;
}

/* The archives of declaration d for the darwin/all target: one holding
 * every universal binary d selects, or one raw copy each (binary). */
static int plan_arcs(const struct release *r, const struct plan *p, const struct arcplan *ap,
		     const char *project_dir, const struct archive_decl *d, struct uniplan *u)
{
	enum pkg_format f = arc_format_for(d, "darwin");
	struct uni_arc *a = NULL;
	for (size_t i = 0; i < u->n; i++) {
		if (!arc_selects(d, u->v[i].build))
			continue;
		if (!a || f == PKG_BINARY) {
			char *name = arc_name_all(r, p, &u->v[i], d, f);
			if (!name)
				return -1;
			if (name_taken(p, ap, u, name) || !strcmp(name, r->checksums.file) ||
			    !strcmp(name, "manifest.json")) {
				error("%s:%d: archive: the darwin/all archive '%s' is published already: put {arch} in "
				      "the name template", r->path, d->line, name);
				free(name);
				return -1;
			}
			u->arcs = xreallocarray(u->arcs, u->narcs + 1, sizeof(*u->arcs));
			a = &u->arcs[u->narcs++];
			memset(a, 0, sizeof(*a));
			a->decl = d;
			a->name = name;
			a->format = f;
			if (d->wrap_in_directory)
				a->wrap = pkg_stem(name, f);
			if (arc_expand_files(r, d, project_dir, &a->extra) < 0)
				return -1;
		}
		a->outs = xreallocarray(a->outs, a->nouts + 1, sizeof(*a->outs));
		a->outs[a->nouts++] = i;
	}
	return 0;
}

int uni_plan(const struct release *r, const struct plan *p, const struct arcplan *ap, const char *project_dir,
	     struct uniplan *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < r->nbuilds; i++)
		if (r->builds[i].universal && plan_out(r, p, ap, &r->builds[i], out) < 0)
			goto fail;
	for (size_t i = 0; out->n && i < r->narchives; i++)
		if (plan_arcs(r, p, ap, project_dir, &r->archives[i], out) < 0)
			goto fail;
	return 0;
fail:
	uni_plan_release(out);
	return -1;
}

void uni_plan_release(struct uniplan *u)
{
	for (size_t i = 0; i < u->n; i++)
		free(u->v[i].output);
	for (size_t i = 0; i < u->narcs; i++) {
		free(u->arcs[i].name);
		free(u->arcs[i].wrap);
		free(u->arcs[i].outs);
		pkg_entries_release(&u->arcs[i].extra);
	}
	free(u->v);
	free(u->arcs);
	memset(u, 0, sizeof(*u));
}

/* ---- writing ---- */

struct slice {
	const char *path;
	int fd;
	uint64_t size;
	uint32_t cputype, cpusubtype;
};

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Open a slice: a little-endian 64-bit Mach-O (MH_MAGIC_64) of cputype. */
static int slice_open(struct slice *s, const char *path, uint32_t cputype)
{
	unsigned char head[12];
	struct stat st;
	s->path = path;
	s->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (s->fd < 0)
		return error("cannot open '%s':", path);
	if (fstat(s->fd, &st) < 0 || !S_ISREG(st.st_mode) || pread(s->fd, head, sizeof(head), 0) != sizeof(head) ||
	    le32(head) != 0xfeedfacfu || le32(head + 4) != cputype)
		return error("'%s' is not a 64-bit Mach-O for cputype 0x%08x: it cannot be a universal slice", path,
			     cputype);
	if ((uint64_t)st.st_size > UINT32_MAX / 2)
		return error("'%s' is too large for a fat Mach-O (32-bit offsets)", path);
	s->size = (uint64_t)st.st_size;
	s->cputype = cputype;
	s->cpusubtype = le32(head + 8);
	return 0;
}

static int write_all(int fd, const void *p, size_t n, struct hasher *h, const char *what)
{
	const char *c = p;
	hasher_update(h, p, n);
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return error("cannot write '%s':", what);
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* n zero bytes: the padding up to the next aligned slice. */
static int write_zeros(int fd, uint64_t n, struct hasher *h, const char *what)
{
	static const unsigned char zeros[4096];
	while (n) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);
		if (write_all(fd, zeros, k, h, what) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

/* Copy slice s to fd, then zero padding up to pad bytes in all. */
static int copy_slice(int fd, const struct slice *s, uint64_t pad, struct hasher *h, const char *what)
{
	char buf[1 << 16];
	uint64_t done = 0;
	while (done < s->size) {
		ssize_t n = pread(s->fd, buf, sizeof(buf), (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return error("cannot read '%s':", s->path);
		if (write_all(fd, buf, (size_t)n, h, what) < 0)
			return -1;
		done += (uint64_t)n;
	}
	return write_zeros(fd, pad > done ? pad - done : 0, h, what);
}

static uint64_t align_up(uint64_t v)
{
	uint64_t a = (uint64_t)1 << UNI_ALIGN_LOG2;
	return (v + a - 1) & ~(a - 1);
}

/* Write the fat file of the two slices to dest, atomically, mode 0755. */
static int write_fat(struct slice s[2], const char *dest, int64_t epoch, struct uni_out *o)
{
	unsigned char head[8 + 2 * 20] = { 0 };
	uint64_t off[2];
	off[0] = align_up(sizeof(head));
	off[1] = align_up(off[0] + s[0].size);
	put_be32(head, 0xcafebabeu);
	put_be32(head + 4, 2);
	for (int i = 0; i < 2; i++) {
		unsigned char *a = head + 8 + 20 * i;
		put_be32(a, s[i].cputype);
		put_be32(a + 4, s[i].cpusubtype);
		put_be32(a + 8, (uint32_t)off[i]);
		put_be32(a + 12, (uint32_t)s[i].size);
		put_be32(a + 16, UNI_ALIGN_LOG2);
	}
	char *tmp = xasprintf("%s.tmp.%ld", dest, (long)getpid());
	struct hasher *h = hasher_new(HASH_SHA256);
	int rc = -1, fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (fd < 0) {
		error("cannot create '%s':", tmp);
		goto out;
	}
	struct timespec times[2] = { { .tv_sec = epoch }, { .tv_sec = epoch } };
	if (write_all(fd, head, sizeof(head), h, tmp) < 0 || write_zeros(fd, off[0] - sizeof(head), h, tmp) < 0 ||
	    copy_slice(fd, &s[0], off[1] - off[0], h, tmp) < 0 ||
	    copy_slice(fd, &s[1], s[1].size, h, tmp) < 0)
		goto out;
	if (fchmod(fd, 0755) < 0 || futimens(fd, times) < 0 || fsync(fd) < 0) {
		error("cannot write '%s':", tmp);
		goto out;
	}
	if (close(fd) < 0 || (fd = -1, rename(tmp, dest) < 0)) {
		error("cannot write '%s':", dest);
		goto out;
	}
	o->size = off[1] + s[1].size;
	hasher_final_hex(h, o->sha256);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	hasher_free(h);
	free(tmp);
	return rc;
}

static int write_out(struct uni_out *o, const struct result *res, const char *stage, int64_t epoch)
{
	struct slice s[2] = { { .fd = -1 }, { .fd = -1 } };
	char *dest = xasprintf("%s/%s", stage, o->output), *slash = strrchr(dest, '/');
	int rc = -1;
	*slash = '\0'; /* dest has stage's '/' at least */
	if (mkdir_p(dest, 0755) < 0)
		goto out;
	*slash = '/';
	if (slice_open(&s[0], res[o->amd64].path, UNI_CPU_X86_64) < 0 ||
	    slice_open(&s[1], res[o->arm64].path, UNI_CPU_ARM64) < 0)
		goto out;
	rc = write_fat(s, dest, epoch, o);
out:
	for (int i = 0; i < 2; i++)
		if (s[i].fd >= 0)
			close(s[i].fd);
	free(dest);
	return rc;
}

static int write_arc(struct uni_arc *a, const struct uniplan *u, const char *stage, int64_t epoch)
{
	struct pkg_entries e = { 0 };
	struct strv srcs = { 0 };
	for (size_t i = 0; a->format != PKG_BINARY && i < a->extra.n; i++)
		pkg_entries_add(&e, a->extra.v[i].path, a->extra.v[i].src, a->extra.v[i].mode);
	for (size_t i = 0; i < a->nouts; i++) {
		const struct uni_out *o = &u->v[a->outs[i]];
		strv_pushf(&srcs, "%s/%s", stage, o->output);
		pkg_entries_add(&e, o->build->binary, srcs.v[srcs.n - 1], 0755);
	}
	char *dest = xasprintf("%s/%s", stage, a->name);
	struct pkg_request req = { .dest = dest, .format = a->format, .mtime = epoch, .wrap_dir = a->wrap,
				   .entries = e.v, .nentries = e.n };
	int rc = pkg_write(&req, &a->res);
	free(dest);
	strv_release(&srcs);
	pkg_entries_release(&e);
	return rc;
}

int uni_write(struct uniplan *u, const struct result *res, const char *stage, int64_t epoch)
{
	for (size_t i = 0; i < u->n; i++)
		if (write_out(&u->v[i], res, stage, epoch) < 0)
			return -1;
	for (size_t i = 0; i < u->narcs; i++)
		if (write_arc(&u->arcs[i], u, stage, epoch) < 0)
			return -1;
	return 0;
}

json_t *uni_manifest(const struct uniplan *u, const struct plan *p)
{
	json_t *list = json_array();
	int bad = !list; /* every insert checked, as arc_manifest does */
	for (size_t i = 0; i < u->n && !bad; i++) {
		const struct uni_out *o = &u->v[i];
		bad |= json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:I, s:s, s:[s, s]}", "build",
				o->build->name, "target", "darwin/all", "output", o->output, "size", (json_int_t)o->size,
				"sha256", o->sha256, "slices", p->jobs[o->amd64].id, p->jobs[o->arm64].id));
	}
	for (size_t i = 0; i < u->narcs && !bad; i++) {
		const struct uni_arc *a = &u->arcs[i];
		bad |= json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:i, s:s}", "archive",
				a->name, "format", pkg_format_name(a->format), "target", "darwin/all", "size",
				(json_int_t)a->res.size, "sha256", a->res.sha256, "compression", a->res.compression,
				"level", a->res.level, "writer", a->res.writer));
	}
	if (bad) {
		json_decref(list);
		return NULL;
	}
	return list;
}
