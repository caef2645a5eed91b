/*
 * /api/v3/flows/instances/ as authentik's FlowViewSet (authentik/flows/api/flows.py): flows by
 * slug; and /api/v3/flows/bindings/ as its FlowStageBindingViewSet (flows/api/bindings.py).
 *
 * Every write bumps the flow's serial through the triggers of sql/0050_flows.sql, so that the
 * executor never mistakes a plan made before the change for a current one.
 */
#include "api/flows.h"

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

static const char *const designations[] = {
    "authentication", "authorization", "invalidation",        "enrollment",
    "unenrollment",   "recovery",      "stage_configuration", NULL};
static const char *const authentications[] = {"none",
                                              "require_authenticated",
                                              "require_unauthenticated",
                                              "require_superuser",
                                              "require_redirect",
                                              "require_outpost",
                                              NULL};
static const char *const denied_actions[] = {"message_continue", "message", "continue", NULL};
static const char *const layouts[] = {"stacked",
                                      "content_left",
                                      "content_right",
                                      "sidebar_left",
                                      "sidebar_right",
                                      "sidebar_left_frame_background",
                                      "sidebar_right_frame_background",
                                      NULL};
static const char *const engine_modes[] = {"all", "any", NULL};
static const char *const invalid_actions[] = {"retry", "restart", "restart_with_context", NULL};

static const struct cu_api_sort flow_sorts[] = {
    {"slug", "f.slug"},
    {"name", "f.name"},
    {"title", "f.title"},
    {"designation", "f.designation"},
    {"background", "f.background"},
    {"policy_engine_mode", "f.policy_engine_mode"},
    {"compatibility_mode", "f.compatibility_mode"},
    {"layout", "f.layout"},
    {"denied_action", "f.denied_action"},
    {"authentication", "f.authentication"},
    {"pk", "f.flow_uuid"},
    {"flow_uuid", "f.flow_uuid"},
};

static const struct cu_api_filter flow_filters[] = {
    {"flow_uuid", CU_API_F_UUID, "f.flow_uuid = $%d::uuid"},
    {"name", CU_API_F_TEXT, "f.name = $%d"},
    {"slug", CU_API_F_TEXT, "f.slug = $%d"},
    {"designation", CU_API_F_TEXT, "f.designation = $%d"},
    {"denied_action", CU_API_F_TEXT, "f.denied_action = $%d"},
};

static const struct cu_api_list flow_list = {
    .al_row = CU_SQL_FLOW,
    .al_from = "FROM flows f",
    .al_pk = "f.flow_uuid::text",
    .al_view_perm = "authentik_flows.view_flow",
    .al_search = "EXISTS (SELECT 1 FROM unnest(ARRAY[f.name, f.slug, f.designation, f.title, "
                 "f.denied_action]) AS x WHERE x ILIKE $%d)",
    .al_sorts = flow_sorts,
    .al_nsorts = sizeof(flow_sorts) / sizeof(flow_sorts[0]),
    .al_default_sort = "slug",
    .al_tiebreak = "f.name, f.flow_uuid",
    .al_filters = flow_filters,
    .al_nfilters = sizeof(flow_filters) / sizeof(flow_filters[0]),
};

static const struct cu_api_sort binding_sorts[] = {
    {"order", "fsb.\"order\""},
    {"stage__name", "(SELECT st.name FROM stages st WHERE st.stage_uuid = fsb.stage)"},
    {"target__uuid", "fsb.target"},
    {"pk", "fsb.fsb_uuid"},
};

static const struct cu_api_filter binding_filters[] = {
    {"fsb_uuid", CU_API_F_UUID, "fsb.fsb_uuid = $%d::uuid"},
    {"pbm_uuid", CU_API_F_UUID, "fsb.fsb_uuid = $%d::uuid"},
    {"target", CU_API_F_UUID, "fsb.target = $%d::uuid"},
    {"stage", CU_API_F_UUID, "fsb.stage = $%d::uuid"},
    {"order", CU_API_F_INT, "fsb.\"order\" = $%d::bigint"},
    {"evaluate_on_plan", CU_API_F_BOOL, "fsb.evaluate_on_plan = $%d::boolean"},
    {"re_evaluate_policies", CU_API_F_BOOL, "fsb.re_evaluate_policies = $%d::boolean"},
    {"policy_engine_mode", CU_API_F_TEXT, "fsb.policy_engine_mode = $%d"},
    {"invalid_response_action", CU_API_F_TEXT, "fsb.invalid_response_action = $%d"},
    /* Repeated: bindings that have any of these policies bound to them. */
    {"policies", CU_API_F_TEXT_ANY,
     "EXISTS (SELECT 1 FROM policy_bindings pb WHERE pb.target = fsb.fsb_uuid AND "
     "pb.policy::text = ANY (SELECT lower(w) FROM unnest($%d::text[]) AS w))"},
};

