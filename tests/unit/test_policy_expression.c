/* lib/policies/expression.c: the Lua sandbox alone (no database; hooks are stubs here). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "arena.h"
#include "json.h"
#include "mem.h"
#include "policies/expression.h"
#include "policies/kinds.h"

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

static struct json_object *
request(struct cu_arena *a)
{
	const char *text = "{\"user\": {\"pk\": 7, \"username\": \"alice\", \"email\": "
	                   "\"alice@example.com\", \"attributes\": {\"dept\": \"ops\"}, "
	                   "\"groups\": [\"staff\"]}, \"context\": {\"prompt_data\": "
	                   "{\"password\": \"hunter2\"}, \"pending_user_identifier\": \"alice\"}}";
	struct json_object *o = NULL;

	assert_int_equal(cu_json_parse(a, text, strlen(text), &o), CU_OK);
	return o;
}

/* Stub hooks: one user "bob" (pk 9, email bob@example.com) in group "admins". */
static int
stub_user_by(void *data, const char *field, const char *value, struct json_object **out)
{
	struct cu_arena *a = data;
	const char *bob = "{\"pk\": 9, \"username\": \"bob\", \"email\": \"bob@example.com\"}";

	*out = NULL;
	if ((strcmp(field, "username") == 0 && strcmp(value, "bob") == 0) ||
	    (strcmp(field, "email") == 0 && strcmp(value, "bob@example.com") == 0) ||
	    (strcmp(field, "pk") == 0 && strcmp(value, "9") == 0))
		return cu_json_parse(a, bob, strlen(bob), out) == CU_OK ? 0 : -1;
	if (strcmp(value, "broken") == 0)
		return -1;
	return 0;
}

static int
stub_member(void *data, const char *user_pk, const char *field, const char *value)
{
	(void)data;
	return strcmp(user_pk, "9") == 0 && strcmp(field, "name") == 0 &&
	       strcmp(value, "admins") == 0;
}

/* Runs src; returns the cu_err and fills *res. */
static enum cu_err
run(struct cu_arena *a, const char *src, const struct cu_expression_limits *lim,
    struct cu_expression_result *res)
{
	struct cu_expression_hooks hooks = {a, stub_user_by, stub_member};

	return cu_policy_expression_run(a, src, strlen(src), request(a), lim, &hooks, res);
}

static void
expect_pass(struct cu_arena *a, const char *src, int passing)
{
	struct cu_expression_result res;
	enum cu_err err = run(a, src, NULL, &res);

	if (err != CU_OK)
		fail_msg("%s: %s", src, res.er_error);
	assert_int_equal(res.er_passing, passing);
}

static void
expect_error(struct cu_arena *a, const char *src, const char *needle)
{
	struct cu_expression_result res;
	struct cu_expression_limits lim = {200000, 4 * 1024 * 1024, 0};
	double t0 = cu_policy_now();

	lim.el_deadline = t0 + 5;
	assert_int_equal(run(a, src, &lim, &res), CU_ERR_INVALID);
	assert_non_null(res.er_error);
	if (strstr(res.er_error, needle) == NULL)
		fail_msg("%s: error \"%s\" lacks \"%s\"", src, res.er_error, needle);
	/* Cut off well before the deadline: the instruction and memory caps decide. */
	assert_true(cu_policy_now() - t0 < 3.0);
}

static void
test_forbidden_absent(void **state)
{
	struct cu_arena *a = *state;

	expect_pass(
	    a,
	    "return dofile == nil and loadfile == nil and load == nil and loadstring == nil "
	    "and require == nil and collectgarbage == nil and print == nil and io == nil "
	    "and os == nil and debug == nil and package == nil and coroutine == nil and "
	    "string.dump == nil and ('x').dump == nil",
	    1);
	/* What stays: base, string, table, math, utf8. */
	expect_pass(a,
	            "return type(pairs) == 'function' and type(pcall) == 'function' and "
	            "math.max(1, 2) == 2 and utf8.char(65) == 'A' and table.concat({'a', 'b'}, "
	            "'-') == 'a-b' and ('abc'):upper() == 'ABC'",
	            1);
	expect_error(a, "return os.execute('true')", "os");
	expect_error(a, "return load('return 1')()", "load");
}

