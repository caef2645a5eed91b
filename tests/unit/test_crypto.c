#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* RFC 4648 section 10. */
static const struct {
	const char *plain;
	const char *b64;
	const char *b64url;
} rfc4648[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

static void
unhex(uint8_t *out, size_t outlen, const char *hex)
{
	assert_int_equal(strlen(hex), 2 * outlen);
	assert_int_equal(cu_hex_decode(out, hex, 2 * outlen), 0);
}

static void
test_base64_rfc4648(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		const char *p = rfc4648[i].plain;
		size_t n = strlen(p), outlen = 99;
		char enc[16];
		uint8_t dec[16];

		assert_int_equal(cu_base64_enc_len(n), strlen(rfc4648[i].b64));
		cu_base64_encode(enc, p, n);
		assert_string_equal(enc, rfc4648[i].b64);
		assert_int_equal(cu_base64_decode(dec, &outlen, enc, strlen(enc)), 0);
		assert_int_equal(outlen, n);
		assert_memory_equal(dec, p, n);

		assert_int_equal(cu_base64url_enc_len(n), strlen(rfc4648[i].b64url));
		cu_base64url_encode(enc, p, n);
		assert_string_equal(enc, rfc4648[i].b64url);
		outlen = 99;
		assert_int_equal(cu_base64url_decode(dec, &outlen, enc, strlen(enc)), 0);
		assert_int_equal(outlen, n);
		assert_memory_equal(dec, p, n);

		/* base64url also takes correct padding. */
		outlen = 99;
		assert_int_equal(
		    cu_base64url_decode(dec, &outlen, rfc4648[i].b64, strlen(rfc4648[i].b64)), 0);
		assert_int_equal(outlen, n);
		assert_memory_equal(dec, p, n);
	}
}

static void
test_base64_alphabets(void **state)
{
	static const uint8_t pluses[3] = {0xfb, 0xef, 0xbe};
	static const uint8_t slashes[3] = {0xff, 0xff, 0xff};
	char enc[8];
	uint8_t dec[8];
	size_t outlen;

	(void)state;
	cu_base64_encode(enc, pluses, 3);
	assert_string_equal(enc, "++++");
	cu_base64url_encode(enc, pluses, 3);
	assert_string_equal(enc, "----");
	cu_base64_encode(enc, slashes, 3);
	assert_string_equal(enc, "////");
	cu_base64url_encode(enc, slashes, 3);
	assert_string_equal(enc, "____");

	assert_int_equal(cu_base64_decode(dec, &outlen, "++//", 4), 0);
	assert_int_equal(cu_base64_decode(dec, &outlen, "--__", 4), -1);
	assert_int_equal(cu_base64url_decode(dec, &outlen, "--__", 4), 0);
	assert_int_equal(cu_base64url_decode(dec, &outlen, "++//", 4), -1);
}

/* Every byte value in every position of a quantum, against a plain strchr reference. */
static void
test_base64_every_char(void **state)
{
	unsigned int c;
	size_t pos;

	(void)state;
	for (c = 0; c < 256; c++) {
		for (pos = 0; pos < 4; pos++) {
			char in[4] = {'A', 'A', 'A', 'A'};
			const char *hit;
			uint8_t dec[8];
			size_t outlen = 99;
			int rc;

			in[pos] = (char)c;
			rc = cu_base64_decode(dec, &outlen, in, 4);
			if (c == '=' && pos == 3) {
				/* "AAA=" is padding, not a stray character. */
				assert_int_equal(rc, 0);
				assert_int_equal(outlen, 2);
				continue;
			}
			hit = c != 0 ? strchr(b64_alphabet, (int)c) : NULL;
			if (hit == NULL) {
				assert_int_equal(rc, -1);
				assert_int_equal(outlen, 0);
			} else {
				unsigned int v = (unsigned int)(hit - b64_alphabet);
				unsigned int want = v << (6 * (3 - pos));

				assert_int_equal(rc, 0);
				assert_int_equal(outlen, 3);
				assert_int_equal(dec[0], (want >> 16) & 0xff);
				assert_int_equal(dec[1], (want >> 8) & 0xff);
				assert_int_equal(dec[2], want & 0xff);
			}

			rc = cu_base64url_decode(dec, &outlen, in, 4);
			hit = c != 0 ? strchr(b64url_alphabet, (int)c) : NULL;
			assert_int_equal(rc, hit == NULL ? -1 : 0);
		}
	}
}

