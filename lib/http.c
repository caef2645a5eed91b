#include "http.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "bounds.h"

/* Deleting a cookie sets both, for clients that ignore Max-Age. */
#define COOKIE_EPOCH "Thu, 01 Jan 1970 00:00:00 GMT"

/* The body is read in steps of this size when its length is not known in advance. */
#define BODY_STEP 4096

/* ---- character classes ---- */

/* RFC 9110 tchar: what header names, cookie names and methods are made of. */
static int
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
is_token(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * A cookie value byte: RFC 6265 cookie-octet widened to bytes >= 0x80, which browsers send
 * for UTF-8 values. The same set is accepted when parsing and when setting, so whatever custos
 * sets it can read back.
 */
static int
is_cookie_octet(unsigned char c)
{
	return c > 0x20 && c != 0x7f && c != '"' && c != ',' && c != ';' && c != '\\';
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static int
hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A response header value: visible bytes, SP and HTAB; any other control byte could split the
 * response (CR, LF) or confuse the web server parsing the CGI head. */
static int
is_field_value(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

/* ---- decoding ---- */

enum cu_err
cu_http_percent_decode(struct cu_arena *a, const char *s, size_t n, int plus_space, char **out,
                       size_t *outlen)
{
	enum cu_err err = CU_ERR_INVALID;
	char *d = NULL;
	size_t i, j = 0;

	*out = NULL;
	*outlen = 0;
	if (n == SIZE_MAX)
		goto out;
	d = cu_arena_alloc(a, n + 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0')
			goto out;
		if (c == '%') {
			int hi, lo;

			if (n - i < 3)
				goto out;
			hi = hex_val((unsigned char)s[i + 1]);
			lo = hex_val((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto out;
			d[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_space) {
			d[j++] = ' ';
		} else {
			d[j++] = (char)c;
		}
	}
	d[j] = '\0';
	*out = d;
	*outlen = j;
	err = CU_OK;
out:
	return err;
}

/*
 * Moves *cur past the next '&'-separated pair of [*cur, end) and returns it in pair; 0 when
 * the input is used up. Empty pairs are passed over here so both passes agree on the count.
 */
static int
urlenc_next(const char **cur, const char *end, struct cu_str *pair)
{
	const char *p = *cur;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp != NULL ? amp : end;

		*cur = amp != NULL ? amp + 1 : end;
		if (stop > p) {
			pair->s_ptr = p;
			pair->s_len = (size_t)(stop - p);
			return 1;
		}
		p = *cur;
	}
	*cur = end;
	return 0;
}

enum cu_err
cu_http_parse_urlencoded(struct cu_arena *a, const char *s, size_t n, size_t max,
                         struct cu_kv **out, size_t *nout)
{
	enum cu_err err = CU_OK;
	const char *cur = s, *end = s + n;
	struct cu_str pair;
	struct cu_kv *kv = NULL;
	size_t count = 0, i = 0;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		goto out;
	/* Count first so a flood of pairs is refused before anything is decoded. */
	while (urlenc_next(&cur, end, &pair)) {
		if (++count > max) {
			err = CU_ERR_TOO_LARGE;
			goto out;
		}
	}
	if (count == 0)
		goto out;
	kv = cu_arena_alloc(a, count * sizeof(*kv));
	cur = s;
	while (urlenc_next(&cur, end, &pair)) {
		const char *eq = memchr(pair.s_ptr, '=', pair.s_len);
		size_t klen = eq != NULL ? (size_t)(eq - pair.s_ptr) : pair.s_len;
		char *key, *val;
		size_t keylen, vlen;

		err = cu_http_percent_decode(a, pair.s_ptr, klen, 1, &key, &keylen);
		if (err != CU_OK)
			goto out;
		if (eq != NULL) {
			err = cu_http_percent_decode(a, eq + 1, pair.s_len - klen - 1, 1, &val,
			                             &vlen);
			if (err != CU_OK)
				goto out;
		} else {
			val = cu_arena_strdup(a, "");
			vlen = 0;
		}
		kv[i].kv_key = key;
		kv[i].kv_val = val;
		kv[i].kv_vlen = vlen;
		i++;
	}
	*out = kv;
	*nout = i;
out:
	return err;
}

/*
 * Moves *cur past the next ';'-separated cookie pair. Returns 1 with name and value set for a
 * well-formed pair, 0 for a malformed one (skipped by the caller), -1 at the end.
 */
static int
cookie_next(const char **cur, const char *end, struct cu_str *name, struct cu_str *val)
{
	const char *p = *cur, *stop, *eq, *ne, *vs, *ve;
	size_t i;

	while (p < end && (is_ows(*p) || *p == ';'))
		p++;
	if (p == end) {
		*cur = end;
		return -1;
	}
	stop = memchr(p, ';', (size_t)(end - p));
	if (stop == NULL)
		stop = end;
	*cur = stop;

	eq = memchr(p, '=', (size_t)(stop - p));
	if (eq == NULL)
		return 0;
	ne = eq;
	while (ne > p && is_ows(ne[-1]))
		ne--;
	if (!is_token(p, (size_t)(ne - p)))
		return 0;
	vs = eq + 1;
	ve = stop;
	while (vs < ve && is_ows(*vs))
		vs++;
	while (ve > vs && is_ows(ve[-1]))
		ve--;
	if (ve > vs && *vs == '"') {
		if (ve - vs < 2 || ve[-1] != '"')
			return 0;
		vs++;
		ve--;
	}
	for (i = 0; i < (size_t)(ve - vs); i++)
		if (!is_cookie_octet((unsigned char)vs[i]))
			return 0;
	name->s_ptr = p;
	name->s_len = (size_t)(ne - p);
	val->s_ptr = vs;
	val->s_len = (size_t)(ve - vs);
	return 1;
}

enum cu_err
cu_http_parse_cookies(struct cu_arena *a, const char *s, size_t n, struct cu_kv **out, size_t *nout)
{
	enum cu_err err = CU_OK;
	const char *cur, *end = s + n;
	struct cu_str name, val;
	struct cu_kv *kv = NULL;
	size_t count = 0, i = 0;
	int rc;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		goto out;
	/* A NUL cannot come from a CGI environment; from anywhere else it is an attack on
	 * the C strings the pairs become. */
	if (memchr(s, '\0', n) != NULL) {
		err = CU_ERR_INVALID;
		goto out;
	}
	cur = s;
	while ((rc = cookie_next(&cur, end, &name, &val)) >= 0) {
		if (rc == 1 && ++count > CU_HTTP_MAX_COOKIES) {
			err = CU_ERR_TOO_LARGE;
			goto out;
		}
	}
	if (count == 0)
		goto out;
	kv = cu_arena_alloc(a, count * sizeof(*kv));
	cur = s;
	while ((rc = cookie_next(&cur, end, &name, &val)) >= 0) {
		if (rc == 0)
			continue;
		kv[i].kv_key = cu_arena_strndup(a, name.s_ptr, name.s_len);
		kv[i].kv_val = cu_arena_strndup(a, val.s_ptr, val.s_len);
		kv[i].kv_vlen = val.s_len;
		i++;
	}
	*out = kv;
	*nout = i;
out:
	return err;
}

/* ---- request ---- */

static const struct {
	const char *name;
	enum cu_http_method method;
} methods[] = {
    {"GET", CU_HTTP_GET},         {"HEAD", CU_HTTP_HEAD},   {"POST", CU_HTTP_POST},
    {"PUT", CU_HTTP_PUT},         {"PATCH", CU_HTTP_PATCH}, {"DELETE", CU_HTTP_DELETE},
    {"OPTIONS", CU_HTTP_OPTIONS},
};

/* The value of entry when it is "name=value", else NULL. */
static const char *
env_value(const char *entry, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(entry, name, n) != 0 || entry[n] != '=')
		return NULL;
	return entry + n + 1;
}

/* The first value of name in envp, or NULL. */
static const char *
env_get(char *const *envp, const char *name)
{
	const char *v;

	if (envp == NULL)
		return NULL;
	for (; *envp != NULL; envp++)
		if ((v = env_value(*envp, name)) != NULL)
			return v;
	return NULL;
}

static void
request_id(struct cu_http_request *req, const char *given)
{
	unsigned char raw[16];
	size_t i, n;

	if (given != NULL) {
		n = strlen(given);
		if (n >= 1 && n < sizeof(req->rq_id)) {
			for (i = 0; i < n; i++) {
				unsigned char c = (unsigned char)given[i];

				if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				      (c >= '0' && c <= '9') || c == '-'))
					break;
			}
			if (i == n) {
				memcpy(req->rq_id, given, n + 1);
				return;
			}
		}
	}
	cu_crypto_random(raw, sizeof(raw));
	cu_hex_encode(req->rq_id, raw, sizeof(raw));
}

static int
is_loopback(const char *addr)
{
	unsigned char b[16];
	static const unsigned char v6_loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (inet_pton(AF_INET, addr, b) == 1)
		return b[0] == 127;
	if (inet_pton(AF_INET6, addr, b) == 1)
		return memcmp(b, v6_loop, 16) == 0 ||
		       (memcmp(b, v4_mapped, 12) == 0 && b[12] == 127);
	return 0;
}

/* CONTENT_LENGTH per RFC 3875: "" (no body) or digits. Anything else is refused rather than
 * guessed at, since a body length two parties read differently is request smuggling. */
static enum cu_err
parse_content_length(const char *s, long long *out)
{
	long long v = 0;

	*out = -1;
	if (*s == '\0')
		return CU_OK;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return CU_ERR_INVALID;
		if (v > (INT64_MAX - (*s - '0')) / 10)
			return CU_ERR_INVALID;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return CU_OK;
}

/* Refuses "." and ".." segments: the web server routed on its own normalised path, and a
 * handler must not see a different one. */
static int
has_dot_segment(const char *p)
{
	while (*p == '/') {
		const char *seg = ++p;

		while (*p != '\0' && *p != '/')
			p++;
		if ((p - seg == 1 && seg[0] == '.') ||
		    (p - seg == 2 && seg[0] == '.' && seg[1] == '.'))
			return 1;
	}
	return 0;
}

static enum cu_err
request_path(struct cu_http_request *req, struct cu_arena *a, const char *uri, const char *script,
             const char *pinfo)
{
	enum cu_err err = CU_ERR_INVALID;
	size_t rawlen, plen;
	char *path = NULL;

	if (uri != NULL) {
		const char *q = strchr(uri, '?');

		rawlen = q != NULL ? (size_t)(q - uri) : strlen(uri);
		/* Each decoded byte takes at most three raw ones. */
		if (rawlen > 3 * (size_t)CU_HTTP_MAX_PATH_LEN) {
			err = CU_ERR_TOO_LARGE;
			goto out;
		}
		req->rq_raw_path = cu_arena_strndup(a, uri, rawlen);
		if (rawlen == 0 || uri[0] != '/')
			goto out;
		err = cu_http_percent_decode(a, uri, rawlen, 0, &path, &plen);
		if (err != CU_OK)
			goto out;
		err = CU_ERR_INVALID;
	} else {
		/* CGI hands these over already decoded: decoding again would turn "%2541"
		 * into "A". */
		size_t slen = script != NULL ? strlen(script) : 0;
		size_t ilen = pinfo != NULL ? strlen(pinfo) : 0;

		if (slen > CU_HTTP_MAX_PATH_LEN || ilen > CU_HTTP_MAX_PATH_LEN - slen) {
			err = CU_ERR_TOO_LARGE;
			goto out;
		}
		plen = slen + ilen;
		path = cu_arena_alloc(a, plen + 1);
		if (slen > 0)
			memcpy(path, script, slen);
		if (ilen > 0)
			memcpy(path + slen, pinfo, ilen);
		path[plen] = '\0';
		req->rq_raw_path = path;
	}
	if (plen > CU_HTTP_MAX_PATH_LEN) {
		err = CU_ERR_TOO_LARGE;
		goto out;
	}
	if (plen == 0 || path[0] != '/' || has_dot_segment(path))
		goto out;
	req->rq_path = path;
	err = CU_OK;
out:
	return err;
}

/* "HTTP_USER_AGENT" -> "user-agent"; NULL for a name no web server would produce. */
static char *
header_name(struct cu_arena *a, const char *env, size_t n)
{
	char *name;
	size_t i;

	if (n == 0)
		return NULL;
	name = cu_arena_alloc(a, n + 1);
	for (i = 0; i < n; i++) {
		char c = env[i];

		if (c >= 'A' && c <= 'Z')
			name[i] = (char)(c - 'A' + 'a');
		else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			name[i] = c;
		else if (c == '_' || c == '-')
			name[i] = '-';
		else
			return NULL;
	}
	name[n] = '\0';
	return name;
}

/* Adds one header within the count and size limits. */
static enum cu_err
header_add(struct cu_http_request *req, struct cu_arena *a, char *name, const char *val,
           size_t *total)
{
	size_t nlen = strlen(name), vlen = strlen(val);

	if (req->rq_nheaders >= CU_HTTP_MAX_HEADERS || vlen > CU_HTTP_MAX_HEADER_LEN)
		return CU_ERR_TOO_LARGE;
	if (nlen + vlen > CU_HTTP_MAX_HEADERS_TOTAL - *total)
		return CU_ERR_TOO_LARGE;
	*total += nlen + vlen;
	req->rq_headers[req->rq_nheaders].kv_key = name;
	req->rq_headers[req->rq_nheaders].kv_val = cu_arena_strndup(a, val, vlen);
	req->rq_headers[req->rq_nheaders].kv_vlen = vlen;
	req->rq_nheaders++;
	return CU_OK;
}

static enum cu_err
request_headers(struct cu_http_request *req, struct cu_arena *a, char *const *envp)
{
	enum cu_err err = CU_OK;
	char *const *e;
	size_t total = 0;

	req->rq_headers = cu_arena_alloc(a, CU_HTTP_MAX_HEADERS * sizeof(*req->rq_headers));
	for (e = envp; e != NULL && *e != NULL; e++) {
		const char *eq = strchr(*e, '='), *v;
		char *name = NULL;

		if (eq == NULL)
			continue;
		if (strncmp(*e, "HTTP_", 5) == 0) {
			name = header_name(a, *e + 5, (size_t)(eq - *e - 5));
			v = eq + 1;
		} else if ((v = env_value(*e, "CONTENT_TYPE")) != NULL) {
			name = cu_arena_strdup(a, "content-type");
		} else if ((v = env_value(*e, "CONTENT_LENGTH")) != NULL) {
			name = cu_arena_strdup(a, "content-length");
		}
		if (name == NULL)
			continue;
		err = header_add(req, a, name, v, &total);
		if (err != CU_OK)
			goto out;
	}
out:
	return err;
}

/* Every Cookie value the environment carries, joined, so duplicates keep their order. */
static enum cu_err
request_cookies(struct cu_http_request *req, struct cu_arena *a, char *const *envp)
{
	struct cu_buf all;
	enum cu_err err = CU_OK;
	char *const *e;
	const char *v;

	cu_buf_init(&all, CU_HTTP_MAX_HEADERS_TOTAL + CU_HTTP_MAX_HEADERS * 2);
	for (e = envp; e != NULL && *e != NULL; e++) {
		if ((v = env_value(*e, "HTTP_COOKIE")) == NULL)
			continue;
		if ((all.bf_len > 0 && cu_buf_puts(&all, "; ") != 0) || cu_buf_puts(&all, v) != 0) {
			err = CU_ERR_TOO_LARGE;
			goto out;
		}
	}
	if (all.bf_len > 0)
		err = cu_http_parse_cookies(a, all.bf_ptr, all.bf_len, &req->rq_cookies,
		                            &req->rq_ncookies);
out:
	cu_buf_free(&all);
	return err;
}

static int
is_https(const char *https, const char *xfp, const char *remote)
{
	if (https != NULL && strcasecmp(https, "on") == 0)
		return 1;
	/* Only a proxy on this host may say the client came over TLS; anyone else could lie to
	 * get Secure cookies and https redirects issued over plain HTTP. */
	return xfp != NULL && strcasecmp(xfp, "https") == 0 && remote != NULL &&
	       is_loopback(remote);
}

enum cu_err
cu_http_request_parse(struct cu_http_request *req, struct cu_arena *a, char *const *envp)
{
	enum cu_err err = CU_ERR_INVALID;
	const char *method, *uri, *query, *clen, *v;
	size_t i, qlen;

	memset(req, 0, sizeof(*req));
	req->rq_method_name = "";
	req->rq_path = "";
	req->rq_raw_path = "";
	req->rq_query = "";
	req->rq_host = "";
	req->rq_remote_addr = "";
	req->rq_content_type = "";
	req->rq_content_length = -1;
	/* The id comes first so that even a refused request is logged under one. */
	request_id(req, env_get(envp, "HTTP_X_REQUEST_ID"));

	if ((v = env_get(envp, "REMOTE_ADDR")) != NULL)
		req->rq_remote_addr = cu_arena_strdup(a, v);

	method = env_get(envp, "REQUEST_METHOD");
	if (method == NULL || !is_token(method, strlen(method)) ||
	    strlen(method) > CU_HTTP_MAX_HEADER_LEN)
		goto out;
	req->rq_method_name = cu_arena_strdup(a, method);
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(method, methods[i].name) == 0)
			req->rq_method = methods[i].method;

	err = request_headers(req, a, envp);
	if (err != CU_OK)
		goto out;

	uri = env_get(envp, "REQUEST_URI");
	err = request_path(req, a, uri, env_get(envp, "SCRIPT_NAME"), env_get(envp, "PATH_INFO"));
	if (err != CU_OK)
		goto out;

	query = env_get(envp, "QUERY_STRING");
	if (query == NULL && uri != NULL && (query = strchr(uri, '?')) != NULL)
		query++;
	if (query != NULL) {
		qlen = strlen(query);
		if (qlen > CU_HTTP_MAX_QUERY_LEN) {
			err = CU_ERR_TOO_LARGE;
			goto out;
		}
		req->rq_query = cu_arena_strndup(a, query, qlen);
		err = cu_http_parse_urlencoded(a, req->rq_query, qlen, CU_HTTP_MAX_PARAMS,
		                               &req->rq_args, &req->rq_nargs);
		if (err != CU_OK)
			goto out;
	}

	if ((v = env_get(envp, "CONTENT_TYPE")) != NULL)
		req->rq_content_type = cu_arena_strdup(a, v);
	if ((clen = env_get(envp, "CONTENT_LENGTH")) != NULL) {
		err = parse_content_length(clen, &req->rq_content_length);
		if (err != CU_OK)
			goto out;
	}

	err = request_cookies(req, a, envp);
	if (err != CU_OK)
		goto out;

	if ((v = cu_http_header(req, "host")) != NULL)
		req->rq_host = v;
	req->rq_https = is_https(env_get(envp, "HTTPS"), cu_http_header(req, "x-forwarded-proto"),
	                         req->rq_remote_addr);
	err = CU_OK;
out:
	return err;
}

/* Reads exactly n bytes into p; CU_ERR_INVALID when the stream ends first. */
static enum cu_err
read_exact(cu_http_read_fn *rd, void *rdctx, char *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		long r = rd(rdctx, p + got, n - got);

		if (r == 0)
			return CU_ERR_INVALID;
		if (r < 0 || (unsigned long)r > n - got)
			return CU_ERR_INTERNAL;
		got += (size_t)r;
	}
	return CU_OK;
}

