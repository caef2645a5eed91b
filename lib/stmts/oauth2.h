/*
 * Statements of the OAuth2 provider core and the token endpoint (lib/providers/oauth2.c,
 * oauth2_token.c): X(NAME, nparams, "SQL") entries. Timestamps cross as epoch seconds (float8),
 * scopes leave as JSON arrays (array_to_json) and come in as text[] literals.
 */
#ifndef CU_STMTS_OAUTH2_H
#define CU_STMTS_OAUTH2_H

/* Whether user u is a superuser: a member of a superuser group, directly or through parents.
 * user_is_superuser() says the same; written out here it costs a quarter as much, and the token
 * path runs it on every grant. */
#define CU_SQL_OAUTH2C_USER_SUPERUSER                                                              \
	"EXISTS (WITH RECURSIVE ag(uuid) AS (SELECT group_uuid FROM group_users WHERE user_id = "  \
	"u.id UNION SELECT gp.parent_uuid FROM group_parents gp JOIN ag ON gp.group_uuid = "       \
	"ag.uuid) SELECT 1 FROM ag JOIN groups sg ON sg.uuid = ag.uuid WHERE sg.is_superuser)"

/*
 * What the claims of user u are made of, as one JSON text (the `request.user` scope mappings
 * see): its SHA-256 is the user's version, which the token path's single statement compares with
 * the version its cached copy was made from. Direct groups as [{name, pk}].
 */
#define CU_SQL_OAUTH2C_USER_JSON                                                                     \
	"json_build_object('pk', u.id, 'uuid', u.uuid, 'username', u.username, 'name', u.name, "     \
	"'email', u.email, 'is_active', u.is_active, 'is_superuser', " CU_SQL_OAUTH2C_USER_SUPERUSER \
	", "                                                                                         \
	"'type', u.type, 'path', u.path, 'attributes', u.attributes, 'groups', (SELECT "             \
	"coalesce(json_agg(json_build_object('name', g.name, 'pk', g.uuid) ORDER BY g.name, "        \
	"g.uuid), '[]'::json) FROM group_users gu JOIN groups g ON g.uuid = gu.group_uuid WHERE "    \
	"gu.user_id = u.id))::text"

/* The 9 columns of user u (oauth2.c: cu_oauth2_user_from_row): id, uuid, username, name, email,
 * type, path, is_active, json (its SHA-256, the user's version, is taken by the caller). */
#define CU_SQL_OAUTH2C_USER_COLS                                                                   \
	"u.id, u.uuid, u.username, u.name, u.email, u.type, u.path, u.is_active, " CU_SQL_OAUTH2C_USER_JSON

/* The version the statements compare: the hex SHA-256 of the JSON text above. */
#define CU_SQL_OAUTH2C_USER_VERSION                                                                \
	"encode(sha256(convert_to(" CU_SQL_OAUTH2C_USER_JSON ", 'UTF8')), 'hex')"

/* Whether an enabled policy binding targets application a (SQL expression). */
#define CU_SQL_OAUTH2C_APP_BOUND                                                                   \
	"EXISTS (SELECT 1 FROM policy_bindings b WHERE b.target = a.uuid AND b.enabled)"

/* Whether the application of provider p has an enabled policy binding. */
#define CU_SQL_OAUTH2C_PROVIDER_BOUND                                                                   \
	"EXISTS (SELECT 1 FROM applications a WHERE a.provider_id = p.id AND " CU_SQL_OAUTH2C_APP_BOUND \
	")"

/* The hex SHA-256 of the client secret of oauth2_providers op, compared with the digest of the
 * one presented (the cached secret was compared in constant time before). */
#define CU_SQL_OAUTH2C_SECRET_DIGEST "encode(sha256(convert_to(op.client_secret, 'UTF8')), 'hex')"

/*
 * A provider with its application, flows, signing key and scope mappings (oauth2.c:
 * entry_from_row names the 31 columns).
 */
