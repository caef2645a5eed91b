/*
 * /api/v3/providers/: every provider (all/, authentik's ProviderViewSet) and OAuth2 / OpenID
 * Connect providers (oauth2/, OAuth2ProviderViewSet), by integer id.
 */
#ifndef CU_API_PROVIDERS_H
#define CU_API_PROVIDERS_H

#include "db_stmt.h"
#include "err.h"

struct cu_api_errors;
struct cu_ctx;
struct cu_oauth2_user;
struct json_object;
struct pg_result;

void cu_api_providers_all_list(struct cu_ctx *cx);
void cu_api_providers_all_types(struct cu_ctx *cx);
void cu_api_providers_all_get(struct cu_ctx *cx);
void cu_api_providers_all_delete(struct cu_ctx *cx);

void cu_api_providers_oauth2_list(struct cu_ctx *cx);
void cu_api_providers_oauth2_create(struct cu_ctx *cx);
void cu_api_providers_oauth2_get(struct cu_ctx *cx);
void cu_api_providers_oauth2_update(struct cu_ctx *cx);
void cu_api_providers_oauth2_delete(struct cu_ctx *cx);
/* The endpoints' absolute URLs for this request's scheme and host. */
void cu_api_providers_oauth2_setup_urls(struct cu_ctx *cx);
/* The ID token claims the provider would issue to the caller or to ?for_user=. */
void cu_api_providers_oauth2_preview_user(struct cu_ctx *cx);

/*
 * What the provider kinds' modules share (lib/api/providers_*.c): the base fields of authentik's
 * ProviderSerializer, references, writes, deletion and the user a preview is for. Functions
 * returning int answer or record errors as said; strings and JSON are arena-owned.
 */

/* One provider as a kind's SELECT (columns 0 JSON, 1 id, 2 state, 3 name) or
 * PROVIDERS_API_SELECT (0 JSON, 1 id, 2 type, 3 name, 4 state) gives it. */
struct cu_api_provider_row {
	struct pg_result *pr_res;
	const char *pr_id;
	const char *pr_state; /* the writable fields, secrets in clear: never logged as they are */
	const char *pr_name;
	const char *pr_type; /* "oauth2provider", "samlprovider", ... */
};

/* The {id} of the path when it can name a provider (a positive 32-bit integer); else NULL
 * having answered 404. */
const char *cu_api_providers_path_id(struct cu_ctx *cx);
/* Runs st with params: 0 with *r (model: the kind's model name, its SELECT's columns; NULL:
 * PROVIDERS_API_SELECT's), or -1 having answered (404 when no row, 503). */
int cu_api_providers_load(struct cu_ctx *cx, enum cu_db_stmt st, const char *model, int nparams,
                          const char *const *params, struct cu_api_provider_row *r);
/* The state text as JSON with any client secret masked, fit for an audit diff (NULL text:
 * NULL). */
struct json_object *cu_api_providers_state(struct cu_ctx *cx, const char *text);
/* Opens a transaction: 0, or -1 having answered 503. */
int cu_api_providers_begin(struct cu_ctx *cx);

/* Body readers: each overlays what it accepts on eff. */
/* A ChoiceField: 1 with *out one of choices (a literal of choices), 0 absent, -1 recorded. */
int cu_api_providers_read_choice(struct cu_ctx *cx, struct cu_api_errors *e,
                                 struct json_object *body, const char *key,
                                 const char *const *choices, const char **out);
/* A UUID primary key (null where nullable) that st, given it as $1, returns a row for:
 * PROVIDERS_API_FLOW, _KEYPAIR_ANY, _KEYPAIR_SIGNING (a key pair holding a private key: one
 * without cannot sign and is not found, as authentik's querysets that exclude key_data=""), or a
 * kind's own. 0 fine or absent, -1 recorded, -2 database down. */
int cu_api_providers_read_ref(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
                              const char *key, int nullable, enum cu_db_stmt st,
                              struct json_object *eff);
/* A list of UUID primary keys, each naming a row st (given them as a uuid[] $1) does not report
 * missing; none can exist when can_exist is 0. 0 fine or absent, -1 recorded, -2 database
 * down. */
int cu_api_providers_read_uuid_list(struct cu_ctx *cx, struct cu_api_errors *e,
                                    struct json_object *body, const char *key, int can_exist,
                                    enum cu_db_stmt st, struct json_object *eff);
/* A duration string (authentik's timedelta_string_validator) as parse (cu_config_timedelta,
 * or a kind's own that takes signs) reads it. */
void cu_api_providers_read_duration(struct cu_ctx *cx, struct cu_api_errors *e,
                                    struct json_object *body, const char *key,
                                    int (*parse)(const char *, long long *),
                                    struct json_object *eff);
/* ProviderSerializer's fields: name, the three flows, property_mappings (checked with
 * mappings_st as read_uuid_list does). 0, or -2 database down (errors recorded in e). */
int cu_api_providers_read_base(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
                               enum cu_db_stmt mappings_st, struct json_object *eff);
/* "This field is required." for name, authorization_flow, invalidation_flow and the kind's
 * more (NULL-terminated, may be NULL) when body lacks them (create and PUT). */
void cu_api_providers_check_required(struct cu_api_errors *e, struct json_object *body,
                                     const char *const *more);

/* eff's values as statement parameters: text (NULL for null or absent), "true"/"false", and a
 * list as a PostgreSQL array literal. */
const char *cu_api_providers_eff_text(struct json_object *eff, const char *key);
const char *cu_api_providers_eff_bool(struct json_object *eff, const char *key);
const char *cu_api_providers_eff_array(struct cu_ctx *cx, struct json_object *eff, const char *key);

/* Answers a failed write (rolling back): DRF's unique messages for the constraints a body can
 * break, else 503 / 500. res may be NULL. */
void cu_api_providers_write_failed(struct cu_ctx *cx, enum cu_err err, struct pg_result *res);
/* Deletes the locked provider r, logs model_deleted under its kind, commits, answers 204. */
void cu_api_providers_delete(struct cu_ctx *cx, const struct cu_api_provider_row *r);

/*
 * Whom a preview is for: the caller, or the user ?for_user= names when the caller holds
 * authentik_core.preview_user on it (authentik's get_objects_for_user). 0 with *out (loaded
 * whether active or not, as authentik previews any user), or -1 having answered (400 as
 * authentik: {"for_user": "..."}).
 */
int cu_api_providers_preview_target(struct cu_ctx *cx, struct cu_oauth2_user **out);

#endif
