/*
 * SP-initiated SAML single sign-on for users who are already logged in, as a browser makes it,
 * from THREADS threads for at most SECONDS and at most MAX responses in all. Each thread is one
 * browser with its own logged-in session and one kept-alive connection; each sign-on is:
 *
 *   1. GET /application/saml/<app>/sso/binding/redirect/?SAMLRequest=...&RelayState=...
 *      (a new AuthnRequest every time: a fresh ID, the current IssueInstant, DEFLATE + base64,
 *      as the Redirect binding carries it) -> 302 to the flow interface /if/flow/<flow>/...
 *   2. GET /api/v3/flows/executor/<flow>/?query=... (what the flow interface asks) -> 200 with
 *      the ak-stage-autosubmit challenge carrying the signed SAMLResponse for the ACS URL.
 *
 * A sign-on counts only when the SAMLResponse decodes to a Response that answers this request
 * (InResponseTo) and carries a signature. A client this small leaves the cores to the server.
 *
 * usage: saml_sso PORT APP_SLUG SESSIONS_FILE TEMPLATE_FILE SECONDS THREADS MAX SAMPLE_FILE
 * SESSIONS_FILE: "authentik_session authentik_csrf" cookie values a line, one line a thread.
 * TEMPLATE_FILE: the AuthnRequest XML with @ID@ and @INSTANT@ where its ID and IssueInstant go.
 * SAMPLE_FILE gets the last request ID and SAMLResponse (base64) of thread 0, for checking.
 * Prints on one line: "responses N seconds S errors E p50_ms X p99_ms Y sso_p50_ms ...
 * sso_p99_ms ... exec_p50_ms ... exec_p99_ms ... client_cpu_s C". Loopback only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "bench_http.h"

#define MAX_THREADS 64
#define BUF 262144
#define MAX_SAMPLES 100000
#define MAX_TEMPLATE 8192

static int port;
static const char *app_slug;
static double seconds;
static long max_responses;
static long claimed; /* sign-ons started, across threads (atomic) */
static char template_xml[MAX_TEMPLATE];
static char nonce[17]; /* this run's, so that request IDs never repeat across runs */

struct session {
	char cookie[2048];
	char csrf[256];
};

static struct session sessions[MAX_THREADS];
static int nsessions;

struct conn {
	int fd;
	char buf[BUF];
	char req[20480];
	int status;
	int close_after; /* the server said Connection: close */
	char location[2048];
	const char *body;
	size_t body_len;
};

struct result {
	int index;
	long responses, errors, nsamples;
	double *total, *sso, *exec;
	char sample_id[80];
	char *sample; /* the last SAMLResponse (thread 0 only) */
};

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Sends request and reads the whole response (Content-Length bodies, as the responders send). */
static int
exchange_once(struct conn *c, struct session *s, const char *req, size_t n)
{
	size_t have = 0, need;
	char *hdr_end, *p;
	long clen = -1;

	if (c->fd < 0 && (c->fd = connect_loopback(port)) < 0)
		return -1;
	if (write_all(c->fd, req, n) != 0)
		return -1;
	for (;;) {
		if (read_more(c->fd, c->buf, &have, BUF - 1) != 0)
			return -1;
		if ((hdr_end = strstr(c->buf, "\r\n\r\n")) != NULL)
			break;
		if (have >= BUF - 1)
			return -1;
	}
	c->status = (int)strtol(c->buf + 9, NULL, 10);
	c->close_after = 0;
	c->location[0] = '\0';
	for (p = strstr(c->buf, "\r\n"); p != NULL && p < hdr_end; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2;

		if (strncasecmp(line, "Content-Length:", 15) == 0)
			clen = strtol(line + 15, NULL, 10);
		else if (strncasecmp(line, "Connection: close", 17) == 0)
			c->close_after = 1;
		else if (strncasecmp(line, "Location: ", 10) == 0) {
			size_t i;

			for (i = 0; i + 1 < sizeof(c->location) && line[10 + i] != '\r'; i++)
				c->location[i] = line[10 + i];
			c->location[i] = '\0';
		} else if (strncasecmp(line, "Set-Cookie: ", 12) == 0) {
			take_cookie(line + 12, "authentik_session", s->cookie, sizeof(s->cookie));
			take_cookie(line + 12, "authentik_csrf", s->csrf, sizeof(s->csrf));
		}
	}
	if (clen < 0)
		return -1;
	need = (size_t)(hdr_end + 4 - c->buf) + (size_t)clen;
	if (need >= BUF)
		return -1;
	while (have < need)
		if (read_more(c->fd, c->buf, &have, need) != 0)
			return -1;
	c->body = hdr_end + 4;
	c->body_len = (size_t)clen;
	if (c->close_after)
		conn_close(c);
	return 0;
}

