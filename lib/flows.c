/*
 * The flow planner and executor (flows.h): authentik's protocol over a plan kept with the
 * browser session. One executor request: load the flow (and the request's brand), open the
 * session (cookie → sessions row, plan from Redis when its revision matches, else from
 * PostgreSQL), plan when there is no plan for this flow, pick the current stage (re-evaluating
 * its policies when the binding asks), run the stage kind's function, answer, and write the plan
 * back when it changed.
 */
#include "flows.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "auth.h"
#include "cache.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "events.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "policies/engine.h"
#include "server.h"
#include "sessions.h"
#include "stages/stages.h"

#define FLOWS_TOKEN_LEN 64
#define FLOWS_PLAN_KEY "custos:plan:"
#define FLOWS_DEFAULT_AVATAR "/static/dist/assets/images/user_default.png"
#define FLOWS_DEFAULT_BACKGROUND "/static/dist/assets/images/flow_background.jpg"
#define FLOWS_NOT_APPLICABLE "Flow does not apply to current user."
/* An unauthenticated session's life when sessions.unauthenticated_age does not parse. */
#define FLOWS_ANON_AGE_DEFAULT 86400

struct cu_flow_state {
	struct cu_ctx *fs_cx;
	struct cu_flow fs_flow;
	const char *fs_brand_background;
	int fs_flow_has_policies;
	const char *fs_host; /* lower-case, without port */
	/* The session: fs_in_db is 0 for one made by this request and not yet written. */
	const char *fs_key;
	int fs_in_db;
	long long fs_rev;
	struct cu_user *fs_user;
	struct cu_user *fs_pending; /* the stored plan's pending user, loaded with the session */
	/* The plan (NULL: none) and whether it must be written back. */
	struct json_object *fs_plan;
	int fs_dirty;
	const char *fs_query; /* the page's raw query string */
	const struct cu_stage_type *fs_type;
	struct cu_flow_exec fs_fx;
};

enum plan_outcome {
	PLAN_READY,  /* fs_plan holds a new plan */
	PLAN_DONE,   /* nothing to run: the flow ends at once */
	PLAN_DENIED, /* the flow does not apply; *msg says why (may be NULL) */
	PLAN_FAIL,   /* PostgreSQL failed */
};

/* --- pure helpers: next, URLs, query ------------------------------------------------------ */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One round of percent-decoding of s into out (room for strlen(s) + 1); -1 on a malformed or
 * NUL escape. *changed tells whether anything was decoded. */
static int
pct_decode_round(const char *s, char *out, int *changed)
{
	size_t i = 0, o = 0;

	*changed = 0;
	while (s[i] != '\0') {
		if (s[i] == '%') {
			int hi, lo;

			if (s[i + 1] == '\0' || s[i + 2] == '\0')
				return -1;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			out[o++] = (char)(hi * 16 + lo);
			i += 3;
			*changed = 1;
		} else {
			out[o++] = s[i++];
		}
	}
	out[o] = '\0';
	return 0;
}

/* The shape rules on one (possibly decoded) form of next. */
static int
local_shape_ok(const char *s)
{
	const unsigned char *p;

	if (s[0] != '/' || s[1] == '/' || s[1] == '\\')
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			return 0;
	return 1;
}

int
cu_flow_next_is_local(const char *next)
{
	/* Two buffers in turn: each round decodes the last result into the other. */
	char bufs[2][CU_FLOWS_MAX_NEXT + 1];
	const char *cur = next;
	int round, changed;
	size_t len;

	if (next == NULL)
		return 0;
	len = strlen(next);
	if (len == 0 || len > CU_FLOWS_MAX_NEXT)
		return 0;
	/*
	 * Whatever later decodes the path (a proxy, the router, a framework behind an
	 * application) must not find "//host" or a backslash in it either: check each decoded
	 * form until decoding changes nothing.
	 */
	for (round = 0; round <= CU_FLOWS_DECODE_ROUNDS; round++) {
		if (!local_shape_ok(cur))
			return 0;
		if (pct_decode_round(cur, bufs[round & 1], &changed) != 0)
			return 0;
		if (!changed)
			return 1;
		cur = bufs[round & 1];
	}
	/* Still encoded after that many rounds: nobody writes such a path in good faith. */
	return 0;
}

/* An absolute http(s) URL with nothing a browser would strip or reinterpret. */
static int
absolute_shape_ok(const char *s)
{
	const unsigned char *p;
	size_t skip;

	if (strncasecmp(s, "https://", 8) == 0)
		skip = 8;
	else if (strncasecmp(s, "http://", 7) == 0)
		skip = 7;
	else
		return 0;
	if (s[skip] == '\0' || s[skip] == '/')
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '\\')
			return 0;
	return 1;
}

int
cu_flow_next_allowed(struct cu_ctx *cx, const char *next)
{
	const char *params[1];
	PGresult *res = NULL;

	if (cu_flow_next_is_local(next))
		return 1;
	if (next == NULL || strlen(next) > CU_FLOWS_MAX_NEXT || !absolute_shape_ok(next))
		return 0;
	params[0] = next;
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_FLOWS_LAUNCH_URL, 1, params) !=
	    CU_OK)
		return -1;
	return PQntuples(res) == 1;
}

/* s percent-encoded for a query value (only unreserved characters kept); arena-owned. */
static char *
url_encode(struct cu_arena *a, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s), i, o = 0;
	char *out = cu_arena_alloc(a, n * 3 + 1);

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

const char *
cu_flow_executor_url(struct cu_ctx *cx, const char *slug, const char *query)
{
	return cu_arena_printf(cx->cx_arena, "/api/v3/flows/executor/%s/?query=%s", slug,
	                       url_encode(cx->cx_arena, query != NULL ? query : ""));
}

const char *
cu_flow_interface_url(struct cu_ctx *cx, const char *slug, const char *query)
{
	if (query == NULL || query[0] == '\0')
		return cu_arena_printf(cx->cx_arena, "/if/flow/%s/", slug);
	return cu_arena_printf(cx->cx_arena, "/if/flow/%s/?%s", slug, query);
}

/* The page's query string as a JSON object of strings (the last of repeated names wins, as
 * Django's QueryDict.get); an unparsable one gives an empty object. */
static struct json_object *
query_object(struct cu_ctx *cx, const char *query)
{
	struct json_object *o = cu_json_object(cx->cx_arena);
	struct cu_kv *kv = NULL;
	size_t n = 0, i;

	if (query == NULL || query[0] == '\0')
		return o;
	if (cu_http_parse_urlencoded(cx->cx_arena, query, strlen(query), CU_HTTP_MAX_PARAMS, &kv,
	                             &n) != CU_OK) {
		cu_log_msg(CU_LOG_WARNING, "flow_query_invalid", "query ignored");
		return o;
	}
	for (i = 0; i < n; i++)
		if (cu_utf8_valid(kv[i].kv_val, kv[i].kv_vlen) &&
		    strlen(kv[i].kv_val) == kv[i].kv_vlen)
			cu_json_set_string(o, kv[i].kv_key, kv[i].kv_val);
	return o;
}

/* --- helpers for stages ------------------------------------------------------------------ */

static const char *
obj_string(struct json_object *o, const char *key)
{
	const char *v = NULL;

	if (o == NULL || cu_json_get_string(o, key, &v) != 0)
		return NULL;
	return v;
}

struct json_object *
cu_flow_challenge(struct cu_flow_exec *fx, const char *component)
{
	struct json_object *c = cu_json_object(fx->fx_cx->cx_arena);

	cu_json_set_string(c, "component", component);
	fx->fx_challenge = c;
	return c;
}

enum cu_stage_result
cu_flow_invalid(struct cu_flow_exec *fx, const char *field, const char *msg, const char *code)
{
	struct json_object *list = NULL, *e;
	const char *key = field != NULL ? field : "non_field_errors";

	if (fx->fx_errors == NULL)
		fx->fx_errors = cu_json_object(fx->fx_cx->cx_arena);
	if (cu_json_get_array(fx->fx_errors, key, &list) != 0) {
		list = json_object_new_array();
		cu_json_set(fx->fx_errors, key, list);
	}
	e = json_object_new_object();
	cu_json_set_string(e, "string", msg);
	cu_json_set_string(e, "code", code != NULL ? code : "invalid");
	json_object_array_add(list, e);
	return CU_STAGE_INVALID;
}

enum cu_stage_result
cu_flow_deny(struct cu_flow_exec *fx, const char *message)
{
	fx->fx_message = message;
	return CU_STAGE_DENY;
}

struct json_object *
cu_flow_ctx_get(struct cu_flow_exec *fx, const char *key)
{
	struct json_object *v = NULL;

	if (fx->fx_context == NULL || !json_object_object_get_ex(fx->fx_context, key, &v))
		return NULL;
	return v;
}

const char *
cu_flow_ctx_string(struct cu_flow_exec *fx, const char *key)
{
	return obj_string(fx->fx_context, key);
}

void
cu_flow_ctx_set(struct cu_flow_exec *fx, const char *key, struct json_object *value)
{
	if (fx->fx_context == NULL)
		return;
	/* The plan shares the value: one more reference, released with the plan. */
	json_object_object_add(fx->fx_context, key, json_object_get(value));
	fx->fx_changed = 1;
}

void
cu_flow_ctx_set_string(struct cu_flow_exec *fx, const char *key, const char *value)
{
	if (fx->fx_context == NULL)
		return;
	cu_json_set_string(fx->fx_context, key, value);
	fx->fx_changed = 1;
}

