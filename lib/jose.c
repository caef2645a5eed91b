/*
 * JWS compact serialisation over OpenSSL 3. The verifier trusts nothing in a token before its
 * signature checks out except the two things it must read first: the header's alg, which has
 * to name the key's own algorithm, and its kid. The payload is parsed only after the signature
 * is verified.
 */
#include "jose.h"

#include <limits.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "arena.h"
#include "bounds.h"
#include "crypto.h"
#include "json.h"
#include "mem.h"

/* Past this an RSA key costs more to verify with than any token is worth. */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384
#define PEM_MAX (64 * 1024)

static const struct alg_info {
	const char *ai_name;
	const EVP_MD *(*ai_md)(void);
	int ai_nid;         /* the curve, NID_undef for the others */
	size_t ai_coord;    /* bytes of one EC coordinate and of r and s */
	const char *ai_crv; /* the JWK's crv */
} algs[CU_JOSE__MAX] = {
    [CU_JOSE_HS256] = {"HS256", EVP_sha256, NID_undef, 0, NULL},
    [CU_JOSE_RS256] = {"RS256", EVP_sha256, NID_undef, 0, NULL},
    [CU_JOSE_ES256] = {"ES256", EVP_sha256, NID_X9_62_prime256v1, 32, "P-256"},
    [CU_JOSE_ES384] = {"ES384", EVP_sha384, NID_secp384r1, 48, "P-384"},
    [CU_JOSE_ES512] = {"ES512", EVP_sha512, NID_secp521r1, 66, "P-521"},
};

const char *
cu_jose_alg_name(enum cu_jose_alg alg)
{
	if ((unsigned)alg >= CU_JOSE__MAX)
		return "none";
	return algs[alg].ai_name;
}

int
cu_jose_alg_from_name(const char *name)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < CU_JOSE__MAX; i++)
		if (strcmp(algs[i].ai_name, name) == 0)
			return i;
	return -1;
}

/* --- keys --------------------------------------------------------------------------------- */

/* Never prompt on a terminal for an encrypted PEM: such a key simply does not load. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static EVP_PKEY *
read_pem_key(const char *pem, size_t len)
{
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	BIO *bio;

	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL)
		return NULL;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (pkey != NULL)
		return pkey;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL)
		return NULL;
	pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (pkey != NULL)
		return pkey;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL)
		return NULL;
	cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (cert != NULL) {
		pkey = X509_get_pubkey(cert);
		X509_free(cert);
	}
	return pkey;
}

/* The JWS algorithm of pkey, or -1 for a type, size or curve custos does not sign with. */
static int
pkey_alg(EVP_PKEY *pkey)
{
	char group[80];
	size_t glen = 0;
	int nid, i;

	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(pkey) < RSA_MIN_BITS ||
		    EVP_PKEY_get_bits(pkey) > RSA_MAX_BITS)
			return -1;
		return CU_JOSE_RS256;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
		                                   sizeof(group), &glen) != 1)
			return -1;
		nid = OBJ_txt2nid(group);
		if (nid == NID_undef)
			nid = EC_curve_nist2nid(group);
		for (i = 0; i < CU_JOSE__MAX; i++)
			if (algs[i].ai_nid != NID_undef && algs[i].ai_nid == nid)
				return i;
		return -1;
	default:
		return -1;
	}
}

int
cu_jose_key_from_pem(struct cu_jose_key *k, const char *key_pem, size_t key_len,
                     const char *cert_pem)
{
	EVP_PKEY *pkey = NULL;
	unsigned char *der = NULL, digest[CU_SHA256_LEN];
	int derlen, alg, rc = -1;

	memset(k, 0, sizeof(*k));
	if (key_pem == NULL || key_len == 0 || key_len > PEM_MAX)
		goto out;
	pkey = read_pem_key(key_pem, key_len);
	if (pkey == NULL)
		goto out;
	alg = pkey_alg(pkey);
	if (alg < 0)
		goto out;
	derlen = i2d_PUBKEY(pkey, &der);
	if (derlen <= 0)
		goto out;
	cu_crypto_sha256(digest, der, (size_t)derlen);
	/* 16 bytes give the 32 hex digits of the kid. */
	cu_hex_encode(k->jk_kid, digest, 16);
	k->jk_alg = (enum cu_jose_alg)alg;
	k->jk_pkey = pkey;
	pkey = NULL;
	if (cert_pem != NULL)
		k->jk_cert_pem = cu_strdup(cert_pem);
	rc = 0;
out:
	OPENSSL_free(der);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

void
cu_jose_key_hmac(struct cu_jose_key *k, const void *secret, size_t len)
{
	memset(k, 0, sizeof(*k));
	k->jk_alg = CU_JOSE_HS256;
	k->jk_secret = cu_malloc(len > 0 ? len : 1);
	if (len > 0)
		memcpy(k->jk_secret, secret, len);
	k->jk_secret_len = len;
}

void
cu_jose_key_free(struct cu_jose_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->jk_pkey);
	if (k->jk_secret != NULL) {
		cu_wipe(k->jk_secret, k->jk_secret_len);
		cu_free(k->jk_secret);
	}
	cu_free(k->jk_cert_pem);
	memset(k, 0, sizeof(*k));
}

