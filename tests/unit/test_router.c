/*
 * lib/router.c: method and pattern matching, path parameters, and patterns that must match
 * nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "arena.h"
#include "http.h"
#include "bounds.h"
#include "router.h"

static void
h_any(struct cu_ctx *cx)
{
	(void)cx;
}

enum {
	R_LIVE,
	R_USERS,
	R_USER_GET,
	R_USER_PUT,
	R_USER_DELETE,
	R_EXECUTOR,
	R_STATIC,
	R_TOKEN,
	R_MEMBER,
	R_ROOT,
	R_SHADOWED,
	R__MAX
};

static const struct cu_route routes[R__MAX] = {
    [R_LIVE] = {CU_HTTP_GET, "/-/health/live/", h_any, 0},
    [R_USERS] = {CU_HTTP_GET | CU_HTTP_POST, "/api/v3/core/users/", h_any, 0},
    [R_USER_GET] = {CU_HTTP_GET, "/api/v3/core/users/{id}/", h_any, 0},
    [R_USER_PUT] = {CU_HTTP_PUT | CU_HTTP_PATCH, "/api/v3/core/users/{id}/", h_any, 0},
    [R_USER_DELETE] = {CU_HTTP_DELETE, "/api/v3/core/users/{pk}/", h_any, 0},
    [R_EXECUTOR] = {CU_HTTP_GET | CU_HTTP_POST, "/api/v3/flows/executor/{slug}/", h_any, 0},
    [R_STATIC] = {CU_HTTP_GET, "/static/{path*}", h_any, 0},
    [R_TOKEN] = {CU_HTTP_POST, "/application/o/token/", h_any, 0},
    [R_MEMBER] = {CU_HTTP_GET, "/api/v3/core/groups/{group}/users/{user}/", h_any, 0},
    [R_ROOT] = {CU_HTTP_GET, "/", h_any, 0},
    /* Same pattern and method as R_LIVE: never reached, the first match wins. */
    [R_SHADOWED] = {CU_HTTP_GET, "/-/health/live/", h_any, 0},
};

struct fixture {
	struct cu_arena fx_arena;
	struct cu_route_match fx_m;
};

static int
setup(void **state)
{
	struct fixture *fx = test_calloc(1, sizeof(*fx));

	cu_arena_init(&fx->fx_arena);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	cu_arena_free(&fx->fx_arena);
	test_free(fx);
	return 0;
}

static enum cu_err
match(struct fixture *fx, unsigned method, const char *path)
{
	return cu_router_match(routes, R__MAX, method, path, &fx->fx_arena, &fx->fx_m);
}

static void
expect_route(struct fixture *fx, unsigned method, const char *path, int idx)
{
	assert_int_equal(match(fx, method, path), CU_OK);
	assert_ptr_equal(fx->fx_m.rm_route, &routes[idx]);
	assert_int_equal(fx->fx_m.rm_allowed, 0);
}

static void
test_literal(void **state)
{
	struct fixture *fx = *state;

	expect_route(fx, CU_HTTP_GET, "/-/health/live/", R_LIVE);
	assert_int_equal(fx->fx_m.rm_nparams, 0);
	expect_route(fx, CU_HTTP_GET, "/", R_ROOT);
	expect_route(fx, CU_HTTP_POST, "/api/v3/core/users/", R_USERS);
	expect_route(fx, CU_HTTP_POST, "/application/o/token/", R_TOKEN);

	assert_int_equal(match(fx, CU_HTTP_GET, "/-/health/live"), CU_ERR_NOT_FOUND);
	assert_int_equal(match(fx, CU_HTTP_GET, "/-/health/live//"), CU_ERR_NOT_FOUND);
	assert_int_equal(match(fx, CU_HTTP_GET, "/-/health/LIVE/"), CU_ERR_NOT_FOUND);
	assert_int_equal(match(fx, CU_HTTP_GET, "//-/health/live/"), CU_ERR_NOT_FOUND);
	assert_int_equal(match(fx, CU_HTTP_GET, "/-/health/live/x"), CU_ERR_NOT_FOUND);
	assert_int_equal(match(fx, CU_HTTP_GET, "/-/health/"), CU_ERR_NOT_FOUND);
	assert_int_equal(match(fx, CU_HTTP_GET, ""), CU_ERR_NOT_FOUND);
	assert_int_equal(match(fx, CU_HTTP_GET, "-/health/live/"), CU_ERR_NOT_FOUND);
	assert_int_equal(match(fx, CU_HTTP_GET, NULL), CU_ERR_NOT_FOUND);
	assert_null(fx->fx_m.rm_route);
	assert_int_equal(match(fx, CU_HTTP_GET, "/x"), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_router_match(NULL, 0, CU_HTTP_GET, "/", &fx->fx_arena, &fx->fx_m),
	                 CU_ERR_NOT_FOUND);
}

