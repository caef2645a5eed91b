/*
 * Single sign-on: /application/saml/<slug>/sso/binding/{redirect,post,init}/ (authentik's
 * SAMLSSOBindingRedirectView, SAMLSSOBindingPOSTView, SAMLSSOBindingInitView) and the stage
 * appended to the provider's authorization flow that answers the service provider (authentik's
 * SAMLFlowFinalView), with the Response and Assertion it builds (authentik's
 * AssertionProcessor).
 *
 * A request is checked completely before anything else happens, and every failure is an error
 * page, never a redirect: the signature when the provider has a verification certificate (the
 * Redirect binding's query signature, the POST binding's enveloped signature on the
 * AuthnRequest itself), the AssertionConsumerServiceURL (only the provider's own, exactly), the
 * NameID format, the IssueInstant against the clock (saml.clock_skew_seconds), the RelayState's
 * size, and the request ID against replays (saml_request_ids). The Response only ever goes to
 * the provider's ACS URL.
 *
 * Without a logged-in session the browser logs in first and comes back. authentik keeps the
 * POSTed request in the session for that; here the checked request travels in the URL the login
 * flow returns to, as a small token MACed with secret_key (custos_saml=), which is taken once
 * (its request ID, in saml_request_ids) when it is used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>
#include <libxml/tree.h>

#include "auth.h"
#include "bounds.h"
#include "crypto.h"
#include "db.h"
#include "events.h"
#include "flows.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "providers/oauth2.h"
#include "providers/oauth2_endpoints.h"
#include "providers/saml.h"
#include "providers/saml_endpoints.h"
#include "server.h"
#include "sessions.h"
#include "xmlsig.h"

#define XS(s) ((const xmlChar *)(s))
/* The plan context key holding the checked request, read by the fulfillment stage. */
#define SSO_CTX "custos_saml"
/* The query parameter carrying a checked request through the login. */
#define SSO_RESUME "custos_saml"
#define SSO_EVENT_APP "authentik.providers.saml.views.flows"
#define CM_BEARER "urn:oasis:names:tc:SAML:2.0:cm:bearer"
#define AC_UNSPECIFIED "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
#define AC_PASSWORD "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
#define AC_MFA "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"
#define AC_ONE_FACTOR "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileOneFactorContract"
#define NAMEFORMAT_URI "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
#define NAMEFORMAT_UNSPECIFIED "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"
#define NS_XS "http://www.w3.org/2001/XMLSchema"
#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define ERR_NOT_SIGNED "Verification Certificate configured, but request is not signed."
#define ERR_BAD_SIGNATURE "Failed to verify signature"

/* A checked request (or an IdP-initiated one): what the Response answers. */
struct pending {
	const char *pd_id;             /* NULL for IdP-initiated */
	const char *pd_relay_state;    /* NULL for none */
	const char *pd_name_id_policy; /* a known NameID format */
	time_t pd_take_until;          /* 0, or take pd_id against replays until then */
};

/* --- small helpers ------------------------------------------------------------------------- */

/* --- the resume token ---------------------------------------------------------------------- */

static void
resume_mac(struct cu_ctx *cx, const char *payload, char out[44])
{
	const char *key = cx->cx_cfg->secret_key != NULL ? cx->cx_cfg->secret_key : "";
	const char *msg = cu_arena_printf(cx->cx_arena, "custos/saml/resume\n%s", payload);
	uint8_t mac[CU_SHA256_LEN];

	cu_crypto_hmac_sha256(mac, key, strlen(key), msg, strlen(msg));
	cu_base64url_encode(out, mac, sizeof(mac));
}

static const char *
resume_token(struct cu_ctx *cx, const struct cu_saml_provider *p, const struct pending *pd)
{
	struct json_object *o = cu_json_object(cx->cx_arena);
	const char *text;
	char *b64, mac[44];
	size_t len = 0;

	cu_json_set_int(o, "p", p->sp_id);
	cu_json_set_string(o, "i", pd->pd_id);
	cu_json_set_string(o, "r", pd->pd_relay_state);
	cu_json_set_string(o, "n", pd->pd_name_id_policy);
	cu_json_set_int(o, "e", (int64_t)time(NULL) + CU_SAML_RESUME_AGE);
	text = cu_json_text(o, &len);
	b64 = cu_arena_alloc(cx->cx_arena, cu_base64url_enc_len(len) + 1);
	cu_base64url_encode(b64, text, len);
	resume_mac(cx, b64, mac);
	return cu_arena_printf(cx->cx_arena, "%s.%s", b64, mac);
}

/* The request a token made here holds: 0, or -1 (forged, altered, expired, another provider). */
static int
resume_read(struct cu_ctx *cx, const struct cu_saml_provider *p, const char *token,
            struct pending *pd)
{
	const char *dot = token != NULL ? strchr(token, '.') : NULL, *v;
	struct json_object *o = NULL;
	char *payload, *raw, mac[44];
	size_t n, rawlen = 0;
	int64_t pid = 0, exp = 0;

