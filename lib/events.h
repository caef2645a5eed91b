/*
 * The audit log: events as authentik records them (action, app, context, client IP, a snapshot
 * of the user). An event is written inside the caller's transaction when one is open, so a
 * change and its event commit or roll back together.
 */
#ifndef CU_EVENTS_H
#define CU_EVENTS_H

#include "err.h"

struct cu_ctx;
struct json_object;

/* The client's address for this request (X-Forwarded-For believed only from
 * listen.trusted_proxy_cidrs), arena-owned; NULL when unknown. */
const char *cu_events_client_ip(struct cu_ctx *cx);

/*
 * Writes an event by the request's user (cx_user; anonymous when NULL). context (borrowed, may
 * be NULL) gets "http_request" (path, method, request id, user agent) added. Never put a
 * secret in context.
 */
enum cu_err cu_events_write(struct cu_ctx *cx, const char *action, const char *app,
                            struct json_object *context) __attribute__((warn_unused_result));

/* cu_events_write that also gives the new event's uuid (event_uuid, 37 bytes; "" on error). */
enum cu_err cu_events_write_uuid(struct cu_ctx *cx, const char *action, const char *app,
                                 struct json_object *context, char event_uuid[37])
    __attribute__((warn_unused_result));

/*
 * model_created, model_updated or model_deleted for one object, with context
 * {"model": {"app", "model_name", "pk", "name"}, "diff": diff}. diff (borrowed, may be NULL)
 * maps each changed field to {"previous": ..., "new": ...} and must leave secrets out.
 */
enum cu_err cu_events_model(struct cu_ctx *cx, const char *action, const char *app_label,
                            const char *model_name, const char *pk, const char *name,
                            struct json_object *diff) __attribute__((warn_unused_result));

#endif
