/*
 * The OAuth 2.0 / OpenID Connect provider's core (oauth2.h): providers, client authentication,
 * scopes, claims, and making and storing grants.
 *
 * The provider cache. Every endpoint starts from a provider, and the token endpoint must answer
 * a client_credentials request with one database round trip. So each process keeps the
 * providers it has served (at most CU_OAUTH2_CACHE_MAX, least recently used out first): the
 * row, its application, flows, signing key uuid and fingerprint, parsed redirect URIs and scope
 * mappings, its HS256 key when it has no signing key, and its client_credentials service
 * account. An entry is never trusted blindly for anything that matters:
 *   - providers.serial is bumped by triggers on every change an entry depends on (the provider,
 *     its OAuth2 row, its mappings and their expressions, its signing key pair, its
 *     application; sql/0060_oauth2.sql). Policy bindings on the application do not bump it, so
 *     whether the application has any travels beside the serial.
 *   - cu_oauth2_provider_by_*(fresh = 0) asks PostgreSQL for the serial (and bindings) of a
 *     cached entry, one indexed read, and reloads on any difference: what the authorization,
 *     introspection and other endpoints get is current as of their request.
 *   - cu_oauth2_provider_cached() skips that read. Only the token endpoint's single-statement
 *     grants use it, and their statement re-checks in SQL what the entry told them: the serial,
 *     the SHA-256 of the client secret (sha256() is built into PostgreSQL), the service
 *     account's id, activity, type and version (the SHA-256 of all its claims are made of),
 *     and, when the entry says the application has no bindings, that it still has none. When
 *     anything changed the statement inserts nothing, and the caller reloads with fresh = 1 and
 *     tries once more.
 * An entry replaced or evicted during a request is freed when the request's arena is reset, so
 * a provider pointer stays valid for the whole request that got it.
 *
 * Claims. A scope mapping is a Lua expression (lib/policies/expression.h) returning a table of
 * claims. The mappings of one request run in one interpreter (cu_policy_expression_values), each
 * with its own globals: opening an interpreter costs more than most mappings.
 *
 * Tokens. An access token is a JWT with the ID-token claims plus azp, uid and scope, as
 * authentik's; the ID token adds at_hash (and c_hash for a code); both share one jti. The
 * mapping claims go into both only when include_claims_in_id_token (authentik builds the access
 * token from the ID token). Codes, refresh tokens and device codes are random; the tables keep
 * the hex SHA-256 of every secret a client holds, the whole JWT's for access tokens.
 * encryption_key (JWE) is not produced: tokens are signed JWTs only.
 */
#include "providers/oauth2.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "auth.h"
#include "bounds.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "http.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "mem.h"
#include "policies/engine.h"
#include "policies/expression.h"
#include "policies/kinds.h"
#include "server.h"

/* Fallbacks for validity strings the API should never have let in (authentik's defaults). */
#define DEFAULT_CODE_VALIDITY 60
#define DEFAULT_ACCESS_VALIDITY 3600
#define DEFAULT_REFRESH_VALIDITY (30 * 86400)
#define MAPPING_TIMEOUT 30 /* seconds, as a policy binding's default timeout */
#define ID_LEN 40          /* authentik's generate_id() */
#define MAX_OWNED 40

enum key_kind { KEY_CLIENT_ID, KEY_SLUG, KEY_ID };

struct entry {
	struct cu_oauth2_provider e_p; /* first: a provider pointer is its entry's address */
	char *e_own[MAX_OWNED];        /* strings e_p points to */
	size_t e_nown;
	struct json_object *e_redirects; /* owned reference */
	struct json_object *e_mappings;  /* owned reference */
	/* The mappings, unpacked (pointers into e_mappings). */
	size_t e_nmap;
	const char **e_map_scope;
	const char **e_map_src;
	size_t *e_map_len;
	const char **e_map_name;
	unsigned char *e_map_trivial; /* returns nothing: no interpreter needed */
	struct cu_jose_key e_hmac;
	int e_has_hmac;
	/* The client_credentials service account, once known. */
	int e_has_sa;
	struct cu_oauth2_user e_sa;
	char *e_sa_own[12];
	size_t e_sa_nown;
	struct json_object *e_sa_json; /* owned reference */
	unsigned long long e_tick;
};

static struct entry *cache[CU_OAUTH2_CACHE_MAX];
static size_t ncache;
static unsigned long long ticks;
static char install_id[64];

/* --- small helpers ------------------------------------------------------------------------ */

void
cu_oauth2_digest(char out[65], const char *secret, size_t len)
{
	uint8_t d[CU_SHA256_LEN];

	cu_crypto_sha256(d, secret, len);
	cu_hex_encode(out, d, sizeof(d));
}

void
cu_oauth2_sid(char out[65], const char *session_uuid)
{
	cu_oauth2_digest(out, session_uuid, strlen(session_uuid));
}

static int
is_true(const char *s)
{
	return s != NULL && strcmp(s, "t") == 0;
}

static const char *
strf(struct cu_ctx *cx, long long v)
{
	return cu_arena_printf(cx->cx_arena, "%lld", v);
}

static const char *
epoch(struct cu_ctx *cx, long long t)
{
	return cu_arena_printf(cx->cx_arena, "%lld", t);
}

struct json_object *
cu_oauth2_json_array(struct cu_ctx *cx, const char *text)
{
	struct json_object *o = NULL;

	if (text == NULL || cu_json_parse(cx->cx_arena, text, strlen(text), &o) != CU_OK ||
	    !json_object_is_type(o, json_type_array))
		return cu_json_array(cx->cx_arena);
	return o;
}

const char *
cu_oauth2_pg_array(struct cu_ctx *cx, struct json_object *arr)
{
	size_t i, n = arr != NULL ? json_object_array_length(arr) : 0, cap = 3;
	char *out, *q;

	for (i = 0; i < n; i++)
		cap +=
		    2 * (size_t)json_object_get_string_len(json_object_array_get_idx(arr, i)) + 3;
	q = out = cu_arena_alloc(cx->cx_arena, cap);
	*q++ = '{';
	for (i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));

		if (i > 0)
			*q++ = ',';
		*q++ = '"';
		/* Inside double quotes only '"' and '\\' need a backslash. */
		for (; s != NULL && *s != '\0'; s++) {
			if (*s == '"' || *s == '\\')
				*q++ = '\\';
			*q++ = *s;
		}
		*q++ = '"';
	}
	*q++ = '}';
	*q = '\0';
	return out;
}

/* A duration string into seconds, or dflt (logged) when it does not parse. */
static long long
validity(const char *s, long long dflt, const char *what)
{
	long long v;

	if (s != NULL && cu_config_timedelta(s, &v) == 0)
		return v;
	cu_log(CU_LOG_WARNING, "oauth2_bad_validity", CU_LS("field", what));
	return dflt;
}

/* --- the provider cache ------------------------------------------------------------------- */

static const char *
own(struct entry *e, const char *s)
{
	char *c;

	if (s == NULL)
		return NULL;
	if (e->e_nown == MAX_OWNED)
		cu_die("oauth2 cache entry: too many strings");
	c = cu_strdup(s);
	e->e_own[e->e_nown++] = c;
	return c;
}

