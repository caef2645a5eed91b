/*
 * Checks of prompt answers by field type (prompt.h). Each parser looks at exactly n bytes and
 * never reads past them; every length is capped before any work proportional to it.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "password.h"
#include "stages/prompt.h"

#define MSG_REQUIRED "This field is required."
#define MSG_NULL "This field may not be null."
#define MSG_BLANK "This field may not be blank."
#define MSG_STRING "Not a valid string."
#define MSG_EMAIL "Enter a valid email address."
#define MSG_INTEGER "A valid integer is required."
#define MSG_INT_TOO_LONG "String value too large."
#define MSG_BOOLEAN "Must be a valid boolean."
#define MSG_DATE "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
#define MSG_DATETIME                                                                               \
	"Datetime has wrong format. Use one of these formats instead: "                            \
	"YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
#define MSG_FILE_SCHEME "Invalid scheme"
#define MSG_FILE_ENCODING "Invalid encoding"

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Code points of well-formed UTF-8 (the JSON layer has checked it): lead bytes counted. */
static size_t
utf8_chars(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

/* n digits at s as a number; -1 when one is not a digit. */
static int
digits(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* --- e-mail: Django's EmailValidator, ASCII dot-atom local part and a hostname domain ---- */

static int
email_atext(char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

/* A dot-atom: atoms of atext joined by single dots. */
static int
email_local_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return 0;
		} else if (!email_atext(s[i])) {
			return 0;
		}
	}
	return 1;
}

/* Labels of letters, digits and inner hyphens, 1-63 long; at least two, the last (the TLD)
 * 2-63 long and not all digits. A trailing dot is allowed, as Django allows it. "localhost"
 * is accepted on its own. */
static int
email_domain_valid(const char *s, size_t n)
{
	size_t i, start = 0, labels = 0, last_len = 0;
	int last_alpha = 0;

	if (n == 9 && memcmp(s, "localhost", 9) == 0)
		return 1;
	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			size_t len = i - start, j;

			if (len == 0 || len > 63 || s[start] == '-' || s[i - 1] == '-')
				return 0;
			last_alpha = 0;
			for (j = start; j < i; j++) {
				if (!is_alnum(s[j]) && s[j] != '-')
					return 0;
				if (!is_digit(s[j]))
					last_alpha = 1;
			}
			last_len = len;
			labels++;
			start = i + 1;
		}
	}
	return labels >= 2 && last_len >= 2 && last_alpha;
}

int
cu_prompt_email_valid(const char *s, size_t n)
{
	const char *at;

	if (n == 0 || n > CU_PROMPT_MAX_EMAIL)
		return 0;
	at = memchr(s, '@', n);
	if (at == NULL || memchr(at + 1, '@', n - (size_t)(at - s) - 1) != NULL)
		return 0;
	return email_local_valid(s, (size_t)(at - s)) &&
	       email_domain_valid(at + 1, n - (size_t)(at - s) - 1);
}

/* --- dates ----------------------------------------------------------------------------- */

