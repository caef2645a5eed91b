/*
 * The policy engine, as authentik's PolicyEngine and PolicyProcess (engine.h): the bindings of a
 * target come in one query with each policy's kind row, the request user and (for unique
 * password policies) the password history joined, and each binding is decided here in order.
 *
 * Each policy runs in this process, one after the other, with the binding's timeout as its
 * deadline: expressions stop themselves at it, dummy policies sleep no longer than it, and a
 * kind that still ends past it counts as timed out. authentik forks a process per policy
 * instead; a responder answers one request at a time, so the bound is what matters.
 *
 * Results are not cached (authentik's cache.timeout_policies): a result depends on the plan
 * context and the request as much as on the binding and the user, and a stale "pass" after a
 * group or policy change would be worse than the one query each evaluation costs.
 */
#include "policies/engine.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "auth.h"
#include "db.h"
#include "events.h"
#include "json.h"
#include "log.h"
#include "policies/kinds.h"
#include "server.h"

#define DEFAULT_TIMEOUT 30

double
cu_policy_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
cu_policy_message(struct cu_policy_eval *pe, const char *msg)
{
	if (pe->pe_messages != NULL && msg != NULL)
		json_object_array_add(pe->pe_messages, json_object_new_string(msg));
}

void
cu_policy_log(struct cu_policy_eval *pe, const char *level, const char *event)
{
	struct json_object *entry;
	char stamp[40];
	struct timespec ts;
	struct tm tm;

	cu_log(CU_LOG_DEBUG, "policy_log", CU_LS("policy", pe->pe_policy_name),
	       CU_LS("log", event));
	if (pe->pe_logs == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	entry = json_object_new_object();
	cu_json_set_string(entry, "timestamp",
	                   cu_arena_printf(pe->pe_arena, "%s.%06ldZ", stamp, ts.tv_nsec / 1000));
	cu_json_set_string(entry, "log_level", level);
	cu_json_set_string(entry, "logger", "authentik.policies");
	cu_json_set_string(entry, "event", event);
	cu_json_set(entry, "attributes", json_object_new_object());
	if (pe->pe_policy_name != NULL)
		cu_json_set_string(json_object_object_get(entry, "attributes"), "policy",
		                   pe->pe_policy_name);
	json_object_array_add(pe->pe_logs, entry);
}

const char *
cu_policy_cfg_string(struct cu_policy_eval *pe, const char *key, const char *dflt)
{
	const char *s = NULL;

	if (pe->pe_config == NULL || cu_json_get_string(pe->pe_config, key, &s) != 0)
		return dflt;
	return s;
}

long long
cu_policy_cfg_int(struct cu_policy_eval *pe, const char *key, long long dflt)
{
	int64_t n;

	if (pe->pe_config == NULL || cu_json_get_int(pe->pe_config, key, &n) != 0)
		return dflt;
	return n;
}

int
cu_policy_cfg_bool(struct cu_policy_eval *pe, const char *key, int dflt)
{
	int b;

	if (pe->pe_config == NULL || cu_json_get_bool(pe->pe_config, key, &b) != 0)
		return dflt;
	return b;
}

const char *
cu_policy_password_from_context(struct cu_policy_eval *pe, const char *field)
{
	struct json_object *ctx = pe->pe_rq != NULL ? pe->pe_rq->pr_context : NULL;
	struct json_object *prompt = NULL;
	const char *s = NULL;

	if (ctx == NULL || !json_object_is_type(ctx, json_type_object))
		return NULL;
	if (cu_json_get_object(ctx, "prompt_data", &prompt) != 0 ||
	    cu_json_get_string(prompt, field, &s) != 0)
		if (cu_json_get_string(ctx, field, &s) != 0)
			return NULL;
	return s != NULL && s[0] != '\0' ? s : NULL;
}

static enum cu_policy_verdict
dispatch(const char *type, struct cu_policy_eval *pe)
{
	static const struct {
		const char *k_type;
		enum cu_policy_verdict (*k_eval)(struct cu_policy_eval *);
	} kinds[] = {
	    {"expressionpolicy", cu_policy_expression_eval},
	    {"passwordpolicy", cu_policy_password_eval},
	    {"passwordexpirypolicy", cu_policy_password_expiry_eval},
	    {"reputationpolicy", cu_policy_reputation_eval},
	    {"uniquepasswordpolicy", cu_policy_unique_password_eval},
	    {"dummypolicy", cu_policy_dummy_eval},
	    {"eventmatcherpolicy", cu_policy_event_matcher_eval},
	};
	size_t i;

	if (pe->pe_config == NULL) {
		pe->pe_error = cu_arena_printf(pe->pe_arena, "Policy '%s' has no settings",
		                               pe->pe_policy_name);
		return CU_POLICY_ERROR;
	}
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(type, kinds[i].k_type) == 0)
			return kinds[i].k_eval(pe);
	pe->pe_error =
	    cu_arena_printf(pe->pe_arena, "Policy '%s' is root type", pe->pe_policy_name);
	return CU_POLICY_ERROR;
}