static void
sa_clear(struct entry *e)
{
	size_t i;

	for (i = 0; i < e->e_sa_nown; i++)
		cu_free(e->e_sa_own[i]);
	e->e_sa_nown = 0;
	if (e->e_sa_json != NULL)
		json_object_put(e->e_sa_json);
	e->e_sa_json = NULL;
	e->e_has_sa = 0;
	memset(&e->e_sa, 0, sizeof(e->e_sa));
}

static void
entry_free(void *p)
{
	struct entry *e = p;
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->e_nown; i++)
		cu_free(e->e_own[i]);
	if (e->e_redirects != NULL)
		json_object_put(e->e_redirects);
	if (e->e_mappings != NULL)
		json_object_put(e->e_mappings);
	cu_free(e->e_map_scope);
	cu_free(e->e_map_src);
	cu_free(e->e_map_len);
	cu_free(e->e_map_name);
	cu_free(e->e_map_trivial);
	if (e->e_has_hmac)
		cu_jose_key_free(&e->e_hmac);
	sa_clear(e);
	cu_free(e);
}

/* Takes e out of the cache; it is freed when this request ends (pointers to it stay valid). */
static void
cache_drop(struct cu_ctx *cx, size_t i)
{
	struct entry *e = cache[i];

	cache[i] = cache[--ncache];
	cache[ncache] = NULL;
	cu_arena_defer(cx->cx_arena, entry_free, e);
}

static int
entry_matches(const struct entry *e, enum key_kind kind, const char *key)
{
	const struct cu_oauth2_provider *p = &e->e_p;

	switch (kind) {
	case KEY_CLIENT_ID:
		return strcmp(p->op_client_id, key) == 0;
	case KEY_SLUG:
		return p->op_app_slug != NULL && strcmp(p->op_app_slug, key) == 0;
	case KEY_ID:
		return strtol(key, NULL, 10) == p->op_id;
	}
	return 0;
}

static struct entry *
cache_find(enum key_kind kind, const char *key)
{
	size_t i;

	for (i = 0; i < ncache; i++)
		if (entry_matches(cache[i], kind, key)) {
			cache[i]->e_tick = ++ticks;
			return cache[i];
		}
	return NULL;
}

/* Drops every entry that shares a key with e (an older copy, or a client_id or slug that has
 * moved to another provider), then adds e, evicting the least recently used when full. */
static void
cache_put(struct cu_ctx *cx, struct entry *e)
{
	const struct cu_oauth2_provider *p = &e->e_p;
	size_t i = 0, lru;

	while (i < ncache) {
		const struct cu_oauth2_provider *q = &cache[i]->e_p;

		if (q->op_id == p->op_id || strcmp(q->op_client_id, p->op_client_id) == 0 ||
		    (q->op_app_slug != NULL && p->op_app_slug != NULL &&
		     strcmp(q->op_app_slug, p->op_app_slug) == 0))
			cache_drop(cx, i);
		else
			i++;
	}
	if (ncache == CU_OAUTH2_CACHE_MAX) {
		for (lru = 0, i = 1; i < ncache; i++)
			if (cache[i]->e_tick < cache[lru]->e_tick)
				lru = i;
		cache_drop(cx, lru);
	}
	e->e_tick = ++ticks;
	cache[ncache++] = e;
}

static void
cache_forget(struct cu_ctx *cx, enum key_kind kind, const char *key)
{
	size_t i = 0;

	while (i < ncache)
		if (entry_matches(cache[i], kind, key))
			cache_drop(cx, i);
		else
			i++;
}

/* Parses JSON text into a process-owned object (not arena memory): NULL when not of type t. */
static struct json_object *
owned_json(const char *text, enum json_type t)
{
	struct json_object *o = text != NULL ? json_tokener_parse(text) : NULL;

	if (o != NULL && !json_object_is_type(o, t)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/*
 * 1 when a mapping's source can only give no claims: nothing but white space, comments and one
 * `return {}` (authentik's openid and offline_access mappings). Such a mapping needs no
 * interpreter, which costs more than the rest of a client_credentials grant.
 */
static int
mapping_trivial(const char *s)
{
	char code[16];
	size_t n = 0;

	while (*s != '\0') {
		if (s[0] == '-' && s[1] == '-') {
			size_t eq = 0;

			s += 2;
			if (*s == '[') {
				while (s[1 + eq] == '=')
					eq++;
				if (s[1 + eq] == '[') {
					/* A long comment: up to "]" eq times "=" "]". */
					const char *end = s + 2 + eq;

					for (;; end++) {
						if (*end == '\0')
							return 0;
						if (*end == ']' && strspn(end + 1, "=") >= eq &&
						    end[1 + eq] == ']')
							break;
					}
					s = end + 2 + eq;
					continue;
				}
			}
			while (*s != '\0' && *s != '\n')
				s++;
			continue;
		}
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' ||
		    *s == '\v') {
			s++;
			continue;
		}
		if (n == sizeof(code) - 1)
			return 0;
		code[n++] = *s++;
	}
	code[n] = '\0';
	return n == 0 || strcmp(code, "return{}") == 0 || strcmp(code, "return{};") == 0;
}

static struct entry *
entry_from_row(const PGresult *res)
{
	struct entry *e = cu_calloc(1, sizeof(*e));
	struct cu_oauth2_provider *p = &e->e_p;
	const char *id = cu_db_value(res, 0, 30);
	size_t i, n;

	p->op_id = (int)strtol(cu_db_value(res, 0, 0), NULL, 10);
	p->op_serial = strtoll(cu_db_value(res, 0, 1), NULL, 10);
	p->op_name = own(e, cu_db_value(res, 0, 2));
	p->op_client_type = own(e, cu_db_value(res, 0, 3));
	p->op_client_id = own(e, cu_db_value(res, 0, 4));
	p->op_client_secret = own(e, cu_db_value(res, 0, 5));
	e->e_redirects = owned_json(cu_db_value(res, 0, 6), json_type_array);
	if (e->e_redirects == NULL)
		e->e_redirects = json_object_new_array();
	p->op_redirect_uris = e->e_redirects;
	p->op_code_validity =
	    validity(cu_db_value(res, 0, 7), DEFAULT_CODE_VALIDITY, "access_code_validity");
	p->op_access_validity =
	    validity(cu_db_value(res, 0, 8), DEFAULT_ACCESS_VALIDITY, "access_token_validity");
	p->op_refresh_validity =
	    validity(cu_db_value(res, 0, 9), DEFAULT_REFRESH_VALIDITY, "refresh_token_validity");
	p->op_refresh_threshold = validity(cu_db_value(res, 0, 10), 0, "refresh_token_threshold");
	p->op_include_claims_in_id_token = is_true(cu_db_value(res, 0, 11));
	p->op_pkce_required = is_true(cu_db_value(res, 0, 12));
	p->op_signing_key = own(e, cu_db_value(res, 0, 13));
	p->op_signing_fp = own(e, cu_db_value(res, 0, 14));
	p->op_encryption_key = own(e, cu_db_value(res, 0, 15));
	p->op_sub_mode = own(e, cu_db_value(res, 0, 16));
	p->op_issuer_mode = own(e, cu_db_value(res, 0, 17));
	p->op_logout_uri = own(e, cu_db_value(res, 0, 18));
	p->op_logout_method = own(e, cu_db_value(res, 0, 19));
	p->op_authentication_flow = own(e, cu_db_value(res, 0, 20));
	p->op_authorization_flow = own(e, cu_db_value(res, 0, 21));
	p->op_invalidation_flow = own(e, cu_db_value(res, 0, 22));
	p->op_app_uuid = own(e, cu_db_value(res, 0, 23));
	p->op_app_slug = own(e, cu_db_value(res, 0, 24));
	p->op_app_name = own(e, cu_db_value(res, 0, 25));
	p->op_app_launch_url = own(e, cu_db_value(res, 0, 26));
	p->op_app_policy_mode = own(e, cu_db_value(res, 0, 27));
	p->op_app_has_bindings = is_true(cu_db_value(res, 0, 28));
	e->e_mappings = owned_json(cu_db_value(res, 0, 29), json_type_array);
	if (e->e_mappings == NULL)
		e->e_mappings = json_object_new_array();
	p->op_mappings = e->e_mappings;
	n = json_object_array_length(e->e_mappings);
	e->e_map_scope = cu_calloc(n + 1, sizeof(*e->e_map_scope));
	e->e_map_src = cu_calloc(n + 1, sizeof(*e->e_map_src));
	e->e_map_len = cu_calloc(n + 1, sizeof(*e->e_map_len));
	e->e_map_name = cu_calloc(n + 1, sizeof(*e->e_map_name));
	e->e_map_trivial = cu_calloc(n + 1, sizeof(*e->e_map_trivial));
	for (i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(e->e_mappings, i);
		const char *scope = NULL, *src = NULL, *name = NULL;

		if (cu_json_get_string(m, "scope_name", &scope) != 0 ||
		    cu_json_get_string(m, "expression", &src) != 0)
			continue;
		if (cu_json_get_string(m, "name", &name) != 0)
			name = "";
		e->e_map_scope[e->e_nmap] = scope;
		e->e_map_src[e->e_nmap] = src;
		e->e_map_len[e->e_nmap] = strlen(src);
		e->e_map_name[e->e_nmap] = name;
		e->e_map_trivial[e->e_nmap] = (unsigned char)mapping_trivial(src);
		e->e_nmap++;
	}
	if (id != NULL && strlen(id) < sizeof(install_id))
		memcpy(install_id, id, strlen(id) + 1);
	/* Columns that are NOT NULL in the schema but left joins can make NULL. */
	if (p->op_name == NULL || p->op_client_id == NULL || p->op_client_secret == NULL ||
	    p->op_client_type == NULL || p->op_sub_mode == NULL || p->op_issuer_mode == NULL) {
		entry_free(e);
		return NULL;
	}
	return e;
}

static enum cu_err
provider_load(struct cu_ctx *cx, enum key_kind kind, const char *key,
              const struct cu_oauth2_provider **out)
{
	static const enum cu_db_stmt st[] = {CU_DB_STMT_OAUTH2_PROVIDER_BY_CLIENT_ID,
	                                     CU_DB_STMT_OAUTH2_PROVIDER_BY_SLUG,
	                                     CU_DB_STMT_OAUTH2_PROVIDER_BY_ID};
	PGresult *res = NULL;
	struct entry *e;
	enum cu_err err;

	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, st[kind], 1, &key);
	if (err != CU_OK)
		return err == CU_ERR_UNAVAILABLE ? err : CU_ERR_INTERNAL;
	if (PQntuples(res) != 1) {
		cache_forget(cx, kind, key);
		return CU_ERR_NOT_FOUND;
	}
	if ((e = entry_from_row(res)) == NULL)
		return CU_ERR_INTERNAL;
	cache_put(cx, e);
	*out = &e->e_p;
	return CU_OK;
}