/* One GET of target with the session's cookies; a kept-alive connection that the server has
 * closed meanwhile is opened again once. */
static int
get(struct conn *c, struct session *s, const char *target)
{
	int n, rc, reused = c->fd >= 0;

	n = snprintf(c->req, sizeof(c->req),
	             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
	             "Cookie: authentik_session=%s; authentik_csrf=%s\r\n%s%s%s\r\n",
	             target, s->cookie, s->csrf, s->csrf[0] != '\0' ? "X-authentik-CSRF: " : "",
	             s->csrf, s->csrf[0] != '\0' ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(c->req))
		return -1;
	rc = exchange_once(c, s, c->req, (size_t)n);
	if (rc != 0 && reused) {
		conn_close(c);
		rc = exchange_once(c, s, c->req, (size_t)n);
	}
	if (rc != 0)
		conn_close(c);
	return rc;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 of in, URL-escaped (+ / =), into out; its length, or 0 when out is short. */
static size_t
b64_urlescaped(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
		             (i + 2 < n ? in[i + 2] : 0);
		char q[4];
		int k;

		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? b64[v & 63] : '=';
		for (k = 0; k < 4; k++) {
			if (o + 4 >= outlen)
				return 0;
			if (q[k] == '+' || q[k] == '/' || q[k] == '=') {
				o +=
				    (size_t)snprintf(out + o, outlen - o, "%%%02X", (unsigned)q[k]);
			} else {
				out[o++] = q[k];
			}
		}
	}
	out[o] = '\0';
	return o;
}

/* Decodes base64 in[0..n) (JSON's "\/" escapes skipped) into out; its length, or -1. */
static long
b64_decode(const char *in, size_t n, unsigned char *out, size_t outlen)
{
	unsigned v = 0;
	int bits = 0;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		const char *p;

		if (in[i] == '\\' || in[i] == '=')
			continue;
		if ((p = strchr(b64, in[i])) == NULL || in[i] == '\0')
			return -1;
		v = v << 6 | (unsigned)(p - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outlen)
				return -1;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	return (long)o;
}

/* Appends the query-escaped form of s to out at *o. */
static int
query_escape(const char *s, char *out, size_t outlen, size_t *o)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (*o + 4 >= outlen)
			return -1;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~')
			out[(*o)++] = (char)ch;
		else
			*o += (size_t)snprintf(out + *o, outlen - *o, "%%%02X", ch);
	}
	out[*o] = '\0';
	return 0;
}

/* The AuthnRequest with id and the current time, DEFLATEd (raw, as the Redirect binding
 * wants), base64 and URL-escaped into out. */
