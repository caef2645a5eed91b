/*
 * The process's signing keys. A responder or the worker signs with a handful of pairs, so the
 * cache is a small fixed table; when it is full the entry used longest ago makes room. An
 * entry keeps the unsealed key as an EVP_PKEY only: the PEM plaintext is wiped as soon as
 * OpenSSL has parsed it. The SAML provider's keys (lib/xmlsig.h's) sit in a second table of the
 * same kind, a pair with its private key apart from the same pair as a certificate alone.
 */
#include "keys.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "crypto.h"
#include "db.h"
#include "jose.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "server.h"
#include "xmlsig.h"

#define KEYS_MAX 64
#define UUID_LEN 36

struct keys_entry {
	char ke_uuid[UUID_LEN + 1]; /* "" for a free slot */
	char *ke_fp;                /* fingerprint_sha256 when loaded, cu_malloc'd */
	struct cu_jose_key ke_key;
	unsigned long long ke_used; /* tick of the last lookup */
};

static struct keys_entry keys[KEYS_MAX];
static unsigned long long keys_tick;

/* A canonical uuid (what PostgreSQL prints): anything else cannot name a pair. */
static int
uuid_ok(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != UUID_LEN)
		return 0;
	for (i = 0; i < UUID_LEN; i++) {
		char c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		             (c >= 'A' && c <= 'F'))) {
			return 0;
		}
	}
	return 1;
}

static void
entry_clear(struct keys_entry *e)
{
	cu_jose_key_free(&e->ke_key);
	cu_free(e->ke_fp);
	memset(e, 0, sizeof(*e));
}

static struct keys_entry *
entry_find(const char *uuid)
{
	size_t i;

	for (i = 0; i < KEYS_MAX; i++)
		if (keys[i].ke_uuid[0] != '\0' && strcasecmp(keys[i].ke_uuid, uuid) == 0)
			return &keys[i];
	return NULL;
}

/* A free slot, or the least recently used one emptied. */
static struct keys_entry *
entry_take(void)
{
	struct keys_entry *lru = &keys[0];
	size_t i;

	for (i = 0; i < KEYS_MAX; i++) {
		if (keys[i].ke_uuid[0] == '\0')
			return &keys[i];
		if (keys[i].ke_used < lru->ke_used)
			lru = &keys[i];
	}
	entry_clear(lru);
	return lru;
}

static int
fp_matches(const struct keys_entry *e, const char *fingerprint)
{
	return fingerprint == NULL || (e->ke_fp != NULL && strcmp(e->ke_fp, fingerprint) == 0);
}

/* Reads, unseals and parses pair uuid into the cache. */
static enum cu_err
load(struct cu_ctx *cx, const char *uuid, struct keys_entry **out)
{
	struct cu_jose_key k;
	struct keys_entry *e;
	PGresult *res = NULL;
	const char *cert, *sealed, *fp;
	char *plain = NULL;
	size_t len = 0;
	enum cu_err err;
	int rc;

	*out = NULL;
	if (cx->cx_db == NULL)
		return CU_ERR_UNAVAILABLE;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_KEYS_LOAD, 1, &uuid);
	if (err == CU_ERR_INVALID)
		return CU_ERR_NOT_FOUND;
	if (err != CU_OK)
		return err;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 1))
		return CU_ERR_NOT_FOUND;
	cert = cu_db_value(res, 0, 0);
	sealed = cu_db_value(res, 0, 1);
	fp = cu_db_value(res, 0, 2);
	if (cu_crypto_unseal(&plain, &len, cx->cx_cfg->secret_key, sealed) != 0) {
		cu_log(CU_LOG_ERROR, "signing_key_unseal_failed", CU_LS("kp_uuid", uuid));
		return CU_ERR_INVALID;
	}
	rc = cu_jose_key_from_pem(&k, plain, len, cert != NULL && cert[0] != '\0' ? cert : NULL);
	cu_wipe(plain, len);
	cu_free(plain);
	if (rc != 0) {
		cu_log(CU_LOG_ERROR, "signing_key_unusable", CU_LS("kp_uuid", uuid));
		return CU_ERR_INVALID;
	}
	e = entry_find(uuid);
	if (e != NULL)
		entry_clear(e);
	else
		e = entry_take();
	snprintf(e->ke_uuid, sizeof(e->ke_uuid), "%s", uuid);
	e->ke_fp = fp != NULL ? cu_strdup(fp) : NULL;
	e->ke_key = k;
	cu_log(CU_LOG_INFO, "signing_key_loaded", CU_LS("kp_uuid", uuid),
	       CU_LS("kid", e->ke_key.jk_kid), CU_LS("alg", cu_jose_alg_name(e->ke_key.jk_alg)));
	*out = e;
	return CU_OK;
}

