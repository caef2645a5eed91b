/*
 * cu_api_sessions_user_agent on arbitrary bytes: the User-Agent a browser sent is stored with
 * its session and described by /api/v3/core/authenticated_sessions/.
 * Invariants: always the four keys of ua-parser's shape with every part present; each family a
 * non-empty string; each version part null or 1 to 10 digits; "string" the input up to its
 * first NUL; the same input described twice gives the same JSON.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/authenticated_sessions.h"
#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct json_object *
part(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
		abort();
	return v;
}

static void
family(struct json_object *o)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, "family", &v) ||
	    !json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
		abort();
}

static void
number(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	const char *s;
	size_t i, n;

	if (!json_object_object_get_ex(o, key, &v))
		abort();
	if (v == NULL)
		return;
	if (!json_object_is_type(v, json_type_string))
		abort();
	s = json_object_get_string(v);
	n = strlen(s);
	if (n == 0 || n > 10)
		abort();
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *ua = cu_malloc(size + 1);
	struct json_object *o, *again, *v = NULL, *os, *browser, *device;

	memcpy(ua, data, size);
	ua[size] = '\0';
	o = cu_api_sessions_user_agent(ua);
	device = part(o, "device");
	os = part(o, "os");
	browser = part(o, "user_agent");
	family(device);
	family(os);
	family(browser);
	if (!json_object_object_get_ex(device, "brand", NULL) ||
	    !json_object_object_get_ex(device, "model", NULL))
		abort();
	number(os, "major");
	number(os, "patch");
	number(os, "patch_minor");
	number(browser, "major");
	number(browser, "minor");
	number(browser, "patch");
	if (!json_object_object_get_ex(o, "string", &v) ||
	    strcmp(json_object_get_string(v), ua) != 0)
		abort();
	again = cu_api_sessions_user_agent(ua);
	if (strcmp(json_object_to_json_string(o), json_object_to_json_string(again)) != 0)
		abort();
	json_object_put(again);
	json_object_put(o);
	cu_free(ua);
	return 0;
}
