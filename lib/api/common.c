#include "api/common.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "auth.h"
#include "buf.h"
#include "db.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "multipart.h"
#include "server.h"
#include "sessions.h"

#define API_PAGE_SIZE 20
#define API_MAX_PAGE_SIZE 100
#define API_MAX_SEARCH 256
#define API_MAX_PARAMS 32

int
cu_api_login(struct cu_ctx *cx)
{
	struct cu_user *u = NULL;
	enum cu_err err = cu_auth_request(cx, &u);

	if (err == CU_ERR_UNAVAILABLE) {
		cu_ctx_fail(cx, err, "The database");
		return -1;
	}
	if (err != CU_OK || u == NULL) {
		if (cu_http_set_header(cx->cx_resp, "WWW-Authenticate",
		                       "Bearer realm=\"authentik\"") != 0)
			cu_log_msg(CU_LOG_WARNING, "header_table_full",
			           "WWW-Authenticate not sent");
		cu_ctx_error(cx, 401,
		             u == NULL && err == CU_OK
		                 ? "Authentication credentials were not provided."
		                 : "Token invalid/expired");
		return -1;
	}
	/* A browser's session rides on a cookie the browser adds by itself, so a change made with
	 * it must prove it came from custos's own pages: Django's CSRF check, as authentik. */
	if (cx->cx_via_session &&
	    !(cx->cx_req->rq_method & (CU_HTTP_GET | CU_HTTP_HEAD | CU_HTTP_OPTIONS)) &&
	    !cu_sessions_csrf_ok(cx)) {
		cu_ctx_error(cx, 403, "CSRF Failed: CSRF token missing or incorrect.");
		return -1;
	}
	/* What an API answer holds is for this caller alone: no cache may keep it. */
	if (cu_http_set_header(cx->cx_resp, "Cache-Control", "no-store") != 0)
		cu_log_msg(CU_LOG_WARNING, "header_table_full", "Cache-Control not sent");
	cx->cx_user = u;
	return 0;
}

int
cu_api_require(struct cu_ctx *cx, const char *perm, const char *object_pk)
{
	int ok = cu_auth_has_perm(cx, cx->cx_user, perm, object_pk);

	if (ok < 0) {
		cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The database");
		return -1;
	}
	if (!ok) {
		cu_ctx_error(cx, 403, "You do not have permission to perform this action.");
		return -1;
	}
	return 0;
}

int
cu_api_form_body(struct cu_ctx *cx, struct cu_multipart_part **parts, size_t *n)
{
	const struct cu_http_request *rq = cx->cx_req;
	const char *why = NULL;

	if (strncasecmp(rq->rq_content_type, "multipart/form-data", 19) != 0) {
		cu_ctx_error(cx, 415,
		             cu_arena_printf(cx->cx_arena,
		                             "Unsupported media type \"%.64s\" in request.",
		                             rq->rq_content_type));
		return -1;
	}
	if (cu_multipart_parse(cx->cx_arena, rq->rq_content_type,
	                       rq->rq_body != NULL ? rq->rq_body : "", rq->rq_body_len, parts, n,
	                       &why) != CU_OK) {
		cu_ctx_error(cx, 400,
		             cu_arena_printf(cx->cx_arena, "Multipart form parse error - %s", why));
		return -1;
	}
	return 0;
}

int
cu_api_body(struct cu_ctx *cx, struct json_object **out)
{
	const struct cu_http_request *req = cx->cx_req;
	const char *ct = req->rq_content_type;
	struct json_object *o = NULL;
	enum cu_err err;

	*out = NULL;
	if (req->rq_body == NULL || req->rq_body_len == 0) {
		*out = cu_json_object(cx->cx_arena);
		return 0;
	}
	if (ct != NULL && ct[0] != '\0' && strncasecmp(ct, "application/json", 16) != 0) {
		cu_ctx_error(cx, 415,
		             cu_arena_printf(cx->cx_arena,
		                             "Unsupported media type \"%.64s\" in request.", ct));
		return -1;
	}
	err = cu_json_parse(cx->cx_arena, req->rq_body, req->rq_body_len, &o);
	if (err != CU_OK) {
		cu_ctx_error(cx, err == CU_ERR_TOO_LARGE ? 413 : 400,
		             "JSON parse error - the body is not valid JSON.");
		return -1;
	}
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		struct cu_api_errors e;

		cu_api_errors_init(&e, cx);
		cu_api_error(&e, NULL, "Invalid data. Expected a dictionary.");
		cu_api_errors_send(cx, &e);
		return -1;
	}
	*out = o;
	return 0;
}

