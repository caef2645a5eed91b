/*
 * POST /application/o/token/ (RFC 6749 §3.2, 4.1.3, 4.3, 4.4, 6; RFC 7636; RFC 7523; RFC 8628
 * §3.4), as authentik's providers/oauth2/views/token.py answers it:
 *   authorization_code   single use (one statement takes the code; a code presented again
 *                        revokes what was issued from it), bound to the client and the exact
 *                        redirect_uri, expiry checked, PKCE (S256, plain) both ways;
 *   refresh_token        rotation (the old token revoked, a new one issued, unless authentik's
 *                        refresh_token_threshold keeps it), a rotated token presented again
 *                        revokes its whole chain; scope may narrow, never widen; offline_access
 *                        must be asked for;
 *   client_credentials   and password (authentik treats both alike): client_secret equal to the
 *                        provider's (the provider's service account), username + app password,
 *                        base64 "user:password" as client_secret, or a client_assertion that is
 *                        an access token of a provider this one trusts. The answer holds an
 *                        access token only: no end user authenticated, so no ID token (RFC 6749
 *                        §4.4.3, OpenID Connect Core §3.1.3.3; authentik adds one, which would
 *                        double the signing cost of the busiest grant) and no refresh token;
 *   device_code          polls of a device authorization (authorization_pending, slow_down,
 *                        expired_token, access_denied), single use; a confidential client
 *                        authenticates (RFC 8628 §3.4), a public one sends its client_id.
 * Every grant clamps scopes to the provider's mappings, checks the application's policy
 * bindings for the user, and refuses inactive users. Client authentication is
 * client_secret_basic or client_secret_post; a failed one is 401 invalid_client with
 * WWW-Authenticate. Errors are RFC 6749 §5.2 JSON with Cache-Control: no-store.
 *
 * The hot paths. client_credentials with the provider's own secret costs parsing, the cached
 * provider and service account (oauth2.c explains the cache), the mappings in one interpreter
 * (none for scopes whose mappings return nothing, as openid's), one signature, and ONE
 * statement (OAUTH2_CC_INSERT) that inserts the access token and authentik's login event while
 * checking in SQL that nothing the cache told us has changed; when it inserts nothing, the
 * provider and account are read again and the grant tried once more. That statement commits
 * asynchronously (synchronous_commit off for its transaction alone): waiting for the WAL flush
 * would bound the grant at one disk flush per commit. A crash can then lose the tokens issued
 * in the last few hundred milliseconds (wal_writer_delay) with their login events; such a
 * token is refused by introspection and userinfo afterwards, and its client asks again. Every
 * other write here (codes, refresh rotation, revocation) commits synchronously. A
 * refresh reads the token with its user (one statement: the claims need the user before the
 * signature, and the row's digest needs the signature) and writes with one more
 * (OAUTH2_REFRESH_ROTATE: revoke, insert refresh, insert access, all conditioned on the old
 * token still being live and the cache current).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "bounds.h"
#include "crypto.h"
#include "db.h"
#include "events.h"
#include "http.h"
#include "jose.h"
#include "json.h"
#include "log.h"
#include "providers/oauth2.h"
#include "providers/oauth2_endpoints.h"
#include "server.h"

#define GRANT_CODE "authorization_code"
#define GRANT_REFRESH "refresh_token"
#define GRANT_CLIENT_CREDENTIALS "client_credentials"
#define GRANT_PASSWORD "password"
#define GRANT_DEVICE "urn:ietf:params:oauth:grant-type:device_code"
#define ASSERTION_TYPE_JWT "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define DEVICE_INTERVAL 5 /* seconds between polls (the device endpoint's "interval") */
#define EVENT_APP "authentik.providers.oauth2.views.token"

/* --- the request -------------------------------------------------------------------------- */

static void
parse_error(struct cu_oauth2_token_request *out, const char *code, const char *why)
{
	out->tr_error = code;
	out->tr_error_description = why;
}

int
cu_oauth2_token_request_parse(struct cu_arena *a, const char *authorization,
                              const struct cu_kv *form, size_t nform,
                              struct cu_oauth2_token_request *out)
{
	const char *form_id = NULL, *form_secret = NULL, *bid = NULL, *bsecret = NULL;
	const struct {
		const char *f_name;
		const char **f_dst;
		size_t f_max;
	} fields[] = {
	    {"grant_type", &out->tr_grant_type, CU_OAUTH2_MAX_PARAM},
	    {"client_id", &form_id, CU_OAUTH2_MAX_CLIENT_ID},
	    {"client_secret", &form_secret, CU_OAUTH2_MAX_ASSERTION},
	    {"code", &out->tr_code, CU_OAUTH2_MAX_PARAM},
	    {"redirect_uri", &out->tr_redirect_uri, CU_OAUTH2_MAX_REDIRECT_URI},
	    {"code_verifier", &out->tr_code_verifier, CU_OAUTH2_MAX_PARAM},
	    {"refresh_token", &out->tr_refresh_token, CU_OAUTH2_MAX_PARAM},
	    {"scope", &out->tr_scope, CU_OAUTH2_MAX_PARAM},
	    {"username", &out->tr_username, CU_OAUTH2_MAX_PARAM},
	    {"password", &out->tr_password, CU_OAUTH2_MAX_SECRET},
	    {"device_code", &out->tr_device_code, CU_OAUTH2_MAX_PARAM},
	    {"client_assertion_type", &out->tr_client_assertion_type, CU_OAUTH2_MAX_PARAM},
	    {"client_assertion", &out->tr_client_assertion, CU_OAUTH2_MAX_ASSERTION},
	};
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		int repeated = 0;
		const char *v = cu_oauth2_form_get(form, nform, fields[i].f_name, &repeated);

