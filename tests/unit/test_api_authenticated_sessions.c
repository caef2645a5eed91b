/* lib/api/authenticated_sessions.c: User-Agent strings described in ua-parser's shape. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "api/authenticated_sessions.h"

/* The string at o[a][b], or NULL for a JSON null. */
static const char *
at(struct json_object *o, const char *a, const char *b)
{
	struct json_object *p = NULL, *v = NULL;

	assert_true(json_object_object_get_ex(o, a, &p));
	assert_true(json_object_object_get_ex(p, b, &v));
	return v == NULL ? NULL : json_object_get_string(v);
}

static void
check(const char *ua, const char *browser, const char *bmajor, const char *os, const char *osmajor,
      const char *device, const char *brand)
{
	struct json_object *o = cu_api_sessions_user_agent(ua);
	struct json_object *s = NULL;

	assert_string_equal(at(o, "user_agent", "family"), browser);
	if (bmajor == NULL)
		assert_null(at(o, "user_agent", "major"));
	else
		assert_string_equal(at(o, "user_agent", "major"), bmajor);
	assert_string_equal(at(o, "os", "family"), os);
	if (osmajor == NULL)
		assert_null(at(o, "os", "major"));
	else
		assert_string_equal(at(o, "os", "major"), osmajor);
	assert_string_equal(at(o, "device", "family"), device);
	if (brand == NULL)
		assert_null(at(o, "device", "brand"));
	else
		assert_string_equal(at(o, "device", "brand"), brand);
	assert_true(json_object_object_get_ex(o, "string", &s));
	assert_string_equal(json_object_get_string(s), ua != NULL ? ua : "");
	json_object_put(o);
}

static void
test_browsers(void **state)
{
	(void)state;
	check("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
	      "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
	      "Edge", "120", "Windows", "10", "Other", NULL);
	check("Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0", "Firefox",
	      "115", "Linux", NULL, "Other", NULL);
	check("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
	      "Gecko) Version/17.2 Safari/605.1.15",
	      "Safari", "17", "Mac OS X", "10", "Mac", "Apple");
	check(
	    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
	    "CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
	    "Chrome Mobile iOS", "120", "iOS", "16", "iPad", "Apple");
	check("curl/8.5.0", "curl", "8", "Other", NULL, "Other", NULL);
	check("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	      "Googlebot", "2", "Other", NULL, "Spider", "Spider");
}

static void
test_odd_input(void **state)
{
	static char big[CU_API_SESSIONS_MAX_UA * 4];

	(void)state;
	check("", "Other", NULL, "Other", NULL, "Other", NULL);
	check(NULL, "Other", NULL, "Other", NULL, "Other", NULL);
	/* A version number longer than ten digits is cut there; a trailing dot is no part. */
	check("Firefox/123456789012345.", "Firefox", "1234567890", "Other", NULL, "Other", NULL);
	check("Firefox/", "Firefox", NULL, "Other", NULL, "Other", NULL);
	check("Windows NT 6.3", "Other", NULL, "Windows", "8", "Other", NULL);
	check("Windows NT 10.01", "Other", NULL, "Windows", NULL, "Other", NULL);
	/* Only the first CU_API_SESSIONS_MAX_UA bytes are looked at; the string stays whole. */
	memset(big, 'x', sizeof(big) - 1);
	memcpy(big + sizeof(big) - 20, "Firefox/1.0", 11);
	check(big, "Other", NULL, "Other", NULL, "Other", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_browsers),
	    cmocka_unit_test(test_odd_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
