#include "crypto.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "mem.h"

/*
 * The coders below decode keys and tokens, so they avoid table lookups and branches on the
 * data (a lookup table's cache lines leak which characters a secret holds). The comparison
 * helpers take bytes (0..255) and yield 0xff for true, 0 for false.
 */
#define CT_EQ(x, y) ((((0U - ((unsigned int)(x) ^ (unsigned int)(y))) >> 8) & 0xffU) ^ 0xffU)
#define CT_GT(x, y) ((((unsigned int)(y) - (unsigned int)(x)) >> 8) & 0xffU)
#define CT_GE(x, y) (CT_GT(y, x) ^ 0xffU)
#define CT_LT(x, y) CT_GT(y, x)
#define CT_LE(x, y) CT_GE(y, x)

void
cu_crypto_random(void *out, size_t n)
{
	unsigned char *p = out;

	/* RAND_bytes takes an int; large requests go in pieces. */
	while (n > 0) {
		int k = n > INT_MAX ? INT_MAX : (int)n;

		if (RAND_bytes(p, k) != 1)
			cu_die("RAND_bytes failed");
		p += k;
		n -= (size_t)k;
	}
}

void
cu_crypto_random_alnum(char *out, size_t n)
{
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char pool[64];
	size_t i = 0, j = sizeof(pool);

	while (i < n) {
		if (j == sizeof(pool)) {
			cu_crypto_random(pool, sizeof(pool));
			j = 0;
		}
		/* 248 is the largest multiple of 62 below 256: rejecting the rest keeps every
		 * character equally likely. */
		if (pool[j] < 248)
			out[i++] = alnum[pool[j] % 62];
		j++;
	}
	out[n] = '\0';
	cu_wipe(pool, sizeof(pool));
}

void
cu_crypto_sha256(uint8_t out[CU_SHA256_LEN], const void *p, size_t n)
{
	static const unsigned char empty[1];

	if (EVP_Digest(n > 0 ? p : empty, n, out, NULL, EVP_sha256(), NULL) != 1)
		cu_die("EVP_Digest failed");
}

void
cu_crypto_hmac_sha256(uint8_t out[CU_SHA256_LEN], const void *key, size_t keylen, const void *msg,
                      size_t msglen)
{
	/* Some OpenSSL versions read a NULL key as "keep the previous key" and fail on a fresh
	 * context, so an empty key is passed as a real pointer. */
	static const unsigned char empty[1];
	unsigned int len = 0;

	if (keylen > INT_MAX)
		cu_die("HMAC key too long");
	if (HMAC(EVP_sha256(), keylen > 0 ? key : empty, (int)keylen, msglen > 0 ? msg : empty,
	         msglen, out, &len) == NULL ||
	    len != CU_SHA256_LEN)
		cu_die("HMAC failed");
}

