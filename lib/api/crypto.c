#include "api/crypto.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "api/common.h"
#include "auth.h"
#include "certs.h"
/* lib/crypto.h and lib/events.h: the bare names would find lib/api/'s own headers. */
#include "../crypto.h"
#include "db.h"
#include "../events.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "server.h"

#define APP_LABEL "authentik_crypto"
#define MODEL_NAME "certificatekeypair"
/* authentik's Event.new() names the module that wrote a secret_view event. */
#define SECRET_VIEW_APP "authentik.crypto.api"
#define MSG_CERT "Unable to load certificate."
#define MSG_KEY "Unable to load private key (possibly encrypted?)."
#define MSG_KEY_MISMATCH "The private key does not match the certificate."
#define MSG_NAME_TAKEN "Certificate-Key Pair with this name already exists."
#define GEN_MAX_DAYS 36500
#define GEN_MAX_SAN 4096

static const struct cu_api_sort crypto_sorts[] = {
    {"name", "k.name"},
    {"pk", "k.kp_uuid"},
    {"fingerprint_sha256", "k.fingerprint_sha256"},
    {"fingerprint_sha1", "k.fingerprint_sha1"},
    {"cert_expiry", "k.cert_expiry"},
    {"cert_subject", "k.cert_subject"},
    {"key_type", "k.key_type"},
    {"managed", "k.managed"},
};

/* has_key=false filters nothing, as in authentik. */
static const struct cu_api_filter crypto_filters[] = {
    {"name", CU_API_F_TEXT, "k.name = $%d"},
    {"managed", CU_API_F_TEXT, "k.managed = $%d"},
    {"has_key", CU_API_F_BOOL, "($%d::boolean = false OR k.key_data_sealed IS NOT NULL)"},
    {"key_type", CU_API_F_TEXT_ANY, "k.key_type = ANY ($%d::text[])"},
};

static const struct cu_api_list crypto_list = {
    .al_row = CERTS_ROW_,
    .al_from = "FROM certificate_key_pairs k",
    .al_pk = "k.kp_uuid::text",
    .al_view_perm = APP_LABEL ".view_certificatekeypair",
    .al_search = "k.name ILIKE $%d",
    .al_sorts = crypto_sorts,
    .al_nsorts = sizeof(crypto_sorts) / sizeof(crypto_sorts[0]),
    .al_default_sort = "name",
    .al_tiebreak = "k.kp_uuid",
    .al_filters = crypto_filters,
    .al_nfilters = sizeof(crypto_filters) / sizeof(crypto_filters[0]),
};

/* What a certificate says, as text parameters for CERTS_INSERT / CERTS_UPDATE. */
struct cert_fields {
	struct cu_certs_info cf_info;
	char cf_expiry[32]; /* seconds since the epoch */
};

/* The {kp_uuid} path parameter in lower case (as object permissions hold it), or NULL having
 * answered 404. */
static const char *
kp_param(struct cu_ctx *cx)
{
	const char *id = cu_ctx_param(cx, "kp_uuid");
	char *low;
	size_t i;

	if (id == NULL || !cu_api_is_uuid(id)) {
		cu_ctx_error(cx, 404, "Not found.");
		return NULL;
	}
	low = cu_arena_strdup(cx->cx_arena, id);
	for (i = 0; low[i] != '\0'; i++)
		low[i] = (char)tolower((unsigned char)low[i]);
	return low;
}

static int
cert_read(const char *pem, struct cert_fields *cf)
{
	if (cu_certs_inspect(pem, strlen(pem), &cf->cf_info) != 0)
		return -1;
	snprintf(cf->cf_expiry, sizeof(cf->cf_expiry), "%lld", (long long)cf->cf_info.ci_not_after);
	return 0;
}

