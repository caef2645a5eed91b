/*
 * The OAuth 2.0 / OpenID Connect provider's core (lib/providers/oauth2.c): providers as the
 * endpoints see them, client authentication, scopes and claims, and the grants custos issues
 * (codes, access tokens, refresh tokens, ID tokens). The endpoints are one file each beside it:
 * oauth2_authorize.c, oauth2_token.c, oauth2_device.c, oauth2_userinfo.c, oauth2_introspect.c
 * (introspection and revocation), oauth2_meta.c (discovery and JWKS), oauth2_logout.c
 * (end-session and back-channel logout); their handlers are declared in oauth2_endpoints.h and
 * routed by cgi-bin/oauth2.c. Facts about authentik's behaviour: ../shared/reference/authentik.md
 * §1.3 and §6.1.
 *
 * Secrets: codes, refresh tokens and device codes are random (CU_OAUTH2_SECRET_LEN characters)
 * and stored as their hex SHA-256; an access token is a JWT stored as the SHA-256 of the whole
 * JWT. Client secrets are compared in constant time.
 */
#ifndef CU_PROVIDERS_OAUTH2_H
#define CU_PROVIDERS_OAUTH2_H

#include <stddef.h>
#include <time.h>

#include "auth.h"
#include "err.h"

struct cu_ctx;
struct cu_user;
struct cu_kv;
struct cu_jose_key;
struct cu_arena;
struct json_object;
struct pg_result;

#define CU_OAUTH2_SECRET_LEN 48 /* characters of a code / refresh token / device code */

/* authentik's ID-token acr. */
#define CU_OAUTH2_ACR "goauthentik.io/providers/oauth2/default"

/*
 * A provider with what every endpoint needs of it, its application and its flows. Strings are
 * arena-owned (or owned by the process cache and valid for the request: never keep them past
 * it). op_app_* are NULL when no application binds the provider.
 */
struct cu_oauth2_provider {
	int op_id;
	long long op_serial; /* providers.serial: the cache's check (sql/0060_oauth2.sql) */
	const char *op_name;
	const char *op_client_type; /* "confidential" | "public" */
	const char *op_client_id;
	const char *op_client_secret;
	struct json_object *op_redirect_uris; /* [{matching_mode, url, redirect_uri_type}] */
	long long op_code_validity;           /* seconds */
	long long op_access_validity;
	long long op_refresh_validity;
	long long op_refresh_threshold;
	int op_include_claims_in_id_token;
	int op_pkce_required;
	const char *op_signing_key;    /* kp uuid, NULL: HS256 with the client secret */
	const char *op_signing_fp;     /* that pair's fingerprint_sha256 */
	const char *op_encryption_key; /* kp uuid or NULL (JWE is not produced; see oauth2.c) */
	const char *op_sub_mode;
	const char *op_issuer_mode; /* "per_provider" | "global" */
	const char *op_logout_uri;
	const char *op_logout_method;       /* "backchannel" | "frontchannel" */
	const char *op_authentication_flow; /* slug or NULL */
	const char *op_authorization_flow;  /* slug */
	const char *op_invalidation_flow;   /* slug or NULL */
	const char *op_app_uuid;
	const char *op_app_slug;
	const char *op_app_name;
	const char *op_app_launch_url;
	const char *op_app_policy_mode; /* "any" | "all" */
	int op_app_has_bindings;        /* any policy binding targets the application */
	/* The scope mappings: [{"pm_uuid", "scope_name", "description", "expression"}], ordered by
	 * name. */
	struct json_object *op_mappings;
};

/*
 * Finding a provider. CU_OK with *out; CU_ERR_NOT_FOUND when no OAuth2 provider has that
 * client_id / no application with that slug binds an OAuth2 provider / no such id;
 * CU_ERR_UNAVAILABLE without PostgreSQL. A responder may serve these from a process cache
 * checked against providers.serial; fresh forces a read from PostgreSQL.
 */
