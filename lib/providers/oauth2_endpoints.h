/*
 * The handlers of cgi-bin/oauth2.c (/application/o/...) and the flow stages the provider adds to
 * plans. Each lives in the lib/providers/oauth2_*.c file its comment names.
 */
#ifndef CU_PROVIDERS_OAUTH2_ENDPOINTS_H
#define CU_PROVIDERS_OAUTH2_ENDPOINTS_H

#include <stddef.h>

#include "err.h"
#include "flows.h"

struct cu_ctx;

/* oauth2_authorize.c: GET/POST /application/o/authorize/ */
void cu_oauth2_authorize(struct cu_ctx *cx);
/* oauth2_token.c: POST /application/o/token/ */
void cu_oauth2_token(struct cu_ctx *cx);
/* oauth2_device.c: POST /application/o/device/ (RFC 8628 §3.1), and GET /device (the user code
 * entry: 302 to the brand's device-code flow) */
void cu_oauth2_device(struct cu_ctx *cx);
void cu_oauth2_device_entry(struct cu_ctx *cx);
/* oauth2_userinfo.c: GET/POST /application/o/userinfo/ */
void cu_oauth2_userinfo(struct cu_ctx *cx);
/* oauth2_introspect.c: POST /application/o/introspect/ (RFC 7662), /application/o/revoke/
 * (RFC 7009) */
void cu_oauth2_introspect(struct cu_ctx *cx);
void cu_oauth2_revoke(struct cu_ctx *cx);
/* oauth2_meta.c: GET /application/o/<slug>/ (302 to discovery),
 * /application/o/<slug>/.well-known/openid-configuration,
 * /.well-known/oauth-authorization-server/application/o/<slug>/, /application/o/<slug>/jwks/ */
void cu_oauth2_issuer_redirect(struct cu_ctx *cx);
void cu_oauth2_discovery(struct cu_ctx *cx);
void cu_oauth2_jwks(struct cu_ctx *cx);
/* oauth2_logout.c: GET/POST /application/o/<slug>/end-session/ */
void cu_oauth2_end_session(struct cu_ctx *cx);

/* --- helpers of the endpoints above (pure: unit-tested and fuzzed alone) ------------------ */

struct cu_arena;
struct json_object;

/* oauth2_userinfo.c: the token of an "Authorization: Bearer <token>" header value (RFC 6750
 * §2.1: the scheme in any case, one or more spaces, a b64token, nothing after it but spaces),
 * borrowed from header with its length in *len; NULL when header is not of that form. */
const char *cu_oauth2_bearer_token(const char *header, size_t *len);
/* oauth2_userinfo.c: 1 when the Origin header value origin ("scheme://host[:port]") names the
 * origin of the absolute http(s) URL url (scheme and host compared without case, default ports
 * made explicit), else 0. */
int cu_oauth2_origin_match(const char *origin, const char *url);
/* oauth2_device.c: a user code as typed (digits, with spaces or hyphens anywhere) into the
 * CU_OAUTH2_USER_CODE_LEN digits custos stores, NUL-terminated; -1 for anything else. */
int cu_oauth2_user_code_normalize(char *out, size_t outlen, const char *in);
/* oauth2_logout.c: s percent-encoded for a query value (unreserved characters kept),
 * arena-owned. */
char *cu_oauth2_query_escape(struct cu_arena *a, const char *s);
/* oauth2_logout.c: uri with "state=<state>" appended to its query ('?' or '&'), as the
 * post-logout redirect carries it; uri itself when state is NULL or empty. Arena-owned. */
const char *cu_oauth2_logout_redirect(struct cu_arena *a, const char *uri, const char *state);

/* oauth2_device.c: the slugs of the request's brand's device code flow and invalidation flow
 * (each NULL when the brand has none; arena-owned). */
enum cu_err cu_oauth2_brand_flows(struct cu_ctx *cx, const char **device, const char **invalidation)
    __attribute__((warn_unused_result));

/* oauth2_meta.c: starts, once per process, the thread that keeps the JWKS files published in
 * oauth2.publish_dir current (a no-op without one). oauth2.fcgi's start hook (struct cu_app's
 * ap_start), so every process serving OAuth2 requests watches the files from its start, even
 * one the router never sends a JWKS request (oauth2_meta.c explains why). */
struct cu_config;
void cu_oauth2_publish_start(const struct cu_config *cfg);

/* Stage kinds appended to plans (cu_flow_seed's append), registered in lib/stages/stages.c. */
extern const struct cu_stage_type cu_stage_oauth2_fulfillment; /* oauth2_authorize.c,
                                                                  "internal:oauth2_fulfillment" */
extern const struct cu_stage_type cu_stage_oauth2_device_code; /* oauth2_device.c,
                                                                  "internal:oauth2_device_code" */

#endif
