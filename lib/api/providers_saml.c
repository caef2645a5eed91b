/*
 * /api/v3/providers/saml/ as authentik's SAMLProviderViewSet
 * (authentik/providers/saml/api/providers.py): SAML providers by integer id.
 *
 * A SAML provider is a providers row, its saml_providers row and its SAML property mappings
 * (sql/0070_saml.sql); one statement writes them all, and the tables' triggers bump
 * providers.serial so the endpoints' cached copy (lib/providers/saml.c) is fresh on the next
 * request. The base fields, references, deletion and previews are lib/api/providers.c's.
 *
 * custos signs with what lib/xmlsig.h signs with: DSA-SHA1 and ECDSA-SHA1, which authentik
 * lists, are refused here rather than failing at the first login, and so are key pairs whose
 * key type does not fit the signature algorithm.
 *
 * Importing SP metadata never turns signature checking off: a signing certificate in the
 * metadata becomes the verification key pair whatever AuthnRequestsSigned says, and a provider
 * with a verification key pair refuses unsigned requests.
 */
#include "api/providers_saml.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "api/common.h"
#include "api/providers.h"
#include "bounds.h"
#include "certs.h"
#include "../crypto.h" /* lib/api/crypto.h is the API module */
#include "db.h"
#include "../events.h" /* lib/api/events.h is the API module */
#include "http.h"
#include "json.h"
#include "log.h"
#include "multipart.h"
#include "providers/oauth2.h"
#include "providers/oauth2_redirect.h"
#include "providers/saml.h"
#include "providers/saml_endpoints.h"
#include "server.h"
#include "xmlsig.h"

#define SAML_APP "authentik_providers_saml"
#define SAML_MODEL "samlprovider"
#define PERM_SAML(verb) SAML_APP "." verb "_samlprovider"
#define CRYPTO_APP "authentik_crypto"
#define CRYPTO_MODEL "certificatekeypair"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

#define SHA256_URI "http://www.w3.org/2001/04/xmlenc#sha256"
#define RSA_SHA256_URI "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define ECDSA_SHA256_URI "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"

/* authentik's choices (DigestAlgorithmEnum, SignatureAlgorithmEnum, ...), in its order. */
static const char *const digests[] = {"http://www.w3.org/2000/09/xmldsig#sha1", SHA256_URI,
                                      "http://www.w3.org/2001/04/xmldsig-more#sha384",
                                      "http://www.w3.org/2001/04/xmlenc#sha512", NULL};
static const char *const signatures[] = {"http://www.w3.org/2000/09/xmldsig#rsa-sha1",
                                         RSA_SHA256_URI,
                                         "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
                                         "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
                                         "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
                                         ECDSA_SHA256_URI,
                                         "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
                                         "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
                                         "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
                                         NULL};
static const char *const name_id_policies[] = {CU_SAML_NAMEID_EMAIL,
                                               CU_SAML_NAMEID_PERSISTENT,
                                               CU_SAML_NAMEID_X509,
                                               CU_SAML_NAMEID_WINDOWS,
                                               CU_SAML_NAMEID_TRANSIENT,
                                               CU_SAML_NAMEID_UNSPECIFIED,
                                               NULL};
static const char *const bindings[] = {"redirect", "post", NULL};
static const char *const logout_methods[] = {"frontchannel_iframe", "frontchannel_native",
                                             "backchannel", NULL};
static const char *const durations[] = {"assertion_valid_not_before",
                                        "assertion_valid_not_on_or_after",
                                        "session_valid_not_on_or_after", NULL};

/* ---- lists ---------------------------------------------------------------------------------- */

static const struct cu_api_sort saml_sorts[] = {
    {"name", "p.name"},
    {"pk", "p.id"},
    {"id", "p.id"},
    {"authorization_flow", "p.authorization_flow"},
    {"acs_url", "s.acs_url"},
    {"audience", "s.audience"},
    {"issuer", "s.issuer"},
    {"sp_binding", "s.sp_binding"},
    {"sls_url", "s.sls_url"},
    {"signing_kp", "s.signing_kp"},
    {"verification_kp", "s.verification_kp"},
};