static const struct cu_api_list binding_list = {
    .al_row = CU_SQL_FLOW_BINDING,
    .al_from = "FROM flow_stage_bindings fsb",
    .al_pk = "fsb.fsb_uuid::text",
    .al_view_perm = "authentik_flows.view_flowstagebinding",
    .al_search = "EXISTS (SELECT 1 FROM stages st WHERE st.stage_uuid = fsb.stage AND st.name "
                 "ILIKE $%d)",
    .al_sorts = binding_sorts,
    .al_nsorts = sizeof(binding_sorts) / sizeof(binding_sorts[0]),
    .al_default_sort = "order",
    .al_tiebreak = "fsb.fsb_uuid",
    .al_filters = binding_filters,
    .al_nfilters = sizeof(binding_filters) / sizeof(binding_filters[0]),
};

/* One flow or binding row as the SELECT macros of lib/stmts/flows_api.h give it. */
struct row {
	PGresult *rw_res;
	const char *rw_uuid;
	const char *rw_snapshot;
	const char *rw_c3; /* flow: name; binding: order */
	const char *rw_c4; /* flow: slug; binding: target */
};

/* 0 with *r loaded, or -1 having answered (404, 503). */
static int
row_load(struct cu_ctx *cx, enum cu_db_stmt st, const char *key, int is_uuid, struct row *r)
{
	PGresult *res = NULL;
	enum cu_err err;

	memset(r, 0, sizeof(*r));
	if (key == NULL || (is_uuid && !cu_api_is_uuid(key))) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, 1, &key);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
	if (PQntuples(res) < 1) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	r->rw_res = res;
	r->rw_uuid = cu_db_value(res, 0, 1);
	r->rw_snapshot = cu_db_value(res, 0, 2);
	r->rw_c3 = cu_db_value(res, 0, 3);
	r->rw_c4 = cu_db_value(res, 0, 4);
	return 0;
}

/* Flow.__str__ and FlowStageBinding.__str__, the names events carry. */
static const char *
flow_name(struct cu_ctx *cx, const struct row *r)
{
	return cu_arena_printf(cx->cx_arena, "Flow %s (%s)", r->rw_c3, r->rw_c4);
}

static const char *
binding_name(struct cu_ctx *cx, const struct row *r)
{
	return cu_arena_printf(cx->cx_arena, "Flow-stage binding #%s to %s", r->rw_c3, r->rw_c4);
}

static const char *
eff_text(struct json_object *eff, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(eff, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

static const char *
eff_bool(struct json_object *eff, const char *key)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(eff, key, &v) && json_object_get_boolean(v) ? "true"
	                                                                             : "false";
}

/* Parses a snapshot PostgreSQL built twice: once to keep, once to overlay the body on. */
static int
snapshot_pair(struct cu_ctx *cx, const char *text, struct json_object **before,
              struct json_object **eff)
{
	if (cu_json_parse(cx->cx_arena, text, strlen(text), before) != CU_OK ||
	    cu_json_parse(cx->cx_arena, text, strlen(text), eff) != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, CU_ERR_INTERNAL, "The object");
		return -1;
	}
	return 0;
}

static void
require_fields(struct cu_api_errors *e, struct json_object *body, const char *const *keys)
{
	size_t i;

	for (i = 0; keys[i] != NULL; i++)
		if (!json_object_object_get_ex(body, keys[i], NULL))
			cu_api_error(e, keys[i], "This field is required.");
}

/*
 * Reads the written row back with read (by uuid), writes the event with the diff against
 * before (NULL: a creation), commits and answers status with the row.
 */
