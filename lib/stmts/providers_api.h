/*
 * Statements of lib/api/providers.c, lib/api/propertymappings.c and lib/api/oauth2.c: providers,
 * OAuth2 providers, scope mappings and OAuth2 grants as authentik's API serialises them
 * (sql/0060_oauth2.sql holds the tables). X(NAME, nparams, "SQL") entries, one per line.
 *
 * Objects are built as json, not jsonb, so that their keys keep authentik's order.
 */
#ifndef CU_STMTS_PROVIDERS_API_H
#define CU_STMTS_PROVIDERS_API_H

#include "stmts/users.h"

/* ---- providers ---------------------------------------------------------------------------- */

/* The kind-dependent names of the provider aliased p. */
#define PROVIDERS_API_KIND(oauth2, saml, other)                                                    \
	"CASE p.type WHEN 'oauth2provider' THEN " oauth2 " WHEN 'samlprovider' THEN " saml         \
	" ELSE " other " END"

/* A provider with the application binding it: p, and pa (NULL when none binds it). */
#define CU_SQL_PROVIDER_FROM "providers p LEFT JOIN applications pa ON pa.provider_id = p.id"

#define PROVIDERS_API_COMPONENT                                                                    \
	PROVIDERS_API_KIND("'ak-provider-oauth2-form'", "'ak-provider-saml-form'", "''")
#define PROVIDERS_API_VERBOSE                                                                      \
	PROVIDERS_API_KIND("'OAuth2/OpenID Provider'", "'SAML Provider'", "'Provider'")
#define PROVIDERS_API_VERBOSE_PLURAL                                                               \
	PROVIDERS_API_KIND("'OAuth2/OpenID Providers'", "'SAML Providers'", "'Providers'")
#define PROVIDERS_API_MODEL                                                                        \
	PROVIDERS_API_KIND("'authentik_providers_oauth2.oauth2provider'",                          \
	                   "'authentik_providers_saml.samlprovider'", "'authentik_core.provider'")

/* The fields every provider kind starts with (authentik's ProviderSerializer), as pairs. */
#define PROVIDERS_API_BASE_PAIRS                                                                   \
	"'pk', p.id, 'name', p.name, 'authentication_flow', p.authentication_flow, "               \
	"'authorization_flow', p.authorization_flow, 'invalidation_flow', p.invalidation_flow, "   \
	"'property_mappings', (SELECT coalesce(json_agg(ppm.pm_uuid ORDER BY ppm.pm_uuid), "       \
	"'[]') FROM provider_property_mappings ppm WHERE ppm.provider_id = p.id), "                \
	"'component', " PROVIDERS_API_COMPONENT ", 'assigned_application_slug', pa.slug, "         \
	"'assigned_application_name', pa.name, 'assigned_backchannel_application_slug', "          \
	"NULL::text, 'assigned_backchannel_application_name', NULL::text, "                        \
	"'verbose_name', " PROVIDERS_API_VERBOSE ", "                                              \
	"'verbose_name_plural', " PROVIDERS_API_VERBOSE_PLURAL ", "                                \
	"'meta_model_name', " PROVIDERS_API_MODEL

/* Provider (json) of CU_SQL_PROVIDER_FROM's row. */
#define CU_SQL_PROVIDER "json_build_object(" PROVIDERS_API_BASE_PAIRS ")"

/* redirect_uris of the oauth2_providers row aliased o, each entry in authentik's key order. */
#define PROVIDERS_API_REDIRECT_URIS                                                                \
	"(SELECT coalesce(json_agg(json_build_object('matching_mode', ru.e ->> 'matching_mode', "  \
	"'url', ru.e ->> 'url', 'redirect_uri_type', coalesce(ru.e ->> 'redirect_uri_type', "      \
	"'authorization')) ORDER BY ru.n), '[]') FROM jsonb_array_elements(o.redirect_uris) WITH " \
	"ORDINALITY AS ru(e, n))"

#define PROVIDERS_API_FEDERATION                                                                   \
	"(SELECT coalesce(json_agg(pf.trusted_provider ORDER BY pf.trusted_provider), '[]') FROM " \
	"oauth2_provider_federation pf WHERE pf.provider_id = o.provider_id)"

/*
 * OAuth2Provider (json) of p, o and pa. secret is "'client_secret', o.client_secret, " where the
 * reader may see it, "" where the provider is only embedded (a grant's provider: whoever may see
 * a grant may not see the client's secret). pkce_required is custos's own field.
 */
#define PROVIDERS_API_OAUTH2(secret)                                                                       \
	"json_build_object(" PROVIDERS_API_BASE_PAIRS ", 'client_type', o.client_type, "                   \
	"'client_id', o.client_id, " secret "'access_code_validity', o.access_code_validity, "             \
	"'access_token_validity', o.access_token_validity, 'refresh_token_validity', "                     \
	"o.refresh_token_validity, 'refresh_token_threshold', o.refresh_token_threshold, "                 \
	"'include_claims_in_id_token', o.include_claims_in_id_token, 'signing_key', "                      \
	"o.signing_key, 'encryption_key', o.encryption_key, 'redirect_uris', " PROVIDERS_API_REDIRECT_URIS \
	", 'logout_uri', o.logout_uri, 'logout_method', o.logout_method, 'sub_mode', "                     \
	"o.sub_mode, 'issuer_mode', o.issuer_mode, 'jwt_federation_sources', '[]'::json, "                 \
	"'jwt_federation_providers', " PROVIDERS_API_FEDERATION                                            \
	", 'pkce_required', o.pkce_required)"

