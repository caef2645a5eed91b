/* lib/policies/password.c: static rules, zxcvbn scores and the breached list, without a
 * request. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policies/password.h"

static struct cu_password_rules
rules(long long len, long long digits, long long lower, long long upper, long long symbols)
{
	struct cu_password_rules r = {len,   digits,  lower,
	                              upper, symbols, CU_PASSWORD_SYMBOLS_DEFAULT};

	return r;
}

static void
test_static(void **state)
{
	struct cu_password_rules r;

	(void)state;
	r = rules(8, 0, 0, 0, 0);
	assert_int_equal(cu_policy_password_static("abcdefgh", &r), 1);
	assert_int_equal(cu_policy_password_static("abcdefg", &r), 0);
	/* Length counts characters, not bytes: seven "é" are seven. */
	assert_int_equal(
	    cu_policy_password_static("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	                              "\xc3\xa9",
	                              &r),
	    0);
	r = rules(0, 2, 1, 1, 1);
	assert_int_equal(cu_policy_password_static("aB1!2", &r), 1);
	assert_int_equal(cu_policy_password_static("aB1!x", &r), 0); /* one digit */
	assert_int_equal(cu_policy_password_static("AB12!", &r), 0); /* no lowercase */
	assert_int_equal(cu_policy_password_static("ab12!", &r), 0); /* no uppercase */
	assert_int_equal(cu_policy_password_static("aB12x", &r), 0); /* no symbol */
	/* The default charset has the backslash and the space. */
	assert_int_equal(cu_policy_password_static("aB12\\", &r), 1);
	assert_int_equal(cu_policy_password_static("aB12 ", &r), 1);
	r.pr_symbol_charset = "#";
	assert_int_equal(cu_policy_password_static("aB12!", &r), 0);
	assert_int_equal(cu_policy_password_static("aB12#", &r), 1);
	/* Non-ASCII letters count as neither case, as authentik's [a-z]/[A-Z]. */
	r = rules(0, 0, 1, 0, 0);
	assert_int_equal(cu_policy_password_static("\xc3\xa9\xc3\x89", &r), 0);
}

static void
test_zxcvbn(void **state)
{
	const char *inputs[] = {"alicesmith", NULL};

	(void)state;
	assert_true(cu_policy_password_zxcvbn_score("password", NULL) <= 1);
	assert_true(cu_policy_password_zxcvbn_score("123456", NULL) == 0);
	assert_true(cu_policy_password_zxcvbn_score("correct-horse-battery-staple-9!Zq", NULL) >=
	            3);
	/* The user's own words are guessable. */
	assert_true(cu_policy_password_zxcvbn_score("alicesmith", inputs) <
	            cu_policy_password_zxcvbn_score("qv8#Lm2!xT", NULL));
	/* Long inputs are cut at 72 characters and still score. */
	{
		char longpw[10001];

		memset(longpw, 'a', sizeof(longpw) - 1);
		longpw[sizeof(longpw) - 1] = '\0';
		assert_true(cu_policy_password_zxcvbn_score(longpw, NULL) <= 2);
	}
}

static void
test_breached(void **state)
{
	char path[] = "/tmp/custos-breached-XXXXXX";
	int fd = mkstemp(path);
	const char *lines = "123456\npassword\r\nhunter2\n\nsecret";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, lines, strlen(lines)), (ssize_t)strlen(lines));
	close(fd);
	assert_int_equal(cu_policy_password_breached(NULL, "hunter2"), 0);
	assert_int_equal(cu_policy_password_breached("", "hunter2"), 0);
	assert_int_equal(cu_policy_password_breached(path, "hunter2"), 1);
	assert_int_equal(cu_policy_password_breached(path, "password"), 1); /* CRLF line */
	assert_int_equal(cu_policy_password_breached(path, "secret"), 1);   /* last, no newline */
	assert_int_equal(cu_policy_password_breached(path, "hunter"), 0);
	assert_int_equal(cu_policy_password_breached(path, "hunter22"), 0);
	assert_int_equal(cu_policy_password_breached(path, ""), 0);
	/* Read once per process: the file going away changes nothing. */
	unlink(path);
	assert_int_equal(cu_policy_password_breached(path, "123456"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_static),
	    cmocka_unit_test(test_zxcvbn),
	    cmocka_unit_test(test_breached),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
