/* test_actcache.c - cache/actcache: a stored result comes back
 * byte for byte, a corrupt content is a miss that drops the entry, an
 * entry is used only for the job it names and only when its bytes are an
 * executable of the job's platform, signatures (acsign) verify only with
 * the signer's key, and gc keeps what fits, newest first. */
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
#include <sys/time.h>
#include <unistd.h>

#include "cache/acsign.h"
#include "cache/actcache.h"
#include "base/binfmt.h"
#include "base/hash.h"
#include "base/util.h"
#include "tests/unit/unit.h"

#define KEY1 "1111111111111111111111111111111111111111111111111111111111111111"
#define KEY2 "2222222222222222222222222222222222222222222222222222222222222222"

/* What the tests store: an archive (no platform check) and two jobs. */
static const struct ac_for ARC = { "", "", "p_1.0.tar.gz", NULL, NULL };
static const struct ac_for LINUX = { "a", "linux/amd64", "a_linux_amd64/a", "linux", "amd64" };
static const struct ac_for WINDOWS = { "a", "windows/amd64", "a_windows_amd64/a.exe", "windows", "amd64" };

static int setup(void **state)
{
	verbosity = -1;
	return unit_setup(state);
}

/* Write len bytes to <unit_dir>/name and store them under key for f; fills e. */
static void put_bytes(struct actcache *c, const char *key, const struct ac_for *f, const char *name,
		      const void *data, size_t len, struct ac_entry *e)
{
	char *path = xasprintf("%s/%s", unit_dir, name);
	assert_int_equal(write_file_atomic(path, data, len, 0644), 0);
	memset(e, 0, sizeof(*e));
	assert_int_equal(hash_file_hex(HASH_SHA256, path, e->sha256, &e->size), 0);
	actcache_put(c, key, f, path, e);
	free(path);
}

static void put(struct actcache *c, const char *key, const char *name, const char *text, struct ac_entry *e)
{
	put_bytes(c, key, &ARC, name, text, strlen(text), e);
}

/* The first bytes of an x86-64 or arm64 ELF and of an amd64 PE. */
static void fake_elf(unsigned char *d, size_t n, unsigned machine)
{
	memset(d, 0, n);
	memcpy(d, "\x7f" "ELF\x02\x01\x01", 7);
	d[18] = (unsigned char)(machine & 0xff);
	d[19] = (unsigned char)(machine >> 8);
}

static void fake_pe(unsigned char *d, size_t n)
{
	memset(d, 0, n);
	d[0] = 'M', d[1] = 'Z', d[0x3c] = 0x40;
	memcpy(d + 0x40, "PE\0\0\x64\x86", 6);
}

static char *ac_path(const char *key)
{
	return xasprintf("%s/actions/ac/%s", unit_dir, key);
}

static void test_actcache__put_then_get_is_the_same_bytes(void **state)
{
	struct actcache *c = actcache_open(unit_dir, NULL);
	struct ac_entry e, got;
	assert_non_null(c);
	put(c, KEY1, "a", "the artifact\n", &e);
	char *out = xasprintf("%s/out", unit_dir);
	assert_int_equal(actcache_get(c, KEY1, &ARC, out, 0644, &got), 1);
	assert_string_equal(got.sha256, e.sha256);
	size_t len;
	char *back = read_file(out, 1024, &len);
	assert_string_equal(back, "the artifact\n");
	assert_int_equal(actcache_get(c, KEY2, &ARC, out, 0644, &got), 0);
	assert_int_equal(actcache_get(c, "not-a-key", &ARC, out, 0644, &got), 0);
	unsigned l, r, s;
	actcache_stats(c, &l, &r, &s);
	assert_int_equal(l, 1);
	assert_int_equal(s, 1);
	free(back);
	free(out);
	actcache_close(c);
}

static void test_actcache__corrupt_content_is_a_miss_and_dropped(void **state)
{
	struct actcache *c = actcache_open(unit_dir, NULL);
	struct ac_entry e, got;
	put(c, KEY1, "a", "the artifact\n", &e);
	char *blob = xasprintf("%s/actions/cas/%s", unit_dir, e.sha256);
	chmod(blob, 0644);
	assert_int_equal(write_file_atomic(blob, "tampered\n", 9, 0644), 0);
	char *out = xasprintf("%s/out", unit_dir);
	assert_int_equal(actcache_get(c, KEY1, &ARC, out, 0644, &got), 0);
	assert_int_not_equal(access(out, F_OK), 0); /* nothing half-written */
	assert_int_not_equal(access(blob, F_OK), 0);
	char *entry = xasprintf("%s/actions/ac/%s", unit_dir, KEY1);
	assert_int_not_equal(access(entry, F_OK), 0);
	free(entry);
	free(blob);
	free(out);
	actcache_close(c);
}

