#include "log.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"

/* Request ids are ours (or a proxy's X-Request-Id); a longer one is cut rather than allowed to
 * crowd out the fields that matter. */
#define LOG_MAX_REQUEST_ID 128

static const char *log_component = "custos";
static enum cu_log_level log_min = CU_LOG_INFO;
static int log_fd = STDERR_FILENO;
static char log_request_id[LOG_MAX_REQUEST_ID + 1];

static const char *const log_level_names[CU_LOG__MAX] = {
    [CU_LOG_TRACE] = "trace",     [CU_LOG_DEBUG] = "debug", [CU_LOG_INFO] = "info",
    [CU_LOG_WARNING] = "warning", [CU_LOG_ERROR] = "error",
};

/* Written in place of the fields that did not fit; its room is set aside before any field. */
static const char log_trunc_tail[] = ",\"truncated\":true";
static const char log_close[] = "}\n";

/* A line being built in a caller-supplied fixed buffer. */
struct log_line {
	char *ll_buf;
	size_t ll_len;
	size_t ll_max; /* fields stop here: the tail and the closing brace always fit after it */
};

void
cu_log_init(const char *component, enum cu_log_level min)
{
	log_component = component != NULL ? component : "custos";
	if ((unsigned)min >= CU_LOG__MAX)
		min = CU_LOG_ERROR;
	log_min = min;
}

int
cu_log_level_parse(const char *s, enum cu_log_level *out)
{
	int i;

	if (s == NULL)
		return -1;
	for (i = 0; i < CU_LOG__MAX; i++) {
		if (strcasecmp(s, log_level_names[i]) == 0) {
			*out = (enum cu_log_level)i;
			return 0;
		}
	}
	if (strcasecmp(s, "warn") == 0) {
		*out = CU_LOG_WARNING;
		return 0;
	}
	return -1;
}

enum cu_log_level
cu_log_level_get(void)
{
	return log_min;
}

void
cu_log_set_request_id(const char *id)
{
	size_t n;

	if (id == NULL) {
		log_request_id[0] = '\0';
		return;
	}
	n = strnlen(id, LOG_MAX_REQUEST_ID);
	memcpy(log_request_id, id, n);
	log_request_id[n] = '\0';
}

void
cu_log_set_fd(int fd)
{
	log_fd = fd;
}

static int
log_put(struct log_line *l, const char *s, size_t n)
{
	if (n > l->ll_max - l->ll_len)
		return -1;
	memcpy(l->ll_buf + l->ll_len, s, n);
	l->ll_len += n;
	return 0;
}

/* Length of the well-formed UTF-8 sequence at s (NUL-terminated), or 0 when it is not one:
 * overlong forms, surrogates and code points past U+10FFFF are refused, as RFC 3629 asks. */
static size_t
log_utf8_len(const unsigned char *s)
{
	unsigned int cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	/* The NUL terminator is not a continuation byte, so this never reads past the string. */
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		return 0;
	if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
		return 0;
	return len;
}

/* s as a quoted JSON string. Bytes that are not UTF-8 become U+FFFD so that a line holding
 * hostile input (a User-Agent, a username) still parses in strict log collectors. */
static int
log_put_string(struct log_line *l, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	if (s == NULL)
		return log_put(l, "null", 4);
	if (log_put(l, "\"", 1) != 0)
		return -1;
	while (p[i] != '\0') {
		size_t run = i, k;
		char esc[6];

		while (p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
			run++;
		if (log_put(l, s + i, run - i) != 0)
			return -1;
		i = run;
		if (p[i] == '\0')
			break;
		if (p[i] >= 0x80) {
			k = log_utf8_len(p + i);
			if (k == 0) {
				if (log_put(l, "\\ufffd", 6) != 0)
					return -1;
				i++;
			} else {
				if (log_put(l, s + i, k) != 0)
					return -1;
				i += k;
			}
			continue;
		}
		esc[0] = '\\';
		k = 2;
		switch (p[i]) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[p[i] >> 4];
			esc[5] = hex[p[i] & 0xf];
			k = 6;
			break;
		}
		if (log_put(l, esc, k) != 0)
			return -1;
		i++;
	}
	return log_put(l, "\"", 1);
}

