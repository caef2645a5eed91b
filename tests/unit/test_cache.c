#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "arena.h"
#include "cache.h"
#include "log.h"

/*
 * No Redis runs during unit tests. Besides unreachable addresses, a fake server that speaks
 * RESP lets AUTH/SELECT, replies and the reconnect after a dropped connection run for real
 * through hiredis.
 */

static int log_fds[2] = {-1, -1};
static char log_buf[65536];

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static const char *
log_read(void)
{
	size_t len = 0;
	ssize_t n;

	while ((n = read(log_fds[0], log_buf + len, sizeof(log_buf) - 1 - len)) > 0)
		len += (size_t)n;
	log_buf[len] = '\0';
	return log_buf;
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static int
setup(void **state)
{
	(void)state;
	if (pipe(log_fds) != 0 || fcntl(log_fds[0], F_SETFL, O_NONBLOCK) != 0)
		return -1;
	cu_log_set_fd(log_fds[1]);
	cu_log_init("test", CU_LOG_DEBUG);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cu_log_set_fd(STDERR_FILENO);
	close(log_fds[0]);
	close(log_fds[1]);
	return 0;
}

/* ---- the fake server ---- */

/* The running fake, stopped by fake_reap when a failed assertion skipped fake_stop. */
static pid_t fake_pid = -1;

static int
fake_reap(void **state)
{
	(void)state;
	if (fake_pid > 0) {
		kill(fake_pid, SIGKILL);
		waitpid(fake_pid, NULL, 0);
	}
	fake_pid = -1;
	return 0;
}

struct fake {
	pid_t fk_pid;
	int fk_port;
	int fk_events;
	char fk_log[4096];
};

/* Reads one RESP array of bulk strings into args (NUL-terminated copies in store). */
static int
resp_read(FILE *in, char args[8][256], int *argc)
{
	char line[64];
	int n, i;

	if (fgets(line, sizeof(line), in) == NULL || line[0] != '*')
		return -1;
	n = (int)strtol(line + 1, NULL, 10);
	if (n < 1 || n > 8)
		return -1;
	for (i = 0; i < n; i++) {
		long len;

		if (fgets(line, sizeof(line), in) == NULL || line[0] != '$')
			return -1;
		len = strtol(line + 1, NULL, 10);
		if (len < 0 || len > 250 ||
		    fread(args[i], 1, (size_t)len + 2, in) != (size_t)len + 2)
			return -1;
		args[i][len] = '\0';
	}
	*argc = n;
	return 0;
}

static void
reply_n(int fd, const char *s, size_t n)
{
	if (write(fd, s, n) != (ssize_t)n)
		_exit(3);
}

static void
reply(int fd, const char *s)
{
	reply_n(fd, s, strlen(s));
}

enum fake_mode {
	FAKE_NORMAL,
	FAKE_DROP_SECOND_PING,  /* hang up instead of answering a connection's second PING */
	FAKE_HANGUP_AFTER_PING, /* answer each PING, then hang up */
};

/* One connection: known commands answer as Redis would, unknown ones get an error reply. */
static void
fake_serve(int fd, int ev, enum fake_mode mode)
{
	FILE *in = fdopen(dup(fd), "r");
	char args[8][256], line[300];
	int argc, pings = 0;

	while (in != NULL && resp_read(in, args, &argc) == 0) {
		int n = snprintf(line, sizeof(line), "%s%s%s\n", args[0], argc > 1 ? " " : "",
		                 argc > 1 ? args[1] : "");

		if (write(ev, line, (size_t)n) != n)
			_exit(4);
		if (strcmp(args[0], "PING") == 0) {
			if (mode == FAKE_DROP_SECOND_PING && ++pings == 2)
				break;
			reply(fd, "+PONG\r\n");
			if (mode == FAKE_HANGUP_AFTER_PING)
				break;
		} else if (strcmp(args[0], "AUTH") == 0) {
			reply(fd, strcmp(args[1], "right") == 0
			              ? "+OK\r\n"
			              : "-WRONGPASS invalid password\r\n");
		} else if (strcmp(args[0], "SELECT") == 0 || strcmp(args[0], "SET") == 0) {
			reply(fd, "+OK\r\n");
		} else if (strcmp(args[0], "GET") == 0) {
			static const char present[] = "$5\r\nva\0ue\r\n";

			if (strcmp(args[1], "present") == 0)
				reply_n(fd, present, sizeof(present) - 1);
			else
				reply(fd, "$-1\r\n");
		} else if (strcmp(args[0], "DEL") == 0) {
			reply(fd, ":1\r\n");
		} else if (strcmp(args[0], "HANG") == 0) {
			sleep_ms(CU_CACHE_TIMEOUT_MS + 500);
		} else {
			reply(fd, "-ERR unknown command\r\n");
		}
	}
	if (in != NULL)
		fclose(in);
}

/* Serves connections one after the other, on loopback TCP or, given a path, a unix socket. */
static void
fake_start(struct fake *fk, enum fake_mode mode, const char *unix_path)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	struct sockaddr_un su = {.sun_family = AF_UNIX};
	socklen_t salen = sizeof(sa);
	int lfd, ev[2];

	if (unix_path != NULL) {
		unlink(unix_path);
		snprintf(su.sun_path, sizeof(su.sun_path), "%s", unix_path);
		lfd = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_true(lfd >= 0);
		assert_int_equal(bind(lfd, (struct sockaddr *)&su, sizeof(su)), 0);
		fk->fk_port = 0;
	} else {
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		lfd = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(lfd >= 0);
		assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);
		fk->fk_port = ntohs(sa.sin_port);
	}
	assert_int_equal(listen(lfd, 8), 0);
	assert_int_equal(pipe(ev), 0);
	fk->fk_pid = fork();
	assert_true(fk->fk_pid >= 0);
	if (fk->fk_pid == 0) {
		/* Outlives no test process for long, whatever happens to it. */
		struct timeval idle = {10, 0};

		setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle));
		signal(SIGPIPE, SIG_IGN);
		close(ev[0]);
		for (;;) {
			int fd = accept(lfd, NULL, NULL);

			if (fd < 0)
				_exit(0);
			if (unix_path == NULL)
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
			if (write(ev[1], "accept\n", 7) != 7)
				_exit(4);
			fake_serve(fd, ev[1], mode);
			close(fd);
		}
	}
	fake_pid = fk->fk_pid;
	close(lfd);
	close(ev[1]);
	fk->fk_events = ev[0];
}

