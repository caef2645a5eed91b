#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "json.h"
#include "log.h"
#include "mem.h"

extern char **environ;

static volatile sig_atomic_t in_request;
static volatile sig_atomic_t stop_requested;

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
cu_server_init(struct cu_server *s, const struct cu_app *app, char *const *envp)
{
	char err[256];
	enum cu_log_level lvl;
	char *conninfo;

	memset(s, 0, sizeof(*s));
	s->sv_app = app;
	cu_log_init(app->ap_name, CU_LOG_INFO);
	if (cu_config_load(&s->sv_cfg, NULL, envp, err, sizeof(err)) != 0) {
		cu_log(CU_LOG_ERROR, "config_invalid", CU_LS("msg", err));
		return -1;
	}
	if (cu_log_level_parse(s->sv_cfg.log_level, &lvl) == 0)
		cu_log_init(app->ap_name, lvl);
	conninfo = cu_config_pg_conninfo(&s->sv_cfg);
	cu_db_init(&s->sv_db, conninfo);
	cu_wipe(conninfo, strlen(conninfo));
	cu_free(conninfo);
	cu_cache_init(&s->sv_cache, s->sv_cfg.redis_host, s->sv_cfg.redis_port, s->sv_cfg.redis_db,
	              s->sv_cfg.redis_password);
	cu_arena_init(&s->sv_arena);
	cu_http_response_init(&s->sv_resp);
	return 0;
}

void
cu_server_fini(struct cu_server *s)
{
	cu_arena_free(&s->sv_arena);
	cu_http_response_free(&s->sv_resp);
	cu_cache_close(&s->sv_cache);
	cu_db_close(&s->sv_db);
	cu_config_free(&s->sv_cfg);
}

/* Answers a request that failed before its handler ran, in the one error shape. */
static void
early_error(struct cu_server *s, enum cu_err err, const char *detail)
{
	cu_http_send_error(&s->sv_resp, cu_err_status(err), detail);
	cu_log(CU_LOG_WARNING, "request_rejected", CU_LS("msg", detail),
	       CU_LI("status", cu_err_status(err)));
}

static const char *
method_not_allowed_detail(struct cu_arena *a, const char *method)
{
	/* DRF's wording, which clients of authentik may match on. */
	return cu_arena_printf(a, "Method \"%.16s\" not allowed.", method ? method : "");
}

static void
dispatch(struct cu_server *s, cu_http_read_fn *rd, void *rdctx)
{
	struct cu_http_request *req = &s->sv_req;
	struct cu_http_response *resp = &s->sv_resp;
	struct cu_route_match *m = &s->sv_match;
	const struct cu_route *rt;
	struct cu_ctx cx;
	enum cu_err err;
	size_t max;

	memset(m, 0, sizeof(*m));
	if (req->rq_method == 0) {
		resp->rs_status = 0;
		early_error(s, CU_ERR_METHOD,
		            method_not_allowed_detail(&s->sv_arena, req->rq_method_name));
		return;
	}
	err = cu_router_match(s->sv_app->ap_routes, s->sv_app->ap_nroutes, req->rq_method,
	                      req->rq_path, &s->sv_arena, m);
	if (err != CU_OK && req->rq_content_length > CU_HTTP_MAX_BODY_DEFAULT) {
		/* No route will read this body: a request that announces more than any unrouted
		 * request may carry is refused as too large before anything else. */
		early_error(s, CU_ERR_TOO_LARGE, "Request body too large.");
		return;
	}
	if (err == CU_ERR_NOT_FOUND) {
		cu_http_send_error(resp, 404, "Not found.");
		return;
	}
	if (err == CU_ERR_METHOD) {
		if (cu_http_set_header(resp, "Allow",
		                       cu_router_allow(&s->sv_arena, m->rm_allowed)) != 0)
			cu_die("allow header");
		cu_http_send_error(resp, 405,
		                   method_not_allowed_detail(&s->sv_arena, req->rq_method_name));
		return;
	}
	if (err != CU_OK) {
		early_error(s, err, "The request could not be routed.");
		return;
	}
	rt = m->rm_route;
	max = rt->rt_max_body ? rt->rt_max_body : CU_HTTP_MAX_BODY_DEFAULT;
	err = cu_http_request_read_body(req, &s->sv_arena, rd, rdctx, max);
	if (err == CU_ERR_TOO_LARGE) {
		early_error(s, err, "Request body too large.");
		return;
	}
	if (err != CU_OK) {
		early_error(s, err, "Request body incomplete.");
		return;
	}
	cx.cx_cfg = &s->sv_cfg;
	cx.cx_db = &s->sv_db;
	cx.cx_cache = &s->sv_cache;
	cx.cx_arena = &s->sv_arena;
	cx.cx_req = req;
	cx.cx_resp = resp;
	cx.cx_match = m;
	cx.cx_component = s->sv_app->ap_name;
	cx.cx_user = NULL;
	cx.cx_via_session = 0;
	rt->rt_handler(&cx);
	if (s->sv_db.db_in_tx) {
		/* A handler that returned inside a transaction failed half-way: nothing it wrote
		 * may stay behind. */
		cu_db_rollback(&s->sv_db);
		if (resp->rs_status < 400)
			cu_http_send_error(resp, 500, "Internal error.");
	}
}