	memset(pd, 0, sizeof(*pd));
	if (dot == NULL || strlen(token) > CU_FLOWS_MAX_NEXT)
		return -1;
	payload = cu_arena_strndup(cx->cx_arena, token, (size_t)(dot - token));
	resume_mac(cx, payload, mac);
	if (!cu_crypto_ct_eq(dot + 1, strlen(dot + 1), mac, strlen(mac)))
		return -1;
	n = strlen(payload);
	raw = cu_arena_alloc(cx->cx_arena, n * 3 / 4 + 4);
	if (cu_base64url_decode(raw, &rawlen, payload, n) != 0 ||
	    cu_json_parse(cx->cx_arena, raw, rawlen, &o) != CU_OK || o == NULL ||
	    cu_json_get_int(o, "p", &pid) != 0 || cu_json_get_int(o, "e", &exp) != 0 ||
	    pid != p->sp_id || exp < (int64_t)time(NULL))
		return -1;
	pd->pd_id = cu_json_get_string(o, "i", &v) == 0 ? v : NULL;
	pd->pd_relay_state = cu_json_get_string(o, "r", &v) == 0 ? v : NULL;
	pd->pd_name_id_policy = cu_json_get_string(o, "n", &v) == 0 ? v : NULL;
	if (pd->pd_id == NULL || !cu_saml_name_id_format_known(pd->pd_name_id_policy))
		return -1;
	return 0;
}

/* --- after the request is checked --------------------------------------------------------- */

/* Takes request ID id of p until expires: 1, or 0/-1 with the page sent (a replay, or
 * PostgreSQL unavailable). A resume token's ID is "resume:" and the request's. */
static int
take(struct cu_ctx *cx, const struct cu_saml_provider *p, const char *id, time_t expires)
{
	int r = cu_saml_request_take(cx, p, id, expires);

	if (r < 0) {
		cu_saml_unavailable(cx);
		return -1;
	}
	if (r == 0) {
		cu_log(CU_LOG_WARNING, "saml_request_replayed", CU_LI("provider", p->sp_id),
		       CU_LB("resumed", strncmp(id, "resume:", 7) == 0));
		cu_saml_bad_request(cx, strncmp(id, "resume:", 7) == 0
		                            ? "This SAML request has already been answered."
		                            : "This SAML request has already been used.");
	}
	return r;
}

/* Sends the browser to log in and come back with the request (resume, or a token made now). */
static void
to_login(struct cu_ctx *cx, const struct cu_saml_provider *p, const struct pending *pd,
         const char *resume)
{
	const char *path, *next, *enc, *url = NULL;
	struct json_object *ctx;
	int allowed;
	enum cu_err err;

	path = cu_arena_printf(cx->cx_arena, "/application/saml/%s/sso/binding/",
	                       cu_oauth2_query_escape(cx->cx_arena, p->sp_app_slug));
	if (pd->pd_id == NULL)
		next = cu_arena_printf(cx->cx_arena, "%sinit/", path);
	else
		next = cu_arena_printf(cx->cx_arena, "%sredirect/?" SSO_RESUME "=%s", path,
		                       resume != NULL ? resume : resume_token(cx, p, pd));
	allowed = strlen(next) <= CU_FLOWS_MAX_NEXT ? cu_flow_next_allowed(cx, next) : 0;
	if (allowed < 0) {
		cu_saml_unavailable(cx);
		return;
	}
	if (allowed == 0) {
		cu_saml_bad_request(cx, "The request is too long to be kept through the login.");
		return;
	}
	enc = cu_oauth2_query_escape(cx->cx_arena, next);
	/* authentik's PolicyAccessView: the provider's authentication flow, else the brand's. */
	if (p->sp_authentication_flow != NULL) {
		ctx = cu_json_object(cx->cx_arena);
		if (p->sp_app_uuid != NULL)
			cu_json_set_string(ctx, "application", p->sp_app_uuid);
		err = cu_flow_seed(cx, p->sp_authentication_flow, ctx, NULL,
		                   cu_arena_printf(cx->cx_arena, "next=%s", enc), &url);
		if (err == CU_OK) {
			cu_saml_redirect(cx, url);
			return;
		}
		if (err != CU_ERR_NOT_FOUND) {
			cu_saml_unavailable(cx);
			return;
		}
	}
	cu_saml_redirect(
	    cx, cu_arena_printf(cx->cx_arena, "/flows/-/default/authentication/?next=%s", enc));
}

/* The checked request as the fulfillment stage reads it. */
static struct json_object *
pending_object(const struct cu_saml_provider *p, const struct pending *pd, long long user)
{
	struct json_object *o = json_object_new_object();

	cu_json_set_int(o, "provider", p->sp_id);
	cu_json_set_string(o, "request_id", pd->pd_id);
	cu_json_set_string(o, "relay_state", pd->pd_relay_state);
	cu_json_set_string(o, "name_id_policy", pd->pd_name_id_policy);
	cu_json_set_int(o, "user", user);
	return o;
}

/*
 * The request is good: the session's user (else the login), the application's policies, then
 * the provider's authorization flow with the fulfillment stage after it. resume is the token the
 * request came back with from a login, NULL otherwise.
 */
