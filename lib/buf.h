/*
 * One growable buffer with a mandatory maximum, and one non-owning slice (STYLE rule 6).
 * A cu_buf is always NUL-terminated; growing past bf_max is an error (-1), never a silent cut.
 */
#ifndef CU_BUF_H
#define CU_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct cu_buf {
	char *bf_ptr; /* owned; NULL until the first append */
	size_t bf_len;
	size_t bf_cap;
	size_t bf_max; /* most bytes bf_len may reach */
};

struct cu_str {
	const char *s_ptr; /* borrowed */
	size_t s_len;
};

#define CU_STR(lit) ((struct cu_str){(lit), sizeof(lit) - 1})

void cu_buf_init(struct cu_buf *b, size_t max);
/* Frees the storage (wiping it first: buffers may hold secrets); b can be reused after init. */
void cu_buf_free(struct cu_buf *b);
/* Empties without freeing. */
void cu_buf_clear(struct cu_buf *b);

int cu_buf_append(struct cu_buf *b, const void *p, size_t n) __attribute__((warn_unused_result));
int cu_buf_puts(struct cu_buf *b, const char *s) __attribute__((warn_unused_result));
int cu_buf_putc(struct cu_buf *b, char c) __attribute__((warn_unused_result));
int cu_buf_printf(struct cu_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)))
__attribute__((warn_unused_result));
int cu_buf_vprintf(struct cu_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0))) __attribute__((warn_unused_result));
/* Appends s as the inside of a JSON string (quotes not included), escaping as RFC 8259 asks. */
int cu_buf_json_escape(struct cu_buf *b, const char *s, size_t n)
    __attribute__((warn_unused_result));
/* Appends s with &<>"' turned into entities. */
int cu_buf_html_escape(struct cu_buf *b, const char *s, size_t n)
    __attribute__((warn_unused_result));

/* Makes room for n more bytes and returns where to write them; cu_buf_commit(b, k) then adds
 * the k <= n bytes written. NULL when n would pass bf_max. */
char *cu_buf_prepare(struct cu_buf *b, size_t n);
void cu_buf_commit(struct cu_buf *b, size_t n);

/* Hands the storage to the caller (caller frees with cu_free) and leaves b empty. */
char *cu_buf_steal(struct cu_buf *b, size_t *len);

int cu_str_eq(struct cu_str a, const char *z);
int cu_str_eq_nocase(struct cu_str a, const char *z);

#endif
