#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "arena.h"
#include "bounds.h"
#include "certs.h"
#include "crypto.h"
#include "jose.h"
#include "json.h"
#include "mem.h"

/* RFC 7515 Appendix A: the payload every example signs, and the keys. */
#define RFC_PAYLOAD_B64                                                                                \
	"eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl" \
	"fQ"

/* A.1: HS256, the JWK's k decoded at run time. */
static const char a1_k[] =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
static const char a1_jws[] = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." RFC_PAYLOAD_B64
                             ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/* A.2: RS256; the JWK (n, e, d, p, q, dp, dq, qi) as PKCS#8, converted by an independent
 * implementation (python3-jwcrypto), which also verified the example with it. */
static const char a2_key[] = "-----BEGIN PRIVATE KEY-----\n"
                             "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCh+BYK4uPJtGXO\n"
                             "jS1lYmM2K5J9vinh8CR3/BYlzJChNuOL2TSXxbbqY913EeZ8dCn5VrD7io8ImtxL\n"
                             "aYk8wTM/U+3QGbh3hCUv7JFP5IV3aVlL6kKA0ywPVb9ilE8TA5a8bpvfbr3SvaNn\n"
                             "juygxmj3AbONv/s4yDQs4v5tJ/reSlpIdJed1LnPmt7Ex1sFhSwsD174pcF1A5L5\n"
                             "ROjtZMEQxrZHYJqkeDrrnGya11UxMFBji4NmXG9veoKjlnAqH2QbgtPr8jkiGUkf\n"
                             "toaHLFcW9Qr4NY2ai50Xw0Byj3+H2JoY2PyrZ62EWQwuz3WTOTY8BwNNb2BvniHg\n"
                             "VFbK5emhAgMBAAECggEAEq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyW\n"
                             "PEAeP88vLNO97IjlA7/GQ5sLKMgvfTeXZx9SE+7YwVol2NXOoAJe46sui395IW/G\n"
                             "O+pWJ1O0BkTGoVEn2bKVRUCgu+GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzj\n"
                             "kn439X0M/V51gfpRLI9JYanrC4D4qAdGcopV/0ZHHzQlBjudU2QvXt4ehNYTCBr6\n"
                             "XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl/x/jTj3ccPDVZFD9pIuhLhBOneufuBiB\n"
                             "4cS98l2SR/RQyGWSeWjnczT0QU91p1DhOVRuOopznQKBgQDgHMQQ60imZV1URk0K\n"
                             "pLttoLhyt3SmqdEf/kgHePDdtzEafpAu+cS191R2JiuoF2yzWXnwFDcqGigp5BNr\n"
                             "0AHQfD8/Lk8l1Mk09jxxCfui5nYooNyac8YFjm3vItzVCVDnEd3BbVWG8qf6deqE\n"
                             "lMGAg+C2V0L4oNXnP7LZcPAZRwKBgQC5A8R+CZW2MvRTLLHzwZkUXV866cff7tx6\n"
                             "kqa0finGG0KgeqlaZPxgCZnFp7AeAcCMtiynVlJ7vMVgePsLq6XtON4tB5kP9jAP\n"
                             "rq3rbAOal78eUH5OcED6eNuCV8ixEu1eWcPNCS/l1OW1EnXUEoEHKl54Xrrz2uNw\n"
                             "kgMTP1FZ1wKBgAcCn1dwJKufzBWQxWQp1vsM5fggqPN1qGb5y0MAk3g7/Ls5bkUp\n"
                             "5u9SN0Ai3Ya6hNnvWJMb7sXQX6U/zyO2M/hTip7tUeh7CXgwo59dkpN75gJLVds2\n"
                             "9+DAncu3KXU4f2Fa+7bLNrur53k8KwPOq2bbuTG69QtV7Jr5MR0AHWKNAoGBAIf/\n"
                             "evpitUf+4JYbLpvNXWcY052Mpz22aR84mY3nh3F2LF2mjMJDpTg7FmuyPcVw6EcG\n"
                             "yoAe9fa65iNqCq+jdw6PVNGo2hxfjSiZ8IIzHdsPXI89//pMjZcQK9r+CCoRjaZj\n"
                             "OYiIDktVWZzmevJuv6WywUqd57LE3Zar3dLSIkx1AoGAIYd7DHOhrWvxkwPQsRM2\n"
                             "tOgrjbcrfvtQJipd+DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd/QJQ3\n"
                             "ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp/gh6A56\n"
                             "03k2+ZQwVK0JKSHuLFkuQ3U=\n"
                             "-----END PRIVATE KEY-----\n";
static const char a2_input[] = "eyJhbGciOiJSUzI1NiJ9." RFC_PAYLOAD_B64;
static const char a2_sig[] =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5ju"
    "jGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07"
    "Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipU"
    "TI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
static const char a2_n[] =
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4"
    "QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdb"
    "BYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-D"
    "WNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
/* First 32 hex digits of the SHA-256 of the DER SubjectPublicKeyInfo (openssl + hashlib). */
static const char a2_kid[] = "6fd13c2435a361e7c588cd17f55f5ad3";

/* A.3: ES256, public key only (verification) and the private key. */
static const char a3_pub[] = "-----BEGIN PUBLIC KEY-----\n"
                             "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV7\n"
                             "6e8Tus9uPHvRVEXH8UTNG72bfocs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==\n"
                             "-----END PUBLIC KEY-----\n";
static const char a3_key[] = "-----BEGIN PRIVATE KEY-----\n"
                             "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjpsQnnGQmL+YBIff\n"
                             "H1136cspYG6+0iY7X1fCE9+E9LKhRANCAAR/zc4ncPbEXUGDy+5v20t7WAczNXvp\n"
                             "7xO6z248e9FURcfxRM0bvZt+hyzf7bnuufSzaV1uqQskrYpGIyiFiOWt\n"
                             "-----END PRIVATE KEY-----\n";
