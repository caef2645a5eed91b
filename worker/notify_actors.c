/*
 * Event notifications, as authentik's event_trigger_dispatch / event_trigger_handler /
 * notification_transport (authentik/events/tasks.py).
 *
 * event_trigger_dispatch {"event"}: written with the event itself (lib/stmts/events.h) when
 * any rule exists. It asks each rule's bindings (lib/policies/event_matcher.h) whether the event
 * passes and, for the rules that pass, writes one notification_transport task per transport and
 * recipient in one transaction. Each of those tasks has an idempotency key, so a dispatch that runs
 * again after a crash adds nothing.
 *
 * notification_transport {"transport", "event", "user", "severity", "rule"}: delivers one
 * notification. Local: the notification row and the task's effect record commit together,
 * so a second run finds the effect and stops. Email: a send_mail task under an idempotency
 * key. Webhooks: POST with libcurl (lib/notify.h); 2xx done, 5xx and network failures retry,
 * any other answer fails with its status. A webhook may be posted again when a worker dies
 * between the answer and the record: delivery is at least once, as authentik's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "log.h"
#include "notify.h"
#include "policies/event_matcher.h"
#include "tasks.h"
#include "worker.h"

static struct json_object *
parse_effect(struct cu_worker_task *t)
{
	struct json_object *effect = NULL;

	if (t->wt_effect_text == NULL || cu_json_parse(t->wt_arena, t->wt_effect_text,
	                                               strlen(t->wt_effect_text), &effect) != CU_OK)
		return NULL;
	return effect;
}

static int
effect_state_is(struct json_object *effect, const char *state)
{
	const char *s = NULL;

	return effect != NULL && cu_json_get_string(effect, "state", &s) == 0 &&
	       strcmp(s, state) == 0;
}

enum cu_worker_outcome
cu_worker_actor_event_trigger_dispatch(struct cu_worker_task *t)
{
	struct json_object *event = NULL, *ctx = NULL, *user = NULL;
	PGresult *res = NULL, *rules = NULL;
	const char *event_uuid = NULL, *policy = NULL, *text, *p[3], **passing;
	char *user_pk = NULL;
	int64_t pk;
	int i, n, npass = 0;
	long long created = 0;

	if (cu_json_get_string(t->wt_args, "event", &event_uuid) != 0) {
		t->wt_error = "event_trigger_dispatch needs \"event\"";
		return CU_WORKER_FAIL;
	}
	if (cu_db_exec(t->wt_db, t->wt_arena, &res, CU_DB_STMT_NOTIFY_EVENT, 1, &event_uuid) !=
	    CU_OK) {
		t->wt_error = "cannot load the event";
		return CU_WORKER_RETRY;
	}
	if (PQntuples(res) < 1) {
		t->wt_message = "Event doesn't exist yet or anymore";
		return CU_WORKER_DONE;
	}
	text = cu_db_value(res, 0, 0);
	if (cu_json_parse(t->wt_arena, text, strlen(text), &event) != CU_OK || event == NULL) {
		t->wt_error = "the event does not parse";
		return CU_WORKER_FAIL;
	}
	/* authentik's loop guard: an event a policy caused, when that policy is bound to any rule,
	 * would trigger the rule again. */
	if (cu_json_get_object(event, "context", &ctx) == 0 && ctx != NULL &&
	    cu_json_get_string(ctx, "policy_uuid", &policy) == 0) {
		if (cu_db_exec(t->wt_db, t->wt_arena, &res, CU_DB_STMT_NOTIFY_POLICY_BOUND, 1,
		               &policy) != CU_OK) {
			t->wt_error = "cannot look up the event's policy";
			return CU_WORKER_RETRY;
		}
		if (PQntuples(res) > 0) {
			t->wt_message =
			    "Skipped: the event's policy is bound to a notification rule";
			return CU_WORKER_DONE;
		}
	}
	if (cu_json_get_object(event, "user", &user) == 0 && user != NULL &&
	    cu_json_get_int(user, "pk", &pk) == 0)
		user_pk = cu_arena_printf(t->wt_arena, "%lld", (long long)pk);
	if (cu_db_exec(t->wt_db, t->wt_arena, &rules, CU_DB_STMT_NOTIFY_RULES, 0, NULL) != CU_OK) {
		t->wt_error = "cannot list the notification rules";
		return CU_WORKER_RETRY;
	}
	n = PQntuples(rules);
	passing = cu_arena_alloc(t->wt_arena, (size_t)(n + 1) * sizeof(*passing));
	for (i = 0; i < n; i++) {
		switch (cu_policies_event_passes(t->wt_db, t->wt_arena, cu_db_value(rules, i, 0),
		                                 event)) {
		case 1:
			passing[npass++] = cu_db_value(rules, i, 0);
			break;
		case 0:
			break;
		default:
			t->wt_error = "cannot evaluate the rules' policies";
			return CU_WORKER_RETRY;
		}
	}
	if (npass == 0) {
		t->wt_message = "No notification rule matched";
		return CU_WORKER_DONE;
	}
	if (cu_db_begin(t->wt_db) != CU_OK) {
		t->wt_error = "cannot begin";
		return CU_WORKER_RETRY;
	}
	p[1] = event_uuid;
	p[2] = user_pk;
	for (i = 0; i < npass; i++) {
		p[0] = passing[i];
		if (cu_db_exec(t->wt_db, t->wt_arena, &res, CU_DB_STMT_NOTIFY_FANOUT, 3, p) !=
		    CU_OK) {
			cu_db_rollback(t->wt_db);
			t->wt_error = "cannot write the notification tasks";
			return CU_WORKER_RETRY;
		}
		created += PQntuples(res);
	}
	if (cu_db_commit(t->wt_db) != CU_OK) {
		cu_db_rollback(t->wt_db);
		t->wt_error = "cannot commit the notification tasks";
		return CU_WORKER_RETRY;
	}
	t->wt_message = cu_arena_printf(
	    t->wt_arena, "%d rules matched, created %lld notification tasks", npass, created);
	return CU_WORKER_DONE;
}

