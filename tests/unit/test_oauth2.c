/* lib/providers/oauth2.c and oauth2_token.c without a database: token request parsing, client
 * credentials in Basic headers, scopes, PKCE verifiers, digests, errors and URLs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "crypto.h"
#include "http.h"
#include "json.h"
#include "mem.h"
#include "providers/oauth2.h"
#include "server.h"

struct fixture {
	struct cu_arena f_arena;
	struct cu_http_request f_req;
	struct cu_http_response f_resp;
	struct cu_ctx f_cx;
};

static int
setup(void **state)
{
	struct fixture *f = cu_calloc(1, sizeof(*f));

	cu_arena_init(&f->f_arena);
	cu_http_response_init(&f->f_resp);
	f->f_req.rq_path = "/application/o/token/";
	f->f_req.rq_host = "id.example.com";
	f->f_req.rq_https = 1;
	f->f_cx.cx_arena = &f->f_arena;
	f->f_cx.cx_req = &f->f_req;
	f->f_cx.cx_resp = &f->f_resp;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	cu_http_response_free(&f->f_resp);
	cu_arena_free(&f->f_arena);
	cu_free(f);
	return 0;
}

/* Parses "a=1&b=2" and the Authorization header into *tr; returns the parser's result. */
static int
parse(struct fixture *f, const char *body, const char *authorization,
      struct cu_oauth2_token_request *tr)
{
	struct cu_kv *form = NULL;
	size_t n = 0;

	assert_int_equal(cu_http_parse_urlencoded(&f->f_arena, body, strlen(body), 128, &form, &n),
	                 CU_OK);
	return cu_oauth2_token_request_parse(&f->f_arena, authorization, form, n, tr);
}

static const char *
basic(struct fixture *f, const char *raw)
{
	char *out = cu_arena_alloc(&f->f_arena, cu_base64_enc_len(strlen(raw)) + 8);

	memcpy(out, "Basic ", 6);
	cu_base64_encode(out + 6, raw, strlen(raw));
	return out;
}

static void
test_token_request(void **state)
{
	struct fixture *f = *state;
	struct cu_oauth2_token_request tr;

	assert_int_equal(parse(f,
	                       "grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2F"
	                       "rp%2Fcb&client_id=c1&client_secret=s%2B1&code_verifier=v&scope="
	                       "openid+profile+openid",
	                       NULL, &tr),
	                 0);
	assert_string_equal(tr.tr_grant_type, "authorization_code");
	assert_string_equal(tr.tr_code, "abc");
	assert_string_equal(tr.tr_redirect_uri, "https://rp/cb");
	assert_string_equal(tr.tr_client_id, "c1");
	assert_string_equal(tr.tr_client_secret, "s+1");
	assert_int_equal(tr.tr_basic, 0);
	assert_int_equal(json_object_array_length(tr.tr_scopes), 2);
	assert_null(tr.tr_username);
	/* Empty values are absent, as authentik reads them. */
	assert_int_equal(
	    parse(f, "grant_type=client_credentials&client_id=c&client_secret=&code=", NULL, &tr),
	    0);
	assert_null(tr.tr_client_secret);
	assert_null(tr.tr_code);
	/* Basic: form-urlencoded parts, percent and plus decoded. */
	assert_int_equal(
	    parse(f, "grant_type=client_credentials", basic(f, "my%3Aid:p%40ss+word"), &tr), 0);
	assert_int_equal(tr.tr_basic, 1);
	assert_string_equal(tr.tr_client_id, "my:id");
	assert_string_equal(tr.tr_client_secret, "p@ss word");
	/* The same client_id in the form beside Basic is fine; another one is not. */
	assert_int_equal(parse(f, "grant_type=x&client_id=my%3Aid", basic(f, "my%3Aid:s"), &tr), 0);
	assert_int_equal(parse(f, "grant_type=x&client_id=other", basic(f, "my%3Aid:s"), &tr), -1);
	assert_string_equal(tr.tr_error, "invalid_request");
}

