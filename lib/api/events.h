/* /api/v3/events/events/: the audit log. */
#ifndef CU_API_EVENTS_H
#define CU_API_EVENTS_H

struct cu_ctx;

void cu_api_events_list(struct cu_ctx *cx);    /* GET  events/ */
void cu_api_events_get(struct cu_ctx *cx);     /* GET  events/{event_uuid}/ */
void cu_api_events_actions(struct cu_ctx *cx); /* GET  events/actions/ */
#endif