static const char a3_jws[] =
    "eyJhbGciOiJFUzI1NiJ9." RFC_PAYLOAD_B64
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
static const char a3_x[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
static const char a3_y[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
static const char a3_kid[] = "2bd1bb0c44a897c30a7aa0991cde38d8";

struct fx {
	struct cu_arena fx_a;
};

static int
setup(void **state)
{
	struct fx *f = cu_calloc(1, sizeof(*f));

	cu_arena_init(&f->fx_a);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	cu_arena_free(&f->fx_a);
	cu_free(f);
	return 0;
}

static void
key_pem(struct cu_jose_key *k, const char *pem)
{
	assert_int_equal(cu_jose_key_from_pem(k, pem, strlen(pem), NULL), 0);
}

static void
key_a1(struct cu_jose_key *k)
{
	unsigned char secret[64];
	size_t len = 0;

	assert_int_equal(cu_base64url_decode(secret, &len, a1_k, strlen(a1_k)), 0);
	assert_int_equal(len, 64);
	cu_jose_key_hmac(k, secret, len);
}

/* A fresh key of type ("RSA", "EC", "ED25519") and parameter (bits, curve) as PKCS#8 PEM
 * (private) or SubjectPublicKeyInfo PEM (public), arena-owned. */
static const char *
gen_pem(struct cu_arena *a, const char *type, const char *curve, size_t bits, int public_only)
{
	EVP_PKEY *pkey;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *out;
	long n;

	if (strcmp(type, "RSA") == 0)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);
	else if (strcmp(type, "EC") == 0)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
	else
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, type);
	assert_non_null(pkey);
	assert_non_null(bio);
	if (public_only)
		assert_int_equal(PEM_write_bio_PUBKEY(bio, pkey), 1);
	else
		assert_int_equal(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(bio, &data);
	out = cu_arena_strndup(a, data, (size_t)n);
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return out;
}

/* A token from header and payload text as given, signed with k (NULL: empty signature). */
static const char *
craft(struct cu_arena *a, const char *header, const char *payload, const struct cu_jose_key *k)
{
	char *h = cu_arena_alloc(a, cu_base64url_enc_len(strlen(header)) + 1);
	char *p = cu_arena_alloc(a, cu_base64url_enc_len(strlen(payload)) + 1);
	const char *input, *sig = "";

	cu_base64url_encode(h, header, strlen(header));
	cu_base64url_encode(p, payload, strlen(payload));
	input = cu_arena_printf(a, "%s.%s", h, p);
	if (k != NULL)
		assert_int_equal(cu_jose_sign_input(a, k, input, strlen(input), &sig), 0);
	return cu_arena_printf(a, "%s.%s", input, sig);
}

static enum cu_err
verify(struct cu_arena *a, const struct cu_jose_key *k, const char *jwt)
{
	struct json_object *claims = (struct json_object *)1, *hdr = (struct json_object *)1;
	enum cu_err err = cu_jose_verify(a, k, jwt, strlen(jwt), &claims, &hdr);

	if (err != CU_OK) {
		assert_null(claims);
		assert_null(hdr);
	} else {
		assert_non_null(claims);
		assert_non_null(hdr);
	}
	return err;
}

static void
assert_rfc_claims(struct json_object *claims)
{
	const char *iss = NULL;
	int64_t exp = 0;
	int root = 0;

	assert_int_equal(cu_json_get_string(claims, "iss", &iss), 0);
	assert_string_equal(iss, "joe");
	assert_int_equal(cu_json_get_int(claims, "exp", &exp), 0);
	assert_int_equal(exp, 1300819380);
	assert_int_equal(cu_json_get_bool(claims, "http://example.com/is_root", &root), 0);
	assert_true(root);
}

static void
test_alg_names(void **state)
{
	(void)state;
	assert_string_equal(cu_jose_alg_name(CU_JOSE_HS256), "HS256");
	assert_string_equal(cu_jose_alg_name(CU_JOSE_ES512), "ES512");
	assert_int_equal(cu_jose_alg_from_name("RS256"), CU_JOSE_RS256);
	assert_int_equal(cu_jose_alg_from_name("ES384"), CU_JOSE_ES384);
	assert_int_equal(cu_jose_alg_from_name("none"), -1);
	assert_int_equal(cu_jose_alg_from_name("None"), -1);
	assert_int_equal(cu_jose_alg_from_name("rs256"), -1);
	assert_int_equal(cu_jose_alg_from_name("PS256"), -1);
	assert_int_equal(cu_jose_alg_from_name(""), -1);
	assert_int_equal(cu_jose_alg_from_name(NULL), -1);
}

static void
test_rfc7515_a1_hs256(void **state)
{
	struct fx *f = *state;
	struct cu_jose_key k;
	struct json_object *claims = NULL, *hdr = NULL;
	const char *sig = NULL, *typ = NULL;
	size_t input_len = strlen(a1_jws) - strlen(".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");

	key_a1(&k);
	assert_int_equal(cu_jose_verify(&f->fx_a, &k, a1_jws, strlen(a1_jws), &claims, &hdr),
	                 CU_OK);
	assert_rfc_claims(claims);
	assert_int_equal(cu_json_get_string(hdr, "typ", &typ), 0);
	assert_string_equal(typ, "JWT");
	/* The signature of the exact signing input is the RFC's. */
	assert_int_equal(cu_jose_sign_input(&f->fx_a, &k, a1_jws, input_len, &sig), 0);
	assert_string_equal(sig, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
	/* An HMAC key has no public form. */
	assert_int_equal(cu_jose_jwk(&f->fx_a, &k, &hdr), -1);
	assert_null(hdr);
	cu_jose_key_free(&k);
}

static void
test_rfc7515_a2_rs256(void **state)
{
	struct fx *f = *state;
	struct cu_jose_key k;
	struct json_object *claims = NULL, *jwk = NULL;
	const char *sig = NULL, *s = NULL, *jws;

	key_pem(&k, a2_key);
	assert_int_equal(k.jk_alg, CU_JOSE_RS256);
	assert_string_equal(k.jk_kid, a2_kid);
	/* PKCS#1 v1.5 is deterministic: the exact signature of A.2. */
	assert_int_equal(cu_jose_sign_input(&f->fx_a, &k, a2_input, strlen(a2_input), &sig), 0);
	assert_string_equal(sig, a2_sig);
	jws = cu_arena_printf(&f->fx_a, "%s.%s", a2_input, a2_sig);
	assert_int_equal(cu_jose_verify(&f->fx_a, &k, jws, strlen(jws), &claims, NULL), CU_OK);
	assert_rfc_claims(claims);
	assert_int_equal(cu_jose_jwk(&f->fx_a, &k, &jwk), 0);
	assert_int_equal(cu_json_get_string(jwk, "kty", &s), 0);
	assert_string_equal(s, "RSA");
	assert_int_equal(cu_json_get_string(jwk, "alg", &s), 0);
	assert_string_equal(s, "RS256");
	assert_int_equal(cu_json_get_string(jwk, "use", &s), 0);
	assert_string_equal(s, "sig");
	assert_int_equal(cu_json_get_string(jwk, "kid", &s), 0);
	assert_string_equal(s, a2_kid);
	assert_int_equal(cu_json_get_string(jwk, "n", &s), 0);
	assert_string_equal(s, a2_n);
	assert_int_equal(cu_json_get_string(jwk, "e", &s), 0);
	assert_string_equal(s, "AQAB");
	/* Never a private part, and no x5c without a certificate. */
	assert_int_not_equal(cu_json_get_string(jwk, "d", &s), 0);
	assert_int_not_equal(cu_json_get_string(jwk, "p", &s), 0);
	assert_false(json_object_object_get_ex(jwk, "x5c", NULL));
	cu_jose_key_free(&k);
}

static void
test_rfc7515_a3_es256(void **state)
{
	struct fx *f = *state;
	struct cu_jose_key pub, priv;
	struct json_object *claims = NULL, *jwk = NULL;
	const char *s = NULL, *jwt = NULL;

	key_pem(&pub, a3_pub);
	key_pem(&priv, a3_key);
	assert_int_equal(pub.jk_alg, CU_JOSE_ES256);
	assert_string_equal(pub.jk_kid, a3_kid);
	assert_string_equal(priv.jk_kid, a3_kid);
	assert_int_equal(cu_jose_verify(&f->fx_a, &pub, a3_jws, strlen(a3_jws), &claims, NULL),
	                 CU_OK);
	assert_rfc_claims(claims);
	assert_int_equal(verify(&f->fx_a, &priv, a3_jws), CU_OK);
	assert_int_equal(cu_jose_jwk(&f->fx_a, &pub, &jwk), 0);
	assert_int_equal(cu_json_get_string(jwk, "kty", &s), 0);
	assert_string_equal(s, "EC");
	assert_int_equal(cu_json_get_string(jwk, "crv", &s), 0);
	assert_string_equal(s, "P-256");
	assert_int_equal(cu_json_get_string(jwk, "x", &s), 0);
	assert_string_equal(s, a3_x);
	assert_int_equal(cu_json_get_string(jwk, "y", &s), 0);
	assert_string_equal(s, a3_y);
	assert_int_not_equal(cu_json_get_string(jwk, "d", &s), 0);
	/* A public key verifies but cannot sign. */
	assert_int_equal(cu_jose_sign(&f->fx_a, &pub, cu_json_object(&f->fx_a), NULL, &jwt), -1);
	assert_null(jwt);
	cu_jose_key_free(&pub);
	cu_jose_key_free(&priv);
}

/* Signs claims with k and checks the token: header, signature length, verification. */
static void
roundtrip(struct cu_arena *a, const struct cu_jose_key *k, size_t sig_bytes)
{
	struct json_object *claims = cu_json_object(a), *got = NULL, *hdr = NULL;
	const char *jwt = NULL, *s = NULL, *dot;
	int64_t iat = 0;

	cu_json_set_string(claims, "sub", "user/ü");
	cu_json_set_string(claims, "aud", "https://rp.example/cb");
	cu_json_set_int(claims, "iat", 1700000000);
	assert_int_equal(cu_jose_sign(a, k, claims, "logout+jwt", &jwt), 0);
	assert_non_null(jwt);
	dot = strrchr(jwt, '.');
	assert_non_null(dot);
	assert_int_equal(strlen(dot + 1), cu_base64url_enc_len(sig_bytes));
	assert_int_equal(cu_jose_verify(a, k, jwt, strlen(jwt), &got, &hdr), CU_OK);
	assert_int_equal(cu_json_get_string(got, "sub", &s), 0);
	assert_string_equal(s, "user/ü");
	assert_int_equal(cu_json_get_string(got, "aud", &s), 0);
	assert_string_equal(s, "https://rp.example/cb");
	assert_int_equal(cu_json_get_int(got, "iat", &iat), 0);
	assert_int_equal(iat, 1700000000);
	assert_int_equal(cu_json_get_string(hdr, "alg", &s), 0);
	assert_string_equal(s, cu_jose_alg_name(k->jk_alg));
	assert_int_equal(cu_json_get_string(hdr, "typ", &s), 0);
	assert_string_equal(s, "logout+jwt");
	if (k->jk_kid[0] != '\0') {
		assert_int_equal(cu_json_get_string(hdr, "kid", &s), 0);
		assert_string_equal(s, k->jk_kid);
	} else {
		assert_false(json_object_object_get_ex(hdr, "kid", NULL));
	}
	/* The default typ. */
	assert_int_equal(cu_jose_sign(a, k, claims, NULL, &jwt), 0);
	assert_int_equal(cu_jose_verify(a, k, jwt, strlen(jwt), &got, &hdr), CU_OK);
	assert_int_equal(cu_json_get_string(hdr, "typ", &s), 0);
	assert_string_equal(s, "JWT");
}

static void
test_roundtrip_all(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *type, *curve;
		size_t bits, sig_bytes;
		enum cu_jose_alg alg;
	} cases[] = {
	    {"RSA", NULL, 2048, 256, CU_JOSE_RS256}, {"RSA", NULL, 3072, 384, CU_JOSE_RS256},
	    {"EC", "P-256", 0, 64, CU_JOSE_ES256},   {"EC", "P-384", 0, 96, CU_JOSE_ES384},
	    {"EC", "P-521", 0, 132, CU_JOSE_ES512},
	};
	struct cu_jose_key k, pub;
	struct json_object *claims = NULL;
	const char *jwt = NULL;
	size_t i;
	int n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cu_arena *a = &f->fx_a;
		const char *pem = gen_pem(a, cases[i].type, cases[i].curve, cases[i].bits, 0);

		key_pem(&k, pem);
		assert_int_equal(k.jk_alg, cases[i].alg);
		assert_int_equal(strlen(k.jk_kid), 32);
		/* ECDSA signatures differ every time; each must verify. */
		for (n = 0; n < 8; n++)
			roundtrip(a, &k, cases[i].sig_bytes);
		/* The public half alone verifies and names the key alike. */
		assert_int_equal(cu_jose_sign(a, &k, cu_json_object(a), NULL, &jwt), 0);
		cu_jose_key_free(&k);
		key_pem(&pub, gen_pem(a, cases[i].type, cases[i].curve, cases[i].bits, 1));
		/* A different key: the signature does not verify under it. */
		assert_int_equal(cu_jose_verify(a, &pub, jwt, strlen(jwt), &claims, NULL),
		                 CU_ERR_INVALID);
		cu_jose_key_free(&pub);
	}
	cu_jose_key_hmac(&k, "a shared secret of enough length..", 34);
	roundtrip(&f->fx_a, &k, 32);
	cu_jose_key_free(&k);
}

