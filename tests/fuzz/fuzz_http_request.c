/*
 * The whole request path: an environment and a body, parsed, read, routed and answered.
 * Input: "NAME=value" lines up to the first empty line become the environment; the rest is
 * the body. The reader hands the body out in pieces whose size the input picks, so short reads
 * and truncation are exercised too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "http.h"
#include "bounds.h"
#include "router.h"

#define MAX_VARS 256
#define MAX_BODY 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct reader {
	const char *rd_data;
	size_t rd_len;
	size_t rd_pos;
	size_t rd_step;
};

static long
mem_read(void *ctx, void *p, size_t n)
{
	struct reader *r = ctx;
	size_t k = r->rd_len - r->rd_pos;

	if (k > n)
		k = n;
	if (k > r->rd_step)
		k = r->rd_step;
	memcpy(p, r->rd_data + r->rd_pos, k);
	r->rd_pos += k;
	return (long)k;
}

static int
sink_write(void *ctx, const void *p, size_t n)
{
	return cu_buf_append(ctx, p, n);
}

static void
handler(struct cu_ctx *cx)
{
	(void)cx;
}

static const struct cu_route routes[] = {
    {CU_HTTP_GET, "/-/health/live/", handler, 0},
    {CU_HTTP_GET | CU_HTTP_POST, "/api/v3/flows/executor/{slug}/", handler, 0},
    {CU_HTTP_PATCH, "/api/v3/core/users/{id}/", handler, 0},
    {CU_HTTP_GET, "/static/{path*}", handler, 0},
};

static void
check_kvs(const struct cu_kv *kv, size_t n, size_t max)
{
	size_t i;

	if (n > max || (n > 0 && kv == NULL))
		abort();
	for (i = 0; i < n; i++)
		if (kv[i].kv_key == NULL || strlen(kv[i].kv_val) != kv[i].kv_vlen)
			abort();
}

/* The response head must be CRLF lines only: a lone CR or LF is a split response. */
static void
check_head(const struct cu_buf *out)
{
	size_t i, end;
	const char *p = out->bf_ptr;

	if (p == NULL)
		abort();
	for (end = 0; end + 3 < out->bf_len; end++)
		if (memcmp(p + end, "\r\n\r\n", 4) == 0)
			break;
	if (end + 3 >= out->bf_len)
		abort();
	for (i = 0; i < end + 2; i++) {
		if (p[i] == '\r' && p[i + 1] != '\n')
			abort();
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			abort();
	}
}

static void
respond(struct cu_arena *a, const struct cu_http_request *rq, int status)
{
	struct cu_http_response r;
	struct cu_buf out;
	struct cu_cookie_opts o = {NULL, rq->rq_host, 60, 1, rq->rq_https, NULL};
	size_t i;

	cu_http_response_init(&r);
	cu_buf_init(&out, 1 << 20);
	cu_http_send_error(&r, status, rq->rq_path);
	/* Request data echoed into headers: refused or written safely, never split. */
	for (i = 0; i < rq->rq_nheaders && i < 8; i++)
		(void)!cu_http_set_header(&r, rq->rq_headers[i].kv_key, rq->rq_headers[i].kv_val);
	for (i = 0; i < rq->rq_ncookies && i < 4; i++)
		(void)!cu_http_set_cookie(&r, a, rq->rq_cookies[i].kv_key, rq->rq_cookies[i].kv_val,
		                          &o);
	(void)!cu_http_set_header(&r, "X-Request-Id", rq->rq_id);
	(void)!cu_http_set_header(&r, "X-Raw-Path", rq->rq_raw_path);
	r.rs_head_only = rq->rq_method == CU_HTTP_HEAD;
	if (cu_http_response_write(&r, sink_write, &out) != 0)
		abort();
	check_head(&out);
	cu_buf_free(&out);
	cu_http_response_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cu_arena a;
	struct cu_http_request rq;
	struct cu_route_match m;
	struct reader rd;
	char *envp[MAX_VARS + 1];
	const char *p = (const char *)data, *end = p + size;
	size_t nvars = 0, i;
	enum cu_err err;
	int status = 200;

	cu_arena_init(&a);
	while (p < end && nvars < MAX_VARS) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		if (len == 0) {
			p++;
			break;
		}
		/* An environment string ends at its first NUL, as a real one would. */
		envp[nvars++] = cu_arena_strndup(&a, p, strnlen(p, len));
		p += len + (nl != NULL);
	}
	envp[nvars] = NULL;

	memset(&rd, 0, sizeof(rd));
	rd.rd_data = p;
	rd.rd_len = (size_t)(end - p);
	rd.rd_step = size % 13 + 1;

	err = cu_http_request_parse(&rq, &a, envp);
	if (strlen(rq.rq_id) < 1 || strlen(rq.rq_id) > 32 ||
	    strspn(rq.rq_id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") !=
	        strlen(rq.rq_id))
		abort();
	if (err != CU_OK) {
		if (err != CU_ERR_INVALID && err != CU_ERR_TOO_LARGE)
			abort();
		status = cu_err_status(err);
		goto out;
	}
	if (rq.rq_path[0] != '/' || strlen(rq.rq_path) > CU_HTTP_MAX_PATH_LEN)
		abort();
	if (strstr(rq.rq_path, "/../") != NULL || strstr(rq.rq_path, "/./") != NULL)
		abort();
	if (strlen(rq.rq_query) > CU_HTTP_MAX_QUERY_LEN || rq.rq_content_length < -1)
		abort();
	check_kvs(rq.rq_args, rq.rq_nargs, CU_HTTP_MAX_PARAMS);
	check_kvs(rq.rq_headers, rq.rq_nheaders, CU_HTTP_MAX_HEADERS);
	check_kvs(rq.rq_cookies, rq.rq_ncookies, CU_HTTP_MAX_COOKIES);
	for (i = 0; i < rq.rq_nheaders; i++)
		if (rq.rq_headers[i].kv_vlen > CU_HTTP_MAX_HEADER_LEN ||
		    strspn(rq.rq_headers[i].kv_key, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
		        strlen(rq.rq_headers[i].kv_key))
			abort();

	err = cu_http_request_read_body(&rq, &a, mem_read, &rd, MAX_BODY);
	if (err == CU_OK) {
		if (rq.rq_body == NULL || rq.rq_body_len > MAX_BODY || rq.rq_body[rq.rq_body_len])
			abort();
		if (rq.rq_content_length >= 0 && rq.rq_body_len != (size_t)rq.rq_content_length)
			abort();
		if (rq.rq_body_len > rd.rd_len || memcmp(rq.rq_body, rd.rd_data, rq.rq_body_len))
			abort();
	} else {
		if (rq.rq_body != NULL)
			abort();
		if (err == CU_ERR_TOO_LARGE && rq.rq_content_length < 0 && rd.rd_pos > MAX_BODY + 1)
			abort();
		status = cu_err_status(err);
		goto out;
	}
	if (err == CU_OK) {
		struct cu_kv *form = NULL;
		size_t nform = 0;

		err = cu_http_parse_form(&rq, &a, &form, &nform);
		if (err == CU_OK)
			check_kvs(form, nform, CU_HTTP_MAX_PARAMS);
	}

	err = cu_router_match(routes, sizeof(routes) / sizeof(routes[0]), rq.rq_method, rq.rq_path,
	                      &a, &m);
	if (err == CU_ERR_METHOD && cu_router_allow(&a, m.rm_allowed)[0] == '\0')
		abort();
	status = err == CU_OK ? 200 : cu_err_status(err);
out:
	respond(&a, &rq, status);
	cu_arena_free(&a);
	return 0;
}
