/* PENDING: placeholder until the engine is written; every target passes, no reputation. */
#include "policies/engine.h"
#include "json.h"
#include "server.h"

enum cu_err
cu_policy_engine_run(struct cu_ctx *cx, const char *target, const char *mode,
                     const struct cu_policy_request *rq, struct cu_policy_result *out)
{
	(void)target;
	(void)mode;
	(void)rq;
	out->pr_passing = 1;
	out->pr_messages = cu_json_array(cx->cx_arena);
	return CU_OK;
}

enum cu_err
cu_policy_engine_run_list(struct cu_ctx *cx, const char *const *policies, size_t n,
                          const struct cu_policy_request *rq, struct cu_policy_result *out)
{
	(void)policies;
	(void)n;
	return cu_policy_engine_run(cx, NULL, "all", rq, out);
}

void
cu_reputation_update(struct cu_ctx *cx, const char *ip, const char *username, int delta)
{
	(void)cx;
	(void)ip;
	(void)username;
	(void)delta;
}

int
cu_reputation_score(struct cu_ctx *cx, const char *ip, const char *username)
{
	(void)cx;
	(void)ip;
	(void)username;
	return 0;
}
