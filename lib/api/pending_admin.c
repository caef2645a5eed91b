/* Answers 501 for the routes of lib/api/admin.h until lib/api/admin.c serves them; removed then. */
#include "server.h"
#include "api/admin.h"

void
cu_api_admin_version(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_admin_system(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_schema(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