/* A key fit for its algorithm: a secret for HS256, an EVP_PKEY of the right kind otherwise. */
static int
key_usable(const struct cu_jose_key *k)
{
	if ((unsigned)k->jk_alg >= CU_JOSE__MAX)
		return 0;
	if (k->jk_alg == CU_JOSE_HS256)
		return k->jk_secret != NULL && k->jk_pkey == NULL;
	return k->jk_pkey != NULL && k->jk_secret == NULL;
}

/* --- signatures --------------------------------------------------------------------------- */

/* Signs in[0..len) into an arena buffer: *sig, *siglen. For ECDSA the DER signature becomes
 * r || s, each the curve's size (RFC 7518 §3.4). */
static int
sign_bytes(struct cu_arena *a, const struct cu_jose_key *k, const char *in, size_t len,
           unsigned char **sig, size_t *siglen)
{
	const struct alg_info *ai = &algs[k->jk_alg];
	EVP_MD_CTX *md = NULL;
	ECDSA_SIG *es = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	const BIGNUM *r, *s;
	size_t n = 0;
	int rc = -1;

	*sig = NULL;
	*siglen = 0;
	if (!key_usable(k))
		return -1;
	if (k->jk_alg == CU_JOSE_HS256) {
		*sig = cu_arena_alloc(a, CU_SHA256_LEN);
		cu_crypto_hmac_sha256(*sig, k->jk_secret, k->jk_secret_len, in, len);
		*siglen = CU_SHA256_LEN;
		return 0;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL ||
	    EVP_DigestSignInit(md, NULL, ai->ai_md(), NULL, (EVP_PKEY *)k->jk_pkey) != 1 ||
	    EVP_DigestSign(md, NULL, &n, (const unsigned char *)in, len) != 1 || n == 0)
		goto out;
	der = cu_arena_alloc(a, n);
	if (EVP_DigestSign(md, der, &n, (const unsigned char *)in, len) != 1)
		goto out;
	if (k->jk_alg == CU_JOSE_RS256) {
		*sig = der;
		*siglen = n;
		rc = 0;
		goto out;
	}
	p = der;
	es = d2i_ECDSA_SIG(NULL, &p, (long)n);
	if (es == NULL)
		goto out;
	ECDSA_SIG_get0(es, &r, &s);
	*sig = cu_arena_alloc(a, 2 * ai->ai_coord);
	if (BN_bn2binpad(r, *sig, (int)ai->ai_coord) < 0 ||
	    BN_bn2binpad(s, *sig + ai->ai_coord, (int)ai->ai_coord) < 0) {
		*sig = NULL;
		goto out;
	}
	*siglen = 2 * ai->ai_coord;
	rc = 0;
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return rc;
}