/*
 * Reads until the end of the stream, refusing more than max bytes. Storage grows by doubling
 * in the arena; the outgrown copies die with the request.
 */
static enum cu_err
read_to_end(cu_http_read_fn *rd, void *rdctx, struct cu_arena *a, size_t max, char **out,
            size_t *outlen)
{
	size_t cap = max < BODY_STEP ? max + 1 : BODY_STEP, len = 0;
	char *p = cu_arena_alloc(a, cap + 1);

	*out = NULL;
	*outlen = 0;
	for (;;) {
		long r;

		if (len == cap) {
			size_t ncap;
			char *np;

			if (cap > max)
				return CU_ERR_TOO_LARGE;
			ncap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
			np = cu_arena_alloc(a, ncap + 1);
			memcpy(np, p, len);
			p = np;
			cap = ncap;
		}
		r = rd(rdctx, p + len, cap - len);
		if (r == 0)
			break;
		if (r < 0 || (unsigned long)r > cap - len)
			return CU_ERR_INTERNAL;
		len += (size_t)r;
	}
	if (len > max)
		return CU_ERR_TOO_LARGE;
	p[len] = '\0';
	*out = p;
	*outlen = len;
	return CU_OK;
}

enum cu_err
cu_http_request_read_body(struct cu_http_request *req, struct cu_arena *a, cu_http_read_fn *rd,
                          void *rdctx, size_t max)
{
	enum cu_err err = CU_OK;
	char *body = NULL;
	size_t len = 0;

	if (req->rq_body != NULL)
		goto out;
	/* max + 1 must not wrap when reading to the end. */
	if (max == SIZE_MAX)
		max--;
	if (req->rq_content_length >= 0) {
		if ((unsigned long long)req->rq_content_length > max) {
			err = CU_ERR_TOO_LARGE;
			goto out;
		}
		len = (size_t)req->rq_content_length;
		body = cu_arena_alloc(a, len + 1);
		err = read_exact(rd, rdctx, body, len);
		if (err != CU_OK)
			goto out;
		body[len] = '\0';
	} else {
		err = read_to_end(rd, rdctx, a, max, &body, &len);
		if (err != CU_OK)
			goto out;
	}
	req->rq_body = body;
	req->rq_body_len = len;
out:
	return err;
}

