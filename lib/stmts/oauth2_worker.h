/* Statements of the worker's OAuth2 tasks (worker/oauth2_actor.c). */
#ifndef CU_STMTS_OAUTH2_WORKER_H
#define CU_STMTS_OAUTH2_WORKER_H

#define CU_DB_STMTS_OAUTH2_WORKER(X)                                                               \
	/* The provider a back-channel logout goes to, with its signing key's fingerprint. */      \
	X(OAUTH2_WORKER_PROVIDER, 1,                                                               \
	  "SELECT o.client_id, o.client_secret, o.logout_uri, o.logout_method, "                   \
	  "o.signing_key::text, k.fingerprint_sha256, o.access_token_validity FROM "               \
	  "oauth2_providers o LEFT JOIN certificate_key_pairs k ON k.kp_uuid = o.signing_key "     \
	  "WHERE o.provider_id = $1::integer")

#endif
