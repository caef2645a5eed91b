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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
