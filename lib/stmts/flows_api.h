/* Statements of lib/api/flows.c, lib/api/stages.c and lib/api/sessions.c: X(NAME, nparams, "SQL") entries. */
#ifndef CU_STMTS_FLOWS_API_H
#define CU_STMTS_FLOWS_API_H

#define CU_DB_STMTS_FLOWS_API(X)

#endif