enum cu_err cu_oauth2_provider_by_client_id(struct cu_ctx *cx, const char *client_id, int fresh,
                                            const struct cu_oauth2_provider **out)
    __attribute__((warn_unused_result));
enum cu_err cu_oauth2_provider_by_app_slug(struct cu_ctx *cx, const char *slug, int fresh,
                                           const struct cu_oauth2_provider **out)
    __attribute__((warn_unused_result));
enum cu_err cu_oauth2_provider_by_id(struct cu_ctx *cx, int id, int fresh,
                                     const struct cu_oauth2_provider **out)
    __attribute__((warn_unused_result));

/* --- URLs (absolute, from the request's scheme and Host, as authentik builds them) --------- */

/* "https://host" (no trailing slash), arena-owned. */
const char *cu_oauth2_base_url(struct cu_ctx *cx);
/* The issuer: base + "/application/o/<app slug>/" (per_provider) or base + "/" (global);
 * NULL for a per_provider provider no application binds (authentik's None: no iss claim). */
const char *cu_oauth2_issuer(struct cu_ctx *cx, const struct cu_oauth2_provider *p);

/* --- the signing key --------------------------------------------------------------------- */

/* The key tokens of p are signed with: its signing key pair (lib/keys.h), or HS256 with the
 * client secret. *out is valid for the request. */
enum cu_err cu_oauth2_signing_key(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                                  const struct cu_jose_key **out)
    __attribute__((warn_unused_result));

/* --- client authentication (RFC 6749 §2.3) ----------------------------------------------- */

/*
 * Authenticates the client of a token, introspection or revocation request from the
 * Authorization: Basic header (client_secret_basic, both parts form-urlencoded as RFC 6749
 * §2.3.1 says) or the form's client_id / client_secret (client_secret_post); both at once is
 * invalid_request. A public client needs only its client_id (require_secret 0 lets it through
 * without a secret). CU_OK with *out; CU_ERR_DENIED for an unknown client or a wrong or missing
 * secret (the caller answers 401 invalid_client with WWW-Authenticate: Basic when the header was
 * used, else 400/401 per RFC 6749 §5.2 via cu_oauth2_error); CU_ERR_INVALID for a malformed
 * header; CU_ERR_UNAVAILABLE without PostgreSQL.
 */
enum cu_err cu_oauth2_client_auth(struct cu_ctx *cx, const struct cu_kv *form, size_t nform,
                                  int require_secret, const struct cu_oauth2_provider **out)
    __attribute__((warn_unused_result));

/* A form field's first value, or NULL. *repeated (may be NULL) is set when the name appears
 * more than once: RFC 6749 §3.1 wants such a request refused, and the callers do. */
const char *cu_oauth2_form_get(const struct cu_kv *form, size_t n, const char *name, int *repeated);

/* --- errors (RFC 6749 §5.2 shape) -------------------------------------------------------- */

/* Answers {"error": code, "error_description": description} with status, Cache-Control:
 * no-store, and for 401 WWW-Authenticate: Basic realm="authentik"; logs one line. */
void cu_oauth2_error(struct cu_ctx *cx, int status, const char *code, const char *description);

/* --- scopes and claims ------------------------------------------------------------------- */

/*
 * Splits a space-separated scope parameter into an arena array of distinct strings (order
 * kept), at most CU_OAUTH2_MAX_SCOPES; -1 past that or for a malformed scope (RFC 6749 §3.3
 * characters). Then cu_oauth2_scopes_clamp keeps only those some mapping of p has a scope_name
 * for (authentik drops the others silently), returned as a PostgreSQL text[] literal in
 * *pg_array (may be NULL) and a JSON array of strings.
 */
int cu_oauth2_scopes_parse(struct cu_ctx *cx, const char *scope, struct json_object **out)
    __attribute__((warn_unused_result));
struct json_object *cu_oauth2_scopes_clamp(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                                           struct json_object *scopes, const char **pg_array);
/* 1 when scopes (JSON array) holds s. */
int cu_oauth2_scopes_has(struct json_object *scopes, const char *s);
/* "a b c" of a JSON array of scopes, arena-owned. */
const char *cu_oauth2_scopes_join(struct cu_ctx *cx, struct json_object *scopes);