void
cu_flow_ctx_del(struct cu_flow_exec *fx, const char *key)
{
	if (fx->fx_context == NULL || !json_object_object_get_ex(fx->fx_context, key, NULL))
		return;
	json_object_object_del(fx->fx_context, key);
	fx->fx_changed = 1;
}

const char *
cu_flow_cfg_string(struct cu_flow_exec *fx, const char *key, const char *dflt)
{
	const char *v = obj_string(fx->fx_config, key);

	return v != NULL ? v : dflt;
}

long long
cu_flow_cfg_int(struct cu_flow_exec *fx, const char *key, long long dflt)
{
	int64_t v;

	if (fx->fx_config == NULL || cu_json_get_int(fx->fx_config, key, &v) != 0)
		return dflt;
	return (long long)v;
}

int
cu_flow_cfg_bool(struct cu_flow_exec *fx, const char *key, int dflt)
{
	int v;

	if (fx->fx_config == NULL || cu_json_get_bool(fx->fx_config, key, &v) != 0)
		return dflt;
	return v;
}

enum cu_err
cu_flow_set_pending_user(struct cu_flow_exec *fx, long long user_id)
{
	struct cu_user *u = NULL;
	enum cu_err err;

	err = cu_auth_load_user(fx->fx_cx, user_id, &u);
	if (err != CU_OK)
		return err;
	fx->fx_pending_user = u;
	if (fx->fx_context != NULL) {
		cu_json_set_int(fx->fx_context, "pending_user", user_id);
		fx->fx_changed = 1;
	}
	return CU_OK;
}

int
cu_flow_policies_pass(struct cu_flow_exec *fx, const char *target, const char *mode,
                      struct json_object **messages)
{
	struct cu_policy_request rq;
	struct cu_policy_result res;
	size_t i, n;

	memset(&rq, 0, sizeof(rq));
	memset(&res, 0, sizeof(res));
	rq.pr_user = fx->fx_pending_user != NULL ? fx->fx_pending_user : fx->fx_session_user;
	rq.pr_context = fx->fx_context;
	if (cu_policy_engine_run(fx->fx_cx, target, mode != NULL ? mode : "any", &rq, &res) !=
	    CU_OK)
		return -1;
	if (!res.pr_passing && messages != NULL && res.pr_messages != NULL) {
		if (*messages == NULL)
			*messages = cu_json_array(fx->fx_cx->cx_arena);
		n = json_object_array_length(res.pr_messages);
		for (i = 0; i < n; i++)
			json_object_array_add(*messages, json_object_get(json_object_array_get_idx(
			                                     res.pr_messages, i)));
	}
	return res.pr_passing ? 1 : 0;
}

/* --- sessions and plans ------------------------------------------------------------------ */

static long long
anon_age(const struct cu_ctx *cx)
{
	long long s = 0;

	if (cx->cx_cfg->sessions_unauthenticated_age == NULL ||
	    cu_config_timedelta(cx->cx_cfg->sessions_unauthenticated_age, &s) != 0 || s <= 0)
		return FLOWS_ANON_AGE_DEFAULT;
	return s;
}

static const char *
plan_cache_key(struct cu_ctx *cx, const char *session_key)
{
	return cu_arena_printf(cx->cx_arena, FLOWS_PLAN_KEY "%s", session_key);
}

/* A plan as stored: an object with the fields every reader relies on; NULL otherwise. */
static struct json_object *
plan_parse(struct cu_ctx *cx, const char *text, size_t len)
{
	struct json_object *p = NULL, *v = NULL;

	if (text == NULL || cu_json_parse(cx->cx_arena, text, len, &p) != CU_OK || p == NULL ||
	    !json_object_is_type(p, json_type_object))
		return NULL;
	if (cu_json_get_object(p, "context", &v) != 0 || obj_string(p, "flow") == NULL)
		return NULL;
	return p;
}

/* The Redis copy when its revision is rev: "<rev>:<plan>". NULL when absent or stale. */
static struct json_object *
plan_from_reply(struct cu_ctx *cx, struct redisReply *r, long long rev)
{
	char *end = NULL;
	long long got;

	if (r == NULL || r->type != REDIS_REPLY_STRING || r->len < 3)
		return NULL;
	got = strtoll(r->str, &end, 10);
	if (end == NULL || *end != ':' || got != rev)
		return NULL;
	end++;
	return plan_parse(cx, end, r->len - (size_t)(end - r->str));
}

static enum cu_err
plan_from_db(struct cu_flow_state *st)
{
	struct cu_ctx *cx = st->fs_cx;
	const char *params[1] = {st->fs_key}, *text;
	PGresult *res = NULL;
	enum cu_err err;

	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_FLOWS_PLAN_GET, 1, params);
	if (err != CU_OK)
		return err;
	if (PQntuples(res) != 1)
		return CU_OK;
	text = cu_db_value(res, 0, 0);
	st->fs_rev = strtoll(cu_db_value(res, 0, 1), NULL, 10);
	if (text != NULL) {
		st->fs_plan = plan_parse(cx, text, strlen(text));
		if (st->fs_plan == NULL)
			cu_log_msg(CU_LOG_WARNING, "flow_plan_invalid", "stored plan dropped");
	}
	return CU_OK;
}

/* Sets a new anonymous session (written at the end of the request) and its cookie. */
static enum cu_err
session_new(struct cu_flow_state *st)
{
	struct cu_ctx *cx = st->fs_cx;
	char key[CU_SESSIONS_KEY_LEN + 1];

	cu_sessions_new_key(key);
	st->fs_key = cu_arena_strdup(cx->cx_arena, key);
	cu_wipe(key, sizeof(key));
	st->fs_in_db = 0;
	st->fs_rev = 0;
	st->fs_user = NULL;
	st->fs_plan = NULL;
	if (cu_sessions_set_cookie(cx, st->fs_key, "anonymous", 0, anon_age(cx)) != 0)
		return CU_ERR_INTERNAL;
	return CU_OK;
}

/*
 * The request's session and its plan. The Redis read is sent before the PostgreSQL lookup and
 * read after it, so the two round trips overlap.
 */
static enum cu_err
session_open(struct cu_flow_state *st)
{
	struct cu_ctx *cx = st->fs_cx;
	struct cu_session se;
	struct redisReply *reply = NULL;
	const char *sid, *argv[2];
	int authenticated = 0, sent = 0;
	enum cu_err err;

	sid = cu_sessions_cookie_any(cx, &authenticated);
	if (sid != NULL) {
		argv[0] = "GET";
		argv[1] = plan_cache_key(cx, sid);
		sent = cx->cx_cache != NULL && cu_cache_send(cx->cx_cache, 2, argv, NULL) == CU_OK;
		err = cu_sessions_load(cx, sid, &se);
		if (sent && cu_cache_recv(cx->cx_cache, cx->cx_arena, &reply) != CU_OK)
			reply = NULL;
		if (err == CU_ERR_NOT_FOUND) {
			sid = NULL;
		} else if (err != CU_OK) {
			return err;
		} else {
			st->fs_key = sid;
			st->fs_in_db = 1;
			st->fs_rev = se.se_plan_rev;
			st->fs_user = se.se_user;
			st->fs_pending = se.se_pending_user;
			if (st->fs_rev > 0) {
				st->fs_plan = plan_from_reply(cx, reply, st->fs_rev);
				if (st->fs_plan == NULL && (err = plan_from_db(st)) != CU_OK)
					return err;
			}
		}
	}
	if (sid == NULL && (err = session_new(st)) != CU_OK)
		return err;
	if (cu_sessions_ensure_csrf(cx) != 0)
		return CU_ERR_INTERNAL;
	return CU_OK;
}

/* Writes the plan (or its absence) to PostgreSQL, then the copy to Redis. */
static enum cu_err
session_close(struct cu_flow_state *st)
{
	struct cu_ctx *cx = st->fs_cx;
	const char *text = NULL, *params[2], *rkey;
	PGresult *res = NULL;
	size_t len = 0;
	enum cu_err err;

	if (!st->fs_dirty && !st->fs_fx.fx_changed && st->fs_in_db)
		return CU_OK;
	if (st->fs_plan != NULL)
		text = cu_json_text(st->fs_plan, &len);
	if (!st->fs_in_db) {
		err = cu_sessions_create(cx, st->fs_key, 0, anon_age(cx), text);
		if (err != CU_OK)
			return err;
		st->fs_in_db = 1;
		st->fs_rev = 1;
	} else {
		params[0] = st->fs_key;
		params[1] = text;
		err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_FLOWS_PLAN_SAVE, 2,
		                 params);
		if (err != CU_OK)
			return err;
		if (PQntuples(res) != 1) {
			/* The session went (logged out elsewhere, user deactivated): so did its
			 * plan. */
			return CU_OK;
		}
		st->fs_rev = strtoll(cu_db_value(res, 0, 0), NULL, 10);
	}
	st->fs_dirty = 0;
	st->fs_fx.fx_changed = 0;
	if (cx->cx_cache == NULL)
		return CU_OK;
	rkey = plan_cache_key(cx, st->fs_key);
	/* Redis only speeds up the next read; a failure here costs that, nothing else. */
	if (text == NULL || cx->cx_cfg->cache_timeout_flows <= 0) {
		(void)!cu_cache_del(cx->cx_cache, rkey);
	} else {
		const char *v = cu_arena_printf(cx->cx_arena, "%lld:%s", st->fs_rev, text);

		(void)!cu_cache_set(cx->cx_cache, rkey, v, strlen(v),
		                    cx->cx_cfg->cache_timeout_flows);
	}
	return CU_OK;
}

static void
plan_drop(struct cu_flow_state *st)
{
	st->fs_plan = NULL;
	st->fs_fx.fx_plan = NULL;
	st->fs_fx.fx_context = NULL;
	st->fs_dirty = 1;
}