static void
test_certificate_jwk(void **state)
{
	struct fx *f = *state;
	char *cert = NULL, *key = NULL;
	struct cu_jose_key k;
	struct json_object *jwk = NULL, *x5c = NULL;
	const char *der_b64, *s = NULL;
	unsigned char der[4096], sha1[20], sha256[32];
	char t[64], body[6000];
	size_t derlen = 0, i, o = 0;
	const char *p;

	(void)state;
	assert_int_equal(cu_certs_generate(CU_CERTS_ECDSA, "jwk-test", NULL, 30, &cert, &key), 0);
	assert_int_equal(cu_jose_key_from_pem(&k, key, strlen(key), cert), 0);
	assert_int_equal(cu_jose_jwk(&f->fx_a, &k, &jwk), 0);
	assert_int_equal(cu_json_get_array(jwk, "x5c", &x5c), 0);
	assert_int_equal(json_object_array_length(x5c), 1);
	der_b64 = json_object_get_string(json_object_array_get_idx(x5c, 0));
	/* x5c is the certificate's DER in standard base64: the PEM body without line breaks. */
	p = strstr(cert, "-----\n") + 6;
	for (i = 0; p[i] != '-' && o < sizeof(body) - 1; i++)
		if (p[i] != '\n')
			body[o++] = p[i];
	body[o] = '\0';
	assert_string_equal(der_b64, body);
	assert_int_equal(cu_base64_decode(der, &derlen, der_b64, strlen(der_b64)), 0);
	assert_int_equal(EVP_Digest(der, derlen, sha1, NULL, EVP_sha1(), NULL), 1);
	cu_crypto_sha256(sha256, der, derlen);
	cu_base64url_encode(t, sha1, sizeof(sha1));
	assert_int_equal(cu_json_get_string(jwk, "x5t", &s), 0);
	assert_string_equal(s, t);
	cu_base64url_encode(t, sha256, sizeof(sha256));
	assert_int_equal(cu_json_get_string(jwk, "x5t#S256", &s), 0);
	assert_string_equal(s, t);
	assert_int_equal(cu_json_get_string(jwk, "alg", &s), 0);
	assert_string_equal(s, "ES256");
	/* The key from the certificate alone has the same kid. */
	{
		struct cu_jose_key c;

		assert_int_equal(cu_jose_key_from_pem(&c, cert, strlen(cert), NULL), 0);
		assert_string_equal(c.jk_kid, k.jk_kid);
		cu_jose_key_free(&c);
	}
	cu_jose_key_free(&k);
	cu_wipe(key, strlen(key));
	cu_free(key);
	cu_free(cert);
}

