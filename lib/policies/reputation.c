/*
 * Reputation: scores per client IP and per username in Redis ("custos:reputation:ip:<ip>",
 * "custos:reputation:user:<username>"), each kept for config reputation.expiry seconds after
 * its last change and held within [-CU_REPUTATION_CAP, CU_REPUTATION_CAP].
 *
 * authentik keeps one score per (username, IP) pair and sums the pairs matching the IP or the
 * username. custos keeps the two sides apart; with both checked the policy takes the lower
 * one, which equals authentik's sum for one client trying one or many usernames, or many
 * clients trying one username.
 *
 * A reputation policy passes when that score is at or below its threshold (authentik's
 * direction: it flags a bad reputation, and is bound negated or used to branch a flow).
 */
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "cache.h"
#include "events.h"
#include "json.h"
#include "log.h"
#include "policies/engine.h"
#include "policies/kinds.h"
#include "policies/reputation.h"
#include "server.h"

/* INCRBY each key, clamp, refresh its expiry: one round trip. */
static const char update_script[] =
    "local cap = tonumber(ARGV[3]) "
    "for _, k in ipairs(KEYS) do "
    "local v = redis.call('INCRBY', k, ARGV[1]) "
    "if v > cap then redis.call('SET', k, cap) elseif v < -cap then redis.call('SET', k, -cap) end "
    "redis.call('EXPIRE', k, ARGV[2]) "
    "end return 0";

const char *
cu_reputation_key(struct cu_arena *a, const char *kind, const char *value)
{
	if (value == NULL || value[0] == '\0' || strlen(value) > CU_REPUTATION_MAX_VALUE)
		return NULL;
	return cu_arena_printf(a, "%s%s:%s", CU_REPUTATION_PREFIX, kind, value);
}

void
cu_reputation_update(struct cu_ctx *cx, const char *ip, const char *username, int delta)
{
	const char *argv[8];
	char d[16], ttl[16], cap[16];
	int argc = 3;
	const char *k;

	if (cx->cx_cache == NULL)
		return;
	argv[0] = "EVAL";
	argv[1] = update_script;
	if ((k = cu_reputation_key(cx->cx_arena, "ip", ip)) != NULL)
		argv[argc++] = k;
	if ((k = cu_reputation_key(cx->cx_arena, "user", username)) != NULL)
		argv[argc++] = k;
	if (argc == 3)
		return;
	argv[2] = argc == 4 ? "1" : "2";
	snprintf(d, sizeof(d), "%d", delta);
	snprintf(ttl, sizeof(ttl), "%d", cx->cx_cfg->reputation_expiry);
	snprintf(cap, sizeof(cap), "%d", CU_REPUTATION_CAP);
	argv[argc++] = d;
	argv[argc++] = ttl;
	argv[argc++] = cap;
	if (cu_cache_cmd(cx->cx_cache, cx->cx_arena, NULL, argc, argv, NULL) != CU_OK)
		cu_log(CU_LOG_WARNING, "reputation_update_failed", CU_LI("delta", delta));
}

/* The score under key, 0 when absent; -1 in *failed when Redis did not answer. */
static int
score_of(struct cu_ctx *cx, const char *key, int *failed)
{
	char *val = NULL;
	size_t len = 0;
	enum cu_err err;
	long v;

	if (key == NULL)
		return 0;
	err = cu_cache_get(cx->cx_cache, cx->cx_arena, key, &val, &len);
	if (err == CU_ERR_NOT_FOUND)
		return 0;
	if (err != CU_OK) {
		*failed = 1;
		return 0;
	}
	v = strtol(val, NULL, 10);
	return v > CU_REPUTATION_CAP    ? CU_REPUTATION_CAP
	       : v < -CU_REPUTATION_CAP ? -CU_REPUTATION_CAP
	                                : (int)v;
}

int
cu_reputation_score(struct cu_ctx *cx, const char *ip, const char *username)
{
	int failed = 0, a, b;

	if (cx->cx_cache == NULL)
		return 0;
	a = score_of(cx, cu_reputation_key(cx->cx_arena, "ip", ip), &failed);
	b = score_of(cx, cu_reputation_key(cx->cx_arena, "user", username), &failed);
	if (ip == NULL || ip[0] == '\0')
		return b;
	if (username == NULL || username[0] == '\0')
		return a;
	return a < b ? a : b;
}

enum cu_policy_verdict
cu_policy_reputation_eval(struct cu_policy_eval *pe)
{
	int check_ip = cu_policy_cfg_bool(pe, "check_ip", 1);
	int check_user = cu_policy_cfg_bool(pe, "check_username", 1);
	long long threshold = cu_policy_cfg_int(pe, "threshold", -5);
	const char *ip = NULL, *username = NULL;
	int score = 0;

	if (pe->pe_cx == NULL)
		return 0 <= threshold ? CU_POLICY_PASS : CU_POLICY_FAIL;
	if (check_ip)
		ip = cu_events_client_ip(pe->pe_cx);
	if (check_user) {
		if (pe->pe_user == NULL ||
		    cu_json_get_string(pe->pe_user, "username", &username) != 0) {
			/* No user yet: the identifier the client typed, as its failures were
			 * counted under it. */
			struct json_object *ctx = pe->pe_rq != NULL ? pe->pe_rq->pr_context : NULL;

			if (ctx == NULL ||
			    cu_json_get_string(ctx, "pending_user_identifier", &username) != 0)
				username = NULL;
		}
	}
	if (ip != NULL || username != NULL)
		score = cu_reputation_score(pe->pe_cx, ip, username);
	cu_policy_log(
	    pe, "debug",
	    cu_arena_printf(pe->pe_arena, "Score for user: %d (threshold %lld)", score, threshold));
	return score <= threshold ? CU_POLICY_PASS : CU_POLICY_FAIL;
}
