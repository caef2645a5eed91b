#include "sessions.h"

#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "crypto.h"
#include "http.h"
#include "json.h"
#include "mem.h"
#include "server.h"

#define SESSIONS_JWT_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
/* Django's CSRF secrets: 32 characters of this alphabet; masked tokens are 64. */
#define CSRF_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define CSRF_SECRET_LEN 32

/* HMAC-SHA256 keyed with the hex SHA-512 of secret_key, as authentik signs the cookie. */
static void
cookie_mac(struct cu_ctx *cx, uint8_t out[CU_SHA256_LEN], const char *msg, size_t len)
{
	const char *secret = cx->cx_cfg->secret_key;
	unsigned char d[64];
	unsigned int dlen = 0;
	char key[129];

	EVP_Digest(secret, strlen(secret), d, &dlen, EVP_sha512(), NULL);
	cu_hex_encode(key, d, sizeof(d));
	cu_crypto_hmac_sha256(out, key, 128, msg, len);
	cu_wipe(key, sizeof(key));
	cu_wipe(d, sizeof(d));
}

/* Decodes one base64url JWT segment into arena memory as a NUL-terminated string. */
static char *
segment(struct cu_ctx *cx, const char *s, size_t n, size_t *outlen)
{
	char *out = cu_arena_alloc(cx->cx_arena, n * 3 / 4 + 4);

	if (cu_base64url_decode(out, outlen, s, n) != 0)
		return NULL;
	out[*outlen] = '\0';
	return out;
}

const char *
cu_sessions_cookie_sid(struct cu_ctx *cx)
{
	const char *v = cu_http_cookie(cx->cx_req, CU_SESSIONS_COOKIE);
	const char *dot1, *dot2, *sid = NULL, *alg = NULL;
	struct json_object *hdr = NULL, *payload = NULL;
	uint8_t mac[CU_SHA256_LEN],
	    sig[64 * 3 / 4 + 3]; /* room for the longest segment let through */
	size_t len, siglen = 0, hlen, plen;
	char *htext, *ptext;
	int authenticated = 0;

	if (v == NULL || (len = strlen(v)) > CU_SESSIONS_MAX_COOKIE)
		return NULL;
	dot1 = memchr(v, '.', len);
	dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - v)) : NULL;
	if (dot2 == NULL || len - (size_t)(dot2 + 1 - v) > 64)
		return NULL;
	if (cu_base64url_decode(sig, &siglen, dot2 + 1, len - (size_t)(dot2 + 1 - v)) != 0 ||
	    siglen != CU_SHA256_LEN)
		return NULL;
	cookie_mac(cx, mac, v, (size_t)(dot2 - v));
	if (!cu_crypto_ct_eq(mac, sizeof(mac), sig, siglen))
		return NULL;
	/* Signed by us; still check what it says before believing it. */
	htext = segment(cx, v, (size_t)(dot1 - v), &hlen);
	ptext = segment(cx, dot1 + 1, (size_t)(dot2 - dot1 - 1), &plen);
	if (htext == NULL || ptext == NULL ||
	    cu_json_parse(cx->cx_arena, htext, hlen, &hdr) != CU_OK || hdr == NULL ||
	    cu_json_parse(cx->cx_arena, ptext, plen, &payload) != CU_OK || payload == NULL ||
	    cu_json_get_string(hdr, "alg", &alg) != 0 || strcmp(alg, "HS256") != 0 ||
	    cu_json_get_string(payload, "sid", &sid) != 0 ||
	    cu_json_get_bool(payload, "authenticated", &authenticated) != 0 || !authenticated)
		return NULL;
	return sid;
}

const char *
cu_sessions_cookie_value(struct cu_ctx *cx, const char *sid, const char *sub, int authenticated)
{
	struct json_object *p = cu_json_object(cx->cx_arena);
	const char *ptext;
	size_t plen, hlen = strlen(SESSIONS_JWT_HEADER);
	char *out, *w;
	uint8_t mac[CU_SHA256_LEN];

	cu_json_set_string(p, "sid", sid);
	cu_json_set_string(p, "iss", "authentik");
	cu_json_set_string(p, "sub", sub);
	cu_json_set_bool(p, "authenticated", authenticated);
	cu_json_set_string(p, "acr", "goauthentik.io/core/default");
	ptext = cu_json_text(p, &plen);
	out = cu_arena_alloc(cx->cx_arena, cu_base64url_enc_len(hlen) + cu_base64url_enc_len(plen) +
	                                       cu_base64url_enc_len(sizeof(mac)) + 3);
	w = out;
	cu_base64url_encode(w, SESSIONS_JWT_HEADER, hlen);
	w += strlen(w);
	*w++ = '.';
	cu_base64url_encode(w, ptext, plen);
	w += strlen(w);
	cookie_mac(cx, mac, out, (size_t)(w - out));
	*w++ = '.';
	cu_base64url_encode(w, mac, sizeof(mac));
	return out;
}

/* The 32-character secret of a plain or masked Django CSRF token into out[33]; -1 if neither. */
static int
csrf_secret(const char *tok, char out[CSRF_SECRET_LEN + 1])
{
	size_t len = tok != NULL ? strlen(tok) : 0, i;

	if (len != CSRF_SECRET_LEN && len != 2 * CSRF_SECRET_LEN)
		return -1;
	for (i = 0; i < len; i++)
		if (tok[i] == '\0' || strchr(CSRF_CHARS, tok[i]) == NULL)
			return -1;
	if (len == CSRF_SECRET_LEN) {
		memcpy(out, tok, CSRF_SECRET_LEN);
	} else {
		/* Masked: the first half is the mask, the second the secret shifted by it. */
		for (i = 0; i < CSRF_SECRET_LEN; i++) {
			long m = strchr(CSRF_CHARS, tok[i]) - CSRF_CHARS;
			long c = strchr(CSRF_CHARS, tok[CSRF_SECRET_LEN + i]) - CSRF_CHARS;

			out[i] = CSRF_CHARS[(c - m + 62) % 62];
		}
	}
	out[CSRF_SECRET_LEN] = '\0';
	return 0;
}

int
cu_sessions_csrf_ok(struct cu_ctx *cx)
{
	char a[CSRF_SECRET_LEN + 1], b[CSRF_SECRET_LEN + 1];

	if (csrf_secret(cu_http_cookie(cx->cx_req, CU_SESSIONS_CSRF_COOKIE), a) != 0 ||
	    csrf_secret(cu_http_header(cx->cx_req, CU_SESSIONS_CSRF_HEADER), b) != 0)
		return 0;
	return cu_crypto_ct_eq(a, CSRF_SECRET_LEN, b, CSRF_SECRET_LEN);
}