static const char *
kv_find(const struct cu_kv *kv, size_t n, const char *name, int nocase)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (nocase ? strcasecmp(kv[i].kv_key, name) == 0 : strcmp(kv[i].kv_key, name) == 0)
			return kv[i].kv_val;
	}
	return NULL;
}

const char *
cu_http_header(const struct cu_http_request *req, const char *name)
{
	return kv_find(req->rq_headers, req->rq_nheaders, name, 1);
}

const char *
cu_http_cookie(const struct cu_http_request *req, const char *name)
{
	return kv_find(req->rq_cookies, req->rq_ncookies, name, 0);
}

const char *
cu_http_arg(const struct cu_http_request *req, const char *name)
{
	return kv_find(req->rq_args, req->rq_nargs, name, 0);
}

/* The media type of a Content-Type value, compared without its parameters. */
static int
media_type_is(const char *ctype, const char *want)
{
	size_t n = strcspn(ctype, ";");

	while (n > 0 && is_ows(ctype[n - 1]))
		n--;
	return n == strlen(want) && strncasecmp(ctype, want, n) == 0;
}

enum cu_err
cu_http_parse_form(const struct cu_http_request *req, struct cu_arena *a, struct cu_kv **out,
                   size_t *nout)
{
	*out = NULL;
	*nout = 0;
	/* A handler that wants a form must not be fed JSON or multipart as if it were one. */
	if (!media_type_is(req->rq_content_type, "application/x-www-form-urlencoded"))
		return CU_ERR_INVALID;
	if (req->rq_body == NULL)
		return CU_OK;
	return cu_http_parse_urlencoded(a, req->rq_body, req->rq_body_len, CU_HTTP_MAX_PARAMS, out,
	                                nout);
}

