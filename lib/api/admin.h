/* /api/v3/admin/ and /api/v3/schema/: version, system information, and the OpenAPI document of what
 * custos serves. */
#ifndef CU_API_ADMIN_H
#define CU_API_ADMIN_H

struct cu_ctx;

void cu_api_admin_version(struct cu_ctx *cx); /* GET admin/version/ */
void cu_api_admin_system(struct cu_ctx *cx);  /* GET, POST admin/system/ */
void cu_api_schema(struct cu_ctx *cx);        /* GET schema/ */
#endif
