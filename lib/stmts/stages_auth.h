/* Statements of the identification, password and consent stages: X(NAME, nparams, "SQL") entries. */
#ifndef CU_STMTS_STAGES_AUTH_H
#define CU_STMTS_STAGES_AUTH_H

#define CU_DB_STMTS_STAGES_AUTH(X)

#endif
