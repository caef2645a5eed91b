#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certs.h"
#include "crypto.h"
#include "mem.h"

/*
 * Golden certificates, made once with the openssl command line:
 *   openssl req -x509 -utf8 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
 *     -subj "/C=DE/O=custos, e.V./CN=Grüße" -days 3650 \
 *     -addext subjectAltName=DNS:golden.custos.test
 *   openssl req -x509 -newkey ed25519 -nodes -subj "/O=custos/OU=tests/CN=ed25519 golden" \
 *     -days 7300
 * Their fingerprints, subjects and expiry are what `openssl x509 -fingerprint` (lower-cased)
 * and authentik's own code (hexlify(cert.fingerprint(...), ":"), subject.rfc4514_string(),
 * not_valid_after_utc) report for them.
 */
static const char golden_ec_pem[] =
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
static const char golden_ec_key[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgMDWtoklNAeMBNHKJ\n"
    "rxcZBFkAwLoeUkNMcnCf44whYK+hRANCAAQgMHBEWGTfI+q8HcHDa7IY+3Dkb1oH\n"
    "NqyfeCMGhExUTgSfRN1dxQVLC3udfVsLPc4Sem51f8XXGXZvLB27q1Ox\n"
    "-----END PRIVATE KEY-----\n";
static const char golden_ec_sha256[] = "6f:b2:f4:27:47:82:7f:4a:7e:e9:dd:2f:4c:a8:a1:e0:0f:84:e3:"
                                       "98:45:50:e9:59:e9:e8:ed:1b:53:1b:a0:f7";
static const char golden_ec_sha1[] = "da:9a:47:2f:59:3f:1d:bf:e6:51:5f:16:aa:1e:67:fb:14:82:09:8b";
static const char golden_ec_subject[] = "CN=Grüße,O=custos\\, e.V.,C=DE";
static const time_t golden_ec_not_after = 2111364061; /* 2036-11-27 02:01:01 UTC */

static const char golden_ed_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBiTCCATugAwIBAgIUPLVFI2yxY7TAq9TXXPOmHOL04sYwBQYDK2VwMDoxDzAN\n"
    "BgNVBAoMBmN1c3RvczEOMAwGA1UECwwFdGVzdHMxFzAVBgNVBAMMDmVkMjU1MTkg\n"
    "Z29sZGVuMB4XDTI2MTEzMDAyMDEwNFoXDTQ2MTEyNTAyMDEwNFowOjEPMA0GA1UE\n"
    "CgwGY3VzdG9zMQ4wDAYDVQQLDAV0ZXN0czEXMBUGA1UEAwwOZWQyNTUxOSBnb2xk\n"
    "ZW4wKjAFBgMrZXADIQBn7MGr3fjsgrVT8JByukpOdcZ74haKFO0Tev1gnoCNpKNT\n"
    "MFEwHQYDVR0OBBYEFPDW+CCjCjZqinN3ifk5usYrMvTnMB8GA1UdIwQYMBaAFPDW\n"
    "+CCjCjZqinN3ifk5usYrMvTnMA8GA1UdEwEB/wQFMAMBAf8wBQYDK2VwA0EAjyVn\n"
    "llP2K1EbMImlxvyTotRVob27FBsPXH0ifA+1u2WK81szoUhotqpjMeJZ55K9SR0F\n"
    "lXZYEpr/C9/b1M4tAA==\n"
    "-----END CERTIFICATE-----\n";
static const char golden_ed_sha256[] = "ca:7c:20:2f:8e:0a:cc:0a:ad:ec:99:3b:4b:ef:01:78:8f:28:cb:"
                                       "a8:e8:88:22:21:56:29:0e:f4:b1:93:ac:eb";
static const char golden_ed_sha1[] = "9c:cb:66:99:f6:06:43:6d:6d:98:12:55:4a:95:b7:3f:52:3a:d1:0a";
static const char golden_ed_subject[] = "CN=ed25519 golden,OU=tests,O=custos";
static const time_t golden_ed_not_after = 2426724064; /* 2046-11-25 02:01:04 UTC */

/*
 * Made once with Python's cryptography package, the X.509 library authentik itself uses, to pin
 * down the subject format where it is easy to get wrong: an attribute type without a short
 * name (shown as its OID), a multi-valued name (kept in its encoded order), characters that
 * need escaping, a leading and a trailing space, and a BMPString. It expires after 2049, so
 * in a GeneralizedTime. The expected values are what that package reports.
 */
static const char golden_names_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBczCCARmgAwIBAgICEjQwCgYIKoZIzj0EAwIwETEPMA0GA1UEAwwGaXNzdWVy\n"
    "MCAXDTI0MDEwMTAwMDAwMFoYDzIwNTEwNjAxMTIwMDAwWjByMRQwEgYKCZImiZPy\n"
    "LGQBGRYEdGVzdDEgMB4GCSqGSIb3DQEJARYRYWRtaW5AY3VzdG9zLnRlc3QxHzAK\n"
    "BgNVBAsMA29wczARBgNVBAMMCiBhK2IsICJjIiAxFzAVBgNVBAweDgBHAHIA/ADf\n"
    "AGUAICCsMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEaNKSyVu+7Tjqp/kDwxsq\n"
    "Ms9sWnmz1cGxKRrTX6b4+5UsjocBJ0XxYBO1HECurdi4geYiAPeq3bW75SV/dYAt\n"
    "oTAKBggqhkjOPQQDAgNIADBFAiBbgp0QO1JonIpK2/DhIQRw1tuTc4e6XtY1DcO3\n"
    "/t5bagIhAPfhTx82axG3EAW/l0fW0GQygINd8Ufs1xuOl78sTduv\n"
    "-----END CERTIFICATE-----\n";
static const char golden_names_sha256[] = "b0:85:18:97:f7:d9:ba:a5:b9:a2:5c:0a:21:c9:6a:38:25:"
                                          "95:a3:a5:82:32:1e:a3:c3:42:ee:34:75:d9:34:a8";
static const char golden_names_sha1[] =
    "bc:9d:b2:0d:8d:da:37:c8:47:3c:8d:66:f5:cb:6c:79:f9:ce:48:c5";
static const char golden_names_subject[] = "2.5.4.12=Grüße €,OU=ops+CN=\\ a\\+b\\, \\\"c\\\"\\ ,"
                                           "1.2.840.113549.1.9.1=admin@custos.test,DC=test";
static const time_t golden_names_not_after = 2569233600; /* 2051-06-01 12:00:00 UTC */

#define MIB (1024 * 1024)

/* The DER inside a single-block PEM (caller frees): base64 lines between the armour lines. */
static unsigned char *
pem_der(const char *pem, size_t *derlen)
{
	const char *p = strchr(pem, '\n') + 1, *end = strstr(pem, "-----END");
	char *b64 = cu_malloc((size_t)(end - p) + 1);
	unsigned char *der;
	size_t n = 0;

	for (; p < end; p++) {
		if (*p != '\n' && *p != '\r')
			b64[n++] = *p;
	}
	der = cu_malloc(n / 4 * 3 + 3);
	assert_int_equal(cu_base64_decode(der, derlen, b64, n), 0);
	cu_free(b64);
	return der;
}

/* DER wrapped as a PEM CERTIFICATE block, 64 characters a line (caller frees). */
static char *
der_pem(const unsigned char *der, size_t n)
{
	size_t blen = cu_base64_enc_len(n), i, o = 0;
	char *b64 = cu_malloc(blen + 1), *pem = cu_malloc(blen + blen / 64 + 80);

	cu_base64_encode(b64, der, n);
	memcpy(pem, "-----BEGIN CERTIFICATE-----\n", 28);
	o = 28;
	for (i = 0; i < blen; i++) {
		pem[o++] = b64[i];
		if (i % 64 == 63 || i + 1 == blen)
			pem[o++] = '\n';
	}
	memcpy(pem + o, "-----END CERTIFICATE-----\n", 27);
	cu_free(b64);
	return pem;
}

/* Lower-case hex pairs joined by ':' of the digest of der, computed here independently. */
static void
expect_fingerprint(const char *got, const EVP_MD *md, const unsigned char *der, size_t n)
{
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0, i;
	char want[3 * EVP_MAX_MD_SIZE];
	static const char hex[] = "0123456789abcdef";

	assert_int_equal(EVP_Digest(der, n, dig, &dlen, md, NULL), 1);
	for (i = 0; i < dlen; i++) {
		want[3 * i] = hex[dig[i] >> 4];
		want[3 * i + 1] = hex[dig[i] & 0xf];
		want[3 * i + 2] = i + 1 < dlen ? ':' : '\0';
	}
	assert_string_equal(got, want);
}

/* "xx:xx:...:xx" with n pairs of lower-case hex. */
static void
expect_fingerprint_shape(const char *fp, size_t n)
{
	size_t i;

	assert_int_equal(strlen(fp), 3 * n - 1);
	for (i = 0; i < 3 * n - 1; i++) {
		if (i % 3 == 2)
			assert_int_equal(fp[i], ':');
		else
			assert_non_null(strchr("0123456789abcdef", fp[i]));
	}
}

static X509 *
parse(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x;

	assert_non_null(bio);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_non_null(x);
	BIO_free(bio);
	return x;
}

static void
free_key(char *key_pem)
{
	cu_wipe(key_pem, strlen(key_pem));
	cu_free(key_pem);
}

/* Generates a pair and checks everything a caller and a relying party would look at. */
static void
check_generated(enum cu_certs_alg alg, const char *san)
{
	struct cu_certs_info ci;
	char *cert = NULL, *key = NULL;
	unsigned char *der;
	size_t derlen = 0;
	time_t before = time(NULL), after;
	X509 *x;
	EVP_PKEY *pub;
	BIGNUM *serial;
	GENERAL_NAMES *gens;
	int crit = -1;

	assert_int_equal(cu_certs_generate(alg, "custos test", san, 30, &cert, &key), 0);
	after = time(NULL);
	assert_non_null(cert);
	assert_non_null(key);
	assert_memory_equal(cert, "-----BEGIN CERTIFICATE-----\n", 28);
	assert_memory_equal(key, "-----BEGIN PRIVATE KEY-----\n", 28);

	assert_int_equal(cu_certs_inspect(cert, strlen(cert), &ci), 0);
	assert_string_equal(ci.ci_key_type, alg == CU_CERTS_RSA ? "rsa" : "ec");
	assert_string_equal(ci.ci_subject, "CN=custos test");
	assert_true(ci.ci_not_after >= before + 30 * 86400 &&
	            ci.ci_not_after <= after + 30 * 86400);
	expect_fingerprint_shape(ci.ci_fingerprint_sha256, 32);
	expect_fingerprint_shape(ci.ci_fingerprint_sha1, 20);
	der = pem_der(cert, &derlen);
	expect_fingerprint(ci.ci_fingerprint_sha256, EVP_sha256(), der, derlen);
	expect_fingerprint(ci.ci_fingerprint_sha1, EVP_sha1(), der, derlen);
	cu_free(der);
	assert_int_equal(cu_certs_key_matches(cert, strlen(cert), key, strlen(key)), 1);

	x = parse(cert);
	pub = X509_get0_pubkey(x);
	assert_non_null(pub);
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
	assert_int_equal(X509_verify(x, pub), 1);
	assert_int_equal(X509_get_signature_nid(x),
	                 alg == CU_CERTS_RSA ? NID_sha256WithRSAEncryption : NID_ecdsa_with_SHA256);
	if (alg == CU_CERTS_RSA) {
		assert_true(EVP_PKEY_is_a(pub, "RSA"));
		assert_int_equal(EVP_PKEY_get_bits(pub), 2048);
		assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	} else {
		char group[32];

		assert_true(EVP_PKEY_is_a(pub, "EC"));
		assert_int_equal(
		    EVP_PKEY_get_utf8_string_param(pub, "group", group, sizeof(group), NULL), 1);
		assert_string_equal(group, "prime256v1");
		assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	}
	/* basicConstraints present and CA:FALSE. */
	assert_true((X509_get_extension_flags(x) & EXFLAG_BCONS) != 0);
	assert_int_equal(X509_check_ca(x), 0);
	assert_non_null(X509_get0_subject_key_id(x));
	/* A positive serial of at most 159 bits. */
	serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	assert_non_null(serial);
	assert_false(BN_is_negative(serial));
	assert_false(BN_is_zero(serial));
	assert_true(BN_num_bits(serial) <= 159);
	BN_free(serial);
	/* Valid now, with a day's grace before. */
	assert_true(X509_cmp_time(X509_get0_notBefore(x), &before) < 0);
	assert_true(X509_cmp_time(X509_get0_notAfter(x), &after) > 0);

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	if (san == NULL) {
		assert_null(gens);
	} else {
		GENERAL_NAME *g;
		const ASN1_IA5STRING *dns;

		assert_non_null(gens);
		assert_int_equal(crit, 0);
		assert_int_equal(sk_GENERAL_NAME_num(gens), 1);
		g = sk_GENERAL_NAME_value(gens, 0);
		dns = GENERAL_NAME_get0_value(g, NULL);
		assert_int_equal(g->type, GEN_DNS);
		assert_int_equal(ASN1_STRING_length(dns), strlen(san));
		assert_memory_equal(ASN1_STRING_get0_data(dns), san, strlen(san));
		GENERAL_NAMES_free(gens);
	}
	X509_free(x);
	cu_free(cert);
	free_key(key);
}

static void
test_generate_rsa(void **state)
{
	(void)state;
	check_generated(CU_CERTS_RSA, "idp.example.com");
}

static void
test_generate_ec(void **state)
{
	(void)state;
	check_generated(CU_CERTS_ECDSA, NULL);
	check_generated(CU_CERTS_ECDSA, "idp.example.com");
}

static void
test_generate_unique(void **state)
{
	struct cu_certs_info a, b;
	char *c1 = NULL, *k1 = NULL, *c2 = NULL, *k2 = NULL;

	(void)state;
	assert_int_equal(cu_certs_generate(CU_CERTS_ECDSA, "same", NULL, 1, &c1, &k1), 0);
	assert_int_equal(cu_certs_generate(CU_CERTS_ECDSA, "same", NULL, 1, &c2, &k2), 0);
	assert_int_equal(cu_certs_inspect(c1, strlen(c1), &a), 0);
	assert_int_equal(cu_certs_inspect(c2, strlen(c2), &b), 0);
	assert_string_not_equal(a.ci_fingerprint_sha256, b.ci_fingerprint_sha256);
	assert_string_not_equal(k1, k2);
	/* Each key belongs to its own certificate only. */
	assert_int_equal(cu_certs_key_matches(c1, strlen(c1), k2, strlen(k2)), 0);
	assert_int_equal(cu_certs_key_matches(c2, strlen(c2), k1, strlen(k1)), 0);
	cu_free(c1);
	cu_free(c2);
	free_key(k1);
	free_key(k2);
}

/* authentik's subject_alt_name field is a comma-separated list; blanks are skipped. */
static void
test_generate_san_list(void **state)
{
	static const char *const want[] = {"a.example", "*.b.example"};
	char *cert = NULL, *key = NULL;
	GENERAL_NAMES *gens;
	X509 *x;
	int i;

	(void)state;
	assert_int_equal(cu_certs_generate(CU_CERTS_ECDSA, "sans", " a.example,, *.b.example , ", 1,
	                                   &cert, &key),
	                 0);
	x = parse(cert);
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	assert_non_null(gens);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 2);
	for (i = 0; i < 2; i++) {
		const ASN1_STRING *s =
		    GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i), NULL);

		assert_int_equal(ASN1_STRING_length(s), strlen(want[i]));
		assert_memory_equal(ASN1_STRING_get0_data(s), want[i], strlen(want[i]));
	}
	GENERAL_NAMES_free(gens);
	X509_free(x);
	cu_free(cert);
	free_key(key);

	/* Only blanks: no extension at all. */
	assert_int_equal(cu_certs_generate(CU_CERTS_ECDSA, "sans", " , ", 1, &cert, &key), 0);
	x = parse(cert);
	assert_int_equal(X509_get_ext_by_NID(x, NID_subject_alt_name, -1), -1);
	X509_free(x);
	cu_free(cert);
	free_key(key);
}

