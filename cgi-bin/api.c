/*
 * api.fcgi: /api/v3/ (except the flow executor) and /-/health/.
 * Each route names the lib/api/ module that serves it. Fixed paths come before the {id}
 * pattern beside them, since the first matching route wins.
 */
#include "api/admin.h"
#include "api/applications.h"
#include "api/authenticated_sessions.h"
#include "api/brands.h"
#include "api/crypto.h"
#include "api/events.h"
#include "api/files.h"
#include "api/flows.h"
#include "api/groups.h"
#include "api/health.h"
#include "api/notifications.h"
#include "api/oauth2.h"
#include "api/policies.h"
#include "api/propertymappings.h"
#include "api/providers.h"
#include "api/providers_saml.h"
#include "api/rbac.h"
#include "api/root.h"
#include "api/stages.h"
#include "api/tasks.h"
#include "api/tokens.h"
#include "api/users.h"
#include "http.h"
#include "server.h"

#define GET CU_HTTP_GET
#define POST CU_HTTP_POST
#define PUT_PATCH (CU_HTTP_PUT | CU_HTTP_PATCH)
#define DELETE CU_HTTP_DELETE
/* Bodies a little over 1 MiB: attributes and certificates are the largest things sent. */
#define BIG (1024 * 1024 + 65536)

#define CORE "/api/v3/core/"
#define CRYPTO "/api/v3/crypto/certificatekeypairs/"
#define RBAC "/api/v3/rbac/"
#define TASKS "/api/v3/tasks/"
#define POLICIES "/api/v3/policies/"
#define EVENTS "/api/v3/events/"
#define PROVIDERS "/api/v3/providers/"
#define PROPERTYMAPPINGS "/api/v3/propertymappings/"
#define OAUTH2 "/api/v3/oauth2/"
#define ADMIN_FILE "/api/v3/admin/file/"

