/* Statements of the policies module: X(NAME, nparams, "SQL") entries, one per line. */
#ifndef CU_STMTS_POLICIES_H
#define CU_STMTS_POLICIES_H

#include "stmts/users.h"

/*
 * A policy of the row aliased p as authentik serialises every policy: by its own kind's
 * serializer, so all/ and policy_obj carry the kind's fields too (policy_fields and
 * policy_kind_meta, sql/0051_policy_kinds.sql).
 */
#define CU_SQL_POLICY                                                                              \
	"(jsonb_build_object('pk', p.policy_uuid, 'name', p.name, 'execution_logging', "           \
	"p.execution_logging, 'bound_to', (SELECT count(*) FROM policy_bindings pb WHERE "         \
	"pb.policy = p.policy_uuid)) || policy_kind_meta(p.type) || policy_fields(p.policy_uuid, " \
	"p.type))"

#define CU_SQL_POLICY_FROM                                                                         \
	"FROM policies p LEFT JOIN event_matcher_policies em ON em.policy_uuid = p.policy_uuid"

/* The writable fields, as an audit diff compares them. */
#define POLICIES_SNAPSHOT                                                                          \
	"(jsonb_build_object('name', p.name, 'execution_logging', p.execution_logging) || "        \
	"policy_fields(p.policy_uuid, p.type))::text"

/* Columns: 0 policy, 1 uuid, 2 snapshot, 3 name, 4 type. */
#define POLICIES_SELECT                                                                            \
	"SELECT " CU_SQL_POLICY "::text, p.policy_uuid, " POLICIES_SNAPSHOT                        \
	", p.name, p.type " CU_SQL_POLICY_FROM

/* PolicyBinding of the row aliased b, with policy_obj, group_obj (PartialGroup) and user_obj
 * (PartialUser) nested. */
#define CU_SQL_BINDING                                                                             \
	"json_build_object('pk', b.policy_binding_uuid, 'policy', b.policy, 'group', "             \
	"b.group_uuid, 'user', b.user_id, 'policy_obj', (SELECT " CU_SQL_POLICY                    \
	" " CU_SQL_POLICY_FROM " WHERE p.policy_uuid = b.policy), 'group_obj', (SELECT "           \
	"json_build_object('pk', g.uuid, 'num_pk', g.num_pk, 'name', g.name, 'is_superuser', "     \
	"g.is_superuser, 'attributes', g.attributes) FROM groups g WHERE g.uuid = b.group_uuid), " \
	"'user_obj', (SELECT " CU_SQL_PARTIAL_USER " FROM users pu WHERE pu.id = b.user_id), "     \
	"'target', b.target, 'negate', b.negate, 'enabled', b.enabled, 'order', b.\"order\", "     \
	"'timeout', b.timeout, 'failure_result', b.failure_result)::text"

#define BINDINGS_SNAPSHOT                                                                          \
	"json_build_object('policy', b.policy, 'group', b.group_uuid, 'user', b.user_id, "         \
	"'target', b.target, 'negate', b.negate, 'enabled', b.enabled, 'order', b.\"order\", "     \
	"'timeout', b.timeout, 'failure_result', b.failure_result)::text"

/* What the binding binds, as authentik's PolicyBinding names itself in events. */
#define BINDINGS_NAME                                                                              \
	"'Binding from ' || b.target || ' #' || b.\"order\" || ' to ' || coalesce((SELECT "        \
	"'policy ' || name FROM policies WHERE policy_uuid = b.policy), (SELECT 'group ' || name " \
	"FROM groups WHERE uuid = b.group_uuid), (SELECT 'user ' || username FROM users WHERE id " \
	"= b.user_id), '')"

/* Columns: 0 binding, 1 uuid, 2 snapshot, 3 name. */
#define BINDINGS_SELECT                                                                            \
	"SELECT " CU_SQL_BINDING ", b.policy_binding_uuid, " BINDINGS_SNAPSHOT ", " BINDINGS_NAME  \
	" FROM policy_bindings b"

/* A kind's insert ($1 name, $2 execution_logging, $3 the kind's fields as JSON, every one
 * given) and update ($1 pk, then the same). */
#define KIND_INSERT(type, table)                                                                    \
	"WITH p AS (INSERT INTO policies (name, execution_logging, type) VALUES ($1, $2::boolean, " \
	"'" type "') RETURNING policy_uuid) INSERT INTO " table " SELECT (jsonb_populate_record("   \
	"NULL::" table ", $3::jsonb || jsonb_build_object('policy_uuid', p.policy_uuid))).* FROM "  \
	"p RETURNING policy_uuid"