/* The sub claim of user under p's sub_mode (hashed_user_id: hex SHA-256 of the user's id as
 * authentik computes it, user_id, user_uuid, user_username, user_email, user_upn). */
const char *cu_oauth2_sub(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                          const struct cu_user *user);

/*
 * The claims of the scope mappings of p whose scope_name is in scopes, for user: each mapping's
 * Lua expression runs in the sandbox (lib/policies/expression.h) with request.user (username,
 * name, email, pk, uuid, is_active, attributes, groups = [{name, pk}]), provider = {name, pk},
 * application, and returns a table merged into the claims (later mappings win). A mapping that
 * fails is logged and skipped, as authentik does. *out is an arena JSON object.
 */
enum cu_err cu_oauth2_claims(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                             const struct cu_user *user, struct json_object *scopes,
                             struct json_object **out) __attribute__((warn_unused_result));

/* --- access to the application ----------------------------------------------------------- */

/* Whether user may use p's application: its policy bindings in its policy_engine_mode (no
 * application or no bindings: yes). 1, 0 (messages in *messages when not NULL), -1 PostgreSQL
 * unavailable. */
int cu_oauth2_app_access(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                         const struct cu_user *user, struct json_object **messages)
    __attribute__((warn_unused_result));

/* --- issuing ----------------------------------------------------------------------------- */

/* Who and how, for a grant made for a browser session (code, implicit, device) or without one. */
struct cu_oauth2_grant {
	const struct cu_user *og_user;
	struct json_object *og_scopes; /* clamped JSON array */
	const char *og_session_uuid;   /* sessions.uuid: the ID token's sid; NULL for none */
	time_t og_auth_time;           /* when the user logged in */
	const char *og_amr;            /* "pwd", ... or NULL */
	const char *og_nonce;          /* NULL for none */
	long long og_code_id;          /* the code it came from, 0 for none */
	long long og_chain_id;         /* a refresh chain it continues, 0 for none */
};

/* What was issued; strings arena-owned, NULL when not issued. */
struct cu_oauth2_tokens {
	const char *ot_access_token; /* JWT */
	long long ot_expires_in;     /* access token lifetime, seconds */
	const char *ot_id_token;     /* JWT, when scopes hold openid */
	const char *ot_refresh_token;
	const char *ot_scope; /* space-separated */
};

/*
 * Makes the access token (a JWT: the ID-token claims plus azp, uid and scope, as authentik's),
 * the ID token when scopes hold "openid" (with at_hash of the access token, c_hash of code when
 * code is not NULL, nonce, auth_time, acr, amr, sid; the mapping claims when
 * include_claims_in_id_token), and a refresh token when with_refresh and scopes hold
 * offline_access; stores the access and refresh tokens. Runs inside the caller's transaction
 * when one is open. want_access / want_id let the implicit flow issue only what its
 * response_type names.
 */
enum cu_err cu_oauth2_issue(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                            const struct cu_oauth2_grant *g, const char *code, int want_access,
                            int want_id, int with_refresh, struct cu_oauth2_tokens *out)
    __attribute__((warn_unused_result));

/*
 * An authorization code for g, bound to p, redirect_uri and the PKCE challenge (NULLs for
 * none), valid op_code_validity seconds. *code_out (arena-owned) is what goes to the client.
 */
enum cu_err cu_oauth2_code_create(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                                  const struct cu_oauth2_grant *g, const char *redirect_uri,
                                  const char *code_challenge, const char *code_challenge_method,
                                  const char **code_out) __attribute__((warn_unused_result));

/* A stored access token found by the JWT the client presents (its digest), not expired and not
 * revoked, with its user active. */
struct cu_oauth2_access {
	long long oa_id;
	int oa_provider_id;
	long long oa_user_id;
	struct json_object *oa_scopes;
	struct json_object *oa_claims; /* as issued */
	time_t oa_expires;
	const char *oa_session_uuid;
};

