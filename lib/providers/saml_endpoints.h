/*
 * The handlers of cgi-bin/saml.c (/application/saml/<app slug>/...), the flow stages the SAML
 * provider appends to plans, and what saml.c, saml_sso.c and saml_slo.c share. The pure parts
 * (request parsing, times, durations) need no database: unit tests and the fuzz target call
 * them alone.
 */
#ifndef CU_PROVIDERS_SAML_ENDPOINTS_H
#define CU_PROVIDERS_SAML_ENDPOINTS_H

#include <stddef.h>
#include <time.h>

#include <libxml/tree.h>

#include "err.h"
#include "flows.h"
#include "providers/saml.h"

struct cu_ctx;
struct cu_arena;
struct cu_oauth2_user;
struct json_object;

#define CU_SAML_NS_PROTOCOL "urn:oasis:names:tc:SAML:2.0:protocol"
#define CU_SAML_NS_ASSERTION "urn:oasis:names:tc:SAML:2.0:assertion"
#define CU_SAML_NS_METADATA "urn:oasis:names:tc:SAML:2.0:metadata"
#define CU_SAML_NS_DSIG "http://www.w3.org/2000/09/xmldsig#"
#define CU_SAML_BINDING_POST "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
#define CU_SAML_BINDING_REDIRECT "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
#define CU_SAML_STATUS_SUCCESS "urn:oasis:names:tc:SAML:2.0:status:Success"

#define CU_SAML_NAMEID_UNSPECIFIED "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
#define CU_SAML_NAMEID_EMAIL "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
#define CU_SAML_NAMEID_PERSISTENT "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
#define CU_SAML_NAMEID_TRANSIENT "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
#define CU_SAML_NAMEID_X509 "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
#define CU_SAML_NAMEID_WINDOWS                                                                     \
	"urn:oasis:names:tc:SAML:2.0:nameid-format:WindowsDomainQualifiedName"

/* --- handlers ---------------------------------------------------------------------------- */

/* saml_sso.c: GET sso/binding/redirect/, POST (and GET, as authentik) sso/binding/post/,
 * GET sso/binding/init/ (IdP-initiated). */
void cu_saml_sso_redirect(struct cu_ctx *cx);
void cu_saml_sso_post(struct cu_ctx *cx);
void cu_saml_sso_init(struct cu_ctx *cx);
/* saml_slo.c: GET slo/binding/redirect/, POST slo/binding/post/. */
void cu_saml_slo_redirect(struct cu_ctx *cx);
void cu_saml_slo_post(struct cu_ctx *cx);
/* saml.c: GET metadata/ (the IdP metadata as application/xml; ?download makes it a file). */
void cu_saml_metadata_download(struct cu_ctx *cx);

/* Stage kinds appended to plans (cu_flow_seed's append), registered in lib/stages/stages.c:
 * saml_sso.c's answers the SP's AuthnRequest (authentik's SAMLFlowFinalView), saml_slo.c's
 * ends the session and answers a LogoutRequest. */
extern const struct cu_stage_type cu_stage_saml_fulfillment; /* "internal:saml_fulfillment" */
extern const struct cu_stage_type cu_stage_saml_logout;      /* "internal:saml_logout" */

/* --- pure helpers (saml.c) --------------------------------------------------------------- */

/* What custos reads of an AuthnRequest or a LogoutRequest, from the root element only.
 * Strings are arena-owned (or borrowed from the document), NULL when absent. */
enum cu_saml_request_kind { CU_SAML_AUTHN_REQUEST, CU_SAML_LOGOUT_REQUEST };

struct cu_saml_request {
	enum cu_saml_request_kind sr_kind;
	xmlDoc *sr_doc; /* freed at the arena's reset */
	xmlNode *sr_root;
	const char *sr_id;
	time_t sr_issue_instant;
	const char *sr_issuer;
	const char *sr_destination;
	/* AuthnRequest */
	const char *sr_acs_url;
	const char *sr_name_id_policy; /* NameIDPolicy/@Format; unspecified when absent */
	/* LogoutRequest */
	const char *sr_name_id;
	const char *sr_name_id_format;
	const char *sr_session_index;
	time_t sr_not_on_or_after; /* 0 when absent */
};

/*
 * Parses len bytes of an untrusted message (cu_xmlsig_parse's limits, and at most
 * CU_SAML_MAX_MESSAGE) whose root must be samlp:<kind> with Version 2.0, an ID of at most
 * CU_SAML_MAX_ID bytes and an IssueInstant. CU_ERR_TOO_LARGE past a limit, CU_ERR_INVALID with
 * *why (a literal fit for a page) for anything else.
 */
enum cu_err cu_saml_request_parse(struct cu_saml_request *out, struct cu_arena *a,
                                  enum cu_saml_request_kind kind, const char *xml, size_t len,
                                  const char **why) __attribute__((warn_unused_result));

/* Whether issue_instant is acceptable at now: at most skew seconds ahead, and no older than
 * CU_SAML_REQUEST_LIFETIME + skew. */
int cu_saml_instant_ok(time_t issue_instant, time_t now, long long skew);

/* 1 when p accepts SHA-1 in a request's signature: only when p is set to SHA-1 itself (an SP
 * too old for anything else). Elsewhere a message naming SHA-1 is refused, not verified. */
int cu_saml_sha1_allowed(const struct cu_saml_provider *p);

/* An xs:dateTime as SAML writes it (UTC: "Z", "+00:00" or no zone; fractions allowed) into
 * epoch seconds. -1 for anything else. */