/* filterset_fields = "__all__": every model field (no provider is a backchannel one). */
static const struct cu_api_filter saml_filters[] = {
    {"name", CU_API_F_TEXT, "p.name = $%d"},
    {"authentication_flow", CU_API_F_UUID, "p.authentication_flow = $%d::uuid"},
    {"authorization_flow", CU_API_F_UUID, "p.authorization_flow = $%d::uuid"},
    {"invalidation_flow", CU_API_F_UUID, "p.invalidation_flow = $%d::uuid"},
    {"property_mappings", CU_API_F_TEXT_ANY,
     "EXISTS (SELECT 1 FROM provider_property_mappings fm WHERE fm.provider_id = p.id AND "
     "fm.pm_uuid::text IN (SELECT lower(w) FROM unnest($%d::text[]) AS w))"},
    {"backchannel_application", CU_API_F_UUID, "$%d::uuid IS NULL"},
    {"is_backchannel", CU_API_F_BOOL, "false = $%d::boolean"},
    {"acs_url", CU_API_F_TEXT, "s.acs_url = $%d"},
    {"sls_url", CU_API_F_TEXT, "s.sls_url = $%d"},
    {"audience", CU_API_F_TEXT, "s.audience = $%d"},
    {"issuer", CU_API_F_TEXT, "s.issuer = $%d"},
    {"assertion_valid_not_before", CU_API_F_TEXT, "s.assertion_valid_not_before = $%d"},
    {"assertion_valid_not_on_or_after", CU_API_F_TEXT, "s.assertion_valid_not_on_or_after = $%d"},
    {"session_valid_not_on_or_after", CU_API_F_TEXT, "s.session_valid_not_on_or_after = $%d"},
    {"name_id_mapping", CU_API_F_UUID, "s.name_id_mapping = $%d::uuid"},
    {"authn_context_class_ref_mapping", CU_API_F_UUID,
     "s.authn_context_class_ref_mapping = $%d::uuid"},
    {"digest_algorithm", CU_API_F_TEXT, "s.digest_algorithm = $%d"},
    {"signature_algorithm", CU_API_F_TEXT, "s.signature_algorithm = $%d"},
    {"signing_kp", CU_API_F_UUID, "s.signing_kp = $%d::uuid"},
    {"verification_kp", CU_API_F_UUID, "s.verification_kp = $%d::uuid"},
    {"encryption_kp", CU_API_F_UUID, "s.encryption_kp = $%d::uuid"},
    {"sign_assertion", CU_API_F_BOOL, "s.sign_assertion = $%d::boolean"},
    {"sign_response", CU_API_F_BOOL, "s.sign_response = $%d::boolean"},
    {"sign_logout_request", CU_API_F_BOOL, "s.sign_logout_request = $%d::boolean"},
    {"sign_logout_response", CU_API_F_BOOL, "s.sign_logout_response = $%d::boolean"},
    {"sp_binding", CU_API_F_TEXT, "s.sp_binding = $%d"},
    {"sls_binding", CU_API_F_TEXT, "s.sls_binding = $%d"},
    {"logout_method", CU_API_F_TEXT, "s.logout_method = $%d"},
    {"default_relay_state", CU_API_F_TEXT, "s.default_relay_state = $%d"},
    {"default_name_id_policy", CU_API_F_TEXT, "s.default_name_id_policy = $%d"},
};

static const struct cu_api_list saml_list = {
    .al_row = CU_SQL_SAML_API_PROVIDER "::text",
    .al_from = "FROM " CU_SQL_SAML_PROVIDER_FROM,
    .al_pk = "p.id::text",
    .al_view_perm = PERM_SAML("view"),
    .al_search = "p.name ILIKE $%d",
    .al_sorts = saml_sorts,
    .al_nsorts = NITEMS(saml_sorts),
    .al_default_sort = "name",
    .al_tiebreak = "p.id",
    .al_filters = saml_filters,
    .al_nfilters = NITEMS(saml_filters),
};

/* ---- loading -------------------------------------------------------------------------------- */

/* The provider with id (a checked path id) by st (GET or LOCK): 0, or -1 having answered. */
static int
srow_load(struct cu_ctx *cx, enum cu_db_stmt st, const char *id, struct cu_api_provider_row *r)
{
	const char *params[2];

	params[0] = id;
	params[1] = cu_oauth2_base_url(cx);
	return cu_api_providers_load(cx, st, SAML_MODEL, 2, params, r);
}

/* The provider of the path, then perm on it: 0, or -1 having answered. */
static int
srow_find(struct cu_ctx *cx, const char *perm, struct cu_api_provider_row *r)
{
	const char *id = cu_api_providers_path_id(cx);

	if (id == NULL || srow_load(cx, CU_DB_STMT_PROVIDERS_API_SAML_GET, id, r) != 0)
		return -1;
	return cu_api_require(cx, perm, r->pr_id);
}

/* The cached provider of r for the endpoints' functions: 0, or -1 having answered. */
static int
core_provider(struct cu_ctx *cx, const struct cu_api_provider_row *r,
              const struct cu_saml_provider **out)
{
	enum cu_err err = cu_saml_provider_by_id(cx, (int)strtol(r->pr_id, NULL, 10), out);

	if (err == CU_OK)
		return 0;
	if (err == CU_ERR_NOT_FOUND)
		cu_ctx_error(cx, 404, "Not found.");
	else
		cu_ctx_fail(cx, err, "The provider");
	return -1;
}

/* ---- reading a body ------------------------------------------------------------------------- */

/* An absolute http(s) URL the endpoints may send a browser to (acs_url, sls_url): the rules
 * of an OAuth2 redirect URI (lib/providers/oauth2_redirect.h). */
static void
read_url(struct cu_api_errors *e, struct json_object *body, const char *key, int allow_blank,
         struct json_object *eff)
{
	const char *s = NULL;

	if (cu_api_field_string(e, body, key, CU_API_SAML_MAX_URL, allow_blank, 0, &s) <= 0)
		return;
	if (s[0] != '\0' && !cu_oauth2_redirect_uri_valid(s, strlen(s)))
		cu_api_error(e, key, "Enter a valid URL.");
	else
		cu_json_set_string(eff, key, s);
}

static void
read_text(struct cu_api_errors *e, struct json_object *body, const char *key, int allow_blank,
          struct json_object *eff)
{
	const char *s = NULL;

	if (cu_api_field_string(e, body, key, CU_API_SAML_MAX_TEXT, allow_blank, 0, &s) > 0)
		cu_json_set_string(eff, key, s);
}

/*
 * Overlays the body's fields on eff (the stored state, or a new provider's defaults) and checks
 * each, references against the database: 0, -1 errors recorded, -2 database down.
 */
static int
read_body(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
          struct json_object *eff)
{
	static const char *const choice_keys[] = {
	    "digest_algorithm",       "sp_binding", "sls_binding", "logout_method",
	    "default_name_id_policy", NULL};
	const char *const *choice_sets[] = {digests, bindings, bindings, logout_methods,
	                                    name_id_policies};
	static const char *const bool_keys[] = {
	    "sign_assertion", "sign_response", "sign_logout_request", "sign_logout_response", NULL};
	enum cu_xmlsig_sig alg;
	const char *s = NULL;
	size_t i;
	int b;

