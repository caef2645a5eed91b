/* Statements of the users module: X(NAME, nparams, "SQL") entries, one per line. */
#ifndef CU_STMTS_USERS_H
#define CU_STMTS_USERS_H

#include "stmts/stages_auth.h"

/* A timestamp as DRF writes it: ISO 8601 in UTC with a "Z". */
#define CU_SQL_TS(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* authentik's User.uid: hex SHA-256 of "<pk>-<install id>". */
#define CU_SQL_USER_UID(id)                                                                        \
	"encode(sha256(convert_to((" id ")::text || '-' || "                                       \
	"(SELECT install_id::text FROM custos_install), 'UTF8')), 'hex')"

/* PartialUser (nested in groups) of the row aliased pu. */
#define CU_SQL_PARTIAL_USER                                                                        \
	"json_build_object('pk', pu.id, 'username', pu.username, 'name', pu.name, 'is_active', "   \
	"pu.is_active, 'last_login', " CU_SQL_TS(                                                  \
	    "pu.last_login") ", 'email', pu.email, "                                               \
	                     "'attributes', pu.attributes, 'uid', " CU_SQL_USER_UID("pu.id") ")"

#define USERS_GROUPS_OBJ                                                                           \
	"(SELECT coalesce(json_agg(json_build_object('pk', g.uuid, 'num_pk', g.num_pk, 'name', "   \
	"g.name, 'is_superuser', g.is_superuser, 'attributes', g.attributes) ORDER BY g.name), "   \
	"'[]') FROM group_users gu JOIN groups g ON g.uuid = gu.group_uuid WHERE gu.user_id = "    \
	"u.id)"
#define USERS_ROLES_OBJ                                                                            \
	"(SELECT coalesce(json_agg(json_build_object('pk', r.uuid, 'name', r.name) ORDER BY "      \
	"r.name), '[]') FROM role_users ru JOIN roles r ON r.uuid = ru.role_uuid WHERE "           \
	"ru.user_id = u.id)"

/* User of the row aliased u; the two flags (SQL booleans) include groups_obj and roles_obj. */
#define CU_SQL_USER(incl_groups, incl_roles)                                                                            \
	"json_build_object('pk', u.id, 'username', u.username, 'name', u.name, 'is_active', "                           \
	"u.is_active, 'last_login', " CU_SQL_TS("u.last_login") ", 'date_joined', " CU_SQL_TS(                          \
	    "u.date_joined") ", 'is_superuser', user_is_superuser(u.id), 'groups', "                                    \
	                     "(SELECT coalesce(json_agg(gu.group_uuid ORDER BY gu.group_uuid), '[]') FROM group_users " \
	                     "gu WHERE gu.user_id = u.id), 'groups_obj', CASE WHEN " incl_groups                        \
	                     " THEN " USERS_GROUPS_OBJ                                                                  \
	                     " END, 'roles', (SELECT coalesce(json_agg(ru.role_uuid ORDER BY "                          \
	                     "ru.role_uuid), '[]') FROM role_users ru WHERE ru.user_id = u.id), 'roles_obj', CASE "     \
	                     "WHEN " incl_roles " THEN " USERS_ROLES_OBJ                                                \
	                     " END, 'email', u.email, 'avatar', "                                                       \
	                     "u.avatar, 'attributes', u.attributes, 'uid', " CU_SQL_USER_UID(                           \
	                         "u.id") ", 'path', u.path, 'type', u.type, 'uuid', u.uuid, "                           \
	                                 "'password_change_date', " CU_SQL_TS(                                          \
	                                     "u.password_change_date") ", 'last_updated', " CU_SQL_TS("u.last_updated") ")::text"

/* What an audit diff compares: the writable fields, memberships included. */
#define USERS_SNAPSHOT                                                                                              \
	"SELECT json_build_object('username', u.username, 'name', u.name, 'email', u.email, "                       \
	"'is_active', u.is_active, 'last_login', " CU_SQL_TS(                                                       \
	    "u.last_login") ", 'path', u.path, "                                                                    \
	                    "'type', u.type, 'attributes', u.attributes, 'groups', (SELECT coalesce(json_agg("      \
	                    "gu.group_uuid ORDER BY gu.group_uuid), '[]') FROM group_users gu WHERE gu.user_id = "  \
	                    "u.id), 'roles', (SELECT coalesce(json_agg(ru.role_uuid ORDER BY ru.role_uuid), '[]') " \
	                    "FROM role_users ru WHERE ru.user_id = u.id))::text, u.username, u.type, u.email "      \
	                    "FROM users u WHERE u.id = $1::bigint"

