/* /-/health/: liveness and readiness probes, as authentik serves them. */
#ifndef CU_API_HEALTH_H
#define CU_API_HEALTH_H

struct cu_ctx;

/* GET /-/health/live/: 200 while the process serves; touches no back end. */
void cu_api_health_live(struct cu_ctx *cx);
/* GET /-/health/ready/: 200 when PostgreSQL and Redis answer, else 503 naming what is down. */
void cu_api_health_ready(struct cu_ctx *cx);

#endif