	if (cu_api_providers_read_base(cx, e, body, CU_DB_STMT_PROVIDERS_API_MISSING_SAML_MAPPING,
	                               eff) == -2)
		return -2;
	read_url(e, body, "acs_url", 0, eff);
	read_url(e, body, "sls_url", 1, eff);
	read_text(e, body, "audience", 1, eff);
	read_text(e, body, "issuer", 0, eff);
	read_text(e, body, "default_relay_state", 1, eff);
	for (i = 0; durations[i] != NULL; i++)
		cu_api_providers_read_duration(cx, e, body, durations[i], cu_saml_timedelta, eff);
	for (i = 0; choice_keys[i] != NULL; i++)
		if (cu_api_providers_read_choice(cx, e, body, choice_keys[i], choice_sets[i], &s) >
		    0)
			cu_json_set_string(eff, choice_keys[i], s);
	if (cu_api_providers_read_choice(cx, e, body, "signature_algorithm", signatures, &s) > 0) {
		if (cu_xmlsig_sig_from_uri(&alg, s) != 0)
			cu_api_error(
			    e, "signature_algorithm",
			    cu_arena_printf(cx->cx_arena,
			                    "\"%s\" is not supported: custos signs with "
			                    "RSA-SHA1, RSA-SHA256, RSA-SHA384, RSA-SHA512, "
			                    "ECDSA-SHA256, ECDSA-SHA384 or ECDSA-SHA512.",
			                    s));
		else
			cu_json_set_string(eff, "signature_algorithm", s);
	}
	for (i = 0; bool_keys[i] != NULL; i++)
		if (cu_api_field_bool(e, body, bool_keys[i], &b) > 0)
			cu_json_set_bool(eff, bool_keys[i], b);
	if (cu_api_providers_read_ref(cx, e, body, "name_id_mapping", 1,
	                              CU_DB_STMT_PROVIDERS_API_SAML_MAPPING, eff) == -2 ||
	    cu_api_providers_read_ref(cx, e, body, "authn_context_class_ref_mapping", 1,
	                              CU_DB_STMT_PROVIDERS_API_SAML_MAPPING, eff) == -2 ||
	    cu_api_providers_read_ref(cx, e, body, "signing_kp", 1,
	                              CU_DB_STMT_PROVIDERS_API_KEYPAIR_SIGNING, eff) == -2 ||
	    cu_api_providers_read_ref(cx, e, body, "verification_kp", 1,
	                              CU_DB_STMT_PROVIDERS_API_KEYPAIR_ANY, eff) == -2 ||
	    cu_api_providers_read_ref(cx, e, body, "encryption_kp", 1,
	                              CU_DB_STMT_PROVIDERS_API_KEYPAIR_ANY, eff) == -2)
		return -2;
	return cu_api_errors_any(e) ? -1 : 0;
}

/* The key type of a key pair ("rsa", "ec", ...; "" when unknown): 0, -1 database down. */
static int
key_type(struct cu_ctx *cx, const char *kp, const char **out)
{
	PGresult *res = NULL;

	*out = "";
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_PROVIDERS_API_SAML_KEY_TYPE, 1,
	               &kp) != CU_OK)
		return -1;
	if (PQntuples(res) > 0)
		*out = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
	return 0;
}

/*
 * SAMLProviderSerializer.validate over the provider as it would be written (the stored state
 * with the body over it): a signing key pair signs something and can sign with the algorithm;
 * an encryption key pair's certificate can wrap a key with RSA-OAEP; a back-channel logout
 * needs the POST binding (authentik falls back to the iframe). 0, -1 recorded, -2 database
 * down.
 */
static int
check_state(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *eff)
{
	const char *signing = cu_api_providers_eff_text(eff, "signing_kp");
	const char *enc = cu_api_providers_eff_text(eff, "encryption_kp");
	const char *alg = cu_api_providers_eff_text(eff, "signature_algorithm");
	const char *logout = cu_api_providers_eff_text(eff, "logout_method");
	const char *sls = cu_api_providers_eff_text(eff, "sls_binding");
	const char *kt = NULL;
	int ecdsa = alg != NULL && strstr(alg, "#ecdsa-") != NULL;

	if (signing != NULL) {
		if (strcmp(cu_api_providers_eff_bool(eff, "sign_assertion"), "false") == 0 &&
		    strcmp(cu_api_providers_eff_bool(eff, "sign_response"), "false") == 0)
			cu_api_error(e, NULL,
			             "With a signing keypair selected, at least one of 'Sign "
			             "assertion' and 'Sign Response' must be selected.");
		if (key_type(cx, signing, &kt) != 0)
			return -2;
		if (strcmp(kt, "rsa") != 0 && strcmp(kt, "ec") != 0)
			cu_api_error(e, "signing_kp",
			             "Only RSA and EC key types are supported for SAML signing.");
		else if ((strcmp(kt, "ec") == 0) != ecdsa)
			cu_api_error(
			    e, "signature_algorithm",
			    cu_arena_printf(cx->cx_arena,
			                    "The signing key pair holds an %s key: choose an "
			                    "%s signature algorithm.",
			                    strcmp(kt, "ec") == 0 ? "EC" : "RSA",
			                    strcmp(kt, "ec") == 0 ? "ECDSA" : "RSA"));
	}
	if (enc != NULL) {
		if (key_type(cx, enc, &kt) != 0)
			return -2;
		if (strcmp(kt, "rsa") != 0)
			cu_api_error(e, "encryption_kp",
			             "Assertions are encrypted to the key pair's certificate with "
			             "RSA-OAEP: it must hold an RSA certificate.");
	}
	if (logout != NULL && sls != NULL && strcmp(logout, "backchannel") == 0 &&
	    strcmp(sls, "redirect") == 0)
		cu_json_set_string(eff, "logout_method", "frontchannel_iframe");
	return cu_api_errors_any(e) ? -1 : 0;
}

