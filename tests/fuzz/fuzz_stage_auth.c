/*
 * The login stages' small parsers of outside input: the Host header's host without its port
 * (input "H <host>"), and whether a stored consent text covers the permissions a provider asks
 * for (input "C <allowed>\n<JSON array>"). Invariants: the host is a piece of the input with no
 * port left on a name or IPv4 address; a covered permission id is a whole word of the text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "json.h"
#include "stages/stages_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_host(struct cu_arena *a, const char *in)
{
	const char *h = cu_stage_auth_host(a, in);
	const char *colon = strchr(in, ':');

	if (h == NULL || strstr(in, h) == NULL)
		abort();
	/* One colon is a port and goes; with none the host is the input itself. */
	if (in[0] != '[' && colon != NULL && strchr(colon + 1, ':') == NULL &&
	    strchr(h, ':') != NULL)
		abort();
	if (colon == NULL && in[0] != '[' && strcmp(h, in) != 0)
		abort();
	if (in[0] == '[' && strchr(in, ']') != NULL && strchr(h, ']') != NULL)
		abort();
}

/* 1 when w is a whole space-separated word of list. */
static int
word_of(const char *list, const char *w)
{
	size_t n = strlen(w);
	const char *p = list;

	while ((p = strstr(p, w)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return 1;
		p++;
	}
	return 0;
}

static void
check_covers(struct cu_arena *a, const char *allowed, const char *json, size_t len)
{
	struct json_object *req = NULL, *e, *id;
	size_t i, n;

	if (cu_json_parse(a, json, len, &req) != CU_OK)
		return;
	if (!cu_stage_consent_covers(allowed, req) || req == NULL ||
	    !json_object_is_type(req, json_type_array))
		return;
	n = json_object_array_length(req);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(req, i);
		if (e == NULL || !json_object_is_type(e, json_type_object) ||
		    !json_object_object_get_ex(e, "id", &id) ||
		    !json_object_is_type(id, json_type_string))
			continue;
		if (json_object_get_string_len(id) == 0 ||
		    !word_of(allowed, json_object_get_string(id)))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cu_arena a;
	char *buf, *nl;

	if (size < 2 || memchr(data, '\0', size) != NULL)
		return 0;
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	cu_arena_init(&a);
	if (buf[0] == 'H' && buf[1] == ' ') {
		check_host(&a, buf + 2);
	} else if (buf[0] == 'C' && buf[1] == ' ' && (nl = strchr(buf + 2, '\n')) != NULL) {
		*nl = '\0';
		check_covers(&a, buf + 2, nl + 1, strlen(nl + 1));
	}
	cu_arena_free(&a);
	free(buf);
	return 0;
}