static void
fake_stop(struct fake *fk)
{
	size_t len = 0;
	ssize_t n;

	fake_reap(NULL);
	while ((n = read(fk->fk_events, fk->fk_log + len, sizeof(fk->fk_log) - 1 - len)) > 0)
		len += (size_t)n;
	fk->fk_log[len] = '\0';
	close(fk->fk_events);
}

/* ---- tests without any server ---- */

static void
test_unreachable_tcp(void **state)
{
	struct cu_cache c;
	struct cu_arena a;
	char *val = (char *)&c;
	size_t len = 7;
	long long t0;

	(void)state;
	cu_arena_init(&a);
	cu_cache_init(&c, "127.0.0.1", 1, 0, "hunter2");
	t0 = mono_ms();
	assert_int_equal(cu_cache_ping(&c), CU_ERR_UNAVAILABLE);
	assert_true(mono_ms() - t0 < 1000);
	assert_null(c.ca_ctx);
	/* Rate-limited: these make no attempt of their own. */
	assert_int_equal(cu_cache_get(&c, &a, "k", &val, &len), CU_ERR_UNAVAILABLE);
	assert_null(val);
	assert_int_equal(len, 0);
	assert_int_equal(cu_cache_set(&c, "k", "v", 1, 10), CU_ERR_UNAVAILABLE);
	assert_int_equal(cu_cache_del(&c, "k"), CU_ERR_UNAVAILABLE);
	log_read();
	assert_int_equal(count(log_buf, "\"event\":\"cache_connect_failed\""), 1);
	assert_null(strstr(log_buf, "hunter2"));
	cu_cache_close(&c);
	cu_arena_free(&a);
}