static void
test_head_implied(void **state)
{
	struct fixture *fx = *state;

	expect_route(fx, CU_HTTP_HEAD, "/-/health/live/", R_LIVE);
	expect_route(fx, CU_HTTP_HEAD, "/api/v3/core/users/7/", R_USER_GET);
	/* POST does not imply HEAD. */
	assert_int_equal(match(fx, CU_HTTP_HEAD, "/application/o/token/"), CU_ERR_METHOD);
	assert_int_equal(fx->fx_m.rm_allowed, CU_HTTP_POST);
}

static void
test_params(void **state)
{
	struct fixture *fx = *state;
	char path[] = "/api/v3/core/users/42/";
	const char *id;

	assert_int_equal(match(fx, CU_HTTP_GET, path), CU_OK);
	assert_int_equal(fx->fx_m.rm_nparams, 1);
	assert_string_equal(fx->fx_m.rm_params[0].rp_name, "id");
	id = cu_route_param(&fx->fx_m, "id");
	assert_string_equal(id, "42");
	/* Copied into the arena, not pointing into the path. */
	assert_true(id < path || id >= path + sizeof(path));
	memset(path, 'x', sizeof(path) - 1);
	assert_string_equal(cu_route_param(&fx->fx_m, "id"), "42");
	assert_null(cu_route_param(&fx->fx_m, "pk"));
	assert_null(cu_route_param(&fx->fx_m, NULL));

	expect_route(fx, CU_HTTP_GET, "/api/v3/core/groups/g-1/users/u%2/", R_MEMBER);
	assert_int_equal(fx->fx_m.rm_nparams, 2);
	assert_string_equal(cu_route_param(&fx->fx_m, "group"), "g-1");
	assert_string_equal(cu_route_param(&fx->fx_m, "user"), "u%2");

	/* A decoded path may carry anything but '/' in a segment. */
	expect_route(fx, CU_HTTP_GET, "/api/v3/core/users/a b?c=d/", R_USER_GET);
	assert_string_equal(cu_route_param(&fx->fx_m, "id"), "a b?c=d");

	assert_int_equal(match(fx, CU_HTTP_GET, "/api/v3/core/users//"), CU_ERR_NOT_FOUND);
	assert_int_equal(match(fx, CU_HTTP_GET, "/api/v3/core/users/42"), CU_ERR_NOT_FOUND);
	assert_int_equal(match(fx, CU_HTTP_GET, "/api/v3/core/users/4/2/"), CU_ERR_NOT_FOUND);
	assert_int_equal(match(fx, CU_HTTP_GET, "/api/v3/core/groups/g/users//"), CU_ERR_NOT_FOUND);
}

static void
test_segment_limit(void **state)
{
	struct fixture *fx = *state;
	char path[CU_ROUTER_MAX_SEGMENT + 64];
	size_t pre = strlen("/api/v3/core/users/");

	memcpy(path, "/api/v3/core/users/", pre);
	memset(path + pre, 'a', CU_ROUTER_MAX_SEGMENT);
	memcpy(path + pre + CU_ROUTER_MAX_SEGMENT, "/", 2);
	assert_int_equal(match(fx, CU_HTTP_GET, path), CU_OK);
	assert_int_equal(strlen(cu_route_param(&fx->fx_m, "id")), CU_ROUTER_MAX_SEGMENT);

	memset(path + pre, 'a', CU_ROUTER_MAX_SEGMENT + 1);
	memcpy(path + pre + CU_ROUTER_MAX_SEGMENT + 1, "/", 2);
	assert_int_equal(match(fx, CU_HTTP_GET, path), CU_ERR_NOT_FOUND);
}

