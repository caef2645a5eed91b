/* The pure helpers of the OAuth2 endpoints (lib/providers/oauth2_endpoints.h): the Bearer
 * header, CORS origins, device flow user codes, query escaping and the post-logout redirect. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "providers/oauth2_endpoints.h"

static const char *
bearer(const char *h)
{
	static char out[256];
	size_t n = 0;
	const char *t = cu_oauth2_bearer_token(h, &n);

	if (t == NULL)
		return NULL;
	assert_true(n < sizeof(out));
	memcpy(out, t, n);
	out[n] = '\0';
	return out;
}

static void
test_bearer(void **state)
{
	(void)state;
	assert_string_equal(bearer("Bearer abc.def.ghi"), "abc.def.ghi");
	assert_string_equal(bearer("bearer abc"), "abc");
	assert_string_equal(bearer("BEARER   abc=="), "abc==");
	assert_string_equal(bearer("Bearer a-b_c~d+e/f"), "a-b_c~d+e/f");
	assert_string_equal(bearer("Bearer abc  "), "abc");
	assert_string_equal(bearer("Bearer\tabc"), "abc");
	/* Not a Bearer credential, or not one token. */
	assert_null(bearer(NULL));
	assert_null(bearer(""));
	assert_null(bearer("Bearer"));
	assert_null(bearer("Bearer "));
	assert_null(bearer("Bearerabc"));
	assert_null(bearer("Basic abc"));
	assert_null(bearer("Bearer a b"));
	assert_null(bearer("Bearer a,b"));
	assert_null(bearer("Bearer =abc"));
	assert_null(bearer("Bearer ab=c"));
	assert_null(bearer("Bearer a\"b"));
	assert_null(bearer("Bearer a\r\nX: y"));
	assert_null(bearer("Bearer \xc3\xa9"));
}

static void
test_origin(void **state)
{
	(void)state;
	assert_true(cu_oauth2_origin_match("https://rp.example", "https://rp.example/cb"));
	assert_true(cu_oauth2_origin_match("https://rp.example", "https://RP.example:443/cb?x#y"));
	assert_true(cu_oauth2_origin_match("https://rp.example:443", "https://rp.example"));
	assert_true(cu_oauth2_origin_match("http://rp.example", "http://rp.example:80/"));
	assert_true(cu_oauth2_origin_match("HTTP://Rp.Example:8080", "http://rp.example:8080/x"));
	assert_true(cu_oauth2_origin_match("http://[::1]:8080", "http://[::1]:8080/cb"));
	/* Scheme, host and port must all agree. */
	assert_false(cu_oauth2_origin_match("http://rp.example", "https://rp.example/cb"));
	assert_false(cu_oauth2_origin_match("https://rp.example:8443", "https://rp.example/cb"));
	assert_false(cu_oauth2_origin_match("https://rp.example.evil", "https://rp.example/cb"));
	assert_false(cu_oauth2_origin_match("https://evil", "https://evil@rp.example/cb"));
	assert_false(cu_oauth2_origin_match("https://rp.example", "https://evil@rp.example/cb"));
	/* An Origin is scheme://host[:port] and nothing else. */
	assert_false(cu_oauth2_origin_match("https://rp.example/", "https://rp.example/cb"));
	assert_false(cu_oauth2_origin_match("null", "https://rp.example/cb"));
	assert_false(cu_oauth2_origin_match("https://", "https://rp.example/cb"));
	assert_false(cu_oauth2_origin_match("https://rp.example:", "https://rp.example/cb"));
	assert_false(cu_oauth2_origin_match("https://rp.example:99999", "https://rp.example/cb"));
	assert_false(cu_oauth2_origin_match("javascript://rp.example", "javascript://rp.example/"));
	assert_false(cu_oauth2_origin_match("https://rp .example", "https://rp .example/"));
	assert_false(cu_oauth2_origin_match(NULL, "https://rp.example/cb"));
	assert_false(cu_oauth2_origin_match("https://rp.example", NULL));
	assert_false(cu_oauth2_origin_match("https://rp.example", "regex.*"));
}

static void
test_user_code(void **state)
{
	char out[CU_OAUTH2_USER_CODE_LEN + 1];

	(void)state;
	assert_int_equal(cu_oauth2_user_code_normalize(out, sizeof(out), "123456789"), 0);
	assert_string_equal(out, "123456789");
	assert_int_equal(cu_oauth2_user_code_normalize(out, sizeof(out), "123-456-789"), 0);
	assert_string_equal(out, "123456789");
	assert_int_equal(cu_oauth2_user_code_normalize(out, sizeof(out), " 123 456\t789 "), 0);
	assert_string_equal(out, "123456789");
	assert_int_equal(cu_oauth2_user_code_normalize(out, sizeof(out), "000000001"), 0);
	assert_string_equal(out, "000000001");
	assert_int_equal(cu_oauth2_user_code_normalize(out, sizeof(out), ""), -1);
	assert_int_equal(cu_oauth2_user_code_normalize(out, sizeof(out), "12345678"), -1);
	assert_int_equal(cu_oauth2_user_code_normalize(out, sizeof(out), "1234567890"), -1);
	assert_int_equal(cu_oauth2_user_code_normalize(out, sizeof(out), "12345678a"), -1);
	assert_int_equal(cu_oauth2_user_code_normalize(out, sizeof(out), "12345678\xd9\xa1"), -1);
	assert_int_equal(cu_oauth2_user_code_normalize(out, sizeof(out), "---------"), -1);
	assert_int_equal(cu_oauth2_user_code_normalize(out, sizeof(out), NULL), -1);
	/* Padding cannot make an input of any length acceptable. */
	assert_int_equal(
	    cu_oauth2_user_code_normalize(
	        out, sizeof(out),
	        "123456789---------------------------------------------------------------"),
	    -1);
	assert_int_equal(cu_oauth2_user_code_normalize(out, 5, "123456789"), -1);
}

static void
test_escape_and_logout_redirect(void **state)
{
	struct cu_arena a;

	(void)state;
	cu_arena_init(&a);
	assert_string_equal(cu_oauth2_query_escape(&a, "aZ09-._~"), "aZ09-._~");
	assert_string_equal(cu_oauth2_query_escape(&a, "a b&c=d/e?f#g%"),
	                    "a%20b%26c%3Dd%2Fe%3Ff%23g%25");
	assert_string_equal(cu_oauth2_query_escape(&a, "\xc3\xa9"), "%C3%A9");
	assert_string_equal(cu_oauth2_query_escape(&a, ""), "");
	assert_string_equal(cu_oauth2_logout_redirect(&a, "https://rp/out", "s 1"),
	                    "https://rp/out?state=s%201");
	assert_string_equal(cu_oauth2_logout_redirect(&a, "https://rp/out?x=1", "a&b"),
	                    "https://rp/out?x=1&state=a%26b");
	assert_string_equal(cu_oauth2_logout_redirect(&a, "https://rp/out", NULL),
	                    "https://rp/out");
	assert_string_equal(cu_oauth2_logout_redirect(&a, "https://rp/out", ""), "https://rp/out");
	cu_arena_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bearer),
	    cmocka_unit_test(test_origin),
	    cmocka_unit_test(test_user_code),
	    cmocka_unit_test(test_escape_and_logout_redirect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
