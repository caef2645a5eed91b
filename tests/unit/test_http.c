/*
 * lib/http.c against hostile input: every parser is pushed past its limits from lib/bounds.h
 * and fed malformed encodings, and the writer's output is compared byte for byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "arena.h"
#include "buf.h"
#include "http.h"
#include "bounds.h"

/* An environment built in the arena: NULL-terminated, like environ. */
struct env {
	char *ev_vars[512];
	size_t ev_n;
};

static void
env_add(struct env *e, struct cu_arena *a, const char *name, const char *value)
{
	assert_true(e->ev_n + 1 < sizeof(e->ev_vars) / sizeof(e->ev_vars[0]));
	e->ev_vars[e->ev_n++] = cu_arena_printf(a, "%s=%s", name, value);
	e->ev_vars[e->ev_n] = NULL;
}

static void
env_get(struct env *e, struct cu_arena *a, const char *uri)
{
	e->ev_n = 0;
	e->ev_vars[0] = NULL;
	env_add(e, a, "REQUEST_METHOD", "GET");
	if (uri != NULL)
		env_add(e, a, "REQUEST_URI", uri);
	env_add(e, a, "REMOTE_ADDR", "192.0.2.7");
}

/* A string of n copies of c, arena-owned. */
static char *
repeat(struct cu_arena *a, char c, size_t n)
{
	char *s = cu_arena_alloc(a, n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* A body source that hands out at most mr_chunk bytes per call, or fails. */
struct mem_reader {
	const char *mr_data;
	size_t mr_len;
	size_t mr_pos;
	size_t mr_chunk;
	int mr_calls;
	int mr_fail;
};

static long
mem_read(void *ctx, void *p, size_t n)
{
	struct mem_reader *mr = ctx;
	size_t k = mr->mr_len - mr->mr_pos;

	mr->mr_calls++;
	if (mr->mr_fail)
		return -1;
	if (k > n)
		k = n;
	if (mr->mr_chunk > 0 && k > mr->mr_chunk)
		k = mr->mr_chunk;
	memcpy(p, mr->mr_data + mr->mr_pos, k);
	mr->mr_pos += k;
	return (long)k;
}

struct sink {
	struct cu_buf sk_out;
	int sk_fail_at; /* fail the n-th write (1-based); 0 never */
	int sk_calls;
};

static int
sink_write(void *ctx, const void *p, size_t n)
{
	struct sink *s = ctx;

	s->sk_calls++;
	if (s->sk_fail_at == s->sk_calls)
		return -1;
	return cu_buf_append(&s->sk_out, p, n);
}

struct fixture {
	struct cu_arena fx_arena;
	struct cu_http_request fx_req;
	struct cu_http_response fx_resp;
	struct env fx_env;
	struct sink fx_sink;
};

static int
setup(void **state)
{
	struct fixture *fx = test_calloc(1, sizeof(*fx));

	cu_arena_init(&fx->fx_arena);
	cu_http_response_init(&fx->fx_resp);
	cu_buf_init(&fx->fx_sink.sk_out, 1 << 20);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	cu_buf_free(&fx->fx_sink.sk_out);
	cu_http_response_free(&fx->fx_resp);
	cu_arena_free(&fx->fx_arena);
	test_free(fx);
	return 0;
}

static enum cu_err
decode(struct cu_arena *a, const char *s, int plus, char **out, size_t *len)
{
	return cu_http_percent_decode(a, s, strlen(s), plus, out, len);
}

/* ---- percent-decoding ---- */

static void
test_percent_ok(void **state)
{
	struct fixture *fx = *state;
	struct cu_arena *a = &fx->fx_arena;
	char *out;
	size_t len;

	assert_int_equal(decode(a, "a%20b%2fc%2F", 0, &out, &len), CU_OK);
	assert_string_equal(out, "a b/c/");
	assert_int_equal(len, 6);
	assert_int_equal(decode(a, "a+b%2B", 0, &out, &len), CU_OK);
	assert_string_equal(out, "a+b+");
	assert_int_equal(decode(a, "a+b%2B", 1, &out, &len), CU_OK);
	assert_string_equal(out, "a b+");
	assert_int_equal(decode(a, "", 1, &out, &len), CU_OK);
	assert_string_equal(out, "");
	assert_int_equal(len, 0);
	assert_int_equal(decode(a, "%C3%A9%ff", 0, &out, &len), CU_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(out, "\xc3\xa9\xff", 3);
	/* Only n bytes are read: the '%' past n is not seen. */
	assert_int_equal(cu_http_percent_decode(a, "ab%", 2, 0, &out, &len), CU_OK);
	assert_string_equal(out, "ab");
}

static void
test_percent_bad(void **state)
{
	static const char *const bad[] = {
	    "%", "%4", "%zz", "%4g", "%g4", "a%", "a%0", "%00", "a%00b", "%%41", "%-1", "% 1",
	};
	struct fixture *fx = *state;
	char *out = (char *)1;
	size_t i, len = 99;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(decode(&fx->fx_arena, bad[i], 0, &out, &len), CU_ERR_INVALID);
		assert_null(out);
		assert_int_equal(len, 0);
	}
	/* An escape cut by the length is bad even when the bytes after it would complete it. */
	assert_int_equal(cu_http_percent_decode(&fx->fx_arena, "a%41", 3, 0, &out, &len),
	                 CU_ERR_INVALID);
	assert_int_equal(cu_http_percent_decode(&fx->fx_arena, "a%41", 2, 0, &out, &len),
	                 CU_ERR_INVALID);
	/* A raw NUL inside the given length is refused like %00. */
	assert_int_equal(cu_http_percent_decode(&fx->fx_arena, "a\0b", 3, 0, &out, &len),
	                 CU_ERR_INVALID);
}

/* ---- urlencoded ---- */

static void
test_urlencoded_pairs(void **state)
{
	struct fixture *fx = *state;
	struct cu_arena *a = &fx->fx_arena;
	const char *s = "a=1&&b=x+y%2Bz&flag&=empty&c=d=e&a=2&";
	struct cu_kv *kv;
	size_t n;

	assert_int_equal(cu_http_parse_urlencoded(a, s, strlen(s), 10, &kv, &n), CU_OK);
	assert_int_equal(n, 6);
	assert_string_equal(kv[0].kv_key, "a");
	assert_string_equal(kv[0].kv_val, "1");
	assert_string_equal(kv[1].kv_key, "b");
	assert_string_equal(kv[1].kv_val, "x y+z");
	assert_int_equal(kv[1].kv_vlen, 5);
	assert_string_equal(kv[2].kv_key, "flag");
	assert_string_equal(kv[2].kv_val, "");
	assert_int_equal(kv[2].kv_vlen, 0);
	assert_string_equal(kv[3].kv_key, "");
	assert_string_equal(kv[3].kv_val, "empty");
	assert_string_equal(kv[4].kv_key, "c");
	assert_string_equal(kv[4].kv_val, "d=e");
	assert_string_equal(kv[5].kv_key, "a");
	assert_string_equal(kv[5].kv_val, "2");

	/* ';' is not a separator (WHATWG): it stays in the value. */
	s = "a=1;b=2";
	assert_int_equal(cu_http_parse_urlencoded(a, s, strlen(s), 10, &kv, &n), CU_OK);
	assert_int_equal(n, 1);
	assert_string_equal(kv[0].kv_val, "1;b=2");

	s = "&&&";
	assert_int_equal(cu_http_parse_urlencoded(a, s, strlen(s), 10, &kv, &n), CU_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cu_http_parse_urlencoded(a, "", 0, 10, &kv, &n), CU_OK);
	assert_int_equal(n, 0);

	s = "a+key=v&k%20x=1";
	assert_int_equal(cu_http_parse_urlencoded(a, s, strlen(s), 10, &kv, &n), CU_OK);
	assert_string_equal(kv[0].kv_key, "a key");
	assert_string_equal(kv[1].kv_key, "k x");
}

static void
test_urlencoded_bad(void **state)
{
	static const char *const bad[] = {"a=%zz", "a%=1", "a=%00", "ok=1&b=%4", "%=x", "x=%"};
	struct fixture *fx = *state;
	struct cu_kv *kv;
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    cu_http_parse_urlencoded(&fx->fx_arena, bad[i], strlen(bad[i]), 10, &kv, &n),
		    CU_ERR_INVALID);
		assert_null(kv);
		assert_int_equal(n, 0);
	}
	assert_int_equal(cu_http_parse_urlencoded(&fx->fx_arena, "a=1\0b=2", 7, 10, &kv, &n),
	                 CU_ERR_INVALID);
}

