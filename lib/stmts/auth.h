/* Statements of lib/auth.c. */
#define CU_DB_STMTS_AUTH(X)                                                                        \
	X(AUTH_API_TOKEN, 1,                                                                       \
	  "SELECT t.key, u.id, u.uuid, u.username, u.name, u.email, u.type, u.path, "              \
	  "user_is_superuser(u.id) FROM tokens t JOIN users u ON u.id = t.user_id "                \
	  "WHERE t.key_digest = $1 AND t.intent = 'api' AND u.is_active "                          \
	  "AND (NOT t.expiring OR t.expires > now())")                                             \
	X(AUTH_USER_BY_ID, 1,                                                                      \
	  "SELECT '', u.id, u.uuid, u.username, u.name, u.email, u.type, u.path, "                 \
	  "user_is_superuser(u.id) FROM users u WHERE u.id = $1 AND u.is_active")                  \
	X(AUTH_HAS_PERM, 3, "SELECT user_has_perm($1, $2, $3)")