#define CU_SQL_OAUTH2C_PROVIDER                                                                     \
	"SELECT p.id, p.serial, p.name, op.client_type, op.client_id, op.client_secret, "           \
	"op.redirect_uris::text, op.access_code_validity, op.access_token_validity, "               \
	"op.refresh_token_validity, op.refresh_token_threshold, op.include_claims_in_id_token, "    \
	"op.pkce_required, op.signing_key, kp.fingerprint_sha256, op.encryption_key, "              \
	"op.sub_mode, op.issuer_mode, op.logout_uri, op.logout_method, fa.slug, fz.slug, "          \
	"fi.slug, a.uuid, a.slug, a.name, a.meta_launch_url, a.policy_engine_mode, "                \
	"a.uuid IS NOT NULL AND " CU_SQL_OAUTH2C_APP_BOUND ", (SELECT "                             \
	"coalesce(json_agg(json_build_object('pm_uuid', m.pm_uuid, 'name', m.name, 'scope_name', "  \
	"m.scope_name, 'description', m.description, 'expression', m.expression) ORDER BY "         \
	"m.name), '[]'::json) FROM provider_property_mappings ppm JOIN property_mappings m ON "     \
	"m.pm_uuid = ppm.pm_uuid WHERE ppm.provider_id = p.id AND m.type = 'scopemapping')::text, " \
	"(SELECT install_id::text FROM custos_install) FROM providers p JOIN oauth2_providers op "  \
	"ON op.provider_id = p.id LEFT JOIN certificate_key_pairs kp ON kp.kp_uuid = "              \
	"op.signing_key LEFT JOIN flows fa ON fa.flow_uuid = p.authentication_flow LEFT JOIN "      \
	"flows fz ON fz.flow_uuid = p.authorization_flow LEFT JOIN flows fi ON fi.flow_uuid = "     \
	"p.invalidation_flow LEFT JOIN applications a ON a.provider_id = p.id "

/* The access-token columns every grant writes, in this order. */
#define CU_SQL_OAUTH2C_ACCESS_COLS                                                                 \
	"token_digest, provider_id, user_id, session_uuid, expires, scope, code_id, "              \
	"refresh_chain_id, auth_time, claims"

/*
 * client_credentials' hot path, one round trip: the access token goes in only while the cached
 * provider ($1, serial $2, secret digest $3) and service account ($4, version $5) are current
 * and, when $6 names the application, no binding has appeared on it; the login event (and its
 * notification dispatch, as EVENTS_INSERT) goes with it. No row: reload and retry. $7 digest,
 * $8 expires, $9 scope, $10 auth_time, $11 claims, $12 event context, $13 client IP, $14 event
 * user. Its transaction commits without waiting for the WAL flush (oauth2_token.c says why).
 */
#define CU_SQL_OAUTH2C_CC_INSERT                                                                    \
	"WITH u AS MATERIALIZED (SELECT * FROM users WHERE id = $4::bigint), "                      \
	"ok AS (SELECT u.id FROM u, providers p JOIN oauth2_providers op ON op.provider_id = p.id " \
	"WHERE p.id = $1::int AND p.serial = $2::bigint "                                           \
	"AND " CU_SQL_OAUTH2C_SECRET_DIGEST " = $3 AND u.is_active AND u.type = "                   \
	"'service_account' AND " CU_SQL_OAUTH2C_USER_VERSION " = $5 AND ($6::uuid IS NULL OR "      \
	"NOT EXISTS (SELECT 1 FROM policy_bindings b WHERE b.target = $6::uuid AND b.enabled)) "    \
	"AND set_config('synchronous_commit', 'off', true) = 'off'), "                              \
	"tok AS (INSERT INTO oauth2_access_tokens (" CU_SQL_OAUTH2C_ACCESS_COLS ") SELECT $7, "     \
	"$1::int, ok.id, NULL, to_timestamp($8::float8), $9::text[], NULL, NULL, "                  \
	"to_timestamp($10::float8), $11 FROM ok RETURNING id), "                                    \
	"ev AS (INSERT INTO events (action, app, context, client_ip, \"user\") SELECT 'login', "    \
	"'authentik.providers.oauth2.views.token', $12::jsonb, $13::inet, $14::jsonb FROM tok "     \
	"RETURNING event_uuid), "                                                                   \
	"d AS (INSERT INTO tasks (actor_name, args) SELECT "                                        \
	"'authentik.events.tasks.event_trigger_dispatch', jsonb_build_object('event', "             \
	"ev.event_uuid) FROM ev WHERE EXISTS (SELECT 1 FROM notification_rules)) "                  \
	"SELECT id FROM tok"

/*
 * Stores what cu_oauth2_issue made: a refresh token when $11 is set (a new chain, or chain $7
 * continued) and the access token when $8 is set. $1 provider, $2 user, $3 session, $4 scope,
 * $5 auth_time, $6 code id, $9/$12 expiries, $10 access claims, $13 amr, $14 the ID token's
 * claims.
 */