#define KIND_UPDATE(table, sets)                                                                   \
	"WITH p AS (UPDATE policies SET name = $2, execution_logging = $3::boolean, last_updated " \
	"= now() WHERE policy_uuid = $1::uuid RETURNING policy_uuid) UPDATE " table " k SET " sets \
	" FROM p, jsonb_populate_record(NULL::" table ", $4::jsonb) r WHERE k.policy_uuid = "      \
	"p.policy_uuid"

#define PASSWORD_SETS                                                                              \
	"password_field = r.password_field, amount_digits = r.amount_digits, amount_uppercase = "  \
	"r.amount_uppercase, amount_lowercase = r.amount_lowercase, amount_symbols = "             \
	"r.amount_symbols, length_min = r.length_min, symbol_charset = r.symbol_charset, "         \
	"error_message = r.error_message, check_static_rules = r.check_static_rules, "             \
	"check_have_i_been_pwned = r.check_have_i_been_pwned, hibp_allowed_count = "               \
	"r.hibp_allowed_count, check_zxcvbn = r.check_zxcvbn, zxcvbn_score_threshold = "           \
	"r.zxcvbn_score_threshold"
#define REPUTATION_SETS                                                                            \
	"check_ip = r.check_ip, check_username = r.check_username, threshold = r.threshold"
#define UNIQUE_SETS                                                                                \
	"password_field = r.password_field, num_historical_passwords = r.num_historical_passwords"

