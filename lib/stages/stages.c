/*
 * The kinds of stage the executor knows, by their model name in stages.type. Each kind lives in
 * its own file of this folder and exports one struct cu_stage_type.
 */
#include <string.h>

#include "flows.h"
#include "stages/stages.h"
#include "providers/oauth2_endpoints.h"
#include "providers/saml_endpoints.h"

static const struct cu_stage_type *const kinds[] = {
    &cu_stage_identification,
    &cu_stage_password,
    &cu_stage_user_login,
    &cu_stage_user_logout,
    &cu_stage_deny,
    &cu_stage_dummy,
    &cu_stage_redirect,
    &cu_stage_consent,
    &cu_stage_prompt,
    &cu_stage_user_write,
    &cu_stage_invitation,
    &cu_stage_email,
    &cu_stage_oauth2_fulfillment,
    &cu_stage_oauth2_device_code,
    &cu_stage_saml_fulfillment,
    &cu_stage_saml_logout,
};

const struct cu_stage_type *
cu_stage_type_find(const char *type)
{
	size_t i;

	if (type == NULL)
		return NULL;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i]->st_type, type) == 0)
			return kinds[i];
	return NULL;
}
