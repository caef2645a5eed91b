/*
 * The consent stage (authentik's ConsentStage, ak-stage-consent): the user agrees to what an
 * application asks for. The asking side (an OAuth or SAML provider) leaves in the plan context
 * "application" (a uuid), "consent_permissions" and "consent_additional_permissions" (arrays of
 * {"id", "name"}) and "consent_header". The answer must echo the challenge's one-time token.
 *
 * Modes: always_require asks every time and stores nothing; permanent and expiring store a
 * user_consents row (expiring: for consent_expire_in) and skip the stage while a stored consent
 * covers every permission asked for. A plan without an application always asks and stores
 * nothing, as authentik does.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "api/common.h"
#include "auth.h"
#include "buf.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "flows.h"
#include "json.h"
#include "log.h"
#include "server.h"
#include "stages/stages.h"
#include "stages/stages_auth.h"

#define CONSENT_CTX_TOKEN "goauthentik.io/stages/consent/token"
#define CONSENT_TOKEN_LEN 32
/* Longest permission string stored (the ids asked for, space-separated). */
#define CONSENT_MAX_PERMISSIONS 65536

/* 1 when the word w (n bytes) is one of the space-separated words of list. */
static int
has_word(const char *list, const char *w, size_t n)
{
	const char *p = list, *e;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		e = p;
		while (*e != '\0' && *e != ' ')
			e++;
		if (e > p && (size_t)(e - p) == n && memcmp(p, w, n) == 0)
			return 1;
		p = e;
	}
	return 0;
}

/* The "id" of a permission entry, or NULL when it has none. */
static const char *
perm_id(struct json_object *entry)
{
	const char *id = NULL;

	if (entry == NULL || !json_object_is_type(entry, json_type_object) ||
	    cu_json_get_string(entry, "id", &id) != 0)
		return NULL;
	return id;
}

int
cu_stage_consent_covers(const char *allowed, struct json_object *requested)
{
	const char *id;
	size_t i, n;

	if (requested == NULL || !json_object_is_type(requested, json_type_array))
		return 1;
	if (allowed == NULL)
		allowed = "";
	n = json_object_array_length(requested);
	for (i = 0; i < n; i++) {
		id = perm_id(json_object_array_get_idx(requested, i));
		if (id == NULL)
			continue;
		/* An id with a space could never be stored as one word: never covered. */
		if (strchr(id, ' ') != NULL || !has_word(allowed, id, strlen(id)))
			return 0;
	}
	return 1;
}

static const char *
consent_mode(struct cu_flow_exec *fx)
{
	const char *m = cu_flow_cfg_string(fx, "mode", "expiring");

	if (strcmp(m, "always_require") == 0 || strcmp(m, "permanent") == 0)
		return m;
	return "expiring";
}

static const char *
consent_application(struct cu_flow_exec *fx)
{
	const char *s = cu_flow_ctx_string(fx, "application");

	return cu_api_is_uuid(s) ? s : NULL;
}

static const struct cu_user *
consent_user(struct cu_flow_exec *fx)
{
	return fx->fx_pending_user != NULL ? fx->fx_pending_user : fx->fx_session_user;
}

/* A context array of permissions, or NULL. */
static struct json_object *
ctx_perms(struct cu_flow_exec *fx, const char *key)
{
	struct json_object *v = cu_flow_ctx_get(fx, key);

	return v != NULL && json_object_is_type(v, json_type_array) ? v : NULL;
}

/* Appends the entries of src (may be NULL) to the arrays: those covered by allowed (NULL: all)
 * to known, the others to extra. */
static void
split_perms(struct json_object *src, const char *allowed, struct json_object *known,
            struct json_object *extra)
{
	struct json_object *e;
	const char *id;
	size_t i, n;

	if (src == NULL)
		return;
	n = json_object_array_length(src);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(src, i);
		id = perm_id(e);
		if (allowed == NULL ||
		    (id != NULL && strchr(id, ' ') == NULL && has_word(allowed, id, strlen(id))))
			json_object_array_add(known, json_object_get(e));
		else
			json_object_array_add(extra, json_object_get(e));
	}
}

static enum cu_stage_result
consent_challenge(struct cu_flow_exec *fx)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct json_object *ch, *perms, *extra, *requested;
	const struct cu_user *user = consent_user(fx);
	const char *app = consent_application(fx), *allowed = NULL, *params[2], *header;
	char token[CONSENT_TOKEN_LEN + 1];
	PGresult *res = NULL;

	requested = ctx_perms(fx, "consent_permissions");
	if (strcmp(consent_mode(fx), "always_require") != 0 && app != NULL && user != NULL) {
		params[0] = user->us_id_text;
		params[1] = app;
		if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_STAGES_AUTH_CONSENT_GET, 2,
		               params) != CU_OK)
			return CU_STAGE_FAIL;
		if (PQntuples(res) == 1) {
			allowed = cu_db_value(res, 0, 0);
			if (cu_stage_consent_covers(allowed, requested) &&
			    cu_stage_consent_covers(
			        allowed, ctx_perms(fx, "consent_additional_permissions")))
				return CU_STAGE_NEXT;
		}
	}
	/* What was given before is shown as such, what is new as additional; the context keeps
	 * the request as the provider made it, so that a second showing splits it the same way. */
	perms = json_object_new_array();
	extra = json_object_new_array();
	split_perms(requested, allowed, perms, extra);
	split_perms(ctx_perms(fx, "consent_additional_permissions"), NULL, extra, extra);
	cu_crypto_random_alnum(token, CONSENT_TOKEN_LEN);
	cu_flow_ctx_set_string(fx, CONSENT_CTX_TOKEN, token);
	ch = cu_flow_challenge(fx, "ak-stage-consent");
	if ((header = cu_flow_ctx_string(fx, "consent_header")) != NULL)
		cu_json_set_string(ch, "header_text", header);
	cu_json_set(ch, "permissions", perms);
	cu_json_set(ch, "additional_permissions", extra);
	cu_json_set_string(ch, "token", token);
	return CU_STAGE_CHALLENGE;
}