static int
authn_request(z_stream *z, const char *id, char *out, size_t outlen)
{
	char xml[MAX_TEMPLATE + 128], instant[32];
	unsigned char deflated[MAX_TEMPLATE + 128];
	const char *t = template_xml, *m;
	size_t o = 0;
	time_t tnow = time(NULL);
	struct tm tm;

	gmtime_r(&tnow, &tm);
	strftime(instant, sizeof(instant), "%Y-%m-%dT%H:%M:%SZ", &tm);
	while ((m = strchr(t, '@')) != NULL) {
		const char *val = NULL;
		size_t skip = 0;

		if (strncmp(m, "@ID@", 4) == 0) {
			val = id;
			skip = 4;
		} else if (strncmp(m, "@INSTANT@", 9) == 0) {
			val = instant;
			skip = 9;
		} else {
			skip = 1;
		}
		if (o + (size_t)(m - t) + 64 >= sizeof(xml))
			return -1;
		memcpy(xml + o, t, (size_t)(m - t));
		o += (size_t)(m - t);
		if (val != NULL)
			o += (size_t)snprintf(xml + o, sizeof(xml) - o, "%s", val);
		else
			xml[o++] = '@';
		t = m + skip;
	}
	if (o + strlen(t) >= sizeof(xml))
		return -1;
	memcpy(xml + o, t, strlen(t) + 1);
	o += strlen(t);
	if (deflateReset(z) != Z_OK)
		return -1;
	z->next_in = (unsigned char *)xml;
	z->avail_in = (unsigned)o;
	z->next_out = deflated;
	z->avail_out = sizeof(deflated);
	if (deflate(z, Z_FINISH) != Z_STREAM_END)
		return -1;
	return b64_urlescaped(deflated, sizeof(deflated) - z->avail_out, out, outlen) > 0 ? 0 : -1;
}

/* Reports a failed sign-on once a thread: what came back, briefly. */
static void
report_failure(struct result *r, const char *step, const struct conn *c)
{
	if (r->errors > 0)
		return;
	fprintf(stderr, "saml_sso: thread %d: %s: status %d: %.200s\n", r->index, step, c->status,
	        c->status > 0 && c->body != NULL ? c->body : "(no answer)");
}

/* The SAMLResponse value in the challenge body, as [*start, *start + *len). */
static int
find_response(const struct conn *c, const char **start, size_t *len)
{
	const char *p = strstr(c->body, "\"SAMLResponse\":\""), *e;

	if (p == NULL || strstr(c->body, "\"ak-stage-autosubmit\"") == NULL)
		return -1;
	p += 16;
	if ((e = strchr(p, '"')) == NULL)
		return -1;
	*start = p;
	*len = (size_t)(e - p);
	return 0;
}

/* One sign-on. 0 with the two legs' times, or -1. */
static int
one_sso(struct conn *c, struct session *s, z_stream *z, struct result *r, long seq, double *t_sso,
        double *t_exec)
{
	static const char prefix[] = "/if/flow/";
	char id[80], target[16384], *xml = NULL;
	const char *loc, *slash, *q, *resp;
	size_t o, rlen;
	long xlen;
	double t0;
	int rc = -1;

	snprintf(id, sizeof(id), "_bench%s%02d%09ld", nonce, r->index, seq);
	o = (size_t)snprintf(target, sizeof(target),
	                     "/application/saml/%s/sso/binding/redirect/?SAMLRequest=", app_slug);
	if (authn_request(z, id, target + o, sizeof(target) - o - 64) != 0)
		return -1;
	o += strlen(target + o);
	o += (size_t)snprintf(target + o, sizeof(target) - o, "&RelayState=bench-%ld", seq);
	t0 = now();
	if (get(c, s, target) != 0 || c->status != 302) {
		report_failure(r, "sso redirect", c);
		return -1;
	}
	/* The flow interface the browser would load: /if/flow/<flow>/[?query]. */
	loc = c->location;
	if (strncmp(loc, "http://", 7) == 0 && (loc = strchr(loc + 7, '/')) == NULL)
		loc = "";
	if (strncmp(loc, prefix, sizeof(prefix) - 1) != 0 ||
	    (slash = strchr(loc + sizeof(prefix) - 1, '/')) == NULL) {
		fprintf(stderr, "saml_sso: unexpected Location %.200s\n", c->location);
		return -1;
	}
	q = strchr(slash, '?');
	o = (size_t)snprintf(target, sizeof(target), "/api/v3/flows/executor/%.*s/?query=",
	                     (int)(slash - loc - (sizeof(prefix) - 1)), loc + sizeof(prefix) - 1);
	if (query_escape(q != NULL ? q + 1 : "", target, sizeof(target), &o) != 0)
		return -1;
	*t_sso = now() - t0;
	t0 = now();
	if (get(c, s, target) != 0 || c->status != 200 || find_response(c, &resp, &rlen) != 0) {
		report_failure(r, "executor", c);
		return -1;
	}
	*t_exec = now() - t0;
	/* It answers this request, and is signed. */
	xml = malloc(rlen + 1);
	if (xml == NULL || (xlen = b64_decode(resp, rlen, (unsigned char *)xml, rlen)) < 0)
		goto out;
	xml[xlen] = '\0';
	{
		char want[128];

		snprintf(want, sizeof(want), "InResponseTo=\"%s\"", id);
		if (strstr(xml, want) == NULL || strstr(xml, "SignatureValue>") == NULL) {
			fprintf(stderr,
			        "saml_sso: the Response does not answer %s or is unsigned\n", id);
			goto out;
		}
	}
	if (r->sample != NULL) {
		size_t i, k = 0;

		snprintf(r->sample_id, sizeof(r->sample_id), "%s", id);
		/* JSON may escape the slashes of base64. */
		for (i = 0; i < rlen; i++)
			if (resp[i] != '\\')
				r->sample[k++] = resp[i];
		r->sample[k] = '\0';
	}
	rc = 0;
out:
	free(xml);
	return rc;
}

