/* Statements of lib/tasks.c, worker/ and lib/api/tasks.c. */
/*
 * The task API's row expressions (lib/api/tasks.c lists and details). Built on CU_SQL_TS of
 * lib/stmts/users.h, which db_stmt.h includes before the table expands.
 */
/* authentik's aggregated_status: the state while not done, then how it ended. */
#define CU_SQL_TASK_AGG "(CASE WHEN t.state <> 'done' THEN t.state ELSE t.status END)"
/* authentik's uid property: the actor name, with ":" and the row's own uid when it has one. */
#define TASKS_UID_T_ "(t.actor_name || coalesce(':' || nullif(t.uid, ''), ''))"
#define TASKS_UID_S_ "(s.actor_name || coalesce(':' || nullif(s.uid, ''), ''))"
#define TASKS_MTIME_ CU_SQL_TS("t.mtime")
#define TASKS_ETA_ CU_SQL_TS("t.eta")
#define TASKS_NEXT_RUN_ CU_SQL_TS("s.next_run")
#define TASKS_NOW_ CU_SQL_TS("now()")
/* Task of the row aliased t. custos keeps no separate previous logs: a retry appends. */
#define CU_SQL_TASK                                                                                \
	"json_build_object('message_id', t.message_id, 'queue_name', t.queue_name, 'actor_name', " \
	"t.actor_name, 'state', t.state, 'mtime', " TASKS_MTIME_ ", 'retries', t.retries, "        \
	"'eta', " TASKS_ETA_ ", 'rel_obj_app_label', t.rel_obj_app_label, 'rel_obj_model', "       \
	"t.rel_obj_model, 'rel_obj_id', t.rel_obj_id, 'uid', " TASKS_UID_T_ ", 'logs', t.logs, "   \
	"'previous_logs', '[]'::json, 'aggregated_status', " CU_SQL_TASK_AGG ", 'description', "   \
	"nullif(t.description, ''))::text"
/* Schedule of the row aliased s; custos's schedules have no related object. */
#define CU_SQL_SCHEDULE                                                                            \
	"json_build_object('id', s.id, 'identifier', s.identifier, 'uid', " TASKS_UID_S_           \
	", 'actor_name', s.actor_name, 'rel_obj_app_label', NULL, 'rel_obj_model', NULL, "         \
	"'rel_obj_id', NULL, 'crontab', s.crontab, 'paused', s.paused, "                           \
	"'next_run', " TASKS_NEXT_RUN_ ", 'description', nullif(s.description, ''), "              \
	"'last_task_status', (SELECT " CU_SQL_TASK_AGG " FROM tasks t WHERE t.schedule_id = "      \
	"s.id ORDER BY t.mtime DESC, t.message_id DESC LIMIT 1))::text"
/* GlobalTaskStatus: every aggregated status counted in one pass. */
#define TASKS_STATUS_ROW_                                                                          \
	"json_build_object('queued', count(*) FILTER (WHERE t.state = 'queued'), 'consumed', 0, "  \
	"'preprocess', 0, 'running', count(*) FILTER (WHERE t.state = 'running'), "                \
	"'postprocess', 0, 'rejected', count(*) FILTER (WHERE t.state = 'rejected'), 'done', 0, "  \
	"'info', count(*) FILTER (WHERE t.state = 'done' AND t.status = 'info'), 'warning', "      \
	"count(*) FILTER (WHERE t.state = 'done' AND t.status = 'warning'), 'error', "             \
	"count(*) FILTER (WHERE t.state = 'done' AND t.status = 'error'))::text"
/* What the retry's audit diff compares. */
#define TASKS_SNAPSHOT_                                                                            \
	"json_build_object('state', t.state, 'aggregated_status', " CU_SQL_TASK_AGG                \
	", 'eta', " TASKS_ETA_ ")::text"