static void test_actcache__swapped_entries_are_misses_and_dropped(void **state)
{
	struct actcache *c = actcache_open(unit_dir, NULL);
	struct ac_entry e1, e2, got;
	unsigned char elf[128], pe[128];
	fake_elf(elf, sizeof(elf), 62);
	fake_pe(pe, sizeof(pe));
	put_bytes(c, KEY1, &LINUX, "a", elf, sizeof(elf), &e1);
	put_bytes(c, KEY2, &WINDOWS, "a.exe", pe, sizeof(pe), &e2);
	char *out = xasprintf("%s/out", unit_dir), *p1 = ac_path(KEY1), *p2 = ac_path(KEY2), *p3 = ac_path("x");
	assert_int_equal(actcache_get(c, KEY1, &LINUX, out, 0755, &got), 1);
	assert_string_equal(got.sha256, e1.sha256);
	/* swap the two files in ac/ */
	assert_int_equal(rename(p1, p3), 0);
	assert_int_equal(rename(p2, p1), 0);
	assert_int_equal(rename(p3, p2), 0);
	unlink(out);
	assert_int_equal(actcache_get(c, KEY1, &LINUX, out, 0755, &got), 0);
	assert_int_not_equal(access(out, F_OK), 0);
	assert_int_not_equal(access(p1, F_OK), 0); /* dropped */
	assert_int_equal(actcache_get(c, KEY2, &WINDOWS, out, 0755, &got), 0);
	assert_int_not_equal(access(p2, F_OK), 0);
	/* the same digest asked for another job (or another output) */
	put_bytes(c, KEY1, &LINUX, "a", elf, sizeof(elf), &e1);
	struct ac_for other = LINUX;
	other.output = "elsewhere/a";
	assert_int_equal(actcache_get(c, KEY1, &other, out, 0755, &got), 0);
	free(out);
	free(p1);
	free(p2);
	free(p3);
	actcache_close(c);
}

static void test_actcache__content_must_be_an_executable_of_the_platform(void **state)
{
	struct actcache *c = actcache_open(unit_dir, NULL);
	struct ac_entry e, got;
	unsigned char pe[128], arm[128], elf[128];
	fake_pe(pe, sizeof(pe));
	fake_elf(arm, sizeof(arm), 183);
	fake_elf(elf, sizeof(elf), 62);
	char *out = xasprintf("%s/out", unit_dir), *entry = ac_path(KEY1);
	/* an entry naming the linux job whose bytes are a PE, then an arm64 ELF */
	put_bytes(c, KEY1, &LINUX, "a", pe, sizeof(pe), &e);
	assert_int_equal(actcache_get(c, KEY1, &LINUX, out, 0755, &got), 0);
	assert_int_not_equal(access(out, F_OK), 0);
	assert_int_not_equal(access(entry, F_OK), 0);
	put_bytes(c, KEY1, &LINUX, "a", arm, sizeof(arm), &e);
	assert_int_equal(actcache_get(c, KEY1, &LINUX, out, 0755, &got), 0);
	put_bytes(c, KEY1, &LINUX, "a", "#!/bin/sh\n", 10, &e);
	assert_int_equal(actcache_get(c, KEY1, &LINUX, out, 0755, &got), 0);
	put_bytes(c, KEY1, &LINUX, "a", elf, sizeof(elf), &e);
	assert_int_equal(actcache_get(c, KEY1, &LINUX, out, 0755, &got), 1);
	char what[64];
	assert_int_equal(binfmt_is_for(pe, sizeof(pe), "windows", "amd64", what, sizeof(what)), 1);
	assert_string_equal(what, "pe/amd64");
	assert_int_equal(binfmt_is_for(arm, sizeof(arm), "linux", "arm64", what, sizeof(what)), 1);
	assert_int_equal(binfmt_is_for(arm, sizeof(arm), "darwin", "arm64", what, sizeof(what)), 0);
	elf[7] = 9; /* marked for FreeBSD */
	assert_int_equal(binfmt_is_for(elf, sizeof(elf), "linux", "amd64", what, sizeof(what)), 0);
	assert_int_equal(binfmt_is_for(elf, sizeof(elf), "freebsd", "amd64", what, sizeof(what)), 1);
	free(out);
	free(entry);
	actcache_close(c);
}

static void test_actcache__an_older_entry_layout_is_a_quiet_miss(void **state)
{
	struct actcache *c = actcache_open(unit_dir, NULL);
	struct ac_entry e, got;
	put(c, KEY1, "a", "content\n", &e);
	char *entry = ac_path(KEY1), *out = xasprintf("%s/out", unit_dir);
	char *v1 = xasprintf("{\"cpu_s\":0,\"sha256\":\"%s\",\"size\":8,\"wall_s\":0}", e.sha256);
	assert_int_equal(write_file_atomic(entry, v1, strlen(v1), 0644), 0);
	assert_int_equal(actcache_get(c, KEY1, &ARC, out, 0644, &got), 0);
	free(v1);
	free(out);
	free(entry);
	actcache_close(c);
}