/* --- the flow and the brand -------------------------------------------------------------- */

/* The Host header lower-cased without its port (brand domains are compared with it). */
static const char *
request_host(struct cu_ctx *cx)
{
	const char *h = cx->cx_req->rq_host != NULL ? cx->cx_req->rq_host : "";
	size_t n = strlen(h), i;
	char *out;

	if (h[0] == '[') {
		const char *close = strchr(h, ']');

		n = close != NULL ? (size_t)(close - h) + 1 : n;
	} else {
		const char *colon = strchr(h, ':');

		if (colon != NULL)
			n = (size_t)(colon - h);
	}
	if (n > 255)
		n = 255;
	out = cu_arena_strndup(cx->cx_arena, h, n);
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	/* A host that is not UTF-8 matches no brand; the default one applies. */
	return cu_utf8_valid(out, strlen(out)) ? out : "";
}

/* 1 when slug could name a flow (flows.slug's CHECK), so that nothing else is looked up. */
static int
slug_ok(const char *slug)
{
	size_t i;

	if (slug == NULL || slug[0] == '\0' || strlen(slug) > 255)
		return 0;
	for (i = 0; slug[i] != '\0'; i++)
		if (!isalnum((unsigned char)slug[i]) && slug[i] != '-' && slug[i] != '_')
			return 0;
	return 1;
}

static enum cu_err
flow_load(struct cu_flow_state *st, const char *slug)
{
	struct cu_ctx *cx = st->fs_cx;
	struct cu_flow *f = &st->fs_flow;
	const char *params[2];
	PGresult *res = NULL;
	enum cu_err err;

	if (!slug_ok(slug))
		return CU_ERR_NOT_FOUND;
	st->fs_host = request_host(cx);
	params[0] = st->fs_host;
	params[1] = slug;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_FLOWS_BY_SLUG, 2, params);
	if (err != CU_OK)
		return err == CU_ERR_UNAVAILABLE ? err : CU_ERR_INTERNAL;
	if (PQntuples(res) != 1)
		return CU_ERR_NOT_FOUND;
	f->fl_uuid = cu_db_value(res, 0, 0);
	f->fl_slug = cu_db_value(res, 0, 1);
	f->fl_name = cu_db_value(res, 0, 2);
	f->fl_title = cu_db_value(res, 0, 3);
	f->fl_designation = cu_db_value(res, 0, 4);
	f->fl_authentication = cu_db_value(res, 0, 5);
	f->fl_denied_action = cu_db_value(res, 0, 6);
	f->fl_layout = cu_db_value(res, 0, 7);
	f->fl_background = cu_db_value(res, 0, 8);
	f->fl_policy_engine_mode = cu_db_value(res, 0, 9);
	f->fl_serial = strtoll(cu_db_value(res, 0, 10), NULL, 10);
	st->fs_brand_background = cu_db_value(res, 0, 11);
	st->fs_flow_has_policies = strcmp(cu_db_value(res, 0, 12), "t") == 0;
	return CU_OK;
}

/*
 * The flow row as planning saw it, kept in the plan ("flow_row") like the stages' configs: a
 * request on a plan in progress needs no lookup of its flow. A change to the flow reaches new
 * plans, as in authentik, whose plans are snapshots too.
 */
static struct json_object *
flow_snapshot(struct cu_flow_state *st)
{
	const struct cu_flow *f = &st->fs_flow;
	struct json_object *o = json_object_new_object();

	cu_json_set_string(o, "name", f->fl_name);
	cu_json_set_string(o, "title", f->fl_title);
	cu_json_set_string(o, "designation", f->fl_designation);
	cu_json_set_string(o, "authentication", f->fl_authentication);
	cu_json_set_string(o, "denied_action", f->fl_denied_action);
	cu_json_set_string(o, "layout", f->fl_layout);
	cu_json_set_string(o, "background", f->fl_background);
	cu_json_set_string(o, "policy_engine_mode", f->fl_policy_engine_mode);
	cu_json_set_string(o, "brand_background", st->fs_brand_background);
	cu_json_set_bool(o, "has_policies", st->fs_flow_has_policies);
	return o;
}

/* Takes the flow from the plan's snapshot when the plan is for slug: 0, or -1 to look it up. */
static int
flow_from_plan(struct cu_flow_state *st, const char *slug)
{
	struct cu_flow *f = &st->fs_flow;
	struct json_object *row = NULL;
	const char *pslug;
	int64_t serial = 0;
	int has = 0;

	if (st->fs_plan == NULL || (pslug = obj_string(st->fs_plan, "slug")) == NULL ||
	    strcmp(pslug, slug) != 0 || cu_json_get_object(st->fs_plan, "flow_row", &row) != 0 ||
	    cu_json_get_int(st->fs_plan, "serial", &serial) != 0 ||
	    cu_json_get_bool(row, "has_policies", &has) != 0)
		return -1;
	f->fl_uuid = obj_string(st->fs_plan, "flow");
	f->fl_slug = pslug;
	f->fl_serial = serial;
	f->fl_name = obj_string(row, "name");
	f->fl_title = obj_string(row, "title");
	f->fl_designation = obj_string(row, "designation");
	f->fl_authentication = obj_string(row, "authentication");
	f->fl_denied_action = obj_string(row, "denied_action");
	f->fl_layout = obj_string(row, "layout");
	f->fl_background = obj_string(row, "background");
	f->fl_policy_engine_mode = obj_string(row, "policy_engine_mode");
	st->fs_brand_background = obj_string(row, "brand_background");
	st->fs_flow_has_policies = has;
	if (f->fl_uuid == NULL || f->fl_name == NULL || f->fl_title == NULL ||
	    f->fl_designation == NULL || f->fl_authentication == NULL ||
	    f->fl_denied_action == NULL || f->fl_layout == NULL || f->fl_background == NULL ||
	    f->fl_policy_engine_mode == NULL || st->fs_brand_background == NULL)
		return -1;
	st->fs_host = request_host(st->fs_cx);
	return 0;
}

/* --- the challenge envelope -------------------------------------------------------------- */

/* Python's "%(app)s" / "%(user)s" substitution in a flow title ("%%" is a percent sign). */
static const char *
title_subst(struct cu_ctx *cx, const char *title, const char *app, const char *user)
{
	struct cu_buf b;
	const char *p;
	char *out;

	cu_buf_init(&b, 4096);
	for (p = title; *p != '\0'; p++) {
		int rc;

		if (strncmp(p, "%(app)s", 7) == 0) {
			rc = cu_buf_puts(&b, app);
			p += 6;
		} else if (strncmp(p, "%(user)s", 8) == 0) {
			rc = cu_buf_puts(&b, user);
			p += 7;
		} else if (p[0] == '%' && p[1] == '%') {
			rc = cu_buf_puts(&b, "%");
			p++;
		} else {
			rc = cu_buf_append(&b, p, 1);
		}
		if (rc != 0)
			break;
	}
	out = cu_arena_strdup(cx->cx_arena, b.bf_len > 0 ? b.bf_ptr : "");
	cu_buf_free(&b);
	return out;
}

/* The application's name from the context ("application": {"name"} or a name string). */
static const char *
context_app_name(struct cu_flow_exec *fx)
{
	struct json_object *app = cu_flow_ctx_get(fx, "application");
	const char *name = cu_flow_ctx_string(fx, "application_name");

	/* A provider leaves the application's uuid under "application" and its name here. */
	if (name != NULL)
		return name;
	if (app == NULL)
		return "";
	if (json_object_is_type(app, json_type_string))
		return json_object_get_string(app);
	name = obj_string(app, "name");
	return name != NULL ? name : "";
}

static struct json_object *
flow_info(struct cu_flow_state *st)
{
	struct cu_ctx *cx = st->fs_cx;
	struct cu_flow_exec *fx = &st->fs_fx;
	const struct cu_flow *f = &st->fs_flow;
	struct json_object *fi = json_object_new_object();
	const char *bg = f->fl_background, *user;

	user = fx->fx_pending_user != NULL   ? fx->fx_pending_user->us_username
	       : fx->fx_session_user != NULL ? fx->fx_session_user->us_username
	                                     : "";
	cu_json_set_string(fi, "title", title_subst(cx, f->fl_title, context_app_name(fx), user));
	if (bg == NULL || bg[0] == '\0')
		bg = st->fs_brand_background != NULL ? st->fs_brand_background
		                                     : FLOWS_DEFAULT_BACKGROUND;
	else if (bg[0] != '/' && strncmp(bg, "http://", 7) != 0 && strncmp(bg, "https://", 8) != 0)
		bg = cu_arena_printf(cx->cx_arena, "/media/%s", bg);
	cu_json_set_string(fi, "background", bg);
	cu_json_set(fi, "background_themed_urls", NULL);
	cu_json_set_string(
	    fi, "cancel_url",
	    cu_arena_printf(cx->cx_arena, "/flows/-/cancel/?next=%s",
	                    url_encode(cx->cx_arena, fx->fx_next != NULL ? fx->fx_next : "/")));
	cu_json_set_string(fi, "layout", f->fl_layout);
	return fi;
}

/* authentik's WithUserInfoChallenge kinds. */
static int
with_user_info(const char *component)
{
	static const char *const kinds[] = {
	    "ak-stage-password",      "ak-stage-consent",     "ak-stage-user-login",
	    "ak-stage-access-denied", "ak-stage-session-end", "ak-stage-captcha",
	};
	size_t i;

	if (strncmp(component, "ak-stage-authenticator-", 23) == 0)
		return 1;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(component, kinds[i]) == 0)
			return 1;
	return 0;
}

