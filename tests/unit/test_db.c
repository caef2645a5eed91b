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
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "db.h"
#include "log.h"

/*
 * No PostgreSQL runs during unit tests. Besides unreachable addresses, a fake server speaking
 * just enough of the v3 protocol (startup, Parse/Bind/Describe/Execute/Sync, simple Query) lets
 * the reconnect, re-prepare and error paths run for real through libpq.
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
	int fk_events; /* read end: one line per thing the server saw */
	char fk_log[4096];
};

struct fake_conn {
	int fc_fd;
	int fc_events;
	const char *const *fc_plan; /* one action per Bind: "ok", "drop" or "err:SQLSTATE" */
	size_t *fc_nbind;
	char fc_tx; /* 'I', 'T' or 'E', as ReadyForQuery reports it */
};

static int
read_full(int fd, void *p, size_t n)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = read(fd, c, n);

		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static void
put32(char *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static uint32_t
get32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

/* Sends message type t with body b of n bytes. */
static void
send_msg(struct fake_conn *fc, char t, const void *b, size_t n)
{
	char hdr[5];

	hdr[0] = t;
	put32(hdr + 1, (uint32_t)(n + 4));
	if (write(fc->fc_fd, hdr, 5) != 5 || (n > 0 && write(fc->fc_fd, b, n) != (ssize_t)n))
		_exit(3);
}

static void
event(struct fake_conn *fc, const char *what, const char *arg)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "%s%s%s\n", what, arg[0] != '\0' ? " " : "", arg);

	if (n > 0 && write(fc->fc_events, line, (size_t)n) != n)
		_exit(4);
}

static void
send_param(struct fake_conn *fc, const char *k, const char *v)
{
	char b[128];
	size_t kl = strlen(k) + 1, vl = strlen(v) + 1;

	memcpy(b, k, kl);
	memcpy(b + kl, v, vl);
	send_msg(fc, 'S', b, kl + vl);
}

static void
send_error(struct fake_conn *fc, const char *state, const char *msg)
{
	char b[512];
	int n = snprintf(b, sizeof(b), "SERROR%cVERROR%cC%s%cM%s%cnsome_constraint%c", 0, 0, state,
	                 0, msg, 0, 0);

	b[n] = '\0';
	send_msg(fc, 'E', b, (size_t)n + 1);
	if (fc->fc_tx == 'T')
		fc->fc_tx = 'E';
}

static void
send_ready(struct fake_conn *fc)
{
	send_msg(fc, 'Z', &fc->fc_tx, 1);
}

static void
send_complete(struct fake_conn *fc, const char *tag)
{
	send_msg(fc, 'C', tag, strlen(tag) + 1);
}

