/*
 * The password stage (authentik's PasswordStage, ak-stage-password): the pending user's
 * password, checked with the stage's backends (the stored hash, app passwords). Wrong answers
 * are counted in the plan and after failed_attempts_before_cancel the flow is denied; each one
 * writes a login_failed event and lowers the reputation of the client IP and the username,
 * and a reputation at the lockout threshold refuses every answer without checking it.
 *
 * Also the checks the identification stage shares for its inline password (stages_auth.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "auth.h"
#include "crypto.h"
#include "db.h"
#include "events.h"
#include "flows.h"
#include "json.h"
#include "log.h"
#include "password.h"
#include "policies/engine.h"
#include "server.h"
#include "stages/stages.h"
#include "stages/stages_auth.h"

/* How many wrong answers this plan has seen at a password stage. */
#define PASSWORD_CTX_TRIES "goauthentik.io/stages/password/user_invalid_tries"
#define PASSWORD_INVALID "Invalid password"

/* The dummy hash: made on first use, kept for the life of the process (config cannot change). */
static char dummy_hash[CU_PASSWORD_MAX_ENCODED];
static int dummy_ready;

static void
params_from_config(const struct cu_config *cfg, struct cu_password_params *p)
{
	p->pp_memory_kib = (uint32_t)cfg->password_memory_kib;
	p->pp_time_cost = (uint32_t)cfg->password_time_cost;
	p->pp_parallelism = (uint32_t)cfg->password_parallelism;
}

const char *
cu_stage_auth_client_ip(struct cu_ctx *cx)
{
	const char *ip = cu_events_client_ip(cx);

	return ip != NULL ? ip : "255.255.255.255";
}

/* Makes the dummy hash on first use; 0 when it is there. Every password check calls this first,
 * so that the one-off cost of making it falls on whichever check comes first, known user or
 * not, and tells nothing. */
static int
dummy_prepare(const struct cu_password_params *p)
{
	char random_pw[33];

	if (dummy_ready)
		return 0;
	cu_crypto_random_alnum(random_pw, sizeof(random_pw) - 1);
	if (cu_password_hash(dummy_hash, sizeof(dummy_hash), random_pw, strlen(random_pw), p) !=
	    0) {
		cu_log_msg(CU_LOG_ERROR, "stage_dummy_hash", "could not make the dummy hash");
		return -1;
	}
	dummy_ready = 1;
	return 0;
}

void
cu_stage_auth_dummy(struct cu_ctx *cx, const char *password, size_t len)
{
	struct cu_password_params p;
	volatile enum cu_password_result r;

	params_from_config(cx->cx_cfg, &p);
	if (dummy_prepare(&p) != 0)
		return;
	if (password == NULL || len > CU_PASSWORD_MAX_LEN) {
		password = "";
		len = 0;
	}
	/* The result is meaningless (the password is random); only the time spent counts. */
	r = cu_password_verify(dummy_hash, password, len, &p);
	(void)r;
}

enum cu_stage_result
cu_stage_auth_bad(struct cu_flow_exec *fx, const char *field, const char *msg, const char *code)
{
	cu_log(CU_LOG_INFO, "stage_answer_invalid", CU_LS("stage", fx->fx_stage_name),
	       CU_LS("field", field != NULL ? field : "non_field_errors"), CU_LS("code", code));
	return cu_flow_invalid(fx, field, msg, code);
}

int
cu_stage_auth_locked(struct cu_flow_exec *fx, const char *identifier)
{
	struct cu_ctx *cx = fx->fx_cx;
	const char *ip = cu_stage_auth_client_ip(cx);
	int score = cu_reputation_score(cx, ip, identifier != NULL ? identifier : "");

	if (score > cx->cx_cfg->reputation_lockout)
		return 0;
	cu_log(CU_LOG_WARNING, "login_locked", CU_LS("client_ip", ip),
	       CU_LS("identifier", identifier), CU_LI("score", score),
	       CU_LS("stage", fx->fx_stage_name));
	return 1;
}

