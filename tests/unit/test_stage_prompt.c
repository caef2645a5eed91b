/* The prompt stage's value checks (lib/stages/prompt.h): DRF's rules, messages and codes. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "arena.h"
#include "json.h"
#include "stages/prompt.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static int
setup(void **state)
{
	static struct cu_arena a;

	cu_arena_init(&a);
	*state = &a;
	return 0;
}

static int
teardown(void **state)
{
	cu_arena_free(*state);
	return 0;
}

static void
test_email(void **state)
{
	(void)state;
	assert_true(cu_prompt_email_valid(S("a@example.com")));
	assert_true(cu_prompt_email_valid(S("first.last+tag@sub.example.org")));
	assert_true(cu_prompt_email_valid(S("x@localhost")));
	assert_true(cu_prompt_email_valid(S("o'brien@example.co")));
	assert_false(cu_prompt_email_valid(S("")));
	assert_false(cu_prompt_email_valid(S("plain")));
	assert_false(cu_prompt_email_valid(S("@example.com")));
	assert_false(cu_prompt_email_valid(S("a@")));
	assert_false(cu_prompt_email_valid(S("a@b@example.com")));
	assert_false(cu_prompt_email_valid(S(".a@example.com")));
	assert_false(cu_prompt_email_valid(S("a..b@example.com")));
	assert_false(cu_prompt_email_valid(S("a@example")));   /* no TLD */
	assert_false(cu_prompt_email_valid(S("a@example.c"))); /* TLD too short */
	assert_false(cu_prompt_email_valid(S("a@-x.example.com")));
	assert_false(cu_prompt_email_valid(S("a@x-.example.com")));
	assert_false(cu_prompt_email_valid(S("a@exa mple.com")));
	assert_false(cu_prompt_email_valid(S("a b@example.com")));
	assert_false(cu_prompt_email_valid(S("a@1.2.3.4"))); /* numeric TLD */
	assert_false(cu_prompt_email_valid(S("a@example.com\n")));
	/* Only n bytes are looked at: a valid prefix of a longer buffer is judged alone. */
	assert_true(cu_prompt_email_valid("a@example.comXYZ", 13));
}

static void
test_email_lengths(void **state)
{
	char buf[400];

	(void)state;
	/* 64-character local part is the limit. */
	memset(buf, 'a', 64);
	memcpy(buf + 64, "@example.com", 12);
	assert_true(cu_prompt_email_valid(buf, 76));
	memset(buf, 'a', 65);
	memcpy(buf + 65, "@example.com", 12);
	assert_false(cu_prompt_email_valid(buf, 77));
	/* Past users.email's 254 characters. */
	memset(buf, 'a', 60);
	buf[60] = '@';
	for (size_t i = 61; i < 300; i++)
		buf[i] = (i - 61) % 10 == 9 ? '.' : 'b';
	memcpy(buf + 296, ".com", 4);
	assert_false(cu_prompt_email_valid(buf, 300));
}

static void
test_date(void **state)
{
	(void)state;
	assert_true(cu_prompt_date_valid(S("2024-02-29")));
	assert_true(cu_prompt_date_valid(S("2000-02-29")));
	assert_true(cu_prompt_date_valid(S("0001-01-01")));
	assert_true(cu_prompt_date_valid(S("9999-12-31")));
	assert_false(cu_prompt_date_valid(S("2023-02-29")));
	assert_false(cu_prompt_date_valid(S("1900-02-29")));
	assert_false(cu_prompt_date_valid(S("2023-04-31")));
	assert_false(cu_prompt_date_valid(S("2023-13-01")));
	assert_false(cu_prompt_date_valid(S("2023-00-10")));
	assert_false(cu_prompt_date_valid(S("2023-01-00")));
	assert_false(cu_prompt_date_valid(S("0000-01-01")));
	assert_false(cu_prompt_date_valid(S("2023-1-01")));
	assert_false(cu_prompt_date_valid(S("2023/01/01")));
	assert_false(cu_prompt_date_valid(S("20230101")));
	assert_false(cu_prompt_date_valid(S("2023-01-01T00:00")));
	assert_false(cu_prompt_date_valid(S("+023-01-01")));
}