#define CU_SQL_OAUTH2C_ISSUE                                                                       \
	"WITH r AS (INSERT INTO oauth2_refresh_tokens (id, chain_id, token_digest, provider_id, "  \
	"user_id, session_uuid, expires, scope, code_id, auth_time, amr, id_token) SELECT n.id, "  \
	"coalesce($7::bigint, n.id), $11, $1::int, $2::bigint, $3::uuid, "                         \
	"to_timestamp($12::float8), $4::text[], $6::bigint, to_timestamp($5::float8), "            \
	"$13::text[], $14 FROM (SELECT nextval('oauth2_refresh_tokens_id_seq') AS id) n WHERE "    \
	"$11::text IS NOT NULL RETURNING id, chain_id), "                                          \
	"a AS (INSERT INTO oauth2_access_tokens (" CU_SQL_OAUTH2C_ACCESS_COLS ") SELECT $8, "      \
	"$1::int, $2::bigint, $3::uuid, to_timestamp($9::float8), $4::text[], $6::bigint, "        \
	"coalesce((SELECT chain_id FROM r), $7::bigint), to_timestamp($5::float8), $10 WHERE "     \
	"$8::text IS NOT NULL RETURNING id) "                                                      \
	"SELECT (SELECT id FROM a), (SELECT id FROM r)"

/* Takes a code: one statement marks it used, so only one exchange finds it. The caller's
 * transaction rolls the mark back when the exchange is refused. */
#define CU_SQL_OAUTH2C_CODE_TAKE                                                                   \
	"UPDATE oauth2_authorization_codes c SET used = now() FROM users u WHERE c.code_digest = " \
	"$1 AND c.used IS NULL AND u.id = c.user_id RETURNING c.id, c.provider_id, "               \
	"c.session_uuid, c.expires > now(), array_to_json(c.scope)::text, c.redirect_uri, "        \
	"c.nonce, c.code_challenge, c.code_challenge_method, extract(epoch FROM c.auth_time), "    \
	"array_to_json(c.amr)::text, " CU_SQL_OAUTH2C_USER_COLS

/* A used code presented again: what was issued from it (and every token refreshed from those:
 * they carry its code_id) is revoked. Returns the code's user, or no row. */
#define CU_SQL_OAUTH2C_CODE_REUSE                                                                  \
	"WITH c AS (SELECT id, user_id, provider_id FROM oauth2_authorization_codes WHERE "        \
	"code_digest = $1 AND used IS NOT NULL), "                                                 \
	"ra AS (UPDATE oauth2_access_tokens SET revoked = true WHERE code_id IN (SELECT id FROM "  \
	"c) AND NOT revoked RETURNING id), "                                                       \
	"rr AS (UPDATE oauth2_refresh_tokens SET revoked = true WHERE code_id IN (SELECT id FROM " \
	"c) AND NOT revoked RETURNING id) "                                                        \
	"SELECT c.user_id, c.provider_id, (SELECT count(*) FROM ra), (SELECT count(*) FROM rr) "   \
	"FROM c"

/* A refresh token of provider $2 with its user, the provider's serial and whether its
 * application has bindings now. A token whose chain_id was never set heads its own chain. */
#define CU_SQL_OAUTH2C_REFRESH_FIND                                                                                            \
	"SELECT rt.id, coalesce(rt.chain_id, rt.id), rt.session_uuid, extract(epoch FROM "                                     \
	"rt.expires), rt.expires > now(), array_to_json(rt.scope)::text, rt.revoked, "                                         \
	"extract(epoch FROM rt.auth_time), array_to_json(rt.amr)::text, rt.id_token, p.serial, " CU_SQL_OAUTH2C_PROVIDER_BOUND \
	", " CU_SQL_OAUTH2C_USER_COLS " FROM oauth2_refresh_tokens "                                                           \
	"rt JOIN providers p ON p.id = rt.provider_id JOIN users u ON u.id = rt.user_id WHERE "                                \
	"rt.token_digest = $1 AND rt.provider_id = $2::int"

/*
 * The refresh grant's write, one statement: the old token ($1) is revoked when rotating ($7)
 * and the new refresh and access tokens go in, only while it is unrevoked and unexpired, the
 * provider ($2, serial $3, secret digest $5 when confidential) is current, user $4 active and,
 * when $6 names the application, it has no binding. The claims were made from the user as the
 * same request read it (OAUTH2_REFRESH_FIND), so no version is compared. $8 new digest, $9 its
 * expiry, $10 its ID token claims, $11 access digest, $12 expiry, $13 scope, $14 claims. No
 * row: the caller looks again (a reuse, or a change).
 */
