/*
 * json-c through one wrapper (STYLE rule 14): bounded depth, UTF-8 checked, type-checked
 * getters, and objects tied to the request arena.
 */
#ifndef CU_JSON_H
#define CU_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"

struct json_object;

/* 1 when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF). */
int cu_utf8_valid(const char *s, size_t n);

/*
 * Parses exactly one JSON value from s[0..n) (RFC 8259, with whitespace around it allowed):
 * CU_ERR_INVALID on bad syntax (NaN, Infinity, comments and single quotes included), invalid
 * UTF-8, a NUL byte (raw or as \u0000), a raw control character inside a string, trailing
 * garbage or depth past CU_JSON_MAX_DEPTH; CU_ERR_TOO_LARGE past CU_JSON_MAX_LEN. Depth counts
 * nested arrays and objects: "[]" and "[1]" are 1, "1" is 0, so CU_JSON_MAX_DEPTH nested arrays
 * parse and one more does not. *out is arena-owned (released at reset); NULL on error and for a
 * top-level null, which json-c represents so.
 */
enum cu_err cu_json_parse(struct cu_arena *a, const char *s, size_t n, struct json_object **out)
    __attribute__((warn_unused_result));

/* Ties o (a new reference) to the arena: released at reset. Returns o. */
struct json_object *cu_json_adopt(struct cu_arena *a, struct json_object *o);
/* A new empty object / array, arena-owned. */
struct json_object *cu_json_object(struct cu_arena *a);
struct json_object *cu_json_array(struct cu_arena *a);

/* Compact text of o, owned by o (valid while o lives); *len may be NULL. No "\/" escaping. */
const char *cu_json_text(struct json_object *o, size_t *len);

/*
 * Getters: 0 and *out set when key exists with that type; -1 otherwise. Borrowed from obj.
 * A string with an embedded NUL or invalid UTF-8 is refused; an integer is refused when it may
 * have overflowed (INT64_MIN, past INT64_MAX), since json-c saturates rather than failing. A
 * double is not an int.
 */
int cu_json_get_string(struct json_object *obj, const char *key, const char **out)
    __attribute__((warn_unused_result));
int cu_json_get_int(struct json_object *obj, const char *key, int64_t *out)
    __attribute__((warn_unused_result));
int cu_json_get_bool(struct json_object *obj, const char *key, int *out)
    __attribute__((warn_unused_result));
int cu_json_get_object(struct json_object *obj, const char *key, struct json_object **out)
    __attribute__((warn_unused_result));
int cu_json_get_array(struct json_object *obj, const char *key, struct json_object **out)
    __attribute__((warn_unused_result));

/* Setters on an object (abort when obj is not one); v == NULL for the string setter and a NaN
 * or infinite double write null. */
void cu_json_set_string(struct json_object *obj, const char *key, const char *v);
void cu_json_set_int(struct json_object *obj, const char *key, int64_t v);
void cu_json_set_bool(struct json_object *obj, const char *key, int v);
void cu_json_set_double(struct json_object *obj, const char *key, double v);
/* Adds child, taking over the caller's reference. */
void cu_json_set(struct json_object *obj, const char *key, struct json_object *child);

#endif
