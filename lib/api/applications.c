/*
 * /api/v3/core/applications/ as authentik's ApplicationViewSet
 * (authentik/core/api/applications.py): applications by slug.
 *
 * Access to an application is decided by its policy bindings, with authentik's rule for an
 * application that has none (the core_default_app_access flag, true by default): every user may
 * use it. The list follows authentik: it shows the applications the user may access (not the
 * ones it holds view_application on), each page filtered by the policy engine after paging (so
 * a page may hold fewer rows than its size, as in authentik); a superuser's
 * superuser_full_list=true shows them all, and for_user= shows another user's (who needs
 * view_user_applications on that user). Only applications with enabled bindings run the
 * engine: the page's row query says which. Reading one application, and every write, goes by
 * RBAC as in authentik.
 */
#include "api/applications.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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
#include "policies/engine.h"
#include "server.h"

static const char *const policy_engine_modes[] = {"all", "any", NULL};

/* authentik's Application.reserved_slugs: names the OAuth2 provider's endpoints take. */
static const char *const reserved_slugs[] = {"authorize",  "token",  "device", "userinfo",
                                             "introspect", "revoke", NULL};

static const struct cu_api_sort application_sorts[] = {
    {"name", "a.name"},
    {"slug", "a.slug"},
    {"group", "a.\"group\""},
    {"meta_launch_url", "a.meta_launch_url"},
    {"meta_description", "a.meta_description"},
    {"meta_publisher", "a.meta_publisher"},
    {"open_in_new_tab", "a.open_in_new_tab"},
    {"policy_engine_mode", "a.policy_engine_mode"},
    {"provider", "a.provider_id"},
    {"pk", "a.uuid"},
};

static const struct cu_api_filter application_filters[] = {
    {"name", CU_API_F_TEXT, "a.name = $%d"},
    {"slug", CU_API_F_TEXT, "a.slug = $%d"},
    {"group", CU_API_F_TEXT, "a.\"group\" = $%d"},
    {"meta_description", CU_API_F_TEXT, "a.meta_description = $%d"},
    {"meta_launch_url", CU_API_F_TEXT, "a.meta_launch_url = $%d"},
    {"meta_publisher", CU_API_F_TEXT, "a.meta_publisher = $%d"},
};

/* After the JSON, what access needs (see may_access): uuid, engine mode, whether any enabled
 * binding exists. A plain list sends column 0 only. */
static const struct cu_api_list application_list = {
    .al_row = CU_SQL_APPLICATION ", a.uuid::text, a.policy_engine_mode, EXISTS (SELECT 1 FROM "
                                 "policy_bindings pb WHERE pb.target = a.uuid AND pb.enabled)",
    .al_from = "FROM applications a",
    .al_pk = "a.uuid::text",
    /* Visibility is by policy (see the top of this file), not by view_application. */
    .al_view_perm = NULL,
    .al_search = "EXISTS (SELECT 1 FROM unnest(ARRAY[a.name, a.slug, a.meta_launch_url, "
                 "a.meta_description, a.meta_publisher, a.\"group\"]) AS f WHERE f ILIKE $%d)",
    .al_sorts = application_sorts,
    .al_nsorts = sizeof(application_sorts) / sizeof(application_sorts[0]),
    .al_default_sort = "name",
    .al_tiebreak = "a.uuid",
    .al_filters = application_filters,
    .al_nfilters = sizeof(application_filters) / sizeof(application_filters[0]),
};

struct application {
	PGresult *ap_res;
	const char *ap_uuid;
	const char *ap_snapshot;
	const char *ap_name;
};

/* 0 with *a loaded, or -1 having answered (404, 503). */
static int
application_load(struct cu_ctx *cx, enum cu_db_stmt st, const char *key, struct application *a)
{
	PGresult *res = NULL;
	enum cu_err err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, 1, &key);

	memset(a, 0, sizeof(*a));
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
	if (PQntuples(res) < 1) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	a->ap_res = res;
	a->ap_uuid = cu_db_value(res, 0, 1);
	a->ap_snapshot = cu_db_value(res, 0, 2);
	a->ap_name = cu_db_value(res, 0, 3);
	return 0;
}

