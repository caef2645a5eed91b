/* Statements of lib/api/crypto.c: certificate key pairs. The private key is only ever read by
 * CERTS_LOCK (to check a new certificate against it) and CERTS_DATA (view_private_key/). */
#define CERTS_ROW_                                                                                 \
	"json_build_object('pk', k.kp_uuid, 'name', k.name, "                                      \
	"'fingerprint_sha256', k.fingerprint_sha256, 'fingerprint_sha1', k.fingerprint_sha1, "     \
	"'cert_expiry', to_char(k.cert_expiry AT TIME ZONE 'UTC', "                                \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'cert_subject', k.cert_subject, "                   \
	"'private_key_available', k.key_data_sealed IS NOT NULL, 'key_type', k.key_type, "         \
	"'certificate_download_url', '/api/v3/crypto/certificatekeypairs/' || k.kp_uuid || "       \
	"'/view_certificate/?download', "                                                          \
	"'private_key_download_url', '/api/v3/crypto/certificatekeypairs/' || k.kp_uuid || "       \
	"'/view_private_key/?download', 'managed', k.managed)"
/* authentik hides the key pair it manages for its own JWTs from the API. */
#define CERTS_VISIBLE_ "k.managed IS DISTINCT FROM 'goauthentik.io/crypto/jwt-managed'"
#define CU_DB_STMTS_CERTS(X)                                                                       \
	X(CERTS_GET, 1,                                                                            \
	  "SELECT " CERTS_ROW_                                                                     \
	  " FROM certificate_key_pairs k WHERE k.kp_uuid = $1::uuid AND " CERTS_VISIBLE_)          \
	X(CERTS_LOCK, 1,                                                                           \
	  "SELECT k.name, k.certificate_data, k.key_data_sealed, k.fingerprint_sha256, "           \
	  "k.fingerprint_sha1, k.cert_subject, k.key_type, "                                       \
	  "to_char(k.cert_expiry AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "        \
	  "FROM certificate_key_pairs k WHERE k.kp_uuid = $1::uuid AND " CERTS_VISIBLE_            \
	  " FOR UPDATE")                                                                           \
	X(CERTS_INSERT, 8,                                                                         \
	  "INSERT INTO certificate_key_pairs (name, certificate_data, key_data_sealed, "           \
	  "fingerprint_sha256, fingerprint_sha1, cert_expiry, cert_subject, key_type) "            \
	  "VALUES ($1, $2, $3, $4, $5, to_timestamp($6::double precision), $7, $8) "               \
	  "RETURNING kp_uuid")                                                                     \
	X(CERTS_UPDATE, 9,                                                                         \
	  "UPDATE certificate_key_pairs SET name = $2, certificate_data = $3, "                    \
	  "key_data_sealed = $4, fingerprint_sha256 = $5, fingerprint_sha1 = $6, "                 \
	  "cert_expiry = to_timestamp($7::double precision), cert_subject = $8, key_type = $9, "   \
	  "last_updated = now() WHERE kp_uuid = $1::uuid")                                         \
	X(CERTS_DELETE, 1,                                                                         \
	  "DELETE FROM certificate_key_pairs k WHERE k.kp_uuid = $1::uuid AND " CERTS_VISIBLE_     \
	  " RETURNING k.name")                                                                     \
	X(CERTS_DATA, 1,                                                                           \
	  "SELECT k.name, k.certificate_data, k.key_data_sealed FROM certificate_key_pairs k "     \
	  "WHERE k.kp_uuid = $1::uuid AND " CERTS_VISIBLE_)                                        \
	/* keys (lib/keys.c): any pair, managed ones too (providers may sign with them) */         \
	X(KEYS_LOAD, 1,                                                                            \
	  "SELECT certificate_data, key_data_sealed, fingerprint_sha256 FROM "                     \
	  "certificate_key_pairs WHERE kp_uuid = $1::uuid")                                        \
	X(KEYS_FINGERPRINTS, 1,                                                                    \
	  "SELECT kp_uuid::text, fingerprint_sha256, key_data_sealed IS NOT NULL FROM "            \
	  "certificate_key_pairs WHERE kp_uuid = ANY($1::uuid[])")
