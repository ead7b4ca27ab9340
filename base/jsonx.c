#define _POSIX_C_SOURCE 200809L
#include "jsonx.h"
#include "util.h"

#include <stdlib.h>

void jx_set(json_t *o, const char *key, json_t *v)
{
	if (json_object_set_new(o, key, v) < 0)
		fatal(EXIT_JOB, "cannot record '%s' in a JSON document: a value that is not valid UTF-8, or out of "
		      "memory", key);
}

void jx_push(json_t *a, json_t *v)
{
	if (json_array_append_new(a, v) < 0)
		fatal(EXIT_JOB, "cannot add to a JSON list: a value that is not valid UTF-8, or out of memory");
}

void jx_update(json_t *o, json_t *other)
{
	if (json_object_update(o, other) < 0)
		fatal(EXIT_JOB, "cannot merge JSON records: out of memory");
}

json_t *jx_text(const char *text)
{
	json_t *s = json_string(text);
	if (s)
		return s;
	char *copy = xstrdup(text);
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	s = json_string(copy);
	free(copy);
	return s;
}