/* A policy's event (policy_exception, policy_execution) with authentik's context fields.
 * A failure to record it is logged, never the request's failure. */
static void
policy_event(struct cu_ctx *cx, const char *action, const char *message, const PGresult *res, int r,
             struct json_object *extra_key_obj, const char *extra_key)
{
	struct json_object *ctx = cu_json_object(cx->cx_arena);
	struct json_object *binding = json_object_new_object();
	const char *bpk = cu_db_value(res, r, 0);

	cu_json_set_string(ctx, "message", message);
	cu_json_set_string(ctx, "policy_uuid", cu_db_value(res, r, 4));
	cu_json_set_string(binding, "app", "authentik_policies");
	cu_json_set_string(binding, "model_name", "policybinding");
	if (bpk != NULL)
		cu_json_set_string(binding, "pk", bpk);
	cu_json_set_string(binding, "name", cu_db_value(res, r, 5));
	cu_json_set(ctx, "binding", binding);
	if (extra_key != NULL)
		cu_json_set(ctx, extra_key, json_object_get(extra_key_obj));
	if (cu_events_write(cx, action, "authentik.policies.process", ctx) != CU_OK)
		cu_log(CU_LOG_WARNING, "policy_event_failed", CU_LS("action", action));
}

/* Parses a JSON text column into the arena, NULL when NULL or not JSON. */
static struct json_object *
column_json(struct cu_arena *a, const PGresult *res, int r, int c)
{
	const char *s = cu_db_value(res, r, c);
	struct json_object *o = NULL;

	if (s == NULL || cu_json_parse(a, s, strlen(s), &o) != CU_OK)
		return NULL;
	return o;
}

/* Decides one policy binding (row r); 1 passes, 0 does not. */
static int
run_policy(struct cu_ctx *cx, const PGresult *res, int r, const struct cu_policy_request *rq,
           struct json_object *user, int debug, struct json_object *messages,
           struct json_object *logs)
{
	struct cu_policy_eval pe;
	enum cu_policy_verdict v;
	long timeout = strtol(cu_db_value(res, r, 2), NULL, 10);
	int negate = strcmp(cu_db_value(res, r, 1), "t") == 0;
	int failure_result = strcmp(cu_db_value(res, r, 3), "t") == 0;
	int passing;

	memset(&pe, 0, sizeof(pe));
	pe.pe_cx = cx;
	pe.pe_arena = cx->cx_arena;
	pe.pe_rq = rq;
	pe.pe_policy_uuid = cu_db_value(res, r, 4);
	pe.pe_policy_name = cu_db_value(res, r, 5);
	pe.pe_config = column_json(cx->cx_arena, res, r, 11);
	pe.pe_user = user;
	pe.pe_history = column_json(cx->cx_arena, res, r, 13);
	pe.pe_deadline = cu_policy_now() + (double)(timeout > 0 ? timeout : DEFAULT_TIMEOUT);
	pe.pe_debug = debug;
	pe.pe_messages = cu_json_array(cx->cx_arena);
	pe.pe_logs = logs;
	v = dispatch(cu_db_value(res, r, 6), &pe);
	if (v != CU_POLICY_ERROR && cu_policy_now() > pe.pe_deadline) {
		v = CU_POLICY_ERROR;
		pe.pe_error = "Policy timed out";
	}
	if (v == CU_POLICY_ERROR) {
		struct json_object *exc = cu_json_object(cx->cx_arena);
		const char *why = pe.pe_error != NULL ? pe.pe_error : "Policy failed";

		cu_log(CU_LOG_WARNING, "policy_exception", CU_LS("policy", pe.pe_policy_name),
		       CU_LS("error", why));
		cu_policy_log(&pe, "warning", why);
		cu_json_set_string(exc, "message", why);
		if (!debug)
			policy_event(cx, "policy_exception", "Policy failed to execute", res, r,
			             exc, "exception");
		/* authentik: the failure result, not negated, with the error as the message. */
		json_object_array_add(messages, json_object_new_string(why));
		return failure_result;
	}
	passing = v == CU_POLICY_PASS;
	if (negate)
		passing = !passing;
	if (!debug && strcmp(cu_db_value(res, r, 7), "t") == 0) {
		struct json_object *result = cu_json_object(cx->cx_arena);

		cu_json_set_bool(result, "passing", passing);
		cu_json_set(result, "messages", json_object_get(pe.pe_messages));
		policy_event(cx, "policy_execution", "Policy Execution", res, r, result, "result");
	}
	{
		size_t i, n = json_object_array_length(pe.pe_messages);

		for (i = 0; i < n; i++)
			json_object_array_add(messages, json_object_get(json_object_array_get_idx(
			                                    pe.pe_messages, i)));
	}
	return passing;
}

