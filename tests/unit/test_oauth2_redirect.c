/* lib/providers/oauth2_redirect.c: which redirect URIs are acceptable and which registered entry
 * each one matches. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "bounds.h"
#include "providers/oauth2_redirect.h"

static int
valid(const char *uri)
{
	return cu_oauth2_redirect_uri_valid(uri, strlen(uri));
}

/* Matches uri against a registered list given as JSON text. */
static int
match(const char *registered_json, const char *kind, const char *uri)
{
	struct json_object *reg = json_tokener_parse(registered_json);
	int r;

	assert_non_null(reg);
	r = cu_oauth2_redirect_match(reg, kind, uri);
	json_object_put(reg);
	return r;
}

#define STRICT(u) "[{\"matching_mode\": \"strict\", \"url\": \"" u "\"}]"
#define REGEX(u) "[{\"matching_mode\": \"regex\", \"url\": \"" u "\"}]"

static void
test_valid_accepts(void **state)
{
	static const char *const good[] = {
	    "https://rp.example/cb",
	    "http://rp.example/cb",
	    "HTTPS://rp.example/cb",
	    "https://rp.example",
	    "https://rp.example/",
	    "https://rp.example?x=1",
	    "https://rp.example:8443/cb",
	    "https://rp.example:1/cb",
	    "https://rp.example:65535/cb",
	    "http://127.0.0.1:9/cb",
	    "http://localhost/cb",
	    "http://[::1]:8080/cb",
	    "https://[2001:db8::1]/cb",
	    "https://rp.example./cb",
	    "https://my_host.rp-example.com/a/b/c",
	    "https://rp.example/cb?state=1&x=%20y&z=a/b?c",
	    "https://rp.example/c%41b",
	    "https://rp.example/a/.well-known/x",
	    "https://rp.example/a/...b/c",
	    "https://rp.example/a/.b",
	    "https://rp.example/@user/cb",
	    "https://rp.example/cb;jsessionid=1",
	    "https://rp.example/cb?next=..%2F..%2Fx",
	    "https://rp.example/cb?q=%00",
	    "https://rp.example/!$&'()*+,;=:@-._~",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!valid(good[i]))
			fail_msg("refused: %s", good[i]);
	}
}

static void
test_valid_refuses(void **state)
{
	static const char *const bad[] = {
	    "",
	    "rp.example/cb",
	    "/cb",
	    "//rp.example/cb",
	    "javascript:alert(1)",
	    "javascript://rp.example/%0aalert(1)",
	    "data:text/html,<script>alert(1)</script>",
	    "vbscript:msgbox",
	    "ftp://rp.example/cb",
	    "file:///etc/passwd",
	    "https:rp.example/cb",
	    "https:/rp.example/cb",
	    "https:///cb",
	    "https://",
	    "https://rp.example@evil/cb",
	    "https://user:pass@rp.example/cb",
	    "https://@rp.example/cb",
	    "https://rp.example%40evil/cb",
	    "https://rp.example#@evil/cb",
	    "https://rp.example/cb#frag",
	    "https://rp.example/cb#",
	    "https://rp.example\\@evil/cb",
	    "https://rp.example\\evil/cb",
	    "https://rp.example/cb\\..\\x",
	    "https://rp.example/cb/../x",
	    "https://rp.example/cb/..",
	    "https://rp.example/..;/x",
	    "https://rp.example/cb/..;jsessionid=1/x",
	    "https://rp.example/cb/./x",
	    "https://rp.example/cb/.",
	    "https://rp.example/cb/%2e%2e/x",
	    "https://rp.example/cb/%2E%2E/x",
	    "https://rp.example/cb/.%2e/x",
	    "https://rp.example/cb/%2e/x",
	    "https://rp.example/cb/..%2Fx",
	    "https://rp.example/cb/%2fx",
	    "https://rp.example/cb/%5cx",
	    "https://rp.example/cb/%00",
	    "https://rp.example/cb/%zz",
	    "https://rp.example/cb/%2",
	    "https://rp.example/cb%",
	    "https://rp.example/c b",
	    "https://rp.example/cb?x=a b",
	    "https://rp.example/cb\t",
	    "https://rp.example/cb\r\nLocation: x",
	    "https://rp.example/<script>",
	    "https://rp.example/cb?\"><script>",
	    "https://rp.example/cb?x={y}",
	    "https://rp.example/cb?x=|",
	    "https://rp.example/cb?x=^",
	    "https://rp.example/cb?x=`",
	    "https://rp.example/caf\xc3\xa9",
	    "https://r\xc3\xa9p.example/cb",
	    "https://rp..example/cb",
	    "https://.rp.example/cb",
	    "https://rp.example:/cb",
	    "https://rp.example:0/cb",
	    "https://rp.example:080/cb",
	    "https://rp.example:65536/cb",
	    "https://rp.example:123456/cb",
	    "https://rp.example:443x/cb",
	    "https://rp.example:-1/cb",
	    "https://[::1/cb",
	    "https://[]/cb",
	    "https://[fe80::1%25eth0]/cb",
	    "https://[::1]x/cb",
	    "https://rp.example;x/cb",
	    "https://rp.ex*mple/cb",
	    "https://rp.example cb",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (valid(bad[i]))
			fail_msg("accepted: %s", bad[i]);
	}
}