static void
send_challenge(struct cu_flow_state *st, struct json_object *c, struct json_object *errors)
{
	struct cu_flow_exec *fx = &st->fs_fx;
	const char *component = obj_string(c, "component");

	if (component == NULL)
		component = "";
	if (strcmp(component, "xak-flow-redirect") != 0 &&
	    !json_object_object_get_ex(c, "flow_info", NULL))
		cu_json_set(c, "flow_info", flow_info(st));
	if (with_user_info(component)) {
		const char *name = NULL;

		/* What was typed comes first, as authentik shows it: an unknown identifier, or a
		 * known one when the identification stage does not show the matched user. */
		if (fx->fx_context != NULL)
			name = cu_flow_ctx_string(fx, "pending_user_identifier");
		if (name == NULL && fx->fx_pending_user != NULL)
			name = fx->fx_pending_user->us_username;
		if (name == NULL && fx->fx_session_user != NULL)
			name = fx->fx_session_user->us_username;
		/* The same avatar for a known and an unknown user, so neither gives itself away. */
		cu_json_set_string(c, "pending_user", name != NULL ? name : "");
		cu_json_set_string(c, "pending_user_avatar", FLOWS_DEFAULT_AVATAR);
	}
	if (errors != NULL)
		cu_json_set(c, "response_errors", json_object_get(errors));
	cu_ctx_json(st->fs_cx, 200, c);
}

static void
send_redirect_challenge(struct cu_flow_state *st, const char *to)
{
	struct json_object *c = cu_json_object(st->fs_cx->cx_arena);

	cu_json_set_string(c, "component", "xak-flow-redirect");
	cu_json_set_string(c, "to", to);
	cu_ctx_json(st->fs_cx, 200, c);
}

/* Back to the executor with the same query: the browser's fetch follows and GETs. */
static void
send_self_redirect(struct cu_flow_state *st)
{
	struct cu_ctx *cx = st->fs_cx;

	cu_http_send_text(cx->cx_resp, 302, "text/plain; charset=utf-8", "", 0);
	if (cu_http_set_header(cx->cx_resp, "Location",
	                       cu_flow_executor_url(cx, st->fs_flow.fl_slug, st->fs_query)) != 0)
		cu_http_send_error(cx->cx_resp, 500, "Internal error.");
}

/* The flow is over: the context's redirect, else the allowed ?next=, else "/". */
static void
flow_done(struct cu_flow_state *st)
{
	struct cu_flow_exec *fx = &st->fs_fx;
	const char *to = NULL;

	if (fx->fx_context != NULL)
		to = cu_flow_ctx_string(fx, "redirect");
	if (to == NULL || to[0] == '\0')
		to = fx->fx_next != NULL ? fx->fx_next : "/";
	to = cu_arena_strdup(st->fs_cx->cx_arena, to);
	plan_drop(st);
	send_redirect_challenge(st, to);
}

static void
flow_denied(struct cu_flow_state *st, const char *message)
{
	struct json_object *c = cu_json_object(st->fs_cx->cx_arena);

	cu_log(CU_LOG_INFO, "flow_denied", CU_LS("flow", st->fs_flow.fl_slug),
	       CU_LS("stage", st->fs_fx.fx_stage_name));
	cu_json_set_string(c, "component", "ak-stage-access-denied");
	if (message != NULL)
		cu_json_set_string(c, "error_message", message);
	send_challenge(st, c, NULL);
	plan_drop(st);
}

static void
flow_error(struct cu_flow_state *st)
{
	struct json_object *c = cu_json_object(st->fs_cx->cx_arena);

	cu_log(CU_LOG_ERROR, "flow_stage_failed", CU_LS("flow", st->fs_flow.fl_slug),
	       CU_LS("stage", st->fs_fx.fx_stage_name));
	cu_json_set_string(c, "component", "ak-stage-flow-error");
	cu_json_set_string(c, "request_id", st->fs_cx->cx_req->rq_id);
	send_challenge(st, c, NULL);
}

/* --- planning ---------------------------------------------------------------------------- */

/* Loads the pending user named by the context, or NULL; the session's user is reused. */
static enum cu_err
load_pending_user(struct cu_flow_state *st)
{
	struct cu_flow_exec *fx = &st->fs_fx;
	struct json_object *v = cu_flow_ctx_get(fx, "pending_user");
	long long id;
	enum cu_err err;

	fx->fx_pending_user = NULL;
	if (v == NULL || !json_object_is_type(v, json_type_int))
		return CU_OK;
	id = (long long)json_object_get_int64(v);
	if (st->fs_user != NULL && st->fs_user->us_id == id) {
		fx->fx_pending_user = st->fs_user;
		return CU_OK;
	}
	/* Loaded with the session when the stored plan named the same user. */
	if (st->fs_pending != NULL && st->fs_pending->us_id == id) {
		fx->fx_pending_user = st->fs_pending;
		return CU_OK;
	}
	err = cu_auth_load_user(st->fs_cx, id, &fx->fx_pending_user);
	if (err == CU_ERR_NOT_FOUND) {
		fx->fx_pending_user = NULL;
		return CU_OK;
	}
	return err;
}

static void
set_plan(struct cu_flow_state *st, struct json_object *plan)
{
	struct json_object *ctx = NULL;

	st->fs_plan = plan;
	st->fs_fx.fx_plan = plan;
	if (plan != NULL && cu_json_get_object(plan, "context", &ctx) != 0) {
		ctx = json_object_new_object();
		cu_json_set(plan, "context", ctx);
	}
	st->fs_fx.fx_context = ctx;
}

/* flow.authentication against the request: 1 allowed. */
static int
authentication_ok(struct cu_flow_state *st)
{
	const char *req = st->fs_flow.fl_authentication;
	const struct cu_user *u = st->fs_user;

	if (strcmp(req, "none") == 0)
		return 1;
	if (strcmp(req, "require_authenticated") == 0)
		return u != NULL;
	if (strcmp(req, "require_unauthenticated") == 0)
		return u == NULL;
	if (strcmp(req, "require_superuser") == 0)
		return u != NULL && u->us_is_superuser;
	if (strcmp(req, "require_redirect") == 0)
		return cu_flow_ctx_get(&st->fs_fx, "is_redirected") != NULL;
	/* require_outpost: no outpost speaks to this executor yet. */
	return 0;
}

/* Joins policy messages with newlines, as authentik shows them; NULL for none. */
static const char *
join_messages(struct cu_ctx *cx, struct json_object *msgs)
{
	struct cu_buf b;
	size_t i, n = msgs != NULL ? json_object_array_length(msgs) : 0;
	char *out;

	if (n == 0)
		return NULL;
	cu_buf_init(&b, 8192);
	for (i = 0; i < n; i++) {
		const char *m = json_object_get_string(json_object_array_get_idx(msgs, i));

		if ((i > 0 && cu_buf_puts(&b, "\n") != 0) ||
		    cu_buf_puts(&b, m != NULL ? m : "") != 0)
			break;
	}
	out = cu_arena_strdup(cx->cx_arena, b.bf_len > 0 ? b.bf_ptr : "");
	cu_buf_free(&b);
	return out;
}

/*
 * A new plan for the flow, starting from context seed (borrowed; copied) or an empty one.
 * check_auth is 0 only for a restart of the same flow, which authentik plans without the check.
 */
static enum plan_outcome
plan_new(struct cu_flow_state *st, struct json_object *seed, struct json_object *append,
         int check_auth, const char **msg)
{
	struct cu_ctx *cx = st->fs_cx;
	struct cu_flow_exec *fx = &st->fs_fx;
	struct json_object *plan = cu_json_object(cx->cx_arena), *ctx = NULL, *stages, *msgs = NULL;
	const char *params[1];
	PGresult *res = NULL;
	int r, i, n;

	*msg = NULL;
	if (seed != NULL && json_object_deep_copy(seed, &ctx, NULL) != 0)
		ctx = NULL;
	if (ctx == NULL)
		ctx = json_object_new_object();
	cu_json_set_string(plan, "flow", st->fs_flow.fl_uuid);
	cu_json_set_string(plan, "slug", st->fs_flow.fl_slug);
	cu_json_set_int(plan, "serial", st->fs_flow.fl_serial);
	cu_json_set(plan, "flow_row", flow_snapshot(st));
	cu_json_set_string(plan, "query", st->fs_query);
	stages = json_object_new_array();
	cu_json_set(plan, "stages", stages);
	if (append != NULL)
		cu_json_set(plan, "append", json_object_get(append));
	cu_json_set_int(plan, "index", 0);
	cu_json_set(plan, "context", ctx);
	set_plan(st, plan);
	st->fs_dirty = 1;
	if (load_pending_user(st) != CU_OK)
		return PLAN_FAIL;

	/* An authentication flow has nothing to do for someone already logged in. */
	if (seed == NULL && st->fs_user != NULL &&
	    strcmp(st->fs_flow.fl_designation, "authentication") == 0)
		return PLAN_DONE;
	if (check_auth && !authentication_ok(st))
		return PLAN_DENIED;
	if (st->fs_flow_has_policies) {
		r = cu_flow_policies_pass(fx, st->fs_flow.fl_uuid,
		                          st->fs_flow.fl_policy_engine_mode, &msgs);
		if (r < 0)
			return PLAN_FAIL;
		if (r == 0) {
			*msg = join_messages(cx, msgs);
			return PLAN_DENIED;
		}
	}
	params[0] = st->fs_flow.fl_uuid;
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_FLOWS_BINDINGS, 1, params) !=
	    CU_OK)
		return PLAN_FAIL;
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		struct json_object *s, *config = NULL;
		const char *cfg = cu_db_value(res, i, 4);
		int has_policies = strcmp(cu_db_value(res, i, 9), "t") == 0;

		if (strcmp(cu_db_value(res, i, 5), "t") == 0 && has_policies) {
			r = cu_flow_policies_pass(fx, cu_db_value(res, i, 0),
			                          cu_db_value(res, i, 7), NULL);
			if (r < 0)
				return PLAN_FAIL;
			if (r == 0)
				continue;
		}
		if (cu_json_parse(cx->cx_arena, cfg, strlen(cfg), &config) != CU_OK ||
		    config == NULL)
			config = cu_json_object(cx->cx_arena);
		s = json_object_new_object();
		cu_json_set_string(s, "binding", cu_db_value(res, i, 0));
		cu_json_set_string(s, "stage", cu_db_value(res, i, 1));
		cu_json_set_string(s, "name", cu_db_value(res, i, 2));
		cu_json_set_string(s, "type", cu_db_value(res, i, 3));
		cu_json_set(s, "config", json_object_get(config));
		cu_json_set_bool(s, "re_evaluate", strcmp(cu_db_value(res, i, 6), "t") == 0);
		cu_json_set_string(s, "mode", cu_db_value(res, i, 7));
		cu_json_set_string(s, "invalid_response_action", cu_db_value(res, i, 8));
		/* A snapshot, as authentik's plan: bindings added later apply to new plans. */
		cu_json_set_bool(s, "has_policies", has_policies);
		json_object_array_add(stages, s);
	}
	/* What the seeding responder asked to run after the flow's own stages (flows.h). */
	n = append != NULL && json_object_is_type(append, json_type_array)
	        ? (int)json_object_array_length(append)
	        : 0;
	for (i = 0; i < n; i++) {
		struct json_object *s = NULL;

		if (json_object_deep_copy(json_object_array_get_idx(append, i), &s, NULL) == 0)
			json_object_array_add(stages, s);
	}
	if (json_object_array_length(stages) == 0)
		return PLAN_DONE;
	return PLAN_READY;
}

