/*
 * What the identification and password stages share (lib/stages/password.c): checking a
 * password against a user's credentials as authentik's authenticate() does with a password
 * stage's backends, the bookkeeping of a failed attempt, the reputation lockout, and a dummy
 * verification that costs what a real one does, for identifiers that match nobody.
 */
#ifndef CU_STAGES_STAGES_AUTH_H
#define CU_STAGES_STAGES_AUTH_H

#include <stddef.h>

#include "bounds.h"
#include "flows.h"

struct cu_arena;
struct cu_ctx;
struct json_object;

/* authentik's backend paths a password stage's "backends" may name. */
#define CU_STAGE_AUTH_BACKEND_INBUILT "authentik.core.auth.InbuiltBackend"
#define CU_STAGE_AUTH_BACKEND_TOKEN "authentik.core.auth.TokenBackend"

enum cu_stage_auth_result {
	CU_STAGE_AUTH_OK,    /* the password matched; the plan context says how */
	CU_STAGE_AUTH_WRONG, /* no backend accepted it (or there is no such user) */
	CU_STAGE_AUTH_FAIL,  /* PostgreSQL unavailable */
};

/*
 * Checks password (len bytes) for the active user user_id (0: nobody, when the identifier
 * matched no one: a dummy verification of the same cost runs instead) with the backends of
 * pw_config, a password stage's config (borrowed; NULL or no "backends": the stored hash and
 * app passwords). On success the plan context gets auth_method ("password" or "app_password"),
 * auth_method_args and user_backend, reputation rises by one, and a hash of an older kind or
 * weaker parameters is replaced with one made with the configured parameters.
 */
enum cu_stage_auth_result cu_stage_auth_password(struct cu_flow_exec *fx,
                                                 struct json_object *pw_config, long long user_id,
                                                 const char *username, const char *password,
                                                 size_t len) __attribute__((warn_unused_result));

/* A verification against a hash made once per process with the configured parameters, whose
 * only purpose is to take as long as a real one. */
void cu_stage_auth_dummy(struct cu_ctx *cx, const char *password, size_t len);

/*
 * A failed login of identifier at the current stage: a "login_failed" event (the identifier and
 * the stage, never the password; the client IP goes with every event) and reputation down by
 * one for the client IP and identifier. CU_OK, or the error writing the event.
 */
enum cu_err cu_stage_auth_failed(struct cu_flow_exec *fx, const char *identifier)
    __attribute__((warn_unused_result));

/* 1 when the client IP or identifier has a reputation at or below config reputation_lockout
 * (and logs it), else 0. */
int cu_stage_auth_locked(struct cu_flow_exec *fx, const char *identifier);

/* A malformed answer: logged (stage, field, code; never the value) and added to fx_errors as
 * cu_flow_invalid does; returns CU_STAGE_INVALID. field NULL: non_field_errors. */
enum cu_stage_result cu_stage_auth_bad(struct cu_flow_exec *fx, const char *field, const char *msg,
                                       const char *code);

/* The client IP as reputation keys it: authentik's 255.255.255.255 when unknown. */
const char *cu_stage_auth_client_ip(struct cu_ctx *cx);

/* The host of a Host header without its port ("login.example.com:8443" -> "login.example.com",
 * "[::1]:9000" -> "::1"), as brand domains are written; arena-owned or host itself. Pure. */
const char *cu_stage_auth_host(struct cu_arena *a, const char *host);

/*
 * Consent (lib/stages/consent.c): 1 when every "id" of requested (an array of {"id", "name"},
 * borrowed; NULL is empty) is one of the space-separated words of allowed, else 0. Pure.
 */
int cu_stage_consent_covers(const char *allowed, struct json_object *requested);

#endif