void
cu_api_errors_init(struct cu_api_errors *e, struct cu_ctx *cx)
{
	e->ae_obj = cu_json_object(cx->cx_arena);
	e->ae_count = 0;
}

void
cu_api_error(struct cu_api_errors *e, const char *field, const char *msg)
{
	struct json_object *list = NULL;
	const char *key = field != NULL ? field : "non_field_errors";

	if (!json_object_object_get_ex(e->ae_obj, key, &list)) {
		list = json_object_new_array();
		json_object_object_add(e->ae_obj, key, list);
	}
	json_object_array_add(list, json_object_new_string(msg));
	e->ae_count++;
}

int
cu_api_errors_any(const struct cu_api_errors *e)
{
	return e->ae_count > 0;
}

void
cu_api_errors_send(struct cu_ctx *cx, struct cu_api_errors *e)
{
	cu_log(CU_LOG_INFO, "validation_failed", CU_LI("errors", e->ae_count),
	       CU_LS("body", cu_json_text(e->ae_obj, NULL)));
	cu_ctx_json(cx, 400, e->ae_obj);
}

/* The value under key, or NULL when absent; *present tells null from absent. */
static struct json_object *
field_get(struct json_object *body, const char *key, int *present)
{
	struct json_object *v = NULL;

	*present = body != NULL && json_object_object_get_ex(body, key, &v);
	return v;
}

int
cu_api_field_string(struct cu_api_errors *e, struct json_object *body, const char *key,
                    size_t max_len, int allow_blank, int nullable, const char **out)
{
	int present;
	struct json_object *v = field_get(body, key, &present);
	const char *s;
	size_t len;

	*out = NULL;
	if (!present)
		return 0;
	if (v == NULL) {
		if (nullable)
			return 1;
		cu_api_error(e, key, "This field may not be null.");
		return -1;
	}
	if (!json_object_is_type(v, json_type_string)) {
		cu_api_error(e, key, "Not a valid string.");
		return -1;
	}
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (strlen(s) != len) {
		cu_api_error(e, key, "Null characters are not allowed.");
		return -1;
	}
	if (!allow_blank && len == 0) {
		cu_api_error(e, key, "This field may not be blank.");
		return -1;
	}
	if (max_len > 0 && len > max_len) {
		char msg[96];

		snprintf(msg, sizeof(msg), "Ensure this field has no more than %zu characters.",
		         max_len);
		cu_api_error(e, key, msg);
		return -1;
	}
	*out = s;
	return 1;
}

int
cu_api_field_bool(struct cu_api_errors *e, struct json_object *body, const char *key, int *out)
{
	int present;
	struct json_object *v = field_get(body, key, &present);

	if (!present)
		return 0;
	if (v == NULL || !json_object_is_type(v, json_type_boolean)) {
		cu_api_error(e, key, "Must be a valid boolean.");
		return -1;
	}
	*out = json_object_get_boolean(v);
	return 1;
}

int
cu_api_field_int(struct cu_api_errors *e, struct json_object *body, const char *key, int64_t min,
                 int64_t max, int64_t *out)
{
	int present;
	struct json_object *v = field_get(body, key, &present);
	int64_t n;

	if (!present)
		return 0;
	if (v == NULL || !json_object_is_type(v, json_type_int)) {
		cu_api_error(e, key, "A valid integer is required.");
		return -1;
	}
	errno = 0;
	n = json_object_get_int64(v);
	if (n < min || n > max || n == INT64_MAX || n == INT64_MIN) {
		cu_api_error(e, key, "Ensure this value is within the allowed range.");
		return -1;
	}
	*out = n;
	return 1;
}

int
cu_api_field_object(struct cu_api_errors *e, struct json_object *body, const char *key,
                    struct json_object **out)
{
	int present;
	struct json_object *v = field_get(body, key, &present);

