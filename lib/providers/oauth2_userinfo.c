/*
 * The UserInfo endpoint (OpenID Connect Core §5.3), as authentik's UserInfoView: a Bearer
 * access token of any provider; the claims are those of the token's provider's scope mappings
 * for the token's scopes, for the token's user, with the sub the token was issued with.
 *
 * The token comes in the Authorization header or, on POST, as the form's access_token (RFC 6750
 * §2.1, §2.2); never from the query string, where it would end up in access logs (RFC 6750
 * §2.3 leaves that method for when nothing else works). A missing, unknown, expired or revoked
 * token, one whose user is inactive, or one whose audience is not its provider's client is
 * 401 with WWW-Authenticate: Bearer error="invalid_token"; a token without the openid scope is
 * 403 insufficient_scope, as authentik answers.
 */
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "auth.h"
#include "bounds.h"
#include "json.h"
#include "log.h"
#include "providers/oauth2.h"
#include "providers/oauth2_endpoints.h"
#include "server.h"

/* --- pure helpers ------------------------------------------------------------------------ */

static int
b64token_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

const char *
cu_oauth2_bearer_token(const char *header, size_t *len)
{
	const char *p, *tok;
	size_t n = 0;

	*len = 0;
	if (header == NULL || strncasecmp(header, "Bearer", 6) != 0 ||
	    (header[6] != ' ' && header[6] != '\t'))
		return NULL;
	p = header + 6;
	while (*p == ' ' || *p == '\t')
		p++;
	tok = p;
	while (b64token_char((unsigned char)*p))
		p++;
	while (*p == '=')
		p++;
	n = (size_t)(p - tok);
	while (*p == ' ' || *p == '\t')
		p++;
	if (n == 0 || *p != '\0' || !b64token_char((unsigned char)tok[0]))
		return NULL;
	*len = n;
	return tok;
}

/* An origin's parts: scheme and host lower-cased, port explicit. */
struct origin {
	char or_scheme[8];
	char or_host[256];
	unsigned or_port;
};

/* Parses "scheme://host[:port]" followed by end (end_any 0) or by '/', '?', '#' or end
 * (end_any 1, for a URL). Only http and https; no userinfo. -1 when not of that form. */
static int
origin_parse(const char *s, int end_any, struct origin *o)
{
	const char *p = s, *h;
	size_t n;
	unsigned long port = 0;

	memset(o, 0, sizeof(*o));
	if (strncasecmp(p, "https://", 8) == 0) {
		memcpy(o->or_scheme, "https", 6);
		o->or_port = 443;
		p += 8;
	} else if (strncasecmp(p, "http://", 7) == 0) {
		memcpy(o->or_scheme, "http", 5);
		o->or_port = 80;
		p += 7;
	} else {
		return -1;
	}
	h = p;
	if (*p == '[') {
		while (*p != '\0' && *p != ']')
			p++;
		if (*p != ']')
			return -1;
		p++;
	} else {
		while (*p != '\0' && *p != ':' && *p != '/' && *p != '?' && *p != '#') {
			unsigned char c = (unsigned char)*p;

			if (c <= 0x20 || c >= 0x7f || c == '@' || c == '\\')
				return -1;
			p++;
		}
	}
	n = (size_t)(p - h);
	if (n == 0 || n >= sizeof(o->or_host))
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];

		o->or_host[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	o->or_host[n] = '\0';
	if (*p == ':') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9') {
			port = port * 10 + (unsigned long)(*p - '0');
			if (port > 65535)
				return -1;
			p++;
		}
		o->or_port = (unsigned)port;
	}
	if (*p == '\0')
		return 0;
	if (end_any && (*p == '/' || *p == '?' || *p == '#'))
		return 0;
	return -1;
}