/* ---- response ---- */

void
cu_http_response_init(struct cu_http_response *r)
{
	memset(r, 0, sizeof(*r));
	cu_buf_init(&r->rs_body, CU_HTTP_MAX_RESPONSE_BODY);
}

void
cu_http_response_reset(struct cu_http_response *r)
{
	r->rs_status = 0;
	r->rs_content_type = NULL;
	r->rs_nheaders = 0;
	r->rs_head_only = 0;
	cu_buf_clear(&r->rs_body);
}

void
cu_http_response_free(struct cu_http_response *r)
{
	cu_buf_free(&r->rs_body);
	cu_http_response_reset(r);
}

int
cu_http_set_header(struct cu_http_response *r, const char *name, const char *value)
{
	if (name == NULL || value == NULL || !is_token(name, strlen(name)) ||
	    !is_field_value(value))
		return -1;
	/* The writer owns these: a second Status or Content-Length line would let a handler
	 * contradict the body actually sent. */
	if (strcasecmp(name, "Status") == 0 || strcasecmp(name, "Content-Length") == 0)
		return -1;
	if (strcasecmp(name, "Content-Type") == 0) {
		r->rs_content_type = value;
		return 0;
	}
	if (r->rs_nheaders >= CU_HTTP_MAX_RESPONSE_HEADERS)
		return -1;
	r->rs_headers[r->rs_nheaders].kv_key = name;
	r->rs_headers[r->rs_nheaders].kv_val = value;
	r->rs_headers[r->rs_nheaders].kv_vlen = strlen(value);
	r->rs_nheaders++;
	return 0;
}

