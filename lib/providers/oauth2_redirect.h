/*
 * Redirect URI matching (pure: no database; unit-tested and fuzzed alone). A provider registers
 * [{matching_mode: "strict" | "regex", url, redirect_uri_type: "authorization" | "logout"}].
 *
 * Strict: the requested URI must be an absolute http or https URI that parses (RFC 3986) with no
 * userinfo, no fragment, no control characters, spaces or backslashes, and equal the registered
 * one exactly, byte for byte (so "..;/", case and trailing-dot host variants, "@" tricks and
 * added ports all differ). Regex: opt-in per entry; the POSIX extended expression is anchored
 * (^...$ added when absent) and matched against the whole URI, which must still pass the
 * checks above. Only http and https are ever redirected to.
 */
#ifndef CU_PROVIDERS_OAUTH2_REDIRECT_H
#define CU_PROVIDERS_OAUTH2_REDIRECT_H

#include <stddef.h>

struct json_object;

/* 1 when uri is an acceptable redirect target at all (the checks above), 0 when not. */
int cu_oauth2_redirect_uri_valid(const char *uri, size_t len);

/*
 * 1 when uri matches one of registered's entries of type kind ("authorization" or "logout";
 * an entry without redirect_uri_type is "authorization"), 0 when none does or uri is not
 * valid. A regex entry whose expression does not compile or passes CU_OAUTH2_MAX_REGEX matches
 * nothing.
 */
int cu_oauth2_redirect_match(struct json_object *registered, const char *kind, const char *uri);

/* 1 when re is a regex entry the matcher will use (registering one it would refuse must fail
 * at the API): not empty, at most CU_OAUTH2_MAX_REGEX bytes, within the cost bound, and a POSIX
 * extended expression once anchored. */
int cu_oauth2_redirect_regex_ok(const char *re);

#endif