static void
test_tail(void **state)
{
	struct fixture *fx = *state;

	expect_route(fx, CU_HTTP_GET, "/static/dist/js/app.js", R_STATIC);
	assert_string_equal(cu_route_param(&fx->fx_m, "path"), "dist/js/app.js");
	assert_string_equal(fx->fx_m.rm_params[0].rp_name, "path");
	expect_route(fx, CU_HTTP_GET, "/static/a//b/", R_STATIC);
	assert_string_equal(cu_route_param(&fx->fx_m, "path"), "a//b/");
	expect_route(fx, CU_HTTP_GET, "/static//", R_STATIC);
	assert_string_equal(cu_route_param(&fx->fx_m, "path"), "/");
	/* The tail is not empty. */
	assert_int_equal(match(fx, CU_HTTP_GET, "/static/"), CU_ERR_NOT_FOUND);
	assert_int_equal(match(fx, CU_HTTP_GET, "/static"), CU_ERR_NOT_FOUND);
}

static void
test_method(void **state)
{
	struct fixture *fx = *state;
	const char *allow;

	/* Several routes share the pattern: the one with the method is found. */
	expect_route(fx, CU_HTTP_GET, "/api/v3/core/users/1/", R_USER_GET);
	expect_route(fx, CU_HTTP_PATCH, "/api/v3/core/users/1/", R_USER_PUT);
	assert_string_equal(cu_route_param(&fx->fx_m, "id"), "1");
	expect_route(fx, CU_HTTP_DELETE, "/api/v3/core/users/1/", R_USER_DELETE);
	assert_string_equal(cu_route_param(&fx->fx_m, "pk"), "1");
	assert_null(cu_route_param(&fx->fx_m, "id"));

	assert_int_equal(match(fx, CU_HTTP_POST, "/api/v3/core/users/1/"), CU_ERR_METHOD);
	assert_null(fx->fx_m.rm_route);
	assert_int_equal(fx->fx_m.rm_nparams, 0);
	assert_int_equal(fx->fx_m.rm_allowed,
	                 CU_HTTP_GET | CU_HTTP_HEAD | CU_HTTP_PUT | CU_HTTP_PATCH | CU_HTTP_DELETE);
	allow = cu_router_allow(&fx->fx_arena, fx->fx_m.rm_allowed);
	assert_string_equal(allow, "GET, HEAD, PUT, PATCH, DELETE");

	assert_int_equal(match(fx, CU_HTTP_GET, "/application/o/token/"), CU_ERR_METHOD);
	assert_int_equal(fx->fx_m.rm_allowed, CU_HTTP_POST);
	assert_int_equal(match(fx, CU_HTTP_OPTIONS, "/static/x"), CU_ERR_METHOD);
	assert_int_equal(fx->fx_m.rm_allowed, CU_HTTP_GET | CU_HTTP_HEAD);
	/* An unknown method (0) matches no route, and the path is still known. */
	assert_int_equal(match(fx, 0, "/-/health/live/"), CU_ERR_METHOD);
	assert_int_equal(fx->fx_m.rm_allowed, CU_HTTP_GET | CU_HTTP_HEAD);
	/* A method mismatch on one path says nothing about an unknown one. */
	assert_int_equal(match(fx, CU_HTTP_DELETE, "/nope/"), CU_ERR_NOT_FOUND);
	assert_int_equal(fx->fx_m.rm_allowed, 0);
}

static void
test_first_wins(void **state)
{
	struct fixture *fx = *state;

	expect_route(fx, CU_HTTP_GET, "/-/health/live/", R_LIVE);
}