/* One client connection; returns when it ends (or when the plan says to drop it). */
static void
fake_serve(struct fake_conn *fc)
{
	char body[65536], zero[4] = {0, 0, 0, 0};
	char key[8];
	int skipping = 0;

	/* Startup, after refusing SSL and GSS encryption requests. */
	for (;;) {
		char len[4];
		uint32_t n;

		if (read_full(fc->fc_fd, len, 4) != 0)
			return;
		n = get32(len);
		if (n < 8 || n > sizeof(body) || read_full(fc->fc_fd, body, n - 4) != 0)
			return;
		if (get32(body) == 80877103 || get32(body) == 80877104) {
			if (write(fc->fc_fd, "N", 1) != 1)
				return;
			continue;
		}
		break;
	}
	send_msg(fc, 'R', zero, 4);
	send_param(fc, "server_version", "15.0");
	send_param(fc, "client_encoding", "UTF8");
	send_param(fc, "standard_conforming_strings", "on");
	put32(key, 42);
	put32(key + 4, 4242);
	send_msg(fc, 'K', key, 8);
	fc->fc_tx = 'I';
	send_ready(fc);

	for (;;) {
		char hdr[5];
		uint32_t n;
		const char *action;

		if (read_full(fc->fc_fd, hdr, 5) != 0)
			return;
		n = get32(hdr + 1);
		if (n < 4 || n - 4 >= sizeof(body) || read_full(fc->fc_fd, body, n - 4) != 0)
			return;
		body[n - 4] = '\0';
		if (hdr[0] == 'X')
			return;
		if (skipping && hdr[0] != 'S')
			continue;
		switch (hdr[0]) {
		case 'P':
			event(fc, "parse", body);
			send_msg(fc, '1', NULL, 0);
			break;
		case 'B':
			action = fc->fc_plan[*fc->fc_nbind] != NULL ? fc->fc_plan[(*fc->fc_nbind)++]
			                                            : "ok";
			event(fc, "bind", action);
			if (strcmp(action, "drop") == 0)
				return;
			if (strncmp(action, "err:", 4) == 0) {
				send_error(fc, action + 4, "bad value SECRETVALUE");
				skipping = 1;
			} else {
				send_msg(fc, '2', NULL, 0);
			}
			break;
		case 'D': {
			/* One int4 column named x. */
			char rd[2 + 2 + 18];

			rd[0] = 0;
			rd[1] = 1;
			memcpy(rd + 2, "x", 2);
			memset(rd + 4, 0, 18);
			put32(rd + 10, 23);
			rd[14] = 0;
			rd[15] = 4;
			put32(rd + 16, 0xffffffffu);
			send_msg(fc, 'T', rd, sizeof(rd));
			break;
		}
		case 'E': {
			char dr[2 + 4 + 1] = {0, 1};

			put32(dr + 2, 1);
			dr[6] = '1';
			send_msg(fc, 'D', dr, sizeof(dr));
			send_complete(fc, "SELECT 1");
			break;
		}
		case 'S':
			skipping = 0;
			send_ready(fc);
			break;
		case 'Q':
			event(fc, "query", body);
			if (strcmp(body, "BEGIN") == 0) {
				send_complete(fc, "BEGIN");
				fc->fc_tx = 'T';
			} else if (strcmp(body, "COMMIT") == 0) {
				send_complete(fc, fc->fc_tx == 'E' ? "ROLLBACK" : "COMMIT");
				fc->fc_tx = 'I';
			} else if (strcmp(body, "ROLLBACK") == 0) {
				send_complete(fc, "ROLLBACK");
				fc->fc_tx = 'I';
			} else if (strncmp(body, "FAIL", 4) == 0) {
				send_error(fc, "42601", "syntax error at or near \"FAIL\"");
			} else if (strcmp(body, "DROP") == 0) {
				return;
			} else {
				send_complete(fc, "CREATE TABLE");
			}
			send_ready(fc);
			break;
		default:
			break;
		}
	}
}

static void
fake_start(struct fake *fk, const char *const *plan)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	socklen_t salen = sizeof(sa);
	int lfd, ev[2];

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);
	fk->fk_port = ntohs(sa.sin_port);
	assert_int_equal(pipe(ev), 0);
	fk->fk_pid = fork();
	assert_true(fk->fk_pid >= 0);
	if (fk->fk_pid == 0) {
		/* Outlives no test process for long, whatever happens to it. */
		struct timeval idle = {10, 0};
		size_t nbind = 0;

		setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle));
		signal(SIGPIPE, SIG_IGN);
		close(ev[0]);
		for (;;) {
			struct fake_conn fc = {
			    .fc_events = ev[1], .fc_plan = plan, .fc_nbind = &nbind};

			fc.fc_fd = accept(lfd, NULL, NULL);
			if (fc.fc_fd < 0)
				_exit(0);
			/* Replies go out in small writes; Nagle would hold each for a delayed ACK.
			 */
			setsockopt(fc.fc_fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
			event(&fc, "accept", "");
			fake_serve(&fc);
			close(fc.fc_fd);
		}
	}
	fake_pid = fk->fk_pid;
	close(lfd);
	close(ev[1]);
	fk->fk_events = ev[0];
	fk->fk_log[0] = '\0';
}