/* A new provider's state: the model's defaults. */
static struct json_object *
saml_defaults(struct cu_ctx *cx)
{
	struct json_object *eff = cu_json_object(cx->cx_arena);

	cu_json_set(eff, "authentication_flow", NULL);
	cu_json_set(eff, "property_mappings", json_object_new_array());
	cu_json_set_string(eff, "sls_url", "");
	cu_json_set_string(eff, "audience", "");
	cu_json_set_string(eff, "issuer", "authentik");
	cu_json_set_string(eff, "assertion_valid_not_before", "minutes=-5");
	cu_json_set_string(eff, "assertion_valid_not_on_or_after", "minutes=5");
	cu_json_set_string(eff, "session_valid_not_on_or_after", "minutes=86400");
	cu_json_set(eff, "name_id_mapping", NULL);
	cu_json_set(eff, "authn_context_class_ref_mapping", NULL);
	cu_json_set_string(eff, "digest_algorithm", SHA256_URI);
	cu_json_set_string(eff, "signature_algorithm", RSA_SHA256_URI);
	cu_json_set(eff, "signing_kp", NULL);
	cu_json_set(eff, "verification_kp", NULL);
	cu_json_set(eff, "encryption_kp", NULL);
	cu_json_set_bool(eff, "sign_assertion", 1);
	cu_json_set_bool(eff, "sign_response", 0);
	cu_json_set_bool(eff, "sign_logout_request", 0);
	cu_json_set_bool(eff, "sign_logout_response", 0);
	cu_json_set_string(eff, "sp_binding", "redirect");
	cu_json_set_string(eff, "sls_binding", "redirect");
	cu_json_set_string(eff, "logout_method", "frontchannel_iframe");
	cu_json_set_string(eff, "default_relay_state", "");
	cu_json_set_string(eff, "default_name_id_policy", CU_SAML_NAMEID_UNSPECIFIED);
	return eff;
}

/* ---- writing -------------------------------------------------------------------------------- */

/* Writes eff (a new provider when id is NULL) in the open transaction and logs the event with
 * the diff against before. 0 with *r the provider as written, or -1 having answered (rolled
 * back). The caller commits. */
static int
saml_store(struct cu_ctx *cx, struct json_object *eff, const char *id, struct json_object *before,
           struct cu_api_provider_row *r)
{
	static const char *const cols[] = {"acs_url",
	                                   "sls_url",
	                                   "audience",
	                                   "issuer",
	                                   "assertion_valid_not_before",
	                                   "assertion_valid_not_on_or_after",
	                                   "session_valid_not_on_or_after",
	                                   "name_id_mapping",
	                                   "authn_context_class_ref_mapping",
	                                   "digest_algorithm",
	                                   "signature_algorithm",
	                                   "signing_kp",
	                                   "verification_kp",
	                                   "encryption_kp",
	                                   NULL};
	static const char *const bools[] = {"sign_assertion", "sign_response",
	                                    "sign_logout_request", "sign_logout_response", NULL};
	static const char *const tail[] = {"sp_binding",
	                                   "sls_binding",
	                                   "logout_method",
	                                   "default_relay_state",
	                                   "default_name_id_policy",
	                                   NULL};
	struct json_object *after;
	const char *p[29];
	PGresult *res = NULL;
	enum cu_err err;
	size_t i, n = 5;

	p[0] = id;
	p[1] = cu_api_providers_eff_text(eff, "name");
	p[2] = cu_api_providers_eff_text(eff, "authentication_flow");
	p[3] = cu_api_providers_eff_text(eff, "authorization_flow");
	p[4] = cu_api_providers_eff_text(eff, "invalidation_flow");
	for (i = 0; cols[i] != NULL; i++)
		p[n++] = cu_api_providers_eff_text(eff, cols[i]);
	for (i = 0; bools[i] != NULL; i++)
		p[n++] = cu_api_providers_eff_bool(eff, bools[i]);
	for (i = 0; tail[i] != NULL; i++)
		p[n++] = cu_api_providers_eff_text(eff, tail[i]);
	p[n++] = cu_api_providers_eff_array(cx, eff, "property_mappings");
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res,
	                 id == NULL ? CU_DB_STMT_PROVIDERS_API_SAML_INSERT
	                            : CU_DB_STMT_PROVIDERS_API_SAML_UPDATE,
	                 (int)n, p);
	if (err != CU_OK) {
		cu_api_providers_write_failed(cx, err, res);
		return -1;
	}
	if (PQntuples(res) < 1) {
		cu_db_rollback(cx->cx_db);
		cu_ctx_error(cx, 404, "Not found.");
		return -1;
	}
	id = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
	if (srow_load(cx, CU_DB_STMT_PROVIDERS_API_SAML_GET, id, r) != 0) {
		cu_db_rollback(cx->cx_db);
		return -1;
	}
	after = cu_api_providers_state(cx, r->pr_state);
	err = after == NULL
	          ? CU_ERR_INTERNAL
	          : cu_events_model(cx, before == NULL ? "model_created" : "model_updated",
	                            SAML_APP, SAML_MODEL, id, r->pr_name,
	                            cu_api_json_diff(cx, before, after, NULL));
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return -1;
	}
	return 0;
}

/* saml_store, then commit and answer with the provider. */
static void
saml_write(struct cu_ctx *cx, struct json_object *eff, const char *id, struct json_object *before)
{
	struct cu_api_provider_row r;

	if (saml_store(cx, eff, id, before, &r) != 0 || cu_api_commit(cx, CU_OK) != 0)
		return;
	cu_api_send_row(cx, before == NULL ? 201 : 200, r.pr_res);
}

