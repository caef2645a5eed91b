/*
 * Redirect URI matching on arbitrary input: every authorization request's redirect_uri reaches
 * it, and what it accepts gets a code or a token. The input is "<uri>\n<registered>" where the
 * first byte of <registered> picks strict (even) or regex (odd) and the rest is the entry's url.
 * Invariants: a URI accepted by cu_oauth2_redirect_uri_valid (and so any matched one) is an
 * absolute http(s) URI of printable ASCII with no userinfo, fragment, backslash or dot segment,
 * within CU_OAUTH2_MAX_REDIRECT_URI; a strict match is byte-for-byte equality; a URI with a NUL
 * inside is never valid; nothing crashes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "bounds.h"
#include "providers/oauth2_redirect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The properties the fuzzer holds an accepted URI to, checked the plain way. */
static int
plain_ok(const char *u, size_t n)
{
	size_t i, host, end;

	if (n == 0 || n > CU_OAUTH2_MAX_REDIRECT_URI)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];

		if (c <= 0x20 || c >= 0x7f || c == '\\' || c == '#')
			return 0;
	}
	if (n > 8 && strncasecmp(u, "https://", 8) == 0)
		host = 8;
	else if (n > 7 && strncasecmp(u, "http://", 7) == 0)
		host = 7;
	else
		return 0;
	/* The authority runs to the first '/' or '?': no userinfo in it, not empty. */
	for (end = host; end < n && u[end] != '/' && u[end] != '?'; end++)
		if (u[end] == '@')
			return 0;
	if (end == host)
		return 0;
	/* No "/../" or "/./" segment, nor one at the end, in the path. */
	for (i = end; i < n && u[i] != '?'; i++) {
		if (u[i] != '/')
			continue;
		if ((i + 2 < n && u[i + 1] == '.' && u[i + 2] == '.' &&
		     (i + 3 == n || u[i + 3] == '/' || u[i + 3] == '?' || u[i + 3] == ';')) ||
		    (i + 1 < n && u[i + 1] == '.' &&
		     (i + 2 == n || u[i + 2] == '/' || u[i + 2] == '?' || u[i + 2] == ';')))
			return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nl;
	struct json_object *reg = NULL, *entry;
	char *uri = NULL, *url = NULL;
	size_t ulen, rlen;
	int regex, v, m;

	if (size > 4096)
		return 0;
	nl = memchr(s, '\n', size);
	ulen = nl != NULL ? (size_t)(nl - s) : size;
	/* The length-taking check sees the raw bytes, NULs included. */
	v = cu_oauth2_redirect_uri_valid(s, ulen);
	if (v && (memchr(s, '\0', ulen) != NULL || !plain_ok(s, ulen)))
		abort();

	uri = calloc(1, ulen + 1);
	if (uri == NULL)
		return 0;
	memcpy(uri, s, ulen);
	rlen = nl != NULL ? size - ulen - 1 : 0;
	regex = rlen > 0 && (((const unsigned char *)nl)[1] & 1);
	url = calloc(1, rlen + 1);
	if (url == NULL)
		goto out;
	if (rlen > 1)
		memcpy(url, nl + 2, rlen - 1);

	reg = json_object_new_array();
	entry = json_object_new_object();
	json_object_object_add(entry, "matching_mode",
	                       json_object_new_string(regex ? "regex" : "strict"));
	json_object_object_add(entry, "url", json_object_new_string(url));
	json_object_array_add(reg, entry);
	m = cu_oauth2_redirect_match(reg, "authorization", uri);
	if (m) {
		size_t n = strlen(uri);

		if (!cu_oauth2_redirect_uri_valid(uri, n) || !plain_ok(uri, n))
			abort();
		if (!regex && strcmp(uri, url) != 0)
			abort();
	}
	/* Another kind never matches an authorization entry. */
	if (cu_oauth2_redirect_match(reg, "logout", uri))
		abort();
out:
	json_object_put(reg);
	free(url);
	free(uri);
	return 0;
}