static void *
run(void *arg)
{
	struct result *r = arg;
	struct session *s = &sessions[r->index];
	struct conn *c = calloc(1, sizeof(*c));
	double end = now() + seconds;
	long seq = 0;
	z_stream z;

	if (c == NULL)
		return NULL;
	c->fd = -1;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK) {
		free(c);
		return NULL;
	}
	while (now() < end && __atomic_fetch_add(&claimed, 1, __ATOMIC_RELAXED) < max_responses) {
		double t0 = now(), ts = 0, te = 0;

		if (one_sso(c, s, &z, r, seq++, &ts, &te) == 0) {
			r->responses++;
			if (r->nsamples < MAX_SAMPLES) {
				r->total[r->nsamples] = now() - t0;
				r->sso[r->nsamples] = ts;
				r->exec[r->nsamples] = te;
				r->nsamples++;
			}
		} else {
			r->errors++;
			conn_close(c);
		}
	}
	conn_close(c);
	deflateEnd(&z);
	free(c);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile (0..100) of the samples in field of every result, in ms. */
static double
percentile(struct result *res, int threads, size_t field, double pct)
{
	double *all;
	long n = 0, i, k;
	double v;

	for (i = 0; i < threads; i++)
		n += res[i].nsamples;
	if (n == 0 || (all = calloc((size_t)n, sizeof(*all))) == NULL)
		return 0;
	for (i = 0, n = 0; i < threads; i++) {
		double *src = *(double **)((char *)&res[i] + field);

		for (k = 0; k < res[i].nsamples; k++)
			all[n++] = src[k];
	}
	qsort(all, (size_t)n, sizeof(*all), cmp);
	v = all[(long)((double)(n - 1) * pct / 100.0)] * 1000;
	free(all);
	return v;
}

static int
read_file(const char *path, char *out, size_t outlen)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(out, 1, outlen - 1, f);
	fclose(f);
	if (n == 0 || n == outlen - 1)
		return -1;
	out[n] = '\0';
	return 0;
}

