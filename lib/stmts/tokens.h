/* Statements of the tokens module: X(NAME, nparams, "SQL") entries, one per line. */
#define CU_DB_STMTS_TOKENS(X)