int cu_saml_time_parse(const char *s, time_t *out) __attribute__((warn_unused_result));
/* "YYYY-MM-DDThh:mm:ssZ" of t into out. */
void cu_saml_time_format(char out[32], time_t t);
/* authentik's duration strings with signs allowed ("minutes=-5", "hours=1;minutes=-2"). */
int cu_saml_timedelta(const char *s, long long *out) __attribute__((warn_unused_result));
/* A fresh xs:ID: "_" and 40 hex digits, into out. */
void cu_saml_new_id(char out[42]);
/* 1 for a NameID format custos can answer (the six of authentik). */
int cu_saml_name_id_format_known(const char *uri);
/* s as text fit for XML: invalid UTF-8 and control characters XML 1.0 forbids become U+FFFD.
 * s itself when already fit, else a new arena string. */
const char *cu_saml_xml_text(struct cu_arena *a, const char *s);

/* --- helpers with the database (saml.c) -------------------------------------------------- */

/* The error page every SAML endpoint answers with (HTML, escaped, never a redirect); logs. */
void cu_saml_error_page(struct cu_ctx *cx, int status, const char *title, const char *message);
/* authentik's AccessDeniedResponse, with the policies' messages. */
void cu_saml_access_denied_page(struct cu_ctx *cx, struct json_object *messages);

/* Absolute URL of path (which starts with '/') from the request's scheme and Host. */
const char *cu_saml_url(struct cu_ctx *cx, const char *path);

/* The provider's keys (lib/keys.h caches them per process); NULL with CU_OK when not set. */
enum cu_err cu_saml_signing_key(struct cu_ctx *cx, const struct cu_saml_provider *p,
                                const struct cu_xmlsig_key **out)
    __attribute__((warn_unused_result));
enum cu_err cu_saml_verification_key(struct cu_ctx *cx, const struct cu_saml_provider *p,
                                     const struct cu_xmlsig_key **out)
    __attribute__((warn_unused_result));
enum cu_err cu_saml_encryption_key(struct cu_ctx *cx, const struct cu_saml_provider *p,
                                   const struct cu_xmlsig_key **out)
    __attribute__((warn_unused_result));

/* A logged-in browser session and its user, as the responses need them. */
struct cu_saml_login {
	const char *sl_key;
	const char *sl_uuid;
	time_t sl_login;            /* when it logged in */
	const char *sl_auth_method; /* the login event's, or NULL */
	int sl_mfa;                 /* the login used MFA devices */
	struct cu_oauth2_user *sl_user;
};
/* 1 with *out for an unexpired session key with an active user, 0 for none, -1 PostgreSQL
 * unavailable. */
int cu_saml_login_of(struct cu_ctx *cx, const char *key, struct cu_saml_login *out)
    __attribute__((warn_unused_result));

/* Whether user may use p's application (its policy bindings; none: yes). 1, 0 (messages),
 * -1 unavailable. */
int cu_saml_app_access(struct cu_ctx *cx, const struct cu_saml_provider *p,
                       const struct cu_user *user, struct json_object **messages)
    __attribute__((warn_unused_result));

/* Records request_id of p as used until expires: 1 taken, 0 a replay, -1 unavailable. Runs in
 * the caller's transaction when one is open. */
int cu_saml_request_take(struct cu_ctx *cx, const struct cu_saml_provider *p,
                         const char *request_id, time_t expires)
    __attribute__((warn_unused_result));

/* What the mappings give for one user: the attributes in mapping order, the NameID mapping's
 * value (sv_name_id NULL when there is none or it gave nil) and the AuthnContextClassRef
 * mapping's. Arena-owned. */
struct cu_saml_attr {
	const char *sa_name;
	const char *sa_friendly_name; /* NULL or "" for none */
	const char **sa_values;
	size_t sa_nvalues;
};
struct cu_saml_values {
	struct cu_saml_attr *sv_attrs;
	size_t sv_nattrs;
	const char *sv_name_id;
	const char *sv_authn_class;
};
enum cu_err cu_saml_evaluate(struct cu_ctx *cx, const struct cu_saml_provider *p,
                             const struct cu_oauth2_user *u, struct cu_saml_values *out)
    __attribute__((warn_unused_result));

/* authentik's User.uid of user: the hex SHA-256 of "<pk>-<install id>", arena-owned. */
const char *cu_saml_user_uid(struct cu_ctx *cx, const struct cu_saml_provider *p,
                             const struct cu_user *user);

/* The IdP metadata with only one binding's services ("redirect", "post"; NULL for both), as
 * authentik's force_binding. */
enum cu_err cu_saml_metadata_binding(struct cu_ctx *cx, const struct cu_saml_provider *p,
                                     const char *force_binding, const char **xml, size_t *len)
    __attribute__((warn_unused_result));

/* Pages the endpoints share (saml.c): a 302 with no-store; the 503 page; a 400 page with
 * message; 413 or 400 for a message that did not parse; and the provider of the route's
 * application, 0 or -1 with the 404 / 503 page sent. */
void cu_saml_redirect(struct cu_ctx *cx, const char *location);
void cu_saml_unavailable(struct cu_ctx *cx);
void cu_saml_bad_request(struct cu_ctx *cx, const char *message);
void cu_saml_parse_failed(struct cu_ctx *cx, enum cu_err err, const char *why);
int cu_saml_route_provider(struct cu_ctx *cx, const struct cu_saml_provider **p)
    __attribute__((warn_unused_result));

#endif