void
cu_server_handle(struct cu_server *s, char *const *envp, cu_http_read_fn *rd, void *rdctx,
                 cu_http_write_fn *wr, void *wrctx)
{
	struct cu_http_request *req = &s->sv_req;
	struct cu_http_response *resp = &s->sv_resp;
	long long t0 = now_us();
	enum cu_err err;

	cu_arena_reset(&s->sv_arena);
	cu_http_response_reset(resp);
	memset(req, 0, sizeof(*req));
	cu_log_set_request_id(NULL);

	err = cu_http_request_parse(req, &s->sv_arena, envp);
	if (err != CU_OK) {
		early_error(s, err,
		            err == CU_ERR_TOO_LARGE ? "Request header fields too large."
		                                    : "Malformed request.");
	} else {
		cu_log_set_request_id(req->rq_id);
		dispatch(s, rd, rdctx);
	}
	if (resp->rs_status == 0)
		cu_http_send_error(resp, 500, "Internal error.");
	if (req->rq_method == CU_HTTP_HEAD)
		resp->rs_head_only = 1;
	if (req->rq_id[0] != '\0' && cu_http_set_header(resp, "X-Request-Id", req->rq_id) != 0)
		cu_log_msg(CU_LOG_WARNING, "header_table_full", "X-Request-Id not sent");
	if (cu_http_set_header(resp, "X-Content-Type-Options", "nosniff") != 0)
		cu_log_msg(CU_LOG_WARNING, "header_table_full", "nosniff not sent");
	if (cu_http_response_write(resp, wr, wrctx) != 0)
		cu_log_msg(CU_LOG_INFO, "client_gone", "response not fully written");
	/* The query string is never logged: it may carry codes and tokens. */
	cu_log(resp->rs_status >= 500 ? CU_LOG_ERROR : CU_LOG_INFO, "request",
	       CU_LS("method", req->rq_method_name ? req->rq_method_name : "-"),
	       CU_LS("path", req->rq_raw_path ? req->rq_raw_path : "-"),
	       CU_LI("status", resp->rs_status), CU_LD("duration_ms", (now_us() - t0) / 1000.0),
	       CU_LI("bytes", (long long)resp->rs_body.bf_len),
	       CU_LS("remote", req->rq_remote_addr ? req->rq_remote_addr : "-"));
	s->sv_served++;
	cu_log_set_request_id(NULL);
	/* Nothing of this request survives into the next one. */
	cu_arena_reset(&s->sv_arena);
}

