/*
 * The worker: claims due tasks from PostgreSQL under a lease, runs their actor, and records the
 * outcome; fires schedules once per period across all workers; hands back the tasks of workers
 * that died (their lease runs out). Redis only wakes it up sooner: XREADGROUP on the stream
 * blocks for a second at most, then the worker looks in PostgreSQL
 * whatever Redis said.
 */
#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "arena.h"
#include "cache.h"
#include "config.h"
#include "cron.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "tasks.h"
#include "version.h"
#include "worker.h"

extern char **environ;

#define HEARTBEAT_S 10
#define HOUSEKEEPING_S 5
#define MAX_BACKOFF_S 3600

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Schedules every installation has (authentik's ScheduleSpecs that custos runs). */
static const struct {
	const char *ds_identifier;
	const char *ds_actor;
	const char *ds_crontab;
	const char *ds_description;
} default_schedules[] = {
    {"clean_expired_models", CU_ACTOR_CLEAN_EXPIRED, "2-59/5 * * * *",
     "Remove expired tokens, sessions, events, OAuth2 grants, SAML sessions and request IDs, "
     "and old task records"},
    {"certificate_discovery", CU_ACTOR_CERT_DISCOVERY, "17 * * * *",
     "Import certificates and keys from the certificate folder"},
};

struct worker {
	struct cu_config wk_cfg;
	struct cu_db wk_db;
	struct cu_cache wk_cache;
	struct cu_arena wk_arena;
	char wk_id[300];
	char wk_host[256];
	int wk_group_ready;
	long long wk_done;
};

static long long
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* One LogEvent as authentik's task logs hold them: [{timestamp, log_level, logger, event,
 * attributes}], as JSON text, arena-owned. */
static const char *
log_entry(struct cu_arena *a, const char *level, const char *event)
{
	struct json_object *arr = cu_json_array(a), *e = json_object_new_object();
	char ts[40];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cu_json_set_string(e, "timestamp", ts);
	cu_json_set_string(e, "log_level", level);
	cu_json_set_string(e, "logger", "custos.worker");
	cu_json_set_string(e, "event", event);
	cu_json_set(e, "attributes", json_object_new_object());
	json_object_array_add(arr, e);
	return cu_json_text(arr, NULL);
}

static int
open_worker(struct worker *w)
{
	char err[512], *conninfo;

	memset(w, 0, sizeof(*w));
	if (cu_config_load(&w->wk_cfg, NULL, environ, err, sizeof(err)) != 0) {
		fprintf(stderr, "custos-worker: configuration: %s\n", err);
		return -1;
	}
	conninfo = cu_config_pg_conninfo(&w->wk_cfg);
	cu_db_init(&w->wk_db, conninfo);
	cu_wipe(conninfo, strlen(conninfo));
	cu_free(conninfo);
	cu_cache_init(&w->wk_cache, w->wk_cfg.redis_host, w->wk_cfg.redis_port, w->wk_cfg.redis_db,
	              w->wk_cfg.redis_password);
	/* Its XREADGROUP blocks for a second on purpose: a reply may take that long. */
	cu_cache_set_timeout(&w->wk_cache, 5000);
	cu_arena_init(&w->wk_arena);
	if (gethostname(w->wk_host, sizeof(w->wk_host)) != 0)
		snprintf(w->wk_host, sizeof(w->wk_host), "localhost");
	w->wk_host[sizeof(w->wk_host) - 1] = '\0';
	snprintf(w->wk_id, sizeof(w->wk_id), "%s:%ld", w->wk_host, (long)getpid());
	return 0;
}

static void
close_worker(struct worker *w)
{
	cu_arena_free(&w->wk_arena);
	cu_cache_close(&w->wk_cache);
	cu_db_close(&w->wk_db);
	cu_config_free(&w->wk_cfg);
}

