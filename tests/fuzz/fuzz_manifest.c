/* fuzz_manifest - the reader of published records that `verify --against`
 * trusts: manifest.json and SHA256SUMS (orchestrator/verify.c).
 * Invariant: every expected name is a safe relative path with a 64-hex
 * digest. */
#include "fuzz.h"
#include "orchestrator/path.h"
#include "orchestrator/verify.h"
#include "toolchains/lockfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *text = fuzz_str(d, n);
	json_t *expected = json_object(), *doc = NULL;
	error_quiet(1);
	if (verify_parse_record("manifest.json", text, n, expected, &doc) == 0) {
		const char *name;
		json_t *v;
		FUZZ_CHECK(json_object_size(expected) > 0);
		json_object_foreach(expected, name, v) {
			FUZZ_CHECK(path_components_ok(name));
			FUZZ_CHECK(lock_is_hex64(json_string_value(v)));
		}
	}
	json_decref(doc);
	json_decref(expected);
	free(text);
	return 0;
}