		/* RFC 6749 §3.2: parameters must not be included more than once. */
		if (repeated) {
			parse_error(out, "invalid_request", "A parameter was repeated");
			return -1;
		}
		if (v != NULL && strlen(v) > fields[i].f_max) {
			parse_error(out, "invalid_request", "A parameter is too long");
			return -1;
		}
		/* authentik reads every parameter with a default of "": empty is absent. */
		*fields[i].f_dst = v != NULL && v[0] != '\0' ? v : NULL;
	}
	rc = cu_oauth2_basic_parse(a, authorization, &bid, &bsecret);
	if (rc < 0) {
		parse_error(out, "invalid_client", "Malformed Basic authorization");
		return -1;
	}
	if (rc == 1) {
		/* RFC 6749 §2.3: one authentication method per request. */
		if (form_secret != NULL || (form_id != NULL && strcmp(form_id, bid) != 0)) {
			parse_error(out, "invalid_request",
			            "Client credentials were given more than one way");
			return -1;
		}
		out->tr_client_id = bid;
		out->tr_client_secret = bsecret[0] != '\0' ? bsecret : NULL;
		out->tr_basic = 1;
	} else {
		out->tr_client_id = form_id;
		out->tr_client_secret = form_secret;
	}
	if (cu_oauth2_scopes_parse_a(a, out->tr_scope, &out->tr_scopes) != 0) {
		parse_error(out, "invalid_scope", NULL);
		return -1;
	}
	if (out->tr_grant_type == NULL) {
		parse_error(out, "invalid_request", "grant_type is required");
		return -1;
	}
	return 0;
}

/* --- answers ------------------------------------------------------------------------------ */

/* RFC 6749 §5.2: invalid_client is 401 (with WWW-Authenticate), the rest 400. */
static void
fail(struct cu_ctx *cx, const char *code, const char *why)
{
	cu_oauth2_error(cx, strcmp(code, "invalid_client") == 0 ? 401 : 400, code, why);
}

/* A refused grant: why goes to the log (never to the client), the RFC 6749 answer to it. */
static void
refuse(struct cu_ctx *cx, const char *code, const char *why)
{
	cu_log(CU_LOG_INFO, "oauth2_grant_refused", CU_LS("why", why));
	fail(cx, code, NULL);
}

static void
fail_err(struct cu_ctx *cx, enum cu_err err)
{
	if (err == CU_ERR_UNAVAILABLE)
		cu_oauth2_error(cx, 503, "temporarily_unavailable", NULL);
	else
		cu_oauth2_error(cx, 500, "server_error", NULL);
}

static void
send_tokens(struct cu_ctx *cx, const struct cu_oauth2_tokens *t)
{
	struct json_object *o = cu_json_object(cx->cx_arena);

	cu_json_set_string(o, "access_token", t->ot_access_token);
	cu_json_set_string(o, "token_type", "Bearer");
	cu_json_set_string(o, "scope", t->ot_scope != NULL ? t->ot_scope : "");
	cu_json_set_int(o, "expires_in", t->ot_expires_in);
	if (t->ot_id_token != NULL)
		cu_json_set_string(o, "id_token", t->ot_id_token);
	if (t->ot_refresh_token != NULL)
		cu_json_set_string(o, "refresh_token", t->ot_refresh_token);
	cu_ctx_json(cx, 200, o);
	(void)!cu_http_set_header(cx->cx_resp, "Cache-Control", "no-store");
	(void)!cu_http_set_header(cx->cx_resp, "Pragma", "no-cache");
}

/* --- shared pieces ------------------------------------------------------------------------ */

static int
confidential(const struct cu_oauth2_provider *p)
{
	return strcmp(p->op_client_type, "public") != 0;
}

/* 1 when secret is p's, in constant time; never for an empty stored secret. */
static int
secret_ok(const struct cu_oauth2_provider *p, const char *secret)
{
	size_t n = strlen(p->op_client_secret);

	return secret != NULL && n > 0 &&
	       cu_crypto_ct_eq(p->op_client_secret, n, secret, strlen(secret));
}

/* The provider of the request, current as of now (one indexed read when cached; fresh reads
 * it all again, after something the cache said was found changed). 0, or -1 having answered. */
static int
provider_checked(struct cu_ctx *cx, const struct cu_oauth2_token_request *tr, int fresh,
                 const struct cu_oauth2_provider **p)
{
	enum cu_err err = cu_oauth2_provider_by_client_id(cx, tr->tr_client_id, fresh, p);

	if (err == CU_ERR_NOT_FOUND || err == CU_ERR_INVALID) {
		cu_log(CU_LOG_WARNING, "oauth2_unknown_client", CU_LB("basic", tr->tr_basic));
		fail(cx, "invalid_client", NULL);
		return -1;
	}
	if (err != CU_OK) {
		fail_err(cx, err);
		return -1;
	}
	return 0;
}

/* A confidential client must authenticate; a secret a public client sends is not one. */
static int
client_ok(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
          const struct cu_oauth2_token_request *tr, int required)
{
	if (!confidential(p))
		return 0;
	if (tr->tr_client_secret == NULL && !required)
		return 0;
	if (secret_ok(p, tr->tr_client_secret))
		return 0;
	cu_log(CU_LOG_WARNING, "oauth2_client_auth_failed", CU_LS("client_id", p->op_client_id),
	       CU_LB("basic", tr->tr_basic));
	fail(cx, "invalid_client", NULL);
	return -1;
}

/* authentik's policy context for the token endpoint. */
static struct json_object *
policy_context(struct cu_ctx *cx, const struct cu_oauth2_token_request *tr,
               struct json_object *scopes)
{
	struct json_object *c = cu_json_object(cx->cx_arena);

	cu_json_set(c, "oauth_scopes", json_object_get(scopes));
	cu_json_set_string(c, "oauth_grant_type", tr->tr_grant_type);
	cu_json_set_string(c, "oauth_code_verifier", tr->tr_code_verifier);
	return c;
}

/* Whether user may use p's application; answers and returns -1 when not. */
static int
app_allowed(struct cu_ctx *cx, const struct cu_oauth2_provider *p, const struct cu_user *user,
            struct json_object *context, const char *deny_code)
{
	int r = cu_oauth2_app_access_ctx(cx, p, user, context, NULL);

	if (r < 0) {
		fail_err(cx, CU_ERR_UNAVAILABLE);
		return -1;
	}
	if (r == 0) {
		cu_log(CU_LOG_INFO, "oauth2_app_access_denied", CU_LS("user", user->us_username),
		       CU_LS("app", p->op_app_slug));
		fail(cx, deny_code, NULL);
		return -1;
	}
	return 0;
}