/* check: ask PostgreSQL whether a cached entry is current (module comment). */
static enum cu_err
provider_get(struct cu_ctx *cx, enum key_kind kind, const char *key, int fresh, int check,
             const struct cu_oauth2_provider **out)
{
	struct entry *e;

	*out = NULL;
	if (key == NULL || key[0] == '\0' || strlen(key) > CU_OAUTH2_MAX_PARAM)
		return CU_ERR_NOT_FOUND;
	e = fresh ? NULL : cache_find(kind, key);
	if (e != NULL && check) {
		const char *id = strf(cx, e->e_p.op_id);
		PGresult *res = NULL;
		enum cu_err err;

		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_PROVIDER_CHECK, 1,
		                 &id);
		if (err != CU_OK)
			return err == CU_ERR_UNAVAILABLE ? err : CU_ERR_INTERNAL;
		if (PQntuples(res) == 1 &&
		    strtoll(cu_db_value(res, 0, 0), NULL, 10) == e->e_p.op_serial) {
			e->e_p.op_app_has_bindings = is_true(cu_db_value(res, 0, 1));
		} else {
			e = NULL;
		}
	}
	if (e != NULL) {
		*out = &e->e_p;
		return CU_OK;
	}
	return provider_load(cx, kind, key, out);
}

enum cu_err
cu_oauth2_provider_by_client_id(struct cu_ctx *cx, const char *client_id, int fresh,
                                const struct cu_oauth2_provider **out)
{
	return provider_get(cx, KEY_CLIENT_ID, client_id, fresh, 1, out);
}

enum cu_err
cu_oauth2_provider_by_app_slug(struct cu_ctx *cx, const char *slug, int fresh,
                               const struct cu_oauth2_provider **out)
{
	return provider_get(cx, KEY_SLUG, slug, fresh, 1, out);
}

enum cu_err
cu_oauth2_provider_by_id(struct cu_ctx *cx, int id, int fresh,
                         const struct cu_oauth2_provider **out)
{
	return provider_get(cx, KEY_ID, strf(cx, id), fresh, 1, out);
}

enum cu_err
cu_oauth2_provider_cached(struct cu_ctx *cx, const char *client_id,
                          const struct cu_oauth2_provider **out)
{
	return provider_get(cx, KEY_CLIENT_ID, client_id, 0, 0, out);
}

void
cu_oauth2_provider_note_bindings(const struct cu_oauth2_provider *p, int has_bindings)
{
	/* The caller's pointer is its entry (cached or freed at the request's end alike). */
	((struct entry *)(void *)(uintptr_t)p)->e_p.op_app_has_bindings = has_bindings;
}

/* --- URLs --------------------------------------------------------------------------------- */

/* A Host header fit to put into URLs: host names, IPv4/IPv6 literals and a port. */
static int
host_ok(const char *h)
{
	size_t n = strlen(h);

	return n > 0 && n <= 255 &&
	       strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") ==
	           n;
}

const char *
cu_oauth2_base_url(struct cu_ctx *cx)
{
	const struct cu_http_request *rq = cx->cx_req;
	const char *host = rq->rq_host != NULL && host_ok(rq->rq_host) ? rq->rq_host : "localhost";

	return cu_arena_printf(cx->cx_arena, "%s://%s", rq->rq_https ? "https" : "http", host);
}

const char *
cu_oauth2_issuer(struct cu_ctx *cx, const struct cu_oauth2_provider *p)
{
	if (strcmp(p->op_issuer_mode, "global") == 0)
		return cu_arena_printf(cx->cx_arena, "%s/", cu_oauth2_base_url(cx));
	if (p->op_app_slug == NULL)
		return NULL;
	return cu_arena_printf(cx->cx_arena, "%s/application/o/%s/", cu_oauth2_base_url(cx),
	                       p->op_app_slug);
}

/* --- the signing key ---------------------------------------------------------------------- */

