#include "certs.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto.h"
#include "mem.h"

/*
 * Certificates and keys arrive from admins through the API, so every PEM input is bounded; a
 * certificate chain or a 16384-bit RSA key is far below this.
 */
#define CERTS_MAX_PEM (1024 * 1024)
/* X.520's upper bound for a common name, in characters; authentik cuts longer names here. */
#define CERTS_CN_MAX_CHARS 64
#define CERTS_MAX_VALIDITY_DAYS 36500
#define CERTS_MAX_SANS 100
#define CERTS_MAX_SAN_LEN 253 /* the longest DNS name */
#define CERTS_RSA_BITS 2048
#define CERTS_SERIAL_LEN 20 /* RFC 5280's maximum; the top bit is cleared, leaving 159 */

_Static_assert(sizeof(time_t) >= 8, "expiry dates past 2038 need a 64-bit time_t");

/*
 * Passphrase callback that refuses: without it OpenSSL prompts on the controlling terminal for
 * an encrypted key, and a responder's standard input is its FastCGI socket.
 */
static int
certs_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Copies a memory BIO's contents into a NUL-terminated string (caller frees), then wipes the
 * BIO's copy, which may hold a private key. */
static char *
certs_bio_string(BIO *bio)
{
	char *data = NULL, *s;
	long n = BIO_get_mem_data(bio, &data);

	if (n <= 0 || data == NULL)
		return NULL;
	s = cu_malloc((size_t)n + 1);
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	cu_wipe(data, (size_t)n);
	return s;
}

/* The length in bytes of at most max UTF-8 characters of s, counted as authentik counts them
 * (code points). */
static size_t
certs_utf8_prefix(const char *s, size_t max)
{
	size_t i, chars = 0;

	for (i = 0; s[i] != '\0'; i++) {
		/* A byte that does not continue a sequence starts a character. */
		if (((unsigned char)s[i] & 0xc0U) != 0x80U && chars++ == max)
			break;
	}
	return i;
}

/* Adds one DNS name per comma-separated entry of san, as authentik splits its
 * subject_alt_name field; blank entries are skipped, surrounding spaces dropped. */