static void
test_urlencoded_max(void **state)
{
	struct fixture *fx = *state;
	struct cu_kv *kv;
	size_t n;

	assert_int_equal(cu_http_parse_urlencoded(&fx->fx_arena, "a&b", 3, 2, &kv, &n), CU_OK);
	assert_int_equal(n, 2);
	/* The pair count is checked before decoding: a bad escape past the limit is not what
	 * the caller hears about. */
	assert_int_equal(cu_http_parse_urlencoded(&fx->fx_arena, "a&b&%zz", 7, 2, &kv, &n),
	                 CU_ERR_TOO_LARGE);
	assert_int_equal(n, 0);
	/* Empty pairs do not count. */
	assert_int_equal(cu_http_parse_urlencoded(&fx->fx_arena, "a&&&&b&", 7, 2, &kv, &n), CU_OK);
	assert_int_equal(cu_http_parse_urlencoded(&fx->fx_arena, "a", 1, 0, &kv, &n),
	                 CU_ERR_TOO_LARGE);
}

/* ---- cookies ---- */

static enum cu_err
cookies(struct fixture *fx, const char *s, struct cu_kv **kv, size_t *n)
{
	return cu_http_parse_cookies(&fx->fx_arena, s, strlen(s), kv, n);
}

static void
test_cookies_basic(void **state)
{
	struct fixture *fx = *state;
	struct cu_kv *kv;
	size_t n;

	assert_int_equal(cookies(fx, "sid=abc; theme=dark;x=1", &kv, &n), CU_OK);
	assert_int_equal(n, 3);
	assert_string_equal(kv[0].kv_key, "sid");
	assert_string_equal(kv[0].kv_val, "abc");
	assert_int_equal(kv[0].kv_vlen, 3);
	assert_string_equal(kv[1].kv_key, "theme");
	assert_string_equal(kv[2].kv_key, "x");

	/* Duplicates are kept in order. */
	assert_int_equal(cookies(fx, "sid=1; sid=2", &kv, &n), CU_OK);
	assert_int_equal(n, 2);
	assert_string_equal(kv[0].kv_val, "1");
	assert_string_equal(kv[1].kv_val, "2");

	/* Whitespace around names, values and separators is dropped. */
	assert_int_equal(cookies(fx, " \ta = 1 ;\tb=2 ;;  ", &kv, &n), CU_OK);
	assert_int_equal(n, 2);
	assert_string_equal(kv[0].kv_key, "a");
	assert_string_equal(kv[0].kv_val, "1");
	assert_string_equal(kv[1].kv_val, "2");

	assert_int_equal(cookies(fx, "", &kv, &n), CU_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cookies(fx, ";; ;", &kv, &n), CU_OK);
	assert_int_equal(n, 0);

	/* Base64 padding and UTF-8 survive. */
	assert_int_equal(cookies(fx, "t=YWJj==; u=\xc3\xa9t\xc3\xa9; e=", &kv, &n), CU_OK);
	assert_int_equal(n, 3);
	assert_string_equal(kv[0].kv_val, "YWJj==");
	assert_string_equal(kv[1].kv_val, "\xc3\xa9t\xc3\xa9");
	assert_string_equal(kv[2].kv_val, "");
	assert_int_equal(kv[2].kv_vlen, 0);
}

static void
test_cookies_quoted(void **state)
{
	struct fixture *fx = *state;
	struct cu_kv *kv;
	size_t n;

	assert_int_equal(
	    cookies(fx, "a=\"xyz\"; b=\"\"; c=\"x; d=x\"; e=\"x\"y\"; f=\"; g=ok", &kv, &n), CU_OK);
	assert_int_equal(n, 3);
	assert_string_equal(kv[0].kv_key, "a");
	assert_string_equal(kv[0].kv_val, "xyz");
	assert_int_equal(kv[0].kv_vlen, 3);
	assert_string_equal(kv[1].kv_key, "b");
	assert_string_equal(kv[1].kv_val, "");
	assert_string_equal(kv[2].kv_key, "g");
}

static void
test_cookies_malformed(void **state)
{
	struct fixture *fx = *state;
	struct cu_kv *kv;
	size_t n;

	/* Each bad pair is skipped; the good ones around it survive. */
	assert_int_equal(cookies(fx,
	                         "noequals; =v; a b=1; ok=1; sp=x y; bs=a\\b; cm=1,2; "
	                         "ctl=a\x01; del=a\x7f; n(x)=1; n@=1; last=2",
	                         &kv, &n),
	                 CU_OK);
	assert_int_equal(n, 2);
	assert_string_equal(kv[0].kv_key, "ok");
	assert_string_equal(kv[1].kv_key, "last");

	assert_int_equal(cu_http_parse_cookies(&fx->fx_arena, "a=1\0; b=2", 9, &kv, &n),
	                 CU_ERR_INVALID);
	assert_null(kv);
	assert_int_equal(n, 0);
}

static void
test_cookies_too_many(void **state)
{
	struct fixture *fx = *state;
	struct cu_buf b;
	struct cu_kv *kv;
	size_t i, n;

	cu_buf_init(&b, 1 << 16);
	for (i = 0; i < CU_HTTP_MAX_COOKIES; i++)
		assert_int_equal(cu_buf_printf(&b, "c%zu=%zu; junk; ", i, i), 0);
	assert_int_equal(cu_http_parse_cookies(&fx->fx_arena, b.bf_ptr, b.bf_len, &kv, &n), CU_OK);
	assert_int_equal(n, CU_HTTP_MAX_COOKIES);
	assert_string_equal(kv[CU_HTTP_MAX_COOKIES - 1].kv_key, "c63");
	assert_int_equal(cu_buf_puts(&b, "one=more"), 0);
	assert_int_equal(cu_http_parse_cookies(&fx->fx_arena, b.bf_ptr, b.bf_len, &kv, &n),
	                 CU_ERR_TOO_LARGE);
	cu_buf_free(&b);
}

/* ---- request ---- */