static int
log_put_double(struct log_line *l, double d)
{
	char tmp[40];
	int n;

	if (!isfinite(d))
		return log_put(l, "null", 4);
	/* The shortest of the two precisions that reads back as the same double: 0.1 stays 0.1. */
	n = snprintf(tmp, sizeof(tmp), "%.15g", d);
	if (n > 0 && (size_t)n < sizeof(tmp) && strtod(tmp, NULL) != d)
		n = snprintf(tmp, sizeof(tmp), "%.17g", d);
	if (n <= 0 || (size_t)n >= sizeof(tmp))
		return log_put(l, "null", 4);
	return log_put(l, tmp, (size_t)n);
}

/* One "key":value pair; on failure the line is left as it was, so a cut is always between
 * fields. */
static int
log_put_field(struct log_line *l, const struct cu_log_field *f)
{
	size_t mark = l->ll_len;
	char tmp[24];
	int n, rc = -1;

	if (l->ll_len > 1 && log_put(l, ",", 1) != 0)
		goto out;
	if (log_put_string(l, f->lf_key != NULL ? f->lf_key : "") != 0 || log_put(l, ":", 1) != 0)
		goto out;
	switch (f->lf_type) {
	case CU_LOG_T_STR:
		if (log_put_string(l, f->lf_str) != 0)
			goto out;
		break;
	case CU_LOG_T_INT:
		n = snprintf(tmp, sizeof(tmp), "%lld", f->lf_int);
		if (n <= 0 || (size_t)n >= sizeof(tmp) || log_put(l, tmp, (size_t)n) != 0)
			goto out;
		break;
	case CU_LOG_T_DOUBLE:
		if (log_put_double(l, f->lf_double) != 0)
			goto out;
		break;
	case CU_LOG_T_BOOL:
		if (f->lf_int ? log_put(l, "true", 4) != 0 : log_put(l, "false", 5) != 0)
			goto out;
		break;
	case CU_LOG_T_END:
	default:
		if (log_put(l, "null", 4) != 0)
			goto out;
		break;
	}
	rc = 0;
out:
	if (rc != 0)
		l->ll_len = mark;
	return rc;
}

static void
log_time(char *out, size_t outlen)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	out[0] = '\0';
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || gmtime_r(&ts.tv_sec, &tm) == NULL)
		return;
	n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0)
		return;
	snprintf(out + n, outlen - n, ".%03dZ", (int)(ts.tv_nsec / 1000000));
}

/* One write(2) per line: the kernel keeps it whole against other writers on an O_APPEND file
 * and on a pipe up to PIPE_BUF bytes. The loop only resumes a write the kernel cut short. */
static void
log_emit(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(log_fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

void
cu_log_write(enum cu_log_level level, const char *event, const struct cu_log_field *fields)
{
	char buf[CU_LOG_MAX_LINE];
	char when[40];
	struct log_line l = {
	    .ll_buf = buf,
	    .ll_len = 0,
	    .ll_max = sizeof(buf) - (sizeof(log_trunc_tail) - 1) - (sizeof(log_close) - 1),
	};
	struct cu_log_field head[5];
	size_t nhead = 0, i;
	int truncated = 0;
	int saved_errno = errno;

	if ((unsigned)level >= CU_LOG__MAX)
		level = CU_LOG_ERROR;
	if (level < log_min)
		return;
	log_time(when, sizeof(when));
	head[nhead++] = CU_LS("time", when);
	head[nhead++] = CU_LS("level", log_level_names[level]);
	head[nhead++] = CU_LS("component", log_component);
	if (log_request_id[0] != '\0')
		head[nhead++] = CU_LS("request_id", log_request_id);
	head[nhead++] = CU_LS("event", event != NULL ? event : "");

	buf[l.ll_len++] = '{';
	for (i = 0; i < nhead && !truncated; i++)
		truncated = log_put_field(&l, &head[i]) != 0;
	for (i = 0; fields != NULL && fields[i].lf_type != CU_LOG_T_END && !truncated; i++)
		truncated = log_put_field(&l, &fields[i]) != 0;
	if (truncated) {
		memcpy(buf + l.ll_len, log_trunc_tail, sizeof(log_trunc_tail) - 1);
		l.ll_len += sizeof(log_trunc_tail) - 1;
	}
	memcpy(buf + l.ll_len, log_close, sizeof(log_close) - 1);
	l.ll_len += sizeof(log_close) - 1;
	log_emit(buf, l.ll_len);
	errno = saved_errno;
}
