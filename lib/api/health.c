#include "api/health.h"

#include "json.h"
#include "log.h"
#include "server.h"

void
cu_api_health_live(struct cu_ctx *cx)
{
	struct json_object *o = cu_json_object(cx->cx_arena);

	cu_json_set_string(o, "status", "ok");
	cu_ctx_json(cx, 200, o);
}

void
cu_api_health_ready(struct cu_ctx *cx)
{
	struct json_object *o = cu_json_object(cx->cx_arena);
	int pg_ok, redis_ok;
	const char *detail;

	pg_ok = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_PING, 0, NULL) == CU_OK;
	redis_ok = cu_cache_ping(cx->cx_cache) == CU_OK;
	cu_json_set_string(o, "postgresql", pg_ok ? "ok" : "unavailable");
	cu_json_set_string(o, "redis", redis_ok ? "ok" : "unavailable");
	if (pg_ok && redis_ok) {
		cu_json_set_string(o, "status", "ready");
		cu_ctx_json(cx, 200, o);
		return;
	}
	if (!pg_ok && !redis_ok)
		detail = "PostgreSQL and Redis are unavailable.";
	else if (!pg_ok)
		detail = "PostgreSQL is unavailable.";
	else
		detail = "Redis is unavailable.";
	cu_json_set_string(o, "status", "unavailable");
	cu_json_set_string(o, "detail", detail);
	cu_log(CU_LOG_WARNING, "not_ready", CU_LS("msg", detail));
	cu_ctx_json(cx, 503, o);
}
