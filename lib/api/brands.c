/*
 * /api/v3/core/brands/ as authentik's BrandViewSet (authentik/brands/api.py): brands by
 * brand_uuid, and current/, the public description of the brand that serves the request's host.
 */
#include "api/brands.h"

#include <stdio.h>
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

#define BRAND_MAX_CERTS 256

static const char *const brand_flows[] = {"flow_authentication",
                                          "flow_invalidation",
                                          "flow_recovery",
                                          "flow_unenrollment",
                                          "flow_user_settings",
                                          "flow_device_code",
                                          NULL};

static const struct cu_api_sort brand_sorts[] = {
    {"domain", "b.domain"},
    {"default", "b.\"default\""},
    {"branding_title", "b.branding_title"},
    {"branding_logo", "b.branding_logo"},
    {"branding_favicon", "b.branding_favicon"},
    {"brand_uuid", "b.brand_uuid"},
};

static const struct cu_api_filter brand_filters[] = {
    {"brand_uuid", CU_API_F_UUID, "b.brand_uuid = $%d::uuid"},
    {"domain", CU_API_F_TEXT, "b.domain = $%d"},
    {"default", CU_API_F_BOOL, "b.\"default\" = $%d::boolean"},
    {"branding_title", CU_API_F_TEXT, "b.branding_title = $%d"},
    {"branding_logo", CU_API_F_TEXT, "b.branding_logo = $%d"},
    {"branding_favicon", CU_API_F_TEXT, "b.branding_favicon = $%d"},
    {"branding_default_flow_background", CU_API_F_TEXT, "b.branding_default_flow_background = $%d"},
    {"flow_authentication", CU_API_F_UUID, "b.flow_authentication = $%d::uuid"},
    {"flow_invalidation", CU_API_F_UUID, "b.flow_invalidation = $%d::uuid"},
    {"flow_recovery", CU_API_F_UUID, "b.flow_recovery = $%d::uuid"},
    {"flow_unenrollment", CU_API_F_UUID, "b.flow_unenrollment = $%d::uuid"},
    {"flow_user_settings", CU_API_F_UUID, "b.flow_user_settings = $%d::uuid"},
    {"flow_device_code", CU_API_F_UUID, "b.flow_device_code = $%d::uuid"},
    {"web_certificate", CU_API_F_UUID, "b.web_certificate = $%d::uuid"},
    /* Repeated: brands holding every one of them, as django-filter's ModelMultipleChoice. */
    {"client_certificates", CU_API_F_TEXT_ANY,
     "NOT EXISTS (SELECT 1 FROM unnest($%d::text[]) AS w WHERE NOT EXISTS (SELECT 1 FROM "
     "brand_client_certificates c WHERE c.brand_uuid = b.brand_uuid AND c.kp_uuid::text = "
     "lower(w)))"},
};

static const struct cu_api_list brand_list = {
    .al_row = CU_SQL_BRAND,
    .al_from = "FROM brands b",
    .al_pk = "b.brand_uuid::text",
    .al_view_perm = "authentik_brands.view_brand",
    .al_search = "EXISTS (SELECT 1 FROM unnest(ARRAY[b.domain, b.branding_title, (SELECT "
                 "k.name FROM certificate_key_pairs k WHERE k.kp_uuid = b.web_certificate)]) "
                 "AS f WHERE f ILIKE $%d)",
    .al_sorts = brand_sorts,
    .al_nsorts = sizeof(brand_sorts) / sizeof(brand_sorts[0]),
    .al_default_sort = "domain",
    .al_tiebreak = "b.brand_uuid",
    .al_filters = brand_filters,
    .al_nfilters = sizeof(brand_filters) / sizeof(brand_filters[0]),
};

struct brand {
	PGresult *br_res;
	const char *br_uuid;
	const char *br_domain;
	int br_default;
};

/* 0 with *b loaded, or -1 having answered (404, 503). */
static int
brand_load(struct cu_ctx *cx, enum cu_db_stmt st, const char *uuid, struct brand *b)
{
	PGresult *res = NULL;
	enum cu_err err;

	memset(b, 0, sizeof(*b));
	if (!cu_api_is_uuid(uuid)) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, 1, &uuid);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
	if (PQntuples(res) < 1) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	b->br_res = res;
	b->br_uuid = cu_db_value(res, 0, 1);
	b->br_domain = cu_db_value(res, 0, 2);
	b->br_default = strcmp(cu_db_value(res, 0, 3), "t") == 0;
	return 0;
}

