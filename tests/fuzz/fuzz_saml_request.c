/*
 * What the SAML SSO and SLO endpoints read from a service provider, on arbitrary bytes: the
 * bytes as a POST-binding message (cu_saml_request_parse as an AuthnRequest and as a
 * LogoutRequest), as a Redirect-binding query (cu_xmlsig_redirect_parse, then the XML it
 * carries), as an SP's metadata (cu_saml_sp_metadata_parse, the import), and the same bytes as
 * an xs:dateTime, a duration string and text put into XML.
 * Invariants: refusals are CU_ERR_INVALID or CU_ERR_TOO_LARGE with a reason; an accepted
 * request has its root, an ID (an NCName of at most CU_SAML_MAX_ID bytes), a NameID policy
 * custos names when it is an AuthnRequest, and strings within their bounds; accepted metadata
 * has an entityID and an ACS URL in a binding custos speaks; a parsed time
 * formats and parses back to itself; text made fit for XML is valid UTF-8 and fit already.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "bounds.h"
#include "json.h"
#include "providers/saml_endpoints.h"
#include "server.h"
#include "xmlsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_request(struct cu_arena *a, enum cu_saml_request_kind kind, const char *s, size_t n)
{
	struct cu_saml_request rq;
	const char *why = NULL;
	enum cu_err err = cu_saml_request_parse(&rq, a, kind, s, n, &why);
	size_t i;

	if (err != CU_OK) {
		if ((err != CU_ERR_INVALID && err != CU_ERR_TOO_LARGE) || why == NULL)
			abort();
		return;
	}
	if (why != NULL || rq.sr_root == NULL || rq.sr_doc == NULL || rq.sr_id == NULL ||
	    strlen(rq.sr_id) == 0 || strlen(rq.sr_id) > CU_SAML_MAX_ID || rq.sr_kind != kind)
		abort();
	if (!(isalpha((unsigned char)rq.sr_id[0]) || rq.sr_id[0] == '_'))
		abort();
	for (i = 1; rq.sr_id[i] != '\0'; i++)
		if (!(isalnum((unsigned char)rq.sr_id[i]) || strchr("_-.", rq.sr_id[i]) != NULL))
			abort();
	if (kind == CU_SAML_AUTHN_REQUEST && rq.sr_name_id_policy == NULL)
		abort();
	if ((rq.sr_name_id != NULL && strlen(rq.sr_name_id) > CU_SAML_MAX_NAME_ID) ||
	    (rq.sr_session_index != NULL && strlen(rq.sr_session_index) > CU_SAML_MAX_NAME_ID))
		abort();
}

static void
check_metadata(struct cu_arena *a, const char *s, size_t n)
{
	struct cu_ctx cx;
	struct cu_saml_sp_metadata md;
	const char *why = NULL;
	enum cu_err err;

	memset(&cx, 0, sizeof(cx));
	cx.cx_arena = a;
	err = cu_saml_sp_metadata_parse(&cx, s, n, &md, &why);
	if (err != CU_OK) {
		if (err != CU_ERR_INVALID || why == NULL)
			abort();
		return;
	}
	if (md.sm_entity_id == NULL || md.sm_acs_url == NULL || md.sm_acs_binding == NULL ||
	    (strcmp(md.sm_acs_binding, "post") != 0 && strcmp(md.sm_acs_binding, "redirect") != 0))
		abort();
}

static void
check_text(struct cu_arena *a, const char *s)
{
	char buf[32];
	time_t t = 0, t2 = 0;
	long long d = 0;
	const char *x;

	if (cu_saml_time_parse(s, &t) == 0) {
		cu_saml_time_format(buf, t);
		/* Years past 9999 do not print in four digits; the parser takes four only. */
		if (t < 253402300800LL && (cu_saml_time_parse(buf, &t2) != 0 || t2 != t))
			abort();
	}
	(void)!cu_saml_timedelta(s, &d);
	x = cu_saml_xml_text(a, s);
	if (!cu_utf8_valid(x, strlen(x)) || cu_saml_xml_text(a, x) != x)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cu_arena a;
	struct cu_xmlsig_redirect rd;
	const char *s = (const char *)data;
	char *z;
	enum cu_err err;

	cu_arena_init(&a);
	check_request(&a, CU_SAML_AUTHN_REQUEST, s, size);
	check_request(&a, CU_SAML_LOGOUT_REQUEST, s, size);
	cu_arena_reset(&a);
	check_metadata(&a, s, size);
	cu_arena_reset(&a);
	err = cu_xmlsig_redirect_parse(&rd, &a, s, size);
	if (err == CU_OK) {
		if (rd.rd_xml == NULL || rd.rd_xml[rd.rd_xml_len] != '\0')
			abort();
		check_request(&a, CU_SAML_AUTHN_REQUEST, rd.rd_xml, rd.rd_xml_len);
		check_request(&a, CU_SAML_LOGOUT_REQUEST, rd.rd_xml, rd.rd_xml_len);
	} else if (err != CU_ERR_INVALID && err != CU_ERR_TOO_LARGE) {
		abort();
	}
	cu_arena_reset(&a);
	if (size <= 4096) {
		z = cu_arena_strndup(&a, s, size);
		check_text(&a, z);
	}
	cu_arena_free(&a);
	return 0;
}
