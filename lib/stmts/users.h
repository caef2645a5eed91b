/* Statements of the users module: X(NAME, nparams, "SQL") entries, one per line. */
#define CU_DB_STMTS_USERS(X)
