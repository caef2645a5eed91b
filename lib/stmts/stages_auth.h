/* Statements of the identification, password and consent stages (X(NAME, nparams, "SQL")). */
#ifndef CU_STMTS_STAGES_AUTH_H
#define CU_STMTS_STAGES_AUTH_H

/*
 * The identification lookup: one branch per field and case rule, each a plain equality that its
 * index serves (sql/0050_flows.sql); the boolean parameters become one-time filters, so the
 * branches that do not apply cost nothing.
 */
#define STAGES_AUTH_IDENTIFY_SQL                                                                   \
	"SELECT id, username FROM users WHERE is_active AND id IN ("                               \
	"SELECT id FROM users WHERE $2::boolean AND $5::boolean AND lower(email) = lower($1) "     \
	"UNION ALL SELECT id FROM users WHERE $2::boolean AND NOT $5::boolean AND email = $1 "     \
	"UNION ALL SELECT id FROM users WHERE $3::boolean AND $5::boolean AND lower(username) = "  \
	"lower($1) UNION ALL SELECT id FROM users WHERE $3::boolean AND NOT $5::boolean AND "      \
	"username = $1 UNION ALL SELECT id FROM users WHERE $4::boolean AND $5::boolean AND "      \
	"lower(attributes ->> 'upn') = lower($1) UNION ALL SELECT id FROM users WHERE "            \
	"$4::boolean AND NOT $5::boolean AND attributes ->> 'upn' = $1) ORDER BY id LIMIT 1"

/*
 * The brand of the request's host $1, as lib/stmts/brands.h BRANDS_CURRENT picks it: the longest
 * domain equal to the host or a suffix of it after a dot, else the default brand.
 */
#define STAGES_AUTH_BRAND                                                                          \
	"(SELECT b.flow_recovery FROM brands b, (SELECT lower($1) AS h) q WHERE q.h = "            \
	"lower(b.domain) OR right(q.h, length(b.domain) + 1) = '.' || lower(b.domain) OR "         \
	"b.\"default\" ORDER BY CASE WHEN q.h = lower(b.domain) OR right(q.h, length(b.domain) + " \
	"1) = '.' || lower(b.domain) THEN length(b.domain) ELSE -1 END DESC, b.\"default\" DESC "  \
	"LIMIT 1)"

#define CU_DB_STMTS_STAGES_AUTH(X)                                                                  \
	/* Identification: $1 identifier; $2, $3, $4 whether email, username, attributes.upn        \
	 * count; $5 case-insensitive. The first active match by id, as authentik's .first(). */    \
	X(STAGES_AUTH_IDENTIFY, 5, STAGES_AUTH_IDENTIFY_SQL)                                        \
	/* What an identification challenge links to, in one go: the slugs of the enrollment,       \
	 * recovery and passwordless flows ($1..$3), the config of the inline password stage        \
	 * ($4) and the name and launch URL of the plan's application ($5). */                      \
	X(STAGES_AUTH_IDENT_REFS, 5,                                                                \
	  "SELECT (SELECT slug FROM flows WHERE flow_uuid = $1::uuid), (SELECT slug FROM flows "    \
	  "WHERE flow_uuid = $2::uuid), (SELECT slug FROM flows WHERE flow_uuid = $3::uuid), "      \
	  "(SELECT config::text FROM stages WHERE stage_uuid = $4::uuid AND type = "                \
	  "'passwordstage'), a.name, a.meta_launch_url FROM (SELECT 1) o LEFT JOIN applications a " \
	  "ON a.uuid = $5::uuid")                                                                   \
	X(STAGES_AUTH_PASSWORD_CONFIG, 1,                                                           \
	  "SELECT config::text FROM stages WHERE stage_uuid = $1::uuid AND type = 'passwordstage'") \
	/* A user's stored hash and, when $2 (a key digest) names one, an unexpired app password    \
	 * of that user: columns password, token uuid, identifier, key. */                          \
	X(STAGES_AUTH_CREDENTIALS, 2,                                                               \
	  "SELECT u.password, t.uuid, t.identifier, t.key FROM users u LEFT JOIN tokens t ON "      \
	  "t.user_id = u.id AND t.key_digest = $2 AND t.intent = 'app_password' AND (NOT "          \
	  "t.expiring OR t.expires > now()) WHERE u.id = $1::bigint AND u.is_active")               \
	/* Only while the hash is still the one verified: a password changed meanwhile wins. */     \
	X(STAGES_AUTH_REHASH, 3,                                                                    \
	  "UPDATE users SET password = $2 WHERE id = $1::bigint AND password = $3")                 \
	X(STAGES_AUTH_RECOVERY_SLUG, 1,                                                             \
	  "SELECT f.slug FROM flows f WHERE f.flow_uuid = " STAGES_AUTH_BRAND)                      \
	/* The user's unexpired consent for an application; the newest first. */                    \
	X(STAGES_AUTH_CONSENT_GET, 2,                                                               \
	  "SELECT permissions FROM user_consents WHERE user_id = $1::bigint AND application = "     \
	  "$2::uuid AND (NOT expiring OR expires > now()) ORDER BY expires "                        \
	  "DESC NULLS FIRST LIMIT 1")                                                               \
	/* One consent per user and application: what else the user had given it is replaced.       \
	 * $4 expiring, $5 seconds until it expires (NULL: never). */                               \
	X(STAGES_AUTH_CONSENT_SAVE, 5,                                                              \
	  "WITH gone AS (DELETE FROM user_consents WHERE user_id = $1::bigint AND application = "   \
	  "$2::uuid AND permissions <> $3) INSERT INTO user_consents (user_id, application, "       \
	  "permissions, expiring, expires) VALUES ($1::bigint, $2::uuid, $3, $4::boolean, now() + " \
	  "make_interval(secs => $5::double precision)) ON CONFLICT (user_id, application, "        \
	  "permissions) DO UPDATE SET expiring = EXCLUDED.expiring, expires = EXCLUDED.expires")

#endif