/* Reads and checks body over eff, then writes: the end of create and update. */
static void
saml_save(struct cu_ctx *cx, struct json_object *body, struct json_object *eff, const char *id,
          struct json_object *before)
{
	static const char *const more[] = {"acs_url", NULL};
	struct cu_api_errors e;
	int r;

	cu_api_errors_init(&e, cx);
	r = read_body(cx, &e, body, eff);
	if (id == NULL || cx->cx_req->rq_method == CU_HTTP_PUT)
		cu_api_providers_check_required(&e, body, more);
	/* The whole provider is checked once each field is fine on its own, as DRF's validate. */
	if (r == 0 && !cu_api_errors_any(&e))
		r = check_state(cx, &e, eff);
	if (r == -2) {
		cu_api_db_fail(cx, CU_ERR_UNAVAILABLE);
		return;
	}
	if (cu_api_errors_any(&e)) {
		cu_db_rollback(cx->cx_db);
		cu_api_errors_send(cx, &e);
		return;
	}
	saml_write(cx, eff, id, before);
}

/* ---- /providers/saml/ ----------------------------------------------------------------------- */

void
cu_api_providers_saml_list(struct cu_ctx *cx)
{
	struct cu_api_cond base;

	if (cu_api_login(cx) != 0)
		return;
	base.ac_sql = CU_SQL_SAML_BASE_COND;
	base.ac_value = cu_oauth2_base_url(cx);
	cu_api_list_send(cx, &saml_list, &base, 1);
}

void
cu_api_providers_saml_get(struct cu_ctx *cx)
{
	struct cu_api_provider_row r;

	if (cu_api_login(cx) != 0 || srow_find(cx, PERM_SAML("view"), &r) != 0)
		return;
	cu_api_send_row(cx, 200, r.pr_res);
}

void
cu_api_providers_saml_create(struct cu_ctx *cx)
{
	struct json_object *body = NULL;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, PERM_SAML("add"), NULL) != 0 ||
	    cu_api_body(cx, &body) != 0 || cu_api_providers_begin(cx) != 0)
		return;
	saml_save(cx, body, saml_defaults(cx), NULL, NULL);
}

void
cu_api_providers_saml_update(struct cu_ctx *cx)
{
	struct json_object *body = NULL, *before, *eff = NULL;
	struct cu_api_provider_row r;

	if (cu_api_login(cx) != 0 || srow_find(cx, PERM_SAML("change"), &r) != 0 ||
	    cu_api_body(cx, &body) != 0 || cu_api_providers_begin(cx) != 0)
		return;
	if (srow_load(cx, CU_DB_STMT_PROVIDERS_API_SAML_LOCK, r.pr_id, &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	before = cu_api_providers_state(cx, r.pr_state);
	if (before == NULL ||
	    cu_json_parse(cx->cx_arena, r.pr_state, strlen(r.pr_state), &eff) != CU_OK) {
		cu_api_db_fail(cx, CU_ERR_INTERNAL);
		return;
	}
	saml_save(cx, body, eff, r.pr_id, before);
}

void
cu_api_providers_saml_delete(struct cu_ctx *cx)
{
	struct cu_api_provider_row r;

	if (cu_api_login(cx) != 0 || srow_find(cx, PERM_SAML("delete"), &r) != 0 ||
	    cu_api_providers_begin(cx) != 0)
		return;
	if (srow_load(cx, CU_DB_STMT_PROVIDERS_API_SAML_LOCK, r.pr_id, &r) != 0) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	cu_api_providers_delete(cx, &r);
}

/* ---- metadata ------------------------------------------------------------------------------- */

/* A provider name fit for a quoted Content-Disposition filename. */
static const char *
filename_of(struct cu_ctx *cx, const char *name)
{
	char *out = cu_arena_strdup(cx->cx_arena, name);
	size_t i;

	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == '"' || out[i] == '\\' ||
		    (unsigned char)out[i] >= 0x7f)
			out[i] = '_';
	return out;
}

/*
 * authentik lets anyone fetch a provider's metadata by id (it reads the provider without
 * get_object on purpose), and answers 404 while no application binds it: the metadata's
 * endpoints live under the application's slug.
 */
void
cu_api_providers_saml_metadata(struct cu_ctx *cx)
{
	const char *id = cu_api_providers_path_id(cx), *xml = NULL, *fb;
	const struct cu_saml_provider *p = NULL;
	struct json_object *o;
	size_t len = 0;
	enum cu_err err;

	if (id == NULL)
		return;
	err = cu_saml_provider_by_id(cx, (int)strtol(id, NULL, 10), &p);
	if (err == CU_OK && p->sp_app_slug == NULL)
		err = CU_ERR_NOT_FOUND;
	if (err == CU_OK) {
		fb = cu_http_arg(cx->cx_req, "force_binding");
		err = cu_saml_metadata_binding(cx, p, fb != NULL && fb[0] != '\0' ? fb : NULL, &xml,
		                               &len);
	}
	if (err == CU_ERR_NOT_FOUND) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "SAML metadata");
		return;
	}
	/* authentik's test is the parameter's presence: ?download and ?download=false alike. */
	if (cu_http_arg(cx->cx_req, "download") != NULL) {
		cu_http_send_text(cx->cx_resp, 200, "application/xml", xml, len);
		if (cu_http_set_header(
		        cx->cx_resp, "Content-Disposition",
		        cu_arena_printf(cx->cx_arena,
		                        "attachment; filename=\"%s_authentik_meta.xml\"",
		                        filename_of(cx, p->sp_name))) != 0)
			cu_ctx_error(cx, 500, "Internal error.");
		return;
	}
	o = cu_json_object(cx->cx_arena);
	cu_json_set(o, "metadata", json_object_new_string_len(xml, (int)len));
	cu_json_set_string(o, "download_url",
	                   cu_arena_printf(cx->cx_arena, "%s/application/saml/%s/metadata/",
	                                   cu_oauth2_base_url(cx), p->sp_app_slug));
	cu_ctx_json(cx, 200, o);
}