/* Checks key_pem against cert_pem, recording authentik's message under field on failure. */
static int
key_check(struct cu_api_errors *e, const char *field, const char *cert_pem, const char *key_pem)
{
	int r = cu_certs_key_matches(cert_pem, strlen(cert_pem), key_pem, strlen(key_pem));

	if (r == 1)
		return 0;
	cu_api_error(e, field, r == 0 ? MSG_KEY_MISMATCH : MSG_KEY);
	return -1;
}

/* Seals key_pem (may be NULL: no key) into an arena copy; *out NULL for no key. */
static int
key_seal(struct cu_ctx *cx, const char *key_pem, const char **out)
{
	char *sealed = NULL;

	*out = NULL;
	if (key_pem == NULL || key_pem[0] == '\0')
		return 0;
	if (cu_crypto_seal(&sealed, cx->cx_cfg->secret_key, key_pem, strlen(key_pem)) != 0)
		return -1;
	*out = cu_arena_strdup(cx->cx_arena, sealed);
	cu_free(sealed);
	return 0;
}

/* Reads the pair back inside the open transaction, commits, and answers with status. */
static void
commit_and_send(struct cu_ctx *cx, int status, const char *pk)
{
	PGresult *res = NULL;
	enum cu_err err;

	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_CERTS_GET, 1, &pk);
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_send_row(cx, status, res);
}

/* Inserts a new pair with its model_created event and answers status with it. */
static void
insert_pair(struct cu_ctx *cx, int status, const char *name_field, const char *name_taken,
            const char *name, const char *cert_pem, const char *key_pem,
            const struct cert_fields *cf)
{
	const char *params[8], *sealed = NULL, *pk;
	PGresult *res = NULL;
	enum cu_err err;

	if (key_seal(cx, key_pem, &sealed) != 0) {
		cu_ctx_error(cx, 500, "Sealing the private key failed.");
		return;
	}
	params[0] = name;
	params[1] = cert_pem;
	params[2] = sealed;
	params[3] = cf->cf_info.ci_fingerprint_sha256;
	params[4] = cf->cf_info.ci_fingerprint_sha1;
	params[5] = cf->cf_expiry;
	params[6] = cf->cf_info.ci_subject;
	params[7] = cf->cf_info.ci_key_type;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_CERTS_INSERT, 8, params);
	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(res)) {
		struct cu_api_errors e;

		cu_db_rollback(cx->cx_db);
		cu_api_errors_init(&e, cx);
		cu_api_error(&e, name_field, name_taken);
		cu_api_errors_send(cx, &e);
		return;
	}
	if (err == CU_OK) {
		pk = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
		err = cu_events_model(cx, "model_created", APP_LABEL, MODEL_NAME, pk, name, NULL);
	}
	if (err != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	commit_and_send(cx, status, pk);
}

void
cu_api_crypto_list(struct cu_ctx *cx)
{
	static const struct cu_api_cond visible = {CERTS_VISIBLE_, NULL};

	if (cu_api_login(cx) != 0)
		return;
	cu_api_list_send(cx, &crypto_list, &visible, 1);
}

void
cu_api_crypto_get(struct cu_ctx *cx)
{
	const char *pk;
	PGresult *res = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || (pk = kp_param(cx)) == NULL ||
	    cu_api_require(cx, APP_LABEL ".view_certificatekeypair", pk) != 0)
		return;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_CERTS_GET, 1, &pk);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_send_row(cx, 200, res);
}

