/*
 * /api/v3/core/users/: authentik's UserViewSet. Rows are built as JSON by PostgreSQL
 * (lib/stmts/users.h); every write runs in one transaction with its audit event.
 */
#include "api/users.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "api/common.h"
#include "auth.h"
/* lib/api/ has its own crypto.h, events.h, flows.h and tasks.h (the API modules): name the
 * library ones. */
#include "../crypto.h"
#include "config.h"
#include "db.h"
#include "../events.h"
#include "../flows.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "password.h"
#include "server.h"
#include "../tasks.h"

#define USERNAME_MAX 150
#define EMAIL_MAX 254
#define TOKEN_KEY_LEN 60 /* authentik's default_token_length */
#define MODEL_APP "authentik_core"

static const char *const user_types[] = {"internal", "external", "service_account",
                                         "internal_service_account", NULL};

/* --- helpers ------------------------------------------------------------------------------ */

/* The query flag name: authentik includes when the value, lower-cased, is "true". */
static int
flag_arg(struct cu_ctx *cx, const char *name, int dflt)
{
	const char *v = cu_http_arg(cx->cx_req, name);

	if (v == NULL)
		return dflt;
	return strcasecmp(v, "true") == 0;
}

/* The {id} path parameter as a positive integer; NULL when it is not one. */
static const char *
id_param(struct cu_ctx *cx)
{
	const char *id = cu_ctx_param(cx, "id");
	size_t i, n = id != NULL ? strlen(id) : 0;

	if (n == 0 || n > 18)
		return NULL;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)id[i]))
			return NULL;
	return id;
}

/* A date-time as PostgreSQL should read it: one without an offset is UTC. */
static const char *
ts_value(struct cu_ctx *cx, const char *s)
{
	int has_tz;

	if (!cu_api_is_datetime(s, &has_tz))
		return NULL;
	if (has_tz)
		return s;
	return cu_arena_printf(cx->cx_arena, "%s%s", s, strlen(s) == 10 ? "T00:00:00+00" : "+00");
}

/* --- reading a User body ------------------------------------------------------------------ */

struct user_input {
	const char *ui_username;
	const char *ui_name;
	const char *ui_email;
	const char *ui_is_active; /* "true" / "false" / NULL */
	int ui_last_login_set;
	const char *ui_last_login; /* NULL with ui_last_login_set: null */
	const char *ui_path;
	const char *ui_type;
	const char *ui_attributes; /* JSON text */
	const char *ui_groups;     /* array literal */
	const char *ui_roles;
};

/* Django's EmailValidator in brief: one "@", a local part, and a domain with a dot (or
 * localhost), no spaces. */
static int
email_valid(const char *s)
{
	const char *at = strchr(s, '@'), *p;

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL || at[1] == '\0')
		return 0;
	for (p = s; *p != '\0'; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			return 0;
	if (strcmp(at + 1, "localhost") == 0)
		return 1;
	p = strrchr(at + 1, '.');
	return p != NULL && p != at + 1 && p[1] != '\0';
}

/*
 * Fills in from body. full: every required field must be there and list fields default to []
 * (create and PUT); otherwise only what is present counts (PATCH). current_type is the user's
 * type on update, NULL on create.
 */
static void
user_read(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body, int full,
          const char *current_type, struct user_input *in)
{
	struct json_object *attrs = NULL;
	const char *s = NULL;
	int b, r;

	memset(in, 0, sizeof(*in));
	r = cu_api_field_string(e, body, "username", USERNAME_MAX, 0, 0, &in->ui_username);
	if (r == 0 && full)
		cu_api_error(e, "username", "This field is required.");
	r = cu_api_field_string(e, body, "name", 0, 1, 0, &in->ui_name);
	if (r == 0 && full)
		cu_api_error(e, "name", "This field is required.");
	if (cu_api_field_string(e, body, "email", EMAIL_MAX, 1, 0, &in->ui_email) == 1 &&
	    in->ui_email[0] != '\0' && !email_valid(in->ui_email)) {
		cu_api_error(e, "email", "Enter a valid email address.");
		in->ui_email = NULL;
	}
	if (cu_api_field_bool(e, body, "is_active", &b) == 1)
		in->ui_is_active = b ? "true" : "false";
	if (cu_api_field_string(e, body, "last_login", 0, 0, 1, &s) == 1) {
		in->ui_last_login_set = 1;
		if (s != NULL && (in->ui_last_login = ts_value(cx, s)) == NULL)
			cu_api_error(e, "last_login",
			             "Datetime has wrong format. Use one of these formats instead: "
			             "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].");
	}
	if (cu_api_field_string(e, body, "path", 0, 0, 0, &in->ui_path) == 1) {
		const char *p = in->ui_path;
		size_t n = strlen(p);

		if (p[0] == '/' || p[n - 1] == '/')
			cu_api_error(e, "path", "No leading or trailing slashes allowed.");
		else if (strstr(p, "//") != NULL)
			cu_api_error(e, "path", "No empty segments in user path allowed.");
	}
	if (cu_api_field_choice(e, body, "type", user_types, &in->ui_type) == 1) {
		if (current_type == NULL && strcmp(in->ui_type, "internal_service_account") == 0)
			cu_api_error(e, "type",
			             "Setting a user to internal service account is not allowed.");
		else if (current_type != NULL && strcmp(in->ui_type, current_type) != 0 &&
		         strcmp(in->ui_type, "internal_service_account") == 0)
			cu_api_error(e, "type",
			             "Setting a user to internal service account is not allowed.");
	}
	if (cu_api_field_object(e, body, "attributes", &attrs) == 1)
		in->ui_attributes = cu_json_text(attrs, NULL);
	if (cu_api_field_pk_list(cx, e, body, "groups", 0, &in->ui_groups) == 0 && full)
		in->ui_groups = "{}";
	if (cu_api_field_pk_list(cx, e, body, "roles", 0, &in->ui_roles) == 0 && full)
		in->ui_roles = "{}";
}

