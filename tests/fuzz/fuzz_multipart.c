/*
 * The multipart/form-data parser of the API's uploads (cu_multipart_parse). Input: the
 * Content-Type header value up to the first newline, then the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cu_arena a;
	struct cu_multipart_part *parts = NULL;
	const char *nl = memchr(data, '\n', size), *why = NULL, *ctype, *body;
	size_t n = 0, blen, i, total = 0;
	enum cu_err err;

	if (nl == NULL)
		return 0;
	cu_arena_init(&a);
	ctype = cu_arena_strndup(&a, (const char *)data, (size_t)(nl - (const char *)data));
	body = nl + 1;
	blen = size - (size_t)(nl + 1 - (const char *)data);
	err = cu_multipart_parse(&a, ctype, body, blen, &parts, &n, &why);
	if (err != CU_OK) {
		if (why == NULL || n != 0 || parts != NULL)
			abort();
		goto out;
	}
	if (n > CU_MULTIPART_MAX_PARTS || (n > 0 && parts == NULL))
		abort();
	for (i = 0; i < n; i++) {
		const struct cu_multipart_part *p = &parts[i];

		/* Every part names a field; its bytes are a NUL-terminated copy of the body's. */
		if (p->mp_name == NULL || p->mp_name[0] == '\0' || p->mp_data == NULL ||
		    p->mp_data[p->mp_len] != '\0' || p->mp_len > blen)
			abort();
		total += p->mp_len;
	}
	if (total > blen)
		abort();
out:
	cu_arena_free(&a);
	return 0;
}
