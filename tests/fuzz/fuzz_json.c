/*
 * cu_json_parse on arbitrary bytes: every JSON request body goes through it. Invariants: a
 * document it accepts is valid UTF-8 with no NUL, serialises, and parses again to the same
 * text; whatever it refuses it refuses with CU_ERR_INVALID or CU_ERR_TOO_LARGE.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cu_arena a;
	struct json_object *o = NULL, *again = NULL;
	const char *s = (const char *)data, *text, *text2;
	size_t len = 0, len2 = 0;
	enum cu_err err;

	cu_arena_init(&a);
	err = cu_json_parse(&a, s, size, &o);
	if (err != CU_OK) {
		if (err != CU_ERR_INVALID && err != CU_ERR_TOO_LARGE)
			abort();
		goto out;
	}
	if (!cu_utf8_valid(s, size) || memchr(s, '\0', size) != NULL)
		abort();
	if (o == NULL) /* the document was null */
		goto out;
	text = cu_json_text(o, &len);
	if (text == NULL || cu_json_parse(&a, text, len, &again) != CU_OK || again == NULL)
		abort();
	text2 = cu_json_text(again, &len2);
	if (len != len2 || memcmp(text, text2, len) != 0)
		abort();
out:
	cu_arena_free(&a);
	return 0;
}
