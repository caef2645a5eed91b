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
#define VOLUME_MAX_SEARCH 256
#define VOLUME_MAX_PARAMS 16

/* Events per action per UTC day since the start of the day history_days - 1 days ago; the range
 * on e.created is a constant of the statement, so the (created, event_uuid) index serves it. */
#define VOLUME_SELECT                                                                              \
	"SELECT coalesce(json_agg(json_build_object('action', v.action, 'time', to_char(v.day, "   \
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'count', v.n) ORDER BY v.day, v.action), '[]')::text " \
	"FROM (SELECT date_trunc('day', e.created AT TIME ZONE 'UTC') AS day, e.action, count(*) " \
	"AS n FROM events e WHERE e.created >= (date_trunc('day', now() AT TIME ZONE 'UTC') - "    \
	"($1::int - 1) * interval '1 day') AT TIME ZONE 'UTC'"
#define VOLUME_GROUP " GROUP BY 1, 2) v"
/* What the list shows a user without the model permission: the events it holds view_event on.
 * The model permission is looked up once (an InitPlan), not per row. */
#define VOLUME_VISIBLE                                                                             \
	"((SELECT user_has_perm($%d::bigint, '" VIEW_PERM "', '')) OR e.event_uuid::text IN "      \
	"(SELECT user_perm_objects($%d::bigint, '" VIEW_PERM "')))"

struct volume_query {
	struct cu_buf vq_sql;
	const char *vq_params[VOLUME_MAX_PARAMS];
	int vq_n;
};

/* Appends " AND " + cond with every "%d" in it replaced by the next placeholder, bound to value.
 * cond is a constant of this file, so this is no printf on outside text. */
static void
volume_cond(struct volume_query *q, const char *cond, const char *value)
{
	const char *d;

	if (q->vq_n >= VOLUME_MAX_PARAMS)
		cu_die("volume parameters");
	q->vq_params[q->vq_n++] = value;
	if (cu_buf_puts(&q->vq_sql, " AND ") != 0)
		cu_die("volume query");
	while ((d = strstr(cond, "%d")) != NULL) {
		if (cu_buf_append(&q->vq_sql, cond, (size_t)(d - cond)) != 0 ||
		    cu_buf_printf(&q->vq_sql, "%d", q->vq_n) != 0)
			cu_die("volume query");
		cond = d + 2;
	}
	if (cu_buf_puts(&q->vq_sql, cond) != 0)
		cu_die("volume query");
}

/* "%term%" for ILIKE, with the pattern characters of term escaped. */
static const char *
volume_like(struct cu_ctx *cx, const char *term)
{
	size_t n = strlen(term), i, j = 0;
	char *p = cu_arena_alloc(cx->cx_arena, n * 2 + 3);

	p[j++] = '%';
	for (i = 0; i < n; i++) {
		if (term[i] == '%' || term[i] == '_' || term[i] == '\\')
			p[j++] = '\\';
		p[j++] = term[i];
	}
	p[j++] = '%';
	p[j] = '\0';
	return p;
}

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
	const struct cu_http_request *req = cx->cx_req;
	struct volume_query q;
	struct cu_api_errors e;
	PGresult *res = NULL;
	const char *search;
	long long days;
	enum cu_err err;
	size_t i, k;

	if (cu_api_login(cx) != 0)
		return;
	memset(&q, 0, sizeof(q));
	cu_buf_init(&q.vq_sql, 65536);
	cu_api_errors_init(&e, cx);
	if (volume_days(cu_http_arg(req, "history_days"), &days) != 0)
		cu_api_error(&e, "history_days", "A valid integer is required.");
	search = cu_http_arg(req, "search");
	if (search != NULL && strlen(search) > VOLUME_MAX_SEARCH)
		cu_api_error(&e, "search", "Ensure this value has at most 256 characters.");
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		goto out;
	}
	if (cu_buf_puts(&q.vq_sql, VOLUME_SELECT) != 0)
		cu_die("volume query");
	q.vq_params[q.vq_n++] = cu_arena_printf(cx->cx_arena, "%lld", days);
	if (!cx->cx_user->us_is_superuser)
		volume_cond(&q, VOLUME_VISIBLE, cx->cx_user->us_id_text);
	for (i = 0; i < sizeof(events_filters) / sizeof(events_filters[0]); i++) {
		const struct cu_api_filter *f = &events_filters[i];
		const char *v = cu_http_arg(req, f->af_param);

		if (v == NULL)
			continue;
		if (f->af_type == CU_API_F_TEXT_ANY) {
			const char **vals =
			    cu_arena_alloc(cx->cx_arena, req->rq_nargs * sizeof(*vals));
			size_t nv = 0;

			for (k = 0; k < req->rq_nargs; k++)
				if (strcmp(req->rq_args[k].kv_key, f->af_param) == 0)
					vals[nv++] = req->rq_args[k].kv_val;
			v = cu_api_pg_array(cx, vals, nv);
		}
		volume_cond(&q, f->af_sql, v);
	}
	if (search != NULL && search[0] != '\0')
		volume_cond(&q, events_list.al_search, volume_like(cx, search));
	if (cu_buf_puts(&q.vq_sql, VOLUME_GROUP) != 0)
		cu_die("volume query");
	err = cu_db_query(cx->cx_db, cx->cx_arena, &res, q.vq_sql.bf_ptr, q.vq_n, q.vq_params);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		goto out;
	}
	cu_api_send_row(cx, 200, res);
out:
	cu_buf_free(&q.vq_sql);
}
