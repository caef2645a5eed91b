#include "db.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "mem.h"

static const struct {
	const char *sd_name; /* server-side prepared statement name */
	int sd_nparams;
	const char *sd_sql;
} db_stmts[CU_DB_STMT__MAX] = {
#define DB_STMT_ROW(name, nparams, sql) [CU_DB_STMT_##name] = {"cu_" #name, nparams, sql},
    CU_DB_STMTS(DB_STMT_ROW)
#undef DB_STMT_ROW
};

static long long
db_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libpq's messages end in a newline and may hold several lines; a log field wants one. */
static const char *
db_trim(char *out, size_t outlen, const char *msg)
{
	size_t n;

	snprintf(out, outlen, "%s", msg != NULL ? msg : "");
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
		out[--n] = '\0';
	return out;
}

static void
db_clear(void *res)
{
	PQclear(res);
}

/* Left alone, libpq prints NOTICEs as plain text on stderr, which is the JSON log stream. */
static void
db_notice(void *arg, const char *message)
{
	char msg[512];

	(void)arg;
	cu_log(CU_LOG_DEBUG, "db_notice", CU_LS("msg", db_trim(msg, sizeof(msg), message)));
}

static void
db_drop(struct cu_db *db)
{
	if (db->db_conn != NULL)
		PQfinish(db->db_conn);
	db->db_conn = NULL;
	memset(db->db_prepared, 0, sizeof(db->db_prepared));
	db->db_in_tx = 0;
}

void
cu_db_init(struct cu_db *db, const char *conninfo)
{
	memset(db, 0, sizeof(*db));
	db->db_conninfo = cu_strdup(conninfo != NULL ? conninfo : "");
	db->db_last_try_ms = db_now_ms() - CU_DB_RETRY_MS;
}

void
cu_db_close(struct cu_db *db)
{
	db_drop(db);
	if (db->db_conninfo != NULL) {
		/* It holds the password. */
		cu_wipe(db->db_conninfo, strlen(db->db_conninfo));
		cu_free(db->db_conninfo);
		db->db_conninfo = NULL;
	}
}

/* One connection attempt; force skips the rate limit for the single retry after a drop. */
static enum cu_err
db_connect(struct cu_db *db, int force)
{
	/* client_encoding rides in the startup packet, so no round trip is added to set it. */
	const char *const keys[] = {"dbname", "client_encoding", NULL};
	const char *values[] = {db->db_conninfo, "UTF8", NULL};
	char msg[512];
	long long now = db_now_ms();

	if (db->db_conninfo == NULL) {
		cu_log_msg(CU_LOG_ERROR, "db_closed", "query on a closed database handle");
		return CU_ERR_INTERNAL;
	}
	if (!force && now - db->db_last_try_ms < CU_DB_RETRY_MS)
		return CU_ERR_UNAVAILABLE;
	db->db_last_try_ms = now;
	db->db_conn = PQconnectdbParams(keys, values, 1);
	if (db->db_conn == NULL)
		cu_die("out of memory");
	if (PQstatus(db->db_conn) != CONNECTION_OK) {
		cu_log(CU_LOG_ERROR, "db_connect_failed",
		       CU_LS("error", db_trim(msg, sizeof(msg), PQerrorMessage(db->db_conn))));
		db_drop(db);
		return CU_ERR_UNAVAILABLE;
	}
	PQsetNoticeProcessor(db->db_conn, db_notice, NULL);
	return CU_OK;
}

enum cu_err
cu_db_ensure(struct cu_db *db)
{
	if (db->db_conn != NULL) {
		if (PQstatus(db->db_conn) == CONNECTION_OK)
			return CU_OK;
		db_drop(db);
	}
	return db_connect(db, 0);
}

static int
db_conn_lost(const struct cu_db *db)
{
	return db->db_conn == NULL || PQstatus(db->db_conn) != CONNECTION_OK;
}