/* The flow does not apply (authentik's FlowNonApplicableException and denied_action). */
static void
handle_not_applicable(struct cu_flow_state *st, const char *msg)
{
	const char *action = st->fs_flow.fl_denied_action;
	const char *next = st->fs_fx.fx_next;

	cu_log(CU_LOG_INFO, "flow_not_applicable", CU_LS("flow", st->fs_flow.fl_slug),
	       CU_LS("denied_action", action));
	if (strcmp(action, "message") != 0 && next != NULL && cu_flow_next_is_local(next)) {
		plan_drop(st);
		send_redirect_challenge(st, next);
		return;
	}
	if (strcmp(action, "continue") == 0) {
		plan_drop(st);
		send_redirect_challenge(st, "/");
		return;
	}
	flow_denied(st, msg != NULL && msg[0] != '\0' ? msg : FLOWS_NOT_APPLICABLE);
}

/* --- flow tokens ------------------------------------------------------------------------- */

static void
token_digest(char out[65], const char *key)
{
	cu_auth_key_digest(out, key, strlen(key));
}

/*
 * ?flow_token=: takes the parked plan, once. A key already taken, expired or for another flow
 * leaves the session's plan alone.
 */
static enum cu_err
token_resume(struct cu_flow_state *st, const char *key)
{
	struct cu_ctx *cx = st->fs_cx;
	struct json_object *plan, *ctx = NULL, *old_ctx = NULL;
	const char *params[2], *text, *seen, *user_id;
	char digest[65];
	PGresult *res = NULL;
	enum cu_err err;

	if (key == NULL || key[0] == '\0' || strlen(key) > CU_FLOWS_MAX_TOKEN)
		return CU_OK;
	token_digest(digest, key);
	/* This session resumed from that key already: the query keeps carrying it. */
	seen = st->fs_plan != NULL ? obj_string(st->fs_plan, "token") : NULL;
	if (seen != NULL && strcmp(seen, digest) == 0)
		return CU_OK;
	params[0] = digest;
	params[1] = st->fs_flow.fl_uuid;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_FLOWS_TOKEN_USE, 2, params);
	if (err != CU_OK)
		return err;
	if (PQntuples(res) != 1) {
		cu_log_msg(CU_LOG_INFO, "flow_token_unusable", "unknown, used or expired");
		return CU_OK;
	}
	text = cu_db_value(res, 0, 0);
	user_id = cu_db_value(res, 0, 1);
	plan = plan_parse(cx, text, strlen(text));
	if (plan == NULL) {
		cu_log_msg(CU_LOG_WARNING, "flow_token_plan_invalid", "parked plan unreadable");
		return CU_OK;
	}
	if (strcmp(st->fs_flow.fl_authentication, "require_authenticated") == 0 ||
	    strcmp(st->fs_flow.fl_authentication, "require_superuser") == 0) {
		if (st->fs_user == NULL || user_id == NULL ||
		    strcmp(st->fs_user->us_id_text, user_id) != 0) {
			cu_log_msg(CU_LOG_WARNING, "flow_token_user_mismatch", "token not applied");
			return CU_OK;
		}
	}
	/* The parked context wins; what the session gathered meanwhile only fills gaps. */
	if (cu_json_get_object(plan, "context", &ctx) == 0 && st->fs_plan != NULL &&
	    obj_string(st->fs_plan, "flow") != NULL &&
	    strcmp(obj_string(st->fs_plan, "flow"), st->fs_flow.fl_uuid) == 0 &&
	    cu_json_get_object(st->fs_plan, "context", &old_ctx) == 0) {
		json_object_object_foreach(old_ctx, k, v)
		{
			if (!json_object_object_get_ex(ctx, k, NULL))
				json_object_object_add(ctx, k, json_object_get(v));
		}
	}
	if (ctx != NULL)
		cu_json_set_bool(ctx, "is_restored", 1);
	cu_json_set_string(plan, "token", digest);
	cu_json_set_string(plan, "query", st->fs_query);
	set_plan(st, plan);
	st->fs_dirty = 1;
	return CU_OK;
}

/* Stores a copy of fx's plan as a flow token (flows.h, cu_flow_token_create); *expires_out gets
 * the token's expiry as PostgreSQL set it (Unix time). */
static enum cu_err
token_store(struct cu_flow_exec *fx, long long expiry_seconds, int past_current,
            const char **key_out, long long *expires_out)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct json_object *copy = NULL;
	const char *params[5];
	char key[FLOWS_TOKEN_LEN + 1], digest[65];
	int64_t index = 0;
	PGresult *res = NULL;
	enum cu_err err;

	*key_out = NULL;
	*expires_out = 0;
	if (fx->fx_plan == NULL || json_object_deep_copy(fx->fx_plan, &copy, NULL) != 0)
		return CU_ERR_INTERNAL;
	cu_json_adopt(cx->cx_arena, copy);
	if (cu_json_get_int(copy, "index", &index) != 0)
		index = 0;
	if (past_current)
		cu_json_set_int(copy, "index", index + 1);
	json_object_object_del(copy, "token");
	cu_crypto_random_alnum(key, FLOWS_TOKEN_LEN);
	token_digest(digest, key);
	params[0] = digest;
	params[1] = fx->fx_flow->fl_uuid;
	params[2] = fx->fx_pending_user != NULL ? fx->fx_pending_user->us_id_text : NULL;
	params[3] = cu_json_text(copy, NULL);
	params[4] = cu_arena_printf(cx->cx_arena, "%lld", expiry_seconds);
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_FLOWS_TOKEN_CREATE, 5, params);
	if (err == CU_OK) {
		*key_out = cu_arena_strdup(cx->cx_arena, key);
		*expires_out = strtoll(cu_db_value(res, 0, 0), NULL, 10);
	}
	cu_wipe(key, sizeof(key));
	return err;
}

enum cu_err
cu_flow_token_create(struct cu_flow_exec *fx, long long expiry_seconds, int past_current,
                     const char **key_out)
{
	long long expires;

	return token_store(fx, expiry_seconds, past_current, key_out, &expires);
}

/* 1 when type is one of the NULL-terminated list types (NULL: none). */
static int
type_listed(const char *const *types, const char *type)
{
	size_t i;

	for (i = 0; types != NULL && types[i] != NULL; i++)
		if (type != NULL && strcmp(types[i], type) == 0)
			return 1;
	return 0;
}

enum cu_err
cu_flow_token_for_user(struct cu_ctx *cx, const char *slug, long long user_id,
                       const char *const *skip_leading, long long expiry_seconds,
                       const char **key_out, long long *expires_out)
{
	struct cu_flow_state *st = cu_arena_zalloc(cx->cx_arena, sizeof(*st));
	struct cu_flow_exec *fx = &st->fs_fx;
	struct json_object *seed, *stages = NULL;
	const char *msg = NULL;
	size_t lead, n;
	enum cu_err err;

	*key_out = NULL;
	*expires_out = 0;
	st->fs_cx = cx;
	if ((err = flow_load(st, slug)) != CU_OK)
		return err;
	/*
	 * No session and no session user: the browser that opens the link is not signed in as
	 * far as this plan knows, so the flow's authentication is checked against an anonymous
	 * one. The plan takes the page's query when the link is opened (token_resume).
	 */
	fx->fx_cx = cx;
	fx->fx_flow = &st->fs_flow;
	fx->fx_state = st;
	st->fs_query = "";
	seed = cu_json_object(cx->cx_arena);
	cu_json_set_int(seed, "pending_user", user_id);
	switch (plan_new(st, seed, NULL, 1, &msg)) {
	case PLAN_READY:
	case PLAN_DONE: /* no stages: planned all the same, as authentik's allow_empty_flows */
		break;
	case PLAN_DENIED:
		cu_log(CU_LOG_INFO, "flow_token_not_applicable",
		       CU_LS("flow", st->fs_flow.fl_slug));
		return CU_ERR_DENIED;
	case PLAN_FAIL:
	default:
		return CU_ERR_UNAVAILABLE;
	}
	n = cu_json_get_array(st->fs_plan, "stages", &stages) == 0
	        ? json_object_array_length(stages)
	        : 0;
	for (lead = 0; lead < n; lead++) {
		struct json_object *s = json_object_array_get_idx(stages, lead);

		if (!type_listed(skip_leading, obj_string(s, "type")))
			break;
	}
	cu_json_set_int(st->fs_plan, "index", (int64_t)lead);
	return token_store(fx, expiry_seconds, 0, key_out, expires_out);
}

