#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"

static void
test_status(void **state)
{
	(void)state;
	assert_int_equal(cu_err_status(CU_OK), 200);
	assert_int_equal(cu_err_status(CU_ERR_INVALID), 400);
	assert_int_equal(cu_err_status(CU_ERR_TOO_LARGE), 413);
	assert_int_equal(cu_err_status(CU_ERR_NOT_FOUND), 404);
	assert_int_equal(cu_err_status(CU_ERR_METHOD), 405);
	assert_int_equal(cu_err_status(CU_ERR_UNAVAILABLE), 503);
	assert_int_equal(cu_err_status(CU_ERR_INTERNAL), 500);
	assert_int_equal(cu_err_status(CU_ERR__MAX), 500);
	assert_int_equal(cu_err_status((enum cu_err) - 1), 500);
}

static void
test_strerror(void **state)
{
	int e;

	(void)state;
	/* Every value has its own text. */
	for (e = 0; e < CU_ERR__MAX; e++) {
		int f;

		assert_non_null(cu_strerror((enum cu_err)e));
		assert_true(strlen(cu_strerror((enum cu_err)e)) > 0);
		for (f = 0; f < e; f++)
			assert_string_not_equal(cu_strerror((enum cu_err)e),
			                        cu_strerror((enum cu_err)f));
	}
	assert_string_equal(cu_strerror(CU_ERR__MAX), "unknown error");
	assert_string_equal(cu_strerror((enum cu_err)12345), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
