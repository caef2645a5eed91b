#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "arena.h"
#include "json.h"
#include "bounds.h"
#include "mem.h"

static int
setup(void **state)
{
	struct cu_arena *a = cu_malloc(sizeof(*a));

	cu_arena_init(a);
	*state = a;
	return 0;
}

static int
teardown(void **state)
{
	struct cu_arena *a = *state;

	cu_arena_free(a);
	cu_free(a);
	return 0;
}

/* Parses a literal, excluding its terminating NUL. */
#define PARSE(a, lit, out) cu_json_parse((a), (lit), sizeof(lit) - 1, (out))

static void
test_utf8_valid(void **state)
{
	static const struct {
		const char *s;
		size_t n;
		int ok;
	} cases[] = {
	    {"", 0, 1},
	    {"plain ascii", 11, 1},
	    {"\x7f", 1, 1},
	    {"\xc2\x80", 2, 1},         /* U+0080, smallest two-byte */
	    {"\xdf\xbf", 2, 1},         /* U+07FF */
	    {"\xe0\xa0\x80", 3, 1},     /* U+0800 */
	    {"\xe2\x82\xac", 3, 1},     /* euro sign */
	    {"\xed\x9f\xbf", 3, 1},     /* U+D7FF, just below the surrogates */
	    {"\xee\x80\x80", 3, 1},     /* U+E000, just above */
	    {"\xef\xbf\xbf", 3, 1},     /* U+FFFF */
	    {"\xf0\x90\x80\x80", 4, 1}, /* U+10000 */
	    {"\xf4\x8f\xbf\xbf", 4, 1}, /* U+10FFFF */
	    {"\x80", 1, 0},             /* lone continuation */
	    {"\xbf", 1, 0},
	    {"\xc0\x80", 2, 0},         /* overlong NUL */
	    {"\xc1\xbf", 2, 0},         /* overlong */
	    {"\xe0\x80\x80", 3, 0},     /* overlong */
	    {"\xe0\x9f\xbf", 3, 0},     /* overlong U+07FF */
	    {"\xf0\x80\x80\x80", 4, 0}, /* overlong */
	    {"\xf0\x8f\xbf\xbf", 4, 0}, /* overlong U+FFFF */
	    {"\xed\xa0\x80", 3, 0},     /* U+D800 */
	    {"\xed\xbf\xbf", 3, 0},     /* U+DFFF */
	    {"\xf4\x90\x80\x80", 4, 0}, /* U+110000 */
	    {"\xf5\x80\x80\x80", 4, 0},
	    {"\xf8\x88\x80\x80\x80", 5, 0},
	    {"\xfe", 1, 0},
	    {"\xff", 1, 0},
	    {"\xc2", 1, 0},         /* truncated */
	    {"\xe2\x82", 2, 0},     /* truncated */
	    {"\xf0\x90\x80", 3, 0}, /* truncated */
	    {"\xc2\x41", 2, 0},     /* bad continuation */
	    {"\xe2\x28\xa1", 3, 0},
	    {"\xe2\x82\x28", 3, 0},
	    {"\xf0\x90\x28\xbc", 4, 0},
	    {"a\xe2\x82\xac"
	     "b",
	     5, 1},
	    {"a\xe2\x82\xac"
	     "b",
	     4, 1},
	    {"a\xe2\x82\xac"
	     "b",
	     3, 0}, /* cut inside a sequence */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(cu_utf8_valid(cases[i].s, cases[i].n), cases[i].ok);
}

static void
test_parse_valid(void **state)
{
	struct cu_arena *a = *state;
	struct json_object *o = NULL, *sub = NULL, *arr = NULL;
	const char *s = NULL;
	int64_t i = 0;
	int b = -1;

	assert_int_equal(
	    PARSE(a,
	          " {\"s\":\"caf\xc3\xa9\",\"i\":-42,\"b\":true,\"o\":{\"x\":\"\\u20ac\"},"
	          "\"a\":[1,2,3],\"n\":null,\"d\":1.5,\"e\":\"\\t\\\"\\\\\\/\"}\r\n\t",
	          &o),
	    CU_OK);
	assert_non_null(o);
	assert_int_equal(cu_json_get_string(o, "s", &s), 0);
	assert_string_equal(s, "caf\xc3\xa9");
	assert_int_equal(cu_json_get_int(o, "i", &i), 0);
	assert_int_equal(i, -42);
	assert_int_equal(cu_json_get_bool(o, "b", &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(cu_json_get_object(o, "o", &sub), 0);
	assert_int_equal(cu_json_get_string(sub, "x", &s), 0);
	assert_string_equal(s, "\xe2\x82\xac");
	assert_int_equal(cu_json_get_array(o, "a", &arr), 0);
	assert_int_equal(json_object_array_length(arr), 3);
	assert_int_equal(cu_json_get_string(o, "e", &s), 0);
	assert_string_equal(s, "\t\"\\/");
}

static void
test_parse_scalars(void **state)
{
	struct cu_arena *a = *state;
	struct json_object *o = NULL;

	assert_int_equal(PARSE(a, "123", &o), CU_OK);
	assert_true(json_object_is_type(o, json_type_int));
	assert_int_equal(json_object_get_int64(o), 123);
	assert_int_equal(PARSE(a, " -7 ", &o), CU_OK);
	assert_int_equal(json_object_get_int64(o), -7);
	assert_int_equal(PARSE(a, "0", &o), CU_OK);
	assert_int_equal(PARSE(a, "1e3", &o), CU_OK);
	assert_true(json_object_is_type(o, json_type_double));
	assert_int_equal(PARSE(a, "-0", &o), CU_OK);
	assert_int_equal(PARSE(a, "1E+2", &o), CU_OK);
	assert_int_equal(PARSE(a, "-1.5e-3", &o), CU_OK);
	assert_true(json_object_get_double(o) == -1.5e-3);
	assert_int_equal(PARSE(a, "[-1.25,0.0,10.01]", &o), CU_OK);
	assert_int_equal(PARSE(a, "true", &o), CU_OK);
	assert_true(json_object_is_type(o, json_type_boolean));
	assert_int_equal(PARSE(a, "false", &o), CU_OK);
	assert_int_equal(PARSE(a, "\"x\"", &o), CU_OK);
	assert_string_equal(json_object_get_string(o), "x");
	assert_int_equal(PARSE(a, "[]", &o), CU_OK);
	assert_int_equal(PARSE(a, "{}", &o), CU_OK);
	/* json-c has no object for null. */
	o = cu_json_object(a);
	assert_int_equal(PARSE(a, "null", &o), CU_OK);
	assert_null(o);
}

static void
test_parse_syntax_errors(void **state)
{
	/* Grouped by kind, which clang-format's packing would undo. */
	/* clang-format off */
	static const char *const bad[] = {
		"", " ", "\n\t ",
		"{", "[1,", "\"abc", "tru", "nul",
		"{\"a\"}", "{\"a\":}", "{a:1}", "[1 2]",
		"[1,]", "{\"a\":1,}",
		"{'a':1}", "{\"a\":'b'}", "'a'",
		"[01]", "01", "+1", "-", "[-]",
		"1.", "[1.]", "1.e5", ".5", "-.5", "[1,.5]", "1e", "[1e]",
		"NaN", "nan", "-NaN", "Infinity", "-Infinity", "infinity",
		"/* c */ {}", "{} // c",
		"\"\\x41\"", "\"\\u12\"", "\"\\u12g4\"",
		"\"a\tb\"", "\"a\nb\"", "\"\x1f\"", /* raw control characters */
		"[true,\x7f]", "[1,\v2]", "\f{}", /* not JSON whitespace */
		"\xef\xbb\xbf{}", /* byte order mark */
	};
	/* clang-format on */
	struct cu_arena *a = *state;
	struct json_object *o = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = cu_json_object(a);
		assert_int_equal(cu_json_parse(a, bad[i], strlen(bad[i]), &o), CU_ERR_INVALID);
		assert_null(o);
	}
}

static void
test_parse_trailing(void **state)
{
	static const char *const bad[] = {
	    "{} x", "{}{}",       "[1]]",   "1 2",  "\"a\"\"b\"",
	    "{}}",  "true false", "null x", "0x10", "{},",
	};
	struct cu_arena *a = *state;
	struct json_object *o = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cu_json_parse(a, bad[i], strlen(bad[i]), &o), CU_ERR_INVALID);
	assert_int_equal(PARSE(a, "{} \r\n\t", &o), CU_OK);
	assert_int_equal(PARSE(a, "  \n{}", &o), CU_OK);
}

static void
test_parse_bad_utf8(void **state)
{
	static const char *const bad[] = {
	    "\"\xc0\x80\"",               /* overlong NUL */
	    "\"\xed\xa0\x80\"",           /* surrogate */
	    "\"\xf5\x80\x80\x80\"",       /* past U+10FFFF */
	    "\"\xf4\x90\x80\x80\"",       /* U+110000 */
	    "\"\xe2\x82\"",               /* truncated */
	    "\"\x80\"",                   /* lone continuation */
	    "{\"\xff\":1}",               /* in a key */
	    "[\"ok\", \"\xe0\x80\xaf\"]", /* overlong slash */
	};
	struct cu_arena *a = *state;
	struct json_object *o = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cu_json_parse(a, bad[i], strlen(bad[i]), &o), CU_ERR_INVALID);
	assert_int_equal(PARSE(a, "\"\xf4\x8f\xbf\xbf\"", &o), CU_OK);
}

