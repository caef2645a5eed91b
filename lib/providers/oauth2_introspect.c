/*
 * Token introspection (RFC 7662) and revocation (RFC 7009), as authentik's
 * TokenIntrospectionView and TokenRevokeView.
 *
 * Both answer only about the calling client's own tokens: a token of another provider is
 * {"active": false} to introspection and left alone by revocation (which still answers 200, so
 * that neither endpoint tells a client whether another client's token exists). The token's
 * kind follows from its shape: an access token is a JWT (it has dots), a refresh token is a
 * random string without any, so each request costs one lookup.
 *
 * Introspection needs an authenticated confidential client (a public client learns nothing:
 * {"active": false}, as authentik answers); revocation takes a public client by its client_id
 * alone, as authentik does and RFC 7009 §2.1 allows.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "auth.h"
#include "bounds.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "providers/oauth2.h"
#include "providers/oauth2_endpoints.h"
#include "server.h"

/* Cache-Control: no-store and Pragma: no-cache, authentik's TokenResponse. */
static void
send_token_response(struct cu_ctx *cx, int status, struct json_object *o)
{
	cu_ctx_json(cx, status, o);
	if (cu_http_set_header(cx->cx_resp, "Cache-Control", "no-store") != 0 ||
	    cu_http_set_header(cx->cx_resp, "Pragma", "no-cache") != 0)
		cu_http_send_error(cx->cx_resp, 500, "Internal error.");
}

static void
inactive(struct cu_ctx *cx)
{
	struct json_object *o = cu_json_object(cx->cx_arena);

	cu_json_set_bool(o, "active", 0);
	send_token_response(cx, 200, o);
}

/* Client authentication failed: RFC 6749 §5.2's invalid_client. */
static void
client_failed(struct cu_ctx *cx, enum cu_err err)
{
	if (err == CU_ERR_INVALID)
		cu_oauth2_error(cx, 400, "invalid_request", "Malformed client authentication");
	else if (err == CU_ERR_UNAVAILABLE || err == CU_ERR_INTERNAL)
		cu_ctx_fail(cx, err, "client");
	else
		cu_oauth2_error(cx, 401, "invalid_client", "Client authentication failed");
}

/* The form and its token parameter; answers the request and returns NULL when either is
 * missing or malformed. */
static const char *
token_param(struct cu_ctx *cx, struct cu_kv **form, size_t *nform)
{
	const char *token;
	int repeated = 0;

	*form = NULL;
	*nform = 0;
	if (cu_http_parse_form(cx->cx_req, cx->cx_arena, form, nform) != CU_OK) {
		cu_oauth2_error(cx, 400, "invalid_request", "The body must be a form");
		return NULL;
	}
	token = cu_oauth2_form_get(*form, *nform, "token", &repeated);
	if (repeated) {
		cu_oauth2_error(cx, 400, "invalid_request", "token is repeated");
		return NULL;
	}
	if (token == NULL || token[0] == '\0') {
		cu_oauth2_error(cx, 400, "invalid_request", "token is required");
		return NULL;
	}
	return token;
}

static int
is_jwt(const char *token)
{
	return strchr(token, '.') != NULL;
}

/* Parses a JSON object of claims stored with a grant; an empty object when it is not one. */
static struct json_object *
stored_claims(struct cu_ctx *cx, const char *text)
{
	struct json_object *o = NULL;

	if (text == NULL || text[0] == '\0' ||
	    cu_json_parse(cx->cx_arena, text, strlen(text), &o) != CU_OK || o == NULL ||
	    !json_object_is_type(o, json_type_object))
		return cu_json_object(cx->cx_arena);
	return o;
}

