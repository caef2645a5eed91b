#include "events.h"

#include <stdio.h>

#include <json-c/json.h>

#include "db.h"
#include "auth.h"
#include "http.h"
#include "json.h"
#include "netaddr.h"
#include "server.h"

/* authentik's app for events written by its model-change middleware. */
#define EVENTS_MODEL_APP "authentik.events.middleware"

const char *
cu_events_client_ip(struct cu_ctx *cx)
{
	char *out = cu_arena_alloc(cx->cx_arena, 64);

	return cu_netaddr_client(out, 64, cx->cx_req->rq_remote_addr,
	                         cu_http_header(cx->cx_req, "x-forwarded-for"),
	                         cx->cx_cfg->trusted_proxy_cidrs);
}

static struct json_object *
user_snapshot(struct cu_ctx *cx)
{
	struct json_object *u = cu_json_object(cx->cx_arena);

	if (cx->cx_user == NULL) {
		cu_json_set_string(u, "username", "AnonymousUser");
		cu_json_set_bool(u, "is_anonymous", 1);
		return u;
	}
	cu_json_set_int(u, "pk", cx->cx_user->us_id);
	cu_json_set_string(u, "username", cx->cx_user->us_username);
	cu_json_set_string(u, "email", cx->cx_user->us_email);
	return u;
}

enum cu_err
cu_events_write(struct cu_ctx *cx, const char *action, const char *app, struct json_object *context)
{
	char uuid[37];

	return cu_events_write_uuid(cx, action, app, context, uuid);
}

enum cu_err
cu_events_write_uuid(struct cu_ctx *cx, const char *action, const char *app,
                     struct json_object *context, char event_uuid[37])
{
	struct json_object *ctxobj, *req;
	const char *params[5];
	const char *ua = cu_http_header(cx->cx_req, "user-agent");
	PGresult *res = NULL;
	enum cu_err err;

	ctxobj = context != NULL ? context : cu_json_object(cx->cx_arena);
	req = json_object_new_object();
	cu_json_set_string(req, "path", cx->cx_req->rq_raw_path);
	cu_json_set_string(req, "method", cx->cx_req->rq_method_name);
	cu_json_set_string(req, "request_id", cx->cx_req->rq_id);
	cu_json_set_string(req, "user_agent", ua != NULL ? ua : "");
	cu_json_set(ctxobj, "http_request", req);
	params[0] = action;
	params[1] = app;
	params[2] = cu_json_text(ctxobj, NULL);
	params[3] = cu_events_client_ip(cx);
	params[4] = cu_json_text(user_snapshot(cx), NULL);
	event_uuid[0] = '\0';
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_EVENTS_INSERT, 5, params);
	if (err == CU_OK && PQntuples(res) == 1)
		snprintf(event_uuid, 37, "%s", cu_db_value(res, 0, 0));
	return err;
}

enum cu_err
cu_events_model(struct cu_ctx *cx, const char *action, const char *app_label,
                const char *model_name, const char *pk, const char *name, struct json_object *diff)
{
	struct json_object *ctxobj = cu_json_object(cx->cx_arena);
	struct json_object *model = json_object_new_object();

	cu_json_set_string(model, "app", app_label);
	cu_json_set_string(model, "model_name", model_name);
	cu_json_set_string(model, "pk", pk);
	cu_json_set_string(model, "name", name);
	cu_json_set(ctxobj, "model", model);
	if (diff != NULL)
		cu_json_set(ctxobj, "diff", json_object_get(diff));
	return cu_events_write(cx, action, EVENTS_MODEL_APP, ctxobj);
}
