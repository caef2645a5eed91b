#include "api/rbac.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "api/common.h"
#include "auth.h"
#include "db.h"
#include "http.h"
#include "json.h"
#include "server.h"
/* lib/events.h: the bare name would find lib/api/events.h. */
#include "../events.h"

#define APP_LABEL "authentik_rbac"
#define MODEL_NAME "role"
#define MSG_ROLE_TAKEN "Role with this name already exists."
#define MSG_MANAGED "Roles managed by custos cannot be changed or deleted."
#define MAX_ASSIGN 256 /* permissions in one assign/ or unassign/ */
#define MAX_NAME 150   /* app_label.codename */

/* --- roles ------------------------------------------------------------------------------ */

static const struct cu_api_sort role_sorts[] = {
    {"name", "r.name"},
    {"pk", "r.uuid"},
};

static const struct cu_api_filter role_filters[] = {
    {"name", CU_API_F_TEXT, "r.name = $%d"},
    {"managed", CU_API_F_TEXT_ANY, "r.managed = ANY ($%d::text[])"},
    {"managed__isnull", CU_API_F_BOOL, "((r.managed IS NULL) = $%d::boolean)"},
};

static const struct cu_api_list role_list = {
    .al_row = RBAC_ROLE_ROW_,
    .al_from = "FROM roles r",
    .al_pk = "r.uuid::text",
    .al_view_perm = APP_LABEL ".view_role",
    .al_search = "r.name ILIKE $%d",
    .al_sorts = role_sorts,
    .al_nsorts = sizeof(role_sorts) / sizeof(role_sorts[0]),
    .al_default_sort = "name",
    .al_tiebreak = "r.uuid",
    .al_filters = role_filters,
    .al_nfilters = sizeof(role_filters) / sizeof(role_filters[0]),
};

/* The {uuid} path parameter in lower case, or NULL having answered 404. */
static const char *
uuid_param(struct cu_ctx *cx)
{
	const char *id = cu_ctx_param(cx, "uuid");
	char *low;
	size_t i;

	if (id == NULL || !cu_api_is_uuid(id)) {
		cu_ctx_error(cx, 404, "Not found.");
		return NULL;
	}
	low = cu_arena_strdup(cx->cx_arena, id);
	for (i = 0; low[i] != '\0'; i++)
		low[i] = (char)tolower((unsigned char)low[i]);
	return low;
}

static int
parse_id(const char *s, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || errno != 0)
		return -1;
	*out = v;
	return 0;
}

static void
send_error(struct cu_ctx *cx, const char *field, const char *msg)
{
	struct cu_api_errors e;

	cu_api_errors_init(&e, cx);
	cu_api_error(&e, field, msg);
	cu_api_errors_send(cx, &e);
}

void
cu_api_rbac_roles_list(struct cu_ctx *cx)
{
	struct cu_api_cond extra[2];
	size_t n = 0;
	const char *users, *groups, *inh;
	int inherited;
	long long id;

	if (cu_api_login(cx) != 0)
		return;
	users = cu_http_arg(cx->cx_req, "users");
	groups = cu_http_arg(cx->cx_req, "groups");
	inh = cu_http_arg(cx->cx_req, "inherited");
	/* authentik reads inherited as the text "true" in any case. */
	inherited = inh != NULL && strcasecmp(inh, "true") == 0;
	if (users != NULL) {
		if (parse_id(users, &id) != 0) {
			send_error(cx, "users", "Enter a number.");
			return;
		}
		extra[n].ac_sql =
		    inherited ? "r.uuid IN (SELECT user_all_roles($%d::bigint))"
		              : "r.uuid IN (SELECT role_uuid FROM role_users WHERE user_id = "
		                "$%d::bigint)";
		extra[n++].ac_value = users;
	}
	if (groups != NULL) {
		if (!cu_api_is_uuid(groups)) {
			send_error(cx, "groups", "Must be a valid UUID.");
			return;
		}
		extra[n].ac_sql =
		    inherited ? "r.uuid IN (SELECT role_uuid FROM role_groups WHERE group_uuid "
		                "IN (WITH RECURSIVE g(uuid) AS (SELECT $%d::uuid UNION "
		                "SELECT p.parent_uuid FROM group_parents p JOIN g "
		                "ON p.group_uuid = g.uuid) SELECT uuid FROM g))"
		              : "r.uuid IN (SELECT role_uuid FROM role_groups WHERE group_uuid = "
		                "$%d::uuid)";
		extra[n++].ac_value = groups;
	}
	cu_api_list_send(cx, &role_list, extra, n);
}

