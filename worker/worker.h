/* What a task's actor sees, and how it says how the run went. */
#ifndef CU_WORKER_H
#define CU_WORKER_H

#include "arena.h"
#include "cache.h"
#include "config.h"
#include "db.h"

struct json_object;

enum cu_worker_outcome {
	CU_WORKER_DONE,  /* the effect happened (and is committed) */
	CU_WORKER_RETRY, /* a passing failure: run again later, with backoff */
	CU_WORKER_FAIL,  /* a permanent failure: keep the task as failed */
};

struct cu_worker_task {
	const char *wt_id; /* message_id */
	const char *wt_actor;
	const char *wt_args_text;
	struct json_object *wt_args; /* a JSON object, arena-owned */
	/* What an earlier run recorded before its effect (cu_worker_record_effect), or NULL: a
	 * run that finds one knows the effect may already have happened. */
	const char *wt_effect_text;
	const char *wt_worker_id;
	struct cu_db *wt_db;
	struct cu_cache *wt_cache;
	const struct cu_config *wt_cfg;
	struct cu_arena *wt_arena;
	const char *wt_message; /* set by the actor: the log line of a success */
	const char *wt_error;   /* set by the actor: why it failed */
};

struct cu_worker_actor {
	const char *wa_name;
	enum cu_worker_outcome (*wa_run)(struct cu_worker_task *t);
};

/* Commits json (an object's text) as the task's effect record before an outside effect. */
int cu_worker_record_effect(struct cu_worker_task *t, const char *json)
    __attribute__((warn_unused_result));

/* Certificate discovery (worker/certs_actor.c). */
enum cu_worker_outcome cu_worker_actor_certificate_discovery(struct cu_worker_task *t);

/* The mail actor (worker/mail_actor.c). */
enum cu_worker_outcome cu_worker_actor_send_mail(struct cu_worker_task *t);

/* Event notifications (worker/notify_actors.c): which rules an event triggers, then one
 * delivery per transport and recipient. */
enum cu_worker_outcome cu_worker_actor_event_trigger_dispatch(struct cu_worker_task *t);
enum cu_worker_outcome cu_worker_actor_notification_transport(struct cu_worker_task *t);

/* OAuth2 (worker/oauth2_actor.c): back-channel logout and the expiry of grants. */
#define CU_ACTOR_OAUTH2_BACKCHANNEL_LOGOUT                                                         \
	"authentik.providers.oauth2.tasks.send_backchannel_logout_request"
enum cu_worker_outcome cu_worker_actor_oauth2_backchannel_logout(struct cu_worker_task *t);

#endif