/* ---- import_metadata ------------------------------------------------------------------------ */

/* A flow of the given designation named by a text field (SAMLProviderImportSerializer's
 * PrimaryKeyRelatedFields): 1 with *out, 0 recorded, -1 database down. */
static int
import_flow(struct cu_ctx *cx, struct cu_api_errors *e, const struct cu_multipart_part *p,
            const char *key, const char *designation, const char **out)
{
	const char *params[2];
	PGresult *res = NULL;
	char *id;
	size_t i;

	*out = NULL;
	if (p == NULL) {
		cu_api_error(e, key, "This field is required.");
		return 0;
	}
	if (p->mp_filename != NULL || strlen(p->mp_data) != p->mp_len ||
	    !cu_api_is_uuid(p->mp_data)) {
		cu_api_error(e, key,
		             cu_arena_printf(cx->cx_arena,
		                             "\xe2\x80\x9c%.64s\xe2\x80\x9d is not a valid UUID.",
		                             p->mp_filename != NULL ? "" : p->mp_data));
		return 0;
	}
	id = cu_arena_strdup(cx->cx_arena, p->mp_data);
	for (i = 0; id[i] != '\0'; i++)
		id[i] = (char)tolower((unsigned char)id[i]);
	params[0] = id;
	params[1] = designation;
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_PROVIDERS_API_SAML_FLOW_DESIGNATED,
	               2, params) != CU_OK)
		return -1;
	if (PQntuples(res) < 1) {
		cu_api_error(e, key,
		             cu_arena_printf(cx->cx_arena,
		                             "Invalid pk \"%s\" - object does not exist.", id));
		return 0;
	}
	*out = id;
	return 1;
}

/* Answers 400 as authentik's view does when the metadata will not do: a list of one message. */
static void
import_refuse(struct cu_ctx *cx, const char *msg)
{
	struct json_object *arr = cu_json_array(cx->cx_arena);

	cu_log(CU_LOG_WARNING, "saml_import_refused", CU_LS("reason", msg));
	json_object_array_add(arr, json_object_new_string(msg));
	cu_ctx_json(cx, 400, arr);
}

/*
 * Stores a certificate (no private key) from the metadata as a key pair named name, with its
 * model_created event, in the open transaction. 0 with *kp its uuid; -1 having rolled back and
 * answered.
 */
static int
import_cert(struct cu_ctx *cx, const char *name, const char *pem, const char **kp)
{
	struct cu_certs_info info;
	const char *params[8];
	PGresult *res = NULL;
	char expiry[32];
	enum cu_err err;

	if (cu_certs_inspect(pem, strlen(pem), &info) != 0) {
		cu_db_rollback(cx->cx_db);
		import_refuse(cx, "Failed to import Metadata: A certificate in the metadata is not "
		                  "valid.");
		return -1;
	}
	snprintf(expiry, sizeof(expiry), "%lld", (long long)info.ci_not_after);
	params[0] = name;
	params[1] = pem;
	params[2] = NULL;
	params[3] = info.ci_fingerprint_sha256;
	params[4] = info.ci_fingerprint_sha1;
	params[5] = expiry;
	params[6] = info.ci_subject;
	params[7] = info.ci_key_type;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_CERTS_INSERT, 8, params);
	if (err == CU_ERR_INVALID && cu_db_is_unique_violation(res)) {
		cu_db_rollback(cx->cx_db);
		import_refuse(cx,
		              cu_arena_printf(cx->cx_arena,
		                              "Failed to import Metadata: a certificate-key pair "
		                              "named \"%s\" already exists.",
		                              name));
		return -1;
	}
	if (err == CU_OK) {
		*kp = cu_arena_strdup(cx->cx_arena, cu_db_value(res, 0, 0));
		err =
		    cu_events_model(cx, "model_created", CRYPTO_APP, CRYPTO_MODEL, *kp, name, NULL);
	}
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return -1;
	}
	return 0;
}

/*
 * authentik's ServiceProviderMetadata.to_provider: the ACS, its binding, the SLS, the NameID
 * format, every managed SAML mapping, and key pairs for the SP's certificates. custos differs
 * where it keeps a login safe: the SP's entityID is the Audience (authentik puts it in issuer,
 * the IdP's own EntityID); the SP's signing certificate always becomes verification_kp, so its
 * requests must be signed whatever AuthnRequestsSigned says; and responses are signed with the
 * first key pair that can sign whether or not WantAssertionsSigned asks for it (SP libraries
 * refuse unsigned responses), with an algorithm that fits its key.
 */
