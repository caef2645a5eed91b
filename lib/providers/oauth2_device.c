/*
 * The device authorization grant (RFC 8628), as authentik's DeviceView, DeviceEntryView and
 * the two in-memory stages behind them.
 *
 * 1. The device POSTs /application/o/device/ with its client_id (credentials, when it sends
 *    any, must be right; see client_of) and a scope. It gets a device_code (random; stored as its
 * SHA-256), a user_code of CU_OAUTH2_USER_CODE_LEN digits (authentik's format), the verification
 * URIs and an interval of 5 seconds. Each client address gets CU_OAUTH2_DEVICE_RATE of these per
 *    CU_OAUTH2_DEVICE_WINDOW seconds (authentik's throttle, a Redis counter).
 * 2. The user opens /device (logged in; otherwise the login flow comes first and returns here).
 *    Without a valid ?code= the brand's device code flow runs, with the entry stage
 *    (ak-provider-oauth2-device-code) appended; a valid code sends the browser back to
 *    /device?code=<code>. A user looks up at most DEVICE_ENTRY_RATE user codes per
 *    DEVICE_ENTRY_WINDOW seconds, typed or through the link (RFC 8628 §5.1).
 * 3. /device?code=<a live code> checks the application's policies for the user and runs the
 *    provider's authorization flow (consent for the token's scopes) with the finish stage
 *    appended. The finish stage binds the device token to the user and the session
 *    (oauth2_device_tokens.user_id, session_uuid) and shows
 *    ak-provider-oauth2-device-code-finish. The token endpoint then hands out tokens to the
 *    polling device and marks the row used.
 *
 * Both stages are the one kind "internal:oauth2_device_code" with config {"mode": "entry"} or
 * {"mode": "finish"}.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "auth.h"
#include "bounds.h"
#include "cache.h"
#include "crypto.h"
#include "db.h"
#include "events.h"
#include "flows.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "providers/oauth2.h"
#include "providers/oauth2_endpoints.h"
#include "server.h"
#include "sessions.h"

/* The plan context of the authorization flow a device login runs: {"id", "provider"}. */
#define DEVICE_CTX_TOKEN "goauthentik.io/providers/oauth2/device"
/* A refusal the entry stage shows at once (the application's policies said no). */
#define DEVICE_CTX_DENIED "goauthentik.io/providers/oauth2/device_denied"
#define DEVICE_STAGE_TYPE "internal:oauth2_device_code"
#define DEVICE_THROTTLE_PREFIX "custos:throttle:oauth2_device:"
/* User codes one user may look up per window (RFC 8628 §5.1): a code has about 30 bits, so
 * guessing must be slow. A code typed and then followed through its link counts twice; someone
 * who mistypes a few times, or sets up a few devices, is not held back. */
#define DEVICE_ENTRY_PREFIX "custos:throttle:oauth2_device_entry:"
#define DEVICE_ENTRY_RATE 20
#define DEVICE_ENTRY_WINDOW 600
/* authentik's polling interval, seconds. */
#define DEVICE_INTERVAL 5
/* Tries at an unused user code before giving up (a clash is one in 10^9 per live code). */
#define DEVICE_CODE_TRIES 8

/* --- pure helpers ------------------------------------------------------------------------ */

int
cu_oauth2_user_code_normalize(char *out, size_t outlen, const char *in)
{
	size_t n = 0, seen = 0;
	const char *p;

	if (outlen < CU_OAUTH2_USER_CODE_LEN + 1 || in == NULL)
		return -1;
	out[0] = '\0';
	for (p = in; *p != '\0'; p++) {
		if (++seen > CU_OAUTH2_MAX_USER_CODE)
			return -1;
		if (*p == ' ' || *p == '-' || *p == '\t')
			continue;
		if (*p < '0' || *p > '9' || n == CU_OAUTH2_USER_CODE_LEN)
			return -1;
		out[n++] = *p;
	}
	if (n != CU_OAUTH2_USER_CODE_LEN)
		return -1;
	out[n] = '\0';
	return 0;
}

