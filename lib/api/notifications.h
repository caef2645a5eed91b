/* /api/v3/events/rules/, transports/ and notifications/: who is told of which events, how. */
#ifndef CU_API_NOTIFICATIONS_H
#define CU_API_NOTIFICATIONS_H

struct cu_ctx;

void cu_api_rules_list(struct cu_ctx *cx);                  /* GET  rules/ */
void cu_api_rules_create(struct cu_ctx *cx);                /* POST rules/ */
void cu_api_rules_get(struct cu_ctx *cx);                   /* GET  rules/{pbm_uuid}/ */
void cu_api_rules_update(struct cu_ctx *cx);                /* PUT, PATCH rules/{pbm_uuid}/ */
void cu_api_rules_delete(struct cu_ctx *cx);                /* DELETE rules/{pbm_uuid}/ */
void cu_api_transports_list(struct cu_ctx *cx);             /* GET  transports/ */
void cu_api_transports_create(struct cu_ctx *cx);           /* POST transports/ */
void cu_api_transports_get(struct cu_ctx *cx);              /* GET  transports/{uuid}/ */
void cu_api_transports_update(struct cu_ctx *cx);           /* PUT, PATCH transports/{uuid}/ */
void cu_api_transports_delete(struct cu_ctx *cx);           /* DELETE transports/{uuid}/ */
void cu_api_transports_test(struct cu_ctx *cx);             /* POST transports/{uuid}/test/ */
void cu_api_notifications_list(struct cu_ctx *cx);          /* GET  notifications/ */
void cu_api_notifications_get(struct cu_ctx *cx);           /* GET  notifications/{uuid}/ */
void cu_api_notifications_update(struct cu_ctx *cx);        /* PUT, PATCH notifications/{uuid}/ */
void cu_api_notifications_delete(struct cu_ctx *cx);        /* DELETE notifications/{uuid}/ */
void cu_api_notifications_mark_all_seen(struct cu_ctx *cx); /* POST notifications/mark_all_seen/ */

#endif
