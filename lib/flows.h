/*
 * Flows: the planner and executor behind /api/v3/flows/executor/<slug>/ (authentik's protocol,
 * ../shared/reference/authentik.md §2-3).
 *
 * A plan is one JSON object kept with the session (sessions.flow_plan in PostgreSQL, a copy in
 * Redis under "custos:plan:<session key>"):
 *
 *     {"flow": uuid, "slug": s, "serial": n, "query": "<the /if/flow/ page's query string>",
 *      "stages": [{"binding": uuid, "stage": uuid, "name": s, "type": "passwordstage",
 *                  "config": {...}, "re_evaluate": bool, "mode": "any"|"all",
 *                  "invalid_response_action": "retry"|...}],
 *      "index": 0, "context": {...}}
 *
 * The executor shows stages[index]; a stage that passes moves index on. A stage's type picks its
 * struct cu_stage_type in lib/stages/ (stages.h); the type's functions see the plan through a
 * struct cu_flow_exec and the helpers below, never the session or the HTTP exchange directly.
 */
#ifndef CU_FLOWS_H
#define CU_FLOWS_H

#include <stddef.h>

#include "err.h"

struct cu_ctx;
struct cu_user;
struct json_object;
struct cu_flow_state;

/* The flow row, as the planner loaded it; strings arena-owned. */
struct cu_flow {
	const char *fl_uuid;
	const char *fl_slug;
	const char *fl_name;
	const char *fl_title;
	const char *fl_designation;    /* "authentication", ... */
	const char *fl_authentication; /* "none", "require_authenticated", ... */
	const char *fl_denied_action;
	const char *fl_layout;
	const char *fl_background;
	const char *fl_policy_engine_mode;
	long long fl_serial;
};

/* What a stage function tells the executor. */
enum cu_stage_result {
	CU_STAGE_CHALLENGE, /* fx_challenge holds the challenge to show */
	CU_STAGE_NEXT,      /* the stage is done: go on to the next one */
	CU_STAGE_INVALID,   /* the answer was wrong: response_errors are in fx_errors */
	CU_STAGE_DENY,      /* end the flow with ak-stage-access-denied and fx_message */
	CU_STAGE_FAIL,      /* PostgreSQL, Redis or the mail queue failed: ak-stage-flow-error */
};

/* One executor request, as the stage being run sees it. */
struct cu_flow_exec {
	struct cu_ctx *fx_cx;
	const struct cu_flow *fx_flow;
	struct json_object *fx_plan;    /* the whole plan (arena-owned json, see above) */
	struct json_object *fx_context; /* plan["context"]: what stages leave for later ones */
	struct json_object *fx_stage;   /* plan["stages"][index]: binding, stage, name, config */
	struct json_object *fx_config;  /* fx_stage["config"]: the stage's own fields */
	const char *fx_stage_uuid;
	const char *fx_stage_name;
	/* The pending user (context "pending_user", a user id), loaded for this request; NULL
	 * when there is none yet. Active users only: a deactivated one is NULL here. */
	struct cu_user *fx_pending_user;
	/* The user of the session (logged in before this flow), NULL for anonymous. */
	struct cu_user *fx_session_user;
	const char *fx_session_key;   /* the current session's key (changes at login) */
	const char *fx_next;          /* the checked ?next= of the query, or NULL */
	struct json_object *fx_query; /* the query's parameters as a JSON object of strings */
	/* Set by the stage before it returns: */
	struct json_object *fx_challenge; /* CU_STAGE_CHALLENGE */
	struct json_object *fx_errors;    /* CU_STAGE_INVALID: {"field": [{"string", "code"}]} */
	const char *fx_message;           /* CU_STAGE_DENY: the error_message shown */
	int fx_changed;                   /* set by the helpers when the plan must be saved */
	/* The executor's own state for this request (lib/flows.c); stages leave it alone. */
	struct cu_flow_state *fx_state;
};

/*
 * A kind of stage. challenge runs on GET (and after a wrong answer, to show the challenge
 * again) and may return CU_STAGE_NEXT at once for a stage that needs no answer (user_login
 * without remember-me, user_logout, redirect). respond runs on POST with the body (a JSON
 * object whose "component" already matched st_component) and must return CU_STAGE_NEXT only
 * for an answer it has verified; an empty or partial body is CU_STAGE_INVALID.
 */
