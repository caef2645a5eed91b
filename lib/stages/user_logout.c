/* userlogoutstage: ends the session's login; the flow goes on in a fresh anonymous session. */
#include "flows.h"
#include "stages/stages.h"

#include "err.h"

static enum cu_stage_result
logout_challenge(struct cu_flow_exec *fx)
{
	return cu_flow_logout(fx) == CU_OK ? CU_STAGE_NEXT : CU_STAGE_FAIL;
}

static enum cu_stage_result
logout_respond(struct cu_flow_exec *fx, struct json_object *body)
{
	(void)body;
	return logout_challenge(fx);
}

const struct cu_stage_type cu_stage_user_logout = {"userlogoutstage", "ak-stage-user-logout",
                                                   logout_challenge, logout_respond};
