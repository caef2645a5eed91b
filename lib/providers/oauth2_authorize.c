/*
 * The authorization endpoint, GET and POST /application/o/authorize/ (authentik's
 * AuthorizationFlowInitView), and the stage appended to the provider's authorization flow that
 * answers the relying party (authentik's OAuthFulfillmentStage).
 *
 * A request is checked in authentik's order. Until the client and its redirect URI are known
 * good, every error is a page here and never a redirect: an unknown client or an unregistered
 * URI must not turn the endpoint into an open redirector. After that, errors go to the redirect
 * URI (RFC 6749 §4.1.2.1) in the response mode. Then: no logged-in session → the login flow,
 * coming back to this same URL; the application's policies; a login too old for max_age, or
 * prompt=login → the login flow again, with a signed marker in the URL it comes back to so
 * that the new login is recognised and not asked for a second time; prompt=none and
 * prompt=consent against the flow's consent stages; and finally the provider's authorization
 * flow, seeded with the validated request, which ends in the fulfillment stage.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "auth.h"
#include "bounds.h"
#include "buf.h"
#include "crypto.h"
#include "db.h"
#include "events.h"
#include "flows.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "providers/oauth2.h"
#include "providers/oauth2_endpoints.h"
#include "providers/oauth2_redirect.h"
#include "server.h"
#include "sessions.h"
#include "stages/stages_auth.h"

#define AUTHZ_PATH "/application/o/authorize/"
/* The plan context key holding the validated request, read by the fulfillment stage. */
#define AUTHZ_CTX_PARAMS "custos_oauth2"
/* The parameter that carries the re-authentication marker back from the login flow. */
#define AUTHZ_REAUTH_PARAM "custos_reauth"
#define AUTHZ_REAUTH_MAC_LEN 16
/* Clock skew allowed between this host and PostgreSQL for a marker made without a session. */
#define AUTHZ_REAUTH_SKEW 30
#define AUTHZ_PAGE_MAX (256 * 1024)
#define AUTHZ_ENCODED_MAX (128 * 1024)
#define AUTHZ_AUTOSUBMIT_SCRIPT "document.forms[0].submit();"
#define AUTHZ_EVENT_APP "authentik.providers.oauth2.views.authorize"

enum authz_mode {
	MODE_QUERY,
	MODE_FRAGMENT,
	MODE_FORM_POST,
};

/* One authorization request: the parameters as sent (NULL when absent) and what they mean. */
struct authz_req {
	const char *ar_client_id;
	const char *ar_redirect_uri;
	const char *ar_response_type;
	const char *ar_response_mode;
	const char *ar_scope;
	const char *ar_state;
	const char *ar_nonce;
	const char *ar_prompt;
	const char *ar_max_age;
	const char *ar_code_challenge;
	const char *ar_code_challenge_method;
	const char *ar_login_hint;
	const char *ar_request;
	const char *ar_request_uri;
	const char *ar_reauth;
	unsigned ar_bad; /* bit i: parameter i of authz_params repeated, too long or not UTF-8 */
	const struct cu_kv *ar_kv;
	size_t ar_nkv;
	/* Derived once the request is checked. */
	int ar_code, ar_id_token, ar_token;
	enum authz_mode ar_mode;
	struct json_object *ar_scopes; /* clamped */
	int ar_prompt_none, ar_prompt_login, ar_prompt_consent;
	long long ar_max_age_s; /* -1: none */
	const char *ar_method;  /* code_challenge_method when a challenge was sent */
};

/* The parameters read (STYLE rule 10): anything else is kept only to rebuild the URL. */
enum authz_param_index {
	P_CLIENT_ID,
	P_REDIRECT_URI,
	P_RESPONSE_TYPE,
	P_RESPONSE_MODE,
	P_SCOPE,
	P_STATE,
	P_NONCE,
	P_PROMPT,
	P_MAX_AGE,
	P_CODE_CHALLENGE,
	P_CODE_CHALLENGE_METHOD,
	P_LOGIN_HINT,
	P_REQUEST,
	P_REQUEST_URI,
	P_REAUTH,
	P__MAX
};

static const struct authz_param {
	const char *pa_name;
	size_t pa_offset;
} authz_params[P__MAX] = {
    [P_CLIENT_ID] = {"client_id", offsetof(struct authz_req, ar_client_id)},
    [P_REDIRECT_URI] = {"redirect_uri", offsetof(struct authz_req, ar_redirect_uri)},
    [P_RESPONSE_TYPE] = {"response_type", offsetof(struct authz_req, ar_response_type)},
    [P_RESPONSE_MODE] = {"response_mode", offsetof(struct authz_req, ar_response_mode)},
    [P_SCOPE] = {"scope", offsetof(struct authz_req, ar_scope)},
    [P_STATE] = {"state", offsetof(struct authz_req, ar_state)},
    [P_NONCE] = {"nonce", offsetof(struct authz_req, ar_nonce)},
    [P_PROMPT] = {"prompt", offsetof(struct authz_req, ar_prompt)},
    [P_MAX_AGE] = {"max_age", offsetof(struct authz_req, ar_max_age)},
    [P_CODE_CHALLENGE] = {"code_challenge", offsetof(struct authz_req, ar_code_challenge)},
    [P_CODE_CHALLENGE_METHOD] = {"code_challenge_method",
                                 offsetof(struct authz_req, ar_code_challenge_method)},
    [P_LOGIN_HINT] = {"login_hint", offsetof(struct authz_req, ar_login_hint)},
    [P_REQUEST] = {"request", offsetof(struct authz_req, ar_request)},
    [P_REQUEST_URI] = {"request_uri", offsetof(struct authz_req, ar_request_uri)},
    [P_REAUTH] = {AUTHZ_REAUTH_PARAM, offsetof(struct authz_req, ar_reauth)},
};
#define AUTHZ_BAD(ar, i) (((ar)->ar_bad & (1u << (i))) != 0)

/* The logged-in session of the request. */
struct authz_session {
	const char *as_key;
	const char *as_uuid;
	long long as_login_ms;  /* when it logged in, epoch milliseconds */
	long long as_db_now_ms; /* PostgreSQL's clock, epoch milliseconds */
	const char *as_amr;     /* "pwd", "pwd mfa", ... or NULL */
	struct cu_user as_user;
};

/* --- encoding ------------------------------------------------------------------------------ */

/* s percent-encoded for a query or fragment value (unreserved characters kept), to b. */
static int
url_encode_to(struct cu_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		char e[3];

		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			if (cu_buf_putc(b, (char)*p) != 0)
				return -1;
			continue;
		}
		e[0] = '%';
		e[1] = hex[*p >> 4];
		e[2] = hex[*p & 15];
		if (cu_buf_append(b, e, 3) != 0)
			return -1;
	}
	return 0;
}

/* b's text copied to the arena (b is freed); NULL when b overflowed (rc != 0). */
static const char *
buf_done(struct cu_ctx *cx, struct cu_buf *b, int rc)
{
	const char *out = NULL;

	if (rc == 0)
		out = cu_arena_strndup(cx->cx_arena, b->bf_len > 0 ? b->bf_ptr : "", b->bf_len);
	cu_buf_free(b);
	return out;
}

/* "k1=v1&k2=v2" of n pairs, arena-owned; NULL past AUTHZ_ENCODED_MAX (room for two tokens of
 * CU_JOSE_MAX_TOKEN and every parameter at its longest). */
