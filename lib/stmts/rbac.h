/* Statements of lib/api/rbac.c: roles, permissions and what roles hold. */
#define RBAC_ROLE_ROW_ "json_build_object('pk', r.uuid, 'name', r.name)"
/* authentik's Permission serializer; verbose names fall back as authentik's do. */
#define RBAC_PERM_ROW_                                                                             \
	"json_build_object('id', p.id, 'name', p.name, 'codename', p.codename, "                   \
	"'model', p.model, 'app_label', p.app_label, "                                             \
	"'app_label_verbose', COALESCE((SELECT a.verbose_name FROM permission_apps a "             \
	"WHERE a.app_label = p.app_label), p.app_label || '.' || p.model), "                       \
	"'model_verbose', COALESCE((SELECT m.verbose_name FROM permission_models m "               \
	"WHERE m.app_label = p.app_label AND m.model = p.model), p.app_label || '.' || p.model))"
/* A role with every permission it holds (RoleAssignedObjectPermission). */
#define RBAC_ASSIGNED_ROW_                                                                         \
	"json_build_object('role_pk', r.uuid::text, 'name', r.name, "                              \
	"'object_permissions', COALESCE((SELECT json_agg(json_build_object('id', rp.id, "          \
	"'codename', p.codename, 'model', p.model, 'app_label', p.app_label, "                     \
	"'object_pk', rp.object_pk, 'name', p.name) ORDER BY rp.id) FROM role_permissions rp "     \
	"JOIN permissions p ON p.id = rp.permission_id WHERE rp.role_uuid = r.uuid "               \
	"AND rp.object_pk <> ''), '[]'::json), "                                                   \
	"'model_permissions', COALESCE((SELECT json_agg(json_build_object('id', rp.id, "           \
	"'codename', p.codename, 'model', p.model, 'app_label', p.app_label, 'name', p.name) "     \
	"ORDER BY rp.id) FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id "  \
	"WHERE rp.role_uuid = r.uuid AND rp.object_pk = ''), '[]'::json))"
#define CU_DB_STMTS_RBAC(X)                                                                          \
	X(RBAC_ROLE_GET, 1, "SELECT " RBAC_ROLE_ROW_ " FROM roles r WHERE r.uuid = $1::uuid")        \
	X(RBAC_ROLE_INSERT, 1, "INSERT INTO roles (name) VALUES ($1) RETURNING uuid")                \
	X(RBAC_ROLE_LOCK, 1, "SELECT name, managed FROM roles WHERE uuid = $1::uuid FOR UPDATE")     \
	X(RBAC_ROLE_UPDATE, 2, "UPDATE roles SET name = $2 WHERE uuid = $1::uuid")                   \
	X(RBAC_ROLE_DELETE, 1, "DELETE FROM roles WHERE uuid = $1::uuid")                            \
	/* The user when the asking user ($2) may view it, as authentik looks it up. */              \
	X(RBAC_USER_VISIBLE, 2,                                                                      \
	  "SELECT u.id, u.username FROM users u WHERE u.id = $1::bigint "                            \
	  "AND user_has_perm($2::bigint, 'authentik_core.view_user', u.id::text)")                   \
	X(RBAC_ROLE_ADD_USER, 2,                                                                     \
	  "INSERT INTO role_users (role_uuid, user_id) VALUES ($1::uuid, $2::bigint) "               \
	  "ON CONFLICT DO NOTHING")                                                                  \
	X(RBAC_ROLE_REMOVE_USER, 2,                                                                  \
	  "DELETE FROM role_users WHERE role_uuid = $1::uuid AND user_id = $2::bigint")              \
	X(RBAC_PERM_GET, 1,                                                                          \
	  "SELECT " RBAC_PERM_ROW_ " FROM permissions p WHERE p.id = $1::integer "                   \
	  "AND p.app_label LIKE 'authentik%'")                                                       \
	X(RBAC_MODEL_KNOWN, 2,                                                                       \
	  "SELECT 1 FROM permissions WHERE app_label = $1 AND model = $2 LIMIT 1")                   \
	/* A permission by app label and codename, of model $3 when it is not NULL. */               \
	X(RBAC_PERM_FIND, 3,                                                                         \
	  "SELECT id FROM permissions WHERE app_label = $1 AND codename = $2 "                       \
	  "AND ($3::text IS NULL OR model = $3)")                                                    \
	X(RBAC_ASSIGN, 3,                                                                            \
	  "INSERT INTO role_permissions (role_uuid, permission_id, object_pk) "                      \
	  "VALUES ($1::uuid, $2::integer, $3) ON CONFLICT (role_uuid, permission_id, object_pk) "    \
	  "DO UPDATE SET object_pk = EXCLUDED.object_pk RETURNING id")                               \
	X(RBAC_UNASSIGN, 3,                                                                          \
	  "DELETE FROM role_permissions WHERE role_uuid = $1::uuid AND permission_id = $2::integer " \
	  "AND object_pk = $3")