	*out = NULL;
	if (!present)
		return 0;
	if (v == NULL || !json_object_is_type(v, json_type_object)) {
		cu_api_error(e, key, "Expected a dictionary of items.");
		return -1;
	}
	*out = v;
	return 1;
}

int
cu_api_is_uuid(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

int
cu_api_field_uuid(struct cu_api_errors *e, struct json_object *body, const char *key, int nullable,
                  const char **out)
{
	int present;
	struct json_object *v = field_get(body, key, &present);

	*out = NULL;
	if (!present)
		return 0;
	if (v == NULL && nullable)
		return 1;
	if (v == NULL || !json_object_is_type(v, json_type_string) ||
	    !cu_api_is_uuid(json_object_get_string(v))) {
		cu_api_error(e, key, "Must be a valid UUID.");
		return -1;
	}
	*out = json_object_get_string(v);
	return 1;
}

int
cu_api_field_array(struct cu_api_errors *e, struct json_object *body, const char *key,
                   struct json_object **out)
{
	int present;
	struct json_object *v = field_get(body, key, &present);

	*out = NULL;
	if (!present)
		return 0;
	if (v == NULL || !json_object_is_type(v, json_type_array)) {
		cu_api_error(e, key, "Expected a list of items.");
		return -1;
	}
	*out = v;
	return 1;
}

int
cu_api_field_choice(struct cu_api_errors *e, struct json_object *body, const char *key,
                    const char *const *choices, const char **out)
{
	int present;
	struct json_object *v = field_get(body, key, &present);
	const char *s;
	size_t i;

	*out = NULL;
	if (!present)
		return 0;
	if (v != NULL && json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		for (i = 0; choices[i] != NULL; i++) {
			if (strcmp(s, choices[i]) == 0) {
				*out = choices[i];
				return 1;
			}
		}
	}
	cu_api_error(e, key, "Not a valid choice.");
	return -1;
}

const char *
cu_api_pg_array(struct cu_ctx *cx, const char *const *items, size_t n)
{
	struct cu_buf b;
	size_t i;
	char *out;

	cu_buf_init(&b, CU_HTTP_MAX_BODY_LIMIT);
	if (cu_buf_putc(&b, '{') != 0)
		goto full;
	for (i = 0; i < n; i++) {
		const char *p;

		if ((i > 0 && cu_buf_putc(&b, ',') != 0) || cu_buf_putc(&b, '"') != 0)
			goto full;
		for (p = items[i]; *p != '\0'; p++) {
			if ((*p == '"' || *p == '\\') && cu_buf_putc(&b, '\\') != 0)
				goto full;
			if (cu_buf_putc(&b, *p) != 0)
				goto full;
		}
		if (cu_buf_putc(&b, '"') != 0)
			goto full;
	}
	if (cu_buf_putc(&b, '}') != 0)
		goto full;
	out = cu_arena_strndup(cx->cx_arena, b.bf_ptr, b.bf_len);
	cu_buf_free(&b);
	return out;
full:
	cu_die("array literal past the body limit");
}

/* --- lists ------------------------------------------------------------------------------- */

struct list_query {
	struct cu_buf lq_where; /* " AND ..." conditions */
	const char *lq_params[API_MAX_PARAMS];
	int lq_n;
};

/* Appends cond with its first "%d" replaced by n (n 0: cond has none). The fragments are the
 * code's constants, so this is no printf on outside text. */
static int
put_placeholder(struct cu_buf *b, const char *cond, int n)
{
	const char *d = n > 0 ? strstr(cond, "%d") : NULL;

	if (d == NULL)
		return cu_buf_puts(b, cond);
	if (cu_buf_append(b, cond, (size_t)(d - cond)) != 0 || cu_buf_printf(b, "%d", n) != 0)
		return -1;
	return cu_buf_puts(b, d + 2);
}

/* Appends " AND " + cond with its %d replaced by the next placeholder, bound to value. */
static int
add_cond(struct list_query *q, const char *cond, const char *value)
{
	if (value != NULL) {
		if (q->lq_n >= API_MAX_PARAMS - 2)
			return -1;
		q->lq_params[q->lq_n++] = value;
	}
	if (cu_buf_puts(&q->lq_where, " AND ") != 0)
		return -1;
	return put_placeholder(&q->lq_where, cond, value != NULL ? q->lq_n : 0);
}

static int
parse_long(const char *s, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || errno != 0)
		return -1;
	*out = v;
	return 0;
}