#define CU_SQL_OAUTH2_PROVIDER PROVIDERS_API_OAUTH2("'client_secret', o.client_secret, ")
#define CU_SQL_OAUTH2_PROVIDER_FROM                                                                 \
	"providers p JOIN oauth2_providers o ON o.provider_id = p.id LEFT JOIN applications pa ON " \
	"pa.provider_id = p.id"

/*
 * The writable fields of an OAuth2 provider as the API names them: what a write starts from
 * and what an audit diff compares (lib/api/providers.c masks client_secret before a diff).
 */
#define PROVIDERS_API_OAUTH2_STATE                                                                 \
	"json_build_object('name', p.name, 'authentication_flow', p.authentication_flow, "         \
	"'authorization_flow', p.authorization_flow, 'invalidation_flow', p.invalidation_flow, "   \
	"'property_mappings', (SELECT coalesce(json_agg(ppm.pm_uuid ORDER BY ppm.pm_uuid), "       \
	"'[]') FROM provider_property_mappings ppm WHERE ppm.provider_id = p.id), 'client_type', " \
	"o.client_type, 'client_id', o.client_id, 'client_secret', o.client_secret, "              \
	"'access_code_validity', o.access_code_validity, 'access_token_validity', "                \
	"o.access_token_validity, 'refresh_token_validity', o.refresh_token_validity, "            \
	"'refresh_token_threshold', o.refresh_token_threshold, 'include_claims_in_id_token', "     \
	"o.include_claims_in_id_token, 'signing_key', o.signing_key, 'encryption_key', "           \
	"o.encryption_key, 'redirect_uris', " PROVIDERS_API_REDIRECT_URIS                          \
	", 'logout_uri', o.logout_uri, 'logout_method', o.logout_method, 'sub_mode', "             \
	"o.sub_mode, 'issuer_mode', o.issuer_mode, 'jwt_federation_sources', '[]'::json, "         \
	"'jwt_federation_providers', " PROVIDERS_API_FEDERATION                                    \
	", 'pkce_required', o.pkce_required)::text"

/* Columns: 0 OAuth2Provider, 1 id, 2 state, 3 name. */
#define PROVIDERS_API_OAUTH2_SELECT                                                                \
	"SELECT " CU_SQL_OAUTH2_PROVIDER "::text, p.id, " PROVIDERS_API_OAUTH2_STATE ", p.name "   \
	"FROM " CU_SQL_OAUTH2_PROVIDER_FROM

/* Columns: 0 Provider, 1 id, 2 type, 3 name, 4 state (NULL for kinds without one). The SAML
 * state is PROVIDERS_API_SAML_STATE, below. */
#define PROVIDERS_API_SELECT                                                                       \
	"SELECT " CU_SQL_PROVIDER "::text, p.id, p.type, p.name, CASE WHEN o.provider_id IS NOT "  \
	"NULL THEN " PROVIDERS_API_OAUTH2_STATE                                                    \
	" WHEN s.provider_id IS NOT NULL THEN " PROVIDERS_API_SAML_STATE                           \
	" END FROM " CU_SQL_PROVIDER_FROM " LEFT JOIN "                                            \
	"oauth2_providers o ON o.provider_id = p.id LEFT JOIN saml_providers s ON "                \
	"s.provider_id = p.id"

/*
 * The values an OAuth2 provider write takes, $2 .. $23 after the id: name, authentication,
 * authorization and invalidation flows, client_type, client_id, client_secret, redirect_uris
 * (jsonb), the four durations, include_claims_in_id_token, signing_key, encryption_key,
 * sub_mode, issuer_mode, logout_uri, logout_method, pkce_required, then the property mappings
 * ($22, uuid[]) and the trusted providers ($23, integer[]).
 */
#define PROVIDERS_API_OAUTH2_COLUMNS                                                               \
	"client_type, client_id, client_secret, redirect_uris, access_code_validity, "             \
	"access_token_validity, refresh_token_validity, refresh_token_threshold, "                 \
	"include_claims_in_id_token, signing_key, encryption_key, sub_mode, issuer_mode, "         \
	"logout_uri, logout_method, pkce_required"
#define PROVIDERS_API_OAUTH2_VALUES                                                                 \
	"$6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14::boolean, $15::uuid, $16::uuid, $17, $18, " \
	"$19, $20, $21::boolean"

/* ---- applications: what their JSON shows of their provider -------------------------------- */

/* provider_obj of the application aliased a: its provider as a Provider, or null. */
#define CU_SQL_APPLICATION_PROVIDER_OBJ                                                            \
	"(SELECT " CU_SQL_PROVIDER " FROM " CU_SQL_PROVIDER_FROM " WHERE p.id = a.provider_id)"

