/*
 * /api/v3/policies/ as authentik's PolicyViewSet (with its test action), the viewsets of each
 * kind (event matcher, expression, password, password expiry, reputation and its scores,
 * unique password, dummy) and PolicyBindingViewSet (authentik/policies/<kind>/api.py).
 *
 * Every policy is a row of policies with its kind's fields in the kind's table
 * (sql/0051_policy_kinds.sql); the kinds beside the event matcher share one table-driven set of
 * handlers, their kind chosen by the path. Reputation scores live in Redis
 * (lib/policies/reputation.c), so their list is a SCAN, not a query. A binding's target is any
 * policy binding model: each target table registers its keys in policy_binding_models
 * (sql/0040_policies.sql), so a binding goes with its target.
 */
#include "api/policies.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "api/common.h"
#include "auth.h"
#include "cache.h"
#include "policies/engine.h"
#include "policies/expression.h"
#include "policies/reputation.h"
#include "db.h"
#include "../events.h" /* lib/api/events.h is the API module */
#include "http.h"
#include "json.h"
#include "log.h"
#include "server.h"

#define PERM_VIEW_POLICY "authentik_policies.view_policy"
#define PERM_DELETE_POLICY "authentik_policies.delete_policy"
/* Testing runs the policy (a Lua expression, a reputation lookup) with a context the caller
 * chooses: it needs the right to change the policy, not only to read it. */
#define PERM_CHANGE_POLICY "authentik_policies.change_policy"
#define EM_APP "authentik_policies_event_matcher"
#define EM_MODEL "eventmatcherpolicy"
#define BINDING_APP "authentik_policies"
#define BINDING_MODEL "policybinding"

/* authentik's choices for an event matcher: EventActions, AppEnum and ModelEnum of its schema. */
static const char *const event_actions[] = {
    "login",
    "login_failed",
    "logout",
    "user_write",
    "suspicious_request",
    "password_set",
    "secret_view",
    "secret_rotate",
    "invitation_used",
    "authorize_application",
    "source_linked",
    "impersonation_started",
    "impersonation_ended",
    "flow_execution",
    "policy_execution",
    "policy_exception",
    "property_mapping_exception",
    "system_task_execution",
    "system_task_exception",
    "system_exception",
    "configuration_error",
    "configuration_warning",
    "model_created",
    "model_updated",
    "model_deleted",
    "email_sent",
    "update_available",
    "export_ready",
    "review_initiated",
    "review_overdue",
    "review_attested",
    "review_completed",
    "custom_",
    NULL,
};

static const char *const app_choices[] = {
    "authentik.commands",
    "authentik.tenants",
    "authentik.tasks",
    "authentik.admin",
    "authentik.api",
    "authentik.core",
    "authentik.crypto",
    "authentik.endpoints",
    "authentik.endpoints.connectors.agent",
    "authentik.enterprise",
    "authentik.events",
    "authentik.admin.files",
    "authentik.flows",
    "authentik.outposts",
    "authentik.policies.dummy",
    "authentik.policies.event_matcher",
    "authentik.policies.expiry",
    "authentik.policies.expression",
    "authentik.policies.geoip",
    "authentik.policies.password",
    "authentik.policies.reputation",
    "authentik.policies",
    "authentik.providers.ldap",
    "authentik.providers.oauth2",
    "authentik.providers.proxy",
    "authentik.providers.rac",
    "authentik.providers.radius",
    "authentik.providers.saml",
    "authentik.providers.scim",
    "authentik.rbac",
    "authentik.recovery",
    "authentik.sources.kerberos",
    "authentik.sources.ldap",
    "authentik.sources.oauth",
    "authentik.sources.plex",
    "authentik.sources.saml",
    "authentik.sources.scim",
    "authentik.sources.telegram",
    "authentik.stages.authenticator",
    "authentik.stages.authenticator_duo",
    "authentik.stages.authenticator_email",
    "authentik.stages.authenticator_sms",
    "authentik.stages.authenticator_static",
    "authentik.stages.authenticator_totp",
    "authentik.stages.authenticator_validate",
    "authentik.stages.authenticator_webauthn",
    "authentik.stages.captcha",
    "authentik.stages.consent",
    "authentik.stages.deny",
    "authentik.stages.dummy",
    "authentik.stages.email",
    "authentik.stages.identification",
    "authentik.stages.invitation",
    "authentik.stages.password",
    "authentik.stages.prompt",
    "authentik.stages.redirect",
    "authentik.stages.user_delete",
    "authentik.stages.user_login",
    "authentik.stages.user_logout",
    "authentik.stages.user_write",
    "authentik.tasks.schedules",
    "authentik.brands",
    "authentik.blueprints",
    "authentik.enterprise.audit",
    "authentik.enterprise.endpoints.connectors.agent",
    "authentik.enterprise.endpoints.connectors.fleet",
    "authentik.enterprise.lifecycle",
    "authentik.enterprise.policies.unique_password",
    "authentik.enterprise.providers.google_workspace",
    "authentik.enterprise.providers.microsoft_entra",
    "authentik.enterprise.providers.radius",
    "authentik.enterprise.providers.scim",
    "authentik.enterprise.providers.ssf",
    "authentik.enterprise.providers.ws_federation",
    "authentik.enterprise.reports",
    "authentik.enterprise.search",
    "authentik.enterprise.stages.authenticator_endpoint_gdtc",
    "authentik.enterprise.stages.mtls",
    "authentik.enterprise.stages.source",
    NULL,
};