static void
test_request_basic(void **state)
{
	struct fixture *fx = *state;
	struct cu_arena *a = &fx->fx_arena;
	struct cu_http_request *rq = &fx->fx_req;
	struct env *e = &fx->fx_env;

	env_get(e, a, "/api/v3/core/users/?page=2&search=a+b&page=3");
	env_add(e, a, "QUERY_STRING", "page=2&search=a+b&page=3");
	env_add(e, a, "HTTP_HOST", "id.example.com");
	env_add(e, a, "HTTP_USER_AGENT", "curl/8");
	env_add(e, a, "HTTP_X_FORWARDED_FOR", "198.51.100.1");
	env_add(e, a, "GATEWAY_INTERFACE", "CGI/1.1");
	env_add(e, a, "NOEQUALS", "");
	e->ev_vars[e->ev_n - 1][8] = '\0'; /* "NOEQUALS" with no '=' at all */
	assert_int_equal(cu_http_request_parse(rq, a, e->ev_vars), CU_OK);

	assert_int_equal(rq->rq_method, CU_HTTP_GET);
	assert_string_equal(rq->rq_method_name, "GET");
	assert_string_equal(rq->rq_path, "/api/v3/core/users/");
	assert_string_equal(rq->rq_raw_path, "/api/v3/core/users/");
	assert_string_equal(rq->rq_query, "page=2&search=a+b&page=3");
	assert_int_equal(rq->rq_nargs, 3);
	assert_string_equal(cu_http_arg(rq, "page"), "2");
	assert_string_equal(cu_http_arg(rq, "search"), "a b");
	assert_null(cu_http_arg(rq, "PAGE"));
	assert_int_equal(rq->rq_nheaders, 3);
	assert_string_equal(cu_http_header(rq, "user-agent"), "curl/8");
	assert_string_equal(cu_http_header(rq, "User-Agent"), "curl/8");
	assert_string_equal(cu_http_header(rq, "x-forwarded-for"), "198.51.100.1");
	assert_null(cu_http_header(rq, "gateway-interface"));
	assert_null(cu_http_header(rq, NULL));
	assert_string_equal(rq->rq_host, "id.example.com");
	assert_string_equal(rq->rq_remote_addr, "192.0.2.7");
	assert_string_equal(rq->rq_content_type, "");
	assert_int_equal(rq->rq_content_length, -1);
	assert_int_equal(rq->rq_https, 0);
	assert_null(rq->rq_body);
	assert_int_equal(rq->rq_ncookies, 0);
	assert_null(cu_http_cookie(rq, "sid"));
	assert_int_equal(strlen(rq->rq_id), 32);
}

static void
test_request_copies(void **state)
{
	struct fixture *fx = *state;
	struct cu_arena *a = &fx->fx_arena;
	char uri[] = "REQUEST_URI=/x?y=1";
	char method[] = "REQUEST_METHOD=POST";
	char *envp[] = {method, uri, NULL};

	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, envp), CU_OK);
	/* The environment may be reused by the FastCGI library: nothing may point into it. */
	memset(uri, 'Z', sizeof(uri) - 1);
	memset(method, 'Z', sizeof(method) - 1);
	assert_string_equal(fx->fx_req.rq_path, "/x");
	assert_string_equal(fx->fx_req.rq_method_name, "POST");
	assert_int_equal(fx->fx_req.rq_method, CU_HTTP_POST);
	assert_string_equal(fx->fx_req.rq_query, "y=1");
	assert_string_equal(cu_http_arg(&fx->fx_req, "y"), "1");
}

static void
test_request_methods(void **state)
{
	static const struct {
		const char *name;
		enum cu_http_method m;
	} ok[] = {
	    {"GET", CU_HTTP_GET},
	    {"HEAD", CU_HTTP_HEAD},
	    {"POST", CU_HTTP_POST},
	    {"PUT", CU_HTTP_PUT},
	    {"PATCH", CU_HTTP_PATCH},
	    {"DELETE", CU_HTTP_DELETE},
	    {"OPTIONS", CU_HTTP_OPTIONS},
	    {"BREW", 0},
	    {"get", 0},
	};
	struct fixture *fx = *state;
	struct cu_arena *a = &fx->fx_arena;
	struct env *e = &fx->fx_env;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		e->ev_n = 0;
		env_add(e, a, "REQUEST_METHOD", ok[i].name);
		env_add(e, a, "REQUEST_URI", "/");
		assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
		assert_int_equal(fx->fx_req.rq_method, ok[i].m);
		assert_string_equal(fx->fx_req.rq_method_name, ok[i].name);
	}
	e->ev_n = 0;
	env_add(e, a, "REQUEST_METHOD", "G ET");
	env_add(e, a, "REQUEST_URI", "/");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_INVALID);
	e->ev_n = 0;
	env_add(e, a, "REQUEST_METHOD", "");
	env_add(e, a, "REQUEST_URI", "/");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_INVALID);
	e->ev_n = 0;
	env_add(e, a, "REQUEST_URI", "/");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_INVALID);
	/* Even a refused request has an id to log. */
	assert_int_equal(strlen(fx->fx_req.rq_id), 32);
	assert_non_null(fx->fx_req.rq_path);
	assert_non_null(fx->fx_req.rq_method_name);
	/* No environment at all. */
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, NULL), CU_ERR_INVALID);
}

static void
test_request_path_decoding(void **state)
{
	struct fixture *fx = *state;
	struct cu_arena *a = &fx->fx_arena;
	struct env *e = &fx->fx_env;

	env_get(e, a, "/if/flow/a%20b/%C3%A9+x/?next=%2F");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	assert_string_equal(fx->fx_req.rq_raw_path, "/if/flow/a%20b/%C3%A9+x/");
	/* '+' is a space only in forms and queries, never in a path. */
	assert_string_equal(fx->fx_req.rq_path, "/if/flow/a b/\xc3\xa9+x/");
	/* Without QUERY_STRING the query comes from REQUEST_URI. */
	assert_string_equal(fx->fx_req.rq_query, "next=%2F");
	assert_string_equal(cu_http_arg(&fx->fx_req, "next"), "/");
}

static void
test_request_path_bad(void **state)
{
	static const char *const bad[] = {
	    "/a%",  "/a%4", "/a%zz", "/a%00b",  "/%00",       "a/b",
	    "",     "*",    "?x=1",  "/../etc", "/a/../b",    "/a/%2e%2E/b",
	    "/./x", "/a/.", "/a/..", "/%2E/",   "http://h/x",
	};
	struct fixture *fx = *state;
	struct cu_arena *a = &fx->fx_arena;
	struct env *e = &fx->fx_env;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		env_get(e, a, bad[i]);
		assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_INVALID);
	}
	/* Dots inside a segment are fine. */
	env_get(e, a, "/.well-known/openid-configuration/..x/a..");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
}

static void
test_request_path_limits(void **state)
{
	struct fixture *fx = *state;
	struct cu_arena *a = &fx->fx_arena;
	struct env *e = &fx->fx_env;
	char *p;
	size_t i;

	p = repeat(a, 'a', CU_HTTP_MAX_PATH_LEN);
	p[0] = '/';
	env_get(e, a, p);
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	assert_int_equal(strlen(fx->fx_req.rq_path), CU_HTTP_MAX_PATH_LEN);

	p = repeat(a, 'a', CU_HTTP_MAX_PATH_LEN + 1);
	p[0] = '/';
	env_get(e, a, p);
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_TOO_LARGE);

	/* Encoded: short enough raw, one byte too long decoded. */
	p = repeat(a, 'a', 3 * (size_t)CU_HTTP_MAX_PATH_LEN);
	p[0] = '/';
	for (i = 0; i < CU_HTTP_MAX_PATH_LEN - 1; i++)
		memcpy(p + 1 + 3 * i, "%41", 3);
	env_get(e, a, p);
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_TOO_LARGE);

	/* Huge raw path: refused before decoding. */
	p = repeat(a, 'a', 100000);
	p[0] = '/';
	env_get(e, a, p);
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_TOO_LARGE);
}

