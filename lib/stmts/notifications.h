/* Statements of the notifications module (lib/api/notifications.c, worker/notify_actors.c). */
#ifndef CU_STMTS_NOTIFICATIONS_H
#define CU_STMTS_NOTIFICATIONS_H

#include "stmts/events.h"
#include "stmts/groups.h"
#include "stmts/users.h"

/* NotificationRule of the row aliased r; destination_group_obj is the Group without its
 * nested objects. */
#define CU_SQL_NOTIFICATION_RULE                                                                     \
	"json_build_object('pk', r.pbm_uuid, 'name', r.name, 'transports', (SELECT "                 \
	"coalesce(json_agg(rt.transport ORDER BY rt.transport), '[]') FROM "                         \
	"notification_rule_transports rt WHERE rt.rule = r.pbm_uuid), 'severity', r.severity, "      \
	"'destination_group', r.destination_group, 'destination_group_obj', (SELECT (" CU_SQL_GROUP( \
	    "false", "false", "false",                                                               \
	    "false") ")::json FROM groups g WHERE g.uuid = "                                         \
	             "r.destination_group), 'destination_event_user', r.destination_event_user)::text"

/* NotificationTransport of the row aliased t, with mode_verbose as TransportMode's labels. */
#define CU_SQL_NOTIFICATION_TRANSPORT                                                              \
	"json_build_object('pk', t.uuid, 'name', t.name, 'mode', t.mode, 'mode_verbose', CASE "    \
	"t.mode WHEN 'local' THEN 'authentik inbuilt notifications' WHEN 'webhook' THEN 'Generic " \
	"Webhook' WHEN 'webhook_slack' THEN 'Slack Webhook (Slack/Discord)' ELSE 'Email' END, "    \
	"'webhook_url', t.webhook_url, 'webhook_mapping_body', t.webhook_mapping_body, "           \
	"'webhook_mapping_headers', t.webhook_mapping_headers, 'email_subject_prefix', "           \
	"t.email_subject_prefix, 'email_template', t.email_template, 'send_once', "                \
	"t.send_once)::text"

/* Notification of the row aliased n, with its event as the events API shows it. */
#define CU_SQL_NOTIFICATION                                                                                       \
	"json_build_object('pk', n.uuid, 'severity', n.severity, 'body', n.body, 'created', " CU_SQL_TS(          \
	    "n.created") ", 'event', (SELECT " EVENTS_ROW_ " FROM events e WHERE "                                \
	                 "e.event_uuid = n.event), 'seen', n.seen, 'hyperlink', n.hyperlink, 'hyperlink_label', " \
	                 "n.hyperlink_label)::text"

/* authentik's Event.summary: the context's message, else "<action>: <context>". */
#define NOTIFY_SUMMARY_ "coalesce(e.context ->> 'message', e.action || ': ' || e.context::text)"

/* Columns: 0 NotificationRule, 1 pbm_uuid, 2 name. */
#define RULES_SELECT_                                                                              \
	"SELECT " CU_SQL_NOTIFICATION_RULE ", r.pbm_uuid, r.name FROM notification_rules r"
/* Columns: 0 NotificationTransport, 1 uuid, 2 name, 3 mode. */
#define TRANSPORTS_SELECT_                                                                         \
	"SELECT " CU_SQL_NOTIFICATION_TRANSPORT ", t.uuid, t.name, t.mode FROM "                   \
	"notification_transports t"
#define TRANSPORTS_COLUMNS_                                                                        \
	"name, mode, webhook_url, webhook_mapping_body, webhook_mapping_headers, "                 \
	"email_subject_prefix, email_template, send_once"
#define TRANSPORTS_VALUES_ "$2, $3, $4, $5::uuid, $6::uuid, $7, $8, $9::boolean"
/* Columns: 0 Notification, 1 uuid, 2 user_id. Only the owner's ($2). */
#define NOTIFICATIONS_SELECT_                                                                      \
	"SELECT " CU_SQL_NOTIFICATION ", n.uuid, n.user_id FROM notifications n WHERE n.uuid = "   \
	"$1::uuid AND n.user_id = $2::bigint"