static void
sso_continue(struct cu_ctx *cx, const struct cu_saml_provider *p, const struct pending *pd,
             const char *resume)
{
	struct json_object *ctx, *append, *st, *messages = NULL;
	struct cu_saml_login lg;
	const char *url = NULL;
	int have, access;
	enum cu_err err;

	if (p->sp_app_uuid == NULL) {
		cu_saml_access_denied_page(cx, NULL);
		return;
	}
	have = cu_saml_login_of(cx, cu_sessions_cookie_sid(cx), &lg);
	if (have < 0) {
		cu_saml_unavailable(cx);
		return;
	}
	if (!have) {
		if (pd->pd_take_until != 0 && take(cx, p, pd->pd_id, pd->pd_take_until) != 1)
			return;
		to_login(cx, p, pd, resume);
		return;
	}
	access = cu_saml_app_access(cx, p, &lg.sl_user->ou_user, &messages);
	if (access < 0) {
		cu_saml_unavailable(cx);
		return;
	}
	if (access == 0) {
		cu_saml_access_denied_page(cx, messages);
		return;
	}
	/* The request's ID (or its resume token) is taken in the transaction that seeds the
	 * flow: one commit for both, and nothing taken when the seed fails. */
	if (cu_db_begin(cx->cx_db) != CU_OK) {
		cu_saml_unavailable(cx);
		return;
	}
	if ((pd->pd_take_until != 0 && take(cx, p, pd->pd_id, pd->pd_take_until) != 1) ||
	    (resume != NULL && take(cx, p, cu_arena_printf(cx->cx_arena, "resume:%s", pd->pd_id),
	                            time(NULL) + CU_SAML_RESUME_AGE) != 1)) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	ctx = cu_json_object(cx->cx_arena);
	cu_json_set_string(ctx, "application", p->sp_app_uuid);
	cu_json_set_string(ctx, "application_name", p->sp_app_name);
	cu_json_set_bool(ctx, "is_sso", 1);
	cu_json_set_string(ctx, "consent_header",
	                   cu_arena_printf(cx->cx_arena, "You're about to sign into %s.",
	                                   p->sp_app_name != NULL ? p->sp_app_name : ""));
	cu_json_set(ctx, "consent_permissions", json_object_new_array());
	cu_json_set(ctx, SSO_CTX, pending_object(p, pd, lg.sl_user->ou_user.us_id));
	append = cu_json_array(cx->cx_arena);
	st = json_object_new_object();
	cu_json_set_string(st, "name", "saml");
	cu_json_set_string(st, "type", cu_stage_saml_fulfillment.st_type);
	cu_json_set(st, "config", json_object_new_object());
	json_object_array_add(append, st);
	err = cu_flow_seed(cx, p->sp_authorization_flow, ctx, append, "", &url);
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err != CU_OK)
		cu_db_rollback(cx->cx_db);
	if (err == CU_ERR_NOT_FOUND) {
		cu_saml_error_page(cx, 400, "Configuration Error",
		                   "The application's authorization flow does not exist.");
		return;
	}
	if (err != CU_OK) {
		cu_saml_unavailable(cx);
		return;
	}
	cu_log(CU_LOG_INFO, "saml_sso_flow", CU_LI("provider", p->sp_id),
	       CU_LB("idp_initiated", pd->pd_id == NULL), CU_LI("user", lg.sl_user->ou_user.us_id));
	cu_saml_redirect(cx, url);
}

/*
 * The checks after parsing (and after the signature, which the binding checked): ACS URL, NameID
 * format, IssueInstant, RelayState, replay. 0 with *pd filled, or -1 with the page sent.
 */
static int
check_request(struct cu_ctx *cx, const struct cu_saml_provider *p, const struct cu_saml_request *rq,
              const char *relay_state, struct pending *pd)
{
	long long skew = cx->cx_cfg->saml_clock_skew;
	time_t now = time(NULL);

	memset(pd, 0, sizeof(*pd));
	/* authentik: the request's ACS URL must be the provider's (absent: the provider's). */
	if (rq->sr_acs_url != NULL && strcmp(rq->sr_acs_url, p->sp_acs_url) != 0) {
		cu_log(CU_LOG_WARNING, "saml_acs_refused", CU_LI("provider", p->sp_id));
		cu_saml_bad_request(
		    cx, cu_arena_printf(cx->cx_arena,
		                        "ACS URL of %s doesn't match Provider ACS URL of %s.",
		                        rq->sr_acs_url, p->sp_acs_url));
		return -1;
	}
	if (!cu_saml_name_id_format_known(rq->sr_name_id_policy)) {
		cu_saml_bad_request(cx, "The requested NameID format is not supported.");
		return -1;
	}
	if (!cu_saml_instant_ok(rq->sr_issue_instant, now, skew)) {
		cu_saml_bad_request(
		    cx, "The SAML request has expired or is not valid yet (IssueInstant).");
		return -1;
	}
	if (relay_state != NULL && (strlen(relay_state) > CU_SAML_MAX_RELAY_STATE ||
	                            !cu_utf8_valid(relay_state, strlen(relay_state)))) {
		cu_saml_bad_request(cx, "The RelayState is too long or not valid.");
		return -1;
	}
	if (rq->sr_issuer != NULL && p->sp_audience[0] != '\0' &&
	    strcmp(rq->sr_issuer, p->sp_audience) != 0)
		cu_log(CU_LOG_INFO, "saml_issuer_not_audience", CU_LI("provider", p->sp_id));
	/* Kept until no clock within the skew could accept it again. */
	pd->pd_take_until = rq->sr_issue_instant + CU_SAML_REQUEST_LIFETIME + 2 * skew + 1;
	pd->pd_id = rq->sr_id;
	pd->pd_relay_state = relay_state;
	pd->pd_name_id_policy = rq->sr_name_id_policy;
	return 0;
}

/* A resume token in the query: the request checked before the login. */
static void
resume(struct cu_ctx *cx, const struct cu_saml_provider *p, const char *token)
{
	struct pending pd;

	if (resume_read(cx, p, token, &pd) != 0) {
		cu_log_msg(CU_LOG_WARNING, "saml_resume_refused", "token not valid");
		cu_saml_bad_request(cx,
		                    "The SAML request could not be resumed; start again from the "
		                    "application.");
		return;
	}
	sso_continue(cx, p, &pd, token);
}