/* --- login and logout -------------------------------------------------------------------- */

enum cu_err
cu_flow_login(struct cu_flow_exec *fx, long long seconds, int terminate_others)
{
	struct cu_flow_state *st = fx->fx_state;
	struct cu_ctx *cx = fx->fx_cx;
	struct cu_user *u = fx->fx_pending_user, *saved_user = cx->cx_user;
	struct json_object *ev, *args;
	const char *old_key = st->fs_key, *method;
	char key[CU_SESSIONS_KEY_LEN + 1];
	long long age = seconds > 0 ? seconds : (long long)cx->cx_cfg->sessions_browser_age;
	const char *params[1];
	enum cu_err err;

	if (u == NULL)
		return CU_ERR_NOT_FOUND;
	cu_sessions_new_key(key);
	err = cu_db_begin(cx->cx_db);
	if (err != CU_OK)
		goto out;
	if (st->fs_in_db && st->fs_user != NULL && st->fs_user->us_id == u->us_id) {
		/* The same user again (a re-authentication): a new key, but the same session for
		 * what hangs on it, so that applications are not logged out by it. */
		if ((err = cu_sessions_rotate(cx, old_key, key, u->us_id, age)) != CU_OK)
			goto out;
	} else {
		if (st->fs_in_db && (err = cu_sessions_delete(cx, old_key)) != CU_OK)
			goto out;
		if ((err = cu_sessions_create(cx, key, u->us_id, age, NULL)) != CU_OK)
			goto out;
	}
	params[0] = u->us_id_text;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_FLOWS_USER_LOGIN, 1, params);
	if (err != CU_OK)
		goto out;
	if (terminate_others && (err = cu_sessions_delete_others(cx, u->us_id, key)) != CU_OK)
		goto out;
	ev = cu_json_object(cx->cx_arena);
	method = cu_flow_ctx_string(fx, "auth_method");
	cu_json_set_string(ev, "auth_method", method != NULL ? method : "");
	args = cu_flow_ctx_get(fx, "auth_method_args");
	cu_json_set(ev, "auth_method_args",
	            args != NULL ? json_object_get(args) : json_object_new_object());
	cx->cx_user = u;
	err = cu_events_write(cx, "login", "authentik.events.signals", ev);
	cx->cx_user = saved_user;
	if (err != CU_OK)
		goto out;
	err = cu_db_commit(cx->cx_db);
out:
	if (err != CU_OK) {
		cu_db_rollback(cx->cx_db);
		cu_wipe(key, sizeof(key));
		return err;
	}
	if (st->fs_in_db && cx->cx_cache != NULL)
		(void)!cu_cache_del(cx->cx_cache, plan_cache_key(cx, old_key));
	st->fs_key = cu_arena_strdup(cx->cx_arena, key);
	cu_wipe(key, sizeof(key));
	st->fs_in_db = 1;
	st->fs_rev = 1;
	st->fs_user = u;
	st->fs_dirty = 1;
	fx->fx_session_key = st->fs_key;
	fx->fx_session_user = u;
	cu_log(CU_LOG_INFO, "session_login", CU_LI("user", u->us_id),
	       CU_LB("browser_session", seconds <= 0), CU_LB("terminate_others", terminate_others));
	cu_reputation_update(cx, cu_events_client_ip(cx), u->us_username, 1);
	if (cu_sessions_set_cookie(cx, st->fs_key, u->us_uuid, 1, seconds > 0 ? seconds : -1) != 0)
		return CU_ERR_INTERNAL;
	return CU_OK;
}

enum cu_err
cu_flow_logout(struct cu_flow_exec *fx)
{
	struct cu_flow_state *st = fx->fx_state;
	struct cu_ctx *cx = fx->fx_cx;
	struct cu_user *saved_user = cx->cx_user;
	const char *old_key = st->fs_key;
	enum cu_err err;

	if (st->fs_user == NULL)
		return CU_OK;
	err = cu_db_begin(cx->cx_db);
	if (err != CU_OK)
		return err;
	if ((err = cu_sessions_delete(cx, old_key)) != CU_OK)
		goto out;
	cx->cx_user = st->fs_user;
	err = cu_events_write(cx, "logout", "authentik.events.signals", NULL);
	cx->cx_user = saved_user;
	if (err != CU_OK)
		goto out;
	err = cu_db_commit(cx->cx_db);
out:
	if (err != CU_OK) {
		cu_db_rollback(cx->cx_db);
		return err;
	}
	if (cx->cx_cache != NULL)
		(void)!cu_cache_del(cx->cx_cache, plan_cache_key(cx, old_key));
	cu_log(CU_LOG_INFO, "session_logout", CU_LI("user", st->fs_user->us_id));
	/* The plan goes on in a fresh anonymous session, written at the end of the request. */
	if ((err = session_new(st)) != CU_OK)
		return err;
	st->fs_plan = fx->fx_plan;
	st->fs_dirty = 1;
	fx->fx_session_key = st->fs_key;
	fx->fx_session_user = NULL;
	return CU_OK;
}

/* --- switching flows --------------------------------------------------------------------- */

/* A seed: what the executor of the target flow plans from (plan_new with its context and the
 * stages to append). */
static struct json_object *
seed_plan(struct cu_ctx *cx, const char *uuid, const char *slug, struct json_object *context,
          struct json_object *append)
{
	struct json_object *p = cu_json_object(cx->cx_arena), *ctx = NULL, *app = NULL;

	if (context == NULL || json_object_deep_copy(context, &ctx, NULL) != 0)
		ctx = json_object_new_object();
	cu_json_set_string(p, "flow", uuid);
	cu_json_set_string(p, "slug", slug);
	cu_json_set_bool(p, "seed", 1);
	cu_json_set(p, "context", ctx);
	if (append != NULL && json_object_deep_copy(append, &app, NULL) == 0)
		cu_json_set(p, "append", app);
	return p;
}

void
cu_flow_switch(struct cu_flow_exec *fx, const char *target_uuid, const char *target_slug,
               int keep_context, const char **url_out)
{
	struct cu_flow_state *st = fx->fx_state;
	struct cu_ctx *cx = fx->fx_cx;
	struct json_object *ctx = NULL;

	*url_out = cu_flow_interface_url(cx, target_slug, st != NULL ? st->fs_query : NULL);
	if (st == NULL)
		return;
	st->fs_plan =
	    seed_plan(cx, target_uuid, target_slug, keep_context ? fx->fx_context : NULL, NULL);
	if (cu_json_get_object(st->fs_plan, "context", &ctx) == 0)
		cu_json_set_string(ctx, "is_redirected", fx->fx_flow->fl_uuid);
	/* The executor must not keep running the old plan in this request. */
	st->fs_dirty = 1;
}

enum cu_err
cu_flow_seed(struct cu_ctx *cx, const char *slug, struct json_object *context,
             struct json_object *append, const char *query, const char **url_out)
{
	struct cu_flow_state *st = cu_arena_zalloc(cx->cx_arena, sizeof(*st));
	enum cu_err err;

	*url_out = NULL;
	st->fs_cx = cx;
	if ((err = flow_load(st, slug)) != CU_OK)
		return err;
	if ((err = session_open(st)) != CU_OK)
		return err;
	st->fs_plan = seed_plan(cx, st->fs_flow.fl_uuid, st->fs_flow.fl_slug, context, append);
	st->fs_dirty = 1;
	if ((err = session_close(st)) != CU_OK)
		return err;
	*url_out = cu_flow_interface_url(cx, st->fs_flow.fl_slug, query);
	return CU_OK;
}

/* --- the executor ------------------------------------------------------------------------ */

static int
plan_index(struct cu_flow_state *st)
{
	int64_t i = 0;

	if (cu_json_get_int(st->fs_plan, "index", &i) != 0 || i < 0 || i > 100000)
		return 0;
	return (int)i;
}

static void
plan_advance(struct cu_flow_state *st)
{
	cu_json_set_int(st->fs_plan, "index", plan_index(st) + 1);
	st->fs_dirty = 1;
}

static struct json_object *
plan_stages(struct cu_flow_state *st)
{
	struct json_object *a = NULL;

	if (cu_json_get_array(st->fs_plan, "stages", &a) != 0)
		return NULL;
	return a;
}

enum pick {
	PICK_STAGE, /* fs_fx describes the current stage */
	PICK_DONE,  /* no stage left */
	PICK_FAIL,
};

