/* /api/v3/core/users/: users, the signed-in user, passwords, recovery links, paths, service
 * accounts. */
#ifndef CU_API_USERS_H
#define CU_API_USERS_H

struct cu_ctx;

void cu_api_users_list(struct cu_ctx *cx);            /* GET  users/ */
void cu_api_users_create(struct cu_ctx *cx);          /* POST users/ */
void cu_api_users_get(struct cu_ctx *cx);             /* GET  users/{id}/ */
void cu_api_users_update(struct cu_ctx *cx);          /* PUT, PATCH users/{id}/ */
void cu_api_users_delete(struct cu_ctx *cx);          /* DELETE users/{id}/ */
void cu_api_users_me(struct cu_ctx *cx);              /* GET  users/me/ */
void cu_api_users_set_password(struct cu_ctx *cx);    /* POST users/{id}/set_password/ */
void cu_api_users_recovery(struct cu_ctx *cx);        /* POST users/{id}/recovery/ */
void cu_api_users_recovery_email(struct cu_ctx *cx);  /* POST users/{id}/recovery_email/ */
void cu_api_users_paths(struct cu_ctx *cx);           /* GET  users/paths/ */
void cu_api_users_service_account(struct cu_ctx *cx); /* POST users/service_account/ */
#endif
