/*
 * denystage: ends the flow with access denied. The message is the context's "deny_message"
 * (a policy may set it), else the stage's deny_message; none when both are empty.
 */
#include "flows.h"
#include "stages/stages.h"

static enum cu_stage_result
deny_challenge(struct cu_flow_exec *fx)
{
	const char *msg = cu_flow_ctx_string(fx, "deny_message");

	if (msg == NULL || msg[0] == '\0')
		msg = cu_flow_cfg_string(fx, "deny_message", "");
	return cu_flow_deny(fx, msg[0] != '\0' ? msg : NULL);
}

static enum cu_stage_result
deny_respond(struct cu_flow_exec *fx, struct json_object *body)
{
	(void)body;
	return deny_challenge(fx);
}

const struct cu_stage_type cu_stage_deny = {"denystage", "ak-stage-access-denied", deny_challenge,
                                            deny_respond};