/* Stops the server and collects what it saw into fk_log. */
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

static void
fake_db(struct fake *fk, struct cu_db *db)
{
	char ci[256];

	snprintf(ci, sizeof(ci),
	         "host=127.0.0.1 port=%d dbname=t user=t password=hunter2 sslmode=disable "
	         "gssencmode=disable connect_timeout=2",
	         fk->fk_port);
	cu_db_init(db, ci);
}

/* ---- tests without any server ---- */

static void
test_unreachable_tcp(void **state)
{
	struct cu_db db;
	struct cu_arena a;
	PGresult *res = (PGresult *)&db;
	long long t0;

	(void)state;
	cu_arena_init(&a);
	cu_db_init(&db, "host=127.0.0.1 port=1 dbname=x user=x password=hunter2 connect_timeout=2 "
	                "sslmode=disable");
	t0 = mono_ms();
	assert_int_equal(cu_db_exec(&db, &a, &res, CU_DB_STMT_PING, 0, NULL), CU_ERR_UNAVAILABLE);
	assert_true(mono_ms() - t0 < 1500);
	assert_null(res);
	assert_null(db.db_conn);
	log_read();
	assert_int_equal(count(log_buf, "\"event\":\"db_connect_failed\""), 1);
	/* libpq names the host, never the password. */
	assert_null(strstr(log_buf, "hunter2"));
	cu_db_close(&db);
	cu_arena_free(&a);
}

static void
test_unreachable_unix(void **state)
{
	struct cu_db db;
	char err[256];

	(void)state;
	cu_db_init(&db, "host=/nonexistent/custos/socketdir port=5432 dbname=x user=x");
	assert_int_equal(cu_db_ensure(&db), CU_ERR_UNAVAILABLE);
	sleep_ms(CU_DB_RETRY_MS + 50);
	assert_int_equal(cu_db_exec_script(&db, "SELECT 1", err, sizeof(err)), CU_ERR_UNAVAILABLE);
	assert_true(err[0] != '\0');
	sleep_ms(CU_DB_RETRY_MS + 50);
	assert_int_equal(cu_db_begin(&db), CU_ERR_UNAVAILABLE);
	assert_int_equal(db.db_in_tx, 0);
	cu_db_rollback(&db);
	cu_db_close(&db);
}

static void
test_reconnect_rate_limit(void **state)
{
	struct cu_db db;
	long long first;

	(void)state;
	cu_db_init(&db, "host=127.0.0.1 port=1 dbname=x user=x connect_timeout=2 sslmode=disable");
	log_read();
	assert_int_equal(cu_db_exec(&db, NULL, NULL, CU_DB_STMT_PING, 0, NULL), CU_ERR_UNAVAILABLE);
	first = db.db_last_try_ms;
	/* Within CU_DB_RETRY_MS no new attempt is made. */
	assert_int_equal(cu_db_exec(&db, NULL, NULL, CU_DB_STMT_PING, 0, NULL), CU_ERR_UNAVAILABLE);
	assert_int_equal(cu_db_ensure(&db), CU_ERR_UNAVAILABLE);
	assert_true(db.db_last_try_ms == first);
	assert_int_equal(count(log_read(), "db_connect_failed"), 1);
	sleep_ms(CU_DB_RETRY_MS + 50);
	assert_int_equal(cu_db_ensure(&db), CU_ERR_UNAVAILABLE);
	assert_true(db.db_last_try_ms >= first + CU_DB_RETRY_MS);
	assert_int_equal(count(log_read(), "db_connect_failed"), 1);
	cu_db_close(&db);
}

