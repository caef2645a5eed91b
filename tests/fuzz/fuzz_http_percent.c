/*
 * cu_http_percent_decode on arbitrary bytes, both with and without '+' as space. What decodes
 * must hold no NUL, be no longer than its input, and survive being encoded and decoded again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(struct cu_arena *a, const char *s, size_t n, int plus)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = NULL, *again = NULL, *enc;
	size_t len = 0, len2 = 0, i, pct = 0;
	enum cu_err err;

	err = cu_http_percent_decode(a, s, n, plus, &out, &len);
	for (i = 0; i < n; i++)
		pct += s[i] == '%';
	if (err != CU_OK) {
		if (err != CU_ERR_INVALID || out != NULL || len != 0)
			abort();
		/* Only a '%' or a NUL can make decoding fail. */
		if (pct == 0 && memchr(s, '\0', n) == NULL)
			abort();
		return;
	}
	if (out == NULL || out[len] != '\0' || memchr(out, '\0', len) != NULL)
		abort();
	/* Every escape turns three bytes into one; nothing else changes length. */
	if (len != n - 2 * pct)
		abort();
	if (!plus && pct == 0 && memcmp(out, s, n) != 0)
		abort();

	enc = cu_arena_alloc(a, 3 * len + 1);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];

		enc[3 * i] = '%';
		enc[3 * i + 1] = hex[c >> 4];
		enc[3 * i + 2] = hex[c & 0xf];
	}
	if (cu_http_percent_decode(a, enc, 3 * len, plus, &again, &len2) != CU_OK)
		abort();
	if (len2 != len || memcmp(again, out, len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cu_arena a;

	cu_arena_init(&a);
	check(&a, (const char *)data, size, 0);
	check(&a, (const char *)data, size, 1);
	cu_arena_free(&a);
	return 0;
}
