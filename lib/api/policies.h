/* /api/v3/policies/: policies (event matcher so far), all policies together, and bindings. */
#ifndef CU_API_POLICIES_H
#define CU_API_POLICIES_H

struct cu_ctx;

void cu_api_policies_all_list(struct cu_ctx *cx);      /* GET  all/ */
void cu_api_policies_all_types(struct cu_ctx *cx);     /* GET  all/types/ */
void cu_api_policies_all_get(struct cu_ctx *cx);       /* GET  all/{policy_uuid}/ */
void cu_api_policies_all_delete(struct cu_ctx *cx);    /* DELETE all/{policy_uuid}/ */
void cu_api_policies_em_list(struct cu_ctx *cx);       /* GET  event_matcher/ */
void cu_api_policies_em_create(struct cu_ctx *cx);     /* POST event_matcher/ */
void cu_api_policies_em_get(struct cu_ctx *cx);        /* GET  event_matcher/{policy_uuid}/ */
void cu_api_policies_em_update(struct cu_ctx *cx);     /* PUT, PATCH event_matcher/{policy_uuid}/ */
void cu_api_policies_em_delete(struct cu_ctx *cx);     /* DELETE event_matcher/{policy_uuid}/ */
void cu_api_policies_bindings_list(struct cu_ctx *cx); /* GET  bindings/ */
void cu_api_policies_bindings_create(struct cu_ctx *cx); /* POST bindings/ */
void cu_api_policies_bindings_get(struct cu_ctx *cx);    /* GET  bindings/{policy_binding_uuid}/ */
void cu_api_policies_bindings_update(struct cu_ctx *cx); /* PUT, PATCH bindings/{...}/ */
void cu_api_policies_bindings_delete(struct cu_ctx *cx); /* DELETE bindings/{...}/ */

#endif