/* Path and Domain attribute values: no control bytes and no ';', which would start another
 * attribute. Domain is further held to host name characters. */
static int
cookie_attr_ok(const char *s, int domain)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == ';')
			return 0;
		if (domain && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		                (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

int
cu_http_set_cookie(struct cu_http_response *r, struct cu_arena *a, const char *name,
                   const char *value, const struct cu_cookie_opts *o)
{
	static const struct cu_cookie_opts defaults = {NULL, NULL, -1, 0, 0, NULL};
	struct cu_buf c;
	const char *path;
	char *hdr = NULL;
	size_t i, vlen;
	int rc = -1;

	cu_buf_init(&c, CU_HTTP_MAX_HEADER_LEN);
	if (o == NULL)
		o = &defaults;
	path = o->co_path != NULL ? o->co_path : "/";
	if (name == NULL || value == NULL || !is_token(name, strlen(name)))
		goto out;
	vlen = strlen(value);
	for (i = 0; i < vlen; i++)
		if (!is_cookie_octet((unsigned char)value[i]))
			goto out;
	if (!cookie_attr_ok(path, 0) || (o->co_domain != NULL && !cookie_attr_ok(o->co_domain, 1)))
		goto out;
	if (o->co_same_site != NULL && strcmp(o->co_same_site, "Lax") != 0 &&
	    strcmp(o->co_same_site, "Strict") != 0 && strcmp(o->co_same_site, "None") != 0)
		goto out;
	/* Browsers drop these cookies silently; refusing here makes the mistake visible. */
	if (o->co_same_site != NULL && strcmp(o->co_same_site, "None") == 0 && !o->co_secure)
		goto out;
	if (strncmp(name, "__Secure-", 9) == 0 && !o->co_secure)
		goto out;
	if (strncmp(name, "__Host-", 7) == 0 &&
	    (!o->co_secure || o->co_domain != NULL || strcmp(path, "/") != 0))
		goto out;

	if (cu_buf_printf(&c, "%s=%s; Path=%s", name, value, path) != 0)
		goto out;
	if (o->co_domain != NULL && cu_buf_printf(&c, "; Domain=%s", o->co_domain) != 0)
		goto out;
	if (o->co_max_age == 0 && cu_buf_puts(&c, "; Max-Age=0; Expires=" COOKIE_EPOCH) != 0)
		goto out;
	if (o->co_max_age > 0 && cu_buf_printf(&c, "; Max-Age=%ld", o->co_max_age) != 0)
		goto out;
	if (o->co_http_only && cu_buf_puts(&c, "; HttpOnly") != 0)
		goto out;
	if (o->co_secure && cu_buf_puts(&c, "; Secure") != 0)
		goto out;
	if (o->co_same_site != NULL && cu_buf_printf(&c, "; SameSite=%s", o->co_same_site) != 0)
		goto out;
	hdr = cu_arena_strndup(a, c.bf_ptr, c.bf_len);
	rc = cu_http_set_header(r, "Set-Cookie", hdr);
out:
	cu_buf_free(&c);
	return rc;
}

void
cu_http_send_text(struct cu_http_response *r, int status, const char *ctype, const char *body,
                  size_t len)
{
	r->rs_status = status;
	r->rs_content_type = ctype != NULL ? ctype : "text/plain; charset=utf-8";
	cu_buf_clear(&r->rs_body);
	if (cu_buf_append(&r->rs_body, body, len) != 0)
		cu_http_send_error(r, 500, "response too large");
}

void
cu_http_send_json(struct cu_http_response *r, int status, const char *json, size_t len)
{
	cu_http_send_text(r, status, "application/json", json, len);
}

void
cu_http_send_error(struct cu_http_response *r, int status, const char *detail)
{
	if (detail == NULL)
		detail = cu_http_reason(status);
	r->rs_status = status;
	r->rs_content_type = "application/json";
	cu_buf_clear(&r->rs_body);
	/* The body cap is megabytes; only an absurd detail can fail, and then the status alone
	 * still says what happened. */
	if (cu_buf_puts(&r->rs_body, "{\"detail\":\"") != 0 ||
	    cu_buf_json_escape(&r->rs_body, detail, strlen(detail)) != 0 ||
	    cu_buf_puts(&r->rs_body, "\"}") != 0)
		cu_buf_clear(&r->rs_body);
}

const char *
cu_http_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 206:
		return "Partial Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 303:
		return "See Other";
	case 304:
		return "Not Modified";
	case 307:
		return "Temporary Redirect";
	case 308:
		return "Permanent Redirect";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 406:
		return "Not Acceptable";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 411:
		return "Length Required";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Unknown";
	}
}

