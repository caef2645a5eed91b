/*
 * The SAML 2.0 identity provider's core (saml.h, saml_endpoints.h): providers, the IdP metadata,
 * the property mappings' values, SP metadata for import, and what the SSO and SLO endpoints
 * share (request parsing, times, keys, sessions, replay records, pages).
 *
 * Providers are read from PostgreSQL on every lookup, one statement with their keys'
 * fingerprints, flows, application and mappings: every SAML request does several round trips
 * anyway, and a row read afresh can never be stale. What costs is kept per process instead:
 * the unsealed signing key and the parsed certificates (lib/keys.h), and the Lua interpreter
 * runs all mappings of one assertion together (cu_policy_expression_values).
 *
 * Everything from outside is parsed with cu_xmlsig_parse (no DTD, bounded) and read from the
 * root element and its direct children only: a signature, when required, has been checked on
 * that very root (lib/xmlsig.h), so what is read is what was signed.
 */
#include "providers/saml.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>
#include <libxml/tree.h>

#include "auth.h"
#include "bounds.h"
#include "buf.h"
#include "crypto.h"
#include "db.h"
#include "http.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "mem.h"
#include "policies/engine.h"
#include "policies/expression.h"
#include "policies/kinds.h"
#include "providers/oauth2.h"
#include "providers/saml_endpoints.h"
#include "server.h"
#include "xmlsig.h"

#define XS(s) ((const xmlChar *)(s))
#define PAGE_MAX (64 * 1024)
#define MAPPING_TIMEOUT 30 /* seconds, as a policy binding's default timeout */
#define MAX_URL 4096
/* Fallbacks for duration strings the API should never have let in (authentik's defaults). */
#define DEFAULT_NOT_BEFORE (-300)
#define DEFAULT_NOT_ON_OR_AFTER 300
#define DEFAULT_SESSION (86400LL * 60)
/* authentik's LDAP source attribute X509SubjectName NameIDs are read from. */
#define LDAP_DN_ATTRIBUTE "distinguishedName"

/* The provider with what only this file and the endpoints need. */
struct saml_prov {
	struct cu_saml_provider sx_p; /* first: a provider pointer is its saml_prov's address */
	const char *sx_name_id_name;
	const char *sx_name_id_expr;
	const char *sx_authn_name;
	const char *sx_authn_expr;
	const char *sx_install_id;
	const char *sx_signing_cert; /* PEM */
};

static const struct saml_prov *
prov_of(const struct cu_saml_provider *p)
{
	return (const struct saml_prov *)(const void *)p;
}

/* --- pure helpers -------------------------------------------------------------------------- */

static int
two_digits(const char *s, int *out)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return -1;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static long long
days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
cu_saml_time_parse(const char *s, time_t *out)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int year = 0, mon, day, hh, mm, ss, oh = 0, om = 0, sign = 0;
	size_t i;
	long long t;

	*out = 0;
	if (s == NULL || strlen(s) < 19)
		return -1;
	for (i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		year = year * 10 + (s[i] - '0');
	}
	if (s[4] != '-' || two_digits(s + 5, &mon) != 0 || s[7] != '-' ||
	    two_digits(s + 8, &day) != 0 || s[10] != 'T' || two_digits(s + 11, &hh) != 0 ||
	    s[13] != ':' || two_digits(s + 14, &mm) != 0 || s[16] != ':' ||
	    two_digits(s + 17, &ss) != 0)
		return -1;
	if (year < 1970 || mon < 1 || mon > 12 || day < 1 ||
	    day > mdays[mon - 1] + (mon == 2 && leap(year)) || hh > 23 || mm > 59 || ss > 59)
		return -1;
	s += 19;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		for (i = 0; isdigit((unsigned char)s[i]); i++)
			if (i >= 12)
				return -1;
		s += i;
	}
	if (*s == 'Z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		if (two_digits(s + 1, &oh) != 0 || s[3] != ':' || two_digits(s + 4, &om) != 0 ||
		    oh > 14 || om > 59)
			return -1;
		s += 6;
	}
	if (*s != '\0')
		return -1;
	t = days_from_civil(year, mon, day) * 86400LL + hh * 3600LL + mm * 60LL + ss;
	/* An offset says local time is ahead of UTC by it. */
	t -= sign * (oh * 3600LL + om * 60LL);
	*out = (time_t)t;
	return 0;
}

void
cu_saml_time_format(char out[32], time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "1970-01-01T00:00:00Z");
}

int
cu_saml_instant_ok(time_t issue_instant, time_t now, long long skew)
{
	long long d = (long long)issue_instant - (long long)now;

	return d <= skew && -d <= CU_SAML_REQUEST_LIFETIME + skew;
}

int
cu_saml_sha1_allowed(const struct cu_saml_provider *p)
{
	return p->sp_signature == CU_XMLSIG_RSA_SHA1 || p->sp_digest == CU_XMLSIG_SHA1;
}

int
cu_saml_timedelta(const char *s, long long *out)
{
	static const struct {
		const char *u;
		double secs;
	} units[] = {{"weeks", 604800.0},   {"days", 86400.0}, {"hours", 3600.0},
	             {"minutes", 60.0},     {"seconds", 1.0},  {"milliseconds", 1e-3},
	             {"microseconds", 1e-6}};
	double total = 0;
	const char *p = s;

	*out = 0;
	if (s == NULL || *s == '\0' || strlen(s) > 256)
		return -1;
	while (*p != '\0') {
		const char *eq = strchr(p, '='), *end;
		double v = 0, scale = 1;
		int neg = 0, digits = 0;
		size_t i, n;

		if (eq == NULL)
			return -1;
		n = (size_t)(eq - p);
		if (n == 0 || memchr(p, ';', n) != NULL)
			return -1;
		/* authentik skips keys it does not know. */
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strlen(units[i].u) == n && strncasecmp(units[i].u, p, n) == 0)
				break;
		end = eq + 1;
		if (*end == '-' || *end == '+')
			neg = *end++ == '-';
		for (; isdigit((unsigned char)*end); end++, digits++)
			if (digits < 12)
				v = v * 10 + (*end - '0');
			else
				return -1;
		if (*end == '.') {
			for (end++; isdigit((unsigned char)*end); end++, digits++) {
				scale /= 10;
				v += (*end - '0') * scale;
			}
		}
		if (digits == 0 || (*end != ';' && *end != '\0') || (*end == ';' && end[1] == '\0'))
			return -1;
		if (i < sizeof(units) / sizeof(units[0]))
			total += (neg ? -v : v) * units[i].secs;
		p = *end == ';' ? end + 1 : end;
	}
	/* A hundred years either way is past anything a provider means. */
	if (total > 3.2e9 || total < -3.2e9)
		return -1;
	*out = (long long)total;
	return 0;
}