enum cu_err
cu_oauth2_signing_key(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                      const struct cu_jose_key **out)
{
	struct entry *e = (struct entry *)(void *)(uintptr_t)p;

	*out = NULL;
	if (p->op_signing_key != NULL)
		return cu_keys_get(cx, p->op_signing_key, p->op_signing_fp, out);
	/* HS256 with the client secret; an empty secret would be a key anyone has. */
	if (p->op_client_secret[0] == '\0') {
		cu_log(CU_LOG_WARNING, "oauth2_no_key", CU_LS("provider", p->op_name));
		return CU_ERR_INVALID;
	}
	if (!e->e_has_hmac) {
		cu_jose_key_hmac(&e->e_hmac, p->op_client_secret, strlen(p->op_client_secret));
		e->e_has_hmac = 1;
	}
	*out = &e->e_hmac;
	return CU_OK;
}

/* --- forms, client authentication, errors ------------------------------------------------- */

const char *
cu_oauth2_form_get(const struct cu_kv *form, size_t n, const char *name, int *repeated)
{
	const char *v = NULL;
	size_t i;

	if (repeated != NULL)
		*repeated = 0;
	for (i = 0; i < n; i++) {
		if (strcmp(form[i].kv_key, name) != 0)
			continue;
		if (v != NULL) {
			if (repeated != NULL)
				*repeated = 1;
			break;
		}
		v = form[i].kv_val;
	}
	return v;
}

int
cu_oauth2_basic_parse(struct cu_arena *a, const char *header, const char **id, const char **secret)
{
	const char *b64, *colon;
	unsigned char *raw;
	size_t n, rawlen = 0, dlen;
	char *did = NULL, *dsecret = NULL;

	*id = *secret = NULL;
	if (header == NULL || strncasecmp(header, "Basic ", 6) != 0)
		return 0;
	b64 = header + 6;
	while (*b64 == ' ')
		b64++;
	n = strlen(b64);
	while (n > 0 && b64[n - 1] == ' ')
		n--;
	if (n == 0 || n > 4 * (CU_OAUTH2_MAX_CLIENT_ID * 3 + CU_OAUTH2_MAX_SECRET * 3 + 1) / 3 + 4)
		return -1;
	raw = cu_arena_alloc(a, n * 3 / 4 + 4);
	if (cu_base64_decode(raw, &rawlen, b64, n) != 0)
		return -1;
	raw[rawlen] = '\0';
	if (memchr(raw, '\0', rawlen) != NULL || (colon = memchr(raw, ':', rawlen)) == NULL)
		return -1;
	if (cu_http_percent_decode(a, (const char *)raw, (size_t)(colon - (const char *)raw), 1,
	                           &did, &dlen) != CU_OK ||
	    dlen > CU_OAUTH2_MAX_CLIENT_ID)
		return -1;
	if (cu_http_percent_decode(a, colon + 1, rawlen - (size_t)(colon + 1 - (const char *)raw),
	                           1, &dsecret, &dlen) != CU_OK ||
	    dlen > CU_OAUTH2_MAX_SECRET)
		return -1;
	*id = did;
	*secret = dsecret;
	return 1;
}

/* 1 when secret is p's client secret, compared in constant time; an empty stored secret never
 * matches. */
static int
secret_ok(const struct cu_oauth2_provider *p, const char *secret)
{
	size_t n = strlen(p->op_client_secret);

	if (secret == NULL || n == 0)
		return 0;
	return cu_crypto_ct_eq(p->op_client_secret, n, secret, strlen(secret));
}

enum cu_err
cu_oauth2_client_auth(struct cu_ctx *cx, const struct cu_kv *form, size_t nform, int require_secret,
                      const struct cu_oauth2_provider **out)
{
	const char *id = NULL, *secret = NULL, *fid, *fsecret;
	int rep1, rep2, rc, confidential;
	enum cu_err err;

	*out = NULL;
	rc = cu_oauth2_basic_parse(cx->cx_arena, cu_http_header(cx->cx_req, "authorization"), &id,
	                           &secret);
	if (rc < 0)
		return CU_ERR_INVALID;
	fid = cu_oauth2_form_get(form, nform, "client_id", &rep1);
	fsecret = cu_oauth2_form_get(form, nform, "client_secret", &rep2);
	if (rep1 || rep2)
		return CU_ERR_INVALID;
	if (rc == 1) {
		/* RFC 6749 §2.3: one authentication method per request. */
		if (fsecret != NULL || (fid != NULL && strcmp(fid, id) != 0))
			return CU_ERR_INVALID;
	} else {
		id = fid;
		secret = fsecret;
	}
	if (id == NULL || id[0] == '\0' || strlen(id) > CU_OAUTH2_MAX_CLIENT_ID)
		return CU_ERR_DENIED;
	err = cu_oauth2_provider_by_client_id(cx, id, 0, out);
	if (err == CU_ERR_NOT_FOUND)
		return CU_ERR_DENIED;
	if (err != CU_OK)
		return err;
	confidential = strcmp((*out)->op_client_type, "public") != 0;
	if (!confidential && !require_secret)
		return CU_OK;
	if (!secret_ok(*out, secret)) {
		cu_log(CU_LOG_WARNING, "oauth2_client_auth_failed",
		       CU_LS("client_id", (*out)->op_client_id), CU_LB("basic", rc == 1));
		*out = NULL;
		return CU_ERR_DENIED;
	}
	return CU_OK;
}

/* authentik's descriptions (providers/oauth2/errors.py) for the codes custos answers. */
static const char *
error_description(const char *code)
{
	static const struct {
		const char *c;
		const char *d;
	} table[] = {
	    {"invalid_request", "The request is otherwise malformed"},
	    {"invalid_client", "Client authentication failed (e.g., unknown client, no client "
	                       "authentication included, or unsupported authentication method)"},
	    {"invalid_grant", "The provided authorization grant or refresh token is invalid, "
	                      "expired, revoked, does not match the redirection URI used in the "
	                      "authorization request, or was issued to another client"},
	    {"unauthorized_client", "The authenticated client is not authorized to use this "
	                            "authorization grant type"},
	    {"unsupported_grant_type", "The authorization grant type is not supported by the "
	                               "authorization server"},
	    {"invalid_scope", "The requested scope is invalid, unknown, malformed, or exceeds the "
	                      "scope granted by the resource owner"},
	    {"authorization_pending", "The authorization request is still pending as the end user "
	                              "hasn't yet completed the user-interaction steps"},
	    {"access_denied", "The authorization request was denied."},
	    {"expired_token", "The \"device_code\" has expired, and the device authorization "
	                      "session has concluded."},
	    {"slow_down", "A variant of \"authorization_pending\", the authorization request is "
	                  "still pending and polling should continue, but the interval MUST be "
	                  "increased by 5 seconds for this and all subsequent requests."},
	    {"server_error", "The authorization server encountered an unexpected condition."},
	    {"temporarily_unavailable", "The authorization server is currently unable to handle "
	                                "the request; try again shortly."},
	};
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].c, code) == 0)
			return table[i].d;
	return code;
}