/* The ids of the permissions asked for, space-separated, into out. -1 past the cap. */
static int
perm_string(struct cu_flow_exec *fx, struct cu_buf *out)
{
	static const char *const keys[] = {"consent_permissions", "consent_additional_permissions"};
	struct json_object *arr;
	const char *id;
	size_t k, i, n;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		if ((arr = ctx_perms(fx, keys[k])) == NULL)
			continue;
		n = json_object_array_length(arr);
		for (i = 0; i < n; i++) {
			if ((id = perm_id(json_object_array_get_idx(arr, i))) == NULL)
				continue;
			if ((out->bf_len > 0 && cu_buf_append(out, " ", 1) != 0) ||
			    cu_buf_append(out, id, strlen(id)) != 0)
				return -1;
		}
	}
	return 0;
}

static enum cu_stage_result
consent_save(struct cu_flow_exec *fx, const char *app)
{
	struct cu_ctx *cx = fx->fx_cx;
	const struct cu_user *user = consent_user(fx);
	const char *mode = consent_mode(fx), *params[5];
	struct cu_buf perms;
	long long seconds = 0;
	enum cu_stage_result rc = CU_STAGE_FAIL;

	cu_buf_init(&perms, CONSENT_MAX_PERMISSIONS);
	if (user == NULL) {
		cu_log_msg(CU_LOG_WARNING, "consent_no_user", fx->fx_stage_name);
		rc = cu_flow_deny(fx, "Consent needs a signed-in user.");
		goto out;
	}
	if (strcmp(mode, "expiring") == 0 &&
	    cu_config_timedelta(cu_flow_cfg_string(fx, "consent_expire_in", "weeks=4"), &seconds) !=
	        0) {
		cu_log(CU_LOG_ERROR, "consent_config", CU_LS("stage", fx->fx_stage_name),
		       CU_LS("msg", "consent_expire_in is not a duration"));
		goto out;
	}
	if (perm_string(fx, &perms) != 0) {
		rc = cu_flow_deny(fx, "Too many permissions requested.");
		goto out;
	}
	params[0] = user->us_id_text;
	params[1] = app;
	params[2] =
	    cu_arena_strndup(cx->cx_arena, perms.bf_len > 0 ? perms.bf_ptr : "", perms.bf_len);
	params[3] = strcmp(mode, "permanent") == 0 ? "false" : "true";
	params[4] =
	    strcmp(mode, "permanent") == 0 ? NULL : cu_arena_printf(cx->cx_arena, "%lld", seconds);
	if (cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_STAGES_AUTH_CONSENT_SAVE, 5,
	               params) != CU_OK)
		goto out;
	rc = CU_STAGE_NEXT;
out:
	cu_buf_free(&perms);
	return rc;
}

static enum cu_stage_result
consent_respond(struct cu_flow_exec *fx, struct json_object *body)
{
	struct json_object *v = NULL;
	const char *token, *expected = cu_flow_ctx_string(fx, CONSENT_CTX_TOKEN), *app;
	size_t len;

	if (!json_object_object_get_ex(body, "token", &v) || v == NULL)
		return cu_stage_auth_bad(fx, "token", "This field is required.", "required");
	if (!json_object_is_type(v, json_type_string) ||
	    cu_json_get_string(body, "token", &token) != 0)
		return cu_stage_auth_bad(fx, "token", "Not a valid string.", "invalid");
	len = (size_t)json_object_get_string_len(v);
	if (len == 0)
		return cu_stage_auth_bad(fx, "token", "This field may not be blank.", "blank");
	if (expected == NULL || !cu_crypto_ct_eq(token, len, expected, strlen(expected)))
		return cu_stage_auth_bad(fx, "token", "Invalid consent token, re-showing prompt",
		                         "invalid");
	/* One answer per showing. */
	cu_flow_ctx_del(fx, CONSENT_CTX_TOKEN);
	app = consent_application(fx);
	if (strcmp(consent_mode(fx), "always_require") == 0 || app == NULL)
		return CU_STAGE_NEXT;
	return consent_save(fx, app);
}

const struct cu_stage_type cu_stage_consent = {"consentstage", "ak-stage-consent",
                                               consent_challenge, consent_respond};