static int
certs_add_sans(X509 *x, const char *san)
{
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *gen = NULL;
	ASN1_IA5STRING *ia5 = NULL;
	const char *p = san, *end, *b, *e;
	size_t i;
	int rc = -1;

	gens = sk_GENERAL_NAME_new_null();
	if (gens == NULL)
		goto out;
	while (*p != '\0') {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		for (b = p; b < end && (*b == ' ' || *b == '\t'); b++)
			;
		for (e = end; e > b && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		if (e > b) {
			if ((size_t)(e - b) > CERTS_MAX_SAN_LEN ||
			    sk_GENERAL_NAME_num(gens) >= CERTS_MAX_SANS)
				goto out;
			/* IA5String, and nothing a DNS name cannot hold: no spaces or controls. */
			for (i = 0; i < (size_t)(e - b); i++) {
				unsigned char c = (unsigned char)b[i];

				if (c <= 0x20 || c >= 0x7f)
					goto out;
			}
			ia5 = ASN1_IA5STRING_new();
			gen = GENERAL_NAME_new();
			if (ia5 == NULL || gen == NULL || !ASN1_STRING_set(ia5, b, (int)(e - b)))
				goto out;
			GENERAL_NAME_set0_value(gen, GEN_DNS, ia5);
			ia5 = NULL;
			if (!sk_GENERAL_NAME_push(gens, gen))
				goto out;
			gen = NULL;
		}
		p = *end == ',' ? end + 1 : end;
	}
	/* RFC 5280 4.2.1.6: not critical, since the subject is not empty. */
	if (sk_GENERAL_NAME_num(gens) > 0 &&
	    X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1)
		goto out;
	rc = 0;
out:
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(gens);
	return rc;
}

static int
certs_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok;

	if (ext == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

/* A positive random serial of at most 159 bits, never zero. */
static int
certs_set_serial(X509 *x)
{
	unsigned char raw[CERTS_SERIAL_LEN];
	BIGNUM *bn = NULL;
	int rc = -1;

	do {
		cu_crypto_random(raw, sizeof(raw));
		raw[0] &= 0x7fU;
		BN_free(bn);
		bn = BN_bin2bn(raw, sizeof(raw), NULL);
		if (bn == NULL)
			goto out;
	} while (BN_is_zero(bn));
	if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out;
	rc = 0;
out:
	BN_free(bn);
	return rc;
}

int
cu_certs_generate(enum cu_certs_alg alg, const char *common_name, const char *san,
                  int validity_days, char **cert_pem, char **key_pem)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	X509_NAME *name = NULL;
	BIO *cbio = NULL, *kbio = NULL;
	X509V3_CTX ctx;
	size_t cnlen;
	int rc = -1;

	*cert_pem = NULL;
	*key_pem = NULL;
	if (common_name == NULL || common_name[0] == '\0' || validity_days < 1 ||
	    validity_days > CERTS_MAX_VALIDITY_DAYS)
		goto out;
	switch (alg) {
	case CU_CERTS_RSA:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)CERTS_RSA_BITS);
		break;
	case CU_CERTS_ECDSA:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case CU_CERTS__MAX:
	default:
		goto out;
	}
	if (pkey == NULL)
		goto out;

	x = X509_new();
	name = X509_NAME_new();
	if (x == NULL || name == NULL || X509_set_version(x, X509_VERSION_3) != 1 ||
	    certs_set_serial(x) != 0)
		goto out;
	/* OpenSSL checks that the name is UTF-8 and stores it as a UTF8String. */
	cnlen = certs_utf8_prefix(common_name, CERTS_CN_MAX_CHARS);
	if (cnlen > INT32_MAX ||
	    X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	                               (const unsigned char *)common_name, (int)cnlen, -1,
	                               0) != 1 ||
	    X509_set_subject_name(x, name) != 1 || X509_set_issuer_name(x, name) != 1)
		goto out;
	/* A day's grace before now, as authentik gives, for relying parties whose clocks lag. */
	if (X509_gmtime_adj(X509_getm_notBefore(x), -86400L) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), validity_days, 0, NULL) == NULL ||
	    X509_set_pubkey(x, pkey) != 1)
		goto out;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (certs_add_ext(x, &ctx, NID_basic_constraints, "CA:FALSE") != 0 ||
	    certs_add_ext(x, &ctx, NID_key_usage,
	                  alg == CU_CERTS_RSA ? "critical,digitalSignature,keyEncipherment"
	                                      : "critical,digitalSignature") != 0 ||
	    certs_add_ext(x, &ctx, NID_subject_key_identifier, "hash") != 0)
		goto out;
	if (san != NULL && certs_add_sans(x, san) != 0)
		goto out;
	if (X509_sign(x, pkey, EVP_sha256()) <= 0)
		goto out;

	cbio = BIO_new(BIO_s_mem());
	kbio = BIO_new(BIO_s_mem());
	/* PEM_write_bio_PrivateKey writes PKCS#8 ("PRIVATE KEY"); no cipher, no passphrase. */
	if (cbio == NULL || kbio == NULL || PEM_write_bio_X509(cbio, x) != 1 ||
	    PEM_write_bio_PrivateKey(kbio, pkey, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	*cert_pem = certs_bio_string(cbio);
	*key_pem = certs_bio_string(kbio);
	if (*cert_pem == NULL || *key_pem == NULL)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		cu_free(*cert_pem);
		if (*key_pem != NULL)
			cu_wipe(*key_pem, strlen(*key_pem));
		cu_free(*key_pem);
		*cert_pem = NULL;
		*key_pem = NULL;
		ERR_clear_error();
	}
	BIO_free(kbio);
	BIO_free(cbio);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return rc;
}

/*
 * Reads the first certificate in pem. Its DER must re-encode to the same bytes, so that the
 * fingerprint taken over those bytes is the one every other tool shows (authentik's parser
 * refuses what is not DER too); *der gets the bytes (caller frees with OPENSSL_free).
 */
static X509 *
certs_read_cert(const char *pem, size_t len, unsigned char **der, long *derlen)
{
	BIO *bio = NULL;
	X509 *x = NULL;
	const unsigned char *p;
	unsigned char *re = NULL;
	int relen, ok = 0;

	*der = NULL;
	*derlen = 0;
	if (pem == NULL || len == 0 || len > CERTS_MAX_PEM)
		goto out;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL ||
	    PEM_bytes_read_bio(der, derlen, NULL, PEM_STRING_X509, bio, certs_no_passphrase,
	                       NULL) != 1 ||
	    *derlen <= 0)
		goto out;
	p = *der;
	x = d2i_X509(NULL, &p, *derlen);
	if (x == NULL || p != *der + *derlen)
		goto out;
	relen = i2d_X509(x, &re);
	if (relen != *derlen || memcmp(re, *der, (size_t)relen) != 0)
		goto out;
	ok = 1;
out:
	OPENSSL_free(re);
	if (!ok) {
		X509_free(x);
		x = NULL;
		OPENSSL_free(*der);
		*der = NULL;
		*derlen = 0;
	}
	BIO_free(bio);
	return x;
}

