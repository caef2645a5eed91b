/*
 * What the bench's HTTP clients (flow_login.c, saml_sso.c) share: a monotonic clock, a
 * kept-alive loopback connection, and reading a response into a fixed buffer. Loopback only:
 * the benches never send traffic anywhere else.
 */
#ifndef CU_BENCH_HTTP_H
#define CU_BENCH_HTTP_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A TCP connection to 127.0.0.1:port with Nagle off, or -1. */
static int
connect_loopback(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads what has arrived on fd into buf[*have .. limit), NUL-terminated; -1 at EOF or error. */
static int
read_more(int fd, char *buf, size_t *have, size_t limit)
{
	ssize_t r;

	do
		r = read(fd, buf + *have, limit - *have);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1;
	*have += (size_t)r;
	buf[*have] = '\0';
	return 0;
}

/* Keeps the value of cookie name from one Set-Cookie line into out. */
static void
take_cookie(const char *line, const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name), i;

	if (strncmp(line, name, n) != 0 || line[n] != '=')
		return;
	line += n + 1;
	for (i = 0; i + 1 < outlen && line[i] != ';' && line[i] != '\r' && line[i] != '\0'; i++)
		out[i] = line[i];
	out[i] = '\0';
}

#endif