void
cu_api_crypto_create(struct cu_ctx *cx)
{
	struct json_object *body = NULL;
	struct cu_api_errors e;
	struct cert_fields cf;
	const char *name = NULL, *cert = NULL, *key = NULL;
	int have_name, have_cert;

	if (cu_api_login(cx) != 0 ||
	    cu_api_require(cx, APP_LABEL ".add_certificatekeypair", NULL) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	have_name = cu_api_field_string(&e, body, "name", 0, 0, 0, &name);
	have_cert = cu_api_field_string(&e, body, "certificate_data", 0, 0, 0, &cert);
	(void)cu_api_field_string(&e, body, "key_data", 0, 1, 0, &key);
	if (have_name == 0)
		cu_api_error(&e, "name", "This field is required.");
	if (have_cert == 0)
		cu_api_error(&e, "certificate_data", "This field is required.");
	if (cert != NULL && cert_read(cert, &cf) != 0) {
		cu_api_error(&e, "certificate_data", MSG_CERT);
		cert = NULL;
	}
	if (cert != NULL && key != NULL && key[0] != '\0')
		(void)key_check(&e, "key_data", cert, key);
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	insert_pair(cx, 201, "name", MSG_NAME_TAKEN, name, cert, key, &cf);
}

/* Each comma-separated name as certs.c accepts it, so a bad one is a 400, not a failed build. */
static int
san_valid(const char *san)
{
	const char *p = san;
	size_t count = 0;

	if (strlen(san) > GEN_MAX_SAN)
		return 0;
	while (*p != '\0') {
		const char *end = strchr(p, ','), *b, *t;

		if (end == NULL)
			end = p + strlen(p);
		for (b = p; b < end && (*b == ' ' || *b == '\t'); b++)
			;
		for (t = end; t > b && (t[-1] == ' ' || t[-1] == '\t'); t--)
			;
		if (t > b) {
			if ((size_t)(t - b) > 253 || ++count > 100)
				return 0;
			for (; b < t; b++)
				if ((unsigned char)*b <= 0x20 || (unsigned char)*b >= 0x7f)
					return 0;
		}
		p = *end == ',' ? end + 1 : end;
	}
	return 1;
}

void
cu_api_crypto_generate(struct cu_ctx *cx)
{
	static const char *const algs[] = {"rsa", "ecdsa", "ed25519", "ed448", NULL};
	struct json_object *body = NULL;
	struct cu_api_errors e;
	struct cert_fields cf;
	const char *cn = NULL, *san = NULL, *alg = "rsa";
	char *cert = NULL, *key = NULL;
	int64_t days = 0;
	int have_cn, have_days;

	if (cu_api_login(cx) != 0 ||
	    cu_api_require(cx, APP_LABEL ".add_certificatekeypair", NULL) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	have_cn = cu_api_field_string(&e, body, "common_name", 0, 0, 0, &cn);
	(void)cu_api_field_string(&e, body, "subject_alt_name", 0, 1, 0, &san);
	have_days = cu_api_field_int(&e, body, "validity_days", 1, GEN_MAX_DAYS, &days);
	if (cu_api_field_choice(&e, body, "alg", algs, &alg) == 0)
		alg = "rsa";
	if (have_cn == 0)
		cu_api_error(&e, "common_name", "This field is required.");
	if (have_days == 0)
		cu_api_error(&e, "validity_days", "This field is required.");
	if (alg != NULL && (strcmp(alg, "ed25519") == 0 || strcmp(alg, "ed448") == 0))
		cu_api_error(
		    &e, "alg",
		    cu_arena_printf(cx->cx_arena,
		                    "Generating %s keys is not supported; use rsa or ecdsa.", alg));
	if (san != NULL && !san_valid(san))
		cu_api_error(&e, "subject_alt_name",
		             "Enter DNS names (no spaces) separated by commas.");
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}
	if (cu_certs_generate(strcmp(alg, "ecdsa") == 0 ? CU_CERTS_ECDSA : CU_CERTS_RSA, cn,
	                      san != NULL && san[0] != '\0' ? san : NULL, (int)days, &cert,
	                      &key) != 0 ||
	    cert_read(cert, &cf) != 0) {
		cu_ctx_error(cx, 500, "Generating the certificate failed.");
		goto out;
	}
	/* authentik answers 200 here, not 201. */
	insert_pair(cx, 200, "common_name", "This field must be unique.", cn, cert, key, &cf);
out:
	if (key != NULL)
		cu_wipe(key, strlen(key));
	cu_free(key);
	cu_free(cert);
}

/* Adds {"previous", "new"} under field when the values differ (NULL is JSON null). */
static void
diff_add(struct json_object *diff, const char *field, const char *prev, const char *now)
{
	struct json_object *d;

	if ((prev == NULL && now == NULL) ||
	    (prev != NULL && now != NULL && strcmp(prev, now) == 0))
		return;
	d = json_object_new_object();
	cu_json_set_string(d, "previous", prev);
	cu_json_set_string(d, "new", now);
	cu_json_set(diff, field, d);
}

/* 1 when the stored key (sealed) belongs to cert_pem, 0 when not, -1 when it cannot be
 * unsealed. */
static int
stored_key_matches(struct cu_ctx *cx, const char *sealed, const char *cert_pem)
{
	char *plain = NULL;
	size_t len = 0;
	int r;

	if (cu_crypto_unseal(&plain, &len, cx->cx_cfg->secret_key, sealed) != 0)
		return -1;
	r = cu_certs_key_matches(cert_pem, strlen(cert_pem), plain, len);
	cu_wipe(plain, len);
	cu_free(plain);
	return r == 1 ? 1 : 0;
}

void
cu_api_crypto_update(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *diff;
	struct cu_api_errors e;
	struct cert_fields cf;
	const char *pk, *name = NULL, *cert = NULL, *key = NULL, *sealed, *params[9];
	const char *old_name, *old_cert, *old_sealed, *new_fp, *new_subject, *new_type;
	PGresult *res = NULL;
	enum cu_err err;
	int have_name, have_cert, have_key, partial = cx->cx_req->rq_method == CU_HTTP_PATCH;

	if (cu_api_login(cx) != 0 || (pk = kp_param(cx)) == NULL ||
	    cu_api_require(cx, APP_LABEL ".change_certificatekeypair", pk) != 0 ||
	    cu_api_body(cx, &body) != 0)
		return;
	cu_api_errors_init(&e, cx);
	have_name = cu_api_field_string(&e, body, "name", 0, 0, 0, &name);
	have_cert = cu_api_field_string(&e, body, "certificate_data", 0, 0, 0, &cert);
	have_key = cu_api_field_string(&e, body, "key_data", 0, 1, 0, &key);
	if (!partial && have_name == 0)
		cu_api_error(&e, "name", "This field is required.");
	if (!partial && have_cert == 0)
		cu_api_error(&e, "certificate_data", "This field is required.");
	if (cert != NULL && cert_read(cert, &cf) != 0) {
		cu_api_error(&e, "certificate_data", MSG_CERT);
		cert = NULL;
	}
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}

	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_CERTS_LOCK, 1, &pk);
	if (err != CU_OK)
		goto fail;
	if (PQntuples(res) < 1) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	old_name = cu_db_value(res, 0, 0);
	old_cert = cu_db_value(res, 0, 1);
	old_sealed = cu_db_value(res, 0, 2);
	if (name == NULL)
		name = old_name;
	if (cert == NULL) {
		cert = old_cert;
		if (cert_read(cert, &cf) != 0) {
			cu_api_error(&e, "certificate_data", MSG_CERT);
			goto invalid;
		}
	}
	/* A key given is checked against the certificate it will sit beside; a new certificate
	 * beside the stored key is checked against that key. */
	sealed = old_sealed;
	if (have_key == 1 && key[0] != '\0') {
		if (key_check(&e, "key_data", cert, key) != 0)
			goto invalid;
		if (key_seal(cx, key, &sealed) != 0) {
			cu_db_rollback(cx->cx_db);
			cu_ctx_error(cx, 500, "Sealing the private key failed.");
			return;
		}
	} else if (have_key == 1) {
		sealed = NULL;
	} else if (old_sealed != NULL && cert != old_cert && strcmp(cert, old_cert) != 0) {
		int r = stored_key_matches(cx, old_sealed, cert);

		if (r < 0) {
			cu_db_rollback(cx->cx_db);
			cu_ctx_error(cx, 500, "The stored private key cannot be unsealed.");
			return;
		}
		if (r == 0) {
			cu_api_error(&e, "certificate_data", MSG_KEY_MISMATCH);
			goto invalid;
		}
	}
	new_fp = cf.cf_info.ci_fingerprint_sha256;
	new_subject = cf.cf_info.ci_subject;
	new_type = cf.cf_info.ci_key_type;
	params[0] = pk;
	params[1] = name;
	params[2] = cert;
	params[3] = sealed;
	params[4] = new_fp;
	params[5] = cf.cf_info.ci_fingerprint_sha1;
	params[6] = cf.cf_expiry;
	params[7] = new_subject;
	params[8] = new_type;

	/* The diff names what changed; the key shows only as whether there is one. */
	diff = cu_json_object(cx->cx_arena);
	diff_add(diff, "name", old_name, name);
	diff_add(diff, "fingerprint_sha256", cu_db_value(res, 0, 3), new_fp);
	diff_add(diff, "fingerprint_sha1", cu_db_value(res, 0, 4), cf.cf_info.ci_fingerprint_sha1);
	diff_add(diff, "cert_subject", cu_db_value(res, 0, 5), new_subject);
	diff_add(diff, "key_type", cu_db_value(res, 0, 6), new_type);
	diff_add(diff, "private_key_available", old_sealed != NULL ? "true" : "false",
	         sealed != NULL ? "true" : "false");

	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_CERTS_UPDATE, 9, params);
	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(res)) {
		cu_api_error(&e, "name", MSG_NAME_TAKEN);
		goto invalid;
	}
	if (err != CU_OK)
		goto fail;
	err = cu_events_model(cx, "model_updated", APP_LABEL, MODEL_NAME, pk, name, diff);
	if (err != CU_OK)
		goto fail;
	commit_and_send(cx, 200, pk);
	return;
