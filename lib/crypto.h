/*
 * Crypto basics over OpenSSL: randomness, HMAC, constant-time comparison, encodings.
 * Outputs first, lengths beside pointers (libsodium's API hygiene).
 */
#ifndef CU_CRYPTO_H
#define CU_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CU_SHA256_LEN 32

/* Fills out with n bytes from RAND_bytes; aborts if the CSPRNG fails. */
void cu_crypto_random(void *out, size_t n);
/* A random string of n characters from [A-Za-z0-9] into out[n + 1]. */
void cu_crypto_random_alnum(char *out, size_t n);
void cu_crypto_sha256(uint8_t out[CU_SHA256_LEN], const void *p, size_t n);
void cu_crypto_hmac_sha256(uint8_t out[CU_SHA256_LEN], const void *key, size_t keylen,
                           const void *msg, size_t msglen);
/* 1 when equal, in time independent of the contents; lengths are compared openly. */
int cu_crypto_ct_eq(const void *a, size_t alen, const void *b, size_t blen)
    __attribute__((warn_unused_result));

/* Encoded lengths, including no NUL. */
size_t cu_base64_enc_len(size_t n);
size_t cu_base64url_enc_len(size_t n); /* unpadded */
/* Writes the encoding and a NUL into out, which holds enc_len(n) + 1 bytes. */
void cu_base64_encode(char *out, const void *in, size_t n);
void cu_base64url_encode(char *out, const void *in, size_t n);
/* Decode into out (room for n * 3 / 4 + 3 bytes); *outlen gets the length. -1 on any
 * character outside the alphabet (whitespace included), bad padding, nonzero unused bits in the
 * last character (so each input has one encoding), or bad length. base64url accepts no padding
 * or correct padding; base64 wants padding. */
int cu_base64_decode(void *out, size_t *outlen, const char *in, size_t n)
    __attribute__((warn_unused_result));
int cu_base64url_decode(void *out, size_t *outlen, const char *in, size_t n)
    __attribute__((warn_unused_result));

/* Lower-case hex into out[2n + 1]. */
void cu_hex_encode(char *out, const void *in, size_t n);
/* n must be even; out holds n / 2 bytes. Either case is accepted. -1 on a non-hex character or
 * odd length. */
int cu_hex_decode(void *out, const char *in, size_t n) __attribute__((warn_unused_result));

/*
 * Secrets at rest (private keys): AES-256-GCM with a key derived from the configured
 * secret_key by HKDF-SHA256 (info "custos/seal/v1"), a fresh 12-byte nonce per seal. The sealed
 * text is "v1:" + base64(nonce | ciphertext | tag), NUL-terminated, caller frees with cu_free.
 * Unseal returns -1 when the text was not sealed with this secret_key or was altered; the
 * plaintext (caller frees with cu_free after cu_wipe) has a NUL appended, not counted in *len.
 */
int cu_crypto_seal(char **out, const char *secret_key, const void *plain, size_t len)
    __attribute__((warn_unused_result));
int cu_crypto_unseal(char **out, size_t *len, const char *secret_key, const char *sealed)
    __attribute__((warn_unused_result));

#endif