static void
test_valid_lengths(void **state)
{
	char buf[CU_OAUTH2_MAX_REDIRECT_URI + 2];
	size_t n;

	(void)state;
	assert_false(cu_oauth2_redirect_uri_valid(NULL, 0));
	/* An embedded NUL is refused even when what precedes it is fine. */
	assert_false(cu_oauth2_redirect_uri_valid("https://rp.example/cb\0x", 23));
	assert_true(cu_oauth2_redirect_uri_valid("https://rp.example/cb\0x", 21));
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "https://rp.example/", 19);
	n = CU_OAUTH2_MAX_REDIRECT_URI;
	assert_true(cu_oauth2_redirect_uri_valid(buf, n));
	assert_false(cu_oauth2_redirect_uri_valid(buf, n + 1));
}

static void
test_strict_exact(void **state)
{
	(void)state;
	assert_true(
	    match(STRICT("https://rp.example/cb"), "authorization", "https://rp.example/cb"));
	assert_true(match(STRICT("https://rp.example/cb?a=1"), NULL, "https://rp.example/cb?a=1"));
	assert_true(match(STRICT("http://127.0.0.1:9/cb"), NULL, "http://127.0.0.1:9/cb"));
}

static void
test_strict_variants_refused(void **state)
{
	static const char *const variants[] = {
	    "https://rp.example@evil/cb",   "https://rp.example/cb/../x",
	    "https://rp.example/cb/..;/x",  "https://rp.example/..;/cb",
	    "https://RP.example/cb",        "https://rp.EXAMPLE/cb",
	    "HTTPS://rp.example/cb",        "https://rp.example/CB",
	    "https://rp.example/Cb",        "https://rp.example./cb",
	    "https://rp.example:443/cb",    "https://rp.example:8443/cb",
	    "http://rp.example/cb",         "https://rp.example/cb/",
	    "https://rp.example/cb?",       "https://rp.example/cb?x=1",
	    "https://rp.example/cb#x",      "https://rp.example/cb#",
	    "https://rp.example/c%62",      "https://rp.example/cb%20",
	    "https://rp.example/cb ",       " https://rp.example/cb",
	    "https://rp.example/cbx",       "https://rp.example/c",
	    "https://evil.rp.example/cb",   "https://rp.example.evil/cb",
	    "https://rp.example\\@evil/cb", "javascript://rp.example/cb",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		if (match(STRICT("https://rp.example/cb"), "authorization", variants[i]))
			fail_msg("matched: %s", variants[i]);
	}
	/* A registered query must be there, exactly. */
	assert_false(match(STRICT("https://rp.example/cb?a=1"), NULL, "https://rp.example/cb"));
	assert_false(
	    match(STRICT("https://rp.example/cb?a=1"), NULL, "https://rp.example/cb?a=1&b=2"));
	assert_false(match(STRICT("https://rp.example/cb?a=1"), NULL, "https://rp.example/cb?a=2"));
}

static void
test_registered_unsafe_never_matches(void **state)
{
	(void)state;
	/* Whatever an administrator typed, only a valid http(s) URI is ever a target. */
	assert_false(match(STRICT("javascript:alert(1)"), NULL, "javascript:alert(1)"));
	assert_false(match(STRICT("data:text/html,x"), NULL, "data:text/html,x"));
	assert_false(match(STRICT("https://rp.example/cb#f"), NULL, "https://rp.example/cb#f"));
	assert_false(match(STRICT("https://u@rp.example/cb"), NULL, "https://u@rp.example/cb"));
	assert_false(match(REGEX(".*"), NULL, "javascript:alert(1)"));
	assert_false(match(REGEX("javascript:.*"), NULL, "javascript:alert(1)"));
	assert_false(match(REGEX("data:.*"), NULL, "data:text/html,x"));
	assert_false(match(REGEX(".*"), NULL, "https://rp.example@evil/cb"));
	assert_false(match(REGEX(".*"), NULL, "https://rp.example/cb#x"));
	assert_false(match(REGEX(".*"), NULL, ""));
	/* An empty list, a non-list and a missing URI match nothing. */
	assert_false(match("[]", NULL, "https://rp.example/cb"));
	assert_false(match("{\"url\": \"https://rp.example/cb\"}", NULL, "https://rp.example/cb"));
	assert_false(cu_oauth2_redirect_match(NULL, NULL, "https://rp.example/cb"));
}