const char *
cu_stage_auth_host(struct cu_arena *a, const char *host)
{
	const char *end;

	if (host == NULL)
		return "";
	if (host[0] == '[') {
		end = strchr(host, ']');
		return end != NULL ? cu_arena_strndup(a, host + 1, (size_t)(end - host - 1)) : host;
	}
	end = strchr(host, ':');
	if (end != NULL && strchr(end + 1, ':') == NULL)
		return cu_arena_strndup(a, host, (size_t)(end - host));
	return host;
}

/* authentik's sanitised form of a model instance: {"pk", "app", "model_name", "name"}, the
 * pk of a UUID as 32 hex digits. */
static struct json_object *
model_dict(struct cu_ctx *cx, const char *app, const char *model_name, const char *uuid,
           const char *name)
{
	struct json_object *o = cu_json_object(cx->cx_arena);
	char hex[33];
	size_t i, n = 0;

	for (i = 0; uuid != NULL && uuid[i] != '\0' && n < sizeof(hex) - 1; i++)
		if (uuid[i] != '-')
			hex[n++] = uuid[i];
	hex[n] = '\0';
	cu_json_set_string(o, "pk", hex);
	cu_json_set_string(o, "app", app);
	cu_json_set_string(o, "model_name", model_name);
	cu_json_set_string(o, "name", name != NULL ? name : "");
	return o;
}

/* The app label of the current stage's kind, as authentik names the Django app. */
static const char *
stage_app(struct cu_flow_exec *fx)
{
	const char *type = NULL;

	if (cu_json_get_string(fx->fx_stage, "type", &type) == 0 &&
	    strcmp(type, "identificationstage") == 0)
		return "authentik_stages_identification";
	return "authentik_stages_password";
}

enum cu_err
cu_stage_auth_failed(struct cu_flow_exec *fx, const char *identifier)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct json_object *ctx = cu_json_object(cx->cx_arena);
	const char *type = NULL;
	enum cu_err err;

	if (identifier == NULL)
		identifier = "";
	if (cu_json_get_string(fx->fx_stage, "type", &type) != 0)
		type = "passwordstage";
	cu_json_set_string(ctx, "username", identifier);
	cu_json_set(ctx, "stage",
	            json_object_get(
	                model_dict(cx, stage_app(fx), type, fx->fx_stage_uuid, fx->fx_stage_name)));
	cu_reputation_update(cx, cu_stage_auth_client_ip(cx), identifier, -1);
	err = cu_events_write(cx, "login_failed", "authentik.events.signals", ctx);
	cu_log(CU_LOG_INFO, "login_failed", CU_LS("identifier", identifier),
	       CU_LS("client_ip", cu_stage_auth_client_ip(cx)), CU_LS("stage", fx->fx_stage_name));
	return err;
}

/* Which backends pw_config names; both when it names none (a stage made without the API). */
static void
backends_of(struct json_object *pw_config, int *inbuilt, int *token)
{
	struct json_object *arr = NULL, *v;
	size_t i, n;

	if (pw_config == NULL || cu_json_get_array(pw_config, "backends", &arr) != 0) {
		*inbuilt = *token = 1;
		return;
	}
	*inbuilt = *token = 0;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_string))
			continue;
		if (strcmp(json_object_get_string(v), CU_STAGE_AUTH_BACKEND_INBUILT) == 0)
			*inbuilt = 1;
		else if (strcmp(json_object_get_string(v), CU_STAGE_AUTH_BACKEND_TOKEN) == 0)
			*token = 1;
	}
}

/* Replaces the verified hash old with one of the configured parameters, unless it changed. */
static void
rehash(struct cu_ctx *cx, long long user_id, const char *old, const char *password, size_t len,
       const struct cu_password_params *p)
{
	char fresh[CU_PASSWORD_MAX_ENCODED];
	const char *params[3];
	PGresult *res = NULL;

	if (cu_password_hash(fresh, sizeof(fresh), password, len, p) != 0) {
		cu_log_msg(CU_LOG_ERROR, "password_rehash", "hashing failed");
		return;
	}
	params[0] = cu_arena_printf(cx->cx_arena, "%lld", user_id);
	params[1] = fresh;
	params[2] = old;
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_STAGES_AUTH_REHASH, 3, params) !=
	    CU_OK) {
		/* The login stands; the hash is upgraded at a later one. */
		cu_log(CU_LOG_WARNING, "password_rehash", CU_LI("user", user_id),
		       CU_LS("msg", "could not store the new hash"));
		return;
	}
	cu_log(CU_LOG_INFO, "password_rehash", CU_LI("user", user_id),
	       CU_LS("updated", strcmp(PQcmdTuples(res), "1") == 0 ? "yes" : "no"));
}

