/*
 * The SAML 2.0 identity provider's core (lib/providers/saml.c): SAML providers as the
 * endpoints and the API see them, the IdP metadata document, attribute values from the SAML
 * property mappings, and reading an SP's metadata (import). The endpoints under
 * /application/saml/<app slug>/ are declared in saml_endpoints.h and routed by cgi-bin/saml.c;
 * XML parsing, signatures and encryption are lib/xmlsig.h's.
 */
#ifndef CU_PROVIDERS_SAML_H
#define CU_PROVIDERS_SAML_H

#include <stddef.h>

#include "err.h"
#include "xmlsig.h"

struct cu_ctx;
struct cu_user;
struct json_object;

/* A SAML provider with its application and flows; strings arena-owned (or owned by a process
 * cache and valid for the request). sp_app_* are NULL when no application binds it. */
struct cu_saml_provider {
	int sp_id;
	long long sp_serial; /* providers.serial */
	const char *sp_name;
	const char *sp_acs_url;
	const char *sp_binding; /* "redirect" | "post": how the Response goes to the ACS */
	const char *sp_audience;
	const char *sp_issuer; /* the IdP's EntityID */
	const char *sp_sls_url;
	const char *sp_sls_binding;
	const char *sp_logout_method;
	const char *sp_name_id_mapping;                 /* pm uuid or NULL */
	const char *sp_authn_context_class_ref_mapping; /* pm uuid or NULL */
	long long sp_not_before;                        /* seconds relative to now (negative) */
	long long sp_not_on_or_after;
	long long sp_session_not_on_or_after;
	enum cu_xmlsig_digest sp_digest;
	enum cu_xmlsig_sig sp_signature;
	const char *sp_signing_kp; /* kp uuid or NULL (then nothing is signed) */
	const char *sp_signing_fp;
	const char *sp_verification_kp; /* set: AuthnRequests and LogoutRequests must be signed */
	const char *sp_verification_fp;
	const char *sp_encryption_kp;
	const char *sp_encryption_fp;
	const char *sp_default_relay_state;
	const char *sp_default_name_id_policy;
	int sp_sign_assertion;
	int sp_sign_response;
	int sp_sign_logout_request;
	int sp_sign_logout_response;
	const char *sp_authentication_flow; /* slug or NULL */
	const char *sp_authorization_flow;  /* slug */
	const char *sp_invalidation_flow;   /* slug or NULL */
	const char *sp_app_uuid;
	const char *sp_app_slug;
	const char *sp_app_name;
	const char *sp_app_policy_mode;
	int sp_app_has_bindings;
	/* [{"pm_uuid", "name", "saml_name", "friendly_name", "expression"}] ordered by
	 * saml_name, then name (authentik's order of the Attributes) */
	struct json_object *sp_mappings;
};

/* CU_OK, CU_ERR_NOT_FOUND (no such app / it binds no SAML provider / no such id),
 * CU_ERR_UNAVAILABLE. */
enum cu_err cu_saml_provider_by_app_slug(struct cu_ctx *cx, const char *slug,
                                         const struct cu_saml_provider **out)
    __attribute__((warn_unused_result));
enum cu_err cu_saml_provider_by_id(struct cu_ctx *cx, int id, const struct cu_saml_provider **out)
    __attribute__((warn_unused_result));

/* The IdP's metadata (md:EntityDescriptor entityID=issuer, IDPSSODescriptor with the signing
 * certificate, NameIDFormats, SSO and SLO services for both bindings at absolute URLs from the
 * request's scheme and Host), NUL-terminated, arena-owned. */
enum cu_err cu_saml_metadata(struct cu_ctx *cx, const struct cu_saml_provider *p, const char **xml,
                             size_t *len) __attribute__((warn_unused_result));

/* The attributes the provider would send for user: {"<saml_name>": {"friendly_name": s|null,
 * "values": [strings]}} (the API's preview_user), arena-owned. */
enum cu_err cu_saml_attributes(struct cu_ctx *cx, const struct cu_saml_provider *p,
                               const struct cu_user *user, struct json_object **out)
    __attribute__((warn_unused_result));

/* What an SP's metadata says (import_metadata). Strings arena-owned, NULL when absent. */
struct cu_saml_sp_metadata {
	const char *sm_entity_id;
	const char *sm_acs_url;     /* the first AssertionConsumerService (index order) */
	const char *sm_acs_binding; /* "redirect" | "post" */
	const char *sm_sls_url;
	const char *sm_sls_binding;
	const char *sm_signing_cert_pem; /* KeyDescriptor use="signing" (or no use) certificate */
	const char *sm_name_id_format;
	int sm_authn_requests_signed;
	int sm_want_assertions_signed;
	const char *sm_encryption_cert_pem; /* KeyDescriptor use="encryption" certificate */
};

/* Parses untrusted SP metadata (cu_xmlsig_parse limits). CU_ERR_INVALID with *why (a message
 * for the API's error) when it is not SP metadata custos can use. */
enum cu_err cu_saml_sp_metadata_parse(struct cu_ctx *cx, const char *xml, size_t len,
                                      struct cu_saml_sp_metadata *out, const char **why)
    __attribute__((warn_unused_result));

#endif