static void
test_request_path_fallback(void **state)
{
	struct fixture *fx = *state;
	struct cu_arena *a = &fx->fx_arena;
	struct env *e = &fx->fx_env;

	env_get(e, a, NULL);
	env_add(e, a, "SCRIPT_NAME", "/api");
	env_add(e, a, "PATH_INFO", "/v3/x%41/");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	/* Already decoded by the web server: not decoded twice. */
	assert_string_equal(fx->fx_req.rq_path, "/api/v3/x%41/");

	env_get(e, a, NULL);
	env_add(e, a, "PATH_INFO", "/only");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	assert_string_equal(fx->fx_req.rq_path, "/only");

	env_get(e, a, NULL);
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_INVALID);

	env_get(e, a, NULL);
	env_add(e, a, "SCRIPT_NAME", "/a");
	env_add(e, a, "PATH_INFO", "/../b");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_INVALID);

	env_get(e, a, NULL);
	env_add(e, a, "SCRIPT_NAME", "/a");
	env_add(e, a, "PATH_INFO", repeat(a, 'b', CU_HTTP_MAX_PATH_LEN));
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_TOO_LARGE);
}

static void
test_request_query(void **state)
{
	struct fixture *fx = *state;
	struct cu_arena *a = &fx->fx_arena;
	struct env *e = &fx->fx_env;
	struct cu_buf b;
	char *q;
	size_t i;

	q = repeat(a, 'b', CU_HTTP_MAX_QUERY_LEN);
	q[0] = 'a';
	q[1] = '=';
	env_get(e, a, "/");
	env_add(e, a, "QUERY_STRING", q);
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	assert_int_equal(fx->fx_req.rq_nargs, 1);
	assert_int_equal(fx->fx_req.rq_args[0].kv_vlen, CU_HTTP_MAX_QUERY_LEN - 2);

	q = repeat(a, 'b', CU_HTTP_MAX_QUERY_LEN + 1);
	env_get(e, a, "/");
	env_add(e, a, "QUERY_STRING", q);
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_TOO_LARGE);

	/* Too long in REQUEST_URI, with no QUERY_STRING. */
	env_get(e, a, cu_arena_printf(a, "/?%s", q));
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_TOO_LARGE);

	cu_buf_init(&b, 1 << 16);
	for (i = 0; i < CU_HTTP_MAX_PARAMS; i++)
		assert_int_equal(cu_buf_printf(&b, "p%zu=1&", i), 0);
	env_get(e, a, "/");
	env_add(e, a, "QUERY_STRING", b.bf_ptr);
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	assert_int_equal(fx->fx_req.rq_nargs, CU_HTTP_MAX_PARAMS);
	assert_int_equal(cu_buf_puts(&b, "x=1"), 0);
	env_get(e, a, "/");
	env_add(e, a, "QUERY_STRING", b.bf_ptr);
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_TOO_LARGE);
	cu_buf_free(&b);

	env_get(e, a, "/");
	env_add(e, a, "QUERY_STRING", "a=%zz");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_INVALID);
	env_get(e, a, "/");
	env_add(e, a, "QUERY_STRING", "a=%00");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_INVALID);

	/* QUERY_STRING wins over what REQUEST_URI carries. */
	env_get(e, a, "/?a=uri");
	env_add(e, a, "QUERY_STRING", "a=env");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	assert_string_equal(cu_http_arg(&fx->fx_req, "a"), "env");
	env_get(e, a, "/");
	env_add(e, a, "QUERY_STRING", "");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	assert_string_equal(fx->fx_req.rq_query, "");
	assert_int_equal(fx->fx_req.rq_nargs, 0);
}

static void
test_request_header_limits(void **state)
{
	struct fixture *fx = *state;
	struct cu_arena *a = &fx->fx_arena;
	struct env *e = &fx->fx_env;
	size_t i;

	env_get(e, a, "/");
	for (i = 0; i < CU_HTTP_MAX_HEADERS; i++)
		env_add(e, a, cu_arena_printf(a, "HTTP_X_H%zu", i), "v");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	assert_int_equal(fx->fx_req.rq_nheaders, CU_HTTP_MAX_HEADERS);
	assert_string_equal(cu_http_header(&fx->fx_req, "x-h99"), "v");
	env_add(e, a, "HTTP_X_ONE_MORE", "v");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_TOO_LARGE);

	/* CONTENT_TYPE and CONTENT_LENGTH are headers too and count. */
	env_get(e, a, "/");
	for (i = 0; i < CU_HTTP_MAX_HEADERS - 1; i++)
		env_add(e, a, cu_arena_printf(a, "HTTP_X_H%zu", i), "v");
	env_add(e, a, "CONTENT_TYPE", "text/plain");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	assert_string_equal(cu_http_header(&fx->fx_req, "content-type"), "text/plain");
	env_add(e, a, "CONTENT_LENGTH", "0");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_TOO_LARGE);

	env_get(e, a, "/");
	env_add(e, a, "HTTP_X_BIG", repeat(a, 'v', CU_HTTP_MAX_HEADER_LEN));
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	env_get(e, a, "/");
	env_add(e, a, "HTTP_X_BIG", repeat(a, 'v', CU_HTTP_MAX_HEADER_LEN + 1));
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_TOO_LARGE);
	env_get(e, a, "/");
	env_add(e, a, "CONTENT_TYPE", repeat(a, 'v', CU_HTTP_MAX_HEADER_LEN + 1));
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_TOO_LARGE);

	/* Each header within its limit, all together past the total. */
	env_get(e, a, "/");
	for (i = 0; i < CU_HTTP_MAX_HEADERS_TOTAL / CU_HTTP_MAX_HEADER_LEN + 1; i++)
		env_add(e, a, cu_arena_printf(a, "HTTP_X_%zu", i),
		        repeat(a, 'v', CU_HTTP_MAX_HEADER_LEN));
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_TOO_LARGE);

	/* A big Cookie header is held to the same limits. */
	env_get(e, a, "/");
	env_add(e, a, "HTTP_COOKIE", repeat(a, 'c', CU_HTTP_MAX_HEADER_LEN + 1));
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_TOO_LARGE);
}

static void
test_request_header_names(void **state)
{
	struct fixture *fx = *state;
	struct cu_arena *a = &fx->fx_arena;
	struct env *e = &fx->fx_env;

	env_get(e, a, "/");
	env_add(e, a, "HTTP_X_CUSTOM_HEADER_2", "two");
	env_add(e, a, "HTTP_", "nameless");
	env_add(e, a, "HTTP_X.Y", "odd");
	env_add(e, a, "HTTP_ACCEPT", "a");
	env_add(e, a, "HTTP_ACCEPT", "b");
	env_add(e, a, "HTTPS_NOT_A_HEADER", "x");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	assert_string_equal(cu_http_header(&fx->fx_req, "x-custom-header-2"), "two");
	assert_string_equal(cu_http_header(&fx->fx_req, "ACCEPT"), "a");
	assert_null(cu_http_header(&fx->fx_req, ""));
	assert_null(cu_http_header(&fx->fx_req, "x.y"));
	assert_int_equal(fx->fx_req.rq_nheaders, 3);
	assert_int_equal(fx->fx_req.rq_headers[0].kv_vlen, 3);
}

