/* Answers 501 for the routes of lib/api/tokens.h until lib/api/tokens.c serves them; removed then. */
#include "server.h"
#include "api/tokens.h"

void
cu_api_tokens_list(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_tokens_create(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_tokens_get(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_tokens_update(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_tokens_delete(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_tokens_view_key(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_tokens_set_key(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