int
cu_oauth2_origin_match(const char *origin, const char *url)
{
	struct origin a, b;

	if (origin == NULL || url == NULL || strlen(origin) > CU_OAUTH2_MAX_ORIGIN)
		return 0;
	if (origin_parse(origin, 0, &a) != 0 || origin_parse(url, 1, &b) != 0)
		return 0;
	return strcmp(a.or_scheme, b.or_scheme) == 0 && strcmp(a.or_host, b.or_host) == 0 &&
	       a.or_port == b.or_port;
}

/* --- the endpoint ------------------------------------------------------------------------ */

static void
bearer_error(struct cu_ctx *cx, int status, const char *code, const char *description)
{
	struct json_object *o = cu_json_object(cx->cx_arena);
	const char *h;

	cu_json_set_string(o, "error", code);
	cu_json_set_string(o, "error_description", description);
	cu_ctx_json(cx, status, o);
	h = cu_arena_printf(cx->cx_arena,
	                    "Bearer realm=\"authentik\", error=\"%s\", "
	                    "error_description=\"%s\"",
	                    code, description);
	if (cu_http_set_header(cx->cx_resp, "WWW-Authenticate", h) != 0 ||
	    cu_http_set_header(cx->cx_resp, "Cache-Control", "no-store") != 0 ||
	    cu_http_set_header(cx->cx_resp, "Pragma", "no-cache") != 0)
		cu_http_send_error(cx->cx_resp, 500, "Internal error.");
	cu_log(CU_LOG_INFO, "oauth2_userinfo_refused", CU_LS("error", code),
	       CU_LS("msg", description));
}

/* 1 when claims' aud is client_id or an array holding it. */
static int
aud_is(struct json_object *claims, const char *client_id)
{
	struct json_object *aud = NULL;
	size_t i, n;

	if (claims == NULL || !json_object_object_get_ex(claims, "aud", &aud) || aud == NULL)
		return 0;
	if (json_object_is_type(aud, json_type_string))
		return strcmp(json_object_get_string(aud), client_id) == 0;
	if (!json_object_is_type(aud, json_type_array))
		return 0;
	n = json_object_array_length(aud);
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(aud, i);

		if (json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), client_id) == 0)
			return 1;
	}
	return 0;
}

/* The token of the request: header or form, never both (RFC 6750 §2). *bad is set for a
 * malformed request (both, a repeated field, a header of another scheme). */
static const char *
request_token(struct cu_ctx *cx, int *bad)
{
	const char *h = cu_http_header(cx->cx_req, "authorization"), *t = NULL, *f = NULL;
	struct cu_kv *form = NULL;
	size_t nform = 0, len = 0;
	int repeated = 0;

	*bad = 0;
	if (h != NULL) {
		t = cu_oauth2_bearer_token(h, &len);
		if (t == NULL) {
			*bad = 1;
			return NULL;
		}
		t = cu_arena_strndup(cx->cx_arena, t, len);
	}
	if (cx->cx_req->rq_method == CU_HTTP_POST &&
	    cu_http_parse_form(cx->cx_req, cx->cx_arena, &form, &nform) == CU_OK)
		f = cu_oauth2_form_get(form, nform, "access_token", &repeated);
	if (repeated || (t != NULL && f != NULL)) {
		*bad = 1;
		return NULL;
	}
	return t != NULL ? t : f;
}