static int
month_days(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

int
cu_prompt_date_valid(const char *s, size_t n)
{
	int y, m, d;

	if (n != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	y = digits(s, 4);
	m = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return 0;
	return d <= month_days(y, m);
}

/*
 * Django's parse_datetime: a date, 'T' or a space, hh:mm, optional :ss with an optional
 * fraction of 1-6 digits (Django reads more and drops them; refused here), then nothing, 'Z',
 * or an offset +hh, +hhmm or +hh:mm.
 */
int
cu_prompt_datetime_valid(const char *s, size_t n)
{
	size_t i;
	int hh, mm;

	if (n < 16 || !cu_prompt_date_valid(s, 10) || (s[10] != 'T' && s[10] != ' '))
		return 0;
	hh = digits(s + 11, 2);
	mm = digits(s + 14, 2);
	if (s[13] != ':' || hh < 0 || hh > 23 || mm < 0 || mm > 59)
		return 0;
	i = 16;
	if (i < n && s[i] == ':') {
		int ss;

		if (n < i + 3 || (ss = digits(s + i + 1, 2)) < 0 || ss > 59)
			return 0;
		i += 3;
		if (i < n && (s[i] == '.' || s[i] == ',')) {
			size_t f = 0;

			i++;
			while (i < n && is_digit(s[i]) && f < 7) {
				i++;
				f++;
			}
			if (f == 0 || f > 6)
				return 0;
		}
	}
	if (i == n)
		return 1;
	if (s[i] == 'Z')
		return i + 1 == n;
	if (s[i] != '+' && s[i] != '-')
		return 0;
	i++;
	if (n - i == 2)
		return (hh = digits(s + i, 2)) >= 0 && hh <= 23;
	if (n - i == 4)
		return (hh = digits(s + i, 2)) >= 0 && hh <= 23 &&
		       (mm = digits(s + i + 2, 2)) >= 0 && mm <= 59;
	if (n - i == 5 && s[i + 2] == ':')
		return (hh = digits(s + i, 2)) >= 0 && hh <= 23 &&
		       (mm = digits(s + i + 3, 2)) >= 0 && mm <= 59;
	return 0;
}

/* --- numbers and booleans -------------------------------------------------------------- */

int
cu_prompt_int_parse(const char *s, size_t n, long long *out)
{
	size_t i = 0, end = n;
	unsigned long long v = 0, limit;
	int neg = 0, any = 0;

	if (n > CU_PROMPT_MAX_NUMBER_TEXT)
		return -1;
	while (i < end && is_blank(s[i]))
		i++;
	while (end > i && is_blank(s[end - 1]))
		end--;
	/* DRF strips a ".000" tail: "7.0" is 7, "7.5" is not an integer. */
	for (size_t k = i; k < end; k++) {
		if (s[k] == '.') {
			size_t z;

			for (z = k + 1; z < end; z++)
				if (s[z] != '0')
					return -1;
			end = k;
			break;
		}
	}
	if (i < end && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	limit = neg ? (unsigned long long)LLONG_MAX + 1ULL : (unsigned long long)LLONG_MAX;
	for (; i < end; i++) {
		if (!is_digit(s[i]))
			return -1;
		if (v > (limit - (unsigned long long)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long long)(s[i] - '0');
		any = 1;
	}
	if (!any)
		return -1;
	if (neg)
		*out = v == (unsigned long long)LLONG_MAX + 1ULL ? LLONG_MIN : -(long long)v;
	else
		*out = (long long)v;
	return 0;
}

int
cu_prompt_bool_parse(const char *s, size_t n, int *out)
{
	static const char *const yes[] = {"t",    "T",    "y",    "Y",  "yes", "Yes", "YES",
	                                  "true", "True", "TRUE", "on", "On",  "ON",  "1"};
	static const char *const no[] = {"f",     "F",     "n",     "N",   "no",  "No",  "NO",
	                                 "false", "False", "FALSE", "off", "Off", "OFF", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strlen(yes[i]) == n && memcmp(yes[i], s, n) == 0) {
			*out = 1;
			return 0;
		}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strlen(no[i]) == n && memcmp(no[i], s, n) == 0) {
			*out = 0;
			return 0;
		}
	return -1;
}

/* --- files ----------------------------------------------------------------------------- */

/* "data:<mime>;base64,<payload>": authentik checks the scheme and that the part after the
 * first ';' of the header is exactly "base64"; the payload must be base64 here as well. */
int
cu_prompt_file_valid(const char *s, size_t n)
{
	const char *comma, *semi, *p;
	size_t i, plen, pad = 0;

	if (n < 5 || n > CU_PROMPT_MAX_FILE || memcmp(s, "data:", 5) != 0)
		return 0;
	comma = memchr(s + 5, ',', n - 5);
	if (comma == NULL)
		return 0;
	semi = memchr(s + 5, ';', (size_t)(comma - s) - 5);
	if (semi == NULL || (size_t)(comma - semi - 1) != 6 || memcmp(semi + 1, "base64", 6) != 0)
		return 0;
	p = comma + 1;
	plen = n - (size_t)(p - s);
	if (plen % 4 != 0)
		return 0;
	for (i = 0; i < plen; i++) {
		char c = p[i];

		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || !(is_alnum(c) || c == '+' || c == '/'))
			return 0;
	}
	return pad <= 2;
}

/* --- one answer ------------------------------------------------------------------------ */

int
cu_prompt_type_forced(const char *type)
{
	return strcmp(type, "static") == 0 || strcmp(type, "hidden") == 0 ||
	       strcmp(type, "separator") == 0 || strcmp(type, "text_read_only") == 0 ||
	       strcmp(type, "text_area_read_only") == 0;
}

int
cu_prompt_type_choice(const char *type)
{
	return strcmp(type, "radio-button-group") == 0 || strcmp(type, "dropdown") == 0;
}

static int
fail(struct cu_prompt_error *err, const char *msg, const char *code)
{
	err->pe_msg = msg;
	err->pe_code = code;
	return -1;
}

/* DRF's CharField input: strings, and numbers by their text; booleans, lists and objects
 * are not strings. */
static int
as_text(struct json_object *v, const char **s, size_t *n)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		*s = json_object_get_string(v);
		*n = (size_t)json_object_get_string_len(v);
		return 0;
	case json_type_int:
	case json_type_double:
		*s = cu_json_text(v, n);
		return 0;
	default:
		return -1;
	}
}

