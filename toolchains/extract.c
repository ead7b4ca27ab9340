/* extract.c - safe SDK archive extraction (see extract.h). */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700
#include "extract.h"
#include "base/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_NAME 4096
#define MAX_DEPTH 256

/* Lexically normalise path into comps (pointers into buf): drops "" and
 * "." components, resolves "..".  Returns the component count, or -1 when
 * ".." climbs above the start. */
static int normalise(char *buf, const char **comps, int max)
{
	int n = 0;
	for (char *save = NULL, *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			if (n == 0)
				return -1;
			n--;
			continue;
		}
		if (n == max)
			return -1;
		comps[n++] = c;
	}
	return n;
}

int ext_check_path(const char *archive, const char *name)
{
	char buf[MAX_NAME];
	const char *comps[MAX_DEPTH];
	if (!name || !*name)
		return error("refusing '%s': an entry has an empty or unreadable name", archive);
	if (strlen(name) >= sizeof(buf))
		return error("refusing '%s': entry name too long", archive);
	if (name[0] == '/')
		return error("refusing '%s': entry '%s' has an absolute path", archive, name);
	snprintf(buf, sizeof(buf), "%s", name);
	for (char *save = NULL, *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save))
		if (!strcmp(c, ".."))
			return error("refusing '%s': entry '%s' contains '..'", archive, name);
	snprintf(buf, sizeof(buf), "%s", name);
	int n = normalise(buf, comps, MAX_DEPTH);
	if (n < 1 || strcmp(comps[0], "go") != 0)
		return error("refusing '%s': entry '%s' is outside the top directory 'go/'", archive, name);
	return 0;
}

int ext_check_symlink(const char *archive, const char *path, const char *target)
{
	char buf[2 * MAX_NAME + 2];
	const char *comps[MAX_DEPTH];
	if (!target || !*target)
		return error("refusing '%s': symlink '%s' has an empty target", archive, path);
	if (target[0] == '/')
		return error("refusing '%s': symlink '%s' points to absolute path '%s'", archive, path, target);
	if (strlen(path) >= MAX_NAME || strlen(target) >= MAX_NAME)
		return error("refusing '%s': symlink '%s' is too long", archive, path);
	/* The target is relative to the link's directory. */
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path) : 0;
	snprintf(buf, sizeof(buf), "%.*s/%s", dirlen, path, target);
	int n = normalise(buf, comps, MAX_DEPTH);
	if (n < 1 || strcmp(comps[0], "go") != 0)
		return error("refusing '%s': symlink '%s' -> '%s' escapes the SDK root", archive, path, target);
	return 0;
}

static int copy_data(struct archive *in, struct archive *out, const char *archive,
		     const char *name, unsigned long long *total, unsigned long long limit)
{
	for (;;) {
		const void *p;
		size_t n;
		la_int64_t off;
		int r = archive_read_data_block(in, &p, &n, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_OK)
			return error("cannot read '%s' at '%s': %s", archive, name, archive_error_string(in));
		*total += n;
		if (*total > limit)
			return error("refusing '%s': more than %llu bytes extracted (%s)", archive, limit,
				     limit < EXT_MAX_BYTES ? "over 100 times the archive's size: a zip bomb?"
							   : "the most an SDK may have");
		if (archive_write_data_block(out, p, n, off) < ARCHIVE_OK)
			return error("cannot write '%s' from '%s': %s", name, archive, archive_error_string(out));
	}
}

