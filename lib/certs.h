/*
 * Certificate key pairs: generating self-signed pairs, reading what a PEM certificate says
 * (fingerprints, subject, expiry, key type), and checking that a private key belongs to a
 * certificate. Private keys are stored sealed (cu_crypto_seal); this module only sees PEM.
 */
#ifndef CU_CERTS_H
#define CU_CERTS_H

#include <stddef.h>
#include <time.h>

enum cu_certs_alg {
	CU_CERTS_RSA,   /* 2048-bit RSA (authentik's "rsa") */
	CU_CERTS_ECDSA, /* P-256 (authentik's "ecdsa") */
	CU_CERTS__MAX
};

struct cu_certs_info {
	char ci_fingerprint_sha256[96]; /* lower-case hex pairs joined by ':' as authentik shows */
	char ci_fingerprint_sha1[64];
	char ci_subject[512]; /* RFC 4514 string, e.g. "CN=custos" */
	time_t ci_not_after;
	char ci_key_type[16]; /* "rsa", "ec", "dsa", "ed25519", "ed448" */
};

/*
 * Generates a key and a self-signed certificate for common_name (and, when not NULL, a DNS
 * subjectAltName), valid for validity_days from now, serial random. *cert_pem and *key_pem
 * (PKCS#8) are NUL-terminated; caller frees with cu_free (key_pem wiped first with cu_wipe).
 */
int cu_certs_generate(enum cu_certs_alg alg, const char *common_name, const char *san,
                      int validity_days, char **cert_pem, char **key_pem)
    __attribute__((warn_unused_result));

/* Parses one PEM certificate (at most len bytes); -1 when it is not one. */
int cu_certs_inspect(const char *cert_pem, size_t len, struct cu_certs_info *info)
    __attribute__((warn_unused_result));

/* 1 when key_pem parses and is the private half of cert_pem's public key, 0 when not, -1 when
 * either does not parse. */
int cu_certs_key_matches(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len)
    __attribute__((warn_unused_result));

#endif
