/*
 * The OAuth2 endpoints' parsers of what clients send (lib/providers/oauth2_endpoints.h): the
 * Authorization: Bearer header, the Origin header against a redirect URI, the user code typed
 * at /device. The input is "header\norigin\nurl" (missing parts are empty). Invariants: a
 * Bearer token is a non-empty b64token inside the header; a normalised user code is exactly
 * CU_OAUTH2_USER_CODE_LEN digits; an origin matches a URL only when both are http(s); an
 * origin that matches a URL matches it again, and escaping keeps only unreserved characters.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "bounds.h"
#include "providers/oauth2_endpoints.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
b64token_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cu_arena a;
	char *s, *origin = "", *url = "", *nl, code[CU_OAUTH2_USER_CODE_LEN + 1];
	const char *tok, *esc;
	size_t n = 0, i;

	if (size > 8192)
		return 0;
	cu_arena_init(&a);
	s = cu_arena_strndup(&a, (const char *)data, size);
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		origin = nl + 1;
		if ((nl = strchr(origin, '\n')) != NULL) {
			*nl = '\0';
			url = nl + 1;
		}
	}
	tok = cu_oauth2_bearer_token(s, &n);
	if (tok != NULL) {
		if (n == 0 || tok < s || tok + n > s + strlen(s))
			abort();
		for (i = 0; i < n; i++)
			if (!b64token_char((unsigned char)tok[i]))
				abort();
	}
	if (cu_oauth2_user_code_normalize(code, sizeof(code), s) == 0) {
		if (strlen(code) != CU_OAUTH2_USER_CODE_LEN)
			abort();
		for (i = 0; i < CU_OAUTH2_USER_CODE_LEN; i++)
			if (code[i] < '0' || code[i] > '9')
				abort();
	}
	if (cu_oauth2_origin_match(origin, url)) {
		if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
			abort();
		if (!cu_oauth2_origin_match(origin, url))
			abort();
	}
	esc = cu_oauth2_query_escape(&a, s);
	for (i = 0; esc[i] != '\0'; i++)
		if (esc[i] != '%' && !b64token_char((unsigned char)esc[i]))
			abort();
	(void)cu_oauth2_logout_redirect(&a, url, origin);
	cu_arena_free(&a);
	return 0;
}