/* {"app", "model_name", "pk", "name"} as authentik's events name a model. */
static struct json_object *
model_dict(const char *app, const char *model, const char *pk, const char *name)
{
	struct json_object *o = json_object_new_object();

	cu_json_set_string(o, "app", app);
	cu_json_set_string(o, "model_name", model);
	cu_json_set_string(o, "pk", pk);
	cu_json_set_string(o, "name", name);
	return o;
}

static struct json_object *
app_dict(const struct cu_oauth2_provider *p)
{
	return model_dict("authentik_core", "application", p->op_app_uuid, p->op_app_name);
}

static struct json_object *
provider_dict(struct cu_ctx *cx, const struct cu_oauth2_provider *p)
{
	return model_dict("authentik_providers_oauth2", "oauth2provider",
	                  cu_arena_printf(cx->cx_arena, "%d", p->op_id), p->op_name);
}

/* An event by user (not the request's anonymous caller), in the open transaction if any. */
static enum cu_err
user_event(struct cu_ctx *cx, const struct cu_user *user, const char *action,
           struct json_object *context)
{
	struct cu_user *saved = cx->cx_user;
	enum cu_err err;

	cx->cx_user = (struct cu_user *)(uintptr_t)user;
	err = cu_events_write(cx, action, EVENT_APP, context);
	cx->cx_user = saved;
	return err;
}

/* A failed-to-record audit event is logged; the grant it describes has been refused anyway. */
static void
suspicious(struct cu_ctx *cx, const struct cu_oauth2_provider *p, const struct cu_user *user,
           const char *message)
{
	struct json_object *c = cu_json_object(cx->cx_arena);

	cu_json_set_string(c, "message", message);
	cu_json_set(c, "provider", provider_dict(cx, p));
	if (user_event(cx, user, "suspicious_request", c) != CU_OK)
		cu_log(CU_LOG_WARNING, "oauth2_event_failed",
		       CU_LS("action", "suspicious_request"));
	cu_log(CU_LOG_WARNING, "oauth2_token_reuse", CU_LS("msg", message),
	       CU_LS("client_id", p->op_client_id));
}

/* Issues an access token, and an ID token when openid was asked for as authentik does (RFC 6749
 * §4.4.3 has none; clients made for authentik may read it), never a refresh token, for a user
 * in one transaction with the login event authentik writes, then answers. */
static void
issue_and_send(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
               const struct cu_oauth2_user *u, const struct cu_oauth2_grant *g,
               struct json_object *event_context)
{
	struct cu_oauth2_built b;
	enum cu_err err;

	err = cu_oauth2_build(cx, p, u, g, NULL, 1, 1, 0, &b);
	if (err != CU_OK)
		goto out;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK)
		goto out;
	if ((err = cu_oauth2_store(cx, p, g, &b)) != CU_OK)
		goto out;
	if (event_context != NULL &&
	    (err = user_event(cx, g->og_user, "login", event_context)) != CU_OK)
		goto out;
	err = cu_db_commit(cx->cx_db);
out:
	if (err != CU_OK) {
		cu_db_rollback(cx->cx_db);
		fail_err(cx, err);
		return;
	}
	send_tokens(cx, &b.ob_tokens);
}

/* --- client_credentials and password ------------------------------------------------------ */

/* The provider's own secret: its service account (the hot path). */
static void
cc_generated(struct cu_ctx *cx, const struct cu_oauth2_token_request *tr,
             const struct cu_oauth2_provider *p)
{
	const struct cu_oauth2_user *sa = NULL;
	struct json_object *scopes, *ctxobj, *req, *evuser;
	struct cu_oauth2_grant g;
	struct cu_oauth2_built b;
	const char *params[14], *ua;
	char secret_digest[65];
	PGresult *res = NULL;
	enum cu_err err;
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if (attempt > 0) {
			/* Something the cache said has changed: read it all again. */
			if (provider_checked(cx, tr, 1, &p) != 0)
				return;
			if (!secret_ok(p, tr->tr_client_secret)) {
				fail(cx, "invalid_client", NULL);
				return;
			}
		}
		if (p->op_app_uuid == NULL) {
			fail(cx, "invalid_grant", "The provider has no application");
			return;
		}
		scopes = cu_oauth2_scopes_clamp(cx, p, tr->tr_scopes, NULL);
		err = cu_oauth2_service_account(cx, p, attempt > 0, &sa);
		if (err != CU_OK) {
			fail_err(cx, err);
			return;
		}
		if (!sa->ou_active || strcmp(sa->ou_user.us_type, "service_account") != 0) {
			if (attempt == 0)
				continue;
			cu_log(CU_LOG_WARNING, "oauth2_service_account_inactive",
			       CU_LS("client_id", p->op_client_id));
			fail(cx, "invalid_grant", NULL);
			return;
		}
		if (p->op_app_has_bindings &&
		    app_allowed(cx, p, &sa->ou_user, policy_context(cx, tr, scopes),
		                "invalid_grant") != 0)
			return;
		memset(&g, 0, sizeof(g));
		g.og_user = &sa->ou_user;
		g.og_scopes = scopes;
		g.og_auth_time = time(NULL);
		err = cu_oauth2_build(cx, p, sa, &g, NULL, 1, 1, 0, &b);
		if (err != CU_OK) {
			fail_err(cx, err);
			return;
		}
		/* authentik's login event, written by the same statement. */
		ctxobj = cu_json_object(cx->cx_arena);
		cu_json_set_string(ctxobj, "auth_method", "oauth_client_secret");
		cu_json_set(ctxobj, "application", app_dict(p));
		req = json_object_new_object();
		ua = cu_http_header(cx->cx_req, "user-agent");
		cu_json_set_string(req, "path", cx->cx_req->rq_raw_path);
		cu_json_set_string(req, "method", cx->cx_req->rq_method_name);
		cu_json_set_string(req, "request_id", cx->cx_req->rq_id);
		cu_json_set_string(req, "user_agent", ua != NULL ? ua : "");
		cu_json_set(ctxobj, "http_request", req);
		evuser = cu_json_object(cx->cx_arena);
		cu_json_set_int(evuser, "pk", sa->ou_user.us_id);
		cu_json_set_string(evuser, "username", sa->ou_user.us_username);
		cu_json_set_string(evuser, "email", sa->ou_user.us_email);
		cu_oauth2_digest(secret_digest, tr->tr_client_secret, strlen(tr->tr_client_secret));
		params[0] = cu_arena_printf(cx->cx_arena, "%d", p->op_id);
		params[1] = cu_arena_printf(cx->cx_arena, "%lld", p->op_serial);
		params[2] = secret_digest;
		params[3] = sa->ou_user.us_id_text;
		params[4] = sa->ou_version;
		params[5] = p->op_app_has_bindings ? NULL : p->op_app_uuid;
		params[6] = b.ob_access_digest;
		params[7] = cu_arena_printf(cx->cx_arena, "%lld", b.ob_access_expires);
		params[8] = b.ob_scope_pg;
		params[9] = cu_arena_printf(cx->cx_arena, "%lld", b.ob_now);
		params[10] = b.ob_access_claims;
		params[11] = cu_json_text(ctxobj, NULL);
		params[12] = cu_events_client_ip(cx);
		params[13] = cu_json_text(evuser, NULL);
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_CC_INSERT, 14,
		                 params);
		if (err != CU_OK) {
			fail_err(cx, err);
			return;
		}
		if (PQntuples(res) == 1) {
			send_tokens(cx, &b.ob_tokens);
			return;
		}
		cu_log(CU_LOG_INFO, "oauth2_cache_stale", CU_LS("client_id", p->op_client_id),
		       CU_LI("attempt", attempt));
	}
	fail(cx, "invalid_grant", NULL);
}

