/* Answers 501 for the routes of lib/api/brands.h until lib/api/brands.c serves them; removed then. */
#include "server.h"
#include "api/brands.h"

void
cu_api_brands_list(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_brands_create(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_brands_get(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_brands_update(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_brands_delete(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_brands_current(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