void
cu_saml_new_id(char out[42])
{
	uint8_t r[20];

	cu_crypto_random(r, sizeof(r));
	out[0] = '_';
	cu_hex_encode(out + 1, r, sizeof(r));
}

int
cu_saml_name_id_format_known(const char *uri)
{
	static const char *const known[] = {CU_SAML_NAMEID_UNSPECIFIED, CU_SAML_NAMEID_EMAIL,
	                                    CU_SAML_NAMEID_PERSISTENT,  CU_SAML_NAMEID_TRANSIENT,
	                                    CU_SAML_NAMEID_X509,        CU_SAML_NAMEID_WINDOWS};
	size_t i;

	for (i = 0; uri != NULL && i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(uri, known[i]) == 0)
			return 1;
	return 0;
}

/* Length of the UTF-8 sequence at s (n bytes left) when it is a character XML 1.0 allows,
 * else 0. */
static size_t
xml_char_len(const unsigned char *s, size_t n)
{
	uint32_t c;
	size_t len, i;

	if (s[0] < 0x80) {
		c = s[0];
		len = 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		c = s[0] & 0x1f;
		len = 2;
	} else if ((s[0] & 0xf0) == 0xe0) {
		c = s[0] & 0x0f;
		len = 3;
	} else if ((s[0] & 0xf8) == 0xf0) {
		c = s[0] & 0x07;
		len = 4;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000))
		return 0;
	if (c < 0x20 && c != 0x09 && c != 0x0a && c != 0x0d)
		return 0;
	if ((c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff || c > 0x10ffff)
		return 0;
	return len;
}

