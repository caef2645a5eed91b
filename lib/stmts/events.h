/* Statements of lib/events.c and lib/api/events.c. */
/* One event as authentik's EventSerializer shows it. */
#define EVENTS_ROW_                                                                                \
	"json_build_object('pk', e.event_uuid, 'user', e.\"user\", 'action', e.action, "           \
	"'app', e.app, 'context', e.context, 'client_ip', host(e.client_ip), "                     \
	"'created', to_char(e.created AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "  \
	"'expires', to_char(e.expires AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "  \
	"'brand', e.brand)"
#define CU_DB_STMTS_EVENTS(X)                                                                       \
	/* With any notification rule, the event's dispatch task is written in the same statement   \
	 * (so the same transaction): worker/notify_actors.c decides which rules it triggers. */    \
	X(EVENTS_INSERT, 5,                                                                         \
	  "WITH ev AS (INSERT INTO events (action, app, context, client_ip, \"user\") VALUES ($1, " \
	  "$2, $3::jsonb, $4::inet, $5::jsonb) RETURNING event_uuid), d AS (INSERT INTO tasks "     \
	  "(actor_name, args) SELECT 'authentik.events.tasks.event_trigger_dispatch', "             \
	  "jsonb_build_object('event', ev.event_uuid) FROM ev WHERE EXISTS (SELECT 1 FROM "         \
	  "notification_rules)) SELECT event_uuid FROM ev")                                         \
	X(EVENTS_GET, 1, "SELECT " EVENTS_ROW_ " FROM events e WHERE e.event_uuid = $1::uuid")
