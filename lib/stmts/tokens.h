/* Statements of the tokens module: X(NAME, nparams, "SQL") entries, one per line. */
#ifndef CU_STMTS_TOKENS_H
#define CU_STMTS_TOKENS_H

/* Built on the users module's User expression (lib/stmts/users.h, included before this file). */

/* Token of the row aliased t joined to its user u: never the key. */
#define CU_SQL_TOKEN                                                                                  \
	"json_build_object('pk', t.uuid, 'managed', t.managed, 'identifier', t.identifier, "          \
	"'intent', t.intent, 'user', t.user_id, 'user_obj', (" CU_SQL_USER(                           \
	    "false",                                                                                  \
	    "false") ")::json, 'description', t.description, 'expires', " CU_SQL_TS("t.expires") ", " \
	                                                                                         "'expiring', t.expiring)::text"
#define CU_SQL_TOKEN_FROM "FROM tokens t JOIN users u ON u.id = t.user_id"

/* What an audit diff compares: the writable fields, the key left out. */
#define TOKENS_SNAPSHOT                                                                            \
	"json_build_object('identifier', t.identifier, 'intent', t.intent, 'user', t.user_id, "    \
	"'description', t.description, 'expires', " CU_SQL_TS("t.expires") ", 'expiring', "        \
	                                                                   "t.expiring)::text"

/* Columns: 0 Token, 1 uuid, 2 user id, 3 snapshot, 4 intent, 5 identifier, 6 expires (text). */
#define TOKENS_SELECT                                                                              \
	"SELECT " CU_SQL_TOKEN ", t.uuid, t.user_id, " TOKENS_SNAPSHOT                             \
	", t.intent, t.identifier, " CU_SQL_TS("t.expires") " " CU_SQL_TOKEN_FROM

#define CU_DB_STMTS_TOKENS(X)                                                                      \
	X(TOKENS_GET, 1, TOKENS_SELECT " WHERE t.identifier = $1")                                 \
	X(TOKENS_LOCK, 1, TOKENS_SELECT " WHERE t.identifier = $1 FOR UPDATE OF t")                \
	X(TOKENS_GET_UUID, 1, TOKENS_SELECT " WHERE t.uuid = $1::uuid")                            \
	X(TOKENS_IDENTIFIER_TAKEN, 2,                                                              \
	  "SELECT 1 FROM tokens WHERE identifier = $1 AND uuid IS DISTINCT FROM $2::uuid")         \
	X(TOKENS_KEY_TAKEN, 2,                                                                     \
	  "SELECT 1 FROM tokens WHERE key_digest = $1 AND uuid IS DISTINCT FROM $2::uuid")         \
	X(TOKENS_USER, 1,                                                                          \
	  "SELECT coalesce((attributes -> 'goauthentik.io/user/token-expiring')::text, 'true') "   \
	  "<> 'false' FROM users WHERE id = $1::bigint")                                           \
	X(TOKENS_CHECK_TIME, 1, "SELECT $1::timestamptz")                                          \
	X(TOKENS_CHECK_LIFETIME, 1,                                                                \
	  "SELECT $1::timestamptz > now() + interval '1 day', to_char((now() + interval '1 day') " \
	  "AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00:00'")                           \
	X(TOKENS_INSERT, 8,                                                                        \
	  "INSERT INTO tokens (identifier, key, key_digest, intent, user_id, description, "        \
	  "expiring, expires) VALUES ($1, $2, $3, $4, $5::bigint, $6, $7::boolean, CASE WHEN $4 "  \
	  "= 'api' THEN now() + interval '1 day' ELSE $8::timestamptz END) RETURNING uuid")        \
	X(TOKENS_UPDATE, 7,                                                                        \
	  "UPDATE tokens SET identifier = $2, intent = $3, description = $4, expiring = "          \
	  "$5::boolean, expires = CASE WHEN $6::boolean THEN $7::timestamptz ELSE expires END "    \
	  "WHERE uuid = $1::uuid")                                                                 \
	X(TOKENS_DELETE, 1, "DELETE FROM tokens WHERE uuid = $1::uuid")                            \
	X(TOKENS_KEY, 1, "SELECT key FROM tokens WHERE uuid = $1::uuid")                           \
	X(TOKENS_SET_KEY, 3, "UPDATE tokens SET key = $2, key_digest = $3 WHERE uuid = $1::uuid")  \
	X(TOKENS_GRANT_KEY_VIEW, 3,                                                                \
	  "WITH r AS (INSERT INTO roles (name, managed) VALUES ($2, $2) ON CONFLICT (name) DO "    \
	  "UPDATE SET name = EXCLUDED.name RETURNING uuid), ru AS (INSERT INTO role_users "        \
	  "(role_uuid, user_id) SELECT uuid, $1::bigint FROM r ON CONFLICT DO NOTHING) INSERT "    \
	  "INTO role_permissions (role_uuid, permission_id, object_pk) SELECT r.uuid, p.id, $3 "   \
	  "FROM r, permissions p WHERE p.app_label = 'authentik_core' AND p.codename = "           \
	  "'view_token_key' ON CONFLICT DO NOTHING")

#endif