static void
test_misuse(void **state)
{
	struct cu_db db;
	const char *p[] = {"x"};
	PGresult *res = NULL;

	(void)state;
	cu_db_init(&db, "host=127.0.0.1 port=1 sslmode=disable");
	/* Checked before any connection attempt. */
	assert_int_equal(cu_db_exec(&db, NULL, NULL, CU_DB_STMT_PING, 1, p), CU_ERR_INTERNAL);
	assert_int_equal(cu_db_exec(&db, NULL, NULL, CU_DB_STMT__MAX, 0, NULL), CU_ERR_INTERNAL);
	assert_int_equal(cu_db_exec(&db, NULL, &res, CU_DB_STMT_PING, 0, NULL), CU_ERR_INTERNAL);
	assert_int_equal(cu_db_commit(&db), CU_ERR_UNAVAILABLE);
	cu_db_close(&db);
}

static void
test_close_idempotent(void **state)
{
	struct cu_db db;

	(void)state;
	memset(&db, 0, sizeof(db));
	cu_db_close(&db);
	cu_db_init(&db, NULL);
	cu_db_close(&db);
	cu_db_close(&db);
	assert_null(db.db_conninfo);
	assert_null(db.db_conn);
	/* A closed handle refuses work instead of crashing. */
	assert_int_equal(cu_db_ensure(&db), CU_ERR_INTERNAL);
	cu_db_rollback(&db);
}

static void
test_value(void **state)
{
	PGresAttDesc cols[2];
	PGresult *res;

	(void)state;
	assert_null(cu_db_value(NULL, 0, 0));
	memset(cols, 0, sizeof(cols));
	cols[0].name = (char *)(uintptr_t) "a";
	cols[0].typid = 25;
	cols[0].typlen = -1;
	cols[1].name = (char *)(uintptr_t) "b";
	cols[1].typid = 25;
	cols[1].typlen = -1;
	res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	assert_non_null(res);
	assert_null(cu_db_value(res, 0, 0));
	assert_int_equal(PQsetResultAttrs(res, 2, cols), 1);
	assert_int_equal(PQsetvalue(res, 0, 0, (char *)(uintptr_t) "abc", 3), 1);
	assert_int_equal(PQsetvalue(res, 0, 1, NULL, -1), 1);
	assert_string_equal(cu_db_value(res, 0, 0), "abc");
	assert_null(cu_db_value(res, 0, 1));
	assert_null(cu_db_value(res, 1, 0));
	assert_null(cu_db_value(res, 0, 2));
	assert_null(cu_db_value(res, -1, 0));
	assert_null(cu_db_value(res, 0, -1));
	PQclear(res);
}

/* ---- tests against the fake server ---- */

static void
test_fake_prepare_once_and_retry_after_drop(void **state)
{
	const char *const plan[] = {"ok", "ok", "drop", "ok", NULL};
	struct fake fk;
	struct cu_db db;
	struct cu_arena a;
	PGresult *res = NULL;

	(void)state;
	cu_arena_init(&a);
	fake_start(&fk, plan);
	fake_db(&fk, &db);
	assert_int_equal(cu_db_exec(&db, &a, &res, CU_DB_STMT_PING, 0, NULL), CU_OK);
	assert_string_equal(cu_db_value(res, 0, 0), "1");
	assert_int_equal(cu_db_exec(&db, &a, NULL, CU_DB_STMT_PING, 0, NULL), CU_OK);
	/* The server goes away under an idle connection: the call reconnects and still answers,
	 * although the last connect attempt was less than CU_DB_RETRY_MS ago. */
	log_read();
	assert_int_equal(cu_db_exec(&db, &a, &res, CU_DB_STMT_PING, 0, NULL), CU_OK);
	assert_string_equal(cu_db_value(res, 0, 0), "1");
	assert_non_null(strstr(log_read(), "\"event\":\"db_connection_lost\""));
	assert_non_null(strstr(log_buf, "\"retrying\":true"));
	cu_db_close(&db);
	cu_arena_free(&a);
	fake_stop(&fk);
	/* Prepared once per connection, under its cu_ name. */
	assert_string_equal(fk.fk_log, "accept\n"
	                               "parse cu_PING\n"
	                               "bind ok\n"
	                               "bind ok\n"
	                               "bind drop\n"
	                               "accept\n"
	                               "parse cu_PING\n"
	                               "bind ok\n");
}

