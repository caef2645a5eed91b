/* lib/sessions.c: the session cookie's signature, the CSRF token check, and the cookies the flow
 * executor sets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "arena.h"
#include "config.h"
#include "http.h"
#include "server.h"
#include "sessions.h"

struct fixture {
	struct cu_arena f_arena;
	struct cu_config f_cfg;
	struct cu_http_request f_req;
	struct cu_kv f_cookies[2];
	struct cu_kv f_headers[1];
	struct cu_http_response f_resp;
	struct cu_ctx f_cx;
};

static struct fixture fx;
static char key_tests[] = "a secret key for tests";
static char key_other[] = "another key";

static int
setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	cu_arena_init(&fx.f_arena);
	fx.f_cfg.secret_key = key_tests;
	fx.f_cx.cx_cfg = &fx.f_cfg;
	fx.f_cx.cx_arena = &fx.f_arena;
	fx.f_cx.cx_req = &fx.f_req;
	fx.f_req.rq_cookies = fx.f_cookies;
	fx.f_req.rq_headers = fx.f_headers;
	cu_http_response_init(&fx.f_resp);
	fx.f_cx.cx_resp = &fx.f_resp;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cu_http_response_free(&fx.f_resp);
	cu_arena_free(&fx.f_arena);
	return 0;
}

static void
set_cookie(const char *name, const char *value)
{
	fx.f_cookies[fx.f_req.rq_ncookies].kv_key = name;
	fx.f_cookies[fx.f_req.rq_ncookies].kv_val = value;
	fx.f_cookies[fx.f_req.rq_ncookies].kv_vlen = strlen(value);
	fx.f_req.rq_ncookies++;
}

static void
set_csrf_header(const char *value)
{
	fx.f_headers[0].kv_key = CU_SESSIONS_CSRF_HEADER;
	fx.f_headers[0].kv_val = value;
	fx.f_headers[0].kv_vlen = strlen(value);
	fx.f_req.rq_nheaders = 1;
}

static void
test_cookie_round_trip(void **state)
{
	const char *sid = "0123456789abcdef0123456789abcdef";
	const char *v;

	(void)state;
	v = cu_sessions_cookie_value(&fx.f_cx, sid, "uid", 1);
	set_cookie(CU_SESSIONS_COOKIE, v);
	assert_non_null(cu_sessions_cookie_sid(&fx.f_cx));
	assert_string_equal(cu_sessions_cookie_sid(&fx.f_cx), sid);
}

static void
test_cookie_refused(void **state)
{
	const char *sid = "0123456789abcdef0123456789abcdef";
	char *bad;
	size_t len;

	(void)state;
	/* Not authenticated: a flow still running is no API login. */
	set_cookie(CU_SESSIONS_COOKIE, cu_sessions_cookie_value(&fx.f_cx, sid, "x", 0));
	assert_null(cu_sessions_cookie_sid(&fx.f_cx));
	/* Another secret_key signed it. */
	fx.f_req.rq_ncookies = 0;
	fx.f_cfg.secret_key = key_other;
	bad = cu_arena_strdup(&fx.f_arena, cu_sessions_cookie_value(&fx.f_cx, sid, "x", 1));
	fx.f_cfg.secret_key = key_tests;
	set_cookie(CU_SESSIONS_COOKIE, bad);
	assert_null(cu_sessions_cookie_sid(&fx.f_cx));
	/* One character of the signature changed. */
	bad = cu_arena_strdup(&fx.f_arena, cu_sessions_cookie_value(&fx.f_cx, sid, "x", 1));
	len = strlen(bad);
	bad[len - 3] = bad[len - 3] == 'A' ? 'B' : 'A';
	fx.f_req.rq_ncookies = 0;
	set_cookie(CU_SESSIONS_COOKIE, bad);
	assert_null(cu_sessions_cookie_sid(&fx.f_cx));
	/* Shapes that are no JWT at all. */
	const char *junk[] = {"", ".", "..", "a.b.c", "a.b", "x.y.z.w", "....", "%%%.%%%.%%%"};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		fx.f_req.rq_ncookies = 0;
		set_cookie(CU_SESSIONS_COOKIE, junk[i]);
		assert_null(cu_sessions_cookie_sid(&fx.f_cx));
	}
	fx.f_req.rq_ncookies = 0;
	assert_null(cu_sessions_cookie_sid(&fx.f_cx));
}

static void
test_csrf(void **state)
{
	const char *secret = "abcdefghijklmnopqrstuvwxyzABCDEF";
	/* The same secret masked with mask "bbbb...": each character shifted by one. */
	const char *masked = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	                     "bcdefghijklmnopqrstuvwxyzABCDEFG";

	(void)state;
	assert_false(cu_sessions_csrf_ok(&fx.f_cx));
	set_cookie(CU_SESSIONS_CSRF_COOKIE, secret);
	assert_false(cu_sessions_csrf_ok(&fx.f_cx));
	set_csrf_header(secret);
	assert_true(cu_sessions_csrf_ok(&fx.f_cx));
	set_csrf_header(masked);
	assert_true(cu_sessions_csrf_ok(&fx.f_cx));
	set_csrf_header("bcdefghijklmnopqrstuvwxyzABCDEFG");
	assert_false(cu_sessions_csrf_ok(&fx.f_cx));
	set_csrf_header("abcdefghijklmnopqrstuvwxyzABCDE");
	assert_false(cu_sessions_csrf_ok(&fx.f_cx));
	set_csrf_header("abcdefghijklmnopqrstuvwxyzABCDE!");
	assert_false(cu_sessions_csrf_ok(&fx.f_cx));
	set_csrf_header("");
	assert_false(cu_sessions_csrf_ok(&fx.f_cx));
}