/*
 * Classifies a failed result and logs it once. The connection-lost case is left to the caller,
 * which alone knows whether a retry follows. Messages of class 22 and 23 quote the offending
 * value ("invalid input syntax for type uuid: ..."), so only names are logged for those.
 */
static enum cu_err
db_failed(struct cu_db *db, const PGresult *res, const char *what)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary;
	char msg[512];

	if (db_conn_lost(db))
		return CU_ERR_UNAVAILABLE;
	if (state != NULL && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)) {
		cu_log(CU_LOG_WARNING, "db_rejected", CU_LS("stmt", what), CU_LS("sqlstate", state),
		       CU_LS("constraint", PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME)),
		       CU_LS("table", PQresultErrorField(res, PG_DIAG_TABLE_NAME)),
		       CU_LS("column", PQresultErrorField(res, PG_DIAG_COLUMN_NAME)));
		return CU_ERR_INVALID;
	}
	primary = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (primary == NULL)
		primary = res != NULL && PQresultStatus(res) != PGRES_FATAL_ERROR
		              ? PQresStatus(PQresultStatus(res))
		              : PQerrorMessage(db->db_conn);
	cu_log(CU_LOG_ERROR, "db_error", CU_LS("stmt", what), CU_LS("sqlstate", state),
	       CU_LS("error", db_trim(msg, sizeof(msg), primary)));
	return CU_ERR_INTERNAL;
}

static void
db_log_lost(struct cu_db *db, const char *what, int retrying)
{
	char msg[512];

	cu_log(retrying ? CU_LOG_WARNING : CU_LOG_ERROR, "db_connection_lost", CU_LS("stmt", what),
	       CU_LS("error", db_trim(msg, sizeof(msg), PQerrorMessage(db->db_conn))),
	       CU_LB("retrying", retrying));
}

/* Prepares st on this connection if it is not yet, then runs it; *resp is the caller's. */
static enum cu_err
db_run(struct cu_db *db, enum cu_db_stmt st, int n, const char *const *params, PGresult **resp)
{
	const char *name = db_stmts[st].sd_name;
	PGresult *res;
	ExecStatusType s;

	*resp = NULL;
	if (!db->db_prepared[st]) {
		res = PQprepare(db->db_conn, name, db_stmts[st].sd_sql, n, NULL);
		if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
			*resp = res;
			return db_failed(db, res, name);
		}
		PQclear(res);
		db->db_prepared[st] = 1;
	}
	res = PQexecPrepared(db->db_conn, name, n, params, NULL, NULL, 0);
	*resp = res;
	s = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return CU_OK;
	return db_failed(db, res, name);
}

/*
 * Runs fn on a healthy connection. When the connection turns out to have dropped (PostgreSQL
 * restarted or failed over) and it predates this call and no transaction was open on it, the
 * call reconnects at once and runs fn again: the first request after PostgreSQL comes back
 * succeeds instead of failing. Inside a transaction the work so far is lost, so the caller
 * gets CU_ERR_UNAVAILABLE.
 */
static enum cu_err
db_with_retry(struct cu_db *db, const char *what,
              enum cu_err (*fn)(struct cu_db *db, const void *arg, PGresult **resp),
              const void *arg, PGresult **resp)
{
	enum cu_err rc;
	int attempt, fresh, in_tx;

	for (attempt = 0;; attempt++) {
		fresh = db->db_conn == NULL || PQstatus(db->db_conn) != CONNECTION_OK;
		rc = attempt == 0 ? cu_db_ensure(db) : db_connect(db, 1);
		if (rc != CU_OK)
			return rc;
		rc = fn(db, arg, resp);
		if (rc != CU_ERR_UNAVAILABLE)
			return rc;
		in_tx = db->db_in_tx;
		db_log_lost(db, what, attempt == 0 && !fresh && !in_tx);
		PQclear(*resp);
		*resp = NULL;
		db_drop(db);
		if (attempt > 0 || fresh || in_tx)
			return CU_ERR_UNAVAILABLE;
	}
}