/* Brand.__str__, the name events carry. */
static const char *
brand_name(struct cu_ctx *cx, const struct brand *b)
{
	if (b->br_default)
		return "Default brand";
	return cu_arena_printf(cx->cx_arena, "Brand %s", b->br_domain);
}

static int
brand_find(struct cu_ctx *cx, const char *perm, struct brand *b)
{
	if (brand_load(cx, CU_DB_STMT_BRANDS_GET, cu_ctx_param(cx, "brand_uuid"), b) != 0)
		return -1;
	return cu_api_require(cx, perm, b->br_uuid);
}

static const char *
eff_text(struct json_object *eff, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(eff, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

/*
 * A nullable reference by UUID that must name a row (stmt checks it): 1 set, 0 absent, -1
 * recorded, -2 database down.
 */
static int
field_ref(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body, const char *key,
          enum cu_db_stmt st, struct json_object *eff)
{
	struct json_object *v = NULL;
	PGresult *res = NULL;
	const char *s;
	enum cu_err err;

	if (!json_object_object_get_ex(body, key, &v))
		return 0;
	if (v == NULL) {
		cu_json_set_string(eff, key, NULL);
		return 1;
	}
	if (!json_object_is_type(v, json_type_string)) {
		cu_api_error(e, key,
		             cu_arena_printf(cx->cx_arena,
		                             "Incorrect type. Expected pk value, received %s.",
		                             cu_api_py_type(v)));
		return -1;
	}
	s = json_object_get_string(v);
	if (!cu_api_is_uuid(s)) {
		cu_api_error(e, key, "Must be a valid UUID.");
		return -1;
	}
	if (st == CU_DB_STMT_BRANDS_MISSING_CERT || st == CU_DB_STMT_BRANDS_MISSING_FLOW) {
		const char *arr = cu_api_pg_array(cx, &s, 1);

		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, 1, &arr);
		if (err == CU_OK && PQntuples(res) > 0)
			err = CU_ERR_NOT_FOUND;
	} else {
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, 1, &s);
		if (err == CU_OK && PQntuples(res) < 1)
			err = CU_ERR_NOT_FOUND;
	}
	if (err == CU_ERR_NOT_FOUND) {
		cu_api_error(
		    e, key,
		    cu_arena_printf(cx->cx_arena, "Invalid pk \"%s\" - object does not exist.", s));
		return -1;
	}
	if (err != CU_OK)
		return -2;
	cu_json_set_string(eff, key, s);
	return 1;
}

/* client_certificates: every element a UUID of a key pair. Same results as field_ref. */
static int
field_certs(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
            struct json_object *eff)
{
	struct json_object *arr = NULL, *out;
	const char **items;
	PGresult *res = NULL;
	const char *lit;
	size_t i, n;
	enum cu_err err;

	if (cu_api_field_array(e, body, "client_certificates", &arr) <= 0)
		return arr == NULL && json_object_object_get_ex(body, "client_certificates", NULL)
		           ? -1
		           : 0;
	n = json_object_array_length(arr);
	if (n > BRAND_MAX_CERTS) {
		cu_api_error(e, "client_certificates", "Too many items.");
		return -1;
	}
	items = cu_arena_alloc(cx->cx_arena, (n + 1) * sizeof(*items));
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);

		if (v == NULL || !json_object_is_type(v, json_type_string)) {
			cu_api_error(
			    e, "client_certificates",
			    cu_arena_printf(cx->cx_arena,
			                    "Incorrect type. Expected pk value, received %s.",
			                    cu_api_py_type(v)));
			return -1;
		}
		items[i] = json_object_get_string(v);
		if (!cu_api_is_uuid(items[i])) {
			cu_api_error(e, "client_certificates", "Must be a valid UUID.");
			return -1;
		}
	}
	lit = cu_api_pg_array(cx, items, n);
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_BRANDS_MISSING_CERT, 1, &lit);
	if (err != CU_OK)
		return -2;
	if (PQntuples(res) > 0) {
		cu_api_error(e, "client_certificates",
		             cu_arena_printf(cx->cx_arena,
		                             "Invalid pk \"%s\" - object does not exist.",
		                             cu_db_value(res, 0, 0)));
		return -1;
	}
	out = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(out, json_object_new_string(items[i]));
	cu_json_set(eff, "client_certificates", out);
	return 1;
}