static void
test_request_visible(void **state)
{
	struct cu_arena *a = *state;

	expect_pass(a, "return request.user.username == 'alice' and request.user.pk == 7", 1);
	expect_pass(a, "return request.user.attributes.dept == 'ops'", 1);
	expect_pass(a, "return request.user.groups[1] == 'staff'", 1);
	expect_pass(a, "return context.prompt_data.password == 'hunter2'", 1);
	expect_pass(a, "return request.context.pending_user_identifier == 'alice'", 1);
	expect_pass(a, "return request.http_request == nil and ak_client_ip == nil", 1);
	/* Truthiness as Lua's: no return is a failure, 0 and '' are true. */
	expect_pass(a, "local x = 1", 0);
	expect_pass(a, "return nil", 0);
	expect_pass(a, "return false", 0);
	expect_pass(a, "return 0", 1);
	expect_pass(a, "return ''", 1);
}

static void
test_messages_and_logs(void **state)
{
	struct cu_arena *a = *state;
	struct cu_expression_result res;
	int i;

	assert_int_equal(run(a,
	                     "ak_message('first') ak_message(42) ak_logger('a', 1, true) "
	                     "return false",
	                     NULL, &res),
	                 CU_OK);
	assert_int_equal(res.er_passing, 0);
	assert_int_equal(json_object_array_length(res.er_messages), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(res.er_messages, 0)),
	                    "first");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(res.er_messages, 1)),
	                    "42");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(res.er_logs, 0)),
	                    "a 1 true");
	/* Bounded: a loop of messages keeps CU_EXPR_MAX_MESSAGES. */
	assert_int_equal(
	    run(a, "for i = 1, 1000 do ak_message(string.rep('m', 10000)) end return true", NULL,
	        &res),
	    CU_OK);
	assert_int_equal(json_object_array_length(res.er_messages), CU_EXPR_MAX_MESSAGES);
	for (i = 0; i < CU_EXPR_MAX_MESSAGES; i++)
		assert_true(strlen(json_object_get_string(json_object_array_get_idx(
		                res.er_messages, (size_t)i))) <= CU_EXPR_MAX_TEXT);
}

static void
test_helpers(void **state)
{
	struct cu_arena *a = *state;

	expect_pass(a, "return ak_user_by{username = 'bob'}.pk == 9", 1);
	expect_pass(a, "return ak_user_by{email = 'bob@example.com'}.username == 'bob'", 1);
	expect_pass(a, "return ak_user_by{pk = 9}.username == 'bob'", 1);
	expect_pass(a, "return ak_user_by{username = 'nobody'} == nil", 1);
	expect_error(a, "return ak_user_by{username = 'broken'}", "lookup failed");
	expect_error(a, "return ak_user_by{username = 'bob', email = 'x'}", "one of");
	expect_pass(a, "return ak_is_group_member(ak_user_by{username = 'bob'}, {name = 'admins'})",
	            1);
	expect_pass(a, "return ak_is_group_member(ak_user_by{username = 'bob'}, 'admins')", 1);
	expect_pass(a, "return ak_is_group_member(request.user, {name = 'admins'})", 0);
	expect_pass(a, "return regex_match('alice@example.com', '^[a-z]+@example\\\\.com$')", 1);
	expect_pass(a, "return regex_match('alice@example.org', 'example\\\\.com')", 0);
	expect_pass(a, "return regex_replace('a-b-c', '-', '+') == 'a+b+c'", 1);
	expect_pass(a,
	            "return regex_replace('john.smith', '([a-z]+)\\\\.([a-z]+)', '\\\\2 \\\\1') == "
	            "'smith john'",
	            1);
	expect_pass(a, "return regex_replace('abc', 'x*', '-') == '-a-b-c-'", 1);
	expect_error(a, "return regex_match('aa', '(a)\\\\1')", "back-references");
	expect_error(a, "return regex_match('aa', '(')", "invalid pattern");
	expect_error(a, "return regex_match('a', string.rep('a', 600))", "too long");
}

