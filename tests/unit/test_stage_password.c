/* lib/stages/password.c: the host a brand is looked up by. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "arena.h"
#include "stages/stages_auth.h"

static void
test_host(void **state)
{
	struct cu_arena a;

	(void)state;
	cu_arena_init(&a);
	assert_string_equal(cu_stage_auth_host(&a, "login.example.com"), "login.example.com");
	assert_string_equal(cu_stage_auth_host(&a, "login.example.com:8443"), "login.example.com");
	assert_string_equal(cu_stage_auth_host(&a, "127.0.0.1:9000"), "127.0.0.1");
	assert_string_equal(cu_stage_auth_host(&a, "[::1]:9000"), "::1");
	assert_string_equal(cu_stage_auth_host(&a, "[2001:db8::1]"), "2001:db8::1");
	/* A bare IPv6 address has no port to take off. */
	assert_string_equal(cu_stage_auth_host(&a, "2001:db8::1"), "2001:db8::1");
	/* Malformed: left as it is, it simply matches no brand. */
	assert_string_equal(cu_stage_auth_host(&a, "[::1"), "[::1");
	assert_string_equal(cu_stage_auth_host(&a, ":80"), "");
	assert_string_equal(cu_stage_auth_host(&a, ""), "");
	assert_string_equal(cu_stage_auth_host(&a, NULL), "");
	cu_arena_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
