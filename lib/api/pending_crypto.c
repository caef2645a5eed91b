/* Answers 501 for the routes of lib/api/crypto.h until lib/api/crypto.c serves them; removed then. */
#include "server.h"
#include "api/crypto.h"

void
cu_api_crypto_list(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_crypto_create(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_crypto_generate(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_crypto_get(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_crypto_update(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_crypto_delete(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_crypto_view_certificate(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_crypto_view_private_key(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