/*
 * authentik's OAuth2Provider.launch_url for the application aliased a: its provider's first
 * authorization redirect URI with the path taken out, as Python's urlunparse(urlparse(url)
 * ._replace(path="")) gives it (scheme lower-cased; ";params" of the last segment, query and
 * fragment kept when not empty). NULL without such a URI.
 */
#define PROVIDERS_API_LAUNCH_URL                                                                   \
	"(SELECT lp.s || lp.nl || coalesce(CASE WHEN lp.nl <> '' THEN '/;' ELSE ';' END || "       \
	"lp.pr, '') || coalesce('?' || lp.q, '') || coalesce('#' || lp.f, '') FROM (SELECT "       \
	"coalesce(lower(lm.m[1]) || ':', '') AS s, CASE WHEN lm.m[2] IS NOT NULL OR "              \
	"lower(lm.m[1]) IN ('http', 'https') THEN coalesce(lm.m[2], '//') ELSE '' END AS nl, "     \
	"nullif(substring(lm.m[3] FROM ';([^/]*)$'), '') AS pr, nullif(lm.m[4], '') AS q, "        \
	"nullif(lm.m[5], '') AS f FROM (SELECT regexp_match(lr.e ->> 'url', "                      \
	"'^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(//[^/?#]*)?([^?#]*)(?:\\?([^#]*))?(?:#(.*))?$') AS m "  \
	"FROM oauth2_providers lo, jsonb_array_elements(lo.redirect_uris) WITH ORDINALITY AS "     \
	"lr(e, n) WHERE lo.provider_id = a.provider_id AND coalesce(lr.e ->> "                     \
	"'redirect_uri_type', 'authorization') = 'authorization' ORDER BY lr.n LIMIT 1) lm) lp)"

/* authentik's SAMLProvider.launch_url: the IdP-initiated SSO path, relative as Django's
 * reverse() gives it. */
#define PROVIDERS_API_SAML_LAUNCH_URL                                                              \
	"(SELECT '/application/saml/' || a.slug || '/sso/binding/init/' FROM saml_providers ls "   \
	"WHERE ls.provider_id = a.provider_id)"

/* launch_url of the application aliased a: meta_launch_url, else the provider's. */
#define CU_SQL_APPLICATION_LAUNCH_URL                                                              \
	"coalesce(nullif(a.meta_launch_url, ''), " PROVIDERS_API_LAUNCH_URL                        \
	", " PROVIDERS_API_SAML_LAUNCH_URL ")"

/* ---- property mappings -------------------------------------------------------------------- */

#define PROPERTYMAPPINGS_API_KIND(scope, saml, other)                                              \
	"CASE pm.type WHEN 'scopemapping' THEN " scope " WHEN 'samlpropertymapping' THEN " saml    \
	" ELSE " other " END"

#define PROPERTYMAPPINGS_API_COMPONENT                                                             \
	PROPERTYMAPPINGS_API_KIND("'ak-property-mapping-provider-scope-form'",                     \
	                          "'ak-property-mapping-provider-saml-form'", "''")
#define PROPERTYMAPPINGS_API_VERBOSE                                                               \
	PROPERTYMAPPINGS_API_KIND("'Scope Mapping'", "'SAML Provider Property Mapping'",           \
	                          "'Property Mapping'")
#define PROPERTYMAPPINGS_API_VERBOSE_PLURAL                                                        \
	PROPERTYMAPPINGS_API_KIND("'Scope Mappings'", "'SAML Provider Property Mappings'",         \
	                          "'Property Mappings'")
#define PROPERTYMAPPINGS_API_MODEL                                                                 \
	PROPERTYMAPPINGS_API_KIND("'authentik_providers_oauth2.scopemapping'",                     \
	                          "'authentik_providers_saml.samlpropertymapping'",                \
	                          "'authentik_core.propertymapping'")

/* PropertyMapping (json) of the row aliased pm. */
#define CU_SQL_PROPERTY_MAPPING                                                                    \
	"json_build_object('pk', pm.pm_uuid, 'managed', pm.managed, 'name', pm.name, "             \
	"'expression', pm.expression, 'component', " PROPERTYMAPPINGS_API_COMPONENT ", "           \
	"'verbose_name', " PROPERTYMAPPINGS_API_VERBOSE ", "                                       \
	"'verbose_name_plural', " PROPERTYMAPPINGS_API_VERBOSE_PLURAL ", "                         \
	"'meta_model_name', " PROPERTYMAPPINGS_API_MODEL ")"

/* ScopeMapping (json): PropertyMapping and the scope mapping's own fields. */
#define CU_SQL_SCOPE_MAPPING                                                                       \
	"json_build_object('pk', pm.pm_uuid, 'managed', pm.managed, 'name', pm.name, "             \
	"'expression', pm.expression, 'component', 'ak-property-mapping-provider-scope-form', "    \
	"'verbose_name', 'Scope Mapping', 'verbose_name_plural', 'Scope Mappings', "               \
	"'meta_model_name', 'authentik_providers_oauth2.scopemapping', 'scope_name', "             \
	"pm.scope_name, 'description', pm.description)"

