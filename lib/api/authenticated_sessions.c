/*
 * /api/v3/core/authenticated_sessions/ as authentik's AuthenticatedSessionViewSet
 * (authentik/core/api/authenticated_sessions.py): the logged-in rows of sessions, by uuid.
 * owner_field "user": everyone sees and may end their own sessions; view_authenticatedsession
 * and delete_authenticatedsession (on the model or the object) reach the others'. Deleting the
 * row ends the session at once: every request looks its session up in PostgreSQL.
 * authentik writes no audit event for these (AuthenticatedSession is one of its ignored models).
 */
#include "api/authenticated_sessions.h"

#include <ctype.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "api/common.h"
#include "auth.h"
#include "db.h"
#include "http.h"
#include "json.h"
#include "server.h"
#include "../sessions.h" /* lib/sessions.h, not this folder's */

/* --- the User-Agent, described ----------------------------------------------------------- */

/* The first tok within s[0..n) (case-sensitive unless fold), or NULL. */
static const char *
ua_find(const char *s, size_t n, const char *tok, int fold)
{
	size_t t = strlen(tok), i, j;

	if (t == 0 || t > n)
		return NULL;
	for (i = 0; i + t <= n; i++) {
		for (j = 0; j < t; j++) {
			unsigned char a = (unsigned char)s[i + j], b = (unsigned char)tok[j];

			if (fold ? tolower(a) != tolower(b) : a != b)
				break;
		}
		if (j == t)
			return s + i;
	}
	return NULL;
}

/*
 * Up to nparts dotted (or, with underscore, "_"-separated) numbers from p, bounded by end, into
 * obj under names; a part that is not there is null. Each number is at most 10 digits.
 */
static void
ua_version(struct json_object *obj, const char *p, const char *end, const char *const *names,
           size_t nparts, int underscore)
{
	size_t i, n;

	for (i = 0; i < nparts; i++) {
		n = 0;
		while (p != NULL && p + n < end && n < 10 && isdigit((unsigned char)p[n]))
			n++;
		if (p == NULL || n == 0) {
			json_object_object_add(obj, names[i], NULL);
			p = NULL;
			continue;
		}
		json_object_object_add(obj, names[i], json_object_new_string_len(p, (int)n));
		p += n;
		if (p < end && (*p == '.' || (underscore && *p == '_')) && p + 1 < end &&
		    isdigit((unsigned char)p[1]))
			p++;
		else
			p = NULL;
	}
}

static const char *const browser_parts[] = {"major", "minor", "patch"};
static const char *const os_parts[] = {"major", "minor", "patch", "patch_minor"};

/* Browsers and clients, most specific first: the first token found decides. */
static const struct {
	const char *tok;
	const char *family;
	const char *mobile_family; /* when "Mobile" is in the string too; NULL: the same */
} browsers[] = {
    {"EdgA/", "Edge Mobile", NULL},
    {"EdgiOS/", "Edge Mobile", NULL},
    {"Edg/", "Edge", NULL},
    {"Edge/", "Edge", NULL},
    {"OPR/", "Opera", "Opera Mobile"},
    {"SamsungBrowser/", "Samsung Internet", NULL},
    {"FxiOS/", "Firefox iOS", NULL},
    {"Firefox/", "Firefox", "Firefox Mobile"},
    {"CriOS/", "Chrome Mobile iOS", NULL},
    {"Chrome/", "Chrome", "Chrome Mobile"},
    {"Googlebot/", "Googlebot", NULL},
    {"curl/", "curl", NULL},
    {"Wget/", "Wget", NULL},
    {"python-requests/", "Python Requests", NULL},
    {"Go-http-client/", "Go-http-client", NULL},
};