static void
test_parse_nul(void **state)
{
	struct cu_arena *a = *state;
	struct json_object *o = NULL;
	const char *s = NULL;

	assert_int_equal(PARSE(a, "{\"a\":\"b\0c\"}", &o), CU_ERR_INVALID);
	assert_int_equal(PARSE(a, "{}\0", &o), CU_ERR_INVALID);
	assert_int_equal(PARSE(a, "\0{}", &o), CU_ERR_INVALID);
	assert_int_equal(PARSE(a, "1\0", &o), CU_ERR_INVALID);
	/* Escaped NULs would cut keys and values short when read as C strings. */
	assert_int_equal(PARSE(a, "{\"a\":\"b\\u0000c\"}", &o), CU_ERR_INVALID);
	assert_int_equal(PARSE(a, "{\"admin\\u0000x\":true}", &o), CU_ERR_INVALID);
	/* Other escapes, and text that merely looks like one, are fine. */
	assert_int_equal(PARSE(a, "{\"a\":\"\\u0041\\\\u0000\"}", &o), CU_OK);
	assert_int_equal(cu_json_get_string(o, "a", &s), 0);
	assert_string_equal(s, "A\\u0000");
	assert_int_equal(PARSE(a, "\"\\u0001\"", &o), CU_OK);
}