/* 1 when the stream has our consumer group (XINFO GROUPS lists it). */
static int
group_exists(struct worker *w)
{
	const char *exists[] = {"EXISTS", CU_TASKS_STREAM};
	const char *info[] = {"XINFO", "GROUPS", CU_TASKS_STREAM};
	struct redisReply *r = NULL;
	size_t i, k;

	if (cu_cache_cmd(&w->wk_cache, &w->wk_arena, &r, 2, exists, NULL) != CU_OK ||
	    r->type != REDIS_REPLY_INTEGER || r->integer == 0)
		return 0;
	if (cu_cache_cmd(&w->wk_cache, &w->wk_arena, &r, 3, info, NULL) != CU_OK ||
	    r->type != REDIS_REPLY_ARRAY)
		return 0;
	for (i = 0; i < r->elements; i++) {
		struct redisReply *g = r->element[i];

		for (k = 0; g->type == REDIS_REPLY_ARRAY && k + 1 < g->elements; k += 2)
			if (g->element[k]->type == REDIS_REPLY_STRING &&
			    strcmp(g->element[k]->str, "name") == 0 &&
			    g->element[k + 1]->type == REDIS_REPLY_STRING &&
			    strcmp(g->element[k + 1]->str, CU_TASKS_GROUP) == 0)
				return 1;
	}
	return 0;
}

/* The consumer group, made again when Redis lost it (restarted without data, FLUSHALL). */
static void
ensure_group(struct worker *w)
{
	const char *argv[] = {"XGROUP", "CREATE", CU_TASKS_STREAM, CU_TASKS_GROUP, "$", "MKSTREAM"};

	if (w->wk_group_ready)
		return;
	if (group_exists(w) ||
	    cu_cache_cmd(&w->wk_cache, &w->wk_arena, NULL, 6, argv, NULL) == CU_OK)
		w->wk_group_ready = 1;
}

/* Waits up to a second for a wake-up. Every message is acknowledged at once: the stream only
 * says "look", PostgreSQL says what. */
static void
wait_for_work(struct worker *w)
{
	const char *argv[] = {"XREADGROUP", "GROUP", CU_TASKS_GROUP, w->wk_id,        "COUNT", "64",
	                      "BLOCK",      "1000",  "STREAMS",      CU_TASKS_STREAM, ">"};
	struct redisReply *r = NULL;
	enum cu_err err;
	size_t i, j;

	ensure_group(w);
	if (!w->wk_group_ready) {
		sleep(1);
		return;
	}
	err = cu_cache_cmd(&w->wk_cache, &w->wk_arena, &r, 11, argv, NULL);
	if (err == CU_ERR_INTERNAL) {
		/* NOGROUP: Redis forgot the stream; make it again next time. */
		w->wk_group_ready = 0;
		return;
	}
	if (err != CU_OK) {
		w->wk_group_ready = 0;
		sleep(1);
		return;
	}
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i < r->elements; i++) {
		struct redisReply *stream = r->element[i];

		if (stream->type != REDIS_REPLY_ARRAY || stream->elements < 2)
			continue;
		for (j = 0; j < stream->element[1]->elements; j++) {
			struct redisReply *msg = stream->element[1]->element[j];
			const char *ack[] = {"XACK", CU_TASKS_STREAM, CU_TASKS_GROUP, NULL};

			if (msg->type != REDIS_REPLY_ARRAY || msg->elements < 1 ||
			    msg->element[0]->type != REDIS_REPLY_STRING)
				continue;
			ack[3] = msg->element[0]->str;
			if (cu_cache_cmd(&w->wk_cache, &w->wk_arena, NULL, 4, ack, NULL) != CU_OK)
				break;
		}
	}
}

static void
heartbeat(struct worker *w)
{
	const char *p[4];

	p[0] = w->wk_id;
	p[1] = w->wk_host;
	p[2] = cu_arena_printf(&w->wk_arena, "%ld", (long)getpid());
	p[3] = CU_VERSION;
	if (cu_db_exec(&w->wk_db, &w->wk_arena, NULL, CU_DB_STMT_WORKER_HEARTBEAT, 4, p) != CU_OK)
		cu_log_msg(CU_LOG_WARNING, "heartbeat_failed", "PostgreSQL did not take it");
}

