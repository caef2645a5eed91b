/*
 * cu_certs_inspect and cu_certs_key_matches on arbitrary bytes: admins upload certificates and
 * keys through the API. An input that starts with '-' is used as the PEM text it is; any other
 * input is taken as DER and wrapped in a CERTIFICATE block first, so that mutations reach the
 * X.509 parser instead of dying in base64.
 * Invariants: an accepted certificate has fingerprints of exactly the shape authentik shows (and
 * for DER input, the digests of that DER), a subject that is a NUL-terminated string inside its
 * field, a key type from authentik's list or empty; a second look gives the same answer; the
 * golden key matches a certificate only when it parsed, and is refused when it did not.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "certs.h"
#include "crypto.h"
#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A P-256 key and its certificate (CN=Grüße), the unit tests' golden pair. */
static const char golden_cert[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIB4TCCAYagAwIBAgIUE9SaKhhQP6+np1oq0WSm7ggIRcEwCgYIKoZIzj0EAwIw\n"
    "NjELMAkGA1UEBhMCREUxFTATBgNVBAoMDGN1c3RvcywgZS5WLjEQMA4GA1UEAwwH\n"
    "R3LDvMOfZTAeFw0yNjExMzAwMjAxMDFaFw0zNjExMjcwMjAxMDFaMDYxCzAJBgNV\n"
    "BAYTAkRFMRUwEwYDVQQKDAxjdXN0b3MsIGUuVi4xEDAOBgNVBAMMB0dyw7zDn2Uw\n"
    "WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQgMHBEWGTfI+q8HcHDa7IY+3Dkb1oH\n"
    "NqyfeCMGhExUTgSfRN1dxQVLC3udfVsLPc4Sem51f8XXGXZvLB27q1Oxo3IwcDAd\n"
    "BgNVHQ4EFgQUbXSzu5QmSGXSva+rCNBy8ZgXmY4wHwYDVR0jBBgwFoAUbXSzu5Qm\n"
    "SGXSva+rCNBy8ZgXmY4wDwYDVR0TAQH/BAUwAwEB/zAdBgNVHREEFjAUghJnb2xk\n"
    "ZW4uY3VzdG9zLnRlc3QwCgYIKoZIzj0EAwIDSQAwRgIhALRqKbICt4TzAxnxHTov\n"
    "gBzMDQwSj6r5a2zGoRjiwQxLAiEA2qtTnwa1+gCfIP1amfNrSf4o4NprLV7g2P1Z\n"
    "aBOm0P4=\n"
    "-----END CERTIFICATE-----\n";
static const char golden_key[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgMDWtoklNAeMBNHKJ\n"
    "rxcZBFkAwLoeUkNMcnCf44whYK+hRANCAAQgMHBEWGTfI+q8HcHDa7IY+3Dkb1oH\n"
    "NqyfeCMGhExUTgSfRN1dxQVLC3udfVsLPc4Sem51f8XXGXZvLB27q1Ox\n"
    "-----END PRIVATE KEY-----\n";

static void
check_fingerprint(const char *fp, size_t n, const EVP_MD *md, const uint8_t *der, size_t derlen)
{
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	char hex[3];
	size_t i;

	if (strlen(fp) != 3 * n - 1)
		abort();
	for (i = 0; i < 3 * n - 1; i++) {
		if (i % 3 == 2 ? fp[i] != ':' : strchr("0123456789abcdef", fp[i]) == NULL)
			abort();
	}
	if (der == NULL)
		return;
	if (EVP_Digest(der, derlen, dig, &dlen, md, NULL) != 1 || dlen != n)
		abort();
	for (i = 0; i < n; i++) {
		cu_hex_encode(hex, dig + i, 1);
		if (memcmp(fp + 3 * i, hex, 2) != 0)
			abort();
	}
}

/* DER wrapped as a PEM CERTIFICATE block, 64 characters a line (caller frees). */
static char *
wrap(const uint8_t *der, size_t n, size_t *len)
{
	static const char head[] = "-----BEGIN CERTIFICATE-----\n";
	static const char tail[] = "-----END CERTIFICATE-----\n";
	size_t blen = cu_base64_enc_len(n), i, o;
	char *b64 = cu_malloc(blen + 1);
	char *pem = cu_malloc(sizeof(head) + blen + blen / 64 + 1 + sizeof(tail));

	cu_base64_encode(b64, der, n);
	memcpy(pem, head, sizeof(head) - 1);
	o = sizeof(head) - 1;
	for (i = 0; i < blen; i++) {
		pem[o++] = b64[i];
		if (i % 64 == 63 || i + 1 == blen)
			pem[o++] = '\n';
	}
	memcpy(pem + o, tail, sizeof(tail));
	*len = o + sizeof(tail) - 1;
	cu_free(b64);
	return pem;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cu_certs_info ci, again;
	const uint8_t *der = NULL;
	char *owned = NULL;
	const char *pem = (const char *)data;
	size_t len = size, n;
	int rc, m;

	memset(&ci, 0, sizeof(ci));
	memset(&again, 0, sizeof(again));
	if (size > 0 && data[0] != '-') {
		owned = wrap(data, size, &len);
		pem = owned;
		der = data;
	}
	rc = cu_certs_inspect(pem, len, &ci);
	if (rc != 0 && rc != -1)
		abort();
	if (rc == 0) {
		check_fingerprint(ci.ci_fingerprint_sha256, 32, EVP_sha256(), der, size);
		check_fingerprint(ci.ci_fingerprint_sha1, 20, EVP_sha1(), der, size);
		n = strnlen(ci.ci_subject, sizeof(ci.ci_subject));
		if (n == sizeof(ci.ci_subject))
			abort();
		if (strcmp(ci.ci_key_type, "rsa") != 0 && strcmp(ci.ci_key_type, "ec") != 0 &&
		    strcmp(ci.ci_key_type, "dsa") != 0 && strcmp(ci.ci_key_type, "ed25519") != 0 &&
		    strcmp(ci.ci_key_type, "ed448") != 0 && ci.ci_key_type[0] != '\0')
			abort();
		if (cu_certs_inspect(pem, len, &again) != 0 || memcmp(&ci, &again, sizeof(ci)) != 0)
			abort();
	}
	/* The same certificate parser serves both calls: a key is checked against a certificate
	 * exactly when that certificate was accepted. */
	m = cu_certs_key_matches(pem, len, golden_key, sizeof(golden_key) - 1);
	if (rc == 0 ? (m != 0 && m != 1) : m != -1)
		abort();
	/* The input as a private key. */
	m = cu_certs_key_matches(golden_cert, sizeof(golden_cert) - 1, (const char *)data, size);
	if (m != 0 && m != 1 && m != -1)
		abort();
	cu_free(owned);
	return 0;
}
