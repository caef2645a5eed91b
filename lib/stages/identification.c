/*
 * The identification stage (authentik's IdentificationStage, ak-stage-identification): finds
 * the user by one of user_fields and makes it the pending user, optionally checking a password
 * in the same step with the config of the password stage named by password_stage.
 *
 * An identifier that matches nobody is not told apart: with pretend_user_exists and no inline
 * password the flow goes on exactly as for a known user (the later password stage then fails
 * it with the usual error); with an inline password a dummy verification of the same cost runs,
 * and the answer is the same "Failed to authenticate." a wrong password gets. Either way the
 * reputation of the client IP and the identifier drops by one.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "api/common.h"
#include "db.h"
#include "flows.h"
#include "json.h"
#include "log.h"
#include "policies/engine.h"
#include "server.h"
#include "stages/stages.h"
#include "stages/stages_auth.h"

#define IDENT_FAILED "Failed to authenticate."

/* Which fields identify a user, from the config's user_fields (authentik's default: email and
 * username). *is_null is set when the config holds null. */
struct ident_fields {
	int if_email;
	int if_username;
	int if_upn;
	int if_null;
};

static void
ident_fields_of(struct cu_flow_exec *fx, struct ident_fields *f)
{
	struct json_object *arr = NULL, *v;
	const char *s;
	size_t i, n;

	memset(f, 0, sizeof(*f));
	if (!json_object_object_get_ex(fx->fx_config, "user_fields", &arr)) {
		f->if_email = f->if_username = 1;
		return;
	}
	if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
		f->if_null = 1;
		return;
	}
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_string))
			continue;
		s = json_object_get_string(v);
		if (strcmp(s, "email") == 0)
			f->if_email = 1;
		else if (strcmp(s, "username") == 0)
			f->if_username = 1;
		else if (strcmp(s, "upn") == 0)
			f->if_upn = 1;
	}
}

/* A config value naming an object by uuid, or NULL when absent or not a uuid. */
static const char *
cfg_uuid(struct cu_flow_exec *fx, const char *key)
{
	const char *s = cu_flow_cfg_string(fx, key, NULL);

	return cu_api_is_uuid(s) ? s : NULL;
}

/* The plan's application (context "application", a uuid), or NULL. */
static const char *
plan_application(struct cu_flow_exec *fx)
{
	const char *s = cu_flow_ctx_string(fx, "application");

	return cu_api_is_uuid(s) ? s : NULL;
}

static void
set_flow_url(struct cu_flow_exec *fx, struct json_object *ch, const char *key, const char *slug)
{
	const char *query = NULL;

	if (slug == NULL)
		return;
	/* Linked flows keep the query of the flow page (?next= and the like). */
	if (cu_json_get_string(fx->fx_plan, "query", &query) != 0)
		query = "";
	cu_json_set_string(ch, key, cu_flow_interface_url(fx->fx_cx, slug, query));
}