static void
test_infinite_loops(void **state)
{
	struct cu_arena *a = *state;
	struct cu_expression_result res;
	struct cu_expression_limits lim = {0, 0, 0};
	double t0;

	expect_error(a, "while true do end", "instruction limit");
	expect_error(a, "while true do pcall(function() while true do end end) end",
	             "instruction limit");
	expect_error(a, "local function f() return f() end return f()", "stopped");
	expect_error(a,
	             "do local x <close> = setmetatable({}, {__close = function() while true do "
	             "end end}) end return true",
	             "instruction limit");
	/* The deadline alone stops a script under a huge instruction budget. */
	lim.el_max_instructions = 1000000000000LL;
	t0 = cu_policy_now();
	lim.el_deadline = t0 + 0.3;
	assert_int_equal(run(a, "while true do end", &lim, &res), CU_ERR_INVALID);
	assert_non_null(strstr(res.er_error, "timeout"));
	assert_true(cu_policy_now() - t0 < 1.5);
}

static void
test_memory_bombs(void **state)
{
	struct cu_arena *a = *state;

	expect_error(a, "local t = {} while true do t[#t + 1] = string.rep('x', 1048576) end",
	             "memory");
	expect_error(a, "local s = 'x' while true do s = s .. s end", "memory");
	expect_error(a, "local t = {} for i = 1, 1e9 do t[i] = i end", "");
	expect_error(a, "return string.rep('', 1e15)", "too large");
	expect_error(a, "return string.rep('x', 1e12)", "too large");
	expect_error(a, "table.move({}, 1, 1e15, 1) return true", "too many");
	expect_error(a,
	             "local t = setmetatable({}, {__len = function() return 1e15 end}) "
	             "table.insert(t, 1, 'x') return true",
	             "too long");
	expect_error(a, "setmetatable({}, {__gc = function() while true do end end}) return true",
	             "__gc");
	expect_error(a, "error(setmetatable({}, {__tostring = function() while true do end end}))",
	             "table value");
}

static void
test_pattern_bombs(void **state)
{
	struct cu_arena *a = *state;

	expect_error(a, "return string.rep('a', 5000):find(string.rep('a-', 12) .. 'b')",
	             "too complex");
	expect_error(
	    a, "return (string.rep('a', 40)):match(string.rep('a?', 40) .. string.rep('a', 40))",
	    "too complex");
	/* Ordinary patterns on ordinary values are fine, and plain finds have no bound. */
	expect_pass(a, "return ('alice@example.com'):match('^([^@]+)@(.+)$') == 'alice'", 1);
	expect_pass(a, "return string.rep('a', 100000):find('a-b', 1, true) == nil", 1);
	expect_pass(a, "return select(2, ('a,b,c'):gsub(',', ';')) == 2", 1);
}

static void
test_compile_errors(void **state)
{
	struct cu_arena *a = *state;
	const char *err = NULL;
	const char *python = "return ak_is_group_member(request.user, name=\"admins\")";

	expect_error(a, python, "expression");
	assert_int_equal(cu_policy_expression_check(a, python, strlen(python), &err), 0);
	assert_non_null(err);
	assert_int_equal(cu_policy_expression_check(a, "return true", 11, &err), 1);
	assert_null(err);
	/* Binary chunks are refused (text mode only). */
	expect_error(a, "\x1bLua", "binary");
}

static void
test_speed(void **state)
{
	struct cu_arena *a = *state;
	struct cu_expression_result res;
	double t0 = cu_policy_now();
	int i;

	for (i = 0; i < 200; i++) {
		assert_int_equal(run(a, "return request.user.username == 'alice'", NULL, &res),
		                 CU_OK);
		assert_int_equal(res.er_passing, 1);
	}
	/* A fresh state per evaluation stays well under a millisecond each. */
	assert_true((cu_policy_now() - t0) / 200 < 0.005);
}

/* --- value-returning scripts (cu_policy_expression_values) -------------------------------- */

/* Runs src as a value script; the compact JSON text of its result ("null" for nil), or the
 * error prefixed with "error: ". */
