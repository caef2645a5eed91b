/*
 * cu_api_files_name_check and cu_api_files_sniff on arbitrary bytes. A name accepted must keep
 * every rule on its own terms (checked here again, differently); a type found must be one of
 * the six, and an SVG must hold no DOCTYPE.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/files.h"
#include "arena.h"
#include "xmlsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_name(const char *s, size_t n)
{
	const char *why = NULL;
	size_t i, part = 0;

	if (cu_api_files_name_check(s, n, &why) != 0) {
		if (why == NULL)
			abort();
		return;
	}
	if (why != NULL || n == 0 || n > CU_API_FILES_MAX_NAME || s[0] == '/' || s[0] == '.' ||
	    s[n - 1] == '/')
		abort();
	for (i = 0; i < n; i++) {
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/",
		           s[i]) == NULL ||
		    s[i] == '\0')
			abort();
		if (s[i] == '/') {
			if (part == 0)
				abort(); /* "//" */
			part = 0;
			continue;
		}
		part++;
		if (part > CU_API_FILES_MAX_PART)
			abort();
		/* A part that is "." or ".." ends here. */
		if ((i + 1 == n || s[i + 1] == '/') &&
		    ((part == 1 && s[i] == '.') || (part == 2 && s[i] == '.' && s[i - 1] == '.')))
			abort();
	}
}

static void
check_type(struct cu_arena *a, const char *s, size_t n)
{
	static const char *const types[] = {"image/png",  "image/jpeg",   "image/gif",
	                                    "image/webp", "image/x-icon", "image/svg+xml"};
	const char *t = cu_api_files_sniff(a, s, n);
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(t, types[i]) == 0)
			break;
	if (i == sizeof(types) / sizeof(types[0]))
		abort();
	if (strcmp(t, "image/svg+xml") == 0) {
		for (i = 0; i + 9 <= n; i++)
			if (strncasecmp(s + i, "<!DOCTYPE", 9) == 0)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct cu_arena a;

	if (!ready) {
		if (cu_xmlsig_init() != 0)
			abort();
		ready = 1;
	}
	cu_arena_init(&a);
	check_name((const char *)data, size);
	check_type(&a, (const char *)data, size);
	cu_arena_free(&a);
	return 0;
}
