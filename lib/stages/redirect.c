/*
 * redirectstage: sends the browser elsewhere with xak-flow-redirect. mode "static" goes to
 * target_static; mode "flow" hands over to target_flow (cu_flow_switch), with this plan's
 * context when keep_context. The context's "redirect_stage_target" overrides both: a URL, or
 * "ak-flow://<slug>" for a flow.
 */
#include <string.h>

#include "flows.h"
#include "stages/stages.h"

#include "db.h"
#include "json.h"
#include "log.h"
#include "server.h"

#define FLOW_SCHEME "ak-flow://"

/* The flow with uuid (by_uuid) or slug; 0 with uuid and slug set, -1 none, -2 PostgreSQL down. */
static int
find_flow(struct cu_flow_exec *fx, const char *key, int by_uuid, const char **uuid,
          const char **slug)
{
	struct cu_ctx *cx = fx->fx_cx;
	const char *params[1] = {key};
	PGresult *res = NULL;
	enum cu_err err;

	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res,
	                 by_uuid ? CU_DB_STMT_FLOWS_SLUG_BY_UUID : CU_DB_STMT_FLOWS_UUID_BY_SLUG, 1,
	                 params);
	if (err == CU_ERR_UNAVAILABLE || err == CU_ERR_INTERNAL)
		return -2;
	/* A malformed uuid is data error, as good as no such flow. */
	if (err != CU_OK || PQntuples(res) != 1)
		return -1;
	*uuid = cu_db_value(res, 0, 0);
	*slug = cu_db_value(res, 0, 1);
	return 0;
}

static enum cu_stage_result
redirect_challenge(struct cu_flow_exec *fx)
{
	const char *target = cu_flow_ctx_string(fx, "redirect_stage_target");
	const char *to = NULL, *uuid = NULL, *slug = NULL, *mode;
	int keep = cu_flow_cfg_bool(fx, "keep_context", 1), r = -1;
	struct json_object *c;

	if (target != NULL && target[0] != '\0') {
		if (strncmp(target, FLOW_SCHEME, strlen(FLOW_SCHEME)) == 0) {
			r = find_flow(fx, target + strlen(FLOW_SCHEME), 0, &uuid, &slug);
			if (r == -2)
				return CU_STAGE_FAIL;
		} else {
			to = target;
		}
	}
	if (to == NULL && r != 0) {
		mode = cu_flow_cfg_string(fx, "mode", "static");
		if (strcmp(mode, "flow") == 0) {
			const char *tf = cu_flow_cfg_string(fx, "target_flow", "");

			r = tf[0] != '\0' ? find_flow(fx, tf, 1, &uuid, &slug) : -1;
			if (r == -2)
				return CU_STAGE_FAIL;
		} else {
			to = cu_flow_cfg_string(fx, "target_static", "");
		}
	}
	if (r == 0)
		cu_flow_switch(fx, uuid, slug, keep, &to);
	if (to == NULL || to[0] == '\0') {
		cu_log(CU_LOG_WARNING, "redirect_stage_no_target",
		       CU_LS("stage", fx->fx_stage_name));
		return cu_flow_deny(fx,
		                    "No target found for Redirect stage. The stage's target_flow "
		                    "may have been deleted.");
	}
	c = cu_flow_challenge(fx, "xak-flow-redirect");
	cu_json_set_string(c, "to", to);
	return CU_STAGE_CHALLENGE;
}

static enum cu_stage_result
redirect_respond(struct cu_flow_exec *fx, struct json_object *body)
{
	const char *to = NULL;

	if (cu_json_get_string(body, "to", &to) != 0)
		return cu_flow_invalid(fx, "to", "This field is required.", "required");
	return CU_STAGE_NEXT;
}

const struct cu_stage_type cu_stage_redirect = {"redirectstage", "xak-flow-redirect",
                                                redirect_challenge, redirect_respond};