invalid:
	cu_db_rollback(cx->cx_db);
	cu_api_errors_send(cx, &e);
	return;
fail:
	cu_db_rollback(cx->cx_db);
	cu_ctx_fail(cx, err, "The database");
}

void
cu_api_crypto_delete(struct cu_ctx *cx)
{
	const char *pk;
	PGresult *res = NULL;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || (pk = kp_param(cx)) == NULL ||
	    cu_api_require(cx, APP_LABEL ".delete_certificatekeypair", pk) != 0)
		return;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_CERTS_DELETE, 1, &pk);
	if (err == CU_OK && PQntuples(res) < 1) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	if (err == CU_OK)
		err = cu_events_model(cx, "model_deleted", APP_LABEL, MODEL_NAME, pk,
		                      cu_db_value(res, 0, 0), NULL);
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	cu_api_no_content(cx);
}

/* "<name>_<suffix>.pem" with what a quoted header value cannot carry replaced by '_'. */
static const char *
attachment(struct cu_ctx *cx, const char *name, const char *suffix)
{
	char *safe = cu_arena_strdup(cx->cx_arena, name);
	size_t i;

	for (i = 0; safe[i] != '\0'; i++) {
		unsigned char c = (unsigned char)safe[i];

		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			safe[i] = '_';
	}
	return cu_arena_printf(cx->cx_arena, "attachment; filename=\"%s_%s.pem\"", safe, suffix);
}

