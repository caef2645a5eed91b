#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bounds.h"
#include "log.h"

/* Lines are captured through a pipe; the largest test output stays well under its capacity. */
static int cap_fds[2] = {-1, -1};
static char cap_buf[4 * CU_LOG_MAX_LINE];
static size_t cap_len;

static int
cap_setup(void **state)
{
	(void)state;
	if (pipe(cap_fds) != 0 || fcntl(cap_fds[0], F_SETFL, O_NONBLOCK) != 0)
		return -1;
	cu_log_set_fd(cap_fds[1]);
	cu_log_init("test", CU_LOG_TRACE);
	cu_log_set_request_id(NULL);
	return 0;
}

static int
cap_teardown(void **state)
{
	(void)state;
	cu_log_set_fd(STDERR_FILENO);
	close(cap_fds[0]);
	close(cap_fds[1]);
	cap_fds[0] = cap_fds[1] = -1;
	return 0;
}

/* Everything written since the last call. */
static const char *
cap_read(void)
{
	ssize_t n;

	cap_len = 0;
	while ((n = read(cap_fds[0], cap_buf + cap_len, sizeof(cap_buf) - 1 - cap_len)) > 0)
		cap_len += (size_t)n;
	cap_buf[cap_len] = '\0';
	return cap_buf;
}