/* The writable fields of the mapping's kind, as a write reads them back and an audit diff
 * compares them. */
#define PROPERTYMAPPINGS_API_STATE                                                                 \
	"CASE pm.type WHEN 'samlpropertymapping' THEN json_build_object('managed', pm.managed, "   \
	"'name', pm.name, 'expression', pm.expression, 'saml_name', pm.saml_name, "                \
	"'friendly_name', pm.friendly_name) ELSE json_build_object('managed', pm.managed, "        \
	"'name', pm.name, 'expression', pm.expression, 'scope_name', pm.scope_name, "              \
	"'description', pm.description) END::text"

/* Columns: 0 the kind's JSON, 1 uuid, 2 state, 3 name, 4 type, 5 PropertyMapping, 6 the
 * expression. */
#define PROPERTYMAPPINGS_API_KIND_JSON                                                             \
	PROPERTYMAPPINGS_API_KIND(CU_SQL_SCOPE_MAPPING, CU_SQL_SAML_MAPPING,                       \
	                          CU_SQL_PROPERTY_MAPPING)
#define PROPERTYMAPPINGS_API_SELECT                                                                \
	"SELECT " PROPERTYMAPPINGS_API_KIND_JSON "::text, pm.pm_uuid, " PROPERTYMAPPINGS_API_STATE \
	", pm.name, pm.type, " CU_SQL_PROPERTY_MAPPING "::text, pm.expression FROM "               \
	"property_mappings pm"

/* ---- OAuth2 grants ------------------------------------------------------------------------ */

/* What a grant of the table aliased t shows of its provider and user (joins below). */
#define OAUTH2_API_USER "(" CU_SQL_USER("true", "true") ")::json"
#define OAUTH2_API_EXPIRES CU_SQL_TS("t.expires")
#define OAUTH2_API_GRANT_PAIRS                                                                     \
	"'pk', t.id, 'provider', " PROVIDERS_API_OAUTH2(                                           \
	    "") ", 'user', " OAUTH2_API_USER                                                       \
	        ", 'is_expired', t.expires < now(), 'expires', " OAUTH2_API_EXPIRES                \
	        ", 'scope', to_json(t.scope)"

/* ExpiringBaseGrantModel (authorization codes) and TokenModel (access and refresh tokens);
 * tokens show the claims they were issued with as id_token, never a digest. */
#define CU_SQL_OAUTH2_CODE "json_build_object(" OAUTH2_API_GRANT_PAIRS ")::text"
#define CU_SQL_OAUTH2_TOKEN(claims)                                                                \
	"json_build_object(" OAUTH2_API_GRANT_PAIRS ", 'id_token', " claims ", 'revoked', "        \
	"t.revoked)::text"
#define CU_SQL_OAUTH2_ACCESS_TOKEN CU_SQL_OAUTH2_TOKEN("t.claims")
#define CU_SQL_OAUTH2_REFRESH_TOKEN CU_SQL_OAUTH2_TOKEN("t.id_token")

#define OAUTH2_API_GRANT_JOINS                                                                     \
	" t JOIN users u ON u.id = t.user_id JOIN providers p ON p.id = t.provider_id JOIN "       \
	"oauth2_providers o ON o.provider_id = p.id LEFT JOIN applications pa ON pa.provider_id "  \
	"= p.id"
#define CU_SQL_OAUTH2_ACCESS_TOKEN_FROM "FROM oauth2_access_tokens" OAUTH2_API_GRANT_JOINS
#define CU_SQL_OAUTH2_REFRESH_TOKEN_FROM "FROM oauth2_refresh_tokens" OAUTH2_API_GRANT_JOINS
#define CU_SQL_OAUTH2_CODE_FROM "FROM oauth2_authorization_codes" OAUTH2_API_GRANT_JOINS

/* Columns: 0 the grant's JSON, 1 id, 2 its user's id. */
#define OAUTH2_API_GRANT_SELECT(row, from)                                                         \
	"SELECT " row ", t.id, t.user_id " from " WHERE t.id = $1::bigint"

