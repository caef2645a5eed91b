/*
 * HTTP requests and responses over FastCGI or CGI. The request comes from the CGI/FastCGI
 * environment (REQUEST_METHOD, REQUEST_URI, QUERY_STRING, HTTP_*) plus a body stream; the
 * response is filled by a handler and written by one writer (STYLE rule 11).
 *
 * Every parser here takes outside input: each is bounded by lib/bounds.h and fuzzed
 * (tests/fuzz/fuzz_http_*.c).
 */
#ifndef CU_HTTP_H
#define CU_HTTP_H

#include <stddef.h>

#include "arena.h"
#include "buf.h"
#include "err.h"

enum cu_http_method {
	CU_HTTP_GET = 1 << 0,
	CU_HTTP_HEAD = 1 << 1,
	CU_HTTP_POST = 1 << 2,
	CU_HTTP_PUT = 1 << 3,
	CU_HTTP_PATCH = 1 << 4,
	CU_HTTP_DELETE = 1 << 5,
	CU_HTTP_OPTIONS = 1 << 6,
};

/* A decoded name/value pair: both NUL-terminated, arena-owned; decoding refuses NUL bytes. */
struct cu_kv {
	const char *kv_key;
	const char *kv_val;
	size_t kv_vlen;
};

struct cu_http_request {
	enum cu_http_method rq_method; /* 0 when the method is none of the above */
	const char *rq_method_name;
	const char *rq_path;     /* percent-decoded, starts with '/' */
	const char *rq_raw_path; /* as sent, before decoding */
	const char *rq_query;    /* raw query string, "" when none */
	struct cu_kv *rq_args;   /* query parameters, decoded, in order */
	size_t rq_nargs;
	struct cu_kv *rq_headers; /* names lower-case with '-', e.g. "user-agent" */
	size_t rq_nheaders;
	struct cu_kv *rq_cookies;
	size_t rq_ncookies;
	const char *rq_host;         /* Host header, "" when none */
	const char *rq_remote_addr;  /* REMOTE_ADDR */
	const char *rq_content_type; /* "" when none */
	long long rq_content_length; /* -1 when not given */
	int rq_https;                /* HTTPS=on or X-Forwarded-Proto: https from a trusted peer */
	const char *rq_body;         /* NUL-terminated, arena-owned; NULL until read */
	size_t rq_body_len;
	char rq_id[33]; /* request id: X-Request-Id when well-formed, else random hex */
};

/* Reads up to n bytes into p; returns bytes read, 0 at end, -1 on error. */
typedef long cu_http_read_fn(void *ctx, void *p, size_t n);

/*
 * Fills req from the environment envp (NULL-terminated "NAME=value" strings). Everything is
 * copied into the arena. CU_ERR_INVALID on a malformed request line, percent-encoding, cookie
 * header or query; CU_ERR_TOO_LARGE past a header or query limit.
 */
enum cu_err cu_http_request_parse(struct cu_http_request *req, struct cu_arena *a,
                                  char *const *envp) __attribute__((warn_unused_result));

/*
 * Reads the body: CU_ERR_TOO_LARGE when CONTENT_LENGTH or the bytes read pass max (the rest is
 * not read), CU_ERR_INVALID when the stream ends before CONTENT_LENGTH bytes.
 */
enum cu_err cu_http_request_read_body(struct cu_http_request *req, struct cu_arena *a,
                                      cu_http_read_fn *rd, void *rdctx, size_t max)
    __attribute__((warn_unused_result));

/* Lookups: the first match, or NULL. Header names are matched case-insensitively. */
const char *cu_http_header(const struct cu_http_request *req, const char *name);
const char *cu_http_cookie(const struct cu_http_request *req, const char *name);
const char *cu_http_arg(const struct cu_http_request *req, const char *name);
/* The value of name in kv (a query or a form), NULL when absent; sets *repeated to 1 when name
 * comes more than once (never back to 0, so one flag can gather several lookups). */