void
cu_oauth2_error(struct cu_ctx *cx, int status, const char *code, const char *description)
{
	struct json_object *o = cu_json_object(cx->cx_arena);

	cu_json_set_string(o, "error", code);
	cu_json_set_string(o, "error_description",
	                   description != NULL ? description : error_description(code));
	cu_ctx_json(cx, status, o);
	(void)!cu_http_set_header(cx->cx_resp, "Cache-Control", "no-store");
	(void)!cu_http_set_header(cx->cx_resp, "Pragma", "no-cache");
	if (status == 401)
		(void)!cu_http_set_header(cx->cx_resp, "WWW-Authenticate",
		                          "Basic realm=\"authentik\"");
	cu_log(status >= 500 ? CU_LOG_ERROR : CU_LOG_WARNING, "oauth2_error", CU_LS("error", code),
	       CU_LI("status", status),
	       CU_LS("path", cx->cx_req->rq_path != NULL ? cx->cx_req->rq_path : ""));
}

/* --- scopes ------------------------------------------------------------------------------- */

/* RFC 6749 §3.3 scope-token characters: %x21 / %x23-5B / %x5D-7E. */
static int
nqchar(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

int
cu_oauth2_scopes_parse_a(struct cu_arena *a, const char *scope, struct json_object **out)
{
	struct json_object *arr = cu_json_array(a);
	const char *p = scope;

	*out = arr;
	if (scope == NULL)
		return 0;
	if (strlen(scope) > CU_OAUTH2_MAX_PARAM)
		return -1;
	while (*p != '\0') {
		const char *start;
		size_t n;

		/* Any run of spaces separates (authentik splits on whitespace). */
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			p++;
			continue;
		}
		start = p;
		while (*p != '\0' && nqchar((unsigned char)*p))
			p++;
		if (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			return -1;
		n = (size_t)(p - start);
		{
			char *tok = cu_arena_strndup(a, start, n);

			if (cu_oauth2_scopes_has(arr, tok))
				continue;
			if (json_object_array_length(arr) == CU_OAUTH2_MAX_SCOPES)
				return -1;
			json_object_array_add(arr, json_object_new_string(tok));
		}
	}
	return 0;
}

int
cu_oauth2_scopes_parse(struct cu_ctx *cx, const char *scope, struct json_object **out)
{
	return cu_oauth2_scopes_parse_a(cx->cx_arena, scope, out);
}

int
cu_oauth2_scopes_has(struct json_object *scopes, const char *s)
{
	size_t i, n = scopes != NULL ? json_object_array_length(scopes) : 0;

	for (i = 0; i < n; i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(scopes, i)), s) == 0)
			return 1;
	return 0;
}

struct json_object *
cu_oauth2_scopes_clamp(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                       struct json_object *scopes, const char **pg_array)
{
	const struct entry *e = (const struct entry *)(const void *)p;
	struct json_object *out = cu_json_array(cx->cx_arena);
	size_t i, j, n = scopes != NULL ? json_object_array_length(scopes) : 0;

	for (i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(scopes, i));

		for (j = 0; j < e->e_nmap; j++)
			if (strcmp(e->e_map_scope[j], s) == 0)
				break;
		if (j < e->e_nmap)
			json_object_array_add(out, json_object_new_string(s));
	}
	if (pg_array != NULL)
		*pg_array = cu_oauth2_pg_array(cx, out);
	return out;
}

const char *
cu_oauth2_scopes_join(struct cu_ctx *cx, struct json_object *scopes)
{
	size_t i, n = scopes != NULL ? json_object_array_length(scopes) : 0, len = 0;
	char *out, *q;

	for (i = 0; i < n; i++)
		len += (size_t)json_object_get_string_len(json_object_array_get_idx(scopes, i)) + 1;
	q = out = cu_arena_alloc(cx->cx_arena, len + 1);
	for (i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(scopes, i);
		size_t l = (size_t)json_object_get_string_len(s);

		if (i > 0)
			*q++ = ' ';
		memcpy(q, json_object_get_string(s), l);
		q += l;
	}
	*q = '\0';
	return out;
}

/* --- users -------------------------------------------------------------------------------- */

struct cu_oauth2_user *
cu_oauth2_user_from_row(struct cu_ctx *cx, const struct pg_result *res, int r, int col)
{
	struct cu_oauth2_user *ou = cu_arena_zalloc(cx->cx_arena, sizeof(*ou));
	struct cu_user *u = &ou->ou_user;
	const char *json = cu_db_value(res, r, col + 8);
	char *version = cu_arena_alloc(cx->cx_arena, 65);
	int superuser = 0;

	u->us_id_text = cu_db_value(res, r, col);
	u->us_id = strtoll(u->us_id_text, NULL, 10);
	u->us_uuid = cu_db_value(res, r, col + 1);
	u->us_username = cu_db_value(res, r, col + 2);
	u->us_name = cu_db_value(res, r, col + 3);
	u->us_email = cu_db_value(res, r, col + 4);
	u->us_type = cu_db_value(res, r, col + 5);
	u->us_path = cu_db_value(res, r, col + 6);
	ou->ou_active = is_true(cu_db_value(res, r, col + 7));
	if (json == NULL || cu_json_parse(cx->cx_arena, json, strlen(json), &ou->ou_json) != CU_OK)
		ou->ou_json = cu_json_object(cx->cx_arena);
	if (cu_json_get_bool(ou->ou_json, "is_superuser", &superuser) == 0)
		u->us_is_superuser = superuser;
	/* The version the statements compute (CU_SQL_OAUTH2C_USER_VERSION), of the same text. */
	cu_oauth2_digest(version, json != NULL ? json : "", json != NULL ? strlen(json) : 0);
	ou->ou_version = version;
	return ou;
}

enum cu_err
cu_oauth2_user_load(struct cu_ctx *cx, long long id, struct cu_oauth2_user **out)
{
	const char *params[1] = {strf(cx, id)};
	PGresult *res = NULL;
	enum cu_err err;

	*out = NULL;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_USER, 1, params);
	if (err != CU_OK)
		return err == CU_ERR_UNAVAILABLE ? err : CU_ERR_INTERNAL;
	if (PQntuples(res) != 1)
		return CU_ERR_NOT_FOUND;
	*out = cu_oauth2_user_from_row(cx, res, 0, 0);
	return CU_OK;
}

/* First n code points of s (authentik trims the provider name in characters). */
static const char *
utf8_prefix(struct cu_ctx *cx, const char *s, size_t n)
{
	const char *p = s;

	while (*p != '\0' && n > 0) {
		p++;
		while (((unsigned char)*p & 0xc0) == 0x80)
			p++;
		n--;
	}
	return cu_arena_strndup(cx->cx_arena, s, (size_t)(p - s));
}