#define CU_DB_STMTS_PROVIDERS_API(X)                                                                       \
	X(PROVIDERS_API_OAUTH2_GET, 1, PROVIDERS_API_OAUTH2_SELECT " WHERE p.id = $1::integer")            \
	X(PROVIDERS_API_OAUTH2_LOCK, 1,                                                                    \
	  PROVIDERS_API_OAUTH2_SELECT " WHERE p.id = $1::integer FOR UPDATE OF p")                         \
	X(PROVIDERS_API_GET, 1, PROVIDERS_API_SELECT " WHERE p.id = $1::integer")                          \
	X(PROVIDERS_API_LOCK, 1, PROVIDERS_API_SELECT " WHERE p.id = $1::integer FOR UPDATE OF p")         \
	X(PROVIDERS_API_DELETE, 1, "DELETE FROM providers WHERE id = $1::integer")                         \
	X(PROVIDERS_API_EXISTS, 1, "SELECT 1 FROM providers WHERE id = $1::integer")                       \
	/* A reference a body names ($1, a uuid): a row when it may be used. */                            \
	X(PROVIDERS_API_FLOW, 1, "SELECT 1 FROM flows WHERE flow_uuid = $1::uuid")                         \
	X(PROVIDERS_API_KEYPAIR_ANY, 1,                                                                    \
	  "SELECT 1 FROM certificate_key_pairs WHERE kp_uuid = $1::uuid")                                  \
	X(PROVIDERS_API_KEYPAIR_SIGNING, 1,                                                                \
	  "SELECT 1 FROM certificate_key_pairs WHERE kp_uuid = $1::uuid AND key_data_sealed IS NOT "       \
	  "NULL AND key_data_sealed <> ''")                                                                \
	X(PROVIDERS_API_MISSING_MAPPING, 1,                                                                \
	  "SELECT x::text FROM unnest($1::uuid[]) WITH ORDINALITY AS t(x, n) WHERE NOT EXISTS "            \
	  "(SELECT 1 FROM property_mappings WHERE pm_uuid = x) ORDER BY n LIMIT 1")                        \
	X(PROVIDERS_API_MISSING_OAUTH2, 1,                                                                 \
	  "SELECT x::text FROM unnest($1::integer[]) WITH ORDINALITY AS t(x, n) WHERE NOT EXISTS "         \
	  "(SELECT 1 FROM oauth2_providers WHERE provider_id = x) ORDER BY n LIMIT 1")                     \
	X(PROVIDERS_API_OAUTH2_INSERT, 23,                                                                 \
	  "WITH np AS (INSERT INTO providers (id, name, type, authentication_flow, "                       \
	  "authorization_flow, invalidation_flow) VALUES (coalesce($1::integer, "                          \
	  "nextval('providers_id_seq')), $2, 'oauth2provider', $3::uuid, $4::uuid, $5::uuid) "             \
	  "RETURNING id), no AS (INSERT INTO oauth2_providers (provider_id, " PROVIDERS_API_OAUTH2_COLUMNS \
	  ") SELECT np.id, " PROVIDERS_API_OAUTH2_VALUES                                                   \
	  " FROM np), nm AS (INSERT INTO provider_property_mappings (provider_id, pm_uuid) "               \
	  "SELECT DISTINCT np.id, x FROM np, unnest($22::uuid[]) AS x), nf AS (INSERT INTO "               \
	  "oauth2_provider_federation (provider_id, trusted_provider) SELECT DISTINCT np.id, x "           \
	  "FROM np, unnest($23::integer[]) AS x) SELECT id FROM np")                                       \
	X(PROVIDERS_API_OAUTH2_UPDATE, 23,                                                                 \
	  "WITH up AS (UPDATE providers SET name = $2, authentication_flow = $3::uuid, "                   \
	  "authorization_flow = $4::uuid, invalidation_flow = $5::uuid WHERE id = $1::integer "            \
	  "RETURNING id), uo AS (UPDATE oauth2_providers SET (" PROVIDERS_API_OAUTH2_COLUMNS               \
	  ") = (" PROVIDERS_API_OAUTH2_VALUES ") WHERE provider_id = $1::integer), dm AS (DELETE "         \
	  "FROM provider_property_mappings WHERE provider_id = $1::integer AND pm_uuid <> ALL "            \
	  "($22::uuid[])), im AS (INSERT INTO provider_property_mappings (provider_id, pm_uuid) "          \
	  "SELECT DISTINCT $1::integer, x FROM unnest($22::uuid[]) AS x ON CONFLICT DO NOTHING), "         \
	  "df AS (DELETE FROM oauth2_provider_federation WHERE provider_id = $1::integer AND "             \
	  "trusted_provider <> ALL ($23::integer[])), nf AS (INSERT INTO "                                 \
	  "oauth2_provider_federation (provider_id, trusted_provider) SELECT DISTINCT "                    \
	  "$1::integer, x FROM unnest($23::integer[]) AS x ON CONFLICT DO NOTHING) SELECT id "             \
	  "FROM up")                                                                                       \
	X(PROPERTYMAPPINGS_API_GET, 1, PROPERTYMAPPINGS_API_SELECT " WHERE pm.pm_uuid = $1::uuid")         \
	X(PROPERTYMAPPINGS_API_LOCK, 1,                                                                    \
	  PROPERTYMAPPINGS_API_SELECT " WHERE pm.pm_uuid = $1::uuid FOR UPDATE")                           \
	X(PROPERTYMAPPINGS_API_SCOPE_INSERT, 5,                                                            \
	  "INSERT INTO property_mappings (type, managed, name, expression, scope_name, "                   \
	  "description) VALUES ('scopemapping', $1, $2, $3, $4, $5) RETURNING pm_uuid")                    \
	X(PROPERTYMAPPINGS_API_SCOPE_UPDATE, 6,                                                            \
	  "UPDATE property_mappings SET managed = $2, name = $3, expression = $4, scope_name = "           \
	  "$5, description = $6, last_updated = now() WHERE pm_uuid = $1::uuid")                           \
	X(PROPERTYMAPPINGS_API_DELETE, 1,                                                                  \
	  "DELETE FROM property_mappings WHERE pm_uuid = $1::uuid")                                        \
	X(PROPERTYMAPPINGS_API_GROUP, 1, "SELECT 1 FROM groups WHERE uuid = $1::uuid")                     \
	X(OAUTH2_API_ACCESS_TOKEN_GET, 1,                                                                  \
	  OAUTH2_API_GRANT_SELECT(CU_SQL_OAUTH2_ACCESS_TOKEN, CU_SQL_OAUTH2_ACCESS_TOKEN_FROM))            \
	X(OAUTH2_API_REFRESH_TOKEN_GET, 1,                                                                 \
	  OAUTH2_API_GRANT_SELECT(CU_SQL_OAUTH2_REFRESH_TOKEN, CU_SQL_OAUTH2_REFRESH_TOKEN_FROM))          \
	X(OAUTH2_API_CODE_GET, 1,                                                                          \
	  OAUTH2_API_GRANT_SELECT(CU_SQL_OAUTH2_CODE, CU_SQL_OAUTH2_CODE_FROM))                            \
	X(OAUTH2_API_ACCESS_TOKEN_DELETE, 1,                                                               \
	  "DELETE FROM oauth2_access_tokens WHERE id = $1::bigint")                                        \
	X(OAUTH2_API_REFRESH_TOKEN_DELETE, 1,                                                              \
	  "DELETE FROM oauth2_refresh_tokens WHERE id = $1::bigint")                                       \
	X(OAUTH2_API_CODE_DELETE, 1,                                                                       \
	  "DELETE FROM oauth2_authorization_codes WHERE id = $1::bigint")                                  \
	CU_DB_STMTS_PROVIDERS_API_SAML(X)

