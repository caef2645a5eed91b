/*
 * outpost.fcgi: /outpost.goauthentik.io/, the embedded outpost's forward-auth endpoints.
 * The prefix is routed here already; paths it does not serve answer authentik's JSON 404.
 */
#include "server.h"

static const struct cu_route routes[] = {
    {0, NULL, NULL, 0},
};

static const struct cu_app app = {"outpost", routes, 0, NULL};

int
main(int argc, char **argv)
{
	return cu_server_main(&app, argc, argv);
}