/* Lower-case hex pairs joined by ':' into out, which holds 3 * n bytes. */
static void
certs_colon_hex(char *out, const unsigned char *md, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		cu_hex_encode(out + 3 * i, md + i, 1);
		out[3 * i + 2] = i + 1 < n ? ':' : '\0';
	}
}

static int
certs_fingerprint(char *out, size_t outsz, const EVP_MD *md, const unsigned char *der, long derlen)
{
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(der, (size_t)derlen, dig, &n, md, NULL) != 1 || 3 * (size_t)n > outsz)
		return -1;
	certs_colon_hex(out, dig, n);
	return 0;
}

/* A bounded string being written: going past its size is an error, never a cut. */
struct certs_out {
	char *co_p;
	size_t co_len;
	size_t co_size; /* including the NUL */
};

static int
certs_put(struct certs_out *o, const char *p, size_t n)
{
	if (n >= o->co_size - o->co_len)
		return -1;
	memcpy(o->co_p + o->co_len, p, n);
	o->co_len += n;
	o->co_p[o->co_len] = '\0';
	return 0;
}

/* The attribute names authentik's rfc4514_string uses; any other type is its dotted OID. */
static const struct {
	int rn_nid;
	const char *rn_name;
} certs_rdn_names[] = {
    {NID_commonName, "CN"},
    {NID_localityName, "L"},
    {NID_stateOrProvinceName, "ST"},
    {NID_organizationName, "O"},
    {NID_organizationalUnitName, "OU"},
    {NID_countryName, "C"},
    {NID_streetAddress, "STREET"},
    {NID_domainComponent, "DC"},
    {NID_userId, "UID"},
};

/* A BIT STRING value (x500UniqueIdentifier) has no text: '#' and its content octets in hex,
 * the unused-bits count first. */
static int
certs_put_bits(struct certs_out *o, const ASN1_STRING *v)
{
	unsigned char *der = NULL;
	char hex[3];
	int n, i, rc = -1;

	n = i2d_ASN1_BIT_STRING(v, &der);
	if (n < 2)
		goto out;
	/* Past the tag and the length, short or long form. */
	i = der[1] < 0x80 ? 2 : 2 + (der[1] & 0x7f);
	if (i > n || certs_put(o, "#", 1) != 0)
		goto out;
	for (; i < n; i++) {
		cu_hex_encode(hex, der + i, 1);
		if (certs_put(o, hex, 2) != 0)
			goto out;
	}
	rc = 0;
out:
	OPENSSL_free(der);
	return rc;
}

/* One attribute value, escaped as RFC 4514 section 2.4 and authentik's formatter do it. */
static int
certs_put_value(struct certs_out *o, const ASN1_STRING *v)
{
	unsigned char *u = NULL;
	int n, i, rc = -1;

	if (ASN1_STRING_type(v) == V_ASN1_BIT_STRING)
		return certs_put_bits(o, v);
	/* Converts from the string's own type; fails on a type that is not text and on
	 * malformed UTF-8, UTF-16 or UTF-32. */
	n = ASN1_STRING_to_UTF8(&u, v);
	if (n < 0)
		goto out;
	for (i = 0; i < n; i++) {
		char c = (char)u[i];

		if (c == '\0') {
			if (certs_put(o, "\\00", 3) != 0)
				goto out;
			continue;
		}
		if (strchr("\\\"+,;<>", c) != NULL || (i == 0 && (c == '#' || c == ' ')) ||
		    (i == n - 1 && c == ' ')) {
			if (certs_put(o, "\\", 1) != 0)
				goto out;
		}
		if (certs_put(o, &c, 1) != 0)
			goto out;
	}
	rc = 0;
out:
	OPENSSL_free(u);
	return rc;
}

/*
 * The subject as RFC 4514 writes it and authentik's cert_subject shows it (cryptography's
 * rfc4514_string): relative names last to first, joined by ','; the attributes of a
 * multi-valued one in their encoded order, joined by '+'; text as UTF-8.
 */