void
cu_api_rbac_roles_get(struct cu_ctx *cx)
{
	const char *pk;
	PGresult *res = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || (pk = uuid_param(cx)) == NULL ||
	    cu_api_require(cx, APP_LABEL ".view_role", pk) != 0)
		return;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_RBAC_ROLE_GET, 1, &pk);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_send_row(cx, 200, res);
}

/* Reads the role back inside the open transaction, commits, and answers with status. */
static void
commit_and_send(struct cu_ctx *cx, int status, const char *pk)
{
	PGresult *res = NULL;
	enum cu_err err;

	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_RBAC_ROLE_GET, 1, &pk);
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_send_row(cx, status, res);
}

void
cu_api_rbac_roles_create(struct cu_ctx *cx)
{
	struct json_object *body = NULL;
	struct cu_api_errors e;
	const char *name = NULL, *pk;
	PGresult *res = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, APP_LABEL ".add_role", NULL) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	if (cu_api_field_string(&e, body, "name", 0, 0, 0, &name) == 0)
		cu_api_error(&e, "name", "This field is required.");
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_RBAC_ROLE_INSERT, 1, &name);
	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(res)) {
		cu_db_rollback(cx->cx_db);
		send_error(cx, "name", MSG_ROLE_TAKEN);
		return;
	}
	if (err == CU_OK) {
		pk = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
		err = cu_events_model(cx, "model_created", APP_LABEL, MODEL_NAME, pk, name, NULL);
	}
	if (err != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	commit_and_send(cx, 201, pk);
}

/*
 * Opens a transaction and locks the role: 0 with *name (and *managed, may be NULL) set, or -1
 * having rolled back and answered (404, 503).
 */
static int
role_lock(struct cu_ctx *cx, const char *pk, const char **name, const char **managed)
{
	PGresult *res = NULL;
	enum cu_err err;

	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_RBAC_ROLE_LOCK, 1, &pk);
	if (err != CU_OK || PQntuples(res) < 1) {
		cu_db_rollback(cx->cx_db);
		if (err != CU_OK)
			cu_ctx_fail(cx, err, "The database");
		else
			cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	*name = cu_db_value(res, 0, 0);
	if (managed != NULL)
		*managed = cu_db_value(res, 0, 1);
	return 0;
}

void
cu_api_rbac_roles_update(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *diff, *d;
	struct cu_api_errors e;
	const char *pk, *name = NULL, *old_name, *managed, *params[2];
	PGresult *res = NULL;
	enum cu_err err;
	int have_name;

	if (cu_api_login(cx) != 0 || (pk = uuid_param(cx)) == NULL ||
	    cu_api_require(cx, APP_LABEL ".change_role", pk) != 0 || cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	have_name = cu_api_field_string(&e, body, "name", 0, 0, 0, &name);
	if (have_name == 0 && cx->cx_req->rq_method != CU_HTTP_PATCH)
		cu_api_error(&e, "name", "This field is required.");
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	if (role_lock(cx, pk, &old_name, &managed) != 0)
		return;
	if (managed != NULL) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_error(cx, 403, MSG_MANAGED);
		return;
	}
	diff = cu_json_object(cx->cx_arena);
	if (name != NULL && strcmp(name, old_name) != 0) {
		params[0] = pk;
		params[1] = name;
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_RBAC_ROLE_UPDATE, 2,
		                 params);
		if (err == CU_ERR_INVALID && cu_db_is_unique_violation(res)) {
			cu_db_rollback(cx->cx_db);
			send_error(cx, "name", MSG_ROLE_TAKEN);
			return;
		}
		if (err != CU_OK)
			goto fail;
		d = json_object_new_object();
		cu_json_set_string(d, "previous", old_name);
		cu_json_set_string(d, "new", name);
		cu_json_set(diff, "name", d);
	}
	err = cu_events_model(cx, "model_updated", APP_LABEL, MODEL_NAME, pk,
	                      name != NULL ? name : old_name, diff);
	if (err != CU_OK)
		goto fail;
	commit_and_send(cx, 200, pk);
	return;
