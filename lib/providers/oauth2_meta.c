/*
 * Discovery (OpenID Connect Discovery 1.0, RFC 8414) and the JWKS, as authentik's
 * ProviderInfoView and JWKSView answer them (../shared/reference/authentik.md §1.3, §6.1).
 *
 * Both documents change only when a provider, its mappings, its application or its keys
 * change, and both are asked for far more often than that.
 *
 * In the process: each process keeps the documents it built in a small table for
 * META_TTL_MS, so that a hit costs no round trip at all. A short time to live rather than a
 * check of providers.serial, because the check would itself be the round trip the table is
 * there to save; a second of staleness after an administrator's change is invisible to
 * relying parties, whose own caches hold these documents far longer, and it holds across any
 * number of processes and web nodes without any of them telling the others. Unknown slugs are
 * remembered as such for the same time, so that a flood of them costs one query per slug per
 * second; the table is bounded and evicts the entry that expires first. Discovery holds
 * absolute URLs built from the request's scheme and Host, so its entries are per scheme and
 * host.
 *
 * As files: the JWKS is the same for every host, so with oauth2.publish_dir set the process
 * also writes each one it builds to <dir>/<slug>/jwks.json, which the web server sends as a
 * file without asking the responder (lighttpd-conf/, apache-conf/): a file costs the router a
 * fraction of a FastCGI round trip. jwks.json is a symlink to jwks-<provider id>-<serial>.json,
 * so that the file names what it was built from. A thread of each OAuth2 process (sweep_main,
 * started by the process's first OAuth2 request) compares the published files with PostgreSQL
 * every META_SWEEP_MS on a connection of its own and removes each jwks.json whose provider,
 * serial or application binding has changed; the next request then reaches the responder,
 * which builds and publishes the current document. So a change shows in the files within about
 * META_SWEEP_MS + META_TTL_MS plus the web server's own stat cache (a second). Several web
 * nodes each publish into their own folder and each sweeps its own: none needs to tell
 * another, and nothing outside this file (the API, the worker) has to know that files exist.
 * The one gap: a node whose OAuth2 processes were all restarted and have served nothing since
 * but file JWKS has no sweeper until its next OAuth2 request (lib/server.c has no hook that
 * runs when a process starts).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "auth.h"
#include "bounds.h"
#include "buf.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "mem.h"
#include "providers/oauth2.h"
#include "providers/oauth2_endpoints.h"
#include "server.h"

/* How long a built document is served from the process's table. */
#define META_TTL_MS 1000
/* How often the sweeper compares the published JWKS files with PostgreSQL. */
#define META_SWEEP_MS 1000
/* A version file no symlink names is left this long (a publisher may be about to link it). */
#define META_SWEEP_GRACE_S 10

enum meta_kind {
	META_DISCOVERY,
	META_JWKS,
};

struct meta_entry {
	uint64_t me_hash; /* of kind, slug and base; 0 for a free slot */
	char *me_key;     /* "<kind>\n<slug>\n<base>", cu_malloc'd */
	char *me_body;    /* the document, cu_malloc'd; NULL: no such slug */
	size_t me_len;
	char *me_origins;     /* discovery: the CORS origins, one a line; cu_malloc'd or NULL */
	long long me_expires; /* monotonic ms */
};