#define CU_SQL_OAUTH2C_REFRESH_ROTATE                                                               \
	"WITH ok AS (SELECT 1 FROM users u, providers p JOIN oauth2_providers op ON "               \
	"op.provider_id = p.id WHERE u.id = $4::bigint AND u.is_active AND p.id = $2::int AND "     \
	"p.serial = $3::bigint AND ($5::text IS NULL OR " CU_SQL_OAUTH2C_SECRET_DIGEST " = $5) "    \
	"AND ($6::uuid IS NULL OR NOT EXISTS (SELECT 1 FROM policy_bindings b WHERE b.target = "    \
	"$6::uuid AND b.enabled))), "                                                               \
	"old AS (UPDATE oauth2_refresh_tokens t SET revoked = $7::boolean WHERE t.id = $1::bigint " \
	"AND t.provider_id = $2::int AND NOT t.revoked AND t.expires > now() AND EXISTS (SELECT "   \
	"1 FROM ok) RETURNING coalesce(t.chain_id, t.id) AS chain_id, t.code_id, t.user_id, "       \
	"t.session_uuid, t.scope, t.auth_time, t.amr), "                                            \
	"r AS (INSERT INTO oauth2_refresh_tokens (token_digest, provider_id, user_id, "             \
	"session_uuid, expires, scope, chain_id, code_id, auth_time, amr, id_token) SELECT $8, "    \
	"$2::int, old.user_id, old.session_uuid, to_timestamp($9::float8), old.scope, "             \
	"old.chain_id, old.code_id, old.auth_time, old.amr, $10 FROM old WHERE $7::boolean "        \
	"RETURNING id), "                                                                           \
	"a AS (INSERT INTO oauth2_access_tokens (" CU_SQL_OAUTH2C_ACCESS_COLS ") SELECT $11, "      \
	"$2::int, old.user_id, old.session_uuid, to_timestamp($12::float8), $13::text[], "          \
	"old.code_id, old.chain_id, old.auth_time, $14 FROM old RETURNING id) "                     \
	"SELECT (SELECT id FROM a), (SELECT id FROM r)"

/* A rotated refresh token used again: its whole chain and the access tokens refreshed from it
 * are revoked. */
#define CU_SQL_OAUTH2C_REFRESH_REVOKE_CHAIN                                                         \
	"WITH r AS (UPDATE oauth2_refresh_tokens SET revoked = true WHERE (chain_id = $1::bigint "  \
	"OR id = $1::bigint) AND NOT revoked RETURNING id), a AS (UPDATE oauth2_access_tokens SET " \
	"revoked = true WHERE refresh_chain_id = $1::bigint AND NOT revoked RETURNING id) "         \
	"SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM a)"

/* A device code poll: notes the poll and tells how long ago the last one was. */
#define CU_SQL_OAUTH2C_DEVICE_POLL                                                                 \
	"WITH d AS (SELECT id, last_poll FROM oauth2_device_tokens WHERE device_code_digest = $1 " \
	"AND provider_id = $2::int FOR UPDATE) UPDATE oauth2_device_tokens t SET last_poll = "     \
	"now() FROM d WHERE t.id = d.id RETURNING t.id, t.user_id, t.session_uuid, "               \
	"array_to_json(t.scope)::text, t.expires > now(), t.used IS NOT NULL, "                    \
	"coalesce(extract(epoch FROM now() - d.last_poll), 1e9), (SELECT extract(epoch FROM "      \
	"s.created) FROM sessions s WHERE s.uuid = t.session_uuid)"