static void
test_cookie_any(void **state)
{
	const char *sid = "0123456789abcdef0123456789abcdef";
	int authenticated = -1;

	(void)state;
	set_cookie(CU_SESSIONS_COOKIE, cu_sessions_cookie_value(&fx.f_cx, sid, "anonymous", 0));
	assert_string_equal(cu_sessions_cookie_any(&fx.f_cx, &authenticated), sid);
	assert_int_equal(authenticated, 0);
	fx.f_req.rq_ncookies = 0;
	set_cookie(CU_SESSIONS_COOKIE, cu_sessions_cookie_value(&fx.f_cx, sid, "u", 1));
	assert_string_equal(cu_sessions_cookie_any(&fx.f_cx, &authenticated), sid);
	assert_int_equal(authenticated, 1);
	/* A signed cookie naming a key no session row can have is refused before any lookup. */
	fx.f_req.rq_ncookies = 0;
	set_cookie(CU_SESSIONS_COOKIE, cu_sessions_cookie_value(&fx.f_cx, "short", "u", 1));
	assert_null(cu_sessions_cookie_any(&fx.f_cx, &authenticated));
	assert_null(cu_sessions_cookie_sid(&fx.f_cx));
	fx.f_req.rq_ncookies = 0;
	assert_null(cu_sessions_cookie_any(&fx.f_cx, &authenticated));
}

/* The Set-Cookie header for name, or NULL. */
static const char *
set_cookie_header(const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < fx.f_resp.rs_nheaders; i++)
		if (strcmp(fx.f_resp.rs_headers[i].kv_key, "Set-Cookie") == 0 &&
		    strncmp(fx.f_resp.rs_headers[i].kv_val, name, n) == 0 &&
		    fx.f_resp.rs_headers[i].kv_val[n] == '=')
			return fx.f_resp.rs_headers[i].kv_val;
	return NULL;
}

static void
test_set_cookie_flags(void **state)
{
	char key[CU_SESSIONS_KEY_LEN + 1], other[CU_SESSIONS_KEY_LEN + 1];
	const char *h;
	size_t i;

	(void)state;
	cu_sessions_new_key(key);
	cu_sessions_new_key(other);
	assert_int_equal(strlen(key), CU_SESSIONS_KEY_LEN);
	assert_string_not_equal(key, other);
	for (i = 0; i < CU_SESSIONS_KEY_LEN; i++)
		assert_true((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= 'A' && key[i] <= 'Z') ||
		            (key[i] >= '0' && key[i] <= '9'));

	assert_int_equal(cu_sessions_set_cookie(&fx.f_cx, key, "anonymous", 0, 86400), 0);
	h = set_cookie_header(CU_SESSIONS_COOKIE);
	assert_non_null(h);
	assert_non_null(strstr(h, "; Path=/"));
	assert_non_null(strstr(h, "; Max-Age=86400"));
	assert_non_null(strstr(h, "; HttpOnly"));
	assert_non_null(strstr(h, "; SameSite=Lax"));
	assert_null(strstr(h, "Secure"));
	assert_null(strstr(h, "Domain="));

	/* HTTPS, a cookie domain, a browser session. */
	cu_http_response_reset(&fx.f_resp);
	fx.f_req.rq_https = 1;
	fx.f_cfg.cookie_domain = (char *)(uintptr_t) "example.com";
	assert_int_equal(cu_sessions_set_cookie(&fx.f_cx, key, "u", 1, -1), 0);
	h = set_cookie_header(CU_SESSIONS_COOKIE);
	assert_non_null(h);
	assert_non_null(strstr(h, "; Domain=example.com"));
	assert_non_null(strstr(h, "; Secure"));
	assert_non_null(strstr(h, "; SameSite=None"));
	assert_null(strstr(h, "Max-Age"));
	/* The value is a cookie this key signed, for that session. */
	fx.f_req.rq_ncookies = 0;
	set_cookie(CU_SESSIONS_COOKIE,
	           cu_arena_strndup(&fx.f_arena, h + strlen(CU_SESSIONS_COOKIE) + 1,
	                            (size_t)(strchr(h, ';') - h) - strlen(CU_SESSIONS_COOKIE) - 1));
	assert_string_equal(cu_sessions_cookie_sid(&fx.f_cx), key);
}

static void
test_ensure_csrf(void **state)
{
	const char *h;
	char value[64];

	(void)state;
	assert_int_equal(cu_sessions_ensure_csrf(&fx.f_cx), 0);
	h = set_cookie_header(CU_SESSIONS_CSRF_COOKIE);
	assert_non_null(h);
	assert_null(strstr(h, "HttpOnly"));
	assert_non_null(strstr(h, "; Max-Age=31449600"));
	/* The value is a secret the CSRF check takes back. */
	assert_true(strchr(h, ';') - h - 15 == 32);
	memcpy(value, h + 15, 32);
	value[32] = '\0';
	set_cookie(CU_SESSIONS_CSRF_COOKIE, cu_arena_strdup(&fx.f_arena, value));
	set_csrf_header(cu_arena_strdup(&fx.f_arena, value));
	assert_true(cu_sessions_csrf_ok(&fx.f_cx));
	/* Present and valid: not set again. */
	cu_http_response_reset(&fx.f_resp);
	assert_int_equal(cu_sessions_ensure_csrf(&fx.f_cx), 0);
	assert_null(set_cookie_header(CU_SESSIONS_CSRF_COOKIE));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cookie_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cookie_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_csrf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cookie_any, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_cookie_flags, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ensure_csrf, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