static const char *const model_choices[] = {
    "authentik_tenants.domain",
    "authentik_core.group",
    "authentik_core.user",
    "authentik_core.application",
    "authentik_core.applicationentitlement",
    "authentik_core.token",
    "authentik_crypto.certificatekeypair",
    "authentik_endpoints.deviceuserbinding",
    "authentik_endpoints.deviceaccessgroup",
    "authentik_endpoints.endpointstage",
    "authentik_endpoints_connectors_agent.agentconnector",
    "authentik_endpoints_connectors_agent.agentdeviceuserbinding",
    "authentik_endpoints_connectors_agent.enrollmenttoken",
    "authentik_enterprise.license",
    "authentik_events.event",
    "authentik_events.notificationtransport",
    "authentik_events.notification",
    "authentik_events.notificationrule",
    "authentik_events.notificationwebhookmapping",
    "authentik_flows.flow",
    "authentik_flows.flowstagebinding",
    "authentik_outposts.dockerserviceconnection",
    "authentik_outposts.kubernetesserviceconnection",
    "authentik_outposts.outpost",
    "authentik_policies_dummy.dummypolicy",
    "authentik_policies_event_matcher.eventmatcherpolicy",
    "authentik_policies_expiry.passwordexpirypolicy",
    "authentik_policies_expression.expressionpolicy",
    "authentik_policies_geoip.geoippolicy",
    "authentik_policies_password.passwordpolicy",
    "authentik_policies_reputation.reputationpolicy",
    "authentik_policies.policybinding",
    "authentik_providers_ldap.ldapprovider",
    "authentik_providers_oauth2.scopemapping",
    "authentik_providers_oauth2.oauth2provider",
    "authentik_providers_proxy.proxyprovider",
    "authentik_providers_rac.racprovider",
    "authentik_providers_rac.endpoint",
    "authentik_providers_rac.racpropertymapping",
    "authentik_providers_radius.radiusprovider",
    "authentik_providers_radius.radiusproviderpropertymapping",
    "authentik_providers_saml.samlprovider",
    "authentik_providers_saml.samlpropertymapping",
    "authentik_providers_scim.scimprovider",
    "authentik_providers_scim.scimmapping",
    "authentik_rbac.role",
    "authentik_rbac.initialpermissions",
    "authentik_sources_kerberos.kerberossource",
    "authentik_sources_kerberos.kerberossourcepropertymapping",
    "authentik_sources_kerberos.userkerberossourceconnection",
    "authentik_sources_kerberos.groupkerberossourceconnection",
    "authentik_sources_ldap.ldapsource",
    "authentik_sources_ldap.ldapsourcepropertymapping",
    "authentik_sources_ldap.userldapsourceconnection",
    "authentik_sources_ldap.groupldapsourceconnection",
    "authentik_sources_oauth.oauthsource",
    "authentik_sources_oauth.oauthsourcepropertymapping",
    "authentik_sources_oauth.useroauthsourceconnection",
    "authentik_sources_oauth.groupoauthsourceconnection",
    "authentik_sources_plex.plexsource",
    "authentik_sources_plex.plexsourcepropertymapping",
    "authentik_sources_plex.userplexsourceconnection",
    "authentik_sources_plex.groupplexsourceconnection",
    "authentik_sources_saml.samlsource",
    "authentik_sources_saml.samlsourcepropertymapping",
    "authentik_sources_saml.usersamlsourceconnection",
    "authentik_sources_saml.groupsamlsourceconnection",
    "authentik_sources_scim.scimsource",
    "authentik_sources_scim.scimsourcepropertymapping",
    "authentik_sources_telegram.telegramsource",
    "authentik_sources_telegram.telegramsourcepropertymapping",
    "authentik_sources_telegram.usertelegramsourceconnection",
    "authentik_sources_telegram.grouptelegramsourceconnection",
    "authentik_stages_authenticator_duo.authenticatorduostage",
    "authentik_stages_authenticator_duo.duodevice",
    "authentik_stages_authenticator_email.authenticatoremailstage",
    "authentik_stages_authenticator_email.emaildevice",
    "authentik_stages_authenticator_sms.authenticatorsmsstage",
    "authentik_stages_authenticator_sms.smsdevice",
    "authentik_stages_authenticator_static.authenticatorstaticstage",
    "authentik_stages_authenticator_static.staticdevice",
    "authentik_stages_authenticator_totp.authenticatortotpstage",
    "authentik_stages_authenticator_totp.totpdevice",
    "authentik_stages_authenticator_validate.authenticatorvalidatestage",
    "authentik_stages_authenticator_webauthn.authenticatorwebauthnstage",
    "authentik_stages_authenticator_webauthn.webauthndevice",
    "authentik_stages_captcha.captchastage",
    "authentik_stages_consent.consentstage",
    "authentik_stages_deny.denystage",
    "authentik_stages_dummy.dummystage",
    "authentik_stages_email.emailstage",
    "authentik_stages_identification.identificationstage",
    "authentik_stages_invitation.invitationstage",
    "authentik_stages_invitation.invitation",
    "authentik_stages_password.passwordstage",
    "authentik_stages_prompt.prompt",
    "authentik_stages_prompt.promptstage",
    "authentik_stages_redirect.redirectstage",
    "authentik_stages_user_delete.userdeletestage",
    "authentik_stages_user_login.userloginstage",
    "authentik_stages_user_logout.userlogoutstage",
    "authentik_stages_user_write.userwritestage",
    "authentik_tasks_schedules.schedule",
    "authentik_brands.brand",
    "authentik_blueprints.blueprintinstance",
    "authentik_endpoints_connectors_fleet.fleetconnector",
    "authentik_lifecycle.lifecyclerule",
    "authentik_lifecycle.lifecycleiteration",
    "authentik_lifecycle.review",
    "authentik_policies_unique_password.uniquepasswordpolicy",
    "authentik_providers_google_workspace.googleworkspaceprovider",
    "authentik_providers_google_workspace.googleworkspaceprovidermapping",
    "authentik_providers_microsoft_entra.microsoftentraprovider",
    "authentik_providers_microsoft_entra.microsoftentraprovidermapping",
    "authentik_providers_ssf.ssfprovider",
    "authentik_providers_ws_federation.wsfederationprovider",
    "authentik_reports.dataexport",
    "authentik_stages_authenticator_endpoint_gdtc.authenticatorendpointgdtcstage",
    "authentik_stages_mtls.mutualtlsstage",
    "authentik_stages_source.sourcestage",
    NULL,
};

/* The app label of a kind's policies.type (lib/api/policies.c below), NULL for others. */
static const char *kind_app_of_type(const char *type);

/* One object loaded by a statement whose columns are: 0 its JSON, 1 pk, 2 snapshot, 3 name
 * (4 the policy's type, for policies). */
struct row {
	PGresult *rw_res;
	const char *rw_pk;
	const char *rw_snapshot;
	const char *rw_name;
	const char *rw_type;
};

/* 0 with *r loaded, or -1 having answered (404 for a key that is no UUID or no row, 503). */
static int
row_load(struct cu_ctx *cx, enum cu_db_stmt st, const char *key, struct row *r)
{
	PGresult *res = NULL;
	enum cu_err err;

	memset(r, 0, sizeof(*r));
	if (key == NULL || !cu_api_is_uuid(key)) {
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
	r->rw_pk = cu_db_value(res, 0, 1);
	r->rw_snapshot = cu_db_value(res, 0, 2);
	r->rw_name = cu_db_value(res, 0, 3);
	r->rw_type = PQnfields(res) > 4 ? cu_db_value(res, 0, 4) : NULL;
	return 0;
}

/* The path's object, then perm on it: 0, or -1 having answered. */
static int
row_find(struct cu_ctx *cx, enum cu_db_stmt st, const char *param, const char *perm, struct row *r)
{
	if (row_load(cx, st, cu_ctx_param(cx, param), r) != 0)
		return -1;
	return cu_api_require(cx, perm, r->rw_pk);
}

/* Inside a transaction: locks the path's object again (it may have gone since row_find) and
 * parses its snapshot into *before. 0, or -1 having rolled back and answered. */
static int
row_lock(struct cu_ctx *cx, enum cu_db_stmt st, const char *param, struct row *r,
         struct json_object **before)
{
	enum cu_err err;

	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
	if (row_load(cx, st, cu_ctx_param(cx, param), r) != 0) {
		cu_db_rollback(cx->cx_db);
		return -1;
	}
	if (cu_json_parse(cx->cx_arena, r->rw_snapshot, strlen(r->rw_snapshot), before) != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, CU_ERR_INTERNAL, "The object");
		return -1;
	}
	return 0;
}

/* Reads back the written object, logs its event with the diff, commits and answers. */
static void
finish_write(struct cu_ctx *cx, enum cu_db_stmt st, int status, const char *action, const char *app,
             const char *model, const char *pk, struct json_object *before)
{
	struct json_object *after = NULL;
	struct row r;
	enum cu_err err;

	if (row_load(cx, st, pk, &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	err = cu_json_parse(cx->cx_arena, r.rw_snapshot, strlen(r.rw_snapshot), &after);
	if (err == CU_OK)
		err = cu_events_model(cx, action, app, model, pk, r.rw_name,
		                      cu_api_json_diff(cx, before, after, NULL));
	if (cu_api_commit(cx, err) != 0)
		return;
	cu_api_send_row(cx, status, r.rw_res);
}

/* Deletes the locked object r, logs model_deleted, commits and answers 204. */
static void
finish_delete(struct cu_ctx *cx, enum cu_db_stmt del, const char *app, const char *model,
              const struct row *r, struct json_object *before)
{
	enum cu_err err;

	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, del, 1, &r->rw_pk);
	if (err == CU_OK)
		err = cu_events_model(cx, "model_deleted", app, model, r->rw_pk, r->rw_name,
		                      cu_api_json_diff(cx, before, NULL, NULL));
	if (cu_api_commit(cx, err) != 0)
		return;
	cu_api_no_content(cx);
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

/* A present JSON null: 1 (and eff's key set to null), else 0. */
static int
take_null(struct json_object *body, const char *key, struct json_object *eff)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(body, key, &v) || v != NULL)
		return 0;
	cu_json_set(eff, key, NULL);
	return 1;
}

static void
require_fields(struct cu_api_errors *e, struct json_object *body, const char *const *keys)
{
	size_t i;

	for (i = 0; keys[i] != NULL; i++)
		if (!json_object_object_get_ex(body, keys[i], NULL))
			cu_api_error(e, keys[i], "This field is required.");
}

/* ---- all/ ---- */

static const struct cu_api_sort policy_sorts[] = {
    {"name", "p.name"},       {"execution_logging", "p.execution_logging"},
    {"created", "p.created"}, {"last_updated", "p.last_updated"},
    {"pk", "p.policy_uuid"},  {"policy_uuid", "p.policy_uuid"},
};

static const struct cu_api_filter policy_filters[] = {
    {"bindings__isnull", CU_API_F_BOOL,
     "NOT EXISTS (SELECT 1 FROM policy_bindings fb WHERE fb.policy = p.policy_uuid) = "
     "$%d::boolean"},
    /* Whether no prompt stage validates with the policy. */
    {"promptstage__isnull", CU_API_F_BOOL,
     "NOT EXISTS (SELECT 1 FROM prompt_stage_validation_policies sv WHERE sv.policy = "
     "p.policy_uuid) = $%d::boolean"},
};

