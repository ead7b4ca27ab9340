#define _POSIX_C_SOURCE 200809L
#include "plan.h"
#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void plan_vars(const struct release *r, const struct job *j, struct tmpl_var *vars, char *scratch)
{
	char *variant = scratch, *target = scratch + 32;
	const char *ext = strcmp(j->target.goos, "windows") ? "" : ".exe";
	target_variant_suffix(&j->target, variant, 32);
	char v[32];
	memcpy(v, variant, sizeof(v));
	snprintf(target, PLAN_SCRATCH - 32, "%s_%s%s", j->target.goos, j->target.goarch, v);
	vars[0] = (struct tmpl_var){ "name", r->project };
	vars[1] = (struct tmpl_var){ "version", r->version };
	vars[2] = (struct tmpl_var){ "build", j->build->name };
	vars[3] = (struct tmpl_var){ "binary", j->build->binary };
	vars[4] = (struct tmpl_var){ "os", j->target.goos };
	vars[5] = (struct tmpl_var){ "arch", j->target.goarch };
	vars[6] = (struct tmpl_var){ "variant", variant };
	vars[7] = (struct tmpl_var){ "ext", ext };
	vars[8] = (struct tmpl_var){ "target", target };
}

int plan_path_ok(const char *path)
{
	if (!*path || *path == '/')
		return 0;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
		if (*p == '/')
			p++;
		else
			break;
	}
	return path[strlen(path) - 1] != '/';
}

static int add_job(struct plan *p, const struct build_decl *b, const struct target *t)
{
	const struct release *r = p->release;
	struct tmpl_var vars[PLAN_VARS];
	char scratch[PLAN_SCRATCH], where[256];
	p->jobs = xreallocarray(p->jobs, p->n + 1, sizeof(*p->jobs));
	struct job *j = &p->jobs[p->n];
	memset(j, 0, sizeof(*j));
	j->build = b;
	j->target = *t;
	target_id(t, j->id, sizeof(j->id));
	plan_vars(r, j, vars, scratch);
	snprintf(where, sizeof(where), "%s:%d: build '%s': output", r->path, b->line, b->name);
	if (tmpl_expand(b->output, vars, PLAN_VARS, where, &j->output) < 0)
		return -1;
	j->binary = xasprintf("%s%s", b->binary, strcmp(t->goos, "windows") ? "" : ".exe");
	j->static_link = b->static_link;
	p->n++;
	if (!plan_path_ok(j->output))
		return error("%s: \"%s\" gives '%s', which is not a relative path inside dist/", where, b->output,
			     j->output);
	for (size_t i = 0; i + 1 < p->n; i++) {
		const struct job *o = &p->jobs[i];
		if (!strcmp(o->output, j->output))
			return error("%s: build '%s' %s and build '%s' %s both write '%s' (put {os}, {arch} and "
				     "{variant} in the output template)",
				     r->path, o->build->name, o->id, b->name, j->id, j->output);
	}
	return 0;
}

int plan_make(const struct release *r, const struct port_table *ports, struct plan *p)
{
	memset(p, 0, sizeof(*p));
	p->release = r;
	for (size_t i = 0; i < r->nbuilds; i++) {
		const struct build_decl *b = &r->builds[i];
		struct target_list tl;
		if (mx_expand(&b->targets, ports, r->path, &tl) < 0)
			goto fail;
		for (size_t k = 0; k < tl.skipped.n; k++)
			strv_pushf(&p->skipped, "%s: %s", b->name, tl.skipped.v[k]);
		for (size_t k = 0; k < tl.n; k++)
			if (add_job(p, b, &tl.v[k]) < 0) {
				mx_list_release(&tl);
				goto fail;
			}
		mx_list_release(&tl);
	}
	return 0;
fail:
	plan_release(p);
	return -1;
}

void plan_release(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->jobs[i].output);
		free(p->jobs[i].binary);
	}
	free(p->jobs);
	strv_release(&p->skipped);
	memset(p, 0, sizeof(*p));
}