/* The current stage, skipping those whose re-evaluated policies no longer pass. */
static enum pick
pick_stage(struct cu_flow_state *st)
{
	struct cu_flow_exec *fx = &st->fs_fx;
	struct json_object *stages = plan_stages(st);

	if (load_pending_user(st) != CU_OK)
		return PICK_FAIL;
	for (;;) {
		struct json_object *s;
		int idx = plan_index(st), re = 0, hp = 0;

		if (stages == NULL || idx >= (int)json_object_array_length(stages))
			return PICK_DONE;
		s = json_object_array_get_idx(stages, (size_t)idx);
		fx->fx_stage = s;
		fx->fx_stage_uuid = obj_string(s, "stage");
		fx->fx_stage_name = obj_string(s, "name");
		if (cu_json_get_object(s, "config", &fx->fx_config) != 0)
			fx->fx_config = NULL;
		if (cu_json_get_bool(s, "re_evaluate", &re) != 0)
			re = 0;
		if (cu_json_get_bool(s, "has_policies", &hp) != 0)
			hp = 1;
		if (re && hp) {
			int r = cu_flow_policies_pass(fx, obj_string(s, "binding"),
			                              obj_string(s, "mode"), NULL);

			if (r < 0)
				return PICK_FAIL;
			if (r == 0) {
				cu_log(CU_LOG_DEBUG, "flow_stage_skipped",
				       CU_LS("stage", fx->fx_stage_name));
				plan_advance(st);
				continue;
			}
		}
		st->fs_type = cu_stage_type_find(obj_string(s, "type"));
		if (st->fs_type == NULL) {
			cu_log(CU_LOG_ERROR, "flow_stage_unknown",
			       CU_LS("type", obj_string(s, "type")));
			return PICK_FAIL;
		}
		return PICK_STAGE;
	}
}

/* Replans after a wrong answer on a restart binding; answers 302 to the executor. */
static void
restart(struct cu_flow_state *st, int keep_context)
{
	struct json_object *ctx = keep_context ? st->fs_fx.fx_context : NULL, *append = NULL;
	const char *msg = NULL;

	/* The appended stages belong to the request that started the flow: a restart keeps them. */
	if (cu_json_get_array(st->fs_plan, "append", &append) != 0)
		append = NULL;
	switch (plan_new(st, ctx, append, 0, &msg)) {
	case PLAN_READY:
	case PLAN_DONE:
		send_self_redirect(st);
		return;
	case PLAN_DENIED:
		handle_not_applicable(st, msg);
		return;
	case PLAN_FAIL:
		flow_error(st);
		return;
	}
}

/* The binding's invalid_response_action when it restarts; NULL for retry. */
static const char *
restart_action(struct cu_flow_state *st)
{
	const char *a = obj_string(st->fs_fx.fx_stage, "invalid_response_action");

	if (a != NULL && (strcmp(a, "restart") == 0 || strcmp(a, "restart_with_context") == 0))
		return a;
	return NULL;
}

static void outcome(struct cu_flow_state *st, enum cu_stage_result r, struct json_object *errors);

/* The stage's challenge again with errors (a wrong or misdirected answer). */
static void
show_again(struct cu_flow_state *st, struct json_object *errors)
{
	struct cu_flow_exec *fx = &st->fs_fx;
	enum cu_stage_result r;

	fx->fx_errors = NULL;
	fx->fx_challenge = NULL;
	r = st->fs_type->st_challenge(fx);
	/* A challenge function has no answer to find wrong. */
	if (r == CU_STAGE_INVALID)
		r = CU_STAGE_FAIL;
	outcome(st, r, errors);
}

/* What a stage's result turns into; errors are shown with a challenge. */
static void
outcome(struct cu_flow_state *st, enum cu_stage_result r, struct json_object *errors)
{
	struct cu_flow_exec *fx = &st->fs_fx;
	const char *ra;

	/* A stage that handed over to another flow (cu_flow_switch) leaves that flow's seed as
	 * the session's plan; its challenge (a redirect) is all that is left to send. */
	if (st->fs_plan != fx->fx_plan && r != CU_STAGE_FAIL) {
		if (fx->fx_challenge != NULL)
			send_challenge(st, fx->fx_challenge, NULL);
		else
			flow_error(st);
		return;
	}
	switch (r) {
	case CU_STAGE_CHALLENGE:
		if (fx->fx_challenge == NULL) {
			flow_error(st);
			return;
		}
		send_challenge(st, fx->fx_challenge, errors);
		return;
	case CU_STAGE_NEXT:
		plan_advance(st);
		if (plan_index(st) < (int)json_object_array_length(plan_stages(st)))
			send_self_redirect(st);
		else
			flow_done(st);
		return;
	case CU_STAGE_INVALID:
		/* After a wrong answer: the stage's challenge again, with what was wrong. */
		errors = fx->fx_errors;
		fx->fx_errors = NULL;
		fx->fx_challenge = NULL;
		if ((ra = restart_action(st)) != NULL) {
			restart(st, strcmp(ra, "restart_with_context") == 0);
			return;
		}
		show_again(st, errors);
		return;
	case CU_STAGE_DENY:
		if ((ra = restart_action(st)) != NULL) {
			restart(st, strcmp(ra, "restart_with_context") == 0);
			return;
		}
		flow_denied(st, fx->fx_message);
		return;
	case CU_STAGE_FAIL:
	default:
		flow_error(st);
		return;
	}
}

