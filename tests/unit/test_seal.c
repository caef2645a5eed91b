#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"
#include "mem.h"

static const char secret[] = "0123456789abcdef0123456789abcdef0123456789abcdef";
/* Stands in for a stale output pointer that a failed call must reset. */
static char stale;

/*
 * A known answer sealed by an independent implementation (Python's cryptography package:
 * HKDF-SHA256 with no salt and info "custos/seal/v1", then AES-256-GCM) with the nonce
 * 00 01 .. 0b, so that the format is pinned down and not only self-consistent.
 */
static const char golden_secret[] = "golden-secret-key-for-seal-tests";
static const char golden_sealed[] =
    "v1:AAECAwQFBgcICQoLrj8X4QwlNNfsVGpPq5wzUIPBhDPwKRcJoUoD9tAPy2nj/b2J4Wqo7JkzCisYKFnJmcrwXE3"
    "JmNwJD2quCaZvw2fuBthCzRLdtQ4OH1s=";
static const char golden_plain[] =
    "-----BEGIN PRIVATE KEY-----\ngolden\n-----END PRIVATE KEY-----\n";

/* Seals and unseals n bytes; checks the text's shape and the plaintext's NUL. */
static void
roundtrip(size_t n)
{
	unsigned char *plain = cu_malloc(n + 1);
	char *sealed = NULL, *back = NULL;
	size_t len = 99;

	cu_crypto_random(plain, n);
	assert_int_equal(cu_crypto_seal(&sealed, secret, n > 0 ? plain : NULL, n), 0);
	assert_non_null(sealed);
	assert_memory_equal(sealed, "v1:", 3);
	assert_int_equal(strlen(sealed), 3 + cu_base64_enc_len(12 + n + 16));
	assert_int_equal(cu_crypto_unseal(&back, &len, secret, sealed), 0);
	assert_non_null(back);
	assert_int_equal(len, n);
	if (n > 0)
		assert_memory_equal(back, plain, n);
	assert_int_equal(back[n], '\0');
	cu_wipe(back, len);
	cu_free(back);
	cu_free(sealed);
	cu_free(plain);
}

static void
test_seal_roundtrip(void **state)
{
	(void)state;
	roundtrip(0);
	roundtrip(1);
	roundtrip(4096);
}

static void
test_seal_golden(void **state)
{
	char *back = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(cu_crypto_unseal(&back, &len, golden_secret, golden_sealed), 0);
	assert_int_equal(len, strlen(golden_plain));
	assert_string_equal(back, golden_plain);
	cu_wipe(back, len);
	cu_free(back);
	assert_int_equal(cu_crypto_unseal(&back, &len, secret, golden_sealed), -1);
	assert_null(back);
}

static void
test_seal_wrong_secret(void **state)
{
	char *sealed = NULL, *back = &stale;
	size_t len = 99;

	(void)state;
	assert_int_equal(cu_crypto_seal(&sealed, secret, "private", 7), 0);
	assert_int_equal(cu_crypto_unseal(&back, &len,
	                                  "0123456789abcdef0123456789abcdeF0123456789abcdef",
	                                  sealed),
	                 -1);
	assert_null(back);
	assert_int_equal(len, 0);
	/* A prefix of the right secret is another secret. */
	assert_int_equal(cu_crypto_unseal(&back, &len, "0123456789abcdef", sealed), -1);
	assert_int_equal(cu_crypto_unseal(&back, &len, "", sealed), -1);
	cu_free(sealed);
}

/* Every bit flipped in nonce, ciphertext and tag is noticed. */
static void
test_seal_flipped(void **state)
{
	static const char msg[] = "-----BEGIN PRIVATE KEY-----";
	char *sealed = NULL, *back = NULL, *bad;
	unsigned char raw[12 + sizeof(msg) - 1 + 16];
	size_t rawlen = 0, len = 0, i, sealedlen;
	unsigned int bit;

	(void)state;
	assert_int_equal(cu_crypto_seal(&sealed, secret, msg, sizeof(msg) - 1), 0);
	sealedlen = strlen(sealed);
	assert_int_equal(cu_base64_decode(raw, &rawlen, sealed + 3, sealedlen - 3), 0);
	assert_int_equal(rawlen, sizeof(raw));
	bad = cu_malloc(sealedlen + 1);
	memcpy(bad, "v1:", 3);
	for (i = 0; i < rawlen; i++) {
		for (bit = 0; bit < 8; bit++) {
			raw[i] ^= (unsigned char)(1U << bit);
			cu_base64_encode(bad + 3, raw, rawlen);
			assert_int_equal(cu_crypto_unseal(&back, &len, secret, bad), -1);
			assert_null(back);
			raw[i] ^= (unsigned char)(1U << bit);
		}
	}
	/* Unaltered, it still opens. */
	cu_base64_encode(bad + 3, raw, rawlen);
	assert_int_equal(cu_crypto_unseal(&back, &len, secret, bad), 0);
	assert_int_equal(len, sizeof(msg) - 1);
	cu_free(back);
	back = NULL;
	/* Every character of the text changed to another base64 character. */
	for (i = 0; i < sealedlen; i++) {
		memcpy(bad, sealed, sealedlen + 1);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		assert_int_equal(cu_crypto_unseal(&back, &len, secret, bad), -1);
		assert_null(back);
	}
	cu_free(bad);
	cu_free(sealed);
}

