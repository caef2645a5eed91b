/* Answers 501 for the routes of lib/api/events.h until lib/api/events.c serves them; removed then. */
#include "server.h"
#include "api/events.h"

void
cu_api_events_list(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_events_get(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

void
cu_api_events_actions(struct cu_ctx *cx)
{
	cu_ctx_error(cx, 501, "Not available yet.");
}

