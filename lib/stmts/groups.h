/* Statements of the groups module: X(NAME, nparams, "SQL") entries, one per line. */
#ifndef CU_STMTS_GROUPS_H
#define CU_STMTS_GROUPS_H

#include "stmts/users.h"

/* RelatedGroup of the row aliased rg. */
#define GROUPS_RELATED                                                                             \
	"json_build_object('pk', rg.uuid, 'name', rg.name, 'is_superuser', rg.is_superuser, "      \
	"'attributes', rg.attributes, 'group_uuid', rg.uuid)"

/* Every ancestor of group g (not g itself). */
#define GROUPS_ANCESTORS                                                                           \
	"(WITH RECURSIVE a(uuid) AS (SELECT parent_uuid FROM group_parents WHERE group_uuid = "    \
	"g.uuid UNION SELECT p.parent_uuid FROM group_parents p JOIN a ON p.group_uuid = a.uuid) " \
	"SELECT uuid FROM a)"

/* Group of the row aliased g; the flags (SQL booleans) include users_obj, children_obj,
 * parents_obj and inherited_roles_obj. The text uses them in the order parents, users,
 * inherited, children (groups.c fills them in with printf in that order). */
#define CU_SQL_GROUP(incl_users, incl_children, incl_parents, incl_inherited)                      \
	"json_build_object('pk', g.uuid, 'num_pk', g.num_pk, 'name', g.name, 'is_superuser', "     \
	"g.is_superuser, 'parents', (SELECT coalesce(json_agg(gp.parent_uuid ORDER BY "            \
	"gp.parent_uuid), '[]') FROM group_parents gp WHERE gp.group_uuid = g.uuid), "             \
	"'parents_obj', CASE WHEN " incl_parents " THEN (SELECT coalesce(json_agg(" GROUPS_RELATED \
	" ORDER BY rg.name), '[]') FROM group_parents gp JOIN groups rg ON rg.uuid = "             \
	"gp.parent_uuid WHERE gp.group_uuid = g.uuid) END, 'users', (SELECT coalesce(json_agg("    \
	"gu.user_id ORDER BY gu.user_id), '[]') FROM group_users gu WHERE gu.group_uuid = "        \
	"g.uuid), 'users_obj', CASE WHEN " incl_users                                              \
	" THEN (SELECT coalesce(json_agg(" CU_SQL_PARTIAL_USER                                     \
	" ORDER BY pu.id), '[]') FROM group_users gu JOIN users pu ON pu.id "                      \
	"= gu.user_id WHERE gu.group_uuid = g.uuid) END, 'attributes', g.attributes, 'roles', "    \
	"(SELECT coalesce(json_agg(rgr.role_uuid ORDER BY rgr.role_uuid), '[]') FROM role_groups " \
	"rgr WHERE rgr.group_uuid = g.uuid), 'roles_obj', (SELECT coalesce(json_agg("              \
	"json_build_object('pk', r.uuid, 'name', r.name) ORDER BY r.name), '[]') FROM "            \
	"role_groups rgr JOIN roles r ON r.uuid = rgr.role_uuid WHERE rgr.group_uuid = g.uuid), "  \
	"'inherited_roles_obj', CASE WHEN " incl_inherited " THEN (SELECT coalesce(json_agg("      \
	"json_build_object('pk', r.uuid, 'name', r.name) ORDER BY r.name), '[]') FROM roles r "    \
	"WHERE r.uuid IN (SELECT role_uuid FROM role_groups WHERE group_uuid IN " GROUPS_ANCESTORS \
	") AND r.uuid NOT IN (SELECT role_uuid FROM role_groups WHERE "                            \
	"group_uuid = g.uuid)) END, 'children', (SELECT coalesce(json_agg(gc.group_uuid ORDER BY " \
	"gc.group_uuid), '[]') FROM group_parents gc WHERE gc.parent_uuid = g.uuid), "             \
	"'children_obj', CASE WHEN " incl_children                                                 \
	" THEN (SELECT coalesce(json_agg(" GROUPS_RELATED                                          \
	" ORDER BY rg.name), '[]') FROM group_parents gc JOIN groups rg ON "                       \
	"rg.uuid = gc.group_uuid WHERE gc.parent_uuid = g.uuid) END)::text"

#define GROUPS_SNAPSHOT                                                                            \
	"SELECT json_build_object('name', g.name, 'is_superuser', g.is_superuser, 'attributes', "  \
	"g.attributes, 'parents', (SELECT coalesce(json_agg(gp.parent_uuid ORDER BY "              \
	"gp.parent_uuid), '[]') FROM group_parents gp WHERE gp.group_uuid = g.uuid), 'users', "    \
	"(SELECT coalesce(json_agg(gu.user_id ORDER BY gu.user_id), '[]') FROM group_users gu "    \
	"WHERE gu.group_uuid = g.uuid), 'roles', (SELECT coalesce(json_agg(rgr.role_uuid ORDER "   \
	"BY rgr.role_uuid), '[]') FROM role_groups rgr WHERE rgr.group_uuid = g.uuid))::text, "    \
	"g.name, g.is_superuser FROM groups g WHERE g.uuid = $1::uuid"

