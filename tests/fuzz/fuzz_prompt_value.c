/*
 * The prompt stage's value checks (lib/stages/prompt.h) on arbitrary bytes. The first byte
 * picks the field type; the rest is the answer, tried both as raw text (each pure parser) and
 * as a JSON value checked the way the stage checks a body's key. Invariants: parsers look only
 * at the bytes given (a copy without a terminator is read), an accepted date or date-time has
 * the shape it claims, an accepted integer prints back to a number the parser accepts again,
 * and a check either stores a value of the type's JSON kind or gives a message and a code.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "json.h"
#include "stages/prompt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const types[] = {
    "text",
    "text_area",
    "username",
    "email",
    "password",
    "number",
    "checkbox",
    "date",
    "date-time",
    "file",
    "ak-locale",
    "dropdown",
    "radio-button-group",
};

static const char *const choices[] = {"a", "b", "c d"};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cu_arena a;
	struct cu_prompt_field f;
	struct cu_prompt_error err;
	struct json_object *v = NULL, *out = NULL;
	const char *type;
	char *copy;
	size_t n;
	long long iv, iv2;
	int b;

	if (size < 1 || size > 70000)
		return 0;
	type = types[data[0] % (sizeof(types) / sizeof(types[0]))];
	n = size - 1;
	/* An exact-size heap copy: any read past n bytes is caught by the sanitizer. */
	copy = malloc(n > 0 ? n : 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data + 1, n);

	(void)cu_prompt_email_valid(copy, n);
	if (cu_prompt_date_valid(copy, n) && (n != 10 || copy[4] != '-' || copy[7] != '-'))
		abort();
	if (cu_prompt_datetime_valid(copy, n) && (n < 16 || !cu_prompt_date_valid(copy, 10)))
		abort();
	if (cu_prompt_int_parse(copy, n, &iv) == 0) {
		char back[32];
		int len = snprintf(back, sizeof(back), "%lld", iv);

		if (len <= 0 || cu_prompt_int_parse(back, (size_t)len, &iv2) != 0 || iv2 != iv)
			abort();
	}
	if (cu_prompt_bool_parse(copy, n, &b) == 0 && b != 0 && b != 1)
		abort();
	if (cu_prompt_file_valid(copy, n) && (n < 5 || memcmp(copy, "data:", 5) != 0))
		abort();

	cu_arena_init(&a);
	memset(&f, 0, sizeof(f));
	f.pf_key = "k";
	f.pf_type = type;
	f.pf_required = data[0] & 0x80 ? 0 : 1;
	f.pf_choices = choices;
	f.pf_nchoices = sizeof(choices) / sizeof(choices[0]);
	if (cu_json_parse(&a, copy, n, &v) == CU_OK) {
		if (cu_prompt_value_check(&a, &f, 1, v, &out, &err) == 0) {
			if (out == NULL)
				abort();
			if (strcmp(type, "number") == 0 && !json_object_is_type(out, json_type_int))
				abort();
			if (strcmp(type, "checkbox") == 0 &&
			    !json_object_is_type(out, json_type_boolean))
				abort();
			if (strcmp(type, "number") != 0 && strcmp(type, "checkbox") != 0 &&
			    !json_object_is_type(out, json_type_string))
				abort();
			if (strcmp(type, "email") == 0 && json_object_get_string_len(out) > 0 &&
			    !cu_prompt_email_valid(json_object_get_string(out),
			                           (size_t)json_object_get_string_len(out)))
				abort();
		} else if (err.pe_msg == NULL || err.pe_code == NULL) {
			abort();
		}
	}
	cu_arena_free(&a);
	free(copy);
	return 0;
}