static enum cu_stage_result
ident_challenge(struct cu_flow_exec *fx)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct json_object *ch = cu_flow_challenge(fx, "ak-stage-identification");
	struct json_object *fields, *pwcfg = NULL;
	struct ident_fields f;
	const char *params[5], *s;
	PGresult *res = NULL;
	int password_fields;

	ident_fields_of(fx, &f);
	if (f.if_null) {
		cu_json_set(ch, "user_fields", NULL);
	} else {
		fields = json_object_new_array();
		if (f.if_email)
			json_object_array_add(fields, json_object_new_string("email"));
		if (f.if_username)
			json_object_array_add(fields, json_object_new_string("username"));
		if (f.if_upn)
			json_object_array_add(fields, json_object_new_string("upn"));
		cu_json_set(ch, "user_fields", fields);
	}
	params[0] = cfg_uuid(fx, "enrollment_flow");
	params[1] = cfg_uuid(fx, "recovery_flow");
	params[2] = cfg_uuid(fx, "passwordless_flow");
	params[3] = cfg_uuid(fx, "password_stage");
	params[4] = plan_application(fx);
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_STAGES_AUTH_IDENT_REFS, 5,
	               params) != CU_OK ||
	    PQntuples(res) != 1)
		return CU_STAGE_FAIL;
	s = cu_db_value(res, 0, 3);
	password_fields = s != NULL;
	if (s != NULL && cu_json_parse(cx->cx_arena, s, strlen(s), &pwcfg) != CU_OK)
		pwcfg = NULL;
	cu_json_set_bool(ch, "password_fields", password_fields);
	cu_json_set_bool(
	    ch, "allow_show_password",
	    password_fields && pwcfg != NULL &&
	        json_object_get_boolean(json_object_object_get(pwcfg, "allow_show_password")));
	if ((s = cu_db_value(res, 0, 4)) != NULL) {
		cu_json_set_string(ch, "application_pre", s);
		if ((s = cu_db_value(res, 0, 5)) != NULL && s[0] != '\0')
			cu_json_set_string(ch, "application_pre_launch", s);
	}
	cu_json_set_string(ch, "flow_designation", fx->fx_flow->fl_designation);
	cu_json_set(ch, "captcha_stage", NULL);
	set_flow_url(fx, ch, "enroll_url", cu_db_value(res, 0, 0));
	set_flow_url(fx, ch, "recovery_url", cu_db_value(res, 0, 1));
	set_flow_url(fx, ch, "passwordless_url", cu_db_value(res, 0, 2));
	cu_json_set_string(ch, "primary_action",
	                   strcmp(fx->fx_flow->fl_designation, "authentication") == 0 ? "Log in"
	                                                                              : "Continue");
	cu_json_set(ch, "sources", json_object_new_array());
	cu_json_set_bool(ch, "show_source_labels", cu_flow_cfg_bool(fx, "show_source_labels", 0));
	cu_json_set_bool(ch, "enable_remember_me", cu_flow_cfg_bool(fx, "enable_remember_me", 0));
	cu_json_set(ch, "passkey_challenge", NULL);
	if ((s = cu_flow_ctx_string(fx, "pending_user_identifier")) != NULL)
		cu_json_set_string(ch, "pending_user_identifier", s);
	return CU_STAGE_CHALLENGE;
}

/* The inline password stage's config (arena-owned), or NULL when there is none. *fail is set
 * when PostgreSQL could not say. */
static struct json_object *
inline_password_config(struct cu_flow_exec *fx, int *fail)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct json_object *cfg = NULL;
	const char *params[1], *s;
	PGresult *res = NULL;

	*fail = 0;
	if ((params[0] = cfg_uuid(fx, "password_stage")) == NULL)
		return NULL;
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_STAGES_AUTH_PASSWORD_CONFIG, 1,
	               params) != CU_OK) {
		*fail = 1;
		return NULL;
	}
	/* A stage that has gone since the config named it counts as none, as authentik's
	 * SET_NULL reference does. */
	if (PQntuples(res) != 1)
		return NULL;
	s = cu_db_value(res, 0, 0);
	if (cu_json_parse(cx->cx_arena, s, strlen(s), &cfg) != CU_OK || cfg == NULL)
		cfg = cu_json_object(cx->cx_arena);
	return cfg;
}

/* The user matching uid by the configured fields: CU_OK with *id 0 when there is none. */
static enum cu_err
ident_lookup(struct cu_flow_exec *fx, const char *uid, long long *id, const char **username)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct ident_fields f;
	const char *params[5];
	PGresult *res = NULL;
	enum cu_err err;

	*id = 0;
	*username = NULL;
	ident_fields_of(fx, &f);
	if (!f.if_email && !f.if_username && !f.if_upn)
		return CU_OK;
	params[0] = uid;
	params[1] = f.if_email ? "true" : "false";
	params[2] = f.if_username ? "true" : "false";
	params[3] = f.if_upn ? "true" : "false";
	params[4] = cu_flow_cfg_bool(fx, "case_insensitive_matching", 1) ? "true" : "false";
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_STAGES_AUTH_IDENTIFY, 5, params);
	if (err != CU_OK)
		return err;
	if (PQntuples(res) == 1) {
		*id = strtoll(cu_db_value(res, 0, 0), NULL, 10);
		*username = cu_db_value(res, 0, 1);
	}
	return CU_OK;
}

