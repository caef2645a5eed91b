/* lib/flows.c: the ?next= check, the executor's URLs, and the helpers stages use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "config.h"
#include "flows.h"
#include "http.h"
#include "json.h"
#include "server.h"

static struct cu_arena arena;
static struct cu_config cfg;
static struct cu_http_request req;
static struct cu_ctx cx;

static int
setup(void **state)
{
	(void)state;
	cu_arena_init(&arena);
	memset(&cfg, 0, sizeof(cfg));
	memset(&req, 0, sizeof(req));
	memset(&cx, 0, sizeof(cx));
	cx.cx_cfg = &cfg;
	cx.cx_arena = &arena;
	cx.cx_req = &req;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cu_arena_free(&arena);
	return 0;
}

static void
test_next_local_accepted(void **state)
{
	const char *ok[] = {
	    "/",
	    "/application/o/authorize/?client_id=abc&redirect_uri=https%3A%2F%2Frp.example%2Fcb",
	    "/if/user/#/settings",
	    "/a/b/c",
	    "/a//b",
	    "/%41",
	    "/x?next=%2F",
	    "/caf\xc3\xa9",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_true(cu_flow_next_is_local(ok[i]));
}

static void
test_next_local_refused(void **state)
{
	const char *bad[] = {
	    "",
	    "//evil.example",
	    "//evil.example/path",
	    "/\\evil.example",
	    "\\\\evil.example",
	    "https:evil.example",
	    "https://evil.example",
	    "http://evil.example/",
	    "javascript:alert(1)",
	    "evil.example",
	    "./x",
	    " /x",
	    "/\t/evil.example",
	    "/\n/evil.example",
	    "/\r/evil.example",
	    "/x\x7f",
	    "/%2F%2Fevil.example",
	    "/%2f/evil.example",
	    "/%2F/evil.example",
	    "/%5Cevil.example",
	    "/%5cevil.example",
	    "/%252F%252Fevil.example",
	    "/%25252F/evil.example",
	    "/%09/evil.example",
	    "/%0a",
	    "/%00",
	    "/%zz",
	    "/%",
	    "/%2",
	    "/ok\\..\\",
	    "/%2525252525252F",
	};
	size_t i;

	(void)state;
	assert_false(cu_flow_next_is_local(NULL));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cu_flow_next_is_local(bad[i]))
			fail_msg("accepted: %s", bad[i]);
	}
}

static void
test_next_length_bound(void **state)
{
	char *s = cu_arena_alloc(&arena, 5000);

	(void)state;
	memset(s, 'a', 4999);
	s[0] = '/';
	s[2048] = '\0';
	assert_true(cu_flow_next_is_local(s));
	s[2048] = 'a';
	s[2049] = '\0';
	assert_false(cu_flow_next_is_local(s));
}

static void
test_next_allowed_without_database(void **state)
{
	(void)state;
	/* Local paths and malformed absolute ones are decided without asking PostgreSQL. */
	assert_int_equal(cu_flow_next_allowed(&cx, "/x/"), 1);
	assert_int_equal(cu_flow_next_allowed(&cx, "javascript:alert(1)"), 0);
	assert_int_equal(cu_flow_next_allowed(&cx, "https:///x"), 0);
	assert_int_equal(cu_flow_next_allowed(&cx, "https://a b/"), 0);
	assert_int_equal(cu_flow_next_allowed(&cx, "https://a\\b/"), 0);
	assert_int_equal(cu_flow_next_allowed(&cx, NULL), 0);
}

static void
test_urls(void **state)
{
	(void)state;
	assert_string_equal(cu_flow_executor_url(&cx, "login", "next=%2Fx%2F&a=b c"),
	                    "/api/v3/flows/executor/login/?query=next%3D%252Fx%252F%26a%3Db%20c");
	assert_string_equal(cu_flow_executor_url(&cx, "login", ""),
	                    "/api/v3/flows/executor/login/?query=");
	assert_string_equal(cu_flow_executor_url(&cx, "login", NULL),
	                    "/api/v3/flows/executor/login/?query=");
	assert_string_equal(cu_flow_interface_url(&cx, "login", "next=%2F"),
	                    "/if/flow/login/?next=%2F");
	assert_string_equal(cu_flow_interface_url(&cx, "login", ""), "/if/flow/login/");
}