static const char *
form_encode(struct cu_ctx *cx, const struct cu_kv *kv, size_t n)
{
	struct cu_buf b;
	size_t i;
	int rc = 0;

	cu_buf_init(&b, AUTHZ_ENCODED_MAX);
	for (i = 0; i < n && rc == 0; i++) {
		if (i > 0)
			rc = cu_buf_putc(&b, '&');
		if (rc == 0)
			rc = url_encode_to(&b, kv[i].kv_key);
		if (rc == 0)
			rc = cu_buf_putc(&b, '=');
		if (rc == 0)
			rc = url_encode_to(&b, kv[i].kv_val);
	}
	return buf_done(cx, &b, rc);
}

/* --- pages (never a redirect: what an untrusted request gets) ----------------------------- */

static void
no_store(struct cu_ctx *cx)
{
	/* Full header table: the response still goes out, only without the extra header. */
	(void)!cu_http_set_header(cx->cx_resp, "Cache-Control", "no-store");
	(void)!cu_http_set_header(cx->cx_resp, "Pragma", "no-cache");
}

static int
html_text(struct cu_buf *b, const char *s)
{
	return cu_buf_html_escape(b, s, strlen(s));
}

/*
 * An HTML page with title and paragraphs (each escaped); with action, a form of hidden fields
 * that posts itself to action (form_post errors) through one inline script allowed by its
 * hash.
 */
static void
send_page(struct cu_ctx *cx, int status, const char *title, const char *const *paras, size_t nparas,
          const char *action, const struct cu_kv *fields, size_t nfields)
{
	struct cu_buf b;
	uint8_t digest[CU_SHA256_LEN];
	char hash[64];
	size_t i;
	int rc = 0;

	cu_buf_init(&b, AUTHZ_PAGE_MAX);
	rc |= cu_buf_puts(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	                      "<meta name=\"viewport\" content=\"width=device-width, "
	                      "initial-scale=1\"><meta name=\"referrer\" content=\"no-referrer\">"
	                      "<title>");
	rc |= html_text(&b, title);
	rc |= cu_buf_puts(&b,
	                  "</title><link rel=\"stylesheet\" href=\"/static/dist/flow.css\">"
	                  "</head><body><div class=\"ak-login\"><main class=\"ak-login-container\">"
	                  "<section class=\"ak-login-main\"><h1 class=\"ak-flow-title\">");
	rc |= html_text(&b, title);
	rc |= cu_buf_puts(&b, "</h1><div class=\"ak-flow-body\">");
	if (action == NULL)
		rc |= cu_buf_puts(&b, "<div class=\"ak-alert ak-alert-danger\" role=\"alert\">");
	for (i = 0; i < nparas; i++) {
		rc |= cu_buf_puts(&b, "<p>");
		rc |= html_text(&b, paras[i]);
		rc |= cu_buf_puts(&b, "</p>");
	}
	if (action == NULL) {
		rc |= cu_buf_puts(&b, "</div>");
	} else {
		rc |= cu_buf_puts(&b, "<form method=\"post\" action=\"");
		rc |= html_text(&b, action);
		rc |= cu_buf_puts(&b, "\">");
		for (i = 0; i < nfields; i++) {
			rc |= cu_buf_puts(&b, "<input type=\"hidden\" name=\"");
			rc |= html_text(&b, fields[i].kv_key);
			rc |= cu_buf_puts(&b, "\" value=\"");
			rc |= html_text(&b, fields[i].kv_val);
			rc |= cu_buf_puts(&b, "\">");
		}
		rc |= cu_buf_puts(
		    &b, "<button type=\"submit\" class=\"ak-button ak-button-primary\">"
		        "Continue</button></form><script>" AUTHZ_AUTOSUBMIT_SCRIPT "</script>");
	}
	rc |= cu_buf_puts(&b, "</div></section></main></div></body></html>\n");
	if (rc != 0) {
		cu_buf_free(&b);
		cu_http_send_text(cx->cx_resp, 500, "text/plain; charset=utf-8",
		                  "Internal error.\n", 16);
		return;
	}
	cu_http_send_text(cx->cx_resp, status, "text/html; charset=utf-8", b.bf_ptr, b.bf_len);
	cu_buf_free(&b);
	no_store(cx);
	cu_crypto_sha256(digest, AUTHZ_AUTOSUBMIT_SCRIPT, strlen(AUTHZ_AUTOSUBMIT_SCRIPT));
	cu_base64_encode(hash, digest, sizeof(digest));
	(void)!cu_http_set_header(
	    cx->cx_resp, "Content-Security-Policy",
	    cu_arena_printf(cx->cx_arena,
	                    "default-src 'none'; style-src 'self'; img-src 'self'; "
	                    "script-src 'sha256-%s'; base-uri 'none'; frame-ancestors 'none'",
	                    hash));
	(void)!cu_http_set_header(cx->cx_resp, "X-Frame-Options", "DENY");
}

/* authentik's bad_request_message: a page with a title and one message. */
static void
error_page(struct cu_ctx *cx, int status, const char *title, const char *message)
{
	const char *paras[1] = {message};

	cu_log(CU_LOG_WARNING, "oauth2_authorize_refused", CU_LS("error", title),
	       CU_LI("status", status));
	send_page(cx, status, title, paras, 1, NULL, NULL, 0);
}

static void
unavailable_page(struct cu_ctx *cx)
{
	error_page(cx, 503, "Service Unavailable",
	           "The service is unavailable for a moment; try again shortly.");
}

static void
client_error_page(struct cu_ctx *cx)
{
	error_page(cx, 400, "Client ID Error",
	           "The client identifier (client_id) is missing or not valid.");
}

static void
redirect_error_page(struct cu_ctx *cx)
{
	error_page(cx, 400, "Redirect URI Error",
	           "The redirect URI (redirect_uri) is missing, not valid, or not registered for "
	           "this client.");
}

/* authentik's AccessDeniedResponse, with the policies' messages. */
static void
access_denied_page(struct cu_ctx *cx, struct json_object *messages)
{
	const char *paras[1 + 16];
	size_t n = 0, i,
	       nm = messages != NULL && json_object_is_type(messages, json_type_array)
	                ? json_object_array_length(messages)
	                : 0;

	paras[n++] = "Request has been denied.";
	for (i = 0; i < nm && n < sizeof(paras) / sizeof(paras[0]); i++) {
		const char *m = json_object_get_string(json_object_array_get_idx(messages, i));

		if (m != NULL && m[0] != '\0')
			paras[n++] = m;
	}
	cu_log_msg(CU_LOG_INFO, "oauth2_authorize_denied", "application policies deny the user");
	send_page(cx, 403, "Access denied", paras, n, NULL, NULL, 0);
}

static void
send_redirect(struct cu_ctx *cx, const char *location)
{
	cu_http_send_text(cx->cx_resp, 302, "text/plain; charset=utf-8", "", 0);
	no_store(cx);
	if (cu_http_set_header(cx->cx_resp, "Location", location) != 0)
		error_page(cx, 500, "Server Error", "The redirect could not be sent.");
}

/* --- answering the relying party ---------------------------------------------------------- */

/*
 * redirect_uri with the pairs in its query (MODE_QUERY, after any query it has) or its fragment
 * (it has none: the URI checks refuse one); arena-owned, NULL when too long.
 */
static const char *
rp_url(struct cu_ctx *cx, const char *redirect_uri, enum authz_mode mode, const struct cu_kv *kv,
       size_t n)
{
	const char *enc = form_encode(cx, kv, n), *sep;
	size_t len = strlen(redirect_uri);

	if (enc == NULL)
		return NULL;
	if (mode == MODE_FRAGMENT)
		sep = "#";
	else if (strchr(redirect_uri, '?') == NULL)
		sep = "?";
	else if (redirect_uri[len - 1] == '?' || redirect_uri[len - 1] == '&')
		sep = "";
	else
		sep = "&";
	return cu_arena_printf(cx->cx_arena, "%s%s%s", redirect_uri, sep, enc);
}

