/* lib/api/stages.c: a stage body checked against its kind's table, before the database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "api/stages.h"
#include "arena.h"
#include "json.h"
#include "server.h"

struct fixture {
	struct cu_arena fx_arena;
	struct cu_ctx fx_cx;
};

static int
setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	cu_arena_init(&f.fx_arena);
	f.fx_cx.cx_arena = &f.fx_arena;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	cu_arena_free(&f->fx_arena);
	return 0;
}

/* Reads body (JSON text) as type: the result, and the config or errors as compact JSON. */
static int
read_body(struct fixture *f, const char *type, const char *body, const char **out)
{
	struct json_object *b = NULL, *config = NULL, *errors = NULL;
	int r;

	assert_int_equal(cu_json_parse(&f->fx_arena, body, strlen(body), &b), CU_OK);
	r = cu_api_stages_read_body(&f->fx_cx, type, b, &config, &errors);
	*out = r == 0 ? cu_json_text(config, NULL) : r == 1 ? cu_json_text(errors, NULL) : NULL;
	return r;
}

/* The value under key in the JSON text s, as compact JSON. */
static const char *
member(struct fixture *f, const char *s, const char *key)
{
	struct json_object *o = NULL, *v = NULL;

	assert_int_equal(cu_json_parse(&f->fx_arena, s, strlen(s), &o), CU_OK);
	if (!json_object_object_get_ex(o, key, &v))
		return "(absent)";
	return v == NULL ? "null" : cu_json_text(v, NULL);
}

static void
test_defaults_merged(void **state)
{
	struct fixture *f = *state;
	const char *out = NULL;

	assert_int_equal(read_body(f, "userloginstage", "{\"name\": \"a\"}", &out), 0);
	assert_string_equal(member(f, out, "session_duration"), "\"seconds=0\"");
	assert_string_equal(member(f, out, "remember_device"), "\"days=30\"");
	assert_string_equal(member(f, out, "network_binding"), "\"no_binding\"");
	assert_string_equal(member(f, out, "terminate_other_sessions"), "false");
	/* The name is no part of the config. */
	assert_string_equal(member(f, out, "name"), "(absent)");

	assert_int_equal(read_body(f, "emailstage",
	                           "{\"name\": \"a\", \"port\": 587, "
	                           "\"password\": \"s\", \"extra\": 1}",
	                           &out),
	                 0);
	assert_string_equal(member(f, out, "port"), "587");
	assert_string_equal(member(f, out, "password"), "\"s\"");
	assert_string_equal(member(f, out, "template"), "\"email/password_reset.html\"");
	/* Keys no kind declares are not stored. */
	assert_string_equal(member(f, out, "extra"), "(absent)");

	/* A reference is stored in lower case. */
	assert_int_equal(read_body(f, "identificationstage",
	                           "{\"name\": \"a\", \"user_fields\": [\"email\"], "
	                           "\"password_stage\": \"0A0B0C0D-0000-4000-8000-00000000000F\"}",
	                           &out),
	                 0);
	assert_string_equal(member(f, out, "password_stage"),
	                    "\"0a0b0c0d-0000-4000-8000-00000000000f\"");
	assert_string_equal(member(f, out, "pretend_user_exists"), "true");
}