/* Common names longer than X.520's 64 characters are cut there, as authentik cuts them. */
static void
test_generate_long_cn(void **state)
{
	struct cu_certs_info ci;
	char cn[2 * 70 + 1], want[3 + 2 * 64 + 1];
	char *cert = NULL, *key = NULL;
	int i;

	(void)state;
	memset(cn, 'x', 70);
	cn[70] = '\0';
	assert_int_equal(cu_certs_generate(CU_CERTS_ECDSA, cn, NULL, 1, &cert, &key), 0);
	assert_int_equal(cu_certs_inspect(cert, strlen(cert), &ci), 0);
	memcpy(want, "CN=", 3);
	memset(want + 3, 'x', 64);
	want[67] = '\0';
	assert_string_equal(ci.ci_subject, want);
	cu_free(cert);
	free_key(key);

	/* Counted in characters, never cutting one in half. */
	for (i = 0; i < 70; i++)
		memcpy(cn + 2 * i, "\xc3\xbc", 2);
	cn[140] = '\0';
	assert_int_equal(cu_certs_generate(CU_CERTS_ECDSA, cn, NULL, 1, &cert, &key), 0);
	assert_int_equal(cu_certs_inspect(cert, strlen(cert), &ci), 0);
	memcpy(want + 3, cn, 128);
	want[131] = '\0';
	assert_string_equal(ci.ci_subject, want);
	cu_free(cert);
	free_key(key);
}

