/*
 * Redirect URI matching (oauth2_redirect.h). A redirect URI is where an authorization code or a
 * token goes, so the checks err on the side of refusing: the URI must be an absolute http(s)
 * URI in RFC 3986's character set, with a plain host (letters, digits, '-', '.', '_' or an IPv6
 * literal), an optional port, no userinfo, no fragment, and no path segment a server could
 * resolve upwards ("..", ".", their percent-encoded and ";"-suffixed forms, encoded slashes).
 * Those rules hold for regex entries too, so an expression written loosely still cannot send a
 * code to "https://rp.example@evil/" or "https://rp.example/cb/..%2F..%2Fevil".
 */
#include "providers/oauth2_redirect.h"

#include <ctype.h>
#include <regex.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "bounds.h"

/* RFC 3986 §2.3 unreserved. */
static int
is_unreserved(int c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 3986 §2.2 sub-delims. */
static int
is_subdelim(int c)
{
	return c != '\0' && strchr("!$&'()*+,;=", c) != NULL;
}

static int
is_hex(int c)
{
	return isxdigit(c) != 0;
}

/* A path or query character other than '%' (pchar plus '/', and '?' in the query). */
static int
is_pchar(int c, int in_query)
{
	if (c > 0x7e || c < 0x21)
		return 0;
	return is_unreserved(c) || is_subdelim(c) || c == ':' || c == '@' || c == '/' ||
	       (in_query && c == '?');
}

/* The host: an IPv6 literal, or a name of letters, digits, '-', '.', '_' without empty labels
 * except a trailing dot. *pos is advanced past it. */
static int
host_ok(const char *s, size_t n, size_t *pos)
{
	size_t i = *pos, start = i;

	if (i < n && s[i] == '[') {
		i++;
		while (i < n && (is_hex((unsigned char)s[i]) || s[i] == ':' || s[i] == '.'))
			i++;
		/* At least "::", and a close bracket; zone identifiers ("%25eth0") are refused. */
		if (i >= n || s[i] != ']' || i - start < 3)
			return 0;
		*pos = i + 1;
		return 1;
	}
	while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '.' || s[i] == '_'))
		i++;
	if (i == start || s[start] == '.')
		return 0;
	for (; start + 1 < i; start++)
		if (s[start] == '.' && s[start + 1] == '.')
			return 0;
	*pos = i;
	return 1;
}

/* ":port": 1 to 65535, digits only, no leading zero. */
static int
port_ok(const char *s, size_t n, size_t *pos)
{
	size_t i = *pos + 1, start = i;
	long v = 0;

	while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 6) {
		v = v * 10 + (s[i] - '0');
		i++;
	}
	if (i == start || s[start] == '0' || v > 65535 || i - start > 5)
		return 0;
	*pos = i;
	return 1;
}

/* 1 when the segment s[0..n) would be read as "." or ".." by some server: dots, possibly
 * percent-encoded, before an optional ";parameter" (Tomcat's "..;/"). */
static int
dot_segment(const char *s, size_t n)
{
	size_t i = 0, dots = 0;

	while (i < n && s[i] != ';') {
		if (s[i] == '.') {
			i++;
		} else if (i + 2 < n && s[i] == '%' && s[i + 1] == '2' &&
		           (s[i + 2] == 'e' || s[i + 2] == 'E')) {
			i += 3;
		} else {
			return 0;
		}
		dots++;
	}
	return dots == 1 || dots == 2;
}

/* The path and query from s[*pos]: allowed characters, well-formed escapes, no dot segments,
 * no encoded slash, backslash or NUL in the path. */
static int
path_query_ok(const char *s, size_t n, size_t pos)
{
	size_t i = pos, seg = pos;
	int in_query = 0;

	if (i < n && s[i] != '/' && s[i] != '?')
		return 0;
	for (; i <= n; i++) {
		int c = i < n ? (unsigned char)s[i] : '\0';

		if (!in_query && (c == '/' || c == '?' || c == '\0')) {
			if (i > seg && dot_segment(s + seg, i - seg))
				return 0;
			seg = i + 1;
			if (c == '?')
				in_query = 1;
			continue;
		}
		if (c == '\0')
			break;
		if (c == '%') {
			if (i + 2 >= n || !is_hex((unsigned char)s[i + 1]) ||
			    !is_hex((unsigned char)s[i + 2]))
				return 0;
			/* "%00", "%2F" and "%5C" in a path are a NUL, a slash or a backslash to
			 * whatever decodes it next. */
			if (!in_query &&
			    (strncmp(s + i, "%00", 3) == 0 || strncasecmp(s + i, "%2f", 3) == 0 ||
			     strncasecmp(s + i, "%5c", 3) == 0))
				return 0;
			i += 2;
			continue;
		}
		if (!is_pchar(c, in_query))
			return 0;
	}
	return 1;
}