static void
test_token_request_refusals(void **state)
{
	struct fixture *f = *state;
	struct cu_oauth2_token_request tr;
	char *big;

	/* Repeated parameters (RFC 6749 §3.2). */
	assert_int_equal(parse(f, "grant_type=a&grant_type=a&client_id=c", NULL, &tr), -1);
	assert_string_equal(tr.tr_error, "invalid_request");
	assert_int_equal(parse(f, "grant_type=a&scope=x&scope=y", NULL, &tr), -1);
	assert_int_equal(parse(f, "grant_type=a&client_secret=1&client_secret=1", NULL, &tr), -1);
	/* Two authentication methods. */
	assert_int_equal(parse(f, "grant_type=a&client_secret=s", basic(f, "c:s"), &tr), -1);
	assert_string_equal(tr.tr_error, "invalid_request");
	/* Malformed Basic headers. */
	assert_int_equal(parse(f, "grant_type=a", "Basic !!!", &tr), -1);
	assert_string_equal(tr.tr_error, "invalid_client");
	assert_int_equal(parse(f, "grant_type=a", basic(f, "no-colon"), &tr), -1);
	assert_int_equal(parse(f, "grant_type=a", basic(f, "c:%zz"), &tr), -1);
	assert_int_equal(parse(f, "grant_type=a", "Basic ", &tr), -1);
	/* Not Basic at all: ignored here (a Bearer header is not client authentication). */
	assert_int_equal(parse(f, "grant_type=a&client_id=c", "Bearer abc", &tr), 0);
	assert_int_equal(tr.tr_basic, 0);
	/* Missing grant_type, malformed scope, oversized values. */
	assert_int_equal(parse(f, "client_id=c", NULL, &tr), -1);
	assert_string_equal(tr.tr_error, "invalid_request");
	assert_int_equal(parse(f, "grant_type=a&scope=open%22id", NULL, &tr), -1);
	assert_string_equal(tr.tr_error, "invalid_scope");
	big = cu_arena_alloc(&f->f_arena, CU_OAUTH2_MAX_PARAM + 32);
	memcpy(big, "grant_type=a&code=", 18);
	memset(big + 18, 'x', CU_OAUTH2_MAX_PARAM + 1);
	big[18 + CU_OAUTH2_MAX_PARAM + 1] = '\0';
	assert_int_equal(parse(f, big, NULL, &tr), -1);
	assert_string_equal(tr.tr_error, "invalid_request");
}

static void
test_basic_parse(void **state)
{
	struct fixture *f = *state;
	const char *id = NULL, *secret = NULL;

	assert_int_equal(cu_oauth2_basic_parse(&f->f_arena, NULL, &id, &secret), 0);
	assert_int_equal(cu_oauth2_basic_parse(&f->f_arena, "Digest x", &id, &secret), 0);
	assert_int_equal(cu_oauth2_basic_parse(&f->f_arena, basic(f, "a:b:c"), &id, &secret), 1);
	assert_string_equal(id, "a");
	assert_string_equal(secret, "b:c");
	assert_int_equal(cu_oauth2_basic_parse(&f->f_arena, basic(f, ":"), &id, &secret), 1);
	assert_string_equal(id, "");
	/* "basic" in any case; NUL bytes refused. */
	assert_int_equal(cu_oauth2_basic_parse(&f->f_arena, "bAsIc YTpi", &id, &secret), 1);
	assert_int_equal(cu_oauth2_basic_parse(&f->f_arena, "Basic YQBiOmM=", &id, &secret), -1);
	assert_int_equal(cu_oauth2_basic_parse(&f->f_arena, basic(f, "a:%00"), &id, &secret), -1);
}