/* authentik's username + app password form (also base64 "user:password" as client_secret,
 * and the password grant). */
static void
cc_app_password(struct cu_ctx *cx, const struct cu_oauth2_token_request *tr,
                const struct cu_oauth2_provider *p, const char *username, const char *password)
{
	const char *params[2], *key;
	char digest[65];
	PGresult *res = NULL;
	struct cu_oauth2_user *u;
	struct cu_oauth2_grant g;
	struct json_object *scopes, *ev, *args;
	enum cu_err err;

	if (username == NULL || password == NULL || password[0] == '\0') {
		fail(cx, "invalid_grant", NULL);
		return;
	}
	cu_oauth2_digest(digest, password, strlen(password));
	params[0] = username;
	params[1] = digest;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_APP_PASSWORD, 2, params);
	if (err != CU_OK) {
		fail_err(cx, err);
		return;
	}
	if (PQntuples(res) != 1) {
		cu_log(CU_LOG_INFO, "oauth2_app_password_refused",
		       CU_LS("client_id", p->op_client_id));
		fail(cx, "invalid_grant", NULL);
		return;
	}
	/* The digest found it; the key itself must match too. */
	key = cu_db_value(res, 0, 0);
	if (!cu_crypto_ct_eq(key, strlen(key), password, strlen(password))) {
		fail(cx, "invalid_grant", NULL);
		return;
	}
	u = cu_oauth2_user_from_row(cx, res, 0, 2);
	if (!u->ou_active || p->op_app_uuid == NULL) {
		fail(cx, "invalid_grant", NULL);
		return;
	}
	scopes = cu_oauth2_scopes_clamp(cx, p, tr->tr_scopes, NULL);
	if (app_allowed(cx, p, &u->ou_user, policy_context(cx, tr, scopes), "invalid_grant") != 0)
		return;
	memset(&g, 0, sizeof(g));
	g.og_user = &u->ou_user;
	g.og_scopes = scopes;
	g.og_auth_time = time(NULL);
	ev = cu_json_object(cx->cx_arena);
	args = json_object_new_object();
	cu_json_set_string(args, "identifier", cu_db_value(res, 0, 1));
	cu_json_set_string(ev, "auth_method", "token");
	cu_json_set(ev, "auth_method_args", args);
	cu_json_set(ev, "application", app_dict(p));
	issue_and_send(cx, p, u, &g, ev);
}

/* RFC 7523 bearer assertion: an access token a trusted provider issued (authentik's
 * jwt_federation_providers), verified with that provider's key. */