static void
test_regex_anchored(void **state)
{
	(void)state;
	assert_true(match(REGEX("https://rp\\\\.example/.*"), NULL, "https://rp.example/cb"));
	assert_true(match(REGEX("https://rp\\\\.example/.*"), NULL, "https://rp.example/"));
	/* Anchored at both ends, whether or not the expression says so. */
	assert_false(
	    match(REGEX("https://rp\\\\.example/.*"), NULL, "https://evil/?https://rp.example/"));
	assert_false(match(REGEX("https://rp\\\\.example/cb"), NULL, "https://rp.example/cbx"));
	assert_false(
	    match(REGEX("https://rp\\\\.example/cb"), NULL, "https://evil/https://rp.example/cb"));
	assert_false(match(REGEX("rp\\\\.example/cb"), NULL, "https://rp.example/cb"));
	assert_true(match(REGEX("^https://rp\\\\.example/cb$"), NULL, "https://rp.example/cb"));
	assert_false(match(REGEX("^https://rp\\\\.example/cb"), NULL, "https://rp.example/cb2"));
	/* Alternation is grouped before anchoring: "a|b" is ^(a|b)$, not ^a|b$. */
	assert_true(match(REGEX("https://a\\\\.example/cb|https://b\\\\.example/cb"), NULL,
	                  "https://b.example/cb"));
	assert_false(match(REGEX("https://a\\\\.example/cb|https://b\\\\.example/cb"), NULL,
	                   "https://b.example/cb/evil"));
	assert_false(match(REGEX("https://a\\\\.example/cb|https://b\\\\.example/cb"), NULL,
	                   "https://evil.example/?https://a.example/cb"));
	/* Ports and subdomains as the expression allows them. */
	assert_true(match(REGEX("http://localhost:[0-9]+/cb"), NULL, "http://localhost:4567/cb"));
	assert_false(match(REGEX("http://localhost:[0-9]+/cb"), NULL, "http://localhost:45a/cb"));
	assert_true(match(REGEX("https://[a-z]+\\\\.rp\\\\.example/cb"), NULL,
	                  "https://app.rp.example/cb"));
	/* Still the URI checks: a regex can not let userinfo, dot segments or fragments in. */
	assert_false(match(REGEX("https://rp\\\\.example.*"), NULL, "https://rp.example@evil/cb"));
	assert_false(
	    match(REGEX("https://rp\\\\.example/.*"), NULL, "https://rp.example/cb/../../x"));
	assert_false(match(REGEX("https://rp\\\\.example/.*"), NULL, "https://rp.example/..;/x"));
	assert_false(
	    match(REGEX("https://rp\\\\.example/.*"), NULL, "https://rp.example/a/..%2Fx"));
	assert_false(match(REGEX("https://rp\\\\.example/.*"), NULL, "https://rp.example/cb#x"));
}