/* 1 when sig is k's signature of in[0..len). */
static int
verify_bytes(const struct cu_jose_key *k, const char *in, size_t len, const unsigned char *sig,
             size_t siglen)
{
	const struct alg_info *ai = &algs[k->jk_alg];
	EVP_MD_CTX *md = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char mac[CU_SHA256_LEN], *der = NULL;
	int derlen, ok = 0;

	if (k->jk_alg == CU_JOSE_HS256) {
		cu_crypto_hmac_sha256(mac, k->jk_secret, k->jk_secret_len, in, len);
		ok = cu_crypto_ct_eq(mac, sizeof(mac), sig, siglen);
		cu_wipe(mac, sizeof(mac));
		return ok;
	}
	if (k->jk_alg != CU_JOSE_RS256) {
		/* A fixed-size r || s: anything else (a DER signature included) is refused. */
		if (siglen != 2 * ai->ai_coord)
			return 0;
		es = ECDSA_SIG_new();
		r = BN_bin2bn(sig, (int)ai->ai_coord, NULL);
		s = BN_bin2bn(sig + ai->ai_coord, (int)ai->ai_coord, NULL);
		if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1)
			goto out;
		r = s = NULL; /* owned by es now */
		derlen = i2d_ECDSA_SIG(es, &der);
		if (derlen <= 0)
			goto out;
		sig = der;
		siglen = (size_t)derlen;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL ||
	    EVP_DigestVerifyInit(md, NULL, ai->ai_md(), NULL, (EVP_PKEY *)k->jk_pkey) != 1)
		goto out;
	ok = EVP_DigestVerify(md, sig, siglen, (const unsigned char *)in, len) == 1;
out:
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	ERR_clear_error();
	return ok;
}

static char *
b64url(struct cu_arena *a, const void *p, size_t n)
{
	char *out = cu_arena_alloc(a, cu_base64url_enc_len(n) + 1);

	cu_base64url_encode(out, p, n);
	return out;
}

int
cu_jose_sign_input(struct cu_arena *a, const struct cu_jose_key *k, const char *input, size_t len,
                   const char **sig_out)
{
	unsigned char *sig = NULL;
	size_t siglen = 0;

	*sig_out = NULL;
	if (sign_bytes(a, k, input, len, &sig, &siglen) != 0)
		return -1;
	*sig_out = b64url(a, sig, siglen);
	return 0;
}

int
cu_jose_sign(struct cu_arena *a, const struct cu_jose_key *k, struct json_object *claims,
             const char *typ, const char **jwt_out)
{
	struct json_object *hdr;
	const char *htext, *ptext, *sig = NULL;
	size_t hlen = 0, plen = 0;
	char *h, *p, *input;

	*jwt_out = NULL;
	if (claims == NULL || !json_object_is_type(claims, json_type_object) || !key_usable(k))
		return -1;
	hdr = cu_json_object(a);
	cu_json_set_string(hdr, "alg", algs[k->jk_alg].ai_name);
	if (k->jk_kid[0] != '\0')
		cu_json_set_string(hdr, "kid", k->jk_kid);
	cu_json_set_string(hdr, "typ", typ != NULL ? typ : "JWT");
	htext = cu_json_text(hdr, &hlen);
	ptext = cu_json_text(claims, &plen);
	h = b64url(a, htext, hlen);
	p = b64url(a, ptext, plen);
	input = cu_arena_printf(a, "%s.%s", h, p);
	if (cu_jose_sign_input(a, k, input, strlen(input), &sig) != 0)
		return -1;
	*jwt_out = cu_arena_printf(a, "%s.%s", input, sig);
	return 0;
}

/* --- parsing ------------------------------------------------------------------------------ */

struct parts {
	const char *pt_hdr, *pt_payload, *pt_sig;
	size_t pt_hdr_len, pt_payload_len, pt_sig_len;
};

/* Exactly three dot-separated parts; header and payload not empty. */
static int
split(const char *jwt, size_t len, struct parts *pt)
{
	const char *d1, *d2;

	if (jwt == NULL || len == 0 || len > CU_JOSE_MAX_TOKEN)
		return -1;
	/* The compact form is unpadded (RFC 7515 §2): one encoding per token. */
	if (memchr(jwt, '=', len) != NULL)
		return -1;
	d1 = memchr(jwt, '.', len);
	if (d1 == NULL)
		return -1;
	d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jwt));
	if (d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jwt)) != NULL)
		return -1;
	pt->pt_hdr = jwt;
	pt->pt_hdr_len = (size_t)(d1 - jwt);
	pt->pt_payload = d1 + 1;
	pt->pt_payload_len = (size_t)(d2 - d1 - 1);
	pt->pt_sig = d2 + 1;
	pt->pt_sig_len = len - (size_t)(d2 + 1 - jwt);
	return pt->pt_hdr_len > 0 && pt->pt_payload_len > 0 ? 0 : -1;
}

