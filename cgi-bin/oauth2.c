/*
 * oauth2.fcgi: /application/o/, the OAuth 2.0 and OpenID Connect provider, plus /device and
 * /.well-known/oauth-authorization-server/. Each handler's file is named in
 * lib/providers/oauth2_endpoints.h. Paths not served answer authentik's JSON 404.
 */
#include "bounds.h"
#include "providers/oauth2_endpoints.h"
#include "server.h"

static const struct cu_route routes[] = {
    {CU_HTTP_GET | CU_HTTP_POST, "/application/o/authorize/", cu_oauth2_authorize,
     CU_OAUTH2_MAX_FORM},
    {CU_HTTP_POST, "/application/o/token/", cu_oauth2_token, CU_OAUTH2_MAX_FORM},
    {CU_HTTP_POST, "/application/o/device/", cu_oauth2_device, CU_OAUTH2_MAX_FORM},
    {CU_HTTP_GET | CU_HTTP_POST, "/application/o/userinfo/", cu_oauth2_userinfo,
     CU_OAUTH2_MAX_FORM},
    {CU_HTTP_POST, "/application/o/introspect/", cu_oauth2_introspect, CU_OAUTH2_MAX_FORM},
    {CU_HTTP_POST, "/application/o/revoke/", cu_oauth2_revoke, CU_OAUTH2_MAX_FORM},
    {CU_HTTP_GET, "/application/o/{slug}/", cu_oauth2_issuer_redirect, 0},
    {CU_HTTP_GET, "/application/o/{slug}/.well-known/openid-configuration", cu_oauth2_discovery, 0},
    {CU_HTTP_GET, "/.well-known/oauth-authorization-server/application/o/{slug}/",
     cu_oauth2_discovery, 0},
    {CU_HTTP_GET, "/application/o/{slug}/jwks/", cu_oauth2_jwks, 0},
    {CU_HTTP_GET | CU_HTTP_POST, "/application/o/{slug}/end-session/", cu_oauth2_end_session,
     CU_OAUTH2_MAX_FORM},
    {CU_HTTP_GET, "/device", cu_oauth2_device_entry, 0},
    {CU_HTTP_GET, "/device/", cu_oauth2_device_entry, 0},
};

static const struct cu_app app = {"oauth2", routes, sizeof(routes) / sizeof(routes[0]),
                                  cu_oauth2_publish_start};

int
main(int argc, char **argv)
{
	return cu_server_main(&app, argc, argv);
}
