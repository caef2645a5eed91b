/*
 * /api/v3/providers/ as authentik's ProviderViewSet (authentik/core/api/providers.py) and
 * OAuth2ProviderViewSet (authentik/providers/oauth2/api/providers.py): providers by integer id.
 *
 * An OAuth2 provider is a providers row, its oauth2_providers row, its scope mappings and its
 * trusted providers (sql/0060_oauth2.sql); one statement writes them all. The provider core
 * (lib/providers/oauth2.c) caches providers against providers.serial, which the tables'
 * triggers bump on every write here, so a change is seen by the next request.
 *
 * The client secret is shown to whoever may view the provider, as authentik does, but never
 * goes into an audit event: the event's state holds authentik's mask instead, so a new secret
 * changes nothing the diff compares.
 */
#include "api/providers.h"

#include <ctype.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "api/common.h"
#include "auth.h"
#include "bounds.h"
#include "config.h"
#include "../crypto.h" /* lib/api/crypto.h is the API module */
#include "db.h"
#include "../events.h" /* lib/api/events.h is the API module */
#include "http.h"
#include "json.h"
#include "providers/oauth2.h"
#include "providers/oauth2_redirect.h"
#include "server.h"

#define OAUTH2_APP "authentik_providers_oauth2"
#define OAUTH2_MODEL "oauth2provider"
#define PERM_OAUTH2(verb) OAUTH2_APP "." verb "_oauth2provider"
#define PERM_PROVIDER(verb) "authentik_core." verb "_provider"
/* Django's SafeExceptionReporterFilter.cleansed_substitute, which authentik's events use. */
#define SECRET_MASK "********************"
/* authentik's generate_id() and generate_client_secret() (generate_id(128)). */
#define CLIENT_ID_LEN 40
#define CLIENT_SECRET_LEN 128

static const char *const client_types[] = {"confidential", "public", NULL};
static const char *const sub_modes[] = {"hashed_user_id", "user_id",  "user_uuid", "user_username",
                                        "user_email",     "user_upn", NULL};
static const char *const issuer_modes[] = {"global", "per_provider", NULL};
static const char *const logout_methods[] = {"backchannel", "frontchannel", NULL};
static const char *const matching_modes[] = {"strict", "regex", NULL};
static const char *const redirect_uri_types[] = {"authorization", "logout", NULL};
static const char *const durations[] = {"access_code_validity", "access_token_validity",
                                        "refresh_token_validity", "refresh_token_threshold", NULL};

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- lists ---------------------------------------------------------------------------------- */

static const struct cu_api_sort oauth2_sorts[] = {
    {"name", "p.name"},
    {"pk", "p.id"},
    {"id", "p.id"},
    {"client_id", "o.client_id"},
    {"client_type", "o.client_type"},
    {"authorization_flow", "p.authorization_flow"},
    {"access_code_validity", "o.access_code_validity"},
    {"access_token_validity", "o.access_token_validity"},
    {"refresh_token_validity", "o.refresh_token_validity"},
    {"include_claims_in_id_token", "o.include_claims_in_id_token"},
    {"signing_key", "o.signing_key"},
    {"sub_mode", "o.sub_mode"},
    {"issuer_mode", "o.issuer_mode"},
};

static const struct cu_api_filter oauth2_filters[] = {
    {"name", CU_API_F_TEXT, "p.name = $%d"},
    {"authorization_flow", CU_API_F_UUID, "p.authorization_flow = $%d::uuid"},
    /* Repeated: providers holding any of them, as django-filter's ModelMultipleChoiceFilter. */
    {"property_mappings", CU_API_F_TEXT_ANY,
     "EXISTS (SELECT 1 FROM provider_property_mappings fm WHERE fm.provider_id = p.id AND "
     "fm.pm_uuid::text IN (SELECT lower(w) FROM unnest($%d::text[]) AS w))"},
    {"application", CU_API_F_UUID, "pa.uuid = $%d::uuid"},
    {"client_type", CU_API_F_TEXT, "o.client_type = $%d"},
    {"client_id", CU_API_F_TEXT, "o.client_id = $%d"},
    {"access_code_validity", CU_API_F_TEXT, "o.access_code_validity = $%d"},
    {"access_token_validity", CU_API_F_TEXT, "o.access_token_validity = $%d"},
    {"refresh_token_validity", CU_API_F_TEXT, "o.refresh_token_validity = $%d"},
    {"include_claims_in_id_token", CU_API_F_BOOL, "o.include_claims_in_id_token = $%d::boolean"},
    {"signing_key", CU_API_F_UUID, "o.signing_key = $%d::uuid"},
    {"sub_mode", CU_API_F_TEXT, "o.sub_mode = $%d"},
    {"issuer_mode", CU_API_F_TEXT, "o.issuer_mode = $%d"},
};

static const struct cu_api_list oauth2_list = {
    .al_row = CU_SQL_OAUTH2_PROVIDER "::text",
    .al_from = "FROM " CU_SQL_OAUTH2_PROVIDER_FROM,
    .al_pk = "p.id::text",
    .al_view_perm = PERM_OAUTH2("view"),
    .al_search = "p.name ILIKE $%d",
    .al_sorts = oauth2_sorts,
    .al_nsorts = NITEMS(oauth2_sorts),
    .al_default_sort = "name",
    .al_tiebreak = "p.id",
    .al_filters = oauth2_filters,
    .al_nfilters = NITEMS(oauth2_filters),
};

static const struct cu_api_sort provider_sorts[] = {
    {"pk", "p.id"},
    {"id", "p.id"},
    {"name", "p.name"},
    {"authorization_flow", "p.authorization_flow"},
    {"authentication_flow", "p.authentication_flow"},
    {"invalidation_flow", "p.invalidation_flow"},
};

static const struct cu_api_filter provider_filters[] = {
    /* ProviderFilter: no provider custos has is a backchannel one, so the first half of
     * authentik's condition never holds. */
    {"application__isnull", CU_API_F_BOOL, "(pa.uuid IS NULL) = $%d::boolean"},
    {"backchannel", CU_API_F_BOOL, "false = $%d::boolean"},
};