/* Checks what needs the database (unique username, groups and roles that exist), inside the
 * transaction. 0 checked (errors recorded in e), -1 having answered. */
static int
user_check(struct cu_ctx *cx, struct cu_api_errors *e, const struct user_input *in, const char *id)
{
	PGresult *res = NULL;
	enum cu_err err;

	if (in->ui_username != NULL) {
		const char *p[2] = {in->ui_username, id};

		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USERS_USERNAME_TAKEN, 2,
		                 p);
		if (err != CU_OK) {
			cu_api_db_fail(cx, err);
			return -1;
		}
		if (PQntuples(res) > 0)
			cu_api_error(e, "username", "This field must be unique.");
	}
	if (cu_api_check_missing(cx, e, CU_DB_STMT_USERS_MISSING_GROUP, "groups", in->ui_groups) !=
	        0 ||
	    cu_api_check_missing(cx, e, CU_DB_STMT_USERS_MISSING_ROLE, "roles", in->ui_roles) != 0)
		return -1;
	return 0;
}

/* Replaces memberships given in in. 0, or -1 having answered. */
static int
user_set_links(struct cu_ctx *cx, const char *id, const struct user_input *in)
{
	enum cu_err err;

	if (in->ui_groups != NULL) {
		const char *p[2] = {id, in->ui_groups};

		err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_USERS_SET_GROUPS, 2, p);
		if (err != CU_OK) {
			cu_api_db_fail(cx, err);
			return -1;
		}
	}
	if (in->ui_roles != NULL) {
		const char *p[2] = {id, in->ui_roles};

		err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_USERS_SET_ROLES, 2, p);
		if (err != CU_OK) {
			cu_api_db_fail(cx, err);
			return -1;
		}
	}
	return 0;
}

/* Sends the user id with status, as the detail route shows it. */
static void
user_send(struct cu_ctx *cx, int status, const char *id)
{
	const char *p[3] = {id, flag_arg(cx, "include_groups", 1) ? "true" : "false",
	                    flag_arg(cx, "include_roles", 1) ? "true" : "false"};
	PGresult *res = NULL;
	enum cu_err err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USERS_GET, 3, p);

	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_send_row(cx, status, res);
}

/* The snapshot text of user id (column 0), or NULL having answered (404 or database). */
static PGresult *
user_snapshot(struct cu_ctx *cx, enum cu_db_stmt st, const char *id)
{
	PGresult *res = NULL;
	enum cu_err err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, 1, &id);

	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return NULL;
	}
	if (PQntuples(res) == 0) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_error(cx, 404, "No User matches the given query.");
		return NULL;
	}
	return res;
}

/* --- routes -------------------------------------------------------------------------------- */

static const struct cu_api_sort user_sorts[] = {
    {"pk", "u.id"},
    {"id", "u.id"},
    {"username", "u.username"},
    {"name", "u.name"},
    {"is_active", "u.is_active"},
    {"last_login", "u.last_login"},
    {"date_joined", "u.date_joined"},
    {"email", "u.email"},
    {"path", "u.path"},
    {"type", "u.type"},
    {"uuid", "u.uuid"},
    {"password_change_date", "u.password_change_date"},
    {"last_updated", "u.last_updated"},
};

static const struct cu_api_filter user_filters[] = {
    {"username", CU_API_F_TEXT, "u.username = $%d"},
    {"email", CU_API_F_TEXT, "u.email = $%d"},
    {"name", CU_API_F_TEXT, "u.name = $%d"},
    {"is_active", CU_API_F_BOOL, "u.is_active = $%d::boolean"},
    /* authentik filters on the user's own groups here, not on inherited ones. */
    {"is_superuser", CU_API_F_BOOL,
     "EXISTS (SELECT 1 FROM group_users sgu JOIN groups sg ON sg.uuid = sgu.group_uuid WHERE "
     "sgu.user_id = u.id AND sg.is_superuser) = $%d::boolean"},
    {"uuid", CU_API_F_UUID, "u.uuid = $%d::uuid"},
    {"path", CU_API_F_TEXT, "u.path = $%d"},
    {"path_startswith", CU_API_F_TEXT, "starts_with(u.path, $%d)"},
    {"last_login__isnull", CU_API_F_BOOL, "(u.last_login IS NULL) = $%d::boolean"},
    {"groups_by_name", CU_API_F_TEXT_ANY,
     "EXISTS (SELECT 1 FROM group_users fgu JOIN groups fg ON fg.uuid = fgu.group_uuid WHERE "
     "fgu.user_id = u.id AND fg.name = ANY($%d::text[]))"},
    {"roles_by_name", CU_API_F_TEXT_ANY,
     "EXISTS (SELECT 1 FROM role_users fru JOIN roles fr ON fr.uuid = fru.role_uuid WHERE "
     "fru.user_id = u.id AND fr.name = ANY($%d::text[]))"},
};

