/*
 * The answers of a prompt stage (lib/stages/prompt.c): one value per prompt field, checked by
 * the field's type the way authentik's serializer fields check them (DRF's CharField,
 * EmailField, IntegerField, BooleanField, DateField, DateTimeField, ChoiceField), with DRF's
 * messages and codes. Pure functions over outside input: unit-tested and fuzzed
 * (tests/unit/test_stage_prompt.c, tests/fuzz/fuzz_prompt_value.c).
 */
#ifndef CU_STAGES_PROMPT_H
#define CU_STAGES_PROMPT_H

#include <stddef.h>

#include "arena.h"
#include "bounds.h"

struct json_object;

/* Pure parsers of one value (s[0..n), not NUL-terminated). 1 valid, 0 not. */
int cu_prompt_email_valid(const char *s, size_t n);
int cu_prompt_date_valid(const char *s, size_t n);     /* YYYY-MM-DD, a real calendar day */
int cu_prompt_datetime_valid(const char *s, size_t n); /* ISO 8601, as DRF's DateTimeField */
/* An integer as DRF reads one from text: blanks around, a sign, digits, an optional ".000"
 * tail; inside int64. 0 with *out set, -1 otherwise. */
int cu_prompt_int_parse(const char *s, size_t n, long long *out)
    __attribute__((warn_unused_result));
/* DRF's BooleanField words ("true", "on", "1", "no", ...): 0 with *out 0/1, -1 otherwise. */
int cu_prompt_bool_parse(const char *s, size_t n, int *out) __attribute__((warn_unused_result));
/* A data: URI with base64 content, as authentik's InlineFileField wants: 1 valid, 0 not. */
int cu_prompt_file_valid(const char *s, size_t n);

/* One field as the check needs it; strings borrowed. */
struct cu_prompt_field {
	const char *pf_key;
	const char *pf_type; /* prompts.type */
	int pf_required;
	const char *pf_default;        /* what an absent answer becomes; NULL: none */
	const char *const *pf_choices; /* radio-button-group and dropdown: the allowed values */
	size_t pf_nchoices;
};

/* Why an answer was refused: DRF's message and code (static or arena-owned). */
struct cu_prompt_error {
	const char *pe_msg;
	const char *pe_code;
};

/*
 * Checks the answer to field f. present says whether the body had the key at all; v is its
 * value (NULL for a JSON null). Returns 0 with *out the value to store (arena-owned; NULL when
 * nothing is stored: an optional field left out), or -1 with *err filled. Numbers are stored as
 * integers, checkboxes as booleans, everything else as strings. Static, hidden, separator and
 * read-only fields are not checked here: the stage forces them to their value.
 */
int cu_prompt_value_check(struct cu_arena *a, const struct cu_prompt_field *f, int present,
                          struct json_object *v, struct json_object **out,
                          struct cu_prompt_error *err) __attribute__((warn_unused_result));

/* 1 for the types whose answer is never taken from the body (static, hidden, separator,
 * text_read_only, text_area_read_only). */
int cu_prompt_type_forced(const char *type);
/* 1 for radio-button-group and dropdown. */
int cu_prompt_type_choice(const char *type);

#endif