static void
test_refuse_unsupported_keys(void **state)
{
	struct fx *f = *state;
	struct cu_jose_key k;
	const char *pem;

	pem = gen_pem(&f->fx_a, "RSA", NULL, 1024, 0);
	assert_int_equal(cu_jose_key_from_pem(&k, pem, strlen(pem), NULL), -1);
	pem = gen_pem(&f->fx_a, "RSA", NULL, 1024, 1);
	assert_int_equal(cu_jose_key_from_pem(&k, pem, strlen(pem), NULL), -1);
	pem = gen_pem(&f->fx_a, "ED25519", NULL, 0, 0);
	assert_int_equal(cu_jose_key_from_pem(&k, pem, strlen(pem), NULL), -1);
	pem = gen_pem(&f->fx_a, "EC", "secp256k1", 0, 0);
	assert_int_equal(cu_jose_key_from_pem(&k, pem, strlen(pem), NULL), -1);
	assert_int_equal(cu_jose_key_from_pem(&k, "garbage", 7, NULL), -1);
	assert_int_equal(cu_jose_key_from_pem(&k, a2_key, 0, NULL), -1);
	/* Truncated. */
	assert_int_equal(cu_jose_key_from_pem(&k, a2_key, strlen(a2_key) / 2, NULL), -1);
	assert_null(k.jk_pkey);
}