/* The secret_view event authentik writes for both view routes (not for outposts' internal
 * service accounts). */
static enum cu_err
secret_view(struct cu_ctx *cx, const char *pk, const char *name, const char *type)
{
	struct json_object *ctx, *secret;

	if (strcmp(cx->cx_user->us_type, "internal_service_account") == 0)
		return CU_OK;
	ctx = cu_json_object(cx->cx_arena);
	secret = json_object_new_object();
	cu_json_set_string(secret, "app", APP_LABEL);
	cu_json_set_string(secret, "model_name", MODEL_NAME);
	cu_json_set_string(secret, "pk", pk);
	cu_json_set_string(secret, "name", name);
	cu_json_set(ctx, "secret", secret);
	cu_json_set_string(ctx, "type", type);
	return cu_events_write(cx, "secret_view", SECRET_VIEW_APP, ctx);
}

/* Answers {"data": text}, or text itself as a PEM attachment with ?download. */
static void
send_pem(struct cu_ctx *cx, const char *name, const char *suffix, const char *text, size_t len)
{
	struct json_object *o;

	if (cu_http_arg(cx->cx_req, "download") != NULL) {
		if (cu_http_set_header(cx->cx_resp, "Content-Disposition",
		                       attachment(cx, name, suffix)) != 0) {
			cu_ctx_error(cx, 500, "Response header refused.");
			return;
		}
		cu_http_send_text(cx->cx_resp, 200, "application/x-pem-file", text, len);
		return;
	}
	o = cu_json_object(cx->cx_arena);
	cu_json_set(o, "data", json_object_new_string_len(text, (int)len));
	cu_ctx_json(cx, 200, o);
}

