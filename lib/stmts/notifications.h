/* Statements of the notifications module. */
#define CU_DB_STMTS_NOTIFICATIONS(X)
