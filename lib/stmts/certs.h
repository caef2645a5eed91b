/* Statements of the certs module: X(NAME, nparams, "SQL") entries, one per line. */
#define CU_DB_STMTS_CERTS(X)
