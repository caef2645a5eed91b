/*
 * /api/v3/core/groups/: authentik's GroupViewSet. Rows are built as JSON by PostgreSQL
 * (lib/stmts/groups.h); every write runs in one transaction with its audit event.
 */
#include "api/groups.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <libpq-fe.h>

/* lib/api/ has its own events.h (the events API): name the library one. */
#include "../events.h"
#include "api/common.h"
#include "auth.h"
#include "db.h"
#include "http.h"
#include "json.h"
#include "server.h"

#define MODEL_APP "authentik_core"
#define NOT_FOUND "No Group matches the given query."

static int
flag_arg(struct cu_ctx *cx, const char *name, int dflt)
{
	const char *v = cu_http_arg(cx->cx_req, name);

	if (v == NULL)
		return dflt;
	return strcasecmp(v, "true") == 0;
}

/* The {group_uuid} path parameter; NULL when it is no UUID. */
static const char *
uuid_param(struct cu_ctx *cx)
{
	const char *id = cu_ctx_param(cx, "group_uuid");

	return cu_api_is_uuid(id) ? id : NULL;
}

struct group_input {
	const char *gi_name;
	const char *gi_is_superuser; /* "true" / "false" / NULL */
	const char *gi_attributes;
	const char *gi_parents;
	const char *gi_users;
	const char *gi_roles;
};

static void
group_read(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body, int full,
           struct group_input *in)
{
	struct json_object *attrs = NULL;
	int b;

	memset(in, 0, sizeof(*in));
	if (cu_api_field_string(e, body, "name", 0, 0, 0, &in->gi_name) == 0 && full)
		cu_api_error(e, "name", "This field is required.");
	if (cu_api_field_bool(e, body, "is_superuser", &b) == 1)
		in->gi_is_superuser = b ? "true" : "false";
	if (cu_api_field_object(e, body, "attributes", &attrs) == 1)
		in->gi_attributes = cu_json_text(attrs, NULL);
	/* users and parents default to [] when a full write leaves them out; roles do not. */
	if (cu_api_field_pk_list(cx, e, body, "parents", 0, &in->gi_parents) == 0 && full)
		in->gi_parents = "{}";
	if (cu_api_field_pk_list(cx, e, body, "users", 1, &in->gi_users) == 0 && full)
		in->gi_users = "{}";
	(void)cu_api_field_pk_list(cx, e, body, "roles", 0, &in->gi_roles);
}

/*
 * The checks that need the database, inside the transaction: a unique name, objects that
 * exist, no cycle through parents, and the permission to change is_superuser (current is the
 * group's flag, NULL on create). 0 checked, -1 having answered.
 */
static int
group_check(struct cu_ctx *cx, struct cu_api_errors *e, const struct group_input *in,
            const char *uuid, const char *current)
{
	PGresult *res = NULL;
	enum cu_err err;

	if (in->gi_name != NULL) {
		const char *p[2] = {in->gi_name, uuid};

		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_GROUPS_NAME_TAKEN, 2, p);
		if (err != CU_OK) {
			cu_api_db_fail(cx, err);
			return -1;
		}
		if (PQntuples(res) > 0)
			cu_api_error(e, "name", "Group with this name already exists.");
	}
	if (in->gi_is_superuser != NULL) {
		int want = strcmp(in->gi_is_superuser, "true") == 0;
		int cur = current != NULL && strcmp(current, "t") == 0;

		/* authentik asks only when the flag changes (or a new group is a superuser one). */
		if ((current != NULL && want != cur) || (current == NULL && want)) {
			const char *perm = want ? "authentik_core.enable_group_superuser"
			                        : "authentik_core.disable_group_superuser";
			int ok = cu_auth_has_perm(cx, cx->cx_user, perm, uuid);

			if (ok < 0) {
				cu_api_db_fail(cx, CU_ERR_UNAVAILABLE);
				return -1;
			}
			if (!ok)
				cu_api_error(e, "is_superuser",
				             want
				                 ? "User does not have permission to set superuser "
				                   "status to True."
				                 : "User does not have permission to set superuser "
				                   "status to False.");
		}
	}
	if (cu_api_check_missing(cx, e, CU_DB_STMT_USERS_MISSING_GROUP, "parents",
	                         in->gi_parents) != 0 ||
	    cu_api_check_missing(cx, e, CU_DB_STMT_GROUPS_MISSING_USER, "users", in->gi_users) !=
	        0 ||
	    cu_api_check_missing(cx, e, CU_DB_STMT_USERS_MISSING_ROLE, "roles", in->gi_roles) != 0)
		return -1;
	if (uuid != NULL && in->gi_parents != NULL && !cu_api_errors_any(e)) {
		const char *p[2] = {uuid, in->gi_parents};

		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_GROUPS_CYCLE, 2, p);
		if (err != CU_OK) {
			cu_api_db_fail(cx, err);
			return -1;
		}
		if (PQntuples(res) > 0)
			cu_api_error(
			    e, "parents",
			    "A group cannot be its own ancestor: these parents would make a "
			    "cycle.");
	}
	return 0;
}

