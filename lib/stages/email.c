/*
 * The email stage (emailstage, ak-stage-email; authentik's EmailStageView): mails the pending
 * user a link that carries the flow on, and waits. The link is this flow's interface with
 * ?flow_token=<key>; the key parks the plan (cu_flow_token_create) and the executor resumes it,
 * once, before it expires, for this flow only.
 *
 * The parked plan stands on this stage with a marker in its context that the session's own
 * plan never has: when the resumed plan shows this stage again, the marker proves the link was
 * opened, the account is activated when activate_user_on_success is set, and the flow goes on.
 *
 * Mail goes out through the worker (authentik.stages.email.tasks.send_mail) with the global mail
 * settings; use_global_settings and the per-stage SMTP fields are not kept. A GET sends the first
 * mail; a POST sends another, as authentik's "resend" does. Sends per address are capped at
 * recovery_max_attempts within recovery_cache_timeout (Redis; without Redis nothing is capped).
 *
 * A recovery flow must not tell whether an account exists: with no pending user but an
 * identifier typed in an earlier stage, the stage answers exactly as when it mails, and sends
 * nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "cache.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "flows.h"
#include "json.h"
#include "log.h"
#include "server.h"
#include "stages/stages.h"
#include "tasks.h"

#define MARKER "email_link"
#define DEFAULT_EXPIRY_S (30 * 60)
#define DEFAULT_WINDOW_S (5 * 60)
#define DEFAULT_MAX_ATTEMPTS 5
#define ATTEMPTS_PREFIX "custos:email:attempts:"
#define MAX_HOST 255

/* The user the mail is for; strings arena-owned. */
struct email_user {
	const char *eu_id;
	const char *eu_username;
	const char *eu_name;
	const char *eu_email;
	int eu_is_active;
};

static long long
ctx_user_id(struct cu_flow_exec *fx)
{
	struct json_object *v = cu_flow_ctx_get(fx, "pending_user");

	if (v == NULL || !json_object_is_type(v, json_type_int))
		return 0;
	return (long long)json_object_get_int64(v);
}

/* The pending user, active or not (an account confirmation mails an inactive one): 1 found,
 * 0 none, -1 PostgreSQL failed. */
static int
load_user(struct cu_flow_exec *fx, struct email_user *u)
{
	struct cu_ctx *cx = fx->fx_cx;
	long long id = ctx_user_id(fx);
	const char *p;
	PGresult *res = NULL;

	memset(u, 0, sizeof(*u));
	if (id <= 0)
		return 0;
	p = cu_arena_printf(cx->cx_arena, "%lld", id);
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_EMAIL_USER, 1, &p) != CU_OK)
		return -1;
	if (PQntuples(res) != 1)
		return 0;
	u->eu_id = cu_db_value(res, 0, 0);
	u->eu_username = cu_db_value(res, 0, 2);
	u->eu_name = cu_db_value(res, 0, 3);
	u->eu_email = cu_db_value(res, 0, 4);
	u->eu_is_active = strcmp(cu_db_value(res, 0, 5), "t") == 0;
	return 1;
}

static long long
cfg_seconds(struct cu_flow_exec *fx, const char *key, long long dflt)
{
	const char *s = cu_flow_cfg_string(fx, key, NULL);
	long long v;

	if (s == NULL || cu_config_timedelta(s, &v) != 0 || v <= 0)
		return dflt;
	return v;
}

static enum cu_stage_result
email_challenge_out(struct cu_flow_exec *fx)
{
	struct json_object *ch = cu_flow_challenge(fx, "ak-stage-email");

	cu_json_set_string(ch, "title", "Email sent.");
	return CU_STAGE_CHALLENGE;
}

/*
 * Counts one send for who (an address or what was typed): 0 allowed, else the minutes until
 * the next send is. Without Redis the send is allowed.
 */