static const struct cu_api_list provider_list = {
    .al_row = CU_SQL_PROVIDER "::text",
    .al_from = "FROM " CU_SQL_PROVIDER_FROM,
    .al_pk = "p.id::text",
    .al_view_perm = PERM_PROVIDER("view"),
    .al_search = "EXISTS (SELECT 1 FROM unnest(ARRAY[p.name, pa.name]) AS f WHERE f ILIKE $%d)",
    .al_sorts = provider_sorts,
    .al_nsorts = NITEMS(provider_sorts),
    .al_default_sort = "pk",
    .al_tiebreak = "p.id",
    .al_filters = provider_filters,
    .al_nfilters = NITEMS(provider_filters),
};

/* ---- loading -------------------------------------------------------------------------------- */

const char *
cu_api_providers_path_id(struct cu_ctx *cx)
{
	const char *id = cu_ctx_param(cx, "id");
	size_t i;

	if (id != NULL && id[0] != '\0' && id[0] != '0' && strlen(id) <= 10) {
		for (i = 0; isdigit((unsigned char)id[i]); i++)
			;
		if (id[i] == '\0' && strtoll(id, NULL, 10) <= INT32_MAX)
			return id;
	}
	cu_ctx_error(cx, 404, "Not found.");
	return NULL;
}

int
cu_api_providers_load(struct cu_ctx *cx, enum cu_db_stmt st, const char *model, int nparams,
                      const char *const *params, struct cu_api_provider_row *r)
{
	PGresult *res = NULL;
	enum cu_err err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, nparams, params);

	memset(r, 0, sizeof(*r));
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
	if (PQntuples(res) < 1) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	r->pr_res = res;
	r->pr_id = cu_db_value(res, 0, 1);
	if (model != NULL) {
		r->pr_state = cu_db_value(res, 0, 2);
		r->pr_name = cu_db_value(res, 0, 3);
		r->pr_type = model;
	} else {
		r->pr_type = cu_db_value(res, 0, 2);
		r->pr_name = cu_db_value(res, 0, 3);
		r->pr_state = cu_db_value(res, 0, 4);
	}
	return 0;
}

/* 0 with *r loaded by st (an OAUTH2 statement when oauth2 is set), or -1 having answered. */
static int
prow_load(struct cu_ctx *cx, enum cu_db_stmt st, int oauth2, const char *id,
          struct cu_api_provider_row *r)
{
	return cu_api_providers_load(cx, st, oauth2 ? OAUTH2_MODEL : NULL, 1, &id, r);
}

/* The provider of the path, then perm on it: 0, or -1 having answered. */
static int
prow_find(struct cu_ctx *cx, int oauth2, const char *perm, struct cu_api_provider_row *r)
{
	const char *id = cu_api_providers_path_id(cx);

	if (id == NULL ||
	    prow_load(cx,
	              oauth2 ? CU_DB_STMT_PROVIDERS_API_OAUTH2_GET : CU_DB_STMT_PROVIDERS_API_GET,
	              oauth2, id, r) != 0)
		return -1;
	return cu_api_require(cx, perm, r->pr_id);
}

struct json_object *
cu_api_providers_state(struct cu_ctx *cx, const char *text)
{
	struct json_object *o = NULL;

	if (text == NULL || cu_json_parse(cx->cx_arena, text, strlen(text), &o) != CU_OK ||
	    o == NULL)
		return NULL;
	if (json_object_object_get_ex(o, "client_secret", NULL))
		cu_json_set_string(o, "client_secret", SECRET_MASK);
	return o;
}

/* ---- reading a body ------------------------------------------------------------------------- */

/* What DRF prints for the value v of a field (Python's str()). */
static const char *
py_str(struct cu_ctx *cx, struct json_object *v)
{
	if (v == NULL)
		return "None";
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v) ? "True" : "False";
	return cu_arena_strdup(cx->cx_arena, cu_json_text(v, NULL));
}

int
cu_api_providers_read_choice(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
                             const char *key, const char *const *choices, const char **out)
{
	struct json_object *v = NULL;
	size_t i;

	*out = NULL;
	if (!json_object_object_get_ex(body, key, &v))
		return 0;
	if (v == NULL) {
		cu_api_error(e, key, "This field may not be null.");
		return -1;
	}
	for (i = 0; json_object_is_type(v, json_type_string) && choices[i] != NULL; i++) {
		if (strcmp(json_object_get_string(v), choices[i]) == 0) {
			*out = choices[i];
			return 1;
		}
	}
	cu_api_error(
	    e, key,
	    cu_arena_printf(cx->cx_arena, "\"%.256s\" is not a valid choice.", py_str(cx, v)));
	return -1;
}

/* DRF's error for a UUID primary key that is not one. */
static const char *
uuid_pk_msg(struct cu_ctx *cx, struct json_object *v)
{
	if (v != NULL && json_object_is_type(v, json_type_string))
		return cu_arena_printf(cx->cx_arena,
		                       "\xe2\x80\x9c%.64s\xe2\x80\x9d is not a valid UUID.",
		                       json_object_get_string(v));
	return cu_arena_printf(cx->cx_arena, "Incorrect type. Expected pk value, received %s.",
	                       cu_api_py_type(v));
}

static const char *
missing_msg(struct cu_ctx *cx, const char *pk)
{
	return cu_arena_printf(cx->cx_arena, "Invalid pk \"%.64s\" - object does not exist.", pk);
}

static const char *
lower_dup(struct cu_ctx *cx, const char *s)
{
	char *out = cu_arena_strdup(cx->cx_arena, s);
	size_t i;

	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return out;
}

int
cu_api_providers_read_ref(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
                          const char *key, int nullable, enum cu_db_stmt st,
                          struct json_object *eff)
{
	struct json_object *v = NULL;
	PGresult *res = NULL;
	const char *id;

