#include "router.h"

#include <string.h>

#include "http.h"

/* A path parameter found while matching, still pointing into the pattern and the path. */
struct param_view {
	const char *pv_name;
	size_t pv_nlen;
	const char *pv_val;
	size_t pv_vlen;
};

/*
 * Matches path against pattern one '/'-separated segment at a time. Returns the number of
 * parameters (>= 0) on a match, -1 otherwise. A malformed pattern ("{}", "{a*}" not last, too
 * many parameters) matches nothing, so a typo in a route table shows up as a 404 in tests
 * rather than as a route that answers more than it should.
 */
static int
pattern_match(const char *pattern, const char *path, struct param_view *pv)
{
	const char *ps = pattern, *ss = path;
	int np = 0;

	if (*ps != '/' || *ss != '/')
		return -1;
	ps++;
	ss++;
	for (;;) {
		const char *pe = strchr(ps, '/'), *se = strchr(ss, '/');
		size_t plen, slen;

		if (pe == NULL)
			pe = ps + strlen(ps);
		if (se == NULL)
			se = ss + strlen(ss);
		plen = (size_t)(pe - ps);
		slen = (size_t)(se - ss);
		if (plen >= 2 && ps[0] == '{' && ps[plen - 1] == '}') {
			const char *name = ps + 1;
			size_t nlen = plen - 2;
			int tail = nlen > 0 && name[nlen - 1] == '*';

			if (tail)
				nlen--;
			if (nlen == 0 || memchr(name, '{', nlen) != NULL ||
			    memchr(name, '}', nlen) != NULL || np >= CU_ROUTER_MAX_PARAMS)
				return -1;
			if (tail) {
				/* The rest of the path, slashes and all; only as the last segment.
				 */
				if (*pe != '\0' || *ss == '\0')
					return -1;
				pv[np].pv_name = name;
				pv[np].pv_nlen = nlen;
				pv[np].pv_val = ss;
				pv[np].pv_vlen = strlen(ss);
				return np + 1;
			}
			if (slen == 0 || slen > CU_ROUTER_MAX_SEGMENT)
				return -1;
			pv[np].pv_name = name;
			pv[np].pv_nlen = nlen;
			pv[np].pv_val = ss;
			pv[np].pv_vlen = slen;
			np++;
		} else if (plen != slen || memcmp(ps, ss, plen) != 0) {
			return -1;
		}
		if (*pe == '\0')
			return *se == '\0' ? np : -1;
		if (*se == '\0')
			return -1;
		ps = pe + 1;
		ss = se + 1;
	}
}

static unsigned
route_methods(const struct cu_route *rt)
{
	unsigned m = rt->rt_methods;

	if (m & CU_HTTP_GET)
		m |= CU_HTTP_HEAD;
	return m;
}

enum cu_err
cu_router_match(const struct cu_route *routes, size_t n, unsigned method, const char *path,
                struct cu_arena *a, struct cu_route_match *m)
{
	struct param_view pv[CU_ROUTER_MAX_PARAMS];
	enum cu_err err = CU_ERR_NOT_FOUND;
	size_t i;
	int j, np;

	memset(m, 0, sizeof(*m));
	if (path == NULL || routes == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		unsigned allowed;

		if (routes[i].rt_pattern == NULL)
			continue;
		np = pattern_match(routes[i].rt_pattern, path, pv);
		if (np < 0)
			continue;
		allowed = route_methods(&routes[i]);
		if ((method & allowed) == 0) {
			/* Keep looking: a later route may take the same path with this method. */
			m->rm_allowed |= allowed;
			continue;
		}
		m->rm_route = &routes[i];
		for (j = 0; j < np; j++) {
			m->rm_params[j].rp_name = cu_arena_strndup(a, pv[j].pv_name, pv[j].pv_nlen);
			m->rm_params[j].rp_value = cu_arena_strndup(a, pv[j].pv_val, pv[j].pv_vlen);
		}
		m->rm_nparams = (size_t)np;
		m->rm_allowed = 0;
		err = CU_OK;
		goto out;
	}
	if (m->rm_allowed != 0)
		err = CU_ERR_METHOD;
out:
	return err;
}

const char *
cu_router_allow(struct cu_arena *a, unsigned methods)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
	    {CU_HTTP_GET, "GET"},         {CU_HTTP_HEAD, "HEAD"},   {CU_HTTP_POST, "POST"},
	    {CU_HTTP_PUT, "PUT"},         {CU_HTTP_PATCH, "PATCH"}, {CU_HTTP_DELETE, "DELETE"},
	    {CU_HTTP_OPTIONS, "OPTIONS"},
	};
	char out[64];
	size_t i, len = 0;

	if (methods & CU_HTTP_GET)
		methods |= CU_HTTP_HEAD;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t nlen;

		if (!(methods & names[i].bit))
			continue;
		nlen = strlen(names[i].name);
		/* Every name at once is 44 bytes with separators: out always has room. */
		if (len > 0) {
			memcpy(out + len, ", ", 2);
			len += 2;
		}
		memcpy(out + len, names[i].name, nlen);
		len += nlen;
	}
	return cu_arena_strndup(a, out, len);
}

const char *
cu_route_param(const struct cu_route_match *m, const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < m->rm_nparams && i < CU_ROUTER_MAX_PARAMS; i++)
		if (strcmp(m->rm_params[i].rp_name, name) == 0)
			return m->rm_params[i].rp_value;
	return NULL;
}