static void
test_base64_rejects(void **state)
{
	static const char *const bad_std[] = {
	    "Zg",        /* unpadded */
	    "Zg=",       /* short padding */
	    "Z===",      /* three pad characters */
	    "====",      /* nothing but padding */
	    "Zg==Zg==",  /* padding inside */
	    "Zh==",      /* unused bits set */
	    "Zm9=",      /* unused bits set */
	    "Zm9vY",     /* length 5 */
	    " Zm9",      /* whitespace */
	    "Zm9v\n",    /* trailing newline */
	    "Zm 9",      /* space inside */
	    "Zm9v=",     /* padding after a full quantum */
	    "Zg\xc3\xa9" /* non-ASCII */
	};
	static const char *const bad_url[] = {
	    "Z",      "Zg=",   "Zm9vY", "Zh",  "Zm9",   "Zg===", "Z===",
	    "Zg==Zg", "Zm9v=", "Zm+v",  "Z/9", "Zm9v ", "=",     "Zm8==",
	};
	uint8_t dec[16];
	size_t i, outlen;

	(void)state;
	for (i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++) {
		outlen = 99;
		assert_int_equal(cu_base64_decode(dec, &outlen, bad_std[i], strlen(bad_std[i])),
		                 -1);
		assert_int_equal(outlen, 0);
	}
	for (i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++) {
		outlen = 99;
		assert_int_equal(cu_base64url_decode(dec, &outlen, bad_url[i], strlen(bad_url[i])),
		                 -1);
		assert_int_equal(outlen, 0);
	}
	/* An embedded NUL is a character outside the alphabet, not an end. */
	assert_int_equal(cu_base64_decode(dec, &outlen, "Zm\0v", 4), -1);
	assert_int_equal(cu_base64url_decode(dec, &outlen, "Zm\0v", 4), -1);
	/* Empty input is the empty string. */
	outlen = 99;
	assert_int_equal(cu_base64_decode(dec, &outlen, "", 0), 0);
	assert_int_equal(outlen, 0);
}

static void
test_base64_roundtrip(void **state)
{
	uint8_t in[300], dec[300 * 3 / 4 + 300];
	char enc[420];
	size_t n, i, outlen;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (n = 0; n <= sizeof(in); n++) {
		cu_base64_encode(enc, in, n);
		assert_int_equal(strlen(enc), cu_base64_enc_len(n));
		assert_int_equal(cu_base64_decode(dec, &outlen, enc, strlen(enc)), 0);
		assert_int_equal(outlen, n);
		assert_memory_equal(dec, in, n);

		cu_base64url_encode(enc, in, n);
		assert_int_equal(strlen(enc), cu_base64url_enc_len(n));
		assert_null(strchr(enc, '='));
		assert_int_equal(cu_base64url_decode(dec, &outlen, enc, strlen(enc)), 0);
		assert_int_equal(outlen, n);
		assert_memory_equal(dec, in, n);
	}
}

static void
test_base64_enc_len(void **state)
{
	(void)state;
	assert_int_equal(cu_base64_enc_len(0), 0);
	assert_int_equal(cu_base64_enc_len(1), 4);
	assert_int_equal(cu_base64_enc_len(3), 4);
	assert_int_equal(cu_base64_enc_len(4), 8);
	assert_int_equal(cu_base64url_enc_len(0), 0);
	assert_int_equal(cu_base64url_enc_len(1), 2);
	assert_int_equal(cu_base64url_enc_len(2), 3);
	assert_int_equal(cu_base64url_enc_len(3), 4);
	assert_int_equal(cu_base64url_enc_len(32), 43);
}

