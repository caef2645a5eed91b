/*
 * SP-initiated single logout: /application/saml/<slug>/slo/binding/{redirect,post}/
 * (authentik's SPInitiatedSLOBindingRedirectView and ...POSTView) and the stage appended to the
 * invalidation flow that ends the custos session and answers the service provider with a
 * LogoutResponse.
 *
 * As authentik: the provider's invalidation flow (else the brand's) runs in the browser with the
 * LogoutRequest in its context, the SAML sessions of the browser's session for this provider go
 * at once, and at the flow's end the LogoutResponse (Status Success: whatever the request named,
 * nothing of it stays logged in) goes to the provider's SLS URL in its SLS binding, never to an
 * address from the request. Beyond authentik, which reads LogoutRequests unchecked, a provider
 * with a verification certificate requires them signed, and they are checked like
 * AuthnRequests: IssueInstant and NotOnOrAfter against the clock, the ID against replays. The
 * appended stage ends the custos session itself (authentik's default provider invalidation flow
 * leaves it open, the SLO profile does not).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libxml/tree.h>

#include "auth.h"
#include "bounds.h"
#include "crypto.h"
#include "db.h"
#include "flows.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "providers/oauth2_endpoints.h"
#include "providers/saml.h"
#include "providers/saml_endpoints.h"
#include "server.h"
#include "sessions.h"
#include "xmlsig.h"

#define XS(s) ((const xmlChar *)(s))
#define SLO_CTX "custos_saml_logout"

struct logout {
	const char *lo_id;
	const char *lo_relay_state;
};

/* A LogoutResponse coming back (to a LogoutRequest custos never sends): authentik goes to the
 * root, as this does, and follows nothing the message names. */
static void
stray_response(struct cu_ctx *cx)
{
	cu_log_msg(CU_LOG_INFO, "saml_slo_response_ignored", "LogoutResponse without request");
	cu_saml_redirect(cx, "/");
}

/* Checks after parsing and the signature; 0, or -1 with the page sent. */
static int
check_request(struct cu_ctx *cx, const struct cu_saml_provider *p, const struct cu_saml_request *rq,
              const char *relay_state)
{
	long long skew = cx->cx_cfg->saml_clock_skew;
	time_t now = time(NULL);
	int r;

	if (!cu_saml_instant_ok(rq->sr_issue_instant, now, skew)) {
		cu_saml_bad_request(
		    cx, "The SAML request has expired or is not valid yet (IssueInstant).");
		return -1;
	}
	if (rq->sr_not_on_or_after != 0 && rq->sr_not_on_or_after + skew <= now) {
		cu_saml_bad_request(cx, "The SAML request has expired (NotOnOrAfter).");
		return -1;
	}
	if (relay_state != NULL && (strlen(relay_state) > CU_SAML_MAX_RELAY_STATE ||
	                            !cu_utf8_valid(relay_state, strlen(relay_state)))) {
		cu_saml_bad_request(cx, "The RelayState is too long or not valid.");
		return -1;
	}
	r = cu_saml_request_take(cx, p, rq->sr_id,
	                         rq->sr_issue_instant + CU_SAML_REQUEST_LIFETIME + 2 * skew + 1);
	if (r < 0) {
		cu_saml_unavailable(cx);
		return -1;
	}
	if (r == 0) {
		cu_log(CU_LOG_WARNING, "saml_request_replayed", CU_LI("provider", p->sp_id));
		cu_saml_bad_request(cx, "This SAML request has already been used.");
		return -1;
	}
	return 0;
}

/* The request is good: the SAML sessions go, and the invalidation flow runs with the stage
 * that ends the session and answers. */