static void
test_scopes(void **state)
{
	struct fixture *f = *state;
	struct json_object *s = NULL;
	char many[CU_OAUTH2_MAX_SCOPES * 4 + 8], *p = many;
	int i;

	assert_int_equal(cu_oauth2_scopes_parse(&f->f_cx, "  openid  profile\temail openid ", &s),
	                 0);
	assert_int_equal(json_object_array_length(s), 3);
	assert_string_equal(cu_oauth2_scopes_join(&f->f_cx, s), "openid profile email");
	assert_true(cu_oauth2_scopes_has(s, "email"));
	assert_false(cu_oauth2_scopes_has(s, "mail"));
	assert_int_equal(cu_oauth2_scopes_parse(&f->f_cx, NULL, &s), 0);
	assert_int_equal(json_object_array_length(s), 0);
	assert_string_equal(cu_oauth2_scopes_join(&f->f_cx, s), "");
	assert_int_equal(cu_oauth2_scopes_parse(&f->f_cx, "goauthentik.io/api a:b{c}", &s), 0);
	assert_int_equal(json_object_array_length(s), 2);
	/* RFC 6749 §3.3 characters only: no '"', no '\\', no controls or non-ASCII. */
	assert_int_equal(cu_oauth2_scopes_parse(&f->f_cx, "a\"b", &s), -1);
	assert_int_equal(cu_oauth2_scopes_parse(&f->f_cx, "a\\b", &s), -1);
	assert_int_equal(cu_oauth2_scopes_parse(&f->f_cx, "a\x01", &s), -1);
	assert_int_equal(cu_oauth2_scopes_parse(&f->f_cx, "caf\xc3\xa9", &s), -1);
	for (i = 0; i <= CU_OAUTH2_MAX_SCOPES; i++)
		p += snprintf(p, sizeof(many) - (size_t)(p - many), "s%d ", i);
	assert_int_equal(cu_oauth2_scopes_parse(&f->f_cx, many, &s), -1);
	/* text[] literals quote every element. */
	assert_int_equal(cu_oauth2_scopes_parse(&f->f_cx, "openid a,b {x}", &s), 0);
	assert_string_equal(cu_oauth2_pg_array(&f->f_cx, s), "{\"openid\",\"a,b\",\"{x}\"}");
	assert_string_equal(cu_oauth2_pg_array(&f->f_cx, cu_json_array(&f->f_arena)), "{}");
	s = cu_oauth2_json_array(&f->f_cx, "[\"openid\", \"email\"]");
	assert_int_equal(json_object_array_length(s), 2);
	assert_int_equal(json_object_array_length(cu_oauth2_json_array(&f->f_cx, "{}")), 0);
	assert_int_equal(json_object_array_length(cu_oauth2_json_array(&f->f_cx, NULL)), 0);
}

static void
test_pkce_verifier(void **state)
{
	char v[130];

	(void)state;
	memset(v, 'a', sizeof(v));
	v[43] = '\0';
	assert_true(cu_oauth2_pkce_verifier_ok(v));
	v[42] = '\0';
	assert_false(cu_oauth2_pkce_verifier_ok(v));
	memset(v, 'a', sizeof(v));
	v[128] = '\0';
	assert_true(cu_oauth2_pkce_verifier_ok(v));
	v[128] = 'a';
	v[129] = '\0';
	assert_false(cu_oauth2_pkce_verifier_ok(v));
	assert_true(cu_oauth2_pkce_verifier_ok("0123456789-._~ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"));
	assert_false(cu_oauth2_pkce_verifier_ok("0123456789-._~ABCDEFGHIJKLMNOPQRSTUVWXYZabcde+"));
	assert_false(cu_oauth2_pkce_verifier_ok(NULL));
}

