/*
 * Who is asking: the credentials of an API request. An "Authorization: Bearer <key>" header
 * with the key of an API-intent token of an active user, or else the authentik_session cookie
 * of a signed-in session (then cx_via_session is set, and unsafe methods need the CSRF header).
 */
#ifndef CU_AUTH_H
#define CU_AUTH_H

#include <stddef.h>

#include "err.h"

struct cu_ctx;

/* A user as requests see it; every string arena-owned. */
struct cu_user {
	long long us_id; /* authentik's integer pk */
	const char *us_id_text;
	const char *us_uuid;
	const char *us_username;
	const char *us_name;
	const char *us_email;
	const char *us_type;
	const char *us_path;
	int us_is_superuser;
};

/* Longest bearer key accepted; longer ones are refused without a lookup. */
#define CU_AUTH_MAX_KEY 512

/*
 * Resolves the request's credentials. CU_OK with *out the user, or *out NULL when the request
 * carries none (a session cookie that does not verify counts as none); CU_ERR_INVALID when it
 * carries credentials that are malformed, unknown, expired or of an inactive user;
 * CU_ERR_UNAVAILABLE when PostgreSQL is down. The key is compared in constant time after a lookup
 * by its SHA-256.
 */
enum cu_err cu_auth_request(struct cu_ctx *cx, struct cu_user **out)
    __attribute__((warn_unused_result));

/* Loads the active user with id; CU_ERR_NOT_FOUND when there is none. */
enum cu_err cu_auth_load_user(struct cu_ctx *cx, long long id, struct cu_user **out)
    __attribute__((warn_unused_result));

/* The hex SHA-256 of a token key, as tokens.key_digest holds it, into out[65]. */
void cu_auth_key_digest(char out[65], const char *key, size_t len);

/*
 * Whether user holds perm ("authentik_core.view_user") on the model (object_pk NULL) or on one
 * object: 1 yes, 0 no, -1 PostgreSQL unavailable. Superusers hold every permission.
 */
int cu_auth_has_perm(struct cu_ctx *cx, const struct cu_user *user, const char *perm,
                     const char *object_pk) __attribute__((warn_unused_result));

#endif