void
cu_saml_sso_redirect(struct cu_ctx *cx)
{
	const struct cu_saml_provider *p = NULL;
	const struct cu_xmlsig_key *vk = NULL;
	struct cu_xmlsig_redirect rd;
	struct cu_saml_request rq;
	struct pending pd;
	const char *q = cx->cx_req->rq_query, *why = NULL, *token;
	int bad = 0;
	enum cu_err err;

	if (cu_saml_route_provider(cx, &p) != 0)
		return;
	token = cu_http_kv_one(cx->cx_req->rq_args, cx->cx_req->rq_nargs, SSO_RESUME, &bad);
	if (token != NULL && !bad &&
	    cu_http_kv_one(cx->cx_req->rq_args, cx->cx_req->rq_nargs, "SAMLRequest", &bad) ==
	        NULL) {
		resume(cx, p, token);
		return;
	}
	if (cu_http_kv_one(cx->cx_req->rq_args, cx->cx_req->rq_nargs, "SAMLRequest", &bad) ==
	    NULL) {
		cu_saml_bad_request(cx, "The SAML request payload is missing.");
		return;
	}
	err = cu_xmlsig_redirect_parse(&rd, cx->cx_arena, q, strlen(q));
	if (err != CU_OK || strcmp(rd.rd_param, "SAMLRequest") != 0) {
		cu_saml_parse_failed(cx, err == CU_OK ? CU_ERR_INVALID : err,
		                     err == CU_ERR_TOO_LARGE ? "The SAML request is too large."
		                                             : "Cannot decode SAML request.");
		return;
	}
	if ((err = cu_saml_verification_key(cx, p, &vk)) != CU_OK) {
		cu_saml_unavailable(cx);
		return;
	}
	if (vk != NULL) {
		if (!rd.rd_signed) {
			cu_saml_bad_request(cx, ERR_NOT_SIGNED);
			return;
		}
		why = rd.rd_sig_alg == CU_XMLSIG_RSA_SHA1 && !cu_saml_sha1_allowed(p)
		          ? "SHA-1 not accepted for this provider"
		          : NULL;
		if (why != NULL || cu_xmlsig_redirect_verify(&why, &rd, vk) != 0) {
			cu_log(CU_LOG_WARNING, "saml_signature_refused", CU_LS("reason", why),
			       CU_LI("provider", p->sp_id));
			cu_saml_bad_request(cx, ERR_BAD_SIGNATURE);
			return;
		}
	}
	err = cu_saml_request_parse(&rq, cx->cx_arena, CU_SAML_AUTHN_REQUEST, rd.rd_xml,
	                            rd.rd_xml_len, &why);
	if (err != CU_OK) {
		cu_saml_parse_failed(cx, err, why);
		return;
	}
	if (check_request(cx, p, &rq, rd.rd_relay_state, &pd) != 0)
		return;
	sso_continue(cx, p, &pd, NULL);
}

void
cu_saml_sso_post(struct cu_ctx *cx)
{
	const struct cu_saml_provider *p = NULL;
	const struct cu_xmlsig_key *vk = NULL;
	struct cu_saml_request rq;
	struct pending pd;
	struct cu_kv *kv = NULL;
	const char *b64, *relay, *why = NULL, *token;
	char *xml = NULL;
	size_t n = 0, xlen = 0;
	int bad = 0;
	enum cu_err err;

	if (cu_saml_route_provider(cx, &p) != 0)
		return;
	if (cx->cx_req->rq_method != CU_HTTP_POST) {
		/* authentik answers GET here too: after a login, the request comes back this way.
		 */
		token = cu_http_kv_one(cx->cx_req->rq_args, cx->cx_req->rq_nargs, SSO_RESUME, &bad);
		if (token != NULL && !bad) {
			resume(cx, p, token);
			return;
		}
		cu_saml_bad_request(cx, "The SAML request payload is missing.");
		return;
	}
	if (cu_http_parse_form(cx->cx_req, cx->cx_arena, &kv, &n) != CU_OK) {
		cu_saml_bad_request(cx, "The request body could not be read.");
		return;
	}
	b64 = cu_http_kv_one(kv, n, "SAMLRequest", &bad);
	relay = cu_http_kv_one(kv, n, "RelayState", &bad);
	if (b64 == NULL) {
		cu_saml_bad_request(cx, "The SAML request payload is missing.");
		return;
	}
	if (bad) {
		cu_saml_bad_request(cx, "A SAML parameter is repeated.");
		return;
	}
	err = cu_xmlsig_base64_decode(&xml, &xlen, cx->cx_arena, b64, strlen(b64),
	                              CU_SAML_MAX_MESSAGE);
	if (err != CU_OK) {
		cu_saml_parse_failed(cx, err,
		                     err == CU_ERR_TOO_LARGE ? "The SAML request is too large."
		                                             : "Cannot decode SAML request.");
		return;
	}
	err = cu_saml_request_parse(&rq, cx->cx_arena, CU_SAML_AUTHN_REQUEST, xml, xlen, &why);
	if (err != CU_OK) {
		cu_saml_parse_failed(cx, err, why);
		return;
	}
	if ((err = cu_saml_verification_key(cx, p, &vk)) != CU_OK) {
		cu_saml_unavailable(cx);
		return;
	}
	if (vk != NULL) {
		if (cu_xmlsig_signature(rq.sr_root) == NULL) {
			cu_saml_bad_request(cx, ERR_NOT_SIGNED);
			return;
		}
		/* Bound to the root: everything read below was read from the signed element. */
		why = cu_xmlsig_uses_sha1(rq.sr_root) && !cu_saml_sha1_allowed(p)
		          ? "SHA-1 not accepted for this provider"
		          : NULL;
		if (why != NULL || cu_xmlsig_verify(&why, rq.sr_doc, rq.sr_root, "ID", vk) != 0) {
			cu_log(CU_LOG_WARNING, "saml_signature_refused", CU_LS("reason", why),
			       CU_LI("provider", p->sp_id));
			cu_saml_bad_request(cx, ERR_BAD_SIGNATURE);
			return;
		}
	}
	if (check_request(cx, p, &rq, relay, &pd) != 0)
		return;
	sso_continue(cx, p, &pd, NULL);
}

