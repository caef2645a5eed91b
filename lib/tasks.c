#include "tasks.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

enum cu_err
cu_tasks_enqueue(struct cu_db *db, struct cu_arena *a, const char *actor, const char *args,
                 const char *idempotency_key, int delay_s, char message_id[37])
{
	const char *params[4];
	char delay[16];
	PGresult *res = NULL;
	enum cu_err err;

	message_id[0] = '\0';
	snprintf(delay, sizeof(delay), "%d", delay_s > 0 ? delay_s : 0);
	params[0] = actor;
	params[1] = args;
	params[2] = idempotency_key;
	params[3] = delay;
	err = cu_db_exec(db, a, &res, CU_DB_STMT_TASKS_ENQUEUE, 4, params);
	if (err != CU_OK)
		return err;
	if (PQntuples(res) < 1)
		return CU_ERR_INTERNAL;
	snprintf(message_id, 37, "%s", cu_db_value(res, 0, 0));
	return CU_OK;
}

void
cu_tasks_wake(struct cu_cache *c, struct cu_arena *a, const char *message_id)
{
	const char *argv[] = {"XADD", CU_TASKS_STREAM, "MAXLEN", "~", CU_TASKS_STREAM_MAXLEN, "*",
	                      "id",   message_id};

	/* Workers find the task in PostgreSQL anyway; a failed wake-up costs only latency. */
	if (cu_cache_cmd(c, a, NULL, 8, argv, NULL) != CU_OK)
		cu_log(CU_LOG_WARNING, "task_wake_failed", CU_LS("message_id", message_id));
}
