#include "json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "bounds.h"
#include "mem.h"

int
cu_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		unsigned char lo = 0x80, hi = 0xbf; /* bounds of the second byte */
		size_t len, k;

		if (c < 0x80) {
			i++;
			continue;
		}
		/* The bounds on the second byte are what exclude overlong forms (E0, F0),
		 * surrogates (ED) and code points past U+10FFFF (F4). */
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return 0;
		for (k = 2; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
		}
		i += len;
	}
	return 1;
}

/*
 * What json-c leaves to its caller, even with JSON_TOKENER_STRICT:
 *  - a NUL byte, raw or escaped: json-c keeps object keys as C strings, so "a\u0000b" would
 *    silently become "a";
 *  - a raw control character inside a string (RFC 8259 wants them escaped);
 *  - NaN, Infinity, single-quoted strings and "1." (outside strings only the bytes JSON's
 *    grammar uses may appear, and a '.' must sit between digits);
 *  - nesting past CU_JSON_MAX_DEPTH arrays and objects. json-c's own limit counts a scalar
 *    inside a container as a level but not an empty container, so it is only the backstop.
 * Exact on valid JSON; what it lets through that is not JSON, json-c rejects.
 */
static int
prescan_ok(const char *s, size_t n)
{
	size_t i, depth = 0;
	int in_str = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0')
			return 0;
		if (in_str) {
			if (c < 0x20)
				return 0;
			if (c == '"') {
				in_str = 0;
			} else if (c == '\\' && i + 1 < n) {
				i++;
				if (s[i] == 'u' && n - i > 4 && memcmp(s + i + 1, "0000", 4) == 0)
					return 0;
			}
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > CU_JSON_MAX_DEPTH)
				return 0;
		} else if (c == ']' || c == '}') {
			if (depth > 0)
				depth--;
		} else if (c == '.') {
			if (i == 0 || i + 1 == n || s[i - 1] < '0' || s[i - 1] > '9' ||
			    s[i + 1] < '0' || s[i + 1] > '9')
				return 0;
		} else if (strchr(" \t\n\r,:-+0123456789eEtrufalsn", c) == NULL) {
			return 0;
		}
	}
	return 1;
}

static void
json_put(void *p)
{
	json_object_put(p);
}

enum cu_err
cu_json_parse(struct cu_arena *a, const char *s, size_t n, struct json_object **out)
{
	struct json_tokener *tok = NULL;
	struct json_object *o = NULL;
	enum json_tokener_error jerr;
	enum cu_err err = CU_ERR_INVALID;

	*out = NULL;
	if (n > CU_JSON_MAX_LEN) {
		err = CU_ERR_TOO_LARGE;
		goto out;
	}
	if (n == 0 || !prescan_ok(s, n) || !cu_utf8_valid(s, n))
		goto out;
	/* One level above the limit: json-c spends a level on a scalar inside the deepest
	 * container, which prescan_ok() already allows. */
	tok = json_tokener_new_ex(CU_JSON_MAX_DEPTH + 1);
	if (tok == NULL)
		cu_die("json_tokener_new_ex");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, s, (int)n);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		/* A top-level number has no end of its own: the NUL says the input is over. */
		o = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	} else if (jerr == json_tokener_success && json_tokener_get_parse_end(tok) != n) {
		goto out;
	}
	if (jerr != json_tokener_success)
		goto out;
	*out = cu_json_adopt(a, o);
	o = NULL;
	err = CU_OK;
out:
	if (o != NULL)
		json_object_put(o);
	if (tok != NULL)
		json_tokener_free(tok);
	return err;
}

struct json_object *
cu_json_adopt(struct cu_arena *a, struct json_object *o)
{
	if (o != NULL)
		cu_arena_defer(a, json_put, o);
	return o;
}

struct json_object *
cu_json_object(struct cu_arena *a)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		cu_die("json_object_new_object");
	return cu_json_adopt(a, o);
}

struct json_object *
cu_json_array(struct cu_arena *a)
{
	struct json_object *o = json_object_new_array();

	if (o == NULL)
		cu_die("json_object_new_array");
	return cu_json_adopt(a, o);
}