struct db_exec_args {
	enum cu_db_stmt ea_st;
	int ea_n;
	const char *const *ea_params;
};

static enum cu_err
db_exec_fn(struct cu_db *db, const void *arg, PGresult **resp)
{
	const struct db_exec_args *ea = arg;

	return db_run(db, ea->ea_st, ea->ea_n, ea->ea_params, resp);
}

enum cu_err
cu_db_exec(struct cu_db *db, struct cu_arena *a, PGresult **out, enum cu_db_stmt st, int n,
           const char *const *params)
{
	struct db_exec_args ea = {.ea_st = st, .ea_n = n, .ea_params = params};
	PGresult *res = NULL;
	enum cu_err rc;

	if (out != NULL)
		*out = NULL;
	if ((unsigned)st >= CU_DB_STMT__MAX || n != db_stmts[st].sd_nparams ||
	    (n > 0 && params == NULL) || (out != NULL && a == NULL)) {
		cu_log(CU_LOG_ERROR, "db_misuse", CU_LI("stmt", (long long)st),
		       CU_LI("nparams", n));
		return CU_ERR_INTERNAL;
	}
	rc = db_with_retry(db, db_stmts[st].sd_name, db_exec_fn, &ea, &res);
	/* A rejected write's result goes to the caller too: its SQLSTATE and constraint name tell
	 * a duplicate (23505) from a dangling reference (23503). */
	if (res != NULL && out != NULL && (rc == CU_OK || rc == CU_ERR_INVALID)) {
		cu_arena_defer(a, db_clear, res);
		*out = res;
	} else {
		PQclear(res);
	}
	return rc;
}

struct db_query_args {
	const char *qa_sql;
	int qa_n;
	const char *const *qa_params;
};

static enum cu_err
db_query_fn(struct cu_db *db, const void *arg, PGresult **resp)
{
	const struct db_query_args *qa = arg;
	ExecStatusType s;

	*resp = PQexecParams(db->db_conn, qa->qa_sql, qa->qa_n, NULL, qa->qa_params, NULL, NULL, 0);
	s = *resp != NULL ? PQresultStatus(*resp) : PGRES_FATAL_ERROR;
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return CU_OK;
	return db_failed(db, *resp, "query");
}

enum cu_err
cu_db_query(struct cu_db *db, struct cu_arena *a, PGresult **out, const char *sql, int n,
            const char *const *params)
{
	struct db_query_args qa = {.qa_sql = sql, .qa_n = n, .qa_params = params};
	PGresult *res = NULL;
	enum cu_err rc;

	if (out != NULL)
		*out = NULL;
	if (sql == NULL || n < 0 || (n > 0 && params == NULL) || (out != NULL && a == NULL)) {
		cu_log(CU_LOG_ERROR, "db_misuse", CU_LI("nparams", n));
		return CU_ERR_INTERNAL;
	}
	rc = db_with_retry(db, "query", db_query_fn, &qa, &res);
	if (res != NULL && out != NULL && (rc == CU_OK || rc == CU_ERR_INVALID)) {
		cu_arena_defer(a, db_clear, res);
		*out = res;
	} else {
		PQclear(res);
	}
	return rc;
}

