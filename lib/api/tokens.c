/*
 * /api/v3/core/tokens/ as authentik's TokenViewSet (authentik/core/api/tokens.py): tokens by
 * identifier. The key is written with its SHA-256 (lib/auth.c looks keys up by digest) and only
 * ever leaves through view_key/, which writes a secret_view event.
 */
#include "api/tokens.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "api/common.h"
#include "auth.h"
#include "../crypto.h" /* lib/api/crypto.h is the API module */
#include "db.h"
#include "../events.h" /* lib/api/events.h is the API module */
#include "http.h"
#include "json.h"
#include "server.h"

/* authentik's default_token_length. */
#define TOKEN_KEY_LEN 60
#define TOKEN_IDENTIFIER_MAX 255

static const char *const token_intents[] = {"verification", "api", "recovery", "app_password",
                                            NULL};

static const struct cu_api_sort token_sorts[] = {
    {"identifier", "t.identifier"}, {"expires", "t.expires"},
    {"intent", "t.intent"},         {"description", "t.description"},
    {"expiring", "t.expiring"},     {"managed", "t.managed"},
    {"user", "t.user_id"},          {"pk", "t.uuid"},
};

static const struct cu_api_filter token_filters[] = {
    {"identifier", CU_API_F_TEXT, "t.identifier = $%d"},
    {"intent", CU_API_F_TEXT, "t.intent = $%d"},
    {"user__username", CU_API_F_TEXT, "u.username = $%d"},
    {"description", CU_API_F_TEXT, "t.description = $%d"},
    {"expires", CU_API_F_TEXT, "t.expires = cu_try_timestamptz($%d)"},
    {"expiring", CU_API_F_BOOL, "t.expiring = $%d::boolean"},
    {"managed", CU_API_F_TEXT, "t.managed = $%d"},
};

static const struct cu_api_list token_list = {
    .al_row = CU_SQL_TOKEN,
    .al_from = CU_SQL_TOKEN_FROM,
    .al_pk = "t.uuid::text",
    .al_view_perm = "authentik_core.view_token",
    .al_search = "EXISTS (SELECT 1 FROM unnest(ARRAY[t.identifier, t.intent, u.username, "
                 "t.description]) AS f WHERE f ILIKE $%d)",
    .al_sorts = token_sorts,
    .al_nsorts = sizeof(token_sorts) / sizeof(token_sorts[0]),
    .al_default_sort = "identifier,expires",
    .al_tiebreak = "t.uuid",
    .al_filters = token_filters,
    .al_nfilters = sizeof(token_filters) / sizeof(token_filters[0]),
    .al_owner = "t.user_id",
};

/* One token as TOKENS_SELECT gives it. */
struct token {
	PGresult *tk_res;
	const char *tk_uuid;
	long long tk_user;
	const char *tk_user_text;
	const char *tk_snapshot;
	const char *tk_intent;
	const char *tk_identifier;
	const char *tk_expires; /* NULL when none */
};

/* 0 with *t loaded, or -1 having answered (404, 503). */
static int
token_load(struct cu_ctx *cx, enum cu_db_stmt st, const char *key, struct token *t)
{
	PGresult *res = NULL;
	enum cu_err err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, 1, &key);

	memset(t, 0, sizeof(*t));
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
	if (PQntuples(res) < 1) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	t->tk_res = res;
	t->tk_uuid = cu_db_value(res, 0, 1);
	t->tk_user_text = cu_db_value(res, 0, 2);
	t->tk_user = strtoll(t->tk_user_text, NULL, 10);
	t->tk_snapshot = cu_db_value(res, 0, 3);
	t->tk_intent = cu_db_value(res, 0, 4);
	t->tk_identifier = cu_db_value(res, 0, 5);
	t->tk_expires = cu_db_value(res, 0, 6);
	return 0;
}

/*
 * authentik's ObjectFilter with owner_field "user": the model permission shows every token,
 * else a user sees its own; custos adds the tokens it holds view_token on one by one, as its
 * other resources do. 1 visible, 0 not, -1 having answered 503.
 */