/* Parses exactly one line as strict JSON with UTF-8 checks; NULL when it is not that. */
static struct json_object *
parse_line(const char *s)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	size_t len = strlen(s);

	assert_non_null(tok);
	assert_true(len > 0);
	assert_int_equal(s[len - 1], '\n');
	assert_null(memchr(s, '\n', len - 1));
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)len - 1);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	                  (size_t)json_tokener_get_parse_end(tok) != len - 1)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static const char *
get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int
has_key(struct json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

static void
test_basic_line(void **state)
{
	struct json_object *o, *v;
	const char *line, *t;

	(void)state;
	cu_log(CU_LOG_INFO, "request", CU_LS("method", "GET"), CU_LI("status", 200),
	       CU_LB("cached", 1), CU_LD("ms", 1.5));
	line = cap_read();
	o = parse_line(line);
	assert_non_null(o);
	t = get_str(o, "time");
	assert_non_null(t);
	/* 2026-11-30T01:02:03.456Z */
	assert_int_equal(strlen(t), 24);
	assert_int_equal(t[4], '-');
	assert_int_equal(t[10], 'T');
	assert_int_equal(t[19], '.');
	assert_int_equal(t[23], 'Z');
	assert_string_equal(get_str(o, "level"), "info");
	assert_string_equal(get_str(o, "component"), "test");
	assert_string_equal(get_str(o, "event"), "request");
	assert_false(has_key(o, "request_id"));
	assert_string_equal(get_str(o, "method"), "GET");
	assert_true(json_object_object_get_ex(o, "status", &v));
	assert_int_equal(json_object_get_int64(v), 200);
	assert_true(json_object_object_get_ex(o, "cached", &v));
	assert_true(json_object_is_type(v, json_type_boolean));
	assert_true(json_object_object_get_ex(o, "ms", &v));
	assert_true(json_object_get_double(v) == 1.5);
	json_object_put(o);

	/* The order is the documented one. */
	assert_true(strstr(line, "\"time\"") < strstr(line, "\"level\""));
	assert_true(strstr(line, "\"level\"") < strstr(line, "\"component\""));
	assert_true(strstr(line, "\"component\"") < strstr(line, "\"event\""));
	assert_true(strstr(line, "\"event\"") < strstr(line, "\"method\""));
	assert_true(strstr(line, "\"method\"") < strstr(line, "\"status\""));
	assert_true(strstr(line, "\"status\"") < strstr(line, "\"cached\""));
	assert_int_equal(line[0], '{');
	assert_true(strncmp(line, "{\"time\":", 8) == 0);
}

static void
test_request_id(void **state)
{
	struct json_object *o;
	char id[300];
	const char *line;

	(void)state;
	cu_log_set_request_id("req-123");
	cu_log_msg(CU_LOG_WARNING, "ev", "m");
	line = cap_read();
	o = parse_line(line);
	assert_non_null(o);
	assert_string_equal(get_str(o, "request_id"), "req-123");
	assert_string_equal(get_str(o, "level"), "warning");
	assert_true(strstr(line, "\"component\"") < strstr(line, "\"request_id\""));
	assert_true(strstr(line, "\"request_id\"") < strstr(line, "\"event\""));
	json_object_put(o);

	/* A long id is cut, never allowed to overflow. */
	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	cu_log_set_request_id(id);
	cu_log_msg(CU_LOG_INFO, "ev", "m");
	o = parse_line(cap_read());
	assert_non_null(o);
	assert_true(strlen(get_str(o, "request_id")) < strlen(id));
	json_object_put(o);

	cu_log_set_request_id("");
	cu_log_msg(CU_LOG_INFO, "ev", "m");
	o = parse_line(cap_read());
	assert_non_null(o);
	assert_false(has_key(o, "request_id"));
	json_object_put(o);
	cu_log_set_request_id(NULL);
}

static void
test_escaping(void **state)
{
	static const char nasty[] = "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f caf\xc3\xa9 \xe2\x82\xac "
	                            "\xf0\x9f\x94\x91";
	struct json_object *o;
	const char *line;

	(void)state;
	cu_log(CU_LOG_INFO, "esc\"ape", CU_LS("k\"ey", nasty), CU_LS("nul", NULL));
	line = cap_read();
	o = parse_line(line);
	assert_non_null(o);
	assert_string_equal(get_str(o, "event"), "esc\"ape");
	assert_string_equal(get_str(o, "k\"ey"), nasty);
	assert_true(json_object_object_get_ex(o, "nul", NULL));
	assert_null(get_str(o, "nul"));
	assert_non_null(strstr(line, "\\u0001"));
	assert_non_null(strstr(line, "\\n"));
	json_object_put(o);
}

static void
test_invalid_utf8(void **state)
{
	/* A lone continuation byte, a truncated sequence, an overlong '/', a surrogate, 0xff. */
	static const char bad[] = "a\x80"
	                          "b\xc3"
	                          "c\xc0\xaf"
	                          "d\xed\xa0\x80"
	                          "e\xff";
	struct json_object *o;
	const char *v;

	(void)state;
	cu_log(CU_LOG_INFO, "utf8", CU_LS("v", bad));
	o = parse_line(cap_read());
	assert_non_null(o);
	v = get_str(o, "v");
	assert_non_null(v);
	assert_true(strncmp(v,
	                    "a\xef\xbf\xbd"
	                    "b\xef\xbf\xbd"
	                    "c",
	                    9) == 0);
	assert_non_null(strstr(v, "e\xef\xbf\xbd"));
	json_object_put(o);
}

static void
test_numbers(void **state)
{
	struct json_object *o, *v;
	const char *line;

	(void)state;
	cu_log(CU_LOG_INFO, "num", CU_LD("nan", NAN), CU_LD("inf", INFINITY),
	       CU_LD("ninf", -INFINITY), CU_LD("tenth", 0.1), CU_LD("big", 1e300),
	       CU_LI("min", (-9223372036854775807LL - 1)), CU_LB("no", 0));
	line = cap_read();
	o = parse_line(line);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "nan", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(o, "inf", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(o, "ninf", &v));
	assert_null(v);
	assert_non_null(strstr(line, "\"tenth\":0.1,"));
	assert_true(json_object_object_get_ex(o, "big", &v));
	assert_true(json_object_get_double(v) == 1e300);
	assert_non_null(strstr(line, "\"min\":-9223372036854775808"));
	assert_non_null(strstr(line, "\"no\":false"));
	json_object_put(o);
}

static void
test_levels(void **state)
{
	enum cu_log_level l;

	(void)state;
	cu_log_init("test", CU_LOG_WARNING);
	assert_int_equal(cu_log_level_get(), CU_LOG_WARNING);
	cu_log_msg(CU_LOG_TRACE, "no", "x");
	cu_log_msg(CU_LOG_DEBUG, "no", "x");
	cu_log_msg(CU_LOG_INFO, "no", "x");
	assert_int_equal(strlen(cap_read()), 0);
	cu_log_msg(CU_LOG_WARNING, "yes", "x");
	cu_log_msg(CU_LOG_ERROR, "yes", "x");
	cap_read();
	assert_non_null(strstr(cap_buf, "\"level\":\"warning\""));
	assert_non_null(strstr(cap_buf, "\"level\":\"error\""));
	assert_null(strstr(cap_buf, "\"event\":\"no\""));
	cu_log_init("test", CU_LOG_TRACE);

	assert_int_equal(cu_log_level_parse("trace", &l), 0);
	assert_int_equal(l, CU_LOG_TRACE);
	assert_int_equal(cu_log_level_parse("debug", &l), 0);
	assert_int_equal(l, CU_LOG_DEBUG);
	assert_int_equal(cu_log_level_parse("info", &l), 0);
	assert_int_equal(l, CU_LOG_INFO);
	assert_int_equal(cu_log_level_parse("warning", &l), 0);
	assert_int_equal(l, CU_LOG_WARNING);
	assert_int_equal(cu_log_level_parse("warn", &l), 0);
	assert_int_equal(l, CU_LOG_WARNING);
	assert_int_equal(cu_log_level_parse("ERROR", &l), 0);
	assert_int_equal(l, CU_LOG_ERROR);
	assert_int_equal(cu_log_level_parse("verbose", &l), -1);
	assert_int_equal(cu_log_level_parse("", &l), -1);
	assert_int_equal(cu_log_level_parse(NULL, &l), -1);
}

static void
check_truncated(const char *line, const char *kept, const char *dropped)
{
	struct json_object *o, *v;

	assert_true(strlen(line) <= CU_LOG_MAX_LINE);
	o = parse_line(line);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "truncated", &v));
	assert_true(json_object_get_boolean(v));
	assert_string_equal(get_str(o, "event"), "big");
	if (kept != NULL)
		assert_true(has_key(o, kept));
	if (dropped != NULL)
		assert_false(has_key(o, dropped));
	json_object_put(o);
}

