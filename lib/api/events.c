#include "api/events.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "api/common.h"
#include "auth.h"
#include "buf.h"
#include "db.h"
#include "json.h"
#include "mem.h"
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

/* ---- volume ------------------------------------------------------------------------------- */

#define VOLUME_DEFAULT_DAYS 7
#define VOLUME_MAX_DAYS 366

/* Events per action per UTC day since the start of the day history_days - 1 days ago (its
 * placeholder comes after the list's conditions); the range on e.created is a constant of the
 * statement, so the (created, event_uuid) index serves it. The list's conditions follow. */
#define VOLUME_SELECT                                                                              \
	"SELECT coalesce(json_agg(json_build_object('action', v.action, 'time', to_char(v.day, "   \
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'count', v.n) ORDER BY v.day, v.action), '[]')::text " \
	"FROM (SELECT date_trunc('day', e.created AT TIME ZONE 'UTC') AS day, e.action, count(*) " \
	"AS n FROM events e WHERE e.created >= (date_trunc('day', now() AT TIME ZONE 'UTC') - "    \
	"($%d::int - 1) * interval '1 day') AT TIME ZONE 'UTC'%s GROUP BY 1, 2) v"

/* history_days: DRF's IntegerField, then held to 1..VOLUME_MAX_DAYS (authentik caps it too).
 * 0 with *days, or -1 when not an integer. */
static int
volume_days(const char *arg, long long *days)
{
	char *end;
	long long v;

	*days = VOLUME_DEFAULT_DAYS;
	if (arg == NULL)
		return 0;
	while (*arg == ' ')
		arg++;
	if (*arg == '\0' || strlen(arg) > 32)
		return -1;
	errno = 0;
	v = strtoll(arg, &end, 10);
	while (*end == ' ')
		end++;
	if (*end != '\0' || errno != 0)
		return -1;
	*days = v < 1 ? 1 : (v > VOLUME_MAX_DAYS ? VOLUME_MAX_DAYS : v);
	return 0;
}

/*
 * authentik's events_events_volume_list: [{action, time, count}] for the events the caller may
 * see in the list, with the list's filters and search. One row per action per day (authentik
 * buckets by six hours; a day is what the dashboards draw).
 */
void
cu_api_events_volume(struct cu_ctx *cx)
{
	const char *where = NULL, **params = NULL, **all;
	struct cu_api_errors e;
	PGresult *res = NULL;
	long long days;
	enum cu_err err;
	int n = 0;

	if (cu_api_login(cx) != 0)
		return;
	if (volume_days(cu_http_arg(cx->cx_req, "history_days"), &days) != 0) {
		cu_api_errors_init(&e, cx);
		cu_api_error(&e, "history_days", "A valid integer is required.");
		cu_api_errors_send(cx, &e);
		return;
	}
	/* Exactly the rows the list would show this caller, with its filters and search. */
	if (cu_api_list_where(cx, &events_list, NULL, 0, &where, &params, &n) != 0)
		return;
	all = cu_arena_alloc(cx->cx_arena, (size_t)(n + 1) * sizeof(*all));
	memcpy(all, params, (size_t)n * sizeof(*all));
	all[n] = cu_arena_printf(cx->cx_arena, "%lld", days);
	err = cu_db_query(cx->cx_db, cx->cx_arena, &res,
	                  cu_arena_printf(cx->cx_arena, VOLUME_SELECT, n + 1, where), n + 1, all);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_send_row(cx, 200, res);
}