/* A fresh user code: uniform in [1, 10^LEN), zero-filled, as authentik makes them. */
static void
user_code_new(char out[CU_OAUTH2_USER_CODE_LEN + 1])
{
	uint64_t limit = 1, v, bound;
	int i;

	for (i = 0; i < CU_OAUTH2_USER_CODE_LEN; i++)
		limit *= 10;
	/* The largest multiple of limit - 1 below 2^64: no modulo bias. */
	bound = UINT64_MAX - UINT64_MAX % (limit - 1);
	do {
		cu_crypto_random(&v, sizeof(v));
	} while (v >= bound);
	v = 1 + v % (limit - 1);
	for (i = CU_OAUTH2_USER_CODE_LEN - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
	out[CU_OAUTH2_USER_CODE_LEN] = '\0';
}

/* The Host header lower-cased without its port, as brand domains are compared. */
static const char *
request_host(struct cu_ctx *cx)
{
	const char *h = cx->cx_req->rq_host != NULL ? cx->cx_req->rq_host : "";
	size_t n = strlen(h), i;
	char *out;

	if (h[0] == '[') {
		const char *close = strchr(h, ']');

		n = close != NULL ? (size_t)(close - h) + 1 : n;
	} else {
		const char *colon = strchr(h, ':');

		if (colon != NULL)
			n = (size_t)(colon - h);
	}
	if (n > 255)
		n = 255;
	out = cu_arena_strndup(cx->cx_arena, h, n);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] + 32);
	return out;
}

static void
send_token_response(struct cu_ctx *cx, int status, struct json_object *o)
{
	cu_ctx_json(cx, status, o);
	if (cu_http_set_header(cx->cx_resp, "Cache-Control", "no-store") != 0 ||
	    cu_http_set_header(cx->cx_resp, "Pragma", "no-cache") != 0)
		cu_http_send_error(cx->cx_resp, 500, "Internal error.");
}

static void
send_redirect(struct cu_ctx *cx, const char *to)
{
	cu_http_send_text(cx->cx_resp, 302, "text/html; charset=utf-8", "", 0);
	if (cu_http_set_header(cx->cx_resp, "Location", to) != 0)
		cu_ctx_error(cx, 500, "Internal error.");
}

/* --- throttle ---------------------------------------------------------------------------- */

/* Counts one request in the window that starts with the first: one round trip. */
static const char throttle_lua[] = "local v = redis.call('INCR', KEYS[1]) "
                                   "if v == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
                                   "return v";

/* Counts one request under key; 1 when that makes more than limit in the window. Without Redis
 * the request is let through (Redis is a cache; the grant itself is still bounded by the code's
 * life). */
static int
over_limit(struct cu_ctx *cx, const char *key, int window_s, long long limit)
{
	const char *argv[5];
	char window[24];
	struct redisReply *r = NULL;

	if (cx->cx_cache == NULL)
		return 0;
	snprintf(window, sizeof(window), "%d", window_s);
	argv[0] = "EVAL";
	argv[1] = throttle_lua;
	argv[2] = "1";
	argv[3] = key;
	argv[4] = window;
	if (cu_cache_cmd(cx->cx_cache, cx->cx_arena, &r, 5, argv, NULL) != CU_OK || r == NULL ||
	    r->type != REDIS_REPLY_INTEGER) {
		cu_log_msg(CU_LOG_WARNING, "oauth2_device_throttle_unchecked", "Redis unavailable");
		return 0;
	}
	return r->integer > limit;
}

/* 1 when the client address has used up its device authorizations. */
static int
throttled(struct cu_ctx *cx)
{
	const char *ip = cu_events_client_ip(cx);

	return over_limit(
	    cx, cu_arena_printf(cx->cx_arena, DEVICE_THROTTLE_PREFIX "%s", ip != NULL ? ip : "-"),
	    CU_OAUTH2_DEVICE_WINDOW, CU_OAUTH2_DEVICE_RATE);
}

/* 1 when user has looked up as many user codes as the window allows (counting this one). */
static int
entry_throttled(struct cu_ctx *cx, const struct cu_user *user)
{
	if (!over_limit(cx, cu_arena_printf(cx->cx_arena, DEVICE_ENTRY_PREFIX "%lld", user->us_id),
	                DEVICE_ENTRY_WINDOW, DEVICE_ENTRY_RATE))
		return 0;
	cu_log(CU_LOG_WARNING, "oauth2_device_entry_throttled", CU_LS("user", user->us_username));
	return 1;
}

/* --- POST /application/o/device/ --------------------------------------------------------- */

