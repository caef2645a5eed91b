/*
 * Password uniqueness policies (authentik's UniquePasswordPolicy): the new password must not
 * verify against any of the user's last num_historical_passwords hashes. The history holds the
 * hash of every password set while such a policy exists, the current one included
 * (sql/0051_policy_kinds.sql), so the password in use counts as used.
 */
#include <string.h>

#include <json-c/json.h>

#include "../password.h" /* lib/password.h, not this folder's password policy header */
#include "policies/kinds.h"

enum cu_policy_verdict
cu_policy_unique_password_eval(struct cu_policy_eval *pe)
{
	const char *field = cu_policy_cfg_string(pe, "password_field", "password");
	const char *password = cu_policy_password_from_context(pe, field);
	size_t i, n;

	if (password == NULL) {
		cu_policy_log(pe, "warning",
		              "Password field not found in request when checking "
		              "UniquePasswordPolicy");
		cu_policy_message(pe, "Password not set in context");
		return CU_POLICY_FAIL;
	}
	if (cu_policy_cfg_int(pe, "num_historical_passwords", 1) <= 0 || pe->pe_history == NULL ||
	    !json_object_is_type(pe->pe_history, json_type_array))
		return CU_POLICY_PASS;
	n = json_object_array_length(pe->pe_history);
	for (i = 0; i < n; i++) {
		const char *hash =
		    json_object_get_string(json_object_array_get_idx(pe->pe_history, i));

		if (hash == NULL || hash[0] == '\0')
			continue;
		/* Any verdict but a mismatch means the password is that one (a rehash verdict
		 * only says the old hash is weaker). */
		if (cu_password_verify(hash, password, strlen(password), NULL) !=
		    CU_PASSWORD_MISMATCH) {
			cu_policy_message(pe,
			                  "This password has been used previously. Please choose "
			                  "a different one.");
			return CU_POLICY_FAIL;
		}
	}
	return CU_POLICY_PASS;
}
