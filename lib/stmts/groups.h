/* Statements of the groups module: X(NAME, nparams, "SQL") entries, one per line. */
#define CU_DB_STMTS_GROUPS(X)
