/* lib/policies/: the event-matcher decision, and the kinds' evaluations on a struct
 * cu_policy_eval built here (no database, no request). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>

#include <string.h>
#include <time.h>

#include "arena.h"
#include "json.h"
#include "mem.h"
#include "password.h"
#include "policies/engine.h"
#include "policies/event_matcher.h"
#include "policies/kinds.h"

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

/* --- the kinds, without a request --------------------------------------------------------- */

struct fixture {
	struct cu_arena fx_arena;
	struct cu_policy_request fx_rq;
	struct cu_policy_eval fx_pe;
};

static int
kind_setup(void **state)
{
	struct fixture *f = cu_calloc(1, sizeof(*f));

	cu_arena_init(&f->fx_arena);
	*state = f;
	return 0;
}

static int
kind_teardown(void **state)
{
	struct fixture *f = *state;

	cu_arena_free(&f->fx_arena);
	cu_free(f);
	return 0;
}

static struct json_object *
parse(struct fixture *f, const char *text)
{
	struct json_object *o = NULL;

	assert_int_equal(cu_json_parse(&f->fx_arena, text, strlen(text), &o), CU_OK);
	return o;
}

/* A fresh evaluation with config and context (JSON texts; context may be NULL). */
static struct cu_policy_eval *
eval(struct fixture *f, const char *config, const char *context)
{
	memset(&f->fx_rq, 0, sizeof(f->fx_rq));
	memset(&f->fx_pe, 0, sizeof(f->fx_pe));
	f->fx_rq.pr_context = context != NULL ? parse(f, context) : NULL;
	f->fx_pe.pe_arena = &f->fx_arena;
	f->fx_pe.pe_rq = &f->fx_rq;
	f->fx_pe.pe_policy_name = "p";
	f->fx_pe.pe_config = parse(f, config);
	f->fx_pe.pe_messages = cu_json_array(&f->fx_arena);
	f->fx_pe.pe_logs = cu_json_array(&f->fx_arena);
	f->fx_pe.pe_deadline = cu_policy_now() + 30;
	return &f->fx_pe;
}

static const char *
message(struct cu_policy_eval *pe, size_t i)
{
	return json_object_get_string(json_object_array_get_idx(pe->pe_messages, i));
}

static void
test_password_kind(void **state)
{
	struct fixture *f = *state;
	const char *cfg =
	    "{\"password_field\": \"pw\", \"length_min\": 6, \"error_message\": \"Nope.\"}";
	struct cu_policy_eval *pe;

	pe = eval(f, cfg, "{\"prompt_data\": {\"pw\": \"abcdef\"}}");
	assert_int_equal(cu_policy_password_eval(pe), CU_POLICY_PASS);
	pe = eval(f, cfg, "{\"prompt_data\": {\"pw\": \"abc\"}}");
	assert_int_equal(cu_policy_password_eval(pe), CU_POLICY_FAIL);
	assert_string_equal(message(pe, 0), "Nope.");
	/* prompt_data first, then the context's top level. */
	pe = eval(f, cfg, "{\"prompt_data\": {}, \"pw\": \"abcdefg\"}");
	assert_int_equal(cu_policy_password_eval(pe), CU_POLICY_PASS);
	pe = eval(f, cfg, "{\"prompt_data\": {\"pw\": 123456}}");
	assert_int_equal(cu_policy_password_eval(pe), CU_POLICY_FAIL);
	assert_string_equal(message(pe, 0), "Password not set in context");
	pe = eval(f, cfg, NULL);
	assert_int_equal(cu_policy_password_eval(pe), CU_POLICY_FAIL);
	/* An empty error_message falls back to authentik's default text. */
	pe = eval(f, "{\"length_min\": 6, \"error_message\": \"\"}", "{\"password\": \"abc\"}");
	assert_int_equal(cu_policy_password_eval(pe), CU_POLICY_FAIL);
	assert_string_equal(message(pe, 0), "Invalid password.");
}