void
cu_api_providers_saml_import(struct cu_ctx *cx)
{
	const struct cu_multipart_part *name_p, *file_p, *parts = NULL;
	const char *why = NULL, *name = NULL, *authz = NULL, *inval = NULL, *kp = NULL;
	struct cu_multipart_part *all = NULL;
	struct cu_saml_sp_metadata md;
	struct cu_api_provider_row r;
	struct json_object *eff, *mappings = NULL;
	struct cu_api_errors e;
	PGresult *res = NULL;
	size_t n = 0;
	enum cu_err err;
	int ok;

	if (cu_api_login(cx) != 0 || cu_api_require(cx, PERM_SAML("add"), NULL) != 0 ||
	    cu_api_require(cx, CRYPTO_APP ".add_certificatekeypair", NULL) != 0)
		return;
	if (cu_api_form_body(cx, &all, &n) != 0)
		return;
	parts = all;
	/* SAMLProviderImportSerializer, every field's error at once. */
	cu_api_errors_init(&e, cx);
	name_p = cu_multipart_field(parts, n, "name");
	if (name_p == NULL)
		cu_api_error(&e, "name", "This field is required.");
	else if (name_p->mp_filename != NULL || strlen(name_p->mp_data) != name_p->mp_len ||
	         !cu_utf8_valid(name_p->mp_data, name_p->mp_len))
		cu_api_error(&e, "name", "Not a valid string.");
	else if (name_p->mp_len == 0)
		cu_api_error(&e, "name", "This field may not be blank.");
	else if (name_p->mp_len > CU_API_PROVIDERS_MAX_NAME)
		cu_api_error(&e, "name",
		             cu_arena_printf(cx->cx_arena,
		                             "Ensure this field has no more than %d characters.",
		                             CU_API_PROVIDERS_MAX_NAME));
	else
		name = name_p->mp_data;
	if (import_flow(cx, &e, cu_multipart_field(parts, n, "authorization_flow"),
	                "authorization_flow", "authorization", &authz) < 0 ||
	    import_flow(cx, &e, cu_multipart_field(parts, n, "invalidation_flow"),
	                "invalidation_flow", "invalidation", &inval) < 0) {
		cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The database");
		return;
	}
	file_p = cu_multipart_field(parts, n, "file");
	if (file_p == NULL)
		cu_api_error(&e, "file", "No file was submitted.");
	else if (file_p->mp_filename == NULL)
		cu_api_error(&e, "file",
		             "The submitted data was not a file. Check the encoding type "
		             "on the form.");
	else if (file_p->mp_len == 0)
		cu_api_error(&e, "file", "The submitted file is empty.");
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return;
	}

	err = cu_saml_sp_metadata_parse(cx, file_p->mp_data, file_p->mp_len, &md, &why);
	if (err == CU_ERR_INVALID) {
		if (why != NULL && strcmp(why, "Invalid XML Syntax") == 0 &&
		    strstr(file_p->mp_data, "<!DOCTYPE") != NULL)
			why = "Invalid XML Syntax: a DOCTYPE (a DTD or entities) is not accepted.";
		else if (why != NULL && strcmp(why, "Invalid XML Syntax") != 0)
			why = cu_arena_printf(cx->cx_arena, "Failed to import Metadata: %s", why);
		import_refuse(cx, why != NULL ? why : "Invalid XML Syntax");
		return;
	}
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The metadata");
		return;
	}
	/* The endpoints send browsers to these: held to acs_url's own rules. */
	if (md.sm_acs_url == NULL ||
	    !cu_oauth2_redirect_uri_valid(md.sm_acs_url, strlen(md.sm_acs_url))) {
		import_refuse(cx,
		              "Failed to import Metadata: the AssertionConsumerService Location "
		              "is not an absolute http(s) URL.");
		return;
	}
	if (md.sm_sls_url != NULL && md.sm_sls_url[0] != '\0' &&
	    !cu_oauth2_redirect_uri_valid(md.sm_sls_url, strlen(md.sm_sls_url))) {
		import_refuse(cx,
		              "Failed to import Metadata: the SingleLogoutService Location is not "
		              "an absolute http(s) URL.");
		return;
	}
	if (strlen(md.sm_entity_id) > CU_API_SAML_MAX_TEXT) {
		import_refuse(cx, "Failed to import Metadata: the entityID is too long.");
		return;
	}

	if (cu_api_providers_begin(cx) != 0)
		return;
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_PROVIDERS_API_SAML_IMPORT_DEFAULTS,
	               0, NULL) != CU_OK) {
		cu_api_db_fail(cx, CU_ERR_UNAVAILABLE);
		return;
	}
	eff = saml_defaults(cx);
	cu_json_set_string(eff, "name", name);
	cu_json_set_string(eff, "authorization_flow", authz);
	cu_json_set_string(eff, "invalidation_flow", inval);
	cu_json_set_string(eff, "acs_url", md.sm_acs_url);
	cu_json_set_string(eff, "sp_binding", md.sm_acs_binding);
	cu_json_set_string(eff, "audience", md.sm_entity_id);
	if (md.sm_name_id_format != NULL)
		cu_json_set_string(eff, "default_name_id_policy", md.sm_name_id_format);
	if (md.sm_sls_url != NULL)
		cu_json_set_string(eff, "sls_url", md.sm_sls_url);
	if (md.sm_sls_binding != NULL)
		cu_json_set_string(eff, "sls_binding", md.sm_sls_binding);
	{
		const char *ids = cu_db_value(res, 0, 0), *signing = cu_db_value(res, 0, 1);

		/* The managed mappings' uuids come as a PostgreSQL array literal of plain uuids. */
		mappings = json_object_new_array();
		while (ids != NULL && *ids != '\0') {
			size_t k = strspn(ids, "{},");

			ids += k;
			k = strcspn(ids, "{},");
			if (k > 0)
				json_object_array_add(mappings,
				                      json_object_new_string_len(ids, (int)k));
			ids += k;
		}
		cu_json_set(eff, "property_mappings", mappings);
		if (signing != NULL) {
			const char *sp = strchr(signing, ' ');

			cu_json_set(eff, "signing_kp",
			            json_object_new_string_len(signing, (int)(sp - signing)));
			if (strcmp(sp + 1, "ec") == 0)
				cu_json_set_string(eff, "signature_algorithm", ECDSA_SHA256_URI);
		}
	}
	if (md.sm_signing_cert_pem != NULL) {
		if (import_cert(cx,
		                cu_arena_printf(cx->cx_arena,
		                                "Provider %s - SAML Signing Certificate", name),
		                md.sm_signing_cert_pem, &kp) != 0)
			return;
		cu_json_set_string(eff, "verification_kp", kp);
	}
	if (md.sm_encryption_cert_pem != NULL) {
		struct cu_certs_info info;

		if (cu_certs_inspect(md.sm_encryption_cert_pem, strlen(md.sm_encryption_cert_pem),
		                     &info) == 0 &&
		    strcmp(info.ci_key_type, "rsa") != 0) {
			cu_db_rollback(cx->cx_db);
			import_refuse(
			    cx, "Failed to import Metadata: the encryption certificate is not "
			        "an RSA certificate (assertions are encrypted with "
			        "RSA-OAEP).");
			return;
		}
		if (import_cert(cx,
		                cu_arena_printf(cx->cx_arena,
		                                "Provider %s - SAML Encryption Certificate", name),
		                md.sm_encryption_cert_pem, &kp) != 0)
			return;
		cu_json_set_string(eff, "encryption_kp", kp);
	}
	cu_log(CU_LOG_INFO, "saml_import", CU_LS("provider", name),
	       CU_LS("entity_id", md.sm_entity_id),
	       CU_LI("verification", md.sm_signing_cert_pem != NULL),
	       CU_LI("authn_requests_signed", md.sm_authn_requests_signed));
	ok = saml_store(cx, eff, NULL, NULL, &r) == 0;
	if (!ok || cu_api_commit(cx, CU_OK) != 0)
		return;
	cu_api_send_row(cx, 201, r.pr_res);
}

