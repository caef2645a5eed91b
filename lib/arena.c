#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bounds.h"
#include "mem.h"

#define ARENA_ALIGN 16

struct cu_arena_block {
	struct cu_arena_block *ab_next; /* older block */
	size_t ab_size;                 /* usable bytes in ab_data */
	size_t ab_used;
	_Alignas(ARENA_ALIGN) unsigned char ab_data[];
};

struct cu_arena_defer {
	struct cu_arena_defer *ad_next;
	void (*ad_fn)(void *);
	void *ad_p;
};

static struct cu_arena_block *
block_new(size_t size)
{
	struct cu_arena_block *b;

	/* A wrapped sum would allocate a small block and hand out a huge span of it. */
	if (size > SIZE_MAX - sizeof(*b))
		cu_die("arena allocation too large");
	b = cu_malloc(sizeof(*b) + size);

	b->ab_next = NULL;
	b->ab_size = size;
	b->ab_used = 0;
	return b;
}

void
cu_arena_init(struct cu_arena *a)
{
	a->ar_head = NULL;
	a->ar_defer = NULL;
	a->ar_total = 0;
}

static void
run_defers(struct cu_arena *a)
{
	/* A cleanup may allocate from or defer into the arena; loop until none is left. */
	while (a->ar_defer != NULL) {
		struct cu_arena_defer *d = a->ar_defer;

		a->ar_defer = d->ad_next;
		d->ad_fn(d->ad_p);
	}
}

void
cu_arena_reset(struct cu_arena *a)
{
	struct cu_arena_block *b, *keep = NULL;

	run_defers(a);
	/* Keep one block of the default size and free the rest, so a long-running responder holds
	 * one block between requests whatever the last request needed. */
	b = a->ar_head;
	while (b != NULL) {
		struct cu_arena_block *next = b->ab_next;

		if (b->ab_size == CU_ARENA_BLOCK && keep == NULL) {
			keep = b;
		} else {
			cu_free(b);
		}
		b = next;
	}
	if (keep != NULL) {
		keep->ab_used = 0;
		keep->ab_next = NULL;
	}
	a->ar_head = keep;
	a->ar_total = 0;
}

void
cu_arena_free(struct cu_arena *a)
{
	cu_arena_reset(a);
	cu_free(a->ar_head);
	a->ar_head = NULL;
}

void *
cu_arena_alloc(struct cu_arena *a, size_t n)
{
	struct cu_arena_block *b = a->ar_head;
	size_t need;
	void *p;

	if (n > SIZE_MAX - ARENA_ALIGN)
		cu_die("arena allocation too large");
	need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (need == 0)
		need = ARENA_ALIGN;
	if (b == NULL || b->ab_size - b->ab_used < need) {
		if (need > CU_ARENA_BLOCK / 4) {
			/* A big allocation gets a block of its own, behind the current one, so the
			 * current block's free space is not wasted. */
			struct cu_arena_block *big = block_new(need);

			big->ab_used = need;
			if (b == NULL) {
				a->ar_head = big;
			} else {
				big->ab_next = b->ab_next;
				b->ab_next = big;
			}
			a->ar_total += need;
			return big->ab_data;
		}
		b = block_new(CU_ARENA_BLOCK);
		b->ab_next = a->ar_head;
		a->ar_head = b;
	}
	p = b->ab_data + b->ab_used;
	b->ab_used += need;
	a->ar_total += need;
	return p;
}

void *
cu_arena_zalloc(struct cu_arena *a, size_t n)
{
	void *p = cu_arena_alloc(a, n);

	memset(p, 0, n);
	return p;
}

char *
cu_arena_strndup(struct cu_arena *a, const char *s, size_t n)
{
	char *p = cu_arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
cu_arena_strdup(struct cu_arena *a, const char *s)
{
	return cu_arena_strndup(a, s, strlen(s));
}

char *
cu_arena_vprintf(struct cu_arena *a, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	char *p;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		cu_die("bad format");
	p = cu_arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
cu_arena_printf(struct cu_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = cu_arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void
cu_arena_defer(struct cu_arena *a, void (*fn)(void *), void *p)
{
	struct cu_arena_defer *d = cu_arena_alloc(a, sizeof(*d));

	d->ad_fn = fn;
	d->ad_p = p;
	d->ad_next = a->ar_defer;
	a->ar_defer = d;
}