void
cu_oauth2_userinfo(struct cu_ctx *cx)
{
	struct cu_oauth2_access acc;
	const struct cu_oauth2_provider *p = NULL;
	struct cu_oauth2_user *user = NULL;
	struct json_object *out, *claims = NULL, *v = NULL;
	const char *token, *sub = NULL;
	int bad = 0;
	enum cu_err err;

	memset(&acc, 0, sizeof(acc));
	token = request_token(cx, &bad);
	if (bad) {
		bearer_error(cx, 400, "invalid_request", "The access token is malformed");
		return;
	}
	if (token == NULL || token[0] == '\0') {
		bearer_error(cx, 401, "invalid_token", "No access token given");
		return;
	}
	if (strlen(token) > CU_JOSE_MAX_TOKEN) {
		bearer_error(cx, 401, "invalid_token", "The access token is invalid");
		return;
	}
	err = cu_oauth2_access_find(cx, token, &acc);
	if (err == CU_ERR_NOT_FOUND) {
		bearer_error(cx, 401, "invalid_token", "The access token is invalid or expired");
		return;
	}
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "token");
		return;
	}
	err = cu_oauth2_provider_by_id(cx, acc.oa_provider_id, 0, &p);
	if (err == CU_OK)
		err = cu_oauth2_user_load(cx, acc.oa_user_id, &user);
	if (err == CU_OK && !user->ou_active)
		err = CU_ERR_NOT_FOUND;
	if (err == CU_ERR_NOT_FOUND) {
		bearer_error(cx, 401, "invalid_token", "The access token is invalid or expired");
		return;
	}
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "token");
		return;
	}
	/* A stored token always names its own provider's client; one that does not was not
	 * issued by this provider for this client, whatever the row says. */
	if (!aud_is(acc.oa_claims, p->op_client_id)) {
		cu_log(CU_LOG_WARNING, "oauth2_userinfo_audience", CU_LI("provider", p->op_id));
		bearer_error(cx, 401, "invalid_token", "The access token is not for this client");
		return;
	}
	if (!cu_oauth2_scopes_has(acc.oa_scopes, "openid")) {
		bearer_error(cx, 403, "insufficient_scope",
		             "The access token lacks the openid scope");
		return;
	}
	err = cu_oauth2_claims_of(cx, p, user, acc.oa_scopes, &claims);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "claims");
		return;
	}
	/* sub as issued first, then the mappings (which may set it), then the nonce: authentik's
	 * order. */
	out = cu_json_object(cx->cx_arena);
	if (cu_json_get_string(acc.oa_claims, "sub", &sub) == 0)
		cu_json_set_string(out, "sub", sub);
	if (claims != NULL && json_object_is_type(claims, json_type_object)) {
		json_object_object_foreach(claims, k, cv)
		{
			cu_json_set(out, k, json_object_get(cv));
		}
	}
	if (json_object_object_get_ex(acc.oa_claims, "nonce", &v) && v != NULL &&
	    json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0)
		cu_json_set(out, "nonce", json_object_get(v));
	cu_ctx_json(cx, 200, out);
	if (cu_http_set_header(cx->cx_resp, "Cache-Control", "no-store") != 0 ||
	    cu_http_set_header(cx->cx_resp, "Pragma", "no-cache") != 0)
		cu_http_send_error(cx->cx_resp, 500, "Internal error.");
	/* CORS for the token's provider's redirect URI origins, as authentik allows them. */
	{
		const char *origin = cu_http_header(cx->cx_req, "origin");
		size_t i, n;

		n = origin != NULL && p->op_redirect_uris != NULL
		        ? json_object_array_length(p->op_redirect_uris)
		        : 0;
		for (i = 0; i < n; i++) {
			struct json_object *u = json_object_array_get_idx(p->op_redirect_uris, i);
			const char *url = NULL, *mode = NULL;

			if (cu_json_get_string(u, "url", &url) != 0 ||
			    (cu_json_get_string(u, "matching_mode", &mode) == 0 &&
			     strcmp(mode, "strict") != 0) ||
			    !cu_oauth2_origin_match(origin, url))
				continue;
			if (cu_http_set_header(cx->cx_resp, "Access-Control-Allow-Origin",
			                       cu_arena_strdup(cx->cx_arena, origin)) != 0 ||
			    cu_http_set_header(cx->cx_resp, "Vary", "Origin") != 0 ||
			    cu_http_set_header(cx->cx_resp, "Access-Control-Allow-Credentials",
			                       "true") != 0)
				cu_log_msg(CU_LOG_WARNING, "oauth2_cors_failed",
				           "header table full");
			break;
		}
	}
}
