/*
 * What every /api/v3/ resource shares: authentication and permission checks, JSON bodies and
 * DRF-shaped field errors, and lists with authentik's pagination envelope.
 *
 * A handler's pattern:
 *     if (cu_api_login(cx) != 0 || cu_api_require(cx, "authentik_core.view_user", NULL) != 0)
 *             return;
 * Each cu_api_* that returns -1 has already answered (401, 403, 400, 404 or 503).
 */
#ifndef CU_API_COMMON_H
#define CU_API_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "db_stmt.h"
#include "err.h"

struct cu_ctx;
struct json_object;

/* Authentication required: 0 with cx->cx_user set, or -1 having answered 401 (no or bad
 * credentials, with WWW-Authenticate) or 503. */
int cu_api_login(struct cu_ctx *cx);

/* 0 when cx_user holds perm on the model (object_pk NULL) or on that object; -1 having
 * answered 403 {"detail": "You do not have permission to perform this action."} or 503. */
int cu_api_require(struct cu_ctx *cx, const char *perm, const char *object_pk);

/* The body as one JSON object (arena-owned): 0, or -1 having answered 400 ("JSON parse
 * error", not an object) or 415 (not application/json). An empty body is an empty object. */
int cu_api_body(struct cu_ctx *cx, struct json_object **out);

/* The body as multipart/form-data parts (lib/multipart.h, arena-owned, in body order): 0, or
 * -1 having answered 415 (another type) or 400 ("Multipart form parse error - ..."). */
struct cu_multipart_part;
int cu_api_form_body(struct cu_ctx *cx, struct cu_multipart_part **parts, size_t *n);

/* DRF's validation error shape: {"field": ["message"], "non_field_errors": ["message"]}. */
struct cu_api_errors {
	struct json_object *ae_obj; /* arena-owned */
	int ae_count;
};

void cu_api_errors_init(struct cu_api_errors *e, struct cu_ctx *cx);
/* field NULL means non_field_errors. */
void cu_api_error(struct cu_api_errors *e, const char *field, const char *msg);
/* 1 when any error was recorded: the handler then calls cu_api_errors_send and returns. */
int cu_api_errors_any(const struct cu_api_errors *e);
void cu_api_errors_send(struct cu_ctx *cx, struct cu_api_errors *e);

/*
 * Body field readers. Each returns 1 when key is present with an acceptable value (*out set,
 * borrowed from body), 0 when key is absent, and -1 when present but wrong (an error message in
 * DRF's words is recorded under key). A JSON null is accepted only where nullable is set, and
 * then *out is NULL (for strings) and the function returns 1.
 */
int cu_api_field_string(struct cu_api_errors *e, struct json_object *body, const char *key,
                        size_t max_len, int allow_blank, int nullable, const char **out);
int cu_api_field_bool(struct cu_api_errors *e, struct json_object *body, const char *key, int *out);
int cu_api_field_int(struct cu_api_errors *e, struct json_object *body, const char *key,
                     int64_t min, int64_t max, int64_t *out);
/* A JSON object (attributes). */
int cu_api_field_object(struct cu_api_errors *e, struct json_object *body, const char *key,
                        struct json_object **out);
/* A UUID string in canonical form (any case), or null when nullable. */
int cu_api_field_uuid(struct cu_api_errors *e, struct json_object *body, const char *key,
                      int nullable, const char **out);
/* An array whose every element is a string (max_len each) / UUID / integer. */
int cu_api_field_array(struct cu_api_errors *e, struct json_object *body, const char *key,
                       struct json_object **out);
/* One of the strings in choices (NULL-terminated). */
int cu_api_field_choice(struct cu_api_errors *e, struct json_object *body, const char *key,
                        const char *const *choices, const char **out);

/* 1 when s is a UUID in 8-4-4-4-12 hex form. */
int cu_api_is_uuid(const char *s);

/* A PostgreSQL array literal of the given strings, each quoted ("{"a","b\""}"), arena-owned:
 * pass as a text parameter and cast with $n::text[] or $n::uuid[]. */