static void
test_unique_password_kind(void **state)
{
	struct fixture *f = *state;
	struct cu_password_params params = {1024, 1, 1};
	char hash[CU_PASSWORD_MAX_ENCODED];
	struct cu_policy_eval *pe;

	assert_int_equal(cu_password_hash(hash, sizeof(hash), "old-secret", 10, &params), 0);
	pe = eval(f, "{\"num_historical_passwords\": 1}",
	          "{\"prompt_data\": {\"password\": \"old-secret\"}}");
	pe->pe_history = json_object_new_array();
	json_object_array_add(pe->pe_history, json_object_new_string(hash));
	assert_int_equal(cu_policy_unique_password_eval(pe), CU_POLICY_FAIL);
	json_object_put(pe->pe_history);
	pe = eval(f, "{\"num_historical_passwords\": 1}",
	          "{\"prompt_data\": {\"password\": \"new-secret\"}}");
	pe->pe_history = json_object_new_array();
	json_object_array_add(pe->pe_history, json_object_new_string(hash));
	assert_int_equal(cu_policy_unique_password_eval(pe), CU_POLICY_PASS);
	json_object_put(pe->pe_history);
	/* No history, or a policy checking none, passes. */
	pe = eval(f, "{\"num_historical_passwords\": 0}", "{\"password\": \"old-secret\"}");
	assert_int_equal(cu_policy_unique_password_eval(pe), CU_POLICY_PASS);
}

static void
test_expiry_kind(void **state)
{
	struct fixture *f = *state;
	struct cu_policy_eval *pe;
	char user[128];

	snprintf(user, sizeof(user), "{\"pk\": 3, \"password_change_date\": %lld.5}",
	         (long long)time(NULL) - 10 * 86400);
	pe = eval(f, "{\"days\": 5, \"deny_only\": true}", NULL);
	pe->pe_user = parse(f, user);
	assert_int_equal(cu_policy_password_expiry_eval(pe), CU_POLICY_FAIL);
	assert_string_equal(message(pe, 0), "Password has expired.");
	pe = eval(f, "{\"days\": 11, \"deny_only\": true}", NULL);
	pe->pe_user = parse(f, user);
	assert_int_equal(cu_policy_password_expiry_eval(pe), CU_POLICY_PASS);
	/* Without a user it cannot decide. */
	pe = eval(f, "{\"days\": 5}", NULL);
	assert_int_equal(cu_policy_password_expiry_eval(pe), CU_POLICY_ERROR);
}

static void
test_dummy_kind(void **state)
{
	struct fixture *f = *state;
	struct cu_policy_eval *pe;
	double t0;

	pe = eval(f, "{\"result\": true, \"wait_min\": 0, \"wait_max\": 1}", NULL);
	assert_int_equal(cu_policy_dummy_eval(pe), CU_POLICY_PASS);
	assert_string_equal(message(pe, 0), "dummy");
	/* The wait never outlasts the deadline. */
	pe = eval(f, "{\"result\": true, \"wait_min\": 20, \"wait_max\": 30}", NULL);
	t0 = cu_policy_now();
	pe->pe_deadline = t0 + 0.2;
	(void)cu_policy_dummy_eval(pe);
	assert_true(cu_policy_now() - t0 < 1.0);
	assert_true(cu_policy_now() > pe->pe_deadline);
	pe = eval(f, "{\"wait_min\": 3, \"wait_max\": 3}", NULL);
	assert_int_equal(cu_policy_dummy_eval(pe), CU_POLICY_ERROR);
}

static void
test_event_matcher_kind(void **state)
{
	struct fixture *f = *state;
	struct cu_policy_eval *pe;

	pe = eval(f, "{\"action\": \"login\"}", "{\"event\": {\"action\": \"login\"}}");
	assert_int_equal(cu_policy_event_matcher_eval(pe), CU_POLICY_PASS);
	pe = eval(f, "{\"action\": \"logout\"}", "{\"event\": {\"action\": \"login\"}}");
	assert_int_equal(cu_policy_event_matcher_eval(pe), CU_POLICY_FAIL);
	pe = eval(f, "{\"action\": \"login\"}", "{}");
	assert_int_equal(cu_policy_event_matcher_eval(pe), CU_POLICY_FAIL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_each_field),
	    cmocka_unit_test(test_all_must_match),
	    cmocka_unit_test(test_missing_parts),
	    cmocka_unit_test(test_wrong_types),
	    cmocka_unit_test_setup_teardown(test_password_kind, kind_setup, kind_teardown),
	    cmocka_unit_test_setup_teardown(test_unique_password_kind, kind_setup, kind_teardown),
	    cmocka_unit_test_setup_teardown(test_expiry_kind, kind_setup, kind_teardown),
	    cmocka_unit_test_setup_teardown(test_dummy_kind, kind_setup, kind_teardown),
	    cmocka_unit_test_setup_teardown(test_event_matcher_kind, kind_setup, kind_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