	if (!json_object_object_get_ex(body, key, &v))
		return 0;
	if (v == NULL) {
		if (!nullable) {
			cu_api_error(e, key, "This field may not be null.");
			return -1;
		}
		cu_json_set(eff, key, NULL);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    !cu_api_is_uuid(json_object_get_string(v))) {
		cu_api_error(e, key, uuid_pk_msg(cx, v));
		return -1;
	}
	id = lower_dup(cx, json_object_get_string(v));
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, 1, &id) != CU_OK)
		return -2;
	if (PQntuples(res) < 1) {
		cu_api_error(e, key, missing_msg(cx, id));
		return -1;
	}
	cu_json_set_string(eff, key, id);
	return 0;
}

/* A many-to-many field's list: 1 with *out the list, 0 absent, -1 recorded. */
static int
read_list(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body, const char *key,
          struct json_object **out)
{
	struct json_object *v = NULL;

	*out = NULL;
	if (!json_object_object_get_ex(body, key, &v))
		return 0;
	if (v == NULL) {
		cu_api_error(e, key, "This field may not be null.");
		return -1;
	}
	if (!json_object_is_type(v, json_type_array)) {
		cu_api_error(e, key,
		             cu_arena_printf(cx->cx_arena,
		                             "Expected a list of items but got type \"%s\".",
		                             cu_api_py_type(v)));
		return -1;
	}
	if (json_object_array_length(v) > CU_API_PROVIDERS_MAX_REFS) {
		cu_api_error(e, key,
		             cu_arena_printf(cx->cx_arena,
		                             "Ensure this field has no more than %d elements.",
		                             CU_API_PROVIDERS_MAX_REFS));
		return -1;
	}
	*out = v;
	return 1;
}

int
cu_api_providers_read_uuid_list(struct cu_ctx *cx, struct cu_api_errors *e,
                                struct json_object *body, const char *key, int can_exist,
                                enum cu_db_stmt st, struct json_object *eff)
{
	struct json_object *arr = NULL, *out;
	const char **ids, *lit;
	PGresult *res = NULL;
	size_t i, n;
	int r = read_list(cx, e, body, key, &arr);

	if (r <= 0)
		return r;
	n = json_object_array_length(arr);
	ids = cu_arena_alloc(cx->cx_arena, (n + 1) * sizeof(*ids));
	for (i = 0; i < n; i++) {
		struct json_object *x = json_object_array_get_idx(arr, i);

		if (x == NULL || !json_object_is_type(x, json_type_string) ||
		    !cu_api_is_uuid(json_object_get_string(x))) {
			cu_api_error(e, key, uuid_pk_msg(cx, x));
			return -1;
		}
		ids[i] = lower_dup(cx, json_object_get_string(x));
	}
	if (n > 0 && !can_exist) {
		cu_api_error(e, key, missing_msg(cx, ids[0]));
		return -1;
	}
	if (n > 0) {
		lit = cu_api_pg_array(cx, ids, n);
		if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, 1, &lit) != CU_OK)
			return -2;
		if (PQntuples(res) > 0) {
			cu_api_error(e, key, missing_msg(cx, cu_db_value(res, 0, 0)));
			return -1;
		}
	}
	out = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(out, json_object_new_string(ids[i]));
	cu_json_set(eff, key, out);
	return 0;
}

/* jwt_federation_providers: integer primary keys of OAuth2 providers. Same results. */
static int
read_int_list(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body, const char *key,
              struct json_object *eff)
{
	struct json_object *arr = NULL, *out;
	const char **ids, *lit;
	PGresult *res = NULL;
	size_t i, n;
	int r = read_list(cx, e, body, key, &arr);

	if (r <= 0)
		return r;
	n = json_object_array_length(arr);
	ids = cu_arena_alloc(cx->cx_arena, (n + 1) * sizeof(*ids));
	for (i = 0; i < n; i++) {
		struct json_object *x = json_object_array_get_idx(arr, i);
		int64_t id;

		if (x == NULL || !json_object_is_type(x, json_type_int)) {
			cu_api_error(
			    e, key,
			    cu_arena_printf(cx->cx_arena,
			                    "Incorrect type. Expected pk value, received %s.",
			                    cu_api_py_type(x)));
			return -1;
		}
		id = json_object_get_int64(x);
		ids[i] = cu_arena_printf(cx->cx_arena, "%lld", (long long)id);
		/* Past the column's range no provider can have it. */
		if (id < 1 || id > INT32_MAX) {
			cu_api_error(e, key, missing_msg(cx, ids[i]));
			return -1;
		}
	}
	if (n > 0) {
		lit = cu_api_pg_array(cx, ids, n);
		if (cu_db_exec(cx->cx_db, cx->cx_arena, &res,
		               CU_DB_STMT_PROVIDERS_API_MISSING_OAUTH2, 1, &lit) != CU_OK)
			return -2;
		if (PQntuples(res) > 0) {
			cu_api_error(e, key, missing_msg(cx, cu_db_value(res, 0, 0)));
			return -1;
		}
	}
	out = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(out, json_object_new_int64(strtoll(ids[i], NULL, 10)));
	cu_json_set(eff, key, out);
	return 0;
}

/* Whether re compiles as the POSIX extended expression the redirect matcher anchors it to. */
static int
regex_compiles(const char *re)
{
	return cu_oauth2_redirect_regex_ok(re);
}

/*
 * redirect_uris: a list of {matching_mode, url, redirect_uri_type}. Item errors go where DRF's
 * ListSerializer puts them, a list with one object per item ({} for the good ones); then, as
 * OAuth2ProviderSerializer.validate_redirect_uris, a regex must compile. custos also wants a
 * strict URL to be one the authorization endpoint could ever redirect to.
 */
static void
read_redirect_uris(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
                   struct json_object *eff)
{
	struct json_object *v = NULL, *out, *errs;
	size_t i, n;
	int bad = 0;