/* Date filters: query parameter and condition. */
static const struct {
	const char *df_param;
	const char *df_sql;
} user_date_filters[] = {
    {"date_joined", "u.date_joined = $%d::timestamptz"},
    {"date_joined__gt", "u.date_joined > $%d::timestamptz"},
    {"date_joined__lt", "u.date_joined < $%d::timestamptz"},
    {"last_login", "u.last_login = $%d::timestamptz"},
    {"last_login__gt", "u.last_login > $%d::timestamptz"},
    {"last_login__lt", "u.last_login < $%d::timestamptz"},
    {"last_updated", "u.last_updated = $%d::timestamptz"},
    {"last_updated__gt", "u.last_updated > $%d::timestamptz"},
    {"last_updated__lt", "u.last_updated < $%d::timestamptz"},
};

/* Every value of a repeated query parameter, validated: UUIDs or one of choices. Returns the
 * array literal or NULL when absent; records an error when a value is bad. */
static const char *
multi_arg(struct cu_ctx *cx, struct cu_api_errors *e, const char *name, const char *const *choices)
{
	const struct cu_http_request *req = cx->cx_req;
	const char **vals = cu_arena_alloc(cx->cx_arena, (req->rq_nargs + 1) * sizeof(*vals));
	size_t i, k = 0, c;

	for (i = 0; i < req->rq_nargs; i++) {
		const char *v = req->rq_args[i].kv_val;
		int ok = 0;

		if (strcmp(req->rq_args[i].kv_key, name) != 0)
			continue;
		if (choices == NULL) {
			ok = cu_api_is_uuid(v);
		} else {
			for (c = 0; choices[c] != NULL; c++)
				ok |= strcmp(choices[c], v) == 0;
		}
		if (!ok) {
			cu_api_error(
			    e, name,
			    cu_arena_printf(cx->cx_arena,
			                    "Select a valid choice. %.64s is not one of the "
			                    "available choices.",
			                    v));
			return NULL;
		}
		vals[k++] = v;
	}
	return k > 0 ? cu_api_pg_array(cx, vals, k) : NULL;
}

void
cu_api_users_list(struct cu_ctx *cx)
{
	struct cu_api_list l;
	struct cu_api_errors e;
	struct cu_api_cond conds[16];
	size_t n = 0, i;
	const char *v;
	int r;

	if (cu_api_login(cx) != 0)
		return;
	cu_api_errors_init(&e, cx);
	r = cu_api_attributes_cond(cx, "u.attributes @> $%d::jsonb", &conds[n]);
	if (r < 0)
		return;
	n += (size_t)r;
	for (i = 0; i < sizeof(user_date_filters) / sizeof(user_date_filters[0]); i++) {
		const char *arg = cu_http_arg(cx->cx_req, user_date_filters[i].df_param);

		if (arg == NULL)
			continue;
		if ((v = ts_value(cx, arg)) == NULL) {
			cu_api_error(&e, user_date_filters[i].df_param, "Enter a valid date/time.");
			continue;
		}
		conds[n].ac_sql = user_date_filters[i].df_sql;
		conds[n++].ac_value = v;
	}
	if ((v = multi_arg(cx, &e, "type", user_types)) != NULL) {
		conds[n].ac_sql = "u.type = ANY($%d::text[])";
		conds[n++].ac_value = v;
	}
	if ((v = multi_arg(cx, &e, "groups_by_pk", NULL)) != NULL) {
		conds[n].ac_sql =
		    "EXISTS (SELECT 1 FROM group_users pgu WHERE pgu.user_id = u.id AND "
		    "pgu.group_uuid = ANY($%d::uuid[]))";
		conds[n++].ac_value = v;
	}
	if ((v = multi_arg(cx, &e, "roles_by_pk", NULL)) != NULL) {
		conds[n].ac_sql =
		    "EXISTS (SELECT 1 FROM role_users pru WHERE pru.user_id = u.id AND "
		    "pru.role_uuid = ANY($%d::uuid[]))";
		conds[n++].ac_value = v;
	}
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	memset(&l, 0, sizeof(l));
	r = flag_arg(cx, "include_groups", 1) * 2 + flag_arg(cx, "include_roles", 1);
	l.al_row = r == 3   ? CU_SQL_USER("true", "true")
	           : r == 2 ? CU_SQL_USER("true", "false")
	           : r == 1 ? CU_SQL_USER("false", "true")
	                    : CU_SQL_USER("false", "false");
	l.al_from = "FROM users u";
	l.al_key = "u.id";
	l.al_key_join = "JOIN users u ON u.id = cu_p.cu_key";
	l.al_pk = "u.id::text";
	l.al_view_perm = "authentik_core.view_user";
	/* The expression of the trigram index users_search (sql/0002_directory.sql). */
	l.al_search = "(u.username || ' ' || u.name || ' ' || u.email) ILIKE $%d";
	l.al_sorts = user_sorts;
	l.al_nsorts = sizeof(user_sorts) / sizeof(user_sorts[0]);
	l.al_default_sort = "username";
	l.al_tiebreak = "u.id";
	l.al_filters = user_filters;
	l.al_nfilters = sizeof(user_filters) / sizeof(user_filters[0]);
	cu_api_list_send(cx, &l, conds, n);
}

