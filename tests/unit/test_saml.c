/*
 * The pure parts of the SAML provider (lib/providers/saml_endpoints.h): reading AuthnRequests
 * and LogoutRequests, xs:dateTime, authentik's duration strings with signs, the IssueInstant
 * window, IDs, and text made fit for XML.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "arena.h"
#include "bounds.h"
#include "mem.h"
#include "providers/saml_endpoints.h"
#include "server.h"
#include "xmlsig.h"

#define P "urn:oasis:names:tc:SAML:2.0:protocol"
#define A "urn:oasis:names:tc:SAML:2.0:assertion"
#define MD "urn:oasis:names:tc:SAML:2.0:metadata"
#define DS "http://www.w3.org/2000/09/xmldsig#"

/* An SP's key pair, made once with:
 *   openssl req -x509 -newkey rsa:2048 -nodes -subj "/O=custos/CN=saml sp test" -days 7300 */
static const char sp_key[] = "-----BEGIN PRIVATE KEY-----\n"
                             "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCkeKW+U00+AxVF\n"
                             "j8/qNLk64rhcUFNHY0AvX4ljJBCTI+C8iJ0griPv71MweB/GjAaNms/rAAkmTrdc\n"
                             "i3YYcowkq/tW9HxIy3OJq4B8s+koglPEF5H4h5h8HToKhughPbs31fgc/EivKpgl\n"
                             "dF4FcFtnaiX9P1uOLpNiMIQ5Kl72cFCSTvbENVintc80RKAV7tO1lQ0rEVTvK895\n"
                             "S7BweOD9TIwldsA6bPKf7ajCWcRs85hmQdVpz6dnc2mChGDqG9OjSKDwU+LN4fyn\n"
                             "G7wQcLCNnZqN8Jv+3BRBuBND5g2kBsRgDYFfQfTzXaHSh6iELctYxnIauidU5VIp\n"
                             "NPY0KaKbAgMBAAECggEALsZrKM5LHPRGg/KLCIo3FcKt+P8VOCvHcNGkYpA6sIYX\n"
                             "H7dgrI8qBE5Vo+a97rsbEAGz2Rs4/u6LImQ9UWWear2IrSm6AP/vm3stfwmxqUYr\n"
                             "aYzkhECYAtBTFfRZJz8FtDMDrcaoKz0baSeHp9dU/3vGUxhGQxEG9Hlk2VcuC7rf\n"
                             "OYOE+jxfhgmq5Uv+QbA0LK0DA8bjB75WFAzyxCTvu+SWsnCD6IFH6clUSTI1nYO7\n"
                             "8Sx9N20sQ5RTCTnaXqqmTs1UYhLnne8OznN9Bn2tEQr2DOnR0LhuixjNOMuYY6Ws\n"
                             "9y6QjWAnqUqXPRBjiSpSOt+8B2oKt6vt7v8VMQfHJQKBgQDi3k+KF5nmf2OyCA3O\n"
                             "IugLQDdxs/4qPMtQoH8nmRFxCoztMgvCsyC/Ezo+QgyoRiNx82pnrGfk0heSLXcQ\n"
                             "071d0dKV/FFCkqMghtkcxyzF+L+2KHEtMlZH6zKXEZLT2t0zljep+EYWVVpO88nq\n"
                             "3T5oZ2lUlDn+6MGKgEE1tcK7XQKBgQC5lzLuUMUmEtmt7u/Zv5GeUHGBtwNAJGgl\n"
                             "+d2aUWVIVrwmza9YP3tHfCyeoAy8j0pfLOrixSrH6L4nnprBMeaKSni2Mhvxm1HN\n"
                             "0+c8lG8qxqReYPsSfgKK9XxXEcvWUgRiI7B426/57hdsq08Fg072h5rJcAd3b9+o\n"
                             "4X36fsJuVwKBgQCXrj0NvdPWySs1t67LOIleJFQtgEMZqEXjJTt+lReVNZGdcM1u\n"
                             "ImdteQSC5ZQi2aoPIMjugdWApnq98AngRUEhvgyG3QjTcskAEUiNthkYT8SVnJp2\n"
                             "tmX7daQAXu6FGJq2R+P1jxoFCpHzoYlJrxxvn1xMAUJ5TNNBr5hpuZl1vQKBgQCv\n"
                             "FC0O1xF1HnlN9Uc9ktQLlnXN2dluLCo4ESR1zO2QNYqfzI/q31AsGr95ESGSzFZr\n"
                             "vNMFBN2b4ztn4t64/JswwJppvpHP9idQ1eOhqaHJp8Ut561TP56kentHJFm4IH1U\n"
                             "G7kB+rVjQLHGaUFNwRa/ySNDfrT8foRvK/INWoGPVwKBgBaMiJO25+vTW3/iCFr3\n"
                             "T19tV4ry7eGW57AsGzOlBATXdl2Pada2njMZw9h0G5P44t998/96M0x6qqN0/ALN\n"
                             "+A284CNzGiB774JrEry1T6alFQXFzOVf7tjXQGHlvIX2hEcj9OoqPkR1AmeR57/o\n"
                             "DZ6dtd1ldyXNoDNLOpA9qWqJ\n"
                             "-----END PRIVATE KEY-----\n";