int
cu_crypto_ct_eq(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return 0;
	if (alen == 0)
		return 1;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

size_t
cu_base64_enc_len(size_t n)
{
	if (n / 3 > (SIZE_MAX - 4) / 4)
		cu_die("base64 input too long");
	return n / 3 * 4 + (n % 3 != 0 ? 4 : 0);
}

size_t
cu_base64url_enc_len(size_t n)
{
	if (n / 3 > (SIZE_MAX - 4) / 4)
		cu_die("base64 input too long");
	return n / 3 * 4 + (n % 3 != 0 ? n % 3 + 1 : 0);
}

static char
b64_char(unsigned int x, int url)
{
	unsigned int c62 = url ? '-' : '+';
	unsigned int c63 = url ? '_' : '/';

	return (char)((CT_LT(x, 26) & (x + 'A')) | (CT_GE(x, 26) & CT_LT(x, 52) & (x + 'a' - 26)) |
	              (CT_GE(x, 52) & CT_LT(x, 62) & (x - 52 + '0')) | (CT_EQ(x, 62) & c62) |
	              (CT_EQ(x, 63) & c63));
}

/* The 6-bit value of c, or 0xff outside the alphabet. */
static unsigned int
b64_val(unsigned char c, int url)
{
	unsigned int c62 = url ? '-' : '+';
	unsigned int c63 = url ? '_' : '/';
	unsigned int x;

	x = (CT_GE(c, 'A') & CT_LE(c, 'Z') & (c - 'A')) |
	    (CT_GE(c, 'a') & CT_LE(c, 'z') & (c - 'a' + 26)) |
	    (CT_GE(c, '0') & CT_LE(c, '9') & (c - '0' + 52)) | (CT_EQ(c, c62) & 62) |
	    (CT_EQ(c, c63) & 63);
	/* x == 0 is either 'A' or a character outside the alphabet. */
	return x | (CT_EQ(x, 0) & (CT_EQ(c, 'A') ^ 0xffU));
}

static void
b64_encode(char *out, const unsigned char *in, size_t n, int url)
{
	size_t i, o = 0;

	for (i = 0; i + 3 <= n; i += 3) {
		unsigned int v =
		    (unsigned int)in[i] << 16 | (unsigned int)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64_char(v >> 18, url);
		out[o++] = b64_char((v >> 12) & 0x3f, url);
		out[o++] = b64_char((v >> 6) & 0x3f, url);
		out[o++] = b64_char(v & 0x3f, url);
	}
	if (n - i == 1) {
		unsigned int v = (unsigned int)in[i] << 16;

		out[o++] = b64_char(v >> 18, url);
		out[o++] = b64_char((v >> 12) & 0x3f, url);
		if (!url) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		unsigned int v = (unsigned int)in[i] << 16 | (unsigned int)in[i + 1] << 8;

		out[o++] = b64_char(v >> 18, url);
		out[o++] = b64_char((v >> 12) & 0x3f, url);
		out[o++] = b64_char((v >> 6) & 0x3f, url);
		if (!url)
			out[o++] = '=';
	}
	out[o] = '\0';
}

void
cu_base64_encode(char *out, const void *in, size_t n)
{
	b64_encode(out, in, n, 0);
}

void
cu_base64url_encode(char *out, const void *in, size_t n)
{
	b64_encode(out, in, n, 1);
}

/*
 * Strict on purpose: bits left over in the last character must be zero, so every byte string
 * has exactly one accepted encoding and a signed token cannot be altered without notice.
 */
static int
b64_decode(unsigned char *out, size_t *outlen, const char *in, size_t n, int url)
{
	size_t pad = 0, r, i, o = 0;
	unsigned int acc = 0, bad = 0, spare = 0;

	*outlen = 0;
	if (n % 4 == 0 && n > 0 && in[n - 1] == '=') {
		pad = in[n - 2] == '=' ? 2 : 1;
	} else if (!url && n % 4 != 0) {
		return -1;
	}
	r = n - pad;
	if (r % 4 == 1)
		return -1;
	for (i = 0; i < r; i++) {
		unsigned int v = b64_val((unsigned char)in[i], url);

		bad |= v;
		acc = acc << 6 | (v & 0x3fU);
		if (i % 4 == 3) {
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			acc = 0;
		}
	}
	if (r % 4 == 2) {
		spare = acc & 0xfU;
		out[o++] = (unsigned char)(acc >> 4);
	} else if (r % 4 == 3) {
		spare = acc & 0x3U;
		out[o++] = (unsigned char)(acc >> 10);
		out[o++] = (unsigned char)(acc >> 2);
	}
	/* Valid 6-bit values never set 0xc0; 0xff does. */
	if ((bad & 0xc0U) != 0 || spare != 0) {
		cu_wipe(out, o);
		return -1;
	}
	*outlen = o;
	return 0;
}

int
cu_base64_decode(void *out, size_t *outlen, const char *in, size_t n)
{
	return b64_decode(out, outlen, in, n, 0);
}

int
cu_base64url_decode(void *out, size_t *outlen, const char *in, size_t n)
{
	return b64_decode(out, outlen, in, n, 1);
}

void
cu_hex_encode(char *out, const void *in, size_t n)
{
	const unsigned char *p = in;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned int hi = p[i] >> 4, lo = p[i] & 0xfU;

		/* 'a' - 10 - '0' == 39: add it to digits past 9 without a branch. */
		out[2 * i] = (char)(hi + '0' + (CT_GT(hi, 9) & 39));
		out[2 * i + 1] = (char)(lo + '0' + (CT_GT(lo, 9) & 39));
	}
	out[2 * n] = '\0';
}