void
cu_api_users_get(struct cu_ctx *cx)
{
	const char *id;

	if (cu_api_login(cx) != 0)
		return;
	if ((id = id_param(cx)) == NULL) {
		cu_ctx_error(cx, 404, "No User matches the given query.");
		return;
	}
	if (cu_api_require(cx, "authentik_core.view_user", id) != 0)
		return;
	user_send(cx, 200, id);
}

void
cu_api_users_create(struct cu_ctx *cx)
{
	struct json_object *body = NULL;
	struct cu_api_errors e;
	struct user_input in;
	PGresult *res = NULL;
	const char *id, *p[8];
	enum cu_err err;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, "authentik_core.add_user", NULL) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	user_read(cx, &e, body, 1, NULL, &in);
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (user_check(cx, &e, &in, NULL) != 0)
		return;
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	p[0] = in.ui_username;
	p[1] = in.ui_name;
	p[2] = in.ui_email;
	p[3] = in.ui_is_active;
	p[4] = in.ui_last_login;
	p[5] = in.ui_path;
	p[6] = in.ui_type;
	p[7] = in.ui_attributes;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USERS_INSERT, 8, p);
	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(res)) {
		cu_api_reject(cx, &e, "username", "This field must be unique.");
		return;
	}
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return;
	}
	id = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
	if (user_set_links(cx, id, &in) != 0)
		return;
	err = cu_events_model(cx, "model_created", MODEL_APP, "user", id, in.ui_username, NULL);
	if (cu_api_commit(cx, err) != 0)
		return;
	user_send(cx, 201, id);
}

void
cu_api_users_update(struct cu_ctx *cx)
{
	struct json_object *body = NULL;
	struct cu_api_errors e;
	struct user_input in;
	PGresult *before = NULL, *after = NULL, *res = NULL;
	const char *id, *p[10];
	enum cu_err err;
	int full = cx->cx_req->rq_method == CU_HTTP_PUT;

	if (cu_api_login(cx) != 0)
		return;
	if ((id = id_param(cx)) == NULL) {
		cu_ctx_error(cx, 404, "No User matches the given query.");
		return;
	}
	if (cu_api_require(cx, "authentik_core.change_user", id) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	/* The row lock serialises concurrent writes: the later one wins, whole. */
	if ((before = user_snapshot(cx, CU_DB_STMT_USERS_LOCK, id)) == NULL)
		return;
	cu_api_errors_init(&e, cx);
	memset(&in, 0, sizeof(in));
	if (strcmp(cu_db_value(before, 0, 2), "internal_service_account") == 0)
		cu_api_error(&e, NULL, "Can't modify internal service account users");
	else
		user_read(cx, &e, body, full, cu_db_value(before, 0, 2), &in);
	if (!cu_api_errors_any(&e) && user_check(cx, &e, &in, id) != 0)
		return;
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	p[0] = id;
	p[1] = in.ui_username;
	p[2] = in.ui_name;
	p[3] = in.ui_email;
	p[4] = in.ui_is_active;
	p[5] = in.ui_last_login_set ? "true" : "false";
	p[6] = in.ui_last_login;
	p[7] = in.ui_path;
	p[8] = in.ui_type;
	p[9] = in.ui_attributes;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USERS_UPDATE, 10, p);
	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(res)) {
		cu_api_reject(cx, &e, "username", "This field must be unique.");
		return;
	}
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return;
	}
	if (user_set_links(cx, id, &in) != 0)
		return;
	if ((after = user_snapshot(cx, CU_DB_STMT_USERS_SNAPSHOT, id)) == NULL)
		return;
	err = cu_events_model(
	    cx, "model_updated", MODEL_APP, "user", id, cu_db_value(after, 0, 1),
	    cu_api_text_diff(cx, cu_db_value(before, 0, 0), cu_db_value(after, 0, 0)));
	if (cu_api_commit(cx, err) != 0)
		return;
	user_send(cx, 200, id);
}