static int
token_visible(struct cu_ctx *cx, const struct token *t)
{
	int ok;

	if (t->tk_user == cx->cx_user->us_id)
		return 1;
	ok = cu_auth_has_perm(cx, cx->cx_user, "authentik_core.view_token", t->tk_uuid);
	if (ok < 0)
		cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The database");
	return ok;
}

/* Loads the token of the path and checks it may be seen: 0, or -1 having answered. */
static int
token_find(struct cu_ctx *cx, enum cu_db_stmt st, struct token *t)
{
	int v;

	if (token_load(cx, st, cu_ctx_param(cx, "identifier"), t) != 0)
		return -1;
	v = token_visible(cx, t);
	if (v < 0)
		return -1;
	if (v == 0) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	return 0;
}

static int
is_slug(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	return 1;
}

static int
digits(const char **p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)(*p)[i]))
			return 0;
	*p += n;
	return 1;
}

/*
 * An ISO 8601 date-time as DRF's DateTimeField takes it: YYYY-MM-DD[T ]hh:mm[:ss[.f+]] with an
 * optional Z or +hh:mm / -hh:mm / +hhmm. Returns it (arena-owned) with "+00:00" added when
 * it has no offset (naive times are UTC, as Django's default timezone), or NULL.
 */
static const char *
iso_datetime(struct cu_ctx *cx, const char *s)
{
	const char *p = s;

	if (!digits(&p, 4) || *p++ != '-' || !digits(&p, 2) || *p++ != '-' || !digits(&p, 2))
		return NULL;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return NULL;
	p++;
	if (!digits(&p, 2) || *p++ != ':' || !digits(&p, 2))
		return NULL;
	if (*p == ':') {
		p++;
		if (!digits(&p, 2))
			return NULL;
		if (*p == '.' || *p == ',') {
			p++;
			if (!isdigit((unsigned char)*p))
				return NULL;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	if (*p == '\0')
		return cu_arena_printf(cx->cx_arena, "%s+00:00", s);
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		return s;
	if (*p != '+' && *p != '-')
		return NULL;
	p++;
	if (!digits(&p, 2))
		return NULL;
	if (*p == ':')
		p++;
	if (*p != '\0' && !digits(&p, 2))
		return NULL;
	return *p == '\0' ? s : NULL;
}

#define DATETIME_FORMAT_MSG                                                                        \
	"Datetime has wrong format. Use one of these formats instead: "                            \
	"YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."

/*
 * "expires": 1 with *out the timestamp (NULL for null), 0 absent, -1 wrong (recorded). Checked
 * by PostgreSQL too (a 13th month passes the shape check), before any transaction opens.
 */
static int
field_expires(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
              const char **out)
{
	const char *s = NULL, *norm;
	int r = cu_api_field_string(e, body, "expires", 64, 1, 1, &s);

	*out = NULL;
	if (r <= 0 || s == NULL)
		return r;
	norm = iso_datetime(cx, s);
	if (norm != NULL) {
		enum cu_err err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL,
		                             CU_DB_STMT_TOKENS_CHECK_TIME, 1, &norm);

		if (err == CU_ERR_UNAVAILABLE || err == CU_ERR_INTERNAL)
			return -2;
		if (err != CU_OK)
			norm = NULL;
	}
	if (norm == NULL) {
		cu_api_error(e, "expires", DATETIME_FORMAT_MSG);
		return -1;
	}
	*out = norm;
	return 1;
}

/* "user": 1 with *out the id of an existing user, 0 absent, -1 wrong (recorded), -2 database. */
static int
field_user(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body, long long *out)
{
	struct json_object *v = NULL;
	PGresult *res = NULL;
	const char *id;
	char msg[128];
	enum cu_err err;

	if (!json_object_object_get_ex(body, "user", &v))
		return 0;
	if (v == NULL) {
		cu_api_error(e, "user", "This field may not be null.");
		return -1;
	}
	if (!json_object_is_type(v, json_type_int)) {
		snprintf(msg, sizeof(msg), "Incorrect type. Expected pk value, received %s.",
		         cu_api_py_type(v));
		cu_api_error(e, "user", msg);
		return -1;
	}
	id = cu_arena_printf(cx->cx_arena, "%lld", (long long)json_object_get_int64(v));
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_TOKENS_USER, 1, &id);
	if (err == CU_ERR_INVALID || (err == CU_OK && PQntuples(res) < 1)) {
		snprintf(msg, sizeof(msg), "Invalid pk \"%s\" - object does not exist.", id);
		cu_api_error(e, "user", msg);
		return -1;
	}
	if (err != CU_OK)
		return -2;
	*out = strtoll(id, NULL, 10);
	return 1;
}