enum cu_err
cu_oauth2_service_account(struct cu_ctx *cx, const struct cu_oauth2_provider *p, int fresh,
                          const struct cu_oauth2_user **out)
{
	struct entry *e = (struct entry *)(void *)(uintptr_t)p;
	struct cu_oauth2_user *u;
	const char *params[3];
	PGresult *res = NULL;
	enum cu_err err;

	*out = NULL;
	if (e->e_has_sa && !fresh) {
		*out = &e->e_sa;
		return CU_OK;
	}
	if (p->op_app_slug == NULL)
		return CU_ERR_NOT_FOUND;
	/* authentik keeps the whole username within 150 characters: 22 are the template's. */
	params[0] = cu_arena_printf(cx->cx_arena, "ak-%s-client_credentials",
	                            utf8_prefix(cx, p->op_name, 150 - 22));
	params[1] = cu_arena_printf(cx->cx_arena,
	                            "Autogenerated user from application %s (client credentials)",
	                            p->op_app_name);
	params[2] = cu_arena_printf(cx->cx_arena, "goauthentik.io/apps/%s", p->op_app_slug);
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_SA_UPSERT, 3, params);
	if (err != CU_OK)
		return err == CU_ERR_UNAVAILABLE ? err : CU_ERR_INTERNAL;
	if (PQntuples(res) != 1)
		return CU_ERR_INTERNAL;
	u = cu_oauth2_user_from_row(cx, res, 0, 0);
	/* Keep a process copy with the entry. */
	sa_clear(e);
	{
		const char *fields[8] = {u->ou_user.us_id_text,  u->ou_user.us_uuid,
		                         u->ou_user.us_username, u->ou_user.us_name,
		                         u->ou_user.us_email,    u->ou_user.us_type,
		                         u->ou_user.us_path,     u->ou_version};
		char *c[8];
		size_t i;

		for (i = 0; i < 8; i++) {
			c[i] = cu_strdup(fields[i] != NULL ? fields[i] : "");
			e->e_sa_own[e->e_sa_nown++] = c[i];
		}
		e->e_sa.ou_user = u->ou_user;
		e->e_sa.ou_user.us_id_text = c[0];
		e->e_sa.ou_user.us_uuid = c[1];
		e->e_sa.ou_user.us_username = c[2];
		e->e_sa.ou_user.us_name = c[3];
		e->e_sa.ou_user.us_email = c[4];
		e->e_sa.ou_user.us_type = c[5];
		e->e_sa.ou_user.us_path = c[6];
		e->e_sa.ou_version = c[7];
		e->e_sa.ou_active = u->ou_active;
		/* The arena lets go of its reference at reset; this one stays with the entry. */
		e->e_sa_json = json_object_get(u->ou_json);
		e->e_sa.ou_json = e->e_sa_json;
		e->e_has_sa = 1;
	}
	*out = &e->e_sa;
	return CU_OK;
}

/* authentik's User.uid: hex SHA-256 of "<pk>-<install id>". */
static const char *
user_uid(struct cu_ctx *cx, const struct cu_user *u)
{
	const char *s = cu_arena_printf(cx->cx_arena, "%lld-%s", u->us_id, install_id);
	char *out = cu_arena_alloc(cx->cx_arena, 65);

	cu_oauth2_digest(out, s, strlen(s));
	return out;
}

static const char *
sub_of(struct cu_ctx *cx, const struct cu_oauth2_provider *p, const struct cu_user *u,
       struct json_object *ujson)
{
	const char *m = p->op_sub_mode;

	if (strcmp(m, "user_id") == 0)
		return u->us_id_text;
	if (strcmp(m, "user_uuid") == 0)
		return u->us_uuid;
	if (strcmp(m, "user_username") == 0)
		return u->us_username;
	if (strcmp(m, "user_email") == 0)
		return u->us_email;
	if (strcmp(m, "user_upn") == 0) {
		struct json_object *attrs = NULL;
		const char *upn = NULL;

		if (ujson != NULL && cu_json_get_object(ujson, "attributes", &attrs) == 0 &&
		    cu_json_get_string(attrs, "upn", &upn) == 0)
			return upn;
	}
	return user_uid(cx, u);
}

const char *
cu_oauth2_sub(struct cu_ctx *cx, const struct cu_oauth2_provider *p, const struct cu_user *user)
{
	struct cu_oauth2_user *ou = NULL;

	if (strcmp(p->op_sub_mode, "user_upn") == 0 &&
	    cu_oauth2_user_load(cx, user->us_id, &ou) == CU_OK)
		return sub_of(cx, p, user, ou->ou_json);
	return sub_of(cx, p, user, NULL);
}

/* --- claims ------------------------------------------------------------------------------- */

/* authentik merges mapping results with deepmerge's always_merger: objects merge member by
 * member, arrays append, anything else replaces. */
static void
merge_claims(struct json_object *dst, struct json_object *src, int depth)
{
	json_object_object_foreach(src, k, v)
	{
		struct json_object *cur = NULL;

		if (json_object_object_get_ex(dst, k, &cur) && cur != NULL && v != NULL &&
		    depth < CU_JSON_MAX_DEPTH) {
			if (json_object_is_type(cur, json_type_object) &&
			    json_object_is_type(v, json_type_object)) {
				merge_claims(cur, v, depth + 1);
				continue;
			}
			if (json_object_is_type(cur, json_type_array) &&
			    json_object_is_type(v, json_type_array)) {
				size_t i, n = json_object_array_length(v);

				for (i = 0; i < n; i++)
					json_object_array_add(
					    cur, json_object_get(json_object_array_get_idx(v, i)));
				continue;
			}
		}
		json_object_object_add(dst, k, json_object_get(v));
	}
}

enum cu_err
cu_oauth2_claims_of(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                    const struct cu_oauth2_user *u, struct json_object *scopes,
                    struct json_object **out)
{
	const struct entry *e = (const struct entry *)(const void *)p;
	const char **srcs;
	const char **names;
	size_t *lens, i, n = 0, textlen = 0;
	struct cu_expression_value *vals;
	struct cu_expression_limits lim;
	struct cu_expression_hooks hooks;
	struct json_object *request, *globals, *prov, *app = NULL;

	cu_policy_expression_db_hooks(&hooks, cx);
	*out = cu_json_object(cx->cx_arena);
	srcs = cu_arena_alloc(cx->cx_arena, (e->e_nmap + 1) * sizeof(*srcs));
	names = cu_arena_alloc(cx->cx_arena, (e->e_nmap + 1) * sizeof(*names));
	lens = cu_arena_alloc(cx->cx_arena, (e->e_nmap + 1) * sizeof(*lens));
	for (i = 0; i < e->e_nmap; i++)
		if (!e->e_map_trivial[i] && cu_oauth2_scopes_has(scopes, e->e_map_scope[i])) {
			srcs[n] = e->e_map_src[i];
			lens[n] = e->e_map_len[i];
			names[n] = e->e_map_name[i];
			n++;
		}
	if (n == 0)
		return CU_OK;
	request = cu_json_object(cx->cx_arena);
	cu_json_set(request, "user", json_object_get(u->ou_json));
	globals = cu_json_object(cx->cx_arena);
	prov = json_object_new_object();
	cu_json_set_string(prov, "name", p->op_name);
	cu_json_set_int(prov, "pk", p->op_id);
	cu_json_set_string(prov, "client_id", p->op_client_id);
	cu_json_set(globals, "provider", prov);
	if (p->op_app_uuid != NULL) {
		app = json_object_new_object();
		cu_json_set_string(app, "pk", p->op_app_uuid);
		cu_json_set_string(app, "slug", p->op_app_slug);
		cu_json_set_string(app, "name", p->op_app_name);
		cu_json_set(globals, "application", app);
	}
	cu_json_set(globals, "scopes", json_object_get(scopes));
	memset(&lim, 0, sizeof(lim));
	lim.el_max_instructions = cx->cx_cfg->expression_max_instructions;
	lim.el_max_memory = (size_t)cx->cx_cfg->expression_max_memory_kib * 1024;
	lim.el_deadline = cu_policy_now() + MAPPING_TIMEOUT;
	vals = cu_arena_zalloc(cx->cx_arena, n * sizeof(*vals));
	(void)!cu_policy_expression_values(cx->cx_arena, srcs, lens, n, request, globals, &lim,
	                                   &hooks, vals);
	for (i = 0; i < n; i++) {
		struct json_object *v = vals[i].ev_value;

		if (vals[i].ev_error != NULL) {
			/* authentik logs a failing mapping and goes on without it. */
			cu_log(CU_LOG_WARNING, "oauth2_mapping_failed", CU_LS("mapping", names[i]),
			       CU_LS("error", vals[i].ev_error));
			continue;
		}
		if (v == NULL ||
		    (json_object_is_type(v, json_type_array) && json_object_array_length(v) == 0))
			continue;
		if (!json_object_is_type(v, json_type_object)) {
			cu_log(CU_LOG_WARNING, "oauth2_mapping_not_object",
			       CU_LS("mapping", names[i]));
			continue;
		}
		merge_claims(*out, v, 0);
	}
	(void)cu_json_text(*out, &textlen);
	if (textlen > CU_OAUTH2_MAX_CLAIMS) {
		cu_log(CU_LOG_WARNING, "oauth2_claims_too_large", CU_LS("provider", p->op_name),
		       CU_LI("bytes", (long long)textlen));
		return CU_ERR_TOO_LARGE;
	}
	return CU_OK;
}