static void
test_parse_lone_surrogate_escape(void **state)
{
	struct cu_arena *a = *state;
	struct json_object *o = NULL;
	const char *s = NULL;

	/* json-c turns unpaired surrogate escapes into U+FFFD, so strings stay UTF-8. */
	assert_int_equal(PARSE(a, "{\"a\":\"\\ud800x\",\"b\":\"\\udc00\"}", &o), CU_OK);
	assert_int_equal(cu_json_get_string(o, "a", &s), 0);
	assert_true(cu_utf8_valid(s, strlen(s)));
	assert_int_equal(cu_json_get_string(o, "b", &s), 0);
	assert_string_equal(s, "\xef\xbf\xbd");
	assert_int_equal(PARSE(a, "{\"a\":\"\\ud83d\\ude00\"}", &o), CU_OK);
	assert_int_equal(cu_json_get_string(o, "a", &s), 0);
	assert_string_equal(s, "\xf0\x9f\x98\x80");
}

/* k arrays nested, the innermost holding inner ("" for none). */
static char *
nested(struct cu_arena *a, size_t k, const char *open, const char *inner, const char *close)
{
	size_t ol = strlen(open), il = strlen(inner), cl = strlen(close), i;
	char *s = cu_arena_alloc(a, k * (ol + cl) + il + 1), *p = s;

	for (i = 0; i < k; i++, p += ol)
		memcpy(p, open, ol);
	memcpy(p, inner, il);
	p += il;
	for (i = 0; i < k; i++, p += cl)
		memcpy(p, close, cl);
	*p = '\0';
	return s;
}

