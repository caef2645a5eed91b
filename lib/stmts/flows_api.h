/* Statements of lib/api/flows.c and lib/api/authenticated_sessions.c: X(NAME, nparams, "SQL")
 * entries. */
#ifndef CU_STMTS_FLOWS_API_H
#define CU_STMTS_FLOWS_API_H

/*
 * Flow of the row aliased f. background_url is the background or authentik's default picture;
 * custos keeps no plan cache per flow (a plan lives with its session), so cache_count is 0;
 * stages and policies are what the flow's bindings name, in binding order.
 */
#define CU_SQL_FLOW                                                                                \
	"json_build_object('pk', f.flow_uuid, 'policybindingmodel_ptr_id', f.flow_uuid, 'name', "  \
	"f.name, 'slug', f.slug, 'title', f.title, 'designation', f.designation, 'background', "   \
	"f.background, 'background_url', CASE WHEN f.background = '' THEN "                        \
	"'/static/dist/assets/images/flow_background.jpg' ELSE f.background END, "                 \
	"'background_themed_urls', NULL::json, 'stages', (SELECT coalesce(json_agg(b.stage "       \
	"ORDER BY b.\"order\", b.fsb_uuid), '[]') FROM flow_stage_bindings b WHERE b.target = "    \
	"f.flow_uuid), 'policies', (SELECT coalesce(json_agg(pb.policy ORDER BY pb.\"order\", "    \
	"pb.policy_binding_uuid), '[]') FROM policy_bindings pb WHERE pb.target = f.flow_uuid "    \
	"AND pb.policy IS NOT NULL), 'cache_count', 0, 'policy_engine_mode', "                     \
	"f.policy_engine_mode, 'compatibility_mode', f.compatibility_mode, 'export_url', "         \
	"'/api/v3/flows/instances/' || f.slug || '/export/', 'layout', f.layout, "                 \
	"'denied_action', f.denied_action, 'authentication', f.authentication)::text"

/* authentik's FlowSetSerializer of the row aliased fs (a stage's flow_set). */
#define FLOWS_API_FLOW_SET                                                                         \
	"json_build_object('pk', fs.flow_uuid, 'policybindingmodel_ptr_id', fs.flow_uuid, "        \
	"'name', fs.name, 'slug', fs.slug, 'title', fs.title, 'designation', fs.designation, "     \
	"'background_url', CASE WHEN fs.background = '' THEN "                                     \
	"'/static/dist/assets/images/flow_background.jpg' ELSE fs.background END, "                \
	"'policy_engine_mode', fs.policy_engine_mode, 'compatibility_mode', "                      \
	"fs.compatibility_mode, 'export_url', '/api/v3/flows/instances/' || fs.slug || "           \
	"'/export/', 'layout', fs.layout, 'denied_action', fs.denied_action)"

/* Each stage kind's form component, verbose name and app label, as authentik names them. */
#define FLOWS_API_STAGE_KINDS                                                                      \
	"(VALUES ('identificationstage', 'ak-stage-identification-form', 'Identification "         \
	"Stage', 'authentik_stages_identification'), ('passwordstage', "                           \
	"'ak-stage-password-form', 'Password Stage', 'authentik_stages_password'), "               \
	"('userloginstage', 'ak-stage-user-login-form', 'User Login Stage', "                      \
	"'authentik_stages_user_login'), ('userlogoutstage', 'ak-stage-user-logout-form', "        \
	"'User Logout Stage', 'authentik_stages_user_logout'), ('denystage', "                     \
	"'ak-stage-deny-form', 'Deny Stage', 'authentik_stages_deny'), ('dummystage', "            \
	"'ak-stage-dummy-form', 'Dummy Stage', 'authentik_stages_dummy'), ('redirectstage', "      \
	"'ak-stage-redirect-form', 'Redirect Stage', 'authentik_stages_redirect'), "               \
	"('consentstage', 'ak-stage-consent-form', 'Consent Stage', "                              \
	"'authentik_stages_consent'), ('promptstage', 'ak-stage-prompt-form', 'Prompt Stage', "    \
	"'authentik_stages_prompt'), ('userwritestage', 'ak-stage-user-write-form', "              \
	"'User Write Stage', 'authentik_stages_user_write'), ('invitationstage', "                 \
	"'ak-stage-invitation-form', 'Invitation Stage', 'authentik_stages_invitation'), "         \
	"('emailstage', 'ak-stage-email-form', 'Email Stage', 'authentik_stages_email')) "         \
	"AS k (type, component, verbose_name, app)"