/* Overlays the body on eff and checks it: 0, -1 errors recorded, -2 database down. */
static int
read_body(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
          struct json_object *eff)
{
	static const char *const required_text[] = {"branding_title", "branding_logo",
	                                            "branding_favicon",
	                                            "branding_default_flow_background", NULL};
	struct json_object *o = NULL;
	const char *s = NULL;
	size_t i;
	int b;

	if (cu_api_field_string(e, body, "domain", 0, 0, 0, &s) > 0)
		cu_json_set_string(eff, "domain", s);
	if (cu_api_field_bool(e, body, "default", &b) > 0)
		cu_json_set_bool(eff, "default", b);
	for (i = 0; required_text[i] != NULL; i++)
		if (cu_api_field_string(e, body, required_text[i], 0, 0, 0, &s) > 0)
			cu_json_set_string(eff, required_text[i], s);
	if (cu_api_field_string(e, body, "branding_custom_css", 0, 1, 0, &s) > 0)
		cu_json_set_string(eff, "branding_custom_css", s);
	if (cu_api_field_object(e, body, "attributes", &o) > 0)
		cu_json_set(eff, "attributes", json_object_get(o));
	for (i = 0; brand_flows[i] != NULL; i++)
		if (field_ref(cx, e, body, brand_flows[i], CU_DB_STMT_BRANDS_MISSING_FLOW, eff) ==
		    -2)
			return -2;
	if (field_ref(cx, e, body, "default_application", CU_DB_STMT_BRANDS_APPLICATION_EXISTS,
	              eff) == -2 ||
	    field_ref(cx, e, body, "web_certificate", CU_DB_STMT_BRANDS_MISSING_CERT, eff) == -2 ||
	    field_certs(cx, e, body, eff) == -2)
		return -2;
	return cu_api_errors_any(e) ? -1 : 0;
}

/* BrandSerializer.validate: a brand that sets default=true must be the only default. */
static int
check_default(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
              const char *uuid)
{
	struct json_object *v = NULL;
	PGresult *res = NULL;
	enum cu_err err;

	if (!json_object_object_get_ex(body, "default", &v) || !json_object_get_boolean(v))
		return 0;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_BRANDS_OTHER_DEFAULT, 1, &uuid);
	if (err != CU_OK)
		return -2;
	if (PQntuples(res) > 0) {
		cu_api_error(e, "default", "Only a single brand can be set as default.");
		return -1;
	}
	return 0;
}

/* The 17 statement parameters: $1 the uuid (NULL for a new brand), then BRANDS_COLUMNS. */
static void
eff_params(struct cu_ctx *cx, struct json_object *eff, const char *uuid, const char **p)
{
	struct json_object *v = NULL;
	size_t i;

	p[0] = uuid;
	p[1] = eff_text(eff, "domain");
	p[2] = json_object_object_get_ex(eff, "default", &v) && json_object_get_boolean(v)
	           ? "true"
	           : "false";
	p[3] = eff_text(eff, "branding_title");
	p[4] = eff_text(eff, "branding_logo");
	p[5] = eff_text(eff, "branding_favicon");
	p[6] = eff_text(eff, "branding_custom_css");
	p[7] = eff_text(eff, "branding_default_flow_background");
	for (i = 0; brand_flows[i] != NULL; i++)
		p[8 + i] = eff_text(eff, brand_flows[i]);
	p[14] = eff_text(eff, "default_application");
	p[15] = eff_text(eff, "web_certificate");
	v = NULL;
	p[16] = json_object_object_get_ex(eff, "attributes", &v) && v != NULL
	            ? cu_json_text(v, NULL)
	            : "{}";
	(void)cx;
}

/* The client certificates of eff as a PostgreSQL array literal. */
static const char *
eff_certs(struct cu_ctx *cx, struct json_object *eff)
{
	struct json_object *arr = NULL;
	const char **items;
	size_t i, n;

	if (!json_object_object_get_ex(eff, "client_certificates", &arr) || arr == NULL)
		return "{}";
	n = json_object_array_length(arr);
	items = cu_arena_alloc(cx->cx_arena, (n + 1) * sizeof(*items));
	for (i = 0; i < n; i++)
		items[i] = json_object_get_string(json_object_array_get_idx(arr, i));
	return cu_api_pg_array(cx, items, n);
}