/*
 * The head in CGI form. Fields are checked again here because the response struct is public:
 * whatever a handler stored directly, nothing reaches the web server that could split the
 * response. -1 when something stored is unsafe or the head passes its cap.
 */
static int
response_head(struct cu_buf *h, const struct cu_http_response *r, int status, int bodyless)
{
	size_t i;

	if (cu_buf_printf(h, "Status: %d %s\r\n", status, cu_http_reason(status)) != 0)
		return -1;
	if (r->rs_content_type != NULL) {
		if (!is_field_value(r->rs_content_type) ||
		    cu_buf_printf(h, "Content-Type: %s\r\n", r->rs_content_type) != 0)
			return -1;
	}
	if (!bodyless && cu_buf_printf(h, "Content-Length: %zu\r\n", r->rs_body.bf_len) != 0)
		return -1;
	for (i = 0; i < r->rs_nheaders && i < CU_HTTP_MAX_RESPONSE_HEADERS; i++) {
		const struct cu_kv *kv = &r->rs_headers[i];

		if (kv->kv_key == NULL || kv->kv_val == NULL ||
		    !is_token(kv->kv_key, strlen(kv->kv_key)) || !is_field_value(kv->kv_val))
			return -1;
		if (cu_buf_printf(h, "%s: %s\r\n", kv->kv_key, kv->kv_val) != 0)
			return -1;
	}
	return cu_buf_puts(h, "\r\n");
}