static void
finish_write(struct cu_ctx *cx, enum cu_db_stmt read, const char *uuid, int status,
             const char *action, const char *model, struct json_object *before)
{
	struct json_object *after = NULL;
	struct row r;
	enum cu_err err;
	const char *name;

	if (row_load(cx, read, uuid, 1, &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	name = strcmp(model, "flow") == 0 ? flow_name(cx, &r) : binding_name(cx, &r);
	err = cu_json_parse(cx->cx_arena, r.rw_snapshot, strlen(r.rw_snapshot), &after);
	if (err == CU_OK)
		err = cu_events_model(cx, action, "authentik_flows", model, uuid, name,
		                      cu_api_json_diff(cx, before, after, NULL));
	if (cu_api_commit(cx, err) != 0)
		return;
	cu_api_send_row(cx, status, r.rw_res);
}

/* Deletes the row (already locked and loaded as r) with del, with its event; answers 204. */
static void
finish_delete(struct cu_ctx *cx, enum cu_db_stmt del, const struct row *r, const char *model,
              const char *name)
{
	struct json_object *before = NULL;
	enum cu_err err;

	err = cu_json_parse(cx->cx_arena, r->rw_snapshot, strlen(r->rw_snapshot), &before);
	if (err == CU_OK)
		err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, del, 1, &r->rw_uuid);
	if (err == CU_OK)
		err = cu_events_model(cx, "model_deleted", "authentik_flows", model, r->rw_uuid,
		                      name, cu_api_json_diff(cx, before, NULL, NULL));
	if (cu_api_commit(cx, err) != 0)
		return;
	cu_api_no_content(cx);
}

/* --- flows ------------------------------------------------------------------------------ */

static int
is_slug(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	return 1;
}

/* Overlays the body's fields on eff (the stored fields or the defaults) and checks them. */
static void
flow_read_body(struct cu_api_errors *e, struct json_object *body, struct json_object *eff)
{
	static const struct {
		const char *key;
		const char *const *choices;
	} choice_fields[] = {
	    {"designation", designations},        {"authentication", authentications},
	    {"denied_action", denied_actions},    {"layout", layouts},
	    {"policy_engine_mode", engine_modes},
	};
	const char *s = NULL;
	size_t i;
	int b;

	if (cu_api_field_string(e, body, "name", 0, 0, 0, &s) > 0)
		cu_json_set_string(eff, "name", s);
	if (cu_api_field_string(e, body, "title", 0, 0, 0, &s) > 0)
		cu_json_set_string(eff, "title", s);
	if (cu_api_field_string(e, body, "slug", 0, 0, 0, &s) > 0) {
		if (is_slug(s))
			cu_json_set_string(eff, "slug", s);
		else
			cu_api_error(
			    e, "slug",
			    "Enter a valid \xe2\x80\x9cslug\xe2\x80\x9d consisting of letters, "
			    "numbers, underscores or hyphens.");
	}
	if (cu_api_field_string(e, body, "background", 0, 1, 0, &s) > 0)
		cu_json_set_string(eff, "background", s);
	if (cu_api_field_bool(e, body, "compatibility_mode", &b) > 0)
		cu_json_set_bool(eff, "compatibility_mode", b);
	for (i = 0; i < sizeof(choice_fields) / sizeof(choice_fields[0]); i++)
		if (cu_api_field_choice(e, body, choice_fields[i].key, choice_fields[i].choices,
		                        &s) > 0)
			cu_json_set_string(eff, choice_fields[i].key, s);
}

/* The statement parameters: $1 uuid, then FLOWS_API_COLUMNS. */
static void
flow_params(struct json_object *eff, const char *uuid, const char **p)
{
	p[0] = uuid;
	p[1] = eff_text(eff, "name");
	p[2] = eff_text(eff, "slug");
	p[3] = eff_text(eff, "title");
	p[4] = eff_text(eff, "designation");
	p[5] = eff_text(eff, "background");
	p[6] = eff_text(eff, "policy_engine_mode");
	p[7] = eff_bool(eff, "compatibility_mode");
	p[8] = eff_text(eff, "layout");
	p[9] = eff_text(eff, "denied_action");
	p[10] = eff_text(eff, "authentication");
}

static const char *const flow_required[] = {"name", "slug", "title", "designation", NULL};

/* Runs the insert or update; answers a taken slug as DRF does. 0 done, -1 answered. */
static int
flow_store(struct cu_ctx *cx, struct cu_api_errors *e, enum cu_db_stmt st, const char **params,
           const char **uuid_out)
{
	PGresult *res = NULL;
	enum cu_err err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, 11, params);

	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(res)) {
		cu_api_reject(cx, e, "slug", "Flow with this slug already exists.");
		return -1;
	}
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return -1;
	}
	if (uuid_out != NULL)
		*uuid_out = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
	return 0;
}

