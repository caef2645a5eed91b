/*
 * api.fcgi: /api/v3/ (except the flow executor) and /-/health/.
 * Each route names the lib/api/ module that serves it.
 */
#include "api/health.h"
#include "api/root.h"
#include "http.h"
#include "server.h"

static const struct cu_route routes[] = {
    {CU_HTTP_GET, "/-/health/live/", cu_api_health_live, 0},
    {CU_HTTP_GET, "/-/health/ready/", cu_api_health_ready, 0},
    {CU_HTTP_GET, "/api/v3/root/config/", cu_api_root_config, 0},
};

static const struct cu_app app = {"api", routes, sizeof(routes) / sizeof(routes[0])};

int
main(int argc, char **argv)
{
	return cu_server_main(&app, argc, argv);
}