/* CU_OK, CU_ERR_NOT_FOUND (unknown, expired, revoked, or its user inactive),
 * CU_ERR_UNAVAILABLE. */
enum cu_err cu_oauth2_access_find(struct cu_ctx *cx, const char *token,
                                  struct cu_oauth2_access *out) __attribute__((warn_unused_result));

/* The hex SHA-256 of a secret the client holds, as the tables store it, into out[65]. */
void cu_oauth2_digest(char out[65], const char *secret, size_t len);

/* The ID token's sid for a session (sessions.uuid): its hex SHA-256, as authentik hashes its
 * session key, into out[65]. Back-channel logout tokens name the session the same way. */
void cu_oauth2_sid(char out[65], const char *session_uuid);

/* --- what the token endpoint builds on (lib/providers/oauth2.c for oauth2_token.c) ------- */

/*
 * A provider from the process cache without asking PostgreSQL whether it is current: only for
 * a caller whose next statement checks op_serial itself (the token endpoint's single-statement
 * grants), and that reloads with fresh = 1 when that statement finds it changed. Loads it when
 * not cached. Same results as cu_oauth2_provider_by_client_id.
 */
enum cu_err cu_oauth2_provider_cached(struct cu_ctx *cx, const char *client_id,
                                      const struct cu_oauth2_provider **out)
    __attribute__((warn_unused_result));

/* Tells the cache what a statement found about p's application bindings. */
void cu_oauth2_provider_note_bindings(const struct cu_oauth2_provider *p, int has_bindings);

/* A user with what its claims are made of (lib/stmts/oauth2.h CU_SQL_OAUTH2C_USER_COLS).
 * Arena-owned. */
struct cu_oauth2_user {
	struct cu_user ou_user;
	int ou_active;
	struct json_object *ou_json; /* request.user of the scope mappings */
	const char *ou_version; /* hex SHA-256 of ou_json's text, as the statements compute it */
};

/* The user of row r of res, its 9 columns starting at col. */
struct cu_oauth2_user *cu_oauth2_user_from_row(struct cu_ctx *cx, const struct pg_result *res,
                                               int r, int col);
/* Loads user id, active or not; CU_ERR_NOT_FOUND when there is none. */
enum cu_err cu_oauth2_user_load(struct cu_ctx *cx, long long id, struct cu_oauth2_user **out)
    __attribute__((warn_unused_result));

/*
 * The client_credentials service account of p, authentik's `ak-<provider name>-client_
 * credentials` (type service_account), made on first use by one race-safe upsert. The process
 * keeps it with p's cache entry; fresh = 1 reads (and upserts) it again. *out is valid for the
 * request.
 */
enum cu_err cu_oauth2_service_account(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                                      int fresh, const struct cu_oauth2_user **out)
    __attribute__((warn_unused_result));

/* cu_oauth2_claims for a loaded user. */
enum cu_err cu_oauth2_claims_of(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                                const struct cu_oauth2_user *u, struct json_object *scopes,
                                struct json_object **out) __attribute__((warn_unused_result));

/* cu_oauth2_app_access with a policy context (authentik's oauth_scopes, oauth_grant_type, ...;
 * borrowed, may be NULL). */
int cu_oauth2_app_access_ctx(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                             const struct cu_user *user, struct json_object *context,
                             struct json_object **messages) __attribute__((warn_unused_result));

/* Tokens made and signed but not yet stored: what the statement that stores them needs. */
struct cu_oauth2_built {
	struct cu_oauth2_tokens ob_tokens;
	char ob_access_digest[65];    /* "" when no access token */
	char ob_refresh_digest[65];   /* "" when no refresh token */
	const char *ob_access_claims; /* JSON text of the access token's claims */
	const char *ob_id_claims; /* JSON text of the ID token's claims (refresh rows keep it) */
	const char *ob_scope_pg;  /* the scopes as a text[] literal */
	const char *ob_amr_pg;    /* og_amr as a text[] literal */
	long long ob_now;
	long long ob_access_expires;
	long long ob_refresh_expires;
};