enum cu_err
cu_oauth2_claims(struct cu_ctx *cx, const struct cu_oauth2_provider *p, const struct cu_user *user,
                 struct json_object *scopes, struct json_object **out)
{
	struct cu_oauth2_user *ou = NULL;
	enum cu_err err;

	*out = NULL;
	err = cu_oauth2_user_load(cx, user->us_id, &ou);
	if (err != CU_OK)
		return err;
	return cu_oauth2_claims_of(cx, p, ou, scopes, out);
}

/* --- access to the application ------------------------------------------------------------ */

int
cu_oauth2_app_access_ctx(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                         const struct cu_user *user, struct json_object *context,
                         struct json_object **messages)
{
	struct cu_policy_request rq;
	struct cu_policy_result res;
	enum cu_err err;

	if (messages != NULL)
		*messages = cu_json_array(cx->cx_arena);
	if (p->op_app_uuid == NULL || !p->op_app_has_bindings)
		return 1;
	memset(&rq, 0, sizeof(rq));
	rq.pr_user = user;
	rq.pr_context = context;
	rq.pr_obj_uuid = p->op_app_uuid;
	err = cu_policy_engine_run(cx, p->op_app_uuid,
	                           p->op_app_policy_mode != NULL ? p->op_app_policy_mode : "any",
	                           &rq, &res);
	if (err == CU_ERR_UNAVAILABLE)
		return -1;
	if (err != CU_OK)
		return 0;
	if (messages != NULL)
		*messages = res.pr_messages;
	return res.pr_passing;
}

int
cu_oauth2_app_access(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                     const struct cu_user *user, struct json_object **messages)
{
	return cu_oauth2_app_access_ctx(cx, p, user, NULL, messages);
}

/* --- issuing ------------------------------------------------------------------------------ */

/* A JSON array of the words of s (og_amr: "pwd" or "pwd mfa"). */
static struct json_object *
words(struct cu_ctx *cx, const char *s)
{
	struct json_object *arr = NULL;

	if (cu_oauth2_scopes_parse(cx, s, &arr) != 0)
		arr = cu_json_array(cx->cx_arena);
	return arr;
}

static const char *
random_id(struct cu_ctx *cx, size_t n)
{
	char *s = cu_arena_alloc(cx->cx_arena, n + 1);

	cu_crypto_random_alnum(s, n);
	return s;
}

static struct json_object *
copy_json(struct cu_ctx *cx, struct json_object *o)
{
	struct json_object *c = NULL;

	if (json_object_deep_copy(o, &c, NULL) != 0)
		cu_die("json_object_deep_copy");
	return cu_json_adopt(cx->cx_arena, c);
}

enum cu_err
cu_oauth2_build(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                const struct cu_oauth2_user *u, const struct cu_oauth2_grant *g, const char *code,
                int want_access, int want_id, int with_refresh, struct cu_oauth2_built *out)
{
	const struct cu_jose_key *key = NULL;
	const struct cu_user *user = g->og_user;
	struct json_object *claims = NULL, *base, *amr, *o;
	const char *iss, *jwt = NULL;
	char sid[65];
	enum cu_err err;
	long long now = (long long)time(NULL);

	memset(out, 0, sizeof(*out));
	if (u != NULL)
		user = &u->ou_user;
	err = cu_oauth2_signing_key(cx, p, &key);
	if (err != CU_OK)
		return err;
	/* The mapping claims (and user_upn's sub) need the user's attributes and groups. */
	if (u == NULL && user != NULL &&
	    ((p->op_include_claims_in_id_token &&
	      ((const struct entry *)(const void *)p)->e_nmap > 0) ||
	     strcmp(p->op_sub_mode, "user_upn") == 0)) {
		struct cu_oauth2_user *lu = NULL;

		if ((err = cu_oauth2_user_load(cx, user->us_id, &lu)) != CU_OK)
			return err;
		u = lu;
	}
	if (p->op_include_claims_in_id_token && u != NULL) {
		err = cu_oauth2_claims_of(cx, p, u, g->og_scopes, &claims);
		if (err != CU_OK)
			return err;
	}
	out->ob_now = now;
	out->ob_access_expires = now + p->op_access_validity;
	out->ob_tokens.ot_expires_in = p->op_access_validity;
	out->ob_tokens.ot_scope = cu_oauth2_scopes_join(cx, g->og_scopes);
	out->ob_scope_pg = cu_oauth2_pg_array(cx, g->og_scopes);
	amr = words(cx, g->og_amr);
	out->ob_amr_pg = cu_oauth2_pg_array(cx, amr);

	/* authentik's IDToken: what both tokens carry. */
	base = cu_json_object(cx->cx_arena);
	if ((iss = cu_oauth2_issuer(cx, p)) != NULL)
		cu_json_set_string(base, "iss", iss);
	cu_json_set_string(base, "sub", sub_of(cx, p, user, u != NULL ? u->ou_json : NULL));
	cu_json_set_string(base, "aud", p->op_client_id);
	cu_json_set_int(base, "exp", out->ob_access_expires);
	cu_json_set_int(base, "iat", now);
	cu_json_set_int(base, "auth_time", g->og_auth_time > 0 ? (long long)g->og_auth_time : now);
	cu_json_set_string(base, "acr", CU_OAUTH2_ACR);
	if (json_object_array_length(amr) > 0)
		cu_json_set(base, "amr", json_object_get(amr));
	if (g->og_nonce != NULL && g->og_nonce[0] != '\0')
		cu_json_set_string(base, "nonce", g->og_nonce);
	if (g->og_session_uuid != NULL) {
		cu_oauth2_sid(sid, g->og_session_uuid);
		cu_json_set_string(base, "sid", sid);
	}
	cu_json_set_string(base, "jti", random_id(cx, ID_LEN));
	if (claims != NULL) {
		/* authentik: the mapping claims update the standard ones. */
		json_object_object_foreach(claims, ck, cv)
		{
			cu_json_set(base, ck, json_object_get(cv));
		}
	}

	if (want_access) {
		o = copy_json(cx, base);
		cu_json_set_string(o, "azp", p->op_client_id);
		cu_json_set_string(o, "uid", random_id(cx, ID_LEN));
		if (!json_object_object_get_ex(o, "scope", NULL))
			cu_json_set_string(o, "scope", out->ob_tokens.ot_scope);
		if (cu_jose_sign(cx->cx_arena, key, o, NULL, &jwt) != 0)
			return CU_ERR_INTERNAL;
		out->ob_tokens.ot_access_token = jwt;
		cu_oauth2_digest(out->ob_access_digest, jwt, strlen(jwt));
		out->ob_access_claims = cu_json_text(o, NULL);
	}
	o = base;
	if (out->ob_tokens.ot_access_token != NULL) {
		char h[96];

		cu_jose_half_hash(h, key->jk_alg, out->ob_tokens.ot_access_token,
		                  strlen(out->ob_tokens.ot_access_token));
		cu_json_set_string(o, "at_hash", h);
	}
	if (code != NULL) {
		char h[96];

		cu_jose_half_hash(h, key->jk_alg, code, strlen(code));
		cu_json_set_string(o, "c_hash", h);
	}
	out->ob_id_claims = cu_json_text(o, NULL);
	if (want_id && cu_oauth2_scopes_has(g->og_scopes, "openid")) {
		if (cu_jose_sign(cx->cx_arena, key, o, NULL, &jwt) != 0)
			return CU_ERR_INTERNAL;
		out->ob_tokens.ot_id_token = jwt;
	}
	if (with_refresh && cu_oauth2_scopes_has(g->og_scopes, "offline_access")) {
		const char *rt = random_id(cx, CU_OAUTH2_SECRET_LEN);

		out->ob_tokens.ot_refresh_token = rt;
		cu_oauth2_digest(out->ob_refresh_digest, rt, strlen(rt));
		out->ob_refresh_expires = now + p->op_refresh_validity;
	}
	return CU_OK;
}