/*
 * What the worker's notification_transport needs in one row: 0 mode, 1 name, 2 webhook_url,
 * 3 email_subject_prefix, 4 email_template, 5 username, 6 email, 7 user's name, 8 the user is
 * a superuser, 9 summary, 10 hyperlink, 11 hyperlink_label, 12 Event (JSON text). No row:
 * the transport, the user or the event is gone.
 */
#define NOTIFY_LOAD_                                                                               \
	"SELECT t.mode, t.name, t.webhook_url, t.email_subject_prefix, t.email_template, "         \
	"u.username, u.email, u.name, user_is_superuser(u.id), " NOTIFY_SUMMARY_ ", "              \
	"left(e.context ->> 'hyperlink', 4096), e.context ->> 'hyperlink_label', " EVENTS_ROW_     \
	"::text "                                                                                  \
	"FROM notification_transports t, users u, events e WHERE t.uuid = $1::uuid "               \
	"AND u.id = $2::bigint AND e.event_uuid = $3::uuid"

/*
 * The notification_transport tasks of one rule that passed for an event ($2; $3 the event's
 * user id or NULL): one per transport and recipient (the event's user first when the rule
 * says so, then the destination group's direct members, as authentik's destination_users),
 * one recipient only for send_once transports. The idempotency key makes a second dispatch
 * of the same event a no-op.
 */
#define NOTIFY_FANOUT_                                                                             \
	"INSERT INTO tasks (actor_name, args, idempotency_key, rel_obj_app_label, rel_obj_model, " \
	"rel_obj_id) SELECT 'authentik.events.tasks.notification_transport', "                     \
	"jsonb_build_object('transport', t.uuid, 'event', $2::uuid, 'user', d.id, 'severity', "    \
	"r.severity, 'rule', r.pbm_uuid), 'notify:' || r.pbm_uuid || ':' || t.uuid || ':' || "     \
	"$2::uuid || ':' || d.id, 'authentik_events', 'notificationtransport', t.uuid::text FROM " \
	"notification_rules r JOIN notification_rule_transports rt ON rt.rule = r.pbm_uuid JOIN "  \
	"notification_transports t ON t.uuid = rt.transport CROSS JOIN LATERAL (SELECT x.id FROM " \
	"(SELECT u.id, 0 AS o FROM users u WHERE r.destination_event_user AND u.id = $3::bigint "  \
	"UNION ALL SELECT gu.user_id, 1 FROM group_users gu WHERE gu.group_uuid = "                \
	"r.destination_group) x ORDER BY x.o, x.id LIMIT CASE WHEN t.send_once THEN 1 END) d "     \
	"WHERE r.pbm_uuid = $1::uuid ON CONFLICT (idempotency_key) DO NOTHING RETURNING "          \
	"message_id"