/* ---- SAML providers and SAML property mappings (lib/api/providers_saml.c) ------------------- */

#define CU_SQL_SAML_PROVIDER_FROM                                                                  \
	"providers p JOIN saml_providers s ON s.provider_id = p.id LEFT JOIN applications pa ON "  \
	"pa.provider_id = p.id"

/*
 * The request's scheme and host, which the URLs below are made of, are given to a statement as
 * a setting for its own transaction: set_config('custos.saml_api_base', base, true) in its
 * WHERE, evaluated for a row before the row is built. A list's rows are built by
 * lib/api/common.c, which binds only its own values, so the list adds that condition as its
 * own; the single-row statements add it with $2.
 */
#define CU_SQL_SAML_BASE_COND "set_config('custos.saml_api_base', $%d, true) IS NOT NULL"

/* The URLs of authentik's SAMLProviderSerializer: the application's endpoints under
 * /application/saml/<slug>/, or "-" without one, as authentik answers then; the metadata of a
 * provider without an application is the API's own download. */
#define PROVIDERS_API_SAML_URLS                                                                    \
	"'url_download_metadata', CASE WHEN pa.slug IS NULL THEN "                                 \
	"current_setting('custos.saml_api_base', true) || '/api/v3/providers/saml/' || p.id || "   \
	"'/metadata/?download' ELSE current_setting('custos.saml_api_base', true) || "             \
	"'/application/saml/' || pa.slug || '/metadata/' END, 'url_sso_post', CASE WHEN pa.slug "  \
	"IS NULL THEN '-' ELSE current_setting('custos.saml_api_base', true) || "                  \
	"'/application/saml/' || pa.slug || '/sso/binding/post/' END, 'url_sso_redirect', CASE "   \
	"WHEN pa.slug IS NULL THEN '-' ELSE current_setting('custos.saml_api_base', true) || "     \
	"'/application/saml/' || pa.slug || '/sso/binding/redirect/' END, 'url_sso_init', CASE "   \
	"WHEN pa.slug IS NULL THEN '-' ELSE current_setting('custos.saml_api_base', true) || "     \
	"'/application/saml/' || pa.slug || '/sso/binding/init/' END, 'url_slo_post', CASE WHEN "  \
	"pa.slug IS NULL THEN '-' ELSE current_setting('custos.saml_api_base', true) || "          \
	"'/application/saml/' || pa.slug || '/slo/binding/post/' END, 'url_slo_redirect', CASE "   \
	"WHEN pa.slug IS NULL THEN '-' ELSE current_setting('custos.saml_api_base', true) || "     \
	"'/application/saml/' || pa.slug || '/slo/binding/redirect/' END"

/* SAMLProvider (json) of p, s and pa. */
#define CU_SQL_SAML_API_PROVIDER                                                                   \
	"json_build_object(" PROVIDERS_API_BASE_PAIRS ", " PROVIDERS_API_SAML_PAIRS                \
	", " PROVIDERS_API_SAML_URLS ")"