void
cu_api_flows_list(struct cu_ctx *cx)
{
	if (cu_api_login(cx) != 0)
		return;
	cu_api_list_send(cx, &flow_list, NULL, 0);
}

void
cu_api_flows_get(struct cu_ctx *cx)
{
	struct row r;

	if (cu_api_login(cx) != 0 ||
	    row_load(cx, CU_DB_STMT_FLOWS_API_GET, cu_ctx_param(cx, "slug"), 0, &r) != 0 ||
	    cu_api_require(cx, "authentik_flows.view_flow", r.rw_uuid) != 0)
		return;
	cu_api_send_row(cx, 200, r.rw_res);
}

void
cu_api_flows_create(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *eff;
	struct cu_api_errors e;
	const char *params[11], *uuid = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, "authentik_flows.add_flow", NULL) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	/* The model's defaults (sql/0050_flows.sql holds the same). */
	eff = cu_json_object(cx->cx_arena);
	cu_json_set_string(eff, "background", "");
	cu_json_set_string(eff, "policy_engine_mode", "any");
	cu_json_set_bool(eff, "compatibility_mode", 0);
	cu_json_set_string(eff, "layout", "stacked");
	cu_json_set_string(eff, "denied_action", "message_continue");
	cu_json_set_string(eff, "authentication", "none");
	cu_api_errors_init(&e, cx);
	flow_read_body(&e, body, eff);
	require_fields(&e, body, flow_required);
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	flow_params(eff, NULL, params);
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (flow_store(cx, &e, CU_DB_STMT_FLOWS_API_INSERT, params, &uuid) != 0)
		return;
	finish_write(cx, CU_DB_STMT_FLOWS_API_GET_UUID, uuid, 201, "model_created", "flow", NULL);
}

