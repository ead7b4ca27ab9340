/* fuzz_manifest - the one manifest reader (manifest_parse, manifest.h)
 * that merge, run --timings, verify --against and verify-release use,
 * through verify_parse_record, which also reads SHA256SUMS.
 * Invariants: a manifest accepted has every name passing path_check_name
 * and every recorded sha256 64 hex digits; every expected name is a safe
 * relative path with a 64-hex digest. */
#include "fuzz.h"
#include "orchestrator/manifest.h"
#include "base/path.h"
#include "orchestrator/verify.h"
#include "toolchains/lockfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *text = fuzz_str(d, n);
	json_t *expected = json_object();
	struct manifest m;
	error_quiet(1);
	if (verify_parse_record("manifest.json", text, n, expected, &m) == 0) {
		const char *name;
		json_t *v;
		FUZZ_CHECK(json_object_size(expected) > 0);
		json_object_foreach(expected, name, v) {
			FUZZ_CHECK(path_components_ok(name));
			FUZZ_CHECK(lock_is_hex64(json_string_value(v)));
		}
		for (size_t i = 0; i < m.njobs; i++) {
			FUZZ_CHECK(path_check_name("job", m.jobs[i].f.name) == 0);
			FUZZ_CHECK(!m.jobs[i].f.sha256 || lock_is_hex64(m.jobs[i].f.sha256));
		}
		for (size_t i = 0; i < m.narchives; i++)
			FUZZ_CHECK(path_check_name("archive", m.archives[i].name) == 0);
		FUZZ_CHECK(!m.checksums.file || path_check_name("checksums", m.checksums.file) == 0);
	}
	manifest_release(&m);
	json_decref(expected);
	free(text);
	return 0;
}