static void
test_request_content_length(void **state)
{
	static const char *const bad[] = {
	    "-1",
	    "+5",
	    " 5",
	    "5 ",
	    "0x10",
	    "1e3",
	    "5.0",
	    "1,2",
	    "99999999999999999999",
	    "abc",
	    "9223372036854775808",
	};
	static const struct {
		const char *s;
		long long v;
	} ok[] = {
	    {"0", 0},
	    {"42", 42},
	    {"007", 7},
	    {"", -1},
	    {"9223372036854775807", 9223372036854775807LL},
	};
	struct fixture *fx = *state;
	struct cu_arena *a = &fx->fx_arena;
	struct env *e = &fx->fx_env;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		env_get(e, a, "/");
		env_add(e, a, "CONTENT_LENGTH", bad[i]);
		assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_INVALID);
	}
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		env_get(e, a, "/");
		env_add(e, a, "CONTENT_LENGTH", ok[i].s);
		env_add(e, a, "CONTENT_TYPE", "application/json");
		assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
		assert_true(fx->fx_req.rq_content_length == ok[i].v);
		assert_string_equal(fx->fx_req.rq_content_type, "application/json");
	}
}

static void
test_request_cookies(void **state)
{
	struct fixture *fx = *state;
	struct cu_arena *a = &fx->fx_arena;
	struct env *e = &fx->fx_env;
	struct cu_buf b;
	size_t i;

	env_get(e, a, "/");
	env_add(e, a, "HTTP_COOKIE",
	        "authentik_session=abc; theme=\"dark\"; authentik_session=zzz");
	env_add(e, a, "HTTP_COOKIE", "late=1; theme=light");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	assert_int_equal(fx->fx_req.rq_ncookies, 5);
	assert_string_equal(cu_http_cookie(&fx->fx_req, "authentik_session"), "abc");
	assert_string_equal(cu_http_cookie(&fx->fx_req, "theme"), "dark");
	assert_string_equal(cu_http_cookie(&fx->fx_req, "late"), "1");
	assert_null(cu_http_cookie(&fx->fx_req, "Theme"));
	assert_string_equal(fx->fx_req.rq_cookies[2].kv_val, "zzz");
	assert_string_equal(fx->fx_req.rq_cookies[4].kv_val, "light");

	env_get(e, a, "/");
	env_add(e, a, "HTTP_COOKIE", "junk; ;=;a b=c");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	assert_int_equal(fx->fx_req.rq_ncookies, 0);

	cu_buf_init(&b, 1 << 16);
	for (i = 0; i <= CU_HTTP_MAX_COOKIES; i++)
		assert_int_equal(cu_buf_printf(&b, "c%zu=1;", i), 0);
	env_get(e, a, "/");
	env_add(e, a, "HTTP_COOKIE", b.bf_ptr);
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_ERR_TOO_LARGE);
	cu_buf_free(&b);
}

static void
test_request_https(void **state)
{
	static const struct {
		const char *https;
		const char *xfp;
		const char *remote;
		int want;
	} cases[] = {
	    {"on", NULL, "192.0.2.7", 1},
	    {"ON", NULL, "192.0.2.7", 1},
	    {"off", NULL, "192.0.2.7", 0},
	    {"", NULL, "192.0.2.7", 0},
	    {NULL, "https", "127.0.0.1", 1},
	    {NULL, "HTTPS", "127.8.9.10", 1},
	    {NULL, "https", "::1", 1},
	    {NULL, "https", "::ffff:127.0.0.1", 1},
	    {NULL, "https", "192.0.2.7", 0},
	    {NULL, "https", "10.0.0.1", 0},
	    {NULL, "https", "::2", 0},
	    {NULL, "https", "::ffff:10.0.0.1", 0},
	    {NULL, "https", "127.0.0.1.evil", 0},
	    {NULL, "https", "127.1", 0},
	    {NULL, "https", "", 0},
	    {NULL, "https", NULL, 0},
	    {NULL, "http", "127.0.0.1", 0},
	    {NULL, "https, http", "127.0.0.1", 0},
	};
	struct fixture *fx = *state;
	struct cu_arena *a = &fx->fx_arena;
	struct env *e = &fx->fx_env;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e->ev_n = 0;
		env_add(e, a, "REQUEST_METHOD", "GET");
		env_add(e, a, "REQUEST_URI", "/");
		if (cases[i].https != NULL)
			env_add(e, a, "HTTPS", cases[i].https);
		if (cases[i].xfp != NULL)
			env_add(e, a, "HTTP_X_FORWARDED_PROTO", cases[i].xfp);
		if (cases[i].remote != NULL)
			env_add(e, a, "REMOTE_ADDR", cases[i].remote);
		assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
		if (fx->fx_req.rq_https != cases[i].want)
			fail_msg("case %zu: https=%d", i, fx->fx_req.rq_https);
	}
}

static int
is_hex32(const char *s)
{
	size_t i;

	for (i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[32] == '\0';
}

static void
test_request_id(void **state)
{
	static const char *const bad[] = {
	    "", "a b", "abc_def", "abc\tdef", "x;y", "123456789012345678901234567890123", "é",
	};
	struct fixture *fx = *state;
	struct cu_arena *a = &fx->fx_arena;
	struct env *e = &fx->fx_env;
	char first[33];
	size_t i;

	env_get(e, a, "/");
	env_add(e, a, "HTTP_X_REQUEST_ID", "Req-42-abc");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	assert_string_equal(fx->fx_req.rq_id, "Req-42-abc");

	env_get(e, a, "/");
	env_add(e, a, "HTTP_X_REQUEST_ID", "12345678901234567890123456789012");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	assert_string_equal(fx->fx_req.rq_id, "12345678901234567890123456789012");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		env_get(e, a, "/");
		env_add(e, a, "HTTP_X_REQUEST_ID", bad[i]);
		assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
		assert_true(is_hex32(fx->fx_req.rq_id));
	}
	env_get(e, a, "/");
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	assert_true(is_hex32(fx->fx_req.rq_id));
	memcpy(first, fx->fx_req.rq_id, sizeof(first));
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	assert_string_not_equal(first, fx->fx_req.rq_id);
}

/* ---- body ---- */

static enum cu_err
body(struct fixture *fx, const char *clen, const char *data, size_t len, size_t chunk, size_t max,
     struct mem_reader *mr)
{
	struct env *e = &fx->fx_env;
	struct cu_arena *a = &fx->fx_arena;

	env_get(e, a, "/");
	e->ev_vars[0] = cu_arena_strdup(a, "REQUEST_METHOD=POST");
	if (clen != NULL)
		env_add(e, a, "CONTENT_LENGTH", clen);
	assert_int_equal(cu_http_request_parse(&fx->fx_req, a, e->ev_vars), CU_OK);
	memset(mr, 0, sizeof(*mr));
	mr->mr_data = data;
	mr->mr_len = len;
	mr->mr_chunk = chunk;
	return cu_http_request_read_body(&fx->fx_req, a, mem_read, mr, max);
}