void
cu_api_tokens_list(struct cu_ctx *cx)
{
	if (cu_api_login(cx) != 0)
		return;
	cu_api_list_send(cx, &token_list, NULL, 0);
}

void
cu_api_tokens_get(struct cu_ctx *cx)
{
	struct token t;

	if (cu_api_login(cx) != 0 || token_find(cx, CU_DB_STMT_TOKENS_GET, &t) != 0)
		return;
	cu_api_send_row(cx, 200, t.tk_res);
}

/* The intent rule of TokenSerializer.validate: only API and app password tokens. */
static int
check_intent(struct cu_api_errors *e, const char *intent)
{
	char msg[64];

	if (strcmp(intent, "api") == 0 || strcmp(intent, "app_password") == 0)
		return 0;
	snprintf(msg, sizeof(msg), "Invalid intent %s", intent);
	cu_api_error(e, "intent", msg);
	return -1;
}

/*
 * app_password tokens may not outlive the default token duration (authentik also reads a
 * maximum from the user's goauthentik.io/user/token-maximum-lifetime attribute; custos keeps
 * the default). 0 fine, -1 recorded, -2 database.
 */
static int
check_lifetime(struct cu_ctx *cx, struct cu_api_errors *e, const char *expires)
{
	PGresult *res = NULL;
	enum cu_err err;

	if (expires == NULL)
		return 0;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_TOKENS_CHECK_LIFETIME, 1,
	                 &expires);
	if (err != CU_OK)
		return -2;
	if (strcmp(cu_db_value(res, 0, 0), "t") == 0) {
		cu_api_error(e, "expires",
		             cu_arena_printf(cx->cx_arena,
		                             "Token expires exceeds maximum lifetime (%s UTC).",
		                             cu_db_value(res, 0, 1)));
		return -1;
	}
	return 0;
}

/* The fields both create and update read. */
struct token_body {
	const char *tb_identifier;
	const char *tb_intent;
	const char *tb_description;
	const char *tb_expires;
	int tb_has_expires;
	int tb_expiring;
	int tb_has_expiring;
	long long tb_user;
	int tb_has_user;
};

/* Reads and checks the body's fields: 0 fine, -1 errors recorded, -2 database down. */
static int
read_body(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
          struct token_body *tb)
{
	int r;

	memset(tb, 0, sizeof(*tb));
	if (cu_api_field_string(e, body, "identifier", TOKEN_IDENTIFIER_MAX, 0, 0,
	                        &tb->tb_identifier) > 0 &&
	    !is_slug(tb->tb_identifier)) {
		cu_api_error(e, "identifier",
		             "Enter a valid \"slug\" consisting of letters, numbers, "
		             "underscores or hyphens.");
		tb->tb_identifier = NULL;
	}
	(void)cu_api_field_choice(e, body, "intent", token_intents, &tb->tb_intent);
	(void)cu_api_field_string(e, body, "description", 0, 1, 0, &tb->tb_description);
	tb->tb_has_expiring = cu_api_field_bool(e, body, "expiring", &tb->tb_expiring) > 0;
	r = field_expires(cx, e, body, &tb->tb_expires);
	if (r == -2)
		return -2;
	tb->tb_has_expires = r > 0;
	r = field_user(cx, e, body, &tb->tb_user);
	if (r == -2)
		return -2;
	tb->tb_has_user = r > 0;
	return cu_api_errors_any(e) ? -1 : 0;
}