/*
 * The client of a device authorization. Credentials that come (a Basic header or a
 * client_secret) must be right; a client_id alone is enough, for a confidential client too,
 * as authentik's DeviceView has it: the device is then authenticated where it matters, at the
 * token endpoint, before it gets anything.
 */
static enum cu_err
client_of(struct cu_ctx *cx, const struct cu_kv *form, size_t nform,
          const struct cu_oauth2_provider **out)
{
	const char *client_id;
	int repeated = 0;

	*out = NULL;
	if (cu_http_header(cx->cx_req, "authorization") != NULL ||
	    cu_oauth2_form_get(form, nform, "client_secret", NULL) != NULL)
		return cu_oauth2_client_auth(cx, form, nform, 1, out);
	client_id = cu_oauth2_form_get(form, nform, "client_id", &repeated);
	if (repeated)
		return CU_ERR_INVALID;
	if (client_id == NULL || client_id[0] == '\0' || strlen(client_id) > CU_OAUTH2_MAX_PARAM)
		return CU_ERR_NOT_FOUND;
	return cu_oauth2_provider_by_client_id(cx, client_id, 0, out);
}

void
cu_oauth2_device(struct cu_ctx *cx)
{
	const struct cu_oauth2_provider *p = NULL;
	struct cu_kv *form = NULL;
	struct json_object *scopes = NULL, *out;
	const char *scope, *pg_scopes = "{}", *params[5], *base;
	char device_code[CU_OAUTH2_SECRET_LEN + 1], digest[65];
	char user_code[CU_OAUTH2_USER_CODE_LEN + 1], pid[16], validity[24];
	PGresult *res = NULL;
	size_t nform = 0;
	int repeated = 0, tries;
	enum cu_err err;

	if (throttled(cx)) {
		cu_log(CU_LOG_WARNING, "oauth2_device_throttled",
		       CU_LS("ip", cu_events_client_ip(cx)));
		cu_oauth2_error(cx, 429, "slow_down", "Too many device authorization requests");
		return;
	}
	if (cu_http_parse_form(cx->cx_req, cx->cx_arena, &form, &nform) != CU_OK) {
		cu_oauth2_error(cx, 400, "invalid_request", "The body must be a form");
		return;
	}
	err = client_of(cx, form, nform, &p);
	if (err == CU_ERR_INVALID) {
		cu_oauth2_error(cx, 400, "invalid_request", "Malformed client authentication");
		return;
	}
	if (err == CU_ERR_UNAVAILABLE || err == CU_ERR_INTERNAL) {
		cu_ctx_fail(cx, err, "client");
		return;
	}
	if (err != CU_OK) {
		cu_oauth2_error(cx, 401, "invalid_client", "Client authentication failed");
		return;
	}
	if (p->op_app_slug == NULL) {
		cu_oauth2_error(cx, 400, "invalid_client", "The client has no application");
		return;
	}
	scope = cu_oauth2_form_get(form, nform, "scope", &repeated);
	if (repeated) {
		cu_oauth2_error(cx, 400, "invalid_request", "scope is repeated");
		return;
	}
	if (scope != NULL && strlen(scope) > CU_OAUTH2_MAX_PARAM) {
		cu_oauth2_error(cx, 400, "invalid_scope", "scope is too long");
		return;
	}
	if (cu_oauth2_scopes_parse(cx, scope != NULL ? scope : "", &scopes) != 0) {
		cu_oauth2_error(cx, 400, "invalid_scope", "The scope is malformed");
		return;
	}
	/* Scopes the provider has no mapping for are dropped, as at every grant. */
	scopes = cu_oauth2_scopes_clamp(cx, p, scopes, &pg_scopes);
	if (pg_scopes == NULL)
		pg_scopes = "{}";

	snprintf(pid, sizeof(pid), "%d", p->op_id);
	snprintf(validity, sizeof(validity), "%lld", p->op_code_validity);
	cu_crypto_random_alnum(device_code, CU_OAUTH2_SECRET_LEN);
	cu_oauth2_digest(digest, device_code, CU_OAUTH2_SECRET_LEN);
	for (tries = 0; tries < DEVICE_CODE_TRIES; tries++) {
		user_code_new(user_code);
		params[0] = digest;
		params[1] = user_code;
		params[2] = pid;
		params[3] = pg_scopes;
		params[4] = validity;
		res = NULL;
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_EP_DEVICE_CREATE,
		                 5, params);
		if (err != CU_ERR_INVALID || res == NULL || !cu_db_is_unique_violation(res))
			break;
	}
	cu_wipe(digest, sizeof(digest));
	if (err != CU_OK) {
		cu_wipe(device_code, sizeof(device_code));
		cu_ctx_fail(cx, err == CU_ERR_INVALID ? CU_ERR_INTERNAL : err, "device token");
		return;
	}
	cu_log(CU_LOG_INFO, "oauth2_device_authorization", CU_LI("provider", p->op_id),
	       CU_LS("scope", cu_oauth2_scopes_join(cx, scopes)));
	base = cu_arena_printf(cx->cx_arena, "%s/device", cu_oauth2_base_url(cx));
	out = cu_json_object(cx->cx_arena);
	cu_json_set_string(out, "device_code", device_code);
	cu_json_set_string(out, "verification_uri", base);
	cu_json_set_string(out, "verification_uri_complete",
	                   cu_arena_printf(cx->cx_arena, "%s?code=%s", base, user_code));
	cu_json_set_string(out, "user_code", user_code);
	cu_json_set_int(out, "expires_in", p->op_code_validity);
	cu_json_set_int(out, "interval", DEVICE_INTERVAL);
	send_token_response(cx, 200, out);
	cu_wipe(device_code, sizeof(device_code));
}