/* Loads name, certificate and sealed key of the pair for a view route; NULL having answered. */
static PGresult *
view_load(struct cu_ctx *cx, const char *pk)
{
	PGresult *res = NULL;
	enum cu_err err;

	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_CERTS_DATA, 1, &pk);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return NULL;
	}
	if (PQntuples(res) < 1) {
		cu_ctx_error(cx, 404, "Not found.");
		return NULL;
	}
	return res;
}

void
cu_api_crypto_view_certificate(struct cu_ctx *cx)
{
	const char *pk, *name, *cert;
	PGresult *res;
	enum cu_err err;

	if (cu_api_login(cx) != 0 || (pk = kp_param(cx)) == NULL ||
	    cu_api_require(cx, APP_LABEL ".view_certificatekeypair_certificate", pk) != 0 ||
	    (res = view_load(cx, pk)) == NULL)
		return;
	name = cu_db_value(res, 0, 0);
	cert = cu_db_value(res, 0, 1);
	if ((err = secret_view(cx, pk, name, "certificate")) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	send_pem(cx, name, "certificate", cert, strlen(cert));
}

void
cu_api_crypto_view_private_key(struct cu_ctx *cx)
{
	const char *pk, *name, *sealed;
	char *plain = NULL;
	size_t len = 0;
	PGresult *res;
	enum cu_err err;

	/* The permission and, beyond authentik, superuser status: a private key leaves only
	 * to an administrator. */
	if (cu_api_login(cx) != 0 || (pk = kp_param(cx)) == NULL ||
	    cu_api_require(cx, APP_LABEL ".view_certificatekeypair_key", pk) != 0)
		return;
	if (!cx->cx_user->us_is_superuser) {
		cu_ctx_error(cx, 403, "You do not have permission to perform this action.");
		return;
	}
	if ((res = view_load(cx, pk)) == NULL)
		return;
	name = cu_db_value(res, 0, 0);
	sealed = cu_db_value(res, 0, 2);
	if (sealed != NULL && cu_crypto_unseal(&plain, &len, cx->cx_cfg->secret_key, sealed) != 0) {
		cu_log(CU_LOG_ERROR, "unseal_failed", CU_LS("kp_uuid", pk));
		cu_ctx_error(cx, 500, "The stored private key cannot be unsealed.");
		return;
	}
	if ((err = secret_view(cx, pk, name, "private_key")) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
	} else {
		/* authentik answers an empty string for a pair without a key. */
		send_pem(cx, name, "private_key", plain != NULL ? plain : "", len);
	}
	if (plain != NULL)
		cu_wipe(plain, len);
	cu_free(plain);
}