void
cu_api_tokens_create(struct cu_ctx *cx)
{
	struct json_object *body = NULL;
	struct cu_api_errors e;
	struct json_object *after = NULL;
	struct token_body tb;
	struct token t;
	char key[TOKEN_KEY_LEN + 1], digest[65];
	const char *params[8], *grant[3], *intent, *uuid;
	PGresult *res = NULL;
	long long owner;
	int expiring, r;
	enum cu_err err;

	/* authentik's rbac_allow_create_without_perm: any user may create tokens for itself. */
	if (cu_api_login(cx) != 0 || cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	r = read_body(cx, &e, body, &tb);
	if (r == -2) {
		cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The database");
		return;
	}
	if (!json_object_object_get_ex(body, "identifier", NULL))
		cu_api_error(&e, "identifier", "This field is required.");
	intent = tb.tb_intent != NULL ? tb.tb_intent : "api";
	if (!cu_api_errors_any(&e))
		(void)check_intent(&e, intent);
	owner = tb.tb_has_user ? tb.tb_user : cx->cx_user->us_id;
	expiring = tb.tb_has_expiring ? tb.tb_expiring : 1;
	/* perform_create: a non-superuser's token is its own, expiring as its attribute says. */
	if (!cx->cx_user->us_is_superuser) {
		const char *me = cx->cx_user->us_id_text;

		owner = cx->cx_user->us_id;
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_TOKENS_USER, 1, &me);
		if (err != CU_OK) {
			cu_ctx_fail(cx, err, "The database");
			return;
		}
		expiring = PQntuples(res) < 1 || strcmp(cu_db_value(res, 0, 0), "t") == 0;
	}
	if (!cu_api_errors_any(&e) && strcmp(intent, "app_password") == 0)
		r = check_lifetime(cx, &e, tb.tb_expires);
	if (r == -2) {
		cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The database");
		return;
	}
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}

	cu_crypto_random_alnum(key, TOKEN_KEY_LEN);
	cu_auth_key_digest(digest, key, TOKEN_KEY_LEN);
	params[0] = tb.tb_identifier;
	params[1] = key;
	params[2] = digest;
	params[3] = intent;
	params[4] = cu_arena_printf(cx->cx_arena, "%lld", owner);
	params[5] = tb.tb_description != NULL ? tb.tb_description : "";
	params[6] = expiring ? "true" : "false";
	params[7] = tb.tb_expires;

	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		goto out;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_TOKENS_INSERT, 8, params);
	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(res)) {
		cu_api_reject(cx, &e, "identifier", "token with this identifier already exists.");
		goto out;
	}
	if (err != CU_OK)
		goto fail;
	uuid = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
	if (!cx->cx_user->us_is_superuser) {
		grant[0] = cx->cx_user->us_id_text;
		grant[1] =
		    cu_arena_printf(cx->cx_arena, "ak-managed-role--user-%lld", cx->cx_user->us_id);
		grant[2] = uuid;
		err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_TOKENS_GRANT_KEY_VIEW, 3,
		                 grant);
		if (err != CU_OK)
			goto fail;
	}
	if (token_load(cx, CU_DB_STMT_TOKENS_GET_UUID, uuid, &t) != 0) {
		cu_db_rollback(cx->cx_db);
		goto out;
	}
	if ((err = cu_json_parse(cx->cx_arena, t.tk_snapshot, strlen(t.tk_snapshot), &after)) !=
	    CU_OK)
		goto fail;
	err = cu_events_model(cx, "model_created", "authentik_core", "token", uuid, t.tk_identifier,
	                      cu_api_json_diff(cx, NULL, after, NULL));
	if (err != CU_OK)
		goto fail;
	if ((err = cu_db_commit(cx->cx_db)) != CU_OK)
		goto fail;
	cu_api_send_row(cx, 201, t.tk_res);
	goto out;
fail:
	cu_db_rollback(cx->cx_db);
	cu_ctx_fail(cx, err, "The database");
out:
	OPENSSL_cleanse(key, sizeof(key));
}