static const char *
bool_value(const char *s)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "1") == 0)
		return "true";
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "0") == 0)
		return "false";
	return NULL;
}

/* The filter's value for this request, NULL when absent; *bad set when malformed. */
static const char *
filter_value(struct cu_ctx *cx, const struct cu_api_filter *f, int *bad)
{
	const struct cu_http_request *req = cx->cx_req;
	const char *v = cu_http_arg(req, f->af_param);
	long long n;

	*bad = 0;
	if (v == NULL)
		return NULL;
	switch (f->af_type) {
	case CU_API_F_TEXT:
		return v;
	case CU_API_F_BOOL:
		if ((v = bool_value(v)) == NULL)
			*bad = 1;
		return v;
	case CU_API_F_INT:
		if (parse_long(v, &n) != 0)
			*bad = 1;
		return v;
	case CU_API_F_UUID:
		if (!cu_api_is_uuid(v))
			*bad = 1;
		return v;
	case CU_API_F_TEXT_ANY: {
		const char **vals = cu_arena_alloc(cx->cx_arena, req->rq_nargs * sizeof(*vals));
		size_t i, k = 0;

		for (i = 0; i < req->rq_nargs; i++)
			if (strcmp(req->rq_args[i].kv_key, f->af_param) == 0)
				vals[k++] = req->rq_args[i].kv_val;
		return cu_api_pg_array(cx, vals, k);
	}
	}
	*bad = 1;
	return NULL;
}

/* ORDER BY from ordering=, falling back to the default; the tiebreak keeps pages disjoint. */
static const char *
order_by(struct cu_ctx *cx, const struct cu_api_list *l)
{
	const char *ordering = cu_http_arg(cx->cx_req, "ordering");
	const char *sources[2] = {ordering, l->al_default_sort};
	struct cu_buf b;
	char *out;
	size_t s;
	int first_desc = -1;

	cu_buf_init(&b, 4096);
	for (s = 0; s < 2 && b.bf_len == 0; s++) {
		const char *p = sources[s];

		while (p != NULL && *p != '\0') {
			const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
			int desc = *p == '-';
			size_t i, len;

			if (desc)
				p++;
			len = (size_t)(end - p);
			for (i = 0; i < l->al_nsorts; i++) {
				if (strlen(l->al_sorts[i].as_name) == len &&
				    strncmp(l->al_sorts[i].as_name, p, len) == 0) {
					if ((b.bf_len > 0 && cu_buf_puts(&b, ", ") != 0) ||
					    cu_buf_printf(&b, "%s %s", l->al_sorts[i].as_sql,
					                  desc ? "DESC" : "ASC") != 0)
						cu_die("ordering too long");
					if (first_desc < 0)
						first_desc = desc;
					break;
				}
			}
			p = comma ? comma + 1 : NULL;
		}
	}
	/* The tiebreak runs the way the first key does, so that one (key, pk) index serves both
	 * directions: PostgreSQL scans it backwards for DESC, DESC. */
	if ((b.bf_len > 0 && cu_buf_puts(&b, ", ") != 0) ||
	    cu_buf_printf(&b, "%s %s", l->al_tiebreak, first_desc == 1 ? "DESC" : "ASC") != 0)
		cu_die("ordering too long");
	out = cu_arena_strndup(cx->cx_arena, b.bf_ptr, b.bf_len);
	cu_buf_free(&b);
	return out;
}

/* "%term%" for ILIKE, with the pattern characters of term escaped. */
static const char *
like_pattern(struct cu_ctx *cx, const char *term)
{
	size_t n = strlen(term), i, j = 0;
	char *p = cu_arena_alloc(cx->cx_arena, n * 2 + 3);

	p[j++] = '%';
	for (i = 0; i < n; i++) {
		if (term[i] == '%' || term[i] == '_' || term[i] == '\\')
			p[j++] = '\\';
		p[j++] = term[i];
	}
	p[j++] = '%';
	p[j] = '\0';
	return p;
}

/* l's conditions for this request into q: who may see which rows, its filters, extra and the
 * search. 0, or -1 having answered (400 for a bad filter value or search, 503). */