/* FastCGI stream adapters. */
static long
fcgi_read(void *ctx, void *p, size_t n)
{
	int want = n > 65536 ? 65536 : (int)n;

	return FCGX_GetStr(p, want, ctx);
}

static int
fcgi_write(void *ctx, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		int chunk = n > 65536 ? 65536 : (int)n;

		if (FCGX_PutStr(c, chunk, ctx) != chunk)
			return -1;
		c += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

/* Plain CGI adapters on stdin and stdout. */
static long
fd_read(void *ctx, void *p, size_t n)
{
	int fd = *(int *)ctx;
	ssize_t r;

	do {
		r = read(fd, p, n);
	} while (r < 0 && errno == EINTR);
	return r;
}

static int
fd_write(void *ctx, const void *p, size_t n)
{
	int fd = *(int *)ctx;
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
on_term(int sig)
{
	(void)sig;
	stop_requested = 1;
	/* Makes a blocked accept() give up, so the loop ends and the process exits normally. */
	FCGX_ShutdownPending();
#ifndef CU_SAN
	/* Idle in accept: leave now rather than wait for the next connection. Busy: finish the
	 * request first. Sanitizer builds always leave through exit() so leak checks run. */
	if (!in_request)
		_exit(0);
#endif
}

static int
serve_fcgi(struct cu_server *s, int listen_fd)
{
	FCGX_Request rq;
	int failures = 0;

	/* FCGI_FAIL_ACCEPT_ON_INTR: a SIGTERM while waiting for libfcgi's accept lock ends the
	 * wait, instead of being retried there forever. */
	if (FCGX_InitRequest(&rq, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		cu_log_msg(CU_LOG_ERROR, "fcgi_init", "FCGX_InitRequest failed");
		return 1;
	}
	cu_log(CU_LOG_INFO, "started", CU_LI("pid", (long long)getpid()));
	if (s->sv_app->ap_start != NULL)
		s->sv_app->ap_start(&s->sv_cfg);
	while (!stop_requested) {
		if (FCGX_Accept_r(&rq) < 0) {
			if (stop_requested || ++failures > 50)
				break;
			/* Some other signal, or the web server closing the socket: pace and retry.
			 */
			cu_log(CU_LOG_WARNING, "accept_failed", CU_LS("error", strerror(errno)));
			usleep(100000);
			continue;
		}
		failures = 0;
		in_request = 1;
		cu_server_handle(s, rq.envp, fcgi_read, rq.in, fcgi_write, rq.out);
		FCGX_Finish_r(&rq);
		in_request = 0;
	}
	FCGX_Free(&rq, 1);
	cu_log(CU_LOG_INFO, "stopped", CU_LI("served", (long long)s->sv_served));
	return 0;
}

/*
 * --listen PATH|HOST:PORT --processes N: the responder opens its own socket and keeps N
 * children accepting on it, restarting any that dies. This is how the stack runs responders
 * for a web server that does not spawn them (Apache's mod_proxy_fcgi).
 */
static int
supervise(struct cu_server *s, const char *listen, int nproc)
{
	pid_t *kids = cu_calloc((size_t)nproc, sizeof(*kids));
	int fd, i, rc = 0;
	sigset_t set, old;

	if (listen[0] == '/')
		unlink(listen);
	fd = FCGX_OpenSocket(listen, 256);
	if (fd < 0) {
		cu_log(CU_LOG_ERROR, "listen_failed", CU_LS("listen", listen));
		cu_free(kids);
		return 1;
	}
	if (listen[0] == '/')
		chmod(listen, 0660);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	for (;;) {
		int sig = 0;

		for (i = 0; i < nproc; i++) {
			pid_t pid;

			if (kids[i] > 0)
				continue;
			pid = fork();
			if (pid < 0) {
				cu_log_msg(CU_LOG_ERROR, "fork_failed", strerror(errno));
				continue;
			}
			if (pid == 0) {
				sigprocmask(SIG_SETMASK, &old, NULL);
				cu_free(kids);
				_exit(serve_fcgi(s, fd));
			}
			kids[i] = pid;
		}
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGCHLD) {
			pid_t pid;
			int status;

			while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
				for (i = 0; i < nproc; i++)
					if (kids[i] == pid)
						kids[i] = 0;
				cu_log(CU_LOG_WARNING, "child_exited", CU_LI("pid", (long long)pid),
				       CU_LI("status", status));
			}
			/* A child that dies at once would spin: pace the restarts. */
			usleep(100000);
			continue;
		}
		break;
	}
	for (i = 0; i < nproc; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGTERM);
	for (i = 0; i < nproc; i++)
		if (kids[i] > 0)
			waitpid(kids[i], NULL, 0);
	if (listen[0] == '/')
		unlink(listen);
	cu_free(kids);
	return rc;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
	        "usage: %s [--listen SOCKET|HOST:PORT [--processes N]]\n"
	        "  Started by a web server with a FastCGI socket on fd 0, serves FastCGI.\n"
	        "  Started with a CGI environment, serves that one request and exits.\n"
	        "  With --listen, opens the socket itself and keeps N processes on it.\n",
	        prog);
}