/* The slug of the path, then perm on that application: 0, or -1 having answered. */
static int
application_find(struct cu_ctx *cx, const char *perm, struct application *a)
{
	if (application_load(cx, CU_DB_STMT_APPLICATIONS_GET, cu_ctx_param(cx, "slug"), a) != 0)
		return -1;
	return cu_api_require(cx, perm, a->ap_uuid);
}

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

/*
 * authentik's DomainlessFormattedURLValidator, in shape: a scheme it accepts, "://", optional
 * user info, a host (a name without a dot, an address, or a name holding %(field)s formatting),
 * an optional port, then a path, query or fragment; no whitespace anywhere.
 */
static int
valid_launch_url(const char *s)
{
	static const char *const schemes[] = {"http", "https", "blank", "ftp",
	                                      "ftps", "ssh",   "sftp",  NULL};
	const char *sep = strstr(s, "://"), *p, *host, *at, *end;
	size_t i, n;
	int ok = 0;

	if (sep == NULL)
		return 0;
	n = (size_t)(sep - s);
	for (i = 0; schemes[i] != NULL; i++)
		if (strlen(schemes[i]) == n && strncasecmp(s, schemes[i], n) == 0)
			ok = 1;
	if (!ok)
		return 0;
	for (p = s; *p != '\0'; p++)
		if (isspace((unsigned char)*p))
			return 0;
	host = sep + 3;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	if (at != NULL)
		host = at + 1;
	if (host < end && *host == '[') {
		const char *close = memchr(host, ']', (size_t)(end - host));

		if (close == NULL)
			return 0;
		p = close + 1;
	} else {
		for (p = host; p < end && *p != ':'; p++)
			if (!isalnum((unsigned char)*p) && strchr(".-_%()", *p) == NULL)
				return 0;
		if (p == host || *host == '.' || *host == '-')
			return 0;
	}
	if (p < end && *p == ':') {
		const char *d = ++p;

		while (p < end && isdigit((unsigned char)*p))
			p++;
		if (p == d || p - d > 5)
			return 0;
	}
	return p == end;
}

/* DRF's error for an integer primary key that names nothing (or is no integer). */
static void
pk_error(struct cu_api_errors *e, const char *key, struct json_object *v)
{
	char msg[128];

	if (json_object_is_type(v, json_type_int))
		snprintf(msg, sizeof(msg), "Invalid pk \"%lld\" - object does not exist.",
		         (long long)json_object_get_int64(v));
	else
		snprintf(msg, sizeof(msg), "Incorrect type. Expected pk value, received %s.",
		         cu_api_py_type(v));
	cu_api_error(e, key, msg);
}

/*
 * Overlays the body's fields on eff (the stored fields, or the defaults for a new application)
 * and checks them; errors are recorded in e.
 */
static void
read_body(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
          struct json_object *eff)
{
	static const char *const texts[] = {"meta_icon", "meta_description", "meta_publisher",
	                                    "group", NULL};
	struct json_object *v = NULL, *arr = NULL;
	const char *s = NULL;
	size_t i;
	int b;