/*
 * cu_oauth2_issue's first half, no database write: the claims (u's, or loaded for g->og_user
 * when u is NULL and the mappings need them), the signed access and ID tokens and a refresh
 * token, into *out. The second half is cu_oauth2_store, or a grant's own statement.
 */
enum cu_err cu_oauth2_build(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                            const struct cu_oauth2_user *u, const struct cu_oauth2_grant *g,
                            const char *code, int want_access, int want_id, int with_refresh,
                            struct cu_oauth2_built *out) __attribute__((warn_unused_result));
/* Stores what cu_oauth2_build made (OAUTH2_ISSUE), in the caller's transaction when open. */
enum cu_err cu_oauth2_store(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                            const struct cu_oauth2_grant *g, const struct cu_oauth2_built *b)
    __attribute__((warn_unused_result));

/* A JSON array of strings from PostgreSQL's array_to_json text; an empty array for NULL or
 * anything else. Arena-owned. */
struct json_object *cu_oauth2_json_array(struct cu_ctx *cx, const char *text);
/* A text[] literal of a JSON array of strings (scope tokens, amr values), arena-owned. */
const char *cu_oauth2_pg_array(struct cu_ctx *cx, struct json_object *arr);

/* --- the token request (oauth2_token.c), parsed apart from the database for the fuzzer --- */

/*
 * The client credentials of an Authorization: Basic header (RFC 6749 §2.3.1: base64 of
 * id ":" secret, each form-urlencoded). 1 with *id and *secret (arena-owned) set, 0 when the
 * header is absent or not Basic, -1 when it is Basic but malformed (bad base64, no ':', an
 * encoding error, a NUL, or past CU_OAUTH2_MAX_CLIENT_ID / CU_OAUTH2_MAX_SECRET).
 */
int cu_oauth2_basic_parse(struct cu_arena *a, const char *header, const char **id,
                          const char **secret);

struct cu_oauth2_token_request {
	const char *tr_grant_type;
	const char *tr_client_id;     /* from Basic or the form */
	const char *tr_client_secret; /* NULL when none was given */
	int tr_basic;                 /* the client authenticated with Authorization: Basic */
	const char *tr_code;
	const char *tr_redirect_uri;
	const char *tr_code_verifier;
	const char *tr_refresh_token;
	const char *tr_scope;          /* as sent; NULL when absent */
	struct json_object *tr_scopes; /* parsed, distinct, order kept (not clamped) */
	const char *tr_username;
	const char *tr_password;
	const char *tr_device_code;
	const char *tr_client_assertion_type;
	const char *tr_client_assertion;
	/* Set when the request is malformed: the RFC 6749 §5.2 error and a description. */
	const char *tr_error;
	const char *tr_error_description;
};

/*
 * Reads a token request from its form (decoded pairs) and Authorization header (may be NULL):
 * repeated parameters, both Basic and client_secret, Basic and form client_ids that differ,
 * oversized values (CU_OAUTH2_MAX_PARAM; an assertion CU_OAUTH2_MAX_ASSERTION) and malformed
 * scopes are errors (tr_error "invalid_request", or "invalid_scope", or "invalid_client" for a
 * malformed Basic header). 0, or -1 with tr_error set. Strings borrowed from form or the arena.
 */
int cu_oauth2_token_request_parse(struct cu_arena *a, const char *authorization,
                                  const struct cu_kv *form, size_t nform,
                                  struct cu_oauth2_token_request *out)
    __attribute__((warn_unused_result));

/* cu_oauth2_scopes_parse on an arena. */
int cu_oauth2_scopes_parse_a(struct cu_arena *a, const char *scope, struct json_object **out)
    __attribute__((warn_unused_result));

/* RFC 7636 §4.1 code_verifier: 43 to 128 characters of [A-Za-z0-9-._~]. */
int cu_oauth2_pkce_verifier_ok(const char *v);

#endif