static long long
rate_limited(struct cu_flow_exec *fx, const char *who)
{
	struct cu_ctx *cx = fx->fx_cx;
	uint8_t digest[CU_SHA256_LEN];
	char hex[2 * CU_SHA256_LEN + 1], ttl[24];
	const char *key, *argv[6];
	long long max = cu_flow_cfg_int(fx, "recovery_max_attempts", DEFAULT_MAX_ATTEMPTS);
	long long window = cfg_seconds(fx, "recovery_cache_timeout", DEFAULT_WINDOW_S);
	struct redisReply *r = NULL;
	char *lower;
	size_t i;

	if (cx->cx_cache == NULL)
		return 0;
	lower = cu_arena_strdup(cx->cx_arena, who);
	for (i = 0; lower[i] != '\0'; i++)
		if (lower[i] >= 'A' && lower[i] <= 'Z')
			lower[i] = (char)(lower[i] + 32);
	cu_crypto_sha256(digest, lower, strlen(lower));
	cu_hex_encode(hex, digest, sizeof(digest));
	key = cu_arena_printf(cx->cx_arena, ATTEMPTS_PREFIX "%s", hex);
	snprintf(ttl, sizeof(ttl), "%lld", window);
	/* The window starts with the first send; INCR keeps the expiry SET gave. */
	argv[0] = "SET", argv[1] = key, argv[2] = "0", argv[3] = "EX", argv[4] = ttl,
	argv[5] = "NX";
	if (cu_cache_cmd(cx->cx_cache, cx->cx_arena, NULL, 6, argv, NULL) != CU_OK)
		goto unavailable;
	argv[0] = "INCR";
	if (cu_cache_cmd(cx->cx_cache, cx->cx_arena, &r, 2, argv, NULL) != CU_OK ||
	    r->type != REDIS_REPLY_INTEGER)
		goto unavailable;
	if (r->integer <= max)
		return 0;
	argv[0] = "TTL";
	if (cu_cache_cmd(cx->cx_cache, cx->cx_arena, &r, 2, argv, NULL) != CU_OK ||
	    r->type != REDIS_REPLY_INTEGER || r->integer <= 0)
		return 1;
	return (r->integer + 59) / 60;
unavailable:
	cu_log_msg(CU_LOG_WARNING, "email_rate_unchecked", "Redis unavailable");
	return 0;
}

/* scheme://host of this request, or NULL when the Host header is not a plain host[:port]
 * (the link must never point at whatever a client typed there). */
static const char *
origin(struct cu_ctx *cx)
{
	const char *h = cx->cx_req->rq_host;
	size_t i, n = h != NULL ? strlen(h) : 0;
	int colon = 0;

	if (n == 0 || n > MAX_HOST)
		return NULL;
	for (i = 0; i < n; i++) {
		char c = h[i];

		if (c == ':') {
			if (colon++ || i == 0 || i + 1 == n)
				return NULL;
		} else if (colon ? !(c >= '0' && c <= '9')
		                 : !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		                     (c >= '0' && c <= '9') || c == '-' || c == '.')) {
			return NULL;
		}
	}
	return cu_arena_printf(cx->cx_arena, "%s://%s", cx->cx_req->rq_https ? "https" : "http", h);
}

/*
 * Whether a mailed link may point at the request's host. A client chooses the Host header, and
 * a recovery link sent to a victim but pointing at the attacker's host would hand over its
 * token: so the host must be a brand's domain (or under one). Until any brand has a real
 * domain name (a fresh install still on "authentik-default"), the host is taken as it is,
 * with a warning in the log. 1 yes, 0 no, -1 PostgreSQL unavailable.
 */
static int
link_host_ok(struct cu_ctx *cx)
{
	const char *h = cx->cx_req->rq_host, *colon, *params[1];
	PGresult *res = NULL;
	char *name;
	size_t i;

	colon = strchr(h, ':');
	name = cu_arena_strndup(cx->cx_arena, h, colon != NULL ? (size_t)(colon - h) : strlen(h));
	for (i = 0; name[i] != '\0'; i++)
		if (name[i] >= 'A' && name[i] <= 'Z')
			name[i] = (char)(name[i] - 'A' + 'a');
	params[0] = name;
	if (cu_db_exec(cx->cx_db, cx->cx_arena, &res, CU_DB_STMT_EMAIL_LINK_HOST, 1, params) !=
	    CU_OK)
		return -1;
	if (strcmp(cu_db_value(res, 0, 0), "t") == 0)
		return 1;
	if (strcmp(cu_db_value(res, 0, 1), "t") == 0)
		return 0;
	cu_log(CU_LOG_WARNING, "email_link_host_unverified", CU_LS("host", name),
	       CU_LS("reason", "no brand has a domain name yet; set the brand's domain"));
	return 1;
}

