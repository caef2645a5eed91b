/* Statements of lib/flows.c and the stages user_login, user_logout, deny, dummy, redirect:
 * X(NAME, nparams, "SQL") entries. */
#ifndef CU_STMTS_FLOWS_H
#define CU_STMTS_FLOWS_H

#include "stmts/sessions.h"

/*
 * The brand a request is for: the one whose domain the host (lower-case, no port, $1) ends
 * with, the longest such, else the default one.
 */
#define CU_FLOWS_BRAND_SQL                                                                         \
	"SELECT * FROM brands WHERE \"default\" OR right($1, length(domain)) = lower(domain) "     \
	"ORDER BY \"default\", length(domain) DESC LIMIT 1"

#define CU_DB_STMTS_FLOWS(X)                                                                       \
	X(FLOWS_BY_SLUG, 2,                                                                        \
	  "SELECT f.flow_uuid, f.slug, f.name, f.title, f.designation, f.authentication, "         \
	  "f.denied_action, f.layout, f.background, f.policy_engine_mode, f.serial, "              \
	  "COALESCE(b.branding_default_flow_background, "                                          \
	  "'/static/dist/assets/images/flow_background.jpg'), "                                    \
	  "EXISTS (SELECT 1 FROM policy_bindings p WHERE p.target = f.flow_uuid AND p.enabled) "   \
	  "FROM flows f LEFT JOIN (" CU_FLOWS_BRAND_SQL ") b ON true WHERE f.slug = $2")           \
	X(FLOWS_BINDINGS, 1,                                                                       \
	  "SELECT b.fsb_uuid, s.stage_uuid, s.name, s.type, s.config, b.evaluate_on_plan, "        \
	  "b.re_evaluate_policies, b.policy_engine_mode, b.invalid_response_action, "              \
	  "EXISTS (SELECT 1 FROM policy_bindings p WHERE p.target = b.fsb_uuid AND p.enabled) "    \
	  "FROM flow_stage_bindings b JOIN stages s ON s.stage_uuid = b.stage "                    \
	  "WHERE b.target = $1 ORDER BY b.\"order\", b.fsb_uuid")                                  \
	X(FLOWS_PLAN_GET, 1,                                                                       \
	  "SELECT flow_plan, flow_plan_rev FROM sessions WHERE session_key = $1")                  \
	X(FLOWS_PLAN_SAVE, 2,                                                                      \
	  "UPDATE sessions SET flow_plan = $2::jsonb, flow_plan_rev = flow_plan_rev + 1, "         \
	  "pending_user_id = " CU_SESSIONS_PENDING_SQL(                                            \
	      "$2") ", last_used = now() "                                                         \
	            "WHERE session_key = $1 RETURNING flow_plan_rev")                              \
	X(FLOWS_TOKEN_USE, 2,                                                                      \
	  "UPDATE flow_tokens SET used = now() WHERE key_digest = $1 AND used IS NULL "            \
	  "AND expires > now() AND flow = $2 RETURNING plan, user_id")                             \
	X(FLOWS_TOKEN_CREATE, 5,                                                                   \
	  "INSERT INTO flow_tokens (key_digest, flow, user_id, plan, expires) "                    \
	  "VALUES ($1, $2, $3, $4::jsonb, now() + make_interval(secs => $5::bigint)) "             \
	  "RETURNING floor(extract(epoch FROM expires))::bigint")                                  \
	X(FLOWS_LAUNCH_URL, 1,                                                                     \
	  "SELECT 1 FROM applications WHERE meta_launch_url ~ '^https?://[^/?#]+' "                \
	  "AND left($1, length(meta_launch_url)) = meta_launch_url "                               \
	  "AND (length($1) = length(meta_launch_url) OR right(meta_launch_url, 1) = '/' "          \
	  "OR substr($1, length(meta_launch_url) + 1, 1) IN ('/', '?', '#')) LIMIT 1")             \
	X(FLOWS_DEFAULT_FOR_BRAND, 2,                                                              \
	  "WITH b AS (" CU_FLOWS_BRAND_SQL ") "                                                    \
	  "SELECT f.flow_uuid, f.slug, 0, f.policy_engine_mode FROM b JOIN flows f "               \
	  "ON f.flow_uuid = CASE WHEN $2 = 'authentication' THEN b.flow_authentication "           \
	  "ELSE b.flow_invalidation END UNION ALL SELECT flow_uuid, slug, 1, policy_engine_mode "  \
	  "FROM flows WHERE designation = $2 ORDER BY 3, 2 LIMIT 20")                              \
	X(FLOWS_SLUG_BY_UUID, 1, "SELECT flow_uuid, slug FROM flows WHERE flow_uuid = $1")         \
	X(FLOWS_UUID_BY_SLUG, 1, "SELECT flow_uuid, slug FROM flows WHERE slug = $1")              \
	X(FLOWS_USER_LOGIN, 1, "UPDATE users SET last_login = now() WHERE id = $1")

#endif
