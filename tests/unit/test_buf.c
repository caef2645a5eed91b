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

#include "buf.h"
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

/* The buffer holds exactly lit, NUL-terminated. */
#define assert_buf(b, lit)                                                                         \
	do {                                                                                       \
		assert_int_equal((b)->bf_len, sizeof(lit) - 1);                                    \
		assert_memory_equal((b)->bf_ptr, (lit), sizeof(lit));                              \
	} while (0)

static void
test_init_free(void **state)
{
	struct cu_buf b;

	(void)state;
	cu_buf_init(&b, 100);
	assert_null(b.bf_ptr);
	assert_int_equal(b.bf_len, 0);
	assert_int_equal(b.bf_max, 100);
	cu_buf_clear(&b);
	cu_buf_free(&b);
	cu_buf_free(&b);
	assert_int_equal(cu_buf_puts(&b, "again"), 0);
	assert_buf(&b, "again");
	cu_buf_free(&b);
	assert_null(b.bf_ptr);
}

static void
test_max_exact_and_one_past(void **state)
{
	struct cu_buf b;

	(void)state;
	cu_buf_init(&b, 8);
	assert_int_equal(cu_buf_append(&b, "1234", 4), 0);
	assert_int_equal(cu_buf_append(&b, "5678", 4), 0);
	assert_buf(&b, "12345678");
	assert_int_equal(cu_buf_append(&b, "9", 1), -1);
	assert_int_equal(cu_buf_putc(&b, '9'), -1);
	assert_int_equal(cu_buf_puts(&b, "9"), -1);
	assert_int_equal(cu_buf_printf(&b, "%d", 9), -1);
	assert_buf(&b, "12345678");
	/* Appending nothing at the maximum is fine. */
	assert_int_equal(cu_buf_append(&b, "", 0), 0);
	assert_int_equal(cu_buf_puts(&b, ""), 0);
	assert_buf(&b, "12345678");
	assert_true(b.bf_cap <= 9);
	cu_buf_free(&b);

	/* One past in a single append from empty allocates nothing. */
	cu_buf_init(&b, 8);
	assert_int_equal(cu_buf_append(&b, "123456789", 9), -1);
	assert_null(b.bf_ptr);
	assert_int_equal(b.bf_len, 0);
	assert_int_equal(cu_buf_append(&b, "12345678", 8), 0);
	assert_buf(&b, "12345678");
	cu_buf_free(&b);

	/* Straddling the maximum leaves the earlier content whole. */
	cu_buf_init(&b, 8);
	assert_int_equal(cu_buf_puts(&b, "12345"), 0);
	assert_int_equal(cu_buf_puts(&b, "6789"), -1);
	assert_buf(&b, "12345");
	cu_buf_free(&b);
}

static void
test_max_zero(void **state)
{
	struct cu_buf b;

	(void)state;
	cu_buf_init(&b, 0);
	assert_int_equal(cu_buf_append(&b, "", 0), 0);
	assert_buf(&b, "");
	assert_int_equal(cu_buf_putc(&b, 'x'), -1);
	assert_buf(&b, "");
	cu_buf_free(&b);
}

static void
test_max_unbounded_overflow(void **state)
{
	struct cu_buf b;

	(void)state;
	cu_buf_init(&b, SIZE_MAX);
	assert_int_equal(cu_buf_puts(&b, "abc"), 0);
	/* len + n + 1 would wrap to 0 and look like it fits. */
	assert_null(cu_buf_prepare(&b, SIZE_MAX - 3));
	assert_null(cu_buf_prepare(&b, SIZE_MAX));
	assert_buf(&b, "abc");
	cu_buf_free(&b);
}

static void
test_growth(void **state)
{
	struct cu_buf b;
	size_t i;

	(void)state;
	cu_buf_init(&b, 1 << 20);
	for (i = 0; i < 10000; i++)
		assert_int_equal(cu_buf_putc(&b, (char)('a' + i % 26)), 0);
	assert_int_equal(b.bf_len, 10000);
	assert_int_equal(b.bf_ptr[10000], '\0');
	for (i = 0; i < 10000; i++)
		assert_int_equal(b.bf_ptr[i], 'a' + i % 26);
	assert_true(b.bf_cap > b.bf_len);
	cu_buf_free(&b);
}

