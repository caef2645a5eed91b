/* /api/v3/core/authenticated_sessions/: the logged-in sessions, by uuid. */
#ifndef CU_API_AUTHENTICATED_SESSIONS_H
#define CU_API_AUTHENTICATED_SESSIONS_H

#include <stddef.h>

struct cu_ctx;
struct json_object;

void cu_api_sessions_list(struct cu_ctx *cx);   /* GET    authenticated_sessions/ */
void cu_api_sessions_get(struct cu_ctx *cx);    /* GET    authenticated_sessions/{uuid}/ */
void cu_api_sessions_delete(struct cu_ctx *cx); /* DELETE authenticated_sessions/{uuid}/ */

/* The longest user agent looked at; the rest of a longer one is ignored. */
#define CU_API_SESSIONS_MAX_UA 1024

/*
 * A User-Agent header described in ua-parser's shape, as authentik's user_agent field:
 * {"device": {"brand", "family", "model"}, "os": {"family", "major", "minor", "patch",
 * "patch_minor"}, "user_agent": {"family", "major", "minor", "patch"}, "string": ua}, with
 * "Other" for a family it does not recognise and null for a part it cannot tell. A new object
 * the caller owns (json_object_put). ua may be NULL (taken as "").
 */
struct json_object *cu_api_sessions_user_agent(const char *ua);

#endif