static void test_acsign__only_the_signers_key_verifies(void **state)
{
	char *p1 = xasprintf("%s/one", unit_dir), *p2 = xasprintf("%s/two", unit_dir);
	char *pub1, *pub2, *key1 = xasprintf("%s.key", p1), *file1 = xasprintf("%s.pub", p1);
	assert_int_equal(acsign_keygen(p1, &pub1), 0);
	assert_int_equal(acsign_keygen(p2, &pub2), 0);
	char *none;
	assert_int_equal(acsign_keygen(p1, &none), -1); /* never replaces a key */
	assert_null(none);
	struct stat st;
	assert_int_equal(stat(key1, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	struct acsign signer = { 0 }, by_file = { 0 }, by_b64 = { 0 }, other = { 0 };
	assert_int_equal(acsign_set_signer(&signer, "test", key1), 0);
	assert_int_equal(acsign_add_trusted(&by_file, "test", "one.pub", unit_dir), 0);
	assert_int_equal(acsign_add_trusted(&by_b64, "test", pub1, NULL), 0);
	assert_int_equal(acsign_add_trusted(&other, "test", pub2, NULL), 0);
	assert_int_equal(acsign_add_trusted(&other, "test", "../etc/passwd", unit_dir), -1);
	assert_int_equal(acsign_add_trusted(&other, "test", file1, NULL), 0);
	assert_int_equal(acsign_set_signer(&other, "test", file1), -1); /* a public key cannot sign */
	char *sig = acsign_sign(&signer, "entry\0bytes", 11);
	assert_non_null(sig);
	assert_null(acsign_sign(&by_file, "entry", 5));
	assert_int_equal(acsign_verify(&by_file, "entry\0bytes", 11, sig), 1);
	assert_int_equal(acsign_verify(&by_b64, "entry\0bytes", 11, sig), 1);
	assert_int_equal(acsign_verify(&by_b64, "entry\0bytez", 11, sig), 0);
	assert_int_equal(acsign_verify(&by_b64, "entry\0bytes", 11, NULL), 0);
	assert_int_equal(acsign_verify(&by_b64, "entry\0bytes", 11, "not base64!"), 0);
	struct acsign two = { 0 };
	assert_int_equal(acsign_add_trusted(&two, "test", pub2, NULL), 0);
	assert_int_equal(acsign_verify(&two, "entry\0bytes", 11, sig), 0);
	assert_int_equal(acsign_verify(&other, "entry\0bytes", 11, sig), 1); /* holds key one as a file */
	acsign_release(&signer);
	acsign_release(&by_file);
	acsign_release(&by_b64);
	acsign_release(&other);
	acsign_release(&two);
	free(sig);
	free(pub1);
	free(pub2);
	free(key1);
	free(file1);
	free(p1);
	free(p2);
}

static void test_actcache__gc_keeps_the_newest_that_fit(void **state)
{
	struct actcache *c = actcache_open(unit_dir, NULL);
	struct ac_entry e1, e2;
	put(c, KEY1, "a", "older and longer content\n", &e1);
	put(c, KEY2, "b", "newer\n", &e2);
	char *old = xasprintf("%s/actions/ac/%s", unit_dir, KEY1);
	struct timeval tv[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	assert_int_equal(utimes(old, tv), 0);
	actcache_close(c);
	struct ac_usage u, removed;
	assert_int_equal(actcache_usage(unit_dir, &u), 0);
	assert_int_equal(u.entries, 2);
	assert_int_equal(u.bytes, e1.size + e2.size);
	assert_int_equal(actcache_gc(unit_dir, e2.size, 0, &removed), 0);
	assert_int_equal(removed.entries, 1);
	assert_int_equal(removed.bytes, e1.size);
	assert_int_not_equal(access(old, F_OK), 0);
	assert_int_equal(actcache_usage(unit_dir, &u), 0);
	assert_int_equal(u.entries, 1);
	/* by age: the remaining entry is new */
	assert_int_equal(actcache_gc(unit_dir, 0, 86400, &removed), 0);
	assert_int_equal(removed.entries, 0);
	free(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_actcache__put_then_get_is_the_same_bytes, setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_actcache__corrupt_content_is_a_miss_and_dropped, setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_actcache__swapped_entries_are_misses_and_dropped, setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_actcache__content_must_be_an_executable_of_the_platform, setup,
						unit_teardown),
		cmocka_unit_test_setup_teardown(test_actcache__an_older_entry_layout_is_a_quiet_miss, setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_acsign__only_the_signers_key_verifies, setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_actcache__gc_keeps_the_newest_that_fit, setup, unit_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