static int
list_conditions(struct cu_ctx *cx, const struct cu_api_list *l, const struct cu_api_cond *extra,
                size_t nextra, struct list_query *q)
{
	struct cu_api_errors e;
	const char *search;
	size_t i;
	int r, bad;

	cu_api_errors_init(&e, cx);
	/* Visibility: the model permission shows every row, else the objects it covers. */
	r = l->al_view_perm == NULL ? 1 : cu_auth_has_perm(cx, cx->cx_user, l->al_view_perm, NULL);
	if (r < 0) {
		cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "The database");
		return -1;
	}
	if (!r && l->al_view_perm != NULL) {
		const char *cond =
		    l->al_owner == NULL
		        ? cu_arena_printf(cx->cx_arena,
		                          "%s IN (SELECT user_perm_objects($%%d, '%s'))", l->al_pk,
		                          l->al_view_perm)
		        : cu_arena_printf(
		              cx->cx_arena,
		              "EXISTS (SELECT 1 FROM (SELECT $%%d::bigint AS me) m WHERE "
		              "%s = m.me OR %s IN (SELECT user_perm_objects(m.me, '%s')))",
		              l->al_owner, l->al_pk, l->al_view_perm);

		if (add_cond(q, cond, cx->cx_user->us_id_text) != 0)
			cu_die("list conditions");
	}
	for (i = 0; i < l->al_nfilters; i++) {
		const char *val = filter_value(cx, &l->al_filters[i], &bad);

		if (bad) {
			cu_api_error(&e, l->al_filters[i].af_param, "Enter a valid value.");
			continue;
		}
		if (val != NULL && add_cond(q, l->al_filters[i].af_sql, val) != 0)
			cu_die("list conditions");
	}
	if (cu_api_errors_any(&e)) {
		cu_api_errors_send(cx, &e);
		return -1;
	}
	for (i = 0; i < nextra; i++)
		if (add_cond(q, extra[i].ac_sql, extra[i].ac_value) != 0)
			cu_die("list conditions");
	search = cu_http_arg(cx->cx_req, "search");
	if (search != NULL && search[0] != '\0' && l->al_search != NULL) {
		if (strlen(search) > API_MAX_SEARCH) {
			cu_api_error(&e, "search", "Ensure this value has at most 256 characters.");
			cu_api_errors_send(cx, &e);
			return -1;
		}
		if (add_cond(q, l->al_search, like_pattern(cx, search)) != 0)
			cu_die("list conditions");
	}
	return 0;
}

int
cu_api_list_where(struct cu_ctx *cx, const struct cu_api_list *l, const struct cu_api_cond *extra,
                  size_t nextra, const char **where, const char ***params, int *n)
{
	struct list_query q;
	int rc;

	memset(&q, 0, sizeof(q));
	cu_buf_init(&q.lq_where, 65536);
	rc = list_conditions(cx, l, extra, nextra, &q);
	if (rc == 0) {
		*where = q.lq_where.bf_ptr != NULL
		             ? cu_arena_strndup(cx->cx_arena, q.lq_where.bf_ptr, q.lq_where.bf_len)
		             : "";
		*params = cu_arena_alloc(cx->cx_arena, (size_t)(q.lq_n + 1) * sizeof(**params));
		memcpy(*params, q.lq_params, (size_t)q.lq_n * sizeof(**params));
		*n = q.lq_n;
	}
	cu_buf_free(&q.lq_where);
	return rc;
}

void
cu_api_list_send(struct cu_ctx *cx, const struct cu_api_list *l, const struct cu_api_cond *extra,
                 size_t nextra)
{
	cu_api_list_send_kept(cx, l, extra, nextra, NULL, NULL);
}