static const struct cu_api_list policy_list = {
    .al_row = CU_SQL_POLICY "::text",
    .al_from = CU_SQL_POLICY_FROM,
    .al_pk = "p.policy_uuid::text",
    .al_view_perm = PERM_VIEW_POLICY,
    .al_search = "p.name ILIKE $%d",
    .al_sorts = policy_sorts,
    .al_nsorts = sizeof(policy_sorts) / sizeof(policy_sorts[0]),
    .al_default_sort = "name",
    .al_tiebreak = "p.policy_uuid",
    .al_filters = policy_filters,
    .al_nfilters = sizeof(policy_filters) / sizeof(policy_filters[0]),
};

void
cu_api_policies_all_list(struct cu_ctx *cx)
{
	if (cu_api_login(cx) != 0)
		return;
	cu_api_list_send(cx, &policy_list, NULL, 0);
}

void
cu_api_policies_all_types(struct cu_ctx *cx)
{
	PGresult *res = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0)
		return;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_POLICIES_TYPES, 0, NULL);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_send_row(cx, 200, res);
}

void
cu_api_policies_all_get(struct cu_ctx *cx)
{
	struct row r;

	if (cu_api_login(cx) != 0 ||
	    row_find(cx, CU_DB_STMT_POLICIES_GET, "policy_uuid", PERM_VIEW_POLICY, &r) != 0)
		return;
	cu_api_send_row(cx, 200, r.rw_res);
}

void
cu_api_policies_all_delete(struct cu_ctx *cx)
{
	const char *app;
	struct json_object *before = NULL;
	struct row r;

	if (cu_api_login(cx) != 0 ||
	    row_find(cx, CU_DB_STMT_POLICIES_GET, "policy_uuid", PERM_DELETE_POLICY, &r) != 0 ||
	    row_lock(cx, CU_DB_STMT_POLICIES_LOCK, "policy_uuid", &r, &before) != 0)
		return;
	/* The event names the policy's own kind, as authentik's does for a subclass instance. */
	if (r.rw_type != NULL && strcmp(r.rw_type, EM_MODEL) == 0)
		finish_delete(cx, CU_DB_STMT_POLICIES_DELETE, EM_APP, EM_MODEL, &r, before);
	else if ((app = kind_app_of_type(r.rw_type)) != NULL)
		finish_delete(cx, CU_DB_STMT_POLICIES_DELETE, app, r.rw_type, &r, before);
	else
		finish_delete(cx, CU_DB_STMT_POLICIES_DELETE, "authentik_policies", "policy", &r,
		              before);
}

/* ---- event_matcher/ ---- */

static const struct cu_api_sort em_sorts[] = {
    {"name", "p.name"},       {"execution_logging", "p.execution_logging"},
    {"action", "em.action"},  {"client_ip", "em.client_ip"},
    {"app", "em.app"},        {"model", "em.model"},
    {"created", "p.created"}, {"last_updated", "p.last_updated"},
    {"pk", "p.policy_uuid"},  {"policy_uuid", "p.policy_uuid"},
};

static const struct cu_api_filter em_filters[] = {
    {"action", CU_API_F_TEXT, "em.action = $%d"},
    {"app", CU_API_F_TEXT, "em.app = $%d"},
    {"client_ip", CU_API_F_TEXT, "em.client_ip = $%d"},
    {"model", CU_API_F_TEXT, "em.model = $%d"},
    {"name", CU_API_F_TEXT, "p.name = $%d"},
    {"execution_logging", CU_API_F_BOOL, "p.execution_logging = $%d::boolean"},
    {"policy_uuid", CU_API_F_UUID, "p.policy_uuid = $%d::uuid"},
};

static const struct cu_api_list em_list = {
    .al_row = CU_SQL_POLICY "::text",
    .al_from = "FROM policies p JOIN event_matcher_policies em ON em.policy_uuid = "
               "p.policy_uuid",
    .al_pk = "p.policy_uuid::text",
    .al_view_perm = EM_APP ".view_" EM_MODEL,
    .al_search = "p.name ILIKE $%d",
    .al_sorts = em_sorts,
    .al_nsorts = sizeof(em_sorts) / sizeof(em_sorts[0]),
    .al_default_sort = "name",
    .al_tiebreak = "p.policy_uuid",
    .al_filters = em_filters,
    .al_nfilters = sizeof(em_filters) / sizeof(em_filters[0]),
};

/* A nullable choice field: null, or one of choices. */
static void
read_choice(struct cu_api_errors *e, struct json_object *body, const char *key,
            const char *const *choices, struct json_object *eff)
{
	const char *s = NULL;

	if (take_null(body, key, eff))
		return;
	if (cu_api_field_choice(e, body, key, choices, &s) > 0)
		cu_json_set_string(eff, key, s);
}

/* Overlays the body's fields on eff and checks them, as EventMatcherPolicySerializer. */
static void
em_read_body(struct cu_api_errors *e, struct json_object *body, struct json_object *eff)
{
	static const char *const criteria[] = {"action", "client_ip", "app", "model", NULL};
	const char *s = NULL;
	size_t i;
	int b, any = 0;

	if (cu_api_field_string(e, body, "name", 0, 0, 0, &s) > 0)
		cu_json_set_string(eff, "name", s);
	if (cu_api_field_bool(e, body, "execution_logging", &b) > 0)
		cu_json_set_bool(eff, "execution_logging", b);
	read_choice(e, body, "action", event_actions, eff);
	read_choice(e, body, "app", app_choices, eff);
	read_choice(e, body, "model", model_choices, eff);
	if (!take_null(body, "client_ip", eff) &&
	    cu_api_field_string(e, body, "client_ip", 0, 0, 1, &s) > 0)
		cu_json_set_string(eff, "client_ip", s);
	if (cu_api_errors_any(e))
		return;
	for (i = 0; criteria[i] != NULL; i++)
		if (eff_text(eff, criteria[i]) != NULL)
			any = 1;
	if (!any)
		cu_api_error(e, NULL, "At least one criteria must be set.");
}

/* name, execution_logging, action, client_ip, app, model from eff into p[0..5]. */
static void
em_params(struct json_object *eff, const char **p)
{
	p[0] = eff_text(eff, "name");
	p[1] = eff_bool(eff, "execution_logging");
	p[2] = eff_text(eff, "action");
	p[3] = eff_text(eff, "client_ip");
	p[4] = eff_text(eff, "app");
	p[5] = eff_text(eff, "model");
}

/* Runs an insert or update; on a taken name answers 400. 0, or -1 having rolled back and
 * answered. */
static int
em_exec(struct cu_ctx *cx, struct cu_api_errors *e, enum cu_db_stmt st, int n, const char **params,
        PGresult **res)
{
	enum cu_err err = cu_db_exec(cx->cx_db, cx->cx_arena, res, st, n, params);

	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(*res)) {
		cu_db_rollback(cx->cx_db);
		cu_api_error(e, "name", "Policy with this name already exists.");
		cu_api_errors_send(cx, e);
		return -1;
	}
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return -1;
	}
	return 0;
}

void
cu_api_policies_em_list(struct cu_ctx *cx)
{
	if (cu_api_login(cx) != 0)
		return;
	cu_api_list_send(cx, &em_list, NULL, 0);
}

void
cu_api_policies_em_get(struct cu_ctx *cx)
{
	struct row r;

	if (cu_api_login(cx) != 0 || row_find(cx, CU_DB_STMT_POLICIES_EM_GET, "policy_uuid",
	                                      EM_APP ".view_" EM_MODEL, &r) != 0)
		return;
	cu_api_send_row(cx, 200, r.rw_res);
}

void
cu_api_policies_em_create(struct cu_ctx *cx)
{
	static const char *const required[] = {"name", NULL};
	struct json_object *body = NULL, *eff;
	struct cu_api_errors e;
	const char *params[6];
	PGresult *res = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, EM_APP ".add_" EM_MODEL, NULL) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	eff = cu_json_object(cx->cx_arena);
	cu_json_set_bool(eff, "execution_logging", 0);
	require_fields(&e, body, required);
	em_read_body(&e, body, eff);
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	em_params(eff, params);
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (em_exec(cx, &e, CU_DB_STMT_POLICIES_EM_INSERT, 6, params, &res) != 0)
		return;
	finish_write(cx, CU_DB_STMT_POLICIES_EM_GET, 201, "model_created", EM_APP, EM_MODEL,
	             cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0)), NULL);
}