static void
test_errors_in_drf_shape(void **state)
{
	struct fixture *f = *state;
	const char *out = NULL;

	assert_int_equal(read_body(f, "denystage", "{}", &out), 1);
	assert_string_equal(out, "{\"name\":[\"This field is required.\"]}");
	assert_int_equal(read_body(f, "consentstage", "{\"name\": \"a\", \"mode\": 3}", &out), 1);
	assert_string_equal(out, "{\"mode\":[\"\\\"3\\\" is not a valid choice.\"]}");
	assert_int_equal(read_body(f, "identificationstage",
	                           "{\"name\": \"a\", \"user_fields\": [\"email\", null, \"x\"]}",
	                           &out),
	                 1);
	assert_string_equal(out, "{\"user_fields\":{\"1\":[\"This field may not be null.\"],"
	                         "\"2\":[\"\\\"x\\\" is not a valid choice.\"]}}");
	assert_int_equal(read_body(f, "userloginstage",
	                           "{\"name\": \"a\", \"remember_device\": \"days=-1\"}", &out),
	                 1);
	assert_string_equal(out, "{\"remember_device\":[\"days=-1 is not in the correct format of "
	                         "'hours=3;minutes=1'.\"]}");
	assert_int_equal(
	    read_body(f, "emailstage",
	              "{\"name\": \"a\", \"from_address\": \"a@b\", \"timeout\": true}", &out),
	    1);
	assert_string_equal(member(f, out, "from_address"), "[\"Enter a valid email address.\"]");
	assert_string_equal(member(f, out, "timeout"), "[\"A valid integer is required.\"]");
	assert_int_equal(read_body(f, "passwordstage", "{\"name\": \"a\", \"backends\": {}}", &out),
	                 1);
	assert_string_equal(out, "{\"backends\":[\"Expected a list of items but got type "
	                         "\\\"dict\\\".\"]}");
	assert_int_equal(read_body(f, "promptstage", "{\"name\": \"a\", \"fields\": [1]}", &out),
	                 1);
	assert_string_equal(out,
	                    "{\"fields\":[\"Incorrect type. Expected pk value, received int.\"]}");
}

static void
test_kind_validation(void **state)
{
	struct fixture *f = *state;
	const char *out = NULL;

	assert_int_equal(read_body(f, "identificationstage", "{\"name\": \"a\"}", &out), 1);
	assert_string_equal(out, "{\"non_field_errors\":[\"When no user fields are selected, at "
	                         "least one source must be selected\"]}");
	assert_int_equal(
	    read_body(f, "redirectstage",
	              "{\"name\": \"a\", \"mode\": \"static\", \"target_static\": \"\"}", &out),
	    1);
	assert_string_equal(
	    out, "{\"non_field_errors\":[\"Target URL should be present when mode is Static.\"]}");
	assert_int_equal(read_body(f, "redirectstage",
	                           "{\"name\": \"a\", \"mode\": \"flow\", \"target_flow\": null}",
	                           &out),
	                 1);
	assert_string_equal(
	    out, "{\"non_field_errors\":[\"Target Flow should be present when mode is Flow.\"]}");
	assert_int_equal(
	    read_body(f, "redirectstage",
	              "{\"name\": \"a\", \"mode\": \"static\", \"target_static\": \"/x\"}", &out),
	    0);
	assert_string_equal(member(f, out, "keep_context"), "true");
	assert_int_equal(read_body(f, "nosuchstage", "{\"name\": \"a\"}", &out), -1);
}

static void
test_email_addresses(void **state)
{
	static const char *const good[] = {"system@authentik.local", "a.b+c@example.com",
	                                   "x@localhost", "u@sub-domain.example.org"};
	static const char *const bad[] = {
	    "a@b",      "@example.com", "a@",     "a b@c.d", "a@-x.com",       "a@x-.com",
	    "a..b@c.d", "a@c..d",       ".a@c.d", "a@c.d.",  "a@exa mple.com", "a@exa_mple.com",
	    "a@b.c",    "a@b.123",      "a@b.c0m"};
	struct fixture *f = *state;
	const char *out = NULL;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *body = cu_arena_printf(
		    &f->fx_arena, "{\"name\": \"a\", \"from_address\": \"%s\"}", good[i]);

		assert_int_equal(read_body(f, "emailstage", body, &out), 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *body = cu_arena_printf(
		    &f->fx_arena, "{\"name\": \"a\", \"from_address\": \"%s\"}", bad[i]);

		assert_int_equal(read_body(f, "emailstage", body, &out), 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_defaults_merged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors_in_drf_shape, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kind_validation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_email_addresses, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
