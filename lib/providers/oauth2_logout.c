/*
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at
 * /application/o/<slug>/end-session/, as authentik's EndSessionView: the provider's
 * invalidation flow (else the brand's) runs in the browser, and at its end the browser goes to
 * the post_logout_redirect_uri, when that is one of the provider's registered redirect URIs of
 * type "logout", with state appended.
 *
 * Beyond authentik, which ignores it, an id_token_hint is checked: it must be signed with the
 * provider's key in the provider's algorithm (so "none", another algorithm and an HMAC keyed
 * with a public key are refused, lib/jose.h), and its audience must be the provider's client.
 * An expired hint is fine (the spec expects them). A hint that fails is a 400: whoever sent it
 * is not the relying party it claims to be, and is not sent anywhere.
 *
 * As authentik does, the provider's access tokens of the browser's session are deleted, and a
 * provider with back-channel logout gets its logout token (a task for worker/oauth2_actor.c):
 * the relying party's grants end with its session at the provider, whose login goes on.
 */
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "auth.h"
#include "bounds.h"
#include "buf.h"
#include "db.h"
#include "flows.h"
#include "jose.h"
#include "json.h"
#include "log.h"
#include "providers/oauth2.h"
#include "providers/oauth2_endpoints.h"
#include "providers/oauth2_redirect.h"
#include "server.h"
#include "sessions.h"
#include "tasks.h"

/* authentik's plan context key for the redirect its session end stage follows. */
#define LOGOUT_CTX_REDIRECT "goauthentik.io/providers/oauth2/post_logout_redirect_uri"

/* --- pure helpers ------------------------------------------------------------------------ */

char *
cu_oauth2_query_escape(struct cu_arena *a, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s), i, o = 0;
	char *out = cu_arena_alloc(a, 3 * n + 1);

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

const char *
cu_oauth2_logout_redirect(struct cu_arena *a, const char *uri, const char *state)
{
	if (state == NULL || state[0] == '\0')
		return uri;
	return cu_arena_printf(a, "%s%cstate=%s", uri, strchr(uri, '?') != NULL ? '&' : '?',
	                       cu_oauth2_query_escape(a, state));
}

/* --- the endpoint ------------------------------------------------------------------------ */

/* The request's parameters: the query on GET, the form on POST (as authentik reads them). */
static int
logout_params(struct cu_ctx *cx, struct cu_kv **kv, size_t *n)
{
	if (cx->cx_req->rq_method == CU_HTTP_POST) {
		*kv = NULL;
		*n = 0;
		return cu_http_parse_form(cx->cx_req, cx->cx_arena, kv, n) == CU_OK ? 0 : -1;
	}
	*kv = cx->cx_req->rq_args;
	*n = cx->cx_req->rq_nargs;
	return 0;
}

/* 1 when claims' aud is client_id or an array holding it. */
static int
aud_has(struct json_object *claims, const char *client_id)
{
	struct json_object *aud = NULL;
	size_t i, n;

	if (!json_object_object_get_ex(claims, "aud", &aud) || aud == NULL)
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

/* 0 when hint is an ID token of p (signature in p's algorithm, aud p's client), else -1;
 * CU_ERR_* through *err when the key cannot be had. */
static int
hint_valid(struct cu_ctx *cx, const struct cu_oauth2_provider *p, const char *hint,
           enum cu_err *err)
{
	const struct cu_jose_key *key = NULL;
	struct json_object *claims = NULL;
	size_t len = strlen(hint);

	*err = CU_OK;
	if (len > CU_JOSE_MAX_TOKEN)
		return -1;
	*err = cu_oauth2_signing_key(cx, p, &key);
	if (*err != CU_OK)
		return -1;
	if (cu_jose_verify(cx->cx_arena, key, hint, len, &claims, NULL) != CU_OK)
		return -1;
	return aud_has(claims, p->op_client_id) ? 0 : -1;
}

/* A scheme no browser may be sent to, as authentik refuses them outright. */
static int
forbidden_scheme(const char *uri)
{
	static const char *const bad[] = {"javascript:", "data:", "vbscript:"};
	size_t i;

	while (*uri == ' ' || *uri == '\t')
		uri++;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strncasecmp(uri, bad[i], strlen(bad[i])) == 0)
			return 1;
	return 0;
}