static void
test_hex(void **state)
{
	static const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	char enc[2 * sizeof(bytes) + 1];
	uint8_t dec[sizeof(bytes)];
	unsigned int c;

	(void)state;
	cu_hex_encode(enc, bytes, sizeof(bytes));
	assert_string_equal(enc, "00017f80abff");
	assert_int_equal(cu_hex_decode(dec, enc, strlen(enc)), 0);
	assert_memory_equal(dec, bytes, sizeof(bytes));
	assert_int_equal(cu_hex_decode(dec, "00017F80ABFF", 12), 0);
	assert_memory_equal(dec, bytes, sizeof(bytes));

	cu_hex_encode(enc, bytes, 0);
	assert_string_equal(enc, "");
	assert_int_equal(cu_hex_decode(dec, "", 0), 0);

	assert_int_equal(cu_hex_decode(dec, "0", 1), -1);
	assert_int_equal(cu_hex_decode(dec, "abc", 3), -1);
	assert_int_equal(cu_hex_decode(dec, "0g", 2), -1);
	assert_int_equal(cu_hex_decode(dec, "g0", 2), -1);
	assert_int_equal(cu_hex_decode(dec, " 0", 2), -1);
	assert_int_equal(cu_hex_decode(dec, "0x00", 4), -1);
	assert_int_equal(cu_hex_decode(dec, "\0\0", 2), -1);

	for (c = 0; c < 256; c++) {
		char in[2] = {(char)c, '0'};
		int ok = c != 0 && strchr("0123456789abcdefABCDEF", (int)c) != NULL;

		assert_int_equal(cu_hex_decode(dec, in, 2), ok ? 0 : -1);
		if (ok) {
			unsigned int want = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

			assert_int_equal(dec[0], want << 4);
		}
	}
}