void
cu_api_flows_update(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *before = NULL, *eff = NULL;
	struct cu_api_errors e;
	const char *params[11];
	struct row r;
	enum cu_err err;

	if (cu_api_login(cx) != 0 ||
	    row_load(cx, CU_DB_STMT_FLOWS_API_GET, cu_ctx_param(cx, "slug"), 0, &r) != 0 ||
	    cu_api_require(cx, "authentik_flows.change_flow", r.rw_uuid) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (row_load(cx, CU_DB_STMT_FLOWS_API_LOCK, cu_ctx_param(cx, "slug"), 0, &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	if (snapshot_pair(cx, r.rw_snapshot, &before, &eff) != 0)
		return;
	cu_api_errors_init(&e, cx);
	flow_read_body(&e, body, eff);
	if (cx->cx_req->rq_method == CU_HTTP_PUT)
		require_fields(&e, body, flow_required);
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	flow_params(eff, r.rw_uuid, params);
	if (flow_store(cx, &e, CU_DB_STMT_FLOWS_API_UPDATE, params, NULL) != 0)
		return;
	finish_write(cx, CU_DB_STMT_FLOWS_API_GET_UUID, r.rw_uuid, 200, "model_updated", "flow",
	             before);
}

void
cu_api_flows_delete(struct cu_ctx *cx)
{
	struct row r;
	enum cu_err err;

	if (cu_api_login(cx) != 0 ||
	    row_load(cx, CU_DB_STMT_FLOWS_API_GET, cu_ctx_param(cx, "slug"), 0, &r) != 0 ||
	    cu_api_require(cx, "authentik_flows.delete_flow", r.rw_uuid) != 0)
		return;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (row_load(cx, CU_DB_STMT_FLOWS_API_LOCK, cu_ctx_param(cx, "slug"), 0, &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	finish_delete(cx, CU_DB_STMT_FLOWS_API_DELETE, &r, "flow", flow_name(cx, &r));
}

void
cu_api_flows_execute(struct cu_ctx *cx)
{
	const char *host = cx->cx_req->rq_host;
	struct json_object *o;
	struct row r;

	if (cu_api_login(cx) != 0 ||
	    row_load(cx, CU_DB_STMT_FLOWS_API_GET, cu_ctx_param(cx, "slug"), 0, &r) != 0 ||
	    cu_api_require(cx, "authentik_flows.view_flow", r.rw_uuid) != 0)
		return;
	/* authentik answers with the flow interface's absolute URL for this request's host; the
	 * executor plans the flow when the interface opens it. A Host header is bounded by the
	 * request parser and only echoed back to the same client. */
	o = cu_json_object(cx->cx_arena);
	if (host != NULL && host[0] != '\0' && strpbrk(host, "/\\?#@ \t\r\n") == NULL)
		cu_json_set_string(o, "link",
		                   cu_arena_printf(cx->cx_arena, "%s://%s/if/flow/%s/",
		                                   cx->cx_req->rq_https ? "https" : "http", host,
		                                   r.rw_c4));
	else
		cu_json_set_string(o, "link",
		                   cu_arena_printf(cx->cx_arena, "/if/flow/%s/", r.rw_c4));
	cu_ctx_json(cx, 200, o);
}

/* --- flow stage bindings ----------------------------------------------------------------- */

/* A reference by UUID under key: recorded into eff, or an error in DRF's words. */
static void
binding_ref(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body, const char *key,
            struct json_object *eff)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(body, key, &v))
		return;
	if (v == NULL) {
		cu_api_error(e, key, "This field may not be null.");
		return;
	}
	if (!json_object_is_type(v, json_type_string)) {
		cu_api_error(e, key,
		             cu_arena_printf(cx->cx_arena,
		                             "Incorrect type. Expected pk value, received %s.",
		                             cu_api_py_type(v)));
		return;
	}
	if (!cu_api_is_uuid(json_object_get_string(v))) {
		cu_api_error(e, key, "Must be a valid UUID.");
		return;
	}
	cu_json_set_string(eff, key, json_object_get_string(v));
}

static void
binding_read_body(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
                  struct json_object *eff)
{
	const char *s = NULL;
	int64_t n = 0;
	int b;

	binding_ref(cx, e, body, "target", eff);
	binding_ref(cx, e, body, "stage", eff);
	if (cu_api_field_int(e, body, "order", INT32_MIN, INT32_MAX, &n) > 0)
		cu_json_set(eff, "order", json_object_new_int64(n));
	if (cu_api_field_bool(e, body, "evaluate_on_plan", &b) > 0)
		cu_json_set_bool(eff, "evaluate_on_plan", b);
	if (cu_api_field_bool(e, body, "re_evaluate_policies", &b) > 0)
		cu_json_set_bool(eff, "re_evaluate_policies", b);
	if (cu_api_field_choice(e, body, "policy_engine_mode", engine_modes, &s) > 0)
		cu_json_set_string(eff, "policy_engine_mode", s);
	if (cu_api_field_choice(e, body, "invalid_response_action", invalid_actions, &s) > 0)
		cu_json_set_string(eff, "invalid_response_action", s);
}

/*
 * The checks that need the database: target and stage exist; then FlowStageBindingSerializer
 * .validate. 0 checked (errors recorded), -1 having answered (database down).
 */
static int
binding_validate(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *eff)
{
	const char *target = eff_text(eff, "target"), *stage = eff_text(eff, "stage");

	if (target != NULL && cu_api_check_missing(cx, e, CU_DB_STMT_FLOWS_API_MISSING_FLOW,
	                                           "target", cu_api_pg_array(cx, &target, 1)) != 0)
		return -1;
	if (stage != NULL && cu_api_check_missing(cx, e, CU_DB_STMT_FLOWS_API_MISSING_STAGE,
	                                          "stage", cu_api_pg_array(cx, &stage, 1)) != 0)
		return -1;
	if (!cu_api_errors_any(e) && strcmp(eff_bool(eff, "evaluate_on_plan"), "false") == 0 &&
	    strcmp(eff_bool(eff, "re_evaluate_policies"), "false") == 0)
		cu_api_error(e, NULL,
		             "Either evaluation on plan or evaluation on run must be enabled");
	return 0;
}

static const char *const binding_required[] = {"target", "stage", "order", NULL};

/* Stores eff ($1 uuid: NULL inserts); answers a taken (target, stage, order). */
static int
binding_store(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *eff, const char *uuid,
              const char **uuid_out)
{
	const char *p[8];
	PGresult *res = NULL;
	enum cu_err err;

	p[0] = uuid;
	p[1] = eff_text(eff, "target");
	p[2] = eff_text(eff, "stage");
	p[3] = eff_text(eff, "order");
	p[4] = eff_bool(eff, "evaluate_on_plan");
	p[5] = eff_bool(eff, "re_evaluate_policies");
	p[6] = eff_text(eff, "policy_engine_mode");
	p[7] = eff_text(eff, "invalid_response_action");
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res,
	                 uuid == NULL ? CU_DB_STMT_FLOWS_API_BINDING_INSERT
	                              : CU_DB_STMT_FLOWS_API_BINDING_UPDATE,
	                 8, p);
	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(res)) {
		cu_api_reject(cx, e, NULL,
		              "The fields target, stage, order must make a unique set.");
		return -1;
	}
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return -1;
	}
	if (uuid_out != NULL)
		*uuid_out = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
	return 0;
}

