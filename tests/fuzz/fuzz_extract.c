/* fuzz_extract - the SDK archive extractor (toolchains/extract.c), fed
 * tar (any filter) or zip bytes.
 *
 * Invariant: nothing is written outside the destination.  The layout is
 *   T/in.archive   the input
 *   T/box/dest/    the destination (empty before each run)
 * and after each run T/ must hold exactly in.archive and box, box/ exactly
 * dest, and every path under dest/ that resolves must resolve inside dest
 * (no symlink leading out). */
#include "fuzz.h"
#include "toolchains/extract.h"

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>

static char top[96], archive[128], box[128], dest[160], real_dest[PATH_MAX];

/* The names in dir, other than . and .., must be exactly the ones given. */
static void only(const char *dir, const char *a, const char *b)
{
	DIR *d = opendir(dir);
	FUZZ_CHECK(d != NULL);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (strcmp(e->d_name, a) && (!b || strcmp(e->d_name, b))) {
			fprintf(stderr, "extract wrote '%s' outside its root, in '%s'\n", e->d_name, dir);
			abort();
		}
	}
	closedir(d);
}

/* Every entry under dir resolves inside real_dest. */
static void inside(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	if (!d || depth > 64) {
		if (d)
			closedir(d);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char p[PATH_MAX], r[PATH_MAX];
		if (snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= (int)sizeof(p))
			continue;
		if (realpath(p, r)) {
			size_t k = strlen(real_dest);
			if (strncmp(r, real_dest, k) || (r[k] && r[k] != '/')) {
				fprintf(stderr, "extracted '%s' resolves to '%s', outside '%s'\n", p, r, real_dest);
				abort();
			}
		}
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			inside(p, depth + 1);
	}
	closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (!top[0]) {
		snprintf(top, sizeof(top), "%s", fuzz_tmpdir());
		snprintf(archive, sizeof(archive), "%s/in.archive", top);
		snprintf(box, sizeof(box), "%s/box", top);
		snprintf(dest, sizeof(dest), "%s/box/dest", top);
	}
	fuzz_write(archive, d, n);
	remove_tree(box);
	FUZZ_CHECK(mkdir_p(dest, 0755) == 0);
	FUZZ_CHECK(realpath(dest, real_dest) != NULL);
	error_quiet(1);
	ext_archive(archive, dest);
	only(top, "in.archive", "box");
	only(box, "dest", NULL);
	inside(dest, 0);
	/* remove_tree must not follow a symlink out either. */
	FUZZ_CHECK(remove_tree(box) == 0);
	only(top, "in.archive", NULL);
	return 0;
}