static int
certs_subject(char *out, size_t outsz, const X509_NAME *name)
{
	struct certs_out o = {out, 0, outsz};
	int n = X509_NAME_entry_count(name), i, j, k;
	size_t t;

	out[0] = '\0';
	for (i = n - 1; i >= 0; i = j - 1) {
		int set = X509_NAME_ENTRY_set(X509_NAME_get_entry(name, i));

		for (j = i; j > 0 && X509_NAME_ENTRY_set(X509_NAME_get_entry(name, j - 1)) == set;
		     j--)
			;
		if (i != n - 1 && certs_put(&o, ",", 1) != 0)
			return -1;
		for (k = j; k <= i; k++) {
			const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, k);
			const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
			const char *attr = NULL;
			char oid[128];
			int nid = OBJ_obj2nid(obj);

			for (t = 0; t < sizeof(certs_rdn_names) / sizeof(certs_rdn_names[0]); t++) {
				if (certs_rdn_names[t].rn_nid == nid)
					attr = certs_rdn_names[t].rn_name;
			}
			if (attr == NULL) {
				int len = OBJ_obj2txt(oid, sizeof(oid), obj, 1);

				if (len <= 0 || (size_t)len >= sizeof(oid))
					return -1;
				attr = oid;
			}
			if ((k != j && certs_put(&o, "+", 1) != 0) ||
			    certs_put(&o, attr, strlen(attr)) != 0 || certs_put(&o, "=", 1) != 0 ||
			    certs_put_value(&o, X509_NAME_ENTRY_get_data(e)) != 0)
				return -1;
		}
	}
	return 0;
}

static int
certs_not_after(time_t *out, const X509 *x)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		return -1;
	/* Cannot overflow: ASN1 times end in 9999 and time_t has 64 bits. */
	*out = timegm(&tm);
	return 0;
}

/* authentik's key_type names; empty for a key type authentik does not name. */
static const char *
certs_key_type(const EVP_PKEY *pkey)
{
	if (EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_is_a(pkey, "RSA-PSS"))
		return "rsa";
	if (EVP_PKEY_is_a(pkey, "EC"))
		return "ec";
	if (EVP_PKEY_is_a(pkey, "DSA"))
		return "dsa";
	if (EVP_PKEY_is_a(pkey, "ED25519"))
		return "ed25519";
	if (EVP_PKEY_is_a(pkey, "ED448"))
		return "ed448";
	return "";
}

/* Reads and describes the first certificate in pem; the certificate (caller frees with
 * X509_free) or NULL when it is refused. */
static X509 *
certs_load(const char *pem, size_t len, struct cu_certs_info *ci)
{
	X509 *x = NULL;
	EVP_PKEY *pkey;
	const char *kt;
	unsigned char *der = NULL;
	long derlen = 0;
	int ok = 0;

	memset(ci, 0, sizeof(*ci));
	x = certs_read_cert(pem, len, &der, &derlen);
	if (x == NULL)
		goto out;
	if (certs_fingerprint(ci->ci_fingerprint_sha256, sizeof(ci->ci_fingerprint_sha256),
	                      EVP_sha256(), der, derlen) != 0 ||
	    certs_fingerprint(ci->ci_fingerprint_sha1, sizeof(ci->ci_fingerprint_sha1), EVP_sha1(),
	                      der, derlen) != 0 ||
	    certs_subject(ci->ci_subject, sizeof(ci->ci_subject), X509_get_subject_name(x)) != 0 ||
	    certs_not_after(&ci->ci_not_after, x) != 0)
		goto out;
	/* A certificate whose key cannot be decoded can neither sign nor verify. */
	pkey = X509_get0_pubkey(x);
	if (pkey == NULL)
		goto out;
	kt = certs_key_type(pkey);
	memcpy(ci->ci_key_type, kt, strlen(kt) + 1);
	ok = 1;
out:
	OPENSSL_free(der);
	if (!ok) {
		X509_free(x);
		x = NULL;
		ERR_clear_error();
	}
	return x;
}

int
cu_certs_inspect(const char *cert_pem, size_t len, struct cu_certs_info *info)
{
	struct cu_certs_info ci;
	X509 *x = certs_load(cert_pem, len, &ci);

	if (x == NULL)
		return -1;
	X509_free(x);
	*info = ci;
	return 0;
}

int
cu_certs_key_matches(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len)
{
	struct cu_certs_info ci;
	X509 *x = NULL;
	EVP_PKEY *key = NULL, *pub;
	BIO *bio = NULL;
	int rc = -1;

	/* The same checks as inspect: what it refuses is no certificate here either. */
	x = certs_load(cert_pem, cert_len, &ci);
	if (x == NULL || key_pem == NULL || key_len == 0 || key_len > CERTS_MAX_PEM)
		goto out;
	pub = X509_get0_pubkey(x);
	bio = BIO_new_mem_buf(key_pem, (int)key_len);
	if (pub == NULL || bio == NULL)
		goto out;
	key = PEM_read_bio_PrivateKey(bio, NULL, certs_no_passphrase, NULL);
	if (key == NULL)
		goto out;
	/* Compares the public halves; keys of different types are simply not a match. */
	rc = EVP_PKEY_eq(pub, key) == 1 ? 1 : 0;
out:
	if (rc != 1)
		ERR_clear_error();
	EVP_PKEY_free(key);
	BIO_free(bio);
	X509_free(x);
	return rc;
}
