/*
 * dummystage: a stage that asks nothing and passes any answer of its kind; with throw_error it
 * fails instead, which is how flows are tested for their error path.
 */
#include "flows.h"
#include "stages/stages.h"

#include "json.h"

static enum cu_stage_result
dummy_challenge(struct cu_flow_exec *fx)
{
	struct json_object *c;

	if (cu_flow_cfg_bool(fx, "throw_error", 0))
		return CU_STAGE_FAIL;
	c = cu_flow_challenge(fx, "ak-stage-dummy");
	cu_json_set_string(c, "name", fx->fx_stage_name != NULL ? fx->fx_stage_name : "");
	return CU_STAGE_CHALLENGE;
}

static enum cu_stage_result
dummy_respond(struct cu_flow_exec *fx, struct json_object *body)
{
	(void)body;
	if (cu_flow_cfg_bool(fx, "throw_error", 0))
		return CU_STAGE_FAIL;
	return CU_STAGE_NEXT;
}

const struct cu_stage_type cu_stage_dummy = {"dummystage", "ak-stage-dummy", dummy_challenge,
                                             dummy_respond};