const char *cu_api_pg_array(struct cu_ctx *cx, const char *const *items, size_t n);

/*
 * Lists. A resource declares its list once; cu_api_list_send reads page, page_size (default 20,
 * at most 100), ordering (comma-separated names from sorts, "-" for descending; unknown names are
 * ignored as DRF does), search and the declared filters from the query, restricts the rows to
 * what cx_user may view (model permission, else objects it holds view_perm on), and answers
 * {"pagination": {...}, "results": [...], "autocomplete": {}}. Out-of-range pages are 404
 * {"detail": "Invalid page."}.
 *
 * SQL: row is an expression giving one JSON text per row; from holds FROM and JOINs; every
 * other fragment is a condition in which "%d" stands for the placeholder number of its value.
 * All fragments are constants of the code; only values travel as parameters.
 */
struct cu_api_sort {
	const char *as_name; /* query name: "username" */
	const char *as_sql;  /* expression: "u.username" */
};

enum cu_api_filter_type {
	CU_API_F_TEXT,     /* as given */
	CU_API_F_BOOL,     /* true/false, True/False, 1/0 */
	CU_API_F_INT,      /* decimal */
	CU_API_F_UUID,     /* canonical UUID */
	CU_API_F_TEXT_ANY, /* the parameter may repeat: value is a text[] of every occurrence */
};

struct cu_api_filter {
	const char *af_param; /* query parameter */
	enum cu_api_filter_type af_type;
	const char *af_sql; /* condition with one %d: "u.username = $%d" */
};

/* A condition a handler adds for this request only (for_user=, path_startswith=...). */
struct cu_api_cond {
	const char *ac_sql; /* with one %d, or none when ac_value is NULL */
	const char *ac_value;
};

struct cu_api_list {
	const char *al_row;
	const char *al_from;
	const char *al_pk; /* text expression of the object's pk for object permissions */
	/* "authentik_core.view_user"; NULL lists every row to every authenticated user (a
	 * resource whose visibility is decided elsewhere, such as applications by policy). */
	const char *al_view_perm;
	const char *al_search; /* condition with one %d matched as ILIKE, or NULL */
	const struct cu_api_sort *al_sorts;
	size_t al_nsorts;
	const char *al_default_sort; /* a name from al_sorts, "-" allowed */
	const char *al_tiebreak;     /* a unique expression so pages never overlap: "u.id" */
	const struct cu_api_filter *al_filters;
	size_t al_nfilters;
	/* authentik's owner_field: an expression of the owner's user id ("t.user_id"); without the
	 * model permission a user sees the rows it owns besides those it holds view_perm on. */
	const char *al_owner;
	/* Optional (users and groups): a unique key expression ("u.id") and the join that finds
	 * the row again from it ("JOIN users u ON u.id = cu_p.cu_key"). The page is then chosen
	 * over the keys alone and al_row is built for that page's rows only, which keeps deep
	 * pages of large tables fast. al_from must then be one table with its alias. */
	const char *al_key;
	const char *al_key_join;
};

void cu_api_list_send(struct cu_ctx *cx, const struct cu_api_list *l,
                      const struct cu_api_cond *extra, size_t nextra);

/*
 * The conditions a list of l applies to this request (who may see which rows, its filters,
 * extra and the search), for a statement over the same rows that is no page: events/volume/
 * counts them per day. *where is " AND ..." over l->al_from's aliases ("" for none), its
 * placeholders $1..$*n bound to (*params)[0..*n); both arena-owned. 0, or -1 having answered
 * (400 for a bad filter value or search, 503).
 */
int cu_api_list_where(struct cu_ctx *cx, const struct cu_api_list *l,
                      const struct cu_api_cond *extra, size_t nextra, const char **where,
                      const char ***params, int *n);

/*
 * cu_api_list_send, then keep(cx, pgresult, row, keep_arg) decides for each row of the page whether
 * it is sent: 1 yes, 0 no, -1 the request fails (keep has answered). The pagination stays that
 * of the page before filtering, as authentik filters each page of applications by policy. The
 * row query's columns after the first (al_row may add them) are keep's.
 */
