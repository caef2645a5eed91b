/*
 * /api/v3/propertymappings/ as authentik's PropertyMappingViewSet
 * (authentik/core/api/property_mappings.py), ScopeMappingViewSet
 * (authentik/providers/oauth2/api/scopes.py) and SAMLPropertyMappingViewSet
 * (authentik/providers/saml/api/property_mappings.py): property mappings by pm_uuid.
 *
 * Each is a Lua expression (lib/policies/expression.h): a scope mapping returns a table the
 * OAuth2 provider merges into its claims for the scope it names; a SAML mapping returns the
 * value (or list of values) of the attribute saml_name. As in authentik, a managed mapping (one
 * of the defaults) may be edited and deleted like any other; managed only says that an update of
 * custos may put it back.
 */
#include "api/propertymappings.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "api/common.h"
#include "auth.h"
#include "bounds.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "../events.h" /* lib/api/events.h is the API module */
#include "http.h"
#include "json.h"
#include "policies/expression.h"
#include "policies/kinds.h"
#include "providers/oauth2.h"
#include "server.h"

#define SCOPE_APP "authentik_providers_oauth2"
#define SCOPE_MODEL "scopemapping"
#define PERM_SCOPE(verb) SCOPE_APP "." verb "_scopemapping"
#define PERM_MAPPING(verb) "authentik_core." verb "_propertymapping"
#define SAML_APP "authentik_providers_saml"
#define SAML_MODEL "samlpropertymapping"
#define PERM_SAML(verb) SAML_APP "." verb "_samlpropertymapping"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))
/* Seconds a test run of a mapping may take, as the provider gives each mapping it runs. */
#define TEST_TIMEOUT 30.0
/* Largest result text a test answers with. */
#define TEST_MAX_RESULT (4 * 1024 * 1024)

static const struct cu_api_sort scope_sorts[] = {
    {"scope_name", "pm.scope_name"}, {"name", "pm.name"},       {"pk", "pm.pm_uuid"},
    {"pm_uuid", "pm.pm_uuid"},       {"managed", "pm.managed"}, {"description", "pm.description"},
    {"expression", "pm.expression"},
};

static const struct cu_api_filter scope_filters[] = {
    {"name", CU_API_F_TEXT, "pm.name = $%d"},
    {"scope_name", CU_API_F_TEXT, "pm.scope_name = $%d"},
    /* AllValuesMultipleFilter: any of the values given. */
    {"managed", CU_API_F_TEXT_ANY, "pm.managed = ANY ($%d::text[])"},
    {"managed__isnull", CU_API_F_BOOL, "(pm.managed IS NULL) = $%d::boolean"},
};

static const struct cu_api_list scope_list = {
    .al_row = CU_SQL_SCOPE_MAPPING "::text",
    .al_from = "FROM property_mappings pm",
    .al_pk = "pm.pm_uuid::text",
    .al_view_perm = PERM_SCOPE("view"),
    .al_search = "EXISTS (SELECT 1 FROM unnest(ARRAY[pm.name, pm.scope_name]) AS f WHERE f "
                 "ILIKE $%d)",
    .al_sorts = scope_sorts,
    .al_nsorts = NITEMS(scope_sorts),
    .al_default_sort = "scope_name,name",
    .al_tiebreak = "pm.pm_uuid",
    .al_filters = scope_filters,
    .al_nfilters = NITEMS(scope_filters),
};

static const struct cu_api_sort saml_sorts[] = {
    {"name", "pm.name"},
    {"pk", "pm.pm_uuid"},
    {"pm_uuid", "pm.pm_uuid"},
    {"managed", "pm.managed"},
    {"saml_name", "pm.saml_name"},
    {"friendly_name", "pm.friendly_name"},
    {"expression", "pm.expression"},
};

/* SAMLPropertyMappingFilter: PropertyMappingFilterSet's and the kind's two fields. */
static const struct cu_api_filter saml_filters[] = {
    {"name", CU_API_F_TEXT, "pm.name = $%d"},
    {"saml_name", CU_API_F_TEXT, "pm.saml_name = $%d"},
    {"friendly_name", CU_API_F_TEXT, "pm.friendly_name = $%d"},
    {"managed", CU_API_F_TEXT_ANY, "pm.managed = ANY ($%d::text[])"},
    {"managed__isnull", CU_API_F_BOOL, "(pm.managed IS NULL) = $%d::boolean"},
};