enum cu_stage_auth_result
cu_stage_auth_password(struct cu_flow_exec *fx, struct json_object *pw_config, long long user_id,
                       const char *username, const char *password, size_t len)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct cu_password_params p;
	struct json_object *args;
	const char *params[2], *hash, *key;
	char digest[65];
	PGresult *res = NULL;
	enum cu_password_result r = CU_PASSWORD_MISMATCH;
	int inbuilt, token;
	enum cu_err err;

	if (password == NULL)
		password = "";
	params_from_config(cx->cx_cfg, &p);
	(void)dummy_prepare(&p);
	if (user_id <= 0) {
		cu_stage_auth_dummy(cx, password, len);
		return CU_STAGE_AUTH_WRONG;
	}
	/* Too long to be anyone's password: refused before any hashing or lookup. */
	if (len > CU_PASSWORD_MAX_LEN)
		return CU_STAGE_AUTH_WRONG;
	backends_of(pw_config, &inbuilt, &token);
	params[0] = cu_arena_printf(cx->cx_arena, "%lld", user_id);
	params[1] = NULL;
	if (token && len > 0) {
		cu_auth_key_digest(digest, password, len);
		params[1] = digest;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_STAGES_AUTH_CREDENTIALS, 2,
	                 params);
	if (err != CU_OK)
		return CU_STAGE_AUTH_FAIL;
	if (PQntuples(res) != 1) {
		/* Deactivated or deleted since identification. */
		cu_stage_auth_dummy(cx, password, len);
		return CU_STAGE_AUTH_WRONG;
	}
	hash = cu_db_value(res, 0, 0);
	/* A hash is verified whatever the backends and the stored hash, so that the time taken
	 * tells nothing about either. */
	if (inbuilt && cu_password_usable(hash))
		r = cu_password_verify(hash, password, len, &p);
	else
		cu_stage_auth_dummy(cx, password, len);
	args = cu_json_object(cx->cx_arena);
	if (r == CU_PASSWORD_OK || r == CU_PASSWORD_OK_REHASH) {
		cu_flow_ctx_set_string(fx, "auth_method", "password");
		cu_flow_ctx_set_string(fx, "user_backend", CU_STAGE_AUTH_BACKEND_INBUILT);
		if (r == CU_PASSWORD_OK_REHASH)
			rehash(cx, user_id, hash, password, len, &p);
	} else {
		/* The digest found the token; the key itself must match too. */
		key = cu_db_value(res, 0, 3);
		if (params[1] == NULL || key == NULL ||
		    !cu_crypto_ct_eq(key, strlen(key), password, len))
			return CU_STAGE_AUTH_WRONG;
		cu_flow_ctx_set_string(fx, "auth_method", "app_password");
		cu_flow_ctx_set_string(fx, "user_backend", CU_STAGE_AUTH_BACKEND_TOKEN);
		cu_json_set(
		    args, "token",
		    json_object_get(model_dict(cx, "authentik_core", "token",
		                               cu_db_value(res, 0, 1), cu_db_value(res, 0, 2))));
	}
	cu_flow_ctx_set(fx, "auth_method_args", args);
	cu_reputation_update(cx, cu_stage_auth_client_ip(cx), username, 1);
	return CU_STAGE_AUTH_OK;
}

/* --- the stage ---------------------------------------------------------------------------- */

/* Who the stage is checking: the pending user, or the identifier of an unknown one. */
static const char *
pending_identifier(struct cu_flow_exec *fx)
{
	if (fx->fx_pending_user != NULL)
		return fx->fx_pending_user->us_username;
	return cu_flow_ctx_string(fx, "pending_user_identifier");
}