static const char *
value_of(struct cu_arena *a, const char *src, struct json_object *globals)
{
	struct cu_expression_hooks hooks = {a, stub_user_by, stub_member};
	struct cu_expression_limits lim = {200000, 4 * 1024 * 1024, cu_policy_now() + 5};
	struct json_object *v = NULL;
	const char *error = NULL;

	if (cu_policy_expression_value(a, src, strlen(src), request(a), globals, &lim, &hooks, &v,
	                               &error) != CU_OK) {
		assert_non_null(error);
		assert_null(v);
		return cu_arena_printf(a, "error: %s", error);
	}
	assert_null(error);
	return v == NULL ? "null" : cu_arena_strdup(a, cu_json_text(v, NULL));
}

static void
want_value(struct cu_arena *a, const char *src, const char *json)
{
	const char *got = value_of(a, src, NULL);
	struct json_object *g = NULL, *w = NULL;

	/* Objects compare by members: a Lua table's order is its hash order. */
	if (strncmp(got, "error: ", 7) == 0 || cu_json_parse(a, got, strlen(got), &g) != CU_OK ||
	    cu_json_parse(a, json, strlen(json), &w) != CU_OK || !json_object_equal(g, w))
		fail_msg("%s: got %s, want %s", src, got, json);
}

static void
want_value_error(struct cu_arena *a, const char *src, const char *needle)
{
	const char *got = value_of(a, src, NULL);

	if (strncmp(got, "error: ", 7) != 0 || strstr(got, needle) == NULL)
		fail_msg("%s: got %s, want an error with \"%s\"", src, got, needle);
}

static void
test_value_conversion(void **state)
{
	struct cu_arena *a = *state;

	want_value(a, "return nil", "null");
	want_value(a, "", "null");
	want_value(a, "return true", "true");
	want_value(a, "return 42", "42");
	want_value(a, "return -7.5", "-7.5");
	want_value(a, "return 'h\\u{e9}llo'", "\"h\xc3\xa9llo\"");
	want_value(a, "return {'a', 'b', 3}", "[\"a\",\"b\",3]");
	want_value(a, "return {}", "[]");
	want_value(a, "return {email = request.user.email, email_verified = false}",
	           "{\"email\":\"alice@example.com\",\"email_verified\":false}");
	want_value(a, "return {groups = {{name = 'x', pk = 1}}}",
	           "{\"groups\":[{\"name\":\"x\",\"pk\":1}]}");
	/* Keys other than exactly 1..n make an object; number keys become strings. */
	want_value(a, "return {[2] = 'b', [3] = 'c'}", "{\"2\":\"b\",\"3\":\"c\"}");
	want_value(a, "return {[1] = 'a', [3] = 'c'}", "{\"1\":\"a\",\"3\":\"c\"}");
	want_value(a, "return {[1.5] = 'x'}", "{\"1.5\":\"x\"}");
	want_value(a, "return {[0] = 'z', [1] = 'a'}", "{\"0\":\"z\",\"1\":\"a\"}");
	want_value(a, "local t = {1, 2}; t.x = 1; return {#t}", "[2]");
	/* Metamethods do not change what is converted. */
	want_value(a,
	           "return setmetatable({}, {__index = function() return 1 end, "
	           "__pairs = function() error('no') end})",
	           "[]");
	/* The request is the same one policies see. */
	want_value(a, "return request.user.attributes.dept", "\"ops\"");
}

static void
test_value_refusals(void **state)
{
	struct cu_arena *a = *state;

	want_value_error(a, "return tostring", "function");
	want_value_error(a, "return {f = tostring}", "function");
	want_value_error(a, "return 0/0", "number");
	want_value_error(a, "return {x = math.huge}", "number");
	want_value_error(a, "return '\\xff\\xfe'", "UTF-8");
	want_value_error(a, "return 'a\\0b'", "UTF-8");
	want_value_error(a, "return {[true] = 1}", "boolean key");
	want_value_error(a, "return {[{}] = 1}", "table key");
	/* A cycle and deep nesting end at the depth bound, not in a loop. */
	want_value_error(a, "local t = {}; t.t = t; return t", "nested too deeply");
	want_value_error(a, "local t = {}; for i = 1, 100 do t = {t} end; return t",
	                 "nested too deeply");
	/* Node and byte bounds. */
	want_value_error(a, "local t = {}; for i = 1, 20000 do t[i] = i end; return t",
	                 "too large");
	want_value_error(a, "local s = string.rep('x', 600000); return {s, s}", "too large");
	want_value_error(a, "return (", "expected");
	want_value_error(a, "error('mapping broke')", "mapping broke");
	want_value_error(a, "while true do end", "instruction limit");
}