static const struct cu_api_list saml_list = {
    .al_row = CU_SQL_SAML_MAPPING "::text",
    .al_from = "FROM property_mappings pm",
    .al_pk = "pm.pm_uuid::text",
    .al_view_perm = PERM_SAML("view"),
    .al_search = "pm.name ILIKE $%d",
    .al_sorts = saml_sorts,
    .al_nsorts = NITEMS(saml_sorts),
    .al_default_sort = "name",
    .al_tiebreak = "pm.pm_uuid",
    .al_filters = saml_filters,
    .al_nfilters = NITEMS(saml_filters),
};

static const struct cu_api_sort mapping_sorts[] = {
    {"name", "pm.name"},
    {"pk", "pm.pm_uuid"},
    {"pm_uuid", "pm.pm_uuid"},
    {"managed", "pm.managed"},
    {"expression", "pm.expression"},
};

static const struct cu_api_list mapping_list = {
    .al_row = CU_SQL_PROPERTY_MAPPING "::text",
    .al_from = "FROM property_mappings pm",
    .al_pk = "pm.pm_uuid::text",
    .al_view_perm = PERM_MAPPING("view"),
    .al_search = "pm.name ILIKE $%d",
    .al_sorts = mapping_sorts,
    .al_nsorts = NITEMS(mapping_sorts),
    .al_default_sort = "name",
    .al_tiebreak = "pm.pm_uuid",
    /* PropertyMappingFilterSet: the scope mappings' filters less scope_name. */
    .al_filters = scope_filters,
    .al_nfilters = NITEMS(scope_filters),
};

/* One mapping as PROPERTYMAPPINGS_API_SELECT gives it. */
struct mrow {
	PGresult *mr_res;
	const char *mr_uuid;
	const char *mr_state;
	const char *mr_name;
	const char *mr_type;
};

/* 0 with *m loaded, or -1 having answered (404, 503). only (a type, or NULL for any): other
 * kinds are not found. */
static int
mrow_load(struct cu_ctx *cx, enum cu_db_stmt st, const char *uuid, const char *only, struct mrow *m)
{
	PGresult *res = NULL;
	enum cu_err err;

	memset(m, 0, sizeof(*m));
	if (uuid == NULL || !cu_api_is_uuid(uuid)) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, 1, &uuid);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
	if (PQntuples(res) < 1 || (only != NULL && strcmp(cu_db_value(res, 0, 4), only) != 0)) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	m->mr_res = res;
	m->mr_uuid = cu_db_value(res, 0, 1);
	m->mr_state = cu_db_value(res, 0, 2);
	m->mr_name = cu_db_value(res, 0, 3);
	m->mr_type = cu_db_value(res, 0, 4);
	return 0;
}

/* The mapping of the path, then perm on it: 0, or -1 having answered. */
static int
mrow_find(struct cu_ctx *cx, const char *only, const char *perm, struct mrow *m)
{
	if (mrow_load(cx, CU_DB_STMT_PROPERTYMAPPINGS_API_GET, cu_ctx_param(cx, "pm_uuid"), only,
	              m) != 0)
		return -1;
	return cu_api_require(cx, perm, m->mr_uuid);
}

static struct json_object *
parse_state(struct cu_ctx *cx, const char *text)
{
	struct json_object *o = NULL;

	if (text == NULL || cu_json_parse(cx->cx_arena, text, strlen(text), &o) != CU_OK)
		return NULL;
	return o;
}

static int
begin(struct cu_ctx *cx)
{
	enum cu_err err = cu_db_begin(cx->cx_db);

	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
	return 0;
}

/* ---- the kinds: scope mappings and SAML mappings -------------------------------------------- */

/* The fields every kind starts with (PropertyMappingSerializer). ManagedSerializer's field
 * never reaches DRF (a plain mixin), so managed is the model's writable, nullable, unique
 * field. */
static void
read_common(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
            struct json_object *eff)
{
	const char *s = NULL, *why = NULL;

	if (cu_api_field_string(e, body, "managed", CU_API_PROPERTYMAPPINGS_MAX_TEXT, 0, 1, &s) > 0)
		cu_json_set_string(eff, "managed", s);
	if (cu_api_field_string(e, body, "name", CU_API_PROVIDERS_MAX_NAME, 0, 0, &s) > 0)
		cu_json_set_string(eff, "name", s);
	if (cu_api_field_string(e, body, "expression", CU_EXPR_MAX_SOURCE, 0, 0, &s) > 0) {
		if (!cu_policy_expression_check(cx->cx_arena, s, strlen(s), &why))
			cu_api_error(e, "expression", why != NULL ? why : "Invalid expression.");
		else
			cu_json_set_string(eff, "expression", s);
	}
}