enum cu_err
cu_oauth2_store(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                const struct cu_oauth2_grant *g, const struct cu_oauth2_built *b)
{
	const char *params[14];
	long long auth_time = g->og_auth_time > 0 ? (long long)g->og_auth_time : b->ob_now;
	enum cu_err err;

	if (b->ob_access_digest[0] == '\0' && b->ob_refresh_digest[0] == '\0')
		return CU_OK;
	params[0] = strf(cx, p->op_id);
	params[1] = g->og_user->us_id_text;
	params[2] = g->og_session_uuid;
	params[3] = b->ob_scope_pg;
	params[4] = epoch(cx, auth_time);
	params[5] = g->og_code_id > 0 ? strf(cx, g->og_code_id) : NULL;
	params[6] = g->og_chain_id > 0 ? strf(cx, g->og_chain_id) : NULL;
	params[7] = b->ob_access_digest[0] != '\0' ? b->ob_access_digest : NULL;
	params[8] = epoch(cx, b->ob_access_expires);
	params[9] = b->ob_access_claims != NULL ? b->ob_access_claims : "{}";
	params[10] = b->ob_refresh_digest[0] != '\0' ? b->ob_refresh_digest : NULL;
	params[11] = epoch(cx, b->ob_refresh_expires);
	params[12] = b->ob_amr_pg;
	params[13] = b->ob_id_claims != NULL ? b->ob_id_claims : "";
	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_OAUTH2_ISSUE, 14, params);
	if (err != CU_OK)
		return err == CU_ERR_UNAVAILABLE ? err : CU_ERR_INTERNAL;
	return CU_OK;
}

enum cu_err
cu_oauth2_issue(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                const struct cu_oauth2_grant *g, const char *code, int want_access, int want_id,
                int with_refresh, struct cu_oauth2_tokens *out)
{
	struct cu_oauth2_built b;
	enum cu_err err;

	memset(out, 0, sizeof(*out));
	err = cu_oauth2_build(cx, p, NULL, g, code, want_access, want_id, with_refresh, &b);
	if (err != CU_OK)
		return err;
	err = cu_oauth2_store(cx, p, g, &b);
	if (err != CU_OK)
		return err;
	*out = b.ob_tokens;
	return CU_OK;
}

enum cu_err
cu_oauth2_code_create(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                      const struct cu_oauth2_grant *g, const char *redirect_uri,
                      const char *code_challenge, const char *code_challenge_method,
                      const char **code_out)
{
	const char *params[12], *code = random_id(cx, CU_OAUTH2_SECRET_LEN);
	char digest[65];
	enum cu_err err;

	*code_out = NULL;
	cu_oauth2_digest(digest, code, strlen(code));
	params[0] = digest;
	params[1] = strf(cx, p->op_id);
	params[2] = g->og_user->us_id_text;
	params[3] = g->og_session_uuid;
	params[4] = strf(cx, p->op_code_validity);
	params[5] = cu_oauth2_pg_array(cx, g->og_scopes);
	params[6] = redirect_uri != NULL ? redirect_uri : "";
	params[7] = g->og_nonce;
	params[8] = code_challenge;
	params[9] = code_challenge != NULL ? code_challenge_method : NULL;
	params[10] =
	    epoch(cx, g->og_auth_time > 0 ? (long long)g->og_auth_time : (long long)time(NULL));
	params[11] = cu_oauth2_pg_array(cx, words(cx, g->og_amr));
	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_OAUTH2_CODE_INSERT, 12, params);
	if (err != CU_OK)
		return err == CU_ERR_UNAVAILABLE ? err : CU_ERR_INTERNAL;
	*code_out = code;
	return CU_OK;
}

enum cu_err
cu_oauth2_access_find(struct cu_ctx *cx, const char *token, struct cu_oauth2_access *out)
{
	const char *params[1];
	char digest[65];
	PGresult *res = NULL;
	const char *claims;
	enum cu_err err;
	size_t len = token != NULL ? strlen(token) : 0;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > CU_JOSE_MAX_TOKEN)
		return CU_ERR_NOT_FOUND;
	cu_oauth2_digest(digest, token, len);
	params[0] = digest;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_ACCESS_FIND, 1, params);
	if (err != CU_OK)
		return err == CU_ERR_UNAVAILABLE ? err : CU_ERR_INTERNAL;
	if (PQntuples(res) != 1)
		return CU_ERR_NOT_FOUND;
	out->oa_id = strtoll(cu_db_value(res, 0, 0), NULL, 10);
	out->oa_provider_id = (int)strtol(cu_db_value(res, 0, 1), NULL, 10);
	out->oa_user_id = strtoll(cu_db_value(res, 0, 2), NULL, 10);
	out->oa_scopes = cu_oauth2_json_array(cx, cu_db_value(res, 0, 3));
	claims = cu_db_value(res, 0, 4);
	if (claims == NULL ||
	    cu_json_parse(cx->cx_arena, claims, strlen(claims), &out->oa_claims) != CU_OK ||
	    !json_object_is_type(out->oa_claims, json_type_object))
		out->oa_claims = cu_json_object(cx->cx_arena);
	out->oa_expires = (time_t)strtod(cu_db_value(res, 0, 5), NULL);
	out->oa_session_uuid = cu_db_value(res, 0, 6);
	return CU_OK;
}

int
cu_oauth2_pkce_verifier_ok(const char *v)
{
	size_t n = v != NULL ? strlen(v) : 0;

	return n >= 43 && n <= 128 &&
	       strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") == n;
}