/* The 4-bit value of c, or 0xff for a non-hex character. */
static unsigned int
hex_val(unsigned char c)
{
	unsigned int l = c | 0x20U; /* folds A-F onto a-f; no digit is changed by it */
	unsigned int digit = CT_GE(c, '0') & CT_LE(c, '9');
	unsigned int alpha = CT_GE(l, 'a') & CT_LE(l, 'f');

	return (digit & (c - '0')) | (alpha & (l - 'a' + 10)) | ((digit | alpha) ^ 0xffU);
}

int
cu_hex_decode(void *out, const char *in, size_t n)
{
	unsigned char *p = out;
	unsigned int bad = 0;
	size_t i;

	if (n % 2 != 0)
		return -1;
	for (i = 0; i < n; i += 2) {
		unsigned int hi = hex_val((unsigned char)in[i]);
		unsigned int lo = hex_val((unsigned char)in[i + 1]);

		bad |= hi | lo;
		p[i / 2] = (unsigned char)(hi << 4 | (lo & 0xfU));
	}
	if ((bad & 0xf0U) != 0) {
		cu_wipe(out, n / 2);
		return -1;
	}
	return 0;
}

/*
 * Sealed secrets. The layout after the "v1:" prefix is nonce | ciphertext | tag, in base64.
 * The key is derived afresh on each call: sealing is rare (a key pair saved or loaded), and no
 * derived key then lives longer than the call that needs it.
 */
#define SEAL_PREFIX "v1:"
#define SEAL_PREFIX_LEN 3
#define SEAL_INFO "custos/seal/v1"
#define SEAL_KEY_LEN 32
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
/* Private keys are a few KiB; the cap keeps lengths inside OpenSSL's int arguments. */
#define SEAL_MAX_PLAIN (16 * 1024 * 1024)

/* HKDF-SHA256 over secret_key with an empty salt (RFC 5869: a string of zeros) and the
 * version's info string. */
static int
seal_key(unsigned char key[SEAL_KEY_LEN], const char *secret_key)
{
	EVP_PKEY_CTX *ctx = NULL;
	size_t klen = SEAL_KEY_LEN, slen;
	int rc = -1;

	if (secret_key == NULL)
		goto out;
	slen = strlen(secret_key);
	/* An empty secret_key is a configuration error, not a key. */
	if (slen == 0 || slen > INT_MAX)
		goto out;
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	if (ctx == NULL || EVP_PKEY_derive_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set1_hkdf_key(ctx, (const unsigned char *)secret_key, (int)slen) <= 0 ||
	    EVP_PKEY_CTX_add1_hkdf_info(ctx, (const unsigned char *)SEAL_INFO,
	                                (int)(sizeof(SEAL_INFO) - 1)) <= 0 ||
	    EVP_PKEY_derive(ctx, key, &klen) <= 0 || klen != SEAL_KEY_LEN)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		cu_wipe(key, SEAL_KEY_LEN);
		ERR_clear_error();
	}
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