static void
ensure_schedules(struct worker *w)
{
	size_t i;

	for (i = 0; i < sizeof(default_schedules) / sizeof(default_schedules[0]); i++) {
		struct cu_cron c;
		char err[128];
		const char *p[5];
		time_t next;

		if (cu_cron_parse(&c, default_schedules[i].ds_crontab, err, sizeof(err)) != 0)
			cu_die("a built-in schedule does not parse");
		next = cu_cron_next(&c, time(NULL));
		p[0] = default_schedules[i].ds_identifier;
		p[1] = default_schedules[i].ds_actor;
		p[2] = default_schedules[i].ds_crontab;
		p[3] = cu_arena_printf(&w->wk_arena, "%lld", (long long)next);
		p[4] = default_schedules[i].ds_description;
		if (cu_db_exec(&w->wk_db, &w->wk_arena, NULL, CU_DB_STMT_WORKER_ENSURE_SCHEDULE, 5,
		               p) != CU_OK)
			return;
	}
}

/*
 * Fires due schedules. Moving next_run forward is a compare-and-set on its old value, in the
 * same transaction as the task it fires: of several workers only one wins each period.
 */
static void
fire_schedules(struct worker *w)
{
	PGresult *due = NULL, *res = NULL;
	int i;

	if (cu_db_exec(&w->wk_db, &w->wk_arena, &due, CU_DB_STMT_WORKER_DUE_SCHEDULES, 0, NULL) !=
	    CU_OK)
		return;
	for (i = 0; i < PQntuples(due); i++) {
		const char *id = cu_db_value(due, i, 0), *crontab = cu_db_value(due, i, 4);
		const char *p[3];
		struct cu_cron c;
		char err[128];
		time_t next;

		if (cu_cron_parse(&c, crontab, err, sizeof(err)) != 0) {
			cu_log(CU_LOG_ERROR, "schedule_invalid",
			       CU_LS("schedule", cu_db_value(due, i, 1)), CU_LS("msg", err));
			continue;
		}
		next = cu_cron_next(&c, time(NULL));
		if (next == (time_t)-1)
			next = time(NULL) + 5 * 366 * 86400;
		if (cu_db_begin(&w->wk_db) != CU_OK)
			return;
		p[0] = id;
		p[1] = cu_db_value(due, i, 5);
		p[2] = cu_arena_printf(&w->wk_arena, "%lld", (long long)next);
		if (cu_db_exec(&w->wk_db, &w->wk_arena, &res, CU_DB_STMT_WORKER_ADVANCE_SCHEDULE, 3,
		               p) != CU_OK) {
			cu_db_rollback(&w->wk_db);
			continue;
		}
		p[1] = strcmp(PQcmdTuples(res), "1") == 0 ? "true" : "false";
		p[2] = cu_db_value(due, i, 1);
		if (cu_db_exec(&w->wk_db, &w->wk_arena, &res, CU_DB_STMT_WORKER_SCHEDULE_TASK, 3,
		               p) != CU_OK ||
		    cu_db_commit(&w->wk_db) != CU_OK) {
			cu_db_rollback(&w->wk_db);
			continue;
		}
		if (PQntuples(res) == 1)
			cu_log(CU_LOG_INFO, "schedule_fired",
			       CU_LS("schedule", cu_db_value(due, i, 1)),
			       CU_LS("message_id", cu_db_value(res, 0, 0)));
	}
}

static void
reclaim(struct worker *w)
{
	PGresult *res = NULL;

	if (cu_db_exec(&w->wk_db, &w->wk_arena, &res, CU_DB_STMT_WORKER_RECLAIM, 0, NULL) ==
	        CU_OK &&
	    PQntuples(res) > 0)
		cu_log(CU_LOG_WARNING, "tasks_reclaimed", CU_LI("count", PQntuples(res)));
}

/* --- actors ------------------------------------------------------------------------------- */

static enum cu_worker_outcome
actor_noop(struct cu_worker_task *t)
{
	(void)t;
	return CU_WORKER_DONE;
}