static const char sp_cert[] = "-----BEGIN CERTIFICATE-----\n"
                              "MIIDMTCCAhmgAwIBAgIUCjnBgTF+i4LmdY9VtSPk3IQQdGIwDQYJKoZIhvcNAQEL\n"
                              "BQAwKDEPMA0GA1UECgwGY3VzdG9zMRUwEwYDVQQDDAxzYW1sIHNwIHRlc3QwHhcN\n"
                              "MjYxMTMwMDYzMzQ3WhcNNDYxMTI1MDYzMzQ3WjAoMQ8wDQYDVQQKDAZjdXN0b3Mx\n"
                              "FTATBgNVBAMMDHNhbWwgc3AgdGVzdDCCASIwDQYJKoZIhvcNAQEBBQADggEPADCC\n"
                              "AQoCggEBAKR4pb5TTT4DFUWPz+o0uTriuFxQU0djQC9fiWMkEJMj4LyInSCuI+/v\n"
                              "UzB4H8aMBo2az+sACSZOt1yLdhhyjCSr+1b0fEjLc4mrgHyz6SiCU8QXkfiHmHwd\n"
                              "OgqG6CE9uzfV+Bz8SK8qmCV0XgVwW2dqJf0/W44uk2IwhDkqXvZwUJJO9sQ1WKe1\n"
                              "zzREoBXu07WVDSsRVO8rz3lLsHB44P1MjCV2wDps8p/tqMJZxGzzmGZB1WnPp2dz\n"
                              "aYKEYOob06NIoPBT4s3h/KcbvBBwsI2dmo3wm/7cFEG4E0PmDaQGxGANgV9B9PNd\n"
                              "odKHqIQty1jGchq6J1TlUik09jQpopsCAwEAAaNTMFEwHQYDVR0OBBYEFMSp1Jxy\n"
                              "5ersL4bgdI5dBF1WjQn3MB8GA1UdIwQYMBaAFMSp1Jxy5ersL4bgdI5dBF1WjQn3\n"
                              "MA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZIhvcNAQELBQADggEBACFHBl8q/1jQlYbO\n"
                              "ef+6ogP3xYuWZ1UjlgfI1TvKvtk9H3PopVUvNX/U137YFFMiOFEBfQfHrkOVIbcY\n"
                              "bH4NFL693XUgM4BZbeJPatXHj2d9C++EYqxQwbvjLzt3Eop4iKWzDZM9rIhwWimX\n"
                              "esqbxG8D0rkrQlZPq1CiOG/JD3Q9EsLKf1f8BUTP75b6yK56we36W0gDyPImia67\n"
                              "DLyt/Fse2V/4imIlW1RZVN4KrI2m93ScR/o/e1eq/Vs5pqHGMO/6tG1TXMcPylEP\n"
                              "mJFutZVwizFybWL3PwyxKwFbkJ2iR3i/r+12dhSsGitNMG5TpdynoQQevF6lUVuW\n"
                              "6UnMvWA=\n"
                              "-----END CERTIFICATE-----\n";

