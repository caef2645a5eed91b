/*
 * multipart/form-data request bodies (RFC 7578), as the API's uploads send them (SAML
 * metadata import, media files): the parts in body order, each with its field name, file name
 * and bytes. Bounded by CU_MULTIPART_* in bounds.h.
 */
#include "multipart.h"

#include <string.h>
#include <strings.h>

#include "bounds.h"
#include "buf.h"

/* The first occurrence of needle in hay[0..n), or NULL. */
static const char *
find_bytes(const char *hay, size_t n, const char *needle, size_t m)
{
	size_t i;

	if (m == 0 || m > n)
		return NULL;
	for (i = 0; i + m <= n; i++) {
		const char *c = memchr(hay + i, needle[0], n - m - i + 1);

		if (c == NULL)
			return NULL;
		i = (size_t)(c - hay);
		if (memcmp(c, needle, m) == 0)
			return c;
	}
	return NULL;
}

/* The value of parameter name (";" separated, "name=value" or name="value", names matched
 * without case) in a header value, arena-owned; NULL when absent or malformed. */
static const char *
header_param(struct cu_arena *a, const char *v, const char *name)
{
	size_t nl = strlen(name);

	if (v == NULL)
		return NULL;
	while (*v != '\0') {
		const char *semi = strchr(v, ';');

		if (semi == NULL)
			return NULL;
		v = semi + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (strncasecmp(v, name, nl) != 0 || v[nl] != '=')
			continue;
		v += nl + 1;
		if (*v == '"') {
			struct cu_buf b;
			const char *out = NULL;

			cu_buf_init(&b, CU_MULTIPART_MAX_PART_HEAD);
			for (v++; *v != '\0' && *v != '"'; v++) {
				if (*v == '\\' && v[1] != '\0')
					v++;
				if (cu_buf_putc(&b, *v) != 0)
					break;
			}
			if (*v == '"')
				out =
				    cu_arena_strndup(a, b.bf_ptr != NULL ? b.bf_ptr : "", b.bf_len);
			cu_buf_free(&b);
			return out;
		}
		return cu_arena_strndup(a, v, strcspn(v, "; \t"));
	}
	return NULL;
}

/* Reads one part's headers (head[0..n), lines ended by CRLF): its Content-Disposition. */
static int
part_headers(struct cu_arena *a, const char *head, size_t n, struct cu_multipart_part *p,
             const char **why)
{
	size_t i = 0;

	p->mp_name = NULL;
	p->mp_filename = NULL;
	while (i < n) {
		const char *eol = find_bytes(head + i, n - i, "\r\n", 2);
		size_t ll = eol != NULL ? (size_t)(eol - (head + i)) : n - i;
		const char *line = cu_arena_strndup(a, head + i, ll);

		if (memchr(head + i, '\0', ll) != NULL) {
			*why = "a part's headers hold a NUL byte";
			return -1;
		}
		if (strncasecmp(line, "content-disposition:", 20) == 0) {
			const char *v = line + 20;

			while (*v == ' ' || *v == '\t')
				v++;
			if (strncasecmp(v, "form-data", 9) != 0 ||
			    (v[9] != '\0' && v[9] != ';' && v[9] != ' ')) {
				*why = "a part is not form-data";
				return -1;
			}
			p->mp_name = header_param(a, v, "name");
			p->mp_filename = header_param(a, v, "filename");
		}
		i += ll + 2;
	}
	if (p->mp_name == NULL || p->mp_name[0] == '\0') {
		*why = "a part names no field";
		return -1;
	}
	return 0;
}

enum cu_err
cu_multipart_parse(struct cu_arena *a, const char *content_type, const char *body, size_t len,
                   struct cu_multipart_part **out, size_t *nout, const char **why)
{
	const char *boundary, *cur, *end = body + len, *next, *head_end;
	struct cu_multipart_part *parts;
	char *delim;
	size_t bl, dl, n = 0;

	*out = NULL;
	*nout = 0;
	*why = NULL;
	if (content_type == NULL || strncasecmp(content_type, "multipart/form-data", 19) != 0 ||
	    (content_type[19] != ';' && content_type[19] != ' ')) {
		*why = "not multipart/form-data";
		return CU_ERR_INVALID;
	}
	boundary = header_param(a, content_type, "boundary");
	bl = boundary != NULL ? strlen(boundary) : 0;
	if (bl == 0 || bl > CU_MULTIPART_MAX_BOUNDARY) {
		*why = "Invalid boundary in multipart";
		return CU_ERR_INVALID;
	}
	/* "\r\n--boundary": the body's start counts as the CRLF before the first one. */
	delim = cu_arena_alloc(a, bl + 5);
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, boundary, bl + 1);
	dl = bl + 4;
	if (len >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0) {
		cur = body + dl - 2;
	} else {
		next = find_bytes(body, len, delim, dl);
		if (next == NULL) {
			*why = "the body holds no part";
			return CU_ERR_INVALID;
		}
		cur = next + dl;
	}
	parts = cu_arena_zalloc(a, CU_MULTIPART_MAX_PARTS * sizeof(*parts));
	for (;;) {
		/* After a delimiter: "--" ends the body, else optional blanks and a CRLF. */
		if (end - cur >= 2 && cur[0] == '-' && cur[1] == '-')
			break;
		while (cur < end && (*cur == ' ' || *cur == '\t'))
			cur++;
		if (end - cur < 2 || cur[0] != '\r' || cur[1] != '\n') {
			*why = "a delimiter is not followed by a line break";
			return CU_ERR_INVALID;
		}
		cur += 2;
		if (n == CU_MULTIPART_MAX_PARTS) {
			*why = "too many parts";
			return CU_ERR_INVALID;
		}
		if (end - cur >= 2 && cur[0] == '\r' && cur[1] == '\n') {
			head_end = cur;
		} else {
			head_end = find_bytes(cur, (size_t)(end - cur), "\r\n\r\n", 4);
			if (head_end == NULL || head_end - cur > CU_MULTIPART_MAX_PART_HEAD) {
				*why = "a part's headers do not end";
				return CU_ERR_INVALID;
			}
		}
		if (part_headers(a, cur, (size_t)(head_end - cur), &parts[n], why) != 0)
			return CU_ERR_INVALID;
		cur = head_end + (head_end == cur ? 2 : 4);
		next = find_bytes(cur, (size_t)(end - cur), delim, dl);
		if (next == NULL) {
			*why = "a part does not end";
			return CU_ERR_INVALID;
		}
		parts[n].mp_data = cu_arena_strndup(a, cur, (size_t)(next - cur));
		parts[n].mp_len = (size_t)(next - cur);
		n++;
		cur = next + dl;
	}
	*out = parts;
	*nout = n;
	return CU_OK;
}

const struct cu_multipart_part *
cu_multipart_field(const struct cu_multipart_part *parts, size_t n, const char *name)
{
	const struct cu_multipart_part *p = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(parts[i].mp_name, name) == 0)
			p = &parts[i];
	return p;
}
