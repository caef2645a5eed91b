/* /api/v3/root/: what the web interfaces read before anything else. */
#ifndef CU_API_ROOT_H
#define CU_API_ROOT_H

struct cu_ctx;

/* GET /api/v3/root/config/: authentik's Config object (error reporting, capabilities, cache
 * timeouts). Public, like authentik's. */
void cu_api_root_config(struct cu_ctx *cx);

#endif
