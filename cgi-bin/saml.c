/*
 * saml.fcgi: /application/saml/, the SAML 2.0 identity provider, at authentik's paths. Each
 * handler's file is named in lib/providers/saml_endpoints.h. Paths not served answer
 * authentik's JSON 404.
 */
#include "bounds.h"
#include "providers/saml_endpoints.h"
#include "server.h"

static const struct cu_route routes[] = {
    {CU_HTTP_GET, "/application/saml/{slug}/sso/binding/redirect/", cu_saml_sso_redirect, 0},
    {CU_HTTP_GET | CU_HTTP_POST, "/application/saml/{slug}/sso/binding/post/", cu_saml_sso_post,
     CU_SAML_MAX_FORM},
    {CU_HTTP_GET, "/application/saml/{slug}/sso/binding/init/", cu_saml_sso_init, 0},
    {CU_HTTP_GET, "/application/saml/{slug}/slo/binding/redirect/", cu_saml_slo_redirect, 0},
    {CU_HTTP_POST, "/application/saml/{slug}/slo/binding/post/", cu_saml_slo_post,
     CU_SAML_MAX_FORM},
    {CU_HTTP_GET, "/application/saml/{slug}/metadata/", cu_saml_metadata_download, 0},
};

static const struct cu_app app = {"saml", routes, sizeof(routes) / sizeof(routes[0]), NULL};

int
main(int argc, char **argv)
{
	return cu_server_main(&app, argc, argv);
}