typedef int (*cu_api_keep_fn)(struct cu_ctx *cx, const void *pgresult, int row, void *arg);
void cu_api_list_send_kept(struct cu_ctx *cx, const struct cu_api_list *l,
                           const struct cu_api_cond *extra, size_t nextra, cu_api_keep_fn keep,
                           void *keep_arg);

/* Sends one object whose JSON text PostgreSQL built (column 0 of row 0) with status; 404
 * {"detail": "Not found."} when there is no row. */
void cu_api_send_row(struct cu_ctx *cx, int status, const void *pgresult);

/* Rolls back the open transaction and answers for err (503 for an unreachable database). */
void cu_api_db_fail(struct cu_ctx *cx, enum cu_err err);

/*
 * Ends a write: commits when err (the outcome of the writes and the event) is CU_OK. 0 when
 * committed; -1 having rolled back and answered for the failure.
 */
int cu_api_commit(struct cu_ctx *cx, enum cu_err err) __attribute__((warn_unused_result));

/* Rolls back, records msg under field (NULL: non_field_errors) and answers 400. */
void cu_api_reject(struct cu_ctx *cx, struct cu_api_errors *e, const char *field, const char *msg);

/* cu_api_json_diff of two JSON texts (snapshots PostgreSQL built); NULL when either does not
 * parse. */
struct json_object *cu_api_text_diff(struct cu_ctx *cx, const char *before, const char *after);

/*
 * A list of primary keys under key: UUID strings (ints 0) or integers (ints 1). 1 with *out a
 * PostgreSQL array literal, 0 when absent, -1 having recorded DRF's error.
 */
int cu_api_field_pk_list(struct cu_ctx *cx, struct cu_api_errors *e, struct json_object *body,
                         const char *key, int ints, const char **out);

/*
 * Records 'Invalid pk "x" - object does not exist.' under key for the first id of arr (a
 * PostgreSQL array literal, NULL: nothing to check) that statement st, given arr, returns as
 * missing. 0 when checked, -1 having rolled back and answered (database unavailable).
 */
int cu_api_check_missing(struct cu_ctx *cx, struct cu_api_errors *e, enum cu_db_stmt st,
                         const char *key, const char *arr);

/* 204 No Content. */
void cu_api_no_content(struct cu_ctx *cx);

/*
 * An audit diff between two JSON objects of the same fields: {"field": {"previous": old,
 * "new": new}} for each key of after whose value differs from before's (a key absent from
 * before counts as null). before may be NULL (a creation); after NULL with before set lists
 * every field of before going to null (a deletion). Keys named in skip (NULL-terminated, may be
 * NULL) are left out. Arena-owned; an empty object when nothing changed.
 */
/* The Python type name DRF puts in "Incorrect type. Expected pk value, received %s.": str, int,
 * float, bool, list, dict or NoneType. */
const char *cu_api_py_type(struct json_object *v);

struct json_object *cu_api_json_diff(struct cu_ctx *cx, struct json_object *before,
                                     struct json_object *after, const char *const *skip);

/* Helpers appended by the users and groups modules. */

/* 1 when s is an ISO 8601 date-time as DRF accepts it: YYYY-MM-DD, optionally followed by
 * "T" or " " and hh:mm[:ss[.ffffff]], optionally by "Z" or +hh[:mm] / -hh[:mm]. *has_tz (may be
 * NULL) tells whether an offset was given; a date-time without one is in UTC. */
int cu_api_is_datetime(const char *s, int *has_tz);

/* authentik's attributes= list filter: the query value must be a JSON object. 1 with *out the
 * condition sql (one %d, bound to the object as JSON text: "x.attributes @> $%d::jsonb"), 0
 * when the parameter is absent, -1 having answered 400 as authentik does (a JSON list with one
 * message). */
int cu_api_attributes_cond(struct cu_ctx *cx, const char *sql, struct cu_api_cond *out);

#endif
