/*
 * /api/v3/propertymappings/: every property mapping (all/, authentik's PropertyMappingViewSet),
 * OAuth2 scope mappings (provider/scope/, ScopeMappingViewSet) and SAML property mappings
 * (provider/saml/, SAMLPropertyMappingViewSet), by pm_uuid.
 */
#ifndef CU_API_PROPERTYMAPPINGS_H
#define CU_API_PROPERTYMAPPINGS_H

struct cu_ctx;

void cu_api_propertymappings_all_list(struct cu_ctx *cx);
void cu_api_propertymappings_all_types(struct cu_ctx *cx);
void cu_api_propertymappings_all_get(struct cu_ctx *cx);
void cu_api_propertymappings_all_delete(struct cu_ctx *cx);
/* Runs a mapping for a user: {"result", "successful"}. */
void cu_api_propertymappings_all_test(struct cu_ctx *cx);

void cu_api_propertymappings_scope_list(struct cu_ctx *cx);
void cu_api_propertymappings_scope_create(struct cu_ctx *cx);
void cu_api_propertymappings_scope_get(struct cu_ctx *cx);
void cu_api_propertymappings_scope_update(struct cu_ctx *cx);
void cu_api_propertymappings_scope_delete(struct cu_ctx *cx);

void cu_api_propertymappings_saml_list(struct cu_ctx *cx);
void cu_api_propertymappings_saml_create(struct cu_ctx *cx);
void cu_api_propertymappings_saml_get(struct cu_ctx *cx);
void cu_api_propertymappings_saml_update(struct cu_ctx *cx);
void cu_api_propertymappings_saml_delete(struct cu_ctx *cx);

#endif