/* --- the device token a user code names -------------------------------------------------- */

struct device_token {
	long long dt_id;
	int dt_provider;
	struct json_object *dt_scopes;
};

/* Ends the device token id for a user the application refused (RFC 8628 §3.5 access_denied);
 * best effort: the refusal stands either way, and the token would expire. */
static void
device_deny(struct cu_ctx *cx, long long id)
{
	const char *param = cu_arena_printf(cx->cx_arena, "%lld", id);

	if (cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_OAUTH2_EP_DEVICE_DENY, 1,
	               &param) != CU_OK)
		cu_log_msg(CU_LOG_WARNING, "oauth2_device_deny_failed", "database unavailable");
}

/* CU_OK with *t for a live, unbound code; CU_ERR_NOT_FOUND otherwise. */
static enum cu_err
device_by_code(struct cu_ctx *cx, const char *code, struct device_token *t)
{
	PGresult *res = NULL;
	const char *scopes;
	enum cu_err err;

	memset(t, 0, sizeof(*t));
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_EP_DEVICE_BY_CODE, 1,
	                 &code);
	if (err != CU_OK)
		return err;
	if (PQntuples(res) != 1)
		return CU_ERR_NOT_FOUND;
	t->dt_id = strtoll(cu_db_value(res, 0, 0), NULL, 10);
	t->dt_provider = (int)strtol(cu_db_value(res, 0, 1), NULL, 10);
	scopes = cu_db_value(res, 0, 2);
	if (cu_json_parse(cx->cx_arena, scopes, strlen(scopes), &t->dt_scopes) != CU_OK ||
	    t->dt_scopes == NULL)
		t->dt_scopes = cu_json_array(cx->cx_arena);
	return CU_OK;
}

/* The first policy message, or authentik's default. */
static const char *
denied_message(struct json_object *messages)
{
	const char *m = NULL;

	if (messages != NULL && json_object_is_type(messages, json_type_array) &&
	    json_object_array_length(messages) > 0)
		m = json_object_get_string(json_object_array_get_idx(messages, 0));
	return m != NULL && m[0] != '\0' ? m : "Permission denied.";
}

/* --- GET /device ------------------------------------------------------------------------- */

static struct json_object *
stage_entry(struct cu_ctx *cx, const char *name, const char *mode)
{
	struct json_object *e = cu_json_object(cx->cx_arena), *cfg = json_object_new_object();

	cu_json_set_string(e, "name", name);
	cu_json_set_string(e, "type", DEVICE_STAGE_TYPE);
	cu_json_set_string(cfg, "mode", mode);
	cu_json_set(e, "config", cfg);
	return e;
}

static int
perm_cmp(const void *a, const void *b)
{
	struct json_object *const *x = a, *const *y = b;
	const char *s = NULL, *t = NULL;

	if (cu_json_get_string(*x, "id", &s) != 0)
		s = "";
	if (cu_json_get_string(*y, "id", &t) != 0)
		t = "";
	return strcmp(s, t);
}

