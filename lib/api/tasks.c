/*
 * /api/v3/tasks/ as authentik's TaskViewSet, ScheduleViewSet and WorkerView
 * (authentik/tasks/api/, authentik/tasks/schedules/api.py): the rows of lib/tasks.h's outbox,
 * the schedules the worker runs, and the workers that reported in the last minute. The API only
 * reads and writes rows; after a commit that queues work it wakes a worker (cu_tasks_wake).
 */
#include "api/tasks.h"

#include <ctype.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "api/common.h"
#include "auth.h"
#include "db.h"
#include "../events.h" /* lib/api/events.h is the API module */
#include "http.h"
#include "json.h"
#include "server.h"
#include "../tasks.h" /* lib/api/tasks.h is the API module */
#include "version.h"

#define VIEW_TASK "authentik_tasks.view_task"
#define RETRY_TASK "authentik_tasks.retry_task"
#define VIEW_SCHEDULE "authentik_tasks_schedules.view_schedule"
#define CHANGE_SCHEDULE "authentik_tasks_schedules.change_schedule"
#define SEND_SCHEDULE "authentik_tasks_schedules.send_schedule"
#define VIEW_WORKERS "authentik_tasks.view_workerstatus"

/* authentik's TaskStatus and the states of TaskFilter's state= (TaskState). */
static const char *const task_statuses[] = {"queued",      "consumed", "preprocess", "running",
                                            "postprocess", "rejected", "done",       "info",
                                            "warning",     "error",    NULL};
static const char *const task_states[] = {"queued",      "consumed", "preprocess", "running",
                                          "postprocess", "rejected", "done",       NULL};

/* DRF's default ordering fields: every serializer field backed by a column. */
static const struct cu_api_sort task_sorts[] = {
    {"message_id", "t.message_id"},
    {"queue_name", "t.queue_name"},
    {"actor_name", "t.actor_name"},
    {"state", "t.state"},
    {"mtime", "t.mtime"},
    {"retries", "t.retries"},
    {"eta", "t.eta"},
    {"rel_obj_app_label", "t.rel_obj_app_label"},
    {"rel_obj_model", "t.rel_obj_model"},
    {"rel_obj_id", "t.rel_obj_id"},
    {"aggregated_status", CU_SQL_TASK_AGG},
};

/* authentik's TaskFilter. */
static const struct cu_api_filter task_filters[] = {
    {"actor_name", CU_API_F_TEXT, "t.actor_name = $%d"},
    {"queue_name", CU_API_F_TEXT, "t.queue_name = $%d"},
    {"state", CU_API_F_TEXT, "t.state = $%d"},
    {"aggregated_status", CU_API_F_TEXT_ANY, CU_SQL_TASK_AGG " = ANY ($%d::text[])"},
    {"rel_obj_content_type__app_label", CU_API_F_TEXT, "t.rel_obj_app_label = $%d"},
    {"rel_obj_content_type__model", CU_API_F_TEXT, "t.rel_obj_model = $%d"},
    {"rel_obj_id", CU_API_F_TEXT, "t.rel_obj_id = $%d"},
    {"rel_obj_id__isnull", CU_API_F_BOOL, "(t.rel_obj_id IS NULL) = $%d::boolean"},
};

/* authentik's search_fields, and the description custos stores on the row. */
static const struct cu_api_list task_list = {
    .al_row = CU_SQL_TASK,
    .al_from = "FROM tasks t",
    .al_pk = "t.message_id::text",
    .al_view_perm = VIEW_TASK,
    .al_search = "EXISTS (SELECT 1 FROM unnest(ARRAY[t.message_id::text, t.queue_name, "
                 "t.actor_name, t.state, t.rel_obj_app_label, t.rel_obj_model, t.rel_obj_id, "
                 "t.uid, " CU_SQL_TASK_AGG ", t.description]) AS f WHERE f ILIKE $%d)",
    .al_sorts = task_sorts,
    .al_nsorts = sizeof(task_sorts) / sizeof(task_sorts[0]),
    .al_default_sort = "-mtime",
    .al_tiebreak = "t.message_id",
    .al_filters = task_filters,
    .al_nfilters = sizeof(task_filters) / sizeof(task_filters[0]),
};

static const struct cu_api_sort schedule_sorts[] = {
    {"id", "s.id"},           {"identifier", "s.identifier"}, {"actor_name", "s.actor_name"},
    {"crontab", "s.crontab"}, {"paused", "s.paused"},         {"next_run", "s.next_run"},
};

/* authentik's ScheduleFilter. custos's schedules belong to no object, so the related-object
 * filters match nothing (rel_obj_id__isnull=true matches all). */
