/* Answers 501 for the routes of lib/api/groups.h until lib/api/groups.c serves them; removed then. */
#include "server.h"
#include "api/groups.h"

void
cu_api_groups_list(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_groups_create(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_groups_get(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_groups_update(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_groups_delete(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_groups_add_user(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_groups_remove_user(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

