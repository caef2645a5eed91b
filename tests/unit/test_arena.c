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

#include "arena.h"
#include "bounds.h"

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

static int
setup(void **state)
{
	static struct cu_arena arena;

	cu_arena_init(&arena);
	*state = &arena;
	return 0;
}

static int
teardown(void **state)
{
	cu_arena_free(*state);
	return 0;
}

static void
test_init_free_unused(void **state)
{
	struct cu_arena a;

	(void)state;
	cu_arena_init(&a);
	assert_null(a.ar_head);
	assert_null(a.ar_defer);
	assert_int_equal(a.ar_total, 0);
	cu_arena_reset(&a);
	cu_arena_free(&a);
	cu_arena_free(&a);
	assert_null(a.ar_head);
}

static void
test_alignment(void **state)
{
	struct cu_arena *a = *state;
	size_t n;

	for (n = 0; n < 300; n++) {
		void *p = cu_arena_alloc(a, n);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
	}
	/* Big ones too, which take their own block. */
	assert_int_equal(
	    (uintptr_t)cu_arena_alloc(a, CU_ARENA_BLOCK * 3 + 1) % _Alignof(max_align_t), 0);
	assert_int_equal((uintptr_t)cu_arena_alloc(a, 3) % _Alignof(max_align_t), 0);
}

static void
test_zero_size_distinct(void **state)
{
	struct cu_arena *a = *state;
	char *p = cu_arena_alloc(a, 0), *q = cu_arena_alloc(a, 0);

	assert_non_null(p);
	assert_non_null(q);
	assert_ptr_not_equal(p, q);
}

/* Thousands of small allocations over many blocks: none overlaps another. */
static void
test_many_small(void **state)
{
	struct cu_arena *a = *state;
	enum { COUNT = 5000 };
	static unsigned char *ptrs[COUNT];
	size_t i, j, total = 0;

	for (i = 0; i < COUNT; i++) {
		size_t n = i % 97 + 1;

		ptrs[i] = cu_arena_alloc(a, n);
		memset(ptrs[i], (int)(i & 0xff), n);
		total += n;
	}
	assert_true(a->ar_total >= total);
	for (i = 0; i < COUNT; i++) {
		for (j = 0; j < i % 97 + 1; j++)
			assert_int_equal(ptrs[i][j], i & 0xff);
	}
}

static void
test_big(void **state)
{
	struct cu_arena *a = *state;
	size_t sizes[] = {CU_ARENA_BLOCK / 4,
	                  CU_ARENA_BLOCK / 4 + 1,
	                  CU_ARENA_BLOCK - 1,
	                  CU_ARENA_BLOCK,
	                  CU_ARENA_BLOCK + 1,
	                  1 << 20,
	                  16 << 20};
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = cu_arena_alloc(a, sizes[i]);

		memset(p, 0xa5, sizes[i]);
		assert_int_equal(p[0], 0xa5);
		assert_int_equal(p[sizes[i] - 1], 0xa5);
	}
}

/* A big allocation goes beside the current block, whose free space stays in use. */
static void
test_big_keeps_current_block(void **state)
{
	struct cu_arena *a = *state;
	char *p = cu_arena_alloc(a, 16);
	char *big = cu_arena_alloc(a, CU_ARENA_BLOCK * 2);
	char *q = cu_arena_alloc(a, 16);

	assert_non_null(big);
	assert_ptr_equal(q, p + 16);
}

static void
test_big_first(void **state)
{
	struct cu_arena *a = *state;
	char *big = cu_arena_alloc(a, CU_ARENA_BLOCK * 2);
	char *p = cu_arena_alloc(a, 16);

	memset(big, 1, CU_ARENA_BLOCK * 2);
	memset(p, 2, 16);
	assert_int_equal(big[CU_ARENA_BLOCK * 2 - 1], 1);
}

static void
test_zalloc_after_reset(void **state)
{
	struct cu_arena *a = *state;
	unsigned char *p;
	size_t i;

	memset(cu_arena_alloc(a, 1000), 0xff, 1000);
	cu_arena_reset(a);
	p = cu_arena_zalloc(a, 1000);
	for (i = 0; i < 1000; i++)
		assert_int_equal(p[i], 0);
}

static void
test_strings(void **state)
{
	struct cu_arena *a = *state;
	char *s;

	assert_string_equal(cu_arena_strdup(a, ""), "");
	assert_string_equal(cu_arena_strdup(a, "hello"), "hello");
	assert_string_equal(cu_arena_strndup(a, "hello", 3), "hel");
	assert_string_equal(cu_arena_strndup(a, "hello", 0), "");
	/* strndup copies exactly n bytes, NULs included. */
	s = cu_arena_strndup(a, "a\0b", 3);
	assert_memory_equal(s, "a\0b", 4);

	assert_string_equal(cu_arena_printf(a, "%s-%d-%zu", "x", -3, (size_t)7), "x--3-7");
	assert_string_equal(cu_arena_printf(a, "%s", ""), "");
	s = cu_arena_printf(a, "%*s|", CU_ARENA_BLOCK * 2, "r");
	assert_int_equal(strlen(s), CU_ARENA_BLOCK * 2 + 1);
	assert_int_equal(s[CU_ARENA_BLOCK * 2 - 1], 'r');
	assert_int_equal(s[CU_ARENA_BLOCK * 2], '|');
}

