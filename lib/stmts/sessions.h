/* Statements of lib/sessions.c. */
#define CU_DB_STMTS_SESSIONS(X)                                                                    \
	X(SESSIONS_USER, 1,                                                                        \
	  "SELECT '', u.id, u.uuid, u.username, u.name, u.email, u.type, u.path, "                 \
	  "user_is_superuser(u.id) FROM sessions s JOIN users u ON u.id = s.user_id "              \
	  "WHERE s.session_key = $1 AND s.expires > now() AND u.is_active")