/* The scope descriptions the consent stage shows: [{"id": scope, "name": description}] of
 * p's mappings for the token's scopes, by scope name (authentik's order), each scope once. */
static struct json_object *
consent_permissions(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                    struct json_object *scopes)
{
	struct json_object *all = cu_json_array(cx->cx_arena), *out = cu_json_array(cx->cx_arena);
	const char *prev = NULL;
	size_t i, n;

	n = p->op_mappings != NULL ? json_object_array_length(p->op_mappings) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(p->op_mappings, i), *perm;
		const char *scope = NULL, *desc = NULL;

		if (cu_json_get_string(m, "scope_name", &scope) != 0 ||
		    !cu_oauth2_scopes_has(scopes, scope))
			continue;
		if (cu_json_get_string(m, "description", &desc) != 0)
			desc = "";
		perm = json_object_new_object();
		cu_json_set_string(perm, "id", scope);
		cu_json_set_string(perm, "name", desc);
		json_object_array_add(all, perm);
	}
	json_object_array_sort(all, perm_cmp);
	n = json_object_array_length(all);
	for (i = 0; i < n; i++) {
		struct json_object *perm = json_object_array_get_idx(all, i);
		const char *id = NULL;

		if (cu_json_get_string(perm, "id", &id) != 0 ||
		    (prev != NULL && strcmp(prev, id) == 0))
			continue;
		prev = id;
		json_object_array_add(out, json_object_get(perm));
	}
	return out;
}

enum cu_err
cu_oauth2_brand_flows(struct cu_ctx *cx, const char **device, const char **invalidation)
{
	const char *host = request_host(cx);
	PGresult *res = NULL;
	enum cu_err err;

	*device = NULL;
	*invalidation = NULL;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_EP_BRAND_FLOWS, 1, &host);
	if (err != CU_OK)
		return err;
	if (PQntuples(res) == 1) {
		*device = cu_db_value(res, 0, 0);
		*invalidation = cu_db_value(res, 0, 1);
	}
	return CU_OK;
}

/* Runs the provider's authorization flow for a live device token, the finish stage last. */
static void
start_authorization(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                    const struct device_token *t)
{
	struct json_object *ctx = cu_json_object(cx->cx_arena), *tok = json_object_new_object();
	struct json_object *append = cu_json_array(cx->cx_arena);
	const char *url = NULL;
	enum cu_err err;

	cu_json_set_string(ctx, "application", p->op_app_uuid);
	cu_json_set_string(ctx, "consent_header",
	                   cu_arena_printf(cx->cx_arena, "You're about to sign into %s.",
	                                   p->op_app_name != NULL ? p->op_app_name : ""));
	cu_json_set(ctx, "consent_permissions",
	            json_object_get(consent_permissions(cx, p, t->dt_scopes)));
	cu_json_set_int(tok, "id", t->dt_id);
	cu_json_set_int(tok, "provider", p->op_id);
	cu_json_set(ctx, DEVICE_CTX_TOKEN, tok);
	json_object_array_add(
	    append, json_object_get(stage_entry(cx, "oauth2-device-code-finish", "finish")));
	err = cu_flow_seed(cx, p->op_authorization_flow, ctx, append, "", &url);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "flow");
		return;
	}
	send_redirect(cx, url);
}

