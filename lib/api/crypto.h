/* /api/v3/crypto/certificatekeypairs/: certificate key pairs; the private key only through
 * view_private_key/. */
#ifndef CU_API_CRYPTO_H
#define CU_API_CRYPTO_H

struct cu_ctx;

void cu_api_crypto_list(struct cu_ctx *cx);     /* GET  certificatekeypairs/ */
void cu_api_crypto_create(struct cu_ctx *cx);   /* POST certificatekeypairs/ */
void cu_api_crypto_generate(struct cu_ctx *cx); /* POST certificatekeypairs/generate/ */
void cu_api_crypto_get(struct cu_ctx *cx);      /* GET  certificatekeypairs/{kp_uuid}/ */
void cu_api_crypto_update(struct cu_ctx *cx);   /* PUT, PATCH certificatekeypairs/{kp_uuid}/ */
void cu_api_crypto_delete(struct cu_ctx *cx);   /* DELETE certificatekeypairs/{kp_uuid}/ */
void cu_api_crypto_view_certificate(struct cu_ctx *cx); /* GET  .../{kp_uuid}/view_certificate/ */
void cu_api_crypto_view_private_key(struct cu_ctx *cx); /* GET  .../{kp_uuid}/view_private_key/ */
#endif