int
cu_oauth2_redirect_uri_valid(const char *uri, size_t len)
{
	size_t pos;

	if (uri == NULL || len == 0 || len > CU_OAUTH2_MAX_REDIRECT_URI ||
	    memchr(uri, '\0', len) != NULL)
		return 0;
	if (len > 8 && strncasecmp(uri, "https://", 8) == 0)
		pos = 8;
	else if (len > 7 && strncasecmp(uri, "http://", 7) == 0)
		pos = 7;
	else
		return 0;
	if (!host_ok(uri, len, &pos))
		return 0;
	if (pos < len && uri[pos] == ':' && !port_ok(uri, len, &pos))
		return 0;
	/* Whatever follows the host must start the path or the query: this is where userinfo
	 * ("@"), a fragment ("#") or a backslash would show, and each is refused. */
	if (pos < len && uri[pos] != '/' && uri[pos] != '?')
		return 0;
	return path_query_ok(uri, len, pos);
}

/*
 * What compiling re would cost, estimated the way the regex compiler expands it: "x+" copies x
 * once more and "x{n,m}" copies it m times ("x*" and "x?" are counted as "x+", their closures
 * cost alike), so nested or stacked repetitions multiply ("a***", "((a{64}){64}){64}") into
 * millions of states, built again on every authorization request.
 * An expression past CU_OAUTH2_REDIRECT_MAX_STATES, with a bound over
 * CU_OAUTH2_REDIRECT_MAX_BOUND, with back-references (which make matching backtrack) or with
 * unbalanced parentheses is refused: 0. Otherwise 1.
 */
#define REGEX_MAX_DEPTH 32

struct regex_frame {
	unsigned long rf_total; /* the finished items of this group */
	unsigned long rf_last;  /* the item a repetition operator would apply to */
};

static unsigned long
cost_cap(unsigned long v)
{
	return v > CU_OAUTH2_REDIRECT_MAX_STATES ? CU_OAUTH2_REDIRECT_MAX_STATES + 1 : v;
}

/* Parses "{n}", "{n,}" or "{n,m}" at re + i; the copies it makes, or 0 when it is not a bound
 * (the compiler then reads '{' as itself or refuses it). *end gets the index past '}'. */
static unsigned long
regex_bound(const char *re, size_t i, size_t *end)
{
	unsigned long lo = 0, hi;
	size_t j = i + 1;

	if (!isdigit((unsigned char)re[j]))
		return 0;
	for (; isdigit((unsigned char)re[j]); j++)
		lo = cost_cap(lo * 10 + (unsigned long)(re[j] - '0'));
	hi = lo;
	if (re[j] == ',') {
		j++;
		if (isdigit((unsigned char)re[j])) {
			for (hi = 0; isdigit((unsigned char)re[j]); j++)
				hi = cost_cap(hi * 10 + (unsigned long)(re[j] - '0'));
		} else {
			hi = lo + 1;
		}
	}
	if (re[j] != '}')
		return 0;
	*end = j + 1;
	if (lo > CU_OAUTH2_REDIRECT_MAX_BOUND || hi > CU_OAUTH2_REDIRECT_MAX_BOUND)
		return CU_OAUTH2_REDIRECT_MAX_STATES + 1;
	return hi > 0 ? hi : 1;
}

/* Index past the bracket expression starting at re + i, or 0 when it is not closed. */
static size_t
regex_bracket(const char *re, size_t i)
{
	size_t j = i + 1;

	if (re[j] == '^')
		j++;
	if (re[j] == ']')
		j++;
	for (; re[j] != '\0'; j++) {
		if (re[j] == '[' && (re[j + 1] == ':' || re[j + 1] == '.' || re[j + 1] == '=')) {
			char kind = re[j + 1];

			for (j += 2; re[j] != '\0' && !(re[j] == kind && re[j + 1] == ']'); j++)
				;
			if (re[j] == '\0')
				return 0;
			j++;
			continue;
		}
		if (re[j] == ']')
			return j + 1;
	}
	return 0;
}

