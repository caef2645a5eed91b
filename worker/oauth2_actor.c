/*
 * The worker's OAuth2 tasks.
 *
 * authentik.providers.oauth2.tasks.send_backchannel_logout_request {"provider_pk", "iss",
 * "sub", "sid", "session_uuid", "user_id"}: OpenID Connect Back-Channel Logout 1.0. Written by
 * the trigger on sessions (sql/0061_oauth2_logout.sql) when a session that has access tokens of
 * a back-channel provider ends. It signs a logout token with the provider's key (its signing
 * key pair, or HS256 with the client secret, as the provider's other tokens) and POSTs it as
 * the form field logout_token to the provider's logout_uri. 2xx is done; 5xx and network
 * failures retry with the worker's backoff; any other answer fails the task. A fresh token (jti)
 * is made per attempt. A POST may be repeated when a worker dies between the answer and the
 * record: delivery is at least once, and the relying party must take a repeat as a no-op.
 * Expired grants go with the other expired objects (clean_expired_models, worker/daemon.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "config.h"
#include "crypto.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "notify.h"
#include "server.h"
#include "worker.h"

#define LOGOUT_ANSWER_MAX 512
#define LOGOUT_EVENT "http://schemas.openid.net/event/backchannel-logout"

/* A random (version 4) UUID for jti, arena-owned. */
static const char *
random_uuid(struct cu_arena *a)
{
	unsigned char b[16];
	char hex[33];

	cu_crypto_random(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	cu_hex_encode(hex, b, sizeof(b));
	return cu_arena_printf(a, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
	                       hex + 20);
}

/* The logout token's claims (the spec's section 2.4): never a nonce. */
static struct json_object *
logout_claims(struct cu_worker_task *t, const char *iss, const char *aud, const char *sub,
              const char *sid, long long validity)
{
	struct json_object *c = cu_json_object(t->wt_arena), *events = json_object_new_object();
	time_t now = time(NULL);

	cu_json_set_string(c, "iss", iss);
	cu_json_set_string(c, "aud", aud);
	cu_json_set_int(c, "iat", (int64_t)now);
	/* authentik gives it the access token's lifetime. */
	cu_json_set_int(c, "exp", (int64_t)now + validity);
	cu_json_set_string(c, "jti", random_uuid(t->wt_arena));
	json_object_object_add(events, LOGOUT_EVENT, json_object_new_object());
	cu_json_set(c, "events", events);
	if (sub != NULL)
		cu_json_set_string(c, "sub", sub);
	if (sid != NULL)
		cu_json_set_string(c, "sid", sid);
	return c;
}

static int
effect_sent(struct cu_worker_task *t)
{
	struct json_object *effect = NULL;
	const char *state = NULL;

	return t->wt_effect_text != NULL &&
	       cu_json_parse(t->wt_arena, t->wt_effect_text, strlen(t->wt_effect_text), &effect) ==
	           CU_OK &&
	       effect != NULL && cu_json_get_string(effect, "state", &state) == 0 &&
	       strcmp(state, "sent") == 0;
}

/* Commits the effect record; -1 when the task's lease went to another worker. */
static int
record(struct cu_worker_task *t, const char *state, long status)
{
	struct json_object *e = cu_json_object(t->wt_arena);

	cu_json_set_string(e, "state", state);
	if (status != 0)
		cu_json_set_int(e, "status", status);
	return cu_worker_record_effect(t, cu_json_text(e, NULL));
}

enum cu_worker_outcome
cu_worker_actor_oauth2_backchannel_logout(struct cu_worker_task *t)
{
	const char *iss = NULL, *sub = NULL, *sid = NULL, *p[1], *jwt = NULL, *uri, *kp;
	const struct cu_jose_key *key = NULL;
	struct cu_jose_key hmac;
	struct cu_ctx cx;
	PGresult *res = NULL;
	char answer[LOGOUT_ANSWER_MAX];
	long long validity = 0;
	int64_t provider = 0;
	long status = 0;
	enum cu_notify_result r;
	enum cu_err err;
	int signed_ok, have_hmac = 0;

	if (cu_json_get_int(t->wt_args, "provider_pk", &provider) != 0 ||
	    cu_json_get_string(t->wt_args, "iss", &iss) != 0) {
		t->wt_error = "send_backchannel_logout_request needs \"provider_pk\" and \"iss\"";
		return CU_WORKER_FAIL;
	}
	if (cu_json_get_string(t->wt_args, "sub", &sub) != 0)
		sub = NULL;
	if (cu_json_get_string(t->wt_args, "sid", &sid) != 0)
		sid = NULL;
	if (sub == NULL && sid == NULL) {
		t->wt_error = "a logout token needs \"sub\" or \"sid\"";
		return CU_WORKER_FAIL;
	}
	if (effect_sent(t)) {
		t->wt_message = "Already delivered by an earlier run";
		return CU_WORKER_DONE;
	}
	p[0] = cu_arena_printf(t->wt_arena, "%lld", (long long)provider);
	if (cu_db_exec(t->wt_db, t->wt_arena, &res, CU_DB_STMT_OAUTH2_WORKER_PROVIDER, 1, p) !=
	    CU_OK) {
		t->wt_error = "cannot load the provider";
		return CU_WORKER_RETRY;
	}
	if (PQntuples(res) != 1) {
		t->wt_message = "The provider no longer exists";
		return CU_WORKER_DONE;
	}
	uri = cu_db_value(res, 0, 2);
	/* Checked again here: the provider may have changed since the session ended. */
	if (strcmp(cu_db_value(res, 0, 3), "backchannel") != 0) {
		t->wt_message = "Provider not configured for back-channel logout";
		return CU_WORKER_DONE;
	}
	if (uri[0] == '\0') {
		t->wt_message = "No logout URI configured for provider";
		return CU_WORKER_DONE;
	}
	if (cu_config_timedelta(cu_db_value(res, 0, 6), &validity) != 0)
		validity = 3600;
	kp = cu_db_value(res, 0, 4);
	if (kp != NULL) {
		memset(&cx, 0, sizeof(cx));
		cx.cx_cfg = t->wt_cfg;
		cx.cx_db = t->wt_db;
		cx.cx_cache = t->wt_cache;
		cx.cx_arena = t->wt_arena;
		cx.cx_component = "worker";
		err = cu_keys_get(&cx, kp, cu_db_value(res, 0, 5), &key);
		if (err == CU_ERR_UNAVAILABLE) {
			t->wt_error = "cannot load the signing key";
			return CU_WORKER_RETRY;
		}
		if (err != CU_OK) {
			t->wt_error = "the provider's signing key cannot sign";
			return CU_WORKER_FAIL;
		}
	} else {
		const char *secret = cu_db_value(res, 0, 1);

		cu_jose_key_hmac(&hmac, secret, strlen(secret));
		have_hmac = 1;
		key = &hmac;
	}
	signed_ok = cu_jose_sign(t->wt_arena, key,
	                         logout_claims(t, iss, cu_db_value(res, 0, 0), sub, sid, validity),
	                         "logout+jwt", &jwt) == 0;
	if (have_hmac)
		cu_jose_key_free(&hmac);
	if (!signed_ok) {
		t->wt_error = "cannot sign the logout token";
		return CU_WORKER_FAIL;
	}
	if (record(t, "posting", 0) != 0) {
		t->wt_error = "cannot record the delivery";
		return CU_WORKER_RETRY;
	}
	/* A JWT is all base64url and dots: nothing in it needs form encoding. */
	r = cu_notify_post_body(uri, "application/x-www-form-urlencoded",
	                        cu_arena_printf(t->wt_arena, "logout_token=%s", jwt), &status,
	                        answer, sizeof(answer));
	if (r == CU_NOTIFY_SENT) {
		if (record(t, "sent", status) != 0)
			cu_log(CU_LOG_WARNING, "backchannel_logout_sent_unrecorded",
			       CU_LS("message_id", t->wt_id));
		cu_log(CU_LOG_INFO, "backchannel_logout_sent", CU_LI("provider", provider),
		       CU_LI("status", status));
		t->wt_message = "Back-channel logout successful";
		return CU_WORKER_DONE;
	}
	if (status != 0)
		t->wt_error = cu_arena_printf(t->wt_arena, "The logout URI answered HTTP %ld: %s",
		                              status, answer);
	else
		t->wt_error =
		    cu_arena_printf(t->wt_arena, "Back-channel logout failed: %s", answer);
	return r == CU_NOTIFY_TEMPORARY ? CU_WORKER_RETRY : CU_WORKER_FAIL;
}