static enum cu_stage_result
ident_respond(struct cu_flow_exec *fx, struct json_object *body)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct json_object *v = NULL, *pwcfg;
	const char *uid = NULL, *pw = "", *username;
	size_t uidlen, pwlen = 0;
	long long id;
	int fail;

	if (!json_object_object_get_ex(body, "uid_field", &v) || v == NULL ||
	    (json_object_is_type(v, json_type_string) && json_object_get_string_len(v) == 0))
		return cu_stage_auth_bad(fx, NULL, "No identification data provided.", "invalid");
	if (!json_object_is_type(v, json_type_string) ||
	    cu_json_get_string(body, "uid_field", &uid) != 0)
		return cu_stage_auth_bad(fx, "uid_field", "Not a valid string.", "invalid");
	uidlen = (size_t)json_object_get_string_len(v);
	if (uidlen > CU_STAGE_AUTH_MAX_IDENTIFIER)
		return cu_stage_auth_bad(fx, "uid_field",
		                         cu_arena_printf(cx->cx_arena,
		                                         "Ensure this field has no more than %d "
		                                         "characters.",
		                                         CU_STAGE_AUTH_MAX_IDENTIFIER),
		                         "max_length");
	if (json_object_object_get_ex(body, "password", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    cu_json_get_string(body, "password", &pw) == 0)
		pwlen = (size_t)json_object_get_string_len(v);
	else
		pw = "";

	if (cu_stage_auth_locked(fx, uid))
		return cu_flow_invalid(fx, NULL, IDENT_FAILED, "invalid");
	pwcfg = inline_password_config(fx, &fail);
	if (fail || ident_lookup(fx, uid, &id, &username) != CU_OK)
		return CU_STAGE_FAIL;
	/*
	 * As authentik: an identifier that matched nobody stands in for the user (later stages
	 * show it and fail it), and with show_matched_user off what was typed is shown rather than
	 * the account it matched.
	 */
	if (id == 0 || !cu_flow_cfg_bool(fx, "show_matched_user", 1))
		cu_flow_ctx_set_string(fx, "pending_user_identifier", uid);
	else
		cu_flow_ctx_del(fx, "pending_user_identifier");

	if (id == 0) {
		if (pwcfg != NULL)
			cu_stage_auth_dummy(cx, pw, pwlen);
		cu_reputation_update(cx, cu_stage_auth_client_ip(cx), uid, -1);
		cu_log(CU_LOG_INFO, "invalid_login", CU_LS("identifier", uid),
		       CU_LS("client_ip", cu_stage_auth_client_ip(cx)),
		       CU_LS("action", "invalid_identifier"), CU_LS("stage", fx->fx_stage_name));
		cu_flow_ctx_del(fx, "pending_user");
		if (cu_flow_cfg_bool(fx, "pretend_user_exists", 1) && pwcfg == NULL)
			return CU_STAGE_NEXT;
		return cu_flow_invalid(fx, NULL, IDENT_FAILED, "invalid");
	}

	if (pwcfg != NULL) {
		/* The account's own reputation too, when it was named by another field. */
		if (strcmp(username, uid) != 0 && cu_stage_auth_locked(fx, username)) {
			cu_flow_ctx_del(fx, "pending_user");
			return cu_flow_invalid(fx, NULL, IDENT_FAILED, "invalid");
		}
		switch (cu_stage_auth_password(fx, pwcfg, id, username, pw, pwlen)) {
		case CU_STAGE_AUTH_OK:
			break;
		case CU_STAGE_AUTH_WRONG:
			cu_flow_ctx_del(fx, "pending_user");
			if (cu_stage_auth_failed(fx, username) != CU_OK)
				return CU_STAGE_FAIL;
			return cu_flow_invalid(fx, NULL, IDENT_FAILED, "invalid");
		case CU_STAGE_AUTH_FAIL:
		default:
			return CU_STAGE_FAIL;
		}
	}
	switch (cu_flow_set_pending_user(fx, id)) {
	case CU_OK:
		return CU_STAGE_NEXT;
	case CU_ERR_NOT_FOUND:
		/* Deactivated between the lookup and now. */
		return cu_flow_invalid(fx, NULL, IDENT_FAILED, "invalid");
	default:
		return CU_STAGE_FAIL;
	}
}

const struct cu_stage_type cu_stage_identification = {
    "identificationstage", "ak-stage-identification", ident_challenge, ident_respond};