static struct meta_entry meta_table[CU_OAUTH2_META_CACHE];

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* FNV-1a, never 0 (0 marks a free slot). */
static uint64_t
key_hash(const char *key)
{
	uint64_t h = 1469598103934665603ULL;
	const unsigned char *p;

	for (p = (const unsigned char *)key; *p != '\0'; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return h != 0 ? h : 1;
}

static void
entry_clear(struct meta_entry *e)
{
	cu_free(e->me_key);
	cu_free(e->me_body);
	cu_free(e->me_origins);
	memset(e, 0, sizeof(*e));
}

/* The live entry for key, or NULL. */
static struct meta_entry *
meta_find(const char *key, uint64_t h, long long now)
{
	size_t i;

	for (i = 0; i < CU_OAUTH2_META_CACHE; i++) {
		struct meta_entry *e = &meta_table[i];

		if (e->me_hash == h && e->me_expires > now && strcmp(e->me_key, key) == 0)
			return e;
	}
	return NULL;
}

/* Stores a document (body NULL: the slug names no provider); replaces the entry for the same
 * key, else takes a free or expired slot, else the one that expires first. */
static void
meta_store(const char *key, uint64_t h, long long now, const char *body, size_t len,
           const char *origins)
{
	struct meta_entry *e = NULL, *oldest = &meta_table[0];
	size_t i;

	for (i = 0; i < CU_OAUTH2_META_CACHE && e == NULL; i++) {
		struct meta_entry *c = &meta_table[i];

		if (c->me_hash == h && strcmp(c->me_key, key) == 0)
			e = c;
		else if (c->me_hash == 0 || c->me_expires <= now)
			e = c;
		else if (c->me_expires < oldest->me_expires)
			oldest = c;
	}
	if (e == NULL)
		e = oldest;
	entry_clear(e);
	e->me_hash = h;
	e->me_key = cu_strdup(key);
	e->me_body = body != NULL ? cu_strndup(body, len) : NULL;
	e->me_len = body != NULL ? len : 0;
	e->me_origins = origins != NULL && origins[0] != '\0' ? cu_strdup(origins) : NULL;
	e->me_expires = now + META_TTL_MS;
}

/* --- URLs -------------------------------------------------------------------------------- */

static const char *
endpoint(struct cu_ctx *cx, const char *base, const char *path)
{
	return cu_arena_printf(cx->cx_arena, "%s%s", base, path);
}

static const char *
app_endpoint(struct cu_ctx *cx, const char *base, const char *slug, const char *tail)
{
	return cu_arena_printf(cx->cx_arena, "%s/application/o/%s/%s", base,
	                       cu_oauth2_query_escape(cx->cx_arena, slug), tail);
}

static struct json_object *
str_array(struct cu_ctx *cx, const char *const *v, size_t n)
{
	struct json_object *a = cu_json_array(cx->cx_arena);
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

/* 1 when the JSON array of strings a holds s. */
static int
array_has(struct json_object *a, const char *s)
{
	size_t i, n = json_object_array_length(a);

	for (i = 0; i < n; i++) {
		const char *v = json_object_get_string(json_object_array_get_idx(a, i));

		if (v != NULL && strcmp(v, s) == 0)
			return 1;
	}
	return 0;
}

/* --- discovery --------------------------------------------------------------------------- */

static int
str_cmp(const void *x, const void *y)
{
	struct json_object *const *a = x, *const *b = y;

	return strcmp(json_object_get_string(*a), json_object_get_string(*b));
}

/* The scope names of p's mappings (each once, in their order) plus openid, as authentik lists
 * scopes_supported. */
static struct json_object *
scopes_supported(struct cu_ctx *cx, const struct cu_oauth2_provider *p)
{
	struct json_object *out = cu_json_array(cx->cx_arena), *m;
	size_t i, n;

	n = p->op_mappings != NULL ? json_object_array_length(p->op_mappings) : 0;
	for (i = 0; i < n; i++) {
		const char *scope = NULL;

		m = json_object_array_get_idx(p->op_mappings, i);
		if (cu_json_get_string(m, "scope_name", &scope) == 0 && !array_has(out, scope))
			json_object_array_add(out, json_object_new_string(scope));
	}
	if (!array_has(out, "openid"))
		json_object_array_add(out, json_object_new_string("openid"));
	return out;
}

/*
 * claims_supported: the claims every ID token has, then the keys of what each mapping returns
 * for an anonymous user (authentik evaluates them for its AnonymousUser; a mapping that fails
 * adds nothing).
 */
static enum cu_err
claims_supported(struct cu_ctx *cx, const struct cu_oauth2_provider *p, struct json_object *scopes,
                 struct json_object **out)
{
	static const char *const dflt[] = {"sub",       "iss", "aud", "exp",  "iat",
	                                   "auth_time", "acr", "amr", "nonce"};
	struct cu_oauth2_user anon;
	struct json_object *claims = NULL, *a, *u, *extra;
	enum cu_err err;
	size_t i, n;

	a = str_array(cx, dflt, sizeof(dflt) / sizeof(dflt[0]));
	/* request.user as the mappings see it, for authentik's AnonymousUser. */
	u = cu_json_object(cx->cx_arena);
	cu_json_set_int(u, "pk", -1);
	cu_json_set_string(u, "uuid", "");
	cu_json_set_string(u, "username", "AnonymousUser");
	cu_json_set_string(u, "name", "");
	cu_json_set_string(u, "email", "");
	cu_json_set_bool(u, "is_active", 1);
	cu_json_set_bool(u, "is_superuser", 0);
	cu_json_set_string(u, "type", "internal");
	cu_json_set_string(u, "path", "users");
	cu_json_set(u, "attributes", json_object_new_object());
	cu_json_set(u, "groups", json_object_new_array());
	memset(&anon, 0, sizeof(anon));
	anon.ou_user.us_id = -1;
	anon.ou_user.us_id_text = "-1";
	anon.ou_user.us_uuid = "";
	anon.ou_user.us_username = "AnonymousUser";
	anon.ou_user.us_name = "";
	anon.ou_user.us_email = "";
	anon.ou_user.us_type = "internal";
	anon.ou_user.us_path = "users";
	anon.ou_active = 1;
	anon.ou_json = u;
	anon.ou_version = "";
	err = cu_oauth2_claims_of(cx, p, &anon, scopes, &claims);
	if (err != CU_OK)
		return err;
	/* The mappings' tables come back in no fixed order: sorted, so that every process
	 * publishes the same document. */
	extra = cu_json_array(cx->cx_arena);
	if (claims != NULL && json_object_is_type(claims, json_type_object)) {
		json_object_object_foreach(claims, k, v)
		{
			(void)v;
			if (!array_has(a, k))
				json_object_array_add(extra, json_object_new_string(k));
		}
	}
	json_object_array_sort(extra, str_cmp);
	n = json_object_array_length(extra);
	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_get(json_object_array_get_idx(extra, i)));
	*out = a;
	return CU_OK;
}

/* The origins of p's strict redirect URIs, one a line (for CORS, as authentik allows them). */
static const char *
cors_origins(struct cu_ctx *cx, const struct cu_oauth2_provider *p)
{
	struct cu_buf b;
	const char *out = "";
	size_t i, n;

	n = p->op_redirect_uris != NULL ? json_object_array_length(p->op_redirect_uris) : 0;
	cu_buf_init(&b, CU_OAUTH2_META_MAX_DOC);
	for (i = 0; i < n; i++) {
		struct json_object *u = json_object_array_get_idx(p->op_redirect_uris, i);
		const char *mode = NULL, *url = NULL;

		if (cu_json_get_string(u, "url", &url) != 0 ||
		    (cu_json_get_string(u, "matching_mode", &mode) == 0 &&
		     strcmp(mode, "strict") != 0) ||
		    strchr(url, '\n') != NULL)
			continue;
		if (cu_buf_puts(&b, url) != 0 || cu_buf_putc(&b, '\n') != 0)
			break;
	}
	if (b.bf_ptr != NULL)
		out = cu_arena_strdup(cx->cx_arena, b.bf_ptr);
	cu_buf_free(&b);
	return out;
}

static enum cu_err
discovery_build(struct cu_ctx *cx, const struct cu_oauth2_provider *p, struct json_object **out)
{
	static const char *const response_types[] = {"code",           "id_token",
	                                             "id_token token", "code token",
	                                             "code id_token",  "code id_token token"};
	static const char *const response_modes[] = {"query", "fragment", "form_post"};
	static const char *const grant_types[] = {
	    "authorization_code", "refresh_token", "implicit",
	    "client_credentials", "password",      "urn:ietf:params:oauth:grant-type:device_code"};
	static const char *const auth_methods[] = {"client_secret_post", "client_secret_basic"};
	static const char *const pkce[] = {"plain", "S256"};
	static const char *const subject_types[] = {"public"};
	static const char *const acr[] = {CU_OAUTH2_ACR};
	const char *base = cu_oauth2_base_url(cx), *alg;
	const struct cu_jose_key *key = NULL;
	struct json_object *o, *scopes, *claims = NULL;
	enum cu_err err;

	*out = NULL;
	/* Without a key pair the provider signs with HS256 and its client secret. */
	if (p->op_signing_key == NULL) {
		alg = cu_jose_alg_name(CU_JOSE_HS256);
	} else {
		err = cu_oauth2_signing_key(cx, p, &key);
		if (err != CU_OK)
			return err == CU_ERR_UNAVAILABLE ? err : CU_ERR_INTERNAL;
		alg = cu_jose_alg_name(key->jk_alg);
	}
	scopes = scopes_supported(cx, p);
	err = claims_supported(cx, p, scopes, &claims);
	if (err != CU_OK)
		return err;

	/* authentik's members, in its order. */
	o = cu_json_object(cx->cx_arena);
	cu_json_set_string(o, "issuer", cu_oauth2_issuer(cx, p));
	cu_json_set_string(o, "authorization_endpoint",
	                   endpoint(cx, base, "/application/o/authorize/"));
	cu_json_set_string(o, "token_endpoint", endpoint(cx, base, "/application/o/token/"));
	cu_json_set_string(o, "userinfo_endpoint", endpoint(cx, base, "/application/o/userinfo/"));
	cu_json_set_string(o, "end_session_endpoint",
	                   app_endpoint(cx, base, p->op_app_slug, "end-session/"));
	cu_json_set_string(o, "introspection_endpoint",
	                   endpoint(cx, base, "/application/o/introspect/"));
	cu_json_set_string(o, "revocation_endpoint", endpoint(cx, base, "/application/o/revoke/"));
	cu_json_set_string(o, "device_authorization_endpoint",
	                   endpoint(cx, base, "/application/o/device/"));
	cu_json_set_bool(o, "backchannel_logout_supported", 1);
	cu_json_set_bool(o, "backchannel_logout_session_supported", 1);
	cu_json_set_bool(o, "frontchannel_logout_supported", 1);
	cu_json_set_bool(o, "frontchannel_logout_session_supported", 1);
	cu_json_set(o, "response_types_supported",
	            json_object_get(str_array(cx, response_types, 6)));
	cu_json_set(o, "response_modes_supported",
	            json_object_get(str_array(cx, response_modes, 3)));
	cu_json_set_string(o, "jwks_uri", app_endpoint(cx, base, p->op_app_slug, "jwks/"));
	cu_json_set(o, "grant_types_supported", json_object_get(str_array(cx, grant_types, 6)));
	cu_json_set(o, "id_token_signing_alg_values_supported",
	            json_object_get(str_array(cx, &alg, 1)));
	cu_json_set(o, "subject_types_supported", json_object_get(str_array(cx, subject_types, 1)));
	cu_json_set(o, "token_endpoint_auth_methods_supported",
	            json_object_get(str_array(cx, auth_methods, 2)));
	cu_json_set(o, "acr_values_supported", json_object_get(str_array(cx, acr, 1)));
	cu_json_set(o, "scopes_supported", json_object_get(scopes));
	cu_json_set_bool(o, "request_parameter_supported", 0);
	cu_json_set(o, "claims_supported", json_object_get(claims));
	cu_json_set_bool(o, "claims_parameter_supported", 0);
	cu_json_set(o, "code_challenge_methods_supported", json_object_get(str_array(cx, pkce, 2)));
	*out = o;
	return CU_OK;
}

/* authentik's cors_allow for a GET: the Origin is echoed, with credentials, when it is the
 * origin of one of the provider's redirect URIs. */
static void
cors(struct cu_ctx *cx, const char *origins)
{
	const char *origin = cu_http_header(cx->cx_req, "origin"), *p, *nl;
	char url[CU_OAUTH2_MAX_REDIRECT_URI + 1];
	size_t n;

	if (origin == NULL || origins == NULL || strlen(origin) > CU_OAUTH2_MAX_ORIGIN)
		return;
	for (p = origins; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		n = (size_t)(nl - p);
		if (n >= sizeof(url))
			continue;
		memcpy(url, p, n);
		url[n] = '\0';
		if (cu_oauth2_origin_match(origin, url)) {
			origin = cu_arena_strdup(cx->cx_arena, origin);
			if (cu_http_set_header(cx->cx_resp, "Access-Control-Allow-Origin",
			                       origin) != 0 ||
			    cu_http_set_header(cx->cx_resp, "Vary", "Origin") != 0 ||
			    cu_http_set_header(cx->cx_resp, "Access-Control-Allow-Credentials",
			                       "true") != 0)
				cu_log_msg(CU_LOG_WARNING, "oauth2_cors_failed",
				           "header table full");
			return;
		}
	}
}

static void
send_cached(struct cu_ctx *cx, const struct meta_entry *e, enum meta_kind kind)
{
	if (e->me_body == NULL) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	cu_http_send_json(cx->cx_resp, 200, e->me_body, e->me_len);
	if (kind == META_JWKS) {
		if (cu_http_set_header(cx->cx_resp, "Access-Control-Allow-Origin", "*") != 0)
			cu_log_msg(CU_LOG_WARNING, "oauth2_cors_failed", "header table full");
	} else {
		cors(cx, e->me_origins);
	}
}

/* --- JWKS -------------------------------------------------------------------------------- */

/*
 * authentik's JWKS: the signing key's public JWK ("use": "sig") and the encryption key's
 * ("use": "enc", "alg": "RSA-OAEP-256", "enc": "A256CBC-HS512"). A provider that signs with
 * HS256 has no public key: {"keys": []} (authentik sends {}, which RFC 7517 does not allow).
 */
static enum cu_err
jwks_build(struct cu_ctx *cx, const struct cu_oauth2_provider *p, struct json_object **out)
{
	struct json_object *doc = NULL, *enc = NULL, *keys = NULL, *ekeys = NULL;
	const char *uuid;
	enum cu_err err;
	size_t i, n;

	*out = NULL;
	uuid = p->op_signing_key;
	err = cu_keys_jwks(cx, &uuid, uuid != NULL ? 1 : 0, &doc);
	if (err != CU_OK)
		return err;
	if (p->op_encryption_key != NULL) {
		uuid = p->op_encryption_key;
		err = cu_keys_jwks(cx, &uuid, 1, &enc);
		if (err != CU_OK)
			return err;
		if (cu_json_get_array(doc, "keys", &keys) == 0 &&
		    cu_json_get_array(enc, "keys", &ekeys) == 0) {
			n = json_object_array_length(ekeys);
			for (i = 0; i < n; i++) {
				struct json_object *k = json_object_array_get_idx(ekeys, i);

				cu_json_set_string(k, "alg", "RSA-OAEP-256");
				cu_json_set_string(k, "enc", "A256CBC-HS512");
				cu_json_set_string(k, "use", "enc");
				json_object_array_add(keys, json_object_get(k));
			}
		}
	}
	*out = doc;
	return CU_OK;
}

/* --- published JWKS files ------------------------------------------------------------------ */

/* A slug fit to be a folder name: what authentik's slugs are made of. */
static int
slug_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= CU_OAUTH2_META_MAX_SLUG &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

/* "jwks-<id>-<serial>.json": 0 with the two numbers, -1 for any other name. */
static int
version_name_parse(const char *name, long long *id, long long *serial)
{
	const char *p = name;
	char *end = NULL;

	if (strncmp(p, "jwks-", 5) != 0)
		return -1;
	p += 5;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	*id = strtoll(p, &end, 10);
	if (errno != 0 || *end != '-' || end[1] < '0' || end[1] > '9')
		return -1;
	p = end + 1;
	*serial = strtoll(p, &end, 10);
	if (errno != 0 || strcmp(end, ".json") != 0)
		return -1;
	return 0;
}

/* Writes len bytes of body to path through a temporary file in the same folder: readers see
 * the old file or the whole new one, never a part. -1 on any failure (nothing left behind). */
static int
write_atomic(const char *folder, const char *path, const char *body, size_t len)
{
	char tmp[PATH_MAX];
	uint32_t rnd;
	size_t off = 0;
	int fd, n;

	cu_crypto_random(&rnd, sizeof(rnd));
	n = snprintf(tmp, sizeof(tmp), "%s/.tmp-%ld-%08x", folder, (long)getpid(), rnd);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t w = write(fd, body + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)w;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Points folder/jwks.json at target, replacing whatever it named, in one rename. */
static int
link_atomic(const char *folder, const char *target)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	uint32_t rnd;
	int n, m;

	cu_crypto_random(&rnd, sizeof(rnd));
	n = snprintf(tmp, sizeof(tmp), "%s/.lnk-%ld-%08x", folder, (long)getpid(), rnd);
	m = snprintf(path, sizeof(path), "%s/jwks.json", folder);
	if (n < 0 || (size_t)n >= sizeof(tmp) || m < 0 || (size_t)m >= sizeof(path))
		return -1;
	if (symlink(target, tmp) != 0)
		return -1;
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void sweep_start(const struct cu_config *cfg);

void
cu_oauth2_publish_start(const struct cu_config *cfg)
{
	sweep_start(cfg);
}

/*
 * Publishes the JWKS p's application serves as <dir>/<slug>/jwks.json. Best effort: the
 * responder serves the document either way, so a failure is logged and nothing more.
 */
static void
publish_jwks(struct cu_ctx *cx, const struct cu_oauth2_provider *p, const char *body, size_t len)
{
	const char *dir = cx->cx_cfg->oauth2_publish_dir, *slug = p->op_app_slug;
	char folder[PATH_MAX], name[64], path[PATH_MAX];
	struct stat st;
	int n, m;

	if (dir == NULL || dir[0] == '\0' || slug == NULL || !slug_ok(slug))
		return;
	sweep_start(cx->cx_cfg);
	n = snprintf(folder, sizeof(folder), "%s/%s", dir, slug);
	snprintf(name, sizeof(name), "jwks-%d-%lld.json", p->op_id, p->op_serial);
	m = snprintf(path, sizeof(path), "%s/%s", folder, name);
	if (n < 0 || (size_t)n >= sizeof(folder) || m < 0 || (size_t)m >= sizeof(path))
		return;
	if (mkdir(folder, 0755) != 0 && errno != EEXIST)
		goto fail;
	/* A version is the same document whoever writes it: one already there is kept. */
	if (lstat(path, &st) != 0 && write_atomic(folder, path, body, len) != 0)
		goto fail;
	if (link_atomic(folder, name) != 0)
		goto fail;
	return;
fail:
	cu_log(CU_LOG_WARNING, "oauth2_jwks_publish_failed", CU_LS("slug", slug),
	       CU_LS("error", strerror(errno)));
}

/* --- the sweeper -------------------------------------------------------------------------- */

struct sweep_args {
	char *sa_dir;      /* cu_malloc'd */
	char *sa_conninfo; /* cu_malloc'd */
};

static pthread_once_t sweep_once_ctl = PTHREAD_ONCE_INIT;
static struct sweep_args *sweep_pending;

/* Removes the version files of folder that jwks.json does not name and that are older than
 * the grace time, and stray temporary files of the same age. */
static void
sweep_folder(const char *folder, const char *current)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);
	long long id, serial;
	DIR *d = opendir(folder);
	int n;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		int version = version_name_parse(de->d_name, &id, &serial) == 0;

		if (!version && strncmp(de->d_name, ".tmp-", 5) != 0 &&
		    strncmp(de->d_name, ".lnk-", 5) != 0)
			continue;
		if (version && current != NULL && strcmp(de->d_name, current) == 0)
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", folder, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path) || lstat(path, &st) != 0)
			continue;
		if (now - st.st_mtime >= META_SWEEP_GRACE_S)
			(void)unlink(path);
	}
	closedir(d);
}