void
cu_oauth2_introspect(struct cu_ctx *cx)
{
	const struct cu_oauth2_provider *p = NULL;
	struct cu_oauth2_access acc;
	struct cu_kv *form = NULL;
	struct json_object *out = NULL, *scopes = NULL;
	const char *token, *params[2];
	char digest[65], pid[16];
	PGresult *res = NULL;
	size_t nform = 0;
	enum cu_err err;

	if ((token = token_param(cx, &form, &nform)) == NULL)
		return;
	err = cu_oauth2_client_auth(cx, form, nform, 1, &p);
	if (err != CU_OK) {
		client_failed(cx, err);
		return;
	}
	if (strcmp(p->op_client_type, "confidential") != 0) {
		cu_log(CU_LOG_INFO, "oauth2_introspect_public", CU_LI("provider", p->op_id));
		inactive(cx);
		return;
	}
	if (strlen(token) > CU_JOSE_MAX_TOKEN) {
		inactive(cx);
		return;
	}
	if (is_jwt(token)) {
		memset(&acc, 0, sizeof(acc));
		err = cu_oauth2_access_find(cx, token, &acc);
		if (err == CU_ERR_NOT_FOUND || (err == CU_OK && acc.oa_provider_id != p->op_id)) {
			inactive(cx);
			return;
		}
		if (err != CU_OK) {
			cu_ctx_fail(cx, err, "token");
			return;
		}
		out = acc.oa_claims != NULL && json_object_is_type(acc.oa_claims, json_type_object)
		          ? acc.oa_claims
		          : cu_json_object(cx->cx_arena);
		scopes = acc.oa_scopes;
	} else {
		int64_t exp = 0;

		cu_oauth2_digest(digest, token, strlen(token));
		snprintf(pid, sizeof(pid), "%d", p->op_id);
		params[0] = digest;
		params[1] = pid;
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_EP_REFRESH_FIND,
		                 2, params);
		if (err != CU_OK) {
			cu_ctx_fail(cx, err, "token");
			return;
		}
		if (PQntuples(res) != 1) {
			inactive(cx);
			return;
		}
		out = stored_claims(cx, cu_db_value(res, 0, 4));
		if (cu_json_parse(cx->cx_arena, cu_db_value(res, 0, 2),
		                  strlen(cu_db_value(res, 0, 2)), &scopes) != CU_OK)
			scopes = NULL;
		/* The stored claims are the ID token's; exp here is when this token stops being
		 * active (RFC 7662 §2.2). */
		exp = strtoll(cu_db_value(res, 0, 3), NULL, 10);
		cu_json_set_int(out, "exp", exp);
	}
	cu_json_set_bool(out, "active", 1);
	cu_json_set_string(out, "scope", scopes != NULL ? cu_oauth2_scopes_join(cx, scopes) : "");
	cu_json_set_string(out, "client_id", p->op_client_id);
	send_token_response(cx, 200, out);
}

void
cu_oauth2_revoke(struct cu_ctx *cx)
{
	const struct cu_oauth2_provider *p = NULL;
	struct cu_kv *form = NULL;
	const char *token, *params[2];
	char digest[65], pid[16];
	size_t nform = 0;
	enum cu_err err;

	if ((token = token_param(cx, &form, &nform)) == NULL)
		return;
	err = cu_oauth2_client_auth(cx, form, nform, 0, &p);
	if (err != CU_OK) {
		client_failed(cx, err);
		return;
	}
	/* Nothing that long was ever issued; RFC 7009 §2.2: an unknown token is no error. */
	if (strlen(token) <= CU_JOSE_MAX_TOKEN) {
		cu_oauth2_digest(digest, token, strlen(token));
		snprintf(pid, sizeof(pid), "%d", p->op_id);
		params[0] = digest;
		params[1] = pid;
		err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL,
		                 is_jwt(token) ? CU_DB_STMT_OAUTH2_EP_REVOKE_ACCESS
		                               : CU_DB_STMT_OAUTH2_EP_REVOKE_REFRESH,
		                 2, params);
		if (err != CU_OK) {
			cu_ctx_fail(cx, err, "token");
			return;
		}
		cu_log(CU_LOG_INFO, "oauth2_token_revoke", CU_LI("provider", p->op_id),
		       CU_LS("kind", is_jwt(token) ? "access" : "refresh"),
		       CU_LS("digest", cu_arena_strndup(cx->cx_arena, digest, 8)));
	}
	send_token_response(cx, 200, cu_json_object(cx->cx_arena));
}
