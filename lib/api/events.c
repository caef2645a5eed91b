#include "api/events.h"

#include <ctype.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "api/common.h"
#include "db.h"
#include "json.h"
#include "server.h"

#define VIEW_PERM "authentik_events.view_event"

static const struct cu_api_sort events_sorts[] = {
    {"created", "e.created"},     {"action", "e.action"},   {"app", "e.app"},
    {"client_ip", "e.client_ip"}, {"expires", "e.expires"}, {"pk", "e.event_uuid"},
    {"user", "e.\"user\""},       {"brand", "e.brand"},     {"context", "e.context"},
};

/* authentik's EventsFilter. Model and application pks are compared without dashes: authentik
 * records a UUID pk as its hex, custos with dashes. */
static const struct cu_api_filter events_filters[] = {
    {"action", CU_API_F_TEXT, "strpos(lower(e.action), lower($%d)) > 0"},
    {"actions", CU_API_F_TEXT_ANY, "e.action = ANY ($%d::text[])"},
    {"username", CU_API_F_TEXT,
     "$%d::text IN (e.\"user\" ->> 'username', e.context ->> 'username')"},
    {"client_ip", CU_API_F_TEXT, "host(e.client_ip) = $%d"},
    {"context_model_pk", CU_API_F_TEXT,
     "replace(e.context -> 'model' ->> 'pk', '-', '') = replace($%d, '-', '')"},
    {"context_model_name", CU_API_F_TEXT, "e.context -> 'model' ->> 'model_name' = $%d"},
    {"context_model_app", CU_API_F_TEXT, "e.context -> 'model' ->> 'app' = $%d"},
    {"context_authorized_app", CU_API_F_TEXT,
     "replace(e.context -> 'authorized_application' ->> 'pk', '-', '') = replace($%d, '-', '')"},
    {"context_device", CU_API_F_TEXT,
     "replace(e.context -> 'device' ->> 'pk', '-', '') = replace($%d, '-', '')"},
    {"brand_name", CU_API_F_TEXT, "e.brand ->> 'name' = $%d"},
};

/* authentik's search_fields: event_uuid, user, action, app, context, client_ip. */
static const struct cu_api_list events_list = {
    .al_row = EVENTS_ROW_,
    .al_from = "FROM events e",
    .al_pk = "e.event_uuid::text",
    .al_view_perm = VIEW_PERM,
    .al_search = "concat_ws(' ', e.event_uuid::text, e.action, e.app, host(e.client_ip), "
                 "e.\"user\"::text, e.context::text) ILIKE $%d",
    .al_sorts = events_sorts,
    .al_nsorts = sizeof(events_sorts) / sizeof(events_sorts[0]),
    .al_default_sort = "-created",
    .al_tiebreak = "e.event_uuid",
    .al_filters = events_filters,
    .al_nfilters = sizeof(events_filters) / sizeof(events_filters[0]),
};

void
cu_api_events_list(struct cu_ctx *cx)
{
	if (cu_api_login(cx) != 0)
		return;
	cu_api_list_send(cx, &events_list, NULL, 0);
}

void
cu_api_events_get(struct cu_ctx *cx)
{
	const char *id = cu_ctx_param(cx, "event_uuid");
	PGresult *res = NULL;
	enum cu_err err;
	char *pk;
	size_t i;

	if (cu_api_login(cx) != 0)
		return;
	if (id == NULL || !cu_api_is_uuid(id)) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	pk = cu_arena_strdup(cx->cx_arena, id);
	for (i = 0; pk[i] != '\0'; i++)
		pk[i] = (char)tolower((unsigned char)pk[i]);
	if (cu_api_require(cx, VIEW_PERM, pk) != 0)
		return;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_EVENTS_GET, 1,
	                 (const char *const *)&pk);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_send_row(cx, 200, res);
}

/* EventAction's values and the labels Django derives from their names. */
static const char *const event_actions[][2] = {
    {"login", "Login"},
    {"login_failed", "Login Failed"},
    {"logout", "Logout"},
    {"user_write", "User Write"},
    {"suspicious_request", "Suspicious Request"},
    {"password_set", "Password Set"},
    {"secret_view", "Secret View"},
    {"secret_rotate", "Secret Rotate"},
    {"invitation_used", "Invite Used"},
    {"authorize_application", "Authorize Application"},
    {"source_linked", "Source Linked"},
    {"impersonation_started", "Impersonation Started"},
    {"impersonation_ended", "Impersonation Ended"},
    {"flow_execution", "Flow Execution"},
    {"policy_execution", "Policy Execution"},
    {"policy_exception", "Policy Exception"},
    {"property_mapping_exception", "Property Mapping Exception"},
    {"system_task_execution", "System Task Execution"},
    {"system_task_exception", "System Task Exception"},
    {"system_exception", "System Exception"},
    {"configuration_error", "Configuration Error"},
    {"configuration_warning", "Configuration Warning"},
    {"model_created", "Model Created"},
    {"model_updated", "Model Updated"},
    {"model_deleted", "Model Deleted"},
    {"email_sent", "Email Sent"},
    {"update_available", "Update Available"},
    {"export_ready", "Export Ready"},
    {"review_initiated", "Review Initiated"},
    {"review_overdue", "Review Overdue"},
    {"review_attested", "Review Attested"},
    {"review_completed", "Review Completed"},
    {"custom_", "Custom Prefix"},
};

/* Any authenticated user: authentik's action has no object to check and no filter. */
void
cu_api_events_actions(struct cu_ctx *cx)
{
	struct json_object *list;
	size_t i;

	if (cu_api_login(cx) != 0)
		return;
	list = cu_json_array(cx->cx_arena);
	for (i = 0; i < sizeof(event_actions) / sizeof(event_actions[0]); i++) {
		struct json_object *t = json_object_new_object();

		cu_json_set_string(t, "name", event_actions[i][1]);
		cu_json_set_string(t, "description", "");
		cu_json_set_string(t, "component", event_actions[i][0]);
		cu_json_set_string(t, "model_name", "");
		cu_json_set_bool(t, "requires_enterprise", 0);
		cu_json_set_bool(t, "deprecated", 0);
		json_object_array_add(list, t);
	}
	cu_ctx_json(cx, 200, list);
}