static void
test_sha256(void **state)
{
	uint8_t got[CU_SHA256_LEN], want[CU_SHA256_LEN];

	(void)state;
	cu_crypto_sha256(got, "abc", 3);
	unhex(want, sizeof(want),
	      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_memory_equal(got, want, sizeof(want));
	cu_crypto_sha256(got, NULL, 0);
	unhex(want, sizeof(want),
	      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_memory_equal(got, want, sizeof(want));
}

/* RFC 4231; case 5 (truncated output) does not apply. */
static void
test_hmac_rfc4231(void **state)
{
	uint8_t key[131], data[160], got[CU_SHA256_LEN], want[CU_SHA256_LEN];
	size_t i;

	(void)state;
	memset(key, 0x0b, 20);
	cu_crypto_hmac_sha256(got, key, 20, "Hi There", 8);
	unhex(want, sizeof(want),
	      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	assert_memory_equal(got, want, sizeof(want));

	cu_crypto_hmac_sha256(got, "Jefe", 4, "what do ya want for nothing?", 28);
	unhex(want, sizeof(want),
	      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	assert_memory_equal(got, want, sizeof(want));

	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	cu_crypto_hmac_sha256(got, key, 20, data, 50);
	unhex(want, sizeof(want),
	      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	assert_memory_equal(got, want, sizeof(want));

	for (i = 0; i < 25; i++)
		key[i] = (uint8_t)(i + 1);
	memset(data, 0xcd, 50);
	cu_crypto_hmac_sha256(got, key, 25, data, 50);
	unhex(want, sizeof(want),
	      "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
	assert_memory_equal(got, want, sizeof(want));

	memset(key, 0xaa, 131);
	cu_crypto_hmac_sha256(got, key, 131,
	                      "Test Using Larger Than Block-Size Key - Hash Key First", 54);
	unhex(want, sizeof(want),
	      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	assert_memory_equal(got, want, sizeof(want));

	{
		static const char msg[] =
		    "This is a test using a larger than block-size key and a larger than "
		    "block-size data. The key needs to be hashed before being used by the HMAC "
		    "algorithm.";

		cu_crypto_hmac_sha256(got, key, 131, msg, sizeof(msg) - 1);
		unhex(want, sizeof(want),
		      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
		assert_memory_equal(got, want, sizeof(want));
	}
}

static void
test_hmac_empty(void **state)
{
	uint8_t got[CU_SHA256_LEN], want[CU_SHA256_LEN];

	(void)state;
	/* Twice: the second call must not pick up a key from the first. */
	cu_crypto_hmac_sha256(got, "k", 1, "m", 1);
	cu_crypto_hmac_sha256(got, NULL, 0, NULL, 0);
	unhex(want, sizeof(want),
	      "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
	assert_memory_equal(got, want, sizeof(want));
}

static void
test_ct_eq(void **state)
{
	(void)state;
	assert_int_equal(cu_crypto_ct_eq("abc", 3, "abc", 3), 1);
	assert_int_equal(cu_crypto_ct_eq("abc", 3, "abd", 3), 0);
	assert_int_equal(cu_crypto_ct_eq("xbc", 3, "abc", 3), 0);
	assert_int_equal(cu_crypto_ct_eq("abc", 3, "abcd", 4), 0);
	assert_int_equal(cu_crypto_ct_eq("abcd", 4, "abc", 3), 0);
	assert_int_equal(cu_crypto_ct_eq("", 0, "a", 1), 0);
	assert_int_equal(cu_crypto_ct_eq(NULL, 0, NULL, 0), 1);
	assert_int_equal(cu_crypto_ct_eq("a\0b", 3, "a\0c", 3), 0);
	assert_int_equal(cu_crypto_ct_eq("a\0b", 3, "a\0b", 3), 1);
}

static void
test_random(void **state)
{
	uint8_t a[32], b[32], zero[32] = {0};
	char s[65];
	size_t i;

	(void)state;
	cu_crypto_random(a, sizeof(a));
	cu_crypto_random(b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
	cu_crypto_random(a, 0);

	memset(s, 'x', sizeof(s));
	cu_crypto_random_alnum(s, 64);
	assert_int_equal(strlen(s), 64);
	for (i = 0; i < 64; i++)
		assert_non_null(
		    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", s[i]));
	cu_crypto_random_alnum(s, 0);
	assert_string_equal(s, "");
}

/* Enough characters that every one of the 62 turns up; a biased or broken mapping shows. */
static void
test_random_alnum_coverage(void **state)
{
	static char s[20001];
	int seen[256] = {0};
	size_t i, kinds = 0;

	(void)state;
	cu_crypto_random_alnum(s, sizeof(s) - 1);
	for (i = 0; i < sizeof(s) - 1; i++)
		seen[(unsigned char)s[i]]++;
	for (i = 0; i < 256; i++) {
		if (seen[i] > 0)
			kinds++;
		/* Expected about 322 each; 150 is far outside chance. */
		if (seen[i] > 0)
			assert_in_range(seen[i], 150, 500);
	}
	assert_int_equal(kinds, 62);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64_rfc4648),
	    cmocka_unit_test(test_base64_alphabets),
	    cmocka_unit_test(test_base64_every_char),
	    cmocka_unit_test(test_base64_rejects),
	    cmocka_unit_test(test_base64_roundtrip),
	    cmocka_unit_test(test_base64_enc_len),
	    cmocka_unit_test(test_hex),
	    cmocka_unit_test(test_sha256),
	    cmocka_unit_test(test_hmac_rfc4231),
	    cmocka_unit_test(test_hmac_empty),
	    cmocka_unit_test(test_ct_eq),
	    cmocka_unit_test(test_random),
	    cmocka_unit_test(test_random_alnum_coverage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
