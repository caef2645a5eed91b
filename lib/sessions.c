#include "sessions.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "auth.h"
#include "crypto.h"
#include "db.h"
#include "events.h"
#include "http.h"
#include "json.h"
#include "mem.h"
#include "server.h"

#define SESSIONS_JWT_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
/* Django's CSRF secrets: 32 characters of this alphabet; masked tokens are 64. */
#define CSRF_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define CSRF_SECRET_LEN 32
/* Bytes of User-Agent kept with a session. */
#define SESSIONS_MAX_UA 512

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

/* The sid of a cookie whose signature holds, with its "authenticated" claim; NULL otherwise. */
static const char *
cookie_claims(struct cu_ctx *cx, int *authenticated_out)
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
	    cu_json_get_bool(payload, "authenticated", &authenticated) != 0)
		return NULL;
	/* A key outside the table's own bounds cannot name a row; no need to ask. */
	if (strlen(sid) < 32 || strlen(sid) > 128)
		return NULL;
	*authenticated_out = authenticated;
	return sid;
}

const char *
cu_sessions_cookie_sid(struct cu_ctx *cx)
{
	int authenticated = 0;
	const char *sid = cookie_claims(cx, &authenticated);

	return sid != NULL && authenticated ? sid : NULL;
}

const char *
cu_sessions_cookie_any(struct cu_ctx *cx, int *authenticated)
{
	*authenticated = 0;
	return cookie_claims(cx, authenticated);
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

void
cu_sessions_new_key(char out[CU_SESSIONS_KEY_LEN + 1])
{
	cu_crypto_random_alnum(out, CU_SESSIONS_KEY_LEN);
}

/* The attributes both cookies share: authentik's, from web.path and cookie_domain. */
static void
cookie_opts(struct cu_ctx *cx, struct cu_cookie_opts *o)
{
	const char *path = cx->cx_cfg->web_path;
	const char *domain = cx->cx_cfg->cookie_domain;

	memset(o, 0, sizeof(*o));
	o->co_path = path != NULL && path[0] == '/' ? path : "/";
	o->co_domain = domain != NULL && domain[0] != '\0' ? domain : NULL;
	o->co_secure = cx->cx_req->rq_https;
	o->co_same_site = cx->cx_req->rq_https ? "None" : "Lax";
}

int
cu_sessions_set_cookie(struct cu_ctx *cx, const char *sid, const char *sub, int authenticated,
                       long max_age)
{
	struct cu_cookie_opts o;

	cookie_opts(cx, &o);
	o.co_http_only = 1;
	o.co_max_age = max_age > 0 ? max_age : -1;
	return cu_http_set_cookie(cx->cx_resp, cx->cx_arena, CU_SESSIONS_COOKIE,
	                          cu_sessions_cookie_value(cx, sid, sub, authenticated), &o);
}

int
cu_sessions_ensure_csrf(struct cu_ctx *cx)
{
	struct cu_cookie_opts o;
	char secret[CSRF_SECRET_LEN + 1];

	if (csrf_secret(cu_http_cookie(cx->cx_req, CU_SESSIONS_CSRF_COOKIE), secret) == 0)
		return 0;
	cookie_opts(cx, &o);
	/* Django's CSRF_COOKIE_AGE: one year. */
	o.co_max_age = 31449600;
	cu_crypto_random_alnum(secret, CSRF_SECRET_LEN);
	return cu_http_set_cookie(cx->cx_resp, cx->cx_arena, CU_SESSIONS_CSRF_COOKIE,
	                          cu_arena_strdup(cx->cx_arena, secret), &o);
}

/* The user in columns first .. first + 7 (id, uuid, username, name, email, type, path,
 * is_superuser) of res's first row, or NULL when there is none. */
static struct cu_user *
user_at(struct cu_ctx *cx, const PGresult *res, int first)
{
	struct cu_user *u;

	if (cu_db_value(res, 0, first) == NULL)
		return NULL;
	u = cu_arena_zalloc(cx->cx_arena, sizeof(*u));
	u->us_id_text = cu_db_value(res, 0, first);
	u->us_id = strtoll(u->us_id_text, NULL, 10);
	u->us_uuid = cu_db_value(res, 0, first + 1);
	u->us_username = cu_db_value(res, 0, first + 2);
	u->us_name = cu_db_value(res, 0, first + 3);
	u->us_email = cu_db_value(res, 0, first + 4);
	u->us_type = cu_db_value(res, 0, first + 5);
	u->us_path = cu_db_value(res, 0, first + 6);
	u->us_is_superuser = strcmp(cu_db_value(res, 0, first + 7), "t") == 0;
	return u;
}

/* Columns: rev, the session user (1-8), user_id, the pending user (10-17). */
enum cu_err
cu_sessions_load(struct cu_ctx *cx, const char *key, struct cu_session *out)
{
	const char *params[1];
	PGresult *res = NULL;
	struct cu_user *u;
	enum cu_err err;

	memset(out, 0, sizeof(*out));
	params[0] = key;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_SESSIONS_LOAD, 1, params);
	if (err != CU_OK)
		return err == CU_ERR_UNAVAILABLE ? err : CU_ERR_INTERNAL;
	if (PQntuples(res) != 1)
		return CU_ERR_NOT_FOUND;
	out->se_key = key;
	out->se_plan_rev = strtoll(cu_db_value(res, 0, 0), NULL, 10);
	out->se_pending_user = user_at(cx, res, 10);
	if (cu_db_value(res, 0, 9) == NULL)
		return CU_OK;
	/* The deactivation trigger deletes a user's sessions; this covers a race with it. */
	if ((u = user_at(cx, res, 1)) == NULL)
		return CU_ERR_NOT_FOUND;
	out->se_user = u;
	return CU_OK;
}