static void
test_generate_refuses(void **state)
{
	char *cert = NULL, *key = NULL;
	char long_san[300];

	(void)state;
	memset(long_san, 'a', sizeof(long_san) - 1);
	long_san[sizeof(long_san) - 1] = '\0';
	assert_int_equal(cu_certs_generate(CU_CERTS__MAX, "x", NULL, 1, &cert, &key), -1);
	assert_int_equal(cu_certs_generate(CU_CERTS_ECDSA, "", NULL, 1, &cert, &key), -1);
	assert_int_equal(cu_certs_generate(CU_CERTS_ECDSA, "\xff\xfe", NULL, 1, &cert, &key), -1);
	assert_int_equal(cu_certs_generate(CU_CERTS_ECDSA, "x", NULL, 0, &cert, &key), -1);
	assert_int_equal(cu_certs_generate(CU_CERTS_ECDSA, "x", NULL, -1, &cert, &key), -1);
	assert_int_equal(cu_certs_generate(CU_CERTS_ECDSA, "x", NULL, 36501, &cert, &key), -1);
	assert_int_equal(cu_certs_generate(CU_CERTS_ECDSA, "x", "a b.example", 1, &cert, &key), -1);
	assert_int_equal(cu_certs_generate(CU_CERTS_ECDSA, "x", "a\x01.example", 1, &cert, &key),
	                 -1);
	assert_int_equal(cu_certs_generate(CU_CERTS_ECDSA, "x", "\xc3\xbc.example", 1, &cert, &key),
	                 -1);
	assert_int_equal(cu_certs_generate(CU_CERTS_ECDSA, "x", long_san, 1, &cert, &key), -1);
	assert_null(cert);
	assert_null(key);
}

