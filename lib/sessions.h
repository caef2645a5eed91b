/*
 * Browser sessions, authentik's way: the cookie authentik_session holds a JWT (HS256, keyed
 * with the hex SHA-512 of secret_key) whose "sid" names a row of the sessions table; the
 * authentik_csrf cookie and the X-authentik-CSRF header guard unsafe requests (Django's CSRF
 * scheme, masked or plain tokens).
 */
#ifndef CU_SESSIONS_H
#define CU_SESSIONS_H

#include <stddef.h>

struct cu_ctx;

#define CU_SESSIONS_COOKIE "authentik_session"
#define CU_SESSIONS_CSRF_COOKIE "authentik_csrf"
#define CU_SESSIONS_CSRF_HEADER "x-authentik-csrf"
/* Longest cookie value looked at; longer ones are ignored. */
#define CU_SESSIONS_MAX_COOKIE 4096

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

#endif