/* The one-row load of NOTIFY_LOAD as a message; the event is parsed into m. */
static int
load_msg(struct cu_worker_task *t, PGresult *res, const char *severity, struct cu_notify_msg *m)
{
	const char *ev = cu_db_value(res, 0, 12);

	memset(m, 0, sizeof(*m));
	if (cu_json_parse(t->wt_arena, ev, strlen(ev), &m->nm_event) != CU_OK)
		return -1;
	m->nm_severity = severity;
	m->nm_transport = cu_db_value(res, 0, 1);
	m->nm_username = cu_db_value(res, 0, 5);
	m->nm_email = cu_db_value(res, 0, 6);
	m->nm_name = cu_db_value(res, 0, 7);
	m->nm_superuser = strcmp(cu_db_value(res, 0, 8), "t") == 0;
	m->nm_body = cu_db_value(res, 0, 9);
	m->nm_hyperlink = PQgetisnull(res, 0, 10) ? NULL : cu_db_value(res, 0, 10);
	m->nm_hyperlink_label = PQgetisnull(res, 0, 11) ? NULL : cu_db_value(res, 0, 11);
	return 0;
}

static enum cu_worker_outcome
deliver_local(struct cu_worker_task *t, const struct cu_notify_msg *m, const char *event_uuid,
              const char *user_id)
{
	struct json_object *e = cu_json_object(t->wt_arena);
	PGresult *res = NULL;
	const char *p[6];

	p[0] = m->nm_severity;
	p[1] = m->nm_body;
	p[2] = m->nm_hyperlink;
	p[3] = m->nm_hyperlink_label;
	p[4] = event_uuid;
	p[5] = user_id;
	if (cu_db_begin(t->wt_db) != CU_OK ||
	    cu_db_exec(t->wt_db, t->wt_arena, &res, CU_DB_STMT_NOTIFY_LOCAL_INSERT, 6, p) !=
	        CU_OK) {
		cu_db_rollback(t->wt_db);
		t->wt_error = "cannot write the notification";
		return CU_WORKER_RETRY;
	}
	cu_json_set_string(e, "state", "sent");
	cu_json_set_string(e, "notification", cu_db_value(res, 0, 0));
	/* The row and the record commit together: a later run sees the record. */
	if (cu_worker_record_effect(t, cu_json_text(e, NULL)) != 0 ||
	    cu_db_commit(t->wt_db) != CU_OK) {
		cu_db_rollback(t->wt_db);
		t->wt_error = "cannot commit the notification";
		return CU_WORKER_RETRY;
	}
	t->wt_message =
	    cu_arena_printf(t->wt_arena, "Notification %s created", cu_db_value(res, 0, 0));
	return CU_WORKER_DONE;
}