int
cu_crypto_seal(char **out, const char *secret_key, const void *plain, size_t len)
{
	unsigned char key[SEAL_KEY_LEN];
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	EVP_CIPHER_CTX *c = NULL;
	int n = 0, fin = 0, rc = -1;
	char *s;

	*out = NULL;
	memset(key, 0, sizeof(key));
	if (len > SEAL_MAX_PLAIN || (len > 0 && plain == NULL) || seal_key(key, secret_key) != 0)
		goto out;
	rawlen = SEAL_NONCE_LEN + len + SEAL_TAG_LEN;
	raw = cu_malloc(rawlen);
	cu_crypto_random(raw, SEAL_NONCE_LEN);
	c = EVP_CIPHER_CTX_new();
	if (c == NULL || EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, raw) != 1)
		goto out;
	if (len > 0 && (EVP_EncryptUpdate(c, raw + SEAL_NONCE_LEN, &n, plain, (int)len) != 1 ||
	                (size_t)n != len))
		goto out;
	if (EVP_EncryptFinal_ex(c, raw + SEAL_NONCE_LEN + len, &fin) != 1 || fin != 0 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN,
	                        raw + SEAL_NONCE_LEN + len) != 1)
		goto out;
	s = cu_malloc(SEAL_PREFIX_LEN + cu_base64_enc_len(rawlen) + 1);
	memcpy(s, SEAL_PREFIX, SEAL_PREFIX_LEN);
	cu_base64_encode(s + SEAL_PREFIX_LEN, raw, rawlen);
	*out = s;
	rc = 0;
out:
	if (rc != 0)
		ERR_clear_error();
	EVP_CIPHER_CTX_free(c);
	cu_wipe(raw, rawlen);
	cu_free(raw);
	cu_wipe(key, sizeof(key));
	return rc;
}

int
cu_crypto_unseal(char **out, size_t *len, const char *secret_key, const char *sealed)
{
	unsigned char key[SEAL_KEY_LEN];
	unsigned char *raw = NULL;
	char *plain = NULL;
	size_t b64len, rawlen = 0, ctlen = 0;
	EVP_CIPHER_CTX *c = NULL;
	int n = 0, fin = 0, rc = -1;

	*out = NULL;
	*len = 0;
	memset(key, 0, sizeof(key));
	if (sealed == NULL || strncmp(sealed, SEAL_PREFIX, SEAL_PREFIX_LEN) != 0)
		goto out;
	/* The longest text seal can write, so that nothing larger is decoded. */
	b64len = strnlen(sealed + SEAL_PREFIX_LEN,
	                 cu_base64_enc_len(SEAL_NONCE_LEN + SEAL_MAX_PLAIN + SEAL_TAG_LEN) + 1);
	if (b64len > cu_base64_enc_len(SEAL_NONCE_LEN + SEAL_MAX_PLAIN + SEAL_TAG_LEN))
		goto out;
	raw = cu_malloc(b64len / 4 * 3 + 3);
	if (cu_base64_decode(raw, &rawlen, sealed + SEAL_PREFIX_LEN, b64len) != 0 ||
	    rawlen < SEAL_NONCE_LEN + SEAL_TAG_LEN)
		goto out;
	ctlen = rawlen - SEAL_NONCE_LEN - SEAL_TAG_LEN;
	if (seal_key(key, secret_key) != 0)
		goto out;
	c = EVP_CIPHER_CTX_new();
	if (c == NULL || EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, raw) != 1)
		goto out;
	plain = cu_malloc(ctlen + 1);
	if (ctlen > 0 && (EVP_DecryptUpdate(c, (unsigned char *)plain, &n, raw + SEAL_NONCE_LEN,
	                                    (int)ctlen) != 1 ||
	                  (size_t)n != ctlen))
		goto out;
	/* The plaintext written so far is not to be trusted until the tag checks out. */
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN,
	                        raw + SEAL_NONCE_LEN + ctlen) != 1 ||
	    EVP_DecryptFinal_ex(c, (unsigned char *)plain + ctlen, &fin) != 1 || fin != 0)
		goto out;
	plain[ctlen] = '\0';
	*out = plain;
	*len = ctlen;
	plain = NULL;
	rc = 0;
out:
	if (rc != 0)
		ERR_clear_error();
	if (plain != NULL) {
		cu_wipe(plain, ctlen + 1);
		cu_free(plain);
	}
	EVP_CIPHER_CTX_free(c);
	cu_wipe(raw, rawlen);
	cu_free(raw);
	cu_wipe(key, sizeof(key));
	return rc;
}