fail:
	cu_db_rollback(cx->cx_db);
	cu_ctx_fail(cx, err, "The database");
}

void
cu_api_rbac_roles_delete(struct cu_ctx *cx)
{
	const char *pk, *name, *managed;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || (pk = uuid_param(cx)) == NULL ||
	    cu_api_require(cx, APP_LABEL ".delete_role", pk) != 0 ||
	    role_lock(cx, pk, &name, &managed) != 0)
		return;
	if (managed != NULL) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_error(cx, 403, MSG_MANAGED);
		return;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_RBAC_ROLE_DELETE, 1, &pk);
	if (err == CU_OK)
		err = cu_events_model(cx, "model_deleted", APP_LABEL, MODEL_NAME, pk, name, NULL);
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_no_content(cx);
}

/* add_user/ and remove_user/: change_role on the role, and the user must be one the asking
 * user may view (404 otherwise, as authentik). */
static void
role_user(struct cu_ctx *cx, int add)
{
	struct json_object *body = NULL, *diff, *d, *ids;
	struct cu_api_errors e;
	const char *pk, *name, *params[2];
	PGresult *res = NULL;
	enum cu_err err;
	int64_t uid = 0;

	if (cu_api_login(cx) != 0 || (pk = uuid_param(cx)) == NULL ||
	    cu_api_require(cx, APP_LABEL ".change_role", pk) != 0 || cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	if (cu_api_field_int(&e, body, "pk", 0, INT64_MAX - 1, &uid) == 0)
		cu_api_error(&e, "pk", "This field is required.");
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	if (role_lock(cx, pk, &name, NULL) != 0)
		return;
	params[0] = cu_arena_printf(cx->cx_arena, "%lld", (long long)uid);
	params[1] = cx->cx_user->us_id_text;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_RBAC_USER_VISIBLE, 2, params);
	if (err != CU_OK)
		goto fail;
	if (PQntuples(res) < 1) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	params[1] = params[0];
	params[0] = pk;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL,
	                 add ? CU_DB_STMT_RBAC_ROLE_ADD_USER : CU_DB_STMT_RBAC_ROLE_REMOVE_USER, 2,
	                 params);
	if (err != CU_OK)
		goto fail;
	/* authentik's audit diff of a many-to-many change: {"users": {"add": [pk]}}. */
	diff = cu_json_object(cx->cx_arena);
	d = json_object_new_object();
	ids = json_object_new_array();
	json_object_array_add(ids, json_object_new_int64(uid));
	cu_json_set(d, add ? "add" : "remove", ids);
	cu_json_set(diff, "users", d);
	err = cu_events_model(cx, "model_updated", APP_LABEL, MODEL_NAME, pk, name, diff);
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK)
		goto fail;
	cu_api_no_content(cx);
	return;
fail:
	cu_db_rollback(cx->cx_db);
	cu_ctx_fail(cx, err, "The database");
}

void
cu_api_rbac_roles_add_user(struct cu_ctx *cx)
{
	role_user(cx, 1);
}

void
cu_api_rbac_roles_remove_user(struct cu_ctx *cx)
{
	role_user(cx, 0);
}

/* --- permissions -------------------------------------------------------------------------- */

static const struct cu_api_sort perm_sorts[] = {
    {"name", "p.name"},
    {"id", "p.id"},
    {"codename", "p.codename"},
    {"model", "p.model"},
    {"app_label", "p.app_label"},
    {"content_type__model", "p.model"},
    {"content_type__app_label", "p.app_label"},
};

static const struct cu_api_filter perm_filters[] = {
    {"codename", CU_API_F_TEXT, "p.codename = $%d"},
    {"content_type__app_label", CU_API_F_TEXT, "p.app_label = $%d"},
    {"content_type__model", CU_API_F_TEXT, "p.model = $%d"},
    {"role", CU_API_F_UUID,
     "p.id IN (SELECT permission_id FROM role_permissions WHERE role_uuid = $%d::uuid "
     "AND object_pk = '')"},
};

