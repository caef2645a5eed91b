/* /api/v3/core/groups/: groups, their parents and members. */
#ifndef CU_API_GROUPS_H
#define CU_API_GROUPS_H

struct cu_ctx;

void cu_api_groups_list(struct cu_ctx *cx);        /* GET  groups/ */
void cu_api_groups_create(struct cu_ctx *cx);      /* POST groups/ */
void cu_api_groups_get(struct cu_ctx *cx);         /* GET  groups/{group_uuid}/ */
void cu_api_groups_update(struct cu_ctx *cx);      /* PUT, PATCH groups/{group_uuid}/ */
void cu_api_groups_delete(struct cu_ctx *cx);      /* DELETE groups/{group_uuid}/ */
void cu_api_groups_add_user(struct cu_ctx *cx);    /* POST groups/{group_uuid}/add_user/ */
void cu_api_groups_remove_user(struct cu_ctx *cx); /* POST groups/{group_uuid}/remove_user/ */
#endif