/* authentik's StageSerializer of the stage a binding aliased fsb names. */
#define FLOWS_API_STAGE_OBJ                                                                        \
	"(SELECT json_build_object('pk', st.stage_uuid, 'name', st.name, 'component', "            \
	"coalesce(k.component, ''), 'verbose_name', coalesce(k.verbose_name, st.type), "           \
	"'verbose_name_plural', coalesce(k.verbose_name, st.type) || 's', 'meta_model_name', "     \
	"coalesce(k.app, 'authentik_flows') || '.' || st.type, 'flow_set', (SELECT "               \
	"coalesce(json_agg(" FLOWS_API_FLOW_SET " ORDER BY fs.slug), '[]') FROM flows fs WHERE "   \
	"fs.flow_uuid IN (SELECT x.target FROM flow_stage_bindings x WHERE x.stage = "             \
	"st.stage_uuid))) FROM stages st LEFT JOIN " FLOWS_API_STAGE_KINDS " ON k.type = st.type " \
	"WHERE st.stage_uuid = fsb.stage)"

/* FlowStageBinding of the row aliased fsb. */
#define CU_SQL_FLOW_BINDING                                                                        \
	"json_build_object('pk', fsb.fsb_uuid, 'policybindingmodel_ptr_id', fsb.fsb_uuid, "        \
	"'target', fsb.target, 'stage', fsb.stage, 'stage_obj', " FLOWS_API_STAGE_OBJ ", "         \
	"'evaluate_on_plan', fsb.evaluate_on_plan, 're_evaluate_policies', "                       \
	"fsb.re_evaluate_policies, 'order', fsb.\"order\", 'policy_engine_mode', "                 \
	"fsb.policy_engine_mode, 'invalid_response_action', fsb.invalid_response_action)::text"

/* The writable fields of a flow, as a write reads them back and an audit diff compares them. */
#define FLOWS_API_FLOW_SNAPSHOT                                                                    \
	"json_build_object('name', f.name, 'slug', f.slug, 'title', f.title, 'designation', "      \
	"f.designation, 'background', f.background, 'policy_engine_mode', f.policy_engine_mode, "  \
	"'compatibility_mode', f.compatibility_mode, 'layout', f.layout, 'denied_action', "        \
	"f.denied_action, 'authentication', f.authentication)::text"

/* Columns: 0 Flow, 1 uuid, 2 snapshot, 3 name, 4 slug. */
#define FLOWS_API_SELECT                                                                           \
	"SELECT " CU_SQL_FLOW ", f.flow_uuid, " FLOWS_API_FLOW_SNAPSHOT ", f.name, f.slug FROM "   \
	"flows f"

/* The columns a flow write sets, $2 .. $11. */
#define FLOWS_API_COLUMNS                                                                          \
	"name, slug, title, designation, background, policy_engine_mode, compatibility_mode, "     \
	"layout, denied_action, authentication"
#define FLOWS_API_VALUES "$2, $3, $4, $5, $6, $7, $8::boolean, $9, $10, $11"

#define FLOWS_API_BINDING_SNAPSHOT                                                                 \
	"json_build_object('target', fsb.target, 'stage', fsb.stage, 'evaluate_on_plan', "         \
	"fsb.evaluate_on_plan, 're_evaluate_policies', fsb.re_evaluate_policies, 'order', "        \
	"fsb.\"order\", 'policy_engine_mode', fsb.policy_engine_mode, 'invalid_response_action', " \
	"fsb.invalid_response_action)::text"

/* Columns: 0 FlowStageBinding, 1 uuid, 2 snapshot, 3 order, 4 target. */
#define FLOWS_API_BINDING_SELECT                                                                   \
	"SELECT " CU_SQL_FLOW_BINDING ", fsb.fsb_uuid, " FLOWS_API_BINDING_SNAPSHOT ", "           \
	"fsb.\"order\", fsb.target FROM flow_stage_bindings fsb"

/* The columns a binding write sets, $2 .. $8. */
#define FLOWS_API_BINDING_COLUMNS                                                                  \
	"target, stage, \"order\", evaluate_on_plan, re_evaluate_policies, policy_engine_mode, "   \
	"invalid_response_action"
#define FLOWS_API_BINDING_VALUES "$2::uuid, $3::uuid, $4::integer, $5::boolean, $6::boolean, $7, $8"

/*
 * AuthenticatedSession of the row aliased s (a logged-in session). current and user_agent are
 * filled in by lib/api/authenticated_sessions.c, which knows the request's session and parses the
 * agent.
 */