static void
test_unreachable_unix(void **state)
{
	struct cu_cache c;
	long long t0;

	(void)state;
	cu_cache_init(&c, "/nonexistent/custos/redis.sock", 0, 0, NULL);
	t0 = mono_ms();
	assert_int_equal(cu_cache_ensure(&c), CU_ERR_UNAVAILABLE);
	assert_true(mono_ms() - t0 < 1000);
	assert_null(c.ca_ctx);
	cu_cache_close(&c);
}

static void
test_reconnect_rate_limit(void **state)
{
	struct cu_cache c;
	long long first;

	(void)state;
	cu_cache_init(&c, "127.0.0.1", 1, 0, NULL);
	log_read();
	assert_int_equal(cu_cache_ping(&c), CU_ERR_UNAVAILABLE);
	first = c.ca_last_try_ms;
	assert_int_equal(cu_cache_ping(&c), CU_ERR_UNAVAILABLE);
	assert_int_equal(cu_cache_ensure(&c), CU_ERR_UNAVAILABLE);
	assert_true(c.ca_last_try_ms == first);
	assert_int_equal(count(log_read(), "cache_connect_failed"), 1);
	sleep_ms(CU_CACHE_RETRY_MS + 50);
	assert_int_equal(cu_cache_ping(&c), CU_ERR_UNAVAILABLE);
	assert_true(c.ca_last_try_ms >= first + CU_CACHE_RETRY_MS);
	assert_int_equal(count(log_read(), "cache_connect_failed"), 1);
	cu_cache_close(&c);
}

static void
test_close_idempotent(void **state)
{
	struct cu_cache c;
	const char *argv[] = {"PING"};

	(void)state;
	memset(&c, 0, sizeof(c));
	cu_cache_close(&c);
	cu_cache_init(&c, NULL, 6379, 0, "");
	assert_string_equal(c.ca_host, "localhost");
	assert_null(c.ca_password);
	cu_cache_close(&c);
	cu_cache_close(&c);
	assert_null(c.ca_host);
	assert_null(c.ca_ctx);
	assert_int_equal(cu_cache_ensure(&c), CU_ERR_INTERNAL);
	/* Bad arguments are refused before any connection is tried. */
	cu_cache_init(&c, "127.0.0.1", 1, 0, NULL);
	assert_int_equal(cu_cache_cmd(&c, NULL, NULL, 0, argv, NULL), CU_ERR_INTERNAL);
	assert_int_equal(cu_cache_cmd(&c, NULL, NULL, 1, NULL, NULL), CU_ERR_INTERNAL);
	assert_true(c.ca_last_try_ms < mono_ms() - CU_CACHE_RETRY_MS + 50);
	cu_cache_close(&c);
}

/* ---- tests against the fake server ---- */

