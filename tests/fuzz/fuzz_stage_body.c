/*
 * A stage body (lib/api/stages.c, cu_api_stages_read_body) on arbitrary bytes. The first byte
 * picks the kind; the rest is parsed as JSON and, when it is an object, checked as that kind's
 * create would. Invariants: the answer is accepted or refused, never both; an accepted body
 * gives a config object holding every field the kind declares a default for (so a stored
 * stage never lacks one) and never a "name"; a refused one gives a non-empty error object
 * whose every value is a list of strings or an object of index -> list of strings.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/stages.h"
#include "arena.h"
#include "json.h"
#include "server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each kind, with a field it always stores. */
static const struct {
	const char *type;
	const char *always;
} kinds[] = {
    {"consentstage", "mode"},
    {"denystage", "deny_message"},
    {"dummystage", "throw_error"},
    {"emailstage", "from_address"},
    {"identificationstage", "user_fields"},
    {"invitationstage", "continue_flow_without_invitation"},
    {"passwordstage", "backends"},
    {"promptstage", NULL},
    {"redirectstage", "mode"},
    {"userloginstage", "session_duration"},
    {"userlogoutstage", NULL},
    {"userwritestage", "user_type"},
};

static int
messages_ok(struct json_object *v)
{
	size_t i;

	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)
		return 0;
	for (i = 0; i < json_object_array_length(v); i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *body = NULL, *config = NULL, *errors = NULL;
	struct cu_arena a;
	struct cu_ctx cx;
	size_t k;
	int r;

	if (size < 1 || size > 70000)
		return 0;
	k = data[0] % (sizeof(kinds) / sizeof(kinds[0]));
	cu_arena_init(&a);
	memset(&cx, 0, sizeof(cx));
	cx.cx_arena = &a;
	if (cu_json_parse(&a, (const char *)data + 1, size - 1, &body) != CU_OK || body == NULL ||
	    !json_object_is_type(body, json_type_object))
		goto out;
	r = cu_api_stages_read_body(&cx, kinds[k].type, body, &config, &errors);
	if (r == 0) {
		if (config == NULL || errors != NULL ||
		    !json_object_is_type(config, json_type_object))
			abort();
		if (json_object_object_get_ex(config, "name", NULL))
			abort();
		if (kinds[k].always != NULL &&
		    !json_object_object_get_ex(config, kinds[k].always, NULL))
			abort();
	} else if (r == 1) {
		if (config != NULL || errors == NULL || json_object_object_length(errors) == 0)
			abort();
		json_object_object_foreach(errors, key, val)
		{
			(void)key;
			if (json_object_is_type(val, json_type_object)) {
				json_object_object_foreach(val, idx, msgs)
				{
					if (strspn(idx, "0123456789") != strlen(idx) ||
					    !messages_ok(msgs))
						abort();
				}
			} else if (!messages_ok(val)) {
				abort();
			}
		}
	} else {
		abort();
	}
out:
	cu_arena_free(&a);
	return 0;
}