/* The text answer s[0..n) for f (not a number or checkbox): caps, blanks and the type. */
static int
check_text(struct cu_arena *a, const struct cu_prompt_field *f, const char *s, size_t n,
           struct json_object **out, struct cu_prompt_error *err)
{
	const char *t = f->pf_type;
	size_t max = CU_PROMPT_MAX_TEXT, i;
	int trim = 1, allow_blank = !f->pf_required;

	if (strcmp(t, "text") == 0 || strcmp(t, "text_area") == 0)
		trim = 0;
	else if (strcmp(t, "password") == 0)
		/* Taken as typed, never blank, and no longer than a password can be hashed. */
		trim = 0, allow_blank = 0, max = CU_PASSWORD_MAX_LEN;
	else if (strcmp(t, "username") == 0)
		max = CU_PROMPT_MAX_USERNAME, allow_blank = 0;
	else if (strcmp(t, "email") == 0)
		max = CU_PROMPT_MAX_EMAIL;
	else if (strcmp(t, "ak-locale") == 0)
		max = CU_PROMPT_MAX_LOCALE, allow_blank = 1;
	else if (strcmp(t, "file") == 0)
		max = CU_PROMPT_MAX_FILE, allow_blank = 0;
	else if (cu_prompt_type_choice(t))
		allow_blank = 0;
	if (trim) {
		while (n > 0 && is_blank(s[0]))
			s++, n--;
		while (n > 0 && is_blank(s[n - 1]))
			n--;
	}
	if (n == 0 && !cu_prompt_type_choice(t)) {
		if (!allow_blank)
			return fail(err, MSG_BLANK, "blank");
		*out = cu_json_adopt(a, json_object_new_string(""));
		return 0;
	}
	/* Files and passwords are limited in bytes (what is stored or hashed), the rest in
	 * characters. */
	if (strcmp(t, "file") == 0 || strcmp(t, "password") == 0 ? n > max
	                                                         : utf8_chars(s, n) > max) {
		err->pe_msg =
		    cu_arena_printf(a, "Ensure this field has no more than %zu characters.", max);
		err->pe_code = "max_length";
		return -1;
	}
	if (strcmp(t, "email") == 0 && !cu_prompt_email_valid(s, n))
		return fail(err, MSG_EMAIL, "invalid");
	if (strcmp(t, "date") == 0 && !cu_prompt_date_valid(s, n))
		return fail(err, MSG_DATE, "invalid");
	if (strcmp(t, "date-time") == 0 && !cu_prompt_datetime_valid(s, n))
		return fail(err, MSG_DATETIME, "invalid");
	if (strcmp(t, "file") == 0) {
		if (n < 5 || memcmp(s, "data:", 5) != 0)
			return fail(err, MSG_FILE_SCHEME, "invalid");
		if (!cu_prompt_file_valid(s, n))
			return fail(err, MSG_FILE_ENCODING, "invalid");
	}
	if (cu_prompt_type_choice(t)) {
		for (i = 0; i < f->pf_nchoices; i++)
			if (strlen(f->pf_choices[i]) == n && memcmp(f->pf_choices[i], s, n) == 0)
				break;
		if (i == f->pf_nchoices) {
			err->pe_msg =
			    cu_arena_printf(a, "\"%.*s\" is not a valid choice.", (int)n, s);
			err->pe_code = "invalid_choice";
			return -1;
		}
	}
	*out = cu_json_adopt(a, json_object_new_string_len(s, (int)n));
	return 0;
}