void
cu_oauth2_device_entry(struct cu_ctx *cx)
{
	const struct cu_oauth2_provider *p = NULL;
	struct cu_session se;
	struct device_token t;
	struct json_object *ctx, *append, *messages = NULL;
	const char *sid, *raw = cu_http_arg(cx->cx_req, "code"), *flow = NULL, *url = NULL;
	const char *invalidation = NULL;
	const char *here = "/device";
	char code[CU_OAUTH2_USER_CODE_LEN + 1];
	int have_code, allowed;
	enum cu_err err;

	memset(&se, 0, sizeof(se));
	have_code = raw != NULL && cu_oauth2_user_code_normalize(code, sizeof(code), raw) == 0;
	if (have_code)
		here = cu_arena_printf(cx->cx_arena, "/device?code=%s", code);

	/* Login required, as authentik's login_required: the login flow comes back here. */
	sid = cu_sessions_cookie_sid(cx);
	err = sid != NULL ? cu_sessions_load(cx, sid, &se) : CU_ERR_NOT_FOUND;
	if (err != CU_OK && err != CU_ERR_NOT_FOUND) {
		cu_ctx_fail(cx, err, "session");
		return;
	}
	if (err != CU_OK || se.se_user == NULL) {
		send_redirect(cx, cu_arena_printf(cx->cx_arena,
		                                  "/flows/-/default/authentication/?next=%s",
		                                  cu_oauth2_query_escape(cx->cx_arena, here)));
		return;
	}
	if ((err = cu_oauth2_brand_flows(cx, &flow, &invalidation)) != CU_OK) {
		cu_ctx_fail(cx, err, "brand");
		return;
	}
	if (flow == NULL) {
		cu_log_msg(CU_LOG_INFO, "oauth2_device_no_flow",
		           "the brand has no device code flow");
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	ctx = cu_json_object(cx->cx_arena);
	/* Past the limit the link looks up nothing: the entry stage then says why. */
	if (have_code && !entry_throttled(cx, se.se_user)) {
		err = device_by_code(cx, code, &t);
		if (err == CU_OK)
			err = cu_oauth2_provider_by_id(cx, t.dt_provider, 0, &p);
		if (err == CU_OK && p->op_app_uuid == NULL)
			err = CU_ERR_NOT_FOUND;
		if (err == CU_OK) {
			allowed = cu_oauth2_app_access(cx, p, se.se_user, &messages);
			if (allowed < 0) {
				cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "policy");
				return;
			}
			if (allowed) {
				start_authorization(cx, p, &t);
				return;
			}
			cu_log(CU_LOG_INFO, "oauth2_device_denied", CU_LI("provider", p->op_id),
			       CU_LS("user", se.se_user->us_username));
			device_deny(cx, t.dt_id);
			cu_json_set_string(ctx, DEVICE_CTX_DENIED, denied_message(messages));
		} else if (err != CU_ERR_NOT_FOUND) {
			cu_ctx_fail(cx, err, "device token");
			return;
		} else {
			cu_log_msg(CU_LOG_INFO, "oauth2_device_code_unknown",
			           "no live device token");
		}
	}
	/* authentik starts the device code flow whatever the code was; a denial shows there. */
	append = cu_json_array(cx->cx_arena);
	json_object_array_add(append,
	                      json_object_get(stage_entry(cx, "oauth2-device-code", "entry")));
	err = cu_flow_seed(cx, flow, ctx, append, "", &url);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "flow");
		return;
	}
	send_redirect(cx, url);
}

/* --- the stage --------------------------------------------------------------------------- */

static const struct cu_user *
stage_user(struct cu_flow_exec *fx)
{
	return fx->fx_session_user != NULL ? fx->fx_session_user : NULL;
}

/* The finish stage: binds the token of the plan to the session's user. */
static enum cu_stage_result
finish_challenge(struct cu_flow_exec *fx)
{
	struct cu_ctx *cx = fx->fx_cx;
	const struct cu_user *user = stage_user(fx);
	const struct cu_oauth2_provider *p = NULL;
	struct json_object *tok = cu_flow_ctx_get(fx, DEVICE_CTX_TOKEN), *messages = NULL;
	const char *params[4];
	char id[24], uid[24], pid[16];
	int64_t tid = 0, tprov = 0;
	PGresult *res = NULL;
	enum cu_err err;
	int allowed;

	if (user == NULL || tok == NULL || cu_json_get_int(tok, "id", &tid) != 0 ||
	    cu_json_get_int(tok, "provider", &tprov) != 0)
		return cu_flow_deny(fx, "Invalid code");
	err = cu_oauth2_provider_by_id(cx, (int)tprov, 0, &p);
	if (err == CU_ERR_NOT_FOUND)
		return cu_flow_deny(fx, "Invalid code");
	if (err != CU_OK)
		return CU_STAGE_FAIL;
	/* The policies may have changed while the user went through the flow. */
	allowed = cu_oauth2_app_access(cx, p, user, &messages);
	if (allowed < 0)
		return CU_STAGE_FAIL;
	if (!allowed) {
		device_deny(cx, (long long)tid);
		return cu_flow_deny(fx, denied_message(messages));
	}
	snprintf(id, sizeof(id), "%lld", (long long)tid);
	snprintf(uid, sizeof(uid), "%lld", user->us_id);
	snprintf(pid, sizeof(pid), "%d", p->op_id);
	params[0] = id;
	params[1] = uid;
	params[2] = fx->fx_session_key;
	params[3] = pid;
	err =
	    cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_EP_DEVICE_BIND, 4, params);
	if (err != CU_OK)
		return CU_STAGE_FAIL;
	if (PQntuples(res) != 1) {
		cu_log(CU_LOG_INFO, "oauth2_device_bind_refused", CU_LI("provider", p->op_id));
		return cu_flow_deny(fx, "Invalid code");
	}
	cu_log(CU_LOG_INFO, "oauth2_device_bound", CU_LI("provider", p->op_id),
	       CU_LS("user", user->us_username));
	(void)cu_flow_challenge(fx, "ak-provider-oauth2-device-code-finish");
	return CU_STAGE_CHALLENGE;
}