static void
test_value_globals_and_isolation(void **state)
{
	struct cu_arena *a = *state;
	struct cu_expression_limits lim = {200000, 4 * 1024 * 1024, cu_policy_now() + 5};
	const char *globals_text = "{\"provider\": {\"name\": \"p1\", \"pk\": 3}, "
	                           "\"application\": {\"slug\": \"app\"}}";
	const char *srcs[] = {
	    "leaked = 'yes'; request.user.username = 'mallory'; return provider.name",
	    "return {leaked, request.user.username, application.slug}",
	    "while true do end",
	    "return {after = 'fresh', leaked = leaked}",
	    "local t = {}; for i = 1, 1e7 do t[i] = ('x'):rep(100) .. i end",
	    "return provider.pk + 1",
	};
	size_t lens[6], i;
	struct cu_expression_value out[6];
	struct json_object *globals = NULL;

	assert_int_equal(cu_json_parse(a, globals_text, strlen(globals_text), &globals), CU_OK);
	for (i = 0; i < 6; i++)
		lens[i] = strlen(srcs[i]);
	assert_int_equal(
	    cu_policy_expression_values(a, srcs, lens, 6, request(a), globals, &lim, NULL, out),
	    CU_ERR_INVALID);
	assert_null(out[0].ev_error);
	assert_string_equal(cu_json_text(out[0].ev_value, NULL), "\"p1\"");
	/* Neither a global nor a change to request crosses from one script to the next. */
	assert_null(out[1].ev_error);
	assert_int_equal(json_object_object_length(out[1].ev_value), 2);
	assert_string_equal(json_object_get_string(json_object_object_get(out[1].ev_value, "2")),
	                    "alice");
	assert_string_equal(json_object_get_string(json_object_object_get(out[1].ev_value, "3")),
	                    "app");
	/* A script past its budget fails alone; the next one runs in a fresh interpreter. */
	assert_non_null(out[2].ev_error);
	assert_non_null(strstr(out[2].ev_error, "instruction limit"));
	assert_null(out[3].ev_error);
	assert_string_equal(cu_json_text(out[3].ev_value, NULL), "{\"after\":\"fresh\"}");
	assert_non_null(out[4].ev_error);
	assert_null(out[4].ev_value);
	assert_null(out[5].ev_error);
	assert_string_equal(cu_json_text(out[5].ev_value, NULL), "4");
}

static void
test_value_speed(void **state)
{
	struct cu_arena *a = *state;
	const char *srcs[] = {
	    "return {}",
	    "return {email = request.user.email, email_verified = false}",
	    "local groups = {}\nfor i, g in ipairs(request.user.groups) do groups[i] = g end\n"
	    "return {name = request.user.username, groups = groups}",
	};
	size_t lens[3] = {strlen(srcs[0]), strlen(srcs[1]), strlen(srcs[2])};
	struct cu_expression_value out[3];
	double t0 = cu_policy_now();
	int i;

	for (i = 0; i < 200; i++)
		assert_int_equal(cu_policy_expression_values(a, srcs, lens, 3, request(a), NULL,
		                                             NULL, NULL, out),
		                 CU_OK);
	assert_string_equal(json_object_get_string(json_object_object_get(out[2].ev_value, "name")),
	                    "alice");
	/* Three mappings share one interpreter: well under a millisecond for all three. */
	assert_true((cu_policy_now() - t0) / 200 < 0.005);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_forbidden_absent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_visible, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_messages_and_logs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_helpers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_infinite_loops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memory_bombs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pattern_bombs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_compile_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_speed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_value_conversion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_value_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_value_globals_and_isolation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_value_speed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
