/*
 * flow.fcgi: the flow executor (/api/v3/flows/executor/) and the flow redirects under /flows/.
 * Paths it does not serve answer authentik's JSON 404.
 */
#include "flows.h"
#include "http.h"
#include "server.h"

/* A challenge answer is small; this leaves room for a 10,000-character field and more. */
#define FLOW_MAX_BODY 65536

static const struct cu_route routes[] = {
    {CU_HTTP_GET | CU_HTTP_POST, "/api/v3/flows/executor/{slug}/", cu_flows_executor,
     FLOW_MAX_BODY},
    {CU_HTTP_GET, "/flows/-/default/authentication/", cu_flows_default_authentication, 0},
    {CU_HTTP_GET, "/flows/-/default/invalidation/", cu_flows_default_invalidation, 0},
    {CU_HTTP_GET, "/flows/-/cancel/", cu_flows_cancel, 0},
    {CU_HTTP_GET, "/flows/-/configure/{stage_uuid}/", cu_flows_configure, 0},
};

static const struct cu_app app = {"flow", routes, sizeof(routes) / sizeof(routes[0]), NULL};

int
main(int argc, char **argv)
{
	return cu_server_main(&app, argc, argv);
}