enum cu_err
cu_keys_get(struct cu_ctx *cx, const char *kp_uuid, const char *fingerprint,
            const struct cu_jose_key **out)
{
	struct keys_entry *e;
	enum cu_err err;

	*out = NULL;
	if (!uuid_ok(kp_uuid))
		return CU_ERR_NOT_FOUND;
	e = entry_find(kp_uuid);
	if (e == NULL || !fp_matches(e, fingerprint)) {
		err = load(cx, kp_uuid, &e);
		if (err != CU_OK)
			return err;
		/* The row changed between the caller's read and ours: ours is the newer. */
	}
	e->ke_used = ++keys_tick;
	*out = &e->ke_key;
	return CU_OK;
}

enum cu_err
cu_keys_jwks(struct cu_ctx *cx, const char *const *kp_uuids, size_t n, struct json_object **out)
{
	struct json_object *doc, *arr, *jwk;
	char *lit;
	size_t len = 0;
	PGresult *res = NULL;
	const char *param;
	size_t i, cap;
	enum cu_err err;
	int r;

	*out = NULL;
	doc = cu_json_object(cx->cx_arena);
	arr = json_object_new_array();
	cu_json_set(doc, "keys", arr);
	/* One round trip learns every pair's current fingerprint; only a pair that is new to
	 * this process or has changed is read again. */
	cap = 3 + n * (UUID_LEN + 1);
	lit = cu_arena_alloc(cx->cx_arena, cap);
	lit[len++] = '{';
	for (i = 0; i < n; i++) {
		if (!uuid_ok(kp_uuids[i]))
			continue;
		if (len > 1)
			lit[len++] = ',';
		memcpy(lit + len, kp_uuids[i], UUID_LEN);
		len += UUID_LEN;
	}
	lit[len++] = '}';
	lit[len] = '\0';
	if (len == 2) {
		*out = doc;
		return CU_OK;
	}
	if (cx->cx_db == NULL)
		return CU_ERR_UNAVAILABLE;
	param = lit;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_KEYS_FINGERPRINTS, 1, &param);
	if (err != CU_OK)
		return err;
	/* In the caller's order, each pair once. */
	for (i = 0; i < n; i++) {
		const struct cu_jose_key *k = NULL;
		size_t j;
		int seen = 0;

		if (!uuid_ok(kp_uuids[i]))
			continue;
		for (j = 0; j < i && !seen; j++)
			seen = kp_uuids[j] != NULL && strcasecmp(kp_uuids[j], kp_uuids[i]) == 0;
		if (seen)
			continue;
		for (r = 0; r < PQntuples(res); r++)
			if (strcasecmp(cu_db_value(res, r, 0), kp_uuids[i]) == 0)
				break;
		if (r == PQntuples(res) || strcmp(cu_db_value(res, r, 2), "t") != 0)
			continue;
		err = cu_keys_get(cx, kp_uuids[i], cu_db_value(res, r, 1), &k);
		if (err == CU_ERR_UNAVAILABLE)
			return err;
		if (err != CU_OK || cu_jose_jwk(cx->cx_arena, k, &jwk) != 0)
			continue;
		/* The arena owns jwk; the array takes a reference of its own. */
		json_object_array_add(arr, json_object_get(jwk));
	}
	*out = doc;
	return CU_OK;
}

/* --- XML signature keys ------------------------------------------------------------------ */

/* A pair as lib/xmlsig.h uses it: with its private key (signing) or its certificate alone. */
struct xkeys_entry {
	char xe_uuid[UUID_LEN + 1]; /* "" for a free slot */
	int xe_private;
	char *xe_fp;
	struct cu_xmlsig_key *xe_key;
	unsigned long long xe_used;
};

static struct xkeys_entry xkeys[KEYS_MAX];

static void
xentry_clear(struct xkeys_entry *e)
{
	cu_xmlsig_key_free(e->xe_key);
	cu_free(e->xe_fp);
	memset(e, 0, sizeof(*e));
}

static struct xkeys_entry *
xentry_find(const char *uuid, int private)
{
	size_t i;

	for (i = 0; i < KEYS_MAX; i++)
		if (xkeys[i].xe_uuid[0] != '\0' && xkeys[i].xe_private == private &&
		    strcasecmp(xkeys[i].xe_uuid, uuid) == 0)
			return &xkeys[i];
	return NULL;
}

