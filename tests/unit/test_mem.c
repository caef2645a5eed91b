#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mem.h"

/* 1 when fn does not return normally in a child process (cu_die aborts; a sanitizer may exit
 * instead); the parent's state is untouched. */
static int
dies(void (*fn)(void))
{
	pid_t pid = fork();
	int status = 0;

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void
test_zero_sizes(void **state)
{
	void *p, *q, *r;

	(void)state;
	p = cu_malloc(0);
	q = cu_calloc(0, 0);
	r = cu_realloc(NULL, 0);
	assert_non_null(p);
	assert_non_null(q);
	assert_non_null(r);
	cu_free(p);
	cu_free(q);
	cu_free(r);
	cu_free(NULL);
}

static void
test_calloc_zeroed(void **state)
{
	unsigned char *p;
	size_t i;

	(void)state;
	p = cu_calloc(1000, 3);
	for (i = 0; i < 3000; i++)
		assert_int_equal(p[i], 0);
	cu_free(p);
}

static void
test_realloc_keeps(void **state)
{
	char *p = cu_malloc(4);

	(void)state;
	memcpy(p, "abc", 4);
	p = cu_realloc(p, 100000);
	assert_string_equal(p, "abc");
	p = cu_realloc(p, 2);
	assert_memory_equal(p, "ab", 2);
	cu_free(p);
}

static void
test_strdup(void **state)
{
	char *p;

	(void)state;
	p = cu_strdup("");
	assert_string_equal(p, "");
	cu_free(p);
	p = cu_strdup("hello");
	assert_string_equal(p, "hello");
	cu_free(p);
	p = cu_strndup("hello", 3);
	assert_string_equal(p, "hel");
	cu_free(p);
	p = cu_strndup("hello", 0);
	assert_string_equal(p, "");
	cu_free(p);
	/* n past the end stops at the NUL: the source need not have n bytes. */
	p = cu_strndup("hi", 1000);
	assert_string_equal(p, "hi");
	cu_free(p);
	p = cu_strndup("a\0b", 3);
	assert_string_equal(p, "a");
	cu_free(p);
}

static void
test_wipe(void **state)
{
	unsigned char secret[33];
	size_t i;

	(void)state;
	memset(secret, 0x5a, sizeof(secret));
	cu_wipe(secret, 32);
	for (i = 0; i < 32; i++)
		assert_int_equal(secret[i], 0);
	assert_int_equal(secret[32], 0x5a);
	cu_wipe(secret, 0);
	cu_wipe(NULL, 0);
	cu_wipe(NULL, 10);
}

static void
calloc_overflow(void)
{
	(void)cu_calloc(SIZE_MAX / 2, 3);
}

/* volatile, so the compiler cannot see the size and refuse the call outright. */
static volatile size_t huge = SIZE_MAX;

static void
malloc_huge(void)
{
	(void)cu_malloc(huge);
}

static void
die_now(void)
{
	cu_die("test");
}

static void
test_failure_aborts(void **state)
{
	(void)state;
	assert_true(dies(calloc_overflow));
	assert_true(dies(malloc_huge));
	assert_true(dies(die_now));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_zero_sizes),    cmocka_unit_test(test_calloc_zeroed),
	    cmocka_unit_test(test_realloc_keeps), cmocka_unit_test(test_strdup),
	    cmocka_unit_test(test_wipe),          cmocka_unit_test(test_failure_aborts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