/* Sends the pairs to the relying party from this endpoint: a 302 or a posting page. */
static void
to_rp(struct cu_ctx *cx, const struct authz_req *ar, const struct cu_kv *kv, size_t n)
{
	const char *url;

	if (ar->ar_mode == MODE_FORM_POST) {
		const char *paras[1] = {"Redirecting to the application…"};

		send_page(cx, 200, "Redirecting", paras, 1, ar->ar_redirect_uri, kv, n);
		return;
	}
	url = rp_url(cx, ar->ar_redirect_uri, ar->ar_mode, kv, n);
	if (url == NULL) {
		error_page(cx, 400, "Bad Request", "The response is too long for a redirect.");
		return;
	}
	send_redirect(cx, url);
}

/* An RFC 6749 §4.1.2.1 error to the (trusted) redirect URI. */
static void
rp_error(struct cu_ctx *cx, const struct authz_req *ar, const char *error, const char *description)
{
	struct cu_kv kv[3];
	size_t n = 0;

	kv[n].kv_key = "error";
	kv[n++].kv_val = error;
	kv[n].kv_key = "error_description";
	kv[n++].kv_val = description;
	if (ar->ar_state != NULL) {
		kv[n].kv_key = "state";
		kv[n++].kv_val = ar->ar_state;
	}
	cu_log(CU_LOG_WARNING, "oauth2_authorize_error", CU_LS("error", error),
	       CU_LS("client_id", ar->ar_client_id));
	to_rp(cx, ar, kv, n);
}

/* --- reading the request ------------------------------------------------------------------ */

static int
read_params(struct cu_ctx *cx, struct authz_req *ar)
{
	struct cu_kv *kv = NULL;
	size_t n = 0, i, j;

	if (cx->cx_req->rq_method == CU_HTTP_POST) {
		if (cu_http_parse_form(cx->cx_req, cx->cx_arena, &kv, &n) != CU_OK)
			return -1;
	} else {
		kv = cx->cx_req->rq_args;
		n = cx->cx_req->rq_nargs;
	}
	ar->ar_kv = kv;
	ar->ar_nkv = n;
	for (i = 0; i < n; i++) {
		for (j = 0; j < P__MAX; j++)
			if (strcmp(kv[i].kv_key, authz_params[j].pa_name) == 0)
				break;
		if (j == P__MAX)
			continue;
		{
			const char **slot =
			    (const char **)(void *)((char *)ar + authz_params[j].pa_offset);

			/* RFC 6749 §3.1: a parameter sent twice makes the request invalid. */
			if (*slot != NULL || kv[i].kv_vlen > CU_OAUTH2_MAX_PARAM ||
			    strlen(kv[i].kv_val) != kv[i].kv_vlen ||
			    !cu_utf8_valid(kv[i].kv_val, kv[i].kv_vlen))
				ar->ar_bad |= 1u << j;
			*slot = kv[i].kv_val;
		}
	}
	return 0;
}

/* The first bad parameter's name, or NULL. */
static const char *
bad_param(const struct authz_req *ar)
{
	size_t j;

	for (j = 0; j < P__MAX; j++)
		if (AUTHZ_BAD(ar, j))
			return authz_params[j].pa_name;
	return NULL;
}

/* response_type: the words code, id_token, token, each at most once, in any order, naming one
 * of authentik's six types. -1 otherwise. */
static int
parse_response_type(const char *s, int *code, int *id_token, int *token)
{
	const char *p = s;

	*code = *id_token = *token = 0;
	if (s == NULL)
		return -1;
	while (*p != '\0') {
		const char *e;
		size_t n;
		int *flag;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		e = p;
		while (*e != '\0' && *e != ' ')
			e++;
		n = (size_t)(e - p);
		if (n == 4 && strncmp(p, "code", 4) == 0)
			flag = code;
		else if (n == 8 && strncmp(p, "id_token", 8) == 0)
			flag = id_token;
		else if (n == 5 && strncmp(p, "token", 5) == 0)
			flag = token;
		else
			return -1;
		if (*flag)
			return -1;
		*flag = 1;
		p = e;
	}
	/* "token" alone (the OAuth 2.0 implicit grant) is not one of authentik's. */
	return *code || *id_token ? 0 : -1;
}

static const char *
response_type_text(const struct authz_req *ar)
{
	static const char *const names[8] = {
	    "",      "code",       "id_token",       "code id_token",
	    "token", "code token", "id_token token", "code id_token token"};

	return names[(ar->ar_code ? 1 : 0) | (ar->ar_id_token ? 2 : 0) | (ar->ar_token ? 4 : 0)];
}

/* authentik's grant types: authorization_code, implicit, hybrid. */
static const char *
grant_type(const struct authz_req *ar)
{
	if (!ar->ar_code)
		return "implicit";
	return ar->ar_id_token || ar->ar_token ? "hybrid" : "authorization_code";
}

/* Every scope name some mapping of p has (authentik's default when no scope is asked for). */
static struct json_object *
provider_scopes(struct cu_ctx *cx, const struct cu_oauth2_provider *p)
{
	struct json_object *out = cu_json_array(cx->cx_arena);
	size_t i, n = p->op_mappings != NULL ? json_object_array_length(p->op_mappings) : 0;

	for (i = 0; i < n; i++) {
		const char *s = NULL;

		if (cu_json_get_string(json_object_array_get_idx(p->op_mappings, i), "scope_name",
		                       &s) == 0 &&
		    !cu_oauth2_scopes_has(out, s))
			json_object_array_add(out, json_object_new_string(s));
	}
	return out;
}

static struct json_object *
scopes_without(struct cu_ctx *cx, struct json_object *scopes, const char *drop)
{
	struct json_object *out = cu_json_array(cx->cx_arena);
	size_t i, n = json_object_array_length(scopes);

	for (i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(scopes, i);

		if (strcmp(json_object_get_string(s), drop) != 0)
			json_object_array_add(out, json_object_get(s));
	}
	return out;
}

/* prompt: authentik keeps none, login and consent and drops other values. */
static void
parse_prompt(struct authz_req *ar)
{
	const char *p = ar->ar_prompt != NULL ? ar->ar_prompt : "";

	while (*p != '\0') {
		const char *e;
		size_t n;

		while (*p == ' ')
			p++;
		e = p;
		while (*e != '\0' && *e != ' ')
			e++;
		n = (size_t)(e - p);
		if (n == 4 && strncmp(p, "none", 4) == 0)
			ar->ar_prompt_none = 1;
		else if (n == 5 && strncmp(p, "login", 5) == 0)
			ar->ar_prompt_login = 1;
		else if (n == 7 && strncmp(p, "consent", 7) == 0)
			ar->ar_prompt_consent = 1;
		p = e;
	}
}

