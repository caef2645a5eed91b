/*
 * cu_flow_next_is_local on arbitrary ?next= values: every flow's query reaches it, and what it
 * accepts the executor sends the browser to. Invariants: an accepted value starts with exactly
 * one '/', holds no backslash or control character, and neither does any percent-decoded form
 * of it; nothing crashes. The first line is also parsed as a whole query string, as the
 * executor parses the page's query before looking at next.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "flows.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The strict check the fuzzer holds the function to, written the plain way. */
static int
shape_ok(const char *s)
{
	const unsigned char *p;

	if (s[0] != '/' || s[1] == '/' || s[1] == '\\')
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cu_arena a;
	struct cu_kv *kv = NULL;
	size_t n = 0, i, len;
	char *s, *cur;

	if (size > 8192)
		return 0;
	cu_arena_init(&a);
	s = cu_arena_strndup(&a, (const char *)data, size);
	len = strlen(s);
	if (cu_flow_next_is_local(s)) {
		/* Every decoding of an accepted value keeps the shape. */
		cur = s;
		for (i = 0; i < 8; i++) {
			char *out = NULL;
			size_t olen = 0;

			if (!shape_ok(cur))
				abort();
			if (cu_http_percent_decode(&a, cur, strlen(cur), 0, &out, &olen) != CU_OK)
				abort();
			if (strcmp(out, cur) == 0)
				break;
			cur = out;
		}
	}
	if (cu_http_parse_urlencoded(&a, s, len, CU_HTTP_MAX_PARAMS, &kv, &n) == CU_OK)
		for (i = 0; i < n; i++)
			if (strcmp(kv[i].kv_key, "next") == 0 &&
			    cu_flow_next_is_local(kv[i].kv_val) && !shape_ok(kv[i].kv_val))
				abort();
	cu_arena_free(&a);
	return 0;
}
