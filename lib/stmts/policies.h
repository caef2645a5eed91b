/* Statements of the policies module: X(NAME, nparams, "SQL") entries, one per line. */
#ifndef CU_STMTS_POLICIES_H
#define CU_STMTS_POLICIES_H

#include "stmts/users.h"

/*
 * A policy of the row aliased p, with em its event_matcher_policies row (LEFT JOINed), as
 * authentik serialises every policy: by its own kind's serializer, so all/ and policy_obj carry
 * the kind's fields too. Event matcher is the only kind so far.
 */
#define CU_SQL_POLICY                                                                              \
	"json_build_object('pk', p.policy_uuid, 'name', p.name, 'execution_logging', "             \
	"p.execution_logging, 'component', CASE p.type WHEN 'eventmatcherpolicy' THEN "            \
	"'ak-policy-event-matcher-form' ELSE '' END, 'verbose_name', CASE p.type WHEN "            \
	"'eventmatcherpolicy' THEN 'Event Matcher Policy' ELSE 'Policy' END, "                     \
	"'verbose_name_plural', CASE p.type WHEN 'eventmatcherpolicy' THEN 'Event Matcher "        \
	"Policies' ELSE 'Policies' END, 'meta_model_name', CASE p.type WHEN "                      \
	"'eventmatcherpolicy' THEN 'authentik_policies_event_matcher.eventmatcherpolicy' ELSE "    \
	"'authentik_policies.policy' END, 'bound_to', (SELECT count(*) FROM policy_bindings pb "   \
	"WHERE pb.policy = p.policy_uuid), 'action', em.action, 'client_ip', em.client_ip, "       \
	"'app', em.app, 'model', em.model)"

#define CU_SQL_POLICY_FROM                                                                         \
	"FROM policies p LEFT JOIN event_matcher_policies em ON em.policy_uuid = p.policy_uuid"

/* The writable fields, as an audit diff compares them. */
#define POLICIES_SNAPSHOT                                                                          \
	"json_build_object('name', p.name, 'execution_logging', p.execution_logging, 'action', "   \
	"em.action, 'client_ip', em.client_ip, 'app', em.app, 'model', em.model)::text"

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
