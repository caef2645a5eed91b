/* Statements of lib/sessions.c. */
#ifndef CU_STMTS_SESSIONS_H
#define CU_STMTS_SESSIONS_H

/* The pending user id in a plan (jsonb $n): context.pending_user when it is a plain integer. */
#define CU_SESSIONS_PENDING_SQL(n)                                                                 \
	"(CASE WHEN (" n "::jsonb #>> '{context,pending_user}') ~ '^[0-9]{1,18}$' THEN (" n        \
	"::jsonb #>> '{context,pending_user}')::bigint END)"

#define CU_DB_STMTS_SESSIONS(X)                                                                      \
	X(SESSIONS_USER, 1,                                                                          \
	  "SELECT '', u.id, u.uuid, u.username, u.name, u.email, u.type, u.path, "                   \
	  "user_is_superuser(u.id) FROM sessions s JOIN users u ON u.id = s.user_id "                \
	  "WHERE s.session_key = $1 AND s.expires > now() AND u.is_active")                          \
	X(SESSIONS_LOAD, 1,                                                                          \
	  "SELECT s.flow_plan_rev, u.id, u.uuid, u.username, u.name, u.email, u.type, u.path, "      \
	  "user_is_superuser(u.id), s.user_id, p.id, p.uuid, p.username, p.name, p.email, "          \
	  "p.type, p.path, CASE WHEN p.id IS NOT NULL THEN user_is_superuser(p.id) END "             \
	  "FROM sessions s LEFT JOIN users u ON u.id = s.user_id AND u.is_active "                   \
	  "LEFT JOIN users p ON p.id = s.pending_user_id AND p.is_active "                           \
	  "WHERE s.session_key = $1 AND s.expires > now()")                                          \
	X(SESSIONS_CREATE_ANON, 5,                                                                   \
	  "INSERT INTO sessions (session_key, expires, last_ip, last_user_agent, flow_plan, "        \
	  "flow_plan_rev, pending_user_id) VALUES ($1, now() + make_interval(secs => "               \
	  "$2::bigint), $3::inet, $4, $5::jsonb, 1, " CU_SESSIONS_PENDING_SQL("$5") ")")             \
	X(SESSIONS_CREATE_USER, 6,                                                                   \
	  "INSERT INTO sessions (session_key, user_id, expires, last_ip, last_user_agent, "          \
	  "flow_plan, flow_plan_rev, pending_user_id) SELECT $1, u.id, now() + "                     \
	  "make_interval(secs => $2::bigint), $3::inet, $4, $5::jsonb, 1, " CU_SESSIONS_PENDING_SQL( \
	      "$5") " FROM users u WHERE u.id = $6 AND u.is_active "                                 \
	            "RETURNING session_key")                                                         \
	X(SESSIONS_ROTATE, 6,                                                                        \
	  "UPDATE sessions SET session_key = $2, expires = now() + make_interval(secs => "           \
	  "$3::bigint), last_ip = $4::inet, last_user_agent = $5, last_used = now(), created = "     \
	  "now(), "                                                                                  \
	  "flow_plan = NULL, flow_plan_rev = 1, pending_user_id = NULL "                             \
	  "WHERE session_key = $1 AND user_id = $6 RETURNING session_key")                           \
	X(SESSIONS_DELETE, 1, "DELETE FROM sessions WHERE session_key = $1")                         \
	X(SESSIONS_DELETE_OTHERS, 2,                                                                 \
	  "DELETE FROM sessions WHERE user_id = $1 AND session_key <> $2")

#endif
