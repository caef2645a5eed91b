#include "api/admin.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "api/common.h"
#include "http.h"
#include "json.h"
#include "server.h"
#include "version.h"

extern const char cu_api_schema_doc[];
extern const size_t cu_api_schema_len;

void
cu_api_admin_version(struct cu_ctx *cx)
{
	struct json_object *o;

	if (cu_api_login(cx) != 0)
		return;
	o = cu_json_object(cx->cx_arena);
	cu_json_set_string(o, "version_current", CU_VERSION);
	/* custos never calls home for updates (authentik's disable_update_check). */
	cu_json_set_string(o, "version_latest", CU_VERSION);
	cu_json_set_bool(o, "version_latest_valid", 0);
	cu_json_set_string(o, "build_hash", CU_BUILD_HASH);
	cu_json_set_bool(o, "outdated", 0);
	cu_json_set_bool(o, "outpost_outdated", 0);
	cu_ctx_json(cx, 200, o);
}

/* Request headers as the request carried them, less the ones that hold credentials. */
static struct json_object *
safe_headers(struct cu_ctx *cx)
{
	struct json_object *h = json_object_new_object();
	size_t i;

	for (i = 0; i < cx->cx_req->rq_nheaders; i++) {
		const struct cu_kv *kv = &cx->cx_req->rq_headers[i];

		if (strcmp(kv->kv_key, "authorization") == 0 || strcmp(kv->kv_key, "cookie") == 0 ||
		    strstr(kv->kv_key, "token") != NULL)
			continue;
		cu_json_set_string(h, kv->kv_key, kv->kv_val);
	}
	return h;
}

void
cu_api_admin_system(struct cu_ctx *cx)
{
	struct json_object *o, *rt;
	struct utsname un;
	char now[32], uname_text[512];
	time_t t = time(NULL);
	struct tm tm;

	if (cu_api_login(cx) != 0 ||
	    cu_api_require(cx, "authentik_rbac.view_system_info", NULL) != 0)
		return;
	o = cu_json_object(cx->cx_arena);
	cu_json_set(o, "http_headers", safe_headers(cx));
	cu_json_set_string(o, "http_host", cx->cx_req->rq_host);
	cu_json_set_bool(o, "http_is_secure", cx->cx_req->rq_https);
	rt = json_object_new_object();
	if (uname(&un) != 0)
		memset(&un, 0, sizeof(un));
	snprintf(uname_text, sizeof(uname_text), "%s %s %s %s", un.sysname, un.nodename, un.release,
	         un.machine);
	/* authentik reports its Python; custos has none, and says which C library it runs on. */
	cu_json_set_string(rt, "python_version", "");
	cu_json_set_string(rt, "environment", "custos");
	cu_json_set_string(rt, "architecture", un.machine);
	cu_json_set_string(rt, "platform", un.sysname);
	cu_json_set_string(rt, "uname", uname_text);
	cu_json_set_string(rt, "openssl_version", OpenSSL_version(OPENSSL_VERSION));
	cu_json_set_bool(rt, "openssl_fips_enabled", EVP_default_properties_is_fips_enabled(NULL));
	cu_json_set_string(rt, "authentik_version", CU_VERSION);
	cu_json_set(o, "runtime", rt);
	cu_json_set_string(o, "brand", cx->cx_req->rq_host);
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cu_json_set_string(o, "server_time", now);
	cu_json_set_bool(o, "embedded_outpost_disabled", 0);
	cu_json_set_string(o, "embedded_outpost_host", "");
	cu_ctx_json(cx, 200, o);
}

void
cu_api_schema(struct cu_ctx *cx)
{
	/* JSON is YAML too, so one text answers both ?format=json and the YAML default. */
	const char *fmt = cu_http_arg(cx->cx_req, "format");
	const char *ctype = fmt != NULL && strcmp(fmt, "json") == 0
	                        ? "application/vnd.oai.openapi+json"
	                        : "application/vnd.oai.openapi";

	cu_http_send_text(cx->cx_resp, 200, ctype, cu_api_schema_doc, cu_api_schema_len);
}