static const struct cu_api_filter schedule_filters[] = {
    {"actor_name", CU_API_F_TEXT, "s.actor_name = $%d"},
    {"paused", CU_API_F_BOOL, "s.paused = $%d::boolean"},
    {"rel_obj_content_type__app_label", CU_API_F_TEXT, "$%d::text IS NULL"},
    {"rel_obj_content_type__model", CU_API_F_TEXT, "$%d::text IS NULL"},
    {"rel_obj_id", CU_API_F_TEXT, "$%d::text IS NULL"},
    {"rel_obj_id__isnull", CU_API_F_BOOL, "$%d::boolean"},
};

static const struct cu_api_list schedule_list = {
    .al_row = CU_SQL_SCHEDULE,
    .al_from = "FROM task_schedules s",
    .al_pk = "s.id::text",
    .al_view_perm = VIEW_SCHEDULE,
    .al_search = "EXISTS (SELECT 1 FROM unnest(ARRAY[s.id::text, s.identifier, s.uid, "
                 "s.actor_name, s.description]) AS f WHERE f ILIKE $%d)",
    .al_sorts = schedule_sorts,
    .al_nsorts = sizeof(schedule_sorts) / sizeof(schedule_sorts[0]),
    .al_default_sort = "next_run,actor_name,identifier",
    .al_tiebreak = "s.id",
    .al_filters = schedule_filters,
    .al_nfilters = sizeof(schedule_filters) / sizeof(schedule_filters[0]),
};

/* The path's UUID in lower case (how the database prints it, and how object permissions are
 * recorded), or NULL having answered 404. */
static const char *
path_uuid(struct cu_ctx *cx, const char *name)
{
	const char *id = cu_ctx_param(cx, name);
	char *pk;
	size_t i;

	if (id == NULL || !cu_api_is_uuid(id)) {
		cu_ctx_error(cx, 404, "Not found.");
		return NULL;
	}
	pk = cu_arena_strdup(cx->cx_arena, id);
	for (i = 0; pk[i] != '\0'; i++)
		pk[i] = (char)tolower((unsigned char)pk[i]);
	return pk;
}

/* DRF's ChoiceFilter check on every occurrence of param: 0, or -1 with an error recorded. */
static int
check_choices(struct cu_ctx *cx, struct cu_api_errors *e, const char *param,
              const char *const *choices)
{
	const struct cu_http_request *req = cx->cx_req;
	size_t i, k;

	for (i = 0; i < req->rq_nargs; i++) {
		const char *v = req->rq_args[i].kv_val;
		int found = 0;

		if (strcmp(req->rq_args[i].kv_key, param) != 0)
			continue;
		for (k = 0; choices[k] != NULL && !found; k++)
			found = strcmp(v, choices[k]) == 0;
		if (!found) {
			cu_api_error(
			    e, param,
			    cu_arena_printf(cx->cx_arena,
			                    "Select a valid choice. %.200s is not one of the "
			                    "available choices.",
			                    v));
			return -1;
		}
	}
	return 0;
}

/* Wakes a worker for message_id once its row committed; the worker polls anyway. */
static void
wake(struct cu_ctx *cx, const char *message_id)
{
	if (cx->cx_cache != NULL)
		cu_tasks_wake(cx->cx_cache, cx->cx_arena, message_id);
}

void
cu_api_tasks_list(struct cu_ctx *cx)
{
	struct cu_api_errors e;

	if (cu_api_login(cx) != 0)
		return;
	cu_api_errors_init(&e, cx);
	(void)check_choices(cx, &e, "aggregated_status", task_statuses);
	(void)check_choices(cx, &e, "state", task_states);
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	cu_api_list_send(cx, &task_list, NULL, 0);
}

void
cu_api_tasks_get(struct cu_ctx *cx)
{
	const char *pk;
	PGresult *res = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || (pk = path_uuid(cx, "message_id")) == NULL ||
	    cu_api_require(cx, VIEW_TASK, pk) != 0)
		return;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_TASKS_GET, 1, &pk);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_send_row(cx, 200, res);
}

/* authentik counts over every task and asks for the model permission. */
void
cu_api_tasks_status(struct cu_ctx *cx)
{
	PGresult *res = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, VIEW_TASK, NULL) != 0)
		return;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_TASKS_STATUS, 0, NULL);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_send_row(cx, 200, res);
}

/*
 * Queues a task that ended in error again, due now. authentik re-sends the message of any
 * finished task; custos retries only a failed one (rejected, or done with status error), since
 * re-running a task that succeeded could repeat its effect (a mail). A task in another state is
 * 400 with no body, as authentik answers.
 */
