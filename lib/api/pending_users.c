/* Answers 501 for the routes of lib/api/users.h until lib/api/users.c serves them; removed then. */
#include "server.h"
#include "api/users.h"

void
cu_api_users_list(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_users_create(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_users_get(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_users_update(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_users_delete(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_users_me(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_users_set_password(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_users_recovery(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_users_paths(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_users_service_account(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

