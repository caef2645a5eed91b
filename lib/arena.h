/*
 * Per-request memory (STYLE rule 5). Everything allocated from an arena lives until
 * cu_arena_reset(); foreign objects (PGresult, redisReply, json_object) are registered with
 * cu_arena_defer() and released at the reset, in reverse order of registration.
 */
#ifndef CU_ARENA_H
#define CU_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct cu_arena_block;
struct cu_arena_defer;

struct cu_arena {
	struct cu_arena_block *ar_head;  /* current block; older ones chained behind */
	struct cu_arena_defer *ar_defer; /* cleanups, newest first */
	size_t ar_total;                 /* bytes handed out since the last reset */
};

void cu_arena_init(struct cu_arena *a);
/* Runs the cleanups, keeps the first block for reuse and frees the rest. */
void cu_arena_reset(struct cu_arena *a);
/* Reset, then frees every block. */
void cu_arena_free(struct cu_arena *a);

/* Arena-owned memory, aligned for any type; aborts on exhaustion. */
void *cu_arena_alloc(struct cu_arena *a, size_t n);
void *cu_arena_zalloc(struct cu_arena *a, size_t n);
char *cu_arena_strdup(struct cu_arena *a, const char *s);
char *cu_arena_strndup(struct cu_arena *a, const char *s, size_t n);
char *cu_arena_printf(struct cu_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *cu_arena_vprintf(struct cu_arena *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Registers fn(p) to run at the next reset; p is borrowed until then. */
void cu_arena_defer(struct cu_arena *a, void (*fn)(void *), void *p);

#endif