static void
test_refuse_alg_none(void **state)
{
	struct fx *f = *state;
	struct cu_jose_key hs, rs;
	const char *jwt;

	key_a1(&hs);
	key_pem(&rs, a2_key);
	jwt = craft(&f->fx_a, "{\"alg\":\"none\"}", "{\"sub\":\"x\"}", NULL);
	assert_int_equal(verify(&f->fx_a, &hs, jwt), CU_ERR_INVALID);
	assert_int_equal(verify(&f->fx_a, &rs, jwt), CU_ERR_INVALID);
	/* A none token carrying some signature anyway. */
	jwt = craft(&f->fx_a, "{\"alg\":\"none\"}", "{\"sub\":\"x\"}", &hs);
	assert_int_equal(verify(&f->fx_a, &hs, jwt), CU_ERR_INVALID);
	jwt = craft(&f->fx_a, "{\"alg\":\"NONE\"}", "{\"sub\":\"x\"}", &hs);
	assert_int_equal(verify(&f->fx_a, &hs, jwt), CU_ERR_INVALID);
	/* No alg at all, or not a string. */
	jwt = craft(&f->fx_a, "{\"typ\":\"JWT\"}", "{\"sub\":\"x\"}", &hs);
	assert_int_equal(verify(&f->fx_a, &hs, jwt), CU_ERR_INVALID);
	jwt = craft(&f->fx_a, "{\"alg\":null}", "{\"sub\":\"x\"}", &hs);
	assert_int_equal(verify(&f->fx_a, &hs, jwt), CU_ERR_INVALID);
	cu_jose_key_free(&hs);
	cu_jose_key_free(&rs);
}

static void
test_refuse_other_alg(void **state)
{
	struct fx *f = *state;
	struct cu_jose_key es256, es384;
	const char *jwt = NULL;

	key_pem(&es256, a3_key);
	key_pem(&es384, gen_pem(&f->fx_a, "EC", "P-384", 0, 0));
	/* Signed by ES256 but the header claims ES384: refused by both keys. */
	jwt = craft(&f->fx_a, "{\"alg\":\"ES384\"}", "{\"sub\":\"x\"}", &es256);
	assert_int_equal(verify(&f->fx_a, &es256, jwt), CU_ERR_INVALID);
	assert_int_equal(verify(&f->fx_a, &es384, jwt), CU_ERR_INVALID);
	/* The honest header verifies with its own key only. */
	jwt = craft(&f->fx_a, "{\"alg\":\"ES256\"}", "{\"sub\":\"x\"}", &es256);
	assert_int_equal(verify(&f->fx_a, &es256, jwt), CU_OK);
	assert_int_equal(verify(&f->fx_a, &es384, jwt), CU_ERR_INVALID);
	/* The RFC's RS256 token against an EC key. */
	jwt = cu_arena_printf(&f->fx_a, "%s.%s", a2_input, a2_sig);
	assert_int_equal(verify(&f->fx_a, &es256, jwt), CU_ERR_INVALID);
	cu_jose_key_free(&es256);
	cu_jose_key_free(&es384);
}

/* The classic confusion: HS256 with the public key's PEM (which anyone can read) as the HMAC
 * secret, presented to a verifier that holds the RSA or EC key. */
static void
test_refuse_hs256_with_public_key(void **state)
{
	struct fx *f = *state;
	struct cu_jose_key rs, es, forged;
	const char *pub_rs = gen_pem(&f->fx_a, "RSA", NULL, 2048, 1);
	const char *jwt;

	key_pem(&rs, pub_rs);
	key_pem(&es, a3_pub);
	cu_jose_key_hmac(&forged, pub_rs, strlen(pub_rs));
	jwt = craft(&f->fx_a, "{\"alg\":\"HS256\"}", "{\"sub\":\"admin\"}", &forged);
	assert_int_equal(verify(&f->fx_a, &rs, jwt), CU_ERR_INVALID);
	cu_jose_key_free(&forged);
	cu_jose_key_hmac(&forged, a3_pub, strlen(a3_pub));
	jwt = craft(&f->fx_a, "{\"alg\":\"HS256\",\"kid\":\"2bd1bb0c44a897c30a7aa0991cde38d8\"}",
	            "{\"sub\":\"admin\"}", &forged);
	assert_int_equal(verify(&f->fx_a, &es, jwt), CU_ERR_INVALID);
	/* The forger's own key would accept it: the refusal is the verifier's doing. */
	assert_int_equal(verify(&f->fx_a, &forged, jwt), CU_OK);
	cu_jose_key_free(&forged);
	cu_jose_key_free(&rs);
	cu_jose_key_free(&es);
}