static void
test_body_content_length(void **state)
{
	struct fixture *fx = *state;
	struct cu_http_request *rq = &fx->fx_req;
	struct mem_reader mr;

	assert_int_equal(body(fx, "5", "hello", 5, 2, 100, &mr), CU_OK);
	assert_int_equal(rq->rq_body_len, 5);
	assert_string_equal(rq->rq_body, "hello");
	assert_int_equal(mr.mr_calls, 3);

	/* Exactly at the limit. */
	assert_int_equal(body(fx, "5", "hello", 5, 0, 5, &mr), CU_OK);
	/* Declared past the limit: refused unread. */
	assert_int_equal(body(fx, "6", "hello!", 6, 0, 5, &mr), CU_ERR_TOO_LARGE);
	assert_int_equal(mr.mr_calls, 0);
	assert_null(rq->rq_body);
	assert_int_equal(body(fx, "9223372036854775807", "x", 1, 0, 5, &mr), CU_ERR_TOO_LARGE);
	assert_int_equal(mr.mr_calls, 0);

	/* Truncated: the stream ends before CONTENT_LENGTH bytes. */
	assert_int_equal(body(fx, "10", "hello", 5, 3, 100, &mr), CU_ERR_INVALID);
	assert_null(rq->rq_body);
	assert_int_equal(body(fx, "1", "", 0, 0, 100, &mr), CU_ERR_INVALID);

	/* Longer than declared: only the declared bytes are taken. */
	assert_int_equal(body(fx, "3", "abcdef", 6, 0, 100, &mr), CU_OK);
	assert_int_equal(rq->rq_body_len, 3);
	assert_string_equal(rq->rq_body, "abc");
	assert_int_equal(mr.mr_pos, 3);

	/* Zero: nothing read, an empty string. */
	assert_int_equal(body(fx, "0", "abc", 3, 0, 100, &mr), CU_OK);
	assert_int_equal(mr.mr_calls, 0);
	assert_non_null(rq->rq_body);
	assert_string_equal(rq->rq_body, "");
	assert_int_equal(rq->rq_body_len, 0);

	/* NUL bytes in a body are data, not terminators. */
	assert_int_equal(body(fx, "3", "a\0b", 3, 1, 100, &mr), CU_OK);
	assert_int_equal(rq->rq_body_len, 3);
	assert_memory_equal(rq->rq_body, "a\0b", 4);

	/* A read error. */
	assert_int_equal(body(fx, "3", "abc", 3, 0, 100, &mr), CU_OK);
	memset(&mr, 0, sizeof(mr));
	mr.mr_fail = 1;
	rq->rq_body = NULL;
	assert_int_equal(cu_http_request_read_body(rq, &fx->fx_arena, mem_read, &mr, 100),
	                 CU_ERR_INTERNAL);
	assert_null(rq->rq_body);
}

static void
test_body_unknown_length(void **state)
{
	struct fixture *fx = *state;
	struct cu_http_request *rq = &fx->fx_req;
	struct mem_reader mr;
	char *big = repeat(&fx->fx_arena, 'q', 20000);

	big[777] = 'X';
	assert_int_equal(body(fx, NULL, big, 20000, 777, 20000, &mr), CU_OK);
	assert_int_equal(rq->rq_body_len, 20000);
	assert_memory_equal(rq->rq_body, big, 20000);
	assert_int_equal(rq->rq_body[20000], '\0');

	/* One byte over: refused, and no more than max + 1 bytes were taken from the stream. */
	assert_int_equal(body(fx, NULL, big, 20000, 0, 19999, &mr), CU_ERR_TOO_LARGE);
	assert_null(rq->rq_body);
	assert_int_equal(mr.mr_pos, 20000);
	assert_int_equal(body(fx, NULL, big, 20000, 0, 100, &mr), CU_ERR_TOO_LARGE);
	assert_true(mr.mr_pos <= 101);
	assert_int_equal(body(fx, NULL, big, 20000, 7, 100, &mr), CU_ERR_TOO_LARGE);
	assert_true(mr.mr_pos <= 101);

	/* CONTENT_LENGTH="" is no length at all. */
	assert_int_equal(body(fx, "", "abc", 3, 1, 10, &mr), CU_OK);
	assert_string_equal(rq->rq_body, "abc");

	assert_int_equal(body(fx, NULL, "", 0, 0, 0, &mr), CU_OK);
	assert_int_equal(rq->rq_body_len, 0);
	assert_string_equal(rq->rq_body, "");
	assert_int_equal(body(fx, NULL, "x", 1, 0, 0, &mr), CU_ERR_TOO_LARGE);
	assert_int_equal(body(fx, NULL, "abc", 3, 0, SIZE_MAX, &mr), CU_OK);
	assert_string_equal(rq->rq_body, "abc");
}

static void
test_form(void **state)
{
	struct fixture *fx = *state;
	struct cu_http_request *rq = &fx->fx_req;
	struct cu_kv *kv;
	size_t n;

	memset(rq, 0, sizeof(*rq));
	rq->rq_content_type = "application/x-www-form-urlencoded; charset=UTF-8";
	rq->rq_body = "uid_field=a+b%40c.d&password=p%26ss+word&=&next";
	rq->rq_body_len = strlen(rq->rq_body);
	assert_int_equal(cu_http_parse_form(rq, &fx->fx_arena, &kv, &n), CU_OK);
	assert_int_equal(n, 4);
	assert_string_equal(kv[0].kv_val, "a b@c.d");
	assert_string_equal(kv[1].kv_val, "p&ss word");
	assert_string_equal(kv[3].kv_key, "next");

	rq->rq_content_type = "Application/X-WWW-Form-Urlencoded";
	assert_int_equal(cu_http_parse_form(rq, &fx->fx_arena, &kv, &n), CU_OK);
	rq->rq_content_type = "application/x-www-form-urlencoded ;charset=utf-8";
	assert_int_equal(cu_http_parse_form(rq, &fx->fx_arena, &kv, &n), CU_OK);

	rq->rq_content_type = "application/json";
	assert_int_equal(cu_http_parse_form(rq, &fx->fx_arena, &kv, &n), CU_ERR_INVALID);
	rq->rq_content_type = "application/x-www-form-urlencodedX";
	assert_int_equal(cu_http_parse_form(rq, &fx->fx_arena, &kv, &n), CU_ERR_INVALID);
	rq->rq_content_type = "";
	assert_int_equal(cu_http_parse_form(rq, &fx->fx_arena, &kv, &n), CU_ERR_INVALID);

	rq->rq_content_type = "application/x-www-form-urlencoded";
	rq->rq_body = "a=1\0b=2";
	rq->rq_body_len = 7;
	assert_int_equal(cu_http_parse_form(rq, &fx->fx_arena, &kv, &n), CU_ERR_INVALID);
	rq->rq_body = "a=%zz";
	rq->rq_body_len = 5;
	assert_int_equal(cu_http_parse_form(rq, &fx->fx_arena, &kv, &n), CU_ERR_INVALID);
	rq->rq_body = NULL;
	rq->rq_body_len = 0;
	assert_int_equal(cu_http_parse_form(rq, &fx->fx_arena, &kv, &n), CU_OK);
	assert_int_equal(n, 0);
}

/* ---- response ---- */

static void
test_set_header(void **state)
{
	static const char *const bad_names[] = {
	    "", "X Y", "X:Y", "X\r\nY", "X\nY", "Status", "status", "Content-Length", "X(1)",
	};
	static const char *const bad_values[] = {
	    "a\r\nSet-Cookie: x=y", "a\nb", "a\rb", "a\x01", "a\x7f", "\x1b[0m",
	};
	struct fixture *fx = *state;
	struct cu_http_response *r = &fx->fx_resp;
	size_t i;

	assert_int_equal(cu_http_set_header(r, "X-Frame-Options", "DENY"), 0);
	assert_int_equal(cu_http_set_header(r, "X-Empty", ""), 0);
	assert_int_equal(cu_http_set_header(r, "X-Tab", "a\tb \xc3\xa9"), 0);
	assert_int_equal(r->rs_nheaders, 3);
	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		assert_int_equal(cu_http_set_header(r, bad_names[i], "v"), -1);
	for (i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++)
		assert_int_equal(cu_http_set_header(r, "X-Bad", bad_values[i]), -1);
	assert_int_equal(cu_http_set_header(r, NULL, "v"), -1);
	assert_int_equal(cu_http_set_header(r, "X", NULL), -1);
	assert_int_equal(cu_http_set_header(r, "Content-Type", "text/html\r\nX: y"), -1);
	assert_int_equal(r->rs_nheaders, 3);

	assert_int_equal(cu_http_set_header(r, "content-type", "text/csv"), 0);
	assert_string_equal(r->rs_content_type, "text/csv");
	assert_int_equal(r->rs_nheaders, 3);

	for (i = r->rs_nheaders; i < CU_HTTP_MAX_RESPONSE_HEADERS; i++)
		assert_int_equal(cu_http_set_header(r, "X-Fill", "1"), 0);
	assert_int_equal(cu_http_set_header(r, "X-Full", "1"), -1);
	assert_int_equal(r->rs_nheaders, CU_HTTP_MAX_RESPONSE_HEADERS);
}