/* max_age: 0 to 9999999999 seconds. */
static int
parse_max_age(const char *s, long long *out)
{
	long long v = 0;
	size_t i;

	*out = -1;
	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (!isdigit((unsigned char)s[i]) || i >= 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * The checks after the redirect URI is trusted (authentik's check_grant, check_scope, request,
 * check_nonce, check_code_challenge): 0, or -1 with the error sent to the relying party.
 */
static int
check_request(struct cu_ctx *cx, const struct cu_oauth2_provider *p, struct authz_req *ar)
{
	struct json_object *asked = NULL;
	const char *bad, *rm = ar->ar_response_mode;
	int typed;

	typed = parse_response_type(ar->ar_response_type, &ar->ar_code, &ar->ar_id_token,
	                            &ar->ar_token) == 0;
	/* Where errors go: the response mode asked for, else the type's default. */
	ar->ar_mode = typed && (ar->ar_id_token || ar->ar_token) ? MODE_FRAGMENT : MODE_QUERY;
	if (rm != NULL && !AUTHZ_BAD(ar, P_RESPONSE_MODE)) {
		if (strcmp(rm, "form_post") == 0)
			ar->ar_mode = MODE_FORM_POST;
		else if (strcmp(rm, "fragment") == 0)
			ar->ar_mode = MODE_FRAGMENT;
		else if (strcmp(rm, "query") == 0 && !(ar->ar_id_token || ar->ar_token))
			ar->ar_mode = MODE_QUERY;
	}
	if ((bad = bad_param(ar)) != NULL) {
		rp_error(cx, ar, "invalid_request",
		         cu_arena_printf(cx->cx_arena,
		                         "The parameter %s is repeated, too long or not valid.",
		                         bad));
		return -1;
	}
	if (!typed) {
		rp_error(cx, ar, "unsupported_response_type",
		         "The response_type is not one this server supports.");
		return -1;
	}
	/* OAuth 2.0 Multiple Response Type Encoding Practices §5: tokens never go in a query. */
	if (rm != NULL && strcmp(rm, "query") == 0 && (ar->ar_id_token || ar->ar_token)) {
		rp_error(cx, ar, "invalid_request",
		         "The query response mode cannot carry tokens; use fragment or form_post.");
		return -1;
	}
	if (cu_oauth2_scopes_parse(cx, ar->ar_scope != NULL ? ar->ar_scope : "", &asked) != 0) {
		rp_error(cx, ar, "invalid_scope", "The requested scope is malformed.");
		return -1;
	}
	if (json_object_array_length(asked) == 0)
		asked = provider_scopes(cx, p);
	ar->ar_scopes = cu_oauth2_scopes_clamp(cx, p, asked, NULL);
	if ((ar->ar_id_token || ar->ar_token) && !cu_oauth2_scopes_has(ar->ar_scopes, "openid")) {
		rp_error(cx, ar, "invalid_scope",
		         "The openid scope is required for this response_type.");
		return -1;
	}
	/* OpenID Connect Core §11: offline access only comes with a code. */
	if (!ar->ar_code && cu_oauth2_scopes_has(ar->ar_scopes, "offline_access"))
		ar->ar_scopes = scopes_without(cx, ar->ar_scopes, "offline_access");
	if (ar->ar_request != NULL && ar->ar_request[0] != '\0') {
		rp_error(cx, ar, "request_not_supported",
		         "Request objects (the request parameter) are not supported.");
		return -1;
	}
	if (ar->ar_request_uri != NULL && ar->ar_request_uri[0] != '\0') {
		rp_error(cx, ar, "request_uri_not_supported",
		         "The request_uri parameter is not supported.");
		return -1;
	}
	if (ar->ar_id_token && (ar->ar_nonce == NULL || ar->ar_nonce[0] == '\0')) {
		rp_error(cx, ar, "invalid_request", "A nonce is required for this response_type.");
		return -1;
	}
	if (ar->ar_code_challenge != NULL) {
		const char *m =
		    ar->ar_code_challenge_method != NULL ? ar->ar_code_challenge_method : "plain";

		if (strcmp(m, "plain") != 0 && strcmp(m, "S256") != 0) {
			rp_error(cx, ar, "invalid_request", "Unsupported code_challenge_method.");
			return -1;
		}
		/* RFC 7636 §4.2: an S256 challenge is 43 base64url characters, a plain one a
		 * verifier. */
		if (!cu_oauth2_pkce_verifier_ok(ar->ar_code_challenge) ||
		    (strcmp(m, "S256") == 0 && strlen(ar->ar_code_challenge) != 43)) {
			rp_error(cx, ar, "invalid_request", "The code_challenge is malformed.");
			return -1;
		}
		ar->ar_method = m;
	} else if (ar->ar_code && p->op_pkce_required) {
		rp_error(cx, ar, "invalid_request", "This client must use PKCE (code_challenge).");
		return -1;
	}
	parse_prompt(ar);
	if (parse_max_age(ar->ar_max_age, &ar->ar_max_age_s) != 0) {
		rp_error(cx, ar, "invalid_request", "max_age must be a number of seconds.");
		return -1;
	}
	return 0;
}

/* --- the session and re-authentication ---------------------------------------------------- */

/* The request's logged-in session: 1 found, 0 none, -1 PostgreSQL unavailable. */
static int
session_of(struct cu_ctx *cx, const char *key, struct authz_session *s)
{
	const char *params[1] = {key};
	PGresult *res = NULL;

	memset(s, 0, sizeof(*s));
	if (key == NULL)
		return 0;
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_AUTHZ_SESSION, 1, params) !=
	    CU_OK)
		return -1;
	if (PQntuples(res) != 1)
		return 0;
	s->as_key = key;
	s->as_uuid = cu_db_value(res, 0, 0);
	s->as_login_ms = strtoll(cu_db_value(res, 0, 1), NULL, 10);
	s->as_db_now_ms = strtoll(cu_db_value(res, 0, 2), NULL, 10);
	s->as_amr = cu_db_value(res, 0, 3);
	s->as_user.us_id = strtoll(cu_db_value(res, 0, 4), NULL, 10);
	s->as_user.us_id_text = cu_db_value(res, 0, 4);
	s->as_user.us_uuid = cu_db_value(res, 0, 5);
	s->as_user.us_username = cu_db_value(res, 0, 6);
	s->as_user.us_name = cu_db_value(res, 0, 7);
	s->as_user.us_email = cu_db_value(res, 0, 8);
	s->as_user.us_type = cu_db_value(res, 0, 9);
	s->as_user.us_path = cu_db_value(res, 0, 10);
	s->as_user.us_is_superuser = strcmp(cu_db_value(res, 0, 11), "t") == 0;
	return 1;
}

/* The marker's MAC, hex, into out: HMAC-SHA256 under secret_key of the client and the time. */
static void
reauth_mac(struct cu_ctx *cx, const char *client_id, long long t,
           char out[2 * AUTHZ_REAUTH_MAC_LEN + 1])
{
	const char *key = cx->cx_cfg->secret_key != NULL ? cx->cx_cfg->secret_key : "";
	const char *msg =
	    cu_arena_printf(cx->cx_arena, "custos/oauth2/reauth\n%s\n%lld", client_id, t);
	uint8_t mac[CU_SHA256_LEN];

	cu_crypto_hmac_sha256(mac, key, strlen(key), msg, strlen(msg));
	cu_hex_encode(out, mac, AUTHZ_REAUTH_MAC_LEN);
}

/* "<t>.<mac>": a login must have happened at or after t (epoch milliseconds). */
static const char *
reauth_marker(struct cu_ctx *cx, const char *client_id, long long t)
{
	char mac[2 * AUTHZ_REAUTH_MAC_LEN + 1];

	reauth_mac(cx, client_id, t, mac);
	return cu_arena_printf(cx->cx_arena, "%lld.%s", t, mac);
}

/* 1 when the request carries a marker made here, not too old, and the session logged in at or
 * after the time it names. */
