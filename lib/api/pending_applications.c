/* Answers 501 for the routes of lib/api/applications.h until lib/api/applications.c serves them; removed then. */
#include "server.h"
#include "api/applications.h"

void
cu_api_applications_list(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_applications_create(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_applications_get(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_applications_update(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_applications_delete(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_applications_check_access(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