	(void)cx;
	if (cu_api_field_string(e, body, "name", 0, 0, 0, &s) > 0)
		cu_json_set_string(eff, "name", s);
	if (cu_api_field_string(e, body, "slug", 0, 0, 0, &s) > 0) {
		int reserved = 0;

		for (i = 0; reserved_slugs[i] != NULL; i++)
			if (strcmp(s, reserved_slugs[i]) == 0)
				reserved = 1;
		if (!is_slug(s))
			cu_api_error(
			    e, "slug",
			    "Enter a valid \xe2\x80\x9cslug\xe2\x80\x9d consisting of letters, "
			    "numbers, underscores or hyphens.");
		else if (reserved)
			cu_api_error(
			    e, "slug",
			    cu_arena_printf(cx->cx_arena,
			                    "The slug '%s' is reserved and cannot be used for "
			                    "applications.",
			                    s));
		else
			cu_json_set_string(eff, "slug", s);
	}
	if (json_object_object_get_ex(body, "provider", &v)) {
		/* Whether it names a provider is checked by provider_check. */
		if (v == NULL)
			cu_json_set(eff, "provider", NULL);
		else if (!json_object_is_type(v, json_type_int))
			pk_error(e, "provider", v);
		else
			cu_json_set_int(eff, "provider", json_object_get_int64(v));
	}
	if (cu_api_field_array(e, body, "backchannel_providers", &arr) > 0 &&
	    json_object_array_length(arr) > 0)
		pk_error(e, "backchannel_providers", json_object_array_get_idx(arr, 0));
	if (cu_api_field_bool(e, body, "open_in_new_tab", &b) > 0)
		cu_json_set_bool(eff, "open_in_new_tab", b);
	if (cu_api_field_string(e, body, "meta_launch_url", 0, 1, 0, &s) > 0) {
		if (s[0] != '\0' && !valid_launch_url(s))
			cu_api_error(e, "meta_launch_url", "Enter a valid URL.");
		else
			cu_json_set_string(eff, "meta_launch_url", s);
	}
	for (i = 0; texts[i] != NULL; i++)
		if (cu_api_field_string(e, body, texts[i], 0, 1, 0, &s) > 0)
			cu_json_set_string(eff, texts[i], s);
	if (cu_api_field_choice(e, body, "policy_engine_mode", policy_engine_modes, &s) > 0)
		cu_json_set_string(eff, "policy_engine_mode", s);
}

/*
 * The provider the body names must exist (any kind: authentik's OneToOneField to Provider).
 * 0 checked (an error recorded when it does not exist), -1 having answered 503.
 */
static int
provider_check(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body)
{
	struct json_object *v = NULL;
	PGresult *res = NULL;
	const char *id;
	int64_t n;
	enum cu_err err;

	if (!json_object_object_get_ex(body, "provider", &v) || v == NULL ||
	    !json_object_is_type(v, json_type_int))
		return 0;
	n = json_object_get_int64(v);
	if (n < 1 || n > INT32_MAX) {
		pk_error(e, "provider", v);
		return 0;
	}
	id = cu_arena_printf(cx->cx_arena, "%lld", (long long)n);
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_PROVIDERS_API_EXISTS, 1, &id);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
	if (PQntuples(res) < 1)
		pk_error(e, "provider", v);
	return 0;
}

/* A failed insert or update: DRF's messages for the unique slug and the one-to-one provider,
 * and for a provider deleted since it was checked. */
static void
write_failed(struct cu_ctx *cx, struct cu_api_errors *e, enum cu_err err, PGresult *res,
             struct json_object *eff)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *constraint =
	    res != NULL ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
	struct json_object *v = NULL;

	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(res)) {
		if (constraint != NULL && strcmp(constraint, "applications_provider_id_key") == 0)
			cu_api_reject(cx, e, "provider",
			              "application with this provider already exists.");
		else
			cu_api_reject(cx, e, "slug", "application with this slug already exists.");
		return;
	}
	if (err == CU_ERR_INVALID && state != NULL && strcmp(state, "23503") == 0 &&
	    json_object_object_get_ex(eff, "provider", &v) && v != NULL) {
		cu_db_rollback(cx->cx_db);
		pk_error(e, "provider", v);
		cu_api_errors_send(cx, e);
		return;
	}
	cu_db_rollback(cx->cx_db);
	cu_ctx_fail(cx, err, "The database");
}

