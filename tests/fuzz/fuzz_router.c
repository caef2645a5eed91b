/*
 * cu_router_match against a fixed table. The first byte picks the method (0 included), the
 * rest is the path. A match must be explainable from the pattern: parameters are non-empty
 * parts of the path, one segment each except the tail.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "http.h"
#include "bounds.h"
#include "router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
handler(struct cu_ctx *cx)
{
	(void)cx;
}

static const struct cu_route routes[] = {
    {CU_HTTP_GET, "/", handler, 0},
    {CU_HTTP_GET, "/-/health/live/", handler, 0},
    {CU_HTTP_GET | CU_HTTP_POST, "/api/v3/core/users/", handler, 0},
    {CU_HTTP_GET, "/api/v3/core/users/{id}/", handler, 0},
    {CU_HTTP_PUT | CU_HTTP_PATCH | CU_HTTP_DELETE, "/api/v3/core/users/{id}/", handler, 0},
    {CU_HTTP_GET | CU_HTTP_POST, "/api/v3/flows/executor/{slug}/", handler, 0},
    {CU_HTTP_GET, "/api/v3/core/groups/{group}/users/{user}/", handler, 0},
    {CU_HTTP_POST, "/application/o/token/", handler, 0},
    {CU_HTTP_GET, "/application/o/{app}/.well-known/openid-configuration", handler, 0},
    {CU_HTTP_GET, "/static/{path*}", handler, 0},
    {CU_HTTP_GET, "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h*}", handler, 0},
    {CU_HTTP_OPTIONS, "/{any*}", handler, 0},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static unsigned
methods_of(const struct cu_route *r)
{
	return r->rt_methods | ((r->rt_methods & CU_HTTP_GET) ? CU_HTTP_HEAD : 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cu_arena a;
	struct cu_route_match m;
	unsigned method = 0;
	char *path;
	size_t i;
	enum cu_err err;

	if (size == 0)
		return 0;
	if (data[0] % 8 != 7)
		method = 1u << (data[0] % 8);
	cu_arena_init(&a);
	path =
	    cu_arena_strndup(&a, (const char *)data + 1, strnlen((const char *)data + 1, size - 1));
	err = cu_router_match(routes, NROUTES, method, path, &a, &m);
	switch (err) {
	case CU_OK:
		if (m.rm_route < routes || m.rm_route >= routes + NROUTES)
			abort();
		if (!(methods_of(m.rm_route) & method) || m.rm_allowed != 0)
			abort();
		if (m.rm_nparams > CU_ROUTER_MAX_PARAMS || path[0] != '/')
			abort();
		for (i = 0; i < m.rm_nparams; i++) {
			const char *v = m.rm_params[i].rp_value;
			size_t vlen = strlen(v);

			if (vlen == 0 || strstr(path, v) == NULL ||
			    m.rm_params[i].rp_name[0] == '\0')
				abort();
			if (i + 1 < m.rm_nparams &&
			    (strchr(v, '/') != NULL || vlen > CU_ROUTER_MAX_SEGMENT))
				abort();
			if (cu_route_param(&m, m.rm_params[i].rp_name) == NULL)
				abort();
		}
		break;
	case CU_ERR_METHOD:
		if (m.rm_route != NULL || m.rm_allowed == 0 || (m.rm_allowed & method) != 0)
			abort();
		if (cu_router_allow(&a, m.rm_allowed)[0] == '\0')
			abort();
		break;
	case CU_ERR_NOT_FOUND:
		if (m.rm_route != NULL || m.rm_allowed != 0)
			abort();
		/* The catch-all OPTIONS route takes every non-empty path after '/'. */
		if (path[0] == '/' && path[1] != '\0')
			abort();
		break;
	default:
		abort();
	}
	cu_arena_free(&a);
	return 0;
}