static void
expect_golden(const char *pem, size_t len, const char *sha256, const char *sha1,
              const char *subject, time_t not_after, const char *key_type)
{
	struct cu_certs_info ci;

	memset(&ci, 0x55, sizeof(ci));
	assert_int_equal(cu_certs_inspect(pem, len, &ci), 0);
	assert_string_equal(ci.ci_fingerprint_sha256, sha256);
	assert_string_equal(ci.ci_fingerprint_sha1, sha1);
	assert_string_equal(ci.ci_subject, subject);
	assert_int_equal(ci.ci_not_after, not_after);
	assert_string_equal(ci.ci_key_type, key_type);
}

static void
test_inspect_golden(void **state)
{
	char *crlf, *both, *framed;
	size_t i, o = 0, n = strlen(golden_ec_pem);
	unsigned char *der;
	size_t derlen = 0;

	(void)state;
	expect_golden(golden_ec_pem, n, golden_ec_sha256, golden_ec_sha1, golden_ec_subject,
	              golden_ec_not_after, "ec");
	expect_golden(golden_ed_pem, strlen(golden_ed_pem), golden_ed_sha256, golden_ed_sha1,
	              golden_ed_subject, golden_ed_not_after, "ed25519");
	expect_golden(golden_names_pem, strlen(golden_names_pem), golden_names_sha256,
	              golden_names_sha1, golden_names_subject, golden_names_not_after, "ec");

	/* The fingerprint is the digest of the DER, nothing else. */
	der = pem_der(golden_ec_pem, &derlen);
	expect_fingerprint(golden_ec_sha256, EVP_sha256(), der, derlen);
	expect_fingerprint(golden_ec_sha1, EVP_sha1(), der, derlen);
	cu_free(der);

	/* CRLF line ends, as a browser's textarea sends them. */
	crlf = cu_malloc(2 * n + 1);
	for (i = 0; i < n; i++) {
		if (golden_ec_pem[i] == '\n')
			crlf[o++] = '\r';
		crlf[o++] = golden_ec_pem[i];
	}
	expect_golden(crlf, o, golden_ec_sha256, golden_ec_sha1, golden_ec_subject,
	              golden_ec_not_after, "ec");
	cu_free(crlf);

	/* A chain: the first certificate is the one described. */
	both = cu_malloc(n + strlen(golden_ed_pem) + 1);
	memcpy(both, golden_ed_pem, strlen(golden_ed_pem));
	memcpy(both + strlen(golden_ed_pem), golden_ec_pem, n + 1);
	expect_golden(both, strlen(both), golden_ed_sha256, golden_ed_sha1, golden_ed_subject,
	              golden_ed_not_after, "ed25519");
	cu_free(both);

	/* Text around the block (as openssl pkcs12 leaves it) and a key before it are skipped;
	 * len bounds the read, so no NUL is needed. */
	framed = cu_malloc(n + strlen(golden_ec_key) + 64);
	o = 0;
	memcpy(framed + o, "subject=whatever\n", 17);
	o += 17;
	memcpy(framed + o, golden_ec_key, strlen(golden_ec_key));
	o += strlen(golden_ec_key);
	memcpy(framed + o, golden_ec_pem, n);
	o += n;
	memcpy(framed + o, "trailing", 8);
	expect_golden(framed, o + 8, golden_ec_sha256, golden_ec_sha1, golden_ec_subject,
	              golden_ec_not_after, "ec");
	cu_free(framed);
}