#define CU_DB_STMTS_NOTIFICATIONS(X)                                                               \
	X(RULES_GET, 1, RULES_SELECT_ " WHERE r.pbm_uuid = $1::uuid")                              \
	X(RULES_LOCK, 1, RULES_SELECT_ " WHERE r.pbm_uuid = $1::uuid FOR UPDATE OF r")             \
	X(RULES_GROUP_EXISTS, 1, "SELECT 1 FROM groups WHERE uuid = $1::uuid")                     \
	X(RULES_MISSING_TRANSPORT, 1,                                                              \
	  "SELECT x::text FROM unnest($1::uuid[]) WITH ORDINALITY AS q(x, n) WHERE NOT EXISTS "    \
	  "(SELECT 1 FROM notification_transports WHERE uuid = x) ORDER BY n LIMIT 1")             \
	X(RULES_INSERT, 4,                                                                         \
	  "INSERT INTO notification_rules (name, severity, destination_group, "                    \
	  "destination_event_user) VALUES ($1, $2, $3::uuid, $4::boolean) RETURNING pbm_uuid")     \
	X(RULES_UPDATE, 5,                                                                         \
	  "UPDATE notification_rules SET (name, severity, destination_group, "                     \
	  "destination_event_user) = ($2, $3, $4::uuid, $5::boolean) WHERE pbm_uuid = $1::uuid")   \
	X(RULES_SET_TRANSPORTS, 2,                                                                 \
	  "WITH d AS (DELETE FROM notification_rule_transports WHERE rule = $1::uuid AND NOT "     \
	  "(transport = ANY ($2::uuid[]))) INSERT INTO notification_rule_transports (rule, "       \
	  "transport) SELECT $1::uuid, x FROM unnest($2::uuid[]) AS x ON CONFLICT DO NOTHING")     \
	X(RULES_DELETE, 1, "DELETE FROM notification_rules WHERE pbm_uuid = $1::uuid")             \
	X(TRANSPORTS_GET, 1, TRANSPORTS_SELECT_ " WHERE t.uuid = $1::uuid")                        \
	X(TRANSPORTS_LOCK, 1, TRANSPORTS_SELECT_ " WHERE t.uuid = $1::uuid FOR UPDATE")            \
	X(TRANSPORTS_INSERT, 9,                                                                    \
	  "INSERT INTO notification_transports (uuid, " TRANSPORTS_COLUMNS_                        \
	  ") VALUES (coalesce($1::uuid, gen_random_uuid()), " TRANSPORTS_VALUES_                   \
	  ") RETURNING uuid")                                                                      \
	X(TRANSPORTS_UPDATE, 9,                                                                    \
	  "UPDATE notification_transports SET (" TRANSPORTS_COLUMNS_ ") = (" TRANSPORTS_VALUES_    \
	  ") WHERE uuid = $1::uuid")                                                               \
	X(TRANSPORTS_DELETE, 1, "DELETE FROM notification_transports WHERE uuid = $1::uuid")       \
	X(NOTIFICATIONS_GET, 2, NOTIFICATIONS_SELECT_)                                             \
	X(NOTIFICATIONS_LOCK, 2, NOTIFICATIONS_SELECT_ " FOR UPDATE")                              \
	X(NOTIFICATIONS_SET_SEEN, 2,                                                               \
	  "UPDATE notifications SET seen = $2::boolean WHERE uuid = $1::uuid")                     \
	X(NOTIFICATIONS_DELETE, 1, "DELETE FROM notifications WHERE uuid = $1::uuid")              \
	X(NOTIFICATIONS_MARK_ALL_SEEN, 1,                                                          \
	  "UPDATE notifications SET seen = true WHERE user_id = $1::bigint AND NOT seen")          \
	/* Delivery (worker/notify_actors.c and the transports' test/). */                         \
	X(NOTIFY_EVENT, 1,                                                                         \
	  "SELECT " EVENTS_ROW_ "::text FROM events e WHERE e.event_uuid = $1::uuid")              \
	X(NOTIFY_RULES, 0, "SELECT pbm_uuid, name FROM notification_rules ORDER BY name")          \
	/* authentik's loop guard: an event a policy caused whose policy is bound to any rule. */  \
	X(NOTIFY_POLICY_BOUND, 1,                                                                  \
	  "SELECT 1 FROM policy_bindings b JOIN notification_rules r ON r.pbm_uuid = b.target "    \
	  "WHERE b.policy::text = lower($1) LIMIT 1")                                              \
	X(NOTIFY_FANOUT, 3, NOTIFY_FANOUT_)                                                        \
	X(NOTIFY_LOAD, 3, NOTIFY_LOAD_)                                                            \
	X(NOTIFY_LOCAL_INSERT, 6,                                                                  \
	  "INSERT INTO notifications (severity, body, hyperlink, hyperlink_label, event, "         \
	  "user_id) VALUES ($1, $2, $3, $4, $5::uuid, $6::bigint) RETURNING uuid")

#endif