/* Deletes in batches of 1000 so that no statement holds locks for long. */
static enum cu_worker_outcome
actor_clean_expired(struct cu_worker_task *t)
{
	static const enum cu_db_stmt cleaners[] = {
	    CU_DB_STMT_WORKER_CLEAN_TOKENS,        CU_DB_STMT_WORKER_CLEAN_SESSIONS,
	    CU_DB_STMT_WORKER_CLEAN_EVENTS,        CU_DB_STMT_WORKER_CLEAN_OAUTH2_CODES,
	    CU_DB_STMT_WORKER_CLEAN_OAUTH2_ACCESS, CU_DB_STMT_WORKER_CLEAN_OAUTH2_REFRESH,
	    CU_DB_STMT_WORKER_CLEAN_OAUTH2_DEVICE, CU_DB_STMT_WORKER_CLEAN_SAML_REQUEST_IDS,
	    CU_DB_STMT_WORKER_CLEAN_SAML_SESSIONS, CU_DB_STMT_WORKER_CLEAN_TASKS};
	size_t i;
	long long total = 0;

	for (i = 0; i < sizeof(cleaners) / sizeof(cleaners[0]); i++) {
		for (;;) {
			PGresult *res = NULL;
			long long n;

			if (cu_db_exec(t->wt_db, t->wt_arena, &res, cleaners[i], 0, NULL) !=
			    CU_OK) {
				t->wt_error = "cannot delete expired rows";
				return CU_WORKER_RETRY;
			}
			n = strtoll(PQcmdTuples(res), NULL, 10);
			total += n;
			if (n < 1000 || stopping)
				break;
		}
	}
	t->wt_message = cu_arena_printf(t->wt_arena, "Deleted %lld expired objects", total);
	return CU_WORKER_DONE;
}

static const struct cu_worker_actor actors[] = {
    {CU_ACTOR_NOOP, actor_noop},
    {CU_ACTOR_CLEAN_EXPIRED, actor_clean_expired},
    {CU_ACTOR_SEND_MAIL, cu_worker_actor_send_mail},
    {CU_ACTOR_EVENT_TRIGGER_DISPATCH, cu_worker_actor_event_trigger_dispatch},
    {CU_ACTOR_NOTIFICATION_TRANSPORT, cu_worker_actor_notification_transport},
    {CU_ACTOR_CERT_DISCOVERY, cu_worker_actor_certificate_discovery},
    {CU_ACTOR_OAUTH2_BACKCHANNEL_LOGOUT, cu_worker_actor_oauth2_backchannel_logout},
};

static const struct cu_worker_actor *
find_actor(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(actors) / sizeof(actors[0]); i++)
		if (strcmp(actors[i].wa_name, name) == 0)
			return &actors[i];
	return NULL;
}