int
main(int argc, char **argv)
{
	pthread_t th[MAX_THREADS];
	struct result *res;
	struct rusage ru;
	unsigned char raw[8];
	double t0, elapsed;
	long responses = 0, errors = 0;
	int threads, i;
	FILE *f;
	char line[2048];

	if (argc != 9) {
		fprintf(stderr, "usage: saml_sso PORT APP_SLUG SESSIONS_FILE TEMPLATE_FILE SECONDS "
		                "THREADS MAX SAMPLE_FILE\n");
		return 2;
	}
	port = (int)strtol(argv[1], NULL, 10);
	app_slug = argv[2];
	seconds = strtod(argv[5], NULL);
	threads = (int)strtol(argv[6], NULL, 10);
	max_responses = strtol(argv[7], NULL, 10);
	if (threads < 1 || threads > MAX_THREADS || seconds <= 0 || max_responses < 1) {
		fprintf(stderr, "saml_sso: THREADS 1..%d, SECONDS and MAX above 0\n", MAX_THREADS);
		return 2;
	}
	if (read_file(argv[4], template_xml, sizeof(template_xml)) != 0 ||
	    strstr(template_xml, "@ID@") == NULL || strstr(template_xml, "@INSTANT@") == NULL) {
		fprintf(stderr, "saml_sso: no usable template in %s\n", argv[4]);
		return 2;
	}
	if ((f = fopen(argv[3], "r")) == NULL)
		return 2;
	while (nsessions < MAX_THREADS && fgets(line, sizeof(line), f) != NULL) {
		char *sp = strchr(line, ' ');

		if (sp == NULL)
			continue;
		*sp = '\0';
		sp[1 + strcspn(sp + 1, " \r\n")] = '\0';
		snprintf(sessions[nsessions].cookie, sizeof(sessions[nsessions].cookie), "%s",
		         line);
		snprintf(sessions[nsessions].csrf, sizeof(sessions[nsessions].csrf), "%s", sp + 1);
		nsessions++;
	}
	fclose(f);
	if (nsessions < threads) {
		fprintf(stderr, "saml_sso: %d sessions for %d threads\n", nsessions, threads);
		return 2;
	}
	if ((f = fopen("/dev/urandom", "r")) == NULL ||
	    fread(raw, 1, sizeof(raw), f) != sizeof(raw))
		return 2;
	fclose(f);
	for (i = 0; i < 8; i++)
		snprintf(nonce + 2 * i, 3, "%02x", raw[i]);
	res = calloc((size_t)threads, sizeof(*res));
	if (res == NULL)
		return 2;
	for (i = 0; i < threads; i++) {
		res[i].index = i;
		res[i].total = calloc(MAX_SAMPLES, sizeof(double));
		res[i].sso = calloc(MAX_SAMPLES, sizeof(double));
		res[i].exec = calloc(MAX_SAMPLES, sizeof(double));
		if (res[i].total == NULL || res[i].sso == NULL || res[i].exec == NULL)
			return 2;
	}
	res[0].sample = malloc(BUF);
	if (res[0].sample == NULL)
		return 2;
	res[0].sample[0] = '\0';
	t0 = now();
	for (i = 0; i < threads; i++)
		if (pthread_create(&th[i], NULL, run, &res[i]) != 0)
			return 2;
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	elapsed = now() - t0;
	for (i = 0; i < threads; i++) {
		responses += res[i].responses;
		errors += res[i].errors;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("responses %ld seconds %.2f errors %ld p50_ms %.2f p99_ms %.2f sso_p50_ms %.2f "
	       "sso_p99_ms %.2f exec_p50_ms %.2f exec_p99_ms %.2f client_cpu_s %.2f\n",
	       responses, elapsed, errors,
	       percentile(res, threads, offsetof(struct result, total), 50),
	       percentile(res, threads, offsetof(struct result, total), 99),
	       percentile(res, threads, offsetof(struct result, sso), 50),
	       percentile(res, threads, offsetof(struct result, sso), 99),
	       percentile(res, threads, offsetof(struct result, exec), 50),
	       percentile(res, threads, offsetof(struct result, exec), 99),
	       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	if (res[0].sample[0] != '\0' && (f = fopen(argv[8], "w")) != NULL) {
		fprintf(f, "%s\n%s\n", res[0].sample_id, res[0].sample);
		fclose(f);
	}
	return 0;
}