static int
group_set_links(struct cu_ctx *cx, const char *uuid, const struct group_input *in)
{
	static const enum cu_db_stmt st[3] = {CU_DB_STMT_GROUPS_SET_PARENTS,
	                                      CU_DB_STMT_GROUPS_SET_USERS,
	                                      CU_DB_STMT_GROUPS_SET_ROLES};
	const char *vals[3] = {in->gi_parents, in->gi_users, in->gi_roles};
	size_t i;

	for (i = 0; i < 3; i++) {
		const char *p[2] = {uuid, vals[i]};
		enum cu_err err;

		if (vals[i] == NULL)
			continue;
		err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, st[i], 2, p);
		if (err != CU_OK) {
			cu_api_db_fail(cx, err);
			return -1;
		}
	}
	return 0;
}

static void
group_send(struct cu_ctx *cx, int status, const char *uuid)
{
	const char *p[5] = {uuid, flag_arg(cx, "include_users", 1) ? "true" : "false",
	                    flag_arg(cx, "include_children", 0) ? "true" : "false",
	                    flag_arg(cx, "include_parents", 0) ? "true" : "false",
	                    flag_arg(cx, "include_inherited_roles", 0) ? "true" : "false"};
	PGresult *res = NULL;
	enum cu_err err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_GROUPS_GET, 5, p);

	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (PQntuples(res) == 0) {
		cu_ctx_error(cx, 404, NOT_FOUND);
		return;
	}
	cu_api_send_row(cx, status, res);
}

static PGresult *
group_snapshot(struct cu_ctx *cx, enum cu_db_stmt st, const char *uuid)
{
	PGresult *res = NULL;
	enum cu_err err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, 1, &uuid);

	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return NULL;
	}
	if (PQntuples(res) == 0) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_error(cx, 404, NOT_FOUND);
		return NULL;
	}
	return res;
}

/* --- routes -------------------------------------------------------------------------------- */

static const struct cu_api_sort group_sorts[] = {
    {"pk", "g.uuid"},   {"group_uuid", "g.uuid"},           {"num_pk", "g.num_pk"},
    {"name", "g.name"}, {"is_superuser", "g.is_superuser"},
};

static const struct cu_api_filter group_filters[] = {
    {"name", CU_API_F_TEXT, "g.name = $%d"},
    {"is_superuser", CU_API_F_BOOL, "g.is_superuser = $%d::boolean"},
    {"members_by_username", CU_API_F_TEXT_ANY,
     "EXISTS (SELECT 1 FROM group_users fgu JOIN users fu ON fu.id = fgu.user_id WHERE "
     "fgu.group_uuid = g.uuid AND fu.username = ANY($%d::text[]))"},
};