static void
expect_refused(const char *pem, size_t len)
{
	struct cu_certs_info ci;

	assert_int_equal(cu_certs_inspect(pem, len, &ci), -1);
}

static void
test_inspect_refuses(void **state)
{
	static const char encrypted_header[] =
	    "-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n"
	    "DEK-Info: AES-128-CBC,00000000000000000000000000000000\n\n";
	size_t n = strlen(golden_ec_pem), derlen = 0, k;
	char *bad, *pem;
	unsigned char *der, *longer;

	(void)state;
	expect_refused("", 0);
	expect_refused(NULL, 10);
	expect_refused("not a certificate", 17);
	expect_refused(golden_ec_key, strlen(golden_ec_key));
	expect_refused("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", 54);
	expect_refused("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 59);

	/* Cut anywhere, by len or by the text itself: no END line or a DER cut short. */
	for (k = 0; k < n - 1; k += 7)
		expect_refused(golden_ec_pem, k);
	bad = cu_malloc(n + 1);
	memcpy(bad, golden_ec_pem, n + 1);
	memcpy(bad + 200, "\n-----END CERTIFICATE-----\n", 28);
	expect_refused(bad, strlen(bad));

	/* A character outside base64, and a flipped bit the signature does not protect against
	 * parsing (the outer length). */
	memcpy(bad, golden_ec_pem, n + 1);
	bad[40] = '*';
	expect_refused(bad, n);
	memcpy(bad, golden_ec_pem, n + 1);
	bad[28 + 2] = bad[28 + 2] == 'B' ? 'C' : 'B';
	expect_refused(bad, n);
	cu_free(bad);

	/* An encrypted-looking header: refused without asking anyone for a passphrase. */
	pem = cu_malloc(strlen(encrypted_header) + n + 1);
	memcpy(pem, encrypted_header, strlen(encrypted_header));
	memcpy(pem + strlen(encrypted_header), golden_ec_pem + 28, n - 28 + 1);
	expect_refused(pem, strlen(pem));
	cu_free(pem);

	/* Bytes after the certificate inside the block, and a key wrapped as a certificate. */
	der = pem_der(golden_ec_pem, &derlen);
	longer = cu_malloc(derlen + 2);
	memcpy(longer, der, derlen);
	longer[derlen] = 0x05;
	longer[derlen + 1] = 0x00;
	pem = der_pem(longer, derlen + 2);
	expect_refused(pem, strlen(pem));
	cu_free(pem);
	/* The same DER alone passes, so the helper is not what was refused. */
	pem = der_pem(der, derlen);
	expect_golden(pem, strlen(pem), golden_ec_sha256, golden_ec_sha1, golden_ec_subject,
	              golden_ec_not_after, "ec");
	cu_free(pem);
	cu_free(longer);
	cu_free(der);
	der = pem_der(golden_ec_key, &derlen);
	pem = der_pem(der, derlen);
	expect_refused(pem, strlen(pem));
	cu_free(pem);
	cu_free(der);
}

/* Nothing past 1 MiB is read, however valid. */
static void
test_inspect_size_limit(void **state)
{
	struct cu_certs_info ci;
	size_t n = strlen(golden_ec_pem);
	char *big = cu_malloc(MIB + 2);

	(void)state;
	memcpy(big, golden_ec_pem, n);
	memset(big + n, '\n', MIB + 1 - n);
	big[MIB + 1] = '\0';
	assert_int_equal(cu_certs_inspect(big, MIB, &ci), 0);
	assert_string_equal(ci.ci_fingerprint_sha256, golden_ec_sha256);
	assert_int_equal(cu_certs_inspect(big, MIB + 1, &ci), -1);
	assert_int_equal(cu_certs_key_matches(big, MIB + 1, golden_ec_key, strlen(golden_ec_key)),
	                 -1);
	memcpy(big, golden_ec_key, strlen(golden_ec_key));
	memset(big + strlen(golden_ec_key), '\n', MIB + 1 - strlen(golden_ec_key));
	assert_int_equal(cu_certs_key_matches(golden_ec_pem, n, big, MIB), 1);
	assert_int_equal(cu_certs_key_matches(golden_ec_pem, n, big, MIB + 1), -1);
	cu_free(big);
}

/* A self-signed EC certificate whose subject is one CN of n bytes (caller frees). */
static char *
cert_with_cn(size_t n)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIO *out = BIO_new(BIO_s_mem());
	unsigned char *cn = cu_malloc(n);
	char *data = NULL, *s;
	long len;

	assert_non_null(k);
	assert_non_null(x);
	assert_non_null(name);
	assert_non_null(out);
	memset(cn, 'x', n);
	/* A plain string type, not MBSTRING_*, skips OpenSSL's 64-character bound. */
	assert_int_equal(
	    X509_NAME_add_entry_by_NID(name, NID_commonName, V_ASN1_UTF8STRING, cn, (int)n, -1, 0),
	    1);
	assert_int_equal(X509_set_subject_name(x, name), 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_set_pubkey(x, k), 1);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	assert_int_equal(PEM_write_bio_X509(out, x), 1);
	len = BIO_get_mem_data(out, &data);
	s = cu_strndup(data, (size_t)len);
	cu_free(cn);
	BIO_free(out);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(k);
	return s;
}