const char *
cu_saml_xml_text(struct cu_arena *a, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0, l;
	char *out;

	while (i < n && (l = xml_char_len(p + i, n - i)) > 0)
		i += l;
	if (i == n)
		return s;
	out = cu_arena_alloc(a, 3 * n + 1);
	for (i = 0; i < n;) {
		l = xml_char_len(p + i, n - i);
		if (l > 0) {
			memcpy(out + o, p + i, l);
			o += l;
			i += l;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	out[o] = '\0';
	return out;
}

/* --- reading requests ---------------------------------------------------------------------- */

static int
is_el(const xmlNode *n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       xmlStrcmp(n->ns->href, XS(ns)) == 0 && xmlStrcmp(n->name, XS(name)) == 0;
}

/* The first direct child element ns:name of n, or NULL. */
static xmlNode *
child(xmlNode *n, const char *ns, const char *name)
{
	xmlNode *c;

	for (c = n != NULL ? n->children : NULL; c != NULL; c = c->next)
		if (is_el(c, ns, name))
			return c;
	return NULL;
}

/* Attribute name (no namespace) of n as an arena string, NULL when absent or past max. */
static const char *
prop(struct cu_arena *a, xmlNode *n, const char *name, size_t max, int *too_long)
{
	xmlChar *v = xmlGetNoNsProp(n, XS(name));
	const char *out = NULL;

	if (v == NULL)
		return NULL;
	if (strlen((const char *)v) <= max)
		out = cu_arena_strdup(a, (const char *)v);
	else if (too_long != NULL)
		*too_long = 1;
	xmlFree(v);
	return out;
}

/* The text of n (xmlNodeGetContent: entities are never expanded, none can exist), trimmed of
 * surrounding white space, as an arena string; NULL when absent or past max. */
static const char *
text(struct cu_arena *a, xmlNode *n, size_t max, int *too_long)
{
	xmlChar *v;
	const char *s, *e, *out = NULL;

	if (n == NULL || (v = xmlNodeGetContent(n)) == NULL)
		return NULL;
	s = (const char *)v;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	if ((size_t)(e - s) <= max)
		out = cu_arena_strndup(a, s, (size_t)(e - s));
	else if (too_long != NULL)
		*too_long = 1;
	xmlFree(v);
	return out;
}

/* xs:ID as custos keeps them: an ASCII NCName. */
static int
ncname_ok(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

enum cu_err
cu_saml_request_parse(struct cu_saml_request *out, struct cu_arena *a,
                      enum cu_saml_request_kind kind, const char *xml, size_t len, const char **why)
{
	const char *root_name = kind == CU_SAML_AUTHN_REQUEST ? "AuthnRequest" : "LogoutRequest";
	const char *version, *instant, *v;
	xmlNode *root, *n;
	int too_long = 0;
	enum cu_err err;

	memset(out, 0, sizeof(*out));
	out->sr_kind = kind;
	*why = "The SAML request could not be read.";
	if (len > CU_SAML_MAX_MESSAGE) {
		*why = "The SAML request is too large.";
		return CU_ERR_TOO_LARGE;
	}
	err = cu_xmlsig_parse(&out->sr_doc, a, xml, len);
	if (err == CU_ERR_TOO_LARGE) {
		*why = "The SAML request is too large or too deeply nested.";
		return err;
	}
	if (err != CU_OK) {
		*why = "Cannot decode SAML request.";
		return CU_ERR_INVALID;
	}
	root = xmlDocGetRootElement(out->sr_doc);
	if (!is_el(root, CU_SAML_NS_PROTOCOL, root_name)) {
		*why = kind == CU_SAML_AUTHN_REQUEST ? "The message is not a SAML AuthnRequest."
		                                     : "The message is not a SAML LogoutRequest.";
		return CU_ERR_INVALID;
	}
	out->sr_root = root;
	version = prop(a, root, "Version", 16, NULL);
	if (version == NULL || strcmp(version, "2.0") != 0) {
		*why = "The SAML request is not SAML 2.0.";
		return CU_ERR_INVALID;
	}
	out->sr_id = prop(a, root, "ID", CU_SAML_MAX_ID, &too_long);
	if (out->sr_id == NULL || !ncname_ok(out->sr_id)) {
		*why = "The SAML request has no valid ID.";
		return CU_ERR_INVALID;
	}
	instant = prop(a, root, "IssueInstant", 64, NULL);
	if (instant == NULL || cu_saml_time_parse(instant, &out->sr_issue_instant) != 0) {
		*why = "The SAML request has no valid IssueInstant.";
		return CU_ERR_INVALID;
	}
	out->sr_destination = prop(a, root, "Destination", MAX_URL, &too_long);
	out->sr_issuer = text(a, child(root, CU_SAML_NS_ASSERTION, "Issuer"), MAX_URL, &too_long);
	if (kind == CU_SAML_AUTHN_REQUEST) {
		out->sr_acs_url = prop(a, root, "AssertionConsumerServiceURL", MAX_URL, &too_long);
		n = child(root, CU_SAML_NS_PROTOCOL, "NameIDPolicy");
		v = n != NULL ? prop(a, n, "Format", MAX_URL, &too_long) : NULL;
		out->sr_name_id_policy = v != NULL ? v : CU_SAML_NAMEID_UNSPECIFIED;
	} else {
		n = child(root, CU_SAML_NS_ASSERTION, "NameID");
		out->sr_name_id = text(a, n, CU_SAML_MAX_NAME_ID, &too_long);
		out->sr_name_id_format =
		    n != NULL ? prop(a, n, "Format", MAX_URL, &too_long) : NULL;
		out->sr_session_index = text(a, child(root, CU_SAML_NS_PROTOCOL, "SessionIndex"),
		                             CU_SAML_MAX_NAME_ID, &too_long);
		v = prop(a, root, "NotOnOrAfter", 64, NULL);
		if (v != NULL && cu_saml_time_parse(v, &out->sr_not_on_or_after) != 0) {
			*why = "The SAML request has no valid NotOnOrAfter.";
			return CU_ERR_INVALID;
		}
	}
	if (too_long) {
		*why = "A value in the SAML request is too long.";
		return CU_ERR_INVALID;
	}
	*why = NULL;
	return CU_OK;
}

/* --- providers ----------------------------------------------------------------------------- */

static int
is_true(const char *s)
{
	return s != NULL && strcmp(s, "t") == 0;
}

static long long
duration(const char *s, long long dflt, const char *what)
{
	long long v;

	if (s != NULL && cu_saml_timedelta(s, &v) == 0)
		return v;
	cu_log(CU_LOG_WARNING, "saml_bad_duration", CU_LS("field", what));
	return dflt;
}

static const char *
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

static const struct cu_saml_provider *
provider_from_row(struct cu_ctx *cx, const PGresult *res)
{
	struct saml_prov *x = cu_arena_zalloc(cx->cx_arena, sizeof(*x));
	struct cu_saml_provider *p = &x->sx_p;
	const char *mappings = cu_db_value(res, 0, 37);
	int d, s;

	p->sp_id = (int)strtol(cu_db_value(res, 0, 0), NULL, 10);
	p->sp_serial = strtoll(cu_db_value(res, 0, 1), NULL, 10);
	p->sp_name = cu_db_value(res, 0, 2);
	p->sp_acs_url = cu_db_value(res, 0, 3);
	p->sp_binding = cu_db_value(res, 0, 4);
	p->sp_audience = cu_db_value(res, 0, 5);
	p->sp_issuer = cu_db_value(res, 0, 6);
	p->sp_sls_url = cu_db_value(res, 0, 7);
	p->sp_sls_binding = cu_db_value(res, 0, 8);
	p->sp_logout_method = cu_db_value(res, 0, 9);
	p->sp_name_id_mapping = cu_db_value(res, 0, 10);
	p->sp_authn_context_class_ref_mapping = cu_db_value(res, 0, 11);
	p->sp_not_before =
	    duration(cu_db_value(res, 0, 12), DEFAULT_NOT_BEFORE, "assertion_valid_not_before");
	p->sp_not_on_or_after = duration(cu_db_value(res, 0, 13), DEFAULT_NOT_ON_OR_AFTER,
	                                 "assertion_valid_not_on_or_after");
	p->sp_session_not_on_or_after =
	    duration(cu_db_value(res, 0, 14), DEFAULT_SESSION, "session_valid_not_on_or_after");
	if (cu_xmlsig_digest_from_uri((enum cu_xmlsig_digest *)&d, cu_db_value(res, 0, 15)) != 0) {
		cu_log(CU_LOG_WARNING, "saml_bad_algorithm", CU_LS("field", "digest_algorithm"));
		d = CU_XMLSIG_SHA256;
	}
	if (cu_xmlsig_sig_from_uri((enum cu_xmlsig_sig *)&s, cu_db_value(res, 0, 16)) != 0) {
		cu_log(CU_LOG_WARNING, "saml_bad_algorithm", CU_LS("field", "signature_algorithm"));
		s = CU_XMLSIG_RSA_SHA256;
	}
	p->sp_digest = (enum cu_xmlsig_digest)d;
	p->sp_signature = (enum cu_xmlsig_sig)s;
	p->sp_signing_kp = cu_db_value(res, 0, 17);
	p->sp_signing_fp = cu_db_value(res, 0, 18);
	p->sp_verification_kp = cu_db_value(res, 0, 19);
	p->sp_verification_fp = cu_db_value(res, 0, 20);
	p->sp_encryption_kp = cu_db_value(res, 0, 21);
	p->sp_encryption_fp = cu_db_value(res, 0, 22);
	p->sp_default_relay_state = cu_db_value(res, 0, 23);
	p->sp_default_name_id_policy = cu_db_value(res, 0, 24);
	p->sp_sign_assertion = is_true(cu_db_value(res, 0, 25));
	p->sp_sign_response = is_true(cu_db_value(res, 0, 26));
	p->sp_sign_logout_request = is_true(cu_db_value(res, 0, 27));
	p->sp_sign_logout_response = is_true(cu_db_value(res, 0, 28));
	p->sp_authentication_flow = cu_db_value(res, 0, 29);
	p->sp_authorization_flow = cu_db_value(res, 0, 30);
	p->sp_invalidation_flow = cu_db_value(res, 0, 31);
	p->sp_app_uuid = cu_db_value(res, 0, 32);
	p->sp_app_slug = cu_db_value(res, 0, 33);
	p->sp_app_name = cu_db_value(res, 0, 34);
	p->sp_app_policy_mode = cu_db_value(res, 0, 35);
	p->sp_app_has_bindings = is_true(cu_db_value(res, 0, 36));
	p->sp_mappings = NULL;
	if (mappings == NULL ||
	    cu_json_parse(cx->cx_arena, mappings, strlen(mappings), &p->sp_mappings) != CU_OK ||
	    !json_object_is_type(p->sp_mappings, json_type_array))
		p->sp_mappings = cu_json_array(cx->cx_arena);
	x->sx_name_id_name = cu_db_value(res, 0, 38);
	x->sx_name_id_expr = cu_db_value(res, 0, 39);
	x->sx_authn_name = cu_db_value(res, 0, 40);
	x->sx_authn_expr = cu_db_value(res, 0, 41);
	x->sx_install_id = cu_db_value(res, 0, 42);
	x->sx_signing_cert = nonempty(cu_db_value(res, 0, 43));
	if (p->sp_name == NULL || p->sp_acs_url == NULL || p->sp_issuer == NULL ||
	    p->sp_binding == NULL || p->sp_authorization_flow == NULL)
		return NULL;
	return p;
}

static enum cu_err
provider_load(struct cu_ctx *cx, enum cu_db_stmt st, const char *key,
              const struct cu_saml_provider **out)
{
	PGresult *res = NULL;
	enum cu_err err;

	*out = NULL;
	if (key == NULL || key[0] == '\0' || strlen(key) > CU_ROUTER_MAX_SEGMENT)
		return CU_ERR_NOT_FOUND;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, 1, &key);
	if (err == CU_ERR_INVALID)
		return CU_ERR_NOT_FOUND;
	if (err != CU_OK)
		return err == CU_ERR_UNAVAILABLE ? err : CU_ERR_INTERNAL;
	if (PQntuples(res) != 1)
		return CU_ERR_NOT_FOUND;
	*out = provider_from_row(cx, res);
	return *out != NULL ? CU_OK : CU_ERR_INTERNAL;
}

enum cu_err
cu_saml_provider_by_app_slug(struct cu_ctx *cx, const char *slug,
                             const struct cu_saml_provider **out)
{
	return provider_load(cx, CU_DB_STMT_SAML_PROVIDER_BY_SLUG, slug, out);
}

enum cu_err
cu_saml_provider_by_id(struct cu_ctx *cx, int id, const struct cu_saml_provider **out)
{
	return provider_load(cx, CU_DB_STMT_SAML_PROVIDER_BY_ID,
	                     cu_arena_printf(cx->cx_arena, "%d", id), out);
}

/* --- keys ---------------------------------------------------------------------------------- */

static enum cu_err
key_of(struct cu_ctx *cx, const char *kp, const char *fp, int private,
       const struct cu_xmlsig_key **out)
{
	enum cu_err err;

	*out = NULL;
	if (kp == NULL)
		return CU_OK;
	err = private ? cu_keys_get_xmlsig(cx, kp, fp, out)
	              : cu_keys_get_xmlsig_cert(cx, kp, fp, out);
	if (err != CU_OK)
		cu_log(CU_LOG_ERROR, "saml_key_unavailable", CU_LS("kp_uuid", kp),
		       CU_LS("error", cu_strerror(err)));
	return err;
}

enum cu_err
cu_saml_signing_key(struct cu_ctx *cx, const struct cu_saml_provider *p,
                    const struct cu_xmlsig_key **out)
{
	return key_of(cx, p->sp_signing_kp, p->sp_signing_fp, 1, out);
}

enum cu_err
cu_saml_verification_key(struct cu_ctx *cx, const struct cu_saml_provider *p,
                         const struct cu_xmlsig_key **out)
{
	return key_of(cx, p->sp_verification_kp, p->sp_verification_fp, 0, out);
}

enum cu_err
cu_saml_encryption_key(struct cu_ctx *cx, const struct cu_saml_provider *p,
                       const struct cu_xmlsig_key **out)
{
	return key_of(cx, p->sp_encryption_kp, p->sp_encryption_fp, 0, out);
}

/* --- pages --------------------------------------------------------------------------------- */

static void
send_page(struct cu_ctx *cx, int status, const char *title, const char *const *paras, size_t nparas)
{
	struct cu_buf b;
	size_t i;
	int rc = 0;

	cu_buf_init(&b, PAGE_MAX);
	rc |= cu_buf_puts(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	                      "<meta name=\"viewport\" content=\"width=device-width, "
	                      "initial-scale=1\"><meta name=\"referrer\" content=\"no-referrer\">"
	                      "<title>");
	rc |= cu_buf_html_escape(&b, title, strlen(title));
	rc |= cu_buf_puts(&b,
	                  "</title><link rel=\"stylesheet\" href=\"/static/dist/flow.css\">"
	                  "</head><body><div class=\"ak-login\"><main class=\"ak-login-container\">"
	                  "<section class=\"ak-login-main\"><h1 class=\"ak-flow-title\">");
	rc |= cu_buf_html_escape(&b, title, strlen(title));
	rc |= cu_buf_puts(&b, "</h1><div class=\"ak-flow-body\"><div class=\"ak-alert "
	                      "ak-alert-danger\" role=\"alert\">");
	for (i = 0; i < nparas; i++) {
		rc |= cu_buf_puts(&b, "<p>");
		rc |= cu_buf_html_escape(&b, paras[i], strlen(paras[i]));
		rc |= cu_buf_puts(&b, "</p>");
	}
	rc |= cu_buf_puts(&b, "</div></div></section></main></div></body></html>\n");
	if (rc != 0) {
		cu_buf_free(&b);
		cu_http_send_text(cx->cx_resp, 500, "text/plain; charset=utf-8",
		                  "Internal error.\n", 16);
		return;
	}
	cu_http_send_text(cx->cx_resp, status, "text/html; charset=utf-8", b.bf_ptr, b.bf_len);
	cu_buf_free(&b);
	/* Full header table: the page still goes out, only without the extra header. */
	(void)!cu_http_set_header(cx->cx_resp, "Cache-Control", "no-store");
	(void)!cu_http_set_header(cx->cx_resp, "Content-Security-Policy",
	                          "default-src 'none'; style-src 'self'; img-src 'self'; "
	                          "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
	(void)!cu_http_set_header(cx->cx_resp, "X-Frame-Options", "DENY");
}

void
cu_saml_error_page(struct cu_ctx *cx, int status, const char *title, const char *message)
{
	const char *paras[1] = {message};

	cu_log(status >= 500 ? CU_LOG_ERROR : CU_LOG_WARNING, "saml_refused",
	       CU_LS("error", message), CU_LI("status", status),
	       CU_LS("path", cx->cx_req->rq_path != NULL ? cx->cx_req->rq_path : ""));
	send_page(cx, status, title, paras, 1);
}

void
cu_saml_access_denied_page(struct cu_ctx *cx, struct json_object *messages)
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
	cu_log_msg(CU_LOG_INFO, "saml_access_denied", "application policies deny the user");
	send_page(cx, 403, "Access denied", paras, n);
}

const char *
cu_saml_url(struct cu_ctx *cx, const char *path)
{
	return cu_arena_printf(cx->cx_arena, "%s%s", cu_oauth2_base_url(cx), path);
}

/* --- sessions, access, replays ------------------------------------------------------------- */

int
cu_saml_login_of(struct cu_ctx *cx, const char *key, struct cu_saml_login *out)
{
	PGresult *res = NULL;

	memset(out, 0, sizeof(*out));
	if (key == NULL)
		return 0;
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_SAML_SESSION, 1, &key) != CU_OK)
		return -1;
	if (PQntuples(res) != 1)
		return 0;
	out->sl_key = key;
	out->sl_uuid = cu_db_value(res, 0, 0);
	out->sl_login = (time_t)strtoll(cu_db_value(res, 0, 1), NULL, 10);
	out->sl_auth_method = cu_db_value(res, 0, 2);
	out->sl_mfa = is_true(cu_db_value(res, 0, 3));
	out->sl_user = cu_oauth2_user_from_row(cx, res, 0, 4);
	return 1;
}

