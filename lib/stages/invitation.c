/*
 * The invitation stage (invitationstage, no challenge; authentik's InvitationStageView). The
 * token is the invitation's uuid, from the flow's query (?itoken=, or ?token=) or from
 * prompt_data["token"]. A usable invitation exists, is for this flow (or for any flow), and has
 * not expired — checked here, not left to a cleanup job. Its fixed_data is merged into
 * prompt_data, and a single-use invitation is deleted by the very statement that reads it, so
 * that two requests racing with one invitation cannot both get in.
 */
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "db.h"
#include "events.h"
#include "flows.h"
#include "json.h"
#include "log.h"
#include "server.h"
#include "stages/stages.h"

#define MSG_INVALID "Invalid invite/invite not found"

/* A uuid as PostgreSQL reads one: 8-4-4-4-12 hex digits, or 32 hex digits without dashes. */
static int
token_well_formed(const char *s)
{
	size_t i, n = strlen(s), hex = 0;

	if (n != 36 && n != 32)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (n == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (c != '-')
				return 0;
			continue;
		}
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return 0;
		hex++;
	}
	return hex == 32;
}

static const char *
query_string(struct cu_flow_exec *fx, const char *key)
{
	const char *v = NULL;

	if (fx->fx_query != NULL && cu_json_get_string(fx->fx_query, key, &v) == 0)
		return v;
	return NULL;
}

static const char *
invitation_token(struct cu_flow_exec *fx)
{
	struct json_object *pd = cu_flow_ctx_get(fx, "prompt_data");
	const char *t;

	if ((t = query_string(fx, "itoken")) != NULL || (t = query_string(fx, "token")) != NULL)
		return t;
	if (pd != NULL && json_object_is_type(pd, json_type_object) &&
	    cu_json_get_string(pd, "token", &t) == 0)
		return t;
	return NULL;
}

/* Deep merge of src into dst (authentik's always_merger: objects merge, lists append, the
 * rest is replaced). Both borrowed; dst is changed. */
static void
merge(struct json_object *dst, struct json_object *src, int depth)
{
	json_object_object_foreach(src, k, v)
	{
		struct json_object *have = NULL;

		if (depth < 16 && v != NULL && json_object_object_get_ex(dst, k, &have) &&
		    have != NULL && json_object_get_type(have) == json_object_get_type(v)) {
			if (json_object_is_type(v, json_type_object)) {
				merge(have, v, depth + 1);
				continue;
			}
			if (json_object_is_type(v, json_type_array)) {
				size_t i, n = json_object_array_length(v);

				for (i = 0; i < n; i++)
					json_object_array_add(
					    have, json_object_get(json_object_array_get_idx(v, i)));
				continue;
			}
		}
		json_object_object_add(dst, k, v != NULL ? json_object_get(v) : NULL);
	}
}

static enum cu_stage_result
without_invitation(struct cu_flow_exec *fx)
{
	if (cu_flow_cfg_bool(fx, "continue_flow_without_invitation", 0))
		return CU_STAGE_NEXT;
	return cu_flow_deny(fx, MSG_INVALID);
}

static enum cu_stage_result
invitation_run(struct cu_flow_exec *fx)
{
	struct cu_ctx *cx = fx->fx_cx;
	const char *token = invitation_token(fx), *p[2], *fixed;
	struct json_object *fixed_data = NULL, *pd, *merged = NULL, *ev;
	const char *uuid;
	char hex[33];
	PGresult *res = NULL;
	size_t i, o;

	if (token == NULL || !token_well_formed(token) || fx->fx_flow == NULL)
		return without_invitation(fx);
	p[0] = token;
	p[1] = fx->fx_flow->fl_uuid;
	if (cu_db_begin(cx->cx_db) != CU_OK)
		return CU_STAGE_FAIL;
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_INVITATION_TAKE, 2, p) != CU_OK)
		goto fail;
	if (PQntuples(res) != 1) {
		cu_db_rollback(cx->cx_db);
		cu_log(CU_LOG_INFO, "invitation_refused", CU_LS("flow", fx->fx_flow->fl_slug));
		return without_invitation(fx);
	}
	fixed = cu_db_value(res, 0, 2);
	if (cu_json_parse(cx->cx_arena, fixed, strlen(fixed), &fixed_data) != CU_OK ||
	    fixed_data == NULL || !json_object_is_type(fixed_data, json_type_object))
		fixed_data = cu_json_object(cx->cx_arena);
	/* authentik's invitation_used event names the invitation by its hex uuid. */
	uuid = cu_db_value(res, 0, 0);
	for (i = 0, o = 0; uuid[i] != '\0' && o < 32; i++)
		if (uuid[i] != '-')
			hex[o++] = uuid[i];
	hex[o] = '\0';
	ev = cu_json_object(cx->cx_arena);
	cu_json_set_string(ev, "invitation_uuid", hex);
	if (cu_events_write(cx, "invitation_used", "authentik.stages.invitation", ev) != CU_OK)
		goto fail;
	if (cu_db_commit(cx->cx_db) != CU_OK)
		goto fail;

	/* A copy, so that merging never changes values the old prompt_data shares. */
	pd = cu_flow_ctx_get(fx, "prompt_data");
	if (pd == NULL || !json_object_is_type(pd, json_type_object) ||
	    json_object_deep_copy(pd, &merged, NULL) != 0)
		merged = json_object_new_object();
	cu_json_adopt(cx->cx_arena, merged);
	merge(merged, fixed_data, 0);
	cu_flow_ctx_set(fx, "prompt_data", merged);
	cu_flow_ctx_set(fx, "invitation_in_effect",
	                cu_json_adopt(cx->cx_arena, json_object_new_boolean(1)));
	cu_flow_ctx_set_string(fx, "invitation", uuid);
	return CU_STAGE_NEXT;
fail:
	cu_db_rollback(cx->cx_db);
	return CU_STAGE_FAIL;
}

static enum cu_stage_result
invitation_respond(struct cu_flow_exec *fx, struct json_object *body)
{
	(void)body;
	return invitation_run(fx);
}

const struct cu_stage_type cu_stage_invitation = {"invitationstage", "ak-stage-invitation",
                                                  invitation_run, invitation_respond};