static void
test_match_resets(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(match(fx, CU_HTTP_GET, "/api/v3/core/groups/a/users/b/"), CU_OK);
	assert_int_equal(fx->fx_m.rm_nparams, 2);
	assert_int_equal(match(fx, CU_HTTP_GET, "/-/health/live/"), CU_OK);
	assert_int_equal(fx->fx_m.rm_nparams, 0);
	assert_null(cu_route_param(&fx->fx_m, "group"));
	assert_int_equal(match(fx, CU_HTTP_POST, "/-/health/live/"), CU_ERR_METHOD);
	assert_int_equal(match(fx, CU_HTTP_GET, "/-/health/live/"), CU_OK);
	assert_int_equal(fx->fx_m.rm_allowed, 0);
}

static void
test_bad_patterns(void **state)
{
	static const struct cu_route bad[] = {
	    {CU_HTTP_GET, "/a/{}/", h_any, 0},
	    {CU_HTTP_GET, "/b/{*}", h_any, 0},
	    {CU_HTTP_GET, "/c/{rest*}/x", h_any, 0},
	    {CU_HTTP_GET, "/d/{a{b}/", h_any, 0},
	    {CU_HTTP_GET, "no-slash", h_any, 0},
	    {CU_HTTP_GET, NULL, h_any, 0},
	    {CU_HTTP_GET, "", h_any, 0},
	    {CU_HTTP_GET, "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}/", h_any, 0},
	};
	static const char *const paths[] = {
	    "/a/x/",  "/a/{}/",   "/b/x",
	    "/b/{*}", "/c/y/x",   "/c/{rest*}/x",
	    "/d/x/",  "no-slash", "/1/2/3/4/5/6/7/8/9/",
	    "",
	};
	static const struct cu_route eight[] = {
	    {CU_HTTP_GET, "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h*}", h_any, 0},
	};
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		assert_int_equal(cu_router_match(bad, sizeof(bad) / sizeof(bad[0]), CU_HTTP_GET,
		                                 paths[i], &fx->fx_arena, &fx->fx_m),
		                 CU_ERR_NOT_FOUND);

	/* Exactly CU_ROUTER_MAX_PARAMS parameters is allowed. */
	assert_int_equal(
	    cu_router_match(eight, 1, CU_HTTP_GET, "/1/2/3/4/5/6/7/8/9", &fx->fx_arena, &fx->fx_m),
	    CU_OK);
	assert_int_equal(fx->fx_m.rm_nparams, CU_ROUTER_MAX_PARAMS);
	assert_string_equal(cu_route_param(&fx->fx_m, "a"), "1");
	assert_string_equal(cu_route_param(&fx->fx_m, "h"), "8/9");
}

static void
test_literal_braces(void **state)
{
	static const struct cu_route r[] = {
	    {CU_HTTP_GET, "/x/{a}b/", h_any, 0},
	};
	struct fixture *fx = *state;

	/* Not a whole-segment placeholder: matched as literal text. */
	assert_int_equal(cu_router_match(r, 1, CU_HTTP_GET, "/x/{a}b/", &fx->fx_arena, &fx->fx_m),
	                 CU_OK);
	assert_int_equal(fx->fx_m.rm_nparams, 0);
	assert_int_equal(cu_router_match(r, 1, CU_HTTP_GET, "/x/zb/", &fx->fx_arena, &fx->fx_m),
	                 CU_ERR_NOT_FOUND);
}

static void
test_allow(void **state)
{
	struct fixture *fx = *state;
	struct cu_arena *a = &fx->fx_arena;

	assert_string_equal(cu_router_allow(a, 0), "");
	assert_string_equal(cu_router_allow(a, CU_HTTP_GET), "GET, HEAD");
	assert_string_equal(cu_router_allow(a, CU_HTTP_POST), "POST");
	assert_string_equal(cu_router_allow(a, CU_HTTP_OPTIONS | CU_HTTP_POST), "POST, OPTIONS");
	assert_string_equal(cu_router_allow(a, ~0u),
	                    "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_literal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_head_implied, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_params, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_segment_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_method, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_first_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_match_resets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_patterns, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_literal_braces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_allow, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