struct cu_stage_type {
	const char *st_type;      /* model name in stages.type: "identificationstage" */
	const char *st_component; /* "ak-stage-identification" */
	enum cu_stage_result (*st_challenge)(struct cu_flow_exec *fx);
	enum cu_stage_result (*st_respond)(struct cu_flow_exec *fx, struct json_object *body);
};

/* The registered kind for type, or NULL (lib/stages/stages.c). */
const struct cu_stage_type *cu_stage_type_find(const char *type);

/* --- helpers for stages ------------------------------------------------------------------ */

/* A new challenge object {"component": component} set as fx_challenge; fill in its fields. The
 * executor adds flow_info (not to xak-flow-redirect), and to authentik's "with user info" kinds
 * pending_user (the pending user's username, else the context's pending_user_identifier) and
 * pending_user_avatar. */
struct json_object *cu_flow_challenge(struct cu_flow_exec *fx, const char *component);

/* Adds {"string": msg, "code": code} under field ("non_field_errors" for NULL) in fx_errors;
 * returns CU_STAGE_INVALID so that a stage can `return cu_flow_invalid(...)`. */
enum cu_stage_result cu_flow_invalid(struct cu_flow_exec *fx, const char *field, const char *msg,
                                     const char *code);

/* Sets fx_message and returns CU_STAGE_DENY. */
enum cu_stage_result cu_flow_deny(struct cu_flow_exec *fx, const char *message);

/* Plan context access (the value is borrowed from the plan / copied into it). */
struct json_object *cu_flow_ctx_get(struct cu_flow_exec *fx, const char *key);
const char *cu_flow_ctx_string(struct cu_flow_exec *fx, const char *key);
void cu_flow_ctx_set(struct cu_flow_exec *fx, const char *key, struct json_object *value);
void cu_flow_ctx_set_string(struct cu_flow_exec *fx, const char *key, const char *value);
void cu_flow_ctx_del(struct cu_flow_exec *fx, const char *key);

/* Stage config access with a default for absent or mistyped keys. */
const char *cu_flow_cfg_string(struct cu_flow_exec *fx, const char *key, const char *dflt);
long long cu_flow_cfg_int(struct cu_flow_exec *fx, const char *key, long long dflt);
int cu_flow_cfg_bool(struct cu_flow_exec *fx, const char *key, int dflt);

/* Makes the user with id the pending user (context "pending_user") and loads fx_pending_user.
 * CU_ERR_NOT_FOUND when there is no active user with that id. */
enum cu_err cu_flow_set_pending_user(struct cu_flow_exec *fx, long long user_id)
    __attribute__((warn_unused_result));

/*
 * Logs the pending user in: the session gets a new key (no fixation) bound to the user, with
 * expiry now + seconds (0: a browser session, kept sessions.browser_age_seconds on the server,
 * with a cookie without Max-Age), last_login is set, other sessions of the user are ended when
 * terminate_others, and a "login" event is written with the context's auth_method. Sets the
 * new session cookie on the response.
 */
enum cu_err cu_flow_login(struct cu_flow_exec *fx, long long seconds, int terminate_others)
    __attribute__((warn_unused_result));

/* Ends the session's login (the session row goes; a fresh anonymous one carries the plan on)
 * and writes a "logout" event. */
enum cu_err cu_flow_logout(struct cu_flow_exec *fx) __attribute__((warn_unused_result));

/*
 * Runs the policy bindings of target (a flow, a stage binding or an application) for the
 * pending user (or else the session user) with the plan context, in mode "any" or "all"
 * (lib/policies/engine.h). 1 passes, 0 does not (messages, if any, appended to *messages when
 * it is not NULL), -1 PostgreSQL unavailable.
 */
int cu_flow_policies_pass(struct cu_flow_exec *fx, const char *target, const char *mode,
                          struct json_object **messages) __attribute__((warn_unused_result));

/*
 * Whether next may be followed at the end of a flow: a relative path on this host (one leading
 * '/', not "//" or "/\", no control characters or backslashes, none of them hidden by
 * percent-encoding), or an absolute http(s) URL under the launch URL of an application.
 * Returns 1 or 0; -1 when PostgreSQL is unavailable for the application check.
 */
int cu_flow_next_allowed(struct cu_ctx *cx, const char *next) __attribute__((warn_unused_result));

/* 1 when next is a relative path on this host as above; pure (unit tests, fuzz target). */
int cu_flow_next_is_local(const char *next);

/* The flow executor's URL for slug with the query kept ("/api/v3/flows/executor/<slug>/?query=
 * <urlencoded>"), and the flow interface's ("/if/flow/<slug>/?<query>"); arena-owned. */
