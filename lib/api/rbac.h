/* /api/v3/rbac/: roles, the permissions that exist, and which roles hold which. */
#ifndef CU_API_RBAC_H
#define CU_API_RBAC_H

struct cu_ctx;

void cu_api_rbac_roles_list(struct cu_ctx *cx);        /* GET  roles/ */
void cu_api_rbac_roles_create(struct cu_ctx *cx);      /* POST roles/ */
void cu_api_rbac_roles_get(struct cu_ctx *cx);         /* GET  roles/{uuid}/ */
void cu_api_rbac_roles_update(struct cu_ctx *cx);      /* PUT, PATCH roles/{uuid}/ */
void cu_api_rbac_roles_delete(struct cu_ctx *cx);      /* DELETE roles/{uuid}/ */
void cu_api_rbac_roles_add_user(struct cu_ctx *cx);    /* POST roles/{uuid}/add_user/ */
void cu_api_rbac_roles_remove_user(struct cu_ctx *cx); /* POST roles/{uuid}/remove_user/ */
void cu_api_rbac_permissions_list(struct cu_ctx *cx);  /* GET  permissions/ */
void cu_api_rbac_permissions_get(struct cu_ctx *cx);   /* GET  permissions/{id}/ */
void cu_api_rbac_assigned_by_roles(struct cu_ctx *cx); /* GET  permissions/assigned_by_roles/ */
void cu_api_rbac_assign(struct cu_ctx *cx); /* POST permissions/assigned_by_roles/{uuid}/assign/ */
void
cu_api_rbac_unassign(struct cu_ctx *cx); /* PATCH permissions/assigned_by_roles/{uuid}/unassign/ */
#endif