int
cu_saml_app_access(struct cu_ctx *cx, const struct cu_saml_provider *p, const struct cu_user *user,
                   struct json_object **messages)
{
	struct cu_policy_request rq;
	struct cu_policy_result res;
	enum cu_err err;

	*messages = cu_json_array(cx->cx_arena);
	if (p->sp_app_uuid == NULL || !p->sp_app_has_bindings)
		return 1;
	memset(&rq, 0, sizeof(rq));
	rq.pr_user = user;
	rq.pr_obj_uuid = p->sp_app_uuid;
	err = cu_policy_engine_run(cx, p->sp_app_uuid,
	                           p->sp_app_policy_mode != NULL ? p->sp_app_policy_mode : "any",
	                           &rq, &res);
	if (err == CU_ERR_UNAVAILABLE)
		return -1;
	if (err != CU_OK)
		return 0;
	*messages = res.pr_messages;
	return res.pr_passing;
}

int
cu_saml_request_take(struct cu_ctx *cx, const struct cu_saml_provider *p, const char *request_id,
                     time_t expires)
{
	const char *params[3];
	PGresult *res = NULL;

	params[0] = cu_arena_printf(cx->cx_arena, "%d", p->sp_id);
	params[1] = request_id;
	params[2] = cu_arena_printf(cx->cx_arena, "%lld", (long long)expires);
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_SAML_REQUEST_ID_TAKE, 3, params) !=
	    CU_OK)
		return -1;
	return PQntuples(res) == 1;
}

