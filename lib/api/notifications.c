/*
 * /api/v3/events/rules/, transports/ and notifications/ as authentik's NotificationRuleViewSet,
 * NotificationTransportViewSet and NotificationViewSet (authentik/events/api/). Rules are
 * policy binding targets (their pbm_uuid is registered by sql/0041_notifications.sql's
 * triggers); notifications are seen and changed by their owner only.
 */
#include "api/notifications.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "api/common.h"
#include "auth.h"
#include "db.h"
#include "../events.h" /* lib/api/events.h is the API module */
#include "http.h"
#include "json.h"
#include "notify.h"
#include "server.h"
#include "../tasks.h" /* lib/api/tasks.h is the API module */

#define RULE_MAX_TRANSPORTS 256
#define NOTIFY_APP "authentik_events"

static const char *const severities[] = {"notice", "warning", "alert", NULL};
static const char *const modes[] = {"local", "webhook", "webhook_slack", "email", NULL};

/* --- lists -------------------------------------------------------------------------------- */

static const struct cu_api_sort rule_sorts[] = {
    {"name", "r.name"},
    {"severity", "r.severity"},
    {"destination_event_user", "r.destination_event_user"},
    {"pbm_uuid", "r.pbm_uuid"},
};

static const struct cu_api_filter rule_filters[] = {
    {"name", CU_API_F_TEXT, "r.name = $%d"},
    {"severity", CU_API_F_TEXT, "r.severity = $%d"},
    {"destination_group__name", CU_API_F_TEXT,
     "EXISTS (SELECT 1 FROM groups dg WHERE dg.uuid = r.destination_group AND dg.name = $%d)"},
};

static const struct cu_api_list rule_list = {
    .al_row = CU_SQL_NOTIFICATION_RULE,
    .al_from = "FROM notification_rules r",
    .al_pk = "r.pbm_uuid::text",
    .al_view_perm = "authentik_events.view_notificationrule",
    .al_search = "EXISTS (SELECT 1 FROM unnest(ARRAY[r.name, (SELECT dg.name FROM groups dg "
                 "WHERE dg.uuid = r.destination_group)]) AS f WHERE f ILIKE $%d)",
    .al_sorts = rule_sorts,
    .al_nsorts = sizeof(rule_sorts) / sizeof(rule_sorts[0]),
    .al_default_sort = "name",
    .al_tiebreak = "r.pbm_uuid",
    .al_filters = rule_filters,
    .al_nfilters = sizeof(rule_filters) / sizeof(rule_filters[0]),
};

static const struct cu_api_sort transport_sorts[] = {
    {"name", "t.name"},           {"mode", "t.mode"}, {"webhook_url", "t.webhook_url"},
    {"send_once", "t.send_once"}, {"uuid", "t.uuid"},
};

static const struct cu_api_filter transport_filters[] = {
    {"name", CU_API_F_TEXT, "t.name = $%d"},
    {"mode", CU_API_F_TEXT, "t.mode = $%d"},
    {"webhook_url", CU_API_F_TEXT, "t.webhook_url = $%d"},
    {"send_once", CU_API_F_BOOL, "t.send_once = $%d::boolean"},
};

static const struct cu_api_list transport_list = {
    .al_row = CU_SQL_NOTIFICATION_TRANSPORT,
    .al_from = "FROM notification_transports t",
    .al_pk = "t.uuid::text",
    .al_view_perm = "authentik_events.view_notificationtransport",
    .al_search = "EXISTS (SELECT 1 FROM unnest(ARRAY[t.name, t.mode, t.webhook_url]) AS f "
                 "WHERE f ILIKE $%d)",
    .al_sorts = transport_sorts,
    .al_nsorts = sizeof(transport_sorts) / sizeof(transport_sorts[0]),
    .al_default_sort = "name",
    .al_tiebreak = "t.uuid",
    .al_filters = transport_filters,
    .al_nfilters = sizeof(transport_filters) / sizeof(transport_filters[0]),
};

static const struct cu_api_sort notification_sorts[] = {
    {"created", "n.created"},
    {"severity", "n.severity"},
    {"seen", "n.seen"},
    {"body", "n.body"},
};

