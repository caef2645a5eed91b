/* PENDING: placeholder until the consentstage kind is written; it fails every request. */
#include "flows.h"
#include "stages/stages.h"

static enum cu_stage_result
pending(struct cu_flow_exec *fx)
{
	(void)fx;
	return CU_STAGE_FAIL;
}

static enum cu_stage_result
pending_respond(struct cu_flow_exec *fx, struct json_object *body)
{
	(void)fx;
	(void)body;
	return CU_STAGE_FAIL;
}

const struct cu_stage_type cu_stage_consent = {"consentstage", "ak-stage-consent", pending, pending_respond};