void
cu_api_users_delete(struct cu_ctx *cx)
{
	PGresult *res = NULL;
	const char *id;
	enum cu_err err;

	if (cu_api_login(cx) != 0)
		return;
	if ((id = id_param(cx)) == NULL) {
		cu_ctx_error(cx, 404, "No User matches the given query.");
		return;
	}
	if (cu_api_require(cx, "authentik_core.delete_user", id) != 0)
		return;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USERS_DELETE, 1, &id);
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return;
	}
	if (PQntuples(res) == 0) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_error(cx, 404, "No User matches the given query.");
		return;
	}
	err = cu_events_model(cx, "model_deleted", MODEL_APP, "user", id, cu_db_value(res, 0, 0),
	                      NULL);
	if (cu_api_commit(cx, err) != 0)
		return;
	cu_api_no_content(cx);
}

void
cu_api_users_me(struct cu_ctx *cx)
{
	PGresult *res = NULL;
	const char *id;
	enum cu_err err;

	if (cu_api_login(cx) != 0)
		return;
	id = cx->cx_user->us_id_text;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USERS_ME, 1, &id);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (PQntuples(res) == 0) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	/* "original" appears only while impersonating, which custos does not offer yet. */
	{
		const char *text =
		    cu_arena_printf(cx->cx_arena, "{\"user\":%s}", cu_db_value(res, 0, 0));

		cu_http_send_json(cx->cx_resp, 200, text, strlen(text));
	}
}

void
cu_api_users_set_password(struct cu_ctx *cx)
{
	struct json_object *body = NULL;
	struct cu_api_errors e;
	struct cu_password_params pp;
	struct cu_user target, *self;
	char hash[CU_PASSWORD_MAX_ENCODED];
	const char *id, *pw = NULL, *p[2];
	PGresult *row = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0)
		return;
	if ((id = id_param(cx)) == NULL) {
		cu_ctx_error(cx, 404, "No User matches the given query.");
		return;
	}
	if (cu_api_require(cx, "authentik_core.reset_user_password", id) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	if (cu_api_field_string(&e, body, "password", 0, 0, 0, &pw) == 0)
		cu_api_error(&e, "password", "This field is required.");
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	pp.pp_memory_kib = (uint32_t)cx->cx_cfg->password_memory_kib;
	pp.pp_time_cost = (uint32_t)cx->cx_cfg->password_time_cost;
	pp.pp_parallelism = (uint32_t)cx->cx_cfg->password_parallelism;
	if (cu_password_hash(hash, sizeof(hash), pw, strlen(pw), &pp) != 0) {
		/* authentik answers a bare 400 when the password cannot be set. */
		cu_http_send_text(cx->cx_resp, 400, NULL, "", 0);
		return;
	}
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if ((row = user_snapshot(cx, CU_DB_STMT_USERS_LOCK, id)) == NULL)
		return;
	p[0] = id;
	p[1] = hash;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_USERS_SET_PASSWORD, 2, p);
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return;
	}
	/* authentik records password_set as done by the user whose password it is. */
	memset(&target, 0, sizeof(target));
	target.us_id = strtoll(id, NULL, 10);
	target.us_id_text = id;
	target.us_username = cu_db_value(row, 0, 1);
	target.us_email = cu_db_value(row, 0, 3);
	self = cx->cx_user;
	cx->cx_user = &target;
	err = cu_events_write(cx, "password_set", "authentik.events.signals", NULL);
	cx->cx_user = self;
	if (cu_api_commit(cx, err) != 0)
		return;
	cu_api_no_content(cx);
}

/* --- recovery links ------------------------------------------------------------------------ */

#define RECOVERY_EXPIRY_S (30 * 60) /* authentik's default_token_duration */
#define RECOVERY_TEMPLATE "email/password_reset"
#define RECOVERY_NO_USER "No User matches the given query."
#define RECOVERY_NO_FLOW "No recovery flow set."
#define RECOVERY_NOT_APPLICABLE "Recovery flow not applicable to user"
#define RECOVERY_NO_EMAIL "User does not have an email address set."
#define RECOVERY_NO_STAGE "Email stage not found."
#define RECOVERY_HOST_MAX 255
/* 9999-12-31 23:59:59 UTC, the last moment authentik's expiry (a Python datetime) can hold */
#define RECOVERY_LATEST 253402300799LL

/*
 * Stages a recovery link passes over: those that find out who the user is and prove the
 * address, when they lead the flow. The link is both (authentik's default recovery flow skips
 * them on a restored plan through its skip-if-restored policy, which custos's flows do not need
 * for the email stage's own links, lib/stages/email.c).
 */
static const char *const recovery_skipped[] = {"identificationstage", "emailstage", NULL};

/* The Host header lower-cased without its port, as the flow executor matches brands with it;
 * "" (the default brand) for one that is not UTF-8. */