static void
test_refuse_oversized(void **state)
{
	struct fx *f = *state;
	struct cu_jose_key k;
	struct json_object *claims;
	char *filler;
	const char *jwt = NULL;
	size_t n;

	key_a1(&k);
	/* A token of exactly CU_JOSE_MAX_TOKEN bytes verifies; one byte more does not. */
	for (n = CU_JOSE_MAX_TOKEN / 4 * 3 - 200;; n++) {
		claims = cu_json_object(&f->fx_a);
		filler = cu_arena_alloc(&f->fx_a, n + 1);
		memset(filler, 'a', n);
		filler[n] = '\0';
		cu_json_set_string(claims, "f", filler);
		assert_int_equal(cu_jose_sign(&f->fx_a, &k, claims, NULL, &jwt), 0);
		if (strlen(jwt) >= CU_JOSE_MAX_TOKEN)
			break;
	}
	if (strlen(jwt) == CU_JOSE_MAX_TOKEN) {
		assert_int_equal(verify(&f->fx_a, &k, jwt), CU_OK);
		cu_json_set_string(claims, "f", cu_arena_printf(&f->fx_a, "%sa", filler));
		assert_int_equal(cu_jose_sign(&f->fx_a, &k, claims, NULL, &jwt), 0);
	}
	assert_true(strlen(jwt) > CU_JOSE_MAX_TOKEN);
	assert_int_equal(verify(&f->fx_a, &k, jwt), CU_ERR_INVALID);
	assert_int_equal(cu_jose_peek(&f->fx_a, jwt, strlen(jwt), &claims, NULL), CU_ERR_INVALID);
	cu_jose_key_free(&k);
}

static void
test_refuse_bad_base64(void **state)
{
	struct fx *f = *state;
	struct cu_jose_key k;
	struct json_object *claims = NULL;
	const char *good, *bad;
	char *t;
	size_t hlen;

	key_a1(&k);
	assert_int_equal(verify(&f->fx_a, &k, a1_jws), CU_OK);
	hlen = (size_t)(strchr(a1_jws, '.') - a1_jws);
	/* Standard-alphabet characters, padding, whitespace, a NUL in each part. */
	bad = cu_arena_printf(&f->fx_a, "%.*s+%s", (int)hlen, a1_jws, a1_jws + hlen);
	assert_int_equal(verify(&f->fx_a, &k, bad), CU_ERR_INVALID);
	bad = cu_arena_printf(&f->fx_a, "%s=", a1_jws);
	assert_int_equal(verify(&f->fx_a, &k, bad), CU_ERR_INVALID);
	bad = cu_arena_printf(&f->fx_a, "%s\n", a1_jws);
	assert_int_equal(verify(&f->fx_a, &k, bad), CU_ERR_INVALID);
	bad = cu_arena_printf(&f->fx_a, " %s", a1_jws);
	assert_int_equal(verify(&f->fx_a, &k, bad), CU_ERR_INVALID);
	t = cu_arena_strdup(&f->fx_a, a1_jws);
	t[hlen + 3] = '/';
	assert_int_equal(verify(&f->fx_a, &k, t), CU_ERR_INVALID);
	t = cu_arena_strdup(&f->fx_a, a1_jws);
	t[hlen + 3] = '\0';
	assert_int_equal(cu_jose_verify(&f->fx_a, &k, t, strlen(a1_jws), &claims, NULL),
	                 CU_ERR_INVALID);
	assert_null(claims);
	/* The signature's last character with nonzero spare bits: same bytes, second encoding. */
	good = craft(&f->fx_a, "{\"alg\":\"HS256\"}", "{\"a\":1}", &k);
	t = cu_arena_strdup(&f->fx_a, good);
	/* 32 bytes encode to 43 characters: the last one carries 4 bits and 2 spare bits. */
	t[strlen(t) - 1] = (char)(t[strlen(t) - 1] == 'A' ? 'B' : t[strlen(t) - 1] ^ 1);
	assert_int_equal(verify(&f->fx_a, &k, good), CU_OK);
	assert_int_equal(verify(&f->fx_a, &k, t), CU_ERR_INVALID);
	cu_jose_key_free(&k);
}

static void
test_refuse_not_objects(void **state)
{
	struct fx *f = *state;
	struct cu_jose_key k;
	struct json_object *claims = NULL;
	const char *jwt;

	key_a1(&k);
	/* Headers that are not a JSON object. */
	jwt = craft(&f->fx_a, "[\"HS256\"]", "{\"a\":1}", &k);
	assert_int_equal(verify(&f->fx_a, &k, jwt), CU_ERR_INVALID);
	jwt = craft(&f->fx_a, "\"HS256\"", "{\"a\":1}", &k);
	assert_int_equal(verify(&f->fx_a, &k, jwt), CU_ERR_INVALID);
	jwt = craft(&f->fx_a, "null", "{\"a\":1}", &k);
	assert_int_equal(verify(&f->fx_a, &k, jwt), CU_ERR_INVALID);
	jwt = craft(&f->fx_a, "{\"alg\":\"HS256\"", "{\"a\":1}", &k);
	assert_int_equal(verify(&f->fx_a, &k, jwt), CU_ERR_INVALID);
	/* Payloads that are not a JSON object, correctly signed. */
	jwt = craft(&f->fx_a, "{\"alg\":\"HS256\"}", "[1,2]", &k);
	assert_int_equal(verify(&f->fx_a, &k, jwt), CU_ERR_INVALID);
	jwt = craft(&f->fx_a, "{\"alg\":\"HS256\"}", "42", &k);
	assert_int_equal(verify(&f->fx_a, &k, jwt), CU_ERR_INVALID);
	jwt = craft(&f->fx_a, "{\"alg\":\"HS256\"}", "Payload", &k);
	assert_int_equal(verify(&f->fx_a, &k, jwt), CU_ERR_INVALID);
	jwt = craft(&f->fx_a, "{\"alg\":\"HS256\"}", "{\"a\":1} trailing", &k);
	assert_int_equal(verify(&f->fx_a, &k, jwt), CU_ERR_INVALID);
	assert_int_equal(cu_jose_peek(&f->fx_a, jwt, strlen(jwt), &claims, NULL), CU_ERR_INVALID);
	assert_null(claims);
	/* The control: the same shape with an object verifies. */
	jwt = craft(&f->fx_a, "{\"alg\":\"HS256\"}", "{\"a\":1}", &k);
	assert_int_equal(verify(&f->fx_a, &k, jwt), CU_OK);
	cu_jose_key_free(&k);
}

