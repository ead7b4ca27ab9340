/* fuzz_template - the template expander (orchestrator/template.c).
 * Input: a template, optionally "\0value" for the {variant} variable.
 * Invariants: output bounded by TMPL_MAX; an accepted template without
 * braces expands to itself; "{{" and the unavailable {tag} are refused. */
#include "fuzz.h"
#include "orchestrator/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *s = fuzz_str(d, n);
	size_t tl = strlen(s);
	const char *variant = tl < n ? s + tl + 1 : "_v7";
	struct tmpl_var vars[] = {
		{ "name", "hello", NULL }, { "version", "1.2.3", NULL }, { "os", "linux", NULL },
		{ "arch", "arm", NULL },   { "variant", variant, NULL }, { "ext", ".exe", NULL },
		{ "tag", NULL, "no tag" },
	};
	char *out = NULL;
	error_quiet(1);
	if (tmpl_expand(s, vars, ARRAY_LEN(vars), "fuzz", &out) == 0) {
		FUZZ_CHECK(out != NULL);
		FUZZ_CHECK(strlen(out) <= TMPL_MAX);
		if (!strchr(s, '{') && !strchr(s, '}'))
			FUZZ_CHECK(strcmp(out, s) == 0);
		FUZZ_CHECK(!strstr(s, "{{") && !strstr(s, "{tag}"));
	} else {
		FUZZ_CHECK(out == NULL);
	}
	free(out);
	free(s);
	return 0;
}
