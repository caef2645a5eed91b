/*
 * The request loop every responder shares (DESIGN §4). A responder is a route table and a
 * main() that calls cu_server_main(). The loop accepts a FastCGI request, resets the arena,
 * parses the request within lib/bounds.h, routes, reads the body within the route's limit,
 * runs the handler, writes its response, and logs one access line. Handlers that need
 * PostgreSQL or Redis find out from the call that fails and answer 503 (cu_ctx_fail). Started
 * without a FastCGI socket on fd 0, the same binary serves one CGI request from its environment and
 * exits.
 */
#ifndef CU_SERVER_H
#define CU_SERVER_H

#include <stddef.h>

#include "arena.h"
#include "cache.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "router.h"

struct cu_user;

/* What a handler sees. Everything but the config is reset between requests. */
struct cu_ctx {
	const struct cu_config *cx_cfg;
	struct cu_db *cx_db;       /* NULL when the responder has no database */
	struct cu_cache *cx_cache; /* NULL when the responder has no cache */
	struct cu_arena *cx_arena;
	struct cu_http_request *cx_req;
	struct cu_http_response *cx_resp;
	struct cu_route_match *cx_match;
	const char *cx_component;
	struct cu_user *cx_user; /* set by cu_api_login; NULL: anonymous */
	int cx_via_session;      /* cx_user came from the session cookie, not a token */
};

struct cu_app {
	const char *ap_name; /* component in logs: "api", "flow", ... */
	const struct cu_route *ap_routes;
	size_t ap_nroutes;
	/* Run once in each serving process before its first request (after any fork), or NULL:
	 * what a responder keeps running beside its requests starts here. */
	void (*ap_start)(const struct cu_config *cfg);
};

/* Process-wide state of one responder, set up once. */
struct cu_server {
	const struct cu_app *sv_app;
	struct cu_config sv_cfg;
	struct cu_db sv_db;
	struct cu_cache sv_cache;
	struct cu_arena sv_arena;
	struct cu_http_request sv_req;
	struct cu_http_response sv_resp;
	struct cu_route_match sv_match;
	unsigned long long sv_served;
};

/* Loads config, sets up logging, the database and cache handles (connected lazily). */
int cu_server_init(struct cu_server *s, const struct cu_app *app, char *const *envp)
    __attribute__((warn_unused_result));
void cu_server_fini(struct cu_server *s);

/*
 * Serves one request whose environment is envp, body read through rd, response written
 * through wr. This is the whole request life, callable in-process by tests.
 */
void cu_server_handle(struct cu_server *s, char *const *envp, cu_http_read_fn *rd, void *rdctx,
                      cu_http_write_fn *wr, void *wrctx);

/* main() of a responder: FastCGI loop until SIGTERM, or one CGI request. Returns exit code. */
int cu_server_main(const struct cu_app *app, int argc, char **argv);

/* Handler helpers. */
const char *cu_ctx_param(const struct cu_ctx *cx, const char *name);
/* Sends {"detail": detail} with status and logs one line at warning (4xx) or error (5xx). */
void cu_ctx_error(struct cu_ctx *cx, int status, const char *detail);
/* Maps err to its status (cu_err_status) with a detail naming what failed. */
void cu_ctx_fail(struct cu_ctx *cx, enum cu_err err, const char *what);
/* Sends o as JSON with status. */
struct json_object;
void cu_ctx_json(struct cu_ctx *cx, int status, struct json_object *o);

#endif
