#include "cache.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "log.h"
#include "mem.h"

static long long
cache_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval
cache_timeout(const struct cu_cache *c)
{
	int ms = c->ca_timeout_ms > 0 ? c->ca_timeout_ms : CU_CACHE_TIMEOUT_MS;
	struct timeval tv = {
	    .tv_sec = ms / 1000,
	    .tv_usec = (ms % 1000) * 1000,
	};

	return tv;
}

void
cu_cache_set_timeout(struct cu_cache *c, int ms)
{
	c->ca_timeout_ms = ms;
	if (c->ca_ctx != NULL && redisSetTimeout(c->ca_ctx, cache_timeout(c)) != REDIS_OK)
		cu_log_msg(CU_LOG_WARNING, "cache_timeout", "could not set the reply timeout");
}

/* The command name for logs: with explicit lengths argv[0] need not be NUL-terminated. */
static const char *
cache_cmd_name(char *out, size_t outlen, const char *const *argv, const size_t *argvlen)
{
	size_t n = argvlen != NULL ? argvlen[0] : strlen(argv[0]);

	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, argv[0], n);
	out[n] = '\0';
	return out;
}

/*
 * hiredis writes with write(2), so a Redis that closed the connection would kill the process
 * with SIGPIPE. As libpq does, SIGPIPE is blocked around each command and one raised by it is
 * consumed before the old mask returns; this leaves the process's own disposition alone. A
 * process that ignores SIGPIPE (every responder does) skips the four system calls this costs.
 */
struct sigpipe_guard {
	sigset_t sg_old;
	int sg_active;
	int sg_was_pending;
};

static int
sigpipe_ignored(void)
{
	struct sigaction sa;

	return sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

static void
sigpipe_block(struct sigpipe_guard *g)
{
	sigset_t pipe_set, pending;

	g->sg_active = !sigpipe_ignored();
	if (!g->sg_active)
		return;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &g->sg_old);
	sigemptyset(&pending);
	sigpending(&pending);
	g->sg_was_pending = sigismember(&pending, SIGPIPE);
}

static void
sigpipe_restore(struct sigpipe_guard *g)
{
	const struct timespec zero = {0, 0};
	sigset_t pipe_set, pending;
	int saved = errno;

	if (!g->sg_active)
		return;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	if (!g->sg_was_pending) {
		sigemptyset(&pending);
		if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
			while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
				;
		}
	}
	pthread_sigmask(SIG_SETMASK, &g->sg_old, NULL);
	errno = saved;
}

static redisReply *
cache_argv(redisContext *ctx, int argc, const char **argv, const size_t *argvlen, int *err_no)
{
	struct sigpipe_guard g;
	redisReply *r;

	sigpipe_block(&g);
	errno = 0;
	r = redisCommandArgv(ctx, argc, argv, argvlen);
	*err_no = errno;
	sigpipe_restore(&g);
	return r;
}

void
cu_cache_init(struct cu_cache *c, const char *host, int port, int db, const char *password)
{
	memset(c, 0, sizeof(*c));
	c->ca_host = cu_strdup(host != NULL && host[0] != '\0' ? host : "localhost");
	c->ca_port = port;
	c->ca_db = db;
	c->ca_password = password != NULL && password[0] != '\0' ? cu_strdup(password) : NULL;
	c->ca_last_try_ms = cache_now_ms() - CU_CACHE_RETRY_MS;
}

static void
cache_drop(struct cu_cache *c)
{
	if (c->ca_ctx != NULL)
		redisFree(c->ca_ctx);
	c->ca_ctx = NULL;
}

void
cu_cache_close(struct cu_cache *c)
{
	cache_drop(c);
	if (c->ca_password != NULL) {
		cu_wipe(c->ca_password, strlen(c->ca_password));
		cu_free(c->ca_password);
		c->ca_password = NULL;
	}
	cu_free(c->ca_host);
	c->ca_host = NULL;
}

