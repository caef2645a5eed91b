/* Statements of the prompt, user_write, invitation and email stages: X(NAME, nparams, "SQL") entries. */
#ifndef CU_STMTS_STAGES_DATA_H
#define CU_STMTS_STAGES_DATA_H

#define CU_DB_STMTS_STAGES_DATA(X)

#endif