static void
test_datetime(void **state)
{
	(void)state;
	assert_true(cu_prompt_datetime_valid(S("2024-05-06T07:08")));
	assert_true(cu_prompt_datetime_valid(S("2024-05-06 07:08:09")));
	assert_true(cu_prompt_datetime_valid(S("2024-05-06T07:08:09.123456")));
	assert_true(cu_prompt_datetime_valid(S("2024-05-06T07:08:09Z")));
	assert_true(cu_prompt_datetime_valid(S("2024-05-06T07:08:09+02:00")));
	assert_true(cu_prompt_datetime_valid(S("2024-05-06T07:08:09-0530")));
	assert_true(cu_prompt_datetime_valid(S("2024-05-06T07:08+02")));
	assert_true(cu_prompt_datetime_valid(S("2024-05-06T23:59:59.1Z")));
	assert_false(cu_prompt_datetime_valid(S("2024-05-06")));
	assert_false(cu_prompt_datetime_valid(S("2024-05-06T24:00")));
	assert_false(cu_prompt_datetime_valid(S("2024-05-06T07:60")));
	assert_false(cu_prompt_datetime_valid(S("2024-05-06T07:08:60")));
	assert_false(cu_prompt_datetime_valid(S("2024-05-06T07:08:09.")));
	assert_false(cu_prompt_datetime_valid(S("2024-05-06T07:08:09.1234567")));
	assert_false(cu_prompt_datetime_valid(S("2024-05-06T07:08:09ZZ")));
	assert_false(cu_prompt_datetime_valid(S("2024-05-06T07:08:09+2")));
	assert_false(cu_prompt_datetime_valid(S("2024-05-06T07:08:09+02:0")));
	assert_false(cu_prompt_datetime_valid(S("2024-02-30T07:08")));
	assert_false(cu_prompt_datetime_valid(S("2024-05-06X07:08")));
	assert_false(cu_prompt_datetime_valid(S("2024-05-06T7:08")));
}

