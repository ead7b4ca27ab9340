/* test_manifest.c - orchestrator/manifest: host paths become placeholders
 * only where they stand as whole paths, longest first, in every string;
 * the one reader gives back what the writer wrote and refuses every bad
 * shape (a missing field, a wrong type, a duplicate key, a name outside,
 * too big, a FIFO, a symlink out of its directory) with one message. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lua/release.h"
#include "base/hash.h"
#include "orchestrator/manifest.h"
#include "orchestrator/plan.h"
#include "base/util.h"
#include "tests/unit/unit.h"

static const struct manifest_place places[] = {
	{ "/home/u/.cache/xgo-build", "/<cache>" },
	{ "/home/u/.cache/xgo-build/sdk/go", "/<sdk>" },
	{ "/home/u", "/<home>" },
	{ "/", "/<root>" },  /* too short: skipped */
	{ NULL, "/<none>" }, /* not known: skipped */
};

static const char *placed(const char *in)
{
	static char out[512];
	json_t *v = json_pack("{s:[s]}", "k", in);
	assert_int_equal(manifest_place_json(v, places, ARRAY_LEN(places)), 0);
	snprintf(out, sizeof(out), "%s", json_string_value(json_array_get(json_object_get(v, "k"), 0)));
	json_decref(v);
	return out;
}

static void test_manifest__place_whole_paths_longest_first(void **state)
{
	(void)state;
	assert_string_equal(placed("GOROOT=/home/u/.cache/xgo-build/sdk/go"), "GOROOT=/<sdk>");
	assert_string_equal(placed("PATH=/home/u/.cache/xgo-build/sdk/go/bin:/usr/bin"), "PATH=/<sdk>/bin:/usr/bin");
	assert_string_equal(placed("/home/u/.cache/xgo-build/gomodcache"), "/<cache>/gomodcache");
	assert_string_equal(placed("-o /home/u/p/dist"), "-o /<home>/p/dist");
}

static void test_manifest__place_leaves_other_paths(void **state)
{
	(void)state;
	assert_string_equal(placed("/home/user/x"), "/home/user/x");       /* a longer name */
	assert_string_equal(placed("/srv/home/u/x"), "/srv/home/u/x");     /* not at a path's start */
	assert_string_equal(placed("/home/u.bak"), "/home/u.bak");
	assert_string_equal(placed("no paths"), "no paths");
}

