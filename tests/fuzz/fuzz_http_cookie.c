/*
 * cu_http_parse_cookies on arbitrary bytes. Every cookie it returns must be one custos could
 * have set: cu_http_set_cookie accepts it, and the Set-Cookie line parses back to the same pair.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "http.h"
#include "bounds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
round_trip(struct cu_arena *a, const struct cu_kv *kv)
{
	struct cu_http_response r;
	struct cu_cookie_opts o = {NULL, NULL, -1, 1, 1, "Lax"};
	const char *line;
	struct cu_kv *back = NULL;
	size_t n = 0;

	if (strlen(kv->kv_key) + kv->kv_vlen > CU_HTTP_MAX_HEADER_LEN - 64)
		return;
	cu_http_response_init(&r);
	if (cu_http_set_cookie(&r, a, kv->kv_key, kv->kv_val, &o) != 0)
		abort();
	line = r.rs_headers[r.rs_nheaders - 1].kv_val;
	if (cu_http_parse_cookies(a, line, strlen(line), &back, &n) != CU_OK || n < 1)
		abort();
	if (strcmp(back[0].kv_key, kv->kv_key) != 0 || strcmp(back[0].kv_val, kv->kv_val) != 0)
		abort();
	cu_http_response_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cu_arena a;
	struct cu_kv *kv = NULL;
	size_t n = 0, i;
	enum cu_err err;

	cu_arena_init(&a);
	err = cu_http_parse_cookies(&a, (const char *)data, size, &kv, &n);
	if (err != CU_OK) {
		if ((err != CU_ERR_INVALID && err != CU_ERR_TOO_LARGE) || kv != NULL || n != 0)
			abort();
		goto out;
	}
	if (n > CU_HTTP_MAX_COOKIES || (n > 0 && kv == NULL))
		abort();
	for (i = 0; i < n; i++) {
		if (kv[i].kv_key[0] == '\0' || strlen(kv[i].kv_val) != kv[i].kv_vlen)
			abort();
		if (strpbrk(kv[i].kv_key, "=; \t\"") != NULL || strpbrk(kv[i].kv_val, "; \t\",\\"))
			abort();
		/* The __Host- and __Secure- prefixes are met by the options used. */
		round_trip(&a, &kv[i]);
	}
out:
	cu_arena_free(&a);
	return 0;
}