static int
setup(void **state)
{
	struct cu_arena *a = cu_calloc(1, sizeof(*a));

	cu_arena_init(a);
	assert_int_equal(cu_xmlsig_init(), 0);
	*state = a;
	return 0;
}

static int
teardown(void **state)
{
	struct cu_arena *a = *state;

	cu_arena_free(a);
	cu_free(a);
	return 0;
}

static enum cu_err
parse(struct cu_arena *a, enum cu_saml_request_kind kind, const char *xml,
      struct cu_saml_request *rq, const char **why)
{
	return cu_saml_request_parse(rq, a, kind, xml, strlen(xml), why);
}

static void
test_time_parse(void **state)
{
	time_t t = 1;

	(void)state;
	assert_int_equal(cu_saml_time_parse("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(cu_saml_time_parse("2024-02-29T12:34:56Z", &t), 0);
	assert_int_equal(t, 1709210096);
	assert_int_equal(cu_saml_time_parse("2024-02-29T12:34:56.123456Z", &t), 0);
	assert_int_equal(t, 1709210096);
	assert_int_equal(cu_saml_time_parse("2024-02-29T12:34:56", &t), 0);
	assert_int_equal(t, 1709210096);
	/* An offset is local time ahead of UTC by it. */
	assert_int_equal(cu_saml_time_parse("2024-02-29T14:34:56+02:00", &t), 0);
	assert_int_equal(t, 1709210096);
	assert_int_equal(cu_saml_time_parse("2024-02-29T10:04:56-02:30", &t), 0);
	assert_int_equal(t, 1709210096);
	assert_int_equal(cu_saml_time_parse("2023-02-29T00:00:00Z", &t), -1);
	assert_int_equal(cu_saml_time_parse("2024-13-01T00:00:00Z", &t), -1);
	assert_int_equal(cu_saml_time_parse("2024-01-01T24:00:00Z", &t), -1);
	assert_int_equal(cu_saml_time_parse("2024-01-01T00:00:60Z", &t), -1);
	assert_int_equal(cu_saml_time_parse("2024-01-01 00:00:00Z", &t), -1);
	assert_int_equal(cu_saml_time_parse("2024-01-01T00:00:00ZZ", &t), -1);
	assert_int_equal(cu_saml_time_parse("2024-01-01T00:00:00.Z", &t), -1);
	assert_int_equal(cu_saml_time_parse("1969-12-31T23:59:59Z", &t), -1);
	assert_int_equal(cu_saml_time_parse("", &t), -1);
	assert_int_equal(cu_saml_time_parse(NULL, &t), -1);
}

static void
test_time_format(void **state)
{
	char buf[32];
	time_t t = 0;

	(void)state;
	cu_saml_time_format(buf, 1709210096);
	assert_string_equal(buf, "2024-02-29T12:34:56Z");
	assert_int_equal(cu_saml_time_parse(buf, &t), 0);
	assert_int_equal(t, 1709210096);
}

static void
test_timedelta(void **state)
{
	long long v = 1;

	(void)state;
	assert_int_equal(cu_saml_timedelta("minutes=-5", &v), 0);
	assert_int_equal(v, -300);
	assert_int_equal(cu_saml_timedelta("minutes=86400", &v), 0);
	assert_int_equal(v, 5184000);
	assert_int_equal(cu_saml_timedelta("hours=1;minutes=-2;seconds=3", &v), 0);
	assert_int_equal(v, 3600 - 120 + 3);
	assert_int_equal(cu_saml_timedelta("days=1.5", &v), 0);
	assert_int_equal(v, 129600);
	assert_int_equal(cu_saml_timedelta("weeks=+1", &v), 0);
	assert_int_equal(v, 604800);
	assert_int_equal(cu_saml_timedelta("milliseconds=2500", &v), 0);
	assert_int_equal(v, 2);
	/* authentik skips keys it does not know, and reads them in any case. */
	assert_int_equal(cu_saml_timedelta("minute=5;Seconds=7", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(cu_saml_timedelta("minute=x", &v), -1);
	assert_int_equal(cu_saml_timedelta("minutes=", &v), -1);
	assert_int_equal(cu_saml_timedelta("minutes=5;", &v), -1);
	assert_int_equal(cu_saml_timedelta("minutes=5x", &v), -1);
	assert_int_equal(cu_saml_timedelta("=5", &v), -1);
	assert_int_equal(cu_saml_timedelta("", &v), -1);
	assert_int_equal(cu_saml_timedelta("weeks=9999999999", &v), -1);
}

static void
test_instant_window(void **state)
{
	time_t now = 1700000000;

	(void)state;
	assert_true(cu_saml_instant_ok(now, now, 90));
	assert_true(cu_saml_instant_ok(now + 90, now, 90));
	assert_false(cu_saml_instant_ok(now + 91, now, 90));
	assert_true(cu_saml_instant_ok(now - CU_SAML_REQUEST_LIFETIME - 90, now, 90));
	assert_false(cu_saml_instant_ok(now - CU_SAML_REQUEST_LIFETIME - 91, now, 90));
	assert_false(cu_saml_instant_ok(now + 1, now, 0));
}

static void
test_ids_and_formats(void **state)
{
	char a[42], b[42];

	(void)state;
	cu_saml_new_id(a);
	cu_saml_new_id(b);
	assert_int_equal(strlen(a), 41);
	assert_int_equal(a[0], '_');
	assert_string_not_equal(a, b);
	assert_true(cu_saml_name_id_format_known(CU_SAML_NAMEID_EMAIL));
	assert_true(cu_saml_name_id_format_known(CU_SAML_NAMEID_WINDOWS));
	assert_false(
	    cu_saml_name_id_format_known("urn:oasis:names:tc:SAML:2.0:nameid-format:encrypted"));
	assert_false(cu_saml_name_id_format_known(NULL));
}

static void
test_xml_text(void **state)
{
	struct cu_arena *a = *state;
	const char *ok = "caf\xc3\xa9 \t\n";

	assert_ptr_equal(cu_saml_xml_text(a, ok), ok);
	assert_string_equal(cu_saml_xml_text(a, "a\x01"
	                                        "b"),
	                    "a\xef\xbf\xbd"
	                    "b");
	assert_string_equal(cu_saml_xml_text(a, "\xff"), "\xef\xbf\xbd");
	/* An overlong '/' and a surrogate are not characters. */
	assert_string_equal(cu_saml_xml_text(a, "\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(cu_saml_xml_text(a, "\xed\xa0\x80"),
	                    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(cu_saml_xml_text(a, "\xef\xbf\xbe"),
	                    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

static void
test_authn_request(void **state)
{
	struct cu_arena *a = *state;
	struct cu_saml_request rq;
	const char *why = NULL;
	const char *xml =
	    "<samlp:AuthnRequest xmlns:samlp=\"" P "\" xmlns:saml=\"" A "\" ID=\"_abc-1.2\" "
	    "Version=\"2.0\" IssueInstant=\"2024-02-29T12:34:56Z\" Destination=\"https://idp/sso\" "
	    "AssertionConsumerServiceURL=\"https://sp/acs\"><saml:Issuer>\n https://sp/meta "
	    "</saml:Issuer><samlp:NameIDPolicy Format=\"" CU_SAML_NAMEID_EMAIL "\"/>"
	    "</samlp:AuthnRequest>";

	assert_int_equal(parse(a, CU_SAML_AUTHN_REQUEST, xml, &rq, &why), CU_OK);
	assert_null(why);
	assert_string_equal(rq.sr_id, "_abc-1.2");
	assert_int_equal(rq.sr_issue_instant, 1709210096);
	assert_string_equal(rq.sr_issuer, "https://sp/meta");
	assert_string_equal(rq.sr_destination, "https://idp/sso");
	assert_string_equal(rq.sr_acs_url, "https://sp/acs");
	assert_string_equal(rq.sr_name_id_policy, CU_SAML_NAMEID_EMAIL);
	assert_non_null(rq.sr_root);
	/* Without NameIDPolicy and ACS URL: unspecified, and the provider's ACS. */
	xml = "<samlp:AuthnRequest xmlns:samlp=\"" P "\" ID=\"_x\" Version=\"2.0\" "
	      "IssueInstant=\"2024-02-29T12:34:56Z\"/>";
	assert_int_equal(parse(a, CU_SAML_AUTHN_REQUEST, xml, &rq, &why), CU_OK);
	assert_null(rq.sr_acs_url);
	assert_string_equal(rq.sr_name_id_policy, CU_SAML_NAMEID_UNSPECIFIED);
	/* Only direct children count: a NameIDPolicy nested deeper is not the request's. */
	xml = "<samlp:AuthnRequest xmlns:samlp=\"" P "\" ID=\"_x\" Version=\"2.0\" "
	      "IssueInstant=\"2024-02-29T12:34:56Z\"><samlp:Extensions><samlp:NameIDPolicy "
	      "Format=\"" CU_SAML_NAMEID_EMAIL "\"/></samlp:Extensions></samlp:AuthnRequest>";
	assert_int_equal(parse(a, CU_SAML_AUTHN_REQUEST, xml, &rq, &why), CU_OK);
	assert_string_equal(rq.sr_name_id_policy, CU_SAML_NAMEID_UNSPECIFIED);
}

static void
test_authn_request_refused(void **state)
{
	static const char *const bad[] = {
	    /* not well-formed, a DOCTYPE, the wrong root or namespace */
	    "<samlp:AuthnRequest xmlns:samlp=\"" P "\"",
	    "<!DOCTYPE x [<!ENTITY e \"e\">]><samlp:AuthnRequest xmlns:samlp=\"" P "\" ID=\"_x\" "
	    "Version=\"2.0\" IssueInstant=\"2024-02-29T12:34:56Z\"/>",
	    "<samlp:LogoutRequest xmlns:samlp=\"" P "\" ID=\"_x\" Version=\"2.0\" "
	    "IssueInstant=\"2024-02-29T12:34:56Z\"/>",
	    "<AuthnRequest ID=\"_x\" Version=\"2.0\" IssueInstant=\"2024-02-29T12:34:56Z\"/>",
	    /* Version, ID, IssueInstant */
	    "<samlp:AuthnRequest xmlns:samlp=\"" P "\" ID=\"_x\" Version=\"1.1\" "
	    "IssueInstant=\"2024-02-29T12:34:56Z\"/>",
	    "<samlp:AuthnRequest xmlns:samlp=\"" P "\" Version=\"2.0\" "
	    "IssueInstant=\"2024-02-29T12:34:56Z\"/>",
	    "<samlp:AuthnRequest xmlns:samlp=\"" P "\" ID=\"1abc\" Version=\"2.0\" "
	    "IssueInstant=\"2024-02-29T12:34:56Z\"/>",
	    "<samlp:AuthnRequest xmlns:samlp=\"" P "\" ID=\"_a b\" Version=\"2.0\" "
	    "IssueInstant=\"2024-02-29T12:34:56Z\"/>",
	    "<samlp:AuthnRequest xmlns:samlp=\"" P "\" ID=\"_x\" Version=\"2.0\"/>",
	    "<samlp:AuthnRequest xmlns:samlp=\"" P "\" ID=\"_x\" Version=\"2.0\" "
	    "IssueInstant=\"now\"/>",
	};
	struct cu_arena *a = *state;
	struct cu_saml_request rq;
	const char *why = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(parse(a, CU_SAML_AUTHN_REQUEST, bad[i], &rq, &why),
		                 CU_ERR_INVALID);
		assert_non_null(why);
	}
}

static void
test_request_limits(void **state)
{
	struct cu_arena *a = *state;
	struct cu_saml_request rq;
	const char *why = NULL;
	char *big = cu_arena_alloc(a, CU_SAML_MAX_MESSAGE + 200), id[CU_SAML_MAX_ID + 2];
	size_t n;

	n = (size_t)snprintf(big, 200,
	                     "<samlp:AuthnRequest xmlns:samlp=\"" P "\" ID=\"_x\" "
	                     "Version=\"2.0\" IssueInstant=\"2024-02-29T12:34:56Z\">");
	memset(big + n, ' ', CU_SAML_MAX_MESSAGE);
	n += CU_SAML_MAX_MESSAGE;
	memcpy(big + n, "</samlp:AuthnRequest>", 22);
	assert_int_equal(
	    cu_saml_request_parse(&rq, a, CU_SAML_AUTHN_REQUEST, big, strlen(big), &why),
	    CU_ERR_TOO_LARGE);
	/* An ID past CU_SAML_MAX_ID cannot be kept against replays. */
	id[0] = '_';
	memset(id + 1, 'a', CU_SAML_MAX_ID);
	id[CU_SAML_MAX_ID + 1] = '\0';
	big = cu_arena_printf(a,
	                      "<samlp:AuthnRequest xmlns:samlp=\"" P "\" ID=\"%s\" Version=\"2.0\" "
	                      "IssueInstant=\"2024-02-29T12:34:56Z\"/>",
	                      id);
	assert_int_equal(parse(a, CU_SAML_AUTHN_REQUEST, big, &rq, &why), CU_ERR_INVALID);
	id[CU_SAML_MAX_ID] = '\0';
	big = cu_arena_printf(a,
	                      "<samlp:AuthnRequest xmlns:samlp=\"" P "\" ID=\"%s\" Version=\"2.0\" "
	                      "IssueInstant=\"2024-02-29T12:34:56Z\"/>",
	                      id);
	assert_int_equal(parse(a, CU_SAML_AUTHN_REQUEST, big, &rq, &why), CU_OK);
}

static void
test_logout_request(void **state)
{
	struct cu_arena *a = *state;
	struct cu_saml_request rq;
	const char *why = NULL;
	const char *xml =
	    "<samlp:LogoutRequest xmlns:samlp=\"" P "\" xmlns:saml=\"" A "\" ID=\"_l\" "
	    "Version=\"2.0\" IssueInstant=\"2024-02-29T12:34:56Z\" "
	    "NotOnOrAfter=\"2024-02-29T12:39:56Z\"><saml:Issuer>sp</saml:Issuer><saml:NameID "
	    "Format=\"" CU_SAML_NAMEID_EMAIL "\">a&amp;b@example.com</saml:NameID>"
	    "<samlp:SessionIndex>idx</samlp:SessionIndex></samlp:LogoutRequest>";

	assert_int_equal(parse(a, CU_SAML_LOGOUT_REQUEST, xml, &rq, &why), CU_OK);
	assert_string_equal(rq.sr_name_id, "a&b@example.com");
	assert_string_equal(rq.sr_name_id_format, CU_SAML_NAMEID_EMAIL);
	assert_string_equal(rq.sr_session_index, "idx");
	assert_string_equal(rq.sr_issuer, "sp");
	assert_int_equal(rq.sr_not_on_or_after, 1709210396);
	assert_int_equal(parse(a, CU_SAML_AUTHN_REQUEST, xml, &rq, &why), CU_ERR_INVALID);
	xml = "<samlp:LogoutRequest xmlns:samlp=\"" P "\" ID=\"_l\" Version=\"2.0\" "
	      "IssueInstant=\"2024-02-29T12:34:56Z\" NotOnOrAfter=\"soon\"/>";
	assert_int_equal(parse(a, CU_SAML_LOGOUT_REQUEST, xml, &rq, &why), CU_ERR_INVALID);
}

/* The certificate's base64 body, as metadata carries it. */
static char *
cert_body(struct cu_arena *a)
{
	const char *b = strchr(sp_cert, '\n') + 1, *e = strstr(sp_cert, "-----END");
	char *out = cu_arena_alloc(a, (size_t)(e - b) + 1), *o = out;

	for (; b < e; b++)
		if (*b != '\n')
			*o++ = *b;
	*o = '\0';
	return out;
}

static const char *
sp_metadata(struct cu_arena *a, const char *nameid)
{
	return cu_arena_printf(
	    a,
	    "<md:EntityDescriptor xmlns:md=\"" MD "\" xmlns:ds=\"" DS "\" ID=\"_m\" "
	    "entityID=\"https://sp.example/metadata\"><md:SPSSODescriptor "
	    "AuthnRequestsSigned=\"true\" WantAssertionsSigned=\"1\" "
	    "protocolSupportEnumeration=\"" P "\"><md:KeyDescriptor use=\"signing\"><ds:KeyInfo>"
	    "<ds:X509Data><ds:X509Certificate>\n%s\n</ds:X509Certificate></ds:X509Data>"
	    "</ds:KeyInfo></md:KeyDescriptor><md:KeyDescriptor use=\"encryption\"><ds:KeyInfo>"
	    "<ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
	    "</md:KeyDescriptor><md:SingleLogoutService Binding=\"" CU_SAML_BINDING_POST "\" "
	    "Location=\"https://sp.example/sls\"/>%s<md:AssertionConsumerService "
	    "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact\" "
	    "Location=\"https://sp.example/art\" index=\"0\"/><md:AssertionConsumerService "
	    "Binding=\"" CU_SAML_BINDING_POST "\" Location=\"https://sp.example/acs2\" "
	    "index=\"2\"/><md:AssertionConsumerService Binding=\"" CU_SAML_BINDING_REDIRECT "\" "
	    "Location=\"https://sp.example/acs1\" index=\"1\"/></md:SPSSODescriptor>"
	    "</md:EntityDescriptor>",
	    cert_body(a), cert_body(a),
	    nameid != NULL ? cu_arena_printf(a, "<md:NameIDFormat>%s</md:NameIDFormat>", nameid)
	                   : "");
}

static void
test_sp_metadata(void **state)
{
	struct cu_arena *a = *state;
	struct cu_ctx cx;
	struct cu_saml_sp_metadata md;
	const char *why = NULL, *xml = sp_metadata(a, CU_SAML_NAMEID_EMAIL);

	memset(&cx, 0, sizeof(cx));
	cx.cx_arena = a;
	assert_int_equal(cu_saml_sp_metadata_parse(&cx, xml, strlen(xml), &md, &why), CU_OK);
	assert_string_equal(md.sm_entity_id, "https://sp.example/metadata");
	/* The lowest index among the bindings custos speaks (Artifact is not one). */
	assert_string_equal(md.sm_acs_url, "https://sp.example/acs1");
	assert_string_equal(md.sm_acs_binding, "redirect");
	assert_string_equal(md.sm_sls_url, "https://sp.example/sls");
	assert_string_equal(md.sm_sls_binding, "post");
	assert_string_equal(md.sm_name_id_format, CU_SAML_NAMEID_EMAIL);
	assert_true(md.sm_authn_requests_signed);
	assert_true(md.sm_want_assertions_signed);
	assert_non_null(strstr(md.sm_signing_cert_pem, "-----BEGIN CERTIFICATE-----\n"));
	assert_non_null(md.sm_encryption_cert_pem);
	{
		/* The PEM made from the metadata is the certificate itself. */
		struct cu_xmlsig_key *k = NULL;

		assert_int_equal(cu_xmlsig_key_load(&k, sp_key, strlen(sp_key),
		                                    md.sm_signing_cert_pem,
		                                    strlen(md.sm_signing_cert_pem)),
		                 0);
		cu_xmlsig_key_free(k);
	}
	xml = sp_metadata(a, "urn:example:unknown");
	assert_int_equal(cu_saml_sp_metadata_parse(&cx, xml, strlen(xml), &md, &why),
	                 CU_ERR_INVALID);
	assert_non_null(why);
	xml = "<md:EntityDescriptor xmlns:md=\"" MD "\" entityID=\"x\"/>";
	assert_int_equal(cu_saml_sp_metadata_parse(&cx, xml, strlen(xml), &md, &why),
	                 CU_ERR_INVALID);
	assert_string_equal(why, "no SPSSODescriptor objects found.");
	xml = "<md:EntityDescriptor xmlns:md=\"" MD "\" entityID=\"x\"><md:SPSSODescriptor/>"
	      "</md:EntityDescriptor>";
	assert_int_equal(cu_saml_sp_metadata_parse(&cx, xml, strlen(xml), &md, &why),
	                 CU_ERR_INVALID);
	assert_string_equal(why, "No AssertionConsumerService found.");
	xml = "<md:EntityDescriptor xmlns:md=\"" MD "\" xmlns:ds=\"" DS "\" entityID=\"x\">"
	      "<md:SPSSODescriptor><md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>"
	      "AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
	      "<md:AssertionConsumerService Binding=\"" CU_SAML_BINDING_POST "\" Location=\"y\"/>"
	      "</md:SPSSODescriptor></md:EntityDescriptor>";
	assert_int_equal(cu_saml_sp_metadata_parse(&cx, xml, strlen(xml), &md, &why),
	                 CU_ERR_INVALID);
	xml = "<!DOCTYPE x><md:EntityDescriptor xmlns:md=\"" MD "\" entityID=\"x\"/>";
	assert_int_equal(cu_saml_sp_metadata_parse(&cx, xml, strlen(xml), &md, &why),
	                 CU_ERR_INVALID);
}

static void
test_sp_metadata_signed(void **state)
{
	struct cu_arena *a = *state;
	struct cu_ctx cx;
	struct cu_saml_sp_metadata md;
	struct cu_xmlsig_key *k = NULL;
	const char *why = NULL, *xml = sp_metadata(a, NULL);
	xmlDoc *doc = NULL;
	char *text = NULL, *bad;
	size_t len = 0;

	memset(&cx, 0, sizeof(cx));
	cx.cx_arena = a;
	assert_int_equal(cu_xmlsig_key_load(&k, sp_key, strlen(sp_key), sp_cert, strlen(sp_cert)),
	                 0);
	assert_int_equal(cu_xmlsig_parse(&doc, a, xml, strlen(xml)), CU_OK);
	assert_int_equal(cu_xmlsig_sign(doc, xmlDocGetRootElement(doc), "ID", k,
	                                CU_XMLSIG_RSA_SHA256, CU_XMLSIG_SHA256),
	                 0);
	cu_xmlsig_key_free(k);
	assert_int_equal(cu_xmlsig_serialize(&text, &len, a, doc), 0);
	assert_int_equal(cu_saml_sp_metadata_parse(&cx, text, len, &md, &why), CU_OK);
	assert_null(md.sm_name_id_format);
	/* Signed metadata that does not verify with its own certificate is refused. */
	bad = cu_arena_strdup(a, text);
	memcpy(strstr(bad, "https://sp.example/acs1"), "https://sp.example/acsX", 23);
	assert_int_equal(cu_saml_sp_metadata_parse(&cx, bad, len, &md, &why), CU_ERR_INVALID);
	assert_string_equal(why, "Failed to verify Metadata signature");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time_parse),
	    cmocka_unit_test(test_time_format),
	    cmocka_unit_test(test_timedelta),
	    cmocka_unit_test(test_instant_window),
	    cmocka_unit_test(test_ids_and_formats),
	    cmocka_unit_test_setup_teardown(test_xml_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_authn_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_authn_request_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_logout_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sp_metadata, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sp_metadata_signed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