#define PROVIDERS_API_SAML_PAIRS                                                                   \
	"'acs_url', s.acs_url, 'sls_url', s.sls_url, 'audience', s.audience, 'issuer', s.issuer, " \
	"'assertion_valid_not_before', s.assertion_valid_not_before, "                             \
	"'assertion_valid_not_on_or_after', s.assertion_valid_not_on_or_after, "                   \
	"'session_valid_not_on_or_after', s.session_valid_not_on_or_after, 'name_id_mapping', "    \
	"s.name_id_mapping, 'authn_context_class_ref_mapping', "                                   \
	"s.authn_context_class_ref_mapping, 'digest_algorithm', s.digest_algorithm, "              \
	"'signature_algorithm', s.signature_algorithm, 'signing_kp', s.signing_kp, "               \
	"'verification_kp', s.verification_kp, 'encryption_kp', s.encryption_kp, "                 \
	"'sign_assertion', s.sign_assertion, 'sign_response', s.sign_response, "                   \
	"'sign_logout_request', s.sign_logout_request, 'sign_logout_response', "                   \
	"s.sign_logout_response, 'sp_binding', s.sp_binding, 'sls_binding', s.sls_binding, "       \
	"'logout_method', s.logout_method, 'default_relay_state', s.default_relay_state, "         \
	"'default_name_id_policy', s.default_name_id_policy"

/* The writable fields of a SAML provider: what a write starts from and an audit diff compares
 * (nothing secret: key pairs are named by uuid). */
#define PROVIDERS_API_SAML_STATE                                                                   \
	"json_build_object('name', p.name, 'authentication_flow', p.authentication_flow, "         \
	"'authorization_flow', p.authorization_flow, 'invalidation_flow', p.invalidation_flow, "   \
	"'property_mappings', (SELECT coalesce(json_agg(ppm.pm_uuid ORDER BY ppm.pm_uuid), "       \
	"'[]') FROM provider_property_mappings ppm WHERE ppm.provider_id = p.id), 'acs_url', "     \
	"s.acs_url, 'sls_url', s.sls_url, 'audience', s.audience, 'issuer', s.issuer, "            \
	"'assertion_valid_not_before', s.assertion_valid_not_before, "                             \
	"'assertion_valid_not_on_or_after', s.assertion_valid_not_on_or_after, "                   \
	"'session_valid_not_on_or_after', s.session_valid_not_on_or_after, 'name_id_mapping', "    \
	"s.name_id_mapping, 'authn_context_class_ref_mapping', "                                   \
	"s.authn_context_class_ref_mapping, 'digest_algorithm', s.digest_algorithm, "              \
	"'signature_algorithm', s.signature_algorithm, 'signing_kp', s.signing_kp, "               \
	"'verification_kp', s.verification_kp, 'encryption_kp', s.encryption_kp, "                 \
	"'sign_assertion', s.sign_assertion, 'sign_response', s.sign_response, "                   \
	"'sign_logout_request', s.sign_logout_request, 'sign_logout_response', "                   \
	"s.sign_logout_response, 'sp_binding', s.sp_binding, 'sls_binding', s.sls_binding, "       \
	"'logout_method', s.logout_method, 'default_relay_state', s.default_relay_state, "         \
	"'default_name_id_policy', s.default_name_id_policy)::text"

/* Columns: 0 SAMLProvider, 1 id, 2 state, 3 name; $1 the id, $2 the URLs' base. */
#define PROVIDERS_API_SAML_SELECT                                                                  \
	"SELECT " CU_SQL_SAML_API_PROVIDER "::text, p.id, " PROVIDERS_API_SAML_STATE               \
	", p.name FROM " CU_SQL_SAML_PROVIDER_FROM " WHERE p.id = $1::integer AND set_config("     \
	"'custos.saml_api_base', $2, true) IS NOT NULL"

/*
 * The values a SAML provider write takes, $2 .. $29 after the id: name, the authentication,
 * authorization and invalidation flows, then saml_providers' columns in the order below
 * ($6 .. $28), then the property mappings ($29, uuid[]).
 */
#define PROVIDERS_API_SAML_COLUMNS                                                                 \
	"acs_url, sls_url, audience, issuer, assertion_valid_not_before, "                         \
	"assertion_valid_not_on_or_after, session_valid_not_on_or_after, name_id_mapping, "        \
	"authn_context_class_ref_mapping, digest_algorithm, signature_algorithm, signing_kp, "     \
	"verification_kp, encryption_kp, sign_assertion, sign_response, sign_logout_request, "     \
	"sign_logout_response, sp_binding, sls_binding, logout_method, default_relay_state, "      \
	"default_name_id_policy"
#define PROVIDERS_API_SAML_VALUES                                                                  \
	"$6, $7, $8, $9, $10, $11, $12, $13::uuid, $14::uuid, $15, $16, $17::uuid, $18::uuid, "    \
	"$19::uuid, $20::boolean, $21::boolean, $22::boolean, $23::boolean, $24, $25, $26, $27, "  \
	"$28"

/* SAMLPropertyMapping (json) of the row aliased pm. */
#define CU_SQL_SAML_MAPPING                                                                        \
	"json_build_object('pk', pm.pm_uuid, 'managed', pm.managed, 'name', pm.name, "             \
	"'expression', pm.expression, 'component', 'ak-property-mapping-provider-saml-form', "     \
	"'verbose_name', 'SAML Provider Property Mapping', 'verbose_name_plural', "                \
	"'SAML Provider Property Mappings', 'meta_model_name', "                                   \
	"'authentik_providers_saml.samlpropertymapping', 'saml_name', pm.saml_name, "              \
	"'friendly_name', pm.friendly_name)"