static int
check_number(struct cu_arena *a, struct json_object *v, struct json_object **out,
             struct cu_prompt_error *err)
{
	long long n;

	switch (json_object_get_type(v)) {
	case json_type_int:
		n = (long long)json_object_get_int64(v);
		/* json-c saturates what does not fit: those two values are not trusted. */
		if (n == LLONG_MAX || n == LLONG_MIN)
			return fail(err, MSG_INTEGER, "invalid");
		break;
	case json_type_double: {
		double d = json_object_get_double(v);

		if (!(d >= -9.0e15 && d <= 9.0e15) || d != (double)(long long)d)
			return fail(err, MSG_INTEGER, "invalid");
		n = (long long)d;
		break;
	}
	case json_type_string: {
		size_t len = (size_t)json_object_get_string_len(v);

		if (len > CU_PROMPT_MAX_NUMBER_TEXT)
			return fail(err, MSG_INT_TOO_LONG, "max_string_length");
		if (cu_prompt_int_parse(json_object_get_string(v), len, &n) != 0)
			return fail(err, MSG_INTEGER, "invalid");
		break;
	}
	default:
		return fail(err, MSG_INTEGER, "invalid");
	}
	*out = cu_json_adopt(a, json_object_new_int64(n));
	return 0;
}

static int
check_bool(struct cu_arena *a, struct json_object *v, struct json_object **out,
           struct cu_prompt_error *err)
{
	int b;

	switch (json_object_get_type(v)) {
	case json_type_boolean:
		b = json_object_get_boolean(v);
		break;
	case json_type_int: {
		int64_t i = json_object_get_int64(v);

		if (i != 0 && i != 1)
			return fail(err, MSG_BOOLEAN, "invalid");
		b = (int)i;
		break;
	}
	case json_type_double: {
		double d = json_object_get_double(v);

		if (d != 0.0 && d != 1.0)
			return fail(err, MSG_BOOLEAN, "invalid");
		b = d == 1.0;
		break;
	}
	case json_type_string:
		if (cu_prompt_bool_parse(json_object_get_string(v),
		                         (size_t)json_object_get_string_len(v), &b) != 0)
			return fail(err, MSG_BOOLEAN, "invalid");
		break;
	default:
		return fail(err, MSG_BOOLEAN, "invalid");
	}
	*out = cu_json_adopt(a, json_object_new_boolean(b));
	return 0;
}

int
cu_prompt_value_check(struct cu_arena *a, const struct cu_prompt_field *f, int present,
                      struct json_object *v, struct json_object **out, struct cu_prompt_error *err)
{
	const char *t = f->pf_type, *s = NULL;
	size_t n = 0;

	*out = NULL;
	err->pe_msg = NULL;
	err->pe_code = NULL;
	if (!present) {
		struct json_object *d = NULL;
		struct cu_prompt_error ignored;

		if (f->pf_default == NULL) {
			/* A checkbox is never required: unticked boxes are simply not sent. */
			if (f->pf_required && strcmp(t, "checkbox") != 0)
				return fail(err, MSG_REQUIRED, "required");
			return 0;
		}
		/* DRF stores a default as it is; a typed one is converted when it converts. */
		d = cu_json_adopt(a, json_object_new_string(f->pf_default));
		if (strcmp(t, "number") == 0 && check_number(a, d, out, &ignored) == 0)
			return 0;
		if (strcmp(t, "checkbox") == 0 && check_bool(a, d, out, &ignored) == 0)
			return 0;
		*out = d;
		return 0;
	}
	if (v == NULL)
		return fail(err, MSG_NULL, "null");
	if (strcmp(t, "number") == 0)
		return check_number(a, v, out, err);
	if (strcmp(t, "checkbox") == 0)
		return check_bool(a, v, out, err);
	if (as_text(v, &s, &n) != 0)
		return fail(err, MSG_STRING, "invalid");
	return check_text(a, f, s, n, out, err);
}