/* --- mappings ------------------------------------------------------------------------------ */

/* One value as authentik's str() writes it. */
static const char *
value_text(struct cu_ctx *cx, struct json_object *v)
{
	if (v == NULL)
		return "None";
	switch (json_object_get_type(v)) {
	case json_type_string:
		return json_object_get_string(v);
	case json_type_boolean:
		return json_object_get_boolean(v) ? "True" : "False";
	case json_type_int:
		return cu_arena_printf(cx->cx_arena, "%lld", (long long)json_object_get_int64(v));
	default:
		return cu_json_text(v, NULL);
	}
}

/* A mapping's result as attribute values: a list gives one value per item, anything else one
 * value. -1 past CU_SAML_MAX_ATTR_VALUES. */
static int
values_of(struct cu_ctx *cx, struct json_object *v, const char ***out, size_t *n, size_t *bytes)
{
	size_t i, cnt = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 1;

	if (cnt > CU_SAML_MAX_ATTR_VALUES)
		return -1;
	*out = cu_arena_alloc(cx->cx_arena, (cnt + 1) * sizeof(**out));
	*n = cnt;
	for (i = 0; i < cnt; i++) {
		struct json_object *item =
		    json_object_is_type(v, json_type_array) ? json_object_array_get_idx(v, i) : v;

		(*out)[i] = cu_saml_xml_text(cx->cx_arena, value_text(cx, item));
		*bytes += strlen((*out)[i]);
	}
	return 0;
}

const char *
cu_saml_user_uid(struct cu_ctx *cx, const struct cu_saml_provider *p, const struct cu_user *user)
{
	const struct saml_prov *x = prov_of(p);
	const char *s = cu_arena_printf(cx->cx_arena, "%lld-%s", user->us_id,
	                                x->sx_install_id != NULL ? x->sx_install_id : "");
	char *out = cu_arena_alloc(cx->cx_arena, 65);

	cu_oauth2_digest(out, s, strlen(s));
	return out;
}

enum cu_err
cu_saml_evaluate(struct cu_ctx *cx, const struct cu_saml_provider *p,
                 const struct cu_oauth2_user *u, struct cu_saml_values *out)
{
	const struct saml_prov *x = prov_of(p);
	size_t nmap = json_object_array_length(p->sp_mappings), i, n = 0, bytes = 0;
	const char **srcs, **names;
	size_t *lens, *which;
	int name_id_at = -1, authn_at = -1;
	struct cu_expression_value *vals;
	struct cu_expression_limits lim;
	struct cu_expression_hooks hooks;
	struct json_object *request, *globals, *prov, *app;

	cu_policy_expression_db_hooks(&hooks, cx);
	memset(out, 0, sizeof(*out));
	srcs = cu_arena_alloc(cx->cx_arena, (nmap + 3) * sizeof(*srcs));
	names = cu_arena_alloc(cx->cx_arena, (nmap + 3) * sizeof(*names));
	lens = cu_arena_alloc(cx->cx_arena, (nmap + 3) * sizeof(*lens));
	which = cu_arena_alloc(cx->cx_arena, (nmap + 3) * sizeof(*which));
	for (i = 0; i < nmap; i++) {
		struct json_object *m = json_object_array_get_idx(p->sp_mappings, i);
		const char *src = NULL, *name = NULL;

		if (cu_json_get_string(m, "expression", &src) != 0)
			continue;
		if (cu_json_get_string(m, "name", &name) != 0)
			name = "";
		srcs[n] = src;
		lens[n] = strlen(src);
		names[n] = name;
		which[n++] = i;
	}
	if (x->sx_name_id_expr != NULL) {
		name_id_at = (int)n;
		names[n] = x->sx_name_id_name != NULL ? x->sx_name_id_name : "";
		srcs[n] = x->sx_name_id_expr;
		lens[n++] = strlen(x->sx_name_id_expr);
	}
	if (x->sx_authn_expr != NULL) {
		authn_at = (int)n;
		names[n] = x->sx_authn_name != NULL ? x->sx_authn_name : "";
		srcs[n] = x->sx_authn_expr;
		lens[n++] = strlen(x->sx_authn_expr);
	}
	out->sv_attrs = cu_arena_zalloc(cx->cx_arena, (nmap + 1) * sizeof(*out->sv_attrs));
	if (n == 0)
		return CU_OK;
	request = cu_json_object(cx->cx_arena);
	cu_json_set(request, "user", json_object_get(u->ou_json));
	globals = cu_json_object(cx->cx_arena);
	prov = json_object_new_object();
	cu_json_set_string(prov, "name", p->sp_name);
	cu_json_set_int(prov, "pk", p->sp_id);
	cu_json_set(globals, "provider", prov);
	cu_json_set(globals, "user", json_object_get(u->ou_json));
	if (p->sp_app_uuid != NULL) {
		app = json_object_new_object();
		cu_json_set_string(app, "pk", p->sp_app_uuid);
		cu_json_set_string(app, "slug", p->sp_app_slug);
		cu_json_set_string(app, "name", p->sp_app_name);
		cu_json_set(globals, "application", app);
	}
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
			cu_log(CU_LOG_WARNING, "saml_mapping_failed", CU_LS("mapping", names[i]),
			       CU_LS("error", vals[i].ev_error));
			continue;
		}
		if (v == NULL)
			continue;
		if ((int)i == name_id_at) {
			out->sv_name_id = cu_saml_xml_text(cx->cx_arena, value_text(cx, v));
		} else if ((int)i == authn_at) {
			out->sv_authn_class = cu_saml_xml_text(cx->cx_arena, value_text(cx, v));
		} else {
			struct json_object *m = json_object_array_get_idx(p->sp_mappings, which[i]);
			struct cu_saml_attr *a = &out->sv_attrs[out->sv_nattrs];
			const char *fn = NULL;

			if (cu_json_get_string(m, "saml_name", &a->sa_name) != 0)
				continue;
			if (cu_json_get_string(m, "friendly_name", &fn) != 0)
				fn = NULL;
			a->sa_friendly_name =
			    fn != NULL ? cu_saml_xml_text(cx->cx_arena, fn) : NULL;
			a->sa_name = cu_saml_xml_text(cx->cx_arena, a->sa_name);
			if (values_of(cx, v, &a->sa_values, &a->sa_nvalues, &bytes) != 0) {
				cu_log(CU_LOG_WARNING, "saml_mapping_too_many_values",
				       CU_LS("mapping", names[i]));
				continue;
			}
			out->sv_nattrs++;
		}
	}
	if (bytes > CU_SAML_MAX_ATTRS) {
		cu_log(CU_LOG_WARNING, "saml_attributes_too_large", CU_LS("provider", p->sp_name),
		       CU_LI("bytes", (long long)bytes));
		return CU_ERR_TOO_LARGE;
	}
	return CU_OK;
}