#define CU_DB_STMTS_OAUTH2(X)                                                                      \
	X(OAUTH2_PROVIDER_BY_CLIENT_ID, 1, CU_SQL_OAUTH2C_PROVIDER "WHERE op.client_id = $1")      \
	X(OAUTH2_PROVIDER_BY_SLUG, 1, CU_SQL_OAUTH2C_PROVIDER "WHERE a.slug = $1")                 \
	X(OAUTH2_PROVIDER_BY_ID, 1, CU_SQL_OAUTH2C_PROVIDER "WHERE p.id = $1::int")                \
	/* A cached provider's check: its serial, and whether its application has bindings         \
	 * (those do not bump the serial). */                                                      \
	X(OAUTH2_PROVIDER_CHECK, 1,                                                                \
	  "SELECT p.serial, " CU_SQL_OAUTH2C_PROVIDER_BOUND " FROM providers p WHERE p.id = "      \
	  "$1::int")                                                                               \
	X(OAUTH2_USER, 1,                                                                          \
	  "SELECT " CU_SQL_OAUTH2C_USER_COLS " FROM users u WHERE u.id = $1::bigint")              \
	/* The client_credentials service account (authentik's update_or_create): $1 username,     \
	 * $2 name, $3 path. */                                                                    \
	X(OAUTH2_SA_UPSERT, 3,                                                                     \
	  "INSERT INTO users AS u (username, name, path, type, attributes, last_login) VALUES ("   \
	  "$1, $2, $3, 'service_account', '{\"goauthentik.io/user/generated\": true}', now()) "    \
	  "ON CONFLICT (username) DO UPDATE SET name = EXCLUDED.name, path = EXCLUDED.path, "      \
	  "type = 'service_account', last_login = now(), last_updated = now(), attributes = "      \
	  "u.attributes || '{\"goauthentik.io/user/generated\": true}' "                           \
	  "RETURNING " CU_SQL_OAUTH2C_USER_COLS)                                                   \
	X(OAUTH2_CC_INSERT, 14, CU_SQL_OAUTH2C_CC_INSERT)                                          \
	X(OAUTH2_ISSUE, 14, CU_SQL_OAUTH2C_ISSUE)                                                  \
	/* $1 digest, $2 provider, $3 user, $4 session, $5 validity seconds, $6 scope,             \
	 * $7 redirect_uri, $8 nonce, $9 challenge, $10 method, $11 auth_time, $12 amr. */         \
	X(OAUTH2_CODE_INSERT, 12,                                                                  \
	  "INSERT INTO oauth2_authorization_codes (code_digest, provider_id, user_id, "            \
	  "session_uuid, expires, scope, redirect_uri, nonce, code_challenge, "                    \
	  "code_challenge_method, auth_time, amr) VALUES ($1, $2::int, $3::bigint, $4::uuid, "     \
	  "now() + make_interval(secs => $5::float8), $6::text[], $7, $8, $9, $10, "               \
	  "to_timestamp($11::float8), $12::text[]) RETURNING id")                                  \
	X(OAUTH2_CODE_TAKE, 1, CU_SQL_OAUTH2C_CODE_TAKE)                                           \
	X(OAUTH2_CODE_REUSE, 1, CU_SQL_OAUTH2C_CODE_REUSE)                                         \
	X(OAUTH2_REFRESH_FIND, 2, CU_SQL_OAUTH2C_REFRESH_FIND)                                     \
	X(OAUTH2_REFRESH_ROTATE, 14, CU_SQL_OAUTH2C_REFRESH_ROTATE)                                \
	X(OAUTH2_REFRESH_REVOKE_CHAIN, 1, CU_SQL_OAUTH2C_REFRESH_REVOKE_CHAIN)                     \
	/* authentik's username + app password form of client_credentials: $1 username, $2 the     \
	 * password's digest; the key itself is compared in constant time by the caller. */        \
	X(OAUTH2_APP_PASSWORD, 2,                                                                  \
	  "SELECT t.key, t.identifier, " CU_SQL_OAUTH2C_USER_COLS " FROM users u JOIN tokens t "   \
	  "ON t.user_id = u.id WHERE u.username = $1 AND u.is_active AND t.key_digest = $2 AND "   \
	  "t.intent = 'app_password' AND (NOT t.expiring OR t.expires > now())")                   \
	/* A client assertion: an access token, live, of a provider provider $2 trusts. */         \
	X(OAUTH2_FEDERATED_TOKEN, 2,                                                               \
	  "SELECT at.provider_id, " CU_SQL_OAUTH2C_USER_COLS " FROM oauth2_access_tokens at JOIN " \
	  "oauth2_provider_federation f ON f.trusted_provider = at.provider_id AND "               \
	  "f.provider_id = $2::int JOIN users u ON u.id = at.user_id WHERE at.token_digest = $1 "  \
	  "AND NOT at.revoked AND at.expires > now()")                                             \
	X(OAUTH2_DEVICE_POLL, 2, CU_SQL_OAUTH2C_DEVICE_POLL)                                       \
	/* Takes an approved device code (single use), in the issuing transaction. */              \
	X(OAUTH2_DEVICE_TAKE, 1,                                                                   \
	  "UPDATE oauth2_device_tokens SET used = now() WHERE id = $1::bigint AND used IS NULL "   \
	  "AND user_id IS NOT NULL AND expires > now() RETURNING user_id")                         \
	X(OAUTH2_ACCESS_FIND, 1,                                                                   \
	  "SELECT at.id, at.provider_id, at.user_id, array_to_json(at.scope)::text, at.claims, "   \
	  "extract(epoch FROM at.expires), at.session_uuid FROM oauth2_access_tokens at JOIN "     \
	  "users u ON u.id = at.user_id WHERE at.token_digest = $1 AND NOT at.revoked AND "        \
	  "at.expires > now() AND u.is_active")

#endif
