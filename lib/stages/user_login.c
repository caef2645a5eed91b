/*
 * userloginstage: logs the pending user in. session_duration ("seconds=0": a browser session)
 * sets how long the login lasts; with remember_me_offset above zero the user is first asked
 * whether to be remembered, which adds that offset. terminate_other_sessions ends the user's
 * other sessions.
 */
#include "flows.h"
#include "stages/stages.h"

#include "config.h"
#include "err.h"
#include "json.h"
#include "log.h"

#define NO_PENDING_USER "No Pending user to login."

/* A duration field of the stage; 0 for an absent or unreadable one (logged). */
static long long
cfg_seconds(struct cu_flow_exec *fx, const char *key)
{
	const char *v = cu_flow_cfg_string(fx, key, "seconds=0");
	long long s = 0;

	if (cu_config_timedelta(v, &s) != 0) {
		cu_log(CU_LOG_WARNING, "stage_config_invalid", CU_LS("stage", fx->fx_stage_name),
		       CU_LS("field", key));
		return 0;
	}
	return s;
}

static enum cu_stage_result
do_login(struct cu_flow_exec *fx, int remember)
{
	long long seconds = cfg_seconds(fx, "session_duration");
	enum cu_err err;

	if (cu_flow_ctx_get(fx, "pending_user") == NULL)
		return cu_flow_deny(fx, NO_PENDING_USER);
	/* A pending user who went inactive meanwhile is not loaded: no login. */
	if (fx->fx_pending_user == NULL)
		return cu_flow_deny(fx, NULL);
	if (remember)
		seconds += cfg_seconds(fx, "remember_me_offset");
	err = cu_flow_login(fx, seconds, cu_flow_cfg_bool(fx, "terminate_other_sessions", 0));
	if (err == CU_ERR_NOT_FOUND)
		return cu_flow_deny(fx, NULL);
	if (err != CU_OK)
		return CU_STAGE_FAIL;
	return CU_STAGE_NEXT;
}

static enum cu_stage_result
login_challenge(struct cu_flow_exec *fx)
{
	if (cfg_seconds(fx, "remember_me_offset") <= 0)
		return do_login(fx, 0);
	if (cu_flow_ctx_get(fx, "pending_user") == NULL)
		return cu_flow_deny(fx, NO_PENDING_USER);
	(void)cu_flow_challenge(fx, "ak-stage-user-login");
	return CU_STAGE_CHALLENGE;
}

static enum cu_stage_result
login_respond(struct cu_flow_exec *fx, struct json_object *body)
{
	int remember = 0;

	if (cfg_seconds(fx, "remember_me_offset") <= 0)
		return do_login(fx, 0);
	if (cu_json_get_bool(body, "remember_me", &remember) != 0)
		return cu_flow_invalid(fx, "remember_me", "This field is required.", "required");
	return do_login(fx, remember);
}

const struct cu_stage_type cu_stage_user_login = {"userloginstage", "ak-stage-user-login",
                                                  login_challenge, login_respond};