enum cu_err
cu_saml_attributes(struct cu_ctx *cx, const struct cu_saml_provider *p, const struct cu_user *user,
                   struct json_object **out)
{
	struct cu_oauth2_user *ou = NULL;
	struct cu_saml_values v;
	enum cu_err err;
	size_t i, j;

	*out = NULL;
	err = cu_oauth2_user_load(cx, user->us_id, &ou);
	if (err != CU_OK)
		return err;
	err = cu_saml_evaluate(cx, p, ou, &v);
	if (err != CU_OK)
		return err;
	*out = cu_json_object(cx->cx_arena);
	for (i = 0; i < v.sv_nattrs; i++) {
		const struct cu_saml_attr *a = &v.sv_attrs[i];
		struct json_object *e = NULL, *arr = NULL;

		/* Two mappings with one SAML name: one entry with the values of both. */
		if (!json_object_object_get_ex(*out, a->sa_name, &e) || e == NULL) {
			e = json_object_new_object();
			cu_json_set_string(e, "friendly_name",
			                   a->sa_friendly_name != NULL &&
			                           a->sa_friendly_name[0] != '\0'
			                       ? a->sa_friendly_name
			                       : NULL);
			cu_json_set(e, "values", json_object_new_array());
			cu_json_set(*out, a->sa_name, e);
		}
		if (cu_json_get_array(e, "values", &arr) != 0)
			continue;
		for (j = 0; j < a->sa_nvalues; j++)
			json_object_array_add(arr, json_object_new_string(a->sa_values[j]));
	}
	return CU_OK;
}

/* --- metadata ------------------------------------------------------------------------------ */

static void
free_doc(void *d)
{
	xmlFreeDoc(d);
}

static xmlDoc *
new_doc(struct cu_ctx *cx)
{
	xmlDoc *doc = xmlNewDoc(XS("1.0"));

	if (doc == NULL)
		cu_die("xml: out of memory");
	cu_arena_defer(cx->cx_arena, free_doc, doc);
	return doc;
}

/* The base64 body of a PEM certificate (no header, footer or line breaks), arena-owned. */
static const char *
pem_body(struct cu_ctx *cx, const char *pem)
{
	const char *b = strstr(pem, "-----BEGIN CERTIFICATE-----"), *e;
	char *out, *o;

	if (b == NULL)
		return NULL;
	b += strlen("-----BEGIN CERTIFICATE-----");
	e = strstr(b, "-----END CERTIFICATE-----");
	if (e == NULL)
		return NULL;
	o = out = cu_arena_alloc(cx->cx_arena, (size_t)(e - b) + 1);
	for (; b < e; b++)
		if (!isspace((unsigned char)*b))
			*o++ = *b;
	*o = '\0';
	return out;
}

static void
add_service(xmlNode *parent, xmlNs *md, const char *element, const char *binding,
            const char *location)
{
	xmlNode *n = xmlNewChild(parent, md, XS(element), NULL);

	xmlNewProp(n, XS("Binding"), XS(binding));
	xmlNewProp(n, XS("Location"), XS(location));
}