static const char *
eff_text(struct json_object *eff, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(eff, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

/* The statement parameters from eff, from index 0: name .. group (10 values). */
static void
eff_params(struct json_object *eff, const char **p)
{
	struct json_object *v = NULL;

	p[0] = eff_text(eff, "name");
	p[1] = eff_text(eff, "slug");
	p[2] = eff_text(eff, "provider");
	p[3] = json_object_object_get_ex(eff, "open_in_new_tab", &v) && json_object_get_boolean(v)
	           ? "true"
	           : "false";
	p[4] = eff_text(eff, "meta_launch_url");
	p[5] = eff_text(eff, "meta_icon");
	p[6] = eff_text(eff, "meta_description");
	p[7] = eff_text(eff, "meta_publisher");
	p[8] = eff_text(eff, "policy_engine_mode");
	p[9] = eff_text(eff, "group");
}

/* Reads back the written application, logs the event with its diff, commits and answers. */
static void
finish_write(struct cu_ctx *cx, int status, const char *action, const char *uuid,
             struct json_object *before)
{
	struct json_object *after = NULL;
	struct application a;
	enum cu_err err;

	if (application_load(cx, CU_DB_STMT_APPLICATIONS_GET_UUID, uuid, &a) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	err = cu_json_parse(cx->cx_arena, a.ap_snapshot, strlen(a.ap_snapshot), &after);
	if (err == CU_OK)
		err = cu_events_model(cx, action, "authentik_core", "application", uuid, a.ap_name,
		                      cu_api_json_diff(cx, before, after, NULL));
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_send_row(cx, status, a.ap_res);
}

/* cu_api_keep_fn: whether the user arg may access the page's application in row. */
static int
may_access(struct cu_ctx *cx, const void *pgresult, int row, void *arg)
{
	const PGresult *res = pgresult;
	struct cu_policy_request rq;
	struct cu_policy_result result;
	enum cu_err err;

	if (strcmp(cu_db_value(res, row, 3), "t") != 0)
		return 1;
	memset(&rq, 0, sizeof(rq));
	rq.pr_user = arg;
	rq.pr_obj_uuid = cu_db_value(res, row, 1);
	err = cu_policy_engine_run(cx, rq.pr_obj_uuid, cu_db_value(res, row, 2), &rq, &result);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
	return result.pr_passing ? 1 : 0;
}

void
cu_api_applications_list(struct cu_ctx *cx)
{
	const char *full = NULL, *for_user, *only_url;
	struct cu_user *other;
	struct cu_api_cond cond[2];
	size_t ncond = 0;

	if (cu_api_login(cx) != 0)
		return;
	full = cu_http_arg(cx->cx_req, "superuser_full_list");
	if (full != NULL && strcasecmp(full, "true") == 0 && cx->cx_user->us_is_superuser) {
		cu_api_list_send(cx, &application_list, NULL, 0);
		return;
	}
	for_user = cu_http_arg(cx->cx_req, "for_user");
	if (for_user != NULL) {
		const char *params[2] = {for_user, cx->cx_user->us_id_text};
		PGresult *res = NULL;
		char *end = NULL;
		enum cu_err err;

		(void)strtoll(for_user, &end, 10);
		if (for_user[0] == '\0' || *end != '\0' || strlen(for_user) > 18) {
			/* authentik raises a bare ValidationError here: a list, not a field map. */
			struct json_object *arr = cu_json_array(cx->cx_arena);

			json_object_array_add(arr, json_object_new_string("Invalid input."));
			cu_ctx_json(cx, 400, arr);
			return;
		}
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_APPLICATIONS_FOR_USER, 2,
		                 params);
		if (err != CU_OK) {
			cu_ctx_fail(cx, err, "The database");
			return;
		}
		if (PQntuples(res) < 1) {
			struct json_object *o = cu_json_object(cx->cx_arena);

			cu_json_set_string(o, "for_user", "User not found");
			cu_ctx_json(cx, 400, o);
			return;
		}
		/* An inactive user may access nothing. */
		if (strcmp(cu_db_value(res, 0, 0), "t") != 0)
			cond[ncond++] = (struct cu_api_cond){"false", NULL};
		other = cu_arena_zalloc(cx->cx_arena, sizeof(*other));
		other->us_id = strtoll(for_user, NULL, 10);
		other->us_id_text = cu_arena_printf(cx->cx_arena, "%lld", (long long)other->us_id);
		cu_api_list_send_kept(cx, &application_list, cond, ncond, may_access, other);
		return;
	}
	only_url = cu_http_arg(cx->cx_req, "only_with_launch_url");
	if (only_url != NULL && strcasecmp(only_url, "true") == 0)
		cond[ncond++] = (struct cu_api_cond){"a.meta_launch_url <> ''", NULL};
	cu_api_list_send_kept(cx, &application_list, cond, ncond, may_access, cx->cx_user);
}

void
cu_api_applications_get(struct cu_ctx *cx)
{
	struct application a;

	if (cu_api_login(cx) != 0 ||
	    application_find(cx, "authentik_core.view_application", &a) != 0)
		return;
	cu_api_send_row(cx, 200, a.ap_res);
}

void
cu_api_applications_create(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *eff;
	struct cu_api_errors e;
	const char *params[10];
	PGresult *res = NULL;
	const char *uuid;
	enum cu_err err;

	if (cu_api_login(cx) != 0 ||
	    cu_api_require(cx, "authentik_core.add_application", NULL) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	eff = cu_json_object(cx->cx_arena);
	cu_json_set_bool(eff, "open_in_new_tab", 0);
	cu_json_set_string(eff, "meta_launch_url", "");
	cu_json_set_string(eff, "meta_icon", "");
	cu_json_set_string(eff, "meta_description", "");
	cu_json_set_string(eff, "meta_publisher", "");
	cu_json_set_string(eff, "policy_engine_mode", "any");
	cu_json_set_string(eff, "group", "");
	read_body(cx, &e, body, eff);
	if (!json_object_object_get_ex(body, "name", NULL))
		cu_api_error(&e, "name", "This field is required.");
	if (!json_object_object_get_ex(body, "slug", NULL))
		cu_api_error(&e, "slug", "This field is required.");
	if (provider_check(cx, &e, body) != 0)
		return;
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	eff_params(eff, params);
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_APPLICATIONS_INSERT, 10, params);
	if (err != CU_OK) {
		write_failed(cx, &e, err, res, eff);
		return;
	}
	uuid = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
	finish_write(cx, 201, "model_created", uuid, NULL);
}

void
cu_api_applications_update(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *before = NULL, *eff = NULL;
	struct cu_api_errors e;
	struct application a;
	const char *params[11];
	PGresult *res = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0 ||
	    application_find(cx, "authentik_core.change_application", &a) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (application_load(cx, CU_DB_STMT_APPLICATIONS_LOCK, cu_ctx_param(cx, "slug"), &a) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	if (cu_json_parse(cx->cx_arena, a.ap_snapshot, strlen(a.ap_snapshot), &before) != CU_OK ||
	    cu_json_parse(cx->cx_arena, a.ap_snapshot, strlen(a.ap_snapshot), &eff) != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, CU_ERR_INTERNAL, "The application");
		return;
	}
	cu_api_errors_init(&e, cx);
	read_body(cx, &e, body, eff);
	if (cx->cx_req->rq_method == CU_HTTP_PUT) {
		if (!json_object_object_get_ex(body, "name", NULL))
			cu_api_error(&e, "name", "This field is required.");
		if (!json_object_object_get_ex(body, "slug", NULL))
			cu_api_error(&e, "slug", "This field is required.");
	}
	if (provider_check(cx, &e, body) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	params[0] = a.ap_uuid;
	eff_params(eff, params + 1);
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_APPLICATIONS_UPDATE, 11, params);
	if (err != CU_OK) {
		write_failed(cx, &e, err, res, eff);
		return;
	}
	finish_write(cx, 200, "model_updated", a.ap_uuid, before);
}

void
cu_api_applications_delete(struct cu_ctx *cx)
{
	struct json_object *before = NULL;
	struct application a;
	enum cu_err err;

	if (cu_api_login(cx) != 0 ||
	    application_find(cx, "authentik_core.delete_application", &a) != 0)
		return;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (application_load(cx, CU_DB_STMT_APPLICATIONS_LOCK, cu_ctx_param(cx, "slug"), &a) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	err = cu_json_parse(cx->cx_arena, a.ap_snapshot, strlen(a.ap_snapshot), &before);
	if (err == CU_OK)
		err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_APPLICATIONS_DELETE, 1,
		                 &a.ap_uuid);
	if (err == CU_OK)
		err =
		    cu_events_model(cx, "model_deleted", "authentik_core", "application", a.ap_uuid,
		                    a.ap_name, cu_api_json_diff(cx, before, NULL, NULL));
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_no_content(cx);
}

/* The application's policy_engine_mode from its snapshot, "any" when unreadable. */
static const char *
application_mode(struct cu_ctx *cx, const struct application *a)
{
	struct json_object *snap = NULL;
	const char *mode = NULL;

	if (a->ap_snapshot == NULL ||
	    cu_json_parse(cx->cx_arena, a->ap_snapshot, strlen(a->ap_snapshot), &snap) != CU_OK ||
	    cu_json_get_string(snap, "policy_engine_mode", &mode) != 0)
		return "any";
	return mode;
}

/*
 * authentik's check_access: the application's policy bindings for the caller, or for the user
 * for_user names when the caller is a superuser (for anyone else for_user is ignored). Only a
 * superuser sees the messages and log lines. custos also keeps inactive users out.
 */
void
cu_api_applications_check_access(struct cu_ctx *cx)
{
	const char *for_user = cu_http_arg(cx->cx_req, "for_user");
	struct cu_policy_request rq;
	struct cu_policy_result result;
	struct cu_user *user;
	struct json_object *o;
	struct application a;
	int active = 1;
	enum cu_err err;

	/* Like authentik: no view_application needed, only the application to exist. */
	if (cu_api_login(cx) != 0 ||
	    application_load(cx, CU_DB_STMT_APPLICATIONS_GET, cu_ctx_param(cx, "slug"), &a) != 0)
		return;
	user = cx->cx_user;
	if (cx->cx_user->us_is_superuser && for_user != NULL) {
		PGresult *res = NULL;
		char *end = NULL;
		long long id;

		id = strtoll(for_user, &end, 10);
		if (for_user[0] == '\0' || *end != '\0' || strlen(for_user) > 18) {
			o = cu_json_object(cx->cx_arena);
			cu_json_set_string(o, "for_user", "for_user must be numerical");
			cu_ctx_json(cx, 400, o);
			return;
		}
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_APPLICATIONS_USER_ACTIVE,
		                 1, &for_user);
		if (err != CU_OK) {
			cu_ctx_fail(cx, err, "The database");
			return;
		}
		if (PQntuples(res) < 1) {
			o = cu_json_object(cx->cx_arena);
			cu_json_set_string(o, "for_user", "User not found");
			cu_ctx_json(cx, 400, o);
			return;
		}
		active = strcmp(cu_db_value(res, 0, 0), "t") == 0;
		/* The engine needs only the id of the user it decides for. */
		user = cu_arena_zalloc(cx->cx_arena, sizeof(*user));
		user->us_id = id;
		user->us_id_text = cu_arena_printf(cx->cx_arena, "%lld", id);
	}
	memset(&rq, 0, sizeof(rq));
	rq.pr_user = user;
	rq.pr_obj_uuid = a.ap_uuid;
	err = cu_policy_engine_run(cx, a.ap_uuid, application_mode(cx, &a), &rq, &result);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	o = cu_json_object(cx->cx_arena);
	cu_json_set_bool(o, "passing", result.pr_passing && active);
	if (cx->cx_user->us_is_superuser)
		cu_json_set(o, "messages", json_object_get(result.pr_messages));
	else
		cu_json_set(o, "messages", json_object_new_array());
	cu_json_set(o, "log_messages", json_object_new_array());
	cu_ctx_json(cx, 200, o);
}