static const char *
host_name(struct cu_ctx *cx)
{
	const char *h = cx->cx_req->rq_host != NULL ? cx->cx_req->rq_host : "", *end;
	size_t n = strlen(h), i;
	char *out;

	if (h[0] == '[')
		n = (end = strchr(h, ']')) != NULL ? (size_t)(end - h) + 1 : n;
	else if ((end = strchr(h, ':')) != NULL)
		n = (size_t)(end - h);
	if (n > RECOVERY_HOST_MAX)
		n = RECOVERY_HOST_MAX;
	out = cu_arena_strndup(cx->cx_arena, h, n);
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return cu_utf8_valid(out, strlen(out)) ? out : "";
}

/* scheme://host[:port] of this request for a recovery link; NULL when the Host header holds
 * anything but a host name or address and a port. */
static const char *
link_origin(struct cu_ctx *cx)
{
	static const char ok[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]";
	const char *h = cx->cx_req->rq_host;
	size_t n = h != NULL ? strlen(h) : 0;

	if (n == 0 || n > RECOVERY_HOST_MAX || strspn(h, ok) != n)
		return NULL;
	return cu_arena_printf(cx->cx_arena, "%s://%s", cx->cx_req->rq_https ? "https" : "http", h);
}

/*
 * A recovery link for the user with id, as authentik's _create_recovery_link makes one: the
 * recovery flow of the brand of this request's host, planned for the user as the pending user
 * of a browser that is not signed in, past recovery_skipped, and parked as a flow token
 * (cu_flow_token_for_user) valid for dur (authentik's "hours=3;minutes=1"; NULL: 30 minutes).
 * The link is absolute, on the host the caller reached custos by: the caller may make links
 * for this user anyway, so it may point wherever they came from once that is a plain host.
 * Writes the token only, in the caller's transaction when one is open. 0 with *link_out
 * (arena-owned) and *expires_out (Unix time); -1 having answered, the transaction rolled back.
 * No audit event: authentik records none for flow tokens, which it manages internally.
 */
static int
recovery_link(struct cu_ctx *cx, const char *id, const char *dur, const char **link_out,
              long long *expires_out)
{
	struct cu_api_errors e;
	const char *host, *origin, *slug, *key = NULL;
	long long seconds = RECOVERY_EXPIRY_S;
	PGresult *res = NULL;
	enum cu_err err;

	*link_out = NULL;
	*expires_out = 0;
	cu_api_errors_init(&e, cx);
	host = host_name(cx);
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USERS_RECOVERY_FLOW, 1, &host);
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return -1;
	}
	if (PQntuples(res) != 1) {
		cu_api_reject(cx, &e, NULL, RECOVERY_NO_FLOW);
		return -1;
	}
	slug = cu_db_value(res, 0, 0);
	if (dur != NULL && cu_config_timedelta(dur, &seconds) != 0) {
		cu_api_reject(cx, &e, "token_duration",
		              cu_arena_printf(
		                  cx->cx_arena,
		                  "%s is not in the correct format of 'hours=3;minutes=1'.", dur));
		return -1;
	}
	if (seconds > RECOVERY_LATEST - (long long)time(NULL)) {
		cu_api_reject(cx, &e, "token_duration",
		              "Ensure the link expires before the year 10000.");
		return -1;
	}
	if ((origin = link_origin(cx)) == NULL) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_error(cx, 400, "Invalid Host header.");
		return -1;
	}
	err = cu_flow_token_for_user(cx, slug, strtoll(id, NULL, 10), recovery_skipped, seconds,
	                             &key, expires_out);
	switch (err) {
	case CU_OK:
		break;
	case CU_ERR_NOT_FOUND: /* gone since the brand named it */
		cu_api_reject(cx, &e, NULL, RECOVERY_NO_FLOW);
		return -1;
	case CU_ERR_DENIED:
		cu_api_reject(cx, &e, NULL, RECOVERY_NOT_APPLICABLE);
		return -1;
	default:
		cu_api_db_fail(cx, err);
		return -1;
	}
	*link_out = cu_arena_printf(
	    cx->cx_arena, "%s%s", origin,
	    cu_flow_interface_url(cx, slug, cu_arena_printf(cx->cx_arena, "flow_token=%s", key)));
	return 0;
}

/* The user with id for a recovery link: username, name and email; NULL having answered 404. */
static PGresult *
recovery_user(struct cu_ctx *cx, const char *id)
{
	PGresult *res = NULL;
	enum cu_err err;

	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USERS_MAIL_TARGET, 1, &id);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return NULL;
	}
	if (PQntuples(res) != 1) {
		cu_ctx_error(cx, 404, RECOVERY_NO_USER);
		return NULL;
	}
	return res;
}