static void
cc_assertion(struct cu_ctx *cx, const struct cu_oauth2_token_request *tr,
             const struct cu_oauth2_provider *p)
{
	const char *assertion, *params[2];
	const struct cu_oauth2_provider *trusted = NULL;
	const struct cu_jose_key *key = NULL;
	struct json_object *claims = NULL, *aud = NULL, *scopes, *ctxobj, *ev, *args;
	struct cu_oauth2_user *u;
	struct cu_oauth2_grant g;
	char digest[65];
	PGresult *res = NULL;
	int64_t exp;
	enum cu_err err;
	int aud_ok = 0;

	if (strcmp(tr->tr_client_assertion_type, ASSERTION_TYPE_JWT) != 0) {
		fail(cx, "invalid_grant", "Unsupported client_assertion_type");
		return;
	}
	assertion =
	    tr->tr_client_assertion != NULL ? tr->tr_client_assertion : tr->tr_client_secret;
	if (assertion == NULL || strlen(assertion) > CU_JOSE_MAX_TOKEN) {
		fail(cx, "invalid_grant", NULL);
		return;
	}
	cu_oauth2_digest(digest, assertion, strlen(assertion));
	params[0] = digest;
	params[1] = cu_arena_printf(cx->cx_arena, "%d", p->op_id);
	err =
	    cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_FEDERATED_TOKEN, 2, params);
	if (err != CU_OK) {
		fail_err(cx, err);
		return;
	}
	if (PQntuples(res) != 1) {
		cu_log(CU_LOG_INFO, "oauth2_assertion_unknown",
		       CU_LS("client_id", p->op_client_id));
		fail(cx, "invalid_grant", NULL);
		return;
	}
	err = cu_oauth2_provider_by_id(cx, (int)strtol(cu_db_value(res, 0, 0), NULL, 10), 0,
	                               &trusted);
	if (err != CU_OK && err != CU_ERR_NOT_FOUND) {
		fail_err(cx, err);
		return;
	}
	/* A provider without a key signs with its client secret: a secret another client
	 * holds proves nothing here. */
	if (err != CU_OK || trusted->op_signing_key == NULL ||
	    cu_oauth2_signing_key(cx, trusted, &key) != CU_OK) {
		fail(cx, "invalid_grant", NULL);
		return;
	}
	/* The key decides the algorithm: "none" and HS256 over the public key are refused. */
	if (cu_jose_verify(cx->cx_arena, key, assertion, strlen(assertion), &claims, NULL) !=
	    CU_OK) {
		cu_log(CU_LOG_WARNING, "oauth2_assertion_bad_signature",
		       CU_LS("client_id", p->op_client_id));
		fail(cx, "invalid_grant", NULL);
		return;
	}
	if (cu_json_get_int(claims, "exp", &exp) != 0 || (long long)time(NULL) >= exp) {
		fail(cx, "invalid_grant", "The assertion has expired");
		return;
	}
	if (json_object_object_get_ex(claims, "aud", &aud) && aud != NULL) {
		if (json_object_is_type(aud, json_type_string)) {
			aud_ok = strcmp(json_object_get_string(aud), trusted->op_client_id) == 0;
		} else if (json_object_is_type(aud, json_type_array)) {
			size_t i, n = json_object_array_length(aud);

			for (i = 0; i < n && !aud_ok; i++) {
				struct json_object *a = json_object_array_get_idx(aud, i);

				aud_ok =
				    json_object_is_type(a, json_type_string) &&
				    strcmp(json_object_get_string(a), trusted->op_client_id) == 0;
			}
		}
	}
	if (!aud_ok) {
		fail(cx, "invalid_grant", "The assertion is for another audience");
		return;
	}
	u = cu_oauth2_user_from_row(cx, res, 0, 1);
	if (!u->ou_active || p->op_app_uuid == NULL) {
		fail(cx, "invalid_grant", NULL);
		return;
	}
	scopes = cu_oauth2_scopes_clamp(cx, p, tr->tr_scopes, NULL);
	ctxobj = policy_context(cx, tr, scopes);
	cu_json_set(ctxobj, "oauth_jwt", json_object_get(claims));
	if (app_allowed(cx, p, &u->ou_user, ctxobj, "invalid_grant") != 0)
		return;
	memset(&g, 0, sizeof(g));
	g.og_user = &u->ou_user;
	g.og_scopes = scopes;
	g.og_auth_time = time(NULL);
	ev = cu_json_object(cx->cx_arena);
	args = json_object_new_object();
	cu_json_set(args, "jwt", json_object_get(claims));
	cu_json_set(args, "provider", provider_dict(cx, trusted));
	cu_json_set_string(ev, "auth_method", "jwt");
	cu_json_set(ev, "auth_method_args", args);
	cu_json_set(ev, "application", app_dict(p));
	issue_and_send(cx, p, u, &g, ev);
}

/* "user:password", base64, as client_secret: 1 with both set (arena), else 0. */
static int
basic_creds(struct cu_ctx *cx, const char *secret, const char **user, const char **password)
{
	size_t n = strlen(secret), len = 0;
	char *raw = cu_arena_alloc(cx->cx_arena, n * 3 / 4 + 4), *colon;

	if (cu_base64_decode(raw, &len, secret, n) != 0)
		return 0;
	raw[len] = '\0';
	if (memchr(raw, '\0', len) != NULL || !cu_utf8_valid(raw, len) ||
	    (colon = strchr(raw, ':')) == NULL || colon == raw)
		return 0;
	*colon = '\0';
	*user = raw;
	*password = colon + 1;
	return 1;
}

static void
grant_client_credentials(struct cu_ctx *cx, const struct cu_oauth2_token_request *tr)
{
	const struct cu_oauth2_provider *p = NULL;
	const char *user = NULL, *password = NULL;
	enum cu_err err;

	if (tr->tr_client_assertion_type != NULL) {
		if (provider_checked(cx, tr, 0, &p) == 0)
			cc_assertion(cx, tr, p);
		return;
	}
	if (tr->tr_username != NULL) {
		if (provider_checked(cx, tr, 0, &p) != 0 || client_ok(cx, p, tr, 0) != 0)
			return;
		cc_app_password(cx, tr, p, tr->tr_username, tr->tr_password);
		return;
	}
	/* The hot path: the cached provider, checked by the statement that issues. */
	err = cu_oauth2_provider_cached(cx, tr->tr_client_id, &p);
	if (err == CU_ERR_NOT_FOUND) {
		fail(cx, "invalid_client", NULL);
		return;
	}
	if (err != CU_OK) {
		fail_err(cx, err);
		return;
	}
	if (secret_ok(p, tr->tr_client_secret)) {
		cc_generated(cx, tr, p);
		return;
	}
	if (tr->tr_client_secret == NULL) {
		fail(cx, "invalid_client", NULL);
		return;
	}
	/* A new secret the cache has not seen yet, or authentik's base64 "user:password". */
	if (provider_checked(cx, tr, 0, &p) != 0)
		return;
	if (secret_ok(p, tr->tr_client_secret)) {
		cc_generated(cx, tr, p);
		return;
	}
	if (basic_creds(cx, tr->tr_client_secret, &user, &password)) {
		cc_app_password(cx, tr, p, user, password);
		return;
	}
	cu_log(CU_LOG_WARNING, "oauth2_client_auth_failed", CU_LS("client_id", p->op_client_id),
	       CU_LB("basic", tr->tr_basic));
	fail(cx, "invalid_client", NULL);
}

/* --- authorization_code ------------------------------------------------------------------- */

/* RFC 7636 §4.6. */
static int
pkce_ok(const char *challenge, const char *method, const char *verifier)
{
	uint8_t d[CU_SHA256_LEN];
	char enc[64];

	if (verifier == NULL || !cu_oauth2_pkce_verifier_ok(verifier))
		return 0;
	if (method != NULL && strcmp(method, "S256") == 0) {
		cu_crypto_sha256(d, verifier, strlen(verifier));
		cu_base64url_encode(enc, d, sizeof(d));
		return cu_crypto_ct_eq(enc, strlen(enc), challenge, strlen(challenge));
	}
	return cu_crypto_ct_eq(verifier, strlen(verifier), challenge, strlen(challenge));
}