static enum cu_worker_outcome
deliver_email(struct cu_worker_task *t, const struct cu_notify_msg *m, PGresult *res,
              const char *key)
{
	const char *args =
	    cu_notify_mail_args(t->wt_arena, m, cu_db_value(res, 0, 3), cu_db_value(res, 0, 4));
	char mid[37];

	if (args == NULL) {
		t->wt_message = "Discarding notification as user has no email address";
		return CU_WORKER_DONE;
	}
	if (cu_tasks_enqueue(t->wt_db, t->wt_arena, CU_ACTOR_SEND_MAIL, args, key, 0, mid) !=
	    CU_OK) {
		t->wt_error = "cannot write the send_mail task";
		return CU_WORKER_RETRY;
	}
	cu_tasks_wake(t->wt_cache, t->wt_arena, mid);
	t->wt_message = cu_arena_printf(t->wt_arena, "Mail task %s written", mid);
	return CU_WORKER_DONE;
}

static enum cu_worker_outcome
deliver_webhook(struct cu_worker_task *t, const struct cu_notify_msg *m, const char *mode,
                const char *url)
{
	struct json_object *e;
	char answer[CU_NOTIFY_ANSWER_MAX];
	const char *json;
	long status = 0;
	enum cu_notify_result r;

	json = strcmp(mode, "webhook") == 0 ? cu_notify_webhook_body(t->wt_arena, m)
	                                    : cu_notify_slack_body(t->wt_arena, m);
	e = cu_json_object(t->wt_arena);
	cu_json_set_string(e, "state", "posting");
	if (cu_worker_record_effect(t, cu_json_text(e, NULL)) != 0) {
		t->wt_error = "cannot record the delivery";
		return CU_WORKER_RETRY;
	}
	r = cu_notify_post(url, json, &status, answer, sizeof(answer));
	if (r == CU_NOTIFY_SENT) {
		e = cu_json_object(t->wt_arena);
		cu_json_set_string(e, "state", "sent");
		cu_json_set_int(e, "status", status);
		if (cu_worker_record_effect(t, cu_json_text(e, NULL)) != 0)
			cu_log(CU_LOG_WARNING, "webhook_sent_unrecorded",
			       CU_LS("message_id", t->wt_id));
		t->wt_message = cu_arena_printf(t->wt_arena, "Webhook answered %ld", status);
		return CU_WORKER_DONE;
	}
	if (status != 0)
		t->wt_error =
		    cu_arena_printf(t->wt_arena, "Webhook answered HTTP %ld: %s", status, answer);
	else
		t->wt_error = cu_arena_printf(t->wt_arena, "Webhook failed: %s", answer);
	return r == CU_NOTIFY_TEMPORARY ? CU_WORKER_RETRY : CU_WORKER_FAIL;
}

enum cu_worker_outcome
cu_worker_actor_notification_transport(struct cu_worker_task *t)
{
	const char *transport = NULL, *event = NULL, *severity = NULL, *rule = NULL, *mode, *p[3];
	struct cu_notify_msg m;
	PGresult *res = NULL;
	int64_t user = 0;
	char *user_id;

	if (cu_json_get_string(t->wt_args, "transport", &transport) != 0 ||
	    cu_json_get_string(t->wt_args, "event", &event) != 0 ||
	    cu_json_get_int(t->wt_args, "user", &user) != 0) {
		t->wt_error = "notification_transport needs \"transport\", \"event\" and \"user\"";
		return CU_WORKER_FAIL;
	}
	if (cu_json_get_string(t->wt_args, "severity", &severity) != 0)
		severity = "notice";
	if (cu_json_get_string(t->wt_args, "rule", &rule) != 0)
		rule = "";
	if (effect_state_is(parse_effect(t), "sent")) {
		t->wt_message = "Already delivered by an earlier run";
		return CU_WORKER_DONE;
	}
	user_id = cu_arena_printf(t->wt_arena, "%lld", (long long)user);
	p[0] = transport;
	p[1] = user_id;
	p[2] = event;
	if (cu_db_exec(t->wt_db, t->wt_arena, &res, CU_DB_STMT_NOTIFY_LOAD, 3, p) != CU_OK) {
		t->wt_error = "cannot load the transport, user and event";
		return CU_WORKER_RETRY;
	}
	if (PQntuples(res) < 1) {
		/* authentik returns quietly when any of them is gone. */
		t->wt_message = "The transport, the user or the event no longer exists";
		return CU_WORKER_DONE;
	}
	if (load_msg(t, res, severity, &m) != 0) {
		t->wt_error = "the event does not parse";
		return CU_WORKER_FAIL;
	}
	mode = cu_db_value(res, 0, 0);
	if (strcmp(mode, "local") == 0)
		return deliver_local(t, &m, event, user_id);
	if (strcmp(mode, "email") == 0)
		return deliver_email(t, &m, res,
		                     cu_arena_printf(t->wt_arena, "notify-mail:%s:%s:%s:%s", rule,
		                                     transport, event, user_id));
	return deliver_webhook(t, &m, mode, cu_db_value(res, 0, 2));
}