static void
slo_continue(struct cu_ctx *cx, const struct cu_saml_provider *p, const struct cu_saml_request *rq,
             const char *relay_state)
{
	const char *flow = p->sp_invalidation_flow, *device = NULL, *brand = NULL, *url = NULL;
	const char *sid = cu_sessions_cookie_sid(cx), *params[2];
	struct json_object *ctx, *lo, *append, *st;
	enum cu_err err;

	if (flow == NULL) {
		if (cu_oauth2_brand_flows(cx, &device, &brand) != CU_OK) {
			cu_saml_unavailable(cx);
			return;
		}
		flow = brand;
	}
	if (flow == NULL) {
		cu_saml_error_page(cx, 404, "Not Found", "No invalidation flow is configured.");
		return;
	}
	if (sid != NULL) {
		params[0] = cu_arena_printf(cx->cx_arena, "%d", p->sp_id);
		params[1] = sid;
		if (cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_SAML_SESSIONS_END, 2,
		               params) != CU_OK) {
			cu_saml_unavailable(cx);
			return;
		}
	}
	ctx = cu_json_object(cx->cx_arena);
	if (p->sp_app_uuid != NULL)
		cu_json_set_string(ctx, "application", p->sp_app_uuid);
	lo = json_object_new_object();
	cu_json_set_int(lo, "provider", p->sp_id);
	cu_json_set_string(lo, "request_id", rq->sr_id);
	cu_json_set_string(lo, "relay_state", relay_state);
	cu_json_set(ctx, SLO_CTX, lo);
	append = cu_json_array(cx->cx_arena);
	st = json_object_new_object();
	cu_json_set_string(st, "name", "saml-logout");
	cu_json_set_string(st, "type", cu_stage_saml_logout.st_type);
	cu_json_set(st, "config", json_object_new_object());
	json_object_array_add(append, st);
	err = cu_flow_seed(cx, flow, ctx, append, "", &url);
	if (err == CU_ERR_NOT_FOUND) {
		cu_saml_error_page(cx, 404, "Not Found", "The invalidation flow does not exist.");
		return;
	}
	if (err != CU_OK) {
		cu_saml_unavailable(cx);
		return;
	}
	cu_log(CU_LOG_INFO, "saml_slo_flow", CU_LI("provider", p->sp_id),
	       CU_LB("session", sid != NULL));
	cu_saml_redirect(cx, url);
}