void
cu_api_policies_em_update(struct cu_ctx *cx)
{
	static const char *const required[] = {"name", NULL};
	struct json_object *body = NULL, *before = NULL, *eff = NULL;
	struct cu_api_errors e;
	const char *params[7];
	PGresult *res = NULL;
	struct row r;

	if (cu_api_login(cx) != 0 ||
	    row_find(cx, CU_DB_STMT_POLICIES_EM_GET, "policy_uuid", EM_APP ".change_" EM_MODEL,
	             &r) != 0 ||
	    cu_api_body(cx, &body) != 0 ||
	    row_lock(cx, CU_DB_STMT_POLICIES_EM_LOCK, "policy_uuid", &r, &before) != 0)
		return;
	if (cu_json_parse(cx->cx_arena, r.rw_snapshot, strlen(r.rw_snapshot), &eff) != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, CU_ERR_INTERNAL, "The policy");
		return;
	}
	cu_api_errors_init(&e, cx);
	if (cx->cx_req->rq_method == CU_HTTP_PUT)
		require_fields(&e, body, required);
	em_read_body(&e, body, eff);
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	params[0] = r.rw_pk;
	em_params(eff, params + 1);
	if (em_exec(cx, &e, CU_DB_STMT_POLICIES_EM_UPDATE, 7, params, &res) != 0)
		return;
	finish_write(cx, CU_DB_STMT_POLICIES_EM_GET, 200, "model_updated", EM_APP, EM_MODEL,
	             r.rw_pk, before);
}

void
cu_api_policies_em_delete(struct cu_ctx *cx)
{
	struct json_object *before = NULL;
	struct row r;

	if (cu_api_login(cx) != 0 ||
	    row_find(cx, CU_DB_STMT_POLICIES_EM_GET, "policy_uuid", EM_APP ".delete_" EM_MODEL,
	             &r) != 0 ||
	    row_lock(cx, CU_DB_STMT_POLICIES_EM_LOCK, "policy_uuid", &r, &before) != 0)
		return;
	finish_delete(cx, CU_DB_STMT_POLICIES_DELETE, EM_APP, EM_MODEL, &r, before);
}

/* ---- bindings/ ---- */

static const struct cu_api_sort binding_sorts[] = {
    {"target", "b.target"},
    {"order", "b.\"order\""},
    {"policy", "b.policy"},
    {"group", "b.group_uuid"},
    {"user", "b.user_id"},
    {"negate", "b.negate"},
    {"enabled", "b.enabled"},
    {"timeout", "b.timeout"},
    {"failure_result", "b.failure_result"},
    {"pk", "b.policy_binding_uuid"},
    {"policy_binding_uuid", "b.policy_binding_uuid"},
};

static const struct cu_api_filter binding_filters[] = {
    {"policy", CU_API_F_UUID, "b.policy = $%d::uuid"},
    {"policy__isnull", CU_API_F_BOOL, "(b.policy IS NULL) = $%d::boolean"},
    {"target", CU_API_F_UUID, "b.target = $%d::uuid"},
    {"target_in", CU_API_F_TEXT_ANY, "b.target = ANY ($%d::uuid[])"},
    {"enabled", CU_API_F_BOOL, "b.enabled = $%d::boolean"},
    {"order", CU_API_F_INT, "b.\"order\" = $%d::bigint"},
    {"timeout", CU_API_F_INT, "b.timeout = $%d::bigint"},
};

static const struct cu_api_list binding_list = {
    .al_row = CU_SQL_BINDING,
    .al_from = "FROM policy_bindings b",
    .al_pk = "b.policy_binding_uuid::text",
    .al_view_perm = BINDING_APP ".view_" BINDING_MODEL,
    .al_search = "EXISTS (SELECT 1 FROM policies sp WHERE sp.policy_uuid = b.policy AND "
                 "sp.name ILIKE $%d)",
    .al_sorts = binding_sorts,
    .al_nsorts = sizeof(binding_sorts) / sizeof(binding_sorts[0]),
    /* authentik's ordering: target, then order. */
    .al_default_sort = "target,order",
    .al_tiebreak = "b.policy_binding_uuid",
    .al_filters = binding_filters,
    .al_nfilters = sizeof(binding_filters) / sizeof(binding_filters[0]),
};

/* A nullable related key: a UUID, or (user) an integer pk. */
static void
read_ref(struct cu_api_errors *e, struct json_object *body, const char *key, int is_int,
         struct json_object *eff)
{
	const char *s = NULL;
	int64_t n;

	if (take_null(body, key, eff))
		return;
	if (is_int) {
		if (cu_api_field_int(e, body, key, INT64_MIN + 1, INT64_MAX, &n) > 0)
			cu_json_set_int(eff, key, n);
	} else if (cu_api_field_uuid(e, body, key, 1, &s) > 0) {
		cu_json_set_string(eff, key, s);
	}
}

/* Overlays the body's fields on eff and checks their types, as PolicyBindingSerializer. */
static void
binding_read_body(struct cu_api_errors *e, struct json_object *body, struct json_object *eff)
{
	static const char *const bools[] = {"negate", "enabled", "failure_result", NULL};
	const char *s = NULL;
	int64_t n;
	size_t i;
	int b;

	read_ref(e, body, "policy", 0, eff);
	read_ref(e, body, "group", 0, eff);
	read_ref(e, body, "user", 1, eff);
	if (cu_api_field_uuid(e, body, "target", 0, &s) > 0)
		cu_json_set_string(eff, "target", s);
	for (i = 0; bools[i] != NULL; i++)
		if (cu_api_field_bool(e, body, bools[i], &b) > 0)
			cu_json_set_bool(eff, bools[i], b);
	if (cu_api_field_int(e, body, "order", -2147483648LL, 2147483647LL, &n) > 0)
		cu_json_set_int(eff, "order", n);
	if (cu_api_field_int(e, body, "timeout", 0, 2147483647LL, &n) > 0)
		cu_json_set_int(eff, "timeout", n);
}

/* policy, group, user, target, negate, enabled, order, timeout, failure_result into p[0..8]. */
static void
binding_params(struct json_object *eff, const char **p)
{
	p[0] = eff_text(eff, "policy");
	p[1] = eff_text(eff, "group");
	p[2] = eff_text(eff, "user");
	p[3] = eff_text(eff, "target");
	p[4] = eff_bool(eff, "negate");
	p[5] = eff_bool(eff, "enabled");
	p[6] = eff_text(eff, "order");
	p[7] = eff_text(eff, "timeout");
	p[8] = eff_bool(eff, "failure_result");
}

/*
 * Inside the transaction: the related objects exist (authentik's PrimaryKeyRelatedField
 * errors), then exactly one of policy, group and user is set (its validate()). p as
 * binding_params. 0, or -1 having rolled back and answered.
 */
static int
binding_check(struct cu_ctx *cx, struct cu_api_errors *e, const char **p)
{
	static const char *const keys[] = {"policy", "group", "user", "target"};
	PGresult *res = NULL;
	enum cu_err err;
	int i, set = 0;

	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_POLICIES_BINDINGS_REFS, 4, p);
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return -1;
	}
	for (i = 0; i < 4; i++)
		if (strcmp(cu_db_value(res, 0, i), "t") != 0)
			cu_api_error(e, keys[i],
			             cu_arena_printf(cx->cx_arena,
			                             "Invalid pk \"%s\" - object does not exist.",
			                             p[i]));
	if (!cu_api_errors_any(e)) {
		for (i = 0; i < 3; i++)
			set += p[i] != NULL;
		if (set > 1)
			cu_api_error(e, NULL,
			             "Only one of 'policy', 'group' or 'user' can be set.");
		else if (set < 1)
			cu_api_error(e, NULL, "One of 'policy', 'group' or 'user' must be set.");
	}
	if (cu_api_errors_any(e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, e);
		return -1;
	}
	return 0;
}

/* Runs an insert or update; (policy, target, order) taken answers 400 as DRF's
 * UniqueTogetherValidator. 0, or -1 having rolled back and answered. */
static int
binding_exec(struct cu_ctx *cx, struct cu_api_errors *e, enum cu_db_stmt st, int n,
             const char **params, PGresult **res)
{
	enum cu_err err = cu_db_exec(cx->cx_db, cx->cx_arena, res, st, n, params);

	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(*res)) {
		cu_db_rollback(cx->cx_db);
		cu_api_error(e, NULL, "The fields policy, target, order must make a unique set.");
		cu_api_errors_send(cx, e);
		return -1;
	}
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return -1;
	}
	return 0;
}