static struct json_object *
ua_browser(const char *s, size_t n)
{
	struct json_object *o = json_object_new_object();
	int mobile = ua_find(s, n, "Mobile", 0) != NULL;
	const char *p = NULL, *family = "Other";
	size_t i;

	for (i = 0; i < sizeof(browsers) / sizeof(browsers[0]); i++) {
		p = ua_find(s, n, browsers[i].tok, 0);
		if (p != NULL) {
			family = mobile && browsers[i].mobile_family != NULL
			             ? browsers[i].mobile_family
			             : browsers[i].family;
			p += strlen(browsers[i].tok);
			break;
		}
	}
	if (p == NULL && ua_find(s, n, "Safari/", 0) != NULL &&
	    (p = ua_find(s, n, "Version/", 0)) != NULL) {
		family = mobile ? "Mobile Safari" : "Safari";
		p += strlen("Version/");
	}
	json_object_object_add(o, "family", json_object_new_string(family));
	ua_version(o, p, s + n, browser_parts, 3, 0);
	return o;
}

static struct json_object *
ua_os(const char *s, size_t n)
{
	struct json_object *o = json_object_new_object();
	const char *p, *end = s + n;

	if ((p = ua_find(s, n, "Windows NT ", 0)) != NULL) {
		/* NT kernel versions as the Windows releases people know. */
		static const struct {
			const char *nt, *major, *minor;
		} nt[] = {{"10.0", "10", NULL},
		          {"6.3", "8", "1"},
		          {"6.2", "8", NULL},
		          {"6.1", "7", NULL}};
		size_t i, rest;

		p += strlen("Windows NT ");
		rest = (size_t)(end - p);
		json_object_object_add(o, "family", json_object_new_string("Windows"));
		json_object_object_add(o, "major", NULL);
		json_object_object_add(o, "minor", NULL);
		for (i = 0; i < sizeof(nt) / sizeof(nt[0]); i++) {
			size_t l = strlen(nt[i].nt);

			if (rest >= l && memcmp(p, nt[i].nt, l) == 0 &&
			    (rest == l || !isdigit((unsigned char)p[l]))) {
				json_object_object_add(o, "major",
				                       json_object_new_string(nt[i].major));
				json_object_object_add(o, "minor",
				                       nt[i].minor != NULL
				                           ? json_object_new_string(nt[i].minor)
				                           : NULL);
				break;
			}
		}
		json_object_object_add(o, "patch", NULL);
		json_object_object_add(o, "patch_minor", NULL);
		return o;
	}
	if ((p = ua_find(s, n, "iPhone OS ", 0)) != NULL) {
		p += strlen("iPhone OS ");
		json_object_object_add(o, "family", json_object_new_string("iOS"));
	} else if ((p = ua_find(s, n, "CPU OS ", 0)) != NULL) {
		p += strlen("CPU OS ");
		json_object_object_add(o, "family", json_object_new_string("iOS"));
	} else if ((p = ua_find(s, n, "Mac OS X ", 0)) != NULL) {
		p += strlen("Mac OS X ");
		json_object_object_add(o, "family", json_object_new_string("Mac OS X"));
	} else if ((p = ua_find(s, n, "Android ", 0)) != NULL) {
		p += strlen("Android ");
		json_object_object_add(o, "family", json_object_new_string("Android"));
	} else {
		const char *family = ua_find(s, n, "CrOS", 0) != NULL    ? "Chrome OS"
		                     : ua_find(s, n, "Linux", 0) != NULL ? "Linux"
		                                                         : "Other";

		json_object_object_add(o, "family", json_object_new_string(family));
		p = NULL;
	}
	ua_version(o, p, end, os_parts, 4, 1);
	return o;
}