static void
test_regex_refused_expressions(void **state)
{
	char big[CU_OAUTH2_MAX_REGEX + 64];
	char json[sizeof(big) + 64];

	(void)state;
	/* Expressions that do not compile match nothing. */
	assert_false(match(REGEX("https://rp\\\\.example/(cb"), NULL, "https://rp.example/(cb"));
	assert_false(match(REGEX("https://rp\\\\.example/[cb"), NULL, "https://rp.example/c"));
	assert_false(match(REGEX(""), NULL, "https://rp.example/cb"));
	/* Costly ones too: large or multiplied bounds, back-references. */
	assert_false(match(REGEX("https://rp\\\\.example/a{65}"), NULL, "https://rp.example/a"));
	assert_false(
	    match(REGEX("https://rp\\\\.example/((a{64}){64}){64}"), NULL, "https://rp.example/a"));
	assert_false(
	    match(REGEX("https://rp\\\\.example/(a)\\\\1"), NULL, "https://rp.example/aa"));
	/* Stacked repetitions ("a**", "a+?") and deep nests of them are refused too. */
	assert_false(match(REGEX("https://rp\\\\.example/a**"), NULL, "https://rp.example/a"));
	assert_false(match(REGEX("https://rp\\\\.example/a+?"), NULL, "https://rp.example/a"));
	assert_false(match(REGEX("https://rp\\\\.example/a{2}+"), NULL, "https://rp.example/aa"));
	assert_false(
	    match(REGEX("https://rp\\\\.example/((((((((((((((a*)*)*)*)*)*)*)*)*)*)*)*)*)*)"), NULL,
	          "https://rp.example/a"));
	assert_true(match(REGEX("https://rp\\\\.example/(a*)*"), NULL, "https://rp.example/aaa"));
	/* Unbalanced parentheses and brackets match nothing. */
	assert_false(match(REGEX("https://rp\\\\.example/a)"), NULL, "https://rp.example/a)"));
	assert_true(match(REGEX("https://rp\\\\.example/[])a]+"), NULL, "https://rp.example/a)"));
	assert_true(match(REGEX("https://rp\\\\.example/a{2,3}"), NULL, "https://rp.example/aaa"));
	assert_false(
	    match(REGEX("https://rp\\\\.example/a{2,3}"), NULL, "https://rp.example/aaaa"));
	/* Longer than CU_OAUTH2_MAX_REGEX: nothing. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "https://rp\\\\.example/", 21);
	memcpy(big + CU_OAUTH2_MAX_REGEX + 20, ".*", 3);
	snprintf(json, sizeof(json), "[{\"matching_mode\": \"regex\", \"url\": \"%s\"}]", big);
	assert_false(match(json, NULL, "https://rp.example/aaaa"));
}

static void
test_kinds_and_modes(void **state)
{
	static const char *reg =
	    "[{\"matching_mode\": \"strict\", \"url\": \"https://rp.example/cb\"},"
	    " {\"matching_mode\": \"strict\", \"url\": \"https://rp.example/bye\","
	    "  \"redirect_uri_type\": \"logout\"},"
	    " {\"matching_mode\": \"regex\", \"url\": \"https://rp\\\\.example/r/.*\","
	    "  \"redirect_uri_type\": \"authorization\"},"
	    " {\"matching_mode\": \"glob\", \"url\": \"https://rp.example/g\"},"
	    " {\"matching_mode\": \"strict\"},"
	    " {\"matching_mode\": \"strict\", \"url\": 7},"
	    " \"https://rp.example/plain\","
	    " {\"url\": \"https://rp.example/nomode\"}]";

	(void)state;
	assert_true(match(reg, "authorization", "https://rp.example/cb"));
	assert_true(match(reg, NULL, "https://rp.example/cb"));
	assert_false(match(reg, "logout", "https://rp.example/cb"));
	assert_true(match(reg, "logout", "https://rp.example/bye"));
	assert_false(match(reg, "authorization", "https://rp.example/bye"));
	assert_true(match(reg, "authorization", "https://rp.example/r/x"));
	assert_false(match(reg, "logout", "https://rp.example/r/x"));
	/* An unknown mode or a malformed entry matches nothing; no mode means strict. */
	assert_false(match(reg, NULL, "https://rp.example/g"));
	assert_false(match(reg, NULL, "https://rp.example/plain"));
	assert_true(match(reg, NULL, "https://rp.example/nomode"));
}

static void
test_entry_cap(void **state)
{
	char json[CU_OAUTH2_MAX_REDIRECT_URIS * 64 + 256];
	size_t off = 0;
	int i;

	(void)state;
	/* Entries past CU_OAUTH2_MAX_REDIRECT_URIS are not looked at. */
	off += (size_t)snprintf(json + off, sizeof(json) - off, "[");
	for (i = 0; i < CU_OAUTH2_MAX_REDIRECT_URIS; i++)
		off += (size_t)snprintf(
		    json + off, sizeof(json) - off,
		    "{\"matching_mode\": \"strict\", \"url\": \"https://a/%d\"},", i);
	snprintf(json + off, sizeof(json) - off,
	         "{\"matching_mode\": \"strict\", \"url\": \"https://rp.example/late\"}]");
	assert_true(match(json, NULL, "https://a/0"));
	assert_true(match(json, NULL, "https://a/63"));
	assert_false(match(json, NULL, "https://rp.example/late"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_accepts),
	    cmocka_unit_test(test_valid_refuses),
	    cmocka_unit_test(test_valid_lengths),
	    cmocka_unit_test(test_strict_exact),
	    cmocka_unit_test(test_strict_variants_refused),
	    cmocka_unit_test(test_registered_unsafe_never_matches),
	    cmocka_unit_test(test_regex_anchored),
	    cmocka_unit_test(test_regex_refused_expressions),
	    cmocka_unit_test(test_kinds_and_modes),
	    cmocka_unit_test(test_entry_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