void
cu_oauth2_end_session(struct cu_ctx *cx)
{
	const char *slug = cu_ctx_param(cx, "slug"), *hint, *uri, *state, *client_id;
	const char *flow, *device = NULL, *brand_invalidation = NULL, *url = NULL, *sid;
	const char *redirect = NULL, *params[2];
	const struct cu_oauth2_provider *p = NULL;
	PGresult *res = NULL;
	struct json_object *ctx;
	struct cu_kv *kv = NULL;
	size_t n = 0;
	int rep[4] = {0, 0, 0, 0};
	char pid[16];
	enum cu_err err;

	err = slug != NULL ? cu_oauth2_provider_by_app_slug(cx, slug, 0, &p) : CU_ERR_NOT_FOUND;
	if (err == CU_ERR_NOT_FOUND) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "provider");
		return;
	}
	if (logout_params(cx, &kv, &n) != 0) {
		cu_oauth2_error(cx, 400, "invalid_request", "The body must be a form");
		return;
	}
	hint = cu_oauth2_form_get(kv, n, "id_token_hint", &rep[0]);
	uri = cu_oauth2_form_get(kv, n, "post_logout_redirect_uri", &rep[1]);
	state = cu_oauth2_form_get(kv, n, "state", &rep[2]);
	client_id = cu_oauth2_form_get(kv, n, "client_id", &rep[3]);
	if (rep[0] || rep[1] || rep[2] || rep[3]) {
		cu_oauth2_error(cx, 400, "invalid_request", "A parameter is repeated");
		return;
	}
	if (client_id != NULL && strcmp(client_id, p->op_client_id) != 0) {
		cu_oauth2_error(cx, 400, "invalid_request", "client_id is not this provider's");
		return;
	}
	if (hint != NULL && hint[0] != '\0' && hint_valid(cx, p, hint, &err) != 0) {
		if (err != CU_OK) {
			cu_ctx_fail(cx, err, "key");
			return;
		}
		cu_log(CU_LOG_WARNING, "oauth2_end_session_hint_refused",
		       CU_LI("provider", p->op_id));
		cu_oauth2_error(cx, 400, "invalid_request", "id_token_hint is not valid");
		return;
	}
	if (uri != NULL && uri[0] != '\0') {
		if (forbidden_scheme(uri)) {
			cu_oauth2_error(cx, 400, "invalid_request",
			                "Forbidden URI scheme in post_logout_redirect_uri");
			return;
		}
		if (strlen(uri) <= CU_OAUTH2_MAX_REDIRECT_URI &&
		    (state == NULL || strlen(state) <= CU_OAUTH2_MAX_PARAM) &&
		    cu_oauth2_redirect_match(p->op_redirect_uris, "logout", uri))
			redirect = cu_oauth2_logout_redirect(cx->cx_arena, uri, state);
		else
			cu_log(CU_LOG_INFO, "oauth2_end_session_redirect_ignored",
			       CU_LI("provider", p->op_id));
	}
	flow = p->op_invalidation_flow;
	if (flow == NULL) {
		if ((err = cu_oauth2_brand_flows(cx, &device, &brand_invalidation)) != CU_OK) {
			cu_ctx_fail(cx, err, "brand");
			return;
		}
		flow = brand_invalidation;
	}
	if (flow == NULL) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	/* The relying party's tokens of this session end, and a back-channel provider is told. */
	if ((sid = cu_sessions_cookie_sid(cx)) != NULL) {
		snprintf(pid, sizeof(pid), "%d", p->op_id);
		params[0] = sid;
		params[1] = pid;
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_EP_LOGOUT_TOKENS,
		                 2, params);
		if (err != CU_OK) {
			cu_ctx_fail(cx, err, "token");
			return;
		}
		if (PQntuples(res) == 1 && cx->cx_cache != NULL)
			cu_tasks_wake(cx->cx_cache, cx->cx_arena, cu_db_value(res, 0, 0));
	}
	ctx = cu_json_object(cx->cx_arena);
	if (p->op_app_uuid != NULL)
		cu_json_set_string(ctx, "application", p->op_app_uuid);
	if (redirect != NULL) {
		/* "redirect" is what lib/flows.c follows when the flow ends. */
		cu_json_set_string(ctx, "redirect", redirect);
		cu_json_set_string(ctx, LOGOUT_CTX_REDIRECT, redirect);
	}
	err = cu_flow_seed(cx, flow, ctx, NULL, "", &url);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "flow");
		return;
	}
	cu_log(CU_LOG_INFO, "oauth2_end_session", CU_LI("provider", p->op_id),
	       CU_LB("redirect", redirect != NULL));
	cu_http_send_text(cx->cx_resp, 302, "text/html; charset=utf-8", "", 0);
	if (cu_http_set_header(cx->cx_resp, "Location", url) != 0)
		cu_ctx_error(cx, 500, "Internal error.");
}
