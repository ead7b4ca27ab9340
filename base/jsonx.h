/* jsonx.h - jansson inserts whose failure is never ignored.
 *
 * json_object_set_new and json_array_append_new return -1, and the document
 * silently lacks the field, when the value is NULL: json_string or json_pack
 * given a string that is not UTF-8, or no memory.  Records built from
 * untrusted text check each result and refuse the whole record
 * (manifest.c, archives.c arc_manifest); everywhere else the strings are
 * known to be text (validated where they came in, or passed through
 * jx_text), so a failure means no memory, and these end the program
 * with an error as xmalloc does.
 */
#ifndef XGO_JSONX_H
#define XGO_JSONX_H

#include <jansson.h>

/* json_object_set_new(o, key, v), fatal on failure; steals v. */
void jx_set(json_t *o, const char *key, json_t *v);
/* json_array_append_new(a, v), fatal on failure; steals v. */
void jx_push(json_t *a, json_t *v);
/* json_object_update(o, other), fatal on failure; other is borrowed. */
void jx_update(json_t *o, json_t *other);
/* A JSON string of text that may not be UTF-8 (a log tail, a compiler's
 * version line): bytes that are not become '?'. */
json_t *jx_text(const char *text);

#endif