#define CU_DB_STMTS_GROUPS(X)                                                                      \
	X(GROUPS_GET, 5,                                                                           \
	  "SELECT " CU_SQL_GROUP("$2::boolean", "$3::boolean", "$4::boolean",                      \
	                         "$5::boolean") " FROM groups g WHERE g.uuid = $1::uuid")          \
	X(GROUPS_LOCK, 1, GROUPS_SNAPSHOT " FOR UPDATE")                                           \
	X(GROUPS_SNAPSHOT, 1, GROUPS_SNAPSHOT)                                                     \
	X(GROUPS_NAME_TAKEN, 2,                                                                    \
	  "SELECT 1 FROM groups WHERE name = $1 AND uuid IS DISTINCT FROM $2::uuid")               \
	X(GROUPS_MISSING_USER, 1,                                                                  \
	  "SELECT x::text FROM unnest($1::bigint[]) WITH ORDINALITY AS t(x, n) WHERE NOT EXISTS "  \
	  "(SELECT 1 FROM users WHERE id = x) ORDER BY n LIMIT 1")                                 \
	/* A parent that is the group itself or one of its descendants would close a cycle. */     \
	X(GROUPS_CYCLE, 2,                                                                         \
	  "WITH RECURSIVE up(uuid) AS (SELECT unnest($2::uuid[]) UNION SELECT p.parent_uuid FROM " \
	  "group_parents p JOIN up ON p.group_uuid = up.uuid) SELECT 1 FROM up WHERE uuid = "      \
	  "$1::uuid LIMIT 1")                                                                      \
	X(GROUPS_INSERT, 3,                                                                        \
	  "INSERT INTO groups (name, is_superuser, attributes) VALUES ($1, coalesce($2::boolean, " \
	  "false), coalesce($3::jsonb, '{}')) RETURNING uuid::text")                               \
	X(GROUPS_UPDATE, 4,                                                                        \
	  "UPDATE groups SET name = coalesce($2, name), is_superuser = coalesce($3::boolean, "     \
	  "is_superuser), attributes = coalesce($4::jsonb, attributes) WHERE uuid = $1::uuid")     \
	X(GROUPS_SET_PARENTS, 2,                                                                   \
	  "WITH d AS (DELETE FROM group_parents WHERE group_uuid = $1::uuid AND NOT (parent_uuid " \
	  "= ANY($2::uuid[]))) INSERT INTO group_parents (group_uuid, parent_uuid) SELECT "        \
	  "DISTINCT $1::uuid, x FROM unnest($2::uuid[]) x ON CONFLICT DO NOTHING")                 \
	X(GROUPS_SET_USERS, 2,                                                                     \
	  "WITH d AS (DELETE FROM group_users WHERE group_uuid = $1::uuid AND NOT (user_id = "     \
	  "ANY($2::bigint[]))) INSERT INTO group_users (group_uuid, user_id) SELECT DISTINCT "     \
	  "$1::uuid, x FROM unnest($2::bigint[]) x ON CONFLICT DO NOTHING")                        \
	X(GROUPS_SET_ROLES, 2,                                                                     \
	  "WITH d AS (DELETE FROM role_groups WHERE group_uuid = $1::uuid AND NOT (role_uuid = "   \
	  "ANY($2::uuid[]))) INSERT INTO role_groups (role_uuid, group_uuid) SELECT DISTINCT x, "  \
	  "$1::uuid FROM unnest($2::uuid[]) x ON CONFLICT DO NOTHING")                             \
	X(GROUPS_DELETE, 1, "DELETE FROM groups WHERE uuid = $1::uuid RETURNING name")             \
	X(GROUPS_NAME, 1, "SELECT name FROM groups WHERE uuid = $1::uuid")                         \
	/* The user when the requester ($2) may view it, as authentik looks it up. */              \
	X(GROUPS_VISIBLE_USER, 2,                                                                  \
	  "SELECT 1 FROM users WHERE id = $1::bigint AND user_has_perm($2::bigint, "               \
	  "'authentik_core.view_user', id::text)")                                                 \
	X(GROUPS_ADD_USER, 2,                                                                      \
	  "INSERT INTO group_users (group_uuid, user_id) VALUES ($1::uuid, $2::bigint) ON "        \
	  "CONFLICT DO NOTHING")                                                                   \
	X(GROUPS_REMOVE_USER, 2,                                                                   \
	  "DELETE FROM group_users WHERE group_uuid = $1::uuid AND user_id = $2::bigint")

#endif