void
cu_api_policies_bindings_list(struct cu_ctx *cx)
{
	const struct cu_http_request *req = cx->cx_req;
	struct cu_api_errors e;
	size_t i;

	if (cu_api_login(cx) != 0)
		return;
	/* target_in repeats; each value must be a UUID before PostgreSQL casts the array. */
	cu_api_errors_init(&e, cx);
	for (i = 0; i < req->rq_nargs; i++)
		if (strcmp(req->rq_args[i].kv_key, "target_in") == 0 &&
		    !cu_api_is_uuid(req->rq_args[i].kv_val) && !cu_api_errors_any(&e))
			cu_api_error(
			    &e, "target_in",
			    cu_arena_printf(cx->cx_arena,
			                    "\xe2\x80\x9c%s\xe2\x80\x9d is not a valid value.",
			                    req->rq_args[i].kv_val));
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	cu_api_list_send(cx, &binding_list, NULL, 0);
}

void
cu_api_policies_bindings_get(struct cu_ctx *cx)
{
	struct row r;

	if (cu_api_login(cx) != 0 ||
	    row_find(cx, CU_DB_STMT_POLICIES_BINDINGS_GET, "policy_binding_uuid",
	             BINDING_APP ".view_" BINDING_MODEL, &r) != 0)
		return;
	cu_api_send_row(cx, 200, r.rw_res);
}

void
cu_api_policies_bindings_create(struct cu_ctx *cx)
{
	static const char *const required[] = {"target", "order", NULL};
	struct json_object *body = NULL, *eff;
	struct cu_api_errors e;
	const char *params[9];
	PGresult *res = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0 ||
	    cu_api_require(cx, BINDING_APP ".add_" BINDING_MODEL, NULL) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	eff = cu_json_object(cx->cx_arena);
	cu_json_set_bool(eff, "negate", 0);
	cu_json_set_bool(eff, "enabled", 1);
	cu_json_set_int(eff, "timeout", 30);
	cu_json_set_bool(eff, "failure_result", 0);
	require_fields(&e, body, required);
	binding_read_body(&e, body, eff);
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	binding_params(eff, params);
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (binding_check(cx, &e, params) != 0 ||
	    binding_exec(cx, &e, CU_DB_STMT_POLICIES_BINDINGS_INSERT, 9, params, &res) != 0)
		return;
	finish_write(cx, CU_DB_STMT_POLICIES_BINDINGS_GET, 201, "model_created", BINDING_APP,
	             BINDING_MODEL, cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0)), NULL);
}

void
cu_api_policies_bindings_update(struct cu_ctx *cx)
{
	static const char *const required[] = {"target", "order", NULL};
	struct json_object *body = NULL, *before = NULL, *eff = NULL;
	struct cu_api_errors e;
	const char *params[10];
	PGresult *res = NULL;
	struct row r;

	if (cu_api_login(cx) != 0 ||
	    row_find(cx, CU_DB_STMT_POLICIES_BINDINGS_GET, "policy_binding_uuid",
	             BINDING_APP ".change_" BINDING_MODEL, &r) != 0 ||
	    cu_api_body(cx, &body) != 0 ||
	    row_lock(cx, CU_DB_STMT_POLICIES_BINDINGS_LOCK, "policy_binding_uuid", &r, &before) !=
	        0)
		return;
	if (cu_json_parse(cx->cx_arena, r.rw_snapshot, strlen(r.rw_snapshot), &eff) != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, CU_ERR_INTERNAL, "The binding");
		return;
	}
	cu_api_errors_init(&e, cx);
	if (cx->cx_req->rq_method == CU_HTTP_PUT)
		require_fields(&e, body, required);
	binding_read_body(&e, body, eff);
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	params[0] = r.rw_pk;
	binding_params(eff, params + 1);
	if (binding_check(cx, &e, params + 1) != 0 ||
	    binding_exec(cx, &e, CU_DB_STMT_POLICIES_BINDINGS_UPDATE, 10, params, &res) != 0)
		return;
	finish_write(cx, CU_DB_STMT_POLICIES_BINDINGS_GET, 200, "model_updated", BINDING_APP,
	             BINDING_MODEL, r.rw_pk, before);
}

void
cu_api_policies_bindings_delete(struct cu_ctx *cx)
{
	struct json_object *before = NULL;
	struct row r;

	if (cu_api_login(cx) != 0 ||
	    row_find(cx, CU_DB_STMT_POLICIES_BINDINGS_GET, "policy_binding_uuid",
	             BINDING_APP ".delete_" BINDING_MODEL, &r) != 0 ||
	    row_lock(cx, CU_DB_STMT_POLICIES_BINDINGS_LOCK, "policy_binding_uuid", &r, &before) !=
	        0)
		return;
	finish_delete(cx, CU_DB_STMT_POLICIES_BINDINGS_DELETE, BINDING_APP, BINDING_MODEL, &r,
	              before);
}

/* ---- the policy kinds: expression/, password/, password_expiry/, reputation/,
 * unique_password/, dummy/ ---- */

enum kfield_type {
	KF_TEXT,       /* a non-blank string */
	KF_TEXT_BLANK, /* a string, blank allowed */
	KF_BOOL,
	KF_UINT, /* PositiveIntegerField: 0 .. 2^31-1 */
	KF_INT,  /* IntegerField */
};

struct kfield {
	const char *kf_name;
	enum kfield_type kf_type;
	const char *kf_default; /* JSON text of the model default; NULL: required */
};

struct kind {
	const char *k_path; /* under /api/v3/policies/ */
	const char *k_type; /* policies.type */
	const char *k_app;
	const struct kfield *k_fields;
	enum cu_db_stmt k_insert;
	enum cu_db_stmt k_update;
	const struct cu_api_list *k_list;
	/* Cross-field checks after the fields are read (errors recorded on e). */
	void (*k_validate)(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *eff);
};

static const struct kfield expression_fields[] = {
    {"expression", KF_TEXT, NULL},
    {NULL, KF_TEXT, NULL},
};

static const struct kfield password_fields[] = {
    {"password_field", KF_TEXT, "\"password\""},
    {"amount_digits", KF_UINT, "0"},
    {"amount_uppercase", KF_UINT, "0"},
    {"amount_lowercase", KF_UINT, "0"},
    {"amount_symbols", KF_UINT, "0"},
    {"length_min", KF_UINT, "0"},
    {"symbol_charset", KF_TEXT, "\"!\\\\\\\"#$%&'()*+,-./:;<=>?@[\\\\]^_`{|}~ \""},
    {"error_message", KF_TEXT_BLANK, "\"\""},
    {"check_static_rules", KF_BOOL, "true"},
    {"check_have_i_been_pwned", KF_BOOL, "false"},
    {"check_zxcvbn", KF_BOOL, "false"},
    {"hibp_allowed_count", KF_UINT, "0"},
    {"zxcvbn_score_threshold", KF_UINT, "2"},
    {NULL, KF_TEXT, NULL},
};

static const struct kfield expiry_fields[] = {
    {"days", KF_INT, NULL},
    {"deny_only", KF_BOOL, "false"},
    {NULL, KF_TEXT, NULL},
};

static const struct kfield reputation_fields[] = {
    {"check_ip", KF_BOOL, "true"},
    {"check_username", KF_BOOL, "true"},
    {"threshold", KF_INT, "-5"},
    {NULL, KF_TEXT, NULL},
};

static const struct kfield unique_fields[] = {
    {"password_field", KF_TEXT, "\"password\""},
    {"num_historical_passwords", KF_UINT, "1"},
    {NULL, KF_TEXT, NULL},
};

static const struct kfield dummy_fields[] = {
    {"result", KF_BOOL, "false"},
    {"wait_min", KF_INT, "5"},
    {"wait_max", KF_INT, "30"},
    {NULL, KF_TEXT, NULL},
};

/* authentik validates an expression by compiling it: so does custos, in Lua. */
static void
expression_validate(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *eff)
{
	const char *src = eff_text(eff, "expression"), *err = NULL;

	if (src != NULL && !cu_policy_expression_check(cx->cx_arena, src, strlen(src), &err))
		cu_api_error(e, "expression", err);
}