/* Check one entry and rewrite its paths under root.  -1 refuses it. */
static int prepare_entry(struct archive_entry *e, const char *archive, const char *root)
{
	const char *name = archive_entry_pathname(e);
	if (ext_check_path(archive, name) < 0)
		return -1;
	char *full = NULL, *link = NULL;
	mode_t type = archive_entry_filetype(e);
	const char *hard = archive_entry_hardlink(e);
	if (hard) {
		/* One message, the hardlink's: the path check's own stays quiet. */
		int saved = error_quiet(1);
		int outside = ext_check_path(archive, hard) < 0;
		error_quiet(saved);
		if (outside)
			return error("refusing '%s': hardlink '%s' -> '%s' leaves the SDK root", archive, name, hard);
		link = xasprintf("%s/%s", root, hard);
		struct stat st;
		/* Only to a regular file already extracted, never via a symlink. */
		if (lstat(link, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(link);
			return error("refusing '%s': hardlink '%s' -> '%s' does not name a file extracted before it",
				     archive, name, hard);
		}
		archive_entry_set_hardlink(e, link);
		free(link);
	} else if (type == AE_IFLNK) {
		if (ext_check_symlink(archive, name, archive_entry_symlink(e)) < 0)
			return -1;
	} else if (type == AE_IFDIR) {
		archive_entry_set_perm(e, 0755);
	} else if (type == AE_IFREG) {
		archive_entry_set_perm(e, (archive_entry_perm(e) & 0111) ? 0755 : 0644);
	} else {
		return error("refusing '%s': entry '%s' is a device, fifo or socket", archive, name);
	}
	full = xasprintf("%s/%s", root, name);
	archive_entry_set_pathname(e, full);
	free(full);
	return 0;
}

unsigned long long ext_limit(unsigned long long archive_size)
{
	unsigned long long lim = EXT_RATIO_SLACK;
	if (archive_size > (EXT_MAX_BYTES - lim) / EXT_MAX_RATIO)
		return EXT_MAX_BYTES;
	return lim + archive_size * EXT_MAX_RATIO;
}

int ext_archive(const char *archive, const char *dest)
{
	int rc = -1;
	unsigned long long total = 0;
	size_t count = 0;
	char root[PATH_MAX];
	struct archive *in = archive_read_new();
	struct archive *out = archive_write_disk_new();
	if (!in || !out)
		fatal(EXIT_JOB, "out of memory");
	/* Absolute prefix without symlinks, so the secure-symlink check only
	 * ever sees symlinks from the archive. */
	if (!realpath(dest, root)) {
		error("cannot resolve '%s':", dest);
		goto out;
	}
	archive_read_support_format_tar(in);
	archive_read_support_format_gnutar(in);
	archive_read_support_format_zip(in);
	archive_read_support_filter_all(in);
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
					       ARCHIVE_EXTRACT_SECURE_NODOTDOT);
	struct stat ast;
	if (stat(archive, &ast) < 0) {
		error("cannot read archive '%s':", archive);
		goto out;
	}
	if (!S_ISREG(ast.st_mode)) { /* a FIFO would block the reader */
		error("refusing archive '%s': not a regular file", archive);
		goto out;
	}
	unsigned long long limit = ext_limit((unsigned long long)ast.st_size);
	if (archive_read_open_filename(in, archive, 1 << 16) != ARCHIVE_OK) {
		error("cannot open archive '%s': %s", archive, archive_error_string(in));
		goto out;
	}
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			error("cannot read archive '%s': %s", archive, archive_error_string(in));
			goto out;
		}
		if (++count > EXT_MAX_ENTRIES) {
			error("refusing '%s': more than %d entries", archive, EXT_MAX_ENTRIES);
			goto out;
		}
		char name[MAX_NAME];
		snprintf(name, sizeof(name), "%s", archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
		if (prepare_entry(e, archive, root) < 0)
			goto out;
		if (archive_write_header(out, e) < ARCHIVE_OK) {
			error("refusing '%s': cannot extract '%s': %s", archive, name, archive_error_string(out));
			goto out;
		}
		/* A declared size past the budget is refused before a byte of it
		 * is written; the budget is checked again on the actual bytes. */
		if (archive_entry_size_is_set(e) && (unsigned long long)archive_entry_size(e) > limit - total) {
			error("refusing '%s': entry '%s' declares %lld bytes, more than the %llu left to extract",
			      archive, name, (long long)archive_entry_size(e), limit - total);
			goto out;
		}
		if (archive_entry_size(e) > 0 && copy_data(in, out, archive, name, &total, limit) < 0)
			goto out;
		if (archive_write_finish_entry(out) < ARCHIVE_OK) {
			error("cannot extract '%s' from '%s': %s", name, archive, archive_error_string(out));
			goto out;
		}
	}
	if (archive_write_close(out) < ARCHIVE_OK) {
		error("cannot extract '%s': %s", archive, archive_error_string(out));
		goto out;
	}
	char *go = xasprintf("%s/go", root);
	struct stat st;
	int ok = lstat(go, &st) == 0 && S_ISDIR(st.st_mode);
	free(go);
	if (!ok) {
		error("'%s' has no top directory 'go/'; it is not a Go SDK archive", archive);
		goto out;
	}
	rc = 0;
out:
	archive_read_free(in);
	archive_write_free(out);
	return rc;
}