const char *
cu_json_text(struct json_object *o, size_t *len)
{
	size_t l = 0;
	const char *t;

	t = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &l);
	if (t == NULL)
		cu_die("json_object_to_json_string_length");
	if (len != NULL)
		*len = l;
	return t;
}

static struct json_object *
member(struct json_object *obj, const char *key, enum json_type type)
{
	struct json_object *v = NULL;

	if (obj == NULL || key == NULL || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

int
cu_json_get_string(struct json_object *obj, const char *key, const char **out)
{
	struct json_object *v = member(obj, key, json_type_string);
	const char *s;
	int len;

	if (v == NULL)
		return -1;
	s = json_object_get_string(v);
	len = json_object_get_string_len(v);
	/* Callers read the value as a C string, so one that is not all there is refused; so is
	 * one that is not UTF-8, which an object built outside cu_json_parse() may hold. */
	if (s == NULL || len < 0 || strlen(s) != (size_t)len || !cu_utf8_valid(s, (size_t)len))
		return -1;
	*out = s;
	return 0;
}

int
cu_json_get_int(struct json_object *obj, const char *key, int64_t *out)
{
	struct json_object *v = member(obj, key, json_type_int);
	int64_t i;

	if (v == NULL)
		return -1;
	i = json_object_get_int64(v);
	/* json-c's parser saturates out-of-range integers (strtoll and strtoull) without an
	 * error, and keeps values past INT64_MAX as uint64 that read back as INT64_MAX. So
	 * INT64_MIN and anything above INT64_MAX may stand for an overflow and are refused. */
	if (i == INT64_MIN || (i == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX))
		return -1;
	*out = i;
	return 0;
}

int
cu_json_get_bool(struct json_object *obj, const char *key, int *out)
{
	struct json_object *v = member(obj, key, json_type_boolean);

	if (v == NULL)
		return -1;
	*out = json_object_get_boolean(v) ? 1 : 0;
	return 0;
}

int
cu_json_get_object(struct json_object *obj, const char *key, struct json_object **out)
{
	struct json_object *v = member(obj, key, json_type_object);

	if (v == NULL)
		return -1;
	*out = v;
	return 0;
}

int
cu_json_get_array(struct json_object *obj, const char *key, struct json_object **out)
{
	struct json_object *v = member(obj, key, json_type_array);

	if (v == NULL)
		return -1;
	*out = v;
	return 0;
}

void
cu_json_set(struct json_object *obj, const char *key, struct json_object *child)
{
	/* json-c asserts on a non-object; a clear abort is better than that or a leak. */
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(child);
		cu_die("cu_json_set on a non-object");
	}
	if (json_object_object_add(obj, key, child) != 0) {
		json_object_put(child);
		cu_die("json_object_object_add");
	}
}

static struct json_object *
must(struct json_object *o)
{
	if (o == NULL)
		cu_die("json-c allocation");
	return o;
}

void
cu_json_set_string(struct json_object *obj, const char *key, const char *v)
{
	cu_json_set(obj, key, v == NULL ? NULL : must(json_object_new_string(v)));
}

void
cu_json_set_int(struct json_object *obj, const char *key, int64_t v)
{
	cu_json_set(obj, key, must(json_object_new_int64(v)));
}

void
cu_json_set_bool(struct json_object *obj, const char *key, int v)
{
	cu_json_set(obj, key, must(json_object_new_boolean(v != 0)));
}

void
cu_json_set_double(struct json_object *obj, const char *key, double v)
{
	char text[40];
	int n;

	/* json-c would print NaN and Infinity, which are not JSON. */
	if (!isfinite(v)) {
		cu_json_set(obj, key, NULL);
		return;
	}
	/* Shortest text that reads back as v for the values configs hold (0.1, not
	 * 0.10000000000000001), still marked as a float. */
	n = snprintf(text, sizeof(text), "%.15g", v);
	if (n > 0 && (size_t)n < sizeof(text) - 2 && strpbrk(text, ".eEn") == NULL) {
		text[n] = '.';
		text[n + 1] = '0';
		text[n + 2] = '\0';
	}
	cu_json_set(obj, key, must(json_object_new_double_s(v, text)));
}