void
cu_api_tasks_retry(struct cu_ctx *cx)
{
	const char *pk, *state, *status, *before, *actor;
	PGresult *res = NULL, *upd = NULL;
	struct json_object *diff;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || (pk = path_uuid(cx, "message_id")) == NULL ||
	    cu_api_require(cx, RETRY_TASK, pk) != 0)
		return;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_TASKS_LOCK, 1, &pk);
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return;
	}
	if (PQntuples(res) < 1) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	state = cu_db_value(res, 0, 0);
	status = cu_db_value(res, 0, 1);
	before = cu_db_value(res, 0, 2);
	actor = cu_db_value(res, 0, 3);
	if (!(strcmp(state, "rejected") == 0 ||
	      (strcmp(state, "done") == 0 && strcmp(status, "error") == 0))) {
		cu_db_rollback(cx->cx_db);
		cu_http_send_text(cx->cx_resp, 400, NULL, "", 0);
		return;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &upd, CU_DB_STMT_TASKS_RETRY, 1, &pk);
	if (err != CU_OK || PQntuples(upd) < 1) {
		cu_api_db_fail(cx, err != CU_OK ? err : CU_ERR_INTERNAL);
		return;
	}
	diff = cu_api_text_diff(cx, before, cu_db_value(upd, 0, 0));
	err = cu_events_model(cx, "model_updated", "authentik_tasks", "task", pk, actor, diff);
	if (cu_api_commit(cx, err) != 0)
		return;
	wake(cx, pk);
	cu_api_no_content(cx);
}

void
cu_api_tasks_schedules_list(struct cu_ctx *cx)
{
	if (cu_api_login(cx) != 0)
		return;
	cu_api_list_send(cx, &schedule_list, NULL, 0);
}

void
cu_api_tasks_schedules_get(struct cu_ctx *cx)
{
	const char *pk;
	PGresult *res = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || (pk = path_uuid(cx, "id")) == NULL ||
	    cu_api_require(cx, VIEW_SCHEDULE, pk) != 0)
		return;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_SCHEDULES_GET, 1, &pk);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_send_row(cx, 200, res);
}

/*
 * ScheduleSerializer's writable fields are rel_obj_id, crontab and paused. custos's schedules
 * are declared by the code that runs them (the worker keeps them in step), so crontab and
 * rel_obj_id are checked as authentik checks their shape and then left as they are: pausing is
 * what an administrator changes here.
 */
void
cu_api_tasks_schedules_update(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *diff = NULL;
	struct cu_api_errors e;
	const char *pk, *crontab = NULL, *rel = NULL, *params[2], *identifier;
	PGresult *res = NULL;
	int paused = 0, has_paused, was_paused;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || (pk = path_uuid(cx, "id")) == NULL ||
	    cu_api_require(cx, CHANGE_SCHEDULE, pk) != 0 || cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	if (cu_api_field_string(&e, body, "crontab", 0, 0, 0, &crontab) == 0 &&
	    cx->cx_req->rq_method == CU_HTTP_PUT)
		cu_api_error(&e, "crontab", "This field is required.");
	(void)cu_api_field_string(&e, body, "rel_obj_id", 0, 0, 1, &rel);
	has_paused = cu_api_field_bool(&e, body, "paused", &paused) > 0;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_SCHEDULES_LOCK, 1, &pk);
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return;
	}
	if (PQntuples(res) < 1) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	was_paused = strcmp(cu_db_value(res, 0, 0), "t") == 0;
	identifier = cu_db_value(res, 0, 1);
	diff = cu_json_object(cx->cx_arena);
	if (has_paused && paused != was_paused) {
		struct json_object *change = json_object_new_object();

		params[0] = pk;
		params[1] = paused ? "true" : "false";
		err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_SCHEDULES_SET_PAUSED, 2,
		                 params);
		if (err != CU_OK) {
			cu_api_db_fail(cx, err);
			return;
		}
		json_object_object_add(change, "previous", json_object_new_boolean(was_paused));
		json_object_object_add(change, "new", json_object_new_boolean(paused));
		json_object_object_add(diff, "paused", change);
	}
	err = cu_events_model(cx, "model_updated", "authentik_tasks_schedules", "schedule", pk,
	                      identifier, diff);
	if (err == CU_OK)
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_SCHEDULES_GET, 1, &pk);
	if (cu_api_commit(cx, err) != 0)
		return;
	cu_api_send_row(cx, 200, res);
}

/* Runs the schedule now: a task for its actor and arguments, tied to it (last_task_status). */
void
cu_api_tasks_schedules_send(struct cu_ctx *cx)
{
	const char *pk, *message_id;
	PGresult *res = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || (pk = path_uuid(cx, "id")) == NULL ||
	    cu_api_require(cx, SEND_SCHEDULE, pk) != 0)
		return;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_SCHEDULES_SEND, 1, &pk);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (PQntuples(res) < 1) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	message_id = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
	wake(cx, message_id);
	cu_api_no_content(cx);
}

/* The workers that reported in the last minute (the worker's heartbeat is more frequent). */
void
cu_api_tasks_workers(struct cu_ctx *cx)
{
	const char *version = CU_VERSION;
	PGresult *res = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, VIEW_WORKERS, NULL) != 0)
		return;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_WORKERS_LIST, 1, &version);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_send_row(cx, 200, res);
}