void
cu_saml_sso_init(struct cu_ctx *cx)
{
	const struct cu_saml_provider *p = NULL;
	struct pending pd;

	if (cu_saml_route_provider(cx, &p) != 0)
		return;
	/* authentik's idp_initiated(): no request, the provider's defaults. */
	memset(&pd, 0, sizeof(pd));
	pd.pd_relay_state =
	    p->sp_default_relay_state != NULL && p->sp_default_relay_state[0] != '\0'
	        ? p->sp_default_relay_state
	        : NULL;
	pd.pd_name_id_policy = cu_saml_name_id_format_known(p->sp_default_name_id_policy)
	                           ? p->sp_default_name_id_policy
	                           : CU_SAML_NAMEID_UNSPECIFIED;
	sso_continue(cx, p, &pd, NULL);
}

/* --- the Response -------------------------------------------------------------------------- */

/* What the fulfillment stage answers, as the plan holds it. */
struct fulfil {
	int fu_provider;
	const char *fu_request_id;
	const char *fu_relay_state;
	const char *fu_name_id_policy;
	long long fu_user;
};

/* The built Response and what the SAML session records. */
struct built {
	char *bu_xml;
	size_t bu_len;
	const char *bu_name_id;
	const char *bu_name_id_format;
	char bu_session_index[65];
	time_t bu_session_expires;
};

static void
free_doc(void *d)
{
	xmlFreeDoc(d);
}

static xmlNode *
add(xmlNode *parent, xmlNs *ns, const char *name)
{
	return xmlNewChild(parent, ns, XS(name), NULL);
}

/* A child with text (xmlNewTextChild escapes it). */
static xmlNode *
add_text(xmlNode *parent, xmlNs *ns, const char *name, const char *text)
{
	return xmlNewTextChild(parent, ns, XS(name), XS(text));
}

static void
set(xmlNode *n, const char *name, const char *value)
{
	xmlNewProp(n, XS(name), XS(value));
}

static void
set_time(xmlNode *n, const char *name, time_t t)
{
	char buf[32];

	cu_saml_time_format(buf, t);
	set(n, name, buf);
}

static const char *
user_attribute(struct cu_saml_login *lg, const char *name)
{
	struct json_object *attrs = NULL;
	const char *v = NULL;

	if (cu_json_get_object(lg->sl_user->ou_json, "attributes", &attrs) == 0 &&
	    cu_json_get_string(attrs, name, &v) == 0 && v[0] != '\0')
		return v;
	return NULL;
}

/* authentik's get_name_id: *value and *format, or -1 for a format it cannot answer. */
static int
name_id(struct cu_ctx *cx, const struct cu_saml_provider *p, const struct fulfil *f,
        struct cu_saml_login *lg, const struct cu_saml_values *v, const char **value,
        const char **format)
{
	const char *fmt = f->fu_name_id_policy, *persistent, *s;

	if (strcmp(fmt, CU_SAML_NAMEID_UNSPECIFIED) == 0 &&
	    cu_saml_name_id_format_known(p->sp_default_name_id_policy))
		fmt = p->sp_default_name_id_policy;
	*format = fmt;
	persistent = cu_saml_user_uid(cx, p, &lg->sl_user->ou_user);
	*value = persistent;
	/* A NameID mapping decides whatever the SP asked for. */
	if (p->sp_name_id_mapping != NULL) {
		if (v->sv_name_id != NULL)
			*value = v->sv_name_id;
		return 0;
	}
	if (strcmp(fmt, CU_SAML_NAMEID_EMAIL) == 0) {
		*value = cu_saml_xml_text(cx->cx_arena, lg->sl_user->ou_user.us_email != NULL
		                                            ? lg->sl_user->ou_user.us_email
		                                            : "");
		return 0;
	}
	if (strcmp(fmt, CU_SAML_NAMEID_PERSISTENT) == 0 ||
	    strcmp(fmt, CU_SAML_NAMEID_UNSPECIFIED) == 0)
		return 0;
	if (strcmp(fmt, CU_SAML_NAMEID_X509) == 0 || strcmp(fmt, CU_SAML_NAMEID_WINDOWS) == 0) {
		s = user_attribute(lg, strcmp(fmt, CU_SAML_NAMEID_X509) == 0 ? "distinguishedName"
		                                                             : "upn");
		if (s != NULL)
			*value = cu_saml_xml_text(cx->cx_arena, s);
		return 0;
	}
	if (strcmp(fmt, CU_SAML_NAMEID_TRANSIENT) == 0) {
		char *h = cu_arena_alloc(cx->cx_arena, 65);

		/* authentik: the hash of the session key, which changes with every login. */
		cu_oauth2_digest(h, lg->sl_key, strlen(lg->sl_key));
		*value = h;
		return 0;
	}
	return -1;
}