enum cu_err
cu_saml_metadata_binding(struct cu_ctx *cx, const struct cu_saml_provider *p,
                         const char *force_binding, const char **xml, size_t *len)
{
	static const char *const formats[] = {CU_SAML_NAMEID_EMAIL, CU_SAML_NAMEID_PERSISTENT,
	                                      CU_SAML_NAMEID_X509, CU_SAML_NAMEID_TRANSIENT};
	const struct saml_prov *x = prov_of(p);
	const struct cu_xmlsig_key *key = NULL;
	const char *base, *cert = NULL, *id_src;
	int want_redirect = force_binding == NULL || strcmp(force_binding, "redirect") == 0 ||
	                    strcmp(force_binding, CU_SAML_BINDING_REDIRECT) == 0;
	int want_post = force_binding == NULL || strcmp(force_binding, "post") == 0 ||
	                strcmp(force_binding, CU_SAML_BINDING_POST) == 0;
	xmlDoc *doc;
	xmlNode *ed, *idp, *kd, *ki, *xd;
	xmlNs *md, *ds;
	char id[2 + 64];
	char *text = NULL;
	size_t i, n = 0;
	enum cu_err err;

	*xml = NULL;
	*len = 0;
	if (p->sp_app_slug == NULL)
		return CU_ERR_NOT_FOUND;
	if (p->sp_signing_kp != NULL) {
		if ((err = cu_saml_signing_key(cx, p, &key)) != CU_OK)
			return err;
		cert = x->sx_signing_cert != NULL ? pem_body(cx, x->sx_signing_cert) : NULL;
	}
	base = cu_arena_printf(cx->cx_arena, "%s/application/saml/%s/", cu_oauth2_base_url(cx),
	                       p->sp_app_slug);
	doc = new_doc(cx);
	ed = xmlNewNode(NULL, XS("EntityDescriptor"));
	md = xmlNewNs(ed, XS(CU_SAML_NS_METADATA), XS("md"));
	ds = xmlNewNs(ed, XS(CU_SAML_NS_DSIG), XS("ds"));
	xmlSetNs(ed, md);
	xmlDocSetRootElement(doc, ed);
	/* authentik's stable ID: "_" + hex SHA-256 of "<name>-<pk>". */
	id_src = cu_arena_printf(cx->cx_arena, "%s-%d", p->sp_name, p->sp_id);
	id[0] = '_';
	cu_oauth2_digest(id + 1, id_src, strlen(id_src));
	xmlNewProp(ed, XS("ID"), XS(id));
	xmlNewProp(ed, XS("entityID"), XS(cu_saml_xml_text(cx->cx_arena, p->sp_issuer)));
	idp = xmlNewChild(ed, md, XS("IDPSSODescriptor"), NULL);
	xmlNewProp(idp, XS("protocolSupportEnumeration"), XS(CU_SAML_NS_PROTOCOL));
	if (p->sp_verification_kp != NULL)
		xmlNewProp(idp, XS("WantAuthnRequestsSigned"), XS("true"));
	if (cert != NULL) {
		kd = xmlNewChild(idp, md, XS("KeyDescriptor"), NULL);
		xmlNewProp(kd, XS("use"), XS("signing"));
		ki = xmlNewChild(kd, ds, XS("KeyInfo"), NULL);
		xd = xmlNewChild(ki, ds, XS("X509Data"), NULL);
		xmlNewTextChild(xd, ds, XS("X509Certificate"), XS(cert));
	}
	if (want_redirect)
		add_service(idp, md, "SingleLogoutService", CU_SAML_BINDING_REDIRECT,
		            cu_arena_printf(cx->cx_arena, "%sslo/binding/redirect/", base));
	if (want_post)
		add_service(idp, md, "SingleLogoutService", CU_SAML_BINDING_POST,
		            cu_arena_printf(cx->cx_arena, "%sslo/binding/post/", base));
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		xmlNewTextChild(idp, md, XS("NameIDFormat"), XS(formats[i]));
	if (want_redirect)
		add_service(idp, md, "SingleSignOnService", CU_SAML_BINDING_REDIRECT,
		            cu_arena_printf(cx->cx_arena, "%ssso/binding/redirect/", base));
	if (want_post)
		add_service(idp, md, "SingleSignOnService", CU_SAML_BINDING_POST,
		            cu_arena_printf(cx->cx_arena, "%ssso/binding/post/", base));
	/* authentik signs its metadata with the provider's signing key. */
	if (key != NULL && cu_xmlsig_sign(doc, ed, "ID", key, p->sp_signature, p->sp_digest) != 0) {
		cu_log(CU_LOG_ERROR, "saml_metadata_sign_failed", CU_LI("provider", p->sp_id));
		return CU_ERR_INTERNAL;
	}
	if (cu_xmlsig_serialize(&text, &n, cx->cx_arena, doc) != 0)
		return CU_ERR_INTERNAL;
	*xml = text;
	*len = n;
	return CU_OK;
}

enum cu_err
cu_saml_metadata(struct cu_ctx *cx, const struct cu_saml_provider *p, const char **xml, size_t *len)
{
	return cu_saml_metadata_binding(cx, p, NULL, xml, len);
}

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

void
cu_saml_metadata_download(struct cu_ctx *cx)
{
	const struct cu_saml_provider *p = NULL;
	const char *xml = NULL, *fb = cu_http_arg(cx->cx_req, "force_binding");
	size_t len = 0;
	enum cu_err err;

	err = cu_saml_provider_by_app_slug(cx, cu_ctx_param(cx, "slug"), &p);
	if (err == CU_OK)
		err = cu_saml_metadata_binding(cx, p, fb != NULL && fb[0] != '\0' ? fb : NULL, &xml,
		                               &len);
	if (err == CU_ERR_NOT_FOUND) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "SAML metadata");
		return;
	}
	cu_http_send_text(cx->cx_resp, 200, "application/xml", xml, len);
	if (cu_http_arg(cx->cx_req, "download") != NULL)
		(void)!cu_http_set_header(
		    cx->cx_resp, "Content-Disposition",
		    cu_arena_printf(cx->cx_arena, "attachment; filename=\"%s_authentik_meta.xml\"",
		                    filename_of(cx, p->sp_name)));
}

/* --- SP metadata (import) ------------------------------------------------------------------ */