void
cu_api_list_send_kept(struct cu_ctx *cx, const struct cu_api_list *l,
                      const struct cu_api_cond *extra, size_t nextra, cu_api_keep_fn keep,
                      void *keep_arg)
{
	struct list_query q;
	struct cu_buf out;
	long long page = 1, size = API_PAGE_SIZE, count = 0, pages, start, end, v;
	const char *arg, *sql;
	PGresult *res = NULL;
	enum cu_err err;
	int rows, r, sent;

	memset(&q, 0, sizeof(q));
	cu_buf_init(&q.lq_where, 65536);
	cu_buf_init(&out, CU_HTTP_MAX_RESPONSE_BODY);

	if ((arg = cu_http_arg(cx->cx_req, "page")) != NULL) {
		if (parse_long(arg, &page) != 0 || page < 1 || page > 1000000000) {
			cu_ctx_error(cx, 404, "Invalid page.");
			goto out;
		}
	}
	if ((arg = cu_http_arg(cx->cx_req, "page_size")) != NULL && parse_long(arg, &v) == 0 &&
	    v > 0)
		size = v > API_MAX_PAGE_SIZE ? API_MAX_PAGE_SIZE : v;

	if (list_conditions(cx, l, extra, nextra, &q) != 0)
		goto out;
	/* The count first, over the conditions alone: PostgreSQL counts from an index without
	 * building a single row, where a window count over the page query would build them all
	 * (and a search, matched by its trigram index here, would lead the planner to walk the
	 * whole table in order). */
	sql = cu_arena_printf(cx->cx_arena, "SELECT count(*) %s WHERE true%s", l->al_from,
	                      q.lq_where.bf_ptr ? q.lq_where.bf_ptr : "");
	err = cu_db_query(cx->cx_db, cx->cx_arena, &res, sql, q.lq_n, q.lq_params);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		goto out;
	}
	count = strtoll(cu_db_value(res, 0, 0), NULL, 10);
	if (page > 1 && (page - 1) * size >= count) {
		cu_ctx_error(cx, 404, "Invalid page.");
		goto out;
	}
	q.lq_params[q.lq_n++] = cu_arena_printf(cx->cx_arena, "%lld", size);
	q.lq_params[q.lq_n++] = cu_arena_printf(cx->cx_arena, "%lld", (page - 1) * size);
	if (l->al_key != NULL) {
		/* Page over the keys alone, then build only the page's rows: the row expression
		 * is not evaluated for the rows OFFSET skips. */
		const char *ob = order_by(cx, l);

		sql = cu_arena_printf(
		    cx->cx_arena,
		    "SELECT %s FROM (SELECT %s AS cu_key %s WHERE true%s ORDER BY %s "
		    "LIMIT $%d OFFSET $%d) cu_p %s ORDER BY %s",
		    l->al_row, l->al_key, l->al_from, q.lq_where.bf_ptr ? q.lq_where.bf_ptr : "",
		    ob, q.lq_n - 1, q.lq_n, l->al_key_join, ob);
	} else {
		sql = cu_arena_printf(
		    cx->cx_arena, "SELECT %s %s WHERE true%s ORDER BY %s LIMIT $%d OFFSET $%d",
		    l->al_row, l->al_from, q.lq_where.bf_ptr ? q.lq_where.bf_ptr : "",
		    order_by(cx, l), q.lq_n - 1, q.lq_n);
	}
	err = cu_db_query(cx->cx_db, cx->cx_arena, &res, sql, q.lq_n, q.lq_params);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		goto out;
	}
	rows = PQntuples(res);
	pages = count == 0 ? 1 : (count + size - 1) / size;
	start = count == 0 ? 0 : (page - 1) * size + 1;
	end = count == 0 ? 0 : (page == pages ? count : page * size);
	if (cu_buf_printf(&out,
	                  "{\"pagination\":{\"next\":%lld,\"previous\":%lld,\"count\":%lld,"
	                  "\"current\":%lld,\"total_pages\":%lld,\"start_index\":%lld,"
	                  "\"end_index\":%lld},\"results\":[",
	                  page < pages ? page + 1 : 0, page > 1 ? page - 1 : 0, count, page, pages,
	                  start, end) != 0)
		cu_die("list response");
	for (r = 0, sent = 0; r < rows; r++) {
		int k = keep != NULL ? keep(cx, res, r, keep_arg) : 1;

		if (k < 0)
			goto out;
		if (k == 0)
			continue;
		if ((sent++ > 0 && cu_buf_putc(&out, ',') != 0) ||
		    cu_buf_puts(&out, cu_db_value(res, r, 0)) != 0) {
			cu_ctx_error(cx, 500, "Response too large.");
			goto out;
		}
	}
	if (cu_buf_puts(&out, "],\"autocomplete\":{}}") != 0) {
		cu_ctx_error(cx, 500, "Response too large.");
		goto out;
	}
	cu_http_send_json(cx->cx_resp, 200, out.bf_ptr, out.bf_len);