/* Sends a setup command (AUTH, SELECT) on a new context; its reply must not be an error. */
static int
cache_setup_cmd(struct cu_cache *c, redisContext *ctx, int argc, const char **argv)
{
	redisReply *r;
	int e;

	r = cache_argv(ctx, argc, argv, NULL, &e);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		/* The reply text never echoes the password; ctx->errstr is an I/O message. */
		cu_log(CU_LOG_ERROR, "cache_setup_failed", CU_LS("cmd", argv[0]),
		       CU_LS("host", c->ca_host), CU_LS("error", r != NULL ? r->str : ctx->errstr));
		if (r != NULL)
			freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

/* One connection attempt; force skips the rate limit for the single retry after a drop. */
static enum cu_err
cache_connect(struct cu_cache *c, int force)
{
	redisContext *ctx = NULL;
	long long now = cache_now_ms();
	enum cu_err rc = CU_ERR_UNAVAILABLE;
	char dbnum[16];

	if (c->ca_host == NULL) {
		cu_log_msg(CU_LOG_ERROR, "cache_closed", "command on a closed cache handle");
		return CU_ERR_INTERNAL;
	}
	if (!force && now - c->ca_last_try_ms < CU_CACHE_RETRY_MS)
		return CU_ERR_UNAVAILABLE;
	c->ca_last_try_ms = now;
	if (c->ca_host[0] == '/')
		ctx = redisConnectUnixWithTimeout(c->ca_host, cache_timeout(c));
	else
		ctx = redisConnectWithTimeout(c->ca_host, c->ca_port, cache_timeout(c));
	if (ctx == NULL || ctx->err != 0) {
		/* hiredis answers NULL only when it cannot allocate its context. */
		cu_log(CU_LOG_ERROR, "cache_connect_failed", CU_LS("host", c->ca_host),
		       CU_LI("port", c->ca_port),
		       CU_LS("error", ctx != NULL ? ctx->errstr : "out of memory"));
		goto out;
	}
	/* The connect timeout does not carry over to commands in hiredis 0.14. */
	if (redisSetTimeout(ctx, cache_timeout(c)) != REDIS_OK) {
		cu_log(CU_LOG_ERROR, "cache_connect_failed", CU_LS("host", c->ca_host),
		       CU_LI("port", c->ca_port), CU_LS("error", "cannot set the command timeout"));
		goto out;
	}
	if (c->ca_password != NULL &&
	    cache_setup_cmd(c, ctx, 2, (const char *[]){"AUTH", c->ca_password}) != 0)
		goto out;
	if (c->ca_db != 0) {
		snprintf(dbnum, sizeof(dbnum), "%d", c->ca_db);
		if (cache_setup_cmd(c, ctx, 2, (const char *[]){"SELECT", dbnum}) != 0)
			goto out;
	}
	c->ca_ctx = ctx;
	ctx = NULL;
	rc = CU_OK;
out:
	if (ctx != NULL)
		redisFree(ctx);
	return rc;
}

enum cu_err
cu_cache_ensure(struct cu_cache *c)
{
	if (c->ca_ctx != NULL) {
		/* hiredis contexts are not usable again after any error. */
		if (c->ca_ctx->err == 0)
			return CU_OK;
		cache_drop(c);
	}
	return cache_connect(c, 0);
}

/*
 * Runs one command; *out is the caller's to free. A connection found dropped (Redis restarted)
 * that predates this call is replaced at once and the command sent again, so the first request
 * after Redis comes back is served; a timeout is not retried, to bound the wait.
 */
static enum cu_err
cache_run(struct cu_cache *c, int argc, const char **argv, const size_t *argvlen, redisReply **out)
{
	char name[32], errstr[128];
	redisReply *r = NULL;
	enum cu_err rc;
	int attempt, fresh, err, err_no, dropped;

	*out = NULL;
	for (attempt = 0;; attempt++) {
		fresh = c->ca_ctx == NULL || c->ca_ctx->err != 0;
		rc = attempt == 0 ? cu_cache_ensure(c) : cache_connect(c, 1);
		if (rc != CU_OK)
			return rc;
		r = cache_argv(c->ca_ctx, argc, argv, argvlen, &err_no);
		if (r != NULL)
			break;
		err = c->ca_ctx->err;
		snprintf(errstr, sizeof(errstr), "%s", c->ca_ctx->errstr);
		cache_drop(c);
		if (err == REDIS_ERR_OOM)
			cu_die("out of memory");
		dropped = err == REDIS_ERR_EOF ||
		          (err == REDIS_ERR_IO &&
		           (err_no == ECONNRESET || err_no == EPIPE || err_no == ECONNABORTED));
		cu_log(attempt == 0 && dropped && !fresh ? CU_LOG_WARNING : CU_LOG_ERROR,
		       "cache_connection_lost",
		       CU_LS("cmd", cache_cmd_name(name, sizeof(name), argv, argvlen)),
		       CU_LS("error", errstr),
		       CU_LB("retrying", attempt == 0 && dropped && !fresh));
		if (attempt == 0 && dropped && !fresh)
			continue;
		return err == REDIS_ERR_PROTOCOL ? CU_ERR_INTERNAL : CU_ERR_UNAVAILABLE;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		cu_log(CU_LOG_ERROR, "cache_error_reply",
		       CU_LS("cmd", cache_cmd_name(name, sizeof(name), argv, argvlen)),
		       CU_LS("error", r->str));
		freeReplyObject(r);
		return CU_ERR_INTERNAL;
	}
	*out = r;
	return CU_OK;
}

enum cu_err
cu_cache_cmd(struct cu_cache *c, struct cu_arena *a, struct redisReply **out, int argc,
             const char **argv, const size_t *argvlen)
{
	redisReply *r = NULL;
	enum cu_err rc;

	if (out != NULL)
		*out = NULL;
	if (argc <= 0 || argv == NULL || (out != NULL && a == NULL)) {
		cu_log(CU_LOG_ERROR, "cache_misuse", CU_LI("argc", argc));
		return CU_ERR_INTERNAL;
	}
	rc = cache_run(c, argc, argv, argvlen, &r);
	if (rc != CU_OK)
		return rc;
	if (out != NULL) {
		cu_arena_defer(a, freeReplyObject, r);
		*out = r;
	} else {
		freeReplyObject(r);
	}
	return CU_OK;
}

/* Runs a command whose reply is checked and dropped here. */
static enum cu_err
cache_expect(struct cu_cache *c, int argc, const char **argv, const size_t *argvlen, int type,
             const char *status)
{
	redisReply *r = NULL;
	enum cu_err rc;
	char name[32];

	rc = cache_run(c, argc, argv, argvlen, &r);
	if (rc != CU_OK)
		return rc;
	if (r->type != type || (status != NULL && strcmp(r->str, status) != 0)) {
		cu_log(CU_LOG_ERROR, "cache_bad_reply",
		       CU_LS("cmd", cache_cmd_name(name, sizeof(name), argv, argvlen)),
		       CU_LI("type", r->type));
		rc = CU_ERR_INTERNAL;
	}
	freeReplyObject(r);
	return rc;
}

enum cu_err
cu_cache_ping(struct cu_cache *c)
{
	const char *argv[] = {"PING"};

	return cache_expect(c, 1, argv, NULL, REDIS_REPLY_STATUS, "PONG");
}

enum cu_err
cu_cache_get(struct cu_cache *c, struct cu_arena *a, const char *key, char **val, size_t *len)
{
	const char *argv[] = {"GET", key};
	struct redisReply *r = NULL;
	enum cu_err rc;

	*val = NULL;
	if (len != NULL)
		*len = 0;
	rc = cu_cache_cmd(c, a, &r, 2, argv, NULL);
	if (rc != CU_OK)
		return rc;
	if (r->type == REDIS_REPLY_NIL)
		return CU_ERR_NOT_FOUND;
	if (r->type != REDIS_REPLY_STRING) {
		cu_log(CU_LOG_ERROR, "cache_bad_reply", CU_LS("cmd", "GET"),
		       CU_LI("type", r->type));
		return CU_ERR_INTERNAL;
	}
	/* hiredis NUL-terminates every bulk string; the reply lives until the arena is reset. */
	*val = r->str;
	if (len != NULL)
		*len = r->len;
	return CU_OK;
}

enum cu_err
cu_cache_set(struct cu_cache *c, const char *key, const void *val, size_t len, int ttl_s)
{
	char ttl[16];
	const char *argv[] = {"SET", key, val, "EX", ttl};
	size_t argvlen[] = {3, strlen(key), len, 2, 0};

	if (ttl_s <= 0)
		return cache_expect(c, 3, argv, argvlen, REDIS_REPLY_STATUS, "OK");
	snprintf(ttl, sizeof(ttl), "%d", ttl_s);
	argvlen[4] = strlen(ttl);
	return cache_expect(c, 5, argv, argvlen, REDIS_REPLY_STATUS, "OK");
}

enum cu_err
cu_cache_del(struct cu_cache *c, const char *key)
{
	const char *argv[] = {"DEL", key};

	return cache_expect(c, 2, argv, NULL, REDIS_REPLY_INTEGER, NULL);
}

enum cu_err
cu_cache_send(struct cu_cache *c, int argc, const char **argv, const size_t *argvlen)
{
	struct sigpipe_guard g;
	int done = 0, rc = REDIS_OK;

	if (argc <= 0 || argv == NULL)
		return CU_ERR_INTERNAL;
	if (cu_cache_ensure(c) != CU_OK)
		return CU_ERR_UNAVAILABLE;
	if (redisAppendCommandArgv(c->ca_ctx, argc, argv, argvlen) != REDIS_OK) {
		cache_drop(c);
		return CU_ERR_UNAVAILABLE;
	}
	sigpipe_block(&g);
	while (!done && rc == REDIS_OK)
		rc = redisBufferWrite(c->ca_ctx, &done);
	sigpipe_restore(&g);
	if (rc != REDIS_OK) {
		cache_drop(c);
		return CU_ERR_UNAVAILABLE;
	}
	return CU_OK;
}

enum cu_err
cu_cache_recv(struct cu_cache *c, struct cu_arena *a, struct redisReply **out)
{
	void *v = NULL;
	redisReply *r;

	if (out != NULL)
		*out = NULL;
	if (c->ca_ctx == NULL)
		return CU_ERR_UNAVAILABLE;
	if (redisGetReply(c->ca_ctx, &v) != REDIS_OK || v == NULL) {
		cache_drop(c);
		return CU_ERR_UNAVAILABLE;
	}
	r = v;
	if (r->type == REDIS_REPLY_ERROR) {
		cu_log(CU_LOG_ERROR, "cache_error_reply", CU_LS("error", r->str));
		freeReplyObject(r);
		return CU_ERR_INTERNAL;
	}
	if (out != NULL && a != NULL) {
		cu_arena_defer(a, freeReplyObject, r);
		*out = r;
	} else {
		freeReplyObject(r);
	}
	return CU_OK;
}
