/* /api/v3/core/tokens/: tokens by identifier; the key only through view_key/. */
#ifndef CU_API_TOKENS_H
#define CU_API_TOKENS_H

struct cu_ctx;

void cu_api_tokens_list(struct cu_ctx *cx);     /* GET  tokens/ */
void cu_api_tokens_create(struct cu_ctx *cx);   /* POST tokens/ */
void cu_api_tokens_get(struct cu_ctx *cx);      /* GET  tokens/{identifier}/ */
void cu_api_tokens_update(struct cu_ctx *cx);   /* PUT, PATCH tokens/{identifier}/ */
void cu_api_tokens_delete(struct cu_ctx *cx);   /* DELETE tokens/{identifier}/ */
void cu_api_tokens_view_key(struct cu_ctx *cx); /* GET  tokens/{identifier}/view_key/ */
void cu_api_tokens_set_key(struct cu_ctx *cx);  /* POST tokens/{identifier}/set_key/ */
#endif