/* Decides every row of res and combines them in mode. */
static void
run_rows(struct cu_ctx *cx, const PGresult *res, const char *mode,
         const struct cu_policy_request *rq, int debug, struct cu_policy_result *out,
         struct json_object *logs)
{
	int all = mode != NULL && strcmp(mode, "all") == 0;
	int r, rows = PQntuples(res), any_pass = 0, all_pass = 1;
	struct json_object *user = NULL;

	out->pr_messages = cu_json_array(cx->cx_arena);
	if (rows > 0)
		user = column_json(cx->cx_arena, res, 0, 12);
	for (r = 0; r < rows; r++) {
		int negate = strcmp(cu_db_value(res, r, 1), "t") == 0;
		const char *bound_user = cu_db_value(res, r, 8);
		int passing;

		if (cu_db_value(res, r, 4) != NULL)
			passing = run_policy(cx, res, r, rq, user, debug, out->pr_messages, logs);
		else if (bound_user != NULL)
			passing = (rq->pr_user != NULL &&
			           strcmp(bound_user, rq->pr_user->us_id_text) == 0) != negate;
		else
			passing = (strcmp(cu_db_value(res, r, 10), "t") == 0) != negate;
		any_pass |= passing;
		all_pass &= passing;
	}
	/* No bindings: authentik's empty result, a pass. */
	out->pr_passing = rows == 0 ? 1 : all ? all_pass : any_pass;
}

/* 1 when s is a UUID in 8-4-4-4-12 hex form. */
static int
uuid_ok(const char *s)
{
	size_t j;

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (j = 0; j < 36; j++) {
		char c = s[j];
		int dash = j == 8 || j == 13 || j == 18 || j == 23;

		if (dash ? c != '-'
		         : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		             (c >= 'A' && c <= 'F')))
			return 0;
	}
	return 1;
}

enum cu_err
cu_policy_engine_run(struct cu_ctx *cx, const char *target, const char *mode,
                     const struct cu_policy_request *rq, struct cu_policy_result *out)
{
	const char *params[2];
	PGresult *res = NULL;
	enum cu_err err;

	out->pr_passing = 0;
	out->pr_messages = cu_json_array(cx->cx_arena);
	if (!uuid_ok(target))
		return CU_ERR_INVALID;
	params[0] = target;
	params[1] = rq != NULL && rq->pr_user != NULL ? rq->pr_user->us_id_text : NULL;
	err =
	    cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_POLICY_ENGINE_BINDINGS, 2, params);
	if (err != CU_OK)
		return err;
	run_rows(cx, res, mode, rq, 0, out, NULL);
	return CU_OK;
}

/* "{uuid,uuid}" for the given policies; NULL when one is no UUID. */
static const char *
uuid_array(struct cu_ctx *cx, const char *const *ids, size_t n)
{
	size_t i, len = 3 + n * 37;
	char *s = cu_arena_alloc(cx->cx_arena, len), *p = s;

	*p++ = '{';
	for (i = 0; i < n; i++) {
		if (!uuid_ok(ids[i]))
			return NULL;
		if (i > 0)
			*p++ = ',';
		memcpy(p, ids[i], 36);
		p += 36;
	}
	*p++ = '}';
	*p = '\0';
	return s;
}

static enum cu_err
run_list(struct cu_ctx *cx, const char *const *policies, size_t n,
         const struct cu_policy_request *rq, int debug, struct cu_policy_result *out,
         struct json_object *logs)
{
	const char *params[2];
	PGresult *res = NULL;
	enum cu_err err;

	out->pr_passing = 0;
	out->pr_messages = cu_json_array(cx->cx_arena);
	if (n == 0) {
		out->pr_passing = 1;
		return CU_OK;
	}
	if ((params[0] = uuid_array(cx, policies, n)) == NULL)
		return CU_ERR_INVALID;
	params[1] = rq != NULL && rq->pr_user != NULL ? rq->pr_user->us_id_text : NULL;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_POLICY_ENGINE_LIST, 2, params);
	if (err != CU_OK)
		return err;
	run_rows(cx, res, "all", rq, debug, out, logs);
	return CU_OK;
}

enum cu_err
cu_policy_engine_run_list(struct cu_ctx *cx, const char *const *policies, size_t n,
                          const struct cu_policy_request *rq, struct cu_policy_result *out)
{
	return run_list(cx, policies, n, rq, 0, out, NULL);
}

enum cu_err
cu_policy_engine_test(struct cu_ctx *cx, const char *policy, const struct cu_policy_request *rq,
                      struct cu_policy_result *out, struct json_object **logs)
{
	*logs = cu_json_array(cx->cx_arena);
	return run_list(cx, &policy, 1, rq, 1, out, *logs);
}
