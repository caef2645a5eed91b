/* Statements of the worker's OAuth2 tasks (worker/oauth2_actor.c). */
#ifndef CU_STMTS_OAUTH2_WORKER_H
#define CU_STMTS_OAUTH2_WORKER_H

/* Expired grants go in batches of 1000, so that no statement holds its locks for long. Access
 * and refresh tokens stay a day past expiry: the API still shows them and a session that ends
 * meanwhile still finds its relying parties. */
#define OAUTH2_WORKER_CLEAN_(table, key, grace)                                                    \
	"DELETE FROM " table " WHERE " key " IN (SELECT " key " FROM " table                       \
	" WHERE expires < now() - interval '" grace "' LIMIT 1000)"

#define CU_DB_STMTS_OAUTH2_WORKER(X)                                                               \
	/* The provider a back-channel logout goes to, with its signing key's fingerprint. */      \
	X(OAUTH2_WORKER_PROVIDER, 1,                                                               \
	  "SELECT o.client_id, o.client_secret, o.logout_uri, o.logout_method, "                   \
	  "o.signing_key::text, k.fingerprint_sha256, o.access_token_validity FROM "               \
	  "oauth2_providers o LEFT JOIN certificate_key_pairs k ON k.kp_uuid = o.signing_key "     \
	  "WHERE o.provider_id = $1::integer")                                                     \
	X(OAUTH2_WORKER_CLEAN_CODES, 0,                                                            \
	  OAUTH2_WORKER_CLEAN_("oauth2_authorization_codes", "id", "0 seconds"))                   \
	X(OAUTH2_WORKER_CLEAN_ACCESS, 0,                                                           \
	  OAUTH2_WORKER_CLEAN_("oauth2_access_tokens", "id", "1 day"))                             \
	X(OAUTH2_WORKER_CLEAN_REFRESH, 0,                                                          \
	  OAUTH2_WORKER_CLEAN_("oauth2_refresh_tokens", "id", "1 day"))                            \
	X(OAUTH2_WORKER_CLEAN_DEVICE, 0,                                                           \
	  OAUTH2_WORKER_CLEAN_("oauth2_device_tokens", "id", "0 seconds"))

#endif