/* ScopeMappingSerializer's own fields. */
static void
read_scope(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
           struct json_object *eff)
{
	const char *s = NULL;

	(void)cx;
	if (cu_api_field_string(e, body, "scope_name", CU_API_PROPERTYMAPPINGS_MAX_TEXT, 0, 0, &s) >
	    0) {
		if (strchr(s, ' ') != NULL)
			cu_api_error(e, "scope_name", "Value must not contain spaces.");
		else
			cu_json_set_string(eff, "scope_name", s);
	}
	if (cu_api_field_string(e, body, "description", CU_API_PROPERTYMAPPINGS_MAX_TEXT, 1, 0,
	                        &s) > 0)
		cu_json_set_string(eff, "description", s);
}

/* SAMLPropertyMappingSerializer's own fields: saml_name (the Attribute's Name) and an optional
 * FriendlyName (null or blank: none). */
static void
read_saml(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
          struct json_object *eff)
{
	const char *s = NULL;

	(void)cx;
	if (cu_api_field_string(e, body, "saml_name", CU_API_PROPERTYMAPPINGS_MAX_TEXT, 0, 0, &s) >
	    0)
		cu_json_set_string(eff, "saml_name", s);
	if (cu_api_field_string(e, body, "friendly_name", CU_API_PROPERTYMAPPINGS_MAX_TEXT, 1, 1,
	                        &s) > 0) {
		if (s == NULL)
			cu_json_set(eff, "friendly_name", NULL);
		else
			cu_json_set_string(eff, "friendly_name", s);
	}
}

/* One kind of mapping: its model, permissions, own fields (two each) and statements. */
struct kind {
	const char *k_type; /* property_mappings.type, the model name */
	const char *k_app;
	const char *k_perm_view, *k_perm_add, *k_perm_change, *k_perm_delete;
	const char *const *k_required;
	const char *k_fields[2];
	void (*k_read)(struct cu_ctx *, struct cu_api_errors *, struct json_object *,
	               struct json_object *);
	void (*k_defaults)(struct json_object *);
	enum cu_db_stmt k_insert, k_update;
	const struct cu_api_list *k_list;
	const char *k_list_cond;
};

static void
scope_defaults(struct json_object *eff)
{
	cu_json_set_string(eff, "description", "");
}

static void
saml_defaults(struct json_object *eff)
{
	cu_json_set(eff, "friendly_name", NULL);
}

static const char *const scope_required[] = {"name", "expression", "scope_name", NULL};
static const char *const saml_required[] = {"name", "expression", "saml_name", NULL};

static const struct kind scope_kind = {
    SCOPE_MODEL,
    SCOPE_APP,
    PERM_SCOPE("view"),
    PERM_SCOPE("add"),
    PERM_SCOPE("change"),
    PERM_SCOPE("delete"),
    scope_required,
    {"scope_name", "description"},
    read_scope,
    scope_defaults,
    CU_DB_STMT_PROPERTYMAPPINGS_API_SCOPE_INSERT,
    CU_DB_STMT_PROPERTYMAPPINGS_API_SCOPE_UPDATE,
    &scope_list,
    "pm.type = 'scopemapping'",
};

static const struct kind saml_kind = {
    SAML_MODEL,
    SAML_APP,
    PERM_SAML("view"),
    PERM_SAML("add"),
    PERM_SAML("change"),
    PERM_SAML("delete"),
    saml_required,
    {"saml_name", "friendly_name"},
    read_saml,
    saml_defaults,
    CU_DB_STMT_PROPERTYMAPPINGS_API_SAML_INSERT,
    CU_DB_STMT_PROPERTYMAPPINGS_API_SAML_UPDATE,
    &saml_list,
    "pm.type = 'samlpropertymapping'",
};

static void
read_body(struct cu_ctx *cx, const struct kind *k, struct cu_api_errors *e,
          struct json_object *body, struct json_object *eff)
{
	read_common(cx, e, body, eff);
	k->k_read(cx, e, body, eff);
}

static void
check_required(const struct kind *k, struct cu_api_errors *e, struct json_object *body)
{
	size_t i;

	for (i = 0; k->k_required[i] != NULL; i++)
		if (!json_object_object_get_ex(body, k->k_required[i], NULL))
			cu_api_error(e, k->k_required[i], "This field is required.");
}