int
cu_http_response_write(const struct cu_http_response *r, cu_http_write_fn *wr, void *wrctx)
{
	static const char fallback[] =
	    "Status: 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
	struct cu_buf head;
	int status = r->rs_status, bodyless, rc = -1;

	cu_buf_init(&head, CU_HTTP_MAX_HEADERS_TOTAL);
	if (status < 100 || status > 599)
		status = 500;
	/* RFC 9110 forbids a body (and for these, a length) on 1xx, 204 and 304. */
	bodyless = status < 200 || status == 204 || status == 304;
	if (response_head(&head, r, status, bodyless) != 0) {
		rc = wr(wrctx, fallback, sizeof(fallback) - 1) == 0 ? 0 : -1;
		goto out;
	}
	if (wr(wrctx, head.bf_ptr, head.bf_len) != 0)
		goto out;
	if (!bodyless && !r->rs_head_only && r->rs_body.bf_len > 0 &&
	    wr(wrctx, r->rs_body.bf_ptr, r->rs_body.bf_len) != 0)
		goto out;
	rc = 0;
out:
	cu_buf_free(&head);
	return rc;
}

const char *
cu_http_kv_one(const struct cu_kv *kv, size_t n, const char *name, int *repeated)
{
	const char *v = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(kv[i].kv_key, name) != 0)
			continue;
		if (v != NULL)
			*repeated = 1;
		v = kv[i].kv_val;
	}
	return v;
}