#define CU_DB_STMTS_PROVIDERS_API_SAML(X)                                                              \
	X(PROVIDERS_API_SAML_GET, 2, PROVIDERS_API_SAML_SELECT)                                        \
	X(PROVIDERS_API_SAML_LOCK, 2, PROVIDERS_API_SAML_SELECT " FOR UPDATE OF p")                    \
	X(PROVIDERS_API_SAML_INSERT, 29,                                                               \
	  "WITH np AS (INSERT INTO providers (id, name, type, authentication_flow, "                   \
	  "authorization_flow, invalidation_flow) VALUES (coalesce($1::integer, "                      \
	  "nextval('providers_id_seq')), $2, 'samlprovider', $3::uuid, $4::uuid, $5::uuid) "           \
	  "RETURNING id), ns AS (INSERT INTO saml_providers (provider_id, " PROVIDERS_API_SAML_COLUMNS \
	  ") SELECT np.id, " PROVIDERS_API_SAML_VALUES                                                 \
	  " FROM np), nm AS (INSERT INTO provider_property_mappings (provider_id, pm_uuid) "           \
	  "SELECT DISTINCT np.id, x FROM np, unnest($29::uuid[]) AS x) SELECT id FROM np")             \
	X(PROVIDERS_API_SAML_UPDATE, 29,                                                               \
	  "WITH up AS (UPDATE providers SET name = $2, authentication_flow = $3::uuid, "               \
	  "authorization_flow = $4::uuid, invalidation_flow = $5::uuid WHERE id = $1::integer "        \
	  "RETURNING id), us AS (UPDATE saml_providers SET (" PROVIDERS_API_SAML_COLUMNS               \
	  ") = (" PROVIDERS_API_SAML_VALUES ") WHERE provider_id = $1::integer), dm AS (DELETE "       \
	  "FROM provider_property_mappings WHERE provider_id = $1::integer AND pm_uuid <> ALL "        \
	  "($29::uuid[])), im AS (INSERT INTO provider_property_mappings (provider_id, pm_uuid) "      \
	  "SELECT DISTINCT $1::integer, x FROM unnest($29::uuid[]) AS x ON CONFLICT DO NOTHING) "      \
	  "SELECT id FROM up")                                                                         \
	X(PROVIDERS_API_SAML_MAPPING, 1,                                                               \
	  "SELECT 1 FROM property_mappings WHERE pm_uuid = $1::uuid AND type = "                       \
	  "'samlpropertymapping'")                                                                     \
	X(PROVIDERS_API_MISSING_SAML_MAPPING, 1,                                                       \
	  "SELECT x::text FROM unnest($1::uuid[]) WITH ORDINALITY AS t(x, n) WHERE NOT EXISTS "        \
	  "(SELECT 1 FROM property_mappings WHERE pm_uuid = x AND type = 'samlpropertymapping') "      \
	  "ORDER BY n LIMIT 1")                                                                        \
	X(PROVIDERS_API_SAML_KEY_TYPE, 1,                                                              \
	  "SELECT coalesce(key_type, '') FROM certificate_key_pairs WHERE kp_uuid = $1::uuid")         \
	X(PROVIDERS_API_SAML_FLOW_DESIGNATED, 2,                                                       \
	  "SELECT 1 FROM flows WHERE flow_uuid = $1::uuid AND designation = $2")                       \
	/* import_metadata: the defaults authentik gives an imported provider */                       \
	X(PROVIDERS_API_SAML_IMPORT_DEFAULTS, 0,                                                       \
	  "SELECT (SELECT coalesce(array_agg(pm_uuid ORDER BY pm_uuid), '{}') FROM "                   \
	  "property_mappings WHERE type = 'samlpropertymapping' AND managed IS NOT NULL)::text, "      \
	  "(SELECT kp_uuid::text || ' ' || key_type FROM certificate_key_pairs WHERE "                 \
	  "key_data_sealed IS NOT NULL AND key_data_sealed <> '' AND key_type IN ('rsa', 'ec') "       \
	  "AND managed IS DISTINCT FROM 'goauthentik.io/crypto/jwt-managed' ORDER BY created, "        \
	  "kp_uuid LIMIT 1)")                                                                          \
	X(PROPERTYMAPPINGS_API_SAML_INSERT, 5,                                                         \
	  "INSERT INTO property_mappings (type, managed, name, expression, saml_name, "                \
	  "friendly_name) VALUES ('samlpropertymapping', $1, $2, $3, $4, $5) RETURNING pm_uuid")       \
	X(PROPERTYMAPPINGS_API_SAML_UPDATE, 6,                                                         \
	  "UPDATE property_mappings SET managed = $2, name = $3, expression = $4, saml_name = $5, "    \
	  "friendly_name = $6, last_updated = now() WHERE pm_uuid = $1::uuid")

#endif