static int
reauth_done(struct cu_ctx *cx, const struct authz_req *ar, const struct authz_session *s)
{
	char mac[2 * AUTHZ_REAUTH_MAC_LEN + 1];
	const char *m = ar->ar_reauth, *dot;
	long long t = 0;
	size_t i;

	if (m == NULL || AUTHZ_BAD(ar, P_REAUTH) || (dot = strchr(m, '.')) == NULL || dot == m ||
	    dot - m > 15)
		return 0;
	for (i = 0; m + i < dot; i++) {
		if (!isdigit((unsigned char)m[i]))
			return 0;
		t = t * 10 + (m[i] - '0');
	}
	reauth_mac(cx, ar->ar_client_id, t, mac);
	if (!cu_crypto_ct_eq(dot + 1, strlen(dot + 1), mac, strlen(mac)))
		return 0;
	if (t > s->as_db_now_ms + AUTHZ_REAUTH_SKEW * 1000LL ||
	    s->as_db_now_ms - t > CU_OAUTH2_AUTHORIZE_REAUTH_AGE * 1000LL)
		return 0;
	return s->as_login_ms >= t;
}

/* This authorization URL, relative, as the login flow comes back to it (all parameters kept,
 * a new marker in place of any old one); NULL when too long. */
static const char *
return_url(struct cu_ctx *cx, const struct authz_req *ar, const char *marker)
{
	struct cu_kv *kv = cu_arena_alloc(cx->cx_arena, (ar->ar_nkv + 1) * sizeof(*kv));
	const char *q;
	size_t i, n = 0;

	for (i = 0; i < ar->ar_nkv; i++)
		if (strcmp(ar->ar_kv[i].kv_key, AUTHZ_REAUTH_PARAM) != 0)
			kv[n++] = ar->ar_kv[i];
	if (marker != NULL) {
		kv[n].kv_key = AUTHZ_REAUTH_PARAM;
		kv[n].kv_val = marker;
		kv[n++].kv_vlen = strlen(marker);
	}
	q = form_encode(cx, kv, n);
	return q != NULL ? cu_arena_printf(cx->cx_arena, AUTHZ_PATH "?%s", q) : NULL;
}

/* prefix + next percent-encoded, arena-owned (next is within CU_FLOWS_MAX_NEXT). */
static const char *
with_next(struct cu_ctx *cx, const char *prefix, const char *next)
{
	struct cu_buf b;
	int rc;

	cu_buf_init(&b, strlen(prefix) + 3 * strlen(next) + 1);
	rc = cu_buf_puts(&b, prefix);
	if (rc == 0)
		rc = url_encode_to(&b, next);
	return buf_done(cx, &b, rc);
}

/* The authentication flow to send the browser to: the provider's, else the brand's; NULL when
 * neither names one (then /flows/-/default/authentication/ picks it). */
static int
auth_flow_slug(struct cu_ctx *cx, const struct cu_oauth2_provider *p, const char **slug)
{
	const char *params[1];
	const char *h = cx->cx_req->rq_host != NULL ? cx->cx_req->rq_host : "";
	PGresult *res = NULL;
	char *host;
	size_t i, n;

	*slug = p->op_authentication_flow;
	if (*slug != NULL)
		return 0;
	/* The brand is found by the host without its port, lower-case, as the executor does. */
	n = h[0] == '[' && strchr(h, ']') != NULL ? (size_t)(strchr(h, ']') - h) + 1
	    : strchr(h, ':') != NULL              ? (size_t)(strchr(h, ':') - h)
	                                          : strlen(h);
	host = cu_arena_strndup(cx->cx_arena, h, n > 255 ? 255 : n);
	for (i = 0; host[i] != '\0'; i++)
		host[i] = (char)tolower((unsigned char)host[i]);
	params[0] = cu_utf8_valid(host, strlen(host)) ? host : "";
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_AUTHZ_BRAND_FLOW, 1,
	               params) != CU_OK)
		return -1;
	if (PQntuples(res) == 1)
		*slug = cu_db_value(res, 0, 0);
	return 0;
}

/*
 * Sends the browser to log in (again, when s is not NULL) and come back here. authentik plans
 * the provider's or the brand's authentication flow with the application and login_hint in
 * its context; so does this, through a seed. A logged-in session goes through that flow again
 * (the seed makes it run rather than finish at once); with no flow to seed, the session is
 * ended instead and the default login redirect used.
 */
static void
to_login(struct cu_ctx *cx, const struct cu_oauth2_provider *p, const struct authz_req *ar,
         const struct authz_session *s)
{
	const char *marker = NULL, *next, *slug = NULL, *url = NULL;
	struct json_object *ctx;
	int allowed;
	enum cu_err err;

	if (ar->ar_prompt_login || ar->ar_max_age_s >= 0)
		marker =
		    reauth_marker(cx, ar->ar_client_id,
		                  s != NULL ? s->as_db_now_ms
		                            : ((long long)time(NULL) - AUTHZ_REAUTH_SKEW) * 1000);
	next = return_url(cx, ar, marker);
	allowed = next != NULL ? cu_flow_next_allowed(cx, next) : 0;
	if (allowed < 0) {
		unavailable_page(cx);
		return;
	}
	if (allowed == 0) {
		rp_error(cx, ar, "invalid_request",
		         "The request is too long or holds characters that cannot be kept through "
		         "the login.");
		return;
	}
	if (auth_flow_slug(cx, p, &slug) != 0) {
		unavailable_page(cx);
		return;
	}
	if (slug != NULL) {
		ctx = cu_json_object(cx->cx_arena);
		if (p->op_app_uuid != NULL)
			cu_json_set_string(ctx, "application", p->op_app_uuid);
		if (ar->ar_login_hint != NULL && ar->ar_login_hint[0] != '\0')
			cu_json_set_string(ctx, "pending_user_identifier", ar->ar_login_hint);
		err = cu_flow_seed(cx, slug, ctx, NULL, with_next(cx, "next=", next), &url);
		if (err == CU_OK) {
			send_redirect(cx, url);
			return;
		}
		if (err != CU_ERR_NOT_FOUND) {
			unavailable_page(cx);
			return;
		}
	}
	if (s != NULL && cu_sessions_delete(cx, s->as_key) != CU_OK) {
		unavailable_page(cx);
		return;
	}
	send_redirect(cx, with_next(cx, "/flows/-/default/authentication/?next=", next));
}

/* --- consent ------------------------------------------------------------------------------ */

/* Orders permissions by id (json-c's sort passes pointers to the elements). */
static int
perm_cmp(const void *a, const void *b)
{
	const char *x = NULL, *y = NULL;

	(void)!cu_json_get_string(*(struct json_object *const *)a, "id", &x);
	(void)!cu_json_get_string(*(struct json_object *const *)b, "id", &y);
	return strcmp(x != NULL ? x : "", y != NULL ? y : "");
}

/* authentik's get_scope_descriptions: [{"id": scope_name, "name": description}] of p's
 * mappings for the scopes, by scope name. */
static struct json_object *
consent_permissions(struct cu_ctx *cx, const struct cu_oauth2_provider *p,
                    struct json_object *scopes)
{
	struct json_object *out = json_object_new_array();
	size_t i, n = p->op_mappings != NULL ? json_object_array_length(p->op_mappings) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(p->op_mappings, i), *e;
		const char *scope = NULL, *desc = NULL;

		if (cu_json_get_string(m, "scope_name", &scope) != 0 ||
		    !cu_oauth2_scopes_has(scopes, scope))
			continue;
		if (cu_json_get_string(m, "description", &desc) != 0)
			desc = "";
		e = json_object_new_object();
		cu_json_set_string(e, "id", scope);
		cu_json_set_string(e, "name", desc);
		json_object_array_add(out, e);
	}
	if (json_object_array_length(out) > 1)
		json_object_array_sort(out, perm_cmp);
	return cu_json_adopt(cx->cx_arena, out);
}

/*
 * What prompt=none and prompt=consent mean for the flow: *needed is set when the flow would
 * ask for consent (so prompt=none must fail with consent_required), *force when prompt=consent
 * finds no consent stage that would ask, so one must be added. -1 PostgreSQL unavailable.
 */
