/* Statements of the policies module. */
#define CU_DB_STMTS_POLICIES(X)