static const char release_text[] =
	"project { name = 'hello', version = '1.2.3' }\n"
	"go '1.26.8'\n"
	"build 'app' { targets = matrix { goos = { 'linux' }, goarch = { 'amd64', 'arm64' } } }\n";

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* A manifest written by manifest_write, of a real plan, read back. */
static void test_manifest__writer_round_trips(void **state)
{
	(void)state;
	struct release r;
	struct plan p;
	assert_int_equal(unit_plan(release_text, &r, &p), 0);
	assert_int_equal(p.n, 2);
	struct sdk sdk = { .version = "1.26.8", .platform = "linux-amd64", .filename = "go.tgz",
			   .tree_digest = HEX_A, .archive_sha256 = HEX_B };
	struct result res[2];
	memset(res, 0, sizeof(res));
	for (size_t i = 0; i < 2; i++) {
		res[i] = (struct result){ .job = &p.jobs[i], .started = 1, .done = 1, .wall = 1.5, .size = 42 };
		snprintf(res[i].sha256, sizeof(res[i].sha256), "%s", i ? HEX_B : HEX_A);
		strv_push(&res[i].env, "GOOS=linux");
		strv_push(&res[i].argv, "go");
	}
	res[1].cached = 1;
	res[1].built_wall = 7;
	json_t *arcs = json_pack("[{s:s, s:s, s:s, s:[{s:s, s:s}]}]", "name", "hello_1.2.3_linux_amd64.tar.gz",
				 "sha256", HEX_A, "target", "linux/amd64", "binaries", "build", "app", "target",
				 "linux/amd64");
	struct manifest_in in = { .release = &r, .sdk = &sdk, .sde = "1700000000", .sde_source = "default",
				  .isolation = "none", .gosum_digest = "", .source_digest = HEX_B, .plan = &p,
				  .results = res, .parallel = 1, .procs = 1, .archives = arcs,
				  .checksums_file = "SHA256SUMS" };
	unit_mkdir("d");
	char *path = unit_path("d/manifest.json"), *dir = unit_path("d");
	assert_int_equal(manifest_write(path, &in), 0);
	struct manifest m;
	assert_int_equal(manifest_load_dir(&m, dir), 0);
	assert_int_equal(m.schema, 1);
	assert_string_equal(m.tool_version, XGO_VERSION);
	assert_string_equal(m.sdk_version, "1.26.8");
	assert_string_equal(m.sdk_platform, "linux-amd64");
	assert_string_equal(m.sdk_tree_digest, HEX_A);
	assert_string_equal(m.release_digest, r.digest);
	assert_string_equal(m.source_digest, HEX_B);
	assert_string_equal(m.sde, "1700000000");
	assert_true(m.sde_value == 1700000000);
	assert_int_equal(m.njobs, 2);
	assert_string_equal(m.jobs[0].f.build, "app");
	assert_string_equal(m.jobs[0].f.target, p.jobs[0].id);
	assert_string_equal(m.jobs[0].f.name, p.jobs[0].output);
	assert_string_equal(m.jobs[0].f.sha256, HEX_A);
	assert_true(m.jobs[0].f.size == 42);
	assert_true(m.jobs[0].duration_s == 1.5 && !m.jobs[0].cached);
	assert_true(m.jobs[1].cached && m.jobs[1].built_duration_s == 7);
	assert_string_equal(json_string_value(json_array_get(m.jobs[1].env, 0)), "GOOS=linux");
	assert_int_equal(m.narchives, 1);
	assert_string_equal(m.archives[0].name, "hello_1.2.3_linux_amd64.tar.gz");
	assert_string_equal(m.archives[0].build, "app");
	assert_string_equal(m.archives[0].target, "linux/amd64");
	assert_true(m.archives[0].size == -1); /* not written */
	assert_string_equal(m.checksums.file, "SHA256SUMS");
	assert_string_equal(m.checksums.algorithm, "sha256");
	assert_null(m.shard);
	assert_int_equal(m.npackages + m.nsboms + m.nsigs, 0);
	/* the bytes' digest, as run --timings records it */
	size_t len;
	char *text = read_file(path, MANIFEST_MAX_BYTES, &len), hex[65];
	hash_bytes_hex(HASH_SHA256, text, len, hex);
	assert_string_equal(m.sha256, hex);
	free(text);
	manifest_release(&m);
	json_decref(arcs);
	for (size_t i = 0; i < 2; i++) {
		strv_release(&res[i].env);
		strv_release(&res[i].argv);
	}
	free(path);
	free(dir);
	plan_release(&p);
	release_clear(&r);
}

#define GOOD_HEAD                                                                                                   \
	"{\"schema\": 1, \"tool\": {\"version\": \"1\"}, \"sdk\": {\"version\": \"1.26.8\", \"platform\": \"p\"}, "
#define GOOD_JOB "{\"build\": \"a\", \"target\": \"linux/amd64\", \"output\": \"a_linux/a\", \"sha256\": \"" HEX_A "\"}"

/* text parsed as "'m'": 0, or -1 with error_last() holding needle. */
static void refused(const char *text, const char *needle)
{
	struct manifest m;
	assert_int_equal(manifest_parse(&m, "'m'", text, strlen(text)), -1);
	assert_null(m.doc);
	if (!strstr(error_last(), needle))
		fail_msg("'%s' does not say '%s'", error_last(), needle);
}

static void test_manifest__reader_accepts_the_minimal_shape(void **state)
{
	(void)state;
	static const char text[] = GOOD_HEAD "\"jobs\": [" GOOD_JOB "], \"archives\": []}";
	struct manifest m;
	assert_int_equal(manifest_parse(&m, "'m'", text, strlen(text)), 0);
	assert_int_equal(m.njobs, 1);
	assert_null(m.checksums.file);
	assert_string_equal(m.sdk_tree_digest, "");
	assert_true(m.jobs[0].duration_s == -1 && m.jobs[0].built_duration_s == -1);
	manifest_release(&m);
}