static int
consent_check(struct cu_ctx *cx, const struct cu_oauth2_provider *p, const struct authz_req *ar,
              const struct cu_user *user, struct json_object *perms, int *needed, int *force)
{
	const char *params[3];
	PGresult *res = NULL;
	long long stages, always;
	int covered;

	*needed = *force = 0;
	if (!ar->ar_prompt_none && !ar->ar_prompt_consent)
		return 0;
	params[0] = p->op_authorization_flow;
	params[1] = user->us_id_text;
	params[2] = p->op_app_uuid;
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_OAUTH2_AUTHZ_CONSENT, 3, params) !=
	    CU_OK)
		return -1;
	if (PQntuples(res) != 1)
		return 0;
	stages = strtoll(cu_db_value(res, 0, 0), NULL, 10);
	always = strtoll(cu_db_value(res, 0, 1), NULL, 10);
	covered = cu_db_value(res, 0, 2) != NULL &&
	          cu_stage_consent_covers(cu_db_value(res, 0, 2), perms);
	*needed = always > 0 || (stages > 0 && !covered);
	/* No stage, or ones that would pass on what was given before: ask anyway. */
	*force = ar->ar_prompt_consent && always == 0 && (stages == 0 || covered);
	return 0;
}

/* --- the endpoint ------------------------------------------------------------------------- */

/* The validated request as the fulfillment stage reads it. */
static struct json_object *
params_object(const struct authz_req *ar, const struct authz_session *s)
{
	struct json_object *o = json_object_new_object(), *prompt = json_object_new_array();
	struct json_object *scopes = NULL;

	cu_json_set_string(o, "client_id", ar->ar_client_id);
	cu_json_set_string(o, "redirect_uri", ar->ar_redirect_uri);
	cu_json_set_string(o, "response_type", response_type_text(ar));
	cu_json_set_string(o, "response_mode",
	                   ar->ar_mode == MODE_FORM_POST  ? "form_post"
	                   : ar->ar_mode == MODE_FRAGMENT ? "fragment"
	                                                  : "query");
	cu_json_set_string(o, "grant_type", grant_type(ar));
	if (json_object_deep_copy(ar->ar_scopes, &scopes, NULL) != 0)
		scopes = json_object_new_array();
	cu_json_set(o, "scope", scopes);
	if (ar->ar_state != NULL)
		cu_json_set_string(o, "state", ar->ar_state);
	if (ar->ar_nonce != NULL && ar->ar_nonce[0] != '\0')
		cu_json_set_string(o, "nonce", ar->ar_nonce);
	if (ar->ar_method != NULL) {
		cu_json_set_string(o, "code_challenge", ar->ar_code_challenge);
		cu_json_set_string(o, "code_challenge_method", ar->ar_method);
	}
	if (ar->ar_prompt_none)
		json_object_array_add(prompt, json_object_new_string("none"));
	if (ar->ar_prompt_login)
		json_object_array_add(prompt, json_object_new_string("login"));
	if (ar->ar_prompt_consent)
		json_object_array_add(prompt, json_object_new_string("consent"));
	cu_json_set(o, "prompt", prompt);
	if (ar->ar_max_age_s >= 0)
		cu_json_set_int(o, "max_age", ar->ar_max_age_s);
	cu_json_set_int(o, "user", s->as_user.us_id);
	return o;
}

/* authentik's modify_policy_request: what the application's policies see of the request. */
static struct json_object *
policy_context(struct cu_ctx *cx, const struct authz_req *ar)
{
	struct json_object *c = cu_json_object(cx->cx_arena), *scopes = NULL;

	if (json_object_deep_copy(ar->ar_scopes, &scopes, NULL) != 0)
		scopes = json_object_new_array();
	cu_json_set(c, "oauth_scopes", scopes);
	cu_json_set_string(c, "oauth_grant_type", grant_type(ar));
	cu_json_set_string(c, "oauth_code_challenge",
	                   ar->ar_method != NULL ? ar->ar_code_challenge : NULL);
	cu_json_set_string(c, "oauth_code_challenge_method", ar->ar_method);
	if (ar->ar_max_age_s >= 0)
		cu_json_set_int(c, "oauth_max_age", ar->ar_max_age_s);
	else
		cu_json_set(c, "oauth_max_age", NULL);
	cu_json_set_string(c, "oauth_redirect_uri", ar->ar_redirect_uri);
	cu_json_set_string(c, "oauth_response_type", response_type_text(ar));
	return c;
}

/* Starts the provider's authorization flow for the (checked, logged-in, allowed) request. */
static void
start_flow(struct cu_ctx *cx, const struct cu_oauth2_provider *p, const struct authz_req *ar,
           const struct authz_session *s)
{
	struct json_object *ctx = cu_json_object(cx->cx_arena), *append, *st, *perms, *arr;
	const char *url = NULL;
	int needed = 0, force = 0, r;
	enum cu_err err;

	perms = consent_permissions(cx, p, ar->ar_scopes);
	r = consent_check(cx, p, ar, &s->as_user, perms, &needed, &force);
	if (r < 0) {
		unavailable_page(cx);
		return;
	}
	/* authentik answers consent_required for prompt=none with prompt=consent, and OpenID
	 * Connect for prompt=none whenever consent would be asked. */
	if (ar->ar_prompt_none && (ar->ar_prompt_consent || needed)) {
		rp_error(cx, ar, "consent_required", "The user must consent to this application.");
		return;
	}
	cu_json_set_string(ctx, "application", p->op_app_uuid);
	cu_json_set_string(ctx, "application_name", p->op_app_name);
	cu_json_set_string(ctx, "consent_header",
	                   cu_arena_printf(cx->cx_arena, "You're about to sign into %s.",
	                                   p->op_app_name != NULL ? p->op_app_name : ""));
	cu_json_set(ctx, "consent_permissions", json_object_get(perms));
	cu_json_set(ctx, AUTHZ_CTX_PARAMS, params_object(ar, s));
	append = cu_json_array(cx->cx_arena);
	if (force) {
		/* authentik's in-memory consent stage for prompt=consent. */
		st = json_object_new_object();
		cu_json_set_string(st, "name", "OAuth2 Provider In-memory consent stage");
		cu_json_set_string(st, "type", "consentstage");
		arr = json_object_new_object();
		cu_json_set_string(arr, "mode", "always_require");
		cu_json_set(st, "config", arr);
		json_object_array_add(append, st);
	}
	st = json_object_new_object();
	cu_json_set_string(st, "name", "oauth2");
	cu_json_set_string(st, "type", cu_stage_oauth2_fulfillment.st_type);
	cu_json_set(st, "config", json_object_new_object());
	json_object_array_add(append, st);
	err = cu_flow_seed(cx, p->op_authorization_flow, ctx, append, "", &url);
	if (err == CU_ERR_NOT_FOUND) {
		error_page(cx, 400, "Configuration Error",
		           "The application's authorization flow does not exist.");
		return;
	}
	if (err != CU_OK) {
		unavailable_page(cx);
		return;
	}
	cu_log(CU_LOG_INFO, "oauth2_authorize_flow", CU_LS("client_id", ar->ar_client_id),
	       CU_LS("flow", p->op_authorization_flow), CU_LB("consent_forced", force));
	send_redirect(cx, url);
}

