#include "api/root.h"

#include <json-c/json.h>

#include "json.h"
#include "server.h"

void
cu_api_root_config(struct cu_ctx *cx)
{
	const struct cu_config *cfg = cx->cx_cfg;
	struct json_object *o = cu_json_object(cx->cx_arena);
	struct json_object *er = json_object_new_object();
	struct json_object *caps = json_object_new_array();

	cu_json_set_bool(er, "enabled", cfg->error_reporting_enabled);
	/* There is no error-reporting service behind custos: the DSN stays empty. */
	cu_json_set_string(er, "sentry_dsn", "");
	cu_json_set_string(er, "environment", cfg->error_reporting_environment);
	cu_json_set_bool(er, "send_pii", cfg->error_reporting_send_pii);
	cu_json_set_double(er, "traces_sample_rate", cfg->error_reporting_sample_rate);
	cu_json_set(o, "error_reporting", er);
	/* Capabilities are added by the features that provide them (media uploads, impersonation);
	 * debug is the one this build has. */
	if (cfg->debug)
		json_object_array_add(caps, json_object_new_string("can_debug"));
	cu_json_set(o, "capabilities", caps);
	cu_json_set_int(o, "cache_timeout", cfg->cache_timeout);
	cu_json_set_int(o, "cache_timeout_flows", cfg->cache_timeout_flows);
	cu_json_set_int(o, "cache_timeout_policies", cfg->cache_timeout_policies);
	cu_ctx_json(cx, 200, o);
}
