/*
 * cu_http_parse_urlencoded on arbitrary bytes: query strings and form bodies. The first byte
 * picks the pair limit so that the limit itself is exercised, not only CU_HTTP_MAX_PARAMS.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "http.h"
#include "bounds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cu_arena a;
	struct cu_kv *kv = NULL;
	size_t n = 0, i, max = CU_HTTP_MAX_PARAMS, ampersands = 0;
	const char *s;
	enum cu_err err;

	if (size > 0 && data[0] < 16) {
		max = data[0];
		data++;
		size--;
	}
	s = (const char *)data;
	cu_arena_init(&a);
	err = cu_http_parse_urlencoded(&a, s, size, max, &kv, &n);
	for (i = 0; i < size; i++)
		ampersands += s[i] == '&';
	if (err != CU_OK) {
		if ((err != CU_ERR_INVALID && err != CU_ERR_TOO_LARGE) || kv != NULL || n != 0)
			abort();
		goto out;
	}
	if (n > max || n > ampersands + 1 || (n > 0 && kv == NULL))
		abort();
	for (i = 0; i < n; i++) {
		size_t klen = strlen(kv[i].kv_key);

		/* No NUL inside: the C string and the recorded length agree. */
		if (strlen(kv[i].kv_val) != kv[i].kv_vlen)
			abort();
		if (klen + kv[i].kv_vlen > size)
			abort();
		/* An empty pair is skipped, never returned. */
		if (klen == 0 && kv[i].kv_vlen == 0 && memchr(s, '=', size) == NULL)
			abort();
	}
out:
	cu_arena_free(&a);
	return 0;
}
