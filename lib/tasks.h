/*
 * The enqueue side of background work (the worker runs it: worker/). A task is a row in
 * tasks, written in the caller's transaction, so it exists exactly when the change that asked
 * for it committed (an outbox). After the commit, cu_tasks_wake tells idle workers through the
 * Redis stream CU_TASKS_STREAM; workers also look in PostgreSQL, so a lost wake-up (Redis
 * down or flushed) only delays a task, never loses it.
 */
#ifndef CU_TASKS_H
#define CU_TASKS_H

#include "arena.h"
#include "cache.h"
#include "db.h"
#include "err.h"

#define CU_TASKS_STREAM "custos:tasks"
#define CU_TASKS_GROUP "workers"
/* A stream entry older than this many entries is trimmed (MAXLEN ~): it only wakes. */
#define CU_TASKS_STREAM_MAXLEN "100000"

/* authentik's actor names, which the task API shows. */
#define CU_ACTOR_NOOP "custos.tasks.noop"
#define CU_ACTOR_SEND_MAIL "authentik.stages.email.tasks.send_mail"
#define CU_ACTOR_CLEAN_EXPIRED "authentik.core.tasks.clean_expired_models"
#define CU_ACTOR_CERT_DISCOVERY "authentik.crypto.tasks.certificate_discovery"
#define CU_ACTOR_EVENT_TRIGGER_DISPATCH "authentik.events.tasks.event_trigger_dispatch"
#define CU_ACTOR_NOTIFICATION_TRANSPORT "authentik.events.tasks.notification_transport"

/*
 * Writes a task for actor with args (JSON object text, NULL for {}) due in delay_s seconds.
 * With idempotency_key set, a task with that key already written makes this a no-op that
 * still answers CU_OK with that task's id. message_id receives the id (37 bytes).
 */
enum cu_err cu_tasks_enqueue(struct cu_db *db, struct cu_arena *a, const char *actor,
                             const char *args, const char *idempotency_key, int delay_s,
                             char message_id[37]) __attribute__((warn_unused_result));

/* Wakes a worker for message_id (XADD); best effort, after the enqueue committed. */
void cu_tasks_wake(struct cu_cache *c, struct cu_arena *a, const char *message_id);

#endif
