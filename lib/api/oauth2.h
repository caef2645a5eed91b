/*
 * /api/v3/oauth2/: the grants the OAuth2 provider issued (access tokens, refresh tokens,
 * authorization codes), listed, shown and revoked by deletion, by integer id.
 */
#ifndef CU_API_OAUTH2_H
#define CU_API_OAUTH2_H

struct cu_ctx;

void cu_api_oauth2_access_tokens_list(struct cu_ctx *cx);
void cu_api_oauth2_access_tokens_get(struct cu_ctx *cx);
void cu_api_oauth2_access_tokens_delete(struct cu_ctx *cx);
void cu_api_oauth2_refresh_tokens_list(struct cu_ctx *cx);
void cu_api_oauth2_refresh_tokens_get(struct cu_ctx *cx);
void cu_api_oauth2_refresh_tokens_delete(struct cu_ctx *cx);
void cu_api_oauth2_codes_list(struct cu_ctx *cx);
void cu_api_oauth2_codes_get(struct cu_ctx *cx);
void cu_api_oauth2_codes_delete(struct cu_ctx *cx);

#endif
