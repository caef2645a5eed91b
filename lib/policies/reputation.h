/* Reputation keys in Redis (lib/policies/reputation.c), shared with the API's scores list. */
#ifndef CU_POLICIES_REPUTATION_H
#define CU_POLICIES_REPUTATION_H

struct cu_arena;

#define CU_REPUTATION_PREFIX "custos:reputation:"
#define CU_REPUTATION_CAP 1000
#define CU_REPUTATION_MAX_VALUE 256

/* "custos:reputation:<kind>:<value>" (kind "ip" or "user"), arena-owned; NULL for an empty or
 * too long value. */
const char *cu_reputation_key(struct cu_arena *a, const char *kind, const char *value);

#endif
