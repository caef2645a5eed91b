/*
 * Password expiry policies (authentik's PasswordExpiryPolicy): a password changed `days` or
 * more days ago fails. Without deny_only the password is also made unusable ('!' before the
 * hash, which no password verifies against) so that the user must set a new one through
 * recovery, as authentik's set_unusable_password; the test endpoint never writes.
 */
#include <math.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "db.h"
#include "json.h"
#include "log.h"
#include "policies/engine.h"
#include "policies/kinds.h"
#include "server.h"

enum cu_policy_verdict
cu_policy_password_expiry_eval(struct cu_policy_eval *pe)
{
	long long days = cu_policy_cfg_int(pe, "days", 0);
	struct json_object *v = NULL;
	const char *pk = NULL;
	struct timespec now;
	double changed, age;
	long long actual, since;

	if (pe->pe_user == NULL ||
	    !json_object_object_get_ex(pe->pe_user, "password_change_date", &v) || v == NULL) {
		pe->pe_error = "Password expiry needs a user";
		return CU_POLICY_ERROR;
	}
	changed = json_object_get_double(v);
	clock_gettime(CLOCK_REALTIME, &now);
	age = (double)now.tv_sec + (double)now.tv_nsec / 1e9 - changed;
	/* Python's timedelta.days: whole days, rounded down. */
	actual = (long long)floor(age / 86400.0);
	since = (long long)floor((age - (double)days * 86400.0) / 86400.0);
	if (actual < days)
		return CU_POLICY_PASS;
	if (cu_policy_cfg_bool(pe, "deny_only", 0)) {
		cu_policy_message(pe, "Password has expired.");
		return CU_POLICY_FAIL;
	}
	if (!pe->pe_debug && pe->pe_cx != NULL &&
	    json_object_object_get_ex(pe->pe_user, "pk", &v) && v != NULL) {
		pk = json_object_get_string(v);
		if (cu_db_exec(pe->pe_cx->cx_db, pe->pe_arena, NULL,
		               CU_DB_STMT_POLICY_ENGINE_EXPIRE_PASSWORD, 1, &pk) != CU_OK) {
			pe->pe_error = "Cannot expire the password";
			return CU_POLICY_ERROR;
		}
		cu_log(CU_LOG_INFO, "password_expired", CU_LS("user", pk), CU_LI("days", days));
	}
	cu_policy_message(pe, cu_arena_printf(pe->pe_arena,
	                                      "Password expired %lld days ago. Please update your "
	                                      "password.",
	                                      since));
	return CU_POLICY_FAIL;
}