#define CU_DB_STMTS_TASKS(X)                                                                        \
	X(TASKS_ENQUEUE, 4,                                                                         \
	  "WITH ins AS (INSERT INTO tasks (actor_name, args, idempotency_key, eta) VALUES ($1, "    \
	  "coalesce($2::jsonb, '{}'), $3, now() + make_interval(secs => $4::int)) ON CONFLICT "     \
	  "(idempotency_key) DO NOTHING RETURNING message_id) SELECT message_id FROM ins UNION "    \
	  "ALL SELECT message_id FROM tasks WHERE idempotency_key = $3")                            \
	/* The task API (lib/api/tasks.c). */                                                       \
	X(TASKS_GET, 1, "SELECT " CU_SQL_TASK " FROM tasks t WHERE t.message_id = $1::uuid")        \
	X(TASKS_STATUS, 0, "SELECT " TASKS_STATUS_ROW_ " FROM tasks t")                             \
	X(TASKS_LOCK, 1,                                                                            \
	  "SELECT t.state, t.status, " TASKS_SNAPSHOT_ ", t.actor_name FROM tasks t WHERE "         \
	  "t.message_id = $1::uuid FOR UPDATE")                                                     \
	X(TASKS_RETRY, 1,                                                                           \
	  "UPDATE tasks t SET state = 'queued', status = 'info', eta = now(), mtime = now(), "      \
	  "lease_owner = NULL, lease_expires = NULL, logs = t.logs || jsonb_build_array("           \
	  "jsonb_build_object('timestamp', " TASKS_NOW_ ", 'log_level', 'info', "                   \
	  "'logger', 'custos.api', 'event', 'Task retried', 'attributes', '{}'::jsonb)) WHERE "     \
	  "t.message_id = $1::uuid RETURNING " TASKS_SNAPSHOT_)                                     \
	X(SCHEDULES_GET, 1,                                                                         \
	  "SELECT " CU_SQL_SCHEDULE " FROM task_schedules s WHERE s.id = $1::uuid")                 \
	X(SCHEDULES_LOCK, 1,                                                                        \
	  "SELECT s.paused, s.identifier FROM task_schedules s WHERE s.id = $1::uuid FOR UPDATE")   \
	X(SCHEDULES_SET_PAUSED, 2,                                                                  \
	  "UPDATE task_schedules SET paused = $2::boolean WHERE id = $1::uuid")                     \
	X(SCHEDULES_SEND, 1,                                                                        \
	  "INSERT INTO tasks (actor_name, args, schedule_id, uid, description) SELECT "             \
	  "actor_name, args, id, uid, description FROM task_schedules WHERE id = $1::uuid "         \
	  "RETURNING message_id")                                                                   \
	X(WORKERS_LIST, 1,                                                                          \
	  "SELECT coalesce(json_agg(json_build_object('worker_id', w.worker_id, 'version', "        \
	  "w.version, 'version_matching', w.version = $1) ORDER BY w.worker_id), '[]')::text "      \
	  "FROM workers w WHERE w.last_seen > now() - interval '60 seconds'")                       \
	/* The worker (worker/daemon.c). */                                                         \
	X(WORKER_HEARTBEAT, 4,                                                                      \
	  "INSERT INTO workers (worker_id, hostname, pid, version) VALUES ($1, $2, $3, $4) ON "     \
	  "CONFLICT (worker_id) DO UPDATE SET last_seen = now()")                                   \
	X(WORKER_GONE, 1, "DELETE FROM workers WHERE worker_id = $1")                               \
	X(WORKER_CLAIM, 2,                                                                          \
	  "UPDATE tasks SET state = 'running', lease_owner = $1, lease_expires = now() + "          \
	  "make_interval(secs => $2::int), mtime = now() WHERE message_id = (SELECT message_id "    \
	  "FROM tasks WHERE state = 'queued' AND eta <= now() ORDER BY eta LIMIT 1 FOR UPDATE "     \
	  "SKIP LOCKED) RETURNING message_id, actor_name, args::text, retries, max_retries, "       \
	  "effect::text")                                                                           \
	X(WORKER_DONE, 4,                                                                           \
	  "UPDATE tasks SET state = 'done', status = $3, lease_owner = NULL, lease_expires = "      \
	  "NULL, mtime = now(), logs = logs || $4::jsonb WHERE message_id = $1 AND lease_owner = "  \
	  "$2")                                                                                     \
	X(WORKER_RETRY, 4,                                                                          \
	  "UPDATE tasks SET state = 'queued', status = 'warning', retries = retries + 1, eta = "    \
	  "now() + make_interval(secs => $3::int), lease_owner = NULL, lease_expires = NULL, "      \
	  "mtime = now(), logs = logs || $4::jsonb WHERE message_id = $1 AND lease_owner = $2")     \
	X(WORKER_EFFECT, 3,                                                                         \
	  "UPDATE tasks SET effect = $3::jsonb, mtime = now() WHERE message_id = $1 AND "           \
	  "lease_owner = $2")                                                                       \
	X(WORKER_RECLAIM, 0,                                                                        \
	  "UPDATE tasks SET state = 'queued', lease_owner = NULL, lease_expires = NULL, mtime = "   \
	  "now(), logs = logs || jsonb_build_array(jsonb_build_object('timestamp', now(), "         \
	  "'log_level', 'warning', 'logger', 'custos.worker', 'event', 'Lease expired; the task "   \
	  "runs again', 'attributes', '{}'::jsonb)) WHERE state = 'running' AND lease_expires < "   \
	  "now() RETURNING message_id")                                                             \
	X(WORKER_DUE_SCHEDULES, 0,                                                                  \
	  "SELECT id, identifier, actor_name, args::text, crontab, next_run::text, "                \
	  "extract(epoch FROM next_run)::bigint FROM task_schedules WHERE NOT paused AND "          \
	  "next_run <= now() ORDER BY next_run LIMIT 100")                                          \
	X(WORKER_ADVANCE_SCHEDULE, 3,                                                               \
	  "UPDATE task_schedules SET next_run = to_timestamp($3::bigint) WHERE id = $1 AND "        \
	  "next_run = $2::timestamptz")                                                             \
	X(WORKER_SCHEDULE_TASK, 3,                                                                  \
	  "INSERT INTO tasks (actor_name, args, schedule_id, description) SELECT actor_name, "      \
	  "args, id, $3 FROM task_schedules WHERE id = $1 AND $2::boolean RETURNING message_id")    \
	X(WORKER_ENSURE_SCHEDULE, 5,                                                                \
	  "INSERT INTO task_schedules (identifier, actor_name, crontab, next_run, description) "    \
	  "VALUES ($1, $2, $3, to_timestamp($4::bigint), $5) ON CONFLICT (identifier) DO NOTHING")  \
	X(WORKER_CLEAN_TOKENS, 0,                                                                   \
	  "DELETE FROM tokens WHERE uuid IN (SELECT uuid FROM tokens WHERE expiring AND expires "   \
	  "< now() LIMIT 1000)")                                                                    \
	X(WORKER_CLEAN_SESSIONS, 0,                                                                 \
	  "DELETE FROM sessions WHERE session_key IN (SELECT session_key FROM sessions WHERE "      \
	  "expires < now() LIMIT 1000)")                                                            \
	X(WORKER_CLEAN_EVENTS, 0,                                                                   \
	  "DELETE FROM events WHERE event_uuid IN (SELECT event_uuid FROM events WHERE expires < "  \
	  "now() LIMIT 1000)")                                                                      \
	/* OAuth2 grants; access and refresh tokens stay a day past expiry: the API still shows     \
	 * them and a session that ends meanwhile still finds its relying parties. */               \
	X(WORKER_CLEAN_OAUTH2_CODES, 0,                                                             \
	  "DELETE FROM oauth2_authorization_codes WHERE id IN (SELECT id FROM "                     \
	  "oauth2_authorization_codes WHERE expires < now() LIMIT 1000)")                           \
	X(WORKER_CLEAN_OAUTH2_ACCESS, 0,                                                            \
	  "DELETE FROM oauth2_access_tokens WHERE id IN (SELECT id FROM oauth2_access_tokens "      \
	  "WHERE expires < now() - interval '1 day' LIMIT 1000)")                                   \
	X(WORKER_CLEAN_OAUTH2_REFRESH, 0,                                                           \
	  "DELETE FROM oauth2_refresh_tokens WHERE id IN (SELECT id FROM oauth2_refresh_tokens "    \
	  "WHERE expires < now() - interval '1 day' LIMIT 1000)")                                   \
	X(WORKER_CLEAN_OAUTH2_DEVICE, 0,                                                            \
	  "DELETE FROM oauth2_device_tokens WHERE id IN (SELECT id FROM oauth2_device_tokens "      \
	  "WHERE expires < now() LIMIT 1000)")                                                      \
	/* SAML: request IDs past their replay window, SAML sessions past their end. */             \
	X(WORKER_CLEAN_SAML_REQUEST_IDS, 0,                                                         \
	  "DELETE FROM saml_request_ids WHERE (provider_id, request_id) IN (SELECT provider_id, "   \
	  "request_id FROM saml_request_ids WHERE expires < now() LIMIT 1000)")                     \
	X(WORKER_CLEAN_SAML_SESSIONS, 0,                                                            \
	  "DELETE FROM saml_sessions WHERE saml_session_id IN (SELECT saml_session_id FROM "        \
	  "saml_sessions WHERE expires < now() LIMIT 1000)")                                        \
	X(WORKER_CLEAN_TASKS, 0,                                                                    \
	  "DELETE FROM tasks WHERE message_id IN (SELECT message_id FROM tasks WHERE state = "      \
	  "'done' AND mtime < now() - interval '30 days' LIMIT 1000)")                              \
	X(WORKER_DISCOVERED_GET, 1,                                                                 \
	  "SELECT kp_uuid, certificate_data, key_data_sealed FROM certificate_key_pairs WHERE "     \
	  "managed = $1")                                                                           \
	X(WORKER_DISCOVERED_UPSERT, 9,                                                              \
	  "INSERT INTO certificate_key_pairs (managed, name, certificate_data, key_data_sealed, "   \
	  "fingerprint_sha256, fingerprint_sha1, cert_expiry, cert_subject, key_type) VALUES ($1, " \
	  "$2, $3, $4, $5, $6, to_timestamp($7::bigint), $8, $9) ON CONFLICT (managed) DO UPDATE "  \
	  "SET certificate_data = EXCLUDED.certificate_data, key_data_sealed = "                    \
	  "EXCLUDED.key_data_sealed, fingerprint_sha256 = EXCLUDED.fingerprint_sha256, "            \
	  "fingerprint_sha1 = EXCLUDED.fingerprint_sha1, cert_expiry = EXCLUDED.cert_expiry, "      \
	  "cert_subject = EXCLUDED.cert_subject, key_type = EXCLUDED.key_type, last_updated = "     \
	  "now()")                                                                                  \
	X(WORKER_LIST_SCHEDULES, 0,                                                                 \
	  "SELECT identifier, crontab, to_char(next_run AT TIME ZONE 'UTC', "                       \
	  "'YYYY-MM-DD HH24:MI:SS'), CASE WHEN paused THEN 'paused' ELSE '' END FROM "              \
	  "task_schedules ORDER BY next_run")                                                       \
	X(WORKER_LIST_TASKS, 0,                                                                     \
	  "SELECT to_char(mtime AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), actor_name, state, "  \
	  "status, retries FROM tasks ORDER BY mtime DESC LIMIT 20")
