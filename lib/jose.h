/*
 * JOSE: JSON Web Signatures in compact form, JSON Web Tokens and JSON Web Keys (RFC 7515, 7519,
 * 7517, 7518) over OpenSSL. custos signs ID tokens, access tokens and logout tokens with the
 * provider's key and verifies the JWTs it accepts (id_token_hint, client assertions).
 *
 * A verifier is told which algorithm it expects (the key decides it); "none", an algorithm
 * other than the expected one, and HMAC with a public key as the secret are refused, whatever
 * the token's header says. Every token is bounded by CU_JOSE_MAX_TOKEN (lib/bounds.h).
 */
#ifndef CU_JOSE_H
#define CU_JOSE_H

#include <stddef.h>

#include "err.h"

struct cu_arena;
struct json_object;

enum cu_jose_alg {
	CU_JOSE_HS256, /* HMAC-SHA256 with a shared secret (a provider without a signing key) */
	CU_JOSE_RS256, /* RSA PKCS#1 v1.5 with SHA-256 */
	CU_JOSE_ES256, /* ECDSA P-256 with SHA-256 (signature r || s, 64 bytes) */
	CU_JOSE_ES384, /* ECDSA P-384 */
	CU_JOSE_ES512, /* ECDSA P-521 */
	CU_JOSE__MAX
};

/*
 * A key. Asymmetric keys hold an EVP_PKEY (private for signing, public is enough to verify);
 * an HMAC key holds its secret. Built by cu_jose_key_from_pem / cu_jose_key_hmac, released by
 * cu_jose_key_free (which wipes the secret). Long-lived: not arena memory.
 */
struct cu_jose_key {
	enum cu_jose_alg jk_alg;
	void *jk_pkey;            /* EVP_PKEY *, NULL for HMAC */
	unsigned char *jk_secret; /* HMAC secret, NULL otherwise */
	size_t jk_secret_len;
	char jk_kid[65];   /* "" for none */
	char *jk_cert_pem; /* the certificate (x5c, x5t), NULL when not known */
};

/* The name in a JWS header ("RS256"), and the reverse (-1 for unknown names and "none"). */
const char *cu_jose_alg_name(enum cu_jose_alg alg);
int cu_jose_alg_from_name(const char *name);

/*
 * A key from a PEM private key (PKCS#8 or traditional) or, for verifying only, a PEM public key
 * or certificate; the algorithm follows from the key: RSA → RS256, EC P-256/384/521 →
 * ES256/384/512. cert_pem (may be NULL) is kept for the JWK's x5c / x5t / x5t#S256. The kid is
 * the first 32 hex digits of the SHA-256 of the DER SubjectPublicKeyInfo, so every process
 * names a key alike. -1 for an unreadable key or an unsupported type or curve.
 */
int cu_jose_key_from_pem(struct cu_jose_key *k, const char *key_pem, size_t key_len,
                         const char *cert_pem) __attribute__((warn_unused_result));
/* An HS256 key with secret (copied); kid "". */
void cu_jose_key_hmac(struct cu_jose_key *k, const void *secret, size_t len);
void cu_jose_key_free(struct cu_jose_key *k);

/*
 * Signs claims (a JSON object) as a compact JWS with header {"alg", "kid" (when not ""),
 * "typ": typ (may be NULL: "JWT")}. *jwt_out is arena-owned. -1 when the key cannot sign
 * (a public key only) or OpenSSL fails.
 */
int cu_jose_sign(struct cu_arena *a, const struct cu_jose_key *k, struct json_object *claims,
                 const char *typ, const char **jwt_out) __attribute__((warn_unused_result));

/*
 * The signature part of a JWS over input (len bytes: BASE64URL(header) "." BASE64URL(payload),
 * exactly as sent), base64url without padding, arena-owned: what cu_jose_sign appends. For
 * callers that serialise their own header, and for known-answer tests. -1 as cu_jose_sign.
 */
int cu_jose_sign_input(struct cu_arena *a, const struct cu_jose_key *k, const char *input,
                       size_t len, const char **sig_out) __attribute__((warn_unused_result));

/*
 * Verifies a compact JWS (len bytes) against key k: the header's alg must be k's algorithm and
 * its kid, when both are set, k's kid. *claims_out (and *header_out when not NULL) get the
 * parsed payload and header (arena-owned; the payload must be a JSON object).
 * CU_OK; CU_ERR_INVALID for anything malformed, a wrong algorithm or a bad signature.
 * Claims (exp, aud, iss, ...) are the caller's to check.
 */
enum cu_err cu_jose_verify(struct cu_arena *a, const struct cu_jose_key *k, const char *jwt,
                           size_t len, struct json_object **claims_out,
                           struct json_object **header_out) __attribute__((warn_unused_result));

/*
 * Parses a compact JWS without checking the signature (to find which provider or key it names
 * before verifying): header and payload, arena-owned. CU_ERR_INVALID when malformed.
 */
enum cu_err cu_jose_peek(struct cu_arena *a, const char *jwt, size_t len,
                         struct json_object **claims_out, struct json_object **header_out)
    __attribute__((warn_unused_result));

/*
 * The public JWK of k (never private parts): {"kty", "alg", "use": "sig", "kid", "n", "e" |
 * "crv", "x", "y", and with a certificate "x5c", "x5t", "x5t#S256"}, as authentik's JWKS view
 * shows it. Arena-owned; -1 for an HMAC key (it has no public form).
 */
int cu_jose_jwk(struct cu_arena *a, const struct cu_jose_key *k, struct json_object **out)
    __attribute__((warn_unused_result));

/*
 * OpenID Connect's at_hash / c_hash: the left half of the hash of value with the hash function
 * of alg (SHA-256 for HS256/RS256/ES256, SHA-384, SHA-512), base64url without padding.
 * out holds at least 88 bytes.
 */
void cu_jose_half_hash(char *out, enum cu_jose_alg alg, const char *value, size_t len);

#endif