void
cu_oauth2_authorize(struct cu_ctx *cx)
{
	const struct cu_oauth2_provider *p = NULL;
	struct json_object *messages = NULL;
	struct authz_req ar;
	struct authz_session s;
	int have, access, reauth;
	enum cu_err err;

	memset(&ar, 0, sizeof(ar));
	ar.ar_max_age_s = -1;
	if (read_params(cx, &ar) != 0) {
		error_page(cx, 400, "Bad Request", "The request could not be read.");
		return;
	}
	/* authentik: an authorization URL without parameters is not found. */
	if (ar.ar_nkv == 0) {
		error_page(cx, 404, "Not Found", "This page needs an authorization request.");
		return;
	}
	if (ar.ar_client_id == NULL || ar.ar_client_id[0] == '\0' || AUTHZ_BAD(&ar, P_CLIENT_ID) ||
	    strlen(ar.ar_client_id) > CU_OAUTH2_MAX_CLIENT_ID) {
		client_error_page(cx);
		return;
	}
	err = cu_oauth2_provider_by_client_id(cx, ar.ar_client_id, 0, &p);
	if (err == CU_ERR_NOT_FOUND) {
		client_error_page(cx);
		return;
	}
	if (err != CU_OK) {
		unavailable_page(cx);
		return;
	}
	if (ar.ar_redirect_uri == NULL || AUTHZ_BAD(&ar, P_REDIRECT_URI) ||
	    !cu_oauth2_redirect_match(p->op_redirect_uris, "authorization", ar.ar_redirect_uri)) {
		redirect_error_page(cx);
		return;
	}
	/* From here on the redirect URI is the client's own. */
	if (check_request(cx, p, &ar) != 0)
		return;
	have = session_of(cx, cu_sessions_cookie_sid(cx), &s);
	if (have < 0) {
		unavailable_page(cx);
		return;
	}
	if (!have) {
		if (ar.ar_prompt_none) {
			rp_error(cx, &ar, "login_required", "The user is not logged in.");
			return;
		}
		to_login(cx, p, &ar, NULL);
		return;
	}
	if (p->op_app_uuid == NULL) {
		access_denied_page(cx, NULL);
		return;
	}
	access = cu_oauth2_app_access_ctx(cx, p, &s.as_user, policy_context(cx, &ar), &messages);
	if (access < 0) {
		unavailable_page(cx);
		return;
	}
	if (access == 0) {
		if (ar.ar_prompt_none) {
			rp_error(cx, &ar, "access_denied",
			         "The user may not use this application.");
			return;
		}
		access_denied_page(cx, messages);
		return;
	}
	/* authentik: max_age and prompt=login send a logged-in user to log in again, once. */
	reauth =
	    !reauth_done(cx, &ar, &s) &&
	    (ar.ar_prompt_login ||
	     (ar.ar_max_age_s >= 0 && (s.as_db_now_ms - s.as_login_ms) / 1000 > ar.ar_max_age_s));
	if (reauth) {
		if (ar.ar_prompt_none) {
			rp_error(cx, &ar, "login_required", "The user must log in again.");
			return;
		}
		to_login(cx, p, &ar, &s);
		return;
	}
	start_flow(cx, p, &ar, &s);
}

/* --- the fulfillment stage ---------------------------------------------------------------- */

/* The request the authorize endpoint left in the plan. */
struct fulfil {
	const char *fu_client_id;
	const char *fu_redirect_uri;
	const char *fu_response_type;
	const char *fu_state;
	const char *fu_nonce;
	const char *fu_challenge;
	const char *fu_method;
	const char *fu_app_uuid;
	struct json_object *fu_scopes;
	struct json_object *fu_prompt;
	long long fu_user;
	int fu_code, fu_id_token, fu_token;
	enum authz_mode fu_mode;
};

static const char *
obj_str(struct json_object *o, const char *key)
{
	const char *v = NULL;

	return cu_json_get_string(o, key, &v) == 0 ? v : NULL;
}

static int
fulfil_read(struct json_object *o, struct fulfil *f)
{
	const char *mode;
	int64_t uid = 0;

	memset(f, 0, sizeof(*f));
	f->fu_client_id = obj_str(o, "client_id");
	f->fu_redirect_uri = obj_str(o, "redirect_uri");
	f->fu_response_type = obj_str(o, "response_type");
	f->fu_state = obj_str(o, "state");
	f->fu_nonce = obj_str(o, "nonce");
	f->fu_challenge = obj_str(o, "code_challenge");
	f->fu_method = obj_str(o, "code_challenge_method");
	mode = obj_str(o, "response_mode");
	if (cu_json_get_array(o, "scope", &f->fu_scopes) != 0)
		f->fu_scopes = NULL;
	if (cu_json_get_array(o, "prompt", &f->fu_prompt) != 0)
		f->fu_prompt = NULL;
	if (f->fu_client_id == NULL || f->fu_redirect_uri == NULL || mode == NULL ||
	    f->fu_scopes == NULL || cu_json_get_int(o, "user", &uid) != 0 ||
	    parse_response_type(f->fu_response_type, &f->fu_code, &f->fu_id_token, &f->fu_token) !=
	        0)
		return -1;
	f->fu_user = (long long)uid;
	f->fu_mode = strcmp(mode, "form_post") == 0  ? MODE_FORM_POST
	             : strcmp(mode, "fragment") == 0 ? MODE_FRAGMENT
	                                             : MODE_QUERY;
	return 0;
}

/* Sends the pairs to the relying party from the flow: the plan ends with a redirect (query,
 * fragment) or shows the posting form (form_post). */
static enum cu_stage_result
fulfil_answer(struct cu_flow_exec *fx, const struct fulfil *f, const char *app_name,
              const struct cu_kv *kv, size_t n)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct json_object *ch, *attrs;
	const char *url;
	size_t i;

	if (f->fu_mode == MODE_FORM_POST) {
		ch = cu_flow_challenge(fx, "ak-stage-autosubmit");
		cu_json_set_string(ch, "url", f->fu_redirect_uri);
		attrs = json_object_new_object();
		for (i = 0; i < n; i++)
			cu_json_set_string(attrs, kv[i].kv_key, kv[i].kv_val);
		cu_json_set(ch, "attrs", attrs);
		cu_json_set_string(
		    ch, "title",
		    cu_arena_printf(cx->cx_arena, "Redirecting to %s...",
		                    app_name != NULL ? app_name : "the application"));
		return CU_STAGE_CHALLENGE;
	}
	url = rp_url(cx, f->fu_redirect_uri, f->fu_mode, kv, n);
	if (url == NULL)
		return cu_flow_deny(fx, "The response is too long for a redirect.");
	/* The executor ends the plan with xak-flow-redirect to the context's redirect. */
	cu_flow_ctx_set_string(fx, "redirect", url);
	return CU_STAGE_NEXT;
}

static enum cu_stage_result
fulfil_error(struct cu_flow_exec *fx, const struct fulfil *f, const char *app_name,
             const char *error, const char *description)
{
	struct cu_kv kv[3];
	size_t n = 0;

	kv[n].kv_key = "error";
	kv[n++].kv_val = error;
	kv[n].kv_key = "error_description";
	kv[n++].kv_val = description;
	if (f->fu_state != NULL) {
		kv[n].kv_key = "state";
		kv[n++].kv_val = f->fu_state;
	}
	cu_log(CU_LOG_WARNING, "oauth2_fulfillment_error", CU_LS("error", error),
	       CU_LS("client_id", f->fu_client_id));
	return fulfil_answer(fx, f, app_name, kv, n);
}

static int
prompt_has(struct json_object *prompt, const char *v)
{
	return prompt != NULL && cu_oauth2_scopes_has(prompt, v);
}