void
cu_api_tokens_update(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *before = NULL, *after = NULL;
	struct cu_api_errors e;
	struct token_body tb;
	struct token t, t2;
	const char *params[7], *intent;
	PGresult *res = NULL;
	int r, expiring;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || token_find(cx, CU_DB_STMT_TOKENS_GET, &t) != 0 ||
	    cu_api_require(cx, "authentik_core.change_token", t.tk_uuid) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	r = read_body(cx, &e, body, &tb);
	if (r == -2) {
		cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The database");
		return;
	}
	if (cx->cx_req->rq_method == CU_HTTP_PUT &&
	    !json_object_object_get_ex(body, "identifier", NULL))
		cu_api_error(&e, "identifier", "This field is required.");
	/* TokenSerializer.validate_user: the owner never changes. */
	if (tb.tb_has_user && tb.tb_user != t.tk_user)
		cu_api_error(&e, "user", "User cannot be changed");
	intent = tb.tb_intent != NULL ? tb.tb_intent : t.tk_intent;
	if (!cu_api_errors_any(&e))
		(void)check_intent(&e, intent);
	if (!cu_api_errors_any(&e) && strcmp(intent, "app_password") == 0 && tb.tb_has_expires &&
	    check_lifetime(cx, &e, tb.tb_expires) == -2) {
		cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The database");
		return;
	}
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	if ((err = cu_json_parse(cx->cx_arena, t.tk_snapshot, strlen(t.tk_snapshot), &before)) !=
	    CU_OK) {
		cu_ctx_fail(cx, err, "The token");
		return;
	}
	if (!tb.tb_has_expiring) {
		struct json_object *v = NULL;

		expiring =
		    json_object_object_get_ex(before, "expiring", &v) && json_object_get_boolean(v);
	} else {
		expiring = tb.tb_expiring;
	}
	params[0] = t.tk_uuid;
	params[1] = tb.tb_identifier != NULL ? tb.tb_identifier : t.tk_identifier;
	params[2] = intent;
	params[3] = tb.tb_description;
	if (params[3] == NULL) {
		struct json_object *v = NULL;

		params[3] = json_object_object_get_ex(before, "description", &v)
		                ? json_object_get_string(v)
		                : "";
	}
	params[4] = expiring ? "true" : "false";
	/* API tokens keep the expiry authentik gave them: it cannot be set through the API. */
	params[5] = tb.tb_has_expires && strcmp(intent, "api") != 0 ? "true" : "false";
	params[6] = tb.tb_expires;

	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (token_load(cx, CU_DB_STMT_TOKENS_LOCK, t.tk_identifier, &t) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	if ((err = cu_json_parse(cx->cx_arena, t.tk_snapshot, strlen(t.tk_snapshot), &before)) !=
	    CU_OK)
		goto fail;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_TOKENS_UPDATE, 7, params);
	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(res)) {
		cu_api_reject(cx, &e, "identifier", "token with this identifier already exists.");
		return;
	}
	if (err != CU_OK)
		goto fail;
	if (token_load(cx, CU_DB_STMT_TOKENS_GET_UUID, t.tk_uuid, &t2) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	if ((err = cu_json_parse(cx->cx_arena, t2.tk_snapshot, strlen(t2.tk_snapshot), &after)) !=
	    CU_OK)
		goto fail;
	err = cu_events_model(cx, "model_updated", "authentik_core", "token", t.tk_uuid,
	                      t2.tk_identifier, cu_api_json_diff(cx, before, after, NULL));
	if (err != CU_OK)
		goto fail;
	if ((err = cu_db_commit(cx->cx_db)) != CU_OK)
		goto fail;
	cu_api_send_row(cx, 200, t2.tk_res);
	return;
fail:
	cu_db_rollback(cx->cx_db);
	cu_ctx_fail(cx, err, "The database");
}