static int
regex_cheap(const char *re)
{
	struct regex_frame st[REGEX_MAX_DEPTH];
	size_t depth = 0, i = 0, end = 0;
	unsigned long copies, item;
	int after_rep = 0;

	memset(st, 0, sizeof(st));
	while (re[i] != '\0') {
		struct regex_frame *f = &st[depth];
		char c = re[i];

		if (st[depth].rf_total + st[depth].rf_last > CU_OAUTH2_REDIRECT_MAX_STATES)
			return 0;

		switch (c) {
		case '(':
			if (++depth >= REGEX_MAX_DEPTH)
				return 0;
			st[depth].rf_total = 0;
			st[depth].rf_last = 0;
			i++;
			after_rep = 0;
			continue;
		case ')':
			if (depth == 0)
				return 0;
			item = cost_cap(f->rf_total + f->rf_last + 1);
			depth--;
			st[depth].rf_total = cost_cap(st[depth].rf_total + st[depth].rf_last);
			st[depth].rf_last = item;
			i++;
			break;
		case '|':
			f->rf_total = cost_cap(f->rf_total + f->rf_last + 1);
			f->rf_last = 0;
			i++;
			break;
		case '*':
		case '?':
		case '+':
			/* A repetition of a repetition ("a**", "a+?") says nothing more and costs
			 * the compiler dearly. */
			if (after_rep)
				return 0;
			f->rf_last = cost_cap(f->rf_last * 2 + 1);
			i++;
			after_rep = 1;
			continue;
		case '{':
			if ((copies = regex_bound(re, i, &end)) != 0) {
				if (after_rep)
					return 0;
				f->rf_last = cost_cap(f->rf_last * copies + 1);
				i = end;
				after_rep = 1;
				continue;
			}
			f->rf_total = cost_cap(f->rf_total + f->rf_last);
			f->rf_last = 1;
			i++;
			break;
		case '[':
			if ((end = regex_bracket(re, i)) == 0)
				return 0;
			f->rf_total = cost_cap(f->rf_total + f->rf_last);
			f->rf_last = 1;
			i = end;
			break;
		case '\\':
			if (re[i + 1] >= '1' && re[i + 1] <= '9')
				return 0;
			f->rf_total = cost_cap(f->rf_total + f->rf_last);
			f->rf_last = 1;
			i += re[i + 1] != '\0' ? 2 : 1;
			break;
		default:
			f->rf_total = cost_cap(f->rf_total + f->rf_last);
			f->rf_last = 1;
			i++;
			break;
		}
		after_rep = 0;
	}
	return depth == 0 && st[0].rf_total + st[0].rf_last <= CU_OAUTH2_REDIRECT_MAX_STATES;
}

/* Compiles re anchored as a whole-URI match into rx: 0, or -1 for an expression the matcher
 * refuses (empty, too long, too costly, or not a POSIX extended expression). */
static int
regex_compile(regex_t *rx, const char *re)
{
	char anchored[CU_OAUTH2_MAX_REGEX + 8];
	size_t rlen = strlen(re);

	if (rlen == 0 || rlen > CU_OAUTH2_MAX_REGEX || !regex_cheap(re))
		return -1;
	/* Anchored as a group, so that "a|b" is "^(a|b)$" and not "^a|b$". */
	anchored[0] = '^';
	anchored[1] = '(';
	memcpy(anchored + 2, re, rlen);
	anchored[rlen + 2] = ')';
	anchored[rlen + 3] = '$';
	anchored[rlen + 4] = '\0';
	return regcomp(rx, anchored, REG_EXTENDED) == 0 ? 0 : -1;
}

int
cu_oauth2_redirect_regex_ok(const char *re)
{
	regex_t rx;

	if (regex_compile(&rx, re) != 0)
		return 0;
	regfree(&rx);
	return 1;
}

/* Whether the whole of uri matches the POSIX extended expression re. */
static int
regex_full_match(const char *re, const char *uri, size_t len)
{
	regmatch_t m[1];
	regex_t rx;
	int ok;

	if (regex_compile(&rx, re) != 0)
		return 0;
	/* The offsets are checked as well: the match must be the whole URI, whatever the
	 * expression did with the anchors. */
	ok = regexec(&rx, uri, 1, m, 0) == 0 && m[0].rm_so == 0 && (size_t)m[0].rm_eo == len;
	regfree(&rx);
	return ok;
}

static const char *
entry_string(struct json_object *e, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(e, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int
cu_oauth2_redirect_match(struct json_object *registered, const char *kind, const char *uri)
{
	size_t n, i, len;

	if (registered == NULL || uri == NULL || !json_object_is_type(registered, json_type_array))
		return 0;
	if (kind == NULL)
		kind = "authorization";
	len = strlen(uri);
	if (!cu_oauth2_redirect_uri_valid(uri, len))
		return 0;
	n = json_object_array_length(registered);
	if (n > CU_OAUTH2_MAX_REDIRECT_URIS)
		n = CU_OAUTH2_MAX_REDIRECT_URIS;
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(registered, i);
		const char *mode, *url, *type;

		if (e == NULL || !json_object_is_type(e, json_type_object))
			continue;
		url = entry_string(e, "url");
		mode = entry_string(e, "matching_mode");
		type = entry_string(e, "redirect_uri_type");
		if (url == NULL || strcmp(type != NULL ? type : "authorization", kind) != 0)
			continue;
		if (mode == NULL || strcmp(mode, "strict") == 0) {
			if (strlen(url) == len && memcmp(url, uri, len) == 0)
				return 1;
		} else if (strcmp(mode, "regex") == 0) {
			if (regex_full_match(url, uri, len))
				return 1;
		}
	}
	return 0;
}
