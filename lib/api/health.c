#include "api/health.h"

#include <string.h>

#include <hiredis/hiredis.h>

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
	const char *ping[] = {"PING"};
	struct redisReply *pong = NULL;
	int pg_ok, redis_ok, sent;
	const char *detail;

	/* The Redis PING travels while PostgreSQL answers; a PING that did not make it is tried
	 * again the ordinary way, which reconnects. */
	sent = cu_cache_send(cx->cx_cache, 1, ping, NULL) == CU_OK;
	pg_ok = cu_db_exec(cx->cx_db, cx->cx_arena, NULL, CU_DB_STMT_PING, 0, NULL) == CU_OK;
	redis_ok = sent && cu_cache_recv(cx->cx_cache, cx->cx_arena, &pong) == CU_OK &&
	           pong->type == REDIS_REPLY_STATUS && strcmp(pong->str, "PONG") == 0;
	if (!redis_ok)
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
