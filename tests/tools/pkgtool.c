/* pkgtool - a test and benchmark driver for orchestrator/package and
 * orchestrator/checksums, until the CLI wires them in.
 *
 *   pkgtool archive [-f FORMAT] [-t EPOCH] [-l LEVEL] [-w] [-v] [-C DIR] [-x PATTERN[=DST]]...
 *                   DEST [PATH=SRC[:MODE]]...
 *       Writes DEST; prints "<size> <sha256> <compression> <level>".
 *       -w wraps the entries in a directory named after DEST; -x adds the
 *       files matching PATTERN under DIR (default "."); -v also prints
 *       the library versions (pkg_result.writer).
 *   pkgtool batch [-j N] [-f FORMAT] [-t EPOCH] [-l LEVEL] OUTDIR FILE...
 *       One archive per FILE (OUTDIR/<base><ext>, holding <base>), written
 *       by N threads sharing the list, as the lead's packaging pool would.
 *   pkgtool sums [-a ALGO] [-o NAME] [-e] DIR FILE...
 *       Writes DIR/NAME (default SHA256SUMS) for the FILEs in DIR; -e also
 *       writes one FILE.<algo> per file.
 *   pkgtool readsums [-a ALGO] FILE
 *       Parses FILE and prints "<name> <hex>" per line.
 *   pkgtool hash FILE
 *       Prints the sha256 of FILE (for the hashing benchmark).
 */
#define _POSIX_C_SOURCE 200809L
#include "orchestrator/checksums.h"
#include "orchestrator/package.h"
#include "base/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: pkgtool archive|sums|readsums|hash ... (see pkgtool.c)\n");
	return EXIT_USAGE;
}

/* "PATH=SRC[:MODE]" -> entry. */
static int add_entry_arg(struct pkg_entries *e, const char *arg)
{
	const char *eq = strchr(arg, '=');
	if (!eq)
		return error("entry '%s' is not PATH=SRC[:MODE]", arg);
	char *path = xstrndup(arg, (size_t)(eq - arg));
	char *src = xstrdup(eq + 1);
	char *colon = strrchr(src, ':');
	int mode = 0;
	if (colon) {
		*colon = '\0';
		mode = (int)strtol(colon + 1, NULL, 8);
	}
	pkg_entries_add(e, path, src, mode);
	free(path);
	free(src);
	return 0;
}

static int cmd_archive(int argc, char **argv)
{
	struct pkg_request req = { .format = PKG_TAR_GZ, .mtime = 0 };
	struct pkg_entries e = { 0 };
	struct archive_file files[64] = { 0 }; /* optional = 0: a pattern must match */
	size_t nfiles = 0;
	const char *dir = ".";
	int wrap = 0, opt, rc = EXIT_USAGE;
	char *stem = NULL;
	while ((opt = getopt(argc, argv, "f:t:l:wvC:x:")) != -1) {
		switch (opt) {
		case 'f':
			if (pkg_format_parse(optarg, &req.format) < 0)
				return usage();
			break;
		case 't':
			req.mtime = strtoll(optarg, NULL, 10);
			break;
		case 'l':
			req.level = atoi(optarg);
			break;
		case 'w':
			wrap = 1;
			break;
		case 'v':
			verbosity = 1;
			break;
		case 'C':
			dir = optarg;
			break;
		case 'x':
			if (nfiles == ARRAY_LEN(files))
				return usage();
			files[nfiles].src = optarg;
			files[nfiles].dst = strchr(optarg, '=');
			if (files[nfiles].dst)
				*files[nfiles].dst++ = '\0';
			nfiles++;
			break;
		default:
			return usage();
		}
	}
	if (optind >= argc)
		return usage();
	req.dest = argv[optind++];
	for (; optind < argc; optind++) {
		if (add_entry_arg(&e, argv[optind]) < 0)
			goto out;
	}
	if (pkg_expand_files(dir, files, nfiles, &e) < 0)
		goto out;
	if (wrap)
		req.wrap_dir = stem = pkg_stem(req.dest, req.format);
	req.entries = e.v;
	req.nentries = e.n;
	struct pkg_result res;
	if (pkg_write(&req, &res) < 0) {
		rc = EXIT_JOB;
		goto out;
	}
	printf("%llu %s %s %d\n", (unsigned long long)res.size, res.sha256, res.compression,
	       res.level);
	if (verbosity > 0)
		printf("writer: %s\n", res.writer);
	rc = 0;
out:
	free(stem);
	pkg_entries_release(&e);
	return rc;
}

struct batch {
	struct pkg_request proto; /* format, mtime, level */
	const char *outdir;
	char **files;
	size_t nfiles;
	atomic_size_t next;
	atomic_int failed;
};

