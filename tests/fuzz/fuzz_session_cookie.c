/*
 * cu_sessions_cookie_sid and cu_sessions_csrf_ok on arbitrary cookie and header values: every
 * browser request's authentik_session and authentik_csrf cookies reach them. Invariant: no
 * forged value is ever accepted (an accepted cookie must be one this key signed, which random
 * input never is), and nothing crashes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "config.h"
#include "http.h"
#include "server.h"
#include "sessions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char key[] = "fuzzing secret key";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cu_arena a;
	struct cu_config cfg;
	struct cu_http_request req;
	struct cu_kv cookies[2], headers[1];
	struct cu_ctx cx;
	const uint8_t *nl = memchr(data, '\n', size);
	char *first, *second;
	size_t flen = nl != NULL ? (size_t)(nl - data) : size;

	cu_arena_init(&a);
	memset(&cfg, 0, sizeof(cfg));
	memset(&req, 0, sizeof(req));
	memset(&cx, 0, sizeof(cx));
	cfg.secret_key = key;
	cx.cx_cfg = &cfg;
	cx.cx_arena = &a;
	cx.cx_req = &req;
	first = cu_arena_strndup(&a, (const char *)data, flen);
	second = cu_arena_strndup(&a, nl != NULL ? (const char *)nl + 1 : "",
	                          nl != NULL ? size - flen - 1 : 0);
	cookies[0] = (struct cu_kv){CU_SESSIONS_COOKIE, first, strlen(first)};
	cookies[1] = (struct cu_kv){CU_SESSIONS_CSRF_COOKIE, first, strlen(first)};
	headers[0] = (struct cu_kv){CU_SESSIONS_CSRF_HEADER, second, strlen(second)};
	req.rq_cookies = cookies;
	req.rq_ncookies = 2;
	req.rq_headers = headers;
	req.rq_nheaders = 1;
	if (cu_sessions_cookie_sid(&cx) != NULL)
		abort();
	/* CSRF: the two halves agree only when they carry the same secret. */
	if (cu_sessions_csrf_ok(&cx) && strlen(first) != 32 && strlen(first) != 64)
		abort();
	cu_arena_free(&a);
	return 0;
}