static const struct cu_api_filter notification_filters[] = {
    {"body", CU_API_F_TEXT, "n.body = $%d"},
    {"created", CU_API_F_TEXT, "n.created = $%d::timestamptz"},
    {"event", CU_API_F_UUID, "n.event = $%d::uuid"},
    {"seen", CU_API_F_BOOL, "n.seen = $%d::boolean"},
    {"severity", CU_API_F_TEXT, "n.severity = $%d"},
    {"user", CU_API_F_INT, "n.user_id = $%d::bigint"},
};

/* Visibility is the owner's alone (the condition the handler adds), not a permission. */
static const struct cu_api_list notification_list = {
    .al_row = CU_SQL_NOTIFICATION,
    .al_from = "FROM notifications n",
    .al_pk = "n.uuid::text",
    .al_view_perm = NULL,
    .al_search = "EXISTS (SELECT 1 FROM unnest(ARRAY[n.body, (SELECT ne.action FROM events ne "
                 "WHERE ne.event_uuid = n.event), (SELECT ne.\"user\" ->> 'username' FROM "
                 "events ne WHERE ne.event_uuid = n.event)]) AS f WHERE f ILIKE $%d)",
    .al_sorts = notification_sorts,
    .al_nsorts = sizeof(notification_sorts) / sizeof(notification_sorts[0]),
    .al_default_sort = "-created",
    .al_tiebreak = "n.uuid",
    .al_filters = notification_filters,
    .al_nfilters = sizeof(notification_filters) / sizeof(notification_filters[0]),
};

/* --- shared helpers ----------------------------------------------------------------------- */

/* Loads one row by its uuid path parameter: 0 with *res, or -1 having answered (404, 503). */
static int
load_row(struct cu_ctx *cx, enum cu_db_stmt st, const char *uuid, PGresult **res)
{
	enum cu_err err;

	if (uuid == NULL || !cu_api_is_uuid(uuid)) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, res, st, 1, &uuid);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
	if (PQntuples(*res) < 1) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	return 0;
}

static struct json_object *
row_json(struct cu_ctx *cx, PGresult *res)
{
	struct json_object *o = NULL;
	const char *text = cu_db_value(res, 0, 0);

	if (cu_json_parse(cx->cx_arena, text, strlen(text), &o) != CU_OK)
		return NULL;
	return o;
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

/* A unique violation of name as DRF words it: 1 answered, 0 not one. */
static int
unique_error(struct cu_ctx *cx, enum cu_err err, PGresult *res, const char *what)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	struct cu_api_errors e;

	if (err != CU_ERR_INVALID || state == NULL || strcmp(state, "23505") != 0)
		return 0;
	cu_api_errors_init(&e, cx);
	cu_api_error(&e, "name",
	             cu_arena_printf(cx->cx_arena, "%s with this name already exists.", what));
	cu_api_errors_send(cx, &e);
	return 1;
}

static void
fail(struct cu_ctx *cx, enum cu_err err)
{
	cu_db_rollback(cx->cx_db);
	cu_ctx_fail(cx, err, "The database");
}

/* "Invalid pk ..." for a reference that names nothing. */
static void
invalid_pk(struct cu_ctx *cx, struct cu_api_errors *e, const char *key, const char *pk)
{
	cu_api_error(
	    e, key,
	    cu_arena_printf(cx->cx_arena, "Invalid pk \"%s\" - object does not exist.", pk));
}

/* --- rules -------------------------------------------------------------------------------- */

/* destination_group: null or an existing group. 1 set, 0 absent, -1 recorded, -2 db down. */
static int
field_group(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
            struct json_object *eff)
{
	struct json_object *v = NULL;
	PGresult *res = NULL;
	const char *s;

	if (!json_object_object_get_ex(body, "destination_group", &v))
		return 0;
	if (v == NULL) {
		cu_json_set(eff, "destination_group", NULL);
		return 1;
	}
	if (!json_object_is_type(v, json_type_string)) {
		cu_api_error(e, "destination_group",
		             cu_arena_printf(cx->cx_arena,
		                             "Incorrect type. Expected pk value, received %s.",
		                             cu_api_py_type(v)));
		return -1;
	}
	s = json_object_get_string(v);
	if (!cu_api_is_uuid(s)) {
		cu_api_error(e, "destination_group", "Must be a valid UUID.");
		return -1;
	}
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_RULES_GROUP_EXISTS, 1, &s) !=
	    CU_OK)
		return -2;
	if (PQntuples(res) < 1) {
		invalid_pk(cx, e, "destination_group", s);
		return -1;
	}
	cu_json_set_string(eff, "destination_group", s);
	return 1;
}