/* "a b" of a JSON array of strings (the code's amr). */
static const char *
joined(struct cu_ctx *cx, const char *json_text)
{
	return cu_oauth2_scopes_join(cx, cu_oauth2_json_array(cx, json_text));
}

static void
grant_code(struct cu_ctx *cx, const struct cu_oauth2_token_request *tr)
{
	const struct cu_oauth2_provider *p = NULL;
	const char *params[1], *challenge, *method, *stored_uri, *why = NULL;
	struct cu_oauth2_user *u;
	struct cu_oauth2_grant g;
	struct cu_oauth2_built b;
	char digest[65];
	PGresult *res = NULL;
	enum cu_err err;

	if (provider_checked(cx, tr, 0, &p) != 0 || client_ok(cx, p, tr, 1) != 0)
		return;
	if (tr->tr_code == NULL) {
		fail(cx, "invalid_grant", NULL);
		return;
	}
	cu_oauth2_digest(digest, tr->tr_code, strlen(tr->tr_code));
	params[0] = digest;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK)
		goto out;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_CODE_TAKE, 1, params);
	if (err != CU_OK)
		goto out;
	if (PQntuples(res) != 1) {
		PGresult *reuse = NULL;

		cu_db_rollback(cx->cx_db);
		/* RFC 6749 §4.1.2: a code used twice revokes what it gave. */
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &reuse, CU_DB_STMT_OAUTH2_CODE_REUSE, 1,
		                 params);
		if (err != CU_OK)
			goto out;
		if (PQntuples(reuse) == 1) {
			struct cu_oauth2_user *cu = NULL;

			if (cu_oauth2_user_load(cx, strtoll(cu_db_value(reuse, 0, 0), NULL, 10),
			                        &cu) == CU_OK)
				suspicious(cx, p, &cu->ou_user, "Authorization code was reused");
		}
		fail(cx, "invalid_grant", NULL);
		return;
	}
	u = cu_oauth2_user_from_row(cx, res, 0, 11);
	challenge = cu_db_value(res, 0, 7);
	method = cu_db_value(res, 0, 8);
	stored_uri = cu_db_value(res, 0, 5);
	if (strtol(cu_db_value(res, 0, 1), NULL, 10) != p->op_id)
		why = "code of another client";
	else if (strcmp(cu_db_value(res, 0, 3), "t") != 0)
		why = "code expired";
	else if (stored_uri != NULL && stored_uri[0] != '\0' &&
	         (tr->tr_redirect_uri == NULL || strcmp(stored_uri, tr->tr_redirect_uri) != 0))
		why = "redirect_uri differs";
	else if (challenge != NULL && challenge[0] != '\0' &&
	         !pkce_ok(challenge, method, tr->tr_code_verifier))
		why = "PKCE verification failed";
	else if ((challenge == NULL || challenge[0] == '\0') && tr->tr_code_verifier != NULL)
		why = "code_verifier without a code_challenge";
	else if ((challenge == NULL || challenge[0] == '\0') && p->op_pkce_required)
		why = "the provider requires PKCE";
	else if (!u->ou_active)
		why = "user inactive";
	if (why != NULL) {
		/* The code stays usable by its rightful client: nothing was taken. */
		cu_db_rollback(cx->cx_db);
		cu_log(CU_LOG_WARNING, "oauth2_code_refused", CU_LS("why", why),
		       CU_LS("client_id", p->op_client_id));
		fail(cx, "invalid_grant", NULL);
		return;
	}
	memset(&g, 0, sizeof(g));
	g.og_user = &u->ou_user;
	g.og_scopes = cu_oauth2_json_array(cx, cu_db_value(res, 0, 4));
	g.og_session_uuid = cu_db_value(res, 0, 2);
	g.og_auth_time = (time_t)strtod(cu_db_value(res, 0, 9), NULL);
	g.og_amr = joined(cx, cu_db_value(res, 0, 10));
	g.og_nonce = cu_db_value(res, 0, 6);
	g.og_code_id = strtoll(cu_db_value(res, 0, 0), NULL, 10);
	if (p->op_app_has_bindings) {
		int r = cu_oauth2_app_access_ctx(cx, p, &u->ou_user,
		                                 policy_context(cx, tr, g.og_scopes), NULL);

		if (r <= 0) {
			cu_db_rollback(cx->cx_db);
			if (r < 0) {
				fail_err(cx, CU_ERR_UNAVAILABLE);
				return;
			}
			cu_log(CU_LOG_INFO, "oauth2_app_access_denied",
			       CU_LS("user", u->ou_user.us_username));
			fail(cx, "invalid_grant", NULL);
			return;
		}
	}
	err = cu_oauth2_build(cx, p, u, &g, tr->tr_code, 1, 1, 1, &b);
	if (err != CU_OK)
		goto out;
	if ((err = cu_oauth2_store(cx, p, &g, &b)) != CU_OK)
		goto out;
	if ((err = cu_db_commit(cx->cx_db)) != CU_OK)
		goto out;
	send_tokens(cx, &b.ob_tokens);
	return;
out:
	cu_db_rollback(cx->cx_db);
	fail_err(cx, err);
}

/* --- refresh_token ------------------------------------------------------------------------ */

/* The nonce of the ID token a refresh token was issued with, or NULL. */
static const char *
id_token_nonce(struct cu_ctx *cx, const char *id_claims)
{
	struct json_object *o = NULL;
	const char *nonce = NULL;

	if (id_claims == NULL || id_claims[0] == '\0' ||
	    cu_json_parse(cx->cx_arena, id_claims, strlen(id_claims), &o) != CU_OK ||
	    cu_json_get_string(o, "nonce", &nonce) != 0)
		return NULL;
	return nonce;
}

/* Every scope of want is in have. */
static int
scopes_within(struct json_object *want, struct json_object *have)
{
	size_t i, n = json_object_array_length(want);

	for (i = 0; i < n; i++)
		if (!cu_oauth2_scopes_has(
		        have, json_object_get_string(json_object_array_get_idx(want, i))))
			return 0;
	return 1;
}