void
cu_api_groups_list(struct cu_ctx *cx)
{
	const struct cu_http_request *req;
	struct cu_api_list l;
	struct cu_api_errors e;
	struct cu_api_cond conds[2];
	const char **vals;
	size_t n = 0, i, k = 0;
	int r;

	if (cu_api_login(cx) != 0)
		return;
	req = cx->cx_req;
	cu_api_errors_init(&e, cx);
	r = cu_api_attributes_cond(cx, "g.attributes @> $%d::jsonb", &conds[n]);
	if (r < 0)
		return;
	n += (size_t)r;
	vals = cu_arena_alloc(cx->cx_arena, (req->rq_nargs + 1) * sizeof(*vals));
	for (i = 0; i < req->rq_nargs; i++) {
		const char *v = req->rq_args[i].kv_val, *q;

		if (strcmp(req->rq_args[i].kv_key, "members_by_pk") != 0)
			continue;
		for (q = v; *q != '\0' && isdigit((unsigned char)*q); q++)
			;
		if (*v == '\0' || *q != '\0' || strlen(v) > 18) {
			cu_api_error(
			    &e, "members_by_pk",
			    cu_arena_printf(cx->cx_arena,
			                    "Select a valid choice. %.64s is not one of the "
			                    "available choices.",
			                    v));
			break;
		}
		vals[k++] = v;
	}
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	if (k > 0) {
		conds[n].ac_sql = "EXISTS (SELECT 1 FROM group_users mgu WHERE mgu.group_uuid = "
		                  "g.uuid AND mgu.user_id = ANY($%d::bigint[]))";
		conds[n++].ac_value = cu_api_pg_array(cx, vals, k);
	}
	memset(&l, 0, sizeof(l));
	/* The include_* flags pick constant fragments: no outside text reaches the SQL. The
	 * arguments follow the order in which CU_SQL_GROUP's text uses its flags. */
	l.al_row = cu_arena_printf(cx->cx_arena, CU_SQL_GROUP("%s", "%s", "%s", "%s"),
	                           flag_arg(cx, "include_parents", 0) ? "true" : "false",
	                           flag_arg(cx, "include_users", 1) ? "true" : "false",
	                           flag_arg(cx, "include_inherited_roles", 0) ? "true" : "false",
	                           flag_arg(cx, "include_children", 0) ? "true" : "false");
	l.al_from = "FROM groups g";
	l.al_key = "g.uuid";
	l.al_key_join = "JOIN groups g ON g.uuid = cu_p.cu_key";
	l.al_pk = "g.uuid::text";
	l.al_view_perm = "authentik_core.view_group";
	l.al_search = "g.name ILIKE $%d";
	l.al_sorts = group_sorts;
	l.al_nsorts = sizeof(group_sorts) / sizeof(group_sorts[0]);
	l.al_default_sort = "name";
	l.al_tiebreak = "g.uuid";
	l.al_filters = group_filters;
	l.al_nfilters = sizeof(group_filters) / sizeof(group_filters[0]);
	cu_api_list_send(cx, &l, conds, n);
}

void
cu_api_groups_get(struct cu_ctx *cx)
{
	const char *uuid;

	if (cu_api_login(cx) != 0)
		return;
	if ((uuid = uuid_param(cx)) == NULL) {
		cu_ctx_error(cx, 404, NOT_FOUND);
		return;
	}
	if (cu_api_require(cx, "authentik_core.view_group", uuid) != 0)
		return;
	group_send(cx, 200, uuid);
}

void
cu_api_groups_create(struct cu_ctx *cx)
{
	struct json_object *body = NULL;
	struct cu_api_errors e;
	struct group_input in;
	PGresult *res = NULL;
	const char *uuid, *p[3];
	enum cu_err err;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, "authentik_core.add_group", NULL) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	group_read(cx, &e, body, 1, &in);
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (group_check(cx, &e, &in, NULL, NULL) != 0)
		return;
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	p[0] = in.gi_name;
	p[1] = in.gi_is_superuser;
	p[2] = in.gi_attributes;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_GROUPS_INSERT, 3, p);
	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(res)) {
		cu_api_reject(cx, &e, "name", "Group with this name already exists.");
		return;
	}
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return;
	}
	uuid = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
	if (group_set_links(cx, uuid, &in) != 0)
		return;
	err = cu_events_model(cx, "model_created", MODEL_APP, "group", uuid, in.gi_name, NULL);
	if (cu_api_commit(cx, err) != 0)
		return;
	group_send(cx, 201, uuid);
}

