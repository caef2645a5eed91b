/*
 * Statements of the OAuth2 endpoints beside the core (lib/providers/oauth2_userinfo.c,
 * oauth2_introspect.c, oauth2_device.c, oauth2_logout.c). Secrets are looked up by their hex
 * SHA-256 (sql/0060_oauth2.sql).
 */
#ifndef CU_STMTS_OAUTH2_ENDPOINTS_H
#define CU_STMTS_OAUTH2_ENDPOINTS_H

/*
 * Which published JWKS files are stale (lib/providers/oauth2_meta.c's sweeper, which runs it on
 * a connection of its own with PQexecParams): the slugs of ($1 slugs, $2 provider ids,
 * $3 serials) whose application no longer binds that OAuth2 provider at that serial.
 */
#define CU_SQL_OAUTH2_EP_PUBLISHED_STALE                                                           \
	"SELECT s.slug FROM unnest($1::text[], $2::integer[], $3::bigint[]) AS s (slug, pid, "     \
	"serial) WHERE NOT EXISTS (SELECT 1 FROM applications a JOIN providers p ON "              \
	"p.id = a.provider_id JOIN oauth2_providers o ON o.provider_id = p.id WHERE "              \
	"a.slug = s.slug AND p.id = s.pid AND p.serial = s.serial)"