static void
grant_refresh(struct cu_ctx *cx, const struct cu_oauth2_token_request *tr)
{
	const struct cu_oauth2_provider *p = NULL;
	const char *params[14];
	struct cu_oauth2_user *u;
	struct cu_oauth2_grant g;
	struct cu_oauth2_built b;
	struct json_object *have, *want;
	char digest[65], secret_digest[65];
	PGresult *res = NULL, *w = NULL;
	long long expires, chain;
	enum cu_err err;
	int attempt, rotate, reloaded = 0;

	err = cu_oauth2_provider_cached(cx, tr->tr_client_id, &p);
	if (err == CU_ERR_NOT_FOUND) {
		fail(cx, "invalid_client", NULL);
		return;
	}
	if (err != CU_OK) {
		fail_err(cx, err);
		return;
	}
	if (confidential(p) && !secret_ok(p, tr->tr_client_secret)) {
		/* Perhaps a new secret the cache has not seen. */
		if (provider_checked(cx, tr, 0, &p) != 0 || client_ok(cx, p, tr, 1) != 0)
			return;
		reloaded = 1;
	}
	if (tr->tr_refresh_token == NULL) {
		refuse(cx, "invalid_grant", "refresh_token missing");
		return;
	}
	cu_oauth2_digest(digest, tr->tr_refresh_token, strlen(tr->tr_refresh_token));
	for (attempt = 0; attempt < 2; attempt++) {
		params[0] = digest;
		params[1] = cu_arena_printf(cx->cx_arena, "%d", p->op_id);
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_REFRESH_FIND, 2,
		                 params);
		if (err != CU_OK) {
			fail_err(cx, err);
			return;
		}
		if (PQntuples(res) != 1) {
			refuse(cx, "invalid_grant", "refresh token unknown to this client");
			return;
		}
		if (strtoll(cu_db_value(res, 0, 10), NULL, 10) != p->op_serial && !reloaded) {
			/* The provider changed since it was cached: read it, check the client
			 * again. */
			if (provider_checked(cx, tr, 1, &p) != 0 || client_ok(cx, p, tr, 1) != 0)
				return;
			reloaded = 1;
			attempt--;
			continue;
		}
		cu_oauth2_provider_note_bindings(p, strcmp(cu_db_value(res, 0, 11), "t") == 0);
		u = cu_oauth2_user_from_row(cx, res, 0, 12);
		chain = strtoll(cu_db_value(res, 0, 1), NULL, 10);
		if (strcmp(cu_db_value(res, 0, 6), "t") == 0) {
			/* A rotated (or revoked) token used again: its chain is spent. */
			if (cu_db_exec(cx->cx_db, cx->cx_arena, NULL,
			               CU_DB_STMT_OAUTH2_REFRESH_REVOKE_CHAIN, 1,
			               (const char *const[]){cu_db_value(res, 0, 1)}) != CU_OK)
				cu_log(CU_LOG_ERROR, "oauth2_chain_revoke_failed",
				       CU_LI("chain", chain));
			suspicious(cx, p, &u->ou_user, "Revoked refresh token was used");
			fail(cx, "invalid_grant", NULL);
			return;
		}
		if (strcmp(cu_db_value(res, 0, 4), "t") != 0 || !u->ou_active) {
			refuse(cx, "invalid_grant", "refresh token expired or user inactive");
			return;
		}
		have = cu_oauth2_json_array(cx, cu_db_value(res, 0, 5));
		/* RFC 6749 §6: no scope means the scope granted; clamped to the mappings first. */
		want = cu_oauth2_scopes_clamp(cx, p, tr->tr_scopes, NULL);
		if (json_object_array_length(want) == 0)
			want = have;
		if (!scopes_within(want, have) || !cu_oauth2_scopes_has(want, "offline_access")) {
			fail(cx, "invalid_scope", NULL);
			return;
		}
		if (p->op_app_has_bindings &&
		    app_allowed(cx, p, &u->ou_user, policy_context(cx, tr, want),
		                "invalid_grant") != 0)
			return;
		expires = (long long)strtod(cu_db_value(res, 0, 3), NULL);
		rotate = p->op_refresh_threshold == 0 ||
		         expires - (long long)time(NULL) < p->op_refresh_threshold;
		memset(&g, 0, sizeof(g));
		g.og_user = &u->ou_user;
		g.og_scopes = want;
		g.og_session_uuid = cu_db_value(res, 0, 2);
		g.og_auth_time = (time_t)strtod(cu_db_value(res, 0, 7), NULL);
		g.og_amr = joined(cx, cu_db_value(res, 0, 8));
		g.og_nonce = id_token_nonce(cx, cu_db_value(res, 0, 9));
		g.og_chain_id = chain;
		err = cu_oauth2_build(cx, p, u, &g, NULL, 1, 1, rotate, &b);
		if (err != CU_OK) {
			fail_err(cx, err);
			return;
		}
		if (confidential(p))
			cu_oauth2_digest(secret_digest, tr->tr_client_secret,
			                 strlen(tr->tr_client_secret));
		params[0] = cu_db_value(res, 0, 0);
		params[1] = cu_arena_printf(cx->cx_arena, "%d", p->op_id);
		params[2] = cu_arena_printf(cx->cx_arena, "%lld", p->op_serial);
		params[3] = u->ou_user.us_id_text;
		params[4] = confidential(p) ? secret_digest : NULL;
		params[5] = p->op_app_has_bindings ? NULL : p->op_app_uuid;
		params[6] = rotate ? "true" : "false";
		params[7] = rotate ? b.ob_refresh_digest : NULL;
		params[8] = cu_arena_printf(cx->cx_arena, "%lld", b.ob_refresh_expires);
		params[9] = b.ob_id_claims;
		params[10] = b.ob_access_digest;
		params[11] = cu_arena_printf(cx->cx_arena, "%lld", b.ob_access_expires);
		params[12] = b.ob_scope_pg;
		params[13] = b.ob_access_claims;
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &w, CU_DB_STMT_OAUTH2_REFRESH_ROTATE, 14,
		                 params);
		if (err != CU_OK) {
			fail_err(cx, err);
			return;
		}
		if (PQntuples(w) == 1 && cu_db_value(w, 0, 0) != NULL) {
			if (!rotate)
				b.ob_tokens.ot_refresh_token = NULL;
			send_tokens(cx, &b.ob_tokens);
			return;
		}
		/* Nothing written: the token went (a race with another use, found as reuse on the
		 * next read) or the cache was stale. */
		if (!reloaded) {
			if (provider_checked(cx, tr, 1, &p) != 0 || client_ok(cx, p, tr, 1) != 0)
				return;
			reloaded = 1;
		}
	}
	refuse(cx, "invalid_grant", "refresh token changed while in use");
}

