/* /api/v3/core/applications/: applications by slug. */
#ifndef CU_API_APPLICATIONS_H
#define CU_API_APPLICATIONS_H

struct cu_ctx;

void cu_api_applications_list(struct cu_ctx *cx);   /* GET  applications/ */
void cu_api_applications_create(struct cu_ctx *cx); /* POST applications/ */
void cu_api_applications_get(struct cu_ctx *cx);    /* GET  applications/{slug}/ */
void cu_api_applications_update(struct cu_ctx *cx); /* PUT, PATCH applications/{slug}/ */
void cu_api_applications_delete(struct cu_ctx *cx); /* DELETE applications/{slug}/ */
void
cu_api_applications_check_access(struct cu_ctx *cx); /* GET  applications/{slug}/check_access/ */
#endif