const char *cu_flow_executor_url(struct cu_ctx *cx, const char *slug, const char *query);
const char *cu_flow_interface_url(struct cu_ctx *cx, const char *slug, const char *query);

/*
 * Parks the current plan for a mailed link: it is stored as a flow token for the pending user,
 * expiring in expiry_seconds, standing on the current stage (past_current 0: the stage runs
 * again when the link is opened, and can tell by what it put in the context) or on the next one
 * (past_current 1). *key_out gets the key for ?flow_token= (arena-owned). The flow executor
 * resumes that plan, once, when the link is opened (lib/flows.c, "flow_token" in the query).
 */
enum cu_err cu_flow_token_create(struct cu_flow_exec *fx, long long expiry_seconds,
                                 int past_current, const char **key_out)
    __attribute__((warn_unused_result));

/*
 * A link into flow slug for the user with user_id, made away from the flow (an admin's recovery
 * link): the flow, found as the executor finds it for this request's host, is planned as for a
 * browser that is not signed in, with that user as the pending user, and the plan parked as a
 * flow token expiring in expiry_seconds (as cu_flow_token_create). The flow's authentication
 * must admit such a browser and its policies pass for the user; bindings evaluated on planning
 * run their policies. A flow without stages is planned too. The plan stands on its first stage
 * whose type is not in skip_leading (NULL-terminated; NULL for none), so that the stages that
 * learn what the link already tells can be passed over. *key_out gets the key for ?flow_token=
 * (arena-owned), *expires_out the token's expiry (Unix time). CU_ERR_NOT_FOUND for no such
 * flow, CU_ERR_DENIED when the flow does not apply to the user, CU_ERR_UNAVAILABLE without
 * PostgreSQL.
 */
enum cu_err cu_flow_token_for_user(struct cu_ctx *cx, const char *slug, long long user_id,
                                   const char *const *skip_leading, long long expiry_seconds,
                                   const char **key_out, long long *expires_out)
    __attribute__((warn_unused_result));

/*
 * Hands the browser on to another flow (a redirect stage, mode "flow"): target_uuid/target_slug
 * name it. The session's plan becomes a seed for that flow, which the executor plans from when
 * the target flow is opened: its context is this plan's with keep_context, else empty, plus
 * "is_redirected": this flow's uuid. This plan ends. *url_out gets the target's flow interface
 * URL with the query kept (arena-owned).
 */
void cu_flow_switch(struct cu_flow_exec *fx, const char *target_uuid, const char *target_slug,
                    int keep_context, const char **url_out);

/*
 * For other responders (an OAuth authorize endpoint): makes flow slug start, in the request's
 * browser session, with context (borrowed; copied), as cu_flow_switch does; creates an anonymous
 * session when there is none and sets its cookie. append (borrowed; copied; may be NULL) is an
 * array of stage entries run after the flow's own stages, as authentik appends its in-memory
 * stages (OAuth fulfillment, device code): each {"name": s, "type": t, "config": {...}} with a
 * type registered in lib/stages/stages.c ("internal:..." for kinds no stage row can have); a
 * restart of the plan keeps them. *url_out gets the flow interface URL with query (may be
 * NULL). CU_ERR_NOT_FOUND for no such flow, CU_ERR_UNAVAILABLE without PostgreSQL.
 */
enum cu_err cu_flow_seed(struct cu_ctx *cx, const char *slug, struct json_object *context,
                         struct json_object *append, const char *query, const char **url_out)
    __attribute__((warn_unused_result));

/* --- the executor (cgi-bin/flow.c) ------------------------------------------------------- */

/* GET and POST /api/v3/flows/executor/{slug}/. */
void cu_flows_executor(struct cu_ctx *cx);
/* GET /flows/-/default/authentication/ and /flows/-/default/invalidation/: 302 to the brand's
 * flow interface, query kept. */
void cu_flows_default_authentication(struct cu_ctx *cx);
void cu_flows_default_invalidation(struct cu_ctx *cx);
/* GET /flows/-/cancel/: drops the plan, 302 to an allowed ?next= or the invalidation flow. */
void cu_flows_cancel(struct cu_ctx *cx);
/*
 * GET /flows/-/configure/{stage_uuid}/: plans the configure flow of a password stage for the
 * logged-in user (the pending user) and sends them to its flow interface, query kept; 404 for
 * no such stage or flow, or a flow that does not apply to them. Anonymous visitors go to the
 * authentication flow with ?next= back here.
 */
void cu_flows_configure(struct cu_ctx *cx);

#endif