/* The subject must fit ci_subject whole; a longer one is refused rather than cut. */
static void
test_inspect_subject_fits(void **state)
{
	struct cu_certs_info ci;
	char *pem;

	(void)state;
	pem = cert_with_cn(sizeof(ci.ci_subject) - 1 - 3);
	assert_int_equal(cu_certs_inspect(pem, strlen(pem), &ci), 0);
	assert_int_equal(strlen(ci.ci_subject), sizeof(ci.ci_subject) - 1);
	assert_memory_equal(ci.ci_subject, "CN=xxx", 6);
	cu_free(pem);
	pem = cert_with_cn(sizeof(ci.ci_subject) - 3);
	assert_int_equal(cu_certs_inspect(pem, strlen(pem), &ci), -1);
	cu_free(pem);
}

/* key PEM encrypted under a passphrase (caller frees). */
static char *
encrypted_key(const char *key_pem)
{
	BIO *in = BIO_new_mem_buf(key_pem, -1), *out = BIO_new(BIO_s_mem());
	EVP_PKEY *k;
	char *data = NULL, *s;
	long n;

	assert_non_null(in);
	assert_non_null(out);
	k = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
	assert_non_null(k);
	assert_int_equal(
	    PEM_write_bio_PKCS8PrivateKey(out, k, EVP_aes_256_cbc(), "pw", 2, NULL, NULL), 1);
	n = BIO_get_mem_data(out, &data);
	s = cu_strndup(data, (size_t)n);
	EVP_PKEY_free(k);
	BIO_free(out);
	BIO_free(in);
	return s;
}