static void
test_fake_commands(void **state)
{
	struct fake fk;
	struct cu_cache c;
	struct cu_arena a;
	struct redisReply *r = NULL;
	const char *argv[] = {"NOPE", "x"};
	const size_t argvlen[] = {4, 1};
	char *val = NULL;
	size_t len = 0;

	(void)state;
	cu_arena_init(&a);
	fake_start(&fk, FAKE_NORMAL, NULL);
	cu_cache_init(&c, "127.0.0.1", fk.fk_port, 3, "right");
	assert_int_equal(cu_cache_ping(&c), CU_OK);
	assert_int_equal(cu_cache_set(&c, "k", "v\0w", 3, 60), CU_OK);
	assert_int_equal(cu_cache_set(&c, "k2", "v", 1, 0), CU_OK);
	assert_int_equal(cu_cache_get(&c, &a, "present", &val, &len), CU_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(val, "va\0ue", 6);
	assert_int_equal(cu_cache_get(&c, &a, "absent", &val, &len), CU_ERR_NOT_FOUND);
	assert_null(val);
	assert_int_equal(cu_cache_del(&c, "k"), CU_OK);
	/* An error reply is CU_ERR_INTERNAL and keeps the connection. */
	log_read();
	assert_int_equal(cu_cache_cmd(&c, &a, &r, 2, argv, argvlen), CU_ERR_INTERNAL);
	assert_null(r);
	assert_non_null(strstr(log_read(), "\"event\":\"cache_error_reply\""));
	argv[0] = "PING";
	assert_int_equal(cu_cache_cmd(&c, &a, &r, 1, argv, NULL), CU_OK);
	assert_int_equal(r->type, REDIS_REPLY_STATUS);
	assert_string_equal(r->str, "PONG");
	cu_arena_free(&a);
	cu_cache_close(&c);
	fake_stop(&fk);
	assert_string_equal(fk.fk_log, "accept\n"
	                               "AUTH right\n"
	                               "SELECT 3\n"
	                               "PING\n"
	                               "SET k\n"
	                               "SET k2\n"
	                               "GET present\n"
	                               "GET absent\n"
	                               "DEL k\n"
	                               "NOPE x\n"
	                               "PING\n");
}

static void
test_fake_auth_failure(void **state)
{
	struct fake fk;
	struct cu_cache c;
	const char *logs;

	(void)state;
	fake_start(&fk, FAKE_NORMAL, NULL);
	cu_cache_init(&c, "127.0.0.1", fk.fk_port, 0, "wrong-secret");
	log_read();
	assert_int_equal(cu_cache_ping(&c), CU_ERR_UNAVAILABLE);
	assert_null(c.ca_ctx);
	logs = log_read();
	assert_non_null(strstr(logs, "\"event\":\"cache_setup_failed\""));
	assert_non_null(strstr(logs, "WRONGPASS"));
	assert_null(strstr(logs, "wrong-secret"));
	cu_cache_close(&c);
	fake_stop(&fk);
	/* db 0 is the default: no SELECT. */
	assert_string_equal(fk.fk_log, "accept\nAUTH wrong-secret\n");
}

static void
test_fake_retry_after_drop(void **state)
{
	struct fake fk;
	struct cu_cache c;

	(void)state;
	/* The server hangs up on a connection's second PING, as a restarting Redis would. */
	fake_start(&fk, FAKE_DROP_SECOND_PING, NULL);
	cu_cache_init(&c, "127.0.0.1", fk.fk_port, 0, NULL);
	assert_int_equal(cu_cache_ping(&c), CU_OK);
	log_read();
	/* Found dropped: reconnected and sent again at once, despite the rate limit. */
	assert_int_equal(cu_cache_ping(&c), CU_OK);
	assert_non_null(strstr(log_read(), "\"retrying\":true"));
	cu_cache_close(&c);
	fake_stop(&fk);
	assert_string_equal(fk.fk_log, "accept\nPING\nPING\naccept\nPING\n");
}

static void
test_fake_timeout(void **state)
{
	struct fake fk;
	struct cu_cache c;
	const char *argv[] = {"HANG"};
	long long t0;

	(void)state;
	fake_start(&fk, FAKE_NORMAL, NULL);
	cu_cache_init(&c, "127.0.0.1", fk.fk_port, 0, NULL);
	t0 = mono_ms();
	/* A hung server costs one command timeout, not two: a timeout is not retried. */
	assert_int_equal(cu_cache_cmd(&c, NULL, NULL, 1, argv, NULL), CU_ERR_UNAVAILABLE);
	assert_true(mono_ms() - t0 < 2 * CU_CACHE_TIMEOUT_MS - 100);
	assert_true(mono_ms() - t0 >= CU_CACHE_TIMEOUT_MS - 100);
	assert_null(c.ca_ctx);
	cu_cache_close(&c);
	fake_stop(&fk);
	assert_int_equal(count(fk.fk_log, "accept"), 1);
}

/* The two halves of a command, as the readiness probe overlaps them with PostgreSQL. */
static void
test_fake_send_recv(void **state)
{
	struct fake fk;
	struct cu_cache c;
	struct cu_arena a;
	struct redisReply *r = NULL;
	const char *ping[] = {"PING"};
	const char *bad[] = {"NOPE"};

	(void)state;
	cu_arena_init(&a);
	cu_cache_init(&c, "127.0.0.1", 1, 0, NULL);
	/* Nothing sent on a connection that never opened: no reply to wait for. */
	assert_int_equal(cu_cache_recv(&c, &a, &r), CU_ERR_UNAVAILABLE);
	assert_null(r);
	cu_cache_close(&c);

	fake_start(&fk, FAKE_NORMAL, NULL);
	cu_cache_init(&c, "127.0.0.1", fk.fk_port, 0, NULL);
	assert_int_equal(cu_cache_send(&c, 1, ping, NULL), CU_OK);
	assert_int_equal(cu_cache_recv(&c, &a, &r), CU_OK);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_STATUS);
	assert_string_equal(r->str, "PONG");
	/* An error reply is CU_ERR_INTERNAL and the connection stays usable. */
	assert_int_equal(cu_cache_send(&c, 1, bad, NULL), CU_OK);
	assert_int_equal(cu_cache_recv(&c, &a, NULL), CU_ERR_INTERNAL);
	assert_int_equal(cu_cache_send(&c, 1, ping, NULL), CU_OK);
	assert_int_equal(cu_cache_recv(&c, NULL, NULL), CU_OK);
	assert_int_equal(cu_cache_send(&c, 0, ping, NULL), CU_ERR_INTERNAL);
	cu_arena_free(&a);
	cu_cache_close(&c);
	fake_stop(&fk);
	assert_string_equal(fk.fk_log, "accept\nPING\nNOPE\nPING\n");
}