static int order[8];
static size_t norder;

static void
record(void *p)
{
	order[norder++] = *(int *)p;
}

static void
test_defer_reverse_order(void **state)
{
	struct cu_arena *a = *state;
	static int one = 1, two = 2, three = 3;

	norder = 0;
	cu_arena_defer(a, record, &one);
	cu_arena_defer(a, record, &two);
	cu_arena_defer(a, record, &three);
	assert_int_equal(norder, 0);
	cu_arena_reset(a);
	assert_int_equal(norder, 3);
	assert_int_equal(order[0], 3);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 1);
	assert_null(a->ar_defer);
	/* Ran once: a second reset runs nothing. */
	cu_arena_reset(a);
	assert_int_equal(norder, 3);
}

static struct cu_arena *chain_arena;

static void
defer_more(void *p)
{
	static int late = 9;

	record(p);
	/* A cleanup may still use the arena: both allocate and defer. */
	memset(cu_arena_alloc(chain_arena, 64), 0, 64);
	cu_arena_defer(chain_arena, record, &late);
}

static void
test_defer_from_defer(void **state)
{
	struct cu_arena *a = *state;
	static int first = 1;

	chain_arena = a;
	norder = 0;
	cu_arena_defer(a, defer_more, &first);
	cu_arena_reset(a);
	assert_int_equal(norder, 2);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 9);
}

static void
test_free_runs_defers(void **state)
{
	struct cu_arena a;
	static int v = 5;

	(void)state;
	cu_arena_init(&a);
	norder = 0;
	cu_arena_defer(&a, record, &v);
	cu_arena_free(&a);
	assert_int_equal(norder, 1);
	assert_null(a.ar_head);
}

static void
test_reset_reuses_block(void **state)
{
	struct cu_arena *a = *state;
	void *p = cu_arena_alloc(a, 8);

	cu_arena_reset(a);
	assert_int_equal(a->ar_total, 0);
	assert_ptr_equal(cu_arena_alloc(a, 8), p);
}

static void
test_reset_many_blocks(void **state)
{
	struct cu_arena *a = *state;
	size_t i;

	for (i = 0; i < 40; i++)
		(void)cu_arena_alloc(a, CU_ARENA_BLOCK / 8);
	(void)cu_arena_alloc(a, CU_ARENA_BLOCK * 4);
	cu_arena_reset(a);
	assert_int_equal(a->ar_total, 0);
	/* One block of the default size stays for the next request. */
	assert_non_null(a->ar_head);
	(void)cu_arena_alloc(a, 8);
	assert_int_equal(a->ar_total, 16);
}

static void
test_reset_only_big(void **state)
{
	struct cu_arena *a = *state;

	(void)cu_arena_alloc(a, CU_ARENA_BLOCK * 4);
	cu_arena_reset(a);
	/* No block of the default size to keep. */
	assert_null(a->ar_head);
	assert_non_null(cu_arena_alloc(a, 1));
}

static void
alloc_max(void)
{
	struct cu_arena a;

	cu_arena_init(&a);
	(void)cu_arena_alloc(&a, SIZE_MAX);
}

static void
alloc_nearly_max(void)
{
	struct cu_arena a;

	cu_arena_init(&a);
	/* Passes the rounding check; the block header would wrap the size. */
	(void)cu_arena_alloc(&a, SIZE_MAX - 16);
}

static void
alloc_huge(void)
{
	struct cu_arena a;

	cu_arena_init(&a);
	(void)cu_arena_alloc(&a, SIZE_MAX / 2);
}

static void
test_exhaustion_aborts(void **state)
{
	(void)state;
	assert_true(dies(alloc_max));
	assert_true(dies(alloc_nearly_max));
	assert_true(dies(alloc_huge));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_free_unused),
	    cmocka_unit_test_setup_teardown(test_alignment, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zero_size_distinct, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_small, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_big, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_big_keeps_current_block, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_big_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zalloc_after_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_defer_reverse_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_defer_from_defer, setup, teardown),
	    cmocka_unit_test(test_free_runs_defers),
	    cmocka_unit_test_setup_teardown(test_reset_reuses_block, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_many_blocks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_only_big, setup, teardown),
	    cmocka_unit_test(test_exhaustion_aborts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