static void
reputation_validate(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *eff)
{
	(void)cx;
	if (strcmp(eff_bool(eff, "check_ip"), "false") == 0 &&
	    strcmp(eff_bool(eff, "check_username"), "false") == 0)
		cu_api_error(e, NULL, "Either IP or Username must be checked");
}

static const struct cu_api_sort kind_sorts[] = {
    {"name", "p.name"},       {"execution_logging", "p.execution_logging"},
    {"created", "p.created"}, {"last_updated", "p.last_updated"},
    {"pk", "p.policy_uuid"},  {"policy_uuid", "p.policy_uuid"},
};

#define KIND_BASE_FILTERS                                                                          \
	{"name", CU_API_F_TEXT, "p.name = $%d"},                                                   \
	    {"execution_logging", CU_API_F_BOOL, "p.execution_logging = $%d::boolean"},            \
	{                                                                                          \
		"policy_uuid", CU_API_F_UUID, "p.policy_uuid = $%d::uuid"                          \
	}

static const struct cu_api_filter expression_filters[] = {
    KIND_BASE_FILTERS,
    {"expression", CU_API_F_TEXT, "k.expression = $%d"},
};
static const struct cu_api_filter password_filters[] = {
    KIND_BASE_FILTERS,
    {"password_field", CU_API_F_TEXT, "k.password_field = $%d"},
    {"length_min", CU_API_F_INT, "k.length_min = $%d::bigint"},
    {"check_static_rules", CU_API_F_BOOL, "k.check_static_rules = $%d::boolean"},
    {"check_have_i_been_pwned", CU_API_F_BOOL, "k.check_have_i_been_pwned = $%d::boolean"},
    {"check_zxcvbn", CU_API_F_BOOL, "k.check_zxcvbn = $%d::boolean"},
};
static const struct cu_api_filter expiry_filters[] = {
    KIND_BASE_FILTERS,
    {"days", CU_API_F_INT, "k.days = $%d::bigint"},
    {"deny_only", CU_API_F_BOOL, "k.deny_only = $%d::boolean"},
};
static const struct cu_api_filter reputation_filters[] = {
    KIND_BASE_FILTERS,
    {"check_ip", CU_API_F_BOOL, "k.check_ip = $%d::boolean"},
    {"check_username", CU_API_F_BOOL, "k.check_username = $%d::boolean"},
    {"threshold", CU_API_F_INT, "k.threshold = $%d::bigint"},
};
static const struct cu_api_filter unique_filters[] = {
    KIND_BASE_FILTERS,
    {"password_field", CU_API_F_TEXT, "k.password_field = $%d"},
    {"num_historical_passwords", CU_API_F_INT, "k.num_historical_passwords = $%d::bigint"},
};
static const struct cu_api_filter dummy_filters[] = {
    KIND_BASE_FILTERS,
    {"result", CU_API_F_BOOL, "k.result = $%d::boolean"},
    {"wait_min", CU_API_F_INT, "k.wait_min = $%d::bigint"},
    {"wait_max", CU_API_F_INT, "k.wait_max = $%d::bigint"},
};

#define KIND_LIST(var, table, perm, filters)                                                       \
	static const struct cu_api_list var = {                                                    \
	    .al_row = CU_SQL_POLICY "::text",                                                      \
	    .al_from = "FROM policies p JOIN " table " k ON k.policy_uuid = p.policy_uuid",        \
	    .al_pk = "p.policy_uuid::text",                                                        \
	    .al_view_perm = perm,                                                                  \
	    .al_search = "p.name ILIKE $%d",                                                       \
	    .al_sorts = kind_sorts,                                                                \
	    .al_nsorts = sizeof(kind_sorts) / sizeof(kind_sorts[0]),                               \
	    .al_default_sort = "name",                                                             \
	    .al_tiebreak = "p.policy_uuid",                                                        \
	    .al_filters = filters,                                                                 \
	    .al_nfilters = sizeof(filters) / sizeof(filters[0]),                                   \
	}

KIND_LIST(expression_list, "expression_policies",
          "authentik_policies_expression.view_expressionpolicy", expression_filters);
KIND_LIST(password_list, "password_policies", "authentik_policies_password.view_passwordpolicy",
          password_filters);
KIND_LIST(expiry_list, "password_expiry_policies",
          "authentik_policies_expiry.view_passwordexpirypolicy", expiry_filters);
KIND_LIST(reputation_list, "reputation_policies",
          "authentik_policies_reputation.view_reputationpolicy", reputation_filters);
KIND_LIST(unique_list, "unique_password_policies",
          "authentik_policies_unique_password.view_uniquepasswordpolicy", unique_filters);
KIND_LIST(dummy_list, "dummy_policies", "authentik_policies_dummy.view_dummypolicy", dummy_filters);

static const struct kind kinds[] = {
    {"expression", "expressionpolicy", "authentik_policies_expression", expression_fields,
     CU_DB_STMT_POLICIES_EXPR_INSERT, CU_DB_STMT_POLICIES_EXPR_UPDATE, &expression_list,
     expression_validate},
    {"password", "passwordpolicy", "authentik_policies_password", password_fields,
     CU_DB_STMT_POLICIES_PASSWORD_INSERT, CU_DB_STMT_POLICIES_PASSWORD_UPDATE, &password_list,
     NULL},
    {"password_expiry", "passwordexpirypolicy", "authentik_policies_expiry", expiry_fields,
     CU_DB_STMT_POLICIES_EXPIRY_INSERT, CU_DB_STMT_POLICIES_EXPIRY_UPDATE, &expiry_list, NULL},
    {"reputation", "reputationpolicy", "authentik_policies_reputation", reputation_fields,
     CU_DB_STMT_POLICIES_REPUTATION_INSERT, CU_DB_STMT_POLICIES_REPUTATION_UPDATE, &reputation_list,
     reputation_validate},
    {"unique_password", "uniquepasswordpolicy", "authentik_policies_unique_password", unique_fields,
     CU_DB_STMT_POLICIES_UNIQUE_INSERT, CU_DB_STMT_POLICIES_UNIQUE_UPDATE, &unique_list, NULL},
    {"dummy", "dummypolicy", "authentik_policies_dummy", dummy_fields,
     CU_DB_STMT_POLICIES_DUMMY_INSERT, CU_DB_STMT_POLICIES_DUMMY_UPDATE, &dummy_list, NULL},
};

/* The kind whose path the request is under, or NULL (a route table mistake). */
static const struct kind *
kind_of_request(struct cu_ctx *cx)
{
	static const char prefix[] = "/api/v3/policies/";
	const char *path = cx->cx_req->rq_path, *rest, *slash;
	size_t i;

	if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return NULL;
	rest = path + sizeof(prefix) - 1;
	if ((slash = strchr(rest, '/')) == NULL)
		return NULL;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strlen(kinds[i].k_path) == (size_t)(slash - rest) &&
		    strncmp(rest, kinds[i].k_path, (size_t)(slash - rest)) == 0)
			return &kinds[i];
	return NULL;
}

/* The kind of a policies.type, or NULL (event matcher and unknown kinds). */
static const struct kind *
kind_of_type(const char *type)
{
	size_t i;

	for (i = 0; type != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].k_type, type) == 0)
			return &kinds[i];
	return NULL;
}

static const char *
kind_app_of_type(const char *type)
{
	const struct kind *k = kind_of_type(type);

	return k != NULL ? k->k_app : NULL;
}

/* "<app>.<verb>_<model>" for k. */
static const char *
kind_perm(struct cu_ctx *cx, const struct kind *k, const char *verb)
{
	return cu_arena_printf(cx->cx_arena, "%s.%s_%s", k->k_app, verb, k->k_type);
}

/* The path's policy of kind k, then perm on it: 0, or -1 having answered. With lock, inside a
 * new transaction and locked, *before set to its snapshot. */
static int
kind_find(struct cu_ctx *cx, const struct kind *k, const char *verb, struct row *r, int lock,
          struct json_object **before)
{
	const char *params[2] = {cu_ctx_param(cx, "policy_uuid"), k->k_type};
	PGresult *res = NULL;
	enum cu_err err;