void
cu_api_flow_bindings_list(struct cu_ctx *cx)
{
	if (cu_api_login(cx) != 0)
		return;
	cu_api_list_send(cx, &binding_list, NULL, 0);
}

void
cu_api_flow_bindings_get(struct cu_ctx *cx)
{
	struct row r;

	if (cu_api_login(cx) != 0 ||
	    row_load(cx, CU_DB_STMT_FLOWS_API_BINDING_GET, cu_ctx_param(cx, "fsb_uuid"), 1, &r) !=
	        0 ||
	    cu_api_require(cx, "authentik_flows.view_flowstagebinding", r.rw_uuid) != 0)
		return;
	cu_api_send_row(cx, 200, r.rw_res);
}

void
cu_api_flow_bindings_create(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *eff;
	struct cu_api_errors e;
	const char *uuid = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0 ||
	    cu_api_require(cx, "authentik_flows.add_flowstagebinding", NULL) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	eff = cu_json_object(cx->cx_arena);
	cu_json_set_bool(eff, "evaluate_on_plan", 0);
	cu_json_set_bool(eff, "re_evaluate_policies", 1);
	cu_json_set_string(eff, "policy_engine_mode", "any");
	cu_json_set_string(eff, "invalid_response_action", "retry");
	cu_api_errors_init(&e, cx);
	binding_read_body(cx, &e, body, eff);
	require_fields(&e, body, binding_required);
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (binding_validate(cx, &e, eff) != 0)
		return;
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	if (binding_store(cx, &e, eff, NULL, &uuid) != 0)
		return;
	finish_write(cx, CU_DB_STMT_FLOWS_API_BINDING_GET, uuid, 201, "model_created",
	             "flowstagebinding", NULL);
}

void
cu_api_flow_bindings_update(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *before = NULL, *eff = NULL;
	struct cu_api_errors e;
	struct row r;
	enum cu_err err;
	const char *key = cu_ctx_param(cx, "fsb_uuid");

	if (cu_api_login(cx) != 0 ||
	    row_load(cx, CU_DB_STMT_FLOWS_API_BINDING_GET, key, 1, &r) != 0 ||
	    cu_api_require(cx, "authentik_flows.change_flowstagebinding", r.rw_uuid) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (row_load(cx, CU_DB_STMT_FLOWS_API_BINDING_LOCK, key, 1, &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	if (snapshot_pair(cx, r.rw_snapshot, &before, &eff) != 0)
		return;
	cu_api_errors_init(&e, cx);
	binding_read_body(cx, &e, body, eff);
	if (cx->cx_req->rq_method == CU_HTTP_PUT)
		require_fields(&e, body, binding_required);
	if (!cu_api_errors_any(&e) && binding_validate(cx, &e, eff) != 0)
		return;
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	if (binding_store(cx, &e, eff, r.rw_uuid, NULL) != 0)
		return;
	finish_write(cx, CU_DB_STMT_FLOWS_API_BINDING_GET, r.rw_uuid, 200, "model_updated",
	             "flowstagebinding", before);
}

void
cu_api_flow_bindings_delete(struct cu_ctx *cx)
{
	const char *key = cu_ctx_param(cx, "fsb_uuid");
	struct row r;
	enum cu_err err;

	if (cu_api_login(cx) != 0 ||
	    row_load(cx, CU_DB_STMT_FLOWS_API_BINDING_GET, key, 1, &r) != 0 ||
	    cu_api_require(cx, "authentik_flows.delete_flowstagebinding", r.rw_uuid) != 0)
		return;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (row_load(cx, CU_DB_STMT_FLOWS_API_BINDING_LOCK, key, 1, &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	finish_delete(cx, CU_DB_STMT_FLOWS_API_BINDING_DELETE, &r, "flowstagebinding",
	              binding_name(cx, &r));
}