	if (!json_object_object_get_ex(body, "redirect_uris", &v))
		return;
	if (v == NULL) {
		cu_api_error(e, "redirect_uris", "This field may not be null.");
		return;
	}
	if (!json_object_is_type(v, json_type_array)) {
		cu_api_error(e, "redirect_uris",
		             cu_arena_printf(cx->cx_arena,
		                             "Expected a list of items but got type \"%s\".",
		                             cu_api_py_type(v)));
		return;
	}
	n = json_object_array_length(v);
	if (n > CU_OAUTH2_MAX_REDIRECT_URIS) {
		cu_api_error(e, "redirect_uris",
		             cu_arena_printf(cx->cx_arena,
		                             "Ensure this field has no more than %d elements.",
		                             CU_OAUTH2_MAX_REDIRECT_URIS));
		return;
	}
	errs = cu_json_array(cx->cx_arena);
	out = json_object_new_array();
	for (i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(v, i), *entry;
		struct cu_api_errors ie;
		const char *mode = NULL, *url = NULL, *type = NULL;
		size_t max;

		cu_api_errors_init(&ie, cx);
		if (it == NULL || !json_object_is_type(it, json_type_object)) {
			cu_api_error(
			    &ie, NULL,
			    cu_arena_printf(cx->cx_arena,
			                    "Invalid data. Expected a dictionary, but got %s.",
			                    cu_api_py_type(it)));
		} else {
			if (cu_api_providers_read_choice(cx, &ie, it, "matching_mode",
			                                 matching_modes, &mode) == 0)
				cu_api_error(&ie, "matching_mode", "This field is required.");
			max = mode != NULL && strcmp(mode, "regex") == 0
			          ? CU_OAUTH2_MAX_REGEX
			          : CU_OAUTH2_MAX_REDIRECT_URI;
			if (cu_api_field_string(&ie, it, "url", max, 0, 0, &url) == 0)
				cu_api_error(&ie, "url", "This field is required.");
			if (cu_api_providers_read_choice(cx, &ie, it, "redirect_uri_type",
			                                 redirect_uri_types, &type) == 0)
				type = "authorization";
			if (!cu_api_errors_any(&ie) && strcmp(mode, "strict") == 0 &&
			    !cu_oauth2_redirect_uri_valid(url, strlen(url)))
				cu_api_error(&ie, "url", "Enter a valid URL.");
		}
		json_object_array_add(errs, json_object_get(ie.ae_obj));
		if (cu_api_errors_any(&ie)) {
			bad = 1;
			continue;
		}
		entry = json_object_new_object();
		json_object_object_add(entry, "matching_mode", json_object_new_string(mode));
		json_object_object_add(entry, "url", json_object_new_string(url));
		json_object_object_add(entry, "redirect_uri_type", json_object_new_string(type));
		json_object_array_add(out, entry);
	}
	if (bad) {
		json_object_put(out);
		json_object_object_add(e->ae_obj, "redirect_uris", json_object_get(errs));
		e->ae_count++;
		return;
	}
	for (i = 0; i < n; i++) {
		struct json_object *entry = json_object_array_get_idx(out, i);
		const char *mode =
		    json_object_get_string(json_object_object_get(entry, "matching_mode"));
		const char *url = json_object_get_string(json_object_object_get(entry, "url"));

		if (strcmp(mode, "regex") == 0 && !regex_compiles(url)) {
			cu_api_error(
			    e, "redirect_uris",
			    cu_arena_printf(cx->cx_arena, "Invalid Regex Pattern: %s", url));
			json_object_put(out);
			return;
		}
	}
	cu_json_set(eff, "redirect_uris", out);
}

void
cu_api_providers_read_duration(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
                               const char *key, int (*parse)(const char *, long long *),
                               struct json_object *eff)
{
	const char *s = NULL;
	long long secs;

	if (cu_api_field_string(e, body, key, 256, 0, 0, &s) <= 0)
		return;
	if (parse(s, &secs) != 0)
		cu_api_error(
		    e, key,
		    cu_arena_printf(cx->cx_arena,
		                    "%s is not in the correct format of 'hours=3;minutes=1'.", s));
	else
		cu_json_set_string(eff, key, s);
}

int
cu_api_providers_read_base(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
                           enum cu_db_stmt mappings_st, struct json_object *eff)
{
	const char *s = NULL;

	if (cu_api_field_string(e, body, "name", CU_API_PROVIDERS_MAX_NAME, 0, 0, &s) > 0)
		cu_json_set_string(eff, "name", s);
	if (cu_api_providers_read_ref(cx, e, body, "authentication_flow", 1,
	                              CU_DB_STMT_PROVIDERS_API_FLOW, eff) == -2 ||
	    cu_api_providers_read_ref(cx, e, body, "authorization_flow", 0,
	                              CU_DB_STMT_PROVIDERS_API_FLOW, eff) == -2 ||
	    cu_api_providers_read_ref(cx, e, body, "invalidation_flow", 0,
	                              CU_DB_STMT_PROVIDERS_API_FLOW, eff) == -2 ||
	    cu_api_providers_read_uuid_list(cx, e, body, "property_mappings", 1, mappings_st,
	                                    eff) == -2)
		return -2;
	return 0;
}

/*
 * Overlays the body's fields on eff (the stored state, or the defaults of a new provider) and
 * checks them, references against the database: 0, -1 errors recorded, -2 database down.
 */
static int
read_body(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
          struct json_object *eff)
{
	static const char *const choice_keys[] = {"client_type", "sub_mode", "issuer_mode",
	                                          "logout_method", NULL};
	const char *const *choice_sets[] = {client_types, sub_modes, issuer_modes, logout_methods};
	static const char *const bool_keys[] = {"include_claims_in_id_token", "pkce_required",
	                                        NULL};
	const char *s = NULL;
	size_t i;
	int b;