int
cu_server_main(const struct cu_app *app, int argc, char **argv)
{
	struct cu_server s;
	const char *listen = NULL;
	long nproc = 2;
	int i, rc;
	struct sigaction sa;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			listen = argv[++i];
		} else if (strcmp(argv[i], "--processes") == 0 && i + 1 < argc) {
			char *end;

			nproc = strtol(argv[++i], &end, 10);
			if (*end != '\0' || nproc < 1 || nproc > 256) {
				usage(argv[0]);
				return 2;
			}
		} else {
			usage(argv[0]);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (cu_server_init(&s, app, environ) != 0)
		return 1;
	if (FCGX_Init() != 0) {
		cu_log_msg(CU_LOG_ERROR, "fcgi_init", "FCGX_Init failed");
		cu_server_fini(&s);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (listen != NULL) {
		rc = supervise(&s, listen, (int)nproc);
	} else if (FCGX_IsCGI()) {
		int in = 0, out = 1;

		cu_server_handle(&s, environ, fd_read, &in, fd_write, &out);
		rc = 0;
	} else {
		rc = serve_fcgi(&s, 0);
	}
	cu_server_fini(&s);
	return rc;
}

const char *
cu_ctx_param(const struct cu_ctx *cx, const char *name)
{
	return cu_route_param(cx->cx_match, name);
}

void
cu_ctx_error(struct cu_ctx *cx, int status, const char *detail)
{
	cu_http_send_error(cx->cx_resp, status, detail);
	cu_log(status >= 500 ? CU_LOG_ERROR : CU_LOG_WARNING, "request_failed",
	       CU_LS("msg", detail), CU_LI("status", status));
}

void
cu_ctx_fail(struct cu_ctx *cx, enum cu_err err, const char *what)
{
	const char *detail;

	switch (err) {
	case CU_ERR_UNAVAILABLE:
		detail =
		    cu_arena_printf(cx->cx_arena, "%s is unavailable; try again shortly.", what);
		break;
	case CU_ERR_NOT_FOUND:
		detail = "Not found.";
		break;
	case CU_ERR_INVALID:
		detail = cu_arena_printf(cx->cx_arena, "Invalid %s.", what);
		break;
	case CU_ERR_TOO_LARGE:
		detail = cu_arena_printf(cx->cx_arena, "%s too large.", what);
		break;
	default:
		detail = "Internal error.";
		break;
	}
	cu_ctx_error(cx, cu_err_status(err), detail);
}

void
cu_ctx_json(struct cu_ctx *cx, int status, struct json_object *o)
{
	size_t len;
	const char *text = cu_json_text(o, &len);

	cu_http_send_json(cx->cx_resp, status, text, len);
}
