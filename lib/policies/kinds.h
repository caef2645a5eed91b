/*
 * What each policy kind's file gives the engine (lib/policies/engine.c): one evaluation
 * function over a struct cu_policy_eval. A kind reads its own fields from pe_config (its table's
 * row as JSON, authentik's field names) and the request from pe_rq and pe_user.
 */
#ifndef CU_POLICIES_KINDS_H
#define CU_POLICIES_KINDS_H

#include <stddef.h>

struct cu_arena;
struct cu_ctx;
struct cu_policy_request;
struct json_object;

enum cu_policy_verdict {
	CU_POLICY_FAIL = 0,
	CU_POLICY_PASS = 1,
	CU_POLICY_ERROR = 2, /* the policy could not decide: the binding's failure_result */
};

struct cu_policy_eval {
	struct cu_ctx *pe_cx; /* NULL without a request (unit tests) */
	struct cu_arena *pe_arena;
	const struct cu_policy_request *pe_rq;
	const char *pe_policy_uuid;
	const char *pe_policy_name;
	struct json_object *pe_config; /* the kind's row (borrowed) */
	/* The request's user as policies see it (borrowed; NULL: anonymous): pk, uuid, username,
	 * name, email, is_active, is_superuser, type, path, attributes, groups (names),
	 * password_change_date (epoch seconds), last_login. */
	struct json_object *pe_user;
	struct json_object *pe_history; /* unique_password: hashes, newest first (borrowed) */
	double pe_deadline;             /* cu_policy_now() value at which the binding times out */
	int pe_debug;                   /* the test endpoint: no writes, no events */
	/* Out: */
	struct json_object *pe_messages; /* array of strings the kind appends to */
	struct json_object *pe_logs;     /* array of log entries (test endpoint's log_messages) */
	const char *pe_error;            /* with CU_POLICY_ERROR: why (arena-owned) */
};

enum cu_policy_verdict cu_policy_expression_eval(struct cu_policy_eval *pe);
enum cu_policy_verdict cu_policy_password_eval(struct cu_policy_eval *pe);
enum cu_policy_verdict cu_policy_password_expiry_eval(struct cu_policy_eval *pe);
enum cu_policy_verdict cu_policy_reputation_eval(struct cu_policy_eval *pe);
enum cu_policy_verdict cu_policy_unique_password_eval(struct cu_policy_eval *pe);
enum cu_policy_verdict cu_policy_dummy_eval(struct cu_policy_eval *pe);
enum cu_policy_verdict cu_policy_event_matcher_eval(struct cu_policy_eval *pe);

/* CLOCK_MONOTONIC in seconds. */
double cu_policy_now(void);

/* Appends msg to pe_messages. */
void cu_policy_message(struct cu_policy_eval *pe, const char *msg);

/* Appends a log entry as authentik's LogEventSerializer ({timestamp, log_level, logger, event,
 * attributes}) to pe_logs, and writes it to the process log at debug level. */
void cu_policy_log(struct cu_policy_eval *pe, const char *level, const char *event);

/* Config accessors with a default for an absent or mistyped field. */
const char *cu_policy_cfg_string(struct cu_policy_eval *pe, const char *key, const char *dflt);
long long cu_policy_cfg_int(struct cu_policy_eval *pe, const char *key, long long dflt);
int cu_policy_cfg_bool(struct cu_policy_eval *pe, const char *key, int dflt);

/* The password a password-checking kind looks at: context prompt_data[field], else
 * context[field]; NULL when absent, empty or not a string (authentik's "Password not set in
 * context"). Borrowed from the context. */
const char *cu_policy_password_from_context(struct cu_policy_eval *pe, const char *field);

#endif