	if (cu_api_providers_read_base(cx, e, body, CU_DB_STMT_PROVIDERS_API_MISSING_MAPPING,
	                               eff) == -2)
		return -2;
	for (i = 0; choice_keys[i] != NULL; i++)
		if (cu_api_providers_read_choice(cx, e, body, choice_keys[i], choice_sets[i], &s) >
		    0)
			cu_json_set_string(eff, choice_keys[i], s);
	if (cu_api_field_string(e, body, "client_id", CU_OAUTH2_MAX_CLIENT_ID, 0, 0, &s) > 0)
		cu_json_set_string(eff, "client_id", s);
	if (cu_api_field_string(e, body, "client_secret", CU_API_PROVIDERS_MAX_SECRET, 1, 0, &s) >
	    0)
		cu_json_set_string(eff, "client_secret", s);
	for (i = 0; durations[i] != NULL; i++)
		cu_api_providers_read_duration(cx, e, body, durations[i], cu_config_timedelta, eff);
	for (i = 0; bool_keys[i] != NULL; i++)
		if (cu_api_field_bool(e, body, bool_keys[i], &b) > 0)
			cu_json_set_bool(eff, bool_keys[i], b);
	if (cu_api_providers_read_ref(cx, e, body, "signing_key", 1,
	                              CU_DB_STMT_PROVIDERS_API_KEYPAIR_SIGNING, eff) == -2 ||
	    cu_api_providers_read_ref(cx, e, body, "encryption_key", 1,
	                              CU_DB_STMT_PROVIDERS_API_KEYPAIR_ANY, eff) == -2)
		return -2;
	read_redirect_uris(cx, e, body, eff);
	if (cu_api_field_string(e, body, "logout_uri", CU_OAUTH2_MAX_REDIRECT_URI, 1, 0, &s) > 0) {
		/* A back-channel logout posts to it and a front-channel one loads it: an absolute
		 * http(s) URI, held to the rules of a redirect URI. */
		if (s[0] != '\0' && !cu_oauth2_redirect_uri_valid(s, strlen(s)))
			cu_api_error(e, "logout_uri", "Enter a valid URL.");
		else
			cu_json_set_string(eff, "logout_uri", s);
	}
	if (cu_api_providers_read_uuid_list(cx, e, body, "jwt_federation_sources", 0,
	                                    CU_DB_STMT_PROVIDERS_API_MISSING_MAPPING, eff) == -2 ||
	    read_int_list(cx, e, body, "jwt_federation_providers", eff) == -2)
		return -2;
	return cu_api_errors_any(e) ? -1 : 0;
}