/* A shard's record (shard.h), typed for merge. */
static void test_manifest__reader_types_the_shard_record(void **state)
{
	(void)state;
	static const char text[] = GOOD_HEAD "\"jobs\": [], \"archives\": [], \"shard\": {\"index\": 2, \"count\": 3, "
					     "\"overlap\": null, \"targets\": [\"linux/amd64\"], \"plan\": "
					     "[{\"build\": \"a\", \"target\": \"linux/amd64\", \"output\": \"o\"}]}}";
	struct manifest m;
	assert_int_equal(manifest_parse(&m, "'m'", text, strlen(text)), 0);
	assert_non_null(m.shard);
	assert_int_equal(m.shard_rec.index, 2);
	assert_int_equal(m.shard_rec.count, 3);
	assert_null(m.shard_rec.overlap);
	assert_int_equal(json_array_size(m.shard_rec.targets), 1);
	assert_int_equal(m.shard_rec.nplan, 1);
	assert_string_equal(m.shard_rec.plan[0].output, "o");
	manifest_release(&m);
}

static void test_manifest__reader_refuses_bad_shapes(void **state)
{
	(void)state;
	refused("[1]", "'m': not a manifest.json: not a JSON object");
	refused("{\"schema\": 1,", "'m': not a manifest.json: line 1");
	refused(GOOD_HEAD "\"archives\": []}", "not a manifest.json: jobs is missing");
	refused(GOOD_HEAD "\"jobs\": {}, \"archives\": []}", "jobs is not a list");
	refused(GOOD_HEAD "\"jobs\": [1], \"archives\": []}", "jobs[0] is not an object");
	refused(GOOD_HEAD "\"jobs\": [{\"build\": \"a\", \"target\": \"t\", \"output\": 5}], \"archives\": []}",
		"jobs[0].output is not a string");
	refused(GOOD_HEAD "\"jobs\": [{\"build\": \"a\", \"output\": \"x\"}], \"archives\": []}",
		"jobs[0].target is missing");
	refused(GOOD_HEAD "\"jobs\": [" GOOD_JOB "], \"archives\": [{\"name\": \"a.tgz\", \"sha256\": \"zz\"}]}",
		"archives[0].sha256 'zz' is not 64 hex digits");
	refused(GOOD_HEAD "\"jobs\": [{\"build\": \"a\", \"target\": \"t\", \"output\": \"x\", \"duration_s\": -1}], "
			  "\"archives\": []}",
		"jobs[0].duration_s is negative");
	refused(GOOD_HEAD "\"jobs\": [{\"build\": \"a\", \"target\": \"t\", \"output\": \"x\", \"size\": \"1\"}], "
			  "\"archives\": []}",
		"jobs[0].size is not an integer");
	refused(GOOD_HEAD "\"jobs\": [" GOOD_JOB "], \"archives\": [], \"checksums\": {\"file\": \"S\"}}",
		"checksums.algorithm is missing");
	refused(GOOD_HEAD "\"jobs\": [" GOOD_JOB "], \"archives\": [], \"signatures\": [{\"file\": \"x\"}]}",
		"signatures[0].signs is missing");
	refused("{\"schema\": 2, \"jobs\": [], \"archives\": []}", "schema 2 is not 1");
	refused("{\"tool\": {\"version\": \"1\"}}", "schema is missing");
	refused(GOOD_HEAD "\"jobs\": [], \"archives\": [], \"shard\": []}", "shard is not an object");
	refused(GOOD_HEAD "\"jobs\": [], \"archives\": [], \"shard\": {\"index\": 1, \"count\": 2, \"targets\": [], "
			  "\"plan\": [{\"build\": \"a\", \"target\": \"t\"}]}}",
		"shard.plan[0].output is missing");
}

static void test_manifest__reader_refuses_duplicate_keys(void **state)
{
	(void)state;
	refused(GOOD_HEAD "\"jobs\": [], \"jobs\": [" GOOD_JOB "], \"archives\": []}", "duplicate object key");
	refused(GOOD_HEAD "\"jobs\": [{\"build\": \"a\", \"build\": \"b\"}], \"archives\": []}",
		"duplicate object key");
}