/* transports: UUIDs of existing transports. Same results as field_group. */
static int
field_transports(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
                 struct json_object *eff)
{
	struct json_object *arr = NULL, *out;
	const char **items, *lit;
	PGresult *res = NULL;
	size_t i, n;
	int r;

	r = cu_api_field_array(e, body, "transports", &arr);
	if (r <= 0)
		return r;
	n = json_object_array_length(arr);
	if (n > RULE_MAX_TRANSPORTS) {
		cu_api_error(e, "transports", "Too many items.");
		return -1;
	}
	items = cu_arena_alloc(cx->cx_arena, (n + 1) * sizeof(*items));
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);

		if (v == NULL || !json_object_is_type(v, json_type_string)) {
			cu_api_error(
			    e, "transports",
			    cu_arena_printf(cx->cx_arena,
			                    "Incorrect type. Expected pk value, received %s.",
			                    cu_api_py_type(v)));
			return -1;
		}
		items[i] = json_object_get_string(v);
		if (!cu_api_is_uuid(items[i])) {
			cu_api_error(e, "transports", "Must be a valid UUID.");
			return -1;
		}
	}
	lit = cu_api_pg_array(cx, items, n);
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_RULES_MISSING_TRANSPORT, 1,
	               &lit) != CU_OK)
		return -2;
	if (PQntuples(res) > 0) {
		invalid_pk(cx, e, "transports", cu_db_value(res, 0, 0));
		return -1;
	}
	out = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(out, json_object_new_string(items[i]));
	cu_json_set(eff, "transports", out);
	return 1;
}

/* Overlays the body on eff: 0, -1 errors recorded, -2 database down. */
static int
rule_read_body(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
               struct json_object *eff, int name_required)
{
	const char *s = NULL;
	int b;

	if (cu_api_field_string(e, body, "name", 0, 0, 0, &s) > 0)
		cu_json_set_string(eff, "name", s);
	else if (name_required && !json_object_object_get_ex(body, "name", NULL))
		cu_api_error(e, "name", "This field is required.");
	if (cu_api_field_choice(e, body, "severity", severities, &s) > 0)
		cu_json_set_string(eff, "severity", s);
	if (cu_api_field_bool(e, body, "destination_event_user", &b) > 0)
		cu_json_set_bool(eff, "destination_event_user", b);
	if (field_group(cx, e, body, eff) == -2 || field_transports(cx, e, body, eff) == -2)
		return -2;
	return cu_api_errors_any(e) ? -1 : 0;
}

static const char *
rule_transports(struct cu_ctx *cx, struct json_object *eff)
{
	struct json_object *arr = NULL;
	const char **items;
	size_t i, n;

	if (!json_object_object_get_ex(eff, "transports", &arr) || arr == NULL)
		return "{}";
	n = json_object_array_length(arr);
	items = cu_arena_alloc(cx->cx_arena, (n + 1) * sizeof(*items));
	for (i = 0; i < n; i++)
		items[i] = json_object_get_string(json_object_array_get_idx(arr, i));
	return cu_api_pg_array(cx, items, n);
}

/* Writes eff (insert when uuid is NULL) with its transports and the event; answers. */
static void
rule_write(struct cu_ctx *cx, struct json_object *eff, const char *uuid, struct json_object *before)
{
	static const char *const skip[] = {"pk", "destination_group_obj", NULL};
	const char *p[5], *tp[2];
	struct json_object *after = NULL;
	PGresult *res = NULL;
	enum cu_err err;

	p[0] = uuid;
	p[1] = eff_text(eff, "name");
	p[2] = eff_text(eff, "severity");
	p[3] = eff_text(eff, "destination_group");
	p[4] = eff_bool(eff, "destination_event_user");
	if (uuid == NULL)
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_RULES_INSERT, 4, p + 1);
	else
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_RULES_UPDATE, 5, p);
	if (err != CU_OK) {
		cu_db_rollback(cx->cx_db);
		if (!unique_error(cx, err, res, "notification rule"))
			cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (uuid == NULL)
		uuid = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
	tp[0] = uuid;
	tp[1] = rule_transports(cx, eff);
	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_RULES_SET_TRANSPORTS, 2, tp);
	if (err != CU_OK) {
		fail(cx, err);
		return;
	}
	if (load_row(cx, CU_DB_STMT_RULES_GET, uuid, &res) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	after = row_json(cx, res);
	err = cu_events_model(
	    cx, before == NULL ? "model_created" : "model_updated", NOTIFY_APP, "notificationrule",
	    uuid, cu_arena_printf(cx->cx_arena, "Notification Rule %s", cu_db_value(res, 0, 2)),
	    cu_api_json_diff(cx, before, after, skip));
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK) {
		fail(cx, err);
		return;
	}
	cu_api_send_row(cx, before == NULL ? 201 : 200, res);
}