#define CU_DB_STMTS_USERS(X)                                                                                   \
	X(USERS_GET, 3,                                                                                        \
	  "SELECT " CU_SQL_USER("$2::boolean", "$3::boolean") " FROM users u WHERE u.id = "                    \
	                                                      "$1::bigint")                                    \
	X(USERS_EXISTS, 1, "SELECT 1 FROM users WHERE id = $1::bigint")                                        \
	X(USERS_LOCK, 1, USERS_SNAPSHOT " FOR UPDATE")                                                         \
	X(USERS_SNAPSHOT, 1, USERS_SNAPSHOT)                                                                   \
	X(USERS_USERNAME_TAKEN, 2,                                                                             \
	  "SELECT 1 FROM users WHERE username = $1 AND id <> coalesce($2::bigint, -1)")                        \
	X(USERS_MISSING_GROUP, 1,                                                                              \
	  "SELECT x::text FROM unnest($1::uuid[]) WITH ORDINALITY AS t(x, n) WHERE NOT EXISTS "                \
	  "(SELECT 1 FROM groups WHERE uuid = x) ORDER BY n LIMIT 1")                                          \
	X(USERS_MISSING_ROLE, 1,                                                                               \
	  "SELECT x::text FROM unnest($1::uuid[]) WITH ORDINALITY AS t(x, n) WHERE NOT EXISTS "                \
	  "(SELECT 1 FROM roles WHERE uuid = x) ORDER BY n LIMIT 1")                                           \
	X(USERS_INSERT, 8,                                                                                     \
	  "INSERT INTO users (username, name, email, is_active, last_login, path, type, "                      \
	  "attributes) VALUES ($1, coalesce($2, ''), coalesce($3, ''), coalesce($4::boolean, "                 \
	  "true), $5::timestamptz, coalesce($6, 'users'), coalesce($7, 'internal'), "                          \
	  "coalesce($8::jsonb, '{}')) RETURNING id")                                                           \
	X(USERS_UPDATE, 10,                                                                                    \
	  "UPDATE users SET username = coalesce($2, username), name = coalesce($3, name), email "              \
	  "= coalesce($4, email), is_active = coalesce($5::boolean, is_active), last_login = "                 \
	  "CASE WHEN $6::boolean THEN $7::timestamptz ELSE last_login END, path = coalesce($8, "               \
	  "path), type = coalesce($9, type), attributes = coalesce($10::jsonb, attributes), "                  \
	  "last_updated = now() WHERE id = $1::bigint")                                                        \
	X(USERS_SET_GROUPS, 2,                                                                                 \
	  "WITH d AS (DELETE FROM group_users WHERE user_id = $1::bigint AND NOT (group_uuid = "               \
	  "ANY($2::uuid[]))) INSERT INTO group_users (group_uuid, user_id) SELECT DISTINCT x, "                \
	  "$1::bigint FROM unnest($2::uuid[]) x ON CONFLICT DO NOTHING")                                       \
	X(USERS_SET_ROLES, 2,                                                                                  \
	  "WITH d AS (DELETE FROM role_users WHERE user_id = $1::bigint AND NOT (role_uuid = "                 \
	  "ANY($2::uuid[]))) INSERT INTO role_users (role_uuid, user_id) SELECT DISTINCT x, "                  \
	  "$1::bigint FROM unnest($2::uuid[]) x ON CONFLICT DO NOTHING")                                       \
	X(USERS_DELETE, 1, "DELETE FROM users WHERE id = $1::bigint RETURNING username")                       \
	X(USERS_SET_PASSWORD, 2,                                                                               \
	  "UPDATE users SET password = $2, password_change_date = now(), last_updated = now() "                \
	  "WHERE id = $1::bigint")                                                                             \
	X(USERS_PATHS, 3,                                                                                      \
	  "SELECT coalesce(json_agg(p ORDER BY p), '[]')::text FROM (SELECT DISTINCT u.path AS p "             \
	  "FROM users u WHERE ($2::boolean OR u.id::text IN (SELECT user_perm_objects($1::bigint, "            \
	  "'authentik_core.view_user'))) AND ($3::text IS NULL OR (u.username || ' ' || u.name || "            \
	  "' ' || u.email) ILIKE $3)) s")                                                                      \
	/* Groups, roles and superuser status once each (CTEs), not once per field. */                         \
	X(USERS_ME, 1,                                                                                         \
	  "WITH ag AS MATERIALIZED (SELECT user_all_groups($1::bigint) AS uuid), "                             \
	  "ar AS MATERIALIZED (SELECT role_uuid AS uuid FROM role_users WHERE user_id = "                      \
	  "$1::bigint UNION SELECT role_uuid FROM role_groups WHERE group_uuid IN (SELECT uuid "               \
	  "FROM ag)), su AS MATERIALIZED (SELECT EXISTS (SELECT 1 FROM groups WHERE is_superuser "             \
	  "AND uuid IN (SELECT uuid FROM ag)) AS v) "                                                          \
	  "SELECT json_build_object('pk', u.id, 'username', u.username, 'name', u.name, "                      \
	  "'is_active', u.is_active, 'is_superuser', (SELECT v FROM su), 'groups', (SELECT "                   \
	  "coalesce(json_agg(json_build_object('name', g.name, 'pk', g.uuid) ORDER BY g.name), "               \
	  "'[]') FROM groups g WHERE g.uuid IN (SELECT uuid FROM ag)), 'roles', (SELECT "                      \
	  "coalesce(json_agg(json_build_object('name', r.name, 'pk', r.uuid) ORDER BY r.name), "               \
	  "'[]') FROM roles r WHERE r.uuid IN (SELECT uuid FROM ar)), 'email', u.email, "                      \
	  "'avatar', u.avatar, 'uid', " CU_SQL_USER_UID(                                                       \
	      "u.id") ", 'settings', coalesce((SELECT "                                                        \
	              "jsonb_object_agg(s.key, s.value ORDER BY s.o, s.name) FROM (SELECT e.key, e.value, 0 "  \
	              "AS o, g.name FROM groups g, jsonb_each(CASE WHEN jsonb_typeof(g.attributes -> "         \
	              "'settings') = 'object' THEN g.attributes -> 'settings' ELSE '{}' END) e WHERE g.uuid "  \
	              "IN (SELECT uuid FROM ag) UNION ALL SELECT e.key, e.value, 1, '' FROM jsonb_each(CASE "  \
	              "WHEN jsonb_typeof(u.attributes -> 'settings') = 'object' THEN u.attributes -> "         \
	              "'settings' ELSE '{}' END) e) s), '{}'), 'type', u.type, 'system_permissions', (SELECT " \
	              "coalesce(json_agg(p.codename ORDER BY p.codename), '[]') FROM permissions p WHERE "     \
	              "p.app_label = 'authentik_rbac' AND ((SELECT v FROM su) OR EXISTS (SELECT 1 FROM "       \
	              "role_permissions rp WHERE rp.permission_id = p.id AND rp.object_pk = '' AND "           \
	              "rp.role_uuid IN (SELECT uuid FROM ar)))))::text FROM users u WHERE u.id = $1::bigint")  \
	X(USERS_SA_INSERT, 2,                                                                                  \
	  "INSERT INTO users (username, name, type, path, attributes, password) VALUES ($1, $1, "              \
	  "'service_account', 'goauthentik.io/service-accounts', jsonb_build_object("                          \
	  "'goauthentik.io/user/token-expires', $2::boolean), '') RETURNING id, " CU_SQL_USER_UID(             \
	      "id"))                                                                                           \
	X(USERS_SA_GROUP, 2,                                                                                   \
	  "WITH g AS (INSERT INTO groups (name) VALUES ($1) RETURNING uuid) INSERT INTO "                      \
	  "group_users (group_uuid, user_id) SELECT uuid, $2::bigint FROM g RETURNING "                        \
	  "group_uuid::text")                                                                                  \
	X(USERS_SA_GROUP_TAKEN, 1, "SELECT 1 FROM groups WHERE name = $1")                                     \
	X(USERS_SA_TOKEN, 6,                                                                                   \
	  "INSERT INTO tokens (identifier, key, key_digest, intent, user_id, expiring, expires) "              \
	  "VALUES ($1, $2, $3, 'app_password', $4::bigint, $5::boolean, coalesce($6::timestamptz, "            \
	  "now() + interval '360 days')) RETURNING uuid::text")                                                \
	X(USERS_TOKEN_TAKEN, 1, "SELECT 1 FROM tokens WHERE identifier = $1")                                  \
	/* recovery/ and recovery_email/: the user the link is for, the email stage ($1) whose                 \
	 * subject and template the mail takes, and the slug of the recovery flow of the brand of              \
	 * host $1 */                                                                                          \
	X(USERS_MAIL_TARGET, 1, "SELECT username, name, email FROM users WHERE id = $1::bigint")               \
	X(USERS_EMAIL_STAGE, 1,                                                                                \
	  "SELECT coalesce(config ->> 'subject', ''), coalesce(config ->> 'template', '') FROM stages "        \
	  "WHERE stage_uuid = $1::uuid AND type = 'emailstage'")                                               \
	X(USERS_RECOVERY_FLOW, 1, "SELECT slug FROM flows WHERE flow_uuid = " STAGES_AUTH_BRAND)

#endif