#define CU_SQL_AUTHENTICATED_SESSION                                                               \
	"json_build_object('uuid', s.uuid, 'current', false, 'user_agent', NULL::json, "           \
	"'geo_ip', NULL::json, 'asn', NULL::json, 'user', s.user_id, 'last_ip', "                  \
	"host(s.last_ip), 'last_user_agent', s.last_user_agent, 'last_used', s.last_used, "        \
	"'expires', s.expires)::text"

/* Columns: 0 AuthenticatedSession, 1 uuid, 2 user id, 3 username. */
#define SESSIONS_API_SELECT                                                                        \
	"SELECT " CU_SQL_AUTHENTICATED_SESSION ", s.uuid, s.user_id, u.username FROM sessions s "  \
	"JOIN users u ON u.id = s.user_id WHERE s.expires > now()"

#define CU_DB_STMTS_FLOWS_API(X)                                                                   \
	X(FLOWS_API_GET, 1, FLOWS_API_SELECT " WHERE f.slug = $1")                                 \
	X(FLOWS_API_LOCK, 1, FLOWS_API_SELECT " WHERE f.slug = $1 FOR UPDATE")                     \
	X(FLOWS_API_GET_UUID, 1, FLOWS_API_SELECT " WHERE f.flow_uuid = $1::uuid")                 \
	X(FLOWS_API_INSERT, 11,                                                                    \
	  "INSERT INTO flows (flow_uuid, " FLOWS_API_COLUMNS ") VALUES (coalesce($1::uuid, "       \
	  "gen_random_uuid()), " FLOWS_API_VALUES ") RETURNING flow_uuid")                         \
	X(FLOWS_API_UPDATE, 11,                                                                    \
	  "UPDATE flows SET (" FLOWS_API_COLUMNS ") = (" FLOWS_API_VALUES ") WHERE flow_uuid = "   \
	  "$1::uuid")                                                                              \
	X(FLOWS_API_DELETE, 1, "DELETE FROM flows WHERE flow_uuid = $1::uuid")                     \
	X(FLOWS_API_BINDING_GET, 1, FLOWS_API_BINDING_SELECT " WHERE fsb.fsb_uuid = $1::uuid")     \
	X(FLOWS_API_BINDING_LOCK, 1,                                                               \
	  FLOWS_API_BINDING_SELECT " WHERE fsb.fsb_uuid = $1::uuid FOR UPDATE")                    \
	X(FLOWS_API_BINDING_INSERT, 8,                                                             \
	  "INSERT INTO flow_stage_bindings (fsb_uuid, " FLOWS_API_BINDING_COLUMNS ") VALUES "      \
	  "(coalesce($1::uuid, gen_random_uuid()), " FLOWS_API_BINDING_VALUES ") RETURNING "       \
	  "fsb_uuid")                                                                              \
	X(FLOWS_API_BINDING_UPDATE, 8,                                                             \
	  "UPDATE flow_stage_bindings SET (" FLOWS_API_BINDING_COLUMNS                             \
	  ") = (" FLOWS_API_BINDING_VALUES ") WHERE fsb_uuid = $1::uuid")                          \
	X(FLOWS_API_BINDING_DELETE, 1,                                                             \
	  "DELETE FROM flow_stage_bindings WHERE fsb_uuid = $1::uuid")                             \
	X(FLOWS_API_MISSING_FLOW, 1,                                                               \
	  "SELECT x::text FROM unnest($1::uuid[]) WITH ORDINALITY AS t(x, n) WHERE NOT EXISTS "    \
	  "(SELECT 1 FROM flows WHERE flow_uuid = x) ORDER BY n LIMIT 1")                          \
	X(FLOWS_API_MISSING_STAGE, 1,                                                              \
	  "SELECT x::text FROM unnest($1::uuid[]) WITH ORDINALITY AS t(x, n) WHERE NOT EXISTS "    \
	  "(SELECT 1 FROM stages WHERE stage_uuid = x) ORDER BY n LIMIT 1")                        \
	X(SESSIONS_API_GET, 1, SESSIONS_API_SELECT " AND s.uuid = $1::uuid")                       \
	X(SESSIONS_API_LOCK, 1, SESSIONS_API_SELECT " AND s.uuid = $1::uuid FOR UPDATE OF s")      \
	X(SESSIONS_API_CURRENT, 1, "SELECT uuid FROM sessions WHERE session_key = $1")             \
	X(SESSIONS_API_DELETE, 1, "DELETE FROM sessions WHERE uuid = $1::uuid")

#endif