/* A body with Content-Type application/json (parameters such as charset allowed). */
static int
json_body(struct cu_ctx *cx)
{
	const char *ct = cx->cx_req->rq_content_type;
	size_t n = strlen("application/json");

	if (cx->cx_req->rq_body == NULL || cx->cx_req->rq_body_len == 0 || ct == NULL)
		return 0;
	while (*ct == ' ')
		ct++;
	return strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* POST: the answer goes to the stage only when it is a JSON object for this stage's kind. */
static void
run_post(struct cu_flow_state *st)
{
	struct cu_ctx *cx = st->fs_cx;
	struct cu_flow_exec *fx = &st->fs_fx;
	struct json_object *body = NULL;
	const char *component = NULL;
	enum cu_stage_result r;

	/* Only JSON answers, as authentik's one parser: a form or text/plain body (what a
	 * cross-site form can send) is no answer whatever it holds. */
	if (json_body(cx) &&
	    cu_json_parse(cx->cx_arena, cx->cx_req->rq_body, cx->cx_req->rq_body_len, &body) ==
	        CU_OK &&
	    body != NULL && json_object_is_type(body, json_type_object) &&
	    cu_json_get_string(body, "component", &component) == 0 &&
	    strcmp(component, st->fs_type->st_component) == 0) {
		r = st->fs_type->st_respond(fx, body);
		outcome(st, r, NULL);
		return;
	}
	cu_log(CU_LOG_INFO, "flow_response_rejected", CU_LS("flow", st->fs_flow.fl_slug),
	       CU_LS("stage", fx->fx_stage_name));
	(void)cu_flow_invalid(fx, NULL, "Invalid response for this stage.", "invalid");
	/* Never a restart either: a stray request must not throw away the user's progress. */
	show_again(st, fx->fx_errors);
}

/* The query for this request: the one sent, else the one the plan kept. */
static void
setup_query(struct cu_flow_state *st)
{
	struct cu_ctx *cx = st->fs_cx;
	struct cu_flow_exec *fx = &st->fs_fx;
	const char *q = cu_http_arg(cx->cx_req, "query"), *next;
	int allowed;

	if (q == NULL && st->fs_plan != NULL)
		q = obj_string(st->fs_plan, "query");
	st->fs_query = q != NULL ? q : "";
	fx->fx_query = query_object(cx, st->fs_query);
	next = obj_string(fx->fx_query, "next");
	fx->fx_next = NULL;
	if (next != NULL) {
		allowed = cu_flow_next_allowed(cx, next);
		if (allowed == 1)
			fx->fx_next = next;
		else if (allowed == 0)
			cu_log_msg(CU_LOG_WARNING, "flow_next_refused", "next is not allowed");
	}
}

static void
run(struct cu_flow_state *st)
{
	struct cu_ctx *cx = st->fs_cx;
	struct cu_flow_exec *fx = &st->fs_fx;
	struct json_object *seed = NULL, *append = NULL;
	const char *pflow, *msg = NULL, *q;
	int is_seed = 0;

	fx->fx_cx = cx;
	fx->fx_flow = &st->fs_flow;
	fx->fx_session_user = st->fs_user;
	fx->fx_session_key = st->fs_key;
	fx->fx_state = st;

	/* A plan for another flow is dropped; a seed for this one is planned from. */
	if (st->fs_plan != NULL) {
		pflow = obj_string(st->fs_plan, "flow");
		if (pflow == NULL || strcmp(pflow, st->fs_flow.fl_uuid) != 0) {
			cu_log(CU_LOG_INFO, "flow_plan_other_flow",
			       CU_LS("flow", st->fs_flow.fl_slug));
			st->fs_plan = NULL;
			st->fs_dirty = 1;
		} else if (cu_json_get_bool(st->fs_plan, "seed", &is_seed) == 0 && is_seed) {
			if (cu_json_get_object(st->fs_plan, "context", &seed) != 0)
				seed = NULL;
			if (cu_json_get_array(st->fs_plan, "append", &append) != 0)
				append = NULL;
			st->fs_plan = NULL;
		}
	}
	setup_query(st);
	if (fx->fx_query != NULL &&
	    token_resume(st, obj_string(fx->fx_query, "flow_token")) != CU_OK) {
		flow_error(st);
		return;
	}
	if (st->fs_plan == NULL) {
		switch (plan_new(st, seed, append, 1, &msg)) {
		case PLAN_READY:
			break;
		case PLAN_DONE:
			flow_done(st);
			return;
		case PLAN_DENIED:
			handle_not_applicable(st, msg);
			return;
		case PLAN_FAIL:
			flow_error(st);
			return;
		}
	} else {
		set_plan(st, st->fs_plan);
		q = obj_string(st->fs_plan, "query");
		if (q == NULL || strcmp(q, st->fs_query) != 0) {
			cu_json_set_string(st->fs_plan, "query", st->fs_query);
			st->fs_dirty = 1;
		}
	}
	switch (pick_stage(st)) {
	case PICK_DONE:
		flow_done(st);
		return;
	case PICK_FAIL:
		flow_error(st);
		return;
	case PICK_STAGE:
		break;
	}
	if (cx->cx_req->rq_method == CU_HTTP_POST)
		run_post(st);
	else
		outcome(st, st->fs_type->st_challenge(fx), NULL);
}

void
cu_flows_executor(struct cu_ctx *cx)
{
	struct cu_flow_state *st = cu_arena_zalloc(cx->cx_arena, sizeof(*st));
	const char *slug = cu_ctx_param(cx, "slug");
	int resuming;
	enum cu_err err;

	st->fs_cx = cx;
	if (!slug_ok(slug)) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	/*
	 * A browser in a flow brings its session, whose plan carries the flow's row: then the
	 * flow needs no lookup. A first visit looks the flow up before a session is made for it.
	 * A mailed link (flow_token) always reads the flow afresh.
	 */
	resuming = cu_http_cookie(cx->cx_req, CU_SESSIONS_COOKIE) != NULL;
	if (resuming) {
		const char *q = cu_http_arg(cx->cx_req, "query");

		if ((err = session_open(st)) != CU_OK) {
			cu_ctx_fail(cx, err, "session");
			return;
		}
		resuming =
		    (q == NULL || strstr(q, "flow_token") == NULL) && flow_from_plan(st, slug) == 0;
	}
	if (!resuming) {
		err = flow_load(st, slug);
		if (err == CU_ERR_NOT_FOUND) {
			cu_ctx_error(cx, 404, "Not found.");
			return;
		}
		if (err != CU_OK) {
			cu_ctx_fail(cx, err, "flow");
			return;
		}
		if (st->fs_key == NULL && (err = session_open(st)) != CU_OK) {
			cu_ctx_fail(cx, err, "session");
			return;
		}
	}
	/*
	 * A logged-in browser's cookie would carry a cross-site POST (SameSite=None over HTTPS)
	 * into a consent or settings flow: as authentik's session authentication, such a POST
	 * must echo the CSRF cookie. An anonymous login POST has nothing to protect yet.
	 */
	if (cx->cx_req->rq_method == CU_HTTP_POST && st->fs_user != NULL &&
	    !cu_sessions_csrf_ok(cx)) {
		cu_ctx_error(cx, 403, "CSRF Failed: CSRF token missing or incorrect.");
		return;
	}
	run(st);
	err = session_close(st);
	if (err != CU_OK)
		cu_ctx_fail(cx, err, "session");
}

/* --- default flows and cancel ------------------------------------------------------------ */

static void
send_redirect(struct cu_ctx *cx, const char *to)
{
	cu_http_send_text(cx->cx_resp, 302, "text/plain; charset=utf-8", "", 0);
	if (cu_http_set_header(cx->cx_resp, "Location", to) != 0)
		cu_http_send_error(cx->cx_resp, 500, "Internal error.");
}

static void
to_default_flow(struct cu_ctx *cx, const char *designation)
{
	struct cu_policy_request rq;
	struct cu_policy_result pr;
	struct cu_session se;
	const char *params[2], *sid = NULL;
	PGresult *res = NULL;
	int i, n, user_loaded = 0;
	enum cu_err err = CU_OK;

	memset(&rq, 0, sizeof(rq));
	memset(&pr, 0, sizeof(pr));
	memset(&se, 0, sizeof(se));

	params[0] = request_host(cx);
	params[1] = designation;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_FLOWS_DEFAULT_FOR_BRAND, 2,
	                 params);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "flow");
		return;
	}
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		/* The brand's own flow (listed first) is taken as it is, as authentik does. */
		if (strcmp(cu_db_value(res, i, 2), "0") == 0)
			break;
		/* Otherwise the first by slug whose policies let the visitor in. */
		if (!user_loaded) {
			sid = cu_sessions_cookie_sid(cx);
			if (sid != NULL && (err = cu_sessions_load(cx, sid, &se)) != CU_OK &&
			    err != CU_ERR_NOT_FOUND) {
				cu_ctx_fail(cx, err, "session");
				return;
			}
			rq.pr_user = sid != NULL && err == CU_OK ? se.se_user : NULL;
			user_loaded = 1;
		}
		if (cu_policy_engine_run(cx, cu_db_value(res, i, 0), cu_db_value(res, i, 3), &rq,
		                         &pr) != CU_OK) {
			cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "policy");
			return;
		}
		if (pr.pr_passing)
			break;
	}
	if (i >= n) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	send_redirect(cx, cu_flow_interface_url(cx, cu_db_value(res, i, 1), cx->cx_req->rq_query));
}

void
cu_flows_default_authentication(struct cu_ctx *cx)
{
	to_default_flow(cx, "authentication");
}

void
cu_flows_default_invalidation(struct cu_ctx *cx)
{
	to_default_flow(cx, "invalidation");
}

void
cu_flows_cancel(struct cu_ctx *cx)
{
	struct cu_session se;
	const char *sid, *next = cu_http_arg(cx->cx_req, "next"), *params[2];
	int authenticated = 0;
	enum cu_err err;

	sid = cu_sessions_cookie_any(cx, &authenticated);
	if (sid != NULL) {
		err = cu_sessions_load(cx, sid, &se);
		if (err == CU_OK) {
			params[0] = sid;
			params[1] = NULL;
			err = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_FLOWS_PLAN_SAVE,
			                 2, params);
			if (err == CU_OK && cx->cx_cache != NULL)
				(void)!cu_cache_del(cx->cx_cache, plan_cache_key(cx, sid));
		}
		if (err != CU_OK && err != CU_ERR_NOT_FOUND) {
			cu_ctx_fail(cx, err, "session");
			return;
		}
	}
	send_redirect(cx, next != NULL && cu_flow_next_is_local(next)
	                      ? next
	                      : "/flows/-/default/invalidation/");
}

/* --- a stage's configuration flow -------------------------------------------------------- */

/* 1 when s is a UUID in the lower-case form the route takes (Django's uuid converter). */
static int
stage_uuid_ok(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isdigit((unsigned char)s[i]) && (s[i] < 'a' || s[i] > 'f')) {
			return 0;
		}
	}
	return 1;
}

/* To the authentication flow, with ?next= back to here (Django's redirect_to_login). */
static void
to_login(struct cu_ctx *cx, const char *here)
{
	send_redirect(cx, cu_arena_printf(cx->cx_arena, "/flows/-/default/authentication/?next=%s",
	                                  url_encode(cx->cx_arena, here)));
}

void
cu_flows_configure(struct cu_ctx *cx)
{
	struct cu_flow_state *st = cu_arena_zalloc(cx->cx_arena, sizeof(*st));
	struct cu_flow_exec *fx = &st->fs_fx;
	struct json_object *seed;
	const char *stage = cu_ctx_param(cx, "stage_uuid"), *query = cx->cx_req->rq_query;
	const char *params[1], *here, *msg = NULL;
	PGresult *res = NULL;
	enum cu_err err;

	st->fs_cx = cx;
	if (!stage_uuid_ok(stage)) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	/* Logged-in users only: others log in first and come back here. */
	here = cu_arena_printf(cx->cx_arena, "/flows/-/configure/%s/%s%s", stage,
	                       query[0] != '\0' ? "?" : "", query);
	if (cu_sessions_cookie_sid(cx) == NULL) {
		to_login(cx, here);
		return;
	}
	if ((err = session_open(st)) != CU_OK) {
		cu_ctx_fail(cx, err, "session");
		return;
	}
	if (st->fs_user == NULL) {
		to_login(cx, here);
		return;
	}
	params[0] = stage;
	err = cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_STAGES_API_CONFIGURE_FLOW, 1,
	                 params);
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "flow");
		return;
	}
	if (PQntuples(res) != 1) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	err = flow_load(st, cu_db_value(res, 0, 0));
	if (err == CU_ERR_NOT_FOUND) {
		cu_ctx_error(cx, 404, "Not found.");
		return;
	}
	if (err != CU_OK) {
		cu_ctx_fail(cx, err, "flow");
		return;
	}
	/*
	 * Planned now for the user as the pending user, as authentik's ConfigureFlowInitView: a
	 * flow that does not apply to them (its authentication, its policies) is a 404, and the
	 * plan the executor finds is this one. The page's query goes with it.
	 */
	fx->fx_cx = cx;
	fx->fx_flow = &st->fs_flow;
	fx->fx_session_user = st->fs_user;
	fx->fx_session_key = st->fs_key;
	fx->fx_state = st;
	st->fs_query = query;
	seed = cu_json_object(cx->cx_arena);
	cu_json_set_int(seed, "pending_user", st->fs_user->us_id);
	switch (plan_new(st, seed, NULL, 1, &msg)) {
	case PLAN_READY:
	case PLAN_DONE:
		break;
	case PLAN_DENIED:
		cu_log(CU_LOG_INFO, "flow_configure_not_applicable",
		       CU_LS("flow", st->fs_flow.fl_slug), CU_LS("stage", stage));
		cu_ctx_error(cx, 404, "Not found.");
		return;
	case PLAN_FAIL:
		cu_ctx_fail(cx, CU_ERR_UNAVAILABLE, "flow");
		return;
	}
	if ((err = session_close(st)) != CU_OK) {
		cu_ctx_fail(cx, err, "session");
		return;
	}
	send_redirect(cx, cu_flow_interface_url(cx, st->fs_flow.fl_slug, query));
}