/* A recovery link shown to the admin who asked for it (authentik's recovery). */
void
cu_api_users_recovery(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *o;
	struct cu_api_errors e;
	const char *id, *dur = NULL, *link = NULL;
	long long expires;

	if (cu_api_login(cx) != 0)
		return;
	if ((id = id_param(cx)) == NULL) {
		cu_ctx_error(cx, 404, RECOVERY_NO_USER);
		return;
	}
	if (cu_api_require(cx, "authentik_core.reset_user_password", id) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	(void)cu_api_field_string(&e, body, "token_duration", 256, 0, 0, &dur);
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	if (recovery_user(cx, id) == NULL || recovery_link(cx, id, dur, &link, &expires) != 0)
		return;
	cu_log(CU_LOG_INFO, "recovery_link_created", CU_LS("user", id));
	o = cu_json_object(cx->cx_arena);
	cu_json_set_string(o, "link", link);
	cu_ctx_json(cx, 200, o);
}

/*
 * Mails the user a recovery link (authentik's recovery_email): the link is the one recovery/
 * shows, and the mail a task for the worker, written together.
 */
void
cu_api_users_recovery_email(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *args, *vars;
	struct cu_api_errors e;
	const char *id, *stage = NULL, *dur = NULL, *link = NULL;
	const char *username, *name, *email, *subject, *template;
	long long expires_at = 0;
	char message_id[37], expires[64];
	time_t until;
	struct tm tm;
	PGresult *res = NULL;
	enum cu_err err;
	int ok;

	if (cu_api_login(cx) != 0)
		return;
	if ((id = id_param(cx)) == NULL) {
		cu_ctx_error(cx, 404, RECOVERY_NO_USER);
		return;
	}
	if (cu_api_require(cx, "authentik_core.reset_user_password", id) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	if (cu_api_field_uuid(&e, body, "email_stage", 0, &stage) == 0)
		cu_api_error(&e, "email_stage", "This field is required.");
	(void)cu_api_field_string(&e, body, "token_duration", 256, 0, 0, &dur);
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	if ((res = recovery_user(cx, id)) == NULL)
		return;
	username = cu_db_value(res, 0, 0);
	name = cu_db_value(res, 0, 1);
	email = cu_db_value(res, 0, 2);
	if (email[0] == '\0') {
		cu_api_error(&e, NULL, RECOVERY_NO_EMAIL);
		cu_api_errors_send(cx, &e);
		return;
	}
	/* A stage the caller may not see is answered as one that does not exist. */
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USERS_EMAIL_STAGE, 1, &stage);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	ok = PQntuples(res) == 1 ? cu_auth_has_perm(cx, cx->cx_user,
	                                            "authentik_stages_email.view_emailstage", stage)
	                         : 0;
	if (ok < 0) {
		cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The database");
		return;
	}
	if (!ok) {
		cu_api_error(&e, NULL, RECOVERY_NO_STAGE);
		cu_api_errors_send(cx, &e);
		return;
	}
	subject = cu_db_value(res, 0, 0);
	template = cu_db_value(res, 0, 1);
	/* The link and the mail that carries it exist together or not at all: the worker sends
	 * what this transaction committed (lib/tasks.h). */
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (recovery_link(cx, id, dur, &link, &expires_at) != 0)
		return;
	until = (time_t)expires_at;
	if (gmtime_r(&until, &tm) == NULL ||
	    strftime(expires, sizeof(expires), "%Y-%m-%d %H:%M UTC", &tm) == 0)
		expires[0] = '\0';
	args = cu_json_object(cx->cx_arena);
	vars = json_object_new_object();
	cu_json_set_string(args, "to", email);
	cu_json_set_string(args, "to_name", name);
	cu_json_set_string(args, "template", template[0] != '\0' ? template : RECOVERY_TEMPLATE);
	/* The template's own Subject line applies when the stage names none. */
	if (subject[0] != '\0')
		cu_json_set_string(args, "subject", subject);
	cu_json_set_string(vars, "url", link);
	cu_json_set_string(vars, "user_name", name[0] != '\0' ? name : username);
	cu_json_set_string(vars, "username", username);
	cu_json_set_string(vars, "expires", expires);
	cu_json_set(args, "vars", vars);
	err = cu_tasks_enqueue(cx->cx_db, cx->cx_arena, CU_ACTOR_SEND_MAIL,
	                       cu_json_text(args, NULL), NULL, 0, message_id);
	if (cu_api_commit(cx, err) != 0)
		return;
	if (cx->cx_cache != NULL)
		cu_tasks_wake(cx->cx_cache, cx->cx_arena, message_id);
	cu_log(CU_LOG_INFO, "recovery_email_queued", CU_LS("user", id), CU_LS("task", message_id));
	cu_api_no_content(cx);
}

/* "%term%" with LIKE's special characters escaped. */
static const char *
like_any(struct cu_ctx *cx, const char *term)
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

void
cu_api_users_paths(struct cu_ctx *cx)
{
	const char *search, *p[3];
	PGresult *res = NULL;
	enum cu_err err;
	int all;

	if (cu_api_login(cx) != 0)
		return;
	all = cu_auth_has_perm(cx, cx->cx_user, "authentik_core.view_user", NULL);
	if (all < 0) {
		cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The database");
		return;
	}
	search = cu_http_arg(cx->cx_req, "search");
	p[0] = cx->cx_user->us_id_text;
	p[1] = all ? "true" : "false";
	p[2] = search != NULL && search[0] != '\0' ? like_any(cx, search) : NULL;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USERS_PATHS, 3, p);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	{
		const char *text =
		    cu_arena_printf(cx->cx_arena, "{\"paths\":%s}", cu_db_value(res, 0, 0));

		cu_http_send_json(cx->cx_resp, 200, text, strlen(text));
	}
}