/* The user agent as the session list shows it: a bounded prefix cut on a character boundary;
 * "" when the header is not UTF-8 (PostgreSQL would refuse the row). */
static const char *
user_agent(struct cu_ctx *cx)
{
	const char *ua = cu_http_header(cx->cx_req, "user-agent");
	size_t n;

	if (ua == NULL)
		return "";
	n = strlen(ua);
	if (n > SESSIONS_MAX_UA) {
		n = SESSIONS_MAX_UA;
		while (n > 0 && ((unsigned char)ua[n] & 0xC0) == 0x80)
			n--;
	}
	if (!cu_utf8_valid(ua, n))
		return "";
	return cu_arena_strndup(cx->cx_arena, ua, n);
}

enum cu_err
cu_sessions_create(struct cu_ctx *cx, const char *key, long long user_id, long long seconds,
                   const char *plan)
{
	const char *params[6];
	PGresult *res = NULL;
	enum cu_err err;

	params[0] = key;
	params[1] = cu_arena_printf(cx->cx_arena, "%lld", seconds);
	params[2] = cu_events_client_ip(cx);
	params[3] = user_agent(cx);
	params[4] = plan;
	if (user_id == 0) {
		return cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_SESSIONS_CREATE_ANON, 5,
		                  params);
	}
	params[5] = cu_arena_printf(cx->cx_arena, "%lld", user_id);
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_SESSIONS_CREATE_USER, 6, params);
	if (err == CU_OK && PQntuples(res) != 1)
		return CU_ERR_NOT_FOUND;
	return err;
}

enum cu_err
cu_sessions_rotate(struct cu_ctx *cx, const char *key, const char *new_key, long long user_id,
                   long long seconds)
{
	const char *params[6];
	PGresult *res = NULL;
	enum cu_err err;

	params[0] = key;
	params[1] = new_key;
	params[2] = cu_arena_printf(cx->cx_arena, "%lld", seconds);
	params[3] = cu_events_client_ip(cx);
	params[4] = user_agent(cx);
	params[5] = cu_arena_printf(cx->cx_arena, "%lld", user_id);
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_SESSIONS_ROTATE, 6, params);
	if (err == CU_OK && PQntuples(res) != 1)
		return CU_ERR_NOT_FOUND;
	return err;
}

enum cu_err
cu_sessions_delete(struct cu_ctx *cx, const char *key)
{
	const char *params[1] = {key};

	return cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_SESSIONS_DELETE, 1, params);
}

enum cu_err
cu_sessions_delete_others(struct cu_ctx *cx, long long user_id, const char *keep)
{
	const char *params[2];

	params[0] = cu_arena_printf(cx->cx_arena, "%lld", user_id);
	params[1] = keep;
	return cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_SESSIONS_DELETE_OTHERS, 2,
	                  params);
}