/* One round: what every <slug>/jwks.json names, asked of PostgreSQL in one query; the stale
 * ones are removed. */
static void
sweep_round(PGconn *conn, const char *dir)
{
	struct cu_buf slugs, ids, serials;
	char folder[PATH_MAX], link[PATH_MAX], target[256];
	const char *params[3];
	struct dirent *de;
	PGresult *res = NULL;
	long long id, serial;
	size_t count = 0;
	ssize_t tl;
	DIR *d;
	int i, n;

	if ((d = opendir(dir)) == NULL)
		return;
	cu_buf_init(&slugs, (size_t)CU_OAUTH2_META_SWEEP_MAX * (CU_OAUTH2_META_MAX_SLUG + 1) + 3);
	cu_buf_init(&ids, (size_t)CU_OAUTH2_META_SWEEP_MAX * 12 + 3);
	cu_buf_init(&serials, (size_t)CU_OAUTH2_META_SWEEP_MAX * 21 + 3);
	if (cu_buf_putc(&slugs, '{') != 0 || cu_buf_putc(&ids, '{') != 0 ||
	    cu_buf_putc(&serials, '{') != 0)
		goto out;
	while ((de = readdir(d)) != NULL && count < CU_OAUTH2_META_SWEEP_MAX) {
		const char *current = NULL;

		if (!slug_ok(de->d_name))
			continue;
		n = snprintf(folder, sizeof(folder), "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(folder) ||
		    snprintf(link, sizeof(link), "%s/jwks.json", folder) >= (int)sizeof(link))
			continue;
		tl = readlink(link, target, sizeof(target) - 1);
		if (tl < 0 && errno == EINVAL) {
			/* A plain file, not a link this file wrote: never served as a JWKS. */
			(void)unlink(link);
		} else if (tl > 0) {
			target[tl] = '\0';
			if (version_name_parse(target, &id, &serial) == 0) {
				current = target;
				if (cu_buf_printf(&slugs, "%s%s", count > 0 ? "," : "",
				                  de->d_name) != 0 ||
				    cu_buf_printf(&ids, "%s%lld", count > 0 ? "," : "", id) != 0 ||
				    cu_buf_printf(&serials, "%s%lld", count > 0 ? "," : "",
				                  serial) != 0)
					break;
				count++;
			} else {
				/* Not a link this file wrote: never served as a JWKS. */
				(void)unlink(link);
			}
		}
		sweep_folder(folder, current);
	}
	if (count == 0 || cu_buf_putc(&slugs, '}') != 0 || cu_buf_putc(&ids, '}') != 0 ||
	    cu_buf_putc(&serials, '}') != 0)
		goto out;
	params[0] = slugs.bf_ptr;
	params[1] = ids.bf_ptr;
	params[2] = serials.bf_ptr;
	res = PQexecParams(conn, CU_SQL_OAUTH2_EP_PUBLISHED_STALE, 3, NULL, params, NULL, NULL, 0);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
		goto out;
	for (i = 0; i < PQntuples(res); i++) {
		const char *slug = PQgetvalue(res, i, 0);

		if (!slug_ok(slug))
			continue;
		n = snprintf(link, sizeof(link), "%s/%s/jwks.json", dir, slug);
		if (n > 0 && (size_t)n < sizeof(link))
			(void)unlink(link);
	}
out:
	if (res != NULL)
		PQclear(res);
	closedir(d);
	cu_buf_free(&slugs);
	cu_buf_free(&ids);
	cu_buf_free(&serials);
}