enum cu_err
cu_db_exec_script(struct cu_db *db, const char *sql, char *err, size_t errlen)
{
	PGresult *res = NULL;
	PGTransactionStatusType ts;
	ExecStatusType s;
	enum cu_err rc;
	char msg[512];

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	/* No retry here: a script may commit part of its work itself, so replaying it after a
	 * dropped connection is the migration runner's decision, not ours. */
	rc = cu_db_ensure(db);
	if (rc != CU_OK) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "database unavailable");
		return rc;
	}
	res = PQexec(db->db_conn, sql);
	s = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
		rc = CU_OK;
	} else if (db_conn_lost(db)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s",
			         db_trim(msg, sizeof(msg), PQerrorMessage(db->db_conn)));
		db_log_lost(db, "script", 0);
		rc = CU_ERR_UNAVAILABLE;
	} else {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s",
			         db_trim(msg, sizeof(msg),
			                 res != NULL ? PQresultErrorMessage(res)
			                             : PQerrorMessage(db->db_conn)));
		rc = db_failed(db, res, "script");
	}
	PQclear(res);
	if (rc == CU_ERR_UNAVAILABLE) {
		db_drop(db);
		return rc;
	}
	/* A script may BEGIN without COMMIT; rollback must then know there is work to undo. */
	ts = PQtransactionStatus(db->db_conn);
	db->db_in_tx = ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR;
	return rc;
}

static enum cu_err
db_simple_fn(struct cu_db *db, const void *arg, PGresult **resp)
{
	const char *sql = arg;
	ExecStatusType s;

	*resp = PQexec(db->db_conn, sql);
	s = *resp != NULL ? PQresultStatus(*resp) : PGRES_FATAL_ERROR;
	if (s == PGRES_COMMAND_OK)
		return CU_OK;
	return db_failed(db, *resp, sql);
}

enum cu_err
cu_db_begin(struct cu_db *db)
{
	PGresult *res = NULL;
	enum cu_err rc;

	if (db->db_in_tx) {
		cu_log_msg(CU_LOG_ERROR, "db_misuse", "BEGIN inside a transaction");
		return CU_ERR_INTERNAL;
	}
	/* BEGIN changes nothing, so it is always safe to retry on a fresh connection. */
	rc = db_with_retry(db, "BEGIN", db_simple_fn, "BEGIN", &res);
	PQclear(res);
	if (rc == CU_OK)
		db->db_in_tx = 1;
	return rc;
}

enum cu_err
cu_db_commit(struct cu_db *db)
{
	PGresult *res = NULL;
	enum cu_err rc;

	if (db->db_conn == NULL) {
		/* The connection, and with it the transaction, was lost earlier in this request. */
		db->db_in_tx = 0;
		return CU_ERR_UNAVAILABLE;
	}
	if (!db->db_in_tx) {
		cu_log_msg(CU_LOG_ERROR, "db_misuse", "COMMIT without BEGIN");
		return CU_ERR_INTERNAL;
	}
	rc = db_simple_fn(db, "COMMIT", &res);
	db->db_in_tx = 0;
	if (rc == CU_OK && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		/* COMMIT of a transaction that already failed answers ROLLBACK, not an error. */
		cu_log_msg(CU_LOG_ERROR, "db_commit_rolled_back", PQcmdStatus(res));
		rc = CU_ERR_INTERNAL;
	} else if (rc == CU_ERR_UNAVAILABLE) {
		db_log_lost(db, "COMMIT", 0);
	}
	PQclear(res);
	if (rc == CU_ERR_UNAVAILABLE)
		db_drop(db);
	return rc;
}

void
cu_db_rollback(struct cu_db *db)
{
	PGresult *res;

	if (db->db_conn == NULL) {
		db->db_in_tx = 0;
		return;
	}
	if (!db->db_in_tx && PQtransactionStatus(db->db_conn) == PQTRANS_IDLE)
		return;
	res = PQexec(db->db_conn, "ROLLBACK");
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		if (db_conn_lost(db))
			db_drop(db);
		else
			(void)db_failed(db, res, "ROLLBACK");
	}
	PQclear(res);
	db->db_in_tx = 0;
}

const char *
cu_db_value(const PGresult *res, int r, int c)
{
	if (res == NULL || r < 0 || c < 0 || r >= PQntuples(res) || c >= PQnfields(res) ||
	    PQgetisnull(res, r, c))
		return NULL;
	return PQgetvalue(res, r, c);
}

int
cu_db_is_unique_violation(const PGresult *res)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return state != NULL && strcmp(state, "23505") == 0;
}