/* ---- preview_user --------------------------------------------------------------------------- */

/* A string under the user's attributes, or NULL. */
static const char *
user_attribute(const struct cu_oauth2_user *u, const char *key)
{
	struct json_object *attrs = NULL, *v = NULL;

	if (cu_json_get_object(u->ou_json, "attributes", &attrs) != 0 || attrs == NULL ||
	    !json_object_object_get_ex(attrs, key, &v) || v == NULL ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * authentik's AssertionProcessor.get_name_id for a request naming no NameIDPolicy: the
 * provider's default policy; the NameID mapping's value when it has one (the user's uid when
 * it gives nothing); else by format, the uid standing in where the user lacks the value.
 */
static const char *
preview_name_id(struct cu_ctx *cx, const struct cu_saml_provider *p, const struct cu_oauth2_user *u,
                const struct cu_saml_values *v)
{
	const char *policy = p->sp_default_name_id_policy, *uid, *s;
	unsigned char rnd[32];
	char *hex;

	uid = cu_saml_user_uid(cx, p, &u->ou_user);
	if (p->sp_name_id_mapping != NULL)
		return v->sv_name_id != NULL ? v->sv_name_id : uid;
	if (strcmp(policy, CU_SAML_NAMEID_EMAIL) == 0)
		return u->ou_user.us_email != NULL ? u->ou_user.us_email : "";
	if (strcmp(policy, CU_SAML_NAMEID_X509) == 0)
		return (s = user_attribute(u, "distinguishedName")) != NULL ? s : uid;
	if (strcmp(policy, CU_SAML_NAMEID_WINDOWS) == 0)
		return (s = user_attribute(u, "upn")) != NULL ? s : uid;
	if (strcmp(policy, CU_SAML_NAMEID_TRANSIENT) == 0) {
		/* A transient NameID is new for every session: this one is new for the preview. */
		cu_crypto_random(rnd, sizeof(rnd));
		hex = cu_arena_alloc(cx->cx_arena, 2 * sizeof(rnd) + 1);
		cu_hex_encode(hex, rnd, sizeof(rnd));
		return hex;
	}
	return uid;
}

/*
 * authentik's preview: {"preview": {"attributes": [{"Value": [...], "FriendlyName"?, "Name"}],
 * "nameID": ...}}, the Attributes in saml_name order, each mapping its own.
 */
void
cu_api_providers_saml_preview_user(struct cu_ctx *cx)
{
	const struct cu_saml_provider *p = NULL;
	struct json_object *attrs, *preview, *o;
	struct cu_oauth2_user *user = NULL;
	struct cu_api_provider_row r;
	struct cu_saml_values v;
	enum cu_err err;
	size_t i, j;

	if (cu_api_login(cx) != 0 || srow_find(cx, PERM_SAML("view"), &r) != 0 ||
	    cu_api_providers_preview_target(cx, &user) != 0 || core_provider(cx, &r, &p) != 0)
		return;
	err = cu_saml_evaluate(cx, p, user, &v);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The provider's mappings");
		return;
	}
	attrs = cu_json_array(cx->cx_arena);
	for (i = 0; i < v.sv_nattrs; i++) {
		const struct cu_saml_attr *a = &v.sv_attrs[i];
		struct json_object *item = json_object_new_object(),
		                   *vals = json_object_new_array();

		for (j = 0; j < a->sa_nvalues; j++)
			json_object_array_add(vals, json_object_new_string(a->sa_values[j]));
		json_object_object_add(item, "Value", vals);
		if (a->sa_friendly_name != NULL && a->sa_friendly_name[0] != '\0')
			cu_json_set_string(item, "FriendlyName", a->sa_friendly_name);
		cu_json_set_string(item, "Name", a->sa_name);
		json_object_array_add(attrs, item);
	}
	preview = cu_json_object(cx->cx_arena);
	cu_json_set(preview, "attributes", json_object_get(attrs));
	cu_json_set_string(preview, "nameID", preview_name_id(cx, p, user, &v));
	o = cu_json_object(cx->cx_arena);
	cu_json_set(o, "preview", json_object_get(preview));
	cu_ctx_json(cx, 200, o);
}