/* A new provider's state: the model's defaults, with a fresh client id and secret. */
static struct json_object *
oauth2_defaults(struct cu_ctx *cx)
{
	struct json_object *eff = cu_json_object(cx->cx_arena);
	char id[CLIENT_ID_LEN + 1], secret[CLIENT_SECRET_LEN + 1];

	cu_crypto_random_alnum(id, CLIENT_ID_LEN);
	cu_crypto_random_alnum(secret, CLIENT_SECRET_LEN);
	cu_json_set(eff, "authentication_flow", NULL);
	cu_json_set(eff, "property_mappings", json_object_new_array());
	cu_json_set_string(eff, "client_type", "confidential");
	cu_json_set_string(eff, "client_id", id);
	cu_json_set_string(eff, "client_secret", secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	cu_json_set_string(eff, "access_code_validity", "minutes=1");
	cu_json_set_string(eff, "access_token_validity", "hours=1");
	cu_json_set_string(eff, "refresh_token_validity", "days=30");
	cu_json_set_string(eff, "refresh_token_threshold", "seconds=0");
	cu_json_set_bool(eff, "include_claims_in_id_token", 1);
	cu_json_set(eff, "signing_key", NULL);
	cu_json_set(eff, "encryption_key", NULL);
	cu_json_set(eff, "redirect_uris", json_object_new_array());
	cu_json_set_string(eff, "logout_uri", "");
	cu_json_set_string(eff, "logout_method", "backchannel");
	cu_json_set_string(eff, "sub_mode", "hashed_user_id");
	cu_json_set_string(eff, "issuer_mode", "per_provider");
	cu_json_set(eff, "jwt_federation_sources", json_object_new_array());
	cu_json_set(eff, "jwt_federation_providers", json_object_new_array());
	cu_json_set_bool(eff, "pkce_required", 0);
	return eff;
}

void
cu_api_providers_check_required(struct cu_api_errors *e, struct json_object *body,
                                const char *const *more)
{
	static const char *const required[] = {"name", "authorization_flow", "invalidation_flow",
	                                       NULL};
	size_t i;

	for (i = 0; required[i] != NULL; i++)
		if (!json_object_object_get_ex(body, required[i], NULL))
			cu_api_error(e, required[i], "This field is required.");
	for (i = 0; more != NULL && more[i] != NULL; i++)
		if (!json_object_object_get_ex(body, more[i], NULL))
			cu_api_error(e, more[i], "This field is required.");
}

/* The fields PUT (and create) must carry (ProviderSerializer's extra_kwargs, redirect_uris). */
static void
check_required(struct cu_api_errors *e, struct json_object *body)
{
	static const char *const more[] = {"redirect_uris", NULL};

	cu_api_providers_check_required(e, body, more);
}

/* ---- writing -------------------------------------------------------------------------------- */

const char *
cu_api_providers_eff_text(struct json_object *eff, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(eff, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

const char *
cu_api_providers_eff_bool(struct json_object *eff, const char *key)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(eff, key, &v) && json_object_get_boolean(v) ? "true"
	                                                                             : "false";
}

const char *
cu_api_providers_eff_array(struct cu_ctx *cx, struct json_object *eff, const char *key)
{
	struct json_object *arr = NULL;
	const char **items;
	size_t i, n;

	if (!json_object_object_get_ex(eff, key, &arr) || arr == NULL ||
	    !json_object_is_type(arr, json_type_array))
		return "{}";
	n = json_object_array_length(arr);
	items = cu_arena_alloc(cx->cx_arena, (n + 1) * sizeof(*items));
	for (i = 0; i < n; i++)
		items[i] = json_object_get_string(json_object_array_get_idx(arr, i));
	return cu_api_pg_array(cx, items, n);
}

void
cu_api_providers_write_failed(struct cu_ctx *cx, enum cu_err err, PGresult *res)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *constraint =
	    res != NULL ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
	struct cu_api_errors e;

	cu_api_errors_init(&e, cx);
	if (err == CU_ERR_INVALID && state != NULL && strcmp(state, "23505") == 0 &&
	    constraint != NULL && strcmp(constraint, "oauth2_providers_client_id_key") == 0) {
		cu_api_reject(cx, &e, "client_id",
		              "OAuth2/OpenID Provider with this Client ID already exists.");
		return;
	}
	if (err == CU_ERR_INVALID && state != NULL && strcmp(state, "23505") == 0) {
		cu_api_reject(cx, &e, "name", "provider with this name already exists.");
		return;
	}
	/* A flow, mapping or key deleted between the check and the write. */
	if (err == CU_ERR_INVALID && state != NULL && strcmp(state, "23503") == 0) {
		cu_api_reject(cx, &e, NULL, "A referenced object does not exist.");
		return;
	}
	cu_api_db_fail(cx, err);
}

/* Writes eff (a new provider when id is NULL) in the open transaction, logs the event with
 * the diff against before, commits and answers with the provider. */
static void
oauth2_write(struct cu_ctx *cx, struct json_object *eff, const char *id, struct json_object *before)
{
	struct json_object *v = NULL, *after;
	const char *p[23];
	PGresult *res = NULL;
	struct cu_api_provider_row r;
	enum cu_err err;
	size_t i;

	p[0] = id;
	p[1] = cu_api_providers_eff_text(eff, "name");
	p[2] = cu_api_providers_eff_text(eff, "authentication_flow");
	p[3] = cu_api_providers_eff_text(eff, "authorization_flow");
	p[4] = cu_api_providers_eff_text(eff, "invalidation_flow");
	p[5] = cu_api_providers_eff_text(eff, "client_type");
	p[6] = cu_api_providers_eff_text(eff, "client_id");
	p[7] = cu_api_providers_eff_text(eff, "client_secret");
	p[8] = json_object_object_get_ex(eff, "redirect_uris", &v) && v != NULL
	           ? cu_json_text(v, NULL)
	           : "[]";
	for (i = 0; durations[i] != NULL; i++)
		p[9 + i] = cu_api_providers_eff_text(eff, durations[i]);
	p[13] = cu_api_providers_eff_bool(eff, "include_claims_in_id_token");
	p[14] = cu_api_providers_eff_text(eff, "signing_key");
	p[15] = cu_api_providers_eff_text(eff, "encryption_key");
	p[16] = cu_api_providers_eff_text(eff, "sub_mode");
	p[17] = cu_api_providers_eff_text(eff, "issuer_mode");
	p[18] = cu_api_providers_eff_text(eff, "logout_uri");
	p[19] = cu_api_providers_eff_text(eff, "logout_method");
	p[20] = cu_api_providers_eff_bool(eff, "pkce_required");
	p[21] = cu_api_providers_eff_array(cx, eff, "property_mappings");
	p[22] = cu_api_providers_eff_array(cx, eff, "jwt_federation_providers");
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res,
	                 id == NULL ? CU_DB_STMT_PROVIDERS_API_OAUTH2_INSERT
	                            : CU_DB_STMT_PROVIDERS_API_OAUTH2_UPDATE,
	                 23, p);
	if (err != CU_OK) {
		cu_api_providers_write_failed(cx, err, res);
		return;
	}
	if (PQntuples(res) < 1) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	id = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
	if (prow_load(cx, CU_DB_STMT_PROVIDERS_API_OAUTH2_GET, 1, id, &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	after = cu_api_providers_state(cx, r.pr_state);
	err = after == NULL
	          ? CU_ERR_INTERNAL
	          : cu_events_model(cx, before == NULL ? "model_created" : "model_updated",
	                            OAUTH2_APP, OAUTH2_MODEL, id, r.pr_name,
	                            cu_api_json_diff(cx, before, after, NULL));
	if (cu_api_commit(cx, err) != 0)
		return;
	cu_api_send_row(cx, before == NULL ? 201 : 200, r.pr_res);
}

void
cu_api_providers_delete(struct cu_ctx *cx, const struct cu_api_provider_row *r)
{
	/* The app label of each kind's model, for the event. */
	static const char *const kinds[][2] = {{OAUTH2_MODEL, OAUTH2_APP},
	                                       {"samlprovider", "authentik_providers_saml"}};
	struct json_object *before = cu_api_providers_state(cx, r->pr_state);
	const char *app = "authentik_core", *model = "provider";
	enum cu_err err;
	size_t i;

	for (i = 0; r->pr_type != NULL && i < NITEMS(kinds); i++) {
		if (strcmp(r->pr_type, kinds[i][0]) == 0) {
			model = kinds[i][0];
			app = kinds[i][1];
		}
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_PROVIDERS_API_DELETE, 1,
	                 &r->pr_id);
	if (err == CU_OK)
		err = cu_events_model(cx, "model_deleted", app, model, r->pr_id, r->pr_name,
		                      before != NULL ? cu_api_json_diff(cx, before, NULL, NULL)
		                                     : NULL);
	if (cu_api_commit(cx, err) != 0)
		return;
	cu_api_no_content(cx);
}

int
cu_api_providers_begin(struct cu_ctx *cx)
{
	enum cu_err err = cu_db_begin(cx->cx_db);

	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
	return 0;
}

/* ---- /providers/oauth2/ --------------------------------------------------------------------- */

void
cu_api_providers_oauth2_list(struct cu_ctx *cx)
{
	if (cu_api_login(cx) != 0)
		return;
	cu_api_list_send(cx, &oauth2_list, NULL, 0);
}

void
cu_api_providers_oauth2_get(struct cu_ctx *cx)
{
	struct cu_api_provider_row r;

	if (cu_api_login(cx) != 0 || prow_find(cx, 1, PERM_OAUTH2("view"), &r) != 0)
		return;
	cu_api_send_row(cx, 200, r.pr_res);
}

void
cu_api_providers_oauth2_create(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *eff;
	struct cu_api_errors e;
	int r;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, PERM_OAUTH2("add"), NULL) != 0 ||
	    cu_api_body(cx, &body) != 0 || cu_api_providers_begin(cx) != 0)
		return;
	eff = oauth2_defaults(cx);
	cu_api_errors_init(&e, cx);
	r = read_body(cx, &e, body, eff);
	check_required(&e, body);
	if (r == -2) {
		cu_api_db_fail(cx, CU_ERR_UNAVAILABLE);
		return;
	}
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	oauth2_write(cx, eff, NULL, NULL);
}

