/*
 * oauth2.fcgi: /application/o/, the OAuth 2.0 and OpenID Connect provider.
 * The prefix is routed here already; paths it does not serve answer authentik's JSON 404.
 */
#include "server.h"

static const struct cu_route routes[] = {
    {0, NULL, NULL, 0},
};

static const struct cu_app app = {"oauth2", routes, 0};

int
main(int argc, char **argv)
{
	return cu_server_main(&app, argc, argv);
}