/* Maps a failed write to DRF's field errors: 1 answered, 0 not a constraint it knows. */
static int
write_error(struct cu_ctx *cx, enum cu_err err, PGresult *res)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *constraint =
	    res != NULL ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
	struct cu_api_errors e;

	if (err != CU_ERR_INVALID || state == NULL || strcmp(state, "23505") != 0)
		return 0;
	cu_api_errors_init(&e, cx);
	if (constraint != NULL && strcmp(constraint, "brands_one_default") == 0)
		cu_api_error(&e, "default", "Only a single brand can be set as default.");
	else
		/* authentik's explicit UniqueValidator on domain, with DRF's default message. */
		cu_api_error(&e, "domain", "This field must be unique.");
	cu_api_errors_send(cx, &e);
	return 1;
}

/* Writes eff (insert when uuid is NULL), its certificates and the event; commits; answers. */
static void
brand_write(struct cu_ctx *cx, struct json_object *eff, const char *uuid,
            struct json_object *before)
{
	const char *params[17], *certs[2];
	struct json_object *after = NULL;
	PGresult *res = NULL;
	struct brand b;
	enum cu_err err;

	eff_params(cx, eff, uuid, params);
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res,
	                 uuid == NULL ? CU_DB_STMT_BRANDS_INSERT : CU_DB_STMT_BRANDS_UPDATE, 17,
	                 params);
	if (err != CU_OK) {
		cu_db_rollback(cx->cx_db);
		if (!write_error(cx, err, res))
			cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (uuid == NULL)
		uuid = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
	certs[0] = uuid;
	certs[1] = eff_certs(cx, eff);
	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_BRANDS_CLEAR_CERTS, 1, certs);
	if (err == CU_OK)
		err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_BRANDS_ADD_CERTS, 2,
		                 certs);
	if (err != CU_OK)
		goto fail;
	if (brand_load(cx, CU_DB_STMT_BRANDS_GET, uuid, &b) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	err = cu_json_parse(cx->cx_arena, cu_db_value(b.br_res, 0, 0),
	                    strlen(cu_db_value(b.br_res, 0, 0)), &after);
	if (err == CU_OK) {
		static const char *const skip[] = {"brand_uuid", NULL};

		err = cu_events_model(cx, before == NULL ? "model_created" : "model_updated",
		                      "authentik_brands", "brand", uuid, brand_name(cx, &b),
		                      cu_api_json_diff(cx, before, after, skip));
	}
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK)
		goto fail;
	cu_api_send_row(cx, before == NULL ? 201 : 200, b.br_res);
	return;
fail:
	cu_db_rollback(cx->cx_db);
	cu_ctx_fail(cx, err, "The database");
}

void
cu_api_brands_list(struct cu_ctx *cx)
{
	if (cu_api_login(cx) != 0)
		return;
	cu_api_list_send(cx, &brand_list, NULL, 0);
}

void
cu_api_brands_get(struct cu_ctx *cx)
{
	struct brand b;

	if (cu_api_login(cx) != 0 || brand_find(cx, "authentik_brands.view_brand", &b) != 0)
		return;
	cu_api_send_row(cx, 200, b.br_res);
}

void
cu_api_brands_create(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *eff;
	struct cu_api_errors e;
	enum cu_err err;
	int r;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, "authentik_brands.add_brand", NULL) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	/* The model's defaults (sql/0002_directory.sql holds the same). */
	eff = cu_json_object(cx->cx_arena);
	cu_json_set_bool(eff, "default", 0);
	cu_json_set_string(eff, "branding_title", "authentik");
	cu_json_set_string(eff, "branding_logo", "/static/dist/assets/icons/icon_left_brand.svg");
	cu_json_set_string(eff, "branding_favicon", "/static/dist/assets/icons/icon.png");
	cu_json_set_string(eff, "branding_custom_css", "");
	cu_json_set_string(eff, "branding_default_flow_background",
	                   "/static/dist/assets/images/flow_background.jpg");
	cu_api_errors_init(&e, cx);
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	r = read_body(cx, &e, body, eff);
	if (!json_object_object_get_ex(body, "domain", NULL))
		cu_api_error(&e, "domain", "This field is required.");
	if (r == 0 && !cu_api_errors_any(&e))
		r = check_default(cx, &e, body, NULL);
	if (r == -2) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The database");
		return;
	}
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	brand_write(cx, eff, NULL, NULL);
}