static const char *
last_header(const struct cu_http_response *r)
{
	assert_true(r->rs_nheaders > 0);
	assert_string_equal(r->rs_headers[r->rs_nheaders - 1].kv_key, "Set-Cookie");
	return r->rs_headers[r->rs_nheaders - 1].kv_val;
}

static void
test_set_cookie(void **state)
{
	struct fixture *fx = *state;
	struct cu_http_response *r = &fx->fx_resp;
	struct cu_arena *a = &fx->fx_arena;
	struct cu_cookie_opts o = {NULL, NULL, -1, 1, 1, "Lax"};

	assert_int_equal(cu_http_set_cookie(r, a, "authentik_session", "abc.def", &o), 0);
	assert_string_equal(last_header(r),
	                    "authentik_session=abc.def; Path=/; HttpOnly; Secure; SameSite=Lax");

	o = (struct cu_cookie_opts){"/if/", "example.com", 3600, 0, 0, "Strict"};
	assert_int_equal(cu_http_set_cookie(r, a, "t", "YWJj==", &o), 0);
	assert_string_equal(
	    last_header(r),
	    "t=YWJj==; Path=/if/; Domain=example.com; Max-Age=3600; SameSite=Strict");

	o = (struct cu_cookie_opts){NULL, NULL, 0, 1, 1, "None"};
	assert_int_equal(cu_http_set_cookie(r, a, "gone", "", &o), 0);
	assert_string_equal(last_header(r), "gone=; Path=/; Max-Age=0; "
	                                    "Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; "
	                                    "Secure; SameSite=None");

	assert_int_equal(cu_http_set_cookie(r, a, "plain", "v", NULL), 0);
	assert_string_equal(last_header(r), "plain=v; Path=/");

	o = (struct cu_cookie_opts){NULL, NULL, -1, 0, 1, NULL};
	assert_int_equal(cu_http_set_cookie(r, a, "__Host-s", "1", &o), 0);
	assert_int_equal(cu_http_set_cookie(r, a, "__Secure-s", "1", &o), 0);
	assert_int_equal(r->rs_nheaders, 6);
}

static void
test_set_cookie_refused(void **state)
{
	static const char *const bad_names[] = {
	    "", "a b", "a;b", "a=b", "a,b", "a\r\nb", "a\"b", "a\tb", "a(b)", "a/b", "\xc3\xa9",
	};
	static const char *const bad_values[] = {
	    "a b",   "a;b",  "a,b",   "a\"b", "\"quoted\"", "a\\b", "a\r\nSet-Cookie: x=y",
	    "a\x7f", "a\tb", "a\x01",
	};
	struct fixture *fx = *state;
	struct cu_http_response *r = &fx->fx_resp;
	struct cu_arena *a = &fx->fx_arena;
	struct cu_cookie_opts o = {NULL, NULL, -1, 0, 0, NULL};
	size_t i;

	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		assert_int_equal(cu_http_set_cookie(r, a, bad_names[i], "v", &o), -1);
	for (i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++)
		assert_int_equal(cu_http_set_cookie(r, a, "n", bad_values[i], &o), -1);
	assert_int_equal(cu_http_set_cookie(r, a, NULL, "v", &o), -1);
	assert_int_equal(cu_http_set_cookie(r, a, "n", NULL, &o), -1);

	o.co_path = "/;Domain=evil.com";
	assert_int_equal(cu_http_set_cookie(r, a, "n", "v", &o), -1);
	o.co_path = "/\r\nX: y";
	assert_int_equal(cu_http_set_cookie(r, a, "n", "v", &o), -1);
	o.co_path = "";
	assert_int_equal(cu_http_set_cookie(r, a, "n", "v", &o), -1);
	o.co_path = NULL;
	o.co_domain = "evil.com; Secure";
	assert_int_equal(cu_http_set_cookie(r, a, "n", "v", &o), -1);
	o.co_domain = "ex ample.com";
	assert_int_equal(cu_http_set_cookie(r, a, "n", "v", &o), -1);
	o.co_domain = "";
	assert_int_equal(cu_http_set_cookie(r, a, "n", "v", &o), -1);
	o.co_domain = NULL;
	o.co_same_site = "lax";
	assert_int_equal(cu_http_set_cookie(r, a, "n", "v", &o), -1);
	o.co_same_site = "Lax; Secure";
	assert_int_equal(cu_http_set_cookie(r, a, "n", "v", &o), -1);
	/* SameSite=None without Secure: browsers would drop it. */
	o.co_same_site = "None";
	assert_int_equal(cu_http_set_cookie(r, a, "n", "v", &o), -1);
	o.co_same_site = NULL;
	/* Cookie prefixes carry requirements browsers enforce. */
	assert_int_equal(cu_http_set_cookie(r, a, "__Secure-n", "v", &o), -1);
	assert_int_equal(cu_http_set_cookie(r, a, "__Host-n", "v", &o), -1);
	o.co_secure = 1;
	o.co_domain = "example.com";
	assert_int_equal(cu_http_set_cookie(r, a, "__Host-n", "v", &o), -1);
	o.co_domain = NULL;
	o.co_path = "/x";
	assert_int_equal(cu_http_set_cookie(r, a, "__Host-n", "v", &o), -1);
	assert_int_equal(r->rs_nheaders, 0);

	/* A value too long for a header. */
	o = (struct cu_cookie_opts){NULL, NULL, -1, 0, 0, NULL};
	assert_int_equal(cu_http_set_cookie(r, a, "n", repeat(a, 'v', CU_HTTP_MAX_HEADER_LEN), &o),
	                 -1);
	assert_int_equal(r->rs_nheaders, 0);
}

static void
test_send(void **state)
{
	struct fixture *fx = *state;
	struct cu_http_response *r = &fx->fx_resp;

	cu_http_send_error(r, 404, "Not found.");
	assert_int_equal(r->rs_status, 404);
	assert_string_equal(r->rs_content_type, "application/json");
	assert_string_equal(r->rs_body.bf_ptr, "{\"detail\":\"Not found.\"}");

	cu_http_send_error(r, 400, "bad \"x\"\n\\ \x01");
	assert_string_equal(r->rs_body.bf_ptr, "{\"detail\":\"bad \\\"x\\\"\\n\\\\ \\u0001\"}");

	cu_http_send_error(r, 403, NULL);
	assert_string_equal(r->rs_body.bf_ptr, "{\"detail\":\"Forbidden\"}");

	cu_http_send_json(r, 201, "{\"pk\":1}", 8);
	assert_int_equal(r->rs_status, 201);
	assert_string_equal(r->rs_content_type, "application/json");
	assert_string_equal(r->rs_body.bf_ptr, "{\"pk\":1}");

	cu_http_send_text(r, 200, NULL, "hi", 2);
	assert_string_equal(r->rs_content_type, "text/plain; charset=utf-8");
	assert_string_equal(r->rs_body.bf_ptr, "hi");
	cu_http_send_text(r, 200, "text/html; charset=utf-8", "", 0);
	assert_int_equal(r->rs_body.bf_len, 0);
	assert_string_equal(r->rs_content_type, "text/html; charset=utf-8");

	assert_string_equal(cu_http_reason(200), "OK");
	assert_string_equal(cu_http_reason(302), "Found");
	assert_string_equal(cu_http_reason(404), "Not Found");
	assert_string_equal(cu_http_reason(405), "Method Not Allowed");
	assert_string_equal(cu_http_reason(413), "Content Too Large");
	assert_string_equal(cu_http_reason(503), "Service Unavailable");
	assert_string_equal(cu_http_reason(299), "Unknown");
	assert_string_equal(cu_http_reason(0), "Unknown");
	assert_string_equal(cu_http_reason(-1), "Unknown");
}