/* The request's brand: $1 is the Host without its port, lower-cased (lib/stmts/flows.h). */
#define CU_DB_STMTS_OAUTH2_ENDPOINTS(X)                                                              \
	/* Introspection of a refresh token of the calling client's provider: active ones only. */   \
	X(OAUTH2_EP_REFRESH_FIND, 2,                                                                 \
	  "SELECT r.id, r.user_id, array_to_json(r.scope), "                                         \
	  "extract(epoch FROM r.expires)::bigint, r.id_token "                                       \
	  "FROM oauth2_refresh_tokens r JOIN users u ON u.id = r.user_id "                           \
	  "WHERE r.token_digest = $1 AND r.provider_id = $2::integer AND NOT r.revoked "             \
	  "AND r.expires > now() AND u.is_active")                                                   \
	/* Revocation (RFC 7009): only the client's own tokens are touched. */                       \
	X(OAUTH2_EP_REVOKE_ACCESS, 2,                                                                \
	  "UPDATE oauth2_access_tokens SET revoked = true "                                          \
	  "WHERE token_digest = $1 AND provider_id = $2::integer AND NOT revoked")                   \
	/* A refresh token takes its whole rotation chain and the access tokens issued along it      \
	 * with it (RFC 7009 §2.1: the same authorization grant). */                                \
	X(OAUTH2_EP_REVOKE_REFRESH, 2,                                                               \
	  "WITH r AS (UPDATE oauth2_refresh_tokens SET revoked = true "                              \
	  "WHERE token_digest = $1 AND provider_id = $2::integer "                                   \
	  "RETURNING coalesce(chain_id, id) AS chain), "                                             \
	  "c AS (UPDATE oauth2_refresh_tokens t SET revoked = true FROM r "                          \
	  "WHERE t.chain_id = r.chain AND t.provider_id = $2::integer AND t.token_digest <> $1 "     \
	  "AND NOT t.revoked RETURNING t.id) "                                                       \
	  "UPDATE oauth2_access_tokens a SET revoked = true FROM r "                                 \
	  "WHERE a.refresh_chain_id = r.chain AND a.provider_id = $2::integer AND NOT a.revoked")    \
	/* Device authorization (RFC 8628). */                                                       \
	X(OAUTH2_EP_DEVICE_CREATE, 5,                                                                \
	  "INSERT INTO oauth2_device_tokens (device_code_digest, user_code, provider_id, scope, "    \
	  "expires) VALUES ($1, $2, $3::integer, $4::text[], "                                       \
	  "now() + make_interval(secs => $5::bigint)) RETURNING id")                                 \
	X(OAUTH2_EP_DEVICE_BY_CODE, 1,                                                               \
	  "SELECT id, provider_id, array_to_json(scope) FROM oauth2_device_tokens "                  \
	  "WHERE user_code = $1 AND expires > now() AND user_id IS NULL AND used IS NULL")           \
	/* Binds the token to the user and session once; the same user again is a no-op. */          \
	X(OAUTH2_EP_DEVICE_BIND, 4,                                                                  \
	  "UPDATE oauth2_device_tokens d SET user_id = $2::bigint, "                                 \
	  "session_uuid = (SELECT s.uuid FROM sessions s WHERE s.session_key = $3) "                 \
	  "WHERE d.id = $1::bigint AND d.provider_id = $4::integer AND d.expires > now() "           \
	  "AND d.used IS NULL AND (d.user_id IS NULL OR d.user_id = $2::bigint) RETURNING d.id")     \
	/* A user the application refuses entered the code: the device's poll gets access_denied     \
	 * (a used token without a user, lib/providers/oauth2_token.c). */                           \
	X(OAUTH2_EP_DEVICE_DENY, 1,                                                                  \
	  "UPDATE oauth2_device_tokens SET used = now() WHERE id = $1::bigint "                      \
	  "AND user_id IS NULL AND used IS NULL")                                                    \
	/* The brand's device code flow and invalidation flow (slugs, NULL for none). */             \
	X(OAUTH2_EP_BRAND_FLOWS, 1,                                                                  \
	  "SELECT d.slug, i.slug FROM (" CU_FLOWS_BRAND_SQL ") b "                                   \
	  "LEFT JOIN flows d ON d.flow_uuid = b.flow_device_code "                                   \
	  "LEFT JOIN flows i ON i.flow_uuid = b.flow_invalidation")                                  \
	/* RP-initiated logout (authentik's EndSessionView): the provider's access tokens of this    \
	 * session go and, for a back-channel provider, one send_backchannel_logout_request task     \
	 * (worker/oauth2_actor.c) carries the newest token's iss, sub and sid, as                   \
	 * sql/0061_oauth2_logout.sql writes them when a session ends. Deleting the tokens keeps     \
	 * that trigger from sending a second one when the session itself ends later. */             \
	X(OAUTH2_EP_LOGOUT_TOKENS, 2,                                                                \
	  "WITH s AS (SELECT uuid, user_id FROM sessions WHERE session_key = $1 "                    \
	  "AND user_id IS NOT NULL), t AS (DELETE FROM oauth2_access_tokens a USING s "              \
	  "WHERE a.session_uuid = s.uuid AND a.user_id = s.user_id "                                 \
	  "AND a.provider_id = $2::integer RETURNING a.id, a.claims, s.uuid, s.user_id) "            \
	  "INSERT INTO tasks (actor_name, args, rel_obj_app_label, rel_obj_model, rel_obj_id, "      \
	  "description) SELECT 'authentik.providers.oauth2.tasks.send_backchannel_logout_request', " \
	  "jsonb_strip_nulls(jsonb_build_object('provider_pk', $2::integer, 'iss', c ->> 'iss', "    \
	  "'sub', c ->> 'sub', 'sid', c ->> 'sid', 'session_uuid', t.uuid, 'user_id', t.user_id)), " \
	  "'authentik_providers_oauth2', 'oauth2provider', $2::text, "                               \
	  "'Send a back-channel logout request to the registered client' "                           \
	  "FROM t JOIN oauth2_providers p ON p.provider_id = $2::integer "                           \
	  "CROSS JOIN LATERAL oauth2_claims_jsonb(t.claims) c "                                      \
	  "WHERE p.logout_method = 'backchannel' AND p.logout_uri <> '' "                            \
	  "AND jsonb_typeof(c -> 'iss') = 'string' AND (jsonb_typeof(c -> 'sub') = 'string' OR "     \
	  "jsonb_typeof(c -> 'sid') = 'string') ORDER BY t.id DESC LIMIT 1 RETURNING message_id")

#endif