static void
test_refuse_crit(void **state)
{
	struct fx *f = *state;
	struct cu_jose_key k;
	const char *jwt;

	key_a1(&k);
	jwt = craft(&f->fx_a, "{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", "{\"a\":1}", &k);
	assert_int_equal(verify(&f->fx_a, &k, jwt), CU_ERR_INVALID);
	jwt = craft(&f->fx_a, "{\"alg\":\"HS256\",\"b64\":false,\"crit\":[\"b64\"]}", "{\"a\":1}",
	            &k);
	assert_int_equal(verify(&f->fx_a, &k, jwt), CU_ERR_INVALID);
	jwt = craft(&f->fx_a, "{\"alg\":\"HS256\",\"crit\":[]}", "{\"a\":1}", &k);
	assert_int_equal(verify(&f->fx_a, &k, jwt), CU_ERR_INVALID);
	cu_jose_key_free(&k);
}

static void
test_refuse_part_count(void **state)
{
	struct fx *f = *state;
	struct cu_jose_key k;
	struct json_object *claims = NULL;
	const char *good, *bad;
	size_t i, n;

	key_a1(&k);
	good = a1_jws;
	n = strlen(good);
	/* Two parts: the signature dropped, or the payload dropped. */
	bad = cu_arena_strndup(&f->fx_a, good, (size_t)(strrchr(good, '.') - good));
	assert_int_equal(verify(&f->fx_a, &k, bad), CU_ERR_INVALID);
	assert_int_equal(cu_jose_peek(&f->fx_a, bad, strlen(bad), &claims, NULL), CU_ERR_INVALID);
	/* Four and five parts. */
	bad = cu_arena_printf(&f->fx_a, "%s.", good);
	assert_int_equal(verify(&f->fx_a, &k, bad), CU_ERR_INVALID);
	bad = cu_arena_printf(&f->fx_a, "%s.%s", good, "e30.e30");
	assert_int_equal(verify(&f->fx_a, &k, bad), CU_ERR_INVALID);
	assert_int_equal(cu_jose_peek(&f->fx_a, bad, strlen(bad), &claims, NULL), CU_ERR_INVALID);
	/* Empty parts and empty input. */
	assert_int_equal(verify(&f->fx_a, &k, ".."), CU_ERR_INVALID);
	assert_int_equal(verify(&f->fx_a, &k, ""), CU_ERR_INVALID);
	bad = cu_arena_printf(&f->fx_a, "%.*s.", (int)(strrchr(good, '.') - good), good);
	assert_int_equal(verify(&f->fx_a, &k, bad), CU_ERR_INVALID);
	/* Every prefix of a good token is refused. */
	for (i = 0; i < n; i++)
		assert_int_equal(cu_jose_verify(&f->fx_a, &k, good, i, &claims, NULL),
		                 CU_ERR_INVALID);
	assert_int_equal(cu_jose_verify(&f->fx_a, &k, good, n, &claims, NULL), CU_OK);
	cu_jose_key_free(&k);
}

