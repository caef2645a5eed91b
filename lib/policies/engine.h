/*
 * The policy engine: evaluates the bindings of a target (a flow, a flow stage binding, an
 * application, a prompt stage's validation policies) for one request, as authentik's
 * PolicyEngine does (../shared/reference/authentik.md §5.2). Each policy kind is one file of
 * lib/policies/: expression (Lua 5.4, sandboxed), password, password_expiry, reputation,
 * unique_password, dummy, event_matcher.
 */
#ifndef CU_POLICIES_ENGINE_H
#define CU_POLICIES_ENGINE_H

#include <stddef.h>

#include "err.h"

struct cu_ctx;
struct cu_user;
struct json_object;

/* What a policy sees of the request (authentik's PolicyRequest). */
struct cu_policy_request {
	const struct cu_user *pr_user;  /* the pending or logged-in user; NULL: anonymous */
	struct json_object *pr_context; /* the plan context (borrowed; may be NULL): prompt_data,
	                                   pending_user_identifier, application, ... */
	const char *pr_obj_uuid;        /* the object checked against (an application), or NULL */
};

struct cu_policy_result {
	int pr_passing;
	struct json_object *pr_messages; /* arena-owned array of strings, never NULL */
};

/*
 * Evaluates every enabled binding of target, ordered by "order", in mode "any" (one passing
 * binding passes) or "all"; no bindings passes. A group binding passes for members of the group
 * (or of its descendants), a user binding for that user; a policy binding runs the policy, and a
 * policy that errors or runs past the binding's timeout gives the binding's failure_result.
 * negate inverts. The HTTP side (path, method, client IP, headers) comes from cx.
 * Results are not cached (engine.c says why). CU_OK with *out set, CU_ERR_UNAVAILABLE when
 * PostgreSQL is down, CU_ERR_INVALID for a target that is not a UUID.
 */
enum cu_err cu_policy_engine_run(struct cu_ctx *cx, const char *target, const char *mode,
                                 const struct cu_policy_request *rq, struct cu_policy_result *out)
    __attribute__((warn_unused_result));

/*
 * Runs the given policies (uuids) directly, without bindings, in mode "all" (a prompt stage's
 * validation_policies), each with authentik's binding defaults (timeout 30, failure_result
 * false). Same results as above; none given passes.
 */
enum cu_err cu_policy_engine_run_list(struct cu_ctx *cx, const char *const *policies, size_t n,
                                      const struct cu_policy_request *rq,
                                      struct cu_policy_result *out)
    __attribute__((warn_unused_result));

/*
 * Runs one policy for the API's test action (authentik's PolicyViewSet.test): like
 * cu_policy_engine_run_list with that one policy, in debug mode (no policy events, no writes
 * such as a password expiry's). *logs gets an arena-owned array of log entries as authentik's
 * LogEventSerializer ({timestamp, log_level, logger, event, attributes}).
 */
enum cu_err cu_policy_engine_test(struct cu_ctx *cx, const char *policy,
                                  const struct cu_policy_request *rq, struct cu_policy_result *out,
                                  struct json_object **logs) __attribute__((warn_unused_result));

/*
 * Reputation (lib/policies/reputation.c): scores per client IP and per username, in Redis with
 * expiry (config reputation.expiry, seconds). A failed login lowers both by one, a successful
 * one raises both by one (capped). score_out gets the lower of the two.
 * cu_reputation_update and cu_reputation_score never fail the caller: with Redis down they do
 * nothing and report 0.
 */
void cu_reputation_update(struct cu_ctx *cx, const char *ip, const char *username, int delta);
int cu_reputation_score(struct cu_ctx *cx, const char *ip, const char *username);

#endif