static const struct cu_route routes[] = {
    {GET, "/-/health/live/", cu_api_health_live, 0},
    {GET, "/-/health/ready/", cu_api_health_ready, 0},
    {GET, "/api/v3/root/config/", cu_api_root_config, 0},
    {GET, "/api/v3/schema/", cu_api_schema, 0},
    {GET, "/api/v3/admin/version/", cu_api_admin_version, 0},
    {GET | POST, "/api/v3/admin/system/", cu_api_admin_system, 0},

    {GET, CORE "users/", cu_api_users_list, 0},
    {POST, CORE "users/", cu_api_users_create, BIG},
    {GET, CORE "users/me/", cu_api_users_me, 0},
    {GET, CORE "users/paths/", cu_api_users_paths, 0},
    {POST, CORE "users/service_account/", cu_api_users_service_account, 0},
    {GET, CORE "users/{id}/", cu_api_users_get, 0},
    {PUT_PATCH, CORE "users/{id}/", cu_api_users_update, BIG},
    {DELETE, CORE "users/{id}/", cu_api_users_delete, 0},
    {POST, CORE "users/{id}/set_password/", cu_api_users_set_password, 0},
    {POST, CORE "users/{id}/recovery/", cu_api_users_recovery, 0},
    {POST, CORE "users/{id}/recovery_email/", cu_api_users_recovery_email, 0},

    {GET, CORE "groups/", cu_api_groups_list, 0},
    {POST, CORE "groups/", cu_api_groups_create, BIG},
    {GET, CORE "groups/{group_uuid}/", cu_api_groups_get, 0},
    {PUT_PATCH, CORE "groups/{group_uuid}/", cu_api_groups_update, BIG},
    {DELETE, CORE "groups/{group_uuid}/", cu_api_groups_delete, 0},
    {POST, CORE "groups/{group_uuid}/add_user/", cu_api_groups_add_user, 0},
    {POST, CORE "groups/{group_uuid}/remove_user/", cu_api_groups_remove_user, 0},

    {GET, CORE "tokens/", cu_api_tokens_list, 0},
    {POST, CORE "tokens/", cu_api_tokens_create, 0},
    {GET, CORE "tokens/{identifier}/", cu_api_tokens_get, 0},
    {PUT_PATCH, CORE "tokens/{identifier}/", cu_api_tokens_update, 0},
    {DELETE, CORE "tokens/{identifier}/", cu_api_tokens_delete, 0},
    {GET, CORE "tokens/{identifier}/view_key/", cu_api_tokens_view_key, 0},
    {POST, CORE "tokens/{identifier}/set_key/", cu_api_tokens_set_key, 0},

    {GET, CORE "applications/", cu_api_applications_list, 0},
    {POST, CORE "applications/", cu_api_applications_create, 0},
    {GET, CORE "applications/{slug}/", cu_api_applications_get, 0},
    {PUT_PATCH, CORE "applications/{slug}/", cu_api_applications_update, 0},
    {DELETE, CORE "applications/{slug}/", cu_api_applications_delete, 0},
    {GET, CORE "applications/{slug}/check_access/", cu_api_applications_check_access, 0},

    {GET, CORE "brands/", cu_api_brands_list, 0},
    {POST, CORE "brands/", cu_api_brands_create, BIG},
    {GET, CORE "brands/current/", cu_api_brands_current, 0},
    {GET, CORE "brands/{brand_uuid}/", cu_api_brands_get, 0},
    {PUT_PATCH, CORE "brands/{brand_uuid}/", cu_api_brands_update, BIG},
    {DELETE, CORE "brands/{brand_uuid}/", cu_api_brands_delete, 0},

    {GET, CRYPTO, cu_api_crypto_list, 0},
    {POST, CRYPTO, cu_api_crypto_create, BIG},
    {POST, CRYPTO "generate/", cu_api_crypto_generate, 0},
    {GET, CRYPTO "{kp_uuid}/", cu_api_crypto_get, 0},
    {PUT_PATCH, CRYPTO "{kp_uuid}/", cu_api_crypto_update, BIG},
    {DELETE, CRYPTO "{kp_uuid}/", cu_api_crypto_delete, 0},
    {GET, CRYPTO "{kp_uuid}/view_certificate/", cu_api_crypto_view_certificate, 0},
    {GET, CRYPTO "{kp_uuid}/view_private_key/", cu_api_crypto_view_private_key, 0},

    {GET, "/api/v3/events/events/", cu_api_events_list, 0},
    {GET, "/api/v3/events/events/actions/", cu_api_events_actions, 0},
    {GET, "/api/v3/events/events/volume/", cu_api_events_volume, 0},
    {GET, "/api/v3/events/events/{event_uuid}/", cu_api_events_get, 0},
    {GET, EVENTS "rules/", cu_api_rules_list, 0},
    {POST, EVENTS "rules/", cu_api_rules_create, 0},
    {GET, EVENTS "rules/{pbm_uuid}/", cu_api_rules_get, 0},
    {PUT_PATCH, EVENTS "rules/{pbm_uuid}/", cu_api_rules_update, 0},
    {DELETE, EVENTS "rules/{pbm_uuid}/", cu_api_rules_delete, 0},
    {GET, EVENTS "transports/", cu_api_transports_list, 0},
    {POST, EVENTS "transports/", cu_api_transports_create, 0},
    {GET, EVENTS "transports/{uuid}/", cu_api_transports_get, 0},
    {PUT_PATCH, EVENTS "transports/{uuid}/", cu_api_transports_update, 0},
    {DELETE, EVENTS "transports/{uuid}/", cu_api_transports_delete, 0},
    {POST, EVENTS "transports/{uuid}/test/", cu_api_transports_test, 0},
    {GET, EVENTS "notifications/", cu_api_notifications_list, 0},
    {POST, EVENTS "notifications/mark_all_seen/", cu_api_notifications_mark_all_seen, 0},
    {GET, EVENTS "notifications/{uuid}/", cu_api_notifications_get, 0},
    {PUT_PATCH, EVENTS "notifications/{uuid}/", cu_api_notifications_update, 0},
    {DELETE, EVENTS "notifications/{uuid}/", cu_api_notifications_delete, 0},

    {GET, RBAC "roles/", cu_api_rbac_roles_list, 0},
    {POST, RBAC "roles/", cu_api_rbac_roles_create, 0},
    {GET, RBAC "roles/{uuid}/", cu_api_rbac_roles_get, 0},
    {PUT_PATCH, RBAC "roles/{uuid}/", cu_api_rbac_roles_update, 0},
    {DELETE, RBAC "roles/{uuid}/", cu_api_rbac_roles_delete, 0},
    {POST, RBAC "roles/{uuid}/add_user/", cu_api_rbac_roles_add_user, 0},
    {POST, RBAC "roles/{uuid}/remove_user/", cu_api_rbac_roles_remove_user, 0},
    {GET, RBAC "permissions/", cu_api_rbac_permissions_list, 0},
    {GET, RBAC "permissions/assigned_by_roles/", cu_api_rbac_assigned_by_roles, 0},
    {POST, RBAC "permissions/assigned_by_roles/{uuid}/assign/", cu_api_rbac_assign, 0},
    {CU_HTTP_PATCH, RBAC "permissions/assigned_by_roles/{uuid}/unassign/", cu_api_rbac_unassign, 0},
    {GET, RBAC "permissions/{id}/", cu_api_rbac_permissions_get, 0},

    {GET, TASKS "tasks/", cu_api_tasks_list, 0},
    {GET, TASKS "tasks/status/", cu_api_tasks_status, 0},
    {GET, TASKS "tasks/{message_id}/", cu_api_tasks_get, 0},
    {POST, TASKS "tasks/{message_id}/retry/", cu_api_tasks_retry, 0},
    {GET, TASKS "schedules/", cu_api_tasks_schedules_list, 0},
    {GET, TASKS "schedules/{id}/", cu_api_tasks_schedules_get, 0},
    {PUT_PATCH, TASKS "schedules/{id}/", cu_api_tasks_schedules_update, 0},
    {POST, TASKS "schedules/{id}/send/", cu_api_tasks_schedules_send, 0},
    {GET, TASKS "workers", cu_api_tasks_workers, 0},

    {GET, POLICIES "all/", cu_api_policies_all_list, 0},
    {GET, POLICIES "all/types/", cu_api_policies_all_types, 0},
    {GET, POLICIES "all/{policy_uuid}/", cu_api_policies_all_get, 0},
    {DELETE, POLICIES "all/{policy_uuid}/", cu_api_policies_all_delete, 0},
    {GET, POLICIES "event_matcher/", cu_api_policies_em_list, 0},
    {POST, POLICIES "event_matcher/", cu_api_policies_em_create, 0},
    {GET, POLICIES "event_matcher/{policy_uuid}/", cu_api_policies_em_get, 0},
    {PUT_PATCH, POLICIES "event_matcher/{policy_uuid}/", cu_api_policies_em_update, 0},
    {DELETE, POLICIES "event_matcher/{policy_uuid}/", cu_api_policies_em_delete, 0},
    {GET, POLICIES "bindings/", cu_api_policies_bindings_list, 0},
    {POST, POLICIES "bindings/", cu_api_policies_bindings_create, 0},
    {GET, POLICIES "bindings/{policy_binding_uuid}/", cu_api_policies_bindings_get, 0},
    {PUT_PATCH, POLICIES "bindings/{policy_binding_uuid}/", cu_api_policies_bindings_update, 0},
    {DELETE, POLICIES "bindings/{policy_binding_uuid}/", cu_api_policies_bindings_delete, 0},
    /* policy kinds (lib/api/policies.c): expression, password, password_expiry, reputation,
     * unique_password, dummy */
    {POST, POLICIES "all/{policy_uuid}/test/", cu_api_policies_all_test, 0},
    {GET, POLICIES "reputation/scores/", cu_api_policies_reputation_scores_list, 0},
    {DELETE, POLICIES "reputation/scores/{reputation_uuid}/",
     cu_api_policies_reputation_scores_delete, 0},
    {GET, POLICIES "expression/", cu_api_policies_kind_list, 0},
    {POST, POLICIES "expression/", cu_api_policies_kind_create, 0},
    {GET, POLICIES "expression/{policy_uuid}/", cu_api_policies_kind_get, 0},
    {PUT_PATCH, POLICIES "expression/{policy_uuid}/", cu_api_policies_kind_update, 0},
    {DELETE, POLICIES "expression/{policy_uuid}/", cu_api_policies_kind_delete, 0},
    {GET, POLICIES "password/", cu_api_policies_kind_list, 0},
    {POST, POLICIES "password/", cu_api_policies_kind_create, 0},
    {GET, POLICIES "password/{policy_uuid}/", cu_api_policies_kind_get, 0},
    {PUT_PATCH, POLICIES "password/{policy_uuid}/", cu_api_policies_kind_update, 0},
    {DELETE, POLICIES "password/{policy_uuid}/", cu_api_policies_kind_delete, 0},
    {GET, POLICIES "password_expiry/", cu_api_policies_kind_list, 0},
    {POST, POLICIES "password_expiry/", cu_api_policies_kind_create, 0},
    {GET, POLICIES "password_expiry/{policy_uuid}/", cu_api_policies_kind_get, 0},
    {PUT_PATCH, POLICIES "password_expiry/{policy_uuid}/", cu_api_policies_kind_update, 0},
    {DELETE, POLICIES "password_expiry/{policy_uuid}/", cu_api_policies_kind_delete, 0},
    {GET, POLICIES "reputation/", cu_api_policies_kind_list, 0},
    {POST, POLICIES "reputation/", cu_api_policies_kind_create, 0},
    {GET, POLICIES "reputation/{policy_uuid}/", cu_api_policies_kind_get, 0},
    {PUT_PATCH, POLICIES "reputation/{policy_uuid}/", cu_api_policies_kind_update, 0},
    {DELETE, POLICIES "reputation/{policy_uuid}/", cu_api_policies_kind_delete, 0},
    {GET, POLICIES "unique_password/", cu_api_policies_kind_list, 0},
    {POST, POLICIES "unique_password/", cu_api_policies_kind_create, 0},
    {GET, POLICIES "unique_password/{policy_uuid}/", cu_api_policies_kind_get, 0},
    {PUT_PATCH, POLICIES "unique_password/{policy_uuid}/", cu_api_policies_kind_update, 0},
    {DELETE, POLICIES "unique_password/{policy_uuid}/", cu_api_policies_kind_delete, 0},
    {GET, POLICIES "dummy/", cu_api_policies_kind_list, 0},
    {POST, POLICIES "dummy/", cu_api_policies_kind_create, 0},
    {GET, POLICIES "dummy/{policy_uuid}/", cu_api_policies_kind_get, 0},
    {PUT_PATCH, POLICIES "dummy/{policy_uuid}/", cu_api_policies_kind_update, 0},
    {DELETE, POLICIES "dummy/{policy_uuid}/", cu_api_policies_kind_delete, 0},
    /* the settings pages stages offer users (lib/api/stages.c); before all/{stage_uuid}/ */
    {GET, "/api/v3/stages/all/user_settings/", cu_api_stages_all_user_settings, 0},
    /* flows, flow stage bindings, stages, prompts, invitations, consents (lib/api/flows.c,
     * lib/api/stages.c) */
    {GET, "/api/v3/stages/all/", cu_api_stages_all_list, 0},
    {GET, "/api/v3/stages/all/types/", cu_api_stages_all_types, 0},
    {GET, "/api/v3/stages/all/{stage_uuid}/", cu_api_stages_all_get, 0},
    {DELETE, "/api/v3/stages/all/{stage_uuid}/", cu_api_stages_all_delete, 0},
    {GET, "/api/v3/stages/identification/", cu_api_stages_kind_list, 0},
    {POST, "/api/v3/stages/identification/", cu_api_stages_kind_create, 0},
    {GET, "/api/v3/stages/identification/{stage_uuid}/", cu_api_stages_kind_get, 0},
    {PUT_PATCH, "/api/v3/stages/identification/{stage_uuid}/", cu_api_stages_kind_update, 0},
    {DELETE, "/api/v3/stages/identification/{stage_uuid}/", cu_api_stages_kind_delete, 0},
    {GET, "/api/v3/stages/password/", cu_api_stages_kind_list, 0},
    {POST, "/api/v3/stages/password/", cu_api_stages_kind_create, 0},
    {GET, "/api/v3/stages/password/{stage_uuid}/", cu_api_stages_kind_get, 0},
    {PUT_PATCH, "/api/v3/stages/password/{stage_uuid}/", cu_api_stages_kind_update, 0},
    {DELETE, "/api/v3/stages/password/{stage_uuid}/", cu_api_stages_kind_delete, 0},
    {GET, "/api/v3/stages/user_login/", cu_api_stages_kind_list, 0},
    {POST, "/api/v3/stages/user_login/", cu_api_stages_kind_create, 0},
    {GET, "/api/v3/stages/user_login/{stage_uuid}/", cu_api_stages_kind_get, 0},
    {PUT_PATCH, "/api/v3/stages/user_login/{stage_uuid}/", cu_api_stages_kind_update, 0},
    {DELETE, "/api/v3/stages/user_login/{stage_uuid}/", cu_api_stages_kind_delete, 0},
    {GET, "/api/v3/stages/user_logout/", cu_api_stages_kind_list, 0},
    {POST, "/api/v3/stages/user_logout/", cu_api_stages_kind_create, 0},
    {GET, "/api/v3/stages/user_logout/{stage_uuid}/", cu_api_stages_kind_get, 0},
    {PUT_PATCH, "/api/v3/stages/user_logout/{stage_uuid}/", cu_api_stages_kind_update, 0},
    {DELETE, "/api/v3/stages/user_logout/{stage_uuid}/", cu_api_stages_kind_delete, 0},
    {GET, "/api/v3/stages/deny/", cu_api_stages_kind_list, 0},
    {POST, "/api/v3/stages/deny/", cu_api_stages_kind_create, 0},
    {GET, "/api/v3/stages/deny/{stage_uuid}/", cu_api_stages_kind_get, 0},
    {PUT_PATCH, "/api/v3/stages/deny/{stage_uuid}/", cu_api_stages_kind_update, 0},
    {DELETE, "/api/v3/stages/deny/{stage_uuid}/", cu_api_stages_kind_delete, 0},
    {GET, "/api/v3/stages/dummy/", cu_api_stages_kind_list, 0},
    {POST, "/api/v3/stages/dummy/", cu_api_stages_kind_create, 0},
    {GET, "/api/v3/stages/dummy/{stage_uuid}/", cu_api_stages_kind_get, 0},
    {PUT_PATCH, "/api/v3/stages/dummy/{stage_uuid}/", cu_api_stages_kind_update, 0},
    {DELETE, "/api/v3/stages/dummy/{stage_uuid}/", cu_api_stages_kind_delete, 0},
    {GET, "/api/v3/stages/redirect/", cu_api_stages_kind_list, 0},
    {POST, "/api/v3/stages/redirect/", cu_api_stages_kind_create, 0},
    {GET, "/api/v3/stages/redirect/{stage_uuid}/", cu_api_stages_kind_get, 0},
    {PUT_PATCH, "/api/v3/stages/redirect/{stage_uuid}/", cu_api_stages_kind_update, 0},
    {DELETE, "/api/v3/stages/redirect/{stage_uuid}/", cu_api_stages_kind_delete, 0},
    {GET, "/api/v3/stages/consent/", cu_api_stages_kind_list, 0},
    {POST, "/api/v3/stages/consent/", cu_api_stages_kind_create, 0},
    {GET, "/api/v3/stages/consent/{stage_uuid}/", cu_api_stages_kind_get, 0},
    {PUT_PATCH, "/api/v3/stages/consent/{stage_uuid}/", cu_api_stages_kind_update, 0},
    {DELETE, "/api/v3/stages/consent/{stage_uuid}/", cu_api_stages_kind_delete, 0},
    {GET, "/api/v3/stages/prompt/stages/", cu_api_stages_kind_list, 0},
    {POST, "/api/v3/stages/prompt/stages/", cu_api_stages_kind_create, 0},
    {GET, "/api/v3/stages/prompt/stages/{stage_uuid}/", cu_api_stages_kind_get, 0},
    {PUT_PATCH, "/api/v3/stages/prompt/stages/{stage_uuid}/", cu_api_stages_kind_update, 0},
    {DELETE, "/api/v3/stages/prompt/stages/{stage_uuid}/", cu_api_stages_kind_delete, 0},
    {GET, "/api/v3/stages/user_write/", cu_api_stages_kind_list, 0},
    {POST, "/api/v3/stages/user_write/", cu_api_stages_kind_create, 0},
    {GET, "/api/v3/stages/user_write/{stage_uuid}/", cu_api_stages_kind_get, 0},
    {PUT_PATCH, "/api/v3/stages/user_write/{stage_uuid}/", cu_api_stages_kind_update, 0},
    {DELETE, "/api/v3/stages/user_write/{stage_uuid}/", cu_api_stages_kind_delete, 0},
    {GET, "/api/v3/stages/invitation/stages/", cu_api_stages_kind_list, 0},
    {POST, "/api/v3/stages/invitation/stages/", cu_api_stages_kind_create, 0},
    {GET, "/api/v3/stages/invitation/stages/{stage_uuid}/", cu_api_stages_kind_get, 0},
    {PUT_PATCH, "/api/v3/stages/invitation/stages/{stage_uuid}/", cu_api_stages_kind_update, 0},
    {DELETE, "/api/v3/stages/invitation/stages/{stage_uuid}/", cu_api_stages_kind_delete, 0},
    {GET, "/api/v3/stages/email/templates/", cu_api_stages_email_templates, 0},
    {GET, "/api/v3/stages/email/", cu_api_stages_kind_list, 0},
    {POST, "/api/v3/stages/email/", cu_api_stages_kind_create, 0},
    {GET, "/api/v3/stages/email/{stage_uuid}/", cu_api_stages_kind_get, 0},
    {PUT_PATCH, "/api/v3/stages/email/{stage_uuid}/", cu_api_stages_kind_update, 0},
    {DELETE, "/api/v3/stages/email/{stage_uuid}/", cu_api_stages_kind_delete, 0},
    {GET, "/api/v3/stages/prompt/prompts/", cu_api_stages_prompts_list, 0},
    {POST, "/api/v3/stages/prompt/prompts/", cu_api_stages_prompts_create, 0},
    {GET, "/api/v3/stages/prompt/prompts/{prompt_uuid}/", cu_api_stages_prompts_get, 0},
    {PUT_PATCH, "/api/v3/stages/prompt/prompts/{prompt_uuid}/", cu_api_stages_prompts_update, 0},
    {DELETE, "/api/v3/stages/prompt/prompts/{prompt_uuid}/", cu_api_stages_prompts_delete, 0},
    {GET, "/api/v3/stages/invitation/invitations/", cu_api_stages_invitations_list, 0},
    {POST, "/api/v3/stages/invitation/invitations/", cu_api_stages_invitations_create, BIG},
    {GET, "/api/v3/stages/invitation/invitations/{invite_uuid}/", cu_api_stages_invitations_get, 0},
    {PUT_PATCH, "/api/v3/stages/invitation/invitations/{invite_uuid}/",
     cu_api_stages_invitations_update, BIG},
    {DELETE, "/api/v3/stages/invitation/invitations/{invite_uuid}/",
     cu_api_stages_invitations_delete, 0},
    {GET, CORE "user_consent/", cu_api_stages_consents_list, 0},
    {GET, CORE "user_consent/{id}/", cu_api_stages_consents_get, 0},
    {DELETE, CORE "user_consent/{id}/", cu_api_stages_consents_delete, 0},
    {GET, "/api/v3/flows/instances/", cu_api_flows_list, 0},
    {POST, "/api/v3/flows/instances/", cu_api_flows_create, 0},
    {GET, "/api/v3/flows/instances/{slug}/", cu_api_flows_get, 0},
    {PUT_PATCH, "/api/v3/flows/instances/{slug}/", cu_api_flows_update, 0},
    {DELETE, "/api/v3/flows/instances/{slug}/", cu_api_flows_delete, 0},
    {GET, "/api/v3/flows/instances/{slug}/execute/", cu_api_flows_execute, 0},
    {GET, "/api/v3/flows/bindings/", cu_api_flow_bindings_list, 0},
    {POST, "/api/v3/flows/bindings/", cu_api_flow_bindings_create, 0},
    {GET, "/api/v3/flows/bindings/{fsb_uuid}/", cu_api_flow_bindings_get, 0},
    {PUT_PATCH, "/api/v3/flows/bindings/{fsb_uuid}/", cu_api_flow_bindings_update, 0},
    {DELETE, "/api/v3/flows/bindings/{fsb_uuid}/", cu_api_flow_bindings_delete, 0},
    /* authenticated sessions (lib/api/authenticated_sessions.c) */
    {GET, CORE "authenticated_sessions/", cu_api_sessions_list, 0},
    {GET, CORE "authenticated_sessions/{uuid}/", cu_api_sessions_get, 0},
    {DELETE, CORE "authenticated_sessions/{uuid}/", cu_api_sessions_delete, 0},
    /* providers (lib/api/providers.c) */
    {GET, PROVIDERS "all/", cu_api_providers_all_list, 0},
    {GET, PROVIDERS "all/types/", cu_api_providers_all_types, 0},
    {GET, PROVIDERS "all/{id}/", cu_api_providers_all_get, 0},
    {DELETE, PROVIDERS "all/{id}/", cu_api_providers_all_delete, 0},
    {GET, PROVIDERS "oauth2/", cu_api_providers_oauth2_list, 0},
    {POST, PROVIDERS "oauth2/", cu_api_providers_oauth2_create, BIG},
    {GET, PROVIDERS "oauth2/{id}/", cu_api_providers_oauth2_get, 0},
    {PUT_PATCH, PROVIDERS "oauth2/{id}/", cu_api_providers_oauth2_update, BIG},
    {DELETE, PROVIDERS "oauth2/{id}/", cu_api_providers_oauth2_delete, 0},
    {GET, PROVIDERS "oauth2/{id}/setup_urls/", cu_api_providers_oauth2_setup_urls, 0},
    {GET, PROVIDERS "oauth2/{id}/preview_user/", cu_api_providers_oauth2_preview_user, 0},
    /* SAML providers (lib/api/providers_saml.c) */
    {GET, PROVIDERS "saml/", cu_api_providers_saml_list, 0},
    {POST, PROVIDERS "saml/", cu_api_providers_saml_create, BIG},
    {POST, PROVIDERS "saml/import_metadata/", cu_api_providers_saml_import, BIG},
    {GET, PROVIDERS "saml/{id}/", cu_api_providers_saml_get, 0},
    {PUT_PATCH, PROVIDERS "saml/{id}/", cu_api_providers_saml_update, BIG},
    {DELETE, PROVIDERS "saml/{id}/", cu_api_providers_saml_delete, 0},
    {GET, PROVIDERS "saml/{id}/metadata/", cu_api_providers_saml_metadata, 0},
    {GET, PROVIDERS "saml/{id}/preview_user/", cu_api_providers_saml_preview_user, 0},
    {GET, PROPERTYMAPPINGS "provider/saml/", cu_api_propertymappings_saml_list, 0},
    {POST, PROPERTYMAPPINGS "provider/saml/", cu_api_propertymappings_saml_create, BIG},
    {GET, PROPERTYMAPPINGS "provider/saml/{pm_uuid}/", cu_api_propertymappings_saml_get, 0},
    {PUT_PATCH, PROPERTYMAPPINGS "provider/saml/{pm_uuid}/", cu_api_propertymappings_saml_update,
     BIG},
    {DELETE, PROPERTYMAPPINGS "provider/saml/{pm_uuid}/", cu_api_propertymappings_saml_delete, 0},
    /* property mappings (lib/api/propertymappings.c) */
    {GET, PROPERTYMAPPINGS "all/", cu_api_propertymappings_all_list, 0},
    {GET, PROPERTYMAPPINGS "all/types/", cu_api_propertymappings_all_types, 0},
    {GET, PROPERTYMAPPINGS "all/{pm_uuid}/", cu_api_propertymappings_all_get, 0},
    {DELETE, PROPERTYMAPPINGS "all/{pm_uuid}/", cu_api_propertymappings_all_delete, 0},
    {POST, PROPERTYMAPPINGS "all/{pm_uuid}/test/", cu_api_propertymappings_all_test, 0},
    {GET, PROPERTYMAPPINGS "provider/scope/", cu_api_propertymappings_scope_list, 0},
    {POST, PROPERTYMAPPINGS "provider/scope/", cu_api_propertymappings_scope_create, BIG},
    {GET, PROPERTYMAPPINGS "provider/scope/{pm_uuid}/", cu_api_propertymappings_scope_get, 0},
    {PUT_PATCH, PROPERTYMAPPINGS "provider/scope/{pm_uuid}/", cu_api_propertymappings_scope_update,
     BIG},
    {DELETE, PROPERTYMAPPINGS "provider/scope/{pm_uuid}/", cu_api_propertymappings_scope_delete, 0},
    /* OAuth2 grants (lib/api/oauth2.c) */
    {GET, OAUTH2 "access_tokens/", cu_api_oauth2_access_tokens_list, 0},
    {GET, OAUTH2 "access_tokens/{id}/", cu_api_oauth2_access_tokens_get, 0},
    {DELETE, OAUTH2 "access_tokens/{id}/", cu_api_oauth2_access_tokens_delete, 0},
    {GET, OAUTH2 "refresh_tokens/", cu_api_oauth2_refresh_tokens_list, 0},
    {GET, OAUTH2 "refresh_tokens/{id}/", cu_api_oauth2_refresh_tokens_get, 0},
    {DELETE, OAUTH2 "refresh_tokens/{id}/", cu_api_oauth2_refresh_tokens_delete, 0},
    {GET, OAUTH2 "authorization_codes/", cu_api_oauth2_codes_list, 0},
    {GET, OAUTH2 "authorization_codes/{id}/", cu_api_oauth2_codes_get, 0},
    {DELETE, OAUTH2 "authorization_codes/{id}/", cu_api_oauth2_codes_delete, 0},
    /* media files (lib/api/files.c); /media/ reaches this responder through the router */
    {GET, "/api/v3/admin/file/", cu_api_files_list, 0},
    {POST, "/api/v3/admin/file/", cu_api_files_upload, CU_API_FILES_MAX_BODY},
    /* Named through a macro to stay out of the generated schema: scripts/gen-schema.py has no
     * operation name yet for a DELETE on a collection (authentik's admin_file_destroy). */
    {DELETE, ADMIN_FILE, cu_api_files_delete, 0},
    {GET, "/media/public/{name*}", cu_api_files_serve, 0},
};

static const struct cu_app app = {"api", routes, sizeof(routes) / sizeof(routes[0]), NULL};

int
main(int argc, char **argv)
{
	return cu_server_main(&app, argc, argv);
}
