/*
 * /api/v3/providers/saml/: SAML 2.0 providers (authentik's SAMLProviderViewSet), by integer id:
 * CRUD, the IdP metadata, creating a provider from an SP's metadata, and the attributes a user
 * would be sent.
 */
#ifndef CU_API_PROVIDERS_SAML_H
#define CU_API_PROVIDERS_SAML_H

#include <stddef.h>

#include "arena.h"
#include "err.h"

struct cu_ctx;

void cu_api_providers_saml_list(struct cu_ctx *cx);
void cu_api_providers_saml_create(struct cu_ctx *cx);
void cu_api_providers_saml_get(struct cu_ctx *cx);
void cu_api_providers_saml_update(struct cu_ctx *cx);
void cu_api_providers_saml_delete(struct cu_ctx *cx);
/* {"metadata": xml, "download_url": url}, or with ?download the XML as a file. As authentik,
 * anyone may fetch it (it is what the application's own metadata URL publishes); 404 while no
 * application binds the provider. */
void cu_api_providers_saml_metadata(struct cu_ctx *cx);
/* multipart/form-data: name, authorization_flow, invalidation_flow, file (SP metadata). */
void cu_api_providers_saml_import(struct cu_ctx *cx);
/* The Attributes and NameID the provider would send the caller or ?for_user=. */
void cu_api_providers_saml_preview_user(struct cu_ctx *cx);

#endif
