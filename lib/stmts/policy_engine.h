/* Statements of lib/policies/ (the engine and the policy kinds): X(NAME, nparams, "SQL") entries.
 */
#ifndef CU_STMTS_POLICY_ENGINE_H
#define CU_STMTS_POLICY_ENGINE_H

/* A user as policies see it (the row aliased u): never the password hash. */
#define CU_SQL_POLICY_USER                                                                         \
	"json_build_object('pk', u.id, 'uuid', u.uuid, 'username', u.username, 'name', u.name, "   \
	"'email', u.email, 'is_active', u.is_active, 'is_superuser', user_is_superuser(u.id), "    \
	"'type', u.type, 'path', u.path, 'attributes', u.attributes, 'groups', (SELECT "           \
	"coalesce(json_agg(g.name ORDER BY g.name), '[]') FROM groups g WHERE g.uuid IN (SELECT "  \
	"user_all_groups(u.id))), 'password_change_date', extract(epoch FROM "                     \
	"u.password_change_date), 'last_login', u.last_login)"

/* The policy's kind row as JSON (authentik's field names are the columns'). */
#define PE_CONFIG "policy_fields(p.policy_uuid, p.type)::text"

/* The request user ($2), once per statement (an uncorrelated subquery). */
#define PE_USER "(SELECT " CU_SQL_POLICY_USER " FROM users u WHERE u.id = $2::bigint)::text"

/* A unique password policy's history of the user, newest first, as many as it checks. */
#define PE_HISTORY                                                                                  \
	"(CASE WHEN p.type = 'uniquepasswordpolicy' THEN (SELECT json_agg(h.old_password ORDER "    \
	"BY h.created_at DESC, h.id DESC) FROM (SELECT hh.id, hh.old_password, hh.created_at FROM " \
	"user_password_history hh WHERE hh.user_id = $2::bigint ORDER BY hh.created_at DESC, "      \
	"hh.id DESC LIMIT (SELECT least(k.num_historical_passwords, 100) FROM "                     \
	"unique_password_policies k WHERE k.policy_uuid = p.policy_uuid)) h) END)::text"

/*
 * Columns of both evaluation statements: 0 binding, 1 negate, 2 timeout, 3 failure_result,
 * 4 policy, 5 policy name, 6 type, 7 execution_logging, 8 user binding's user id, 9 group
 * binding, 10 the user is in the group, 11 config, 12 user, 13 history.
 */
#define CU_DB_STMTS_POLICY_ENGINE(X)                                                                \
	X(POLICY_ENGINE_BINDINGS, 2,                                                                \
	  "SELECT b.policy_binding_uuid, b.negate, b.timeout, b.failure_result, p.policy_uuid, "    \
	  "p.name, p.type, p.execution_logging, b.user_id, b.group_uuid IS NOT NULL, "              \
	  "coalesce(b.group_uuid IN (SELECT user_all_groups($2::bigint)), false), " PE_CONFIG       \
	  ", " PE_USER ", " PE_HISTORY " FROM policy_bindings b LEFT JOIN policies p ON "           \
	  "p.policy_uuid = b.policy WHERE b.target = $1::uuid AND b.enabled ORDER BY b.\"order\", " \
	  "b.policy_binding_uuid")                                                                  \
	X(POLICY_ENGINE_LIST, 2,                                                                    \
	  "SELECT NULL::uuid, false, 30, false, p.policy_uuid, p.name, p.type, "                    \
	  "p.execution_logging, NULL::bigint, false, false, " PE_CONFIG ", " PE_USER                \
	  ", " PE_HISTORY " FROM unnest($1::uuid[]) WITH ORDINALITY AS l(id, n) JOIN policies p "   \
	  "ON p.policy_uuid = l.id ORDER BY l.n")                                                   \
	X(POLICY_ENGINE_USER_BY_USERNAME, 1,                                                        \
	  "SELECT " CU_SQL_POLICY_USER "::text FROM users u WHERE u.username = $1")                 \
	X(POLICY_ENGINE_USER_BY_EMAIL, 1,                                                           \
	  "SELECT " CU_SQL_POLICY_USER "::text FROM users u WHERE u.email = $1 ORDER BY u.id "      \
	  "LIMIT 1")                                                                                \
	X(POLICY_ENGINE_USER_BY_PK, 1,                                                              \
	  "SELECT " CU_SQL_POLICY_USER "::text FROM users u WHERE u.id = $1::bigint")               \
	X(POLICY_ENGINE_MEMBER_NAME, 2,                                                             \
	  "SELECT EXISTS (SELECT 1 FROM groups g WHERE g.name = $2 AND g.uuid IN (SELECT "          \
	  "user_all_groups($1::bigint)))")                                                          \
	X(POLICY_ENGINE_MEMBER_PK, 2,                                                               \
	  "SELECT EXISTS (SELECT 1 FROM groups g WHERE g.uuid = $2::uuid AND g.uuid IN (SELECT "    \
	  "user_all_groups($1::bigint)))")                                                          \
	X(POLICY_ENGINE_EXPIRE_PASSWORD, 1,                                                         \
	  "UPDATE users SET password = '!' || password WHERE id = $1::bigint AND password <> '' "   \
	  "AND left(password, 1) <> '!'")

#endif
