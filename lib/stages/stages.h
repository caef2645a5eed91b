/*
 * The stage kinds (lib/stages/<kind>.c), each a struct cu_stage_type (flows.h). Every kind reads
 * its fields from the stage's config with authentik's names and defaults
 * (../shared/reference/authentik.md §4).
 */
#ifndef CU_STAGES_STAGES_H
#define CU_STAGES_STAGES_H

#include "flows.h"

extern const struct cu_stage_type cu_stage_identification; /* identificationstage */
extern const struct cu_stage_type cu_stage_password;       /* passwordstage */
extern const struct cu_stage_type cu_stage_user_login;     /* userloginstage */
extern const struct cu_stage_type cu_stage_user_logout;    /* userlogoutstage */
extern const struct cu_stage_type cu_stage_deny;           /* denystage */
extern const struct cu_stage_type cu_stage_dummy;          /* dummystage */
extern const struct cu_stage_type cu_stage_redirect;       /* redirectstage */
extern const struct cu_stage_type cu_stage_consent;        /* consentstage */
extern const struct cu_stage_type cu_stage_prompt;         /* promptstage */
extern const struct cu_stage_type cu_stage_user_write;     /* userwritestage */
extern const struct cu_stage_type cu_stage_invitation;     /* invitationstage */
extern const struct cu_stage_type cu_stage_email;          /* emailstage */

#endif
