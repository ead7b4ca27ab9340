/* explain.c - why two builds of an artifact differ (see explain.h). */
#define _GNU_SOURCE
#include "explain.h"
#include "base/binfmt.h"
#include "buildinfo.h"
#include "events.h"
#include "base/hash.h"
#include "base/jsonx.h"
#include "base/proc.h"
#include "base/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct str_ref {
	const char *p;
	size_t n;
};

#define STR_MIN 6
#define STR_MAX_LEN 200
#define STR_MAX_COUNT (1u << 20)

static int cmp_ref(const void *a, const void *b)
{
	const struct str_ref *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
	return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* Printable ASCII runs of at least STR_MIN bytes, cut at STR_MAX_LEN,
 * sorted and unique. */
static size_t collect_strings(const char *d, size_t n, struct str_ref **out)
{
	size_t k = 0, cap = 0;
	struct str_ref *v = NULL;
	for (size_t i = 0; i < n && k < STR_MAX_COUNT;) {
		size_t j = i;
		while (j < n && ((d[j] >= 0x20 && d[j] < 0x7f) || d[j] == '\t'))
			j++;
		if (j - i >= STR_MIN) {
			if (k == cap) {
				cap = cap ? 2 * cap : 4096;
				v = xreallocarray(v, cap, sizeof(*v));
			}
			v[k].p = d + i;
			v[k++].n = j - i > STR_MAX_LEN ? STR_MAX_LEN : j - i;
		}
		i = j + 1;
	}
	if (k)
		qsort(v, k, sizeof(*v), cmp_ref);
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (u == 0 || cmp_ref(&v[u - 1], &v[i]))
			v[u++] = v[i];
	*out = v;
	return u;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* hh:mm:ss somewhere in the string: a time of day. */
static int has_clock(const struct str_ref *s)
{
	for (size_t i = 0; i + 8 <= s->n; i++)
		if (is_digit(s->p[i]) && is_digit(s->p[i + 1]) && s->p[i + 2] == ':' && is_digit(s->p[i + 3]) &&
		    is_digit(s->p[i + 4]) && s->p[i + 5] == ':' && is_digit(s->p[i + 6]) && is_digit(s->p[i + 7]))
			return 1;
	return 0;
}

static int is_path(const struct str_ref *s)
{
	int slashes = 0, letters = 0;
	for (size_t i = 0; i < s->n; i++) {
		char c = s->p[i];
		if (!(is_alpha(c) || is_digit(c) || strchr("._/+@-~", c)))
			return 0;
		slashes += c == '/';
		letters += is_alpha(c);
	}
	return s->p[0] == '/' && slashes >= 2 && letters >= 3;
}

/* How telling a string is: paths and times name causes; long runs of
 * hash-like characters (build IDs) only repeat that something differs;
 * bytes of code that happen to be printable (-1) are not listed. */
static int string_score(const struct str_ref *s)
{
	size_t good = 0, plain = 0;
	for (size_t i = 0; i < s->n; i++) {
		char c = s->p[i];
		good += is_alpha(c) || is_digit(c) || strchr(" ./_-:,=", c) != NULL;
		plain += is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '/';
	}
	if (is_path(s))
		return 4;
	if (has_clock(s))
		return 3;
	if (good * 10 < s->n * 9)
		return -1;
	if (plain == s->n && s->n >= 20)
		return 0;
	return 2;
}

static json_t *top_strings(struct str_ref *only, size_t n)
{
	json_t *a = json_array();
	for (int want = 4; want >= 2; want--)
		for (size_t i = 0; i < n && json_array_size(a) < EXPLAIN_STRINGS_TOP; i++)
			if (string_score(&only[i]) == want && (want > 2 || only[i].n >= 12))
				jx_push(a, json_stringn_nocheck(only[i].p, only[i].n));
	return a;
}

/* Likely causes, from the strings found on one side only. */
static void add_causes(json_t *causes, const struct str_ref *only, size_t n)
{
	int path = 0, clock = 0;
	for (size_t i = 0; i < n; i++) {
		const struct str_ref *s = &only[i];
		if (!path && is_path(s) && s->n > 2 &&
		    (!memcmp(s->p + s->n - 3, ".go", 3) || !memcmp(s->p + s->n - 2, ".c", 2) ||
		     !memcmp(s->p + s->n - 2, ".h", 2) || memmem(s->p, s->n, "/src/", 5))) {
			path = 1;
			char *t = xasprintf("an absolute source path is embedded ('%.*s'): -trimpath off, or a "
					    "C compiler without -ffile-prefix-map", (int)s->n, s->p);
			jx_push(causes, jx_text(t));
			free(t);
		}
		if (!clock && has_clock(s)) {
			clock = 1;
			char *t = xasprintf("a time of day is embedded ('%.*s'): a build timestamp (__TIME__/__DATE__ "
					    "without SOURCE_DATE_EPOCH, a generator writing time.Now())", (int)s->n, s->p);
			jx_push(causes, jx_text(t));
			free(t);
		}
	}
}

static json_t *strings_diff(const char *a, size_t la, const char *b, size_t lb)
{
	struct str_ref *sa, *sb;
	size_t na = collect_strings(a, la, &sa), nb = collect_strings(b, lb, &sb);
	struct str_ref *oa = xcalloc(na + 1, sizeof(*oa)), *ob = xcalloc(nb + 1, sizeof(*ob));
	size_t ka = 0, kb = 0, i = 0, j = 0;
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : cmp_ref(&sa[i], &sb[j]);
		if (c < 0)
			oa[ka++] = sa[i++];
		else if (c > 0)
			ob[kb++] = sb[j++];
		else
			i++, j++;
	}
	json_t *causes = json_array();
	add_causes(causes, oa, ka);
	if (json_array_size(causes) == 0)
		add_causes(causes, ob, kb);
	json_t *o = json_pack("{s:o, s:o, s:I, s:I, s:o}", "only_a", top_strings(oa, ka), "only_b",
			      top_strings(ob, kb), "count_a", (json_int_t)ka, "count_b", (json_int_t)kb, "causes", causes);
	free(sa);
	free(sb);
	free(oa);
	free(ob);
	return o;
}

static json_t *lines_only(const struct strv *x, const struct strv *y)
{
	json_t *a = json_array();
	for (size_t i = 0; i < x->n; i++)
		if (!strv_contains(y, x->v[i]))
			jx_push(a, jx_text(x->v[i])); /* read from a binary: text, or '?' */
	return a;
}

/* The differing lines of the embedded Go build info, or NULL when
 * neither file has one. */
static json_t *buildinfo_diff(const char *a, size_t la, const char *b, size_t lb)
{
	struct buildinfo ba, bb;
	int saved = error_quiet(1);
	int ra = buildinfo_read((const unsigned char *)a, la, &ba);
	int rb = buildinfo_read((const unsigned char *)b, lb, &bb);
	error_quiet(saved);
	json_t *o = NULL;
	if (ra == 0 || rb == 0) {
		struct strv ea = { 0 }, eb = { 0 };
		const struct strv *xa = ra == 0 ? &ba.lines : &ea, *xb = rb == 0 ? &bb.lines : &eb;
		o = json_pack("{s:o, s:o}", "only_a", lines_only(xa, xb), "only_b", lines_only(xb, xa));
		if (ra == 0 && rb == 0 && strcmp(ba.go_version, bb.go_version))
			jx_set(o, "go_version", json_pack("[o, o]", jx_text(ba.go_version), jx_text(bb.go_version)));
	}
	if (ra == 0)
		buildinfo_release(&ba);
	if (rb == 0)
		buildinfo_release(&bb);
	return o;
}

#define REGION_GAP 16     /* equal bytes that still join two differences */
#define REGION_CONTEXT 40 /* printable bytes shown either side */

static int printable(char c)
{
	return c >= 0x20 && c < 0x7f;
}

/* The bytes around [start, end) as text: the printable run that holds the
 * difference, clipped, with other bytes as '.'. */
static json_t *context(const char *d, size_t n, size_t start, size_t end)
{
	size_t lo = start, hi = end < n ? end : n;
	while (lo > 0 && start - lo < REGION_CONTEXT && printable(d[lo - 1]))
		lo--;
	while (hi < n && hi - end < REGION_CONTEXT && printable(d[hi]))
		hi++;
	if (hi - lo > 3 * REGION_CONTEXT)
		hi = lo + 3 * REGION_CONTEXT;
	char *t = xmalloc(hi - lo + 1);
	for (size_t i = 0; i < hi - lo; i++)
		t[i] = printable(d[lo + i]) ? d[lo + i] : '.';
	t[hi - lo] = '\0';
	json_t *s = json_stringn_nocheck(t, hi - lo);
	free(t);
	return s;
}

/* The first EXPLAIN_REGIONS runs of differing bytes (over the common length),
 * with their section and text around them; a time of day found there is
 * added to causes. */
static json_t *regions(const char *a, size_t la, const char *b, size_t lb, json_t *causes)
{
	json_t *out = json_array();
	size_t min = la < lb ? la : lb, i = 0, k;
	int clock = 0;
	json_t *c;
	json_array_foreach(causes, k, c)
		clock |= !strncmp(json_string_value(c), "a time of day", 13);
	while (i < min && json_array_size(out) < EXPLAIN_REGIONS) {
		if (a[i] == b[i]) {
			i++;
			continue;
		}
		size_t start = i, last = i;
		while (i < min && i - last < REGION_GAP) {
			if (a[i] != b[i])
				last = i;
			i++;
		}
		json_t *r = json_pack("{s:I, s:I, s:o, s:o}", "offset", (json_int_t)start, "length",
				      (json_int_t)(last + 1 - start), "a", context(a, la, start, last + 1), "b",
				      context(b, lb, start, last + 1));
		struct binfmt_section s;
		if (binfmt_section_at((const unsigned char *)a, la, start, &s))
			jx_set(r, "section", jx_text(s.name));
		const char *ta = json_string_value(json_object_get(r, "a"));
		struct str_ref ref = { ta, strlen(ta) };
		if (!clock && has_clock(&ref)) {
			clock = 1;
			char *t = xasprintf("a time of day is embedded ('%s'): a build timestamp (__TIME__/__DATE__ "
					    "without SOURCE_DATE_EPOCH, a generator writing time.Now())", ta);
			jx_push(causes, jx_text(t));
			free(t);
		}
		jx_push(out, r);
	}
	return out;
}

/* Every differing run lies in a build ID note (and there are fewer runs
 * than the limit, so none was left out). */
static int only_build_ids(json_t *rg)
{
	size_t i;
	json_t *r;
	if (json_array_size(rg) == 0 || json_array_size(rg) >= EXPLAIN_REGIONS)
		return 0;
	json_array_foreach(rg, i, r) {
		const char *s = json_string_value(json_object_get(r, "section"));
		if (!s || !strstr(s, "build"))
			return 0;
	}
	return 1;
}

static int is_archive_name(const char *p)
{
	static const char *const ext[] = { ".tar.gz", ".tgz", ".tar.xz", ".tar.zst", ".tar.bz2", ".tar", ".zip" };
	size_t n = strlen(p);
	for (size_t i = 0; i < ARRAY_LEN(ext); i++) {
		size_t e = strlen(ext[i]);
		if (n > e && !strcmp(p + n - e, ext[i]))
			return 1;
	}
	return 0;
}

static struct archive *open_archive(const char *data, size_t len)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static void entry_digest(struct archive *a, char hex[65])
{
	struct hasher *h = hasher_new(HASH_SHA256);
	const void *block;
	size_t size;
	la_int64_t off;
	while (archive_read_data_block(a, &block, &size, &off) == ARCHIVE_OK)
		hasher_update(h, block, size);
	hasher_final_hex(h, hex);
	hasher_free(h);
}

/* The first field in which two entries differ, or NULL. */
static char *entry_diff(struct archive *aa, struct archive_entry *x, struct archive *ab, struct archive_entry *y)
{
	const char *nx = archive_entry_pathname(x), *ny = archive_entry_pathname(y);
	nx = nx ? nx : "";
	ny = ny ? ny : "";
	if (strcmp(nx, ny))
		return xasprintf("entry name '%s' vs '%s'", nx, ny);
	if (archive_entry_mode(x) != archive_entry_mode(y))
		return xasprintf("entry '%s': mode %o vs %o", nx, (unsigned)archive_entry_mode(x),
				 (unsigned)archive_entry_mode(y));
	if (archive_entry_mtime(x) != archive_entry_mtime(y))
		return xasprintf("entry '%s': mtime %lld vs %lld", nx, (long long)archive_entry_mtime(x),
				 (long long)archive_entry_mtime(y));
	if (archive_entry_uid(x) != archive_entry_uid(y) || archive_entry_gid(x) != archive_entry_gid(y))
		return xasprintf("entry '%s': owner %lld:%lld vs %lld:%lld", nx, (long long)archive_entry_uid(x),
				 (long long)archive_entry_gid(x), (long long)archive_entry_uid(y),
				 (long long)archive_entry_gid(y));
	const char *ux = archive_entry_uname(x), *uy = archive_entry_uname(y);
	const char *gx = archive_entry_gname(x), *gy = archive_entry_gname(y);
	if (strcmp(ux ? ux : "", uy ? uy : "") || strcmp(gx ? gx : "", gy ? gy : ""))
		return xasprintf("entry '%s': owner name '%s:%s' vs '%s:%s'", nx, ux ? ux : "", gx ? gx : "",
				 uy ? uy : "", gy ? gy : "");
	char hx[65], hy[65];
	entry_digest(aa, hx);
	entry_digest(ab, hy);
	if (strcmp(hx, hy))
		return xasprintf("entry '%s': content (size %lld vs %lld)", nx, (long long)archive_entry_size(x),
				 (long long)archive_entry_size(y));
	return NULL;
}

static char *archive_diff(const char *a, size_t la, const char *b, size_t lb)
{
	struct archive *aa = open_archive(a, la), *ab = open_archive(b, lb);
	char *why = NULL;
	if (!aa || !ab) {
		why = xstrdup("cannot be read as archives");
		goto out;
	}
	for (int i = 0; i < 100000 && !why; i++) {
		struct archive_entry *x, *y;
		int rx = archive_read_next_header(aa, &x), ry = archive_read_next_header(ab, &y);
		if (rx != ARCHIVE_OK && ry != ARCHIVE_OK)
			break;
		if (rx != ARCHIVE_OK)
			why = xasprintf("entry '%s' only in the second", archive_entry_pathname(y));
		else if (ry != ARCHIVE_OK)
			why = xasprintf("entry '%s' only in the first", archive_entry_pathname(x));
		else
			why = entry_diff(aa, x, ab, y);
	}
	if (!why)
		why = xstrdup("every entry is the same: the container differs (compression or padding)");
out:
	if (aa)
		archive_read_free(aa);
	if (ab)
		archive_read_free(ab);
	return why;
}

static const char *or_dash(const char *s)
{
	return s ? s : "-";
}

static void run_diffoscope(json_t *e, const char *a, const char *b, const char *outp)
{
	/* the host's PATH, which diffoscope needs for the tools it calls */
	const char *host = getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin";
	char *found = proc_find("diffoscope", host);
	if (!found) {
		jx_set(e, "diffoscope", json_string("not installed"));
		return;
	}
	free(found);
	char *argv[] = { "diffoscope", "--text", (char *)outp, (char *)a, (char *)b, NULL };
	char *path = xasprintf("PATH=%s", host);
	char *envp[] = { path, "LC_ALL=C.UTF-8", NULL };
	struct buf out;
	int status;
	buf_init(&out, 1 << 20);
	if (proc_capture(argv, envp, NULL, &out, NULL, &status) == 0 && (status == 0 || status == 1))
		jx_set(e, "diffoscope", jx_text(outp));
	else
		jx_set(e, "diffoscope", json_string("failed"));
	buf_release(&out);
	free(path);
}

json_t *explain_pair(const char *a, const char *b, const char *diffoscope_out)
{
	json_t *e = json_object();
	size_t la = 0, lb = 0;
	char *da = read_file(a, EXPLAIN_MAX_FILE, &la), *db = da ? read_file(b, EXPLAIN_MAX_FILE, &lb) : NULL;
	if (!da || !db) {
		jx_set(e, "error", jx_text(error_last()));
		goto out;
	}
	size_t off = 0, min = la < lb ? la : lb;
	while (off < min && da[off] == db[off])
		off++;
	if (off == la && la == lb)
		goto out;
	jx_set(e, "first_difference", json_integer((json_int_t)off));
	const char *kind = binfmt_kind((const unsigned char *)da, la);
	if (kind) {
		struct binfmt_section s;
		jx_set(e, "format", json_string(kind));
		if (binfmt_section_at((const unsigned char *)da, la, off, &s))
			jx_set(e, "section", jx_text(s.name));
	}
	json_t *bi = buildinfo_diff(da, la, db, lb);
	if (bi)
		jx_set(e, "buildinfo", bi);
	if (is_archive_name(a)) {
		char *why = archive_diff(da, la, db, lb);
		if (why)
			jx_set(e, "archive", jx_text(why));
		free(why);
	}
	json_t *st = strings_diff(da, la, db, lb);
	jx_set(e, "strings", st);
	json_t *rg = regions(da, la, db, lb, json_object_get(st, "causes"));
	jx_set(e, "regions", rg);
	if (la == lb && only_build_ids(rg))
		jx_push(json_object_get(st, "causes"),
				      json_string("only the build IDs differ: an input that is not embedded otherwise "
						  "differs (-ldflags/-X, which -trimpath keeps out of the build info, "
						  "tags, flags, the toolchain)"));
	if (diffoscope_out)
		run_diffoscope(e, a, b, diffoscope_out);
out:
	free(da);
	free(db);
	return e;
}

/* One line for the table: the most telling facts first. */
char *explain_summary(json_t *e, json_int_t size_a, json_int_t size_b)
{
	struct buf b;
	buf_init(&b, 4096);
	const char *missing = json_string_value(json_object_get(e, "missing"));
	json_t *off = json_object_get(e, "first_difference");
	json_t *bi = json_object_get(e, "buildinfo"), *st = json_object_get(e, "strings");
	const char *sect = json_string_value(json_object_get(e, "section"));
	const char *arch = json_string_value(json_object_get(e, "archive"));
	const char *err = json_string_value(json_object_get(e, "error"));
	if (missing)
		buf_printf(&b, "missing from the %s", !strcmp(missing, "a") ? "first build" : "second build");
	if (err)
		buf_printf(&b, "%s", err);
	if (off) {
		buf_printf(&b, "size %lld vs %lld, first difference at 0x%llx", (long long)size_a, (long long)size_b,
			   (unsigned long long)json_integer_value(off));
		if (sect)
			buf_printf(&b, " in %s", sect);
		/* build IDs differ whenever anything does: point past them */
		size_t i;
		json_t *r;
		json_array_foreach(json_object_get(e, "regions"), i, r) {
			const char *s = json_string_value(json_object_get(r, "section"));
			if (i == 0 || (s && strstr(s, "build")))
				continue;
			buf_printf(&b, ", content at 0x%llx%s%s", (unsigned long long)json_integer_value(
					   json_object_get(r, "offset")), s ? " in " : "", s ? s : "");
			break;
		}
	}
	if (arch)
		buf_printf(&b, "; %s", arch);
	if (bi) {
		json_t *oa = json_object_get(bi, "only_a"), *ob = json_object_get(bi, "only_b");
		if (json_array_size(oa) || json_array_size(ob))
			buf_printf(&b, "; buildinfo '%s' vs '%s'", or_dash(json_string_value(json_array_get(oa, 0))),
				   or_dash(json_string_value(json_array_get(ob, 0))));
	}
	json_t *cause;
	size_t ci;
	json_array_foreach(json_object_get(st, "causes"), ci, cause)
		buf_printf(&b, "; likely cause: %s", json_string_value(cause));
	if (st && !json_array_size(json_object_get(st, "causes"))) {
		json_t *oa = json_object_get(st, "only_a"), *ob = json_object_get(st, "only_b");
		if (json_array_size(oa) || json_array_size(ob))
			buf_printf(&b, "; strings '%.60s' vs '%.60s'", or_dash(json_string_value(json_array_get(oa, 0))),
				   or_dash(json_string_value(json_array_get(ob, 0))));
	}
	char *s = buf_detach(&b);
	return s ? s : xstrdup("");
}