static const char *
eff_text(struct json_object *eff, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(eff, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

/* Answers a failed write: DRF's unique messages (the fields come from PropertyMapping). */
static void
write_failed(struct cu_ctx *cx, enum cu_err err, PGresult *res)
{
	const char *constraint =
	    res != NULL ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
	struct cu_api_errors e;

	if (err != CU_ERR_INVALID || !cu_db_is_unique_violation(res)) {
		cu_api_db_fail(cx, err);
		return;
	}
	cu_api_errors_init(&e, cx);
	if (constraint != NULL && strcmp(constraint, "property_mappings_managed_key") == 0)
		cu_api_reject(cx, &e, "managed",
		              "Property Mapping with this Managed by authentik already exists.");
	else
		cu_api_reject(cx, &e, "name", "Property Mapping with this name already exists.");
}

/* Writes eff (a new mapping when uuid is NULL) in the open transaction, logs the event with
 * its diff, commits and answers with the mapping. */
static void
kind_write(struct cu_ctx *cx, const struct kind *k, struct json_object *eff, const char *uuid,
           struct json_object *before)
{
	const char *p[6];
	PGresult *res = NULL;
	struct json_object *after;
	struct mrow m;
	enum cu_err err;

	p[0] = uuid;
	p[1] = eff_text(eff, "managed");
	p[2] = eff_text(eff, "name");
	p[3] = eff_text(eff, "expression");
	p[4] = eff_text(eff, k->k_fields[0]);
	p[5] = eff_text(eff, k->k_fields[1]);
	if (uuid == NULL)
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, k->k_insert, 5, p + 1);
	else
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, k->k_update, 6, p);
	if (err != CU_OK) {
		write_failed(cx, err, res);
		return;
	}
	if (uuid == NULL)
		uuid = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
	if (mrow_load(cx, CU_DB_STMT_PROPERTYMAPPINGS_API_GET, uuid, k->k_type, &m) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	after = parse_state(cx, m.mr_state);
	err = after == NULL
	          ? CU_ERR_INTERNAL
	          : cu_events_model(cx, before == NULL ? "model_created" : "model_updated",
	                            k->k_app, k->k_type, uuid, m.mr_name,
	                            cu_api_json_diff(cx, before, after, NULL));
	if (cu_api_commit(cx, err) != 0)
		return;
	cu_api_send_row(cx, before == NULL ? 201 : 200, m.mr_res);
}

/* Deletes the locked mapping m, logs model_deleted under its kind, commits, answers 204. */
static void
mapping_delete(struct cu_ctx *cx, const struct mrow *m)
{
	struct json_object *before = parse_state(cx, m->mr_state);
	const char *app = "authentik_core", *model = "propertymapping";
	enum cu_err err;

	if (strcmp(m->mr_type, SCOPE_MODEL) == 0) {
		app = SCOPE_APP;
		model = SCOPE_MODEL;
	} else if (strcmp(m->mr_type, SAML_MODEL) == 0) {
		app = SAML_APP;
		model = SAML_MODEL;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_PROPERTYMAPPINGS_API_DELETE, 1,
	                 &m->mr_uuid);
	if (err == CU_OK)
		err = cu_events_model(cx, "model_deleted", app, model, m->mr_uuid, m->mr_name,
		                      before != NULL ? cu_api_json_diff(cx, before, NULL, NULL)
		                                     : NULL);
	if (cu_api_commit(cx, err) != 0)
		return;
	cu_api_no_content(cx);
}

static void
kind_list(struct cu_ctx *cx, const struct kind *k)
{
	struct cu_api_cond cond = {k->k_list_cond, NULL};

	if (cu_api_login(cx) != 0)
		return;
	cu_api_list_send(cx, k->k_list, &cond, 1);
}

static void
kind_get(struct cu_ctx *cx, const struct kind *k)
{
	struct mrow m;

	if (cu_api_login(cx) != 0 || mrow_find(cx, k->k_type, k->k_perm_view, &m) != 0)
		return;
	cu_api_send_row(cx, 200, m.mr_res);
}

static void
kind_create(struct cu_ctx *cx, const struct kind *k)
{
	struct json_object *body = NULL, *eff;
	struct cu_api_errors e;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, k->k_perm_add, NULL) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	eff = cu_json_object(cx->cx_arena);
	cu_json_set(eff, "managed", NULL);
	k->k_defaults(eff);
	cu_api_errors_init(&e, cx);
	read_body(cx, k, &e, body, eff);
	check_required(k, &e, body);
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	if (begin(cx) != 0)
		return;
	kind_write(cx, k, eff, NULL, NULL);
}