static int
rule_find(struct cu_ctx *cx, const char *perm, PGresult **res)
{
	if (load_row(cx, CU_DB_STMT_RULES_GET, cu_ctx_param(cx, "pbm_uuid"), res) != 0)
		return -1;
	return cu_api_require(cx, perm, cu_db_value(*res, 0, 1));
}

void
cu_api_rules_list(struct cu_ctx *cx)
{
	if (cu_api_login(cx) != 0)
		return;
	cu_api_list_send(cx, &rule_list, NULL, 0);
}

void
cu_api_rules_get(struct cu_ctx *cx)
{
	PGresult *res = NULL;

	if (cu_api_login(cx) != 0 ||
	    rule_find(cx, "authentik_events.view_notificationrule", &res) != 0)
		return;
	cu_api_send_row(cx, 200, res);
}

/* The rest of a request that has read its body into eff: errors, or the write. */
static void
finish(struct cu_ctx *cx, struct cu_api_errors *e, int r,
       void (*write)(struct cu_ctx *, struct json_object *, const char *, struct json_object *),
       struct json_object *eff, const char *uuid, struct json_object *before)
{
	if (r == -2) {
		fail(cx, CU_ERR_UNAVAILABLE);
		return;
	}
	if (cu_api_errors_any(e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, e);
		return;
	}
	write(cx, eff, uuid, before);
}