/* authentik's authorize_application event. */
static enum cu_err
fulfil_event(struct cu_flow_exec *fx, const struct cu_oauth2_provider *p, struct cu_user *user,
             struct json_object *scopes)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct cu_user *saved = cx->cx_user;
	struct json_object *ev = cu_json_object(cx->cx_arena), *app = json_object_new_object();
	char hex[33];
	size_t i, o = 0;
	enum cu_err err;

	/* authentik's model_to_dict writes a uuid pk without dashes. */
	for (i = 0; p->op_app_uuid[i] != '\0' && o < sizeof(hex) - 1; i++)
		if (p->op_app_uuid[i] != '-')
			hex[o++] = p->op_app_uuid[i];
	hex[o] = '\0';
	cu_json_set_string(app, "app", "authentik_core");
	cu_json_set_string(app, "model_name", "application");
	cu_json_set_string(app, "pk", hex);
	cu_json_set_string(app, "name", p->op_app_name);
	cu_json_set(ev, "authorized_application", app);
	o = 0;
	for (i = 0; fx->fx_flow->fl_uuid[i] != '\0' && o < sizeof(hex) - 1; i++)
		if (fx->fx_flow->fl_uuid[i] != '-')
			hex[o++] = fx->fx_flow->fl_uuid[i];
	hex[o] = '\0';
	cu_json_set_string(ev, "flow", hex);
	cu_json_set_string(ev, "scopes", cu_oauth2_scopes_join(cx, scopes));
	cx->cx_user = user;
	err = cu_events_write(cx, "authorize_application", AUTHZ_EVENT_APP, ev);
	cx->cx_user = saved;
	return err;
}

static enum cu_stage_result
fulfillment_run(struct cu_flow_exec *fx)
{
	struct cu_ctx *cx = fx->fx_cx;
	const struct cu_oauth2_provider *p = NULL;
	struct json_object *params = cu_flow_ctx_get(fx, AUTHZ_CTX_PARAMS);
	struct cu_oauth2_grant g;
	struct cu_oauth2_tokens tok;
	struct authz_session s;
	struct fulfil f;
	struct cu_kv kv[8];
	const char *code = NULL, *app_uuid = cu_flow_ctx_string(fx, "application");
	size_t n = 0;
	int have;
	enum cu_err err;

	if (params == NULL || !json_object_is_type(params, json_type_object)) {
		cu_log_msg(CU_LOG_WARNING, "oauth2_fulfillment_no_request", "nothing pending");
		return cu_flow_deny(fx, "There is no authorization request to complete.");
	}
	/* One answer per authorization request: a second visit finds nothing pending. */
	cu_json_adopt(cx->cx_arena, json_object_get(params));
	cu_flow_ctx_del(fx, AUTHZ_CTX_PARAMS);
	if (fulfil_read(params, &f) != 0) {
		cu_log_msg(CU_LOG_WARNING, "oauth2_fulfillment_bad_request",
		           "pending request unreadable");
		return cu_flow_deny(fx, "The authorization request could not be read.");
	}
	/* Everything the request was checked against is checked again, afresh. */
	err = cu_oauth2_provider_by_client_id(cx, f.fu_client_id, 1, &p);
	if (err == CU_ERR_NOT_FOUND)
		return cu_flow_deny(fx, "The client identifier (client_id) is no longer valid.");
	if (err != CU_OK)
		return CU_STAGE_FAIL;
	if (p->op_app_uuid == NULL || app_uuid == NULL || strcmp(p->op_app_uuid, app_uuid) != 0)
		return cu_flow_deny(fx, "The application of this client has changed.");
	if (!cu_oauth2_redirect_match(p->op_redirect_uris, "authorization", f.fu_redirect_uri))
		return cu_flow_deny(fx,
		                    "The redirect URI (redirect_uri) is no longer registered for "
		                    "this client.");
	if (fx->fx_session_user == NULL || fx->fx_session_user->us_id != f.fu_user)
		return cu_flow_deny(fx,
		                    "The user who started this authorization is not logged in.");
	have = session_of(cx, fx->fx_session_key, &s);
	if (have < 0)
		return CU_STAGE_FAIL;
	if (have == 0 || s.as_user.us_id != f.fu_user)
		return cu_flow_deny(fx,
		                    "The user who started this authorization is not logged in.");
	if (prompt_has(f.fu_prompt, "none") && prompt_has(f.fu_prompt, "consent"))
		return fulfil_error(fx, &f, p->op_app_name, "consent_required",
		                    "The user must consent to this application.");

	memset(&g, 0, sizeof(g));
	memset(&tok, 0, sizeof(tok));
	g.og_user = fx->fx_session_user;
	/* Mappings may have changed since: the scopes are clamped again. */
	g.og_scopes = cu_oauth2_scopes_clamp(cx, p, f.fu_scopes, NULL);
	g.og_session_uuid = s.as_uuid;
	g.og_auth_time = (time_t)(s.as_login_ms / 1000);
	g.og_amr = s.as_amr;
	g.og_nonce = f.fu_nonce;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK)
		return CU_STAGE_FAIL;
	if (f.fu_code && (err = cu_oauth2_code_create(cx, p, &g, f.fu_redirect_uri, f.fu_challenge,
	                                              f.fu_method, &code)) != CU_OK)
		goto fail;
	if ((f.fu_id_token || f.fu_token) &&
	    (err = cu_oauth2_issue(cx, p, &g, code, f.fu_token, f.fu_id_token, 0, &tok)) != CU_OK)
		goto fail;
	if ((err = fulfil_event(fx, p, fx->fx_session_user, g.og_scopes)) != CU_OK)
		goto fail;
	if ((err = cu_db_commit(cx->cx_db)) != CU_OK)
		goto fail;
	cu_log(CU_LOG_INFO, "oauth2_authorized", CU_LS("client_id", f.fu_client_id),
	       CU_LS("response_type", f.fu_response_type), CU_LI("user", f.fu_user));

	if (f.fu_id_token || f.fu_token) {
		/* authentik's create_implicit_response. */
		if (tok.ot_access_token != NULL) {
			kv[n].kv_key = "access_token";
			kv[n++].kv_val = tok.ot_access_token;
		}
		if (tok.ot_id_token != NULL) {
			kv[n].kv_key = "id_token";
			kv[n++].kv_val = tok.ot_id_token;
		}
		if (code != NULL) {
			kv[n].kv_key = "code";
			kv[n++].kv_val = code;
		}
		kv[n].kv_key = "token_type";
		kv[n++].kv_val = "Bearer";
		kv[n].kv_key = "expires_in";
		kv[n++].kv_val = cu_arena_printf(
		    cx->cx_arena, "%lld",
		    tok.ot_access_token != NULL ? tok.ot_expires_in : p->op_access_validity);
	} else {
		kv[n].kv_key = "code";
		kv[n++].kv_val = code;
	}
	if (f.fu_state != NULL) {
		kv[n].kv_key = "state";
		kv[n++].kv_val = f.fu_state;
	}
	return fulfil_answer(fx, &f, p->op_app_name, kv, n);
fail:
	cu_db_rollback(cx->cx_db);
	cu_log(CU_LOG_ERROR, "oauth2_fulfillment_failed", CU_LS("client_id", f.fu_client_id),
	       CU_LS("error", cu_strerror(err)));
	if (err == CU_ERR_UNAVAILABLE)
		return CU_STAGE_FAIL;
	return fulfil_error(fx, &f, p->op_app_name, "server_error",
	                    "The authorization server could not complete the request.");
}

/* authentik answers a POST to this stage as a GET. */
static enum cu_stage_result
fulfillment_respond(struct cu_flow_exec *fx, struct json_object *body)
{
	(void)body;
	return fulfillment_run(fx);
}

const struct cu_stage_type cu_stage_oauth2_fulfillment = {
    "internal:oauth2_fulfillment", "xak-flow-redirect", fulfillment_run, fulfillment_respond};
