/* /api/v3/flows/instances/ (flows by slug) and /api/v3/flows/bindings/ (flow stage bindings). */
#ifndef CU_API_FLOWS_H
#define CU_API_FLOWS_H

struct cu_ctx;

void cu_api_flows_list(struct cu_ctx *cx);    /* GET  instances/ */
void cu_api_flows_create(struct cu_ctx *cx);  /* POST instances/ */
void cu_api_flows_get(struct cu_ctx *cx);     /* GET  instances/{slug}/ */
void cu_api_flows_update(struct cu_ctx *cx);  /* PUT, PATCH instances/{slug}/ */
void cu_api_flows_delete(struct cu_ctx *cx);  /* DELETE instances/{slug}/ */
void cu_api_flows_execute(struct cu_ctx *cx); /* GET  instances/{slug}/execute/ */

void cu_api_flow_bindings_list(struct cu_ctx *cx);   /* GET  bindings/ */
void cu_api_flow_bindings_create(struct cu_ctx *cx); /* POST bindings/ */
void cu_api_flow_bindings_get(struct cu_ctx *cx);    /* GET  bindings/{fsb_uuid}/ */
void cu_api_flow_bindings_update(struct cu_ctx *cx); /* PUT, PATCH bindings/{fsb_uuid}/ */
void cu_api_flow_bindings_delete(struct cu_ctx *cx); /* DELETE bindings/{fsb_uuid}/ */

#endif