/* Any authenticated user may list the permissions that exist, as in authentik. */
static const struct cu_api_list perm_list = {
    .al_row = RBAC_PERM_ROW_,
    .al_from = "FROM permissions p",
    .al_pk = "p.id::text",
    .al_view_perm = NULL,
    .al_search = "concat_ws(' ', p.name, p.codename, p.model, p.app_label) ILIKE $%d",
    .al_sorts = perm_sorts,
    .al_nsorts = sizeof(perm_sorts) / sizeof(perm_sorts[0]),
    .al_default_sort = "name",
    .al_tiebreak = "p.id",
    .al_filters = perm_filters,
    .al_nfilters = sizeof(perm_filters) / sizeof(perm_filters[0]),
};

void
cu_api_rbac_permissions_list(struct cu_ctx *cx)
{
	static const struct cu_api_cond authentik_only = {"p.app_label LIKE 'authentik%'", NULL};

	if (cu_api_login(cx) != 0)
		return;
	cu_api_list_send(cx, &perm_list, &authentik_only, 1);
}

void
cu_api_rbac_permissions_get(struct cu_ctx *cx)
{
	const char *id = cu_ctx_param(cx, "id");
	PGresult *res = NULL;
	enum cu_err err;
	long long v;

	if (cu_api_login(cx) != 0)
		return;
	if (parse_id(id, &v) != 0 || v > INT32_MAX) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_RBAC_PERM_GET, 1, &id);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_send_row(cx, 200, res);
}