static struct json_object *
ua_device(const char *s, size_t n)
{
	struct json_object *o = json_object_new_object();
	const char *family = "Other", *brand = NULL, *model = NULL;

	if (ua_find(s, n, "iPhone", 0) != NULL) {
		family = "iPhone";
		brand = "Apple";
		model = "iPhone";
	} else if (ua_find(s, n, "iPad", 0) != NULL) {
		family = "iPad";
		brand = "Apple";
		model = "iPad";
	} else if (ua_find(s, n, "Macintosh", 0) != NULL) {
		family = "Mac";
		brand = "Apple";
		model = "Mac";
	} else if (ua_find(s, n, "Android", 0) != NULL) {
		int phone = ua_find(s, n, "Mobile", 0) != NULL;

		family = phone ? "Generic Smartphone" : "Generic Tablet";
		brand = "Generic";
		model = phone ? "Smartphone" : "Tablet";
	} else if (ua_find(s, n, "bot", 1) != NULL || ua_find(s, n, "spider", 1) != NULL ||
	           ua_find(s, n, "crawl", 1) != NULL) {
		family = "Spider";
		brand = "Spider";
		model = "Desktop";
	}
	json_object_object_add(o, "brand", brand != NULL ? json_object_new_string(brand) : NULL);
	json_object_object_add(o, "family", json_object_new_string(family));
	json_object_object_add(o, "model", model != NULL ? json_object_new_string(model) : NULL);
	return o;
}

struct json_object *
cu_api_sessions_user_agent(const char *ua)
{
	struct json_object *o = json_object_new_object();
	size_t n;

	if (ua == NULL)
		ua = "";
	n = strnlen(ua, CU_API_SESSIONS_MAX_UA);
	json_object_object_add(o, "device", ua_device(ua, n));
	json_object_object_add(o, "os", ua_os(ua, n));
	json_object_object_add(o, "user_agent", ua_browser(ua, n));
	json_object_object_add(o, "string", json_object_new_string(ua));
	return o;
}

/* --- the API ----------------------------------------------------------------------------- */

static const struct cu_api_sort session_sorts[] = {
    {"user__username", "u.username"},
    {"last_used", "s.last_used"},
    {"expires", "s.expires"},
    {"last_ip", "s.last_ip"},
    {"last_user_agent", "s.last_user_agent"},
    {"uuid", "s.uuid"},
};

static const struct cu_api_filter session_filters[] = {
    {"user__username", CU_API_F_TEXT, "u.username = $%d"},
    {"session__last_ip", CU_API_F_TEXT, "host(s.last_ip) = $%d"},
    {"session__last_user_agent", CU_API_F_TEXT, "s.last_user_agent = $%d"},
};

static const struct cu_api_list session_list = {
    .al_row = CU_SQL_AUTHENTICATED_SESSION,
    .al_from = "FROM sessions s JOIN users u ON u.id = s.user_id",
    .al_pk = "s.uuid::text",
    .al_view_perm = "authentik_core.view_authenticatedsession",
    .al_search = "EXISTS (SELECT 1 FROM unnest(ARRAY[u.username, host(s.last_ip), "
                 "s.last_user_agent]) AS x WHERE x ILIKE $%d)",
    .al_sorts = session_sorts,
    .al_nsorts = sizeof(session_sorts) / sizeof(session_sorts[0]),
    .al_default_sort = "user__username",
    .al_tiebreak = "s.uuid",
    .al_filters = session_filters,
    .al_nfilters = sizeof(session_filters) / sizeof(session_filters[0]),
    .al_owner = "s.user_id",
};

/* The uuid of the session the request came with (cookie login), or "" for a token. NULL
 * having answered 503. */
static const char *
current_uuid(struct cu_ctx *cx)
{
	const char *sid;
	PGresult *res = NULL;
	enum cu_err err;

	if (!cx->cx_via_session || (sid = cu_sessions_cookie_sid(cx)) == NULL)
		return "";
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_SESSIONS_API_CURRENT, 1, &sid);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return NULL;
	}
	return PQntuples(res) > 0 ? cu_db_value(res, 0, 0) : "";
}

/* Fills in what PostgreSQL leaves to C: current and the described user agent. */
static void
complete(struct json_object *o, const char *current)
{
	const char *uuid = NULL, *ua = NULL;

	if (cu_json_get_string(o, "uuid", &uuid) == 0 && current[0] != '\0')
		cu_json_set_bool(o, "current", strcmp(uuid, current) == 0);
	if (cu_json_get_string(o, "last_user_agent", &ua) != 0)
		ua = "";
	cu_json_set(o, "user_agent", cu_api_sessions_user_agent(ua));
}