static enum cu_stage_result
password_challenge(struct cu_flow_exec *fx)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct json_object *ch = cu_flow_challenge(fx, "ak-stage-password");
	const char *params[1];
	PGresult *res = NULL;

	cu_json_set_bool(ch, "allow_show_password", cu_flow_cfg_bool(fx, "allow_show_password", 0));
	/* authentik links the brand's recovery flow. */
	params[0] = cu_stage_auth_host(cx->cx_arena, cx->cx_req->rq_host);
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_STAGES_AUTH_RECOVERY_SLUG, 1,
	               params) != CU_OK)
		return CU_STAGE_FAIL;
	cu_json_set_string(ch, "recovery_url",
	                   PQntuples(res) == 1 ? cu_arena_printf(cx->cx_arena, "/if/flow/%s/",
	                                                         cu_db_value(res, 0, 0))
	                                       : "");
	return CU_STAGE_CHALLENGE;
}

/* A wrong answer: counted, and the flow denied once there were failed_attempts_before_cancel. */
static enum cu_stage_result
password_wrong(struct cu_flow_exec *fx)
{
	struct json_object *v = cu_flow_ctx_get(fx, PASSWORD_CTX_TRIES);
	long long tries = 0, max = cu_flow_cfg_int(fx, "failed_attempts_before_cancel", 5);

	if (v != NULL && json_object_is_type(v, json_type_int))
		tries = json_object_get_int64(v);
	tries++;
	if (tries >= max) {
		cu_log(CU_LOG_INFO, "password_attempts_exceeded", CU_LI("tries", tries),
		       CU_LS("stage", fx->fx_stage_name));
		cu_flow_ctx_del(fx, PASSWORD_CTX_TRIES);
		return cu_flow_deny(fx, PASSWORD_INVALID);
	}
	cu_flow_ctx_set(fx, PASSWORD_CTX_TRIES,
	                cu_json_adopt(fx->fx_cx->cx_arena, json_object_new_int64(tries)));
	return cu_flow_invalid(fx, "password", PASSWORD_INVALID, "invalid");
}

static enum cu_stage_result
password_respond(struct cu_flow_exec *fx, struct json_object *body)
{
	struct json_object *v = NULL;
	const char *pw, *identifier;
	long long user_id = 0;
	size_t len;

	if (!json_object_object_get_ex(body, "password", &v) || v == NULL)
		return cu_stage_auth_bad(fx, "password", "This field is required.", "required");
	if (!json_object_is_type(v, json_type_string) ||
	    cu_json_get_string(body, "password", &pw) != 0)
		return cu_stage_auth_bad(fx, "password", "Not a valid string.", "invalid");
	len = (size_t)json_object_get_string_len(v);
	if (len == 0)
		return cu_stage_auth_bad(fx, "password", "This field may not be blank.", "blank");
	identifier = pending_identifier(fx);
	if (identifier == NULL) {
		/* Nobody to check the password of: the flow was not set up with identification. */
		cu_log_msg(CU_LOG_WARNING, "password_no_pending_user", fx->fx_stage_name);
		return cu_flow_deny(fx, "No pending user.");
	}
	if (cu_stage_auth_locked(fx, identifier))
		return password_wrong(fx);
	if (fx->fx_pending_user != NULL)
		user_id = fx->fx_pending_user->us_id;
	switch (cu_stage_auth_password(fx, fx->fx_config, user_id, identifier, pw, len)) {
	case CU_STAGE_AUTH_OK:
		cu_flow_ctx_del(fx, PASSWORD_CTX_TRIES);
		return CU_STAGE_NEXT;
	case CU_STAGE_AUTH_WRONG:
		if (cu_stage_auth_failed(fx, identifier) != CU_OK)
			return CU_STAGE_FAIL;
		return password_wrong(fx);
	case CU_STAGE_AUTH_FAIL:
	default:
		return CU_STAGE_FAIL;
	}
}

const struct cu_stage_type cu_stage_password = {"passwordstage", "ak-stage-password",
                                                password_challenge, password_respond};