static int
flag_true(const char *v)
{
	return v != NULL && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static const char *
binding_name(const char *uri)
{
	if (uri == NULL)
		return NULL;
	if (strcmp(uri, CU_SAML_BINDING_POST) == 0)
		return "post";
	if (strcmp(uri, CU_SAML_BINDING_REDIRECT) == 0)
		return "redirect";
	return NULL;
}

/* The certificate of a KeyDescriptor as PEM (checked to parse), arena-owned; NULL when there
 * is none or it is not one. */
static const char *
key_descriptor_cert(struct cu_ctx *cx, xmlNode *kd)
{
	xmlNode *ki = child(kd, CU_SAML_NS_DSIG, "KeyInfo");
	xmlNode *xd = child(ki, CU_SAML_NS_DSIG, "X509Data");
	const char *b64 =
	    text(cx->cx_arena, child(xd, CU_SAML_NS_DSIG, "X509Certificate"), CU_XML_MAX_PEM, NULL);
	struct cu_xmlsig_key *k = NULL;
	struct cu_buf b;
	size_t i, col = 0;
	const char *pem = NULL;
	int rc = 0;

	if (b64 == NULL || b64[0] == '\0')
		return NULL;
	cu_buf_init(&b, 2 * CU_XML_MAX_PEM);
	rc |= cu_buf_puts(&b, "-----BEGIN CERTIFICATE-----\n");
	for (i = 0; b64[i] != '\0' && rc == 0; i++) {
		if (isspace((unsigned char)b64[i]))
			continue;
		rc |= cu_buf_putc(&b, b64[i]);
		if (++col == 64) {
			rc |= cu_buf_putc(&b, '\n');
			col = 0;
		}
	}
	if (col != 0)
		rc |= cu_buf_putc(&b, '\n');
	rc |= cu_buf_puts(&b, "-----END CERTIFICATE-----\n");
	if (rc == 0 && cu_xmlsig_key_load(&k, NULL, 0, b.bf_ptr, b.bf_len) == 0) {
		pem = cu_arena_strndup(cx->cx_arena, b.bf_ptr, b.bf_len);
		cu_xmlsig_key_free(k);
	}
	cu_buf_free(&b);
	return pem;
}

enum cu_err
cu_saml_sp_metadata_parse(struct cu_ctx *cx, const char *xml, size_t len,
                          struct cu_saml_sp_metadata *out, const char **why)
{
	struct cu_arena *a = cx->cx_arena;
	xmlDoc *doc = NULL;
	xmlNode *root, *sp, *n, *acs = NULL;
	long best = -1;
	enum cu_err err;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	err = cu_xmlsig_parse(&doc, a, xml, len);
	if (err != CU_OK) {
		*why =
		    err == CU_ERR_TOO_LARGE ? "The metadata is too large." : "Invalid XML Syntax";
		return CU_ERR_INVALID;
	}
	root = xmlDocGetRootElement(doc);
	if (!is_el(root, CU_SAML_NS_METADATA, "EntityDescriptor")) {
		*why = "The metadata is not an EntityDescriptor.";
		return CU_ERR_INVALID;
	}
	out->sm_entity_id = prop(a, root, "entityID", MAX_URL, NULL);
	if (out->sm_entity_id == NULL || out->sm_entity_id[0] == '\0') {
		*why = "The EntityDescriptor has no entityID.";
		return CU_ERR_INVALID;
	}
	sp = child(root, CU_SAML_NS_METADATA, "SPSSODescriptor");
	if (sp == NULL) {
		*why = "no SPSSODescriptor objects found.";
		return CU_ERR_INVALID;
	}
	out->sm_authn_requests_signed = flag_true(prop(a, sp, "AuthnRequestsSigned", 8, NULL));
	out->sm_want_assertions_signed = flag_true(prop(a, sp, "WantAssertionsSigned", 8, NULL));
	/* The assertion consumer service with the lowest index among the bindings custos speaks
	 * (document order among those without one). */
	for (n = sp->children; n != NULL; n = n->next) {
		const char *idx, *b;
		long i = 0x7fffffffL;

		if (!is_el(n, CU_SAML_NS_METADATA, "AssertionConsumerService"))
			continue;
		b = binding_name(prop(a, n, "Binding", MAX_URL, NULL));
		if (b == NULL || prop(a, n, "Location", MAX_URL, NULL) == NULL)
			continue;
		idx = prop(a, n, "index", 16, NULL);
		if (idx != NULL && idx[0] != '\0' && strspn(idx, "0123456789") == strlen(idx))
			i = strtol(idx, NULL, 10);
		if (acs == NULL || i < best) {
			acs = n;
			best = i;
		}
	}
	if (acs == NULL) {
		*why = "No AssertionConsumerService found.";
		return CU_ERR_INVALID;
	}
	out->sm_acs_binding = binding_name(prop(a, acs, "Binding", MAX_URL, NULL));
	out->sm_acs_url = prop(a, acs, "Location", MAX_URL, NULL);
	for (n = sp->children; n != NULL; n = n->next) {
		const char *use, *pem;

		if (!is_el(n, CU_SAML_NS_METADATA, "KeyDescriptor"))
			continue;
		use = prop(a, n, "use", 32, NULL);
		if (use != NULL && strcmp(use, "signing") != 0 && strcmp(use, "encryption") != 0)
			continue;
		pem = key_descriptor_cert(cx, n);
		if (pem == NULL) {
			*why = "A certificate in the metadata is not valid.";
			return CU_ERR_INVALID;
		}
		if ((use == NULL || strcmp(use, "signing") == 0) &&
		    out->sm_signing_cert_pem == NULL)
			out->sm_signing_cert_pem = pem;
		if (use != NULL && strcmp(use, "encryption") == 0 &&
		    out->sm_encryption_cert_pem == NULL)
			out->sm_encryption_cert_pem = pem;
	}
	/* Signed metadata must verify with its own signing certificate (as authentik checks). */
	if (cu_xmlsig_signature(root) != NULL && out->sm_signing_cert_pem != NULL) {
		struct cu_xmlsig_key *k = NULL;
		const char *reason = NULL;
		int ok;

		if (cu_xmlsig_key_load(&k, NULL, 0, out->sm_signing_cert_pem,
		                       strlen(out->sm_signing_cert_pem)) != 0) {
			*why = "A certificate in the metadata is not valid.";
			return CU_ERR_INVALID;
		}
		ok = cu_xmlsig_verify(&reason, doc, root, "ID", k) == 0;
		cu_xmlsig_key_free(k);
		if (!ok) {
			cu_log(CU_LOG_WARNING, "saml_sp_metadata_signature",
			       CU_LS("reason", reason));
			*why = "Failed to verify Metadata signature";
			return CU_ERR_INVALID;
		}
	}
	n = child(sp, CU_SAML_NS_METADATA, "NameIDFormat");
	if (n != NULL) {
		out->sm_name_id_format = text(a, n, MAX_URL, NULL);
		if (!cu_saml_name_id_format_known(out->sm_name_id_format)) {
			*why = "The metadata's NameIDFormat is not one custos supports.";
			return CU_ERR_INVALID;
		}
	}
	n = child(sp, CU_SAML_NS_METADATA, "SingleLogoutService");
	if (n != NULL) {
		out->sm_sls_binding = binding_name(prop(a, n, "Binding", MAX_URL, NULL));
		out->sm_sls_url = prop(a, n, "Location", MAX_URL, NULL);
	}
	return CU_OK;
}

/* --- pages the endpoints share -------------------------------------------------------------- */

void
cu_saml_redirect(struct cu_ctx *cx, const char *location)
{
	cu_http_send_text(cx->cx_resp, 302, "text/plain; charset=utf-8", "", 0);
	(void)!cu_http_set_header(cx->cx_resp, "Cache-Control", "no-store");
	if (cu_http_set_header(cx->cx_resp, "Location", location) != 0)
		cu_saml_error_page(cx, 500, "Server Error", "The redirect could not be sent.");
}

void
cu_saml_unavailable(struct cu_ctx *cx)
{
	cu_saml_error_page(cx, 503, "Service Unavailable",
	                   "The service is unavailable for a moment; try again shortly.");
}

void
cu_saml_bad_request(struct cu_ctx *cx, const char *message)
{
	cu_saml_error_page(cx, 400, "Bad Request", message);
}

void
cu_saml_parse_failed(struct cu_ctx *cx, enum cu_err err, const char *why)
{
	if (err == CU_ERR_TOO_LARGE)
		cu_saml_error_page(cx, 413, "Request Too Large", why);
	else
		cu_saml_bad_request(cx, why);
}

int
cu_saml_route_provider(struct cu_ctx *cx, const struct cu_saml_provider **p)
{
	enum cu_err err = cu_saml_provider_by_app_slug(cx, cu_ctx_param(cx, "slug"), p);

	if (err == CU_ERR_NOT_FOUND) {
		cu_saml_error_page(cx, 404, "Not Found", "No SAML application is known here.");
		return -1;
	}
	if (err != CU_OK) {
		cu_saml_unavailable(cx);
		return -1;
	}
	return 0;
}