static struct xkeys_entry *
xentry_take(void)
{
	struct xkeys_entry *lru = &xkeys[0];
	size_t i;

	for (i = 0; i < KEYS_MAX; i++) {
		if (xkeys[i].xe_uuid[0] == '\0')
			return &xkeys[i];
		if (xkeys[i].xe_used < lru->xe_used)
			lru = &xkeys[i];
	}
	xentry_clear(lru);
	return lru;
}

static enum cu_err
xload(struct cu_ctx *cx, const char *uuid, int private, struct xkeys_entry **out)
{
	struct cu_xmlsig_key *k = NULL;
	struct xkeys_entry *e;
	PGresult *res = NULL;
	const char *cert, *sealed, *fp;
	char *plain = NULL;
	size_t len = 0, certlen;
	enum cu_err err;
	int rc;

	*out = NULL;
	if (cx->cx_db == NULL)
		return CU_ERR_UNAVAILABLE;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_KEYS_LOAD, 1, &uuid);
	if (err == CU_ERR_INVALID)
		return CU_ERR_NOT_FOUND;
	if (err != CU_OK)
		return err;
	if (PQntuples(res) != 1 || (private && PQgetisnull(res, 0, 1)))
		return CU_ERR_NOT_FOUND;
	cert = cu_db_value(res, 0, 0);
	sealed = cu_db_value(res, 0, 1);
	fp = cu_db_value(res, 0, 2);
	certlen = cert != NULL ? strlen(cert) : 0;
	if (!private && certlen == 0)
		return CU_ERR_NOT_FOUND;
	if (private) {
		if (cu_crypto_unseal(&plain, &len, cx->cx_cfg->secret_key, sealed) != 0) {
			cu_log(CU_LOG_ERROR, "signing_key_unseal_failed", CU_LS("kp_uuid", uuid));
			return CU_ERR_INVALID;
		}
		rc = cu_xmlsig_key_load(&k, plain, len, certlen > 0 ? cert : NULL, certlen);
		cu_wipe(plain, len);
		cu_free(plain);
	} else {
		rc = cu_xmlsig_key_load(&k, NULL, 0, cert, certlen);
	}
	if (rc != 0) {
		cu_log(CU_LOG_ERROR, "xmlsig_key_unusable", CU_LS("kp_uuid", uuid),
		       CU_LB("private", private));
		return CU_ERR_INVALID;
	}
	e = xentry_find(uuid, private);
	if (e != NULL)
		xentry_clear(e);
	else
		e = xentry_take();
	snprintf(e->xe_uuid, sizeof(e->xe_uuid), "%s", uuid);
	e->xe_private = private;
	e->xe_fp = fp != NULL ? cu_strdup(fp) : NULL;
	e->xe_key = k;
	cu_log(CU_LOG_INFO, "xmlsig_key_loaded", CU_LS("kp_uuid", uuid), CU_LB("private", private));
	*out = e;
	return CU_OK;
}

static enum cu_err
xget(struct cu_ctx *cx, const char *kp_uuid, const char *fingerprint, int private,
     const struct cu_xmlsig_key **out)
{
	struct xkeys_entry *e;
	enum cu_err err;

	*out = NULL;
	if (!uuid_ok(kp_uuid))
		return CU_ERR_NOT_FOUND;
	e = xentry_find(kp_uuid, private);
	if (e == NULL ||
	    !(fingerprint == NULL || (e->xe_fp != NULL && strcmp(e->xe_fp, fingerprint) == 0))) {
		err = xload(cx, kp_uuid, private, &e);
		if (err != CU_OK)
			return err;
	}
	e->xe_used = ++keys_tick;
	*out = e->xe_key;
	return CU_OK;
}

enum cu_err
cu_keys_get_xmlsig(struct cu_ctx *cx, const char *kp_uuid, const char *fingerprint,
                   const struct cu_xmlsig_key **out)
{
	return xget(cx, kp_uuid, fingerprint, 1, out);
}

enum cu_err
cu_keys_get_xmlsig_cert(struct cu_ctx *cx, const char *kp_uuid, const char *fingerprint,
                        const struct cu_xmlsig_key **out)
{
	return xget(cx, kp_uuid, fingerprint, 0, out);
}

void
cu_keys_flush(void)
{
	size_t i;

	for (i = 0; i < KEYS_MAX; i++) {
		if (keys[i].ke_uuid[0] != '\0')
			entry_clear(&keys[i]);
		if (xkeys[i].xe_uuid[0] != '\0')
			xentry_clear(&xkeys[i]);
	}
	keys_tick = 0;
}
