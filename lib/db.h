/*
 * PostgreSQL through libpq: one persistent connection per process, statements declared once
 * in db_stmt.h and prepared once per connection, parameters only (STYLE rule 12).
 *
 * A lost connection is noticed by the call that meets it, which answers CU_ERR_UNAVAILABLE;
 * the next call reconnects (at most one attempt per CU_DB_RETRY_MS), so a responder recovers
 * by itself when PostgreSQL comes back.
 */
#ifndef CU_DB_H
#define CU_DB_H

#include <libpq-fe.h>

#include "arena.h"
#include "db_stmt.h"
#include "err.h"

#define CU_DB_RETRY_MS 200

struct cu_db {
	PGconn *db_conn;
	char *db_conninfo;                          /* owned */
	unsigned char db_prepared[CU_DB_STMT__MAX]; /* 1 once prepared on db_conn */
	long long db_last_try_ms;                   /* last connect attempt, monotonic ms */
	int db_in_tx;
};

/* Copies conninfo; connects lazily. */
void cu_db_init(struct cu_db *db, const char *conninfo);
void cu_db_close(struct cu_db *db);

/* Connected and healthy, or CU_ERR_UNAVAILABLE after one (rate-limited) reconnect attempt. */
enum cu_err cu_db_ensure(struct cu_db *db) __attribute__((warn_unused_result));

/*
 * Runs statement st with n text parameters (NULL entries are SQL NULL). On CU_OK *out (may be
 * NULL when the caller wants no rows) holds the result, arena-owned. Errors: CU_ERR_UNAVAILABLE
 * when the server is unreachable, CU_ERR_INVALID for a constraint or data error (SQLSTATE class
 * 22 or 23: *out then holds the failed result, so PQresultErrorField(*out, PG_DIAG_SQLSTATE)
 * tells a duplicate from a broken reference), CU_ERR_INTERNAL otherwise (*out NULL). Each error
 * is logged once, without parameter values.
 */
enum cu_err cu_db_exec(struct cu_db *db, struct cu_arena *a, PGresult **out, enum cu_db_stmt st,
                       int n, const char *const *params) __attribute__((warn_unused_result));

/*
 * The same for a statement put together at run time from constant fragments of the code (a
 * list's ORDER BY and filters chosen from whitelists). Outside input never goes into sql, only
 * into params; prefer cu_db_exec wherever the text is fixed.
 */
enum cu_err cu_db_query(struct cu_db *db, struct cu_arena *a, PGresult **out, const char *sql,
                        int n, const char *const *params) __attribute__((warn_unused_result));

/* A trusted script (a migration file): simple query protocol, several statements allowed.
 * On failure a description is written into err. */
enum cu_err cu_db_exec_script(struct cu_db *db, const char *sql, char *err, size_t errlen)
    __attribute__((warn_unused_result));

enum cu_err cu_db_begin(struct cu_db *db) __attribute__((warn_unused_result));
enum cu_err cu_db_commit(struct cu_db *db) __attribute__((warn_unused_result));
/* Safe to call when no transaction is open. */
void cu_db_rollback(struct cu_db *db);

/* 1 when res (as cu_db_exec hands back with CU_ERR_INVALID) is a unique violation, 23505. */
int cu_db_is_unique_violation(const PGresult *res);

/* Value of row r, column c: NULL for SQL NULL. Borrowed from res. */
const char *cu_db_value(const PGresult *res, int r, int c);

#endif