/* authentik's AuthnContextClassRef: from the login's method, unless a mapping says. */
static const char *
authn_class(const struct cu_saml_provider *p, const struct cu_saml_login *lg,
            const struct cu_saml_values *v)
{
	const char *m = lg->sl_auth_method != NULL ? lg->sl_auth_method : "";
	const char *c = AC_UNSPECIFIED;

	if (strcmp(m, "password") == 0)
		c = AC_PASSWORD;
	if (lg->sl_mfa)
		c = AC_MFA;
	if (strcmp(m, "auth_mfa") == 0 || strcmp(m, "auth_webauthn_pwl") == 0)
		c = AC_ONE_FACTOR;
	if (p->sp_authn_context_class_ref_mapping != NULL && v->sv_authn_class != NULL)
		c = v->sv_authn_class;
	return c;
}

/*
 * authentik's AssertionProcessor.build_response: the Response with one Assertion, the assertion
 * signed first (when sign_assertion), then encrypted (when encryption_kp), then the Response
 * signed over the result (when sign_response and the POST binding carries it; the Redirect
 * binding signs the query instead).
 */
static enum cu_err
build_response(struct cu_ctx *cx, const struct cu_saml_provider *p, const struct fulfil *f,
               struct cu_saml_login *lg, struct built *out)
{
	const struct cu_xmlsig_key *sk = NULL, *ek = NULL;
	struct cu_saml_values v;
	char rid[42], aid[42];
	time_t now = time(NULL);
	xmlDoc *doc;
	xmlNode *resp, *st, *as, *n, *sc, *cond, *ar, *an, *ac, *ats;
	xmlNs *samlp, *saml, *xsi;
	const char *issuer = cu_saml_xml_text(cx->cx_arena, p->sp_issuer);
	const char *acs = cu_saml_xml_text(cx->cx_arena, p->sp_acs_url);
	int post = strcmp(p->sp_binding, "post") == 0;
	size_t i, j;
	enum cu_err err;

	memset(out, 0, sizeof(*out));
	if ((err = cu_saml_signing_key(cx, p, &sk)) != CU_OK ||
	    (err = cu_saml_encryption_key(cx, p, &ek)) != CU_OK)
		return err;
	if ((err = cu_saml_evaluate(cx, p, lg->sl_user, &v)) != CU_OK)
		return err;
	if (name_id(cx, p, f, lg, &v, &out->bu_name_id, &out->bu_name_id_format) != 0) {
		cu_log(CU_LOG_WARNING, "saml_name_id_unsupported", CU_LI("provider", p->sp_id));
		return CU_ERR_INVALID;
	}
	cu_oauth2_digest(out->bu_session_index, lg->sl_key, strlen(lg->sl_key));
	out->bu_session_expires = now + p->sp_session_not_on_or_after;
	cu_saml_new_id(rid);
	cu_saml_new_id(aid);

	doc = xmlNewDoc(XS("1.0"));
	if (doc == NULL)
		return CU_ERR_INTERNAL;
	cu_arena_defer(cx->cx_arena, free_doc, doc);
	resp = xmlNewNode(NULL, XS("Response"));
	samlp = xmlNewNs(resp, XS(CU_SAML_NS_PROTOCOL), XS("samlp"));
	saml = xmlNewNs(resp, XS(CU_SAML_NS_ASSERTION), XS("saml"));
	xmlSetNs(resp, samlp);
	xmlDocSetRootElement(doc, resp);
	set(resp, "ID", rid);
	set(resp, "Version", "2.0");
	set_time(resp, "IssueInstant", now);
	set(resp, "Destination", acs);
	if (f->fu_request_id != NULL)
		set(resp, "InResponseTo", f->fu_request_id);
	add_text(resp, saml, "Issuer", issuer);
	st = add(resp, samlp, "Status");
	set(add(st, samlp, "StatusCode"), "Value", CU_SAML_STATUS_SUCCESS);

