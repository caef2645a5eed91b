/*
 * Dummy policies (authentik's DummyPolicy, for testing the engine): a fixed result after a
 * random wait between wait_min and wait_max seconds. The wait blocks the responder, so it is
 * cut at the binding's deadline (its timeout): a wait that would pass it sleeps until the
 * deadline and the binding then counts as timed out, as in authentik.
 */
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include <openssl/rand.h>

#include "policies/kinds.h"

enum cu_policy_verdict
cu_policy_dummy_eval(struct cu_policy_eval *pe)
{
	long long lo = cu_policy_cfg_int(pe, "wait_min", 5),
	          hi = cu_policy_cfg_int(pe, "wait_max", 30);
	double wait, left;
	uint32_t r = 0;
	struct timespec ts;

	if (lo < 0)
		lo = 0;
	if (hi <= lo) {
		/* Python's randrange(a, b) raises for an empty range. */
		pe->pe_error = "empty range for randrange()";
		return CU_POLICY_ERROR;
	}
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = 0;
	wait = (double)lo + (double)(r % (uint32_t)(hi - lo));
	left = pe->pe_deadline - cu_policy_now();
	if (wait > left)
		wait = left > 0 ? left + 0.01 : 0;
	ts.tv_sec = (time_t)wait;
	ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	cu_policy_log(pe, "info", "Policy waiting");
	cu_policy_message(pe, "dummy");
	return cu_policy_cfg_bool(pe, "result", 0) ? CU_POLICY_PASS : CU_POLICY_FAIL;
}