/* Strict base64url into an arena buffer. */
static int
unb64url(struct cu_arena *a, const char *in, size_t n, unsigned char **out, size_t *outlen)
{
	*out = cu_arena_alloc(a, n / 4 * 3 + 3);
	return cu_base64url_decode(*out, outlen, in, n);
}

/* A base64url part that must hold a JSON object. */
static int
part_object(struct cu_arena *a, const char *in, size_t n, struct json_object **out)
{
	unsigned char *raw = NULL;
	size_t rawlen = 0;

	*out = NULL;
	if (unb64url(a, in, n, &raw, &rawlen) != 0 ||
	    cu_json_parse(a, (const char *)raw, rawlen, out) != CU_OK || *out == NULL ||
	    !json_object_is_type(*out, json_type_object)) {
		*out = NULL;
		return -1;
	}
	return 0;
}

enum cu_err
cu_jose_peek(struct cu_arena *a, const char *jwt, size_t len, struct json_object **claims_out,
             struct json_object **header_out)
{
	struct json_object *hdr = NULL, *claims = NULL;
	struct parts pt;

	*claims_out = NULL;
	if (header_out != NULL)
		*header_out = NULL;
	if (split(jwt, len, &pt) != 0 || part_object(a, pt.pt_hdr, pt.pt_hdr_len, &hdr) != 0 ||
	    part_object(a, pt.pt_payload, pt.pt_payload_len, &claims) != 0)
		return CU_ERR_INVALID;
	*claims_out = claims;
	if (header_out != NULL)
		*header_out = hdr;
	return CU_OK;
}

enum cu_err
cu_jose_verify(struct cu_arena *a, const struct cu_jose_key *k, const char *jwt, size_t len,
               struct json_object **claims_out, struct json_object **header_out)
{
	struct json_object *hdr = NULL, *claims = NULL, *v = NULL;
	const char *name = NULL, *kid = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	struct parts pt;
	int alg;

	*claims_out = NULL;
	if (header_out != NULL)
		*header_out = NULL;
	if (k == NULL || !key_usable(k) || split(jwt, len, &pt) != 0 ||
	    part_object(a, pt.pt_hdr, pt.pt_hdr_len, &hdr) != 0)
		return CU_ERR_INVALID;
	/* Extensions a recipient must understand (RFC 7515 §4.1.11): custos understands none. */
	if (json_object_object_get_ex(hdr, "crit", &v))
		return CU_ERR_INVALID;
	if (cu_json_get_string(hdr, "alg", &name) != 0)
		return CU_ERR_INVALID;
	alg = cu_jose_alg_from_name(name);
	/* The key decides the algorithm. HS256 over a public key (whose PEM an attacker can
	 * read) is the classic confusion, refused here whatever the caller's key says. */
	if (alg < 0 || alg != (int)k->jk_alg || (alg == CU_JOSE_HS256 && k->jk_pkey != NULL))
		return CU_ERR_INVALID;
	if (json_object_object_get_ex(hdr, "kid", &v)) {
		if (cu_json_get_string(hdr, "kid", &kid) != 0)
			return CU_ERR_INVALID;
		if (k->jk_kid[0] != '\0' && strcmp(kid, k->jk_kid) != 0)
			return CU_ERR_INVALID;
	}
	if (pt.pt_sig_len == 0 || unb64url(a, pt.pt_sig, pt.pt_sig_len, &sig, &siglen) != 0 ||
	    !verify_bytes(k, jwt, pt.pt_hdr_len + 1 + pt.pt_payload_len, sig, siglen))
		return CU_ERR_INVALID;
	if (part_object(a, pt.pt_payload, pt.pt_payload_len, &claims) != 0)
		return CU_ERR_INVALID;
	*claims_out = claims;
	if (header_out != NULL)
		*header_out = hdr;
	return CU_OK;
}

/* --- JWK ---------------------------------------------------------------------------------- */

/* The BIGNUM parameter of pkey, big-endian, at least pad bytes (0: its minimal length). */
static const char *
bn_param(struct cu_arena *a, const EVP_PKEY *pkey, const char *param, size_t pad)
{
	BIGNUM *bn = NULL;
	unsigned char *buf;
	const char *out = NULL;
	int n;

	if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
		goto out;
	n = BN_num_bytes(bn);
	if (pad < (size_t)n)
		pad = (size_t)n;
	if (pad == 0)
		pad = 1;
	buf = cu_arena_alloc(a, pad);
	if (BN_bn2binpad(bn, buf, (int)pad) < 0)
		goto out;
	out = b64url(a, buf, pad);
out:
	BN_free(bn);
	return out;
}