/* The sweeper thread: its own PostgreSQL connection (a libpq connection belongs to one thread),
 * no arena, no logging (the request's log state is the main thread's); it only removes files. */
static void *
sweep_main(void *arg)
{
	struct sweep_args *sa = arg;
	struct timespec pause = {META_SWEEP_MS / 1000, (META_SWEEP_MS % 1000) * 1000000L};
	PGconn *conn = NULL;

	for (;;) {
		nanosleep(&pause, NULL);
		if (conn != NULL && PQstatus(conn) != CONNECTION_OK) {
			PQfinish(conn);
			conn = NULL;
		}
		if (conn == NULL) {
			conn = PQconnectdb(sa->sa_conninfo);
			if (PQstatus(conn) != CONNECTION_OK) {
				PQfinish(conn);
				conn = NULL;
				continue;
			}
		}
		sweep_round(conn, sa->sa_dir);
	}
	return NULL;
}

static void
sweep_spawn(void)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;

	if (sweep_pending == NULL || pthread_attr_init(&attr) != 0)
		return;
	(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Signals stay the main thread's (the server's SIGTERM handling). */
	sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&t, &attr, sweep_main, sweep_pending) != 0)
		cu_log_msg(CU_LOG_WARNING, "oauth2_jwks_sweeper_failed", "no thread");
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	(void)pthread_attr_destroy(&attr);
}