	as = add(resp, saml, "Assertion");
	xmlNewNs(as, XS(NS_XS), XS("xs"));
	xsi = xmlNewNs(as, XS(NS_XSI), XS("xsi"));
	set(as, "ID", aid);
	set(as, "Version", "2.0");
	set_time(as, "IssueInstant", now);
	add_text(as, saml, "Issuer", issuer);
	n = add(as, saml, "Subject");
	set(add_text(n, saml, "NameID", out->bu_name_id), "Format", out->bu_name_id_format);
	sc = add(n, saml, "SubjectConfirmation");
	set(sc, "Method", CM_BEARER);
	sc = add(sc, saml, "SubjectConfirmationData");
	if (f->fu_request_id != NULL)
		set(sc, "InResponseTo", f->fu_request_id);
	set_time(sc, "NotOnOrAfter", now + p->sp_not_on_or_after);
	set(sc, "Recipient", acs);
	cond = add(as, saml, "Conditions");
	set_time(cond, "NotBefore", now + p->sp_not_before);
	set_time(cond, "NotOnOrAfter", now + p->sp_not_on_or_after);
	if (p->sp_audience[0] != '\0') {
		ar = add(cond, saml, "AudienceRestriction");
		add_text(ar, saml, "Audience", cu_saml_xml_text(cx->cx_arena, p->sp_audience));
	}
	an = add(as, saml, "AuthnStatement");
	set_time(an, "AuthnInstant", lg->sl_login);
	set(an, "SessionIndex", out->bu_session_index);
	set_time(an, "SessionNotOnOrAfter", out->bu_session_expires);
	ac = add(an, saml, "AuthnContext");
	add_text(ac, saml, "AuthnContextClassRef", authn_class(p, lg, &v));
	/* The schema wants at least one Attribute in an AttributeStatement. */
	if (v.sv_nattrs > 0) {
		ats = add(as, saml, "AttributeStatement");
		for (i = 0; i < v.sv_nattrs; i++) {
			const struct cu_saml_attr *a = &v.sv_attrs[i];
			xmlNode *at = add(ats, saml, "Attribute");

			set(at, "Name", a->sa_name);
			set(at, "NameFormat",
			    strchr(a->sa_name, ':') != NULL ? NAMEFORMAT_URI
			                                    : NAMEFORMAT_UNSPECIFIED);
			if (a->sa_friendly_name != NULL && a->sa_friendly_name[0] != '\0')
				set(at, "FriendlyName", a->sa_friendly_name);
			for (j = 0; j < a->sa_nvalues; j++)
				xmlSetNsProp(add_text(at, saml, "AttributeValue", a->sa_values[j]),
				             xsi, XS("type"), XS("xs:string"));
		}
	}
	if (sk != NULL && p->sp_sign_assertion &&
	    cu_xmlsig_sign(doc, as, "ID", sk, p->sp_signature, p->sp_digest) != 0) {
		cu_log(CU_LOG_ERROR, "saml_sign_failed", CU_LS("what", "assertion"),
		       CU_LI("provider", p->sp_id));
		return CU_ERR_INTERNAL;
	}
	if (ek != NULL) {
		xmlNode *enc = NULL, *ea;

		if (cu_xmlsig_encrypt(&enc, doc, as, ek, CU_XMLSIG_AES256_GCM) != 0) {
			cu_log(CU_LOG_ERROR, "saml_encrypt_failed", CU_LI("provider", p->sp_id));
			return CU_ERR_INTERNAL;
		}
		ea = xmlNewNode(saml, XS("EncryptedAssertion"));
		xmlReplaceNode(enc, ea);
		xmlAddChild(ea, enc);
	}
	if (sk != NULL && p->sp_sign_response && post &&
	    cu_xmlsig_sign(doc, resp, "ID", sk, p->sp_signature, p->sp_digest) != 0) {
		cu_log(CU_LOG_ERROR, "saml_sign_failed", CU_LS("what", "response"),
		       CU_LI("provider", p->sp_id));
		return CU_ERR_INTERNAL;
	}
	if (cu_xmlsig_serialize(&out->bu_xml, &out->bu_len, cx->cx_arena, doc) != 0)
		return CU_ERR_INTERNAL;
	return CU_OK;
}

/* --- the fulfillment stage ----------------------------------------------------------------- */

static int
fulfil_read(struct json_object *o, struct fulfil *f)
{
	const char *v;
	int64_t pid = 0, uid = 0;

	memset(f, 0, sizeof(*f));
	if (cu_json_get_int(o, "provider", &pid) != 0 || cu_json_get_int(o, "user", &uid) != 0 ||
	    cu_json_get_string(o, "name_id_policy", &f->fu_name_id_policy) != 0 ||
	    !cu_saml_name_id_format_known(f->fu_name_id_policy))
		return -1;
	f->fu_provider = (int)pid;
	f->fu_user = (long long)uid;
	f->fu_request_id = cu_json_get_string(o, "request_id", &v) == 0 ? v : NULL;
	f->fu_relay_state = cu_json_get_string(o, "relay_state", &v) == 0 ? v : NULL;
	return 0;
}

/* A uuid as authentik's model_to_dict writes a pk: without dashes. */
static const char *
hex_uuid(struct cu_ctx *cx, const char *uuid)
{
	char *out = cu_arena_alloc(cx->cx_arena, strlen(uuid) + 1);
	size_t i, o = 0;

	for (i = 0; uuid[i] != '\0'; i++)
		if (uuid[i] != '-')
			out[o++] = uuid[i];
	out[o] = '\0';
	return out;
}

/* authentik's authorize_application event. */
static enum cu_err
fulfil_event(struct cu_flow_exec *fx, const struct cu_saml_provider *p, struct cu_user *user)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct cu_user *saved = cx->cx_user;
	struct json_object *ev = cu_json_object(cx->cx_arena), *app = json_object_new_object();
	enum cu_err err;

	cu_json_set_string(app, "app", "authentik_core");
	cu_json_set_string(app, "model_name", "application");
	cu_json_set_string(app, "pk", hex_uuid(cx, p->sp_app_uuid));
	cu_json_set_string(app, "name", p->sp_app_name);
	cu_json_set(ev, "authorized_application", app);
	cu_json_set_string(ev, "flow", hex_uuid(cx, fx->fx_flow->fl_uuid));
	cx->cx_user = user;
	err = cu_events_write(cx, "authorize_application", SSO_EVENT_APP, ev);
	cx->cx_user = saved;
	return err;
}

static enum cu_err
session_save(struct cu_ctx *cx, const struct cu_saml_provider *p, const struct cu_saml_login *lg,
             const struct built *b)
{
	const char *params[7];

	params[0] = cu_arena_printf(cx->cx_arena, "%d", p->sp_id);
	params[1] = lg->sl_user->ou_user.us_id_text;
	params[2] = lg->sl_uuid;
	params[3] = b->bu_session_index;
	params[4] = b->bu_name_id;
	params[5] = b->bu_name_id_format;
	params[6] = cu_arena_printf(cx->cx_arena, "%lld", (long long)b->bu_session_expires);
	return cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_SAML_SESSION_SAVE, 7, params);
}

/* Sends the Response to the ACS URL: the auto-submitting form (POST binding) or a redirect
 * with the deflated Response in the query, signed there when the provider signs. */