static void
kind_update(struct cu_ctx *cx, const struct kind *k)
{
	struct json_object *body = NULL, *before, *eff, *merged;
	struct cu_api_errors e;
	struct mrow m;

	if (cu_api_login(cx) != 0 || mrow_find(cx, k->k_type, k->k_perm_change, &m) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	eff = cu_json_object(cx->cx_arena);
	read_body(cx, k, &e, body, eff);
	if (cx->cx_req->rq_method == CU_HTTP_PUT)
		check_required(k, &e, body);
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	if (begin(cx) != 0)
		return;
	if (mrow_load(cx, CU_DB_STMT_PROPERTYMAPPINGS_API_LOCK, m.mr_uuid, k->k_type, &m) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	/* The body's fields over the row as it is now, under the lock. */
	before = parse_state(cx, m.mr_state);
	merged = parse_state(cx, m.mr_state);
	if (before == NULL || merged == NULL) {
		cu_api_db_fail(cx, CU_ERR_INTERNAL);
		return;
	}
	json_object_object_foreach(eff, key, val)
	{
		cu_json_set(merged, key, json_object_get(val));
	}
	kind_write(cx, k, merged, m.mr_uuid, before);
}

static void
kind_delete(struct cu_ctx *cx, const struct kind *k)
{
	struct mrow m;

	if (cu_api_login(cx) != 0 || mrow_find(cx, k->k_type, k->k_perm_delete, &m) != 0 ||
	    begin(cx) != 0)
		return;
	if (mrow_load(cx, CU_DB_STMT_PROPERTYMAPPINGS_API_LOCK, m.mr_uuid, k->k_type, &m) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	mapping_delete(cx, &m);
}

void
cu_api_propertymappings_scope_list(struct cu_ctx *cx)
{
	kind_list(cx, &scope_kind);
}

void
cu_api_propertymappings_scope_get(struct cu_ctx *cx)
{
	kind_get(cx, &scope_kind);
}

void
cu_api_propertymappings_scope_create(struct cu_ctx *cx)
{
	kind_create(cx, &scope_kind);
}

void
cu_api_propertymappings_scope_update(struct cu_ctx *cx)
{
	kind_update(cx, &scope_kind);
}

void
cu_api_propertymappings_scope_delete(struct cu_ctx *cx)
{
	kind_delete(cx, &scope_kind);
}

void
cu_api_propertymappings_saml_list(struct cu_ctx *cx)
{
	kind_list(cx, &saml_kind);
}

void
cu_api_propertymappings_saml_get(struct cu_ctx *cx)
{
	kind_get(cx, &saml_kind);
}

void
cu_api_propertymappings_saml_create(struct cu_ctx *cx)
{
	kind_create(cx, &saml_kind);
}

void
cu_api_propertymappings_saml_update(struct cu_ctx *cx)
{
	kind_update(cx, &saml_kind);
}

void
cu_api_propertymappings_saml_delete(struct cu_ctx *cx)
{
	kind_delete(cx, &saml_kind);
}

/* ---- all/ ----------------------------------------------------------------------------------- */

void
cu_api_propertymappings_all_list(struct cu_ctx *cx)
{
	if (cu_api_login(cx) != 0)
		return;
	/* scope_name is a scope mapping's filter, not PropertyMappingFilterSet's: the list skips
	 * it, as django-filter skips parameters it does not declare. */
	cu_api_list_send(cx, &mapping_list, NULL, 0);
}

void
cu_api_propertymappings_all_types(struct cu_ctx *cx)
{
	struct json_object *arr, *t;

	if (cu_api_login(cx) != 0)
		return;
	arr = cu_json_array(cx->cx_arena);
	/* authentik's TypesMixin, sorted by name. */
	t = json_object_new_object();
	cu_json_set_string(t, "name", "SAML Provider Property Mapping");
	cu_json_set_string(t, "description",
	                   "Map User/Group attribute to SAML Attribute, which can "
	                   "be used by the Service Provider");
	cu_json_set_string(t, "component", "ak-property-mapping-provider-saml-form");
	cu_json_set_string(t, "model_name", SAML_MODEL);
	cu_json_set(t, "icon_url", NULL);
	cu_json_set_bool(t, "requires_enterprise", 0);
	cu_json_set_bool(t, "deprecated", 0);
	json_object_array_add(arr, t);
	t = json_object_new_object();
	cu_json_set_string(t, "name", "Scope Mapping");
	cu_json_set_string(t, "description", "Map an OAuth Scope to users properties");
	cu_json_set_string(t, "component", "ak-property-mapping-provider-scope-form");
	cu_json_set_string(t, "model_name", SCOPE_MODEL);
	cu_json_set(t, "icon_url", NULL);
	cu_json_set_bool(t, "requires_enterprise", 0);
	cu_json_set_bool(t, "deprecated", 0);
	json_object_array_add(arr, t);
	cu_ctx_json(cx, 200, arr);
}

void
cu_api_propertymappings_all_get(struct cu_ctx *cx)
{
	struct mrow m;
	const char *text;

	if (cu_api_login(cx) != 0 || mrow_find(cx, NULL, PERM_MAPPING("view"), &m) != 0)
		return;
	/* PropertyMappingSerializer: the base fields, whatever the kind. */
	text = cu_db_value(m.mr_res, 0, 5);
	cu_http_send_json(cx->cx_resp, 200, text, strlen(text));
}

void
cu_api_propertymappings_all_delete(struct cu_ctx *cx)
{
	struct mrow m;

	if (cu_api_login(cx) != 0 || mrow_find(cx, NULL, PERM_MAPPING("delete"), &m) != 0 ||
	    begin(cx) != 0)
		return;
	if (mrow_load(cx, CU_DB_STMT_PROPERTYMAPPINGS_API_LOCK, m.mr_uuid, NULL, &m) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	mapping_delete(cx, &m);
}

/* ---- all/{pm_uuid}/test/ -------------------------------------------------------------------- */

/* Appends s as Python's json.dumps writes a string (ensure_ascii: \\uXXXX past ASCII). */
static int
py_string(struct cu_buf *b, const char *s, size_t n)
{
	size_t i = 0;
	int rc = cu_buf_putc(b, '"');

	while (rc == 0 && i < n) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp = c;
		size_t len = 1;

		/* The sandbox hands over valid UTF-8 only (expression.h). */
		if (c >= 0xf0 && n - i >= 4) {
			cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3f) << 12) |
			     ((uint32_t)(s[i + 2] & 0x3f) << 6) | (uint32_t)(s[i + 3] & 0x3f);
			len = 4;
		} else if (c >= 0xe0 && n - i >= 3) {
			cp = ((uint32_t)(c & 0x0f) << 12) | ((uint32_t)(s[i + 1] & 0x3f) << 6) |
			     (uint32_t)(s[i + 2] & 0x3f);
			len = 3;
		} else if (c >= 0xc0 && n - i >= 2) {
			cp = ((uint32_t)(c & 0x1f) << 6) | (uint32_t)(s[i + 1] & 0x3f);
			len = 2;
		}
		i += len;
		if (cp == '"' || cp == '\\')
			rc = cu_buf_printf(b, "\\%c", (char)cp);
		else if (cp == '\n')
			rc = cu_buf_puts(b, "\\n");
		else if (cp == '\r')
			rc = cu_buf_puts(b, "\\r");
		else if (cp == '\t')
			rc = cu_buf_puts(b, "\\t");
		else if (cp == '\b')
			rc = cu_buf_puts(b, "\\b");
		else if (cp == '\f')
			rc = cu_buf_puts(b, "\\f");
		else if (cp < 0x20 || (cp >= 0x7f && cp < 0x10000))
			rc = cu_buf_printf(b, "\\u%04x", (unsigned)cp);
		else if (cp >= 0x10000)
			rc = cu_buf_printf(b, "\\u%04x\\u%04x",
			                   (unsigned)(0xd800 + ((cp - 0x10000) >> 10)),
			                   (unsigned)(0xdc00 + ((cp - 0x10000) & 0x3ff)));
		else
			rc = cu_buf_putc(b, (char)cp);
	}
	return rc == 0 ? cu_buf_putc(b, '"') : rc;
}

static int
py_newline(struct cu_buf *b, int indent, int level)
{
	int i, rc = 0;

	if (indent == 0)
		return 0;
	rc = cu_buf_putc(b, '\n');
	for (i = 0; rc == 0 && i < indent * level; i++)
		rc = cu_buf_putc(b, ' ');
	return rc;
}

/*
 * Appends v as Python's json.dumps(v, indent=indent or None) writes it, which is what authentik
 * answers a test with: ", " and ": " between items without indent, a line per item with it.
 * An empty Lua table arrives as [] and is shown as the {} a mapping returns. -1 when too long.
 */
static int
py_dumps(struct cu_buf *b, struct json_object *v, int indent, int level)
{
	size_t i, n;
	int rc = 0, first = 1;

	switch (v == NULL ? json_type_null : json_object_get_type(v)) {
	case json_type_null:
		return cu_buf_puts(b, "null");
	case json_type_boolean:
		return cu_buf_puts(b, json_object_get_boolean(v) ? "true" : "false");
	case json_type_int:
	case json_type_double:
		return cu_buf_puts(b, json_object_to_json_string(v));
	case json_type_string:
		return py_string(b, json_object_get_string(v),
		                 (size_t)json_object_get_string_len(v));
	case json_type_array:
		n = json_object_array_length(v);
		if (n == 0)
			return cu_buf_puts(b, level == 0 ? "{}" : "[]");
		rc = cu_buf_putc(b, '[');
		for (i = 0; rc == 0 && i < n; i++) {
			if (i > 0)
				rc = cu_buf_puts(b, indent ? "," : ", ");
			if (rc == 0)
				rc = py_newline(b, indent, level + 1);
			if (rc == 0)
				rc =
				    py_dumps(b, json_object_array_get_idx(v, i), indent, level + 1);
		}
		if (rc == 0)
			rc = py_newline(b, indent, level);
		return rc == 0 ? cu_buf_putc(b, ']') : rc;
	case json_type_object:
		if (json_object_object_length(v) == 0)
			return cu_buf_puts(b, "{}");
		rc = cu_buf_putc(b, '{');
		{
			json_object_object_foreach(v, key, val)
			{
				if (rc == 0 && !first)
					rc = cu_buf_puts(b, indent ? "," : ", ");
				first = 0;
				if (rc == 0)
					rc = py_newline(b, indent, level + 1);
				if (rc == 0)
					rc = py_string(b, key, strlen(key));
				if (rc == 0)
					rc = cu_buf_puts(b, ": ");
				if (rc == 0)
					rc = py_dumps(b, val, indent, level + 1);
			}
		}
		if (rc == 0)
			rc = py_newline(b, indent, level);
		return rc == 0 ? cu_buf_putc(b, '}') : rc;
	}
	return -1;
}

/*
 * PropertyMappingTestSerializer's fields: user (an integer pk, null allowed), group (a UUID pk,
 * null allowed), context (a dictionary). 0 with the user's id (0: none) and group (NULL: none),
 * -1 errors recorded, -2 database down.
 */
static int
read_test_body(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
               long long *user, const char **group, struct json_object **context)
{
	struct json_object *v = NULL;
	PGresult *res = NULL;

	*user = 0;
	*group = NULL;
	*context = NULL;
	if (json_object_object_get_ex(body, "user", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_int)) {
			cu_api_error(
			    e, "user",
			    cu_arena_printf(cx->cx_arena,
			                    "Incorrect type. Expected pk value, received %s.",
			                    cu_api_py_type(v)));
		} else {
			int64_t id = json_object_get_int64(v);

			*user = id > 0 && id < INT64_MAX ? (long long)id : -1;
			if (*user < 0)
				cu_api_error(
				    e, "user",
				    cu_arena_printf(cx->cx_arena,
				                    "Invalid pk \"%lld\" - object does not exist.",
				                    (long long)id));
		}
	}
	if (json_object_object_get_ex(body, "group", &v) && v != NULL) {
		const char *g =
		    json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;

		if (g == NULL || !cu_api_is_uuid(g)) {
			cu_api_error(e, "group",
			             g != NULL
			                 ? cu_arena_printf(cx->cx_arena,
			                                   "\xe2\x80\x9c%.64s\xe2\x80\x9d is not a "
			                                   "valid UUID.",
			                                   g)
			                 : cu_arena_printf(cx->cx_arena,
			                                   "Incorrect type. Expected pk value, "
			                                   "received %s.",
			                                   cu_api_py_type(v)));
		} else {
			if (cu_db_exec(cx->cx_db, cx->cx_arena, &res,
			               CU_DB_STMT_PROPERTYMAPPINGS_API_GROUP, 1, &g) != CU_OK)
				return -2;
			if (PQntuples(res) < 1)
				cu_api_error(e, "group",
				             cu_arena_printf(
				                 cx->cx_arena,
				                 "Invalid pk \"%s\" - object does not exist.", g));
			else
				*group = g;
		}
	}
	if (json_object_object_get_ex(body, "context", &v)) {
		if (v == NULL || !json_object_is_type(v, json_type_object))
			cu_api_error(
			    e, "context",
			    cu_arena_printf(cx->cx_arena,
			                    "Expected a dictionary of items but got type \"%s\".",
			                    cu_api_py_type(v)));
		else
			*context = v;
	}
	return cu_api_errors_any(e) ? -1 : 0;
}