#define CU_DB_STMTS_POLICIES(X)                                                                    \
	X(POLICIES_GET, 1, POLICIES_SELECT " WHERE p.policy_uuid = $1::uuid")                      \
	X(POLICIES_LOCK, 1, POLICIES_SELECT " WHERE p.policy_uuid = $1::uuid FOR UPDATE OF p")     \
	X(POLICIES_EM_GET, 1,                                                                      \
	  POLICIES_SELECT " WHERE p.policy_uuid = $1::uuid AND p.type = 'eventmatcherpolicy'")     \
	X(POLICIES_EM_LOCK, 1,                                                                     \
	  POLICIES_SELECT " WHERE p.policy_uuid = $1::uuid AND p.type = 'eventmatcherpolicy' FOR " \
	                  "UPDATE OF p")                                                           \
	X(POLICIES_EM_INSERT, 6,                                                                   \
	  "WITH p AS (INSERT INTO policies (name, execution_logging, type) VALUES ($1, "           \
	  "$2::boolean, 'eventmatcherpolicy') RETURNING policy_uuid) INSERT INTO "                 \
	  "event_matcher_policies (policy_uuid, action, client_ip, app, model) SELECT "            \
	  "p.policy_uuid, $3, $4, $5, $6 FROM p RETURNING policy_uuid")                            \
	X(POLICIES_EM_UPDATE, 7,                                                                   \
	  "WITH p AS (UPDATE policies SET name = $2, execution_logging = $3::boolean, "            \
	  "last_updated = now() WHERE policy_uuid = $1::uuid RETURNING policy_uuid) UPDATE "       \
	  "event_matcher_policies em SET action = $4, client_ip = $5, app = $6, model = $7 FROM "  \
	  "p WHERE em.policy_uuid = p.policy_uuid")                                                \
	X(POLICIES_KIND_GET, 2, POLICIES_SELECT " WHERE p.policy_uuid = $1::uuid AND p.type = $2") \
	X(POLICIES_KIND_LOCK, 2,                                                                   \
	  POLICIES_SELECT " WHERE p.policy_uuid = $1::uuid AND p.type = $2 FOR UPDATE OF p")       \
	X(POLICIES_EXPR_INSERT, 3, KIND_INSERT("expressionpolicy", "expression_policies"))         \
	X(POLICIES_EXPR_UPDATE, 4,                                                                 \
	  KIND_UPDATE("expression_policies", "expression = r.expression"))                         \
	X(POLICIES_PASSWORD_INSERT, 3, KIND_INSERT("passwordpolicy", "password_policies"))         \
	X(POLICIES_PASSWORD_UPDATE, 4, KIND_UPDATE("password_policies", PASSWORD_SETS))            \
	X(POLICIES_EXPIRY_INSERT, 3,                                                               \
	  KIND_INSERT("passwordexpirypolicy", "password_expiry_policies"))                         \
	X(POLICIES_EXPIRY_UPDATE, 4,                                                               \
	  KIND_UPDATE("password_expiry_policies", "days = r.days, deny_only = r.deny_only"))       \
	X(POLICIES_REPUTATION_INSERT, 3, KIND_INSERT("reputationpolicy", "reputation_policies"))   \
	X(POLICIES_REPUTATION_UPDATE, 4, KIND_UPDATE("reputation_policies", REPUTATION_SETS))      \
	X(POLICIES_UNIQUE_INSERT, 3,                                                               \
	  KIND_INSERT("uniquepasswordpolicy", "unique_password_policies"))                         \
	X(POLICIES_UNIQUE_UPDATE, 4, KIND_UPDATE("unique_password_policies", UNIQUE_SETS))         \
	X(POLICIES_DUMMY_INSERT, 3, KIND_INSERT("dummypolicy", "dummy_policies"))                  \
	X(POLICIES_DUMMY_UPDATE, 4,                                                                \
	  KIND_UPDATE("dummy_policies",                                                            \
	              "result = r.result, wait_min = r.wait_min, wait_max = r.wait_max"))          \
	X(POLICIES_TYPES, 0,                                                                       \
	  "SELECT coalesce(json_agg(json_build_object('name', verbose_name, 'description', "       \
	  "description, 'component', component, 'model_name', type, 'requires_enterprise', "       \
	  "requires_enterprise, 'deprecated', false) ORDER BY verbose_name), '[]')::text FROM "    \
	  "policy_kinds WHERE NOT debug_only")                                                     \
	X(POLICIES_TEST_USER, 2,                                                                   \
	  "SELECT u.id, u.uuid, u.username, u.name, u.email, u.type, u.path, "                     \
	  "user_is_superuser(u.id), user_has_perm($2::bigint, 'authentik_core.view_user', "        \
	  "u.id::text) FROM users u WHERE u.id = $1::bigint")                                      \
	X(POLICIES_DELETE, 1, "DELETE FROM policies WHERE policy_uuid = $1::uuid")                 \
	X(POLICIES_BINDINGS_GET, 1, BINDINGS_SELECT " WHERE b.policy_binding_uuid = $1::uuid")     \
	X(POLICIES_BINDINGS_LOCK, 1,                                                               \
	  BINDINGS_SELECT " WHERE b.policy_binding_uuid = $1::uuid FOR UPDATE OF b")               \
	X(POLICIES_BINDINGS_REFS, 4,                                                               \
	  "SELECT $1::uuid IS NULL OR EXISTS (SELECT 1 FROM policies WHERE policy_uuid = "         \
	  "$1::uuid), $2::uuid IS NULL OR EXISTS (SELECT 1 FROM groups WHERE uuid = $2::uuid), "   \
	  "$3::bigint IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = $3::bigint), EXISTS "      \
	  "(SELECT 1 FROM policy_binding_models WHERE pbm_uuid = $4::uuid)")                       \
	X(POLICIES_BINDINGS_INSERT, 9,                                                             \
	  "INSERT INTO policy_bindings (policy, group_uuid, user_id, target, negate, enabled, "    \
	  "\"order\", timeout, failure_result) VALUES ($1::uuid, $2::uuid, $3::bigint, $4::uuid, " \
	  "$5::boolean, $6::boolean, $7::integer, $8::integer, $9::boolean) RETURNING "            \
	  "policy_binding_uuid")                                                                   \
	X(POLICIES_BINDINGS_UPDATE, 10,                                                            \
	  "UPDATE policy_bindings SET policy = $2::uuid, group_uuid = $3::uuid, user_id = "        \
	  "$4::bigint, target = $5::uuid, negate = $6::boolean, enabled = $7::boolean, \"order\" " \
	  "= $8::integer, timeout = $9::integer, failure_result = $10::boolean WHERE "             \
	  "policy_binding_uuid = $1::uuid")                                                        \
	X(POLICIES_BINDINGS_DELETE, 1,                                                             \
	  "DELETE FROM policy_bindings WHERE policy_binding_uuid = $1::uuid")                      \
	X(POLICIES_EVALUATE, 2,                                                                    \
	  "SELECT b.negate, p.type, em.action, em.app, em.model, em.client_ip, b.user_id, "        \
	  "b.group_uuid IS NOT NULL, coalesce(b.group_uuid IN (SELECT user_all_groups("            \
	  "$2::bigint)), false) FROM policy_bindings b LEFT JOIN policies p ON p.policy_uuid = "   \
	  "b.policy LEFT JOIN event_matcher_policies em ON em.policy_uuid = b.policy WHERE "       \
	  "b.target = $1::uuid AND b.enabled ORDER BY b.\"order\", b.policy_binding_uuid")

#endif