/* Parses the JSON text PostgreSQL built and completes it; NULL when it does not parse. */
static struct json_object *
completed(struct cu_ctx *cx, const char *text, const char *current)
{
	struct json_object *o = NULL;

	if (cu_json_parse(cx->cx_arena, text, strlen(text), &o) != CU_OK ||
	    !json_object_is_type(o, json_type_object))
		return NULL;
	complete(o, current);
	return o;
}

void
cu_api_sessions_list(struct cu_ctx *cx)
{
	static const struct cu_api_cond live[] = {{"s.expires > now()", NULL}};
	struct json_object *page = NULL, *results = NULL;
	const char *current;
	size_t i, n;

	if (cu_api_login(cx) != 0 || (current = current_uuid(cx)) == NULL)
		return;
	cu_api_list_send(cx, &session_list, live, 1);
	if (cx->cx_resp->rs_status != 200)
		return;
	/* The page is at most 100 rows: describe each one's agent in place. */
	if (cu_json_parse(cx->cx_arena, cx->cx_resp->rs_body.bf_ptr, cx->cx_resp->rs_body.bf_len,
	                  &page) != CU_OK ||
	    cu_json_get_array(page, "results", &results) != 0) {
		cu_ctx_fail(cx, CU_ERR_INTERNAL, "The session list");
		return;
	}
	n = json_object_array_length(results);
	for (i = 0; i < n; i++)
		complete(json_object_array_get_idx(results, i), current);
	cu_ctx_json(cx, 200, page);
}

/* The session of the path when cx_user owns it or holds perm on it: its result, or NULL
 * having answered (404, 403, 503). */
static PGresult *
session_find(struct cu_ctx *cx, enum cu_db_stmt st, const char *perm)
{
	const char *uuid = cu_ctx_param(cx, "uuid");
	PGresult *res = NULL;
	enum cu_err err;

	if (uuid == NULL || !cu_api_is_uuid(uuid)) {
		cu_ctx_error(cx, 404, "Not found.");
		return NULL;
	}
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, st, 1, &uuid);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return NULL;
	}
	if (PQntuples(res) < 1) {
		cu_ctx_error(cx, 404, "Not found.");
		return NULL;
	}
	if (strcmp(cu_db_value(res, 0, 2), cx->cx_user->us_id_text) == 0)
		return res;
	return cu_api_require(cx, perm, cu_db_value(res, 0, 1)) == 0 ? res : NULL;
}

void
cu_api_sessions_get(struct cu_ctx *cx)
{
	struct json_object *o;
	const char *current;
	PGresult *res;

	if (cu_api_login(cx) != 0 ||
	    (res = session_find(cx, CU_DB_STMT_SESSIONS_API_GET,
	                        "authentik_core.view_authenticatedsession")) == NULL ||
	    (current = current_uuid(cx)) == NULL)
		return;
	if ((o = completed(cx, cu_db_value(res, 0, 0), current)) == NULL) {
		cu_ctx_fail(cx, CU_ERR_INTERNAL, "The session");
		return;
	}
	cu_ctx_json(cx, 200, o);
}

void
cu_api_sessions_delete(struct cu_ctx *cx)
{
	const char *uuid;
	PGresult *res;
	enum cu_err err;

	if (cu_api_login(cx) != 0)
		return;
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK) {
		cu_ctx_fail(cx, err, "The database");
		return;
	}
	if ((res = session_find(cx, CU_DB_STMT_SESSIONS_API_LOCK,
	                        "authentik_core.delete_authenticatedsession")) == NULL) {
		cu_db_rollback(cx->cx_db);
		return;
	}
	uuid = cu_db_value(res, 0, 1);
	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_SESSIONS_API_DELETE, 1, &uuid);
	if (cu_api_commit(cx, err) != 0)
		return;
	cu_api_no_content(cx);
}