/* "app_label.model" as authentik names models: an authentik app, lower-case words. */
static int
model_name_valid(const char *m)
{
	const char *dot = strchr(m, '.');
	const char *p;

	if (strncmp(m, "authentik", 9) != 0 || dot == NULL || dot[1] == '\0' ||
	    strchr(dot + 1, '.') != NULL || strlen(m) > MAX_NAME)
		return 0;
	for (p = m; *p != '\0'; p++)
		if (p != dot &&
		    !(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
			return 0;
	return 1;
}

static const struct cu_api_sort assigned_sorts[] = {
    {"name", "r.name"},
};

static const struct cu_api_list assigned_list = {
    .al_row = RBAC_ASSIGNED_ROW_,
    .al_from = "FROM roles r",
    .al_pk = "r.uuid::text",
    .al_view_perm = APP_LABEL ".view_role",
    .al_search = "r.name ILIKE $%d",
    .al_sorts = assigned_sorts,
    .al_nsorts = 1,
    .al_default_sort = "name",
    .al_tiebreak = "r.uuid",
    .al_filters = NULL,
    .al_nfilters = 0,
};

/* Roles holding a permission of the model, on the whole model or on object_pk. */
void
cu_api_rbac_assigned_by_roles(struct cu_ctx *cx)
{
	struct cu_api_cond cond;
	const char *model, *object_pk, *arr[2];

	if (cu_api_login(cx) != 0)
		return;
	model = cu_http_arg(cx->cx_req, "model");
	object_pk = cu_http_arg(cx->cx_req, "object_pk");
	if (model == NULL || model[0] == '\0') {
		send_error(cx, "model", "This field is required.");
		return;
	}
	if (!model_name_valid(model)) {
		send_error(
		    cx, "model",
		    cu_arena_printf(cx->cx_arena,
		                    "Select a valid choice. %.160s is not one of the available "
		                    "choices.",
		                    model));
		return;
	}
	/* Both values travel as one text[] so that one placeholder carries them. */
	arr[0] = model;
	arr[1] = object_pk != NULL ? object_pk : "";
	cond.ac_value = cu_api_pg_array(cx, arr, 2);
	cond.ac_sql = "r.uuid IN (SELECT rp.role_uuid FROM role_permissions rp JOIN permissions p "
	              "ON p.id = rp.permission_id, (SELECT $%d::text[] AS a) q "
	              "WHERE p.app_label || '.' || p.model = q.a[1] "
	              "AND (rp.object_pk = '' OR (q.a[2] <> '' AND rp.object_pk = q.a[2])))";
	cu_api_list_send(cx, &assigned_list, &cond, 1);
}

/* A PermissionAssignRequest resolved: permission ids, names as given, and the object pk ("" for
 * the whole model). */
struct assign_req {
	const char *ar_ids[MAX_ASSIGN];
	const char *ar_names[MAX_ASSIGN];
	size_t ar_n;
	const char *ar_object_pk;
};

/* Validates the body and resolves each permission: 0, or -1 having answered. Runs inside no
 * transaction. */
static int
assign_parse(struct cu_ctx *cx, struct assign_req *ar)
{
	struct json_object *body = NULL, *perms = NULL;
	struct cu_api_errors e;
	const char *model = NULL, *object_pk = NULL, *params[3];
	char app[MAX_NAME + 1] = "", mname[MAX_NAME + 1] = "";
	PGresult *res = NULL;
	enum cu_err err;
	size_t i, n;
	int have_model, have_obj;

	if (cu_api_body(cx, &body) != 0)
		return -1;
	cu_api_errors_init(&e, cx);
	if (cu_api_field_array(&e, body, "permissions", &perms) == 0)
		cu_api_error(&e, "permissions", "This field is required.");
	have_model = cu_api_field_string(&e, body, "model", 0, 0, 0, &model);
	have_obj = cu_api_field_string(&e, body, "object_pk", 0, 0, 0, &object_pk);
	if (perms != NULL) {
		n = json_object_array_length(perms);
		if (n > MAX_ASSIGN)
			cu_api_error(&e, "permissions",
			             "Ensure this field has no more than 256 "
			             "elements.");
		for (i = 0; i < n && i < MAX_ASSIGN; i++) {
			struct json_object *v = json_object_array_get_idx(perms, i);
			const char *s;

			if (v == NULL || !json_object_is_type(v, json_type_string)) {
				cu_api_error(&e, "permissions", "Not a valid string.");
				break;
			}
			s = json_object_get_string(v);
			if (s[0] == '\0' || (size_t)json_object_get_string_len(v) != strlen(s) ||
			    strlen(s) > MAX_NAME) {
				cu_api_error(&e, "permissions", "This field may not be blank.");
				break;
			}
			ar->ar_names[i] = s;
		}
	}
	if (model != NULL) {
		const char *dot = strchr(model, '.');

		if (!model_name_valid(model)) {
			cu_api_error(&e, "model",
			             cu_arena_printf(cx->cx_arena,
			                             "\"%.160s\" is not a valid choice.", model));
		} else {
			memcpy(app, model, (size_t)(dot - model));
			app[dot - model] = '\0';
			memcpy(mname, dot + 1, strlen(dot + 1) + 1);
		}
	}
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return -1;
	}
	if ((have_model == 1) != (have_obj == 1)) {
		send_error(cx, NULL, "The fields model, object_pk must be used together.");
		return -1;
	}
	ar->ar_n = json_object_array_length(perms);
	ar->ar_object_pk = object_pk != NULL ? object_pk : "";
	if (model != NULL) {
		params[0] = app;
		params[1] = mname;
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_RBAC_MODEL_KNOWN, 2,
		                 params);
		if (err != CU_OK) {
			cu_ctx_fail(cx, err, "The database");
			return -1;
		}
		if (PQntuples(res) < 1) {
			send_error(
			    cx, "model",
			    cu_arena_printf(cx->cx_arena, "\"%s\" is not a valid choice.", model));
			return -1;
		}
	} else {
		for (i = 0; i < ar->ar_n; i++) {
			if (strchr(ar->ar_names[i], '.') == NULL) {
				send_error(
				    cx, "permissions",
				    "When assigning global permissions, codename must be given "
				    "as app_label.codename");
				return -1;
			}
		}
	}
	/* Each name is "app_label.codename", or with a model also the bare codename; it must
	 * name a permission of that model. */
	for (i = 0; i < ar->ar_n; i++) {
		const char *s = ar->ar_names[i], *dot = strchr(s, '.');
		char papp[MAX_NAME + 1];

		if (dot != NULL) {
			memcpy(papp, s, (size_t)(dot - s));
			papp[dot - s] = '\0';
			params[0] = papp;
			params[1] = dot + 1;
		} else {
			params[0] = app;
			params[1] = s;
		}
		params[2] = model != NULL ? mname : NULL;
		if (model != NULL && strcmp(params[0], app) != 0)
			res = NULL;
		else if ((err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_RBAC_PERM_FIND,
		                           3, params)) != CU_OK) {
			cu_ctx_fail(cx, err, "The database");
			return -1;
		}
		if (res == NULL || PQntuples(res) < 1) {
			send_error(cx, "permissions",
			           cu_arena_printf(cx->cx_arena, "Unknown permission \"%s\".", s));
			return -1;
		}
		ar->ar_ids[i] = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
	}
	return 0;
}