/* Django's slugify for ASCII: keep [A-Za-z0-9_ -], lower-case, runs of spaces and hyphens
 * become one hyphen, no leading or trailing "-" or "_". */
static const char *
slugify(struct cu_ctx *cx, const char *s)
{
	size_t n = strlen(s), i, j = 0, start = 0;
	char *out = cu_arena_alloc(cx->cx_arena, n + 1);
	int dash = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '-' || c == '\t' || c == '\n' || c == '\r') {
			dash = 1;
			continue;
		}
		if (!(isalnum(c) && c < 128) && c != '_')
			continue;
		if (dash && j > 0)
			out[j++] = '-';
		dash = 0;
		out[j++] = (char)tolower(c);
	}
	out[j] = '\0';
	while (out[start] == '_' || out[start] == '-')
		start++;
	while (j > start && (out[j - 1] == '_' || out[j - 1] == '-'))
		out[--j] = '\0';
	return out + start;
}

void
cu_api_users_service_account(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *o;
	struct cu_api_errors e;
	char key[TOKEN_KEY_LEN + 1], digest[65];
	const char *name = NULL, *expires_in = NULL, *expires = NULL, *p[6], *uid_pk, *uid,
	           *group_pk = NULL, *ident;
	PGresult *res = NULL;
	enum cu_err err;
	int create_group = 0, expiring = 1, can_group = 0;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, "authentik_core.add_user", NULL) != 0 ||
	    cu_api_require(cx, "authentik_core.add_token", NULL) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	if (cu_api_field_string(&e, body, "name", USERNAME_MAX, 0, 0, &name) == 0)
		cu_api_error(&e, "name", "This field is required.");
	(void)cu_api_field_bool(&e, body, "create_group", &create_group);
	(void)cu_api_field_bool(&e, body, "expiring", &expiring);
	if (cu_api_field_string(&e, body, "expires", 0, 0, 0, &expires_in) == 1 &&
	    (expires = ts_value(cx, expires_in)) == NULL)
		cu_api_error(&e, "expires",
		             "Datetime has wrong format. Use one of these formats instead: "
		             "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].");
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	if (create_group) {
		can_group = cu_auth_has_perm(cx, cx->cx_user, "authentik_core.add_group", NULL);
		if (can_group < 0) {
			cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The database");
			return;
		}
	}
	ident = cu_arena_printf(cx->cx_arena, "service-account-%s-password", name);
	ident = slugify(cx, ident);
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	p[0] = name;
	p[1] = NULL;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USERS_USERNAME_TAKEN, 2, p);
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return;
	}
	if (PQntuples(res) > 0) {
		cu_api_reject(cx, &e, "name", "This field must be unique.");
		return;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USERS_TOKEN_TAKEN, 1, &ident);
	if (err == CU_OK && PQntuples(res) == 0 && create_group && can_group)
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USERS_SA_GROUP_TAKEN, 1,
		                 &name);
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return;
	}
	if (PQntuples(res) > 0) {
		cu_api_reject(cx, &e, NULL, "A user/group with these details already exists");
		return;
	}
	p[0] = name;
	p[1] = expiring ? "true" : "false";
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USERS_SA_INSERT, 2, p);
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return;
	}
	uid_pk = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
	uid = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 1));
	err = cu_events_model(cx, "model_created", MODEL_APP, "user", uid_pk, name, NULL);
	if (err == CU_OK && create_group && can_group) {
		p[0] = name;
		p[1] = uid_pk;
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USERS_SA_GROUP, 2, p);
		if (err == CU_OK) {
			group_pk = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
			err = cu_events_model(cx, "model_created", MODEL_APP, "group", group_pk,
			                      name, NULL);
		}
	}
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return;
	}
	cu_crypto_random_alnum(key, TOKEN_KEY_LEN);
	cu_auth_key_digest(digest, key, TOKEN_KEY_LEN);
	p[0] = ident;
	p[1] = key;
	p[2] = digest;
	p[3] = uid_pk;
	p[4] = expiring ? "true" : "false";
	p[5] = expires;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_USERS_SA_TOKEN, 6, p);
	if (err == CU_OK)
		err = cu_events_model(cx, "model_created", MODEL_APP, "token",
		                      cu_db_value(res, 0, 0), ident, NULL);
	if (cu_api_commit(cx, err) != 0)
		return;
	o = cu_json_object(cx->cx_arena);
	cu_json_set_string(o, "username", name);
	cu_json_set_string(o, "user_uid", uid);
	cu_json_set_int(o, "user_pk", strtoll(uid_pk, NULL, 10));
	if (group_pk != NULL)
		cu_json_set_string(o, "group_pk", group_pk);
	/* The key is shown here once, as authentik does; it is never logged. */
	cu_json_set_string(o, "token", key);
	cu_ctx_json(cx, 200, o);
}