static void
exec_init(struct cu_flow_exec *fx, const char *config)
{
	struct json_object *cfgobj = NULL;

	memset(fx, 0, sizeof(*fx));
	fx->fx_cx = &cx;
	fx->fx_context = cu_json_object(&arena);
	if (config != NULL) {
		assert_int_equal(cu_json_parse(&arena, config, strlen(config), &cfgobj), CU_OK);
		fx->fx_config = cfgobj;
	}
}

static void
test_challenge_and_errors(void **state)
{
	struct cu_flow_exec fx;
	struct json_object *c, *list = NULL, *e;
	const char *s = NULL;

	(void)state;
	exec_init(&fx, NULL);
	c = cu_flow_challenge(&fx, "ak-stage-dummy");
	assert_ptr_equal(c, fx.fx_challenge);
	assert_int_equal(cu_json_get_string(c, "component", &s), 0);
	assert_string_equal(s, "ak-stage-dummy");

	assert_int_equal(cu_flow_invalid(&fx, "password", "Invalid password", "invalid"),
	                 CU_STAGE_INVALID);
	assert_int_equal(cu_flow_invalid(&fx, "password", "Again", NULL), CU_STAGE_INVALID);
	assert_int_equal(cu_flow_invalid(&fx, NULL, "Other", "x"), CU_STAGE_INVALID);
	assert_int_equal(cu_json_get_array(fx.fx_errors, "password", &list), 0);
	assert_int_equal(json_object_array_length(list), 2);
	e = json_object_array_get_idx(list, 1);
	assert_int_equal(cu_json_get_string(e, "string", &s), 0);
	assert_string_equal(s, "Again");
	assert_int_equal(cu_json_get_string(e, "code", &s), 0);
	assert_string_equal(s, "invalid");
	assert_int_equal(cu_json_get_array(fx.fx_errors, "non_field_errors", &list), 0);
	assert_int_equal(json_object_array_length(list), 1);

	assert_int_equal(cu_flow_deny(&fx, "No"), CU_STAGE_DENY);
	assert_string_equal(fx.fx_message, "No");
}

static void
test_context(void **state)
{
	struct cu_flow_exec fx;
	struct json_object *v;

	(void)state;
	exec_init(&fx, NULL);
	assert_null(cu_flow_ctx_get(&fx, "a"));
	assert_null(cu_flow_ctx_string(&fx, "a"));
	cu_flow_ctx_set_string(&fx, "a", "b");
	assert_true(fx.fx_changed);
	assert_string_equal(cu_flow_ctx_string(&fx, "a"), "b");
	v = cu_json_array(&arena);
	cu_flow_ctx_set(&fx, "list", v);
	assert_ptr_equal(cu_flow_ctx_get(&fx, "list"), v);
	/* A non-string is no string. */
	assert_null(cu_flow_ctx_string(&fx, "list"));
	fx.fx_changed = 0;
	cu_flow_ctx_del(&fx, "missing");
	assert_false(fx.fx_changed);
	cu_flow_ctx_del(&fx, "a");
	assert_true(fx.fx_changed);
	assert_null(cu_flow_ctx_get(&fx, "a"));
	/* Without a plan, nothing happens and nothing breaks. */
	fx.fx_context = NULL;
	cu_flow_ctx_set_string(&fx, "a", "b");
	assert_null(cu_flow_ctx_get(&fx, "a"));
}

static void
test_config(void **state)
{
	struct cu_flow_exec fx;

	(void)state;
	exec_init(&fx, "{\"s\": \"v\", \"i\": 42, \"b\": true, \"wrong\": \"7\", \"big\": 1e3}");
	assert_string_equal(cu_flow_cfg_string(&fx, "s", "d"), "v");
	assert_string_equal(cu_flow_cfg_string(&fx, "i", "d"), "d");
	assert_string_equal(cu_flow_cfg_string(&fx, "none", "d"), "d");
	assert_int_equal(cu_flow_cfg_int(&fx, "i", 1), 42);
	assert_int_equal(cu_flow_cfg_int(&fx, "wrong", 1), 1);
	assert_int_equal(cu_flow_cfg_int(&fx, "big", 1), 1);
	assert_true(cu_flow_cfg_bool(&fx, "b", 0));
	assert_false(cu_flow_cfg_bool(&fx, "s", 0));
	assert_true(cu_flow_cfg_bool(&fx, "none", 1));
	fx.fx_config = NULL;
	assert_string_equal(cu_flow_cfg_string(&fx, "s", "d"), "d");
	assert_int_equal(cu_flow_cfg_int(&fx, "i", 5), 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_next_local_accepted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_next_local_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_next_length_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_next_allowed_without_database, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_urls, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_challenge_and_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_context, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
