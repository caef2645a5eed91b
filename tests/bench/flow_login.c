/*
 * Full password logins through the flow executor, as the flow interface makes them, from
 * THREADS threads for SECONDS, each login with a fresh cookie jar and its own connection: GET
 * (identification), POST the username (302), GET (password), POST the password (302), GET
 * (xak-flow-redirect). A client this small leaves the cores to the server it measures.
 *
 * usage: flow_login PORT SLUG USERS_FILE SECONDS THREADS
 * USERS_FILE holds "username password ..." lines. Prints
 * "logins N seconds S errors E p50_ms X p99_ms Y" on one line. Loopback only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_http.h"

#define MAX_USERS 1024
#define BUF 65536
#define MAX_SAMPLES 200000

struct user {
	char name[512];
	char password[512];
};

static struct user users[MAX_USERS];
static int nusers, port;
static const char *slug;
static double seconds;

struct result {
	long first; /* the user this thread starts with */
	long logins, errors, nsamples;
	double samples[MAX_SAMPLES / 8];
};

struct conn {
	int fd;
	char session[1024];
	char csrf[256];
	char buf[BUF];
	int status;
	const char *body;
};

/* One request and its whole response (Content-Length bodies; the responders always send one). */
static int
exchange(struct conn *c, const char *method, const char *body)
{
	char req[4096], csrf[300];
	size_t have = 0, need;
	char *hdr_end, *p;
	long clen = -1;
	int n;

	/* The interface echoes the CSRF cookie in a header once it has one. */
	if (c->csrf[0] != '\0')
		snprintf(csrf, sizeof(csrf), "X-authentik-CSRF: %s\r\n", c->csrf);
	else
		csrf[0] = '\0';
	n = snprintf(req, sizeof(req),
	             "%s /api/v3/flows/executor/%s/?query=next%%3D%%252F HTTP/1.1\r\n"
	             "Host: 127.0.0.1\r\nAccept: application/json\r\n"
	             "Cookie: authentik_session=%s; authentik_csrf=%s\r\n%s%s"
	             "Content-Length: %zu\r\n\r\n%s",
	             method, slug, c->session, c->csrf, csrf,
	             body != NULL ? "Content-Type: application/json\r\n" : "",
	             body != NULL ? strlen(body) : 0, body != NULL ? body : "");
	if (n < 0 || (size_t)n >= sizeof(req) || write_all(c->fd, req, (size_t)n) != 0)
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
	for (p = strstr(c->buf, "\r\n"); p != NULL && p < hdr_end; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2;

		if (strncasecmp(line, "Content-Length:", 15) == 0)
			clen = strtol(line + 15, NULL, 10);
		else if (strncasecmp(line, "Set-Cookie: ", 12) == 0) {
			take_cookie(line + 12, "authentik_session", c->session, sizeof(c->session));
			take_cookie(line + 12, "authentik_csrf", c->csrf, sizeof(c->csrf));
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
	return 0;
}

static int
expect(struct conn *c, int status, const char *component)
{
	if (c->status != status)
		return -1;
	if (component != NULL && strstr(c->body, component) == NULL)
		return -1;
	return 0;
}

static int
one_login(const struct user *u)
{
	struct conn *c = calloc(1, sizeof(*c));
	char body[1024];
	int rc = -1;

	if (c == NULL || (c->fd = connect_loopback(port)) < 0)
		goto out;
	if (exchange(c, "GET", NULL) != 0 || expect(c, 200, "ak-stage-identification") != 0)
		goto out;
	snprintf(body, sizeof(body),
	         "{\"component\":\"ak-stage-identification\",\"uid_field\":\"%s\"}", u->name);
	if (exchange(c, "POST", body) != 0 || expect(c, 302, NULL) != 0)
		goto out;
	if (exchange(c, "GET", NULL) != 0 || expect(c, 200, "ak-stage-password") != 0)
		goto out;
	snprintf(body, sizeof(body), "{\"component\":\"ak-stage-password\",\"password\":\"%s\"}",
	         u->password);
	if (exchange(c, "POST", body) != 0 || expect(c, 302, NULL) != 0)
		goto out;
	if (exchange(c, "GET", NULL) != 0 || expect(c, 200, "xak-flow-redirect") != 0)
		goto out;
	rc = 0;
out:
	if (c != NULL && c->fd >= 0)
		close(c->fd);
	free(c);
	return rc;
}

static void *
run(void *arg)
{
	struct result *r = arg;
	double end = now() + seconds;
	long i = r->first;

	while (now() < end) {
		double t0 = now();

		if (one_login(&users[(size_t)(i++ % nusers)]) == 0) {
			r->logins++;
			if (r->nsamples < (long)(sizeof(r->samples) / sizeof(r->samples[0])))
				r->samples[r->nsamples++] = now() - t0;
		} else {
			r->errors++;
		}
	}
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	pthread_t th[64];
	struct result *res;
	double *all, t0, elapsed;
	long logins = 0, errors = 0, n = 0;
	int threads, i, j;
	FILE *f;
	char line[512];

	if (argc != 6) {
		fprintf(stderr, "usage: flow_login PORT SLUG USERS_FILE SECONDS THREADS\n");
		return 2;
	}
	port = (int)strtol(argv[1], NULL, 10);
	slug = argv[2];
	seconds = strtod(argv[4], NULL);
	threads = (int)strtol(argv[5], NULL, 10);
	if (threads < 1 || threads > 64 || (f = fopen(argv[3], "r")) == NULL)
		return 2;
	/* "username password ..." lines */
	while (nusers < MAX_USERS && fgets(line, sizeof(line), f) != NULL) {
		char *sp = strchr(line, ' '), *end;

		if (sp == NULL)
			continue;
		*sp = '\0';
		end = sp + 1 + strcspn(sp + 1, " \n");
		*end = '\0';
		snprintf(users[nusers].name, sizeof(users[nusers].name), "%s", line);
		snprintf(users[nusers].password, sizeof(users[nusers].password), "%s", sp + 1);
		nusers++;
	}
	fclose(f);
	if (nusers == 0)
		return 2;
	res = calloc((size_t)threads, sizeof(*res));
	if (res == NULL)
		return 2;
	t0 = now();
	for (i = 0; i < threads; i++) {
		res[i].first = (long)i * (nusers / threads);
		if (pthread_create(&th[i], NULL, run, &res[i]) != 0)
			return 2;
	}
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	elapsed = now() - t0;
	for (i = 0; i < threads; i++) {
		logins += res[i].logins;
		errors += res[i].errors;
		n += res[i].nsamples;
	}
	all = calloc((size_t)n + 1, sizeof(*all));
	for (i = 0, n = 0; i < threads; i++)
		for (j = 0; j < res[i].nsamples; j++)
			all[n++] = res[i].samples[j];
	qsort(all, (size_t)n, sizeof(*all), cmp);
	printf("logins %ld seconds %.2f errors %ld p50_ms %.1f p99_ms %.1f\n", logins, elapsed,
	       errors, n > 0 ? all[n / 2] * 1000 : 0.0, n > 0 ? all[(n * 99) / 100] * 1000 : 0.0);
	free(all);
	free(res);
	return 0;
}