out:
	cu_buf_free(&q.lq_where);
	cu_buf_free(&out);
}

void
cu_api_send_row(struct cu_ctx *cx, int status, const void *pgresult)
{
	const PGresult *res = pgresult;
	const char *text;

	if (res == NULL || PQntuples(res) < 1 || (text = cu_db_value(res, 0, 0)) == NULL) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	cu_http_send_json(cx->cx_resp, status, text, strlen(text));
}

void
cu_api_no_content(struct cu_ctx *cx)
{
	cu_http_send_text(cx->cx_resp, 204, NULL, "", 0);
}

struct json_object *
cu_api_json_diff(struct cu_ctx *cx, struct json_object *before, struct json_object *after,
                 const char *const *skip)
{
	struct json_object *diff = cu_json_object(cx->cx_arena);
	struct json_object *base = after != NULL ? after : before;
	size_t i;

	if (base == NULL || !json_object_is_type(base, json_type_object))
		return diff;
	json_object_object_foreach(base, key, unused)
	{
		struct json_object *old = NULL, *nw = NULL, *change;
		int skipped = 0;

		(void)unused;
		for (i = 0; skip != NULL && skip[i] != NULL; i++)
			if (strcmp(skip[i], key) == 0)
				skipped = 1;
		if (skipped)
			continue;
		if (before != NULL)
			json_object_object_get_ex(before, key, &old);
		if (after != NULL)
			json_object_object_get_ex(after, key, &nw);
		if (json_object_equal(old, nw))
			continue;
		change = json_object_new_object();
		json_object_object_add(change, "previous", json_object_get(old));
		json_object_object_add(change, "new", json_object_get(nw));
		json_object_object_add(diff, key, change);
	}
	return diff;
}

/* --- helpers appended by the users and groups modules ------------------------------------ */

/* n digits at *p, advancing; -1 when fewer. */
static int
dt_digits(const char **p, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int
cu_api_is_datetime(const char *s, int *has_tz)
{
	const char *p = s;
	int y, mo, d, h, mi, sec, tzh, tzm;

	if (has_tz != NULL)
		*has_tz = 0;
	if (s == NULL || dt_digits(&p, 4, &y) != 0 || *p++ != '-' || dt_digits(&p, 2, &mo) != 0 ||
	    *p++ != '-' || dt_digits(&p, 2, &d) != 0 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    y < 1)
		return 0;
	if (*p == '\0')
		return 1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return 0;
	p++;
	if (dt_digits(&p, 2, &h) != 0 || *p++ != ':' || dt_digits(&p, 2, &mi) != 0 || h > 23 ||
	    mi > 59)
		return 0;
	if (*p == ':') {
		p++;
		if (dt_digits(&p, 2, &sec) != 0 || sec > 59)
			return 0;
		if (*p == '.') {
			int n = 0;

			for (p++; isdigit((unsigned char)*p); p++)
				n++;
			if (n < 1 || n > 6)
				return 0;
		}
	}
	if (*p == '\0')
		return 1;
	if (*p == 'Z' || *p == 'z') {
		if (has_tz != NULL)
			*has_tz = 1;
		return p[1] == '\0';
	}
	if (*p != '+' && *p != '-')
		return 0;
	p++;
	if (dt_digits(&p, 2, &tzh) != 0 || tzh > 23)
		return 0;
	if (*p == ':')
		p++;
	if (*p != '\0' && (dt_digits(&p, 2, &tzm) != 0 || tzm > 59))
		return 0;
	if (has_tz != NULL)
		*has_tz = 1;
	return *p == '\0';
}

const char *
cu_api_py_type(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "NoneType";
	case json_type_boolean:
		return "bool";
	case json_type_double:
		return "float";
	case json_type_int:
		return "int";
	case json_type_object:
		return "dict";
	case json_type_array:
		return "list";
	case json_type_string:
		return "str";
	}
	return "str";
}