void
cu_api_brands_update(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *before = NULL, *eff = NULL;
	const char *text;
	struct cu_api_errors e;
	struct brand b;
	enum cu_err err;
	int r;

	if (cu_api_login(cx) != 0 || brand_find(cx, "authentik_brands.change_brand", &b) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (brand_load(cx, CU_DB_STMT_BRANDS_LOCK, b.br_uuid, &b) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	text = cu_db_value(b.br_res, 0, 0);
	if (cu_json_parse(cx->cx_arena, text, strlen(text), &before) != CU_OK ||
	    cu_json_parse(cx->cx_arena, text, strlen(text), &eff) != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, CU_ERR_INTERNAL, "The brand");
		return;
	}
	cu_api_errors_init(&e, cx);
	r = read_body(cx, &e, body, eff);
	if (cx->cx_req->rq_method == CU_HTTP_PUT &&
	    !json_object_object_get_ex(body, "domain", NULL))
		cu_api_error(&e, "domain", "This field is required.");
	if (r == 0 && !cu_api_errors_any(&e))
		r = check_default(cx, &e, body, b.br_uuid);
	if (r == -2) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The database");
		return;
	}
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	brand_write(cx, eff, b.br_uuid, before);
}

void
cu_api_brands_delete(struct cu_ctx *cx)
{
	struct json_object *before = NULL;
	const char *text;
	struct brand b;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || brand_find(cx, "authentik_brands.delete_brand", &b) != 0)
		return;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (brand_load(cx, CU_DB_STMT_BRANDS_LOCK, b.br_uuid, &b) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	text = cu_db_value(b.br_res, 0, 0);
	err = cu_json_parse(cx->cx_arena, text, strlen(text), &before);
	if (err == CU_OK)
		err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_BRANDS_DELETE, 1,
		                 &b.br_uuid);
	if (err == CU_OK) {
		static const char *const skip[] = {"brand_uuid", NULL};

		err = cu_events_model(cx, "model_deleted", "authentik_brands", "brand", b.br_uuid,
		                      brand_name(cx, &b), cu_api_json_diff(cx, before, NULL, skip));
	}
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_no_content(cx);
}

void
cu_api_brands_current(struct cu_ctx *cx)
{
	const char *host = cx->cx_req->rq_host != NULL ? cx->cx_req->rq_host : "";
	struct json_object *o = NULL, *flags;
	PGresult *res = NULL;
	enum cu_err err;

	/* Public, as authentik's (AllowAny): the login page asks before anyone is signed in. */
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_BRANDS_CURRENT, 1, &host);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (PQntuples(res) > 0) {
		const char *text = cu_db_value(res, 0, 0);

		if (cu_json_parse(cx->cx_arena, text, strlen(text), &o) != CU_OK) {
			cu_ctx_fail(cx, CU_ERR_INTERNAL, "The brand");
			return;
		}
	} else {
		/* authentik's DEFAULT_BRAND: an unsaved Brand(domain="fallback") with the defaults.
		 */
		o = cu_json_object(cx->cx_arena);
		cu_json_set_string(o, "matched_domain", "fallback");
		cu_json_set_string(o, "branding_title", "authentik");
		cu_json_set_string(o, "branding_logo",
		                   "/static/dist/assets/icons/icon_left_brand.svg");
		cu_json_set_string(o, "branding_favicon", "/static/dist/assets/icons/icon.png");
		cu_json_set_string(o, "branding_custom_css", "");
		cu_json_set_string(o, "ui_theme", "automatic");
		cu_json_set_string(o, "default_locale", "");
	}
	/* Themed URLs exist only for file names holding %(theme)s, which custos does not serve. */
	cu_json_set(o, "branding_logo_themed_urls", NULL);
	cu_json_set(o, "branding_favicon_themed_urls", NULL);
	/* The tenant's footer_links default, [], as no tenant settings exist yet. */
	cu_json_set(o, "ui_footer_links", json_object_new_array());
	/* flow_* carry the flows' slugs (BRANDS_CURRENT); a brand without one leaves it out, as
	 * DRF skips a source that resolves to nothing on a field that is not required. */
	flags = json_object_new_object();
	json_object_object_add(flags, "enterprise_audit_include_expanded_diff",
	                       json_object_new_boolean(0));
	json_object_object_add(flags, "policies_buffered_access_view", json_object_new_boolean(0));
	json_object_object_add(flags, "flows_continuous_login", json_object_new_boolean(0));
	json_object_object_add(flags, "flows_refresh_others", json_object_new_boolean(0));
	cu_json_set(o, "flags", flags);
	cu_ctx_json(cx, 200, o);
}