static void
expect_written(struct fixture *fx, const char *want)
{
	struct sink *s = &fx->fx_sink;

	cu_buf_clear(&s->sk_out);
	s->sk_calls = 0;
	assert_int_equal(cu_http_response_write(&fx->fx_resp, sink_write, s), 0);
	assert_int_equal(s->sk_out.bf_len, strlen(want));
	assert_string_equal(s->sk_out.bf_ptr, want);
}

static void
test_write(void **state)
{
	struct fixture *fx = *state;
	struct cu_http_response *r = &fx->fx_resp;
	struct cu_arena *a = &fx->fx_arena;
	struct cu_cookie_opts o = {NULL, NULL, -1, 1, 1, "Lax"};

	cu_http_send_error(r, 404, "Not found.");
	expect_written(fx, "Status: 404 Not Found\r\n"
	                   "Content-Type: application/json\r\n"
	                   "Content-Length: 23\r\n"
	                   "\r\n"
	                   "{\"detail\":\"Not found.\"}");

	cu_http_response_reset(r);
	cu_http_send_json(r, 200, "{}", 2);
	assert_int_equal(cu_http_set_header(r, "Cache-Control", "no-store"), 0);
	assert_int_equal(cu_http_set_cookie(r, a, "sid", "x1", &o), 0);
	expect_written(fx, "Status: 200 OK\r\n"
	                   "Content-Type: application/json\r\n"
	                   "Content-Length: 2\r\n"
	                   "Cache-Control: no-store\r\n"
	                   "Set-Cookie: sid=x1; Path=/; HttpOnly; Secure; SameSite=Lax\r\n"
	                   "\r\n"
	                   "{}");

	/* HEAD: the length of the body a GET would get, and no body. */
	r->rs_head_only = 1;
	expect_written(fx, "Status: 200 OK\r\n"
	                   "Content-Type: application/json\r\n"
	                   "Content-Length: 2\r\n"
	                   "Cache-Control: no-store\r\n"
	                   "Set-Cookie: sid=x1; Path=/; HttpOnly; Secure; SameSite=Lax\r\n"
	                   "\r\n");

	/* Nothing set: 500, never an empty 200. */
	cu_http_response_reset(r);
	assert_int_equal(r->rs_head_only, 0);
	expect_written(fx, "Status: 500 Internal Server Error\r\n"
	                   "Content-Length: 0\r\n"
	                   "\r\n");

	cu_http_response_reset(r);
	r->rs_status = 302;
	assert_int_equal(cu_http_set_header(r, "Location", "/if/flow/default/"), 0);
	expect_written(fx, "Status: 302 Found\r\n"
	                   "Content-Length: 0\r\n"
	                   "Location: /if/flow/default/\r\n"
	                   "\r\n");

	/* 204 and 304 carry neither a body nor a length. */
	cu_http_response_reset(r);
	cu_http_send_text(r, 204, NULL, "ignored", 7);
	expect_written(fx, "Status: 204 No Content\r\n"
	                   "Content-Type: text/plain; charset=utf-8\r\n"
	                   "\r\n");
	cu_http_response_reset(r);
	r->rs_status = 304;
	expect_written(fx, "Status: 304 Not Modified\r\n\r\n");

	cu_http_response_reset(r);
	r->rs_status = 1000;
	expect_written(fx, "Status: 500 Internal Server Error\r\n"
	                   "Content-Length: 0\r\n"
	                   "\r\n");
	cu_http_response_reset(r);
	cu_http_send_text(r, 299, "text/plain", "x", 1);
	expect_written(fx, "Status: 299 Unknown\r\n"
	                   "Content-Type: text/plain\r\n"
	                   "Content-Length: 1\r\n"
	                   "\r\n"
	                   "x");
}

static void
test_write_injection(void **state)
{
	static const char fallback[] = "Status: 500 Internal Server Error\r\n"
	                               "Content-Length: 0\r\n"
	                               "\r\n";
	struct fixture *fx = *state;
	struct cu_http_response *r = &fx->fx_resp;

	/* Stored straight into the public struct, past set_header's checks. */
	cu_http_send_json(r, 200, "{\"secret\":1}", 12);
	r->rs_content_type = "text/html\r\nSet-Cookie: evil=1";
	expect_written(fx, fallback);

	cu_http_response_reset(r);
	cu_http_send_json(r, 200, "{}", 2);
	r->rs_headers[0].kv_key = "X-Ok";
	r->rs_headers[0].kv_val = "a\nb";
	r->rs_nheaders = 1;
	expect_written(fx, fallback);
	r->rs_headers[0].kv_key = "X Bad";
	r->rs_headers[0].kv_val = "v";
	expect_written(fx, fallback);
	r->rs_headers[0].kv_key = NULL;
	expect_written(fx, fallback);
}

static void
test_write_failure(void **state)
{
	struct fixture *fx = *state;
	struct cu_http_response *r = &fx->fx_resp;
	struct sink *s = &fx->fx_sink;

	cu_http_send_json(r, 200, "{}", 2);
	s->sk_fail_at = 1;
	s->sk_calls = 0;
	assert_int_equal(cu_http_response_write(r, sink_write, s), -1);
	s->sk_fail_at = 2;
	s->sk_calls = 0;
	assert_int_equal(cu_http_response_write(r, sink_write, s), -1);
	s->sk_fail_at = 0;
}

static void
test_response_reset(void **state)
{
	struct fixture *fx = *state;
	struct cu_http_response *r = &fx->fx_resp;
	const char *storage;

	cu_http_send_json(r, 200, "{\"a\":1}", 7);
	assert_int_equal(cu_http_set_header(r, "X", "1"), 0);
	r->rs_head_only = 1;
	storage = r->rs_body.bf_ptr;
	cu_http_response_reset(r);
	assert_int_equal(r->rs_status, 0);
	assert_null(r->rs_content_type);
	assert_int_equal(r->rs_nheaders, 0);
	assert_int_equal(r->rs_body.bf_len, 0);
	assert_int_equal(r->rs_head_only, 0);
	assert_ptr_equal(r->rs_body.bf_ptr, storage);
	assert_int_equal(r->rs_body.bf_max, CU_HTTP_MAX_RESPONSE_BODY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_percent_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_percent_bad, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_urlencoded_pairs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_urlencoded_bad, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_urlencoded_max, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cookies_basic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cookies_quoted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cookies_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cookies_too_many, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_basic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_copies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_methods, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_path_decoding, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_path_bad, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_path_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_path_fallback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_query, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_header_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_header_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_content_length, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_cookies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_https, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_body_content_length, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_body_unknown_length, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_form, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_header, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_cookie, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_cookie_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_send, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_injection, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_response_reset, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