static void
test_fake_no_retry_on_fresh_connection(void **state)
{
	const char *const plan[] = {"drop", NULL};
	struct fake fk;
	struct cu_db db;

	(void)state;
	fake_start(&fk, plan);
	fake_db(&fk, &db);
	assert_int_equal(cu_db_exec(&db, NULL, NULL, CU_DB_STMT_PING, 0, NULL), CU_ERR_UNAVAILABLE);
	assert_null(db.db_conn);
	cu_db_close(&db);
	fake_stop(&fk);
	assert_int_equal(count(fk.fk_log, "accept"), 1);
}

static void
test_fake_no_retry_in_transaction(void **state)
{
	const char *const plan[] = {"ok", "drop", "ok", NULL};
	struct fake fk;
	struct cu_db db;

	(void)state;
	fake_start(&fk, plan);
	fake_db(&fk, &db);
	assert_int_equal(cu_db_begin(&db), CU_OK);
	assert_int_equal(db.db_in_tx, 1);
	assert_int_equal(cu_db_exec(&db, NULL, NULL, CU_DB_STMT_PING, 0, NULL), CU_OK);
	assert_int_equal(cu_db_exec(&db, NULL, NULL, CU_DB_STMT_PING, 0, NULL), CU_ERR_UNAVAILABLE);
	assert_int_equal(db.db_in_tx, 0);
	assert_int_equal(cu_db_commit(&db), CU_ERR_UNAVAILABLE);
	cu_db_rollback(&db);
	/* The next request reconnects once the rate limit allows and prepares again. */
	sleep_ms(CU_DB_RETRY_MS + 50);
	assert_int_equal(cu_db_exec(&db, NULL, NULL, CU_DB_STMT_PING, 0, NULL), CU_OK);
	cu_db_close(&db);
	fake_stop(&fk);
	assert_string_equal(fk.fk_log, "accept\n"
	                               "query BEGIN\n"
	                               "parse cu_PING\n"
	                               "bind ok\n"
	                               "bind drop\n"
	                               "accept\n"
	                               "parse cu_PING\n"
	                               "bind ok\n");
}

static void
test_fake_errors(void **state)
{
	const char *const plan[] = {"err:23505", "err:42P01", "ok", "err:22P02", NULL};
	struct fake fk;
	struct cu_db db;
	struct cu_arena a;
	PGresult *res = NULL;
	const char *logs;

	(void)state;
	cu_arena_init(&a);
	fake_start(&fk, plan);
	fake_db(&fk, &db);
	log_read();
	/* A constraint violation is the client's fault; its result says which. */
	assert_int_equal(cu_db_exec(&db, &a, &res, CU_DB_STMT_PING, 0, NULL), CU_ERR_INVALID);
	assert_non_null(res);
	assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23505");
	assert_int_equal(cu_db_exec(&db, &a, &res, CU_DB_STMT_PING, 0, NULL), CU_ERR_INTERNAL);
	assert_null(res);
	/* The connection survives statement errors. */
	assert_int_equal(cu_db_exec(&db, &a, &res, CU_DB_STMT_PING, 0, NULL), CU_OK);
	assert_int_equal(cu_db_exec(&db, &a, NULL, CU_DB_STMT_PING, 0, NULL), CU_ERR_INVALID);
	logs = log_read();
	assert_int_equal(count(logs, "\"event\":\"db_rejected\""), 2);
	assert_non_null(strstr(logs, "\"constraint\":\"some_constraint\""));
	assert_int_equal(count(logs, "\"event\":\"db_error\""), 1);
	assert_non_null(strstr(logs, "\"sqlstate\":\"42P01\""));
	/* Data and constraint errors quote values: their messages are kept out of the log. */
	assert_int_equal(count(logs, "SECRETVALUE"), 1);
	cu_arena_free(&a);
	cu_db_close(&db);
	fake_stop(&fk);
	assert_int_equal(count(fk.fk_log, "parse"), 1);
}

