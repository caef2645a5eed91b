#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mem.h"

void
cu_buf_init(struct cu_buf *b, size_t max)
{
	b->bf_ptr = NULL;
	b->bf_len = 0;
	b->bf_cap = 0;
	b->bf_max = max;
}

void
cu_buf_free(struct cu_buf *b)
{
	if (b->bf_ptr != NULL) {
		cu_wipe(b->bf_ptr, b->bf_cap);
		cu_free(b->bf_ptr);
	}
	b->bf_ptr = NULL;
	b->bf_len = 0;
	b->bf_cap = 0;
}

void
cu_buf_clear(struct cu_buf *b)
{
	b->bf_len = 0;
	if (b->bf_ptr != NULL)
		b->bf_ptr[0] = '\0';
}

char *
cu_buf_prepare(struct cu_buf *b, size_t n)
{
	size_t need, cap;

	/* The last test keeps need below from wrapping to 0 when bf_max is SIZE_MAX. */
	if (n > b->bf_max || b->bf_len > b->bf_max - n || n >= SIZE_MAX - b->bf_len)
		return NULL;
	need = b->bf_len + n + 1; /* room for the NUL */
	if (need > b->bf_cap) {
		cap = b->bf_cap ? b->bf_cap : 64;
		while (cap < need)
			cap = cap > (SIZE_MAX / 2) ? need : cap * 2;
		if (b->bf_max < SIZE_MAX && cap > b->bf_max + 1)
			cap = b->bf_max + 1;
		b->bf_ptr = cu_realloc(b->bf_ptr, cap);
		b->bf_cap = cap;
	}
	return b->bf_ptr + b->bf_len;
}

void
cu_buf_commit(struct cu_buf *b, size_t n)
{
	if (b->bf_ptr == NULL || b->bf_len + n >= b->bf_cap)
		cu_die("cu_buf_commit past prepare");
	b->bf_len += n;
	b->bf_ptr[b->bf_len] = '\0';
}

int
cu_buf_append(struct cu_buf *b, const void *p, size_t n)
{
	char *w = cu_buf_prepare(b, n);

	if (w == NULL)
		return -1;
	if (n > 0)
		memcpy(w, p, n);
	cu_buf_commit(b, n);
	return 0;
}

int
cu_buf_puts(struct cu_buf *b, const char *s)
{
	return cu_buf_append(b, s, strlen(s));
}

int
cu_buf_putc(struct cu_buf *b, char c)
{
	return cu_buf_append(b, &c, 1);
}

int
cu_buf_vprintf(struct cu_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	char *w;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -1;
	w = cu_buf_prepare(b, (size_t)n);
	if (w == NULL)
		return -1;
	vsnprintf(w, (size_t)n + 1, fmt, ap);
	cu_buf_commit(b, (size_t)n);
	return 0;
}

int
cu_buf_printf(struct cu_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cu_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

/* An escape that fails part-way would leave a half-escaped tail; undo it so a failed call
 * changes nothing, as a failed cu_buf_append() does. */
static int
undo(struct cu_buf *b, size_t len)
{
	b->bf_len = len;
	if (b->bf_ptr != NULL)
		b->bf_ptr[len] = '\0';
	return -1;
}

int
cu_buf_json_escape(struct cu_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0, start = b->bf_len;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (cu_buf_append(b, s + run, i - run) != 0)
			return undo(b, start);
		run = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			elen = 6;
			break;
		}
		if (cu_buf_append(b, esc, elen) != 0)
			return undo(b, start);
	}
	if (cu_buf_append(b, s + run, n - run) != 0)
		return undo(b, start);
	return 0;
}

int
cu_buf_html_escape(struct cu_buf *b, const char *s, size_t n)
{
	size_t i, run = 0, start = b->bf_len;

	for (i = 0; i < n; i++) {
		const char *ent;

		switch (s[i]) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			continue;
		}
		if (cu_buf_append(b, s + run, i - run) != 0 || cu_buf_puts(b, ent) != 0)
			return undo(b, start);
		run = i + 1;
	}
	if (cu_buf_append(b, s + run, n - run) != 0)
		return undo(b, start);
	return 0;
}

char *
cu_buf_steal(struct cu_buf *b, size_t *len)
{
	char *p = b->bf_ptr;

	if (p == NULL)
		p = cu_strdup("");
	if (len != NULL)
		*len = b->bf_len;
	b->bf_ptr = NULL;
	b->bf_len = 0;
	b->bf_cap = 0;
	return p;
}

int
cu_str_eq(struct cu_str a, const char *z)
{
	size_t n = strlen(z);

	return a.s_len == n && (n == 0 || memcmp(a.s_ptr, z, n) == 0);
}

int
cu_str_eq_nocase(struct cu_str a, const char *z)
{
	size_t n = strlen(z);

	return a.s_len == n && (n == 0 || strncasecmp(a.s_ptr, z, n) == 0);
}