/* k steps of open..close parse and k + 1 do not. */
static void
check_depth(struct cu_arena *a, size_t k, const char *open, const char *inner, const char *close)
{
	struct json_object *o = NULL;
	char *s;

	s = nested(a, k, open, inner, close);
	assert_int_equal(cu_json_parse(a, s, strlen(s), &o), CU_OK);
	s = nested(a, k + 1, open, inner, close);
	assert_int_equal(cu_json_parse(a, s, strlen(s), &o), CU_ERR_INVALID);
	s = nested(a, 10000, open, inner, close);
	assert_int_equal(cu_json_parse(a, s, strlen(s), &o), CU_ERR_INVALID);
}

static void
test_parse_depth(void **state)
{
	struct cu_arena *a = *state;
	struct json_object *o = NULL;

	assert_int_equal(CU_JSON_MAX_DEPTH, 32);
	check_depth(a, 32, "[", "", "]");
	check_depth(a, 32, "[", "1", "]");
	check_depth(a, 31, "[", "{}", "]"); /* the {} is one more level */
	check_depth(a, 30, "[", "[[]]", "]");
	check_depth(a, 32, "{\"a\":", "1", "}");
	check_depth(a, 31, "{\"a\":", "{}", "}");
	check_depth(a, 16, "{\"a\":[", "\"x\"", "]}"); /* two levels a step */
	/* Brackets inside strings are text, not depth. */
	assert_int_equal(PARSE(a, "{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}", &o),
	                 CU_OK);
	assert_int_equal(PARSE(a, "[\"\\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"]", &o), CU_OK);
	/* Wide is fine. */
	{
		size_t i, n = 20001;
		char *s = cu_arena_alloc(a, n + 1);

		s[0] = '[';
		for (i = 1; i < n; i += 2) {
			s[i] = '1';
			s[i + 1] = ',';
		}
		s[n - 1] = ']';
		s[n] = '\0';
		assert_int_equal(cu_json_parse(a, s, n, &o), CU_OK);
		assert_int_equal(json_object_array_length(o), (n - 1) / 2);
	}
}

static void
test_parse_size(void **state)
{
	struct cu_arena *a = *state;
	struct json_object *o = NULL;
	size_t n = CU_JSON_MAX_LEN;
	char *s = cu_malloc(n + 1);
	const char *v = NULL;

	/* A string exactly at the limit parses; one byte more is too large. */
	s[0] = '"';
	memset(s + 1, 'a', n - 2);
	s[n - 1] = '"';
	s[n] = ' ';
	assert_int_equal(cu_json_parse(a, s, n, &o), CU_OK);
	assert_int_equal(cu_json_get_string(o, "k", &v), -1);
	assert_int_equal(json_object_get_string_len(o), n - 2);
	assert_int_equal(cu_json_parse(a, s, n + 1, &o), CU_ERR_TOO_LARGE);
	assert_null(o);
	cu_free(s);
	assert_int_equal(cu_json_parse(a, "{}", (size_t)CU_JSON_MAX_LEN + 1, &o), CU_ERR_TOO_LARGE);
}

static void
test_get_wrong_type(void **state)
{
	struct cu_arena *a = *state;
	struct json_object *o = NULL, *sub = NULL, *arr = NULL;
	const char *s = "untouched";
	int64_t i = 99;
	int b = 99;

	assert_int_equal(
	    PARSE(a,
	          "{\"s\":\"1\",\"i\":1,\"d\":1.0,\"b\":false,\"o\":{},\"a\":[],\"n\":null,"
	          "\"bs\":\"true\"}",
	          &o),
	    CU_OK);
	assert_int_equal(cu_json_get_string(o, "i", &s), -1);
	assert_int_equal(cu_json_get_string(o, "n", &s), -1);
	assert_int_equal(cu_json_get_string(o, "o", &s), -1);
	assert_int_equal(cu_json_get_string(o, "missing", &s), -1);
	assert_string_equal(s, "untouched");
	assert_int_equal(cu_json_get_int(o, "s", &i), -1);
	assert_int_equal(cu_json_get_int(o, "d", &i), -1);
	assert_int_equal(cu_json_get_int(o, "b", &i), -1);
	assert_int_equal(cu_json_get_int(o, "n", &i), -1);
	assert_int_equal(i, 99);
	assert_int_equal(cu_json_get_bool(o, "i", &b), -1);
	assert_int_equal(cu_json_get_bool(o, "bs", &b), -1);
	assert_int_equal(cu_json_get_bool(o, "n", &b), -1);
	assert_int_equal(b, 99);
	assert_int_equal(cu_json_get_bool(o, "b", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(cu_json_get_object(o, "a", &sub), -1);
	assert_int_equal(cu_json_get_object(o, "n", &sub), -1);
	assert_null(sub);
	assert_int_equal(cu_json_get_array(o, "o", &arr), -1);
	assert_null(arr);
	assert_int_equal(cu_json_get_array(o, "a", &arr), 0);
	assert_int_equal(cu_json_get_object(o, "o", &sub), 0);

	/* Not an object at all. */
	assert_int_equal(cu_json_get_string(arr, "s", &s), -1);
	assert_int_equal(cu_json_get_string(NULL, "s", &s), -1);
	assert_int_equal(PARSE(a, "\"s\"", &o), CU_OK);
	assert_int_equal(cu_json_get_string(o, "s", &s), -1);
}

static void
test_get_int_range(void **state)
{
	struct cu_arena *a = *state;
	struct json_object *o = NULL;
	int64_t i = 0;

	assert_int_equal(PARSE(a,
	                       "{\"max\":9223372036854775807,\"min1\":-9223372036854775807,"
	                       "\"over\":9223372036854775808,\"huge\":99999999999999999999,"
	                       "\"min\":-9223372036854775808,\"under\":-99999999999999999999,"
	                       "\"zero\":-0}",
	                       &o),
	                 CU_OK);
	assert_int_equal(cu_json_get_int(o, "max", &i), 0);
	assert_true(i == INT64_MAX);
	assert_int_equal(cu_json_get_int(o, "min1", &i), 0);
	assert_true(i == -INT64_MAX);
	assert_int_equal(cu_json_get_int(o, "zero", &i), 0);
	assert_true(i == 0);
	assert_int_equal(cu_json_get_int(o, "over", &i), -1);
	assert_int_equal(cu_json_get_int(o, "huge", &i), -1);
	assert_int_equal(cu_json_get_int(o, "min", &i), -1);
	assert_int_equal(cu_json_get_int(o, "under", &i), -1);
}

static void
test_get_string_guards(void **state)
{
	struct cu_arena *a = *state;
	struct json_object *o = cu_json_object(a);
	const char *s = NULL;

	/* Objects built in code can hold what the parser refuses. */
	cu_json_set(o, "nul", json_object_new_string_len("a\0b", 3));
	cu_json_set(o, "bad", json_object_new_string("\xc0\x80"));
	cu_json_set(o, "ok", json_object_new_string_len("ab", 2));
	assert_int_equal(cu_json_get_string(o, "nul", &s), -1);
	assert_int_equal(cu_json_get_string(o, "bad", &s), -1);
	assert_int_equal(cu_json_get_string(o, "ok", &s), 0);
	assert_string_equal(s, "ab");
}

static void
test_build_and_text(void **state)
{
	struct cu_arena *a = *state;
	struct json_object *o = cu_json_object(a), *arr = cu_json_array(a);
	const char *t;
	size_t len = 0;

	cu_json_set_string(o, "iss", "https://id.example/a/b");
	cu_json_set_string(o, "ctl", "q\"\\\n\x01");
	cu_json_set_string(o, "nil", NULL);
	cu_json_set_int(o, "exp", INT64_C(1700000000));
	cu_json_set_bool(o, "t", 7);
	cu_json_set_bool(o, "f", 0);
	cu_json_set_double(o, "half", 0.5);
	cu_json_set_double(o, "nan", NAN);
	cu_json_set_double(o, "inf", -INFINITY);
	json_object_array_add(arr, json_object_new_int(1));
	/* cu_json_set takes over a reference; arr stays arena-owned too, so it needs one more. */
	cu_json_set(o, "arr", json_object_get(arr));

	t = cu_json_text(o, &len);
	assert_string_equal(t,
	                    "{\"iss\":\"https://id.example/a/b\",\"ctl\":\"q\\\"\\\\\\n\\u0001\","
	                    "\"nil\":null,\"exp\":1700000000,\"t\":true,\"f\":false,"
	                    "\"half\":0.5,\"nan\":null,\"inf\":null,\"arr\":[1]}");
	assert_int_equal(len, strlen(t));
	assert_string_equal(cu_json_text(arr, NULL), "[1]");

	/* What we write, we read back. */
	{
		struct json_object *back = NULL;
		const char *s = NULL;
		int64_t i = 0;

		assert_int_equal(cu_json_parse(a, t, len, &back), CU_OK);
		assert_int_equal(cu_json_get_string(back, "ctl", &s), 0);
		assert_string_equal(s, "q\"\\\n\x01");
		assert_int_equal(cu_json_get_int(back, "exp", &i), 0);
		assert_true(i == INT64_C(1700000000));
	}

	/* Replacing a key keeps one entry. */
	cu_json_set_int(o, "exp", 1);
	assert_non_null(strstr(cu_json_text(o, NULL), "\"exp\":1,"));
	assert_null(strstr(cu_json_text(o, NULL), "1700000000"));
}

static int freed_count;

static void
count_free(struct json_object *o, void *userdata)
{
	(void)o;
	(void)userdata;
	freed_count++;
}

static void
test_arena_release(void **state)
{
	struct cu_arena *a = *state;
	struct json_object *o = NULL, *held;

	assert_int_equal(PARSE(a, "{\"a\":[1,2]}", &o), CU_OK);
	json_object_set_userdata(o, NULL, count_free);
	held = json_object_get(o);
	freed_count = 0;
	cu_arena_reset(a);
	/* The arena dropped its reference; ours is the last one. */
	assert_int_equal(freed_count, 0);
	assert_int_equal(json_object_put(held), 1);
	assert_int_equal(freed_count, 1);

	/* Objects made empty-handed and adopted ones go the same way. */
	o = cu_json_object(a);
	json_object_set_userdata(o, NULL, count_free);
	o = cu_json_adopt(a, json_object_new_array());
	json_object_set_userdata(o, NULL, count_free);
	assert_null(cu_json_adopt(a, NULL));
	freed_count = 0;
	cu_arena_reset(a);
	assert_int_equal(freed_count, 2);

	/* A failed parse leaves nothing behind for the arena. */
	assert_int_equal(PARSE(a, "{\"a\":[1,2]} x", &o), CU_ERR_INVALID);
	assert_null(a->ar_defer);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8_valid),
	    cmocka_unit_test_setup_teardown(test_parse_valid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_scalars, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_syntax_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_trailing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_bad_utf8, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_nul, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_lone_surrogate_escape, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_depth, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_size, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_get_wrong_type, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_get_int_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_get_string_guards, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_build_and_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_arena_release, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