static enum cu_stage_result
device_challenge(struct cu_flow_exec *fx)
{
	const char *denied;

	if (strcmp(cu_flow_cfg_string(fx, "mode", "entry"), "finish") == 0)
		return finish_challenge(fx);
	denied = cu_flow_ctx_string(fx, DEVICE_CTX_DENIED);
	if (denied != NULL) {
		denied = cu_arena_strdup(fx->fx_cx->cx_arena, denied);
		cu_flow_ctx_del(fx, DEVICE_CTX_DENIED);
		return cu_flow_deny(fx, denied);
	}
	(void)cu_flow_challenge(fx, "ak-provider-oauth2-device-code");
	return CU_STAGE_CHALLENGE;
}

static enum cu_stage_result
device_respond(struct cu_flow_exec *fx, struct json_object *body)
{
	struct cu_ctx *cx = fx->fx_cx;
	const struct cu_user *user = stage_user(fx);
	const struct cu_oauth2_provider *p = NULL;
	struct json_object *v = NULL, *messages = NULL;
	struct device_token t;
	char code[CU_OAUTH2_USER_CODE_LEN + 1], num[24];
	const char *raw = NULL;
	enum cu_err err;
	int allowed;

	/* The finish challenge needs no answer; one that comes anyway ends the flow. */
	if (strcmp(cu_flow_cfg_string(fx, "mode", "entry"), "finish") == 0)
		return CU_STAGE_NEXT;
	/* authentik's CharField: a string, or a number typed into the field. */
	if (json_object_object_get_ex(body, "code", &v) && v != NULL) {
		if (json_object_is_type(v, json_type_string)) {
			raw = json_object_get_string(v);
		} else if (json_object_is_type(v, json_type_int)) {
			snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(v));
			raw = num;
		}
	}
	if (raw == NULL || raw[0] == '\0')
		return cu_flow_invalid(fx, "code", "This field is required.", "required");
	if (cu_oauth2_user_code_normalize(code, sizeof(code), raw) != 0)
		return cu_flow_invalid(fx, "code", "Invalid code", "invalid");
	if (user == NULL)
		return cu_flow_deny(fx, "Permission denied.");
	if (entry_throttled(cx, user))
		return cu_flow_invalid(fx, "code", "Too many codes tried; try again later.",
		                       "throttled");
	err = device_by_code(cx, code, &t);
	if (err == CU_OK)
		err = cu_oauth2_provider_by_id(cx, t.dt_provider, 0, &p);
	if (err == CU_OK && p->op_app_uuid == NULL)
		err = CU_ERR_NOT_FOUND;
	if (err == CU_ERR_NOT_FOUND) {
		cu_log_msg(CU_LOG_INFO, "oauth2_device_code_unknown", "no live device token");
		return cu_flow_invalid(fx, "code", "Invalid code", "invalid");
	}
	if (err != CU_OK)
		return CU_STAGE_FAIL;
	allowed = cu_oauth2_app_access(cx, p, user, &messages);
	if (allowed < 0)
		return CU_STAGE_FAIL;
	if (!allowed) {
		device_deny(cx, t.dt_id);
		return cu_flow_deny(fx, denied_message(messages));
	}
	/* /device?code= plans the provider's authorization flow for this code. */
	cu_flow_ctx_set_string(fx, "redirect",
	                       cu_arena_printf(cx->cx_arena, "/device?code=%s", code));
	return CU_STAGE_NEXT;
}

const struct cu_stage_type cu_stage_oauth2_device_code = {
    DEVICE_STAGE_TYPE,
    "ak-provider-oauth2-device-code",
    device_challenge,
    device_respond,
};