void
cu_api_tokens_delete(struct cu_ctx *cx)
{
	struct json_object *before = NULL;
	struct token t;
	enum cu_err err;

	/* authentik's owner_field: the owner may delete its own token. Changing one still needs
	 * change_token (custos is stricter there: an owner cannot lift its token's expiry). */
	if (cu_api_login(cx) != 0 || token_find(cx, CU_DB_STMT_TOKENS_GET, &t) != 0 ||
	    (t.tk_user != cx->cx_user->us_id &&
	     cu_api_require(cx, "authentik_core.delete_token", t.tk_uuid) != 0))
		return;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (token_load(cx, CU_DB_STMT_TOKENS_LOCK, t.tk_identifier, &t) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	if ((err = cu_json_parse(cx->cx_arena, t.tk_snapshot, strlen(t.tk_snapshot), &before)) !=
	    CU_OK)
		goto fail;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_TOKENS_DELETE, 1, &t.tk_uuid);
	if (err != CU_OK)
		goto fail;
	err = cu_events_model(cx, "model_deleted", "authentik_core", "token", t.tk_uuid,
	                      t.tk_identifier, cu_api_json_diff(cx, before, NULL, NULL));
	if (err != CU_OK)
		goto fail;
	if ((err = cu_db_commit(cx->cx_db)) != CU_OK)
		goto fail;
	cu_api_no_content(cx);
	return;
fail:
	cu_db_rollback(cx->cx_db);
	cu_ctx_fail(cx, err, "The database");
}

void
cu_api_tokens_view_key(struct cu_ctx *cx)
{
	struct json_object *ctx, *secret, *out;
	struct token t;
	PGresult *res = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || token_find(cx, CU_DB_STMT_TOKENS_GET, &t) != 0 ||
	    cu_api_require(cx, "authentik_core.view_token_key", t.tk_uuid) != 0)
		return;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_TOKENS_KEY, 1, &t.tk_uuid);
	if (err != CU_OK || PQntuples(res) < 1) {
		cu_db_rollback(cx->cx_db);
		if (err == CU_OK)
			cu_ctx_error(cx, 404, "Not found.");
		else
			cu_ctx_fail(cx, err, "The database");
		return;
	}
	/* Event.new(SECRET_VIEW, secret=token): the token as a model reference, never its key. */
	ctx = cu_json_object(cx->cx_arena);
	secret = json_object_new_object();
	cu_json_set_string(secret, "app", "authentik_core");
	cu_json_set_string(secret, "model_name", "token");
	cu_json_set_string(secret, "pk", t.tk_uuid);
	cu_json_set_string(secret, "name", t.tk_identifier);
	cu_json_set(ctx, "secret", secret);
	err = cu_events_write(cx, "secret_view", "authentik.core.api.tokens", ctx);
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	out = cu_json_object(cx->cx_arena);
	cu_json_set_string(out, "key", cu_db_value(res, 0, 0));
	cu_ctx_json(cx, 200, out);
}

void
cu_api_tokens_set_key(struct cu_ctx *cx)
{
	struct json_object *body = NULL;
	struct cu_api_errors e;
	struct token t;
	char digest[65];
	const char *key = NULL, *params[3];
	PGresult *res = NULL;
	enum cu_err err;
	int r;

	if (cu_api_login(cx) != 0 || token_find(cx, CU_DB_STMT_TOKENS_GET, &t) != 0 ||
	    cu_api_require(cx, "authentik_core.set_token_key", t.tk_uuid) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	/* Longer keys could never authenticate (CU_AUTH_MAX_KEY), so they are refused here. */
	r = cu_api_field_string(&e, body, "key", CU_AUTH_MAX_KEY, 0, 0, &key);
	if (r == 0)
		cu_api_error(&e, "key", "This field is required.");
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	cu_auth_key_digest(digest, key, strlen(key));
	params[0] = t.tk_uuid;
	params[1] = key;
	params[2] = digest;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_TOKENS_SET_KEY, 3, params);
	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(res)) {
		cu_api_reject(cx, &e, "key", "token with this key already exists.");
		return;
	}
	if (err != CU_OK)
		goto fail;
	/* authentik logs model_updated for the token; the key stays out of the event. */
	err = cu_events_model(cx, "model_updated", "authentik_core", "token", t.tk_uuid,
	                      t.tk_identifier, NULL);
	if (err != CU_OK)
		goto fail;
	if ((err = cu_db_commit(cx->cx_db)) != CU_OK)
		goto fail;
	cu_api_no_content(cx);
	return;
fail:
	cu_db_rollback(cx->cx_db);
	cu_ctx_fail(cx, err, "The database");
}