static void
test_printf(void **state)
{
	struct cu_buf b;

	(void)state;
	cu_buf_init(&b, 4096);
	assert_int_equal(cu_buf_printf(&b, "%s=%d;", "a", 1), 0);
	assert_int_equal(cu_buf_printf(&b, "%s", ""), 0);
	assert_int_equal(cu_buf_printf(&b, "%05.1f", 2.5), 0);
	assert_buf(&b, "a=1;002.5");
	cu_buf_clear(&b);
	/* Longer than the first allocation. */
	assert_int_equal(cu_buf_printf(&b, "%300s", "x"), 0);
	assert_int_equal(b.bf_len, 300);
	assert_int_equal(b.bf_ptr[299], 'x');
	cu_buf_free(&b);

	/* Exactly to the maximum, then one past. */
	cu_buf_init(&b, 5);
	assert_int_equal(cu_buf_printf(&b, "%d", 12345), 0);
	cu_buf_clear(&b);
	assert_int_equal(cu_buf_printf(&b, "%d", 123456), -1);
	assert_buf(&b, "");
	cu_buf_free(&b);
}

static void
test_prepare_commit(void **state)
{
	struct cu_buf b;
	char *w;

	(void)state;
	cu_buf_init(&b, 16);
	w = cu_buf_prepare(&b, 10);
	assert_non_null(w);
	memcpy(w, "hello", 5);
	cu_buf_commit(&b, 5);
	assert_buf(&b, "hello");
	w = cu_buf_prepare(&b, 11);
	assert_non_null(w);
	cu_buf_commit(&b, 0);
	assert_buf(&b, "hello");
	memcpy(w, "world", 5);
	cu_buf_commit(&b, 5);
	assert_buf(&b, "helloworld");
	assert_null(cu_buf_prepare(&b, 7));
	assert_buf(&b, "helloworld");
	w = cu_buf_prepare(&b, 6);
	memcpy(w, "!!!!!!", 6);
	cu_buf_commit(&b, 6);
	assert_buf(&b, "helloworld!!!!!!");
	assert_null(cu_buf_prepare(&b, 1));
	assert_non_null(cu_buf_prepare(&b, 0));
	cu_buf_free(&b);
}

static void
commit_past_prepare(void)
{
	struct cu_buf b;

	cu_buf_init(&b, 100);
	(void)cu_buf_prepare(&b, 4);
	cu_buf_commit(&b, 1000);
}

static void
commit_without_prepare(void)
{
	struct cu_buf b;

	cu_buf_init(&b, 100);
	cu_buf_commit(&b, 1);
}

static void
test_commit_misuse_aborts(void **state)
{
	(void)state;
	assert_true(dies(commit_past_prepare));
	assert_true(dies(commit_without_prepare));
}

static void
test_json_escape(void **state)
{
	struct cu_buf b;
	static const char in[] = "q\"b\\s/n\nr\rt\tb\bf\f\x01\x1f\x7f\0z\xc3\xa9";

	(void)state;
	cu_buf_init(&b, 1024);
	assert_int_equal(cu_buf_json_escape(&b, in, sizeof(in) - 1), 0);
	assert_buf(&b, "q\\\"b\\\\s/n\\nr\\rt\\tb\\bf\\f\\u0001\\u001f\x7f\\u0000z\xc3\xa9");
	cu_buf_clear(&b);
	assert_int_equal(cu_buf_json_escape(&b, "", 0), 0);
	assert_buf(&b, "");
	assert_int_equal(cu_buf_json_escape(&b, "plain", 5), 0);
	assert_buf(&b, "plain");
	cu_buf_free(&b);
}

static void
test_json_escape_every_control(void **state)
{
	struct cu_buf b;
	unsigned int c;

	(void)state;
	cu_buf_init(&b, 64);
	for (c = 0; c < 0x20; c++) {
		char ch = (char)c;

		cu_buf_clear(&b);
		assert_int_equal(cu_buf_json_escape(&b, &ch, 1), 0);
		assert_int_equal(b.bf_ptr[0], '\\');
		/* Never a raw control character in the output. */
		assert_true((unsigned char)b.bf_ptr[1] >= 0x20);
		assert_true(b.bf_len == 2 || b.bf_len == 6);
	}
	cu_buf_free(&b);
}

static void
test_escape_past_max_unchanged(void **state)
{
	struct cu_buf b;

	(void)state;
	/* The raw input fits, the escaped form does not. */
	cu_buf_init(&b, 10);
	assert_int_equal(cu_buf_puts(&b, "ab"), 0);
	assert_int_equal(cu_buf_json_escape(&b, "x\"y\"z", 5), 0);
	assert_buf(&b, "abx\\\"y\\\"z");
	assert_int_equal(cu_buf_json_escape(&b, "\n", 1), -1);
	assert_buf(&b, "abx\\\"y\\\"z");
	cu_buf_clear(&b);
	assert_int_equal(cu_buf_json_escape(&b, "aaaaa\x01", 6), -1);
	assert_buf(&b, "");
	assert_int_equal(cu_buf_html_escape(&b, "a<b>c", 5), -1);
	assert_buf(&b, "");
	assert_int_equal(cu_buf_html_escape(&b, "<b", 2), 0);
	assert_buf(&b, "&lt;b");
	assert_int_equal(cu_buf_html_escape(&b, "xyzw", 4), 0);
	assert_int_equal(cu_buf_html_escape(&b, "x&", 2), -1);
	assert_buf(&b, "&lt;bxyzw");
	cu_buf_free(&b);
}