static enum cu_stage_result
fulfil_answer(struct cu_flow_exec *fx, const struct cu_saml_provider *p, const struct fulfil *f,
              const struct built *b)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct json_object *ch, *attrs;
	const struct cu_xmlsig_key *sk = NULL;
	char *b64, *q = NULL;

	if (strcmp(p->sp_binding, "post") == 0) {
		b64 = cu_arena_alloc(cx->cx_arena, cu_base64_enc_len(b->bu_len) + 1);
		cu_base64_encode(b64, b->bu_xml, b->bu_len);
		ch = cu_flow_challenge(fx, "ak-stage-autosubmit");
		cu_json_set_string(ch, "url", p->sp_acs_url);
		attrs = json_object_new_object();
		cu_json_set_string(attrs, "SAMLResponse", b64);
		if (f->fu_relay_state != NULL)
			cu_json_set_string(attrs, "RelayState", f->fu_relay_state);
		cu_json_set(ch, "attrs", attrs);
		cu_json_set_string(ch, "title",
		                   cu_arena_printf(cx->cx_arena, "Redirecting to %s...",
		                                   p->sp_app_name != NULL ? p->sp_app_name : ""));
		return CU_STAGE_CHALLENGE;
	}
	if (cu_saml_signing_key(cx, p, &sk) != CU_OK)
		return CU_STAGE_FAIL;
	if (cu_xmlsig_redirect_encode(&q, cx->cx_arena, "SAMLResponse", b->bu_xml, b->bu_len,
	                              f->fu_relay_state, sk, p->sp_signature) != 0)
		return cu_flow_deny(fx, "The SAML response could not be encoded.");
	/* The executor ends the plan with xak-flow-redirect to the context's redirect. */
	cu_flow_ctx_set_string(fx, "redirect",
	                       cu_arena_printf(cx->cx_arena, "%s%c%s", p->sp_acs_url,
	                                       strchr(p->sp_acs_url, '?') != NULL ? '&' : '?', q));
	return CU_STAGE_NEXT;
}

static enum cu_stage_result
fulfillment_run(struct cu_flow_exec *fx)
{
	struct cu_ctx *cx = fx->fx_cx;
	const struct cu_saml_provider *p = NULL;
	struct json_object *params = cu_flow_ctx_get(fx, SSO_CTX);
	const char *app_uuid = cu_flow_ctx_string(fx, "application");
	struct cu_saml_login lg;
	struct fulfil f;
	struct built b;
	int have;
	enum cu_err err;

	if (params == NULL || !json_object_is_type(params, json_type_object)) {
		cu_log_msg(CU_LOG_WARNING, "saml_fulfillment_no_request", "nothing pending");
		return cu_flow_deny(fx, "There is no SAML request to complete.");
	}
	/* One Response per request: a second visit finds nothing pending. */
	cu_json_adopt(cx->cx_arena, json_object_get(params));
	cu_flow_ctx_del(fx, SSO_CTX);
	if (fulfil_read(params, &f) != 0)
		return cu_flow_deny(fx, "The SAML request could not be read.");
	/* Everything the request was checked against is read again, afresh. */
	err = cu_saml_provider_by_id(cx, f.fu_provider, &p);
	if (err == CU_ERR_NOT_FOUND)
		return cu_flow_deny(fx, "The SAML provider no longer exists.");
	if (err != CU_OK)
		return CU_STAGE_FAIL;
	if (p->sp_app_uuid == NULL || app_uuid == NULL || strcmp(p->sp_app_uuid, app_uuid) != 0)
		return cu_flow_deny(fx, "The application of this provider has changed.");
	if (fx->fx_session_user == NULL || fx->fx_session_user->us_id != f.fu_user)
		return cu_flow_deny(fx, "The user who started this login is not logged in.");
	have = cu_saml_login_of(cx, fx->fx_session_key, &lg);
	if (have < 0)
		return CU_STAGE_FAIL;
	if (have == 0 || lg.sl_user->ou_user.us_id != f.fu_user)
		return cu_flow_deny(fx, "The user who started this login is not logged in.");
	err = build_response(cx, p, &f, &lg, &b);
	if (err == CU_ERR_UNAVAILABLE)
		return CU_STAGE_FAIL;
	if (err != CU_OK)
		return cu_flow_deny(fx, err == CU_ERR_INVALID
		                            ? "The requested NameID format is not supported."
		                            : "The SAML response could not be made.");
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK)
		return CU_STAGE_FAIL;
	if ((err = session_save(cx, p, &lg, &b)) != CU_OK ||
	    (err = fulfil_event(fx, p, fx->fx_session_user)) != CU_OK ||
	    (err = cu_db_commit(cx->cx_db)) != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_log(CU_LOG_ERROR, "saml_fulfillment_failed", CU_LI("provider", p->sp_id),
		       CU_LS("error", cu_strerror(err)));
		return CU_STAGE_FAIL;
	}
	cu_log(CU_LOG_INFO, "saml_authorized", CU_LI("provider", p->sp_id),
	       CU_LI("user", f.fu_user), CU_LB("idp_initiated", f.fu_request_id == NULL),
	       CU_LS("binding", p->sp_binding));
	return fulfil_answer(fx, p, &f, &b);
}

/* authentik answers a POST to this stage as a GET. */
static enum cu_stage_result
fulfillment_respond(struct cu_flow_exec *fx, struct json_object *body)
{
	(void)body;
	return fulfillment_run(fx);
}

const struct cu_stage_type cu_stage_saml_fulfillment = {
    "internal:saml_fulfillment", "ak-stage-autosubmit", fulfillment_run, fulfillment_respond};