/*
 * Runs the mapping for a user as the provider would (request.user as the scope mappings see
 * it; no provider or application, as authentik's test has none) and answers
 * {"result": the returned value as Python's json.dumps writes it, or the error, "successful"}.
 * authentik lets whoever may view a mapping run it; running an expression is as much as editing
 * it, so custos asks for the kind's change permission, and view_user on the user tested.
 */
void
cu_api_propertymappings_all_test(struct cu_ctx *cx)
{
	const char *format = cu_http_arg(cx->cx_req, "format_result");
	struct json_object *body = NULL, *context, *request, *value = NULL, *o;
	struct cu_oauth2_user *user = NULL;
	struct cu_expression_limits lim;
	struct cu_api_errors e;
	const char *group, *src, *error = NULL, *perm;
	long long uid;
	struct cu_buf out;
	struct mrow m;
	enum cu_err err;
	int r, ok;

	if (cu_api_login(cx) != 0 || mrow_load(cx, CU_DB_STMT_PROPERTYMAPPINGS_API_GET,
	                                       cu_ctx_param(cx, "pm_uuid"), NULL, &m) != 0)
		return;
	perm = strcmp(m.mr_type, SCOPE_MODEL) == 0  ? PERM_SCOPE("change")
	       : strcmp(m.mr_type, SAML_MODEL) == 0 ? PERM_SAML("change")
	                                            : PERM_MAPPING("change");
	if (cu_api_require(cx, perm, m.mr_uuid) != 0 || cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	r = read_test_body(cx, &e, body, &uid, &group, &context);
	if (r == 0 && uid > 0) {
		err = cu_oauth2_user_load(cx, uid, &user);
		if (err == CU_ERR_NOT_FOUND)
			cu_api_error(&e, "user",
			             cu_arena_printf(cx->cx_arena,
			                             "Invalid pk \"%lld\" - object does not exist.",
			                             uid));
		else if (err != CU_OK)
			r = -2;
	}
	if (r == -2) {
		cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The database");
		return;
	}
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	/* Only users and groups the caller may read are tested (authentik raises 403). */
	if ((user != NULL &&
	     cu_api_require(cx, "authentik_core.view_user", user->ou_user.us_id_text) != 0) ||
	    (group != NULL && cu_api_require(cx, "authentik_core.view_group", group) != 0))
		return;
	request = cu_json_object(cx->cx_arena);
	cu_json_set(request, "user", user != NULL ? json_object_get(user->ou_json) : NULL);
	cu_json_set(request, "context", json_object_get(context));
	memset(&lim, 0, sizeof(lim));
	lim.el_max_instructions = cx->cx_cfg->expression_max_instructions;
	lim.el_max_memory = (size_t)cx->cx_cfg->expression_max_memory_kib * 1024;
	lim.el_deadline = cu_policy_now() + TEST_TIMEOUT;
	src = cu_db_value(m.mr_res, 0, 6);
	err = cu_policy_expression_value(cx->cx_arena, src, strlen(src), request, NULL, &lim, NULL,
	                                 &value, &error);
	ok = err == CU_OK;
	cu_buf_init(&out, TEST_MAX_RESULT);
	if (ok && py_dumps(&out, value, format != NULL && strcasecmp(format, "true") == 0 ? 4 : 0,
	                   0) != 0) {
		ok = 0;
		error = "result too large";
	}
	o = cu_json_object(cx->cx_arena);
	if (ok)
		cu_json_set(o, "result", json_object_new_string_len(out.bf_ptr, (int)out.bf_len));
	else
		cu_json_set_string(o, "result", error != NULL ? error : "the expression failed");
	cu_json_set_bool(o, "successful", ok);
	cu_buf_free(&out);
	cu_ctx_json(cx, 200, o);
}
