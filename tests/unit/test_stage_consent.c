/* lib/stages/consent.c: whether a stored consent covers the permissions asked for. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "stages/stages_auth.h"

static int
covers(const char *allowed, const char *requested_json)
{
	struct json_object *req =
	    requested_json != NULL ? json_tokener_parse(requested_json) : NULL;
	int r = cu_stage_consent_covers(allowed, req);

	json_object_put(req);
	return r;
}

static void
test_covers(void **state)
{
	(void)state;
	/* Nothing asked: covered by anything, even no consent text. */
	assert_true(covers("", NULL));
	assert_true(covers(NULL, "[]"));
	assert_true(covers("openid", "[]"));
	/* Equal and larger sets cover. */
	assert_true(covers("openid email", "[{\"id\": \"openid\", \"name\": \"\"}, "
	                                   "{\"id\": \"email\", \"name\": \"Email\"}]"));
	assert_true(covers("openid email profile", "[{\"id\": \"email\"}]"));
	/* Extra spaces in the stored text do not matter. */
	assert_true(covers("  openid   email ", "[{\"id\": \"email\"}, {\"id\": \"openid\"}]"));
	/* Something new is not covered. */
	assert_false(covers("openid", "[{\"id\": \"openid\"}, {\"id\": \"email\"}]"));
	assert_false(covers("", "[{\"id\": \"openid\"}]"));
	assert_false(covers(NULL, "[{\"id\": \"openid\"}]"));
	/* Whole words only: a prefix, a suffix or a joined pair is not a match. */
	assert_false(covers("openid", "[{\"id\": \"open\"}]"));
	assert_false(covers("openid", "[{\"id\": \"openidx\"}]"));
	assert_false(covers("a b", "[{\"id\": \"a b\"}]"));
	assert_false(covers("openid email", "[{\"id\": \"id email\"}]"));
	/* The empty id is never a word of the text. */
	assert_false(covers("openid", "[{\"id\": \"\"}]"));
	/* Entries without a string id ask for nothing. */
	assert_true(covers("", "[{\"name\": \"x\"}, {\"id\": 3}, \"openid\", null]"));
	/* A non-array request asks for nothing. */
	assert_true(covers("", "{\"id\": \"openid\"}"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_covers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