/* x5c, x5t and x5t#S256 of the PEM certificate, added to jwk; nothing when it does not parse. */
static void
add_cert(struct cu_arena *a, struct json_object *jwk, const char *cert_pem)
{
	unsigned char *der = NULL, sha1[20], sha256[CU_SHA256_LEN];
	struct json_object *x5c;
	X509 *cert = NULL;
	BIO *bio = NULL;
	char *b64;
	int derlen;

	bio = BIO_new_mem_buf(cert_pem, -1);
	if (bio == NULL)
		goto out;
	cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
	if (cert == NULL)
		goto out;
	derlen = i2d_X509(cert, &der);
	if (derlen <= 0)
		goto out;
	if (EVP_Digest(der, (size_t)derlen, sha1, NULL, EVP_sha1(), NULL) != 1)
		goto out;
	cu_crypto_sha256(sha256, der, (size_t)derlen);
	b64 = cu_arena_alloc(a, cu_base64_enc_len((size_t)derlen) + 1);
	cu_base64_encode(b64, der, (size_t)derlen);
	x5c = json_object_new_array();
	json_object_array_add(x5c, json_object_new_string(b64));
	cu_json_set(jwk, "x5c", x5c);
	cu_json_set_string(jwk, "x5t", b64url(a, sha1, sizeof(sha1)));
	cu_json_set_string(jwk, "x5t#S256", b64url(a, sha256, sizeof(sha256)));
out:
	OPENSSL_free(der);
	X509_free(cert);
	BIO_free(bio);
	ERR_clear_error();
}

int
cu_jose_jwk(struct cu_arena *a, const struct cu_jose_key *k, struct json_object **out)
{
	const struct alg_info *ai;
	struct json_object *jwk;
	const char *x, *y;

	*out = NULL;
	if (!key_usable(k) || k->jk_alg == CU_JOSE_HS256)
		return -1;
	ai = &algs[k->jk_alg];
	jwk = cu_json_object(a);
	/* Members in the order authentik's JWKS view writes them. */
	cu_json_set_string(jwk, "alg", ai->ai_name);
	cu_json_set_string(jwk, "kid", k->jk_kid);
	if (k->jk_alg == CU_JOSE_RS256) {
		x = bn_param(a, k->jk_pkey, OSSL_PKEY_PARAM_RSA_N, 0);
		y = bn_param(a, k->jk_pkey, OSSL_PKEY_PARAM_RSA_E, 0);
		if (x == NULL || y == NULL)
			goto fail;
		cu_json_set_string(jwk, "kty", "RSA");
		cu_json_set_string(jwk, "use", "sig");
		cu_json_set_string(jwk, "n", x);
		cu_json_set_string(jwk, "e", y);
	} else {
		x = bn_param(a, k->jk_pkey, OSSL_PKEY_PARAM_EC_PUB_X, ai->ai_coord);
		y = bn_param(a, k->jk_pkey, OSSL_PKEY_PARAM_EC_PUB_Y, ai->ai_coord);
		if (x == NULL || y == NULL)
			goto fail;
		cu_json_set_string(jwk, "kty", "EC");
		cu_json_set_string(jwk, "use", "sig");
		cu_json_set_string(jwk, "x", x);
		cu_json_set_string(jwk, "y", y);
		cu_json_set_string(jwk, "crv", ai->ai_crv);
	}
	if (k->jk_cert_pem != NULL)
		add_cert(a, jwk, k->jk_cert_pem);
	*out = jwk;
	return 0;
fail:
	ERR_clear_error();
	return -1;
}

void
cu_jose_half_hash(char *out, enum cu_jose_alg alg, const char *value, size_t len)
{
	static const char empty[1];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if ((unsigned)alg >= CU_JOSE__MAX)
		alg = CU_JOSE_RS256;
	if (EVP_Digest(len > 0 ? value : empty, len, md, &mdlen, algs[alg].ai_md(), NULL) != 1)
		cu_die("EVP_Digest failed");
	cu_base64url_encode(out, md, mdlen / 2);
}
