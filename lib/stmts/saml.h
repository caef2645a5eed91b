/*
 * Statements of the SAML 2.0 identity provider (lib/providers/saml.c, saml_sso.c, saml_slo.c):
 * X(NAME, nparams, "SQL") entries. Timestamps cross as epoch seconds.
 */
#ifndef CU_STMTS_SAML_H
#define CU_STMTS_SAML_H

#include "stmts/oauth2.h"

/*
 * A SAML provider with its keys' fingerprints, flows, application and mappings (saml.c:
 * provider_from_row names the 44 columns). The attribute mappings come ordered as authentik
 * orders them (by saml_name); the NameID and AuthnContextClassRef mappings beside them.
 */
#define CU_SQL_SAML_PROVIDER                                                                       \
	"SELECT p.id, p.serial, p.name, sp.acs_url, sp.sp_binding, sp.audience, sp.issuer, "       \
	"sp.sls_url, sp.sls_binding, sp.logout_method, sp.name_id_mapping, "                       \
	"sp.authn_context_class_ref_mapping, sp.assertion_valid_not_before, "                      \
	"sp.assertion_valid_not_on_or_after, sp.session_valid_not_on_or_after, "                   \
	"sp.digest_algorithm, sp.signature_algorithm, sp.signing_kp, ks.fingerprint_sha256, "      \
	"sp.verification_kp, kv.fingerprint_sha256, sp.encryption_kp, ke.fingerprint_sha256, "     \
	"sp.default_relay_state, sp.default_name_id_policy, sp.sign_assertion, sp.sign_response, " \
	"sp.sign_logout_request, sp.sign_logout_response, fa.slug, fz.slug, fi.slug, a.uuid, "     \
	"a.slug, a.name, a.policy_engine_mode, a.uuid IS NOT NULL AND " CU_SQL_OAUTH2C_APP_BOUND   \
	", (SELECT coalesce(json_agg(json_build_object('pm_uuid', m.pm_uuid, 'name', m.name, "     \
	"'saml_name', m.saml_name, 'friendly_name', m.friendly_name, 'expression', "               \
	"m.expression) ORDER BY m.saml_name, m.name), '[]'::json) FROM "                           \
	"provider_property_mappings ppm JOIN property_mappings m ON m.pm_uuid = ppm.pm_uuid "      \
	"WHERE ppm.provider_id = p.id AND m.type = 'samlpropertymapping')::text, nm.name, "        \
	"nm.expression, am.name, am.expression, (SELECT install_id::text FROM custos_install), "   \
	"ks.certificate_data "                                                                     \
	"FROM providers p JOIN saml_providers sp ON sp.provider_id = p.id "                        \
	"LEFT JOIN certificate_key_pairs ks ON ks.kp_uuid = sp.signing_kp "                        \
	"LEFT JOIN certificate_key_pairs kv ON kv.kp_uuid = sp.verification_kp "                   \
	"LEFT JOIN certificate_key_pairs ke ON ke.kp_uuid = sp.encryption_kp "                     \
	"LEFT JOIN property_mappings nm ON nm.pm_uuid = sp.name_id_mapping "                       \
	"LEFT JOIN property_mappings am ON am.pm_uuid = sp.authn_context_class_ref_mapping "       \
	"LEFT JOIN flows fa ON fa.flow_uuid = p.authentication_flow "                              \
	"LEFT JOIN flows fz ON fz.flow_uuid = p.authorization_flow "                               \
	"LEFT JOIN flows fi ON fi.flow_uuid = p.invalidation_flow "                                \
	"LEFT JOIN applications a ON a.provider_id = p.id "

#define CU_DB_STMTS_SAML(X)                                                                        \
	X(SAML_PROVIDER_BY_SLUG, 1, CU_SQL_SAML_PROVIDER "WHERE a.slug = $1")                      \
	X(SAML_PROVIDER_BY_ID, 1, CU_SQL_SAML_PROVIDER "WHERE p.id = $1::int")                     \
	/* The logged-in session $1: its uuid, when it logged in (the login made the row), that    \
	 * login's auth_method and whether it used MFA devices (authentik's AuthnContextClassRef   \
	 * reads them from the login event), and its active user (CU_SQL_OAUTH2C_USER_COLS). */    \
	X(SAML_SESSION, 1,                                                                         \
	  "SELECT s.uuid, floor(extract(epoch FROM s.created))::bigint, "                          \
	  "ev.context ->> 'auth_method', coalesce(ev.context -> 'auth_method_args' ? "             \
	  "'mfa_devices', false), " CU_SQL_OAUTH2C_USER_COLS " FROM sessions s JOIN users u ON "   \
	  "u.id = s.user_id AND u.is_active LEFT JOIN LATERAL (SELECT e.context FROM events e "    \
	  "WHERE e.action = 'login' AND e.created = s.created AND e.\"user\" ->> 'pk' = "          \
	  "u.id::text LIMIT 1) ev ON true WHERE s.session_key = $1 AND s.expires > now()")         \
	/* Takes request ID $2 of provider $1 until $3 (epoch seconds): a row back when it was     \
	 * free (never seen, or its earlier use has expired), none for a replay. */                \
	X(SAML_REQUEST_ID_TAKE, 3,                                                                 \
	  "INSERT INTO saml_request_ids AS r (provider_id, request_id, expires) VALUES ($1::int, " \
	  "$2, to_timestamp($3::float8)) ON CONFLICT (provider_id, request_id) DO UPDATE SET "     \
	  "expires = EXCLUDED.expires WHERE r.expires <= now() RETURNING 1")                       \
	/* Expired request IDs and SAML sessions go (now and then, from a request). */             \
	/* A login answered for provider $1: user $2, session $3 (uuid), SessionIndex $4, NameID   \
	 * $5 in format $6, until $7 (epoch seconds). An older row with the same SessionIndex      \
	 * belongs to a dead session and goes (authentik's update_or_create after a delete). */    \
	X(SAML_SESSION_SAVE, 7,                                                                    \
	  "WITH d AS (DELETE FROM saml_sessions WHERE provider_id = $1::int AND session_index = "  \
	  "$4) INSERT INTO saml_sessions (provider_id, user_id, session_uuid, session_index, "     \
	  "name_id, name_id_format, expires) VALUES ($1::int, $2::bigint, $3::uuid, $4, $5, $6, "  \
	  "to_timestamp($7::float8))")                                                             \
	/* Single logout: the SAML sessions of provider $1 for the browser session key $2. */      \
	X(SAML_SESSIONS_END, 2,                                                                    \
	  "DELETE FROM saml_sessions WHERE provider_id = $1::int AND session_uuid = (SELECT uuid " \
	  "FROM sessions WHERE session_key = $2)")

#endif
