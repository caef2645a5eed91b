/*
 * Expression policies: Lua 5.4 run in a sandbox, one lua_State per evaluation.
 *
 * The sandbox core (cu_policy_expression_run) needs no database: what it asks of the outside
 * (ak_user_by, ak_is_group_member) goes through hooks, so unit tests and the fuzz target run it
 * alone. The script is the body of a function, as an authentik expression is: `return ...`
 * gives the result, Lua truthiness decides it (no return is nil, a failure).
 *
 * What a script sees:
 *   request       {user = {...}, http_request = {...} or nil, context = {...}, obj_pk = s}
 *   context       request.context; http_request  request.http_request
 *   ak_client_ip  the client's address as a string, or nil
 *   ak_message(s), ak_logger(...), ak_user_by{username=|email=|pk=},
 *   ak_is_group_member(user, {name=|pk=} or "name"), regex_match(v, p), regex_replace(v, p, r)
 * and the base library without dofile, loadfile, load, loadstring, require, collectgarbage and
 * print (ak_logger instead); string (without dump), table, math, utf8; no io, os, debug,
 * package, coroutine.
 *
 * regex_match and regex_replace are POSIX extended regular expressions (regcomp REG_EXTENDED),
 * searched anywhere in the value as Python's re.search and re.sub do; back-references are
 * refused (their matching time has no bound) and so are patterns over CU_EXPR_MAX_REGEX bytes.
 * Lua's own patterns (string.find, match, gmatch, gsub) take time that grows as the subject's
 * length to the power of the pattern's repetitions; a call whose bound passes
 * CU_EXPR_MAX_MATCH_COST is refused with an error rather than run.
 *
 * Limits: an instruction budget and a wall-clock deadline checked every
 * CU_EXPR_HOOK_EVERY instructions, and an allocator that refuses memory past a cap. A script
 * past either is stopped (an error the script cannot catch for long: once over, every
 * instruction raises again). Metatables with __gc are refused: finalizers run with hooks off
 * and would escape the budget.
 */
#ifndef CU_POLICIES_EXPRESSION_H
#define CU_POLICIES_EXPRESSION_H

#include <stddef.h>

#include "bounds.h"
#include "err.h"

struct cu_arena;
struct json_object;

#define CU_EXPR_MAX_MATCH_COST 1e8 /* bound on a Lua pattern call's steps */
#define CU_EXPR_HOOK_EVERY 100

struct cu_expression_limits {
	long long el_max_instructions; /* <= 0: 10 million */
	size_t el_max_memory;          /* bytes; 0: 16 MiB */
	double el_deadline;            /* cu_policy_now() value to stop at; 0: none */
};

/*
 * What the sandbox asks of the outside. Each hook may be NULL (the helper then finds nothing).
 * user_by: field is "username", "email" or "pk"; *out a user object as in the request (arena-
 * owned) or NULL when there is none; -1 on a failure (the script gets an error).
 * is_group_member: 1 or 0, -1 on a failure; field is "name" or "pk".
 */
struct cu_expression_hooks {
	void *eh_data;
	int (*eh_user_by)(void *data, const char *field, const char *value,
	                  struct json_object **out);
	int (*eh_is_group_member)(void *data, const char *user_pk, const char *field,
	                          const char *value);
};

struct cu_expression_result {
	int er_passing;
	struct json_object *er_messages; /* arena-owned array of strings (ak_message) */
	struct json_object *er_logs;     /* arena-owned array of strings (ak_logger) */
	const char *er_error;            /* arena-owned; set when the run failed */
};

/* Hooks answered from PostgreSQL for the request cx, as the policy engine answers them: what
 * expression policies and property mappings run with. */
struct cu_ctx;
void cu_policy_expression_db_hooks(struct cu_expression_hooks *out, struct cu_ctx *cx);

/*
 * Runs src (len bytes) with request (borrowed JSON: {"user", "http_request", "context",
 * "obj_pk"}) exposed as above. CU_OK with er_passing set; CU_ERR_INVALID with er_error for a
 * compile error, a runtime error or a limit reached (authentik's PolicyException).
 */
enum cu_err
cu_policy_expression_run(struct cu_arena *a, const char *src, size_t len,
                         struct json_object *request, const struct cu_expression_limits *lim,
                         const struct cu_expression_hooks *hooks, struct cu_expression_result *out)
    __attribute__((warn_unused_result));

/* Whether src compiles (the API's validation); 1, or 0 with *error (arena-owned) set. */
int cu_policy_expression_check(struct cu_arena *a, const char *src, size_t len, const char **error);

/*
 * Value-returning scripts (property mappings: a scope mapping returns the claims it adds). Each
 * of the n scripts runs in the same sandbox, limits and hooks as cu_policy_expression_run, with
 * request as above plus the members of globals (borrowed JSON object, may be NULL) as global
 * variables, and what it returns is converted to JSON: a table whose keys are exactly the
 * integers 1..n becomes an array (an empty table too: Lua cannot tell {} from [], so a caller
 * wanting an object takes an empty array as {}), any other table an object (keys must be
 * strings or numbers), strings (valid UTF-8, no NUL), finite numbers and booleans as
 * themselves, nil as JSON null (ev_value NULL). Nesting is bounded by CU_JSON_MAX_DEPTH, the
 * whole value by CU_EXPR_MAX_VALUE_NODES values and CU_EXPR_MAX_VALUE_BYTES string bytes; a
 * result past a bound or holding a function, userdata or thread is an error.
 *
 * The scripts share one interpreter (opening one costs more than running most mappings) but not
 * their globals: each runs with its own global table reading through to the shared one, and
 * gets its own copy of request. Library tables are shared. A script that reaches a limit ends
 * the interpreter; the next script gets a fresh one. The instruction budget and memory cap hold
 * for each script.
 */
struct cu_expression_value {
	struct json_object *ev_value; /* arena-owned; NULL for nil and on error */
	const char *ev_error;         /* arena-owned; set when the script failed */
	struct json_object *ev_logs;  /* arena-owned array of strings (ak_logger) */
};

/* CU_OK when every script ran (out[i].ev_error NULL for each), CU_ERR_INVALID when one or more
 * failed (the others' values are still set). */
enum cu_err cu_policy_expression_values(struct cu_arena *a, const char *const *srcs,
                                        const size_t *lens, size_t n, struct json_object *request,
                                        struct json_object *globals,
                                        const struct cu_expression_limits *lim,
                                        const struct cu_expression_hooks *hooks,
                                        struct cu_expression_value *out)
    __attribute__((warn_unused_result));

/* One script: CU_OK with *value (NULL for nil), or CU_ERR_INVALID with *error. */
enum cu_err cu_policy_expression_value(struct cu_arena *a, const char *src, size_t len,
                                       struct json_object *request, struct json_object *globals,
                                       const struct cu_expression_limits *lim,
                                       const struct cu_expression_hooks *hooks,
                                       struct json_object **value, const char **error)
    __attribute__((warn_unused_result));

#endif
