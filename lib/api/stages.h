/*
 * /api/v3/stages/: every stage together (all/), each kind's own CRUD, prompts and invitations;
 * /api/v3/core/user_consent/.
 */
#ifndef CU_API_STAGES_H
#define CU_API_STAGES_H

struct cu_ctx;
struct json_object;

void cu_api_stages_all_list(struct cu_ctx *cx);   /* GET  all/ */
void cu_api_stages_all_types(struct cu_ctx *cx);  /* GET  all/types/ */
void cu_api_stages_all_get(struct cu_ctx *cx);    /* GET  all/{stage_uuid}/ */
void cu_api_stages_all_delete(struct cu_ctx *cx); /* DELETE all/{stage_uuid}/ */
/* GET all/user_settings/: the settings pages (a password change) stages offer the user. */
void cu_api_stages_all_user_settings(struct cu_ctx *cx);

/* One kind's CRUD (identification/, password/, ..., prompt/stages/, invitation/stages/): the
 * kind is the one whose path the request is under. */
void cu_api_stages_kind_list(struct cu_ctx *cx);   /* GET  <kind>/ */
void cu_api_stages_kind_create(struct cu_ctx *cx); /* POST <kind>/ */
void cu_api_stages_kind_get(struct cu_ctx *cx);    /* GET  <kind>/{stage_uuid}/ */
void cu_api_stages_kind_update(struct cu_ctx *cx); /* PUT, PATCH <kind>/{stage_uuid}/ */
void cu_api_stages_kind_delete(struct cu_ctx *cx); /* DELETE <kind>/{stage_uuid}/ */

void cu_api_stages_email_templates(struct cu_ctx *cx); /* GET  email/templates/ */

void cu_api_stages_prompts_list(struct cu_ctx *cx);   /* GET  prompt/prompts/ */
void cu_api_stages_prompts_create(struct cu_ctx *cx); /* POST prompt/prompts/ */
void cu_api_stages_prompts_get(struct cu_ctx *cx);    /* GET  prompt/prompts/{prompt_uuid}/ */
void cu_api_stages_prompts_update(struct cu_ctx *cx); /* PUT, PATCH prompt/prompts/{...}/ */
void cu_api_stages_prompts_delete(struct cu_ctx *cx); /* DELETE prompt/prompts/{...}/ */

void cu_api_stages_invitations_list(struct cu_ctx *cx);   /* GET  invitation/invitations/ */
void cu_api_stages_invitations_create(struct cu_ctx *cx); /* POST invitation/invitations/ */
void cu_api_stages_invitations_get(struct cu_ctx *cx);    /* GET  invitation/invitations/{..}/ */
void cu_api_stages_invitations_update(struct cu_ctx *cx); /* PUT, PATCH invitation/... */
void cu_api_stages_invitations_delete(struct cu_ctx *cx); /* DELETE invitation/... */

void cu_api_stages_consents_list(struct cu_ctx *cx);   /* GET  /core/user_consent/ */
void cu_api_stages_consents_get(struct cu_ctx *cx);    /* GET  /core/user_consent/{id}/ */
void cu_api_stages_consents_delete(struct cu_ctx *cx); /* DELETE /core/user_consent/{id}/ */

/*
 * Checks body as a create of the kind whose model name is type does, every check but the
 * references (they need the database): 0 with *config the config that would be stored, 1 with
 * *errors DRF's field errors, -1 for a type no kind has. Both arena-owned; of cx only cx_arena
 * is used. The unit tests and the fuzz target drive the validation through it.
 */
int cu_api_stages_read_body(struct cu_ctx *cx, const char *type, struct json_object *body,
                            struct json_object **config, struct json_object **errors)
    __attribute__((warn_unused_result));

#endif