static void
test_int(void **state)
{
	long long v = 0;

	(void)state;
	assert_int_equal(cu_prompt_int_parse(S("42"), &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(cu_prompt_int_parse(S("  -7 "), &v), 0);
	assert_int_equal(v, -7);
	assert_int_equal(cu_prompt_int_parse(S("+3"), &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(cu_prompt_int_parse(S("12.000"), &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(cu_prompt_int_parse(S("9223372036854775807"), &v), 0);
	assert_true(v == LLONG_MAX);
	assert_int_equal(cu_prompt_int_parse(S("-9223372036854775808"), &v), 0);
	assert_true(v == LLONG_MIN);
	assert_int_equal(cu_prompt_int_parse(S("9223372036854775808"), &v), -1);
	assert_int_equal(cu_prompt_int_parse(S("12.5"), &v), -1);
	assert_int_equal(cu_prompt_int_parse(S(""), &v), -1);
	assert_int_equal(cu_prompt_int_parse(S("-"), &v), -1);
	assert_int_equal(cu_prompt_int_parse(S("1e3"), &v), -1);
	assert_int_equal(cu_prompt_int_parse(S("0x10"), &v), -1);
	assert_int_equal(cu_prompt_int_parse(S("1 2"), &v), -1);
	assert_int_equal(cu_prompt_int_parse(S("."), &v), -1);
}

static void
test_bool(void **state)
{
	int b = -1;

	(void)state;
	assert_int_equal(cu_prompt_bool_parse(S("true"), &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(cu_prompt_bool_parse(S("on"), &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(cu_prompt_bool_parse(S("1"), &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(cu_prompt_bool_parse(S("False"), &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(cu_prompt_bool_parse(S("no"), &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(cu_prompt_bool_parse(S("tRue"), &b), -1);
	assert_int_equal(cu_prompt_bool_parse(S("2"), &b), -1);
	assert_int_equal(cu_prompt_bool_parse(S(""), &b), -1);
}

static void
test_file(void **state)
{
	(void)state;
	assert_true(cu_prompt_file_valid(S("data:image/png;base64,aGVsbG8=")));
	assert_true(cu_prompt_file_valid(S("data:;base64,")));
	assert_false(cu_prompt_file_valid(S("http://example.com/x.png")));
	assert_false(cu_prompt_file_valid(S("data:image/png,hello")));
	assert_false(cu_prompt_file_valid(S("data:image/png;base32,aGVsbG8=")));
	assert_false(cu_prompt_file_valid(S("data:image/png;base64,aGVsbG8")));
	assert_false(cu_prompt_file_valid(S("data:image/png;base64,a=Vs")));
	assert_false(cu_prompt_file_valid(S("data:image/png;base64")));
}

/* Runs one check of a JSON answer text (NULL: absent) and returns its result. */
static int
check(struct cu_arena *a, const struct cu_prompt_field *f, const char *json,
      struct json_object **out, struct cu_prompt_error *err)
{
	struct json_object *v = NULL;

	if (json == NULL)
		return cu_prompt_value_check(a, f, 0, NULL, out, err);
	assert_int_equal(cu_json_parse(a, json, strlen(json), &v), CU_OK);
	return cu_prompt_value_check(a, f, 1, v, out, err);
}

static void
test_required_and_defaults(void **state)
{
	struct cu_arena *a = *state;
	struct cu_prompt_field f = {"name", "text", 1, NULL, NULL, 0};
	struct cu_prompt_error err;
	struct json_object *out = NULL;

	assert_int_equal(check(a, &f, NULL, &out, &err), -1);
	assert_string_equal(err.pe_msg, "This field is required.");
	assert_string_equal(err.pe_code, "required");
	assert_int_equal(check(a, &f, "null", &out, &err), -1);
	assert_string_equal(err.pe_code, "null");
	assert_int_equal(check(a, &f, "\"\"", &out, &err), -1);
	assert_string_equal(err.pe_msg, "This field may not be blank.");
	assert_int_equal(check(a, &f, "true", &out, &err), -1);
	assert_string_equal(err.pe_msg, "Not a valid string.");
	assert_int_equal(check(a, &f, "[\"x\"]", &out, &err), -1);
	assert_string_equal(err.pe_msg, "Not a valid string.");
	/* Text keeps its blanks, as authentik's text fields do. */
	assert_int_equal(check(a, &f, "\" Jo \"", &out, &err), 0);
	assert_string_equal(json_object_get_string(out), " Jo ");
	/* A number is taken as its text. */
	assert_int_equal(check(a, &f, "12", &out, &err), 0);
	assert_string_equal(json_object_get_string(out), "12");

	/* Optional: absent stores nothing, blank is allowed. */
	f.pf_required = 0;
	assert_int_equal(check(a, &f, NULL, &out, &err), 0);
	assert_null(out);
	assert_int_equal(check(a, &f, "\"\"", &out, &err), 0);
	assert_string_equal(json_object_get_string(out), "");

	/* A default fills an absent answer. */
	f.pf_required = 1;
	f.pf_default = "fallback";
	assert_int_equal(check(a, &f, NULL, &out, &err), 0);
	assert_string_equal(json_object_get_string(out), "fallback");
}

static void
test_lengths(void **state)
{
	struct cu_arena *a = *state;
	struct cu_prompt_field f = {"u", "username", 1, NULL, NULL, 0};
	struct cu_prompt_error err;
	struct json_object *out = NULL;
	char *big = cu_arena_alloc(a, 20010);

	big[0] = '"';
	memset(big + 1, 'x', 151);
	memcpy(big + 152, "\"", 2);
	assert_int_equal(check(a, &f, big, &out, &err), -1);
	assert_string_equal(err.pe_code, "max_length");
	assert_string_equal(err.pe_msg, "Ensure this field has no more than 150 characters.");
	memcpy(big + 151, "\"", 2);
	assert_int_equal(check(a, &f, big, &out, &err), 0);

	/* Characters, not bytes: 150 two-byte characters fit. */
	for (int i = 0; i < 150; i++)
		memcpy(big + 1 + 2 * i, "\xc3\xa9", 2);
	memcpy(big + 301, "\"", 2);
	assert_int_equal(check(a, &f, big, &out, &err), 0);

	f.pf_type = "text";
	memset(big + 1, 'y', 10000);
	memcpy(big + 10001, "\"", 2);
	assert_int_equal(check(a, &f, big, &out, &err), -1);
	assert_string_equal(err.pe_code, "max_length");
}

static void
test_types(void **state)
{
	struct cu_arena *a = *state;
	struct cu_prompt_field f = {"k", "email", 1, NULL, NULL, 0};
	struct cu_prompt_error err;
	struct json_object *out = NULL;
	static const char *const choices[] = {"red", "green"};

	assert_int_equal(check(a, &f, "\" a@example.com \"", &out, &err), 0);
	assert_string_equal(json_object_get_string(out), "a@example.com");
	assert_int_equal(check(a, &f, "\"not-an-email\"", &out, &err), -1);
	assert_string_equal(err.pe_msg, "Enter a valid email address.");

	f.pf_type = "number";
	assert_int_equal(check(a, &f, "\"17\"", &out, &err), 0);
	assert_true(json_object_is_type(out, json_type_int));
	assert_int_equal(json_object_get_int64(out), 17);
	assert_int_equal(check(a, &f, "3.0", &out, &err), 0);
	assert_int_equal(json_object_get_int64(out), 3);
	assert_int_equal(check(a, &f, "3.5", &out, &err), -1);
	assert_string_equal(err.pe_msg, "A valid integer is required.");
	assert_int_equal(check(a, &f, "\"seven\"", &out, &err), -1);
	assert_int_equal(check(a, &f, "true", &out, &err), -1);
	assert_int_equal(check(a, &f, "99999999999999999999999", &out, &err), -1);

	f.pf_type = "checkbox";
	assert_int_equal(check(a, &f, "\"on\"", &out, &err), 0);
	assert_true(json_object_get_boolean(out));
	assert_int_equal(check(a, &f, "0", &out, &err), 0);
	assert_false(json_object_get_boolean(out));
	assert_int_equal(check(a, &f, "\"maybe\"", &out, &err), -1);
	assert_string_equal(err.pe_msg, "Must be a valid boolean.");
	/* Unticked boxes are not sent: never "required". */
	assert_int_equal(check(a, &f, NULL, &out, &err), 0);
	assert_null(out);

	f.pf_type = "date";
	assert_int_equal(check(a, &f, "\"2024-02-29\"", &out, &err), 0);
	assert_int_equal(check(a, &f, "\"2024-02-30\"", &out, &err), -1);
	assert_string_equal(err.pe_msg,
	                    "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.");

	f.pf_type = "date-time";
	assert_int_equal(check(a, &f, "\"2024-02-29T10:00:00Z\"", &out, &err), 0);
	assert_int_equal(check(a, &f, "\"yesterday\"", &out, &err), -1);
	assert_string_equal(err.pe_code, "invalid");

	f.pf_type = "dropdown";
	f.pf_choices = choices;
	f.pf_nchoices = 2;
	assert_int_equal(check(a, &f, "\"green\"", &out, &err), 0);
	assert_int_equal(check(a, &f, "\"blue\"", &out, &err), -1);
	assert_string_equal(err.pe_msg, "\"blue\" is not a valid choice.");
	assert_string_equal(err.pe_code, "invalid_choice");
	assert_int_equal(check(a, &f, "\"\"", &out, &err), -1);
	assert_string_equal(err.pe_code, "invalid_choice");

	f.pf_type = "file";
	f.pf_choices = NULL;
	f.pf_nchoices = 0;
	assert_int_equal(check(a, &f, "\"data:text/plain;base64,aGk=\"", &out, &err), 0);
	assert_int_equal(check(a, &f, "\"ftp://x\"", &out, &err), -1);
	assert_string_equal(err.pe_msg, "Invalid scheme");
	assert_int_equal(check(a, &f, "\"data:text/plain,hi\"", &out, &err), -1);
	assert_string_equal(err.pe_msg, "Invalid encoding");

	/* A password is taken exactly as typed. */
	f.pf_type = "password";
	assert_int_equal(check(a, &f, "\" s3cret \"", &out, &err), 0);
	assert_string_equal(json_object_get_string(out), " s3cret ");
	f.pf_required = 0;
	assert_int_equal(check(a, &f, "\"\"", &out, &err), -1);
	assert_string_equal(err.pe_code, "blank");
	/* No longer than the hasher takes (bytes). */
	{
		char *pw = cu_arena_alloc(a, 4100);

		pw[0] = '"';
		memset(pw + 1, 'p', 4096);
		memcpy(pw + 4097, "\"", 2);
		assert_int_equal(check(a, &f, pw, &out, &err), 0);
		memset(pw + 1, 'p', 4097);
		memcpy(pw + 4098, "\"", 2);
		assert_int_equal(check(a, &f, pw, &out, &err), -1);
		assert_string_equal(err.pe_code, "max_length");
	}
}

static void
test_forced_types(void **state)
{
	(void)state;
	assert_true(cu_prompt_type_forced("static"));
	assert_true(cu_prompt_type_forced("hidden"));
	assert_true(cu_prompt_type_forced("separator"));
	assert_true(cu_prompt_type_forced("text_read_only"));
	assert_true(cu_prompt_type_forced("text_area_read_only"));
	assert_false(cu_prompt_type_forced("text"));
	assert_false(cu_prompt_type_forced("password"));
	assert_true(cu_prompt_type_choice("dropdown"));
	assert_true(cu_prompt_type_choice("radio-button-group"));
	assert_false(cu_prompt_type_choice("text"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_email),
	    cmocka_unit_test(test_email_lengths),
	    cmocka_unit_test(test_date),
	    cmocka_unit_test(test_datetime),
	    cmocka_unit_test(test_int),
	    cmocka_unit_test(test_bool),
	    cmocka_unit_test(test_file),
	    cmocka_unit_test_setup_teardown(test_required_and_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lengths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_types, setup, teardown),
	    cmocka_unit_test(test_forced_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