	memset(r, 0, sizeof(*r));
	if (params[0] == NULL || !cu_api_is_uuid(params[0])) {
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	if (lock) {
		if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
			cu_ctx_fail(cx, err, "The database");
			return -1;
		}
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res,
	                 lock ? CU_DB_STMT_POLICIES_KIND_LOCK : CU_DB_STMT_POLICIES_KIND_GET, 2,
	                 params);
	if (err != CU_OK) {
		if (lock)
			cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
	if (PQntuples(res) < 1) {
		if (lock)
			cu_db_rollback(cx->cx_db);
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	r->rw_res = res;
	r->rw_pk = cu_db_value(res, 0, 1);
	r->rw_snapshot = cu_db_value(res, 0, 2);
	r->rw_name = cu_db_value(res, 0, 3);
	r->rw_type = cu_db_value(res, 0, 4);
	if (!lock || before == NULL)
		return cu_api_require(cx, kind_perm(cx, k, verb), r->rw_pk);
	if (cu_json_parse(cx->cx_arena, r->rw_snapshot, strlen(r->rw_snapshot), before) != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, CU_ERR_INTERNAL, "The policy");
		return -1;
	}
	return 0;
}

/* eff's fields start as the model's defaults. */
static void
kind_defaults(struct cu_ctx *cx, const struct kind *k, struct json_object *eff)
{
	const struct kfield *f;

	cu_json_set_bool(eff, "execution_logging", 0);
	for (f = k->k_fields; f->kf_name != NULL; f++) {
		struct json_object *v = NULL;

		if (f->kf_default != NULL &&
		    cu_json_parse(cx->cx_arena, f->kf_default, strlen(f->kf_default), &v) == CU_OK)
			cu_json_set(eff, f->kf_name, json_object_get(v));
	}
}

/* Overlays the body's fields on eff and checks them, as the kind's serializer. */
static void
kind_read_body(struct cu_ctx *cx, const struct kind *k, struct cu_api_errors *e,
               struct json_object *body, struct json_object *eff, int create)
{
	const struct kfield *f;
	const char *s = NULL;
	int64_t n;
	int b;

	if (create && !json_object_object_get_ex(body, "name", NULL))
		cu_api_error(e, "name", "This field is required.");
	if (cu_api_field_string(e, body, "name", 0, 0, 0, &s) > 0)
		cu_json_set_string(eff, "name", s);
	if (cu_api_field_bool(e, body, "execution_logging", &b) > 0)
		cu_json_set_bool(eff, "execution_logging", b);
	for (f = k->k_fields; f->kf_name != NULL; f++) {
		if (create && f->kf_default == NULL &&
		    !json_object_object_get_ex(body, f->kf_name, NULL)) {
			cu_api_error(e, f->kf_name, "This field is required.");
			continue;
		}
		switch (f->kf_type) {
		case KF_TEXT:
		case KF_TEXT_BLANK:
			if (cu_api_field_string(e, body, f->kf_name, 0, f->kf_type == KF_TEXT_BLANK,
			                        0, &s) > 0)
				cu_json_set_string(eff, f->kf_name, s);
			break;
		case KF_BOOL:
			if (cu_api_field_bool(e, body, f->kf_name, &b) > 0)
				cu_json_set_bool(eff, f->kf_name, b);
			break;
		case KF_UINT:
			if (cu_api_field_int(e, body, f->kf_name, 0, 2147483647LL, &n) > 0)
				cu_json_set_int(eff, f->kf_name, n);
			break;
		case KF_INT:
			if (cu_api_field_int(e, body, f->kf_name, -2147483648LL, 2147483647LL, &n) >
			    0)
				cu_json_set_int(eff, f->kf_name, n);
			break;
		}
	}
	if (!cu_api_errors_any(e) && k->k_validate != NULL)
		k->k_validate(cx, e, eff);
}

/* The kind's own fields of eff as one JSON text (the statements' fields parameter). */
static const char *
kind_fields_json(struct cu_ctx *cx, const struct kind *k, struct json_object *eff)
{
	struct json_object *o = cu_json_object(cx->cx_arena), *v = NULL;
	const struct kfield *f;

	for (f = k->k_fields; f->kf_name != NULL; f++)
		if (json_object_object_get_ex(eff, f->kf_name, &v))
			cu_json_set(o, f->kf_name, json_object_get(v));
	return cu_json_text(o, NULL);
}

void
cu_api_policies_kind_list(struct cu_ctx *cx)
{
	const struct kind *k = kind_of_request(cx);

	if (cu_api_login(cx) != 0)
		return;
	if (k == NULL) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	cu_api_list_send(cx, k->k_list, NULL, 0);
}

void
cu_api_policies_kind_get(struct cu_ctx *cx)
{
	const struct kind *k = kind_of_request(cx);
	struct row r;

	if (cu_api_login(cx) != 0)
		return;
	if (k == NULL) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	if (kind_find(cx, k, "view", &r, 0, NULL) != 0)
		return;
	cu_api_send_row(cx, 200, r.rw_res);
}

void
cu_api_policies_kind_create(struct cu_ctx *cx)
{
	const struct kind *k = kind_of_request(cx);
	struct json_object *body = NULL, *eff;
	struct cu_api_errors e;
	const char *params[3];
	PGresult *res = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0)
		return;
	if (k == NULL) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	if (cu_api_require(cx, kind_perm(cx, k, "add"), NULL) != 0 || cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	eff = cu_json_object(cx->cx_arena);
	kind_defaults(cx, k, eff);
	kind_read_body(cx, k, &e, body, eff, 1);
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	params[0] = eff_text(eff, "name");
	params[1] = eff_bool(eff, "execution_logging");
	params[2] = kind_fields_json(cx, k, eff);
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (em_exec(cx, &e, k->k_insert, 3, params, &res) != 0)
		return;
	finish_write(cx, CU_DB_STMT_POLICIES_GET, 201, "model_created", k->k_app, k->k_type,
	             cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0)), NULL);
}

void
cu_api_policies_kind_update(struct cu_ctx *cx)
{
	const struct kind *k = kind_of_request(cx);
	struct json_object *body = NULL, *before = NULL, *eff = NULL;
	struct cu_api_errors e;
	const char *params[4];
	PGresult *res = NULL;
	struct row r;

	if (cu_api_login(cx) != 0)
		return;
	if (k == NULL) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	if (kind_find(cx, k, "change", &r, 0, NULL) != 0 || cu_api_body(cx, &body) != 0 ||
	    kind_find(cx, k, "change", &r, 1, &before) != 0)
		return;
	if (cu_json_parse(cx->cx_arena, r.rw_snapshot, strlen(r.rw_snapshot), &eff) != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, CU_ERR_INTERNAL, "The policy");
		return;
	}
	cu_api_errors_init(&e, cx);
	kind_read_body(cx, k, &e, body, eff, cx->cx_req->rq_method == CU_HTTP_PUT);
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	params[0] = r.rw_pk;
	params[1] = eff_text(eff, "name");
	params[2] = eff_bool(eff, "execution_logging");
	params[3] = kind_fields_json(cx, k, eff);
	if (em_exec(cx, &e, k->k_update, 4, params, &res) != 0)
		return;
	finish_write(cx, CU_DB_STMT_POLICIES_GET, 200, "model_updated", k->k_app, k->k_type,
	             r.rw_pk, before);
}

void
cu_api_policies_kind_delete(struct cu_ctx *cx)
{
	const struct kind *k = kind_of_request(cx);
	struct json_object *before = NULL;
	struct row r;

	if (cu_api_login(cx) != 0)
		return;
	if (k == NULL) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	if (kind_find(cx, k, "delete", &r, 0, NULL) != 0 ||
	    kind_find(cx, k, "delete", &r, 1, &before) != 0)
		return;
	finish_delete(cx, CU_DB_STMT_POLICIES_DELETE, k->k_app, k->k_type, &r, before);
}

/* ---- all/{policy_uuid}/test/ ---- */

/*
 * A test runs the policy with a context of the caller's choosing, so it needs what editing the
 * policy needs: its kind's change permission (authentik_policies_expression.
 * change_expressionpolicy ...) or authentik_policies.change_policy, on it or on all. Viewing it
 * is not enough (authentik asks only view_policy). 0, or -1 having answered.
 */
static int
require_change(struct cu_ctx *cx, const struct row *r)
{
	const struct kind *k = kind_of_type(r->rw_type);
	const char *perm = NULL;
	int ok;

	if (r->rw_type != NULL && strcmp(r->rw_type, EM_MODEL) == 0)
		perm = EM_APP ".change_" EM_MODEL;
	else if (k != NULL)
		perm = kind_perm(cx, k, "change");
	ok = perm != NULL ? cu_auth_has_perm(cx, cx->cx_user, perm, r->rw_pk) : 0;
	if (ok == 0)
		return cu_api_require(cx, PERM_CHANGE_POLICY, r->rw_pk);
	if (ok < 0) {
		cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The database");
		return -1;
	}
	return 0;
}

