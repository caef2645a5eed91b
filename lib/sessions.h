/*
 * Browser sessions, authentik's way: the cookie authentik_session holds a JWT (HS256, keyed
 * with the hex SHA-512 of secret_key) whose "sid" names a row of the sessions table; the
 * authentik_csrf cookie and the X-authentik-CSRF header guard unsafe requests (Django's CSRF
 * scheme, masked or plain tokens).
 */
#ifndef CU_SESSIONS_H
#define CU_SESSIONS_H

#include <stddef.h>

#include "bounds.h"
#include "err.h"

struct cu_ctx;
struct cu_user;

#define CU_SESSIONS_COOKIE "authentik_session"
#define CU_SESSIONS_CSRF_COOKIE "authentik_csrf"
#define CU_SESSIONS_CSRF_HEADER "x-authentik-csrf"

/*
 * The session key the request's authentik_session cookie names, when the cookie is a JWT whose
 * HS256 signature holds and which says authenticated; arena-owned. NULL for no cookie or any
 * cookie that does not verify.
 */
const char *cu_sessions_cookie_sid(struct cu_ctx *cx);

/*
 * The cookie value for session sid: header.payload.signature with payload {"sid", "iss":
 * "authentik", "sub", "authenticated", "acr"}; arena-owned.
 */
const char *cu_sessions_cookie_value(struct cu_ctx *cx, const char *sid, const char *sub,
                                     int authenticated);

/* 1 when the X-authentik-CSRF header carries the secret of the authentik_csrf cookie. */
int cu_sessions_csrf_ok(struct cu_ctx *cx);

/* Length of a session key: random letters and digits, far past guessing. */
#define CU_SESSIONS_KEY_LEN 40

/*
 * The session key the cookie names whether or not it says authenticated (the flow executor
 * serves anonymous sessions too); *authenticated gets the claim. NULL as for
 * cu_sessions_cookie_sid.
 */
const char *cu_sessions_cookie_any(struct cu_ctx *cx, int *authenticated);

/* A fresh session key into out[CU_SESSIONS_KEY_LEN + 1]. */
void cu_sessions_new_key(char out[CU_SESSIONS_KEY_LEN + 1]);

/*
 * Sets the authentik_session cookie for sid on the response: Path web.path, HttpOnly,
 * SameSite=Lax over plain HTTP and SameSite=None; Secure over HTTPS (as authentik, so that a
 * cross-site SAML POST still carries it), Domain cookie_domain when set. max_age < 0 makes a
 * browser session cookie. -1 when the header table is full.
 */
int cu_sessions_set_cookie(struct cu_ctx *cx, const char *sid, const char *sub, int authenticated,
                           long max_age) __attribute__((warn_unused_result));

/* Sets authentik_csrf (readable by scripts, a year long) when the request carries no valid one,
 * so that the interface can echo it in X-authentik-CSRF. -1 when the header table is full. */
int cu_sessions_ensure_csrf(struct cu_ctx *cx) __attribute__((warn_unused_result));

/* One row of sessions as the flow executor reads it; strings arena-owned. */
struct cu_session {
	const char *se_key;
	struct cu_user *se_user; /* NULL: anonymous */
	long long se_plan_rev;   /* bumped by every write of flow_plan; 0: never written */
	/* The active pending user of the stored plan (sessions.pending_user_id), else NULL. */
	struct cu_user *se_pending_user;
};

/*
 * Loads the unexpired session key, with its user when the session is logged in: CU_OK,
 * CU_ERR_NOT_FOUND for no such session, an expired one, or one whose user is inactive,
 * CU_ERR_UNAVAILABLE when PostgreSQL is down.
 */
enum cu_err cu_sessions_load(struct cu_ctx *cx, const char *key, struct cu_session *out)
    __attribute__((warn_unused_result));

/*
 * Inserts session key: anonymous when user_id is 0, else for that user provided the user is
 * active (CU_ERR_NOT_FOUND otherwise). It expires in seconds; plan (may be NULL) is its first
 * flow_plan, with revision 1. The client address and user agent are the request's.
 */
enum cu_err cu_sessions_create(struct cu_ctx *cx, const char *key, long long user_id,
                               long long seconds, const char *plan)
    __attribute__((warn_unused_result));

/*
 * A new key for the logged-in session of user_id under key (a login again by the same user):
 * the row keeps its uuid, so what hangs on the session (OAuth2 grants, SAML sessions) stays with
 * it and nothing counts as a logout; its plan is dropped, it expires now + seconds, and its
 * created time becomes now, the login's (what an authorization request's max_age looks at).
 * CU_ERR_NOT_FOUND when key is not that user's session.
 */
enum cu_err cu_sessions_rotate(struct cu_ctx *cx, const char *key, const char *new_key,
                               long long user_id, long long seconds)
    __attribute__((warn_unused_result));
/* Deletes session key (no error when there is none). */
enum cu_err cu_sessions_delete(struct cu_ctx *cx, const char *key)
    __attribute__((warn_unused_result));

/* Deletes every session of user_id but keep. */
enum cu_err cu_sessions_delete_others(struct cu_ctx *cx, long long user_id, const char *keep)
    __attribute__((warn_unused_result));

#endif
