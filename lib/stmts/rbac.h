/* Statements of the rbac module: X(NAME, nparams, "SQL") entries, one per line. */
#define CU_DB_STMTS_RBAC(X)