void
cu_api_rules_create(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *eff;
	struct cu_api_errors e;
	enum cu_err err;
	int r;

	if (cu_api_login(cx) != 0 ||
	    cu_api_require(cx, "authentik_events.add_notificationrule", NULL) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	eff = cu_json_object(cx->cx_arena);
	cu_json_set_string(eff, "severity", "notice");
	cu_json_set_bool(eff, "destination_event_user", 0);
	cu_api_errors_init(&e, cx);
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	r = rule_read_body(cx, &e, body, eff, 1);
	finish(cx, &e, r, rule_write, eff, NULL, NULL);
}

void
cu_api_rules_update(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *before, *eff;
	PGresult *res = NULL;
	struct cu_api_errors e;
	const char *uuid;
	enum cu_err err;
	int r;

	if (cu_api_login(cx) != 0 ||
	    rule_find(cx, "authentik_events.change_notificationrule", &res) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	uuid = cu_db_value(res, 0, 1);
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (load_row(cx, CU_DB_STMT_RULES_LOCK, uuid, &res) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	before = row_json(cx, res);
	eff = row_json(cx, res);
	if (before == NULL || eff == NULL) {
		fail(cx, CU_ERR_INTERNAL);
		return;
	}
	cu_api_errors_init(&e, cx);
	r = rule_read_body(cx, &e, body, eff, cx->cx_req->rq_method == CU_HTTP_PUT);
	finish(cx, &e, r, rule_write, eff, uuid, before);
}

void
cu_api_rules_delete(struct cu_ctx *cx)
{
	static const char *const skip[] = {"pk", "destination_group_obj", NULL};
	PGresult *res = NULL;
	const char *uuid;
	enum cu_err err;

	if (cu_api_login(cx) != 0 ||
	    rule_find(cx, "authentik_events.delete_notificationrule", &res) != 0)
		return;
	uuid = cu_db_value(res, 0, 1);
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (load_row(cx, CU_DB_STMT_RULES_LOCK, uuid, &res) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_RULES_DELETE, 1, &uuid);
	if (err == CU_OK)
		err = cu_events_model(
		    cx, "model_deleted", NOTIFY_APP, "notificationrule", uuid,
		    cu_arena_printf(cx->cx_arena, "Notification Rule %s", cu_db_value(res, 0, 2)),
		    cu_api_json_diff(cx, row_json(cx, res), NULL, skip));
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK) {
		fail(cx, err);
		return;
	}
	cu_api_no_content(cx);
}

/* --- transports --------------------------------------------------------------------------- */

/* Django's URLValidator as DomainlessURLValidator relaxes it: http or https, a host (no TLD
 * needed), no whitespace. */
static int
webhook_url_valid(const char *s)
{
	const char *host;
	size_t i;

	if (strncasecmp(s, "http://", 7) == 0)
		host = s + 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		host = s + 8;
	else
		return 0;
	if (*host == '\0' || *host == '/' || *host == '?' || *host == '#' || *host == ':')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return 0;
	return 1;
}

/* A property mapping reference: null only, as custos has no webhook mappings yet. */
static void
field_mapping(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body, const char *key,
              struct json_object *eff)
{
	const char *s = NULL;

	if (cu_api_field_uuid(e, body, key, 1, &s) <= 0)
		return;
	if (s == NULL)
		cu_json_set(eff, key, NULL);
	else
		invalid_pk(cx, e, key, s);
}

static int
transport_read_body(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
                    struct json_object *eff, int name_required)
{
	const char *s = NULL, *mode = NULL, *url = NULL;
	int b, has_url;

	if (cu_api_field_string(e, body, "name", 0, 0, 0, &s) > 0)
		cu_json_set_string(eff, "name", s);
	else if (name_required && !json_object_object_get_ex(body, "name", NULL))
		cu_api_error(e, "name", "This field is required.");
	if (cu_api_field_choice(e, body, "mode", modes, &mode) > 0)
		cu_json_set_string(eff, "mode", mode);
	has_url = cu_api_field_string(e, body, "webhook_url", 0, 1, 0, &url);
	if (has_url > 0) {
		if (url[0] != '\0' && !webhook_url_valid(url))
			cu_api_error(e, "webhook_url", "Enter a valid URL.");
		else
			cu_json_set_string(eff, "webhook_url", url);
	}
	field_mapping(cx, e, body, "webhook_mapping_body", eff);
	field_mapping(cx, e, body, "webhook_mapping_headers", eff);
	if (cu_api_field_string(e, body, "email_subject_prefix", 0, 1, 0, &s) > 0)
		cu_json_set_string(eff, "email_subject_prefix", s);
	if (cu_api_field_string(e, body, "email_template", 0, 0, 0, &s) > 0)
		cu_json_set_string(eff, "email_template", s);
	if (cu_api_field_bool(e, body, "send_once", &b) > 0)
		cu_json_set_bool(eff, "send_once", b);
	/* NotificationTransportSerializer.validate looks at the request's own fields only. */
	if (mode != NULL && (strcmp(mode, "webhook") == 0 || strcmp(mode, "webhook_slack") == 0) &&
	    has_url >= 0 && (url == NULL || url[0] == '\0'))
		cu_api_error(e, "webhook_url", "Webhook URL may not be empty.");
	return cu_api_errors_any(e) ? -1 : 0;
}

static void
transport_write(struct cu_ctx *cx, struct json_object *eff, const char *uuid,
                struct json_object *before)
{
	static const char *const skip[] = {"pk", "mode_verbose", NULL};
	const char *p[9];
	PGresult *res = NULL;
	enum cu_err err;

	p[0] = uuid;
	p[1] = eff_text(eff, "name");
	p[2] = eff_text(eff, "mode");
	p[3] = eff_text(eff, "webhook_url");
	p[4] = eff_text(eff, "webhook_mapping_body");
	p[5] = eff_text(eff, "webhook_mapping_headers");
	p[6] = eff_text(eff, "email_subject_prefix");
	p[7] = eff_text(eff, "email_template");
	p[8] = eff_bool(eff, "send_once");
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res,
	                 uuid == NULL ? CU_DB_STMT_TRANSPORTS_INSERT : CU_DB_STMT_TRANSPORTS_UPDATE,
	                 9, p);
	if (err != CU_OK) {
		cu_db_rollback(cx->cx_db);
		if (!unique_error(cx, err, res, "notification transport"))
			cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (uuid == NULL)
		uuid = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
	if (load_row(cx, CU_DB_STMT_TRANSPORTS_GET, uuid, &res) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	err = cu_events_model(
	    cx, before == NULL ? "model_created" : "model_updated", NOTIFY_APP,
	    "notificationtransport", uuid,
	    cu_arena_printf(cx->cx_arena, "Notification Transport %s", cu_db_value(res, 0, 2)),
	    cu_api_json_diff(cx, before, row_json(cx, res), skip));
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK) {
		fail(cx, err);
		return;
	}
	cu_api_send_row(cx, before == NULL ? 201 : 200, res);
}

static int
transport_find(struct cu_ctx *cx, const char *perm, PGresult **res)
{
	if (load_row(cx, CU_DB_STMT_TRANSPORTS_GET, cu_ctx_param(cx, "uuid"), res) != 0)
		return -1;
	return cu_api_require(cx, perm, cu_db_value(*res, 0, 1));
}

void
cu_api_transports_list(struct cu_ctx *cx)
{
	if (cu_api_login(cx) != 0)
		return;
	cu_api_list_send(cx, &transport_list, NULL, 0);
}

void
cu_api_transports_get(struct cu_ctx *cx)
{
	PGresult *res = NULL;

	if (cu_api_login(cx) != 0 ||
	    transport_find(cx, "authentik_events.view_notificationtransport", &res) != 0)
		return;
	cu_api_send_row(cx, 200, res);
}

void
cu_api_transports_create(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *eff;
	struct cu_api_errors e;
	enum cu_err err;
	int r;

	if (cu_api_login(cx) != 0 ||
	    cu_api_require(cx, "authentik_events.add_notificationtransport", NULL) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	/* The model's defaults (sql/0041_notifications.sql holds the same). */
	eff = cu_json_object(cx->cx_arena);
	cu_json_set_string(eff, "mode", "local");
	cu_json_set_string(eff, "webhook_url", "");
	cu_json_set(eff, "webhook_mapping_body", NULL);
	cu_json_set(eff, "webhook_mapping_headers", NULL);
	cu_json_set_string(eff, "email_subject_prefix", "authentik Notification: ");
	cu_json_set_string(eff, "email_template", "email/event_notification");
	cu_json_set_bool(eff, "send_once", 0);
	cu_api_errors_init(&e, cx);
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	r = transport_read_body(cx, &e, body, eff, 1);
	finish(cx, &e, r, transport_write, eff, NULL, NULL);
}

void
cu_api_transports_update(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *before, *eff;
	PGresult *res = NULL;
	struct cu_api_errors e;
	const char *uuid;
	enum cu_err err;
	int r;

	if (cu_api_login(cx) != 0 ||
	    transport_find(cx, "authentik_events.change_notificationtransport", &res) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	uuid = cu_db_value(res, 0, 1);
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (load_row(cx, CU_DB_STMT_TRANSPORTS_LOCK, uuid, &res) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	before = row_json(cx, res);
	eff = row_json(cx, res);
	if (before == NULL || eff == NULL) {
		fail(cx, CU_ERR_INTERNAL);
		return;
	}
	cu_api_errors_init(&e, cx);
	r = transport_read_body(cx, &e, body, eff, cx->cx_req->rq_method == CU_HTTP_PUT);
	finish(cx, &e, r, transport_write, eff, uuid, before);
}

void
cu_api_transports_delete(struct cu_ctx *cx)
{
	static const char *const skip[] = {"pk", "mode_verbose", NULL};
	PGresult *res = NULL;
	const char *uuid;
	enum cu_err err;

	if (cu_api_login(cx) != 0 ||
	    transport_find(cx, "authentik_events.delete_notificationtransport", &res) != 0)
		return;
	uuid = cu_db_value(res, 0, 1);
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (load_row(cx, CU_DB_STMT_TRANSPORTS_LOCK, uuid, &res) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_TRANSPORTS_DELETE, 1, &uuid);
	if (err == CU_OK)
		err =
		    cu_events_model(cx, "model_deleted", NOTIFY_APP, "notificationtransport", uuid,
		                    cu_arena_printf(cx->cx_arena, "Notification Transport %s",
		                                    cu_db_value(res, 0, 2)),
		                    cu_api_json_diff(cx, row_json(cx, res), NULL, skip));
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK) {
		fail(cx, err);
		return;
	}
	cu_api_no_content(cx);
}

/*
 * test/: authentik writes a notification_test event and sends "Test Notification from
 * transport <name>" to the requesting user through the transport, inline. Local and email
 * commit with the event; a webhook is posted after the event's commit, so no transaction is
 * held open across the network. A failed webhook answers 500 with what went wrong, as a JSON
 * string.
 */
void
cu_api_transports_test(struct cu_ctx *cx)
{
	struct json_object *ctxobj, *out, *msgs, *event = NULL;
	struct cu_notify_msg m;
	PGresult *res = NULL, *ev = NULL;
	const char *mode, *url, *p[6];
	char event_uuid[37], mid[37], answer[CU_NOTIFY_ANSWER_MAX];
	enum cu_err err;
	long status = 0;

	if (cu_api_login(cx) != 0 ||
	    transport_find(cx, "authentik_events.change_notificationtransport", &res) != 0)
		return;
	mode = cu_db_value(res, 0, 3);
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (load_row(cx, CU_DB_STMT_TRANSPORTS_GET, cu_db_value(res, 0, 1), &res) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	ctxobj = cu_json_object(cx->cx_arena);
	cu_json_set_string(ctxobj, "foo", "bar");
	err = cu_events_write_uuid(cx, "notification_test",
	                           "authentik.events.api.notification_transports", ctxobj,
	                           event_uuid);
	if (err == CU_OK) {
		const char *id = event_uuid;

		err = cu_db_exec(cx->cx_db, cx->cx_arena, &ev, CU_DB_STMT_NOTIFY_EVENT, 1, &id);
	}
	if (err != CU_OK || PQntuples(ev) != 1 ||
	    cu_json_parse(cx->cx_arena, cu_db_value(ev, 0, 0), strlen(cu_db_value(ev, 0, 0)),
	                  &event) != CU_OK) {
		fail(cx, err != CU_OK ? err : CU_ERR_INTERNAL);
		return;
	}
	memset(&m, 0, sizeof(m));
	m.nm_severity = "notice";
	m.nm_body = cu_arena_printf(cx->cx_arena, "Test Notification from transport %s",
	                            cu_db_value(res, 0, 2));
	m.nm_username = cx->cx_user->us_username;
	m.nm_email = cx->cx_user->us_email != NULL ? cx->cx_user->us_email : "";
	m.nm_name = cx->cx_user->us_name != NULL ? cx->cx_user->us_name : "";
	m.nm_superuser = cx->cx_user->us_is_superuser;
	m.nm_event = event;
	m.nm_transport = cu_db_value(res, 0, 2);
	msgs = json_object_new_array();
	mid[0] = '\0';
	if (strcmp(mode, "local") == 0) {
		p[0] = m.nm_severity;
		p[1] = m.nm_body;
		p[2] = NULL;
		p[3] = NULL;
		p[4] = event_uuid;
		p[5] = cx->cx_user->us_id_text;
		err =
		    cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_NOTIFY_LOCAL_INSERT, 6, p);
	} else if (strcmp(mode, "email") == 0) {
		struct json_object *t = row_json(cx, res);
		const char *args =
		    t == NULL
		        ? NULL
		        : cu_notify_mail_args(cx->cx_arena, &m, eff_text(t, "email_subject_prefix"),
		                              eff_text(t, "email_template"));

		if (args != NULL)
			err = cu_tasks_enqueue(cx->cx_db, cx->cx_arena, CU_ACTOR_SEND_MAIL, args,
			                       NULL, 0, mid);
	}
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK) {
		json_object_put(msgs);
		fail(cx, err);
		return;
	}
	if (mid[0] != '\0')
		cu_tasks_wake(cx->cx_cache, cx->cx_arena, mid);
	if (strcmp(mode, "webhook") == 0 || strcmp(mode, "webhook_slack") == 0) {
		const char *json = strcmp(mode, "webhook") == 0
		                       ? cu_notify_webhook_body(cx->cx_arena, &m)
		                       : cu_notify_slack_body(cx->cx_arena, &m);
		struct json_object *row = row_json(cx, res);

		url = row != NULL ? eff_text(row, "webhook_url") : NULL;
		if (url == NULL ||
		    cu_notify_post(url, json, &status, answer, sizeof(answer)) != CU_NOTIFY_SENT) {
			json_object_put(msgs);
			if (url == NULL)
				snprintf(answer, sizeof(answer), "no webhook URL");
			else if (status != 0 && answer[0] == '\0')
				snprintf(answer, sizeof(answer), "HTTP %ld", status);
			cu_ctx_json(cx, 500,
			            cu_json_adopt(cx->cx_arena, json_object_new_string(answer)));
			return;
		}
		json_object_array_add(
		    msgs, json_object_new_string(cu_arena_printf(cx->cx_arena, "%ld", status)));
		json_object_array_add(msgs, json_object_new_string(answer));
	}
	out = cu_json_object(cx->cx_arena);
	cu_json_set(out, "messages", msgs);
	cu_ctx_json(cx, 200, out);
}

/* --- notifications ------------------------------------------------------------------------ */

/* The caller's own notification: 0 with *res, or -1 having answered (404 for anyone else's). */
static int
notification_find(struct cu_ctx *cx, enum cu_db_stmt st, PGresult **res)
{
	const char *p[2];
	enum cu_err err;

	p[0] = cu_ctx_param(cx, "uuid");
	p[1] = cx->cx_user->us_id_text;
	if (p[0] == NULL || !cu_api_is_uuid(p[0])) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, res, st, 2, p);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
	if (PQntuples(*res) < 1) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	return 0;
}

void
cu_api_notifications_list(struct cu_ctx *cx)
{
	struct cu_api_cond own;

	if (cu_api_login(cx) != 0)
		return;
	own.ac_sql = "n.user_id = $%d::bigint";
	own.ac_value = cx->cx_user->us_id_text;
	cu_api_list_send(cx, &notification_list, &own, 1);
}

void
cu_api_notifications_get(struct cu_ctx *cx)
{
	PGresult *res = NULL;

	if (cu_api_login(cx) != 0 || notification_find(cx, CU_DB_STMT_NOTIFICATIONS_GET, &res) != 0)
		return;
	cu_api_send_row(cx, 200, res);
}

/*
 * PUT and PATCH change seen only; the other writable fields of the schema (hyperlink, its
 * label, event) are what the notification was made with and stay. No audit event: authentik's
 * audit middleware ignores notifications.
 */
void
cu_api_notifications_update(struct cu_ctx *cx)
{
	struct json_object *body = NULL;
	struct cu_api_errors e;
	PGresult *res = NULL;
	const char *p[2];
	enum cu_err err;
	int seen = 0, r;

	if (cu_api_login(cx) != 0 ||
	    notification_find(cx, CU_DB_STMT_NOTIFICATIONS_GET, &res) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	r = cu_api_field_bool(&e, body, "seen", &seen);
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (notification_find(cx, CU_DB_STMT_NOTIFICATIONS_LOCK, &res) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	p[0] = cu_db_value(res, 0, 1);
	p[1] = seen ? "true" : "false";
	err = CU_OK;
	if (r > 0)
		err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_NOTIFICATIONS_SET_SEEN,
		                 2, p);
	if (err == CU_OK && notification_find(cx, CU_DB_STMT_NOTIFICATIONS_GET, &res) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK) {
		fail(cx, err);
		return;
	}
	cu_api_send_row(cx, 200, res);
}

void
cu_api_notifications_delete(struct cu_ctx *cx)
{
	PGresult *res = NULL;
	const char *uuid;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || notification_find(cx, CU_DB_STMT_NOTIFICATIONS_GET, &res) != 0)
		return;
	uuid = cu_db_value(res, 0, 1);
	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_NOTIFICATIONS_DELETE, 1, &uuid);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_no_content(cx);
}

void
cu_api_notifications_mark_all_seen(struct cu_ctx *cx)
{
	const char *id;
	enum cu_err err;

	if (cu_api_login(cx) != 0)
		return;
	id = cx->cx_user->us_id_text;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_NOTIFICATIONS_MARK_ALL_SEEN, 1,
	                 &id);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_no_content(cx);
}