static void
test_refuse_tampered(void **state)
{
	struct fx *f = *state;
	struct cu_jose_key hs, rs, es;
	const char *toks[3];
	const struct cu_jose_key *keys[3];
	struct json_object *claims;
	size_t i, dot1, dot2;
	char *t;

	key_a1(&hs);
	key_pem(&rs, a2_key);
	key_pem(&es, a3_key);
	keys[0] = &hs;
	keys[1] = &rs;
	keys[2] = &es;
	for (i = 0; i < 3; i++) {
		claims = cu_json_object(&f->fx_a);
		cu_json_set_string(claims, "sub", "alice");
		cu_json_set_int(claims, "exp", 2000000000);
		assert_int_equal(cu_jose_sign(&f->fx_a, keys[i], claims, NULL, &toks[i]), 0);
		assert_int_equal(verify(&f->fx_a, keys[i], toks[i]), CU_OK);
	}
	for (i = 0; i < 3; i++) {
		dot1 = (size_t)(strchr(toks[i], '.') - toks[i]);
		dot2 = (size_t)(strrchr(toks[i], '.') - toks[i]);
		/* A payload with another subject under the old signature. */
		claims = cu_json_object(&f->fx_a);
		cu_json_set_string(claims, "sub", "admin");
		cu_json_set_int(claims, "exp", 2000000000);
		{
			const char *other = NULL;
			size_t odot1, odot2;

			assert_int_equal(cu_jose_sign(&f->fx_a, keys[i], claims, NULL, &other), 0);
			odot1 = (size_t)(strchr(other, '.') - other);
			odot2 = (size_t)(strrchr(other, '.') - other);
			t = cu_arena_printf(&f->fx_a, "%.*s%.*s%s", (int)dot1, toks[i],
			                    (int)(odot2 - odot1), other + odot1, toks[i] + dot2);
			assert_int_equal(verify(&f->fx_a, keys[i], t), CU_ERR_INVALID);
		}
		/* One character of the payload changed. */
		t = cu_arena_strdup(&f->fx_a, toks[i]);
		t[dot1 + 5] = (char)(t[dot1 + 5] == 'x' ? 'y' : 'x');
		assert_int_equal(verify(&f->fx_a, keys[i], t), CU_ERR_INVALID);
		/* One character in the middle of the signature changed. */
		t = cu_arena_strdup(&f->fx_a, toks[i]);
		t[dot2 + 10] = (char)(t[dot2 + 10] == 'x' ? 'y' : 'x');
		assert_int_equal(verify(&f->fx_a, keys[i], t), CU_ERR_INVALID);
		/* The signature of another token. */
		t = cu_arena_printf(&f->fx_a, "%.*s%s", (int)dot2, toks[i],
		                    strrchr(toks[(i + 1) % 3], '.'));
		assert_int_equal(verify(&f->fx_a, keys[i], t), CU_ERR_INVALID);
	}
	/* A valid ECDSA signature of the right input, but in DER rather than r || s. */
	{
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		unsigned char der[80];
		char b64[120];
		size_t derlen = sizeof(der), input = (size_t)(strrchr(toks[2], '.') - toks[2]);

		assert_non_null(md);
		assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, es.jk_pkey), 1);
		assert_int_equal(
		    EVP_DigestSign(md, der, &derlen, (const unsigned char *)toks[2], input), 1);
		EVP_MD_CTX_free(md);
		cu_base64url_encode(b64, der, derlen);
		t = cu_arena_printf(&f->fx_a, "%.*s.%s", (int)input, toks[2], b64);
		assert_int_equal(verify(&f->fx_a, &es, t), CU_ERR_INVALID);
	}
	cu_jose_key_free(&hs);
	cu_jose_key_free(&rs);
	cu_jose_key_free(&es);
}

static void
test_kid(void **state)
{
	struct fx *f = *state;
	struct cu_jose_key k;
	const char *jwt;

	key_pem(&k, a3_key);
	jwt = craft(&f->fx_a, "{\"alg\":\"ES256\",\"kid\":\"2bd1bb0c44a897c30a7aa0991cde38d8\"}",
	            "{\"a\":1}", &k);
	assert_int_equal(verify(&f->fx_a, &k, jwt), CU_OK);
	jwt = craft(&f->fx_a, "{\"alg\":\"ES256\",\"kid\":\"another\"}", "{\"a\":1}", &k);
	assert_int_equal(verify(&f->fx_a, &k, jwt), CU_ERR_INVALID);
	jwt = craft(&f->fx_a, "{\"alg\":\"ES256\",\"kid\":7}", "{\"a\":1}", &k);
	assert_int_equal(verify(&f->fx_a, &k, jwt), CU_ERR_INVALID);
	jwt = craft(&f->fx_a, "{\"alg\":\"ES256\"}", "{\"a\":1}", &k);
	assert_int_equal(verify(&f->fx_a, &k, jwt), CU_OK);
	cu_jose_key_free(&k);
}

static void
test_peek(void **state)
{
	struct fx *f = *state;
	struct json_object *claims = NULL, *hdr = NULL;
	const char *alg = NULL;

	(void)state;
	assert_int_equal(cu_jose_peek(&f->fx_a, a3_jws, strlen(a3_jws), &claims, &hdr), CU_OK);
	assert_rfc_claims(claims);
	assert_int_equal(cu_json_get_string(hdr, "alg", &alg), 0);
	assert_string_equal(alg, "ES256");
	/* Peek does not judge the signature or the algorithm. */
	assert_int_equal(cu_jose_peek(&f->fx_a, "eyJhbGciOiJub25lIn0.e30.", 24, &claims, NULL),
	                 CU_OK);
	assert_int_equal(cu_jose_peek(&f->fx_a, "e30.W10.", 8, &claims, &hdr), CU_ERR_INVALID);
	assert_null(claims);
	assert_null(hdr);
}

static void
test_half_hash(void **state)
{
	char out[88];

	(void)state;
	/* OpenID Connect Core 1.0, Appendix A.3 (at_hash) and A.4 (c_hash). */
	cu_jose_half_hash(out, CU_JOSE_RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", 43);
	assert_string_equal(out, "77QmUPtjPfzWtF2AnpK9RQ");
	cu_jose_half_hash(out, CU_JOSE_RS256,
	                  "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk", 58);
	assert_string_equal(out, "LDktKdoQak3Pk0cnXxCltA");
	cu_jose_half_hash(out, CU_JOSE_HS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", 43);
	assert_string_equal(out, "77QmUPtjPfzWtF2AnpK9RQ");
	/* SHA-384 and SHA-512 halves: 24 and 32 bytes (python hashlib). */
	cu_jose_half_hash(out, CU_JOSE_ES384, "abc", 3);
	assert_string_equal(out, "ywB1P0WjXou1oD1pmsZQBycsMqsO3tFj");
	cu_jose_half_hash(out, CU_JOSE_ES512, "abc", 3);
	assert_string_equal(out, "3a81oZNherrMQXNJriBBMRLm-k6JqX6iCp7u5ktV05o");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alg_names),
	    cmocka_unit_test_setup_teardown(test_rfc7515_a1_hs256, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rfc7515_a2_rs256, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rfc7515_a3_es256, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_roundtrip_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_certificate_jwk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuse_unsupported_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuse_alg_none, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuse_other_alg, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuse_hs256_with_public_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuse_oversized, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuse_bad_base64, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuse_not_objects, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuse_crit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuse_part_count, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuse_tampered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peek, setup, teardown),
	    cmocka_unit_test(test_half_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
