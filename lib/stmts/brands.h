/* Statements of the brands module: X(NAME, nparams, "SQL") entries, one per line. */
#define CU_DB_STMTS_BRANDS(X)