static void
test_digests(void **state)
{
	char out[65];

	(void)state;
	cu_oauth2_digest(out, "abc", 3);
	assert_string_equal(out,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* sid: the session uuid's SHA-256, as authentik hashes its session key. */
	cu_oauth2_sid(out, "abc");
	assert_string_equal(out,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_form_get(void **state)
{
	struct cu_kv form[3] = {{"a", "1", 1}, {"b", "2", 1}, {"a", "3", 1}};
	int rep = -1;

	(void)state;
	assert_string_equal(cu_oauth2_form_get(form, 3, "a", &rep), "1");
	assert_int_equal(rep, 1);
	assert_string_equal(cu_oauth2_form_get(form, 3, "b", &rep), "2");
	assert_int_equal(rep, 0);
	assert_null(cu_oauth2_form_get(form, 3, "c", &rep));
	assert_int_equal(rep, 0);
	assert_string_equal(cu_oauth2_form_get(form, 3, "b", NULL), "2");
}

static void
test_error_shape(void **state)
{
	struct fixture *f = *state;
	struct json_object *o = NULL;
	size_t i;
	int www = 0, store = 0;

	cu_oauth2_error(&f->f_cx, 401, "invalid_client", NULL);
	assert_int_equal(f->f_resp.rs_status, 401);
	assert_int_equal(
	    cu_json_parse(&f->f_arena, f->f_resp.rs_body.bf_ptr, f->f_resp.rs_body.bf_len, &o),
	    CU_OK);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "error")),
	                    "invalid_client");
	assert_non_null(
	    strstr(json_object_get_string(json_object_object_get(o, "error_description")),
	           "Client authentication failed"));
	for (i = 0; i < f->f_resp.rs_nheaders; i++) {
		const struct cu_kv *h = &f->f_resp.rs_headers[i];

		www |= strcmp(h->kv_key, "WWW-Authenticate") == 0 &&
		       strcmp(h->kv_val, "Basic realm=\"authentik\"") == 0;
		store |=
		    strcmp(h->kv_key, "Cache-Control") == 0 && strcmp(h->kv_val, "no-store") == 0;
	}
	assert_true(www);
	assert_true(store);
}

static void
test_urls(void **state)
{
	struct fixture *f = *state;
	struct cu_oauth2_provider p;

	memset(&p, 0, sizeof(p));
	p.op_issuer_mode = "per_provider";
	p.op_app_slug = "grafana";
	assert_string_equal(cu_oauth2_base_url(&f->f_cx), "https://id.example.com");
	assert_string_equal(cu_oauth2_issuer(&f->f_cx, &p),
	                    "https://id.example.com/application/o/grafana/");
	p.op_issuer_mode = "global";
	assert_string_equal(cu_oauth2_issuer(&f->f_cx, &p), "https://id.example.com/");
	p.op_issuer_mode = "per_provider";
	p.op_app_slug = NULL;
	assert_null(cu_oauth2_issuer(&f->f_cx, &p));
	/* A Host header that is no host name does not go into URLs. */
	f->f_req.rq_host = "evil.example/\"><script>";
	f->f_req.rq_https = 0;
	assert_string_equal(cu_oauth2_base_url(&f->f_cx), "http://localhost");
}

static void
test_sub_modes(void **state)
{
	struct fixture *f = *state;
	struct cu_oauth2_provider p;
	struct cu_user u;
	const char *sub;

	memset(&p, 0, sizeof(p));
	memset(&u, 0, sizeof(u));
	u.us_id = 42;
	u.us_id_text = "42";
	u.us_uuid = "2f9b8c5e-0000-4000-8000-000000000001";
	u.us_username = "ada";
	u.us_email = "ada@example.org";
	p.op_sub_mode = "user_id";
	assert_string_equal(cu_oauth2_sub(&f->f_cx, &p, &u), "42");
	p.op_sub_mode = "user_uuid";
	assert_string_equal(cu_oauth2_sub(&f->f_cx, &p, &u), u.us_uuid);
	p.op_sub_mode = "user_username";
	assert_string_equal(cu_oauth2_sub(&f->f_cx, &p, &u), "ada");
	p.op_sub_mode = "user_email";
	assert_string_equal(cu_oauth2_sub(&f->f_cx, &p, &u), "ada@example.org");
	p.op_sub_mode = "hashed_user_id";
	sub = cu_oauth2_sub(&f->f_cx, &p, &u);
	assert_int_equal(strlen(sub), 64);
	assert_int_equal(strspn(sub, "0123456789abcdef"), 64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_token_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_token_request_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_basic_parse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scopes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pkce_verifier, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_digests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_form_get, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_shape, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_urls, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sub_modes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
