/* /api/v3/events/events/: the audit log. */
#ifndef CU_API_EVENTS_H
#define CU_API_EVENTS_H

struct cu_ctx;

void cu_api_events_list(struct cu_ctx *cx);    /* GET  events/ */
void cu_api_events_get(struct cu_ctx *cx);     /* GET  events/{event_uuid}/ */
void cu_api_events_actions(struct cu_ctx *cx); /* GET  events/actions/ */
/* GET events/volume/: [{action, time, count}] per action per UTC day, for the events the
 * caller may list; the list's filters and search, history_days (7, held to 1..366). */
void cu_api_events_volume(struct cu_ctx *cx);
#endif