static void
test_key_matches(void **state)
{
	/* The golden key's public half (openssl pkey -pubout). */
	static const char pub[] =
	    "-----BEGIN PUBLIC KEY-----\n"
	    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEIDBwRFhk3yPqvB3Bw2uyGPtw5G9a\n"
	    "Bzasn3gjBoRMVE4En0TdXcUFSwt7nX1bCz3OEnpudX/F1xl2bywdu6tTsQ==\n"
	    "-----END PUBLIC KEY-----\n";
	size_t cn = strlen(golden_ec_pem), kn = strlen(golden_ec_key);
	char *rsa_cert = NULL, *rsa_key = NULL, *ec_cert = NULL, *ec_key = NULL, *enc;

	(void)state;
	assert_int_equal(cu_certs_key_matches(golden_ec_pem, cn, golden_ec_key, kn), 1);
	assert_int_equal(cu_certs_generate(CU_CERTS_RSA, "rsa", NULL, 1, &rsa_cert, &rsa_key), 0);
	assert_int_equal(cu_certs_generate(CU_CERTS_ECDSA, "ec", NULL, 1, &ec_cert, &ec_key), 0);

	/* Another key of the same type, and a key of another type. */
	assert_int_equal(cu_certs_key_matches(golden_ec_pem, cn, ec_key, strlen(ec_key)), 0);
	assert_int_equal(cu_certs_key_matches(golden_ec_pem, cn, rsa_key, strlen(rsa_key)), 0);
	assert_int_equal(cu_certs_key_matches(rsa_cert, strlen(rsa_cert), golden_ec_key, kn), 0);
	assert_int_equal(cu_certs_key_matches(rsa_cert, strlen(rsa_cert), rsa_key, strlen(rsa_key)),
	                 1);
	assert_int_equal(
	    cu_certs_key_matches(golden_ed_pem, strlen(golden_ed_pem), golden_ec_key, kn), 0);

	/* Garbage, either way round, a public key, a truncated key, an encrypted key. */
	assert_int_equal(cu_certs_key_matches(golden_ec_pem, cn, "garbage", 7), -1);
	assert_int_equal(cu_certs_key_matches(golden_ec_pem, cn, "", 0), -1);
	assert_int_equal(cu_certs_key_matches(golden_ec_pem, cn, NULL, 0), -1);
	assert_int_equal(cu_certs_key_matches("garbage", 7, golden_ec_key, kn), -1);
	assert_int_equal(cu_certs_key_matches(golden_ec_key, kn, golden_ec_pem, cn), -1);
	assert_int_equal(cu_certs_key_matches(golden_ec_pem, cn, pub, strlen(pub)), -1);
	assert_int_equal(cu_certs_key_matches(golden_ec_pem, cn, golden_ec_key, kn / 2), -1);
	enc = encrypted_key(golden_ec_key);
	assert_non_null(strstr(enc, "ENCRYPTED PRIVATE KEY"));
	assert_int_equal(cu_certs_key_matches(golden_ec_pem, cn, enc, strlen(enc)), -1);
	free_key(enc);

	cu_free(rsa_cert);
	cu_free(ec_cert);
	free_key(rsa_key);
	free_key(ec_key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_generate_rsa),       cmocka_unit_test(test_generate_ec),
	    cmocka_unit_test(test_generate_unique),    cmocka_unit_test(test_generate_san_list),
	    cmocka_unit_test(test_generate_long_cn),   cmocka_unit_test(test_generate_refuses),
	    cmocka_unit_test(test_inspect_golden),     cmocka_unit_test(test_inspect_refuses),
	    cmocka_unit_test(test_inspect_size_limit), cmocka_unit_test(test_inspect_subject_fits),
	    cmocka_unit_test(test_key_matches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
