/* xgo-build targets: every GOOS/GOARCH port with its flags. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "base/jsonx.h"
#include "matrix/ports.h"
#include "base/util.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

static const char targets_help[] =
	"usage: xgo-build targets [--json]\n"
	"\n"
	"List every GOOS/GOARCH port Go supports, whether it is a first-class port,\n"
	"whether cgo works on it, and the variant variable that applies to it\n"
	"(GOARM, GOAMD64, ...) with Go's default value.\n"
	"\n"
	"options:\n"
	"      --json          print a JSON array instead of a table\n"
	"  -h, --help          this text\n";

int cmd_targets(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, 0, 'J' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	int opt, json = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(targets_help, stdout);
			return EXIT_OK;
		}
		if (opt != 'J')
			return cli_bad_option("targets", argv);
		json = 1;
	}
	if (optind < argc)
		return cli_usage_error("targets", "unexpected argument '%s'", argv[optind]);
	struct port_table t;
	ports_builtin(&t);
	json_t *arr = json_array();
	if (!json)
		printf("%-10s %-9s %-11s %-3s  %s\n", "GOOS", "GOARCH", "FIRST-CLASS", "CGO", "VARIANT");
	for (size_t i = 0; i < t.n; i++) {
		const struct port *p = &t.ports[i];
		const struct variant_dim *v = variant_for_arch(p->goarch);
		char variant[48] = "-";
		if (v)
			snprintf(variant, sizeof(variant), "%s (default %s)", v->env, v->def);
		if (json)
			jx_push(arr, json_pack("{s:s, s:s, s:b, s:b, s:s?, s:s?}", "goos", p->goos,
							     "goarch", p->goarch, "first_class", p->first_class,
							     "cgo", p->cgo, "variant", v ? v->env : NULL,
							     "variant_default", v ? v->def : NULL));
		else
			printf("%-10s %-9s %-11s %-3s  %s\n", p->goos, p->goarch, p->first_class ? "yes" : "no",
			       p->cgo ? "yes" : "no", variant);
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	}
	json_decref(arr);
	ports_release(&t);
	return EXIT_OK;
}
