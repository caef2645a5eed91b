/*
 * The token endpoint's request parsing (cu_oauth2_token_request_parse): a form body, the
 * Authorization header's Basic credentials and the scope parameter. Input: the header value up
 * to the first newline (none when the input starts with a newline), then the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "bounds.h"
#include "http.h"
#include "json.h"
#include "providers/oauth2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A parsed value is a C string within its limit. */
static void
check_len(const char *v, size_t max)
{
	if (v != NULL && (strlen(v) == 0 || strlen(v) > max))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cu_arena a;
	struct cu_oauth2_token_request tr;
	struct cu_kv *form = NULL;
	const char *nl = memchr(data, '\n', size), *header = NULL, *body;
	size_t n = 0, blen, i;
	int rc;

	cu_arena_init(&a);
	if (nl != NULL) {
		header =
		    cu_arena_strndup(&a, (const char *)data, (size_t)(nl - (const char *)data));
		body = nl + 1;
		blen = size - (size_t)(nl + 1 - (const char *)data);
	} else {
		body = (const char *)data;
		blen = size;
	}
	if (cu_http_parse_urlencoded(&a, body, blen, CU_HTTP_MAX_PARAMS, &form, &n) != CU_OK)
		goto out;
	rc = cu_oauth2_token_request_parse(&a, header, form, n, &tr);
	if (rc != 0) {
		if (rc != -1 || tr.tr_error == NULL)
			abort();
		goto out;
	}
	if (tr.tr_error != NULL || tr.tr_grant_type == NULL || tr.tr_scopes == NULL)
		abort();
	check_len(tr.tr_grant_type, CU_OAUTH2_MAX_PARAM);
	check_len(tr.tr_code, CU_OAUTH2_MAX_PARAM);
	check_len(tr.tr_refresh_token, CU_OAUTH2_MAX_PARAM);
	check_len(tr.tr_client_assertion, CU_OAUTH2_MAX_ASSERTION);
	if (tr.tr_basic &&
	    (tr.tr_client_id == NULL || strlen(tr.tr_client_id) > CU_OAUTH2_MAX_CLIENT_ID))
		abort();
	/* Scopes: distinct, within the count, each a non-empty run of RFC 6749 characters. */
	if (json_object_array_length(tr.tr_scopes) > CU_OAUTH2_MAX_SCOPES)
		abort();
	for (i = 0; i < json_object_array_length(tr.tr_scopes); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(tr.tr_scopes, i));
		size_t j;

		if (s == NULL || s[0] == '\0' || strchr(s, ' ') != NULL || strchr(s, '"') != NULL ||
		    strchr(s, '\\') != NULL)
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(s, json_object_get_string(
			                  json_object_array_get_idx(tr.tr_scopes, j))) == 0)
				abort();
	}
out:
	cu_arena_free(&a);
	return 0;
}