static void
test_truncation(void **state)
{
	static char big[CU_LOG_MAX_LINE + 100];
	static char ctl[CU_LOG_MAX_LINE / 2];
	static struct cu_log_field many[2000];
	static char keys[2000][8];
	size_t i;

	(void)state;

	/* One field longer than a line: it goes, and the ones after it, never half of it. */
	memset(big, 'a', CU_LOG_MAX_LINE + 99);
	big[CU_LOG_MAX_LINE + 99] = '\0';
	cu_log(CU_LOG_INFO, "big", CU_LS("before", "x"), CU_LS("huge", big), CU_LS("after", "y"));
	check_truncated(cap_read(), "before", "huge");
	assert_null(strstr(cap_buf, "\"after\""));

	/* Escaping grows a string sixfold; the cut must count escaped bytes. */
	memset(ctl, '\x01', CU_LOG_MAX_LINE / 2 - 1);
	ctl[CU_LOG_MAX_LINE / 2 - 1] = '\0';
	cu_log(CU_LOG_INFO, "big", CU_LS("first", "x"), CU_LS("ctl", ctl));
	check_truncated(cap_read(), "first", "ctl");

	/* Many small fields: the line ends at a field boundary just under the limit. */
	for (i = 0; i < 1999; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
		many[i] = CU_LS(keys[i], "0123456789");
	}
	many[1999] = (struct cu_log_field){.lf_type = CU_LOG_T_END};
	cu_log_write(CU_LOG_INFO, "big", many);
	check_truncated(cap_read(), "k0", "k1998");
	assert_true(cap_len > CU_LOG_MAX_LINE - 64);

	/* A line that fits exactly is not marked. */
	cu_log(CU_LOG_INFO, "small", CU_LS("a", "b"));
	assert_null(strstr(cap_read(), "truncated"));
}

static void
test_lines_are_separate(void **state)
{
	const char *p;
	int n = 0;

	(void)state;
	cu_log_msg(CU_LOG_INFO, "one", "multi\nline");
	cu_log_msg(CU_LOG_INFO, "two", "x");
	cu_log_msg(CU_LOG_INFO, "three", "y");
	p = cap_read();
	while ((p = strchr(p, '\n')) != NULL) {
		n++;
		p++;
	}
	assert_int_equal(n, 3);
}

static void
test_errno_kept(void **state)
{
	(void)state;
	errno = ENOENT;
	cu_log_msg(CU_LOG_INFO, "ev", "x");
	assert_int_equal(errno, ENOENT);
	cap_read();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic_line), cmocka_unit_test(test_request_id),
	    cmocka_unit_test(test_escaping),   cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_numbers),    cmocka_unit_test(test_levels),
	    cmocka_unit_test(test_truncation), cmocka_unit_test(test_lines_are_separate),
	    cmocka_unit_test(test_errno_kept),
	};

	return cmocka_run_group_tests(tests, cap_setup, cap_teardown);
}