int
cu_api_attributes_cond(struct cu_ctx *cx, const char *sql, struct cu_api_cond *out)
{
	const char *v = cu_http_arg(cx->cx_req, "attributes");
	struct json_object *o = NULL, *msg;

	if (v == NULL)
		return 0;
	if (cu_json_parse(cx->cx_arena, v, strlen(v), &o) != CU_OK) {
		msg = cu_json_array(cx->cx_arena);
		json_object_array_add(msg, json_object_new_string("filter: failed to parse JSON"));
		cu_ctx_json(cx, 400, msg);
		return -1;
	}
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		msg = cu_json_array(cx->cx_arena);
		json_object_array_add(
		    msg, json_object_new_string("filter: value must be key:value mapping"));
		cu_ctx_json(cx, 400, msg);
		return -1;
	}
	out->ac_sql = sql;
	out->ac_value = cu_json_text(o, NULL);
	return 1;
}

void
cu_api_db_fail(struct cu_ctx *cx, enum cu_err err)
{
	cu_db_rollback(cx->cx_db);
	cu_ctx_fail(cx, err, "The database");
}

struct json_object *
cu_api_text_diff(struct cu_ctx *cx, const char *before, const char *after)
{
	struct json_object *a = NULL, *b = NULL;

	if (cu_json_parse(cx->cx_arena, before, strlen(before), &a) != CU_OK ||
	    cu_json_parse(cx->cx_arena, after, strlen(after), &b) != CU_OK)
		return NULL;
	return cu_api_json_diff(cx, a, b, NULL);
}

/*
 * A list of primary keys under key: UUID strings (ints 0) or integers (ints 1). 1 with *out a
 * PostgreSQL array literal, 0 when absent, -1 having recorded DRF's error.
 */
int
cu_api_field_pk_list(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
                     const char *key, int ints, const char **out)
{
	struct json_object *arr = NULL;
	const char **items;
	size_t i, n;
	int r = cu_api_field_array(e, body, key, &arr);

	*out = NULL;
	if (r <= 0)
		return r;
	n = json_object_array_length(arr);
	items = cu_arena_alloc(cx->cx_arena, (n + 1) * sizeof(*items));
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		int ok = ints ? v != NULL && json_object_is_type(v, json_type_int)
		              : v != NULL && json_object_is_type(v, json_type_string);

		if (!ok) {
			cu_api_error(
			    e, key,
			    cu_arena_printf(cx->cx_arena,
			                    "Incorrect type. Expected pk value, received %s.",
			                    cu_api_py_type(v)));
			return -1;
		}
		if (ints) {
			int64_t x = json_object_get_int64(v);

			if (x == INT64_MAX || x == INT64_MIN) {
				cu_api_error(e, key,
				             "Incorrect type. Expected pk value, received int.");
				return -1;
			}
			items[i] = cu_arena_printf(cx->cx_arena, "%lld", (long long)x);
		} else {
			items[i] = json_object_get_string(v);
			if (!cu_api_is_uuid(items[i])) {
				cu_api_error(
				    e, key,
				    cu_arena_printf(cx->cx_arena,
				                    "\xe2\x80\x9c%.64s\xe2\x80\x9d is not a valid "
				                    "UUID.",
				                    items[i]));
				return -1;
			}
		}
	}
	*out = cu_api_pg_array(cx, items, n);
	return 1;
}

int
cu_api_check_missing(struct cu_ctx *cx, struct cu_api_errors *e, enum cu_db_stmt st,
                     const char *key, const char *arr)
{
	PGresult *res = NULL;
	enum cu_err err;

	if (arr == NULL)
		return 0;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, 1, &arr);
	if (err != CU_OK) {
		cu_api_db_fail(cx, err);
		return -1;
	}
	if (PQntuples(res) > 0)
		cu_api_error(e, key,
		             cu_arena_printf(cx->cx_arena,
		                             "Invalid pk \"%s\" - object does not exist.",
		                             cu_db_value(res, 0, 0)));
	return 0;
}

int
cu_api_commit(struct cu_ctx *cx, enum cu_err err)
{
	if (err == CU_OK)
		err = cu_db_commit(cx->cx_db);
	if (err == CU_OK)
		return 0;
	cu_api_db_fail(cx, err);
	return -1;
}

void
cu_api_reject(struct cu_ctx *cx, struct cu_api_errors *e, const char *field, const char *msg)
{
	cu_db_rollback(cx->cx_db);
	cu_api_error(e, field, msg);
	cu_api_errors_send(cx, e);
}