void
cu_api_providers_oauth2_update(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *before, *eff = NULL;
	struct cu_api_errors e;
	struct cu_api_provider_row p;
	int r;

	if (cu_api_login(cx) != 0 || prow_find(cx, 1, PERM_OAUTH2("change"), &p) != 0 ||
	    cu_api_body(cx, &body) != 0 || cu_api_providers_begin(cx) != 0)
		return;
	if (prow_load(cx, CU_DB_STMT_PROVIDERS_API_OAUTH2_LOCK, 1, p.pr_id, &p) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	before = cu_api_providers_state(cx, p.pr_state);
	if (before == NULL ||
	    cu_json_parse(cx->cx_arena, p.pr_state, strlen(p.pr_state), &eff) != CU_OK) {
		cu_api_db_fail(cx, CU_ERR_INTERNAL);
		return;
	}
	cu_api_errors_init(&e, cx);
	r = read_body(cx, &e, body, eff);
	if (cx->cx_req->rq_method == CU_HTTP_PUT)
		check_required(&e, body);
	if (r == -2) {
		cu_api_db_fail(cx, CU_ERR_UNAVAILABLE);
		return;
	}
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	oauth2_write(cx, eff, p.pr_id, before);
}

void
cu_api_providers_oauth2_delete(struct cu_ctx *cx)
{
	struct cu_api_provider_row r;

	if (cu_api_login(cx) != 0 || prow_find(cx, 1, PERM_OAUTH2("delete"), &r) != 0 ||
	    cu_api_providers_begin(cx) != 0)
		return;
	if (prow_load(cx, CU_DB_STMT_PROVIDERS_API_OAUTH2_LOCK, 1, r.pr_id, &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	cu_api_providers_delete(cx, &r);
}

/*
 * authentik answers setup_urls to any signed-in user; custos asks for view permission on the
 * provider, as it does for the provider itself. Without an application only the shared
 * endpoints exist: provider_info and logout are null, jwks is left out, and a per-provider
 * issuer is null.
 */
void
cu_api_providers_oauth2_setup_urls(struct cu_ctx *cx)
{
	const struct cu_oauth2_provider *op = NULL;
	struct json_object *o;
	const char *base;
	struct cu_api_provider_row r;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || prow_find(cx, 1, PERM_OAUTH2("view"), &r) != 0)
		return;
	err = cu_oauth2_provider_by_id(cx, (int)strtol(r.pr_id, NULL, 10), 1, &op);
	if (err != CU_OK) {
		if (err == CU_ERR_NOT_FOUND)
			cu_ctx_error(cx, 404, "Not found.");
		else
			cu_ctx_fail(cx, err, "The provider");
		return;
	}
	base = cu_oauth2_base_url(cx);
	o = cu_json_object(cx->cx_arena);
	if (strcmp(op->op_issuer_mode, "per_provider") == 0 && op->op_app_slug == NULL)
		cu_json_set(o, "issuer", NULL);
	else
		cu_json_set_string(o, "issuer", cu_oauth2_issuer(cx, op));
	cu_json_set_string(o, "authorize",
	                   cu_arena_printf(cx->cx_arena, "%s/application/o/authorize/", base));
	cu_json_set_string(o, "token",
	                   cu_arena_printf(cx->cx_arena, "%s/application/o/token/", base));
	cu_json_set_string(o, "user_info",
	                   cu_arena_printf(cx->cx_arena, "%s/application/o/userinfo/", base));
	if (op->op_app_slug == NULL) {
		cu_json_set(o, "provider_info", NULL);
		cu_json_set(o, "logout", NULL);
	} else {
		cu_json_set_string(
		    o, "provider_info",
		    cu_arena_printf(cx->cx_arena,
		                    "%s/application/o/%s/.well-known/openid-configuration", base,
		                    op->op_app_slug));
		cu_json_set_string(o, "logout",
		                   cu_arena_printf(cx->cx_arena, "%s/application/o/%s/end-session/",
		                                   base, op->op_app_slug));
		cu_json_set_string(o, "jwks",
		                   cu_arena_printf(cx->cx_arena, "%s/application/o/%s/jwks/", base,
		                                   op->op_app_slug));
	}
	cu_ctx_json(cx, 200, o);
}

/*
 * Whom to preview for: the caller, or the user ?for_user= names when the caller holds
 * preview_user on it (authentik's get_objects_for_user). 0 with *out (loaded whether active or
 * not, as authentik previews any user), or -1 having answered (400 as authentik:
 * {"for_user": "..."}).
 */
int
cu_api_providers_preview_target(struct cu_ctx *cx, struct cu_oauth2_user **out)
{
	const char *for_user = cu_http_arg(cx->cx_req, "for_user");
	const char *msg = "User not found";
	struct json_object *o;
	long long id = cx->cx_user->us_id;
	enum cu_err err;

	if (for_user != NULL) {
		char *end = NULL;
		int ok;

		if (for_user[0] == '\0' || strlen(for_user) > 18 ||
		    !isdigit((unsigned char)for_user[for_user[0] == '-' ? 1 : 0]) ||
		    (id = strtoll(for_user, &end, 10), *end != '\0')) {
			msg = "input must be numerical";
			goto refuse;
		}
		ok = cu_auth_has_perm(cx, cx->cx_user, "authentik_core.preview_user",
		                      cu_arena_printf(cx->cx_arena, "%lld", id));
		if (ok < 0) {
			cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The database");
			return -1;
		}
		if (!ok)
			goto refuse;
	}
	err = cu_oauth2_user_load(cx, id, out);
	if (err == CU_OK)
		return 0;
	if (err != CU_ERR_NOT_FOUND) {
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
refuse:
	o = cu_json_object(cx->cx_arena);
	cu_json_set_string(o, "for_user", msg);
	cu_ctx_json(cx, 400, o);
	return -1;
}

/*
 * authentik's preview is the ID token the provider would issue for a grant holding every scope
 * its mappings name (IDToken.new(...).to_dict()): the registered claims, then the mappings'
 * claims when the provider includes claims in its ID tokens. It is made up here, never signed
 * nor stored.
 */
void
cu_api_providers_oauth2_preview_user(struct cu_ctx *cx)
{
	const struct cu_oauth2_provider *op = NULL;
	struct json_object *scopes, *claims = NULL, *preview, *o;
	struct cu_oauth2_user *user = NULL;
	char jti[CLIENT_ID_LEN + 1];
	struct cu_api_provider_row r;
	enum cu_err err;
	time_t now = time(NULL);
	size_t i, n;

	if (cu_api_login(cx) != 0 || prow_find(cx, 1, PERM_OAUTH2("view"), &r) != 0 ||
	    cu_api_providers_preview_target(cx, &user) != 0)
		return;
	err = cu_oauth2_provider_by_id(cx, (int)strtol(r.pr_id, NULL, 10), 1, &op);
	if (err != CU_OK) {
		if (err == CU_ERR_NOT_FOUND)
			cu_ctx_error(cx, 404, "Not found.");
		else
			cu_ctx_fail(cx, err, "The provider");
		return;
	}
	scopes = cu_json_array(cx->cx_arena);
	n = op->op_mappings != NULL ? json_object_array_length(op->op_mappings) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(op->op_mappings, i);
		const char *name = NULL;

		if (cu_json_get_string(m, "scope_name", &name) == 0 &&
		    !cu_oauth2_scopes_has(scopes, name))
			json_object_array_add(scopes, json_object_new_string(name));
	}
	if (op->op_include_claims_in_id_token &&
	    (err = cu_oauth2_claims_of(cx, op, user, scopes, &claims)) != CU_OK) {
		cu_ctx_fail(cx, err, "The provider");
		return;
	}
	cu_crypto_random_alnum(jti, CLIENT_ID_LEN);
	preview = cu_json_object(cx->cx_arena);
	/* A per-provider issuer needs an application; without one authentik leaves iss out. */
	if (strcmp(op->op_issuer_mode, "global") == 0 || op->op_app_slug != NULL)
		cu_json_set_string(preview, "iss", cu_oauth2_issuer(cx, op));
	cu_json_set_string(preview, "sub", cu_oauth2_sub(cx, op, &user->ou_user));
	cu_json_set_string(preview, "aud", op->op_client_id);
	cu_json_set_int(preview, "exp", (int64_t)now + op->op_access_validity);
	cu_json_set_int(preview, "iat", (int64_t)now);
	cu_json_set_int(preview, "auth_time", (int64_t)now);
	cu_json_set_string(preview, "acr", CU_OAUTH2_ACR);
	cu_json_set_string(preview, "jti", jti);
	if (claims != NULL) {
		json_object_object_foreach(claims, key, val)
		{
			cu_json_set(preview, key, json_object_get(val));
		}
	}
	o = cu_json_object(cx->cx_arena);
	cu_json_set(o, "preview", json_object_get(preview));
	cu_ctx_json(cx, 200, o);
}

/* ---- /providers/all/ ------------------------------------------------------------------------ */

void
cu_api_providers_all_list(struct cu_ctx *cx)
{
	if (cu_api_login(cx) != 0)
		return;
	cu_api_list_send(cx, &provider_list, NULL, 0);
}

/* authentik's TypesMixin: each creatable kind (verbose name, docstring, component, model name,
 * icon), sorted by name. "SAML Provider from Metadata" is import_metadata's form. */
void
cu_api_providers_all_types(struct cu_ctx *cx)
{
	static const char *const types[][5] = {
	    {"OAuth2/OpenID Provider",
	     "OAuth2 Provider for generic OAuth and OpenID Connect Applications.",
	     "ak-provider-oauth2-form", OAUTH2_MODEL,
	     "/static/authentik/sources/openidconnect.svg"},
	    {"SAML Provider", "SAML 2.0 Endpoint for applications which support SAML.",
	     "ak-provider-saml-form", "samlprovider", "/static/authentik/sources/saml.png"},
	    {"SAML Provider from Metadata", "Create a SAML Provider by importing its Metadata.",
	     "ak-provider-saml-import-form", "samlproviderimportmodel",
	     "/static/authentik/sources/saml.png"},
	};
	struct json_object *arr, *t;
	size_t i;

	if (cu_api_login(cx) != 0)
		return;
	arr = cu_json_array(cx->cx_arena);
	for (i = 0; i < NITEMS(types); i++) {
		t = json_object_new_object();
		cu_json_set_string(t, "name", types[i][0]);
		cu_json_set_string(t, "description", types[i][1]);
		cu_json_set_string(t, "component", types[i][2]);
		cu_json_set_string(t, "model_name", types[i][3]);
		cu_json_set_string(t, "icon_url", types[i][4]);
		cu_json_set_bool(t, "requires_enterprise", 0);
		cu_json_set_bool(t, "deprecated", 0);
		json_object_array_add(arr, t);
	}
	cu_ctx_json(cx, 200, arr);
}

void
cu_api_providers_all_get(struct cu_ctx *cx)
{
	struct cu_api_provider_row r;

	if (cu_api_login(cx) != 0 || prow_find(cx, 0, PERM_PROVIDER("view"), &r) != 0)
		return;
	cu_api_send_row(cx, 200, r.pr_res);
}

void
cu_api_providers_all_delete(struct cu_ctx *cx)
{
	struct cu_api_provider_row r;

	if (cu_api_login(cx) != 0 || prow_find(cx, 0, PERM_PROVIDER("delete"), &r) != 0 ||
	    cu_api_providers_begin(cx) != 0)
		return;
	if (prow_load(cx, CU_DB_STMT_PROVIDERS_API_LOCK, 0, r.pr_id, &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	cu_api_providers_delete(cx, &r);
}
