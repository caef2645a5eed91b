/*
 * cu_jose_peek and cu_jose_verify on arbitrary bytes: id_token_hint, client assertions and
 * every other JWT custos accepts reach them. Two passes per input:
 *  - the input as a compact token, against a fixed HMAC key and a fixed EC public key (those
 *    of RFC 7515's examples, whose tokens are seeds). Invariant: an accepted token names the
 *    key's algorithm, has no crit, and peek parses it too.
 *  - when the input holds a newline, the text before it as a header and the rest as a payload,
 *    signed with the HMAC key, so the checks after the signature see arbitrary JSON.
 *    Invariant: the same, and the EC key never accepts such a token.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "crypto.h"
#include "jose.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RFC 7515 Appendix A.3's public key. */
static const char ec_pub[] = "-----BEGIN PUBLIC KEY-----\n"
                             "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV7\n"
                             "6e8Tus9uPHvRVEXH8UTNG72bfocs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==\n"
                             "-----END PUBLIC KEY-----\n";
/* RFC 7515 Appendix A.1's HMAC key (the JWK's k), so that its example token is accepted. */
static const char hmac_k[] =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";

static struct cu_jose_key hk, ek;
static int ready;

static void
check_accepted(struct cu_arena *a, const char *want_alg, const char *jwt, size_t len,
               struct json_object *claims, struct json_object *hdr)
{
	struct json_object *c2 = NULL, *h2 = NULL;
	const char *alg = NULL;

	if (claims == NULL || hdr == NULL || !json_object_is_type(claims, json_type_object) ||
	    !json_object_is_type(hdr, json_type_object))
		abort();
	if (cu_json_get_string(hdr, "alg", &alg) != 0 || strcmp(alg, want_alg) != 0)
		abort();
	if (json_object_object_get_ex(hdr, "crit", NULL))
		abort();
	if (cu_jose_peek(a, jwt, len, &c2, &h2) != CU_OK || c2 == NULL || h2 == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cu_arena a;
	struct json_object *claims = NULL, *hdr = NULL;
	const char *s = (const char *)data, *nl, *sig = NULL;
	char *h, *p, *input, *jwt;
	size_t hlen, plen;

	if (!ready) {
		unsigned char secret[64];
		size_t slen = 0;

		if (cu_base64url_decode(secret, &slen, hmac_k, sizeof(hmac_k) - 1) != 0)
			abort();
		cu_jose_key_hmac(&hk, secret, slen);
		if (cu_jose_key_from_pem(&ek, ec_pub, sizeof(ec_pub) - 1, NULL) != 0)
			abort();
		ready = 1;
	}
	cu_arena_init(&a);
	(void)cu_jose_peek(&a, s, size, &claims, &hdr);
	if (cu_jose_verify(&a, &ek, s, size, &claims, &hdr) == CU_OK)
		check_accepted(&a, "ES256", s, size, claims, hdr);
	else if (claims != NULL || hdr != NULL)
		abort();
	if (cu_jose_verify(&a, &hk, s, size, &claims, &hdr) == CU_OK)
		check_accepted(&a, "HS256", s, size, claims, hdr);
	nl = memchr(s, '\n', size);
	if (nl != NULL) {
		hlen = (size_t)(nl - s);
		plen = size - hlen - 1;
		h = cu_arena_alloc(&a, cu_base64url_enc_len(hlen) + 1);
		p = cu_arena_alloc(&a, cu_base64url_enc_len(plen) + 1);
		cu_base64url_encode(h, s, hlen);
		cu_base64url_encode(p, nl + 1, plen);
		input = cu_arena_printf(&a, "%s.%s", h, p);
		if (cu_jose_sign_input(&a, &hk, input, strlen(input), &sig) != 0)
			abort();
		jwt = cu_arena_printf(&a, "%s.%s", input, sig);
		if (cu_jose_verify(&a, &hk, jwt, strlen(jwt), &claims, &hdr) == CU_OK)
			check_accepted(&a, "HS256", jwt, strlen(jwt), claims, hdr);
		/* The same token under the EC key: the algorithm is not the key's. */
		if (cu_jose_verify(&a, &ek, jwt, strlen(jwt), &claims, &hdr) == CU_OK)
			abort();
	}
	cu_arena_free(&a);
	return 0;
}