/* The model_updated event of a role whose permissions changed: {"permissions": {"add": [...]}},
 * each entry "app_label.codename" or "app_label.codename on <object_pk>". */
static enum cu_err
assign_event(struct cu_ctx *cx, const char *pk, const char *name, const struct assign_req *ar,
             const char *direction)
{
	struct json_object *diff = cu_json_object(cx->cx_arena), *d, *list;
	size_t i;

	d = json_object_new_object();
	list = json_object_new_array();
	for (i = 0; i < ar->ar_n; i++) {
		struct json_object *p = json_object_new_object();

		cu_json_set_string(p, "permission", ar->ar_names[i]);
		cu_json_set_string(p, "object_pk",
		                   ar->ar_object_pk[0] != '\0' ? ar->ar_object_pk : NULL);
		json_object_array_add(list, p);
	}
	cu_json_set(d, direction, list);
	cu_json_set(diff, "permissions", d);
	return cu_events_model(cx, "model_updated", APP_LABEL, MODEL_NAME, pk, name, diff);
}

void
cu_api_rbac_assign(struct cu_ctx *cx)
{
	struct assign_req ar;
	struct json_object *out;
	const char *pk, *name, *params[3];
	PGresult *res = NULL;
	enum cu_err err = CU_OK;
	size_t i;

	memset(&ar, 0, sizeof(ar));
	if (cu_api_login(cx) != 0 || (pk = uuid_param(cx)) == NULL ||
	    cu_api_require(cx, APP_LABEL ".assign_role_permissions", pk) != 0 ||
	    assign_parse(cx, &ar) != 0 || role_lock(cx, pk, &name, NULL) != 0)
		return;
	out = cu_json_array(cx->cx_arena);
	params[0] = pk;
	params[2] = ar.ar_object_pk;
	for (i = 0; i < ar.ar_n && err == CU_OK; i++) {
		struct json_object *r;

		params[1] = ar.ar_ids[i];
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_RBAC_ASSIGN, 3, params);
		if (err != CU_OK)
			break;
		/* PermissionAssignResult's id is a string. */
		r = json_object_new_object();
		cu_json_set_string(r, "id", cu_db_value(res, 0, 0));
		json_object_array_add(out, r);
	}
	if (err == CU_OK)
		err = assign_event(cx, pk, name, &ar, "add");
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_ctx_json(cx, 200, out);
}

void
cu_api_rbac_unassign(struct cu_ctx *cx)
{
	struct assign_req ar;
	const char *pk, *name, *params[3];
	enum cu_err err = CU_OK;
	size_t i;

	memset(&ar, 0, sizeof(ar));
	if (cu_api_login(cx) != 0 || (pk = uuid_param(cx)) == NULL ||
	    cu_api_require(cx, APP_LABEL ".unassign_role_permissions", pk) != 0 ||
	    assign_parse(cx, &ar) != 0 || role_lock(cx, pk, &name, NULL) != 0)
		return;
	params[0] = pk;
	params[2] = ar.ar_object_pk;
	for (i = 0; i < ar.ar_n && err == CU_OK; i++) {
		params[1] = ar.ar_ids[i];
		err =
		    cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_RBAC_UNASSIGN, 3, params);
	}
	if (err == CU_OK)
		err = assign_event(cx, pk, name, &ar, "remove");
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_no_content(cx);
}