/* Starts the sweeper once per process: every process that may have published, or may meet
 * files another published, sweeps. */
static void
sweep_start(const struct cu_config *cfg)
{
	char *conninfo;

	if (cfg->oauth2_publish_dir == NULL || cfg->oauth2_publish_dir[0] == '\0')
		return;
	if (sweep_pending == NULL) {
		conninfo = cu_config_pg_conninfo(cfg);
		sweep_pending = cu_malloc(sizeof(*sweep_pending));
		sweep_pending->sa_dir = cu_strdup(cfg->oauth2_publish_dir);
		/* A PostgreSQL that does not answer must not hold the sweeper for minutes. */
		sweep_pending->sa_conninfo = cu_malloc(strlen(conninfo) + 32);
		snprintf(sweep_pending->sa_conninfo, strlen(conninfo) + 32, "%s connect_timeout=5",
		         conninfo);
		cu_free(conninfo);
	}
	(void)pthread_once(&sweep_once_ctl, sweep_spawn);
}

/* --- handlers ---------------------------------------------------------------------------- */

static void
serve(struct cu_ctx *cx, enum meta_kind kind)
{
	const char *slug = cu_ctx_param(cx, "slug"), *key, *base = "", *text, *origins = NULL;
	const struct cu_oauth2_provider *p = NULL;
	const struct meta_entry *e;
	struct json_object *doc = NULL;
	long long now = now_ms();
	enum cu_err err;
	uint64_t h;
	size_t len;

	sweep_start(cx->cx_cfg);
	if (slug == NULL || slug[0] == '\0' || strchr(slug, '\n') != NULL) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	if (kind == META_DISCOVERY)
		base = cu_oauth2_base_url(cx);
	key = cu_arena_printf(cx->cx_arena, "%d\n%s\n%s", (int)kind, slug, base);
	h = key_hash(key);
	if ((e = meta_find(key, h, now)) != NULL) {
		send_cached(cx, e, kind);
		return;
	}
	err = cu_oauth2_provider_by_app_slug(cx, slug, 0, &p);
	if (err == CU_ERR_NOT_FOUND) {
		meta_store(key, h, now, NULL, 0, NULL);
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	if (err == CU_OK)
		err =
		    kind == META_DISCOVERY ? discovery_build(cx, p, &doc) : jwks_build(cx, p, &doc);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, kind == META_DISCOVERY ? "provider" : "key");
		return;
	}
	text = cu_json_text(doc, &len);
	if (len > CU_OAUTH2_META_MAX_DOC) {
		cu_log(CU_LOG_ERROR, "oauth2_meta_too_large", CU_LS("slug", slug),
		       CU_LI("bytes", (long long)len));
		cu_ctx_error(cx, 500, "Internal error.");
		return;
	}
	if (kind == META_DISCOVERY)
		origins = cors_origins(cx, p);
	else
		publish_jwks(cx, p, text, len);
	meta_store(key, h, now, text, len, origins);
	if ((e = meta_find(key, h, now)) != NULL)
		send_cached(cx, e, kind);
	else
		cu_ctx_error(cx, 500, "Internal error.");
}

void
cu_oauth2_discovery(struct cu_ctx *cx)
{
	serve(cx, META_DISCOVERY);
}

void
cu_oauth2_jwks(struct cu_ctx *cx)
{
	serve(cx, META_JWKS);
}

/* authentik's provider root: a plain redirect to the discovery document, slug unchecked. */
void
cu_oauth2_issuer_redirect(struct cu_ctx *cx)
{
	const char *slug = cu_ctx_param(cx, "slug"), *to;

	if (slug == NULL || slug[0] == '\0') {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	to = cu_arena_printf(cx->cx_arena, "/application/o/%s/.well-known/openid-configuration",
	                     cu_oauth2_query_escape(cx->cx_arena, slug));
	cu_http_send_text(cx->cx_resp, 302, "text/html; charset=utf-8", "", 0);
	if (cu_http_set_header(cx->cx_resp, "Location", to) != 0)
		cu_ctx_error(cx, 500, "Internal error.");
}
