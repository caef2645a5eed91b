/*
 * /api/v3/policies/: every policy (all/, with a test action), each kind's own endpoints, the
 * reputation scores, and bindings.
 */
#ifndef CU_API_POLICIES_H
#define CU_API_POLICIES_H

struct cu_ctx;

void cu_api_policies_all_list(struct cu_ctx *cx);   /* GET  all/ */
void cu_api_policies_all_types(struct cu_ctx *cx);  /* GET  all/types/ */
void cu_api_policies_all_get(struct cu_ctx *cx);    /* GET  all/{policy_uuid}/ */
void cu_api_policies_all_delete(struct cu_ctx *cx); /* DELETE all/{policy_uuid}/ */
void cu_api_policies_all_test(struct cu_ctx *cx);   /* POST all/{policy_uuid}/test/ */
void cu_api_policies_em_list(struct cu_ctx *cx);    /* GET  event_matcher/ */
void cu_api_policies_em_create(struct cu_ctx *cx);  /* POST event_matcher/ */
void cu_api_policies_em_get(struct cu_ctx *cx);     /* GET  event_matcher/{policy_uuid}/ */
void cu_api_policies_em_update(struct cu_ctx *cx);  /* PUT, PATCH event_matcher/{policy_uuid}/ */
void cu_api_policies_em_delete(struct cu_ctx *cx);  /* DELETE event_matcher/{policy_uuid}/ */
/* expression/, password/, password_expiry/, reputation/, unique_password/, dummy/: the kind is
 * the path's segment after /api/v3/policies/. */
void cu_api_policies_kind_list(struct cu_ctx *cx);   /* GET  <kind>/ */
void cu_api_policies_kind_create(struct cu_ctx *cx); /* POST <kind>/ */
void cu_api_policies_kind_get(struct cu_ctx *cx);    /* GET  <kind>/{policy_uuid}/ */
void cu_api_policies_kind_update(struct cu_ctx *cx); /* PUT, PATCH <kind>/{policy_uuid}/ */
void cu_api_policies_kind_delete(struct cu_ctx *cx); /* DELETE <kind>/{policy_uuid}/ */
void cu_api_policies_reputation_scores_list(struct cu_ctx *cx);   /* GET reputation/scores/ */
void cu_api_policies_reputation_scores_delete(struct cu_ctx *cx); /* DELETE .../{pk}/ */
void cu_api_policies_bindings_list(struct cu_ctx *cx);            /* GET  bindings/ */
void cu_api_policies_bindings_create(struct cu_ctx *cx);          /* POST bindings/ */
void cu_api_policies_bindings_get(struct cu_ctx *cx);    /* GET  bindings/{policy_binding_uuid}/ */
void cu_api_policies_bindings_update(struct cu_ctx *cx); /* PUT, PATCH bindings/{...}/ */
void cu_api_policies_bindings_delete(struct cu_ctx *cx); /* DELETE bindings/{...}/ */

#endif