void
cu_api_policies_all_test(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *context = NULL, *o, *logs = NULL, *v = NULL;
	struct cu_policy_request rq;
	struct cu_policy_result result;
	struct cu_api_errors e;
	struct cu_user *user;
	const char *params[2];
	PGresult *res = NULL;
	int64_t pk = 0;
	enum cu_err err;
	struct row r;

	if (cu_api_login(cx) != 0 ||
	    row_load(cx, CU_DB_STMT_POLICIES_GET, cu_ctx_param(cx, "policy_uuid"), &r) != 0 ||
	    require_change(cx, &r) != 0 || cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	if (!json_object_object_get_ex(body, "user", &v))
		cu_api_error(&e, "user", "This field is required.");
	else if (v == NULL)
		cu_api_error(&e, "user", "This field may not be null.");
	else if (!json_object_is_type(v, json_type_int))
		cu_api_error(&e, "user",
		             cu_arena_printf(cx->cx_arena,
		                             "Incorrect type. Expected pk value, received %s.",
		                             cu_api_py_type(v)));
	else
		pk = json_object_get_int64(v);
	if (cu_api_field_object(&e, body, "context", &context) <= 0)
		context = NULL;
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	params[0] = cu_arena_printf(cx->cx_arena, "%lld", (long long)pk);
	params[1] = cx->cx_user->us_id_text;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_POLICIES_TEST_USER, 2, params);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if (PQntuples(res) < 1) {
		cu_api_error(&e, "user",
		             cu_arena_printf(cx->cx_arena,
		                             "Invalid pk \"%lld\" - object does not exist.",
		                             (long long)pk));
		cu_api_errors_send(cx, &e);
		return;
	}
	/* Only users the caller may view can be tested, answered as authentik: 400, no body. */
	if (strcmp(cu_db_value(res, 0, 8), "t") != 0) {
		cu_http_send_text(cx->cx_resp, 400, "application/json", "", 0);
		return;
	}
	user = cu_arena_zalloc(cx->cx_arena, sizeof(*user));
	user->us_id = pk;
	user->us_id_text = params[0];
	user->us_uuid = cu_db_value(res, 0, 1);
	user->us_username = cu_db_value(res, 0, 2);
	user->us_name = cu_db_value(res, 0, 3);
	user->us_email = cu_db_value(res, 0, 4);
	user->us_type = cu_db_value(res, 0, 5);
	user->us_path = cu_db_value(res, 0, 6);
	user->us_is_superuser = strcmp(cu_db_value(res, 0, 7), "t") == 0;
	memset(&rq, 0, sizeof(rq));
	rq.pr_user = user;
	rq.pr_context = context != NULL ? context : cu_json_object(cx->cx_arena);
	err = cu_policy_engine_test(cx, r.rw_pk, &rq, &result, &logs);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	o = cu_json_object(cx->cx_arena);
	cu_json_set_bool(o, "passing", result.pr_passing);
	cu_json_set(o, "messages", json_object_get(result.pr_messages));
	cu_json_set(o, "log_messages", json_object_get(logs));
	cu_ctx_json(cx, 200, o);
}

/* ---- reputation/scores/ (Redis) ---- */

#define SCORES_MAX 10000 /* keys one listing looks at */
#define PERM_VIEW_REPUTATION "authentik_policies_reputation.view_reputation"
#define PERM_DELETE_REPUTATION "authentik_policies_reputation.delete_reputation"

/* A score as authentik's ReputationSerializer; pk is "ip:<address>" or "user:<username>". */
static struct json_object *
score_json(const char *suffix, long long score)
{
	struct json_object *o = json_object_new_object();
	int is_ip = strncmp(suffix, "ip:", 3) == 0;

	cu_json_set_string(o, "pk", suffix);
	cu_json_set_string(o, "identifier", is_ip ? "" : suffix + 5);
	if (is_ip)
		cu_json_set_string(o, "ip", suffix + 3);
	else
		cu_json_set(o, "ip", NULL);
	cu_json_set(o, "ip_geo_data", json_object_new_object());
	cu_json_set(o, "ip_asn_data", json_object_new_object());
	cu_json_set_int(o, "score", score);
	cu_json_set(o, "updated", NULL);
	return o;
}

void
cu_api_policies_reputation_scores_list(struct cu_ctx *cx)
{
	struct json_object *results, *o, *pag;
	const char *cursor = "0";
	size_t seen = 0, i, n;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, PERM_VIEW_REPUTATION, NULL) != 0)
		return;
	results = cu_json_array(cx->cx_arena);
	/* SCAN over the prefix, bounded; Redis down lists nothing, as no score is kept then. */
	do {
		const char *argv[6] = {"SCAN",  cursor, "MATCH", CU_REPUTATION_PREFIX "*",
		                       "COUNT", "500"};
		struct redisReply *rep = NULL, *keys, *vals = NULL;
		const char **mget;

		if (cx->cx_cache == NULL ||
		    cu_cache_cmd(cx->cx_cache, cx->cx_arena, &rep, 6, argv, NULL) != CU_OK ||
		    rep->type != REDIS_REPLY_ARRAY || rep->elements != 2)
			break;
		cursor = cu_arena_strdup(cx->cx_arena, rep->element[0]->str);
		keys = rep->element[1];
		n = keys->elements;
		if (n == 0)
			continue;
		mget = cu_arena_alloc(cx->cx_arena, (n + 1) * sizeof(*mget));
		mget[0] = "MGET";
		for (i = 0; i < n; i++)
			mget[i + 1] = keys->element[i]->str;
		if (cu_cache_cmd(cx->cx_cache, cx->cx_arena, &vals, (int)n + 1, mget, NULL) !=
		        CU_OK ||
		    vals->type != REDIS_REPLY_ARRAY || vals->elements != n)
			break;
		for (i = 0; i < n && seen < SCORES_MAX; i++, seen++) {
			const char *key = keys->element[i]->str;

			if (vals->element[i]->type != REDIS_REPLY_STRING)
				continue;
			json_object_array_add(results,
			                      score_json(key + sizeof(CU_REPUTATION_PREFIX) - 1,
			                                 strtoll(vals->element[i]->str, NULL, 10)));
		}
	} while (strcmp(cursor, "0") != 0 && seen < SCORES_MAX);
	n = json_object_array_length(results);
	o = cu_json_object(cx->cx_arena);
	pag = json_object_new_object();
	cu_json_set_int(pag, "next", 0);
	cu_json_set_int(pag, "previous", 0);
	cu_json_set_int(pag, "count", (int64_t)n);
	cu_json_set_int(pag, "current", 1);
	cu_json_set_int(pag, "total_pages", 1);
	cu_json_set_int(pag, "start_index", n > 0 ? 1 : 0);
	cu_json_set_int(pag, "end_index", (int64_t)n);
	cu_json_set(o, "pagination", pag);
	cu_json_set(o, "results", json_object_get(results));
	cu_json_set(o, "autocomplete", json_object_new_object());
	cu_ctx_json(cx, 200, o);
}

void
cu_api_policies_reputation_scores_delete(struct cu_ctx *cx)
{
	const char *pk = cu_ctx_param(cx, "reputation_uuid"), *key = NULL;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, PERM_DELETE_REPUTATION, NULL) != 0)
		return;
	if (pk != NULL && strncmp(pk, "ip:", 3) == 0)
		key = cu_reputation_key(cx->cx_arena, "ip", pk + 3);
	else if (pk != NULL && strncmp(pk, "user:", 5) == 0)
		key = cu_reputation_key(cx->cx_arena, "user", pk + 5);
	if (key == NULL) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	{
		const char *argv[2] = {"DEL", key};
		struct redisReply *rep = NULL;

		if (cx->cx_cache == NULL ||
		    cu_cache_cmd(cx->cx_cache, cx->cx_arena, &rep, 2, argv, NULL) != CU_OK) {
			cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The cache");
			return;
		}
		if (rep->type != REDIS_REPLY_INTEGER || rep->integer < 1) {
			cu_ctx_error(cx, 404, "Not found.");
			return;
		}
	}
	cu_log(CU_LOG_INFO, "reputation_deleted", CU_LS("pk", pk));
	cu_api_no_content(cx);
}