static void
test_no_sigpipe(void **state)
{
	struct fake fk;
	struct cu_cache c;
	struct sigaction sa, old;
	char path[64];

	(void)state;
	/* Writing to a unix socket whose peer has gone raises SIGPIPE at once; at its default
	 * action it would end this process. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, &old);
	snprintf(path, sizeof(path), "/tmp/custos-test-cache-%ld.sock", (long)getpid());
	fake_start(&fk, FAKE_HANGUP_AFTER_PING, path);
	cu_cache_init(&c, path, 0, 0, NULL);
	assert_int_equal(cu_cache_ping(&c), CU_OK);
	sleep_ms(50);
	log_read();
	assert_int_equal(cu_cache_ping(&c), CU_OK);
	assert_non_null(strstr(log_read(), "\"retrying\":true"));
	cu_cache_close(&c);
	fake_stop(&fk);
	unlink(path);
	sigaction(SIGPIPE, &old, NULL);
	assert_string_equal(fk.fk_log, "accept\nPING\naccept\nPING\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_unreachable_tcp, fake_reap),
	    cmocka_unit_test_teardown(test_unreachable_unix, fake_reap),
	    cmocka_unit_test_teardown(test_reconnect_rate_limit, fake_reap),
	    cmocka_unit_test_teardown(test_close_idempotent, fake_reap),
	    cmocka_unit_test_teardown(test_fake_commands, fake_reap),
	    cmocka_unit_test_teardown(test_fake_auth_failure, fake_reap),
	    cmocka_unit_test_teardown(test_fake_retry_after_drop, fake_reap),
	    cmocka_unit_test_teardown(test_fake_timeout, fake_reap),
	    cmocka_unit_test_teardown(test_fake_send_recv, fake_reap),
	    cmocka_unit_test_teardown(test_no_sigpipe, fake_reap),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