static void
test_seal_truncated(void **state)
{
	char *sealed = NULL, *back = NULL, *cut;
	unsigned char raw[12 + 40 + 16];
	size_t rawlen = 0, len = 0, n, k;

	(void)state;
	assert_int_equal(
	    cu_crypto_seal(&sealed, secret, "0123456789012345678901234567890123456789", 40), 0);
	n = strlen(sealed);
	assert_int_equal(cu_base64_decode(raw, &rawlen, sealed + 3, n - 3), 0);
	cut = cu_malloc(n + 1);
	memcpy(cut, "v1:", 3);
	/* Each shorter byte string, well-formed base64, from nothing to one byte short. */
	for (k = 0; k < rawlen; k++) {
		cu_base64_encode(cut + 3, raw, k);
		assert_int_equal(cu_crypto_unseal(&back, &len, secret, cut), -1);
		assert_null(back);
	}
	/* And the text cut anywhere. */
	for (k = 0; k < n; k++) {
		memcpy(cut, sealed, k);
		cut[k] = '\0';
		assert_int_equal(cu_crypto_unseal(&back, &len, secret, cut), -1);
	}
	cu_free(cut);
	cu_free(sealed);
}

static void
test_seal_prefix(void **state)
{
	static const char *const bad[] = {"", "v1", "v2:", "V1:", "v1;", " v1:", "1:"};
	char *sealed = NULL, *back = NULL, *other;
	size_t len = 0, i, n;

	(void)state;
	assert_int_equal(cu_crypto_seal(&sealed, secret, "abc", 3), 0);
	n = strlen(sealed);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t bl = strlen(bad[i]);

		other = cu_malloc(bl + n - 3 + 1);
		memcpy(other, bad[i], bl);
		memcpy(other + bl, sealed + 3, n - 3 + 1);
		assert_int_equal(cu_crypto_unseal(&back, &len, secret, other), -1);
		assert_null(back);
		cu_free(other);
	}
	/* Whitespace and other characters outside base64 are refused. */
	other = cu_malloc(n + 2);
	memcpy(other, sealed, n);
	other[n] = '\n';
	other[n + 1] = '\0';
	assert_int_equal(cu_crypto_unseal(&back, &len, secret, other), -1);
	cu_free(other);
	assert_int_equal(cu_crypto_unseal(&back, &len, secret, "v1:"), -1);
	assert_int_equal(cu_crypto_unseal(&back, &len, secret, "v1:!!!!"), -1);
	cu_free(sealed);
}

static void
test_seal_differs(void **state)
{
	char *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(cu_crypto_seal(&a, secret, "same text", 9), 0);
	assert_int_equal(cu_crypto_seal(&b, secret, "same text", 9), 0);
	assert_int_equal(strlen(a), strlen(b));
	assert_string_not_equal(a, b);
	/* The nonces differ, not only the rest. */
	assert_memory_not_equal(a + 3, b + 3, 16);
	cu_free(a);
	cu_free(b);
}

static void
test_seal_bad_args(void **state)
{
	char *sealed = &stale;

	(void)state;
	assert_int_equal(cu_crypto_seal(&sealed, "", "x", 1), -1);
	assert_null(sealed);
	sealed = &stale;
	assert_int_equal(cu_crypto_seal(&sealed, NULL, "x", 1), -1);
	assert_null(sealed);
	assert_int_equal(cu_crypto_seal(&sealed, secret, NULL, 1), -1);
	assert_null(sealed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seal_roundtrip),    cmocka_unit_test(test_seal_golden),
	    cmocka_unit_test(test_seal_wrong_secret), cmocka_unit_test(test_seal_flipped),
	    cmocka_unit_test(test_seal_truncated),    cmocka_unit_test(test_seal_prefix),
	    cmocka_unit_test(test_seal_differs),      cmocka_unit_test(test_seal_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
