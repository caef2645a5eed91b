/* lib/policies.c: the event-matcher decision, on events built here (no database). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "policies.h"

/* An event as the API shows it; model_app/model_name NULL leave context.model out. */
static struct json_object *
event(const char *action, const char *app, const char *client_ip, const char *model_app,
      const char *model_name)
{
	struct json_object *e = json_object_new_object(), *ctx = json_object_new_object();

	json_object_object_add(e, "action", json_object_new_string(action));
	json_object_object_add(e, "app", json_object_new_string(app));
	json_object_object_add(e, "client_ip",
	                       client_ip ? json_object_new_string(client_ip) : NULL);
	if (model_app != NULL) {
		struct json_object *m = json_object_new_object();

		json_object_object_add(m, "app", json_object_new_string(model_app));
		json_object_object_add(m, "model_name", json_object_new_string(model_name));
		json_object_object_add(m, "pk", json_object_new_string("x"));
		json_object_object_add(ctx, "model", m);
	}
	json_object_object_add(e, "context", ctx);
	return e;
}

static void
test_each_field(void **state)
{
	struct json_object *e =
	    event("model_created", "authentik.core", "10.0.0.1", "authentik_core", "user");

	(void)state;
	assert_int_equal(cu_policies_event_matcher_matches("model_created", NULL, NULL, NULL, e),
	                 1);
	assert_int_equal(cu_policies_event_matcher_matches("login", NULL, NULL, NULL, e), 0);
	assert_int_equal(cu_policies_event_matcher_matches(NULL, "authentik.core", NULL, NULL, e),
	                 1);
	assert_int_equal(cu_policies_event_matcher_matches(NULL, "authentik.events", NULL, NULL, e),
	                 0);
	assert_int_equal(
	    cu_policies_event_matcher_matches(NULL, NULL, "authentik_core.user", NULL, e), 1);
	assert_int_equal(
	    cu_policies_event_matcher_matches(NULL, NULL, "authentik_core.group", NULL, e), 0);
	assert_int_equal(
	    cu_policies_event_matcher_matches(NULL, NULL, "authentik_core.use", NULL, e), 0);
	assert_int_equal(
	    cu_policies_event_matcher_matches(NULL, NULL, "authentik_cor.user", NULL, e), 0);
	assert_int_equal(
	    cu_policies_event_matcher_matches(NULL, NULL, "authentik_coreuser", NULL, e), 0);
	assert_int_equal(cu_policies_event_matcher_matches(NULL, NULL, NULL, "10.0.0.1", e), 1);
	assert_int_equal(cu_policies_event_matcher_matches(NULL, NULL, NULL, "10.0.0.10", e), 0);
	json_object_put(e);
}

static void
test_all_must_match(void **state)
{
	struct json_object *e =
	    event("model_created", "authentik.core", "10.0.0.1", "authentik_core", "user");

	(void)state;
	assert_int_equal(cu_policies_event_matcher_matches("model_created", "authentik.core",
	                                                   "authentik_core.user", "10.0.0.1", e),
	                 1);
	assert_int_equal(cu_policies_event_matcher_matches("model_created", "authentik.core",
	                                                   "authentik_core.user", "10.0.0.2", e),
	                 0);
	assert_int_equal(cu_policies_event_matcher_matches("model_updated", "authentik.core",
	                                                   "authentik_core.user", "10.0.0.1", e),
	                 0);
	/* Nothing set: authentik's all() of no checks passes. */
	assert_int_equal(cu_policies_event_matcher_matches(NULL, NULL, NULL, NULL, e), 1);
	json_object_put(e);
}

static void
test_missing_parts(void **state)
{
	struct json_object *e = event("login", "authentik.core", NULL, NULL, NULL);
	struct json_object *arr = json_object_new_array();

	(void)state;
	/* No client IP and no context.model: fields that need them do not match. */
	assert_int_equal(cu_policies_event_matcher_matches(NULL, NULL, NULL, "10.0.0.1", e), 0);
	assert_int_equal(
	    cu_policies_event_matcher_matches(NULL, NULL, "authentik_core.user", NULL, e), 0);
	assert_int_equal(cu_policies_event_matcher_matches("login", NULL, NULL, NULL, e), 1);
	/* No event, or not an object: nothing matches, not even an empty matcher. */
	assert_int_equal(cu_policies_event_matcher_matches(NULL, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(cu_policies_event_matcher_matches("login", NULL, NULL, NULL, arr), 0);
	json_object_put(e);
	json_object_put(arr);
}

static void
test_wrong_types(void **state)
{
	struct json_object *e = json_object_new_object(), *ctx = json_object_new_object();

	(void)state;
	json_object_object_add(e, "action", json_object_new_int(5));
	json_object_object_add(e, "app", json_object_new_array());
	json_object_object_add(ctx, "model", json_object_new_string("authentik_core.user"));
	json_object_object_add(e, "context", ctx);
	assert_int_equal(cu_policies_event_matcher_matches("5", NULL, NULL, NULL, e), 0);
	assert_int_equal(cu_policies_event_matcher_matches(NULL, "x", NULL, NULL, e), 0);
	assert_int_equal(
	    cu_policies_event_matcher_matches(NULL, NULL, "authentik_core.user", NULL, e), 0);
	json_object_put(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_each_field),
	    cmocka_unit_test(test_all_must_match),
	    cmocka_unit_test(test_missing_parts),
	    cmocka_unit_test(test_wrong_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