/* Claims and runs one due task; 1 when there was one. */
static int
run_one(struct worker *w)
{
	struct cu_worker_task t;
	const struct cu_worker_actor *actor;
	enum cu_worker_outcome outcome;
	PGresult *res = NULL;
	const char *p[4];
	long long retries, max_retries;
	int backoff;

	p[0] = w->wk_id;
	/* A worker that dies gives its tasks back when this lease runs out. */
	p[1] = cu_arena_printf(&w->wk_arena, "%d", w->wk_cfg.worker_task_lease_seconds);
	if (cu_db_exec(&w->wk_db, &w->wk_arena, &res, CU_DB_STMT_WORKER_CLAIM, 2, p) != CU_OK ||
	    PQntuples(res) != 1)
		return 0;
	memset(&t, 0, sizeof(t));
	t.wt_id = cu_db_value(res, 0, 0);
	t.wt_actor = cu_db_value(res, 0, 1);
	t.wt_args_text = cu_db_value(res, 0, 2);
	t.wt_effect_text = cu_db_value(res, 0, 5);
	t.wt_worker_id = w->wk_id;
	t.wt_db = &w->wk_db;
	t.wt_cache = &w->wk_cache;
	t.wt_cfg = &w->wk_cfg;
	t.wt_arena = &w->wk_arena;
	retries = strtoll(cu_db_value(res, 0, 3), NULL, 10);
	max_retries = strtoll(cu_db_value(res, 0, 4), NULL, 10);
	if (cu_json_parse(&w->wk_arena, t.wt_args_text, strlen(t.wt_args_text), &t.wt_args) !=
	        CU_OK ||
	    t.wt_args == NULL)
		t.wt_args = cu_json_object(&w->wk_arena);
	actor = find_actor(t.wt_actor);
	if (actor == NULL) {
		t.wt_error = "no such actor";
		outcome = CU_WORKER_FAIL;
	} else {
		outcome = actor->wa_run(&t);
	}
	if (w->wk_db.db_in_tx)
		cu_db_rollback(&w->wk_db);
	p[0] = t.wt_id;
	p[1] = w->wk_id;
	if (outcome == CU_WORKER_DONE) {
		p[2] = "info";
		p[3] =
		    log_entry(&w->wk_arena, "info", t.wt_message ? t.wt_message : "Task finished");
		if (cu_db_exec(&w->wk_db, &w->wk_arena, NULL, CU_DB_STMT_WORKER_DONE, 4, p) !=
		    CU_OK)
			cu_log(CU_LOG_ERROR, "task_record_failed", CU_LS("message_id", t.wt_id));
		w->wk_done++;
	} else if (outcome == CU_WORKER_RETRY && retries + 1 < max_retries) {
		backoff = 1 << (retries < 11 ? retries + 1 : 12);
		if (backoff > MAX_BACKOFF_S)
			backoff = MAX_BACKOFF_S;
		p[2] = cu_arena_printf(&w->wk_arena, "%d", backoff);
		p[3] = log_entry(&w->wk_arena, "warning", t.wt_error ? t.wt_error : "failed");
		if (cu_db_exec(&w->wk_db, &w->wk_arena, NULL, CU_DB_STMT_WORKER_RETRY, 4, p) !=
		    CU_OK)
			cu_log(CU_LOG_ERROR, "task_record_failed", CU_LS("message_id", t.wt_id));
		cu_log(CU_LOG_WARNING, "task_retry", CU_LS("message_id", t.wt_id),
		       CU_LS("actor", t.wt_actor), CU_LS("error", t.wt_error),
		       CU_LI("in_s", backoff));
	} else {
		p[2] = "error";
		p[3] = log_entry(&w->wk_arena, "error", t.wt_error ? t.wt_error : "failed");
		if (cu_db_exec(&w->wk_db, &w->wk_arena, NULL, CU_DB_STMT_WORKER_DONE, 4, p) !=
		    CU_OK)
			cu_log(CU_LOG_ERROR, "task_record_failed", CU_LS("message_id", t.wt_id));
		cu_log(CU_LOG_ERROR, "task_failed", CU_LS("message_id", t.wt_id),
		       CU_LS("actor", t.wt_actor), CU_LS("error", t.wt_error));
	}
	return 1;
}

