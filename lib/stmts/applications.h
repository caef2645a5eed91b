/* Statements of the applications module: X(NAME, nparams, "SQL") entries, one per line. */
#define CU_DB_STMTS_APPLICATIONS(X)