void
cu_api_groups_update(struct cu_ctx *cx)
{
	struct json_object *body = NULL;
	struct cu_api_errors e;
	struct group_input in;
	PGresult *before = NULL, *after = NULL, *res = NULL;
	const char *uuid, *p[4];
	enum cu_err err;

	if (cu_api_login(cx) != 0)
		return;
	if ((uuid = uuid_param(cx)) == NULL) {
		cu_ctx_error(cx, 404, NOT_FOUND);
		return;
	}
	if (cu_api_require(cx, "authentik_core.change_group", uuid) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	group_read(cx, &e, body, cx->cx_req->rq_method == CU_HTTP_PUT, &in);
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if ((before = group_snapshot(cx, CU_DB_STMT_GROUPS_LOCK, uuid)) == NULL)
		return;
	if (group_check(cx, &e, &in, uuid, cu_db_value(before, 0, 2)) != 0)
		return;
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	p[0] = uuid;
	p[1] = in.gi_name;
	p[2] = in.gi_is_superuser;
	p[3] = in.gi_attributes;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_GROUPS_UPDATE, 4, p);
	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(res)) {
		cu_api_reject(cx, &e, "name", "Group with this name already exists.");
		return;
	}
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return;
	}
	if (group_set_links(cx, uuid, &in) != 0)
		return;
	if ((after = group_snapshot(cx, CU_DB_STMT_GROUPS_SNAPSHOT, uuid)) == NULL)
		return;
	err = cu_events_model(
	    cx, "model_updated", MODEL_APP, "group", uuid, cu_db_value(after, 0, 1),
	    cu_api_text_diff(cx, cu_db_value(before, 0, 0), cu_db_value(after, 0, 0)));
	if (cu_api_commit(cx, err) != 0)
		return;
	group_send(cx, 200, uuid);
}

void
cu_api_groups_delete(struct cu_ctx *cx)
{
	PGresult *res = NULL;
	const char *uuid;
	enum cu_err err;

	if (cu_api_login(cx) != 0)
		return;
	if ((uuid = uuid_param(cx)) == NULL) {
		cu_ctx_error(cx, 404, NOT_FOUND);
		return;
	}
	if (cu_api_require(cx, "authentik_core.delete_group", uuid) != 0)
		return;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_GROUPS_DELETE, 1, &uuid);
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return;
	}
	if (PQntuples(res) == 0) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_error(cx, 404, NOT_FOUND);
		return;
	}
	err = cu_events_model(cx, "model_deleted", MODEL_APP, "group", uuid, cu_db_value(res, 0, 0),
	                      NULL);
	if (cu_api_commit(cx, err) != 0)
		return;
	cu_api_no_content(cx);
}

/* add_user/ and remove_user/: {"pk": <user id>}; the user must be one the requester may
 * view, as authentik looks it up, else 404. */
static void
membership(struct cu_ctx *cx, const char *perm, enum cu_db_stmt st, const char *op)
{
	struct json_object *body = NULL, *diff, *change, *list;
	struct cu_api_errors e;
	PGresult *res = NULL, *g = NULL;
	const char *uuid, *pk, *p[2];
	int64_t user_id = 0;
	enum cu_err err;

	if (cu_api_login(cx) != 0)
		return;
	if ((uuid = uuid_param(cx)) == NULL) {
		cu_ctx_error(cx, 404, NOT_FOUND);
		return;
	}
	if (cu_api_require(cx, perm, uuid) != 0 || cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	if (cu_api_field_int(&e, body, "pk", INT64_MIN + 1, INT64_MAX - 1, &user_id) == 0)
		cu_api_error(&e, "pk", "This field is required.");
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	pk = cu_arena_printf(cx->cx_arena, "%lld", (long long)user_id);
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &g, CU_DB_STMT_GROUPS_NAME, 1, &uuid);
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return;
	}
	if (PQntuples(g) == 0) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_error(cx, 404, NOT_FOUND);
		return;
	}
	p[0] = pk;
	p[1] = cx->cx_user->us_id_text;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_GROUPS_VISIBLE_USER, 2, p);
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return;
	}
	if (PQntuples(res) == 0) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	p[0] = uuid;
	p[1] = pk;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, 2, p);
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return;
	}
	/* authentik's audit of a many-to-many change: {"users": {"add": [pk]}}. */
	diff = cu_json_object(cx->cx_arena);
	change = json_object_new_object();
	list = json_object_new_array();
	json_object_array_add(list, json_object_new_int64(user_id));
	json_object_object_add(change, op, list);
	json_object_object_add(diff, "users", change);
	err = cu_events_model(cx, "model_updated", MODEL_APP, "group", uuid, cu_db_value(g, 0, 0),
	                      diff);
	if (cu_api_commit(cx, err) != 0)
		return;
	cu_api_no_content(cx);
}

void
cu_api_groups_add_user(struct cu_ctx *cx)
{
	membership(cx, "authentik_core.add_user_to_group", CU_DB_STMT_GROUPS_ADD_USER, "add");
}

void
cu_api_groups_remove_user(struct cu_ctx *cx)
{
	membership(cx, "authentik_core.remove_user_from_group", CU_DB_STMT_GROUPS_REMOVE_USER,
	           "remove");
}