int
cu_worker_run(int argc, char **argv)
{
	struct worker w;
	struct sigaction sa;
	long long last_beat = 0, last_house = 0;

	(void)argv;
	if (argc != 0) {
		fprintf(stderr, "usage: custos-worker run\n");
		return 2;
	}
	if (open_worker(&w) != 0)
		return 1;
	{
		enum cu_log_level lvl;

		if (cu_log_level_parse(w.wk_cfg.log_level, &lvl) == 0)
			cu_log_init("worker", lvl);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	cu_log(CU_LOG_INFO, "worker_started", CU_LS("worker_id", w.wk_id));
	while (!stopping) {
		long long now = now_s();

		cu_arena_reset(&w.wk_arena);
		if (now - last_beat >= HEARTBEAT_S) {
			heartbeat(&w);
			ensure_schedules(&w);
			last_beat = now;
		}
		if (now - last_house >= HOUSEKEEPING_S) {
			reclaim(&w);
			fire_schedules(&w);
			last_house = now;
		}
		/* Work first; wait only when there is none. */
		while (!stopping && run_one(&w))
			cu_arena_reset(&w.wk_arena);
		if (!stopping)
			wait_for_work(&w);
	}
	{
		const char *p[] = {w.wk_id};

		cu_arena_reset(&w.wk_arena);
		if (cu_db_exec(&w.wk_db, &w.wk_arena, NULL, CU_DB_STMT_WORKER_GONE, 1, p) != CU_OK)
			cu_log_msg(CU_LOG_WARNING, "worker_unregister_failed",
			           "row left to expire");
	}
	cu_log(CU_LOG_INFO, "worker_stopped", CU_LS("worker_id", w.wk_id),
	       CU_LI("done", w.wk_done));
	close_worker(&w);
	return 0;
}

/* custos-worker task list: schedules with their next run, then the latest task runs. */
static int
task_list(struct worker *w)
{
	PGresult *res = NULL;
	int i;

	if (cu_db_exec(&w->wk_db, &w->wk_arena, &res, CU_DB_STMT_WORKER_LIST_SCHEDULES, 0, NULL) !=
	    CU_OK)
		return 1;
	printf("%-28s %-16s %-20s\n", "SCHEDULE", "CRONTAB", "NEXT RUN (UTC)");
	for (i = 0; i < PQntuples(res); i++)
		printf("%-28s %-16s %-20s %s\n", cu_db_value(res, i, 0), cu_db_value(res, i, 1),
		       cu_db_value(res, i, 2), cu_db_value(res, i, 3));
	if (cu_db_exec(&w->wk_db, &w->wk_arena, &res, CU_DB_STMT_WORKER_LIST_TASKS, 0, NULL) !=
	    CU_OK)
		return 1;
	printf("\n%-20s %-48s %-8s %-8s %s\n", "CHANGED (UTC)", "ACTOR", "STATE", "STATUS",
	       "RETRIES");
	for (i = 0; i < PQntuples(res); i++)
		printf("%-20s %-48s %-8s %-8s %s\n", cu_db_value(res, i, 0), cu_db_value(res, i, 1),
		       cu_db_value(res, i, 2), cu_db_value(res, i, 3), cu_db_value(res, i, 4));
	return 0;
}

int
cu_worker_task(int argc, char **argv)
{
	struct worker w;
	char id[37];
	int rc = 1;

	if (argc == 1 && strcmp(argv[0], "list") == 0) {
		if (open_worker(&w) != 0)
			return 1;
		rc = task_list(&w);
		close_worker(&w);
		return rc;
	}
	if (argc < 2 || strcmp(argv[0], "run") != 0 || argc > 3) {
		fprintf(stderr, "usage: custos-worker task list | task run ACTOR [JSON-ARGS]\n");
		return 2;
	}
	if (find_actor(argv[1]) == NULL) {
		fprintf(stderr, "custos-worker: no actor %s\n", argv[1]);
		return 2;
	}
	if (open_worker(&w) != 0)
		return 1;
	if (cu_tasks_enqueue(&w.wk_db, &w.wk_arena, argv[1], argc == 3 ? argv[2] : NULL, NULL, 0,
	                     id) != CU_OK) {
		fprintf(stderr, "custos-worker: cannot enqueue %s\n", argv[1]);
		goto out;
	}
	cu_tasks_wake(&w.wk_cache, &w.wk_arena, id);
	printf("%s\n", id);
	rc = 0;
out:
	close_worker(&w);
	return rc;
}

int
cu_worker_healthcheck(int argc, char **argv)
{
	struct worker w;
	int rc;

	(void)argc;
	(void)argv;
	if (open_worker(&w) != 0)
		return 1;
	rc = cu_db_exec(&w.wk_db, &w.wk_arena, NULL, CU_DB_STMT_PING, 0, NULL) == CU_OK ? 0 : 1;
	close_worker(&w);
	return rc;
}

int
cu_worker_record_effect(struct cu_worker_task *t, const char *json)
{
	const char *p[3];
	PGresult *res = NULL;

	p[0] = t->wt_id;
	p[1] = t->wt_worker_id;
	p[2] = json;
	if (cu_db_exec(t->wt_db, t->wt_arena, &res, CU_DB_STMT_WORKER_EFFECT, 3, p) != CU_OK)
		return -1;
	/* No row: the lease was lost to another worker, which now owns the task. */
	return strcmp(PQcmdTuples(res), "1") == 0 ? 0 : -1;
}
