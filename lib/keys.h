/*
 * Signing keys of certificate key pairs, as the providers use them: the private key unsealed
 * (cu_crypto_unseal with secret_key) once per process and kept, so that the token path never
 * reads or unseals a key per request. An entry is found by the pair's uuid and is valid while
 * the pair's fingerprint is unchanged: a caller that knows the fingerprint (the provider's row
 * joins it) passes it, and a pair given a new certificate and key is loaded again.
 */
#ifndef CU_KEYS_H
#define CU_KEYS_H

#include <stddef.h>

#include "err.h"

struct cu_ctx;
struct cu_jose_key;
struct json_object;

/*
 * The key of pair kp_uuid. fingerprint (the pair's fingerprint_sha256, may be NULL: then a
 * cached entry is taken as is) checks a cached entry. *out is owned by the cache, valid until
 * the process ends or the same pair is loaded again (the cache holds 64 pairs and the one used
 * longest ago makes room: keep *out no longer than the request). CU_ERR_NOT_FOUND for no such
 * pair or one without a private key, CU_ERR_INVALID for a key that does not unseal or parse,
 * CU_ERR_UNAVAILABLE without PostgreSQL.
 */
enum cu_err cu_keys_get(struct cu_ctx *cx, const char *kp_uuid, const char *fingerprint,
                        const struct cu_jose_key **out) __attribute__((warn_unused_result));

/*
 * The public JWKS {"keys": [...]} of the given pairs (uuids, NULL entries skipped; a pair
 * without a usable key is left out), arena-owned.
 */
enum cu_err cu_keys_jwks(struct cu_ctx *cx, const char *const *kp_uuids, size_t n,
                         struct json_object **out) __attribute__((warn_unused_result));

/*
 * The same pair as a key for XML signatures (lib/xmlsig.h), cached beside the JOSE keys under
 * the same rules: cu_keys_get_xmlsig gives the private key with its certificate (signing;
 * CU_ERR_NOT_FOUND for a pair without a private key), cu_keys_get_xmlsig_cert the certificate
 * alone (verifying a peer's signatures, encrypting for it; CU_ERR_NOT_FOUND for a pair without
 * a certificate). *out is owned by the cache, valid for the request.
 */
struct cu_xmlsig_key;
enum cu_err cu_keys_get_xmlsig(struct cu_ctx *cx, const char *kp_uuid, const char *fingerprint,
                               const struct cu_xmlsig_key **out)
    __attribute__((warn_unused_result));
enum cu_err cu_keys_get_xmlsig_cert(struct cu_ctx *cx, const char *kp_uuid, const char *fingerprint,
                                    const struct cu_xmlsig_key **out)
    __attribute__((warn_unused_result));

/* Drops every cached key (tests; a worker that rotates keys). */
void cu_keys_flush(void);

#endif
