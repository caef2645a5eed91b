/*
 * Method + path pattern to handler. Patterns are literal segments, "{name}" for exactly one
 * non-empty segment, and a last "{name*}" for the rest of the path (may contain '/').
 * "/api/v3/core/users/{id}/" matches "/api/v3/core/users/42/" with id = "42".
 */
#ifndef CU_ROUTER_H
#define CU_ROUTER_H

#include <stddef.h>

#include "arena.h"
#include "err.h"
#include "bounds.h"

struct cu_ctx;
typedef void cu_handler_fn(struct cu_ctx *cx);

struct cu_route {
	unsigned rt_methods; /* CU_HTTP_* bits; GET implies HEAD */
	const char *rt_pattern;
	cu_handler_fn *rt_handler;
	size_t rt_max_body; /* 0: CU_HTTP_MAX_BODY_DEFAULT */
};

struct cu_route_param {
	const char *rp_name; /* arena-owned */
	const char *rp_value;
};

struct cu_route_match {
	const struct cu_route *rm_route;
	struct cu_route_param rm_params[CU_ROUTER_MAX_PARAMS];
	size_t rm_nparams;
	unsigned rm_allowed; /* on CU_ERR_METHOD: the methods the path accepts */
};

/*
 * Finds the first route whose pattern matches path and whose methods include method. Returns
 * CU_OK, CU_ERR_NOT_FOUND (no pattern matches), or CU_ERR_METHOD (a pattern matches but not
 * for this method; rm_allowed tells which would).
 */
enum cu_err cu_router_match(const struct cu_route *routes, size_t n, unsigned method,
                            const char *path, struct cu_arena *a, struct cu_route_match *m)
    __attribute__((warn_unused_result));

/* "GET, HEAD, POST" for an Allow header, arena-owned. */
const char *cu_router_allow(struct cu_arena *a, unsigned methods);

/* The value of path parameter name, or NULL. */
const char *cu_route_param(const struct cu_route_match *m, const char *name);

#endif