static void *batch_worker(void *arg)
{
	struct batch *b = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&b->next, 1);
		if (i >= b->nfiles)
			return NULL;
		const char *slash = strrchr(b->files[i], '/');
		const char *base = slash ? slash + 1 : b->files[i];
		struct pkg_entry e = { (char *)base, b->files[i], 0 };
		struct pkg_request req = b->proto;
		struct pkg_result res;
		char *dest = xasprintf("%s/%s%s", b->outdir, base, pkg_format_ext(req.format));
		req.dest = dest;
		req.entries = &e;
		req.nentries = 1;
		if (pkg_write(&req, &res) < 0)
			atomic_store(&b->failed, 1);
		free(dest);
	}
}

static int cmd_batch(int argc, char **argv)
{
	struct batch b = { .proto = { .format = PKG_TAR_GZ } };
	pthread_t th[16];
	int jobs = 1, opt;
	while ((opt = getopt(argc, argv, "j:f:t:l:")) != -1) {
		switch (opt) {
		case 'j':
			jobs = atoi(optarg);
			break;
		case 'f':
			if (pkg_format_parse(optarg, &b.proto.format) < 0)
				return usage();
			break;
		case 't':
			b.proto.mtime = strtoll(optarg, NULL, 10);
			break;
		case 'l':
			b.proto.level = atoi(optarg);
			break;
		default:
			return usage();
		}
	}
	if (jobs < 1 || jobs > (int)ARRAY_LEN(th) || argc - optind < 2)
		return usage();
	b.outdir = argv[optind];
	b.files = argv + optind + 1;
	b.nfiles = (size_t)(argc - optind - 1);
	atomic_init(&b.next, 0);
	atomic_init(&b.failed, 0);
	for (int i = 0; i < jobs; i++) {
		if (pthread_create(&th[i], NULL, batch_worker, &b) != 0)
			fatal(EXIT_JOB, "cannot start a thread");
	}
	for (int i = 0; i < jobs; i++)
		pthread_join(th[i], NULL);
	return atomic_load(&b.failed) ? EXIT_JOB : 0;
}

static int cmd_sums(int argc, char **argv)
{
	enum hash_algo algo = HASH_SHA256;
	const char *name = NULL;
	int each = 0, opt, rc = EXIT_JOB;
	while ((opt = getopt(argc, argv, "a:o:e")) != -1) {
		switch (opt) {
		case 'a':
			if (hash_algo_parse(optarg, &algo) < 0)
				return usage();
			break;
		case 'o':
			name = optarg;
			break;
		case 'e':
			each = 1;
			break;
		default:
			return usage();
		}
	}
	if (optind >= argc)
		return usage();
	const char *dir = argv[optind++];
	struct sums s;
	sums_init(&s, algo);
	for (; optind < argc; optind++) {
		if (sums_add_file(&s, dir, argv[optind]) < 0)
			goto out;
	}
	char *path = xasprintf("%s/%s", dir, name ? name : sums_default_name(algo));
	int r = sums_write(&s, path);
	free(path);
	if (r < 0 || (each && sums_write_each(&s, dir) < 0))
		goto out;
	rc = 0;
out:
	sums_release(&s);
	return rc;
}

static int cmd_readsums(int argc, char **argv)
{
	enum hash_algo algo = HASH_SHA256;
	if (argc == 4 && !strcmp(argv[1], "-a") && hash_algo_parse(argv[2], &algo) == 0) {
		argv += 2;
		argc -= 2;
	}
	if (argc != 2)
		return usage();
	struct sums s;
	if (sums_read(argv[1], algo, &s) < 0)
		return EXIT_USAGE;
	for (size_t i = 0; i < s.n; i++)
		printf("%s %s\n", s.v[i].name, s.v[i].hex);
	sums_release(&s);
	return 0;
}

static int cmd_hash(int argc, char **argv)
{
	char hex[HASH_HEX_MAX];
	if (argc != 2)
		return usage();
	if (hash_file_hex(HASH_SHA256, argv[1], hex, NULL) < 0)
		return EXIT_JOB;
	printf("%s  %s\n", hex, argv[1]);
	return 0;
}

int main(int argc, char **argv)
{
	pkg_init();
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "archive"))
		return cmd_archive(argc - 1, argv + 1);
	if (!strcmp(argv[1], "batch"))
		return cmd_batch(argc - 1, argv + 1);
	if (!strcmp(argv[1], "sums"))
		return cmd_sums(argc - 1, argv + 1);
	if (!strcmp(argv[1], "readsums"))
		return cmd_readsums(argc - 1, argv + 1);
	if (!strcmp(argv[1], "hash"))
		return cmd_hash(argc - 1, argv + 1);
	return usage();
}