void
cu_saml_slo_redirect(struct cu_ctx *cx)
{
	const struct cu_saml_provider *p = NULL;
	const struct cu_xmlsig_key *vk = NULL;
	struct cu_xmlsig_redirect rd;
	struct cu_saml_request rq;
	const char *q = cx->cx_req->rq_query, *why = NULL;
	int bad = 0;
	enum cu_err err;

	if (cu_saml_route_provider(cx, &p) != 0)
		return;
	if (cu_http_kv_one(cx->cx_req->rq_args, cx->cx_req->rq_nargs, "SAMLRequest", &bad) ==
	    NULL) {
		if (cu_http_kv_one(cx->cx_req->rq_args, cx->cx_req->rq_nargs, "SAMLResponse",
		                   &bad) != NULL) {
			stray_response(cx);
			return;
		}
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
	if (cu_saml_verification_key(cx, p, &vk) != CU_OK) {
		cu_saml_unavailable(cx);
		return;
	}
	if (vk != NULL) {
		if (!rd.rd_signed) {
			cu_saml_bad_request(
			    cx, "Verification Certificate configured, but request is not "
			        "signed.");
			return;
		}
		why = rd.rd_sig_alg == CU_XMLSIG_RSA_SHA1 && !cu_saml_sha1_allowed(p)
		          ? "SHA-1 not accepted for this provider"
		          : NULL;
		if (why != NULL || cu_xmlsig_redirect_verify(&why, &rd, vk) != 0) {
			cu_log(CU_LOG_WARNING, "saml_signature_refused", CU_LS("reason", why),
			       CU_LI("provider", p->sp_id));
			cu_saml_bad_request(cx, "Failed to verify signature");
			return;
		}
	}
	err = cu_saml_request_parse(&rq, cx->cx_arena, CU_SAML_LOGOUT_REQUEST, rd.rd_xml,
	                            rd.rd_xml_len, &why);
	if (err != CU_OK) {
		cu_saml_parse_failed(cx, err, why);
		return;
	}
	if (check_request(cx, p, &rq, rd.rd_relay_state) != 0)
		return;
	slo_continue(cx, p, &rq, rd.rd_relay_state);
}

void
cu_saml_slo_post(struct cu_ctx *cx)
{
	const struct cu_saml_provider *p = NULL;
	const struct cu_xmlsig_key *vk = NULL;
	struct cu_saml_request rq;
	struct cu_kv *kv = NULL;
	const char *b64, *relay, *why = NULL;
	char *xml = NULL;
	size_t n = 0, xlen = 0;
	int bad = 0;
	enum cu_err err;

	if (cu_saml_route_provider(cx, &p) != 0)
		return;
	if (cu_http_parse_form(cx->cx_req, cx->cx_arena, &kv, &n) != CU_OK) {
		cu_saml_bad_request(cx, "The request body could not be read.");
		return;
	}
	b64 = cu_http_kv_one(kv, n, "SAMLRequest", &bad);
	relay = cu_http_kv_one(kv, n, "RelayState", &bad);
	if (b64 == NULL) {
		if (cu_http_kv_one(kv, n, "SAMLResponse", &bad) != NULL) {
			stray_response(cx);
			return;
		}
		cu_saml_bad_request(cx, "The SAML request payload is missing.");
		return;
	}
	if (bad) {
		cu_saml_bad_request(cx, "A SAML parameter is repeated.");
		return;
	}
	err = cu_xmlsig_base64_decode(&xml, &xlen, cx->cx_arena, b64, strlen(b64),
	                              CU_SAML_MAX_MESSAGE);
	if (err == CU_OK)
		err = cu_saml_request_parse(&rq, cx->cx_arena, CU_SAML_LOGOUT_REQUEST, xml, xlen,
		                            &why);
	else
		why = err == CU_ERR_TOO_LARGE ? "The SAML request is too large."
		                              : "Cannot decode SAML request.";
	if (err != CU_OK) {
		cu_saml_parse_failed(cx, err, why);
		return;
	}
	if (cu_saml_verification_key(cx, p, &vk) != CU_OK) {
		cu_saml_unavailable(cx);
		return;
	}
	if (vk != NULL) {
		if (cu_xmlsig_signature(rq.sr_root) == NULL) {
			cu_saml_bad_request(
			    cx, "Verification Certificate configured, but request is not "
			        "signed.");
			return;
		}
		why = cu_xmlsig_uses_sha1(rq.sr_root) && !cu_saml_sha1_allowed(p)
		          ? "SHA-1 not accepted for this provider"
		          : NULL;
		if (why != NULL || cu_xmlsig_verify(&why, rq.sr_doc, rq.sr_root, "ID", vk) != 0) {
			cu_log(CU_LOG_WARNING, "saml_signature_refused", CU_LS("reason", why),
			       CU_LI("provider", p->sp_id));
			cu_saml_bad_request(cx, "Failed to verify signature");
			return;
		}
	}
	if (check_request(cx, p, &rq, relay) != 0)
		return;
	slo_continue(cx, p, &rq, relay);
}

/* --- the LogoutResponse -------------------------------------------------------------------- */

static void
free_doc(void *d)
{
	xmlFreeDoc(d);
}

/* authentik's LogoutResponseProcessor.build: Status Success, to the SLS URL; the enveloped
 * signature only for the POST binding (the Redirect binding signs the query). */
static enum cu_err
build_logout_response(struct cu_ctx *cx, const struct cu_saml_provider *p, const struct logout *lo,
                      const struct cu_xmlsig_key *sk, int post, char **xml, size_t *len)
{
	xmlDoc *doc = xmlNewDoc(XS("1.0"));
	xmlNode *r, *st, *sc;
	xmlNs *samlp, *saml;
	char id[42], when[32];

	if (doc == NULL)
		return CU_ERR_INTERNAL;
	cu_arena_defer(cx->cx_arena, free_doc, doc);
	cu_saml_new_id(id);
	cu_saml_time_format(when, time(NULL));
	r = xmlNewNode(NULL, XS("LogoutResponse"));
	samlp = xmlNewNs(r, XS(CU_SAML_NS_PROTOCOL), XS("samlp"));
	saml = xmlNewNs(r, XS(CU_SAML_NS_ASSERTION), XS("saml"));
	xmlSetNs(r, samlp);
	xmlDocSetRootElement(doc, r);
	xmlNewProp(r, XS("ID"), XS(id));
	xmlNewProp(r, XS("Version"), XS("2.0"));
	xmlNewProp(r, XS("IssueInstant"), XS(when));
	xmlNewProp(r, XS("Destination"), XS(cu_saml_xml_text(cx->cx_arena, p->sp_sls_url)));
	if (lo->lo_id != NULL)
		xmlNewProp(r, XS("InResponseTo"), XS(lo->lo_id));
	xmlNewTextChild(r, saml, XS("Issuer"), XS(cu_saml_xml_text(cx->cx_arena, p->sp_issuer)));
	st = xmlNewChild(r, samlp, XS("Status"), NULL);
	sc = xmlNewChild(st, samlp, XS("StatusCode"), NULL);
	xmlNewProp(sc, XS("Value"), XS(CU_SAML_STATUS_SUCCESS));
	if (post && sk != NULL &&
	    cu_xmlsig_sign(doc, r, "ID", sk, p->sp_signature, p->sp_digest) != 0) {
		cu_log(CU_LOG_ERROR, "saml_sign_failed", CU_LS("what", "logout_response"),
		       CU_LI("provider", p->sp_id));
		return CU_ERR_INTERNAL;
	}
	return cu_xmlsig_serialize(xml, len, cx->cx_arena, doc) == 0 ? CU_OK : CU_ERR_INTERNAL;
}

static enum cu_stage_result
logout_run(struct cu_flow_exec *fx)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct json_object *o = cu_flow_ctx_get(fx, SLO_CTX), *ch, *attrs;
	const struct cu_saml_provider *p = NULL;
	const struct cu_xmlsig_key *sk = NULL;
	struct logout lo;
	const char *v;
	char *xml = NULL, *b64, *q = NULL;
	size_t len = 0;
	int64_t pid = 0;
	int post;
	enum cu_err err;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    cu_json_get_int(o, "provider", &pid) != 0) {
		cu_log_msg(CU_LOG_WARNING, "saml_logout_no_request", "nothing pending");
		return cu_flow_deny(fx, "There is no SAML logout request to complete.");
	}
	cu_json_adopt(cx->cx_arena, json_object_get(o));
	cu_flow_ctx_del(fx, SLO_CTX);
	memset(&lo, 0, sizeof(lo));
	lo.lo_id = cu_json_get_string(o, "request_id", &v) == 0 ? v : NULL;
	lo.lo_relay_state = cu_json_get_string(o, "relay_state", &v) == 0 ? v : NULL;
	/* authentik's SessionEndStage, and the custos session with it. */
	if (fx->fx_session_user != NULL && cu_flow_logout(fx) != CU_OK)
		return CU_STAGE_FAIL;
	err = cu_saml_provider_by_id(cx, (int)pid, &p);
	if (err == CU_ERR_NOT_FOUND)
		return CU_STAGE_NEXT;
	if (err != CU_OK)
		return CU_STAGE_FAIL;
	if (p->sp_sls_url == NULL || p->sp_sls_url[0] == '\0')
		return CU_STAGE_NEXT;
	post = p->sp_sls_binding != NULL && strcmp(p->sp_sls_binding, "post") == 0;
	if (p->sp_sign_logout_response && cu_saml_signing_key(cx, p, &sk) != CU_OK)
		return CU_STAGE_FAIL;
	if (build_logout_response(cx, p, &lo, sk, post, &xml, &len) != CU_OK)
		return cu_flow_deny(fx, "The SAML logout response could not be made.");
	cu_log(CU_LOG_INFO, "saml_logout_answered", CU_LI("provider", p->sp_id),
	       CU_LB("post", post), CU_LB("signed", sk != NULL));
	if (post) {
		b64 = cu_arena_alloc(cx->cx_arena, cu_base64_enc_len(len) + 1);
		cu_base64_encode(b64, xml, len);
		ch = cu_flow_challenge(fx, "ak-stage-autosubmit");
		cu_json_set_string(ch, "url", p->sp_sls_url);
		attrs = json_object_new_object();
		cu_json_set_string(attrs, "SAMLResponse", b64);
		if (lo.lo_relay_state != NULL)
			cu_json_set_string(attrs, "RelayState", lo.lo_relay_state);
		cu_json_set(ch, "attrs", attrs);
		cu_json_set_string(ch, "title",
		                   cu_arena_printf(cx->cx_arena, "Redirecting to %s...",
		                                   p->sp_app_name != NULL ? p->sp_app_name : ""));
		return CU_STAGE_CHALLENGE;
	}
	if (cu_xmlsig_redirect_encode(&q, cx->cx_arena, "SAMLResponse", xml, len, lo.lo_relay_state,
	                              sk, p->sp_signature) != 0)
		return cu_flow_deny(fx, "The SAML logout response could not be encoded.");
	cu_flow_ctx_set_string(fx, "redirect",
	                       cu_arena_printf(cx->cx_arena, "%s%c%s", p->sp_sls_url,
	                                       strchr(p->sp_sls_url, '?') != NULL ? '&' : '?', q));
	return CU_STAGE_NEXT;
}

static enum cu_stage_result
logout_respond(struct cu_flow_exec *fx, struct json_object *body)
{
	(void)body;
	return logout_run(fx);
}

const struct cu_stage_type cu_stage_saml_logout = {"internal:saml_logout", "ak-stage-autosubmit",
                                                   logout_run, logout_respond};
