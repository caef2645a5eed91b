/* /api/v3/tasks/: system tasks (runs of background work), their schedules, and live workers. */
#ifndef CU_API_TASKS_H
#define CU_API_TASKS_H

struct cu_ctx;

void cu_api_tasks_list(struct cu_ctx *cx);             /* GET  tasks/tasks/ */
void cu_api_tasks_get(struct cu_ctx *cx);              /* GET  tasks/tasks/{message_id}/ */
void cu_api_tasks_status(struct cu_ctx *cx);           /* GET  tasks/tasks/status/ */
void cu_api_tasks_retry(struct cu_ctx *cx);            /* POST tasks/tasks/{message_id}/retry/ */
void cu_api_tasks_schedules_list(struct cu_ctx *cx);   /* GET  tasks/schedules/ */
void cu_api_tasks_schedules_get(struct cu_ctx *cx);    /* GET  tasks/schedules/{id}/ */
void cu_api_tasks_schedules_update(struct cu_ctx *cx); /* PUT, PATCH tasks/schedules/{id}/ */
void cu_api_tasks_schedules_send(struct cu_ctx *cx);   /* POST tasks/schedules/{id}/send/ */
void cu_api_tasks_workers(struct cu_ctx *cx);          /* GET  tasks/workers */

#endif
