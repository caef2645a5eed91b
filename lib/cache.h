/*
 * Redis through hiredis 0.14 (no TLS; a unix socket or loopback TCP). One persistent
 * connection per process; a lost connection answers CU_ERR_UNAVAILABLE and the next call
 * reconnects (at most one attempt per CU_CACHE_RETRY_MS). Redis is a cache: callers fall back
 * to PostgreSQL when it is down.
 */
#ifndef CU_CACHE_H
#define CU_CACHE_H

#include <stddef.h>

#include "arena.h"
#include "err.h"

#define CU_CACHE_RETRY_MS 200
#define CU_CACHE_TIMEOUT_MS 1000

struct redisContext;
struct redisReply;

struct cu_cache {
	struct redisContext *ca_ctx;
	char *ca_host; /* owned; a path when it starts with '/' */
	int ca_port;
	int ca_db;
	char *ca_password; /* owned, wiped at close */
	long long ca_last_try_ms;
	int ca_timeout_ms; /* reply timeout of each command; CU_CACHE_TIMEOUT_MS unless set */
};

void cu_cache_init(struct cu_cache *c, const char *host, int port, int db, const char *password);
void cu_cache_close(struct cu_cache *c);
/* A longer reply timeout, for a connection that blocks on purpose (the worker's XREADGROUP). */
void cu_cache_set_timeout(struct cu_cache *c, int ms);
enum cu_err cu_cache_ensure(struct cu_cache *c) __attribute__((warn_unused_result));

/* Runs one command; *out (may be NULL) is arena-owned. A Redis error reply is CU_ERR_INTERNAL. */
enum cu_err cu_cache_cmd(struct cu_cache *c, struct cu_arena *a, struct redisReply **out, int argc,
                         const char **argv, const size_t *argvlen)
    __attribute__((warn_unused_result));
/*
 * One command in two halves, so a caller can overlap a Redis round trip with other work (a
 * PostgreSQL query): send writes the command, recv waits for its reply (*out arena-owned, or
 * dropped when out is NULL). Neither half retries; on CU_ERR_UNAVAILABLE the connection is
 * dropped and a following cu_cache_cmd reconnects. Only one command may be outstanding.
 */
enum cu_err cu_cache_send(struct cu_cache *c, int argc, const char **argv, const size_t *argvlen)
    __attribute__((warn_unused_result));
enum cu_err cu_cache_recv(struct cu_cache *c, struct cu_arena *a, struct redisReply **out)
    __attribute__((warn_unused_result));
enum cu_err cu_cache_ping(struct cu_cache *c) __attribute__((warn_unused_result));
/* CU_ERR_NOT_FOUND when the key is absent; *val arena-owned, NUL-terminated. */
enum cu_err cu_cache_get(struct cu_cache *c, struct cu_arena *a, const char *key, char **val,
                         size_t *len) __attribute__((warn_unused_result));
/* ttl_s <= 0: no expiry. */
enum cu_err cu_cache_set(struct cu_cache *c, const char *key, const void *val, size_t len,
                         int ttl_s) __attribute__((warn_unused_result));
enum cu_err cu_cache_del(struct cu_cache *c, const char *key) __attribute__((warn_unused_result));

#endif