static void
test_html_escape(void **state)
{
	struct cu_buf b;
	static const char in[] = "<a href=\"x\">'&amp;'</a>\0<";

	(void)state;
	cu_buf_init(&b, 1024);
	assert_int_equal(cu_buf_html_escape(&b, in, sizeof(in) - 1), 0);
	assert_buf(&b, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;amp;&#39;&lt;/a&gt;\0&lt;");
	cu_buf_clear(&b);
	assert_int_equal(cu_buf_html_escape(&b, "", 0), 0);
	assert_buf(&b, "");
	assert_int_equal(cu_buf_html_escape(&b, "caf\xc3\xa9", 5), 0);
	assert_buf(&b, "caf\xc3\xa9");
	cu_buf_free(&b);
}

static void
test_steal(void **state)
{
	struct cu_buf b;
	size_t len = 99;
	char *p;

	(void)state;
	cu_buf_init(&b, 64);
	assert_int_equal(cu_buf_puts(&b, "token"), 0);
	p = cu_buf_steal(&b, &len);
	assert_string_equal(p, "token");
	assert_int_equal(len, 5);
	assert_null(b.bf_ptr);
	assert_int_equal(b.bf_len, 0);
	assert_int_equal(b.bf_cap, 0);
	assert_int_equal(b.bf_max, 64);
	cu_free(p);

	/* Still usable, and an empty steal gives an owned "". */
	assert_int_equal(cu_buf_puts(&b, "more"), 0);
	assert_buf(&b, "more");
	cu_buf_free(&b);
	p = cu_buf_steal(&b, &len);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	cu_free(p);
	p = cu_buf_steal(&b, NULL);
	assert_string_equal(p, "");
	cu_free(p);
}

static void
test_clear_keeps_storage(void **state)
{
	struct cu_buf b;
	char *before;

	(void)state;
	cu_buf_init(&b, 64);
	assert_int_equal(cu_buf_puts(&b, "abcdef"), 0);
	before = b.bf_ptr;
	cu_buf_clear(&b);
	assert_buf(&b, "");
	assert_ptr_equal(b.bf_ptr, before);
	assert_int_equal(cu_buf_puts(&b, "x"), 0);
	assert_buf(&b, "x");
	cu_buf_free(&b);
}

static void
test_str(void **state)
{
	struct cu_str s = CU_STR("Bearer");
	struct cu_str nul = {"ab\0c", 4};
	struct cu_str empty = {NULL, 0};

	(void)state;
	assert_int_equal(s.s_len, 6);
	assert_true(cu_str_eq(s, "Bearer"));
	assert_false(cu_str_eq(s, "bearer"));
	assert_false(cu_str_eq(s, "Bear"));
	assert_false(cu_str_eq(s, "Bearer "));
	assert_true(cu_str_eq_nocase(s, "bEARER"));
	assert_false(cu_str_eq_nocase(s, "bearers"));
	assert_false(cu_str_eq_nocase(s, "beare"));
	assert_false(cu_str_eq(nul, "ab"));
	assert_false(cu_str_eq_nocase(nul, "ab"));
	assert_false(cu_str_eq_nocase(nul, "abxc"));
	assert_true(cu_str_eq(empty, ""));
	assert_true(cu_str_eq_nocase(empty, ""));
	assert_false(cu_str_eq(empty, "a"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_free),
	    cmocka_unit_test(test_max_exact_and_one_past),
	    cmocka_unit_test(test_max_zero),
	    cmocka_unit_test(test_max_unbounded_overflow),
	    cmocka_unit_test(test_growth),
	    cmocka_unit_test(test_printf),
	    cmocka_unit_test(test_prepare_commit),
	    cmocka_unit_test(test_commit_misuse_aborts),
	    cmocka_unit_test(test_json_escape),
	    cmocka_unit_test(test_json_escape_every_control),
	    cmocka_unit_test(test_escape_past_max_unchanged),
	    cmocka_unit_test(test_html_escape),
	    cmocka_unit_test(test_steal),
	    cmocka_unit_test(test_clear_keeps_storage),
	    cmocka_unit_test(test_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
