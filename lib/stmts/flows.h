/* Statements of lib/flows.c, lib/sessions.c and the stages user_login, user_logout, deny, dummy, redirect: X(NAME, nparams, "SQL") entries. */
#ifndef CU_STMTS_FLOWS_H
#define CU_STMTS_FLOWS_H

#define CU_DB_STMTS_FLOWS(X)

#endif