static const char *
url_encode(struct cu_arena *a, const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t i, o = 0, n = strlen(s);
	char *out = cu_arena_alloc(a, n * 3 + 1);

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hexd[c >> 4];
			out[o++] = hexd[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

/* The flow interface's URL with the page's query kept, flow_token replaced by key. */
static const char *
link_url(struct cu_flow_exec *fx, const char *base, const char *key)
{
	struct cu_arena *a = fx->fx_cx->cx_arena;
	const char *q = "";

	if (fx->fx_query != NULL) {
		json_object_object_foreach(fx->fx_query, k, v)
		{
			if (strcmp(k, "flow_token") == 0 || v == NULL ||
			    !json_object_is_type(v, json_type_string))
				continue;
			q = cu_arena_printf(a, "%s%s=%s&", q, url_encode(a, k),
			                    url_encode(a, json_object_get_string(v)));
		}
	}
	return cu_arena_printf(a, "%s/if/flow/%s/?%sflow_token=%s", base, fx->fx_flow->fl_slug, q,
	                       url_encode(a, key));
}

/*
 * Parks the plan on this stage with the marker in its context and returns the key. The
 * session's plan keeps no marker.
 */
static enum cu_err
park(struct cu_flow_exec *fx, const struct email_user *u, long long expiry, const char **key)
{
	struct cu_arena *a = fx->fx_cx->cx_arena;
	struct json_object *marker = cu_json_object(a);
	enum cu_err err;

	cu_json_set_string(marker, "stage", fx->fx_stage_uuid);
	cu_json_set_string(marker, "user", u->eu_id);
	cu_flow_ctx_set(fx, MARKER, marker);
	err = cu_flow_token_create(fx, expiry, 0, key);
	cu_flow_ctx_del(fx, MARKER);
	return err;
}

/* Mails u a fresh link. CU_OK also when nothing could be sent to an address-less account. */
static enum cu_err
send_mail(struct cu_flow_exec *fx, const struct email_user *u)
{
	struct cu_ctx *cx = fx->fx_cx;
	const char *to = cu_flow_ctx_string(fx, "email"), *base, *key = NULL, *subject;
	long long expiry = cfg_seconds(fx, "token_expiry", DEFAULT_EXPIRY_S);
	struct json_object *args, *vars;
	char message_id[37], expires[64];
	time_t until = time(NULL) + (time_t)expiry;
	struct tm tm;
	enum cu_err err;

	if (to == NULL || to[0] == '\0')
		to = u->eu_email;
	if (to == NULL || to[0] == '\0') {
		cu_log(CU_LOG_WARNING, "email_not_sent", CU_LS("stage", fx->fx_stage_name),
		       CU_LS("reason", "the user has no address"));
		return CU_OK;
	}
	if ((base = origin(cx)) == NULL) {
		cu_log(CU_LOG_WARNING, "email_not_sent", CU_LS("stage", fx->fx_stage_name),
		       CU_LS("reason", "the request's Host is not a plain host name"));
		return CU_OK;
	}
	switch (link_host_ok(cx)) {
	case -1:
		return CU_ERR_UNAVAILABLE;
	case 0:
		cu_log(CU_LOG_WARNING, "email_not_sent", CU_LS("stage", fx->fx_stage_name),
		       CU_LS("reason", "the request's Host is not the domain of any brand"));
		return CU_OK;
	default:
		break;
	}
	if (gmtime_r(&until, &tm) == NULL ||
	    strftime(expires, sizeof(expires), "%Y-%m-%d %H:%M UTC", &tm) == 0)
		expires[0] = '\0';
	if ((err = cu_db_begin(cx->cx_db)) != CU_OK)
		return err;
	if ((err = park(fx, u, expiry, &key)) != CU_OK)
		goto fail;
	args = cu_json_object(cx->cx_arena);
	vars = json_object_new_object();
	cu_json_set_string(args, "to", to);
	cu_json_set_string(args, "to_name", u->eu_name);
	cu_json_set_string(args, "template",
	                   cu_flow_cfg_string(fx, "template", "email/password_reset"));
	/* The template's own Subject line applies unless the stage names one. */
	if ((subject = cu_flow_cfg_string(fx, "subject", NULL)) != NULL && subject[0] != '\0')
		cu_json_set_string(args, "subject", subject);
	cu_json_set_string(vars, "url", link_url(fx, base, key));
	cu_json_set_string(vars, "user_name", u->eu_name[0] != '\0' ? u->eu_name : u->eu_username);
	cu_json_set_string(vars, "username", u->eu_username);
	cu_json_set_string(vars, "expires", expires);
	cu_json_set(args, "vars", vars);
	err = cu_tasks_enqueue(cx->cx_db, cx->cx_arena, CU_ACTOR_SEND_MAIL,
	                       cu_json_text(args, NULL), NULL, 0, message_id);
	if (err != CU_OK)
		goto fail;
	if ((err = cu_db_commit(cx->cx_db)) != CU_OK)
		goto fail;
	if (cx->cx_cache != NULL)
		cu_tasks_wake(cx->cx_cache, cx->cx_arena, message_id);
	cu_log(CU_LOG_INFO, "email_queued", CU_LS("stage", fx->fx_stage_name),
	       CU_LS("task", message_id));
	return CU_OK;
fail:
	cu_db_rollback(cx->cx_db);
	return err;
}

/* The link was opened: this plan came back from the token with the marker for this stage. */
static int
restored_here(struct cu_flow_exec *fx, const struct email_user *u, int found)
{
	struct json_object *m = cu_flow_ctx_get(fx, MARKER);
	const char *stage = NULL, *user = NULL;

	if (m == NULL || !json_object_is_type(m, json_type_object))
		return 0;
	if (cu_json_get_string(m, "stage", &stage) != 0 || strcmp(stage, fx->fx_stage_uuid) != 0)
		return 0;
	if (cu_json_get_string(m, "user", &user) != 0 || !found || strcmp(user, u->eu_id) != 0)
		return -1;
	return 1;
}

/* Sends one mail if the cap allows: 0 sent (or pretended), 1 capped (error recorded), -1
 * failure. */
static int
attempt(struct cu_flow_exec *fx, const struct email_user *u, int found)
{
	const char *who = found ? u->eu_email : cu_flow_ctx_string(fx, "pending_user_identifier");
	long long minutes;

	if (who != NULL && who[0] != '\0' && (minutes = rate_limited(fx, who)) > 0) {
		(void)cu_flow_invalid(
		    fx, NULL,
		    cu_arena_printf(fx->fx_cx->cx_arena,
		                    "Too many account verification attempts. Please try again "
		                    "after %lld minutes.",
		                    minutes),
		    "invalid");
		return 1;
	}
	if (!found)
		return 0;
	return send_mail(fx, u) == CU_OK ? 0 : -1;
}

static enum cu_stage_result
email_challenge(struct cu_flow_exec *fx)
{
	struct cu_ctx *cx = fx->fx_cx;
	struct email_user u;
	int found = load_user(fx, &u), r;

	if (found < 0)
		return CU_STAGE_FAIL;
	r = restored_here(fx, &u, found);
	if (r < 0) {
		cu_log(CU_LOG_WARNING, "email_link_refused", CU_LS("stage", fx->fx_stage_name),
		       CU_LS("reason", "the flow's user is not the link's"));
		return cu_flow_deny(fx, "Invalid link.");
	}
	if (r > 0) {
		const char *id = u.eu_id;

		cu_flow_ctx_del(fx, MARKER);
		if (cu_flow_cfg_bool(fx, "activate_user_on_success", 0) && !u.eu_is_active) {
			if (cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_EMAIL_ACTIVATE, 1,
			               &id) != CU_OK)
				return CU_STAGE_FAIL;
			u.eu_is_active = 1;
		}
		if (u.eu_is_active && cu_flow_set_pending_user(fx, strtoll(id, NULL, 10)) != CU_OK)
			return CU_STAGE_FAIL;
		return CU_STAGE_NEXT;
	}
	if (!found && cu_flow_ctx_string(fx, "pending_user_identifier") == NULL)
		return cu_flow_deny(fx, "No pending user.");
	if (cu_flow_ctx_get(fx, "email_sent") == NULL) {
		if (attempt(fx, &u, found) < 0)
			return CU_STAGE_FAIL;
		/* Capped or not, the first send is behind us: a reload does not send again. */
		cu_flow_ctx_set(fx, "email_sent",
		                cu_json_adopt(cx->cx_arena, json_object_new_boolean(1)));
	}
	return email_challenge_out(fx);
}

static enum cu_stage_result
email_respond(struct cu_flow_exec *fx, struct json_object *body)
{
	struct email_user u;
	int found = load_user(fx, &u), r;

	(void)body;
	if (found < 0)
		return CU_STAGE_FAIL;
	if (!found && cu_flow_ctx_string(fx, "pending_user_identifier") == NULL)
		return cu_flow_deny(fx, "No pending user.");
	/* An answer never passes this stage: only the mailed link does. It sends again. */
	if ((r = attempt(fx, &u, found)) < 0)
		return CU_STAGE_FAIL;
	if (r > 0)
		return CU_STAGE_INVALID;
	return cu_flow_invalid(fx, NULL, "email-sent", "email-sent");
}

const struct cu_stage_type cu_stage_email = {"emailstage", "ak-stage-email", email_challenge,
                                             email_respond};