/* Names are paths: path.h's rule, with merge's field names. */
static void test_manifest__reader_refuses_names_outside(void **state)
{
	(void)state;
	refused(GOOD_HEAD "\"jobs\": [{\"build\": \"a\", \"target\": \"t\", \"output\": \"/tmp/x\"}], "
			  "\"archives\": []}",
		"'m': job output '/tmp/x' is an absolute path");
	refused(GOOD_HEAD "\"jobs\": [" GOOD_JOB "], \"archives\": [{\"name\": \"../evil.tar.gz\"}]}",
		"'m': archive name '../evil.tar.gz' has an empty, '.' or '..' component");
	refused(GOOD_HEAD "\"jobs\": [], \"archives\": [], \"sboms\": [{\"name\": \"a\\\\b\"}]}", "'m': SBOM name");
	refused(GOOD_HEAD "\"jobs\": [], \"archives\": [], \"packages\": [{\"name\": \"\"}]}", "'m': package name");
	refused(GOOD_HEAD "\"jobs\": [], \"archives\": [], "
			  "\"checksums\": {\"file\": \"../../x\", \"algorithm\": \"sha256\"}}",
		"'m': checksums.file '../../x' has an empty, '.' or '..' component");
	refused(GOOD_HEAD "\"jobs\": [], \"archives\": [], \"signatures\": [{\"file\": \"/k\", \"signs\": \"S\", "
			  "\"format\": \"minisign\"}]}",
		"'m': signature file '/k' is an absolute path");
}

/* The file: bounded, regular, and inside its directory. */
static void test_manifest__reader_refuses_bad_files(void **state)
{
	(void)state;
	struct manifest m;
	unit_mkdir("big");
	char *big = unit_path("big/manifest.json"), *dir = unit_path("big");
	FILE *f = fopen(big, "w");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), (off_t)MANIFEST_MAX_BYTES + 1), 0); /* sparse: no 64 MiB written */
	fclose(f);
	assert_int_equal(manifest_load_dir(&m, dir), -1);
	assert_non_null(strstr(error_last(), "is larger than"));
	free(big);
	free(dir);

	unit_mkdir("fifo");
	char *fifo = unit_path("fifo/manifest.json");
	dir = unit_path("fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(manifest_load_dir(&m, dir), -1); /* does not block */
	assert_non_null(strstr(error_last(), "not a regular file"));
	free(fifo);
	free(dir);

	unit_mkdir("link");
	unit_write("outside.json", GOOD_HEAD "\"jobs\": [], \"archives\": []}", 0644);
	char *link = unit_path("link/manifest.json");
	dir = unit_path("link");
	assert_int_equal(symlink("../outside.json", link), 0);
	assert_int_equal(manifest_load_dir(&m, dir), -1);
	assert_non_null(strstr(error_last(), "'manifest.json' leads to"));
	assert_non_null(strstr(error_last(), "outside"));
	char *outside = unit_path("outside.json");
	assert_int_equal(manifest_load(&m, NULL, outside), 0); /* a file the user named may be a link */
	manifest_release(&m);
	assert_int_equal(manifest_load(&m, "--timings 'x'", link), 0);
	manifest_release(&m);
	free(outside);
	free(link);
	free(dir);

	dir = unit_path("none");
	assert_int_equal(manifest_load_dir(&m, dir), -1);
	assert_non_null(strstr(error_last(), "cannot read"));
	assert_null(m.doc);
	free(dir);
}

int main(void)
{
	unit_group = "manifest";
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest__place_whole_paths_longest_first),
		cmocka_unit_test(test_manifest__place_leaves_other_paths),
		UNIT_TEST(test_manifest__writer_round_trips),
		UNIT_TEST(test_manifest__reader_accepts_the_minimal_shape),
		UNIT_TEST(test_manifest__reader_types_the_shard_record),
		UNIT_TEST(test_manifest__reader_refuses_bad_shapes),
		UNIT_TEST(test_manifest__reader_refuses_duplicate_keys),
		UNIT_TEST(test_manifest__reader_refuses_names_outside),
		UNIT_TEST(test_manifest__reader_refuses_bad_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
