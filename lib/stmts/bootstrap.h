/* Statements of lib/bootstrap.c. */
#define CU_DB_STMTS_BOOTSTRAP(X)                                                                   \
	X(BOOTSTRAP_LOCK, 0, "SELECT pg_advisory_xact_lock(109441445390452)")                      \
	X(BOOTSTRAP_ADMIN_GROUP, 1,                                                                \
	  "WITH ins AS (INSERT INTO groups (name, is_superuser) VALUES ($1, true) "                \
	  "ON CONFLICT (name) DO NOTHING RETURNING uuid) "                                         \
	  "SELECT uuid FROM ins UNION ALL SELECT uuid FROM groups WHERE name = $1")                \
	X(BOOTSTRAP_FIND_USER, 1, "SELECT id FROM users WHERE username = $1")                      \
	X(BOOTSTRAP_CREATE_USER, 4,                                                                \
	  "INSERT INTO users (username, name, email, password) VALUES ($1, $2, $3, $4) "           \
	  "RETURNING id")                                                                          \
	X(BOOTSTRAP_JOIN_GROUP, 2,                                                                 \
	  "INSERT INTO group_users (group_uuid, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")  \
	X(BOOTSTRAP_TOKEN, 4,                                                                      \
	  "INSERT INTO tokens (identifier, key, key_digest, intent, user_id, expiring, "           \
	  "description) VALUES ($1, $2, $3, 'api', $4, false, 'Bootstrap token') "                 \
	  "ON CONFLICT (identifier) DO NOTHING")                                                   \
	X(BOOTSTRAP_BRAND, 0,                                                                      \
	  "INSERT INTO brands (domain, \"default\", flow_authentication, flow_invalidation, "      \
	  "flow_user_settings, flow_recovery) SELECT 'authentik-default', true, "                  \
	  "(SELECT flow_uuid FROM flows WHERE slug = 'default-authentication-flow'), "             \
	  "(SELECT flow_uuid FROM flows WHERE slug = 'default-invalidation-flow'), "               \
	  "(SELECT flow_uuid FROM flows WHERE slug = 'default-user-settings-flow'), "              \
	  "(SELECT flow_uuid FROM flows WHERE slug = 'default-recovery-flow') "                    \
	  "WHERE NOT EXISTS (SELECT 1 FROM brands WHERE \"default\" OR domain = "                  \
	  "'authentik-default')")                                                                  \
	X(BOOTSTRAP_HAS_CERT, 1, "SELECT 1 FROM certificate_key_pairs WHERE name = $1")            \
	X(BOOTSTRAP_CERT, 8,                                                                       \
	  "INSERT INTO certificate_key_pairs (name, certificate_data, key_data_sealed, "           \
	  "fingerprint_sha256, fingerprint_sha1, cert_expiry, cert_subject, key_type) "            \
	  "VALUES ($1, $2, $3, $4, $5, to_timestamp($6), $7, $8)")
