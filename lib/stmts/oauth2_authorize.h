/* Statements of the oauth2_authorize module: X(NAME, nparams, "SQL") entries, one per line. */
#ifndef CU_STMTS_OAUTH2_AUTHORIZE_H
#define CU_STMTS_OAUTH2_AUTHORIZE_H

#include "stmts/flows.h"

/*
 * The logged-in session $1 and its user: the session's uuid (the ID token's sid), when it
 * logged in, in milliseconds (a login makes a new session row, so its creation time is the
 * login's, and the login event shares that transaction's timestamp), the database's clock
 * (milliseconds; clock_timestamp(), as the marker must be later than the login), the amr values of
 * that login's event (authentik's mapping of auth_method and its arguments), and the user.
 */
#define CU_DB_STMTS_OAUTH2_AUTHORIZE(X)                                                            \
	X(OAUTH2_AUTHZ_SESSION, 1,                                                                 \
	  "SELECT s.uuid, floor(extract(epoch FROM s.created) * 1000)::bigint, "                   \
	  "floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint, NULLIF(concat_ws(' ', "    \
	  "CASE ev.context ->> 'auth_method' WHEN 'password' THEN 'pwd' "                          \
	  "WHEN 'auth_webauthn_pwl' THEN 'user' END, "                                             \
	  "CASE WHEN ev.context -> 'auth_method_args' ? 'certificate' THEN 'sc' END, "             \
	  "CASE WHEN ev.context -> 'auth_method_args' ? 'mfa_devices' THEN 'mfa' END), ''), "      \
	  "u.id, u.uuid, u.username, u.name, u.email, u.type, u.path, user_is_superuser(u.id) "    \
	  "FROM sessions s JOIN users u ON u.id = s.user_id AND u.is_active "                      \
	  "LEFT JOIN LATERAL (SELECT e.context FROM events e WHERE e.action = 'login' "            \
	  "AND e.created = s.created AND e.\"user\" ->> 'pk' = u.id::text LIMIT 1) ev ON true "    \
	  "WHERE s.session_key = $1 AND s.expires > now()")                                        \
	/* The slug of the authentication flow of the brand the request's host ($1) is for. */     \
	X(OAUTH2_AUTHZ_BRAND_FLOW, 1,                                                              \
	  "WITH b AS (" CU_FLOWS_BRAND_SQL ") SELECT f.slug FROM b JOIN flows f "                  \
	  "ON f.flow_uuid = b.flow_authentication")                                                \
	/* For prompt=none and prompt=consent: the consent stages of flow $1 (how many, how many   \
	 * always ask) and what user $2 last agreed to for application $3. */                      \
	X(OAUTH2_AUTHZ_CONSENT, 3,                                                                 \
	  "SELECT count(s.stage_uuid), count(s.stage_uuid) FILTER (WHERE s.config ->> 'mode' = "   \
	  "'always_require'), (SELECT c.permissions FROM user_consents c WHERE c.user_id = "       \
	  "$2::bigint AND c.application = $3::uuid AND (NOT c.expiring OR c.expires > now()) "     \
	  "ORDER BY c.expires DESC NULLS FIRST LIMIT 1) FROM flows f "                             \
	  "LEFT JOIN flow_stage_bindings b ON b.target = f.flow_uuid "                             \
	  "LEFT JOIN stages s ON s.stage_uuid = b.stage AND s.type = 'consentstage' "              \
	  "WHERE f.slug = $1 GROUP BY f.flow_uuid")

#endif