static void
test_fake_transactions(void **state)
{
	const char *const plan[] = {"err:23503", "ok", NULL};
	struct fake fk;
	struct cu_db db;
	char err[256];

	(void)state;
	fake_start(&fk, plan);
	fake_db(&fk, &db);
	/* Nothing to undo: no ROLLBACK is sent. */
	cu_db_rollback(&db);
	assert_int_equal(cu_db_commit(&db), CU_ERR_UNAVAILABLE);
	assert_int_equal(cu_db_begin(&db), CU_OK);
	assert_int_equal(cu_db_begin(&db), CU_ERR_INTERNAL);
	assert_int_equal(cu_db_exec(&db, NULL, NULL, CU_DB_STMT_PING, 0, NULL), CU_ERR_INVALID);
	/* COMMIT of a failed transaction answers ROLLBACK, which must not pass as success. */
	assert_int_equal(cu_db_commit(&db), CU_ERR_INTERNAL);
	assert_int_equal(db.db_in_tx, 0);
	assert_int_equal(cu_db_commit(&db), CU_ERR_INTERNAL);

	assert_int_equal(cu_db_begin(&db), CU_OK);
	assert_int_equal(cu_db_exec(&db, NULL, NULL, CU_DB_STMT_PING, 0, NULL), CU_OK);
	assert_int_equal(cu_db_commit(&db), CU_OK);

	assert_int_equal(cu_db_begin(&db), CU_OK);
	cu_db_rollback(&db);
	assert_int_equal(db.db_in_tx, 0);
	cu_db_rollback(&db);

	assert_int_equal(
	    cu_db_exec_script(&db, "CREATE TABLE t (); CREATE TABLE u ()", err, sizeof(err)),
	    CU_OK);
	assert_int_equal(cu_db_exec_script(&db, "FAIL", err, sizeof(err)), CU_ERR_INTERNAL);
	assert_non_null(strstr(err, "syntax error"));
	assert_int_equal(cu_db_exec_script(&db, "DROP", err, sizeof(err)), CU_ERR_UNAVAILABLE);
	assert_null(db.db_conn);
	assert_true(err[0] != '\0');
	cu_db_close(&db);
	fake_stop(&fk);
	assert_string_equal(fk.fk_log, "accept\n"
	                               "query BEGIN\n"
	                               "parse cu_PING\n"
	                               "bind err:23503\n"
	                               "query COMMIT\n"
	                               "query BEGIN\n"
	                               "bind ok\n"
	                               "query COMMIT\n"
	                               "query BEGIN\n"
	                               "query ROLLBACK\n"
	                               "query CREATE TABLE t (); CREATE TABLE u ()\n"
	                               "query FAIL\n"
	                               "query DROP\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_unreachable_tcp, fake_reap),
	    cmocka_unit_test_teardown(test_unreachable_unix, fake_reap),
	    cmocka_unit_test_teardown(test_reconnect_rate_limit, fake_reap),
	    cmocka_unit_test_teardown(test_misuse, fake_reap),
	    cmocka_unit_test_teardown(test_close_idempotent, fake_reap),
	    cmocka_unit_test_teardown(test_value, fake_reap),
	    cmocka_unit_test_teardown(test_fake_prepare_once_and_retry_after_drop, fake_reap),
	    cmocka_unit_test_teardown(test_fake_no_retry_on_fresh_connection, fake_reap),
	    cmocka_unit_test_teardown(test_fake_no_retry_in_transaction, fake_reap),
	    cmocka_unit_test_teardown(test_fake_errors, fake_reap),
	    cmocka_unit_test_teardown(test_fake_transactions, fake_reap),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
