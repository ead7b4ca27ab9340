/* fuzz_goreleaser - the GoReleaser config translator (orchestrator/goreleaser.c).
 * Input: a .goreleaser.yaml; its text is also tried as one template.
 * Invariants: an accepted config gives release.lua text within the output
 * bound; a template either translates or names why not. */
#include "fuzz.h"
#include "orchestrator/goreleaser.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static char path[128];
	if (!path[0])
		snprintf(path, sizeof(path), "%s/.goreleaser.yaml", fuzz_tmpdir());
	error_quiet(1);
	fuzz_write(path, d, n);
	struct gr_options o = { .project_dir = fuzz_tmpdir(), .project_name = "fuzz", .go_version = "1.26.8" };
	struct gr_result r;
	if (gr_translate(path, &o, &r) == 0) {
		FUZZ_CHECK(r.lua.data != NULL && r.lua.len <= GR_MAX_OUTPUT);
		FUZZ_CHECK(strstr(r.lua.data, "go \"1.26.8\"") != NULL);
		gr_result_release(&r);
	}
	char *s = fuzz_str(d, n > 4096 ? 4096 : n);
	char *lua = NULL, *why = NULL;
	int rc = gr_template(s, n & 1, &lua, &why);
	FUZZ_CHECK(rc == 0 ? lua != NULL && why == NULL : lua == NULL && why != NULL);
	free(lua);
	free(why);
	free(s);
	return 0;
}