/* --- device_code -------------------------------------------------------------------------- */

static void
grant_device(struct cu_ctx *cx, const struct cu_oauth2_token_request *tr)
{
	const struct cu_oauth2_provider *p = NULL;
	const char *params[2], *user_id, *created;
	struct cu_oauth2_user *u = NULL;
	struct cu_oauth2_grant g;
	struct cu_oauth2_built b;
	char digest[65];
	PGresult *res = NULL, *take = NULL;
	enum cu_err err;

	/* RFC 8628 §3.4: a confidential client authenticates here. The device endpoint takes its
	 * client_id alone, so without this whoever started a device authorization in that
	 * client's name would get the tokens of the user who entered the code. */
	if (provider_checked(cx, tr, 0, &p) != 0 || client_ok(cx, p, tr, 1) != 0)
		return;
	if (tr->tr_device_code == NULL) {
		fail(cx, "invalid_grant", NULL);
		return;
	}
	cu_oauth2_digest(digest, tr->tr_device_code, strlen(tr->tr_device_code));
	params[0] = digest;
	params[1] = cu_arena_printf(cx->cx_arena, "%d", p->op_id);
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_DEVICE_POLL, 2, params);
	if (err != CU_OK) {
		fail_err(cx, err);
		return;
	}
	if (PQntuples(res) != 1) {
		fail(cx, "invalid_grant", NULL);
		return;
	}
	user_id = cu_db_value(res, 0, 1);
	if (strcmp(cu_db_value(res, 0, 4), "t") != 0) {
		fail(cx, "expired_token", NULL);
		return;
	}
	if (strcmp(cu_db_value(res, 0, 5), "t") == 0) {
		/* Used: denied when no user was ever bound, spent when one was. */
		fail(cx, user_id == NULL ? "access_denied" : "invalid_grant", NULL);
		return;
	}
	if (strtod(cu_db_value(res, 0, 6), NULL) < DEVICE_INTERVAL) {
		fail(cx, "slow_down", NULL);
		return;
	}
	if (user_id == NULL) {
		fail(cx, "authorization_pending", NULL);
		return;
	}
	err = cu_oauth2_user_load(cx, strtoll(user_id, NULL, 10), &u);
	if (err != CU_OK && err != CU_ERR_NOT_FOUND) {
		fail_err(cx, err);
		return;
	}
	if (err != CU_OK || !u->ou_active) {
		fail(cx, "invalid_grant", NULL);
		return;
	}
	memset(&g, 0, sizeof(g));
	g.og_user = &u->ou_user;
	g.og_scopes =
	    cu_oauth2_scopes_clamp(cx, p, cu_oauth2_json_array(cx, cu_db_value(res, 0, 3)), NULL);
	if (app_allowed(cx, p, &u->ou_user, policy_context(cx, tr, g.og_scopes), "access_denied") !=
	    0)
		return;
	g.og_session_uuid = cu_db_value(res, 0, 2);
	created = cu_db_value(res, 0, 7);
	g.og_auth_time = created != NULL ? (time_t)strtod(created, NULL) : time(NULL);
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK)
		goto out;
	params[0] = cu_db_value(res, 0, 0);
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &take, CU_DB_STMT_OAUTH2_DEVICE_TAKE, 1, params);
	if (err != CU_OK)
		goto out;
	if (PQntuples(take) != 1) {
		cu_db_rollback(cx->cx_db);
		fail(cx, "invalid_grant", NULL);
		return;
	}
	if ((err = cu_oauth2_build(cx, p, u, &g, NULL, 1, 1, 1, &b)) != CU_OK)
		goto out;
	if ((err = cu_oauth2_store(cx, p, &g, &b)) != CU_OK)
		goto out;
	if ((err = cu_db_commit(cx->cx_db)) != CU_OK)
		goto out;
	send_tokens(cx, &b.ob_tokens);
	return;
out:
	cu_db_rollback(cx->cx_db);
	fail_err(cx, err);
}

/* --- the endpoint ------------------------------------------------------------------------- */

void
cu_oauth2_token(struct cu_ctx *cx)
{
	struct cu_oauth2_token_request tr;
	struct cu_kv *form = NULL;
	size_t nform = 0;
	const char *ct = cx->cx_req->rq_content_type;

	if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
		fail(cx, "invalid_request", "The body must be application/x-www-form-urlencoded");
		return;
	}
	if (cu_http_parse_form(cx->cx_req, cx->cx_arena, &form, &nform) != CU_OK) {
		fail(cx, "invalid_request", NULL);
		return;
	}
	if (cu_oauth2_token_request_parse(cx->cx_arena, cu_http_header(cx->cx_req, "authorization"),
	                                  form, nform, &tr) != 0) {
		fail(cx, tr.tr_error, tr.tr_error_description);
		return;
	}
	if (tr.tr_client_id == NULL) {
		fail(cx, "invalid_client", NULL);
		return;
	}
	if (strcmp(tr.tr_grant_type, GRANT_CLIENT_CREDENTIALS) == 0 ||
	    strcmp(tr.tr_grant_type, GRANT_PASSWORD) == 0)
		grant_client_credentials(cx, &tr);
	else if (strcmp(tr.tr_grant_type, GRANT_CODE) == 0)
		grant_code(cx, &tr);
	else if (strcmp(tr.tr_grant_type, GRANT_REFRESH) == 0)
		grant_refresh(cx, &tr);
	else if (strcmp(tr.tr_grant_type, GRANT_DEVICE) == 0)
		grant_device(cx, &tr);
	else
		fail(cx, "unsupported_grant_type", NULL);
}