const char *cu_http_kv_one(const struct cu_kv *kv, size_t n, const char *name, int *repeated);

/*
 * Parsers, exposed for handlers, tests and fuzzers.
 * - percent_decode: "%XX" must be two hex digits; %00 is refused; plus_space turns '+' into ' '.
 * - urlencoded: "a=1&b=2" (query strings and form bodies); at most max pairs; empty pairs are
 *   skipped; a pair without '=' has value "".
 * - cookies: "a=1; b=2"; names are RFC 6265 tokens, values may be quoted; a malformed pair is
 *   skipped (browsers send junk), more than CU_HTTP_MAX_COOKIES is CU_ERR_TOO_LARGE.
 */
enum cu_err cu_http_percent_decode(struct cu_arena *a, const char *s, size_t n, int plus_space,
                                   char **out, size_t *outlen) __attribute__((warn_unused_result));
enum cu_err cu_http_parse_urlencoded(struct cu_arena *a, const char *s, size_t n, size_t max,
                                     struct cu_kv **out, size_t *nout)
    __attribute__((warn_unused_result));
enum cu_err cu_http_parse_cookies(struct cu_arena *a, const char *s, size_t n, struct cu_kv **out,
                                  size_t *nout) __attribute__((warn_unused_result));

/* Parses the body as a form when Content-Type is application/x-www-form-urlencoded. */
enum cu_err cu_http_parse_form(const struct cu_http_request *req, struct cu_arena *a,
                               struct cu_kv **out, size_t *nout)
    __attribute__((warn_unused_result));

#define CU_HTTP_MAX_RESPONSE_HEADERS 32

struct cu_http_response {
	int rs_status; /* 0 means not yet set: the writer sends 500 */
	const char *rs_content_type;
	struct cu_kv rs_headers[CU_HTTP_MAX_RESPONSE_HEADERS];
	size_t rs_nheaders;
	struct cu_buf rs_body; /* capped at CU_HTTP_MAX_RESPONSE_BODY */
	int rs_head_only;      /* HEAD: headers without the body */
};

/* The body buffer keeps its storage across requests; reset empties it. */
void cu_http_response_init(struct cu_http_response *r);
void cu_http_response_reset(struct cu_http_response *r);
void cu_http_response_free(struct cu_http_response *r);

/* -1 on a CR, LF or NUL in name or value, or when the header table is full. Values borrowed
 * until the response is written (use arena strings). */
int cu_http_set_header(struct cu_http_response *r, const char *name, const char *value)
    __attribute__((warn_unused_result));

struct cu_cookie_opts {
	const char *co_path;   /* "/" when NULL */
	const char *co_domain; /* none when NULL */
	long co_max_age;       /* < 0: session cookie; 0: delete */
	int co_http_only;
	int co_secure;
	const char *co_same_site; /* "Lax", "Strict", "None"; NULL for none */
};
int cu_http_set_cookie(struct cu_http_response *r, struct cu_arena *a, const char *name,
                       const char *value, const struct cu_cookie_opts *o)
    __attribute__((warn_unused_result));

/* Replace the body and status. json is compact JSON text. */
void cu_http_send_json(struct cu_http_response *r, int status, const char *json, size_t len);
/* {"detail": detail}, authentik's error shape. */
void cu_http_send_error(struct cu_http_response *r, int status, const char *detail);
void cu_http_send_text(struct cu_http_response *r, int status, const char *ctype, const char *body,
                       size_t len);

/* The reason phrase for a status ("Not Found"); "Unknown" for others. */
const char *cu_http_reason(int status);

/* Writes the whole response (CGI "Status:" form) through wr; -1 when wr fails. */
typedef int cu_http_write_fn(void *ctx, const void *p, size_t n);
int cu_http_response_write(const struct cu_http_response *r, cu_http_write_fn *wr, void *wrctx)
    __attribute__((warn_unused_result));

#endif
